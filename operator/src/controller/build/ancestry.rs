//! Ancestry beyond `kiln-channel`: the parent a build records when its runner reports what
//! the source was built from (`status.sources[].inputs`: an `hcp-packer-*` data source
//! naming a build, a docker source image or qemu base disk whose digest is an artifact of
//! another build), and whether that parent is still what its channel serves (the
//! `ParentCurrent` condition). Pure functions over the watch caches' builds and channels.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::{PARENT_CURRENT, reasons};
use kiln_crds::{
    BuildInput, BuildParent, BuildPhase, ConditionStatus, ImageBuild, ImageBuildStatus,
    ImageChannel,
};
use kube::ResourceExt;

use super::super::conditions::Conditions;

/// The sha256 digests (hex) of the subjects of an attestation recorded in status: an
/// in-toto Statement, or a DSSE envelope of one.
fn attested_subjects(text: &str) -> Vec<String> {
    use base64::Engine as _;
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return vec![];
    };
    let statement = match doc["payload"].as_str() {
        Some(p) => base64::engine::general_purpose::STANDARD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .unwrap_or_default(),
        None => doc,
    };
    statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["digest"]["sha256"].as_str().map(String::from))
        .collect()
}

/// Whether an artifact of `b` is the content `digest` names (`sha256:<hex>`): its id ends
/// with `@<digest>`, a state value is the digest or its hex, or its attestation has a
/// subject of that digest (a disk file hashed by the provenance post-processor).
fn made(b: &ImageBuild, digest: &str) -> bool {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    b.status.iter().flat_map(|s| &s.sources).any(|src| {
        src.artifacts.iter().any(|a| {
            a.id.ends_with(&format!("@{digest}"))
                || a.state.values().any(|v| v == digest || v == hex)
                || a.provenance
                    .as_ref()
                    .and_then(|p| p.attestation.as_deref())
                    .is_some_and(|t| attested_subjects(t).iter().any(|s| s == hex))
        })
    })
}

/// The channel that served `build`: the one pointing at it now, else the newest whose
/// history has it.
pub fn channel_of(build: &str, ns: Option<&str>, channels: &[Arc<ImageChannel>]) -> Option<String> {
    let in_ns = || channels.iter().filter(|c| c.namespace().as_deref() == ns);
    in_ns()
        .find(|c| c.status.as_ref().and_then(|s| s.current_build.as_deref()) == Some(build))
        .or_else(|| {
            in_ns()
                .filter_map(|c| {
                    let h = &c.status.as_ref()?.history;
                    let e = h.iter().find(|e| e.build == build)?;
                    Some((e.assigned_at.clone().map(|t| t.0), c))
                })
                .max_by_key(|(t, _)| *t)
                .map(|(_, c)| c)
        })
        .map(|c| c.name_any())
}

/// Whether a runner reported what its source was built from.
pub fn has_inputs(build: &ImageBuild) -> bool {
    build
        .status
        .iter()
        .flat_map(|s| &s.sources)
        .any(|s| !s.inputs.is_empty())
}

/// The parent the runners' reported inputs point at: the first input naming a build (a
/// registry data source) or whose digest another succeeded build of the namespace made.
pub fn found_parent(
    build: &ImageBuild,
    builds: &[Arc<ImageBuild>],
    channels: &[Arc<ImageChannel>],
) -> Option<BuildParent> {
    let ns = build.namespace();
    let me = build.name_any();
    let inputs: Vec<&BuildInput> = build
        .status
        .iter()
        .flat_map(|s| &s.sources)
        .flat_map(|s| &s.inputs)
        .collect();
    for i in inputs {
        let (parent, channel) = if let Some(b) = i.build.as_deref().filter(|b| *b != me) {
            let by_uid = i.channel_id.as_deref().and_then(|uid| {
                channels
                    .iter()
                    .find(|c| c.uid().as_deref() == Some(uid))
                    .map(|c| c.name_any())
            });
            (b.to_string(), by_uid)
        } else if let Some(d) = i.digest.as_deref() {
            let Some(p) = builds.iter().find(|b| {
                b.namespace() == ns
                    && b.name_any() != me
                    && b.status.as_ref().and_then(|s| s.phase) == Some(BuildPhase::Succeeded)
                    && made(b, d)
            }) else {
                continue;
            };
            (p.name_any(), None)
        } else {
            continue;
        };
        let channel = channel.or_else(|| channel_of(&parent, ns.as_deref(), channels));
        return Some(BuildParent {
            build: parent,
            namespace: None,
            channel,
            via: Some(i.kind.clone()),
            digest: i.digest.clone(),
        });
    }
    None
}

