//! `kiln console`: evaluates expressions in a template's context, as `packer console` does.
//!
//! Piped (stdin a pipe, Packer's `StdinPiped`: `os.ModeNamedPipe`; `modePiped`): every line
//! is evaluated, errors are printed as they come, and only the last line's result is printed
//! at the end; the exit code is 1 after an error. Otherwise (a terminal, a regular file,
//! `/dev/null`: Packer's readline `modeInteractive`, see [`interactive`]): each result after
//! its line (an empty line after an error), and the exit code is 0 at the end of input
//! whatever the errors. Values print as Packer's `PrintableCtyValue`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::Args;
use kiln_engine::diag::{Diagnostics, SourceFile};
use kiln_engine::template::Template;

use super::common::{CmdUi, VarFlags, print_diags};

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Template file or directory (optional).
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarFlags,
    /// `hcl2` or `json`: the language without a template (Packer's flag; Kiln has HCL2 only).
    #[arg(long = "config-type", value_name = "TYPE", default_value = "json")]
    pub config_type: String,
}

/// Loads a template as Packer's `console` and `inspect` do: a file that does not parse, or
/// variable values given that do not fit (Packer's `Parse` collects them), are errors,
/// printed through `ui`; data sources run; problems with variables, locals and data
/// sources found later are not errors (their values stay unknown). `None`: exit 1.
pub fn load_lenient(path: &Path, vars: &VarFlags, ui: CmdUi) -> Option<Template> {
    if !super::common::check_path_ui(path, ui) {
        return None;
    }
    let mut t = super::common::parse_template_ui(path, vars, false, ui)?;
    let _ = kiln_engine::template::variables::resolve(&mut t, &vars.inputs(false));
    // Packer's `inspect` and `console` initialize without skipping data sources: each one
    // runs (a type no plugin provides fails to start).
    let env = std::sync::Arc::new(kiln_engine::components::RunEnv::local());
    let runner = move |decl: &kiln_engine::template::DataDecl,
                       e: &kiln_engine::template::EvalEnv| {
        kiln_engine::plan::run_data_source(decl, e, &env)
    };
    // Values Packer's walk may or may not have reached before a failure are dropped there.
    let mode = kiln_engine::template::locals::DataMode::Execute(&runner);
    let _ = if vars.sequential {
        kiln_engine::template::locals::evaluate_sequential(&mut t, mode)
    } else {
        kiln_engine::template::locals::evaluate_values(&mut t, mode)
    };
    Some(t)
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
            // hclsyntax skips spaces and tabs around the expression; hcl-edit's parser takes
            // none. Packer prints no source for console input, so nothing shows the cut.
            let text = line.trim_matches([' ', '\t']);
            let file = SourceFile::new(Path::new(name), text.to_string());
            kiln_engine::diag::forget(name);
            // hclsyntax's syntax errors, as Packer (`ParseExpression`) reports them.
            let errors = kiln_engine::hcl::syntax_diag::expression_errors(text, name);
            if !errors.is_empty() {
                return (String::new(), false, Diagnostics(errors));
            }
            let env = t.console_env();
            match kiln_engine::hcl::lenient::parse_expr(&file) {
                Ok(expr) => match env.evaluator(&file).eval(&expr, &env.scope()) {
                    Ok(v) => (v.printable(), false, Diagnostics::new()),
                    Err(d) => (String::new(), false, d.into()),
                },
                // Where hcl-edit refuses what hclsyntax accepts.
                Err(e) => {
                    use kiln_engine::diag::Diagnostic;
                    let d = match kiln_engine::template::hclsyntax_words(&file, &e) {
                        Some(d) => d,
                        // The line ends where an expression should start (`1 +`, a blank
                        // line): with one (` 0`) it would parse.
                        None if text.is_empty() || parses(&format!("{text} 0")) => {
                            Diagnostic::error(
                                "Missing expression",
                                "Expected the start of an expression, but found the end of \
                                 the file.",
                            )
                            .at(file.subject(text.len()..text.len()))
                        }
                        None => Diagnostic::error("Invalid expression", e.message()),
                    };
                    (String::new(), false, d.into())
                }
            }
        }
    }
}

