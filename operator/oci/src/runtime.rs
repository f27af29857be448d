//! Running a command inside a root filesystem without a daemon: `sh -c CMD` in a container
//! made by an OCI runtime from a generated runtime spec.
//!
//! # Why runc (then crun)
//!
//! Both take the same bundle and the same CLI (`run --bundle`, `kill`, `delete -f`, `--root`)
//! and both are Debian packages. **runc is preferred** because it works on every cgroup
//! layout Kiln meets — v1, v2 and the hybrid v1+v2 hierarchy of many CI machines and older
//! nodes (Debian 12's crun 1.8 refuses hybrid hierarchies: "cgroups in hybrid mode not
//! supported", even with `--cgroup-manager=disabled`) — and it is the runtime Kubernetes
//! nodes already ship. A `sh -c` start costs about 30 ms with runc here, small next to what
//! provisioners run. crun (smaller, a little faster to start) is used when runc is absent,
//! with `--cgroup-manager=disabled` since Kiln sets no resource limits. `KILN_OCI_RUNTIME`
//! (or [`RunSpec::runtime`]) names another binary with the same CLI. When neither is
//! installed, [`run`] fails before doing anything, with an error that says to install runc
//! (or crun).
//!
//! # The container
//!
//! - The bundle (`config.json`) and the runtime's state directory live in a temporary
//!   directory removed afterwards; the container is deleted (`delete -f`) after the command,
//!   on error and on cancellation (which first kills it with SIGKILL) — also when the future is
//!   dropped.
//! - Seccomp: the host's default container profile ([`SECCOMP_PROFILE`]) for the capability set
//!   (none when privileged).
//! - Namespaces: mount, pid, ipc, uts. **No network namespace**: the command shares the
//!   host's network, so provisioners reach services on loopback (as `docker run
//!   --network host`).
//! - `/proc`, `/dev` (tmpfs with the standard devices), `/dev/pts`, `/dev/shm`, `/dev/mqueue`, and `/sys`
//!   (read-only bind) are mounted inside the container's mount namespace only: nothing of
//!   them lands in the root filesystem, so nothing of them lands in a diff. Their mount
//!   points are created before the "before" snapshot, by [`prepare_mountpoints`] or, for a
//!   container shaped as Docker's, by [`make_init_layer`] (with the bind destinations made
//!   after the snapshot by [`make_mountpoints`], as dockerd makes them in the container's
//!   layer).
//! - User: `uid[:gid]` or names looked up in the image's `/etc/passwd` and `/etc/group`;
//!   supplementary groups from `/etc/group`; `HOME` from `/etc/passwd` unless set. Root gets
//!   Docker's default capability set; other users get none effective (as Docker).
//! - Running containers needs root (or a runtime set up for rootless use): in an
//!   unprivileged pod Kiln runs provisioners in the pod's own container instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use crate::unpack::resolve_in_root;
use crate::{Error, Result};

/// Docker's default capabilities.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The `PATH` a container gets when its environment has none (moby's `DefaultPathEnv`).
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A bind mount of a host path into the container.
#[derive(Clone, Debug)]
pub struct BindMount {
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub destination: String,
    pub readonly: bool,
    /// More mount flags (`noexec`, `nosuid`, `nodev`, `exec`…), applied after `rbind`,
    /// `rprivate` and `ro` (a later one wins, as runc reads them).
    pub options: Vec<String>,
}

/// A host device node made in the container (`docker run --device`): the node's type
/// (`c` or `b`), numbers, mode and owner as found on the host, and the cgroup access
/// (`rwm`) granted to it.
#[derive(Clone, Debug, PartialEq)]
pub struct LinuxDevice {
    /// Absolute path inside the container.
    pub path: String,
    pub kind: char,
    pub major: u64,
    pub minor: u64,
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub access: String,
}

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    /// The root filesystem directory.
    pub rootfs: PathBuf,
    /// The command, run as `/bin/sh -c COMMAND` (unless `argv` is set).
    pub command: String,
    /// The process's arguments as they are (the program looked up in the container's
    /// `PATH`), instead of `/bin/sh -c command`: a Dockerfile's exec-form `RUN`, or its
    /// `SHELL`.
    pub argv: Option<Vec<String>>,
    /// `user`, `uid`, `user:group`, `uid:gid`; root when None or empty.
    pub user: Option<String>,
    /// The image's environment (`KEY=VALUE`), then extra variables (later wins).
    pub env: Vec<String>,
    /// Working directory; `/` when None.
    pub workdir: Option<String>,
    pub mounts: Vec<BindMount>,
    /// Device nodes made in the container, and allowed by its device cgroup.
    pub devices: Vec<LinuxDevice>,
    /// Bytes written to the command's stdin (then closed); stdin is empty when None.
    pub stdin: Option<Vec<u8>>,
    /// Runtime binary; default `$KILN_OCI_RUNTIME`, else runc, else crun.
    pub runtime: Option<String>,
    /// Give the container every capability (Packer's `privileged`).
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// Where the temporary bundle and runtime state go (a builder's temporary directory);
    /// the system temporary directory when None.
    pub work_dir: Option<PathBuf>,
    /// Run the command **without a container** (see [`run`]): straight in `rootfs` when it
    /// is `/`, else after `chroot(rootfs)`.
    pub in_place: bool,
    /// The container's host name (and `HOSTNAME`); `kiln` when None.
    pub hostname: Option<String>,
}

/// The runtime binary [`run`] would use, or the error saying what to install.
pub fn find_runtime(explicit: Option<&str>) -> Result<PathBuf> {
    let env = std::env::var("KILN_OCI_RUNTIME")
        .ok()
        .filter(|s| !s.is_empty());
    let wanted: Vec<String> = match explicit.map(String::from).or(env) {
        Some(r) => vec![r],
        None => vec!["runc".into(), "crun".into()],
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    for w in &wanted {
        if w.contains('/') {
            if Path::new(w).is_file() {
                return Ok(PathBuf::from(w));
            }
            continue;
        }
        for dir in std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        {
            let p = dir.join(w);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::Runtime {
        runtime: wanted.join(" or "),
        detail: format!(
            "not installed (looked for {} in PATH); install runc (apt-get install runc) or crun",
            wanted.join(", ")
        ),
    })
}

fn cap_name(c: &str) -> String {
    let u = c.to_ascii_uppercase();
    if u.starts_with("CAP_") {
        u
    } else {
        format!("CAP_{u}")
    }
}

/// All capabilities the kernel knows (for `privileged`).
const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
];

/// A user resolved against the image's `/etc/passwd` and `/etc/group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: Option<String>,
}

