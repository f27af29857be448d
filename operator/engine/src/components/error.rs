//! Why a build failed: one variant per failure site, each saying it as Packer does.

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
    /// The build was cancelled (Ctrl-C, ImageBuild deletion, a provisioner's timeout).
    #[error("{message}")]
    Cancelled { message: String },
}
