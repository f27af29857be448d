//! The rebuild controller: an ImageTemplate with `spec.rebuildOnParentChange.enabled` is
//! built again when the channel its newest build's parent came through moves on (kpack's
//! "rebuild on base change", HCP Packer's ancestry turned into action).
//!
//! Guarantees:
//! - **Once per move.** The new ImageBuild is named after the template and the channel's new
//!   target (`<template>-rb-<hash>`), and labelled with that target: a second reconcile, a
//!   restart of the operator or a second replica finds it (or gets `AlreadyExists`) and
//!   creates nothing.
//! - **Coalesced.** Nothing is created while a build of the template is unfinished, nor
//!   sooner than `minInterval` after the previous rebuild: moves in between are folded into
//!   one rebuild, of the channel's newest target.
//! - **No storms.** Reconciles of templates are queued and bounded by the controller's
//!   concurrency, and at most `--max-rebuilds-in-flight` rebuilds run at once in the
//!   operator's scope; the rest wait their turn (requeued), oldest parent move first by the
//!   queue's order.
//!
//! The controller writes no spec a user applies: it creates ImageBuilds (the rebuilt build
//! copies the spec and the labels of the newest build that read the channel, minus GitOps
//! tracking labels, so the GitOps tool does not prune it and the channels following that
//! build's labels follow the rebuild too). The reason is in the annotation
//! `kiln.dev/rebuild-reason` and in an event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kiln_crds::condition::READY;
use kiln_crds::{BuildPhase, ImageBuild, ImageChannel, ImageTemplate};
use kube::api::PostParams;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use sha2::{Digest as _, Sha256};

use super::context::{Context, now};
use super::error::{Error, Result};

pub const CONTROLLER: &str = "rebuild";
/// The channel target a rebuild was made for.
pub const PARENT_LABEL: &str = "kiln.dev/rebuild-parent";
/// The channel that moved.
pub const CHANNEL_LABEL: &str = "kiln.dev/rebuild-channel";
/// Why the build was created.
pub const REASON_ANNOTATION: &str = "kiln.dev/rebuild-reason";
/// Default of `minInterval`.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(60);
/// How long to wait before looking again at a template waiting for a build to finish or
/// for a slot.
pub const RECHECK: Duration = Duration::from_secs(20);

/// What to do for a template.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Nothing to do until something changes (says why, for logs and tests).
    Nothing(String),
    /// Look again after this long.
    Wait(Duration, String),
    /// Create this build.
    Create(Box<ImageBuild>),
}

fn created(b: &ImageBuild) -> Option<i64> {
    b.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
}

fn finished(b: &ImageBuild) -> bool {
    b.status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(BuildPhase::is_finished)
}

/// Whether a label is a GitOps tool's tracking label (never copied to a rebuild).
fn gitops_label(key: &str) -> bool {
    key.contains("fluxcd.io/") || key.starts_with("argocd.argoproj.io/")
}

/// The rebuild's name: the template's, then a hash of the channel and its new target.
pub fn rebuild_name(template: &str, channel: &str, target: &str) -> String {
    let h = Sha256::digest(format!("{channel}/{target}").as_bytes());
    let hex: String = h.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let mut stem: String = template.chars().take(63 - 4 - hex.len()).collect();
    while stem.ends_with(['-', '.']) {
        stem.pop();
    }
    format!("{stem}-rb-{hex}")
}

/// Rebuilds in flight: created by this controller and not finished.
pub fn in_flight(builds: &[Arc<ImageBuild>]) -> usize {
    builds
        .iter()
        .filter(|b| b.labels().contains_key(PARENT_LABEL) && !finished(b))
        .count()
}

