//! Reconcile against a mocked API server (tower-test): the exact calls, field managers and
//! bodies each controller sends.

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use kiln_crds::{
    BuildPhase, ImageBuild, ImageBuildSpec, ImageBuildStatus, ImageChannel, ImageChannelSpec,
    ImageTemplate, ImageTemplateSpec, SourceStatus,
};
use kube::client::Body;
use kube::{Client, Resource};
use serde_json::{Value, json};

use k8s_openapi::api::batch::v1::Job;
use kube::runtime::{reflector, watcher};

use super::context::{Caches, Context, Settings};
use super::metrics::Metrics;
use super::{build, channel, template};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const VALID: &str = "source \"null\" \"a\" {\n  communicator = \"none\"\n}\nsource \"null\" \"b\" {\n  communicator = \"none\"\n}\nvariable \"n\" {\n  type = number\n  default = 1\n}\nbuild {\n  sources = [\"source.null.a\", \"source.null.b\"]\n}\n";

fn context() -> (Arc<Context>, Handle) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let ctx = Context::new(
        client,
        Settings::default(),
        Metrics::default(),
        "test".into(),
    );
    (Arc::new(ctx), handle)
}

/// One recorded request.
#[derive(Debug)]
struct Call {
    method: String,
    path: String,
    query: String,
    body: Value,
}

async fn next(handle: &mut Handle, status: StatusCode, response: Value) -> Call {
    let (req, send) =
        tokio::time::timeout(std::time::Duration::from_secs(10), handle.next_request())
            .await
            .expect("the controller made no further request")
            .expect("service not called");
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let bytes = req.into_body().collect_bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    send.send_response(
        Response::builder()
            .status(status)
            .body(Body::from(serde_json::to_vec(&response).unwrap()))
            .unwrap(),
    );
    Call {
        method,
        path,
        query,
        body,
    }
}

fn not_found() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"})
}

fn template_obj(body: &str) -> ImageTemplate {
    let mut t = ImageTemplate::new(
        "tpl",
        ImageTemplateSpec {
            template: Some(body.into()),
            ..ImageTemplateSpec::default()
        },
    );
    t.metadata.namespace = Some("ns".into());
    t.metadata.generation = Some(1);
    t.metadata.uid = Some("tpl-uid".into());
    t
}

fn build_obj() -> ImageBuild {
    let mut b = ImageBuild::new("b1", ImageBuildSpec::for_template("tpl"));
    b.metadata.namespace = Some("ns".into());
    b.metadata.generation = Some(1);
    b.metadata.uid = Some("b1-uid".into());
    b
}

fn echo<K: serde::Serialize>(obj: &K) -> Value {
    serde_json::to_value(obj).unwrap()
}

#[tokio::test]
async fn template_status_is_applied_once_with_the_operator_field_manager() {
    let (ctx, mut h) = context();
    let tpl = template_obj(VALID);
    let t2 = tpl.clone();
    let server = tokio::spawn(async move {
        let patch = next(&mut h, StatusCode::OK, echo(&t2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (patch, event)
    });
    template::reconcile(Arc::new(tpl.clone()), ctx.clone())
        .await
        .unwrap();
    let (patch, event) = server.await.unwrap();
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagetemplates/tpl/status"
    );
    assert!(
        patch.query.contains("fieldManager=kiln-operator"),
        "{}",
        patch.query
    );
    assert!(patch.query.contains("force=true"));
    let st = &patch.body["status"];
    assert_eq!(patch.body["kind"], "ImageTemplate");
    assert_eq!(st["observedGeneration"], 1);
    assert_eq!(st["sources"], json!(["null.a", "null.b"]));
    assert_eq!(st["conditions"][0]["type"], "Ready");
    assert_eq!(st["conditions"][0]["status"], "True");
    assert!(st["fingerprint"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(event.method, "POST");
    assert_eq!(event.path, "/apis/events.k8s.io/v1/namespaces/ns/events");
    assert_eq!(event.body["reason"], "Valid");

    // Seen again with that status: no call at all.
    let mut seen = tpl.clone();
    let status: kiln_crds::ImageTemplateStatus = serde_json::from_value(st.clone()).unwrap();
    seen.status = Some(status);
    let (ctx2, mut h2) = context();
    template::reconcile(Arc::new(seen), ctx2).await.unwrap();
    let r = tokio::time::timeout(std::time::Duration::from_millis(50), h2.next_request()).await;
    assert!(
        !matches!(r, Ok(Some(_))),
        "an unchanged template must not be written"
    );
}

#[tokio::test]
async fn invalid_template_publishes_diagnostics_and_a_warning() {
    let (ctx, mut h) = context();
    let tpl = template_obj("source \"null\" {\n}\n");
    let t2 = tpl.clone();
    let server = tokio::spawn(async move {
        let patch = next(&mut h, StatusCode::OK, echo(&t2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (patch, event)
    });
    template::reconcile(Arc::new(tpl), ctx).await.unwrap();
    let (patch, event) = server.await.unwrap();
    let st = &patch.body["status"];
    let stalled = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stalled")
        .unwrap();
    assert_eq!(stalled["status"], "True");
    assert_eq!(stalled["reason"], "InvalidTemplate");
    assert_eq!(st["diagnostics"][0]["file"], "template.pkr.hcl");
    assert!(st["diagnostics"][0]["line"].is_number());
    assert_eq!(event.body["type"], "Warning");
    assert!(
        event.body["note"]
            .as_str()
            .unwrap()
            .starts_with("template.pkr.hcl:")
    );
}

#[tokio::test]
async fn unknown_variable_fails_the_build_before_any_pod() {
    let (ctx, mut h) = context();
    let mut b = build_obj();
    b.spec.variables.insert("nope".into(), json!("x"));
    let tpl = template_obj(VALID);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let job = next(&mut h, StatusCode::NOT_FOUND, not_found()).await;
        let tget = next(&mut h, StatusCode::OK, echo(&tpl)).await;
        let cm = next(&mut h, StatusCode::NOT_FOUND, not_found()).await;
        let patch = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (job, tget, cm, patch, event)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (job, tget, cm, patch, event) = server.await.unwrap();
    assert_eq!(
        (job.method.as_str(), job.path.as_str()),
        ("GET", "/apis/batch/v1/namespaces/ns/jobs/kiln-b1")
    );
    assert_eq!(
        tget.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagetemplates/tpl"
    );
    // Before failing: no snapshot taken by an earlier reconcile?
    assert_eq!(
        (cm.method.as_str(), cm.path.as_str()),
        ("GET", "/api/v1/namespaces/ns/configmaps/b1-snapshot")
    );
    assert_eq!(
        patch.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds/b1/status"
    );
    let st = &patch.body["status"];
    assert_eq!(st["phase"], "Failed");
    let conds = st["conditions"].as_array().unwrap();
    let get = |t: &str| conds.iter().find(|c| c["type"] == t).unwrap().clone();
    assert_eq!(get("Stalled")["status"], "True");
    assert_eq!(get("Stalled")["reason"], "InvalidSpec");
    assert!(
        get("Stalled")["message"]
            .as_str()
            .unwrap()
            .contains("spec.variables.nope"),
        "{conds:?}"
    );
    assert_eq!(get("Succeeded")["status"], "False");
    assert_eq!(get("Reconciling")["status"], "False");
    assert!(
        st.get("sources").is_none(),
        "the controller never writes sources"
    );
    assert_eq!(event.body["type"], "Warning");
}

/// Answers the next `n` requests, whatever their order, with `respond(method, path)`;
/// returns them in the order they arrived.
async fn serve(
    h: &mut Handle,
    n: usize,
    respond: impl Fn(&str, &str) -> (StatusCode, Value),
) -> Vec<Call> {
    let mut calls = Vec::new();
    for _ in 0..n {
        let (req, send) =
            tokio::time::timeout(std::time::Duration::from_secs(10), h.next_request())
                .await
                .expect("the controller made no further request")
                .expect("service not called");
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        let bytes = req.into_body().collect_bytes().await.unwrap();
        let (status, reply) = respond(&method, &path);
        send.send_response(
            Response::builder()
                .status(status)
                .body(Body::from(serde_json::to_vec(&reply).unwrap()))
                .unwrap(),
        );
        calls.push(Call {
            method,
            path,
            query,
            body: if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap()
            },
        });
    }
    calls
}

/// What a real API server answers to a new build's writes.
fn new_build_reply(b: &ImageBuild, method: &str, path: &str) -> (StatusCode, Value) {
    let obj = |api: &str, kind: &str| {
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"},
               "roleRef": {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"x"}})
    };
    match (method, path) {
        ("POST", p) if p.ends_with("/configmaps") => (
            StatusCode::CREATED,
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b1-snapshot"}}),
        ),
        (_, p) if p.contains("/serviceaccounts/") => (StatusCode::OK, obj("v1", "ServiceAccount")),
        (_, p) if p.contains("/rolebindings/") => (
            StatusCode::OK,
            obj("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ),
        (_, p) if p.contains("/roles/") => {
            (StatusCode::OK, obj("rbac.authorization.k8s.io/v1", "Role"))
        }
        ("POST", p) if p.ends_with("/jobs") => (StatusCode::CREATED, json!({})),
        (_, p) if p.ends_with("/status") => (StatusCode::OK, echo(b)),
        _ => (StatusCode::OK, json!({})),
    }
}

fn rolebinding_reply() -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": "kiln-runner-b1", "namespace": "ns"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kiln-runner-b1"}})
}

