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
# Everything runs in namespace kiln-smoke, deleted at the end.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[[ -s "$ADMIN_KUBECONFIG" ]] || die "$ADMIN_KUBECONFIG missing: run up.sh first"

IMAGE="kiln.local/busybox:e2e"   # not :latest, so the default pull policy is IfNotPresent
NS=kiln-smoke
T0=$(date +%s.%N)

# ------------------------------------------------------------ image
phase_start "smoke: busybox image build+import"
if ctrk images ls -q | grep -qxF "$IMAGE"; then
  log "$IMAGE already imported"
else
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ -e "$rootfs/bin/$applet" ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  chmod 1777 "$rootfs/tmp"
  echo 'root:x:0:0:root:/:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
  "$E2E_DIR/oci-image.sh" "$IMAGE" "$rootfs" "$STATE/images/busybox.tar" /bin/sh >/dev/null
  rm -rf "$rootfs"
  "$E2E_DIR/import-image.sh" "$STATE/images/busybox.tar" >/dev/null
fi
phase_end

# pod NAME COMMAND: a run-to-completion busybox Pod.
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
    image: $IMAGE
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
kc delete namespace "$NS" --ignore-not-found --wait=true --timeout=120s >/dev/null
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
# busybox wget speaks TLS (ssl_client); the apiserver's cert has SAN
# 10.96.0.1 but busybox cannot verify it, hence --no-check-certificate.
pod api "set -e
echo KUBERNETES_SERVICE_HOST=\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT
T=\$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
wget -q -T 10 -O - --no-check-certificate --header \"Authorization: Bearer \$T\" https://$KUBERNETES_SVC_IP:443/version" |
  kc apply -f - >/dev/null
wait_phase api
out=$(kc -n "$NS" logs api)
grep -q "\"gitVersion\": \"$K8S_VERSION\"" <<<"$out" || die "pod could not reach the API via $KUBERNETES_SVC_IP: $out"
log "pod reached https://$KUBERNETES_SVC_IP:443/version: $(grep -o '"gitVersion": "[^"]*"' <<<"$out")"
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
pod client "wget -q -T 10 -O - http://$svc_ip/" | kc apply -f - >/dev/null
wait_phase client
out=$(kc -n "$NS" logs client)
grep -q served-by-web-pod <<<"$out" || die "pod->service->pod failed: $out"
log "client pod got '$out' from Service web ($svc_ip)"
phase_end

# ------------------------------------------------------------ cleanup
phase_start "smoke: cleanup namespace"
kc delete namespace "$NS" --wait=true --timeout=120s >/dev/null
phase_end
log "smoke OK in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
