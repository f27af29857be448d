//! The ImageBuild controller, in four phases, each a module with its own output type and
//! error enum:
//!
//! 1. [`observe`] reads what the build needs (its Job, its snapshot or the template and
//!    channels to take one from, its runner's access after a restart, its parent) →
//!    [`observe::Observed`];
//! 2. [`decide`] is a pure function of that → [`decide::Decision`] (a [`decide::Plan`]:
//!    keep, settle, follow the Job, or launch it);
//! 3. [`apply`] carries out the plan's writes (snapshot ConfigMap, runner RBAC, Job,
//!    suspension) and the [`ledgers`];
//! 4. [`status`] computes the controller's part of the status from the outcome and writes it
//!    once, then publishes the events of what changed; a build that just finished, or whose
//!    time to live ran out, gets its template's [`retention`] applied.
//!
//! Runners own their own entries of `status.sources`; this controller never writes them.
//! [`snapshot`] takes a snapshot from a template (blocking, no API call) and [`lineage`]
//! passes revocations down from parent to child.

pub mod ancestry;
pub mod apply;
pub mod decide;
pub mod ledgers;
pub mod lineage;
pub mod observe;
pub mod pods;
pub mod registry;
pub mod retention;
pub mod snapshot;
pub mod status;

use std::sync::Arc;

use kiln_crds::condition::reasons;
use kiln_crds::{ImageBuild, ImageBuildStatus};
use kube::ResourceExt;
use kube::runtime::controller::Action;

use super::context::{Context, now};
use super::error::{Error, Result};
use super::resources::{RunnerDefaults, Snapshot};
use decide::Plan;
use status::{Announce, JobView, job_view};

pub use lineage::{children_to_revoke, is_revoked};

pub const CONTROLLER: &str = "imagebuild";

#[tracing::instrument(skip_all, fields(build = %build.name_any(), namespace = build.namespace()))]
pub async fn reconcile(build: Arc<ImageBuild>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    build
        .namespace()
        .ok_or(Error::MissingObjectKey("namespace"))?;
    build.uid().ok_or(Error::MissingObjectKey("uid"))?;
    if ctx.written.stale(&build) {
        // The cache predates this process's last status write (a Job's or pod's event came
        // first): the write's own event brings the build back; acting on the older status
        // now would write it again and repeat its events.
        ctx.metrics.build_step("stale"); // counted (a step of no length)
        return Ok(Action::requeue(ledgers::Written::PATIENCE));
    }

    let step = ctx.metrics.build_step("observe");
    let observed = observe::observe(&build, &ctx).await?;
    drop(step);
    let decision = decide::decide(&build, observed, &ctx.settings.runner, &now());
    // A version about to run, or reused, is labelled before its Job exists or its success is
    // written (bucket, fingerprint, channels): an ImageChannel following
    // `channel.kiln.dev/<name>` then follows it. A launch writes them alongside the snapshot.
    let mut labels = registry_labels(&build, &decision.plan);
    if !matches!(decision.plan, Plan::Launch(_))
        && let Some(meta) = labels.take()
    {
        let _step = ctx.metrics.build_step("labels");
        registry::apply_labels(&ctx, &build, &meta)
            .await
            .map_err(|source| apply::ApplyError::Labels {
                name: build.name_any(),
                source,
            })?;
    }
    let mut expired = false;
    // The `Queued` event of a Job created now, published with the status write.
    let mut queued = None;
    let step = ctx.metrics.build_step("apply");
    let (view, snapshot, announce) = match decision.plan {
        Plan::Keep { view, expired: e } => {
            apply::forget(&ctx, &build);
            expired = e;
            (view, None, Announce::RevocationOnly)
        }
        Plan::Settle {
            view,
            snapshot,
            announce,
        } => (view, snapshot.map(|s| *s), announce),
        Plan::Follow(f) => {
            let (view, announce) = (f.view.clone(), f.announce);
            let snapshot = apply::follow(&build, &ctx, *f).await?;
            (view, snapshot, announce)
        }
        Plan::Launch(l) => {
            let (job, snapshot, note) = apply::launch(&build, &ctx, *l, labels).await?;
            queued = note;
            (
                job_view(&job, build.spec.cancel),
                Some(snapshot),
                if queued.is_some() {
                    Announce::Launched
                } else {
                    Announce::Transition
                },
            )
        }
    };
    drop(step);
    let desired = desired(
        &build,
        &view,
        snapshot.as_ref(),
        decision.parent.as_ref(),
        &ctx.settings.runner,
        &ctx.caches,
    );
    let step = ctx.metrics.build_step("status");
    let queued_event = async {
        if let Some(note) = queued {
            ctx.event(build.as_ref(), false, reasons::QUEUED, "CreateJob", note)
                .await;
        }
    };
    let (written, ()) = futures::join!(
        status::write(&build, &ctx, &desired, &view, announce),
        queued_event
    );
    let written = written?;
    drop(step);
    if written.finished_now || expired {
        let _step = ctx.metrics.build_step("retention");
        if let Err(e) = retention::enforce(&build, &ctx).await {
            tracing::warn!(error = %e, "could not apply the retention");
        }
    }
    Ok(decision
        .requeue
        .map(Action::requeue)
        .unwrap_or_else(Action::await_change))
}

