//! The ImageBuild controller, in phases: dereference the template → validate the variables
//! and select the sources → fix the snapshot (an immutable ConfigMap) → runner RBAC → one
//! Indexed Job → status from the Job (phase, kstatus conditions, timings) → history limits.
//! Runners own their own entries of `status.sources`; this controller never writes them.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::{READY, RECONCILING, STALLED, SUCCEEDED, reasons};
use kiln_crds::{
    BuildPhase, ConditionStatus, ImageBuild, ImageBuildStatus, ImageChannel, ImageTemplate,
    RevocationStatus, VariableValues, format_duration, set_condition,
};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};

use super::analysis;
use super::context::{Access, Context, FIELD_MANAGER, apply_status, now};
use super::error::{Error, Result, is_conflict, is_not_found};
use super::resources::{self, Snapshot};

pub const CONTROLLER: &str = "imagebuild";

/// How often a build waiting for its template looks again.
const TEMPLATE_RETRY: Duration = Duration::from_secs(30);
/// How often a cancelling build checks whether its pods are gone.
const CANCEL_POLL: Duration = Duration::from_secs(5);

/// Where the Job is, as the build's phase with a condition reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobView {
    pub phase: BuildPhase,
    pub reason: &'static str,
    pub message: String,
    pub start_time: Option<Time>,
    pub completion_time: Option<Time>,
}

fn job_condition<'a>(
    job: &'a Job,
    type_: &str,
) -> Option<&'a k8s_openapi::api::batch::v1::JobCondition> {
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
        return view(
            BuildPhase::Failed,
            if deadline {
                reasons::TIMEOUT
            } else {
                reasons::BUILD_FAILED
            },
            msg,
        );
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
    let started = active > 0 || status.succeeded.unwrap_or(0) + status.failed.unwrap_or(0) > 0;
    if started {
        view(
            BuildPhase::Running,
            reasons::BUILDING,
            format!("{active} pod(s) running"),
        )
    } else {
        view(
            BuildPhase::Pending,
            reasons::QUEUED,
            "waiting for the runner pods to start".into(),
        )
    }
}

/// The conditions of a phase: (Reconciling, Stalled, Ready, Succeeded).
fn phase_conditions(
    phase: BuildPhase,
) -> (
    ConditionStatus,
    ConditionStatus,
    ConditionStatus,
    ConditionStatus,
) {
    use ConditionStatus::*;
    match phase {
        BuildPhase::Pending | BuildPhase::Running => (True, False, Unknown, Unknown),
        BuildPhase::Succeeded => (False, False, True, True),
        BuildPhase::Failed | BuildPhase::Cancelled => (False, True, False, False),
    }
}

/// The controller's part of the status: phase, conditions, times and summaries. `old` gives
/// transition times and the fields kept once set; `sources` are left out (runners own them).
#[allow(clippy::too_many_arguments)]
pub fn desired_status(
    build: &ImageBuild,
    phase: BuildPhase,
    reason: &str,
    message: &str,
    snapshot: Option<&Snapshot>,
    start_time: Option<Time>,
    completion_time: Option<Time>,
    now: Time,
) -> ImageBuildStatus {
    let old = build.status.clone().unwrap_or_default();
    let generation = build.metadata.generation;
    let mut conditions = old.conditions.clone();
    let (rec, stalled, ready, succeeded) = phase_conditions(phase);
    let rec_msg = if rec == ConditionStatus::True {
        message
    } else {
        ""
    };
    let stalled_msg = if stalled == ConditionStatus::True {
        message
    } else {
        ""
    };
    set_condition(
        &mut conditions,
        READY,
        ready,
        reason,
        message,
        generation,
        now.clone(),
    );
    set_condition(
        &mut conditions,
        RECONCILING,
        rec,
        reason,
        rec_msg,
        generation,
        now.clone(),
    );
    set_condition(
        &mut conditions,
        STALLED,
        stalled,
        reason,
        stalled_msg,
        generation,
        now.clone(),
    );
    set_condition(
        &mut conditions,
        SUCCEEDED,
        succeeded,
        reason,
        message,
        generation,
        now.clone(),
    );

    let total = snapshot.map(|s| s.builds.len()).or_else(|| {
        old.sources_summary
            .as_deref()
            .and_then(|s| s.split_once('/'))
            .and_then(|(_, t)| t.parse().ok())
    });
    let done = old
        .sources
        .iter()
        .filter(|s| s.phase.is_some_and(BuildPhase::is_finished))
        .count();
    let start_time = start_time.or(old.start_time.clone());
    let completion_time = if phase.is_finished() {
        completion_time
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
        conditions,
        template_fingerprint: snapshot
            .map(|s| s.fingerprint.clone())
            .or(old.template_fingerprint.clone()),
        snapshot: snapshot
            .map(|_| resources::snapshot_name(&build.name_any()))
            .or(old.snapshot.clone()),
        job_name: old.job_name.clone().or_else(|| {
            (snapshot.is_some() && phase != BuildPhase::Pending || start_time.is_some())
                .then(|| resources::job_name(&build.name_any()))
        }),
        start_time,
        completion_time,
        duration,
        sources_summary: total.map(|t| ImageBuildStatus::summarize_sources(done, t)),
        sources: Vec::new(),
        parent: snapshot
            .and_then(|s| s.parent.clone())
            .or(old.parent.clone()),
        revoked: revoked.or(old.revoked.filter(|r| r.inherited_from.is_some())),
    }
}

/// The controller-owned fields of a status, to tell whether a write is needed.
fn controller_part(s: &ImageBuildStatus) -> ImageBuildStatus {
    ImageBuildStatus {
        sources: Vec::new(),
        ..s.clone()
    }
}

