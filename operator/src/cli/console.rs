//! `kiln console`: evaluates expressions read from stdin in a template's context.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::Args;
use kiln_engine::diag::SourceFile;
use kiln_engine::template::Template;
use kiln_engine::ui::Masker;

use super::common::{VarFlags, load_template};

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Template file or directory (optional).
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarFlags,
}

pub fn run(a: ConsoleArgs) -> i32 {
    let template = match &a.template {
        Some(p) => match load_template(p, &a.vars, false, false) {
            Some(s) => s.template,
            None => return 1,
        },
        None => Template {
            root: PathBuf::from("."),
            ..Template::default()
        },
    };
    let masker = Masker::new(template.sensitive.clone());
    let env = template.base_env();
    let mut code = 0;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        match line {
            "" => continue,
            "exit" => break,
            "help" => {
                println!(
                    "Evaluate an expression, e.g. var.name or upper(\"x\"). `variables` lists the variables; `exit` quits."
                );
                continue;
            }
            "variables" => {
                print!("{}", super::inspect::render(&template));
                continue;
            }
            _ => {}
        }
        let file = SourceFile::new(Path::new("<console>"), line.to_string());
        match hcl::edit::parser::parse_expr(&file.text) {
            Ok(expr) => match env.evaluator(&file).eval(&expr, &env.scope()) {
                Ok(v) => println!("{}", masker.mask(&v.to_hcl())),
                Err(d) => {
                    eprintln!("{}", masker.mask(&d.to_string()));
                    code = 1;
                }
            },
            Err(e) => {
                eprintln!("Error: {}", e.message());
                code = 1;
            }
        }
    }
    code
}
