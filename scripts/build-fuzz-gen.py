#!/usr/bin/env python3
"""Random `build` cases for the differential harness (scripts/build-fuzz.sh).

Usage: build-fuzz-gen.py SEED COUNT DIR [json] [wild] [validate|inspect]

With `json`, legacy JSON templates of the same components instead (builders named, user
variables and `sensitive-variables`, Go-template interpolation, `override` by builder name,
post-processors as names, objects and chains). With `validate` or `inspect`, the templates
go through that command instead of `build`. With `wild`, components also get random extra
options, valid and not (wrong types, conflicting or unknown options, missing files, bad
values, function calls), for their preparation errors and rarer paths.

Writes DIR/bNNNN/{t.pkr.hcl,cmd}: templates that build with Packer's core components only
(the null and file builders, the shell-local, breakpoint, file and shell provisioners, the
manifest, checksum, compress, shell-local and artifice post-processors), with random
provisioner options (pause_before, max_retries, timeout, only, except, override), error
cleanup provisioners, named and unnamed post-processors and chains, keep_input_artifact,
several build blocks and sources, sensitive variables, build context variables, and random
`-only`/`-except`/`-on-error`/`-machine-readable`/`-timestamp-ui` flags. Several builds run
one at a time (`-parallel-builds=1`): Packer's parallel output interleaves at random.
"""
import os
import random
import sys

SEED, COUNT, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
MODES = sys.argv[4:]
JSON = "json" in MODES
# `validate` or `inspect`: the same templates through that command (its flags only).
COMMAND = next((m for m in MODES if m in ("validate", "inspect")), "build")
# `wild`: components also get random extra options, valid and not (types, conflicts,
# unknown arguments, missing files, bad values), and values computed by functions.
WILD = "wild" in MODES
BUILD_ONLY = ("-parallel-builds", "-on-error", "-force", "-timestamp-ui")


def command_line(flags, path):
    if COMMAND == "inspect":
        flags = [f for f in flags if f.startswith(("-var", "-machine-readable"))]
    elif COMMAND == "validate":
        flags = [f for f in flags if not f.startswith(BUILD_ONLY)]
    return " ".join([COMMAND] + flags + [path])
R = random.Random(SEED)


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hlist(xs):
    return "[" + ", ".join(xs) + "]"


# Strings a shell-local line may echo: build context variables, variables, functions.
ECHO_BITS = [
    "hello",
    "${build.name}",
    "${source.name}",
    "${source.type}",
    "${build.ID}",
    "${build.PackerRunUUID}",
    "${var.secret}",
    "${var.plain}",
    "${local.joined}",
    "${upper(source.name)}",
    "${length(var.list)}",
    "{{ .Name }}",
    "{{ build_name }}",
    "{{ build_type }}",
    "$PACKER_BUILD_NAME",
    "$PACKER_BUILDER_TYPE",
    "$FOO",
    "${data.null.d.output}",
    "${var.checked}",
]


def shell_line(bits=None):
    """A line of a shell-local script echoing some of `bits` (HCL2's by default)."""
    k = R.random()
    if k < 0.6:
        # Quoted: `<no value>` is no redirection (a shell error on stderr races stdout).
        return 'echo "%s"' % " ".join(R.sample(bits or ECHO_BITS, R.randint(1, 3)))
    if k < 0.7:
        return "echo hello again"
    if k < 0.8:
        return "exit %d" % R.choice([0, 1, 2, 3])
    if k < 0.9:
        return "if [ -e marker ]; then echo again; else touch marker; echo first; exit 4; fi"
    return "printf 'a\\nb\\n'"


