//! `kiln validate`: everything `build` checks, without running anything.

use std::path::PathBuf;

use clap::Args;

use kiln_engine::plan::RunOptions;
use kiln_engine::session::Selection;
use kiln_engine::ui::Masker;

use super::common::{CmdUi, VarFlags, load_template_ui, split_list};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Template file or directory.
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarFlags,
    /// Only check syntax; do not validate components.
    #[arg(long = "syntax-only")]
    pub syntax_only: bool,
    /// Run data sources (otherwise their outputs are unknown).
    #[arg(long = "evaluate-datasources")]
    pub evaluate_datasources: bool,
    /// Do not warn about variables set in var files that no variable block declares.
    #[arg(long = "no-warn-undeclared-var")]
    pub no_warn_undeclared_var: bool,
    /// Machine-readable output (Packer's `timestamp,target,type,data...` lines).
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
    /// Validate only the builds matching these globs.
    #[arg(long)]
    pub only: Vec<String>,
    /// Validate all builds except those matching these globs.
    #[arg(long)]
    pub except: Vec<String>,
}

const HELP: &str = "Usage: packer validate [options] TEMPLATE

  Checks the template is valid by parsing the template and also
  checking the configuration with the various builders, provisioners, etc.

  If it is not valid, the errors will be shown and the command will exit
  with a non-zero exit status. If it is valid, it will exit with a zero
  exit status.

Options:

  -syntax-only                  Only check syntax. Do not verify config of the template.
  -except=foo,bar,baz           Validate all builds other than these.
  -only=foo,bar,baz             Validate only these builds.
  -machine-readable             Produce machine-readable output.
  -var 'key=value'              Variable for templates, can be used multiple times.
  -var-file=path                JSON or HCL2 file containing user variables, can be used multiple times.
  -no-warn-undeclared-var       Disable warnings for user variable files containing undeclared variables.
  -evaluate-datasources         Evaluate data sources during validation (HCL2 only, may incur costs); Defaults to false. 
  -ignore-prerelease-plugins    Disable the loading of prerelease plugin binaries (x.y.z-dev).
  -use-sequential-evaluation    Fallback to using a sequential approach for local/datasource evaluation.";

/// Packer's `ValidateCommand.ParseArgs`: Go's flags, one template. `Err`: the exit code
/// (the help printed).
pub fn parse_args(args: &[String], machine_readable: bool) -> Result<ValidateArgs, i32> {
    use super::goflag::{self, Kind};
    let mut flags = vec![
        ("syntax-only", Kind::Bool),
        ("no-warn-undeclared-var", Kind::Bool),
        ("evaluate-datasources", Kind::Bool),
        ("ignore-prerelease-plugins", Kind::Bool),
        ("use-sequential-evaluation", Kind::Bool),
    ];
    flags.extend_from_slice(goflag::META);
    let p = goflag::parse_command(args, HELP, &flags)?;
    let [path] = p.args.as_slice() else {
        super::common::CmdUi::current().say(HELP);
        return Err(1);
    };
    Ok(ValidateArgs {
        template: PathBuf::from(path),
        vars: VarFlags::from_parsed(&p),
        syntax_only: p.bool("syntax-only", false),
        evaluate_datasources: p.bool("evaluate-datasources", false),
        no_warn_undeclared_var: p.bool("no-warn-undeclared-var", false),
        machine_readable,
        only: p.all("only").to_vec(),
        except: p.all("except").to_vec(),
    })
}

pub async fn run(a: ValidateArgs) -> i32 {
    let ui = CmdUi::new(a.machine_readable);
    if !super::common::check_path_ui(&a.template, ui) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(&a.template) {
        let (only, except) = (split_list(&a.only), split_list(&a.except));
        let (path, vars, syntax_only) = (a.template.clone(), a.vars.clone(), a.syntax_only);
        return tokio::task::spawn_blocking(move || {
            super::legacy::validate(&path, &vars, syntax_only, &only, &except, ui)
        })
        .await
        .unwrap_or(1);
    }
    if a.syntax_only {
        let warn = !a.no_warn_undeclared_var;
        return match super::common::parse_template_ui(&a.template, &a.vars, warn, ui) {
            Some(_) => {
                ui.say("Syntax-only check passed. Everything looks okay.");
                0
            }
            None => 1,
        };
    }
    let (path, vars, warn, evaluate) = (
        a.template.clone(),
        a.vars.clone(),
        !a.no_warn_undeclared_var,
        a.evaluate_datasources,
    );
    let loaded =
        tokio::task::spawn_blocking(move || load_template_ui(&path, &vars, warn, evaluate, ui))
            .await;
    let s = match loaded {
        Ok(Some(s)) => s,
        Ok(None) => return 1,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let warnings = s.warnings.clone();
    let masker = Masker::new(s.template.sensitive.clone());
    let only = split_list(&a.only);
    let except = split_list(&a.except);
    let selection = Selection::Globs {
        only: only.clone(),
        except: except.clone(),
    };
    // Initialize's warnings, said when it ends.
    ui.diags(&warnings, Some(&masker));
    // (The selection's warnings come with the preparation's, below.)
    let (selected, _) = match s.plan(&selection) {
        Ok(s) => s,
        Err(d) => {
            ui.diags(&d, Some(&masker));
            return 1;
        }
    };
    let ropts = RunOptions {
        only,
        except,
        ..RunOptions::default()
    };
    // GetBuilds' diagnostics in one message: every build's preparation, then the
    // selection's warnings.
    let (_, diags) = s.prepare_partial(selected, &ropts);
    ui.diags(&diags, Some(&masker));
    if diags.has_errors() {
        return 1;
    }
    ui.say("The configuration is valid.");
    0
}