/// A build with a secret variable, parallelBuilds 1, over the two-source template.
fn secret_build() -> ImageBuild {
    let mut b = build_obj();
    b.spec.parallel_builds = 1;
    b.spec.secret_variables = vec![kiln_crds::SecretVariable {
        name: "n".into(),
        secret_key_ref: kiln_crds::SecretKeyRef {
            name: "creds".into(),
            key: "n".into(),
        },
    }];
    b
}

const CM_POST: (&str, &str) = ("POST", "/api/v1/namespaces/ns/configmaps");
const SA_APPLY: (&str, &str) = (
    "PATCH",
    "/api/v1/namespaces/ns/serviceaccounts/kiln-runner-b1",
);
const ROLE_APPLY: (&str, &str) = (
    "PATCH",
    "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles/kiln-runner-b1",
);
const BINDING_APPLY: (&str, &str) = (
    "PATCH",
    "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/kiln-runner-b1",
);
const JOB_POST: (&str, &str) = ("POST", "/apis/batch/v1/namespaces/ns/jobs");
const STATUS_APPLY: (&str, &str) = (
    "PATCH",
    "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds/b1/status",
);
const EVENT_POST: (&str, &str) = ("POST", "/apis/events.k8s.io/v1/namespaces/ns/events");

/// Where `call` is among `calls` (it must be there exactly once).
fn position(calls: &[Call], call: (&str, &str)) -> usize {
    let at: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| (c.method.as_str(), c.path.as_str()) == call)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "{call:?} in {:?}", summary(calls));
    at[0]
}

fn summary(calls: &[Call]) -> Vec<(String, String)> {
    calls
        .iter()
        .map(|c| (c.method.clone(), c.path.clone()))
        .collect()
}

/// The writes of a new build (after its reads) and what they carry. The snapshot,
/// ServiceAccount and Role go out at once; then the RoleBinding (once the Role exists: the API
/// server's escalation check reads it) and the Job (once the snapshot and ServiceAccount do),
/// each as soon as it can; then the status and the `Queued` event.
fn check_new_build_calls(calls: &[Call], ctx: &Context) {
    assert_eq!(calls.len(), 7, "{:?}", summary(calls));
    let first_three: std::collections::BTreeSet<(String, String)> =
        summary(&calls[..3]).into_iter().collect();
    let want: std::collections::BTreeSet<(String, String)> = [CM_POST, SA_APPLY, ROLE_APPLY]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(first_three, want, "sent at once, in any order");
    // Then the RoleBinding (after the Role) and the Job (after snapshot and ServiceAccount).
    let rb = position(calls, BINDING_APPLY);
    let job = position(calls, JOB_POST);
    let mut after = [rb, job];
    after.sort();
    assert_eq!(after, [3, 4]);
    // Then the status and the `Queued` event, at once.
    let last_two: std::collections::BTreeSet<(String, String)> =
        summary(&calls[5..]).into_iter().collect();
    let want: std::collections::BTreeSet<(String, String)> = [EVENT_POST, STATUS_APPLY]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(last_two, want, "sent at once, after the Job");
    for c in [SA_APPLY, ROLE_APPLY, BINDING_APPLY] {
        let q = &calls[position(calls, c)].query;
        assert!(q.contains("fieldManager=kiln-operator"), "{q}");
    }
    // The snapshot: immutable, owned, selects both sources in template order, no secret.
    let cm = &calls[position(calls, CM_POST)].body;
    assert_eq!(cm["immutable"], true);
    assert_eq!(cm["metadata"]["ownerReferences"][0]["uid"], "b1-uid");
    let snap: Value = serde_json::from_str(cm["data"]["snapshot.json"].as_str().unwrap()).unwrap();
    assert_eq!(snap["builds"], json!(["null.a", "null.b"]));
    assert_eq!(snap["secretVariables"], json!(["n"]));
    // The Job.
    let job = &calls[job].body;
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 2);
    assert_eq!(job["spec"]["parallelism"], 1);
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let secret = env.iter().find(|e| e["name"] == "PKR_VAR_n").unwrap();
    assert_eq!(secret["valueFrom"]["secretKeyRef"]["name"], "creds");
    // The Role is limited to this build.
    let role = &calls[position(calls, ROLE_APPLY)].body;
    assert_eq!(role["kind"], "Role");
    assert_eq!(role["rules"][0]["resourceNames"], json!(["b1"]));
    // Status: Pending, Reconciling, Succeeded Unknown; sources summary 0/2.
    let st = &calls[position(calls, STATUS_APPLY)].body["status"];
    assert_eq!(st["phase"], "Pending");
    assert_eq!(st["sourcesSummary"], "0/2");
    assert_eq!(st["snapshot"], "b1-snapshot");
    // The Job is named at once (a reconcile whose Job cache lags asks for it rather than
    // launching again), without a start time while no pod runs.
    assert_eq!(st["jobName"], "kiln-b1");
    assert!(st.get("startTime").is_none(), "{st}");
    let conds = st["conditions"].as_array().unwrap();
    let get = |t: &str| conds.iter().find(|c| c["type"] == t).unwrap().clone();
    assert_eq!(get("Reconciling")["status"], "True");
    assert_eq!(get("Succeeded")["status"], "Unknown");
    assert_eq!(get("Ready")["observedGeneration"], 1);
    assert!(ctx.metrics.encode().contains("kiln_builds_started_total 1"));
}

