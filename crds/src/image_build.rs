//! `ImageBuild`: one run of a template, executed as an Indexed Job (one completion per
//! selected source).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, LocalObjectReference, PodSecurityContext, ResourceRequirements,
    SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{TemplateFile, TemplateRef, VariableValues, variables_schema};
use crate::condition::Condition;
use crate::duration::{DurationError, parse_duration};

/// One run of a template: which template, with which variables, on which sources and with
/// which runner pod settings. Everything but `cancel` and `revoked` is fixed at creation:
/// create a new ImageBuild to run again.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "kiln.dev",
    version = "v1alpha1",
    kind = "ImageBuild",
    namespaced,
    status = "ImageBuildStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "imgbuild",
    shortname = "ib",
    category = "kiln",
    selectable = ".spec.templateRef.name",
    selectable = ".status.phase",
    doc = "An ImageBuild is one run of a Packer HCL2 template (an ImageTemplate, or a template given inline). Each selected source runs in its own pod of one Indexed Job; progress, artifacts and the Packer manifest appear in status. The spec is fixed at creation except `cancel` and `revoked`.",
    validation = Rule::new("self.metadata.name.size() <= 63")
        .message("an ImageBuild's name must be at most 63 characters: it is used as a label value"),
    printcolumn(
        name = "Phase",
        type_ = "string",
        json_path = ".status.phase",
        description = "Pending, Running, Succeeded, Failed or Cancelled"
    ),
    printcolumn(
        name = "Template",
        type_ = "string",
        json_path = ".spec.templateRef.name",
        description = "The ImageTemplate this build runs (empty for an inline template)"
    ),
    printcolumn(
        name = "Sources",
        type_ = "string",
        json_path = ".status.sourcesSummary",
        description = "Sources finished / sources selected"
    ),
    printcolumn(
        name = "Duration",
        type_ = "string",
        json_path = ".status.duration",
        description = "How long the build ran, once finished"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#,
        description = "Why the build is or is not Ready",
        priority = 1
    ),
    printcolumn(
        name = "Started",
        type_ = "date",
        json_path = ".status.startTime",
        description = "When the build's Job started",
        priority = 1
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("has(self.templateRef) != has(self.template)")
    .message("set exactly one of spec.templateRef and spec.template"))]
#[x_kube(validation = Rule::new("!has(self.only) || !has(self.except)")
    .message("set at most one of spec.only and spec.except"))]
#[x_kube(validation = Rule::new(
    "has(self.templateRef) == has(oldSelf.templateRef) && has(self.template) == has(oldSelf.template) && has(self.variables) == has(oldSelf.variables) && has(self.secretVariables) == has(oldSelf.secretVariables) && has(self.only) == has(oldSelf.only) && has(self.except) == has(oldSelf.except) && has(self.timeout) == has(oldSelf.timeout) && has(self.runner) == has(oldSelf.runner) && has(self.dedupe) == has(oldSelf.dedupe)"
).message("spec is immutable once created, except cancel and revoked: create a new ImageBuild instead"))]
#[serde(rename_all = "camelCase")]
pub struct ImageBuildSpec {
    /// The ImageTemplate to run, in the same namespace. The build runs a snapshot of it taken
    /// when the build starts, so later edits to the template do not affect it. Set exactly one
    /// of `templateRef` and `template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("templateRef is immutable"))]
    pub template_ref: Option<TemplateRef>,

    /// A template given inline instead of by reference, for one-off builds. Set exactly one
    /// of `templateRef` and `template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("template is immutable"))]
    pub template: Option<InlineTemplate>,

    /// Values of the template's input variables, by name, as JSON matching each variable's
    /// type (`"text"`, `3`, `true`, `["a"]`, `{"k": "v"}`). They override the template's
    /// defaults. An unknown variable, or a value of the wrong type, fails the build before any
    /// pod starts. Use `secretVariables` for secrets.
    #[serde(default, skip_serializing_if = "VariableValues::is_empty")]
    #[schemars(schema_with = "variables_schema")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("variables are immutable"))]
    pub variables: VariableValues,

