//! The runner pod derived from what the selected sources' builders need
//! ([`Requirements`], declared by each builder with a reason). One Indexed Job runs every
//! source of a build from one pod template, so the pod gets the **union** of the sources'
//! requirements; everything nothing asks for keeps the restricted defaults (non-root, all
//! capabilities dropped, seccomp `RuntimeDefault`, no privilege escalation, read-only root).
//!
//! Sources that must run in *different images* cannot share a pod template: such a build
//! fails before anything is created (`InvalidSpec`, naming the sources and images), and the
//! message says to split it with `spec.only` or to set `spec.runner.image`. A source that
//! asks for an image and one that asks for none are refused together for the same reason
//! (the second would run in the first's image, which may lack what it needs).
//!
//! A builder that runs programs Kiln does not have names their tool set (`qemu`); the
//! operator maps tool sets to runner images (`--runner-tool-image qemu=IMAGE`: the Kiln
//! runner image plus those programs) and runs the pod in that image. Sources with no tools
//! run there too (the image is a superset of the runner image); sources whose tools map to
//! different images are refused like sources in different builder images.
//!
//! `spec.runner` still wins: `securityContext` replaces the container's (capabilities, run as
//! root), `podSecurityContext` the pod's (run as root), `image` the image to run in; each
//! grant so replaced is recorded with `overriddenBy`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, HostPathVolumeSource, PodSpec,
    ResourceRequirements, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kiln_crds::{RunnerGrant, RunnerSpec, RunnerStatus};
use kiln_engine::components::Requirements;

use crate::contract::Snapshot;

use super::resources::RunnerDefaults;

pub use crate::contract::INJECTED_DIR;
pub const INJECTED_KILN: &str = "/kiln/bin/kiln";

/// The extended resources of the usual device plugins, by device path (KubeVirt's
/// `devices.kubevirt.io/*`); a device not listed is mounted from the node (`hostPath`).
pub fn default_device_resources() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "/dev/kvm".to_string(),
            "devices.kubevirt.io/kvm".to_string(),
        ),
        (
            "/dev/net/tun".to_string(),
            "devices.kubevirt.io/tun".to_string(),
        ),
        (
            "/dev/vhost-net".to_string(),
            "devices.kubevirt.io/vhost-net".to_string(),
        ),
    ])
}

/// What a build's runner pods need: the union of its sources' requirements and the grants
/// to record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunnerNeeds {
    pub union: Requirements,
    pub granted: Vec<RunnerGrant>,
    /// The runner image that has the tools the sources run (`--runner-tool-image`), when
    /// `spec.runner.image` and a builder's own image leave the choice to the operator.
    pub tool_image: Option<String>,
}

impl RunnerNeeds {
    /// The status entry (None when nothing beyond the defaults was granted).
    pub fn status(&self) -> Option<RunnerStatus> {
        (!self.granted.is_empty()).then(|| RunnerStatus {
            granted: self.granted.clone(),
        })
    }