#[tokio::test]
async fn new_build_gets_snapshot_rbac_and_one_indexed_job() {
    let (ctx, mut h) = context();
    let b = secret_build();
    let tpl = template_obj(VALID);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        // Without caches: the Job and the template are read from the API server.
        let job = next(&mut h, StatusCode::NOT_FOUND, not_found()).await;
        let tget = next(&mut h, StatusCode::OK, echo(&tpl)).await;
        let calls = serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await;
        (job, tget, calls)
    });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let (job, tget, calls) = server.await.unwrap();
    assert_eq!(
        (job.method.as_str(), job.path.as_str()),
        ("GET", "/apis/batch/v1/namespaces/ns/jobs/kiln-b1")
    );
    assert_eq!(
        (tget.method.as_str(), tget.path.as_str()),
        (
            "GET",
            "/apis/kiln.dev/v1alpha1/namespaces/ns/imagetemplates/tpl"
        )
    );
    check_new_build_calls(&calls, &ctx);
}

/// A build whose Job exists (as the Job cache keeps it) and whose status names its snapshot
/// of `sources`, Pending.
fn settled_build(sources: &[&str]) -> (ImageBuild, Job) {
    let mut b = build_obj();
    let snap = super::resources::tests::snapshot(sources);
    let mut job = super::resources::job(&b, &snap, &Default::default()).unwrap();
    super::slim_job(&mut job);
    b.status = Some(build::status::desired_status(
        &b,
        &build::status::JobView::fixed(BuildPhase::Pending, "Queued", "waiting"),
        Some(&snap),
        super::context::now(),
        &Default::default(),
    ));
    (b, job)
}

/// A context whose caches hold `templates` and `jobs`.
fn cached_context(templates: &[ImageTemplate], jobs: &[Job]) -> (Arc<Context>, Handle) {
    let (ctx, h) = context();
    let (treader, mut twriter) = reflector::store::<ImageTemplate>();
    for t in templates {
        twriter.apply_watcher_event(&watcher::Event::Apply(t.clone()));
    }
    let (jreader, mut jwriter) = reflector::store::<Job>();
    for j in jobs {
        jwriter.apply_watcher_event(&watcher::Event::Apply(j.clone()));
    }
    let ctx = ctx.with_caches(Caches {
        templates: Some(treader),
        builds: Some(reflector::store::<ImageBuild>().0),
        jobs: Some(jreader),
        pods: None,
        channels: None,
    });
    (Arc::new(ctx), h)
}

#[tokio::test]
async fn new_build_reads_only_caches_before_its_job() {
    // The usual first reconcile: template in the cache, no Job yet, no snapshot in status.
    // Nothing is read from the API server: snapshot and RBAC are written at once, then the
    // binding, then the Job.
    let (ctx, mut h) = cached_context(&[template_obj(VALID)], &[]);
    let b = secret_build();
    let b2 = b.clone();
    let server =
        tokio::spawn(async move { serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let calls = server.await.unwrap();
    check_new_build_calls(&calls, &ctx);
}

#[tokio::test]
async fn the_jobs_own_event_before_the_status_write_costs_no_second_snapshot() {
    let (ctx, mut h) = cached_context(&[template_obj(VALID)], &[]);
    let b = secret_build();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let calls = serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await;
        (calls, h)
    });
    build::reconcile(Arc::new(b.clone()), ctx.clone())
        .await
        .unwrap();
    let (calls, mut h) = server.await.unwrap();
    assert_eq!(ctx.launched.len(), 1);
    // The Job's ADDED event arrives; the build in the cache still has no status.
    let mut job: Job =
        serde_json::from_value(calls[position(&calls, JOB_POST)].body.clone()).unwrap();
    job.metadata.namespace = Some("ns".into());
    let (jreader, mut jwriter) = reflector::store::<Job>();
    jwriter.apply_watcher_event(&watcher::Event::Apply(job));
    let ctx2 = Arc::new(ctx.with_caches(Caches {
        templates: ctx.caches.templates.clone(),
        builds: ctx.caches.builds.clone(),
        jobs: Some(jreader),
        pods: None,
        channels: None,
    }));
    let b3 = b.clone();
    let server =
        tokio::spawn(async move { serve(&mut h, 1, |m, p| new_build_reply(&b3, m, p)).await });
    build::reconcile(Arc::new(b), ctx2).await.unwrap();
    let calls = server.await.unwrap();
    // No snapshot, ServiceAccount, Role or binding again: only the status (no event: a
    // build just queued has had its `Queued` event with the Job).
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        STATUS_APPLY
    );
    assert_eq!(calls[0].body["status"]["snapshot"], "b1-snapshot");
    assert_eq!(calls[0].body["status"]["sourcesSummary"], "0/2");
}

#[tokio::test]
async fn a_running_build_without_its_binding_gets_its_access_again() {
    // After a restart (empty ledger) a settled build whose RoleBinding is missing.
    let (b, job) = settled_build(&["null.a"]);
    let (ctx, mut h) = cached_context(&[], &[job]);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let get = next(&mut h, StatusCode::NOT_FOUND, not_found()).await;
        let mut calls = vec![get];
        calls.extend(serve(&mut h, 4, |m, p| new_build_reply(&b2, m, p)).await);
        calls
    });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let calls = server.await.unwrap();
    // Then its status (the Job's view), as for any build.
    assert_eq!(
        (calls[4].method.as_str(), calls[4].path.as_str()),
        STATUS_APPLY
    );
    assert_eq!(
        summary(&calls[..4]),
        [
            ("GET", BINDING_APPLY.1),
            SA_APPLY,
            ROLE_APPLY,
            BINDING_APPLY
        ]
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect::<Vec<_>>()
    );
    assert_eq!(
        ctx.access.get("b1-uid"),
        Some(super::build::ledgers::Access::Granted)
    );
}

