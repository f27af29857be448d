#!/usr/bin/env python3
"""Random `validate`/`inspect` cases of the docker and qemu builders for the differential
harness (scripts/plugin-fuzz.sh): Packer 1.16.0 with packer-plugin-docker v1.1.2 and
packer-plugin-qemu v1.1.7 installed, against Kiln's own builders.

Usage: plugin-fuzz-gen.py SEED COUNT DIR [json] [inspect] [docker|qemu]

Each case is one or two sources of a builder: a usable base configuration with random
options added, changed or removed: values of the right type (valid or not for the option:
enums, durations, sizes, checksums, ports, paths that exist or not), values of the wrong type,
unknown options, nested blocks (`build`, `qemu_img_args`), communicators. The option list is
the plugins' own HCL2 spec (config.hcl2spec.go in the Go module cache), so every option the
plugins know is drawn. With `json`, legacy JSON templates of the same builders.

Writes DIR/pNNNN/{t.pkr.hcl|t.json,cmd,plugins}.
"""
import json
import os
import random
import re
import sys

SEED, COUNT, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
MODES = sys.argv[4:]
JSON = "json" in MODES
COMMAND = "inspect" if "inspect" in MODES else "validate"
ONLY = next((m for m in MODES if m in ("docker", "qemu")), None)
R = random.Random(SEED)

MOD = os.path.expanduser(os.environ.get("GOMODCACHE", "~/.cache/kiln/go/mod")) + "/github.com/hashicorp"
SPECS = {
    "docker": (MOD + "/packer-plugin-docker@v1.1.2/builder/docker", "config.hcl2spec.go"),
    "qemu": (MOD + "/packer-plugin-qemu@v1.1.7/builder/qemu", "config.hcl2spec.go"),
}


PP_DIR = MOD + "/packer-plugin-docker@v1.1.2/post-processor"
PP_KINDS = ["docker-tag", "docker-push", "docker-save", "docker-import"]
for _k in PP_KINDS:
    SPECS[_k] = (PP_DIR + "/" + _k, "post-processor.hcl2spec.go")


def spec(kind):
    """The FlatConfig attributes of a builder or post-processor: name -> cty type text."""
    d, f = SPECS[kind]
    text = open(os.path.join(d, f)).read()
    body = text[text.index("func (*FlatConfig) HCL2Spec()"):]
    body = body[: body.index("\n}\n")]
    out = {}
    for name, ty in re.findall(r'"([a-z0-9_]+)":\s*&hcldec\.AttrSpec\{Name: "[a-z0-9_]+", Type: ([^,]+), Required', body):
        if not name.startswith("packer_"):
            out[name] = ty
    return out


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


