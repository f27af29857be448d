//! `kiln init`: Packer's `packer init`, for a tool whose components are built in. The
//! arguments, the template's loading (its variables included) and the messages are Packer's;
//! each `required_plugins` entry that a built-in plugin satisfies (`github.com/hashicorp/docker`,
//! `github.com/hashicorp/qemu`, at a version the constraint accepts) counts as installed, as
//! `validate` counts it: Packer prints nothing for an installed plugin. Kiln downloads no
//! plugin: any other entry is Packer's "Failed getting the … plugin:" with Kiln's reason
//! (exit 1).

use std::path::Path;

use kiln_engine::components::registry::{BUILTIN_PLUGINS, builtin_plugin};

use super::common::{CmdUi, VarFlags, check_path_ui, parse_template_ui};
use super::goflag::{self, Kind};

const HELP: &str = "Usage: packer init [options] TEMPLATE

  Install all the missing plugins required in a Packer config. Note that Packer
  does not have a state.

  This is the first command that should be executed when working with a new
  or existing template.

  This command is always safe to run multiple times. Though subsequent runs may
  give errors, this command will never delete anything.

Options:
  -upgrade                     On top of installing missing plugins, update
                               installed plugins to the latest available
                               version, if there is a new higher one. Note that
                               this still takes into consideration the version
                               constraint of the config.
  -force                       Forces reinstallation of plugins, even if already
                               installed.";

/// Runs `init` with the arguments after the command name; the exit code.
pub fn run(args: &[String], machine_readable: bool) -> i32 {
    let ui = CmdUi::new(machine_readable);
    let mut flags = vec![("upgrade", Kind::Bool), ("force", Kind::Bool)];
    flags.extend_from_slice(goflag::META);
    let p = match goflag::parse_command(args, HELP, &flags) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let [path] = p.args.as_slice() else {
        super::common::CmdUi::current().say(HELP);
        return 1;
    };
    let path = Path::new(path);
    let vars = VarFlags::from_parsed(&p);
    if !check_path_ui(path, ui) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(path) {
        return legacy(path, &vars, ui);
    }
    // `-upgrade` and `-force` change nothing: a built-in plugin is the only version there
    // is, and Kiln installs no other.
    let Some(t) = parse_template_ui(path, &vars, false, ui) else {
        return 1;
    };
    // `PluginRequirements`: a name required twice.
    if !t.plugin_diags.is_empty() {
        ui.diags(&t.plugin_diags, None);
        if t.plugin_diags.has_errors() {
            return 1;
        }
    }
    if t.required_plugins.is_empty() {
        ui.message(super::plugins::NONE_REQUIRED.trim_end_matches('\n'));
        return 0;
    }
    let mut code = 0;
    for req in &t.required_plugins {
        let source = req.source.to_ascii_lowercase();
        let why = match builtin_plugin(req) {
            Some(Ok(_)) => continue,
            Some(Err(version)) => format!(
                "Kiln does not download plugins: its components are built in, and its {source} is version {version}, which the constraint {} does not accept.",
                kiln_engine::value::go_quote(&req.version)
            ),
            None => {
                let builtin: Vec<String> = BUILTIN_PLUGINS
                    .iter()
                    .map(|(s, v)| format!("{s} {v}"))
                    .collect();
                format!(
                    "Kiln does not download plugins: its components are built in ({}, and Packer's own builders, provisioners and post-processors it implements); it has no {source}.",
                    builtin.join(", ")
                )
            }
        };
        ui.error(&format!(
            "Failed getting the {} plugin:",
            kiln_engine::value::go_quote(&source)
        ));
        ui.error(&why);
        code = 1;
    }
    code
}

/// `init` and `plugins required` on a legacy JSON template: Packer reads it (and its var
/// files), then says that plugins are for HCL2 templates only (exit 1).
pub fn legacy(path: &Path, vars: &VarFlags, ui: CmdUi) -> i32 {
    if super::legacy::load(Some(path), vars, ui).is_none() {
        return 1;
    }
    ui.diags(
        &kiln_engine::diag::Diagnostic::error(
            "Packer plugins currently only works with HCL2 configuration templates",
            "Please manually install plugins with the plugins command or use a HCL2 configuration that will do that for you.",
        )
        .into(),
        None,
    );
    1
}
