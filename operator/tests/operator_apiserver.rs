//! The operator against a real API server: `kiln operator` runs as a process over a
//! throwaway namespace, and `kiln runner` runs locally as a build's ServiceAccount
//! (impersonated), so its Role is what the API server checks.
//!
//! Runs when `KUBECONFIG` is set (for example the cluster of `e2e/cluster/up.sh`:
//! `KUBECONFIG=/var/lib/kiln-e2e/admin.kubeconfig`); skipped otherwise. With `KILN_E2E=1` an
//! unreachable cluster is a failure, never a skip. Pods need no runner image: the test checks
//! what the operator creates and runs the runner itself.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kiln_crds::{
    BuildPhase, ImageBuild, ImageBuildSpec, ImageChannel, ImageChannelSpec, ImageTemplate,
    ImageTemplateSpec, Revocation,
};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TEMPLATE: &str = r#"
variable "greeting" {
  type    = string
  default = "hello"
}
variable "count" {
  type    = number
  default = 1
}
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo ${var.greeting} from ${source.name}"]
  }
}
"#;

/// The cluster's client; fails when no cluster is configured.
async fn cluster() -> Option<Client> {
    // Ignored by default and run by scripts/e2e.sh with a cluster: a missing cluster here is
    // a failure, never a silent pass.
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: start a cluster (e2e/cluster/up.sh) and export KUBECONFIG, or run scripts/e2e.sh"
    );
    let client = match Client::try_default().await {
        Ok(c) => c,
        Err(e) => panic!("KUBECONFIG is set but no client could be built: {e}"),
    };
    if let Err(e) = client.apiserver_version().await {
        panic!(
            "KUBECONFIG is set but the API server is unreachable ({e}); unset KUBECONFIG to skip"
        );
    }
    Some(client)
}

async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in kiln_crds::crds() {
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply("kiln-operator-test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
        wait(
            &api,
            &name,
            "CRD established",
            |c: &CustomResourceDefinition| {
                c.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            },
        )
        .await;
    }
}

async fn wait<K, F>(api: &Api<K>, name: &str, what: &str, ok: F) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    F: Fn(&K) -> bool,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut last = None;
    loop {
        if let Ok(Some(o)) = api.get_opt(name).await {
            if ok(&o) {
                return o;
            }
            last = Some(o);
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what} on {name}; last seen: {last:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn condition(conds: &[kiln_crds::Condition], ty: &str) -> Option<(String, String, String)> {
    conds
        .iter()
        .find(|c| c.type_ == ty)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn http_get(port: u16, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// A kubeconfig that acts as `user` (impersonation), from the one in KUBECONFIG.
/// Installs config/rbac/role.yaml for a ServiceAccount `kiln-operator` of `ns`: the
/// ClusterRole under a name of its own (returned), the leader-election Role in `ns`.
async fn install_operator_rbac(client: &Client, ns: &str) -> String {
    let name = format!("kiln-operator-test-{ns}");
    let text = include_str!("../../config/rbac/role.yaml");
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let mut cr: ClusterRole = serde_yaml::from_value(docs[0].clone()).unwrap();
    cr.metadata.name = Some(name.clone());
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
    let mut role: Role = serde_yaml::from_value(docs[1].clone()).unwrap();
    role.metadata.namespace = Some(ns.to_string());
    let role_name = role.name_any();
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    Api::<ServiceAccount>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "kiln-operator"}})).unwrap(),
        )
        .await
        .unwrap();
    let subject = json!([{"kind": "ServiceAccount", "name": "kiln-operator", "namespace": ns}]);
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": subject,
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": role_name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
                "subjects": subject,
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    name
}

