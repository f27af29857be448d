//! Phase 2, **decide**: a pure function from what was observed to what to do. No API call,
//! no ledger, no clock: everything it needs is in its arguments, so every branch is tested
//! without an API server (see the tests below).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kiln_crds::condition::reasons;
use kiln_crds::{BuildPhase, ImageBuild};

use super::super::resources::{self, RunnerDefaults, Snapshot};
use super::observe::{AccessSeen, Observed, Source, Started, Taken};
use super::status::{Announce, JobView, finished_view, job_view};

/// How often a build waiting for its template or a channel looks again.
pub const TEMPLATE_RETRY: Duration = Duration::from_secs(30);
/// How often a cancelling build checks whether its pods are gone.
pub const CANCEL_POLL: Duration = Duration::from_secs(5);

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
    /// A finished build: only its status (lineage) may change. Its ledger entries go.
    Keep { view: JobView },
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
pub fn decide(build: &ImageBuild, observed: Observed, runner: &RunnerDefaults) -> Decision {
    match observed {
        Observed::Finished { parent } => Decision {
            plan: Plan::Keep {
                view: finished_view(&build.status.clone().unwrap_or_default()),
            },
            parent,
            requeue: None,
        },
        Observed::Started(started) => follow(build, *started),
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
                Taken::NotTaken => {
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

fn follow(build: &ImageBuild, s: Started) -> Decision {
    let view = job_view(&s.job, build.spec.cancel);
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
        })),
        parent: s.parent,
        requeue: cancelling.then_some(CANCEL_POLL),
    }
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
        }))
    }

    fn running_job(active: i32) -> Job {
        Job {
            status: Some(JobStatus {
                active: Some(active),
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
            Taken::NotTaken,
            Taken::Ready(Source::Stored(Box::new(snapshot(&["null.a"])))),
        ] {
            let d = decide(
                &b,
                Observed::NotStarted {
                    snapshot: taken,
                    parent: None,
                },
                &RunnerDefaults::default(),
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
            Observed::Finished { parent: None },
            &RunnerDefaults::default(),
        );
        let Plan::Keep { view } = d.plan else {
            panic!()
        };
        assert_eq!(
            (view.phase, view.reason),
            (BuildPhase::Failed, reasons::BUILD_FAILED)
        );
    }
}
