#!/usr/bin/env bash
# Bring up (or finish bringing up) the single-node Kiln e2e cluster.
#
# Idempotent: every step checks what already exists / runs and only does the
# missing part, so running it twice is harmless and re-running after a
# component died restarts just that component.
#
# Components (all plain background processes, no systemd; pids in
# $STATE/run, logs in $STATE/logs):
#   etcd -> kube-apiserver -> kube-controller-manager, kube-scheduler
#   containerd (private instance, own socket) -> pause image import
#   kubelet -> kube-proxy (iptables mode) ; CNI: bridge + host-local
#
# Needs root and the binaries from build.sh (run it first; up.sh does not
# build). Env knobs: KILN_E2E_STATE (default /var/lib/kiln-e2e), KILN_CACHE,
# KILN_E2E_NODE_NAME, KILN_E2E_NODE_IP (default: source IP of default route).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || die "must run as root"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  [[ -x "$BIN_DIR/$b" ]] || die "$BIN_DIR/$b missing: run e2e/cluster/build.sh first"
done
for c in containerd containerd-shim-runc-v2 runc ctr iptables openssl gcc; do
  command -v "$c" >/dev/null || die "$c missing: run e2e/cluster/build.sh first (installs Debian packages)"
done

# The kubelet evicts pods and refuses to schedule when its filesystem is nearly full
# (evictionHard below, 1%): a node under disk pressure leaves every pod Pending, which shows
# later as a timeout. Say it now, with the numbers.
mkdir -p "$STATE"
avail_kb=$(df -Pk "$STATE" | awk 'NR==2 {print $4}')
size_kb=$(df -Pk "$STATE" | awk 'NR==2 {print $2}')
need_kb=$(( size_kb / 50 > 4194304 ? size_kb / 50 : 4194304 ))
(( avail_kb >= need_kb )) ||
  die "only $(( avail_kb / 1048576 )) GiB free on the filesystem of $STATE (need $(( need_kb / 1048576 )) GiB: 2% or 4 GiB); the kubelet would taint the node with disk pressure. Free space first (a cargo target directory's incremental/ is safe to delete)"

T_UP=$(date +%s.%N)
NODE_IP="${KILN_E2E_NODE_IP:-$(node_ip)}"
[[ -n "$NODE_IP" ]] || die "cannot determine node IP (set KILN_E2E_NODE_IP)"
mkdir -p "$STATE" "$LOG_DIR" "$RUN_DIR" "$PKI" "$STATE/config" "$STATE/images"
chmod 0700 "$STATE"
log "state dir $STATE, node $NODE_NAME ($NODE_IP), binaries $BIN_DIR"

