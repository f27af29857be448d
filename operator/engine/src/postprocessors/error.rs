//! Why a post-processor failed: one variant per kind of failure site, each saying it as
//! Packer does (the runner shows it as it is, in `Post-processor failed: <error>` and the
//! build's errors).

use crate::provisioners::ProvisionError;

/// A post-processor's error.
#[derive(Debug, thiserror::Error)]
pub enum PostProcessError {
    /// The input artifact is not of a kind this post-processor takes (`accepts` says which,
    /// as Packer does: `Can only tag from Docker builder artifacts.`).
    #[error("Unknown artifact type: {builder_id}\n{accepts}")]
    UnknownArtifact { builder_id: String, accepts: String },
    /// The build was cancelled before the post-processor's work was done.
    #[error("cancelled")]
    Cancelled,
    /// The `shell-local` post-processor's commands failed, said as the provisioner says it.
    #[error(transparent)]
    Command(#[from] ProvisionError),
    /// A worker thread of the post-processor panicked (or was cancelled).
    #[error("{0}")]
    Worker(#[from] tokio::task::JoinError),
    /// Kiln's image store or a registry failed (the docker post-processors): what, where,
    /// and its causes.
    #[cfg(feature = "docker")]
    #[error("{}", chain(.0))]
    Image(#[from] kiln_oci::Error),
    /// The work itself failed — files, archives, checksums, images, registries, keys — with
    /// its chain of causes (`writing x.tar.gz: No space left on device`).
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

/// An error and its causes, as `anyhow` shows them with `{:#}` (`a: b: c`).
#[cfg(feature = "docker")]
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl PostProcessError {
    /// The input artifact `builder_id` is not one the post-processor takes.
    pub fn unknown_artifact(builder_id: &str, accepts: impl Into<String>) -> Self {
        PostProcessError::UnknownArtifact {
            builder_id: builder_id.to_string(),
            accepts: accepts.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner prints `{e:#}`: the same text as the anyhow errors it replaced.
    #[test]
    fn messages_read_as_before() {
        let e = PostProcessError::unknown_artifact(
            "x.builder",
            "Can only tag from Docker builder artifacts.",
        );
        assert_eq!(
            format!("{e:#}"),
            "Unknown artifact type: x.builder\nCan only tag from Docker builder artifacts."
        );
        let cause = std::io::Error::other("No space left on device");
        let e: PostProcessError = anyhow::Error::new(cause)
            .context("writing out.tar.gz")
            .into();
        assert_eq!(
            format!("{e:#}"),
            "writing out.tar.gz: No space left on device"
        );
        let e: PostProcessError = ProvisionError::EmptyCommand.into();
        assert_eq!(format!("{e:#}"), "execute_command is empty");
    }
}