# Extra options per component kind under `wild` (HCL2 text), valid and invalid.
WILD_OPTIONS = {
    "shell-local": [
        'inline_shebang = "/bin/sh -e"',
        'only_on = ["linux"]',
        'only_on = ["windows"]',
        'only_on = ["plan9"]',
        'use_linux_pathing = true',
        'env_var_format = "%s=\'%s\' "',
        'environment_vars = ["NOEQUALS"]',
        'environment_vars = ["=x"]',
        'environment_vars = ["A=1", "B=two words"]',
        'scripts = ["s.sh", "s.sh"]',
        'script = "missing.sh"',
        'command = "echo cmd"',
        'execute_command = ["/bin/sh"]',
        'execute_command = "/bin/sh {{.Script}}"',
        'valid_exit_codes = ["a"]',
        'valid_exit_codes = 0',
        'bogus = 1',
        'tempfile_extension = ".sh"',
        'env = { "1BAD" = "x" }',
        'env = { A = 1, B = true }',
        'inline = []',
        'inline = "echo string"',
        'inline = [format("echo %s-%d", source.name, 3)]',
        'inline = [lower("ECHO X"), "echo ${try(var.nope, "fallback")}"]',
        'env_var_format = "export %s=%s; "',
        'execute_command = ["/bin/sh", "-c", "echo {{.Vars}}; /bin/sh {{.Script}}"]',
        'execute_command = ["/bin/sh", "-c", "{{.Nope}}"]',
        'tempfile_extension = "ps1"',
        'env = { "A B" = "x" }',
        'environment_vars = ["A=1", "A=2"]',
        'valid_exit_codes = ["2", 0]',
        'inline = ["echo ${jsonencode({a = 1})}"]',
        'inline_shebang = ""',
        'execute_command = []',
        'only_on = []',
        'env_var_format = "%s"',
        'inline = ["exit 3"]',
    ],
    "file-builder": [
        'source = "s.sh"',
        'content = "again"',
        'target = ""',
        'content = 12',
        'target = "sub/dir/out.txt"',
        'bogus = "x"',
        'target = "s.sh/x"',
        'content = ""',
        'source = "missing.txt"',
    ],
    "file": [
        'direction = "download"',
        'direction = "sideways"',
        'sources = ["s.sh"]',
        'source = "s.sh"',
        'generated = true',
        'destination = ""',
    ],
    "manifest": [
        'strip_path = "yes"',
        'strip_path = "true"',
        'output = ""',
        'custom_data = { a = 1 }',
        'custom_data = { a = [1] }',
        'custom_data = "x"',
        'bogus = 1',
        'output = "sub/m.json"',
        'custom_data = { "a b" = "${build.name}" }',
        'strip_time = "1"',
        'output = "s.sh/m.json"',
        'custom_data = { a = null }',
        'strip_time = true',
    ],
    "checksum": [
        'checksum_types = ["crc32"]',
        'checksum_types = []',
        'checksum_types = "md5"',
        'output = ""',
        'output = "{{ .Nope }}"',
        'output = "sums/{{.BuildName}}.{{.ChecksumType}}"',
        'checksum_types = ["sha224", "sha384"]',
        'checksum_types = ["SHA256"]',
        'output = "s.sh/x.{{.ChecksumType}}"',
        'checksum_types = ["md5", "md5"]',
        'checksum_types = [1]',
    ],
    "compress": [
        'compression_level = -1',
        'compression_level = 10',
        'compression_level = "x"',
        'format = "zip"',
        'format = "rar"',
        'output = "plain-{{.BuildName}}"',
        'output = ""',
        'output = "sub/dir/c.tar.gz"',
        'output = "c.{{ .Nope }}.gz"',
        'output = "s.sh/c.tar.gz"',
        'output = "c-{{.BuildName}}.bgzf"',
        'output = "c-{{.BuildName}}.bzip2"',
        'format = "tar.gz"',
        'compression_level = 0',
        'format = ".tar.gz"',
    ],
    "artifice": [
        'files = []',
        'files = "art.txt"',
        'files = ["art.txt", "art.txt"]',
        'files = ["s.sh", "art.txt"]',
        'files = ["*.txt"]',
        'files = ["sub/*.txt"]',
        'files = [""]',
        'files = [1]',
    ],
    "breakpoint": [
        'note = 1',
        'disable = "x"',
        'bogus = 1',
        'note = "${build.ID} ${build.Host}"',
    ],
    "common": [
        'pause_before = "-1s"',
        'timeout = "0s"',
        'max_retries = "x"',
        'max_retries = -1',
        'only = []',
        'except = ["nope.nope"]',
        'pause_before = 1',
    ],
    "null": [
        'communicator = "bogus"',
        'communicator = "ssh"',
        'bogus = 1',
        'communicator = "winrm"',
        'ssh_timeout = "bad"',
        'pause_before_connecting = "x"',
        'ssh_port = "x"',
    ],
}


