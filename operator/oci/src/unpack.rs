//! Applying a layer stack to a root filesystem directory.
//!
//! Each layer is a tar (gzip-compressed or not) applied in order with the OCI/overlay rules:
//! `.wh.NAME` deletes `NAME` from the layers below, `.wh..wh..opq` empties its directory of
//! what the layers below put there; directories merge; any other entry replaces what was at
//! its path. Hard links, symlinks, fifos, devices (only as root: a device entry is skipped
//! with a warning otherwise), xattrs (`SCHILY.xattr.*` PAX records), modes, owners and file
//! times are applied.
//!
//! Paths are resolved inside the root: `..` never climbs above it and a symlink met on the
//! way (`/lib -> usr/lib`, or a hostile `/etc -> /host/etc`) is followed as if the root were
//! `/`, as `chroot` would. Owners: as root, a failing `lchown` is an error; not as root (a pod
//! without privilege) owners cannot be set, so failures become one warning and the files keep
//! the unpacking user as owner.

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::store::{
    Descriptor, MEDIA_DOCKER_LAYER_GZIP, MEDIA_OCI_LAYER_GZIP, MEDIA_OCI_LAYER_TAR,
    MEDIA_OCI_LAYER_ZSTD, Store,
};
use crate::{Error, Result};

pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";

/// What an unpack did that the caller should show.
#[derive(Clone, Debug, Default)]
pub struct UnpackReport {
    pub warnings: Vec<String>,
    pub entries: u64,
}

fn components(p: &Path) -> VecDeque<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Resolves `rel` inside `root` following symlinks as if `root` were `/` (never leaving it).
/// With `create`, missing directories are created (mode 0755). The last component is
/// resolved too; use [`resolve_parent`] to keep it unresolved.
pub fn resolve_in_root(root: &Path, rel: &Path, create: bool) -> io::Result<PathBuf> {
    let mut parts = components(rel);
    let mut cur: Vec<OsString> = vec![];
    let mut hops = 0;
    while let Some(c) = parts.pop_front() {
        if c == ".." {
            cur.pop();
            continue;
        }
        let mut p = root.to_path_buf();
        p.extend(&cur);
        p.push(&c);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links at {}",
                        p.display()
                    )));
                }
                let target = fs::read_link(&p)?;
                if target.is_absolute() {
                    cur.clear();
                }
                for x in components(&target).into_iter().rev() {
                    parts.push_front(x);
                }
            }
            Ok(m) => {
                if !m.is_dir() && !parts.is_empty() {
                    return Err(io::Error::other(format!(
                        "{} is not a directory",
                        p.display()
                    )));
                }
                cur.push(c);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if create {
                    fs::DirBuilder::new().mode(0o755).create(&p)?;
                } else if !parts.is_empty() {
                    return Err(e);
                }
                cur.push(c);
            }
            Err(e) => return Err(e),
        }
    }
    let mut p = root.to_path_buf();
    p.extend(&cur);
    Ok(p)
}

/// Resolves the parent of `rel` inside `root` (creating it when asked) and joins the last
/// component unresolved; `None` when `rel` names the root itself.
pub fn resolve_parent(root: &Path, rel: &Path, create: bool) -> io::Result<Option<PathBuf>> {
    let mut comps = components(rel);
    let Some(last) = comps.pop_back() else {
        return Ok(None);
    };
    if last == ".." {
        return Err(io::Error::other("path ends with .."));
    }
    let parent: PathBuf = comps.iter().collect();
    Ok(Some(resolve_in_root(root, &parent, create)?.join(last)))
}

fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Options of [`unpack_layers`].
#[derive(Clone, Debug, Default)]
pub struct UnpackOptions {
    /// Do not set owners even as root (files keep the unpacking user).
    pub skip_owners: bool,
}

/// Opens a layer blob as a tar stream according to its media type.
pub fn open_layer(store: &Store, desc: &Descriptor) -> Result<Box<dyn Read>> {
    let f = store.open_blob(&desc.digest)?;
    let r = BufReader::with_capacity(256 * 1024, f);
    match desc.media_type.as_str() {
        MEDIA_OCI_LAYER_GZIP | MEDIA_DOCKER_LAYER_GZIP => Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::read::MultiGzDecoder::new(r),
        ))),
        MEDIA_OCI_LAYER_TAR | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Box::new(r)),
        MEDIA_OCI_LAYER_ZSTD => Err(Error::Invalid(format!(
            "layer {}: zstd-compressed layers are not supported yet",
            desc.digest
        ))),
        other => Err(Error::Invalid(format!(
            "layer {}: unsupported media type {other:?}",
            desc.digest
        ))),
    }
}

