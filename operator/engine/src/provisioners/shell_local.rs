//! `shell-local`: runs commands on the machine running Kiln (not through the communicator), so
//! it works with `communicator = "none"`. Shared with the `shell-local` post-processor; what
//! it shares with the `shell` provisioner is in [`super::shell_common`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::provisioners::shell_common::{
    EnvVars, ShellCommon, check_exit_code, check_scripts, inline_script, render_exec,
    render_runtime, template_data, write_temp_script,
};
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// The operating systems `only_on` may name (Go's names, as Packer's).
const SUPPORTED_OS: [&str; 6] = [
    "darwin", "freebsd", "linux", "openbsd", "solaris", "windows",
];

/// This machine's operating system in Go's words.
fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    }
}

/// The options `shell-local` provisioner and post-processor share.
#[derive(Clone, Debug, Default)]
pub struct ShellLocalConfig {
    pub inline: Vec<String>,
    pub scripts: Vec<PathBuf>,
    pub env: EnvVars,
    pub execute_command: Vec<String>,
    pub inline_shebang: String,
    pub only_on: Vec<String>,
    pub tempfile_extension: String,
    pub valid_exit_codes: Vec<i64>,
}

impl ShellLocalConfig {
    /// Decodes and validates the options (Packer SDK `shell-local` rules).
    pub fn read(r: &mut ConfigReader) -> ShellLocalConfig {
        // The SDK renders `execute_command` itself, when it runs a script.
        r.render_later(&["execute_command"]);
        let command = r.string("command").filter(|c| !c.is_empty());
        let common = ShellCommon::read(r, "%s='%s' ");
        let execute_command = r
            .strings("execute_command")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| {
                vec![
                    "/bin/sh".to_string(),
                    "-c".to_string(),
                    "{{.Vars}} {{.Script}}".to_string(),
                ]
            });
        let only_on = r.strings("only_on").unwrap_or_default();
        let tempfile_extension = r.string("tempfile_extension").unwrap_or_default();
        let use_linux_pathing = r.bool("use_linux_pathing").unwrap_or(false);