# Extra top-level blocks under `wild` (HCL2): sensitive locals, data sources with bad
# options, variable types, defaults and validations that fail or pass.
WILD_TOP = [
    'local "sec" {\n  expression = "${var.plain}-sec"\n  sensitive  = true\n}\n'
    'locals {\n  uses_sec = "x-${local.sec}"\n}\n',
    'data "null" "w" {\n  input = 1\n}\n',
    'data "null" "w" {\n  input = ["x"]\n}\n',
    'data "null" "w" {\n  bogus = 1\n  input = "x"\n}\n',
    'data "null" "w" {\n}\n',
    'variable "nn" {\n  type     = string\n  default  = null\n  nullable = false\n}\n',
    'variable "num" {\n  type    = number\n  default = "x"\n}\n',
    'variable "obj" {\n  type    = object({ a = string, b = optional(number, 3) })\n  default = { a = "x" }\n}\n'
    'locals {\n  ob = var.obj.b + 1\n}\n',
    'locals {\n  from_data = data.null.d.output\n  up        = upper(local.joined)\n}\n',
    'variable "v2" {\n  default = "d"\n  validation {\n    condition     = var.v2 != "d"\n'
    '    error_message = "The v2 variable must not be d."\n  }\n}\n',
    'variable "v3" {\n  type    = list(number)\n  default = [1, "2", true]\n}\n',
    'locals {\n  bad = var.nope\n}\n',
    'locals {\n  l1 = local.l2\n  l2 = local.l1\n}\n',
    'variable "plain" {\n  default = "again"\n}\n',
]


# The SDK's `common.PackerConfig` options, in nearly every component's schema (Packer's
# core overrides them): right and wrong types.
PACKER_OPTS = [
    ("packer_force", "true"), ("packer_force", '"maybe"'), ("packer_debug", "false"),
    ("packer_build_name", '"renamed"'), ("packer_on_error", '"abort"'),
    ("packer_user_variables", '{ a = "b" }'), ("packer_user_variables", '"x"'),
    ("packer_sensitive_variables", '["x"]'), ("packer_core_version", "1"),
]


def wild(kind, body):
    """Under `wild`, some of `kind`'s extra options added to `body` (a later one of the
    same name replaces an earlier, as HCL2 would refuse two)."""
    if not WILD or R.random() < 0.6:
        return body
    extra = []
    if kind != "sleep" and R.random() < 0.15:
        k, v = R.choice(PACKER_OPTS)
        extra = ["%s = %s" % (k, v)]
    for opt in R.sample(WILD_OPTIONS[kind], R.choice([1, 1, 2])) + extra:
        key = opt.split(" ", 1)[0]
        body = [b for b in body if b.split(" ", 1)[0] != key] + [opt]
    return body


