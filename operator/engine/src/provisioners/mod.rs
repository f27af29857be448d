//! Provisioners, one file each.

pub mod breakpoint;
pub mod shell_local;
pub mod sleep;
