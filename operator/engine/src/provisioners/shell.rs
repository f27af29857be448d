//! `shell`: uploads scripts (or inline commands made into one) through the communicator and
//! runs them, as Packer's shell provisioner does.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::communicator::{Communicator, ExitStatus, UiOutput};
use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::provisioners::shell_common::{
    EnvVars, ShellCommon, check_exit_code, inline_script, render_exec, template_data,
    write_temp_script,
};
use crate::template::ConfigReader;

/// The exit code Packer reports for a command that ended without a status (a disconnect).
pub const CMD_DISCONNECT: i64 = 2_300_218;

#[derive(Clone, Debug)]
pub struct ShellConfig {
    pub inline: Option<Vec<String>>,
    pub scripts: Vec<PathBuf>,
    pub env: EnvVars,
    pub use_env_var_file: bool,
    pub execute_command: String,
    /// `inline_shebang` as given: when unset, a first inline line starting with `#!` is the
    /// shebang (Packer 1.13 and later).
    pub inline_shebang: Option<String>,
    pub remote_folder: String,
    pub remote_file: String,
    pub remote_path: String,
    pub skip_clean: bool,
    pub start_retry_timeout: Duration,
    pub expect_disconnect: bool,
    pub pause_after: Duration,
    pub valid_exit_codes: Vec<i64>,
    pub binary: bool,
}

fn random_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 9999
}

impl ShellConfig {
    pub fn read(r: &mut ConfigReader) -> ShellConfig {
        // Packer renders `execute_command` itself, when it runs a script.
        r.render_later(&["execute_command"]);
        let use_env_var_file = r.bool("use_env_var_file").unwrap_or(false);
        let common = ShellCommon::read(
            r,
            if use_env_var_file {
                "export %s='%s'\n"
            } else {
                "%s='%s' "
            },
        );
        let execute_command = r
            .string("execute_command")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| {
                if use_env_var_file {
                    "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}".to_string()
                } else {
                    "chmod +x {{.Path}}; {{.Vars}} {{.Path}}".to_string()
                }
            });
        let remote_folder = r
            .string("remote_folder")
            .unwrap_or_else(|| "/tmp".to_string());
        let remote_file = r
            .string("remote_file")
            .unwrap_or_else(|| format!("script_{}.sh", random_suffix()));
        let remote_path = r
            .string("remote_path")
            .unwrap_or_else(|| format!("{}/{}", remote_folder.trim_end_matches('/'), remote_file));
        let skip_clean = r.bool("skip_clean").unwrap_or(false);
        let start_retry_timeout = r
            .duration("start_retry_timeout")
            .unwrap_or(Duration::from_secs(300));
        let expect_disconnect = r.bool("expect_disconnect").unwrap_or(false);
        let pause_after = r.duration("pause_after").unwrap_or_default();
        let binary = r.bool("binary").unwrap_or(false);

        // The shell provisioner's `Prepare`: its rules, in its words and order. An empty
        // `inline` counts as none.
        let inline = common.inline.clone().filter(|i| !i.is_empty());
        common.check_one_script(r);
        common.check_script_or_inline(r);
        common.env.check(r);
        let scripts = common.script_paths();
        ShellConfig {
            inline,
            scripts,
            env: common.env,
            use_env_var_file,
            execute_command,
            inline_shebang: common.inline_shebang,
            remote_folder,
            remote_file,
            remote_path,
            skip_clean,
            start_retry_timeout,
            expect_disconnect,
            pause_after,
            valid_exit_codes: common.valid_exit_codes,
            binary,
        }
    }

    fn inline_script(&self) -> String {
        inline_script(
            self.inline.as_deref().unwrap_or_default(),
            self.inline_shebang.as_deref().unwrap_or("/bin/sh -e"),
            self.inline_shebang.is_none(),
        )
    }
}

/// Exit code as Packer sees it: a signal is 128 + its number, a disconnect 2300218.
fn exit_code(s: &ExitStatus) -> i64 {
    match s {
        ExitStatus::Code(c) => i64::from(*c),
        ExitStatus::Signal(name) => {
            let n = match name.as_str() {
                "HUP" => 1,
                "INT" => 2,
                "QUIT" => 3,
                "ILL" => 4,
                "ABRT" => 6,
                "FPE" => 8,
                "KILL" => 9,
                "USR1" => 10,
                "SEGV" => 11,
                "USR2" => 12,
                "PIPE" => 13,
                "ALRM" => 14,
                "TERM" => 15,
                _ => 0,
            };
            128 + n
        }
        ExitStatus::NoStatus => CMD_DISCONNECT,
    }
}

