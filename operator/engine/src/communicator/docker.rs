//! The `docker` communicator without a daemon: commands run with `sh -c` in the image's root
//! filesystem through runc/crun ([`kiln_oci::runtime`]); files and directories are copied
//! straight into and out of that directory (paths resolved inside it as in a `chroot`).
//!
//! As Packer's docker communicator: one command at a time, the command wrapped in `( … )`,
//! `exec_user` (else the image's user) runs it, and with `fix_upload_owner` uploaded files
//! are given to the container's user. Unlike Packer's, `download_dir` works.
//!
//! In a runner pod created from the build's base image (`RunEnv::image_root`), commands run
//! straight in the pod's own root filesystem, with no container runtime and no privilege.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kiln_oci::runtime::{self, BindMount, LinuxDevice, RunSpec};
use kiln_oci::unpack::resolve_parent;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::{CommError, Communicator, ExitStatus, Output};

/// How the container is run and files are placed.
#[derive(Clone, Debug)]
pub struct DockerComm {
    pub rootfs: PathBuf,
    pub mounts: Vec<BindMount>,
    /// Binds in every command's container, but not where files are copied: the build's
    /// tmpfs file systems (`tmpfs`, `--tmpfs`: `docker cp` writes beneath a tmpfs, into the
    /// container's own file system) and the container's `/etc/hosts`, `/etc/hostname` and
    /// `/etc/resolv.conf`.
    pub run_binds: Vec<BindMount>,
    /// The container's host name (`HOSTNAME`); empty for the runtime's default.
    pub hostname: String,
    /// `device` (and `run_command`'s `--device`): nodes made in every command's container.
    pub devices: Vec<LinuxDevice>,
    /// `exec_user`, else the image's `User`.
    pub exec_user: Option<String>,
    /// The image's `User` (owner of uploads with `fix_upload_owner`).
    pub container_user: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub fix_upload_owner: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub runtime: Option<String>,
    pub work_dir: PathBuf,
    pub lock: Arc<tokio::sync::Mutex<()>>,
    /// Run commands straight in `rootfs` (`/` in a runner pod created from the image; a
    /// `chroot` elsewhere) rather than in a runc container ([`RunSpec::in_place`]).
    pub in_place: bool,
    /// The container's id, as `docker cp`'s errors name it.
    pub container_id: String,
    /// Kiln's empty image (`image = "scratch"`): an upload makes the missing directories of
    /// its destination, as nothing else could make them there (`docker cp` refuses a
    /// destination whose directory is missing).
    pub scratch: bool,
}

impl DockerComm {
    /// The host path of a container path: inside a bind mount's source when under its
    /// destination, else inside the root filesystem (parents created when `create`).
    fn host_path(&self, container_path: &str, create: bool) -> anyhow::Result<PathBuf> {
        let cp = Path::new(container_path);
        for m in &self.mounts {
            if let Ok(rest) = cp.strip_prefix(&m.destination) {
                let p = if rest.as_os_str().is_empty() {
                    m.source.clone()
                } else {
                    resolve_parent(&m.source, rest, create)?.unwrap_or(m.source.clone())
                };
                return Ok(p);
            }
        }
        Ok(resolve_parent(&self.rootfs, cp, create)?.unwrap_or(self.rootfs.clone()))
    }

    /// The plugin's `chown -R USER dest` (as root) with the container's user (`root` when it
    /// has none): the owner, and the group only when the user names one (`user:group`).
    fn owner(&self) -> Option<(u32, Option<u32>)> {
        if !self.fix_upload_owner {
            return None;
        }
        let user = self
            .container_user
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or("root");
        let u = runtime::resolve_user(&self.rootfs, Some(user)).ok()?;
        Some((u.uid, user.contains(':').then_some(u.gid)))
    }
}