/// Whether console input parses as an expression.
fn parses(text: &str) -> bool {
    let name = "<console-probe>";
    let file = SourceFile::new(Path::new(name), text.to_string());
    kiln_engine::diag::forget(name);
    kiln_engine::hcl::lenient::parse_expr(&file).is_ok()
}

const USAGE: &str = "Usage: packer console [options] [TEMPLATE]

  Creates a console for testing variable interpolation.
  If a template is provided, this command will load the template and any
  variables defined therein into its context to be referenced during
  interpolation.

Options:
  -var 'key=value'              Variable for templates, can be used multiple times.
  -var-file=path                JSON or HCL2 file containing user variables.
  -config-type                  Set to 'hcl2' to run in HCL2 mode when no file is passed. Defaults to json.
  -use-sequential-evaluation    Fallback to using a sequential approach for local/datasource evaluation.";

/// Packer's `ConsoleCommand.ParseArgs`: Go's flags; a template when exactly one argument
/// is left (none otherwise). `Err`: the exit code (the help printed).
pub fn parse_args(args: &[String]) -> Result<ConsoleArgs, i32> {
    use super::goflag::{self, Kind};
    let mut flags = vec![("use-sequential-evaluation", Kind::Bool)];
    flags.extend_from_slice(goflag::META);
    let p = goflag::parse_command(args, USAGE, &flags)?;
    Ok(ConsoleArgs {
        template: match p.args.as_slice() {
            [path] => Some(PathBuf::from(path)),
            _ => None,
        },
        vars: VarFlags::from_parsed(&p),
        config_type: p.last("config-type").unwrap_or("json").to_string(),
    })
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
        Some(p) => match load_lenient(p, &a.vars, CmdUi::current()) {
            Some(t) => t,
            None => return 1,
        },
        None => {
            // No template: Packer's base directory is empty (`path.root` is "").
            let t = Template {
                root: PathBuf::new(),
                ..Template::default()
            };
            // Packer parses no file but still collects the variable values given: any
            // `-var` is undeclared, var files must be readable.
            let diags = kiln_engine::template::variables::collect(&t, &a.vars.inputs(false)).1;
            print_diags(&diags, None);
            if diags.has_errors() {
                return 1;
            }
            t
        }
    };
    let masker = kiln_engine::ui::Masker::new(template.sensitive.clone());
    if stdin_is_pipe() {
        let mut code = 0;
        let mut last = String::new();
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let (out, _, diags) = evaluate(&template, line.trim());
            if !diags.is_empty() {
                print_diags(&diags, Some(&masker));
                if diags.has_errors() {
                    code = 1;
                }
            }
            last = masker.mask(&out);
        }
        super::common::CmdUi::current().message(&last);
        return code;
    }
    interactive(|line| {
        let (out, exit, diags) = evaluate(&template, line);
        if !diags.is_empty() {
            print_diags(&diags, Some(&masker));
        }
        if exit {
            // Packer returns the exit line's own diagnostics' code: none.
            return true;
        }
        super::common::CmdUi::current().say(&masker.mask(&out));
        false
    })
}

/// Packer's `modeInteractive`: lines read by readline, each handed to `each` as typed
/// (`true` from `each` ends the console); exit 0 at the end of input.
///
/// On a terminal (stdin one, and stdout or stderr: readline's `IsTerminal`), the line is
/// edited as with Packer's chzyer/readline: prompt `> `, emacs keys, history (up/down,
/// `^R` searching case-insensitively); `^C` shows `^C` and ends the console on an empty line,
/// else drops the line; `^D` on an empty line shows `exit` and ends it. Otherwise (a
/// regular file, `/dev/null`, a terminal whose output is redirected) plain lines.
pub fn interactive(mut each: impl FnMut(&str) -> bool) -> i32 {
    use std::io::IsTerminal;
    let terminal = std::io::stdin().is_terminal()
        && (std::io::stdout().is_terminal() || std::io::stderr().is_terminal());
    if !terminal {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            // readline hands the line over as typed, but for the line end.
            if each(line.trim_end_matches('\r')) {
                return 0;
            }
        }
        return 0;
    }
    let mut editor = match terminal::Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Error initializing console: {e}");
            return 1;
        }
    };
    loop {
        match editor.read_line() {
            terminal::Read::Line(line) => {
                if each(&line) {
                    return 0;
                }
            }
            terminal::Read::Dropped => {}
            terminal::Read::End => return 0,
        }
    }
}

