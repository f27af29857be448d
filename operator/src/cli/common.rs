//! Flags and helpers the commands share.

use std::path::PathBuf;

use clap::Args;
use kiln_engine::diag::Diagnostics;
use kiln_engine::template::VarInputs;

/// `-var`, `-var-file`.
#[derive(Args, Debug, Clone, Default)]
pub struct VarFlags {
    /// Variable for templates, can be used multiple times: -var 'name=value'.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// JSON or HCL2 file containing user variables, can be used multiple times.
    #[arg(long = "var-file", value_name = "PATH")]
    pub var_files: Vec<PathBuf>,
    /// `-use-sequential-evaluation`: data sources, then locals, each evaluated in turn (not
    /// as a graph), every failure reported.
    #[arg(skip)]
    pub sequential: bool,
}

impl VarFlags {
    /// The `-var` and `-var-file` flags Go's flag package parsed.
    pub fn from_parsed(p: &super::goflag::Parsed) -> VarFlags {
        VarFlags {
            vars: p.all("var").to_vec(),
            var_files: p.all("var-file").iter().map(PathBuf::from).collect(),
            sequential: p.bool("use-sequential-evaluation", false),
        }
    }

    /// The inputs, with the process environment (for `PKR_VAR_*`).
    /// (Go's flag parsing checked that every `-var` has a `=`.)
    pub fn inputs(&self, warn_undeclared: bool) -> VarInputs {
        let vars = self
            .vars
            .iter()
            .filter_map(|v| v.split_once('='))
            .map(|(k, val)| (k.to_string(), val.to_string()))
            .collect();
        VarInputs {
            vars,
            var_files: self.var_files.clone(),
            env: std::env::vars().collect(),
            warn_undeclared,
            exprs: Vec::new(),
        }
    }
}

/// Prints diagnostics as Packer's `writeDiags` does: all of them in one message on stdout
/// (Packer's UI writes errors there too), masked.
pub fn print_diags(d: &Diagnostics, masker: Option<&kiln_engine::ui::Masker>) {
    CmdUi::current().diags(d, masker);
}

/// A command's own UI, as Packer's: `BasicUi` (messages and errors on stdout, machine lines
/// only logged) or, with `-machine-readable`, `MachineReadableUi` (every message a
/// `timestamp,,ui,say|error,text` line, machine lines printed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdUi {
    Basic,
    Machine,
}

/// Packer's `-machine-readable`, taken out of the arguments by `main`: every command's UI is
/// then the machine-readable one.
static MACHINE_READABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every command's UI machine-readable (Packer's `main` does it for `-machine-readable`
/// anywhere on the command line).
pub fn set_machine_readable(on: bool) {
    MACHINE_READABLE.store(on, std::sync::atomic::Ordering::Relaxed);
}

impl CmdUi {
    /// The UI of the command running: machine-readable when `-machine-readable` was given.
    pub fn current() -> CmdUi {
        CmdUi::new(false)
    }

    pub fn new(machine_readable: bool) -> CmdUi {
        if machine_readable || MACHINE_READABLE.load(std::sync::atomic::Ordering::Relaxed) {
            CmdUi::Machine
        } else {
            CmdUi::Basic
        }
    }

    fn machine_line(kind: &str, data: &[String]) {
        kiln_engine::sinks::MachineSink::new(Box::new(std::io::stdout())).line("", kind, data);
    }

    /// `ui.Say`.
    pub fn say(self, text: &str) {
        match self {
            CmdUi::Basic => println!("{text}"),
            CmdUi::Machine => Self::machine_line("ui", &["say".into(), text.into()]),
        }
    }

    /// `ui.Error`.
    pub fn error(self, text: &str) {
        match self {
            CmdUi::Basic => println!("{text}"),
            CmdUi::Machine => Self::machine_line("ui", &["error".into(), text.into()]),
        }
    }

    /// `ui.Message`.
    pub fn message(self, text: &str) {
        match self {
            CmdUi::Basic => println!("{text}"),
            CmdUi::Machine => Self::machine_line("ui", &["message".into(), text.into()]),
        }
    }

    /// `ui.Machine`: printed only by the machine-readable UI.
    pub fn machine(self, kind: &str, data: &[String]) {
        if self == CmdUi::Machine {
            Self::machine_line(kind, data);
        }
    }

