//! HCP Packer's registry in the cluster (docs/registry.md): an ImageBuild is a version of a
//! bucket. When a build's snapshot is taken this module
//!
//! - fixes what the build is labelled with ([`version_plan`], [`desired_metadata`]): its
//!   bucket and version fingerprint, its `build_labels`, and one
//!   `channel.kiln.dev/<channel>: "true"` label per channel of `hcp_packer_registry.channels`,
//!   which an ImageChannel's `spec.follow.selector` follows (the controller writes metadata
//!   labels under its own field manager [`FIELD_MANAGER`], never a spec);
//! - reads the buckets the template's `hcp-packer-*` data sources name and fixes them in the
//!   snapshot ([`resolve_hcp`]): runner pods read them from their channels file, and a
//!   revoked version fails the build before it starts, with Packer's message;
//! - computes the build's inputs digest ([`inputs_digest`]) and decides, purely
//!   ([`settle`]), whether the build reuses an identical earlier build (dedupe) or resumes
//!   an unfinished version with the same fingerprint, carrying the sources it had built.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kiln_crds::condition::reasons;
use kiln_crds::{
    BuildParent, BuildPhase, BuildRegistryStatus, ImageBuild, ImageChannel, SourceStatus,
    TemplateBucket,
};
use kiln_engine::datasources::hcp_packer::{
    AUTHOR_ANNOTATION, BUCKET_LABEL, BUILD_LABELS_ANNOTATION, CHANNEL_LABEL_PREFIX,
    FINGERPRINT_LABEL, HcpRef, Registry,
};
use kiln_engine::template::registry::{ENV_FINGERPRINT, RegistryConfig};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::super::analysis::Analysis;
use super::super::context::{Caches, Context};
use super::super::error::is_conflict;
use super::super::resources::Snapshot;
use super::observe::{ObserveError, Taken};
use crate::contract::VersionPlan;

/// The field manager of the labels and annotations the registry puts on an ImageBuild.
pub const FIELD_MANAGER: &str = "kiln-registry";

/// The `HCP_PACKER_*` variables of an ImageBuild's `spec.runner.env` (literal values only:
/// the operator reads them when the build starts).
pub fn runner_env(build: &ImageBuild) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let env = build.spec.runner.iter().flat_map(|r| r.env.iter());
    for (i, e) in env.enumerate() {
        if !e.name.starts_with("HCP_PACKER_") {
            continue;
        }
        if e.value_from.is_some() {
            return Err(format!(
                "spec.runner.env[{i}] ({}): valueFrom is not supported for HCP_PACKER_* \
                 variables: the operator reads them when the build starts; give a value",
                e.name
            ));
        }
        out.insert(e.name.clone(), e.value.clone().unwrap_or_default());
    }
    Ok(out)
}