/// What resolving the template gave.
pub enum Prepared {
    Ready(Box<Snapshot>),
    /// The ImageTemplate does not exist (yet).
    TemplateMissing(String),
    /// A problem only a change of the spec (or template) fixes; nothing is started.
    Invalid(String),
}

/// Checks the build against its template and fixes what it will run. Pure apart from the
/// scratch directory; `template` is the referenced ImageTemplate (None for inline).
pub fn prepare_snapshot(
    build: &ImageBuild,
    template: Option<&ImageTemplate>,
    run_uuid: String,
) -> Result<Prepared> {
    let spec = &build.spec;
    let (files, defaults, template_name) = match (&spec.template_ref, &spec.template, template) {
        (Some(r), _, Some(t)) => (
            analysis::template_files(t.spec.template.as_deref(), t.spec.files.as_deref()),
            t.spec.variables.clone(),
            r.name.clone(),
        ),
        (Some(r), _, None) => {
            return Ok(Prepared::TemplateMissing(format!(
                "ImageTemplate {:?} not found",
                r.name
            )));
        }
        (None, Some(inline), _) => (
            analysis::template_files(inline.template.as_deref(), inline.files.as_deref()),
            VariableValues::new(),
            String::new(),
        ),
        (None, None, _) => {
            return Ok(Prepared::Invalid(
                "set exactly one of spec.templateRef and spec.template".into(),
            ));
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("kiln-build-")
        .tempdir()
        .map_err(Error::Scratch)?;
    let parsed = match analysis::parse(dir.path(), &files) {
        Ok(t) => t,
        Err(diags) => {
            let first = diags.first().map(|d| d.to_string()).unwrap_or_default();
            return Ok(Prepared::Invalid(format!("invalid template: {first}")));
        }
    };
    let secret_names: Vec<String> = spec
        .secret_variables
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let problems = analysis::check_variables(&parsed, &defaults, &spec.variables, &secret_names);
    if !problems.is_empty() {
        let msg: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        return Ok(Prepared::Invalid(msg.join("; ")));
    }
    let mut merged = defaults.clone();
    merged.extend(spec.variables.clone());
    for s in &secret_names {
        merged.remove(s);
    }
    let dir2 = tempfile::Builder::new()
        .prefix("kiln-build-")
        .tempdir()
        .map_err(Error::Scratch)?;
    let a = analysis::analyze(dir2.path(), &files, &merged);
    if let Some(err) = a.first_error() {
        return Ok(Prepared::Invalid(format!("invalid template: {err}")));
    }
    let builds = match analysis::select_names(&a.instances, &spec.only, &spec.except) {
        Ok(b) => b,
        Err(e) => return Ok(Prepared::Invalid(format!("spec.only/spec.except: {e}"))),
    };
    if builds.is_empty() {
        return Ok(Prepared::Invalid(format!(
            "no build to run: spec.only/spec.except select none of {}",
            a.instances.join(", ")
        )));
    }
    let ns = build.namespace().unwrap_or_default();
    for r in &a.channels {
        if !r.is_known() {
            return Ok(Prepared::Invalid(format!(
                "data.kiln-channel.{}: its arguments must be known when the build starts \
                 (literals and spec.variables, not secret variables or other data sources)",
                r.name
            )));
        }
        if let Some(other) = r.namespace.as_deref().filter(|n| *n != ns) {
            return Ok(Prepared::Invalid(format!(
                "data.kiln-channel.{}: namespace {other:?}: a build reads channels of its own \
                 namespace ({ns:?}) only",
                r.name
            )));
        }
    }
    Ok(Prepared::Ready(Box::new(Snapshot {
        template: template_name,
        fingerprint: a.fingerprint,
        files,
        template_variables: defaults,
        variables: spec.variables.clone(),
        secret_variables: secret_names,
        builds,
        only: spec.only.clone(),
        except: spec.except.clone(),
        on_error: spec.on_error,
        run_uuid,
        channels: Vec::new(),
        parent: None,
        channel_refs: a.channels,
    })))
}

#[tracing::instrument(skip_all, fields(build = %build.name_any(), namespace = build.namespace()))]
pub async fn reconcile(build: Arc<ImageBuild>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let started = std::time::Instant::now();
    tracing::debug!("reconcile");
    let ns = build
        .namespace()
        .ok_or(Error::MissingObjectKey("namespace"))?;
    let name = build.name_any();
    let client = ctx.client.clone();
    let builds: Api<ImageBuild> = Api::namespaced(client.clone(), &ns);
    let old = build.status.clone().unwrap_or_default();

    // A finished build only follows its revocation.
    if old.phase.is_some_and(BuildPhase::is_finished) {
        ctx.launched.forget(&build.uid().unwrap_or_default());
        ctx.access.forget(&build.uid().unwrap_or_default());
        let desired = desired_status(
            &build,
            old.phase.unwrap_or_default(),
            kiln_crds::find_condition(&old.conditions, READY)
                .map(|c| c.reason.as_str())
                .unwrap_or(reasons::BUILD_FAILED),
            kiln_crds::find_condition(&old.conditions, READY)
                .map(|c| c.message.as_str())
                .unwrap_or(""),
            None,
            None,
            None,
            now(),
        );
        let desired = with_parent_revocation(&build, &ctx, &ns, desired).await?;
        if controller_part(&old) != desired {
            write_status(&builds, &name, &desired).await?;
            revoked_event(&build, &ctx, &old, &desired).await;
        }
        return Ok(Action::await_change());
    }

    // 1. The Job, from the watch cache when there is one. A Job that exists means the
    //    snapshot does too, and the status already carries what it gave.
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    let job_name = resources::job_name(&name);
    let mut job = lookup_job(&ctx, &jobs, &ns, &job_name, old.job_name.is_some()).await?;
    let uid = build.uid().unwrap_or_default();
    let in_status = old.snapshot.is_some() && old.sources_summary.is_some();
    if in_status {
        ctx.launched.forget(&uid);
    }
    // A Job this process made, whose status write the watch has not shown yet (the Job's
    // own event often comes first): nothing to take or apply again.
    let launched = job.as_ref().and_then(|_| ctx.launched.get(&uid));
    let settled = job.is_some() && (in_status || launched.is_some());

    if job.is_some() {
        ensure_access(&build, &ctx, &ns, &uid).await?;
    }

    // 2. The snapshot: read it, or take it (a fresh one is written below).
    let (snapshot, fresh) = if let Some(snap) = launched.filter(|_| !in_status) {
        (Some(snap.as_ref().clone()), false)
    } else if settled {
        (None, false)
    } else {
        match snapshot_step(&build, &builds, &ctx, &ns, &old).await? {
            SnapshotStep::Have(s) => (Some(*s), false),
            SnapshotStep::Fresh(s) => (Some(*s), true),
            SnapshotStep::Done(action) => return Ok(action),
        }
    };

    // 3. The Job, and the runner's identity and access.
    let t_snapshot = started.elapsed();
    let snapshot = match (snapshot, &job) {
        (snapshot, Some(_)) if settled => snapshot,
        (None, _) => unreachable!("a snapshot is read or taken unless settled"),
        (Some(snap), Some(_)) => {
            // A Job whose build status was never written (a write lost): its ServiceAccount
            // was applied before it and its access is seen to above; the snapshot may be
            // one taken again now, which the existing ConfigMap wins over.
            Some(if fresh {
                create_snapshot(&ctx, &build, &ns, snap).await?
            } else {
                snap
            })
        }
        (Some(snap), None) => {
            if build.spec.cancel {
                return finish(
                    &build,
                    &builds,
                    &ctx,
                    BuildPhase::Cancelled,
                    reasons::CANCELLED,
                    "cancelled before it started",
                    Some(&snap),
                    None,
                )
                .await;
            }
            // Two paths at once. The Job needs its snapshot and ServiceAccount (pods are
            // refused without one) and is created as soon as both exist. The Role and
            // RoleBinding take longer (escalation checks in the API server) and are needed
            // only once the runner talks to the API, seconds later; it retries its writes
            // until the binding exists. A failure on either path fails this reconcile; the
            // next one finds the Job and applies the rest again.
            let make_job = async {
                let (snap, ()) = if fresh {
                    futures::try_join!(
                        create_snapshot(&ctx, &build, &ns, snap),
                        apply_runner_sa(&build, &ctx, &ns)
                    )?
                } else {
                    (snap, apply_runner_sa(&build, &ctx, &ns).await?)
                };
                let desired = match resources::job(&build, &snap, &ctx.settings.runner) {
                    Ok(j) => j,
                    Err(e) => return Ok(Err(e)),
                };
                let made = match jobs.create(&PostParams::default(), &desired).await {
                    Ok(j) => (j, true),
                    Err(e) if is_conflict(&e) => {
                        let j = jobs.get(&job_name).await.map_err(|source| Error::JobGet {
                            name: job_name.clone(),
                            source,
                        })?;
                        (j, false)
                    }
                    Err(source) => {
                        return Err(Error::JobCreate {
                            name: job_name.clone(),
                            source,
                        });
                    }
                };
                if made.1 {
                    ctx.metrics.builds_started.inc();
                    tracing::debug!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        prepared_ms = t_snapshot.as_millis() as u64,
                        "Job created"
                    );
                }
                Ok(Ok((snap, made)))
            };
            let made = match ctx.retrigger.clone() {
                // In the background: the reconcile (and its concurrency slot) ends with the
                // Job; a failure marks the access Failed and re-triggers the build.
                Some(tx) => {
                    ctx.access.set(&uid, Access::Pending);
                    let (b, c, n, u) = (build.clone(), ctx.clone(), ns.clone(), uid.clone());
                    tokio::spawn(async move {
                        let _slot = c.access_slots.clone().acquire_owned().await;
                        match apply_runner_access(&b, &c, &n).await {
                            Ok(()) => c.access.set(&u, Access::Granted),
                            Err(e) => {
                                tracing::warn!(build = %b.name_any(), error = %e, "runner access");
                                c.metrics.failure(CONTROLLER, e.category());
                                c.access.set(&u, Access::Failed);
                                let _ = tx.unbounded_send(ObjectRef::from_obj(b.as_ref()));
                            }
                        }
                    });
                    make_job.await
                }
                None => {
                    let (access, made) =
                        futures::join!(apply_runner_access(&build, &ctx, &ns), make_job);
                    if made.as_ref().is_ok_and(|m| m.is_ok()) {
                        access?;
                        ctx.access.set(&uid, Access::Granted);
                    }
                    made
                }
            };
            let (snap, (created, new)) = match made? {
                Ok(x) => x,
                Err(invalid) => return finish_invalid(&build, &builds, &ctx, invalid).await,
            };
            ctx.launched.remember(&uid, &snap);
            if new {
                ctx.event(
                    build.as_ref(),
                    false,
                    reasons::QUEUED,
                    "CreateJob",
                    format!(
                        "Job {job_name} created: {} source(s) ({})",
                        snap.builds.len(),
                        snap.builds.join(", ")
                    ),
                )
                .await;
            }
            job = Some(created);
            Some(snap)
        }
    };
    let job = job.expect("set above");

    // 4. Cancellation: suspending the Job makes the Job controller delete its pods
    //    gracefully (SIGTERM; the runners cancel the engine and clean up).
    let suspended = job.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false);
    let view = job_view(&job, build.spec.cancel);
    if build.spec.cancel && !suspended && !view.phase.is_finished() {
        let patch = serde_json::json!({"spec": {"suspend": true}});
        jobs.patch(&job_name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| Error::JobSuspend {
                name: job_name.clone(),
                source,
            })?;
        ctx.event(
            build.as_ref(),
            false,
            reasons::CANCELLED,
            "Cancel",
            "spec.cancel set: stopping the runner pods (they clean up first)".into(),
        )
        .await;
    }

    // 5. Status.
    let desired = desired_status(
        &build,
        view.phase,
        view.reason,
        &view.message,
        snapshot.as_ref(),
        view.start_time.clone(),
        view.completion_time.clone(),
        now(),
    );
    let desired = with_parent_revocation(&build, &ctx, &ns, desired).await?;
    if controller_part(&old) != desired {
        write_status(&builds, &name, &desired).await?;
        if old.phase != Some(view.phase) {
            on_transition(&build, &ctx, &desired, &view).await;
        }
        revoked_event(&build, &ctx, &old, &desired).await;
    }
    if build.spec.cancel && !view.phase.is_finished() {
        return Ok(Action::requeue(CANCEL_POLL));
    }
    Ok(Action::await_change())
}