    /// `writeDiags`: every diagnostic in one message, an error when one is, masked.
    pub fn diags(self, d: &Diagnostics, masker: Option<&kiln_engine::ui::Masker>) {
        if d.is_empty() {
            return;
        }
        let text = d.to_string();
        let text = match masker {
            Some(m) => m.mask(&text),
            None => text,
        };
        if d.has_errors() {
            self.error(&text);
        } else {
            self.say(&text);
        }
    }
}

/// Packer's `GetConfigType` for a path that names no HCL2 file (`.pkr.hcl`, `.pkr.json`): one
/// it cannot stat is reported as `"path": stat path: …` before any parsing. `false`: exit 1.
pub fn check_path(path: &std::path::Path) -> bool {
    check_path_ui(path, CmdUi::current())
}

/// [`check_path`], saying the error through `ui`.
pub fn check_path_ui(path: &std::path::Path, ui: CmdUi) -> bool {
    let name = path.to_string_lossy();
    // `-`: a legacy JSON template on standard input.
    if name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json") || name == "-" {
        return true;
    }
    match std::fs::metadata(path) {
        Ok(_) => true,
        Err(e) => {
            ui.error(&format!(
                "{}: stat {name}: {}",
                kiln_engine::value::go_quote(&name),
                kiln_engine::template::go_errno(&e)
            ));
            false
        }
    }
}

/// Splits comma-separated flag values (`-only=a,b` and repeated flags alike).
pub fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Packer's `GetConfigFromHCL`: the template parsed, with the values of its variables collected (`-var`, `-var-file`, `PKR_VAR_*`, auto var
/// files), every diagnostic of that phase printed together (warnings too). `None`: exit 1.
pub fn parse_template(
    path: &std::path::Path,
    vars: &VarFlags,
    warn_undeclared: bool,
) -> Option<kiln_engine::template::Template> {
    parse_template_ui(path, vars, warn_undeclared, CmdUi::current())
}

/// [`parse_template`], saying the diagnostics through `ui`.
pub fn parse_template_ui(
    path: &std::path::Path,
    vars: &VarFlags,
    warn_undeclared: bool,
    ui: CmdUi,
) -> Option<kiln_engine::template::Template> {
    let source = kiln_engine::session::TemplateSource::Path(path.to_path_buf());
    let (t, mut diags) = match kiln_engine::session::parse_partial(&source) {
        Ok(p) => p,
        Err(d) => {
            ui.diags(&d, None);
            return None;
        }
    };
    let inputs = vars.inputs(warn_undeclared);
    diags.extend(kiln_engine::template::variables::collect(&t, &inputs).1);
    ui.diags(&diags, None);
    if diags.has_errors() { None } else { Some(t) }
}

/// Loads a template through the engine door with the flags' variables, in the local run
/// environment, saying any error through `ui`; `None` means exit 1.
pub fn load_template_ui(
    path: &std::path::Path,
    vars: &VarFlags,
    warn_undeclared: bool,
    evaluate_datasources: bool,
    ui: CmdUi,
) -> Option<kiln_engine::session::Session> {
    if !check_path_ui(path, ui) {
        return None;
    }
    let mut inputs = vars.inputs(warn_undeclared);
    let source = kiln_engine::session::TemplateSource::Path(path.to_path_buf());
    let parsed = kiln_engine::session::parse_partial(&source);
    // Packer shows source lines only for the errors of parsing (its later phases hand no
    // file map to the diagnostic writer).
    let (t, mut diags) = match parsed {
        Ok(p) => p,
        Err(d) => {
            ui.diags(&d, None);
            return None;
        }
    };
    // Packer's `Parse` ends with the variables' values given; its diagnostics are written
    // at once (`GetConfigFromHCL`), apart from any later phase's.
    diags.extend(kiln_engine::template::variables::collect(&t, &inputs).1);
    ui.diags(&diags, None);
    if diags.has_errors() {
        return None;
    }
    kiln_engine::diag::forget_all();
    // Said already.
    inputs.warn_undeclared = false;
    let opts = kiln_engine::session::LoadOptions {
        inputs,
        evaluate_datasources,
        sequential: vars.sequential,
        env: std::sync::Arc::new(kiln_engine::components::RunEnv::local()),
        ..Default::default()
    };
    let evaluated = kiln_engine::session::evaluate(t, kiln_engine::diag::Diagnostics::new(), &opts);
    // Files read again meanwhile (var files, for their values' validations) are not shown
    // either: Packer writes these phases' diagnostics without a file map.
    kiln_engine::diag::forget_all();
    match evaluated {
        Ok(s) => Some(s),
        Err(d) => {
            ui.diags(&d, None);
            None
        }
    }
}
