//! `docker-save`: writes the image a `docker` build committed (or a `docker-tag` named) to
//! `path` as a tar readable by `docker load` (Docker's `manifest.json`) and as an OCI layout
//! archive (`skopeo copy oci-archive:`), as Docker 25+ `docker save` does.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::{image_of, tags_of};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.post-processor.docker-save";

pub struct DockerSave {
    path: PathBuf,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let _ = r.string("docker_path");
    // (the plugin's `path` is optional: `docker save` fails to write nowhere)
    let path = r.string("path").filter(|p| !p.is_empty());
    if path.is_none() {
        r.check_error_at(
            "path",
            "Missing path",
            "path: the image needs a file to be saved to.",
        );
    }
    Some(Box::new(DockerSave {
        path: PathBuf::from(path?),
    }))
}

#[async_trait]
impl PostProcessor for DockerSave {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        let (store, name) = image_of(input, "save")?;
        let names = tags_of(input, &name);
        ctx.ui.say(format!(
            "Saving image {} to {}",
            input.id,
            self.path.display()
        ));
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf();
            std::fs::create_dir_all(&dir)?;
            let tmp = tempfile::NamedTempFile::new_in(&dir)?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let w = store.export_tar(&refs, std::io::BufWriter::new(tmp))?;
            let tmp = w.into_inner().map_err(|e| e.into_error())?;
            tmp.persist(&path)?;
            Ok(())
        })
        .await??;
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id: self.path.display().to_string(),
                files: vec![self.path.clone()],
                description: format!("Exported Docker file: {}", self.path.display()),
                state: input.state.clone(),
                destroyer: None,
            },
            keep: true,
            force_keep: false,
        })
    }
}