/// The revocation a build inherits from its parent: the parent's own (`spec.revoked`) or
/// the one the parent inherited, naming the revoked ancestor. `old` keeps the time it was
/// first seen.
pub fn inherited_revocation(
    parent: &ImageBuild,
    old: Option<&RevocationStatus>,
    now: Time,
) -> Option<RevocationStatus> {
    let (reason, from) = match (&parent.spec.revoked, parent.status.as_ref()) {
        (Some(r), _) => (r.reason.clone(), parent.name_any()),
        (None, Some(st)) => {
            let r = st.revoked.as_ref()?;
            (
                r.reason.clone(),
                r.inherited_from
                    .clone()
                    .unwrap_or_else(|| parent.name_any()),
            )
        }
        (None, None) => return None,
    };
    let since = old
        .filter(|o| o.inherited_from.as_deref() == Some(from.as_str()))
        .and_then(|o| o.since.clone())
        .unwrap_or(now);
    Some(RevocationStatus {
        reason,
        since: Some(since),
        inherited_from: Some(from),
    })
}

/// Revoked by its own spec or through its parent.
pub fn is_revoked(b: &ImageBuild) -> bool {
    b.spec.revoked.is_some() || b.status.as_ref().is_some_and(|s| s.revoked.is_some())
}

/// The builds `parent` must pass its revocation to: when it is revoked (by its spec or
/// through its own parent), those of `all` that started from it and are not revoked yet.
pub fn children_to_revoke(
    parent: &ImageBuild,
    all: &[Arc<ImageBuild>],
) -> Vec<kube::runtime::reflector::ObjectRef<ImageBuild>> {
    if !is_revoked(parent) {
        return Vec::new();
    }
    let (ns, name) = (parent.namespace(), parent.name_any());
    all.iter()
        .filter(|b| b.namespace() == ns && b.spec.revoked.is_none())
        .filter(|b| {
            b.status.as_ref().is_some_and(|s| {
                s.revoked.is_none()
                    && s.parent.as_ref().is_some_and(|p| {
                        p.build == name && (p.namespace.is_none() || p.namespace == ns)
                    })
            })
        })
        .map(|b| kube::runtime::reflector::ObjectRef::from_obj(b.as_ref()))
        .collect()
}

