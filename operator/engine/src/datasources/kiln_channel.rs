//! `kiln-channel` data source: the build an ImageChannel points at and its artifacts — Kiln's
//! counterpart of HCP Packer's `hcp-packer-version` + `hcp-packer-artifact` pair. Like those,
//! it **fails** when the channel is not Ready, so a child build never starts from a revoked
//! (or failed, or missing) parent.
//!
//! ```hcl
//! data "kiln-channel" "base" {
//!   channel   = "base-prod"  # required: the ImageChannel's name
//!   namespace = "images"     # optional: the channel's namespace
//!   source    = "file.root"  # optional: whose final artifact `id` and `files` describe
//! }
//! ```
//!
//! Outputs: `channel`, `namespace`, `build` (the ImageBuild), `template_fingerprint`,
//! `artifacts` (every artifact of every source: `source`, `builder_id`, `id`, `files`), and
//! `id`/`files` of the final artifact of `source` (or of the only source; null when the build
//! has several and `source` is unset).
//!
//! Where channels come from: ImageChannel objects as the Kubernetes API serves them (one
//! object, a `List`, or a JSON array) in the file named by [`set_channels_file`] or else the
//! `KILN_CHANNELS` environment variable. In the cluster the operator resolves the channels
//! when it takes a build's snapshot (so the build is reproducible and records its parent)
//! and the runner points the engine at them. Locally:
//! `kubectl get imagechannel base-prod -o json > channels.json` and
//! `KILN_CHANNELS=channels.json kiln build .`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::components::{ComponentInfo, DataSource};
use crate::datasources::DataSourceError;
use crate::diag::Diagnostic;
use crate::template::{ConfigReader, Template};
use crate::value::Value;

/// The data source's type name.
pub const KIND: &str = "kiln-channel";
/// The environment variable naming the channels file.
pub const ENV: &str = "KILN_CHANNELS";

/// What a `kiln-channel` block asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRef {
    /// The data block's name (`data.kiln-channel.<name>`).
    pub name: String,
    pub channel: String,
    pub namespace: Option<String>,
    pub source: Option<String>,
}

pub struct KilnChannel {
    r: ChannelRef,
    /// The channels file the run environment names (else `KILN_CHANNELS`).
    channels: Option<PathBuf>,
}

fn read_ref(r: &mut ConfigReader, name: &str) -> Option<ChannelRef> {
    let channel = r.required_string("channel");
    let namespace = r.string("namespace").filter(|s| !s.is_empty());
    let source = r.string("source").filter(|s| !s.is_empty());
    if let Some(c) = &channel
        && c.is_empty()
    {
        r.error_at("channel", "Invalid channel", "`channel` must not be empty");
        return None;
    }
    Some(ChannelRef {
        name: name.to_string(),
        channel: channel?,
        namespace,
        source,
    })
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    let r = read_ref(r, "")?;
    Some(Box::new(KilnChannel {
        r,
        channels: info.env.channels(),
    }))
}

impl ChannelRef {
    /// Whether every argument is known (a variable without a value while validating a
    /// template leaves it unknown).
    pub fn is_known(&self) -> bool {
        [
            Some(&self.channel),
            self.namespace.as_ref(),
            self.source.as_ref(),
        ]
        .into_iter()
        .flatten()
        .all(|s| s != "<unknown>")
    }
}

/// The `kiln-channel` blocks of a loaded template with their arguments evaluated (they may
/// use variables and literals, not other data sources): what the operator resolves before a
/// build starts. Errors name the block's file, line and column.
pub fn references(t: &Template) -> Result<Vec<ChannelRef>, Vec<Diagnostic>> {
    let env = t.base_env();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for decl in t.data.values().filter(|d| d.kind == KIND) {
        let desc = format!("data {KIND:?} {:?}", decl.name);
        let mut r = ConfigReader::new(&decl.block.body, &env, decl.block.subject(), desc);
        let parsed = read_ref(&mut r, &decl.name);
        let diags = r.finish();
        if diags.has_errors() {
            errors.extend(diags.errors().cloned());
            continue;
        }
        if let Some(p) = parsed {
            out.push(p);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn channels_file(given: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(p) => Ok(p.clone()),
        None => bail!(
            "no ImageChannels to read: {ENV} is not set. In a cluster the operator resolves \
             channels for its runner pods; to build locally, save the channel with \
             `kubectl get imagechannel <name> -o json > channels.json` and run with \
             {ENV}=channels.json"
        ),
    }
}

/// The ImageChannel objects in a file's JSON: one object, a `List`, or an array. ImageBuilds
/// in it are skipped (the registry file of a runner pod holds both, for the HCP Packer data
/// sources).
pub fn parse_channels(text: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(ref o) if o.get("items").is_some_and(|i| i.is_array()) => {
            o["items"].as_array().cloned().unwrap_or_default()
        }
        serde_json::Value::Object(_) => vec![v],
        _ => bail!("expected an ImageChannel object, a List of them or an array"),
    };
    let mut channels = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item.get("kind").and_then(|k| k.as_str()) {
            None | Some("ImageChannel") => {}
            Some("ImageBuild") => continue,
            Some(other) => bail!("item {i} is a {other}, not an ImageChannel"),
        }
        if item
            .pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .is_none()
        {
            bail!("item {i} has no metadata.name");
        }
        channels.push(item);
    }
    Ok(channels)
}

