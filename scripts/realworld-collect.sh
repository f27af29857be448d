#!/usr/bin/env bash
# Local tool (not CI): collect the real-world Packer templates that realworld-diff.sh,
# fmt-fuzz.sh and legacy-upgrade-diff.sh compare Kiln with Packer on, from local git
# mirrors of public repositories. The templates are other projects' text: they are never
# committed, only this script and the list of repositories are.
#
# To rebuild the corpus: fetch each repository listed in scripts/realworld-repos.txt with the
# session's fetch tool (it brings a bare git dir to /work/.mirror/<owner>+<name>/...; print the
# list with `scripts/realworld-collect.sh --fetch-list`), then run this script with --listed.
#
# From each repository's HEAD (nothing is checked out) it extracts:
#   - every *.pkr.hcl, *.pkrvars.hcl and *.pkr.json file into
#     $KILN_REALWORLD/<owner+repo>/<path> (default ~/.cache/kiln/realworld), keeping each
#     file's directory so that directories of several files stay together; and the files
#     those templates read with file()/templatefile() (literal paths, relative to the
#     template's directory or to ${path.root}/${path.cwd}) when small (< 64 KiB) and text;
#   - every other *.json file that parses as JSON with a top-level "builders" array (a
#     legacy JSON template) into $KILN_REALWORLD_JSON/<owner+repo>--<path, / as _>/t.json
#     (default ~/.cache/kiln/realworld-json; one directory per template).
# A symbolic link to a file of the repository is copied as that file's text. Re-running
# replaces each collected repository's files (a repository with no template any more is
# removed; the JSON directories of each repository are listed in
# $KILN_REALWORLD_JSON/.collected/<owner+repo>); repositories not given are left alone.
#
# Usage: scripts/realworld-collect.sh [GIT_DIR...]   (default: every git dir under $KILN_MIRROR)
#        scripts/realworld-collect.sh --listed       (only the repositories of the list: the
#                                                     reproducible corpus; a missing one fails)
#        scripts/realworld-collect.sh --fetch-list   (print the repositories to fetch)
# A GIT_DIR is any directory where `git --git-dir=GIT_DIR` works; the repository's name is
# the nearest path component holding a "+" (owner+name, as the fetch tool names them), else
# the directory's own name.
# Env: KILN_MIRROR (default /work/.mirror), KILN_REALWORLD, KILN_REALWORLD_JSON.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LIST="$ROOT/scripts/realworld-repos.txt"
MIRROR="${KILN_MIRROR:-/work/.mirror}"
REALWORLD="${KILN_REALWORLD:-$HOME/.cache/kiln/realworld}"
REALWORLD_JSON="${KILN_REALWORLD_JSON:-$HOME/.cache/kiln/realworld-json}"

# git_dirs DIR DEPTH: the bare git dirs at most DEPTH-1 levels under DIR, sorted.
git_dirs() {
  [[ -d "$1" ]] || return 0
  local head
  while IFS= read -r head; do
    if [[ -d "$(dirname "$head")/objects" ]]; then
      dirname "$head"
    fi
  done < <(find "$1" -maxdepth "$2" -name HEAD -type f | sort)
}

# The repositories of $LIST, one owner/name a line.
listed() {
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' "$LIST" | grep -v '^$'
}

