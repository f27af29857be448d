//! Builders, one file each, with the steps they share in `common`.

pub mod common;
#[cfg(feature = "docker")]
pub mod docker;
pub mod docker_mounts;
#[cfg(feature = "docker")]
pub mod dockerfile;
pub mod file;
pub mod null;
#[cfg(feature = "qemu")]
pub mod qemu;
#[cfg(feature = "test-builders")]
pub mod test_requirements;
