//! The `null` builder: connects to an existing host (or to nothing with
//! `communicator = "none"`) and runs the provisioners. Its artifact has no files.

use crate::artifact::Artifact;
use crate::builders::common::{StepConnect, StepProvision, StepSetGenerated};
use crate::communicator::config::CommConfig;
use crate::communicator::ssh::SshConfig;
use crate::components::{BuildState, Builder, ComponentInfo, Step};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "fnoeding.null";

pub struct NullBuilder {
    comm: CommConfig,
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let (comm, kind, ssh) = CommConfig::read_parts(r, "ssh", &[], &info.env);
    if kind == "ssh" || matches!(comm, CommConfig::None) && kind != "none" {
        require_ssh_target(&ssh, kind == "ssh", r);
    }
    Some(Box::new(NullBuilder { comm }))
}

/// The null builder connects to an existing host, so it needs the host, the user and
/// exactly one way to authenticate: its `Prepare`'s checks, after the communicator's, in its
/// words, for any type but `none` (for a type the SDK does not know, `typed` false, its
/// `Host()`, `User()` and `Password()` are empty).
fn require_ssh_target(ssh: &SshConfig, typed: bool, r: &mut ConfigReader) {
    let set = |v: &Option<String>| typed && v.as_deref().is_some_and(|s| !s.is_empty());
    if !set(&ssh.host) {
        r.prepare_error(
            "a Host must be specified, please reference your communicator documentation",
        );
    }
    if !set(&ssh.username) {
        r.prepare_error(
            "a Username must be specified, please reference your communicator documentation",
        );
    }
    let (password, key) = (set(&ssh.password), ssh.private_key_file.is_some());
    if !ssh.agent_auth && !password && !key {
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