    /// Variables whose values come from keys of Secrets in the build's namespace. The values
    /// reach the runner pods as environment variables and are never written to status, logs
    /// or events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["name".into()]),
        validation = Rule::new("self == oldSelf").message("secretVariables are immutable")
    )]
    pub secret_variables: Vec<SecretVariable>,

    /// Run only the sources matching one of these globs (Packer's `-only`), matched against
    /// `type.name` and `<build name>.type.name`, for example `qemu.*` or `*.ubuntu`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("only is immutable"))]
    pub only: Vec<String>,

    /// Skip the sources matching one of these globs (Packer's `-except`). Set at most one of
    /// `only` and `except`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("except is immutable"))]
    pub except: Vec<String>,

    /// How many sources build at the same time (the Job's `parallelism`). 0, the default,
    /// builds all selected sources at once, like Packer's `-parallel-builds=0`.
    #[serde(default)]
    #[schemars(range(min = 0, max = 2147483647))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("parallelBuilds is immutable"))]
    pub parallel_builds: i32,

    /// What to do when a source fails (Packer's `-on-error`): `cleanup` (the default) removes
    /// what the build created, `abort` leaves it in place for inspection, and
    /// `run-cleanup-provisioner` runs the template's `error-cleanup-provisioner` and then
    /// cleans up.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("onError is immutable"))]
    pub on_error: OnError,

    /// The longest the whole build may run, as a duration such as `90m` or `1h30m`. When it
    /// runs out the pods are stopped, their cleanup runs, and the build fails with reason
    /// `Timeout`. No limit when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("timeout is immutable"))]
    pub timeout: Option<String>,

    /// How many times a failed source is retried (each source on its own) before the build
    /// fails. 0, the default, means no retry.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("retries is immutable"))]
    pub retries: i32,

    /// Set to `true` to cancel the build: its pods get SIGTERM, run their cleanup steps, and
    /// the build ends `Cancelled`. A cancelled build cannot be resumed.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self || !oldSelf")
        .message("cancel cannot be set back to false once true"))]
    pub cancel: bool,

    /// Set to mark the build's artifacts as not to be used (for example after a CVE). Every
    /// ImageChannel pointing at this build becomes Stalled with the reason, and builds that
    /// started from this build's artifacts are marked as well. Remove it to restore the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,

    /// Settings of the runner pods (one per selected source): image, resources, scheduling,
    /// volumes (for example `/dev/kvm`), security context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("runner is immutable"))]
    pub runner: Option<RunnerSpec>,

    /// Reuse the artifacts of an earlier succeeded, unrevoked build of this namespace with the
    /// same inputs (`status.inputsDigest`: template files, variables, selected sources,
    /// resolved channels and registry versions, runner image) instead of running a Job. The
    /// build then succeeds at once with reason `Reused` and `status.reusedFrom`. Unset: the
    /// ImageTemplate's `spec.dedupe` decides (off for an inline template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("dedupe is immutable"))]
    pub dedupe: Option<bool>,
}

impl ImageBuildSpec {
    /// A spec that runs the ImageTemplate `name` with default settings.
    pub fn for_template(name: impl Into<String>) -> Self {
        Self {
            template_ref: Some(TemplateRef { name: name.into() }),
            ..Self::default()
        }
    }

    /// `spec.timeout` in whole seconds (rounded up), for a Job's `activeDeadlineSeconds`.
    /// `Ok(None)` when no timeout is set.
    pub fn timeout_seconds(&self) -> Result<Option<i64>, DurationError> {
        self.timeout
            .as_deref()
            .map(|t| parse_duration(t).map(|d| d.as_nanos().div_ceil(1_000_000_000) as i64))
            .transpose()
    }
}

/// A template given inline in an ImageBuild: exactly one of `template` and `files`, as in an
/// ImageTemplate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.template) != has(self.files)")
    .message("set exactly one of template and files"))]
#[serde(rename_all = "camelCase")]
pub struct InlineTemplate {
    /// The whole template as one HCL2 body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub template: Option<String>,
    /// The template as several named files, as in a Packer template directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub files: Option<Vec<TemplateFile>>,
}

/// A template variable whose value comes from a key of a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretVariable {
    /// The template variable's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The Secret key holding the value.
    pub secret_key_ref: SecretKeyRef,
}

