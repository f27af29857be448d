//! Post-processors, one file each.

pub mod artifice;
pub mod checksum;
pub mod compress;
pub mod containerdisk;
pub mod docker_image;
pub mod docker_import;
pub mod docker_push;
pub mod docker_save;
pub mod docker_tag;
pub mod manifest;
pub mod provenance;
pub mod shell_local;
