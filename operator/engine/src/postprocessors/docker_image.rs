//! What the docker components share: the image an artifact of the `docker` builder or of a
//! docker post-processor names in Kiln's local image store (its state keys), the names it
//! carries, an image made of one layer `FROM scratch`, and the `login*` options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kiln_oci::Reference;
use kiln_oci::diff::NewLayer;
use kiln_oci::image::{self, CommitOptions, Committed};
use kiln_oci::registry::{Client, ClientOptions};
use kiln_oci::store::{Platform, Store};

use crate::artifact::Artifact;
use crate::builders::docker::{STATE_NAME, STATE_STORE};
use crate::postprocessors::PostProcessError;
use crate::template::ConfigReader;
use crate::ui::Ui;

/// The store and image name an artifact from the docker builder or post-processors carries.
pub fn image_of(input: &Artifact, kind: &str) -> Result<(Store, String), PostProcessError> {
    let (Some(store), Some(name)) = (
        input.state.get(STATE_STORE).and_then(|v| v.as_str()),
        input.state.get(STATE_NAME).and_then(|v| v.as_str()),
    ) else {
        return Err(PostProcessError::unknown_artifact(
            &input.builder_id,
            format!("Can only {kind} Docker builder artifacts."),
        ));
    };
    Ok((Store::open(store)?, name.to_string()))
}

/// The artifact state naming the image `name` of the store at `store`.
pub fn image_state(store: &Path, name: &str) -> BTreeMap<String, serde_json::Value> {
    BTreeMap::from([
        (
            STATE_STORE.to_string(),
            serde_json::json!(store.display().to_string()),
        ),
        (STATE_NAME.to_string(), serde_json::json!(name)),
    ])
}

/// The names `docker-tag` gave the image (its `docker_tags`, as written).
pub fn docker_tags(input: &Artifact) -> Vec<String> {
    input
        .state
        .get("docker_tags")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The names `docker-tag` gave the image ([`docker_tags`]), else `name`.
pub fn tags_of(input: &Artifact, name: &str) -> Vec<String> {
    let tags = docker_tags(input);
    if tags.is_empty() {
        vec![name.to_string()]
    } else {
        tags
    }
}

/// Commits `layer` as the only layer of an image `FROM scratch` (an empty config) for
/// `platform`, named `name` in `store`.
pub fn commit_on_scratch(
    store: &Store,
    platform: &Platform,
    layer: &NewLayer,
    opts: &CommitOptions,
    name: &str,
) -> kiln_oci::Result<Committed> {
    let base = image::scratch(platform, serde_json::json!({}));
    image::commit(store, &base, layer, opts, name)
}

/// `ecr_login` and the `aws_*` options only an ECR login uses (the plugin's
/// `AwsAccessConfig`), decoded; whether an ECR login is asked for.
pub fn read_ecr_login(r: &mut ConfigReader) -> bool {
    let ecr_login = r.bool("ecr_login").unwrap_or(false);
    for k in [
        "aws_access_key",
        "aws_secret_key",
        "aws_token",
        "aws_profile",
    ] {
        let _ = r.string(k);
    }
    let _ = r.bool("aws_force_use_public_ecr");
    ecr_login
}

/// `login`, `login_server`, `login_username` and `login_password`, as Packer's docker
/// components read them: with `login = true`, the server (when set) and the credentials;
/// `login` without a username and a password is one of Kiln's own checks (the plugin
/// finds it when it logs in).
pub fn read_login(r: &mut ConfigReader, what: &str) -> Option<(Option<String>, String, String)> {
    let enabled = r.bool("login").unwrap_or(false);
    let server = r.string("login_server").filter(|s| !s.is_empty());
    let user = r.string("login_username");
    let pass = r.string("login_password");
    if !enabled {
        return None;
    }
    match (user, pass) {
        (Some(u), Some(p)) => Some((server, u, p)),
        _ => {
            r.check_error(
                &format!("Invalid {what} config"),
                "login requires login_username and login_password.",
            );
            None
        }
    }
}

/// The `login*` options as [`read_login`] gives them: server (when set), user, password.
pub type Login = (Option<String>, String, String);

/// Pushes the image `name` of `store` to `r`, with the `login*` credentials (for the
/// reference's registry unless `login_server` is set) before the run's docker config files,
/// saying what it does as Packer's post-processors and `docker push` do (`shown`: the name
/// as the template gave it); returns the pushed manifest's digest.
pub fn push_image(
    store: &Store,
    name: &str,
    shown: &str,
    r: &Reference,
    login: Option<&Login>,
    docker_configs: &[PathBuf],
    ui: &Ui,
) -> anyhow::Result<String> {
    let creds = crate::builders::docker::credentials(
        login.map(|(server, u, p)| {
            (
                server.as_deref().unwrap_or(&r.registry),
                u.as_str(),
                p.as_str(),
            )
        }),
        docker_configs,
    )?;
    let client = Client::new(ClientOptions {
        credentials: creds,
        ..Default::default()
    })?;
    ui.say(format!("Pushing: {shown}"));
    let img = store.image(name)?;
    let p = match client.push(store, name, r) {
        Ok(p) => p,
        Err(e) => {
            // What `docker push` printed before it gave up: the repository, each layer
            // being prepared, and the daemon's reason.
            ui.message(format!("The push refers to repository [{}]", r.name()));
            for id in layer_ids(&img).iter().rev() {
                ui.message(format!("{id}: Preparing"));
            }
            let why = match &e {
                kiln_oci::Error::Status {
                    status: 401,
                    detail,
                    ..
                } if detail.contains("none is configured") => "no basic auth credentials".into(),
                other => other.to_string(),
            };
            ui.message(why);
            return Err(PushFailed(e.to_string()).into());
        }
    };
    for l in push_lines(r, &img, &p) {
        ui.message(l);
    }
    Ok(p.manifest_digest.to_string())
}

/// A push the registry refused, said as `docker push` says it (the error [`push_image`]
/// returns then, with Kiln's account of it; `docker-push` reports it as the plugin does, by
/// `docker push`'s exit status).
#[derive(Debug)]
pub struct PushFailed(pub String);

impl std::fmt::Display for PushFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PushFailed {}

/// The image's layers as `docker push` names them (the first 12 hex digits of each diff id,
/// else of the blob's digest), bottom layer first.
fn layer_ids(img: &kiln_oci::store::StoredImage) -> Vec<String> {
    let diff_ids: Vec<String> = img.config["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(|d| d.rsplit(':').next().unwrap_or(d).chars().take(12).collect())
                .collect()
        })
        .unwrap_or_default();
    img.manifest
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            diff_ids
                .get(i)
                .cloned()
                .unwrap_or_else(|| l.digest.hex().chars().take(12).collect())
        })
        .collect()
}

