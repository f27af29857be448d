//! The SSH communicator (russh). Placeholder interface; see the SSH issue.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::communicator::Communicator;
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// Packer's SSH communicator options.
#[derive(Clone, Debug, Default)]
pub struct SshConfig {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub private_key_file: Option<String>,
    pub agent_auth: bool,
}

impl SshConfig {
    /// Reads the `ssh_*` options.
    pub fn read(r: &mut ConfigReader) -> SshConfig {
        SshConfig {
            host: r.string("ssh_host"),
            port: r.int("ssh_port").unwrap_or(22) as u16,
            username: r.string("ssh_username"),
            password: r.string("ssh_password"),
            private_key_file: r.string("ssh_private_key_file"),
            agent_auth: r.bool("ssh_agent_auth").unwrap_or(false),
        }
    }

    /// The `null` builder's rule: host, username and exactly one auth method.
    pub fn validate_for_null(&self, r: &mut ConfigReader) {
        if self.host.is_none() {
            r.error(
                "Missing ssh_host",
                "A host must be specified, please reference your communicator documentation.",
            );
        }
        if self.username.is_none() {
            r.error(
                "Missing ssh_username",
                "A username must be specified, please reference your communicator documentation.",
            );
        }
        let methods = usize::from(self.password.is_some())
            + usize::from(self.private_key_file.is_some())
            + usize::from(self.agent_auth);
        if methods != 1 {
            r.error(
                "Invalid SSH authentication",
                "Exactly one of ssh_password, ssh_private_key_file, or ssh_agent_auth must be specified.",
            );
        }
    }

    pub async fn connect(
        &self,
        _ui: &Ui,
        _cancel: &CancellationToken,
    ) -> anyhow::Result<Arc<dyn Communicator>> {
        anyhow::bail!("the SSH communicator is not implemented yet")
    }

    pub fn generated_data(&self) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        m.insert("ConnType".to_string(), Value::str("ssh"));
        m.insert(
            "Host".to_string(),
            Value::str(self.host.clone().unwrap_or_default()),
        );
        m.insert("Port".to_string(), Value::Number(f64::from(self.port)));
        m.insert(
            "User".to_string(),
            Value::str(self.username.clone().unwrap_or_default()),
        );
        m.insert(
            "Password".to_string(),
            Value::str(self.password.clone().unwrap_or_default()),
        );
        m
    }
}
