//! Issue 15, items 3, 4, 6 and 7 in the cluster: ancestry kept up to date and rebuilds on
//! parent change, provenance attached beside a pushed image as an OCI referrer, channels
//! that require signed provenance, and the API server refusing Pods that run a revoked
//! image.

use std::process::Command;

use kiln_e2e::*;
use serde_json::{Value, json};

use super::{
    REGISTRY, REGISTRY_PASSWORD, REGISTRY_USER, build_timeout, channel, push_busybox_base, sources,
    start_registry,
};

/// An ImageTemplate with several files and extra spec fields, as JSON.
fn template_files(name: &str, files: &[(&str, &str)], extra: Value) -> String {
    let mut spec = json!({
        "files": files
            .iter()
            .map(|(n, c)| json!({"name": n, "content": c}))
            .collect::<Vec<_>>(),
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageTemplate",
        "metadata": {"name": name},
        "spec": spec,
    })
    .to_string()
}

/// A private key from `openssl genpkey` and its public half (PEM).
fn keypair(args: &[&str]) -> (String, String) {
    let d = tempfile::tempdir().unwrap();
    let key = d.path().join("key.pem");
    let st = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .arg("-out")
        .arg(&key)
        .status()
        .expect("openssl (Debian package openssl)");
    assert!(st.success(), "openssl genpkey failed");
    let out = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    (
        std::fs::read_to_string(&key).unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn sha256(bytes: &[u8]) -> String {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("x");
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&f).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

fn succeeded(ns: &str, name: &str) -> Value {
    let b = wait_phase(
        ns,
        "imagebuild",
        name,
        &["Succeeded", "Failed"],
        build_timeout(),
    );
    if b["status"]["phase"] != "Succeeded" {
        let logs = kubectl_try(&[
            "logs",
            "-n",
            ns,
            "-l",
            &format!("kiln.dev/build={name}"),
            "--tail=-1",
            "--all-containers",
        ]);
        panic!(
            "ImageBuild {name}: {}\n{}{}",
            b["status"], logs.stdout, logs.stderr
        );
    }
    b
}

const BASE: &str = "source \"file\" \"root\" {\n  content = \"base image\"\n  target  = \"root.img\"\n}\nbuild {\n  sources = [\"source.file.root\"]\n}\n";

const CHILD: &str = r#"data "kiln-channel" "base" {
  channel = "base-prod"
}
source "file" "app" {
  content = "app on ${data.kiln-channel.base.build}"
  target  = "app.img"
}
build {
  sources = ["source.file.app"]
}
"#;

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn child_is_marked_out_of_date_when_its_parent_channel_moves_and_rebuilt_exactly_once() {
    let ns = Namespace::new("rebuild");
    let ns = ns.as_str();
    apply(ns, &template("base", BASE));
    apply(
        ns,
        &template_files(
            "app",
            &[("main.pkr.hcl", CHILD)],
            json!({"rebuildOnParentChange": {"enabled": true, "minInterval": "1s"}}),
        ),
    );
    wait_condition(ns, "imagetemplate", "base", "Ready", "True", secs(60));
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    apply(ns, &build("base-1", "base", &[], ""));
    succeeded(ns, "base-1");
    apply(ns, &channel("base-prod", "base", "  build: base-1\n"));
    wait_condition(ns, "imagechannel", "base-prod", "Ready", "True", secs(60));

    apply(ns, &build("app-1", "app", &[("track", "stable")], ""));
    succeeded(ns, "app-1");
    // Up to date while the channel points at its parent.
    let b = wait_condition(ns, "imagebuild", "app-1", "ParentCurrent", "True", secs(60));
    assert_eq!(b["status"]["parent"]["build"], "base-1", "{}", b["status"]);
    assert_eq!(
        condition(&b, "ParentCurrent").unwrap()["reason"],
        "ParentUpToDate"
    );

    // The base moves on: the child is out of date …
    apply(ns, &build("base-2", "base", &[], ""));
    succeeded(ns, "base-2");
    apply(ns, &channel("base-prod", "base", "  build: base-2\n"));
    let b = wait_condition(
        ns,
        "imagebuild",
        "app-1",
        "ParentCurrent",
        "False",
        secs(60),
    );
    let c = condition(&b, "ParentCurrent").unwrap();
    assert_eq!(c["reason"], "ParentMoved", "{c}");
    assert!(c["message"].as_str().unwrap().contains("\"base-2\""), "{c}");

    // … and rebuilt once, from the new parent, with the reason and the old build's labels.
    let rebuilt = wait_for("the rebuild of app", secs(60), || {
        list(ns, "imagebuild", "kiln.dev/rebuild-parent=base-2")
            .into_iter()
            .next()
    });
    let name = rebuilt["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(
        rebuilt["metadata"]["annotations"]["kiln.dev/rebuild-reason"],
        "ImageChannel base-prod moved from ImageBuild base-1 to base-2"
    );
    assert_eq!(rebuilt["metadata"]["labels"]["track"], "stable");
    assert_eq!(rebuilt["spec"]["templateRef"]["name"], "app");
    let b = succeeded(ns, &name);
    assert_eq!(b["status"]["parent"]["build"], "base-2", "{}", b["status"]);
    // The reason is in the rebuild's status too.
    assert_eq!(
        b["status"]["rebuildReason"],
        "ImageChannel base-prod moved from ImageBuild base-1 to base-2"
    );
    wait_condition(ns, "imagebuild", &name, "ParentCurrent", "True", secs(60));
    let events = kubectl(&[
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        "involvedObject.name=app",
        "-o",
        "json",
    ]);
    assert!(
        events.contains(&format!("created ImageBuild {name}")),
        "{events}"
    );

    // Exactly once: nothing more comes for the same move.
    std::thread::sleep(secs(10));
    let apps: Vec<String> = list(ns, "imagebuild", "")
        .iter()
        .filter(|b| b["spec"]["templateRef"]["name"] == "app")
        .map(|b| b["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(apps.len(), 2, "{apps:?}");
}

const SIGNED: &str = r#"variable "mode" {
  type    = string
  default = "key"
}
variable "key" {
  type    = string
  default = "good.pem"
}
source "file" "disk" {
  content = "a disk image"
  target  = "disk.img"
}
build {
  sources = ["source.file.disk"]
  post-processor "provenance" {
    signing_mode = var.mode
    key          = "${path.root}/${var.key}"
    output_dir   = path.root
  }
}
"#;

fn guarded_channel(target: &str, public: &str) -> String {
    json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageChannel",
        "metadata": {"name": "prod"},
        "spec": {
            "templateRef": {"name": "disk"},
            "build": target,
            "requireProvenance": {"publicKeys": [public]},
        },
    })
    .to_string()
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn channel_requiring_provenance_refuses_unsigned_and_wrongly_signed_builds_and_moves_for_a_good_one()
 {
    let ns = Namespace::new("attest");
    let ns = ns.as_str();
    let (good, good_pub) = keypair(&["-algorithm", "ed25519"]);
    let (other, _) = keypair(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    apply(
        ns,
        &template_files(
            "disk",
            &[
                ("main.pkr.hcl", SIGNED),
                ("good.pem", &good),
                ("other.pem", &other),
            ],
            json!({}),
        ),
    );
    wait_condition(ns, "imagetemplate", "disk", "Ready", "True", secs(60));
    apply(
        ns,
        &build("unsigned", "disk", &[], "  variables:\n    mode: none\n"),
    );
    apply(
        ns,
        &build("wrong", "disk", &[], "  variables:\n    key: other.pem\n"),
    );
    apply(ns, &build("good", "disk", &[], ""));
    for b in ["unsigned", "wrong", "good"] {
        let st = succeeded(ns, b);
        let prov = sources(&st)[0]["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|a| a["provenance"].as_object().cloned())
            .unwrap_or_else(|| panic!("{b}: no provenance in {}", st["status"]));
        assert_eq!(prov["signed"], b != "unsigned", "{b}: {prov:?}");
        let text = prov["attestation"].as_str().unwrap();
        assert_eq!(sha256(text.as_bytes()), prov["digest"], "{b}");
    }

    let stalled = |why: &str| {
        let c = wait_for(&format!("the channel to refuse: {why}"), secs(60), || {
            let c = get(ns, "imagechannel", "prod")?;
            let s = condition(&c, "Stalled")?;
            (s["status"] == "True" && s["message"].as_str()?.contains(why)).then_some(c)
        });
        let s = condition(&c, "Stalled").unwrap().clone();
        assert_eq!(s["reason"], "ProvenanceInvalid", "{s}");
        assert!(!is_true(&c, "Ready"), "{}", c["status"]);
        c
    };
    apply(ns, &guarded_channel("unsigned", &good_pub));
    let c = stalled("is not signed");
    assert!(c["status"]["currentBuild"].is_null(), "{}", c["status"]);
    apply(ns, &guarded_channel("wrong", &good_pub));
    stalled("not signed by any of spec.requireProvenance.publicKeys");

    apply(ns, &guarded_channel("good", &good_pub));
    let c = wait_condition(ns, "imagechannel", "prod", "Ready", "True", secs(60));
    assert_eq!(c["status"]["currentBuild"], "good", "{}", c["status"]);

    // A wrongly signed build later: refused, and the channel stays on the good one.
    apply(ns, &guarded_channel("wrong", &good_pub));
    let c = stalled("not signed by any of");
    assert_eq!(c["status"]["currentBuild"], "good", "{}", c["status"]);
}

/// `skopeo inspect --raw` of a reference in the test registry.
fn raw(reference: &str) -> Value {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--creds"])
        .arg(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo (Debian package skopeo)");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A Pod running `image`, created with a server-side dry run (admission runs, nothing
/// starts).
fn pod_dry_run(ns: &str, image: &str) -> Run {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "uses-image"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    });
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("pod.json");
    std::fs::write(&f, pod.to_string()).unwrap();
    kubectl_try(&[
        "apply",
        "-n",
        ns,
        "--dry-run=server",
        "-f",
        f.to_str().unwrap(),
    ])
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn docker_build_with_provenance_stores_a_referrer_and_its_revoked_image_cannot_run() {
    let ns = Namespace::new("referrer");
    let ns = ns.as_str();
    let _registry = start_registry(ns);
    let base = format!("{REGISTRY}/e2e/base:1");
    push_busybox_base(&base);
    let (key, _) = keypair(&["-algorithm", "ed25519"]);
    let hcl = format!(
        r#"source "docker" "app" {{
  image  = "{base}"
  commit = true
}}
build {{
  sources = ["source.docker.app"]
  provisioner "shell" {{
    inline = [
      "echo attested > /attested.txt",
      "echo '{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\"}}' > /bom.json",
    ]
  }}
  provisioner "hcp-sbom" {{
    source    = "/bom.json"
    sbom_name = "app"
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{REGISTRY}/e2e/attested"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
    post-processor "provenance" {{
      signing_mode = "key"
      key          = "${{path.root}}/signing.pem"
      output_dir   = path.root
    }}
  }}
}}
"#
    );
    apply(
        ns,
        &template_files(
            "attested",
            &[("main.pkr.hcl", &hcl), ("signing.pem", &key)],
            json!({}),
        ),
    );
    wait_condition(ns, "imagetemplate", "attested", "Ready", "True", secs(60));
    apply(
        ns,
        &build(
            "app-1",
            "attested",
            &[],
            "  runner:\n    registrySecrets:\n      - name: regcreds\n",
        ),
    );
    let b = succeeded(ns, "app-1");
    let arts = sources(&b)[0]["artifacts"].as_array().unwrap().clone();
    let digest = arts
        .iter()
        .find(|a| a["builderId"] == "packer.post-processor.docker-push")
        .and_then(|a| a["state"]["digest"].as_str())
        .unwrap_or_else(|| panic!("no pushed digest in {arts:?}"))
        .to_string();
    let prov = arts
        .iter()
        .find_map(|a| a["provenance"].as_object().cloned())
        .unwrap_or_else(|| panic!("no provenance in {arts:?}"));
    // The status records where the attestation is: a referrer of the image, under the
    // referrers tag (Debian's docker-registry has no referrers API).
    assert_eq!(prov["signed"], true, "{prov:?}");
    assert_eq!(prov["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert!(
        prov["keyId"].as_str().is_some_and(|k| k.len() == 64),
        "{prov:?}"
    );
    assert_eq!(
        prov["subject"],
        format!("{REGISTRY}/e2e/attested@{digest}"),
        "{prov:?}"
    );
    let tag = digest.replacen(':', "-", 1);
    assert_eq!(prov["referrersTag"], tag.as_str(), "{prov:?}");
    let referrer = prov["referrer"].as_str().unwrap().to_string();

    // From the host, with skopeo: the tag lists the referrer, the referrer's subject is
    // the image, and its layer is the attestation recorded in status.
    let index = raw(&format!("{REGISTRY}/e2e/attested:{tag}"));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] == referrer.as_str())
        .unwrap_or_else(|| panic!("{referrer} not in {index}"))
        .clone();
    assert_eq!(entry["artifactType"], "application/vnd.in-toto+json");
    let m = raw(&format!("{REGISTRY}/e2e/attested@{referrer}"));
    assert_eq!(m["subject"]["digest"], digest.as_str(), "{m}");
    assert_eq!(m["artifactType"], "application/vnd.in-toto+json");
    assert_eq!(m["layers"][0]["digest"], prov["digest"], "{m}");
    let blob = Command::new("curl")
        .args(["-sf", "-u"])
        .arg(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"))
        .arg(format!(
            "http://{REGISTRY}/v2/e2e/attested/blobs/{}",
            prov["digest"].as_str().unwrap()
        ))
        .output()
        .unwrap();
    assert!(blob.status.success(), "curl of the attestation blob failed");
    assert_eq!(sha256(&blob.stdout), prov["digest"]);
    assert_eq!(
        String::from_utf8_lossy(&blob.stdout),
        prov["attestation"].as_str().unwrap()
    );

    // The SBOM the build fetched is stored beside the image too, under the same tag.
    let sbom = &sources(&b)[0]["sboms"][0];
    assert_eq!(sbom["name"], "app", "{sbom}");
    assert_eq!(sbom["format"], "CYCLONEDX", "{sbom}");
    assert_eq!(
        sbom["referrers"][0]["subject"],
        format!("{REGISTRY}/e2e/attested@{digest}"),
        "{sbom}"
    );
    assert_eq!(sbom["referrers"][0]["referrersTag"], tag.as_str(), "{sbom}");
    let sbom_referrer = sbom["referrers"][0]["referrer"].as_str().unwrap();
    let index = raw(&format!("{REGISTRY}/e2e/attested:{tag}"));
    assert!(
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == sbom_referrer
                && m["artifactType"] == "application/vnd.cyclonedx+json"),
        "{sbom_referrer} not in {index}"
    );
    let m = raw(&format!("{REGISTRY}/e2e/attested@{sbom_referrer}"));
    assert_eq!(m["subject"]["digest"], digest.as_str(), "{m}");
    assert_eq!(m["layers"][0]["digest"], sbom["digest"], "{m}");
    assert_eq!(m["annotations"]["dev.kiln.sbom.name"], "app", "{m}");

    // Admission: the image may run while the build is good …
    let image = format!("{REGISTRY}/e2e/attested@{digest}");
    let r = pod_dry_run(ns, &image);
    assert!(
        r.ok,
        "a Pod of an unrevoked image was refused: {}",
        r.stderr
    );
    // … and is refused by the API server, citing the policy, once revoked.
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "app-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":{"reason":"CVE-2099-0007 in attested"}}}"#,
    ]);
    let refused = wait_for(
        "the API server to refuse the revoked image",
        secs(60),
        || {
            let r = pod_dry_run(ns, &image);
            (!r.ok).then_some(r.stderr)
        },
    );
    assert!(refused.contains("revoked-images"), "{refused}");
    assert!(refused.contains("ValidatingAdmissionPolicy"), "{refused}");
    assert!(
        refused.contains(&format!("image {image} is a revoked Kiln artifact")),
        "{refused}"
    );
    assert!(
        refused.contains(&format!("{ns}/app-1: CVE-2099-0007 in attested")),
        "{refused}"
    );
    // Unrevoked: allowed again.
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "app-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":null}}"#,
    ]);
    wait_for("the API server to allow the image again", secs(60), || {
        pod_dry_run(ns, &image).ok.then_some(())
    });
}

