//! The crate's error type: each variant names what failed.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed image reference.
    #[error("invalid image reference {input:?}: {reason}")]
    Reference { input: String, reason: String },

    /// A registry answered with an unexpected HTTP status.
    #[error("registry {registry}, repository {repository}: {action}: HTTP {status}{}", fmt_detail(.detail))]
    Status {
        registry: String,
        repository: String,
        action: String,
        status: u16,
        detail: String,
    },

    /// A registry could not be reached or the transfer failed (TLS, connection, I/O).
    #[error("registry {registry}, repository {repository}: {action}: {detail}")]
    Transport {
        registry: String,
        repository: String,
        action: String,
        detail: String,
    },

    /// Content whose digest does not match what was asked for.
    #[error(
        "registry {registry}, repository {repository}: {what} has digest {actual}, expected {expected}"
    )]
    DigestMismatch {
        registry: String,
        repository: String,
        what: String,
        expected: String,
        actual: String,
    },

    /// A file-system operation failed. The cause is in the message (and not also a
    /// `source`, so that `{:#}` chains do not print it twice).
    #[error("{action} {}: {cause}", .path.display())]
    Io {
        action: String,
        path: PathBuf,
        cause: std::io::Error,
    },

    /// A layer could not be applied.
    #[error("layer {layer}: entry {entry:?}: {reason}")]
    Layer {
        layer: String,
        entry: String,
        reason: String,
    },

    /// Bad input or state that is not one of the above (a config value, a `changes` line…).
    #[error("{0}")]
    Invalid(String),

    /// The operation was cancelled.
    #[error("cancelled: {0}")]
    Cancelled(String),

    /// The container runtime failed.
    #[error("container runtime {runtime}: {detail}")]
    Runtime { runtime: String, detail: String },
}

fn fmt_detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(" ({d})")
    }
}

impl Error {
    pub(crate) fn io(
        action: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let action = action.into();
        let path = path.into();
        move |cause| Error::Io {
            action,
            path,
            cause,
        }
    }

    /// The HTTP status when this error is a registry's answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
