//! The objects an ImageBuild owns, built by pure functions (no API calls): the snapshot
//! ConfigMap, the runner ServiceAccount, Role and RoleBinding, and the Indexed Job.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, KeyToPath, ObjectFieldSelector, PodSecurityContext, PodSpec, PodTemplateSpec,
    SeccompProfile, SecretKeySelector, SecretVolumeSource, SecurityContext, ServiceAccount, Volume,
    VolumeMount,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kiln_crds::{ImageBuild, RunnerSpec};
use kube::{Resource, ResourceExt};

use crate::contract::{Exit, REGISTRY_AUTH_DIR, RETRIES_ENV, SPARE_ATTEMPTS};
pub use crate::contract::{
    SNAPSHOT_DIR, SNAPSHOT_KEY, Snapshot, WORK_DIR, read_snapshot, secret_env_name,
};
use sha2::{Digest, Sha256};

use super::runner_pod;

/// Label on every object the operator creates for a build: the build's name.
pub const BUILD_LABEL: &str = "kiln.dev/build";
/// Label on every object the operator creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "kiln-operator";
/// Seconds a runner pod gets after SIGTERM: the engine's cleanup deadline per step (15 min)
/// plus a margin for the status write.
pub const TERMINATION_GRACE_SECONDS: i64 = 16 * 60;
/// The uid/gid runner pods run as when no security context is given (distroless `nonroot`).
pub const RUNNER_UID: i64 = 65532;

/// What the operator adds to every runner pod.
#[derive(Clone, Debug, PartialEq)]
pub struct RunnerDefaults {
    pub image: String,
    pub image_pull_policy: Option<String>,
    /// The runner container's command (the `kiln` binary, by name on `PATH` or by path);
    /// its arguments are `runner`.
    pub command: String,
    /// Prefix of the ServiceAccount (and Role, RoleBinding) created per build.
    pub service_account_prefix: String,
    /// Pod settings for builds whose `spec.runner` leaves them unset: `resources`,
    /// `nodeSelector`, `tolerations` (the chart's `runner.*` values).
    pub pod: RunnerSpec,
    /// The extended resource that grants a device, by device path (a builder that needs
    /// `/dev/kvm` gets `devices.kubevirt.io/kvm: 1`); other devices are mounted from the node.
    pub device_resources: BTreeMap<String, String>,
    /// Whether a builder that asks for a user namespace gets one (`--runner-user-namespaces`).
    pub user_namespaces: bool,
    /// The runner image for each tool set a builder runs (`qemu` → an image with
    /// `qemu-system-x86_64` and `qemu-img`; `--runner-tool-image`): used for builds whose
    /// `spec.runner.image` is unset.
    pub tool_images: BTreeMap<String, String>,
}

impl Default for RunnerDefaults {
    fn default() -> Self {
        RunnerDefaults {
            image: concat!("ghcr.io/kiln-dev/kiln:", env!("CARGO_PKG_VERSION")).into(),
            image_pull_policy: None,
            command: "kiln".into(),
            service_account_prefix: "kiln-runner-".into(),
            pod: RunnerSpec::default(),
            device_resources: super::runner_pod::default_device_resources(),
            user_namespaces: true,
            tool_images: BTreeMap::new(),
        }
    }
}

