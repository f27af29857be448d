//! `windows-shell`: Packer's provisioner that runs batch scripts (or inline commands) on a
//! Windows guest. Kiln decodes and checks its block as Packer's `Prepare` does, so a template
//! naming it validates as with Packer; it has no WinRM communicator to run it with, so a
//! build that reaches it fails before doing anything ([`ProvisionError::windows_only`]).

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::provisioners::shell_common::{EnvVars, RemoteSpecific, ShellCommon};
use crate::template::ConfigReader;

/// The plugin's `DefaultRemotePath`.
pub const DEFAULT_REMOTE_PATH: &str = "c:/Windows/Temp/script.bat";

/// The options, with the defaults the plugin's `Prepare` sets.
#[derive(Clone, Debug)]
pub struct WindowsShellConfig {
    /// `None`: not given, or empty.
    pub inline: Option<Vec<String>>,
    /// `script`, else `scripts`.
    pub scripts: Vec<PathBuf>,
    pub env: EnvVars,
    pub valid_exit_codes: Vec<i64>,
    pub binary: bool,
    pub remote_path: String,
    pub execute_command: String,
    pub start_retry_timeout: Duration,
}

impl WindowsShellConfig {
    /// Decodes the block and checks it as the plugin's `Prepare` does.
    pub fn read(r: &mut ConfigReader) -> WindowsShellConfig {
        // The plugin renders `execute_command` itself, when it runs a script.
        r.render_later(&["execute_command"]);
        let common = ShellCommon::read_sdk(r, "set \"%s=%s\" && ");
        let remote = RemoteSpecific::read(r);
        let start_retry_timeout = r
            .duration("start_retry_timeout")
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(300));

        // The plugin's `Prepare`: its rules, in its words and order.
        common.check_one_script(r);
        let scripts = common.check_script_or_inline(r);
        common.env.check(r);

        WindowsShellConfig {
            inline: common.inline.clone().filter(|i| !i.is_empty()),
            scripts: scripts.into_iter().map(PathBuf::from).collect(),
            env: common.env,
            valid_exit_codes: common.valid_exit_codes,
            binary: remote.binary,
            remote_path: remote
                .remote_path
                .unwrap_or_else(|| DEFAULT_REMOTE_PATH.to_string()),
            execute_command: remote
                .execute_command
                .unwrap_or_else(|| "{{.Vars}}\"{{.Path}}\"".to_string()),
            start_retry_timeout,
        }
    }
}

pub struct WindowsShell {
    pub config: WindowsShellConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(WindowsShell {
        config: WindowsShellConfig::read(r),
    }))
}

#[async_trait]
impl Provisioner for WindowsShell {
    async fn provision(&self, _ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        Err(ProvisionError::windows_only("windows-shell"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn defaults_and_errors_like_packer() {
        let c = decode_hcl("inline = [\"echo hi\"]\n", WindowsShellConfig::read).unwrap();
        assert_eq!(c.execute_command, "{{.Vars}}\"{{.Path}}\"");
        assert_eq!(c.env.format, "set \"%s=%s\" && ");
        assert_eq!(c.remote_path, DEFAULT_REMOTE_PATH);
        assert_eq!(c.start_retry_timeout, Duration::from_secs(300));
        let e = decode_hcl(
            "script = \"a\"\nscripts = [\"b\"]\ninline = [\"x\"]\nenvironment_vars = [\"=v\"]\n",
            WindowsShellConfig::read,
        )
        .unwrap_err();
        let text = e.join("\n");
        assert!(text.contains("4 error(s) occurred"), "{text}");
        assert!(text.contains("Only one of script or scripts"), "{text}");
        assert!(text.contains("not both"), "{text}");
        assert!(text.contains("Bad script 'a'"), "{text}");
        assert!(
            decode_hcl(
                "inline = [\"x\"]\ninline_shebang = \"/bin/sh\"\n",
                WindowsShellConfig::read
            )
            .is_err()
        );
    }
}
