//! `docker run`'s `--tmpfs` and `--device` (the docker builder's `tmpfs` and `device`, and
//! the same flags in `run_command`), read as the docker CLI 20.10 reads them and made as
//! dockerd 20.10 makes them, with their errors in the words `docker run` prints:
//!
//! - `--tmpfs DEST[:OPTIONS]`: the CLI splits at the first `:`; dockerd refuses a
//!   destination that is `/` or relative when it creates the container, then merges
//!   `noexec,nosuid,nodev,rprivate` with the options as moby/sys/mount's
//!   `MergeTmpfsOptions` does (a later flag wins over its opposite, one value per data key,
//!   any other option refused) when it starts it. Kiln mounts one tmpfs on the host for the
//!   build (its commands run in one container each, and must share it) and binds it into
//!   each command's container with the merged flags: inside, `/proc/mounts` shows what
//!   Docker's container shows.
//! - `--device HOST[:CONTAINER][:PERMISSIONS]`: the CLI's `validateLinuxPath` and
//!   `parseLinuxDevice`, then dockerd's `DevicesFromPath` (a symlink followed, a directory
//!   walked for the device nodes under it), the nodes made in the container with the host's
//!   numbers, mode and owner, and allowed in its device cgroup.

use std::path::{Path, PathBuf};

use kiln_gotemplate::quote;
use kiln_hcl::gopath::clean;
use kiln_oci::runtime::LinuxDevice;

/// One `--tmpfs` as the CLI reads it: the destination, then the options after the first `:`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tmpfs {
    pub destination: String,
    pub data: String,
}

pub fn parse_tmpfs(v: &str) -> Tmpfs {
    let (d, o) = v.split_once(':').unwrap_or((v, ""));
    Tmpfs {
        destination: d.into(),
        data: o.into(),
    }
}

/// dockerd's `ValidateTmpfsMountDestination`, when it creates the container.
pub fn check_tmpfs_destination(dest: &str) -> Result<(), String> {
    let p = dest.replace('\\', "/");
    if clean(&p) == "/" {
        return Err("invalid specification: destination can't be '/'".into());
    }
    if !p.starts_with('/') {
        return Err(format!(
            "invalid mount path: '{p}' mount path must be absolute"
        ));
    }
    Ok(())
}

/// Flag options of moby/sys/mount (`flags`): the key of each (options setting or clearing the
/// same bit collide), `None` for the propagation modes (one key for all of them).
fn flag_key(option: &str) -> Option<Option<&'static str>> {
    Some(Some(match option {
        "ro" | "rw" => "rdonly",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        "bind" | "rbind" | "unbindable" | "runbindable" | "private" | "rprivate" | "shared"
        | "rshared" | "slave" | "rslave" => return Some(None),
        _ => return None,
    }))
}

/// The options dockerd gives a tmpfs (`noexec,nosuid,nodev,rprivate` then the user's),
/// merged as `MergeTmpfsOptions` merges them, in its order.
pub fn merge_tmpfs_options(data: &str) -> Result<Vec<String>, String> {
    let mut options: Vec<&str> = vec!["noexec", "nosuid", "nodev", "rprivate"];
    if !data.is_empty() {
        options.extend(data.split(','));
    }
    let mut flags_seen: Vec<Option<&str>> = vec![];
    let mut data_seen: Vec<&str> = vec![];
    let mut out: Vec<String> = vec![];
    for option in options.into_iter().rev() {
        if option == "defaults" {
            continue;
        }
        if let Some(key) = flag_key(option) {
            if !flags_seen.contains(&key) {
                out.insert(0, option.into());
                flags_seen.push(key);
            }
            continue;
        }
        let kv: Vec<&str> = option.splitn(2, '=').collect();
        const VALID: &[&str] = &[
            "",
            "size",
            "mode",
            "uid",
            "gid",
            "nr_inodes",
            "nr_blocks",
            "mpol",
        ];
        if kv.len() != 2 || !VALID.contains(&kv[0]) {
            let shown: Vec<String> = kv.iter().map(|x| quote(x)).collect();
            return Err(format!("invalid tmpfs option [{}]", shown.join(" ")));
        }
        if !data_seen.contains(&kv[0]) {
            out.insert(0, option.into());
            data_seen.push(kv[0]);
        }
    }
    Ok(out)
}

