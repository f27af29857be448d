//! `provenance`: Packer 1.16's SLSA provenance post-processor
//! (`post-processor/provenance`, `internal/provenance`, `internal/attestation`). For each
//! artifact it writes `<stem>.provenance.json` next to the artifact's first file (or in
//! `output_dir`): an in-toto Statement v1 whose predicate is SLSA provenance v1, either as
//! plain JSON (`signing_mode = "none"`, the default) or as a DSSE envelope signed with a PEM
//! key (`signing_mode = "key"`: ed25519, ECDSA P-256/P-384/P-521 or RSA, as Packer's). The artifact passes through
//! unchanged and is always kept.
//!
//! What Kiln writes is what Packer writes: subjects are `{name: basename, digest: {sha256}}`
//! per file (a file-less artifact gets one `<builderId>:<id>` subject hashed over its
//! identity record, plus a `cloud-artifact-identity` byproduct), the builder id and
//! invocation id come from the CI environment (`GITHUB_WORKFLOW_REF`, `CI_JOB_URL`,
//! `CI_PIPELINE_URL`, `BUILD_URL`; `GITHUB_RUN_ID`, `CI_PIPELINE_ID`, `CI_JOB_ID`,
//! `BUILD_ID`), the source dependency from GitHub's or GitLab's variables or the git
//! repository of the working directory, and `PKR_VAR_*` plus `user_variables` are recorded
//! with sensitive values redacted. `packer verify-attestation` accepts Kiln's signed output.
//!
//! Not done, and refused at validation: `sbom = true` (Packer generates the SBOM in-process
//! with Syft, a Go library) and `signing_mode = "kms"` (cloud KMS clients). `"keyless"` is
//! accepted as Packer accepts it and fails when signing: without an ambient OIDC token in
//! Packer's words, with one because Kiln does not ask Fulcio for a certificate (nor upload to
//! Rekor); sign with a key, or sign the attestation afterwards with cosign.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Map, Value as Json, json};

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::referrers::{self, Referrer, pushed_image};
use crate::template::{ConfigReader, PACKER_VERSION};

pub const DEFAULT_BUILD_TYPE: &str = "https://packer.io/buildtypes/hcl2/v1";
pub const DEFAULT_LOCAL_BUILDER_ID: &str = "https://packer.io/local-build";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The artifact state key Packer's registry image metadata lives under.
pub const ARTIFACT_STATE_URI: &str = "par.artifact.metadata";
const REDACTED: &str = "[sensitive value redacted]";

/// The post-processor's configuration, as Packer's `Config`.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `provenance = false` passes the artifact through without writing anything.
    pub enabled: bool,
    pub build_type: String,
    pub output_dir: Option<PathBuf>,
    pub template: Option<String>,
    pub only_builds: Vec<String>,
    pub user_variables: BTreeMap<String, String>,
    pub source_uri: Option<String>,
    /// `None`: unsigned JSON; `Some(path)`: a DSSE envelope signed with the PEM key.
    pub signer: Option<PathBuf>,
    /// The PEM public (or private) key the signature is checked with after signing.
    pub verifier: Option<PathBuf>,
    /// `signing_mode = "keyless"` (identity and issuer given): signing asks for the
    /// environment's OIDC token first, as Packer's keyless signer does.
    pub keyless: bool,
}

pub struct Provenance {
    config: Config,
    /// The run's docker config files, for attaching the attestation to a pushed image.
    docker_configs: Vec<PathBuf>,
}

/// Artifact state the post-processor adds to the artifact it passes on (Kiln's addition;
/// Packer passes the artifact unchanged): where the attestation is and what it is.
pub mod state {
    /// The attestation file.
    pub const FILE: &str = "provenance_file";
    /// `sha256:<hex>` of the file.
    pub const DIGEST: &str = "provenance_digest";
    /// `application/vnd.dsse.envelope.v1+json` or `application/vnd.in-toto+json`.
    pub const MEDIA_TYPE: &str = "provenance_media_type";
    /// The signing key's id, when signed.
    pub const KEY_ID: &str = "provenance_key_id";
    /// The image (`name@digest`) the attestation was attached to as an OCI referrer.
    pub const SUBJECT: &str = "provenance_subject";
    /// The referrer manifest's digest.
    pub const REFERRER: &str = "provenance_referrer";
    /// The referrers tag updated (registries without the referrers API).
    pub const REFERRERS_TAG: &str = "provenance_referrers_tag";
}

