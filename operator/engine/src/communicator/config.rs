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

/// Which communicator a builder uses, with its options.
#[derive(Clone, Debug)]
pub enum CommConfig {
    None,
    Ssh(Box<SshConfig>),
    /// A communicator of the builder's own (its step puts it in the build state before the
    /// connect step runs); the name is what `build.ConnType` reports.
    Provided(String),
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
        CommConfig::read_parts(r, default_kind, provided, env).0
    }

    /// Like [`read_with`](Self::read_with), with the type named (or the default) and the
    /// ssh options read whatever the type (a builder's own checks read them: the null
    /// builder's).
    pub fn read_parts(
        r: &mut ConfigReader,
        default_kind: &str,
        provided: &[&str],
        env: &RunEnv,
    ) -> (CommConfig, String, SshConfig) {
        // An empty type is the default, as the SDK's `communicator.Config.Prepare` has it.
        let kind = r
            .string("communicator")
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| default_kind.to_string());
        // Always consume the ssh options so they are not reported as unsupported.
        let ssh = SshConfig::read_checked(r, env, kind == "ssh");
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
            other => {
                let mut known = vec!["\"ssh\"".to_string(), "\"none\"".to_string()];
                known.extend(provided.iter().map(|p| format!("{p:?}")));
                r.error_at(
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
        (config, kind, ssh)
    }

    /// The config with the endpoint a builder's steps recorded at run time (a VM's forwarded
    /// port) filled in.
    pub fn resolved(&self, endpoint: &Endpoint) -> CommConfig {
        match self {
            CommConfig::Ssh(c) if endpoint.host.is_some() || endpoint.port.is_some() => {
                let mut c = c.clone();
                if let Some(h) = &endpoint.host {
                    c.host = Some(h.clone());
                }
                if let Some(p) = endpoint.port {
                    c.port = p;
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
