//! End to end against Debian's docker-registry: base image → push → pull → unpack → run
//! commands with crun → diff → commit → push with a cross-repository mount; results checked
//! with skopeo and umoci; a second run gives the same digests; errors name registry,
//! repository and status.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{Mode, Registry};
use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::registry::Client;
use kiln_oci::runtime::{self, RunSpec};
use kiln_oci::store::{Platform, Store};
use kiln_oci::unpack::{self, UnpackOptions};
use kiln_oci::{Error, Reference};
use tokio_util::sync::CancellationToken;

const PROVISION: &str = r#"set -e
echo new > /etc/new-file
chmod 640 /etc/new-file
chown 1000:1000 /etc/new-file
echo changed >> /etc/motd
rm /etc/to-delete
rm -rf /var/lib/gone
ln /etc/new-file /etc/new-hardlink
mkdir -p /opt/app
printf '#!/bin/sh\necho app\n' > /opt/app/run.sh
chmod 4755 /opt/app/run.sh
ln -s /opt/app/run.sh /usr/bin/run-app
echo provisioned as $(id -u)
"#;

struct Built {
    layer_digest: String,
    diff_id: String,
    manifest_digest: String,
    config_digest: String,
    pushed: kiln_oci::registry::Pushed,
    layers_fetched: usize,
}