    /// One line for events: `device /dev/kvm (null.vm: …); runAsRoot (…)`.
    pub fn describe(&self) -> String {
        self.granted
            .iter()
            .map(|g| {
                let what = match &g.name {
                    Some(n) => format!("{} {n}", g.kind),
                    None => g.kind.clone(),
                };
                match &g.overridden_by {
                    Some(f) => format!("{what} ({}; replaced by {f})", g.reason),
                    None => format!("{what} ({})", g.reason),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Collects grants by (kind, name), joining the reasons of every source that asked.
#[derive(Default)]
struct Collector {
    grants: Vec<RunnerGrant>,
}

impl Collector {
    fn add(&mut self, kind: &str, name: Option<&str>, source: &str, why: &str) {
        let reason = format!("{source}: {why}");
        match self
            .grants
            .iter_mut()
            .find(|g| g.kind == kind && g.name.as_deref() == name)
        {
            Some(g) => {
                g.reason.push_str("; ");
                g.reason.push_str(&reason);
            }
            None => self.grants.push(RunnerGrant {
                kind: kind.into(),
                name: name.map(str::to_string),
                reason,
                overridden_by: None,
            }),
        }
    }
}

/// The union of the requirements of the snapshot's selected builds, checked (one image at
/// most), with each grant and what in `spec.runner` replaced it.
///
/// The operator's policy comes from `defaults`: `user_namespaces`
/// (`--runner-user-namespaces`): when false (the nodes' container runtime cannot give pods
/// their own user namespace), a source that asks for one still runs, as root in its pod
/// without it, and the grant says so; `tool_images` (`--runner-tool-image`): the runner
/// image for each tool set.
pub fn needs(
    snapshot: &Snapshot,
    runner: Option<&RunnerSpec>,
    defaults: &RunnerDefaults,
) -> Result<RunnerNeeds, String> {
    let user_namespaces = defaults.user_namespaces;
    let mut union = Requirements::default();
    let mut c = Collector::default();
    let mut images: Vec<(&str, Option<&str>)> = Vec::new();
    for source in &snapshot.builds {
        let Some(r) = snapshot.requirements.get(source) else {
            images.push((source, None));
            continue;
        };
        union = union.union(r);
        for g in &r.devices {
            c.add("device", Some(&g.name), source, &g.why);
        }
        for g in &r.capabilities {
            c.add("capability", Some(&g.name), source, &g.why);
        }
        if let Some(why) = &r.run_as_root {
            c.add("runAsRoot", None, source, why);
        }
        if let Some(why) = &r.user_namespaces {
            c.add("userNamespace", None, source, why);
        }
        if let Some(g) = &r.scratch_bytes {
            c.add("scratch", Some(&g.name), source, &g.why);
        }
        if let Some(why) = &r.writable_root {
            c.add("writableRoot", None, source, why);
        }
        if let Some(g) = &r.image {
            c.add("image", Some(&g.name), source, &g.why);
        }
        for g in &r.tools {
            match defaults.tool_images.get(&g.name) {
                Some(_) => c.add("tool", Some(&g.name), source, &g.why),
                None => c.add(
                    "tool",
                    Some(&g.name),
                    source,
                    &format!(
                        "{} (no --runner-tool-image for {}: the runner image must have them)",
                        g.why, g.name
                    ),
                ),
            }
        }
        images.push((source, r.image.as_ref().map(|g| g.name.as_str())));
    }
    let runner_image = runner.and_then(|r| r.image.as_deref());
    let distinct: std::collections::BTreeSet<Option<&str>> =
        images.iter().map(|(_, i)| *i).collect();
    if runner_image.is_none() && distinct.len() > 1 && distinct.iter().any(Option::is_some) {
        let list: Vec<String> = images
            .iter()
            .map(|(s, i)| match i {
                Some(i) => format!("{s} in {i}"),
                None => format!("{s} in the runner image"),
            })
            .collect();
        return Err(format!(
            "the selected sources must run in different images ({}): one Job runs one pod \
             template; split them into ImageBuilds with spec.only, or set spec.runner.image",
            list.join(", ")
        ));
    }
    // The runner image with the sources' tools, when no builder runs in its own image.
    let mut tool_image = None;
    if union.image.is_none() {
        // image → (source, tool set) pairs that need it.
        let mut by_image: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for source in &snapshot.builds {
            for g in snapshot
                .requirements
                .get(source)
                .map_or(&[][..], |r| &r.tools)
            {
                if let Some(image) = defaults.tool_images.get(&g.name) {
                    by_image.entry(image).or_default().push((source, &g.name));
                }
            }
        }
        let who = |pairs: &[(&str, &str)]| -> String {
            pairs
                .iter()
                .map(|(s, t)| format!("{s} ({t})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if by_image.len() > 1 && runner_image.is_none() {
            let list: Vec<String> = by_image
                .iter()
                .map(|(i, pairs)| format!("{} in {i}", who(pairs)))
                .collect();
            return Err(format!(
                "the selected sources need tools in different runner images ({}): one Job \
                 runs one pod template; split them into ImageBuilds with spec.only, or set \
                 spec.runner.image to an image that has them all",
                list.join("; ")
            ));
        }
        if let Some((image, pairs)) = by_image.into_iter().next() {
            let mut tools: Vec<&str> = pairs.iter().map(|(_, t)| *t).collect();
            tools.sort();
            tools.dedup();
            c.grants.push(RunnerGrant {
                kind: "image".into(),
                name: Some(image.to_string()),
                reason: format!(
                    "the runner image with the {} tools (--runner-tool-image), for {}",
                    tools.join(", "),
                    who(&pairs)
                ),
                overridden_by: None,
            });
            tool_image = Some(image.to_string());
        }
    }
    let sc = runner.is_some_and(|r| r.security_context.is_some());
    let psc = runner.is_some_and(|r| r.pod_security_context.is_some());
    for g in &mut c.grants {
        g.overridden_by = match g.kind.as_str() {
            "capability" if sc => Some("spec.runner.securityContext".into()),
            "runAsRoot" if sc && psc => {
                Some("spec.runner.securityContext, spec.runner.podSecurityContext".into())
            }
            "runAsRoot" if sc => Some("spec.runner.securityContext".into()),
            "runAsRoot" if psc => Some("spec.runner.podSecurityContext".into()),
            "writableRoot" if sc => Some("spec.runner.securityContext".into()),
            "image" if runner_image.is_some() => Some("spec.runner.image".into()),
            "userNamespace" if !user_namespaces => Some(USERNS_OFF.into()),
            _ => None,
        };
    }
    if !user_namespaces {
        union.user_namespaces = None;
    }
    Ok(RunnerNeeds {
        union,
        granted: c.grants,
        tool_image: tool_image.filter(|_| runner_image.is_none()),
    })
}

/// What a `userNamespace` grant says when the operator runs without user namespaces.
pub const USERNS_OFF: &str = "the operator (--runner-user-namespaces=false): the pod runs without \
     its own user namespace, so its root is root on the node (still unprivileged, with only the \
     capabilities listed)";

/// The parts of the runner pod the requirements change.
pub struct PodParts<'a> {
    pub pod: &'a mut PodSpec,
    pub container: &'a mut Container,
    pub volumes: &'a mut Vec<Volume>,
    pub mounts: &'a mut Vec<VolumeMount>,
}

/// How the pod is derived: the needs, the build's `spec.runner`, the operator's device
/// resources, and the image and command of the Kiln binary (for the init container that puts
/// Kiln into a builder's image).
pub struct Derivation<'a> {
    pub needs: &'a RunnerNeeds,
    pub runner: &'a RunnerSpec,
    pub device_resources: &'a BTreeMap<String, String>,
    pub kiln_image: &'a str,
    pub kiln_command: &'a str,
}

/// Grants in `parts` what `d.needs` asks for, and nothing else. The defaults in `parts` are
/// the restricted ones (or what `spec.runner` set).
pub fn grant(d: &Derivation<'_>, parts: PodParts<'_>) {
    let u = &d.needs.union;
    let PodParts {
        pod,
        container,
        volumes,
        mounts,
    } = parts;
    // The init container that copies Kiln needs none of the grants; when the pod runs as
    // root, it names its own non-root user (the pod's would break its runAsNonRoot).
    let mut plain_security_context = container.security_context.clone();
    if u.run_as_root.is_some()
        && let Some(sc) = plain_security_context.as_mut()
        && sc.run_as_non_root == Some(true)
        && sc.run_as_user.is_none()
    {
        sc.run_as_user = Some(super::resources::RUNNER_UID);
        sc.run_as_group = Some(super::resources::RUNNER_UID);
    }
    for dev in &u.devices {
        match d.device_resources.get(&dev.name) {
            Some(resource) => {
                let res = container
                    .resources
                    .get_or_insert_with(ResourceRequirements::default);
                res.limits
                    .get_or_insert_with(BTreeMap::new)
                    .insert(resource.clone(), Quantity("1".into()));
            }
            None => {
                let name = format!(
                    "dev-{}",
                    dev.name
                        .trim_start_matches("/dev/")
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                        .to_lowercase()
                );
                volumes.push(Volume {
                    name: name.clone(),
                    host_path: Some(HostPathVolumeSource {
                        path: dev.name.clone(),
                        type_: Some("CharDevice".into()),
                    }),
                    ..Volume::default()
                });
                mounts.push(VolumeMount {
                    name,
                    mount_path: dev.name.clone(),
                    ..VolumeMount::default()
                });
            }
        }
    }
    if d.runner.security_context.is_none()
        && let Some(sc) = container.security_context.as_mut()
    {
        if !u.capabilities.is_empty() {
            let caps = sc.capabilities.get_or_insert_with(Capabilities::default);
            caps.add = Some(u.capabilities.iter().map(|g| g.name.clone()).collect());
        }
        if u.writable_root.is_some() {
            sc.read_only_root_filesystem = Some(false);
        }
        if u.run_as_root.is_some() {
            sc.run_as_non_root = Some(false);
            sc.run_as_user = Some(0);
            sc.run_as_group = Some(0);
        }
    }
    if u.run_as_root.is_some()
        && d.runner.pod_security_context.is_none()
        && let Some(psc) = pod.security_context.as_mut()
    {
        psc.run_as_non_root = Some(false);
        psc.run_as_user = Some(0);
        psc.run_as_group = Some(0);
        psc.fs_group = None;
    }
    if u.user_namespaces.is_some() {
        pod.host_users = Some(false);
    }
    if let Some(g) = &u.scratch_bytes {
        let bytes = Quantity(g.name.clone());
        if let Some(work) = volumes
            .iter_mut()
            .find(|v| v.name == "work")
            .and_then(|v| v.empty_dir.as_mut())
        {
            work.size_limit = Some(bytes.clone());
        }
        let res = container
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        res.requests
            .get_or_insert_with(BTreeMap::new)
            .entry("ephemeral-storage".into())
            .or_insert(bytes);
    }
    if let Some(image) = d
        .needs
        .tool_image
        .as_ref()
        .filter(|_| d.runner.image.is_none())
    {
        // A runner image with Kiln inside: the same command, another image.
        container.image = Some(image.clone());
    }
    if let Some(image) = u.image.as_ref().filter(|_| d.runner.image.is_none()) {
        container.image = Some(image.name.clone());
        container.command = Some(vec![INJECTED_KILN.into()]);
        let mount = VolumeMount {
            name: "kiln-bin".into(),
            mount_path: INJECTED_DIR.into(),
            ..VolumeMount::default()
        };
        mounts.push(VolumeMount {
            read_only: Some(true),
            ..mount.clone()
        });
        volumes.push(Volume {
            name: "kiln-bin".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
        pod.init_containers = Some(vec![Container {
            name: "kiln".into(),
            image: Some(d.kiln_image.to_string()),
            image_pull_policy: container.image_pull_policy.clone(),
            command: Some(vec![d.kiln_command.to_string()]),
            args: Some(vec!["install-self".into(), INJECTED_KILN.into()]),
            security_context: plain_security_context,
            volume_mounts: Some(vec![mount]),
            ..Container::default()
        }]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::build::snapshot::{Prepared, prepare_snapshot};
    use crate::controller::resources::tests::{build, snapshot};
    use crate::controller::resources::{self, RunnerDefaults};
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::SecurityContext;
    use kiln_engine::components::Grant;

    fn asks(r: Requirements) -> Requirements {
        r
    }

    fn pod(job: &Job) -> &PodSpec {
        job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
    }

    /// A snapshot of `sources`, each with its requirements.
    fn snapshot_with(sources: &[(&str, Requirements)]) -> Snapshot {
        let names: Vec<&str> = sources.iter().map(|(n, _)| *n).collect();
        let mut s = snapshot(&names);
        for (n, r) in sources {
            if !r.is_empty() {
                s.requirements.insert(n.to_string(), r.clone());
            }
        }
        s
    }

    #[test]
    fn nothing_asked_keeps_the_restricted_pod() {
        let b = build("b");
        let job = resources::job(&b, &snapshot(&["null.a"]), &RunnerDefaults::default()).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        let caps = sc.capabilities.as_ref().unwrap();
        assert_eq!(caps.drop.as_deref(), Some(&["ALL".to_string()][..]));
        assert_eq!(caps.add, None);
        assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
        let psc = p.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.run_as_user, Some(resources::RUNNER_UID));
        assert_eq!(p.host_users, None);
        assert_eq!(p.init_containers, None);
        assert_eq!(c.resources, None);
        let n = needs(&snapshot(&["null.a"]), None, &RunnerDefaults::default()).unwrap();
        assert_eq!(n.status(), None);
    }

    #[test]
    fn the_pod_gets_the_union_with_every_reason() {
        let vm = asks(Requirements {
            devices: vec![Grant::new("/dev/kvm", "accelerator = \"kvm\"")],
            scratch_bytes: Some(Grant::new("1000", "disk_size")),
            ..Requirements::default()
        });
        let other = asks(Requirements {
            devices: vec![
                Grant::new("/dev/kvm", "also kvm"),
                Grant::new("/dev/fuse", "mounts"),
            ],
            capabilities: vec![Grant::new("SYS_ADMIN", "mount(2)")],
            run_as_root: Some("writes /etc".into()),
            user_namespaces: Some("root only inside".into()),
            scratch_bytes: Some(Grant::new("5000", "bigger")),
            ..Requirements::default()
        });
        let snap = snapshot_with(&[
            ("qemu.vm", vm),
            ("null.plain", Requirements::default()),
            ("x.other", other),
        ]);
        let n = needs(&snap, None, &RunnerDefaults::default()).unwrap();
        let kvm = n
            .granted
            .iter()
            .find(|g| g.name.as_deref() == Some("/dev/kvm"))
            .unwrap();
        assert_eq!(kvm.kind, "device");
        assert_eq!(
            kvm.reason,
            "qemu.vm: accelerator = \"kvm\"; x.other: also kvm"
        );
        assert!(
            n.describe()
                .contains("capability SYS_ADMIN (x.other: mount(2))")
        );

        let b = build("b");
        let job = resources::job(&b, &snap, &RunnerDefaults::default()).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["devices.kubevirt.io/kvm"], Quantity("1".into()));
        let requests = c.resources.as_ref().unwrap().requests.as_ref().unwrap();
        assert_eq!(requests["ephemeral-storage"], Quantity("5000".into()));
        // /dev/fuse has no device plugin resource: mounted from the node.
        let fuse = p
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == "dev-fuse")
            .unwrap();
        assert_eq!(fuse.host_path.as_ref().unwrap().path, "/dev/fuse");
        assert!(
            c.volume_mounts
                .as_ref()
                .unwrap()
                .iter()
                .any(|m| m.mount_path == "/dev/fuse")
        );
        let work = p
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == "work")
            .unwrap();
        assert_eq!(
            work.empty_dir.as_ref().unwrap().size_limit,
            Some(Quantity("5000".into()))
        );
        let sc = c.security_context.as_ref().unwrap();
        let caps = sc.capabilities.as_ref().unwrap();
        assert_eq!(caps.add.as_deref(), Some(&["SYS_ADMIN".to_string()][..]));
        assert_eq!(
            caps.drop.as_deref(),
            Some(&["ALL".to_string()][..]),
            "still drops the rest"
        );
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
        assert_eq!((sc.run_as_non_root, sc.run_as_user), (Some(false), Some(0)));
        let psc = p.security_context.as_ref().unwrap();
        assert_eq!(
            (psc.run_as_non_root, psc.run_as_user),
            (Some(false), Some(0))
        );
        assert_eq!(p.host_users, Some(false));
    }

    #[test]
    fn spec_runner_overrides_and_the_override_is_recorded() {
        let snap = snapshot_with(&[(
            "x.a",
            Requirements {
                capabilities: vec![Grant::new("NET_ADMIN", "tap")],
                image: Some(Grant::new("debian:12", "runs in its base image")),
                ..Requirements::default()
            },
        )]);
        let mut b = build("b");
        b.spec.runner = Some(RunnerSpec {
            security_context: Some(resources::restricted_security_context()),
            image: Some("mine:1".into()),
            ..RunnerSpec::default()
        });
        let n = needs(&snap, b.spec.runner.as_ref(), &RunnerDefaults::default()).unwrap();
        let by = |kind: &str| {
            n.granted
                .iter()
                .find(|g| g.kind == kind)
                .unwrap()
                .overridden_by
                .clone()
        };
        assert_eq!(
            by("capability").as_deref(),
            Some("spec.runner.securityContext")
        );
        assert_eq!(by("image").as_deref(), Some("spec.runner.image"));
        let job = resources::job(&b, &snap, &RunnerDefaults::default()).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        assert_eq!(c.image.as_deref(), Some("mine:1"));
        assert_eq!(p.init_containers, None);
        assert_eq!(
            c.security_context
                .as_ref()
                .unwrap()
                .capabilities
                .as_ref()
                .unwrap()
                .add,
            None
        );
    }

    /// What the docker builder asks for in the cluster (its base image, root, a user
    /// namespace, a writable root, a few capabilities).
    fn docker_like() -> Requirements {
        Requirements {
            image: Some(Grant::new("reg:5000/base:1", "runs in its base image")),
            run_as_root: Some("provisioners run as the image's user".into()),
            user_namespaces: Some("root in the pod is unprivileged on the node".into()),
            writable_root: Some("provisioners change the image's files".into()),
            capabilities: vec![Grant::new("CHOWN", "chown of uploads")],
            ..Requirements::default()
        }
    }

    #[test]
    fn a_docker_source_gets_a_writable_root_in_its_own_user_namespace() {
        let snap = snapshot_with(&[("docker.a", docker_like())]);
        let job = resources::job(&build("b"), &snap, &RunnerDefaults::default()).unwrap();
        let p = pod(&job);
        assert_eq!(p.host_users, Some(false));
        let sc = p.containers[0].security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(false));
        assert_eq!(sc.run_as_user, Some(0));
        assert_eq!(sc.privileged, None);
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        // the init container that copies Kiln keeps the restricted defaults, as a non-root
        // user of its own (the pod's user is root)
        let init = &p.init_containers.as_ref().unwrap()[0];
        let isc = init.security_context.as_ref().unwrap();
        assert_eq!(isc.run_as_user, Some(resources::RUNNER_UID));
        assert_eq!(isc.run_as_non_root, Some(true));
        assert_eq!(
            SecurityContext {
                run_as_user: None,
                run_as_group: None,
                ..isc.clone()
            },
            resources::restricted_security_context()
        );
        let n = needs(&snap, None, &RunnerDefaults::default()).unwrap();
        let kinds: Vec<&str> = n.granted.iter().map(|g| g.kind.as_str()).collect();
        for k in [
            "writableRoot",
            "userNamespace",
            "runAsRoot",
            "capability",
            "image",
        ] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        assert!(n.granted.iter().all(|g| g.overridden_by.is_none()));
    }

    #[test]
    fn without_user_namespaces_the_pod_says_its_root_is_the_nodes() {
        let snap = snapshot_with(&[("docker.a", docker_like())]);
        let defaults = RunnerDefaults {
            user_namespaces: false,
            ..RunnerDefaults::default()
        };
        let job = resources::job(&build("b"), &snap, &defaults).unwrap();
        let p = pod(&job);
        assert_eq!(p.host_users, None);
        assert_eq!(
            p.containers[0]
                .security_context
                .as_ref()
                .unwrap()
                .run_as_user,
            Some(0)
        );
        let n = needs(&snap, None, &defaults).unwrap();
        let userns = n
            .granted
            .iter()
            .find(|g| g.kind == "userNamespace")
            .unwrap();
        assert_eq!(userns.overridden_by.as_deref(), Some(USERNS_OFF));
        assert!(n.union.user_namespaces.is_none());
    }

    #[test]
    fn registry_secrets_are_mounted_for_the_runner_and_pull_the_image() {
        let snap = snapshot_with(&[("docker.a", docker_like())]);
        let mut b = build("b");
        b.spec.runner = Some(
            serde_json::from_value(serde_json::json!({
                "registrySecrets": [{"name": "push-creds"}],
                "imagePullSecrets": [{"name": "other"}, {"name": "push-creds"}],
            }))
            .unwrap(),
        );
        let job = resources::job(&b, &snap, &RunnerDefaults::default()).unwrap();
        let p = pod(&job);
        let pulls: Vec<&str> = p
            .image_pull_secrets
            .as_ref()
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(pulls, ["other", "push-creds"]);
        let v = p
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == "registry-push-creds")
            .unwrap();
        let secret = v.secret.as_ref().unwrap();
        assert_eq!(secret.secret_name.as_deref(), Some("push-creds"));
        assert_eq!(secret.items.as_ref().unwrap()[0].key, ".dockerconfigjson");
        let m = p.containers[0]
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.name == "registry-push-creds")
            .unwrap();
        assert_eq!(m.mount_path, "/kiln/registry-auth/push-creds");
        assert_eq!(m.read_only, Some(true));
    }

    #[test]
    fn a_builder_image_gets_kiln_injected() {
        let snap = snapshot_with(&[(
            "docker.a",
            Requirements {
                image: Some(Grant::new("debian:12", "the build runs in its base image")),
                ..Requirements::default()
            },
        )]);
        let defaults = RunnerDefaults::default();
        let job = resources::job(&build("b"), &snap, &defaults).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        assert_eq!(c.image.as_deref(), Some("debian:12"));
        assert_eq!(c.command.as_deref(), Some(&[INJECTED_KILN.to_string()][..]));
        assert_eq!(c.args.as_deref(), Some(&["runner".to_string()][..]));
        let init = &p.init_containers.as_ref().unwrap()[0];
        assert_eq!(init.image.as_deref(), Some(defaults.image.as_str()));
        assert_eq!(
            init.args.as_deref(),
            Some(&["install-self".to_string(), INJECTED_KILN.to_string()][..])
        );
        assert_eq!(
            init.security_context,
            Some(resources::restricted_security_context())
        );
    }

    #[test]
    fn sources_in_different_images_cannot_share_a_job() {
        let img = |i: &str| Requirements {
            image: Some(Grant::new(i, "base")),
            ..Requirements::default()
        };
        let snap = snapshot_with(&[
            ("docker.a", img("debian:12")),
            ("docker.b", img("alpine:3")),
        ]);
        let e = resources::job(&build("b"), &snap, &RunnerDefaults::default()).unwrap_err();
        assert!(
            e.contains("docker.a in debian:12, docker.b in alpine:3"),
            "{e}"
        );
        assert!(e.contains("spec.only"), "{e}");
        let mixed = snapshot_with(&[
            ("docker.a", img("debian:12")),
            ("null.b", Requirements::default()),
        ]);
        let e = needs(&mixed, None, &RunnerDefaults::default()).unwrap_err();
        assert!(e.contains("null.b in the runner image"), "{e}");
        // One image for all: fine; spec.runner.image settles a conflict.
        let same = snapshot_with(&[
            ("docker.a", img("debian:12")),
            ("docker.b", img("debian:12")),
        ]);
        assert!(needs(&same, None, &RunnerDefaults::default()).is_ok());
        let runner = RunnerSpec {
            image: Some("all:1".into()),
            ..RunnerSpec::default()
        };
        assert!(needs(&snap, Some(&runner), &RunnerDefaults::default()).is_ok());
    }

    /// The test-only builder (`kiln-test-requirements`, feature `test-builders`) declares
    /// requirements from its config; they reach the snapshot of the selected sources only.
    #[test]
    fn requirements_come_from_the_selected_builders() {
        let template = r#"
source "kiln-test-requirements" "vm" {
  devices     = ["/dev/kvm"]
  run_as_root = true
  reason      = "boots a VM"
}
source "null" "plain" {
  communicator = "none"
}
build {
  sources = ["source.kiln-test-requirements.vm", "source.null.plain"]
}
"#;
        let mut b = build("b");
        b.spec.template_ref = None;
        b.spec.template = Some(kiln_crds::InlineTemplate {
            template: Some(template.into()),
            files: None,
        });
        let dir = tempfile::tempdir().unwrap();
        let Prepared::Ready(snap) = prepare_snapshot(&b, None, "u".into(), dir.path()) else {
            panic!("not ready")
        };
        assert_eq!(snap.builds, ["kiln-test-requirements.vm", "null.plain"]);
        let r = &snap.requirements["kiln-test-requirements.vm"];
        assert_eq!(r.devices, vec![Grant::new("/dev/kvm", "boots a VM")]);
        assert!(!snap.requirements.contains_key("null.plain"));
        // Survives the ConfigMap round trip.
        let cm = resources::snapshot_config_map(&b, &snap);
        assert_eq!(
            resources::read_snapshot(&cm).unwrap().requirements,
            snap.requirements
        );
        // Not selected: not required.
        b.spec.only = vec!["null.*".into()];
        let dir = tempfile::tempdir().unwrap();
        let Prepared::Ready(snap) = prepare_snapshot(&b, None, "u".into(), dir.path()) else {
            panic!("not ready")
        };
        assert!(snap.requirements.is_empty());
    }
}

#[cfg(test)]
mod tool_tests {
    use super::*;
    use crate::controller::build::snapshot::{Prepared, prepare_snapshot};
    use crate::controller::resources::tests::{build, snapshot};
    use crate::controller::resources::{self, RunnerDefaults};
    use k8s_openapi::api::batch::v1::Job;
    use kiln_engine::components::Grant;

    const QEMU_IMAGE: &str = "reg.example/kiln-qemu:1";

    fn with_qemu_image() -> RunnerDefaults {
        RunnerDefaults {
            tool_images: BTreeMap::from([("qemu".to_string(), QEMU_IMAGE.to_string())]),
            ..RunnerDefaults::default()
        }
    }

    fn pod(job: &Job) -> &PodSpec {
        job.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
    }

    /// The snapshot of a template with `sources`, through the operator's own door (the real
    /// qemu builder declares its requirements).
    fn snapshot_of(template: &str) -> Snapshot {
        let mut b = build("b");
        b.spec.template_ref = None;
        b.spec.template = Some(kiln_crds::InlineTemplate {
            template: Some(template.into()),
            files: None,
        });
        let dir = tempfile::tempdir().unwrap();
        match prepare_snapshot(&b, None, "u".into(), dir.path()) {
            Prepared::Ready(s) => *s,
            _ => panic!("the template is not valid"),
        }
    }

    fn qemu_template(accelerator: &str) -> String {
        format!(
            r#"
source "qemu" "vm" {{
  iso_url      = "https://example.com/boot.iso"
  iso_checksum = "none"
  accelerator  = "{accelerator}"
  disk_size    = "1G"
  ssh_username = "root"
  # mounted in the runner pod from a Secret: not there when the operator validates
  ssh_private_key_file = "/keys/id_ed25519"
  output_directory     = "/output/vm"
}}
source "null" "plain" {{
  communicator = "none"
}}
build {{
  sources = ["source.qemu.vm", "source.null.plain"]
}}
"#
        )
    }

    #[test]
    fn a_tcg_qemu_source_runs_in_the_tool_image_with_no_privilege() {
        let snap = snapshot_of(&qemu_template("tcg"));
        let r = &snap.requirements["qemu.vm"];
        assert!(r.devices.is_empty(), "{r:?}");
        assert_eq!(
            r.tools,
            vec![Grant::new("qemu", "runs qemu-system-x86_64 and qemu-img")]
        );
        // 1G twice (compaction); the remote ISO is not counted, and the reason says so.
        let scratch = r.scratch_bytes.as_ref().unwrap();
        assert_eq!(scratch.name, (2u64 << 30).to_string());
        assert!(scratch.why.contains("ISO is not counted"), "{scratch:?}");

        let defaults = with_qemu_image();
        let job = resources::job(&build("b"), &snap, &defaults).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        // The qemu runner image has Kiln inside: same command, nothing injected.
        assert_eq!(c.image.as_deref(), Some(QEMU_IMAGE));
        assert_eq!(c.command.as_deref(), Some(&[defaults.command.clone()][..]));
        assert_eq!(p.init_containers, None);
        // The restricted defaults, untouched: non-root, no capability, read-only root.
        assert_eq!(
            c.security_context,
            Some(resources::restricted_security_context())
        );
        assert_eq!(
            p.security_context,
            Some(resources::restricted_pod_security_context())
        );
        assert_eq!(p.host_users, None);
        assert!(
            p.volumes
                .as_ref()
                .unwrap()
                .iter()
                .all(|v| v.host_path.is_none())
        );
        let res = c.resources.as_ref().unwrap();
        assert_eq!(res.limits, None, "no device");
        assert_eq!(
            res.requests.as_ref().unwrap()["ephemeral-storage"],
            Quantity((2u64 << 30).to_string())
        );
        let work = p
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == "work")
            .unwrap();
        assert_eq!(
            work.empty_dir.as_ref().unwrap().size_limit,
            Some(Quantity((2u64 << 30).to_string()))
        );

        // Recorded with the reasons: the tool, the image, the scratch space.
        let n = needs(&snap, None, &defaults).unwrap();
        let find = |kind: &str| n.granted.iter().find(|g| g.kind == kind).unwrap();
        assert_eq!(find("tool").name.as_deref(), Some("qemu"));
        assert_eq!(
            find("tool").reason,
            "qemu.vm: runs qemu-system-x86_64 and qemu-img"
        );
        assert_eq!(find("image").name.as_deref(), Some(QEMU_IMAGE));
        assert_eq!(
            find("image").reason,
            "the runner image with the qemu tools (--runner-tool-image), for qemu.vm (qemu)"
        );
        assert!(find("scratch").reason.starts_with("qemu.vm: the disks"));
        let kinds: Vec<&str> = n.granted.iter().map(|g| g.kind.as_str()).collect();
        assert_eq!(kinds, ["scratch", "tool", "image"]);
        assert_eq!(n.status().unwrap().granted, n.granted);
    }

    #[test]
    fn a_kvm_qemu_source_also_gets_the_kvm_device() {
        let snap = snapshot_of(&qemu_template("kvm"));
        let job = resources::job(&build("b"), &snap, &with_qemu_image()).unwrap();
        let p = pod(&job);
        let c = &p.containers[0];
        assert_eq!(c.image.as_deref(), Some(QEMU_IMAGE));
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(limits["devices.kubevirt.io/kvm"], Quantity("1".into()));
        // Still no privilege: the device plugin grants the device.
        assert_eq!(
            c.security_context,
            Some(resources::restricted_security_context())
        );
        let n = needs(&snap, None, &with_qemu_image()).unwrap();
        assert!(
            n.describe()
                .contains("device /dev/kvm (qemu.vm: accelerator = \"kvm\""),
            "{}",
            n.describe()
        );
    }

    #[test]
    fn without_a_tool_image_the_runner_image_is_used_and_the_grant_says_so() {
        let snap = snapshot_of(&qemu_template("tcg"));
        let defaults = RunnerDefaults::default();
        let job = resources::job(&build("b"), &snap, &defaults).unwrap();
        assert_eq!(
            pod(&job).containers[0].image.as_deref(),
            Some(defaults.image.as_str())
        );
        let n = needs(&snap, None, &defaults).unwrap();
        assert!(n.granted.iter().all(|g| g.kind != "image"));
        let tool = n.granted.iter().find(|g| g.kind == "tool").unwrap();
        assert!(
            tool.reason
                .contains("no --runner-tool-image for qemu: the runner image must have them"),
            "{}",
            tool.reason
        );
    }

    #[test]
    fn tools_in_different_images_cannot_share_a_job_and_spec_runner_image_settles_it() {
        let tools = |t: &str| Requirements {
            tools: vec![Grant::new(t, format!("runs {t}"))],
            ..Requirements::default()
        };
        let mut snap = snapshot(&["qemu.a", "x.b"]);
        snap.requirements.insert("qemu.a".into(), tools("qemu"));
        snap.requirements.insert("x.b".into(), tools("other"));
        let mut defaults = with_qemu_image();
        defaults
            .tool_images
            .insert("other".into(), "reg.example/other:1".into());
        let e = needs(&snap, None, &defaults).unwrap_err();
        assert!(
            e.contains(
                "qemu.a (qemu) in reg.example/kiln-qemu:1; x.b (other) in reg.example/other:1"
            ),
            "{e}"
        );
        assert!(
            e.contains("spec.only") && e.contains("spec.runner.image"),
            "{e}"
        );
        let runner = RunnerSpec {
            image: Some("all:1".into()),
            ..RunnerSpec::default()
        };
        let n = needs(&snap, Some(&runner), &defaults).unwrap();
        assert_eq!(n.tool_image, None);
        let mut b = build("b");
        b.spec.runner = Some(runner);
        let job = resources::job(&b, &snap, &defaults).unwrap();
        assert_eq!(pod(&job).containers[0].image.as_deref(), Some("all:1"));
        // The same image for both tool sets: one pod template.
        defaults
            .tool_images
            .insert("other".into(), QEMU_IMAGE.into());
        let n = needs(&snap, None, &defaults).unwrap();
        assert_eq!(n.tool_image.as_deref(), Some(QEMU_IMAGE));
        let image = n.granted.iter().find(|g| g.kind == "image").unwrap();
        assert_eq!(
            image.reason,
            "the runner image with the other, qemu tools (--runner-tool-image), for qemu.a (qemu), x.b (other)"
        );
    }

    #[test]
    fn a_qemu_source_and_a_docker_source_stay_refused() {
        let mut snap = snapshot(&["qemu.a", "docker.b"]);
        snap.requirements.insert(
            "qemu.a".into(),
            Requirements {
                tools: vec![Grant::new("qemu", "runs qemu")],
                ..Requirements::default()
            },
        );
        snap.requirements.insert(
            "docker.b".into(),
            Requirements {
                image: Some(Grant::new("debian:12", "its base image")),
                ..Requirements::default()
            },
        );
        let e = needs(&snap, None, &with_qemu_image()).unwrap_err();
        assert!(
            e.contains("qemu.a in the runner image, docker.b in debian:12"),
            "{e}"
        );
    }
}
