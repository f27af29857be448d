//! `kiln validate`: everything `build` checks, without running anything.

use std::path::PathBuf;

use clap::Args;
use kiln_engine::plan::{self, RunOptions};
use kiln_engine::session::{self, LoadOptions};
use kiln_engine::template::Template;
use kiln_engine::ui::Masker;

use super::common::{VarFlags, print_diags, split_list};

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
    /// Validate only the builds matching these globs.
    #[arg(long)]
    pub only: Vec<String>,
    /// Validate all builds except those matching these globs.
    #[arg(long)]
    pub except: Vec<String>,
}

pub async fn run(a: ValidateArgs) -> i32 {
    if a.syntax_only {
        return match Template::load(&a.template) {
            Ok((_, w)) => {
                print_diags(&w, None);
                println!("Syntax-only check passed. Everything looks okay.");
                0
            }
            Err(d) => {
                print_diags(&d, None);
                1
            }
        };
    }
    let inputs = match a.vars.inputs(!a.no_warn_undeclared_var) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let opts = LoadOptions {
        inputs,
        evaluate_datasources: a.evaluate_datasources,
    };
    let (template, mut warnings) = match tokio::task::spawn_blocking({
        let path = a.template.clone();
        move || session::load(&path, &opts)
    })
    .await
    {
        Ok(Ok(t)) => t,
        Ok(Err(d)) => {
            print_diags(&d, None);
            return 1;
        }
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let masker = Masker::new(template.sensitive.clone());
    let instances = match template.instances() {
        Ok(i) => i,
        Err(d) => {
            print_diags(&d, Some(&masker));
            return 1;
        }
    };
    let only = split_list(&a.only);
    let except = split_list(&a.except);
    let selected = match plan::select(instances, &only, &except) {
        Ok((s, w)) => {
            warnings.extend(w);
            s
        }
        Err(d) => {
            print_diags(&d, Some(&masker));
            return 1;
        }
    };
    let ropts = RunOptions {
        only,
        except,
        ..RunOptions::default()
    };
    match plan::prepare(&template, selected, &ropts) {
        Ok((_, w)) => {
            warnings.extend(w);
            print_diags(&warnings, Some(&masker));
            println!("The configuration is valid.");
            0
        }
        Err(d) => {
            print_diags(&warnings, Some(&masker));
            print_diags(&d, Some(&masker));
            1
        }
    }
}