/// Runs `f` until it succeeds or `timeout` has passed since the first try (Packer's
/// `retry.Config{StartTimeout}`).
async fn retry<T, F, Fut>(
    timeout: Duration,
    cancel: &CancellationToken,
    ui: &crate::ui::Ui,
    mut f: F,
) -> Result<T, ProvisionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProvisionError>>,
{
    // The SDK's retry.Config.Run: after a failure, give up once the start timeout has
    // passed, else wait 2 seconds and try again; the retryable error is only logged.
    let _ = ui;
    let started = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                tracing::debug!("Retryable error: {e}");
                if cancel.is_cancelled() || started.elapsed() >= timeout {
                    return Err(e);
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = cancel.cancelled() => return Err(e),
                }
            }
        }
    }
}

/// Runs a command of the provisioner's own (chmod, rm); anything but exit 0 is an error
/// under `context`.
async fn run_plain(
    comm: &dyn Communicator,
    cmd: &str,
    context: &str,
    cancel: &CancellationToken,
) -> Result<(), ProvisionError> {
    let mut out = crate::communicator::Collect::default();
    match comm.start(cmd, &mut out, cancel).await {
        Ok(ExitStatus::Code(0)) => Ok(()),
        Ok(other) => Err(ProvisionError::Communicator {
            context: context.to_string(),
            message: format!("{cmd:?}: {other}: {}", out.stderr.join("\n")),
        }),
        Err(e) => Err(ProvisionError::comm(context, e)),
    }
}

pub struct Shell {
    config: ShellConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(Shell {
        config: ShellConfig::read(r),
    }))
}

impl Shell {
    pub fn from_config(config: ShellConfig) -> Shell {
        Shell { config }
    }
}

#[async_trait]
impl Provisioner for Shell {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        let c = &self.config;
        let comm: &dyn Communicator = &**ctx.comm;
        let ui = ctx.ui;
        let vars = c.env.flatten(ctx.info, ctx.generated);

        let mut _inline_file = None;
        let scripts: Vec<PathBuf> = if c.inline.is_some() {
            let path = write_temp_script(&ctx.info.env.work_dir, &c.inline_script(), "")?;
            let p = path.to_path_buf();
            _inline_file = Some(path);
            vec![p]
        } else {
            c.scripts.clone()
        };

        let env_var_file = if c.use_env_var_file {
            let path = format!(
                "{}/varfile_{}.sh",
                c.remote_folder.trim_end_matches('/'),
                random_suffix()
            );
            let (path_ref, vars_ref) = (&path, &vars);
            retry(c.start_retry_timeout, ctx.cancel, ui, || async move {
                let path = path_ref;
                let mut data = vars_ref.as_bytes();
                comm.upload(path, &mut data, 0o644)
                    .await
                    .map_err(|e| ProvisionError::Upload {
                        what: "envVarFile".into(),
                        message: e.to_string(),
                    })
            })
            .await?;
            Some(path)
        } else {
            None
        };

        let command = render_exec(
            &c.execute_command,
            ctx.info,
            template_data(
                ctx.generated,
                &[
                    ("Vars", &vars),
                    ("EnvVarFile", env_var_file.as_deref().unwrap_or("")),
                    ("Path", &c.remote_path),
                ],
            ),
        )?;

