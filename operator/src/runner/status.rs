//! The runner's own entry of `status.sources`: collected from the engine's events, written
//! with server-side apply (throttled; transitions at once).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiln_crds::{
    Artifact, ArtifactFile, BuildPhase, ImageBuild, ManifestEntry, ProvisionerProgress,
    SourceStatus,
};
use kiln_engine::run::BuildOutcome;
use kiln_engine::ui::{Event, EventKind, Masker, Sink};
use kube::Api;
use kube::api::{Patch, PatchParams};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::contract::{now, truncate};

/// Lines kept for the log tail.
const TAIL_LINES: usize = 60;
/// Bytes of log tail written to status (the schema allows 16384).
const TAIL_BYTES: usize = 12 * 1024;

struct State {
    entry: SourceStatus,
    tail: VecDeque<String>,
    masker: Arc<Masker>,
    /// Something changed since the last write.
    dirty: bool,
}

/// What the runner knows about its source, shared by the event sink and the writer.
#[derive(Clone)]
pub struct Tracker {
    state: Arc<Mutex<State>>,
    /// Fired on transitions (phase, step, provisioner): write now.
    pub urgent: Arc<Notify>,
}

impl Tracker {
    pub fn new(name: &str, index: usize) -> Tracker {
        Tracker {
            state: Arc::new(Mutex::new(State {
                entry: SourceStatus {
                    name: name.to_string(),
                    index: Some(index as i32),
                    phase: Some(BuildPhase::Pending),
                    ..SourceStatus::default()
                },
                tail: VecDeque::new(),
                masker: Arc::new(Masker::default()),
                dirty: true,
            })),
            urgent: Arc::new(Notify::new()),
        }
    }

    fn update(&self, urgent: bool, f: impl FnOnce(&mut State)) {
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut s);
            s.dirty = true;
        }
        if urgent {
            self.urgent.notify_one();
        }
    }

    /// Which attempt of this index the pod is (1 on the first run).
    pub fn set_attempt(&self, attempt: u32) {
        let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
        self.update(false, |s| s.entry.attempt = Some(attempt));
    }

    pub fn set_masker(&self, m: Arc<Masker>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.masker = m;
    }

    pub fn start(&self) {
        self.update(true, |s| {
            s.entry.phase = Some(BuildPhase::Running);
            s.entry.started_at = Some(now());
        });
    }

    /// The build could not start (template, variables…): Failed with the message.
    pub fn fail(&self, msg: &str) {
        self.update(true, |s| {
            let m = s.masker.mask(msg);
            s.entry.phase = Some(BuildPhase::Failed);
            s.entry.finished_at = Some(now());
            s.entry.error = Some(truncate(&m, 4096));
            for l in m.lines() {
                push_line(&mut s.tail, l.to_string());
            }
            s.entry.log_tail = Some(tail_text(&s.tail));
        });
    }

    /// What the source was built from (written with the final status).
    pub fn set_inputs(&self, inputs: Vec<kiln_crds::BuildInput>) {
        self.update(false, |s| s.entry.inputs = inputs);
    }

    pub fn finish(&self, o: &BuildOutcome, run_uuid: &str) {
        self.update(true, |s| {
            let m = s.masker.clone();
            let phase = if o.cancelled {
                BuildPhase::Cancelled
            } else if o.errors.is_empty() {
                BuildPhase::Succeeded
            } else {
                BuildPhase::Failed
            };
            s.entry.phase = Some(phase);
            s.entry.finished_at = Some(now());
            s.entry.step = None;
            s.entry.artifacts = o
                .artifacts
                .iter()
                .map(|a| convert_artifact(&a.masked(&m)))
                .collect();
            s.entry.sboms = o.sboms.iter().map(source_sbom).collect();
            if !o.errors.is_empty() {
                s.entry.error = Some(truncate(&m.mask(&o.errors.join("\n")), 4096));
            }
            if phase != BuildPhase::Succeeded {
                s.entry.log_tail = Some(tail_text(&s.tail));
            }
            if s.entry.manifest_entry.is_none()
                && let Some(last) = s.entry.artifacts.last()
            {
                s.entry.manifest_entry = Some(ManifestEntry {
                    name: o.name.rsplit('.').next().unwrap_or(&o.name).to_string(),
                    builder_type: builder_type(&o.name),
                    build_time: now().0.as_second(),
                    files: last.files.clone(),
                    artifact_id: last.id.clone(),
                    packer_run_uuid: run_uuid.to_string(),
                    custom_data: BTreeMap::new(),
                });
            }
        });
    }

    /// The entry as it stands.
    pub fn snapshot(&self) -> SourceStatus {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry
            .clone()
    }

    /// The entry, if it changed since the last call.
    fn take_dirty(&self) -> Option<SourceStatus> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !s.dirty {
            return None;
        }
        s.dirty = false;
        Some(s.entry.clone())
    }

    fn mark_dirty(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).dirty = true;
    }

    pub fn is_finished(&self) -> bool {
        self.snapshot().phase.is_some_and(BuildPhase::is_finished)
    }
}