#[tokio::test]
async fn background_access_failure_retriggers_and_the_next_reconcile_applies_it() {
    let (ctx, mut h) = cached_context(&[template_obj(VALID)], &[]);
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let ctx = Arc::new(
        ctx.with_caches(Caches {
            templates: ctx.caches.templates.clone(),
            builds: ctx.caches.builds.clone(),
            jobs: ctx.caches.jobs.clone(),
            pods: None,
            channels: None,
        })
        .with_retrigger(tx),
    );
    let b = secret_build();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        // The Role apply fails (500); everything else works.
        let calls = serve(&mut h, 6, |m, p| {
            if p.contains("/roles/") {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "InternalError", "code": 500, "message": "etcd is sad"}),
                )
            } else {
                new_build_reply(&b2, m, p)
            }
        })
        .await;
        (calls, h)
    });
    // The reconcile ends with the Job, whatever happens to the Role.
    build::reconcile(Arc::new(b.clone()), ctx.clone())
        .await
        .unwrap();
    use futures::StreamExt;
    let again = tokio::time::timeout(std::time::Duration::from_secs(10), rx.next())
        .await
        .expect("the build was not re-triggered")
        .unwrap();
    assert_eq!(again.name, "b1");
    let (calls, mut h) = server.await.unwrap();
    position(&calls, JOB_POST); // created exactly once
    assert!(
        calls.iter().all(|c| c.path != BINDING_APPLY.1),
        "no binding without its Role: {:?}",
        summary(&calls)
    );
    assert_eq!(
        ctx.access.get("b1-uid"),
        Some(super::build::ledgers::Access::Failed)
    );
    assert!(
        ctx.metrics
            .encode()
            .contains("kiln_reconcile_failures_total")
    );
    // The re-triggered reconcile (Job now in the cache) applies the access again, in order.
    let mut job: Job =
        serde_json::from_value(calls[position(&calls, JOB_POST)].body.clone()).unwrap();
    job.metadata.namespace = Some("ns".into());
    let (jreader, mut jwriter) = reflector::store::<Job>();
    jwriter.apply_watcher_event(&watcher::Event::Apply(job));
    let ctx2 = Arc::new(ctx.with_caches(Caches {
        templates: ctx.caches.templates.clone(),
        builds: ctx.caches.builds.clone(),
        jobs: Some(jreader),
        pods: None,
        channels: None,
    }));
    let b3 = b.clone();
    let server =
        tokio::spawn(async move { serve(&mut h, 4, |m, p| new_build_reply(&b3, m, p)).await });
    build::reconcile(Arc::new(b), ctx2.clone()).await.unwrap();
    let calls = server.await.unwrap();
    // Then the status (its write was not visible yet; no second `Queued` event).
    assert_eq!(
        (calls[3].method.as_str(), calls[3].path.as_str()),
        STATUS_APPLY
    );
    assert_eq!(
        summary(&calls[..3]),
        [SA_APPLY, ROLE_APPLY, BINDING_APPLY]
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        ctx2.access.get("b1-uid"),
        Some(super::build::ledgers::Access::Granted)
    );
}

#[tokio::test]
async fn snapshot_taken_earlier_wins_on_conflict() {
    // The status write of an earlier reconcile was lost: the ConfigMap exists, the Job too
    // but the cache has not seen it. Both creates conflict and the existing objects are used.
    let (ctx, mut h) = cached_context(&[template_obj(VALID)], &[]);
    let b = build_obj();
    let snap = super::resources::tests::snapshot(&["null.a"]);
    let cm = super::resources::snapshot_config_map(&b, &snap);
    let job = super::resources::job(&b, &snap, &Default::default()).unwrap();
    let b2 = b.clone();
    let conflict = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "code": 409, "message": "exists"});
    let server = tokio::spawn(async move {
        serve(&mut h, 9, |m, p| match (m, p) {
            ("POST", p) if p.ends_with("/configmaps") || p.ends_with("/jobs") => {
                (StatusCode::CONFLICT, conflict.clone())
            }
            ("GET", p) if p.contains("/configmaps/") => (StatusCode::OK, echo(&cm)),
            ("GET", p) if p.contains("/jobs/") => (StatusCode::OK, echo(&job)),
            _ => new_build_reply(&b2, m, p),
        })
        .await
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let calls = server.await.unwrap();
    let cm_get = position(
        &calls,
        ("GET", "/api/v1/namespaces/ns/configmaps/b1-snapshot"),
    );
    let job_get = position(&calls, ("GET", "/apis/batch/v1/namespaces/ns/jobs/kiln-b1"));
    assert!(cm_get > position(&calls, CM_POST));
    assert!(job_get > position(&calls, JOB_POST));
    // The status follows the existing snapshot (one source), not a new one (two).
    let status = &calls[position(&calls, STATUS_APPLY)];
    assert_eq!(status.body["status"]["sourcesSummary"], "0/1");
    // The binding is applied all the same; no "Job created" event for a Job found.
    position(&calls, BINDING_APPLY);
    let events = calls.iter().filter(|c| c.path.ends_with("/events")).count();
    assert_eq!(events, 1, "only the phase event: {:?}", summary(&calls));
}

const CHILD: &str = "variable \"n\" {\n  type = number\n  default = 1\n}\ndata \"kiln-channel\" \"base\" {\n  channel = \"base-prod\"\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nsource \"null\" \"b\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\", \"source.null.b\"]\n  provisioner \"shell-local\" {\n    inline = [\"echo ${data.kiln-channel.base.build}\"]\n  }\n}\n";

fn base_channel(ready: bool) -> Value {
    let conditions = if ready {
        json!([{"type": "Ready", "status": "True", "reason": "TargetVerified", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"},
               {"type": "Reconciling", "status": "False", "reason": "TargetVerified", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}])
    } else {
        json!([{"type": "Ready", "status": "False", "reason": "TargetRevoked", "message": "x", "lastTransitionTime": "2026-01-01T00:00:00Z"},
               {"type": "Reconciling", "status": "False", "reason": "TargetRevoked", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"},
               {"type": "Stalled", "status": "True", "reason": "TargetRevoked", "message": "ImageBuild \"base-1\" is revoked: CVE-9", "lastTransitionTime": "2026-01-01T00:00:00Z"}])
    };
    json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageChannel",
           "metadata": {"name": "base-prod", "namespace": "ns"},
           "spec": {"templateRef": {"name": "base"}, "build": "base-1"},
           "status": {"conditions": conditions, "currentBuild": "base-1",
                      "artifacts": [{"source": "file.root", "artifacts": [{"builderId": "packer.file", "id": "root.img"}]}]}})
}

#[tokio::test]
async fn a_build_reading_a_channel_fixes_it_in_the_snapshot_and_records_its_parent() {
    let (ctx, mut h) = cached_context(&[template_obj(CHILD)], &[]);
    let b = secret_build();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let get = next(&mut h, StatusCode::OK, base_channel(true)).await;
        let calls = serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await;
        (get, calls)
    });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let (get, calls) = server.await.unwrap();
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        (
            "GET",
            "/apis/kiln.dev/v1alpha1/namespaces/ns/imagechannels/base-prod"
        )
    );
    check_new_build_calls(&calls, &ctx);
    let cm = &calls[position(&calls, CM_POST)].body;
    let snap: Value = serde_json::from_str(cm["data"]["snapshot.json"].as_str().unwrap()).unwrap();
    assert_eq!(
        snap["parent"],
        json!({"build": "base-1", "channel": "base-prod"})
    );
    assert_eq!(snap["channels"][0]["metadata"]["name"], "base-prod");
    assert_eq!(snap["channels"][0]["status"]["currentBuild"], "base-1");
    assert!(snap.get("channelRefs").is_none());
    let st = &calls[position(&calls, STATUS_APPLY)].body["status"];
    assert_eq!(
        st["parent"],
        json!({"build": "base-1", "channel": "base-prod"})
    );
}

