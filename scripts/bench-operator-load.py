#!/usr/bin/env python3
"""Load client of scripts/bench-operator.sh (standard library only, talks to the API directly).

usage: bench-operator-load.py KUBECONFIG NAMESPACE TEMPLATE OPERATOR_PID [N] [WAVE2]

1. Starts a watch on Jobs in NAMESPACE (client-side monotonic time of every ADDED event,
   keyed by the Job's ImageBuild owner reference) and a sampler of the operator's VmRSS
   (/proc/OPERATOR_PID/status, every 200 ms).
2. Wave 1: creates N ImageBuilds (default 1000) as fast as possible from 8 threads, each on
   its own keep-alive HTTPS connection. The create time of a build is the client-side time
   at which its POST returned 201.
3. Waits until every wave-1 build has a Job (at most 600 s).
4. Wave 2 (right after the last wave-1 Job): creates WAVE2 builds (default 100) one at a
   time, 100 ms apart, and waits for their Jobs; the cluster is still creating and
   scheduling wave 1's pods then, and the operator reconciling their events.
5. Wave 3 ("after the queue drained"): waits until the operator's ImageBuild queue is empty
   with nothing in flight for 5 s (its /metrics) and every runner pod was judged by the
   scheduler, then WAVE2 more builds as in wave 2.
For waves 2 and 3 it also prints the operator's own histograms: the steps of an ImageBuild
reconcile and its API requests by method.
Prints the figures as a Markdown table plus a few plain lines; exits 1 if a build got no Job.

First (KILN_BENCH_RAW, default 1000): the API server's own write rate, from that many small
ConfigMap creates (8 threads) before anything else.

With KILN_BENCH_FINISHED=F (default 0), a wave 0 comes first: F ImageBuilds created with
`spec.cancel: true` (8 threads), which the operator finishes at once (`Cancelled`, no Job),
and the run waits until every one says so. At the end, every build of the namespace (F + N +
WAVE2) must have been reconciled: a `Ready` condition and `status.observedGeneration` equal to
its generation; exits 1 otherwise.
"""
import base64
import http.client
import json
import os
import re
import ssl
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

kubeconfig, ns, template, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
N = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
WAVE2 = int(sys.argv[6]) if len(sys.argv) > 6 else 100
FINISHED = int(os.environ.get("KILN_BENCH_FINISHED", "0"))

# --- connection (the e2e admin kubeconfig: embedded CA, client cert and key) -------------
cfg = open(kubeconfig).read()


def field(name):
    m = re.search(r"^\s*" + re.escape(name) + r":\s*(\S+)\s*$", cfg, re.M)
    if not m:
        sys.exit(f"{kubeconfig}: no {name}")
    return m.group(1)


server = field("server")
host, port = re.match(r"https://([^:/]+):(\d+)", server).groups()
tmp = tempfile.mkdtemp(prefix="kiln-bench-")
paths = {}
for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
    p = os.path.join(tmp, key)
    with open(p, "wb") as f:
        f.write(base64.b64decode(field(key)))
    os.chmod(p, 0o600)
    paths[key] = p
ctx = ssl.create_default_context(cafile=paths["certificate-authority-data"])
ctx.load_cert_chain(paths["client-certificate-data"], paths["client-key-data"])


def conn(timeout=60):
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=timeout)


# --- operator RSS sampler ------------------------------------------------------------------
rss = []  # (t, KiB)
stop = threading.Event()


def vmrss():
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None


def sampler():
    while not stop.is_set():
        v = vmrss()
        if v is not None:
            rss.append((time.monotonic(), v))
        stop.wait(0.2)


# --- Job watch -------------------------------------------------------------------------------
job_seen = {}  # build name -> monotonic time of the Job's ADDED event
job_cv = threading.Condition()
watch_ready = threading.Event()


