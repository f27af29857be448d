//! The `null` builder: connects to an existing host (or to nothing with
//! `communicator = "none"`) and runs the provisioners. Its artifact has no files.

use crate::artifact::Artifact;
use crate::builders::common::{StepConnect, StepProvision, StepSetGenerated};
use crate::communicator::config::CommConfig;
use crate::components::{BuildState, Builder, ComponentInfo, Step};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "fnoeding.null";

pub struct NullBuilder {
    comm: CommConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let comm = CommConfig::read(r, "ssh");
    if let CommConfig::Ssh(ssh) = &comm {
        ssh.validate_for_null(r);
    }
    Some(Box::new(NullBuilder { comm }))
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
            builder_id: BUILDER_ID.to_string(),
            id: "Null".to_string(),
            files: Vec::new(),
            description: "Did not export anything. This is the null builder".to_string(),
            state: Default::default(),
        })
    }
}
