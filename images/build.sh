#!/usr/bin/env bash
# Build the Kiln container image without Docker: the release `kiln` binary on a
# minimal root filesystem (busybox-static from Debian as /bin/sh), packed as a reproducible
# single-layer OCI archive. The binary is linked statically (glibc, `crt-static`): the
# operator injects it into builders' base images (the docker builder's kaniko pattern), which
# may have another C library or none.
#
# usage: images/build.sh            -> prints the archive path, the image reference and the
#                                      static binary's path (three lines)
#
# The image:
#   ENTRYPOINT ["/usr/local/bin/kiln"], CMD ["version"]  (a Pod's `args` are kiln's args:
#   the operator runs `args: [operator]`, build pods `args: [runner]`)
#   USER 65532:65532 (non-root; the uid runner pods run as), WORKDIR /work, HOME=/tmp
#   works with a read-only root filesystem (writes go to /tmp and /work volumes)
#
# Inputs and caching (everything under ${KILN_CACHE:-~/.cache/kiln}/image):
#   The source is `git archive HEAD` of the workspace (committed code only, so the
#   tag means something), unpacked into a fixed directory so cargo rebuilds
#   incrementally. The binary is cached by the git tree hashes of what it is built
#   from (Cargo.toml, Cargo.lock, crds/, operator/) + rustc version; the archive by
#   the binary's sha256 + this script + busybox version. A second run with the
#   same inputs does no work (< 1 s).
#
# env:
#   KILN_IMAGE_NAME   repository, default kiln.local/kiln
#   KILN_IMAGE_TAG    tag, default dev-<short sha of HEAD> (never `latest`)
#   KILN_IMAGE_SRC    `head` (default) or `worktree` (build the working tree as is;
#                     the tag gets a -dirty suffix)
#   CARGO_TARGET_DIR  default ~/.cache/kiln/target
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache="${KILN_CACHE:-$HOME/.cache/kiln}/image"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
name="${KILN_IMAGE_NAME:-kiln.local/kiln}"
src_mode="${KILN_IMAGE_SRC:-head}"
mkdir -p "$cache"
# shellcheck source=lib.sh
source "$repo/images/lib.sh"

log() { printf '[images/build %s] %s\n' "$(date +%T)" "$*" >&2; }
t0=$(date +%s.%N)
elapsed() { printf '%.1f s' "$(echo "$(date +%s.%N) - $1" | bc)"; }

short=$(git -C "$repo" rev-parse --short=12 HEAD)
if [[ "$src_mode" == worktree ]]; then
  tag="${KILN_IMAGE_TAG:-dev-$short-dirty}"
  src="$repo"
  # The working tree has no tree hash; key by the content of the inputs.
  key=$(cd "$repo" && { git ls-files -co --exclude-standard Cargo.toml Cargo.lock crds operator \
    | LC_ALL=C sort | xargs -d '\n' sha256sum; } | sha256sum | cut -c1-16)
else
  tag="${KILN_IMAGE_TAG:-dev-$short}"
  key=$(git -C "$repo" rev-parse HEAD:Cargo.toml HEAD:Cargo.lock HEAD:crds HEAD:operator \
    | sha256sum | cut -c1-16)
fi
[[ "$tag" != latest ]] || { echo "refusing the tag 'latest' (kubelet would always pull)" >&2; exit 2; }
rustc_v="$(rustc --version) crt-static"
key=$(printf '%s %s' "$key" "$rustc_v" | sha256sum | cut -c1-16)
bin="$cache/bin/kiln-$key"

# --- 1. the release binary -----------------------------------------------------------
if [[ -x "$bin" ]]; then
  log "binary cached ($bin)"
else
  if [[ "$src_mode" != worktree ]]; then
    src="$cache/src"
    log "exporting HEAD ($short) to $src"
    # Keep the directory (and its mtimes where content is unchanged) so cargo's
    # fingerprints survive: unpack to a staging dir, rsync by checksum.
    stage=$(mktemp -d)
    git -C "$repo" archive --format=tar HEAD Cargo.toml Cargo.lock crds operator \
      | tar -C "$stage" -xf -
    # The workspace names members that are not needed for the binary (e2e, fuzz):
    # keep only the ones that exist in the archive.
    python3 - "$stage/Cargo.toml" <<'PY'
