//! Phase 2, **decide**: a pure function from what was observed to what to do. No API call,
//! no ledger, no clock: everything it needs is in its arguments, so every branch is tested
//! without an API server (see the tests below).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::reasons;
use kiln_crds::{BuildPhase, ImageBuild};

use super::super::resources::{self, RunnerDefaults, Snapshot};
use super::observe::{AccessSeen, Observed, PodsSeen, Source, Started, Taken};
use super::retention;
use super::status::{Announce, JobView, finished_view, job_view};

/// How often a build waiting for its template or a channel looks again.
pub const TEMPLATE_RETRY: Duration = Duration::from_secs(30);
/// How often a cancelling build checks whether its pods are gone.
pub const CANCEL_POLL: Duration = Duration::from_secs(5);
/// How long after its Job completed a build waits for the last sources' results to show in
/// its status (the runner writes its entry before it exits; a watch may show the Job first)
/// before it fails with `ResultMissing`.
pub const RESULT_GRACE: Duration = Duration::from_secs(60);
/// How often a build waiting for results looks again.
pub const RESULT_POLL: Duration = Duration::from_secs(5);

/// What the reconcile does.
#[derive(Debug)]
pub struct Decision {
    pub plan: Plan,
    /// The build's parent as observed (its revocation passes down).
    pub parent: Option<kiln_crds::ImageBuild>,
    /// When to look again without an event (None: wait for a change).
    pub requeue: Option<Duration>,
}

/// The writes of the reconcile, by case.
#[derive(Debug)]
pub enum Plan {
    /// A finished build: only its status (lineage) may change. Its ledger entries go;
    /// `expired`: its time to live ran out (retention deletes it unless it is protected).
    Keep { view: JobView, expired: bool },
    /// No Job and none to create: the build waits, fails or is cancelled before it started.
    Settle {
        view: JobView,
        snapshot: Option<Box<Snapshot>>,
        announce: Announce,
    },
    /// Its Job exists: follow it.
    Follow(Box<Follow>),
    /// Create the snapshot (if taken now), the runner's identity and access, and the Job.
    Launch(Box<Launch>),
}

#[derive(Debug)]
pub struct Follow {
    pub view: JobView,
    /// The snapshot, if known; `write_snapshot` says it was taken now and must be written
    /// (the ConfigMap that exists wins).
    pub snapshot: Option<Snapshot>,
    pub write_snapshot: bool,
    pub access: AccessPlan,
    /// Suspend the Job (`spec.cancel`): the Job controller deletes its pods gracefully.
    pub suspend: bool,
    /// The status shows the launch: the [`super::ledgers::Launched`] entry goes.
    pub forget_launch: bool,
    /// How a changed status is announced (a Warning naming why the pods do not start).
    pub announce: Announce,
}

/// What to do about the runner's Role and RoleBinding of a started build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPlan {
    Nothing,
    /// The RoleBinding was found after a restart: record it.
    Record,
    /// Apply the ServiceAccount, Role and RoleBinding again.
    Apply,
}

#[derive(Debug)]
pub struct Launch {
    pub snapshot: Snapshot,
    /// Taken now (to be written); else read from its ConfigMap.
    pub fresh: bool,
    /// The Job, built from `snapshot`.
    pub job: Job,
}

