//! `shell-local`: runs commands on the machine running Kiln (not through the communicator), so
//! it works with `communicator = "none"`. Shared with the `shell-local` post-processor.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::template::ConfigReader;
use crate::ui::Ui;

/// The options `shell-local` provisioner and post-processor share.
#[derive(Clone, Debug, Default)]
pub struct ShellLocalConfig {
    pub inline: Vec<String>,
    pub scripts: Vec<PathBuf>,
    pub environment_vars: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub env_var_format: String,
    pub execute_command: Vec<String>,
    pub inline_shebang: String,
    pub only_on: Vec<String>,
    pub tempfile_extension: String,
    pub valid_exit_codes: Vec<i64>,
}

impl ShellLocalConfig {
    /// Decodes and validates the options (Packer SDK `shell-local` rules).
    pub fn read(r: &mut ConfigReader) -> ShellLocalConfig {
        let command = r.string("command");
        let mut inline = r.strings("inline");
        let script = r.string("script");
        let scripts = r.strings("scripts").unwrap_or_default();
        let environment_vars = r.strings("environment_vars").unwrap_or_default();
        let env = r.string_map("env").unwrap_or_default();
        let env_var_format = r
            .string("env_var_format")
            .unwrap_or_else(|| "%s='%s' ".to_string());
        let execute_command = r.strings("execute_command").unwrap_or_else(|| {
            vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                "{{.Vars}} {{.Script}}".to_string(),
            ]
        });
        let inline_shebang = r
            .string("inline_shebang")
            .unwrap_or_else(|| "/bin/sh -e".to_string());
        let only_on = r.strings("only_on").unwrap_or_default();
        let tempfile_extension = r.string("tempfile_extension").unwrap_or_default();
        let valid_exit_codes = match r.any("valid_exit_codes") {
            Some(crate::value::Value::List(items)) => items
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
        r.ignore(&["use_linux_pathing"]);

        if let Some(c) = &command {
            if inline.is_some() {
                r.error(
                    "Invalid shell-local config",
                    "Command, Inline, Script and Scripts options cannot be used together.",
                );
            }
            inline = Some(vec![c.clone()]);
        }
        let mut all_scripts: Vec<PathBuf> = Vec::new();
        if let Some(s) = &script {
            all_scripts.push(PathBuf::from(s));
        }
        all_scripts.extend(scripts.iter().map(PathBuf::from));
        let sources = usize::from(inline.is_some())
            + usize::from(script.is_some())
            + usize::from(!scripts.is_empty());
        if sources == 0 {
            r.error(
                "Invalid shell-local config",
                "Command, Inline, Script and Scripts options cannot all be empty.",
            );
        } else if sources > 1 {
            r.error(
                "Invalid shell-local config",
                "Command, Inline, Script and Scripts options cannot be used together.",
            );
        }
        for s in &all_scripts {
            if !s.is_file() {
                r.error(
                    "Invalid script",
                    format!("Bad script '{}': file does not exist.", s.display()),
                );
            }
        }
        for kv in &environment_vars {
            if !kv.contains('=') || kv.starts_with('=') {
                r.error_at(
                    "environment_vars",
                    "Invalid environment variable",
                    format!("Environment variable not in format 'key=value': {kv}"),
                );
            }
        }
        if !execute_command.iter().any(|c| c.contains(".Script")) {
            r.error_at(
                "execute_command",
                "Invalid execute_command",
                "The execute_command must contain {{.Script}} so the script is run.",
            );
        }
        ShellLocalConfig {
            inline: inline.unwrap_or_default(),
            scripts: all_scripts,
            environment_vars,
            env,
            env_var_format,
            execute_command,
            inline_shebang,
            only_on,
            tempfile_extension,
            valid_exit_codes,
        }
    }