/// Applies the layers of a manifest, in order, to `rootfs` (created if missing).
pub fn unpack_layers(
    store: &Store,
    layers: &[Descriptor],
    rootfs: &Path,
    opts: &UnpackOptions,
) -> Result<UnpackReport> {
    fs::create_dir_all(rootfs).map_err(Error::io("create root filesystem", rootfs))?;
    let mut report = UnpackReport::default();
    let mut owner_warned = false;
    for l in layers {
        let r = open_layer(store, l)?;
        apply_layer(
            r,
            &l.digest.to_string(),
            rootfs,
            opts,
            &mut report,
            &mut owner_warned,
        )?;
    }
    Ok(report)
}

/// Applies one uncompressed tar layer read from `r` to `rootfs`. `name` names it in errors.
pub fn apply_layer(
    r: impl Read,
    name: &str,
    rootfs: &Path,
    opts: &UnpackOptions,
    report: &mut UnpackReport,
    owner_warned: &mut bool,
) -> Result<()> {
    let root_user = nix::unistd::geteuid().is_root();
    let mut ar = tar::Archive::new(r);
    // What this layer created, for its opaque whiteouts (which hide only the layers below):
    // inodes (16 bytes each, whatever the path's length), and the paths of its hard links,
    // which share an inode with their target, possibly a file of a layer below.
    let mut created: HashSet<(u64, u64)> = HashSet::new();
    let mut created_links: HashSet<PathBuf> = HashSet::new();
    let mut dir_times: Vec<(PathBuf, i64)> = vec![];
    let lerr = |entry: &Path, reason: String| Error::Layer {
        layer: name.into(),
        entry: entry.display().to_string(),
        reason,
    };
    let entries = ar
        .entries()
        .map_err(|e| lerr(Path::new(""), format!("not a tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| lerr(Path::new(""), format!("bad tar entry: {e}")))?;
        report.entries += 1;
        let raw = entry
            .path()
            .map_err(|e| lerr(Path::new(""), e.to_string()))?
            .into_owned();
        let rel: PathBuf = raw
            .components()
            .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
            .collect();
        if rel.components().any(|c| c == Component::ParentDir) {
            return Err(lerr(&raw, "path contains '..'".into()));
        }
        if rel.as_os_str().is_empty() {
            continue; // "./" itself
        }
        let base = rel.file_name().unwrap_or_default().to_os_string();
        let base_b = base.as_bytes();
        if base_b.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            let dir = rel.parent().unwrap_or(Path::new(""));
            let Ok(dir_abs) = resolve_in_root(rootfs, dir, false) else {
                continue; // whiteout in a directory that does not exist: nothing to hide
            };
            if base_b == OPAQUE_WHITEOUT.as_bytes() {
                if let Ok(rd) = fs::read_dir(&dir_abs) {
                    for e in rd.flatten() {
                        let p = e.path();
                        let ours = created_links.contains(&p)
                            || fs::symlink_metadata(&p)
                                .is_ok_and(|m| created.contains(&(m.dev(), m.ino())));
                        if !ours {
                            remove_any(&p)
                                .map_err(|e| lerr(&raw, format!("opaque whiteout: {e}")))?;
                        }
                    }
                }
            } else {
                let victim = dir_abs.join(OsStr::from_bytes(&base_b[WHITEOUT_PREFIX.len()..]));
                remove_any(&victim).map_err(|e| lerr(&raw, format!("whiteout: {e}")))?;
            }
            continue;
        }
        let target = resolve_parent(rootfs, &rel, true)
            .map_err(|e| lerr(&raw, e.to_string()))?
            .expect("non-empty path");
        let h = entry.header().clone();
        let kind = h.entry_type();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let uid = h.uid().unwrap_or(0) as u32;
        let gid = h.gid().unwrap_or(0) as u32;
        let mtime = h.mtime().unwrap_or(0) as i64;
        let existing = fs::symlink_metadata(&target).ok();
        if let Some(m) = &existing
            && !(m.is_dir() && kind.is_dir())
        {
            remove_any(&target).map_err(|e| lerr(&raw, format!("replace: {e}")))?;
        }
        let io_err = |what: &str| {
            let what = what.to_string();
            let raw = raw.clone();
            move |e: io::Error| lerr(&raw, format!("{what}: {e}"))
        };
        match kind {
            tar::EntryType::Directory => {
                if existing.as_ref().is_none_or(|m| !m.is_dir()) {
                    fs::DirBuilder::new()
                        .mode(0o700)
                        .create(&target)
                        .map_err(io_err("mkdir"))?;
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut f = fs::File::create(&target).map_err(io_err("create"))?;
                io::copy(&mut entry, &mut f).map_err(io_err("write"))?;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(io_err("link name"))?
                    .ok_or_else(|| lerr(&raw, "symlink without target".into()))?;
                std::os::unix::fs::symlink(&link, &target).map_err(io_err("symlink"))?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(io_err("link name"))?
                    .ok_or_else(|| lerr(&raw, "hard link without target".into()))?
                    .into_owned();
                let src = resolve_parent(rootfs, &link, false)
                    .map_err(|e| lerr(&raw, format!("hard link target {}: {e}", link.display())))?
                    .ok_or_else(|| lerr(&raw, "hard link to the root".into()))?;
                fs::hard_link(&src, &target)
                    .map_err(|e| lerr(&raw, format!("hard link to {}: {e}", link.display())))?;
                created_links.insert(target);
                continue; // a hard link shares its target's metadata
            }
            tar::EntryType::Fifo | tar::EntryType::Char | tar::EntryType::Block => {
                let (sflag, dev) = match kind {
                    tar::EntryType::Fifo => (nix::sys::stat::SFlag::S_IFIFO, 0),
                    tar::EntryType::Char => (
                        nix::sys::stat::SFlag::S_IFCHR,
                        nix::sys::stat::makedev(
                            h.device_major().ok().flatten().unwrap_or(0) as u64,
                            h.device_minor().ok().flatten().unwrap_or(0) as u64,
                        ),
                    ),
                    _ => (
                        nix::sys::stat::SFlag::S_IFBLK,
                        nix::sys::stat::makedev(
                            h.device_major().ok().flatten().unwrap_or(0) as u64,
                            h.device_minor().ok().flatten().unwrap_or(0) as u64,
                        ),
                    ),
                };
                if let Err(e) = nix::sys::stat::mknod(
                    &target,
                    sflag,
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                    dev,
                ) {
                    if root_user || kind == tar::EntryType::Fifo {
                        return Err(lerr(&raw, format!("mknod: {e}")));
                    }
                    report.warnings.push(format!(
                        "layer {name}: device {} skipped: creating devices needs root ({e})",
                        rel.display()
                    ));
                    continue;
                }
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            other => {
                report.warnings.push(format!(
                    "layer {name}: entry {} of type {other:?} skipped",
                    rel.display()
                ));
                continue;
            }
        }
        let m = fs::symlink_metadata(&target).map_err(io_err("stat"))?;
        created.insert((m.dev(), m.ino()));
        // xattrs
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                let Ok(k) = ext.key() else { continue };
                if let Some(xname) = k.strip_prefix("SCHILY.xattr.")
                    && let Err(e) = xattr::set(&target, xname, ext.value_bytes())
                {
                    // xattr::set does not follow symlinks on Linux (lsetxattr)
                    if root_user {
                        return Err(lerr(&raw, format!("set xattr {xname}: {e}")));
                    }
                    report.warnings.push(format!(
                        "layer {name}: xattr {xname} of {} not set: {e}",
                        rel.display()
                    ));
                }
            }
        }
        if !opts.skip_owners
            && let Err(e) = nix::unistd::fchownat(
                nix::fcntl::AT_FDCWD,
                &target,
                Some(nix::unistd::Uid::from_raw(uid)),
                Some(nix::unistd::Gid::from_raw(gid)),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
        {
            if root_user {
                return Err(lerr(&raw, format!("chown {uid}:{gid}: {e}")));
            }
            if !*owner_warned {
                *owner_warned = true;
                report.warnings.push(format!(
                    "not running as root: file owners from the image are not set (first failure: {} {uid}:{gid}: {e}); files belong to the current user",
                    rel.display()
                ));
            }
        }
        if kind != tar::EntryType::Symlink {
            fs::set_permissions(&target, fs::Permissions::from_mode(mode))
                .map_err(io_err("chmod"))?;
        }
        if kind.is_dir() {
            dir_times.push((target, mtime));
        } else {
            set_mtime(&target, mtime, 0).map_err(io_err("set mtime"))?;
        }
    }
    for (p, t) in dir_times.into_iter().rev() {
        set_mtime(&p, t, 0).map_err(|e| lerr(&p, format!("set mtime: {e}")))?;
    }
    Ok(())
}

/// Sets `p`'s access and modification times (seconds and nanoseconds since the epoch), not
/// following a symlink: a layer's times on unpack, an upload's as `docker cp` keeps them.
pub fn set_mtime(p: &Path, secs: i64, nanos: i64) -> io::Result<()> {
    let ts = nix::sys::time::TimeSpec::new(secs, nanos);
    nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        p,
        &ts,
        &ts,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_in_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        std::os::unix::fs::symlink("/../../../../tmp", root.join("evil")).unwrap();
        let p = resolve_in_root(root, Path::new("lib/x/y"), true).unwrap();
        assert_eq!(p, root.join("usr/lib/x/y"));
        assert!(root.join("usr/lib/x/y").is_dir());
        let p = resolve_in_root(root, Path::new("evil/f"), true).unwrap();
        assert_eq!(p, root.join("tmp/f"));
        let p = resolve_parent(root, Path::new("../../lib/z"), false)
            .unwrap()
            .unwrap();
        assert_eq!(p, root.join("usr/lib/z"));
    }
}
