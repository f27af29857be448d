//! `manifest`: appends one entry per build to a JSON file in Packer's shape (`builds`,
//! `last_run_uuid`), under a lock file with three tries. With `-force`, a file written by
//! another run is reset. Returns its input artifact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::template::ConfigReader;
use crate::ui::EventKind;

pub struct Manifest {
    output: PathBuf,
    strip_path: bool,
    strip_time: bool,
    custom_data: Option<BTreeMap<String, String>>,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    Some(Box::new(Manifest {
        output: PathBuf::from(
            r.string("output")
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| "packer-manifest.json".to_string()),
        ),
        strip_path: r.bool("strip_path").unwrap_or(false),
        strip_time: r.bool("strip_time").unwrap_or(false),
        custom_data: r.string_map("custom_data"),
    }))
}

impl Manifest {
    /// The entry for one artifact (Packer's `ManifestArtifact`, field order kept).
    pub fn entry(&self, info: &ComponentInfo, a: &Artifact, now: u64) -> Json {
        let files: Json = if a.files.is_empty() {
            Json::Null
        } else {
            Json::Array(
                a.files
                    .iter()
                    .map(|f| {
                        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
                        let name = if self.strip_path {
                            f.file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default()
                        } else {
                            f.to_string_lossy().to_string()
                        };
                        json!({ "name": name, "size": size })
                    })
                    .collect(),
            )
        };
        let mut entry = serde_json::Map::new();
        entry.insert("name".into(), json!(info.build_name));
        entry.insert("builder_type".into(), json!(info.builder_type));
        if !self.strip_time {
            entry.insert("build_time".into(), json!(now));
        }
        entry.insert("files".into(), files);
        entry.insert("artifact_id".into(), json!(a.id));
        entry.insert("packer_run_uuid".into(), json!(info.run_uuid));
        entry.insert(
            "custom_data".into(),
            match &self.custom_data {
                Some(m) => json!(m),
                None => Json::Null,
            },
        );
        Json::Object(entry)
    }
}

/// Holds `<output>.lock` while it exists.
struct Lock(PathBuf);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Packer's lock: three tries to create `OUTPUT.lock` exclusively, 0, 200 and 400 ms
/// apart; if none succeeds Packer goes on without it (a directory that does not exist
/// fails the write after).
async fn lock(output: &Path) -> Option<Lock> {
    let lock_path = PathBuf::from(format!("{}.lock", output.display()));
    for attempt in 0..3u64 {
        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
        if std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock_path)
            .is_ok()
        {
            return Some(Lock(lock_path));
        }
    }
    None
}

#[async_trait]
impl PostProcessor for Manifest {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut entry = self.entry(ctx.info, input, now);
        // Sensitive values never reach the file.
        entry = crate::ui::mask_json(&entry, ctx.ui.masker());
        // Packer creates no directory: a missing one fails the write, in its words.
        let _lock = lock(&self.output).await;
        let mut doc: Json = match std::fs::read(&self.output) {
            Ok(bytes) if !bytes.is_empty() => {
                use kiln_hcl::legacy::json::{J, parse};
                // Go's json.Unmarshal into the ManifestFile struct, in its words.
                let why = match parse(&bytes) {
                    Err(e) => Some(e.msg),
                    Ok(J::Obj(_) | J::Null) => None,
                    Ok(other) => Some(format!(
                        "json: cannot unmarshal {} into Go value of type manifest.ManifestFile",
                        match other {
                            J::Arr(_) => "array",
                            J::Str(_) => "string",
                            J::Bool(_) => "bool",
                            _ => "number",
                        }
                    )),
                };
                if let Some(why) = why {
                    return Err(anyhow::anyhow!(
                        "Unable to parse content from {}: {why}",
                        self.output.display()
                    )
                    .into());
                }
                serde_json::from_slice::<Json>(&bytes)
                    .ok()
                    .filter(Json::is_object)
                    .unwrap_or_else(|| json!({}))
            }
            Ok(_) => json!({}),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
            Err(e) => {
                let out = self.output.display();
                return Err(anyhow::anyhow!(
                    "Unable to open {out} for reading: {}",
                    crate::goerr::path_error("open", &self.output, &e)
                )
                .into());
            }
        };
        let last = doc
            .get("last_run_uuid")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        if ctx.info.force && last != ctx.info.run_uuid {
            doc = json!({});
        }
        let mut builds: Vec<Json> = doc
            .get("builds")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        builds.push(entry.clone());
        let out = json!({ "builds": builds, "last_run_uuid": ctx.info.run_uuid });
        let text = serde_json::to_string_pretty(&out).map_err(anyhow::Error::from)?;
        // Write whole or not at all: a temporary file renamed over the old one.
        let tmp = PathBuf::from(format!("{}.tmp", self.output.display()));
        let unable = |e: std::io::Error| {
            let out = self.output.display();
            anyhow::anyhow!(
                "Unable to write {out}: open {out}: {}",
                kiln_hcl::template::go_errno(&e)
            )
        };
        std::fs::write(&tmp, text.as_bytes()).map_err(unable)?;
        std::fs::rename(&tmp, &self.output).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            unable(e)
        })?;
        ctx.ui.emit(EventKind::ManifestEntry { entry });
        Ok(PostProcessed {
            artifact: input.clone(),
            keep: true,
            force_keep: true,
        })
    }
}
