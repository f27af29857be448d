//! The docker communicator on a busybox root filesystem with runc: the image's user runs
//! commands unless `exec_user` says otherwise, uploads go to the container user with
//! `fix_upload_owner`, directories go both ways (Packer's docker communicator cannot
//! download one), bind mounts are reached through their host side, and errors name paths.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kiln_engine::communicator::docker::DockerComm;
use kiln_engine::communicator::{Collect, CommError, Communicator, ExitStatus};
use kiln_oci::runtime::BindMount;
use tokio_util::sync::CancellationToken;

fn busybox_rootfs(root: &Path) {
    let bb = Path::new("/bin/busybox");
    assert!(
        bb.is_file(),
        "busybox is not installed: run scripts/install-deps.sh (apt-get install busybox-static)"
    );
    for d in ["bin", "etc", "tmp", "home/app"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(bb, root.join("bin/busybox")).unwrap();
    let list = Command::new(bb).arg("--list-full").output().unwrap();
    for l in String::from_utf8_lossy(&list.stdout).lines() {
        let p = root.join(l);
        if !p.exists() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink("/bin/busybox", &p).unwrap();
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
}

fn comm(root: &Path, work: &Path, shared: &Path, exec_user: Option<&str>) -> DockerComm {
    kiln_oci::runtime::prepare_mountpoints(
        root,
        &[BindMount {
            source: shared.to_path_buf(),
            destination: "/packer-files".into(),
            readonly: false,
            options: vec![],
        }],
    )
    .unwrap();
    DockerComm {
        rootfs: root.to_path_buf(),
        mounts: vec![BindMount {
            source: shared.to_path_buf(),
            destination: "/packer-files".into(),
            readonly: false,
            options: vec![],
        }],
        run_binds: vec![],
        hostname: String::new(),
        devices: vec![],
        exec_user: exec_user.map(String::from),
        container_user: Some("app".into()),
        env: vec![
            "PATH=/bin:/usr/bin:/sbin:/usr/sbin".into(),
            "FROM_IMAGE=yes".into(),
        ],
        workdir: Some("/home/app".into()),
        fix_upload_owner: true,
        privileged: false,
        cap_add: vec![],
        cap_drop: vec![],
        runtime: Some("runc".into()),
        work_dir: work.to_path_buf(),
        lock: Arc::new(tokio::sync::Mutex::new(())),
        in_place: false,
        container_id: "c0ffee".into(),
        scratch: false,
    }
}

#[tokio::test]
async fn users_uploads_downloads_and_errors() {
    assert!(
        Path::new("/usr/sbin/runc").is_file() || Path::new("/usr/bin/runc").is_file(),
        "apt-get install runc"
    );
    let d = tempfile::tempdir().unwrap();
    let (root, work, shared) = (
        d.path().join("rootfs"),
        d.path().join("work"),
        d.path().join("shared"),
    );
    for p in [&root, &work, &shared] {
        std::fs::create_dir_all(p).unwrap();
    }
    busybox_rootfs(&root);
    let c = comm(&root, &work, &shared, None);
    let cancel = CancellationToken::new();

    // the image's user, environment and working directory; Packer's ( … ) wrapping
    let mut out = Collect::default();
    let st = c
        .start("id -u; echo $FROM_IMAGE; pwd; exit 3", &mut out, &cancel)
        .await
        .unwrap();
    assert_eq!(st, ExitStatus::Code(3));
    assert_eq!(out.stdout, vec!["1000", "yes", "/home/app"]);
    let root_comm = comm(&root, &work, &shared, Some("root"));
    let mut out = Collect::default();
    root_comm.start("id -u", &mut out, &cancel).await.unwrap();
    assert_eq!(out.stdout, vec!["0"]);

    // upload: the container user owns it (the plugin's `chown -R app`: the group stays
    // root's, as docker cp left it); a path under a bind mount lands on the host side
    c.upload("/etc/app.conf", &mut &b"key=value\n"[..], 0o600)
        .await
        .unwrap();
    let m = std::fs::metadata(root.join("etc/app.conf")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (1000, 0, 0o600));
    // a user:group sets both
    let mut cg = c.clone();
    cg.container_user = Some("app:app".into());
    cg.upload("/etc/app2.conf", &mut &b"x\n"[..], 0o644)
        .await
        .unwrap();
    let m = std::fs::metadata(root.join("etc/app2.conf")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1000, 1000));
    c.upload("/packer-files/script.sh", &mut &b"echo hi\n"[..], 0o755)
        .await
        .unwrap();
    // `docker cp - ID:DIR` wants DIR to be a directory in the container: nothing is made
    let e = c
        .upload("/nowhere/deeper/x", &mut &b"x\n"[..], 0o644)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to upload to '/nowhere/deeper/x' in container: destination \"c0ffee:/nowhere/deeper\" must be a directory\n. exit status 1."
    );
    assert!(!root.join("nowhere").exists());
    // Kiln's empty image has no directories: there an upload makes them
    let mut scratch = c.clone();
    scratch.scratch = true;
    scratch
        .upload("/nowhere/deeper/x", &mut &b"x\n"[..], 0o644)
        .await
        .unwrap();
    assert!(root.join("nowhere/deeper/x").is_file());
    assert_eq!(
        std::fs::read_to_string(shared.join("script.sh")).unwrap(),
        "echo hi\n"
    );
    let mut out = Collect::default();
    c.start("sh /packer-files/script.sh", &mut out, &cancel)
        .await
        .unwrap();
    assert_eq!(out.stdout, vec!["hi"]);

    // directories both ways, with Packer's trailing-slash rule: into an existing
    // destination the directory itself, as `docker cp`; a missing one becomes its copy
    let src = d.path().join("tree");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/a.txt"), "a").unwrap();
    std::fs::create_dir(root.join("opt")).unwrap();
    c.upload_dir("/opt", &src, &[]).await.unwrap();
    c.upload_dir("/fresh", &src, &[]).await.unwrap();
    assert!(root.join("fresh/sub/a.txt").is_file());
    assert_eq!(
        std::fs::read_to_string(root.join("opt/tree/sub/a.txt")).unwrap(),
        "a"
    );
    assert_eq!(
        std::fs::metadata(root.join("opt/tree/sub/a.txt"))
            .unwrap()
            .uid(),
        1000
    );
    let mut with_slash = src.clone().into_os_string();
    with_slash.push("/");
    c.upload_dir("/srv", &PathBuf::from(with_slash), &[])
        .await
        .unwrap();
    assert!(root.join("srv/sub/a.txt").is_file());
    let back = d.path().join("back");
    c.download_dir("/opt/tree/", &back, &[]).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(back.join("sub/a.txt")).unwrap(),
        "a"
    );
    let mut buf = Vec::new();
    c.download("/etc/app.conf", &mut buf).await.unwrap();
    assert_eq!(buf, b"key=value\n");

    // errors name what failed
    let mut sink = Vec::new();
    let e = c.download("/etc/missing", &mut sink).await.unwrap_err();
    // (docker cp's refusal, as the plugin's Download returns it)
    assert_eq!(
        e.to_string(),
        "Error downloading file: Error: No such container:path: c0ffee:/etc/missing\n"
    );
    // a user or group the image lacks: `docker exec -u`'s lookup error, exit 126
    let mut c3 = c.clone();
    for (user, line) in [
        (
            "nobody2",
            "unable to find user nobody2: no matching entries in passwd file",
        ),
        (
            "app:nogroup",
            "unable to find group nogroup: no matching entries in group file",
        ),
    ] {
        c3.exec_user = Some(user.into());
        let mut out = Collect::default();
        let st = c3.start("true", &mut out, &cancel).await.unwrap();
        assert_eq!(st, ExitStatus::Code(126));
        assert_eq!(out.stdout, vec![line]);
    }
    // without /bin/sh, `docker exec … /bin/sh -c` starts nothing: runc's lookup error on
    // stderr, exit 126 (a command that failed, not one to retry)
    std::fs::remove_file(root.join("bin/sh")).unwrap();
    let mut out = Collect::default();
    let st = c.start("true", &mut out, &cancel).await.unwrap();
    assert_eq!(st, ExitStatus::Code(126));
    assert_eq!(
        out.stderr,
        vec![
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown"
        ]
    );
    // nothing left in the work directory
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
}

