//! The CRD YAML committed under `config/crd/bases/` and `charts/kiln/crds/`, and the
//! resource reference in `docs/reference/crds.md`, must be exactly what the Rust types
//! generate.
//!
//! After changing a type, regenerate the files with:
//!
//! ```sh
//! UPDATE_CRDS=1 cargo test -p kiln-crds --test drift
//! ```

use std::fs;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crds/ lives in the repository root")
        .to_path_buf()
}

fn updating() -> bool {
    std::env::var("UPDATE_CRDS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The first line where `a` and `b` differ, 1-based, with both versions.
fn first_difference(a: &str, b: &str) -> String {
    let mut al = a.lines();
    let mut bl = b.lines();
    let mut n = 1;
    loop {
        match (al.next(), bl.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                return format!(
                    "line {n}: committed {:?}, generated {:?}",
                    x.unwrap_or("<end of file>"),
                    y.unwrap_or("<end of file>")
                );
            }
        }
    }
}

#[test]
fn committed_crds_match_the_rust_types() {
    let root = repo_root();
    let expected = kiln_crds::generated_files();
    let mut problems = Vec::new();

    for (rel, content) in &expected {
        let path = root.join(rel);
        let committed = fs::read_to_string(&path).ok();
        if committed.as_deref() == Some(content.as_str()) {
            continue;
        }
        if updating() {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, content).unwrap();
            eprintln!("wrote {rel}");
            continue;
        }
        match committed {
            None => problems.push(format!("{rel}: missing")),
            Some(c) => problems.push(format!(
                "{rel}: differs at {}",
                first_difference(&c, content)
            )),
        }
    }

    // A renamed or removed kind must not leave its old file behind.
    let dirs: std::collections::BTreeSet<_> = expected
        .iter()
        .map(|(rel, _)| Path::new(rel).parent().unwrap().to_path_buf())
        .collect();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = dir.join(&name).to_string_lossy().into_owned();
            let generated = expected.iter().any(|(r, _)| *r == rel);
            if name.starts_with(&format!("{}_", kiln_crds::GROUP)) && !generated {
                if updating() {
                    fs::remove_file(entry.path()).unwrap();
                    eprintln!("removed stale {rel}");
                } else {
                    problems.push(format!("{rel}: stale file, no longer generated"));
                }
            }
        }
    }

    assert!(
        problems.is_empty(),
        "the committed CRD YAML or reference is out of date with the Rust types in crds/:\n  {}\n\n\
         Regenerate it with:\n\n    UPDATE_CRDS=1 cargo test -p kiln-crds --test drift\n\n\
         and commit the result.",
        problems.join("\n  ")
    );
}

#[test]
fn crds_yaml_is_the_concatenation_of_the_kinds() {
    let yaml = kiln_crds::crds_yaml();
    assert!(yaml.starts_with(kiln_crds::GENERATED_HEADER));
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let kinds: Vec<_> = docs
        .iter()
        .map(|d| d["spec"]["names"]["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ImageTemplate", "ImageBuild", "ImageChannel"]);
    // Generation is deterministic.
    assert_eq!(yaml, kiln_crds::crds_yaml());
}
