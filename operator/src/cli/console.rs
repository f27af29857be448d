//! `kiln console`: evaluates expressions in a template's context, as `packer console` does.
//!
//! Piped (stdin a pipe, Packer's `StdinPiped`: `os.ModeNamedPipe`; `modePiped`): every line
//! is evaluated, errors are printed as they come, and only the last line's result is printed
//! at the end; the exit code is 1 after an error. Otherwise (a terminal, a regular file,
//! `/dev/null`: Packer's readline `modeInteractive`): each result after its line (an empty
//! line after an error), and the exit code is 0 at the end of input whatever the errors.
//! Values print as Packer's `PrintableCtyValue`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::Args;
use kiln_engine::diag::{Diagnostics, SourceFile};
use kiln_engine::template::Template;

use super::common::{VarFlags, print_diags};

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Template file or directory (optional).
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarFlags,
    /// `hcl2` or `json`: the language without a template (Packer's flag; Kiln has HCL2 only).
    #[arg(long = "config-type", value_name = "TYPE", default_value = "json")]
    pub config_type: String,
    /// Accepted for Packer compatibility (Kiln evaluates locals and data sources as a graph).
    #[arg(long = "use-sequential-evaluation")]
    pub use_sequential: bool,
}

/// Loads a template as Packer's `console` and `inspect` do: a file that does not parse is an
/// error; problems with variables, locals and data sources are not (their values stay unknown).
pub fn load_lenient(path: &Path, vars: &VarFlags) -> Result<Template, Diagnostics> {
    if !super::common::check_path(path) {
        return Err(Diagnostics::new());
    }
    let inputs = vars
        .inputs(false)
        .map_err(|e| Diagnostics::from(kiln_engine::diag::Diagnostic::error(e, "")))?;
    let (mut t, _) = Template::load(path)?;
    let _ = kiln_engine::template::variables::resolve(&mut t, &inputs);
    let known = |kind: &str| kiln_engine::components::DATA_SOURCES.get(kind).is_some();
    let diags = kiln_engine::template::locals::evaluate(
        &mut t,
        kiln_engine::template::locals::DataMode::Lenient(&known),
    );
    if diags.has_errors() {
        // Packer walks the locals/data graph in Go map order and stops at the first local
        // or data source that fails: which others got a value before it is random. Most
        // often none has (whatever starts the walk tends to lead to the failure), so Kiln
        // shows that outcome, the same on every run.
        t.local_values.clear();
        t.data_values.clear();
    }
    Ok(t)
}

const HELP: &str = r#"
The Packer console allows you to experiment with Packer interpolations.
You may access variables and functions in the Packer config you called the
console with.

Type in the interpolation to test and hit <enter> to see the result.

"upper(var.foo.id)" would evaluate to the ID of "foo" and uppercase is, if it
exists in your config file.

"variables" will dump all available variables and their values.

To exit the console, type "exit" and hit <enter>, or use Control-C.

/!\ It is not possible to use go templating interpolation like "{{timestamp}}"
with in HCL2 mode.
"#;

/// One line, as Packer's `EvaluateExpression`: the text to print, whether to exit, and the
/// diagnostics.
fn evaluate(t: &Template, line: &str) -> (String, bool, Diagnostics) {
    match line {
        "" => (String::new(), false, Diagnostics::new()),
        "exit" => (String::new(), true, Diagnostics::new()),
        "help" => (HELP.to_string(), false, Diagnostics::new()),
        "variables" => (super::inspect::variables(t), false, Diagnostics::new()),
        _ => {
            let name = "<console-input>";
            let file = SourceFile::new(Path::new(name), line.to_string());
            kiln_engine::diag::forget(name);
            let env = t.base_env();
            match kiln_engine::hcl::lenient::parse_expr(&file) {
                Ok(expr) => match env.evaluator(&file).eval(&expr, &env.scope()) {
                    Ok(v) => (v.printable(), false, Diagnostics::new()),
                    Err(d) => (String::new(), false, d.into()),
                },
                Err(e) => {
                    let d =
                        kiln_engine::template::hclsyntax_words(&file, &e).unwrap_or_else(|| {
                            kiln_engine::diag::Diagnostic::error("Invalid expression", e.message())
                        });
                    (String::new(), false, d.into())
                }
            }
        }
    }
}

pub fn run(a: ConsoleArgs) -> i32 {
    // Packer's JSON mode: a legacy template, or no template without `-config-type=hcl2`.
    match &a.template {
        Some(p) => {
            if !super::common::check_path(p) {
                return 1;
            }
            if kiln_engine::legacy_template::is_legacy(p) {
                return super::legacy::console(Some(p), &a.vars, stdin_is_pipe());
            }
        }
        None if a.config_type != "hcl2" => {
            return super::legacy::console(None, &a.vars, stdin_is_pipe());
        }
        None => {}
    }
    let template = match &a.template {
        Some(p) => match load_lenient(p, &a.vars) {
            Ok(t) => t,
            Err(d) => {
                print_diags(&d, None);
                return 1;
            }
        },
        None => Template {
            root: PathBuf::from("."),
            ..Template::default()
        },
    };
    let masker = kiln_engine::ui::Masker::new(template.sensitive.clone());
    let piped = stdin_is_pipe();
    let mut code = 0;
    let mut last = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = if piped {
            line
        } else {
            // readline hands the line over as typed; only piped mode trims it.
            line.trim_end_matches('\r').to_string()
        };
        let (out, exit, diags) = if piped {
            evaluate(&template, line.trim())
        } else {
            evaluate(&template, &line)
        };
        let out = masker.mask(&out);
        if !diags.is_empty() {
            print_diags(&diags, Some(&masker));
            if diags.has_errors() {
                code = 1;
            }
        }
        if piped {
            last = out;
            continue;
        }
        if exit {
            // Packer returns the exit line's own diagnostics' code: none.
            return 0;
        }
        println!("{out}");
    }
    if piped {
        println!("{last}");
        return code;
    }
    0
}

/// Whether standard input is a pipe (Packer: `fi.Mode()&os.ModeNamedPipe != 0`).
fn stdin_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    let fd = std::io::stdin();
    let Ok(f) = std::os::fd::AsFd::as_fd(&fd).try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(f)
        .metadata()
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}