/// The console's line editor on a terminal: rustyline set up as Packer's readline.
mod terminal {
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};

    use rustyline::highlight::{CmdKind, Highlighter};
    use rustyline::history::DefaultHistory;
    use rustyline::{
        Cmd, ConditionalEventHandler, Event, EventContext, EventHandler, KeyEvent, RepeatCount,
    };

    /// Packer's `readline.Config`: `Prompt`, `InterruptPrompt`, `EOFPrompt`.
    const PROMPT: &str = "> ";
    const INTERRUPT_PROMPT: &str = "^C";
    const EOF_PROMPT: &str = "exit";

    /// How the line being edited ends: Enter, `^C`, or `^D` on an empty line.
    const ENTER: u8 = 0;
    const INTERRUPT: u8 = 1;
    const EOF: u8 = 2;

    /// What one `read_line` got.
    pub enum Read {
        /// A line ended by Enter.
        Line(String),
        /// A line dropped by `^C` (the console goes on).
        Dropped,
        /// `^C` on an empty line, `^D` on an empty line, or the end of input.
        End,
    }

    /// `^C` and `^D` (on an empty line) end the line as Enter does, marked, so that the
    /// last drawing of the line shows readline's `^C` or `exit` after it (the helper's
    /// highlighting) and the caller still learns whether the line was empty.
    struct Ending {
        how: Arc<AtomicU8>,
        mark: u8,
    }

    impl ConditionalEventHandler for Ending {
        fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
            if self.mark == EOF && !ctx.line().is_empty() {
                return None; // ^D on a line deletes the character under the cursor
            }
            self.how.store(self.mark, Ordering::SeqCst);
            Some(Cmd::AcceptLine)
        }
    }

    /// Draws readline's `^C`/`exit` after a line that `^C`/`^D` ended.
    struct Helper {
        how: Arc<AtomicU8>,
    }

    impl Highlighter for Helper {
        fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
            match self.how.load(Ordering::SeqCst) {
                INTERRUPT => Cow::Owned(format!("{line}{INTERRUPT_PROMPT}")),
                EOF => Cow::Owned(format!("{line}{EOF_PROMPT}")),
                _ => Cow::Borrowed(line),
            }
        }

        /// Always: so that rustyline redraws the line (with the mark) when it is accepted.
        fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
            true
        }
    }

    impl rustyline::completion::Completer for Helper {
        type Candidate = String;
    }
    impl rustyline::hint::Hinter for Helper {
        type Hint = String;
    }
    impl rustyline::validate::Validator for Helper {}
    impl rustyline::Helper for Helper {}

    pub struct Editor {
        editor: rustyline::Editor<Helper, DefaultHistory>,
        how: Arc<AtomicU8>,
    }

    impl Editor {
        pub fn new() -> rustyline::Result<Self> {
            let config = rustyline::Config::builder()
                .auto_add_history(false)
                // The marks are drawn by the highlighter, which rustyline calls only
                // with colours on; Kiln adds no colour.
                .color_mode(rustyline::ColorMode::Forced)
                .build();
            let mut editor = rustyline::Editor::with_config(config)?;
            let how = Arc::new(AtomicU8::new(ENTER));
            editor.set_helper(Some(Helper { how: how.clone() }));
            for (key, mark) in [(KeyEvent::ctrl('C'), INTERRUPT), (KeyEvent::ctrl('D'), EOF)] {
                let how = how.clone();
                editor.bind_sequence(
                    key,
                    EventHandler::Conditional(Box::new(Ending { how, mark })),
                );
            }
            Ok(Self { editor, how })
        }

        pub fn read_line(&mut self) -> Read {
            self.how.store(ENTER, Ordering::SeqCst);
            let line = match self.editor.readline(PROMPT) {
                Ok(line) => line,
                // The end of input, or an interrupt that the binding did not see.
                Err(_) => return Read::End,
            };
            match self.how.swap(ENTER, Ordering::SeqCst) {
                INTERRUPT if line.is_empty() => Read::End,
                INTERRUPT => Read::Dropped,
                EOF => Read::End,
                _ => {
                    // readline's history: every line but an empty one or a repeat.
                    let _ = self.editor.add_history_entry(line.as_str());
                    Read::Line(line)
                }
            }
        }
    }
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