#[tokio::test]
async fn a_build_reading_a_revoked_channel_fails_before_any_pod() {
    let (ctx, mut h) = cached_context(&[template_obj(CHILD)], &[]);
    let b = build_obj();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let get = next(&mut h, StatusCode::OK, base_channel(false)).await;
        let patch = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (get, patch, event)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (get, patch, event) = server.await.unwrap();
    assert_eq!(get.method, "GET");
    let st = &patch.body["status"];
    assert_eq!(st["phase"], "Failed");
    let stalled = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stalled")
        .unwrap()
        .clone();
    assert_eq!(stalled["reason"], "InvalidSpec");
    assert!(
        stalled["message"]
            .as_str()
            .unwrap()
            .contains("data.kiln-channel.base: ImageChannel base-prod is not Ready (TargetRevoked: ImageBuild \"base-1\" is revoked: CVE-9)"),
        "{stalled}"
    );
    assert_eq!(event.body["type"], "Warning");
}

#[tokio::test]
async fn settled_build_follows_its_cached_job_with_one_write() {
    // Job in the cache, snapshot named in status: no read at all, only the status write.
    let (b, mut job) = settled_build(&["null.a", "null.b"]);
    job.status = Some(k8s_openapi::api::batch::v1::JobStatus {
        active: Some(2),
        ready: Some(2),
        start_time: Some(super::context::now()),
        ..Default::default()
    });
    let (ctx, mut h) = cached_context(&[], &[job]);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        // A new process (empty ledger) checks the runner's access once, with a read.
        let rb = next(&mut h, StatusCode::OK, rolebinding_reply()).await;
        let status = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        assert_eq!(
            (rb.method.as_str(), rb.path.as_str()),
            ("GET", BINDING_APPLY.1)
        );
        (status, event)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (status, event) = server.await.unwrap();
    assert_eq!(
        status.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds/b1/status"
    );
    assert_eq!(status.body["status"]["phase"], "Running");
    assert_eq!(status.body["status"]["sourcesSummary"], "0/2");
    assert_eq!(event.body["reason"], "Building");
}

#[tokio::test]
async fn missing_template_waits_without_failing() {
    let (ctx, mut h) = context();
    let b = build_obj();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        next(&mut h, StatusCode::NOT_FOUND, not_found()).await; // Job
        next(&mut h, StatusCode::NOT_FOUND, not_found()).await; // template
        next(&mut h, StatusCode::NOT_FOUND, not_found()).await; // snapshot
        let patch = next(&mut h, StatusCode::OK, echo(&b2)).await;
        next(&mut h, StatusCode::OK, json!({})).await;
        patch
    });
    let action = build::reconcile(Arc::new(b), ctx).await.unwrap();
    let patch = server.await.unwrap();
    assert_eq!(patch.body["status"]["phase"], "Pending");
    assert_ne!(action, kube::runtime::controller::Action::await_change());
}

#[tokio::test]
async fn cancel_suspends_the_job() {
    let (ctx, mut h) = context();
    let mut b = build_obj();
    b.spec.cancel = true;
    b.status = Some(ImageBuildStatus {
        phase: Some(BuildPhase::Running),
        snapshot: Some("b1-snapshot".into()),
        sources_summary: Some("0/1".into()),
        ..ImageBuildStatus::default()
    });
    let snap = super::resources::tests::snapshot(&["null.a"]);
    let mut job = super::resources::job(&b, &snap, &Default::default()).unwrap();
    job.status = Some(k8s_openapi::api::batch::v1::JobStatus {
        active: Some(1),
        ..Default::default()
    });
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        // A running build: its Job is read (no cache here) and, by a new process, its
        // RoleBinding; nothing else before the suspend.
        next(&mut h, StatusCode::OK, echo(&job)).await;
        next(&mut h, StatusCode::OK, rolebinding_reply()).await;
        let suspend = next(&mut h, StatusCode::OK, echo(&job)).await;
        next(&mut h, StatusCode::OK, json!({})).await; // event
        let status = next(&mut h, StatusCode::OK, echo(&b2)).await;
        (suspend, status)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (suspend, status) = server.await.unwrap();
    assert_eq!(suspend.method, "PATCH");
    assert_eq!(suspend.path, "/apis/batch/v1/namespaces/ns/jobs/kiln-b1");
    assert_eq!(suspend.body, json!({"spec": {"suspend": true}}));
    // Still running while pods clean up.
    assert_eq!(status.body["status"]["phase"], "Running");
}

