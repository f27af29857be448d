//! Whole `docker` builds without a daemon (session load → plan::prepare → run::run_all)
//! against Debian's docker-registry on loopback: FROM a busybox base the test pushes, shell
//! and file provisioners (upload, download of a directory), commit with `changes`,
//! docker-tag, docker-push; checked with skopeo and umoci, and rebuilt for the same digest.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kiln_engine::plan::{self, RunOptions};
use kiln_engine::run;
use kiln_engine::session::{self, LoadOptions};
use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::store::{Platform, Store};

mod support;
use support::build::{load_hcl, run_template};
use support::registry::{Registry, need};

/// Pushes a busybox-static base image (CMD ["sh"], user `app` known) to `reference`.
fn push_base(reference: &str) {
    let bb = need("busybox", "busybox-static");
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("rootfs");
    for sub in ["bin", "etc", "tmp", "root", "home/app"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::copy(&bb, root.join("bin/busybox")).unwrap();
    let list = Command::new(&bb).arg("--list-full").output().unwrap();
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
    std::fs::write(root.join("etc/obsolete.conf"), "old\n").unwrap();
    let store = Store::open(d.path().join("store")).unwrap();
    let after = diff::snapshot(&root, &SnapshotOptions::default()).unwrap();
    let layer = diff::write_layer(
        &root,
        &Default::default(),
        &after,
        &store,
        &LayerOptions::default(),
    )
    .unwrap();
    let base = image::scratch(
        &Platform::host(),
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}),
    );
    image::commit(&store, &base, &layer, &CommitOptions::default(), reference).unwrap();
    let r = kiln_oci::Reference::parse(reference).unwrap();
    kiln_oci::registry::Client::new(Default::default())
        .unwrap()
        .push(&store, reference, &r)
        .unwrap();
}

/// One image store for this test binary (the builders read `KILN_IMAGE_STORE`).
fn use_test_store() {
    static ONCE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        // statics are never dropped: remove the stores of earlier runs whose process is gone
        for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if let Some(pid) = n.strip_prefix("kiln-test-images-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = std::env::temp_dir().join(format!("kiln-test-images-{}", std::process::id()));
        // SAFETY: set once, before any build of this binary reads it
        unsafe { std::env::set_var("KILN_IMAGE_STORE", dir) };
    });
}

/// Runs the template in `dir`, with `dir/scratch` as the run's scratch directory.
async fn build(dir: &Path, hcl: &str) -> (Vec<String>, Vec<run::BuildOutcome>) {
    build_in(dir, hcl, None).await
}

/// [`build`] with `RunEnv::image_root` (the runner pod's mode: provision in place).
async fn build_in(
    dir: &Path,
    hcl: &str,
    image_root: Option<PathBuf>,
) -> (Vec<String>, Vec<run::BuildOutcome>) {
    let t = load_hcl(dir, hcl).unwrap_or_else(|d| panic!("{d}"));
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let opts = RunOptions {
        env: Arc::new(kiln_engine::components::RunEnv {
            work_dir: scratch,
            image_root,
            ..Default::default()
        }),
        ..RunOptions::default()
    };
    run_template(&t, &opts)
        .await
        .unwrap_or_else(|d| panic!("{d}"))
}

/// A loopback docker-registry holding the busybox base as `name` (`repository:tag`), its
/// `host:port`, a work directory, and the test image store in use.
fn registry_with_base(name: &str) -> (Registry, String, tempfile::TempDir) {
    let reg = Registry::start();
    let host = format!("127.0.0.1:{}", reg.port);
    push_base(&format!("{host}/{name}"));
    use_test_store();
    (reg, host, tempfile::tempdir().unwrap())
}

