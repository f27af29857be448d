//! The multistep runner: runs each prepared build's steps with cleanup of every started step in
//! reverse order (success, failure and cancellation alike), the provision hook, post-processor
//! chains with Packer's keep/destroy rules, and parallel builds bounded by `-parallel-builds`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::components::{
    BuildState, ComponentInfo, Endpoint, Extensions, HOOK_CLEANUP_PROVISION, HOOK_PROVISION, Hook,
    HookError, OnError, PostProcessCtx, ProvisionCtx, StepAction, StepKind,
};
use crate::plan::{PreparedBuild, RunOptions, prepare_provisioner, runtime_generated};
use crate::template::EvalEnv;
pub use crate::template::body::go_duration;
use crate::template::build::{BuildInstance, ProvisionerDecl};
use crate::ui::{EventKind, Ui};

/// How long one step's cleanup may take before the runner moves on.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The outcome of one build.
#[derive(Clone, Debug)]
pub struct BuildOutcome {
    pub name: String,
    pub duration: Duration,
    pub artifacts: Vec<Artifact>,
    /// Build or post-processor errors.
    pub errors: Vec<String>,
    pub cancelled: bool,
    /// The SBOMs the build's `hcp-sbom` provisioners fetched.
    pub sboms: Vec<crate::components::Sbom>,
}

impl BuildOutcome {
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && !self.cancelled
    }
}

/// Runs the provisioners of one build when a builder fires `packer_provision`.
struct ProvisionHook {
    instance: BuildInstance,
    base: EvalEnv,
    info: ComponentInfo,
    /// `-debug`: Packer's `DebuggedProvisioner` asks before each provisioner.
    debug: bool,
    /// The SBOMs the `hcp-sbom` provisioners fetched.
    sboms: crate::components::SbomSink,
}