/// Decides what to do with `build` given what `observe` found.
pub fn decide(
    build: &ImageBuild,
    observed: Observed,
    runner: &RunnerDefaults,
    now: &Time,
) -> Decision {
    match observed {
        Observed::Finished { parent, retention } => {
            let ttl = retention::ttl_remaining(build, &retention, now);
            let expired = ttl.is_some_and(|d| d.is_zero());
            Decision {
                plan: Plan::Keep {
                    view: finished_view(&build.status.clone().unwrap_or_default()),
                    expired,
                },
                parent,
                // Back when the time to live runs out; an expired build that retention
                // keeps (protected) is looked at again later.
                requeue: match ttl {
                    Some(d) if d.is_zero() => Some(retention::RECHECK),
                    Some(d) => Some(d + Duration::from_secs(1)),
                    None => None,
                },
            }
        }
        Observed::Started(started) => follow(build, *started, now),
        Observed::NotStarted { snapshot, parent } => {
            let settle = |view, snapshot, announce, requeue| Decision {
                plan: Plan::Settle {
                    view,
                    snapshot,
                    announce,
                },
                parent: None,
                requeue,
            };
            let decision = match snapshot {
                Taken::CancelledFirst => {
                    settle(cancelled_before_start(), None, Announce::Transition, None)
                }
                Taken::TemplateMissing(msg) => settle(
                    JobView::fixed(BuildPhase::Pending, reasons::TEMPLATE_NOT_FOUND, msg),
                    None,
                    Announce::Waiting,
                    Some(TEMPLATE_RETRY),
                ),
                Taken::WaitingForChannel(msg) => settle(
                    JobView::fixed(BuildPhase::Pending, reasons::WAITING_FOR_CHANNEL, msg),
                    None,
                    Announce::Waiting,
                    Some(TEMPLATE_RETRY),
                ),
                Taken::Invalid(msg) => settle(invalid(msg), None, Announce::Transition, None),
                Taken::Held(reason, msg) => settle(
                    JobView::fixed(BuildPhase::Pending, reason, msg),
                    None,
                    Announce::Waiting,
                    Some(TEMPLATE_RETRY),
                ),
                Taken::Refused(reason, msg) => settle(
                    JobView::fixed(BuildPhase::Failed, reason, msg),
                    None,
                    Announce::Transition,
                    None,
                ),
                Taken::Ready(source) => {
                    let (snapshot, fresh) = match source {
                        Source::Fresh(s) => (*s, true),
                        Source::Stored(s) => (*s, false),
                        Source::Launched(s) => (s.as_ref().clone(), false),
                    };
                    if build.spec.cancel {
                        settle(
                            cancelled_before_start(),
                            Some(Box::new(snapshot)),
                            Announce::Transition,
                            None,
                        )
                    } else if let Some(from) = snapshot.reused_from.clone() {
                        // Every source was built before (dedupe, or a resumed version with
                        // nothing left): no Job, its artifacts are carried.
                        let message = format!(
                            "reused the artifacts of ImageBuild {from} ({} source(s)); no Job ran",
                            snapshot.carried.len()
                        );
                        settle(
                            JobView::fixed(BuildPhase::Succeeded, reasons::REUSED, message),
                            Some(Box::new(snapshot)),
                            Announce::Transition,
                            None,
                        )
                    } else {
                        match resources::job(build, &snapshot, runner) {
                            Ok(job) => Decision {
                                plan: Plan::Launch(Box::new(Launch {
                                    snapshot,
                                    fresh,
                                    job,
                                })),
                                parent: None,
                                requeue: None,
                            },
                            Err(msg) => settle(invalid(msg), None, Announce::Transition, None),
                        }
                    }
                }
            };
            Decision { parent, ..decision }
        }
    }
}

