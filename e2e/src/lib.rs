//! Helpers of the end-to-end scenarios: kubectl and helm against the cluster in
//! `KUBECONFIG`, throwaway namespaces, polling with deadlines.
//!
//! The tests are `#[ignore]`d: `scripts/e2e.sh` brings a cluster up, installs Kiln with
//! Helm and runs them with `--ignored`. Run by hand against any cluster where Kiln is
//! installed (release `kiln` in `kiln-system`, or `KILN_E2E_RELEASE`/`KILN_E2E_NAMESPACE`):
//!
//! ```sh
//! KUBECONFIG=... cargo test -p kiln-e2e --test scenarios -- --ignored
//! ```

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Fails the test with a clear message when no cluster is configured.
pub fn require_cluster() {
    match std::env::var("KUBECONFIG") {
        Ok(v) if !v.is_empty() => {}
        _ => panic!(
            "KUBECONFIG is not set: the e2e scenarios need a cluster with Kiln installed. \
             Run scripts/e2e.sh, or set KUBECONFIG (and KILN_E2E_RELEASE / KILN_E2E_NAMESPACE) \
             and pass --ignored."
        ),
    }
}

/// The Helm release name of the Kiln install under test.
pub fn release() -> String {
    std::env::var("KILN_E2E_RELEASE").unwrap_or_else(|_| "kiln".into())
}

/// The namespace Kiln is installed in.
pub fn system_namespace() -> String {
    std::env::var("KILN_E2E_NAMESPACE").unwrap_or_else(|_| "kiln-system".into())
}

fn tool(name: &str) -> String {
    let var = format!("KILN_{}", name.to_uppercase());
    std::env::var(var).unwrap_or_else(|_| name.into())
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(tool(program));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "could not run {program} (set KILN_{}): {e}",
            program.to_uppercase()
        )
    });
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait for the child")
}

/// The result of a command: status, stdout, stderr.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