        for script in &scripts {
            ui.say(format!(
                "Provisioning with shell script: {}",
                script.display()
            ));
            let mut data =
                tokio::fs::read(script)
                    .await
                    .map_err(|e| ProvisionError::ScriptNotFound {
                        path: script.display().to_string(),
                        message: e.to_string(),
                    })?;
            // the inline script is in memory now: its file goes before anything runs, so a
            // run killed while the script runs leaves no temporary file behind
            if _inline_file.as_deref() == Some(script.as_path()) {
                _inline_file = None;
            }
            if !c.binary {
                data = String::from_utf8_lossy(&data)
                    .replace("\r\n", "\n")
                    .into_bytes();
            }
            let (data, command) = (&data, &command);
            let cancel = ctx.cancel;
            let status = retry(c.start_retry_timeout, ctx.cancel, ui, || async move {
                let mut r = data.as_slice();
                comm.upload(&c.remote_path, &mut r, 0o755)
                    .await
                    .map_err(|e| ProvisionError::Upload {
                        what: "script".into(),
                        message: e.to_string(),
                    })?;
                // The SSH communicator's upload already sets the mode: one session less.
                // Packer starts it, waits, and looks at neither its output nor its status:
                // only a command that cannot start fails (and is retried).
                if comm.kind() != "ssh" {
                    let mut quiet = crate::communicator::Collect::default();
                    comm.start(&format!("chmod 0755 {}", c.remote_path), &mut quiet, cancel)
                        .await
                        .map_err(|e| {
                            ProvisionError::comm(
                                "Error chmodding script file to 0755 in remote machine",
                                e,
                            )
                        })?;
                }
                let mut out = UiOutput(ui.clone());
                comm.start(command, &mut out, cancel)
                    .await
                    .map_err(|e| ProvisionError::Command {
                        message: e.to_string(),
                    })
            })
            .await?;
            match &status {
                ExitStatus::NoStatus if c.expect_disconnect => {
                    ui.message("Remote end disconnected (expected: expect_disconnect = true).");
                }
                ExitStatus::NoStatus if !c.valid_exit_codes.contains(&CMD_DISCONNECT) => {
                    return Err(ProvisionError::Disconnected {
                        code: CMD_DISCONNECT,
                    });
                }
                ExitStatus::Signal(s) => {
                    let code = exit_code(&status);
                    if !c.valid_exit_codes.contains(&code) {
                        return Err(ProvisionError::Signal {
                            signal: s.clone(),
                            code,
                            allowed: c.valid_exit_codes.clone(),
                        });
                    }
                }
                other => check_exit_code(exit_code(other), &c.valid_exit_codes)?,
            }
            if !c.skip_clean {
                // Retried: the script may have rebooted the machine.
                let rm = format!("rm -f {}", c.remote_path);
                let context = format!("Error removing temporary script at {}", c.remote_path);
                retry(c.start_retry_timeout, ctx.cancel, ui, || {
                    run_plain(comm, &rm, &context, ctx.cancel)
                })
                .await?;
            }
        }
        if let Some(p) = &env_var_file
            && !c.skip_clean
        {
            let rm = format!("rm -f {p}");
            let context = format!("Error removing temporary envVarFile at {p}");
            retry(c.start_retry_timeout, ctx.cancel, ui, || {
                run_plain(comm, &rm, &context, ctx.cancel)
            })
            .await?;
        }
        if !c.pause_after.is_zero() {
            ui.say(format!(
                "Pausing {:?} before the next provisioner...",
                c.pause_after
            ));
            tokio::select! {
                _ = tokio::time::sleep(c.pause_after) => {}
                _ = ctx.cancel.cancelled() => return Err(ProvisionError::Cancelled {
                    during: Some("pause_after".into()),
                }),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn defaults_and_validation() {
        let c = decode_hcl("inline = [\"echo hi\"]\n", ShellConfig::read).unwrap();
        assert_eq!(c.execute_command, "chmod +x {{.Path}}; {{.Vars}} {{.Path}}");
        assert_eq!(c.inline_shebang, None);
        assert!(c.remote_path.starts_with("/tmp/script_"));
        assert_eq!(c.start_retry_timeout, Duration::from_secs(300));
        assert_eq!(c.valid_exit_codes, vec![0]);
        let e = decode_hcl("inline = []\n", ShellConfig::read).unwrap_err();
        assert!(
            e[0].contains("Either a script file or inline script must be specified."),
            "{e:?}"
        );
        let e = decode_hcl("", ShellConfig::read).unwrap_err();
        assert!(
            e[0].contains("Either a script file or inline script"),
            "{e:?}"
        );
        let e = decode_hcl(
            "inline = [\"x\"]\nenvironment_vars = [\"=x\"]\n",
            ShellConfig::read,
        )
        .unwrap_err();
        assert!(e[0].contains("not in format 'key=value'"), "{e:?}");
    }

    #[test]
    fn inline_shebang_first_line_wins() {
        let c = decode_hcl(
            "inline = [\"#!/bin/bash\", \"echo hi\"]\n",
            ShellConfig::read,
        )
        .unwrap();
        assert_eq!(c.inline_script(), "#!/bin/bash\necho hi\n");
        let c = decode_hcl("inline = [\"echo hi\"]\n", ShellConfig::read).unwrap();
        assert_eq!(c.inline_script(), "#!/bin/sh -e\necho hi\n");
    }

    #[test]
    fn vars_and_env_var_file_format() {
        let c = decode_hcl(
            "inline = [\"x\"]\nenvironment_vars = [\"B=it's\"]\nenv = { A = \"1\" }\nuse_env_var_file = true\n",
            ShellConfig::read,
        )
        .unwrap();
        let info = ComponentInfo {
            build_name: "b".into(),
            builder_type: "null".into(),
            ..Default::default()
        };
        assert_eq!(
            c.env.flatten(&info, &std::collections::BTreeMap::new()),
            "export A='1'\nexport B='it'\"'\"'s'\nexport PACKER_BUILDER_TYPE='null'\nexport PACKER_BUILD_NAME='b'\n"
        );
        assert_eq!(
            c.execute_command,
            "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
        );
    }
}
