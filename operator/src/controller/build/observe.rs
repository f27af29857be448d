//! Phase 1, **observe**: read what the build needs, and nothing more. Reads come from the
//! watch caches where there are some (templates, builds, Jobs) and from the API server
//! otherwise; nothing is written (not even the ledgers). The output, [`Observed`], is what
//! `decide` works on.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kiln_crds::condition::RECONCILING;
use kiln_crds::{BuildPhase, ImageBuild, ImageBuildStatus, ImageChannel, ImageTemplate};
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use super::super::context::{Context, now};
use super::super::resources::{self, Snapshot};
use super::ledgers::Access;
use super::pods;
use super::retention::Retention;
use super::snapshot::{Prepared, prepare_snapshot};

/// What the build controller knows about a build before deciding.
#[derive(Debug)]
pub enum Observed {
    /// The build has finished: only its lineage can still change its status, and its
    /// template's retention (its time to live) can end it.
    Finished {
        parent: Option<ImageBuild>,
        retention: Retention,
    },
    /// Its Job exists.
    Started(Box<Started>),
    /// No Job yet.
    NotStarted {
        snapshot: Taken,
        parent: Option<ImageBuild>,
    },
}

/// A build whose Job exists.
#[derive(Debug)]
pub struct Started {
    pub job: Job,
    /// Its snapshot, when the status does not carry what it gave yet (None: the status
    /// does, or it could not be had: the Job is followed all the same).
    pub snapshot: Option<Source>,
    pub access: AccessSeen,
    pub parent: Option<ImageBuild>,
    /// The status names the snapshot and the sources summary (the launch was recorded).
    pub in_status: bool,
    /// Whether its pods run, and if not, why.
    pub pods: PodsSeen,
}

/// The runner pods of a started build, as far as they were looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum PodsSeen {
    /// Running, done, or not looked at (the Job is too young to tell, or of unknown age).
    NotWaiting,
    /// Not running yet; looked at again after this long.
    TooEarly(Duration),
    /// Not running: why, if a pod or event says; look again after `poll` (None: a change
    /// of a watched pod will say).
    Waiting {
        trouble: Option<pods::Trouble>,
        poll: Option<Duration>,
    },
}

/// Where a known snapshot comes from.
#[derive(Debug)]
pub enum Source {
    /// This process created the Job and remembers the snapshot ([`super::ledgers::Launched`]).
    Launched(Arc<Snapshot>),
    /// Read from the build's ConfigMap.
    Stored(Box<Snapshot>),
    /// Taken from the template now; not written yet.
    Fresh(Box<Snapshot>),
}

impl Source {
    pub fn snapshot(&self) -> &Snapshot {
        match self {
            Source::Launched(s) => s,
            Source::Stored(s) | Source::Fresh(s) => s,
        }
    }
}

