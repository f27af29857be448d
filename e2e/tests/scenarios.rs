//! The user's scenarios of issue 5, against the cluster in `KUBECONFIG` with Kiln installed
//! (scripts/e2e.sh does both). Each test works in its own throwaway namespace.

use std::time::Duration;

use kiln_e2e::*;
use serde_json::Value;

#[path = "scenarios/never_started.rs"]
mod never_started;

const IGNORE: &str = "needs a cluster with Kiln installed: run scripts/e2e.sh";

#[path = "scenarios/provenance.rs"]
mod provenance;

/// Two file sources and a shell-local provisioner that echoes a variable.
const TWO_SOURCES: &str = r#"variable "greeting" {
  type    = string
  default = "hello"
}
variable "seconds" {
  type    = number
  default = 0
}
source "file" "one" {
  content = "one"
  target  = "one.txt"
}
source "file" "two" {
  content = "two"
  target  = "two.txt"
}
build {
  sources = ["source.file.one", "source.file.two"]
  provisioner "shell-local" {
    inline = ["sleep ${var.seconds}", "echo ${var.greeting} from ${source.name}"]
  }
}
"#;

fn build_timeout() -> Duration {
    secs(240)
}

fn sources(b: &Value) -> Vec<Value> {
    b["status"]["sources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn installed_operator_is_ready_and_crds_are_documented() {
    require_cluster();
    let _ = IGNORE;
    let ns = system_namespace();
    // The operator Deployment is Available.
    let deploy = wait_for("the operator Deployment to be Available", secs(120), || {
        let d = list(
            &ns,
            "deployments",
            &format!("app.kubernetes.io/instance={}", release()),
        )
        .into_iter()
        .next()?;
        is_true(&d, "Available").then_some(d)
    });
    assert!(deploy["status"]["readyReplicas"].as_i64().unwrap_or(0) >= 1);
    // The CRDs are established.
    for crd in ["imagetemplates", "imagebuilds", "imagechannels"] {
        kubectl(&[
            "wait",
            "--for=condition=Established",
            &format!("crd/{crd}.kiln.dev"),
            "--timeout=60s",
        ]);
    }
    // kubectl explain shows the field docs.
    let explain = kubectl(&["explain", "imagebuild.spec"]);
    assert!(explain.contains("templateRef"), "{explain}");
    assert!(explain.contains("cancel"), "{explain}");
    assert!(
        explain.contains("DESCRIPTION") || explain.contains("FIELDS"),
        "{explain}"
    );
    let explain = kubectl(&["explain", "imagebuild.spec.cancel"]);
    assert!(
        explain.contains("SIGTERM"),
        "the description of spec.cancel: {explain}"
    );
    // /metrics answers through the metrics Service (via the API server's service proxy).
    let metrics = kubectl(&[
        "get",
        "--raw",
        &format!(
            "/api/v1/namespaces/{ns}/services/http:{}-metrics:metrics/proxy/metrics",
            release()
        ),
    ]);
    assert!(
        metrics.contains("# EOF") || metrics.contains("# TYPE"),
        "{metrics}"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn invalid_template_is_stalled_with_a_position_and_valid_one_is_ready() {
    let ns = Namespace::new("tpl");
    let ns = ns.as_str();
    apply(
        ns,
        &template(
            "broken",
            "source \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [source.null.a\n}\n",
        ),
    );
    let t = wait_condition(ns, "imagetemplate", "broken", "Stalled", "True", secs(60));
    let status = t["status"].to_string();
    // file:line:col somewhere in the status (condition message or diagnostics).
    let pos = status
        .find("main.pkr.hcl:")
        .unwrap_or_else(|| panic!("no file:line:col in {status}"));
    let rest = &status[pos + "main.pkr.hcl:".len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    assert!(
        digits.split(':').filter(|s| !s.is_empty()).count() >= 2,
        "not file:line:col: {}",
        &status[pos..]
    );
    assert!(!is_true(&t, "Ready"));

    apply(ns, &template("good", TWO_SOURCES));
    let t = wait_condition(ns, "imagetemplate", "good", "Ready", "True", secs(60));
    let vars: Vec<&str> = t["status"]["variables"]
        .as_array()
        .expect("status.variables")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert!(
        vars.contains(&"greeting") && vars.contains(&"seconds"),
        "{vars:?}"
    );
    let srcs = t["status"]["sources"].to_string();
    assert!(
        srcs.contains("file.one") && srcs.contains("file.two"),
        "{srcs}"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn two_source_build_runs_as_an_indexed_job_and_succeeds() {
    let ns = Namespace::new("two");
    let ns = ns.as_str();
    apply(ns, &template("two", TWO_SOURCES));
    wait_condition(ns, "imagetemplate", "two", "Ready", "True", secs(60));
    apply(
        ns,
        &build("two-1", "two", &[], "  variables:\n    greeting: bonjour\n"),
    );
    let job_name = wait_for("the build's Job", secs(60), || {
        let b = get(ns, "imagebuild", "two-1")?;
        b["status"]["jobName"].as_str().map(str::to_string)
    });
    let job = get(ns, "job", &job_name).expect("the Job exists");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 2);
    // kubectl wait returns once the build is Ready.
    kubectl(&[
        "wait",
        "-n",
        ns,
        "--for=condition=Ready",
        "imagebuild/two-1",
        &format!("--timeout={}s", build_timeout().as_secs()),
    ]);
    let b = get(ns, "imagebuild", "two-1").unwrap();
    assert_eq!(b["status"]["phase"], "Succeeded", "{}", b["status"]);
    let srcs = sources(&b);
    assert_eq!(srcs.len(), 2, "{}", b["status"]);
    for s in &srcs {
        assert_eq!(s["phase"], "Succeeded", "{s}");
        assert!(
            !s["artifacts"].as_array().map(Vec::is_empty).unwrap_or(true),
            "no artifacts: {s}"
        );
        assert!(s["manifestEntry"].is_object(), "no manifest entry: {s}");
    }
    let names: Vec<&str> = srcs.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(
        names.iter().any(|n| n.contains("one")) && names.iter().any(|n| n.contains("two")),
        "{names:?}"
    );
    // Both pods ran the runner, and the variable reached them.
    let job = get(ns, "job", &job_name).unwrap();
    assert_eq!(job["status"]["succeeded"], 2, "{}", job["status"]);
    let logs = kubectl(&[
        "logs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=two-1",
        "--tail=-1",
        "--prefix",
    ]);
    assert!(
        logs.contains("bonjour from one") && logs.contains("bonjour from two"),
        "{logs}"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn failing_provisioner_fails_with_a_masked_log_tail_and_never_leaks_a_secret() {
    let ns = Namespace::new("fail");
    let ns = ns.as_str();
    let secret = "s3cr3t-e2e-value-4711";
    kubectl(&[
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        ns,
        &format!("--from-literal=password={secret}"),
    ]);
    apply(
        ns,
        &template(
            "failing",
            r#"variable "password" {
  type      = string
  sensitive = true
}
source "file" "one" {
  content = "x"
  target  = "x.txt"
}
build {
  sources = ["source.file.one"]
  provisioner "shell-local" {
    inline = ["echo the password is ${var.password}", "echo about to fail", "exit 3"]
  }
}
"#,
        ),
    );
    wait_condition(ns, "imagetemplate", "failing", "Ready", "True", secs(60));
    apply(
        ns,
        &build(
            "fail-1",
            "failing",
            &[],
            "  retries: 1\n  secretVariables:\n    - name: password\n      secretKeyRef:\n        name: creds\n        key: password\n",
        ),
    );
    let b = wait_phase(
        ns,
        "imagebuild",
        "fail-1",
        &["Failed", "Succeeded"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Failed", "{}", b["status"]);
    let b = wait_condition(ns, "imagebuild", "fail-1", "Stalled", "True", secs(30));
    let src = &sources(&b)[0];
    // spec.retries 1: the source ran twice (backoffLimitPerIndex), and says so.
    assert_eq!(src["attempt"], 2, "{src}");
    let tail = src["logTail"]
        .as_str()
        .unwrap_or_else(|| panic!("no logTail: {src}"));
    assert!(tail.contains("about to fail"), "{tail}");
    assert!(
        tail.contains("<sensitive>"),
        "the password line is masked: {tail}"
    );
    let everything = everything_visible(ns);
    assert!(
        !everything.contains(secret),
        "the secret value leaked:\n{everything}"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn cancelled_build_ends_cancelled_after_cleanup_and_its_pods_are_gone() {
    let ns = Namespace::new("cancel");
    let ns = ns.as_str();
    apply(ns, &template("slow", TWO_SOURCES));
    wait_condition(ns, "imagetemplate", "slow", "Ready", "True", secs(60));
    apply(
        ns,
        &build("slow-1", "slow", &[], "  variables:\n    seconds: 300\n"),
    );
    wait_for("a running source", build_timeout(), || {
        let b = get(ns, "imagebuild", "slow-1")?;
        sources(&b)
            .iter()
            .any(|s| s["phase"] == "Running")
            .then_some(())
    });
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "slow-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"cancel":true}}"#,
    ]);
    let b = wait_phase(
        ns,
        "imagebuild",
        "slow-1",
        &["Cancelled", "Failed", "Succeeded"],
        secs(120),
    );
    assert_eq!(b["status"]["phase"], "Cancelled", "{}", b["status"]);
    // Cancelled only once the pods are gone: by then the runners observed the
    // cancellation, ran their cleanup and wrote their own final state (the engine's
    // "Cleanly cancelled" line in each source's log tail).
    assert_eq!(sources(&b).len(), 2, "{}", b["status"]);
    assert!(
        sources(&b).iter().all(|s| s["phase"] == "Cancelled"),
        "a source not yet Cancelled when the build was: {}",
        b["status"]
    );
    for s in sources(&b) {
        let tail = s["logTail"].as_str().unwrap_or_default();
        assert!(tail.contains("Cleanly cancelled"), "no cleanup in {s}");
    }
    assert_eq!(b["status"]["phase"], "Cancelled");
    wait_for("the runner pods to be gone", secs(60), || {
        list(ns, "pods", "kiln.dev/build=slow-1")
            .is_empty()
            .then_some(())
    });
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn build_survives_the_operator_pod_being_deleted() {
    let ns = Namespace::new("restart");
    let ns = ns.as_str();
    apply(ns, &template("steady", TWO_SOURCES));
    wait_condition(ns, "imagetemplate", "steady", "Ready", "True", secs(60));
    apply(
        ns,
        &build("steady-1", "steady", &[], "  variables:\n    seconds: 15\n"),
    );
    wait_phase(ns, "imagebuild", "steady-1", &["Running"], build_timeout());
    let sys = system_namespace();
    let before: Vec<String> = list(
        &sys,
        "pods",
        &format!("app.kubernetes.io/instance={}", release()),
    )
    .iter()
    .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
    .collect();
    assert!(!before.is_empty());
    kubectl(&[
        "delete",
        "pods",
        "-n",
        &sys,
        "-l",
        &format!("app.kubernetes.io/instance={}", release()),
        "--wait=false",
    ]);
    let b = wait_phase(
        ns,
        "imagebuild",
        "steady-1",
        &["Succeeded", "Failed", "Cancelled"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Succeeded", "{}", b["status"]);
    assert!(is_true(&b, "Ready"));
    assert_eq!(sources(&b).len(), 2, "{}", b["status"]);
    assert_eq!(b["status"]["sourcesSummary"], "2/2", "{}", b["status"]);
    for s in sources(&b) {
        assert_eq!(s["phase"], "Succeeded", "{s}");
    }
    // The operator is back.
    kubectl(&[
        "rollout",
        "status",
        "-n",
        &sys,
        &format!("deployment/{}", release()),
        "--timeout=120s",
    ]);
}

fn channel(name: &str, tpl: &str, target: &str) -> String {
    format!(
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageChannel\nmetadata:\n  name: {name}\nspec:\n  templateRef:\n    name: {tpl}\n{target}"
    )
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn channels_promote_by_apply_stall_on_bad_targets_and_follow_new_builds() {
    let ns = Namespace::new("chan");
    let ns = ns.as_str();
    apply(ns, &template("app", TWO_SOURCES));
    apply(
        ns,
        &template(
            "bad",
            "source \"file\" \"one\" {\n  content = \"x\"\n  target  = \"x.txt\"\n}\nbuild {\n  sources = [\"source.file.one\"]\n  provisioner \"shell-local\" {\n    inline = [\"exit 1\"]\n  }\n}\n",
        ),
    );
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    let nightly = [("kiln.dev/track", "nightly")];
    apply(ns, &build("app-1", "app", &nightly, ""));
    apply(ns, &build("app-2", "app", &nightly, ""));
    apply(ns, &build("bad-1", "bad", &[], ""));
    for b in ["app-1", "app-2"] {
        let o = wait_phase(
            ns,
            "imagebuild",
            b,
            &["Succeeded", "Failed"],
            build_timeout(),
        );
        assert_eq!(o["status"]["phase"], "Succeeded", "{b}: {}", o["status"]);
    }
    // GitOps: the channel is a manifest, promotion is an edit of it.
    apply(ns, &channel("prod", "app", "  build: app-1\n"));
    let c = wait_condition(ns, "imagechannel", "prod", "Ready", "True", secs(60));
    assert_eq!(c["status"]["currentBuild"], "app-1");
    apply(ns, &channel("prod", "app", "  build: app-2\n"));
    let c = wait_for("the channel to move to app-2", secs(60), || {
        let c = get(ns, "imagechannel", "prod")?;
        (c["status"]["currentBuild"] == "app-2" && is_true(&c, "Ready")).then_some(c)
    });
    let history = c["status"]["history"].as_array().map(Vec::len).unwrap_or(0);
    assert!(history >= 2, "history did not grow: {}", c["status"]);

    // A channel pointed at a failed build is Stalled, with the reason.
    let bad = wait_phase(
        ns,
        "imagebuild",
        "bad-1",
        &["Failed", "Succeeded"],
        build_timeout(),
    );
    assert_eq!(bad["status"]["phase"], "Failed");
    apply(ns, &channel("broken", "bad", "  build: bad-1\n"));
    let c = wait_condition(ns, "imagechannel", "broken", "Stalled", "True", secs(60));
    let stalled = condition(&c, "Stalled").unwrap();
    assert!(!stalled["reason"].as_str().unwrap_or("").is_empty(), "{c}");
    assert!(!is_true(&c, "Ready"));

    // Revoking the promoted build stalls the channel with the revocation's reason.
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "app-2",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":{"reason":"CVE-2099-0001"}}}"#,
    ]);
    let c = wait_condition(ns, "imagechannel", "prod", "Stalled", "True", secs(60));
    assert!(
        c["status"].to_string().contains("CVE-2099-0001"),
        "{}",
        c["status"]
    );

    // A following channel moves when a newer matching build succeeds.
    apply(
        ns,
        &channel(
            "nightly",
            "app",
            "  follow:\n    selector:\n      matchLabels:\n        kiln.dev/track: nightly\n",
        ),
    );
    let c = wait_condition(ns, "imagechannel", "nightly", "Ready", "True", secs(60));
    let first = c["status"]["currentBuild"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(first == "app-1" || first == "app-2", "{}", c["status"]);
    apply(ns, &build("app-3", "app", &nightly, ""));
    wait_phase(ns, "imagebuild", "app-3", &["Succeeded"], build_timeout());
    wait_for("the following channel to move to app-3", secs(60), || {
        let c = get(ns, "imagechannel", "nightly")?;
        (c["status"]["currentBuild"] == "app-3").then_some(())
    });
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn child_builds_read_a_channel_record_their_parent_and_inherit_its_revocation() {
    let ns = Namespace::new("lineage");
    let ns = ns.as_str();
    apply(
        ns,
        &template(
            "base",
            "source \"file\" \"root\" {\n  content = \"base image\"\n  target  = \"root.img\"\n}\nbuild {\n  sources = [\"source.file.root\"]\n}\n",
        ),
    );
    // The child checks, inside its runner, what the data source gave it.
    apply(
        ns,
        &template(
            "app",
            r#"data "kiln-channel" "base" {
  channel = "base-prod"
}
source "file" "app" {
  content = "app on ${data.kiln-channel.base.id}"
  target  = "app.img"
}
build {
  sources = ["source.file.app"]
  provisioner "shell-local" {
    inline = [
      "test '${data.kiln-channel.base.build}' = base-1",
      "test '${data.kiln-channel.base.id}' = File",
      "test '${data.kiln-channel.base.files[0]}' = root.img",
    ]
  }
}
"#,
        ),
    );
    wait_condition(ns, "imagetemplate", "base", "Ready", "True", secs(60));
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    apply(ns, &build("base-1", "base", &[], ""));
    let b = wait_phase(
        ns,
        "imagebuild",
        "base-1",
        &["Succeeded", "Failed"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Succeeded", "{}", b["status"]);
    apply(ns, &channel("base-prod", "base", "  build: base-1\n"));
    wait_condition(ns, "imagechannel", "base-prod", "Ready", "True", secs(60));

    apply(ns, &build("app-1", "app", &[], ""));
    let b = wait_phase(
        ns,
        "imagebuild",
        "app-1",
        &["Succeeded", "Failed"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Succeeded", "{}", b["status"]);
    assert_eq!(
        b["status"]["parent"],
        serde_json::json!({"build": "base-1", "channel": "base-prod"}),
        "{}",
        b["status"]
    );
    apply(ns, &channel("app-prod", "app", "  build: app-1\n"));
    wait_condition(ns, "imagechannel", "app-prod", "Ready", "True", secs(60));

    // Revoking the parent revokes the child, and the child's channel stalls.
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "base-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":{"reason":"CVE-2099-0002 in the base"}}}"#,
    ]);
    let b = wait_for("the child to inherit the revocation", secs(60), || {
        let b = get(ns, "imagebuild", "app-1")?;
        b["status"]["revoked"].is_object().then_some(b)
    });
    let r = &b["status"]["revoked"];
    assert_eq!(r["inheritedFrom"], "base-1", "{r}");
    assert_eq!(r["reason"], "CVE-2099-0002 in the base", "{r}");
    let c = wait_condition(ns, "imagechannel", "app-prod", "Stalled", "True", secs(60));
    assert!(
        c["status"].to_string().contains("CVE-2099-0002"),
        "{}",
        c["status"]
    );
    let events = kubectl(&[
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        "involvedObject.name=app-1",
        "-o",
        "json",
    ]);
    assert!(events.contains("ParentRevoked"), "{events}");

    // A new child cannot start from the revoked parent.
    apply(ns, &build("app-2", "app", &[], ""));
    let b = wait_phase(
        ns,
        "imagebuild",
        "app-2",
        &["Failed", "Succeeded"],
        secs(60),
    );
    let stalled = condition(&b, "Stalled").cloned().unwrap_or_default();
    assert_eq!(stalled["reason"], "InvalidSpec", "{}", b["status"]);
    assert!(
        stalled["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ImageChannel base-prod is not Ready"),
        "{stalled}"
    );
    assert!(
        list(ns, "jobs", "kiln.dev/build=app-2").is_empty(),
        "no Job for a build that cannot start"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn runner_token_cannot_touch_another_build() {
    let ns = Namespace::new("rbac");
    let ns = ns.as_str();
    apply(ns, &template("t", TWO_SOURCES));
    wait_condition(ns, "imagetemplate", "t", "Ready", "True", secs(60));
    apply(ns, &build("mine", "t", &[], ""));
    apply(ns, &build("other", "t", &[], ""));
    // The runner's ServiceAccount and Role exist once the build started.
    let sa = wait_for("the runner ServiceAccount", secs(60), || {
        list(ns, "serviceaccounts", "kiln.dev/build=mine")
            .first()
            .and_then(|s| s["metadata"]["name"].as_str().map(str::to_string))
    });
    wait_for("the runner RoleBinding", secs(60), || {
        (!list(ns, "rolebindings", "kiln.dev/build=mine").is_empty()).then_some(())
    });
    let who = format!("--as=system:serviceaccount:{ns}:{sa}");
    let can = |verb: &str, res: &str| {
        let r = kubectl_try(&["auth", "can-i", verb, res, "-n", ns, &who]);
        r.stdout.trim() == "yes"
    };
    assert!(can("get", "imagebuilds/mine"));
    assert!(can("patch", "imagebuilds/mine"));
    assert!(!can("get", "imagebuilds/other"));
    assert!(!can("patch", "imagebuilds/other"));
    assert!(!can("list", "imagebuilds"));
    assert!(!can("get", "secrets"));
    // And the API server says 403 to the real request.
    let r = kubectl_try(&["get", "imagebuild", "other", "-n", ns, &who]);
    assert!(
        !r.ok && r.stderr.contains("Forbidden"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let r = kubectl_try(&[
        "patch",
        "imagebuild",
        "other",
        "-n",
        ns,
        &who,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Succeeded"}}"#,
    ]);
    assert!(
        !r.ok && r.stderr.contains("Forbidden"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// The e2e sshd peer (images/sshd.sh, imported by scripts/e2e.sh): root's password.
const SSHD_IMAGE: &str = "kiln.local/sshd:e2e";
const SSHD_PASSWORD: &str = "pw-7c1f-e2e-sshd";

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn real_build_over_ssh_against_an_sshd_pod() {
    let ns = Namespace::new("ssh");
    let ns = ns.as_str();
    apply(
        ns,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sshd\nspec:\n  containers:\n    - name: sshd\n      image: {SSHD_IMAGE}\n      imagePullPolicy: IfNotPresent\n      ports:\n        - containerPort: 22\n"
        ),
    );
    kubectl(&[
        "wait",
        "-n",
        ns,
        "--for=condition=Ready",
        "pod/sshd",
        "--timeout=60s",
    ]);
    let ip = kubectl(&[
        "get",
        "pod",
        "sshd",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.podIP}",
    ]);
    kubectl(&[
        "create",
        "secret",
        "generic",
        "ssh",
        "-n",
        ns,
        &format!("--from-literal=password={SSHD_PASSWORD}"),
    ]);
    apply(
        ns,
        &template(
            "remote",
            r#"variable "host" {
  type = string
}
variable "password" {
  type      = string
  sensitive = true
}
source "null" "remote" {
  ssh_host     = var.host
  ssh_username = "root"
  ssh_password = var.password
  ssh_timeout  = "60s"
}
build {
  sources = ["source.null.remote"]
  provisioner "file" {
    content     = "payload from kiln\n"
    destination = "/tmp/payload.txt"
  }
  provisioner "shell" {
    inline = ["cat /tmp/payload.txt", "echo ran on $(hostname) as $(id -u)", "echo pw ${var.password}"]
  }
}
"#,
        ),
    );
    wait_condition(ns, "imagetemplate", "remote", "Ready", "True", secs(60));
    apply(
        ns,
        &build(
            "remote-1",
            "remote",
            &[],
            &format!(
                "  variables:\n    host: \"{ip}\"\n  secretVariables:\n    - name: password\n      secretKeyRef:\n        name: ssh\n        key: password\n"
            ),
        ),
    );
    let b = wait_phase(
        ns,
        "imagebuild",
        "remote-1",
        &["Succeeded", "Failed"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Succeeded", "{}", b["status"]);
    // The file provisioner uploaded over SSH; the shell provisioner ran there.
    let on_peer = kubectl(&["exec", "-n", ns, "sshd", "--", "cat", "/tmp/payload.txt"]);
    assert_eq!(on_peer, "payload from kiln\n");
    let logs = kubectl(&[
        "logs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=remote-1",
        "--tail=-1",
    ]);
    assert!(logs.contains("payload from kiln"), "{logs}");
    assert!(logs.contains("ran on sshd as 0"), "{logs}");
    assert!(logs.contains("pw <sensitive>"), "{logs}");
    let everything = everything_visible(ns);
    assert!(
        !everything.contains(SSHD_PASSWORD),
        "the SSH password leaked:\n{everything}"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn the_samples_the_docs_show_build_and_promote() {
    let ns = Namespace::new("samples");
    let ns = ns.as_str();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/samples");
    kubectl(&["apply", "-n", ns, "-k", dir]);
    for b in ["hello-1", "inline-1"] {
        kubectl(&[
            "wait",
            "-n",
            ns,
            "--for=condition=Ready",
            &format!("imagebuild/{b}"),
            &format!("--timeout={}s", build_timeout().as_secs()),
        ]);
    }
    for c in ["hello-production", "hello-latest"] {
        let ch = wait_condition(ns, "imagechannel", c, "Ready", "True", secs(60));
        assert!(ch["status"]["currentBuild"].is_string(), "{}", ch["status"]);
    }
}

/// The in-cluster test registry: Debian's `docker-registry` (images/registry.sh) behind a
/// Service at this fixed address, plain HTTP with basic auth. containerd pulls from it over
/// HTTP (e2e/cluster/up.sh writes its hosts.toml); runner pods are told with
/// `KILN_INSECURE_REGISTRIES` (scripts/e2e.sh sets the chart's `runner.env`).
// Must equal e2e/cluster/lib.sh's E2E_REGISTRY (in the Service range's static band).
const REGISTRY: &str = "10.96.0.12:5000";
const REGISTRY_IMAGE: &str = "kiln.local/registry:e2e";
const REGISTRY_USER: &str = "kiln";
const REGISTRY_PASSWORD: &str = "pw-30b2-e2e-registry";

/// One test at a time has the registry: its Service has a fixed address.
static REGISTRY_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The registry of one test; dropping it deletes its Service (freeing the address) before
/// the next test may start its own.
struct RegistryGuard {
    ns: String,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Drop for RegistryGuard {
    fn drop(&mut self) {
        let _ = kubectl_try(&[
            "delete",
            "service",
            "registry",
            "-n",
            &self.ns,
            "--wait=true",
            "--ignore-not-found",
        ]);
    }
}

/// Starts the registry in `ns` and waits until it answers (with auth) from this host; it
/// holds the registry's address until the guard is dropped. Also creates the
/// `kubernetes.io/dockerconfigjson` Secret `regcreds` for it, as
/// `kubectl create secret docker-registry` makes them.
fn start_registry(ns: &str) -> RegistryGuard {
    let lock = REGISTRY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let guard = RegistryGuard {
        ns: ns.to_string(),
        _lock: lock,
    };
    kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "regcreds",
        "-n",
        ns,
        &format!("--docker-server={REGISTRY}"),
        &format!("--docker-username={REGISTRY_USER}"),
        &format!("--docker-password={REGISTRY_PASSWORD}"),
    ]);
    let hash = bcrypt::hash(REGISTRY_PASSWORD, 5).unwrap();
    kubectl(&[
        "create",
        "secret",
        "generic",
        "htpasswd",
        "-n",
        ns,
        &format!("--from-literal=htpasswd={REGISTRY_USER}:{hash}"),
    ]);
    let (ip, port) = REGISTRY.split_once(':').unwrap();
    apply(
        ns,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: registry\n  labels:\n    app: registry\nspec:\n  containers:\n    - name: registry\n      image: {REGISTRY_IMAGE}\n      imagePullPolicy: IfNotPresent\n      ports:\n        - containerPort: 5000\n      volumeMounts:\n        - name: auth\n          mountPath: /auth\n        - name: data\n          mountPath: /var/lib/registry\n  volumes:\n    - name: auth\n      secret:\n        secretName: htpasswd\n    - name: data\n      emptyDir: {{}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: registry\nspec:\n  clusterIP: {ip}\n  selector:\n    app: registry\n  ports:\n    - port: {port}\n      targetPort: 5000\n"
        ),
    );
    kubectl(&[
        "wait",
        "-n",
        ns,
        "--for=condition=Ready",
        "pod/registry",
        "--timeout=60s",
    ]);
    wait_for("the registry Service to answer", secs(60), || {
        let o = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{REGISTRY}/v2/"))
            .output()
            .ok()?;
        (String::from_utf8_lossy(&o.stdout) == "401").then_some(())
    });
    guard
}

/// A busybox-static base image (no network, nothing pulled), pushed to the registry.
fn push_busybox_base(reference: &str) {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    for dir in ["bin", "tmp", "etc", "root"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for app in [
        "sh", "cat", "echo", "ls", "id", "mkdir", "rm", "chmod", "test", "hostname",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(app)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/base-release"), "kiln e2e busybox base\n").unwrap();
    let archive = d.path().join("base.oci.tar");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/cluster/oci-image.sh");
    let st = std::process::Command::new(script)
        .args(["kiln.local/base:e2e"])
        .arg(&root)
        .arg(&archive)
        .arg("/bin/sh")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "oci-image.sh failed");
    let out = std::process::Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds"])
        .arg(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"))
        .arg(format!("oci-archive:{}", archive.display()))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo (Debian package skopeo; scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "skopeo copy to {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn docker_build_in_the_cluster_pushes_an_image_a_pod_then_runs() {
    let ns = Namespace::new("docker");
    let ns = ns.as_str();
    let _registry = start_registry(ns);
    let base = format!("{REGISTRY}/e2e/base:1");
    push_busybox_base(&base);
    apply(
        ns,
        &template(
            "app",
            &format!(
                r#"source "docker" "app" {{
  image   = "{base}"
  commit  = true
  changes = ["CMD [\"cat\", \"/hello.txt\"]", "LABEL made-by=kiln"]
}}
build {{
  sources = ["source.docker.app"]
  provisioner "file" {{
    content     = "uploaded into the image\n"
    destination = "/uploaded.txt"
  }}
  provisioner "shell" {{
    inline = [
      "echo \"provisioned by kiln as $(id -u) on $(cat /etc/base-release)\" > /hello.txt",
      "cat /uploaded.txt >> /hello.txt",
      "rm /etc/base-release",
    ]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{REGISTRY}/e2e/app"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#
            ),
        ),
    );
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    apply(
        ns,
        &build(
            "app-1",
            "app",
            &[],
            "  runner:\n    registrySecrets:\n      - name: regcreds\n",
        ),
    );
    let b = wait_phase(
        ns,
        "imagebuild",
        "app-1",
        &["Succeeded", "Failed"],
        build_timeout(),
    );
    let logs = kubectl_try(&[
        "logs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=app-1",
        "--tail=-1",
        "--all-containers",
    ]);
    assert_eq!(
        b["status"]["phase"], "Succeeded",
        "{}\n{}{}",
        b["status"], logs.stdout, logs.stderr
    );
    // What the runner pod was granted, and why: no privileged container, no host path.
    let granted = &b["status"]["runner"]["granted"];
    let kinds: Vec<&str> = granted
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"image") && kinds.contains(&"writableRoot"),
        "{granted}"
    );
    let job = kubectl(&[
        "get",
        "jobs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=app-1",
        "-o",
        "json",
    ]);
    assert!(!job.contains("\"privileged\": true"), "{job}");
    assert!(!job.contains("hostPath"), "{job}");
    // The pushed digest is in status.
    let src = &sources(&b)[0];
    let pushed = src["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["builderId"] == "packer.post-processor.docker-push")
        .unwrap_or_else(|| panic!("no docker-push artifact in {src}"));
    let digest = pushed["state"]["digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{pushed}");
    // A Pod runs the new image by digest, pulled by the kubelet from the registry.
    apply(
        ns,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: run-app\nspec:\n  restartPolicy: Never\n  imagePullSecrets:\n    - name: regcreds\n  containers:\n    - name: app\n      image: {REGISTRY}/e2e/app@{digest}\n"
        ),
    );
    wait_for("the app pod to finish", secs(120), || {
        let p = get(ns, "pod", "run-app")?;
        (p["status"]["phase"] == "Succeeded" || p["status"]["phase"] == "Failed").then_some(())
    });
    let out = kubectl(&["logs", "-n", ns, "run-app"]);
    assert_eq!(
        out,
        "provisioned by kiln as 0 on kiln e2e busybox base\nuploaded into the image\n"
    );
    // The deletion became a whiteout: the file is gone from the new image.
    apply(
        ns,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: check-app\nspec:\n  restartPolicy: Never\n  imagePullSecrets:\n    - name: regcreds\n  containers:\n    - name: app\n      image: {REGISTRY}/e2e/app@{digest}\n      command: [\"sh\", \"-c\", \"ls /etc/base-release 2>&1; ls /kiln /packer-files 2>&1; true\"]\n"
        ),
    );
    wait_for("the check pod to finish", secs(120), || {
        let p = get(ns, "pod", "check-app")?;
        (p["status"]["phase"] == "Succeeded").then_some(())
    });
    let out = kubectl(&["logs", "-n", ns, "check-app"]);
    assert!(out.contains("/etc/base-release: No such file"), "{out}");
    assert!(
        out.contains("/kiln: No such file"),
        "nothing of the runner may leak into the image: {out}"
    );
    let everything = everything_visible(ns);
    assert!(
        !everything.contains(REGISTRY_PASSWORD),
        "the registry password leaked:\n{everything}"
    );
}

/// The e2e peer serving the small guest's boot ISO (images/guest-iso.sh, imported by
/// scripts/e2e.sh) with busybox httpd on :8080.
const GUEST_ISO_IMAGE: &str = "kiln.local/guest-iso:e2e";

/// The small test guest (scripts/guests.sh): its ISO and root's SSH key.
fn guests_dir() -> std::path::PathBuf {
    let out =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/guests.sh"))
            .arg("--print")
            .output()
            .expect("scripts/guests.sh");
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn sha256_file(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The first bytes of a disk image, as the guest saw its disk (`qemu-img convert` to raw).
fn disk_head(disk: &std::path::Path, n: usize) -> String {
    let d = tempfile::tempdir().unwrap();
    let raw = d.path().join("disk.raw");
    let out = std::process::Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(disk)
        .arg(&raw)
        .output()
        .expect("qemu-img (Debian package qemu-utils; scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "qemu-img convert {}: {}",
        disk.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&raw).unwrap();
    String::from_utf8_lossy(&bytes[..n.min(bytes.len())]).to_string()
}

/// A PersistentVolume on this node's disk (a `hostPath` PV: the cluster runs here), bound to
/// the claim `claim` in `ns`; deleted when dropped. The directory belongs to the runner's
/// user (a hostPath volume gets no fsGroup).
struct HostVolume {
    name: String,
    dir: tempfile::TempDir,
}

impl HostVolume {
    fn new(ns: &str, claim: &str) -> HostVolume {
        let dir = tempfile::Builder::new()
            .prefix("kiln-e2e-pv-")
            .tempdir_in("/var/tmp")
            .unwrap();
        std::os::unix::fs::chown(dir.path(), Some(65532), Some(65532)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let name = format!("{ns}-{claim}");
        apply(
            ns,
            &format!(
                "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {name}\nspec:\n  capacity:\n    storage: 2Gi\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Retain\n  storageClassName: kiln-e2e-manual\n  claimRef:\n    namespace: {ns}\n    name: {claim}\n  hostPath:\n    path: {}\n    type: Directory\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {claim}\nspec:\n  storageClassName: kiln-e2e-manual\n  volumeName: {name}\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 2Gi\n",
                dir.path().display()
            ),
        );
        HostVolume { name, dir }
    }
}

impl Drop for HostVolume {
    fn drop(&mut self) {
        let _ = kubectl_try(&[
            "delete",
            "persistentvolume",
            &self.name,
            "--wait=false",
            "--ignore-not-found",
        ]);
    }
}

/// A VM image built in the cluster, from the small guest's ISO served by a pod, under TCG in
/// an unprivileged runner pod (the operator's qemu runner image, no device, no capability,
/// no host path, non-root, read-only root): the SSH key comes from a Secret volume, the disk
/// is written onto a PersistentVolumeClaim named in the ImageBuild and pushed as a
/// containerDisk to the in-cluster registry with `registrySecrets`. Both copies of the disk
/// are read back from this host and hold what the provisioner wrote.
#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn qemu_build_in_the_cluster_pushes_a_containerdisk_and_writes_a_pvc() {
    let ns = Namespace::new("qemu");
    let ns = ns.as_str();
    let guests = guests_dir();
    let key = guests.join("small/id_ed25519");
    let iso = guests.join("iso/kiln-boot.iso");
    assert!(
        key.is_file() && iso.is_file(),
        "the small test guest is missing under {}: run scripts/guests.sh",
        guests.display()
    );
    let _registry = start_registry(ns);
    let volume = HostVolume::new(ns, "vm-output");
    // The ISO over HTTP from a pod.
    apply(
        ns,
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: iso\nspec:\n  containers:\n    - name: httpd\n      image: {GUEST_ISO_IMAGE}\n      imagePullPolicy: IfNotPresent\n      ports:\n        - containerPort: 8080\n"
        ),
    );
    kubectl(&[
        "wait",
        "-n",
        ns,
        "--for=condition=Ready",
        "pod/iso",
        "--timeout=60s",
    ]);
    let iso_ip = kubectl(&[
        "get",
        "pod",
        "iso",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.podIP}",
    ]);
    // root's SSH key as a Secret, mounted for the runner.
    kubectl(&[
        "create",
        "secret",
        "generic",
        "guest-key",
        "-n",
        ns,
        &format!("--from-file=id_ed25519={}", key.display()),
    ]);
    let nonce = format!("{}-{}", std::process::id(), ns.len());
    let image = format!("{REGISTRY}/e2e/small:1");
    apply(
        ns,
        &template(
            "vm",
            &format!(
                r#"source "qemu" "small" {{
  iso_url          = "http://{iso_ip}:8080/kiln-boot.iso"
  iso_checksum     = "sha256:{sum}"
  accelerator      = "tcg"
  headless         = true
  memory           = 512
  disk_size        = "256M"
  format           = "qcow2"
  vm_name          = "small.qcow2"
  output_directory = "/output/small"
  boot_wait        = "3s"
  boot_command     = ["linux kiln.vm={{{{ .Name }}}}<enter>"]
  ssh_username         = "root"
  ssh_private_key_file = "/keys/id_ed25519"
  ssh_timeout          = "5m"
  shutdown_command     = "poweroff"
}}
build {{
  sources = ["source.qemu.small"]
  provisioner "shell" {{
    inline = [
      "echo \"kiln-e2e {nonce} $(grep -o 'kiln.vm=[^ ]*' /proc/cmdline)\" | dd of=/dev/vda conv=notrunc 2>/dev/null",
      "sync",
    ]
  }}
  post-processor "containerdisk" {{
    image = "{image}"
  }}
}}
"#,
                sum = sha256_file(&iso),
            ),
        ),
    );
    wait_condition(ns, "imagetemplate", "vm", "Ready", "True", secs(60));
    apply(
        ns,
        &build(
            "vm-1",
            "vm",
            &[],
            "  runner:\n    registrySecrets:\n      - name: regcreds\n    volumes:\n      - name: guest-key\n        secret:\n          secretName: guest-key\n          defaultMode: 288\n      - name: output\n        persistentVolumeClaim:\n          claimName: vm-output\n    volumeMounts:\n      - name: guest-key\n        mountPath: /keys\n        readOnly: true\n      - name: output\n        mountPath: /output\n",
        ),
    );
    let b = wait_phase(
        ns,
        "imagebuild",
        "vm-1",
        &["Succeeded", "Failed"],
        build_timeout() + secs(120),
    );
    let logs = kubectl_try(&[
        "logs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=vm-1",
        "--tail=-1",
        "--all-containers",
    ]);
    assert_eq!(
        b["status"]["phase"], "Succeeded",
        "{}\n{}{}",
        b["status"], logs.stdout, logs.stderr
    );
    // Emulated (TCG), as the builder's artifact records it (the qemu command line itself is
    // a log line, as in Packer).
    let tcg = b["status"]["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|src| src["artifacts"].as_array().cloned().unwrap_or_default())
        .any(|a| a["state"]["domainType"] == "tcg");
    assert!(tcg, "{}", b["status"]);

    // What the runner pod was granted, and why: the qemu tools in the qemu runner image and
    // scratch space; no device, capability, root or writable root.
    let granted = b["status"]["runner"]["granted"].as_array().unwrap().clone();
    let kind_names: Vec<(String, String)> = granted
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap_or("").to_string(),
                g["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let kinds: Vec<&str> = kind_names.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        kind_names.contains(&("tool".into(), "qemu".into())),
        "{granted:?}"
    );
    assert!(kinds.contains(&"scratch"), "{granted:?}");
    let tool_image = kind_names
        .iter()
        .find(|(k, _)| k == "image")
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| panic!("no image grant (runner.toolImages.qemu unset?): {granted:?}"));
    assert!(tool_image.contains("kiln-qemu"), "{tool_image}");
    for k in [
        "device",
        "capability",
        "runAsRoot",
        "userNamespace",
        "writableRoot",
    ] {
        assert!(!kinds.contains(&k), "{k} granted: {granted:?}");
    }
    // The pod as created: the qemu runner image, restricted, nothing from the host.
    let job: Value = serde_json::from_str(&kubectl(&[
        "get",
        "jobs",
        "-n",
        ns,
        "-l",
        "kiln.dev/build=vm-1",
        "-o",
        "json",
    ]))
    .unwrap();
    let job_text = job.to_string();
    assert!(!job_text.contains("\"privileged\":true"), "{job_text}");
    assert!(!job_text.contains("hostPath"), "{job_text}");
    assert!(!job_text.contains("devices.kubevirt.io"), "{job_text}");
    let pod = &job["items"][0]["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["image"], tool_image.as_str(), "{c}");
    assert!(pod["initContainers"].is_null(), "{pod}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{pod}");
    assert_eq!(pod["securityContext"]["runAsUser"], 65532, "{pod}");
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true, "{sc}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{sc}");
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{sc}");
    assert_eq!(
        sc["capabilities"]["drop"],
        serde_json::json!(["ALL"]),
        "{sc}"
    );
    assert!(sc["capabilities"]["add"].is_null(), "{sc}");
    assert!(
        c["resources"]["requests"]["ephemeral-storage"].is_string(),
        "{c}"
    );

    // The disk on the claim, as the provisioner left it.
    let want = "kiln-e2e ".to_string() + &nonce + " kiln.vm=small.qcow2\n";
    let on_pv = volume.dir.path().join("small/small.qcow2");
    assert!(
        on_pv.is_file(),
        "no disk on the volume at {}",
        on_pv.display()
    );
    assert_eq!(disk_head(&on_pv, want.len()), want);

    // The containerDisk in the registry: its digest is in status; pulled from this host, its
    // one layer holds disk/small.qcow2 (107:107, 0440), the same bytes as on the claim.
    let src = &sources(&b)[0];
    let pushed = src["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["builderId"] == "kiln.post-processor.containerdisk")
        .unwrap_or_else(|| panic!("no containerdisk artifact in {src}"));
    let digest = pushed["state"]["digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"), "{pushed}");
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("image");
    let out = std::process::Command::new("skopeo")
        .args(["copy", "--quiet", "--src-tls-verify=false", "--src-creds"])
        .arg(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"))
        .arg(format!("docker://{REGISTRY}/e2e/small@{digest}"))
        .arg(format!("dir:{}", dir.display()))
        .output()
        .expect("skopeo (Debian package skopeo; scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "skopeo copy from {REGISTRY}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    let blob = dir.join(
        layers[0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let listing = std::process::Command::new("tar")
        .args(["-tvzf"])
        .arg(&blob)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(
        listing.lines().any(|l| l.starts_with("-r--r-----")
            && l.contains("107/107")
            && l.ends_with("disk/small.qcow2")),
        "{listing}"
    );
    let unpacked = d.path().join("layer");
    std::fs::create_dir_all(&unpacked).unwrap();
    let st = std::process::Command::new("tar")
        .args(["-xzf"])
        .arg(&blob)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(st.success());
    let pushed_disk = unpacked.join("disk/small.qcow2");
    assert_eq!(sha256_file(&pushed_disk), sha256_file(&on_pv));
    assert_eq!(disk_head(&pushed_disk, want.len()), want);

    let everything = everything_visible(ns);
    assert!(
        !everything.contains(REGISTRY_PASSWORD),
        "the registry password leaked:\n{everything}"
    );
}

/// A value of a random kind: what a hand-written or generated manifest gets wrong.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.next_u64() % 12 {
        0 => Value::Null,
        1 => Value::Bool(rng.next_u64().is_multiple_of(2)),
        2 => serde_json::json!(-((rng.next_u64() % 1000) as i64) - 1),
        3 => serde_json::json!(1e300),
        4 => serde_json::json!(3.5),
        5 => serde_json::json!(""),
        6 => serde_json::json!("x".repeat(70_000)),
        7 => serde_json::json!("ünïcødé ☃ \u{0}"),
        8 => serde_json::json!([1, "two", null]),
        9 => serde_json::json!({"unexpected": {"deeply": [true]}}),
        10 => serde_json::json!("999999999999999h"),
        _ => serde_json::json!(i64::MAX),
    }
}

/// Sets `path` (dot-separated) in `v` to `value`, making objects on the way.
fn set_path(v: &mut Value, path: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        if !cur[*p].is_object() {
            cur[*p] = serde_json::json!({});
        }
        cur = &mut cur[*p];
    }
    cur[parts[parts.len() - 1]] = value;
}

/// Whether an API server refusal names `path` (dot-separated), a field below it, or a rule
/// of its parent that mentions its last part.
fn names_the_field(msg: &str, path: &str) -> bool {
    if msg.contains(path) {
        return true;
    }
    match path.rsplit_once('.') {
        Some((parent, leaf)) => msg.contains(&format!("{parent}:")) && msg.contains(leaf),
        None => false,
    }
}

#[test]
fn a_refusal_names_the_mutated_field() {
    let m = |s: &str| s.to_string();
    assert!(names_the_field(
        &m(
            r#"The ImageBuild "m-1" is invalid: spec.runner.image: Invalid value: "null": must be a string"#
        ),
        "spec.runner.image"
    ));
    assert!(names_the_field(
        &m(r#"error: strict decoding error: unknown field "spec.variables.unexpected""#),
        "spec.variables"
    ));
    assert!(names_the_field(
        &m(
            "The ImageBuild \"m-3\" is invalid: spec: Invalid value: \"object\": exactly one of templateRef or template must be set"
        ),
        "spec.templateRef"
    ));
    assert!(!names_the_field(
        &m(r#"The ImageBuild "m-4" is invalid: spec.timeout: Invalid value"#),
        "spec.retries"
    ));
    assert!(!names_the_field(&m("metadata.name: Invalid value"), "spec"));
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn malformed_objects_are_refused_naming_the_field_or_reconciled_without_a_crash() {
    let ns = Namespace::new("fuzz");
    let ns = ns.as_str();
    apply(ns, &template("good", TWO_SOURCES));
    wait_condition(ns, "imagetemplate", "good", "Ready", "True", secs(60));
    let sys = system_namespace();
    let restarts = || -> i64 {
        list(
            &sys,
            "pods",
            &format!("app.kubernetes.io/instance={}", release()),
        )
        .iter()
        .flat_map(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum()
    };
    let restarts_before = restarts();
    let seed: u64 = std::env::var("KILN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let count: usize = std::env::var("KILN_FUZZ_OBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(90);
    let mut rng = Rng(seed);
    let build_paths = [
        "spec.templateRef",
        "spec.templateRef.name",
        "spec.template",
        "spec.variables",
        "spec.variables.greeting",
        "spec.secretVariables",
        "spec.only",
        "spec.except",
        "spec.parallelBuilds",
        "spec.onError",
        "spec.timeout",
        "spec.retries",
        "spec.cancel",
        "spec.revoked",
        "spec.runner",
        "spec.runner.image",
        "spec.runner.env",
        "spec.runner.resources",
        "spec.runner.registrySecrets",
        "spec.runner.securityContext",
        "spec",
        "metadata.labels",
    ];
    let template_paths = [
        "spec.files",
        "spec.variables",
        "spec.historyLimits",
        "spec.historyLimits.successful",
        "spec.historyLimits.ttlAfterSucceeded",
        "spec",
    ];
    let channel_paths = [
        "spec.templateRef",
        "spec.build",
        "spec.follow",
        "spec.follow.selector",
        "spec",
    ];
    let mut refused = 0;
    let mut accepted: Vec<(String, String)> = Vec::new();
    for i in 0..count {
        let name = format!("m-{i:03}");
        let (kind, mut obj, path) = match i % 3 {
            0 => (
                "ImageBuild",
                serde_json::json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild",
                    "metadata": {"name": name}, "spec": {"templateRef": {"name": "good"}}}),
                *rng.pick(&build_paths),
            ),
            1 => (
                "ImageTemplate",
                serde_json::json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageTemplate",
                    "metadata": {"name": name}, "spec": {"files": [
                        {"name": "main.pkr.hcl", "content": "source \"file\" \"a\" {\n  content = \"x\"\n  target = \"a.txt\"\n}\nbuild { sources = [\"source.file.a\"] }\n"}]}}),
                *rng.pick(&template_paths),
            ),
            _ => (
                "ImageChannel",
                serde_json::json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageChannel",
                    "metadata": {"name": name}, "spec": {"templateRef": {"name": "good"},
                    "follow": {"selector": {"matchLabels": {"kiln.dev/fuzz": "yes"}}}}}),
                *rng.pick(&channel_paths),
            ),
        };
        if i < 3 {
            // The unmutated objects are valid: a refusal below is the mutation's doing.
            let f = tempfile::NamedTempFile::new().unwrap();
            let mut base = obj.clone();
            base["metadata"]["name"] = Value::from(format!("base-{i}"));
            std::fs::write(f.path(), base.to_string()).unwrap();
            let r = kubectl_try(&["create", "-n", ns, "-f", f.path().to_str().unwrap()]);
            assert!(r.ok, "the unmutated {kind} is refused: {}", r.stderr);
        }
        set_path(&mut obj, path, odd_value(&mut rng));
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), obj.to_string()).unwrap();
        let r = kubectl_try(&["create", "-n", ns, "-f", f.path().to_str().unwrap()]);
        if r.ok {
            accepted.push((kind.to_lowercase(), name));
        } else {
            refused += 1;
            // The refusal names the field that is wrong (or one below it), or a rule of
            // its parent that names it (`spec: Invalid value: … templateRef …`).
            let msg = r.stderr;
            assert!(
                names_the_field(&msg, path),
                "{kind} with {path} = …: the refusal does not name {path}: {msg}"
            );
        }
    }
    // Whatever was accepted is reconciled: each says where it stands, none is left without
    // a status, and the operator never restarted.
    for (kind, name) in &accepted {
        wait_for(&format!("{kind}/{name} to get a status"), secs(90), || {
            let o = get(ns, kind, name)?;
            o["status"]["conditions"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
                .then_some(())
        });
    }
    assert_eq!(restarts(), restarts_before, "the operator restarted");
    eprintln!(
        "admission fuzz: {count} malformed objects (seed {seed}): {refused} refused naming the field, {} accepted and reconciled",
        accepted.len()
    );
}

#[path = "scenarios/hcp_registry.rs"]
mod hcp_registry;