/// A key of a Secret in the build's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// The Secret's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The key in the Secret's `data`.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Why a build's artifacts must no longer be used.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revocation {
    /// Why the build is revoked, shown on the channels that point at it.
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,
}

/// What to do when a source fails (Packer's `-on-error`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Run every step's cleanup, removing what the build created.
    #[default]
    Cleanup,
    /// Stop without cleanup, leaving machines and files in place for inspection.
    Abort,
    /// Run the template's `error-cleanup-provisioner`, then clean up.
    RunCleanupProvisioner,
}

impl OnError {
    /// The value as written in the spec and on Packer's command line.
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::Cleanup => "cleanup",
            OnError::Abort => "abort",
            OnError::RunCleanupProvisioner => "run-cleanup-provisioner",
        }
    }
}

impl fmt::Display for OnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The type-level docs of enums used as `Option<_>` fields are hidden from schemars
// (`cfg_attr(doc, ...)`): kube's `OptionalEnum` transform would otherwise replace the field's
// description with the enum's.
#[cfg_attr(doc, doc = "When the kubelet pulls the runner image.")]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ImagePullPolicy {
    /// Pull every time a pod starts.
    Always,
    /// Pull only when the node does not have the image.
    IfNotPresent,
    /// Never pull; the image must be on the node.
    Never,
}

impl ImagePullPolicy {
    /// The value as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImagePullPolicy::Always => "Always",
            ImagePullPolicy::IfNotPresent => "IfNotPresent",
            ImagePullPolicy::Never => "Never",
        }
    }
}

impl fmt::Display for ImagePullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of the runner pods. Unset fields take the operator's defaults.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunnerSpec {
    /// The runner container image; the operator's default (its own image) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// When to pull the runner image: `Always`, `IfNotPresent` or `Never`. The kubelet's
    /// default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<ImagePullPolicy>,
    /// Secrets used to pull the runner image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Registry credentials of the build: `kubernetes.io/dockerconfigjson` Secrets (as
    /// `kubectl create secret docker-registry` makes them) that the `docker` builder and the
    /// `docker-push`/`containerdisk` post-processors use to pull and push, as `docker login`
    /// would. Each is mounted read-only into the runner pods and also used by the kubelet to
    /// pull the pod's image (a `docker` source runs in its base image).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_secrets: Vec<LocalObjectReference>,
    /// CPU, memory and device resources of the runner container (for example
    /// `devices.kubevirt.io/kvm: 1` to get `/dev/kvm` from a device plugin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Node labels a runner pod's node must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations of the runner pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Affinity and anti-affinity of the runner pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Extra volumes of the runner pods, for example a `hostPath` for `/dev/kvm` or a cache.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Where the extra volumes are mounted in the runner container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Security context of the runner container (for example `privileged` for builders that
    /// need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    /// Security context of the runner pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<PodSecurityContext>,
    /// The ServiceAccount the runner pods run as, for example one bound to a cloud identity.
    /// The operator binds the build's own Role (which lets a runner write its progress to this
    /// ImageBuild) to it. When unset, the operator creates a ServiceAccount for the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Extra environment variables of the runner container (for example cloud credentials
    /// from Secrets, or `PACKER_LOG`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Extra labels of the runner pods.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    /// Extra annotations of the runner pods (for example to opt out of a service mesh).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    /// The PriorityClass of the runner pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
}

#[cfg_attr(doc, doc = "The lifecycle of a build, or of one source of a build.")]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, JsonSchema)]
pub enum BuildPhase {
    /// Accepted, waiting for its Job or pod to run.
    #[default]
    Pending,
    /// Running.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error, or ran out of time.
    Failed,
    /// Stopped by `spec.cancel`.
    Cancelled,
}

impl BuildPhase {
    /// All phases, in lifecycle order.
    pub const ALL: [BuildPhase; 5] = [
        BuildPhase::Pending,
        BuildPhase::Running,
        BuildPhase::Succeeded,
        BuildPhase::Failed,
        BuildPhase::Cancelled,
    ];