#[tokio::test]
async fn channel_pointing_at_a_revoked_build_stalls() {
    let (ctx, mut h) = context();
    let mut ch = ImageChannel::new("prod", ImageChannelSpec::pinned("tpl", "b1"));
    ch.metadata.namespace = Some("ns".into());
    ch.metadata.generation = Some(1);
    let mut b = build_obj();
    b.spec.revoked = Some(kiln_crds::Revocation {
        reason: "CVE-2025-0001".into(),
    });
    b.status = Some(ImageBuildStatus {
        phase: Some(BuildPhase::Succeeded),
        sources: vec![SourceStatus {
            name: "null.a".into(),
            ..SourceStatus::default()
        }],
        ..ImageBuildStatus::default()
    });
    let ch2 = ch.clone();
    let server = tokio::spawn(async move {
        let get = next(&mut h, StatusCode::OK, echo(&b)).await;
        let patch = next(&mut h, StatusCode::OK, echo(&ch2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (get, patch, event)
    });
    channel::reconcile(Arc::new(ch), ctx).await.unwrap();
    let (get, patch, event) = server.await.unwrap();
    assert_eq!(
        get.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds/b1"
    );
    assert_eq!(
        patch.path,
        "/apis/kiln.dev/v1alpha1/namespaces/ns/imagechannels/prod/status"
    );
    assert!(patch.query.contains("fieldManager=kiln-operator"));
    let conds = patch.body["status"]["conditions"].as_array().unwrap();
    let stalled = conds.iter().find(|c| c["type"] == "Stalled").unwrap();
    assert_eq!(stalled["reason"], "TargetRevoked");
    assert!(
        stalled["message"]
            .as_str()
            .unwrap()
            .contains("CVE-2025-0001")
    );
    assert_eq!(event.body["reason"], "TargetRevoked");
    assert!(
        patch.body.get("spec").is_none(),
        "a channel's spec is never written"
    );
}

#[test]
fn object_refs_have_kinds() {
    let b = build_obj();
    assert_eq!(b.object_ref(&()).kind.as_deref(), Some("ImageBuild"));
}

const NEEDS_KVM: &str = "source \"kiln-test-requirements\" \"vm\" {\n  devices = [\"/dev/kvm\"]\n  reason = \"accelerator = kvm\"\n}\nsource \"null\" \"b\" {\n  communicator = \"none\"\n}\nvariable \"n\" {\n  type = number\n  default = 1\n}\nbuild {\n  sources = [\"source.kiln-test-requirements.vm\", \"source.null.b\"]\n}\n";

#[tokio::test]
async fn a_builder_requirement_reaches_the_pod_the_status_and_the_event() {
    let (ctx, mut h) = cached_context(&[template_obj(NEEDS_KVM)], &[]);
    let b = secret_build();
    let b2 = b.clone();
    let server =
        tokio::spawn(async move { serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let calls = server.await.unwrap();
    let job = &calls[position(&calls, JOB_POST)].body;
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["limits"]["devices.kubevirt.io/kvm"], "1");
    // Nothing else beyond the restricted defaults.
    assert_eq!(
        c["securityContext"]["capabilities"],
        json!({"drop": ["ALL"]})
    );
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    let st = &calls[position(&calls, STATUS_APPLY)].body["status"];
    assert_eq!(
        st["runner"],
        json!({"granted": [{"kind": "device", "name": "/dev/kvm",
                            "reason": "kiln-test-requirements.vm: accelerator = kvm"}]})
    );
    let queued = calls
        .iter()
        .find(|c| c.path.ends_with("/events") && c.body["reason"] == "Queued")
        .expect("a Queued event");
    let note = queued.body["note"].as_str().unwrap();
    assert!(
        note.contains(
            "runner granted: device /dev/kvm (kiln-test-requirements.vm: accelerator = kvm)"
        ),
        "{note}"
    );
}

#[tokio::test]
async fn sources_needing_different_images_fail_before_anything_is_written() {
    const TWO_IMAGES: &str = "source \"kiln-test-requirements\" \"a\" {\n  image = \"debian:12\"\n}\nsource \"kiln-test-requirements\" \"b\" {\n  image = \"alpine:3\"\n}\nbuild {\n  sources = [\"source.kiln-test-requirements.a\", \"source.kiln-test-requirements.b\"]\n}\n";
    let (ctx, mut h) = cached_context(&[template_obj(TWO_IMAGES)], &[]);
    let b = build_obj();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let patch = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (patch, event)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (patch, event) = server.await.unwrap();
    assert_eq!(patch.path, STATUS_APPLY.1, "no snapshot, RBAC or Job first");
    let st = &patch.body["status"];
    assert_eq!(st["phase"], "Failed");
    let stalled = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stalled")
        .unwrap()
        .clone();
    assert_eq!(stalled["reason"], "InvalidSpec");
    assert!(
        stalled["message"].as_str().unwrap().contains(
            "kiln-test-requirements.a in debian:12, kiln-test-requirements.b in alpine:3"
        ),
        "{stalled}"
    );
    assert_eq!(event.body["type"], "Warning");
}

#[tokio::test]
async fn a_runner_pod_that_cannot_pull_its_image_is_reported_within_seconds() {
    let (b, mut job) = settled_build(&["null.a"]);
    job.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now() - std::time::Duration::from_secs(10),
    ));
    job.status = Some(k8s_openapi::api::batch::v1::JobStatus {
        active: Some(1),
        ready: Some(0),
        ..Default::default()
    });
    let (ctx, mut h) = cached_context(&[], &[job]);
    ctx.access
        .set("b1-uid", super::build::ledgers::Access::Granted);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let pods = next(
            &mut h,
            StatusCode::OK,
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [
                {"metadata": {"name": "kiln-b1-0-x"}, "status": {"phase": "Pending",
                 "containerStatuses": [{"name": "runner", "image": "ghcr.io/nope:1", "imageID": "", "ready": false, "restartCount": 0,
                   "state": {"waiting": {"reason": "ErrImagePull", "message": "failed to pull \"ghcr.io/nope:1\": not found"}}}]}}]}),
        )
        .await;
        let status = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (pods, status, event)
    });
    let action = build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (pods, status, event) = server.await.unwrap();
    assert_eq!(
        (pods.method.as_str(), pods.path.as_str()),
        ("GET", "/api/v1/namespaces/ns/pods")
    );
    assert!(
        pods.query.contains("labelSelector=kiln.dev%2Fbuild%3Db1"),
        "{}",
        pods.query
    );
    let st = &status.body["status"];
    assert_eq!(st["phase"], "Pending");
    let rec = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Reconciling")
        .unwrap()
        .clone();
    assert_eq!(rec["reason"], "ImagePullFailed");
    assert!(
        rec["message"]
            .as_str()
            .unwrap()
            .contains("failed to pull \"ghcr.io/nope:1\": not found"),
        "{rec}"
    );
    assert_eq!(event.body["type"], "Warning");
    assert_eq!(event.body["reason"], "ImagePullFailed");
    assert_eq!(
        action,
        kube::runtime::controller::Action::requeue(std::time::Duration::from_secs(5))
    );
}

#[tokio::test]
async fn a_job_refused_its_pods_by_a_quota_says_so() {
    let (b, mut job) = settled_build(&["null.a"]);
    job.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now() - std::time::Duration::from_secs(10),
    ));
    job.status = Some(k8s_openapi::api::batch::v1::JobStatus::default());
    let (ctx, mut h) = cached_context(&[], &[job]);
    ctx.access
        .set("b1-uid", super::build::ledgers::Access::Granted);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        next(
            &mut h,
            StatusCode::OK,
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": []}),
        )
        .await;
        let events = next(
            &mut h,
            StatusCode::OK,
            json!({"apiVersion": "v1", "kind": "EventList", "metadata": {}, "items": [
                {"metadata": {"name": "e1"}, "involvedObject": {"kind": "Job", "name": "kiln-b1"}, "reason": "FailedCreate",
                 "message": "Error creating: pods \"kiln-b1-0-x\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1"}]}),
        )
        .await;
        let status = next(&mut h, StatusCode::OK, echo(&b2)).await;
        (events, status)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (events, status) = server.await.unwrap();
    assert_eq!(events.path, "/api/v1/namespaces/ns/events");
    assert!(
        events.query.contains("involvedObject.name%3Dkiln-b1"),
        "{}",
        events.query
    );
    let st = &status.body["status"];
    let ready = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["reason"], "QuotaExceeded");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("exceeded quota: q"),
        "{ready}"
    );
}