/// `desired` with a parent found from the inputs when it has none yet (a `kiln-channel`
/// parent, fixed by the snapshot, wins).
pub fn with_found_parent(
    build: &ImageBuild,
    mut desired: ImageBuildStatus,
    builds: &[Arc<ImageBuild>],
    channels: &[Arc<ImageChannel>],
) -> ImageBuildStatus {
    if desired.parent.is_none() {
        desired.parent = found_parent(build, builds, channels);
    }
    desired
}

/// What `ParentCurrent` says of a parent read through `channel`.
pub fn parent_currency(
    parent: &BuildParent,
    channel: Option<&ImageChannel>,
) -> (ConditionStatus, &'static str, String) {
    let name = parent.channel.as_deref().unwrap_or_default();
    let current = channel
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.current_build.as_deref());
    match (channel, current) {
        (None, _) => (
            ConditionStatus::Unknown,
            reasons::PARENT_CHANNEL_UNKNOWN,
            format!("ImageChannel {name:?} not found"),
        ),
        (Some(_), None) => (
            ConditionStatus::Unknown,
            reasons::PARENT_CHANNEL_UNKNOWN,
            format!("ImageChannel {name:?} points at no build yet"),
        ),
        (Some(_), Some(b)) if b == parent.build => (
            ConditionStatus::True,
            reasons::PARENT_UP_TO_DATE,
            format!(
                "up to date: ImageChannel {name:?} still points at ImageBuild {:?}",
                parent.build
            ),
        ),
        (Some(_), Some(b)) => (
            ConditionStatus::False,
            reasons::PARENT_MOVED,
            format!(
                "out of date: ImageChannel {name:?} moved from ImageBuild {:?} (this build's parent) to {b:?}",
                parent.build
            ),
        ),
    }
}

/// `desired` with `ParentCurrent` set when the parent came through a channel.
pub fn with_parent_currency(
    build: &ImageBuild,
    mut desired: ImageBuildStatus,
    channels: &[Arc<ImageChannel>],
    now: Time,
) -> ImageBuildStatus {
    let Some(parent) = desired.parent.clone() else {
        return desired;
    };
    let Some(ch) = parent.channel.as_deref() else {
        return desired;
    };
    let ns = parent.namespace.clone().or(build.namespace());
    let channel = channels
        .iter()
        .find(|c| c.namespace() == ns && c.name_any() == ch)
        .map(|c| c.as_ref());
    let (status, reason, message) = parent_currency(&parent, channel);
    let mut c = Conditions::new(&desired.conditions, build.metadata.generation, now);
    c.set(PARENT_CURRENT, status, reason, &message);
    desired.conditions = c.into_vec();
    desired
}

