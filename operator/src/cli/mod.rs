//! The command line, mirroring Packer's commands and single-dash flags.

mod build;
mod channel;
mod common;
mod console;
mod fix;
mod fmt;
mod goflag;
mod init;
mod inspect;
mod legacy;
mod plugins;
mod upgrade;
mod validate;
mod verify;

use clap::{Parser, Subcommand};

/// Kiln runs Packer HCL2 templates: locally with `kiln build`, and on Kubernetes as
/// ImageBuild resources.
#[derive(Parser, Debug)]
#[command(name = "kiln", version, about, disable_help_subcommand = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build image(s) from a template (file or directory).
    Build(build::BuildArgs),
    /// Check that a template is valid.
    Validate(validate::ValidateArgs),
    /// Show the components of a template.
    Inspect(inspect::InspectArgs),
    /// Rewrite HCL2 config files to the canonical format.
    Fmt(fmt::FmtArgs),
    /// Evaluate expressions in a template's context (one per line on stdin).
    Console(console::ConsoleArgs),
    /// Show, promote or roll back an ImageChannel as a manifest to commit (GitOps).
    Channel(channel::ChannelArgs),
    /// Print the CRD YAML of Kiln's resources.
    Crds,
    /// Run the Kubernetes operator (ImageTemplate, ImageBuild and ImageChannel controllers).
    Operator(crate::controller::OperatorArgs),
    /// Run one source of an ImageBuild (the command of the build's Job pods).
    Runner(crate::runner::RunnerArgs),
    /// Copy this binary to a path (the init container of a runner pod that runs in a
    /// builder's image: the image gets Kiln without containing it).
    #[command(hide = true)]
    InstallSelf {
        /// Where to write the executable.
        path: std::path::PathBuf,
    },
    /// Print the version.
    Version,
}

/// Copies the running executable to `path` (mode 0755).
fn install_self(path: &std::path::Path) -> i32 {
    use std::os::unix::fs::PermissionsExt;
    let result = std::env::current_exe().and_then(|exe| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&exe, path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: could not install kiln to {}: {e}", path.display());
            1
        }
    }
}

/// Packer users write `-var x=y` and `-only=a`; clap wants `--var`. Rewrites single-dash
/// long flags (not `-` alone, not negative numbers, not values after `--`).
pub fn normalise_args(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut passthrough = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || passthrough {
            out.push(a);
            continue;
        }
        if a == "--" {
            passthrough = true;
            out.push(a);
            continue;
        }
        let is_single_long = a.starts_with('-')
            && !a.starts_with("--")
            && a.len() > 2
            && a.as_bytes()[1].is_ascii_alphabetic();
        if is_single_long {
            out.push(format!("-{a}"));
        } else {
            out.push(a);
        }
    }
    out
}

/// The commands `kiln` lists without a command, as Packer's (mitchellh/cli) usage does; the
/// descriptions of the commands Packer has are Packer's.
const COMMANDS: &[(&str, &str)] = &[
    ("build", "build image(s) from template"),
    (
        "channel",
        "show, promote or roll back an ImageChannel as a manifest",
    ),
    (
        "console",
        "creates a console for testing variable interpolation",
    ),
    ("crds", "print the CRD YAML of Kiln's resources"),
    ("fix", "fixes templates from old versions of packer"),
    ("fmt", "Rewrites HCL2 config files to canonical format"),
    (
        "hcl2_upgrade",
        "transform a JSON template into an HCL2 configuration",
    ),
    ("init", "Install missing plugins or upgrade plugins"),
    ("inspect", "see components of a template"),
    ("operator", "run the Kubernetes operator"),
    ("plugins", "Interact with Packer plugins and catalog"),
    ("runner", "run one source of an ImageBuild (runner pods)"),
    ("validate", "check that a template is valid"),
    (
        "verify-attestation",
        "verify a signed attestation against policy",
    ),
    ("version", "Prints the Kiln version"),
];

/// Packer's top-level usage text (on stdout, as Packer prints it).
fn usage() -> String {
    let width = COMMANDS.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 4;
    let mut s = String::from(
        "Usage: kiln [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n",
    );
    for (name, what) in COMMANDS {
        s.push_str(&format!("    {name:<width$}{what}\n"));
    }
    s
}

fn print_version() -> i32 {
    println!(
        "Kiln v{} (Packer {} template language)",
        env!("CARGO_PKG_VERSION"),
        kiln_engine::template::PACKER_VERSION
    );
    0
}

