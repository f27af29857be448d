//! Kiln's daemonless container-image foundation.
//!
//! Everything Packer's `docker` builder needs from a Docker daemon, done without one:
//!
//! - [`reference`]: image references normalised as Docker does (`busybox` →
//!   `docker.io/library/busybox:latest`).
//! - [`auth`]: credentials from `~/.docker/config.json` or a `kubernetes.io/dockerconfigjson`
//!   blob.
//! - [`registry`]: an OCI distribution client (pull with platform choice and digest checks,
//!   push that skips present blobs and mounts blobs across repositories).
//! - [`store`]: a local image store in OCI image layout (read by skopeo and umoci), with
//!   import and export of a layout tar.
//! - [`unpack`]: apply a layer stack to a root filesystem (whiteouts, links, xattrs, owners).
//! - [`diff`]: snapshot a root filesystem, then write what changed as one reproducible layer.
//! - [`image`]: image configs, Docker's `--change` instructions, commits.
//! - [`runtime`]: run `sh -c CMD` in a root filesystem with crun or runc.
//!
//! The crate knows nothing of the engine: the `docker` builder, its communicator and the
//! docker post-processors are built on top of it. It is synchronous except for
//! [`runtime::run`], which the engine's async communicator awaits.

pub mod auth;
pub mod diff;
pub mod digest;
pub mod error;
pub mod image;
pub mod reference;
pub mod referrers;
pub mod registry;
pub mod runtime;
pub mod shlex;
pub mod store;
pub mod unpack;

pub use digest::Digest;
pub use error::{Error, Result};
pub use reference::Reference;

/// Default `SOURCE_DATE_EPOCH` when the variable is not set: 2000-01-01T00:00:00Z.
///
/// Layer file times are clamped to it and the image's `created` time is set to it, so that
/// the same inputs give the same digests with no variable set.
pub const DEFAULT_SOURCE_DATE_EPOCH: i64 = 946_684_800;

/// The epoch used for reproducible output: `SOURCE_DATE_EPOCH` when set to an integer,
/// else [`DEFAULT_SOURCE_DATE_EPOCH`].
pub fn source_date_epoch() -> Result<i64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse::<i64>().map_err(|_| {
            Error::Invalid(format!(
                "SOURCE_DATE_EPOCH={v:?} is not an integer number of seconds"
            ))
        }),
        _ => Ok(DEFAULT_SOURCE_DATE_EPOCH),
    }
}
