//! The commands on a legacy JSON template (any path Packer does not read as HCL2: not
//! `*.pkr.hcl`/`*.pkr.json`, not a directory), as Packer's `GetConfigFromJSON` and legacy
//! core run them.

use std::collections::BTreeMap;
use std::path::Path;

use kiln_engine::diag::{Diagnostic, Diagnostics};
use kiln_engine::legacy_template::{self as legacy, Core, LegacyTemplate};
use kiln_engine::ui::Masker;

use super::common::{CmdUi, VarFlags};

/// `GetConfigFromJSON` and `Meta.Core`: the template parsed and the command line's
/// variables (`-var` over `-var-file`). `None`: the error is printed, exit 1.
pub fn load(path: Option<&Path>, vars: &VarFlags, ui: CmdUi) -> Option<Core> {
    let parsed = match path {
        Some(p) => legacy::parse_file(p),
        None => match legacy::parse(legacy::TINIEST_BUILDER.as_bytes()) {
            Ok(t) => Ok(t),
            Err(_) => Err("the default template does not parse".into()),
        },
    };
    let t: LegacyTemplate = match parsed {
        Ok(t) => t,
        Err(e) => {
            ui.error(&legacy::parse_failure(&e));
            return None;
        }
    };
    let mut from_files = BTreeMap::new();
    for f in &vars.var_files {
        if let Err(e) = legacy::read_var_file(f, &mut from_files) {
            ui.error(&e.to_string());
            return None;
        }
    }
    let mut values = from_files;
    for v in &vars.vars {
        match v.split_once('=') {
            Some((k, val)) => {
                values.insert(k.to_string(), val.to_string());
            }
            None => {
                ui.error(&format!(
                    "invalid value {v:?} for flag -var: No '=' value in arg: {v}"
                ));
                return None;
            }
        }
    }
    Some(Core::new(t, values))
}

/// `Core.Initialize`'s error as Packer writes it: a diagnostic with no summary.
pub fn initialize(core: &mut Core) -> Result<(), Diagnostics> {
    core.initialize()
        .map_err(|e| Diagnostics::from(Diagnostic::error("", e)))
}

/// The masker of a core's secrets (the values of its sensitive variables, once
/// initialized).
pub fn masker(core: &Core) -> Masker {
    Masker::new(core.secrets.clone())
}

/// `packer inspect` on a legacy template.
pub fn inspect(path: Option<&Path>, vars: &VarFlags, ui: CmdUi) -> i32 {
    let Some(mut core) = load(path, vars, ui) else {
        return 1;
    };
    // Errors of Initialize are ignored: inspect shows what the template declares.
    let _ = core.initialize();
    let m = masker(&core);
    for line in core.inspect_lines() {
        match line {
            legacy::UiLine::Say(text) => ui.say(&m.mask(&text)),
            legacy::UiLine::Machine(kind, data) => {
                let data: Vec<String> = data.iter().map(|d| m.mask(d)).collect();
                ui.machine(kind, &data);
            }
        }
    }
    0
}

/// `packer validate` on a legacy template.
pub fn validate(
    path: &Path,
    vars: &VarFlags,
    syntax_only: bool,
    only: &[String],
    except: &[String],
    ui: CmdUi,
) -> i32 {
    let Some(mut core) = load(Some(path), vars, ui) else {
        return 1;
    };
    if syntax_only {
        ui.say("Syntax-only check passed. Everything looks okay.");
        return 0;
    }
    if let Err(d) = initialize(&mut core) {
        ui.diags(&d, None);
        return 1;
    }
    let m = masker(&core);
    let opts = kiln_engine::plan::RunOptions {
        env: kiln_engine::legacy::local_env(),
        ..Default::default()
    };
    let (_, diags) = kiln_engine::legacy::get_builds(&core, only, except, &opts);
    ui.diags(&diags, Some(&m));
    if diags.has_errors() {
        return 1;
    }
    ui.say("The configuration is valid.");
    0
}

/// A console error as Packer's legacy core makes it: a diagnostic of no severity, which
/// HCL's writer labels `???????` and which fails nothing.
fn interpolation_error(detail: &str) -> String {
    format!(
        "???????: Interpolation error\n\n{}\n\n",
        kiln_engine::diag::wrap_string(detail, 80)
    )
}

/// `packer console` in JSON mode: on a legacy template, or on Packer's tiniest template when
/// none is given. Lines are rendered as Go templates.
pub fn console(path: Option<&Path>, vars: &VarFlags, piped: bool) -> i32 {
    use std::io::BufRead;
    let Some(mut core) = load(path, vars, CmdUi::current()) else {
        return 1;
    };
    let _ = core.initialize();
    let m = masker(&core);
    let ui = super::common::CmdUi::current();
    if !piped {
        return super::console::interactive(|line| {
            let (out, exit, err) = core.evaluate(line);
            if let Some(e) = err {
                ui.error(&m.mask(&interpolation_error(&e)));
            }
            if exit {
                return true;
            }
            ui.say(&m.mask(&out));
            false
        });
    }
    let mut last = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let (out, _, err) = core.evaluate(line.trim());
        if let Some(e) = err {
            ui.error(&m.mask(&interpolation_error(&e)));
        }
        last = out;
    }
    ui.message(&m.mask(&last));
    0
}