/// What `docker push` prints off a terminal for the push Kiln made (Packer's post-processors
/// stream it): the repository, each layer from the top one down by its diff id (waiting
/// beyond Docker's five concurrent uploads), how it got there, the tag's digest and size.
fn push_lines(
    r: &Reference,
    img: &kiln_oci::store::StoredImage,
    p: &kiln_oci::registry::Pushed,
) -> Vec<String> {
    use kiln_oci::registry::BlobPush;
    let mut out = vec![format!("The push refers to repository [{}]", r.name())];
    let ids = layer_ids(img);
    let layers: Vec<(String, String)> = img
        .manifest
        .layers
        .iter()
        .zip(ids)
        .rev()
        .map(|(l, id)| {
            let how = match p.blobs.iter().find(|(d, _)| *d == l.digest).map(|(_, h)| h) {
                Some(BlobPush::Exists) | None => "Layer already exists".to_string(),
                Some(BlobPush::Mounted(from)) => format!("Mounted from {from}"),
                Some(BlobPush::Uploaded) => "Pushed".to_string(),
            };
            (id, how)
        })
        .collect();
    for (id, _) in &layers {
        out.push(format!("{id}: Preparing"));
    }
    for (id, _) in layers.iter().skip(5) {
        out.push(format!("{id}: Waiting"));
    }
    // Docker says each layer done when its (concurrent) work ends: the ones with nothing to
    // upload first, from the bottom layer up, then the uploads.
    let quick = |how: &str| how != "Pushed";
    for (id, how) in layers.iter().rev().filter(|(_, h)| quick(h)) {
        out.push(format!("{id}: {how}"));
    }
    for (id, how) in layers.iter().rev().filter(|(_, h)| !quick(h)) {
        out.push(format!("{id}: {how}"));
    }
    let what = r
        .tag
        .clone()
        .unwrap_or_else(|| p.manifest_digest.to_string());
    out.push(format!(
        "{what}: digest: {} size: {}",
        p.manifest_digest, p.manifest_size
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn login_options_as_packer_reads_them() {
        let on = "login = true\nlogin_server = \"r.example\"\nlogin_username = \"u\"\nlogin_password = \"p\"\n";
        assert_eq!(
            decode_hcl(on, |r| read_login(r, "docker-push")).unwrap(),
            Some((Some("r.example".into()), "u".into(), "p".into()))
        );
        // Without `login`, the other options are read (no "unsupported argument") and unused.
        let off = "login_username = \"u\"\nlogin_password = \"p\"\n";
        assert_eq!(
            decode_hcl(off, |r| read_login(r, "docker-push")).unwrap(),
            None
        );
        let e = decode_hcl("login = true\nlogin_username = \"u\"\n", |r| {
            read_login(r, "containerdisk")
        })
        .unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("Invalid containerdisk config")
                && e[0].contains("login requires login_username and login_password."),
            "{e:?}"
        );
    }
}
