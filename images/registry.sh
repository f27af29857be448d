#!/usr/bin/env bash
# Build the e2e test peer image kiln.local/registry:e2e without Docker: Debian's
# `docker-registry` (the CNCF distribution registry) with its C library, as a reproducible OCI
# archive (packed by e2e/cluster/oci-image.sh). It serves plain HTTP on :5000, stores under
# /var/lib/registry and asks for basic auth from the htpasswd file /auth/htpasswd (the e2e
# scenario mounts it from a Secret). Only for the end-to-end tests.
#
# usage: images/registry.sh   -> prints the archive path, then the image reference
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/image"
name=kiln.local/registry:e2e
mkdir -p "$cache"
dpkg -s docker-registry >/dev/null 2>&1 || apt-get install -y -qq docker-registry >&2
key=$( { sha256sum "$0" /usr/bin/docker-registry "$repo/e2e/cluster/oci-image.sh"; } | sha256sum | cut -c1-16)
out="$cache/registry-e2e-$key.oci.tar"
if [[ ! -s "$out" ]]; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{usr/bin,etc/docker/registry,var/lib/registry,auth,tmp}
  chmod 1777 "$root/tmp"
  cp /usr/bin/docker-registry "$root/usr/bin/docker-registry"
  ldd /usr/bin/docker-registry | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' \
    | sort -u | while read -r lib; do
    [[ -n "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  cat > "$root/etc/docker/registry/config.yml" <<'CFG'
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
auth:
  htpasswd:
    realm: kiln-e2e
    path: /auth/htpasswd
CFG
  "$repo/e2e/cluster/oci-image.sh" "$name" "$root" "$out.tmp" \
    /usr/bin/docker-registry serve /etc/docker/registry/config.yml >/dev/null
  mv "$out.tmp" "$out"
fi
echo "$out"
echo "$name"