/// `desired` with the revocation of the build's parent, when the build has none of its own.
async fn with_parent_revocation(
    build: &ImageBuild,
    ctx: &Context,
    ns: &str,
    mut desired: ImageBuildStatus,
) -> Result<ImageBuildStatus> {
    if build.spec.revoked.is_some() {
        return Ok(desired);
    }
    let Some(parent) = desired
        .parent
        .as_ref()
        .filter(|p| p.namespace.as_deref().is_none_or(|n| n == ns))
    else {
        return Ok(desired);
    };
    // The parent is older than the build: a cache that lacks it means it is gone.
    let parent = match ctx.caches.build(ns, &parent.build) {
        Some(b) => Some(b),
        None if ctx.caches.has_builds() => None,
        None => Api::<ImageBuild>::namespaced(ctx.client.clone(), ns)
            .get_opt(&parent.build)
            .await
            .map_err(|source| Error::BuildGet {
                name: parent.build.clone(),
                source,
            })?,
    };
    if let Some(r) = parent
        .as_ref()
        .and_then(|p| inherited_revocation(p, desired.revoked.as_ref(), now()))
    {
        desired.revoked = Some(r);
    }
    Ok(desired)
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

/// The build's Job: from the cache when one is kept (a miss is taken as "absent" unless the
/// status names a Job, then asked for), else from the API server.
async fn lookup_job(
    ctx: &Context,
    jobs: &Api<Job>,
    ns: &str,
    name: &str,
    status_names_one: bool,
) -> Result<Option<Job>> {
    if let Some(job) = ctx.caches.job(ns, name) {
        return Ok(Some(job));
    }
    if ctx.caches.has_jobs() && !status_names_one {
        // Created below; a Job the cache has not seen yet shows up as a conflict there.
        return Ok(None);
    }
    jobs.get_opt(name).await.map_err(|source| Error::JobGet {
        name: name.to_string(),
        source,
    })
}

enum SnapshotStep {
    /// Read from the build's ConfigMap.
    Have(Box<Snapshot>),
    /// Taken from the template now; not written yet.
    Fresh(Box<Snapshot>),
    /// The reconcile ends here (the build waits or finished).
    Done(Action),
}

/// Reads the build's snapshot, or takes it from the template. A build whose status names no
/// snapshot (the usual first reconcile) skips the read: creating the ConfigMap answers
/// "already there" with a conflict, and the existing one is used.
async fn snapshot_step(
    build: &Arc<ImageBuild>,
    builds: &Api<ImageBuild>,
    ctx: &Context,
    ns: &str,
    old: &ImageBuildStatus,
) -> Result<SnapshotStep> {
    let name = build.name_any();
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let cm_name = resources::snapshot_name(&name);
    let get_cm = || async {
        cms.get_opt(&cm_name)
            .await
            .map_err(|source| Error::SnapshotGet {
                name: cm_name.clone(),
                source,
            })
    };
    let read = |cm: &ConfigMap| resources::read_snapshot(cm);
    if old.snapshot.is_some() || build.spec.cancel {
        if let Some(cm) = get_cm().await? {
            return Ok(match read(&cm) {
                Ok(s) => SnapshotStep::Have(Box::new(s)),
                Err(e) => SnapshotStep::Done(finish_invalid(build, builds, ctx, e).await?),
            });
        }
        if build.spec.cancel {
            return Ok(SnapshotStep::Done(
                finish(
                    build,
                    builds,
                    ctx,
                    BuildPhase::Cancelled,
                    reasons::CANCELLED,
                    "cancelled before it started",
                    None,
                    None,
                )
                .await?,
            ));
        }
    }
    let template = match &build.spec.template_ref {
        Some(r) => match ctx.caches.template(ns, &r.name) {
            Some(t) => Some(t),
            None => Api::<ImageTemplate>::namespaced(ctx.client.clone(), ns)
                .get_opt(&r.name)
                .await
                .map_err(|source| Error::TemplateGet {
                    name: r.name.clone(),
                    source,
                })?,
        },
        None => None,
    };
    let b = build.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        prepare_snapshot(&b, template.as_ref(), uuid::Uuid::new_v4().to_string())
    })
    .await
    .map_err(|e| Error::Scratch(std::io::Error::other(e)))??;
    let snap = match prepared {
        Prepared::Ready(snap) => snap,
        // Before waiting or failing: a snapshot taken earlier (its status write lost) wins.
        other => {
            if old.snapshot.is_none()
                && let Some(cm) = get_cm().await?
            {
                return Ok(match read(&cm) {
                    Ok(s) => SnapshotStep::Have(Box::new(s)),
                    Err(e) => SnapshotStep::Done(finish_invalid(build, builds, ctx, e).await?),
                });
            }
            return Ok(SnapshotStep::Done(
                not_prepared(build, builds, ctx, old, other).await?,
            ));
        }
    };
    let mut snap = snap;
    match resolve_channels(ctx, ns, &mut snap).await? {
        ChannelOutcome::Resolved => Ok(SnapshotStep::Fresh(snap)),
        ChannelOutcome::Wait(msg) => Ok(SnapshotStep::Done(
            wait_pending(build, builds, ctx, old, reasons::WAITING_FOR_CHANNEL, msg).await?,
        )),
        ChannelOutcome::Fail(msg) => Ok(SnapshotStep::Done(
            finish_invalid(build, builds, ctx, msg).await?,
        )),
    }
}

