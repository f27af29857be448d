//! The communicator part of a builder's config: `communicator = "ssh" | "none"` and the
//! options of the chosen type.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Communicator;
use super::none::NoneCommunicator;
use super::ssh::SshConfig;
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// Which communicator a builder uses, with its options.
#[derive(Clone, Debug)]
pub enum CommConfig {
    None,
    Ssh(Box<SshConfig>),
}

impl CommConfig {
    /// Reads `communicator` (default `default_kind`) and the options of that type. Options of
    /// other communicator types are accepted and ignored, as Packer's shared config does.
    pub fn read(r: &mut ConfigReader, default_kind: &str) -> CommConfig {
        let kind = r
            .string("communicator")
            .unwrap_or_else(|| default_kind.to_string());
        // Always consume the ssh options so they are not reported as unsupported.
        let ssh = SshConfig::read(r);
        match kind.as_str() {
            "none" => CommConfig::None,
            "ssh" => CommConfig::Ssh(Box::new(ssh)),
            other => {
                r.error_at(
                    "communicator",
                    "Invalid communicator",
                    format!("Communicator type {other:?} is not supported by Kiln; use \"ssh\" or \"none\"."),
                );
                CommConfig::None
            }
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
        }
    }

    /// `build.*` values this communicator contributes (Host, Port, User, Password,
    /// ConnType, SSHPublicKey, SSHPrivateKey).
    pub fn generated_data(&self) -> BTreeMap<String, Value> {
        match self {
            CommConfig::None => {
                let mut m = BTreeMap::new();
                m.insert("ConnType".to_string(), Value::str("none"));
                m
            }
            CommConfig::Ssh(c) => c.generated_data(),
        }
    }
}
