#!/usr/bin/env python3
"""Hand-written documents for the tricky classes (tabs, empty keys, tags, anchors, several
documents, directives, merge keys, resolver corners, escapes, encodings, long keys, deep
nesting), hex-encoded, one a line. compare.sh keeps every one of them in tests/vectors.txt.
"""
docs = [
 "\tx: 1\n", "a: 1\n\tb: 2\n", "a:\n\t- 1\n", "- a\n-\tb\n", "a: b\t\n", "a: |\n\tx\n", "a: \"x\ty\"\n",
 "a:\n  b\n\tc\n", "[1,\t2]\n", "{a:\t1}\n", "a: 1 \t# c\n", "\t\n", " \t\na: 1\n",
 ": x\n", ":\n", "? a\n: b\n", "? [1, 2]\n: x\n", "? a\n", "{: x}\n", "[: x]\n", "{? a}\n", "[? a : b]\n",
 "a: !] x\n", "!] x\n", "! x\n", "!x 1\n", "!!str 1\n", "!!int '12'\n", "!!int x\n", "!!bool yes\n", "!!bool 1\n",
 "!!float 1\n", "!!null x\n", "!!binary aGVsbG8=\n", "!!binary x\n", "!!timestamp 2001-12-14\n", "!!timestamp x\n",
 "!<tag:yaml.org,2002:str> 1\n", "!<!> x\n", "!e!x y\n", "%TAG !e! tag:e.com,2000:\n--- !e!x y\n",
 "!!map {a: 1}\n", "!!seq [1]\n", "!!map [1]\n", "!!seq {a: 1}\n", "!!merge x\n", "a: !!merge {b: 1}\n",
 "a: &x [*x]\n", "a: &x {b: *x}\n", "&x [1, *x]\n", "a: *x\n", "*x\n", "a: &x 1\nb: *x\n", "a: &x 1\n&x b: 2\nc: *x\n",
 "a: 1\n---\nb: 2\n", "---\na: 1\n", "--- 1\n--- 2\n", "a: 1\n...\n", "a: 1\n...\nb: 2\n", "...\n", "---\n", "---\n...\n",
 "", "\n", "# only\n", "~\n", "null\n", "%YAML 1.1\n---\na: 1\n", "%YAML 1.2\n---\na: 1\n", "%YAML 2.0\n---\n",
 "%YAML 1.1\n%YAML 1.1\n---\n", "%FOO\n---\n", "%TAG ! !\n%TAG ! !\n---\n",
 "<<: {a: 1}\nb: 2\n", "<<: [{a: 1}]\n", "<<: 1\n", "<<: ~\n", "<<: x\n", "<<: |\n  ~\n", "\"<<\": {a: 1}\n", "a: <<\n", "a: \"<<\"\n",
 "b: 2\n<<: {b: 1, c: 3}\n", "x: &m {a: 1}\ny:\n  <<: *m\n  b: 2\n",
 "~: 1\n", "null: 1\n", "'': 1\n", "\"\": 1\n", "[1]: x\n", "{a: 1}: x\n", "1: x\n", "true: x\n", "1.5: x\n", ".inf: x\n", "-.inf: x\n",
 "y: n\n", "on: off\n", "yes\n", "0x1F\n", "0o17\n", "0b101\n", "-0b101\n", "0777\n", "1_000\n", "1e3\n", ".5\n", "+1\n", "-0\n",
 ".nan\n", "'.nan'\n", "|\n  .nan\n", ">\n  .nan\n", "|\n  1e3\n", "|\n  true\n", "|\n  ~\n", "|\n  -.inf\n", "|\n  0b11\n", "|\n  0x1F\n",
 "2001-12-14\n", "2001-12-14t21:59:43.10-05:00\n", "2001-12-14 21:59:43.10\n", "2001-12-14T21:59:43Z\n", "'2001-12-14'\n",
 "9223372036854775808\n", "!!int 9223372036854775808\n", "!!int 0x8000000000000000\n", "!!int -0x1\n", "!!int 0b11111111111111111111111111111111111111111111111111111111111111111\n",
 "123456789012345678901234567890\n", "0.1\n", "1.0\n", "-1.50\n",
 "a: \"\\x41\\u00e9\\U0001F600\"\n", "a: \"\\q\"\n", "a: \"\\uD800\"\n", "'it''s'\n", "\"a\\\n  b\"\n", "'a\n\n  b'\n",
 "a: |-\n  x\n\n", "a: >+\n  x\n  y\n\n", "a: |2\n   x\n", "a: |0\n x\n", "a: >\n x\n\n  y\n z\n",
 "a: b\nc\n", "a: b: c\n", "- a\nb: c\n", "a:\n- b\n- c\n", "a:\n  - b\n - c\n", "[1, 2\n", "{a: 1\n", "[1, 2]]\n", "'abc\n", "\"abc\n",
 "a: 'x'y\n", "- - - x\n", "- [a, {b: c}]\n", "{a: [1, {b: 2}]}\n", "a: [1, 2,]\n", "[,]\n", "{,}\n",
 "\ufeffa: 1\n", "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\n", "a: é\n", "a: \u2028b\n", "a: \x85b\n", "a: \x01\n", "a: \x7f\n", "a: \ufffe\n",
 "k" * 1100 + ": v\n", "? " + "k" * 1100 + "\n: v\n", "[" + "k" * 1030 + ": v]\n", "a" * 1024 + ": 1\n", "a" * 1023 + ": 1\n",
 "[" * 100 + "]" * 100 + "\n", "{a: " * 60 + "1" + "}" * 60 + "\n", "".join(" " * i + "- \n" for i in range(60)) + " " * 60 + "x\n",
 "a:\n  b:\n    c:\n      d: 1\n", "- &a x\n- *a\n- &b [*a]\n- *b\n", "a: &x\n  b: 1\nc: *x\n",
 "- !!str\n- !!int\n", "a: &x\nb: *x\n", "&a\n", "!!str\n", "a: !!null\n", "{a, b: 1}\n", "[a, b: 1]\n",
 "%YAML 1.1 # c\n--- x\n", "%TAG !e! tag:e.com,2000:app/\n---\n- !e!foo bar\n", "--- >\n  folded\n  text\n",
 "a: b # comment\n# more\nc: d\n", "a: x\n  y\n  z\n", "a:    \n  - 1\n", "- \n- \n", "-\n", "- -\n", "?\n", "? \n: \n",
 "a: @x\n", "a: `x\n", "@\n", "a: %x\n", "%\n", "a: [1, @x]\n", "a: 1 # c\n  b: 2\n",
]
for d in docs:
    print(d.encode("utf-8").hex())