fn follow(build: &ImageBuild, s: Started, now: &Time) -> Decision {
    let known = s.snapshot.as_ref().map(|s| s.snapshot());
    let (view, waiting) = with_results(build, job_view(&s.job, build.spec.cancel), known, now);
    // Pods that do not start: the build says why (and looks again).
    let (view, announce, pods_poll) = match s.pods {
        PodsSeen::NotWaiting => (view, Announce::Transition, None),
        PodsSeen::TooEarly(d) => (view, Announce::Transition, Some(d)),
        PodsSeen::Waiting {
            trouble: None,
            poll,
        } => (view, Announce::Transition, poll),
        PodsSeen::Waiting {
            trouble: Some(t),
            poll,
        } if !view.phase.is_finished() && !build.spec.cancel => (
            JobView {
                // Pending until a source ran; a build some of whose sources ran stays Running.
                phase: if ran_any(&s.job) {
                    BuildPhase::Running
                } else {
                    BuildPhase::Pending
                },
                reason: t.reason,
                message: t.message,
                ..view
            },
            Announce::Waiting,
            poll,
        ),
        PodsSeen::Waiting { .. } => (view, Announce::Transition, None),
    };
    let suspended = s
        .job
        .spec
        .as_ref()
        .and_then(|spec| spec.suspend)
        .unwrap_or(false);
    let cancelling = build.spec.cancel && !view.phase.is_finished();
    let (snapshot, write_snapshot) = match s.snapshot {
        None => (None, false),
        Some(Source::Launched(snap)) => (Some(snap.as_ref().clone()), false),
        Some(Source::Stored(snap)) => (Some(*snap), false),
        Some(Source::Fresh(snap)) => (Some(*snap), true),
    };
    Decision {
        plan: Plan::Follow(Box::new(Follow {
            view,
            snapshot,
            write_snapshot,
            access: match s.access {
                AccessSeen::Held => AccessPlan::Nothing,
                AccessSeen::Found => AccessPlan::Record,
                AccessSeen::Missing => AccessPlan::Apply,
            },
            suspend: cancelling && !suspended,
            forget_launch: s.in_status,
            announce,
        })),
        parent: s.parent,
        requeue: [
            cancelling.then_some(CANCEL_POLL),
            waiting.then_some(RESULT_POLL),
            pods_poll,
        ]
        .into_iter()
        .flatten()
        .min(),
    }
}

/// A completed Job is a success only when every selected source's entry in
/// `status.sources` says it succeeded: until [`RESULT_GRACE`] after the Job completed the
/// build stays Running (true: look again), then it fails with `ResultMissing`, naming the
/// sources. Sources are known by name from the snapshot, else by index from the sources
/// summary; with neither, the Job is taken at its word.
pub fn with_results(
    build: &ImageBuild,
    view: JobView,
    snapshot: Option<&Snapshot>,
    now: &Time,
) -> (JobView, bool) {
    if view.phase != BuildPhase::Succeeded {
        return (view, false);
    }
    let status = build.status.clone().unwrap_or_default();
    let succeeded = |e: &&kiln_crds::SourceStatus| e.phase == Some(BuildPhase::Succeeded);
    let missing: Vec<String> = match snapshot {
        Some(snap) => snap
            .builds
            .iter()
            .filter(|name| {
                !status
                    .sources
                    .iter()
                    .filter(succeeded)
                    .any(|e| &e.name == *name)
            })
            .cloned()
            .collect(),
        None => {
            let total: Option<usize> = status
                .sources_summary
                .as_deref()
                .and_then(|s| s.split_once('/'))
                .and_then(|(_, t)| t.parse().ok());
            let Some(total) = total else {
                return (view, false);
            };
            // Carried entries (a resumed version) have no Job index.
            let carried = status
                .sources
                .iter()
                .filter(|e| e.carried_from.is_some())
                .count();
            (0..total.saturating_sub(carried))
                .filter(|i| {
                    !status
                        .sources
                        .iter()
                        .filter(succeeded)
                        .any(|e| e.index == Some(*i as i32))
                })
                .map(|i| format!("index {i}"))
                .collect()
        }
    };
    if missing.is_empty() {
        return (view, false);
    }
    let completed = view.completion_time.clone().unwrap_or_else(|| now.clone());
    let waited = (now.0.as_second() - completed.0.as_second()).max(0) as u64;
    if waited < RESULT_GRACE.as_secs() {
        let message = format!(
            "the Job completed; waiting for the result of {} in status.sources",
            missing.join(", ")
        );
        return (
            JobView {
                phase: BuildPhase::Running,
                reason: reasons::BUILDING,
                message,
                ..view
            },
            true,
        );
    }
    let message = format!(
        "the Job completed but {} never wrote a successful result to status.sources (its \
         artifacts are unknown); the build is not a success without it",
        missing.join(", ")
    );
    (
        JobView {
            phase: BuildPhase::Failed,
            reason: reasons::RESULT_MISSING,
            message,
            ..view
        },
        false,
    )
}