#[tokio::test]
async fn an_unschedulable_pod_in_the_pod_cache_costs_no_read() {
    let (b, mut job) = settled_build(&["null.a"]);
    job.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now() - std::time::Duration::from_secs(10),
    ));
    job.status = Some(k8s_openapi::api::batch::v1::JobStatus {
        active: Some(1),
        ready: Some(0),
        ..Default::default()
    });
    let (ctx, mut h) = cached_context(&[], &[job]);
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "metadata": {"name": "kiln-b1-0-x", "namespace": "ns", "labels": {"kiln.dev/build": "b1"}},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}]}}))
    .unwrap();
    let (preader, mut pwriter) = reflector::store::<k8s_openapi::api::core::v1::Pod>();
    pwriter.apply_watcher_event(&watcher::Event::Apply(pod));
    let ctx = Arc::new(ctx.with_caches(Caches {
        pods: Some(preader),
        ..ctx.caches.clone()
    }));
    ctx.access
        .set("b1-uid", super::build::ledgers::Access::Granted);
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let status = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (status, event)
    });
    let action = build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (status, event) = server.await.unwrap();
    assert_eq!(
        status.path, STATUS_APPLY.1,
        "no pod list: the cache answered"
    );
    let conds = status.body["status"]["conditions"]
        .as_array()
        .unwrap()
        .clone();
    let rec = conds.iter().find(|c| c["type"] == "Reconciling").unwrap();
    assert_eq!(rec["reason"], "Unschedulable");
    assert!(
        rec["message"]
            .as_str()
            .unwrap()
            .contains("didn't match Pod's node affinity/selector")
    );
    assert_eq!(event.body["reason"], "Unschedulable");
    assert_eq!(
        action,
        kube::runtime::controller::Action::await_change(),
        "the pod's next change triggers the build"
    );
}

const REGISTRY: &str = "hcp_packer_registry {\n  bucket_name   = \"app\"\n  description   = \"The app image\"\n  bucket_labels = { team = \"platform\" }\n  build_labels  = { os = \"debian\", \"built at\" = \"today\" }\n  channels      = [\"production\"]\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nsource \"null\" \"b\" {\n  communicator = \"none\"\n}\nvariable \"n\" {\n  type = number\n  default = 1\n}\nbuild {\n  sources = [\"source.null.a\", \"source.null.b\"]\n}\n";

#[tokio::test]
async fn a_registry_build_is_labelled_by_its_own_field_manager_before_its_job() {
    let (ctx, mut h) = cached_context(&[template_obj(REGISTRY)], &[]);
    let b = secret_build();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        serve(&mut h, 8, |m, p| {
            if p.ends_with("/imagebuilds/b1") {
                (StatusCode::OK, echo(&b2))
            } else {
                new_build_reply(&b2, m, p)
            }
        })
        .await
    });
    build::reconcile(Arc::new(b), ctx.clone()).await.unwrap();
    let mut calls = server.await.unwrap();
    // The labels (metadata only, server-side apply, its own manager, no force), sent with the
    // snapshot and the ServiceAccount, before the Job.
    let at = position(
        &calls,
        (
            "PATCH",
            "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds/b1",
        ),
    );
    assert!(at < position(&calls, JOB_POST), "{:?}", summary(&calls));
    let label = calls.remove(at);
    assert!(
        label.query.contains("fieldManager=kiln-registry"),
        "{}",
        label.query
    );
    assert!(!label.query.contains("force"), "{}", label.query);
    assert!(
        label.body.get("spec").is_none(),
        "never a spec: {}",
        label.body
    );
    assert_eq!(
        label.body["metadata"]["labels"],
        json!({"kiln.dev/bucket": "app", "kiln.dev/fingerprint": "b1",
               "channel.kiln.dev/production": "true", "os": "debian"})
    );
    let all: Value = serde_json::from_str(
        label.body["metadata"]["annotations"]["kiln.dev/build-labels"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(all, json!({"built at": "today", "os": "debian"}));
    check_new_build_calls(&calls, &ctx);
    let st = &calls[position(&calls, STATUS_APPLY)].body["status"];
    assert_eq!(
        st["registry"],
        json!({"bucket": "app", "fingerprint": "b1", "channels": ["production"]})
    );
    assert!(st["inputsDigest"].as_str().unwrap().starts_with("sha256:"));
    // The template publishes its bucket.
    let (ctx, mut h) = context();
    let tpl = template_obj(REGISTRY);
    let t2 = tpl.clone();
    let server = tokio::spawn(async move {
        let patch = next(&mut h, StatusCode::OK, echo(&t2)).await;
        let _event = next(&mut h, StatusCode::OK, json!({})).await;
        patch
    });
    template::reconcile(Arc::new(tpl), ctx).await.unwrap();
    let patch = server.await.unwrap();
    assert_eq!(
        patch.body["status"]["bucket"],
        json!({"name": "app", "description": "The app image",
               "labels": {"team": "platform"}, "channels": ["production"]})
    );
}

const HCP_CHILD: &str = "data \"hcp-packer-version\" \"base\" {\n  bucket_name  = \"base\"\n  channel_name = \"production\"\n}\ndata \"hcp-packer-artifact\" \"base\" {\n  bucket_name         = \"base\"\n  version_fingerprint = data.hcp-packer-version.base.fingerprint\n  platform            = \"file\"\n  region              = \"file\"\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n  provisioner \"shell-local\" {\n    inline = [\"echo ${data.hcp-packer-artifact.base.external_identifier}\"]\n  }\n}\n";

fn hcp_base(revoked: bool) -> (Value, Value) {
    let mut base = json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild",
        "metadata": {"name": "base-1", "namespace": "ns", "uid": "base-1-uid",
                     "labels": {"kiln.dev/bucket": "base", "kiln.dev/fingerprint": "f1"}},
        "spec": {"templateRef": {"name": "base"}},
        "status": {"phase": "Succeeded", "sources": [{"name": "file.root", "phase": "Succeeded",
            "artifacts": [{"builderId": "packer.file", "id": "root.img"}]}]}});
    let mut ch = base_channel(!revoked);
    ch["metadata"]["labels"] = json!({"kiln.dev/bucket": "base", "kiln.dev/channel": "production"});
    ch["metadata"]["name"] = json!("base-production");
    if revoked {
        base["spec"]["revoked"] = json!({"reason": "CVE-9"});
    }
    (
        json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuildList", "metadata": {}, "items": [base]}),
        json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageChannelList", "metadata": {}, "items": [ch]}),
    )
}

