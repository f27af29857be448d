//! `powershell`: Packer's provisioner that runs PowerShell scripts (or inline commands) on a
//! Windows guest. Kiln decodes and checks its block as Packer's `Prepare` does (options,
//! defaults, errors in its words and order), so a template naming it validates as with
//! Packer; it has no WinRM communicator to run it with, so a build that reaches it fails
//! before doing anything ([`ProvisionError::windows_only`]).

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::interpolate::time_ordered_uuid;
use crate::provisioners::ProvisionError;
use crate::provisioners::shell_common::{EnvVars, RemoteSpecific, ShellCommon};
use crate::template::ConfigReader;

/// The execution policies, in the order of their values (`ExecutionPolicy`'s enum).
const EXECUTION_POLICIES: [&str; 8] = [
    "bypass",
    "allsigned",
    "default",
    "remotesigned",
    "restricted",
    "undefined",
    "unrestricted",
    "none",
];

/// `none`: no `-executionpolicy` in the commands.
const EXECUTION_POLICY_NONE: i64 = 7;

/// The plugin's `StringToExecutionPolicyHook`: a string that reads as an int (Go's
/// `strconv.Atoi`) is that int, else the policy of that name (as written or in lower case).
fn execution_policy_hook(raw: &str) -> Result<i64, String> {
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(n);
    }
    let lower = raw.to_lowercase();
    EXECUTION_POLICIES
        .iter()
        .position(|p| *p == raw || *p == lower)
        .map(|i| i as i64)
        .ok_or_else(|| format!("{raw} does not belong to ExecutionPolicy values"))
}

/// `ExecutionPolicy.String()`: its name, or `ExecutionPolicy(N)` for a value without one.
fn execution_policy_name(policy: i64) -> String {
    usize::try_from(policy)
        .ok()
        .and_then(|i| EXECUTION_POLICIES.get(i))
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("ExecutionPolicy({policy})"))
}

/// The options, with the defaults the plugin's `Prepare` sets.
#[derive(Clone, Debug)]
pub struct PowershellConfig {
    /// `None`: not given, or empty.
    pub inline: Option<Vec<String>>,
    /// `script`, else `scripts`.
    pub scripts: Vec<PathBuf>,
    pub env: EnvVars,
    pub valid_exit_codes: Vec<i64>,
    pub binary: bool,
    pub remote_path: String,
    pub execute_command: String,
    pub remote_env_var_path: String,
    pub elevated_execute_command: String,
    pub skip_clean: bool,
    pub start_retry_timeout: Duration,
    pub elevated_env_var_format: String,
    pub elevated_user: String,
    pub elevated_password: String,
    /// The policy's value (`EXECUTION_POLICIES`' index; 0, `bypass`, by default).
    pub execution_policy: i64,
    pub debug_mode: i64,
    pub pause_after: Duration,
    pub use_pwsh: bool,
}

impl PowershellConfig {
    /// Decodes the block and checks it as the plugin's `Prepare` does.
    pub fn read(r: &mut ConfigReader) -> PowershellConfig {
        // The plugin renders these itself, when it runs a script.
        r.render_later(&["execute_command", "elevated_execute_command"]);
        // Its decode hook reads every string going into an int (`execution_policy`, and
        // in a legacy template `debug_mode` and `valid_exit_codes` too).
        r.int_hook = Some(execution_policy_hook);
        let common = ShellCommon::read_sdk(r, "$env:%s=\"%s\"; ");
        let remote = RemoteSpecific::read(r);
        let remote_env_var_path = r.string("remote_env_var_path").filter(|s| !s.is_empty());
        let elevated_execute_command = r
            .string("elevated_execute_command")
            .filter(|s| !s.is_empty());
        let skip_clean = r.bool("skip_clean").unwrap_or(false);
        let start_retry_timeout = r
            .duration("start_retry_timeout")
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(300));
        let elevated_env_var_format = r
            .string("elevated_env_var_format")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "$env:%s=\"%s\"; ".to_string());
        let elevated_user = r.string("elevated_user").unwrap_or_default();
        let elevated_password = r.string("elevated_password").unwrap_or_default();
        let execution_policy = r.int_from_string("execution_policy").unwrap_or(0);
        let debug_mode = r.int("debug_mode").unwrap_or(0);
        let pause_after = r.duration("pause_after").unwrap_or_default();
        let use_pwsh = r.bool("use_pwsh").unwrap_or(false);

        // The plugin's `Prepare`: its rules, in its words and order.
        common.check_one_script(r);
        if elevated_user.is_empty() && !elevated_password.is_empty() {
            r.prepare_error("Must supply an 'elevated_user' if 'elevated_password' provided");
        }
        common.check_script_or_inline(r);
        common.env.check(r);
        if execution_policy > EXECUTION_POLICY_NONE {
            r.prepare_error(
                "Invalid execution policy provided. Please supply one of: \"bypass\", \
                 \"allsigned\", \"default\", \"remotesigned\", \"restricted\", \"undefined\", \
                 \"unrestricted\", \"none\".",
            );
        }
        if !(0..=2).contains(&debug_mode) {
            r.prepare_error(format!(
                "{debug_mode} is an invalid Trace level for `debug_mode`; valid values are 0, 1, and 2"
            ));
        }

        let inline = common.inline.clone().filter(|i| !i.is_empty());
        let scripts = match common.script.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => vec![PathBuf::from(s)],
            None => common.scripts.iter().map(PathBuf::from).collect(),
        };
        // Inline commands alone run with the inline default, anything else with the
        // script one.
        let inline_only = inline.is_some() && scripts.is_empty();
        let default_command = || {
            if inline_only {
                default_execute_command(execution_policy, use_pwsh)
            } else {
                default_script_command(execution_policy, use_pwsh, debug_mode)
            }
        };
        PowershellConfig {
            inline,
            scripts,
            env: common.env,
            valid_exit_codes: common.valid_exit_codes,
            binary: remote.binary,
            remote_path: remote
                .remote_path
                .unwrap_or_else(|| format!("c:/Windows/Temp/script-{}.ps1", time_ordered_uuid())),
            execute_command: remote.execute_command.unwrap_or_else(default_command),
            remote_env_var_path: remote_env_var_path.unwrap_or_else(|| {
                format!(
                    "c:/Windows/Temp/packer-ps-env-vars-{}.ps1",
                    time_ordered_uuid()
                )
            }),
            elevated_execute_command: elevated_execute_command.unwrap_or_else(default_command),
            skip_clean,
            start_retry_timeout,
            elevated_env_var_format,
            elevated_user,
            elevated_password,
            execution_policy,
            debug_mode,
            pause_after,
            use_pwsh,
        }
    }
}

