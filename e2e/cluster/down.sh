#!/usr/bin/env bash
# Tear down everything up.sh started, leaving the build cache
# ($KILN_CACHE, default ~/.cache/kiln) untouched.
#
# Removes: all cluster processes (kubelet, kube-proxy, control plane, etcd,
# the private containerd and its shims), every pod container, mounts below
# the kubelet/containerd dirs, CNI network namespaces, the cni0 bridge,
# iptables rules/chains named KUBE-* and CNI-* (kube-proxy, kubelet, the
# bridge plugin's ipMasq), kubepods cgroups, the sysctls up.sh recorded, and
# the state dir (PKI, etcd data, configs) except $STATE/logs.
#
#   KILN_E2E_KEEP_DATA=1  keep PKI + etcd data (next up.sh resumes the cluster)
#   KILN_E2E_PURGE_LOGS=1 also delete $STATE/logs
#
# Safe to run when nothing is up (idempotent).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[[ $EUID -eq 0 ]] || die "must run as root"

T0=$(date +%s.%N)

# stop NAME...: SIGTERM the recorded pids together, SIGKILL whatever is
# still alive after a 10 s grace period.
stop() {
  local name pid i alive pids=()
  for name in "$@"; do
    pid=$(cat "$RUN_DIR/$name.pid" 2>/dev/null) || continue
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid") && log "stopping $name (pid $pid)"
  done
  for ((i = 0; i < 40; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for name in "$@"; do rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.fp"; done
}

# kill_cgroup_tree: SIGKILL every process in kubepods cgroups (all layouts).
kill_pod_processes() {
  local f pid
  for f in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
    [[ -d "$f" ]] || continue
    find "$f" -name cgroup.procs -print0 2>/dev/null | xargs -0r cat 2>/dev/null |
      while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
  done
}

remove_pod_cgroups() {
  local f
  for f in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
    [[ -d "$f" ]] || continue
    find "$f" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d "$f" ]] && log "WARN: could not remove cgroup $f"
  done
  return 0
}

# Remove KUBE-*/CNI-* chains and every rule that jumps to them.
clean_iptables() {
  local fam save restore
  for fam in iptables ip6tables; do
    save="$fam-save" restore="$fam-restore"
    command -v "$save" >/dev/null || continue
    "$save" 2>/dev/null | grep -E '(KUBE|CNI)-' >/dev/null || continue
    "$save" 2>/dev/null | awk '
      /^:(KUBE|CNI)-/ { next }
      /^-A (KUBE|CNI)-/ { next }
      /-j (KUBE|CNI)-/ { next }
      /-g (KUBE|CNI)-/ { next }
      { print }' | "$restore" && log "removed KUBE-/CNI- rules ($fam)"
  done
}

# 1. Node agents first so nothing restarts pods while we remove them.
stop kubelet kube-proxy

# 2. Pod containers: kill their tasks via containerd, then anything left in
#    the kubepods cgroups.
if [[ -S "$CONTAINERD_SOCK" ]] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; then
  for id in $(ctrk tasks ls -q 2>/dev/null); do
    ctrk tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 1
  for id in $(ctrk tasks ls -q 2>/dev/null); do ctrk tasks delete -f "$id" >/dev/null 2>&1 || true; done
  for id in $(ctrk containers ls -q 2>/dev/null); do ctrk containers delete "$id" >/dev/null 2>&1 || true; done
fi
kill_pod_processes

# 3. containerd and any shim still attached to our socket.
stop containerd
# Shims outlive containerd; each records its pid in containerd's state dir.
for f in "$CONTAINERD_STATE"/io.containerd.runtime.v2.task/*/*/shim.pid; do
  [[ -f "$f" ]] || continue
  pid=$(cat "$f" 2>/dev/null) || continue
  [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == containerd-shim* ]] && kill -KILL "$pid" 2>/dev/null || true
done
# A shim whose task directory is already gone (seen after the fault suite's kubelet and API
# server restarts) still names our socket on its command line.
for pid in $(pgrep -f "^/usr/bin/containerd-shim[^ ]* .*-address $CONTAINERD_STATE/containerd.sock" || true); do
  kill -KILL "$pid" 2>/dev/null || true
done
kill_pod_processes

# 4. Control plane.
stop kube-scheduler kube-controller-manager kube-apiserver
stop etcd

# 5. Mounts (overlay rootfs, shm, projected volumes), deepest first.
umount_under() {
  local prefix=$1 m
  findmnt -rn -o TARGET | awk -v p="$prefix" 'index($0, p) == 1' | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
umount_under "$KUBELET_ROOT"
umount_under "$CONTAINERD_STATE"
umount_under "$CONTAINERD_ROOT"
umount_under "/run/kiln-e2e"

# 6. Network: CNI netns (containerd names them cni-<uuid>), bridge, veths.
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
  ip netns delete "$ns" 2>/dev/null || { umount -l "/run/netns/$ns" 2>/dev/null; rm -f "/run/netns/$ns"; }
done
if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
  for v in $(ip -o link show master "$CNI_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$v" 2>/dev/null || true
  done
  ip link delete "$CNI_BRIDGE" && log "deleted bridge $CNI_BRIDGE"
fi
[[ -x "$BIN_DIR/kube-proxy" ]] && "$BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
clean_iptables

# 7. cgroups and sysctls.
remove_pod_cgroups
if [[ -f "$STATE/sysctl.orig" ]]; then
  while IFS= read -r kv; do sysctl -qw "$kv" 2>/dev/null || true; done < "$STATE/sysctl.orig"
  log "restored sysctls: $(tr '\n' ' ' < "$STATE/sysctl.orig")"
fi

# 8. Files. kubelet writes container logs under /var/log/pods and
#    /var/log/containers (fixed paths); nothing else here uses them.
rm -rf "$KUBELET_ROOT" /run/kiln-e2e /var/log/pods /var/log/containers
if [[ -d "$STATE" ]]; then
  if [[ "${KILN_E2E_KEEP_DATA:-0}" == 1 ]]; then
    rm -rf "$STATE/containerd" "$STATE/cni" "$RUN_DIR" "$STATE/sysctl.orig"
  else
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  fi
  [[ "${KILN_E2E_PURGE_LOGS:-0}" == 1 ]] && rm -rf "$LOG_DIR"
fi
log "down in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s (build cache kept: $KILN_CACHE)"
