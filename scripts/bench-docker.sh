#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Daemonless image builds side by side (issue 12, "Tests and figures"): the same build by
# Kiln's `docker` builder and by buildah (Debian's) from the equivalent Containerfile — a
# Debian base from a local docker-registry, three shell provisioners that install, edit and
# delete files, a file upload, commit (one new layer), tag, push. Each tool builds twice from
# an empty store (the pull is part of the build), in turns; the script reports wall time,
# peak RSS (GNU time's maximum resident set size) and the pushed digest of each run, and
# whether the rebuild's digest is the first one's. Needs root (runc, buildah's storage).
#
# The base image is made once with mmdebstrap (Debian bookworm, minbase; needs the Debian
# mirror) and cached as an OCI layout under ~/.cache/kiln/images/bench/.
#
# With BENCH_BIG_BASE=1 the same build also runs FROM a base of about 1 GiB (issue 12: peak
# RSS independent of image size): the Debian base plus one layer of incompressible files —
# one of 512 MiB, 16 of 16 MiB, 16 384 small ones of 1 to 31 KiB in 64 directories — made
# once (python3, umoci) and cached next to the Debian base, keyed by its version.
#
# usage: scripts/bench-docker.sh            (builds the release `kiln` unless KILN_BIN is set)
# env:   KILN_BIN=path   the kiln binary to measure
#        BENCH_BIG_BASE=1  also build FROM the 1 GiB base (after the Debian base's runs)
#        BENCH_ROUNDS=N  builds per tool and base (default 2: a build and its rebuild)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
log() { printf '[bench-docker %s] %s\n' "$(date +%T)" "$*" >&2; }
for b in docker-registry skopeo umoci runc buildah mmdebstrap /usr/bin/time; do
  command -v "$b" >/dev/null || { echo "$b is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "run as root (runc, buildah)" >&2; exit 1; }

kiln=${KILN_BIN:-}
if [[ -z $kiln ]]; then
  log "cargo build --release -p kiln"
  cargo build --release -p kiln >&2
  kiln=$CARGO_TARGET_DIR/release/kiln
fi

big=${BENCH_BIG_BASE:-0}
rounds=${BENCH_ROUNDS:-2}
suite=bookworm
images=${KILN_CACHE:-$HOME/.cache/kiln}/images/bench
cache=$images/debian-$suite-minbase
if [[ ! -f $cache/index.json ]]; then
  log "making the Debian base with mmdebstrap into $cache"
  tmp=$(mktemp -d)
  mmdebstrap --variant=minbase "$suite" "$tmp/rootfs.tar"
  umoci init --layout "$tmp/layout"
  umoci new --image "$tmp/layout:12"
  umoci raw add-layer --image "$tmp/layout:12" "$tmp/rootfs.tar"
  umoci config --image "$tmp/layout:12" --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  umoci gc --layout "$tmp/layout"
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache"
  mv "$tmp/layout" "$cache"
  rm -rf "$tmp"
fi

# The 1 GiB base: the Debian base plus one layer of incompressible files under /opt/big.
# The version names the recipe; change it when the recipe changes.
big_version=1
big_cache=$images/debian-$suite-minbase-big1g-v$big_version
if [[ $big == 1 && ! -f $big_cache/index.json ]]; then
  log "making the 1 GiB base into $big_cache (about 2 GiB of scratch space)"
  tmp=$(mktemp -d "$images/.big.XXXXXX")
  cp -a "$cache" "$tmp/layout"
  python3 - "$tmp/big.tar" <<'PY'
import os, sys, tarfile
class Random:  # incompressible content, read in pieces (no file of this size in memory)
    def __init__(self, n): self.left = n
    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)
def entry(name, size=0, kind=tarfile.REGTYPE, mode=0o644):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.mode, t.mtime, t.uid, t.gid = kind, size, mode, 946684800, 0, 0
    return t
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for d in ["opt/big", "opt/big/medium", "opt/big/small"]:
        tar.addfile(entry(d + "/", kind=tarfile.DIRTYPE, mode=0o755))
    tar.addfile(entry("opt/big/one-512m.bin", 512 << 20), Random(512 << 20))
    for i in range(16):
        tar.addfile(entry(f"opt/big/medium/m{i:02}.bin", 16 << 20), Random(16 << 20))
    for d in range(64):
        tar.addfile(entry(f"opt/big/small/d{d:02}/", kind=tarfile.DIRTYPE, mode=0o755))
        for f in range(256):
            n = (1 + (d * 256 + f) % 31) << 10
            tar.addfile(entry(f"opt/big/small/d{d:02}/f{f:03}.bin", n), Random(n))
PY
  umoci raw add-layer --image "$tmp/layout:12" "$tmp/big.tar"
  rm -f "$tmp/big.tar"
  umoci gc --layout "$tmp/layout"
  rm -rf "$big_cache"
  mv "$tmp/layout" "$big_cache"
  rm -rf "$tmp"
fi