/// The pushed image `docker://…` unpacked with skopeo and umoci (as a user's tools see it):
/// its root filesystem, in the returned temporary directory.
fn unpack_pushed(image: &str) -> (tempfile::TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("layout");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        image,
        &format!("oci:{}:v", layout.display()),
    ]);
    let bundle = out.path().join("bundle");
    let o = Command::new(need("umoci", "umoci"))
        .args(["unpack", "--image"])
        .arg(format!("{}:v", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (out, bundle.join("rootfs"))
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new(need("skopeo", "skopeo"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A pushed image's config blob as pushed (skopeo's `--config` alone shows OCI's fields
/// only: no Healthcheck, no OnBuild).
fn pushed_config(image: &str) -> serde_json::Value {
    serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        image,
    ]))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_source_builds_commits_tags_and_pushes() {
    need("runc", "runc");
    let (_reg, host, work) = registry_with_base("base/busybox:1");
    let files = work.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("motd"), "built by kiln\n").unwrap();
    let fetched = work.path().join("fetched");
    let hcl = format!(
        r#"
source "docker" "app" {{
  image   = "{host}/base/busybox:1"
  commit  = true
  changes = ["ENV GREETING=hello", "WORKDIR /srv", "LABEL org.example.built-by=kiln"]
  author  = "Kiln <kiln@example.org>"
  message = "provisioned"
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = [
      "echo user=$(id -u) conn=${{build.ConnType}}",
      "mkdir -p /srv/app && echo v1 > /srv/app/version",
      "rm /etc/obsolete.conf",
      "chown 1000:1000 /srv/app/version && chmod 640 /srv/app/version",
    ]
  }}
  provisioner "file" {{
    source      = "{files}/motd"
    destination = "/etc/motd"
  }}
  provisioner "file" {{
    source      = "/srv/app/"
    destination = "{fetched}"
    direction   = "download"
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/web"
      tags       = ["1.0", "latest"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#,
        files = files.display(),
        fetched = fetched.display(),
    );
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    assert!(all.contains("user=0 conn=docker"), "{all}");
    // Packer's docker builder's lines, with `docker pull`'s and `docker push`'s.
    let has = |l: &str| lines.iter().any(|x| x.trim_end().ends_with(l));
    let image = format!("{host}/base/busybox:1");
    for l in [
        "Creating a temporary directory for sharing data...".to_string(),
        format!("Pulling Docker image: {image}"),
        "1: Pulling from base/busybox".into(),
        format!("Status: Downloaded newer image for {image}"),
        "Starting docker container...".into(),
        "Using docker communicator to connect:".into(),
        "Committing the container".into(),
        format!("The push refers to repository [{host}/apps/web]"),
    ] {
        assert!(has(&l), "no {l:?} in\n{all}");
    }
    let run = lines
        .iter()
        .find(|l| l.contains("Run command: docker run -v "))
        .unwrap();
    assert!(
        run.ends_with(&format!(
            ":/packer-files -d -i -t --entrypoint=/bin/sh -- {image}"
        )),
        "{run}"
    );
    let id = lines
        .iter()
        .find_map(|l| l.split_once("Container ID: ").map(|x| x.1.to_string()))
        .unwrap();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(has(&format!("Killing the container: {id}")), "{all}");
    // The artifact's id (the last tag), then each tag: the last one again finds it all.
    let pushes: Vec<&String> = lines.iter().filter(|l| l.contains("Pushing: ")).collect();
    assert_eq!(pushes.len(), 3, "{all}");
    assert!(pushes[0].ends_with(&format!("Pushing: {host}/apps/web:latest")));
    assert!(
        lines.iter().any(|l| l.contains("1.0: digest: sha256:")),
        "{all}"
    );
    // the directory downloaded from the container (Packer's docker communicator cannot)
    assert_eq!(
        std::fs::read_to_string(fetched.join("version")).unwrap(),
        "v1\n"
    );

    let v: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/apps/web:1.0"),
    ]))
    .unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(v["Labels"]["org.example.built-by"], "kiln");
    let digest = v["Digest"].as_str().unwrap().to_string();
    let latest: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/apps/web:latest"),
    ]))
    .unwrap();
    assert_eq!(latest["Digest"], digest.as_str());
    let cfg: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{host}/apps/web:1.0"),
    ]))
    .unwrap();
    assert_eq!(
        cfg["config"]["Cmd"],
        serde_json::json!(["sh"]),
        "the base CMD is kept"
    );
    assert_eq!(cfg["config"]["WorkingDir"], "/srv");
    assert!(
        cfg["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("GREETING=hello"))
    );
    assert_eq!(cfg["author"], "Kiln <kiln@example.org>");

    // umoci sees the changes: the deleted file gone, the new ones with mode and owner
    let (_out, r) = unpack_pushed(&format!("docker://{host}/apps/web:1.0"));
    assert!(!r.join("etc/obsolete.conf").exists());
    assert_eq!(
        std::fs::read_to_string(r.join("etc/motd")).unwrap(),
        "built by kiln\n"
    );
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(r.join("srv/app/version")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o640, 1000, 1000));
    assert!(
        !r.join("packer-files").exists()
            || std::fs::read_dir(r.join("packer-files"))
                .unwrap()
                .next()
                .is_none()
    );

    // the same build again gives the same digest
    std::fs::remove_dir_all(&fetched).unwrap();
    let (lines, outcomes) = build(work.path(), &hcl).await;
    assert!(outcomes.iter().all(|o| o.ok()), "{}", lines.join("\n"));
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("Status: Image is up to date for {image}"))),
        "{}",
        lines.join("\n")
    );
    let again: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{host}/apps/web:1.0"),
    ]))
    .unwrap();
    assert_eq!(
        again["Digest"],
        digest.as_str(),
        "a rebuild changed the digest"
    );
    // nothing of the container is left in the scratch directory
    let left: Vec<_> = std::fs::read_dir(work.path().join("scratch"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn docker_source_config_errors_name_the_option() {
    let work = tempfile::tempdir().unwrap();
    let hcl = r#"
source "docker" "bad" {
  image       = "Busybox:latest"
  commit      = true
  discard     = true
  run_command = ["-d"]
  changes     = ["RUN echo"]
  platform    = "linux"
}
build { sources = ["docker.bad"] }
"#;
    std::fs::write(work.path().join("t.pkr.hcl"), hcl).unwrap();
    let t = session::load_path(work.path(), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"))
        .template;
    // Validation says what Packer's plugin says: its own error, not Kiln's refusals.
    let err = match plan::prepare(&t, t.instances().unwrap(), &RunOptions::default()) {
        Ok(_) => panic!("the config was accepted"),
        Err(d) => d.to_string(),
    };
    assert!(
        err.contains("Cannot specify more than one of commit, discard, and export_path"),
        "{err}"
    );
    assert!(!err.contains("run_command"), "{err}");
    // Without it the template validates, and the build fails at its first step naming
    // each option Kiln refuses, before anything is pulled.
    let hcl = hcl.replace("  discard     = true\n", "");
    std::fs::write(work.path().join("t.pkr.hcl"), &hcl).unwrap();
    let t = session::load_path(work.path(), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"))
        .template;
    let (prepared, _) = plan::prepare(&t, t.instances().unwrap(), &RunOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let refused = prepared[0].deferred_checks().join("\n");
    for want in [
        "repository name must be lowercase",
        "run_command: it names no image",
        "platform \"linux\"",
    ] {
        assert!(refused.contains(want), "missing {want:?} in:\n{refused}");
    }
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let errors = outcomes[0].errors.join("\n");
    assert!(
        errors.starts_with("Kiln cannot run this build: 3 error(s) occurred:"),
        "{errors}\n{}",
        lines.join("\n")
    );
    assert!(
        !lines.iter().any(|l| l.contains("Pulling")),
        "{}",
        lines.join("\n")
    );
}

/// What a docker source asks of its runner pod (the kaniko pattern), and `scratch` refused
/// in the cluster (when the build runs) with the option named.
#[tokio::test]
async fn docker_source_requirements_for_the_cluster() {
    let work = tempfile::tempdir().unwrap();
    let hcl = r#"
source "docker" "app" {
  image  = "registry.example/base/debian@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  commit = true
}
build { sources = ["docker.app"] }
"#;
    std::fs::write(work.path().join("t.pkr.hcl"), hcl).unwrap();
    let t = session::load_path(work.path(), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"))
        .template;
    let cluster = RunOptions {
        env: Arc::new(kiln_engine::components::RunEnv {
            in_cluster: true,
            ..Default::default()
        }),
        ..RunOptions::default()
    };
    let (prepared, _) =
        plan::prepare(&t, t.instances().unwrap(), &cluster).unwrap_or_else(|d| panic!("{d}"));
    let req = prepared[0].requirements();
    assert_eq!(
        req.image.as_ref().map(|g| g.name.as_str()),
        Some(
            "registry.example/base/debian@sha256:0000000000000000000000000000000000000000000000000000000000000000"
        )
    );
    assert!(req.run_as_root.is_some() && req.user_namespaces.is_some());
    assert!(req.writable_root.is_some());
    let caps: Vec<&str> = req.capabilities.iter().map(|g| g.name.as_str()).collect();
    for c in ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE"] {
        assert!(caps.contains(&c), "{caps:?}");
    }
    assert!(!caps.contains(&"SYS_ADMIN") && req.devices.is_empty());

    std::fs::write(
        work.path().join("t.pkr.hcl"),
        "source \"docker\" \"s\" {\n  image  = \"scratch\"\n  commit = true\n}\nbuild { sources = [\"docker.s\"] }\n",
    )
    .unwrap();
    let t = session::load_path(work.path(), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"))
        .template;
    // Validated as Packer would; refused when the build runs (and by the operator before
    // any pod, from the same list).
    let (prepared, _) =
        plan::prepare(&t, t.instances().unwrap(), &cluster).unwrap_or_else(|d| panic!("{d}"));
    let refused = prepared[0].deferred_checks().join("\n");
    assert!(refused.contains("image = \"scratch\""), "{refused}");
    // locally it is fine
    let (prepared, _) = plan::prepare(&t, t.instances().unwrap(), &RunOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(prepared[0].deferred_checks().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_and_save() {
    need("runc", "runc");
    let (_reg, host, work) = registry_with_base("base/busybox:2");
    let export = work.path().join("out/fs.tar");
    let saved = work.path().join("out/saved.tar");
    let hcl = format!(
        r#"
source "docker" "x" {{
  image       = "{host}/base/busybox:2"
  export_path = "{export}"
}}
build {{
  sources = ["docker.x"]
  provisioner "shell" {{
    inline = [
      "echo exported > /marker",
      "echo id=${{build.ID}} host=$(hostname) env=$HOSTNAME file=$(cat /etc/hostname)",
      "grep -c localhost /etc/hosts",
      "ls /.dockerenv && echo changed > /etc/hosts",
    ]
  }}
  post-processors {{
    post-processor "docker-import" {{
      repository          = "{host}/imported/fs"
      keep_input_artifact = true
      tag        = "7"
      changes    = ["CMD [\"/bin/sh\"]", "ENV IMPORTED=1"]
    }}
    post-processor "docker-save" {{
      path = "{saved}"
    }}
  }}
}}
"#,
        export = export.display(),
        saved = saved.display(),
    );
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    // the container is named as Docker's: the id's first 12 digits, in /etc/hostname too;
    // /etc/hosts is Docker's (two localhost lines), /.dockerenv is there
    let id_line = lines
        .iter()
        .find_map(|l| l.split_once("id=").map(|x| x.1))
        .unwrap_or_else(|| panic!("{all}"));
    let (id, rest) = id_line.split_once(' ').unwrap();
    assert_eq!(id.len(), 64, "{id_line}");
    let short = &id[..12];
    assert_eq!(
        rest,
        format!("host={short} env={short} file={short}"),
        "{all}"
    );
    assert!(lines.iter().any(|l| l == "2"), "{all}");
    // the export is a flat tar of the file system, with the provisioner's file and Docker's
    // init layer (the placeholders: what commands wrote to /etc/hosts is not there), owners
    // named from the image
    let mut ar = tar::Archive::new(std::fs::File::open(&export).unwrap());
    let mut entries = std::collections::BTreeMap::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        entries.insert(
            e.path().unwrap().display().to_string(),
            (
                h.entry_type(),
                h.size().unwrap(),
                h.username().unwrap().map(String::from),
                h.link_name().unwrap().map(|l| l.display().to_string()),
            ),
        );
    }
    let names: Vec<&String> = entries.keys().collect();
    assert!(entries.contains_key("marker"), "{names:?}");
    assert!(entries.contains_key("bin/busybox"));
    assert!(!names.iter().any(|n| n.contains(".wh.")));
    for f in [
        ".dockerenv",
        "etc/hosts",
        "etc/hostname",
        "etc/resolv.conf",
        "dev/console",
    ] {
        assert_eq!(
            entries[f],
            (tar::EntryType::Regular, 0, Some("root".into()), None),
            "{f}"
        );
    }
    assert_eq!(entries["etc/mtab"].3.as_deref(), Some("/proc/mounts"));
    for d in ["dev/pts/", "dev/shm/", "proc/", "sys/", "packer-files/"] {
        assert_eq!(entries[d].0, tar::EntryType::Directory, "{d}");
    }
    // the saved image: one layer, the import's changes, read as docker-archive and oci-archive
    let cfg: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        &format!("docker-archive:{}", saved.display()),
    ]))
    .unwrap();
    assert_eq!(cfg["config"]["Cmd"], serde_json::json!(["/bin/sh"]));
    assert!(
        cfg["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("IMPORTED=1"))
    );
    assert_eq!(cfg["rootfs"]["diff_ids"].as_array().unwrap().len(), 1);
    skopeo(&[
        "inspect",
        &format!("oci-archive:{}:{host}/imported/fs:7", saved.display()),
    ]);
}

/// Unmounts a tmpfs when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The runner pod's mode (the kaniko pattern), here with a chroot: the root filesystem the
/// process "runs in" is the base image, provisioned in place with no container runtime;
/// mounts under it (as a pod's service account token) stay out of the layer; the image is
/// byte for byte the one a runc build of the same template makes; the scratch dir and
/// `container_dir` are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_build_matches_the_runc_build_and_leaves_mounts_out() {
    need("runc", "runc");
    let reg = Registry::start();
    let host = format!("127.0.0.1:{}", reg.port);
    let base = format!("{host}/base/busybox:1");
    push_base(&base);
    use_test_store();
    let work = tempfile::tempdir().unwrap();
    // the "pod": the base image unpacked, with a secret mounted into it
    let root = work.path().join("root");
    let pulled = Store::open(work.path().join("pulled")).unwrap();
    let img = kiln_oci::registry::Client::new(Default::default())
        .unwrap()
        .pull(
            &kiln_oci::Reference::parse(&base).unwrap(),
            &pulled,
            &Platform::host(),
        )
        .unwrap()
        .image;
    kiln_oci::unpack::unpack_layers(&pulled, &img.manifest.layers, &root, &Default::default())
        .unwrap();
    let secrets = root.join("var/run/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    // the mount point exists in the image before the build, as kubelet's would
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&secrets)
        .status()
        .unwrap();
    assert!(st.success(), "mount tmpfs (the test runs as root)");
    let _m = Mounted(secrets.clone());
    std::fs::write(secrets.join("token"), "s3cret").unwrap();
    // what the container runtime gives every pod: /proc and a /dev with /dev/null
    let mut mounted = vec![];
    for (dir, fs) in [("proc", "proc"), ("dev", "tmpfs")] {
        let p = root.join(dir);
        std::fs::create_dir_all(&p).unwrap();
        let st = Command::new("mount")
            .args(["-t", fs, fs])
            .arg(&p)
            .status()
            .unwrap();
        assert!(st.success(), "mount {fs} on {}", p.display());
        mounted.push(Mounted(p));
    }
    let st = Command::new("mknod")
        .args(["-m", "666"])
        .arg(root.join("dev/null"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success());
    let template = |repo: &str| {
        format!(
            r#"
source "docker" "app" {{
  image   = "{base}"
  commit  = true
  changes = ["ENV GREETING=hello"]
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = [
      "echo ok uid=$(id -u) home=$HOME",
      "mkdir -p /srv/app && echo v1 > /srv/app/version",
      "rm /etc/obsolete.conf",
      "ls /packer-files >/dev/null",
    ]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/{repo}"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#
        )
    };
    let (lines, outcomes) = build_in(work.path(), &template("inplace"), Some(root.clone())).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    assert!(all.contains("in place"), "{all}");
    assert!(all.contains("ok uid=0 home=/root"), "{all}");
    // provisioned in place: the root itself changed, the mounted secret untouched
    assert_eq!(
        std::fs::read_to_string(root.join("srv/app/version")).unwrap(),
        "v1\n"
    );
    assert!(!root.join("etc/obsolete.conf").exists());
    assert!(!root.join("packer-files").exists(), "container_dir removed");
    assert_eq!(
        std::fs::read_to_string(secrets.join("token")).unwrap(),
        "s3cret"
    );
    let scratch: Vec<_> = std::fs::read_dir(work.path().join("scratch"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(scratch.is_empty(), "left behind: {scratch:?}");
    // the same template built with runc gives the same image
    let (lines, outcomes) = build(work.path(), &template("runc")).await;
    assert!(outcomes.iter().all(|o| o.ok()), "{}", lines.join("\n"));
    let digest = |repo: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(&skopeo(&[
            "inspect",
            "--tls-verify=false",
            &format!("docker://{host}/apps/{repo}:1"),
        ]))
        .unwrap();
        v["Digest"].as_str().unwrap().to_string()
    };
    assert_eq!(digest("inplace"), digest("runc"));
    // and the secret is not in the layer
    let (_out, r) = unpack_pushed(&format!("docker://{host}/apps/inplace:1"));
    assert!(r.join("srv/app/version").is_file());
    assert!(!r.join("var/run/secrets/token").exists());
    assert!(!r.join("etc/obsolete.conf").exists());
    // container_dir is the empty mount point both builds commit, as dockerd's
    assert_eq!(
        std::fs::read_dir(r.join("packer-files")).unwrap().count(),
        0
    );
}

/// A missing tag, a missing repository and a registry that refuses the connection, through
/// the builder: the build fails naming the registry, the repository and the status, and
/// leaves nothing in its scratch directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_images_and_unreachable_registries_name_what_failed() {
    let reg = Registry::start();
    let host = format!("127.0.0.1:{}", reg.port);
    push_base(&format!("{host}/base/busybox:1"));
    use_test_store();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // the listener is dropped: nothing listens there
    // As Packer's docker builder: the daemon's words (its own for a manifest the registry
    // lacks, Kiln's naming the registry for anything else), then the pull's failure.
    for (image, want) in [
        (
            format!("{host}/base/busybox:nope"),
            format!(
                "Error response from daemon: manifest for {host}/base/busybox:nope not found: manifest unknown: manifest unknown"
            ),
        ),
        (
            format!("{host}/base/missing:1"),
            format!(
                "Error response from daemon: manifest for {host}/base/missing:1 not found: manifest unknown: manifest unknown"
            ),
        ),
        (
            format!("127.0.0.1:{closed}/base/busybox:1"),
            format!(
                "Error response from daemon: registry 127.0.0.1:{closed}, repository base/busybox"
            ),
        ),
    ] {
        let work = tempfile::tempdir().unwrap();
        let hcl = format!(
            "source \"docker\" \"x\" {{\n  image  = \"{image}\"\n  commit = true\n}}\nbuild {{ sources = [\"docker.x\"] }}\n"
        );
        let (lines, outcomes) = build(work.path(), &hcl).await;
        let all = lines.join("\n");
        assert!(outcomes.iter().all(|o| !o.ok()), "{all}");
        assert!(all.contains(&want), "{image}: want {want:?} in\n{all}");
        assert_eq!(
            outcomes[0].errors.join("\n"),
            "Error pulling Docker image: Bad exit status: 1"
        );
        let left: Vec<_> = std::fs::read_dir(work.path().join("scratch"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// The `provenance` post-processor after `docker-push`: the signed attestation is written
/// and stored beside the pushed image as an OCI referrer (Debian's docker-registry has no
/// referrers API: under the tag `sha256-<hex>`), and the passed-on artifact says where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provenance_after_a_push_is_attached_to_the_image_as_a_referrer() {
    use kiln_engine::postprocessors::provenance::{IN_TOTO_PAYLOAD_TYPE, VerifyingKey, state};
    need("runc", "runc");
    let (_reg, host, work) = registry_with_base("base/busybox:1");
    let key = work.path().join("signing.pem");
    let st = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key)
        .status()
        .expect("openssl (Debian package openssl)");
    assert!(st.success());
    let out_dir = work.path().join("attestations");
    let hcl = format!(
        r#"
source "docker" "app" {{
  image  = "{host}/base/busybox:1"
  commit = true
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = ["echo attested > /attested.txt"]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/attested"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
    post-processor "provenance" {{
      signing_mode = "key"
      key          = "{key}"
      output_dir   = "{out}"
    }}
  }}
}}
"#,
        key = key.display(),
        out = out_dir.display(),
    );
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    let last = outcomes[0].artifacts.last().unwrap();
    let get = |k: &str| {
        last.state
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no {k} in {:?}", last.state))
            .to_string()
    };
    let digest = get("digest");
    assert_eq!(
        get(state::SUBJECT),
        format!("{host}/apps/attested@{digest}")
    );
    assert_eq!(get(state::REFERRERS_TAG), digest.replacen(':', "-", 1));
    assert!(all.contains("Attached the attestation to"), "{all}");
    let file = std::fs::read(get(state::FILE)).unwrap();
    let file_digest = kiln_oci::Digest::of(&file);
    assert_eq!(get(state::DIGEST), file_digest.to_string());

    // What the registry holds: one in-toto referrer of the image, whose layer is the file.
    let client = kiln_oci::registry::Client::new(Default::default()).unwrap();
    let repo = kiln_oci::Reference::parse(&format!("{host}/apps/attested")).unwrap();
    let subject = kiln_oci::Digest::parse(&digest).unwrap();
    let refs = client
        .referrers(&repo, &subject, Some(kiln_oci::referrers::ARTIFACT_IN_TOTO))
        .unwrap();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0].digest, get(state::REFERRER));
    let (m, _, _) = client.get_manifest(&repo, &refs[0].digest).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
    assert_eq!(m["subject"]["digest"], digest.as_str());
    assert_eq!(m["layers"][0]["digest"], file_digest.as_str());
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.dsse.envelope.v1+json"
    );
    let blob = client.read_blob(&repo, &file_digest, 1 << 20).unwrap();
    assert_eq!(blob, file);

    // And it verifies with the key's public half.
    let env: serde_json::Value = serde_json::from_slice(&blob).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(env["payload"].as_str().unwrap()).unwrap();
    let sig = b64
        .decode(env["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let public = VerifyingKey::from_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
    public.verify(IN_TOTO_PAYLOAD_TYPE, &payload, &sig).unwrap();
    assert_eq!(get(state::KEY_ID), public.key_id());
}

/// A cluster build's SBOMs (`hcp-sbom`) after `docker-push`: each is stored beside the
/// pushed image as an OCI referrer of its own media type (under the referrers tag on
/// Debian's docker-registry, which has no referrers API), the document its one layer, and
/// the SBOM records where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sboms_of_a_pushed_image_are_attached_as_referrers() {
    use kiln_engine::components::{SbomFormat, SbomReferrer};
    use kiln_engine::ui::{Masker, Recorder, Ui};
    need("runc", "runc");
    let (reg, host, work) = registry_with_base("base/busybox:1");
    let cdx = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}"#;
    let spdx = r#"{"spdxVersion":"SPDX-2.3","name":"app"}"#;
    let hcl = format!(
        r#"
source "docker" "app" {{
  image  = "{host}/base/busybox:1"
  commit = true
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = ["echo '{cdx_q}' > /cdx.json", "echo '{spdx_q}' > /spdx.json"]
  }}
  provisioner "hcp-sbom" {{
    source    = "/cdx.json"
    sbom_name = "base-image"
  }}
  provisioner "hcp-sbom" {{
    source = "/spdx.json"
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/sbom"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#,
        cdx_q = cdx.replace('"', "\\\""),
        spdx_q = spdx.replace('"', "\\\""),
    );
    let (lines, mut outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    let o = &mut outcomes[0];
    assert_eq!(o.sboms.len(), 2, "{all}");
    let pushed = o
        .artifacts
        .iter()
        .find(|a| a.builder_id == "packer.post-processor.docker-push")
        .unwrap_or_else(|| panic!("no docker-push artifact: {:?}", o.artifacts));
    let digest = pushed.state["digest"].as_str().unwrap().to_string();
    let subject = format!("{host}/apps/sbom@{digest}");

    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));
    kiln_engine::referrers::attach_sboms(&o.artifacts, &mut o.sboms, &[], &ui).await;
    let said = rec.lines();
    let tag = digest.replacen(':', "-", 1);
    let client = kiln_oci::registry::Client::new(Default::default()).unwrap();
    let repo = kiln_oci::Reference::parse(&format!("{host}/apps/sbom")).unwrap();
    let subject_digest = kiln_oci::Digest::parse(&digest).unwrap();
    for (sbom, (name, format, doc)) in o.sboms.iter().zip([
        ("base-image", SbomFormat::CycloneDx, cdx),
        ("", SbomFormat::Spdx, spdx),
    ]) {
        assert_eq!((sbom.name.as_str(), sbom.format), (name, format));
        assert_eq!(sbom.data, format!("{doc}\n").into_bytes());
        assert_eq!(sbom.referrers.len(), 1, "{said:?}");
        let SbomReferrer {
            subject: s,
            referrer,
            referrers_tag,
        } = &sbom.referrers[0];
        assert_eq!(s, &subject);
        assert_eq!(referrers_tag.as_deref(), Some(tag.as_str()));
        // The registry lists it among the image's referrers of that type …
        let refs = client
            .referrers(&repo, &subject_digest, Some(format.media_type()))
            .unwrap();
        assert_eq!(refs.len(), 1, "{refs:?}");
        assert_eq!(&refs[0].digest, referrer);
        // … and it is the document, annotated with its name when it has one.
        let (m, _, _) = client.get_manifest(&repo, referrer).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(m["artifactType"], format.media_type());
        assert_eq!(m["subject"]["digest"], digest.as_str());
        assert_eq!(m["layers"][0]["mediaType"], format.media_type());
        let blob_digest = kiln_oci::Digest::of(&sbom.data);
        assert_eq!(m["layers"][0]["digest"], blob_digest.as_str());
        assert_eq!(
            m["annotations"]["dev.kiln.sbom.name"].as_str(),
            (!name.is_empty()).then_some(name)
        );
        let blob = client.read_blob(&repo, &blob_digest, 1 << 20).unwrap();
        assert_eq!(blob, sbom.data);
    }
    assert!(
        said.contains(&format!(
            "Attached SBOM \"base-image\" (CYCLONEDX) to {subject} as referrer {} (referrers tag {tag})",
            o.sboms[0].referrers[0].referrer
        )),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|l| l.starts_with(&format!("Attached SBOM #2 (SPDX) to {subject}"))),
        "{said:?}"
    );

    // A registry that refuses the referrer is said, and the SBOM records nothing.
    drop(reg);
    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));
    let mut again = vec![o.sboms[0].clone()];
    again[0].referrers.clear();
    kiln_engine::referrers::attach_sboms(&o.artifacts, &mut again, &[], &ui).await;
    assert!(again[0].referrers.is_empty());
    let said = rec.lines();
    assert!(
        said.len() == 1
            && said[0].starts_with(&format!(
                "could not attach SBOM \"base-image\" (CYCLONEDX) to {subject}: "
            )),
        "{said:?}"
    );
}

/// `docker login` / `docker logout` as Kiln does them for the docker components, against
/// Debian's docker-registry asking for basic auth: the credentials checked (a wrong password
/// is the daemon's refusal, nothing written), stored in the CLI's configuration file with
/// the CLI's lines, and removed at logout with the rest of the file kept.
#[test]
fn docker_login_and_logout_as_the_cli() {
    use kiln_engine::postprocessors::docker_login::{BAD_EXIT, login, logout};
    use kiln_engine::ui::{Masker, Recorder, Ui};
    let reg = Registry::start_with_auth("kiln", "secret");
    let server = format!("127.0.0.1:{}", reg.port);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("docker");
    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));

    assert_eq!(
        login(&ui, &config, &server, "kiln", "wrong"),
        Err(BAD_EXIT.into())
    );
    assert_eq!(
        rec.lines(),
        [format!(
            "Error response from daemon: login attempt to http://{server}/v2/ failed with status: 401 Unauthorized"
        )]
    );
    assert!(!config.join("config.json").exists());

    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        r#"{"auths":{"other.example":{"auth":"YTpi"}}}"#,
    )
    .unwrap();
    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));
    login(&ui, &config, &server, "kiln", "secret").unwrap();
    let file = config.join("config.json");
    assert_eq!(
        rec.lines(),
        [
            format!(
                "WARNING! Your password will be stored unencrypted in {}.",
                file.display()
            ),
            "Configure a credential helper to remove this warning. See".into(),
            "https://docs.docker.com/engine/reference/commandline/login/#credentials-store".into(),
            "Login Succeeded".into(),
        ]
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(stored["auths"][&server]["auth"], "a2lsbjpzZWNyZXQ="); // kiln:secret
    assert_eq!(stored["auths"]["other.example"]["auth"], "YTpi");
    // What the file holds opens the registry to any client reading it.
    let mut creds = kiln_oci::auth::Credentials::new();
    creds.add_docker_config_file(&file).unwrap();
    let client = kiln_oci::registry::Client::new(kiln_oci::registry::ClientOptions {
        credentials: creds,
        ..Default::default()
    })
    .unwrap();
    client.check_login(&server).unwrap();

    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));
    logout(&ui, &config, &server).unwrap();
    assert_eq!(
        rec.lines(),
        [format!("Removing login credentials for {server}")]
    );
    let left: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        left,
        serde_json::json!({"auths": {"other.example": {"auth": "YTpi"}}})
    );
}

