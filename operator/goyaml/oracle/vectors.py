#!/usr/bin/env python3
"""Picks regression vectors from oracle outputs: for each corpus (hex inputs, oracle `ev`
output), every input the oracle printed, grouped by outcome (OK, or the error's problem),
keeping up to PER of each outcome among the inputs under MAXLEN bytes (every input of a
HEXFILE given as `all:FILE`). Prints
tests/vectors.txt's format: `IN hex`, the oracle's lines, `END`.

    usage: vectors.py PER MAXLEN HEXFILE GOFILE [HEXFILE GOFILE...]
"""
import random
import sys

per, maxlen = int(sys.argv[1]), int(sys.argv[2])
args = sys.argv[3:]
r = random.Random(1)
groups = {}
seen = set()
every = []
for hf, gf in zip(args[0::2], args[1::2]):
    take_all = hf.startswith("all:")
    hf = hf.removeprefix("all:")
    hexes = open(hf).read().split("\n")
    cur, lines = None, []
    docs = []
    for line in open(gf, encoding="latin-1"):
        line = line.rstrip("\n")
        if line.startswith("DOC "):
            if cur is not None:
                docs.append((cur, lines))
            cur, lines = int(line.split()[1]), []
        elif not line.startswith("DEC "):
            lines.append(line)
    if cur is not None:
        docs.append((cur, lines))
    for i, lines in docs:
        h = hexes[i]
        if h in seen or (len(h) // 2 > maxlen and not take_all):
            continue
        seen.add(h)
        if take_all:
            every.append((h, lines))
            continue
        last = [l for l in lines if l == "OK" or l.startswith("ERR")][-1]
        key = "OK" if last == "OK" else last.split('"')[1]
        # Separate the outcomes further by where the error is (first line or not).
        if key != "OK":
            key += " L0" if " 0/0/" in last or "/0/" in last.split()[-4] else ""
        groups.setdefault(key, []).append((h, lines))
for h, lines in every:
    print("IN " + h)
    for l in lines:
        print(l)
    print("END")
for key in sorted(groups):
    items = groups[key]
    r.shuffle(items)
    for h, lines in items[:per]:
        print("IN " + h)
        for l in lines:
            print(l)
        print("END")
