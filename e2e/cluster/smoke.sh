#!/usr/bin/env bash
# Prove the e2e cluster (started by up.sh) runs real workloads:
#   1. builds a tiny busybox-static image locally (OCI tar, oci-image.sh) and
#      imports it with import-image.sh (ctr -n k8s.io images import);
#   2. a Pod with it runs to Succeeded and its output is readable through
#      `kubectl logs` (apiserver -> kubelet -> containerd log path);
#   3. a Pod reaches the `kubernetes` Service ClusterIP 10.96.0.1:443 over
#      HTTPS with its ServiceAccount token (kube-proxy DNAT to the apiserver);
#   4. a Pod reaches another Pod through a ClusterIP Service (pod->svc->pod on
#      the CNI bridge, i.e. kube-proxy + br_netfilter + hairpin).
# No CoreDNS is deployed, so tests use IPs, not service names.
# Everything runs in a fresh namespace kiln-smoke-<epoch>, deleted at the end.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[[ -s "$ADMIN_KUBECONFIG" ]] || die "$ADMIN_KUBECONFIG missing: run up.sh first"

IMAGE="kiln.local/busybox:e2e"   # not :latest, so the default pull policy is IfNotPresent
KUBECTL_IMAGE="kiln.local/kubectl:e2e"
# A fresh namespace per run, deleted without waiting at the end (namespace
# finalisation takes ~10 s); KILN_SMOKE_KEEP=1 keeps it for debugging.
NS=kiln-smoke-$(date +%s)
T0=$(date +%s.%N)

# ------------------------------------------------------------ images
# busybox_rootfs DIR: busybox-static with one symlink per applet.
busybox_rootfs() {
  mkdir -p "$1/bin" "$1/tmp" "$1/etc"
  cp /bin/busybox "$1/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ -e "$1/bin/$applet" ]] || ln -s busybox "$1/bin/$applet"
  done
  chmod 1777 "$1/tmp"
  echo 'root:x:0:0:root:/:/bin/sh' > "$1/etc/passwd"
  echo 'root:x:0:' > "$1/etc/group"
}
# ensure_image NAME TAR [extra files SRC:DEST...]: build + import once.
ensure_image() {
  local name=$1 tar=$2 rootfs spec; shift 2
  if ctrk images ls -q | grep -xF "$name" >/dev/null; then
    log "$name already imported"
    return 0
  fi
  rootfs=$(mktemp -d)
  busybox_rootfs "$rootfs"
  for spec in "$@"; do install -D -m 0755 "${spec%%:*}" "$rootfs/${spec#*:}"; done
  OCI_GZIP_LEVEL=1 "$E2E_DIR/oci-image.sh" "$name" "$rootfs" "$tar" /bin/sh >/dev/null
  rm -rf "$rootfs"
  "$E2E_DIR/import-image.sh" "$tar" >/dev/null
  log "$name built and imported"
}

phase_start "smoke: images build+import"
ensure_image "$IMAGE" "$STATE/images/busybox.tar"
# busybox + the static kubectl: an in-cluster API client, configured exactly
# like kube-rs' in-cluster config (KUBERNETES_SERVICE_HOST/PORT + SA token,
# apiserver cert verified against the SA ca.crt).
ensure_image "$KUBECTL_IMAGE" "$STATE/images/kubectl.tar" "$BIN_DIR/kubectl:usr/local/bin/kubectl"
phase_end

# pod NAME COMMAND [IMAGE]: a run-to-completion Pod (busybox by default).
pod() {
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $NS, labels: {app: $1}}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${3:-$IMAGE}
    imagePullPolicy: Never
    command: ["/bin/sh", "-c"]
    args:
    - |
$(sed 's/^/      /' <<<"$2")
EOF
}

# wait_phase POD: until Succeeded (ok) or Failed (dump + fail), 120s.
wait_phase() {
  local p phase deadline=$(( $(date +%s) + 120 ))
  p=$1
  while :; do
    phase=$(kc -n "$NS" get pod "$p" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    [[ $phase == Succeeded ]] && return 0
    if [[ $phase == Failed || $(date +%s) -ge $deadline ]]; then
      kc -n "$NS" describe pod "$p" >&2 || true
      kc -n "$NS" logs "$p" >&2 || true
      die "pod $p ended in phase '${phase:-?}'"
    fi
    sleep 0.5
  done
}

# ------------------------------------------------------------ namespace
kc create namespace "$NS" >/dev/null
# The ServiceAccount controller must create the namespace's default SA
# before pods can be admitted.
until kc -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done

# ------------------------------------------------------------ 1. hello pod
phase_start "smoke: pod Succeeded + kubectl logs"
pod hello 'echo hello-from-kiln-e2e; uname -sr; id' | kc apply -f - >/dev/null
wait_phase hello
out=$(kc -n "$NS" logs hello)
grep -q hello-from-kiln-e2e <<<"$out" || die "unexpected logs: $out"
log "kubectl logs hello: $(tr '\n' ' ' <<<"$out")"
phase_end

# ------------------------------------------------------------ 2. API via Service
phase_start "smoke: pod -> kubernetes Service"
# Plain TCP through the ClusterIP (kube-proxy DNAT to $NODE_IP:6443), then a
# verified HTTPS request with the pod's ServiceAccount token by in-cluster
# kubectl. NB: Debian's busybox-static 1.35 `wget -T N` segfaults; use the
# `timeout` applet instead of -T.
pod api "set -e
echo KUBERNETES_SERVICE_HOST=\$KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT=\$KUBERNETES_SERVICE_PORT
nc -w 5 $KUBERNETES_SVC_IP 443 </dev/null && echo tcp-ok
kubectl get --raw /version; echo
kubectl auth whoami -o jsonpath='{.status.userInfo.username}'; echo" "$KUBECTL_IMAGE" |
  kc apply -f - >/dev/null
wait_phase api
out=$(kc -n "$NS" logs api)
grep -q tcp-ok <<<"$out" || die "pod could not open TCP to $KUBERNETES_SVC_IP:443: $out"
grep -q "\"gitVersion\": \"$K8S_VERSION\"" <<<"$out" || die "in-cluster kubectl could not reach the API: $out"
grep -q "system:serviceaccount:$NS:default" <<<"$out" || die "unexpected identity: $out"
log "pod reached https://$KUBERNETES_SVC_IP:443 as system:serviceaccount:$NS:default ($(grep -o '"gitVersion": "[^"]*"' <<<"$out"))"
phase_end

# ------------------------------------------------------------ 3. pod -> svc -> pod
phase_start "smoke: pod -> Service -> pod"
cat <<EOF | kc apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: $NS, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: $IMAGE
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "mkdir -p /www && echo served-by-web-pod > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080}]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
EOF
kc -n "$NS" wait --for=condition=Ready pod/web --timeout=120s >/dev/null
svc_ip=$(kc -n "$NS" get svc web -o jsonpath='{.spec.clusterIP}')
pod client "timeout 10 wget -q -O - http://$svc_ip/" | kc apply -f - >/dev/null
wait_phase client
out=$(kc -n "$NS" logs client)
grep -q served-by-web-pod <<<"$out" || die "pod->service->pod failed: $out"
log "client pod got '$out' from Service web ($svc_ip)"
phase_end

# ------------------------------------------------------------ cleanup
if [[ "${KILN_SMOKE_KEEP:-0}" != 1 ]]; then
  kc delete namespace "$NS" --wait=false >/dev/null
  log "namespace $NS is being deleted in the background"
fi
log "smoke OK in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
