//! What every reconcile gets: the client, the operator's settings, metrics, the event
//! recorder; and the helpers they share (status writes, events, time).

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runner: RunnerDefaults::default(),
            error_backoff: Duration::from_secs(15),
        }
    }
}

pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub metrics: Metrics,
    pub recorder: Recorder,
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

pub fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// At most `max` bytes, cut at a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}
