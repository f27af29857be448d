//! Unpack and diff, checked against each other: a root filesystem changed in every way a
//! provisioner can change it, diffed into one layer, applied on a fresh unpack of the base,
//! must give the same tree. Plus the layer rules (opaque whiteouts, paths that try to leave
//! the root) and reproducibility.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::store::Store;
use kiln_oci::unpack::{self, UnpackOptions, UnpackReport};
use sha2::Digest as _;

/// Everything that must survive a layer round trip, per path.
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let snap = diff::snapshot(root, &SnapshotOptions::default()).unwrap();
    let mut inode_first: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for e in snap.iter() {
        let (rel, m) = e.unwrap();
        let p = root.join(&rel);
        let md = std::fs::symlink_metadata(&p).unwrap();
        let ft = md.file_type();
        let content = if ft.is_file() {
            let link = if md.nlink() > 1 {
                let first = inode_first
                    .entry(md.ino())
                    .or_insert_with(|| rel.clone())
                    .clone();
                format!(" link-group={}", first.display())
            } else {
                String::new()
            };
            format!(
                "file {}{link}",
                hex::encode(sha2::Sha256::digest(std::fs::read(&p).unwrap()))
            )
        } else if ft.is_symlink() {
            format!("symlink {}", std::fs::read_link(&p).unwrap().display())
        } else if ft.is_dir() {
            "dir".into()
        } else {
            format!("special {:o} rdev {}", m.mode & libc::S_IFMT, md.rdev())
        };
        let mut xs: Vec<String> = xattr::list(&p)
            .unwrap()
            .map(|n| format!("{}={:?}", n.to_string_lossy(), xattr::get(&p, &n).unwrap()))
            .collect();
        xs.sort();
        let mode = if ft.is_symlink() { 0 } else { m.mode & 0o7777 };
        out.insert(
            rel.clone(),
            format!(
                "{content} mode={mode:o} owner={}:{} xattrs={xs:?}",
                m.uid, m.gid
            ),
        );
    }
    out
}

fn layer_from_empty(store: &Store, root: &Path) -> kiln_oci::diff::NewLayer {
    let empty = diff::Snapshot::default();
    let after = diff::snapshot(root, &SnapshotOptions::default()).unwrap();
    diff::write_layer(root, &empty, &after, store, &LayerOptions::default()).unwrap()
}

