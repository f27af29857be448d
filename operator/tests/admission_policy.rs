//! Revoked images refused by a real API server: etcd and kube-apiserver (the binaries
//! `e2e/cluster/build.sh` builds into `~/.cache/kiln/cluster/k8s-<version>/bin`, or
//! `KILN_K8S_BIN`) started on loopback, the CRDs and the admission policy of
//! `config/admission/` installed, and `kiln operator` running against them. A build whose
//! status names a pushed image is revoked: the operator writes the digest into the policy's
//! ConfigMap and the API server refuses a Pod naming that image by digest (as a container or
//! an init container), citing the policy and the reason; unrevoked, the Pod is allowed again.
//! No kubelet is needed: Pods are created with a server-side dry run (admission runs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DIGEST: &str = "sha256:5d8a1f4c0b3e2a79c6f1e0d2b4a6c8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The directory with etcd and kube-apiserver.
fn k8s_bin() -> PathBuf {
    if let Some(d) = std::env::var_os("KILN_K8S_BIN") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("KILN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/kiln"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache.join("cluster"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("kube-apiserver").is_file() && b.join("etcd").is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "no kube-apiserver and etcd under {}/cluster/k8s-*/bin: run e2e/cluster/build.sh (or set KILN_K8S_BIN)",
            cache.display()
        )
    })
}

/// Processes killed (by pid, each on its own) when the test ends.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(cmd: &mut Command, log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    cmd.stdout(Stdio::null())
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"))
}

struct Kubectl {
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig").arg(&self.kubeconfig).args(args);
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .expect("kubectl (e2e/cluster/build.sh builds it; or any kubectl on PATH)");
        if let Some(s) = stdin {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let o = child.wait_with_output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (ok, out, err) = self.run(args, stdin);
        assert!(ok, "kubectl {args:?}: {out}{err}");
        out
    }

    /// A Pod with a container (and an init container) image, created with a dry run.
    fn pod(&self, image: &str, init: Option<&str>) -> (bool, String) {
        let mut spec = serde_json::json!({"containers": [{"name": "app", "image": image}]});
        if let Some(i) = init {
            spec["containers"][0]["image"] = "registry.example/ok:1".into();
            spec["initContainers"] = serde_json::json!([{"name": "init", "image": i}]);
        }
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "uses-image", "namespace": "apps"},
            "spec": spec,
        });
        let (ok, _, err) = self.run(
            &["create", "--dry-run=server", "-f", "-"],
            Some(&pod.to_string()),
        );
        (ok, err)
    }
}

