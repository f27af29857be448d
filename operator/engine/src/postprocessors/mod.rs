//! Post-processors, one file each; their errors in [`error`].

pub mod artifice;
pub mod checksum;
pub mod compress;
#[cfg(feature = "docker")]
pub mod containerdisk;
#[cfg(feature = "docker")]
pub mod docker_image;
#[cfg(feature = "docker")]
pub mod docker_import;
#[cfg(feature = "docker")]
pub mod docker_login;
#[cfg(feature = "docker")]
pub mod docker_push;
#[cfg(feature = "docker")]
pub mod docker_save;
#[cfg(feature = "docker")]
pub mod docker_tag;
pub mod error;
pub mod golz4;
pub mod manifest;
pub mod provenance;
pub mod shell_local;

pub use error::PostProcessError;
