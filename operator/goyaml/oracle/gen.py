#!/usr/bin/env python3
"""Generates the comparison corpus: YAML-ish documents, hex-encoded, one a line.

    usage: gen.py SEED COUNT [--valid-utf8]

A grammar-ish generator (block/flow collections, indentation, comments, anchors and
aliases, tags, directives, document markers, scalars of every style, escapes, long keys,
deep nesting) plus random mutations of its output (bytes inserted, deleted, swapped,
tabs, BOMs, CRLF, invalid UTF-8). With --valid-utf8, only documents that are valid UTF-8
(what Packer's file() can read).
"""
import random
import sys

WORDS = ["a", "b", "key", "x y", "true", "no", "on", "~", "null", "1", "-2", "0x1F", "0o17",
         "0b101", "1_000", "1.5", "-.inf", ".nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
         "<<", "=", "é", "日本", "12e3", "+1", ".5", "0777", "Yes", "OFF", "y", "", "-", "?x", ":x",
         "a:b", "a#b", "c d e", "@x", "`x", "%x", "9223372036854775808", "-9223372036854775809"]
TAGS = ["!", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!binary",
        "!!timestamp", "!!merge", "!x", "!]", "!<tag:yaml.org,2002:str>", "!<!>", "!e!x",
        "!foo!bar", "!%41", "!%zz", "!%C3%A9", "!!%FF", "!<>", "!a!", "!!"]
ESC = ["\\n", "\\t", "\\\\", "\\\"", "\\x41", "\\u00e9", "\\U0001F600", "\\q", "\\x4", "\\uD800",
       "\\N", "\\_", "\\L", "\\P", "\\0", "\\e", "\\ ", "\\\t", "\\/"]


class G:
    def __init__(self, r):
        self.r = r
        self.anchors = []

    def word(self):
        r = self.r
        if r.random() < 0.004:
            return "k" * r.choice([1000, 1023, 1024, 1025, 1030, 1100])
        return r.choice(WORDS) if r.random() < 0.6 else "".join(
            r.choice("abcxyz019 -_.:#,[]{}!&*'\"|>%@`?") for _ in range(r.randint(1, 6)))

    def plain(self):
        w = self.word().strip()
        if not w or w[0] in "-?:,[]{}#&*!|>'\"%@` " or ": " in w or " #" in w or w.endswith(":"):
            w = "p" + w.replace(": ", "").replace(" #", "").rstrip(":")
        return w or "p"

    def props(self):
        r = self.r
        s = ""
        if r.random() < 0.12:
            a = r.choice(["a1", "b", "x-y", "a1", "c_2", "0"])
            self.anchors.append(a)
            s += "&" + a + " "
        if r.random() < 0.12:
            s += r.choice(TAGS) + " "
        if r.random() < 0.3 and s:
            s = " ".join(reversed(s.split())) + " "
        return s

    def scalar(self, ind, flow=False):
        r = self.r
        k = r.random()
        if k < 0.06 and self.anchors:
            return "*" + r.choice(self.anchors + ["nope"])
        p = self.props()
        if k < 0.45:
            return p + self.plain()
        if k < 0.6:
            s = self.word().replace("'", "''")
            if r.random() < 0.2:
                s += "\n" + " " * r.randint(0, ind + 2) + self.word().replace("'", "''")
            return p + "'" + s + "'"
        if k < 0.8:
            s = "".join(r.choice([self.word().replace("\\", "").replace('"', ""), r.choice(ESC)])
                        for _ in range(r.randint(1, 3)))
            if r.random() < 0.2:
                s += r.choice(["\n", "\\\n", "\n\n"]) + " " * r.randint(0, ind + 2) + "w"
            return p + '"' + s + '"'
        if flow:
            return p + self.plain()
        head = r.choice(["|", ">", "|-", ">+", "|2", ">1-", "|0", "|+9", "| #c", "|x"])
        lines = []
        for _ in range(r.randint(0, 4)):
            extra = r.choice([0, 0, 0, 1, 2, -1])
            lines.append(" " * max(0, ind + 2 + extra) + r.choice(["", "t", "line two", "\tt", "  x"]))
        return p + head + "\n" + "\n".join(lines)

    def flow(self, depth):
        r = self.r
        if depth > 2 or r.random() < 0.5:
            return self.scalar(0, flow=True)
        p = self.props()
        if r.random() < 0.5:
            items = [self.flow(depth + 1) for _ in range(r.randint(0, 3))]
            if r.random() < 0.2 and items:
                items[0] = "? " + items[0]
            if r.random() < 0.15 and items:
                items[-1] = items[-1] + ": " + self.flow(depth + 1)
            sep = r.choice([", ", ",", " , ", ",\n  ", ", # c\n "])
            return p + "[" + sep.join(items) + ("," if r.random() < 0.1 else "") + "]"
        items = []
        for _ in range(r.randint(0, 3)):
            kk = r.random()
            if kk < 0.1:
                items.append(self.flow(depth + 1))
            elif kk < 0.2:
                items.append("? " + self.flow(depth + 1))
            elif kk < 0.25:
                items.append(": " + self.flow(depth + 1))
            else:
                items.append(self.flow(depth + 1) + r.choice([": ", ":", " : "]) + self.flow(depth + 1))
        return p + "{" + r.choice([", ", ",", ",\n "]).join(items) + "}"

    def block(self, ind, depth):
        r = self.r
        if depth > 3 or r.random() < 0.3:
            return self.scalar(ind) if r.random() < 0.7 else self.flow(0)
        sp = " " * ind
        out = []
        if r.random() < 0.45:
            for _ in range(r.randint(1, 3)):
                d = r.choice([2, 2, 1, 3, 0, 4])
                out.append(sp + "-" + r.choice([" ", " ", "\t", "  "]) + self.block_after(ind + d, depth))
        else:
            for _ in range(r.randint(1, 3)):
                kk = r.random()
                if kk < 0.1:
                    key = "? " + self.scalar(ind + 2, flow=True) + "\n" + sp + ":"
                elif kk < 0.15:
                    key = ":"
                elif kk < 0.2:
                    key = self.flow(2) + ":"
                else:
                    key = self.scalar(ind, flow=True) + r.choice([":", ":", " :"])
                out.append(sp + key + r.choice([" ", " ", "  ", "\t", "\n" + " " * (ind + 2)])
                           + self.block_after(ind + r.choice([2, 2, 1, 0, 4]), depth))
        sep = r.choice(["\n", "\n", "\n", "\n\n", "\n# comment\n", "  # c\n", "\r\n", "\n\t\n"])
        return self.props().rstrip() + ("\n" if r.random() < 0.1 else "") + sep.join(out) \
            if r.random() < 0.05 else sep.join(out)

    def block_after(self, ind, depth):
        r = self.r
        if r.random() < 0.5:
            v = self.block(ind, depth + 1)
            if "\n" in v or v.lstrip().startswith(("-", "?")) or (": " in v and not v.startswith(("[", "{", '"', "'"))):
                return "\n" + v
            return v.lstrip()
        return self.scalar(ind) if r.random() < 0.8 else self.flow(0)

    def document(self):
        r = self.r
        pre = ""
        for _ in range(r.choice([0] * 8 + [1, 2])):
            pre += r.choice(["%YAML 1.1\n", "%YAML 1.2\n", "%YAML 2.0\n", "%TAG !e! tag:e.com,2000:\n",
                             "%TAG ! !foo\n", "%TAG !! tag:x:\n", "%FOO bar\n", "%YAML 1.1 # c\n",
                             "%YAML 1.123\n", "%TAG !e!\n", "%YAML1.1\n"])
        if pre or r.random() < 0.15:
            pre += r.choice(["---\n", "--- ", "---", "--- # c\n", "--- |\n  x\n"])
        body = self.block(0, 0) if r.random() < 0.8 else self.flow(0)
        post = r.choice(["\n"] * 6 + ["", "\n...\n", "\n---\nb: 2\n", "\n--- x\n", "\n...\n---\n",
                                      "\n...\n%YAML 1.1\n---\nz\n", "\n... # c\n", "\n\n\n"])
        return pre + body + post


