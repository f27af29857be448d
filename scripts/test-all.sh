#!/usr/bin/env bash
# Runs every Kiln test: formatting, lints, unit and integration tests against real peers
# (OpenSSH sshd, local HTTP servers, system compressors), the documentation build with its
# link check, and the end-to-end scenarios on a single-node Kubernetes this script brings
# up (scripts/e2e.sh). Installs what it needs (Debian packages, cargo tools) and caches
# heavy builds under ~/.cache/kiln, keyed by version. Needs root (the e2e cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=target-dir.sh
source scripts/target-dir.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# CI builds once: incremental-compilation data (tens of GiB over many runs in the shared
# target directory) would only fill the disk.
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

start=$(date +%s)
step() { printf '\n=== %s (%s, +%ss)\n' "$1" "$(date +%T)" "$(( $(date +%s) - start ))"; }

step "peers: Debian packages"
scripts/install-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "qemu test guests (scripts/guests.sh, cached)"
scripts/guests.sh >/dev/null

step "Packer from source (the differential suite's reference; cached)"
scripts/packer.sh
scripts/docker-plugin.sh >/dev/null   # the docker builder's own checks (plugin cases)
scripts/qemu-plugin.sh >/dev/null     # the qemu builder's own checks (plugin cases)

step "Kubernetes binaries (e2e/cluster/build.sh, cached): admission_policy.rs runs etcd and kube-apiserver"
e2e/cluster/build.sh >/dev/null

step "cargo test"
cargo test --workspace

# The docker builder and post-processors against Packer's plugin on a real dockerd (its own
# daemon, registry and base image, started and stopped by the script): about 15 s.
step "docker: Kiln against Packer + packer-plugin-docker on dockerd (scripts/docker-diff.sh)"
scripts/docker-diff.sh

# The qemu builder against packer-plugin-qemu, booting the small test guest under TCG with
# each tool: about 70 s.
step "qemu: Kiln against Packer + packer-plugin-qemu (scripts/qemu-diff.sh)"
scripts/qemu-diff.sh

# The bzip2 port against Go's own encoder (dsnet/compress, in the module cache packer.sh
# filled): 43 inputs at levels 1, 5 and 9, about 10 s.
step "kiln-gobzip2 against Go's dsnet/compress bzip2 writer"
operator/gobzip2/scripts/compare-with-go.sh

# The default set runs 20 rounds; 200 take over a minute on a loaded 2-core machine.
step "stress: fork/exec race of parallel shell-local steps, 200 runs"
cargo test -p kiln-engine --test fork_exec_race -- --ignored --nocapture

# Builds (once, cached by scripts/guests.sh) and boots the mmdebstrap Debian disk as a
# disk_image with a backing file: minutes cold, so not in the default set.
step "qemu: the Debian disk guest"
cargo test -p kiln-engine --test qemu_guest -- --ignored --nocapture

step "docs (mdBook + link check)"
scripts/docs.sh

step "end to end (cluster, image, helm, scenarios)"
scripts/e2e.sh

step "done"
echo "all tests passed"
