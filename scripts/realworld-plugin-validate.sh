#!/usr/bin/env bash
# Local tool (not CI): `validate` of the real-world templates (scripts/realworld-collect.sh)
# that use the docker or qemu builder, through Packer 1.16.0 with packer-plugin-docker
# v1.1.2 and packer-plugin-qemu v1.1.7 installed and through Kiln; counts the units whose
# exit code, stdout and stderr agree. Units: each directory holding such a `*.pkr.hcl`
# (`validate .`), each such legacy JSON template (`validate FILE`). Packer runs twice: a unit
# whose two Packer outputs differ (Go map order) is counted apart, not compared.
# Usage: scripts/realworld-plugin-validate.sh   Env: KILN, PACKER, KILN_REALWORLD_OUT.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HCL="${KILN_REALWORLD:-$HOME/.cache/kiln/realworld}"
JSON="${KILN_REALWORLD_JSON:-$HOME/.cache/kiln/realworld-json}"
KILN="${KILN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln}"
PACKER="${PACKER:-$HOME/.cache/kiln/packer/1.16.0/packer}"
OUT="${KILN_REALWORLD_OUT:-$HOME/.cache/kiln/realworld-plugin-validate}"
DOCKER_PLUGIN=$("$ROOT/scripts/docker-plugin.sh") || exit 1
QEMU_PLUGIN=$("$ROOT/scripts/qemu-plugin.sh") || exit 1
rm -rf "$OUT"; mkdir -p "$OUT"
orig_home=$HOME
home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
export HOME="$home" PACKER_PLUGIN_PATH="$home/plugins" CHECKPOINT_DISABLE=1 PACKER_NO_COLOR=1
mkdir -p "$PACKER_PLUGIN_PATH"
"$PACKER" plugins install --path "$DOCKER_PLUGIN" github.com/hashicorp/docker > /dev/null
"$PACKER" plugins install --path "$QEMU_PLUGIN" github.com/hashicorp/qemu > /dev/null
units=()
while IFS= read -r d; do units+=("hcl:$d"); done < <(grep -rlE 'source "(qemu|docker)"' --include='*.pkr.hcl' "$HCL" | xargs -n1 dirname | sort -u)
while IFS= read -r f; do units+=("json:$f"); done < <(grep -rlE '"type": *"(qemu|docker)"' "$JSON" | sort)
same=0; total=0; varies=0
for u in "${units[@]}"; do
  kind=${u%%:*} path=${u#*:}
  if [ "$kind" = hcl ]; then dir=$path arg=.; else dir=$(dirname "$path") arg=$(basename "$path"); fi
  run() { (cd "$dir" && timeout 60 "$@" validate "$arg" > "$tmp/out" 2> "$tmp/err"; echo $? > "$tmp/rc"); }
  tmp=$(mktemp -d); run "$PACKER"; mv "$tmp" "$tmp.p"; p="$tmp.p"
  tmp=$(mktemp -d); run "$PACKER"; p2="$tmp"
  tmp=$(mktemp -d); run "$KILN"; k="$tmp"
  if ! cmp -s "$p/out" "$p2/out" || ! cmp -s "$p/err" "$p2/err"; then
    # Packer's own output varies (Go map order): not compared
    varies=$((varies + 1)); rm -rf "$p" "$p2" "$k"; continue
  fi
  rm -rf "$p2"
  total=$((total + 1))
  if cmp -s "$p/rc" "$k/rc" && cmp -s "$p/out" "$k/out" && cmp -s "$p/err" "$k/err"; then
    same=$((same + 1))
  else
    name=$(echo "${path#"$orig_home"/.cache/kiln/}" | tr '/' '+')
    mkdir -p "$OUT/$name"; cp -r "$p" "$OUT/$name/packer"; cp -r "$k" "$OUT/$name/kiln"
    echo "$path" > "$OUT/$name/unit"
  fi
  rm -rf "$p" "$k"
done
echo "realworld-plugin-validate: $same/$total units agree, $varies more where Packer varies between two runs (differences under $OUT)"
