//! `kiln fix`: Packer 1.16's fixers on a legacy JSON template, the result on stdout, then
//! (with `-validate`, the default) the result parsed and validated as a template
//! (`kiln_hcl::legacy::fix`).

use std::path::Path;

use kiln_engine::legacy_template::{self as legacy, fix};
use kiln_engine::template::go_errno;

use super::goflag::{self, Kind};

fn help() -> String {
    let mut s = String::from(
        "Usage: packer fix [options] TEMPLATE

  Reads the JSON template and attempts to fix known backwards
  incompatibilities. The fixed template will be outputted to standard out.

  If the template cannot be fixed due to an error, the command will exit
  with a non-zero exit status. Error messages will appear on standard error.

Fixes that are run (in order):

",
    );
    for (name, synopsis, _) in fix::FIXERS {
        s.push_str(&format!("  {name:<27}{synopsis}\n"));
    }
    s.push_str(
        "
Options:

  -validate=true      If true (default), validates the fixed template.",
    );
    s
}

const AFTER: &str = "\n\nThis is usually caused by an error in the input template.\nPlease fix the error and try again.";

/// Runs `fix` with the arguments after the command name; the exit code.
pub fn run(args: &[String]) -> i32 {
    // Everything through the command's UI, as Packer's (machine-readable lines with
    // `-machine-readable`).
    let ui = super::common::CmdUi::current();
    let mut flags = vec![("validate", Kind::Bool)];
    flags.extend_from_slice(goflag::META);
    let parsed = match goflag::parse_command(args, &help(), &flags) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if parsed.args.len() != 1 {
        ui.say(&help());
        return 1;
    }
    let path = &parsed.args[0];
    if path.ends_with(".pkr.hcl") || path.ends_with(".pkr.json") || Path::new(path).is_dir() {
        ui.error("packer fix only works with JSON files for now.");
        return 1;
    }
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            ui.error(&format!(
                "Error opening template: open {path}: {}",
                go_errno(&e)
            ));
            return 1;
        }
    };
    let fixed = match fix::fix(&data) {
        Ok(f) => f,
        Err(e) => {
            ui.error(&e.to_string());
            return 1;
        }
    };
    ui.say(&fixed);
    if !parsed.bool("validate", true) {
        return 0;
    }
    let t = match legacy::parse(fixed.as_bytes()) {
        Ok(t) => t,
        Err(e) => {
            let e = match e {
                legacy::ParseError::Syntax(s) => s.msg,
                legacy::ParseError::Other(s) => s,
            };
            ui.error(&format!("Error! Fixed template fails to parse: {e}{AFTER}"));
            return 1;
        }
    };
    let errs = t.validate();
    if !errs.is_empty() {
        ui.error(&format!(
            "Error! Fixed template failed to validate: {}{AFTER}",
            legacy::multierror(&errs)
        ));
        return 1;
    }
    0
}