fn chown_tree(p: &Path, owner: (u32, Option<u32>)) {
    let set = |p: &Path| {
        let _ = nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            p,
            Some(nix::unistd::Uid::from_raw(owner.0)),
            owner.1.map(nix::unistd::Gid::from_raw),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        );
    };
    set(p);
    if std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()) {
        for e in walk(p) {
            set(&e);
        }
    }
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Copies the tree `src` into `dst`, skipping relative paths matching `exclude`, as `docker
/// cp` extracts it: modes and modification times kept (directories' set last), symlinks as
/// symlinks; `dst` itself, when the copy makes it, gets `src`'s mode and time.
fn copy_tree(src: &Path, dst: &Path, exclude: &[String]) -> anyhow::Result<()> {
    let mut gs = globset::GlobSetBuilder::new();
    for e in exclude {
        gs.add(globset::Glob::new(e)?);
    }
    let gs = gs.build()?;
    let made = !dst.exists();
    std::fs::create_dir_all(dst)?;
    let mut dirs = vec![];
    for p in walk(src) {
        let rel = p.strip_prefix(src)?;
        if gs.is_match(rel) {
            continue;
        }
        let to = dst.join(rel);
        let m = std::fs::symlink_metadata(&p)?;
        if m.is_dir() {
            std::fs::create_dir_all(&to)?;
            std::fs::set_permissions(&to, m.permissions())?;
            dirs.push((to, m));
            continue;
        } else if m.file_type().is_symlink() {
            let _ = std::fs::remove_file(&to);
            std::os::unix::fs::symlink(std::fs::read_link(&p)?, &to)?;
        } else {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&p, &to)?;
        }
        set_mtime(&to, &m);
    }
    if made {
        let m = std::fs::metadata(src)?;
        std::fs::set_permissions(dst, m.permissions())?;
        dirs.insert(0, (dst.to_path_buf(), m));
    }
    for (d, m) in dirs.iter().rev() {
        set_mtime(d, m);
    }
    Ok(())
}

/// Gives `p` (not following a symlink) the modification time of `m`, as its access time
/// too (a tar entry's one time, as Docker extracts it).
fn set_mtime(p: &Path, m: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let _ = kiln_oci::unpack::set_mtime(p, m.mtime(), m.mtime_nsec());
}

/// Go's `filepath.Dir` of a container path (`x` → `.`, `/` → `/`).
fn go_dir(p: &str) -> String {
    match Path::new(p).parent() {
        Some(d) if d.as_os_str().is_empty() => ".".to_string(),
        Some(d) => d.to_string_lossy().into_owned(),
        None => p.to_string(),
    }
}

/// Packer's trailing-slash rule: `src/` copies the contents, `src` the directory itself.
fn dir_target(src: &str, dst: &Path) -> PathBuf {
    if src.ends_with('/') {
        dst.to_path_buf()
    } else {
        dst.join(Path::new(src).file_name().unwrap_or_default())
    }
}

/// The words of runc's (and dockerd's) user lookup when `spec`'s user or group is not in
/// the image: `unable to find user U: no matching entries in passwd file`, or the group's.
fn missing_user(spec: &RunSpec) -> Option<String> {
    let Err(kiln_oci::Error::Invalid(e)) =
        runtime::resolve_user(&spec.rootfs, spec.user.as_deref())
    else {
        return None;
    };
    let spec_user = spec.user.clone().unwrap_or_default();
    let (u, g) = spec_user.split_once(':').unwrap_or((&spec_user, ""));
    Some(if e.contains("/etc/group") {
        format!("unable to find group {g}: no matching entries in group file")
    } else {
        format!("unable to find user {u}: no matching entries in passwd file")
    })
}