enum ChannelOutcome {
    Resolved,
    /// A channel is still being reconciled: look again later.
    Wait(String),
    /// A channel is missing, stalled (revoked, failed target) or malformed: like Packer's
    /// HCP data sources on a revoked version, the build fails before it starts.
    Fail(String),
}

/// Fixes the ImageChannels the template's `kiln-channel` data sources read into the
/// snapshot, checked the way the data source checks them in the runner, and records the
/// first one's build as the parent.
async fn resolve_channels(ctx: &Context, ns: &str, snap: &mut Snapshot) -> Result<ChannelOutcome> {
    let api: Api<ImageChannel> = Api::namespaced(ctx.client.clone(), ns);
    let refs = std::mem::take(&mut snap.channel_refs);
    for r in &refs {
        let Some(ch) = api
            .get_opt(&r.channel)
            .await
            .map_err(|source| Error::ChannelGet {
                name: r.channel.clone(),
                source,
            })?
        else {
            return Ok(ChannelOutcome::Fail(format!(
                "data.kiln-channel.{}: ImageChannel {:?} not found",
                r.name, r.channel
            )));
        };
        let reconciling = ch
            .status
            .as_ref()
            .and_then(|s| kiln_crds::find_condition(&s.conditions, RECONCILING))
            .is_none_or(|c| c.status == "True");
        let kept = serde_json::json!({
            "apiVersion": "kiln.dev/v1alpha1",
            "kind": "ImageChannel",
            "metadata": {"name": ch.name_any(), "namespace": ns},
            "status": ch.status,
        });
        match kiln_engine::datasources::kiln_channel::resolve(r, std::slice::from_ref(&kept)) {
            Ok(out) => {
                if snap.parent.is_none() {
                    snap.parent =
                        out.get("build")
                            .and_then(|b| b.as_str())
                            .map(|b| kiln_crds::BuildParent {
                                build: b.to_string(),
                                namespace: None,
                                channel: Some(r.channel.clone()),
                            });
                }
                if !snap.channels.contains(&kept) {
                    snap.channels.push(kept);
                }
            }
            Err(e) if reconciling => {
                return Ok(ChannelOutcome::Wait(format!(
                    "data.kiln-channel.{}: {e}",
                    r.name
                )));
            }
            Err(e) => {
                return Ok(ChannelOutcome::Fail(format!(
                    "data.kiln-channel.{}: {e}",
                    r.name
                )));
            }
        }
    }
    Ok(ChannelOutcome::Resolved)
}