/// The builds whose parent came through `channel` (to re-check `ParentCurrent` when it
/// moves).
pub fn builds_reading(channel: &ImageChannel, builds: &[Arc<ImageBuild>]) -> Vec<Arc<ImageBuild>> {
    let (ns, name) = (channel.namespace(), channel.name_any());
    builds
        .iter()
        .filter(|b| {
            b.status
                .as_ref()
                .and_then(|s| s.parent.as_ref())
                .is_some_and(|p| {
                    p.channel.as_deref() == Some(name.as_str())
                        && p.namespace.clone().or(b.namespace()) == ns
                })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::{
        Artifact, ChannelHistoryEntry, ImageBuildSpec, ImageChannelSpec, ImageChannelStatus,
        SourceStatus,
    };

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn build(name: &str, phase: BuildPhase) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template("tpl"));
        b.metadata.namespace = Some("ns".into());
        b.status = Some(ImageBuildStatus {
            phase: Some(phase),
            ..Default::default()
        });
        b
    }

    fn with_artifact(mut b: ImageBuild, id: &str, state: &[(&str, &str)]) -> ImageBuild {
        b.status.as_mut().unwrap().sources.push(SourceStatus {
            name: "docker.base".into(),
            artifacts: vec![Artifact {
                builder_id: "packer.post-processor.docker-push".into(),
                id: id.into(),
                state: state
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        });
        b
    }

    fn with_input(mut b: ImageBuild, i: BuildInput) -> ImageBuild {
        b.status.as_mut().unwrap().sources.push(SourceStatus {
            name: "docker.app".into(),
            inputs: vec![i],
            ..Default::default()
        });
        b
    }

    fn channel(name: &str, uid: &str, current: &str, history: &[&str]) -> ImageChannel {
        let mut c = ImageChannel::new(name, ImageChannelSpec::pinned("base", current));
        c.metadata.namespace = Some("ns".into());
        c.metadata.uid = Some(uid.into());
        c.status = Some(ImageChannelStatus {
            current_build: Some(current.into()),
            history: history
                .iter()
                .enumerate()
                .map(|(i, b)| ChannelHistoryEntry {
                    build: b.to_string(),
                    assigned_at: Some(t(100 - i as i64)),
                    reason: None,
                })
                .collect(),
            ..Default::default()
        });
        c
    }

    #[test]
    fn a_source_image_digest_finds_the_build_that_pushed_it_and_its_channel() {
        let base1 = with_artifact(
            build("base-1", BuildPhase::Succeeded),
            "reg/base:1",
            &[("digest", "sha256:aaa")],
        );
        let base2 = with_artifact(
            build("base-2", BuildPhase::Succeeded),
            "reg/base:2",
            &[("digest", "sha256:bbb")],
        );
        let failed = with_artifact(
            build("base-3", BuildPhase::Failed),
            "reg/base:3",
            &[("digest", "sha256:ccc")],
        );
        let builds: Vec<Arc<ImageBuild>> =
            [base1, base2, failed].into_iter().map(Arc::new).collect();
        // base-1 was served by `prod` before it moved on to base-2.
        let channels = vec![Arc::new(channel(
            "prod",
            "u1",
            "base-2",
            &["base-2", "base-1"],
        ))];
        let child = with_input(
            build("app-1", BuildPhase::Succeeded),
            BuildInput {
                kind: "source-image".into(),
                digest: Some("sha256:aaa".into()),
                ..Default::default()
            },
        );
        let p = found_parent(&child, &builds, &channels).unwrap();
        assert_eq!(p.build, "base-1");
        assert_eq!(p.channel.as_deref(), Some("prod"));
        assert_eq!(p.via.as_deref(), Some("source-image"));
        assert_eq!(p.digest.as_deref(), Some("sha256:aaa"));
        // And it is out of date: prod moved to base-2.
        let st = with_parent_currency(
            &child,
            ImageBuildStatus {
                parent: Some(p),
                ..Default::default()
            },
            &channels,
            t(5),
        );
        let c = kiln_crds::find_condition(&st.conditions, PARENT_CURRENT).unwrap();
        assert_eq!(c.status, "False");
        assert_eq!(c.reason, reasons::PARENT_MOVED);
        assert!(c.message.contains("\"base-2\""), "{}", c.message);

        // A digest only a failed build made, or nobody: no parent.
        for d in ["sha256:ccc", "sha256:zzz"] {
            let orphan = with_input(
                build("app-2", BuildPhase::Succeeded),
                BuildInput {
                    kind: "base-disk".into(),
                    digest: Some(d.into()),
                    ..Default::default()
                },
            );
            assert_eq!(found_parent(&orphan, &builds, &channels), None, "{d}");
        }
    }

    #[test]
    fn a_base_disk_is_found_by_the_parents_attestation_subjects() {
        use base64::Engine as _;
        let hex = "ab".repeat(32);
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "disk.qcow2", "digest": {"sha256": hex}}],
        });
        let envelope = serde_json::json!({
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
            "signatures": [],
        });
        for (name, text) in [
            ("plain", statement.to_string()),
            ("dsse", envelope.to_string()),
        ] {
            let mut base = build("base-1", BuildPhase::Succeeded);
            base.status.as_mut().unwrap().sources.push(SourceStatus {
                name: "qemu.base".into(),
                artifacts: vec![Artifact {
                    builder_id: "transcend.qemu".into(),
                    id: "VM".into(),
                    provenance: Some(kiln_crds::ArtifactProvenance {
                        attestation: Some(text),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            });
            let child = with_input(
                build("vm-1", BuildPhase::Succeeded),
                BuildInput {
                    kind: "base-disk".into(),
                    digest: Some(format!("sha256:{hex}")),
                    ..Default::default()
                },
            );
            let p = found_parent(&child, &[Arc::new(base)], &[]).unwrap();
            assert_eq!(
                (p.build.as_str(), p.via.as_deref()),
                ("base-1", Some("base-disk")),
                "{name}"
            );
        }
    }

    #[test]
    fn a_registry_data_source_names_the_parent_and_its_channel_by_uid() {
        let channels = vec![
            Arc::new(channel("other", "u0", "x", &[])),
            Arc::new(channel("production", "u1", "base-7", &["base-7"])),
        ];
        let child = with_input(
            build("app", BuildPhase::Running),
            BuildInput {
                kind: "hcp-packer-version".into(),
                build: Some("base-7".into()),
                channel_id: Some("u1".into()),
                ..Default::default()
            },
        );
        let st = with_found_parent(&child, ImageBuildStatus::default(), &[], &channels);
        let p = st.parent.clone().unwrap();
        assert_eq!(
            (p.build.as_str(), p.channel.as_deref(), p.via.as_deref()),
            ("base-7", Some("production"), Some("hcp-packer-version"))
        );
        let st = with_parent_currency(&child, st, &channels, t(1));
        let c = kiln_crds::find_condition(&st.conditions, PARENT_CURRENT).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "ParentUpToDate")
        );
        // A parent already known (kiln-channel) is kept.
        let known = ImageBuildStatus {
            parent: Some(BuildParent {
                build: "pinned".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            with_found_parent(&child, known.clone(), &[], &channels).parent,
            known.parent
        );
        // The channel gone: Unknown. No channel at all: no condition.
        let st = with_parent_currency(&child, st, &[], t(2));
        let c = kiln_crds::find_condition(&st.conditions, PARENT_CURRENT).unwrap();
        assert_eq!(c.status, "Unknown");
        let st = with_parent_currency(&child, known, &channels, t(2));
        assert!(kiln_crds::find_condition(&st.conditions, PARENT_CURRENT).is_none());
    }

    #[test]
    fn a_moved_channel_wakes_the_builds_that_read_it() {
        let mut a = build("a", BuildPhase::Succeeded);
        a.status.as_mut().unwrap().parent = Some(BuildParent {
            build: "base-1".into(),
            channel: Some("prod".into()),
            ..Default::default()
        });
        let mut b = a.clone();
        b.metadata.name = Some("b".into());
        b.status.as_mut().unwrap().parent.as_mut().unwrap().channel = Some("dev".into());
        let builds = vec![Arc::new(a), Arc::new(b)];
        let ch = channel("prod", "u", "base-2", &[]);
        let names: Vec<String> = builds_reading(&ch, &builds)
            .iter()
            .map(|b| b.name_any())
            .collect();
        assert_eq!(names, ["a"]);
    }
}
