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
    PushFailed, docker_tags, image_of, push_image, read_ecr_login, read_login,
};
use crate::postprocessors::docker_login;
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
        let (store, _) = image_of(input, "push")?;
        // The plugin's words and work around its `docker push`es: a temporary
        // configuration directory unless DOCKER_CONFIG is set (Kiln still reads the run's
        // docker config files for credentials), and its `docker login` / `docker logout`
        // there.
        let mut temp_config = None;
        if std::env::var_os("DOCKER_CONFIG").is_none() {
            ctx.ui
                .message("Creating temporary Docker configuration directory");
            match crate::goerr::mkdir_temp(&std::env::temp_dir(), "packer") {
                Ok(d) => temp_config = Some(d),
                Err(e) => {
                    return Err(anyhow::anyhow!(
                        "Error creating temporary Docker configuration directory: {e}"
                    )
                    .into());
                }
            }
        }
        let r = self
            .login_and_push(ctx, input, store, temp_config.as_deref())
            .await;
        if let Some(d) = temp_config {
            ctx.ui
                .message("Removing temporary Docker configuration directory");
            if let Err(e) = std::fs::remove_dir_all(&d) {
                ctx.ui.error(format!(
                    "Error removing temporary Docker configuration directory: {e}"
                ));
            }
        }
        r
    }
}

impl DockerPush {
    /// `docker login` when asked, the pushes, `docker logout`, with `config_dir` as the CLI's
    /// configuration directory (else DOCKER_CONFIG's).
    async fn login_and_push(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
        store: kiln_oci::store::Store,
        config_dir: Option<&std::path::Path>,
    ) -> Result<PostProcessed, PostProcessError> {
        let Some((server, user, pass)) = self.login.clone() else {
            return self.push(ctx, input, store).await;
        };
        // Without login_server, Kiln logs in to the image's registry (the CLI: Docker Hub).
        let server = server.unwrap_or_else(|| {
            Reference::parse(&input.id)
                .map(|r| r.registry)
                .unwrap_or_default()
        });
        let Some(dir) = docker_login::config_dir(config_dir) else {
            return Err(anyhow::anyhow!(
                "Error logging in to Docker: no docker configuration directory (set DOCKER_CONFIG or HOME)"
            )
            .into());
        };
        ctx.ui.message("Logging in...");
        let (ui, d, s) = (ctx.ui.clone(), dir.clone(), server.clone());
        tokio::task::spawn_blocking(move || docker_login::login(&ui, &d, &s, &user, &pass))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(|e| anyhow::anyhow!("Error logging in to Docker: {e}"))?;
        let r = self.push(ctx, input, store).await;
        ctx.ui.message("Logging out...");
        let ui = ctx.ui.clone();
        let logged_out =
            tokio::task::spawn_blocking(move || docker_login::logout(&ui, &dir, &server)).await;
        if let Ok(Err(e)) = logged_out {
            ctx.ui.error(format!("Error logging out: {e}"));
        }
        r
    }

    async fn push(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
        store: kiln_oci::store::Store,
    ) -> Result<PostProcessed, PostProcessError> {
        // As the plugin: the artifact's id, then each of its tags (the last tag is often the
        // id too: it is pushed twice, the second time finding every layer there).
        let tags = docker_tags(input);
        let mut names = vec![input.id.clone()];
        names.extend(tags.iter().cloned());
        let login = self.login.clone();
        let configs = self.docker_configs.clone();
        let ui = ctx.ui.clone();
        let pushed =
            tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(String, String)>> {
                let mut out = vec![];
                for n in &names {
                    let r = Reference::parse(n)?;
                    let stored = r.to_string();
                    let digest = push_image(&store, &stored, n, &r, login.as_ref(), &configs, &ui)?;
                    out.push((n.clone(), digest));
                }
                Ok(out)
            })
            .await?
            .map_err(|e| match e.downcast_ref::<PushFailed>() {
                // As the plugin reports a failed `docker push`: by its exit status.
                Some(_) => anyhow::anyhow!(docker_login::BAD_EXIT),
                None => e,
            })?;
        let digest = pushed.first().map(|(_, d)| d.clone()).unwrap_or_default();
        let mut state = input.state.clone();
        state.insert("digest".into(), serde_json::json!(digest));
        state.insert("docker_tags".into(), serde_json::json!(tags));
        let description = if tags.is_empty() {
            format!("Imported Docker image: {}", input.id)
        } else {
            format!(
                "Imported Docker image: {} with tags {}",
                input.id,
                tags.join(" ")
            )
        };
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id: input.id.clone(),
                files: vec![],
                description,
                state,
                destroyer: None,
            },
            keep: true,
            force_keep: false,
        })
    }
}
