#!/usr/bin/env bash
# Engine benchmarks (not tests): `kiln validate` of a generated 1 000-line template, the
# overhead `kiln build` adds to 10 `shell-local` steps running `true`, and four parallel
# sources against one. Needs hyperfine and GNU time (apt-get install hyperfine time).
# Usage: scripts/bench-engine.sh   (prints Markdown rows for docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln/target}"
cargo build --release -q -p kiln
KILN="$CARGO_TARGET_DIR/release/kiln"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# 1. A generated template of about 1 000 lines: variables, locals, sources, a build with
#    provisioners, exercising functions and templates.
{
  for i in $(seq 1 100); do
    printf 'variable "v%d" {\n  type    = string\n  default = "value-%d"\n}\n' "$i" "$i"
  done
  echo 'locals {'
  for i in $(seq 1 100); do
    printf '  l%d = "${upper(var.v%d)}-${sha256(var.v%d)}-${length(split("-", var.v%d))}"\n' "$i" "$i" "$i" "$i"
  done
  echo '}'
  for i in $(seq 1 50); do
    printf 'source "null" "s%d" {\n  communicator = "none"\n}\n' "$i"
  done
  echo 'build {'
  printf '  sources = [%s]\n' "$(seq -s, 1 50 | sed 's/\([0-9]\+\)/"source.null.s\1"/g')"
  for i in $(seq 1 80); do
    printf '  provisioner "shell-local" {\n    inline = ["echo ${local.l%d}"]\n  }\n' "$(( (i % 100) + 1 ))"
  done
  echo '}'
} > "$W/big.pkr.hcl"
LINES=$(wc -l < "$W/big.pkr.hcl")

# 2. Ten shell-local steps running `true`, against the same ten `true`s run by sh directly.
{
  echo 'source "null" "a" {'
  echo '  communicator = "none"'
  echo '}'
  echo 'build {'
  echo '  sources = ["source.null.a"]'
  for i in $(seq 1 10); do echo '  provisioner "shell-local" { inline = ["true"] }'; done
  echo '}'
} > "$W/ten.pkr.hcl"
# The steps' own work: what each shell-local step runs (as Packer's does): `/bin/sh -c` of the
# environment and a temporary `#!/bin/sh -e` script holding the inline command.
printf '#!/bin/sh -e\ntrue\n' > "$W/step.sh"
chmod +x "$W/step.sh"
printf '#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10; do /bin/sh -c "PACKER_BUILD_NAME='"'"'a'"'"' PACKER_BUILDER_TYPE='"'"'null'"'"' %s/step.sh"; done\n' "$W" > "$W/ten.sh"
chmod +x "$W/ten.sh"

# 3. Four sources sleeping 1 s, in parallel, against one.
cat > "$W/four.pkr.hcl" <<'HCL'
source "null" "a" {
  communicator = "none"
}
build {
  dynamic "source" {
    for_each = ["one", "two", "three", "four"]
    labels   = ["null.a"]
    content {
      name = source.value
    }
  }
  provisioner "shell-local" { inline = ["sleep 1"] }
}
HCL
cat > "$W/one.pkr.hcl" <<'HCL'
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" { inline = ["sleep 1"] }
}
HCL

cd "$W"
hyperfine -N --warmup 3 --export-json v.json "$KILN validate big.pkr.hcl" >/dev/null
hyperfine -N --warmup 3 --export-json t.json "$KILN build ten.pkr.hcl" "./ten.sh" >/dev/null
hyperfine -N --runs 5 --export-json p.json "$KILN build four.pkr.hcl" "$KILN build one.pkr.hcl" >/dev/null
RSS=$( { /usr/bin/time -f '%M' "$KILN" validate big.pkr.hcl >/dev/null; } 2>&1 | tail -1)

python3 - "$LINES" "$RSS" <<'PY'
import json, sys
lines, rss = sys.argv[1], int(sys.argv[2])
v = json.load(open("v.json"))["results"][0]
t = json.load(open("t.json"))["results"]
p = json.load(open("p.json"))["results"]
ms = lambda r: r["mean"] * 1000
print(f"| `kiln validate` of a generated {lines}-line template | {ms(v):.1f} ms ± {v['stddev']*1000:.1f} | peak RSS {rss/1024:.1f} MiB | target < 50 ms, < 30 MiB |")
print(f"| `kiln build`, null + 10 `shell-local` steps running `true` | {ms(t[0]):.1f} ms | the same 10 steps' own work (`sh -c` of a `#!/bin/sh -e` script running `true`): {ms(t[1]):.1f} ms | overhead {ms(t[0]) - ms(t[1]):.1f} ms (target < 20 ms) |")
print(f"| `kiln build`, 4 sources × `sleep 1` in parallel | {ms(p[0]):.0f} ms | 1 source × `sleep 1`: {ms(p[1]):.0f} ms | ratio {p[0]['mean']/p[1]['mean']:.2f} (target ≈ 1, not 4) |")
PY
