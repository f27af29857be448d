//! `shell`: uploads scripts (or inline commands made into one) through the communicator and
//! runs them, as Packer's shell provisioner does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::communicator::{Communicator, ExitStatus, UiOutput};
use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::shell_local::render_exec;
use crate::template::ConfigReader;
use crate::value::Value;

/// The exit code Packer reports for a command that ended without a status (a disconnect).
pub const CMD_DISCONNECT: i64 = 2_300_218;

#[derive(Clone, Debug)]
pub struct ShellConfig {
    pub inline: Option<Vec<String>>,
    pub scripts: Vec<PathBuf>,
    pub environment_vars: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub env_var_format: String,
    pub use_env_var_file: bool,
    pub execute_command: String,
    pub inline_shebang: String,
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
        let inline = r.strings("inline");
        let script = r.string("script");
        let scripts_list = r.strings("scripts").unwrap_or_default();
        let environment_vars = r.strings("environment_vars").unwrap_or_default();
        let env = r.string_map("env").unwrap_or_default();
        let use_env_var_file = r.bool("use_env_var_file").unwrap_or(false);
        let env_var_format = r.string("env_var_format").unwrap_or_else(|| {
            if use_env_var_file {
                "export %s='%s'\n".to_string()
            } else {
                "%s='%s' ".to_string()
            }
        });
        let execute_command = r.string("execute_command").unwrap_or_else(|| {
            if use_env_var_file {
                "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}".to_string()
            } else {
                "chmod +x {{.Path}}; {{.Vars}} {{.Path}}".to_string()
            }
        });
        let inline_shebang = r
            .string("inline_shebang")
            .unwrap_or_else(|| "/bin/sh -e".to_string());
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
        let valid_exit_codes = match r.any("valid_exit_codes") {
            Some(Value::List(items)) => items
                .iter()
                .filter_map(|v| v.to_number().map(|n| n as i64))
                .collect(),
            Some(_) => {
                r.error_at(
                    "valid_exit_codes",
                    "Incorrect attribute value type",
                    "Inappropriate value for attribute \"valid_exit_codes\": list of number required.",
                );
                vec![0]
            }
            None => vec![0],
        };

        let mut scripts: Vec<PathBuf> = Vec::new();
        if script.is_some() && !scripts_list.is_empty() {
            r.error(
                "Invalid shell config",
                "Only one of script or scripts can be specified.",
            );
        }
        if let Some(s) = &script {
            scripts.push(PathBuf::from(s));
        }
        scripts.extend(scripts_list.iter().map(PathBuf::from));
        let inline_empty = inline.as_ref().is_some_and(|i| i.is_empty());
        if inline_empty && scripts.is_empty() {
            r.error_at(
                "inline",
                "Invalid shell config",
                "The inline list is empty: give at least one command. Either a script file or inline script must be specified.",
            );
        } else if scripts.is_empty() && inline.is_none() {
            r.error(
                "Invalid shell config",
                "Either a script file or inline script must be specified.",
            );
        } else if !scripts.is_empty() && inline.is_some() {
            r.error(
                "Invalid shell config",
                "Only a script file or an inline script can be specified, not both.",
            );
        }
        for s in &scripts {
            if let Err(e) = std::fs::metadata(s) {
                r.error(
                    "Invalid script",
                    format!("Bad script '{}': {e}", s.display()),
                );
            }
        }
        for kv in &environment_vars {
            match kv.split_once('=') {
                Some((k, _)) if !k.is_empty() => {}
                _ => r.error_at(
                    "environment_vars",
                    "Invalid environment variable",
                    format!("Environment variable not in format 'key=value': {kv}"),
                ),
            }
        }
        ShellConfig {
            inline,
            scripts,
            environment_vars,
            env,
            env_var_format,
            use_env_var_file,
            execute_command,
            inline_shebang,
            remote_folder,
            remote_file,
            remote_path,
            skip_clean,
            start_retry_timeout,
            expect_disconnect,
            pause_after,
            valid_exit_codes,
            binary,
        }
    }

    /// The environment: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE (and PACKER_HTTP_ADDR when the
    /// build serves files), environment_vars, env; sorted, single quotes escaped.
    pub fn flattened_vars(
        &self,
        info: &ComponentInfo,
        generated: &BTreeMap<String, Value>,
    ) -> String {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        vars.insert("PACKER_BUILD_NAME".into(), info.build_name.clone());
        vars.insert("PACKER_BUILDER_TYPE".into(), info.builder_type.clone());
        if let Some(Value::String(addr)) = generated.get("PackerHTTPAddr")
            && !addr.is_empty()
        {
            vars.insert("PACKER_HTTP_ADDR".into(), addr.to_string());
        }
        for kv in &self.environment_vars {
            if let Some((k, v)) = kv.split_once('=') {
                vars.insert(k.to_string(), v.to_string());
            }
        }
        for (k, v) in &self.env {
            vars.insert(k.clone(), v.clone());
        }
        let mut out = String::new();
        for (k, v) in vars {
            let escaped = v.replace('\'', "'\"'\"'");
            out.push_str(&sprintf2(&self.env_var_format, &k, &escaped));
        }
        out
    }

    fn inline_script(&self) -> String {
        let lines = self.inline.clone().unwrap_or_default();
        let mut text = String::new();
        let mut body = lines.as_slice();
        // Since Packer 1.13 a first line starting with `#!` is the shebang.
        if let Some(first) = lines.first()
            && first.starts_with("#!")
        {
            text.push_str(first);
            text.push('\n');
            body = &lines[1..];
        } else {
            text.push_str(&format!("#!{}\n", self.inline_shebang));
        }
        for l in body {
            text.push_str(l);
            text.push('\n');
        }
        text
    }
}