/// The media type of a DSSE envelope.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let enabled = r.trilean("provenance").unwrap_or(true);
    let build_type = r
        .string("build_type")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_BUILD_TYPE.to_string());
    let output_dir = r
        .string("output_dir")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let template = r.string("template").filter(|s| !s.is_empty());
    let only_builds = r.strings("only_builds").unwrap_or_default();
    let user_variables = r.string_map("user_variables").unwrap_or_default();
    let source_uri = r.string("source_uri").filter(|s| !s.is_empty());

    let sbom = r.bool("sbom").unwrap_or(false);
    if let Some(f) = r.string("sbom_format").filter(|s| !s.is_empty())
        && !matches!(f.as_str(), "cyclonedx" | "spdx" | "<unknown>")
    {
        r.error_at(
            "sbom_format",
            "Invalid sbom_format",
            format!("unsupported SBOM format {f:?}: use cyclonedx or spdx"),
        );
    }
    if let Some(s) = r.string("sbom_scope").filter(|s| !s.is_empty())
        && !matches!(s.as_str(), "squashed" | "all-layers" | "<unknown>")
    {
        r.error_at(
            "sbom_scope",
            "Invalid sbom_scope",
            format!("unsupported SBOM scope {s:?}: use squashed or all-layers"),
        );
    }
    r.string("sbom_scan_path");
    r.strings("sbom_exclude");
    if sbom {
        r.error_at(
            "sbom",
            "SBOM generation is not supported by Kiln",
            "Packer generates the SBOM in-process with Syft, a Go library Kiln does not embed. \
             Generate the SBOM with a provisioner (syft or trivy in the guest) and keep \
             `sbom = false`.",
        );
    }

    let mode = r
        .string("signing_mode")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "none".to_string());
    let signer = r.string("signer").filter(|s| !s.is_empty());
    let key = r.string("key").filter(|s| !s.is_empty());
    let verifier = r.string("verifier").filter(|s| !s.is_empty());
    r.string("fulcio_url");
    r.string("rekor_url");
    r.bool("upload_tlog");
    r.string("trusted_root_path");
    let keyless_identity = r.string("keyless_identity").unwrap_or_default();
    let keyless_issuer = r.string("keyless_oidc_issuer").unwrap_or_default();

    let mut signer_ref = signer.clone();
    if let Some(k) = &key {
        if signer.as_ref().is_some_and(|s| s != k) {
            r.error_at(
                "key",
                "Invalid signing configuration",
                "signer and key must match when both are set",
            );
        }
        signer_ref = Some(k.clone());
    }
    let mut config = Config {
        enabled,
        build_type,
        output_dir,
        template,
        only_builds,
        user_variables,
        source_uri,
        signer: None,
        verifier: None,
        keyless: false,
    };
    match mode.as_str() {
        "none" | "<unknown>" => {}
        "key" => match signer_ref {
            None => r.error_at(
                "signing_mode",
                "Invalid signing configuration",
                format!("signing_mode {mode:?} requires signer or key"),
            ),
            Some(s) => {
                config.signer = Some(PathBuf::from(s));
                config.verifier = verifier.map(PathBuf::from);
            }
        },
        "kms" => {
            if signer_ref.is_none() {
                r.error_at(
                    "signing_mode",
                    "Invalid signing configuration",
                    format!("signing_mode {mode:?} requires signer or key"),
                );
            } else {
                r.error_at(
                    "signing_mode",
                    "KMS signing is not supported by Kiln",
                    "Kiln signs with a local PEM key (signing_mode = \"key\": ed25519, ECDSA \
                     or RSA); mount the key from a Secret instead of naming a cloud KMS key.",
                );
            }
        }
        "keyless" => {
            if verifier.is_some() {
                r.error_at(
                    "verifier",
                    "Invalid signing configuration",
                    format!(
                        "signing_mode {mode:?} does not support verifier overrides; keyless \
                         attestations are verified against keyless_identity and \
                         keyless_oidc_issuer"
                    ),
                );
            } else if keyless_identity.trim().is_empty() || keyless_issuer.trim().is_empty() {
                r.error_at(
                    "signing_mode",
                    "Invalid signing configuration",
                    format!(
                        "signing_mode {mode:?} requires keyless_identity and keyless_oidc_issuer"
                    ),
                );
            } else {
                config.keyless = true;
            }
        }
        other => r.error_at(
            "signing_mode",
            "Invalid signing configuration",
            format!("signing_mode {other:?} is not implemented"),
        ),
    }
    Some(Box::new(Provenance {
        config,
        docker_configs: info.env.docker_configs.clone(),
    }))
}