# The same for legacy JSON templates: (key, value) pairs.
WILD_JSON = {
    "shell-local": [
        ("inline_shebang", "/bin/sh -e"),
        ("only_on", ["linux"]),
        ("only_on", ["windows"]),
        ("only_on", ["plan9"]),
        ("use_linux_pathing", True),
        ("env_var_format", "%s='%s' "),
        ("environment_vars", ["NOEQUALS"]),
        ("environment_vars", "A=1"),
        ("scripts", ["s.sh", "s.sh"]),
        ("script", "missing.sh"),
        ("command", "echo cmd"),
        ("execute_command", ["/bin/sh"]),
        ("execute_command", "/bin/sh {{.Script}}"),
        ("valid_exit_codes", ["a"]),
        ("valid_exit_codes", "0"),
        ("bogus", 1),
        ("env", {"A": 1, "B": True}),
        ("inline", []),
        ("inline", "echo string"),
        ("inline", ["echo {{ .Nope }}"]),
        ("inline", ["echo {{ user `nope` }}"]),
        ("inline", ["echo {{ upper `a` | lower }}"]),
        ("inline_shebang", ""),
        ("execute_command", []),
        ("inline", ["exit 3"]),
        ("env_var_format", "%s"),
    ],
    "file-builder": [
        ("source", "s.sh"),
        ("content", "again"),
        ("target", ""),
        ("content", 12),
        ("content", ["x"]),
        ("target", "sub/dir/out.txt"),
        ("bogus", "x"),
        ("target", "s.sh/x"),
        ("content", ""),
    ],
    "file": [
        ("direction", "download"),
        ("direction", "sideways"),
        ("sources", ["s.sh"]),
        ("source", "s.sh"),
        ("generated", True),
        ("destination", ""),
    ],
    "manifest": [
        ("strip_path", "yes"),
        ("strip_path", "true"),
        ("strip_path", 1),
        ("output", ""),
        ("custom_data", {"a": 1}),
        ("custom_data", {"a": [1]}),
        ("custom_data", "x"),
        ("bogus", 1),
        ("output", "s.sh/m.json"),
        ("strip_time", True),
        ("custom_data", {"a": None}),
    ],
    "checksum": [
        ("checksum_types", ["crc32"]),
        ("checksum_types", []),
        ("checksum_types", "md5"),
        ("output", ""),
        ("output", "{{ .Nope }}"),
        ("output", "s.sh/x.{{.ChecksumType}}"),
        ("checksum_types", ["md5", "md5"]),
        ("checksum_types", "md5,sha1"),
    ],
    "compress": [
        ("compression_level", -1),
        ("compression_level", 10),
        ("compression_level", "x"),
        ("compression_level", "3"),
        ("format", "zip"),
        ("format", "rar"),
        ("output", "plain-{{.BuildName}}"),
        ("output", ""),
        ("output", "s.sh/c.tar.gz"),
        ("output", "c-{{.BuildName}}.bgzf"),
        ("output", "c-{{.BuildName}}.bzip2"),
        ("format", "tar.gz"),
        ("compression_level", 0),
    ],
    "artifice": [
        ("files", []),
        ("files", "art.txt"),
        ("files", ["art.txt", "art.txt"]),
        ("files", [""]),
        ("files", "a.txt,b.txt"),
    ],
    "breakpoint": [
        ("note", 1),
        ("disable", "x"),
        ("bogus", 1),
        ("note", "{{ build `ID` }}"),
    ],
    "common": [
        ("pause_before", "-1s"),
        ("timeout", "0s"),
        ("max_retries", "x"),
        ("max_retries", -1),
        ("only", []),
        ("except", ["nope"]),
        ("pause_before", 1),
        ("only", "x"),
    ],
    "null": [
        ("communicator", "bogus"),
        ("communicator", "ssh"),
        ("bogus", 1),
        ("communicator", "winrm"),
        ("ssh_timeout", "bad"),
        ("ssh_port", "x"),
    ],
}


def wild_json(kind, body):
    """Under `wild`, some of `kind`'s extra options set in the JSON object `body`."""
    if not WILD or R.random() < 0.6:
        return body
    for key, value in R.sample(WILD_JSON[kind], R.choice([1, 1, 2])):
        body[key] = value
    if kind != "sleep" and R.random() < 0.15:
        k, v = R.choice(PACKER_OPTS)
        body[k] = {"true": True, "false": False, "1": 1}.get(v, v.strip('"') if v.startswith('"') else
                                                        ({"a": "b"} if v.startswith("{") else ["x"] if v.startswith("[") else v))
    return body


def source_names(sources):
    return [s[1] for s in sources]


