//! `docker-push`: pushes the images a `docker-tag` (or `docker-import`) named to their
//! registries, without a daemon: blobs the registry has are skipped, blobs of another
//! repository of the same registry are mounted, the rest uploaded (see docs/docker.md).
//! Options as Packer's: `login`, `login_server`, `login_username`, `login_password`;
//! `ecr_login` and the `aws_*` options are errors (not supported yet).

use async_trait::async_trait;
use kiln_oci::Reference;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::{
    image_of, push_image, read_ecr_login, read_login, tags_of,
};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.post-processor.docker-push";

pub struct DockerPush {
    login: Option<(Option<String>, String, String)>,
    docker_configs: Vec<std::path::PathBuf>,
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    // The plugin's Configure: an ECR login needs its server. Kiln has no ECR login (its
    // own check, failing the post-processor when it runs); the `aws_*` options only serve it.
    let ecr_login = read_ecr_login(r);
    let _ = r.string("docker_path");
    let _ = r.string("platform");
    let login = read_login(r, "docker-push");
    if ecr_login {
        if r.string("login_server").is_none_or(|s| s.is_empty()) {
            r.prepare_fail("ECR login requires login server to be provided.");
        } else {
            r.check_error_at(
                "ecr_login",
                "Unsupported docker-push option",
                "ecr_login: ECR login is not supported yet; put the registry's credentials in ~/.docker/config.json.",
            );
        }
    }
    Some(Box::new(DockerPush {
        login,
        docker_configs: info.env.docker_configs.clone(),
    }))
}

#[async_trait]
impl PostProcessor for DockerPush {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        if input.builder_id != crate::postprocessors::docker_tag::BUILDER_ID
            && input.builder_id != crate::builders::docker::BUILDER_ID_IMPORT
        {
            return Err(PostProcessError::unknown_artifact(
                &input.builder_id,
                "Can only import from docker-import and docker-tag artifacts.",
            ));
        }
        let (store, name) = image_of(input, "push")?;
        let names = tags_of(input, &name);
        let login = self.login.clone();
        let configs = self.docker_configs.clone();
        let ui = ctx.ui.clone();
        let pushed =
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(String, String)>> {
                let mut out = vec![];
                for n in &names {
                    let r = Reference::parse(n)?;
                    let digest = push_image(&store, n, &r, login.as_ref(), &configs, &ui)?;
                    out.push((n.clone(), digest));
                }
                Ok(out)
            })
            .await??;
        let (last, digest) = pushed.last().cloned().unwrap_or_default();
        let mut state = input.state.clone();
        state.insert("digest".into(), serde_json::json!(digest));
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id: last.clone(),
                files: vec![],
                description: format!("Pushed Docker image: {last}@{digest}"),
                state,
                destroyer: None,
            },
            keep: true,
            force_keep: false,
        })
    }
}