/// Decides for one template. `builds` and `channels` are the caches' (every namespace),
/// `in_flight` the rebuilds running in the operator's scope, `limit` how many may.
pub fn decide(
    template: &ImageTemplate,
    builds: &[Arc<ImageBuild>],
    channels: &[Arc<ImageChannel>],
    now: &Time,
    in_flight: usize,
    limit: usize,
) -> Decision {
    let Some(policy) = template
        .spec
        .rebuild_on_parent_change
        .as_ref()
        .filter(|p| p.enabled)
    else {
        return Decision::Nothing("rebuildOnParentChange is not enabled".into());
    };
    let min_interval = match policy.min_interval.as_deref() {
        None => DEFAULT_MIN_INTERVAL,
        Some(s) => match kiln_crds::parse_duration(s) {
            Ok(d) => d,
            Err(e) => {
                return Decision::Nothing(format!("spec.rebuildOnParentChange.minInterval: {e}"));
            }
        },
    };
    let (ns, name) = (template.namespace(), template.name_any());
    let mine: Vec<&Arc<ImageBuild>> = builds
        .iter()
        .filter(|b| {
            b.namespace() == ns
                && b.spec.template_ref.as_ref().map(|r| r.name.as_str()) == Some(name.as_str())
        })
        .collect();
    // The newest build whose parent came through a channel.
    let Some(newest) = mine
        .iter()
        .filter(|b| {
            b.status
                .as_ref()
                .and_then(|s| s.parent.as_ref())
                .is_some_and(|p| p.channel.is_some())
        })
        .max_by_key(|b| (created(b), b.name_any()))
    else {
        return Decision::Nothing("no build of the template read a channel yet".into());
    };
    let parent = newest
        .status
        .as_ref()
        .and_then(|s| s.parent.clone())
        .unwrap_or_default();
    let channel_name = parent.channel.clone().unwrap_or_default();
    let channel_ns = parent.namespace.clone().or(ns.clone());
    let Some(channel) = channels
        .iter()
        .find(|c| c.namespace() == channel_ns && c.name_any() == channel_name)
    else {
        return Decision::Nothing(format!("ImageChannel {channel_name:?} not found"));
    };
    let status = channel.status.clone().unwrap_or_default();
    let Some(target) = status.current_build.clone() else {
        return Decision::Nothing(format!("ImageChannel {channel_name:?} points at no build"));
    };
    if !kiln_crds::is_condition_true(&status.conditions, READY) {
        return Decision::Nothing(format!("ImageChannel {channel_name:?} is not Ready"));
    }
    if target == parent.build {
        return Decision::Nothing(format!(
            "up to date: ImageChannel {channel_name:?} still points at {target:?}"
        ));
    }
    // Once per move: a build of the template already made from, or for, the new target.
    let rebuilt = rebuild_name(&name, &channel_name, &target);
    if let Some(b) = mine.iter().find(|b| {
        b.name_any() == rebuilt
            || b.labels().get(PARENT_LABEL) == Some(&target)
            || b.status
                .as_ref()
                .and_then(|s| s.parent.as_ref())
                .is_some_and(|p| p.build == target)
    }) {
        return Decision::Nothing(format!(
            "ImageBuild {:?} already builds on {target:?}",
            b.name_any()
        ));
    }
    if let Some(b) = mine.iter().find(|b| !finished(b)) {
        return Decision::Wait(
            RECHECK,
            format!("waiting for ImageBuild {:?} to finish", b.name_any()),
        );
    }
    let last = mine
        .iter()
        .filter(|b| b.labels().contains_key(PARENT_LABEL))
        .filter_map(|b| created(b))
        .max();
    if let Some(last) = last {
        let since = (now.0.as_second() - last).max(0) as u64;
        if since < min_interval.as_secs() {
            return Decision::Wait(
                Duration::from_secs(min_interval.as_secs() - since),
                format!("the last rebuild was {since}s ago (minInterval {min_interval:?})"),
            );
        }
    }
    if limit > 0 && in_flight >= limit {
        return Decision::Wait(
            RECHECK,
            format!("{in_flight} rebuilds are running (at most {limit} at once)"),
        );
    }
    let reason = format!(
        "ImageChannel {channel_name} moved from ImageBuild {} to {target}",
        parent.build
    );
    let mut labels: BTreeMap<String, String> = newest
        .labels()
        .iter()
        .filter(|(k, _)| !gitops_label(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(PARENT_LABEL.into(), target.clone());
    labels.insert(CHANNEL_LABEL.into(), channel_name.clone());
    let mut spec = newest.spec.clone();
    spec.cancel = false;
    spec.revoked = None;
    Decision::Create(Box::new(ImageBuild {
        metadata: ObjectMeta {
            name: Some(rebuilt),
            namespace: ns,
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(REASON_ANNOTATION.into(), reason)])),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }))
}

