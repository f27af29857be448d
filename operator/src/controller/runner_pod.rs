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
/// `user_namespaces` is the operator's policy (`--runner-user-namespaces`): when false (the
/// nodes' container runtime cannot give pods their own user namespace), a source that asks
/// for one still runs, as root in its pod without it, and the grant says so.
pub fn needs(
    snapshot: &Snapshot,
    runner: Option<&RunnerSpec>,
    user_namespaces: bool,
) -> Result<RunnerNeeds, String> {
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
        let n = needs(&snapshot(&["null.a"]), None, true).unwrap();
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
        let n = needs(&snap, None, true).unwrap();
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
        let n = needs(&snap, b.spec.runner.as_ref(), true).unwrap();
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
        let n = needs(&snap, None, true).unwrap();
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
        let n = needs(&snap, None, false).unwrap();
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
        let e = needs(&mixed, None, true).unwrap_err();
        assert!(e.contains("null.b in the runner image"), "{e}");
        // One image for all: fine; spec.runner.image settles a conflict.
        let same = snapshot_with(&[
            ("docker.a", img("debian:12")),
            ("docker.b", img("debian:12")),
        ]);
        assert!(needs(&same, None, true).is_ok());
        let runner = RunnerSpec {
            image: Some("all:1".into()),
            ..RunnerSpec::default()
        };
        assert!(needs(&snap, Some(&runner), true).is_ok());
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
