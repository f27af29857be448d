//! `kiln-test-requirements` (only with the `test-builders` feature): a builder that does
//! nothing and asks for whatever its config says, so the operator's derivation of the runner
//! pod from builder requirements is tested without a real builder that needs them.
//!
//! ```hcl
//! source "kiln-test-requirements" "vm" {
//!   devices        = ["/dev/kvm"]
//!   capabilities   = ["NET_ADMIN"]
//!   run_as_root    = true
//!   user_namespace = true
//!   scratch_bytes  = 1073741824
//!   image          = "debian:12"
//!   tools          = ["qemu"]
//!   reason         = "the test says so"
//! }
//! ```

use crate::artifact::Artifact;
use crate::components::{BuildState, Builder, ComponentInfo, Grant, Requirements, Step};
use crate::template::ConfigReader;

pub struct TestRequirements {
    requirements: Requirements,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let reason = r
        .string("reason")
        .unwrap_or_else(|| "kiln-test-requirements asks for it".into());
    let grants = |names: Option<Vec<String>>| -> Vec<Grant> {
        names
            .unwrap_or_default()
            .into_iter()
            .map(|n| Grant::new(n, reason.clone()))
            .collect()
    };
    let devices = grants(r.strings("devices"));
    let capabilities = grants(r.strings("capabilities"));
    let requirements = Requirements {
        devices,
        capabilities,
        run_as_root: r
            .bool("run_as_root")
            .unwrap_or(false)
            .then(|| reason.clone()),
        user_namespaces: r
            .bool("user_namespace")
            .unwrap_or(false)
            .then(|| reason.clone()),
        scratch_bytes: r
            .int("scratch_bytes")
            .map(|n| Grant::new(n.to_string(), reason.clone())),
        writable_root: r
            .bool("writable_root")
            .unwrap_or(false)
            .then(|| reason.clone()),
        image: r.string("image").map(|i| Grant::new(i, reason.clone())),
        tools: grants(r.strings("tools")),
    };
    Some(Box::new(TestRequirements { requirements }))
}

impl Builder for TestRequirements {
    fn steps(&self) -> Vec<Box<dyn Step>> {
        Vec::new()
    }

    fn artifact(&self, _state: &BuildState) -> Option<Artifact> {
        None
    }

    fn requirements(&self) -> Requirements {
        self.requirements.clone()
    }
}