fn impersonating_kubeconfig(dir: &std::path::Path, ns: &str, sa: &str) -> PathBuf {
    let path = std::env::var("KUBECONFIG").unwrap();
    let text = std::fs::read_to_string(path.split(':').next().unwrap()).unwrap();
    let mut cfg: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    for u in cfg["users"].as_sequence_mut().unwrap() {
        let user = u["user"].as_mapping_mut().unwrap();
        user.insert(
            "as".into(),
            format!("system:serviceaccount:{ns}:{sa}").into(),
        );
        user.insert(
            "as-groups".into(),
            serde_yaml::to_value(vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".to_string(),
            ])
            .unwrap(),
        );
    }
    let out = dir.join(format!("{sa}.kubeconfig"));
    std::fs::write(&out, serde_yaml::to_string(&cfg).unwrap()).unwrap();
    out
}

#[tokio::test]
#[ignore = "needs a Kubernetes API server: run by scripts/e2e.sh (or set KUBECONFIG and pass --ignored)"]
async fn operator_reconciles_against_a_real_apiserver() {
    let Some(client) = cluster().await else {
        return;
    };
    install_crds(&client).await;
    let ns = format!("kiln-op-{}", &uuid::Uuid::new_v4().to_string()[..8]);
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
    )
    .await
    .unwrap();

    // The operator runs as a ServiceAccount bound to config/rbac/role.yaml (renamed for the
    // test), so a missing rule fails the scenario.
    let cluster_role = install_operator_rbac(&client, &ns).await;
    let dir = tempfile::tempdir().unwrap();
    let operator_kubeconfig = impersonating_kubeconfig(dir.path(), &ns, "kiln-operator");
    let port = free_port();
    let mut operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .env("KUBECONFIG", &operator_kubeconfig)
        .env("POD_NAME", "kiln-operator-test")
        .args([
            "operator",
            "--leader-election-namespace",
            &ns,
            "--namespace",
            &ns,
            "--metrics-address",
            &format!("127.0.0.1:{port}"),
            "--runner-image",
            "kiln:e2e",
            "--runner-image-pull-policy",
            "Never",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let result = tokio::time::timeout(Duration::from_secs(300), scenario(&client, &ns, port)).await;

    let _ = operator.start_kill();
    let _ = operator.wait().await;
    let _ = nss.delete(&ns, &DeleteParams::default()).await;
    let _ = Api::<ClusterRole>::all(client.clone())
        .delete(&cluster_role, &DeleteParams::default())
        .await;
    let _ = Api::<ClusterRoleBinding>::all(client.clone())
        .delete(&cluster_role, &DeleteParams::default())
        .await;
    result.expect("the scenario timed out");
}

async fn scenario(client: &Client, ns: &str, port: u16) {
    let templates: Api<ImageTemplate> = Api::namespaced(client.clone(), ns);
    let builds: Api<ImageBuild> = Api::namespaced(client.clone(), ns);
    let channels: Api<ImageChannel> = Api::namespaced(client.clone(), ns);
    let pp = PostParams::default();

    // 1. A valid template becomes Ready with what it declares.
    let tpl = ImageTemplate::new(
        "web",
        ImageTemplateSpec {
            template: Some(TEMPLATE.into()),
            ..ImageTemplateSpec::default()
        },
    );
    templates.create(&pp, &tpl).await.unwrap();
    let tpl = wait(&templates, "web", "Ready=True", |t: &ImageTemplate| {
        t.status.as_ref().is_some_and(|s| {
            condition(&s.conditions, "Ready").is_some_and(|c| c.0 == "True")
                && s.observed_generation == t.metadata.generation
        })
    })
    .await;
    let st = tpl.status.unwrap();
    assert_eq!(st.sources, ["null.a", "null.b"]);
    assert_eq!(st.variables.len(), 2);
    assert!(st.fingerprint.unwrap().starts_with("sha256:"));
    assert_eq!(condition(&st.conditions, "Stalled").unwrap().0, "False");

    // 2. An invalid one is Stalled with file:line:col.
    let bad = ImageTemplate::new(
        "broken",
        ImageTemplateSpec {
            template: Some("source \"null\" {\n}\n".into()),
            ..ImageTemplateSpec::default()
        },
    );
    templates.create(&pp, &bad).await.unwrap();
    let bad = wait(&templates, "broken", "Stalled=True", |t: &ImageTemplate| {
        t.status
            .as_ref()
            .is_some_and(|s| condition(&s.conditions, "Stalled").is_some_and(|c| c.0 == "True"))
    })
    .await;
    let st = bad.status.unwrap();
    assert_eq!(st.diagnostics[0].file.as_deref(), Some("template.pkr.hcl"));
    assert!(st.diagnostics[0].line.is_some());

    // 3. A build with an unknown or mistyped variable fails before any pod.
    let mut spec = ImageBuildSpec::for_template("web");
    spec.variables.insert("count".into(), json!("many"));
    builds
        .create(&pp, &ImageBuild::new("bad-vars", spec))
        .await
        .unwrap();
    let b = wait(&builds, "bad-vars", "Failed", |b: &ImageBuild| {
        b.status.as_ref().and_then(|s| s.phase) == Some(BuildPhase::Failed)
    })
    .await;
    let st = b.status.unwrap();
    let stalled = condition(&st.conditions, "Stalled").unwrap();
    assert_eq!(
        (stalled.0.as_str(), stalled.1.as_str()),
        ("True", "InvalidSpec")
    );
    assert!(stalled.2.contains("spec.variables.count"), "{stalled:?}");
    assert_eq!(condition(&st.conditions, "Succeeded").unwrap().0, "False");
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    assert!(jobs.get_opt("kiln-bad-vars").await.unwrap().is_none());

    // 4. A good build gets its snapshot, RBAC and one Indexed Job.
    let mut spec = ImageBuildSpec::for_template("web");
    spec.variables.insert("greeting".into(), json!("bonjour"));
    spec.parallel_builds = 1;
    builds
        .create(&pp, &ImageBuild::new("run1", spec))
        .await
        .unwrap();
    let job = wait(&jobs, "kiln-run1", "Job created", |_: &Job| true).await;
    let js = job.spec.unwrap();
    assert_eq!(js.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!(js.completions, Some(2));
    assert_eq!(js.parallelism, Some(1));
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm = cms.get("run1-snapshot").await.unwrap();
    assert_eq!(cm.immutable, Some(true));
    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
    let role = roles.get("kiln-runner-run1").await.unwrap();
    assert_eq!(
        role.rules.unwrap()[0].resource_names.as_deref(),
        Some(&["run1".to_string()][..])
    );
    let b = wait(&builds, "run1", "status written", |b: &ImageBuild| {
        b.status.as_ref().is_some_and(|s| s.snapshot.is_some())
    })
    .await;
    let st = b.status.unwrap();
    assert_eq!(st.sources_summary.as_deref(), Some("0/2"));
    assert!(st.phase.is_some_and(|p| !p.is_finished()));

    // 5. The runner, as the build's ServiceAccount, builds index 1 and writes its entry.
    let dir = tempfile::tempdir().unwrap();
    let snap_dir = dir.path().join("snapshot");
    std::fs::create_dir_all(&snap_dir).unwrap();
    std::fs::write(
        snap_dir.join("snapshot.json"),
        &cm.data.unwrap()["snapshot.json"],
    )
    .unwrap();
    let kubeconfig = impersonating_kubeconfig(dir.path(), ns, "kiln-runner-run1");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([
            "runner",
            "--snapshot-dir",
            snap_dir.to_str().unwrap(),
            "--work-dir",
            dir.path().join("work").to_str().unwrap(),
            "--build",
            "run1",
            "--namespace",
            ns,
            "--index",
            "1",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "runner failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("null.b: output will be in this color."),
        "{stdout}"
    );
    assert!(stdout.contains("bonjour from b"), "{stdout}");
    let b = wait(&builds, "run1", "source entry", |b: &ImageBuild| {
        b.status
            .as_ref()
            .and_then(|s| s.source("null.b"))
            .is_some_and(|e| e.phase == Some(BuildPhase::Succeeded))
    })
    .await;
    let managers: Vec<String> = b
        .metadata
        .managed_fields
        .clone()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"kiln-runner-1".to_string()),
        "{managers:?}"
    );
    assert!(
        managers.contains(&"kiln-operator".to_string()),
        "{managers:?}"
    );
    let st = b.status.unwrap();
    let entry = st.source("null.b").unwrap();
    assert_eq!(entry.index, Some(1));
    assert!(entry.started_at.is_some() && entry.finished_at.is_some());
    assert!(!entry.artifacts.is_empty());
    assert!(entry.manifest_entry.is_some());
    // The controller's fields survive the runner's write (split ownership).
    assert!(st.phase.is_some());
    assert!(condition(&st.conditions, "Succeeded").is_some());
    let b = wait(&builds, "run1", "summary 1/2", |b: &ImageBuild| {
        b.status.as_ref().and_then(|s| s.sources_summary.as_deref()) == Some("1/2")
    })
    .await;
    drop(b);

    // The runner's identity cannot touch another build.
    let runner_client = {
        let cfg = kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
            &Default::default(),
        )
        .await
        .unwrap();
        Client::try_from(cfg).unwrap()
    };
    let other: Api<ImageBuild> = Api::namespaced(runner_client, ns);
    let err = other.get("bad-vars").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403),
        "{err}"
    );

    // 6. A channel pinned to a running build waits; cancelling the build stalls it;
    //    revoking the build changes the reason.
    channels
        .create(
            &pp,
            &ImageChannel::new("prod", ImageChannelSpec::pinned("web", "run1")),
        )
        .await
        .unwrap();
    wait(&channels, "prod", "TargetPending", |c: &ImageChannel| {
        c.status.as_ref().is_some_and(|s| {
            condition(&s.conditions, "Reconciling")
                .is_some_and(|c| c.0 == "True" && c.1 == "TargetPending")
        })
    })
    .await;
    builds
        .patch(
            "run1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"cancel": true}})),
        )
        .await
        .unwrap();
    let b = wait(&builds, "run1", "Cancelled", |b: &ImageBuild| {
        b.status.as_ref().and_then(|s| s.phase) == Some(BuildPhase::Cancelled)
    })
    .await;
    assert_eq!(
        condition(&b.status.unwrap().conditions, "Stalled")
            .unwrap()
            .1,
        "Cancelled"
    );
    assert_eq!(
        jobs.get("kiln-run1").await.unwrap().spec.unwrap().suspend,
        Some(true)
    );
    wait(&channels, "prod", "TargetFailed", |c: &ImageChannel| {
        c.status.as_ref().is_some_and(|s| {
            condition(&s.conditions, "Stalled")
                .is_some_and(|c| c.0 == "True" && c.1 == "TargetFailed")
        })
    })
    .await;
    builds
        .patch(
            "run1",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"revoked": Revocation { reason: "CVE-2025-0001".into() }}}),
            ),
        )
        .await
        .unwrap();
    let ch = wait(&channels, "prod", "TargetRevoked", |c: &ImageChannel| {
        c.status.as_ref().is_some_and(|s| {
            condition(&s.conditions, "Stalled").is_some_and(|c| c.1 == "TargetRevoked")
        })
    })
    .await;
    assert!(
        condition(&ch.status.unwrap().conditions, "Stalled")
            .unwrap()
            .2
            .contains("CVE-2025-0001")
    );
    assert!(ch.spec.build.as_deref() == Some("run1"), "spec untouched");
    let b = builds.get("run1").await.unwrap();
    assert_eq!(
        b.status.unwrap().revoked.map(|r| r.reason).as_deref(),
        Some("CVE-2025-0001")
    );

    // 7. Leader election: the Lease is held by this operator.
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(client.clone(), ns);
    let lease = leases.get("kiln-operator").await.unwrap();
    assert_eq!(
        lease.spec.unwrap().holder_identity.as_deref(),
        Some("kiln-operator-test")
    );

    // 8. Metrics and probes.
    let m = http_get(port, "/metrics").await;
    assert!(
        m.contains("kiln_reconcile_total{controller=\"imagebuild\"}"),
        "{m}"
    );
    assert!(m.contains("kiln_builds_started_total"), "{m}");
    assert!(m.contains("kiln_leader 1"), "{m}");
    assert!(
        !m.contains("error=\"forbidden\""),
        "the operator's RBAC is missing a rule: {m}"
    );
    assert!(http_get(port, "/readyz").await.contains(" 200 OK"));
    assert!(http_get(port, "/healthz").await.contains(" 200 OK"));

    // 9. A stored ImageBuild that does not decode (written under a looser schema, as an
    //    older or newer Kiln might have) is reported and skipped; the watch goes on.
    malformed_object_does_not_stop_the_watch(client, ns, port).await;
}