#[test]
#[ignore = "needs a cluster with Kiln installed: run scripts/e2e.sh"]
fn docker_child_of_a_kiln_built_image_records_it_as_parent_and_inherits_its_revocation() {
    let ns = Namespace::new("srcimage");
    let ns = ns.as_str();
    let _registry = start_registry(ns);
    let busybox = format!("{REGISTRY}/e2e/busybox:1");
    push_busybox_base(&busybox);
    let image = |name: &str, from: &str, repo: &str| {
        template(
            name,
            &format!(
                r#"source "docker" "img" {{
  image  = "{from}"
  commit = true
}}
build {{
  sources = ["source.docker.img"]
  provisioner "shell" {{
    inline = ["echo {name} >> /layers.txt"]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{REGISTRY}/e2e/{repo}"
      tags       = ["1"]
    }}
    post-processor "docker-push" {{}}
  }}
}}
"#
            ),
        )
    };
    let creds = "  runner:\n    registrySecrets:\n      - name: regcreds\n";
    // The base image, built by Kiln and served by a channel.
    apply(ns, &image("base", &busybox, "kbase"));
    wait_condition(ns, "imagetemplate", "base", "Ready", "True", secs(60));
    apply(ns, &build("base-1", "base", &[], creds));
    let b = succeeded(ns, "base-1");
    let pushed = sources(&b)[0]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["builderId"] == "packer.post-processor.docker-push")
        .and_then(|a| a["state"]["digest"].as_str())
        .unwrap()
        .to_string();
    apply(ns, &channel("base-prod", "base", "  build: base-1\n"));
    wait_condition(ns, "imagechannel", "base-prod", "Ready", "True", secs(60));

    // A child FROM that image by tag: its runner reports the digest it pulled, and the
    // controller finds the build that pushed it.
    apply(
        ns,
        &image("app", &format!("{REGISTRY}/e2e/kbase:1"), "kapp"),
    );
    wait_condition(ns, "imagetemplate", "app", "Ready", "True", secs(60));
    apply(ns, &build("app-1", "app", &[], creds));
    succeeded(ns, "app-1");
    let b = wait_for("the child's parent", secs(60), || {
        let b = get(ns, "imagebuild", "app-1")?;
        b["status"]["parent"].is_object().then_some(b)
    });
    let st = &b["status"];
    let input = &sources(&b)[0]["inputs"][0];
    assert_eq!(input["kind"], "source-image", "{st}");
    assert_eq!(input["digest"], pushed.as_str(), "{st}");
    assert_eq!(
        st["parent"],
        json!({"build": "base-1", "channel": "base-prod", "via": "source-image", "digest": pushed}),
        "{st}"
    );
    wait_condition(ns, "imagebuild", "app-1", "ParentCurrent", "True", secs(60));

    // Revoking the base revokes the child.
    kubectl(&[
        "patch",
        "-n",
        ns,
        "imagebuild",
        "base-1",
        "--type=merge",
        "-p",
        r#"{"spec":{"revoked":{"reason":"CVE-2099-0009 in kbase"}}}"#,
    ]);
    let b = wait_for("the child to inherit the revocation", secs(60), || {
        let b = get(ns, "imagebuild", "app-1")?;
        b["status"]["revoked"].is_object().then_some(b)
    });
    assert_eq!(b["status"]["revoked"]["inheritedFrom"], "base-1");
}