        // The SDK's `Validate`: its rules, in its words and order (a rule may report the
        // same error twice, as it does).
        let has_inline = common.inline.as_ref().is_some_and(|i| !i.is_empty());
        let script = common.script.as_ref().filter(|s| !s.is_empty());
        if command.is_none() && !has_inline && common.scripts.is_empty() && script.is_none() {
            r.prepare_error("Command, Inline, Script and Scripts options cannot all be empty.");
        }
        const TOO_MANY: &str = "You may only specify one of the following options: Command, \
            Inline, Script or Scripts. Please consolidate these options in your config.";
        let mut inline_set = has_inline;
        if command.is_some() {
            if has_inline || !common.scripts.is_empty() || script.is_some() {
                r.prepare_error(TOO_MANY);
            } else {
                inline_set = true;
            }
        }
        let mut checked: Vec<String> = common.scripts.clone();
        if let Some(s) = script {
            if !common.scripts.is_empty() || has_inline {
                r.prepare_error(TOO_MANY);
            } else {
                checked = vec![s.clone()];
            }
        }
        // `config.Inline != nil`: given (even empty), or set from `command`.
        if !checked.is_empty() && (common.inline.is_some() || inline_set) {
            r.prepare_error(TOO_MANY);
        }
        check_scripts(r, &checked);
        // An OS Go does not know ends the checks with that error alone (not a MultiError).
        let bad_os = only_on
            .iter()
            .find(|os| !SUPPORTED_OS.contains(&os.as_str()));
        if let Some(os) = bad_os {
            r.prepare_fail(format!(
                "Invalid OS specified in only_on: '{os}'\nSupported OS names: {}",
                SUPPORTED_OS.join(", ")
            ));
        } else if use_linux_pathing
            && let Some(abs) = checked
                .iter()
                .map(|s| std::path::absolute(s).unwrap_or_else(|_| PathBuf::from(s)))
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .find(|p| !p.contains(":/"))
        {
            // The SDK makes each script's absolute path a WSL one (`C:/x` → `/mnt/c/x`);
            // a path without a drive ends the checks with that error alone.
            r.prepare_fail(format!(
                "There was an error splitting your absolute path; expected to find a drive \
                 following the format ':/' but did not: absolute path: {abs}"
            ));
        } else {
            if use_linux_pathing && inline_set {
                r.prepare_error(
                    "Packer is unable to use the Command and Inline features with the \
                     Windows Linux Subsystem. Please use the Script or Scripts options instead",
                );
            }
            common.env.check(r);
        }
        let scripts = common.script_paths();
        let inline = match command {
            Some(c) => vec![c],
            None => common.inline.clone().unwrap_or_default(),
        };
        ShellLocalConfig {
            inline,
            scripts,
            inline_shebang: common.shebang().to_string(),
            env: common.env,
            execute_command,
            only_on,
            tempfile_extension,
            valid_exit_codes: common.valid_exit_codes,
        }
    }

    /// Runs every script (inline commands become one temporary script in `work_dir`), as the
    /// SDK's `shell_local.Run`.
    pub async fn run(
        &self,
        ui: &Ui,
        info: &ComponentInfo,
        generated: &BTreeMap<String, Value>,
        cancel: &CancellationToken,
    ) -> Result<(), ProvisionError> {
        if !self.only_on.is_empty() && !self.only_on.iter().any(|os| os == go_os()) {
            ui.say("Skipping shell-local due to runtime OS");
            return Ok(());
        }
        let mut temp: Option<tempfile::TempPath> = None;
        let scripts: Vec<PathBuf> = if self.inline.is_empty() {
            self.scripts.clone()
        } else {
            // The SDK renders the inline commands once more here, with the build's data
            // (they were rendered when the component was prepared, without it).
            let data = template_data(generated, &[]);
            let inline = self
                .inline
                .iter()
                .map(|c| {
                    render_runtime(c, info, data.clone())
                        .map_err(|message| ProvisionError::Command { message })
                })
                .collect::<Result<Vec<String>, _>>()?;
            let text = inline_script(&inline, &self.inline_shebang, false);
            let path = write_temp_script(&info.env.work_dir, &text, &self.tempfile_extension)?;
            let p = path.to_path_buf();
            temp = Some(path);
            vec![p]
        };
        let vars = self.env.flatten(info, generated);
        for script in &scripts {
            let abs = std::path::absolute(script).unwrap_or_else(|_| script.clone());
            let abs = abs.to_string_lossy();
            let data = template_data(
                generated,
                &[("Vars", &vars), ("Script", &abs), ("Command", &abs)],
            );
            let argv = self
                .execute_command
                .iter()
                .map(|a| render_exec(a, info, data.clone()))
                .collect::<Result<Vec<String>, _>>()?;
            // The SDK renders the command before it says what it runs.
            ui.say(format!("Running local shell script: {}", script.display()));
            // RunWithUi's error (the command did not start, or was stopped) is the SDK's
            // "Error executing script".
            let code = match run_local(&argv, ui, cancel).await {
                Err(ProvisionError::Cancelled { .. } | ProvisionError::Start { .. }) => {
                    return Err(ProvisionError::Script {
                        script: abs.to_string(),
                    });
                }
                r => r?,
            };
            check_exit_code(code, &self.valid_exit_codes)?;
        }
        drop(temp);
        Ok(())
    }
}

/// Runs a local command, streaming its output lines to the UI; cancellation kills it (and
/// the process group it leads). Returns the exit code (128 + the signal's number for a
/// signal).
pub async fn run_local(
    argv: &[String],
    ui: &Ui,
    cancel: &CancellationToken,
) -> Result<i64, ProvisionError> {
    let Some((prog, args)) = argv.split_first() else {
        return Err(ProvisionError::EmptyCommand);
    };
    let start_error = |e: &dyn std::fmt::Display| ProvisionError::Start {
        program: prog.clone(),
        message: e.to_string(),
    };
    // Go's exec.CommandContext does not start a command whose context is already done.
    if cancel.is_cancelled() {
        return Err(ProvisionError::cancelled());
    }
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = crate::process::spawn(&mut cmd).map_err(|e| start_error(&e))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(start_error(&"no output pipes"));
    };
    let mut out = BufReader::new(stdout).lines();
    let mut err = BufReader::new(stderr).lines();
    let (mut out_done, mut err_done) = (false, false);
    while !(out_done && err_done) {
        tokio::select! {
            line = out.next_line(), if !out_done => match line {
                Ok(Some(l)) => ui.say(l),
                _ => out_done = true,
            },
            line = err.next_line(), if !err_done => match line {
                Ok(Some(l)) => ui.error(l),
                _ => err_done = true,
            },
            _ = cancel.cancelled() => {
                kill_group(&child);
                let _ = child.kill().await;
                return Err(ProvisionError::cancelled());
            }
        }
    }
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| start_error(&e))?,
        _ = cancel.cancelled() => {
            kill_group(&child);
            let _ = child.kill().await;
            return Err(ProvisionError::cancelled());
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ok(128 + i64::from(sig));
        }
    }
    Ok(i64::from(status.code().unwrap_or(-1)))
}

