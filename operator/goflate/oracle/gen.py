#!/usr/bin/env python3
"""Generates `LEVEL CHUNK FLUSH HEXDATA` lines for oracle/compare.sh: texts, repeats, runs,
small alphabets, random bytes and mixtures, short and long (past the 32 KiB window, the 16384
token block limit and the 65535-byte stored block), at every level, in one write or many,
with or without a sync flush after each write."""
import random
import sys

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
# `pgzip`: lines for oracle/pgzip (`LEVEL BLOCKSIZE CHUNK HEXDATA`, levels -2 to 9).
mode = sys.argv[3] if len(sys.argv) > 3 else "gzip"
r = random.Random(seed)
WORDS = ("the quick brown fox jumps over lazy dog packer kiln build source "
         "variable locals image disk qemu docker ssh provisioner shell file line "
         "{ } = \" , [ ] ( ) ${var.x} 0 1 2 3 4 5 6 7 8 9 \n \t").split(" ")
LEVELS = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]


def size():
    k = r.random()
    if k < 0.25:
        return r.randint(0, 40)
    if k < 0.6:
        return r.randint(0, 2000)
    if k < 0.9:
        return r.randint(2000, 70000)
    return r.randint(70000, 300000)


def piece(n):
    kind = r.randrange(8)
    if kind == 0:  # words
        out, m = [], 0
        while m < n:
            w = r.choice(WORDS) + (" " if r.random() < 0.8 else "")
            out.append(w)
            m += len(w)
        return "".join(out).encode()[:n]
    if kind == 1:  # random bytes
        return random_bytes(n)
    if kind == 2:  # small alphabet
        a = bytes(r.sample(range(256), r.randint(1, 6)))
        return bytes(a[i % len(a)] for i in random_bytes(n))
    if kind == 3:  # one repeated unit
        u = random_bytes(r.randint(1, 300))
        return (u * (n // len(u) + 1))[:n]
    if kind == 4:  # runs
        out = bytearray()
        while len(out) < n:
            out += bytes([r.getrandbits(8)]) * r.randint(1, 600)
        return bytes(out[:n])
    if kind == 5:  # numbered lines (like join + range)
        s = r.choice(["line ", "item-", "x", ""])
        return ",".join(f"{s}{i}" for i in range(n // 4 + 1)).encode()[:n]
    if kind == 6:  # text with far repeats
        base = piece(min(n, r.randint(10, 5000)))
        out = bytearray()
        while len(out) < n:
            if r.random() < 0.5 and base:
                i = r.randrange(len(base))
                out += base[i:i + r.randint(3, 400)]
            else:
                out += random_bytes(r.randint(1, 50))
        return bytes(out[:n])
    # zeros with sparse bytes (tar-like)
    out = bytearray(n)
    for _ in range(n // 200):
        out[r.randrange(n)] = r.getrandbits(8)
    return bytes(out)


def random_bytes(n):
    return r.getrandbits(8 * n).to_bytes(n, "little") if n else b""


for _ in range(count):
    n = size()
    if mode == "pgzip" and r.random() < 0.1:
        n = r.randint(490000, 1100000)
    data = b""
    while len(data) < n:
        data += piece(min(n - len(data), r.randint(1, max(1, n))))
    if mode == "pgzip":
        block = r.choice([16385, 20000, 65535, 65536, 100000, 500000, 500000])
        chunk = 0 if r.random() < 0.5 else r.choice([512, 4096, 10240, 32768, 100000])
        print(r.choice([-2, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), block, chunk, data.hex())
        continue
    level = r.choice(LEVELS)
    chunk = 0 if r.random() < 0.6 else r.choice([1, 7, 100, 4096, 32768, 65535, 65536, 100000])
    if chunk == 1 and n > 3000:
        chunk = 0
    flush = 1 if r.random() < 0.5 else 0
    if flush and chunk and n // chunk > 200:
        chunk = 0
    print(level, chunk, flush, data.hex())
