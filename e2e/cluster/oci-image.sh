#!/usr/bin/env bash
# Pack a directory into a single-layer OCI image archive (no daemon, no
# registry), importable with `ctr images import` / import-image.sh.
#
# usage: oci-image.sh IMAGE_NAME ROOTFS_DIR OUT.tar CMD [ARG...]
#   IMAGE_NAME  full reference, e.g. registry.k8s.io/pause:3.10 or
#               kiln.local/busybox:e2e (recorded in index.json as the
#               io.containerd.image.name annotation, which ctr import uses)
#   ROOTFS_DIR  directory that becomes the image's only layer
#   CMD         path inside the image, followed by its default arguments;
#               stored as the image's Cmd with no Entrypoint (like Docker
#               Hub's busybox), so a Pod's `args` (or `kubectl run -- X`)
#               replace it entirely
#   OCI_GZIP_LEVEL (env) layer gzip level, default 6
#
# The archive is reproducible: files are sorted, owned by 0:0, mtime 0.
set -euo pipefail

[[ $# -ge 4 ]] || { sed -n '2,/^set /{/^#/p}' "$0" >&2; exit 2; }
name=$1 rootfs=$2 out=$3; shift 3

# JSON-quote each CMD word (only needs to handle plain strings).
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
entry=""
for w in "$@"; do entry+="${entry:+,}$(json_str "$w")"; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blobs="$work/blobs/sha256"
mkdir -p "$blobs"

# Layer: uncompressed digest = diff_id, gzip digest = blob digest.
tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n "-${OCI_GZIP_LEVEL:-6}" "$work/layer.tar"
layer_digest=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$blobs/$layer_digest"

# put_blob FILE -> moves FILE into blobs/, prints "digest size".
put_blob() {
  local d s; d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$blobs/$d"; echo "$d $s"
}

cat > "$work/config.json" <<EOF
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Cmd":[$entry],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"kiln e2e/cluster/oci-image.sh"}]}
EOF
read -r cfg_digest cfg_size < <(put_blob "$work/config.json")

cat > "$work/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg_digest","size":$cfg_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer_digest","size":$layer_size}]}
EOF
read -r man_digest man_size < <(put_blob "$work/manifest.json")

# io.containerd.image.name is what `ctr images import` names the image after;
# org.opencontainers.image.ref.name is the tag, for other OCI tools.
tag=${name##*:}
[[ "$tag" == "$name" || "$tag" == */* ]] && tag=latest
cat > "$work/index.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man_digest","size":$man_size,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"$name","org.opencontainers.image.ref.name":"$tag"}}]}
EOF
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"

mkdir -p "$(dirname "$out")"
tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -cf "$out.tmp" oci-layout index.json blobs
mv -f "$out.tmp" "$out"
echo "$out"