/// A DNS-label-safe name derived from `base`: `prefix + base` when it fits in 63
/// characters, else a truncated form with a hash of the whole.
pub fn child_name(prefix: &str, base: &str) -> String {
    let full = format!("{prefix}{base}");
    if full.len() <= 63 {
        return full;
    }
    let digest = Sha256::digest(full.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = 63 - 1 - hash.len();
    let mut head: String = full.chars().take(keep).collect();
    while head.ends_with('-') || head.ends_with('.') {
        head.pop();
    }
    format!("{head}-{hash}")
}

/// The pod annotation in which the Job controller counts an index's failures (Jobs with
/// `backoffLimitPerIndex`).
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";

pub fn snapshot_name(build: &str) -> String {
    child_name("", &format!("{build}-snapshot"))
}

pub fn job_name(build: &str) -> String {
    child_name("kiln-", build)
}

pub fn role_name(build: &str) -> String {
    child_name("kiln-runner-", build)
}

pub fn service_account_name(build: &ImageBuild, defaults: &RunnerDefaults) -> String {
    build
        .spec
        .runner
        .as_ref()
        .and_then(|r| r.service_account_name.clone())
        .unwrap_or_else(|| child_name(&defaults.service_account_prefix, &build.name_any()))
}

fn owner(build: &ImageBuild) -> OwnerReference {
    let mut o = build
        .controller_owner_ref(&())
        .expect("an ImageBuild from the API has a name and uid");
    o.block_owner_deletion = Some(true);
    o
}

pub fn labels(build: &ImageBuild) -> BTreeMap<String, String> {
    BTreeMap::from([
        (BUILD_LABEL.to_string(), build.name_any()),
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
    ])
}

fn meta(build: &ImageBuild, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: build.namespace(),
        labels: Some(labels(build)),
        owner_references: Some(vec![owner(build)]),
        ..ObjectMeta::default()
    }
}

/// The snapshot ConfigMap: immutable, owned by the build.
pub fn snapshot_config_map(build: &ImageBuild, snapshot: &Snapshot) -> ConfigMap {
    ConfigMap {
        metadata: meta(build, snapshot_name(&build.name_any())),
        immutable: Some(true),
        data: Some(BTreeMap::from([(
            SNAPSHOT_KEY.to_string(),
            serde_json::to_string_pretty(snapshot).expect("a snapshot serializes"),
        )])),
        ..ConfigMap::default()
    }
}

pub fn service_account(build: &ImageBuild, defaults: &RunnerDefaults) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(build, service_account_name(build, defaults)),
        ..ServiceAccount::default()
    }
}

/// The runner's Role: read and patch this ImageBuild (and its status), read its snapshot.
/// Nothing else.
pub fn role(build: &ImageBuild) -> Role {
    let name = build.name_any();
    Role {
        metadata: meta(build, role_name(&name)),
        rules: Some(vec![
            PolicyRule {
                api_groups: Some(vec![kiln_crds::GROUP.to_string()]),
                resources: Some(vec![
                    "imagebuilds".to_string(),
                    "imagebuilds/status".to_string(),
                ]),
                resource_names: Some(vec![name.clone()]),
                verbs: vec!["get".to_string(), "patch".to_string()],
                ..PolicyRule::default()
            },
            PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["configmaps".to_string()]),
                resource_names: Some(vec![snapshot_name(&name)]),
                verbs: vec!["get".to_string()],
                ..PolicyRule::default()
            },
        ]),
    }
}

pub fn role_binding(build: &ImageBuild, defaults: &RunnerDefaults) -> RoleBinding {
    let name = build.name_any();
    RoleBinding {
        metadata: meta(build, role_name(&name)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: role_name(&name),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: service_account_name(build, defaults),
            namespace: build.namespace(),
            ..Subject::default()
        }]),
    }
}

/// The restricted container security context (Pod Security Standard "restricted").
pub fn restricted_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

pub fn restricted_pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUNNER_UID),
        run_as_group: Some(RUNNER_UID),
        fs_group: Some(RUNNER_UID),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// The Indexed Job running the build: one completion per selected build, `parallelism` =
