//! Data sources, one file each.

pub mod http;
pub mod kiln_channel;
pub mod null;