/// Runs the CLI; returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    // As Packer's `main`: the first `-machine-readable`, wherever it is, is taken out of the
    // arguments before anything else and makes the commands' UI machine-readable.
    let mut args = args;
    let machine_readable = match args.iter().skip(1).position(|a| a == "-machine-readable") {
        Some(i) => {
            args.remove(i + 1);
            true
        }
        None => false,
    };
    common::set_machine_readable(machine_readable);
    // Before any command, as Packer's CLI: no command or an unknown one prints the usage and
    // exits 127; `-h`/`--help` print it and exit 0; `-v`/`--version` print the version.
    match args.get(1).map(String::as_str) {
        None => {
            println!("{}", usage());
            return 127;
        }
        Some("-h" | "-help" | "--help") => {
            println!("{}", usage());
            return 0;
        }
        Some("-v" | "-version" | "--version") => return print_version(),
        // Flags parsed as Go's `flag` package does (Packer's own parsing and messages).
        Some("hcl2_upgrade") => {
            let rest = args[2..].to_vec();
            return printing(|| deep_stack(move || upgrade::run(&rest)));
        }
        Some("fix") => {
            let rest = args[2..].to_vec();
            return printing(|| deep_stack(move || fix::run(&rest)));
        }
        Some("plugins") => {
            let rest = args[2..].to_vec();
            return printing(|| deep_stack(move || plugins::run(&rest)));
        }
        Some("verify-attestation") => {
            let rest = args[2..].to_vec();
            return printing(|| verify::run(&rest));
        }
        Some("init") => {
            let rest = args[2..].to_vec();
            return printing(|| deep_stack(move || init::run(&rest, machine_readable)));
        }
        Some(c) if !COMMANDS.iter().any(|(n, _)| *n == c) && c != "install-self" => {
            println!("{}", usage());
            return 127;
        }
        _ => {}
    }
    // Packer's commands parse their flags with Go's flag package (its messages, its usage
    // texts).
    let parsed = match args.get(1).map(String::as_str) {
        Some("build") => Some(build::parse_args(&args[2..], machine_readable).map(Command::Build)),
        Some("validate") => {
            Some(validate::parse_args(&args[2..], machine_readable).map(Command::Validate))
        }
        Some("inspect") => {
            Some(inspect::parse_args(&args[2..], machine_readable).map(Command::Inspect))
        }
        Some("console") => Some(console::parse_args(&args[2..]).map(Command::Console)),
        Some("fmt") => Some(fmt::parse_args(&args[2..]).map(Command::Fmt)),
        _ => None,
    };
    let cli = match parsed {
        Some(Ok(command)) => Cli { command },
        Some(Err(code)) => return code,
        None => match Cli::try_parse_from(normalise_args(args)) {
            Ok(c) => c,
            Err(e) => {
                let _ = e.print();
                return match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => 0,
                    _ => 1,
                };
            }
        },
    };
    if matches!(cli.command, Command::Operator(_)) {
        crate::controller::memory::limit_arenas();
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if !matches!(cli.command, Command::Operator(_) | Command::Runner(_)) {
        // The local commands read legacy JSON templates up to Go's 10000 levels of nesting
        // and walk them recursively: more stack than tokio's 2 MiB default.
        builder.thread_stack_size(LOCAL_STACK);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: could not start the runtime: {e}");
            return 1;
        }
    };
    rt.block_on(async move {
        match cli.command {
            Command::Build(a) => build::run(a).await,
            Command::Validate(a) => validate::run(a).await,
            Command::Inspect(a) => printing(|| deep_stack(move || inspect::run(a))),
            Command::Fmt(a) => printing(|| fmt::run(a)),
            Command::Console(a) => printing(|| deep_stack(move || console::run(a))),
            Command::Channel(a) => channel::run(a),
            Command::Operator(a) => crate::controller::run(a).await,
            Command::Runner(a) => crate::runner::run(a).await,
            Command::InstallSelf { path } => install_self(&path),
            Command::Crds => {
                print!("{}", kiln_crds::crds_yaml());
                0
            }
            Command::Version => print_version(),
        }
    })
}

/// The stack of the threads that run local commands (reserved, touched only as used).
const LOCAL_STACK: usize = 512 << 20;

/// Runs `f` on a thread whose stack holds the deepest JSON document the legacy reader
/// accepts (10000 levels, Go's limit), which the conversions walk recursively.
/// Inside a runtime, the thread enters it (data sources reach it with `Handle::current`).
fn deep_stack(f: impl FnOnce() -> i32 + Send + 'static) -> i32 {
    let handle = tokio::runtime::Handle::try_current().ok();
    let run = move || {
        let _guard = handle.as_ref().map(|h| h.enter());
        f()
    };
    match std::thread::Builder::new()
        .stack_size(LOCAL_STACK)
        .spawn(run)
    {
        Ok(h) => h.join().unwrap_or(1),
        Err(e) => {
            eprintln!("Error: could not start a thread: {e}");
            1
        }
    }
}

/// Runs a command that only prints (no child processes, no sockets) with SIGPIPE at its
/// default, as Packer (Go) does for stdout: `kiln console … | head` ends quietly when `head`
/// closes the pipe, instead of panicking on a failed print.
fn printing(run: impl FnOnce() -> i32) -> i32 {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: restoring the default disposition; no handler runs Rust code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_flags_become_long() {
        let got = normalise_args(
            [
                "kiln",
                "build",
                "-var",
                "a=b",
                "-only=x",
                "-",
                "-1",
                "t.pkr.hcl",
                "--",
                "-x",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        );
        assert_eq!(
            got,
            vec![
                "kiln",
                "build",
                "--var",
                "a=b",
                "--only=x",
                "-",
                "-1",
                "t.pkr.hcl",
                "--",
                "-x"
            ]
        );
    }
}