/// Pull the base, provision it in a container, commit, push to `dest`.
async fn build_once(reg: &Registry, base: &Reference, dest: &Reference) -> Built {
    let work = tempfile::tempdir().unwrap();
    let store = Store::open(work.path().join("store")).unwrap();
    let client = Client::new(reg.client_options()).unwrap();
    let pulled =
        tokio::task::block_in_place(|| client.pull(base, &store, &Platform::host())).unwrap();
    let rootfs = work.path().join("rootfs");
    let rep = unpack::unpack_layers(
        &store,
        &pulled.image.manifest.layers,
        &rootfs,
        &UnpackOptions::default(),
    )
    .unwrap();
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    assert!(rootfs.join("bin/busybox").is_file());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/motd")).unwrap(),
        "base image\n"
    );

    runtime::prepare_mountpoints(&rootfs, &[]).unwrap();
    let before = diff::snapshot(&rootfs, &SnapshotOptions::default()).unwrap();
    let (mut out, mut err) = (vec![], vec![]);
    let code = runtime::run(
        &RunSpec {
            rootfs: rootfs.clone(),
            command: PROVISION.into(),
            env: image::image_env(&pulled.image.config),
            ..Default::default()
        },
        |l| out.push(l.to_string()),
        |l| err.push(l.to_string()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
    assert_eq!(out, vec!["provisioned as 0"]);
    xattr::set(rootfs.join("opt/app/run.sh"), "user.kiln", b"yes").unwrap();

    let after = diff::snapshot(&rootfs, &SnapshotOptions::default()).unwrap();
    let layer =
        diff::write_layer(&rootfs, &before, &after, &store, &LayerOptions::default()).unwrap();
    assert_eq!(layer.deleted, 2, "{layer:?}"); // /etc/to-delete and /var/lib/gone
    let committed = image::commit(
        &store,
        &pulled.image,
        &layer,
        &CommitOptions {
            changes: vec![
                "ENV FOO=bar".into(),
                "LABEL org.example=kiln".into(),
                "WORKDIR /opt/app".into(),
            ],
            author: Some("Kiln Test <test@example.org>".into()),
            message: Some("provisioned".into()),
            epoch: kiln_oci::DEFAULT_SOURCE_DATE_EPOCH,
            created_by: None,
        },
        &dest.to_string(),
    )
    .unwrap();
    // Packer's rule: the base CMD survives a commit whose changes set none
    assert_eq!(committed.config["config"]["Cmd"], serde_json::json!(["sh"]));
    let pushed =
        tokio::task::block_in_place(|| client.push(&store, &dest.to_string(), dest)).unwrap();
    assert_eq!(pushed.manifest_digest, committed.manifest.digest);
    Built {
        layer_digest: layer.descriptor.digest.to_string(),
        diff_id: layer.diff_id.to_string(),
        manifest_digest: committed.manifest.digest.to_string(),
        config_digest: committed.config_digest.to_string(),
        pushed,
        layers_fetched: pulled.layers_fetched,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_provision_commit_push_plain_http() {
    let reg = Registry::start(Mode::Plain);
    let host = reg.host();
    // the base image, built here from busybox-static and pushed with our client
    let seed = tempfile::tempdir().unwrap();
    let seed_store = Store::open(seed.path()).unwrap();
    let base_ref = Reference::parse(&format!("{host}/base/busybox:1")).unwrap();
    let base = common::make_base(&seed_store, &base_ref.to_string());
    let client = Client::new(reg.client_options()).unwrap();
    let p = client
        .push(&seed_store, &base_ref.to_string(), &base_ref)
        .unwrap();
    assert_eq!((p.uploaded, p.mounted, p.skipped), (2, 0, 0));
    assert_eq!(p.manifest_digest, base.manifest.digest);
    // pushing again skips every blob (HEAD)
    let p = client
        .push(&seed_store, &base_ref.to_string(), &base_ref)
        .unwrap();
    assert_eq!((p.uploaded, p.mounted, p.skipped), (0, 0, 2));
    // skopeo sees the base
    let inspect = common::skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{base_ref}"),
    ]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Digest"], base.manifest.digest.to_string());

    let dest = Reference::parse(&format!("{host}/app/final:v1")).unwrap();
    let first = build_once(&reg, &base_ref, &dest).await;
    assert_eq!(first.layers_fetched, 1);
    // the base layer lives in base/busybox: mounted, not uploaded; new layer + config uploaded
    assert_eq!(
        (
            first.pushed.mounted,
            first.pushed.uploaded,
            first.pushed.skipped
        ),
        (1, 2, 0)
    );
    let log = reg.log();
    assert!(
        log.lines().any(|l| l.contains("mount=")
            && l.contains("from=base%2Fbusybox")
            && l.contains("201")),
        "the registry log shows no cross-repository mount:\n{log}"
    );

    // a second identical build gives identical digests
    let dest2 = Reference::parse(&format!("{host}/app/final:v2")).unwrap();
    let second = build_once(&reg, &base_ref, &dest2).await;
    assert_eq!(second.layer_digest, first.layer_digest);
    assert_eq!(second.diff_id, first.diff_id);
    assert_eq!(second.config_digest, first.config_digest);
    assert_eq!(second.manifest_digest, first.manifest_digest);
    // and this time every blob is already in app/final
    assert_eq!((second.pushed.skipped, second.pushed.uploaded), (3, 0));

    // skopeo: the pushed image's digest, layers and config
    let v: serde_json::Value = serde_json::from_str(&common::skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{dest}"),
    ]))
    .unwrap();
    assert_eq!(v["Digest"], first.manifest_digest);
    assert_eq!(v["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(v["Labels"]["org.example"], "kiln");
    assert_eq!(v["Created"], "2000-01-01T00:00:00Z");
    let cfg: serde_json::Value = serde_json::from_str(&common::skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{dest}"),
    ]))
    .unwrap();
    assert!(
        cfg["config"]["Env"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("FOO=bar"))
    );
    assert_eq!(cfg["config"]["WorkingDir"], "/opt/app");
    assert_eq!(cfg["author"], "Kiln Test <test@example.org>");
    assert_eq!(
        cfg["history"].as_array().unwrap().last().unwrap()["comment"],
        "provisioned"
    );
    assert_eq!(cfg["rootfs"]["diff_ids"][1], first.diff_id);

    // umoci: copy out with skopeo, unpack, look at the files
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("layout");
    common::skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{dest}"),
        &format!("oci:{}:v1", layout.display()),
    ]);
    let bundle = out.path().join("bundle");
    common::umoci_unpack(&layout, "v1", &bundle);
    let r = bundle.join("rootfs");
    assert!(!r.join("etc/to-delete").exists(), "deleted file came back");
    assert!(
        !r.join("var/lib/gone").exists(),
        "deleted directory came back"
    );
    assert!(r.join("var/lib").is_dir());
    let nf = std::fs::symlink_metadata(r.join("etc/new-file")).unwrap();
    assert_eq!(nf.mode() & 0o7777, 0o640);
    assert_eq!((nf.uid(), nf.gid()), (1000, 1000));
    assert_eq!(
        std::fs::read_to_string(r.join("etc/new-file")).unwrap(),
        "new\n"
    );
    let hl = std::fs::symlink_metadata(r.join("etc/new-hardlink")).unwrap();
    assert_eq!(hl.ino(), nf.ino(), "the hard link is not a link");
    assert_eq!(
        std::fs::read_to_string(r.join("etc/motd")).unwrap(),
        "base image\nchanged\n"
    );
    let run = std::fs::symlink_metadata(r.join("opt/app/run.sh")).unwrap();
    assert_eq!(run.mode() & 0o7777, 0o4755);
    assert_eq!(
        xattr::get(r.join("opt/app/run.sh"), "user.kiln")
            .unwrap()
            .as_deref(),
        Some(&b"yes"[..])
    );
    assert_eq!(
        std::fs::read_link(r.join("usr/bin/run-app")).unwrap(),
        Path::new("/opt/app/run.sh")
    );
    assert!(r.join("bin/busybox").is_file());

    // the same image pulled back by digest, and a missing tag is an error naming everything
    let by_digest =
        Reference::parse(&format!("{host}/app/final@{}", first.manifest_digest)).unwrap();
    let s = tempfile::tempdir().unwrap();
    let st = Store::open(s.path()).unwrap();
    let pulled = client.pull(&by_digest, &st, &Platform::host()).unwrap();
    assert_eq!(pulled.repo_digest.to_string(), first.manifest_digest);
    let missing = Reference::parse(&format!("{host}/app/final:nope")).unwrap();
    let e = client.pull(&missing, &st, &Platform::host()).unwrap_err();
    assert_eq!(e.status(), Some(404));
    let msg = e.to_string();
    assert!(
        msg.contains(&host)
            && msg.contains("app/final")
            && msg.contains("HTTP 404")
            && msg.contains("MANIFEST_UNKNOWN"),
        "{msg}"
    );
    let e = client
        .pull(
            &Reference::parse(&format!("{host}/no/such:1")).unwrap(),
            &st,
            &Platform::host(),
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("no/such") && e.to_string().contains("HTTP 404"),
        "{e}"
    );
}