GIT_DIRS=()
failed=()
case "${1:-}" in
  --fetch-list)
    listed
    exit 0
    ;;
  --listed)
    shift
    while IFS= read -r name; do
      gd="$(git_dirs "$MIRROR/${name/\//+}" 2 | head -1)"
      if [[ -n "$gd" ]]; then
        GIT_DIRS+=("$gd")
      else
        echo "realworld-collect: $name: not fetched (no git dir under $MIRROR/${name/\//+})" >&2
        failed+=("$name")
      fi
    done < <(listed)
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
esac

if (($# > 0)); then
  GIT_DIRS=("$@")
elif ((${#GIT_DIRS[@]} + ${#failed[@]} == 0)); then
  [[ -d "$MIRROR" ]] || { echo "realworld-collect: no mirrors under $MIRROR (fetch the repositories of $LIST first)" >&2; exit 1; }
  mapfile -t GIT_DIRS < <(git_dirs "$MIRROR" 3)
fi

mkdir -p "$REALWORLD" "$REALWORLD_JSON"

# repo_key GIT_DIR -> owner+name
repo_key() {
  local d
  d="$(cd "$1" && pwd)"
  local p="$d"
  while [[ "$p" != / && -n "$p" ]]; do
    if [[ "$(basename "$p")" == *+* ]]; then
      basename "$p"
      return
    fi
    p="$(dirname "$p")"
  done
  basename "$d" .git
}

n=0
for gd in "${GIT_DIRS[@]}"; do
  if ! git --git-dir="$gd" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    echo "realworld-collect: $gd: not a git dir with a HEAD commit, skipped" >&2
    failed+=("$gd")
    continue
  fi
  key="$(repo_key "$gd")"
  if ! python3 - "$gd" "$key" "$REALWORLD" "$REALWORLD_JSON" <<'PY'; then
import json, os, posixpath, re, shutil, subprocess, sys

git_dir, key, dest_hcl, dest_json = sys.argv[1:5]
git = ["git", "--git-dir=" + git_dir]

HCL_SUFFIXES = (".pkr.hcl", ".pkrvars.hcl", ".pkr.json")
JSON_MAX = 1 << 20          # larger *.json files are not read (no template is that big)
AUX_MAX = 64 << 10          # files read by file()/templatefile(): small text only

# mode, type, object, size, path of every entry of HEAD's tree
out = subprocess.run(git + ["ls-tree", "-r", "-l", "-z", "HEAD"], check=True,
                     stdout=subprocess.PIPE).stdout
entries = {}
for rec in out.split(b"\0"):
    if not rec:
        continue
    meta, path = rec.split(b"\t", 1)
    mode, typ, obj, size = meta.split()
    if typ != b"blob" or not size.isdigit():
        continue  # a submodule, or an object the mirror lacks (size "BAD": files >= 4 MiB)
    p = path.decode("utf-8", "surrogateescape")
    entries[p] = (mode.decode(), obj.decode(), int(size))

cat = subprocess.Popen(git + ["cat-file", "--batch"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE)

def blob(obj):
    cat.stdin.write(obj.encode() + b"\n")
    cat.stdin.flush()
    header = cat.stdout.readline().split()
    if len(header) < 3 or header[1] != b"blob":
        return None
    data = cat.stdout.read(int(header[2]))
    cat.stdout.read(1)
    return data

def resolve(path, hops=0):
    """(path, object, size) of the regular file PATH names, following symlinks in the repo."""
    e = entries.get(path)
    if e is None or hops > 8:
        return None
    mode, obj, size = e
    if mode == "120000":
        target = blob(obj)
        if target is None:
            return None
        t = target.decode("utf-8", "surrogateescape")
        if t.startswith("/"):
            return None
        t = posixpath.normpath(posixpath.join(posixpath.dirname(path), t))
        if t.startswith("../") or t == "..":
            return None
        return resolve(t, hops + 1)
    if mode not in ("100644", "100755"):
        return None
    return path, obj, size

def content(path):
    r = resolve(path)
    if r is None:
        return None
    return blob(r[1])

def safe(path):
    parts = path.split("/")
    return path and not path.startswith("/") and ".." not in parts and "" not in parts

# --- HCL2 templates and variable files -----------------------------------------------
tmp_hcl = os.path.join(dest_hcl, ".tmp-" + key)
shutil.rmtree(tmp_hcl, ignore_errors=True)
written = {}
for p in sorted(entries):
    if not p.endswith(HCL_SUFFIXES) or not safe(p):
        continue
    data = content(p)
    if data is None:
        continue
    written[p] = data

# Files the templates read: file("..."), templatefile("...", ...), with a literal path
# (after ${path.root}, ${path.cwd}, ${abspath(path.root)} and the like).
CALL = re.compile(r'\b(?:file|templatefile|filebase64|filesha256|filemd5)\(\s*"((?:[^"\\$]|\\.|\$\{[^}"]*\})*)"')
ROOTREF = re.compile(r'\$\{\s*(?:abspath\(\s*)?path\.(?:root|cwd)\s*\)?\s*\}')
aux = {}
for p, data in list(written.items()):
    if not p.endswith(".pkr.hcl"):
        continue
    text = data.decode("utf-8", "replace")
    base = posixpath.dirname(p)
    for m in CALL.finditer(text):
        ref = ROOTREF.sub(".", m.group(1))
        if "${" in ref or "%{" in ref or "\\" in ref or not ref or ref.startswith("/"):
            continue
        q = posixpath.normpath(posixpath.join(base, ref))
        if q in written or q in aux or not safe(q):
            continue
        r = resolve(q)
        if r is None or r[2] >= AUX_MAX:
            continue
        d = blob(r[1])
        if d is None or b"\0" in d:
            continue
        try:
            d.decode("utf-8")
        except UnicodeDecodeError:
            continue
        aux[q] = d
written.update(aux)

for p, data in written.items():
    f = os.path.join(tmp_hcl, p)
    os.makedirs(os.path.dirname(f), exist_ok=True)
    with open(f, "wb") as fh:
        fh.write(data)
final_hcl = os.path.join(dest_hcl, key)
shutil.rmtree(final_hcl, ignore_errors=True)
if written:
    os.rename(tmp_hcl, final_hcl)

# --- legacy JSON templates -------------------------------------------------------------
manifest_dir = os.path.join(dest_json, ".collected")
manifest = os.path.join(manifest_dir, key)
old = []
if os.path.exists(manifest):
    with open(manifest) as fh:
        old = [l.strip() for l in fh if l.strip()]
else:
    old = [d for d in os.listdir(dest_json) if d.startswith(key + "--")]
for d in old:
    if "/" not in d and d.startswith(key + "--"):
        shutil.rmtree(os.path.join(dest_json, d), ignore_errors=True)
names = []
for p in sorted(entries):
    if not p.endswith(".json") or p.endswith(".pkr.json"):
        continue
    r = resolve(p)
    if r is None or r[2] > JSON_MAX:
        continue
    data = blob(r[1])
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        continue
    if not isinstance(doc, dict) or not isinstance(doc.get("builders"), list):
        continue
    name = key + "--" + p.replace("/", "_")
    d = os.path.join(dest_json, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "t.json"), "wb") as fh:
        fh.write(data)
    names.append(name)
os.makedirs(manifest_dir, exist_ok=True)
with open(manifest, "w") as fh:
    fh.write("".join(n + "\n" for n in names))

cat.stdin.close()
cat.wait()
nhcl = sum(1 for p in written if p.endswith(".pkr.hcl"))
nother = sum(1 for p in written if p.endswith((".pkrvars.hcl", ".pkr.json")))
print(f"{key}: {nhcl} .pkr.hcl, {nother} .pkrvars.hcl/.pkr.json, {len(aux)} read by templates, "
      f"{len(names)} JSON templates")
PY
    echo "realworld-collect: $gd ($key): extraction failed" >&2
    failed+=("$gd")
    continue
  fi
  n=$((n + 1))
done

hcl="$(find "$REALWORLD" -name '*.pkr.hcl' -not -path '*/.tmp-*' | wc -l)"
units="$(find "$REALWORLD" -name '*.pkr.hcl' -not -path '*/.tmp-*' -printf '%h\n' | sort | uniq -c | awk '$1 > 1' | wc -l)"
json="$(find "$REALWORLD_JSON" -mindepth 2 -maxdepth 2 -name t.json | wc -l)"
echo "realworld-collect: $n repositories collected; $REALWORLD: $hcl .pkr.hcl files, $units directories of several; $REALWORLD_JSON: $json JSON templates"
if ((${#failed[@]} > 0)); then
  echo "realworld-collect: failed: ${failed[*]}" >&2
  exit 1
fi