/// The `build` section: a Dockerfile built without a daemon (ARGs, ENV, WORKDIR, COPY with
/// --chown, RUN with the stage's ARGs, LABEL, EXPOSE, CMD, a HEALTHCHECK), provisioned and
/// pushed; the image has the base's layer and one more with the Dockerfile's and the
/// provisioner's changes, checked with skopeo and umoci. A failing RUN names its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dockerfile_bootstrap_builds_the_base_image() {
    need("runc", "runc");
    let (_reg, host, work) = registry_with_base("base/busybox:1");
    let ctx = work.path().join("ctx");
    std::fs::create_dir_all(ctx.join("conf/sub")).unwrap();
    std::fs::write(ctx.join("conf/app.conf"), "port=8080\n").unwrap();
    std::fs::write(ctx.join("conf/sub/extra.conf"), "x\n").unwrap();
    std::fs::write(ctx.join("note.txt"), "a note\n").unwrap();
    std::fs::write(ctx.join("junk.tmp"), "junk\n").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "*.tmp\nDockerfile\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "ARG BASE\nFROM ${BASE}\nARG FLAVOUR=plain\nENV APP=/srv/app \\\n    MODE=prod\nWORKDIR $APP\nCOPY conf/ ./conf/\nCOPY --chown=1000:1000 --chmod=600 note.txt /etc/\nCOPY . /ctx/\nRUN echo \"$FLAVOUR $MODE $(pwd)\" > built.txt && echo \"$(hostname) $HOSTNAME $(cat /etc/hostname) $(ls /.dockerenv)\" > run-host.txt\nLABEL org.example.from=dockerfile\nEXPOSE 8080\nHEALTHCHECK --interval=30s CMD true\nCMD [\"cat\", \"built.txt\"]\n",
    )
    .unwrap();
    let hcl = format!(
        r#"
source "docker" "app" {{
  build {{
    path      = "{ctx}/Dockerfile"
    build_dir = "{ctx}"
    arguments = {{ BASE = "{host}/base/busybox:1", FLAVOUR = "spicy" }}
  }}
  commit = true
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = ["cat built.txt", "echo provisioned > /srv/app/prov.txt"]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/fromdockerfile"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#,
        ctx = ctx.display()
    );
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    assert!(all.contains("spicy prod /srv/app"), "{all}");
    let built = lines
        .iter()
        .find_map(|l| l.strip_prefix("Finished building base image "))
        .unwrap_or_else(|| panic!("{all}"))
        .trim_matches('"')
        .to_string();
    assert!(built.starts_with("sha256:"), "{built}");
    assert!(lines.iter().any(|l| l == "Building base image..."), "{all}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("--entrypoint=/bin/sh -- {built}"))),
        "{all}"
    );
    assert!(
        all.contains("final image is not discarded, removing the built image will fail"),
        "{all}"
    );

    let image = format!("docker://{host}/apps/fromdockerfile:1");
    let v: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", "--tls-verify=false", &image])).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3, "{v}");
    let cfg = pushed_config(&image);
    let c = &cfg["config"];
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(c["Cmd"], serde_json::json!(["cat", "built.txt"]));
    assert_eq!(c["Labels"]["org.example.from"], "dockerfile");
    assert_eq!(c["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert_eq!(
        c["Healthcheck"],
        serde_json::json!({"Interval": 30_000_000_000u64, "Test": ["CMD-SHELL", "true"]}),
        "{cfg}"
    );
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        env.contains(&"APP=/srv/app") && env.contains(&"MODE=prod"),
        "{env:?}"
    );
    assert!(
        !env.iter().any(|e| e.starts_with("FLAVOUR=")),
        "ARGs are not stored: {env:?}"
    );

    let (_out, r) = unpack_pushed(&image);
    let read = |p: &str| std::fs::read_to_string(r.join(p)).unwrap();
    assert_eq!(read("srv/app/built.txt"), "spicy prod /srv/app\n");
    assert_eq!(read("srv/app/conf/app.conf"), "port=8080\n");
    assert_eq!(read("srv/app/conf/sub/extra.conf"), "x\n");
    assert_eq!(read("srv/app/prov.txt"), "provisioned\n");
    // RUN ran in a container of its own, as dockerd's (12 hex digits, /.dockerenv), whose
    // files stay out of the image
    let run_host = read("srv/app/run-host.txt");
    let w: Vec<&str> = run_host.split_whitespace().collect();
    assert!(
        w.len() == 4
            && w[0].len() == 12
            && w[0].bytes().all(|b| b.is_ascii_hexdigit())
            && w[1] == w[0]
            && w[2] == w[0]
            && w[3] == "/.dockerenv",
        "{run_host}"
    );
    for f in [".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf"] {
        assert!(
            std::fs::symlink_metadata(r.join(f)).is_err(),
            "{f} in the image"
        );
    }
    // the whole context, minus what .dockerignore leaves out
    let mut copied: Vec<String> = std::fs::read_dir(r.join("ctx"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    copied.sort();
    assert_eq!(copied, [".dockerignore", "conf", "note.txt"]);
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(r.join("etc/note.txt")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o600, 1000, 1000));
    let m = std::fs::metadata(r.join("srv/app/conf/app.conf")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0));

    // A RUN that fails: the build fails at its first step, naming the line.
    std::fs::write(ctx.join("Dockerfile"), "ARG BASE\nFROM $BASE\nRUN exit 3\n").unwrap();
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let err = outcomes[0].errors.join("\n");
    assert!(!outcomes[0].ok(), "{}", lines.join("\n"));
    assert!(
        err.contains("docker build failed: Dockerfile line 3: RUN exit 3: The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
        "{err}"
    );
    // Several stages: the last is the image; a stage built FROM an earlier one, COPY --from
    // a stage by name, by index and from an image; nothing of the other stages is left.
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "ARG BASE\nFROM --platform=$BUILDPLATFORM $BASE AS Builder\nRUN mkdir -p /out && echo compiled > /out/app && ln -s app /out/app-link\nFROM builder AS tested\nRUN test -f /out/app && echo tested > /out/tested\nFROM $BASE\nCOPY --from=builder /out/app-link /usr/local/bin/app\nCOPY --from=1 /out/tes* /opt/\nCOPY --from={host}/base/busybox:1 /bin/busybox /opt/busybox-copy\nWORKDIR /srv/app\nRUN echo multi > built.txt\nCMD [\"cat\", \"/opt/tested\"]\n"
        ),
    )
    .unwrap();
    let (lines, outcomes) = build(work.path(), &hcl).await;
    assert!(outcomes.iter().all(|o| o.ok()), "{}", lines.join("\n"));
    let v: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", "--tls-verify=false", &image])).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3, "{v}");
    let (_out, r) = unpack_pushed(&image);
    let read = |p: &str| std::fs::read_to_string(r.join(p)).unwrap();
    // (the source symlink followed, as COPY does)
    assert!(
        !std::fs::symlink_metadata(r.join("usr/local/bin/app"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read("usr/local/bin/app"), "compiled\n");
    assert_eq!(read("opt/tested"), "tested\n");
    assert_eq!(read("srv/app/built.txt"), "multi\n");
    assert_eq!(
        std::fs::read(r.join("opt/busybox-copy")).unwrap(),
        std::fs::read(r.join("bin/busybox")).unwrap()
    );
    assert!(!r.join("out").exists(), "the other stages' files stay out");

    // ONBUILD triggers of the base (here an earlier stage) run after its FROM; the image
    // keeps none of them.
    std::fs::write(
        ctx.join("Dockerfile"),
        "ARG BASE\nFROM $BASE AS p\nONBUILD RUN echo t > /t.txt\nFROM p\nWORKDIR /srv/app\nRUN cp /t.txt built.txt\n",
    )
    .unwrap();
    let (lines, outcomes) = build(work.path(), &hcl).await;
    assert!(outcomes.iter().all(|o| o.ok()), "{}", lines.join("\n"));
    let (_out, r) = unpack_pushed(&image);
    assert_eq!(std::fs::read_to_string(r.join("t.txt")).unwrap(), "t\n");
    let cfg = pushed_config(&image);
    assert!(
        cfg["config"]["OnBuild"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{cfg}"
    );

    // What Kiln cannot build is refused, naming the line; a failing RUN is said with Docker's
    // run config (the exec form's argv as it is, the shell form after SHELL).
    for (dockerfile, want) in [
        (
            "ARG BASE\nFROM $BASE\nRUN [\"sh\", \"-c\", \"exit 4\"]\n",
            "Dockerfile line 3: RUN [\"sh\", \"-c\", \"exit 4\"]: The command 'sh -c exit 4' returned a non-zero code: 4",
        ),
        (
            "ARG BASE\nFROM $BASE\nSHELL [\"/bin/sh\", \"-e\", \"-c\"]\nRUN false; true\n",
            "Dockerfile line 4: RUN false; true: The command '/bin/sh -e -c false; true' returned a non-zero code: 1",
        ),
        (
            "ARG BASE\nFROM $BASE\nRUN --mount=type=cache,target=/c true\n",
            "Dockerfile line 3: RUN true: RUN --mount is not supported by Kiln",
        ),
        (
            "ARG BASE\nFROM $BASE AS a\nCOPY --from=a /bin/sh /x\n",
            "Dockerfile line 3: COPY /bin/sh /x: a stage cannot COPY --from itself",
        ),
        (
            "ARG BASE\nFROM --platform=linux/arm64 $BASE\n",
            "Dockerfile line 2: FROM $BASE: FROM --platform=linux/arm64: Kiln builds this Dockerfile for linux/amd64 only",
        ),
        (
            "ARG BASE\nFROM $BASE\nONBUILD ONBUILD RUN true\n",
            "Dockerfile line 3: ONBUILD ONBUILD RUN true: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        ),
        (
            "ARG BASE\nFROM $BASE AS a\nFROM $BASE AS A\n",
            "Dockerfile line 3: FROM $BASE AS A: duplicate stage name \"a\"",
        ),
    ] {
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        let (_, outcomes) = build(work.path(), &hcl).await;
        let err = outcomes[0].errors.join("\n");
        assert!(err.contains(want), "{err}");
    }
}

/// `tmpfs` and `device` (and their `run_command` flags): a tmpfs lasts for the build (one
/// command's file is there for the next), is mounted with dockerd's options, and nothing of
/// it lands in the image or stays mounted; devices are made with the host's numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmpfs_and_devices_last_for_the_build_and_stay_out_of_the_image() {
    need("runc", "runc");
    let (_reg, host, work) = registry_with_base("base/busybox:1");
    let hcl = format!(
        r#"
source "docker" "app" {{
  image       = "{host}/base/busybox:1"
  commit      = true
  tmpfs       = ["/scratch:size=1m,mode=700"]
  device      = ["/dev/zero:/dev/kzero:r"]
  run_command = ["-dit", "--tmpfs=/fast:exec", "--device", "/dev/null:/dev/knull", "--entrypoint=/bin/sh", "--", "{{{{.Image}}}}"]
}}
build {{
  sources = ["docker.app"]
  provisioner "shell" {{
    inline = ["echo secret > /scratch/f", "echo kept > /kept.txt", "grep ' /scratch ' /proc/mounts", "grep ' /fast ' /proc/mounts"]
  }}
  provisioner "shell" {{
    inline = ["cat /scratch/f", "head -c 3 /dev/kzero | wc -c", "ls -l /dev/knull"]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{host}/apps/tmpfs"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#
    );
    let (lines, outcomes) = build(work.path(), &hcl).await;
    let all = lines.join("\n");
    assert!(outcomes.iter().all(|o| o.ok()), "{all}");
    assert!(
        lines
            .iter()
            .any(|l| l
                == "tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 0 0"),
        "{all}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "tmpfs /fast tmpfs rw,nosuid,nodev,relatime 0 0"),
        "{all}"
    );
    assert!(lines.iter().any(|l| l == "secret"), "{all}");
    assert!(lines.iter().any(|l| l == "3"), "{all}");
    assert!(
        lines.iter().any(|l| l.starts_with("crw-rw-rw-")
            && l.contains("1,   3")
            && l.ends_with(" /dev/knull")),
        "{all}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Run command: docker run --device /dev/zero:/dev/kzero:r --tmpfs /scratch:size=1m,mode=700 -v ")),
        "{all}"
    );
    // nothing stays mounted under the run's scratch directory
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let scratch = std::fs::canonicalize(work.path()).unwrap();
    assert!(
        !mounts.contains(&*scratch.to_string_lossy()),
        "left mounted:\n{mounts}"
    );
    // the image has what the commands wrote outside the tmpfs, nothing of the tmpfs, and no
    // device node
    let (_keep, rootfs) = unpack_pushed(&format!("docker://{host}/apps/tmpfs:1"));
    assert_eq!(
        std::fs::read_to_string(rootfs.join("kept.txt")).unwrap(),
        "kept\n"
    );
    assert!(!rootfs.join("scratch/f").exists());
    assert!(!rootfs.join("dev/kzero").exists() && !rootfs.join("dev/knull").exists());
    // the mount points dockerd would have made in the container's layer: empty directories
    for d in ["scratch", "fast", "packer-files"] {
        let entries: Vec<_> = std::fs::read_dir(rootfs.join(d))
            .unwrap_or_else(|e| panic!("{d}: {e}"))
            .collect();
        assert!(entries.is_empty(), "{d}: {entries:?}");
    }
}