/// `spec.parallelBuilds` (0 = all), `backoffLimitPerIndex` = `spec.retries` plus
/// [`SPARE_ATTEMPTS`] (the runner fails the index itself once the build's retries are used
/// up: [`pod_failure_policy`]), `activeDeadlineSeconds` = `spec.timeout`.
pub fn job(
    build: &ImageBuild,
    snapshot: &Snapshot,
    defaults: &RunnerDefaults,
) -> Result<Job, String> {
    let name = build.name_any();
    let count = snapshot.builds.len() as i32;
    let parallelism = match build.spec.parallel_builds {
        n if n > 0 => n.min(count),
        _ => count,
    };
    let timeout = build
        .spec
        .timeout_seconds()
        .map_err(|e| format!("spec.timeout: {e}"))?;
    let needs = runner_pod::needs(snapshot, build.spec.runner.as_ref(), defaults)?;
    let mut runner = build.spec.runner.clone().unwrap_or_default();
    if runner.resources.is_none() {
        runner.resources = defaults.pod.resources.clone();
    }
    if runner.node_selector.is_empty() {
        runner.node_selector = defaults.pod.node_selector.clone();
    }
    if runner.tolerations.is_empty() {
        runner.tolerations = defaults.pod.tolerations.clone();
    }

    let mut envs = vec![
        env("KILN_BUILD_NAME", &name),
        EnvVar {
            name: "KILN_NAMESPACE".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.namespace".into(),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: "KILN_POD_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: "KILN_INDEX_FAILURES".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: format!("metadata.annotations['{INDEX_FAILURE_COUNT}']"),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        env("KILN_SNAPSHOT_DIR", SNAPSHOT_DIR),
        env("KILN_WORK_DIR", WORK_DIR),
        // Downloads (the qemu builder's ISOs, disk images) are cached beside the work.
        env("PACKER_CACHE_DIR", format!("{WORK_DIR}/packer_cache")),
        env("HOME", "/tmp"),
        env("TMPDIR", "/tmp"),
        env("PACKER_RUN_UUID", &snapshot.run_uuid),
        env("PACKER_NO_COLOR", "1"),
        env(RETRIES_ENV, build.spec.retries.to_string()),
    ];
    for sv in &build.spec.secret_variables {
        envs.push(EnvVar {
            name: secret_env_name(&sv.name),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: sv.secret_key_ref.name.clone(),
                    key: sv.secret_key_ref.key.clone(),
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    // The operator's default env first, so a build's own entry of the same name wins.
    envs.extend(defaults.pod.env.iter().cloned());
    envs.extend(runner.env.iter().cloned());

    let mut mounts = vec![
        VolumeMount {
            name: "snapshot".into(),
            mount_path: SNAPSHOT_DIR.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        },
        VolumeMount {
            name: "work".into(),
            mount_path: WORK_DIR.into(),
            ..VolumeMount::default()
        },
    ];
    mounts.extend(runner.volume_mounts.iter().cloned());
    let mut volumes = vec![
        Volume {
            name: "snapshot".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: snapshot_name(&name),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        Volume {
            name: "work".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
    ];
    volumes.extend(runner.volumes.iter().cloned());
    // Registry credentials: each Secret's `.dockerconfigjson` at REGISTRY_AUTH_DIR/<name>/,
    // where the runner reads them (`contract::docker_configs`).
    for secret in &runner.registry_secrets {
        let volume = format!("registry-{}", secret.name);
        volumes.push(Volume {
            name: volume.clone(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.name.clone()),
                items: Some(vec![KeyToPath {
                    key: ".dockerconfigjson".into(),
                    path: ".dockerconfigjson".into(),
                    mode: None,
                }]),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: volume,
            mount_path: format!("{REGISTRY_AUTH_DIR}/{}", secret.name),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    let mut pull_secrets = runner.image_pull_secrets.clone();
    for s in &runner.registry_secrets {
        if !pull_secrets.iter().any(|p| p.name == s.name) {
            pull_secrets.push(s.clone());
        }
    }

    let mut container = Container {
        name: RUNNER_CONTAINER.into(),
        image: Some(
            runner
                .image
                .clone()
                .unwrap_or_else(|| defaults.image.clone()),
        ),
        image_pull_policy: runner
            .image_pull_policy
            .map(|p| p.as_str().to_string())
            .or_else(|| defaults.image_pull_policy.clone()),
        command: Some(vec![defaults.command.clone()]),
        args: Some(vec!["runner".into()]),
        env: Some(envs),
        working_dir: Some(WORK_DIR.into()),
        resources: runner.resources.clone(),
        security_context: Some(
            runner
                .security_context
                .clone()
                .unwrap_or_else(restricted_security_context),
        ),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    };

    let mut pod_labels = runner.pod_labels.clone();
    pod_labels.extend(labels(build));
    let mut pod = PodSpec {
        restart_policy: Some("Never".into()),
        service_account_name: Some(service_account_name(build, defaults)),
        automount_service_account_token: Some(true),
        termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
        node_selector: (!runner.node_selector.is_empty()).then(|| runner.node_selector.clone()),
        tolerations: (!runner.tolerations.is_empty()).then(|| runner.tolerations.clone()),
        affinity: runner.affinity.clone(),
        image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
        priority_class_name: runner.priority_class_name.clone(),
        security_context: Some(
            runner
                .pod_security_context
                .clone()
                .unwrap_or_else(restricted_pod_security_context),
        ),
        enable_service_links: Some(false),
        ..PodSpec::default()
    };
    let derivation = runner_pod::Derivation {
        needs: &needs,
        runner: &runner,
        device_resources: &defaults.device_resources,
        kiln_image: &defaults.image,
        kiln_command: &defaults.command,
    };
    runner_pod::grant(
        &derivation,
        runner_pod::PodParts {
            pod: &mut pod,
            container: &mut container,
            volumes: &mut volumes,
            mounts: &mut mounts,
        },
    );
    container.volume_mounts = Some(mounts);
    pod.volumes = Some(volumes);
    pod.containers = vec![container];

    Ok(Job {
        metadata: meta(build, job_name(&name)),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(count),
            parallelism: Some(parallelism),
            backoff_limit_per_index: Some(build.spec.retries.saturating_add(SPARE_ATTEMPTS)),
            pod_failure_policy: Some(pod_failure_policy()),
            active_deadline_seconds: timeout,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: (!runner.pod_annotations.is_empty())
                        .then(|| runner.pod_annotations.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    })
}

/// What the Job does with a failed runner pod, first rule that matches:
/// - a pod the cluster took away (eviction, preemption, node drain: the `DisruptionTarget`
///   condition) or whose runner a signal stopped ([`Exit::Interrupted`]: deleted by hand, a
///   duplicate removed by the Job controller) is not the build's failure: ignored, the index
///   runs again without counting a retry;
/// - a runner whose build failed on its last attempt ([`Exit::Final`]) fails the index;
/// - anything else (a build that may be retried, a runner that could not report, a pod the
///   kubelet rejected or lost) is counted against `spec.retries` plus the spare attempts.
fn pod_failure_policy() -> PodFailurePolicy {
    let on_exit = |action: &str, exit: Exit| PodFailurePolicyRule {
        action: action.into(),
        on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
            container_name: Some(RUNNER_CONTAINER.into()),
            operator: "In".into(),
            values: vec![exit.code()],
        }),
        ..PodFailurePolicyRule::default()
    };
    PodFailurePolicy {
        rules: vec![
            PodFailurePolicyRule {
                action: "Ignore".into(),
                on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                    type_: "DisruptionTarget".into(),
                    status: "True".into(),
                }]),
                ..PodFailurePolicyRule::default()
            },
            on_exit("Ignore", Exit::Interrupted),
            on_exit("FailIndex", Exit::Final),
        ],
    }
}

/// The name of the runner pods' (only) container.
pub const RUNNER_CONTAINER: &str = "runner";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kiln_crds::{ImageBuildSpec, ImagePullPolicy, RunnerSpec, SecretKeyRef, SecretVariable};

    pub fn build(name: &str) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template("tpl"));
        b.metadata.namespace = Some("ns".into());
        b.metadata.uid = Some("uid-1".into());
        b.metadata.generation = Some(1);
        b
    }

    pub use crate::contract::tests::snapshot;

    #[test]
    fn names_fit_in_a_label() {
        assert_eq!(job_name("b"), "kiln-b");
        let long = "a".repeat(63);
        let n = job_name(&long);
        assert_eq!(n.len(), 63);
        assert_ne!(job_name(&long), job_name(&"a".repeat(62)));
        assert_eq!(snapshot_name("b"), "b-snapshot");
        assert!(snapshot_name(&long).len() <= 63);
    }

    #[test]
    fn job_has_one_completion_per_source() {
        let mut b = build("b");
        b.spec.parallel_builds = 1;
        b.spec.retries = 2;
        b.spec.timeout = Some("1h30m".into());
        let j = job(
            &b,
            &snapshot(&["null.a", "null.b", "null.c"]),
            &RunnerDefaults::default(),
        )
        .unwrap();
        let s = j.spec.as_ref().unwrap();
        assert_eq!(s.completion_mode.as_deref(), Some("Indexed"));
        assert_eq!(s.completions, Some(3));
        assert_eq!(s.parallelism, Some(1));
        // Two retries of the build itself, two spare attempts for pods that fail for
        // other reasons.
        assert_eq!(s.backoff_limit_per_index, Some(4));
        let rules = &s.pod_failure_policy.as_ref().unwrap().rules;
        assert_eq!(rules[0].action, "Ignore");
        assert_eq!(
            rules[0].on_pod_conditions.as_ref().unwrap()[0].type_,
            "DisruptionTarget"
        );
        let exit = |r: &PodFailurePolicyRule| {
            let e = r.on_exit_codes.clone().unwrap();
            (r.action.clone(), e.container_name, e.operator, e.values)
        };
        let want = |action: &str, code| {
            (
                action.into(),
                Some("runner".into()),
                "In".into(),
                vec![code],
            )
        };
        assert_eq!(exit(&rules[1]), want("Ignore", 143));
        assert_eq!(exit(&rules[2]), want("FailIndex", 3));
        assert_eq!(rules.len(), 3);
        let runner = &j
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        assert_eq!(runner.name, "runner");
        let retries = runner
            .env
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.name == "KILN_RETRIES")
            .unwrap();
        assert_eq!(retries.value.as_deref(), Some("2"));
        assert_eq!(s.active_deadline_seconds, Some(5400));
        let owner = &j.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(owner.kind, "ImageBuild");
        assert_eq!(owner.controller, Some(true));
        let pod = s.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.service_account_name.as_deref(), Some("kiln-runner-b"));
        assert_eq!(
            pod.termination_grace_period_seconds,
            Some(TERMINATION_GRACE_SECONDS)
        );
        let c = &pod.containers[0];
        assert_eq!(c.command.as_ref().unwrap(), &["kiln"]);
        assert_eq!(c.args.as_ref().unwrap(), &["runner"]);
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_ref().unwrap(),
            &["ALL"]
        );
        let psc = pod.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(
            psc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault"
        );
        let mounts: Vec<_> = c
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .map(|m| m.mount_path.as_str())
            .collect();
        assert_eq!(mounts, [SNAPSHOT_DIR, "/tmp", WORK_DIR]);
        // The runner learns its attempt from the Job controller's per-index failure count.
        let failures = c
            .env
            .as_ref()
            .unwrap()
            .iter()
            .find(|e| e.name == "KILN_INDEX_FAILURES")
            .unwrap();
        assert_eq!(
            failures
                .value_from
                .as_ref()
                .unwrap()
                .field_ref
                .as_ref()
                .unwrap()
                .field_path,
            "metadata.annotations['batch.kubernetes.io/job-index-failure-count']"
        );
        let labels = s
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels[BUILD_LABEL], "b");
    }

    #[test]
    fn parallelism_defaults_to_all_and_is_capped() {
        let mut b = build("b");
        let snap = snapshot(&["a", "b"]);
        let j = job(&b, &snap, &RunnerDefaults::default()).unwrap();
        assert_eq!(j.spec.unwrap().parallelism, Some(2));
        b.spec.parallel_builds = 5;
        let j = job(&b, &snap, &RunnerDefaults::default()).unwrap();
        assert_eq!(j.spec.unwrap().parallelism, Some(2));
    }

    #[test]
    fn operator_pod_defaults_fill_unset_fields() {
        let defaults = RunnerDefaults {
            pod: serde_json::from_value(serde_json::json!({
                "nodeSelector": {"pool": "builds"},
                "resources": {"limits": {"cpu": "2"}}
            }))
            .unwrap(),
            ..RunnerDefaults::default()
        };
        let j = job(&build("b"), &snapshot(&["a"]), &defaults).unwrap();
        let pod = j.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.node_selector.unwrap()["pool"], "builds");
        assert!(pod.containers[0].resources.is_some());
    }

    #[test]
    fn secret_variables_are_env_from_secrets() {
        let mut b = build("b");
        b.spec.secret_variables = vec![SecretVariable {
            name: "password".into(),
            secret_key_ref: SecretKeyRef {
                name: "creds".into(),
                key: "pw".into(),
            },
        }];
        let j = job(&b, &snapshot(&["a"]), &RunnerDefaults::default()).unwrap();
        let pod = j.spec.unwrap().template.spec.unwrap();
        let envs = pod.containers[0].env.clone().unwrap();
        let e = envs.iter().find(|e| e.name == "PKR_VAR_password").unwrap();
        assert!(e.value.is_none());
        let sk = e
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!((sk.name.as_str(), sk.key.as_str()), ("creds", "pw"));
    }

    #[test]
    fn runner_spec_overrides_defaults() {
        let mut b = build("b");
        b.spec.runner = Some(RunnerSpec {
            image: Some("my/kiln:1".into()),
            image_pull_policy: Some(ImagePullPolicy::Never),
            service_account_name: Some("cloud".into()),
            security_context: Some(SecurityContext {
                privileged: Some(true),
                ..SecurityContext::default()
            }),
            node_selector: BTreeMap::from([("kvm".into(), "true".into())]),
            ..RunnerSpec::default()
        });
        let defaults = RunnerDefaults::default();
        let j = job(&b, &snapshot(&["a"]), &defaults).unwrap();
        let pod = j.spec.unwrap().template.spec.unwrap();
        assert_eq!(pod.service_account_name.as_deref(), Some("cloud"));
        assert_eq!(pod.node_selector.unwrap()["kvm"], "true");
        let c = &pod.containers[0];
        assert_eq!(c.image.as_deref(), Some("my/kiln:1"));
        assert_eq!(c.image_pull_policy.as_deref(), Some("Never"));
        assert_eq!(c.security_context.as_ref().unwrap().privileged, Some(true));
        // The RoleBinding binds the build's Role to the given account.
        let rb = role_binding(&b, &defaults);
        assert_eq!(rb.subjects.unwrap()[0].name, "cloud");
    }

    #[test]
    fn role_is_limited_to_the_build() {
        let r = role(&build("b"));
        let rules = r.rules.unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].resource_names.as_ref().unwrap(), &["b"]);
        assert_eq!(rules[0].verbs, ["get", "patch"]);
        assert_eq!(
            rules[0].resources.as_ref().unwrap(),
            &["imagebuilds", "imagebuilds/status"]
        );
        assert_eq!(rules[1].resource_names.as_ref().unwrap(), &["b-snapshot"]);
        assert_eq!(rules[1].verbs, ["get"]);
    }

    #[test]
    fn snapshot_round_trips_through_its_config_map() {
        let b = build("b");
        let snap = snapshot(&["null.a", "null.b"]);
        let cm = snapshot_config_map(&b, &snap);
        assert_eq!(cm.immutable, Some(true));
        assert_eq!(cm.metadata.name.as_deref(), Some("b-snapshot"));
        assert_eq!(read_snapshot(&cm).unwrap(), snap);
    }
}