impl DockerComm {
    /// Starts the container once, as `docker run -d` starts it: its user looked up, its
    /// process (`process`, the entrypoint or command `docker run` would start; `None` for
    /// Kiln's `scratch` image, which has none) looked up as runc's `exec.LookPath` does, and
    /// its shell run (`exit 0`): when the runtime cannot, `docker run`'s stderr with the
    /// runtime's words (dockerd's `OCI runtime create failed: runc create failed: …`).
    pub async fn start_check(
        &self,
        process: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<(), String> {
        // the container's user (`run_command`'s `-u`, else the image's): `exec_user` is only
        // for the commands `docker exec` runs
        let spec = self.spec("exit 0", self.container_user.clone());
        let daemon = |why: &str| {
            // moby's translateContainerdStartErr adds its hint to any ENOTDIR
            let hint = if why.to_lowercase().contains("not a directory") {
                ": Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"
            } else {
                ""
            };
            format!(
                "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: {why}: unknown{hint}.\n"
            )
        };
        // a user (or group) the image lacks: dockerd's own words, when it starts
        if let Some(line) = missing_user(&spec) {
            return Err(format!("docker: Error response from daemon: {line}.\n"));
        }
        // the process runc would start (`exec: "/bin/sh": stat /bin/sh: no such file …`)
        if let Some(p) = process
            && let Err(why) = self.look_path(p)
        {
            return Err(daemon(&format!(
                "unable to start container process: exec: {p:?}: {why}"
            )));
        }
        // An image whose entrypoint is not /bin/sh may lack it (and Kiln's `scratch` has
        // nothing): it starts, files can be provisioned into it, a command fails when it
        // runs.
        if kiln_oci::unpack::resolve_in_root(&spec.rootfs, Path::new("bin/sh"), false)
            .map_or(true, |p| !p.is_file())
        {
            return Ok(());
        }
        let mut err = vec![];
        match runtime::run(&spec, |_| {}, |l| err.push(l.to_string()), cancel).await {
            Ok(0) => Ok(()),
            Ok(_) => {
                // runc logs `msg="runc run failed: WHY"`; crun `crun: WHY`
                let why = err
                    .iter()
                    .find_map(|l| {
                        let m = l.split_once("msg=\"runc run failed: ")?.1;
                        Some(m.strip_suffix('"').unwrap_or(m).replace("\\\"", "\""))
                    })
                    .or_else(|| {
                        err.last()
                            .map(|l| l.trim_start_matches("crun: ").to_string())
                    })
                    .unwrap_or_else(|| "unable to start container process".into());
                Err(daemon(&why))
            }
            Err(e) => Err(daemon(&e.to_string())),
        }
    }

    /// Go's `exec.LookPath(file)` in the container (its root, working directory and `PATH`),
    /// as runc looks up the process it starts: `Err` holds Go's words (`stat /x: no such
    /// file or directory`, `permission denied`, `executable file not found in $PATH`).
    fn look_path(&self, file: &str) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let find = |path: &str| -> Result<(), String> {
            let abs = if path.starts_with('/') {
                PathBuf::from(path)
            } else {
                Path::new(self.workdir.as_deref().unwrap_or("/")).join(path)
            };
            let stat = |e: &str| format!("stat {path}: {e}");
            let host =
                kiln_oci::unpack::resolve_in_root(&self.rootfs, &abs, false).map_err(|e| {
                    stat(match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file or directory",
                        _ if e.to_string().contains("not a directory") => "not a directory",
                        _ if e.to_string().contains("symbolic links") => {
                            "too many levels of symbolic links"
                        }
                        _ => "permission denied",
                    })
                })?;
            match std::fs::metadata(&host) {
                Ok(m) if !m.is_dir() && m.permissions().mode() & 0o111 != 0 => Ok(()),
                Ok(_) => Err("permission denied".into()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(stat("no such file or directory"))
                }
                Err(e) if e.raw_os_error() == Some(20) => Err(stat("not a directory")),
                Err(_) => Err(stat("permission denied")),
            }
        };
        if file.contains('/') {
            return find(file);
        }
        let path = self
            .env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(runtime::DEFAULT_PATH.trim_start_matches("PATH="));
        if path
            .split(':')
            .any(|d| find(&format!("{}/{file}", if d.is_empty() { "." } else { d })).is_ok())
        {
            return Ok(());
        }
        Err("executable file not found in $PATH".into())
    }

    /// The spec of one command in the container.
    fn spec(&self, command: &str, user: Option<String>) -> RunSpec {
        RunSpec {
            rootfs: self.rootfs.clone(),
            command: format!("({command})"),
            user,
            env: self.env.clone(),
            workdir: self.workdir.clone(),
            mounts: [self.mounts.as_slice(), self.run_binds.as_slice()].concat(),
            hostname: Some(self.hostname.clone()).filter(|h| !h.is_empty()),
            devices: self.devices.clone(),
            runtime: self.runtime.clone(),
            privileged: self.privileged,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            work_dir: Some(self.work_dir.clone()),
            stdin: None,
            in_place: self.in_place,
            argv: None,
        }
    }

    async fn start_inner(
        &self,
        command: &str,
        output: &mut dyn Output,
        cancel: &CancellationToken,
    ) -> Result<ExitStatus, CommError> {
        let _one = self.lock.lock().await;
        let spec = self.spec(
            command,
            self.exec_user.clone().or(self.container_user.clone()),
        );
        // `docker exec -u` with a user (or group) the image lacks starts, says runc's
        // lookup error and exits 126: a command, not a failure to start (which Packer's
        // provisioners would retry until start_retry_timeout).
        if let Some(line) = missing_user(&spec) {
            output.stdout_line(&line);
            return Ok(ExitStatus::Code(126));
        }
        // So does `docker exec … /bin/sh -c` in a container without a shell (its entrypoint
        // another program): runc's lookup error, exit 126.
        if !self.in_place
            && let Err(why) = self.look_path("/bin/sh")
        {
            output.stderr_line(&format!(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"/bin/sh\": {why}: unknown"
            ));
            return Ok(ExitStatus::Code(126));
        }
        let out = std::sync::Mutex::new(&mut *output);
        let code = runtime::run(
            &spec,
            |l| out.lock().unwrap().stdout_line(l),
            |l| out.lock().unwrap().stderr_line(l),
            cancel,
        )
        .await;
        match code {
            Ok(c) => Ok(ExitStatus::Code(c)),
            Err(kiln_oci::Error::Cancelled(_)) => Err(CommError::Interrupted {
                command: command.to_string(),
            }),
            Err(e) => Err(CommError::Start {
                message: e.to_string(),
            }),
        }
    }

    async fn upload_inner(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        mode: u32,
    ) -> anyhow::Result<()> {
        // the plugin's `docker cp - ID:DIR` (Go's `filepath.Dir(dst)`): DIR must be a
        // directory in the container
        if !self.scratch {
            let dir = go_dir(dst);
            if !self.host_path(&dir, false).is_ok_and(|p| p.is_dir()) {
                return Err(anyhow::Error::new(super::Verbatim(format!(
                    "Failed to upload to '{dst}' in container: destination \"{}:{dir}\" must be a directory\n. exit status 1.",
                    self.container_id
                ))));
            }
        }
        let path = self.host_path(dst, true)?;
        let mut f = tokio::fs::File::create(&path)
            .await
            .map_err(|e| anyhow::anyhow!("upload to {dst}: {e}"))?;
        tokio::io::copy(src, &mut f).await?;
        drop(f);
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777)).await?;
        if let Some(o) = self.owner() {
            chown_tree(&path, o);
        }
        Ok(())
    }

    async fn upload_dir_inner(
        &self,
        dst: &str,
        src: &Path,
        exclude: &[String],
    ) -> anyhow::Result<()> {
        // the plugin's `docker cp SRC ID:DST` makes DST, not its parents
        if !self.scratch && !self.host_path(dst, false).is_ok_and(|p| p.exists()) {
            let parent = go_dir(dst);
            if !self.host_path(&parent, false).is_ok_and(|p| p.is_dir()) {
                return Err(anyhow::Error::new(super::Verbatim(format!(
                    "Failed to upload to '{dst}' in container: Error: No such container:path: {}:{parent}\n. exit status 1.",
                    self.container_id
                ))));
            }
        }
        // `docker cp SRC ID:DST`: into DST when it exists (SRC's contents with a trailing
        // slash, else SRC itself), else DST made as a copy of SRC
        let existed = self.host_path(dst, false).is_ok_and(|p| p.exists());
        let dst_host = self.host_path(dst, true)?;
        let target = if existed {
            dir_target(&src.to_string_lossy(), &dst_host)
        } else {
            dst_host
        };
        let (s, t, ex) = (src.to_path_buf(), target.clone(), exclude.to_vec());
        tokio::task::spawn_blocking(move || copy_tree(&s, &t, &ex)).await??;
        if let Some(o) = self.owner() {
            chown_tree(&target, o);
        }
        Ok(())
    }

    async fn download_inner(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<()> {
        // `docker cp ID:src -`'s refusal, as the plugin's Download returns it.
        let missing = || {
            anyhow::Error::new(super::Verbatim(format!(
                "Error downloading file: Error: No such container:path: {}:{src}\n",
                self.container_id
            )))
        };
        let path = self.host_path(src, false).map_err(|_| missing())?;
        let mut f = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(anyhow::anyhow!("download {src}: {e}")),
        };
        tokio::io::copy(&mut f, dst).await?;
        Ok(())
    }

    async fn download_dir_inner(
        &self,
        src: &str,
        dst: &Path,
        exclude: &[String],
    ) -> anyhow::Result<()> {
        let from = self.host_path(src.trim_end_matches('/'), false)?;
        if !from.is_dir() {
            anyhow::bail!("download_dir {src}: not a directory in the container");
        }
        let target = dir_target(src, dst);
        let ex = exclude.to_vec();
        tokio::task::spawn_blocking(move || copy_tree(&from, &target, &ex)).await??;
        Ok(())
    }
}

