//! The communicator part of a builder's config: `communicator = "ssh" | "none"`, or a
//! communicator the builder provides itself (`docker`'s exec into the container, a chroot),
//! and the options of the chosen type.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Communicator;
use super::none::NoneCommunicator;
use super::ssh::SshConfig;
use crate::components::{Endpoint, RunEnv};
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// What [`CommConfig::read_parts`] read: the config, the type named (or the default) and
/// the options of the ssh and WinRM types whatever the type.
pub struct CommParts {
    pub config: CommConfig,
    pub kind: String,
    pub ssh: SshConfig,
    pub winrm: WinRmConfig,
}

/// Which communicator a builder uses, with its options.
#[derive(Clone, Debug)]
pub enum CommConfig {
    None,
    Ssh(Box<SshConfig>),
    /// A communicator of the builder's own (its step puts it in the build state before the
    /// connect step runs); the name is what `build.ConnType` reports.
    Provided(String),
    /// WinRM, as the null builder accepts it: prepared and checked as the SDK does, but Kiln
    /// has no WinRM client, so connecting fails (a deliberate difference, docs/templates.md).
    WinRm(Box<WinRmConfig>),
}

/// The SDK's WinRM options (`communicator.WinRM`), decoded with their types whatever the
/// communicator type, as its flat config is.
#[derive(Clone, Debug, Default)]
pub struct WinRmConfig {
    pub username: String,
    pub password: String,
    pub host: String,
    /// 5985, or 5986 with `winrm_use_ssl` (the SDK's `prepareWinRM` defaults).
    pub port: i64,
}

impl WinRmConfig {
    /// Reads the `winrm_*` options; `prepare`: apply the SDK's `prepareWinRM` (the
    /// communicator is `winrm`): its defaults and its one error.
    fn read(r: &mut ConfigReader, prepare: bool) -> WinRmConfig {
        let mut c = WinRmConfig {
            username: r.string("winrm_username").unwrap_or_default(),
            password: r.string("winrm_password").unwrap_or_default(),
            host: r.string("winrm_host").unwrap_or_default(),
            port: r.int("winrm_port").unwrap_or(0),
        };
        let use_ssl = r.bool("winrm_use_ssl").unwrap_or(false);
        // Read for their types' sake only: Kiln never connects over WinRM.
        let _ = r.duration("winrm_timeout");
        for key in ["winrm_no_proxy", "winrm_insecure"] {
            let _ = r.bool(key);
        }
        let _ = r.trilean("winrm_use_ntlm");
        if prepare {
            if c.port == 0 {
                c.port = if use_ssl { 5986 } else { 5985 };
            }
            if c.username.is_empty() {
                r.prepare_error("winrm_username must be specified.");
            }
        }
        c
    }
}

impl CommConfig {
    /// Reads `communicator` (default `default_kind`) and the options of that type. Options of
    /// other communicator types are accepted and ignored, as Packer's shared config does.
    pub fn read(r: &mut ConfigReader, default_kind: &str) -> CommConfig {
        CommConfig::read_with(r, default_kind, &[], &RunEnv::default())
    }

    /// Like [`read`](Self::read), for a builder that also provides communicators of its own
    /// (`provided`), run in `env` (where `ssh_bastion_interactive` may have no terminal).
    pub fn read_with(
        r: &mut ConfigReader,
        default_kind: &str,
        provided: &[&str],
        env: &RunEnv,
    ) -> CommConfig {
        CommConfig::read_types(r, default_kind, provided, env, false).config
    }

    /// Like [`read_with`](Self::read_with) for the null builder, which takes every type the
    /// SDK knows (`winrm`; `docker` and `dockerWindowsContainer`, which it then refuses for
    /// their empty host): the type named (or the default) and the ssh and WinRM options read
    /// whatever the type (its own checks read them).
    pub fn read_parts(
        r: &mut ConfigReader,
        default_kind: &str,
        provided: &[&str],
        env: &RunEnv,
    ) -> CommParts {
        CommConfig::read_types(r, default_kind, provided, env, true)
    }