/// `type` of `[build.]type.name`.
fn builder_type(full: &str) -> String {
    let parts: Vec<&str> = full.split('.').collect();
    if parts.len() >= 2 {
        parts[parts.len() - 2].to_string()
    } else {
        full.to_string()
    }
}

fn push_line(tail: &mut VecDeque<String>, line: String) {
    if tail.len() == TAIL_LINES {
        tail.pop_front();
    }
    tail.push_back(line);
}

fn tail_text(tail: &VecDeque<String>) -> String {
    let text = tail.iter().cloned().collect::<Vec<_>>().join("\n");
    if text.len() <= TAIL_BYTES {
        return text;
    }
    let mut start = text.len() - TAIL_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

pub fn convert_artifact(a: &kiln_engine::artifact::Artifact) -> Artifact {
    Artifact {
        builder_id: a.builder_id.clone(),
        id: a.id.clone(),
        description: (!a.description.is_empty()).then(|| a.description.clone()),
        files: a
            .files
            .iter()
            .map(|f| ArtifactFile {
                name: f.to_string_lossy().to_string(),
                size: std::fs::metadata(f).ok().map(|m| m.len() as i64),
            })
            .collect(),
        state: a
            .state
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect(),
        provenance: provenance_of(a),
    }
}

/// What status records of an SBOM the build fetched.
fn source_sbom(sbom: &kiln_engine::components::Sbom) -> kiln_crds::SourceSbom {
    use sha2::Digest as _;
    kiln_crds::SourceSbom {
        name: (!sbom.name.is_empty()).then(|| sbom.name.clone()),
        format: sbom.format.as_str().to_string(),
        media_type: sbom.format.media_type().to_string(),
        digest: format!("sha256:{:x}", sha2::Sha256::digest(&sbom.data)),
        size: sbom.data.len() as i64,
        referrers: sbom
            .referrers
            .iter()
            .map(|r| kiln_crds::SbomReferrer {
                subject: r.subject.clone(),
                referrer: r.referrer.clone(),
                referrers_tag: r.referrers_tag.clone(),
            })
            .collect(),
    }
}

/// The largest attestation copied into status.
const MAX_ATTESTATION: usize = 32 * 1024;

/// What the `provenance` post-processor recorded in the artifact's state, with the
/// attestation itself when it is small enough.
fn provenance_of(a: &kiln_engine::artifact::Artifact) -> Option<kiln_crds::ArtifactProvenance> {
    use kiln_engine::postprocessors::provenance::{DSSE_MEDIA_TYPE, state};
    let get = |k: &str| a.state.get(k).and_then(|v| v.as_str()).map(String::from);
    let digest = get(state::DIGEST)?;
    let media_type = get(state::MEDIA_TYPE).unwrap_or_default();
    // As written (the digest is over these bytes), when it is small enough.
    let attestation = get(state::FILE)
        .and_then(|f| std::fs::read_to_string(f).ok())
        .filter(|t| t.len() <= MAX_ATTESTATION);
    Some(kiln_crds::ArtifactProvenance {
        digest,
        signed: media_type == DSSE_MEDIA_TYPE,
        media_type,
        key_id: get(state::KEY_ID),
        subject: get(state::SUBJECT),
        referrer: get(state::REFERRER),
        referrers_tag: get(state::REFERRERS_TAG),
        attestation,
    })
}

/// Feeds engine events (already masked by the Ui) into the tracker.
pub struct StatusSink(pub Tracker);

impl Sink for StatusSink {
    fn emit(&self, e: &Event) {
        let prefix = e.target().map(|b| format!("{b}: ")).unwrap_or_default();
        match &e.kind {
            EventKind::Say { message } => self.0.update(false, |s| {
                for l in message.lines() {
                    push_line(&mut s.tail, format!("==> {prefix}{l}"));
                }
            }),
            // As the human output (Packer 1.16's TargetedUI says messages).
            EventKind::Message { message } => self.0.update(false, |s| {
                for l in message.lines() {
                    push_line(&mut s.tail, format!("==> {prefix}{l}"));
                }
            }),
            EventKind::Error { message } => self.0.update(false, |s| {
                for l in message.lines() {
                    push_line(&mut s.tail, format!("==> {prefix}{l}"));
                }
            }),
            EventKind::Step { step } => self.0.update(true, |s| {
                s.entry.step = Some(step.clone());
                s.entry.provisioner = None;
            }),
            EventKind::Provisioner { index, total, kind } => self.0.update(true, |s| {
                s.entry.provisioner = Some(ProvisionerProgress {
                    current: *index as i32,
                    total: *total as i32,
                    type_: kind.clone(),
                });
            }),
            EventKind::ManifestEntry { entry } => {
                if let Ok(m) = serde_json::from_value::<ManifestEntry>(entry.clone()) {
                    self.0.update(false, |s| s.entry.manifest_entry = Some(m));
                }
            }
            EventKind::BuildFinished { error, .. } => self.0.update(true, |s| {
                if let Some(err) = error {
                    s.entry.error = Some(truncate(err, 4096));
                }
            }),
            _ => {}
        }
    }
}

/// The body the runner applies: only its own entry of `status.sources`.
pub fn apply_body(entry: &SourceStatus) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": kiln_crds::API_VERSION,
        "kind": "ImageBuild",
        "status": { "sources": [entry] },
    })
}