    /// The phase as written in status.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildPhase::Pending => "Pending",
            BuildPhase::Running => "Running",
            BuildPhase::Succeeded => "Succeeded",
            BuildPhase::Failed => "Failed",
            BuildPhase::Cancelled => "Cancelled",
        }
    }

    /// `true` for `Succeeded`, `Failed` and `Cancelled`: the phase will not change again.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            BuildPhase::Succeeded | BuildPhase::Failed | BuildPhase::Cancelled
        )
    }
}

impl fmt::Display for BuildPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown phase name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPhase(pub String);

impl fmt::Display for UnknownPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown build phase {:?}", self.0)
    }
}

impl std::error::Error for UnknownPhase {}

impl FromStr for BuildPhase {
    type Err = UnknownPhase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BuildPhase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPhase(s.to_string()))
    }
}

/// Where a build is. The controller owns `phase`, `conditions` and the fields about the
/// Job; each runner pod owns its own entry of `sources` (server-side apply, one field
/// manager per completion index).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageBuildStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Where the build is, for humans: `Pending`, `Running`, `Succeeded`, `Failed` or
    /// `Cancelled`. Tools should read `conditions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BuildPhase>,

    /// `Reconciling` (True while queued or running), `Stalled` (True once failed, timed out or
    /// cancelled), `Ready` (True once succeeded) and `Succeeded` (Unknown while running, then
    /// True or False for good). `kubectl wait --for=condition=Succeeded` waits for the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,

    /// The fingerprint (`sha256:<hex>`) of the template content this build runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_fingerprint: Option<String>,

    /// The ConfigMap holding the snapshot of the template and variables this build runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,

    /// The Indexed Job running the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,

    /// When the Job started, set once a runner pod runs (or the build ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the build finished (succeeded, failed or was cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,

    /// How long the build ran, for example `12m3s`; set once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,

    /// Sources finished out of sources selected, for example `1/2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources_summary: Option<String>,

    /// Progress and results of each selected source, keyed by source name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub sources: Vec<SourceStatus>,

    /// The build this one started from (its template read that build's artifacts through an
    /// ImageChannel), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<BuildParent>,

    /// Set when this build is revoked, by its own `spec.revoked` or because its parent was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<RevocationStatus>,

    /// What the runner pods were granted beyond the restricted Pod Security Standard, and
    /// why: the union of what the selected sources' builders need (a device, a capability,
    /// running as root, a user namespace, scratch space, an image to run in). Unset when
    /// nothing beyond the restricted defaults was needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<RunnerStatus>,

    /// The HCP Packer registry view of this build (its template has an
    /// `hcp_packer_registry` block, or `HCP_PACKER_*` variables in `spec.runner.env` turn
    /// the registry on): the bucket and version fingerprint it was labelled with, the
    /// channels that follow it, and the earlier build of the same fingerprint it resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<BuildRegistryStatus>,

    /// `sha256:<hex>` of everything the build's result depends on (docs/registry.md,
    /// "Dedupe"): what `dedupe` compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs_digest: Option<String>,

    /// The earlier build whose artifacts this one reused instead of running (`dedupe`): its
    /// sources' entries were copied into `sources`, each with `carriedFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,

    /// Why the operator created this build: its parent channel moved on (the template's
    /// `spec.rebuildOnParentChange`), naming the channel and the new parent build. Copied
    /// from the build's `kiln.dev/rebuild-reason` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild_reason: Option<String>,
}

/// A build as an HCP Packer version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildRegistryStatus {
    /// The bucket (`hcp_packer_registry.bucket_name`, `HCP_PACKER_BUCKET_NAME`, else the
    /// template's name); also the `kiln.dev/bucket` label.
    pub bucket: String,
    /// The version fingerprint (`HCP_PACKER_BUILD_FINGERPRINT`, a `kiln.dev/fingerprint`
    /// label set on the ImageBuild, else the build's name); also the `kiln.dev/fingerprint`
    /// label.
    pub fingerprint: String,
    /// The channels named in `hcp_packer_registry.channels`: the build carries the label
    /// `channel.kiln.dev/<name>: "true"`, which an ImageChannel's `spec.follow.selector`
    /// follows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// The earlier, unfinished build of the same bucket and fingerprint this build resumed:
    /// the sources it had built were not run again (their entries in `sources` say
    /// `carriedFrom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
}

