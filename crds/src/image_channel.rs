//! `ImageChannel`: a named pointer to a successful ImageBuild of a template.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::TemplateRef;
use crate::condition::Condition;
use crate::image_build::Artifact;

/// Which template the channel serves and which of its builds it points at: a pinned
/// `build` (promotion is a commit in git) or the newest successful build matching `follow`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "kiln.dev",
    version = "v1alpha1",
    kind = "ImageChannel",
    namespaced,
    status = "ImageChannelStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "imgch",
    category = "kiln",
    selectable = ".spec.templateRef.name",
    doc = "An ImageChannel is a named pointer (such as `production`) to a successful ImageBuild of a template. It either pins a build (`spec.build`, moved by a commit in git) or follows the newest successful build matching a label selector (`spec.follow`). The controller never writes the spec; it verifies the target and publishes its artifacts and a bounded history in status.",
    printcolumn(
        name = "Template",
        type_ = "string",
        json_path = ".spec.templateRef.name",
        description = "The ImageTemplate this channel serves",
        priority = 1
    ),
    printcolumn(
        name = "Build",
        type_ = "string",
        json_path = ".status.currentBuild",
        description = "The ImageBuild the channel points at"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether the channel points at a successful, unrevoked build"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].reason"#,
        description = "Why the channel is or is not Ready",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("has(self.build) != has(self.follow)")
    .message("set exactly one of spec.build and spec.follow"))]
#[serde(rename_all = "camelCase")]
pub struct ImageChannelSpec {
    /// The ImageTemplate whose builds this channel may point at, in the same namespace.
    pub template_ref: TemplateRef,

    /// The ImageBuild the channel points at (pinned). It must be a succeeded, unrevoked build
    /// of `templateRef`. Promote by changing this field in git. Set exactly one of `build`
    /// and `follow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub build: Option<String>,

    /// Follow the newest succeeded, unrevoked build of `templateRef` matching a label
    /// selector. Set exactly one of `build` and `follow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<FollowSpec>,

    /// How many past assignments `status.history` keeps (newest first).
    #[serde(default = "ImageChannelSpec::default_history_limit")]
    #[schemars(range(min = 0, max = 100))]
    pub history_limit: i32,

    /// Refuse to point at a build unless every artifact that has an attestation carries a
    /// signed one that verifies with one of these keys, and at least one does. The channel
    /// stays where it was, `Ready=False` with reason `ProvenanceMissing` or
    /// `ProvenanceInvalid`, until a build that verifies is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_provenance: Option<ProvenanceRequirement>,
}

/// Which signatures a channel accepts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceRequirement {
    /// PEM public keys (ed25519, ECDSA P-256/P-384/P-521 or RSA; `BEGIN PUBLIC KEY`, or a
    /// certificate): an attestation signed
    /// by any one of them is accepted. Public keys are not secrets: commit them with the
    /// channel.
    #[schemars(length(min = 1, max = 16))]
    pub public_keys: Vec<String>,
}

impl ImageChannelSpec {
    /// Default of `historyLimit`.
    pub const DEFAULT_HISTORY_LIMIT: i32 = 10;

    fn default_history_limit() -> i32 {
        Self::DEFAULT_HISTORY_LIMIT
    }

    /// A channel of template `template` pinned to build `build`.
    pub fn pinned(template: impl Into<String>, build: impl Into<String>) -> Self {
        Self {
            template_ref: TemplateRef {
                name: template.into(),
            },
            build: Some(build.into()),
            follow: None,
            history_limit: Self::DEFAULT_HISTORY_LIMIT,
            require_provenance: None,
        }
    }

    /// A channel of template `template` following the newest build matching `selector`.
    pub fn following(template: impl Into<String>, selector: LabelSelector) -> Self {
        Self {
            template_ref: TemplateRef {
                name: template.into(),
            },
            build: None,
            follow: Some(FollowSpec { selector }),
            history_limit: Self::DEFAULT_HISTORY_LIMIT,
            require_provenance: None,
        }
    }
}

/// Which builds a following channel considers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowSpec {
    /// Labels the ImageBuild must match. An empty selector matches every build of the
    /// template.
    pub selector: LabelSelector,
}

/// What the channel points at, verified.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageChannelStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (points at a succeeded, unrevoked build of the template), `Reconciling`
    /// (resolving the target or waiting for it to finish) and `Stalled` (the target is
    /// missing, failed, of another template or revoked; the reason says which).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,

    /// The ImageBuild the channel currently points at, once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_build: Option<String>,

    /// When the channel started pointing at `currentBuild`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<Time>,

    /// The template fingerprint `currentBuild` ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_fingerprint: Option<String>,

    /// The artifacts of `currentBuild`, by source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["source".into()]))]
    pub artifacts: Vec<SourceArtifacts>,

    /// Past assignments, newest first, at most `spec.historyLimit` of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ChannelHistoryEntry>,
}

/// The artifacts one source of a build produced.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceArtifacts {
    /// The source, as `type.name`.
    pub source: String,
    /// Its artifacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

/// One assignment of a build to the channel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelHistoryEntry {
    /// The ImageBuild assigned.
    pub build: String,
    /// When it was assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<Time>,
    /// Why: `Pinned` (spec.build changed) or `Followed` (a newer matching build succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
