//! What several integration tests of the `kiln` binary share.
#![allow(dead_code)]

use std::path::PathBuf;

/// Packer v1.16.0 built from source (`scripts/packer.sh` puts it in
/// `~/.cache/kiln/packer/1.16.0/`), or `KILN_PACKER`; fails saying how to get it.
/// packer-plugin-docker v1.1.2 built from source (`scripts/docker-plugin.sh`), for the
/// differential cases that compare the docker builder's own checks.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn docker_plugin() -> PathBuf {
    let p = std::env::var_os("KILN_PACKER_DOCKER_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(
                ".cache/kiln/packer-plugin-docker/1.1.2/packer-plugin-docker_v1.1.2_x5.0_linux_amd64",
            )
        });
    assert!(
        p.is_file(),
        "packer-plugin-docker v1.1.2 built from source is needed at {}: run \
         scripts/docker-plugin.sh, or set KILN_PACKER_DOCKER_PLUGIN to the plugin's binary",
        p.display()
    );
    p
}

/// packer-plugin-qemu v1.1.7 built from source (`scripts/qemu-plugin.sh`), for the
/// differential cases that compare the qemu builder's own checks.
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn qemu_plugin() -> PathBuf {
    let p = std::env::var_os("KILN_PACKER_QEMU_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(
                ".cache/kiln/packer-plugin-qemu/1.1.7/packer-plugin-qemu_v1.1.7_x5.0_linux_amd64",
            )
        });
    assert!(
        p.is_file(),
        "packer-plugin-qemu v1.1.7 built from source is needed at {}: run \
         scripts/qemu-plugin.sh, or set KILN_PACKER_QEMU_PLUGIN to the plugin's binary",
        p.display()
    );
    p
}

pub fn packer() -> PathBuf {
    let p = std::env::var_os("KILN_PACKER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kiln/packer/1.16.0/packer")
        });
    assert!(
        p.is_file(),
        "Packer v1.16.0 built from source is needed at {}: run scripts/packer.sh (builds it \
         into ~/.cache/kiln/packer/1.16.0/packer), or set KILN_PACKER to a Packer v1.16.0 binary",
        p.display()
    );
    p
}