fn wait<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn the_api_server_refuses_pods_naming_a_revoked_image_by_digest() {
    let bin = k8s_bin();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut procs = Procs(vec![]);

    let (client, peer) = (free_port(), free_port());
    procs.0.push(spawn(
        Command::new(bin.join("etcd"))
            .arg("--data-dir")
            .arg(d.join("etcd"))
            .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
            .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
            .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{peer}"
            ))
            .arg(format!("--initial-cluster=default=http://127.0.0.1:{peer}")),
        &d.join("etcd.log"),
    ));
    let st = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(d.join("sa.key"))
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .expect("openssl (Debian package openssl)");
    assert!(st.success());
    let st = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(d.join("sa.key"))
        .arg("-out")
        .arg(d.join("sa.pub"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let token = format!("t-{}", std::process::id());
    std::fs::write(
        d.join("tokens.csv"),
        format!("{token},admin,admin,system:masters\n"),
    )
    .unwrap();
    let port = free_port();
    procs.0.push(spawn(
        Command::new(bin.join("kube-apiserver"))
            .arg(format!("--etcd-servers=http://127.0.0.1:{client}"))
            .arg("--bind-address=127.0.0.1")
            .arg("--advertise-address=127.0.0.1")
            .arg(format!("--secure-port={port}"))
            .arg(format!("--cert-dir={}", d.join("certs").display()))
            .arg(format!(
                "--token-auth-file={}",
                d.join("tokens.csv").display()
            ))
            .arg("--authorization-mode=RBAC")
            .arg("--service-account-issuer=https://kubernetes.default.svc")
            .arg(format!(
                "--service-account-key-file={}",
                d.join("sa.pub").display()
            ))
            .arg(format!(
                "--service-account-signing-key-file={}",
                d.join("sa.key").display()
            ))
            .arg("--service-cluster-ip-range=10.0.0.0/24")
            // No controller-manager makes the namespaces' default ServiceAccounts.
            .arg("--disable-admission-plugins=ServiceAccount"),
        &d.join("apiserver.log"),
    ));
    let kubeconfig = d.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: {token}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: admin\ncurrent-context: t\n"
        ),
    )
    .unwrap();
    let k = Kubectl {
        kubeconfig: kubeconfig.clone(),
    };
    let log = |name: &str| std::fs::read_to_string(d.join(name)).unwrap_or_default();
    let start = Instant::now();
    while !k.run(&["get", "--raw", "/readyz"], None).0 {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "kube-apiserver not ready:\n{}\n{}",
            log("apiserver.log"),
            log("etcd.log")
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    k.ok(
        &[
            "apply",
            "--server-side",
            "-f",
            root.join("charts/kiln/crds").to_str().unwrap(),
        ],
        None,
    );
    k.ok(&["create", "namespace", "kiln-system"], None);
    k.ok(&["create", "namespace", "apps"], None);
    k.ok(
        &[
            "apply",
            "-f",
            root.join("config/admission/revoked_images.yaml")
                .to_str()
                .unwrap(),
        ],
        None,
    );
    k.ok(
        &[
            "wait",
            "--for=condition=Established",
            "crd/imagebuilds.kiln.dev",
        ],
        None,
    );

    // A build whose source pushed an image (the runner's part of the status, written as a
    // runner would), and a Pod naming that image: allowed.
    let image = format!("registry.example/apps/web@{DIGEST}");
    k.ok(
        &["apply", "-f", "-"],
        Some(
            &serde_json::json!({
                "apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild",
                "metadata": {"name": "web-1", "namespace": "apps"},
                "spec": {"templateRef": {"name": "web"}},
            })
            .to_string(),
        ),
    );
    let status = serde_json::json!({"status": {"sources": [{
        "name": "docker.web",
        "phase": "Succeeded",
        "artifacts": [{
            "builderId": "packer.post-processor.docker-push",
            "id": "registry.example/apps/web:1",
            "state": {"digest": DIGEST},
        }],
    }]}});
    k.ok(
        &[
            "patch",
            "-n",
            "apps",
            "imagebuild",
            "web-1",
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    );
    let (ok, err) = k.pod(&image, None);
    assert!(ok, "refused before the operator ran: {err}");

    // The operator keeps the ConfigMap of revoked digests.
    let metrics = free_port();
    procs.0.push(spawn(
        Command::new(env!("CARGO_BIN_EXE_kiln"))
            .env("KUBECONFIG", &kubeconfig)
            .env("POD_NAME", "kiln-admission-test")
            .args([
                "operator",
                "--no-leader-election",
                "--namespace",
                "apps",
                "--metrics-address",
                &format!("127.0.0.1:{metrics}"),
                "--revoked-images-configmap",
                "kiln-revoked-images",
                "--revoked-images-namespace",
                "kiln-system",
            ]),
        &d.join("operator.log"),
    ));
    // Nothing is revoked: the operator applies an empty list (its field manager appears on
    // the ConfigMap config/admission created), and the Pod is still allowed.
    wait(
        "the operator to write the ConfigMap",
        Duration::from_secs(60),
        || {
            let (_, managers, _) = k.run(
                &[
                    "get",
                    "configmap",
                    "-n",
                    "kiln-system",
                    "kiln-revoked-images",
                    "-o",
                    "jsonpath={.metadata.managedFields[*].manager}",
                ],
                None,
            );
            managers.contains("kiln-operator").then_some(())
        },
    );
    assert!(k.pod(&image, None).0);

    k.ok(
        &[
            "patch",
            "-n",
            "apps",
            "imagebuild",
            "web-1",
            "--type=merge",
            "-p",
            r#"{"spec":{"revoked":{"reason":"CVE-2099-0042 in web"}}}"#,
        ],
        None,
    );
    let err = wait("the Pod to be refused", Duration::from_secs(30), || {
        let (ok, err) = k.pod(&image, None);
        (!ok).then_some(err)
    });
    assert!(
        err.contains("ValidatingAdmissionPolicy 'kiln-revoked-images'"),
        "{err}\n{}",
        log("operator.log")
    );
    assert!(
        err.contains(&format!(
            "image {image} is a revoked Kiln artifact (apps/web-1: CVE-2099-0042 in web)"
        )),
        "{err}"
    );
    let cm = k.ok(
        &[
            "get",
            "configmap",
            "-n",
            "kiln-system",
            "kiln-revoked-images",
            "-o",
            "jsonpath={.data}",
        ],
        None,
    );
    assert!(cm.contains(&DIGEST[7..]), "{cm}");
    // As an init container too; another digest of the same repository is fine, and so is
    // the same image by tag (tags are not checked: deploy by digest).
    let (ok, err) = k.pod("registry.example/ok:1", Some(&image));
    assert!(!ok && err.contains("revoked Kiln artifact"), "{err}");
    let other = format!("registry.example/apps/web@sha256:{}", "0".repeat(64));
    assert!(k.pod(&other, None).0);
    assert!(k.pod("registry.example/apps/web:1", None).0);

    // Unrevoked: allowed again.
    k.ok(
        &[
            "patch",
            "-n",
            "apps",
            "imagebuild",
            "web-1",
            "--type=merge",
            "-p",
            r#"{"spec":{"revoked":null}}"#,
        ],
        None,
    );
    wait(
        "the Pod to be allowed again",
        Duration::from_secs(30),
        || k.pod(&image, None).0.then_some(()),
    );
    drop(procs);
}