/// What the runner pods of a build were given.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunnerStatus {
    /// Each grant beyond the restricted defaults, with the reason a builder gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted: Vec<RunnerGrant>,
}

/// One thing a runner pod was granted (or would have been, had `spec.runner` not replaced
/// it).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunnerGrant {
    /// `device`, `capability`, `runAsRoot`, `userNamespace`, `writableRoot`, `scratch`,
    /// `tool` (programs the build runs, by tool set: `qemu`) or `image` (a builder's own
    /// image, or the operator's runner image for the tools).
    pub kind: String,
    /// What: the device path, the capability, the tool set, the image reference, the
    /// scratch size in bytes; unset for `runAsRoot`, `userNamespace` and `writableRoot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why, as the builder says it, with the sources that asked (`null.vm: …`).
    pub reason: String,
    /// The `spec.runner` field that replaced this grant (for example
    /// `spec.runner.securityContext`), when the build's own settings won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<String>,
}

impl ImageBuildStatus {
    /// `done/total`, the text of `sourcesSummary`.
    pub fn summarize_sources(done: usize, total: usize) -> String {
        format!("{done}/{total}")
    }

    /// The entry of source `name`, if present.
    pub fn source(&self, name: &str) -> Option<&SourceStatus> {
        self.sources.iter().find(|s| s.name == name)
    }
}

/// Progress and results of one source of a build, written by its runner pod.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    /// The source, as `type.name` or `<build name>.type.name`.
    pub name: String,
    /// The Job completion index that builds this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i32>,
    /// Where this source is: `Pending`, `Running`, `Succeeded`, `Failed` or `Cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<BuildPhase>,
    /// Which attempt this is, starting at 1; more than 1 after retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i32>,
    /// The step running now (for example `StepCreateVM` or `provision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The provisioner running now, as n of m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioner: Option<ProvisionerProgress>,
    /// When this source started building.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When this source finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// The artifacts this source produced (the builder's, then each post-processor's kept
    /// artifact).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// This source's entry of the Packer manifest, in Packer's own format (snake_case keys),
    /// as the `manifest` post-processor would write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_entry: Option<ManifestEntry>,
    /// The error that failed this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last lines of this source's log when it failed, with sensitive values masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16384))]
    pub log_tail: Option<String>,
    /// The earlier ImageBuild this entry was carried over from: the source was not run
    /// again, its artifacts are that build's (a resumed version, or a reused build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
    /// What this source was built from, as the runner resolved it: the registry builds the
    /// `hcp-packer-*` data sources read, the source image a `docker` builder pulled (by
    /// digest), the base disk a `qemu` builder started from (by checksum). The controller
    /// derives `status.parent` from it when no `kiln-channel` data source names one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub inputs: Vec<BuildInput>,
    /// The software bills of materials the `hcp-sbom` provisioners fetched from the machine
    /// (HCP Packer stores them with the build), in provisioner order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub sboms: Vec<SourceSbom>,
}

/// An SBOM a source's `hcp-sbom` provisioner fetched: what it is, not the document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSbom {
    /// The provisioner's `sbom_name`; unset when it gave none (HCP Packer then names it
    /// after the build's fingerprint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `SPDX` or `CYCLONEDX`, as HCP Packer names the formats.
    pub format: String,
    /// `application/spdx+json` or `application/vnd.cyclonedx+json`.
    pub media_type: String,
    /// `sha256:<hex>` of the document as fetched.
    pub digest: String,
    /// Its size in bytes.
    pub size: i64,
    /// Where it is stored: an OCI referrer of each image the build pushed (`docker-push`,
    /// `containerdisk` with `push`), in that image's repository.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<SbomReferrer>,
}

/// An SBOM stored beside a pushed image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SbomReferrer {
    /// The image, `registry/repository@sha256:<hex>`.
    pub subject: String,
    /// `sha256:<hex>` of the OCI referrer manifest (artifactType the SBOM's media type,
    /// the document its one layer, annotated `dev.kiln.sbom.name` when it has a name).
    pub referrer: String,
    /// The referrers tag (`sha256-<hex>`) updated because the registry has no referrers
    /// API; unset when the registry indexed the referrer itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrers_tag: Option<String>,
}