/// Writes a fresh snapshot as the build's immutable ConfigMap. If one exists already (taken
/// by an earlier reconcile whose status write was lost), that one is the build's snapshot.
async fn create_snapshot(
    ctx: &Context,
    build: &ImageBuild,
    ns: &str,
    snap: Snapshot,
) -> Result<Snapshot> {
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let cm = resources::snapshot_config_map(build, &snap);
    let cm_name = cm.name_any();
    match cms.create(&PostParams::default(), &cm).await {
        Ok(_) => Ok(snap),
        Err(e) if is_conflict(&e) => {
            let cm = cms
                .get(&cm_name)
                .await
                .map_err(|source| Error::SnapshotGet {
                    name: cm_name.clone(),
                    source,
                })?;
            resources::read_snapshot(&cm).map_err(Error::InvalidSpec)
        }
        Err(source) => Err(Error::SnapshotApply {
            name: cm_name,
            source,
        }),
    }
}

/// A template that is missing (wait) or a spec that cannot run (fail).
async fn not_prepared(
    build: &ImageBuild,
    builds: &Api<ImageBuild>,
    ctx: &Context,
    old: &ImageBuildStatus,
    prepared: Prepared,
) -> Result<Action> {
    match prepared {
        Prepared::Ready(_) => Ok(Action::await_change()),
        Prepared::Invalid(msg) => finish_invalid(build, builds, ctx, msg).await,
        Prepared::TemplateMissing(msg) => {
            wait_pending(build, builds, ctx, old, reasons::TEMPLATE_NOT_FOUND, msg).await
        }
    }
}

/// Keeps a build Pending with `reason` (a warning event when it starts waiting) and looks
/// again later.
async fn wait_pending(
    build: &ImageBuild,
    builds: &Api<ImageBuild>,
    ctx: &Context,
    old: &ImageBuildStatus,
    reason: &'static str,
    msg: String,
) -> Result<Action> {
    let desired = desired_status(
        build,
        BuildPhase::Pending,
        reason,
        &msg,
        None,
        None,
        None,
        now(),
    );
    if controller_part(old) != desired {
        write_status(builds, &build.name_any(), &desired).await?;
        if old.phase.is_none()
            || kiln_crds::find_condition(&old.conditions, READY).map(|c| c.reason.as_str())
                != Some(reason)
        {
            ctx.event(build, true, reason, "Resolve", msg).await;
        }
    }
    Ok(Action::requeue(TEMPLATE_RETRY))
}

async fn write_status(api: &Api<ImageBuild>, name: &str, status: &ImageBuildStatus) -> Result<()> {
    apply_status(api, name, status)
        .await
        .map(|_| ())
        .map_err(|source| Error::StatusPatch {
            kind: "ImageBuild",
            name: name.to_string(),
            source,
        })
}

/// Makes sure the runner of a build with a Job has its access: nothing when this process
/// granted it (or is granting it); applied again after a failure; checked once with a read
/// of the RoleBinding when unknown (after a restart).
async fn ensure_access(build: &ImageBuild, ctx: &Context, ns: &str, uid: &str) -> Result<()> {
    match ctx.access.get(uid) {
        Some(Access::Granted | Access::Pending) => return Ok(()),
        Some(Access::Failed) => {}
        None => {
            let rb = resources::role_binding(build, &ctx.settings.runner);
            let name = rb.name_any();
            let found = Api::<RoleBinding>::namespaced(ctx.client.clone(), ns)
                .get_opt(&name)
                .await
                .map_err(|source| Error::RoleBindingGet { name, source })?;
            if found.is_some() {
                ctx.access.set(uid, Access::Granted);
                return Ok(());
            }
        }
    }
    apply_runner_sa(build, ctx, ns).await?;
    apply_runner_access(build, ctx, ns).await?;
    ctx.access.set(uid, Access::Granted);
    Ok(())
}

/// The runner's ServiceAccount, unless the spec names one.
async fn apply_runner_sa(build: &ImageBuild, ctx: &Context, ns: &str) -> Result<()> {
    let own_sa = build
        .spec
        .runner
        .as_ref()
        .and_then(|r| r.service_account_name.as_ref())
        .is_none();
    if !own_sa {
        return Ok(());
    }
    let sa = resources::service_account(build, &ctx.settings.runner);
    apply_owned(ctx, ns, &sa)
        .await
        .map_err(|source| Error::ServiceAccountApply {
            name: sa.name_any(),
            source,
        })
}

/// Server-side apply of an object the operator owns, in `ns`, under [`FIELD_MANAGER`].
async fn apply_owned<K>(ctx: &Context, ns: &str, obj: &K) -> std::result::Result<(), kube::Error>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::Serialize
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(ctx.client.clone(), ns)
        .patch(
            &obj.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(obj),
        )
        .await
        .map(|_| ())
}