# ------------------------------------------------------------- helpers
# is_running NAME: pid file exists and the process is alive.
is_running() {
  local pid
  pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# start_proc NAME CMD ARGS...: start CMD in its own session unless it is
# already running with the same command line and config. The fingerprint is
# the command line plus the contents of the files named in $PROC_CONFIG, so
# re-running up.sh after an edit restarts exactly the changed components.
stop_proc() {
  local name=$1 pid i
  pid=$(cat "$RUN_DIR/$name.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN_DIR/$name.pid"
}
start_proc() {
  local name=$1; shift
  local fp f
  fp=$( { printf '%s\n' "$@"; for f in ${PROC_CONFIG:-}; do cat "$f"; done; } | sha256sum | cut -d' ' -f1)
  if is_running "$name"; then
    if [[ "$(cat "$RUN_DIR/$name.fp" 2>/dev/null)" == "$fp" ]]; then
      log "$name: already running (pid $(cat "$RUN_DIR/$name.pid"))"
      return 0
    fi
    log "$name: command line or config changed, restarting"
    stop_proc "$name"
  fi
  printf '\n===== %s start %s\n%s\n' "$name" "$(date -Is)" "$*" >> "$LOG_DIR/$name.log"
  setsid "$@" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
  echo "$fp" > "$RUN_DIR/$name.fp"
  log "$name: started (pid $!), log $LOG_DIR/$name.log"
}

# wait_for NAME TIMEOUT_S CMD...: poll CMD until it succeeds.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if [[ -f "$RUN_DIR/$name.pid" ]] && ! is_running "$name"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited; see $LOG_DIR/$name.log"
    fi
    if (( $(date +%s) >= deadline )); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name not ready after ${timeout}s; see $LOG_DIR/$name.log"
    fi
    sleep 0.5
  done
}

# write_file PATH: write stdin to PATH only if the content differs, so that
# unchanged configs keep their mtime (kube-proxy exits when its config file
# is rewritten, and start_proc fingerprints configs).
write_file() {
  local tmp="$1.tmp.$$"
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; fi
}

# curl with the cluster CA and admin client cert.
kcurl() {
  curl -sf --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"
}

# ------------------------------------------------------------- host checks
# Detect the cgroup layout: v2 (unified), hybrid (v1 controllers + a cgroup2
# mount at /sys/fs/cgroup/unified) or legacy v1. kubelet treats hybrid as v1.
detect_cgroups() {
  local fs; fs=$(stat -fc %T /sys/fs/cgroup)
  if [[ $fs == cgroup2fs ]]; then
    CGROUP_MODE=v2
  elif [[ $fs == tmpfs ]]; then
    if [[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs ]]; then
      CGROUP_MODE=hybrid
    else
      CGROUP_MODE=v1
    fi
  else
    die "unrecognised /sys/fs/cgroup filesystem '$fs'"
  fi
  if [[ $CGROUP_MODE == v2 ]]; then
    # kubelet's cgroupfs driver needs these controllers delegated from the root.
    local c
    for c in cpu cpuset memory pids io hugetlb; do
      grep -qw "$c" /sys/fs/cgroup/cgroup.controllers &&
        { echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true; }
    done
    for c in cpu memory pids; do
      grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || die "cgroup v2 controller $c not enabled at the root"
    done
  else
    # v1/hybrid: kubelet requires these hierarchies to be mounted.
    local c
    for c in cpu cpuacct cpuset memory pids; do
      grep -qE "^[^ ]+ [^ ]+ cgroup [^ ]*\b$c\b" /proc/mounts || die "cgroup v1 controller $c not mounted"
    done
  fi
  log "cgroups: $CGROUP_MODE (kubelet cgroupDriver=cgroupfs)"
}

# kubelet/kube-proxy/CNI change a few sysctls; remember the originals once
# so down.sh can put them back.
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables)
save_sysctls() {
  [[ -f "$STATE/sysctl.orig" ]] && return 0
  local k
  for k in "${SYSCTLS[@]}"; do
    sysctl -n "$k" >/dev/null 2>&1 && echo "$k=$(sysctl -n "$k")"
  done > "$STATE/sysctl.orig.tmp"
  mv "$STATE/sysctl.orig.tmp" "$STATE/sysctl.orig"
}

host_prep() {
  detect_cgroups
  save_sysctls
  # Bridged pod->service->pod traffic must traverse iptables (kube-proxy).
  modprobe br_netfilter 2>/dev/null || true
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  else
    log "WARN: br_netfilter unavailable: pod->Service->pod on the same bridge may fail"
  fi
  sysctl -qw net.ipv4.ip_forward=1
  # Make sure no swap-related or apparmor surprises: nothing to do, failSwapOn=false.
}

# ------------------------------------------------------------- PKI
# sign NAME CN O EXT: key + cert signed by the cluster CA (ECDSA P-256).
# EXT is an openssl extension snippet (SANs, EKUs).
sign() {
  local name=$1 cn=$2 o=$3 ext=$4 subj="/CN=$2"
  [[ -n "$o" ]] && subj="/O=$o/CN=$cn"
  [[ -s "$PKI/$name.key" ]] || openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}