/// A context whose caches hold the template and `builds` (the Job cache is empty).
fn cached_with_builds(tpl: ImageTemplate, builds: &Value) -> (Arc<Context>, Handle) {
    let (ctx, h) = context();
    let (treader, mut twriter) = reflector::store::<ImageTemplate>();
    twriter.apply_watcher_event(&watcher::Event::Apply(tpl));
    let (breader, mut bwriter) = reflector::store::<ImageBuild>();
    for b in builds["items"].as_array().unwrap() {
        let b: ImageBuild = serde_json::from_value(b.clone()).unwrap();
        bwriter.apply_watcher_event(&watcher::Event::Apply(b));
    }
    let ctx = ctx.with_caches(Caches {
        templates: Some(treader),
        builds: Some(breader),
        jobs: Some(reflector::store::<Job>().0),
        pods: None,
        channels: None,
    });
    (Arc::new(ctx), h)
}

#[tokio::test]
async fn hcp_data_sources_read_the_bucket_into_the_snapshot() {
    let (builds, channels) = hcp_base(false);
    let (ctx, mut h) = cached_with_builds(template_obj(HCP_CHILD), &builds);
    let b = build_obj();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let lc = next(&mut h, StatusCode::OK, channels).await;
        let calls = serve(&mut h, 7, |m, p| new_build_reply(&b2, m, p)).await;
        (lc, calls)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (lc, calls) = server.await.unwrap();
    // Builds from the cache; channels listed once.
    assert_eq!(
        (lc.method.as_str(), lc.path.as_str()),
        ("GET", "/apis/kiln.dev/v1alpha1/namespaces/ns/imagechannels")
    );
    let cm = &calls[position(&calls, CM_POST)].body;
    let snap: Value = serde_json::from_str(cm["data"]["snapshot.json"].as_str().unwrap()).unwrap();
    let kinds: Vec<(&str, &str)> = snap["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("ImageChannel", "base-production"),
            ("ImageBuild", "base-1")
        ]
    );
    assert_eq!(
        snap["parent"],
        json!({"build": "base-1", "channel": "base-production", "via": "hcp-packer-version"})
    );
    let st = &calls[position(&calls, STATUS_APPLY)].body["status"];
    assert_eq!(st["parent"]["build"], "base-1");
}

#[tokio::test]
async fn a_revoked_hcp_version_fails_the_build_with_packers_message() {
    let (builds, channels) = hcp_base(true);
    let (ctx, mut h) = cached_with_builds(template_obj(HCP_CHILD), &builds);
    let b = build_obj();
    let b2 = b.clone();
    let server = tokio::spawn(async move {
        let _lc = next(&mut h, StatusCode::OK, channels).await;
        let patch = next(&mut h, StatusCode::OK, echo(&b2)).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (patch, event)
    });
    build::reconcile(Arc::new(b), ctx).await.unwrap();
    let (patch, event) = server.await.unwrap();
    assert_eq!(patch.path, STATUS_APPLY.1);
    let st = &patch.body["status"];
    assert_eq!(st["phase"], "Failed");
    let ready = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready["reason"], "RegistryLookupFailed");
    assert_eq!(
        ready["message"],
        "data.hcp-packer-version.base: the HCP Packer Version associated with the channel \
         production is revoked and can not be used on Packer builds"
    );
    assert!(st.get("jobName").is_none(), "no Job");
    assert_eq!(event.body["type"], "Warning");
}

/// The rebuild controller's calls: one POST of the new ImageBuild and an event; a second
/// replica (or a restart) that gets `AlreadyExists` creates nothing more and is not an error.
#[tokio::test]
async fn a_moved_parent_posts_one_rebuild_and_tolerates_already_exists() {
    use kiln_crds::condition::READY;
    use kiln_crds::{BuildParent, ConditionStatus, ImageChannelStatus, RebuildPolicy};
    let mut tpl = template_obj(VALID);
    tpl.metadata.name = Some("app".into());
    tpl.spec.rebuild_on_parent_change = Some(RebuildPolicy {
        enabled: true,
        min_interval: None,
    });
    let mut child = ImageBuild::new("app-1", ImageBuildSpec::for_template("app"));
    child.metadata.namespace = Some("ns".into());
    child.status = Some(ImageBuildStatus {
        phase: Some(BuildPhase::Succeeded),
        parent: Some(BuildParent {
            build: "base-1".into(),
            channel: Some("base-prod".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mut ch = ImageChannel::new("base-prod", ImageChannelSpec::pinned("base", "base-2"));
    ch.metadata.namespace = Some("ns".into());
    let mut conditions = vec![];
    kiln_crds::set_condition(
        &mut conditions,
        READY,
        ConditionStatus::True,
        "TargetVerified",
        "",
        None,
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now()),
    );
    ch.status = Some(ImageChannelStatus {
        current_build: Some("base-2".into()),
        conditions,
        ..Default::default()
    });
    let with_caches = |ctx: Arc<Context>| {
        let (breader, mut bwriter) = reflector::store::<ImageBuild>();
        bwriter.apply_watcher_event(&watcher::Event::Apply(child.clone()));
        let (creader, mut cwriter) = reflector::store::<ImageChannel>();
        cwriter.apply_watcher_event(&watcher::Event::Apply(ch.clone()));
        Arc::new(ctx.with_caches(Caches {
            builds: Some(breader),
            channels: Some(creader),
            ..Caches::default()
        }))
    };
    let name = super::rebuild::rebuild_name("app", "base-prod", "base-2");

    let (ctx, mut h) = context();
    let ctx = with_caches(ctx);
    let created = echo(&ImageBuild::new(&name, ImageBuildSpec::for_template("app")));
    let server = tokio::spawn(async move {
        let post = next(&mut h, StatusCode::CREATED, created).await;
        let event = next(&mut h, StatusCode::OK, json!({})).await;
        (post, event)
    });
    super::rebuild::reconcile(Arc::new(tpl.clone()), ctx)
        .await
        .unwrap();
    let (post, event) = server.await.unwrap();
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/apis/kiln.dev/v1alpha1/namespaces/ns/imagebuilds")
    );
    assert_eq!(post.body["metadata"]["name"], name.as_str());
    assert_eq!(
        post.body["metadata"]["labels"]["kiln.dev/rebuild-parent"],
        "base-2"
    );
    assert_eq!(post.body["spec"]["templateRef"]["name"], "app");
    assert_eq!(event.body["reason"], "Rebuild");
    assert!(
        event.body["note"].as_str().unwrap().contains(&name),
        "{}",
        event.body
    );

    // Another replica got there first: 409, no event, no error.
    let (ctx, mut h) = context();
    let ctx = with_caches(ctx);
    let server = tokio::spawn(async move {
        next(
            &mut h,
            StatusCode::CONFLICT,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "code": 409, "message": "exists"}),
        )
        .await;
        let more =
            tokio::time::timeout(std::time::Duration::from_millis(100), h.next_request()).await;
        matches!(more, Ok(Some(_)))
    });
    super::rebuild::reconcile(Arc::new(tpl), ctx).await.unwrap();
    assert!(!server.await.unwrap(), "nothing after AlreadyExists");
}
