//! What several integration tests of the `kiln` binary share.
#![allow(dead_code)]

use std::path::PathBuf;

/// Packer v1.16.0 built from source (`scripts/packer.sh` puts it in
/// `~/.cache/kiln/packer/1.16.0/`), or `KILN_PACKER`; fails saying how to get it.
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
