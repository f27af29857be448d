//! Post-processors, one file each.

pub mod artifice;
pub mod manifest;
pub mod shell_local;
