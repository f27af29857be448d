//! `docker-import`: turns the file-system tar of a `docker` build with `export_path` into a
//! one-layer image in Kiln's local store, named `repository:tag`, with `changes` applied (as
//! `docker import --change`). Options as Packer's: `repository`, `tag`, `changes`,
//! `platform`.

use async_trait::async_trait;
use kiln_oci::Reference;
use kiln_oci::diff::{self, LayerOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::store::{Platform, Store};

use crate::artifact::Artifact;
use crate::builders::docker::{BUILDER_ID, default_store};
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::{commit_on_scratch, image_state};
use crate::template::ConfigReader;

pub use crate::builders::docker::BUILDER_ID_IMPORT;

pub struct DockerImport {
    reference: Reference,
    /// `repository[:tag]` as written: the name the plugin says and gives its artifact.
    shown: String,
    changes: Vec<String>,
    platform: Platform,
    store: std::path::PathBuf,
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let _ = r.string("docker_path");
    let repository = r.string("repository").filter(|s| !s.is_empty());
    let tag_set = r.string("tag").filter(|t| !t.is_empty());
    let shown = match &tag_set {
        Some(t) => format!("{}:{t}", repository.as_deref().unwrap_or("")),
        None => repository.clone().unwrap_or_default(),
    };
    let tag = tag_set.unwrap_or_else(|| "latest".into());
    let changes = r.strings("changes").unwrap_or_default();
    if let Err(e) = image::validate_changes(&changes) {
        r.check_error_at("changes", "Invalid changes", e.to_string());
    }
    let platform = match r.string("platform").filter(|p| !p.is_empty()) {
        Some(p) => Platform::parse(&p)
            .map_err(|e| r.check_error_at("platform", "Invalid platform", e.to_string()))
            .unwrap_or_else(|_| Platform::host()),
        None => Platform::host(),
    };
    let reference =
        match Reference::parse(&format!("{}:{tag}", repository.as_deref().unwrap_or(""))) {
            Ok(x) => Some(x),
            Err(e) => {
                if repository.is_some() {
                    r.check_error_at("repository", "Invalid repository or tag", e.to_string());
                } else {
                    r.check_error_at(
                        "repository",
                        "Missing repository",
                        "repository: the image needs a repository to be named.",
                    );
                }
                None
            }
        };
    Some(Box::new(DockerImport {
        reference: reference?,
        shown,
        changes,
        platform,
        store: default_store(&info.env.work_dir),
    }))
}

#[async_trait]
impl PostProcessor for DockerImport {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        if input.builder_id != BUILDER_ID {
            return Err(PostProcessError::unknown_artifact(
                &input.builder_id,
                "Can only import from Docker builder and Artifice post-processor artifacts.",
            ));
        }
        let Some(file) = input.files.first().cloned() else {
            return Err(anyhow::anyhow!("the artifact to import has no file").into());
        };
        let name = self.reference.to_string();
        ctx.ui.say(format!("Importing image: {}", input.id));
        ctx.ui.say(format!("Repository: {}", self.shown));
        let (store_path, changes, platform, n2) = (
            self.store.clone(),
            self.changes.clone(),
            self.platform.clone(),
            name.clone(),
        );
        let committed = tokio::task::spawn_blocking(move || -> anyhow::Result<image::Committed> {
            let store = Store::open(&store_path)?;
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let epoch = kiln_oci::source_date_epoch()?;
            let layer = diff::layer_from_tar(
                &store,
                std::io::BufReader::new(f),
                &LayerOptions {
                    epoch,
                    ..Default::default()
                },
            )?;
            Ok(commit_on_scratch(
                &store,
                &platform,
                &layer,
                &CommitOptions {
                    changes,
                    epoch,
                    created_by: Some("docker-import (kiln)".into()),
                    ..Default::default()
                },
                &n2,
            )?)
        })
        .await??;
        let id = committed.config_digest.to_string();
        ctx.ui.say(format!("Imported ID: {id}"));
        // As the plugin's: named by the repository as written, no tags.
        let state = image_state(&self.store, &name);
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID_IMPORT.into(),
                id: self.shown.clone(),
                files: vec![],
                description: format!("Imported Docker image: {}", self.shown),
                state,
                destroyer: None,
            },
            keep: false,
            force_keep: false,
        })
    }
}