/// Whether a pod of the Job has finished (succeeded or failed) already.
fn ran_any(job: &Job) -> bool {
    job.status
        .as_ref()
        .is_some_and(|st| st.succeeded.unwrap_or(0) + st.failed.unwrap_or(0) > 0)
}

fn cancelled_before_start() -> JobView {
    JobView::fixed(
        BuildPhase::Cancelled,
        reasons::CANCELLED,
        "cancelled before it started",
    )
}

fn invalid(msg: String) -> JobView {
    JobView::fixed(BuildPhase::Failed, reasons::INVALID_SPEC, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::{build, snapshot};
    use k8s_openapi::api::batch::v1::{JobSpec, JobStatus};
    use kiln_crds::ImageBuildStatus;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    fn started(
        job: Job,
        snapshot: Option<Source>,
        access: AccessSeen,
        in_status: bool,
    ) -> Observed {
        Observed::Started(Box::new(Started {
            job,
            snapshot,
            access,
            parent: None,
            in_status,
            pods: PodsSeen::NotWaiting,
        }))
    }

    fn running_job(active: i32) -> Job {
        Job {
            status: Some(JobStatus {
                active: Some(active),
                ready: Some(active),
                ..JobStatus::default()
            }),
            ..Job::default()
        }
    }

    #[test]
    fn a_new_build_with_a_snapshot_is_launched_with_its_job() {
        let b = build("b");
        let snap = snapshot(&["null.a", "null.b"]);
        let d = decide(
            &b,
            Observed::NotStarted {
                snapshot: Taken::Ready(Source::Fresh(Box::new(snap.clone()))),
                parent: None,
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Launch(l) = d.plan else {
            panic!("{:?}", d.plan)
        };
        assert!(l.fresh);
        assert_eq!(l.snapshot, snap);
        assert_eq!(l.job.spec.as_ref().unwrap().completions, Some(2));
        assert_eq!(d.requeue, None);
    }

    #[test]
    fn a_bad_timeout_fails_the_build_before_anything_is_written() {
        let mut b = build("b");
        b.spec.timeout = Some("soon".into());
        let d = decide(
            &b,
            Observed::NotStarted {
                snapshot: Taken::Ready(Source::Fresh(Box::new(snapshot(&["null.a"])))),
                parent: None,
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Settle { view, snapshot, .. } = d.plan else {
            panic!("{:?}", d.plan)
        };
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Failed, reasons::INVALID_SPEC)
        );
        assert!(
            view.message.starts_with("spec.timeout:"),
            "{}",
            view.message
        );
        assert!(snapshot.is_none(), "nothing was written, none is named");
    }

    #[test]
    fn waiting_builds_look_again_and_say_why() {
        let b = build("b");
        for (taken, reason) in [
            (
                Taken::TemplateMissing("gone".into()),
                reasons::TEMPLATE_NOT_FOUND,
            ),
            (
                Taken::WaitingForChannel("busy".into()),
                reasons::WAITING_FOR_CHANNEL,
            ),
        ] {
            let d = decide(
                &b,
                Observed::NotStarted {
                    snapshot: taken,
                    parent: None,
                },
                &RunnerDefaults::default(),
                &t(0),
            );
            assert_eq!(d.requeue, Some(TEMPLATE_RETRY));
            let Plan::Settle { view, announce, .. } = d.plan else {
                panic!()
            };
            assert_eq!((view.phase, view.reason), (BuildPhase::Pending, reason));
            assert_eq!(announce, Announce::Waiting);
        }
    }

    #[test]
    fn cancelled_before_its_job_ends_at_once() {
        let mut b = build("b");
        b.spec.cancel = true;
        for taken in [
            Taken::CancelledFirst,
            Taken::Ready(Source::Stored(Box::new(snapshot(&["null.a"])))),
        ] {
            let d = decide(
                &b,
                Observed::NotStarted {
                    snapshot: taken,
                    parent: None,
                },
                &RunnerDefaults::default(),
                &t(0),
            );
            let Plan::Settle { view, .. } = d.plan else {
                panic!()
            };
            assert_eq!(view.phase, BuildPhase::Cancelled);
        }
    }

    #[test]
    fn a_started_build_follows_its_job_and_is_cancelled_by_suspending_it() {
        let mut b = build("b");
        let d = decide(
            &b,
            started(running_job(2), None, AccessSeen::Held, true),
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Follow(f) = d.plan else { panic!() };
        assert_eq!(f.view.phase, BuildPhase::Running);
        assert!(!f.suspend && f.forget_launch && !f.write_snapshot);
        assert_eq!(f.access, AccessPlan::Nothing);
        assert_eq!(d.requeue, None);

        b.spec.cancel = true;
        let d = decide(
            &b,
            started(running_job(1), None, AccessSeen::Missing, true),
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Follow(f) = d.plan else { panic!() };
        assert!(f.suspend);
        assert_eq!(f.access, AccessPlan::Apply);
        assert_eq!(d.requeue, Some(CANCEL_POLL));
        // Already suspended: not again, but still polled until the pods are gone.
        let mut job = running_job(1);
        job.spec = Some(JobSpec {
            suspend: Some(true),
            ..JobSpec::default()
        });
        let d = decide(
            &b,
            started(job, None, AccessSeen::Found, true),
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Follow(f) = d.plan else { panic!() };
        assert!(!f.suspend);
        assert_eq!(f.access, AccessPlan::Record);
        assert_eq!(d.requeue, Some(CANCEL_POLL));
    }

    #[test]
    fn a_job_whose_status_write_was_lost_writes_a_snapshot_taken_now() {
        let b = build("b");
        let d = decide(
            &b,
            started(
                running_job(0),
                Some(Source::Fresh(Box::new(snapshot(&["null.a"])))),
                AccessSeen::Held,
                false,
            ),
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Follow(f) = d.plan else { panic!() };
        assert!(f.write_snapshot && !f.forget_launch);
        assert_eq!(f.view.phase, BuildPhase::Pending);
    }

    #[test]
    fn a_finished_build_keeps_its_phase() {
        let mut b = build("b");
        b.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Failed),
            ..ImageBuildStatus::default()
        });
        let d = decide(
            &b,
            Observed::Finished {
                parent: None,
                retention: Default::default(),
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Keep { view, expired } = d.plan else {
            panic!()
        };
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Failed, reasons::BUILD_FAILED)
        );
        assert!(!expired);
        assert_eq!(d.requeue, None, "no time to live: nothing to come back for");
        // With a time to live: back when it runs out, then retention applies.
        b.status.as_mut().unwrap().completion_time = Some(t(100));
        let ttl = retention::Retention {
            ttl_failed: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let at = |now| {
            decide(
                &b,
                Observed::Finished {
                    parent: None,
                    retention: ttl.clone(),
                },
                &RunnerDefaults::default(),
                &t(now),
            )
        };
        let d = at(130);
        assert!(matches!(d.plan, Plan::Keep { expired: false, .. }));
        assert_eq!(d.requeue, Some(Duration::from_secs(31)));
        let d = at(160);
        assert!(matches!(d.plan, Plan::Keep { expired: true, .. }));
        assert_eq!(d.requeue, Some(retention::RECHECK));
    }

    fn complete_job(at: i64) -> Job {
        Job {
            status: Some(JobStatus {
                succeeded: Some(2),
                completion_time: Some(t(at)),
                conditions: Some(vec![k8s_openapi::api::batch::v1::JobCondition {
                    type_: "Complete".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..JobStatus::default()
            }),
            ..Job::default()
        }
    }

    fn with_entries(entries: &[(&str, i32, BuildPhase)]) -> ImageBuild {
        let mut b = build("b");
        b.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Running),
            snapshot: Some("b-snapshot".into()),
            sources_summary: Some("1/2".into()),
            sources: entries
                .iter()
                .map(|(n, i, p)| kiln_crds::SourceStatus {
                    name: n.to_string(),
                    index: Some(*i),
                    phase: Some(*p),
                    ..Default::default()
                })
                .collect(),
            ..ImageBuildStatus::default()
        });
        b
    }

    #[test]
    fn never_succeeded_without_every_sources_result() {
        // The status names its snapshot: sources are known by index from the summary.
        let b = with_entries(&[("null.a", 0, BuildPhase::Succeeded)]);
        let decide_at = |now| {
            decide(
                &b,
                started(complete_job(100), None, AccessSeen::Held, true),
                &RunnerDefaults::default(),
                &t(now),
            )
        };
        let d = decide_at(110);
        let Plan::Follow(f) = d.plan else { panic!() };
        assert_eq!(f.view.phase, BuildPhase::Running, "{:?}", f.view);
        assert!(f.view.message.contains("index 1"), "{}", f.view.message);
        assert_eq!(d.requeue, Some(RESULT_POLL));
        let d = decide_at(100 + RESULT_GRACE.as_secs() as i64);
        let Plan::Follow(f) = d.plan else { panic!() };
        assert_eq!(
            (f.view.phase, f.view.reason),
            (BuildPhase::Failed, reasons::RESULT_MISSING)
        );
        assert_eq!(d.requeue, None);
        // A source that wrote Running but never its end counts as missing too; named when
        // the snapshot is known.
        let b = with_entries(&[
            ("null.a", 0, BuildPhase::Succeeded),
            ("null.b", 1, BuildPhase::Running),
        ]);
        let (view, waiting) = with_results(
            &b,
            job_view(&complete_job(100), false),
            Some(&snapshot(&["null.a", "null.b"])),
            &t(500),
        );
        assert!(!waiting);
        assert_eq!(view.phase, BuildPhase::Failed);
        assert!(view.message.contains("null.b"), "{}", view.message);
        // Every entry there: succeeded.
        let b = with_entries(&[
            ("null.a", 0, BuildPhase::Succeeded),
            ("null.b", 1, BuildPhase::Succeeded),
        ]);
        let (view, waiting) = with_results(&b, job_view(&complete_job(100), false), None, &t(101));
        assert_eq!((view.phase, waiting), (BuildPhase::Succeeded, false));
    }

    #[test]
    fn a_pod_that_never_starts_is_reported_with_its_cause() {
        let b = build("b");
        let trouble = super::super::pods::Trouble {
            reason: reasons::IMAGE_PULL_FAILED,
            message: "pod p: container runner: ErrImagePull: not found".into(),
        };
        let d = decide(
            &b,
            Observed::Started(Box::new(Started {
                job: running_job(1),
                snapshot: None,
                access: AccessSeen::Held,
                parent: None,
                in_status: true,
                pods: PodsSeen::Waiting {
                    trouble: Some(trouble),
                    poll: Some(Duration::from_secs(5)),
                },
            })),
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Follow(f) = d.plan else { panic!() };
        assert_eq!(
            (f.view.phase, f.view.reason),
            (BuildPhase::Pending, reasons::IMAGE_PULL_FAILED)
        );
        assert!(f.view.message.contains("ErrImagePull: not found"));
        assert_eq!(f.announce, Announce::Waiting);
        assert_eq!(d.requeue, Some(Duration::from_secs(5)));
    }

    #[test]
    fn a_reused_build_succeeds_without_a_job_and_keeps_its_carried_sources() {
        let b = build("b");
        let mut snap = snapshot(&[]);
        snap.reused_from = Some("earlier".into());
        snap.inputs_digest = Some("sha256:d".into());
        snap.carried = vec![kiln_crds::SourceStatus {
            name: "null.a".into(),
            phase: Some(BuildPhase::Succeeded),
            carried_from: Some("earlier".into()),
            ..Default::default()
        }];
        let d = decide(
            &b,
            Observed::NotStarted {
                snapshot: Taken::Ready(Source::Fresh(Box::new(snap))),
                parent: None,
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Settle { view, snapshot, .. } = d.plan else {
            panic!("{:?}", d.plan)
        };
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Succeeded, reasons::REUSED)
        );
        assert!(view.message.contains("earlier"), "{}", view.message);
        let st = crate::controller::build::status::desired_status(
            &b,
            &view,
            snapshot.as_deref(),
            t(5),
            &RunnerDefaults::default(),
        );
        assert_eq!(st.reused_from.as_deref(), Some("earlier"));
        assert_eq!(st.inputs_digest.as_deref(), Some("sha256:d"));
        assert_eq!(st.sources_summary.as_deref(), Some("1/1"));
        assert_eq!(st.sources[0].carried_from.as_deref(), Some("earlier"));
        assert!(
            st.job_name.is_none() && st.snapshot.is_none(),
            "no Job, no snapshot"
        );
        // Once finished, the status keeps them (the controller owns carried entries).
        let mut done = b.clone();
        done.status = Some(st.clone());
        let again = crate::controller::build::status::desired_status(
            &done,
            &finished_view(&st),
            None,
            t(9),
            &RunnerDefaults::default(),
        );
        assert_eq!(again.sources, st.sources);
        assert_eq!(
            crate::controller::build::status::controller_part(&st),
            again
        );
    }

    #[test]
    fn a_resumed_build_waits_only_for_the_sources_it_runs() {
        // One source carried (no index), one run by the Job at index 0.
        let mut b = with_entries(&[("null.b", 0, BuildPhase::Succeeded)]);
        b.status
            .as_mut()
            .unwrap()
            .sources
            .push(kiln_crds::SourceStatus {
                name: "null.a".into(),
                phase: Some(BuildPhase::Succeeded),
                carried_from: Some("try-1".into()),
                ..Default::default()
            });
        b.status.as_mut().unwrap().sources_summary = Some("2/2".into());
        let mut job = complete_job(100);
        job.status.as_mut().unwrap().succeeded = Some(1);
        let (view, waiting) = with_results(&b, job_view(&job, false), None, &t(101));
        assert_eq!((view.phase, waiting), (BuildPhase::Succeeded, false));
        let mut snap = snapshot(&["null.b"]);
        snap.carried = vec![b.status.as_ref().unwrap().sources[1].clone()];
        let (view, _) = with_results(&b, job_view(&job, false), Some(&snap), &t(101));
        assert_eq!(view.phase, BuildPhase::Succeeded);
    }

    #[test]
    fn held_and_refused_builds_say_why() {
        let b = build("b");
        let d = decide(
            &b,
            Observed::NotStarted {
                snapshot: Taken::Held(reasons::FINGERPRINT_IN_USE, "busy".into()),
                parent: None,
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        assert_eq!(d.requeue, Some(TEMPLATE_RETRY));
        let Plan::Settle { view, .. } = d.plan else {
            panic!()
        };
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Pending, reasons::FINGERPRINT_IN_USE)
        );
        let d = decide(
            &b,
            Observed::NotStarted {
                snapshot: Taken::Refused(reasons::REGISTRY_LOOKUP_FAILED, "revoked".into()),
                parent: None,
            },
            &RunnerDefaults::default(),
            &t(0),
        );
        let Plan::Settle { view, .. } = d.plan else {
            panic!()
        };
        assert_eq!(
            (view.phase, view.reason, view.message.as_str()),
            (
                BuildPhase::Failed,
                reasons::REGISTRY_LOOKUP_FAILED,
                "revoked"
            )
        );
    }
}
