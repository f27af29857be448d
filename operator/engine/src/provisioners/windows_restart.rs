//! `windows-restart`: Packer's provisioner that restarts a Windows guest and waits for it to
//! come back. Kiln decodes its block as Packer's `Prepare` does (which has no checks of its
//! own, only defaults), so a template naming it validates as with Packer; it has no WinRM
//! communicator to run it with, so a build that reaches it fails before doing anything
//! ([`ProvisionError::windows_only`]).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;

/// The plugin's `DefaultRestartCommand`.
pub const DEFAULT_RESTART_COMMAND: &str = "shutdown /r /f /t 0 /c \"packer restart\"";

/// The plugin's `DefaultRegistryKeys`.
pub const DEFAULT_REGISTRY_KEYS: [&str; 3] = [
    "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
    "HKLM:SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\PackagesPending",
    "HKLM:Software\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootInProgress",
];

/// The winrm client's `Powershell`: the script (progress bars off) in UTF-16LE, base64, as
/// `powershell.exe -EncodedCommand` runs it.
fn winrm_powershell(command: &str) -> String {
    let script = format!("$ProgressPreference = 'SilentlyContinue';{command}");
    let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    format!(
        "powershell.exe -EncodedCommand {}",
        base64::engine::general_purpose::STANDARD.encode(utf16)
    )
}

/// The options, with the defaults the plugin's `Prepare` sets.
#[derive(Clone, Debug)]
pub struct WindowsRestartConfig {
    pub restart_command: String,
    pub restart_check_command: String,
    pub restart_timeout: Duration,
    pub check_registry: bool,
    pub registry_keys: Vec<String>,
}

impl WindowsRestartConfig {
    /// Decodes the block as the plugin's `Prepare` does (defaults only).
    pub fn read(r: &mut ConfigReader) -> WindowsRestartConfig {
        let restart_command = r
            .string("restart_command")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_RESTART_COMMAND.to_string());
        let restart_check_command = r
            .string("restart_check_command")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                winrm_powershell("echo (\"{0} restarted.\" -f [System.Net.Dns]::GetHostName())")
            });
        let restart_timeout = r
            .duration("restart_timeout")
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(300));
        let check_registry = r.bool("check_registry").unwrap_or(false);
        let registry_keys = r
            .strings("registry_keys")
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| DEFAULT_REGISTRY_KEYS.map(String::from).to_vec());
        WindowsRestartConfig {
            restart_command,
            restart_check_command,
            restart_timeout,
            check_registry,
            registry_keys,
        }
    }
}

pub struct WindowsRestart {
    pub config: WindowsRestartConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(WindowsRestart {
        config: WindowsRestartConfig::read(r),
    }))
}

#[async_trait]
impl Provisioner for WindowsRestart {
    async fn provision(&self, _ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        Err(ProvisionError::windows_only("windows-restart"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn defaults_like_packer() {
        let c = decode_hcl("", WindowsRestartConfig::read).unwrap();
        assert_eq!(c.restart_command, DEFAULT_RESTART_COMMAND);
        // The winrm client's own encoding of the plugin's default check command.
        assert_eq!(
            winrm_powershell("x"),
            "powershell.exe -EncodedCommand JABQAHIAbwBnAHIAZQBzAHMAUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAaQBsAGUAbgB0AGwAeQBDAG8AbgB0AGkAbgB1AGUAJwA7AHgA"
        );
        assert_eq!(c.restart_timeout, Duration::from_secs(300));
        assert_eq!(c.registry_keys.len(), 3);
        assert!(!c.check_registry);
        let e = decode_hcl("restart_timeout = \"soon\"\n", WindowsRestartConfig::read).unwrap_err();
        assert!(e.join("\n").contains("time: invalid duration"), "{e:?}");
    }

    #[tokio::test]
    async fn running_it_fails_saying_why() {
        let e = ProvisionError::windows_only("windows-restart").to_string();
        assert!(
            e.starts_with("Kiln cannot run the windows-restart provisioner: "),
            "{e}"
        );
    }
}