/// The runner's Role, then its RoleBinding. Both wait inside the API server for its
/// escalation checks (the operator may only grant what it holds, and holds no `escalate` or
/// `bind` verb), each about 100 ms on a quiet API server: a consistent read of the bindings
/// that apply to the operator, and for the binding, of the Role just created.
async fn apply_runner_access(build: &ImageBuild, ctx: &Context, ns: &str) -> Result<()> {
    let role = resources::role(build);
    apply_owned(ctx, ns, &role)
        .await
        .map_err(|source| Error::RoleApply {
            name: role.name_any(),
            source,
        })?;
    apply_runner_binding(build, ctx, ns).await
}

/// The RoleBinding of the runner's Role to its ServiceAccount (after the Role exists).
async fn apply_runner_binding(build: &ImageBuild, ctx: &Context, ns: &str) -> Result<()> {
    let rb = resources::role_binding(build, &ctx.settings.runner);
    apply_owned(ctx, ns, &rb)
        .await
        .map_err(|source| Error::RoleBindingApply {
            name: rb.name_any(),
            source,
        })
}

async fn finish_invalid(
    build: &ImageBuild,
    api: &Api<ImageBuild>,
    ctx: &Context,
    msg: String,
) -> Result<Action> {
    finish(
        build,
        api,
        ctx,
        BuildPhase::Failed,
        reasons::INVALID_SPEC,
        &msg,
        None,
        None,
    )
    .await
}

/// Ends a build that never got (or no longer needs) a Job.
#[allow(clippy::too_many_arguments)]
async fn finish(
    build: &ImageBuild,
    api: &Api<ImageBuild>,
    ctx: &Context,
    phase: BuildPhase,
    reason: &'static str,
    msg: &str,
    snapshot: Option<&Snapshot>,
    start: Option<Time>,
) -> Result<Action> {
    let old = build.status.clone().unwrap_or_default();
    let desired = desired_status(build, phase, reason, msg, snapshot, start, None, now());
    if controller_part(&old) != desired {
        write_status(api, &build.name_any(), &desired).await?;
        let view = JobView {
            phase,
            reason,
            message: msg.to_string(),
            start_time: None,
            completion_time: None,
        };
        on_transition(build, ctx, &desired, &view).await;
    }
    Ok(Action::await_change())
}

/// Events, metrics and history limits when the phase changes.
async fn on_transition(
    build: &ImageBuild,
    ctx: &Context,
    status: &ImageBuildStatus,
    view: &JobView,
) {
    let phase = view.phase;
    let warning = matches!(phase, BuildPhase::Failed);
    let reason = match phase {
        BuildPhase::Pending => reasons::QUEUED,
        BuildPhase::Running => reasons::BUILDING,
        _ => view.reason,
    };
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
            .get_or_create(&super::metrics::PhaseLabels {
                phase: phase.to_string(),
            })
            .inc();
        if let (Some(s), Some(c)) = (&status.start_time, &status.completion_time) {
            let secs = (c.0.as_second() - s.0.as_second()).max(0) as f64;
            ctx.metrics.build_duration.observe(secs);
        }
        if let Err(e) = enforce_history(build, ctx).await {
            tracing::warn!(error = %e, "could not apply the history limits");
        }
    }
}

/// Which finished builds of a template to delete: beyond `keep_ok` succeeded and `keep_failed`
/// failed/cancelled ones, oldest first, never one a channel points at.
pub fn history_victims(
    builds: &[ImageBuild],
    keep_ok: usize,
    keep_failed: usize,
    protected: &[String],
) -> Vec<String> {
    let finished_at = |b: &ImageBuild| {
        b.status
            .as_ref()
            .and_then(|s| s.completion_time.clone())
            .or(b.metadata.creation_timestamp.clone())
            .map(|t| t.0)
    };
    let mut victims = Vec::new();
    for (succeeded, keep) in [(true, keep_ok), (false, keep_failed)] {
        let mut group: Vec<&ImageBuild> = builds
            .iter()
            .filter(|b| {
                let p = b.status.as_ref().and_then(|s| s.phase);
                match p {
                    Some(BuildPhase::Succeeded) => succeeded,
                    Some(BuildPhase::Failed | BuildPhase::Cancelled) => !succeeded,
                    _ => false,
                }
            })
            .collect();
        // Newest first.
        group.sort_by(|a, b| {
            finished_at(b)
                .cmp(&finished_at(a))
                .then(b.name_any().cmp(&a.name_any()))
        });
        for b in group.into_iter().skip(keep) {
            let n = b.name_any();
            if !protected.contains(&n) {
                victims.push(n);
            }
        }
    }
    victims
}

async fn enforce_history(build: &ImageBuild, ctx: &Context) -> Result<()> {
    let Some(tref) = &build.spec.template_ref else {
        return Ok(());
    };
    let ns = build.namespace().unwrap_or_default();
    let client = ctx.client.clone();
    let limits = Api::<ImageTemplate>::namespaced(client.clone(), &ns)
        .get_opt(&tref.name)
        .await
        .map_err(|source| Error::TemplateGet {
            name: tref.name.clone(),
            source,
        })?
        .map(|t| t.spec.history_limits)
        .unwrap_or_default();
    let api: Api<ImageBuild> = Api::namespaced(client.clone(), &ns);
    let lp = ListParams::default().fields(&format!("spec.templateRef.name={}", tref.name));
    let list = api.list(&lp).await.map_err(|source| Error::BuildList {
        namespace: ns.clone(),
        source,
    })?;
    let channels = Api::<ImageChannel>::namespaced(client, &ns)
        .list(&ListParams::default())
        .await
        .map_err(|source| Error::ChannelList {
            namespace: ns.clone(),
            source,
        })?;
    let protected: Vec<String> = channels
        .items
        .iter()
        .flat_map(|c| {
            [
                c.spec.build.clone(),
                c.status.as_ref().and_then(|s| s.current_build.clone()),
            ]
        })
        .flatten()
        .collect();
    for victim in history_victims(
        &list.items,
        limits.successful.max(0) as usize,
        limits.failed.max(0) as usize,
        &protected,
    ) {
        match api.delete(&victim, &Default::default()).await {
            Ok(_) => {
                tracing::info!(build = %victim, "deleted (history limit)");
            }
            Err(e) if is_not_found(&e) => {}
            Err(source) => {
                return Err(Error::BuildDelete {
                    name: victim,
                    source,
                });
            }
        }
    }
    Ok(())
}