#[test]
fn layout_tar_roundtrip_read_by_skopeo() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path().join("a")).unwrap();
    let base = common::make_base(&store, "docker.io/library/busybox:test");
    let tar_path = d.path().join("image.tar");
    store
        .export_tar(
            &["docker.io/library/busybox:test"],
            std::fs::File::create(&tar_path).unwrap(),
        )
        .unwrap();
    // skopeo reads the archive
    let v: serde_json::Value = serde_json::from_str(&common::skopeo(&[
        "inspect",
        &format!(
            "oci-archive:{}:docker.io/library/busybox:test",
            tar_path.display()
        ),
    ]))
    .unwrap();
    assert_eq!(v["Digest"], base.manifest.digest.to_string());
    // and so does its docker-archive reading (docker save's manifest.json)
    let v: serde_json::Value = serde_json::from_str(&common::skopeo(&[
        "inspect",
        "--config",
        &format!("docker-archive:{}", tar_path.display()),
    ]))
    .unwrap();
    assert_eq!(v["config"]["Cmd"], serde_json::json!(["sh"]));
    // docker save's manifest.json and `repositories` name the image as Docker does
    let member = |name: &str| -> serde_json::Value {
        let mut ar = tar::Archive::new(std::fs::File::open(&tar_path).unwrap());
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            if e.path().unwrap().to_str() == Some(name) {
                return serde_json::from_reader(e).unwrap();
            }
        }
        panic!("{name} not in the tar")
    };
    let top = store
        .image("docker.io/library/busybox:test")
        .unwrap()
        .manifest
        .layers
        .last()
        .unwrap()
        .digest
        .hex()
        .to_string();
    assert_eq!(
        member("manifest.json")[0]["RepoTags"],
        serde_json::json!(["busybox:test"])
    );
    assert_eq!(
        member("repositories"),
        serde_json::json!({"busybox": {"test": top}})
    );
    // and our import gives the same image
    let other = Store::open(d.path().join("b")).unwrap();
    let names = other
        .import_tar(std::fs::File::open(&tar_path).unwrap(), |n| {
            n.map(|n| format!("imported/{n}"))
        })
        .unwrap();
    assert_eq!(names, vec!["imported/docker.io/library/busybox:test"]);
    let img = other
        .image("imported/docker.io/library/busybox:test")
        .unwrap();
    assert_eq!(img.descriptor.digest, base.manifest.digest);
    // the store itself is read by skopeo (oci: transport) with its names
    common::skopeo(&[
        "inspect",
        &format!(
            "oci:{}:docker.io/library/busybox:test",
            d.path().join("a").display()
        ),
    ]);
    // exporting twice gives the same bytes
    let again = store
        .export_tar(&["docker.io/library/busybox:test"], Vec::new())
        .unwrap();
    assert_eq!(again, std::fs::read(&tar_path).unwrap());
    // a corrupt blob in a tar is refused
    let mut bytes = std::fs::read(&tar_path).unwrap();
    let pos = bytes
        .windows(7)
        .position(|w| w == b"base im")
        .unwrap_or(bytes.len() / 2);
    bytes[pos] ^= 0xff;
    let third = Store::open(d.path().join("c")).unwrap();
    assert!(
        third
            .import_tar(&bytes[..], |n| n.map(String::from))
            .is_err()
    );
}

