//! `kiln hcl2_upgrade`: a legacy JSON template written as HCL2, as Packer 1.16's
//! `hcl2_upgrade` command writes it (the conversion is `kiln_hcl::legacy::upgrade`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use kiln_engine::legacy_template::{self as legacy, Core, upgrade};
use kiln_engine::template::go_errno;

use super::goflag::{self, Kind};

const HELP: &str = r#"Usage: packer hcl2_upgrade [options] TEMPLATE

  Will transform your JSON template into an HCL2 configuration.

Options:

  -output-file=path    Set output file name. By default this will be the
                       TEMPLATE name with ".pkr.hcl" appended to it. To be a
                       valid Packer HCL template, it must have the suffix
                       ".pkr.hcl"
  -with-annotations    Add helper annotation comments to the file to help new
                       HCL2 users understand the template format."#;

/// Builder types Packer 1.16 has without plugins.
const BUNDLED_BUILDERS: &[&str] = &["file", "null"];

/// Go's `filepath.Dir`.
fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        None => ".".into(),
        Some(0) => "/".into(),
        Some(i) => {
            let d = path[..i].trim_end_matches('/');
            if d.is_empty() { "/".into() } else { d.into() }
        }
    }
}

/// Runs `hcl2_upgrade` with the arguments after the command name; the exit code.
pub fn run(args: &[String]) -> i32 {
    // Everything through the command's UI, as Packer's (machine-readable lines with
    // `-machine-readable`).
    let ui = super::common::CmdUi::current();
    let mut flags = vec![
        ("output-file", Kind::String),
        ("with-annotations", Kind::Bool),
    ];
    flags.extend_from_slice(goflag::META);
    let parsed = match goflag::parse_command(args, HELP, &flags) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if parsed.args.len() != 1 {
        ui.say(HELP);
        return 1;
    }
    let path = parsed.args[0].clone();
    let output = match parsed.last("output-file") {
        Some(o) if !o.is_empty() => o.to_string(),
        _ => format!("{path}.pkr.hcl"),
    };
    let annotations = parsed.bool("with-annotations", false);

    let dir = go_dir(&output);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        // Go's `MkdirAll` on a path that exists but is not a directory: ENOTDIR.
        let why = if Path::new(&dir).exists() {
            "not a directory".to_string()
        } else {
            go_errno(&e)
        };
        ui.error(&format!(
            "Failed to create output directory: mkdir {dir}: {why}"
        ));
        return 1;
    }
    let mut file = match std::fs::File::create(&output) {
        Ok(f) => f,
        Err(e) => {
            ui.error(&format!(
                "Failed to create output file: open {output}: {}",
                go_errno(&e)
            ));
            return 1;
        }
    };
    if annotations && let Err(e) = file.write_all(upgrade::file_header().as_bytes()) {
        ui.error(&format!(
            "Failed to write to file: write {output}: {}",
            go_errno(&e)
        ));
        return 1;
    }

    // `GetConfigFromJSON`.
    let (template, raw) = match legacy::parse_file_raw(Path::new(&path)) {
        Ok(t) => t,
        Err(e) => {
            ui.error(&legacy::parse_failure(&e));
            ui.error("Failed to get config from JSON");
            return 1;
        }
    };
    let mut values = BTreeMap::new();
    for f in parsed.all("var-file") {
        if let Err(e) = legacy::read_var_file(Path::new(f), &mut values) {
            ui.error(&e.to_string());
            ui.error("Failed to get config from JSON");
            return 1;
        }
    }
    for v in parsed.all("var") {
        if let Some((k, val)) = v.split_once('=') {
            values.insert(k.to_string(), val.to_string());
        }
    }
    let mut core = Core::new(template, values);
    if let Err(e) = core.initialize() {
        ui.error(&format!(
            "Ignoring following initialization error: <nil>: ; {e}"
        ));
    }

    let opts = upgrade::Options {
        with_annotations: annotations,
        builder_plugins: BUNDLED_BUILDERS.iter().map(|s| s.to_string()).collect(),
    };
    let out = match upgrade::upgrade(&core.template, &raw, &opts) {
        Ok(o) => o,
        Err(e) => {
            ui.error(&format!("Error: cannot convert {path}: {e}"));
            return 1;
        }
    };
    let mut ret = 0;
    for e in &out.errors {
        ui.error(&e.to_string());
        ret = 1;
    }
    if let Err(e) = file.write_all(out.text.as_bytes()) {
        ui.error(&format!(
            "Failed to write to file: write {output}: {}",
            go_errno(&e)
        ));
        return 1;
    }
    ui.say(&format!("Successfully created {output}. Exit {ret}"));
    ret
}

#[cfg(test)]
mod tests {
    use super::go_dir;

    #[test]
    fn dir_as_go_filepath_dir() {
        assert_eq!(go_dir("a.pkr.hcl"), ".");
        assert_eq!(go_dir("out/a.pkr.hcl"), "out");
        assert_eq!(go_dir("/a"), "/");
        assert_eq!(go_dir("a//b"), "a");
    }
}