/// Merged options split in two: the file system's own data (`size=…`), given when it is
/// mounted, and the mount flags, given to the bind into the container.
pub fn split_tmpfs_options(merged: &[String]) -> (String, Vec<String>) {
    let (data, flags): (Vec<&String>, Vec<&String>) = merged.iter().partition(|o| o.contains('='));
    (
        data.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        flags.into_iter().cloned().collect(),
    )
}

/// The docker CLI's `validDeviceMode`: one or more of `r`, `w`, `m`, each once.
fn valid_device_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return false;
    }
    let mut seen = String::new();
    for c in mode.chars() {
        if !"rwm".contains(c) || seen.contains(c) {
            return false;
        }
        seen.push(c);
    }
    true
}

/// One `--device` as the docker CLI reads it: `validateLinuxPath` (which cleans some of its
/// paths), then `parseLinuxDevice` of what it returns: the host path, the container path,
/// the cgroup permissions.
pub fn parse_device(val: &str) -> Result<(String, String, String), String> {
    if val.matches(':').count() > 2 {
        return Err(format!("bad format for path: {val}"));
    }
    let split: Vec<&str> = val.splitn(3, ':').collect();
    if split[0].is_empty() {
        return Err(format!("bad format for path: {val}"));
    }
    let (container_path, validated) = match split.len() {
        1 => (split[0], clean(split[0])),
        2 if valid_device_mode(split[1]) => (split[0], format!("{}:{}", clean(split[0]), split[1])),
        2 => (split[1], format!("{}:{}", split[0], clean(split[1]))),
        _ => {
            if !valid_device_mode(split[2]) {
                return Err(format!("bad mode specified: {}", split[2]));
            }
            (split[1], val.to_string())
        }
    };
    if !container_path.starts_with('/') {
        return Err(format!("{container_path} is not an absolute path"));
    }
    let arr: Vec<&str> = validated.split(':').collect();
    let mut perms = "rwm".to_string();
    let mut dst = "";
    if arr.len() == 3 {
        perms = arr[2].into();
    }
    if arr.len() >= 2 {
        if valid_device_mode(arr[1]) {
            perms = arr[1].into();
        } else {
            dst = arr[1];
        }
    }
    let dst = if dst.is_empty() { arr[0] } else { dst };
    Ok((arr[0].into(), dst.into(), perms))
}

/// What `docker run` checks of `--device` and `--tmpfs` and then makes, in its order: the
/// CLI's device paths, dockerd's tmpfs destinations (creating the container), the devices
/// on the host and the tmpfs options (starting it). `Err` is what `docker run` prints.
#[derive(Debug, Default)]
pub struct RunMounts {
    /// Destination, the file system's data, the bind's flags.
    pub tmpfs: Vec<(String, String, Vec<String>)>,
    pub devices: Vec<LinuxDevice>,
}

pub fn run_mounts(devices: &[String], tmpfs: &[String]) -> Result<RunMounts, String> {
    // `reportError`: a parse or create failure adds the help line, a start failure not
    let report = |msg: &str, help: bool| {
        let mut s = format!("docker: {}.", msg.strip_suffix('.').unwrap_or(msg));
        if help {
            s.push_str("\nSee 'docker run --help'.");
        }
        s + "\n"
    };
    let daemon = |e: String| format!("Error response from daemon: {e}");
    let mut mappings = vec![];
    for d in devices {
        mappings.push(parse_device(d).map_err(|e| report(&e, true))?);
    }
    // the CLI's map of destinations (a later option wins)
    let mut mounts: Vec<Tmpfs> = vec![];
    for t in tmpfs.iter().map(|t| parse_tmpfs(t)) {
        match mounts.iter_mut().find(|m| m.destination == t.destination) {
            Some(m) => m.data = t.data,
            None => mounts.push(t),
        }
    }
    for m in &mounts {
        check_tmpfs_destination(&m.destination).map_err(|e| report(&daemon(e), true))?;
    }
    let mut out = RunMounts::default();
    for (host, container, perms) in mappings {
        out.devices.extend(
            devices_from_path(&host, &container, &perms).map_err(|e| report(&daemon(e), false))?,
        );
    }
    for m in mounts {
        let merged = merge_tmpfs_options(&m.data).map_err(|e| report(&daemon(e), false))?;
        let (data, flags) = split_tmpfs_options(&merged);
        out.tmpfs.push((m.destination, data, flags));
    }
    Ok(out)
}