DURATIONS = ['"5s"', '"1m30s"', '"0s"', '"bad"', '"-1s"', '"10"', '""', '"1h"', '"100ms"']
ENUMS = {
    "accelerator": ["tcg", "kvm", "none", "xen", "hvf", "whpx", "bogus", ""],
    "format": ["qcow2", "raw", "vmdk", "vdi", "bogus", ""],
    "disk_interface": ["virtio", "virtio-scsi", "ide", "sata", "scsi", "floppy", "nvme", ""],
    "disk_cache": ["writeback", "none", "writethrough", "unsafe", "directsync", "bogus", ""],
    "disk_discard": ["unmap", "ignore", "bogus", ""],
    "disk_detect_zeroes": ["unmap", "on", "off", "yes", ""],
    "net_device": ["virtio-net", "e1000", "rtl8139", "i82559er", "bogus", ""],
    "machine_type": ["pc", "q35", "bogus", ""],
    "cdrom_interface": ["ide", "virtio-scsi", "bad", ""],
    "tpm_device_type": ["tpm-tis", "tpm-crb", "bad", ""],
    "vga": ["std", "virtio", "none", "qxl"],
    "display": ["none", "gtk", "sdl", ""],
    "communicator": ["ssh", "none", "winrm", "bogus", ""],
    "ssh_file_transfer_method": ["scp", "sftp", "bad", ""],
    "temporary_key_pair_type": ["rsa", "ecdsa", "dsa", "ed25519", "bad", ""],
    "http_network_protocol": ["tcp", "tcp4", "tcp6", "udp", ""],
    "iso_checksum": ["none", "md5:d41d8cd98f00b204e9800998ecf8427e",
                     "sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                     "sha256:abc", "file:nope.txt", "bad", "", "e3b0c44298fc1c149afbf4c8996fb924"],
    "disk_size": ["10G", "1024", "10M", "512K", "bad", "0", "", "1.5G", "2T"],
    "iso_url": ["debian.iso", "https://example.invalid/x.iso", "", "file:///nope.iso", "t.pkr.hcl"],
    "iso_target_extension": ["iso", "img", ""],
    "output_directory": ["out", "output-a", "", "t.pkr.hcl"],
    "vm_name": ["disk", "disk.qcow2", "", "a/b"],
    "qemu_binary": ["qemu-system-x86_64", "", "nope-qemu"],
    "http_directory": ["http", ".", "missing-dir", ""],
    "firmware": ["OVMF.fd", "", "missing.fd"],
    "efi_firmware_code": ["code.fd", ""],
    "efi_firmware_vars": ["vars.fd", ""],
    "floppy_label": ["floppy", "", "TOOLONGLABELXX"],
    "cd_label": ["cidata", "", "x"],
    "cpu_model": ["host", "max", ""],
    "net_bridge": ["br0", ""],
    "qmp_socket_path": ["qmp.sock", ""],
    "vnc_bind_address": ["127.0.0.1", "0.0.0.0", "bad", ""],
    "vnc_password": ["secret", ""],
    "shutdown_command": ["poweroff", "echo 'packer' | sudo -S shutdown -P now", ""],
    "ssh_host": ["127.0.0.1", "", "host.invalid"],
    "ssh_username": ["root", "", "debian"],
    "ssh_password": ["secret", ""],
    "ssh_private_key_file": ["id_rsa", "t.pkr.hcl", "", "missing.key"],
    "ssh_certificate_file": ["cert.pub", "t.pkr.hcl", ""],
    "ssh_bastion_private_key_file": ["missing.key", "t.pkr.hcl"],
    "ssh_bastion_host": ["bastion", ""],
    "ssh_proxy_host": ["proxy", ""],
    "winrm_username": ["admin", ""],
    "winrm_password": ["pw", ""],
    "http_bind_address": ["0.0.0.0", "127.0.0.1", "bad"],
    "http_interface": ["lo", "eth0", ""],
    # docker
    "image": ["debian:bookworm", "", "busybox", "registry.invalid/x:1"],
    "export_path": ["image.tar", "", "out/image.tar", "t.pkr.hcl"],
    "platform": ["linux/amd64", "linux/arm64", "bogus", ""],
    "runtime": ["runc", "crun", ""],
    "exec_user": ["root", "1000", ""],
    "container_dir": ["/packer-files", "", "relative"],
    "author": ["me", ""],
    "message": ["built", ""],
    "docker_path": ["docker", "", "podman"],
    "login_server": ["registry.example", ""],
    "login_username": ["u", ""],
    "login_password": ["p", ""],
    "aws_access_key": ["AKIA", ""],
    "aws_secret_key": ["s", ""],
    "aws_profile": ["default", ""],
    # docker post-processors
    "repository": ["127.0.0.1:5000/apps/web", "", "Bad Repo", "web", "127.0.0.1:5000/x:tagged"],
    "path": ["image.tar", "", "t.pkr.hcl", "missing/x.tar", "out"],
}
for d in ("boot_wait", "shutdown_timeout", "ssh_timeout", "ssh_wait_timeout", "boot_key_interval",
          "boot_keygroup_interval", "pause_before_connecting", "ssh_keep_alive_interval",
          "ssh_read_write_timeout", "winrm_timeout", "winrm_retry_interval", "winrm_connect_timeout"):
    ENUMS[d] = None  # durations
NUMBERS = {
    "cpus": ["0", "1", "2", "-1", "4"], "sockets": ["0", "1", "2", "3"], "cores": ["0", "1", "2"],
    "threads": ["0", "1", "2"], "memory": ["0", "512", "-1", "128", "1.5"],
    "ssh_port": ["22", "0", "-1", "65536", "2222"], "winrm_port": ["5985", "0"],
    "http_port_min": ["8000", "0", "9000", "-1"], "http_port_max": ["9000", "8000", "0", "7000"],
    "host_port_min": ["2222", "0", "4444", "-1", "70000"], "host_port_max": ["4444", "2222", "0", "1000"],
    "ssh_host_port_min": ["2222", "3000"], "ssh_host_port_max": ["4444", "2000"],
    "vnc_port_min": ["5900", "5000", "0", "6000", "70000"], "vnc_port_max": ["6000", "5900", "5000", "70000"],
    "temporary_key_pair_bits": ["2048", "0", "1024", "-1"], "ssh_handshake_attempts": ["10", "0", "-1"],
    "ssh_bastion_port": ["22", "0"], "ssh_proxy_port": ["1080", "0"],
}
LISTS = {
    "boot_command": ['["<enter>"]', '["<wait5>root<enter>"]', '[]', '["<bogus>"]'],
    "iso_urls": ['["debian.iso"]', '["a.iso", "b.iso"]', '[]'],
    "disk_additional_size": ['["1G"]', '["bad"]', '[]', '["1G", "2M"]'],
    "floppy_files": ['["t.pkr.hcl"]', '["missing.cfg"]', '[]'],
    "floppy_dirs": ['["."]', '["missing-dir"]'],
    "cd_files": ['["t.pkr.hcl"]', '["missing.cfg"]', '[]'],
    "qemuargs": ['[["-m", "512"]]', '[["-display", "none"]]', '[[]]', '[["-netdev", "user,id=n0"], ["-device", "virtio-net,netdev=n0"]]', '[]'],
    "boot_steps": ['[["<enter>", "Press enter"]]', '[["<enter>"]]', '[[]]', '[["a", "b", "c"]]'],
    "convert": ['["-o", "preallocation=off"]'], "create": ['["-o", "cluster_size=64k"]'], "resize": ['["--shrink"]'],
    "changes": ['["CMD [\\"/bin/sh\\"]"]', '["ENV A=b", "WORKDIR /x"]', '["BOGUS x"]', '[]', '["EXPOSE 80", "LABEL a=b"]', '["USER nobody", "ONBUILD RUN x"]'],
    "run_command": ['["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"]', '["-d", "{{.Image}}", "/bin/sh"]', '[]', '["{{.Bogus}}"]'],
    "volumes": None, "device": ['["/dev/fuse"]', '[]'], "cap_add": ['["SYS_ADMIN"]'], "cap_drop": ['["ALL"]'],
    "tmpfs": ['["/run"]'],
    "tag": ['["1.0"]', '["a,b"]', '[]', '["Bad Tag"]', '["1.0", "latest"]'],
    "tags": ['["1.0"]', '["a", "b"]', '[]', '["Bad Tag"]'], "ssh_ciphers": ['["aes128-ctr"]'], "ssh_key_exchange_algorithms": ['["curve25519-sha256"]'],
    "ssh_remote_tunnels": ['["8080:localhost:80"]', '["bad"]'], "ssh_local_tunnels": ['["8080:localhost:80"]'],
    "ssh_public_key": ['[1, 2]'], "ssh_private_key": ['[1, 2]'],
}
MAPS = ['{ a = "b" }', '{}', '{ "x/y.txt" = "hello" }', '{ "/abs" = "z" }']

BASES = {
    "qemu": [['iso_url = "debian.iso"', 'iso_checksum = "none"', 'ssh_username = "root"'],
             ['iso_url = "disk.qcow2"', 'iso_checksum = "none"', 'disk_image = true', 'communicator = "none"'],
             ['iso_urls = ["a.iso", "b.iso"]', 'iso_checksum = "none"', 'ssh_username = "root"', 'format = "raw"'],
             ['iso_url = "debian.iso"', 'iso_checksum = "none"', 'communicator = "none"', 'accelerator = "tcg"',
              'headless = true', 'output_directory = "out"']],
    "docker": [['image = "debian:bookworm"', 'commit = true'],
               ['image = "debian:bookworm"', 'export_path = "image.tar"'],
               ['image = "debian:bookworm"', 'discard = true'],
               ['image = "busybox"', 'commit = true', 'changes = ["CMD [\\"/bin/sh\\"]"]'],
               ['commit = true']],
}
EXTRA_FILES = {"debian.iso": "iso\n", "disk.qcow2": "qcow\n", "id_rsa": "not a key\n", "cert.pub": "c\n",
               "OVMF.fd": "fw\n", "code.fd": "c\n", "vars.fd": "v\n", "Dockerfile": "FROM busybox\n"}


def value(name, ty):
    r = R.random()
    if r < 0.12:  # wrong type
        if ty == "cty.Bool":
            return R.choice(['"maybe"', '1', '[]', '"true"'])
        if ty == "cty.Number":
            return R.choice(['"x"', 'true', '"12"', '[]'])
        if ty.startswith("cty.List"):
            return R.choice(['"x"', '1', '{ a = 1 }', '["a", ["b"]]'])
        if ty.startswith("cty.Map"):
            return R.choice(['"x"', '["a"]', '{ a = ["b"] }'])
        return R.choice(['["x"]', '{ a = 1 }', '1', 'true', 'null'])
    if ty == "cty.Bool":
        return R.choice(["true", "false"])
    if ty == "cty.Number":
        return R.choice(NUMBERS.get(name, ["0", "1", "-1", "3"]))
    if ty.startswith("cty.Map"):
        return R.choice(MAPS)
    if ty.startswith("cty.List"):
        opts = LISTS.get(name)
        if not opts:
            opts = ['["a"]', '[]', '["a", "b"]'] if "List(cty.String)" in ty else ['[["a"]]', '[]']
        return R.choice(opts)
    if name in ENUMS:
        e = ENUMS[name]
        if e is None:
            return R.choice(DURATIONS)
        return q(R.choice(e))
    return R.choice(['"x"', '""', '"${path.root}"'])


def pp_options():
    """A docker post-processor: its type first (a bare string), then (name, HCL value) pairs:
    a usable base with random options of its spec."""
    kind = R.choice(PP_KINDS)
    props = spec(kind)
    base = {"docker-tag": [("repository", '"127.0.0.1:5000/apps/web"'), ("tags", '["1.0"]')],
            "docker-push": [],
            "docker-save": [("path", '"image.tar"')],
            "docker-import": [("repository", '"127.0.0.1:5000/apps/web"'), ("tag", '"1.0"')]}[kind]
    if base and R.random() < 0.15:
        base = base[1:]
    opts = dict(base)
    for _ in range(R.choices([0, 1, 2, 3], [2, 4, 3, 1])[0]):
        name = R.choice(list(props))
        opts[name] = value(name, props[name])
    if R.random() < 0.05:
        opts["bogus"] = '"x"'
    return [kind] + list(opts.items())


def body(kind, props):
    base = list(R.choice(BASES[kind]))
    if R.random() < 0.15 and len(base) > 1:
        base.pop(R.randrange(len(base)))
    keys = list(props)
    for _ in range(R.choices([0, 1, 2, 3, 4, 6], [1, 4, 4, 3, 2, 1])[0]):
        name = R.choice(keys)
        base = [b for b in base if not b.startswith(name + " ")]
        base.append("%s = %s" % (name, value(name, props[name])))
    if R.random() < 0.05:
        base.append('bogus_option = "x"')
    if R.random() < 0.05:
        base.append('packer_force = true')
    blocks = []
    if kind == "docker" and R.random() < 0.12:
        b = [R.choice(['path = "Dockerfile"', 'path = "missing/Dockerfile"', 'path = ""'])]
        if R.random() < 0.4:
            b.append(R.choice(['build_dir = "."', 'arguments = { A = "b" }', 'pull = false', 'compress = true',
                               'bogus = 1', 'arguments = "x"']))
        blocks.append(("build", b))
    if kind == "qemu" and R.random() < 0.1:
        b = [R.choice(['convert = ["-o", "x"]', 'create = ["-o", "y"]', 'resize = ["--shrink"]', 'bogus = 1',
                       'convert = "x"'])]
        blocks.append(("qemu_img_args", b))
    if kind == "docker" and R.random() < 0.06:
        base.append('volumes = { "/host" = "/container" }')
    return base, blocks


def hcl_case(i, d):
    kinds = [ONLY] if ONLY else [R.choice(["docker", "qemu"])]
    text = ['variable "secret" {\n  type      = string\n  default   = "s3cr3t"\n  sensitive = true\n}\n']
    names = []
    for n in range(R.choices([1, 2], [5, 1])[0]):
        kind = R.choice(kinds)
        props = spec(kind)
        base, blocks = body(kind, props)
        lines = ["  " + b for b in base]
        for bname, b in blocks:
            lines.append("  %s {\n%s\n  }" % (bname, "\n".join("    " + x for x in b)))
        text.append('source "%s" "s%d" {\n%s\n}\n' % (kind, n, "\n".join(lines)))
        names.append("source.%s.s%d" % (kind, n))
    prov = ""
    if R.random() < 0.4:
        prov = '  provisioner "shell" {\n    inline = ["echo hi"]\n  }\n'
    if "docker" in kinds and R.random() < 0.5:
        for _ in range(R.randint(1, 2)):
            opts = pp_options()
            lines = ["    %s = %s" % (k, v) for k, v in opts[1:]]
            prov += '  post-processor "%s" {\n%s\n  }\n' % (opts[0], "\n".join(lines))
    text.append("build {\n  sources = [%s]\n%s}\n" % (", ".join(q(n) for n in names), prov))
    open(os.path.join(d, "t.pkr.hcl"), "w").write("".join(text))
    return sorted({n.split(".")[1] for n in names})


def json_value(hv):
    """An HCL literal of value() as a JSON value (legacy templates)."""
    hv = hv.strip()
    if hv.startswith("{"):
        inner = hv.strip("{} ")
        out = {}
        for part in filter(None, (p.strip() for p in inner.split(","))):
            k, v = part.split("=", 1)
            k = k.strip().strip('"')
            out[k] = json_value(v)
        return out
    if hv == "null":
        return None
    return json.loads(hv.replace('\\"', '\\"'))


def json_case(i, d):
    kinds = [ONLY] if ONLY else [R.choice(["docker", "qemu"])]
    builders = []
    for n in range(R.choices([1, 2], [5, 1])[0]):
        kind = R.choice(kinds)
        base, blocks = body(kind, spec(kind))
        b = {"type": kind}
        if n or R.random() < 0.3:
            b["name"] = "s%d" % n
        for line in base:
            k, v = line.split(" = ", 1)
            if "${path.root}" in v:
                v = v.replace("${path.root}", "{{template_dir}}")
            try:
                b[k] = json_value(v)
            except Exception:
                b[k] = v.strip('"')
        for bname, blines in blocks:
            o = {}
            for line in blines:
                k, v = line.split(" = ", 1)
                try:
                    o[k] = json_value(v)
                except Exception:
                    o[k] = v
            b[bname] = o
        builders.append(b)
    t = {"builders": builders}
    if R.random() < 0.4:
        t["provisioners"] = [{"type": "shell", "inline": ["echo hi"]}]
    if "docker" in kinds and R.random() < 0.5:
        pps = []
        for _ in range(R.randint(1, 2)):
            opts = pp_options()
            o = {"type": opts[0]}
            for k, v in opts[1:]:
                try:
                    o[k] = json_value(v)
                except Exception:
                    o[k] = v.strip('"')
            pps.append(o)
        t["post-processors"] = [pps] if len(pps) > 1 and R.random() < 0.5 else pps
    if R.random() < 0.3:
        t["variables"] = {"secret": "s3cr3t"}
        t["sensitive-variables"] = ["secret"]
    open(os.path.join(d, "t.json"), "w").write(json.dumps(t, indent=2) + "\n")
    return sorted({b["type"] for b in builders})


def main():
    for i in range(COUNT):
        d = os.path.join(OUT, "p%04d" % i)
        os.makedirs(d)
        for f, c in EXTRA_FILES.items():
            if R.random() < 0.6:
                open(os.path.join(d, f), "w").write(c)
        if R.random() < 0.3:
            os.makedirs(os.path.join(d, R.choice(["out", "output-s0", "output-a", "http"])))
        kinds = json_case(i, d) if JSON else hcl_case(i, d)
        flags = []
        if R.random() < 0.1:
            flags.append("-machine-readable")
        if COMMAND == "validate" and R.random() < 0.1:
            flags.append("-syntax-only")
        path = "t.json" if JSON else "."
        open(os.path.join(d, "cmd"), "w").write(" ".join([COMMAND] + flags + [path]) + "\n")
        open(os.path.join(d, "plugins"), "w").write("\n".join(kinds) + "\n")


main()