fn mutate(r: &Path) {
    use std::fs;
    fs::write(r.join("etc/new-file"), "new\n").unwrap();
    fs::set_permissions(r.join("etc/new-file"), fs::Permissions::from_mode(0o640)).unwrap();
    nix::unistd::chown(
        &r.join("etc/new-file"),
        Some(1000.into()),
        Some(1000.into()),
    )
    .unwrap();
    fs::write(r.join("etc/motd"), "modified\n").unwrap();
    fs::remove_file(r.join("etc/to-delete")).unwrap();
    fs::remove_dir_all(r.join("var/lib/gone")).unwrap();
    // a hard link to a file of the base (unchanged content)
    fs::hard_link(r.join("etc/passwd"), r.join("etc/passwd.link")).unwrap();
    // a directory replaced by a file, a file replaced by a directory
    fs::remove_dir_all(r.join("home/app")).unwrap();
    fs::write(r.join("home/app"), "now a file").unwrap();
    fs::remove_file(r.join("etc/group")).unwrap();
    fs::create_dir(r.join("etc/group")).unwrap();
    fs::write(r.join("etc/group/inside"), "x").unwrap();
    // a directory removed and recreated with other content
    fs::create_dir_all(r.join("srv/data")).unwrap();
    fs::write(r.join("srv/data/keep"), "k").unwrap();
    // chmod only, chown only, xattr only
    fs::set_permissions(r.join("etc/chmod-me"), fs::Permissions::from_mode(0o4755)).unwrap();
    nix::unistd::chown(&r.join("root"), Some(7.into()), Some(8.into())).unwrap();
    xattr::set(r.join("etc/passwd"), "user.note", b"hello").unwrap();
    // symlink retargeted, long names, a fifo, a device node
    fs::remove_file(r.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("busybox", r.join("bin/sh")).unwrap();
    let long = "d".repeat(120);
    fs::create_dir_all(r.join("opt").join(&long)).unwrap();
    fs::write(r.join("opt").join(&long).join("f".repeat(150)), "long").unwrap();
    std::os::unix::fs::symlink("t".repeat(130), r.join("opt/longlink")).unwrap();
    nix::unistd::mkfifo(
        &r.join("opt/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    nix::sys::stat::mknod(
        &r.join("opt/null"),
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
}

#[test]
fn diff_applied_on_base_gives_the_changed_tree() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path().join("store")).unwrap();
    // base: the busybox rootfs with extra content to delete later
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    common::busybox_rootfs(&src);
    std::fs::create_dir_all(src.join("srv/data")).unwrap();
    std::fs::write(src.join("srv/data/old"), "o").unwrap();
    std::fs::write(src.join("etc/chmod-me"), "c").unwrap();
    let base = layer_from_empty(&store, &src);

    // unpack the base, change it, diff
    let x = d.path().join("x");
    let mut rep = UnpackReport::default();
    unpack::unpack_layers(
        &store,
        std::slice::from_ref(&base.descriptor),
        &x,
        &UnpackOptions::default(),
    )
    .unwrap();
    let before = diff::snapshot(&x, &SnapshotOptions::default()).unwrap();
    mutate(&x);
    std::fs::remove_dir_all(x.join("srv/data")).unwrap();
    std::fs::create_dir_all(x.join("srv/data")).unwrap();
    std::fs::write(x.join("srv/data/new"), "n").unwrap();
    let after = diff::snapshot(&x, &SnapshotOptions::default()).unwrap();
    let layer = diff::write_layer(&x, &before, &after, &store, &LayerOptions::default()).unwrap();
    // the unchanged bulk of the base is not in the layer
    assert!(
        layer.descriptor.size < base.descriptor.size / 4,
        "{layer:?} vs {base:?}"
    );

    // apply base + layer on a fresh directory
    let y = d.path().join("y");
    rep.warnings.clear();
    let rep = unpack::unpack_layers(
        &store,
        &[base.descriptor.clone(), layer.descriptor.clone()],
        &y,
        &UnpackOptions::default(),
    )
    .unwrap();
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    let (tx, ty) = (tree(&x), tree(&y));
    for (k, v) in &tx {
        assert_eq!(ty.get(k), Some(v), "{} differs", k.display());
    }
    for k in ty.keys() {
        assert!(tx.contains_key(k), "{} should not exist", k.display());
    }
    assert!(!y.join("srv/data/old").exists());
    assert!(!y.join("var/lib/gone").exists());

    // the same changes written again give the same bytes
    let again = diff::write_layer(&x, &before, &after, &store, &LayerOptions::default()).unwrap();
    assert_eq!(again.descriptor.digest, layer.descriptor.digest);
    assert_eq!(again.diff_id, layer.diff_id);
    // SOURCE_DATE_EPOCH changes the times, hence the digest
    let other_epoch = diff::write_layer(
        &x,
        &before,
        &after,
        &store,
        &LayerOptions {
            epoch: 1_700_000_000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_ne!(other_epoch.diff_id, layer.diff_id);
}

fn tar_layer(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        h.set_mtime(1);
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn opaque_whiteouts_and_escapes() {
    use tar::EntryType::*;
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("etc/conf.d")).unwrap();
    std::fs::write(root.join("etc/conf.d/lower"), "l").unwrap();
    std::fs::write(root.join("etc/conf.d/lower-linked"), "ll").unwrap();
    std::fs::write(root.join("etc/keep"), "k").unwrap();
    let mut rep = UnpackReport::default();
    let mut warned = false;
    let l = tar_layer(&[
        ("etc/conf.d/", Directory, b"", None),
        ("etc/conf.d/upper", Regular, b"u", None),
        // a name this layer gives to a file of the layer below: kept, the lower name not
        (
            "etc/conf.d/new-link",
            Link,
            b"",
            Some("etc/conf.d/lower-linked"),
        ),
        ("etc/conf.d/.wh..wh..opq", Regular, b"", None),
        ("etc/.wh.keep", Regular, b"", None),
        ("evil", Symlink, b"", Some("/")),
        ("evil/tmp/pwned", Regular, b"p", None),
        ("up", Symlink, b"", Some("../../../..")),
        ("up/escaped", Regular, b"e", None),
    ]);
    unpack::apply_layer(
        &l[..],
        "test",
        &root,
        &UnpackOptions::default(),
        &mut rep,
        &mut warned,
    )
    .unwrap();
    assert!(
        !root.join("etc/conf.d/lower").exists(),
        "opaque dir kept a lower file"
    );
    assert!(!root.join("etc/conf.d/lower-linked").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("etc/conf.d/new-link")).unwrap(),
        "ll"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/conf.d/upper")).unwrap(),
        "u"
    );
    assert!(!root.join("etc/keep").exists());
    // symlinks are followed inside the root only
    assert_eq!(
        std::fs::read_to_string(root.join("tmp/pwned")).unwrap(),
        "p"
    );
    assert_eq!(std::fs::read_to_string(root.join("escaped")).unwrap(), "e");
    assert!(!d.path().join("escaped").exists());
    // '..' in a name is refused, naming the layer and entry
    let bad = tar_layer(&[("a/../../x", Regular, b"x", None)]);
    let e = unpack::apply_layer(
        &bad[..],
        "sha256:bad",
        &root,
        &UnpackOptions::default(),
        &mut rep,
        &mut warned,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sha256:bad") && e.contains("'..'"), "{e}");
    // a hard link to a missing target is an error too
    let bad = tar_layer(&[("l", Link, b"", Some("no/such"))]);
    let e = unpack::apply_layer(
        &bad[..],
        "L",
        &root,
        &UnpackOptions::default(),
        &mut rep,
        &mut warned,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("hard link") && e.contains("no/such"), "{e}");
}

/// Unpacking as a user who is not root (an unprivileged pod): owners and devices cannot be
/// set; the unpack goes on and says so once. Run in a child process of this test binary
/// under `setpriv` as nobody.
#[test]
fn unpack_as_non_root_warns_instead_of_failing() {
    let setpriv = common::need("setpriv", "util-linux");
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, kind: tar::EntryType, uid: u64, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_size(data.len() as u64);
        h.set_path(name).unwrap();
        if kind == tar::EntryType::Char {
            h.set_device_major(1).unwrap();
            h.set_device_minor(3).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    add("a/", tar::EntryType::Directory, 1000, b"");
    add("a/f", tar::EntryType::Regular, 0, b"content");
    add("dev/", tar::EntryType::Directory, 0, b"");
    add("dev/null", tar::EntryType::Char, 0, b"");
    let layer = d.path().join("layer.tar");
    std::fs::write(&layer, b.into_inner().unwrap()).unwrap();
    let exe = d.path().join("test-bin");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "--exact",
            "non_root_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KILN_NONROOT_LAYER", &layer)
        .env("KILN_NONROOT_ROOT", d.path().join("root"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run: {stdout}"
    );
    assert!(
        stdout.contains("WARNING not running as root: file owners from the image are not set"),
        "{stdout}"
    );
    assert!(
        stdout.contains("WARNING layer test: device dev/null skipped: creating devices needs root"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("not running as root").count(),
        1,
        "one owner warning only: {stdout}"
    );
    let f = std::fs::metadata(d.path().join("root/a/f")).unwrap();
    assert_eq!(f.uid(), 65534);
    assert_eq!(
        std::fs::read_to_string(d.path().join("root/a/f")).unwrap(),
        "content"
    );
    assert!(!d.path().join("root/dev/null").exists());
}

#[test]
#[ignore = "run as nobody by unpack_as_non_root_warns_instead_of_failing"]
fn non_root_child() {
    let layer = std::env::var("KILN_NONROOT_LAYER")
        .expect("run by unpack_as_non_root_warns_instead_of_failing");
    let root = PathBuf::from(std::env::var("KILN_NONROOT_ROOT").unwrap());
    assert!(
        !nix::unistd::geteuid().is_root(),
        "must run as a user who is not root"
    );
    std::fs::create_dir_all(&root).unwrap();
    let mut rep = UnpackReport::default();
    let mut warned = false;
    unpack::apply_layer(
        std::fs::File::open(layer).unwrap(),
        "test",
        &root,
        &UnpackOptions::default(),
        &mut rep,
        &mut warned,
    )
    .unwrap();
    for w in &rep.warnings {
        println!("WARNING {w}");
    }
}
