//! HCP Packer's data sources (`hcp-packer-version`, `hcp-packer-artifact` and the deprecated
//! `hcp-packer-iteration` / `hcp-packer-image`) against Kiln's registry, read from
//! `kubectl get imagechannel,imagebuild -o json` output. The objects are made from the CRD
//! types (`kiln-crds`) and serialized as the API server lists them, so the fixtures follow
//! the types.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::{
    Artifact, ArtifactFile, BuildPhase, ConditionStatus, ImageBuild, ImageBuildSpec,
    ImageBuildStatus, ImageChannel, ImageChannelSpec, ImageChannelStatus, ManifestEntry,
    Revocation, RevocationStatus, SourceArtifacts, SourceStatus, TemplateRef, set_condition,
};
use kiln_engine::datasources::hcp_packer::{Registry, from_args};
use kiln_engine::value::Value;

fn time(s: &str) -> Time {
    Time(s.parse().unwrap())
}

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn artifact(builder: &str, id: &str, state: &[(&str, &str)]) -> Artifact {
    Artifact {
        builder_id: builder.into(),
        id: id.into(),
        files: vec![ArtifactFile {
            name: format!("{id}.img"),
            size: Some(3),
        }],
        state: state
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Artifact::default()
    }
}

/// A successful build of template `ubuntu` with a qemu and a docker source.
fn build(name: &str, revoked: Option<&str>) -> ImageBuild {
    let mut b = ImageBuild::new(
        name,
        ImageBuildSpec {
            template_ref: Some(TemplateRef {
                name: "ubuntu".into(),
            }),
            revoked: revoked.map(|r| Revocation { reason: r.into() }),
            ..ImageBuildSpec::default()
        },
    );
    b.metadata.namespace = Some("images".into());
    b.metadata.uid = Some(format!("uid-{name}"));
    b.metadata.creation_timestamp = Some(time("2026-01-02T03:00:00Z"));
    b.metadata.labels = labels(&[
        ("kiln.dev/bucket", "ubuntu"),
        ("kiln.dev/fingerprint", &format!("fp-{name}")),
        ("team", "base"),
    ]);
    let source = |n: &str, arts: Vec<Artifact>| SourceStatus {
        name: n.into(),
        phase: Some(BuildPhase::Succeeded),
        finished_at: Some(time("2026-01-02T03:30:00Z")),
        artifacts: arts,
        manifest_entry: Some(ManifestEntry {
            name: n.into(),
            builder_type: n.split('.').next().unwrap().into(),
            build_time: 1,
            artifact_id: "x".into(),
            packer_run_uuid: "run-1".into(),
            ..ManifestEntry::default()
        }),
        ..SourceStatus::default()
    };
    b.status = Some(ImageBuildStatus {
        phase: Some(BuildPhase::Succeeded),
        completion_time: Some(time("2026-01-02T03:31:00Z")),
        sources: vec![
            source(
                "qemu.ubuntu",
                vec![
                    artifact("transcend.qemu", "disk", &[]),
                    artifact("packer.post-processor.compress", "disk.gz", &[]),
                ],
            ),
            source(
                "docker.ubuntu",
                vec![artifact(
                    "packer.docker",
                    "sha256:abc",
                    &[("platform", "docker"), ("region", "docker")],
                )],
            ),
        ],
        revoked: revoked.map(|r| RevocationStatus {
            reason: r.into(),
            ..RevocationStatus::default()
        }),
        ..ImageBuildStatus::default()
    });
    b
}

fn channel(name: &str, hcp_name: Option<&str>, target: &ImageBuild) -> ImageChannel {
    let tname = target.metadata.name.clone().unwrap();
    let mut c = ImageChannel::new(name, ImageChannelSpec::pinned("ubuntu", &tname));
    c.metadata.namespace = Some("images".into());
    c.metadata.uid = Some(format!("uid-ch-{name}"));
    if let Some(h) = hcp_name {
        c.metadata.labels = labels(&[("kiln.dev/channel", h)]);
    }
    let revoked = target.status.as_ref().and_then(|s| s.revoked.clone());
    let mut s = ImageChannelStatus {
        current_build: Some(tname.clone()),
        assigned_at: Some(time("2026-01-02T04:00:00Z")),
        artifacts: target
            .status
            .as_ref()
            .unwrap()
            .sources
            .iter()
            .map(|src| SourceArtifacts {
                source: src.name.clone(),
                artifacts: src.artifacts.clone(),
            })
            .collect(),
        ..ImageChannelStatus::default()
    };
    let now = time("2026-01-02T04:00:00Z");
    match revoked {
        None => {
            set_condition(
                &mut s.conditions,
                "Ready",
                ConditionStatus::True,
                "TargetVerified",
                "",
                None,
                now,
            );
        }
        Some(r) => {
            set_condition(
                &mut s.conditions,
                "Ready",
                ConditionStatus::False,
                "TargetRevoked",
                "",
                None,
                now.clone(),
            );
            set_condition(
                &mut s.conditions,
                "Stalled",
                ConditionStatus::True,
                "TargetRevoked",
                &format!("ImageBuild {tname:?} is revoked: {}", r.reason),
                None,
                now,
            );
        }
    }
    c.status = Some(s);
    c
}

