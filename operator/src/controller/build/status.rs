//! Phase 4, **status**: the controller's part of the build's status, computed by pure
//! functions and written once per reconcile (server-side apply, only when it changed), then
//! the events and metrics of what changed. Runners own `status.sources`; this module never
//! writes them.

use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::{READY, RECONCILING, STALLED, SUCCEEDED, reasons};
use kiln_crds::{
    BuildPhase, ConditionStatus, ImageBuild, ImageBuildStatus, RevocationStatus, format_duration,
};
use kube::{Api, ResourceExt};

use super::super::conditions::Conditions;
use super::super::context::{Context, apply_status};
use super::super::resources::{self, RunnerDefaults, Snapshot};
use super::super::runner_pod;

/// Where the build is, as its phase with a condition reason and message, and the Job's
/// times when a Job gave them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobView {
    pub phase: BuildPhase,
    pub reason: &'static str,
    pub message: String,
    pub start_time: Option<Time>,
    pub completion_time: Option<Time>,
    /// The view comes from the build's Job (which exists): the status names it.
    pub has_job: bool,
}

impl JobView {
    /// A phase no Job gave (the build waits, failed before its Job, or was cancelled).
    pub fn fixed(phase: BuildPhase, reason: &'static str, message: impl Into<String>) -> JobView {
        JobView {
            phase,
            reason,
            message: message.into(),
            start_time: None,
            completion_time: None,
            has_job: false,
        }
    }
}

fn job_condition<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// The phase a Job gives its build. `cancel` is the build's `spec.cancel`.
pub fn job_view(job: &Job, cancel: bool) -> JobView {
    let status = job.status.clone().unwrap_or_default();
    let active = status.active.unwrap_or(0);
    let view = |phase, reason, message: String| JobView {
        phase,
        reason,
        message,
        start_time: status.start_time.clone(),
        completion_time: status.completion_time.clone(),
        has_job: true,
    };
    if job_condition(job, "Complete").is_some()
        || job_condition(job, "SuccessCriteriaMet").is_some()
    {
        let done = status.succeeded.unwrap_or(0);
        return view(
            BuildPhase::Succeeded,
            reasons::BUILD_SUCCEEDED,
            format!("{done} source(s) built"),
        );
    }
    if let Some(c) = job_condition(job, "Failed").or_else(|| job_condition(job, "FailureTarget")) {
        let deadline = c.reason.as_deref() == Some("DeadlineExceeded");
        if cancel && !deadline {
            return view(
                BuildPhase::Cancelled,
                reasons::CANCELLED,
                "cancelled".into(),
            );
        }
        let failed = status.failed_indexes.clone().unwrap_or_default();
        let msg = if deadline {
            "spec.timeout ran out; the runner pods were stopped".to_string()
        } else if !failed.is_empty() {
            format!("source(s) at index {failed} failed")
        } else {
            c.message.clone().unwrap_or_else(|| "the Job failed".into())
        };
        let reason = if deadline {
            reasons::TIMEOUT
        } else {
            reasons::BUILD_FAILED
        };
        return view(BuildPhase::Failed, reason, msg);
    }
    if cancel {
        // Pods being deleted are counted in `terminating`, not `active`: the build is
        // cancelled once they are gone too (their runners have cleaned up and written their
        // final state by then).
        let active = active + status.terminating.unwrap_or(0);
        if active == 0 {
            return view(
                BuildPhase::Cancelled,
                reasons::CANCELLED,
                "cancelled by spec.cancel".into(),
            );
        }
        return view(
            BuildPhase::Running,
            reasons::CANCELLED,
            format!("cancelling: waiting for {active} pod(s) to finish their cleanup"),
        );
    }
    // Running once a runner pod runs (the Job's `ready` count: a runner has no readiness
    // probe, so it is ready when its container started) or one has ended. A pod that is
    // `active` but still Pending (unschedulable, pulling its image) leaves the build Pending:
    // no Running ↔ Pending flip-flop while the pod diagnosis says why it does not start.
    let ready = status.ready.unwrap_or(0);
    let started = ready > 0 || status.succeeded.unwrap_or(0) + status.failed.unwrap_or(0) > 0;
    if started {
        view(
            BuildPhase::Running,
            reasons::BUILDING,
            format!("{ready} pod(s) running"),
        )
    } else {
        // No start time while no runner pod runs: the Job controller sets the Job's a moment
        // after the Job is created, and copying it would cost every build a status write of
        // its own; the time arrives with `Running` (or the end), which is written anyway.
        JobView {
            start_time: None,
            ..view(
                BuildPhase::Pending,
                reasons::QUEUED,
                "waiting for the runner pods to start".into(),
            )
        }
    }
}

