//! HCP Packer's registry data sources, resolved against Kiln's registry: `hcp-packer-version`,
//! `hcp-packer-artifact`, and the deprecated `hcp-packer-iteration` and `hcp-packer-image`
//! (Packer's `datasource/hcp-packer-*/data.go`), with Packer's arguments, outputs and error
//! messages. A template written for HCP Packer reads its parent image unchanged.
//!
//! The mapping (docs/registry.md has it side by side with HCP Packer's concepts):
//!
//! | HCP Packer | Kiln |
//! |---|---|
//! | bucket `bucket_name` | the ImageChannels and ImageBuilds labelled `kiln.dev/bucket: <bucket_name>`, or, without that label, those of the ImageTemplate named `<bucket_name>` |
//! | channel `channel_name` | the bucket's ImageChannel labelled `kiln.dev/channel: <channel_name>`, or named `<channel_name>` |
//! | version (iteration) | the ImageBuild the channel points at (`status.currentBuild`); `fingerprint` is its `kiln.dev/fingerprint` label, else its name; `id` its uid, else its name |
//! | build | one source's entry in the ImageBuild's `status.sources` (`component_type` is the source, `docker.ubuntu`) |
//! | artifact (image) | that source's artifacts, last of the post-processor chain first: `external_identifier` is the artifact id; `platform` and `region` its `platform` / `region` state, else the builder type |
//! | revoked version | a build with `status.revoked`, or a channel whose target is revoked: the data source fails, as HCP's |
//!
//! Where the objects come from: `kubectl get imagechannel,imagebuild -o json` output (one
//! object, a `List` or an array per file) in the files named by `KILN_REGISTRY`
//! (`:`-separated), plus the channels file of the run (`KILN_CHANNELS`, or the one the
//! operator gives a runner pod). Channels alone resolve channel lookups; the builds add
//! `version_fingerprint` / `iteration_id` lookups, labels, times and the revocation of a
//! build its channel has not noticed yet.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::Value as Json;

use crate::components::{ComponentInfo, DataSource, RunEnv};
use crate::datasources::DataSourceError;
use crate::template::ConfigReader;
use crate::value::Value;

/// The environment variable naming the registry files.
pub const ENV: &str = "KILN_REGISTRY";
/// The label naming an ImageChannel's or ImageBuild's bucket.
pub const BUCKET_LABEL: &str = "kiln.dev/bucket";
/// The label giving an ImageChannel its HCP channel name (channel names are per bucket in
/// HCP Packer, per namespace in Kubernetes).
pub const CHANNEL_LABEL: &str = "kiln.dev/channel";
/// The label carrying a build's version fingerprint (`HCP_PACKER_BUILD_FINGERPRINT`).
pub const FINGERPRINT_LABEL: &str = "kiln.dev/fingerprint";
/// The annotation naming who started a build (`author_id`).
pub const AUTHOR_ANNOTATION: &str = "kiln.dev/author";
/// The annotation holding a build's `build_labels` as a JSON object (all of them: those
/// that are not valid Kubernetes labels too); the `labels` output reads it first.
pub const BUILD_LABELS_ANNOTATION: &str = "kiln.dev/build-labels";
/// The label prefix of a channel a build is meant for (`hcp_packer_registry.channels`):
/// `channel.kiln.dev/<channel>: "true"`.
pub const CHANNEL_LABEL_PREFIX: &str = "channel.kiln.dev/";

/// Whether `bucket` is the bucket of an ImageChannel or ImageBuild object: its
/// `kiln.dev/bucket` label, else its template's name.
pub fn in_bucket(obj: &Json, bucket: &str) -> bool {
    Registry::in_bucket(obj, bucket)
}

/// ImageChannel and ImageBuild objects as the Kubernetes API serves them.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub channels: Vec<Json>,
    pub builds: Vec<Json>,
}

fn s<'a>(v: &'a Json, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(|x| x.as_str())
}

fn label<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(|x| x.as_str())
}