def provisioner(sources, cleanup=False):
    kind = R.choices(
        ["shell-local", "breakpoint", "file", "shell"], [0.8, 0.08, 0.06, 0.06]
    )[0]
    body = []
    if kind == "shell-local":
        if R.random() < 0.06:
            # Alone: Packer reads stdout and stderr in two goroutines (lines race).
            body.append('inline = ["echo to-stderr >&2"]')
        else:
            body.append("inline = " + hlist(q(shell_line()) for _ in range(R.randint(1, 3))))
        if R.random() < 0.2:
            body.append("env = { FOO = %s }" % q(R.choice(["bar", "${var.secret}", "a b"])))
        if R.random() < 0.15:
            body.append("environment_vars = [%s]" % q("FOO=" + R.choice(["x", "${var.plain}"])))
        if R.random() < 0.15:
            body.append("valid_exit_codes = %s" % hlist(str(c) for c in R.sample([0, 1, 2, 3, 4], 2)))
        if R.random() < 0.08:
            body.append('execute_command = ["/bin/sh", "-c", "{{.Vars}} /bin/sh {{.Script}}"]')
        if R.random() < 0.05:
            body[0] = 'command = "echo from-command ${source.name}"'
        elif R.random() < 0.05:
            body[0] = 'script = "s.sh"'
    elif kind == "breakpoint":
        body.append("disable = true")
        if R.random() < 0.5:
            body.append("note = %s" % q("note ${source.name}"))
    elif kind == "file":
        body.append('content = "x"')
        body.append('destination = "/tmp/x"')
    else:
        body.append('inline = ["echo remote"]')
    if kind in ("shell-local", "file", "breakpoint"):
        body = wild(kind, body)
    if not cleanup:
        if R.random() < 0.08:
            body.append('pause_before = "%s"' % R.choice(["1s", "0s", "500ms", "nope"]))
        if R.random() < 0.15:
            body.append("max_retries = %d" % R.choice([1, 2, 3]))
        if R.random() < 0.08:
            body.append('timeout = "%s"' % R.choice(["10s", "1m", "bad"]))
        names = source_names(sources)
        if R.random() < 0.15:
            body.append("only = " + hlist(q(R.choice(names + ["null.zz"])) for _ in range(1)))
        elif R.random() < 0.15:
            body.append("except = " + hlist(q(R.choice(names)) for _ in range(1)))
        if kind == "shell-local" and R.random() < 0.12:
            n = R.choice(sources)[1].split(".")[1]
            body.append("override = {\n    %s = {\n      inline = [\"echo overridden\"]\n    }\n  }" % n)
        body = wild("common", body)
    label = "error-cleanup-provisioner" if cleanup else "provisioner"
    return "  %s %s {\n%s\n  }\n" % (label, q(kind), "\n".join("    " + b for b in body))


def pp_body(kind, idx):
    body = []
    if kind == "manifest":
        body.append("output = %s" % q(R.choice(["manifest.json", "m-%d.json" % idx, "out/{{ .BuildName }}.json"])))
        if R.random() < 0.4:
            body.append("strip_path = true")
        if R.random() < 0.3:
            body.append("strip_time = true")
        if R.random() < 0.3:
            body.append('custom_data = { k = "${source.name}" }')
    elif kind == "checksum":
        body.append("checksum_types = %s" % hlist(q(t) for t in R.sample(["md5", "sha1", "sha256", "sha512"], R.randint(1, 2))))
        body.append("output = %s" % q(R.choice(["sum-%d.{{.ChecksumType}}" % idx, "{{.BuildName}}.{{.ChecksumType}}"])))
    elif kind == "compress":
        ext = R.choice(["tar.gz", "gz", "zip", "tar", "lz4", "xz", "tgz"])
        body.append("output = %s" % q("c-%d-{{.BuildName}}.%s" % (idx, ext)))
        if R.random() < 0.3:
            body.append("compression_level = %d" % R.choice([1, 6, 9]))
    elif kind == "shell-local":
        body.append("inline = " + hlist(q(shell_line()) for _ in range(R.randint(1, 2))))
    elif kind == "artifice":
        body.append('files = ["%s"]' % R.choice(["art.txt", "missing.txt"]))
    if kind != "shell-local" or R.random() < 0.5:
        body = wild(kind, body)
    if R.random() < 0.25:
        body.append("keep_input_artifact = %s" % R.choice(["true", "false"]))
    return body


def post_processor(sources, idx, indent="  "):
    kind = R.choices(["manifest", "checksum", "compress", "shell-local", "artifice"], [3, 2, 2, 3, 1])[0]
    body = pp_body(kind, idx)
    names = source_names(sources)
    if R.random() < 0.12:
        body.append("only = [%s]" % q(R.choice(names)))
    elif R.random() < 0.12:
        body.append("except = [%s]" % q(R.choice(names)))
    label = q(kind)
    if R.random() < 0.3:
        body.append("name = %s" % q("pp%d" % idx))
    inner = indent + "  "
    return "%spost-processor %s {\n%s\n%s}\n" % (indent, label, "\n".join(inner + b for b in body), indent)


