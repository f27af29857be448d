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
# usage: scripts/bench-docker.sh            (builds the release `kiln` unless KILN_BIN is set)
# env:   KILN_BIN=path   the kiln binary to measure
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

suite=bookworm
cache=${KILN_CACHE:-$HOME/.cache/kiln}/images/bench/debian-$suite-minbase
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

work=$(mktemp -d /tmp/kiln-bench-docker.XXXXXX)
reg_pid=
cleanup() {
  local rc=$?
  if [[ -n $reg_pid ]]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
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
skopeo copy --quiet --dest-tls-verify=false "oci:$cache:12" "docker://$reg/bench/debian:12"
base=$reg/bench/debian:12
base_mib=$(du -sm "$cache/blobs" | cut -f1)

# (buildah is told to use runc: Debian 12's crun refuses hybrid cgroup hierarchies)
# the work, the same for both: install files, edit files, delete files, upload a file
python3 -c 'import sys; sys.stdout.buffer.write((b"kiln bench payload\n" * 1000000)[:16 << 20])' > "$work/payload.bin"
p1='mkdir -p /opt/app/lib && for i in $(seq 1 2000); do echo "file $i" > /opt/app/lib/f$i.txt; done && install -m 0755 /bin/true /usr/local/bin/app-true && install -d -m 0750 /var/lib/app'
p2='sed -i "s/^PRETTY_NAME=.*/PRETTY_NAME=\"Kiln bench\"/" /usr/lib/os-release && useradd -m -u 1001 app && echo "welcome to the bench image" > /etc/motd && chown -R app:app /opt/app'
p3='rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /var/cache/debconf/*-old'

mkdir -p "$work/kiln"
cat > "$work/kiln/bench.pkr.hcl" <<HCL
source "docker" "bench" {
  image  = "$base"
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
      tags       = ["kiln"]
    }
    post-processor "docker-push" {}
  }
}
HCL
mkdir -p "$work/buildah"
cp "$work/payload.bin" "$work/buildah/"
cat > "$work/buildah/Containerfile" <<DOCKERFILE
FROM $base
RUN $p1
RUN $p2
RUN $p3
COPY payload.bin /opt/payload.bin
DOCKERFILE

# one measured run: wall seconds and peak RSS (KiB) of the command, from GNU time
measure() { # name cmd...
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
    cat "$work/$name.log" >&2; echo "$name failed" >&2; exit 1; }
  cat "$work/$name.time"
}

kiln_run() { # round
  rm -rf "$work/kiln-store" "$work/kiln-scratch"; mkdir -p "$work/kiln-scratch"
  read -r secs kib < <(KILN_IMAGE_STORE=$work/kiln-store TMPDIR=$work/kiln-scratch \
    measure "kiln-$1" "$kiln" build -color=false "$work/kiln")
  digest=$(skopeo inspect --tls-verify=false "docker://$reg/bench/app:kiln" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
  [[ -n ${secs:-} ]] || exit 1
  echo "kiln $1 $secs $kib $digest"
}

buildah_run() { # round
  local root=$work/buildah-root run=$work/buildah-run
  rm -rf "$root" "$run"
  read -r secs kib < <(measure "buildah-$1" sh -c "
    buildah --root '$root' --runroot '$run' --storage-driver overlay build --quiet --runtime runc \
      --tls-verify=false --layers=false -t '$reg/bench/app:buildah' -f '$work/buildah/Containerfile' '$work/buildah' &&
    buildah --root '$root' --runroot '$run' --storage-driver overlay push --quiet \
      --tls-verify=false --digestfile '$work/buildah.digest' '$reg/bench/app:buildah'")
  [[ -n ${secs:-} ]] || exit 1
  buildah --root "$root" --runroot "$run" --storage-driver overlay rm --all >/dev/null 2>&1 || true
  umount -R "$root/overlay" 2>/dev/null || true
  rm -rf "$root" "$run"
  echo "buildah $1 $secs $kib $(cat "$work/buildah.digest")"
}

log "base $base ($base_mib MiB of blobs); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for round in 1 2; do
  r=$(kiln_run "$round") || { echo "the kiln build failed" >&2; exit 1; }
  results+=("$r")
  r=$(buildah_run "$round") || { echo "the buildah build failed" >&2; exit 1; }
  results+=("$r")
done
echo
printf '%-8s %-6s %10s %14s  %s\n' tool round "wall (s)" "peak RSS (MiB)" "pushed digest"
for r in "${results[@]}"; do
  read -r tool round secs kib digest <<<"$r"
  printf '%-8s %-6s %10s %14s  %s\n' "$tool" "$round" "$secs" "$((kib / 1024))" "$digest"
done
for tool in kiln buildah; do
  d1=$(printf '%s\n' "${results[@]}" | awk -v t=$tool '$1==t && $2==1 {print $5}')
  d2=$(printf '%s\n' "${results[@]}" | awk -v t=$tool '$1==t && $2==2 {print $5}')
  if [[ $d1 == "$d2" ]]; then echo "$tool: the rebuild gives the identical digest"; else echo "$tool: the rebuild gives another digest"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
