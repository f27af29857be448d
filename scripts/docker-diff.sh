#!/usr/bin/env bash
# The docker builder and post-processors against Packer's, on a real Docker daemon: every
# case under operator/tests/docker-diff/cases/<name>/ (a `t.pkr.hcl`, or a legacy JSON
# `t.json` built by its name, optionally a
# `deviation` file saying why it must differ, a `setup.sh` run in the copy first to make
# what is not committed as text, such as archives) is built by Packer 1.16.0 with
# packer-plugin-docker v1.1.2 on Debian's dockerd and by Kiln (runc, no daemon), each in a
# fresh copy of the case directory, from an empty image store (dockerd's images removed,
# a new KILN_IMAGE_STORE); exit code, stdout, stderr and the names of the files written are
# compared after normalising what is run-specific (durations, ids and digests, temporary
# names, manifest sizes, the order of `Run command:`'s `-v` arguments (Go map order in the
# plugin), `docker pull`'s racy `Verifying Checksum` and `Download complete`
# lines (dockerd's progress broadcaster keeps only the latest status of a layer for a slow
# reader, so either may be skipped), the order of
# `docker login`'s four lines from two streams). Where Packer's
# output varies between runs (the docker CLI's two streams interleaved), a differing case is
# run through Packer up to three times more and agrees when one of them matches.
#
# It starts what it needs and stops it: its own dockerd (data under a temporary directory,
# `--iptables=false --bridge=none`, its own socket), a docker-registry on a free loopback
# port holding a busybox base image (made with umoci from Debian's static busybox, pushed
# with skopeo as `<registry>/busybox:latest`; and `noshell:latest`, without a shell), and a second one that wants a login (user
# `kiln`, password `secret`) holding the same base. Cases name them `REGISTRY` and
# `AUTH_REGISTRY`, which the script replaces (and `HTTP_SERVER`, a static HTTP server's
# address); `docker login` writes to a DOCKER_CONFIG of the
# run's own, emptied before each build. Needs root.
#
# usage: scripts/docker-diff.sh [substring]   (only the cases whose name contains it)
# env:   KILN_BIN=path (default: the debug build in $CARGO_TARGET_DIR), DOCKER_DIFF_KEEP=1
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=scripts/diff-verdict.sh
source scripts/diff-verdict.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
filter=${1:-}
for b in dockerd docker-registry skopeo umoci runc python3; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "$b is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "run as root (dockerd, runc)" >&2; exit 1; }
packer=$(scripts/packer.sh | tail -n 1)
plugin=$(scripts/docker-plugin.sh)
kiln=${KILN_BIN:-$CARGO_TARGET_DIR/debug/kiln}
[[ -x $kiln ]] || cargo build -q -p kiln
# Debian's docker CLI (another one earlier in PATH may not speak to dockerd 20.10)
docker=/usr/bin/docker

work=$(mktemp -d /tmp/kiln-docker-diff.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    # the process group, with Python's killpg (never procps kill on a group)
    python3 -c 'import os,signal,sys
try: os.killpg(int(sys.argv[1]), signal.SIGTERM)
except ProcessLookupError: pass' "$p" || true
  done
  sleep 1
  if [[ ${DOCKER_DIFF_KEEP:-0} != 1 ]]; then
    umount -R "$work/docker/data" 2>/dev/null || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# dockerd, on its own socket and data directory
mkdir -p "$work/docker"
export DOCKER_HOST="unix://$work/docker/docker.sock"
setsid dockerd --iptables=false --bridge=none --storage-driver=overlay2 \
  --data-root "$work/docker/data" --exec-root "$work/docker/exec" \
  --pidfile "$work/docker/docker.pid" -H "$DOCKER_HOST" >"$work/docker/log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do "$docker" info >/dev/null 2>&1 && break; sleep 0.2; done
"$docker" info >/dev/null 2>&1 || { cat "$work/docker/log" >&2; echo "dockerd did not start" >&2; exit 1; }

# the registry and the base image
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
registry="localhost:$port"
cat >"$work/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
setsid docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do curl -sf "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
# a second registry that wants a login (htpasswd: kiln / secret), with the same base
aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
auth_registry="localhost:$aport"
python3 -W ignore -c 'import crypt; print("kiln:" + crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
  >"$work/htpasswd"
cat >"$work/auth-registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/auth-registry
http:
  addr: 127.0.0.1:$aport
auth:
  htpasswd:
    realm: kiln-docker-diff
    path: $work/htpasswd
EOF
setsid docker-registry serve "$work/auth-registry.yml" >"$work/auth-registry.log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$auth_registry/v2/") == 401 ]] && break; sleep 0.1
done
# a static HTTP server for ADD <url> (cases name it HTTP_SERVER): a text file and a tar.gz
# (not extracted when downloaded), both last modified in 1995 (Kiln clamps times after its
# SOURCE_DATE_EPOCH, 2000-01-01 by default)
mkdir -p "$work/http/dir"
printf 'served over HTTP\n' >"$work/http/hello.txt"
printf 'in a directory\n' >"$work/http/dir/a.txt"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$work/http" -czf "$work/http/payload.tar.gz" hello.txt
touch -d @800000000 "$work/http/hello.txt" "$work/http/payload.tar.gz" "$work/http/dir/a.txt"
hport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http_server="http://127.0.0.1:$hport"
setsid python3 -m http.server --bind 127.0.0.1 --directory "$work/http" "$hport" >"$work/http.log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do curl -sf "$http_server/hello.txt" >/dev/null 2>&1 && break; sleep 0.1; done
base="$work/base"
mkdir -p "$base/rootfs/bin" "$base/rootfs/tmp" "$base/rootfs/etc"
cp /bin/busybox "$base/rootfs/bin/"
for a in sh ls cat echo mkdir rm touch chmod chown stat uname id sleep env cp mv test wc cut head grep; do
  ln -s busybox "$base/rootfs/bin/$a"