/// One thing a source was built from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildInput {
    /// `hcp-packer-version`, `hcp-packer-artifact`, `hcp-packer-iteration`,
    /// `hcp-packer-image` (a data source), `source-image` (a docker builder's `image`) or
    /// `base-disk` (a qemu builder's `iso_url` / `disk_image`).
    pub kind: String,
    /// The data source's address (`data.hcp-packer-version.ubuntu`) or the source's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ImageBuild it names, when a data source read one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The ImageChannel's uid (the data sources' `channel_id`), when read through a channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The image reference or disk URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `sha256:<hex>`: the image's manifest (or index) digest, or the disk's checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Which provisioner is running.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionerProgress {
    /// 1-based position of the running provisioner.
    pub current: i32,
    /// How many provisioners this source runs.
    pub total: i32,
    /// The provisioner's type, for example `shell` or `file`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
}

/// An artifact: what a builder or post-processor produced.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// The ID of the builder or post-processor that made it (for example
    /// `transcend.qemu` or `packer.post-processor.compress`).
    pub builder_id: String,
    /// The artifact's ID (an image ID, an image reference, a path…).
    pub id: String,
    /// Human-readable description (Packer's `String()` of the artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Files the artifact consists of, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ArtifactFile>,
    /// Extra state the artifact exposes, by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state: BTreeMap<String, String>,
    /// The SLSA provenance the `provenance` post-processor wrote for this artifact and, for
    /// an image in a registry, attached to it as an OCI referrer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ArtifactProvenance>,
}

/// Where an artifact's attestation is, and what it is.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactProvenance {
    /// `sha256:<hex>` of the attestation file (the in-toto Statement, or its DSSE
    /// envelope when signed), as written and as pushed.
    pub digest: String,
    /// Its media type: `application/vnd.dsse.envelope.v1+json` (signed) or
    /// `application/vnd.in-toto+json` (unsigned).
    pub media_type: String,
    /// Whether it is a DSSE envelope signed with a key.
    #[serde(default)]
    pub signed: bool,
    /// The signing key's id (SHA-256 of its public PEM), when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The image `name@digest` the attestation is attached to, for an image in a registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `sha256:<hex>` of the OCI referrer manifest (artifactType
    /// `application/vnd.in-toto+json`, subject the image) pushed to the image's repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// The referrers tag (`sha256-<hex>`) updated because the registry has no referrers
    /// API; unset when the registry indexed the referrer itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrers_tag: Option<String>,
    /// The attestation itself, byte for byte as written (its sha256 is `digest`), so that
    /// a channel can verify it without registry credentials; unset when larger than 32 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32768))]
    pub attestation: Option<String>,
}

/// A file of an artifact.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
pub struct ArtifactFile {
    /// Path or name of the file.
    pub name: String,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// One build entry of a Packer manifest (`packer-manifest.json`), with Packer's snake_case
/// keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
pub struct ManifestEntry {
    /// The source's name.
    pub name: String,
    /// The builder's type, for example `qemu`.
    pub builder_type: String,
    /// Unix time (seconds) when the build finished.
    pub build_time: i64,
    /// Files of the artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ArtifactFile>,
    /// The artifact's ID.
    pub artifact_id: String,
    /// A UUID identifying the run, shared by all sources of one build.
    pub packer_run_uuid: String,
    /// The `custom_data` of the manifest post-processor.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_data: BTreeMap<String, String>,
}

/// The build whose artifacts this build started from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildParent {
    /// The parent ImageBuild's name.
    pub build: String,
    /// The parent's namespace, when not this build's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The ImageChannel through which the parent was read, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// How the parent was found: `kiln-channel` (unset, the default), an `hcp-packer-*`
    /// data source, `source-image` (the docker builder's `image` is an artifact of the
    /// parent) or `base-disk` (the qemu builder's disk is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The digest the build started from (an image digest or disk checksum), when found
    /// by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A revocation in effect on a build.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevocationStatus {
    /// Why the build is revoked.
    pub reason: String,
    /// When the controller saw the revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
    /// The revoked ancestor this revocation comes from; unset when this build itself is
    /// revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherited_from: Option<String>,
}
