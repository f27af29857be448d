//! Retention of finished builds (as Shipwright's BuildRun retention): per template, at most
//! `historyLimits.successful` succeeded and `historyLimits.failed` failed or cancelled builds
//! (counted apart, newest kept), each kept at most `ttlAfterSucceeded` / `ttlAfterFailed`
//! after it finished. Never deleted, whatever the limits: a build an ImageChannel points at
//! (spec or status), the parent of a build that has not finished, and a build a GitOps tool
//! applied (it would re-create it and build it again). The choice is pure ([`victims`]);
//! [`enforce`] reads (caches first) and deletes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::{BuildPhase, HistoryLimits, ImageBuild, ImageChannel, ImageTemplate};
use kube::{Api, ResourceExt};

use super::super::context::{Caches, Context, now};
use super::super::error::is_not_found;

/// How often a build past its TTL that is protected (or whose deletion failed) is looked at
/// again.
pub const RECHECK: Duration = Duration::from_secs(600);

/// Labels and annotations by which GitOps tools mark what they applied.
const GITOPS_LABEL_PREFIXES: &[&str] = &["kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/"];
const GITOPS_LABELS: &[&str] = &["argocd.argoproj.io/instance"];
const GITOPS_ANNOTATIONS: &[&str] = &["argocd.argoproj.io/tracking-id"];

/// Whether a GitOps tool (Flux, Argo CD) applied this build.
pub fn is_gitops_managed(b: &ImageBuild) -> bool {
    b.labels().keys().any(|k| {
        GITOPS_LABELS.contains(&k.as_str())
            || GITOPS_LABEL_PREFIXES.iter().any(|p| k.starts_with(p))
    }) || b
        .annotations()
        .keys()
        .any(|k| GITOPS_ANNOTATIONS.contains(&k.as_str()))
}

/// A template's retention, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    pub keep_succeeded: usize,
    pub keep_failed: usize,
    pub ttl_succeeded: Option<Duration>,
    pub ttl_failed: Option<Duration>,
}

impl Retention {
    /// The retention of `limits`; a TTL that does not parse is no TTL (and is logged).
    pub fn of(limits: &HistoryLimits) -> Retention {
        let ttl = |field: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(|t| match kiln_crds::parse_duration(t) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        tracing::warn!(field, value = t, error = %e, "ignored: not a duration");
                        None
                    }
                })
        };
        Retention {
            keep_succeeded: limits.successful.max(0) as usize,
            keep_failed: limits.failed.max(0) as usize,
            ttl_succeeded: ttl(
                "historyLimits.ttlAfterSucceeded",
                &limits.ttl_after_succeeded,
            ),
            ttl_failed: ttl("historyLimits.ttlAfterFailed", &limits.ttl_after_failed),
        }
    }

    fn ttl(&self, phase: BuildPhase) -> Option<Duration> {
        match phase {
            BuildPhase::Succeeded => self.ttl_succeeded,
            BuildPhase::Failed | BuildPhase::Cancelled => self.ttl_failed,
            _ => None,
        }
    }
}

fn finished_at(b: &ImageBuild) -> Option<Time> {
    b.status
        .as_ref()
        .and_then(|s| s.completion_time.clone())
        .or(b.metadata.creation_timestamp.clone())
}

/// How long until a finished build's TTL runs out (zero: it has); None without a TTL.
pub fn ttl_remaining(b: &ImageBuild, r: &Retention, now: &Time) -> Option<Duration> {
    let phase = b.status.as_ref().and_then(|s| s.phase)?;
    let ttl = r.ttl(phase)?;
    let at = finished_at(b)?;
    let age = (now.0.as_second() - at.0.as_second()).max(0) as u64;
    Some(ttl.saturating_sub(Duration::from_secs(age)))
}

/// The builds of a namespace retention must keep: the targets of its channels (spec and
/// status) and the parents of its builds that have not finished.
pub fn protected(builds: &[&ImageBuild], channels: &[&ImageChannel]) -> BTreeSet<String> {
    let mut keep: BTreeSet<String> = channels
        .iter()
        .flat_map(|c| {
            [
                c.spec.build.clone(),
                c.status.as_ref().and_then(|s| s.current_build.clone()),
            ]
        })
        .flatten()
        .collect();
    for b in builds {
        let st = b.status.as_ref();
        let live = !st
            .and_then(|s| s.phase)
            .is_some_and(BuildPhase::is_finished);
        if live && let Some(p) = st.and_then(|s| s.parent.as_ref()) {
            keep.insert(p.build.clone());
        }
    }
    keep
}

