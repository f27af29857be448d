//! Data sources, one file each.

pub mod null;