#[test]
fn tls_registry_with_custom_ca() {
    let reg = Registry::start(Mode::Tls);
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let r = Reference::parse(&format!("{}/tls/busybox:1", reg.host())).unwrap();
    common::make_base(&store, &r.to_string());
    let client = Client::new(reg.client_options()).unwrap();
    let p = client.push(&store, &r.to_string(), &r).unwrap();
    assert_eq!(p.uploaded, 2);
    let other = Store::open(d.path().join("pulled")).unwrap();
    client.pull(&r, &other, &Platform::host()).unwrap();
    // without the CA the certificate is refused, and the error says where
    let mut opts = reg.client_options();
    opts.ca_file = None;
    let bare = Client::new(opts).unwrap();
    let e = bare.pull(&r, &other, &Platform::host()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Transport { .. }), "{msg}");
    assert!(
        msg.contains(&reg.host()) && msg.contains("tls/busybox"),
        "{msg}"
    );
    assert!(
        msg.to_lowercase().contains("certificate") || msg.to_lowercase().contains("tls"),
        "{msg}"
    );
}

#[test]
fn basic_auth_registry_and_wrong_credentials() {
    let reg = Registry::start(Mode::Basic);
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let r = Reference::parse(&format!("{}/private/busybox:1", reg.host())).unwrap();
    common::make_base(&store, &r.to_string());
    // credentials from a docker config JSON blob (as a kubernetes.io/dockerconfigjson Secret holds)
    let blob = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        reg.host(),
        base64_encode(&format!("{}:{}", common::USER, common::PASSWORD))
    );
    let mut opts = kiln_oci::registry::ClientOptions::default();
    opts.credentials
        .add_docker_config_json(blob.as_bytes(), "test secret")
        .unwrap();
    let client = Client::new(opts).unwrap();
    client.push(&store, &r.to_string(), &r).unwrap();
    client
        .pull(
            &r,
            &Store::open(d.path().join("p")).unwrap(),
            &Platform::host(),
        )
        .unwrap();
    // no credentials
    let anon = Client::new(Default::default()).unwrap();
    let e = anon.pull(&r, &store, &Platform::host()).unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");
    assert!(e.to_string().contains("none is configured"), "{e}");
    // wrong password
    let mut opts = kiln_oci::registry::ClientOptions::default();
    opts.credentials
        .add_basic(&reg.host(), common::USER, "wrong");
    let bad = Client::new(opts).unwrap();
    let e = bad.pull(&r, &store, &Platform::host()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.status(), Some(401), "{msg}");
    assert!(
        msg.contains(&reg.host()) && msg.contains("private/busybox") && msg.contains("refused"),
        "{msg}"
    );
}