def case(i):
    sources = []
    text = [
        'variable "secret" {\n  type      = string\n  default   = "s3cr3t"\n  sensitive = true\n}\n',
        'variable "plain" {\n  type    = string\n  default = "pl"\n}\n',
        'variable "list" {\n  type    = list(string)\n  default = ["a", "b"]\n}\n',
        'locals {\n  joined = join("-", var.list)\n}\n',
        'data "null" "d" {\n  input = "from-data-${var.plain}"\n}\n',
        'variable "checked" {\n  type    = string\n  default = "ok"\n  validation {\n'
        '    condition     = length(var.checked) > 1\n'
        '    error_message = "The checked variable is too short."\n  }\n}\n',
    ]
    if WILD and R.random() < 0.25:
        text.append(R.choice(WILD_TOP))
    for n in range(R.randint(1, 3)):
        kind = R.choices(["null", "file"], [0.65, 0.35])[0]
        name = "s%d" % n
        if kind == "null":
            body = wild("null", ['communicator = "none"'])
        else:
            if R.random() < 0.15:
                body = ['source = "%s"' % R.choice(["s.sh", "missing.txt"]), 'target = "%s.txt"' % name]
            else:
                content = R.choice(['"hello"', '"${var.plain}"', '"${var.secret}"'])
                body = ["content = %s" % content, 'target = "%s.txt"' % name]
            body = wild("file-builder", body)
        text.append('source "%s" "%s" {\n%s\n}\n' % (kind, name, "\n".join("  " + b for b in body)))
        sources.append((kind, "%s.%s" % (kind, name)))
    if R.random() < 0.3:
        with open(os.path.join(OUT, "b%04d" % i, "art.txt"), "w") as f:
            f.write("artifice\n")
    with open(os.path.join(OUT, "b%04d" % i, "s.sh"), "w") as f:
        f.write("#!/bin/sh\necho from-script $PACKER_BUILD_NAME\n")
    builds = []
    for b in range(R.randint(1, 2)):
        bs = R.sample(sources, R.randint(1, len(sources)))
        blk = "build {\n"
        if R.random() < 0.5:
            blk += '  name = "b%d"\n' % b
        if R.random() < 0.1:
            blk += '  description = "build ${var.plain}"\n'
        if R.random() < 0.15 and bs[0][0] == "null":
            blk += '  source "source.%s" {\n    name = "renamed"\n  }\n' % bs[0][1]
            bs = bs[1:]
            bs_list = [("null", "null.renamed")]
        else:
            bs_list = []
        if bs:
            blk += "  sources = %s\n" % hlist(q("source." + s[1]) for s in bs)
        all_names = bs + bs_list
        for _ in range(R.choices([0, 1, 2, 3], [1, 4, 3, 2])[0]):
            blk += provisioner(all_names)
        # (No `sleep`: Packer 1.16.0's crashes preparing it, a documented deviation.)
        if R.random() < 0.08:
            blk += ('  dynamic "provisioner" {\n    for_each = %s\n    labels   = ["shell-local"]\n'
                    '    content {\n      inline = ["echo dyn ${provisioner.key} ${provisioner.value}"]\n'
                    '    }\n  }\n' % R.choice(['["a", "b"]', "var.list", "{ x = 1 }", "[]"]))
        if R.random() < 0.2:
            blk += provisioner(all_names, cleanup=True)
        idx = 0
        for _ in range(R.choices([0, 1, 2], [2, 4, 2])[0]):
            idx += 1
            if R.random() < 0.35:
                blk += "  post-processors {\n"
                for _ in range(R.randint(1, 3)):
                    idx += 1
                    blk += post_processor(all_names, idx, "    ")
                blk += "  }\n"
            else:
                blk += post_processor(all_names, idx)
        blk += "}\n"
        builds.append((blk, all_names))
    text += [b for b, _ in builds]
    flags = []
    nbuilds = sum(len(n) for _, n in builds)
    if nbuilds > 1:
        flags.append("-parallel-builds=1")
    names = sorted({n for _, ns in builds for _, n in ns})
    k = R.random()
    if k < 0.15:
        flags.append("-only=" + R.choice(names + ["*.s0", "null.*", "pp1", "nothing"]))
    elif k < 0.3:
        flags.append("-except=" + R.choice(names + ["pp1", "pp2", "*.s1", "shell-local"]))
    if R.random() < 0.2:
        flags.append("-on-error=" + R.choice(["cleanup", "abort", "run-cleanup-provisioner"]))
    # Packer lists the artifacts of several builds in Go map order.
    if R.random() < 0.12 and nbuilds == 1:
        flags.append("-machine-readable")
    elif R.random() < 0.08:
        flags.append("-timestamp-ui")
    if R.random() < 0.1:
        flags.append("-var=plain=" + R.choice(["other", "s3cr3t"]))
    if R.random() < 0.05:
        flags.append("-var=checked=" + R.choice(["x", "fine"]))
    if R.random() < 0.08:
        with open(os.path.join(OUT, "b%04d" % i, "v.pkrvars.hcl"), "w") as f:
            f.write(R.choice(['plain = "from-file"\n', 'undeclared = 1\n', 'plain = \n']))
        flags.append("-var-file=v.pkrvars.hcl")
    elif WILD and R.random() < 0.1:
        with open(os.path.join(OUT, "b%04d" % i, "v.pkrvars.json"), "w") as f:
            f.write(R.choice(['{"plain": "from-json"}\n', '{"list": ["x", "y"]}\n', '{"plain": 1}\n',
                              '{"undeclared": true}\n', '{"plain": }\n', '[]\n', '{"secret": "x"}\n']))
        flags.append("-var-file=v.pkrvars.json")
    elif WILD and R.random() < 0.06:
        flags.append(R.choice(["-var-file=missing.pkrvars.hcl", "-var=undeclared=1", "-var=list=[\"z\"]",
                               "-var=list=nope", "-var=checked=", "-var=plain"]))
    if R.random() < 0.1:
        flags.append("-force")
    return "".join(text), command_line(flags, ".")


