//! `docker-tag`: names the image a `docker` build committed (or a `docker-import` made)
//! `repository:tag` in Kiln's local image store, for each of `tags` (Packer's options:
//! `repository`, `tags` or the older `tag`, `force`).

use async_trait::async_trait;
use kiln_oci::Reference;

use crate::artifact::Artifact;
use crate::builders::docker::{BUILDER_ID_IMPORT, STATE_NAME};
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::image_of;
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.post-processor.docker-tag";

pub struct DockerTag {
    repository: String,
    tags: Vec<String>,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let _ = r.string("docker_path");
    let repository = r.string("repository").filter(|s| !s.is_empty());
    // `tag` and `tags` are lists of the plugin's (its Configure appends `tag` to `tags`).
    let mut tags = r.strings("tags").unwrap_or_default();
    tags.extend(r.strings("tag").unwrap_or_default());
    tags.retain(|t| !t.is_empty());
    let _ = r.bool("force"); // docker dropped `tag --force`; Packer ignores it as well
    if tags.is_empty() {
        tags.push("latest".into());
    }
    match &repository {
        Some(repo) => {
            for t in &tags {
                if let Err(e) = Reference::parse(&format!("{repo}:{t}")) {
                    r.check_error_at("repository", "Invalid repository or tag", e.to_string());
                }
            }
        }
        None => r.check_error_at(
            "repository",
            "Missing repository",
            "repository: the image needs a repository to be tagged.",
        ),
    }
    Some(Box::new(DockerTag {
        repository: repository?,
        tags,
    }))
}

#[async_trait]
impl PostProcessor for DockerTag {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        if input.builder_id != BUILDER_ID_IMPORT
            && input.builder_id != crate::postprocessors::docker_tag::BUILDER_ID
        {
            return Err(PostProcessError::unknown_artifact(
                &input.builder_id,
                "Can only tag from Docker builder artifacts.",
            ));
        }
        let (store, name) = image_of(input, "tag")?;
        let img = store.image(&name)?;
        let mut names = vec![];
        for t in &self.tags {
            let r = Reference::parse(&format!("{}:{t}", self.repository))?;
            ctx.ui.say(format!("Tagging image: {}", input.id));
            ctx.ui.say(format!("Repository: {r}"));
            store.tag(&r.to_string(), &img.descriptor)?;
            names.push(r.to_string());
        }
        let mut state = input.state.clone();
        state.insert(STATE_NAME.into(), serde_json::json!(names[0]));
        state.insert("docker_tags".into(), serde_json::json!(names));
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id: names[0].clone(),
                files: vec![],
                description: format!("Imported Docker image: {}", names.join(", ")),
                state,
                destroyer: None,
            },
            keep: true,
            force_keep: true,
        })
    }
}
