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
    match &repository {
        Some(repo) => {
            for name in names(repo, &tags) {
                if let Err(e) = Reference::parse(&name) {
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

/// The names the image gets, as the plugin writes them: `repository:tag` for each tag, or
/// `repository` itself without tags.
fn names(repository: &str, tags: &[String]) -> Vec<String> {
    if tags.is_empty() {
        return vec![repository.to_string()];
    }
    tags.iter().map(|t| format!("{repository}:{t}")).collect()
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
        // As the plugin: each name said as written, the last one the artifact's id, the
        // tags (none when only `repository` was given) in its `docker_tags`.
        let names = names(&self.repository, &self.tags);
        let mut last = String::new();
        for n in &names {
            let r = Reference::parse(n)?;
            ctx.ui.say(format!("Tagging image: {}", input.id));
            ctx.ui.say(format!("Repository: {n}"));
            store.tag(&r.to_string(), &img.descriptor)?;
            last = r.to_string();
        }
        let id = names.last().cloned().unwrap_or_default();
        let tags: Vec<String> = if self.tags.is_empty() {
            vec![]
        } else {
            names.clone()
        };
        let mut state = input.state.clone();
        state.insert(STATE_NAME.into(), serde_json::json!(last));
        state.insert("docker_tags".into(), serde_json::json!(tags));
        let description = if tags.is_empty() {
            format!("Imported Docker image: {id}")
        } else {
            format!("Imported Docker image: {id} with tags {}", tags.join(" "))
        };
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id,
                files: vec![],
                description,
                state,
                destroyer: None,
            },
            keep: true,
            force_keep: true,
        })
    }
}
