//! Provisioners, one file each; what the shell ones share is in [`shell_common`] (the
//! Windows ones, `powershell`, `windows-shell` and `windows-restart`, are validated only:
//! Kiln cannot run them), their errors in [`error`].

pub mod breakpoint;
pub mod error;
pub mod file;
pub mod hcp_sbom;
pub mod powershell;
pub mod shell;
pub mod shell_common;
pub mod shell_local;
pub mod sleep;
pub mod windows_restart;
pub mod windows_shell;

pub use error::ProvisionError;