/// What `kubectl get imagechannel,imagebuild -o json` prints.
fn list(items: Vec<serde_json::Value>) -> String {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
        .to_string()
}

fn fixture() -> (String, String) {
    let good = build("ubuntu-2", None);
    let bad = build("ubuntu-1", Some("CVE-2026-1"));
    let objects = vec![
        serde_json::to_value(channel("ubuntu-production", Some("production"), &good)).unwrap(),
        serde_json::to_value(channel("ubuntu-old", None, &bad)).unwrap(),
        serde_json::to_value(&good).unwrap(),
        serde_json::to_value(&bad).unwrap(),
    ];
    let channels_only = vec![
        serde_json::to_value(channel("ubuntu-production", Some("production"), &good)).unwrap(),
    ];
    (list(objects), list(channels_only))
}

fn registry(text: &str) -> Registry {
    let mut r = Registry::default();
    r.add_json(text).unwrap();
    r
}

fn get(out: &BTreeMap<String, Value>, k: &str) -> Value {
    out.get(k)
        .cloned()
        .unwrap_or_else(|| panic!("no output {k}"))
}

#[test]
fn version_and_artifact_by_channel_and_fingerprint() {
    let (all, channels_only) = fixture();
    let reg = registry(&all);
    let v = from_args(
        "hcp-packer-version",
        &[("bucket_name", "ubuntu"), ("channel_name", "production")],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap();
    assert_eq!(get(&v, "id"), Value::str("uid-ubuntu-2"));
    assert_eq!(get(&v, "name"), Value::str("ubuntu-2"));
    assert_eq!(get(&v, "fingerprint"), Value::str("fp-ubuntu-2"));
    assert_eq!(get(&v, "status"), Value::str("VERSION_ACTIVE"));
    assert_eq!(get(&v, "bucket_name"), Value::str("ubuntu"));
    assert_eq!(
        get(&v, "channel_id"),
        Value::str("uid-ch-ubuntu-production")
    );
    assert_eq!(get(&v, "created_at"), Value::str("2026-01-02T03:00:00Z"));

    // The final artifact of the qemu source (the compressed disk), and the docker one.
    let a = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("channel_name", "production"),
            ("platform", "qemu"),
            ("region", "qemu"),
        ],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap();
    assert_eq!(get(&a, "external_identifier"), Value::str("disk.gz"));
    assert_eq!(get(&a, "component_type"), Value::str("qemu.ubuntu"));
    assert_eq!(get(&a, "version_id"), Value::str("uid-ubuntu-2"));
    assert_eq!(get(&a, "build_id"), Value::str("ubuntu-2/qemu.ubuntu"));
    assert_eq!(get(&a, "packer_run_uuid"), Value::str("run-1"));
    let Value::Object(l) = get(&a, "labels") else {
        panic!()
    };
    assert_eq!(l["team"], Value::str("base"));
    let d = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("version_fingerprint", "fp-ubuntu-2"),
            ("platform", "docker"),
            ("region", "docker"),
            ("component_type", "docker.ubuntu"),
        ],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap();
    assert_eq!(get(&d, "external_identifier"), Value::str("sha256:abc"));
    assert_eq!(get(&d, "channel_id"), Value::str(""));

    // The channel alone (what a runner pod has) resolves a channel lookup too.
    let a2 = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("channel_name", "production"),
            ("platform", "qemu"),
            ("region", "qemu"),
        ],
    )
    .unwrap()
    .resolve(&registry(&channels_only))
    .unwrap();
    assert_eq!(get(&a2, "external_identifier"), Value::str("disk.gz"));

    // The deprecated pair.
    let it = from_args(
        "hcp-packer-iteration",
        &[("bucket_name", "ubuntu"), ("channel", "production")],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap();
    assert_eq!(get(&it, "complete"), Value::Bool(true));
    let img = from_args(
        "hcp-packer-image",
        &[
            ("bucket_name", "ubuntu"),
            ("iteration_id", "uid-ubuntu-2"),
            ("cloud_provider", "docker"),
            ("region", "docker"),
        ],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap();
    assert_eq!(get(&img, "id"), Value::str("sha256:abc"));
    assert_eq!(get(&img, "iteration_id"), Value::str("uid-ubuntu-2"));
}

#[test]
fn revoked_missing_and_unmatched_fail_with_packers_messages() {
    let (all, _) = fixture();
    let reg = registry(&all);
    let e = from_args(
        "hcp-packer-version",
        &[("bucket_name", "ubuntu"), ("channel_name", "ubuntu-old")],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the HCP Packer Version associated with the channel ubuntu-old is revoked and can not be used on Packer builds"
    );
    let e = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("version_fingerprint", "fp-ubuntu-1"),
            ("platform", "docker"),
            ("region", "docker"),
        ],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the version uid-ubuntu-1 is revoked and can not be used on Packer builds"
    );
    let e = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("channel_name", "production"),
            ("platform", "docker"),
            ("region", "eu-west-1"),
        ],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "could not find a build result matching [region=\"eu-west-1\", platform=\"docker\", component_type=\"\"]. Available: map[docker:[docker]] "
    );
    let e = from_args(
        "hcp-packer-version",
        &[("bucket_name", "debian"), ("channel_name", "production")],
    )
    .unwrap()
    .resolve(&reg)
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("error retrieving HCP Packer Version from HCP Packer Registry: no ImageChannel \"production\" in bucket \"debian\""),
        "{e}"
    );
    // A channel that points at nothing yet.
    let mut objects: serde_json::Value = serde_json::from_str(&all).unwrap();
    let mut empty = ImageChannel::new(
        "ubuntu-next",
        ImageChannelSpec::pinned("ubuntu", "ubuntu-9"),
    );
    empty.metadata.namespace = Some("images".into());
    objects["items"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&empty).unwrap());
    let reg2 = registry(&objects.to_string());
    let e = from_args(
        "hcp-packer-version",
        &[("bucket_name", "ubuntu"), ("channel_name", "ubuntu-next")],
    )
    .unwrap()
    .resolve(&reg2)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "there is no HCP Packer Version associated with the channel ubuntu-next"
    );
    let e = from_args(
        "hcp-packer-artifact",
        &[
            ("bucket_name", "ubuntu"),
            ("channel_name", "ubuntu-next"),
            ("platform", "docker"),
            ("region", "docker"),
        ],
    )
    .unwrap()
    .resolve(&reg2)
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "there is no version associated with the channel ubuntu-next"
    );

    // A channel name is only the label's when the label is set.
    assert!(
        from_args(
            "hcp-packer-version",
            &[
                ("bucket_name", "ubuntu"),
                ("channel_name", "ubuntu-production")
            ],
        )
        .unwrap()
        .resolve(&reg)
        .is_err()
    );
}

