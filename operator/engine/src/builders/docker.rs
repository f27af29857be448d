//! The `docker` builder, without a Docker daemon (see docs/docker.md): pull the image into
//! Kiln's local OCI image store, unpack it into a directory, run the provisioners in it
//! through runc/crun (the `docker` communicator), then commit what changed as one new
//! layer, export the file system as a tar, or discard it.
//!
//! Options and defaults are Packer's docker plugin's: `image`, `pull` (true unless set),
//! `platform`, exactly one of `commit` | `discard` | `export_path`, `changes`, `message`,
//! `author`, `volumes`, `container_dir` (`/packer-files`), `exec_user`, `fix_upload_owner`
//! (unset: false in HCL2, true in legacy JSON, as Packer's SDK decodes it), `tmpfs` and
//! `device` (see `docker_mounts`), `login*`, `privileged`, `cap_add`, `cap_drop`, `runtime`, `run_command` (its
//! container-shaping flags applied to the runc container, see `parse_run_command`), a
//! `build` section (see `dockerfile`). Options that only mean something to dockerd validate
//! as the plugin has them (`docker_path`, `pty`, `aws_*` change nothing); those Kiln cannot
//! honour (`ecr_login`, `windows_container`, a `run_command` flag it does
//! not know) fail the build at its first step, naming the option (Kiln's own checks,
//! deferred: see `registry::OwnChecks`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kiln_oci::Reference;
use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::registry::{Client, ClientOptions};
use kiln_oci::runtime::{self, BindMount};
use kiln_oci::store::{Platform, Store, StoredImage};
use kiln_oci::unpack::{self, UnpackOptions};

use crate::artifact::Artifact;
use crate::builders::common::{StepConnect, StepProvision};
use crate::builders::docker_mounts;
use crate::communicator::config::CommConfig;
use crate::communicator::docker::DockerComm;
use crate::components::{BuildState, Builder, ComponentInfo, Step, StepAction};
use crate::postprocessors::docker_image::{image_state, read_ecr_login};
use crate::postprocessors::docker_login;
use crate::template::ConfigReader;
use crate::value::Value;

/// Packer's ids: a committed image is an "import" artifact, an export a file artifact.
pub const BUILDER_ID: &str = "packer.docker";
pub const BUILDER_ID_IMPORT: &str = "packer.post-processor.docker-import";

/// Kills and deletes the containers and removes the directories that killed Kiln runs left
/// under a scratch directory (their journals say whose they were), and the shared
/// directories their sidecar files (`kiln-docker-*.shared`) name; `kiln build` calls it
/// first, every docker build again before it starts.
pub fn reap_stale(dir: &Path) -> Vec<PathBuf> {
    let mut removed = runtime::reap_stale(dir);
    // A sidecar whose run directory is gone (reaped now, or by an earlier run): its shared
    // directory goes too.
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            let Some(run) = name.strip_suffix(SHARED_SIDECAR) else {
                continue;
            };
            if !name.starts_with("kiln-docker-") || dir.join(run).exists() {
                continue;
            }
            if let Ok(shared) = std::fs::read_to_string(&p) {
                let shared = PathBuf::from(shared.trim_end());
                if std::fs::remove_dir_all(&shared).is_ok() {
                    removed.push(shared);
                }
            }
            let _ = std::fs::remove_file(&p);
        }
    }
    removed
}

/// The suffix of the file beside a run directory naming its shared directory (outside the
/// scratch directory, where Packer makes it).
const SHARED_SIDECAR: &str = ".shared";

/// `image = "scratch"`: Docker's reserved name for the empty image (`FROM scratch`), which
/// `docker pull` refuses. Kiln starts from an empty root filesystem with an empty config
/// (a Kiln extension: a base made with no registry and no network).
pub const SCRATCH: &str = "scratch";

/// Artifact state keys naming where the image is (read by the docker post-processors).
pub const STATE_STORE: &str = "kiln_oci_store";
pub const STATE_NAME: &str = "kiln_oci_name";

#[derive(Clone, Debug)]
enum Output {
    Commit,
    Discard,
    Export(PathBuf),
}

#[derive(Clone, Debug)]
pub struct DockerConfig {
    image: String,
    pull: bool,
    platform: Platform,
    /// `platform` as given (Packer passes it to `docker pull` and `docker run` when set).
    platform_raw: Option<String>,
    /// `docker_path` (default `docker`), as the run command line Packer shows names it.
    docker_path: String,
    output: Output,
    changes: Vec<String>,
    message: Option<String>,
    author: Option<String>,
    volumes: Vec<(PathBuf, String)>,
    container_dir: String,
    exec_user: Option<String>,
    fix_upload_owner: bool,
    login: Option<(String, String, String)>,
    privileged: bool,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    runtime: Option<String>,
    store: PathBuf,
    work_dir: PathBuf,
    /// `RunEnv::image_root`: provision this root filesystem in place (the kaniko pattern).
    image_root: Option<PathBuf>,
    docker_configs: Vec<PathBuf>,
    /// The `build` section: a Dockerfile to build the base image from.
    bootstrap: Option<Bootstrap>,
    /// `run_command` as given (`{{.Image}}` rendered when the container starts).
    run_command: Vec<String>,
    /// Its flags, read once when the config is decoded (an error is reported then).
    run_args: RunArgs,
    /// `device` and `tmpfs`, as given (`docker run --device`/`--tmpfs`).
    device: Vec<String>,
    tmpfs: Vec<String>,
}

/// A `build` section the plugin would run `docker build` for.
#[derive(Clone, Debug)]
struct Bootstrap {
    path: PathBuf,
    build_dir: PathBuf,
    arguments: BTreeMap<String, String>,
    pull: bool,
}

pub struct DockerBuilder {
    config: DockerConfig,
    comm: CommConfig,
}

/// Kiln's local image store: `KILN_IMAGE_STORE`, else `~/.cache/kiln/images`, else (no
/// home, as in a pod) under the run's scratch directory.
pub fn default_store(work_dir: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("KILN_IMAGE_STORE").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => PathBuf::from(h).join(".cache/kiln/images"),
        None => work_dir.join("kiln-images"),
    }
}

/// The plugin's default `run_command` (a Linux container).
const DEFAULT_RUN_COMMAND: [&str; 6] =
    ["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"];

/// A `build { … }` section (the plugin's `DockerfileBootstrapConfig`), decoded and checked
/// as its `Prepare` does: `None` when it is all defaults (the plugin then ignores it), else
/// its first error, if any.
fn dockerfile_config(
    r: &mut ConfigReader,
    b: &crate::template::RawBlock,
) -> Option<(Option<String>, Bootstrap)> {
    let mut nr = r.nested(b);
    let path = nr.string("path").unwrap_or_default();
    let build_dir = nr.string("build_dir").unwrap_or_default();
    let arguments = nr.string_map("arguments").unwrap_or_default();
    let pull = nr.trilean("pull");
    let compress = nr.bool("compress").unwrap_or(false);
    r.finish_nested(nr);
    if path.is_empty()
        && build_dir.is_empty()
        && arguments.is_empty()
        && pull.is_none()
        && !compress
    {
        return None;
    }
    let stat = |p: &str| {
        std::fs::metadata(p).map_err(|e| crate::goerr::path_error("stat", Path::new(p), &e))
    };
    let error = if path.is_empty() {
        Some("`path` is required for bootstrapping a build with `docker build`".to_string())
    } else {
        let dir = if build_dir.is_empty() {
            "."
        } else {
            build_dir.as_str()
        };
        match stat(&path) {
            Err(e) => Some(format!("failed to stat file {path:?}: {e}")),
            Ok(m) if !m.is_file() => Some(format!("dockerfile {path:?} is not a regular file")),
            Ok(_) => match stat(dir) {
                Err(e) => Some(format!("failed to stat build directory {dir:?}: {e}")),
                Ok(m) if !m.is_dir() => {
                    Some(format!("specified build_dir {dir:?} is not a directory"))
                }
                Ok(_) => None,
            },
        }
    };
    let dir = if build_dir.is_empty() {
        "."
    } else {
        build_dir.as_str()
    };
    Some((
        error,
        Bootstrap {
            path: std::path::absolute(&path).unwrap_or_else(|_| PathBuf::from(&path)),
            build_dir: PathBuf::from(dir),
            arguments,
            pull: pull != Some(false),
        },
    ))
}

pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    // Packer's docker builder renders `run_command` when it starts the container.
    r.render_later(&["run_command"]);
    // Options that only mean something to dockerd: accepted as the plugin does, refused
    // when the build runs (Kiln's own checks, deferred) when set to more than their default.
    // `docker run`'s arguments: those that shape the container Kiln makes with runc (its
    // environment, user, working directory, mounts, privileges) are honoured, those that
    // only matter to a daemon ignored, others refused.
    let run_command = r.strings("run_command").unwrap_or_default();
    // `docker run --device`/`--tmpfs` (checked as docker checks them when the build runs)
    let device = r.strings("device").unwrap_or_default();
    let tmpfs = r.strings("tmpfs").unwrap_or_default();
    // (`docker_path`: Kiln needs no docker CLI; the build output names it as Packer's does.)
    let docker_path = r
        .string("docker_path")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "docker".into());
    let windows = r.bool("windows_container").unwrap_or(false);
    if windows {
        r.check_error_at(
            "windows_container",
            "Unsupported docker option",
            "windows_container: Windows containers cannot run without Docker on Windows.",
        );
    }
    let ecr_login = read_ecr_login(r);
    if ecr_login {
        r.check_error_at(
            "ecr_login",
            "Unsupported docker option",
            "ecr_login: ECR login is not supported yet; put the registry's credentials in ~/.docker/config.json.",
        );
    }
    // (`pty`: Kiln's commands run without a terminal; accepted as the plugin does.)
    let _ = r.bool("pty");
    // The plugin's `Prepare`, in its words and order (packer-plugin-docker v1.1.2,
    // builder/docker/config.go): the image or a build section, the communicator, the
    // artifact's handling, the export path, the ECR login server.
    let build_blocks = r.blocks("build");
    let bootstrap = build_blocks.first().and_then(|b| dockerfile_config(r, b));
    let image = r.string("image").filter(|s| !s.is_empty());
    let run_args = parse_run_command(&run_command, image.as_deref().unwrap_or("{{.Image}}"))
        .unwrap_or_else(|e| {
            r.check_error_at(
                "run_command",
                "Unsupported docker option",
                format!("run_command: {e}"),
            );
            RunArgs::default()
        });
    let pull_set = r.bool("pull");
    match (&bootstrap, &image) {
        (Some((error, _)), _) => {
            if let Some(e) = error {
                r.prepare_error(e.clone());
            }
            if image.is_some() {
                r.prepare_error("`image` cannot be specified with a build config");
            }
            if pull_set == Some(true) {
                r.prepare_warning(
                    "when running a bootstrap build, the `pull` option is ignored and is replaced by `build.pull` (true by default)",
                );
            }
            if info.env.in_cluster {
                r.check_error(
                    "Unsupported in the cluster",
                    "build: a runner pod runs in its docker source's base image, which a Dockerfile would make; build the base image first (its reference goes in `image`), or build locally with `kiln build`.",
                );
            }
        }
        (None, None) => r.prepare_error(
            "missing 'image' attribute or 'build' section, either needs to be specified for a build to run.",
        ),
        _ => {}
    }
    let comm = CommConfig::read_with(r, "docker", &["docker"], &info.env);
    if let Some(i) = &image
        && i != SCRATCH
        && let Err(e) = Reference::parse(i)
    {
        r.check_error_at("image", "Invalid image", e.to_string());
    }
    let pull = pull_set.unwrap_or(true);
    let platform_raw = r.string("platform").filter(|p| !p.is_empty());
    let platform = match platform_raw.clone() {
        Some(p) => match Platform::parse(&p) {
            Ok(p) => p,
            Err(e) => {
                r.check_error_at("platform", "Invalid platform", e.to_string());
                Platform::host()
            }
        },
        None => Platform::host(),
    };
    let commit = r.bool("commit").unwrap_or(false);
    let discard = r.bool("discard").unwrap_or(false);
    let export_path = r.string("export_path").filter(|s| !s.is_empty());
    let used = usize::from(commit) + usize::from(discard) + usize::from(export_path.is_some());
    if used > 1 {
        r.prepare_error("Cannot specify more than one of commit, discard, and export_path");
    }
    if used == 0 {
        r.prepare_error(
            "No instructions given for handling the artifact; expected commit, discard, or export_path",
        );
    }
    if let Some(p) = &export_path
        && Path::new(p).is_dir()
    {
        r.prepare_error("export_path must be a file, not a directory");
    }
    let login_enabled = r.bool("login").unwrap_or(false);
    let login_server = r.string("login_server").filter(|s| !s.is_empty());
    let login_user = r.string("login_username");
    let login_pass = r.string("login_password");
    if ecr_login && login_server.is_none() {
        r.prepare_error("ECR login requires login server to be provided.");
    }
    // (a line the daemon would refuse fails the commit step, as `docker commit --change`
    // does; without commit the plugin never uses them)
    let changes = r.strings("changes").unwrap_or_default();
    let message = r.string("message");
    let author = r.string("author");
    let volumes: Vec<(PathBuf, String)> = r
        .string_map("volumes")
        .unwrap_or_default()
        .into_iter()
        .map(|(h, c)| (PathBuf::from(h), c))
        .collect();
    for (_, c) in &volumes {
        if !c.starts_with('/') {
            r.check_error_at(
                "volumes",
                "Invalid volumes",
                format!("container path {c:?} must be absolute."),
            );
        }
    }
    let container_dir = r
        .string("container_dir")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/packer-files".into());
    let exec_user = r.string("exec_user").filter(|s| !s.is_empty());
    // The plugin sets `FixUploadOwner = true` before decoding; from an HCL2 template the
    // SDK's decode overwrites it with the unset option (false), from a legacy JSON one it
    // stays (checked against Packer: docker-diff `upload-owner`, `upload-owner-json`).
    let fix_upload_owner = r.bool("fix_upload_owner").unwrap_or(r.is_legacy());
    let login = match (login_enabled, login_user, login_pass) {
        (false, _, _) => None,
        (true, Some(u), Some(p)) => {
            let server = login_server.unwrap_or_else(|| {
                image
                    .as_deref()
                    .and_then(|i| Reference::parse(i).ok())
                    .map(|r| r.registry)
                    .unwrap_or_default()
            });
            Some((server, u, p))
        }
        (true, _, _) => {
            r.check_error(
                "Invalid docker config",
                "login requires login_username and login_password.",
            );
            None
        }
    };
    let privileged = r.bool("privileged").unwrap_or(false);
    let cap_add = r.strings("cap_add").unwrap_or_default();
    let cap_drop = r.strings("cap_drop").unwrap_or_default();
    let runtime_name = r.string("runtime").filter(|s| !s.is_empty());
    if let Some(rt) = &runtime_name
        && !["runc", "crun"].contains(&rt.as_str())
    {
        r.check_error_at(
            "runtime",
            "Unsupported docker option",
            format!("runtime {rt:?}: Kiln runs containers with runc or crun."),
        );
    }
    if info.env.in_cluster && info.env.image_root.is_none() && image.as_deref() == Some(SCRATCH) {
        r.check_error_at(
            "image",
            "Unsupported in the cluster",
            "image = \"scratch\": a runner pod runs in its docker source's base image, and scratch is no image to run in; build it locally with `kiln build`.",
        );
    }
    if info.env.in_cluster && info.env.image_root.is_none() {
        for (key, set, what) in [
            ("tmpfs", !tmpfs.is_empty(), "a tmpfs mount"),
            ("device", !device.is_empty(), "a host device"),
        ] {
            if set {
                r.check_error_at(
                    key,
                    "Unsupported in the cluster",
                    format!("{key}: a runner pod runs its build in its base image, with no container runtime to give it {what}; build it locally with `kiln build`."),
                );
            }
        }
    }
    let work_dir = info.env.work_dir.clone();
    let output = match (commit, discard, export_path) {
        (_, _, Some(p)) => Output::Export(PathBuf::from(p)),
        (_, true, _) => Output::Discard,
        _ => Output::Commit,
    };
    Some(Box::new(DockerBuilder {
        config: DockerConfig {
            image: if bootstrap.is_some() {
                image.unwrap_or_default()
            } else {
                image?
            },
            pull,
            platform,
            platform_raw,
            docker_path,
            output,
            changes,
            message,
            author,
            volumes,
            container_dir,
            exec_user,
            fix_upload_owner,
            login,
            privileged,
            cap_add,
            cap_drop,
            runtime: runtime_name,
            store: default_store(&work_dir),
            work_dir,
            image_root: info.env.image_root.clone(),
            docker_configs: info.env.docker_configs.clone(),
            bootstrap: bootstrap.map(|(_, b)| b),
            run_command,
            run_args,
            device,
            tmpfs,
        },
        comm,
    }))
}

/// What the steps share (private build state).
#[derive(Default)]
struct DockerState {
    /// The tmpfs file systems of `tmpfs`, mounted in `tmp` (unmounted first: fields drop in
    /// order).
    host_tmpfs: Vec<runtime::HostTmpfs>,
    tmp: Option<tempfile::TempDir>,
    rootfs: PathBuf,
    base: Option<StoredImage>,
    before: Option<diff::Snapshot>,
    exclude: Vec<PathBuf>,
    keep: Vec<PathBuf>,
    artifact: Option<Artifact>,
    /// `container_dir` made in an image root provisioned in place (removed at cleanup).
    created_dir: Option<PathBuf>,
    /// The container's id (Docker's form: 64 hex digits), `build.ID`.
    container_id: String,
    /// The host side of `container_dir`, where Packer makes it (removed at cleanup), and
    /// the sidecar file naming it.
    shared_dir: Option<(PathBuf, PathBuf)>,
    /// The image the `build` section made (its id, its name in the store).
    bootstrapped: Option<String>,
}