/// The plugin's `defaultExecuteCommand` (inline commands).
fn default_execute_command(policy: i64, use_pwsh: bool) -> String {
    if policy == EXECUTION_POLICY_NONE {
        return "-file {{.Path}}".to_string();
    }
    let shell = if use_pwsh { "pwsh" } else { "powershell" };
    format!(
        "{shell} -executionpolicy {} -file {{{{.Path}}}}",
        execution_policy_name(policy)
    )
}

/// The plugin's `defaultScriptCommand` (script files).
fn default_script_command(policy: i64, use_pwsh: bool, debug_mode: i64) -> String {
    let mut base = "& { if (Test-Path variable:global:ProgressPreference){set-variable -name \
                    variable:global:ProgressPreference -value 'SilentlyContinue'};"
        .to_string();
    if debug_mode != 0 {
        base.push_str(&format!("Set-PsDebug -Trace {debug_mode};"));
    }
    base.push_str(". {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }");
    if policy == EXECUTION_POLICY_NONE {
        return base;
    }
    let name = execution_policy_name(policy);
    if use_pwsh {
        format!("pwsh -executionpolicy {name} -command \"{base}\"")
    } else {
        format!("powershell -executionpolicy {name} \"{base}\"")
    }
}

pub struct Powershell {
    pub config: PowershellConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(Powershell {
        config: PowershellConfig::read(r),
    }))
}

#[async_trait]
impl Provisioner for Powershell {
    async fn provision(&self, _ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        Err(ProvisionError::windows_only("powershell"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn defaults_like_packer() {
        let c = decode_hcl("inline = [\"echo hi\"]\n", PowershellConfig::read).unwrap();
        assert_eq!(
            c.execute_command,
            "powershell -executionpolicy bypass -file {{.Path}}"
        );
        assert_eq!(c.elevated_execute_command, c.execute_command);
        assert_eq!(c.env.format, "$env:%s=\"%s\"; ");
        assert_eq!(c.elevated_env_var_format, "$env:%s=\"%s\"; ");
        assert!(c.remote_path.starts_with("c:/Windows/Temp/script-"));
        assert!(
            c.remote_env_var_path
                .starts_with("c:/Windows/Temp/packer-ps-env-vars-")
        );
        assert_eq!(c.start_retry_timeout, Duration::from_secs(300));
        assert_eq!(c.valid_exit_codes, vec![0]);
        let c = decode_hcl(
            "script = \"/dev/null\"\nexecution_policy = \"None\"\ndebug_mode = 2\n",
            PowershellConfig::read,
        )
        .unwrap();
        assert_eq!(
            c.execute_command,
            "& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};Set-PsDebug -Trace 2;. {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }"
        );
        let c = decode_hcl(
            "script = \"/dev/null\"\nexecution_policy = 3\nuse_pwsh = true\n",
            PowershellConfig::read,
        )
        .unwrap();
        assert!(
            c.execute_command
                .starts_with("pwsh -executionpolicy remotesigned -command \"& {"),
            "{}",
            c.execute_command
        );
    }

    #[test]
    fn prepare_errors_in_order() {
        let e = decode_hcl(
            "elevated_password = \"p\"\nexecution_policy = \"8\"\ndebug_mode = -1\n",
            PowershellConfig::read,
        )
        .unwrap_err();
        let text = e.join("\n");
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s}: {text}"));
        assert!(at("'elevated_user'") < at("Either a script file"));
        assert!(at("Either a script file") < at("Invalid execution policy"));
        assert!(at("Invalid execution policy") < at("-1 is an invalid Trace level"));
        let e = decode_hcl(
            "inline = [\"x\"]\nexecution_policy = \"sometimes\"\n",
            PowershellConfig::read,
        )
        .unwrap_err();
        assert!(
            e.join("\n")
                .contains("error decoding 'execution_policy': sometimes does not belong to ExecutionPolicy values"),
            "{e:?}"
        );
    }

    #[test]
    fn execution_policies_read_as_packer_reads_them() {
        assert_eq!(execution_policy_hook("RemoteSigned"), Ok(3));
        assert_eq!(execution_policy_hook("+5"), Ok(5));
        assert_eq!(execution_policy_hook("-2"), Ok(-2));
        assert!(execution_policy_hook(" 1").is_err());
        assert_eq!(execution_policy_name(-2), "ExecutionPolicy(-2)");
    }
}
