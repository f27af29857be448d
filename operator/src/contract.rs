//! The contract between the operator and its runner pods: what the operator writes (the
//! snapshot ConfigMap, the pod's environment and mounts) and the runner reads. Both import
//! it from here; the runner imports no controller module.
//!
//! - The snapshot: [`Snapshot`] as JSON under [`SNAPSHOT_KEY`] of an immutable ConfigMap,
//!   mounted at [`SNAPSHOT_DIR`] (env `KILN_SNAPSHOT_DIR`).
//! - The working directory: an emptyDir at [`WORK_DIR`] (env `KILN_WORK_DIR`); the template's
//!   files are written to `<work-dir>/template` by [`materialize`], the channels the snapshot
//!   fixed to `<work-dir>/channels.json`.
//! - Secret variables reach the runner as environment variables named by
//!   [`secret_env_name`]; plain variables are HCL expressions made by [`exprs`].
//! - A runner whose binary is under [`INJECTED_DIR`] (an init container put it there, because
//!   a source asked for `Requirements::image`) runs in its docker source's base image: it
//!   provisions its own root filesystem in place ([`image_root`]).
//! - Registry credentials: each `kubernetes.io/dockerconfigjson` Secret of the ImageBuild's
//!   `spec.runner.registrySecrets` is mounted read-only at `REGISTRY_AUTH_DIR/<secret name>/`
//!   (its `.dockerconfigjson` key); the runner reads every such file ([`docker_configs`]).
//! - Exit codes: the runner says through its exit code what the Job's `podFailurePolicy`
//!   does with a failed pod ([`Exit`]); it learns `spec.retries` from env `KILN_RETRIES`.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::ConfigMap;
use kiln_crds::{OnError, TemplateFile, VariableValues};
use kiln_engine::value::Value;
use kube::ResourceExt;
use serde::{Deserialize, Serialize};

/// Key of the snapshot in its ConfigMap.
pub const SNAPSHOT_KEY: &str = "snapshot.json";
/// Where the runner container finds the snapshot.
pub const SNAPSHOT_DIR: &str = "/etc/kiln/snapshot";
/// The runner's working directory (an emptyDir).
pub const WORK_DIR: &str = "/work";
/// Where the init container puts the Kiln binary when the runner runs in a builder's image
/// (the operator mounts it there, the runner recognises itself by it).
pub const INJECTED_DIR: &str = "/kiln/bin";
/// Where the registry Secrets are mounted, one directory per Secret.
pub const REGISTRY_AUTH_DIR: &str = "/kiln/registry-auth";
/// Overrides where the runner's image root is (tests; `/` in a pod).
pub const IMAGE_ROOT_ENV: &str = "KILN_IMAGE_ROOT";

/// How a runner pod ends, as its exit code; the Job's `podFailurePolicy` acts on it.
///
/// Only the runner knows whether the build itself failed. A pod can also fail for reasons
/// that are not the build's: stopped by a signal (deleted by hand, a duplicate pod removed
/// by the Job controller, the node shutting down), rejected by the kubelet after a restart,
/// killed, or unable to write its result. The build's retries are counted by the runner
/// ([`Exit::Final`] once `spec.retries` are used up); other failures are counted by the Job
/// against a few spare attempts ([`SPARE_ATTEMPTS`]) and the index runs again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The source was built and its result written.
    Built,
    /// The build failed, or the runner could not run or report it: the Job counts the
    /// failure and runs the index again while attempts are left.
    Failed,
    /// The build failed and `spec.retries` are used up: the Job fails the index at once
    /// (`FailIndex`).
    Final,
    /// Stopped by SIGTERM or SIGINT before the build ended (its cleanup ran): not the build's
    /// failure; the Job ignores it (`Ignore`) and, unless it is suspended (cancel) or out of
    /// time, runs the index again.
    Interrupted,
}

impl Exit {
    pub const fn code(self) -> i32 {
        match self {
            Exit::Built => 0,
            Exit::Failed => 1,
            Exit::Final => 3,
            // 128 + SIGTERM, as a shell reports a process the signal ended.
            Exit::Interrupted => 143,
        }
    }
}