SPECIAL = ["\ufeff", "\t", "\r\n", "\r", "\x00", "\x01", "\x7f", "\x85", "\u2028", "\ufffe",
           "\xa0", " ", "\n", ":", "-", "? ", "#", "&", "*", "!", "'", '"', "[", "]", "{", "}", ",",
           "|", ">", "%", "@", "\\", "---", "...", "\n  ", "\n\t", ": ", "- "]
BAD = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80",
       b"\xfe\xff", b"\xff\xfe"]


def mutate(r, doc, valid):
    b = doc.encode("utf-8")
    for _ in range(r.randint(1, 3)):
        k = r.random()
        i = r.randint(0, len(b))
        if k < 0.45:
            b = b[:i] + r.choice(SPECIAL).encode("utf-8") + b[i:]
        elif k < 0.65:
            j = min(len(b), i + r.randint(1, 4))
            b = b[:i] + b[j:]
        elif k < 0.75:
            j = r.randint(0, len(b))
            i, j = min(i, j), max(i, j)
            b = b[:i] + b[j:] + b[i:j]
        elif k < 0.85 and not valid:
            b = b[:i] + r.choice(BAD) + b[i:]
        elif k < 0.9:
            b = b.replace(b"\n", b"\r\n")
        elif k < 0.95:
            b = b.replace(b"  ", b"\t", 1)
        else:
            b = b"\xef\xbb\xbf" + b
    if valid:
        b = b.decode("utf-8", "ignore").encode("utf-8")
    return b


def utf16(r, doc):
    if r.random() < 0.5:
        return b"\xff\xfe" + doc.encode("utf-16-le", "surrogatepass")
    return b"\xfe\xff" + doc.encode("utf-16-be", "surrogatepass")


def deep(r):
    n = r.choice([50, 200, 1000, 5000])
    k = r.random()
    if k < 0.3:
        return "[" * n + "]" * n
    if k < 0.5:
        return "{a: " * n + "1" + "}" * n
    if k < 0.7:
        return "".join(" " * i + "- \n" for i in range(min(n, 300))) + " " * 300 + "x\n"
    if k < 0.85:
        return "".join(" " * i + "k:\n" for i in range(min(n, 300)))
    return "a: &x [1]\nb: &x " + "[" * 20 + "*x" + "]" * 20 + "\n"


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    valid = "--valid-utf8" in sys.argv
    r = random.Random(seed)
    for _ in range(count):
        g = G(r)
        k = r.random()
        if k < 0.03:
            b = deep(r).encode()
        elif k < 0.05 and not valid:
            b = utf16(r, g.document())
        else:
            doc = g.document()
            b = doc.encode("utf-8") if r.random() < 0.5 else mutate(r, doc, valid)
        print(b.hex())


main()
