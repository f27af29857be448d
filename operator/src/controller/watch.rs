//! Watches that survive a malformed object, and the pending-trigger gauge.
//!
//! kube-runtime's typed watcher fails a whole list (and retries it with backoff forever) when
//! one stored object does not deserialize into the typed struct. Here the watch is over
//! [`DynamicObject`] (which only needs valid metadata) and each object is converted on its
//! own: an undecodable one is counted in `kiln_malformed_objects_total{kind}`, logged and
//! reported with a Warning event on the object, and treated as absent (a cached good version
//! is dropped from the controller's cache), while every other object keeps flowing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::events::{Event as KubeEvent, EventType, Recorder};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_fn};
use kube::{Api, Resource, ResourceExt};
use prometheus_client::metrics::gauge::Gauge;
use serde::de::DeserializeOwned;

use super::metrics::Metrics;

/// One object whose stored JSON does not decode into the typed struct.
#[derive(Debug, Clone)]
pub struct Malformed {
    pub object: DynamicObject,
    pub error: String,
}

/// Decodes one dynamic object into `K`.
pub fn decode<K: DeserializeOwned>(obj: &DynamicObject) -> Result<K, String> {
    let value = serde_json::to_value(obj).map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Converts one watcher event over dynamic objects into a typed one. Undecodable objects are
/// pushed to `bad` and skipped; an undecodable `Apply` or `Delete` of an object whose good
/// version `cached` still knows turns into a `Delete` of that version, so the controller never
/// acts on a stale spec.
pub fn convert<K>(
    ev: Event<DynamicObject>,
    cached: impl Fn(&DynamicObject) -> Option<K>,
    bad: &mut Vec<Malformed>,
) -> Option<Event<K>>
where
    K: DeserializeOwned,
{
    let mut one = |obj: DynamicObject, wrap: fn(K) -> Event<K>| match decode::<K>(&obj) {
        Ok(k) => Some(wrap(k)),
        Err(error) => {
            let stale = cached(&obj);
            bad.push(Malformed { object: obj, error });
            stale.map(Event::Delete)
        }
    };
    match ev {
        Event::Apply(o) => one(o, Event::Apply),
        Event::Delete(o) => one(o, Event::Delete),
        Event::InitApply(o) => match decode::<K>(&o) {
            Ok(k) => Some(Event::InitApply(k)),
            Err(error) => {
                bad.push(Malformed { object: o, error });
                None
            }
        },
        Event::Init => Some(Event::Init),
        Event::InitDone => Some(Event::InitDone),
    }
}

/// Reports malformed objects once per (uid, resourceVersion): metric, log, Warning event.
#[derive(Clone)]
pub struct MalformedReporter {
    kind: String,
    metrics: Metrics,
    recorder: Option<Recorder>,
    /// Writes the object's status (Ready False, Stalled True, reason `Malformed`), so that
    /// `kubectl get` shows why nothing happens.
    client: Option<kube::Client>,
    seen: Arc<Mutex<HashSet<(String, String)>>>,
}

/// The status a malformed object gets: not Ready, Stalled, reason `Malformed`, with the
/// decode error (the object's generation observed, so kstatus tools see the verdict).
pub fn malformed_status(m: &Malformed, now: &str) -> serde_json::Value {
    let message = super::context::truncate(
        &format!(
            "the stored object does not decode ({}); fix the field named and apply again",
            m.error
        ),
        1024,
    );
    let generation = m.object.metadata.generation;
    let cond = |type_: &str, status: &str| {
        serde_json::json!({
            "type": type_, "status": status, "reason": "Malformed", "message": message,
            "lastTransitionTime": now, "observedGeneration": generation,
        })
    };
    serde_json::json!({"status": {
        "observedGeneration": generation,
        "conditions": [cond("Ready", "False"), cond("Stalled", "True"), cond("Reconciling", "False")],
    }})
}

impl MalformedReporter {
    pub fn new(kind: &str, metrics: Metrics, recorder: Option<Recorder>) -> Self {
        MalformedReporter {
            kind: kind.to_string(),
            metrics,
            recorder,
            client: None,
            seen: Default::default(),
        }
    }

    /// Also writes each malformed object's status with `client`.
    pub fn with_status_writes(mut self, client: kube::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Counts and logs `m` if this version of the object was not reported yet; returns whether
    /// it was new. The Warning event is published in the background.
    pub fn report(&self, m: &Malformed, ar: &ApiResource) -> bool {
        let meta = &m.object.metadata;
        let key = (
            meta.uid.clone().unwrap_or_else(|| m.object.name_any()),
            meta.resource_version.clone().unwrap_or_default(),
        );
        if !self.seen.lock().unwrap().insert(key) {
            return false;
        }
        self.metrics.malformed(&self.kind);
        tracing::warn!(
            kind = %self.kind,
            namespace = meta.namespace.as_deref().unwrap_or(""),
            name = %m.object.name_any(),
            error = %m.error,
            "skipping an object that does not decode"
        );
        if let Some(client) = self.client.clone() {
            let api: Api<DynamicObject> = match meta.namespace.as_deref() {
                Some(ns) => Api::namespaced_with(client, ns, ar),
                None => Api::all_with(client, ar),
            };
            let name = m.object.name_any();
            let now = serde_json::to_value(crate::contract::now())
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let body = malformed_status(m, &now);
            tokio::spawn(async move {
                let pp = kube::api::PatchParams::apply(super::context::FIELD_MANAGER);
                if let Err(e) = api
                    .patch_status(&name, &pp, &kube::api::Patch::Merge(&body))
                    .await
                {
                    tracing::warn!(error = %e, name, "could not write a malformed object's status");
                }
            });
        }
        if let Some(recorder) = self.recorder.clone() {
            let reference = m.object.object_ref(ar);
            let note = super::context::truncate(
                &format!("the stored object does not decode, skipped: {}", m.error),
                1024,
            );
            tokio::spawn(async move {
                let ev = KubeEvent {
                    type_: EventType::Warning,
                    reason: "Malformed".into(),
                    note: Some(note),
                    action: "Decode".into(),
                    secondary: None,
                };
                if let Err(e) = recorder.publish(&ev, &reference).await {
                    tracing::warn!(error = %e, "could not publish an event");
                }
            });
        }
        true
    }
}

/// A typed watch event stream of `K` that skips undecodable objects (see the module docs).
/// `cached` looks an object up in the controller's cache (`|_| None` without one); `reporter`
/// is `None` for secondary watches of a kind another controller already reports.
pub fn lenient_watcher<K>(
    client: kube::Client,
    namespace: Option<&str>,
    config: watcher::Config,
    cached: impl Fn(&ObjectRef<K>) -> Option<Arc<K>> + Send + 'static,
    reporter: Option<MalformedReporter>,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let ar = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    };
    skip_malformed(
        watch_fn(api, config).default_backoff().modify(slim_meta),
        ar,
        cached,
        reporter,
    )
}

/// What the controllers never read of an object, dropped before it is cached: its managed
/// fields (one entry per writer: the user's apply, the operator's and the runner's status
/// writes) and `kubectl apply`'s copy of the whole object in an annotation. Together they are
/// most of a cached ImageBuild's size.
pub fn slim_meta(o: &mut DynamicObject) {
    o.metadata.managed_fields = None;
    if let Some(a) = o.metadata.annotations.as_mut() {
        a.remove(LAST_APPLIED);
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The conversion of [`lenient_watcher`] over any stream of dynamic watch events: typed events
/// of the objects that decode, watch errors passed on, malformed objects reported and skipped.
pub fn skip_malformed<K, S>(
    events: S,
    ar: ApiResource,
    cached: impl Fn(&ObjectRef<K>) -> Option<Arc<K>> + Send + 'static,
    reporter: Option<MalformedReporter>,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Send + Sync + 'static,
    S: Stream<Item = Result<Event<DynamicObject>, watcher::Error>> + Send + 'static,
{
    events.filter_map(move |ev| {
        let out = match ev {
            Err(e) => Some(Err(e)),
            Ok(ev) => {
                let mut bad = Vec::new();
                let typed = convert::<K>(
                    ev,
                    |o| {
                        let r = ObjectRef::<K>::new(&o.name_any());
                        let r = match o.namespace() {
                            Some(ns) => r.within(&ns),
                            None => r,
                        };
                        cached(&r).map(|k| (*k).clone())
                    },
                    &mut bad,
                );
                for m in &bad {
                    match &reporter {
                        Some(rep) => {
                            rep.report(m, &ar);
                        }
                        None => tracing::debug!(
                            name = %m.object.name_any(),
                            error = %m.error,
                            "skipping an object that does not decode"
                        ),
                    }
                }
                typed.map(Ok)
            }
        };
        futures::future::ready(out)
    })
}

/// Objects triggered by a watch but whose reconcile has not started yet, per controller.
///
/// kube-runtime does not expose its scheduler queue, so this approximates it: an object
/// enters when a watch event triggers it (its own watch, or a related object mapped to it),
/// and leaves when its reconcile starts, when it is deleted, or when the controller finds it
/// gone from its cache. Like the scheduler, it counts an object once however many events
/// trigger it. Requeues scheduled by a reconcile (`Action::requeue`, error backoff) are not
/// counted: they are timers, not pending work.
/// `(namespace, name)` of a pending object.
type Key = (Option<String>, String);

#[derive(Clone)]
pub struct QueueDepth {
    pending: Arc<Mutex<HashSet<Key>>>,
    gauge: Gauge,
}

impl QueueDepth {
    pub fn new(metrics: &Metrics, controller: &str) -> Self {
        QueueDepth {
            pending: Default::default(),
            gauge: metrics.queue_depth(controller),
        }
    }

    fn update(&self, f: impl FnOnce(&mut HashSet<Key>)) {
        let mut pending = self.pending.lock().unwrap();
        f(&mut pending);
        self.gauge.set(pending.len() as i64);
    }

    /// A watch event triggered a reconcile of `namespace/name`.
    pub fn triggered(&self, namespace: Option<&str>, name: &str) {
        self.update(|p| {
            p.insert((namespace.map(str::to_string), name.to_string()));
        });
    }

    /// The reconcile of `namespace/name` started, or the object is gone.
    pub fn done(&self, namespace: Option<&str>, name: &str) {
        self.update(|p| {
            p.remove(&(namespace.map(str::to_string), name.to_string()));
        });
    }

    #[cfg(test)]
    pub fn depth(&self) -> usize {
        self.pending.lock().unwrap().len()
    }

    /// Records the triggers of a watch event stream of the controller's own kind.
    pub fn track<K: Resource>(&self, ev: &Event<K>) {
        match ev {
            Event::Apply(k) | Event::InitApply(k) => {
                self.triggered(k.meta().namespace.as_deref(), &k.name_any())
            }
            Event::Delete(k) => self.done(k.meta().namespace.as_deref(), &k.name_any()),
            Event::Init | Event::InitDone => {}
        }
    }

    /// Records the triggers a related object's mapper returns, and passes them on.
    pub fn track_refs<K: Resource>(&self, refs: Vec<ObjectRef<K>>) -> Vec<ObjectRef<K>> {
        for r in &refs {
            self.triggered(r.namespace.as_deref(), &r.name);
        }
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::ImageBuild;
    use serde_json::json;

    #[test]
    fn the_cache_keeps_what_controllers_read_and_drops_the_rest() {
        let mut o: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild",
            "metadata": {"name": "b", "namespace": "n",
                "labels": {"kustomize.toolkit.fluxcd.io/name": "apps"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{}}",
                    "argocd.argoproj.io/tracking-id": "app:kiln.dev/ImageBuild:n/b"},
                "managedFields": [{"manager": "kubectl", "operation": "Apply",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"templateRef": {"name": "t"}},
        }))
        .unwrap();
        slim_meta(&mut o);
        assert_eq!(o.metadata.managed_fields, None);
        let a = o.metadata.annotations.as_ref().unwrap();
        assert!(!a.contains_key(LAST_APPLIED));
        // Retention reads GitOps tracking annotations and labels: they stay.
        assert!(a.contains_key("argocd.argoproj.io/tracking-id"));
        assert!(
            o.metadata
                .labels
                .as_ref()
                .unwrap()
                .contains_key("kustomize.toolkit.fluxcd.io/name")
        );
        assert_eq!(o.data["spec"]["templateRef"]["name"], "t");
    }

    fn dynamic(value: serde_json::Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    fn build(name: &str, template: serde_json::Value) -> DynamicObject {
        dynamic(json!({
            "apiVersion": "kiln.dev/v1alpha1",
            "kind": "ImageBuild",
            "metadata": {"name": name, "namespace": "demo", "uid": format!("uid-{name}"), "resourceVersion": "1"},
            "spec": {"templateRef": template},
        }))
    }

    fn good(name: &str) -> DynamicObject {
        build(name, json!({"name": "hello"}))
    }

    fn malformed(name: &str) -> DynamicObject {
        // templateRef must be an object.
        build(name, json!(42))
    }

    #[test]
    fn good_objects_pass_and_a_malformed_one_is_skipped() {
        assert!(decode::<ImageBuild>(&good("a")).is_ok());
        let events = vec![
            Event::Init,
            Event::InitApply(good("a")),
            Event::InitApply(malformed("bad")),
            Event::InitApply(good("b")),
            Event::InitDone,
            Event::Apply(good("c")),
            Event::Apply(malformed("bad2")),
        ];
        let mut bad = Vec::new();
        let out: Vec<Event<ImageBuild>> = events
            .into_iter()
            .filter_map(|e| convert(e, |_| None, &mut bad))
            .collect();
        let names: Vec<String> = out
            .iter()
            .map(|e| match e {
                Event::Init => "init".into(),
                Event::InitDone => "done".into(),
                Event::InitApply(b) => format!("init:{}", b.name_any()),
                Event::Apply(b) => format!("apply:{}", b.name_any()),
                Event::Delete(b) => format!("delete:{}", b.name_any()),
            })
            .collect();
        assert_eq!(
            names,
            ["init", "init:a", "init:b", "done", "apply:c"],
            "good objects are yielded in order"
        );
        let bad_names: Vec<String> = bad.iter().map(|m| m.object.name_any()).collect();
        assert_eq!(bad_names, ["bad", "bad2"]);
        assert!(bad[0].error.contains("templateRef") || bad[0].error.contains("invalid"));
    }

    #[test]
    fn an_object_turning_malformed_drops_its_cached_version() {
        let cached: ImageBuild = decode(&good("a")).unwrap();
        let mut bad = Vec::new();
        let out = convert::<ImageBuild>(
            Event::Apply(malformed("a")),
            |o| (o.name_any() == "a").then(|| cached.clone()),
            &mut bad,
        );
        assert!(matches!(out, Some(Event::Delete(b)) if b.name_any() == "a"));
        assert_eq!(bad.len(), 1);
        // A malformed object deleted while absent from the cache: nothing to do.
        let out = convert::<ImageBuild>(Event::Delete(malformed("x")), |_| None, &mut bad);
        assert!(out.is_none());
        assert_eq!(bad.len(), 2);
    }

    #[test]
    fn a_malformed_object_is_stalled_with_the_decode_error() {
        let mut obj = malformed("m");
        obj.metadata.generation = Some(3);
        let m = Malformed {
            object: obj,
            error: "invalid value: integer `9223372036854775807`, expected i32".into(),
        };
        let s = malformed_status(&m, "2026-12-05T00:00:00Z");
        assert_eq!(s["status"]["observedGeneration"], 3);
        let c = s["status"]["conditions"].as_array().unwrap();
        let by = |t: &str| c.iter().find(|x| x["type"] == t).unwrap().clone();
        assert_eq!(by("Ready")["status"], "False");
        assert_eq!(by("Stalled")["status"], "True");
        assert_eq!(by("Ready")["reason"], "Malformed");
        assert!(
            by("Ready")["message"]
                .as_str()
                .unwrap()
                .contains("9223372036854775807")
        );
        assert_eq!(by("Stalled")["observedGeneration"], 3);
    }

    #[test]
    fn malformed_objects_are_counted_once_per_version() {
        let metrics = Metrics::default();
        let rep = MalformedReporter::new("ImageBuild", metrics.clone(), None);
        let ar = ApiResource::erase::<ImageBuild>(&());
        let m = Malformed {
            object: malformed("bad"),
            error: "invalid type".into(),
        };
        assert!(rep.report(&m, &ar));
        assert!(!rep.report(&m, &ar), "a relist does not count it again");
        let mut next = m.clone();
        next.object.metadata.resource_version = Some("2".into());
        assert!(rep.report(&next, &ar));
        let text = metrics.encode();
        assert!(
            text.contains("kiln_malformed_objects_total{kind=\"ImageBuild\"} 2"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_stream_yields_good_objects_around_a_malformed_one() {
        use kube::runtime::reflector::{self, reflector};
        let metrics = Metrics::default();
        let rep = MalformedReporter::new("ImageBuild", metrics.clone(), None);
        let ar = ApiResource::erase::<ImageBuild>(&());
        let input = futures::stream::iter(vec![
            Ok(Event::Init),
            Ok(Event::InitApply(good("a"))),
            Ok(Event::InitApply(malformed("bad"))),
            Ok(Event::InitDone),
            Err(watcher::Error::NoResourceVersion),
            Ok(Event::Apply(good("b"))),
            Ok(Event::Apply(malformed("a"))),
        ]);
        let (reader, writer) = reflector::store::<ImageBuild>();
        let cache = reader.clone();
        let out: Vec<String> = reflector(
            writer,
            skip_malformed(input, ar, move |r| cache.get(r), Some(rep)),
        )
        .map(|e| match e {
            Ok(Event::InitApply(b)) => format!("init:{}", b.name_any()),
            Ok(Event::Apply(b)) => format!("apply:{}", b.name_any()),
            Ok(Event::Delete(b)) => format!("delete:{}", b.name_any()),
            Ok(Event::Init) => "init".into(),
            Ok(Event::InitDone) => "done".into(),
            Err(_) => "error".into(),
        })
        .collect()
        .await;
        assert_eq!(
            out,
            ["init", "init:a", "done", "error", "apply:b", "delete:a"],
            "the watch goes on past the malformed object and the watch error"
        );
        let mut cached: Vec<String> = reader.state().iter().map(|b| b.name_any()).collect();
        cached.sort();
        assert_eq!(
            cached,
            ["b"],
            "`a` turned malformed: dropped from the cache"
        );
        assert!(
            metrics
                .encode()
                .contains("kiln_malformed_objects_total{kind=\"ImageBuild\"} 2")
        );
    }

    #[test]
    fn queue_depth_counts_pending_objects_once() {
        let metrics = Metrics::default();
        let q = QueueDepth::new(&metrics, "imagebuild");
        let a: ImageBuild = decode(&good("a")).unwrap();
        let b: ImageBuild = decode(&good("b")).unwrap();
        q.track(&Event::Apply(a.clone()));
        q.track(&Event::Apply(a.clone()));
        q.track(&Event::InitApply(b.clone()));
        assert_eq!(q.depth(), 2, "two events of `a` are one pending reconcile");
        assert!(
            metrics
                .encode()
                .contains("kiln_reconcile_queue_depth{controller=\"imagebuild\"} 2")
        );
        q.done(Some("demo"), "a");
        assert_eq!(q.depth(), 1);
        q.track(&Event::Delete(b));
        assert_eq!(q.depth(), 0, "a deleted object is no longer pending");
        let refs = q.track_refs(vec![ObjectRef::<ImageBuild>::new("c").within("demo")]);
        assert_eq!(refs.len(), 1);
        assert_eq!(q.depth(), 1);
        q.done(Some("demo"), "c");
        q.done(Some("demo"), "never-triggered");
        assert_eq!(q.depth(), 0);
        assert!(
            metrics
                .encode()
                .contains("kiln_reconcile_queue_depth{controller=\"imagebuild\"} 0")
        );
    }
}