/// What a snapshot of an image root provisioned in place leaves out: every mount point
/// under it (in a pod: `/proc`, `/dev`, `/sys`, the service account token, `/etc/hosts`,
/// `/etc/resolv.conf`, the emptyDirs, the injected Kiln), the scratch directory and the
/// image store; and `container_dir` (relative), which the snapshots record but do not
/// descend into (the runc build's mount point: an empty directory in the commit).
fn in_place_exclude(
    root: &Path,
    c: &DockerConfig,
    tmp: &Path,
) -> anyhow::Result<(Vec<PathBuf>, PathBuf)> {
    let root = std::fs::canonicalize(root)
        .map_err(|e| anyhow::anyhow!("image root {}: {e}", root.display()))?;
    let mut ex = runtime::mount_points_under(&root)?;
    let rel = |p: &Path| -> Option<PathBuf> {
        let p = std::fs::canonicalize(p).ok()?;
        p.strip_prefix(&root)
            .ok()
            .filter(|r| !r.as_os_str().is_empty())
            .map(Path::to_path_buf)
    };
    for p in [c.work_dir.as_path(), c.store.as_path(), tmp] {
        if let Some(r) = rel(p) {
            ex.push(r);
        }
    }
    // a path is left out when it or a parent is listed
    let mut out: Vec<PathBuf> = vec![];
    ex.sort();
    for p in ex {
        if !out.iter().any(|o| p.starts_with(o)) {
            out.push(p);
        }
    }
    Ok((out, PathBuf::from(c.container_dir.trim_start_matches('/'))))
}

/// Makes `container_dir` in an image root provisioned in place, after the "before"
/// snapshot (as the runc build's mount point); returns it when made here, to be removed
/// at cleanup.
fn make_container_dir(root: &Path, cd: &Path) -> anyhow::Result<Option<PathBuf>> {
    if cd.as_os_str().is_empty() {
        return Ok(None);
    }
    let host = root.join(cd);
    if std::fs::symlink_metadata(&host).is_ok() {
        return Ok(None);
    }
    std::fs::create_dir_all(&host)
        .map_err(|e| anyhow::anyhow!("container_dir {}: {e}", host.display()))?;
    Ok(Some(host))
}

/// Registry credentials in Packer's order: `login_*` first, then the run's docker configs
/// (`RunEnv::docker_configs`: registry Secrets in the cluster), then `~/.docker/config.json`
/// (`$DOCKER_CONFIG`). The first entry for a registry wins.
pub fn credentials(
    login: Option<(&str, &str, &str)>,
    docker_configs: &[PathBuf],
) -> anyhow::Result<kiln_oci::auth::Credentials> {
    let mut creds = kiln_oci::auth::Credentials::new();
    if let Some((server, u, p)) = login {
        creds.add_basic(server, u, p);
    }
    for f in docker_configs {
        creds.add_docker_config_file(f)?;
    }
    if let Some(path) = kiln_oci::auth::Credentials::default_config_path() {
        creds.add_docker_config_file(&path)?;
    }
    Ok(creds)
}

fn client_options(c: &DockerConfig) -> anyhow::Result<ClientOptions> {
    let login = c
        .login
        .as_ref()
        .map(|(s, u, p)| (s.as_str(), u.as_str(), p.as_str()));
    Ok(ClientOptions {
        credentials: credentials(login, &c.docker_configs)?,
        ..Default::default()
    })
}

/// What the prepare step goes on with: the image, its repo digest and the pull's lines, and
/// the unpacking's warnings; the image unpacked into the container's root (not when it is
/// provisioned in place).
type Prepared = (StoredImage, Option<String>, Vec<String>, Vec<String>);

fn unpack_for_container(
    store: &Store,
    img: StoredImage,
    repo_digest: Option<String>,
    said: Vec<String>,
    c: &DockerConfig,
    rootfs: &Path,
) -> anyhow::Result<Prepared> {
    if c.image_root.is_some() {
        return Ok((img, repo_digest, said, vec![]));
    }
    let rep = unpack::unpack_layers(
        store,
        &img.manifest.layers,
        rootfs,
        &UnpackOptions::default(),
    )?;
    Ok((img, repo_digest, said, rep.warnings))
}

/// Commits what changed in `rootfs` since `before` as one layer over `base`, the image
/// named by its id (`sha256:…`, as `docker commit` without a repository names it).
pub(crate) fn commit_rootfs(
    store: &Store,
    rootfs: &Path,
    before: &diff::Snapshot,
    snapshot: SnapshotOptions,
    base: &StoredImage,
    opts: &CommitOptions,
) -> anyhow::Result<(image::Committed, String)> {
    let after = diff::snapshot(rootfs, &snapshot)?;
    let layer = diff::write_layer(
        rootfs,
        before,
        &after,
        store,
        &LayerOptions {
            epoch: opts.epoch,
            ..Default::default()
        },
    )?;
    let committed = image::commit_untagged(store, base, &layer, opts)?;
    let name = committed.config_digest.to_string();
    store.tag(&name, &committed.manifest)?;
    Ok((committed, name))
}

/// The plugin's `docker login` with the `login*` options (none: nothing), saying what it
/// does; the configuration directory and server to log out of.
async fn login(ui: &crate::ui::Ui, c: &DockerConfig) -> Result<Option<(PathBuf, String)>, String> {
    let Some((server, user, pass)) = c.login.clone() else {
        return Ok(None);
    };
    ui.message("Logging in...");
    let dir = docker_login::config_dir(None)
        .ok_or("no docker configuration directory (set DOCKER_CONFIG or HOME)")?;
    let (ui2, d, sv) = (ui.clone(), dir.clone(), server.clone());
    tokio::task::spawn_blocking(move || docker_login::login(&ui2, &d, &sv, &user, &pass))
        .await
        .map_err(|e| e.to_string())??;
    Ok(Some((dir, server)))
}

/// The plugin's deferred `docker logout` after [`login`].
async fn logout(ui: &crate::ui::Ui, logged_in: Option<(PathBuf, String)>) {
    let Some((dir, server)) = logged_in else {
        return;
    };
    ui.message("Logging out...");
    let ui2 = ui.clone();
    let out = tokio::task::spawn_blocking(move || docker_login::logout(&ui2, &dir, &server)).await;
    if let Ok(Err(e)) = out {
        ui.error(format!("Error logging out: {e}"));
    }
}

struct StepPrepare(DockerConfig);