// -------------------------------------------------------------------------------------
// Through `kiln build` / `kiln validate`
// -------------------------------------------------------------------------------------

fn kiln(dir: &Path, registry_file: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
    c.current_dir(dir).args(args);
    c.env_remove("KILN_CHANNELS")
        .env_remove("HCP_PACKER_REGISTRY");
    match registry_file {
        Some(f) => c.env("KILN_REGISTRY", f),
        None => c.env_remove("KILN_REGISTRY"),
    };
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const TEMPLATE: &str = r#"
data "hcp-packer-version" "base" {
  bucket_name  = "ubuntu"
  channel_name = var.channel
}

data "hcp-packer-artifact" "base" {
  bucket_name         = "ubuntu"
  version_fingerprint = data.hcp-packer-version.base.fingerprint
  platform            = "docker"
  region              = "docker"
}

variable "channel" {
  type    = string
  default = "production"
}

source "file" "child" {
  content = "FROM ${data.hcp-packer-artifact.base.external_identifier} (${data.hcp-packer-version.base.name})"
  target  = "child.txt"
}

build {
  sources = ["source.file.child"]
}
"#;

#[test]
fn a_template_written_for_hcp_packer_builds_from_the_registry() {
    let (all, _) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("registry.json"), &all).unwrap();
    std::fs::write(dir.join("child.pkr.hcl"), TEMPLATE).unwrap();
    let reg = dir.join("registry.json");

    let o = kiln(dir, Some(&reg), &["build", "child.pkr.hcl"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("child.txt")).unwrap(),
        "FROM sha256:abc (ubuntu-2)"
    );

    // A revoked parent fails the build before anything runs, naming the data source.
    let o = kiln(
        dir,
        Some(&reg),
        &["build", "-var", "channel=ubuntu-old", "child.pkr.hcl"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("is revoked and can not be used on Packer builds"),
        "{}",
        text(&o)
    );

    // Without a registry the error says how to get one.
    let o = kiln(dir, None, &["build", "child.pkr.hcl"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("KILN_REGISTRY"), "{}", text(&o));

    // Packer's configuration errors, at validate.
    std::fs::write(
        dir.join("bad.pkr.hcl"),
        r#"
data "hcp-packer-artifact" "x" {
  bucket_name         = "ubuntu"
  channel_name        = "production"
  version_fingerprint = "fp"
}
source "file" "f" {
  content = "x"
  target  = "x.txt"
}
build { sources = ["source.file.f"] }
"#,
    )
    .unwrap();
    let o = kiln(dir, None, &["validate", "bad.pkr.hcl"]);
    assert!(!o.status.success());
    let t = text(&o);
    for want in [
        "`version_fingerprint` and `channel_name` cannot be specified together",
        "the `region` must be specified",
        "the `platform` must be specified",
    ] {
        assert!(t.contains(want), "{want:?} missing from:\n{t}");
    }
}