async fn metric(port: u16, line_prefix: &str) -> Option<f64> {
    http_get(port, "/metrics")
        .await
        .lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn malformed_object_does_not_stop_the_watch(client: &Client, ns: &str, port: u16) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut loose = kiln_crds::crds()
        .into_iter()
        .find(|c| c.spec.names.kind == "ImageBuild")
        .unwrap();
    for v in &mut loose.spec.versions {
        v.schema = Some(
            // Open, except for the fields the CRD's selectableFields name.
            serde_json::from_value(json!({"openAPIV3Schema": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "spec": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "properties": {"templateRef": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}}
                        }}
                    },
                    "status": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "properties": {"phase": {"type": "string"}}
                    }
                }
            }}))
            .unwrap(),
        );
        v.additional_printer_columns = None;
    }
    crds.patch(
        &loose.name_any(),
        &PatchParams::apply("kiln-operator-test").force(),
        &Patch::Apply(&loose),
    )
    .await
    .unwrap();
    let ar = kube::api::ApiResource::erase::<ImageBuild>(&());
    let raw: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let bad: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild",
        "metadata": {"name": "malformed"},
        "spec": {"templateRef": {"name": "web"}, "parallelBuilds": "many"}
    }))
    .unwrap();
    // The API server takes a moment to serve the looser schema.
    let mut created = false;
    for _ in 0..60 {
        if raw.create(&PostParams::default(), &bad).await.is_ok() {
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(created, "the looser schema never took effect");
    install_crds(client).await;

    // Counted once, reported on the object, and the operator keeps reconciling others.
    let mut counted = None;
    for _ in 0..60 {
        counted = metric(port, "kiln_malformed_objects_total{kind=\"ImageBuild\"}").await;
        if counted.is_some_and(|n| n >= 1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        counted.is_some_and(|n| n >= 1.0),
        "not counted: {counted:?}"
    );
    let builds: Api<ImageBuild> = Api::namespaced(client.clone(), ns);
    builds
        .create(
            &PostParams::default(),
            &ImageBuild::new("after-malformed", ImageBuildSpec::for_template("web")),
        )
        .await
        .unwrap();
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    wait(&jobs, "kiln-after-malformed", "Job created", |_: &Job| true).await;
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    let mut warned = false;
    for _ in 0..60 {
        let list = events.list(&Default::default()).await.unwrap();
        warned = list.items.iter().any(|e| {
            e.reason.as_deref() == Some("Malformed")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("malformed")
        });
        if warned {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(warned, "no Malformed event on the object");
    // Nothing is left pending in the queue once the reconciles ran.
    let mut depth = None;
    for _ in 0..60 {
        depth = metric(
            port,
            "kiln_reconcile_queue_depth{controller=\"imagebuild\"}",
        )
        .await;
        if depth == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(depth, Some(0.0), "the queue gauge never drained");
    raw.delete("malformed", &DeleteParams::default())
        .await
        .unwrap();
}
