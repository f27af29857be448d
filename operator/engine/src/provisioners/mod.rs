//! Provisioners, one file each.

pub mod breakpoint;
pub mod file;
pub mod shell;
pub mod shell_local;
pub mod sleep;