/// Attempts the Job allows an index beyond `spec.retries`, for failures that are not the
/// build's own (the runner ends its last build attempt with [`Exit::Final`]).
pub const SPARE_ATTEMPTS: i32 = 2;

/// The runner's environment variable holding `spec.retries`.
pub const RETRIES_ENV: &str = "KILN_RETRIES";

/// The root filesystem the runner provisions in place: `KILN_IMAGE_ROOT` when set, else `/`
/// when the runner was injected into a builder's image, else none (runc in a scratch dir).
pub fn image_root(exe: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(IMAGE_ROOT_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    exe.starts_with(INJECTED_DIR).then(|| PathBuf::from("/"))
}

/// The docker config files mounted from registry Secrets under `dir`
/// (`<dir>/<secret>/.dockerconfigjson`, or `config.json`), sorted by Secret name.
pub fn docker_configs(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for d in dirs {
        for name in [".dockerconfigjson", "config.json"] {
            let f = d.join(name);
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out
}
/// What a build runs, fixed when it starts: stored in the snapshot ConfigMap, read by every
/// runner pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The ImageTemplate it came from (empty for an inline template).
    #[serde(default)]
    pub template: String,
    /// `sha256:<hex>` of the files.
    pub fingerprint: String,
    /// The template's files, in name order.
    pub files: Vec<TemplateFile>,
    /// The ImageTemplate's `spec.variables` (defaults).
    #[serde(default)]
    pub template_variables: VariableValues,
    /// The ImageBuild's `spec.variables` (override the defaults).
    #[serde(default)]
    pub variables: VariableValues,
    /// Names of the variables whose values come from Secrets (`PKR_VAR_<name>` env).
    #[serde(default)]
    pub secret_variables: Vec<String>,
    /// The selected builds, `[build.]type.name`; completion index `i` builds `builds[i]`.
    pub builds: Vec<String>,
    /// The build's `only`/`except` (post-processors honour `except` as in Packer).
    #[serde(default)]
    pub only: Vec<String>,
    #[serde(default)]
    pub except: Vec<String>,
    pub on_error: OnError,
    /// `PACKER_RUN_UUID` of the run, shared by every source.
    pub run_uuid: String,
    /// The ImageChannels the template's `kiln-channel` data sources read, as they were when
    /// the build started (name, namespace and status only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<serde_json::Value>,
    /// The build the first `kiln-channel` data source pointed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<kiln_crds::BuildParent>,
    /// What the runner pod of each selected build needs beyond the restricted defaults, by
    /// full name (builds that need nothing more are absent). The operator derives the Job's
    /// pod from it; the runner does not read it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub requirements: std::collections::BTreeMap<String, kiln_engine::components::Requirements>,
    /// The `kiln-channel` data sources to resolve (not stored).
    #[serde(skip)]
    pub channel_refs: Vec<kiln_engine::datasources::kiln_channel::ChannelRef>,
    /// The build as an HCP Packer version (`hcp_packer_registry`), when the registry is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<VersionPlan>,
    /// Sources not run again: their entries, carried over from an earlier build (a resumed
    /// version, or a reused build). The controller writes them into `status.sources`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<kiln_crds::SourceStatus>,
    /// `sha256:<hex>` of the build's inputs (what dedupe compares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs_digest: Option<String>,
    /// The succeeded build whose artifacts this one reuses (no Job runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
    /// The HCP Packer data sources to read the buckets of (not stored).
    #[serde(skip)]
    pub hcp_refs: Vec<kiln_engine::datasources::hcp_packer::HcpRef>,
    /// Whether dedupe is on for this build (not stored).
    #[serde(skip)]
    pub dedupe: bool,
}

/// An ImageBuild as an HCP Packer version: what it is labelled with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionPlan {
    pub bucket: String,
    pub fingerprint: String,
    /// The fingerprint was given (`HCP_PACKER_BUILD_FINGERPRINT` or a `kiln.dev/fingerprint`
    /// label), not defaulted to the build's name: a rerun with it resumes the version.
    #[serde(default)]
    pub fingerprint_given: bool,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub build_labels: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
}

/// Reads the snapshot back from its ConfigMap.
pub fn read_snapshot(cm: &ConfigMap) -> Result<Snapshot, String> {
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get(SNAPSHOT_KEY))
        .ok_or_else(|| format!("ConfigMap {} has no {SNAPSHOT_KEY}", cm.name_any()))?;
    serde_json::from_str(text).map_err(|e| format!("invalid {SNAPSHOT_KEY}: {e}"))
}