/// A valid label value: at most 63 letters, digits, `-`, `_`, `.`, starting and ending with
/// a letter or digit (or empty).
pub fn label_value_ok(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// A valid label key: `[prefix/]name`, the prefix a DNS subdomain, the name a non-empty
/// label value.
pub fn label_key_ok(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && label_value_ok(name)
}

const LABEL_RULE: &str = "a label value: at most 63 letters, digits, '-', '_' or '.', starting \
                          and ending with a letter or digit";

/// What a build is labelled with as a version of its bucket. The bucket is the
/// configuration's (`HCP_PACKER_BUCKET_NAME`, `bucket_name`, the build block's name), else
/// the ImageTemplate's name, else (inline) the build's. The fingerprint is
/// `HCP_PACKER_BUILD_FINGERPRINT`, else a `kiln.dev/fingerprint` label set on the build,
/// else the build's name (a new version per build, as Packer's random default).
pub fn version_plan(
    build: &ImageBuild,
    template: &str,
    cfg: &RegistryConfig,
) -> Result<VersionPlan, String> {
    let unknown = |v: &str| v == "<unknown>";
    let bucket = if !cfg.bucket_name.is_empty() {
        cfg.bucket_name.clone()
    } else if !template.is_empty() {
        template.to_string()
    } else {
        build.name_any()
    };
    if unknown(&bucket) {
        return Err(
            "hcp_packer_registry.bucket_name must be known when the build starts \
                    (literals and spec.variables, not secret variables or data sources)"
                .into(),
        );
    }
    if !label_value_ok(&bucket) {
        return Err(format!(
            "the bucket {bucket:?} must be {LABEL_RULE} (it is the {BUCKET_LABEL} label); set \
             hcp_packer_registry.bucket_name"
        ));
    }
    let from_label = build.labels().get(FINGERPRINT_LABEL).cloned();
    let (fingerprint, given) = match (&cfg.fingerprint, from_label) {
        (Some(env), Some(l)) if *env != l => {
            return Err(format!(
                "spec.runner.env {ENV_FINGERPRINT} ({env:?}) and the label {FINGERPRINT_LABEL} \
                 ({l:?}) disagree: set one of them"
            ));
        }
        (Some(env), _) => (env.clone(), true),
        (None, Some(l)) => (l, true),
        (None, None) => (build.name_any(), false),
    };
    if !label_value_ok(&fingerprint) || fingerprint.is_empty() {
        return Err(format!(
            "spec.runner.env {ENV_FINGERPRINT}: {fingerprint:?} must be {LABEL_RULE} (Kiln \
             records the version fingerprint as the label {FINGERPRINT_LABEL})"
        ));
    }
    for c in &cfg.channels {
        if c.is_empty() || !label_value_ok(c) || unknown(c) {
            return Err(format!(
                "hcp_packer_registry.channels: {c:?} must be {LABEL_RULE} (a build is labelled \
                 {CHANNEL_LABEL_PREFIX}<channel>)"
            ));
        }
    }
    Ok(VersionPlan {
        bucket,
        fingerprint,
        fingerprint_given: given,
        build_labels: cfg.build_labels.clone(),
        channels: cfg.channels.clone(),
        resumed_from: None,
    })
}

/// The bucket an ImageTemplate's status shows, from its analysis.
pub fn template_bucket(template: &str, a: &Analysis) -> Option<TemplateBucket> {
    let cfg = a.registry.as_ref()?;
    Some(TemplateBucket {
        name: if cfg.bucket_name.is_empty() {
            template.to_string()
        } else {
            cfg.bucket_name.clone()
        },
        description: cfg.description.clone(),
        labels: cfg.bucket_labels.clone(),
        channels: cfg.channels.clone(),
    })
}

/// The registry part of a build's status.
pub fn status_of(plan: &VersionPlan) -> BuildRegistryStatus {
    BuildRegistryStatus {
        bucket: plan.bucket.clone(),
        fingerprint: plan.fingerprint.clone(),
        channels: plan.channels.clone(),
        resumed_from: plan.resumed_from.clone(),
    }
}

/// Labels and annotations of an ImageBuild.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// What a version is labelled with: `kiln.dev/bucket`, `kiln.dev/fingerprint`,
/// `channel.kiln.dev/<channel>: "true"` per channel, each build label that is a valid
/// Kubernetes label (key and value; keys under `kiln.dev/` are Kiln's and skipped), and
/// every build label in the `kiln.dev/build-labels` annotation (JSON), which the
/// `hcp-packer-artifact` data source's `labels` output reads.
pub fn desired_metadata(plan: &VersionPlan) -> Metadata {
    let mut labels = BTreeMap::from([
        (BUCKET_LABEL.to_string(), plan.bucket.clone()),
        (FINGERPRINT_LABEL.to_string(), plan.fingerprint.clone()),
    ]);
    for c in &plan.channels {
        labels.insert(format!("{CHANNEL_LABEL_PREFIX}{c}"), "true".into());
    }
    for (k, v) in &plan.build_labels {
        let ours = k.starts_with("kiln.dev/") || k.contains(".kiln.dev/");
        if !ours && label_key_ok(k) && label_value_ok(v) {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let mut annotations = BTreeMap::new();
    if !plan.build_labels.is_empty() {
        annotations.insert(
            BUILD_LABELS_ANNOTATION.to_string(),
            serde_json::to_string(&plan.build_labels).unwrap_or_default(),
        );
    }
    Metadata {
        labels,
        annotations,
    }
}

/// What to apply when the build lacks some of `want`: all of `want` (server-side apply:
/// what the field manager applies is what it owns) but the keys someone else set to another
/// value, which stay theirs. None when nothing is missing.
pub fn missing_metadata(build: &ImageBuild, want: &Metadata) -> Option<Metadata> {
    let (have_l, have_a) = (build.labels(), build.annotations());
    let lacks = want.labels.keys().any(|k| !have_l.contains_key(k))
        || want.annotations.keys().any(|k| !have_a.contains_key(k));
    if !lacks {
        return None;
    }
    let keep = |have: &BTreeMap<String, String>, (k, v): (&String, &String)| {
        have.get(k).is_none_or(|h| h == v)
    };
    Some(Metadata {
        labels: want
            .labels
            .iter()
            .filter(|kv| keep(have_l, *kv))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        annotations: want
            .annotations
            .iter()
            .filter(|kv| keep(have_a, *kv))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// The labels a build lacks, for a snapshot that will run or was reused.
pub fn labels_for(build: &ImageBuild, snap: &Snapshot) -> Option<Metadata> {
    missing_metadata(build, &desired_metadata(snap.registry.as_ref()?))
}

/// Applies the registry's labels and annotations to the build (server-side apply, field
/// manager [`FIELD_MANAGER`], no force: a key another manager holds stays theirs).
pub async fn apply_labels(
    ctx: &Context,
    build: &ImageBuild,
    meta: &Metadata,
) -> Result<(), kube::Error> {
    let name = build.name_any();
    let api: Api<ImageBuild> =
        Api::namespaced(ctx.client.clone(), &build.namespace().unwrap_or_default());
    let patch = json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageBuild",
        "metadata": {"name": name, "labels": meta.labels, "annotations": meta.annotations},
    });
    match api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_conflict(&e) => {
            tracing::warn!(build = %name, error = %e, "registry labels held by another manager");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// The buckets the data sources read
// ---------------------------------------------------------------------------------------

/// JSON without its nulls (the data sources read a present key as set).
fn strip_nulls(v: &mut Json) {
    match v {
        Json::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Json::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// An ImageBuild as the data sources need it: identity, labels, the author and build
/// labels annotations, template, revocation, phase, times and each source's artifacts.
pub fn prune_build(b: &ImageBuild) -> Json {
    let st = b.status.clone().unwrap_or_default();
    let annotations: BTreeMap<&String, &String> = b
        .annotations()
        .iter()
        .filter(|(k, _)| *k == AUTHOR_ANNOTATION || *k == BUILD_LABELS_ANNOTATION)
        .collect();
    let sources: Vec<Json> = st
        .sources
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "phase": s.phase,
                "finishedAt": s.finished_at,
                "artifacts": s.artifacts,
                "manifestEntry": s.manifest_entry.as_ref()
                    .map(|m| json!({"packer_run_uuid": m.packer_run_uuid})),
            })
        })
        .collect();
    let mut v = json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageBuild",
        "metadata": {
            "name": b.name_any(),
            "namespace": b.namespace(),
            "uid": b.uid(),
            "labels": b.labels(),
            "annotations": annotations,
            "creationTimestamp": b.metadata.creation_timestamp,
        },
        "spec": {"templateRef": b.spec.template_ref, "revoked": b.spec.revoked},
        "status": {
            "phase": st.phase,
            "completionTime": st.completion_time,
            "revoked": st.revoked,
            "sources": sources,
        },
    });
    strip_nulls(&mut v);
    v
}

/// An ImageChannel as the data sources need it: identity, labels, template and status.
pub fn prune_channel(c: &ImageChannel) -> Json {
    let mut v = json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageChannel",
        "metadata": {
            "name": c.name_any(),
            "namespace": c.namespace(),
            "uid": c.uid(),
            "labels": c.labels(),
        },
        "spec": {"templateRef": c.spec.template_ref},
        "status": c.status,
    });
    strip_nulls(&mut v);
    v
}

