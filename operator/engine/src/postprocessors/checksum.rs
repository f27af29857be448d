//! `checksum`: computes checksums of the artifact's files and appends `<hex>\t<basename>` lines
//! to one file per checksum type (Packer's `post-processor/checksum`). The new artifact is the
//! input files plus the checksum files; the input is always kept.
//!
//! Each input file is read once, streaming, whatever the number of checksum types; the lines
//! are then written in Packer's order (type by type, file by file), so the output is the same
//! as Packer's.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use async_trait::async_trait;
use sha2::digest::DynDigest;
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::template::ConfigReader;
use crate::value::Value;

pub const BUILDER_ID: &str = "packer.post-processor.checksum";

/// The checksum types Packer knows, in its order.
pub const TYPES: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

pub const DEFAULT_OUTPUT: &str =
    "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum";

/// Size of the read buffer used when streaming files through hashers and compressors.
pub(crate) const CHUNK: usize = 1 << 20;

pub struct Checksum {
    types: Vec<String>,
    output: String,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    // Rendered when the post-processor runs, with the build's data.
    r.render_later(&["output"]);
    let types = r
        .strings("checksum_types")
        .unwrap_or_else(|| vec!["md5".to_string()]);
    for t in &types {
        if hasher(t).is_none() && t != "<unknown>" {
            r.prepare_error(format!("Unrecognized checksum type: {t}"));
        }
    }
    let output = r
        .string("output")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_OUTPUT.to_string());
    if let Err(e) = parse_go_template(&output) {
        r.prepare_error(format!("Error parsing target template: {e}"));
    }
    Some(Box::new(Checksum { types, output }))
}

/// A fresh hasher for a checksum type (`None` for an unknown type).
pub fn hasher(kind: &str) -> Option<Box<dyn DynDigest + Send>> {
    Some(match kind {
        "md5" => Box::new(md5::Md5::default()),
        "sha1" => Box::new(sha1::Sha1::default()),
        "sha224" => Box::new(sha2::Sha224::default()),
        "sha256" => Box::new(sha2::Sha256::default()),
        "sha384" => Box::new(sha2::Sha384::default()),
        "sha512" => Box::new(sha2::Sha512::default()),
        _ => return None,
    })
}

/// Streams `path` through one hasher per type; returns the lower-case hex digests in `kinds`
/// order. Stops with an error once `cancel` fires.
pub fn digest_file(
    path: &Path,
    kinds: &[String],
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<String>> {
    let mut hashers: Vec<Box<dyn DynDigest + Send>> = kinds
        .iter()
        .map(|k| hasher(k).with_context(|| format!("Unrecognized checksum type: {k}")))
        .collect::<anyhow::Result<_>>()?;
    let f = std::fs::File::open(path)
        .with_context(|| format!("unable to open file {}", path.display()))?;
    digest_open(f, path, &mut hashers, cancel)?;
    Ok(hashers.into_iter().map(|h| hex(&h.finalize())).collect())
}

/// Feeds the opened file at `path` to every hasher.
fn digest_open(
    mut f: std::fs::File,
    path: &Path,
    hashers: &mut [Box<dyn DynDigest + Send>],
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cancel.is_cancelled() {
            bail!("cancelled while computing checksums of {}", path.display());
        }
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("unable to read file {}", path.display()));
            }
        };
        for h in hashers.iter_mut() {
            h.update(&buf[..n]);
        }
    }
    Ok(())
}

/// One file's digest of one type, read now, with Packer's errors (`unable to open file X:
/// open X: …`, `unable to compute sha256 hash for X`).
fn digest_now(path: &Path, kind: &str, cancel: &CancellationToken) -> anyhow::Result<String> {
    let f = std::fs::File::open(path).map_err(|e| {
        anyhow::anyhow!(
            "unable to open file {}: {}",
            path.display(),
            crate::goerr::path_error("open", path, &e)
        )
    })?;
    let mut hashers =
        vec![hasher(kind).with_context(|| format!("Unrecognized checksum type: {kind}"))?];
    match digest_open(f, path, &mut hashers, cancel) {
        Ok(()) => Ok(hex(&hashers.remove(0).finalize())),
        Err(_) if cancel.is_cancelled() => bail!("cancelled while computing checksums"),
        Err(_) => bail!("unable to compute {kind} hash for {}", path.display()),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Checks that an `output` template parses, with the SDK's functions.
pub(crate) fn parse_go_template(s: &str) -> Result<(), String> {
    crate::interpolate::Context::default()
        .validate(s)
        .map_err(|e| e.to_string())
}

/// Renders an `output` template as the SDK's `interpolate.Render` does, with `data` (a Go
/// `map[interface {}]interface {}` of strings: the build's generated data, `BuildName`,
/// `BuilderType`…) and the SDK's functions; a missing key renders as Go's `<no value>`.
pub(crate) fn render_go_template(
    s: &str,
    data: &BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let get = |k: &str| data.get(k).cloned().unwrap_or_default();
    let mut ctx = crate::interpolate::Context::for_component(
        &get("BuildName"),
        &get("BuilderType"),
        crate::template::PACKER_VERSION,
    );
    ctx.data = crate::interpolate::Value::Map(kiln_gotemplate_map(data));
    ctx.render(s).map_err(|e| anyhow::anyhow!("{e}"))
}

fn kiln_gotemplate_map(data: &BTreeMap<String, String>) -> crate::interpolate::Map {
    crate::interpolate::Map {
        type_name: "map[interface {}]interface {}".into(),
        entries: data
            .iter()
            .map(|(k, v)| (k.clone(), crate::interpolate::Value::str(v.clone())))
            .collect(),
    }
}

/// The data Packer's `output` templates see: the build's generated data plus `BuildName` and
/// `BuilderType`.
pub(crate) fn template_data(ctx: &PostProcessCtx<'_>) -> BTreeMap<String, String> {
    let mut data: BTreeMap<String, String> = ctx
        .generated
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            other => other.to_string_lossless().map(|s| (k.clone(), s)),
        })
        .collect();
    data.insert("BuildName".into(), ctx.info.build_name.clone());
    data.insert("BuilderType".into(), ctx.info.builder_type.clone());
    data
}