/// In place (the runner pod's mode; a chroot here): the image's user with its groups, its
/// environment and working directory, no container; a cancelled command's background
/// children are killed with it.
#[tokio::test]
async fn in_place_runs_as_the_image_user_and_cancels_the_whole_group() {
    let d = tempfile::tempdir().unwrap();
    let (root, work) = (d.path().join("rootfs"), d.path().join("work"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    busybox_rootfs(&root);
    // a pod's /dev has /dev/null (busybox's sh opens it for background jobs)
    std::fs::create_dir_all(root.join("dev")).unwrap();
    let st = Command::new("mknod")
        .args(["-m", "666"])
        .arg(root.join("dev/null"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success(), "mknod (the test runs as root)");
    let mut c = comm(&root, &work, &work, None);
    c.in_place = true;
    c.mounts = vec![];
    let cancel = CancellationToken::new();
    let mut out = Collect::default();
    let st = c
        .start(
            "id -u; id -g; echo $FROM_IMAGE; pwd; exit 4",
            &mut out,
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(st, ExitStatus::Code(4));
    assert_eq!(out.stdout, vec!["1000", "1000", "yes", "/home/app"]);
    // cancellation kills the command and what it started in the background
    let pidfile = root.join("tmp/bg.pid");
    let mut c2 = c.clone();
    c2.exec_user = Some("root".into());
    let cancel2 = cancel.clone();
    let task = tokio::spawn(async move {
        let mut out = Collect::default();
        c2.start(
            "sleep 300 & echo $! > /tmp/bg.pid; wait",
            &mut out,
            &cancel2,
        )
        .await
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pidfile.exists() || std::fs::read_to_string(&pidfile).unwrap().trim().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "command did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let bg: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    cancel.cancel();
    let r = task.await.unwrap();
    assert!(matches!(r, Err(CommError::Interrupted { .. })), "{r:?}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let alive = std::fs::read_to_string(format!("/proc/{bg}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "background sleep {bg} survived the cancellation");
}