/// The registry labels a build still lacks, when its plan runs or reuses a snapshot.
fn registry_labels(build: &ImageBuild, plan: &Plan) -> Option<registry::Metadata> {
    match plan {
        Plan::Launch(l) => registry::labels_for(build, &l.snapshot),
        Plan::Settle {
            view,
            snapshot: Some(s),
            ..
        } if view.phase == kiln_crds::BuildPhase::Succeeded => registry::labels_for(build, s),
        _ => None,
    }
}

/// The status for `view`, with the parent the runners' inputs point at (when no
/// `kiln-channel` named one), whether its channel moved on, and the revocation the parent
/// passes down.
fn desired(
    build: &ImageBuild,
    view: &JobView,
    snapshot: Option<&Snapshot>,
    parent: Option<&ImageBuild>,
    defaults: &RunnerDefaults,
    caches: &super::context::Caches,
) -> ImageBuildStatus {
    let now = now();
    let desired = status::desired_status(build, view, snapshot, now.clone(), defaults);
    // The caches are read only when there is something to find (most builds have no
    // parent and report no inputs).
    let desired = if desired.parent.is_none() && ancestry::has_inputs(build) {
        ancestry::with_found_parent(build, desired, &caches.all_builds(), &caches.all_channels())
    } else {
        desired
    };
    let desired = if desired.parent.as_ref().is_some_and(|p| p.channel.is_some()) {
        ancestry::with_parent_currency(build, desired, &caches.all_channels(), now.clone())
    } else {
        desired
    };
    let mut desired = lineage::with_parent_revocation(build, parent, desired, now);
    desired.rebuild_reason = rebuild_reason(build);
    desired
}

/// Why the rebuild controller created `build`, from the annotation it set.
fn rebuild_reason(build: &ImageBuild) -> Option<String> {
    build
        .annotations()
        .get(super::rebuild::REASON_ANNOTATION)
        .cloned()
}

pub fn error_policy(_b: Arc<ImageBuild>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "ImageBuild reconcile failed");
    ctx.metrics.failure(CONTROLLER, err.category());
    err.action(ctx.settings.error_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::build;
    use kiln_crds::BuildPhase;
    use kiln_crds::condition::reasons;

    #[test]
    fn a_rebuild_says_why_in_its_status() {
        let view = JobView::fixed(BuildPhase::Pending, reasons::QUEUED, "queued");
        let caches = super::super::context::Caches::default();
        let plain = build("b");
        let s = desired(
            &plain,
            &view,
            None,
            None,
            &RunnerDefaults::default(),
            &caches,
        );
        assert_eq!(s.rebuild_reason, None);
        let mut rebuilt = build("app-rb-1");
        rebuilt.metadata.annotations = Some(
            [(
                super::super::rebuild::REASON_ANNOTATION.to_string(),
                "parent channel base-prod moved to base-2".to_string(),
            )]
            .into(),
        );
        let s = desired(
            &rebuilt,
            &view,
            None,
            None,
            &RunnerDefaults::default(),
            &caches,
        );
        assert_eq!(
            s.rebuild_reason.as_deref(),
            Some("parent channel base-prod moved to base-2")
        );
    }
}
