#!/usr/bin/env bash
# Benchmark (not a test): the `compress` post-processor of Kiln and of Packer 1.16.0 (built
# from source by scripts/packer.sh) on the same input and template, side by side, for the
# formats whose bytes Kiln ports from Packer's Go libraries (`.lz4`: pierrec/lz4, `.xz`:
# ulikunitz/xz, `.zip`: archive/zip, `.tar.gz`: klauspost/pgzip). Each output is compared
# byte for byte with Packer's. Needs GNU time (apt-get install time).
# Usage: scripts/bench-compress.sh [SIZE_MIB]   (default 96; prints Markdown rows)
# Env: KILN (default: a release build in $CARGO_TARGET_DIR), PACKER.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-96}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
if [[ -z "${KILN:-}" ]]; then
  cargo build --release -q -p kiln
  KILN="$CARGO_TARGET_DIR/release/kiln"
fi
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
[[ -x "$PACKER" ]] || { echo "bench-compress: no Packer at $PACKER (run scripts/packer.sh)" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# The input: two thirds of a tar of /usr/lib (binaries and text), a sixth of zeros, a
# sixth of random bytes.
IMG="$W/disk.img"
{
  tar cf - /usr/lib 2>/dev/null | head -c $((SIZE * 2 / 3))M || true
  head -c $((SIZE / 6))M /dev/zero
  head -c $((SIZE / 6))M /dev/urandom
} > "$IMG"
echo "| format | input | Kiln | Packer 1.16.0 | Kiln / Packer | output | same bytes |"
echo "|---|---|---|---|---|---|---|"
for ext in lz4 xz zip tar.gz; do
  for tool in kiln packer; do
    mkdir -p "$W/$tool"
    cat > "$W/$tool/b.pkr.hcl" <<HCL
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["null.b"]
  post-processors {
    post-processor "artifice" {
      files = ["$IMG"]
    }
    post-processor "compress" {
      output              = "$W/$tool/out.$ext"
      keep_input_artifact = true
    }
  }
}
HCL
  done
  t() { /usr/bin/time -f "%e %M" -o "$W/time" "$@" > /dev/null 2>&1; cat "$W/time"; }
  read -r ks km < <(cd "$W/kiln" && t "$KILN" build b.pkr.hcl)
  read -r ps pm < <(cd "$W/packer" && PACKER_NO_COLOR=1 t "$PACKER" build b.pkr.hcl)
  same=no
  cmp -s "$W/kiln/out.$ext" "$W/packer/out.$ext" && same=yes
  awk -v e=".$ext" -v i="$(stat -c %s "$IMG")" -v ks="$ks" -v ps="$ps" -v km="$km" -v pm="$pm" \
    -v o="$(stat -c %s "$W/kiln/out.$ext")" -v same="$same" \
    'BEGIN{printf "| %s | %.0f MiB | %.2f s (%.0f MiB/s, %d MiB RSS) | %.2f s (%.0f MiB/s, %d MiB RSS) | %.2f | %.1f MiB | %s |\n",
      e, i/1048576, ks, i/1048576/ks, km/1024, ps, i/1048576/ps, pm/1024, ks/ps, o/1048576, same}'
  rm -f "$W"/kiln/out.* "$W"/packer/out.*
done
