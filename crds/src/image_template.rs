//! `ImageTemplate`: a Packer HCL2 template stored in the cluster.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{TemplateFile, VariableValues, variables_schema};
use crate::condition::Condition;

/// The template: its text (`template` or `files`), default variable values and how many
/// finished builds of it to keep.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "kiln.dev",
    version = "v1alpha1",
    kind = "ImageTemplate",
    namespaced,
    status = "ImageTemplateStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "imgtpl",
    category = "kiln",
    doc = "An ImageTemplate holds a Packer HCL2 template and default values for its variables. The controller validates it and publishes its sources, builds, variables and diagnostics in status. Run it with an ImageBuild.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether the template parsed and validated"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#,
        description = "Why the template is or is not Ready",
        priority = 1
    ),
    printcolumn(
        name = "Sources",
        type_ = "string",
        json_path = ".status.sources",
        description = "The sources the template builds"
    ),
    printcolumn(
        name = "Fingerprint",
        type_ = "string",
        json_path = ".status.fingerprint",
        description = "sha256 of the template content",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("has(self.template) != has(self.files)")
    .message("set exactly one of spec.template and spec.files"))]
#[serde(rename_all = "camelCase")]
pub struct ImageTemplateSpec {
    /// The whole template as one HCL2 body (what would be a single `*.pkr.hcl` file).
    /// Set exactly one of `template` and `files`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub template: Option<String>,

    /// The template as several named files, as in a Packer template directory. Set exactly
    /// one of `template` and `files`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub files: Option<Vec<TemplateFile>>,

    /// Default values of the template's input variables, by variable name. They override the
    /// `default` in the template's `variable` blocks, and an ImageBuild's `variables` override
    /// them in turn. Values are JSON matching the variable's type: `"text"`, `3`, `true`,
    /// `["a", "b"]`, `{"k": "v"}`. Do not put secrets here: use an ImageBuild's
    /// `secretVariables`.
    #[serde(default, skip_serializing_if = "VariableValues::is_empty")]
    #[schemars(schema_with = "variables_schema")]
    pub variables: VariableValues,

    /// How many finished ImageBuilds of this template to keep, and for how long. Older ones
    /// are deleted, oldest first. Never deleted: a build an ImageChannel points at, the
    /// parent of a build still running, and a build applied by a GitOps tool (Flux's
    /// `kustomize.toolkit.fluxcd.io/*` or `helm.toolkit.fluxcd.io/*` labels, Argo CD's
    /// `argocd.argoproj.io/instance` label or `argocd.argoproj.io/tracking-id` annotation),
    /// which the tool would re-create and build again.
    #[serde(default)]
    pub history_limits: HistoryLimits,

    /// Do not run a build whose inputs (`status.inputsDigest` of an ImageBuild: template
    /// files, variables, selected sources, resolved channels and registry versions, runner
    /// image) match a succeeded, unrevoked build of this namespace: the new ImageBuild
    /// reuses its artifacts (reason `Reused`, `status.reusedFrom`). An ImageBuild's own
    /// `spec.dedupe` wins over this.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dedupe: bool,
    /// Build again when the channel a build of this template started from moves on (its
    /// parent image changed): the operator creates one ImageBuild per move, copying the
    /// spec of the newest build that read that channel, named after the new parent and
    /// annotated with the reason. Off by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild_on_parent_change: Option<RebuildPolicy>,
}

/// When a template is rebuilt because its parent moved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RebuildPolicy {
    /// Whether to rebuild.
    #[serde(default)]
    pub enabled: bool,
    /// The least time between two rebuilds of this template (a duration such as `10m`);
    /// moves within it are coalesced into one rebuild, of the newest parent. Default `1m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    pub min_interval: Option<String>,
}

