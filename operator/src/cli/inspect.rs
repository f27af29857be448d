//! `kiln inspect`: variables, locals and builds, as `packer inspect` prints them
//! (hcl2template's `InspectConfig`): any template that parses is inspected, whatever its
//! variables and components; unknown values show as `"<unknown>"`; sensitive values are
//! masked everywhere in the text.

use std::path::PathBuf;

use clap::Args;
use kiln_engine::template::Template;
use kiln_engine::value::go_quote;

use super::common::{CmdUi, VarFlags};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Template file or directory (none: Packer's tiniest JSON template).
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarFlags,
    /// Machine-readable output (Packer's `timestamp,target,type,data...` lines).
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
}

const HELP: &str = "Usage: packer inspect TEMPLATE

  Inspects a template, parsing and outputting the components a template
  defines. This does not validate the contents of a template (other than
  basic syntax by necessity).

Options:

  -machine-readable             Machine-readable output
  -use-sequential-evaluation    Fallback to using a sequential approach for local/datasource evaluation.";

/// Packer's `InspectCommand.ParseArgs`: Go's flags; a template when exactly one argument is
/// left (`None` otherwise: Packer then inspects its tiniest JSON template). `Err`: the exit
/// code (the help printed).
pub fn parse_args(args: &[String], machine_readable: bool) -> Result<InspectArgs, i32> {
    use super::goflag::{self, Kind};
    let mut flags = vec![("use-sequential-evaluation", Kind::Bool)];
    flags.extend_from_slice(goflag::META);
    let p = goflag::parse_command(args, HELP, &flags)?;
    Ok(InspectArgs {
        template: match p.args.as_slice() {
            [path] => Some(PathBuf::from(path)),
            _ => None,
        },
        vars: VarFlags::from_parsed(&p),
        machine_readable,
    })
}

pub fn run(a: InspectArgs) -> i32 {
    let ui = CmdUi::new(a.machine_readable);
    let Some(template) = &a.template else {
        return super::legacy::inspect(None, &a.vars, ui);
    };
    if !super::common::check_path_ui(template, ui) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(template) {
        return super::legacy::inspect(Some(template), &a.vars, ui);
    }
    let Some(t) = super::console::load_lenient(template, &a.vars, ui) else {
        return 1;
    };
    let masker = kiln_engine::ui::Masker::new(t.sensitive.clone());
    for part in [
        "Packer Inspect: HCL2 mode\n".to_string(),
        variables(&t),
        builds(&t),
    ] {
        ui.say(&masker.mask(&part));
    }
    0
}

/// Packer's `printVariables`: variables and locals sorted by name, values quoted.
pub fn variables(t: &Template) -> String {
    let mut out = String::from("> input-variables:\n\n");
    let mut names: Vec<&String> = t.variables.keys().collect();
    names.sort();
    for name in names {
        let v = t.var_values.get(name).cloned().unwrap_or_default();
        out.push_str(&format!("var.{name}: {}\n", go_quote(&v.printable())));
    }
    out.push_str("\n> local-variables:\n\n");
    for (name, v) in &t.local_values {
        out.push_str(&format!("local.{name}: {}\n", go_quote(&v.printable())));
    }
    out
}

/// Packer's `printBuilds`.
fn builds(t: &Template) -> String {
    let mut out = String::from("> builds:\n");
    // Packer's inspect ignores Initialize's errors: the builds that decode are listed.
    let (builds, _) = t.decode_builds_partial();
    let named = |kind: &str, name: &Option<String>| match name {
        Some(n) if !n.is_empty() => format!("{kind}.{n}"),
        _ => kind.to_string(),
    };
    for (i, b) in builds.iter().enumerate() {
        let title = match &b.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("<unnamed build {i}>"),
        };
        out.push_str(&format!("\n  > {title}:\n"));
        if let Some(d) = b.description.as_deref().filter(|d| !d.is_empty()) {
            out.push_str(&format!("\n  > Description: {d}\n"));
        }
        out.push_str("\n    sources:\n");
        if b.sources.is_empty() {
            out.push_str("\n      <no source>\n");
        }
        for s in &b.sources {
            out.push_str(&format!("\n      {}\n", s.reference()));
        }
        out.push_str("\n    provisioners:\n\n");
        if b.provisioners.is_empty() {
            out.push_str("      <no provisioner>\n");
        }
        for p in &b.provisioners {
            out.push_str(&format!("      {}\n", named(&p.kind, &p.name)));
        }
        out.push_str("\n    post-processors:\n");
        if b.post_processors.is_empty() {
            out.push_str("\n      <no post-processor>\n");
        }
        for (n, chain) in b.post_processors.iter().enumerate() {
            out.push_str(&format!("\n      {n}:\n"));
            for p in chain {
                out.push_str(&format!("        {}\n", named(&p.kind, &p.name)));
            }
        }
    }
    out
}