pub fn error_policy(_b: Arc<ImageBuild>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "ImageBuild reconcile failed");
    ctx.metrics.failure(CONTROLLER, err.category());
    err.action(ctx.settings.error_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::{build, snapshot};
    use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
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
        assert_eq!(
            job_view(&job_with(None, 2), false).phase,
            BuildPhase::Running
        );
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

    #[test]
    fn finished_status_is_stable_and_keeps_the_summary() {
        let mut b = build("b");
        let snap = snapshot(&["null.a", "null.b"]);
        let mut s = desired_status(
            &b,
            BuildPhase::Succeeded,
            reasons::BUILD_SUCCEEDED,
            "2 built",
            Some(&snap),
            Some(t(10)),
            Some(t(70)),
            t(80),
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
        // Re-reconciled later without the snapshot (the finished branch).
        let again = desired_status(
            &b,
            BuildPhase::Succeeded,
            reasons::BUILD_SUCCEEDED,
            "2 built",
            None,
            None,
            None,
            t(500),
        );
        assert_eq!(again.sources_summary.as_deref(), Some("2/2"));
        assert_eq!(again.completion_time, Some(t(70)));
        assert_eq!(again.duration.as_deref(), Some("1m0s"));
        assert_eq!(again.template_fingerprint.as_deref(), Some("sha256:00"));
        let again2 = desired_status(
            &b,
            BuildPhase::Succeeded,
            reasons::BUILD_SUCCEEDED,
            "2 built",
            None,
            None,
            None,
            t(900),
        );
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
        let s = desired_status(
            &b,
            BuildPhase::Succeeded,
            reasons::BUILD_SUCCEEDED,
            "",
            None,
            None,
            None,
            t(5),
        );
        let r = s.revoked.unwrap();
        assert_eq!(r.reason, "CVE");
        assert_eq!(r.since, Some(t(5)));
    }

    fn child_of(name: &str, parent: &str) -> ImageBuild {
        let mut b = build(name);
        b.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Succeeded),
            parent: Some(kiln_crds::BuildParent {
                build: parent.into(),
                namespace: None,
                channel: Some("prod".into()),
            }),
            ..ImageBuildStatus::default()
        });
        b
    }

    #[test]
    fn revocation_flows_down_the_lineage_naming_the_ancestor() {
        let mut base = build("base");
        assert_eq!(inherited_revocation(&base, None, t(1)), None);
        base.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE-1".into(),
        });
        let r = inherited_revocation(&base, None, t(5)).unwrap();
        assert_eq!(r.reason, "CVE-1");
        assert_eq!(r.inherited_from.as_deref(), Some("base"));
        assert_eq!(r.since, Some(t(5)));
        // Seen again later: the time it was first seen stays.
        assert_eq!(inherited_revocation(&base, Some(&r), t(99)).unwrap(), r);
        // A grandchild: the child's inherited revocation names the root ancestor.
        let mut child = child_of("child", "base");
        child.status.as_mut().unwrap().revoked = Some(r.clone());
        let g = inherited_revocation(&child, None, t(7)).unwrap();
        assert_eq!(g.inherited_from.as_deref(), Some("base"));
        assert_eq!(g.reason, "CVE-1");
    }

    #[test]
    fn a_revoked_build_wakes_only_its_unrevoked_children() {
        let mut base = build("base");
        let all: Vec<Arc<ImageBuild>> = vec![
            Arc::new(child_of("c1", "base")),
            Arc::new(child_of("c2", "other")),
            Arc::new(build("plain")),
            Arc::new({
                let mut c = child_of("c3", "base");
                c.status.as_mut().unwrap().revoked = Some(RevocationStatus {
                    reason: "x".into(),
                    since: None,
                    inherited_from: Some("base".into()),
                });
                c
            }),
            Arc::new({
                let mut c = child_of("c4", "base");
                c.metadata.namespace = Some("elsewhere".into());
                c
            }),
        ];
        assert!(children_to_revoke(&base, &all).is_empty(), "not revoked");
        base.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE".into(),
        });
        let names: Vec<String> = children_to_revoke(&base, &all)
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["c1"]);
    }

    #[test]
    fn history_keeps_the_newest_and_protected_builds() {
        let mk = |name: &str, phase, at| {
            let mut b = build(name);
            b.status = Some(ImageBuildStatus {
                phase: Some(phase),
                completion_time: Some(t(at)),
                ..ImageBuildStatus::default()
            });
            b
        };
        let builds = vec![
            mk("ok1", BuildPhase::Succeeded, 1),
            mk("ok2", BuildPhase::Succeeded, 2),
            mk("ok3", BuildPhase::Succeeded, 3),
            mk("bad1", BuildPhase::Failed, 1),
            mk("bad2", BuildPhase::Cancelled, 2),
            mk("running", BuildPhase::Running, 9),
        ];
        let v = history_victims(&builds, 1, 1, &["ok1".to_string()]);
        assert_eq!(v, ["ok2", "bad1"]);
        assert!(history_victims(&builds, 10, 10, &[]).is_empty());
    }
}
