#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Operator load benchmark (issue 4, "Show"): on the e2e cluster, Kiln installed with Helm
# exactly as scripts/e2e.sh does, one small ImageTemplate, then 1 000 ImageBuilds created at
# once, a second wave of 100 once every one of them has its Job, and a third of 100 once the
# operator's queue drained and the cluster is quiet. Measures, client side,
# the time from an ImageBuild's create (when the POST returned) to its Job's ADDED event on
# a watch, and the operator's RSS (VmRSS of the `kiln operator` process on the host, every
# 200 ms), and the API writes per build (the API server's apiserver_request_total before and
# after, by resource and verb: scripts/apiserver-writes.py). Runner pods get
# `nodeSelector: {kiln.dev/bench: none}`, so they stay Pending (Unschedulable) and the node is
# not flooded. Needs root (the cluster scripts). Figures: docs/benchmarks.md.
#
# usage: scripts/bench-operator.sh [N] [WAVE2]     (defaults 1000 and 100)
# env:   KILN_BENCH_KEEP_CLUSTER=1   leave the cluster and Kiln up afterwards
#        KILN_BENCH_CONCURRENCY=C    the operator's reconciles at once (chart value
#                                    `concurrency`, default 8)
#        KILN_BENCH_FINISHED=F       first F finished builds (cancelled before they start):
#                                    the 10 000-build run is KILN_BENCH_FINISHED=8900 with
#                                    N=1000, WAVE2=100
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
bin="${KILN_CACHE:-$HOME/.cache/kiln}/cluster/k8s-v1.34.4/bin"
export PATH="$bin:$PATH"
export KUBECONFIG=/var/lib/kiln-e2e/admin.kubeconfig
release=kiln namespace=kiln-system bench_ns=kiln-bench
n=${1:-1000} wave2=${2:-100}
log() { printf '[bench-operator %s] %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
  local rc=$?
  if [[ "${KILN_BENCH_KEEP_CLUSTER:-0}" != 1 ]]; then
    log "cleanup"
    kubectl delete namespace "$bench_ns" --wait=false >/dev/null 2>&1 || true
    helm uninstall "$release" -n "$namespace" --wait --timeout 60s >/dev/null 2>&1 || true
    e2e/cluster/down.sh >/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT

log "cluster build + up"
e2e/cluster/build.sh >/dev/null
e2e/cluster/up.sh >/dev/null

log "image build + import"
image_out=$(mktemp)
images/build.sh > "$image_out"
archive=$(sed -n 1p "$image_out") ref=$(sed -n 2p "$image_out")
rm -f "$image_out"
e2e/cluster/import-image.sh "$archive" >/dev/null

log "helm install $ref"
helm upgrade --install "$release" charts/kiln -n "$namespace" --create-namespace \
  --set image.repository="${ref%:*}" --set image.tag="${ref##*:}" \
  --set image.pullPolicy=IfNotPresent --set log.format=text \
  --set concurrency="${KILN_BENCH_CONCURRENCY:-8}" \
  --wait --timeout 180s >/dev/null
kubectl -n "$namespace" rollout status "deployment/$release" --timeout=120s >/dev/null

log "namespace $bench_ns + template"
kubectl delete namespace "$bench_ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$bench_ns" >/dev/null
kubectl -n "$bench_ns" apply -f - >/dev/null <<'YAML'
apiVersion: kiln.dev/v1alpha1
kind: ImageTemplate
metadata:
  name: bench
spec:
  # Retention off: the benchmark counts every build it created.
  historyLimits:
    successful: 100000
    failed: 100000
  files:
    - name: main.pkr.hcl
      content: |
        source "null" "one" {
          communicator = "none"
        }
        build {
          sources = ["source.null.one"]
          provisioner "shell-local" {
            inline = ["echo built ${source.name}"]
          }
        }
YAML
kubectl -n "$bench_ns" wait --for=condition=Ready imagetemplate/bench --timeout=60s >/dev/null

# The operator process, seen from the host (its container runs `kiln operator ...`).
pids=$(pgrep -f "^/usr/local/bin/kiln operator" || pgrep -f "kiln operator" || true)
[[ $(wc -w <<<"$pids") == 1 ]] || { log "expected one operator process, got: ${pids:-none}"; exit 1; }
pid=$pids
log "operator pid $pid; idle for 20 s"
sleep 15
idle_max=0
for _ in $(seq 25); do   # 5 s at 200 ms
  v=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
  ((v > idle_max)) && idle_max=$v
  sleep 0.2
done
printf 'operator VmRSS idle (installed, one template, 5 s max): %.1f MiB\n' "$(echo "$idle_max / 1024" | bc -l)"

log "load: $n ImageBuilds at once, then $wave2 one at a time, twice"
rc=0
# The API server's own count of writes, before and after (scripts/apiserver-writes.py).
writes_before=$(mktemp) writes_after=$(mktemp)
kubectl get --raw /metrics | python3 scripts/apiserver-writes.py snapshot > "$writes_before"
python3 scripts/bench-operator-load.py "$KUBECONFIG" "$bench_ns" bench "$pid" "$n" "$wave2" || rc=$?
# The runner access (Role + RoleBinding) is applied in the background: every build must have
# it in the end.
want=$((n + 2 * wave2)) have=0
for _ in $(seq 60); do
  have=$(kubectl -n "$bench_ns" get rolebindings -l app.kubernetes.io/managed-by=kiln-operator --no-headers 2>/dev/null | wc -l)
  ((have >= want)) && break
  sleep 2
done
printf 'runner RoleBindings: %s of %s builds\n' "$have" "$want"
sleep 10   # the reconciles the last Jobs' and pods' events trigger
kubectl get --raw /metrics | python3 scripts/apiserver-writes.py snapshot > "$writes_after"
python3 scripts/apiserver-writes.py diff "$writes_before" "$writes_after" "$want"
rm -f "$writes_before" "$writes_after"
((have >= want)) || rc=1
printf 'operator restarts: %s\n' \
  "$(kubectl -n "$namespace" get pods -l app.kubernetes.io/name=kiln \
     -o jsonpath='{.items[*].status.containerStatuses[*].restartCount}')"
exit "$rc"
