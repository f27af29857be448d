//! What a builder's runner pod needs beyond Kubernetes' restricted defaults, and why.
//!
//! A builder declares its [`Requirements`] after its config is decoded (a `qemu` source with
//! `accelerator = "kvm"` needs `/dev/kvm`; a `docker` source runs in its base image; a
//! `qemu` source runs the `qemu` tools, which the operator maps to a runner image that has
//! them). The operator takes the union over the sources an ImageBuild selects, grants exactly that in
//! the runner pod, keeps the restricted defaults for everything else, and records each grant
//! with its reason in the build's status and events. Locally nothing is granted: the CLI
//! runs with whatever the user has.

use serde::{Deserialize, Serialize};

/// One thing granted, with the reason shown to the user.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// What is granted: a device path (`/dev/kvm`), a capability (`SYS_ADMIN`), an image.
    pub name: String,
    /// Why, in words a user understands (`accelerator = "kvm" needs the KVM device`).
    pub why: String,
}

impl Grant {
    pub fn new(name: impl Into<String>, why: impl Into<String>) -> Grant {
        Grant {
            name: name.into(),
            why: why.into(),
        }
    }
}

/// What a builder needs from the pod that runs it. The default is nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirements {
    /// Host devices the pod must see (a `/dev/kvm` device plugin resource or volume).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Grant>,
    /// Linux capabilities to add to the container (names without `CAP_`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Grant>,
    /// The container must run as UID 0 (inside its user namespace when `user_namespaces`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_root: Option<String>,
    /// The pod should get its own user namespace (`hostUsers: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_namespaces: Option<String>,
    /// Scratch space the build writes (an `emptyDir` of at least this many bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch_bytes: Option<Grant>,
    /// The container's root filesystem must be writable (not `readOnlyRootFilesystem`): the
    /// build changes the image it runs in (the kaniko pattern).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writable_root: Option<String>,
    /// The build must run inside this image (the kaniko pattern: the runner pod is created
    /// from the base image with the Kiln binary injected). `name` is the image reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Grant>,
    /// Programs the build runs that are not part of Kiln, by tool set (`qemu`: runs
    /// `qemu-system-x86_64` and `qemu-img`). The operator runs the pod in the runner image
    /// it maps the tool set to (`--runner-tool-image qemu=IMAGE`), with the Kiln binary the
    /// image has; locally they are found on `PATH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Grant>,
}

impl Requirements {
    /// Nothing beyond the restricted defaults.
    pub fn is_empty(&self) -> bool {
        *self == Requirements::default()
    }

    /// The union of two sets (what a pod running both builds needs). Reasons of equal
    /// grants are kept once; the larger scratch size wins; a second, different image keeps
    /// the first — one pod template runs one image, so the operator refuses an ImageBuild
    /// whose selected sources need different images (or one an image and another none)
    /// before it creates anything, naming each source and its image.
    pub fn union(mut self, other: &Requirements) -> Requirements {
        for g in &other.devices {
            if !self.devices.iter().any(|d| d.name == g.name) {
                self.devices.push(g.clone());
            }
        }
        for g in &other.capabilities {
            if !self.capabilities.iter().any(|d| d.name == g.name) {
                self.capabilities.push(g.clone());
            }
        }
        for g in &other.tools {
            if !self.tools.iter().any(|d| d.name == g.name) {
                self.tools.push(g.clone());
            }
        }
        if self.run_as_root.is_none() {
            self.run_as_root = other.run_as_root.clone();
        }
        if self.user_namespaces.is_none() {
            self.user_namespaces = other.user_namespaces.clone();
        }
        if self.writable_root.is_none() {
            self.writable_root = other.writable_root.clone();
        }
        let bytes = |g: &Option<Grant>| {
            g.as_ref()
                .and_then(|g| g.name.parse::<u64>().ok())
                .unwrap_or(0)
        };
        if bytes(&other.scratch_bytes) > bytes(&self.scratch_bytes) {
            self.scratch_bytes = other.scratch_bytes.clone();
        }
        if self.image.is_none() {
            self.image = other.image.clone();
        }
        self.devices.sort();
        self.capabilities.sort();
        self.tools.sort();
        self
    }

    /// One line per grant, `name: why`, for status messages and events.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for g in &self.devices {
            out.push(format!("device {}: {}", g.name, g.why));
        }
        for g in &self.capabilities {
            out.push(format!("capability {}: {}", g.name, g.why));
        }
        if let Some(why) = &self.run_as_root {
            out.push(format!("run as root: {why}"));
        }
        if let Some(why) = &self.user_namespaces {
            out.push(format!("user namespace: {why}"));
        }
        if let Some(why) = &self.writable_root {
            out.push(format!("writable root filesystem: {why}"));
        }
        if let Some(g) = &self.scratch_bytes {
            out.push(format!("scratch space {} bytes: {}", g.name, g.why));
        }
        if let Some(g) = &self.image {
            out.push(format!("runs in image {}: {}", g.name, g.why));
        }
        for g in &self.tools {
            out.push(format!("tool {}: {}", g.name, g.why));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_keeps_each_grant_once_and_the_larger_scratch() {
        let a = Requirements {
            devices: vec![Grant::new("/dev/kvm", "accelerator kvm")],
            scratch_bytes: Some(Grant::new("1000", "disk")),
            ..Requirements::default()
        };
        let b = Requirements {
            devices: vec![Grant::new("/dev/kvm", "other reason")],
            capabilities: vec![Grant::new("SYS_ADMIN", "mounts")],
            scratch_bytes: Some(Grant::new("5000", "bigger disk")),
            ..Requirements::default()
        };
        let b = Requirements {
            writable_root: Some("kaniko".into()),
            tools: vec![Grant::new("qemu", "runs qemu-img")],
            ..b
        };
        let u = a.union(&b);
        assert_eq!(u.devices, vec![Grant::new("/dev/kvm", "accelerator kvm")]);
        assert_eq!(u.capabilities, vec![Grant::new("SYS_ADMIN", "mounts")]);
        assert_eq!(u.scratch_bytes, Some(Grant::new("5000", "bigger disk")));
        assert_eq!(u.writable_root.as_deref(), Some("kaniko"));
        assert_eq!(u.tools, vec![Grant::new("qemu", "runs qemu-img")]);
        assert!(!u.is_empty());
        assert!(Requirements::default().is_empty());
        assert_eq!(
            u.describe(),
            vec![
                "device /dev/kvm: accelerator kvm",
                "capability SYS_ADMIN: mounts",
                "writable root filesystem: kaniko",
                "scratch space 5000 bytes: bigger disk",
                "tool qemu: runs qemu-img"
            ]
        );
    }
}