/// What reading the buckets gave.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    /// Every data source whose arguments are known resolves.
    Ready {
        /// The buckets' channels and builds, pruned, for the runner's channels file.
        objects: Vec<Json>,
        /// The version the first channel lookup found (the build's parent).
        parent: Option<BuildParent>,
        /// `(data source address, version)` of each lookup that could be made now.
        versions: Vec<(String, String)>,
    },
    /// A channel the lookup needs is still being reconciled.
    Wait(String),
    /// A lookup fails (revoked version, no such channel, no artifact): Packer's message.
    Fail(String),
}

/// Whether a channel may still get a version: being reconciled, or following builds of
/// which none matches yet (everything applied at once: the parent has not been labelled).
fn may_move(c: &ImageChannel) -> bool {
    let conds = c
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let reconciling = kiln_crds::find_condition(conds, kiln_crds::condition::RECONCILING)
        .is_none_or(|c| c.status == "True");
    let following_nothing = c.spec.follow.is_some()
        && kiln_crds::find_condition(conds, kiln_crds::condition::STALLED)
            .is_some_and(|s| s.status == "True" && s.reason == reasons::TARGET_NOT_FOUND);
    reconciling || following_nothing
}

/// How long after its creation a build waits for a channel its data sources name that does
/// not exist yet (a GitOps tool applies the child's ImageBuild and the parent's
/// ImageChannel in one batch, in any order) before it fails as HCP Packer does.
pub const MISSING_CHANNEL_GRACE: std::time::Duration = std::time::Duration::from_secs(120);

/// Reads the buckets the data sources name from `channels` and `builds` (the namespace's),
/// and resolves each data source whose arguments are known now, as the runner will.
/// `young`: the build is within [`MISSING_CHANNEL_GRACE`] of its creation.
pub fn resolve_hcp<B: Borrow<ImageBuild>>(
    refs: &[HcpRef],
    channels: &[ImageChannel],
    builds: &[B],
    young: bool,
) -> Resolved {
    let buckets: BTreeSet<&str> = refs.iter().filter_map(|r| r.bucket()).collect();
    let mut objects: Vec<Json> = Vec::new();
    let mut targets: BTreeSet<String> = BTreeSet::new();
    let mut wanted: Vec<&ImageChannel> = Vec::new();
    for c in channels {
        let pruned = prune_channel(c);
        if buckets
            .iter()
            .any(|b| kiln_engine::datasources::hcp_packer::in_bucket(&pruned, b))
        {
            if let Some(t) = c.status.as_ref().and_then(|s| s.current_build.clone()) {
                targets.insert(t);
            }
            wanted.push(c);
            objects.push(pruned);
        }
    }
    // A build's bucket: its label, else its template (the data sources' rule), checked
    // before anything is copied.
    let bucket_of = |b: &ImageBuild| match b.labels().get(BUCKET_LABEL) {
        Some(l) => Some(l.clone()),
        None => b.spec.template_ref.as_ref().map(|r| r.name.clone()),
    };
    for b in builds {
        let b: &ImageBuild = b.borrow();
        let in_buckets = bucket_of(b).is_some_and(|bk| buckets.contains(bk.as_str()));
        if in_buckets || targets.contains(&b.name_any()) {
            objects.push(prune_build(b));
        }
    }
    let mut reg = Registry::default();
    if let Err(e) = reg.add_json(&Json::Array(objects.clone()).to_string()) {
        return Resolved::Fail(format!("the registry objects are malformed: {e:#}"));
    }
    let mut parent = None;
    let mut versions = Vec::new();
    for r in refs {
        let Some(lookup) = r.lookup() else { continue };
        let bucket = r.arg("bucket_name");
        let channel = match r.arg("channel_name") {
            "" => r.arg("channel"),
            c => c,
        };
        if let Err(e) = lookup.resolve(&reg) {
            let msg = format!("{}: {e:#}", r.address);
            let revoked = msg.contains("is revoked and can not be used");
            let pending = !revoked
                && !channel.is_empty()
                && match reg.channel(bucket, channel) {
                    Ok(c) => {
                        let name = c.pointer("/metadata/name").and_then(|n| n.as_str());
                        wanted
                            .iter()
                            .any(|w| Some(w.name_any().as_str()) == name && may_move(w))
                    }
                    Err(_) => young,
                };
            return if pending {
                Resolved::Wait(msg)
            } else {
                Resolved::Fail(msg)
            };
        }
        let by_version = match r.arg("version_fingerprint") {
            "" => r.arg("iteration_id"),
            v => v,
        };
        let version = if !channel.is_empty() {
            reg.version_of_channel(bucket, channel).ok()
        } else if r.kind == "hcp-packer-image" {
            reg.version_by(bucket, "id", by_version).ok()
        } else {
            reg.version_by(bucket, "fingerprint", by_version).ok()
        };
        if let Some(v) = version {
            versions.push((r.address.clone(), format!("{}@{}", v.name, v.id)));
            if parent.is_none() && !channel.is_empty() {
                let channel_object = reg
                    .channel(bucket, channel)
                    .ok()
                    .and_then(|c| c.pointer("/metadata/name"))
                    .and_then(|n| n.as_str())
                    .map(str::to_string);
                parent = Some(BuildParent {
                    build: v.name.clone(),
                    namespace: None,
                    channel: channel_object,
                    via: Some("hcp-packer-version".into()),
                    digest: None,
                });
            }
        }
    }
    Resolved::Ready {
        objects,
        parent,
        versions,
    }
}

/// Adds the registry objects to the snapshot's channels file, replacing the slimmer copy a
/// `kiln-channel` lookup kept of the same channel (a channel must appear once).
pub fn add_objects(snap: &mut Snapshot, objects: Vec<Json>) {
    let key = |v: &Json| {
        (
            v.get("kind").and_then(|k| k.as_str()).map(str::to_string),
            v.pointer("/metadata/name")
                .and_then(|k| k.as_str())
                .map(str::to_string),
        )
    };
    for o in objects {
        let k = key(&o);
        snap.channels.retain(|c| key(c) != k);
        snap.channels.push(o);
    }
}

// ---------------------------------------------------------------------------------------
// Inputs digest, dedupe and resume
// ---------------------------------------------------------------------------------------

