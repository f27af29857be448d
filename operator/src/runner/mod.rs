//! `kiln runner`: the command of an ImageBuild's Job pods. Reads the build's snapshot, picks
//! its source by the Job completion index, runs it with the engine exactly as `kiln build`
//! does (the same lines on stdout, so `kubectl logs` reads like Packer), and keeps its own
//! entry of the ImageBuild's `status.sources` up to date with server-side apply under the
//! field manager `kiln-runner-<index>`.

mod inputs;
mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use kiln_crds::ImageBuild;
use kiln_engine::components::OnError as EngineOnError;
use kiln_engine::components::RunEnv;
use kiln_engine::plan::RunOptions;
use kiln_engine::session::{self, LoadOptions, Selection, TemplateSource};
use kiln_engine::sinks::HumanSink;
use kiln_engine::template::VarInputs;
use kiln_engine::ui::{Masker, Sink, Tee, Ui};
use kube::Api;
use tokio_util::sync::CancellationToken;

use crate::contract::{self, Exit, SNAPSHOT_KEY, Snapshot};
pub use status::{StatusSink, Tracker};

use crate::signals;

#[derive(Args, Debug, Clone)]
pub struct RunnerArgs {
    /// Directory where the snapshot ConfigMap is mounted (holds `snapshot.json`).
    #[arg(long = "snapshot-dir", env = "KILN_SNAPSHOT_DIR", default_value = contract::SNAPSHOT_DIR)]
    pub snapshot_dir: PathBuf,
    /// Working directory; the template's files are written to `<work-dir>/template`.
    #[arg(long = "work-dir", env = "KILN_WORK_DIR", default_value = contract::WORK_DIR)]
    pub work_dir: PathBuf,
    /// The ImageBuild this pod runs a source of.
    #[arg(long = "build", env = "KILN_BUILD_NAME")]
    pub build: String,
    /// The ImageBuild's namespace.
    #[arg(long = "namespace", env = "KILN_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// Which selected source to build (set by Kubernetes in Indexed Jobs).
    #[arg(long = "index", env = "JOB_COMPLETION_INDEX")]
    pub index: usize,
    /// How often this index failed before (the Job controller's
    /// `batch.kubernetes.io/job-index-failure-count` pod annotation, passed through the
    /// downward API); the attempt reported in status is this plus one.
    #[arg(
        long = "index-failures",
        env = "KILN_INDEX_FAILURES",
        default_value = ""
    )]
    pub index_failures: String,
    /// Do not write status to the API (run a snapshot locally).
    #[arg(long = "no-status", env = "KILN_RUNNER_NO_STATUS")]
    pub no_status: bool,
    /// Least time between two progress writes (transitions are written at once).
    #[arg(long = "status-interval", env = "KILN_RUNNER_STATUS_INTERVAL", default_value = "2s", value_parser = parse_interval)]
    pub status_interval: Duration,
    /// How long the final status write is retried (the runner's access may be granted a
    /// moment after the pod starts) before the pod fails for want of it.
    #[arg(long = "status-deadline", env = "KILN_RUNNER_STATUS_DEADLINE", default_value = "2m", value_parser = parse_interval)]
    pub status_deadline: Duration,
    /// The ImageBuild's `spec.retries`: a build that fails after that many failures of its
    /// index ends with [`Exit::Final`] (the Job fails the index); unset (a Job made by an
    /// older operator), every failure is left to the Job to count.
    #[arg(long = "retries", env = contract::RETRIES_ENV)]
    pub retries: Option<u32>,
}

/// An absent annotation reaches the container as an empty variable.
fn parse_failures(s: &str) -> Result<Option<u32>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| format!("not a count of failures: {s:?}"))
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    kiln_crds::parse_duration(s).map_err(|e| e.to_string())
}

/// The field manager of runner `index`.
pub fn field_manager(index: usize) -> String {
    format!("kiln-runner-{index}")
}

