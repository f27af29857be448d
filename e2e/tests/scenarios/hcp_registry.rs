//! Issue 15 items 1, 2 and 5 in the cluster: HCP Packer's registry as Kiln's resources.
//! `hcp_packer_registry` labels each ImageBuild as a version of its bucket, channels follow
//! builds by label, a rerun with the same fingerprint resumes the version, the
//! `hcp-packer-*` data sources read the namespace's buckets (a revoked parent fails the
//! child), dedupe reuses an identical build's artifacts without a Job, and a template written
//! as HCP Packer's documentation shows it runs unchanged. File and null builders only.

use kiln_e2e::*;
use serde_json::{Value, json};

use super::build_timeout;

/// A bucket `base` (template `base`) with one file source; its builds are meant for the
/// `production` channel.
const BASE: &str = r#"hcp_packer_registry {
  bucket_name  = "base"
  description  = "the base image"
  bucket_labels = {
    "owner" = "platform"
  }
  build_labels = {
    "os"       = "debian"
    "built at" = "12:00 today"
  }
  channels = ["production"]
}
source "file" "root" {
  content = "base root"
  target  = "root.img"
}
build {
  sources = ["source.file.root"]
}
"#;

/// An ImageChannel of bucket `bucket` named HCP-wise `production`, following the builds
/// labelled for it.
fn following_channel(name: &str, tpl: &str, bucket: &str) -> String {
    format!(
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageChannel\nmetadata:\n  name: {name}\n  labels:\n    kiln.dev/bucket: {bucket}\n    kiln.dev/channel: production\nspec:\n  templateRef:\n    name: {tpl}\n  follow:\n    selector:\n      matchLabels:\n        channel.kiln.dev/production: \"true\"\n"
    )
}

fn succeeded(ns: &str, name: &str) -> Value {
    let b = wait_phase(
        ns,
        "imagebuild",
        name,
        &["Succeeded", "Failed", "Cancelled"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Succeeded", "{name}: {}", b["status"]);
    b
}

fn failed(ns: &str, name: &str) -> Value {
    let b = wait_phase(
        ns,
        "imagebuild",
        name,
        &["Succeeded", "Failed", "Cancelled"],
        build_timeout(),
    );
    assert_eq!(b["status"]["phase"], "Failed", "{name}: {}", b["status"]);
    b
}

fn source<'a>(b: &'a Value, name: &str) -> &'a Value {
    b["status"]["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no source {name} in {}", b["status"]))
}

fn channel_at(ns: &str, channel: &str, build: &str) -> Value {
    wait_for(
        &format!("ImageChannel {channel} to point at {build}"),
        secs(60),
        || {
            let c = get(ns, "imagechannel", channel)?;
            (c["status"]["currentBuild"] == build && is_true(&c, "Ready")).then_some(c)
        },
    )
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn hcp_registry_labels_versions_and_channels_follow_them_by_label() {
    let ns = Namespace::new("hcp-labels");
    let ns = ns.as_str();
    apply(ns, &template("base", BASE));
    let t = wait_condition(ns, "imagetemplate", "base", "Ready", "True", secs(60));
    assert_eq!(
        t["status"]["bucket"],
        json!({"name": "base", "description": "the base image",
               "labels": {"owner": "platform"}, "channels": ["production"]}),
        "{}",
        t["status"]
    );
    apply(ns, &following_channel("base-production", "base", "base"));
    apply(ns, &build("base-1", "base", &[], ""));
    let b = succeeded(ns, "base-1");
    let labels = &b["metadata"]["labels"];
    assert_eq!(labels["kiln.dev/bucket"], "base", "{labels}");
    assert_eq!(labels["kiln.dev/fingerprint"], "base-1", "{labels}");
    assert_eq!(labels["channel.kiln.dev/production"], "true", "{labels}");
    assert_eq!(
        labels["os"], "debian",
        "a valid build label is a label: {labels}"
    );
    assert!(labels.get("built at").is_none());
    let all: Value = serde_json::from_str(
        b["metadata"]["annotations"]["kiln.dev/build-labels"]
            .as_str()
            .unwrap_or("{}"),
    )
    .unwrap();
    assert_eq!(all, json!({"os": "debian", "built at": "12:00 today"}));
    assert_eq!(
        b["status"]["registry"],
        json!({"bucket": "base", "fingerprint": "base-1", "channels": ["production"]})
    );
    // The labels are the registry's own field manager's; the spec is untouched (kubectl
    // shows managed fields only when asked).
    let b: Value = serde_json::from_str(&kubectl(&[
        "get",
        "-n",
        ns,
        "imagebuild",
        "base-1",
        "-o",
        "json",
        "--show-managed-fields",
    ]))
    .unwrap();
    let managers: Vec<&str> = b["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kiln-registry"), "{managers:?}");
    let registry_fields = b["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manager"] == "kiln-registry")
        .unwrap()["fieldsV1"]
        .clone();
    assert!(registry_fields.get("f:spec").is_none(), "{registry_fields}");
    channel_at(ns, "base-production", "base-1");

    // A new version: the channel moves by itself, nobody edits it.
    apply(ns, &build("base-2", "base", &[], ""));
    succeeded(ns, "base-2");
    let c = channel_at(ns, "base-production", "base-2");
    assert_eq!(c["status"]["history"][0]["reason"], "Followed");
    let spec = &c["spec"];
    assert!(
        spec.get("build").is_none(),
        "the channel's spec is never written: {spec}"
    );
}

