//! `containerdisk` (Kiln only): packages a VM disk as a KubeVirt `containerDisk` — an OCI
//! image `FROM scratch` with one layer holding the disk at `/disk/<name>`, owned by UID/GID
//! 107 (the `qemu` user of KubeVirt's launcher) with mode 0440 — in Kiln's local image store,
//! then pushes it (the `docker` builder's OCI code: blobs the registry has are skipped).
//!
//! Options: `image` (the reference to push, required), `disk` (which file of the input
//! artifact; default the qemu artifact's main disk, or the artifact's only file), `push`
//! (default true), `login`, `login_server`, `login_username`, `login_password`, `platform`.
//! Credentials as `docker-push`'s: `login*`, then the run's docker configs (in the cluster,
//! the build's `spec.runner.registrySecrets`), then `~/.docker/config.json`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kiln_oci::Reference;
use kiln_oci::diff::{self, LayerOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::store::{Platform, Store};

use crate::artifact::Artifact;
use crate::builders::docker::default_store;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::docker_image::{commit_on_scratch, image_state, push_image, read_login};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "kiln.post-processor.containerdisk";
/// KubeVirt's `qemu` user and group.
pub const DISK_OWNER: u64 = 107;
pub const DISK_MODE: u32 = 0o440;

pub struct ContainerDisk {
    reference: Reference,
    disk: Option<String>,
    push: bool,
    login: Option<(Option<String>, String, String)>,
    platform: Platform,
    store: PathBuf,
    /// The run's docker config files (registry Secrets in the cluster), read after `login*`
    /// and before `~/.docker/config.json`, as `docker-push` does.
    docker_configs: Vec<PathBuf>,
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let image = r.required_string("image");
    let reference = image.as_deref().and_then(|i| match Reference::parse(i) {
        Ok(x) => Some(x),
        Err(e) => {
            r.error_at("image", "Invalid image reference", e.to_string());
            None
        }
    });
    let disk = r.string("disk").filter(|d| !d.is_empty());
    let push = r.bool("push").unwrap_or(true);
    let platform = match r.string("platform") {
        Some(p) => Platform::parse(&p)
            .map_err(|e| r.error_at("platform", "Invalid platform", e.to_string()))
            .unwrap_or_else(|_| Platform::host()),
        None => Platform::host(),
    };
    let login = read_login(r, "containerdisk");
    Some(Box::new(ContainerDisk {
        reference: reference?,
        disk,
        push,
        login,
        platform,
        store: default_store(&info.env.work_dir),
        docker_configs: info.env.docker_configs.clone(),
    }))
}

/// The disk of the input artifact: the named one, the qemu artifact's main disk
/// (`diskPaths[0]`), or its only file.
pub fn pick_disk(input: &Artifact, named: Option<&str>) -> anyhow::Result<PathBuf> {
    if let Some(n) = named {
        return input
            .files
            .iter()
            .find(|f| f.to_string_lossy() == n || f.file_name().is_some_and(|b| b == n))
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "disk {n:?} is not a file of the artifact ({})",
                    input
                        .files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
    }
    if let Some(main) = input
        .state
        .get("diskPaths")
        .and_then(|v| v.as_array())
        .and_then(|a| a.first())
        .and_then(|v| v.as_str())
    {
        let main = PathBuf::from(main);
        if let Some(f) = input
            .files
            .iter()
            .find(|f| **f == main || f.ends_with(&main))
        {
            return Ok(f.clone());
        }
    }
    match input.files.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("the input artifact ({}) has no file", input.builder_id),
        many => anyhow::bail!(
            "the input artifact has {} files: set disk to the one to package",
            many.len()
        ),
    }
}

/// The layer's tar: `disk/` and `disk/<name>`, owned by 107:107, streamed from `disk`.
pub fn write_disk_tar(disk: &Path, out: impl std::io::Write, epoch: i64) -> anyhow::Result<()> {
    let name = disk
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} has no file name", disk.display()))?
        .to_string_lossy()
        .to_string();
    let f = std::fs::File::open(disk).map_err(|e| anyhow::anyhow!("{}: {e}", disk.display()))?;
    let size = f.metadata()?.len();
    let mut b = tar::Builder::new(out);
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_path("disk/")?;
    dir.set_mode(0o555);
    dir.set_uid(DISK_OWNER);
    dir.set_gid(DISK_OWNER);
    dir.set_mtime(epoch.max(0) as u64);
    dir.set_size(0);
    dir.set_cksum();
    b.append(&dir, std::io::empty())?;
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_path(format!("disk/{name}"))?;
    h.set_mode(DISK_MODE);
    h.set_uid(DISK_OWNER);
    h.set_gid(DISK_OWNER);
    h.set_mtime(epoch.max(0) as u64);
    h.set_size(size);
    h.set_cksum();
    b.append(&h, std::io::BufReader::with_capacity(1 << 20, f))?;
    b.into_inner()?.flush()?;
    Ok(())
}

#[async_trait]
impl PostProcessor for ContainerDisk {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        let disk = pick_disk(input, self.disk.as_deref())?;
        let name = self.reference.to_string();
        ctx.ui.say(format!(
            "Packaging {} as containerDisk {name}",
            disk.display()
        ));
        let (store_path, platform, n2, d2) = (
            self.store.clone(),
            self.platform.clone(),
            name.clone(),
            disk.clone(),
        );
        let committed = tokio::task::spawn_blocking(move || -> anyhow::Result<image::Committed> {
            let store = Store::open(&store_path)?;
            let epoch = kiln_oci::source_date_epoch()?;
            // The tar is streamed through a pipe: no second copy of the disk on disk.
            let (reader, writer) = std::io::pipe()?;
            let writer_thread = std::thread::spawn(move || write_disk_tar(&d2, writer, epoch));
            let layer = diff::layer_from_tar(
                &store,
                reader,
                &LayerOptions {
                    epoch,
                    ..Default::default()
                },
            );
            let written = writer_thread
                .join()
                .map_err(|_| anyhow::anyhow!("the disk tar writer panicked"))?;
            written?;
            let layer = layer?;
            Ok(commit_on_scratch(
                &store,
                &platform,
                &layer,
                &CommitOptions {
                    epoch,
                    created_by: Some("containerdisk (kiln)".into()),
                    ..Default::default()
                },
                &n2,
            )?)
        })
        .await??;
        let mut state = image_state(&self.store, &name);
        state.insert("image".into(), serde_json::json!(name));
        state.insert(
            "config_digest".into(),
            serde_json::json!(committed.config_digest.to_string()),
        );
        let mut description = format!("containerDisk image {name} (in the local store)");
        if self.push {
            let (store_path, n3, r) = (self.store.clone(), name.clone(), self.reference.clone());
            let login = self.login.clone();
            let configs = self.docker_configs.clone();
            let ui = ctx.ui.clone();
            let digest = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
                let store = Store::open(&store_path)?;
                push_image(&store, &n3, &n3, &r, login.as_ref(), &configs, &ui)
            })
            .await??;
            description = format!("containerDisk image {name}@{digest}");
            state.insert("digest".into(), serde_json::json!(digest));
        }
        Ok(PostProcessed {
            artifact: Artifact {
                builder_id: BUILDER_ID.into(),
                id: name,
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