pub fn read_snapshot(dir: &std::path::Path) -> Result<Snapshot, String> {
    let path = dir.join(SNAPSHOT_KEY);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))
}

/// The variable inputs of a run: the template's defaults, then the build's values (later
/// win), as typed expressions; `PKR_VAR_*` from the environment (the Secret variables). A
/// Secret variable is never shadowed by a plain value of the same name.
pub fn var_inputs(snapshot: &Snapshot, env: Vec<(String, String)>) -> VarInputs {
    let from_env = |name: &str| {
        env.iter()
            .any(|(k, _)| k == &contract::secret_env_name(name))
    };
    let mut exprs = contract::exprs(&snapshot.template_variables);
    exprs.extend(contract::exprs(&snapshot.variables));
    exprs.retain(|(name, _)| !from_env(name) && !snapshot.secret_variables.contains(name));
    VarInputs {
        vars: Vec::new(),
        var_files: Vec::new(),
        env,
        warn_undeclared: false,
        exprs,
    }
}

fn on_error(o: kiln_crds::OnError) -> EngineOnError {
    EngineOnError::parse(o.as_str()).unwrap_or_default()
}

pub async fn run(a: RunnerArgs) -> i32 {
    let snapshot = match read_snapshot(&a.snapshot_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return Exit::Failed.code();
        }
    };
    let Some(name) = snapshot.builds.get(a.index).cloned() else {
        eprintln!(
            "Error: completion index {} is out of range: the snapshot selects {} build(s)",
            a.index,
            snapshot.builds.len()
        );
        return Exit::Failed.code();
    };
    let tracker = Tracker::new(&name, a.index);
    let failures = match parse_failures(&a.index_failures) {
        Ok(n) => n.unwrap_or(0),
        Err(e) => {
            eprintln!("Error: KILN_INDEX_FAILURES: {e}");
            return Exit::Failed.code();
        }
    };
    tracker.set_attempt(failures.saturating_add(1));
    let writer = if a.no_status {
        None
    } else {
        match kube::Client::try_default().await {
            Ok(c) => {
                let api: Api<ImageBuild> = Api::namespaced(c, &a.namespace);
                Some(status::Writer::spawn(
                    api,
                    a.build.clone(),
                    a.index,
                    tracker.clone(),
                    status::Timing {
                        interval: a.status_interval,
                        final_deadline: a.status_deadline,
                    },
                ))
            }
            Err(e) => {
                eprintln!("Error: cannot reach the Kubernetes API to report progress: {e}");
                return Exit::Failed.code();
            }
        }
    };
    let exit = match run_source(&a, &snapshot, &name, &tracker).await {
        // The build's retries are used up: the Job fails the index instead of spending
        // the attempts kept for failures that are not the build's.
        Exit::Failed if a.retries.is_some_and(|r| failures >= r) => Exit::Final,
        e => e,
    };
    if let Some(w) = writer
        && !w.finish().await
    {
        // Exiting 0 would let the Job count this source as built while the build's status
        // has no entry (no artifacts, no manifest entry): the pod fails instead.
        eprintln!(
            "Error: the result of {name} could not be written to ImageBuild {}'s status \
             within {}; failing this pod",
            a.build,
            kiln_crds::format_duration(a.status_deadline)
        );
        return Exit::Failed.code();
    }
    exit.code()
}

