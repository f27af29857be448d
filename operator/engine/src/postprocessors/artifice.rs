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
        _input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        ctx.ui.say("Registering artifact files");
        for f in &self.files {
            if !std::path::Path::new(f).exists() {
                return Err(
                    anyhow::anyhow!("Unable to read artifice file {f}: no such file").into(),
                );
            }
        }
        Ok(PostProcessed {
            artifact: Artifact {
                destroyer: None,
                builder_id: BUILDER_ID.to_string(),
                id: String::new(),
                files: self.files.iter().map(PathBuf::from).collect(),
                description: format!("Created artifact from files: {}", self.files.join(", ")),
                state: Default::default(),
            },
            keep: true,
            force_keep: false,
        })
    }
}