/// runc's `DeviceFromPath`: a character or block device node (not followed if a symlink).
fn device_from_path(path: &Path, perms: &str) -> Result<LinuxDevice, Option<std::io::Error>> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::symlink_metadata(path).map_err(Some)?;
    let kind = if m.file_type().is_char_device() {
        'c'
    } else if m.file_type().is_block_device() {
        'b'
    } else {
        return Err(None);
    };
    let rdev = m.rdev();
    Ok(LinuxDevice {
        path: String::new(),
        kind,
        major: nix::sys::stat::major(rdev),
        minor: nix::sys::stat::minor(rdev),
        file_mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        access: perms.into(),
    })
}

/// dockerd's `DevicesFromPath`: the device at `host` (a symlink resolved), else every
/// device under it when it is a directory; its error in dockerd's words.
pub fn devices_from_path(
    host: &str,
    container: &str,
    perms: &str,
) -> Result<Vec<LinuxDevice>, String> {
    let mut resolved = PathBuf::from(host);
    if std::fs::symlink_metadata(host).is_ok_and(|m| m.file_type().is_symlink())
        && let Ok(p) = std::fs::canonicalize(host)
    {
        resolved = p;
    }
    let err = match device_from_path(&resolved, perms) {
        Ok(mut d) => {
            d.path = container.into();
            return Ok(vec![d]);
        }
        Err(e) => e,
    };
    let mut out = vec![];
    if err.is_none() && resolved.is_dir() {
        let prefix = resolved.to_string_lossy().into_owned();
        walk(&resolved, &mut |p| {
            if let Ok(mut d) = device_from_path(p, perms) {
                d.path = p.to_string_lossy().replacen(&prefix, container, 1);
                out.push(d);
            }
        });
    }
    if !out.is_empty() {
        return Ok(out);
    }
    let why = match err {
        Some(e) => crate::goerr::errno_text(&e),
        None => "not a device node".into(),
    };
    Err(format!(
        "error gathering device information while adding custom device {}: {why}",
        quote(host)
    ))
}

