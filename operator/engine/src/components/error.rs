//! Why a build failed, and why its provision hook did: one variant per failure site, each
//! saying it as Packer does.

/// A build's error, kept in its state and reported in its outcome.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A builder step failed.
    #[error("{message}")]
    Step { step: String, message: String },
    /// The communicator never connected.
    #[error("Error waiting for {communicator}: {message}")]
    Connect {
        communicator: String,
        message: String,
    },
    /// A provisioner failed (after its retries), or the provision hook could not run.
    #[error("{message}")]
    Provision { message: String },
    /// The error-cleanup-provisioner failed too.
    #[error("Cleanup failed: {message}. Original Provisioning error: {original}")]
    CleanupProvision {
        message: String,
        original: Box<BuildError>,
    },
    /// A step said its error and halted without recording it (a plugin step's `ui.Error`
    /// then `ActionHalt`): the builder's `Run` then returns Packer's `Build was halted.`;
    /// `said` keeps what the step said.
    #[error("Build was halted.")]
    Halted { step: String, said: String },
    /// The build was cancelled (Ctrl-C, ImageBuild deletion, a provisioner's timeout).
    #[error("{message}")]
    Cancelled { message: String },
}

/// Why the provision hook (`packer_provision`, `packer_cleanup_provision`) failed; the
/// provision step turns it into [`BuildError::Provision`] (or `Cancelled`, or
/// `CleanupProvision`) with this message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The builder fired the hook without a connected communicator.
    #[error(
        "No communicator found for provisioners! This is usually because the builder did not connect."
    )]
    NoCommunicator,
    /// The build was cancelled before the next provisioner (or during its `pause_before`).
    #[error("Build was cancelled")]
    Cancelled,
    /// A provisioner's block did not decode with the build's values (its diagnostics, one
    /// line each).
    #[error("{}", .0.join("; "))]
    Prepare(Vec<String>),
    /// A provisioner failed (after its retries).
    #[error(transparent)]
    Provisioner(#[from] crate::provisioners::ProvisionError),
}
