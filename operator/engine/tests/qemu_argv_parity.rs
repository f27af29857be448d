//! Kiln's qemu argv against the argv packer-plugin-qemu v1.1.7 itself produces: the fixture
//! is written by `scripts/qemu-plugin-argv.sh`, which runs the plugin's own `Config.Prepare`
//! and `stepRun.getCommandArgs` (Go) on `scripts/qemu-plugin-argv/cases.json`. Here each
//! case's configuration goes through Prepare's defaults as Kiln applies them, then
//! `qemu_args`; the two argv must hold the same flag/value pairs (the plugin's order is
//! random, a Go map, so order is not compared).

use kiln_engine::builders::qemu::args::{QemuArgsConfig, QemuRunState, qemu_args};
use serde_json::Value;

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .filter(|x| !x.is_empty())
        .map(String::from)
}

fn b(v: &Value, k: &str) -> bool {
    v.get(k).and_then(|x| x.as_bool()).unwrap_or(false)
}

fn n(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(0)
}

/// The plugin's Prepare defaults for the keys the cases use (build name `kiln`).
fn kiln_config(raw: &Value, state: &Value) -> (QemuArgsConfig, QemuRunState) {
    let mut c = QemuArgsConfig::packer_defaults("kiln", &s(raw, "accelerator").unwrap());
    if let Some(v) = s(raw, "vm_name") {
        c.vm_name = v;
    }
    if let Some(v) = s(raw, "output_directory") {
        c.output_dir = v;
    }
    c.disk_image = b(raw, "disk_image");
    if let Some(v) = s(raw, "machine_type") {
        c.machine_type = v;
    }
    if n(raw, "memory") >= 10 {
        c.memory = n(raw, "memory");
    }
    c.cpus = n(raw, "cpus") as u32;
    c.sockets = n(raw, "sockets") as u32;
    c.cores = n(raw, "cores") as u32;
    c.threads = n(raw, "threads") as u32;
    c.cpu_model = s(raw, "cpu_model");
    c.firmware = s(raw, "firmware");
    c.pflash = b(raw, "use_pflash");
    let efi = b(raw, "efi_boot")
        || s(raw, "efi_firmware_code").is_some()
        || s(raw, "efi_firmware_vars").is_some();
    if efi {
        c.efi_code = Some(
            s(raw, "efi_firmware_code").unwrap_or_else(|| "/usr/share/OVMF/OVMF_CODE.fd".into()),
        );
    }
    c.headless = b(raw, "headless");
    c.display = s(raw, "display");
    c.use_default_display = b(raw, "use_default_display");
    c.vga = s(raw, "vga");
    if let Some(v) = s(raw, "vnc_bind_address") {
        c.vnc_bind_address = v;
    }
    c.vnc_use_password = b(raw, "vnc_use_password");
    c.net_bridge = s(raw, "net_bridge");
    c.qmp_enable = b(raw, "qmp_enable") || c.net_bridge.is_some() || c.vnc_use_password;
    if c.qmp_enable {
        c.qmp_socket_path = s(raw, "qmp_socket_path")
            .unwrap_or_else(|| format!("{}/{}.monitor", c.output_dir, c.vm_name));
    }
    for (k, field) in [
        ("net_device", &mut c.net_device),
        ("disk_interface", &mut c.disk_interface),
        ("disk_cache", &mut c.disk_cache),
        ("disk_discard", &mut c.disk_discard),
        ("disk_detect_zeroes", &mut c.disk_detect_zeroes),
        ("format", &mut c.format),
    ] {
        if let Some(v) = s(raw, k) {
            *field = v;
        }
    }
    c.cdrom_interface = s(raw, "cdrom_interface");
    if b(raw, "vtpm") {
        c.vtpm = Some(s(raw, "tpm_device_type").unwrap_or_else(|| "tpm-tis".into()));
    }
    let comm_none = s(raw, "communicator").as_deref() == Some("none");
    c.comm_port = if comm_none {
        None
    } else {
        Some(n(raw, "ssh_port").max(1) as u16).map(|p| if p == 1 { 22 } else { p })
    };
    c.http_directory = s(raw, "http_directory").unwrap_or_default();
    c.qemuargs = raw
        .get("qemuargs")
        .and_then(|q| q.as_array())
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    let mut disks = vec![format!("{}/{}", c.output_dir, c.vm_name)];
    if let Some(extra) = raw.get("disk_additional_size").and_then(|x| x.as_array()) {
        for i in 0..extra.len() {
            disks.push(format!("{}/{}-{}", c.output_dir, c.vm_name, i + 1));
        }
    }
    let st = QemuRunState {
        comm_host_port: if comm_none { None } else { Some(3333) },
        vnc_port: 5907,
        floppy_path: s(state, "floppy_path"),
        iso_path: Some("/isos/source.iso".into()),
        cd_path: s(state, "cd_path"),
        disk_paths: disks,
        http_ip: "10.0.2.2".into(),
        http_port: 8123,
        efivars_path: s(state, "EFI_VARS_FILE_PATH"),
        vtpm_socket: s(state, "qemu_swtpm_socket_path"),
        qemu_at_least_2: true,
    };
    (c, st)
}

/// Flag/value pairs; a flag followed by another flag (`-nodefaults`) stands alone.
fn pairs(argv: &[String]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let flag = argv[i].clone();
        let val = argv
            .get(i + 1)
            .filter(|v| !v.starts_with('-') || v.is_empty())
            .cloned();
        i += if val.is_some() { 2 } else { 1 };
        out.push((flag, val));
    }
    out.sort();
    out
}

#[test]
fn argv_matches_packer_plugin_qemu_v1_1_7() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/qemu-plugin-v1.1.7-argv.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (regenerate with scripts/qemu-plugin-argv.sh)"));
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(cases.len() >= 6, "the fixture lost cases");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let plugin: Vec<String> = case["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert!(!plugin.is_empty(), "{name}: the fixture has no argv");
        let (c, st) = kiln_config(&case["config"], &case["state"]);
        let ours = qemu_args(&c, &st).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            pairs(&ours),
            pairs(&plugin),
            "case {name:?}\nkiln:   {ours:?}\nplugin: {plugin:?}"
        );
    }
}
