//! The ImageChannel controller: verifies the build a channel points at (pinned by
//! `spec.build`, or the newest succeeded build matching `spec.follow`) and publishes its
//! artifacts and a bounded history. It never writes a channel's spec.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kiln_crds::condition::{READY, reasons};
use kiln_crds::{
    BuildPhase, ChannelHistoryEntry, ConditionStatus, ImageBuild, ImageChannel, ImageChannelStatus,
    SourceArtifacts,
};
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};

use super::conditions::Conditions;
use super::context::{Context, apply_status, now};
use super::error::{Error, Result};

pub const CONTROLLER: &str = "imagechannel";

/// What the channel's target turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Points at this succeeded, unrevoked build of the template.
    Verified(Box<ImageBuild>),
    /// Waiting for the target to finish.
    Pending(String),
    /// Stalled, with a reason and message.
    Stalled(&'static str, String),
}

fn template_of(b: &ImageBuild) -> Option<&str> {
    b.spec.template_ref.as_ref().map(|r| r.name.as_str())
}

fn revocation(b: &ImageBuild) -> Option<String> {
    super::build::lineage::revoked_because(b).map(|(reason, _)| reason.to_string())
}

/// Verifies a pinned target.
pub fn verify_pinned(channel: &ImageChannel, name: &str, build: Option<&ImageBuild>) -> Verdict {
    let Some(b) = build else {
        return Verdict::Stalled(
            reasons::TARGET_NOT_FOUND,
            format!("ImageBuild {name:?} not found"),
        );
    };
    let want = &channel.spec.template_ref.name;
    if template_of(b) != Some(want.as_str()) {
        return Verdict::Stalled(
            reasons::TEMPLATE_MISMATCH,
            format!(
                "ImageBuild {name:?} runs {}, not ImageTemplate {want:?}",
                template_of(b)
                    .map(|t| format!("ImageTemplate {t:?}"))
                    .unwrap_or_else(|| "an inline template".into())
            ),
        );
    }
    if let Some(reason) = revocation(b) {
        return Verdict::Stalled(
            reasons::TARGET_REVOKED,
            format!("ImageBuild {name:?} is revoked: {reason}"),
        );
    }
    match b.status.as_ref().and_then(|s| s.phase) {
        Some(BuildPhase::Succeeded) => Verdict::Verified(Box::new(b.clone())),
        Some(p @ (BuildPhase::Failed | BuildPhase::Cancelled)) => Verdict::Stalled(
            reasons::TARGET_FAILED,
            format!("ImageBuild {name:?} is {p}"),
        ),
        p => Verdict::Pending(format!(
            "waiting for ImageBuild {name:?} to succeed (now {})",
            p.unwrap_or_default()
        )),
    }
}