/// `sha256:<hex>` of what a build's result depends on: the template files' fingerprint,
/// the effective plain variables (the template's defaults overridden by the build's), the
/// Secret *references* of secret variables (not their values, which the operator does not
/// read), the selected sources and `only`/`except`, the runner image, and the version each
/// channel lookup resolved to (`kiln-channel`: the channel's current build;
/// `hcp-packer-*`: the version's name and id).
pub fn inputs_digest(
    build: &ImageBuild,
    snap: &Snapshot,
    runner_image: &str,
    resolved: &[(String, String)],
) -> String {
    let mut vars = snap.template_variables.clone();
    vars.extend(snap.variables.clone());
    let secrets: Vec<Json> = build
        .spec
        .secret_variables
        .iter()
        .map(|s| json!([s.name, s.secret_key_ref.name, s.secret_key_ref.key]))
        .collect();
    let mut resolved = resolved.to_vec();
    resolved.sort();
    let doc = json!({
        "template": snap.fingerprint,
        "variables": vars,
        "secretVariables": secrets,
        "builds": snap.builds,
        "only": snap.only,
        "except": snap.except,
        "runnerImage": runner_image,
        "resolved": resolved,
    });
    let digest = Sha256::digest(doc.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The version each `kiln-channel` lookup of the snapshot resolved to (before the registry
/// objects are added: the channels then are exactly those lookups').
pub fn channel_versions(snap: &Snapshot) -> Vec<(String, String)> {
    snap.channels
        .iter()
        .map(|c| {
            (
                format!(
                    "kiln-channel {}",
                    c.pointer("/metadata/name")
                        .and_then(|n| n.as_str())
                        .unwrap_or_default()
                ),
                c.pointer("/status/currentBuild")
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// What [`settle`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// Run (the snapshot may have been narrowed to the sources left, or marked reused).
    Run,
    /// Wait: a build of the same version is still running.
    Held(&'static str, String),
    /// Fail before anything runs.
    Refused(&'static str, String),
}

fn phase(b: &ImageBuild) -> Option<BuildPhase> {
    b.status.as_ref().and_then(|s| s.phase)
}

fn revoked(b: &ImageBuild) -> bool {
    b.spec.revoked.is_some() || b.status.as_ref().is_some_and(|s| s.revoked.is_some())
}

fn finished_at(b: &ImageBuild) -> Option<i64> {
    b.status
        .as_ref()
        .and_then(|s| s.completion_time.as_ref())
        .or(b.metadata.creation_timestamp.as_ref())
        .map(|t| t.0.as_second())
}

/// An entry carried from `from`: its own origin kept, no Job index (no pod of this build
/// writes it).
fn carried(entry: &SourceStatus, from: &str) -> SourceStatus {
    SourceStatus {
        index: None,
        carried_from: entry.carried_from.clone().or(Some(from.to_string())),
        ..entry.clone()
    }
}

/// Decides, from the namespace's other builds (`peers`), whether `snap` reuses an identical
/// succeeded build (dedupe on and the same inputs digest: every source carried, no Job) or
/// resumes its version (a fingerprint given, and earlier failed or cancelled builds of the
/// same bucket and fingerprint: their succeeded sources are carried, the rest run). A
/// version whose build succeeded is complete and refuses a rerun; one still running holds
/// it. The snapshot is changed in place.
pub fn settle<B: Borrow<ImageBuild>>(
    build: &ImageBuild,
    snap: &mut Snapshot,
    peers: &[B],
) -> Settled {
    let me = build.name_any();
    let peers: Vec<&ImageBuild> = peers
        .iter()
        .map(|p| p.borrow())
        .filter(|p| p.name_any() != me)
        .collect();
    if snap.dedupe
        && let Some(digest) = snap.inputs_digest.clone()
    {
        let same = peers
            .iter()
            .filter(|p| phase(p) == Some(BuildPhase::Succeeded) && !revoked(p))
            .filter(|p| p.status.as_ref().and_then(|s| s.inputs_digest.as_deref()) == Some(&digest))
            .max_by_key(|p| (finished_at(p), p.name_any()));
        if let Some(p) = same {
            let from = p.name_any();
            let entries = p.status.clone().unwrap_or_default().sources;
            snap.carried = entries.iter().map(|e| carried(e, &from)).collect();
            snap.reused_from = Some(from);
            snap.builds.clear();
            snap.requirements.clear();
            return Settled::Run;
        }
    }
    let Some(plan) = snap.registry.clone().filter(|p| p.fingerprint_given) else {
        return Settled::Run;
    };
    let mut same: Vec<&ImageBuild> = peers
        .iter()
        .copied()
        .filter(|p| {
            p.labels().get(BUCKET_LABEL) == Some(&plan.bucket)
                && p.labels().get(FINGERPRINT_LABEL) == Some(&plan.fingerprint)
        })
        .collect();
    let version = format!(
        "the version with fingerprint {:?} of bucket {:?}",
        plan.fingerprint, plan.bucket
    );
    if let Some(done) = same
        .iter()
        .find(|p| phase(p) == Some(BuildPhase::Succeeded))
    {
        return Settled::Refused(
            reasons::INVALID_SPEC,
            format!(
                "{version} is already complete (ImageBuild {} succeeded): set a new \
                 {ENV_FINGERPRINT} (or {FINGERPRINT_LABEL} label) to build a new version",
                done.name_any()
            ),
        );
    }
    if let Some(running) = same
        .iter()
        .find(|p| !phase(p).is_some_and(BuildPhase::is_finished))
    {
        return Settled::Held(
            reasons::FINGERPRINT_IN_USE,
            format!(
                "ImageBuild {} is building {version}: this build resumes it once it has \
                 finished",
                running.name_any()
            ),
        );
    }
    if same.is_empty() {
        return Settled::Run;
    }
    // Newest first: a source's latest success is carried.
    same.sort_by_key(|p| std::cmp::Reverse((finished_at(p), p.name_any())));
    let mut carried_entries = Vec::new();
    for name in &snap.builds {
        let found = same.iter().find_map(|p| {
            p.status
                .as_ref()?
                .sources
                .iter()
                .find(|e| &e.name == name && e.phase == Some(BuildPhase::Succeeded))
                .map(|e| carried(e, &p.name_any()))
        });
        carried_entries.extend(found);
    }
    let from = same[0].name_any();
    snap.builds
        .retain(|n| !carried_entries.iter().any(|e| &e.name == n));
    snap.requirements
        .retain(|n, _| snap.builds.iter().any(|b| b == n));
    snap.carried = carried_entries;
    if let Some(p) = snap.registry.as_mut() {
        p.resumed_from = Some(from.clone());
    }
    if snap.builds.is_empty() {
        // Everything was built already: nothing to run.
        snap.reused_from = Some(from);
    }
    Settled::Run
}

// ---------------------------------------------------------------------------------------
// Observe
// ---------------------------------------------------------------------------------------

/// The namespace's ImageBuilds: shared from the cache when there is one (not copied: a
/// namespace may hold thousands), else listed.
async fn builds_in(ctx: &Context, ns: &str) -> Result<Vec<Arc<ImageBuild>>, ObserveError> {
    Caches::in_namespace(ctx.caches.builds.as_ref(), &ctx.client, ns)
        .await
        .map_err(|source| ObserveError::RegistryList {
            kind: "ImageBuilds",
            namespace: ns.to_string(),
            source,
        })
}

/// The registry step of taking a fresh snapshot: reads the buckets the data sources name,
/// computes the inputs digest, and settles dedupe and resume. `Some(taken)` when the build
/// cannot run now.
pub async fn observe(
    ctx: &Context,
    ns: &str,
    build: &ImageBuild,
    snap: &mut Snapshot,
) -> Result<Option<Taken>, ObserveError> {
    let mut resolved = channel_versions(snap);
    let needs_peers = snap.dedupe
        || !snap.hcp_refs.is_empty()
        || snap.registry.as_ref().is_some_and(|p| p.fingerprint_given);
    let peers = if needs_peers {
        builds_in(ctx, ns).await?
    } else {
        Vec::new()
    };
    if !snap.hcp_refs.is_empty() {
        let channels = Api::<ImageChannel>::namespaced(ctx.client.clone(), ns)
            .list(&ListParams::default())
            .await
            .map_err(|source| ObserveError::RegistryList {
                kind: "ImageChannels",
                namespace: ns.to_string(),
                source,
            })?
            .items;
        let age = build
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| super::super::context::now().0.as_second() - t.0.as_second())
            .unwrap_or(0);
        let young = age < MISSING_CHANNEL_GRACE.as_secs() as i64;
        match resolve_hcp(&snap.hcp_refs, &channels, &peers, young) {
            Resolved::Ready {
                objects,
                parent,
                versions,
            } => {
                add_objects(snap, objects);
                if snap.parent.is_none() {
                    snap.parent = parent;
                }
                resolved.extend(versions);
            }
            Resolved::Wait(msg) => return Ok(Some(Taken::WaitingForChannel(msg))),
            Resolved::Fail(msg) => {
                return Ok(Some(Taken::Refused(reasons::REGISTRY_LOOKUP_FAILED, msg)));
            }
        }
    }
    let image = build
        .spec
        .runner
        .as_ref()
        .and_then(|r| r.image.clone())
        .unwrap_or_else(|| ctx.settings.runner.image.clone());
    snap.inputs_digest = Some(inputs_digest(build, snap, &image, &resolved));
    Ok(match settle(build, snap, &peers) {
        Settled::Run => None,
        Settled::Held(reason, msg) => Some(Taken::Held(reason, msg)),
        Settled::Refused(reason, msg) => Some(Taken::Refused(reason, msg)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::tests::snapshot;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kiln_crds::{
        Artifact, ImageBuildSpec, ImageBuildStatus, ImageChannelSpec, ImageChannelStatus,
        Revocation,
    };
    use kiln_engine::datasources::hcp_packer::from_args;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn build(name: &str, labels: &[(&str, &str)]) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template("tpl"));
        b.metadata.namespace = Some("ns".into());
        b.metadata.uid = Some(format!("{name}-uid"));
        b.metadata.creation_timestamp = Some(t(1));
        b.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        b
    }

    fn entry(name: &str, phase: BuildPhase) -> SourceStatus {
        SourceStatus {
            name: name.into(),
            index: Some(0),
            phase: Some(phase),
            artifacts: vec![Artifact {
                builder_id: "packer.file".into(),
                id: format!("{name}.out"),
                ..Artifact::default()
            }],
            ..SourceStatus::default()
        }
    }

    fn finished(mut b: ImageBuild, phase: BuildPhase, at: i64, e: Vec<SourceStatus>) -> ImageBuild {
        b.status = Some(ImageBuildStatus {
            phase: Some(phase),
            completion_time: Some(t(at)),
            sources: e,
            ..ImageBuildStatus::default()
        });
        b
    }

    fn cfg() -> RegistryConfig {
        RegistryConfig {
            bucket_name: "app".into(),
            channels: vec!["production".into()],
            build_labels: BTreeMap::from([
                ("os".to_string(), "debian".to_string()),
                ("build-time".to_string(), "2026-12-05T09:00:00Z".to_string()),
            ]),
            ..RegistryConfig::default()
        }
    }

    #[test]
    fn the_version_fingerprint_comes_from_the_env_a_label_or_the_build_name() {
        let b = build("b1", &[]);
        let p = version_plan(&b, "tpl", &cfg()).unwrap();
        assert_eq!((p.bucket.as_str(), p.fingerprint.as_str()), ("app", "b1"));
        assert!(!p.fingerprint_given);
        let mut c = cfg();
        c.fingerprint = Some("v42".into());
        let p = version_plan(&b, "tpl", &c).unwrap();
        assert_eq!(p.fingerprint, "v42");
        assert!(p.fingerprint_given);
        let labelled = build("b2", &[(FINGERPRINT_LABEL, "v7")]);
        let p = version_plan(&labelled, "tpl", &cfg()).unwrap();
        assert_eq!((p.fingerprint.as_str(), p.fingerprint_given), ("v7", true));
        let e = version_plan(&labelled, "tpl", &c).unwrap_err();
        assert!(
            e.contains("HCP_PACKER_BUILD_FINGERPRINT") && e.contains("disagree"),
            "{e}"
        );
        // No bucket_name: the template's name.
        let p = version_plan(&b, "tpl", &RegistryConfig::default()).unwrap();
        assert_eq!(p.bucket, "tpl");
        // Errors name the field.
        c.fingerprint = Some("not a label!".into());
        let e = version_plan(&b, "tpl", &c).unwrap_err();
        assert!(
            e.starts_with("spec.runner.env HCP_PACKER_BUILD_FINGERPRINT"),
            "{e}"
        );
        let mut c = cfg();
        c.channels = vec!["prod uction".into()];
        let e = version_plan(&b, "tpl", &c).unwrap_err();
        assert!(e.starts_with("hcp_packer_registry.channels"), "{e}");
    }

    #[test]
    fn hcp_env_in_the_runner_spec_must_be_literal() {
        let mut b = build("b1", &[]);
        b.spec.runner = Some(kiln_crds::RunnerSpec {
            env: vec![
                k8s_openapi::api::core::v1::EnvVar {
                    name: "PACKER_LOG".into(),
                    value: Some("1".into()),
                    ..Default::default()
                },
                k8s_openapi::api::core::v1::EnvVar {
                    name: "HCP_PACKER_BUILD_FINGERPRINT".into(),
                    value: Some("v1".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        assert_eq!(
            runner_env(&b).unwrap(),
            BTreeMap::from([("HCP_PACKER_BUILD_FINGERPRINT".into(), "v1".into())])
        );
        b.spec.runner.as_mut().unwrap().env[1].value_from = Some(Default::default());
        let e = runner_env(&b).unwrap_err();
        assert!(
            e.starts_with("spec.runner.env[1] (HCP_PACKER_BUILD_FINGERPRINT)"),
            "{e}"
        );
    }

    #[test]
    fn labels_hold_bucket_fingerprint_channels_and_valid_build_labels() {
        let plan = version_plan(&build("b1", &[]), "tpl", &cfg()).unwrap();
        let m = desired_metadata(&plan);
        assert_eq!(
            m.labels,
            BTreeMap::from([
                (
                    "channel.kiln.dev/production".to_string(),
                    "true".to_string()
                ),
                (BUCKET_LABEL.to_string(), "app".to_string()),
                (FINGERPRINT_LABEL.to_string(), "b1".to_string()),
                ("os".to_string(), "debian".to_string()),
            ])
        );
        let all: BTreeMap<String, String> =
            serde_json::from_str(&m.annotations[BUILD_LABELS_ANNOTATION]).unwrap();
        assert_eq!(
            all["build-time"], "2026-12-05T09:00:00Z",
            "kept in the annotation"
        );
        // A build that has them all needs nothing; a user's other value stays theirs.
        let mut b = build("b1", &[]);
        b.metadata.labels = Some(m.labels.clone());
        b.metadata.annotations = Some(m.annotations.clone());
        assert_eq!(missing_metadata(&b, &m), None);
        let b = build("b1", &[("os", "alpine")]);
        let apply = missing_metadata(&b, &m).unwrap();
        assert!(!apply.labels.contains_key("os"));
        assert_eq!(apply.labels[BUCKET_LABEL], "app");
        assert!(label_key_ok("example.com/a_b") && !label_key_ok("a b") && !label_key_ok("/x"));
    }

    fn channel(name: &str, labels: &[(&str, &str)], current: &str, reason: &str) -> ImageChannel {
        let mut c = ImageChannel::new(name, ImageChannelSpec::pinned("base", current));
        c.metadata.namespace = Some("ns".into());
        c.metadata.uid = Some(format!("{name}-uid"));
        c.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let ready = reason == reasons::TARGET_VERIFIED;
        let cond = |ty: &str, st: bool| kiln_crds::Condition {
            type_: ty.into(),
            status: if st { "True" } else { "False" }.into(),
            reason: reason.into(),
            message: format!("ImageBuild {current:?} is revoked: CVE-1"),
            last_transition_time: t(1),
            observed_generation: None,
        };
        c.status = Some(ImageChannelStatus {
            current_build: Some(current.into()),
            conditions: vec![
                cond("Ready", ready),
                cond("Reconciling", false),
                cond("Stalled", !ready),
            ],
            ..ImageChannelStatus::default()
        });
        c
    }

    fn hcp(kind: &str, name: &str, args: &[(&str, &str)]) -> HcpRef {
        HcpRef {
            address: format!("data.{kind}.{name}"),
            kind: kind.into(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn buckets_are_fixed_in_the_snapshot_and_a_revoked_version_fails_with_packers_message() {
        let mut parent = build(
            "base-1",
            &[(BUCKET_LABEL, "base"), (FINGERPRINT_LABEL, "f1")],
        );
        parent.spec.template_ref = Some(kiln_crds::TemplateRef {
            name: "base".into(),
        });
        let parent = finished(
            parent,
            BuildPhase::Succeeded,
            5,
            vec![entry("file.root", BuildPhase::Succeeded)],
        );
        let other = finished(build("x", &[]), BuildPhase::Succeeded, 5, vec![]);
        let prod = channel(
            "base-production",
            &[(BUCKET_LABEL, "base"), ("kiln.dev/channel", "production")],
            "base-1",
            reasons::TARGET_VERIFIED,
        );
        let refs = vec![
            hcp(
                "hcp-packer-version",
                "base",
                &[("bucket_name", "base"), ("channel_name", "production")],
            ),
            hcp(
                "hcp-packer-artifact",
                "base",
                &[
                    ("bucket_name", "base"),
                    ("version_fingerprint", "<unknown>"),
                    ("platform", "file"),
                    ("region", "file"),
                ],
            ),
        ];
        let Resolved::Ready {
            objects,
            parent: p,
            versions,
        } = resolve_hcp(
            &refs,
            std::slice::from_ref(&prod),
            &[parent.clone(), other],
            false,
        )
        else {
            panic!()
        };
        let names: Vec<&str> = objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["base-production", "base-1"],
            "only the bucket's objects"
        );
        assert!(objects[1].pointer("/status/revoked").is_none(), "no nulls");
        assert_eq!(
            p,
            Some(BuildParent {
                build: "base-1".into(),
                namespace: None,
                channel: Some("base-production".into()),
                via: Some("hcp-packer-version".into()),
                digest: None,
            })
        );
        assert_eq!(
            versions,
            [(
                "data.hcp-packer-version.base".to_string(),
                "base-1@base-1-uid".to_string()
            )]
        );
        // What the runner reads back resolves the artifact by the version's fingerprint.
        let mut reg = Registry::default();
        reg.add_json(&Json::Array(objects).to_string()).unwrap();
        let art = from_args(
            "hcp-packer-artifact",
            &[
                ("bucket_name", "base"),
                ("version_fingerprint", "f1"),
                ("platform", "file"),
                ("region", "file"),
            ],
        )
        .unwrap()
        .resolve(&reg)
        .unwrap();
        assert_eq!(
            art["external_identifier"],
            kiln_engine::value::Value::str("file.root.out")
        );
        // Revoked: Packer's message, the build fails.
        let mut revoked = parent.clone();
        revoked.spec.revoked = Some(Revocation {
            reason: "CVE-1".into(),
        });
        let stalled = channel(
            "base-production",
            &[(BUCKET_LABEL, "base"), ("kiln.dev/channel", "production")],
            "base-1",
            reasons::TARGET_REVOKED,
        );
        assert_eq!(
            resolve_hcp(&refs[..1], &[stalled], &[revoked], true),
            Resolved::Fail(
                "data.hcp-packer-version.base: the HCP Packer Version associated with the \
                 channel production is revoked and can not be used on Packer builds"
                    .into()
            )
        );
        // A channel still being reconciled: wait.
        let mut pending = prod.clone();
        pending.status = None;
        assert!(matches!(
            resolve_hcp::<ImageBuild>(&refs[..1], &[pending], &[], false),
            Resolved::Wait(_)
        ));
        // A following channel no build matches yet (all applied at once): wait; but a
        // revoked version fails even then.
        let mut following = channel(
            "base-production",
            &[(BUCKET_LABEL, "base"), ("kiln.dev/channel", "production")],
            "base-1",
            reasons::TARGET_NOT_FOUND,
        );
        following.spec = ImageChannelSpec::following("base", Default::default());
        following.status.as_mut().unwrap().current_build = None;
        assert!(matches!(
            resolve_hcp::<ImageBuild>(&refs[..1], std::slice::from_ref(&following), &[], false),
            Resolved::Wait(_)
        ));
        following.status.as_mut().unwrap().current_build = Some("base-1".into());
        let mut revoked_build = parent.clone();
        revoked_build.spec.revoked = Some(Revocation { reason: "x".into() });
        assert!(matches!(
            resolve_hcp(&refs[..1], &[following], &[revoked_build], true),
            Resolved::Fail(m) if m.contains("is revoked")
        ));
        // No such channel: fail, listing what the bucket has.
        let staging = [hcp(
            "hcp-packer-version",
            "x",
            &[("bucket_name", "base"), ("channel_name", "staging")],
        )];
        let Resolved::Fail(msg) =
            resolve_hcp::<ImageBuild>(&staging, std::slice::from_ref(&prod), &[], false)
        else {
            panic!()
        };
        assert!(msg.contains("the bucket has: production"), "{msg}");
        // ... unless the build is new: the channel may be applied in the same batch.
        assert!(matches!(
            resolve_hcp::<ImageBuild>(&staging, &[prod], &[], true),
            Resolved::Wait(_)
        ));
    }

    #[test]
    fn the_inputs_digest_moves_with_every_input_and_nothing_else() {
        let b = build("b1", &[]);
        let s = snapshot(&["null.a"]);
        let d = inputs_digest(&b, &s, "img:1", &[]);
        assert!(d.starts_with("sha256:") && d.len() == 71);
        assert_eq!(
            d,
            inputs_digest(&build("b2", &[]), &s, "img:1", &[]),
            "not the name"
        );
        let mut s2 = s.clone();
        s2.variables.insert("n".into(), serde_json::json!(2));
        assert_ne!(d, inputs_digest(&b, &s2, "img:1", &[]));
        assert_ne!(d, inputs_digest(&b, &s, "img:2", &[]));
        let r = [("data.x".to_string(), "base-2@u".to_string())];
        assert_ne!(d, inputs_digest(&b, &s, "img:1", &r));
        let mut s3 = s.clone();
        s3.run_uuid = "another-run".into();
        assert_eq!(d, inputs_digest(&b, &s3, "img:1", &[]));
    }

    #[test]
    fn dedupe_reuses_the_newest_identical_success() {
        let mut s = snapshot(&["null.a"]);
        s.dedupe = true;
        s.inputs_digest = Some("sha256:same".into());
        let with_digest = |b: ImageBuild, d: &str| {
            let mut b = b;
            b.status.as_mut().unwrap().inputs_digest = Some(d.into());
            b
        };
        let ok = |n: &str, at| {
            finished(
                build(n, &[]),
                BuildPhase::Succeeded,
                at,
                vec![entry("null.a", BuildPhase::Succeeded)],
            )
        };
        let mut revoked = with_digest(ok("newest-revoked", 30), "sha256:same");
        revoked.spec.revoked = Some(Revocation { reason: "x".into() });
        let peers = vec![
            with_digest(ok("old", 10), "sha256:same"),
            with_digest(ok("new", 20), "sha256:same"),
            revoked,
            with_digest(ok("other", 40), "sha256:other"),
        ];
        assert_eq!(settle(&build("b1", &[]), &mut s, &peers), Settled::Run);
        assert_eq!(s.reused_from.as_deref(), Some("new"));
        assert!(s.builds.is_empty());
        assert_eq!(s.carried.len(), 1);
        assert_eq!(s.carried[0].carried_from.as_deref(), Some("new"));
        assert_eq!(s.carried[0].index, None);
        // Off: runs.
        let mut s = snapshot(&["null.a"]);
        s.inputs_digest = Some("sha256:same".into());
        assert_eq!(settle(&build("b1", &[]), &mut s, &peers), Settled::Run);
        assert!(s.reused_from.is_none() && s.builds.len() == 1);
    }

    #[test]
    fn a_rerun_with_the_fingerprint_resumes_the_version() {
        let labels = [(BUCKET_LABEL, "app"), (FINGERPRINT_LABEL, "v1")];
        let mut s = snapshot(&["file.a", "file.b"]);
        s.registry = Some(VersionPlan {
            bucket: "app".into(),
            fingerprint: "v1".into(),
            fingerprint_given: true,
            ..VersionPlan::default()
        });
        let failed = finished(
            build("try-1", &labels),
            BuildPhase::Failed,
            10,
            vec![
                entry("file.a", BuildPhase::Succeeded),
                entry("file.b", BuildPhase::Failed),
            ],
        );
        let me = build("try-2", &labels);
        assert_eq!(
            settle(&me, &mut s, std::slice::from_ref(&failed)),
            Settled::Run
        );
        assert_eq!(s.builds, ["file.b"], "only the source not done runs");
        assert_eq!(s.carried.len(), 1);
        assert_eq!(s.carried[0].name, "file.a");
        assert_eq!(s.carried[0].carried_from.as_deref(), Some("try-1"));
        assert_eq!(
            s.registry.as_ref().unwrap().resumed_from.as_deref(),
            Some("try-1")
        );
        assert!(s.reused_from.is_none());
        // Still running: held; complete: refused, as HCP refuses a complete version.
        let mut s2 = snapshot(&["file.a", "file.b"]);
        s2.registry = s.registry.clone();
        let running = build("try-1", &labels);
        assert!(matches!(
            settle(&me, &mut s2, &[running]),
            Settled::Held(reasons::FINGERPRINT_IN_USE, _)
        ));
        let done = finished(build("try-1", &labels), BuildPhase::Succeeded, 10, vec![]);
        let Settled::Refused(_, msg) = settle(&me, &mut s2, &[done]) else {
            panic!()
        };
        assert!(msg.contains("already complete"), "{msg}");
        // Another bucket or fingerprint is not the same version; without a given
        // fingerprint nothing resumes.
        let mut s3 = snapshot(&["file.a", "file.b"]);
        s3.registry = s.registry.clone();
        let other = finished(
            build("x", &[(BUCKET_LABEL, "app"), (FINGERPRINT_LABEL, "v2")]),
            BuildPhase::Failed,
            10,
            vec![entry("file.a", BuildPhase::Succeeded)],
        );
        assert_eq!(settle(&me, &mut s3, &[other]), Settled::Run);
        assert_eq!(s3.builds.len(), 2);
        // Everything built before: nothing runs, the build reuses the earlier one.
        let mut s4 = snapshot(&["file.a"]);
        s4.registry = s.registry.clone();
        assert_eq!(settle(&me, &mut s4, &[failed]), Settled::Run);
        assert_eq!(s4.reused_from.as_deref(), Some("try-1"));
    }

    #[test]
    fn registry_objects_replace_the_slim_channel_copy() {
        let mut s = snapshot(&["null.a"]);
        s.channels = vec![
            json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageChannel",
                                  "metadata": {"name": "c", "namespace": "ns"}, "status": {}}),
        ];
        add_objects(
            &mut s,
            vec![
                json!({"kind": "ImageChannel", "metadata": {"name": "c", "labels": {"a": "b"}}}),
                json!({"kind": "ImageBuild", "metadata": {"name": "c"}}),
            ],
        );
        assert_eq!(s.channels.len(), 2);
        assert_eq!(s.channels[0]["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn the_hcp_samples_are_valid_templates_with_a_registry_and_a_parent_lookup() {
        let first = |text: &str| -> kiln_crds::ImageTemplate {
            serde_yaml::from_str(text.split("\n---\n").next().unwrap()).unwrap()
        };
        let base = first(include_str!("../../../../config/samples/hcp/base.yaml"));
        let app = first(include_str!("../../../../config/samples/hcp/app.yaml"));
        let analyze = |t: &kiln_crds::ImageTemplate| {
            let files = super::super::super::analysis::template_files(
                t.spec.template.as_deref(),
                t.spec.files.as_deref(),
            );
            let dir = tempfile::tempdir().unwrap();
            super::super::super::analysis::analyze(dir.path(), &files, &t.spec.variables)
        };
        let a = analyze(&base);
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        assert_eq!(
            template_bucket("base", &a).unwrap().channels,
            ["production"]
        );
        let a = analyze(&app);
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        let bucket = template_bucket("app", &a).unwrap();
        assert_eq!(bucket.name, "app");
        assert_eq!(
            bucket.description,
            "The application image, built on the production base image.\n"
        );
        assert_eq!(bucket.labels["owner"], "app-team");
        let cfg = a.registry.as_ref().unwrap();
        assert!(cfg.build_labels.contains_key("build-time"));
        let mut kinds: Vec<&str> = a.hcp.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort();
        assert_eq!(kinds, ["hcp-packer-artifact", "hcp-packer-version"]);
        assert!(a.hcp.iter().all(|r| r.bucket() == Some("base")));
    }

    #[test]
    fn registry_values_never_carry_a_sensitive_or_unknown_value() {
        let files = vec![kiln_crds::TemplateFile {
            name: "t.pkr.hcl".into(),
            content: r#"
variable "token" {
  type      = string
  default   = "s3cr3t-t0ken"
  sensitive = true
}
variable "from_secret" {
  type = string
}
hcp_packer_registry {
  bucket_name  = "app"
  description  = "built with ${var.token}"
  build_labels = {
    "token"  = var.token
    "secret" = var.from_secret
    "os"     = "debian"
  }
}
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
}
"#
            .into(),
        }];
        let dir = tempfile::tempdir().unwrap();
        let a = super::super::super::analysis::analyze(dir.path(), &files, &Default::default());
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        let cfg = a.registry.unwrap();
        assert!(!cfg.description.contains("s3cr3t"), "{}", cfg.description);
        assert_eq!(
            cfg.build_labels,
            BTreeMap::from([
                ("os".to_string(), "debian".to_string()),
                ("token".to_string(), "<sensitive>".to_string()),
            ])
        );
    }
}