#[async_trait]
impl Step for StepPrepare {
    fn name(&self) -> &str {
        "StepPull"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let mut c = self.0.clone();
        // what earlier runs killed with SIGKILL left behind (containers, file systems)
        let wd = c.work_dir.clone();
        if let Ok(reaped) = tokio::task::spawn_blocking(move || reap_stale(&wd)).await {
            for d in reaped {
                state
                    .ui
                    .say(format!("Removed {} left by a killed run", d.display()));
            }
        }
        // Packer's StepTempDir, StepPull and StepRun say what they do in these words; Kiln
        // does the same work itself (a shared directory, the pull, the container).
        let in_place = c.image_root.is_some();
        if !in_place {
            state
                .ui
                .say("Creating a temporary directory for sharing data...");
        }
        let tmp = match tempfile::Builder::new()
            .prefix("kiln-docker-")
            .tempdir_in(&c.work_dir)
        {
            Ok(t) => t,
            Err(e) => {
                return state.fail(format!(
                    "temporary directory in {}: {e}",
                    c.work_dir.display()
                ));
            }
        };
        if let Err(e) = runtime::write_owner(tmp.path(), None) {
            return state.fail(e.to_string());
        }
        // the host side of container_dir, where Packer's StepTempDir makes it when it can
        // be made there (else in the scratch directory)
        let shared_dir = if in_place { None } else { packer_temp_dir() };
        // (removed at cleanup, whatever happens next; after a SIGKILL, by the next run's
        // reaping, which finds it named in the sidecar file)
        if let Some(d) = &shared_dir {
            let sidecar = sidecar_of(tmp.path());
            if let Err(e) = std::fs::write(&sidecar, d.display().to_string()) {
                let _ = std::fs::remove_dir_all(d);
                return state.fail(format!("{}: {e}", sidecar.display()));
            }
            state.private.get_or_default::<DockerState>().shared_dir = Some((d.clone(), sidecar));
        }
        let shared = shared_dir
            .clone()
            .unwrap_or_else(|| tmp.path().join("packer-files"));
        // The `build` section: the plugin's stepBuild (`docker build`, between its login and
        // logout) before its pull, which then pulls nothing.
        let mut bootstrapped = None;
        if let Some(bs) = c.bootstrap.clone() {
            state.ui.say("Building base image...");
            let logged_in = match login(&state.ui, &c).await {
                Ok(l) => l,
                Err(e) => return state.fail(format!("Error logging in: {e}")),
            };
            let client = match client_options(&c) {
                Ok(o) => o,
                Err(e) => return state.fail(format!("{e:#}")),
            };
            let store = match Store::open(&c.store) {
                Ok(s) => s,
                Err(e) => return state.fail(e.to_string()),
            };
            let built = super::dockerfile::build(super::dockerfile::Build {
                dockerfile: &bs.path,
                build_dir: &bs.build_dir,
                args: &bs.arguments,
                pull: bs.pull,
                platform: &c.platform,
                store: &store,
                client,
                work_dir: tmp.path(),
                runtime: c.runtime.clone(),
                ui: &state.ui,
                cancel: &state.cancel,
            })
            .await;
            logout(&state.ui, logged_in).await;
            match built {
                Ok(id) => {
                    state.ui.say(format!("Finished building base image {id:?}"));
                    c.image = id.clone();
                    c.pull = false;
                    state.private.get_or_default::<DockerState>().bootstrapped = Some(id.clone());
                    bootstrapped = Some(id);
                }
                Err(e) => {
                    // (the plugin records the error without saying it)
                    state.error = Some(crate::components::BuildError::Step {
                        step: state.step.clone(),
                        message: format!("docker build failed: {e:#}"),
                    });
                    return StepAction::Halt;
                }
            }
        }
        let scratch = c.image == SCRATCH;
        let reference = if scratch || bootstrapped.is_some() {
            None
        } else {
            match Reference::parse(&c.image) {
                Ok(r) => Some(r),
                Err(e) => return state.fail(e.to_string()),
            }
        };
        let ui = state.ui.clone();
        match &reference {
            None if bootstrapped.is_some() => {}
            None => ui.say(format!(
                "Starting from scratch: an empty image ({})",
                c.platform
            )),
            Some(_) if c.pull => ui.say(format!("Pulling Docker image: {}", c.image)),
            Some(_) => {}
        }
        if in_place {
            // the kaniko pattern: this process runs in the base image; nothing to unpack
            let refuse = if scratch {
                Some(
                    "image = \"scratch\": an empty image cannot be provisioned in place (the runner runs in its base image); build it locally",
                )
            } else if !c.volumes.is_empty() {
                Some(
                    "volumes: host paths cannot be mounted when the build runs in its base image (in the cluster)",
                )
            } else if !c.run_args.volumes.is_empty()
                || c.run_args.privileged
                || !c.run_args.devices.is_empty()
                || !c.run_args.tmpfs.is_empty()
            {
                Some(
                    "run_command: --volume, --device, --tmpfs and --privileged need a container runtime; the build runs in its base image (in the cluster)",
                )
            } else if !c.device.is_empty() {
                Some(
                    "device: devices cannot be added when the build runs in its base image (in the cluster)",
                )
            } else if !c.tmpfs.is_empty() {
                Some(
                    "tmpfs: tmpfs mounts need a container runtime; the build runs in its base image (in the cluster)",
                )
            } else if c.privileged {
                Some(
                    "privileged: the build runs in its base image with no container runtime (in the cluster)",
                )
            } else {
                None
            };
            if let Some(why) = refuse {
                return state.fail(why);
            }
            if !c.cap_add.is_empty() || !c.cap_drop.is_empty() {
                ui.error("cap_add/cap_drop are ignored: the build runs in its base image with the pod's capabilities");
            }
            ui.say(format!(
                "Provisioning this pod's own root filesystem {} in place (image {})",
                c.image_root.as_ref().unwrap().display(),
                c.image
            ));
        }
        let rootfs = c
            .image_root
            .clone()
            .unwrap_or_else(|| tmp.path().join("rootfs"));
        // `pull = false` and an image the store lacks: Packer's StepPull cannot inspect it
        // (two errors, the build goes on) and `docker run` pulls it, quietly unless it fails.
        let mut announced = false;
        let mut run_pulls = false;
        if let Some(r) = &reference
            && !c.pull
            && Store::open(&c.store)
                .and_then(|st| st.image(&r.to_string()))
                .is_err()
        {
            ui.error(format!(
                "Error determining source Docker image Id: Error: exit status 1\n\nStderr: Error: No such object: {}\n",
                c.image
            ));
            ui.error(
                "Error determining source Docker image digest; this image may not have been pushed yet, which means no distribution digest has been created. If you plan to call docker push later, the digest value will be stored then.",
            );
            if !in_place {
                ui.say("Starting docker container...");
                ui.message(run_command_line(&c, &shared));
                announced = true;
            }
            run_pulls = true;
        }
        // The plugin's `docker login` before its pull (and `docker logout` after it), in
        // the CLI's configuration directory.
        let logged_in = if reference.is_some() && c.pull {
            match login(&ui, &c).await {
                Ok(l) => l,
                Err(e) => return state.fail(format!("Error logging in: {e}")),
            }
        } else {
            None
        };
        let built = bootstrapped.clone();
        let (cc, r2, root2) = (c.clone(), reference.clone(), rootfs.clone());
        let work = tokio::task::spawn_blocking(
            move || -> anyhow::Result<(StoredImage, Option<String>, Vec<String>, Vec<String>)> {
                let store = Store::open(&cc.store)?;
                let Some(r2) = r2.filter(|_| built.is_none()) else {
                    if let Some(id) = &built {
                        // the image the `build` section made, unpacked below
                        let img = store.image(id)?;
                        return unpack_for_container(&store, img, None, vec![], &cc, &root2);
                    }
                    std::fs::create_dir(&root2)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", root2.display()))?;
                    return Ok((
                        image::scratch(&cc.platform, serde_json::json!({})),
                        None,
                        vec![],
                        vec![],
                    ));
                };
                let (img, repo_digest, said) = if cc.pull || run_pulls {
                    let client = Client::new(client_options(&cc)?)?;
                    let p = client
                        .pull(&r2, &store, &cc.platform)
                        .map_err(|e| PullFailed(daemon_pull_error(&r2, &e)))?;
                    let said = if run_pulls {
                        vec![]
                    } else {
                        pull_lines(&cc.image, &r2, &p)
                    };
                    (p.image, Some(p.repo_digest.to_string()), said)
                } else {
                    (
                        store
                            .image(&r2.to_string())
                            .map_err(|e| anyhow::anyhow!("{e} (pull = false)"))?,
                        None,
                        vec![],
                    )
                };
                unpack_for_container(&store, img, repo_digest, said, &cc, &root2)
            },
        )
        .await;
        let work = match work {
            Ok(Ok(x)) => Ok(x),
            // As Packer's StepPull / StepRun report a failed `docker pull` / `docker run`.
            Ok(Err(e)) if e.downcast_ref::<PullFailed>().is_some() => {
                let msg = e.downcast_ref::<PullFailed>().unwrap().0.clone();
                if run_pulls {
                    Err(state.fail(format!(
                        "Error running container: Docker exited with a non-zero exit status.\nStderr: Unable to find image '{}' locally\ndocker: Error response from daemon: {msg}.\nSee 'docker run --help'.\n",
                        c.image
                    )))
                } else {
                    ui.message(format!("Error response from daemon: {msg}"));
                    Err(state.fail("Error pulling Docker image: Bad exit status: 1"))
                }
            }
            Ok(Err(e)) => Err(state.fail(format!("{e:#}"))),
            Err(e) => Err(state.fail(e.to_string())),
        };
        if let Ok((_, _, said, _)) = &work {
            for l in said {
                ui.message(l.clone());
            }
        }
        // the plugin's deferred `docker logout`, once the pull is done or failed
        logout(&ui, logged_in).await;
        let (img, repo_digest, warnings) = match work {
            Ok((img, digest, _, warnings)) => (img, digest, warnings),
            Err(action) => return action,
        };
        for w in warnings {
            ui.error(w);
        }
        // scratch has no digests: the generated data are empty strings; an image the `build`
        // section made has its id and no distribution digest (the plugin's `bootstrapped`)
        let (source_sha, source_digest) = if scratch {
            (String::new(), String::new())
        } else if bootstrapped.is_some() {
            (img.manifest.config.digest.to_string(), String::new())
        } else {
            // `docker inspect`'s `.Id` and `RepoDigests[0]` (`name@sha256:…`).
            let name = reference
                .as_ref()
                .map(Reference::familiar_name)
                .unwrap_or_default();
            (
                img.manifest.config.digest.to_string(),
                format!(
                    "{name}@{}",
                    repo_digest.unwrap_or_else(|| img.descriptor.digest.to_string())
                ),
            )
        };
        state
            .generated
            .insert("SourceImageSha256".into(), Value::str(source_sha));
        state
            .generated
            .insert("SourceImageDigest".into(), Value::str(source_digest));
        // `run_command`'s flags (read and checked when the config was decoded)
        let run_args = &c.run_args;
        let mut created_dir = None;
        let mut devices = vec![];
        let mut host_tmpfs = vec![];
        let mut tmpfs_binds = vec![];
        let mut init_binds = vec![];
        let id = container_id();
        // What the snapshots leave out, and the mount points they record without their
        // contents: made after the "before" snapshot, as dockerd makes them in the
        // container's own layer, so that a commit holds them as Docker's does.
        let (mounts, exclude, keep) = if in_place {
            match in_place_exclude(&rootfs, &c, tmp.path()) {
                Ok((ex, cd)) => (vec![], ex, vec![cd]),
                Err(e) => return state.fail(format!("{e:#}")),
            }
        } else {
            // `--device` and `--tmpfs` (the builder's, then run_command's), checked as
            // `docker run` checks them
            let all = |a: &[String], b: &[String]| [a, b].concat();
            let made = match docker_mounts::run_mounts(
                &all(&c.device, &run_args.devices),
                &all(&c.tmpfs, &run_args.tmpfs),
            ) {
                Ok(m) => m,
                Err(stderr) => {
                    if !announced {
                        ui.say("Starting docker container...");
                        ui.message(run_command_line(&c, &shared));
                    }
                    return state.fail(format!(
                        "Error running container: Docker exited with a non-zero exit status.\nStderr: {stderr}"
                    ));
                }
            };
            devices = made.devices;
            // the host side of container_dir
            if let Err(e) = std::fs::create_dir_all(&shared) {
                return state.fail(format!("{}: {e}", shared.display()));
            }
            let mut mounts = vec![BindMount {
                source: shared.clone(),
                destination: c.container_dir.clone(),
                readonly: false,
                options: vec![],
            }];
            for (h, d) in &c.volumes {
                mounts.push(BindMount {
                    source: h.clone(),
                    destination: d.clone(),
                    readonly: false,
                    options: vec![],
                });
            }
            for (h, d, ro) in &run_args.volumes {
                mounts.push(BindMount {
                    source: h.clone(),
                    destination: d.clone(),
                    readonly: *ro,
                    options: vec![],
                });
            }
            // one tmpfs on the host per `--tmpfs`, bound into every command's container
            for (i, (dest, data, flags)) in made.tmpfs.into_iter().enumerate() {
                let at = tmp.path().join("tmpfs").join(i.to_string());
                match runtime::HostTmpfs::mount(&at, &data) {
                    Ok(t) => host_tmpfs.push(t),
                    Err(e) => return state.fail(format!("tmpfs {dest}: {e}")),
                }
                tmpfs_binds.push(BindMount {
                    source: at,
                    destination: dest,
                    readonly: false,
                    options: flags,
                });
            }
            // Docker's init layer (`/proc`, `/dev`, `/sys`, `/.dockerenv`, the placeholders
            // of /etc's network files): exported, never committed
            if let Err(e) = runtime::make_init_layer(&rootfs) {
                return state.fail(e.to_string());
            }
            let keep = mounts
                .iter()
                .chain(&tmpfs_binds)
                .map(|m| PathBuf::from(m.destination.trim_start_matches('/')))
                .collect();
            match container_etc_files(tmp.path(), &id) {
                Ok(b) => init_binds = b,
                Err(e) => return state.fail(format!("{e:#}")),
            }
            (mounts, vec![], keep)
        };
        // the snapshot's file goes to the scratch directory, which a snapshot of an image
        // root provisioned in place leaves out
        let snap_opts = SnapshotOptions {
            exclude: exclude.clone(),
            keep: keep.clone(),
            spill_dir: Some(tmp.path().to_path_buf()),
        };
        let before = match diff::snapshot(&rootfs, &snap_opts) {
            Ok(s) => s,
            Err(e) => return state.fail(e.to_string()),
        };
        if in_place {
            match make_container_dir(&rootfs, &keep[0]) {
                Ok(d) => created_dir = d,
                Err(e) => return state.fail(format!("{e:#}")),
            }
        } else {
            // `docker run -w` makes a missing working directory, then the mount points
            if let Some(w) = &run_args.workdir
                && let Err(e) = unpack::resolve_in_root(&rootfs, Path::new(w), true)
            {
                return state.fail(format!("run_command --workdir {w}: {e}"));
            }
            if let Err(e) =
                runtime::make_mountpoints(&rootfs, &[mounts.as_slice(), &tmpfs_binds].concat())
            {
                return state.fail(e.to_string());
            }
        }
        state.generated.insert("ID".into(), Value::str(id.clone()));
        // the image's environment, then run_command's `-e` over it
        let mut env = image::image_env(&img.config);
        for e in &run_args.env {
            let key = e.split_once('=').map_or(e.as_str(), |x| x.0);
            env.retain(|x| x.split_once('=').map_or(x.as_str(), |y| y.0) != key);
            env.push(e.clone());
        }
        let comm = DockerComm {
            rootfs: rootfs.clone(),
            mounts,
            run_binds: [tmpfs_binds, init_binds].concat(),
            hostname: id[..12].to_string(),
            devices,
            exec_user: c.exec_user.clone(),
            container_user: run_args
                .user
                .clone()
                .or_else(|| image::config_str(&img.config, "User").map(String::from)),
            env,
            workdir: run_args
                .workdir
                .clone()
                .or_else(|| image::config_str(&img.config, "WorkingDir").map(String::from)),
            fix_upload_owner: c.fix_upload_owner,
            privileged: c.privileged || run_args.privileged,
            cap_add: c.cap_add.iter().chain(&run_args.cap_add).cloned().collect(),
            cap_drop: c
                .cap_drop
                .iter()
                .chain(&run_args.cap_drop)
                .cloned()
                .collect(),
            runtime: c.runtime.clone(),
            work_dir: tmp.path().to_path_buf(),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            in_place,
            container_id: id.clone(),
            scratch: c.image == SCRATCH,
        };
        if !in_place {
            if !announced {
                ui.say("Starting docker container...");
                ui.message(run_command_line(&c, &shared));
            }
            // as `docker run -d`: the container's shell starts, or the run fails with the
            // runtime's words, before any provisioner
            let process = match container_process(run_args, &img.config) {
                // Kiln's empty image runs nothing of its own
                _ if c.image == SCRATCH => None,
                Ok(p) => Some(p),
                Err(e) => {
                    return state.fail(format!(
                        "Error running container: Docker exited with a non-zero exit status.\nStderr: docker: Error response from daemon: {e}.\nSee 'docker run --help'.\n"
                    ));
                }
            };
            if let Err(stderr) = comm.start_check(process.as_deref(), &state.cancel).await {
                return state.fail(format!(
                    "Error running container: Docker exited with a non-zero exit status.\nStderr: {stderr}"
                ));
            }
            ui.message(format!("Container ID: {id}"));
        }
        state.comm = Some(Arc::new(comm));
        let s = state.private.get_or_default::<DockerState>();
        s.rootfs = rootfs;
        s.base = Some(img);
        s.before = Some(before);
        s.exclude = exclude;
        s.keep = keep;
        s.tmp = Some(tmp);
        s.host_tmpfs = host_tmpfs;
        s.created_dir = created_dir;
        s.container_id = id;
        StepAction::Continue
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        // the container's file system and the run directory go; the image store stays
        // StepRun's cleanup, in Packer's words (Kiln's container has no process left).
        if let Some(s) = state.private.get::<DockerState>()
            && !s.container_id.is_empty()
            && self.0.image_root.is_none()
        {
            let id = s.container_id.clone();
            state.ui.say(format!("Killing the container: {id}"));
        }
        // the plugin's stepBuild cleanup: the image the `build` section made stays, unless
        // the container is discarded
        if let Some(id) = state
            .private
            .get_mut::<DockerState>()
            .and_then(|s| s.bootstrapped.take())
        {
            if matches!(self.0.output, Output::Discard) {
                if let Err(e) = Store::open(&self.0.store).and_then(|st| st.untag(&id)) {
                    state.ui.say(format!("failed to remove image {id:?}: {e}"));
                    state.ui.say("if you have other images using this dockerfile, this is expected and can safely be ignored.");
                }
            } else {
                state.ui.say("final image is not discarded, removing the built image will fail because of existing dependencies, skipping cleanup for docker build.");
            }
        }
        if let Some(s) = state.private.get_mut::<DockerState>() {
            if let Some((d, sidecar)) = s.shared_dir.take() {
                let _ = std::fs::remove_dir_all(d);
                let _ = std::fs::remove_file(sidecar);
            }
            if let Some(d) = s.created_dir.take() {
                let _ = std::fs::remove_dir_all(d);
            }
            s.host_tmpfs.clear();
            if let Some(tmp) = s.tmp.take() {
                let _ = tokio::task::spawn_blocking(move || drop(tmp)).await;
            }
        }
    }
}