def watcher():
    # No read timeout: no Job appears while wave 0's finished builds are created.
    c = conn(timeout=None)
    c.request("GET", f"/apis/batch/v1/namespaces/{ns}/jobs?limit=500")
    r = c.getresponse()
    body = json.loads(r.read())
    rv = body["metadata"]["resourceVersion"]
    c.request("GET", f"/apis/batch/v1/namespaces/{ns}/jobs?watch=1&resourceVersion={rv}"
              "&timeoutSeconds=3600")
    r = c.getresponse()
    if r.status != 200:
        sys.exit(f"watch: HTTP {r.status} {r.read()[:300]!r}")
    watch_ready.set()
    while True:
        line = r.readline()
        now = time.monotonic()
        if not line:
            print("warning: job watch ended", file=sys.stderr)
            return
        ev = json.loads(line)
        if ev["type"] != "ADDED":
            continue
        owners = ev["object"]["metadata"].get("ownerReferences") or []
        for o in owners:
            if o.get("kind") == "ImageBuild":
                with job_cv:
                    job_seen.setdefault(o["name"], now)
                    job_cv.notify_all()


# --- creating builds -------------------------------------------------------------------------
local = threading.local()
created = {}  # build name -> monotonic time the create returned
create_lock = threading.Lock()


def build_body(name):
    spec = {
        "templateRef": {"name": template},
        # Nothing has this label: runner pods stay Pending, the node is not flooded.
        "runner": {"nodeSelector": {"kiln.dev/bench": "none"}},
    }
    kind = "load"
    if name.startswith("done-"):
        # Wave 0: finished at once by the operator (cancelled before it started).
        spec["cancel"] = True
        kind = "finished"
    return json.dumps({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": "ImageBuild",
        "metadata": {"name": name, "labels": {"kiln.dev/bench": kind}},
        "spec": spec,
    })


def list_builds():
    """Every ImageBuild of the namespace (paged), as dicts."""
    c = conn()
    out, cont = [], ""
    while True:
        c.request("GET", f"/apis/kiln.dev/v1alpha1/namespaces/{ns}/imagebuilds?limit=500"
                  + (f"&continue={cont}" if cont else ""))
        body = json.loads(c.getresponse().read())
        out.extend(body.get("items", []))
        cont = body.get("metadata", {}).get("continue")
        if not cont:
            return out


def reconciled(b):
    st = b.get("status") or {}
    ready = any(c.get("type") == "Ready" for c in st.get("conditions") or [])
    return ready and st.get("observedGeneration") == b["metadata"].get("generation")


def operator_metrics():
    """The operator's /metrics text (pod IP, port 8080), or None when it cannot be read."""
    op_ns = os.environ.get("KILN_BENCH_OPERATOR_NAMESPACE", "kiln-system")
    try:
        c = conn()
        c.request("GET", f"/api/v1/namespaces/{op_ns}/pods?labelSelector="
                  "app.kubernetes.io%2Fname%3Dkiln")
        pods = json.loads(c.getresponse().read())["items"]
        ip = [p["status"]["podIP"] for p in pods if p["status"].get("podIP")][0]
        m = http.client.HTTPConnection(ip, 8080, timeout=10)
        m.request("GET", "/metrics")
        return m.getresponse().read().decode()
    except Exception as e:  # noqa: BLE001 - a diagnostic only
        print(f"(operator metrics not readable: {e})", file=sys.stderr)
        return None


def histograms(name, label):
    """Cumulative buckets of histogram `name` by the value of `label`: {value: {le: count}}."""
    text = operator_metrics()
    if text is None:
        return None
    out = {}
    for line in text.splitlines():
        if not line.startswith(name + "_bucket{"):
            continue
        g = re.search(r'le="([^"]+)"', line)
        v = re.search(label + r'="([^"]+)"', line)
        n = re.search(r"\} (\S+)$", line)
        if g and v and n:
            out.setdefault(v.group(1), {})[g.group(1)] = float(n.group(1))
    return out


def reconcile_histogram():
    """Cumulative buckets of kiln_reconcile_duration_seconds{controller="imagebuild"}."""
    h = histograms("kiln_reconcile_duration_seconds", "controller")
    return None if h is None else h.get("imagebuild", {})


def gauge(text, name, controller):
    g = re.search(name + r'\{controller="' + controller + r'"\} (\S+)', text or "")
    return float(g.group(1)) if g else None