/// Two sources; `file.b`'s provisioner fails while `var.fail` is true.
const TWO: &str = r#"variable "fail" {
  type    = bool
  default = false
}
hcp_packer_registry {
  bucket_name = "two"
}
source "file" "a" {
  content = "a"
  target  = "a.txt"
}
source "file" "b" {
  content = "b"
  target  = "b.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  provisioner "shell-local" {
    inline = ["test '${source.name}' != b || test '${var.fail}' = false"]
  }
}
"#;

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn hcp_registry_rerun_with_the_fingerprint_runs_only_the_missing_source() {
    let ns = Namespace::new("hcp-resume");
    let ns = ns.as_str();
    apply(ns, &template("two", TWO));
    wait_condition(ns, "imagetemplate", "two", "Ready", "True", secs(60));
    // First try: the fingerprint from HCP_PACKER_BUILD_FINGERPRINT; file.b fails.
    apply(
        ns,
        &build(
            "v1-try1",
            "two",
            &[],
            "  variables:\n    fail: true\n  runner:\n    env:\n      - name: HCP_PACKER_BUILD_FINGERPRINT\n        value: v1\n",
        ),
    );
    let b = failed(ns, "v1-try1");
    assert_eq!(
        source(&b, "file.a")["phase"],
        "Succeeded",
        "{}",
        b["status"]
    );
    assert_eq!(source(&b, "file.b")["phase"], "Failed", "{}", b["status"]);
    assert_eq!(b["metadata"]["labels"]["kiln.dev/fingerprint"], "v1");

    // The rerun (the fingerprint as a label this time): only file.b runs.
    apply(
        ns,
        &build("v1-try2", "two", &[("kiln.dev/fingerprint", "v1")], ""),
    );
    let b = succeeded(ns, "v1-try2");
    let a = source(&b, "file.a");
    assert_eq!(a["carriedFrom"], "v1-try1", "{}", b["status"]);
    assert!(
        a["artifacts"].as_array().is_some_and(|x| !x.is_empty()),
        "{a}"
    );
    assert!(source(&b, "file.b")["carriedFrom"].is_null());
    assert_eq!(b["status"]["registry"]["resumedFrom"], "v1-try1");
    assert_eq!(b["status"]["sourcesSummary"], "2/2");
    let job = get(ns, "job", "kiln-v1-try2").expect("the rerun's Job");
    assert_eq!(job["spec"]["completions"], 1, "one source left to build");

    // The version is complete now: a third run with the fingerprint is refused.
    apply(
        ns,
        &build("v1-try3", "two", &[("kiln.dev/fingerprint", "v1")], ""),
    );
    let b = failed(ns, "v1-try3");
    let ready = condition(&b, "Ready").cloned().unwrap_or_default();
    assert!(
        ready["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is already complete"),
        "{ready}"
    );
    assert!(list(ns, "jobs", "kiln.dev/build=v1-try3").is_empty());
}