gen_pki() {
  umask 077
  if [[ ! -s "$PKI/ca.crt" ]]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kiln-e2e-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$PKI/ca.crt" 2>/dev/null
    rm -f "$PKI"/*.crt.ok   # force every leaf to be re-signed by the new CA
  fi
  # Service-account token signing keypair.
  if [[ ! -s "$PKI/sa.key" ]]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  # Serving certs depend on the node IP/name: re-sign them when either changes.
  local id="$NODE_NAME $NODE_IP"
  local client="extendedKeyUsage=clientAuth"
  local -A certs=(
    [apiserver]="kube-apiserver||extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:$NODE_NAME,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    [kubelet-server]="$NODE_NAME||extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,DNS:localhost,DNS:$NODE_NAME"
    [admin]="kubernetes-admin|system:masters|$client"
    [apiserver-kubelet-client]="kube-apiserver-kubelet-client|system:masters|$client"
    [controller-manager]="system:kube-controller-manager||$client"
    [scheduler]="system:kube-scheduler||$client"
    [kubelet]="system:node:$NODE_NAME|system:nodes|$client"
    [kube-proxy]="system:kube-proxy||$client"
  )
  local name spec cn o ext
  for name in "${!certs[@]}"; do
    if [[ -s "$PKI/$name.crt" && "$(cat "$PKI/$name.crt.ok" 2>/dev/null)" == "$id" ]]; then continue; fi
    spec=${certs[$name]}
    cn=${spec%%|*}; spec=${spec#*|}; o=${spec%%|*}; ext=${spec#*|}
    sign "$name" "$cn" "$o" "$ext"
    echo "$id" > "$PKI/$name.crt.ok"
  done
  umask 022
}

# write_kubeconfig FILE CERT_NAME: kubeconfig with embedded certs.
write_kubeconfig() {
  local file=$1 name=$2 server=${3:-https://127.0.0.1:6443}
  umask 077
  write_file "$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kiln-e2e
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$name.crt")
    client-key-data: $(base64 -w0 < "$PKI/$name.key")
contexts:
- name: kiln-e2e
  context:
    cluster: kiln-e2e
    user: $name
current-context: kiln-e2e
EOF
  umask 022
}

gen_kubeconfigs() {
  write_kubeconfig "$ADMIN_KUBECONFIG" admin
  local n
  for n in controller-manager scheduler kubelet kube-proxy; do
    write_kubeconfig "$STATE/config/$n.kubeconfig" "$n"
  done
}

# ------------------------------------------------------------- control plane
start_etcd() {
  mkdir -p "$STATE/etcd"; chmod 0700 "$STATE/etcd"
  # --unsafe-no-fsync: test cluster, speed over durability (envtest does too).
  start_proc etcd "$BIN_DIR/etcd" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" \
    --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
  wait_for etcd 60 curl -sf --max-time 2 http://127.0.0.1:2381/health
}

start_apiserver() {
  start_proc kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 120 kcurl https://127.0.0.1:6443/readyz
}

start_controllers() {
  local cm="$STATE/config/controller-manager.kubeconfig" sch="$STATE/config/scheduler.kubeconfig"
  start_proc kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$cm" --authentication-kubeconfig="$cm" --authorization-kubeconfig="$cm" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false --v=1
  start_proc kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig="$sch" --authentication-kubeconfig="$sch" --authorization-kubeconfig="$sch" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
  wait_for kube-controller-manager 60 curl -skf --max-time 2 https://127.0.0.1:10257/healthz
  wait_for kube-scheduler 60 curl -skf --max-time 2 https://127.0.0.1:10259/healthz
}

# ------------------------------------------------------------- node
write_cni_config() {
  mkdir -p "$CNI_CONF_DIR" "$STATE/cni/ipam"
  write_file "$CNI_CONF_DIR/10-kiln-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kiln-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

start_containerd() {
  mkdir -p "$CONTAINERD_ROOT" "$CONTAINERD_STATE" "$(dirname "$CONTAINERD_SOCK")"
  # Private instance: own root/state/socket; cgroupfs (SystemdCgroup=false),
  # runc state under /run/kiln-e2e, locally built sandbox image, our CNI dir.
  write_file "$STATE/config/containerd.toml" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  enable_selinux = false
  disable_apparmor = true
  # This machine withholds CAP_SYS_RESOURCE, so nothing may lower its
  # oom_score_adj below containerd's (0); without this the sandbox's -998
  # makes runc fail ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "/run/kiln-e2e/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/config/certs.d"
EOF
  # The e2e registry Service speaks plain HTTP (as a cluster-internal registry often does).
  mkdir -p "$STATE/config/certs.d/$E2E_REGISTRY"
  write_file "$STATE/config/certs.d/$E2E_REGISTRY/hosts.toml" <<EOF
server = "http://$E2E_REGISTRY"
[host."http://$E2E_REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
  PROC_CONFIG="$STATE/config/containerd.toml" start_proc containerd containerd --config "$STATE/config/containerd.toml" --log-level warn
  wait_for containerd 60 ctr --address "$CONTAINERD_SOCK" version
}

# Build the sandbox image (static pause from pause.c) and import it.
ensure_pause_image() {
  if ctrk images ls -q 2>/dev/null | grep -xF "$PAUSE_IMAGE" >/dev/null; then
    log "pause image $PAUSE_IMAGE: present"
    return 0
  fi
  local tar="$STATE/images/pause.tar"
  if [[ ! -s "$tar" ]]; then
    local d; d=$(mktemp -d)
    gcc -static -Os -s -o "$d/pause" "$E2E_DIR/pause.c"
    "$E2E_DIR/oci-image.sh" "$PAUSE_IMAGE" "$d" "$tar" /pause >/dev/null
    rm -rf "$d"
  fi
  "$E2E_DIR/import-image.sh" "$tar" >/dev/null
  ctrk images ls -q | grep -xF "$PAUSE_IMAGE" >/dev/null || die "pause image import failed"
  log "pause image $PAUSE_IMAGE: built and imported"
}

start_kubelet() {
  mkdir -p "$KUBELET_ROOT" "$STATE/kubelet-plugins"
  local extra=""
  [[ $CGROUP_MODE != v2 ]] && extra="failCgroupV1: false"
  write_file "$STATE/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
$extra
failSwapOn: false
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-server.crt
tlsPrivateKeyFile: $PKI/kubelet-server.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
clusterDomain: cluster.local
# No clusterDNS: there is no CoreDNS; pods get the host's resolv.conf.
resolvConf: /etc/resolv.conf
# Never evict or garbage-collect locally imported images (nothing can be
# pulled again): evict only at 1% free, image GC threshold 100%.
evictionHard:
  memory.available: "1%"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
protectKernelDefaults: false
serializeImagePulls: false
volumePluginDir: $STATE/kubelet-plugins
rotateCertificates: false
serverTLSBootstrap: false
EOF
  PROC_CONFIG="$STATE/config/kubelet.yaml" start_proc kubelet "$BIN_DIR/kubelet" --config="$STATE/config/kubelet.yaml" \
    --kubeconfig="$STATE/config/kubelet.kubeconfig" --root-dir="$KUBELET_ROOT" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  wait_for kubelet 90 curl -sf --max-time 2 http://127.0.0.1:10248/healthz
}

start_kube_proxy() {
  write_file "$STATE/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $STATE/config/kube-proxy.kubeconfig
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
# (no bindAddress: a non-wildcard one is taken as the node IP)
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave host conntrack sysctls alone (0 = do not touch).
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
# NodePorts only on the node IP, not on 127.0.0.1 (avoids route_localnet).
nodePortAddresses: ["primary"]
iptables:
  localhostNodePorts: false
EOF
  PROC_CONFIG="$STATE/config/kube-proxy.yaml" start_proc kube-proxy "$BIN_DIR/kube-proxy" --config="$STATE/config/kube-proxy.yaml" --v=1
  wait_for kube-proxy 60 curl -sf --max-time 2 http://127.0.0.1:10256/healthz
}

node_ready() {
  [[ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
default_sa() { kc -n default get serviceaccount default; }

# ------------------------------------------------------------- main
phase_start "up: host prep + PKI + kubeconfigs"; host_prep; gen_pki; gen_kubeconfigs; phase_end
phase_start "up: etcd"; start_etcd; phase_end
phase_start "up: kube-apiserver"; start_apiserver; phase_end
phase_start "up: controller-manager+scheduler"; start_controllers; phase_end
phase_start "up: containerd + pause image"; write_cni_config; start_containerd; ensure_pause_image; phase_end
phase_start "up: kubelet"; start_kubelet; phase_end
phase_start "up: kube-proxy"; start_kube_proxy; phase_end
phase_start "up: node Ready + default SA"
wait_for kubelet 180 node_ready
wait_for kube-controller-manager 60 default_sa
phase_end

kc get nodes -o wide >&2
log "cluster up in $(awk -v a="$T_UP" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
log "admin kubeconfig: $ADMIN_KUBECONFIG"
log "kubectl:          $BIN_DIR/kubectl --kubeconfig $ADMIN_KUBECONFIG get nodes"
echo "$ADMIN_KUBECONFIG"