#[async_trait]
impl Hook for ProvisionHook {
    async fn run(&self, name: &str, state: &mut BuildState) -> Result<(), HookError> {
        let decls: Vec<ProvisionerDecl> = match name {
            HOOK_PROVISION => self.instance.provisioners.clone(),
            HOOK_CLEANUP_PROVISION => self.instance.error_cleanup.iter().cloned().collect(),
            _ => return Ok(()),
        };
        if name == HOOK_CLEANUP_PROVISION {
            // Packer says it whether or not a cleanup provisioner exists.
            state.ui.say(
                "Provisioning step had errors: Running the cleanup provisioner, if present...",
            );
        }
        if decls.is_empty() {
            return Ok(());
        }
        let Some(comm) = state.comm.clone() else {
            return Err(HookError::NoCommunicator);
        };
        let total = decls.len();
        for (i, decl) in decls.iter().enumerate() {
            if state.cancel.is_cancelled() {
                return Err(HookError::Cancelled);
            }
            state.ui.emit(EventKind::Provisioner {
                index: i + 1,
                total,
                kind: decl.kind.clone(),
            });
            if self.debug && name == HOOK_PROVISION {
                // The space before the period is Packer's.
                pause(
                    &state.ui,
                    "Pausing before the next provisioner . Press enter to continue.",
                )
                .await;
            }
            // Without hook data (the file builder's `hook.Run(…, nil)`), HCL2's `build.*`
            // keeps its prepare-time "<unknown>" and the provisioner renders its templates
            // with no data: a legacy template's `{{ build `ID` }}` (a `{{.ID}}` placeholder
            // until then, `build.ID` in Kiln's body) and `{{ .Name }}` are "<no value>".
            let (values, generated) = if state.no_hook_data {
                let mut values = crate::plan::unknown_generated(&[]);
                if decl.block.body.mapstructure {
                    values
                        .values_mut()
                        .for_each(|v| *v = crate::value::Value::str("<no value>"));
                }
                (values, BTreeMap::new())
            } else {
                let g = runtime_generated(&state.generated, &self.info.run_uuid);
                (g.clone(), g)
            };
            let p = prepare_provisioner(decl, &self.instance, &self.base, values, &self.info)
                .map_err(|d| HookError::Prepare(d.0.iter().map(|x| x.one_line()).collect()))?;
            // The provisioner's own context, as the plugin's RPC server holds it: created
            // once for the provisioner and cancelled for good when a timeout cancels an
            // attempt, so a retry after a timeout starts already cancelled (Packer's
            // ProvisionerServer keeps its cancelled context).
            let plugin_cancel = state.cancel.child_token();
            let ctx = ProvisionCtx {
                ui: &state.ui,
                comm: &comm,
                cancel: &plugin_cancel,
                generated: &generated,
                info: &self.info,
                sboms: &self.sboms,
            };
            // Packer's RetriedProvisioner: the retries' own errors are dropped (a shadowed
            // variable), so every retry line quotes the first attempt's error and the first
            // error is the result.
            let mut result = run_one(decl, p.as_ref(), &ctx).await;
            if let Err(first) = &result
                && !state.cancel.is_cancelled()
            {
                let quoted = crate::value::go_quote(&format!("{first:#}"));
                let mut left = decl.max_retries;
                while left > 0 {
                    state.ui.say(format!(
                        "Provisioner failed with {quoted}, retrying with {left} trie(s) left"
                    ));
                    match run_one(decl, p.as_ref(), &ctx).await {
                        Ok(()) => break,
                        // A cancelled build stops with the attempt's own error.
                        Err(e) if state.cancel.is_cancelled() => return Err(e),
                        Err(_) => left -= 1,
                    }
                }
                if left > 0 {
                    result = Ok(());
                } else if decl.max_retries != 0 {
                    // (A negative count retries nothing, and says so: Packer wraps the
                    // provisioner for any count but zero.)
                    state.ui.say("retry limit reached.");
                }
            }
            if let Err(e) = result {
                if decl.continue_on_error && !state.cancel.is_cancelled() {
                    // ContinueOnErrorProvisioner, wrapped outside the retries.
                    state.ui.say(format!(
                        "Warning: Provisioner failed with {}, but continue_on_error is set; \
                         continuing the build.",
                        crate::value::go_quote(&format!("{e:#}"))
                    ));
                    continue;
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

/// One attempt: pause_before or timeout (Packer applies only one of them), then the plugin.
async fn run_one(
    decl: &ProvisionerDecl,
    p: &dyn crate::components::Provisioner,
    ctx: &ProvisionCtx<'_>,
) -> Result<(), HookError> {
    if let Some(pause) = decl.pause_before {
        ctx.ui
            .say(format!("Pausing {pause} before the next provisioner..."));
        tokio::select! {
            _ = tokio::time::sleep(pause.wait()) => {}
            _ = ctx.cancel.cancelled() => return Err(HookError::Cancelled),
        }
        return Ok(p.provision(ctx).await?);
    }
    if let Some(t) = decl.timeout {
        ctx.ui.say(format!(
            "Setting a {} timeout for the next provisioner...",
            go_duration(t)
        ));
        let fut = p.provision(ctx);
        tokio::pin!(fut);
        return tokio::select! {
            r = &mut fut => Ok(r?),
            _ = tokio::time::sleep(t) => {
                // Packer's TimeoutProvisioner: says so, cancels the provisioner's context
                // (for good: see `plugin_cancel`) and returns what the provisioner returns
                // once it has stopped its work.
                ctx.ui.error("Cancelling provisioner after a timeout...");
                ctx.cancel.cancel();
                match fut.await {
                    // A provisioner that only stops (`sleep`) returns its context's error,
                    // as it reaches Packer through the plugin's RPC cancellation.
                    Err(crate::provisioners::ProvisionError::Cancelled { during: None }) => {
                        Err(crate::provisioners::ProvisionError::Command {
                            message: "context canceled".into(),
                        }
                        .into())
                    }
                    r => Ok(r?),
                }
            }
        };
    }
    Ok(p.provision(ctx).await?)
}

/// Runs one prepared build to the end: steps, cleanup, post-processors.
pub async fn run_build(
    build: PreparedBuild,
    ui: &Ui,
    cancel: &CancellationToken,
    opts: &RunOptions,
    base: &EvalEnv,
) -> BuildOutcome {
    let started = Instant::now();
    let name = build.instance.full_name.clone();
    let bui = ui.for_build(&name);
    let hooks = Arc::new(ProvisionHook {
        instance: build.instance.clone(),
        base: base.clone(),
        info: build.info.clone(),
        debug: opts.debug,
        sboms: Default::default(),
    });
    let mut state = BuildState {
        ui: bui.clone(),
        cancel: cancel.child_token(),
        info: build.info.clone(),
        comm: None,
        generated: BTreeMap::new(),
        error: None,
        step: String::new(),
        hooks: hooks.clone(),
        endpoint: Endpoint::default(),
        private: Extensions::default(),
        no_hook_data: false,
    };
    let mut steps = build.builder.steps();
    let mut ran = 0;
    // `-on-error=ask` answered "abort": cleanups are skipped as under `-on-error=abort`.
    let mut aborted = false;
    // `-debug` on a step runner: the SDK's `DebugRunner` pauses after each step that ran
    // and before its cleanup; `paused` counts the steps whose pause ran.
    let debugged = |step: &dyn crate::components::Step| {
        opts.debug && build.builder.step_runner() && step.kind() != StepKind::Internal
    };
    let mut paused = 0;
    'steps: for step in steps.iter_mut() {
        if state.cancel.is_cancelled() {
            break;
        }
        bui.emit(EventKind::Step {
            step: step.name().to_string(),
        });
        state.step = step.name().to_string();
        ran += 1;
        loop {
            if step.run(&mut state).await != StepAction::Halt {
                if debugged(step.as_ref()) {
                    // The SDK's `DebugRunner`: a pause after each step that ran.
                    paused = ran;
                    pause(
                        &bui,
                        &format!(
                            "Pausing after run of step '{}'. Press enter to continue.",
                            step.name()
                        ),
                    )
                    .await;
                }
                continue 'steps;
            }
            let asks = opts.on_error == OnError::Ask
                && build.builder.step_runner()
                && step.kind() != StepKind::Internal
                && !state.cancel.is_cancelled();
            if !asks {
                break 'steps;
            }
            // The SDK's `askStep`: the error, that the step failed, then the question.
            if let Some(e) = &state.error {
                bui.error(e.to_string());
            }
            bui.say(format!("Step {:?} failed", step.name()));
            match ask_on_error(&bui).await {
                AskAnswer::Cleanup => break 'steps,
                AskAnswer::Abort => {
                    aborted = true;
                    break 'steps;
                }
                AskAnswer::Retry => state.error = None,
            }
        }
    }
    let cancelled = state.cancel.is_cancelled();
    let halted = state.error.is_some() || cancelled;
    // The SDK's `abortStep`/`handleAbortsAndInterupts`: under `-on-error=abort` (or
    // `run-cleanup-provisioner`, but for the provision step) a halted build's cleanups are
    // skipped; the first skipped step says the error and that it failed, the others that
    // their cleanup is skipped.
    let mut abort_logged = false;
    for (i, step) in steps[..ran].iter_mut().enumerate().rev() {
        if i < paused && debugged(step.as_ref()) {
            pause(
                &bui,
                &format!(
                    "Pausing before cleanup of step '{}'. Press enter to continue.",
                    step.name()
                ),
            )
            .await;
        }
        let skip = halted
            && build.builder.step_runner()
            && step.kind() != StepKind::Internal
            && match opts.on_error {
                _ if aborted => true,
                OnError::Abort => true,
                OnError::RunCleanupProvisioner => step.kind() != StepKind::Provision,
                OnError::Cleanup | OnError::Ask => false,
            };
        if skip {
            if abort_logged {
                bui.error(format!(
                    "aborted: skipping cleanup of step {:?}",
                    step.name()
                ));
            } else {
                abort_logged = true;
                if let Some(e) = &state.error {
                    bui.error(e.to_string());
                }
                if cancelled {
                    bui.error("Interrupted, aborting...");
                } else {
                    bui.error(format!("Step {:?} failed, aborting...", step.name()));
                }
            }
            continue;
        }
        if tokio::time::timeout(CLEANUP_DEADLINE, step.cleanup(&mut state))
            .await
            .is_err()
        {
            bui.error(format!(
                "Cleanup of step {:?} did not finish within {}; moving on",
                step.name(),
                human_duration(CLEANUP_DEADLINE)
            ));
        }
    }
    let mut outcome = BuildOutcome {
        name: name.clone(),
        duration: Duration::ZERO,
        artifacts: Vec::new(),
        errors: Vec::new(),
        cancelled,
        sboms: Vec::new(),
    };
    if cancelled {
        if let Some(e) = build.builder.cancelled_error() {
            outcome.errors.push(e.into());
        }
    } else if let Some(e) = &state.error {
        outcome.errors.push(e.to_string());
    } else if let Some(artifact) = {
        // Packer's CoreBuild keeps the SBOMs once the builder has run (whatever its
        // post-processors do).
        outcome.sboms = std::mem::take(&mut *hooks.sboms.lock().unwrap_or_else(|p| p.into_inner()));
        build.builder.artifact(&state)
    } {
        run_post_processors(&build, base, artifact, &state, &bui, &mut outcome).await;
    }
    outcome.duration = started.elapsed();
    bui.emit(EventKind::BuildFinished {
        seconds: outcome.duration.as_secs_f64(),
        error: (!outcome.errors.is_empty()).then(|| outcome.errors.join("; ")),
        cancelled,
    });
    outcome
}

async fn run_post_processors(
    build: &PreparedBuild,
    base: &EvalEnv,
    builder_artifact: Artifact,
    state: &BuildState,
    ui: &Ui,
    outcome: &mut BuildOutcome,
) {
    let mut artifacts: Vec<Artifact> = Vec::new();
    // Packer's CoreBuild.Run gathers the errors of this stage into one MultiError.
    let mut errors: Vec<String> = Vec::new();
    let mut keep_original = build.post_processors.is_empty();
    'chains: for chain in &build.post_processors {
        let mut prior = builder_artifact.clone();
        for (i, decl) in chain.iter().enumerate() {
            if state.cancel.is_cancelled() {
                break 'chains;
            }
            let generated = crate::plan::artifact_generated(&prior, decl.block.body.mapstructure);
            let pp = match crate::plan::prepare_post_processor(
                decl,
                &build.instance,
                base,
                generated.clone(),
                &build.info,
            ) {
                Ok(pp) => pp,
                Err(d) => {
                    let msg =
                        d.0.iter()
                            .map(|x| x.one_line())
                            .collect::<Vec<_>>()
                            .join("; ");
                    ui.error(format!("Post-processor failed: {msg}"));
                    errors.push(format!("Post-processor failed: {msg}"));
                    continue 'chains;
                }
            };
            match &decl.name {
                Some(n) if *n == decl.kind => {
                    ui.say(format!("Running post-processor: {}", decl.kind))
                }
                Some(n) => ui.say(format!("Running post-processor: {n} (type {})", decl.kind)),
                // Packer prints the empty name too.
                None => ui.say(format!("Running post-processor:  (type {})", decl.kind)),
            }
            let pp_ui = ui.for_component(&decl.kind);
            let ctx = PostProcessCtx {
                ui: &pp_ui,
                cancel: &state.cancel,
                info: &build.info,
                generated: &generated,
            };
            let out = match pp.post_process(&ctx, &prior).await {
                Ok(o) => o,
                Err(e) => {
                    errors.push(format!("Post-processor failed: {e:#}"));
                    continue 'chains;
                }
            };
            let mut keep = out.keep;
            // The user's keep_input_artifact wins, unless the post-processor forces keeping.
            if let Some(user) = decl.keep_input_artifact
                && !(out.keep && !user && out.force_keep)
            {
                keep = user;
            }
            if i == 0 {
                if !keep_original && keep {
                    keep_original = true;
                }
            } else if keep {
                artifacts.push(prior.clone());
            } else if let Err(e) = prior.destroy().await {
                errors.push(format!(
                    "Failed cleaning up prior artifact: {e}; pp is {}",
                    decl.kind
                ));
            }
            prior = out.artifact;
        }
        artifacts.push(prior);
    }
    if keep_original {
        artifacts.insert(0, builder_artifact);
    } else if let Err(e) = builder_artifact.destroy().await {
        errors.push(format!("Error destroying builder artifact: {e}"));
    }
    if errors.is_empty() {
        outcome.artifacts = artifacts;
    } else {
        // A build that errored lists no artifact (Packer's build command keeps the
        // artifacts of successful builds only).
        let points: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
        outcome.errors.push(format!(
            "{} error(s) occurred:\n\n{}",
            errors.len(),
            points.join("\n")
        ));
    }
}

/// Runs every build, at most `parallel_builds` at a time (0 = all at once). Once `cancel`
/// fires no new build starts; running ones are cancelled and clean up.
pub async fn run_all(
    builds: Vec<PreparedBuild>,
    ui: &Ui,
    cancel: &CancellationToken,
    opts: &RunOptions,
    base: &EvalEnv,
) -> Vec<BuildOutcome> {
    let limit = if opts.parallel_builds == 0 || opts.debug {
        if opts.debug { 1 } else { builds.len().max(1) }
    } else {
        opts.parallel_builds
    };
    let sem = Arc::new(Semaphore::new(limit));
    // Packer announces every build before the first starts.
    for b in &builds {
        ui.for_build(&b.instance.full_name)
            .emit(EventKind::BuildStarted);
    }
    let mut handles = Vec::new();
    let names: Vec<String> = builds
        .iter()
        .map(|b| b.instance.full_name.clone())
        .collect();
    for build in builds {
        let sem = sem.clone();
        let ui = ui.clone();
        let cancel = cancel.clone();
        let opts = opts.clone();
        let base = base.clone();
        // In template order, as Packer acquires its semaphore before starting each build.
        let permit = tokio::select! {
            p = sem.acquire_owned() => p.ok(),
            _ = cancel.cancelled() => None,
        };
        handles.push(tokio::spawn(async move {
            if permit.is_none() || cancel.is_cancelled() {
                return None;
            }
            let outcome = run_build(build, &ui, &cancel, &opts, &base).await;
            drop(permit);
            Some(outcome)
        }));
    }
    let mut outcomes = Vec::new();
    for (h, name) in handles.into_iter().zip(names) {
        match h.await {
            Ok(Some(o)) => outcomes.push(o),
            Ok(None) => outcomes.push(BuildOutcome {
                name,
                duration: Duration::ZERO,
                artifacts: Vec::new(),
                errors: vec!["Build was not started: interrupted.".into()],
                cancelled: true,
                sboms: Vec::new(),
            }),
            Err(e) => outcomes.push(BuildOutcome {
                name,
                duration: Duration::ZERO,
                artifacts: Vec::new(),
                errors: vec![format!("Build panicked: {e}")],
                cancelled: false,
                sboms: Vec::new(),
            }),
        }
    }
    outcomes
}

/// A Go-durafmt-like rendering with the two largest units: `1 second 20 milliseconds`.
pub fn human_duration(d: Duration) -> String {
    let units: [(&str, u128); 6] = [
        ("hour", 3_600_000_000),
        ("minute", 60_000_000),
        ("second", 1_000_000),
        ("millisecond", 1_000),
        ("microsecond", 1),
        ("", 0),
    ];
    let mut us = d.as_micros();
    let mut parts = Vec::new();
    for (name, size) in units.iter().take(5) {
        let n = us / size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            us -= n * size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        "0 seconds".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_packer() {
        assert_eq!(
            human_duration(Duration::from_millis(1020)),
            "1 second 20 milliseconds"
        );
        assert_eq!(
            human_duration(Duration::from_micros(12_034)),
            "12 milliseconds 34 microseconds"
        );
        assert_eq!(human_duration(Duration::from_secs(3661)), "1 hour 1 minute");
        assert_eq!(human_duration(Duration::ZERO), "0 seconds");
    }
}

/// `-debug`'s pause (the SDK's `MultistepDebugFn`): asks and waits for a line; no pause
/// when no one can be asked (no terminal), as in Packer.
async fn pause(ui: &Ui, message: &str) {
    let (ui, message) = (ui.clone(), message.to_string());
    let _ = tokio::task::spawn_blocking(move || ui.ask(&message)).await;
}

/// What the user answered to `-on-error=ask`'s question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AskAnswer {
    Cleanup,
    Abort,
    Retry,
}

/// The SDK's `askPrompt`: asks until the answer starts with `c`, `a` or `r` (an empty
/// answer, or no terminal to ask on, is `c`), saying `Incorrect input: "…"` otherwise.
async fn ask_on_error(ui: &Ui) -> AskAnswer {
    let ui = ui.clone();
    tokio::task::spawn_blocking(move || {
        loop {
            let line = ui
                .ask("[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?")
                .unwrap_or_default();
            match answer_of(&line) {
                Some(a) => return a,
                None => ui.say(format!("Incorrect input: {line:?}")),
            }
        }
    })
    .await
    .unwrap_or(AskAnswer::Cleanup)
}

fn answer_of(line: &str) -> Option<AskAnswer> {
    match format!("{}c", line.to_lowercase()).as_bytes()[0] {
        b'c' => Some(AskAnswer::Cleanup),
        b'a' => Some(AskAnswer::Abort),
        b'r' => Some(AskAnswer::Retry),
        _ => None,
    }
}

#[cfg(test)]
mod ask_tests {
    use super::*;

    #[test]
    fn answers_read_as_the_sdk_reads_them() {
        assert_eq!(answer_of(""), Some(AskAnswer::Cleanup));
        assert_eq!(answer_of("C"), Some(AskAnswer::Cleanup));
        assert_eq!(answer_of("abort"), Some(AskAnswer::Abort));
        assert_eq!(answer_of("r"), Some(AskAnswer::Retry));
        assert_eq!(answer_of("x"), None);
        assert_eq!(answer_of("é"), None);
    }
}
