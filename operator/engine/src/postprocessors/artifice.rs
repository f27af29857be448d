//! `artifice`: replaces the artifact with the listed files (registering files a build made).

use std::path::PathBuf;

use async_trait::async_trait;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.post-processor.artifice";

pub struct Artifice {
    files: Vec<String>,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let files = r.strings("files");
    if files.as_ref().is_none_or(|f| f.is_empty()) {
        r.prepare_fail("No files specified in artifice configuration");
    }
    Some(Box::new(Artifice {
        files: files.unwrap_or_default(),
    }))
}

#[async_trait]
impl PostProcessor for Artifice {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        // Packer's artifice: the input's files are dropped, the patterns globbed
        // (`filepath.Glob`: a pattern matching nothing adds nothing), each match checked.
        if !input.files.is_empty() {
            let dropped: Vec<String> = input
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            ctx.ui.say(format!(
                "Discarding files from artifact: {}",
                dropped.join(", ")
            ));
        }
        let mut files = Vec::new();
        for pattern in &self.files {
            let matches = if pattern.contains(['*', '?', '[', '\\']) {
                crate::gopath::go_glob(pattern).map_err(|e| anyhow::anyhow!("{e}"))?
            } else if std::fs::symlink_metadata(pattern).is_ok() {
                vec![pattern.clone()]
            } else {
                Vec::new()
            };
            for m in matches {
                if let Err(e) = std::fs::metadata(&m) {
                    // Packer 1.16 crashes here (a nil artifact); Kiln says which file.
                    let at = std::path::Path::new(&m);
                    return Err(anyhow::anyhow!(crate::goerr::path_error("stat", at, &e)).into());
                }
                files.push(m);
            }
        }
        ctx.ui
            .say(format!("Using these artifact files: {}", files.join(", ")));
        Ok(PostProcessed {
            artifact: Artifact {
                destroyer: None,
                builder_id: BUILDER_ID.to_string(),
                id: String::new(),
                files: files.iter().map(PathBuf::from).collect(),
                description: format!("Created artifact from files: {}", files.join(", ")),
                state: Default::default(),
            },
            keep: true,
            force_keep: false,
        })
    }
}