done
chmod 1777 "$base/rootfs/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$base/rootfs/etc/passwd"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$base/rootfs" -cf "$base/rootfs.tar" .
umoci init --layout "$base/layout"
umoci new --image "$base/layout:latest"
umoci raw add-layer --image "$base/layout:latest" "$base/rootfs.tar"
umoci config --image "$base/layout:latest" --config.cmd sh --config.env PATH=/bin
skopeo copy -q --dest-tls-verify=false "oci:$base/layout:latest" "docker://$registry/busybox:latest"
# an image without a shell (`REGISTRY/noshell:latest`): docker run's entrypoint cannot start,
# `docker exec`'s /bin/sh neither (busybox is there, under its own name only)
mkdir -p "$base/noshell/etc" "$base/noshell/bin" "$base/noshell/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$base/noshell/etc/passwd"
cp /bin/busybox "$base/noshell/bin/"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$base/noshell" -cf "$base/noshell.tar" .
umoci new --image "$base/layout:noshell"
umoci raw add-layer --image "$base/layout:noshell" "$base/noshell.tar"
skopeo copy -q --dest-tls-verify=false "oci:$base/layout:noshell" "docker://$registry/noshell:latest"
# the login registry's base differs by one file: no layer of it is one dockerd has seen in
# the other registry (dockerd remembers where it saw a layer, across cases, and mounts it
# from there when it can)
echo auth >"$base/rootfs/etc/auth-base"
tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$base/rootfs" -cf "$base/auth-rootfs.tar" .
umoci new --image "$base/layout:auth"
umoci raw add-layer --image "$base/layout:auth" "$base/auth-rootfs.tar"
umoci config --image "$base/layout:auth" --config.cmd sh --config.env PATH=/bin
skopeo copy -q --dest-tls-verify=false --dest-creds kiln:secret "oci:$base/layout:auth" \
  "docker://$auth_registry/busybox:latest"
# docker login writes its credentials here (for both tools, never ~/.docker)
export DOCKER_CONFIG="$work/docker-config"

# Packer's plugin, installed where this run's Packer looks
export PACKER_PLUGIN_PATH="$work/plugins" PACKER_CONFIG_DIR="$work/packer-config"
mkdir -p "$PACKER_PLUGIN_PATH" "$PACKER_CONFIG_DIR"
"$packer" plugins install --path "$plugin" github.com/hashicorp/docker >/dev/null