impl Registry {
    /// Adds the objects of one file's JSON: one object, a `List`, or an array.
    pub fn add_json(&mut self, text: &str) -> anyhow::Result<()> {
        let v: Json = serde_json::from_str(text).context("not JSON")?;
        let items = match v {
            Json::Array(a) => a,
            Json::Object(ref o) if o.get("items").is_some_and(|i| i.is_array()) => {
                o["items"].as_array().cloned().unwrap_or_default()
            }
            Json::Object(_) => vec![v],
            _ => bail!("expected ImageChannel or ImageBuild objects, a List of them or an array"),
        };
        for (i, item) in items.into_iter().enumerate() {
            if s(&item, "/metadata/name").is_none() {
                bail!("item {i} has no metadata.name");
            }
            match s(&item, "/kind") {
                Some("ImageChannel") => self.channels.push(item),
                Some("ImageBuild") => self.builds.push(item),
                Some(other) => bail!("item {i} is a {other}, not an ImageChannel or ImageBuild"),
                None => bail!("item {i} has no kind"),
            }
        }
        Ok(())
    }

    /// The registry files of a run: `KILN_REGISTRY`'s, then the channels file. In a runner
    /// pod only the channels file counts: the operator wrote the bucket's ImageChannels and
    /// ImageBuilds there, as they were when the build started.
    pub fn files(env: &RunEnv) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::env::var_os(ENV)
            .filter(|_| !env.in_cluster)
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        out.extend(env.channels());
        out
    }

    /// Reads every registry file of a run.
    pub fn load(env: &RunEnv) -> anyhow::Result<Registry> {
        let files = Registry::files(env);
        if files.is_empty() {
            bail!(
                "no registry to read: {ENV} is not set. In a cluster the operator resolves \
                 channels for its runner pods; to build locally, save the bucket's channels and \
                 builds with `kubectl get imagechannel,imagebuild -o json > registry.json` and \
                 run with {ENV}=registry.json"
            );
        }
        let mut r = Registry::default();
        for f in files {
            let text = std::fs::read_to_string(&f)
                .with_context(|| format!("reading {} ({ENV})", f.display()))?;
            r.add_json(&text)
                .with_context(|| format!("{} ({ENV})", f.display()))?;
        }
        Ok(r)
    }

    fn in_bucket(obj: &Json, bucket: &str) -> bool {
        match label(obj, BUCKET_LABEL) {
            Some(b) => b == bucket,
            None => s(obj, "/spec/templateRef/name") == Some(bucket),
        }
    }

    /// The bucket's channel named `name`.
    pub fn channel(&self, bucket: &str, name: &str) -> anyhow::Result<&Json> {
        let in_bucket: Vec<&Json> = self
            .channels
            .iter()
            .filter(|c| Registry::in_bucket(c, bucket))
            .collect();
        let by_label: Vec<&Json> = in_bucket
            .iter()
            .copied()
            .filter(|c| label(c, CHANNEL_LABEL) == Some(name))
            .collect();
        let found = if by_label.is_empty() {
            in_bucket
                .iter()
                .copied()
                .filter(|c| {
                    label(c, CHANNEL_LABEL).is_none() && s(c, "/metadata/name") == Some(name)
                })
                .collect()
        } else {
            by_label
        };
        match found.as_slice() {
            [one] => Ok(one),
            [] => {
                let have: Vec<String> = in_bucket.iter().map(|c| channel_name(c)).collect();
                bail!(
                    "no ImageChannel {name:?} in bucket {bucket:?} (a channel labelled \
                     {CHANNEL_LABEL}={name} or named {name}, of ImageTemplate {bucket} or \
                     labelled {BUCKET_LABEL}={bucket}); the bucket has: {}",
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                )
            }
            many => bail!(
                "channel {name:?} of bucket {bucket:?} is ambiguous: ImageChannels {}",
                many.iter()
                    .map(|c| display(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The ImageBuild `name` in `namespace` (any namespace when unknown).
    pub fn build(&self, namespace: Option<&str>, name: &str) -> Option<&Json> {
        self.builds.iter().find(|b| {
            s(b, "/metadata/name") == Some(name)
                && (namespace.is_none() || s(b, "/metadata/namespace") == namespace)
        })
    }

    /// The bucket's build whose fingerprint (or id) is `fp`.
    pub fn build_by(&self, bucket: &str, what: &str, fp: &str) -> anyhow::Result<&Json> {
        let found: Vec<&Json> = self
            .builds
            .iter()
            .filter(|b| Registry::in_bucket(b, bucket))
            .filter(|b| match what {
                "fingerprint" => fingerprint(b) == fp,
                _ => build_id(b) == fp || s(b, "/metadata/name") == Some(fp),
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "no ImageBuild with {what} {fp:?} in bucket {bucket:?} among the {} ImageBuild(s) \
                 read from {ENV}",
                self.builds.len()
            ),
            many => bail!(
                "{what} {fp:?} of bucket {bucket:?} is ambiguous: ImageBuilds {}",
                many.iter()
                    .map(|b| display(b))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn display(o: &Json) -> String {
    match s(o, "/metadata/namespace") {
        Some(ns) => format!("{ns}/{}", s(o, "/metadata/name").unwrap_or_default()),
        None => s(o, "/metadata/name").unwrap_or_default().to_string(),
    }
}

fn channel_name(c: &Json) -> String {
    label(c, CHANNEL_LABEL)
        .or_else(|| s(c, "/metadata/name"))
        .unwrap_or_default()
        .to_string()
}

fn fingerprint(b: &Json) -> String {
    label(b, FINGERPRINT_LABEL)
        .or_else(|| s(b, "/metadata/name"))
        .unwrap_or_default()
        .to_string()
}

fn build_id(b: &Json) -> String {
    s(b, "/metadata/uid")
        .or_else(|| s(b, "/metadata/name"))
        .unwrap_or_default()
        .to_string()
}

/// One artifact of a version, with its build (HCP's build ↔ a source of the ImageBuild).
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub platform: String,
    pub region: String,
    pub component_type: String,
    pub external_identifier: String,
    pub created_at: String,
    pub build_id: String,
    pub version_id: String,
    pub packer_run_uuid: String,
    pub labels: BTreeMap<String, String>,
}

/// A version: the ImageBuild a channel points at (or found by fingerprint).
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub id: String,
    pub name: String,
    pub fingerprint: String,
    pub status: String,
    pub author_id: String,
    pub bucket_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub channel_id: String,
    pub revoked: Option<String>,
    pub artifacts: Vec<Found>,
}

fn revocation(build: Option<&Json>, channel: Option<&Json>) -> Option<String> {
    if let Some(r) = build.and_then(|b| b.pointer("/status/revoked")) {
        return Some(r["reason"].as_str().unwrap_or("revoked").to_string());
    }
    if let Some(r) = build.and_then(|b| b.pointer("/spec/revoked")) {
        return Some(r["reason"].as_str().unwrap_or("revoked").to_string());
    }
    let c = channel?;
    let conds = c.pointer("/status/conditions")?.as_array()?;
    conds
        .iter()
        .find(|x| {
            x["reason"] == "TargetRevoked" && (x["type"] == "Stalled" || x["type"] == "Ready")
        })
        .map(|x| x["message"].as_str().unwrap_or("revoked").to_string())
}

fn version_status(build: Option<&Json>, channel: Option<&Json>, revoked: bool) -> String {
    if revoked {
        return "VERSION_REVOKED".into();
    }
    let phase = build.and_then(|b| s(b, "/status/phase"));
    match phase {
        Some("Succeeded") => "VERSION_ACTIVE",
        Some("Failed") => "VERSION_FAILED",
        Some("Cancelled") => "VERSION_CANCELLED",
        Some(_) => "VERSION_RUNNING",
        None => {
            let ready = channel
                .and_then(|c| c.pointer("/status/conditions"))
                .and_then(|c| c.as_array())
                .is_some_and(|c| {
                    c.iter()
                        .any(|x| x["type"] == "Ready" && x["status"] == "True")
                });
            if ready {
                "VERSION_ACTIVE"
            } else {
                "VERSION_UNSET"
            }
        }
    }
    .into()
}

/// The artifacts of a version: from the ImageBuild's sources when it was read, else from the
/// channel's copy of them.
fn artifacts(build: Option<&Json>, channel: Option<&Json>, version_id: &str) -> Vec<Found> {
    let from_annotation: Option<BTreeMap<String, String>> = build
        .and_then(|b| b.pointer("/metadata/annotations"))
        .and_then(|a| a.get(BUILD_LABELS_ANNOTATION))
        .and_then(|x| x.as_str())
        .and_then(|text| serde_json::from_str(text).ok());
    let labels: BTreeMap<String, String> = from_annotation.unwrap_or_else(|| {
        build
            .and_then(|b| b.pointer("/metadata/labels"))
            .and_then(|l| l.as_object())
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    });
    let build_name = build
        .and_then(|b| s(b, "/metadata/name"))
        .or_else(|| channel.and_then(|c| s(c, "/status/currentBuild")))
        .unwrap_or_default();
    let sources: Vec<(String, Option<&Json>, Vec<Json>)> = match build
        .and_then(|b| b.pointer("/status/sources"))
        .and_then(|x| x.as_array())
    {
        Some(list) => list
            .iter()
            .map(|src| {
                (
                    src["name"].as_str().unwrap_or_default().to_string(),
                    Some(src),
                    src["artifacts"].as_array().cloned().unwrap_or_default(),
                )
            })
            .collect(),
        None => channel
            .and_then(|c| c.pointer("/status/artifacts"))
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
            .map(|src| {
                (
                    src["source"].as_str().unwrap_or_default().to_string(),
                    None,
                    src["artifacts"].as_array().cloned().unwrap_or_default(),
                )
            })
            .collect(),
    };
    let mut out = Vec::new();
    for (source, status, arts) in sources {
        // The source's own name, without a `<build block>.` prefix: `docker.ubuntu`.
        let builder_type = match source.rsplit_once('.') {
            Some((head, _)) => head.rsplit('.').next().unwrap_or(head),
            None => source.as_str(),
        }
        .to_string();
        let created = status
            .and_then(|st| st["finishedAt"].as_str())
            .unwrap_or_default()
            .to_string();
        let run_uuid = status
            .and_then(|st| st.pointer("/manifestEntry/packer_run_uuid"))
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string();
        for a in arts.iter().rev() {
            let state = |k: &str| a.pointer(&format!("/state/{k}")).and_then(|x| x.as_str());
            let platform = state("platform").unwrap_or(&builder_type).to_string();
            let region = state("region").unwrap_or(&platform).to_string();
            out.push(Found {
                platform,
                region,
                component_type: source.clone(),
                external_identifier: a["id"].as_str().unwrap_or_default().to_string(),
                created_at: created.clone(),
                build_id: format!("{build_name}/{source}"),
                version_id: version_id.to_string(),
                packer_run_uuid: run_uuid.clone(),
                labels: labels.clone(),
            });
        }
    }
    out
}

impl Registry {
    /// The version a bucket's channel points at. Errors as HCP's: no channel, no version.
    pub fn version_of_channel(&self, bucket: &str, channel: &str) -> anyhow::Result<Version> {
        let c = self.channel(bucket, channel)?;
        let Some(build_name) = s(c, "/status/currentBuild") else {
            bail!("there is no HCP Packer Version associated with the channel {channel}");
        };
        let build = self.build(s(c, "/metadata/namespace"), build_name);
        Ok(self.version(bucket, build, Some(c), build_name))
    }

    /// A bucket's version found by fingerprint (`by = "fingerprint"`) or id.
    pub fn version_by(&self, bucket: &str, by: &str, value: &str) -> anyhow::Result<Version> {
        let b = self.build_by(bucket, by, value)?;
        let name = s(b, "/metadata/name").unwrap_or_default();
        Ok(self.version(bucket, Some(b), None, name))
    }

    fn version(
        &self,
        bucket: &str,
        build: Option<&Json>,
        channel: Option<&Json>,
        name: &str,
    ) -> Version {
        let revoked = revocation(build, channel);
        let id = build.map(build_id).unwrap_or_else(|| name.to_string());
        Version {
            fingerprint: build.map(fingerprint).unwrap_or_else(|| name.to_string()),
            name: name.to_string(),
            status: version_status(build, channel, revoked.is_some()),
            author_id: build
                .and_then(|b| b.pointer("/metadata/annotations"))
                .and_then(|a| a.get(AUTHOR_ANNOTATION))
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string(),
            bucket_name: bucket.to_string(),
            created_at: build
                .and_then(|b| s(b, "/metadata/creationTimestamp"))
                .unwrap_or_default()
                .to_string(),
            updated_at: build
                .and_then(|b| s(b, "/status/completionTime"))
                .or_else(|| channel.and_then(|c| s(c, "/status/assignedAt")))
                .unwrap_or_default()
                .to_string(),
            channel_id: channel
                .map(|c| {
                    s(c, "/metadata/uid")
                        .map(str::to_string)
                        .unwrap_or_else(|| display(c))
                })
                .unwrap_or_default(),
            artifacts: artifacts(build, channel, &id),
            id,
            revoked,
        }
    }
}

/// Go's `%v` of a `map[string][]string`: `map[docker:[docker docker]]`.
fn go_map(m: &BTreeMap<String, Vec<String>>) -> String {
    let inner: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}:[{}]", v.join(" ")))
        .collect();
    format!("map[{}]", inner.join(" "))
}

/// The artifact of a version matching platform, region and (when set) component type — the
/// first, as HCP's; else Packer's error listing what is available.
pub fn find_artifact<'a>(
    v: &'a Version,
    platform: &str,
    region: &str,
    component_type: &str,
    platform_word: &str,
) -> anyhow::Result<&'a Found> {
    let mut available: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &v.artifacts {
        if a.platform != platform {
            continue;
        }
        available
            .entry(a.platform.clone())
            .or_default()
            .push(a.region.clone());
        if a.region == region && (component_type.is_empty() || a.component_type == component_type) {
            return Ok(a);
        }
    }
    bail!(
        "could not find a build result matching [region={region:?}, {platform_word}={platform:?}, \
         component_type={component_type:?}]. Available: {} ",
        go_map(&available)
    )
}

// ---------------------------------------------------------------------------------------
// The four data sources
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Version,
    Artifact,
    Iteration,
    Image,
}

/// A configured HCP Packer data source.
pub struct HcpPacker {
    kind: Kind,
    bucket: String,
    channel: String,
    /// `version_fingerprint` (artifact) or `iteration_id` (image).
    version: String,
    platform: String,
    region: String,
    component_type: String,
    env: std::sync::Arc<RunEnv>,
}

fn known(s: &str) -> bool {
    s != "<unknown>"
}

fn read(kind: Kind, r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    let mut errs: Vec<&str> = Vec::new();
    let bucket = r.string("bucket_name").unwrap_or_default();
    let (channel, version, platform, region, component_type) = match kind {
        Kind::Version => (
            r.string("channel_name").unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
        Kind::Artifact => (
            r.string("channel_name").unwrap_or_default(),
            r.string("version_fingerprint").unwrap_or_default(),
            r.string("platform").unwrap_or_default(),
            r.string("region").unwrap_or_default(),
            r.string("component_type").unwrap_or_default(),
        ),
        Kind::Iteration => (
            r.string("channel").unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
        Kind::Image => (
            r.string("channel").unwrap_or_default(),
            r.string("iteration_id").unwrap_or_default(),
            r.string("cloud_provider").unwrap_or_default(),
            r.string("region").unwrap_or_default(),
            r.string("component_type").unwrap_or_default(),
        ),
    };
    match kind {
        Kind::Version | Kind::Artifact => {
            if bucket.is_empty() {
                errs.push("the `bucket_name` must be specified");
            }
        }
        Kind::Iteration | Kind::Image => {
            if bucket.is_empty() {
                errs.push("The `bucket_name` must be specified");
            }
        }
    }
    match kind {
        Kind::Version => {
            if channel.is_empty() {
                errs.push("the `channel_name` must be specified");
            }
        }
        Kind::Iteration => {
            if channel.is_empty() {
                errs.push("`channel` is currently a required field.");
            }
        }
        Kind::Artifact => {
            if channel.is_empty() && version.is_empty() {
                errs.push("`version_fingerprint` or `channel_name` must be specified");
            }
            if !channel.is_empty() && !version.is_empty() {
                errs.push("`version_fingerprint` and `channel_name` cannot be specified together");
            }
            if region.is_empty() {
                errs.push("the `region` must be specified");
            }
            if platform.is_empty() {
                errs.push("the `platform` must be specified");
            }
        }
        Kind::Image => {
            if channel.is_empty() && version.is_empty() {
                errs.push("The `iteration_id` or `channel` must be specified.");
            }
            if !channel.is_empty() && !version.is_empty() {
                errs.push("`iteration_id` and `channel` cannot both be specified.");
            }
            if region.is_empty() {
                errs.push("`region` is currently a required field.");
            }
            if platform.is_empty() {
                errs.push("`cloud_provider` is currently a required field.");
            }
        }
    }
    for e in &errs {
        r.error("Invalid data source configuration", *e);
    }
    if matches!(kind, Kind::Iteration | Kind::Image) {
        let (old, new) = if kind == Kind::Iteration {
            ("hcp-packer-iteration", "hcp-packer-version")
        } else {
            ("hcp-packer-image", "hcp-packer-artifact")
        };
        r.warn(
            "Deprecated data source",
            format!("Deprecation: `{old}` datasource has been deprecated. Please use `{new}` datasource instead."),
        );
    }
    if !errs.is_empty() {
        return None;
    }
    Some(Box::new(HcpPacker {
        kind,
        bucket,
        channel,
        version,
        platform,
        region,
        component_type,
        env: info.env.clone(),
    }))
}

pub fn new_version(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    read(Kind::Version, r, info)
}
pub fn new_artifact(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    read(Kind::Artifact, r, info)
}
pub fn new_iteration(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    read(Kind::Iteration, r, info)
}
pub fn new_image(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    read(Kind::Image, r, info)
}

fn out(pairs: Vec<(&str, Value)>) -> BTreeMap<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn labels_value(l: &BTreeMap<String, String>) -> Value {
    Value::Object(l.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect())
}

impl HcpPacker {
    /// Resolves against a registry (what `execute` does once the files are read).
    pub fn resolve(&self, reg: &Registry) -> anyhow::Result<BTreeMap<String, Value>> {
        if ![
            &self.bucket,
            &self.channel,
            &self.version,
            &self.platform,
            &self.region,
        ]
        .iter()
        .all(|s| known(s))
        {
            bail!("the data source's arguments are not known yet");
        }
        match self.kind {
            Kind::Version | Kind::Iteration => {
                let v = reg
                    .version_of_channel(&self.bucket, &self.channel)
                    .map_err(|e| {
                        let e = e.to_string();
                        if self.kind == Kind::Version {
                            if e.starts_with("there is no") {
                                return anyhow::anyhow!(e);
                            }
                            anyhow::anyhow!(
                                "error retrieving HCP Packer Version from HCP Packer Registry: {e}"
                            )
                        } else {
                            if e.starts_with("there is no") {
                                return anyhow::anyhow!(e.replace(
                                    "there is no HCP Packer Version associated",
                                    "there is no iteration associated"
                                ));
                            }
                            anyhow::anyhow!(
                                "error retrieving iteration from HCP Packer registry: {e}"
                            )
                        }
                    })?;
                if v.revoked.is_some() {
                    if self.kind == Kind::Version {
                        bail!(
                            "the HCP Packer Version associated with the channel {} is revoked and can not be used on Packer builds",
                            self.channel
                        );
                    }
                    bail!(
                        "the iteration associated with the channel {} is revoked and can not be used on Packer builds",
                        self.channel
                    );
                }
                if self.kind == Kind::Version {
                    Ok(out(vec![
                        ("author_id", Value::str(&v.author_id)),
                        ("bucket_name", Value::str(&v.bucket_name)),
                        ("status", Value::str(&v.status)),
                        ("created_at", Value::str(&v.created_at)),
                        ("fingerprint", Value::str(&v.fingerprint)),
                        ("id", Value::str(&v.id)),
                        ("name", Value::str(&v.name)),
                        ("updated_at", Value::str(&v.updated_at)),
                        ("channel_id", Value::str(&v.channel_id)),
                    ]))
                } else {
                    Ok(out(vec![
                        ("author_id", Value::str(&v.author_id)),
                        ("bucket_name", Value::str(&v.bucket_name)),
                        ("complete", Value::Bool(v.status == "VERSION_ACTIVE")),
                        ("created_at", Value::str(&v.created_at)),
                        ("fingerprint", Value::str(&v.fingerprint)),
                        ("id", Value::str(&v.id)),
                        ("incremental_version", Value::num(0.0)),
                        ("updated_at", Value::str(&v.updated_at)),
                        ("channel_id", Value::str(&v.channel_id)),
                    ]))
                }
            }
            Kind::Artifact | Kind::Image => {
                let image = self.kind == Kind::Image;
                let v = if !self.version.is_empty() {
                    let by = if image { "id" } else { "fingerprint" };
                    reg.version_by(&self.bucket, by, &self.version)
                        .map_err(|e| {
                            if image {
                                anyhow::anyhow!(
                                    "error retrieving image iteration from HCP Packer registry: {e}"
                                )
                            } else {
                                anyhow::anyhow!(
                                    "error retrieving version from HCP Packer Registry: {e}"
                                )
                            }
                        })?
                } else {
                    reg.version_of_channel(&self.bucket, &self.channel)
                        .map_err(|e| {
                            let e = e.to_string().replace(
                                "there is no HCP Packer Version associated",
                                if image {
                                    "there is no iteration associated"
                                } else {
                                    "there is no version associated"
                                },
                            );
                            if e.starts_with("there is no") {
                                anyhow::anyhow!(e)
                            } else if image {
                                anyhow::anyhow!(
                                    "error retrieving channel from HCP Packer registry: {e}"
                                )
                            } else {
                                anyhow::anyhow!(
                                    "error retrieving channel from HCP Packer Registry: {e}"
                                )
                            }
                        })?
                };
                if v.revoked.is_some() {
                    if image {
                        bail!(
                            "the iteration {} is revoked and can not be used on Packer builds",
                            v.id
                        );
                    }
                    bail!(
                        "the version {} is revoked and can not be used on Packer builds",
                        v.id
                    );
                }
                let word = if image { "cloud_provider" } else { "platform" };
                let a =
                    find_artifact(&v, &self.platform, &self.region, &self.component_type, word)?;
                let channel_id = if self.version.is_empty() {
                    v.channel_id.clone()
                } else {
                    String::new()
                };
                if image {
                    Ok(out(vec![
                        ("cloud_provider", Value::str(&a.platform)),
                        ("component_type", Value::str(&a.component_type)),
                        ("created_at", Value::str(&a.created_at)),
                        ("build_id", Value::str(&a.build_id)),
                        ("iteration_id", Value::str(&a.version_id)),
                        ("channel_id", Value::str(&channel_id)),
                        ("packer_run_uuid", Value::str(&a.packer_run_uuid)),
                        ("id", Value::str(&a.external_identifier)),
                        ("region", Value::str(&a.region)),
                        ("labels", labels_value(&a.labels)),
                    ]))
                } else {
                    Ok(out(vec![
                        ("platform", Value::str(&a.platform)),
                        ("component_type", Value::str(&a.component_type)),
                        ("created_at", Value::str(&a.created_at)),
                        ("build_id", Value::str(&a.build_id)),
                        ("version_id", Value::str(&a.version_id)),
                        ("channel_id", Value::str(&channel_id)),
                        ("packer_run_uuid", Value::str(&a.packer_run_uuid)),
                        ("external_identifier", Value::str(&a.external_identifier)),
                        ("region", Value::str(&a.region)),
                        ("labels", labels_value(&a.labels)),
                    ]))
                }
            }
        }
    }
}

impl DataSource for HcpPacker {
    fn execute(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        let reg =
            Registry::load(&self.env).map_err(|e| DataSourceError::Input(format!("{e:#}")))?;
        self.resolve(&reg)
            .map_err(|e| DataSourceError::Lookup(format!("{e:#}")))
    }
}

/// The data source types this module implements.
pub const KINDS: [&str; 4] = [
    "hcp-packer-version",
    "hcp-packer-artifact",
    "hcp-packer-iteration",
    "hcp-packer-image",
];

/// An HCP Packer data block of a template, its arguments evaluated as far as they can be
/// before the build runs (variables and literals; another data source's output is unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HcpRef {
    /// `data.<type>.<name>`.
    pub address: String,
    pub kind: String,
    /// Every string argument, by name (`<unknown>` when not known yet).
    pub args: Vec<(String, String)>,
}

impl HcpRef {
    pub fn arg(&self, name: &str) -> &str {
        self.args
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// The bucket, when known.
    pub fn bucket(&self) -> Option<&str> {
        Some(self.arg("bucket_name")).filter(|b| !b.is_empty() && known(b))
    }

    /// The data source, when every argument is known (it can be resolved before the run).
    pub fn lookup(&self) -> Option<HcpPacker> {
        if !self.args.iter().all(|(_, v)| known(v)) {
            return None;
        }
        let args: Vec<(&str, &str)> = self
            .args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        from_args(&self.kind, &args)
    }
}

/// The HCP Packer data blocks of a loaded template, with their arguments evaluated without
/// data sources: what the operator reads from the cluster before a build starts.
pub fn references(t: &crate::template::Template) -> Vec<HcpRef> {
    let env = t.base_env();
    let mut out = Vec::new();
    for decl in t.data.values().filter(|d| KINDS.contains(&d.kind.as_str())) {
        let desc = format!("data {:?} {:?}", decl.kind, decl.name);
        let mut r = ConfigReader::new(&decl.block.body, &env, decl.block.subject(), desc);
        let mut args = Vec::new();
        for a in &decl.block.body.attrs {
            let v = r.string(&a.key).unwrap_or_else(|| "<unknown>".to_string());
            args.push((a.key.clone(), v));
        }
        // Errors here are the data source's own, reported when it is configured.
        let _ = r.finish();
        out.push(HcpRef {
            address: format!("data.{}.{}", decl.kind, decl.name),
            kind: decl.kind.clone(),
            args,
        });
    }
    out
}

/// Builds a data source from arguments, for tests and tools: `kind` is the Packer type name.
pub fn from_args(kind: &str, args: &[(&str, &str)]) -> Option<HcpPacker> {
    let get = |k: &str| {
        args.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    let (k, channel_key, version_key, platform_key) = match kind {
        "hcp-packer-version" => (Kind::Version, "channel_name", "", ""),
        "hcp-packer-artifact" => (
            Kind::Artifact,
            "channel_name",
            "version_fingerprint",
            "platform",
        ),
        "hcp-packer-iteration" => (Kind::Iteration, "channel", "", ""),
        "hcp-packer-image" => (Kind::Image, "channel", "iteration_id", "cloud_provider"),
        _ => return None,
    };
    Some(HcpPacker {
        kind: k,
        bucket: get("bucket_name"),
        channel: get(channel_key),
        version: if version_key.is_empty() {
            String::new()
        } else {
            get(version_key)
        },
        platform: if platform_key.is_empty() {
            String::new()
        } else {
            get(platform_key)
        },
        region: get("region"),
        component_type: get("component_type"),
        env: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn template(src: &str) -> crate::template::Template {
        let (t, d) = crate::template::Template::from_sources(
            PathBuf::from("."),
            true,
            vec![(PathBuf::from("t.pkr.hcl"), src.to_string())],
        )
        .unwrap();
        assert!(!d.has_errors(), "{d:?}");
        t
    }

    #[test]
    fn references_know_literals_not_other_data_sources() {
        let t = template(
            r#"
data "hcp-packer-version" "parent" {
  bucket_name  = "base"
  channel_name = "production"
}
data "hcp-packer-artifact" "parent" {
  bucket_name         = "base"
  version_fingerprint = data.hcp-packer-version.parent.fingerprint
  platform            = "file"
  region              = "file"
}
data "kiln-channel" "other" {
  channel = "x"
}
"#,
        );
        let mut refs = references(&t);
        refs.sort_by(|a, b| a.address.cmp(&b.address));
        assert_eq!(refs.len(), 2, "{refs:?}");
        assert_eq!(refs[0].address, "data.hcp-packer-artifact.parent");
        assert_eq!(refs[0].bucket(), Some("base"));
        assert_eq!(refs[0].arg("version_fingerprint"), "<unknown>");
        assert!(refs[0].lookup().is_none(), "depends on another data source");
        assert_eq!(refs[1].arg("channel_name"), "production");
        assert!(refs[1].lookup().is_some());
    }

    #[test]
    fn build_labels_come_from_their_annotation_first() {
        let mut reg = Registry::default();
        let build = json!({
            "kind": "ImageBuild",
            "metadata": {
                "name": "b1", "namespace": "ns", "uid": "u1",
                "labels": {"kiln.dev/bucket": "base", "os": "debian"},
                "annotations": {BUILD_LABELS_ANNOTATION: r#"{"os":"debian","built at":"2026-12-05T09:00:00Z"}"#}
            },
            "status": {"phase": "Succeeded", "sources": [
                {"name": "file.a", "artifacts": [{"builderId": "packer.file", "id": "out.txt"}]}
            ]}
        });
        reg.add_json(&build.to_string()).unwrap();
        let v = reg.version_by("base", "fingerprint", "b1").unwrap();
        assert_eq!(
            v.artifacts[0].labels,
            BTreeMap::from([
                ("built at".to_string(), "2026-12-05T09:00:00Z".to_string()),
                ("os".to_string(), "debian".to_string())
            ])
        );
        assert!(in_bucket(&build, "base"));
    }
}
