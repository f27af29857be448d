//! Data sources, one file each.

pub mod http;
pub mod null;
