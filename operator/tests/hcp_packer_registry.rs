//! `hcp_packer_registry` as Packer 1.16.0 treats it, compared with Packer built from source
//! (`scripts/packer.sh`, or `KILN_PACKER`): the same templates pass or fail `validate` and
//! `build` with the same first error, unknown arguments are ignored, a block inside `build`
//! is deprecated, several blocks fail a build unless `HCP_PACKER_REGISTRY=off`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::packer;

fn run(bin: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin);
    c.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("HCP_") || k.starts_with("PKR_VAR_") {
            c.env_remove(k);
        }
    }
    c.env("CHECKPOINT_DISABLE", "1").env("PACKER_NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `Error: …` and `Warning: …` summary lines of an output.
fn summaries(o: &Output) -> Vec<String> {
    text(o)
        .lines()
        .filter(|l| l.starts_with("Error: ") || l.starts_with("Warning: "))
        .map(str::to_string)
        .collect()
}

const SOURCE: &str = r#"
source "file" "f" {
  content = "x"
  target  = "x.txt"
}
"#;

fn case(dir: &Path, name: &str, body: &str) -> String {
    let file = format!("{name}.pkr.hcl");
    std::fs::write(dir.join(&file), format!("{body}\n{SOURCE}")).unwrap();
    file
}

#[test]
fn validate_and_build_agree_with_packer() {
    let packer = packer();
    let kiln = PathBuf::from(env!("CARGO_BIN_EXE_kiln"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let long = "d".repeat(256);
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "valid",
            r#"
hcp_packer_registry {
  bucket_name   = "ubuntu-base"
  description   = "Ubuntu base image"
  bucket_labels = { os = "ubuntu" }
  build_labels  = { "build-time" = timestamp() }
  channels      = ["dev"]
  not_a_packer_argument = 3
}
build { sources = ["source.file.f"] }
"#
            .to_string(),
            true,
        ),
        (
            "bad-bucket",
            r#"
hcp_packer_registry {
  bucket_name = "no_underscores"
}
build { sources = ["source.file.f"] }
"#
            .to_string(),
            false,
        ),
        (
            "labels",
            r#"
hcp_packer_registry {
  labels        = { a = "b" }
  bucket_labels = { a = "b" }
}
build { sources = ["source.file.f"] }
"#
            .to_string(),
            false,
        ),
        (
            "description",
            format!(
                "hcp_packer_registry {{\n  description = \"{long}\"\n}}\nbuild {{ sources = [\"source.file.f\"] }}\n"
            ),
            false,
        ),
        (
            "two-top",
            r#"
hcp_packer_registry { bucket_name = "abc" }
hcp_packer_registry { bucket_name = "def" }
build { sources = ["source.file.f"] }
"#
            .to_string(),
            false,
        ),
        (
            "in-build-and-top",
            r#"
hcp_packer_registry { bucket_name = "abc" }
build {
  hcp_packer_registry { bucket_name = "def" }
  sources = ["source.file.f"]
}
"#
            .to_string(),
            true,
        ),
    ];
    for (name, body, valid) in &cases {
        let file = case(dir, name, body);
        let p = run(&packer, dir, &["validate", &file], &[]);
        let k = run(&kiln, dir, &["validate", &file], &[]);
        assert_eq!(
            p.status.success(),
            *valid,
            "packer validate {name}: {}",
            text(&p)
        );
        assert_eq!(
            k.status.success(),
            *valid,
            "kiln validate {name}: {}",
            text(&k)
        );
        assert_eq!(
            summaries(&k),
            summaries(&p),
            "validate {name}\n--- kiln:\n{}\n--- packer:\n{}",
            text(&k),
            text(&p)
        );
    }

    // `build` adds the registry's own rules: a block inside `build` is deprecated and
    // several blocks are an error (checked before HCP credentials, which Kiln never asks).
    let file = "in-build-and-top.pkr.hcl";
    let p = run(&packer, dir, &["build", file], &[]);
    let k = run(&kiln, dir, &["build", file], &[]);
    assert!(!p.status.success() && !k.status.success(), "{}", text(&k));
    let want = [
        "Warning: Build block level hcp_packer_registry are deprecated",
        "Error: Multiple HCP Packer registry block declaration",
    ];
    for w in want {
        assert!(summaries(&p).iter().any(|l| l == w), "packer: {}", text(&p));
        assert!(summaries(&k).iter().any(|l| l == w), "kiln: {}", text(&k));
    }
    assert!(!dir.join("x.txt").exists(), "nothing was built");

    // With the registry off, both build it.
    let off = [("HCP_PACKER_REGISTRY", "off")];
    let p = run(&packer, dir, &["build", file], &off);
    assert!(p.status.success(), "packer: {}", text(&p));
    std::fs::remove_file(dir.join("x.txt")).unwrap();
    let k = run(&kiln, dir, &["build", file], &off);
    assert!(k.status.success(), "kiln: {}", text(&k));
    assert!(dir.join("x.txt").exists());
}