/// Finds the channel `r` asks for among `channels` and turns it into the outputs.
pub fn resolve(
    r: &ChannelRef,
    channels: &[serde_json::Value],
) -> anyhow::Result<BTreeMap<String, Value>> {
    let s =
        |v: &serde_json::Value, p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
    let matches: Vec<&serde_json::Value> = channels
        .iter()
        .filter(|c| s(c, "/metadata/name").as_deref() == Some(r.channel.as_str()))
        .filter(|c| {
            r.namespace.is_none()
                || s(c, "/metadata/namespace").as_deref() == r.namespace.as_deref()
        })
        .collect();
    let display = match &r.namespace {
        Some(ns) => format!("{ns}/{}", r.channel),
        None => r.channel.clone(),
    };
    let ch = match matches.as_slice() {
        [] => bail!("ImageChannel {display} not found"),
        [one] => *one,
        _ => bail!(
            "ImageChannel {display} is ambiguous: it exists in several namespaces; set `namespace`"
        ),
    };
    let conditions = ch
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let cond = |t: &str| conditions.iter().find(|c| c["type"] == t);
    let ready = cond("Ready").is_some_and(|c| c["status"] == "True");
    if !ready {
        let why = cond("Stalled")
            .filter(|c| c["status"] == "True")
            .or_else(|| cond("Ready"))
            .map(|c| {
                format!(
                    "{}: {}",
                    c["reason"].as_str().unwrap_or("Unknown"),
                    c["message"].as_str().unwrap_or("")
                )
            })
            .unwrap_or_else(|| "no status yet".into());
        bail!("ImageChannel {display} is not Ready ({why})");
    }
    let Some(build) = s(ch, "/status/currentBuild") else {
        bail!("ImageChannel {display} points at no build");
    };
    let mut all = Vec::new();
    let mut finals: Vec<(String, Value, Value)> = Vec::new();
    for src in ch
        .pointer("/status/artifacts")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
    {
        let source = src["source"].as_str().unwrap_or_default().to_string();
        let mut last = None;
        for a in src["artifacts"].as_array().into_iter().flatten() {
            let files: Vec<Value> = a["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["name"].as_str().map(Value::str))
                .collect();
            let mut o = BTreeMap::new();
            o.insert("source".to_string(), Value::str(&source));
            o.insert(
                "builder_id".to_string(),
                Value::str(a["builderId"].as_str().unwrap_or_default()),
            );
            o.insert(
                "id".to_string(),
                Value::str(a["id"].as_str().unwrap_or_default()),
            );
            o.insert("files".to_string(), Value::List(files.clone()));
            all.push(Value::Object(o));
            last = Some((
                Value::str(a["id"].as_str().unwrap_or_default()),
                Value::List(files),
            ));
        }
        if let Some((id, files)) = last {
            finals.push((source, id, files));
        }
    }
    let chosen = match &r.source {
        Some(want) => match finals.iter().find(|(s, _, _)| s == want) {
            Some(f) => Some(f.clone()),
            None => {
                let have: Vec<&str> = finals.iter().map(|(s, _, _)| s.as_str()).collect();
                bail!(
                    "ImageChannel {display}: build {build} has no artifact of source {want:?} (it has: {})",
                    if have.is_empty() {
                        "none".to_string()
                    } else {
                        have.join(", ")
                    }
                );
            }
        },
        None if finals.len() == 1 => finals.first().cloned(),
        None => None,
    };
    let mut out = BTreeMap::new();
    out.insert("channel".to_string(), Value::str(&r.channel));
    out.insert(
        "namespace".to_string(),
        s(ch, "/metadata/namespace")
            .map(Value::str)
            .unwrap_or(Value::Null),
    );
    out.insert("build".to_string(), Value::str(&build));
    out.insert(
        "template_fingerprint".to_string(),
        s(ch, "/status/templateFingerprint")
            .map(Value::str)
            .unwrap_or(Value::Null),
    );
    out.insert("artifacts".to_string(), Value::List(all));
    let (id, files) = chosen
        .map(|(_, id, files)| (id, files))
        .unwrap_or((Value::Null, Value::Null));
    out.insert("id".to_string(), id);
    out.insert("files".to_string(), files);
    Ok(out)
}

impl DataSource for KilnChannel {
    fn execute(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        let path = channels_file(self.channels.as_ref())
            .map_err(|e| DataSourceError::Input(format!("{e:#}")))?;
        let text = std::fs::read_to_string(&path).map_err(|e| {
            DataSourceError::Input(format!("reading {} ({ENV}): {e}", path.display()))
        })?;
        let channels = parse_channels(&text)
            .map_err(|e| DataSourceError::Input(format!("{} ({ENV}): {e:#}", path.display())))?;
        resolve(&self.r, &channels).map_err(|e| DataSourceError::Lookup(format!("{e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn channel(name: &str, ready: bool) -> serde_json::Value {
        json!({
            "apiVersion": "kiln.dev/v1alpha1", "kind": "ImageChannel",
            "metadata": {"name": name, "namespace": "images"},
            "status": {
                "conditions": if ready {
                    json!([{"type": "Ready", "status": "True", "reason": "Ready", "message": ""}])
                } else {
                    json!([
                        {"type": "Ready", "status": "False", "reason": "TargetRevoked", "message": "x"},
                        {"type": "Stalled", "status": "True", "reason": "TargetRevoked",
                         "message": "ImageBuild \"base-1\" is revoked: CVE-1"}
                    ])
                },
                "currentBuild": "base-1",
                "templateFingerprint": "sha256:ab",
                "artifacts": [
                    {"source": "file.root", "artifacts": [
                        {"builderId": "packer.file", "id": "root.img", "files": [{"name": "root.img", "size": 3}]},
                        {"builderId": "packer.post-processor.compress", "id": "root.img.gz", "files": [{"name": "root.img.gz"}]}
                    ]}
                ]
            }
        })
    }

    fn r(channel: &str) -> ChannelRef {
        ChannelRef {
            name: "base".into(),
            channel: channel.into(),
            namespace: None,
            source: None,
        }
    }

    #[test]
    fn ready_channel_gives_its_build_and_final_artifact() {
        let out = resolve(&r("prod"), &[channel("prod", true)]).unwrap();
        assert_eq!(out["build"], Value::str("base-1"));
        assert_eq!(out["namespace"], Value::str("images"));
        assert_eq!(out["id"], Value::str("root.img.gz"));
        assert_eq!(out["files"], Value::List(vec![Value::str("root.img.gz")]));
        let Value::List(all) = &out["artifacts"] else {
            panic!()
        };
        assert_eq!(all.len(), 2);
        let Value::Object(first) = &all[0] else {
            panic!()
        };
        assert_eq!(first["builder_id"], Value::str("packer.file"));
    }

    #[test]
    fn revoked_missing_or_unknown_source_fail_with_the_reason() {
        let e = resolve(&r("prod"), &[channel("prod", false)]).unwrap_err();
        assert!(e.to_string().contains("is revoked: CVE-1"), "{e}");
        let e = resolve(&r("nope"), &[channel("prod", true)]).unwrap_err();
        assert_eq!(e.to_string(), "ImageChannel nope not found");
        let mut want = r("prod");
        want.source = Some("file.other".into());
        let e = resolve(&want, &[channel("prod", true)]).unwrap_err();
        assert!(e.to_string().contains("has: file.root"), "{e}");
        want.namespace = Some("elsewhere".into());
        assert!(resolve(&want, &[channel("prod", true)]).is_err());
    }

    #[test]
    fn files_hold_one_object_a_list_or_an_array() {
        let one = channel("prod", true);
        assert_eq!(parse_channels(&one.to_string()).unwrap().len(), 1);
        let list =
            json!({"apiVersion": "v1", "kind": "List", "items": [one.clone(), channel("b", true)]});
        assert_eq!(parse_channels(&list.to_string()).unwrap().len(), 2);
        assert_eq!(parse_channels(&json!([one]).to_string()).unwrap().len(), 1);
        assert!(parse_channels(r#"{"kind":"Secret","metadata":{"name":"x"}}"#).is_err());
        assert!(parse_channels("[").is_err());
    }
}