/// When the runner writes its entry.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Least time between two progress writes (transitions are written at once).
    pub interval: Duration,
    /// How long the final write is retried (for example while the runner's RoleBinding is
    /// still being created) before the runner gives up and fails its pod.
    pub final_deadline: Duration,
}

/// Writes the entry: at once on transitions, otherwise at most every `interval`; the final
/// write is retried until it succeeds or `final_deadline` runs out.
pub struct Writer {
    done: CancellationToken,
    deadline: Duration,
    task: tokio::task::JoinHandle<bool>,
}

/// Whether retrying a failed write can help: not when the build is gone (404) or the body
/// is refused (400, 422).
fn worth_retrying(e: &kube::Error) -> bool {
    !matches!(e, kube::Error::Api(s) if matches!(s.code, 400 | 404 | 422))
}

impl Writer {
    pub fn spawn(
        api: Api<ImageBuild>,
        build: String,
        index: usize,
        tracker: Tracker,
        timing: Timing,
    ) -> Writer {
        let done = CancellationToken::new();
        let d = done.clone();
        let task = tokio::spawn(async move {
            let pp = PatchParams::apply(&super::field_manager(index)).force();
            let interval = timing.interval;
            let mut last = tokio::time::Instant::now() - interval;
            loop {
                let finishing = tokio::select! {
                    _ = tracker.urgent.notified() => false,
                    _ = tokio::time::sleep_until(last + interval) => false,
                    _ = d.cancelled() => true,
                };
                let Some(entry) = tracker.take_dirty() else {
                    if finishing {
                        return true;
                    }
                    continue;
                };
                // Progress is written once (the next change writes it again); the final
                // entry is retried with a growing pause until the deadline.
                let give_up = tokio::time::Instant::now() + timing.final_deadline;
                let mut pause = Duration::from_millis(250);
                let ok = loop {
                    match api
                        .patch_status(&build, &pp, &Patch::Apply(apply_body(&entry)))
                        .await
                    {
                        Ok(_) => break true,
                        Err(e) => {
                            eprintln!(
                                "kiln runner: could not write progress to ImageBuild {build}: {e}"
                            );
                            let last_try = !(finishing || tracker.is_finished())
                                || !worth_retrying(&e)
                                || tokio::time::Instant::now() + pause > give_up;
                            if last_try {
                                break false;
                            }
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(Duration::from_secs(5));
                        }
                    }
                };
                if !ok {
                    tracker.mark_dirty();
                }
                last = tokio::time::Instant::now();
                if finishing {
                    return ok;
                }
            }
        });
        Writer {
            done,
            deadline: timing.final_deadline,
            task,
        }
    }

