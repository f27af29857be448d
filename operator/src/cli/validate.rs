//! `kiln validate`: everything `build` checks, without running anything.

use std::path::PathBuf;

use clap::Args;

use kiln_engine::plan::RunOptions;
use kiln_engine::session::{self, Selection, TemplateSource};
use kiln_engine::ui::Masker;

use super::common::{VarFlags, load_template, print_diags, split_list};

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
    if !super::common::check_path(&a.template) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(&a.template) {
        let (only, except) = (split_list(&a.only), split_list(&a.except));
        let (path, vars, syntax_only) = (a.template.clone(), a.vars.clone(), a.syntax_only);
        return tokio::task::spawn_blocking(move || {
            super::legacy::validate(&path, &vars, syntax_only, &only, &except)
        })
        .await
        .unwrap_or(1);
    }
    let source = TemplateSource::Path(a.template.clone());
    if a.syntax_only {
        return match session::parse(&source) {
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
    let _ = source;
    let (path, vars, warn, evaluate) = (
        a.template.clone(),
        a.vars.clone(),
        !a.no_warn_undeclared_var,
        a.evaluate_datasources,
    );
    let loaded =
        tokio::task::spawn_blocking(move || load_template(&path, &vars, warn, evaluate)).await;
    let s = match loaded {
        Ok(Some(s)) => s,
        Ok(None) => return 1,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let mut warnings = s.warnings.clone();
    let masker = Masker::new(s.template.sensitive.clone());
    let only = split_list(&a.only);
    let except = split_list(&a.except);
    let selection = Selection::Globs {
        only: only.clone(),
        except: except.clone(),
    };
    let selected = match s.plan(&selection) {
        Ok((selected, w)) => {
            warnings.extend(w);
            selected
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
    match s.prepare(selected, &ropts) {
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
