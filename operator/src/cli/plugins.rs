//! `kiln plugins`: Packer's plugin subcommands, for a tool whose components are built in.
//! `installed` lists no plugin binary (Kiln uses none); `required PATH` lists the
//! `packer { required_plugins { … } }` entries of a template as Packer does
//! (`NAME SOURCE "CONSTRAINT"`, in the template's order; Packer would add the paths of the
//! matching plugin binaries installed, Kiln has none); `install` and `remove` say that Kiln
//! installs no plugins. The usage texts are Packer's (on stdout, exit 1).

const USAGE: &str = r#"Usage: packer plugins <subcommand> [options] [args]
  This command groups subcommands for interacting with Packer plugins.

Related but not under the "plugins" command :

- "packer init <path>" will install all plugins required by a config.

Subcommands:
    install      Install latest Packer plugin [matching version constraint]
    installed    List all installed Packer plugin binaries
    remove       Remove Packer plugins [matching a version]
    required     List plugins required by a config
"#;

const REQUIRED_USAGE: &str = r#"Usage: packer plugins required <path>

  This command will list every Packer plugin required by a Packer config, in
  packer.required_plugins blocks. All binaries matching the required version
  constrain and the current OS and Architecture will be listed. The most recent
  version (and the first of the list) will be the one picked by Packer during a
  build.

  Ex: packer plugins required require.pkr.hcl
  Ex: packer plugins required path/to/folder/
"#;

/// Packer's words when a template requires no plugin (on stdout, exit 0).
pub const NONE_REQUIRED: &str = "
No plugins requirement found, make sure you reference a Packer config
containing a packer.required_plugins block. See
https://www.packer.io/docs/templates/hcl_templates/blocks/packer
for more info.
";

/// Runs `kiln plugins ARGS…`; returns the exit code.
pub fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("installed") => 0,
        Some("required") => {
            let rest = &args[1..];
            let help = REQUIRED_USAGE.trim_end();
            let p = match super::goflag::parse_command(rest, help, super::goflag::META) {
                Ok(p) => p,
                Err(code) => return code,
            };
            match p.args.as_slice() {
                [path] => required(path, &super::common::VarFlags::from_parsed(&p)),
                _ => {
                    print!("{REQUIRED_USAGE}");
                    1
                }
            }
        }
        Some("install" | "remove") => {
            println!(
                "Error: Kiln's components are built in: it installs and removes no plugins \
                 (the docker and qemu builders are part of the kiln binary)."
            );
            1
        }
        _ => {
            print!("{USAGE}");
            1
        }
    }
}

fn required(path: &str, vars: &super::common::VarFlags) -> i32 {
    let path = std::path::Path::new(path);
    if !super::common::check_path(path) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(path) {
        return super::init::legacy(path, vars, super::common::CmdUi::current());
    }
    match super::common::parse_template(path, vars, false) {
        Some(t) => {
            // `PluginRequirements`: a name required twice.
            if !t.plugin_diags.is_empty() {
                super::common::print_diags(&t.plugin_diags, None);
                if t.plugin_diags.has_errors() {
                    return 1;
                }
            }
            let ui = super::common::CmdUi::current();
            if t.required_plugins.is_empty() {
                ui.message(NONE_REQUIRED.strip_suffix('\n').unwrap_or(NONE_REQUIRED));
                return 0;
            }
            for p in &t.required_plugins {
                ui.message(&format!(
                    "{} {} {}",
                    p.local_name,
                    p.source,
                    kiln_engine::value::go_quote(&p.version)
                ));
            }
            0
        }
        None => 1,
    }
}
