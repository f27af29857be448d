#!/usr/bin/env bash
# Import image archives into the e2e cluster's containerd, where kubelet sees
# them (namespace k8s.io). Nothing can be pulled in this environment, so every
# image a test pod uses must be imported this way first, and pods must use
# imagePullPolicy: IfNotPresent or Never (never Always, and beware that a
# `:latest` tag or no tag defaults the policy to Always).
#
# usage: import-image.sh IMAGE.tar [IMAGE.tar...]
#   Accepts OCI image-layout archives and `docker save` archives.
#   OCI archives must carry the image name in index.json: annotation
#   io.containerd.image.name=REF (what oci-image.sh writes; also what
#   `ctr images export` writes). An archive with only
#   org.opencontainers.image.ref.name=TAG can be imported with
#   KILN_IMAGE_BASE_NAME=registry.example/repo (=> registry.example/repo:TAG).
#
# Prints the names of the images now present.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0" >&2; exit 2; }
[[ -S "$CONTAINERD_SOCK" ]] || die "containerd socket $CONTAINERD_SOCK missing: run up.sh first"

args=(--platform linux/amd64)
[[ -n "${KILN_IMAGE_BASE_NAME:-}" ]] && args+=(--base-name "$KILN_IMAGE_BASE_NAME")
for tar in "$@"; do
  [[ -s "$tar" ]] || die "no such archive: $tar"
  ctrk images import "${args[@]}" "$tar" >&2
done
ctrk images ls -q | grep -v '^sha256:'