fn to_run(o: Output) -> Run {
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs kubectl; returns whatever happened.
pub fn kubectl_try(args: &[&str]) -> Run {
    to_run(run("kubectl", args, None))
}

/// Runs kubectl and fails the test when it fails; returns stdout.
pub fn kubectl(args: &[&str]) -> String {
    let r = kubectl_try(args);
    assert!(
        r.ok,
        "kubectl {} failed:\n{}{}",
        args.join(" "),
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// Runs helm and fails the test when it fails; returns stdout.
pub fn helm(args: &[&str]) -> String {
    let r = to_run(run("helm", args, None));
    assert!(
        r.ok,
        "helm {} failed:\n{}{}",
        args.join(" "),
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// `kubectl apply -f -` of `manifest` (YAML or JSON) in `ns`.
pub fn apply(ns: &str, manifest: &str) -> String {
    let r = to_run(run(
        "kubectl",
        &["apply", "-n", ns, "-f", "-"],
        Some(manifest),
    ));
    assert!(
        r.ok,
        "kubectl apply failed:\n{}{}\n--- manifest:\n{manifest}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// `kubectl apply` that may fail (for objects the API should reject).
pub fn apply_try(ns: &str, manifest: &str) -> Run {
    to_run(run(
        "kubectl",
        &["apply", "-n", ns, "-f", "-"],
        Some(manifest),
    ))
}

/// The object as JSON, or None when it does not exist.
pub fn get(ns: &str, kind: &str, name: &str) -> Option<Value> {
    let r = kubectl_try(&["get", "-n", ns, kind, name, "-o", "json"]);
    if !r.ok {
        assert!(
            r.stderr.contains("NotFound") || r.stderr.contains("not found"),
            "kubectl get {kind} {name} failed: {}",
            r.stderr
        );
        return None;
    }
    Some(serde_json::from_str(&r.stdout).expect("kubectl printed JSON"))
}

/// Items of a list (`kubectl get KIND -l SELECTOR -o json`).
pub fn list(ns: &str, kind: &str, selector: &str) -> Vec<Value> {
    let mut args = vec!["get", "-n", ns, kind, "-o", "json"];
    if !selector.is_empty() {
        args.extend(["-l", selector]);
    }
    let v: Value = serde_json::from_str(&kubectl(&args)).expect("JSON list");
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Polls `f` every 500 ms until it returns Some, or fails after `timeout` with `what` and
/// the last value seen by `describe`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The condition `type` of an object's status.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Whether condition `type` has status "True".
pub fn is_true(obj: &Value, type_: &str) -> bool {
    condition(obj, type_).is_some_and(|c| c["status"] == "True")
}

/// Waits until the object's `status.phase` is one of `phases`; returns the object.
pub fn wait_phase(ns: &str, kind: &str, name: &str, phases: &[&str], timeout: Duration) -> Value {
    let mut last = Value::Null;
    let start = Instant::now();
    loop {
        if let Some(o) = get(ns, kind, name) {
            if phases.iter().any(|p| o["status"]["phase"] == *p) {
                return o;
            }
            last = o;
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for {kind}/{name} to reach {phases:?}; last:\n{}\nevents:\n{}",
                serde_json::to_string_pretty(&last["status"]).unwrap_or_default(),
                kubectl_try(&["get", "events", "-n", ns, "--sort-by=.lastTimestamp"]).stdout
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until condition `type` of the object has `status`; returns the object.
pub fn wait_condition(
    ns: &str,
    kind: &str,
    name: &str,
    type_: &str,
    status: &str,
    timeout: Duration,
) -> Value {
    let mut last = Value::Null;
    let start = Instant::now();
    loop {
        if let Some(o) = get(ns, kind, name) {
            if condition(&o, type_).is_some_and(|c| c["status"] == status) {
                return o;
            }
            last = o;
        }
        if start.elapsed() > timeout {
            panic!(
                "timed out after {timeout:?} waiting for {kind}/{name} condition {type_}={status}; last status:\n{}",
                serde_json::to_string_pretty(&last["status"]).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A throwaway namespace, deleted (without waiting) when dropped unless `KILN_E2E_KEEP=1`.
pub struct Namespace {
    pub name: String,
}

impl Namespace {
    /// Creates `kiln-e2e-<prefix>-<pid><n>`.
    pub fn new(prefix: &str) -> Namespace {
        require_cluster();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("kiln-e2e-{prefix}-{}{n}", std::process::id());
        kubectl(&["create", "namespace", &name]);
        kubectl(&["label", "namespace", &name, "kiln.dev/e2e=true"]);
        Namespace { name }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if std::env::var("KILN_E2E_KEEP").as_deref() == Ok("1") {
            eprintln!("keeping namespace {}", self.name);
            return;
        }
        let _ = kubectl_try(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

/// An ImageTemplate manifest with one file `main.pkr.hcl`.
pub fn template(name: &str, hcl: &str) -> String {
    let body: String = hcl.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageTemplate\nmetadata:\n  name: {name}\nspec:\n  files:\n    - name: main.pkr.hcl\n      content: |\n{body}"
    )
}

/// An ImageBuild manifest of template `tpl`, with extra spec lines (YAML, 2-space indented
/// under `spec:`) and labels.
pub fn build(name: &str, tpl: &str, labels: &[(&str, &str)], extra_spec: &str) -> String {
    let mut m =
        format!("apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        m.push_str("  labels:\n");
        for (k, v) in labels {
            m.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    m.push_str(&format!("spec:\n  templateRef:\n    name: {tpl}\n"));
    m.push_str(extra_spec);
    m
}

/// Everything that could leak a value: the namespace's Kiln objects (with status), events
/// and the logs of every pod still there.
pub fn everything_visible(ns: &str) -> String {
    let mut all = String::new();
    for kind in [
        "imagebuilds",
        "imagetemplates",
        "imagechannels",
        "events",
        "jobs",
        "configmaps",
    ] {
        all.push_str(&kubectl_try(&["get", "-n", ns, kind, "-o", "json"]).stdout);
    }
    all.push_str(&kubectl_try(&["get", "events.events.k8s.io", "-n", ns, "-o", "json"]).stdout);
    let pods = kubectl_try(&["get", "pods", "-n", ns, "-o", "name"]).stdout;
    for pod in pods.lines() {
        all.push_str(&kubectl_try(&["logs", "-n", ns, pod, "--all-containers"]).stdout);
    }
    all
}

/// Timeout of a scenario step, scaled by `KILN_E2E_TIMEOUT_SCALE` (slow machines).
pub fn secs(n: u64) -> Duration {
    let scale: f64 = std::env::var("KILN_E2E_TIMEOUT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(n as f64 * scale)
}

/// A small deterministic generator (xorshift64*): a seed gives one sequence (the fault
/// order, the malformed objects).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}