#[test]
fn unreachable_registry_names_it() {
    let port = common::free_port(); // nothing listens there
    let r = Reference::parse(&format!("127.0.0.1:{port}/some/repo:1")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let e = Client::new(Default::default())
        .unwrap()
        .pull(&r, &Store::open(d.path()).unwrap(), &Platform::host())
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Transport { .. }), "{msg}");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}")) && msg.contains("some/repo"),
        "{msg}"
    );
    assert!(
        msg.to_lowercase().contains("refused") || msg.to_lowercase().contains("connect"),
        "{msg}"
    );
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn multi_platform_index_picks_the_platform() {
    use kiln_oci::store::{Descriptor, Index, MEDIA_OCI_INDEX};
    let reg = Registry::start(Mode::Plain);
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path().join("store")).unwrap();
    // two images with the same layer: the host's, and one whose config says linux/arm64/v8
    let amd = common::make_base(&store, "amd");
    let amd_img = store.image("amd").unwrap();
    let mut arm_cfg = amd_img.config.clone();
    arm_cfg["architecture"] = serde_json::json!("arm64");
    arm_cfg["variant"] = serde_json::json!("v8");
    let (cd, cs) = store
        .put_blob(&serde_json::to_vec(&arm_cfg).unwrap())
        .unwrap();
    let mut arm_manifest = amd_img.manifest.clone();
    arm_manifest.config.digest = cd;
    arm_manifest.config.size = cs;
    let (md, ms) = store
        .put_blob(&serde_json::to_vec(&arm_manifest).unwrap())
        .unwrap();
    let mut arm_desc = Descriptor::new(kiln_oci::store::MEDIA_OCI_MANIFEST, md.clone(), ms);
    arm_desc.platform = Some(Platform::parse("linux/arm64/v8").unwrap());
    let mut amd_desc = amd.manifest.clone();
    amd_desc.platform = Some(Platform::host());
    let index = Index {
        manifests: vec![amd_desc, arm_desc],
        ..Index::empty()
    };
    let (id, is) = store
        .put_blob(&serde_json::to_vec(&index).unwrap())
        .unwrap();
    store
        .tag("multi", &Descriptor::new(MEDIA_OCI_INDEX, id.clone(), is))
        .unwrap();
    let dest = format!("{}/multi/app:1", reg.host());
    common::skopeo(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:multi", d.path().join("store").display()),
        &format!("docker://{dest}"),
    ]);

    let client = Client::new(reg.client_options()).unwrap();
    let r = Reference::parse(&dest).unwrap();
    let s2 = Store::open(d.path().join("s2")).unwrap();
    let arm = client
        .pull(&r, &s2, &Platform::parse("linux/arm64").unwrap())
        .unwrap();
    assert_eq!(arm.image.config["architecture"], "arm64");
    assert_eq!(arm.image.descriptor.digest, md);
    assert_eq!(arm.repo_digest, id, "the repo digest is the index's");
    let host = client.pull(&r, &s2, &Platform::host()).unwrap();
    assert_eq!(host.image.descriptor.digest, amd.manifest.digest);
    assert_eq!(
        host.layers_fetched, 0,
        "the shared layer was already in the store"
    );
    let e = client
        .pull(&r, &s2, &Platform::parse("linux/s390x").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no manifest for platform linux/s390x")
            && e.contains("linux/arm64/v8")
            && e.contains("multi/app"),
        "{e}"
    );
}