/// The view of a finished build, from its own status (it never changes again).
pub fn finished_view(old: &ImageBuildStatus) -> JobView {
    let ready = kiln_crds::find_condition(&old.conditions, READY);
    // The reason must be one of ours ('static): a foreign one reads as BuildFailed.
    let reason = ready
        .and_then(|c| reasons::ALL.iter().find(|r| **r == c.reason))
        .copied()
        .unwrap_or(reasons::BUILD_FAILED);
    JobView::fixed(
        old.phase.unwrap_or_default(),
        reason,
        ready.map(|c| c.message.clone()).unwrap_or_default(),
    )
}

/// Sets the four conditions of a phase: (Reconciling, Stalled, Ready, Succeeded).
fn set_phase_conditions(c: &mut Conditions, view: &JobView) {
    use ConditionStatus::*;
    let (rec, stalled, ready, succeeded) = match view.phase {
        BuildPhase::Pending | BuildPhase::Running => (True, False, Unknown, Unknown),
        BuildPhase::Succeeded => (False, False, True, True),
        BuildPhase::Failed | BuildPhase::Cancelled => (False, True, False, False),
    };
    let only_if_true = |s: ConditionStatus| if s == True { view.message.as_str() } else { "" };
    c.set(READY, ready, view.reason, &view.message);
    c.set(RECONCILING, rec, view.reason, only_if_true(rec));
    c.set(STALLED, stalled, view.reason, only_if_true(stalled));
    c.set(SUCCEEDED, succeeded, view.reason, &view.message);
}