fn read_db(rootfs: &Path, file: &str) -> Vec<Vec<String>> {
    let Ok(p) = resolve_in_root(rootfs, Path::new(file), false) else {
        return vec![];
    };
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').map(String::from).collect())
        .collect()
}

/// The owner names `docker export` writes, as dockerd on a Debian host finds them: its tar
/// runs chrooted into the container's root and looks names up through glibc, where systemd's
/// NSS module names 0 (`root`/`root`) and 65534 (`nobody`/`nogroup`) whatever the image
/// says, and `/etc/passwd` and `/etc/group` of the root name the other ids (the first entry
/// of an id wins; as glibc's `files` parser, a passwd line needs a name, a password field
/// and numeric uid and gid, a group line a name, a password field and a numeric gid; NIS
/// lines, `+` and `-`, are skipped). Found by probing dockerd 20.10 (docker-diff
/// `export-contents`, `export-owner-names`).
pub fn owner_names(rootfs: &Path) -> crate::diff::OwnerNames {
    let mut n = crate::diff::OwnerNames::default();
    for (id, user, group) in [(0, "root", "root"), (65534, "nobody", "nogroup")] {
        n.users.insert(id, user.into());
        n.groups.insert(id, group.into());
    }
    for (file, numeric, map) in [
        ("etc/passwd", 2..4, &mut n.users),
        ("etc/group", 2..3, &mut n.groups),
    ] {
        for e in read_db(rootfs, file) {
            let name = e[0].trim_start();
            if e.len() < numeric.end
                || name.is_empty()
                || name.starts_with(['#', '+', '-'])
                || e[numeric.clone()].iter().any(|x| x.parse::<u32>().is_err())
            {
                continue;
            }
            if let Ok(id) = e[2].parse::<u32>() {
                map.entry(id).or_insert_with(|| name.to_string());
            }
        }
    }
    n
}

/// Resolves Docker's `--user` forms inside `rootfs`.
pub fn resolve_user(rootfs: &Path, user: Option<&str>) -> Result<ResolvedUser> {
    let user = user.unwrap_or("").trim();
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read_db(rootfs, "etc/passwd");
    let group = read_db(rootfs, "etc/group");
    let (uid, mut gid, name, home) = if u.is_empty() {
        let e = passwd
            .iter()
            .find(|e| e.get(2).map(String::as_str) == Some("0"));
        (
            0,
            0,
            e.map(|e| e[0].clone()),
            e.and_then(|e| e.get(5).cloned()),
        )
    } else if let Ok(n) = u.parse::<u32>() {
        let e = passwd
            .iter()
            .find(|e| e.get(2).and_then(|x| x.parse().ok()) == Some(n));
        (
            n,
            e.and_then(|e| e.get(3)?.parse().ok()).unwrap_or(0),
            e.map(|e| e[0].clone()),
            e.and_then(|e| e.get(5).cloned()),
        )
    } else {
        let e = passwd
            .iter()
            .find(|e| e.first().map(String::as_str) == Some(u))
            .ok_or_else(|| {
                Error::Invalid(format!("user {u:?} not found in the image's /etc/passwd"))
            })?;
        let num = |i: usize| e.get(i).and_then(|x| x.parse::<u32>().ok());
        (
            num(2)
                .ok_or_else(|| Error::Invalid(format!("/etc/passwd entry of {u:?} has no uid")))?,
            num(3).unwrap_or(0),
            Some(u.to_string()),
            e.get(5).cloned(),
        )
    };
    if let Some(g) = g.filter(|g| !g.is_empty()) {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group
                .iter()
                .find(|e| e.first().map(String::as_str) == Some(g))
                .and_then(|e| e.get(2)?.parse().ok())
                .ok_or_else(|| {
                    Error::Invalid(format!("group {g:?} not found in the image's /etc/group"))
                })?,
        };
    }
    let mut additional_gids = vec![];
    if let Some(n) = &name {
        for e in &group {
            if e.get(3).is_some_and(|m| m.split(',').any(|x| x == n))
                && let Some(id) = e.get(2).and_then(|x| x.parse::<u32>().ok())
                && id != gid
                && !additional_gids.contains(&id)
            {
                additional_gids.push(id);
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home: home.filter(|h| !h.is_empty()),
    })
}

const MOUNTPOINTS: &[&str] = &["proc", "dev", "sys"];

const DEFAULT_HOSTNAME: &str = "kiln";

/// What Docker's init layer holds (moby v20.10 `daemon/initlayer.Setup`), in its order:
/// directories, empty files (mode 0755) and `etc/mtab`'s link. The init layer lies over the
/// image and under the container's own layer: `docker export` shows it, a commit never does.
const INIT_LAYER: &[(&str, Option<&str>)] = &[
    ("dev/pts", None),
    ("dev/shm", None),
    ("proc", None),
    ("sys", None),
    (".dockerenv", Some("")),
    ("etc/resolv.conf", Some("")),
    ("etc/hosts", Some("")),
    ("etc/hostname", Some("")),
    ("dev/console", Some("")),
    ("etc/mtab", Some("/proc/mounts")),
];

/// Makes Docker's init layer in `rootfs` (see [`INIT_LAYER`]): a builder calls it before
/// its "before" snapshot, so that nothing of it lands in a commit, while an export holds
/// it as `docker export` does. A file of the image at one of these paths is replaced by the
/// empty placeholder (as the init layer hides it; the image itself keeps it, since a commit
/// holds only what changed after the snapshot). The container's `/etc/hosts`,
/// `/etc/hostname` and `/etc/resolv.conf` are then bound over the placeholders.
pub fn make_init_layer(rootfs: &Path) -> Result<()> {
    let cerr = |p: &Path| Error::io("create init layer entry", p.to_path_buf());
    for (path, kind) in INIT_LAYER {
        let rel = Path::new(path);
        let p = rootfs.join(rel);
        let dir = resolve_in_root(rootfs, rel.parent().unwrap_or(Path::new("")), true)
            .map_err(cerr(&p))?;
        let leaf = dir.join(rel.file_name().unwrap_or_default());
        let have = std::fs::symlink_metadata(&leaf).ok();
        match kind {
            None => {
                if have.as_ref().is_some_and(|m| m.is_dir()) {
                    continue;
                }
            }
            Some("") => {
                if have.as_ref().is_some_and(|m| m.is_file() && m.len() == 0) {
                    continue;
                }
            }
            Some(target) => {
                if std::fs::read_link(&leaf).is_ok_and(|t| t == Path::new(target)) {
                    continue;
                }
            }
        }
        match have {
            Some(m) if m.is_dir() => std::fs::remove_dir_all(&leaf).map_err(cerr(&leaf))?,
            Some(_) => std::fs::remove_file(&leaf).map_err(cerr(&leaf))?,
            None => {}
        }
        match kind {
            None => std::fs::create_dir(&leaf).map_err(cerr(&leaf))?,
            Some("") => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o755)
                    .open(&leaf)
                    .map_err(cerr(&leaf))?;
            }
            Some(target) => std::os::unix::fs::symlink(target, &leaf).map_err(cerr(&leaf))?,
        }
        std::os::unix::fs::lchown(&leaf, Some(0), Some(0)).map_err(cerr(&leaf))?;
        if !matches!(kind, Some(t) if !t.is_empty()) {
            // 0755 whatever the umask
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&leaf, std::fs::Permissions::from_mode(0o755))
                .map_err(cerr(&leaf))?;
        }
    }
    Ok(())
}