fn basename(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.to_string_lossy().to_string())
}

/// Does the work, blocking, in Packer's order: for each type, for each file, the output
/// opened for appending, the file hashed, its line written. One pass over each file computes
/// every type at once beforehand, which gives the same lines unless a file is one of this
/// post-processor's own outputs (it grows meanwhile: hashed at its moment, as Packer does)
/// or cannot be read (its error then comes where Packer's does).
fn run(
    types: &[String],
    output: &str,
    mut data: BTreeMap<String, String>,
    files: &[PathBuf],
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut targets = Vec::with_capacity(types.len());
    for kind in types {
        data.insert("ChecksumType".into(), kind.clone());
        targets.push(PathBuf::from(render_go_template(output, &data)?));
    }
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let reads_own_output = files.iter().any(|f| targets.iter().any(|t| same(f, t)));
    let digests: Option<Vec<Vec<String>>> = if reads_own_output {
        None
    } else {
        files
            .iter()
            .map(|f| digest_file(f, types, cancel))
            .collect::<anyhow::Result<_>>()
            .ok()
    };
    let mut new_files: Vec<PathBuf> = files.to_vec();
    for (ti, kind) in types.iter().enumerate() {
        let target = targets[ti].clone();
        for (fi, f) in files.iter().enumerate() {
            if !target.exists() && !new_files.contains(&target) {
                new_files.push(target.clone());
            }
            let dir = target
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            crate::goerr::mkdir_all(dir, 0o755)
                .map_err(|e| anyhow::anyhow!("unable to create dir: {e}"))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.append(true).create(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o644);
            let mut w = opts.open(&target).map_err(|e| {
                anyhow::anyhow!(
                    "unable to create file {}: {}",
                    target.display(),
                    crate::goerr::path_error("open", &target, &e)
                )
            })?;
            let digest = match &digests {
                Some(d) => d[fi][ti].clone(),
                None => digest_now(f, kind, cancel)?,
            };
            w.write_all(format!("{digest}\t{}\n", basename(f)).as_bytes())
                .with_context(|| format!("unable to write {}", target.display()))?;
        }
    }
    Ok(new_files)
}

#[async_trait]
impl PostProcessor for Checksum {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        // Packer's checksum post-processor says nothing while it works.
        let types = self.types.clone();
        let output = self.output.clone();
        let data = template_data(ctx);
        let files = input.files.clone();
        let cancel = ctx.cancel.clone();
        let new_files =
            tokio::task::spawn_blocking(move || run(&types, &output, data, &files, &cancel))
                .await
                .context("checksum worker failed")??;
        let description = format!(
            "Created artifact from files: {}",
            new_files
                .iter()
                .map(|f| f.to_string_lossy())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(PostProcessed {
            artifact: Artifact {
                destroyer: None,
                builder_id: BUILDER_ID.to_string(),
                id: String::new(),
                files: new_files,
                description,
                state: Default::default(),
            },
            keep: true,
            force_keep: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_with_and_without_spaces() {
        let mut d = BTreeMap::new();
        d.insert("BuildName".to_string(), "web".to_string());
        d.insert("BuilderType".to_string(), "file".to_string());
        d.insert("ChecksumType".to_string(), "sha256".to_string());
        assert_eq!(
            render_go_template(DEFAULT_OUTPUT, &d).unwrap(),
            "packer_web_file_sha256.checksum"
        );
        assert_eq!(
            render_go_template("out/{{ .BuildName }}.{{.ChecksumType}}", &d).unwrap(),
            "out/web.sha256"
        );
        assert_eq!(
            render_go_template("a {{- .BuildName -}} b", &d).unwrap(),
            "aweb b".replace(' ', "")
        );
        assert_eq!(render_go_template("{{.Nope}}", &d).unwrap(), "<no value>");
        assert!(parse_go_template("{{.BuildName").is_err());
        assert!(parse_go_template("{{ timestamp }}").is_ok());
        assert!(parse_go_template("{{ nope }}").is_err());
    }

    #[test]
    fn every_type_has_a_hasher() {
        for t in TYPES {
            assert!(hasher(t).is_some(), "{t}");
        }
        assert!(hasher("crc32").is_none());
        assert!(hasher("SHA256").is_none());
    }
}