/// Packer's StepTempDir: `tmp<digits>` (Go's `os.MkdirTemp`, mode 0700) in
/// `PACKER_TMP_DIR`, else in Packer's configuration directory (`$PACKER_CONFIG_DIR/.packer.d`,
/// `~/.packer.d` when it exists, `$XDG_CONFIG_HOME/packer`, `~/.config/packer`), made when
/// missing. `None` when it cannot be made there (Kiln then uses its own scratch directory).
fn packer_temp_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if let Some(t) = env("PACKER_TMP_DIR") {
        std::path::absolute(t).ok()?
    } else if let Some(cd) = env("PACKER_CONFIG_DIR") {
        cd.join(".packer.d")
    } else {
        let home = env("HOME")?;
        if home.join(".packer.d").exists() {
            home.join(".packer.d")
        } else if let Some(x) = env("XDG_CONFIG_HOME") {
            x.join("packer")
        } else {
            home.join(".config/packer")
        }
    };
    crate::goerr::mkdir_all(&base, 0o755).ok()?;
    crate::goerr::mkdir_temp(&base, "tmp").ok()
}

/// The sidecar file of a run directory ([`SHARED_SIDECAR`]).
fn sidecar_of(run_dir: &Path) -> PathBuf {
    let mut name = run_dir.as_os_str().to_owned();
    name.push(SHARED_SIDECAR);
    PathBuf::from(name)
}

/// A pull that failed, in the docker daemon's words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PullFailed(String);

/// What the docker daemon says of a failed pull (after `Error response from daemon: `): its
/// words for a manifest the registry does not have, Kiln's for anything else.
fn daemon_pull_error(r: &Reference, e: &kiln_oci::Error) -> String {
    if let kiln_oci::Error::Status {
        status: 404,
        action,
        detail,
        ..
    } = e
        && action.starts_with("get manifest")
    {
        let said = detail
            .split_once(": ")
            .map(|(_, m)| m)
            .filter(|m| !m.is_empty())
            .unwrap_or("manifest unknown");
        return format!(
            "manifest for {} not found: manifest unknown: {said}",
            r.familiar_string()
        );
    }
    e.to_string()
}

/// The container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`, written under
/// `tmp` and bound over the init layer's placeholders in every command's container, as
/// dockerd binds its own: the host name is the id's first 12 digits; `hosts` is Docker's
/// for a container without a network address of its own (Kiln's commands share the host's
/// network, as `--network host`, so they get the host's resolver configuration as it is).
pub(crate) fn container_etc_files(tmp: &Path, id: &str) -> anyhow::Result<Vec<BindMount>> {
    const HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
    let dir = tmp.join("etc");
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    let resolv = std::fs::read("/etc/resolv.conf").unwrap_or_default();
    let mut out = vec![];
    for (name, data) in [
        ("resolv.conf", resolv),
        ("hostname", format!("{}\n", &id[..12]).into_bytes()),
        ("hosts", HOSTS.as_bytes().to_vec()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, data).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        out.push(BindMount {
            source: p,
            destination: format!("/etc/{name}"),
            readonly: false,
            options: vec![],
        });
    }
    Ok(out)
}