LEGACY_BITS = [
    "hello",
    "{{user `plain`}}",
    "{{user `secret`}}",
    "{{build_name}}",
    "{{build_type}}",
    "{{ .Name }}",
    "{{ build `ID` }}",
    "{{ build `PackerRunUUID` }}",
    "{{upper `x`}}",
    "$PACKER_BUILD_NAME",
    "$FOO",
]


def legacy_line():
    return shell_line(LEGACY_BITS)


def legacy_provisioner(names, cleanup=False):
    p = {"type": R.choices(["shell-local", "breakpoint", "file"], [0.85, 0.1, 0.05])[0]}
    if p["type"] == "shell-local":
        p["inline"] = [legacy_line() for _ in range(R.randint(1, 3))]
        if R.random() < 0.15:
            p["environment_vars"] = ["FOO=" + R.choice(["x", "{{user `plain`}}"])]
        if R.random() < 0.1:
            p["valid_exit_codes"] = R.sample([0, 1, 2, 4], 2)
    elif p["type"] == "breakpoint":
        p["disable"] = True
    else:
        p["content"] = "x"
        p["destination"] = "/tmp/x"
    if p["type"] in WILD_JSON:
        p = wild_json(p["type"], p)
    if not cleanup:
        if R.random() < 0.08:
            p["pause_before"] = R.choice(["1s", "0s", "nope"])
        if R.random() < 0.15:
            p["max_retries"] = R.choice([1, 2, "2"])
        if R.random() < 0.08:
            p["timeout"] = R.choice(["10s", "bad"])
        if R.random() < 0.15:
            p["only"] = [R.choice(names + ["zz"])]
        elif R.random() < 0.1:
            p["except"] = [R.choice(names)]
        if p["type"] == "shell-local" and R.random() < 0.15:
            p["override"] = {R.choice(names): {"inline": ["echo overridden"]}}
        p = wild_json("common", p)
    return p


def legacy_pp(names, idx):
    kind = R.choices(["manifest", "checksum", "compress", "shell-local", "artifice"], [3, 2, 2, 3, 1])[0]
    if R.random() < 0.1 and kind in ("manifest", "checksum"):
        return kind
    body = {"type": kind}
    if kind == "manifest":
        body["output"] = R.choice(["manifest.json", "m-%d.json" % idx])
        if R.random() < 0.4:
            body["strip_path"] = True
    elif kind == "checksum":
        body["checksum_types"] = R.sample(["md5", "sha1", "sha256"], R.randint(1, 2))
        body["output"] = "sum-%d.{{.ChecksumType}}" % idx
    elif kind == "compress":
        body["output"] = "c-%d-{{.BuildName}}.%s" % (idx, R.choice(["tar.gz", "gz", "zip", "lz4"]))
    elif kind == "shell-local":
        body["inline"] = [legacy_line() for _ in range(R.randint(1, 2))]
    else:
        body["files"] = [R.choice(["art.txt", "missing.txt"])]
    body = wild_json(kind, body)
    if R.random() < 0.25:
        body["keep_input_artifact"] = R.choice([True, False])
    if R.random() < 0.12:
        body["only"] = [R.choice(names)]
    elif R.random() < 0.1:
        body["except"] = [R.choice(names)]
    if R.random() < 0.2:
        body["name"] = "pp%d" % idx
    return body


