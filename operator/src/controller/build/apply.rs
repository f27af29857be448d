//! Phase 3, **apply**: carry out a [`Plan`]'s writes (snapshot ConfigMap, runner
//! ServiceAccount, Role and RoleBinding, Job, suspension) and the ledgers. Every object is
//! built by the pure functions of `resources`; this module only sends them.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use kiln_crds::ImageBuild;
use kiln_crds::condition::reasons;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};

use super::super::context::{Context, FIELD_MANAGER};
use super::super::error::is_conflict;
use super::super::resources::{self, Snapshot};
use super::super::runner_pod;
use super::CONTROLLER;
use super::decide::{AccessPlan, Follow, Launch};
use super::ledgers::Access;
use super::registry;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("could not apply the snapshot ConfigMap {name}: {source}")]
    SnapshotCreate {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read the snapshot ConfigMap {name}: {source}")]
    SnapshotGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    /// The ConfigMap that exists (taken by an earlier reconcile) cannot be used.
    #[error("the existing snapshot ConfigMap {name} cannot be used: {message}")]
    SnapshotUnusable { name: String, message: String },
    #[error("could not apply ServiceAccount {name}: {source}")]
    ServiceAccountApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply Role {name}: {source}")]
    RoleApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply RoleBinding {name}: {source}")]
    RoleBindingApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read Job {name}: {source}")]
    JobGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not create Job {name}: {source}")]
    JobCreate {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not suspend Job {name}: {source}")]
    JobSuspend {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not label ImageBuild {name} as a registry version: {source}")]
    Labels {
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl ApplyError {
    pub fn kube(&self) -> Option<&kube::Error> {
        match self {
            ApplyError::SnapshotCreate { source, .. }
            | ApplyError::SnapshotGet { source, .. }
            | ApplyError::ServiceAccountApply { source, .. }
            | ApplyError::RoleApply { source, .. }
            | ApplyError::RoleBindingApply { source, .. }
            | ApplyError::JobGet { source, .. }
            | ApplyError::JobCreate { source, .. }
            | ApplyError::JobSuspend { source, .. }
            | ApplyError::Labels { source, .. } => Some(source),
            ApplyError::SnapshotUnusable { .. } => None,
        }
    }

    /// The metric label: the API error's, or `invalid_spec` for an unusable snapshot.
    pub fn category(&self) -> &'static str {
        self.kube()
            .map(super::super::error::kube_category)
            .unwrap_or("invalid_spec")
    }
}

type Result<T> = std::result::Result<T, ApplyError>;

/// Forgets a finished build in both ledgers.
pub fn forget(ctx: &Context, build: &ImageBuild) {
    let uid = build.uid().unwrap_or_default();
    ctx.launched.forget(&uid);
    ctx.access.forget(&uid);
}

/// The writes of a build whose Job exists. Returns the snapshot the build runs, if known
/// (one taken now loses to a ConfigMap that exists).
pub async fn follow(build: &ImageBuild, ctx: &Context, f: Follow) -> Result<Option<Snapshot>> {
    let uid = build.uid().unwrap_or_default();
    let ns = build.namespace().unwrap_or_default();
    if f.forget_launch {
        ctx.launched.forget(&uid);
    }
    match f.access {
        AccessPlan::Nothing => {}
        AccessPlan::Record => ctx.access.set(&uid, Access::Granted),
        AccessPlan::Apply => {
            apply_runner_sa(build, ctx, &ns).await?;
            apply_runner_access(build, ctx, &ns).await?;
            ctx.access.set(&uid, Access::Granted);
        }
    }
    let snapshot = match f.snapshot {
        Some(snap) if f.write_snapshot => Some(create_snapshot(ctx, build, &ns, snap).await?),
        other => other,
    };
    if f.suspend {
        let name = resources::job_name(&build.name_any());
        let patch = serde_json::json!({"spec": {"suspend": true}});
        Api::<Job>::namespaced(ctx.client.clone(), &ns)
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| ApplyError::JobSuspend { name, source })?;
        ctx.event(
            build,
            false,
            reasons::CANCELLED,
            "Cancel",
            "spec.cancel set: stopping the runner pods (they clean up first)".into(),
        )
        .await;
    }
    Ok(snapshot)
}

/// Creates what a new build runs on, on two paths at once. The Job needs its snapshot and
/// ServiceAccount (pods are refused without one) and is created as soon as both exist. The
/// Role and RoleBinding take longer (escalation checks in the API server) and are needed
/// only once the runner talks to the API, seconds later; it retries its writes until the
/// binding exists. With a re-trigger channel (the operator) they are applied in the
/// background and a failure re-triggers the build; without one (tests) within the call.
///
/// Returns the Job (created, or found when it existed), the snapshot it runs and, when the
/// Job was created here, the note of its `Queued` event (the caller publishes it alongside
/// the status write: one round trip less before the next build's turn).
pub async fn launch(
    build: &Arc<ImageBuild>,
    ctx: &Arc<Context>,
    launch: Launch,
    labels: Option<registry::Metadata>,
) -> Result<(Job, Snapshot, Option<String>)> {
    let uid = build.uid().unwrap_or_default();
    let made = match ctx.retrigger.clone() {
        Some(tx) => {
            ctx.access.set(&uid, Access::Pending);
            let (b, c) = (build.clone(), ctx.clone());
            tokio::spawn(async move {
                let _slot = c.access_slots.clone().acquire_owned().await;
                let ns = b.namespace().unwrap_or_default();
                let uid = b.uid().unwrap_or_default();
                match apply_runner_access(&b, &c, &ns).await {
                    Ok(()) => c.access.set(&uid, Access::Granted),
                    Err(e) => {
                        tracing::warn!(build = %b.name_any(), error = %e, "runner access");
                        c.metrics.failure(CONTROLLER, e.category());
                        c.access.set(&uid, Access::Failed);
                        let _ = tx.unbounded_send(ObjectRef::from_obj(b.as_ref()));
                    }
                }
            });
            create_job(build, ctx, launch, labels.as_ref()).await
        }
        None => {
            let ns = build.namespace().unwrap_or_default();
            let (access, made) = futures::join!(
                apply_runner_access(build, ctx, &ns),
                create_job(build, ctx, launch, labels.as_ref())
            );
            if made.is_ok() {
                access?;
                ctx.access.set(&uid, Access::Granted);
            }
            made
        }
    }?;
    let (job, snapshot, new) = made;
    ctx.launched.remember(&uid, &snapshot);
    if !new {
        return Ok((job, snapshot, None));
    }
    ctx.metrics.builds_started.inc();
    let mut note = format!(
        "Job {} created: {} source(s) ({})",
        job.name_any(),
        snapshot.builds.len(),
        snapshot.builds.join(", ")
    );
    // What the runner pods get beyond the restricted defaults, and why.
    if let Ok(needs) =
        runner_pod::needs(&snapshot, build.spec.runner.as_ref(), &ctx.settings.runner)
        && !needs.granted.is_empty()
    {
        note.push_str("; runner granted: ");
        note.push_str(&needs.describe());
    }
    Ok((job, snapshot, Some(note)))
}

/// The snapshot (written if taken now), the ServiceAccount and the registry labels the build
/// still lacks at once, then the Job: two round trips to the API server before the Job
/// exists. A Job that exists already is read and used; so is a snapshot ConfigMap (then the
/// Job is built from it). The labels are on the build before its Job exists, so a channel
/// following them sees the build from its start.
async fn create_job(
    build: &ImageBuild,
    ctx: &Context,
    launch: Launch,
    labels: Option<&registry::Metadata>,
) -> Result<(Job, Snapshot, bool)> {
    let ns = build.namespace().unwrap_or_default();
    let Launch {
        snapshot,
        fresh,
        job,
    } = launch;
    let labelled = async {
        match labels {
            Some(meta) => registry::apply_labels(ctx, build, meta)
                .await
                .map_err(|source| ApplyError::Labels {
                    name: build.name_any(),
                    source,
                }),
            None => Ok(()),
        }
    };
    let snapshot = if fresh {
        let taken = snapshot.run_uuid.clone();
        let (snap, (), ()) = futures::try_join!(
            create_snapshot(ctx, build, &ns, snapshot),
            apply_runner_sa(build, ctx, &ns),
            labelled
        )?;
        if snap.run_uuid != taken {
            // The ConfigMap of an earlier reconcile won: the Job runs that snapshot.
            let job = resources::job(build, &snap, &ctx.settings.runner).map_err(|message| {
                ApplyError::SnapshotUnusable {
                    name: resources::snapshot_name(&build.name_any()),
                    message,
                }
            })?;
            return post_job(ctx, &ns, job, snap).await;
        }
        snap
    } else {
        futures::try_join!(apply_runner_sa(build, ctx, &ns), labelled)?;
        snapshot
    };
    post_job(ctx, &ns, job, snapshot).await
}

async fn post_job(
    ctx: &Context,
    ns: &str,
    job: Job,
    snapshot: Snapshot,
) -> Result<(Job, Snapshot, bool)> {
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
    let name = job.name_any();
    match jobs.create(&PostParams::default(), &job).await {
        Ok(j) => Ok((j, snapshot, true)),
        Err(e) if is_conflict(&e) => {
            let j = jobs
                .get(&name)
                .await
                .map_err(|source| ApplyError::JobGet { name, source })?;
            Ok((j, snapshot, false))
        }
        Err(source) => Err(ApplyError::JobCreate { name, source }),
    }
}

/// Writes a snapshot taken now as the build's immutable ConfigMap. If one exists already
/// (taken by an earlier reconcile whose status write was lost), that one is the build's
/// snapshot.
async fn create_snapshot(
    ctx: &Context,
    build: &ImageBuild,
    ns: &str,
    snap: Snapshot,
) -> Result<Snapshot> {
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let cm = resources::snapshot_config_map(build, &snap);
    let name = cm.name_any();
    match cms.create(&PostParams::default(), &cm).await {
        Ok(_) => Ok(snap),
        Err(e) if is_conflict(&e) => {
            let cm = cms
                .get(&name)
                .await
                .map_err(|source| ApplyError::SnapshotGet {
                    name: name.clone(),
                    source,
                })?;
            resources::read_snapshot(&cm)
                .map_err(|message| ApplyError::SnapshotUnusable { name, message })
        }
        Err(source) => Err(ApplyError::SnapshotCreate { name, source }),
    }
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
        .map_err(|source| ApplyError::ServiceAccountApply {
            name: sa.name_any(),
            source,
        })
}

/// The runner's Role, then its RoleBinding. Both wait inside the API server for its
/// escalation checks (the operator may only grant what it holds, and holds no `escalate` or
/// `bind` verb), each about 100 ms on a quiet API server: a consistent read of the bindings
/// that apply to the operator, and for the binding, of the Role just created.
async fn apply_runner_access(build: &ImageBuild, ctx: &Context, ns: &str) -> Result<()> {
    let role = resources::role(build);
    apply_owned(ctx, ns, &role)
        .await
        .map_err(|source| ApplyError::RoleApply {
            name: role.name_any(),
            source,
        })?;
    let rb = resources::role_binding(build, &ctx.settings.runner);
    apply_owned(ctx, ns, &rb)
        .await
        .map_err(|source| ApplyError::RoleBindingApply {
            name: rb.name_any(),
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
