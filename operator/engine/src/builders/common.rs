//! Steps every machine builder uses: connect the communicator, then fire the provision hook.

use async_trait::async_trait;

use crate::communicator::config::CommConfig;
use crate::components::{BuildState, HOOK_CLEANUP_PROVISION, HOOK_PROVISION, Step, StepAction};

/// Connects the communicator and publishes its generated data (`build.Host`, …).
pub struct StepConnect {
    pub config: CommConfig,
}

#[async_trait]
impl Step for StepConnect {
    fn name(&self) -> &str {
        "StepConnect"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        for (k, v) in self.config.generated_data() {
            state.generated.insert(k, v);
        }
        if matches!(self.config, CommConfig::None) {
            state.comm = Some(std::sync::Arc::new(
                crate::communicator::none::NoneCommunicator,
            ));
            return StepAction::Continue;
        }
        tokio::select! {
            r = self.config.connect(&state.ui, &state.cancel) => match r {
                Ok(c) => {
                    state.comm = Some(c);
                    StepAction::Continue
                }
                Err(e) => state.fail(format!("Error waiting for SSH: {e:#}")),
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

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let hooks = state.hooks.clone();
        match hooks.run(HOOK_PROVISION, state).await {
            Ok(()) => StepAction::Continue,
            Err(e) => {
                state.provision_failed = true;
                if state.cancel.is_cancelled() {
                    state.error = Some(format!("{e:#}"));
                    StepAction::Halt
                } else {
                    state.fail(format!("{e:#}"))
                }
            }
        }
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        if state.error.is_none() || !state.provision_failed {
            return;
        }
        let hooks = state.hooks.clone();
        if let Err(e) = hooks.run(HOOK_CLEANUP_PROVISION, state).await {
            let original = state.error.clone().unwrap_or_default();
            let msg = format!("Cleanup failed: {e:#}. Original Provisioning error: {original}");
            state.ui.error(&msg);
            state.error = Some(msg);
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

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        for (k, v) in &self.0 {
            state.generated.insert(k.clone(), v.clone());
        }
        StepAction::Continue
    }
}