/// Loads the template and runs build `name`; progress goes to `tracker`.
async fn run_source(a: &RunnerArgs, snapshot: &Snapshot, name: &str, tracker: &Tracker) -> Exit {
    let fail = |msg: String| {
        eprintln!("{msg}");
        tracker.fail(&msg);
        Exit::Failed
    };
    let root = a.work_dir.join("template");
    if let Err(e) = std::fs::create_dir_all(&root) {
        return fail(format!("Error: could not create {}: {e}", root.display()));
    }
    let body = match contract::materialize(&root, &snapshot.files) {
        Ok(b) => b,
        Err(e) => return fail(format!("Error: could not write the template: {e}")),
    };
    // `kiln-channel` data sources read the channels as the operator fixed them in the
    // snapshot, never whatever the pod's environment names.
    let channels = a.work_dir.join("channels.json");
    let json = serde_json::Value::Array(snapshot.channels.clone()).to_string();
    if let Err(e) = std::fs::write(&channels, json) {
        return fail(format!(
            "Error: could not write {}: {e}",
            channels.display()
        ));
    }
    let docker_configs =
        contract::docker_configs(std::path::Path::new(contract::REGISTRY_AUTH_DIR));
    let env = Arc::new(RunEnv {
        work_dir: a.work_dir.clone(),
        channels_file: Some(channels),
        interactive: false,
        in_cluster: true,
        image_root: std::env::current_exe()
            .ok()
            .and_then(|exe| contract::image_root(&exe)),
        docker_configs: docker_configs.clone(),
    });
    let opts = LoadOptions {
        inputs: var_inputs(snapshot, std::env::vars().collect()),
        evaluate_datasources: true,
        env,
        ..LoadOptions::default()
    };
    let source = TemplateSource::Files { root, files: body };
    let loaded = tokio::task::spawn_blocking(move || session::load(&source, &opts)).await;
    let session = match loaded {
        Ok(Ok(s)) => s,
        Ok(Err(d)) => {
            let text: Vec<String> = d.errors().map(|d| d.to_string()).collect();
            return fail(text.join("\n"));
        }
        Err(e) => return fail(format!("Error: {e}")),
    };
    let masker = Arc::new(Masker::new(session.template.sensitive.clone()));
    tracker.set_masker(masker.clone());
    for w in session.warnings.warnings() {
        eprintln!("{}", masker.mask(&w.to_string()));
    }
    let selected = match session.plan(&Selection::Named(name.to_string())) {
        Ok((selected, _)) => selected,
        Err(d) => {
            let text: Vec<String> = d.errors().map(|d| masker.mask(&d.to_string())).collect();
            return fail(format!(
                "{} (the snapshot is inconsistent)",
                text.join("\n")
            ));
        }
    };
    let ropts = RunOptions {
        only: snapshot.only.clone(),
        except: snapshot.except.clone(),
        force: false,
        debug: false,
        on_error: on_error(snapshot.on_error),
        run_uuid: snapshot.run_uuid.clone(),
        parallel_builds: 1,
        env: session.env.clone(),
    };
    let (mut prepared, w) = match session.prepare(selected, &ropts) {
        Ok(p) => p,
        Err(d) => {
            let text: Vec<String> = d.errors().map(|d| masker.mask(&d.to_string())).collect();
            return fail(text.join("\n"));
        }
    };
    for d in w.warnings() {
        eprintln!("{}", masker.mask(&d.to_string()));
    }
    let Some(build) = prepared.pop() else {
        return fail("Error: nothing to run".into());
    };

    let human: Arc<dyn Sink> = Arc::new(HumanSink::stdio(true, false).without_codes());
    let sink: Arc<dyn Sink> = Arc::new(Tee(vec![human, Arc::new(StatusSink(tracker.clone()))]));
    let ui = Ui::new(sink, masker.clone());
    let cancel = CancellationToken::new();
    signals::cancel_on_signal(cancel.clone(), ui.clone(), signals::Announce::Runner);
    tracker.start();
    // Through the session, as `kiln build` runs: the build is announced first, as Packer does.
    let Some(mut outcome) = session.run(vec![build], &ui, &cancel, &ropts).await.pop() else {
        return fail("Error: the build produced no outcome".into());
    };
    // The cluster's registry keeps the SBOMs with the build, as HCP Packer's does: beside
    // the images it pushed.
    if outcome.ok() {
        kiln_engine::referrers::attach_sboms(
            &outcome.artifacts,
            &mut outcome.sboms,
            &docker_configs,
            &ui,
        )
        .await;
    }
    tracker.set_inputs(inputs::inputs(
        &data_json(&session.template.data_values),
        outcome.artifacts.first(),
    ));
    let ok = outcome.ok();
    if ok {
        println!();
        ui.say("Builds finished. The artifacts of successful builds are:");
        for art in &outcome.artifacts {
            println!("--> {}: {}", outcome.name, masker.mask(&art.description));
        }
    } else if outcome.cancelled {
        ui.say("Cleanly cancelled builds after being interrupted.");
    } else {
        ui.error("Some builds didn't complete successfully and had errors:");
        eprintln!(
            "--> {}: {}",
            outcome.name,
            masker.mask(&outcome.errors.join("\n"))
        );
    }
    tracker.finish(&outcome, &snapshot.run_uuid);
    if ok {
        Exit::Built
    } else if outcome.cancelled {
        Exit::Interrupted
    } else {
        Exit::Failed
    }
}