import re, sys, os
p = sys.argv[1]; d = os.path.dirname(p)
s = open(p).read()
m = re.search(r'members\s*=\s*\[(.*?)\]', s, re.S)
members = [x for x in re.findall(r'"([^"]+)"', m.group(1)) if os.path.isdir(os.path.join(d, x))]
s = s[:m.start()] + 'members = [' + ', '.join(f'"{x}"' for x in members) + ']' + s[m.end():]
open(p, 'w').write(s)
PY
    mkdir -p "$src"
    # Copy only files whose content changed (cargo fingerprints by mtime); delete the rest.
    python3 - "$stage" "$src" <<'PY'
import filecmp, os, shutil, sys
stage, src = sys.argv[1], sys.argv[2]
want = set()
for d, _, files in os.walk(stage):
    for f in files:
        rel = os.path.relpath(os.path.join(d, f), stage); want.add(rel)
        dst = os.path.join(src, rel)
        if not (os.path.isfile(dst) and filecmp.cmp(os.path.join(stage, rel), dst, shallow=False)):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(stage, rel), dst)
for d, _, files in os.walk(src):
    for f in files:
        rel = os.path.relpath(os.path.join(d, f), src)
        if rel not in want: os.remove(os.path.join(src, rel))
PY
    rm -rf "$stage"
  fi
  # --locked when the committed Cargo.lock is complete (the reproducible case); otherwise
  # say so and let cargo complete it in the export (never in the clone).
  locked=(--locked)
  if ! (cd "$src" && cargo metadata --locked --format-version 1 >/dev/null 2>&1); then
    log "WARNING: the committed Cargo.lock is not up to date with the manifests; building without --locked"
    locked=()
  fi
  log "cargo build --release -p kiln ${locked[*]} (in $src)"
  tb=$(date +%s.%N)
  # --target keeps RUSTFLAGS off build scripts and proc macros (which cannot be static).
  (cd "$src" && CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
    nice -n 5 cargo build --release -p kiln --bin kiln --target x86_64-unknown-linux-gnu "${locked[@]}")
  log "cargo build took $(elapsed "$tb")"
  mkdir -p "$cache/bin"
  static="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/kiln"
  if readelf -d "$static" | grep -q "(NEEDED)"; then echo "$static is not statically linked" >&2; exit 1; fi
  cp "$static" "$bin.tmp"
  strip "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

# --- 2. the root filesystem and the archive ---------------------------------------------
busybox=/bin/busybox
[[ -x "$busybox" ]] && "$busybox" --help 2>&1 | head -1 | grep -q static || busybox=""
if [[ -z "$busybox" ]]; then
  dpkg -s busybox-static >/dev/null 2>&1 || apt-get install -y -qq busybox-static >&2
  busybox=/bin/busybox
fi
bb_version=$(dpkg-query -W -f='${Version}' busybox-static)
bin_sum=$(sha256sum "$bin" | cut -d' ' -f1)
self_sum=$(cat "$0" "$repo/images/lib.sh" | sha256sum | cut -d' ' -f1)
akey=$(printf '%s %s %s %s:%s' "$bin_sum" "$self_sum" "$bb_version" "$name" "$tag" | sha256sum | cut -c1-16)
out="$cache/kiln-$tag-$akey.oci.tar"
if [[ -s "$out" ]]; then
  log "archive cached"
else
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  kiln_rootfs "$root" "$bin" "$busybox"
  version=$("$bin" version | head -1)
  man_digest=$(oci_pack "$root" "$out" "$name" "$tag" "$version" "$(git -C "$repo" rev-parse HEAD)")
  log "archive: $(du -h "$out" | cut -f1), manifest $man_digest"
fi
ln -sf "$(basename "$out")" "$cache/kiln-current.oci.tar"
# Keep the 5 newest archives and binaries (one per commit/input set otherwise piles up).
find "$cache" -maxdepth 1 -name 'kiln-*.oci.tar' -type f -printf '%T@ %p\n' | sort -rn | tail -n +6 \
  | cut -d' ' -f2- | xargs -r rm -f
find "$cache/bin" -maxdepth 1 -name 'kiln-*' -type f -printf '%T@ %p\n' | sort -rn | tail -n +6 \
  | cut -d' ' -f2- | xargs -r rm -f
printf '%s:%s\n' "$name" "$tag" > "$cache/kiln-current.ref"
log "done in $(elapsed "$t0"): $name:$tag"
echo "$out"
echo "$name:$tag"
echo "$bin"   # the static binary (images/qemu.sh puts it into the qemu runner image)
