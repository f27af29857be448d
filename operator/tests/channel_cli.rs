//! `kiln channel history | promote | rollback` on ImageChannels made from the CRD types and
//! serialized as `kubectl get imagechannel -o json` prints them.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kiln_crds::{ChannelHistoryEntry, ImageChannel, ImageChannelSpec, ImageChannelStatus};

fn time(s: &str) -> Time {
    Time(s.parse().unwrap())
}

fn entry(build: &str, at: &str, reason: &str) -> ChannelHistoryEntry {
    ChannelHistoryEntry {
        build: build.into(),
        assigned_at: Some(time(at)),
        reason: Some(reason.into()),
    }
}

/// A channel as the API server returns it: server-set metadata and a status with history.
fn served(name: &str, ns: &str) -> ImageChannel {
    let mut c = ImageChannel::new(name, ImageChannelSpec::pinned("ubuntu", "ubuntu-3"));
    c.metadata.namespace = Some(ns.into());
    c.metadata.uid = Some("0b9a-uid".into());
    c.metadata.resource_version = Some("4242".into());
    c.metadata.generation = Some(3);
    c.metadata.creation_timestamp = Some(time("2026-01-01T00:00:00Z"));
    c.metadata.labels = Some([("kiln.dev/channel".to_string(), "production".to_string())].into());
    c.metadata.annotations = Some(
        [(
            "kubectl.kubernetes.io/last-applied-configuration".to_string(),
            "{}".to_string(),
        )]
        .into(),
    );
    c.status = Some(ImageChannelStatus {
        current_build: Some("ubuntu-3".into()),
        history: vec![
            entry("ubuntu-3", "2026-01-03T00:00:00Z", "Pinned"),
            entry("ubuntu-2", "2026-01-02T00:00:00Z", "Pinned"),
            entry("ubuntu-1", "2026-01-01T00:00:00Z", "Pinned"),
        ],
        ..ImageChannelStatus::default()
    });
    c
}

fn kiln(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
    c.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let input = stdin.unwrap_or("").to_string();
    let mut pipe = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = pipe.write_all(input.as_bytes());
    });
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn yaml_channel(text: &str) -> ImageChannel {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not an ImageChannel: {e}\n{text}"))
}

#[test]
fn history_lists_assignments_newest_first_with_the_current_starred() {
    let tmp = tempfile::tempdir().unwrap();
    let json = serde_json::to_string(&served("ubuntu-production", "images")).unwrap();
    let o = kiln(tmp.path(), &["channel", "history"], Some(&json));
    assert!(o.status.success(), "{}", err(&o));
    let stdout = out(&o);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "ImageChannel images/ubuntu-production");
    assert!(lines[1].contains("BUILD") && lines[1].contains("ASSIGNED"));
    assert!(
        lines[2].starts_with('*') && lines[2].contains("ubuntu-3"),
        "{lines:?}"
    );
    assert!(lines[3].contains("ubuntu-2") && !lines[3].starts_with('*'));
    assert!(lines[4].contains("ubuntu-1") && lines[4].contains("2026-01-01"));

    // From a List with several channels: one must be named.
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        served("ubuntu-production", "images"), served("ubuntu-staging", "images")]});
    std::fs::write(tmp.path().join("list.json"), list.to_string()).unwrap();
    let o = kiln(tmp.path(), &["channel", "history", "-f", "list.json"], None);
    assert!(!o.status.success());
    assert!(err(&o).contains("2 channels matching"), "{}", err(&o));
    let o = kiln(
        tmp.path(),
        &[
            "channel",
            "history",
            "ubuntu-staging",
            "-f",
            "list.json",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["channel"], "ubuntu-staging");
    assert_eq!(v["history"][1]["build"], "ubuntu-2");
}

#[test]
fn promote_prints_or_writes_the_pinned_manifest_without_server_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let mut following = served("ubuntu-production", "images");
    following.spec = ImageChannelSpec::following("ubuntu", LabelSelector::default());
    following.spec.history_limit = 7;
    let json = serde_json::to_string(&following).unwrap();
    let o = kiln(
        tmp.path(),
        &["channel", "promote", "ubuntu-production", "ubuntu-4"],
        None,
    );
    assert!(!o.status.success());
    assert!(err(&o).contains("--template"), "{}", err(&o));

    let o = kiln(
        tmp.path(),
        &[
            "channel",
            "promote",
            "ubuntu-production",
            "ubuntu-4",
            "-f",
            "-",
            "-w",
            "ch.yaml",
        ],
        Some(&json),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).is_empty());
    assert!(err(&o).contains("follows a selector"), "{}", err(&o));
    let text = std::fs::read_to_string(tmp.path().join("ch.yaml")).unwrap();
    let c = yaml_channel(&text);
    assert_eq!(c.spec.build.as_deref(), Some("ubuntu-4"));
    assert_eq!(c.spec.follow, None);
    assert_eq!(c.spec.history_limit, 7);
    assert_eq!(c.spec.template_ref.name, "ubuntu");
    assert_eq!(c.metadata.namespace.as_deref(), Some("images"));
    assert_eq!(c.metadata.labels.unwrap()["kiln.dev/channel"], "production");
    assert!(c.status.is_none());
    for server_field in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "last-applied",
        "status",
    ] {
        assert!(!text.contains(server_field), "{server_field} in:\n{text}");
    }

    // A new channel from a template.
    let o = kiln(
        tmp.path(),
        &[
            "channel",
            "promote",
            "ubuntu-staging",
            "ubuntu-4",
            "--template",
            "ubuntu",
            "-n",
            "images",
        ],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let c = yaml_channel(&out(&o));
    assert_eq!(c.metadata.name.as_deref(), Some("ubuntu-staging"));
    assert_eq!(c.spec.build.as_deref(), Some("ubuntu-4"));
    assert!(out(&o).starts_with("apiVersion: kiln.dev/v1alpha1\nkind: ImageChannel\n"));

    // A channel of another template is refused.
    let o = kiln(
        tmp.path(),
        &[
            "channel",
            "promote",
            "ubuntu-production",
            "ubuntu-4",
            "-f",
            "-",
            "--template",
            "debian",
        ],
        Some(&json),
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("serves ImageTemplate ubuntu, not debian"),
        "{}",
        err(&o)
    );
}

#[test]
fn rollback_pins_the_previous_entry_and_fails_without_one() {
    let tmp = tempfile::tempdir().unwrap();
    let json = serde_json::to_string(&served("ubuntu-production", "images")).unwrap();
    let o = kiln(tmp.path(), &["channel", "rollback"], Some(&json));
    assert!(o.status.success(), "{}", err(&o));
    let c = yaml_channel(&out(&o));
    assert_eq!(c.spec.build.as_deref(), Some("ubuntu-2"));
    assert!(err(&o).contains("from ubuntu-3 to ubuntu-2"), "{}", err(&o));

    let mut single = served("ubuntu-production", "images");
    single.status.as_mut().unwrap().history.truncate(1);
    let o = kiln(
        tmp.path(),
        &["channel", "rollback", "ubuntu-production"],
        Some(&serde_json::to_string(&single).unwrap()),
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("has no earlier build in its history"),
        "{}",
        err(&o)
    );

    let o = kiln(
        tmp.path(),
        &["channel", "rollback"],
        Some("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"}}"),
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("is a Secret, not an ImageChannel"),
        "{}",
        err(&o)
    );
}