/// The data sources' outputs (`type.name` → value) as the `data` object: type → name →
/// outputs.
fn data_json(
    values: &std::collections::BTreeMap<String, kiln_engine::value::Value>,
) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (key, v) in values {
        let Some((kind, name)) = key.split_once('.') else {
            continue;
        };
        let e = out
            .entry(kind.to_string())
            .or_insert_with(|| serde_json::json!({}));
        if let Some(m) = e.as_object_mut() {
            m.insert(name.to_string(), v.to_json());
        }
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::tests::snapshot;

    #[test]
    fn runner_arguments_parse() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "kiln",
            "runner",
            "--build",
            "b",
            "--index",
            "1",
            "--index-failures",
            "",
        ])
        .unwrap();
        let crate::cli::Command::Runner(a) = cli.command else {
            panic!("not the runner")
        };
        assert_eq!((a.build.as_str(), a.index), ("b", 1));
        assert_eq!(parse_failures(&a.index_failures), Ok(None));
    }

    #[test]
    fn operator_arguments_parse_with_the_release_image() {
        use clap::Parser;
        let cli =
            crate::cli::Cli::try_parse_from(["kiln", "operator", "--no-leader-election"]).unwrap();
        let crate::cli::Command::Operator(a) = cli.command else {
            panic!("not the operator")
        };
        // The flag's environment variable wins when the test's environment sets it.
        let want = std::env::var("KILN_RUNNER_IMAGE")
            .unwrap_or_else(|_| format!("ghcr.io/kiln-dev/kiln:{}", env!("CARGO_PKG_VERSION")));
        assert_eq!(a.runner_image, want);
        assert!(a.no_leader_election);
    }

    #[test]
    fn index_failures_come_from_an_annotation_that_may_be_absent() {
        assert_eq!(parse_failures(""), Ok(None));
        assert_eq!(parse_failures("0"), Ok(Some(0)));
        assert_eq!(parse_failures("2"), Ok(Some(2)));
        assert!(parse_failures("x").is_err());
        let t = Tracker::new("null.a", 0);
        t.set_attempt(3);
        assert_eq!(t.snapshot().attempt, Some(3));
    }

    #[test]
    fn secret_variables_are_not_shadowed() {
        let mut s = snapshot(&["null.a"]);
        s.template_variables
            .insert("password".into(), serde_json::json!("default"));
        s.template_variables
            .insert("region".into(), serde_json::json!("eu"));
        s.variables.insert("region".into(), serde_json::json!("us"));
        s.secret_variables = vec!["password".into()];
        let i = var_inputs(&s, vec![("PKR_VAR_password".into(), "s3cret".into())]);
        assert_eq!(
            i.exprs,
            vec![
                ("region".to_string(), "\"eu\"".to_string()),
                ("region".to_string(), "\"us\"".to_string())
            ]
        );
        assert_eq!(i.env.len(), 1);
    }

    #[test]
    fn field_managers_are_per_index() {
        assert_eq!(field_manager(3), "kiln-runner-3");
    }
}