work=$(mktemp -d /tmp/kiln-bench-docker.XXXXXX)
reg_pid=
cleanup() {
  local rc=$?
  if [[ -n $reg_pid ]]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
  umount -R "$work/buildah-root/overlay" 2>/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
# base label → image in the local registry, MiB of blobs
declare -A base_ref base_mib
bases=(debian)
skopeo copy --quiet --dest-tls-verify=false "oci:$cache:12" "docker://$reg/bench/debian:12"
base_ref[debian]=$reg/bench/debian:12
base_mib[debian]=$(du -sm "$cache/blobs" | cut -f1)
if [[ $big == 1 ]]; then
  bases+=(big)
  skopeo copy --quiet --dest-tls-verify=false "oci:$big_cache:12" "docker://$reg/bench/big:12"
  base_ref[big]=$reg/bench/big:12
  base_mib[big]=$(du -sm "$big_cache/blobs" | cut -f1)
fi

# (buildah is told to use runc: Debian 12's crun refuses hybrid cgroup hierarchies)
# the work, the same for both: install files, edit files, delete files, upload a file
python3 -c 'import sys; sys.stdout.buffer.write((b"kiln bench payload\n" * 1000000)[:16 << 20])' > "$work/payload.bin"
p1='mkdir -p /opt/app/lib && for i in $(seq 1 2000); do echo "file $i" > /opt/app/lib/f$i.txt; done && install -m 0755 /bin/true /usr/local/bin/app-true && install -d -m 0750 /var/lib/app'
p2='sed -i "s/^PRETTY_NAME=.*/PRETTY_NAME=\"Kiln bench\"/" /usr/lib/os-release && useradd -m -u 1001 app && echo "welcome to the bench image" > /etc/motd && chown -R app:app /opt/app'
p3='rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /var/cache/debconf/*-old'

for b in "${bases[@]}"; do
  mkdir -p "$work/kiln-$b" "$work/buildah-$b"
  cat > "$work/kiln-$b/bench.pkr.hcl" <<HCL
source "docker" "bench" {
  image  = "${base_ref[$b]}"
  commit = true
}
build {
  sources = ["docker.bench"]
  provisioner "shell" { inline = [<<-SH
    $p1
    SH
  ] }
  provisioner "shell" { inline = [<<-SH
    $p2
    SH
  ] }
  provisioner "shell" { inline = [<<-SH
    $p3
    SH
  ] }
  provisioner "file" {
    source      = "$work/payload.bin"
    destination = "/opt/payload.bin"
  }
  post-processors {
    post-processor "docker-tag" {
      repository = "$reg/bench/app"
      tags       = ["kiln-$b"]
    }
    post-processor "docker-push" {}
  }
}
HCL
  cp "$work/payload.bin" "$work/buildah-$b/"
  cat > "$work/buildah-$b/Containerfile" <<DOCKERFILE
FROM ${base_ref[$b]}
RUN $p1
RUN $p2
RUN $p3
COPY payload.bin /opt/payload.bin
DOCKERFILE
done

# one measured run: wall seconds and peak RSS (KiB) of the command, from GNU time
measure() { # name cmd...
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2; echo "$name failed" >&2; exit 1; }
  cat "$work/$name.time"
}

kiln_run() { # base round
  rm -rf "$work/kiln-store" "$work/kiln-scratch"; mkdir -p "$work/kiln-scratch"
  read -r secs kib < <(KILN_IMAGE_STORE=$work/kiln-store TMPDIR=$work/kiln-scratch \
    measure "kiln-$1-$2" "$kiln" build -color=false "$work/kiln-$1")
  digest=$(skopeo inspect --tls-verify=false "docker://$reg/bench/app:kiln-$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
  rm -rf "$work/kiln-store" "$work/kiln-scratch"
  [[ -n ${secs:-} ]] || exit 1
  echo "$1 kiln $2 $secs $kib $digest"
}

buildah_run() { # base round
  local root=$work/buildah-root run=$work/buildah-run
  rm -rf "$root" "$run"
  read -r secs kib < <(measure "buildah-$1-$2" sh -c "
    buildah --root '$root' --runroot '$run' --storage-driver overlay build --quiet --runtime runc \
      --tls-verify=false --layers=false -t '$reg/bench/app:buildah-$1' -f '$work/buildah-$1/Containerfile' '$work/buildah-$1' &&
    buildah --root '$root' --runroot '$run' --storage-driver overlay push --quiet \
      --tls-verify=false --digestfile '$work/buildah.digest' '$reg/bench/app:buildah-$1'")
  [[ -n ${secs:-} ]] || exit 1
  buildah --root "$root" --runroot "$run" --storage-driver overlay rm --all >/dev/null 2>&1 || true
  buildah --root "$root" --runroot "$run" --storage-driver overlay rmi --all --force >/dev/null 2>&1 || true
  umount -R "$root/overlay" 2>/dev/null || true
  rm -rf "$root" "$run"
  echo "$1 buildah $2 $secs $kib $(cat "$work/buildah.digest")"
}

for b in "${bases[@]}"; do log "base $b: ${base_ref[$b]} (${base_mib[$b]} MiB of blobs)"; done
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for b in "${bases[@]}"; do
  for round in $(seq "$rounds"); do
    log "base $b, round $round: kiln"
    r=$(kiln_run "$b" "$round") || { echo "the kiln build failed" >&2; exit 1; }
    results+=("$r")
    log "base $b, round $round: buildah"
    r=$(buildah_run "$b" "$round") || { echo "the buildah build failed" >&2; exit 1; }
    results+=("$r")
  done
done
echo
printf '%-7s %-8s %-6s %10s %14s  %s\n' base tool round "wall (s)" "peak RSS (MiB)" "pushed digest"
for r in "${results[@]}"; do
  read -r b tool round secs kib digest <<<"$r"
  printf '%-7s %-8s %-6s %10s %14s  %s\n' "$b" "$tool" "$round" "$secs" "$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')" "$digest"
done
for b in "${bases[@]}"; do
  for tool in kiln buildah; do
    n=$(printf '%s\n' "${results[@]}" | awk -v b="$b" -v t=$tool '$1==b && $2==t {print $6}' | sort -u | wc -l)
    if [[ $n == 1 ]]; then echo "$b, $tool: every rebuild gives the identical digest"; else echo "$b, $tool: $n different digests"; fi
  done
done
echo "base sizes: $(for b in "${bases[@]}"; do printf '%s %s MiB of blobs; ' "$b" "${base_mib[$b]}"; done)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