def settle(n_pods, timeout):
    """Waits until the operator's ImageBuild queue is empty and nothing is in flight for 5 s
    running, and the namespace's runner pods all exist and were judged by the scheduler
    (PodScheduled set): the queue drained and the cluster quiet. Returns seconds waited."""
    t = time.monotonic()
    quiet_since = None
    while time.monotonic() - t < timeout:
        text = operator_metrics()
        idle = (gauge(text, "kiln_reconcile_queue_depth", "imagebuild") == 0
                and gauge(text, "kiln_reconcile_in_flight", "imagebuild") == 0)
        if idle:
            quiet_since = quiet_since or time.monotonic()
        else:
            quiet_since = None
        if quiet_since and time.monotonic() - quiet_since >= 5:
            c = conn()
            c.request("GET", f"/api/v1/namespaces/{ns}/pods")
            pods = json.loads(c.getresponse().read()).get("items", [])
            judged = sum(1 for p in pods if any(
                x.get("type") == "PodScheduled"
                for x in (p.get("status") or {}).get("conditions") or []))
            if judged >= n_pods:
                return time.monotonic() - t
            quiet_since = None
        time.sleep(0.5)
    return None


def delta_quantiles(before, after):
    """{label: (count, p50 bound, p90 bound, p99 bound)} of histograms between two reads."""
    out = {}
    for key, buckets in (after or {}).items():
        b0 = (before or {}).get(key, {})
        delta = [(le, buckets[le] - b0.get(le, 0.0)) for le in buckets]
        total = dict(delta).get("+Inf", 0.0)

        def upto(q):
            for le, n in delta:
                if total and n >= q * total:
                    return le
            return "?"
        if total:
            out[key] = (total, upto(0.5), upto(0.9), upto(0.99))
    return out


def create(name):
    if not hasattr(local, "c"):
        local.c = conn()
    for attempt in range(5):
        try:
            local.c.request("POST", f"/apis/kiln.dev/v1alpha1/namespaces/{ns}/imagebuilds",
                            body=build_body(name),
                            headers={"Content-Type": "application/json"})
            r = local.c.getresponse()
            data = r.read()
            t = time.monotonic()
            if r.status == 201:
                with create_lock:
                    created[name] = t
                return
            if r.status == 429 or r.status >= 500:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise RuntimeError(f"create {name}: HTTP {r.status} {data[:300]!r}")
        except (http.client.HTTPException, OSError):
            local.c = conn()
    raise RuntimeError(f"create {name}: gave up")


def wait_jobs(names, timeout):
    deadline = time.monotonic() + timeout
    with job_cv:
        while True:
            missing = [n for n in names if n not in job_seen]
            left = deadline - time.monotonic()
            if not missing or left <= 0:
                return missing
            job_cv.wait(min(left, 1.0))


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(1, -(-len(s) * p // 100))  # ceil(n*p/100)
    return s[int(k) - 1]


def ms(v):
    return f"{v * 1000:.0f} ms"


def rss_between(t0, t1):
    vals = [v for t, v in rss if t0 <= t <= t1]
    return max(vals) if vals else None


def mib(kib):
    return f"{kib / 1024:.1f} MiB" if kib is not None else "n/a"


threading.Thread(target=sampler, daemon=True).start()
threading.Thread(target=watcher, daemon=True).start()
if not watch_ready.wait(30):
    sys.exit("job watch did not start")
time.sleep(1.0)
t_idle = time.monotonic()
idle_now = vmrss()

# The API server's own write rate on this machine now: RAW small ConfigMaps created from 8
# threads (keep-alive connections), nothing else of the benchmark running yet; then deleted.
RAW = int(os.environ.get("KILN_BENCH_RAW", "1000"))
if RAW:
    def raw_create(i):
        if not hasattr(local, "c"):
            local.c = conn()
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": f"raw-{i:05d}",
                                        "labels": {"kiln.dev/bench": "raw"}},
                           "data": {"k": "v"}})
        local.c.request("POST", f"/api/v1/namespaces/{ns}/configmaps", body=body,
                        headers={"Content-Type": "application/json"})
        r = local.c.getresponse()
        r.read()
        if r.status != 201:
            raise RuntimeError(f"raw create: HTTP {r.status}")
    t_raw = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(raw_create, range(RAW)))
    dt_raw = time.monotonic() - t_raw
    print(f"API server write rate: {RAW} ConfigMap creates from 8 threads in {dt_raw:.2f} s "
          f"= {RAW / dt_raw:.0f} writes/s")
    c = conn()
    c.request("DELETE", f"/api/v1/namespaces/{ns}/configmaps?labelSelector=kiln.dev%2Fbench%3Draw")
    c.getresponse().read()