/// The controller's part of the status: phase, conditions, times and summaries. The old
/// status gives transition times and the fields kept once set; `sources` are left out
/// (runners own them) but for the entries carried from an earlier build.
pub fn desired_status(
    build: &ImageBuild,
    view: &JobView,
    snapshot: Option<&Snapshot>,
    now: Time,
    defaults: &RunnerDefaults,
) -> ImageBuildStatus {
    let old = build.status.clone().unwrap_or_default();
    let generation = build.metadata.generation;
    let mut conditions = Conditions::new(&old.conditions, generation, now.clone());
    set_phase_conditions(&mut conditions, view);
    let phase = view.phase;

    let total = snapshot.map(|s| s.builds.len()).or_else(|| {
        old.sources_summary
            .as_deref()
            .and_then(|s| s.split_once('/'))
            .and_then(|(_, t)| t.parse().ok())
    });
    // Sources not run again (resumed or reused): the controller writes their entries.
    let carried: Vec<kiln_crds::SourceStatus> = match snapshot {
        Some(s) => s.carried.clone(),
        None => old
            .sources
            .iter()
            .filter(|e| e.carried_from.is_some())
            .cloned()
            .collect(),
    };
    let total = total.map(|t| match snapshot {
        Some(_) => t + carried.len(),
        None => t,
    });
    let reused = snapshot.is_some_and(|s| s.reused_from.is_some()) || old.reused_from.is_some();
    let done = old
        .sources
        .iter()
        .filter(|s| s.phase.is_some_and(BuildPhase::is_finished))
        .map(|s| s.name.as_str())
        .chain(carried.iter().map(|s| s.name.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let start_time = view.start_time.clone().or(old.start_time.clone());
    let completion_time = if phase.is_finished() {
        view.completion_time
            .clone()
            .or(old.completion_time.clone())
            .or(Some(now.clone()))
    } else {
        None
    };
    let duration = match (&start_time, &completion_time) {
        (Some(s), Some(c)) => {
            let secs = (c.0.as_second() - s.0.as_second()).max(0) as u64;
            Some(format_duration(Duration::from_secs(secs)))
        }
        _ => None,
    };
    let revoked = build.spec.revoked.as_ref().map(|r| RevocationStatus {
        reason: r.reason.clone(),
        since: old
            .revoked
            .as_ref()
            .filter(|o| o.inherited_from.is_none())
            .and_then(|o| o.since.clone())
            .or(Some(now.clone())),
        inherited_from: None,
    });
    ImageBuildStatus {
        observed_generation: generation,
        phase: Some(phase),
        conditions: conditions.into_vec(),
        template_fingerprint: snapshot
            .map(|s| s.fingerprint.clone())
            .or(old.template_fingerprint.clone()),
        snapshot: snapshot
            .filter(|_| !reused)
            .map(|_| resources::snapshot_name(&build.name_any()))
            .or(old.snapshot.clone()),
        job_name: old.job_name.clone().or_else(|| {
            (!reused
                && (view.has_job
                    || snapshot.is_some() && phase != BuildPhase::Pending
                    || start_time.is_some()))
            .then(|| resources::job_name(&build.name_any()))
        }),
        start_time,
        completion_time,
        duration,
        sources_summary: total.map(|t| ImageBuildStatus::summarize_sources(done, t)),
        sources: carried,
        parent: snapshot
            .and_then(|s| s.parent.clone())
            .or(old.parent.clone()),
        revoked: revoked.or(old.revoked.filter(|r| r.inherited_from.is_some())),
        runner: match snapshot {
            Some(s) => runner_pod::needs(s, build.spec.runner.as_ref(), defaults)
                .ok()
                .and_then(|n| n.status()),
            None => old.runner.clone(),
        },
        registry: snapshot
            .and_then(|s| s.registry.as_ref())
            .map(super::registry::status_of)
            .or(old.registry.clone()),
        inputs_digest: snapshot
            .and_then(|s| s.inputs_digest.clone())
            .or(old.inputs_digest.clone()),
        reused_from: snapshot
            .and_then(|s| s.reused_from.clone())
            .or(old.reused_from.clone()),
        // Set by the caller from the build's annotation.
        rebuild_reason: old.rebuild_reason.clone(),
    }
}

/// The controller-owned fields of a status, to tell whether a write is needed: all but
/// the runners' entries of `sources` (carried entries are the controller's).
pub fn controller_part(s: &ImageBuildStatus) -> ImageBuildStatus {
    ImageBuildStatus {
        sources: s
            .sources
            .iter()
            .filter(|e| e.carried_from.is_some())
            .cloned()
            .collect(),
        ..s.clone()
    }
}

/// Which event a changed status announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announce {
    /// The phase, when it changed (`Queued`, `Building`, then how it ended).
    Transition,
    /// As `Transition`, for a build whose Job was just created with its own `Queued` event
    /// ("Job … created"): a change to Pending says nothing more.
    Launched,
    /// A Warning with the reason the build waits, when it starts waiting for that reason.
    Waiting,
    /// Only a revocation inherited from the parent.
    RevocationOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("could not write the status of ImageBuild {name}: {source}")]
    Write {
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// What the status phase did.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    /// The status was written (it changed).
    pub changed: bool,
    /// The build has just finished (retention applies).
    pub finished_now: bool,
}

/// Writes `desired` if it differs from the build's status, then announces what changed.
pub async fn write(
    build: &ImageBuild,
    ctx: &Context,
    desired: &ImageBuildStatus,
    view: &JobView,
    announce: Announce,
) -> Result<Written, StatusError> {
    let old = build.status.clone().unwrap_or_default();
    if controller_part(&old) == *desired {
        return Ok(Written {
            changed: false,
            finished_now: false,
        });
    }
    let name = build.name_any();
    let api: Api<ImageBuild> =
        Api::namespaced(ctx.client.clone(), &build.namespace().unwrap_or_default());
    let written = apply_status(&api, &name, desired)
        .await
        .map_err(|source| StatusError::Write { name, source })?;
    ctx.written.remember(&written);
    let phase_changed = old.phase != Some(view.phase);
    match announce {
        Announce::Transition if phase_changed => transition_event(build, ctx, desired, view).await,
        Announce::Launched if phase_changed && view.phase != BuildPhase::Pending => {
            transition_event(build, ctx, desired, view).await
        }
        Announce::Waiting => {
            let old_reason =
                kiln_crds::find_condition(&old.conditions, READY).map(|c| c.reason.as_str());
            if old.phase.is_none() || old_reason != Some(view.reason) {
                ctx.event(build, true, view.reason, "Resolve", view.message.clone())
                    .await;
            }
        }
        _ => {}
    }
    revoked_event(build, ctx, &old, desired).await;
    Ok(Written {
        changed: true,
        finished_now: phase_changed && view.phase.is_finished(),
    })
}

/// The event and metrics of a phase change.
async fn transition_event(
    build: &ImageBuild,
    ctx: &Context,
    status: &ImageBuildStatus,
    view: &JobView,
) {
    let phase = view.phase;
    let reason = match phase {
        BuildPhase::Pending => reasons::QUEUED,
        BuildPhase::Running => reasons::BUILDING,
        _ => view.reason,
    };
    let warning = matches!(phase, BuildPhase::Failed);
    ctx.event(
        build,
        warning,
        reason,
        "Build",
        format!("{phase}: {}", view.message),
    )
    .await;
    if phase.is_finished() {
        ctx.metrics
            .builds_finished
            .get_or_create(&super::super::metrics::PhaseLabels {
                phase: phase.to_string(),
            })
            .inc();
        if let (Some(s), Some(c)) = (&status.start_time, &status.completion_time) {
            let secs = (c.0.as_second() - s.0.as_second()).max(0) as f64;
            ctx.metrics.build_duration.observe(secs);
        }
    }
}

/// A warning event when a build becomes revoked through its parent.
async fn revoked_event(
    build: &ImageBuild,
    ctx: &Context,
    old: &ImageBuildStatus,
    new: &ImageBuildStatus,
) {
    if let (None, Some(r)) = (&old.revoked, &new.revoked)
        && let Some(from) = &r.inherited_from
    {
        ctx.event(
            build,
            true,
            reasons::PARENT_REVOKED,
            "Revoke",
            format!("revoked with its ancestor {from}: {}", r.reason),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::{build, snapshot};
    use k8s_openapi::api::batch::v1::JobStatus;
    use kiln_crds::SourceStatus;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn job_with(cond: Option<(&str, &str)>, active: i32) -> Job {
        Job {
            status: Some(JobStatus {
                active: Some(active),
                start_time: Some(t(10)),
                conditions: cond.map(|(ty, reason)| {
                    vec![JobCondition {
                        type_: ty.into(),
                        status: "True".into(),
                        reason: Some(reason.into()),
                        ..JobCondition::default()
                    }]
                }),
                ..JobStatus::default()
            }),
            ..Job::default()
        }
    }

    #[test]
    fn job_states_map_to_phases() {
        assert_eq!(
            job_view(&job_with(None, 0), false).phase,
            BuildPhase::Pending
        );
        // active pods that do not run yet (unschedulable, pulling): still Pending, and
        // without the Job's start time (which would cost a status write of its own)
        let waiting = job_view(&job_with(None, 2), false);
        assert_eq!(waiting.phase, BuildPhase::Pending);
        assert_eq!(waiting.start_time, None);
        assert!(
            waiting.has_job,
            "the status names the Job as soon as it exists"
        );
        let mut running = job_with(None, 2);
        running.status.as_mut().unwrap().ready = Some(1);
        let view = job_view(&running, false);
        assert_eq!(view.phase, BuildPhase::Running);
        assert_eq!(view.start_time, Some(t(10)));
        assert_eq!(view.message, "1 pod(s) running");
        assert_eq!(
            job_view(&job_with(Some(("Complete", "")), 0), false).phase,
            BuildPhase::Succeeded
        );
        let failed = job_view(
            &job_with(Some(("Failed", "BackoffLimitExceeded")), 0),
            false,
        );
        assert_eq!(
            (failed.phase, failed.reason),
            (BuildPhase::Failed, reasons::BUILD_FAILED)
        );
        let timeout = job_view(&job_with(Some(("Failed", "DeadlineExceeded")), 0), false);
        assert_eq!(
            (timeout.phase, timeout.reason),
            (BuildPhase::Failed, reasons::TIMEOUT)
        );
        let cancelling = job_view(&job_with(None, 1), true);
        assert_eq!(cancelling.phase, BuildPhase::Running);
        assert_eq!(cancelling.reason, reasons::CANCELLED);
        // Suspended: no pod active, one still terminating (running its cleanup).
        let mut terminating = job_with(None, 0);
        terminating.status.as_mut().unwrap().terminating = Some(1);
        let view = job_view(&terminating, true);
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Running, reasons::CANCELLED)
        );
        assert!(view.message.contains("1 pod(s)"), "{}", view.message);
        assert_eq!(
            job_view(&job_with(None, 0), true).phase,
            BuildPhase::Cancelled
        );
    }

    fn succeeded(start: i64, end: i64) -> JobView {
        JobView {
            phase: BuildPhase::Succeeded,
            reason: reasons::BUILD_SUCCEEDED,
            message: "2 built".into(),
            start_time: Some(t(start)),
            completion_time: Some(t(end)),
            has_job: true,
        }
    }

    #[test]
    fn finished_status_is_stable_and_keeps_the_summary() {
        let mut b = build("b");
        let snap = snapshot(&["null.a", "null.b"]);
        let mut s = desired_status(
            &b,
            &succeeded(10, 70),
            Some(&snap),
            t(80),
            &RunnerDefaults::default(),
        );
        assert_eq!(s.duration.as_deref(), Some("1m0s"));
        assert_eq!(s.sources_summary.as_deref(), Some("0/2"));
        for n in ["null.a", "null.b"] {
            s.sources.push(SourceStatus {
                name: n.into(),
                phase: Some(BuildPhase::Succeeded),
                ..SourceStatus::default()
            });
        }
        b.status = Some(s);
        // Re-reconciled later without the snapshot (a finished build).
        let view = finished_view(b.status.as_ref().unwrap());
        assert_eq!(view.reason, reasons::BUILD_SUCCEEDED);
        let again = desired_status(&b, &view, None, t(500), &RunnerDefaults::default());
        assert_eq!(again.sources_summary.as_deref(), Some("2/2"));
        assert_eq!(again.completion_time, Some(t(70)));
        assert_eq!(again.duration.as_deref(), Some("1m0s"));
        assert_eq!(again.template_fingerprint.as_deref(), Some("sha256:00"));
        let again2 = desired_status(&b, &view, None, t(900), &RunnerDefaults::default());
        assert_eq!(again, again2, "no write when nothing changed");
        let cond = |ty| {
            kiln_crds::find_condition(&again.conditions, ty)
                .unwrap()
                .clone()
        };
        assert_eq!(cond(SUCCEEDED).status, "True");
        assert_eq!(cond(READY).status, "True");
        assert_eq!(cond(STALLED).status, "False");
        assert_eq!(cond(RECONCILING).status, "False");
    }

    #[test]
    fn revocation_is_reported_in_status() {
        let mut b = build("b");
        b.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE".into(),
        });
        let view = JobView::fixed(BuildPhase::Succeeded, reasons::BUILD_SUCCEEDED, "");
        let s = desired_status(&b, &view, None, t(5), &RunnerDefaults::default());
        let r = s.revoked.unwrap();
        assert_eq!(r.reason, "CVE");
        assert_eq!(r.since, Some(t(5)));
    }
}