#[test]
fn bearer_token_registry_with_mount_scopes() {
    let reg = Registry::start(Mode::Token);
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let base = Reference::parse(&format!("{}/tok/base:1", reg.host())).unwrap();
    let app = Reference::parse(&format!("{}/tok/app:1", reg.host())).unwrap();
    let committed = common::make_base(&store, &base.to_string());
    store.tag(&app.to_string(), &committed.manifest).unwrap();
    let client = Client::new(reg.client_options()).unwrap();
    let p = client.push(&store, &base.to_string(), &base).unwrap();
    assert_eq!(p.uploaded, 2);
    // the same blobs into another repository: both mounted, with a token for both repositories
    let p = client.push(&store, &app.to_string(), &app).unwrap();
    assert_eq!((p.mounted, p.uploaded, p.skipped), (2, 0, 0));
    let asked = reg.token_requests.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .any(|s| s.contains("repository:tok/app:pull,push")
                && s.contains("repository:tok/base:pull")),
        "no token asked for the mount's two scopes: {asked:?}"
    );
    let pulled = client
        .pull(
            &app,
            &Store::open(d.path().join("p")).unwrap(),
            &Platform::host(),
        )
        .unwrap();
    assert_eq!(pulled.image.descriptor.digest, committed.manifest.digest);
    // without credentials the token server refuses, and the error says where and what
    let anon = Client::new(Default::default()).unwrap();
    let e = anon.pull(&app, &store, &Platform::host()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.status(), Some(401), "{msg}");
    assert!(
        msg.contains(&reg.host()) && msg.contains("tok/app") && msg.contains("token from"),
        "{msg}"
    );
}

#[test]
fn insecure_registry_by_name_is_spoken_to_over_plain_http() {
    // A plain-HTTP registry under a name that is not loopback (an in-cluster Service, say):
    // HTTPS is tried and fails until the name is listed as insecure, as with dockerd.
    let reg = Registry::start(Mode::Plain);
    let port = reg.host().rsplit_once(':').unwrap().1.to_string();
    let name = format!("registry.kiln-test.svc:{port}");
    let d = tempfile::tempdir().unwrap();
    let store = Store::open(d.path()).unwrap();
    let r = Reference::parse(&format!("{name}/plain/busybox:1")).unwrap();
    common::make_base(&store, &r.to_string());
    let mut opts = kiln_oci::registry::ClientOptions::default();
    opts.resolve.insert(
        "registry.kiln-test.svc".into(),
        "127.0.0.1".parse().unwrap(),
    );
    let e = Client::new(opts.clone())
        .unwrap()
        .push(&store, &r.to_string(), &r)
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert!(e.to_string().contains(&name), "{e}");
    for entry in [name.clone(), "registry.kiln-test.svc".into()] {
        let mut o = opts.clone();
        o.insecure = vec![entry];
        let client = Client::new(o).unwrap();
        let p = client.push(&store, &r.to_string(), &r).unwrap();
        let other = Store::open(d.path().join(format!("pulled-{}", p.uploaded))).unwrap();
        let pulled = client.pull(&r, &other, &Platform::host()).unwrap();
        assert_eq!(pulled.repo_digest, p.manifest_digest);
    }
    // a bad entry is refused when the client is made, naming it
    let mut o = opts.clone();
    o.insecure = vec!["10.0.0.0/33".into()];
    let e = Client::new(o).err().unwrap();
    assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
}