/// Go's `filepath.Walk` order: the path, then its entries sorted by name (not following
/// symlinks).
fn walk(p: &Path, f: &mut dyn FnMut(&Path)) {
    f(p);
    if !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()) {
        return;
    }
    let Ok(rd) = std::fs::read_dir(p) else {
        return;
    };
    let mut names: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    names.sort();
    for n in names {
        walk(&n, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_options_merge_as_dockerd_merges_them() {
        assert_eq!(
            merge_tmpfs_options("").unwrap(),
            ["noexec", "nosuid", "nodev", "rprivate"]
        );
        // a later flag wins over its opposite and keeps its place; one value per data key
        assert_eq!(
            merge_tmpfs_options("exec,size=1m,mode=700,size=2m").unwrap(),
            ["nosuid", "nodev", "rprivate", "exec", "mode=700", "size=2m"]
        );
        assert_eq!(
            merge_tmpfs_options("shared,rw,defaults").unwrap(),
            ["noexec", "nosuid", "nodev", "shared", "rw"]
        );
        assert_eq!(
            merge_tmpfs_options("foo").unwrap_err(),
            r#"invalid tmpfs option ["foo"]"#
        );
        assert_eq!(
            merge_tmpfs_options("bad=1").unwrap_err(),
            r#"invalid tmpfs option ["bad" "1"]"#
        );
        assert_eq!(
            merge_tmpfs_options("size=1m,").unwrap_err(),
            r#"invalid tmpfs option [""]"#
        );
        let merged = merge_tmpfs_options("size=1m,exec").unwrap();
        assert_eq!(
            split_tmpfs_options(&merged),
            (
                "size=1m".to_string(),
                vec![
                    "nosuid".to_string(),
                    "nodev".into(),
                    "rprivate".into(),
                    "exec".into()
                ]
            )
        );
    }

    #[test]
    fn tmpfs_destinations_as_dockerd_checks_them() {
        assert_eq!(
            parse_tmpfs("/run:size=1m,mode=700"),
            Tmpfs {
                destination: "/run".into(),
                data: "size=1m,mode=700".into()
            }
        );
        assert!(check_tmpfs_destination("/scratch").is_ok());
        assert_eq!(
            check_tmpfs_destination("/x/..").unwrap_err(),
            "invalid specification: destination can't be '/'"
        );
        assert_eq!(
            check_tmpfs_destination("scratch").unwrap_err(),
            "invalid mount path: 'scratch' mount path must be absolute"
        );
    }

    #[test]
    fn devices_read_as_the_docker_cli_reads_them() {
        let p = |s: &str| parse_device(s).map(|(a, b, c)| format!("{a} {b} {c}"));
        assert_eq!(p("/dev/zero").unwrap(), "/dev/zero /dev/zero rwm");
        assert_eq!(p("/dev/zero:r").unwrap(), "/dev/zero /dev/zero r");
        assert_eq!(p("/dev/zero:/dev/kz").unwrap(), "/dev/zero /dev/kz rwm");
        assert_eq!(p("/dev/zero:/dev/kz:rw").unwrap(), "/dev/zero /dev/kz rw");
        assert_eq!(
            p("/dev/zero:/dev/kz:rwx").unwrap_err(),
            "bad mode specified: rwx"
        );
        assert_eq!(
            p("/a:/b:r:w").unwrap_err(),
            "bad format for path: /a:/b:r:w"
        );
        assert_eq!(p(":/b").unwrap_err(), "bad format for path: :/b");
        assert_eq!(p("/dev/zero:kz").unwrap_err(), "kz is not an absolute path");
        assert_eq!(p("zero").unwrap_err(), "zero is not an absolute path");
        // the paths validateLinuxPath cleans
        assert_eq!(p("/dev//zero/").unwrap(), "/dev/zero /dev/zero rwm");
        assert_eq!(
            p("/dev//zero/:/dev/kz/").unwrap(),
            "/dev//zero/ /dev/kz rwm"
        );
        assert_eq!(p("/dev//zero/:r").unwrap(), "/dev/zero /dev/zero r");
    }

    #[test]
    fn run_mounts_fail_as_docker_run_says() {
        let m = run_mounts(
            &["/dev/null:/dev/kn:rw".into()],
            &["/s:size=1m".into(), "/s:mode=700".into()],
        )
        .unwrap();
        assert_eq!(m.devices.len(), 1);
        assert_eq!(
            m.tmpfs,
            [(
                "/s".to_string(),
                "mode=700".to_string(),
                vec![
                    "noexec".to_string(),
                    "nosuid".into(),
                    "nodev".into(),
                    "rprivate".into()
                ]
            )]
        );
        // the CLI's, with its help line, before dockerd's
        assert_eq!(
            run_mounts(&["kz".into()], &["rel".into()]).unwrap_err(),
            "docker: kz is not an absolute path.\nSee 'docker run --help'.\n"
        );
        assert_eq!(
            run_mounts(&["/dev/nope".into()], &["rel".into()]).unwrap_err(),
            "docker: Error response from daemon: invalid mount path: 'rel' mount path must be absolute.\nSee 'docker run --help'.\n"
        );
        // at start: the devices, then the options; no help line
        assert_eq!(
            run_mounts(&["/dev/nope".into()], &["/s:foo".into()]).unwrap_err(),
            "docker: Error response from daemon: error gathering device information while adding custom device \"/dev/nope\": no such file or directory.\n"
        );
        assert_eq!(
            run_mounts(&[], &["/s:foo".into()]).unwrap_err(),
            "docker: Error response from daemon: invalid tmpfs option [\"foo\"].\n"
        );
    }

    #[test]
    fn devices_gathered_as_dockerd_gathers_them() {
        let d = devices_from_path("/dev/null", "/dev/kn", "rw").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].path.as_str(), d[0].kind, d[0].major, d[0].minor),
            ("/dev/kn", 'c', 1, 3)
        );
        assert_eq!(d[0].access, "rw");
        assert_eq!(
            devices_from_path("/dev/nope", "/dev/nope", "rwm").unwrap_err(),
            r#"error gathering device information while adding custom device "/dev/nope": no such file or directory"#
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(
            devices_from_path(f.to_str().unwrap(), "/f", "rwm").unwrap_err(),
            format!(
                "error gathering device information while adding custom device \"{}\": not a device node",
                f.display()
            )
        );
        // a directory without devices is not a device either
        assert!(
            devices_from_path(dir.path().to_str().unwrap(), "/d", "rwm")
                .unwrap_err()
                .ends_with(": not a device node")
        );
    }
}