// ---------------------------------------------------------------------------------------
// The statement
// ---------------------------------------------------------------------------------------

/// What the statement is built from beyond the artifact: the environment Packer reads
/// (process variables and the working directory, for git), the build's names, its
/// sensitive variables.
pub struct Inputs<'a> {
    pub env: &'a BTreeMap<String, String>,
    pub working_dir: Option<&'a Path>,
    pub build_name: &'a str,
    pub builder_type: &'a str,
    pub sensitive_vars: &'a [String],
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex(&h.finalize()))
}

/// Go's `json.Marshal` of a value: compact, map keys sorted, `<`, `>`, `&`, U+2028 and
/// U+2029 escaped — so the identity digest of a file-less artifact is the one Packer computes.
pub fn go_json(v: &Json) -> String {
    fn sorted(v: &Json) -> Json {
        match v {
            Json::Object(m) => {
                let b: BTreeMap<&String, Json> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
                Json::Object(b.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(v))
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The identity record of an artifact (`{builderId, id, state}`), `state` being its
/// registry image metadata when it has some.
pub fn identity_record(a: &Artifact) -> Json {
    let mut m = Map::new();
    m.insert("builderId".into(), json!(a.builder_id));
    m.insert("id".into(), json!(a.id));
    if let Some(s) = a.state.get(ARTIFACT_STATE_URI) {
        m.insert("state".into(), s.clone());
    }
    Json::Object(m)
}

/// The statement's subjects: each file by basename and sha256, or one synthetic subject for
/// a file-less artifact.
pub fn subjects(a: &Artifact) -> anyhow::Result<Vec<Json>> {
    if !a.files.is_empty() {
        return a
            .files
            .iter()
            .map(|f| {
                let digest = sha256_file(f).with_context(|| format!("hash {:?}", f.display()))?;
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| f.to_string_lossy().to_string());
                Ok(json!({"name": name, "digest": {"sha256": digest}}))
            })
            .collect();
    }
    let digest = sha256_hex(go_json(&identity_record(a)).as_bytes());
    Ok(vec![json!({
        "name": format!("{}:{}", a.builder_id, a.id),
        "digest": {"sha256": digest},
    })])
}

fn first_set<'a>(env: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| env.get(*k).map(|v| v.trim()))
        .find(|v| !v.is_empty())
}

/// The builder id: the CI job's identity, else Packer's local-build id.
pub fn builder_id(env: &BTreeMap<String, String>) -> String {
    first_set(
        env,
        &[
            "GITHUB_WORKFLOW_REF",
            "CI_JOB_URL",
            "CI_PIPELINE_URL",
            "BUILD_URL",
        ],
    )
    .unwrap_or(DEFAULT_LOCAL_BUILDER_ID)
    .to_string()
}

/// The invocation id: the CI run's id, if any.
pub fn invocation_id(env: &BTreeMap<String, String>) -> Option<String> {
    first_set(
        env,
        &["GITHUB_RUN_ID", "CI_PIPELINE_ID", "CI_JOB_ID", "BUILD_ID"],
    )
    .map(str::to_string)
}

fn git(dir: Option<&Path>, args: &[&str]) -> Option<String> {
    let mut c = std::process::Command::new("git");
    c.args(args).stderr(std::process::Stdio::null());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Removes user info (a token) from a URL remote; scp-style remotes are left alone.
fn sanitize_remote(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

/// The source the build came from (`git+<repo>@<ref>` with its commit), as Packer finds it:
/// GitHub's variables, GitLab's, else the git repository of the working directory.
pub fn git_dependency(env: &BTreeMap<String, String>, dir: Option<&Path>) -> Option<Json> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let (Some(repo), Some(sha)) = (get("GITHUB_REPOSITORY"), get("GITHUB_SHA")) {
        let server = get("GITHUB_SERVER_URL")
            .map(|s| s.trim_end_matches('/'))
            .unwrap_or("https://github.com");
        let mut uri = format!("git+{server}/{}", repo.trim_start_matches('/'));
        if let Some(r) = get("GITHUB_REF") {
            uri += &format!("@{r}");
        }
        return Some(json!({"uri": uri, "digest": {"gitCommit": sha}}));
    }
    if let (Some(url), Some(sha)) = (get("CI_PROJECT_URL"), get("CI_COMMIT_SHA")) {
        let mut uri = format!("git+{}", url.trim_end_matches('/'));
        if let Some(r) = get("CI_COMMIT_REF_NAME") {
            uri += &format!("@refs/heads/{r}");
        }
        return Some(json!({"uri": uri, "digest": {"gitCommit": sha}}));
    }
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    let remote = git(dir, &["config", "--get", "remote.origin.url"])
        .or_else(|| git(dir, &["rev-parse", "--show-toplevel"]).map(|t| format!("file://{t}")))?;
    let mut uri = format!("git+{}", sanitize_remote(&remote));
    if let Some(b) = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD") {
        uri += &format!("@refs/heads/{b}");
    }
    Some(json!({"uri": uri, "digest": {"gitCommit": commit}}))
}

impl Config {
    /// The in-toto statement for an artifact.
    pub fn statement(&self, a: &Artifact, inputs: &Inputs<'_>) -> anyhow::Result<Json> {
        let subjects = subjects(a)?;
        let mut byproducts = Vec::new();
        if a.files.is_empty() {
            let identity = go_json(&identity_record(a));
            byproducts.push(json!({
                "name": "cloud-artifact-identity",
                "content": base64::engine::general_purpose::STANDARD.encode(identity),
            }));
        }

        let mut external = Map::new();
        if let Some(t) = &self.template {
            external.insert("template".into(), json!(t));
        }
        if !self.only_builds.is_empty() {
            external.insert("onlyBuilds".into(), json!(self.only_builds));
        }
        let mut vars: BTreeMap<String, String> = inputs
            .env
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("PKR_VAR_")
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect();
        vars.extend(self.user_variables.clone());
        for s in inputs.sensitive_vars {
            if let Some(v) = vars.get_mut(s) {
                *v = REDACTED.to_string();
            }
        }
        if !vars.is_empty() {
            external.insert("userVariables".into(), json!(vars));
        }

        let mut dependency = git_dependency(inputs.env, inputs.working_dir);
        if let Some(uri) = &self.source_uri {
            match &mut dependency {
                Some(d) => d["uri"] = json!(uri),
                None => dependency = Some(json!({"uri": uri})),
            }
        }

        let mut definition = Map::new();
        definition.insert("buildType".into(), json!(self.build_type));
        definition.insert("externalParameters".into(), Json::Object(external));
        definition.insert(
            "internalParameters".into(),
            json!({
                "packerBuildName": inputs.build_name,
                "packerBuilderType": inputs.builder_type,
                "packerVersion": PACKER_VERSION,
                "kilnVersion": env!("CARGO_PKG_VERSION"),
            }),
        );
        if let Some(d) = dependency {
            definition.insert("resolvedDependencies".into(), json!([d]));
        }

        let invocation = invocation_id(inputs.env).unwrap_or_else(random_uuid);
        let mut run = Map::new();
        run.insert(
            "builder".into(),
            json!({
                "id": builder_id(inputs.env),
                "version": {"packer": PACKER_VERSION, "kiln": env!("CARGO_PKG_VERSION")},
            }),
        );
        run.insert("metadata".into(), json!({"invocationId": invocation}));
        if !byproducts.is_empty() {
            run.insert("byproducts".into(), Json::Array(byproducts));
        }

        Ok(json!({
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": SLSA_PREDICATE_TYPE,
            "predicate": {
                "buildDefinition": Json::Object(definition),
                "runDetails": Json::Object(run),
            },
        }))
    }

    /// Where the statement goes: `output_dir`, else the folder of the artifact's first
    /// file, else `.`; the stem is `[<build>.]<basename of the first file>` or a sanitized
    /// `<builderId>-<id>`.
    pub fn output_path(&self, a: &Artifact, build_name: &str) -> PathBuf {
        let dir = match (&self.output_dir, a.files.first()) {
            (Some(d), _) => d.clone(),
            (None, Some(f)) => f
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            (None, None) => PathBuf::from("."),
        };
        let base = match a.files.first() {
            Some(f) => f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            None => sanitize(&format!("{}-{}", a.builder_id, a.id)),
        };
        let build = sanitize(build_name.trim());
        let stem = if build.is_empty() || base == build || base.starts_with(&format!("{build}.")) {
            base
        } else {
            format!("{build}.{base}")
        };
        // Go's filepath.Join cleans the path (`a.txt.provenance.json`, not `./…`).
        crate::template::go_clean(&dir.join(format!("{stem}.provenance.json")))
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn random_uuid() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex(&b);
    // Version 4, RFC 4122 variant, as go-uuid's GenerateUUID.
    let mut c: Vec<char> = h.chars().collect();
    c[12] = '4';
    c[16] = ['8', '9', 'a', 'b'][(b[8] >> 4 & 0x3) as usize];
    let h: String = c.into_iter().collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

// ---------------------------------------------------------------------------------------
// DSSE signing
// ---------------------------------------------------------------------------------------

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub use crate::attestation::{SigningKey, VerifyingKey};

/// The DSSE envelope of a statement signed with `key`, checked with `verifier` (else the
/// signer's own public key) before it is returned, as Packer's post-processor does (its
/// `NewSigner`, `NewVerifier` and `VerifyEnvelope`, in their words).
pub fn sign_statement(
    statement: &Json,
    key: &Path,
    verifier: Option<&Path>,
) -> anyhow::Result<Json> {
    let signer = SigningKey::load(&key.to_string_lossy()).map_err(anyhow::Error::msg)?;
    let check = match verifier {
        Some(v) => VerifyingKey::load(&v.to_string_lossy()).map_err(anyhow::Error::msg)?,
        None => signer.verifying_key(),
    };
    let payload = serde_json::to_vec(statement)?;
    let sig = signer.sign(IN_TOTO_PAYLOAD_TYPE, &payload);
    if check.verify(IN_TOTO_PAYLOAD_TYPE, &payload, &sig).is_err() {
        bail!("verify signed attestation: signature verification failed");
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(json!({
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": b64.encode(&payload),
        "signatures": [{"keyid": signer.verifying_key().key_id(), "sig": b64.encode(&sig)}],
    }))
}

/// Packer's `newKeylessSigner` up to the certificate request: the ambient OIDC token
/// (`SIGSTORE_ID_TOKEN`, GitLab's `CI_JOB_JWT_V2` or `CI_JOB_JWT`, GitHub Actions' token
/// request variables), in Packer's words when there is none; with one, Kiln stops where
/// Packer asks Fulcio for a certificate.
fn keyless_signer(env: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let set = |k: &str| env.get(k).is_some_and(|v| !v.trim().is_empty());
    let token = ["SIGSTORE_ID_TOKEN", "CI_JOB_JWT_V2", "CI_JOB_JWT"]
        .iter()
        .any(|k| set(k))
        || (set("ACTIONS_ID_TOKEN_REQUEST_URL") && set("ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
    if !token {
        bail!(
            "signing_mode \"keyless\" requires an ambient OIDC token; set SIGSTORE_ID_TOKEN, use a CI-provided OIDC token, or switch to signing_mode=\"none\" or a key-backed mode"
        );
    }
    bail!(
        "request Fulcio certificate: Kiln does not request Fulcio certificates (keyless signing needs Fulcio and Rekor): sign with a key (signing_mode = \"key\") or sign the attestation in CI afterwards with cosign"
    )
}

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees half a file.
fn atomic_write(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.tmp-",
            path.file_name().unwrap_or_default().to_string_lossy()
        ))
        .tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[async_trait]
impl PostProcessor for Provenance {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        let pass = PostProcessed {
            artifact: input.clone(),
            keep: true,
            force_keep: true,
        };
        if !self.config.enabled {
            return Ok(pass);
        }
        if ctx.cancel.is_cancelled() {
            return Err(PostProcessError::Cancelled);
        }
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let cwd = std::env::current_dir().ok();
        let config = self.config.clone();
        let info = ctx.info.clone();
        let artifact = input.clone();
        let (path, bytes, key_id) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let inputs = Inputs {
                env: &env,
                working_dir: cwd.as_deref(),
                build_name: &info.build_name,
                builder_type: &info.builder_type,
                sensitive_vars: &info.sensitive_vars,
            };
            let statement = config.statement(&artifact, &inputs)?;
            let path = config.output_path(&artifact, &info.build_name);
            if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create output dir {:?}", dir.display()))?;
            }
            if config.keyless {
                keyless_signer(&env)?;
            }
            let doc = match &config.signer {
                None => statement,
                Some(key) => sign_statement(&statement, key, config.verifier.as_deref())?,
            };
            let mut text = serde_json::to_string_pretty(&doc)?;
            if config.signer.is_some() {
                text.push('\n');
            }
            atomic_write(&path, text.as_bytes())
                .with_context(|| format!("write attestation {:?}", path.display()))?;
            let key_id = doc
                .pointer("/signatures/0/keyid")
                .and_then(|k| k.as_str())
                .map(String::from);
            Ok((path, text.into_bytes(), key_id))
        })
        .await??;
        ctx.ui
            .say(format!("Wrote attestation to {}", path.display()));
        let mut pass = pass;
        let st = &mut pass.artifact.state;
        let media_type = if key_id.is_some() {
            DSSE_MEDIA_TYPE
        } else {
            IN_TOTO_PAYLOAD_TYPE
        };
        st.insert(state::FILE.into(), json!(path.to_string_lossy()));
        st.insert(
            state::DIGEST.into(),
            json!(format!("sha256:{}", sha256_hex(&bytes))),
        );
        st.insert(state::MEDIA_TYPE.into(), json!(media_type));
        if let Some(k) = &key_id {
            st.insert(state::KEY_ID.into(), json!(k));
        }
        if let Some((repo, digest)) = pushed_image(input) {
            self.attach(ctx, &mut pass.artifact, &repo, &digest, media_type, bytes)
                .await;
        }
        Ok(pass)
    }
}

impl Provenance {
    /// Stores the attestation beside the pushed image as an OCI referrer (subject: the
    /// image's manifest), recording where in the artifact's state. A registry that refuses
    /// it is reported, not fatal: the image and the file are there already.
    async fn attach(
        &self,
        ctx: &PostProcessCtx<'_>,
        artifact: &mut Artifact,
        repo: &str,
        digest: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) {
        let doc = Referrer {
            artifact_type: IN_TOTO_PAYLOAD_TYPE.into(),
            media_type: media_type.into(),
            data: bytes,
            annotations: BTreeMap::new(),
        };
        match referrers::attach(self.docker_configs.clone(), repo, digest, doc).await {
            Ok(p) => {
                ctx.ui.say(format!(
                    "Attached the attestation to {repo}@{digest} as referrer {}{}",
                    p.manifest_digest,
                    p.referrers_tag
                        .as_deref()
                        .map(|t| format!(" (referrers tag {t})"))
                        .unwrap_or_default()
                ));
                let st = &mut artifact.state;
                st.insert(state::SUBJECT.into(), json!(format!("{repo}@{digest}")));
                st.insert(state::REFERRER.into(), json!(p.manifest_digest));
                if let Some(t) = p.referrers_tag {
                    st.insert(state::REFERRERS_TAG.into(), json!(t));
                }
            }
            Err(e) => ctx.ui.error(format!(
                "could not attach the attestation to {repo}@{digest}: {e:#}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            enabled: true,
            build_type: DEFAULT_BUILD_TYPE.into(),
            ..Config::default()
        }
    }

    #[test]
    fn file_subjects_ci_identity_and_redacted_variables() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("disk.img");
        std::fs::write(&f, "abc").unwrap();
        let a = Artifact {
            builder_id: "packer.file".into(),
            id: "disk.img".into(),
            files: vec![f.clone()],
            ..Artifact::default()
        };
        let env: BTreeMap<String, String> = [
            (
                "GITHUB_WORKFLOW_REF",
                "o/r/.github/workflows/b.yml@refs/heads/main",
            ),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_SHA", "deadbeef"),
            ("GITHUB_REF", "refs/heads/main"),
            ("PKR_VAR_password", "hunter2"),
            ("PKR_VAR_region", "eu"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut c = cfg();
        c.template = Some("t.pkr.hcl".into());
        let s = c
            .statement(
                &a,
                &Inputs {
                    env: &env,
                    working_dir: None,
                    build_name: "root",
                    builder_type: "file",
                    sensitive_vars: &["password".to_string()],
                },
            )
            .unwrap();
        assert_eq!(s["_type"], STATEMENT_TYPE);
        assert_eq!(s["subject"][0]["name"], "disk.img");
        assert_eq!(
            s["subject"][0]["digest"]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let p = &s["predicate"];
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "o/r/.github/workflows/b.yml@refs/heads/main"
        );
        assert_eq!(p["runDetails"]["metadata"]["invocationId"], "42");
        let ext = &p["buildDefinition"]["externalParameters"];
        assert_eq!(ext["template"], "t.pkr.hcl");
        assert_eq!(ext["userVariables"]["password"], REDACTED);
        assert_eq!(ext["userVariables"]["region"], "eu");
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://github.com/o/r@refs/heads/main"
        );
        assert_eq!(
            c.output_path(&a, "root"),
            d.path().join("root.disk.img.provenance.json")
        );
    }

    #[test]
    fn fileless_artifact_gets_an_identity_subject_like_packers() {
        let a = Artifact {
            builder_id: "mitchellh.amazonebs".into(),
            id: "us-east-1:ami-1".into(),
            ..Artifact::default()
        };
        // Go: json.Marshal(map[string]interface{}{"builderId": ..., "id": ...})
        let want = sha256_hex(br#"{"builderId":"mitchellh.amazonebs","id":"us-east-1:ami-1"}"#);
        let s = subjects(&a).unwrap();
        assert_eq!(s[0]["name"], "mitchellh.amazonebs:us-east-1:ami-1");
        assert_eq!(s[0]["digest"]["sha256"], want.as_str());
        assert_eq!(
            cfg().output_path(&a, ""),
            PathBuf::from("mitchellh.amazonebs-us-east-1_ami-1.provenance.json")
        );
        assert_eq!(
            go_json(&json!({"b": "<&>", "a": 1})),
            r#"{"a":1,"b":"\u003c\u0026\u003e"}"#
        );
    }

    #[test]
    fn remotes_lose_their_credentials() {
        assert_eq!(
            sanitize_remote("https://user:tok@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            sanitize_remote("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
    }

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(
            pae("application/vnd.in-toto+json", b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
    }
}
