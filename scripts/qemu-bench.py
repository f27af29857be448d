#!/usr/bin/env python3
"""Side by side: `kiln build` and `packer build` (Packer 1.16.0 + packer-plugin-qemu v1.1.7,
scripts/qemu-plugin.sh) on the same template, alternating, each in a fresh directory.
Reports per run: boot-to-SSH (from "Starting VM, booting" to "Connected to SSH!", both
print Packer's wording), total wall time, and the output disk's size.

  scripts/qemu-bench.py KILN_BIN TEMPLATE_DIR ROUNDS [-var guests=...]
"""
import os, shutil, subprocess, sys, tempfile, time, statistics

kiln, template, rounds = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
extra = sys.argv[4:]
packer = os.path.expanduser("~/.cache/kiln/packer/1.16.0/packer")

def run(tool):
    d = tempfile.mkdtemp(prefix=f"bench-{tool}-")
    for f in os.listdir(template):
        shutil.copy(os.path.join(template, f), d)
    cmd = ([kiln, "build"] if tool == "kiln" else [packer, "build"]) + extra + ["."]
    env = dict(os.environ, PACKER_CACHE_DIR=os.path.join(d, "packer_cache"), CHECKPOINT_DISABLE="1")
    t0 = time.monotonic()
    marks = {}
    p = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    log = []
    for line in p.stdout:
        t = time.monotonic() - t0
        log.append(f"{t:7.2f} {line.rstrip()}")
        for key, needle in [("start", "Starting VM, booting"), ("ssh", "Connected to SSH!")]:
            if needle in line and key not in marks:
                marks[key] = t
    rc = p.wait()
    total = time.monotonic() - t0
    disk = None
    out = os.path.join(d, "output-small")
    if os.path.isdir(out):
        disk = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    ok = rc == 0 and "start" in marks and "ssh" in marks
    if not ok:
        print("\n".join(log[-30:]), file=sys.stderr)
    shutil.rmtree(d, ignore_errors=True)
    return dict(tool=tool, ok=ok, total=total, boot_to_ssh=marks.get("ssh", 0) - marks.get("start", 0),
                before_vm=marks.get("start", 0), disk=disk)

results = []
for r in range(rounds):
    order = ["kiln", "packer"] if r % 2 == 0 else ["packer", "kiln"]
    for tool in order:
        res = run(tool)
        results.append(res)
        print(f"round {r+1} {tool:6} ok={res['ok']} total={res['total']:.2f}s boot-to-SSH={res['boot_to_ssh']:.2f}s "
              f"before-VM={res['before_vm']:.2f}s disk={res['disk']}", flush=True)
for tool in ["kiln", "packer"]:
    rs = [x for x in results if x["tool"] == tool and x["ok"]]
    if rs:
        print(f"{tool:6} median total {statistics.median(x['total'] for x in rs):.2f}s, "
              f"boot-to-SSH {statistics.median(x['boot_to_ssh'] for x in rs):.2f}s, "
              f"before VM {statistics.median(x['before_vm'] for x in rs):.2f}s, disk {rs[0]['disk']} bytes ({len(rs)} runs)")