/// A child reading bucket `base` as HCP Packer's documentation shows, and checking inside
/// its runner what the data sources gave.
const CHILD: &str = r#"data "hcp-packer-version" "base" {
  bucket_name  = "base"
  channel_name = "production"
}
data "hcp-packer-artifact" "base" {
  bucket_name         = "base"
  version_fingerprint = data.hcp-packer-version.base.fingerprint
  platform            = "file"
  region              = "file"
}
source "null" "app" {
  communicator = "none"
}
build {
  sources = ["source.null.app"]
  provisioner "shell-local" {
    inline = [
      "test '${data.hcp-packer-version.base.name}' = base-1",
      "test '${data.hcp-packer-version.base.fingerprint}' = base-1",
      "test '${data.hcp-packer-version.base.status}' = VERSION_ACTIVE",
      "test '${data.hcp-packer-artifact.base.component_type}' = file.root",
      "test '${data.hcp-packer-artifact.base.platform}' = file",
      "test -n '${data.hcp-packer-artifact.base.external_identifier}'",
      "test '${data.hcp-packer-artifact.base.labels["os"]}' = debian",
    ]
  }
}
"#;

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn hcp_artifact_reads_a_parent_bucket_channel_and_a_revoked_parent_fails_the_child() {
    let ns = Namespace::new("hcp-parent");
    let ns = ns.as_str();
    apply(ns, &template("base", BASE));
    apply(ns, &template("app", CHILD));
    wait_condition(ns, "imagetemplate", "base", "Ready", "True", secs(60));
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    apply(ns, &build("base-1", "base", &[], ""));
    succeeded(ns, "base-1");
    // A pinned channel, named HCP-wise by its labels.
    apply(
        ns,
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageChannel\nmetadata:\n  name: base-prod\n  labels:\n    kiln.dev/bucket: base\n    kiln.dev/channel: production\nspec:\n  templateRef:\n    name: base\n  build: base-1\n",
    );
    channel_at(ns, "base-prod", "base-1");

    apply(ns, &build("app-1", "app", &[], ""));
    let b = succeeded(ns, "app-1");
    assert_eq!(
        b["status"]["parent"],
        json!({"build": "base-1", "channel": "base-prod", "via": "hcp-packer-version"}),
        "{}",
        b["status"]
    );

    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "base-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":{"reason":"CVE-2099-0015"}}}"#,
    ]);
    wait_condition(ns, "imagechannel", "base-prod", "Stalled", "True", secs(60));
    apply(ns, &build("app-2", "app", &[], ""));
    let b = failed(ns, "app-2");
    let ready = condition(&b, "Ready").cloned().unwrap_or_default();
    assert_eq!(ready["reason"], "RegistryLookupFailed", "{}", b["status"]);
    assert_eq!(
        ready["message"],
        "data.hcp-packer-version.base: the HCP Packer Version associated with the channel \
         production is revoked and can not be used on Packer builds",
    );
    assert!(
        list(ns, "jobs", "kiln.dev/build=app-2").is_empty(),
        "no Job for a build whose parent is revoked"
    );
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn dedupe_reuses_an_identical_builds_artifacts_without_a_job() {
    let ns = Namespace::new("hcp-dedupe");
    let ns = ns.as_str();
    let tpl = template(
        "d",
        "variable \"v\" {\n  type    = string\n  default = \"one\"\n}\nsource \"file\" \"out\" {\n  content = \"${var.v}\"\n  target  = \"out.txt\"\n}\nbuild {\n  sources = [\"source.file.out\"]\n}\n",
    ) + "  dedupe: true\n";
    apply(ns, &tpl);
    wait_condition(ns, "imagetemplate", "d", "Ready", "True", secs(60));
    apply(ns, &build("d-1", "d", &[], ""));
    let first = succeeded(ns, "d-1");
    let digest = first["status"]["inputsDigest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(digest.starts_with("sha256:"), "{}", first["status"]);

    apply(ns, &build("d-2", "d", &[], ""));
    let b = succeeded(ns, "d-2");
    assert_eq!(b["status"]["reusedFrom"], "d-1", "{}", b["status"]);
    assert_eq!(b["status"]["inputsDigest"], digest.as_str());
    assert_eq!(condition(&b, "Ready").unwrap()["reason"], "Reused");
    let out = source(&b, "file.out");
    assert_eq!(out["carriedFrom"], "d-1");
    assert_eq!(
        out["artifacts"],
        source(&first, "file.out")["artifacts"],
        "the same artifacts"
    );
    assert!(b["status"]["jobName"].is_null(), "{}", b["status"]);
    assert!(list(ns, "jobs", "kiln.dev/build=d-2").is_empty(), "no Job");

    // Other inputs, or dedupe turned off on the build: it runs.
    apply(ns, &build("d-3", "d", &[], "  variables:\n    v: two\n"));
    let b = succeeded(ns, "d-3");
    assert!(b["status"]["reusedFrom"].is_null(), "{}", b["status"]);
    assert_ne!(b["status"]["inputsDigest"], digest.as_str());
    apply(ns, &build("d-4", "d", &[], "  dedupe: false\n"));
    let b = succeeded(ns, "d-4");
    assert!(b["status"]["reusedFrom"].is_null(), "{}", b["status"]);
    assert!(get(ns, "job", "kiln-d-4").is_some());
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn a_template_written_as_hcp_packers_docs_show_runs_unchanged() {
    let ns = Namespace::new("hcp-docs");
    let ns = ns.as_str();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/samples/hcp");
    // Everything at once, as a GitOps tool applies it: the child waits for the parent's
    // channel to get its first version.
    kubectl(&["apply", "-n", ns, "-k", dir]);
    succeeded(ns, "base-1");
    channel_at(ns, "base-production", "base-1");
    let b = succeeded(ns, "app-1");
    assert_eq!(b["status"]["parent"]["build"], "base-1", "{}", b["status"]);
    assert_eq!(b["metadata"]["labels"]["kiln.dev/bucket"], "app");
    let all: Value = serde_json::from_str(
        b["metadata"]["annotations"]["kiln.dev/build-labels"]
            .as_str()
            .unwrap_or("{}"),
    )
    .unwrap();
    assert!(all["build-time"].is_string(), "{all}");
    channel_at(ns, "app-production", "app-1");
    let t = get(ns, "imagetemplate", "app").unwrap();
    assert_eq!(t["status"]["bucket"]["labels"]["owner"], "app-team");
}