/// A container id as Docker makes them: 64 random hex digits.
pub(crate) fn container_id() -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// The `docker run` command line Packer's docker builder shows (`Run command: …`): its
/// options in its order, the volumes (the shared directory last), the default run command.
/// Kiln makes the same container itself.
fn run_command_line(c: &DockerConfig, shared: &Path) -> String {
    let mut args = vec!["run".to_string()];
    for v in &c.device {
        args.extend(["--device".into(), v.clone()]);
    }
    for v in &c.cap_add {
        args.extend(["--cap-add".into(), v.clone()]);
    }
    for v in &c.cap_drop {
        args.extend(["--cap-drop".into(), v.clone()]);
    }
    if c.privileged {
        args.push("--privileged".into());
    }
    if let Some(rt) = &c.runtime {
        args.extend(["--runtime".into(), rt.clone()]);
    }
    if let Some(p) = &c.platform_raw {
        args.extend(["--platform".into(), p.clone()]);
    }
    for v in &c.tmpfs {
        args.extend(["--tmpfs".into(), v.clone()]);
    }
    for (host, guest) in &c.volumes {
        args.extend(["-v".into(), format!("{}:{guest}", host.display())]);
    }
    args.extend([
        "-v".into(),
        format!("{}:{}", shared.display(), c.container_dir),
    ]);
    args.extend(render_run_command(&c.run_command, &c.image));
    format!("Run command: {} {}", c.docker_path, args.join(" "))
}

/// What `docker pull` prints off a terminal for the pull Kiln made (Packer's docker builder
/// streams it): `Using default tag` for a bare name, the layers (fetched or already there;
/// beyond three downloads Docker queues them), the digest and the status.
fn pull_lines(raw: &str, r: &Reference, p: &kiln_oci::registry::Pulled) -> Vec<String> {
    let mut out = Vec::new();
    let last = raw.rsplit('/').next().unwrap_or(raw);
    if !raw.contains('@') && !last.contains(':') {
        out.push("Using default tag: latest".to_string());
    }
    let what = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".into(),
    };
    out.push(format!("{what}: Pulling from {}", r.repository));
    if !p.up_to_date {
        let short = |d: &kiln_oci::Digest| d.hex().chars().take(12).collect::<String>();
        let fetched: Vec<_> = p
            .layers
            .iter()
            .filter(|(_, f)| *f)
            .map(|(d, _)| short(d))
            .collect();
        for (d, f) in &p.layers {
            let state = if *f {
                "Pulling fs layer"
            } else {
                "Already exists"
            };
            out.push(format!("{}: {state}", short(d)));
        }
        for id in fetched.iter().skip(3) {
            out.push(format!("{id}: Waiting"));
        }
        for id in &fetched {
            out.push(format!("{id}: Verifying Checksum"));
            out.push(format!("{id}: Download complete"));
        }
        for id in &fetched {
            out.push(format!("{id}: Pull complete"));
        }
    }
    out.push(format!("Digest: {}", p.repo_digest));
    let status = if p.up_to_date {
        "Image is up to date for"
    } else {
        "Downloaded newer image for"
    };
    out.push(format!("Status: {status} {}", r.familiar_string()));
    out.push(r.to_string());
    out
}

struct StepFinish(DockerConfig);

#[async_trait]
impl Step for StepFinish {
    fn name(&self) -> &str {
        match self.0.output {
            Output::Commit => "StepCommit",
            Output::Export(_) => "StepExport",
            Output::Discard => "StepDiscard",
        }
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = self.0.clone();
        let Some(s) = state.private.get::<DockerState>() else {
            return state.fail("no container to finish");
        };
        let (rootfs, base, before, exclude, keep) = (
            s.rootfs.clone(),
            s.base.clone().expect("pulled"),
            s.before.clone().expect("snapshot"),
            s.exclude.clone(),
            s.keep.clone(),
        );
        let spill_dir = s.tmp.as_ref().map(|t| t.path().to_path_buf());
        let epoch = match kiln_oci::source_date_epoch() {
            Ok(e) => e,
            Err(e) => return state.fail(e.to_string()),
        };
        let ui = state.ui.clone();
        match &c.output {
            // Packer's builder has no step for a discarded container; its artifact is the
            // export artifact without a path.
            Output::Discard => {
                let a = export_artifact(state, None);
                state.private.get_or_default::<DockerState>().artifact = Some(a);
                StepAction::Continue
            }
            Output::Export(path) => {
                // As StepExport: the directory first (Go's MkdirAll, its error as it is),
                // then the announcement; the file is written whole or not at all.
                let dir = crate::gopath::dirname(&path.to_string_lossy());
                if let Err(e) = crate::goerr::mkdir_all(Path::new(&dir), 0o755) {
                    return state.fail(e);
                }
                ui.say("Exporting the container");
                let (p, ex, keep) = (path.clone(), exclude.clone(), keep.clone());
                let r = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                    let tmp = tempfile::NamedTempFile::new_in(
                        p.parent()
                            .filter(|d| !d.as_os_str().is_empty())
                            .unwrap_or(Path::new(".")),
                    )?;
                    let f = diff::export_tar(
                        &rootfs,
                        &SnapshotOptions {
                            exclude: ex,
                            keep,
                            spill_dir: None,
                        },
                        std::io::BufWriter::new(tmp),
                        epoch,
                        Some(&runtime::owner_names(&rootfs)),
                    )?;
                    let tmp = f.into_inner().map_err(|e| e.into_error())?;
                    tmp.persist(&p)?;
                    Ok(())
                })
                .await;
                match r {
                    Ok(Ok(())) => {
                        let a = export_artifact(state, Some(path));
                        state.private.get_or_default::<DockerState>().artifact = Some(a);
                        StepAction::Continue
                    }
                    Ok(Err(e)) => state.fail(format!("export to {}: {e:#}", path.display())),
                    Err(e) => state.fail(e.to_string()),
                }
            }
            Output::Commit => {
                ui.say("Committing the container");
                if let Some(why) = daemon_change_error(&c.changes) {
                    return state.fail(format!(
                        "Error committing container: exit status 1\nStderr: Error response from daemon: {why}\n"
                    ));
                }
                let store_path = c.store.clone();
                let opts = CommitOptions {
                    changes: c.changes.clone(),
                    author: c.author.clone(),
                    message: c.message.clone(),
                    epoch,
                    created_by: None,
                };
                let r = tokio::task::spawn_blocking(
                    move || -> anyhow::Result<(image::Committed, String)> {
                        // named by its id (`sha256:…`) until a docker-tag names it
                        commit_rootfs(
                            &Store::open(&store_path)?,
                            &rootfs,
                            &before,
                            SnapshotOptions {
                                exclude,
                                keep,
                                spill_dir,
                            },
                            &base,
                            &opts,
                        )
                    },
                )
                .await;
                match r {
                    Ok(Ok((committed, name))) => {
                        let id = committed.config_digest.to_string();
                        ui.say(format!("Image ID: {id}"));
                        state
                            .generated
                            .insert("ImageSha256".into(), Value::str(&id));
                        state.generated.insert(
                            "Digest".into(),
                            Value::str(committed.manifest.digest.to_string()),
                        );
                        let mut st = image_state(&c.store, &name);
                        let mut generated = hook_data_json(state);
                        if let serde_json::Value::Object(m) = &mut generated {
                            for k in ["SourceImageDigest", "SourceImageSha256"] {
                                m.entry(k).or_insert(serde_json::Value::Null);
                            }
                        }
                        st.insert("generated_data".into(), generated);
                        let a = Artifact {
                            builder_id: BUILDER_ID_IMPORT.into(),
                            id: id.clone(),
                            files: vec![],
                            description: format!("Imported Docker image: {id}"),
                            state: st,
                            destroyer: None,
                        };
                        state.private.get_or_default::<DockerState>().artifact = Some(a);
                        StepAction::Continue
                    }
                    Ok(Err(e)) => state.fail(format!("commit: {e:#}")),
                    Err(e) => state.fail(e.to_string()),
                }
            }
        }
    }
}

/// Docker's default capabilities that provisioning in place needs (package managers change
/// owners and modes, drop to other users, set file capabilities); no `NET_RAW`, `MKNOD`,
/// `SYS_CHROOT`, `AUDIT_WRITE`, `SETPCAP` or `NET_BIND_SERVICE`.
pub const IN_PLACE_CAPABILITIES: &[(&str, &str)] = &[
    (
        "CHOWN",
        "provisioners give files to the image's users (chown)",
    ),
    (
        "DAC_OVERRIDE",
        "root in the image reads and writes every file, as in `docker run`",
    ),
    (
        "FOWNER",
        "root in the image changes modes and times of files it does not own",
    ),
    (
        "FSETID",
        "setuid and setgid bits survive a chown or write, as in `docker run`",
    ),
    (
        "SETUID",
        "commands run as exec_user or the image's USER; package managers drop to their users (apt's _apt)",
    ),
    (
        "SETGID",
        "commands run as exec_user or the image's USER with its groups",
    ),
    (
        "KILL",
        "a provisioner's commands signal processes of other users",
    ),
    (
        "SETFCAP",
        "packages set file capabilities (e.g. ping's cap_net_raw)",
    ),
];