    /// Writes what is left and stops. False when the final entry could not be written: the
    /// build's status lacks this source's result, and the pod must not end as a success.
    pub async fn finish(self) -> bool {
        self.done.cancel();
        let wait = self.deadline + Duration::from_secs(30);
        matches!(tokio::time::timeout(wait, self.task).await, Ok(Ok(true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Handle = tower_test::mock::Handle<
        http::Request<kube::client::Body>,
        http::Response<kube::client::Body>,
    >;

    fn mock_api() -> (Api<ImageBuild>, Handle) {
        let (svc, handle) = tower_test::mock::pair();
        let client = kube::Client::new(svc, "ns");
        (Api::namespaced(client, "ns"), handle)
    }

    /// Answers PATCH requests with `code` (then 200 from `ok_from` on), counting them, until
    /// the writer stops calling.
    async fn answer(mut h: Handle, code: u16, ok_from: usize) -> Vec<serde_json::Value> {
        let mut bodies = Vec::new();
        while let Ok(Some((req, send))) =
            tokio::time::timeout(Duration::from_secs(5), h.next_request()).await
        {
            assert_eq!(req.method(), "PATCH");
            assert!(
                req.uri()
                    .query()
                    .unwrap_or("")
                    .contains("fieldManager=kiln-runner-0")
            );
            let bytes = req.into_body().collect_bytes().await.unwrap();
            bodies.push(serde_json::from_slice(&bytes).unwrap());
            let (status, body) = if bodies.len() > ok_from {
                (
                    200,
                    serde_json::json!({"apiVersion": "kiln.dev/v1alpha1", "kind": "ImageBuild", "metadata": {"name": "b"}, "spec": {}}),
                )
            } else {
                (
                    code,
                    serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": code, "message": "imagebuilds.kiln.dev \"b\" is forbidden"}),
                )
            };
            send.send_response(
                http::Response::builder()
                    .status(status)
                    .body(kube::client::Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap(),
            );
        }
        bodies
    }

    fn failed_tracker() -> Tracker {
        let t = Tracker::new("null.a", 0);
        t.fail("boom");
        t
    }

    #[tokio::test]
    async fn the_final_write_is_retried_until_access_is_granted() {
        let (api, h) = mock_api();
        let server = tokio::spawn(answer(h, 403, 3));
        let timing = Timing {
            interval: Duration::from_secs(3600),
            final_deadline: Duration::from_secs(20),
        };
        let w = Writer::spawn(api, "b".into(), 0, failed_tracker(), timing);
        assert!(w.finish().await, "written once the RoleBinding exists");
        let bodies = server.await.unwrap();
        assert_eq!(bodies.len(), 4, "three refusals, then the write");
        assert_eq!(bodies[3]["status"]["sources"][0]["phase"], "Failed");
    }

    #[tokio::test]
    async fn a_final_write_that_never_succeeds_is_reported() {
        let (api, h) = mock_api();
        let server = tokio::spawn(answer(h, 403, usize::MAX));
        let timing = Timing {
            interval: Duration::from_secs(3600),
            final_deadline: Duration::from_secs(1),
        };
        let w = Writer::spawn(api, "b".into(), 0, failed_tracker(), timing);
        assert!(!w.finish().await, "the pod must not exit 0");
        assert!(server.await.unwrap().len() >= 2, "retried");
        // A build that is gone (404) is not retried.
        let (api, h) = mock_api();
        let server = tokio::spawn(answer(h, 404, usize::MAX));
        let w = Writer::spawn(api, "b".into(), 0, failed_tracker(), timing);
        assert!(!w.finish().await);
        // Tried once as progress and once as the final entry at most, never retried.
        assert!(server.await.unwrap().len() <= 2);
    }
    use kiln_engine::ui::Ui;

    #[test]
    fn events_become_progress() {
        let t = Tracker::new("null.a", 1);
        let ui = Ui::new(
            Arc::new(StatusSink(t.clone())),
            Arc::new(Masker::new(["s3cret".to_string()])),
        )
        .for_build("null.a");
        t.start();
        ui.emit(EventKind::Step {
            step: "StepProvision".into(),
        });
        ui.emit(EventKind::Provisioner {
            index: 2,
            total: 3,
            kind: "shell".into(),
        });
        ui.say("password is s3cret");
        let e = t.snapshot();
        assert_eq!(e.phase, Some(BuildPhase::Running));
        assert_eq!(e.step.as_deref(), Some("StepProvision"));
        let p = e.provisioner.unwrap();
        assert_eq!((p.current, p.total, p.type_.as_str()), (2, 3, "shell"));
        assert!(e.started_at.is_some());

        t.set_masker(Arc::new(Masker::new(["s3cret".to_string()])));
        t.finish(
            &BuildOutcome {
                name: "null.a".into(),
                duration: Duration::from_secs(1),
                artifacts: vec![],
                errors: vec!["boom: s3cret".into()],
                cancelled: false,
                sboms: vec![],
            },
            "uuid",
        );
        let e = t.snapshot();
        assert_eq!(e.phase, Some(BuildPhase::Failed));
        assert_eq!(e.error.as_deref(), Some("boom: <sensitive>"));
        let tail = e.log_tail.unwrap();
        assert!(
            tail.contains("==> null.a: password is <sensitive>"),
            "{tail}"
        );
        assert!(!tail.contains("s3cret"));
    }

    #[test]
    fn success_records_artifacts_and_a_manifest_entry() {
        let t = Tracker::new("null.a", 0);
        t.start();
        t.finish(
            &BuildOutcome {
                name: "null.a".into(),
                duration: Duration::from_secs(1),
                artifacts: vec![kiln_engine::artifact::Artifact {
                    destroyer: None,
                    builder_id: "fnoeding.null".into(),
                    id: "Null".into(),
                    description: "Did not export anything.".into(),
                    ..Default::default()
                }],
                errors: vec![],
                cancelled: false,
                sboms: vec![kiln_engine::components::Sbom {
                    name: "base".into(),
                    format: kiln_engine::components::SbomFormat::CycloneDx,
                    data: b"{}".to_vec(),
                    referrers: vec![kiln_engine::components::SbomReferrer {
                        subject: "reg:5000/app@sha256:ab".into(),
                        referrer: "sha256:cd".into(),
                        referrers_tag: Some("sha256-ab".into()),
                    }],
                }],
            },
            "run-1",
        );
        let e = t.snapshot();
        assert_eq!(e.phase, Some(BuildPhase::Succeeded));
        assert_eq!(e.artifacts[0].id, "Null");
        assert!(e.log_tail.is_none());
        let m = e.manifest_entry.unwrap();
        assert_eq!(m.builder_type, "null");
        assert_eq!(m.name, "a");
        assert_eq!(m.packer_run_uuid, "run-1");
        let body = apply_body(&t.snapshot());
        assert_eq!(body["status"]["sources"][0]["name"], "null.a");
        assert_eq!(body["status"]["sources"][0]["index"], 0);
        assert!(body["status"].get("phase").is_none());
        assert_eq!(
            body["status"]["sources"][0]["sboms"],
            serde_json::json!([{
                "name": "base",
                "format": "CYCLONEDX",
                "mediaType": "application/vnd.cyclonedx+json",
                // sha256 of `{}`.
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2,
                "referrers": [{
                    "subject": "reg:5000/app@sha256:ab",
                    "referrer": "sha256:cd",
                    "referrersTag": "sha256-ab"
                }]
            }])
        );
    }

    #[test]
    fn tail_is_bounded() {
        let mut t = VecDeque::new();
        for i in 0..1000 {
            push_line(&mut t, format!("line {i} {}", "x".repeat(500)));
        }
        assert_eq!(t.len(), TAIL_LINES);
        assert!(tail_text(&t).len() <= TAIL_BYTES);
    }
}
