#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through `phase` and the EXIT trap
# End to end, on this machine: cluster up, Kiln image built and imported, chart checked
# and installed with Helm, the kiln-e2e scenarios run against it, Kiln uninstalled, and
# the cluster torn down. Prints the time of every phase. Needs root (the cluster scripts).
#
# usage: scripts/e2e.sh [TEST_FILTER]
#   TEST_FILTER         passed to the scenario test binary (e.g. `two_source`)
# env:
#   KILN_E2E_KEEP_CLUSTER=1   leave the cluster (and Kiln) up afterwards
#   KILN_E2E_SKIP_UNINSTALL=1 skip the helm-uninstall test (keeps Kiln installed)
#   KILN_E2E_SKIP_FAULTS=1    skip the fault suite (e2e/tests/faults.rs; KILN_FAULT_BUILDS,
#                             KILN_FAULT_SEED, KILN_FAULT_REPORT)
#   KILN_E2E_THREADS          scenario tests in parallel (default 3)
#   KILN_IMAGE_SRC=worktree   build the image from the working tree (default: HEAD)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=target-dir.sh
source scripts/target-dir.sh
bin="${KILN_CACHE:-$HOME/.cache/kiln}/cluster/k8s-v1.34.4/bin"
export PATH="$bin:$PATH"
export KUBECONFIG=/var/lib/kiln-e2e/admin.kubeconfig
release=kiln namespace=kiln-system
# shellcheck source=../e2e/cluster/lib.sh
E2E_REGISTRY=$(bash -c 'source e2e/cluster/lib.sh >/dev/null 2>&1; echo "$E2E_REGISTRY"')
filter=${1:-}

times=()
phase() { # phase NAME CMD...
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  echo "=== $name" >&2
  local rc=0
  "$@" || rc=$?
  local dt; dt=$(echo "$(date +%s.%N) - $t0" | bc)
  times+=("$(printf '%-28s %7.1f s%s' "$name" "$dt" "$([[ $rc == 0 ]] || echo "  FAILED ($rc)")")")
  return $rc
}
report() {
  echo "=== phase times" >&2
  printf '%s\n' "${times[@]}" >&2
}
cleanup() {
  local rc=$?
  if [[ "${KILN_E2E_KEEP_CLUSTER:-0}" != 1 ]]; then
    phase "cluster down" e2e/cluster/down.sh >/dev/null || true
  fi
  report
  exit "$rc"
}
trap cleanup EXIT

phase "cluster build" e2e/cluster/build.sh >/dev/null
phase "cluster up" e2e/cluster/up.sh >/dev/null
image_out=$(mktemp)
# shellcheck disable=SC2016  # $1 is expanded by the inner shell
phase "image build" bash -c 'images/build.sh > "$1"' _ "$image_out"
archive=$(sed -n 1p "$image_out")
ref=$(sed -n 2p "$image_out")
rm -f "$image_out"
# The qemu runner image (the Kiln image plus qemu; images/build.sh's binary, cached).
qemu_out=$(mktemp)
# shellcheck disable=SC2016  # $1 is expanded by the inner shell
phase "qemu image" bash -c 'images/qemu.sh > "$1"' _ "$qemu_out"
qemu_archive=$(sed -n 1p "$qemu_out")
qemu_ref=$(sed -n 2p "$qemu_out")
rm -f "$qemu_out"
sshd_archive=$(images/sshd.sh | sed -n 1p)   # the SSH test peer (cached, ~2 s cold)
registry_archive=$(images/registry.sh | sed -n 1p)   # the registry test peer (cached)
guest_iso_archive=$(images/guest-iso.sh | sed -n 1p)   # the small guest's ISO over HTTP (cached)
phase "image import" e2e/cluster/import-image.sh "$archive" "$qemu_archive" "$sshd_archive" \
  "$registry_archive" "$guest_iso_archive" >/dev/null

# Rendered manifests are validated against the API server's schemas (--validate=strict:
# unknown or duplicate fields fail) and accepted by it (server dry-run).
chart_checks() {
  helm lint --strict charts/kiln
  kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  helm template "$release" charts/kiln -n "$namespace" --include-crds \
    | kubectl apply --dry-run=server --validate=strict -f - >/dev/null
  # Namespaced mode and HA render and are accepted too.
  helm template "$release" charts/kiln -n "$namespace" --set replicaCount=2 \
    --set "watchNamespaces={$namespace}" | kubectl apply --dry-run=server --validate=strict -f - >/dev/null
  kubectl kustomize config/default | kubectl apply --dry-run=server --validate=strict -f - >/dev/null
}
phase "chart checks" chart_checks

# The API types and the operator against the real API server, before Kiln is installed (the
# operator test runs its own operator; two would fight over the same objects).
phase "crds on apiserver" env KILN_TEST_KUBECONFIG="$KUBECONFIG" \
  cargo test -q -p kiln-crds --test apiserver -- --ignored
phase "operator on apiserver" cargo test -q -p kiln --test operator_apiserver -- --ignored

install() {
  helm upgrade --install "$release" charts/kiln -n "$namespace" --create-namespace \
    --set image.repository="${ref%:*}" --set image.tag="${ref##*:}" \
    --set image.pullPolicy=IfNotPresent --set log.format=text \
    --set runner.userNamespaces="${KILN_E2E_USERNS:-false}" \
    --set runner.toolImages.qemu="$qemu_ref" \
    --set "runner.env[0].name=KILN_INSECURE_REGISTRIES" --set "runner.env[0].value=$E2E_REGISTRY" \
    --wait --timeout 180s
  kubectl -n "$namespace" rollout status "deployment/$release" --timeout=120s
}
phase "helm install" install

phase "compile e2e tests" cargo test -p kiln-e2e --no-run -q
export KILN_E2E_RELEASE=$release KILN_E2E_NAMESPACE=$namespace
rc=0
phase "scenarios" cargo test -q -p kiln-e2e --test scenarios -- --ignored \
  --test-threads "${KILN_E2E_THREADS:-3}" ${filter:+"$filter"} || rc=$?
# Issue 14's faults over many builds (operator, API server, etcd, kubelet, eviction, Job
# deletion; seeded): after the scenarios, since it stops the cluster's processes.
if [[ "${KILN_E2E_SKIP_FAULTS:-0}" != 1 && -z "$filter" ]]; then
  phase "faults" env KILN_FAULT_REPORT="${KILN_FAULT_REPORT:-/tmp/kiln-faults-report.md}" \
    cargo test -q -p kiln-e2e --test faults -- --ignored --nocapture || rc=$?
fi
if [[ "${KILN_E2E_SKIP_UNINSTALL:-0}" != 1 && -z "$filter" ]]; then
  phase "helm uninstall" cargo test -q -p kiln-e2e --test uninstall -- --ignored || rc=$?
fi
exit "$rc"