/// Which finished builds of a template to delete: beyond the newest `keep_*` of their group
/// (succeeded; failed and cancelled), or past their TTL; never a protected or GitOps-applied
/// one (they still count towards the limits).
pub fn victims(
    builds: &[&ImageBuild],
    r: &Retention,
    protected: &BTreeSet<String>,
    now: &Time,
) -> Vec<String> {
    let mut out = Vec::new();
    for (succeeded, keep) in [(true, r.keep_succeeded), (false, r.keep_failed)] {
        let mut group: Vec<&ImageBuild> = builds
            .iter()
            .copied()
            .filter(|b| match b.status.as_ref().and_then(|s| s.phase) {
                Some(BuildPhase::Succeeded) => succeeded,
                Some(BuildPhase::Failed | BuildPhase::Cancelled) => !succeeded,
                _ => false,
            })
            .collect();
        // Newest first.
        group.sort_by(|a, b| {
            finished_at(b)
                .map(|t| t.0)
                .cmp(&finished_at(a).map(|t| t.0))
                .then(b.name_any().cmp(&a.name_any()))
        });
        for (i, b) in group.into_iter().enumerate() {
            let expired = ttl_remaining(b, r, now).is_some_and(|d| d.is_zero());
            let name = b.name_any();
            if (i >= keep || expired) && !protected.contains(&name) && !is_gitops_managed(b) {
                out.push(name);
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("could not read ImageTemplate {name}: {source}")]
    TemplateGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list ImageBuilds in {namespace}: {source}")]
    BuildList {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list ImageChannels in {namespace}: {source}")]
    ChannelList {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not delete ImageBuild {name} (history limit): {source}")]
    BuildDelete {
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Applies the retention of `build`'s template to the template's finished builds. Reads
/// the template, builds and channels (from the caches when kept).
pub async fn enforce(build: &ImageBuild, ctx: &Context) -> Result<(), RetentionError> {
    let Some(tref) = &build.spec.template_ref else {
        return Ok(());
    };
    let ns = build.namespace().unwrap_or_default();
    let client = ctx.client.clone();
    let template = match ctx.caches.template(&ns, &tref.name) {
        Some(t) => Some(t),
        None => Api::<ImageTemplate>::namespaced(client.clone(), &ns)
            .get_opt(&tref.name)
            .await
            .map_err(|source| RetentionError::TemplateGet {
                name: tref.name.clone(),
                source,
            })?,
    };
    let retention = Retention::of(&template.map(|t| t.spec.history_limits).unwrap_or_default());
    let api: Api<ImageBuild> = Api::namespaced(client.clone(), &ns);
    // The cached builds are shared, never copied: this runs each time a build finishes, and
    // with 10 000 builds in a namespace, eight reconciles copying them all at once took
    // 250 MiB (measured with heaptrack; the operator was OOM-killed).
    let all = Caches::in_namespace(ctx.caches.builds.as_ref(), &client, &ns)
        .await
        .map_err(|source| RetentionError::BuildList {
            namespace: ns.clone(),
            source,
        })?;
    let in_ns: Vec<&ImageBuild> = all.iter().map(Arc::as_ref).collect();
    let of_template: Vec<&ImageBuild> = in_ns
        .iter()
        .copied()
        .filter(|b| {
            b.spec
                .template_ref
                .as_ref()
                .is_some_and(|r| r.name == tref.name)
        })
        .collect();
    // Protection only spares builds: with nothing to delete before it, the channels need not
    // be read (most finished builds are within their template's limits).
    let now = now();
    if victims(&of_template, &retention, &BTreeSet::new(), &now).is_empty() {
        return Ok(());
    }
    // The channel controller's cache when there is one (the operator), else a read.
    let channels = Caches::in_namespace(ctx.caches.channels.as_ref(), &client, &ns)
        .await
        .map_err(|source| RetentionError::ChannelList {
            namespace: ns.clone(),
            source,
        })?;
    let channels: Vec<&ImageChannel> = channels.iter().map(Arc::as_ref).collect();
    let keep = protected(&in_ns, &channels);
    for victim in victims(&of_template, &retention, &keep, &now) {
        match api.delete(&victim, &Default::default()).await {
            Ok(_) => tracing::info!(build = %victim, "deleted (retention)"),
            Err(e) if is_not_found(&e) => {}
            Err(source) => {
                return Err(RetentionError::BuildDelete {
                    name: victim,
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::build;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kiln_crds::{HistoryLimits, ImageBuildStatus};

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn done(name: &str, phase: BuildPhase, at: i64) -> ImageBuild {
        let mut b = build(name);
        b.status = Some(ImageBuildStatus {
            phase: Some(phase),
            completion_time: Some(t(at)),
            ..ImageBuildStatus::default()
        });
        b
    }

    fn limits(ok: usize, failed: usize) -> Retention {
        Retention {
            keep_succeeded: ok,
            keep_failed: failed,
            ..Retention::default()
        }
    }

    #[test]
    fn the_newest_of_each_group_are_kept_and_protected_builds_never_go() {
        let builds = [
            done("ok1", BuildPhase::Succeeded, 1),
            done("ok2", BuildPhase::Succeeded, 2),
            done("ok3", BuildPhase::Succeeded, 3),
            done("bad1", BuildPhase::Failed, 1),
            done("bad2", BuildPhase::Cancelled, 2),
            done("running", BuildPhase::Running, 9),
        ];
        let refs: Vec<&ImageBuild> = builds.iter().collect();
        let keep = BTreeSet::from(["ok1".to_string()]);
        let v = victims(&refs, &limits(1, 1), &keep, &t(10));
        assert_eq!(v, ["ok2", "bad1"]);
        assert!(victims(&refs, &limits(10, 10), &BTreeSet::new(), &t(10)).is_empty());
    }

    #[test]
    fn protection_only_spares_so_no_victims_unprotected_means_none_at_all() {
        // `enforce` skips reading channels when there is no victim without protection.
        let builds: Vec<ImageBuild> = (0..12)
            .map(|i| {
                let phase = if i % 3 == 0 {
                    BuildPhase::Failed
                } else {
                    BuildPhase::Succeeded
                };
                done(&format!("b{i}"), phase, i)
            })
            .collect();
        let refs: Vec<&ImageBuild> = builds.iter().collect();
        for (ok, failed) in [(0, 0), (1, 1), (3, 2), (8, 4), (20, 20)] {
            let r = limits(ok, failed);
            let free = victims(&refs, &r, &BTreeSet::new(), &t(100));
            for k in 0..12 {
                let keep: BTreeSet<String> = (0..12)
                    .filter(|j| (j * 7 + k) % 5 < 2)
                    .map(|j| format!("b{j}"))
                    .collect();
                let v = victims(&refs, &r, &keep, &t(100));
                assert!(
                    v.iter().all(|n| free.contains(n)),
                    "{v:?} not within {free:?}"
                );
            }
        }
    }

    #[test]
    fn gitops_applied_builds_are_never_deleted() {
        let mut flux = done("flux", BuildPhase::Succeeded, 1);
        flux.metadata.labels = Some(
            [(
                "kustomize.toolkit.fluxcd.io/name".to_string(),
                "apps".to_string(),
            )]
            .into(),
        );
        let mut argo = done("argo", BuildPhase::Succeeded, 2);
        argo.metadata.labels =
            Some([("argocd.argoproj.io/instance".to_string(), "x".to_string())].into());
        let mut tracked = done("tracked", BuildPhase::Failed, 1);
        tracked.metadata.annotations = Some(
            [(
                "argocd.argoproj.io/tracking-id".to_string(),
                "app:kiln.dev/ImageBuild:ns/tracked".to_string(),
            )]
            .into(),
        );
        let plain = done("plain", BuildPhase::Succeeded, 0);
        let builds = [flux, argo, tracked, plain];
        let refs: Vec<&ImageBuild> = builds.iter().collect();
        assert!(is_gitops_managed(&builds[0]) && is_gitops_managed(&builds[1]));
        assert!(is_gitops_managed(&builds[2]) && !is_gitops_managed(&builds[3]));
        // Keeping none: only the build no tool applied goes.
        assert_eq!(
            victims(&refs, &limits(0, 0), &BTreeSet::new(), &t(5)),
            ["plain"]
        );
    }

    #[test]
    fn ttls_apply_per_group_whatever_the_count() {
        let builds = [
            done("old-ok", BuildPhase::Succeeded, 0),
            done("new-ok", BuildPhase::Succeeded, 90),
            done("old-bad", BuildPhase::Failed, 0),
        ];
        let refs: Vec<&ImageBuild> = builds.iter().collect();
        let r = Retention::of(&HistoryLimits {
            successful: 10,
            failed: 10,
            ttl_after_succeeded: Some("60s".into()),
            ttl_after_failed: Some("1h".into()),
        });
        assert_eq!(r.ttl_succeeded, Some(Duration::from_secs(60)));
        assert_eq!(victims(&refs, &r, &BTreeSet::new(), &t(100)), ["old-ok"]);
        assert_eq!(
            ttl_remaining(&builds[1], &r, &t(100)),
            Some(Duration::from_secs(50))
        );
        assert_eq!(ttl_remaining(&builds[0], &r, &t(100)), Some(Duration::ZERO));
        assert_eq!(
            ttl_remaining(&builds[2], &r, &t(100)),
            Some(Duration::from_secs(3500))
        );
        assert_eq!(ttl_remaining(&builds[0], &limits(1, 1), &t(100)), None);
    }

    #[test]
    fn channel_targets_and_parents_of_running_builds_are_protected() {
        let parent = done("base-1", BuildPhase::Succeeded, 0);
        let mut child = build("child");
        child.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Running),
            parent: Some(kiln_crds::BuildParent {
                build: "base-1".into(),
                namespace: None,
                channel: Some("base".into()),
                ..Default::default()
            }),
            ..ImageBuildStatus::default()
        });
        let mut finished_child = child.clone();
        finished_child.metadata.name = Some("old-child".into());
        finished_child.status.as_mut().unwrap().phase = Some(BuildPhase::Succeeded);
        finished_child
            .status
            .as_mut()
            .unwrap()
            .parent
            .as_mut()
            .unwrap()
            .build = "base-0".into();
        let ch = kiln_crds::ImageChannel::new(
            "prod",
            kiln_crds::ImageChannelSpec::pinned("tpl", "pinned-1"),
        );
        let all = [&parent, &child, &finished_child];
        let keep = protected(&all, &[&ch]);
        assert_eq!(
            keep,
            BTreeSet::from(["base-1".to_string(), "pinned-1".to_string()]),
            "a finished child does not protect its parent"
        );
    }
}
