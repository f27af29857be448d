//! Provisioners, one file each; what the shell ones share is in [`shell_common`], their
//! errors in [`error`].

pub mod breakpoint;
pub mod error;
pub mod file;
pub mod shell;
pub mod shell_common;
pub mod shell_local;
pub mod sleep;

pub use error::ProvisionError;