    fn read_types(
        r: &mut ConfigReader,
        default_kind: &str,
        provided: &[&str],
        env: &RunEnv,
        every_sdk_type: bool,
    ) -> CommParts {
        // An empty type is the default, as the SDK's `communicator.Config.Prepare` has it.
        let kind = r
            .string("communicator")
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| default_kind.to_string());
        // Always consume the ssh and WinRM options so they are not reported as unsupported.
        let ssh = SshConfig::read_checked(r, env, kind == "ssh");
        let winrm = WinRmConfig::read(r, kind == "winrm" && every_sdk_type);
        let config = match kind.as_str() {
            "none" => CommConfig::None,
            "ssh" => {
                ssh.check_env(r, env);
                CommConfig::Ssh(Box::new(ssh.clone()))
            }
            other if provided.contains(&other) => CommConfig::Provided(other.to_string()),
            // A type the SDK does not know: its `Prepare`'s error (the build never runs).
            other if !["winrm", "docker", "dockerWindowsContainer"].contains(&other) => {
                r.prepare_error(format!("Communicator type {other} is invalid"));
                CommConfig::None
            }
            "winrm" if every_sdk_type => CommConfig::WinRm(Box::new(winrm.clone())),
            // (The null builder's own checks refuse these: their host is empty.)
            _ if every_sdk_type => CommConfig::None,
            other => {
                let mut known = vec!["\"ssh\"".to_string(), "\"none\"".to_string()];
                known.extend(provided.iter().map(|p| format!("{p:?}")));
                r.check_error_at(
                    "communicator",
                    "Invalid communicator",
                    format!(
                        "Communicator type {other:?} is not supported by Kiln for this builder; use {}.",
                        known.join(" or ")
                    ),
                );
                CommConfig::None
            }
        };
        CommParts {
            config,
            kind,
            ssh,
            winrm,
        }
    }

    /// The config with the endpoint a builder's steps recorded at run time (a VM's forwarded
    /// port) filled in.
    pub fn resolved(&self, endpoint: &Endpoint) -> CommConfig {
        match self {
            CommConfig::Ssh(c)
                if endpoint.host.is_some()
                    || endpoint.port.is_some()
                    || endpoint.temporary_key.is_some() =>
            {
                let mut c = c.clone();
                if let Some(h) = &endpoint.host {
                    c.host = Some(h.clone());
                }
                if let Some(p) = endpoint.port {
                    c.port = p;
                }
                if let Some((private, public)) = &endpoint.temporary_key {
                    c.private_key = Some(private.clone());
                    c.public_key = Some(public.clone());
                }
                CommConfig::Ssh(c)
            }
            other => other.clone(),
        }
    }

    /// Connects (waiting and retrying as configured).
    pub async fn connect(
        &self,
        ui: &Ui,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Arc<dyn Communicator>> {
        match self {
            CommConfig::None => Ok(Arc::new(NoneCommunicator)),
            CommConfig::Ssh(c) => c.connect(ui, cancel).await,
            CommConfig::Provided(kind) => {
                anyhow::bail!("the {kind} communicator is provided by its builder's own step")
            }
            CommConfig::WinRm(c) => anyhow::bail!(
                "Kiln has no WinRM communicator (winrm_host {:?}, port {}): use \"ssh\" or \"none\"",
                c.host,
                c.port
            ),
        }
    }

    /// `build.*` values this communicator contributes (Host, Port, User, Password,
    /// ConnType, SSHPublicKey, SSHPrivateKey).
    pub fn generated_data(&self) -> BTreeMap<String, Value> {
        match self {
            // Packer's StepConnect puts no communicator config in the state for `none`:
            // these keys stay unknown.
            CommConfig::None => BTreeMap::new(),
            CommConfig::Ssh(c) => c.generated_data(),
            // The SDK's Config for winrm: its host, port, user and password.
            CommConfig::WinRm(c) => {
                let mut m = BTreeMap::new();
                m.insert("ConnType".to_string(), Value::str("winrm"));
                m.insert("Host".to_string(), Value::str(&c.host));
                m.insert("Port".to_string(), Value::num(c.port as f64));
                m.insert("User".to_string(), Value::str(&c.username));
                m.insert("Password".to_string(), Value::str(&c.password));
                m.insert("WinRMPassword".to_string(), Value::str(&c.password));
                for k in ["SSHPublicKey", "SSHPrivateKey"] {
                    m.insert(k.to_string(), Value::str(""));
                }
                m
            }
            // The SDK's Config gives empty values for a type other than ssh and winrm.
            CommConfig::Provided(kind) => {
                let mut m = BTreeMap::new();
                m.insert("ConnType".to_string(), Value::str(kind));
                for k in [
                    "Host",
                    "User",
                    "Password",
                    "SSHPublicKey",
                    "SSHPrivateKey",
                    "WinRMPassword",
                ] {
                    m.insert(k.to_string(), Value::str(""));
                }
                m.insert("Port".to_string(), Value::num(0.0));
                m
            }
        }
    }
}