/// Creates the mount points the container needs (`/proc`, `/dev`, `/sys` and the bind
/// mount destinations) in `rootfs`, so that running a command adds nothing to a later diff.
/// A builder calls it before its "before" snapshot. Returns the bind destinations (relative)
/// that it created, to leave out of snapshots.
pub fn prepare_mountpoints(rootfs: &Path, mounts: &[BindMount]) -> Result<Vec<PathBuf>> {
    for m in MOUNTPOINTS {
        resolve_in_root(rootfs, Path::new(m), true)
            .map_err(Error::io("create mount point", rootfs.join(m)))?;
    }
    make_mountpoints(rootfs, mounts)
}

/// Creates the bind mount destinations in `rootfs` (a directory for a directory, an empty
/// file for a file) and returns them relative to it. Made after the "before" snapshot, as
/// dockerd makes them in the container's own layer, they land in a commit as empty entries
/// when the image lacked them (with [`crate::diff::SnapshotOptions::keep`] naming them).
pub fn make_mountpoints(rootfs: &Path, mounts: &[BindMount]) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    for b in mounts {
        let rel = PathBuf::from(b.destination.trim_start_matches('/'));
        let p = rootfs.join(&rel);
        if b.source.is_dir() {
            resolve_in_root(rootfs, &rel, true).map_err(Error::io("create mount point", &p))?;
        } else {
            let parent = rel.parent().unwrap_or(Path::new(""));
            let dir = resolve_in_root(rootfs, parent, true)
                .map_err(Error::io("create mount point", &p))?;
            let f = dir.join(rel.file_name().unwrap_or_default());
            if !f.exists() {
                std::fs::File::create(&f).map_err(Error::io("create mount point", &f))?;
            }
        }
        out.push(rel);
    }
    Ok(out)
}

/// The command's environment: a default `PATH`, `HOSTNAME`, `HOME` (the user's), then the
/// image's and the caller's variables (later ones win).
fn process_env(spec: &RunSpec, user: &ResolvedUser) -> Vec<String> {
    let mut env: Vec<String> = vec![];
    let mut set = |kv: &str| {
        let k = kv.split_once('=').map(|x| x.0).unwrap_or(kv);
        env.retain(|e| e.split_once('=').map(|x| x.0) != Some(k));
        env.push(kv.to_string());
    };
    set(DEFAULT_PATH);
    set(&format!(
        "HOSTNAME={}",
        spec.hostname.as_deref().unwrap_or(DEFAULT_HOSTNAME)
    ));
    if let Some(h) = &user.home {
        set(&format!("HOME={h}"));
    } else {
        set("HOME=/root");
    }
    for e in &spec.env {
        set(e);
    }
    env
}

