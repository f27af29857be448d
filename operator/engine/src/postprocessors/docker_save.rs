//! `docker-save`: writes the image a `docker` build committed (or a `docker-tag` named) to
//! `path` as a tar readable by `docker load` (Docker's `manifest.json`) and as an OCI layout
//! archive (`skopeo copy oci-archive:`), as Docker 25+ `docker save` does. As the plugin's,
//! its artifact is the one it was given (kept).

use std::path::PathBuf;

use async_trait::async_trait;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::image_of;
use crate::template::ConfigReader;

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
        // As the plugin's `docker save ID`: the artifact's id only (after docker-tag, its
        // last tag; the other tags are not in the tar), by the store's name for it.
        let id = kiln_oci::Reference::parse(&input.id)
            .map(|r| r.to_string())
            .unwrap_or_else(|_| input.id.clone());
        let names = if store.image(&id).is_ok() {
            vec![id]
        } else {
            vec![name]
        };
        // As the plugin: the file is created first (no directories made), then the image
        // saved; the artifact is the one given, kept. Kiln writes the tar beside it and
        // renames it over the file, so a failed save leaves nothing half-written.
        if let Err(e) = std::fs::File::create(&self.path) {
            return Err(anyhow::anyhow!(
                "Error creating output file: {}",
                crate::goerr::path_error("open", &self.path, &e)
            )
            .into());
        }
        ctx.ui.say(format!("Saving image: {}", input.id));
        let path = self.path.clone();
        let saved = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf();
            let tmp = tempfile::NamedTempFile::new_in(&dir)?;
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let w = store.export_tar(&refs, std::io::BufWriter::new(tmp))?;
            let tmp = w.into_inner().map_err(|e| e.into_error())?;
            tmp.persist(&path)?;
            Ok(())
        })
        .await;
        if !matches!(saved, Ok(Ok(()))) {
            let _ = std::fs::remove_file(&self.path);
        }
        saved??;
        ctx.ui.say(format!("Saved to: {}", self.path.display()));
        Ok(PostProcessed {
            artifact: input.clone(),
            keep: true,
            force_keep: false,
        })
    }
}
