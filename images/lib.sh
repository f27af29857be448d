# shellcheck shell=bash
# Shared by images/build.sh and images/qemu.sh: the Kiln runner's root filesystem and its
# packing as a reproducible single-layer OCI archive. Source it; it defines functions only.

# kiln_rootfs ROOT BIN BUSYBOX: the static `kiln` binary at /usr/local/bin/kiln, busybox as
# /bin/sh and a few applets, the CA bundle, users root and kiln (65532), /tmp (1777) and
# /work (0777).
kiln_rootfs() {
  local root=$1 bin=$2 busybox=$3 app
  chmod 0755 "$root"   # mktemp -d made it 0700: the layer's "./" entry would say so
  mkdir -p "$root"/{bin,etc,tmp,work,usr/local/bin,etc/ssl/certs}
  chmod 1777 "$root/tmp"
  chmod 0777 "$root/work"
  install -m 0755 "$bin" "$root/usr/local/bin/kiln"
  install -m 0755 "$busybox" "$root/bin/busybox"
  for app in sh ls cat env id echo sleep mkdir rm cp mv ps wget tar gzip sha256sum df du \
    grep sed awk head tail true false test chmod find xargs printf date hostname nc; do
    ln -s busybox "$root/bin/$app"
  done
  # CA bundle for HTTPS data sources / post-processors (kube-rs uses the SA ca.crt).
  [[ -s /etc/ssl/certs/ca-certificates.crt ]] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nkiln:x:65532:65532:kiln:/tmp:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nkiln:x:65532:\n' > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
}

# copy_with_libs ROOT FILE...: each FILE at the same path under ROOT, with the shared
# libraries ldd names for it (and the dynamic loader), dereferenced.
copy_with_libs() {
  local root=$1 f lib; shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
    ldd "$f" 2>/dev/null | awk '/=>/ {print $3} !/=>/ && $1 ~ /^\// {print $1}' \
      | while read -r lib; do
      [[ -n "$lib" && ! -e "$root$lib" ]] || continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  done
}

# oci_pack ROOT OUT NAME TAG DESCRIPTION REVISION: ROOT as the only layer (sorted, owned 0:0,
# mtime 0, gzip -n), the Kiln runner's config (ENTRYPOINT kiln, CMD version, USER
# 65532:65532, WORKDIR /work, HOME=/tmp), written to OUT atomically. Prints the manifest
# digest.
oci_pack() {
  local root=$1 out=$2 name=$3 tag=$4 description=$5 revision=$6
  local work blobs diff_id layer_digest layer_size cfg_digest cfg_size man_digest man_size
  work=$(mktemp -d)
  blobs="$work/blobs/sha256"
  mkdir -p "$blobs"
  find "$root" -exec touch -h -d @0 {} +
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$work/layer.tar" .
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  gzip -n -6 "$work/layer.tar"
  _put_blob() {
    local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
    mv "$1" "$blobs/$d"; echo "$d $s"
  }
  read -r layer_digest layer_size < <(_put_blob "$work/layer.tar.gz")
  cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"User":"65532:65532","Entrypoint":["/usr/local/bin/kiln"],"Cmd":["version"],"Env":["PATH=/usr/local/bin:/usr/bin:/bin","HOME=/tmp","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],"WorkingDir":"/work","Labels":{"org.opencontainers.image.title":"${name##*/}","org.opencontainers.image.description":"$description","org.opencontainers.image.revision":"$revision","org.opencontainers.image.source":"https://github.com/kiln-dev/kiln","org.opencontainers.image.licenses":"Apache-2.0"}},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"kiln images/${name##*/}"}]}
JSON
  read -r cfg_digest cfg_size < <(_put_blob "$work/config.json")
  cat > "$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg_digest","size":$cfg_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer_digest","size":$layer_size}]}
JSON
  read -r man_digest man_size < <(_put_blob "$work/manifest.json")
  cat > "$work/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man_digest","size":$man_size,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"$name:$tag","org.opencontainers.image.ref.name":"$tag"}}]}
JSON
  echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
  tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf "$out.tmp" oci-layout index.json blobs
  mv -f "$out.tmp" "$out"
  rm -rf "$work"
  echo "sha256:$man_digest"
}