/// Go's `Sprintf(format, a, b)` for the `%s` verbs env_var_format uses (`\n` escapes too).
fn sprintf2(format: &str, a: &str, b: &str) -> String {
    let mut out = String::new();
    let mut args = [a, b].into_iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('s') | Some('v') | Some('q') => {
                    out.push_str(args.next().unwrap_or("%!s(MISSING)"))
                }
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    out
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
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                if cancel.is_cancelled() || started.elapsed() + delay > timeout {
                    return Err(e);
                }
                ui.message(format!("Retryable error: {e:#}"));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => return Err(e),
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn run_plain(
    comm: &dyn Communicator,
    cmd: &str,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let mut out = crate::communicator::Collect::default();
    match comm.start(cmd, &mut out, cancel).await? {
        ExitStatus::Code(0) => Ok(()),
        other => bail!("{cmd:?}: {other}: {}", out.stderr.join("\n")),
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
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> anyhow::Result<()> {
        let c = &self.config;
        let comm: &dyn Communicator = &**ctx.comm;
        let ui = ctx.ui;
        let vars = c.flattened_vars(ctx.info, ctx.generated);

        let mut _inline_file = None;
        let scripts: Vec<PathBuf> = if c.inline.is_some() {
            let mut f = tempfile::Builder::new()
                .prefix("packer-shell")
                .tempfile()
                .context("Error preparing shell script")?;
            use std::io::Write;
            f.write_all(c.inline_script().as_bytes())
                .context("Error preparing shell script")?;
            let path = f.into_temp_path();
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
                    .context("Error uploading envVarFile")
            })
            .await?;
            Some(path)
        } else {
            None
        };

        let command = {
            let mut cmd = render_exec(&c.execute_command, &vars, &c.remote_path);
            for pat in ["{{.EnvVarFile}}", "{{ .EnvVarFile }}"] {
                cmd = cmd.replace(pat, env_var_file.as_deref().unwrap_or(""));
            }
            cmd
        };

        for script in &scripts {
            ui.say(format!(
                "Provisioning with shell script: {}",
                script.display()
            ));
            let mut data = tokio::fs::read(script)
                .await
                .with_context(|| format!("Error opening shell script: {}", script.display()))?;
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
                    .context("Error uploading script")?;
                // The SSH communicator's upload already sets the mode: one session less.
                if comm.kind() != "ssh" {
                    run_plain(comm, &format!("chmod 0755 {}", c.remote_path), cancel)
                        .await
                        .context("Error chmodding script file to 0755 in remote machine")?;
                }
                let mut out = UiOutput(ui.clone());
                Ok(comm.start(command, &mut out, cancel).await?)
            })
            .await?;
            match &status {
                ExitStatus::NoStatus if c.expect_disconnect => {
                    ui.message("Remote end disconnected (expected: expect_disconnect = true).");
                }
                ExitStatus::NoStatus if !c.valid_exit_codes.contains(&CMD_DISCONNECT) => {
                    bail!(
                        "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding `expect_disconnect = true` or `valid_exit_codes = [0, {CMD_DISCONNECT}]` to the shell provisioner parameters."
                    );
                }
                other => {
                    let code = exit_code(other);
                    if !c.valid_exit_codes.contains(&code) {
                        let what = match other {
                            ExitStatus::Signal(s) => {
                                format!("Script was killed by signal {s} (exit status {code})")
                            }
                            _ => format!("Script exited with non-zero exit status: {code}"),
                        };
                        bail!("{what}. Allowed exit codes are: {:?}", c.valid_exit_codes);
                    }
                }
            }
            if !c.skip_clean {
                // Retried: the script may have rebooted the machine.
                let rm = format!("rm -f {}", c.remote_path);
                retry(c.start_retry_timeout, ctx.cancel, ui, || {
                    run_plain(comm, &rm, ctx.cancel)
                })
                .await
                .with_context(|| format!("Error removing temporary script at {}", c.remote_path))?;
            }
        }
        if let Some(p) = &env_var_file
            && !c.skip_clean
        {
            let rm = format!("rm -f {p}");
            retry(c.start_retry_timeout, ctx.cancel, ui, || {
                run_plain(comm, &rm, ctx.cancel)
            })
            .await
            .with_context(|| format!("Error removing temporary envVarFile at {p}"))?;
        }
        if !c.pause_after.is_zero() {
            ui.say(format!(
                "Pausing {:?} before the next provisioner...",
                c.pause_after
            ));
            tokio::select! {
                _ = tokio::time::sleep(c.pause_after) => {}
                _ = ctx.cancel.cancelled() => bail!("Interrupted during pause_after"),
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
        assert_eq!(c.inline_shebang, "/bin/sh -e");
        assert!(c.remote_path.starts_with("/tmp/script_"));
        assert_eq!(c.start_retry_timeout, Duration::from_secs(300));
        assert_eq!(c.valid_exit_codes, vec![0]);
        let e = decode_hcl("inline = []\n", ShellConfig::read).unwrap_err();
        assert!(e[0].contains("inline list is empty"), "{e:?}");
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
            c.flattened_vars(&info, &BTreeMap::new()),
            "export A='1'\nexport B='it'\"'\"'s'\nexport PACKER_BUILDER_TYPE='null'\nexport PACKER_BUILD_NAME='b'\n"
        );
        assert_eq!(
            c.execute_command,
            "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
        );
    }
}
