#!/usr/bin/env python3
"""API writes the API server counted, by resource and verb, from its /metrics
(apiserver_request_total): `snapshot` prints them as JSON; `diff BEFORE AFTER BUILDS` prints
what was written in between, in total and per build, for the resources the operator writes
(events are counted for every component: the scheduler's and the Job controller's too).

usage: kubectl get --raw /metrics | scripts/apiserver-writes.py snapshot > before.json
       scripts/apiserver-writes.py diff before.json after.json 1100
"""
import json
import re
import sys

WRITE_VERBS = ("POST", "PATCH", "APPLY", "PUT", "DELETE")
# What the operator writes per build, and what other components write because of it.
OPERATOR = [
    "configmaps", "serviceaccounts", "roles", "rolebindings", "jobs", "imagebuilds/status",
    "imagebuilds", "events",
]
OTHERS = ["jobs/status", "pods", "pods/status", "pods/binding"]


def snapshot(text):
    counts = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line[line.index("{"):line.rindex("}")]))
        verb = labels.get("verb", "")
        if verb not in WRITE_VERBS:
            continue
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        key = f"{resource} {verb}"
        n = float(line.rsplit(" ", 1)[1])
        counts[key] = counts.get(key, 0) + n
        code = labels.get("code", "")
        if not code.startswith("2"):
            # Refused writes (409 conflict, 429 too many requests, 403...) are in the total
            # too; they are listed apart so a retried or lost write shows.
            counts[f"{key} {code}"] = counts.get(f"{key} {code}", 0) + n
    return counts


def diff(before, after, builds):
    rows = []
    for key in sorted(set(after) | set(before)):
        n = after.get(key, 0) - before.get(key, 0)
        if n > 0:
            rows.append((key, n))
    def show(title, names):
        print(title)
        total = 0
        for key, n in rows:
            if key.split(" ")[0] in names:
                refused = len(key.split(" ")) > 2
                if refused:
                    key = f"  of which answered {key.split(' ')[2]}"
                else:
                    total += n
                print(f"  {key:<32} {int(n):>8}  {n / builds:6.2f} per build")
        print(f"  {'total':<32} {int(total):>8}  {total / builds:6.2f} per build")
    show(f"API writes during the load ({builds} builds), resources the operator writes:", OPERATOR)
    show("written by other components because of them:", OTHERS)


if __name__ == "__main__":
    if sys.argv[1:2] == ["snapshot"]:
        json.dump(snapshot(sys.stdin.read()), sys.stdout)
    elif sys.argv[1:2] == ["diff"] and len(sys.argv) == 5:
        with open(sys.argv[2]) as b, open(sys.argv[3]) as a:
            diff(json.load(b), json.load(a), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