/// What taking (or reading) the snapshot of a build without a Job gave.
#[derive(Debug)]
pub enum Taken {
    Ready(Source),
    /// Cancelled before any snapshot was taken.
    CancelledFirst,
    TemplateMissing(String),
    WaitingForChannel(String),
    /// Nothing can run until the spec, the template or a channel changes.
    Invalid(String),
    /// Waits, with a reason (a build of the same registry version is running).
    Held(&'static str, String),
    /// Fails before anything runs, with a reason (a registry lookup failed, the version is
    /// complete).
    Refused(&'static str, String),
}

/// The runner's access (Role, RoleBinding) of a started build, as this process knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessSeen {
    /// Granted or being granted by this process.
    Held,
    /// Unknown to this process (a restart) and its RoleBinding was found.
    Found,
    /// The last apply failed, or the RoleBinding is missing.
    Missing,
}

#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("could not read Job {name}: {source}")]
    JobGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read RoleBinding {name}: {source}")]
    RoleBindingGet {
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
    #[error("could not read ImageTemplate {name}: {source}")]
    TemplateGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read ImageChannel {name}: {source}")]
    ChannelGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read ImageBuild {name} (the parent): {source}")]
    ParentGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list the pods of ImageBuild {build}: {source}")]
    PodList {
        build: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list the events of {name}: {source}")]
    EventList {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not create a scratch directory for the template: {0}")]
    Scratch(#[source] std::io::Error),
    #[error("could not list the {kind} of namespace {namespace} (HCP Packer registry): {source}")]
    RegistryList {
        kind: &'static str,
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

impl ObserveError {
    pub fn kube(&self) -> Option<&kube::Error> {
        match self {
            ObserveError::JobGet { source, .. }
            | ObserveError::RoleBindingGet { source, .. }
            | ObserveError::SnapshotGet { source, .. }
            | ObserveError::TemplateGet { source, .. }
            | ObserveError::ChannelGet { source, .. }
            | ObserveError::ParentGet { source, .. }
            | ObserveError::PodList { source, .. }
            | ObserveError::EventList { source, .. }
            | ObserveError::RegistryList { source, .. } => Some(source),
            ObserveError::Scratch(_) => None,
        }
    }

    pub fn category(&self) -> &'static str {
        self.kube()
            .map(super::super::error::kube_category)
            .unwrap_or("io")
    }
}

type Result<T> = std::result::Result<T, ObserveError>;

/// Reads what `build` needs.
pub async fn observe(build: &ImageBuild, ctx: &Context) -> Result<Observed> {
    let ns = build.namespace().unwrap_or_default();
    let old = build.status.clone().unwrap_or_default();
    if old.phase.is_some_and(BuildPhase::is_finished) {
        let parent = read_parent(build, ctx, &ns, old.parent.as_ref()).await?;
        let retention = Retention::of(
            &read_template(build, ctx, &ns)
                .await?
                .map(|t| t.spec.history_limits)
                .unwrap_or_default(),
        );
        return Ok(Observed::Finished { parent, retention });
    }
    let name = build.name_any();
    let uid = build.uid().unwrap_or_default();
    let job = read_job(
        ctx,
        &ns,
        &resources::job_name(&name),
        old.job_name.is_some(),
    )
    .await?;
    let in_status = old.snapshot.is_some() && old.sources_summary.is_some();
    match job {
        Some(job) => {
            let launched = (!in_status).then(|| ctx.launched.get(&uid)).flatten();
            let access = read_access(build, ctx, &ns, &uid).await?;
            let snapshot = match launched {
                Some(s) => Some(Source::Launched(s)),
                None if in_status => None,
                // A Job whose build status was never written (a write lost): its snapshot.
                None => match take_snapshot(build, ctx, &ns, &old).await? {
                    Taken::Ready(s) => Some(s),
                    _ => None,
                },
            };
            let parent_ref = snapshot
                .as_ref()
                .and_then(|s| s.snapshot().parent.clone())
                .or(old.parent.clone());
            let parent = read_parent(build, ctx, &ns, parent_ref.as_ref()).await?;
            let pods = read_pods(ctx, &ns, &name, &job).await?;
            Ok(Observed::Started(Box::new(Started {
                job,
                snapshot,
                access,
                parent,
                in_status,
                pods,
            })))
        }
        None => {
            let snapshot = take_snapshot(build, ctx, &ns, &old).await?;
            let parent_ref = match &snapshot {
                Taken::Ready(s) => s.snapshot().parent.clone(),
                _ => None,
            }
            .or(old.parent.clone());
            let parent = read_parent(build, ctx, &ns, parent_ref.as_ref()).await?;
            Ok(Observed::NotStarted { snapshot, parent })
        }
    }
}

/// The build's Job: from the cache when one is kept (a miss is taken as "absent" unless the
/// status names a Job, then asked for), else from the API server.
async fn read_job(
    ctx: &Context,
    ns: &str,
    name: &str,
    status_names_one: bool,
) -> Result<Option<Job>> {
    if let Some(job) = ctx.caches.job(ns, name) {
        return Ok(Some(job));
    }
    if ctx.caches.has_jobs() && !status_names_one {
        // Created by `apply`; a Job the cache has not seen yet shows up as a conflict there.
        return Ok(None);
    }
    Api::<Job>::namespaced(ctx.client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|source| ObserveError::JobGet {
            name: name.to_string(),
            source,
        })
}

/// Why the build's pods do not run, once its Job is [`pods::START_GRACE`] old: its pods
/// (from the pod cache, else one list by the build's label) and, when none says, the events
/// of the Job and of pods still creating their containers.
async fn read_pods(ctx: &Context, ns: &str, build: &str, job: &Job) -> Result<PodsSeen> {
    let Some(created) = job.metadata.creation_timestamp.as_ref() else {
        return Ok(PodsSeen::NotWaiting);
    };
    if !pods::waiting_for_pods(job) {
        return Ok(PodsSeen::NotWaiting);
    }
    let age = Duration::from_secs((now().0.as_second() - created.0.as_second()).max(0) as u64);
    if age < pods::START_GRACE {
        return Ok(PodsSeen::TooEarly(pods::START_GRACE - age));
    }
    // Every 5 s in the first minute, then every 30 s.
    let poll = if age < Duration::from_secs(60) {
        pods::POLL
    } else {
        Duration::from_secs(30)
    };
    let (items, watched) = match ctx.caches.pods_of(ns, build) {
        Some(items) => (items, true),
        None => {
            let list = Api::<Pod>::namespaced(ctx.client.clone(), ns)
                .list(&ListParams::default().labels(&format!("{}={build}", resources::BUILD_LABEL)))
                .await
                .map_err(|source| ObserveError::PodList {
                    build: build.to_string(),
                    source,
                })?;
            (list.items, false)
        }
    };
    // Pods past Pending (a Job status without `ready`, before Kubernetes 1.29): running.
    if !items.is_empty()
        && items.iter().all(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|ph| ph != "Pending")
        })
    {
        return Ok(PodsSeen::NotWaiting);
    }
    if let Some(trouble) = pods::trouble(&items, &[]) {
        // A watched pod's next change triggers the build again.
        return Ok(PodsSeen::Waiting {
            trouble: Some(trouble),
            poll: (!watched).then_some(poll),
        });
    }
    // No pod says why: the Job's FailedCreate (quota, admission), a pod's FailedMount.
    let mut names: Vec<String> = vec![job.name_any()];
    names.extend(
        items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
            .map(|p| p.name_any()),
    );
    let events: Api<Event> = Api::namespaced(ctx.client.clone(), ns);
    let mut seen = Vec::new();
    for name in names {
        let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
        let found = events
            .list(&lp)
            .await
            .map_err(|source| ObserveError::EventList {
                name: name.clone(),
                source,
            })?;
        seen.extend(found.items);
    }
    // Events are not watched: look again.
    Ok(PodsSeen::Waiting {
        trouble: pods::trouble(&[], &seen),
        poll: Some(poll),
    })
}

/// The runner's access: from the ledger, else (after a restart) one read of its RoleBinding.
async fn read_access(build: &ImageBuild, ctx: &Context, ns: &str, uid: &str) -> Result<AccessSeen> {
    match ctx.access.get(uid) {
        Some(Access::Granted | Access::Pending) => Ok(AccessSeen::Held),
        Some(Access::Failed) => Ok(AccessSeen::Missing),
        None => {
            let name = resources::role_binding(build, &ctx.settings.runner).name_any();
            let found = Api::<RoleBinding>::namespaced(ctx.client.clone(), ns)
                .get_opt(&name)
                .await
                .map_err(|source| ObserveError::RoleBindingGet { name, source })?;
            Ok(if found.is_some() {
                AccessSeen::Found
            } else {
                AccessSeen::Missing
            })
        }
    }
}

/// The build's parent (for inherited revocation), unless the build is revoked itself. The
/// parent is older than the build: a build cache that lacks it means it is gone.
async fn read_parent(
    build: &ImageBuild,
    ctx: &Context,
    ns: &str,
    parent: Option<&kiln_crds::BuildParent>,
) -> Result<Option<ImageBuild>> {
    if build.spec.revoked.is_some() {
        return Ok(None);
    }
    let Some(p) = parent.filter(|p| p.namespace.as_deref().is_none_or(|n| n == ns)) else {
        return Ok(None);
    };
    if let Some(b) = ctx.caches.build(ns, &p.build) {
        return Ok(Some(b));
    }
    if ctx.caches.has_builds() {
        return Ok(None);
    }
    Api::<ImageBuild>::namespaced(ctx.client.clone(), ns)
        .get_opt(&p.build)
        .await
        .map_err(|source| ObserveError::ParentGet {
            name: p.build.clone(),
            source,
        })
}

/// Reads the build's snapshot, or takes it from the template. A build whose status names no
/// snapshot (the usual first reconcile) skips the read: creating the ConfigMap answers
/// "already there" with a conflict, and the existing one is used.
async fn take_snapshot(
    build: &ImageBuild,
    ctx: &Context,
    ns: &str,
    old: &ImageBuildStatus,
) -> Result<Taken> {
    let cm_name = resources::snapshot_name(&build.name_any());
    if old.snapshot.is_some() || build.spec.cancel {
        if let Some(cm) = read_config_map(ctx, ns, &cm_name).await? {
            return Ok(stored(&cm));
        }
        if build.spec.cancel {
            return Ok(Taken::CancelledFirst);
        }
    }
    let template = read_template(build, ctx, ns).await?;
    let b = build.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let dir = tempfile::Builder::new()
            .prefix("kiln-build-")
            .tempdir()
            .map_err(ObserveError::Scratch)?;
        Ok(prepare_snapshot(
            &b,
            template.as_ref(),
            uuid::Uuid::new_v4().to_string(),
            dir.path(),
        ))
    })
    .await
    .map_err(|e| ObserveError::Scratch(std::io::Error::other(e)))??;
    let not_ready = match prepared {
        Prepared::Ready(mut snap) => {
            return Ok(match resolve_channels(ctx, ns, &mut snap).await? {
                ChannelOutcome::Resolved => {
                    match super::registry::observe(ctx, ns, build, &mut snap).await? {
                        Some(not_now) => not_now,
                        None => Taken::Ready(Source::Fresh(snap)),
                    }
                }
                ChannelOutcome::Wait(msg) => Taken::WaitingForChannel(msg),
                ChannelOutcome::Fail(msg) => Taken::Invalid(msg),
            });
        }
        Prepared::TemplateMissing(msg) => Taken::TemplateMissing(msg),
        Prepared::Invalid(msg) => Taken::Invalid(msg),
    };
    // Before waiting or failing: a snapshot taken earlier (its status write lost) wins.
    if old.snapshot.is_none()
        && let Some(cm) = read_config_map(ctx, ns, &cm_name).await?
    {
        return Ok(stored(&cm));
    }
    Ok(not_ready)
}

fn stored(cm: &ConfigMap) -> Taken {
    match resources::read_snapshot(cm) {
        Ok(s) => Taken::Ready(Source::Stored(Box::new(s))),
        Err(e) => Taken::Invalid(e),
    }
}

async fn read_config_map(ctx: &Context, ns: &str, name: &str) -> Result<Option<ConfigMap>> {
    Api::<ConfigMap>::namespaced(ctx.client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|source| ObserveError::SnapshotGet {
            name: name.to_string(),
            source,
        })
}

async fn read_template(
    build: &ImageBuild,
    ctx: &Context,
    ns: &str,
) -> Result<Option<ImageTemplate>> {
    let Some(r) = &build.spec.template_ref else {
        return Ok(None);
    };
    if let Some(t) = ctx.caches.template(ns, &r.name) {
        return Ok(Some(t));
    }
    Api::<ImageTemplate>::namespaced(ctx.client.clone(), ns)
        .get_opt(&r.name)
        .await
        .map_err(|source| ObserveError::TemplateGet {
            name: r.name.clone(),
            source,
        })
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
        let Some(ch) =
            api.get_opt(&r.channel)
                .await
                .map_err(|source| ObserveError::ChannelGet {
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
                                ..Default::default()
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