#[async_trait]
impl Communicator for DockerComm {
    fn kind(&self) -> &str {
        "docker"
    }

    async fn start(
        &self,
        command: &str,
        output: &mut dyn Output,
        cancel: &CancellationToken,
    ) -> Result<ExitStatus, CommError> {
        // As the SSH communicator: a context already cancelled starts nothing.
        if cancel.is_cancelled() {
            return Err(CommError::Interrupted {
                command: command.to_string(),
            });
        }
        self.start_inner(command, output, cancel).await
    }

    async fn upload(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        mode: u32,
    ) -> Result<(), CommError> {
        self.upload_inner(dst, src, mode)
            .await
            .map_err(|e| CommError::verbatim_or(e, CommError::upload(dst)))
    }

    /// The plugin's `docker cp` of the file with its `os.FileInfo`: its mode and its
    /// modification time.
    async fn upload_file(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        md: &std::fs::Metadata,
    ) -> Result<(), CommError> {
        use std::os::unix::fs::PermissionsExt;
        self.upload(dst, src, md.permissions().mode() & 0o7777)
            .await?;
        if let Ok(p) = self.host_path(dst, false) {
            set_mtime(&p, md);
        }
        Ok(())
    }

    async fn upload_dir(&self, dst: &str, src: &Path, exclude: &[String]) -> Result<(), CommError> {
        self.upload_dir_inner(dst, src, exclude)
            .await
            .map_err(|e| CommError::verbatim_or(e, CommError::upload_dir(src, dst)))
    }

    async fn download(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        self.download_inner(src, dst)
            .await
            .map_err(|e| CommError::verbatim_or(e, CommError::download(src)))
    }

    async fn download_dir(
        &self,
        src: &str,
        dst: &Path,
        exclude: &[String],
    ) -> Result<(), CommError> {
        self.download_dir_inner(src, dst, exclude)
            .await
            .map_err(CommError::download_dir(src, dst))
    }
}
