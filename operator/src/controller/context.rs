//! What every reconcile gets: the client, the operator's settings, metrics, the event
//! recorder; and the helpers they share (status writes, events, time).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kiln_crds::{ImageBuild, ImageChannel, ImageTemplate};
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::build::ledgers::{AccessLedger, Launched, Written};
use super::metrics::Metrics;
use super::resources::RunnerDefaults;

/// The field manager of everything the operator writes.
pub const FIELD_MANAGER: &str = "kiln-operator";

/// Settings of the controllers.
#[derive(Clone, Debug)]
pub struct Settings {
    pub runner: RunnerDefaults,
    /// How long to wait before retrying after a transient error.
    pub error_backoff: Duration,
    /// How many rebuilds on parent change may run at once (0: no limit).
    pub max_rebuilds_in_flight: usize,
    /// The ConfigMap (`namespace`, `name`) the operator keeps the revoked images' digests
    /// in, for the ValidatingAdmissionPolicy; None: not kept.
    pub revoked_images: Option<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runner: RunnerDefaults::default(),
            error_backoff: Duration::from_secs(15),
            max_rebuilds_in_flight: 4,
            revoked_images: None,
        }
    }
}

/// The watch caches a reconcile may read instead of asking the API server. A cache can lag
/// behind the server: a hit is used as is (the watch that fills it also triggers the
/// reconcile again when the object changes), a miss falls back to a GET or to a create that
/// tolerates a conflict. Unset in tests of exact API calls without caches.
#[derive(Clone, Default)]
pub struct Caches {
    /// ImageTemplates, as the template controller's watch sees them.
    pub templates: Option<Store<ImageTemplate>>,
    /// ImageBuilds, as the build controller's watch sees them.
    pub builds: Option<Store<ImageBuild>>,
    /// Jobs labelled as the operator's, without their pod templates (see `slim_job`).
    pub jobs: Option<Store<Job>>,
    /// Runner pods (labelled as the operator's), without their specs (see `slim_pod`).
    pub pods: Option<Store<Pod>>,
    /// ImageChannels, as the channel controller's watch sees them (ancestry: which channel
    /// served a parent, and whether it moved on).
    pub channels: Option<Store<ImageChannel>>,
}

impl Caches {
    pub fn template(&self, ns: &str, name: &str) -> Option<ImageTemplate> {
        let store = self.templates.as_ref()?;
        store
            .get(&ObjectRef::new(name).within(ns))
            .map(|t| t.as_ref().clone())
    }

    pub fn build(&self, ns: &str, name: &str) -> Option<ImageBuild> {
        let store = self.builds.as_ref()?;
        store
            .get(&ObjectRef::new(name).within(ns))
            .map(|b| b.as_ref().clone())
    }

    pub fn job(&self, ns: &str, name: &str) -> Option<Job> {
        let store = self.jobs.as_ref()?;
        store
            .get(&ObjectRef::new(name).within(ns))
            .map(|j| j.as_ref().clone())
    }

    /// The runner pods of build `build` in `ns`; None without a pod cache.
    pub fn pods_of(&self, ns: &str, build: &str) -> Option<Vec<Pod>> {
        let store = self.pods.as_ref()?;
        Some(
            store
                .state()
                .iter()
                .filter(|p| {
                    p.metadata.namespace.as_deref() == Some(ns)
                        && p.metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(super::resources::BUILD_LABEL))
                            .map(String::as_str)
                            == Some(build)
                })
                .map(|p| p.as_ref().clone())
                .collect(),
        )
    }

    /// The objects of namespace `ns`: shared from `store` when there is one (the operator's
    /// caches; never copied, a namespace may hold thousands), else listed (tests).
    pub async fn in_namespace<K>(
        store: Option<&Store<K>>,
        client: &Client,
        ns: &str,
    ) -> Result<Vec<std::sync::Arc<K>>, kube::Error>
    where
        K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        if let Some(store) = store {
            return Ok(store
                .state()
                .into_iter()
                .filter(|o| o.meta().namespace.as_deref() == Some(ns))
                .collect());
        }
        Ok(Api::<K>::namespaced(client.clone(), ns)
            .list(&Default::default())
            .await?
            .items
            .into_iter()
            .map(std::sync::Arc::new)
            .collect())
    }

    /// Every cached build (empty without a cache).
    pub fn all_builds(&self) -> Vec<std::sync::Arc<ImageBuild>> {
        self.builds.as_ref().map(|s| s.state()).unwrap_or_default()
    }

    /// Every cached channel (empty without a cache).
    pub fn all_channels(&self) -> Vec<std::sync::Arc<ImageChannel>> {
        self.channels
            .as_ref()
            .map(|s| s.state())
            .unwrap_or_default()
    }

    /// Whether an ImageBuild cache is in use.
    pub fn has_builds(&self) -> bool {
        self.builds.is_some()
    }

    /// Whether a Job cache is in use (a miss then means "probably absent").
    pub fn has_jobs(&self) -> bool {
        self.jobs.is_some()
    }
}

pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub metrics: Metrics,
    pub recorder: Recorder,
    pub caches: Caches,
    pub launched: std::sync::Arc<Launched>,
    pub access: std::sync::Arc<AccessLedger>,
    pub written: std::sync::Arc<Written>,
    /// Bounds the background RBAC applies running at once, so a burst of new builds does
    /// not flood the API server (it queues them, not the reconciles).
    pub access_slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Asks the build controller to reconcile a build again (a background step failed).
    /// Unset in tests: background steps then run inside the reconcile.
    pub retrigger: Option<
        futures::channel::mpsc::UnboundedSender<kube::runtime::reflector::ObjectRef<ImageBuild>>,
    >,
}

impl Context {
    pub fn new(client: Client, settings: Settings, metrics: Metrics, instance: String) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance: Some(instance),
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            settings,
            metrics,
            caches: Caches::default(),
            launched: Default::default(),
            access: Default::default(),
            written: Default::default(),
            access_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                super::build::ledgers::ACCESS_SLOTS,
            )),
            retrigger: None,
        }
    }

    /// The same context with a channel that re-triggers build reconciles.
    pub fn with_retrigger(
        mut self,
        tx: futures::channel::mpsc::UnboundedSender<
            kube::runtime::reflector::ObjectRef<ImageBuild>,
        >,
    ) -> Self {
        self.retrigger = Some(tx);
        self
    }

    /// The same context reading the given caches (one set per watched scope).
    pub fn with_caches(&self, caches: Caches) -> Self {
        Context {
            client: self.client.clone(),
            settings: self.settings.clone(),
            metrics: self.metrics.clone(),
            recorder: self.recorder.clone(),
            caches,
            launched: self.launched.clone(),
            access: self.access.clone(),
            written: self.written.clone(),
            access_slots: self.access_slots.clone(),
            retrigger: self.retrigger.clone(),
        }
    }

    /// Publishes an event about `obj`; failures are logged, never fatal.
    pub async fn event<K>(&self, obj: &K, warning: bool, reason: &str, action: &str, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        let ev = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.into(),
            note: Some(truncate(&note, 1024)),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &obj.object_ref(&())).await {
            tracing::warn!(error = %e, reason, "could not publish an event");
        }
    }
}

/// Writes `status` of `name` with server-side apply under [`FIELD_MANAGER`]. Only the fields
/// `status` serializes are claimed.
pub async fn apply_status<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
}

pub use crate::contract::{now, truncate};