#[tracing::instrument(skip_all, fields(template = %tpl.name_any(), namespace = tpl.namespace()))]
pub async fn reconcile(tpl: Arc<ImageTemplate>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    if !tpl
        .spec
        .rebuild_on_parent_change
        .as_ref()
        .is_some_and(|p| p.enabled)
    {
        return Ok(Action::await_change());
    }
    let ns = tpl
        .namespace()
        .ok_or(Error::MissingObjectKey("namespace"))?;
    let builds = ctx.caches.all_builds();
    let limit = ctx.settings.max_rebuilds_in_flight;
    let d = decide(
        &tpl,
        &builds,
        &ctx.caches.all_channels(),
        &now(),
        in_flight(&builds),
        limit,
    );
    match d {
        Decision::Nothing(why) => {
            tracing::debug!(%why, "no rebuild");
            Ok(Action::await_change())
        }
        Decision::Wait(after, why) => {
            tracing::debug!(%why, ?after, "rebuild waits");
            Ok(Action::requeue(after))
        }
        Decision::Create(b) => {
            let name = b.name_any();
            let reason = b
                .annotations()
                .get(REASON_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            let api: Api<ImageBuild> = Api::namespaced(ctx.client.clone(), &ns);
            match api.create(&PostParams::default(), &b).await {
                Ok(_) => {
                    tracing::info!(build = %name, %reason, "rebuild created");
                    ctx.event(
                        tpl.as_ref(),
                        false,
                        "Rebuild",
                        "Rebuild",
                        format!("created ImageBuild {name}: {reason}"),
                    )
                    .await;
                }
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    tracing::debug!(build = %name, "rebuild exists already");
                }
                Err(source) => {
                    return Err(Error::BuildCreate { name, source });
                }
            }
            // Look again once the cache has the new build (it is unfinished: the next
            // decision waits for it).
            Ok(Action::requeue(RECHECK))
        }
    }
}

pub fn error_policy(_t: Arc<ImageTemplate>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "rebuild reconcile failed");
    ctx.metrics.failure(CONTROLLER, err.category());
    err.action(ctx.settings.error_backoff)
}