fn kill_group(child: &tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .filter(|p| *p > 1)
    {
        // SIGTERM the whole process group the command leads (it was started as its leader).
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

pub struct ShellLocal {
    config: ShellLocalConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(ShellLocal {
        config: ShellLocalConfig::read(r),
    }))
}

#[async_trait]
impl Provisioner for ShellLocal {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        self.config
            .run(ctx.ui, ctx.info, ctx.generated, ctx.cancel)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn options_follow_the_sdk_rules() {
        let c = decode_hcl("command = \"echo hi\"\n", ShellLocalConfig::read).unwrap();
        assert_eq!(c.inline, vec!["echo hi".to_string()]);
        assert_eq!(c.inline_shebang, "/bin/sh -e");
        assert_eq!(c.env.format, "%s='%s' ");
        let e = decode_hcl("inline = []\n", ShellLocalConfig::read).unwrap_err();
        assert!(e[0].contains("cannot all be empty"), "{e:?}");
        let e = decode_hcl(
            "command = \"a\"\ninline = [\"b\"]\n",
            ShellLocalConfig::read,
        )
        .unwrap_err();
        assert!(e[0].contains("You may only specify one of"), "{e:?}");
        let e = decode_hcl(
            "inline = [\"b\"]\nonly_on = [\"macos\"]\n",
            ShellLocalConfig::read,
        )
        .unwrap_err();
        assert!(
            e[0].contains("Invalid OS specified in only_on: 'macos'"),
            "{e:?}"
        );
        // Packer does not look inside execute_command.
        assert!(
            decode_hcl(
                "inline = [\"b\"]\nexecute_command = [\"sh\", \"-c\", \"{{.Vars}}\"]\n",
                ShellLocalConfig::read,
            )
            .is_ok()
        );
    }

    #[tokio::test]
    async fn runs_inline_commands_with_the_environment_and_checks_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let info = ComponentInfo {
            build_name: "b".into(),
            builder_type: "null".into(),
            env: std::sync::Arc::new(crate::components::RunEnv {
                work_dir: dir.path().to_path_buf(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let rec = std::sync::Arc::new(crate::ui::Recorder::default());
        let ui = Ui::new(
            rec.clone(),
            std::sync::Arc::new(crate::ui::Masker::new(Vec::new())),
        );
        let c = decode_hcl(
            "inline = [\"echo \\\"$PACKER_BUILD_NAME|$Q|$0\\\"\", \"exit 4\"]\nenvironment_vars = [\"Q=it's\"]\ntempfile_extension = \".sh\"\nvalid_exit_codes = [4]\n",
            ShellLocalConfig::read,
        )
        .unwrap();
        c.run(&ui, &info, &BTreeMap::new(), &CancellationToken::new())
            .await
            .unwrap();
        let line = rec
            .lines()
            .into_iter()
            .find(|l| l.starts_with("b|"))
            .unwrap_or_else(|| panic!("{:?}", rec.lines()));
        assert!(line.starts_with("b|it's|"), "{line}");
        assert!(line.ends_with(".sh"), "{line}");
        assert!(
            line.contains(&format!("{}/packer-shell", dir.path().display())),
            "{line}"
        );
        // The temporary script is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let c = ShellLocalConfig {
            valid_exit_codes: vec![0],
            ..c
        };
        let e = c
            .run(&ui, &info, &BTreeMap::new(), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(
            e,
            ProvisionError::ExitCode {
                code: 4,
                allowed: vec![0]
            }
        );
    }
}
