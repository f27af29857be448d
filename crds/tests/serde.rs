//! Sample objects, as users and controllers write them, survive a serde round trip
//! unchanged, and the status types serialize only what they hold (so a server-side apply
//! of one part never claims the others).

use kiln_crds::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap()
}

fn round_trip<T: Serialize + DeserializeOwned>(name: &str) -> T {
    let original = fixture(name);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{name} does not deserialize: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{name} changed in a round trip");
    typed
}

#[test]
fn image_template_round_trip() {
    let t: ImageTemplate = round_trip("imagetemplate.yaml");
    assert_eq!(t.spec.files.as_ref().unwrap()[0].name, "main.pkr.hcl");
    assert_eq!(t.spec.variables["disk_size_gb"], json!(20));
    assert_eq!(t.spec.history_limits.successful, 3);
    let status = t.status.unwrap();
    assert!(is_condition_true(&status.conditions, condition::READY));
    assert!(status.variables[1].sensitive);
}

#[test]
fn image_build_round_trip() {
    let b: ImageBuild = round_trip("imagebuild.yaml");
    assert_eq!(b.spec.on_error, OnError::RunCleanupProvisioner);
    assert_eq!(b.spec.timeout_seconds().unwrap(), Some(5400));
    assert_eq!(b.spec.secret_variables[0].secret_key_ref.key, "password");
    let runner = b.spec.runner.as_ref().unwrap();
    assert_eq!(
        runner.image_pull_policy,
        Some(ImagePullPolicy::IfNotPresent)
    );
    assert_eq!(
        runner.volumes[0].host_path.as_ref().unwrap().path,
        "/dev/kvm"
    );
    let status = b.status.unwrap();
    assert_eq!(status.phase, Some(BuildPhase::Succeeded));
    let source = status.source("qemu.ubuntu").unwrap();
    assert_eq!(source.provisioner.as_ref().unwrap().type_, "shell");
    let manifest = source.manifest_entry.as_ref().unwrap();
    assert_eq!(manifest.builder_type, "qemu");
    assert_eq!(manifest.custom_data["channel"], "nightly");
}

#[test]
fn inline_build_round_trip_and_defaults() {
    let b: ImageBuild = round_trip("imagebuild-inline.yaml");
    assert!(b.spec.template_ref.is_none());
    assert!(
        b.spec
            .template
            .as_ref()
            .unwrap()
            .template
            .as_ref()
            .unwrap()
            .contains("null")
    );
    assert_eq!(b.spec.timeout_seconds().unwrap(), None);

    // Omitted fields take their defaults.
    let minimal: ImageBuildSpec =
        serde_json::from_value(json!({"templateRef": {"name": "t"}})).unwrap();
    assert_eq!(minimal, ImageBuildSpec::for_template("t"));
    assert_eq!(minimal.on_error, OnError::Cleanup);
    assert_eq!(minimal.parallel_builds, 0);
    assert!(!minimal.cancel);
}

#[test]
fn image_channel_round_trips() {
    let pinned: ImageChannel = round_trip("imagechannel.yaml");
    assert_eq!(pinned.spec.build.as_deref(), Some("ubuntu-20250102"));
    let status = pinned.status.unwrap();
    assert_eq!(
        status.artifacts[0].artifacts[0].builder_id,
        "transcend.qemu"
    );

    let follow: ImageChannel = round_trip("imagechannel-follow.yaml");
    let selector = &follow.spec.follow.unwrap().selector;
    assert_eq!(
        selector.match_labels.as_ref().unwrap()["kiln.dev/track"],
        "nightly"
    );

    let defaulted: ImageChannelSpec =
        serde_json::from_value(json!({"templateRef": {"name": "t"}, "build": "b"})).unwrap();
    assert_eq!(defaulted, ImageChannelSpec::pinned("t", "b"));
    assert_eq!(defaulted.history_limit, 10);
}

#[test]
fn runner_status_patch_holds_only_its_source() {
    // What a runner applies with server-side apply: its own entry of status.sources and
    // nothing else, so it never takes ownership of phase or conditions.
    let status = ImageBuildStatus {
        sources: vec![SourceStatus {
            name: "qemu.ubuntu".into(),
            index: Some(0),
            phase: Some(BuildPhase::Running),
            step: Some("provision".into()),
            provisioner: Some(ProvisionerProgress {
                current: 2,
                total: 3,
                type_: "shell".into(),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&status).unwrap(),
        json!({"sources": [{
            "name": "qemu.ubuntu",
            "index": 0,
            "phase": "Running",
            "step": "provision",
            "provisioner": {"current": 2, "total": 3, "type": "shell"}
        }]})
    );
    assert_eq!(
        serde_json::to_value(ImageBuildStatus::default()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(ImageTemplateStatus::default()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(ImageChannelStatus::default()).unwrap(),
        json!({})
    );
}

#[test]
fn manifest_entry_reads_packer_manifest_builds() {
    // One element of `builds` in a packer-manifest.json written by Packer's manifest
    // post-processor.
    let packer = json!({
        "name": "ubuntu",
        "builder_type": "qemu",
        "build_time": 1735788840,
        "files": [{"name": "output-ubuntu/ubuntu.qcow2", "size": 1073741824}],
        "artifact_id": "VM",
        "packer_run_uuid": "6d5e2c1a-0d5c-4a51-9f2f-1c1d1e1f2a3b",
        "custom_data": {"channel": "nightly"}
    });
    let entry: ManifestEntry = serde_json::from_value(packer.clone()).unwrap();
    assert_eq!(entry.files[0].size, Some(1073741824));
    assert_eq!(serde_json::to_value(&entry).unwrap(), packer);
}

#[test]
fn objects_carry_api_version_and_kind() {
    let b = ImageBuild::new("b", ImageBuildSpec::for_template("t"));
    let v = serde_json::to_value(&b).unwrap();
    assert_eq!(v["apiVersion"], API_VERSION);
    assert_eq!(v["kind"], "ImageBuild");
    assert_eq!(v["spec"]["templateRef"], json!({"name": "t"}));
}

#[test]
fn phases() {
    assert_eq!(BuildPhase::Cancelled.to_string(), "Cancelled");
    assert_eq!(
        "Running".parse::<BuildPhase>().unwrap(),
        BuildPhase::Running
    );
    assert!("running".parse::<BuildPhase>().is_err());
    assert!(BuildPhase::Failed.is_finished());
    assert!(!BuildPhase::Pending.is_finished());
    for p in BuildPhase::ALL {
        assert_eq!(serde_json::to_value(p).unwrap(), json!(p.to_string()));
    }
    assert_eq!(
        OnError::RunCleanupProvisioner.to_string(),
        "run-cleanup-provisioner"
    );
    assert_eq!(
        serde_json::to_value(OnError::RunCleanupProvisioner).unwrap(),
        json!("run-cleanup-provisioner")
    );
}

#[test]
fn diagnostics_print_their_position() {
    let d = Diagnostic {
        severity: Severity::Error,
        summary: "Unsupported argument".into(),
        detail: Some("An argument named \"foo\" is not expected here.".into()),
        file: Some("main.pkr.hcl".into()),
        line: Some(3),
        column: Some(5),
    };
    assert_eq!(
        d.to_string(),
        "main.pkr.hcl:3:5: Unsupported argument: An argument named \"foo\" is not expected here."
    );
}