/// The templates to look at when `channel` changes: those with a build whose parent came
/// through it.
pub fn templates_reading(
    channel: &ImageChannel,
    builds: &[Arc<ImageBuild>],
) -> Vec<(Option<String>, String)> {
    let mut out: Vec<(Option<String>, String)> =
        super::build::ancestry::builds_reading(channel, builds)
            .iter()
            .filter_map(|b| {
                b.spec
                    .template_ref
                    .as_ref()
                    .map(|r| (b.namespace(), r.name.clone()))
            })
            .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::{
        BuildParent, ConditionStatus, ImageBuildSpec, ImageBuildStatus, ImageChannelSpec,
        ImageChannelStatus, ImageTemplateSpec, RebuildPolicy,
    };

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn template(name: &str, enabled: bool, min: Option<&str>) -> ImageTemplate {
        let mut tpl = ImageTemplate::new(
            name,
            ImageTemplateSpec {
                template: Some("x".into()),
                rebuild_on_parent_change: Some(RebuildPolicy {
                    enabled,
                    min_interval: min.map(String::from),
                }),
                ..Default::default()
            },
        );
        tpl.metadata.namespace = Some("ns".into());
        tpl
    }

    fn child(
        name: &str,
        tpl: &str,
        parent: &str,
        channel: &str,
        at: i64,
        phase: BuildPhase,
    ) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template(tpl));
        b.metadata.namespace = Some("ns".into());
        b.metadata.creation_timestamp = Some(t(at));
        b.metadata.labels = Some(BTreeMap::from([
            ("track".to_string(), "stable".to_string()),
            (
                "kustomize.toolkit.fluxcd.io/name".to_string(),
                "apps".to_string(),
            ),
        ]));
        b.spec.variables.insert("v".into(), serde_json::json!(1));
        b.status = Some(ImageBuildStatus {
            phase: Some(phase),
            parent: Some(BuildParent {
                build: parent.into(),
                channel: Some(channel.into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        b
    }

    fn channel(name: &str, target: &str) -> ImageChannel {
        let mut c = ImageChannel::new(name, ImageChannelSpec::pinned("base", target));
        c.metadata.namespace = Some("ns".into());
        let mut conds = vec![];
        kiln_crds::set_condition(
            &mut conds,
            READY,
            ConditionStatus::True,
            "TargetVerified",
            "",
            None,
            t(0),
        );
        c.status = Some(ImageChannelStatus {
            current_build: Some(target.into()),
            conditions: conds,
            ..Default::default()
        });
        c
    }

    fn arcs<T>(v: Vec<T>) -> Vec<Arc<T>> {
        v.into_iter().map(Arc::new).collect()
    }

    #[test]
    fn a_moved_channel_rebuilds_once_with_the_spec_labels_and_reason() {
        let tpl = template("app", true, Some("10m"));
        let builds = arcs(vec![child(
            "app-1",
            "app",
            "base-1",
            "prod",
            100,
            BuildPhase::Succeeded,
        )]);
        // Up to date: nothing.
        let d = decide(
            &tpl,
            &builds,
            &arcs(vec![channel("prod", "base-1")]),
            &t(1000),
            0,
            4,
        );
        assert!(
            matches!(&d, Decision::Nothing(w) if w.contains("up to date")),
            "{d:?}"
        );
        // Moved: one rebuild, named after the move, copying spec and labels.
        let channels = arcs(vec![channel("prod", "base-2")]);
        let Decision::Create(b) = decide(&tpl, &builds, &channels, &t(1000), 0, 4) else {
            panic!()
        };
        assert_eq!(b.name_any(), rebuild_name("app", "prod", "base-2"));
        assert_eq!(b.spec.variables["v"], serde_json::json!(1));
        assert_eq!(b.labels()[PARENT_LABEL], "base-2");
        assert_eq!(b.labels()["track"], "stable");
        assert!(!b.labels().contains_key("kustomize.toolkit.fluxcd.io/name"));
        assert_eq!(
            b.annotations()[REASON_ANNOTATION],
            "ImageChannel prod moved from ImageBuild base-1 to base-2"
        );
        // Deterministic: the same move gives the same name (a restart cannot make two).
        let Decision::Create(again) = decide(&tpl, &builds, &channels, &t(2000), 0, 4) else {
            panic!()
        };
        assert_eq!(again.name_any(), b.name_any());
        // Once it exists (running), nothing more for this move.
        let mut made = (*b).clone();
        made.metadata.creation_timestamp = Some(t(1000));
        let mut with = builds.clone();
        with.push(Arc::new(made.clone()));
        let d = decide(&tpl, &with, &channels, &t(1001), 1, 4);
        assert!(
            matches!(&d, Decision::Nothing(w) if w.contains("already builds")),
            "{d:?}"
        );
        // The channel moves again while it runs: wait for it.
        let moved = arcs(vec![channel("prod", "base-3")]);
        assert!(matches!(
            decide(&tpl, &with, &moved, &t(1002), 1, 4),
            Decision::Wait(..)
        ));
        // It finished, built on base-2; base-3 waits for minInterval after it.
        made.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Succeeded),
            parent: Some(BuildParent {
                build: "base-2".into(),
                channel: Some("prod".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut with = builds.clone();
        with.push(Arc::new(made));
        match decide(&tpl, &with, &moved, &t(1060), 0, 4) {
            Decision::Wait(d, _) => assert_eq!(d, Duration::from_secs(540)),
            d => panic!("{d:?}"),
        }
        // After minInterval: the newest target, once.
        let Decision::Create(b3) = decide(&tpl, &with, &moved, &t(1600), 0, 4) else {
            panic!()
        };
        assert_eq!(b3.labels()[PARENT_LABEL], "base-3");
        // Disabled: never.
        let off = template("app", false, None);
        assert!(matches!(
            decide(&off, &builds, &channels, &t(1000), 0, 4),
            Decision::Nothing(_)
        ));
    }

    #[test]
    fn many_channels_moving_at_once_make_no_storm() {
        // 60 base channels move at once; 60 child templates, one reading each. With a limit
        // of 5 in flight, the queue creates 5, and the others wait their turn.
        let mut builds = vec![];
        let mut channels = vec![];
        let mut templates = vec![];
        for i in 0..60 {
            templates.push(template(&format!("app{i}"), true, None));
            builds.push(child(
                &format!("app{i}-1"),
                &format!("app{i}"),
                "old",
                &format!("base{i}"),
                10,
                BuildPhase::Succeeded,
            ));
            channels.push(channel(&format!("base{i}"), "new"));
        }
        let mut builds = arcs(builds);
        let channels = arcs(channels);
        let (mut created, mut waiting) = (0, 0);
        for tpl in &templates {
            match decide(tpl, &builds, &channels, &t(1000), in_flight(&builds), 5) {
                Decision::Create(mut b) => {
                    created += 1;
                    b.metadata.creation_timestamp = Some(t(1000));
                    builds.push(Arc::new(*b));
                }
                Decision::Wait(..) => waiting += 1,
                d => panic!("{d:?}"),
            }
        }
        assert_eq!((created, waiting), (5, 55));
        // Going through the queue again changes nothing until some finish.
        for tpl in &templates {
            assert!(!matches!(
                decide(tpl, &builds, &channels, &t(1001), in_flight(&builds), 5),
                Decision::Create(_)
            ));
        }
        // Every template is looked at when its channel moves.
        let reading = templates_reading(&channels[7], &builds);
        assert_eq!(reading, [(Some("ns".to_string()), "app7".to_string())]);
    }

    #[test]
    fn names_fit_a_label_value() {
        let long = "a".repeat(80);
        let n = rebuild_name(&long, "prod", "b");
        assert!(n.len() <= 63, "{n}");
        assert!(n.contains("-rb-"));
        assert_ne!(
            rebuild_name("app", "prod", "b1"),
            rebuild_name("app", "prod", "b2")
        );
    }
}