/// The environment variable a secret variable reaches the runner as.
pub fn secret_env_name(variable: &str) -> String {
    format!("PKR_VAR_{variable}")
}

/// Whether the engine reads a file as part of the template body (the rest, such as
/// `*.auto.pkrvars.hcl` or scripts, is only read from disk).
fn is_body_file(name: &str) -> bool {
    name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json")
}

/// Writes every file into `dir` (the template's `path.root`, so `file()`, scripts and
/// `*.auto.pkrvars.hcl` work as in a Packer directory) and returns the body files as the
/// engine's in-memory sources, named by their bare file name (so diagnostics say
/// `template.pkr.hcl:3:5`).
pub fn materialize(dir: &Path, files: &[TemplateFile]) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut body = Vec::new();
    for f in files {
        if f.name.contains('/') || f.name == ".." || f.name == "." {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("invalid template file name {:?}", f.name),
            ));
        }
        std::fs::write(dir.join(&f.name), &f.content)?;
        if is_body_file(&f.name) {
            body.push((PathBuf::from(&f.name), f.content.clone()));
        }
    }
    Ok(body)
}

/// A JSON value from a resource as the HCL expression the engine reads
/// (`VarInputs::exprs`).
pub fn json_to_hcl(v: &serde_json::Value) -> String {
    Value::from_json(v).to_hcl()
}

/// Variable values as `VarInputs::exprs` (in name order; later entries win).
pub fn exprs(values: &VariableValues) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(k, v)| (k.clone(), json_to_hcl(v)))
        .collect()
}

/// Time now, as the API's `Time`.
pub fn now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now())
}

/// At most `max` bytes, cut at a character boundary (status messages have size limits).
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn injected_runner_provisions_its_root_and_reads_registry_secrets() {
        if std::env::var_os(IMAGE_ROOT_ENV).is_none() {
            assert_eq!(
                image_root(Path::new("/kiln/bin/kiln")),
                Some(PathBuf::from("/"))
            );
            assert_eq!(image_root(Path::new("/usr/bin/kiln")), None);
        }
        let d = tempfile::tempdir().unwrap();
        for (secret, key) in [("b-reg", ".dockerconfigjson"), ("a-reg", "config.json")] {
            std::fs::create_dir_all(d.path().join(secret)).unwrap();
            std::fs::write(d.path().join(secret).join(key), "{}").unwrap();
        }
        std::fs::write(d.path().join("stray"), "x").unwrap();
        assert_eq!(
            docker_configs(d.path()),
            vec![
                d.path().join("a-reg/config.json"),
                d.path().join("b-reg/.dockerconfigjson")
            ]
        );
        assert!(docker_configs(&d.path().join("missing")).is_empty());
    }

    pub fn snapshot(builds: &[&str]) -> Snapshot {
        Snapshot {
            template: "tpl".into(),
            fingerprint: "sha256:00".into(),
            files: vec![TemplateFile {
                name: "template.pkr.hcl".into(),
                content: "x".into(),
            }],
            template_variables: VariableValues::new(),
            variables: VariableValues::new(),
            secret_variables: vec![],
            builds: builds.iter().map(|s| s.to_string()).collect(),
            only: vec![],
            except: vec![],
            on_error: OnError::Cleanup,
            channels: vec![],
            parent: None,
            channel_refs: vec![],
            requirements: Default::default(),
            run_uuid: "run-1".into(),
            registry: None,
            carried: vec![],
            inputs_digest: None,
            reused_from: None,
            hcp_refs: vec![],
            dedupe: false,
        }
    }
}