# Wave 0: finished builds (cancelled before they start), as a day's history would leave.
t_w0 = time.monotonic()
if FINISHED:
    done = [f"done-{i:05d}" for i in range(FINISHED)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, done))
    t_w0_created = time.monotonic()
    deadline = time.monotonic() + 1800
    while True:
        phases = [((b.get("status") or {}).get("phase")) for b in list_builds()]
        n_done = sum(1 for p in phases if p == "Cancelled")
        if n_done >= FINISHED or time.monotonic() > deadline:
            break
        time.sleep(5)
    t_w0_end = time.monotonic()
    print(f"wave 0: {FINISHED} finished builds created in {t_w0_created - t_w0:.1f} s "
          f"({FINISHED / (t_w0_created - t_w0):.0f}/s), all Cancelled after "
          f"{t_w0_end - t_w0:.1f} s ({n_done}/{FINISHED}); operator VmRSS peak "
          f"{mib(rss_between(t_w0, t_w0_end))}, now {mib(vmrss())}")
    if n_done < FINISHED:
        sys.exit("wave 0: not every finished build was reconciled")
idle_now = vmrss()

# --- where the machine's CPU went during wave 1 -------------------------------------------
CPU_NAMES = ("kube-apiserver", "etcd", "kube-scheduler", "kube-controller",  # comm: 15 characters
             "kubelet", "kiln", "runc", "crun", "python3")


def cpu_seconds():
    """CPU seconds (user + system, children reaped included) of the cluster's processes by
    name, this script's own, and the machine's busy and total CPU seconds (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    by = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        f = raw[raw.rindex(")") + 2:].split()
        if name in CPU_NAMES:
            by[name] = by.get(name, 0.0) + (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / tick
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / tick
    return by, busy, sum(cpu) / tick


# Wave 1: N builds at once.
wave1 = [f"load-{i:04d}" for i in range(N)]
cpu0 = cpu_seconds()
t0 = time.monotonic()
with ThreadPoolExecutor(max_workers=8) as pool:
    list(pool.map(create, wave1))
t_created = time.monotonic()
missing1 = wait_jobs(wave1, 600)
t_drained = time.monotonic()
cpu1 = cpu_seconds()

def wave(prefix):
    """WAVE2 builds created one at a time, 100 ms apart; returns their names, the Jobs
    missing after 120 s, its time span, and the operator's histograms around it."""
    before = (reconcile_histogram(),
              histograms("kiln_build_reconcile_step_seconds", "step"),
              histograms("kiln_api_request_duration_seconds", "method"))
    names = [f"{prefix}-{i:03d}" for i in range(WAVE2)]
    t_start = time.monotonic()
    for n in names:
        create(n)
        time.sleep(0.1)
    missing = wait_jobs(names, 120)
    t_stop = time.monotonic()
    after = (reconcile_histogram(),
             histograms("kiln_build_reconcile_step_seconds", "step"),
             histograms("kiln_api_request_duration_seconds", "method"))
    return names, missing, (t_start, t_stop), before, after


# Wave 2: right after every wave-1 Job exists (the cluster still creating and scheduling
# their pods, the operator still reconciling the pods' events).
time.sleep(2.0)
wave2, missing2, (t2, t_end), before2, after2 = wave("after")
hist_before, hist_after = before2[0], after2[0]
# Wave 3: after the queue drained: the operator's ImageBuild queue empty and idle for 5 s
# and every runner pod judged by the scheduler.
settled_in = settle(N + WAVE2, 600)
wave3, missing3, (t3, t3_end), before3, after3 = wave("settled")
stop.set()


def lat(names):
    return [job_seen[n] - created[n] for n in names if n in job_seen and n in created]


l1, l2, l3 = lat(wave1), lat(wave2), lat(wave3)
# Within wave 1: the last 100 builds whose create returned after the first 900 Jobs existed.
jobs_sorted = sorted(job_seen[n] for n in wave1 if n in job_seen)
tail = []
if len(jobs_sorted) >= 900:
    t900 = jobs_sorted[899]
    tail = [job_seen[n] - created[n] for n in wave1
            if n in job_seen and created.get(n, 0) > t900]