normalise() {
  sed -E \
    -e 's/after [0-9][^:]*(seconds?|milliseconds?|microseconds?|nanoseconds?)/after <DURATION>/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<UUID>/g' \
    -e 's/sha256:[0-9a-f]{64}/sha256:<HEX>/g' \
    -e 's/[0-9a-f]{64}/<HEX64>/g' \
    -e 's/(: |^)[0-9a-f]{12}: /\1<ID12>: /' \
    -e 's/ size: [0-9]+$/ size: <N>/' \
    -e 's/"build_time": [0-9]+/"build_time": <TIME>/' \
    -e 's/packer-shell[0-9]+/packer-shell<N>/g; s/pkr-file-content[0-9]+/pkr-file-content<N>/g' \
    -e 's/packer-(user-)?sbom-[0-9]+/packer-\1sbom-<N>/g' \
    -e 's#\.packer\.d/tmp[0-9]+#.packer.d/tmp<N>#g' \
    -e '/: Verifying Checksum$/d; /: Download complete$/d' |
    # `docker login`'s warning (stderr) and `Login Succeeded` (stdout) reach the plugin's
    # two stream readers at once and interleave at random: put each run of them in the
    # order the CLI writes them
    python3 -c '
import re, sys
rank = [r"WARNING! Your password", r"Configure a credential helper", r"https://docs.docker.com/engine/reference/commandline/login/", r"Login Succeeded$"]
def key(line):
    return next((i for i, r in enumerate(rank) if re.search(r, line)), None)
# the plugin puts container_dir into the volumes map and writes them in Go map order
# (random from run to run): the `-v` arguments of a `Run command:` line in sorted order
def volumes_sorted(line):
    if "Run command: docker run " not in line:
        return line
    vs = re.findall(r" -v \S+", line)
    if len(vs) < 2:
        return line
    it = iter(sorted(vs))
    return re.sub(r" -v \S+", lambda m: next(it), line)
run = []
for line in sys.stdin:
    line = volumes_sorted(line)
    if key(line) is not None:
        run.append(line)
        continue
    sys.stdout.writelines(sorted(run, key=key)); run = []
    sys.stdout.write(line)
sys.stdout.writelines(sorted(run, key=key))
'
}

run() { # tool dir -> outputs in $work/run/$tool.out
  local tool=$1 dir=$2 bin
  local out=$work/run/$tool
  # the registry as the script made it: only the base images (pushes start afresh)
  for r in registry auth-registry; do
    find "$work/$r/docker/registry/v2/repositories" -mindepth 1 -maxdepth 1 \
      ! -name busybox ! -name noshell -exec rm -rf {} +
  done
  rm -rf "$DOCKER_CONFIG"
  if [[ $tool == packer ]]; then
    bin=$packer
    # (containers first: a failed `docker build` leaves its intermediate container, which
    # would keep the base image's layers)
    # shellcheck disable=SC2046
    "$docker" rm -f $("$docker" ps -aq) >/dev/null 2>&1 || true
    # shellcheck disable=SC2046
    "$docker" rmi -f $("$docker" images -aq) >/dev/null 2>&1 || true
  else
    bin=$kiln
    rm -rf "$work/kiln-store"
  fi
  # a legacy JSON template (`t.json`) is built by its name, an HCL2 one as the directory
  local target=.
  [[ -f $dir/t.json ]] && target=t.json
  touch "$dir/.start"
  (cd "$dir" && KILN_IMAGE_STORE="$work/kiln-store" PACKER_NO_COLOR=1 CHECKPOINT_DISABLE=1 \
    PATH="/usr/bin:$PATH" timeout 300 "$bin" build -color=false "$target" >"$out.stdout" 2>"$out.stderr"
    echo "exit $?" >>"$out.stdout"
    find . -type f -newer .start ! -name .start | sort >"$out.files") || true
  { normalise <"$out.stdout"; echo "--- stderr"; normalise <"$out.stderr"; echo "--- files"; cat "$out.files"; } >"$out.out"
}

total=0 agree=0 deviations=0 failed=()
for case in operator/tests/docker-diff/cases/*/; do
  name=$(basename "$case")
  [[ -z $filter || $name == *"$filter"* ]] || continue
  total=$((total + 1))
  # both in the same directory (absolute paths in the output agree), a fresh copy each
  fresh() {
    rm -rf "$work/run/case"
    mkdir -p "$work/run/case"
    cp -r "$case". "$work/run/case/"
    rm -f "$work/run/case/deviation"
    for t in "$work"/run/case/t.pkr.hcl "$work"/run/case/t.json; do
      [[ -f $t ]] || continue
      sed -i "s#AUTH_REGISTRY#$auth_registry#g; s#REGISTRY#$registry#g; s#HTTP_SERVER#$http_server#g" "$t"
    done
    # a case's setup.sh makes what cannot be committed as text (archives), then goes
    if [[ -f $work/run/case/setup.sh ]]; then
      (cd "$work/run/case" && bash setup.sh && rm setup.sh)
    fi
  }
  for tool in packer kiln; do
    fresh
    run "$tool" "$work/run/case"
  done
  # Packer's own output can vary (the docker CLI's stdout and stderr lines, which the
  # plugin streams from two goroutines, interleave as they come): a case whose outcome
  # differs is run through Packer up to three times more, and agrees if one run matches.
  if [[ ! -f $case/deviation ]]; then
    for _ in 1 2 3; do
      cmp -s "$work/run/packer.out" "$work/run/kiln.out" && break
      fresh
      run packer "$work/run/case"
    done
  fi
  verdict "$name" "$case" "$work/run/packer.out" "$work/run/kiln.out" "$work/run/diff"
done
summary docker-diff "$total"
