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
# Short names are stored under their Docker-normalised form (kiln:dev ->
# docker.io/library/kiln:dev), which is what kubelet asks containerd for.
# Prints the names of the images now present.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0" >&2; exit 2; }
[[ -S "$CONTAINERD_SOCK" ]] || die "containerd socket $CONTAINERD_SOCK missing: run up.sh first"

# normalize REF: the Docker-style normalisation that kubelet/CRI apply to a
# pod's `image:` (busybox:1 -> docker.io/library/busybox:1, me/x -> docker.io/me/x).
# `ctr images import` stores OCI names verbatim, and CRI cannot find an image
# stored under a short name, so short names are re-tagged to the full one.
normalize() {
  local ref=$1 first=${1%%/*}
  if [[ "$ref" != */* ]]; then
    ref="docker.io/library/$ref"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
    ref="docker.io/$ref"
  fi
  [[ "${ref##*/}" == *[:@]* ]] || ref="$ref:latest"
  echo "$ref"
}

args=(--platform linux/amd64)
[[ -n "${KILN_IMAGE_BASE_NAME:-}" ]] && args+=(--base-name "$KILN_IMAGE_BASE_NAME")
for tar in "$@"; do
  [[ -s "$tar" ]] || die "no such archive: $tar"
  out=$(ctrk images import "${args[@]}" "$tar" 2>&1) || { echo "$out" >&2; die "import of $tar failed"; }
  echo "$out" >&2
  # ctr prints "unpacking NAME (sha256:...)...done" per image.
  for name in $(awk '$1 == "unpacking" {print $2}' <<<"$out"); do
    full=$(normalize "$name")
    if [[ "$full" != "$name" ]]; then
      ctrk images tag --force "$name" "$full" >/dev/null
      ctrk images rm "$name" >/dev/null
      log "imported $name as $full (the name kubelet looks up)"
    fi
  done
done
ctrk images ls -q | grep -v '^sha256:'