    /// `KEY='value' ...` for `{{.Vars}}`: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, then
    /// environment_vars and env, sorted by key, single quotes escaped for the shell.
    pub fn flattened_vars(&self, info: &ComponentInfo) -> String {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        vars.insert("PACKER_BUILD_NAME".into(), info.build_name.clone());
        vars.insert("PACKER_BUILDER_TYPE".into(), info.builder_type.clone());
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
            out.push_str(&go_format2(&self.env_var_format, &k, &escaped));
        }
        out
    }

    /// Runs every script (inline commands become one temporary script).
    pub async fn run(
        &self,
        ui: &Ui,
        info: &ComponentInfo,
        cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        if !self.only_on.is_empty() && !self.only_on.iter().any(|os| os == std::env::consts::OS) {
            ui.say("Skipping shell-local due to runtime OS");
            return Ok(());
        }
        let mut temp: Option<tempfile::TempPath> = None;
        let scripts: Vec<PathBuf> = if self.inline.is_empty() {
            self.scripts.clone()
        } else {
            let mut f = tempfile::Builder::new()
                .prefix("packer-shell")
                .suffix(&self.tempfile_extension)
                .tempfile()
                .context("Error preparing shell script")?;
            let mut text = format!("#!{}\n", self.inline_shebang);
            for line in &self.inline {
                text.push_str(line);
                text.push('\n');
            }
            use std::io::Write;
            f.write_all(text.as_bytes())
                .context("Error preparing shell script")?;
            let path = f.into_temp_path();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
            }
            let p = path.to_path_buf();
            temp = Some(path);
            vec![p]
        };
        let vars = self.flattened_vars(info);
        for script in &scripts {
            ui.say(format!("Running local shell script: {}", script.display()));
            let argv: Vec<String> = self
                .execute_command
                .iter()
                .map(|a| render_exec(a, &vars, &script.to_string_lossy()))
                .collect();
            let code = run_local(&argv, ui, cancel).await?;
            if !self.valid_exit_codes.contains(&code) {
                // The SDK's ValidExitCode error; the codes as Go prints a []int.
                let codes: Vec<String> = self
                    .valid_exit_codes
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
                bail!(
                    "Script exited with non-zero exit status: {code}. Allowed exit codes are: [{}]",
                    codes.join(" ")
                );
            }
        }
        drop(temp);
        Ok(())
    }
}

/// Replaces `{{.Vars}}`, `{{.Script}}` (and `{{.Command}}`), spaces inside braces allowed.
pub fn render_exec(template: &str, vars: &str, script: &str) -> String {
    let mut out = template.to_string();
    for (name, value) in [
        ("Vars", vars),
        ("Script", script),
        ("Command", script),
        ("Path", script),
    ] {
        for pat in [format!("{{{{.{name}}}}}"), format!("{{{{ .{name} }}}}")] {
            out = out.replace(&pat, value);
        }
    }
    out
}

/// Go's `fmt.Sprintf(format, a, b)` for the `%s` verbs env_var_format uses.
fn go_format2(format: &str, a: &str, b: &str) -> String {
    let mut out = String::new();
    let mut args = [a, b].into_iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('s') | Some('v') => out.push_str(args.next().unwrap_or("%!s(MISSING)")),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs a local command, streaming its output lines to the UI; cancellation kills it.
pub async fn run_local(
    argv: &[String],
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<i64> {
    let Some((prog, args)) = argv.split_first() else {
        bail!("execute_command is empty");
    };
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("Error executing command {prog:?}"))?;
    let mut out = BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let mut err = BufReader::new(child.stderr.take().context("no stderr")?).lines();
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
                bail!("Interrupted");
            }
        }
    }
    let status = tokio::select! {
        s = child.wait() => s?,
        _ = cancel.cancelled() => {
            kill_group(&child);
            let _ = child.kill().await;
            bail!("Interrupted");
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
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> anyhow::Result<()> {
        self.config.run(ctx.ui, ctx.info, ctx.cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_are_sorted_and_quoted() {
        let c = ShellLocalConfig {
            environment_vars: vec!["B=it's".into(), "A=1".into()],
            env_var_format: "%s='%s' ".into(),
            ..Default::default()
        };
        let info = ComponentInfo {
            build_name: "example".into(),
            builder_type: "null".into(),
            ..Default::default()
        };
        assert_eq!(
            c.flattened_vars(&info),
            "A='1' B='it'\"'\"'s' PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='example' "
        );
    }

    #[test]
    fn execute_command_templates_render() {
        assert_eq!(
            render_exec("{{.Vars}} {{ .Script }}", "A=1", "/t"),
            "A=1 /t"
        );
    }
}
