//! Steps every machine builder uses: connect the communicator, then fire the provision hook.

use async_trait::async_trait;

use crate::communicator::config::CommConfig;
use crate::components::{
    BuildError, BuildState, HOOK_CLEANUP_PROVISION, HOOK_PROVISION, Step, StepAction, StepKind,
};

/// Connects the communicator and publishes its generated data (`build.Host`, …), as
/// Packer's `StepConnect`: the host and port are resolved when the step runs — from the
/// config when it sets them, else from the [`Endpoint`](crate::components::Endpoint) an
/// earlier step of the builder recorded (a VM's forwarded port) — and a communicator the
/// builder provides itself (`docker` exec, a chroot) was put in the state by its own step.
pub struct StepConnect {
    pub config: CommConfig,
}

#[async_trait]
impl Step for StepConnect {
    fn name(&self) -> &str {
        "StepConnect"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let config = self.config.resolved(&state.endpoint);
        for (k, v) in config.generated_data() {
            state.generated.insert(k, v);
        }
        // The SDK's StepConnect names the communicator and the host it connects to (a
        // builder's own communicator too: the docker builder's container has no address of
        // its own, sharing the host's network, so the host is empty as with `--network host`).
        match &config {
            CommConfig::None => {}
            CommConfig::Ssh(c) => state.ui.say(format!(
                "Using SSH communicator to connect: {}",
                c.host.as_deref().unwrap_or_default()
            )),
            CommConfig::WinRm(c) => state
                .ui
                .say(format!("Using WinRM communicator to connect: {}", c.host)),
            CommConfig::Provided(kind) => state
                .ui
                .say(format!("Using {kind} communicator to connect: ")),
        }
        match &config {
            CommConfig::None => {
                state.comm = Some(std::sync::Arc::new(
                    crate::communicator::none::NoneCommunicator,
                ));
                return StepAction::Continue;
            }
            CommConfig::Provided(kind) => {
                if state.comm.is_none() {
                    return state.fail_with(BuildError::Connect {
                        communicator: kind.clone(),
                        message: "the builder did not provide its communicator".into(),
                    });
                }
                return StepAction::Continue;
            }
            CommConfig::Ssh(_) | CommConfig::WinRm(_) => {}
        }
        tokio::select! {
            r = config.connect(&state.ui, &state.cancel) => match r {
                Ok(c) => {
                    state.comm = Some(c);
                    StepAction::Continue
                }
                Err(e) => state.fail_with(BuildError::Connect {
                    communicator: match config {
                        CommConfig::WinRm(_) => "WinRM",
                        _ => "SSH",
                    }
                    .into(),
                    message: format!("{e:#}"),
                }),
            },
            _ = state.cancel.cancelled() => StepAction::Halt,
        }
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        if let Some(c) = state.comm.take() {
            c.close().await;
        }
    }
}

/// Runs the build's provisioners through the `packer_provision` hook, so builders never know
/// provisioners; on failure its cleanup runs the error-cleanup-provisioner.
#[derive(Default)]
pub struct StepProvision;

#[async_trait]
impl Step for StepProvision {
    fn name(&self) -> &str {
        "StepProvision"
    }

    fn kind(&self) -> StepKind {
        StepKind::Provision
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let hooks = state.hooks.clone();
        match hooks.run(HOOK_PROVISION, state).await {
            Ok(()) => StepAction::Continue,
            Err(e) => {
                let message = format!("{e:#}");
                if state.cancel.is_cancelled() {
                    state.error = Some(BuildError::Cancelled { message });
                    StepAction::Halt
                } else {
                    // Packer's StepProvision records the error without printing it.
                    state.error = Some(BuildError::Provision { message });
                    StepAction::Halt
                }
            }
        }
    }

    /// As the SDK's `StepProvision.Cleanup`: the error-cleanup-provisioner runs whenever the
    /// build failed once this step had run (a later step's error too), and its own failure
    /// is recorded, not said (`Cleanup failed: … Original Provisioning error: …`).
    async fn cleanup(&mut self, state: &mut BuildState) {
        // cancelled, the SDK's step halts without recording an error: no cleanup
        // provisioner, nothing said
        if matches!(state.error, None | Some(BuildError::Cancelled { .. })) {
            return;
        }
        let hooks = state.hooks.clone();
        if let Err(e) = hooks.run(HOOK_CLEANUP_PROVISION, state).await
            && let Some(original) = state.error.take()
        {
            state.error = Some(BuildError::CleanupProvision {
                message: format!("{e:#}"),
                original: Box::new(original),
            });
        }
    }
}

/// Records builder-known generated data (`build.ID`, …) before provisioning.
pub struct StepSetGenerated(pub Vec<(String, crate::value::Value)>);

#[async_trait]
impl Step for StepSetGenerated {
    fn name(&self) -> &str {
        "StepSetGenerated"
    }

    fn kind(&self) -> StepKind {
        StepKind::Internal
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        for (k, v) in &self.0 {
            state.generated.insert(k.clone(), v.clone());
        }
        StepAction::Continue
    }
}