/// How many finished builds of a template to keep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryLimits {
    /// Succeeded builds to keep. 0 deletes each one as soon as a newer one succeeds.
    #[serde(default = "HistoryLimits::default_successful")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub successful: i32,
    /// Failed and cancelled builds to keep.
    #[serde(default = "HistoryLimits::default_failed")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub failed: i32,
    /// How long a succeeded build is kept after it finished (for example `168h`), whatever
    /// the count; unset: no time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    pub ttl_after_succeeded: Option<String>,
    /// How long a failed or cancelled build is kept after it finished; unset: no time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"))]
    pub ttl_after_failed: Option<String>,
}

impl HistoryLimits {
    /// Default number of succeeded builds kept.
    pub const DEFAULT_SUCCESSFUL: i32 = 10;
    /// Default number of failed builds kept.
    pub const DEFAULT_FAILED: i32 = 5;

    fn default_successful() -> i32 {
        Self::DEFAULT_SUCCESSFUL
    }
    fn default_failed() -> i32 {
        Self::DEFAULT_FAILED
    }
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self {
            successful: Self::DEFAULT_SUCCESSFUL,
            failed: Self::DEFAULT_FAILED,
            ttl_after_succeeded: None,
            ttl_after_failed: None,
        }
    }
}

/// What the controller found in the template.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageTemplateStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (the template is valid), `Reconciling` (being validated) and `Stalled` (the
    /// template is invalid: see `diagnostics`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,

    /// `sha256:<hex>` of the template content (the body or the files, in order). An
    /// ImageBuild records the fingerprint it ran, so it can be compared with the template's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,

    /// The sources the template declares, as `type.name` (for example `qemu.ubuntu`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,

    /// The template's `build` blocks and the sources each one uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builds: Vec<TemplateBuild>,

    /// The template's input variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub variables: Vec<TemplateVariable>,

    /// Errors and warnings from parsing and validating the template, first error first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,

    /// The HCP Packer bucket the template's `hcp_packer_registry` block describes (with the
    /// template's default variables), when it has one: builds of the template are labelled
    /// `kiln.dev/bucket: <name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<TemplateBucket>,
}

/// An HCP Packer bucket, as a template's `hcp_packer_registry` block describes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateBucket {
    /// `bucket_name` (else the build block's name, else the template's name).
    pub name: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `bucket_labels`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `channels`: each succeeded build is followed by an ImageChannel selecting
    /// `channel.kiln.dev/<name>: "true"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
}

/// One `build` block of a template.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateBuild {
    /// The build's `name` attribute; empty when the block has none.
    pub name: String,
    /// The sources this build runs, as `type.name`; a build with a `name` runs them as
    /// `<build name>.<type>.<name>` for `only`/`except`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// One input variable of a template (a `variable` block).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateVariable {
    /// The variable's name.
    pub name: String,
    /// The variable's HCL type, for example `string`, `number`, `list(string)`; empty when
    /// the block has no `type`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
    /// The effective default (the ImageTemplate's `spec.variables` entry, else the block's
    /// `default`), written as HCL. `<sensitive>` when the variable is sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether the variable is `sensitive`; its value is masked in status, events and logs.
    #[serde(default)]
    pub sensitive: bool,
    /// Whether an ImageBuild must give a value (the variable has no default).
    #[serde(default)]
    pub required: bool,
    /// The block's `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// How serious a diagnostic is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
pub enum Severity {
    /// The template cannot be used.
    #[default]
    Error,
    /// The template works, but something deserves attention (for example a deprecated
    /// argument).
    Warning,
}

/// A problem found in a template, with its position.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// `Error` or `Warning`.
    pub severity: Severity,
    /// One line describing the problem.
    pub summary: String,
    /// More detail, when there is any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The file the problem is in (a name from `spec.files`, or `template.pkr.hcl` for
    /// `spec.template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<i32>,
}

impl Diagnostic {
    /// `file:line:col: summary`, the way compilers and Packer print positions.
    pub fn position(&self) -> String {
        let mut s = self.file.clone().unwrap_or_default();
        if let Some(line) = self.line {
            s.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                s.push_str(&format!(":{col}"));
            }
        }
        s
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pos = self.position();
        if pos.is_empty() {
            write!(f, "{}", self.summary)?;
        } else {
            write!(f, "{pos}: {}", self.summary)?;
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}
