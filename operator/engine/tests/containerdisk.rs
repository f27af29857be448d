//! The `containerdisk` post-processor against Debian's docker-registry on loopback: a qcow2
//! made by `qemu-img` (through the `file` builder) is packaged as a KubeVirt containerDisk,
//! pushed, pulled back with Kiln's OCI client, and its one layer read: `disk/<name>` owned
//! by 107:107, mode 0440, the disk's bytes. The registry asks for basic auth; the credentials
//! come from the run's docker config files (`RunEnv::docker_configs`, in the cluster the
//! build's `spec.runner.registrySecrets`), and without them the push is refused.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use kiln_engine::components::RunEnv;
use kiln_engine::plan::{self, RunOptions};
use kiln_engine::run;
use kiln_engine::session::{self, LoadOptions};
use kiln_engine::ui::{Masker, Recorder, Ui};
use kiln_oci::store::{Platform, Store};
use tokio_util::sync::CancellationToken;

const USER: &str = "kiln";
const PASSWORD: &str = "pw-containerdisk-test";

mod support;
use support::registry::{Registry, need};

#[tokio::test]
async fn a_qcow2_becomes_a_pushed_containerdisk() {
    let qemu_img = need("qemu-img", "qemu-utils");
    let reg = Registry::start_with_auth(USER, PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    // SAFETY: the only test of this binary; set before any thread reads it.
    unsafe { std::env::set_var("KILN_IMAGE_STORE", store_dir.path()) };
    let src = dir.path().join("src.qcow2");
    let st = Command::new(&qemu_img)
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&src)
        .arg("8M")
        .status()
        .unwrap();
    assert!(st.success());
    let image = format!("127.0.0.1:{}/vm/small:1", reg.port);
    let out = dir.path().join("out/small.qcow2");
    let hcl = format!(
        r#"
source "file" "disk" {{
  source = "{src}"
  target = "{out}"
}}
build {{
  sources = ["source.file.disk"]
  post-processor "containerdisk" {{
    image = "{image}"
  }}
}}
"#,
        src = src.display(),
        out = out.display(),
    );
    std::fs::write(dir.path().join("t.pkr.hcl"), hcl).unwrap();
    // A registry Secret as the runner pod sees it (`.dockerconfigjson`).
    let secret = dir.path().join("regcreds/.dockerconfigjson");
    std::fs::create_dir_all(secret.parent().unwrap()).unwrap();
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{USER}:{PASSWORD}"),
    );
    std::fs::write(
        &secret,
        format!(
            r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"{auth}"}}}}}}"#,
            reg.port
        ),
    )
    .unwrap();
    let build = |docker_configs: Vec<PathBuf>| {
        let path = dir.path().join("t.pkr.hcl");
        let _ = std::fs::remove_file(&out);
        async move {
            let env = Arc::new(RunEnv {
                docker_configs,
                ..RunEnv::default()
            });
            let s = session::load_path(
                &path,
                &LoadOptions {
                    env: env.clone(),
                    ..LoadOptions::default()
                },
            )
            .unwrap_or_else(|d| panic!("{d}"));
            let t = &s.template;
            let o = RunOptions {
                env,
                ..RunOptions::default()
            };
            let (p, _) =
                plan::prepare(t, t.instances().unwrap(), &o).unwrap_or_else(|d| panic!("{d}"));
            let rec = Arc::new(Recorder::default());
            let ui = Ui::new(rec.clone(), Arc::new(Masker::new(vec![])));
            let mut outcomes =
                run::run_all(p, &ui, &CancellationToken::new(), &o, &t.base_env()).await;
            (outcomes.remove(0), rec.lines())
        }
    };
    // No credentials: the registry refuses the push, and the error names it.
    let (o, _) = build(vec![]).await;
    let err = format!("{:?}", o.errors);
    assert!(!o.ok(), "pushed without credentials");
    assert!(err.contains(&format!("127.0.0.1:{}", reg.port)), "{err}");
    // With the Secret's docker config: pushed.
    let (o, lines) = build(vec![secret.clone()]).await;
    let o = &o;
    assert!(o.ok(), "{:?}\n{:#?}", o.errors, lines);
    let a = o
        .artifacts
        .iter()
        .find(|a| a.builder_id == "kiln.post-processor.containerdisk")
        .unwrap_or_else(|| panic!("{:?}", o.artifacts));
    assert_eq!(a.id, image);
    let digest = a.state["digest"].as_str().unwrap().to_string();
    assert!(a.description.ends_with(&digest), "{}", a.description);
    assert!(out.exists(), "the disk is kept");

    // Pull it back into a fresh store and read the layer.
    let pulled_store = tempfile::tempdir().unwrap();
    let image2 = image.clone();
    let ps = pulled_store.path().to_path_buf();
    let (layers, config, repo_digest, blob) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&ps).unwrap();
        let r = kiln_oci::Reference::parse(&image2).unwrap();
        let mut opts = kiln_oci::registry::ClientOptions::default();
        opts.credentials.add_basic(&r.registry, USER, PASSWORD);
        let pulled = kiln_oci::registry::Client::new(opts)
            .unwrap()
            .pull(&r, &store, &Platform::host())
            .unwrap();
        let layers = pulled.image.manifest.layers.clone();
        let blob = store.blob_path(&layers[0].digest);
        (layers, pulled.image.config, pulled.repo_digest, blob)
    })
    .await
    .unwrap();
    assert_eq!(repo_digest.to_string(), digest);
    assert_eq!(layers.len(), 1, "one layer");
    assert_eq!(config["os"], "linux");
    let tar = Command::new("gzip")
        .arg("-dc")
        .arg(&blob)
        .output()
        .unwrap()
        .stdout;
    let mut ar = tar::Archive::new(&tar[..]);
    let mut seen = vec![];
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let path = e.path().unwrap().display().to_string();
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (107, 107), "{path}");
        if path == "disk/small.qcow2" {
            assert_eq!(h.mode().unwrap() & 0o7777, 0o440);
            let mut bytes = vec![];
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            assert_eq!(bytes, std::fs::read(&src).unwrap(), "the disk's bytes");
        }
        seen.push(path);
    }
    assert_eq!(seen, vec!["disk/", "disk/small.qcow2"]);
}