impl Builder for DockerBuilder {
    /// The plugin's `Run` returns no artifact and no error when cancelled: the build
    /// "finished".
    fn cancelled_error(&self) -> Option<&'static str> {
        None
    }

    /// The kaniko pattern (docs/operator.md): the runner pod is created from the base image
    /// with Kiln injected, and provisions its own root filesystem in place — no container
    /// runtime, no privileged container, no host path. It needs root in its own user
    /// namespace, a writable root and the capabilities a package manager uses.
    fn requirements(&self) -> crate::components::Requirements {
        use crate::components::requirements::Grant;
        let c = &self.config;
        if c.image == SCRATCH {
            return crate::components::Requirements::default();
        }
        crate::components::Requirements {
            image: Some(Grant::new(
                c.image.clone(),
                "the docker builder provisions its base image in place: the runner runs in it, with no container runtime",
            )),
            run_as_root: Some(
                "provisioners run as the image's user (root unless USER or exec_user says otherwise), as in `docker run`".into(),
            ),
            user_namespaces: Some("root in the runner pod is an unprivileged user on the node".into()),
            writable_root: Some(
                "provisioners change the image's files; what changed becomes the new layer".into(),
            ),
            capabilities: IN_PLACE_CAPABILITIES
                .iter()
                .map(|(n, why)| Grant::new(*n, *why))
                .collect(),
            ..Default::default()
        }
    }

    fn steps(&self) -> Vec<Box<dyn Step>> {
        vec![
            Box::new(StepPrepare(self.config.clone())),
            Box::new(StepConnect {
                config: self.comm.clone(),
            }),
            Box::new(StepProvision),
            Box::new(StepFinish(self.config.clone())),
        ]
    }

    fn artifact(&self, state: &BuildState) -> Option<Artifact> {
        state.private.get::<DockerState>()?.artifact.clone()
    }

    fn generated_keys(&self) -> Vec<String> {
        [
            "ImageSha256",
            "SourceImageDigest",
            "SourceImageSha256",
            "Digest",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

/// The plugin's `ExportArtifact`: id `Container`, the exported file (none when the
/// container is discarded: its description then ends with the empty path).
fn export_artifact(state: &BuildState, path: Option<&Path>) -> Artifact {
    let shown = path.map(|p| p.display().to_string()).unwrap_or_default();
    Artifact {
        builder_id: BUILDER_ID.into(),
        id: "Container".into(),
        files: path.map(Path::to_path_buf).into_iter().collect(),
        description: format!("Exported Docker file: {shown}"),
        state: [("generated_data".to_string(), hook_data_json(state))]
            .into_iter()
            .collect(),
        destroyer: None,
    }
}

/// The plugin's artifacts carry the build state's generated data, which its provision step
/// had filled with the hook data (communicator keys, ID, run UUID) and its commit step with
/// the image's digests: what post-processors see as `build.*`.
fn hook_data_json(state: &BuildState) -> serde_json::Value {
    serde_json::Value::Object(
        crate::plan::runtime_generated(&state.generated, &state.info.run_uuid)
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

/// What dockerd answers `docker commit --change` with for a line it refuses: an unknown
/// instruction in its words (`bogus is not a valid change command`), another mistake in
/// Kiln's (the daemon's own words vary by instruction).
fn daemon_change_error(changes: &[String]) -> Option<String> {
    const VALID: &[&str] = &[
        "CMD",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "LABEL",
        "ONBUILD",
        "USER",
        "VOLUME",
        "WORKDIR",
    ];
    for line in changes {
        let line = line.trim();
        let (kw, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let (up, rest) = (kw.to_ascii_uppercase(), rest.trim());
        if kw.is_empty() {
            continue;
        }
        if !VALID.contains(&up.as_str()) {
            return Some(format!(
                "{} is not a valid change command",
                kw.to_ascii_lowercase()
            ));
        }
        // BuildKit's instruction parser (dockerd 20.10's), then its EXPOSE dispatcher
        if rest.is_empty() {
            match up.as_str() {
                "ENV" | "LABEL" | "EXPOSE" | "VOLUME" | "ONBUILD" => {
                    return Some(format!("{up} requires at least one argument"));
                }
                "USER" | "WORKDIR" => return Some(format!("{up} requires exactly one argument")),
                _ => continue,
            }
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        match up.as_str() {
            // BuildKit's parseNameVal (quoted values may hold spaces)
            "ENV" | "LABEL" => {
                if let Err(e) = kiln_oci::shlex::parse_name_val(rest, &up, '\\') {
                    return Some(e);
                }
            }
            "EXPOSE" => {
                for p in &words {
                    let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
                    if !["tcp", "udp", "sctp"].contains(&proto.to_ascii_lowercase().as_str()) {
                        return Some(format!("Invalid proto: {proto}"));
                    }
                    let (a, b) = num.split_once('-').unwrap_or((num, num));
                    if a.parse::<u16>().is_err() || b.parse::<u16>().is_err() {
                        return Some(format!("Invalid containerPort: {num}"));
                    }
                }
            }
            _ => {}
        }
    }
    image::validate_changes(changes).err().map(|e| {
        let t = e.to_string();
        // (without kiln_oci's `changes: "<line>": ` prefix)
        t.split_once("\": ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or(t)
    })
}

/// What Kiln takes from `run_command`, the arguments of the plugin's `docker run`.
#[derive(Clone, Debug, Default, PartialEq)]
struct RunArgs {
    /// `-e`/`--env`, `--env-file`: set over the image's environment.
    env: Vec<String>,
    /// `-u`/`--user`: the container's user (`exec_user` still wins for commands).
    user: Option<String>,
    /// `-w`/`--workdir` (made when missing, as Docker makes it).
    workdir: Option<String>,
    privileged: bool,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    /// `-v`/`--volume host:container[:ro]`.
    volumes: Vec<(PathBuf, String, bool)>,
    /// `--device`, `--tmpfs` as given (after the builder's own `device`, `tmpfs`).
    devices: Vec<String>,
    tmpfs: Vec<String>,
    /// `--entrypoint` (empty: the image's entrypoint reset), which only the start check reads.
    entrypoint: Option<String>,
    /// The arguments after the image (the container's command).
    command: Vec<String>,
}

/// `run_command` with the plugin's template data rendered (`{{.Image}}`), the default when
/// it is unset.
fn render_run_command(run_command: &[String], image: &str) -> Vec<String> {
    let args: Vec<String> = if run_command.is_empty() {
        DEFAULT_RUN_COMMAND.iter().map(|s| s.to_string()).collect()
    } else {
        run_command.to_vec()
    };
    args.iter()
        .map(|a| {
            a.replace("{{.Image}}", image)
                .replace("{{ .Image }}", image)
        })
        .collect()
}

/// Reads `docker run`'s arguments as the docker CLI does (`-dit` clusters, `-eK=V`,
/// `--env=K=V`, `--` before the image): the flags that shape the container are kept, those
/// that only matter to a daemon (`--name`, `--network`) are ignored, any other is an error;
/// the first argument that is no flag must be the image. `--entrypoint` and the command
/// after the image only decide whether the container starts (Kiln runs each command as
/// `docker exec` would, with `/bin/sh -c`).
fn parse_run_command(run_command: &[String], image: &str) -> Result<RunArgs, String> {
    const BOOLS: &[&str] = &[
        "detach",
        "interactive",
        "tty",
        "rm",
        "init",
        "privileged",
        "publish-all",
        "sig-proxy",
        "oom-kill-disable",
        "no-healthcheck",
    ];
    const IGNORED: &[&str] = &[
        "name",
        "hostname",
        "network",
        "net",
        "network-alias",
        "label",
        "label-file",
        "log-driver",
        "log-opt",
        "memory",
        "memory-swap",
        "memory-reservation",
        "cpus",
        "cpu-shares",
        "cpuset-cpus",
        "shm-size",
        "ulimit",
        "restart",
        "stop-signal",
        "stop-timeout",
        "platform",
        "pull",
        "publish",
        "expose",
        "dns",
        "dns-search",
        "dns-option",
        "add-host",
        "domainname",
        "mac-address",
        "health-cmd",
        "health-interval",
        "health-retries",
        "health-timeout",
        "health-start-period",
        "pids-limit",
    ];
    const KEPT: &[&str] = &[
        "env", "env-file", "user", "workdir", "volume", "cap-add", "cap-drop", "device", "tmpfs",
    ];
    let short = |c: char| -> Option<&'static str> {
        Some(match c {
            'd' => "detach",
            'i' => "interactive",
            't' => "tty",
            'P' => "publish-all",
            'e' => "env",
            'u' => "user",
            'w' => "workdir",
            'v' => "volume",
            'h' => "hostname",
            'l' => "label",
            'm' => "memory",
            'p' => "publish",
            _ => return None,
        })
    };
    let args = render_run_command(run_command, image);
    let mut out = RunArgs::default();
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    let mut positional = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            positional = args.get(i).cloned();
            out.command = args.get(i + 1..).unwrap_or_default().to_vec();
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (long.to_string(), None),
            };
            flags.push((name, inline));
        } else if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            let chars: Vec<char> = cluster.chars().collect();
            for (k, c) in chars.iter().enumerate() {
                let name =
                    short(*c).ok_or_else(|| format!("unknown shorthand flag: '{c}' in {a}"))?;
                if BOOLS.contains(&name) {
                    flags.push((name.into(), None));
                    continue;
                }
                let rest: String = chars[k + 1..].iter().collect();
                let rest = rest.strip_prefix('=').map(String::from).unwrap_or(rest);
                flags.push((name.into(), (!rest.is_empty()).then_some(rest)));
                break;
            }
        } else {
            positional = Some(a.to_string());
            out.command = args[i..].to_vec();
            break;
        }
        // a value flag without an inline value takes the next argument
        if let Some((name, value @ None)) = flags.last_mut()
            && !BOOLS.contains(&name.as_str())
        {
            *value = Some(
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("flag needs an argument: --{name}"))?,
            );
            i += 1;
        }
    }
    for (name, value) in flags {
        let value = value.unwrap_or_default();
        let on = || !matches!(value.as_str(), "false" | "0");
        match name.as_str() {
            "privileged" => out.privileged = on(),
            "entrypoint" => out.entrypoint = Some(value),
            n if BOOLS.contains(&n) || IGNORED.contains(&n) => {}
            "env" => out.env.extend(env_entry(&value)),
            "env-file" => {
                let text = std::fs::read_to_string(&value)
                    .map_err(|e| format!("--env-file {value}: {e}"))?;
                for line in text.lines() {
                    let l = line.trim_start();
                    if !l.is_empty() && !l.starts_with('#') {
                        out.env.extend(env_entry(l));
                    }
                }
            }
            "user" => out.user = Some(value),
            "workdir" => {
                if !value.starts_with('/') {
                    return Err(format!(
                        "the working directory '{value}' is invalid, it needs to be an absolute path"
                    ));
                }
                out.workdir = Some(value);
            }
            "volume" => {
                let parts: Vec<&str> = value.split(':').collect();
                let (host, dest, ro) = match parts.as_slice() {
                    [h, d] => (*h, *d, false),
                    [h, d, o] => (*h, *d, o.split(',').any(|x| x == "ro")),
                    _ => return Err(format!("--volume {value}: expected HOST:CONTAINER[:ro]")),
                };
                if !host.starts_with('/') && !host.starts_with('.') && !host.starts_with('~') {
                    return Err(format!(
                        "--volume {value}: named volumes need a Docker daemon; give a host path"
                    ));
                }
                if !dest.starts_with('/') {
                    return Err(format!(
                        "--volume {value}: the container path must be absolute"
                    ));
                }
                let host = match host.strip_prefix("~/") {
                    Some(rest) => std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(rest))
                        .unwrap_or_else(|| PathBuf::from(host)),
                    None => std::path::absolute(host).unwrap_or_else(|_| PathBuf::from(host)),
                };
                out.volumes.push((host, dest.to_string(), ro));
            }
            "cap-add" => out.cap_add.push(value),
            "cap-drop" => out.cap_drop.push(value),
            "device" => out.devices.push(value),
            "tmpfs" => out.tmpfs.push(value),
            other => {
                return Err(format!(
                    "the docker run flag --{other} is not supported by Kiln (it honours {}; ignores what only a daemon uses, such as --name and --network)",
                    KEPT.iter()
                        .map(|k| format!("--{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    match positional {
        Some(p) if p == image => Ok(out),
        Some(p) => Err(format!(
            "it runs {p:?}, not the source's image ({{{{.Image}}}}, here {image:?})"
        )),
        None => Err("it names no image: end it with \"{{.Image}}\"".into()),
    }
}

/// The program `docker run` starts, as dockerd merges run_command's `--entrypoint` and
/// command with the image's (`Entrypoint`, `Cmd`): `--entrypoint` drops the image's command,
/// an empty one the image's entrypoint too. `Err`: dockerd's `No command specified`.
fn container_process(run_args: &RunArgs, config: &serde_json::Value) -> Result<String, String> {
    let image_list = |key: &str| -> Vec<String> {
        config
            .get("config")
            .and_then(|c| c.get(key))
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut entrypoint: Vec<String> = run_args.entrypoint.iter().cloned().collect();
    let mut cmd = run_args.command.clone();
    if entrypoint.is_empty() {
        if cmd.is_empty() {
            cmd = image_list("Cmd");
        }
        entrypoint = image_list("Entrypoint");
    }
    if entrypoint.len() == 1 && entrypoint[0].is_empty() {
        entrypoint.clear();
    }
    entrypoint
        .into_iter()
        .chain(cmd)
        .next()
        .ok_or_else(|| "No command specified".into())
}

/// `-e K=V` as given; a bare `-e K` takes the value from Kiln's own environment (dropped
/// when unset), as the docker CLI does.
fn env_entry(v: &str) -> Option<String> {
    if v.contains('=') {
        return Some(v.to_string());
    }
    std::env::var(v).ok().map(|val| format!("{v}={val}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// The program `docker run` starts, as dockerd merges run_command with the image.
    #[test]
    fn container_process_as_dockerd_merges_it() {
        let image = |c: serde_json::Value| serde_json::json!({ "config": c });
        let run = |args: &[&str]| parse_run_command(&v(args), "img").unwrap();
        let busybox = image(serde_json::json!({ "Cmd": ["sh"] }));
        let entry = image(serde_json::json!({ "Entrypoint": ["/init", "-x"], "Cmd": ["a"] }));
        for (args, config, want) in [
            // the plugin's default: --entrypoint
            (
                &["-d", "--entrypoint=/bin/sh", "--", "img"][..],
                &busybox,
                Ok("/bin/sh"),
            ),
            // none: the image's entrypoint, else its command, else run_command's
            (&["img"], &busybox, Ok("sh")),
            (&["img"], &entry, Ok("/init")),
            (&["img", "top"], &busybox, Ok("top")),
            (&["img", "top"], &entry, Ok("/init")),
            // --entrypoint drops the image's command; empty, the image's entrypoint too
            (&["--entrypoint", "x", "img"], &entry, Ok("x")),
            (&["--entrypoint=", "img", "top"], &entry, Ok("top")),
            (
                &["--entrypoint=", "img"],
                &busybox,
                Err("No command specified"),
            ),
            (
                &["img"],
                &image(serde_json::json!({})),
                Err("No command specified"),
            ),
        ] {
            assert_eq!(
                container_process(&run(args), config).as_deref(),
                want.map_err(String::from).as_deref(),
                "{args:?}"
            );
        }
    }

    /// `run_command` read as the docker CLI reads `docker run`'s arguments.
    #[test]
    fn run_command_flags_as_the_docker_cli_reads_them() {
        // unset: the plugin's default, nothing to apply but its entrypoint
        assert_eq!(
            parse_run_command(&[], "img"),
            Ok(RunArgs {
                entrypoint: Some("/bin/sh".into()),
                ..RunArgs::default()
            })
        );
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("env");
        std::fs::write(&env_file, "# comment\nFROM_FILE=1\n\n").unwrap();
        let a = parse_run_command(
            &v(&[
                "-dit",
                "-eA=1",
                "--env",
                "B=2",
                "--env=C=3",
                &format!("--env-file={}", env_file.display()),
                "-u",
                "app",
                "-w/srv",
                "--privileged",
                "--cap-add=NET_ADMIN",
                "--name",
                "x",
                "--network=host",
                "-v",
                "/host:/in:ro",
                "--entrypoint=/bin/bash",
                "--",
                "{{.Image}}",
                "sleep",
                "1",
            ]),
            "img",
        )
        .unwrap();
        assert_eq!(a.env, v(&["A=1", "B=2", "C=3", "FROM_FILE=1"]));
        assert_eq!(
            (a.user.as_deref(), a.workdir.as_deref(), a.privileged),
            (Some("app"), Some("/srv"), true)
        );
        assert_eq!(a.cap_add, v(&["NET_ADMIN"]));
        assert_eq!(
            (a.entrypoint.as_deref(), a.command.clone()),
            (Some("/bin/bash"), v(&["sleep", "1"]))
        );
        assert_eq!(
            a.volumes,
            vec![(PathBuf::from("/host"), "/in".to_string(), true)]
        );
        // the image is the first argument that is no flag
        assert!(parse_run_command(&v(&["-d", "{{ .Image }}"]), "img").is_ok());
        // --device and --tmpfs kept as given (checked as docker checks them at run time)
        let a = parse_run_command(
            &v(&["--device=/dev/fuse", "--tmpfs", "/t:size=1m", "img"]),
            "img",
        )
        .unwrap();
        assert_eq!(
            (a.devices, a.tmpfs),
            (v(&["/dev/fuse"]), v(&["/t:size=1m"]))
        );
        for (args, want) in [
            (v(&["-d"]), "names no image"),
            (
                v(&["-d", "other:1"]),
                "runs \"other:1\", not the source's image",
            ),
            (
                v(&["--mount=type=tmpfs,dst=/t", "img"]),
                "--mount is not supported",
            ),
            (v(&["-x", "img"]), "unknown shorthand flag: 'x' in -x"),
            (
                v(&["-v", "cache:/c", "img"]),
                "named volumes need a Docker daemon",
            ),
            (v(&["-w", "rel", "img"]), "needs to be an absolute path"),
            (v(&["-e"]), "flag needs an argument: --env"),
        ] {
            let e = parse_run_command(&args, "img").unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
}