/// The OCI runtime spec for `spec` with the resolved user.
pub fn runtime_config(spec: &RunSpec, user: &ResolvedUser) -> Result<Value> {
    let rootfs = std::fs::canonicalize(&spec.rootfs)
        .map_err(Error::io("open root filesystem", &spec.rootfs))?;
    let env = process_env(spec, user);
    let mut caps: Vec<String> = if spec.privileged {
        ALL_CAPS.iter().map(|s| s.to_string()).collect()
    } else {
        DEFAULT_CAPS.iter().map(|s| s.to_string()).collect()
    };
    for c in &spec.cap_add {
        if c.eq_ignore_ascii_case("ALL") {
            caps = ALL_CAPS.iter().map(|s| s.to_string()).collect();
        } else if !caps.contains(&cap_name(c)) {
            caps.push(cap_name(c));
        }
    }
    for c in &spec.cap_drop {
        if c.eq_ignore_ascii_case("ALL") {
            caps.clear();
        } else {
            caps.retain(|x| *x != cap_name(c));
        }
    }
    let effective = if user.uid == 0 { caps.clone() } else { vec![] };
    let mut mounts = vec![
        json!({"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]}),
        json!({"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}),
        json!({"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]}),
        json!({"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]}),
        json!({"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]}),
        json!({"destination":"/sys","type":"bind","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}),
    ];
    for b in &spec.mounts {
        if !b.destination.starts_with('/') {
            return Err(Error::Invalid(format!(
                "mount destination {:?} must be an absolute path",
                b.destination
            )));
        }
        let src = std::fs::canonicalize(&b.source).map_err(Error::io("mount source", &b.source))?;
        let mut opts = vec!["rbind", "rprivate"];
        if b.readonly {
            opts.push("ro");
        }
        opts.extend(b.options.iter().map(String::as_str));
        mounts.push(
            json!({"destination": b.destination, "type":"bind", "source": src, "options": opts}),
        );
    }
    let masked: Vec<&str> = if spec.privileged {
        vec![]
    } else {
        vec![
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/proc/scsi",
            "/sys/firmware",
        ]
    };
    let readonly: Vec<&str> = if spec.privileged {
        vec![]
    } else {
        vec![
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger",
        ]
    };
    let devices: Vec<Value> = spec
        .devices
        .iter()
        .map(|d| {
            json!({"path": d.path, "type": d.kind.to_string(), "major": d.major, "minor": d.minor,
                "fileMode": d.file_mode, "uid": d.uid, "gid": d.gid})
        })
        .collect();
    let device_rules: Vec<Value> = spec
        .devices
        .iter()
        .map(|d| {
            json!({"allow": true, "type": d.kind.to_string(), "major": d.major, "minor": d.minor,
                "access": d.access})
        })
        .collect();
    // as moby's getUser: the primary group first, then the user's other groups
    let additional_gids: Vec<u32> = std::iter::once(user.gid)
        .chain(user.additional_gids.iter().copied())
        .collect();
    let seccomp = if spec.privileged {
        None // as Docker: a privileged container runs unconfined
    } else {
        seccomp_for(Path::new(SECCOMP_PROFILE), &caps)?
    };
    Ok(json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": user.uid, "gid": user.gid, "additionalGids": additional_gids},
            "args": spec.argv.clone().unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), spec.command.clone()]),
            "env": env,
            "cwd": spec.workdir.clone().filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into()),
            "capabilities": {
                "bounding": caps, "effective": effective, "permitted": effective, "ambient": [], "inheritable": []
            },
            "noNewPrivileges": false
        },
        "root": {"path": rootfs, "readonly": false},
        "hostname": spec.hostname.as_deref().unwrap_or(DEFAULT_HOSTNAME),
        "mounts": mounts,
        "linux": {
            "namespaces": [{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],
            "maskedPaths": masked,
            "readonlyPaths": readonly,
            "devices": devices,
            "resources": {"devices": device_rules},
            "seccomp": seccomp
        }
    }))
}

/// The host's default seccomp profile for containers: containers-common's, which buildah
/// and podman apply (Docker's daemon has its own built in, to the same effect).
pub const SECCOMP_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// The seccomp filter of the profile at `path` for a container whose bounding capability set
/// is `caps`, as moby's and containers-common's `setupSeccomp` make it: the native
/// architecture and its sub-architectures from `archMap`; a syscall rule only when its
/// `includes` hold (architectures, capabilities all in the set, the kernel at least
/// `minKernel`) and its `excludes` do not (an architecture, any of the capabilities, the
/// kernel at least `minKernel`). None when the file is absent (no filter, as without one).
pub fn seccomp_for(path: &Path, caps: &[String]) -> Result<Option<Value>> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read seccomp profile", path)(e)),
    };
    let bad = |why: String| Error::Invalid(format!("seccomp profile {}: {why}", path.display()));
    let p: Value = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    let (go_arch, native) = match std::env::consts::ARCH {
        "x86_64" => ("amd64", "SCMP_ARCH_X86_64"),
        "aarch64" => ("arm64", "SCMP_ARCH_AARCH64"),
        "x86" => ("386", "SCMP_ARCH_X86"),
        "arm" => ("arm", "SCMP_ARCH_ARM"),
        "powerpc64" => ("ppc64le", "SCMP_ARCH_PPC64LE"),
        "s390x" => ("s390x", "SCMP_ARCH_S390X"),
        "riscv64" => ("riscv64", "SCMP_ARCH_RISCV64"),
        other => (other, ""),
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|r| kernel_version(r.trim()));
    let at_least = |min: &Value| -> bool {
        match (min.as_str().map(kernel_version), kernel) {
            (Some(m), Some(k)) => k >= m,
            _ => false,
        }
    };
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut arches = vec![];
    for a in p["archMap"].as_array().into_iter().flatten() {
        if a["architecture"].as_str() == Some(native) {
            arches.push(native.to_string());
            arches.extend(strs(&a["subArchitectures"]));
        }
    }
    let mut rules = vec![];
    for r in p["syscalls"].as_array().into_iter().flatten() {
        let (inc, exc) = (&r["includes"], &r["excludes"]);
        let excluded = strs(&exc["arches"]).iter().any(|a| a == go_arch)
            || strs(&exc["caps"]).iter().any(|c| caps.contains(c))
            || (!exc["minKernel"].is_null() && at_least(&exc["minKernel"]));
        let included = (inc["arches"].is_null()
            || strs(&inc["arches"]).iter().any(|a| a == go_arch))
            && strs(&inc["caps"]).iter().all(|c| caps.contains(c))
            && (inc["minKernel"].is_null() || at_least(&inc["minKernel"]));
        if excluded || !included {
            continue;
        }
        let mut names = strs(&r["names"]);
        if let Some(n) = r["name"].as_str() {
            names.push(n.to_string());
        }
        let action = r["action"]
            .as_str()
            .ok_or_else(|| bad(format!("a rule for {names:?} has no action")))?;
        let mut rule = json!({"names": names, "action": action});
        if let Some(e) = r["errnoRet"].as_u64() {
            rule["errnoRet"] = json!(e);
        }
        let args: Vec<Value> = r["args"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| json!({"index": a["index"], "value": a["value"], "valueTwo": a["valueTwo"], "op": a["op"]}))
            .collect();
        if !args.is_empty() {
            rule["args"] = json!(args);
        }
        rules.push(rule);
    }
    let mut out = json!({
        "defaultAction": p["defaultAction"].as_str().ok_or_else(|| bad("no defaultAction".into()))?,
        "architectures": arches,
        "syscalls": rules,
    });
    if let Some(e) = p["defaultErrnoRet"].as_u64() {
        out["defaultErrnoRet"] = json!(e);
    }
    Ok(Some(out))
}

/// A kernel release's major and minor numbers (`6.1.0-18-amd64` → (6, 1)).
fn kernel_version(release: &str) -> (u32, u32) {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|x| x.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// crun is told not to manage cgroups: Kiln sets no resource limits, and no cgroup is then
/// left behind by a killed run. runc needs no flag.
fn global_args(runtime: &Path) -> Vec<&'static str> {
    if runtime
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("crun"))
    {
        vec!["--cgroup-manager=disabled"]
    } else {
        vec![]
    }
}

/// The journal file in a run or build directory: who made it (pid and the process's start
/// time, so a reused pid does not count) and the runtime its containers were made with.
pub const OWNER_FILE: &str = "kiln-owner";

fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Marks `dir` as belonging to this process (and, for a run directory, records the runtime
/// whose state lives in it), so that [`reap_stale`] can clean it up after a SIGKILL.
pub fn write_owner(dir: &Path, runtime: Option<&Path>) -> Result<()> {
    let pid = std::process::id();
    let start = process_start(pid).unwrap_or(0);
    let rt = runtime.map(|r| r.display().to_string()).unwrap_or_default();
    crate::store::write_atomic(
        &dir.join(OWNER_FILE),
        format!("{pid} {start}\n{rt}\n").as_bytes(),
    )
}

/// Whether the process recorded in `dir`'s owner file is gone (false when there is no
/// owner file: not ours to judge).
fn owner_gone(dir: &Path) -> Option<(bool, Option<PathBuf>)> {
    let text = std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?;
    let mut lines = text.lines();
    let mut first = lines.next()?.split_whitespace();
    let pid: u32 = first.next()?.parse().ok()?;
    let start: u64 = first.next()?.parse().ok()?;
    let runtime = lines.next().filter(|l| !l.is_empty()).map(PathBuf::from);
    let alive = process_start(pid).is_some_and(|s| s == start);
    Some((!alive, runtime))
}

/// Reaps what killed Kiln processes left under `dir`: every `kiln-*` directory whose owner
/// (see [`write_owner`]) is gone has its containers killed and deleted with the runtime
/// that made them, then is removed. Directories of live processes and directories without
/// an owner file are left alone. Returns the directories removed.
pub fn reap_stale(dir: &Path) -> Vec<PathBuf> {
    let mut removed = vec![];
    let Ok(rd) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in rd.flatten() {
        let p = e.path();
        if !e.file_name().to_string_lossy().starts_with("kiln-") || !p.is_dir() {
            continue;
        }
        let Some((true, runtime)) = owner_gone(&p) else {
            continue;
        };
        reap_dir(&p, runtime.as_deref());
        unmount_under(&p);
        if std::fs::remove_dir_all(&p).is_ok() {
            removed.push(p);
        }
    }
    removed
}

/// Kills and deletes the containers whose runtime state is under `dir` (recursively).
fn reap_dir(dir: &Path, runtime: Option<&Path>) {
    let state = dir.join("state");
    if let Some(rt) = runtime
        && let Ok(rd) = std::fs::read_dir(&state)
    {
        for c in rd.flatten() {
            let id = c.file_name().to_string_lossy().to_string();
            for args in [
                vec!["kill", id.as_str(), "KILL"],
                vec!["delete", "-f", id.as_str()],
            ] {
                let _ = kiln_process::status_std(&mut state_command(rt, &state, &args));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && e.file_name().to_string_lossy().starts_with("kiln-") {
                let rt = owner_gone(&p).and_then(|(_, r)| r);
                reap_dir(&p, rt.as_deref().or(runtime));
            }
        }
    }
}

/// Detaches every mount under `dir` (a [`HostTmpfs`] a killed process left), with what is
/// mounted under it.
fn unmount_under(dir: &Path) {
    for rel in mount_points_under(dir).unwrap_or_default() {
        let _ = nix::mount::umount2(&dir.join(rel), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Files one command's binds need as mount points where the root filesystem lacks them
/// (a Dockerfile's `RUN`: the files of dockerd's init layer its container sees, which no
/// commit holds), made by [`make_placeholders`] and removed when dropped: the directories
/// made go too, a symbolic link set aside comes back, and the times of the directories
/// they were made in are put back.
#[derive(Debug, Default)]
pub struct Placeholders {
    /// Files and directories made, in the order made.
    made: Vec<PathBuf>,
    /// Symbolic links renamed aside: (where it was, where it is).
    aside: Vec<(PathBuf, PathBuf)>,
    /// Directories whose entries changed, with their access and modification times.
    times: Vec<(PathBuf, nix::sys::time::TimeSpec, nix::sys::time::TimeSpec)>,
    /// The files (relative) now there to bind over.
    pub ready: Vec<PathBuf>,
}

/// Makes an empty file at each of `files` (relative to `rootfs`) that is missing, with the
/// directories it needs; a symbolic link there is set aside for the time of the command (a
/// bind would follow it). Paths under a symbolic link or a non-directory are left alone.
pub fn make_placeholders(rootfs: &Path, files: &[&str]) -> Result<Placeholders> {
    use std::os::unix::fs::MetadataExt;
    let mut ph = Placeholders::default();
    let cerr = |p: &Path| Error::io("create mount point", p.to_path_buf());
    let note_times = |ph: &mut Placeholders, dir: &Path| -> Result<()> {
        if ph.made.iter().any(|m| m == dir) || ph.times.iter().any(|t| t.0 == dir) {
            return Ok(());
        }
        let m = std::fs::symlink_metadata(dir).map_err(cerr(dir))?;
        ph.times.push((
            dir.to_path_buf(),
            nix::sys::time::TimeSpec::new(m.atime(), m.atime_nsec()),
            nix::sys::time::TimeSpec::new(m.mtime(), m.mtime_nsec()),
        ));
        Ok(())
    };
    'files: for f in files {
        let rel = Path::new(f);
        let mut cur = rootfs.to_path_buf();
        for c in rel.parent().unwrap_or(Path::new("")).components() {
            let next = cur.join(c);
            match std::fs::symlink_metadata(&next) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => continue 'files,
                Err(_) => {
                    note_times(&mut ph, &cur)?;
                    std::fs::create_dir(&next).map_err(cerr(&next))?;
                    ph.made.push(next.clone());
                }
            }
            cur = next;
        }
        let leaf = cur.join(rel.file_name().unwrap_or_default());
        match std::fs::symlink_metadata(&leaf) {
            Ok(m) if m.is_file() => {}
            Ok(m) if m.file_type().is_symlink() => {
                note_times(&mut ph, &cur)?;
                let aside = cur.join(format!(
                    ".kiln-aside-{}",
                    leaf.file_name().unwrap_or_default().to_string_lossy()
                ));
                std::fs::rename(&leaf, &aside).map_err(cerr(&leaf))?;
                ph.aside.push((leaf.clone(), aside));
                std::fs::File::create(&leaf).map_err(cerr(&leaf))?;
                ph.made.push(leaf);
            }
            Ok(_) => continue,
            Err(_) => {
                note_times(&mut ph, &cur)?;
                std::fs::File::create(&leaf).map_err(cerr(&leaf))?;
                ph.made.push(leaf);
            }
        }
        ph.ready.push(rel.to_path_buf());
    }
    Ok(ph)
}

impl Drop for Placeholders {
    fn drop(&mut self) {
        for p in self.made.iter().rev() {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
        }
        for (was, is) in self.aside.iter().rev() {
            let _ = std::fs::rename(is, was);
        }
        for (d, atime, mtime) in self.times.iter().rev() {
            let _ = nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                d,
                atime,
                mtime,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            );
        }
    }
}

/// A tmpfs mounted on the host for the life of a build, bound into each of its commands'
/// containers (`docker run --tmpfs`: one file system the container's commands share, which
/// a container per command could not give). Unmounted (detached) and its mount point
/// removed when dropped; [`reap_stale`] detaches what a killed process left.
#[derive(Debug)]
pub struct HostTmpfs {
    path: PathBuf,
}

impl HostTmpfs {
    /// Mounts a tmpfs at `path` (created) with `data` (`size=…,mode=…`, the file system's
    /// own options). Needs root.
    pub fn mount(path: &Path, data: &str) -> Result<HostTmpfs> {
        std::fs::create_dir_all(path).map_err(Error::io("create mount point", path))?;
        let data = (!data.is_empty()).then_some(data);
        nix::mount::mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            data,
        )
        .map_err(|e| {
            let _ = std::fs::remove_dir(path);
            Error::io("mount tmpfs", path)(std::io::Error::from(e))
        })?;
        Ok(HostTmpfs {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for HostTmpfs {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.path);
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Deletes the container when dropped (also when the future of [`run`] is dropped).
struct ContainerGuard {
    runtime: PathBuf,
    state: PathBuf,
    id: String,
    armed: bool,
}

/// `RUNTIME [global options] --root STATE ARGS…`, its output discarded: how Kiln tells the
/// runtime what to do with a container.
fn state_command(runtime: &Path, state: &Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(runtime);
    c.args(global_args(runtime))
        .arg("--root")
        .arg(state)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

impl ContainerGuard {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        state_command(&self.runtime, &self.state, args).into()
    }

    /// Kills the container's processes (SIGKILL).
    async fn kill(&self) {
        let _ = kiln_process::status(&mut self.command(&["kill", &self.id, "KILL"])).await;
    }

    async fn delete(&mut self) {
        let _ = kiln_process::status(&mut self.command(&["delete", "-f", &self.id])).await;
        self.armed = false;
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if self.armed {
            let delete = ["delete", "-f", &self.id];
            let _ =
                kiln_process::status_std(&mut state_command(&self.runtime, &self.state, &delete));
        }
    }
}

/// Runs `spec.command` with `/bin/sh -c` in `spec.rootfs`, calling `on_stdout`/`on_stderr`
/// with each output line (without its newline), and returns the command's exit status.
/// `cancel` kills the command (SIGKILL) and returns [`Error::Cancelled`]; so does dropping
/// the future.
///
/// In a container (see the module's documentation) unless `spec.in_place`: then it runs
/// **without a container**, straight in `spec.rootfs` when it is `/` (the kaniko pattern:
/// the runner pod was created from the build's base image, so its own root filesystem is
/// the image), else after `chroot(spec.rootfs)` (needs root; what the local tests of that
/// mode use). The user, supplementary groups, environment and working directory are set as
/// in a container; no namespace, mount or capability is changed, so it needs no privilege
/// beyond switching to a non-root `user`. Mounts, `privileged` and capabilities of `spec`
/// are not used; `cancel` kills the command's process group.
///
/// The container, its bundle and its state, or the process group, are removed in every
/// case.
pub async fn run(
    spec: &RunSpec,
    mut on_stdout: impl FnMut(&str),
    mut on_stderr: impl FnMut(&str),
    cancel: &CancellationToken,
) -> Result<i32> {
    let mut started = if spec.in_place {
        start_in_place(spec)?
    } else {
        start_container(spec)?
    };
    // if the runtime itself hangs, `supervise` kills it too
    let (status, cancelled) = supervise(
        &mut started.child,
        spec.stdin.clone(),
        &mut on_stdout,
        &mut on_stderr,
        cancel,
        started.cleanup.kill(),
    )
    .await;
    started.cleanup.end().await;
    finish(status, cancelled, &started.rootfs, started.what)
}

/// A command [`run`] started, and what goes with it.
struct Started {
    child: tokio::process::Child,
    /// What errors name: the runtime, or `sh in ROOTFS`.
    what: String,
    rootfs: PathBuf,
    cleanup: Cleanup,
}

/// What a started command leaves to remove: removed by [`Cleanup::end`], or when dropped.
enum Cleanup {
    /// The container, and the temporary directory of its bundle and state.
    Container {
        guard: ContainerGuard,
        bundle: tempfile::TempDir,
    },
    /// The command's process group (background processes it left go with it).
    Group(GroupGuard),
}

impl Cleanup {
    /// Kills every process of the command.
    async fn kill(&self) {
        match self {
            Cleanup::Container { guard, .. } => guard.kill().await,
            Cleanup::Group(g) => g.kill(),
        }
    }

    /// Removes what is left once the command has ended.
    async fn end(self) {
        match self {
            Cleanup::Container { mut guard, bundle } => {
                guard.delete().await;
                drop(bundle);
            }
            Cleanup::Group(mut g) => {
                g.kill();
                g.0 = None;
            }
        }
    }
}

/// Kills the process group when dropped (also when the future of [`run`] is dropped).
struct GroupGuard(Option<nix::unistd::Pid>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(p) = self.0 {
            let _ = nix::sys::signal::killpg(p, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `spec.command` in a container made by the OCI runtime.
fn start_container(spec: &RunSpec) -> Result<Started> {
    let runtime = find_runtime(spec.runtime.as_deref())?;
    let rt_name = runtime.display().to_string();
    if spec.argv.is_none() {
        require_sh(&spec.rootfs, &rt_name)?;
    }
    let user = resolve_user(&spec.rootfs, spec.user.as_deref())?;
    let config = runtime_config(spec, &user)?;
    let parent = spec.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::Builder::new()
        .prefix("kiln-run-")
        .tempdir_in(&parent)
        .map_err(Error::io("create bundle directory in", &parent))?;
    let bundle = tmp.path().join("bundle");
    let state = tmp.path().join("state");
    write_owner(tmp.path(), Some(&runtime))?;
    std::fs::create_dir_all(&bundle).map_err(Error::io("create", &bundle))?;
    std::fs::create_dir_all(&state).map_err(Error::io("create", &state))?;
    crate::store::write_atomic(
        &bundle.join("config.json"),
        &serde_json::to_vec_pretty(&config).unwrap(),
    )?;
    let id = format!(
        "kiln-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let guard = ContainerGuard {
        runtime: runtime.clone(),
        state: state.clone(),
        id: id.clone(),
        armed: true,
    };
    let child = kiln_process::spawn(
        tokio::process::Command::from(state_command(&runtime, &state, &["run", "--bundle"]))
            .arg(&bundle)
            .arg(&id)
            .stdin(stdin_for(spec))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true),
    )
    .map_err(|e| Error::Runtime {
        runtime: rt_name.clone(),
        detail: format!("cannot start: {e}"),
    })?;
    Ok(Started {
        child,
        what: rt_name,
        rootfs: spec.rootfs.clone(),
        cleanup: Cleanup::Container { guard, bundle: tmp },
    })
}

/// Fails unless `rootfs` has a `/bin/sh` to run commands with.
fn require_sh(rootfs: &Path, runtime: &str) -> Result<()> {
    match resolve_in_root(rootfs, Path::new("bin/sh"), false) {
        Ok(p) if p.is_file() => Ok(()),
        _ => Err(Error::Runtime {
            runtime: runtime.to_string(),
            detail: format!(
                "the root filesystem {} has no /bin/sh to run commands with",
                rootfs.display()
            ),
        }),
    }
}

/// A pipe when the command is given input, else nothing.
fn stdin_for(spec: &RunSpec) -> Stdio {
    if spec.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    }
}

/// Feeds `stdin` to `child`, hands each line of its output to `on_stdout` / `on_stderr`
/// until both streams close and it exits; on `cancel`, awaits `kill` then kills the child
/// itself. Returns how it exited and whether it was cancelled.
async fn supervise(
    child: &mut tokio::process::Child,
    stdin: Option<Vec<u8>>,
    on_stdout: &mut impl FnMut(&str),
    on_stderr: &mut impl FnMut(&str),
    cancel: &CancellationToken,
    kill: impl std::future::Future<Output = ()>,
) -> (std::io::Result<std::process::ExitStatus>, bool) {
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        tokio::spawn(async move {
            let _ = pipe.write_all(&data).await;
        });
    }
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
    let mut cancelled = false;
    let mut kill = Some(kill);
    while out_open || err_open || status.is_none() {
        tokio::select! {
            l = out.next_line(), if out_open => match l {
                Ok(Some(l)) => on_stdout(&l),
                _ => out_open = false,
            },
            l = err.next_line(), if err_open => match l {
                Ok(Some(l)) => on_stderr(&l),
                _ => err_open = false,
            },
            s = child.wait(), if status.is_none() => {
                status = Some(s);
            }
            _ = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                if let Some(k) = kill.take() {
                    k.await;
                }
                let _ = child.start_kill();
            }
        }
    }
    (
        status.expect("the loop ends once the child has exited"),
        cancelled,
    )
}

/// The exit code of a supervised command (128 + the signal when a signal ended it), or
/// [`Error::Cancelled`].
fn finish(
    status: std::io::Result<std::process::ExitStatus>,
    cancelled: bool,
    rootfs: &Path,
    runtime: String,
) -> Result<i32> {
    if cancelled {
        return Err(Error::Cancelled(format!("command in {}", rootfs.display())));
    }
    let st = status.map_err(|e| Error::Runtime {
        runtime,
        detail: format!("wait: {e}"),
    })?;
    use std::os::unix::process::ExitStatusExt;
    Ok(st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)))
}

/// Starts `spec.command` without a container, in its own process group (see [`run`]).
fn start_in_place(spec: &RunSpec) -> Result<Started> {
    let rootfs = std::fs::canonicalize(&spec.rootfs)
        .map_err(Error::io("open root filesystem", &spec.rootfs))?;
    let what = format!("sh in {}", rootfs.display());
    require_sh(&rootfs, &what)?;
    let user = resolve_user(&rootfs, spec.user.as_deref())?;
    let env = process_env(spec, &user);
    let cwd = spec
        .workdir
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".into());
    let mut cmd = tokio::process::Command::new("/bin/sh");
    match &spec.argv {
        // (the shell looks the program up in the root's PATH, after the chroot)
        Some(argv) => cmd.args(["-c", "exec \"$@\"", "sh"]).args(argv),
        None => cmd.arg("-c").arg(&spec.command),
    };
    cmd.env_clear()
        .envs(env.iter().filter_map(|kv| kv.split_once('=')))
        .stdin(stdin_for(spec))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let chroot = (rootfs != Path::new("/")).then(|| rootfs.clone());
    let switch = user.uid != nix::unistd::geteuid().as_raw();
    let (uid, gid, groups) = (user.uid, user.gid, user.additional_gids.clone());
    // SAFETY: only async-signal-safe calls (chroot, chdir, setgroups, setgid, setuid)
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            use nix::unistd::{Gid, Uid};
            if let Some(root) = &chroot {
                nix::unistd::chroot(root.as_path())?;
            }
            if nix::unistd::chdir(cwd.as_str()).is_err() {
                nix::unistd::chdir("/")?;
            }
            if switch {
                let gs: Vec<Gid> = std::iter::once(gid)
                    .chain(groups.iter().copied())
                    .map(Gid::from_raw)
                    .collect();
                nix::unistd::setgroups(&gs)?;
                nix::unistd::setgid(Gid::from_raw(gid))?;
                nix::unistd::setuid(Uid::from_raw(uid))?;
            }
            Ok(())
        });
    }
    let child = kiln_process::spawn(&mut cmd).map_err(|e| Error::Runtime {
        runtime: what.clone(),
        detail: format!("cannot start /bin/sh: {e}"),
    })?;
    let group = GroupGuard(child.id().map(|p| nix::unistd::Pid::from_raw(p as i32)));
    Ok(Started {
        child,
        what,
        rootfs,
        cleanup: Cleanup::Group(group),
    })
}

/// The mount points strictly under `root` (from `/proc/self/mountinfo`), relative to it:
/// what a snapshot of a pod's own root filesystem leaves out (the service account token,
/// `/etc/hosts`, `/etc/resolv.conf`, emptyDirs, `/proc`, `/dev`, `/sys`, the injected Kiln).
pub fn mount_points_under(root: &Path) -> Result<Vec<PathBuf>> {
    let root = std::fs::canonicalize(root).map_err(Error::io("open root filesystem", root))?;
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(Error::io("read", "/proc/self/mountinfo"))?;
    let mut out = vec![];
    for line in text.lines() {
        let Some(mp) = line.split(' ').nth(4) else {
            continue;
        };
        // mountinfo escapes space, tab, newline and backslash as octal (`\\040`)
        let b = mp.as_bytes();
        let mut raw = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\'
                && i + 3 < b.len()
                && let Ok(v) =
                    u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("x"), 8)
            {
                raw.push(v);
                i += 4;
                continue;
            }
            raw.push(b[i]);
            i += 1;
        }
        use std::os::unix::ffi::OsStrExt;
        let p = std::ffi::OsStr::from_bytes(&raw);
        if let Ok(rel) = Path::new(&p).strip_prefix(&root)
            && !rel.as_os_str().is_empty()
            && !out.iter().any(|o: &PathBuf| rel.starts_with(o))
        {
            out.push(rel.to_path_buf());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn owner_names_as_dockerd_finds_them() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "zed:x:0:0::/:/bin/sh\n# c:x:7:7::/:/bin/sh\nann:x:1234:1234::/:/bin/sh\nbad:x:1:1\n\
             short:x:2\nnum:x:3x:3::/:/bin/sh\n+nis:x:4:4::/:\nsecond:x:1234:1::/:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "grp:x:1234\n+nis:x:1:\nstaff:x:50:a,b\n",
        )
        .unwrap();
        let n = owner_names(d.path());
        let mut users: Vec<_> = n.users.into_iter().collect();
        users.sort();
        let mut groups: Vec<_> = n.groups.into_iter().collect();
        groups.sort();
        let v = |x: &[(u32, &str)]| -> Vec<(u32, String)> {
            x.iter().map(|(i, s)| (*i, s.to_string())).collect()
        };
        assert_eq!(
            users,
            v(&[(0, "root"), (1, "bad"), (1234, "ann"), (65534, "nobody")])
        );
        assert_eq!(
            groups,
            v(&[
                (0, "root"),
                (50, "staff"),
                (1234, "grp"),
                (65534, "nogroup")
            ])
        );
        // no files: only the two names dockerd's host gives
        let e = tempfile::tempdir().unwrap();
        assert_eq!(owner_names(e.path()).users.len(), 2);
    }

    #[test]
    fn seccomp_rules_follow_capabilities_arches_and_kernel() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("p.json");
        std::fs::write(
            &f,
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]},
                       {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}],
            "syscalls":[
              {"names":["read","write"],"action":"SCMP_ACT_ALLOW","args":[],"includes":{},"excludes":{}},
              {"names":["chroot"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_CHROOT"]},"excludes":{}},
              {"names":["chroot"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"includes":{},"excludes":{"caps":["CAP_SYS_CHROOT"]}},
              {"names":["arch_prctl"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64"]},"excludes":{}},
              {"names":["breakpoint"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]},"excludes":{}},
              {"names":["future"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"99.0"},"excludes":{}},
              {"names":["old"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"2.6"},"excludes":{}},
              {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"valueTwo":0,"op":"SCMP_CMP_EQ"}],"includes":{},"excludes":{}}
            ]}"#,
        )
        .unwrap();
        let names = |v: &Value| -> Vec<String> {
            v["syscalls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        r["names"][0].as_str().unwrap(),
                        r["action"].as_str().unwrap()
                    )
                })
                .collect()
        };
        let with = seccomp_for(&f, &["CAP_SYS_CHROOT".into()])
            .unwrap()
            .unwrap();
        let without = seccomp_for(&f, &[]).unwrap().unwrap();
        assert_eq!(with["defaultErrnoRet"], 38);
        let native = if cfg!(target_arch = "x86_64") {
            "arch_prctl"
        } else {
            "breakpoint"
        };
        assert_eq!(
            names(&with),
            [
                "read:SCMP_ACT_ALLOW".to_string(),
                "chroot:SCMP_ACT_ALLOW".into(),
                format!("{native}:SCMP_ACT_ALLOW"),
                "old:SCMP_ACT_ALLOW".into(),
                "personality:SCMP_ACT_ALLOW".into(),
            ]
        );
        assert_eq!(names(&without)[1], "chroot:SCMP_ACT_ERRNO");
        assert_eq!(without["syscalls"][1]["errnoRet"], 1);
        assert_eq!(with["syscalls"][4]["args"][0]["value"], 8);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                with["architectures"],
                json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
            );
        }
        // no profile: no filter; a broken one: an error naming it
        assert!(seccomp_for(&d.path().join("none"), &[]).unwrap().is_none());
        std::fs::write(&f, "{").unwrap();
        let e = seccomp_for(&f, &[]).unwrap_err().to_string();
        assert!(e.contains("p.json"), "{e}");
    }

    #[test]
    fn placeholders_go_away_with_their_directories_and_times() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/hosts"), "image\n").unwrap();
        std::os::unix::fs::symlink("../run/resolv.conf", r.join("etc/resolv.conf")).unwrap();
        std::fs::write(r.join("file"), "").unwrap();
        let old = nix::sys::time::TimeSpec::new(1_000_000, 0);
        for p in ["etc", ""] {
            nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                &r.join(p),
                &old,
                &old,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            )
            .unwrap();
        }
        let ph = make_placeholders(
            r,
            &[
                ".dockerenv",
                "etc/hosts",
                "etc/resolv.conf",
                "new/dir/f",
                "file/x",
            ],
        )
        .unwrap();
        let ready: Vec<&str> = ph.ready.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            ready,
            [".dockerenv", "etc/hosts", "etc/resolv.conf", "new/dir/f"]
        );
        assert!(r.join("etc/resolv.conf").is_file() && r.join("new/dir/f").is_file());
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hosts")).unwrap(),
            "image\n"
        );
        drop(ph);
        for gone in [".dockerenv", "new"] {
            assert!(std::fs::symlink_metadata(r.join(gone)).is_err(), "{gone}");
        }
        assert_eq!(
            std::fs::read_link(r.join("etc/resolv.conf")).unwrap(),
            Path::new("../run/resolv.conf")
        );
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hosts")).unwrap(),
            "image\n"
        );
        let mut names: Vec<_> = std::fs::read_dir(r.join("etc"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["hosts", "resolv.conf"]);
        for p in ["etc", ""] {
            assert_eq!(
                std::fs::symlink_metadata(r.join(p)).unwrap().mtime(),
                1_000_000,
                "{p:?}"
            );
        }
    }

    #[test]
    fn init_layer_hides_what_the_image_has_there() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/hosts"), "10.0.0.1 image\n").unwrap();
        std::fs::create_dir_all(r.join("etc/hostname/sub")).unwrap();
        std::fs::write(r.join("etc/mtab"), "x").unwrap();
        std::fs::create_dir_all(r.join("dev")).unwrap();
        std::fs::write(r.join("dev/shm"), "not a dir").unwrap();
        for _ in 0..2 {
            make_init_layer(r).unwrap();
            for f in [
                ".dockerenv",
                "etc/hosts",
                "etc/hostname",
                "etc/resolv.conf",
                "dev/console",
            ] {
                let m = std::fs::symlink_metadata(r.join(f)).unwrap();
                assert!(m.is_file() && m.len() == 0, "{f}");
                assert_eq!(m.permissions().mode() & 0o7777, 0o755, "{f}");
                assert_eq!((m.uid(), m.gid()), (0, 0), "{f}");
            }
            for dir in ["dev/pts", "dev/shm", "proc", "sys"] {
                assert!(r.join(dir).is_dir(), "{dir}");
            }
            assert_eq!(
                std::fs::read_link(r.join("etc/mtab")).unwrap(),
                Path::new("/proc/mounts")
            );
        }
    }

    #[test]
    fn users_from_image_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nwheel:x:10:app,other\n",
        )
        .unwrap();
        let r = resolve_user(d.path(), None).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_deref()), (0, 0, Some("/root")));
        let a = resolve_user(d.path(), Some("app")).unwrap();
        assert_eq!(
            (a.uid, a.gid, a.additional_gids.clone()),
            (1000, 1000, vec![10])
        );
        let a = resolve_user(d.path(), Some("app:wheel")).unwrap();
        assert_eq!((a.uid, a.gid), (1000, 10));
        let n = resolve_user(d.path(), Some("4242:7")).unwrap();
        assert_eq!((n.uid, n.gid, n.home), (4242, 7, None));
        let e = resolve_user(d.path(), Some("nobody"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"nobody\" not found"), "{e}");
        let e = resolve_user(d.path(), Some("app:nogroup"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("group \"nogroup\""), "{e}");
    }

    #[test]
    fn missing_runtime_says_what_to_install() {
        let e = find_runtime(Some("/nonexistent/crun"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("install runc"), "{e}");
    }
}
