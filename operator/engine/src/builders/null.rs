//! The `null` builder: connects to an existing host (or to nothing with
//! `communicator = "none"`) and runs the provisioners. Its artifact has no files.

use crate::artifact::Artifact;
use crate::builders::common::{StepConnect, StepProvision, StepSetGenerated};
use crate::communicator::config::{CommConfig, CommParts};
use crate::components::{BuildState, Builder, ComponentInfo, Step};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "fnoeding.null";

pub struct NullBuilder {
    comm: CommConfig,
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let parts = CommConfig::read_parts(r, "ssh", &[], &info.env);
    if parts.kind != "none" {
        require_target(&parts, r);
    }
    Some(Box::new(NullBuilder { comm: parts.config }))
}

/// The null builder connects to an existing host, so it needs the host, the user and
/// exactly one way to authenticate: its `Prepare`'s checks, after the communicator's, in its
/// words, for any type but `none`. The SDK's `Host()`, `User()` and `Password()` are the
/// ssh or WinRM options of that type (empty for any other type); the private key and agent
/// options are ssh's whatever the type.
fn require_target(parts: &CommParts, r: &mut ConfigReader) {
    let (ssh, winrm) = (&parts.ssh, &parts.winrm);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let (host, user, password) = match parts.kind.as_str() {
        "ssh" => (opt(&ssh.host), opt(&ssh.username), opt(&ssh.password)),
        "winrm" => (
            winrm.host.clone(),
            winrm.username.clone(),
            winrm.password.clone(),
        ),
        _ => Default::default(),
    };
    if host.is_empty() {
        r.prepare_error(
            "a Host must be specified, please reference your communicator documentation",
        );
    }
    if user.is_empty() {
        r.prepare_error(
            "a Username must be specified, please reference your communicator documentation",
        );
    }
    let key = ssh.private_key_file.is_some();
    if !ssh.agent_auth && password.is_empty() && !key {
        r.prepare_error(
            "one authentication method must be specified, please reference your communicator documentation",
        );
    }
    // (This one reads `ssh_password` itself, whatever the type.)
    let ssh_password = ssh.password.as_deref().is_some_and(|s| !s.is_empty());
    if (ssh.agent_auth && (ssh_password || key)) || (ssh_password && key) {
        r.prepare_error(
            "only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified",
        );
    }
}

impl Builder for NullBuilder {
    /// Packer's null builder returns its artifact whatever happened, and `CoreBuild.Run`
    /// then returns the cancelled context's error.
    fn cancelled_error(&self) -> Option<&'static str> {
        Some("context canceled")
    }

    fn steps(&self) -> Vec<Box<dyn Step>> {
        vec![
            // Packer's null builder sets instance_id "Null", which provisioners see as build.ID.
            Box::new(StepSetGenerated(vec![(
                "ID".to_string(),
                crate::value::Value::str("Null"),
            )])),
            Box::new(StepConnect {
                config: self.comm.clone(),
            }),
            Box::new(StepProvision),
        ]
    }

    fn artifact(&self, _state: &BuildState) -> Option<Artifact> {
        Some(Artifact {
            destroyer: None,
            builder_id: BUILDER_ID.to_string(),
            id: "Null".to_string(),
            files: Vec::new(),
            description: "Did not export anything. This is the null builder".to_string(),
            // Packer's NullArtifact gives post-processors `build.ID` only.
            state: [(
                "generated_data".to_string(),
                serde_json::json!({ "ID": "Null" }),
            )]
            .into_iter()
            .collect(),
        })
    }
}
