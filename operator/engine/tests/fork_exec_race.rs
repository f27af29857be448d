//! The fork/exec race of parallel `shell-local` steps (issue 10, item 10): a script file
//! written by one build must never be executed while a child forked by another build's
//! thread still holds its write descriptor (`Text file busy`, exit 126).
//!
//! Four `null` sources × 20 `shell-local` steps run in parallel in one process, on a
//! multi-threaded runtime, while other processes keep the machine busy with short-lived
//! children (which slows each fork → exec and widens the window). Every run must succeed.
//!
//! `stress_20_runs` is in the default set; `stress_200_runs` (about a minute on a 2-core
//! machine) is `#[ignore]`d and run by `scripts/test-all.sh` with `--ignored`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use kiln_engine::plan::RunOptions;
use kiln_engine::session::{self, LoadOptions, Selection};
use kiln_engine::ui::{Masker, Recorder, Ui};
use tokio_util::sync::CancellationToken;

const SOURCES: usize = 4;
const STEPS: usize = 20;

fn template() -> String {
    let mut t = String::from("source \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n");
    t.push_str("  dynamic \"source\" {\n    for_each = [");
    t.push_str(
        &(0..SOURCES)
            .map(|i| format!("\"s{i}\""))
            .collect::<Vec<_>>()
            .join(", "),
    );
    t.push_str(
        "]\n    labels   = [\"null.a\"]\n    content {\n      name = source.value\n    }\n  }\n",
    );
    for i in 0..STEPS {
        t.push_str(&format!(
            "  provisioner \"shell-local\" {{\n    inline = [\"test {i} -ge 0\"]\n  }}\n"
        ));
    }
    t.push_str("}\n");
    t
}

/// Processes that keep both cores busy forking and exec'ing short-lived children; killed
/// (by pid) when dropped.
struct Load(Vec<Child>);

impl Load {
    fn start() -> Load {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Load(
            (0..n)
                .map(|_| {
                    Command::new("/bin/sh")
                        .args(["-c", "while :; do /bin/true; done"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("/bin/sh must exist to load the machine")
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs the template `runs` times; returns the failures (build name and errors).
async fn stress(runs: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.pkr.hcl");
    std::fs::write(&path, template()).unwrap();
    let s = session::load_path(&path, &LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"));
    let opts = RunOptions::default();
    let mut failures = Vec::new();
    let _load = Load::start();
    let started = Instant::now();
    for run in 0..runs {
        let (instances, _) = s.plan(&Selection::all()).unwrap();
        assert_eq!(instances.len(), SOURCES);
        let (builds, _) = s
            .prepare(instances, &opts)
            .unwrap_or_else(|d| panic!("{d}"));
        let rec = Arc::new(Recorder::default());
        let ui = Ui::new(rec.clone(), Arc::new(Masker::new(Vec::new())));
        let outcomes = s.run(builds, &ui, &CancellationToken::new(), &opts).await;
        assert_eq!(outcomes.len(), SOURCES);
        for o in outcomes {
            if !o.ok() {
                let busy = rec.lines().iter().any(|l| l.contains("Text file busy"));
                failures.push(format!(
                    "run {run}: {}: {:?} (Text file busy in output: {busy})",
                    o.name, o.errors
                ));
            }
        }
    }
    eprintln!(
        "{runs} runs of {SOURCES} sources × {STEPS} shell-local steps: {} failed builds in {:.1} s",
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stress_20_runs() {
    let failures = stress(20).await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "about a minute: run by scripts/test-all.sh with --ignored"]
async fn stress_200_runs() {
    let failures = stress(200).await;
    assert!(failures.is_empty(), "{failures:#?}");
}