print(f"operator pid {pid}; VmRSS idle (just before wave 1): {mib(idle_now)}")
# Processes that exited during wave 1 are not counted by name (their children's times are,
# once reaped); the machine's busy time counts everything.
busy, total = cpu1[1] - cpu0[1], cpu1[2] - cpu0[2]
print(f"wave 1 CPU: machine {100 * busy / total:.0f}% busy over {t_drained - t0:.1f} s "
      f"({busy:.0f} of {total:.0f} CPU-s); by process: "
      + ", ".join(f"{k} {cpu1[0].get(k, 0) - cpu0[0].get(k, 0):.0f} s"
                  for k in sorted(cpu1[0], key=lambda k: cpu0[0].get(k, 0) - cpu1[0][k])))
print(f"wave 1: {sum(1 for n in wave1 if n in created)} ImageBuilds created in {t_created - t0:.2f} s "
      f"({N / (t_created - t0):.0f}/s); all Jobs {t_drained - t0:.2f} s after the first create")
print(f"Jobs: wave 1 {N - len(missing1)}/{N}, wave 2 {WAVE2 - len(missing2)}/{WAVE2}, "
      f"wave 3 {WAVE2 - len(missing3)}/{WAVE2}")
print("wave 3 began once the operator's queue had drained and the cluster was quiet: "
      + (f"{settled_in:.1f} s after wave 2" if settled_in is not None
         else "NOT REACHED in 600 s (measured anyway)"))
print()
print("| measurement | builds | p50 | p90 | p99 | max |")
print("|---|---|---|---|---|---|")
for label, v in (("wave 1: 1 000 at once, create → Job ADDED", l1),
                 ("wave 1, created after the first 900 Jobs existed", tail),
                 ("wave 2: right after the last wave-1 Job, one per 100 ms", l2),
                 ("wave 3: after the queue drained (operator idle 5 s, every pod scheduled"
                  " or judged unschedulable), one per 100 ms", l3)):
    if v:
        print(f"| {label} | {len(v)} | {ms(pct(v, 50))} | {ms(pct(v, 90))} | "
              f"{ms(pct(v, 99))} | {ms(max(v))} |")
    else:
        print(f"| {label} | 0 | – | – | – | – |")
if hist_before is not None and hist_after is not None:
    # Server side: every ImageBuild reconcile during wave 2 (the one that creates a Job and
    # the follow-ups its own writes trigger), from the operator's histogram.
    delta = [(le, hist_after[le] - hist_before.get(le, 0.0)) for le in hist_after]
    total = dict(delta).get("+Inf", 0.0)
    def upto(q):
        for le, n in delta:
            if total and n >= q * total:
                return le
        return "?"
    print()
    print(f"operator side, wave 2: {total:.0f} ImageBuild reconciles; 50% took ≤ {upto(0.5)} s, "
          f"90% ≤ {upto(0.9)} s, 99% ≤ {upto(0.99)} s (histogram bucket bounds)")
for label, (b, a) in (("wave 2", (before2, after2)), ("wave 3", (before3, after3))):
    for title, i in (("ImageBuild reconcile steps", 1), ("API requests", 2)):
        q = delta_quantiles(b[i], a[i])
        if q:
            print(f"operator side, {label}, {title} (count, p50/p90/p99 bucket bounds in s): "
                  + "; ".join(f"{k} {n:.0f}: {p50}/{p90}/{p99}"
                              for k, (n, p50, p90, p99) in sorted(q.items())))
print()
print(f"operator VmRSS peak: wave 1 {mib(rss_between(t0, t_drained))}, "
      f"wave 2 {mib(rss_between(t2, t_end))}, whole run {mib(rss_between(t0, t3_end + 1))}; "
      f"at the end {mib(rss[-1][1] if rss else None)} ({len(rss)} samples, every 200 ms)")
bad = 0
if FINISHED:
    # Every build of the namespace reconciled (wave 0, 1 and 2), and the memory with all of
    # them cached.
    time.sleep(10)
    items = list_builds()
    bad = sum(1 for b in items if not reconciled(b))
    print(f"reconciled: {len(items) - bad} of {len(items)} ImageBuilds (Ready condition, "
          f"observedGeneration = generation); operator VmRSS now {mib(vmrss())}, "
          f"peak over the whole run {mib(max((v for _, v in rss), default=None))}")
sys.exit(1 if missing1 or missing2 or missing3 or bad else 0)