def legacy_case(i):
    import json
    builders = []
    for n in range(R.randint(1, 3)):
        name = "s%d" % n
        if R.random() < 0.65:
            builders.append(wild_json("null", {"type": "null", "name": name, "communicator": "none"}))
        else:
            builders.append(wild_json("file-builder", {
                "type": "file", "name": name,
                "content": R.choice(["hello", "{{user `plain`}}", "{{user `secret`}}"]),
                "target": name + ".txt"}))
    if R.random() < 0.15:
        del builders[0]["name"]
    names = [b.get("name", b["type"]) for b in builders]
    t = {
        "variables": {"secret": "s3cr3t", "plain": "pl"},
        "sensitive-variables": ["secret"],
        "builders": builders,
    }
    if WILD and R.random() < 0.25:
        # Top-level oddities: variables of other types, env and required ones, undeclared
        # sensitive names, min_packer_version, a description, unknown keys.
        k, v = R.choice([
            ("variables", {"secret": "s3cr3t", "plain": "pl", "num": 3, "flag": True}),
            ("variables", {"secret": "s3cr3t", "plain": "{{env `KILN_NOPE`}}"}),
            ("variables", {"secret": "s3cr3t", "plain": None}),
            ("variables", {"secret": "s3cr3t", "plain": "pl", "list": ["a"]}),
            ("sensitive-variables", ["secret", "undeclared"]),
            ("sensitive-variables", "secret"),
            ("min_packer_version", "1.0.0"),
            ("min_packer_version", "9.0.0"),
            ("min_packer_version", "x"),
            ("description", "fuzzed {{user `plain`}}"),
            ("bogus", 1),
            ("_comment", "ignored"),
        ])
        t[k] = v
    if R.random() < 0.85:
        t["provisioners"] = [legacy_provisioner(names) for _ in range(R.randint(1, 3))]
    if R.random() < 0.15:
        t["error-cleanup-provisioner"] = legacy_provisioner(names, cleanup=True)
    pps, idx = [], 0
    for _ in range(R.choices([0, 1, 2], [2, 4, 2])[0]):
        idx += 1
        if R.random() < 0.35:
            chain = []
            for _ in range(R.randint(1, 3)):
                idx += 1
                chain.append(legacy_pp(names, idx))
            pps.append(chain)
        else:
            pps.append(legacy_pp(names, idx))
    if pps:
        t["post-processors"] = pps
    if R.random() < 0.3:
        with open(os.path.join(OUT, "b%04d" % i, "art.txt"), "w") as f:
            f.write("artifice\n")
    with open(os.path.join(OUT, "b%04d" % i, "s.sh"), "w") as f:
        f.write("#!/bin/sh\necho from-script $PACKER_BUILD_NAME\n")
    flags = []
    if len(builders) > 1:
        flags.append("-parallel-builds=1")
    k = R.random()
    if k < 0.15:
        flags.append("-only=" + R.choice(names + ["s*", "nothing"]))
    elif k < 0.3:
        flags.append("-except=" + R.choice(names + ["pp1", "pp2"]))
    if R.random() < 0.15:
        flags.append("-on-error=" + R.choice(["cleanup", "abort", "run-cleanup-provisioner"]))
    if R.random() < 0.1 and len(builders) == 1:
        flags.append("-machine-readable")
    if R.random() < 0.1:
        flags.append("-var=plain=" + R.choice(["other", "s3cr3t"]))
    return json.dumps(t, indent=2) + "\n", command_line(flags, "t.json")


os.makedirs(OUT, exist_ok=True)
for i in range(COUNT):
    d = os.path.join(OUT, "b%04d" % i)
    os.makedirs(d, exist_ok=True)
    t, cmd = legacy_case(i) if JSON else case(i)
    with open(os.path.join(d, "t.json" if JSON else "t.pkr.hcl"), "w") as f:
        f.write(t)
    with open(os.path.join(d, "cmd"), "w") as f:
        f.write(cmd + "\n")