/// Whether `labels` match a label selector (matchLabels and matchExpressions).
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if let Some(ml) = &sel.match_labels
        && ml.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    for e in sel.match_expressions.iter().flatten() {
        let vals = e.values.clone().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" => labels.get(&e.key).is_some_and(|v| vals.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !vals.contains(v)),
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Chooses the newest succeeded, unrevoked build of the template matching the selector.
pub fn choose_followed(channel: &ImageChannel, builds: &[ImageBuild]) -> Verdict {
    let want = &channel.spec.template_ref.name;
    let sel = channel
        .spec
        .follow
        .as_ref()
        .map(|f| f.selector.clone())
        .unwrap_or_default();
    let matching: Vec<&ImageBuild> = builds
        .iter()
        .filter(|b| template_of(b) == Some(want.as_str()))
        .filter(|b| selector_matches(&sel, b.labels()))
        .collect();
    let finished_at = |b: &ImageBuild| {
        b.status
            .as_ref()
            .and_then(|s| s.completion_time.clone())
            .or(b.metadata.creation_timestamp.clone())
            .map(|t| t.0)
    };
    let best = matching
        .iter()
        .filter(|b| b.status.as_ref().and_then(|s| s.phase) == Some(BuildPhase::Succeeded))
        .filter(|b| revocation(b).is_none())
        .max_by(|a, b| {
            finished_at(a)
                .cmp(&finished_at(b))
                .then(a.name_any().cmp(&b.name_any()))
        });
    if let Some(b) = best {
        return Verdict::Verified(Box::new((*b).clone()));
    }
    let running = matching
        .iter()
        .filter(|b| {
            !b.status
                .as_ref()
                .and_then(|s| s.phase)
                .is_some_and(BuildPhase::is_finished)
        })
        .count();
    if running > 0 {
        Verdict::Pending(format!(
            "no succeeded build of ImageTemplate {want:?} matches yet; {running} running"
        ))
    } else {
        Verdict::Stalled(
            reasons::TARGET_NOT_FOUND,
            format!(
                "no succeeded, unrevoked build of ImageTemplate {want:?} matches spec.follow.selector"
            ),
        )
    }
}

/// A verified target checked against `spec.requireProvenance`: refused (the channel stays
/// where it was, Stalled with the reason) unless its attestations verify.
pub fn require_provenance(channel: &ImageChannel, verdict: Verdict) -> Verdict {
    let (Some(req), Verdict::Verified(b)) = (&channel.spec.require_provenance, &verdict) else {
        return verdict;
    };
    match super::provenance::verify_build(b, req) {
        Ok(()) => verdict,
        Err((reason, msg)) => Verdict::Stalled(
            reason,
            format!("refusing ImageBuild {:?}: {msg}", b.name_any()),
        ),
    }
}

/// The status a channel gets for a verdict.
pub fn desired_status(channel: &ImageChannel, verdict: &Verdict, now: Time) -> ImageChannelStatus {
    let old = channel.status.clone().unwrap_or_default();
    let generation = channel.metadata.generation;
    let mut s = ImageChannelStatus {
        observed_generation: generation,
        ..old.clone()
    };
    let set = |s: &mut ImageChannelStatus, rec, stalled, ready, reason: &str, msg: &str| {
        let mut c = Conditions::new(&s.conditions, generation, now.clone());
        c.kstatus(ready, rec, stalled, reason, msg);
        s.conditions = c.into_vec();
    };
    use ConditionStatus::*;
    match verdict {
        Verdict::Verified(b) => {
            let name = b.name_any();
            let status = b.status.clone().unwrap_or_default();
            if old.current_build.as_deref() != Some(name.as_str()) {
                s.assigned_at = Some(now.clone());
                s.history.insert(
                    0,
                    ChannelHistoryEntry {
                        build: name.clone(),
                        assigned_at: Some(now.clone()),
                        reason: Some(
                            if channel.spec.follow.is_some() {
                                "Followed"
                            } else {
                                "Pinned"
                            }
                            .into(),
                        ),
                    },
                );
            }
            s.history
                .truncate(channel.spec.history_limit.max(0) as usize);
            s.current_build = Some(name.clone());
            s.template_fingerprint = status.template_fingerprint.clone();
            s.artifacts = status
                .sources
                .iter()
                .map(|src| SourceArtifacts {
                    source: src.name.clone(),
                    artifacts: src.artifacts.clone(),
                })
                .collect();
            set(
                &mut s,
                False,
                False,
                True,
                reasons::TARGET_VERIFIED,
                &format!("points at ImageBuild {name:?}"),
            );
        }
        Verdict::Pending(msg) => set(&mut s, True, False, Unknown, reasons::TARGET_PENDING, msg),
        Verdict::Stalled(reason, msg) => {
            // A revoked target stays visible as the current build, but its artifacts must
            // not be used: clear them.
            if *reason == reasons::TARGET_REVOKED || *reason == reasons::TARGET_NOT_FOUND {
                s.artifacts.clear();
            }
            set(&mut s, False, True, False, reason, msg)
        }
    }
    s
}

/// The channels a change of `build` concerns: every channel of its template in its
/// namespace (it may follow the build) and any pinned to it by name.
pub fn channels_of(
    build: &ImageBuild,
    channels: &[Arc<ImageChannel>],
) -> Vec<ObjectRef<ImageChannel>> {
    let tpl = build.spec.template_ref.as_ref().map(|r| r.name.as_str());
    let (ns, name) = (build.namespace(), build.name_any());
    channels
        .iter()
        .filter(|c| {
            c.namespace() == ns
                && (Some(c.spec.template_ref.name.as_str()) == tpl
                    || c.spec.build.as_deref() == Some(name.as_str()))
        })
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}

#[tracing::instrument(skip_all, fields(channel = %ch.name_any(), namespace = ch.namespace()))]
pub async fn reconcile(ch: Arc<ImageChannel>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let ns = ch.namespace().ok_or(Error::MissingObjectKey("namespace"))?;
    let name = ch.name_any();
    let builds: Api<ImageBuild> = Api::namespaced(ctx.client.clone(), &ns);
    let verdict = match (&ch.spec.build, &ch.spec.follow) {
        (Some(target), _) => {
            let b = builds
                .get_opt(target)
                .await
                .map_err(|source| Error::BuildGet {
                    name: target.clone(),
                    source,
                })?;
            verify_pinned(&ch, target, b.as_ref())
        }
        (None, Some(_)) => {
            let lp = ListParams::default().fields(&format!(
                "spec.templateRef.name={}",
                ch.spec.template_ref.name
            ));
            let list = builds.list(&lp).await.map_err(|source| Error::BuildList {
                namespace: ns.clone(),
                source,
            })?;
            choose_followed(&ch, &list.items)
        }
        (None, None) => Verdict::Stalled(
            reasons::TARGET_NOT_FOUND,
            "set exactly one of spec.build and spec.follow".into(),
        ),
    };
    let verdict = require_provenance(&ch, verdict);
    let old = ch.status.clone().unwrap_or_default();
    let status = desired_status(&ch, &verdict, now());
    if status == old {
        return Ok(Action::await_change());
    }
    let api: Api<ImageChannel> = Api::namespaced(ctx.client.clone(), &ns);
    apply_status(&api, &name, &status)
        .await
        .map_err(|source| Error::StatusPatch {
            kind: "ImageChannel",
            name: name.clone(),
            source,
        })?;
    let ready = |s: &ImageChannelStatus| {
        kiln_crds::find_condition(&s.conditions, READY)
            .map(|c| (c.status.clone(), c.reason.clone()))
    };
    if ready(&old) != ready(&status) || old.current_build != status.current_build {
        let (warning, reason, note) = match &verdict {
            Verdict::Verified(b) => (
                false,
                reasons::TARGET_VERIFIED,
                format!("points at ImageBuild {}", b.name_any()),
            ),
            Verdict::Pending(m) => (false, reasons::TARGET_PENDING, m.clone()),
            Verdict::Stalled(r, m) => (true, *r, m.clone()),
        };
        ctx.event(ch.as_ref(), warning, reason, "Verify", note)
            .await;
    }
    Ok(Action::await_change())
}

pub fn error_policy(_c: Arc<ImageChannel>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "ImageChannel reconcile failed");
    ctx.metrics.failure(CONTROLLER, err.category());
    err.action(ctx.settings.error_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use kiln_crds::condition::STALLED;
    use kiln_crds::{
        Artifact, ImageBuildSpec, ImageBuildStatus, ImageChannelSpec, Revocation, SourceStatus,
    };

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    pub fn build(name: &str, tpl: &str, phase: BuildPhase, done_at: i64) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template(tpl));
        b.metadata.namespace = Some("ns".into());
        b.status = Some(ImageBuildStatus {
            phase: Some(phase),
            completion_time: Some(t(done_at)),
            template_fingerprint: Some("sha256:ab".into()),
            sources: vec![SourceStatus {
                name: "null.a".into(),
                artifacts: vec![Artifact {
                    builder_id: "null".into(),
                    id: format!("{name}-art"),
                    ..Artifact::default()
                }],
                ..SourceStatus::default()
            }],
            ..ImageBuildStatus::default()
        });
        b
    }

    fn pinned(build: &str) -> ImageChannel {
        let mut c = ImageChannel::new("prod", ImageChannelSpec::pinned("tpl", build));
        c.metadata.namespace = Some("ns".into());
        c.metadata.generation = Some(2);
        c
    }

    #[test]
    fn a_build_concerns_the_channels_of_its_template_and_those_pinned_to_it() {
        let mut other_ns = pinned("b1");
        other_ns.metadata.namespace = Some("elsewhere".into());
        let mut following = ImageChannel::new("edge", ImageChannelSpec::pinned("tpl", "x"));
        following.metadata.namespace = Some("ns".into());
        following.spec.build = None;
        let mut pinned_by_name =
            ImageChannel::new("hotfix", ImageChannelSpec::pinned("other-tpl", "b1"));
        pinned_by_name.metadata.namespace = Some("ns".into());
        let mut unrelated = ImageChannel::new("misc", ImageChannelSpec::pinned("other-tpl", "b9"));
        unrelated.metadata.namespace = Some("ns".into());
        let channels: Vec<Arc<ImageChannel>> = [other_ns, following, pinned_by_name, unrelated]
            .into_iter()
            .map(Arc::new)
            .collect();
        let b = build("b1", "tpl", BuildPhase::Succeeded, 10);
        let names: Vec<String> = channels_of(&b, &channels)
            .into_iter()
            .map(|r| format!("{}/{}", r.namespace.unwrap(), r.name))
            .collect();
        assert_eq!(names, ["ns/edge", "ns/hotfix"]);
    }

    #[test]
    fn pinned_target_is_verified() {
        let c = pinned("b1");
        let b = build("b1", "tpl", BuildPhase::Succeeded, 10);
        let v = verify_pinned(&c, "b1", Some(&b));
        assert!(matches!(v, Verdict::Verified(_)));
        let s = desired_status(&c, &v, t(100));
        assert_eq!(s.current_build.as_deref(), Some("b1"));
        assert_eq!(s.artifacts[0].artifacts[0].id, "b1-art");
        assert_eq!(s.history.len(), 1);
        assert_eq!(s.history[0].reason.as_deref(), Some("Pinned"));
        assert!(kiln_crds::is_condition_true(&s.conditions, READY));
        assert_eq!(s.observed_generation, Some(2));
        // Reconciling again changes nothing.
        let mut c2 = c.clone();
        c2.status = Some(s.clone());
        assert_eq!(desired_status(&c2, &v, t(200)), s);
    }

    #[test]
    fn pinned_target_problems_stall() {
        let c = pinned("b1");
        let cases = [
            (None, reasons::TARGET_NOT_FOUND),
            (
                Some(build("b1", "other", BuildPhase::Succeeded, 1)),
                reasons::TEMPLATE_MISMATCH,
            ),
            (
                Some(build("b1", "tpl", BuildPhase::Failed, 1)),
                reasons::TARGET_FAILED,
            ),
        ];
        for (b, reason) in cases {
            match verify_pinned(&c, "b1", b.as_ref()) {
                Verdict::Stalled(r, _) => assert_eq!(r, reason),
                v => panic!("{v:?}"),
            }
        }
        let mut b = build("b1", "tpl", BuildPhase::Succeeded, 1);
        b.spec.revoked = Some(Revocation {
            reason: "CVE-2024-1".into(),
        });
        let v = verify_pinned(&c, "b1", Some(&b));
        let s = desired_status(&c, &v, t(1));
        let stalled = kiln_crds::find_condition(&s.conditions, STALLED).unwrap();
        assert_eq!(stalled.status, "True");
        assert_eq!(stalled.reason, reasons::TARGET_REVOKED);
        assert!(stalled.message.contains("CVE-2024-1"));
        assert!(!kiln_crds::is_condition_true(&s.conditions, READY));
        assert!(s.artifacts.is_empty());
        let running = build("b1", "tpl", BuildPhase::Running, 1);
        assert!(matches!(
            verify_pinned(&c, "b1", Some(&running)),
            Verdict::Pending(_)
        ));
    }

    #[test]
    fn follow_picks_the_newest_matching_success() {
        let sel = LabelSelector {
            match_labels: Some(BTreeMap::from([("track".into(), "stable".into())])),
            ..LabelSelector::default()
        };
        let mut c = ImageChannel::new("latest", ImageChannelSpec::following("tpl", sel));
        c.metadata.namespace = Some("ns".into());
        let label = |mut b: ImageBuild, v: &str| {
            b.metadata.labels = Some(BTreeMap::from([("track".into(), v.into())]));
            b
        };
        let mut revoked = label(build("b4", "tpl", BuildPhase::Succeeded, 40), "stable");
        revoked.spec.revoked = Some(Revocation {
            reason: "bad".into(),
        });
        let builds = vec![
            label(build("b1", "tpl", BuildPhase::Succeeded, 10), "stable"),
            label(build("b2", "tpl", BuildPhase::Succeeded, 20), "stable"),
            label(build("b3", "tpl", BuildPhase::Succeeded, 30), "canary"),
            revoked,
            label(build("b5", "tpl", BuildPhase::Failed, 50), "stable"),
            label(build("b6", "other", BuildPhase::Succeeded, 60), "stable"),
        ];
        match choose_followed(&c, &builds) {
            Verdict::Verified(b) => assert_eq!(b.name_any(), "b2"),
            v => panic!("{v:?}"),
        }
        let s = desired_status(&c, &choose_followed(&c, &builds), t(1));
        assert_eq!(s.history[0].reason.as_deref(), Some("Followed"));
        assert!(matches!(
            choose_followed(&c, &[]),
            Verdict::Stalled(reasons::TARGET_NOT_FOUND, _)
        ));
        let running = vec![label(build("b7", "tpl", BuildPhase::Running, 1), "stable")];
        assert!(matches!(choose_followed(&c, &running), Verdict::Pending(_)));
    }

    #[test]
    fn a_channel_requiring_provenance_stays_put_when_the_target_has_none() {
        let mut c = pinned("b2");
        c.spec.require_provenance = Some(kiln_crds::ProvenanceRequirement {
            public_keys: vec!["-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n".into()],
        });
        // Serving b1 already.
        c.status = Some(desired_status(
            &c,
            &Verdict::Verified(Box::new(build("b1", "tpl", BuildPhase::Succeeded, 1))),
            t(1),
        ));
        let b2 = build("b2", "tpl", BuildPhase::Succeeded, 2);
        let v = require_provenance(&c, verify_pinned(&c, "b2", Some(&b2)));
        let s = desired_status(&c, &v, t(2));
        assert_eq!(s.current_build.as_deref(), Some("b1"), "stays where it was");
        assert_eq!(s.artifacts[0].artifacts[0].id, "b1-art");
        let stalled = kiln_crds::find_condition(&s.conditions, STALLED).unwrap();
        assert_eq!(stalled.reason, reasons::PROVENANCE_MISSING);
        assert!(
            stalled.message.contains("refusing ImageBuild \"b2\""),
            "{}",
            stalled.message
        );
        assert!(!kiln_crds::is_condition_true(&s.conditions, READY));
        // Without the requirement the same target is taken.
        c.spec.require_provenance = None;
        let v = require_provenance(&c, verify_pinned(&c, "b2", Some(&b2)));
        assert_eq!(
            desired_status(&c, &v, t(3)).current_build.as_deref(),
            Some("b2")
        );
    }

    #[test]
    fn history_is_bounded_newest_first() {
        let mut c = pinned("b1");
        c.spec.history_limit = 2;
        for (i, name) in ["b1", "b2", "b3"].iter().enumerate() {
            c.spec.build = Some(name.to_string());
            let b = build(name, "tpl", BuildPhase::Succeeded, i as i64);
            let s = desired_status(&c, &verify_pinned(&c, name, Some(&b)), t(i as i64));
            c.status = Some(s);
        }
        let h: Vec<_> = c
            .status
            .unwrap()
            .history
            .iter()
            .map(|e| e.build.clone())
            .collect();
        assert_eq!(h, ["b3", "b2"]);
    }

    #[test]
    fn selectors() {
        let labels = BTreeMap::from([("a".to_string(), "1".to_string())]);
        let expr = |key: &str, op: &str, vals: &[&str]| LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: Some(vals.iter().map(|s| s.to_string()).collect()),
            }]),
            ..LabelSelector::default()
        };
        assert!(selector_matches(&LabelSelector::default(), &labels));
        assert!(selector_matches(&expr("a", "In", &["1", "2"]), &labels));
        assert!(!selector_matches(&expr("a", "NotIn", &["1"]), &labels));
        assert!(selector_matches(&expr("b", "DoesNotExist", &[]), &labels));
        assert!(!selector_matches(&expr("b", "Exists", &[]), &labels));
    }
}
