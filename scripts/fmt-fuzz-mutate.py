#!/usr/bin/env python3
"""Random mutations of an HCL file for scripts/fmt-fuzz.sh: whitespace inside expressions
(around =, commas, brackets, operators), indentation, trailing blanks, blank lines, and
(STRUCT) line breaks after commas and opening brackets and end-of-line comments. Strings,
comments and heredocs are left alone. Usage: fmt-fuzz-mutate.py FILE SEED [plain]"""
import random, re, sys

def segments(line):
    """Split a line into (code, is_code) pieces: strings and comments are not code."""
    out, i, n, start = [], 0, len(line), 0
    while i < n:
        c = line[i]
        if c == '"':
            if i > start: out.append((line[start:i], True))
            j = i + 1; depth = 0
            while j < n:
                if line[j] == '\\': j += 2; continue
                if line[j:j+2] in ('${', '%{'): depth += 1; j += 2; continue
                if line[j] == '}' and depth: depth -= 1; j += 1; continue
                if line[j] == '"' and depth == 0: break
                j += 1
            out.append((line[i:j+1], False)); i = j + 1; start = i; continue
        if c == '#' or line[i:i+2] == '//' or line[i:i+2] == '/*':
            if i > start: out.append((line[start:i], True))
            out.append((line[i:], False)); return out
        i += 1
    if start < n: out.append((line[start:], True))
    return out

def mutate_code(s, r):
    ops = [
        lambda s: re.sub(r'\s*=\s*', lambda m: r.choice(['=', ' = ', '  =  ', ' =', '= ']), s, count=1) if '==' not in s and '=>' not in s and '!=' not in s and '<=' not in s and '>=' not in s else s,
        lambda s: re.sub(r',\s*', lambda m: r.choice([',', ', ', ' ,  ', ',   ']), s),
        lambda s: re.sub(r'([\[\(\{])\s*', lambda m: m.group(1) + r.choice(['', ' ', '  ']), s),
        lambda s: re.sub(r'\s*([\]\)\}])', lambda m: r.choice(['', ' ', '  ']) + m.group(1), s),
        lambda s: re.sub(r'\s*([+*/%]|&&|\|\||==|!=)\s*', lambda m: r.choice(['', ' ', '  ']) + m.group(1) + r.choice(['', ' ', '  ']), s),
        lambda s: re.sub(r'\s*(\?|:)\s*', lambda m: r.choice([' ', '  ']) + m.group(1) + r.choice([' ', '  ']), s),
        lambda s: s,
    ]
    return r.choice(ops)(s)

STRUCT = len(sys.argv) < 4 or sys.argv[3] != "plain"

def main():
    path, seed = sys.argv[1], int(sys.argv[2])
    r = random.Random(seed)
    text = open(path, encoding='utf-8', errors='replace').read()
    lines = text.split('\n')
    out, heredoc = [], None
    for line in lines:
        if heredoc:
            out.append(line)
            if line.strip() == heredoc: heredoc = None
            continue
        m = re.search(r'<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$', line)
        if m: heredoc = m.group(1); out.append(line); continue
        if r.random() < 0.5:
            segs = segments(line)
            line = ''.join(mutate_code(s, r) if code and r.random() < 0.6 else s for s, code in segs)
        if STRUCT and r.random() < 0.15:
            segs = segments(line)
            new = []
            for seg, code in segs:
                if code and r.random() < 0.5:
                    seg = re.sub(r'([,\[(])', lambda m: m.group(1) + ('\n' + ' ' * r.randrange(0, 9) if r.random() < 0.3 else ''), seg)
                new.append(seg)
            line = ''.join(new)
        if STRUCT and r.random() < 0.08 and not line.rstrip().endswith(('\\',)) and '#' not in line and '//' not in line and '/*' not in line and '"' not in line[-1:]:
            line = line + r.choice([' # c', '  // note', '\t# x  ', ' /* k */'])
        if r.random() < 0.2:
            line = r.choice(['', ' ', '  ', '\t', '    ']) + line.lstrip(' \t')
        if r.random() < 0.1:
            line += r.choice([' ', '  ', '\t'])
        out.append(line)
        if r.random() < 0.04:
            out.append(r.choice(['', '  ', '\t']))
    sys.stdout.write('\n'.join(out))

main()
