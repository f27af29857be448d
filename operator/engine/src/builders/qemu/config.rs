//! The `qemu` source's configuration: every option of packer-plugin-qemu v1.1.7's `Config`
//! that Kiln supports, decoded and validated as its `Config.Prepare` (`config.go`) does, with
//! each error positioned at its argument. Options Kiln does not support yet (floppies, vTPM,
//! bridged networking, WinRM, `iso_skip_cache`, `run_once`) are refused by name.

use std::path::PathBuf;
use std::time::Duration;

use crate::communicator::config::CommConfig;
use crate::components::ComponentInfo;
use crate::steps::cdrom::CdConfig;
use crate::steps::download::{IsoConfig, PreparedIso};
use crate::steps::http_server::HttpConfig;
use crate::template::ConfigReader;
use crate::value::Value;

use super::args::{QemuArgsConfig, detect_accelerator};
use super::bootcommand::BootConfig;
use super::img::{DiskConfig, QemuImgArgs, normalize_disk_size};

/// The plugin's accepted values (`config.go` L28-64).
pub const ACCELERATORS: &[&str] = &["none", "kvm", "tcg", "xen", "hax", "hvf", "whpx"];
pub const DISK_INTERFACES: &[&str] = &["ide", "sata", "scsi", "sd", "virtio", "virtio-scsi"];
pub const DISK_CACHES: &[&str] = &["writethrough", "writeback", "none", "unsafe", "directsync"];
pub const DISK_DISCARDS: &[&str] = &["unmap", "ignore"];
pub const DISK_DETECT_ZEROES: &[&str] = &["unmap", "on", "off"];

/// Options of the plugin Kiln refuses, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "floppy_files",
        "floppies are not supported yet; use cd_files",
    ),
    (
        "floppy_dirs",
        "floppies are not supported yet; use cd_files",
    ),
    (
        "floppy_content",
        "floppies are not supported yet; use cd_content",
    ),
    (
        "floppy_label",
        "floppies are not supported yet; use cd_label",
    ),
    ("vtpm", "a virtual TPM (swtpm) is not supported yet"),
    ("use_tpm1", "a virtual TPM (swtpm) is not supported yet"),
    (
        "tpm_device_type",
        "a virtual TPM (swtpm) is not supported yet",
    ),
    (
        "net_bridge",
        "bridged networking is not supported yet; the user network with port forwarding is",
    ),
    (
        "iso_skip_cache",
        "iso_skip_cache is not supported yet; the ISO is downloaded (or used in place when local)",
    ),
    ("run_once", "run_once is not supported"),
    (
        "http_interface",
        "http_interface is not supported; use http_bind_address",
    ),
    (
        "boot_keygroup_interval",
        "boot_keygroup_interval only applies to USB keyboards, which the qemu builder does not use",
    ),
];

/// Everything the builder's steps need, after Prepare's defaults.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// The command line's inputs (also the VM name, output directory, accelerator, format).
    pub args: QemuArgsConfig,
    pub disk: DiskConfig,
    pub iso: PreparedIso,
    pub boot: BootConfig,
    pub http: HttpConfig,
    pub cd: CdConfig,
    pub comm: CommConfig,
    pub host_port_min: u16,
    pub host_port_max: u16,
    pub skip_nat_mapping: bool,
    pub shutdown_command: Option<String>,
    pub shutdown_timeout: Duration,
    pub qemu_binary: String,
    pub vnc_port_min: u16,
    pub vnc_port_max: u16,
    pub vnc_password: String,
    /// `efi_firmware_vars` (copied to `<output>/efivars.fd`) when EFI boot is on.
    pub efi_vars: Option<PathBuf>,
    pub efi_drop_efivars: bool,
    /// The accelerator was chosen by opening `/dev/kvm` (not set in the template).
    pub accelerator_detected: bool,
    /// Where downloaded ISOs are cached (`<work dir>/packer_cache`).
    pub cache_dir: PathBuf,
    /// Where temporary files (the `cd_files` ISO) go.
    pub tmp_dir: PathBuf,
    /// `-force`.
    pub force: bool,
}

impl QemuConfig {
    pub fn output_dir(&self) -> PathBuf {
        PathBuf::from(&self.args.output_dir)
    }

    /// The SSH user, for messages.
    pub fn ssh_user(&self) -> String {
        match &self.comm {
            CommConfig::Ssh(s) => s.username.clone().unwrap_or_default(),
            _ => String::new(),
        }
    }
}

fn u16_opt(r: &mut ConfigReader, key: &str) -> Option<u16> {
    let v = r.int(key)?;
    match u16::try_from(v) {
        Ok(p) => Some(p),
        Err(_) => {
            r.error_at(
                key,
                "Invalid port",
                format!("{key} must be between 0 and 65535, got {v}."),
            );
            None
        }
    }
}

fn u32_count(r: &mut ConfigReader, key: &str) -> u32 {
    match r.int(key) {
        None => 0,
        Some(v) if v < 0 => {
            r.error_at(
                key,
                "Invalid CPU topology",
                format!("{key} must be a positive number"),
            );
            0
        }
        Some(v) => u32::try_from(v).unwrap_or(u32::MAX),
    }
}

/// A `list(list(string))` argument (`qemuargs`, `boot_steps`).
fn list_of_lists(r: &mut ConfigReader, key: &str) -> Vec<Vec<String>> {
    let Some(v) = r.any(key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut bad = false;
    match v {
        Value::List(rows) => {
            for row in rows {
                match row {
                    Value::List(items) => {
                        let mut strs = Vec::new();
                        for item in items {
                            match item {
                                Value::Unknown => strs.push("<unknown>".to_string()),
                                other => match other.to_string_lossless() {
                                    Some(s) => strs.push(r.interpolate(key, s)),
                                    None => bad = true,
                                },
                            }
                        }
                        out.push(strs);
                    }
                    _ => bad = true,
                }
            }
        }
        Value::Unknown => {}
        _ => bad = true,
    }
    if bad {
        r.wrong_type(key, "list of list of string required");
    }
    out
}

/// One of a fixed set, or an error at the argument naming the accepted values.
fn one_of(r: &mut ConfigReader, key: &str, value: &str, allowed: &[&str], what: &str) {
    if !allowed.contains(&value) {
        r.error_at(
            key,
            &format!("Invalid {key}"),
            format!(
                "{what} {value:?}: {key} must be one of {}.",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

/// Decodes and validates a `source "qemu"` block (the plugin's `Config.Prepare`).
pub fn decode(r: &mut ConfigReader, info: &ComponentInfo) -> Option<QemuConfig> {
    // Rendered by the builder when it runs, with the HTTP server's address and the VM.
    r.render_later(&["boot_command", "boot_steps", "qemuargs"]);
    for (key, why) in UNSUPPORTED {
        r.refuse(
            key,
            "Unsupported qemu option",
            format!("{key} is not supported by Kiln's qemu builder: {why}."),
        );
    }
    if !r.blocks("winrm").is_empty() {
        r.error("Unsupported qemu option", "WinRM is not supported by Kiln.");
    }

    // --- ISO (`ISOConfig`): iso_url is the disk image's source with disk_image.
    let iso_cfg = IsoConfig {
        iso_url: r.string("iso_url"),
        iso_urls: r.strings("iso_urls").unwrap_or_default(),
        iso_checksum: r.string("iso_checksum").unwrap_or_default(),
        iso_target_path: r.string("iso_target_path"),
        iso_target_extension: r.string("iso_target_extension"),
    };
    let checksum_missing = !r.has("iso_checksum");
    let iso = match iso_cfg.prepare() {
        Ok(p) => {
            for w in &p.warnings {
                r.warn_at("iso_checksum", "Weak ISO checksum", w.clone());
            }
            Some(p)
        }
        Err(errs) => {
            for e in errs {
                let key = if e.contains("checksum") {
                    "iso_checksum"
                } else if r.has("iso_urls") {
                    "iso_urls"
                } else {
                    "iso_url"
                };
                r.error_at(key, "Invalid ISO configuration", e);
            }
            None
        }
    };
    if checksum_missing && iso.is_some() {
        r.error(
            "Missing required argument",
            "The argument \"iso_checksum\" is required (a type:value checksum, file:<url>, or \"none\").",
        );
    }

    // --- Boot command (`VNCConfig`, `BootConfig`, `boot_steps`).
    let boot = BootConfig {
        boot_command: r.strings("boot_command").unwrap_or_default(),
        boot_steps: list_of_lists(r, "boot_steps"),
        boot_wait: match r.string("boot_wait") {
            None => None,
            Some(s) => match crate::template::body::go_non_negative_duration(&s) {
                Some(d) => Some(d),
                None => {
                    r.error_at(
                        "boot_wait",
                        "Invalid boot_wait",
                        format!("boot_wait must be a duration such as \"10s\", got {s:?}."),
                    );
                    None
                }
            },
        },
        boot_key_interval: r.duration("boot_key_interval"),
        disable_vnc: r.bool("disable_vnc").unwrap_or(false),
    };
    for e in boot.validate() {
        let key = if e.starts_with("boot_steps") {
            "boot_steps"
        } else {
            "boot_command"
        };
        r.error_at(key, "Invalid boot command", e);
    }

    // --- Shutdown (`ShutdownConfig`).
    let shutdown_command = r.string("shutdown_command").filter(|s| !s.is_empty());
    let shutdown_timeout = r
        .duration("shutdown_timeout")
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(300));

    // --- Communicator (`CommConfig`): SSH through a forwarded host port, or none.
    let mut comm = CommConfig::read_with(r, "ssh", &[], &info.env);
    let skip_nat_mapping = r.bool("skip_nat_mapping").unwrap_or(false);
    let mut host_port_min = u16_opt(r, "host_port_min").unwrap_or(0);
    let mut host_port_max = u16_opt(r, "host_port_max").unwrap_or(0);
    for (old, new) in [
        ("ssh_host_port_min", "host_port_min"),
        ("ssh_host_port_max", "host_port_max"),
    ] {
        if let Some(v) = u16_opt(r, old).filter(|v| *v != 0) {
            r.warn_at(
                old,
                "Deprecated option",
                format!("{old} is deprecated and is being replaced by {new}. Please, update your template to use {new}."),
            );
            if new == "host_port_min" {
                host_port_min = v;
            } else {
                host_port_max = v;
            }
        }
    }
    if host_port_min == 0 {
        host_port_min = 2222;
    }
    if host_port_max == 0 {
        host_port_max = 4444;
    }
    if host_port_min > host_port_max {
        r.error_at(
            "host_port_min",
            "Invalid host port range",
            "host_port_min must be less than host_port_max",
        );
    }
    if let CommConfig::Ssh(ssh) = &mut comm {
        // A missing ssh_username is the SDK's communicator error (`SshConfig`).
        if ssh.host.is_none() && skip_nat_mapping {
            ssh.host = Some("127.0.0.1".into());
        }
    }
    let comm_port = match &comm {
        CommConfig::Ssh(s) => Some(s.port),
        _ => None,
    };

    // --- Disks.
    let disk_image = r.bool("disk_image").unwrap_or(false);
    let use_backing_file = r.bool("use_backing_file").unwrap_or(false);
    let format = r.string("format").unwrap_or_else(|| "qcow2".into());
    let disk_size = match r.string("disk_size") {
        None => "40960M".to_string(),
        Some(s) => normalize_disk_size(&s).unwrap_or_else(|e| {
            r.error_at("disk_size", "Invalid disk size", e);
            s
        }),
    };
    let additional_sizes = r.strings("disk_additional_size").unwrap_or_default();
    let mut qemu_img_args = QemuImgArgs::default();
    let img_blocks = r.blocks("qemu_img_args");
    if img_blocks.len() > 1 {
        r.error(
            "Duplicate qemu_img_args block",
            "Only one qemu_img_args block is allowed.",
        );
    }
    for b in &img_blocks {
        let mut nr = r.nested(b);
        qemu_img_args.convert = nr.strings("convert").unwrap_or_default();
        qemu_img_args.create = nr.strings("create").unwrap_or_default();
        qemu_img_args.resize = nr.strings("resize").unwrap_or_default();
        let d = nr.finish();
        r.diags.extend(d);
    }
    let build_name = &info.build_name;
    let vm_name = r
        .string("vm_name")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("packer-{build_name}"));
    let output_dir = r
        .string("output_directory")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("output-{build_name}"));
    let disk = DiskConfig {
        output_dir: output_dir.clone(),
        vm_name: vm_name.clone(),
        disk_size,
        additional_sizes,
        format: format.clone(),
        disk_image,
        use_backing_file,
        skip_resize_disk: r.bool("skip_resize_disk").unwrap_or(false),
        skip_compaction: r.bool("skip_compaction").unwrap_or(false),
        disk_compression: r.bool("disk_compression").unwrap_or(false),
        qemu_img_args,
    };
    for e in disk.validate() {
        let key = if e.starts_with("invalid format") {
            "format"
        } else if e.starts_with("use_backing_file") {
            "use_backing_file"
        } else {
            "skip_resize_disk"
        };
        r.error_at(key, "Invalid disk configuration", e);
    }
    for s in &disk.additional_sizes {
        if let Err(e) = normalize_disk_size(s) {
            r.error_at("disk_additional_size", "Invalid disk size", e);
        }
    }

    // --- Machine.
    let accelerator_set = r.string("accelerator").filter(|s| !s.is_empty());
    let accelerator_detected = accelerator_set.is_none();
    let accelerator = accelerator_set
        .unwrap_or_else(|| detect_accelerator(std::path::Path::new("/dev/kvm")).to_string());
    one_of(
        r,
        "accelerator",
        &accelerator,
        ACCELERATORS,
        "invalid accelerator",
    );
    let mut args = QemuArgsConfig::packer_defaults(build_name, &accelerator);
    args.vm_name = vm_name;
    args.output_dir = output_dir.clone();
    args.disk_image = disk_image;
    args.format = format;
    if let Some(m) = r.string("machine_type").filter(|s| !s.is_empty()) {
        args.machine_type = m;
    }
    if let Some(m) = r.int("memory") {
        // Prepare: anything under 10 MiB means the default 512.
        args.memory = if m < 10 { 512 } else { m as u64 };
    }
    args.cpus = u32_count(r, "cpus");
    args.sockets = u32_count(r, "sockets");
    args.cores = u32_count(r, "cores");
    args.threads = u32_count(r, "threads");
    args.cpu_model = r.string("cpu_model").filter(|s| !s.is_empty());
    args.firmware = r.string("firmware").filter(|s| !s.is_empty());
    args.pflash = r.bool("use_pflash").unwrap_or(false);
    // EFI (`QemuEFIBootConfig.loadDefaults`): a code or vars file turns it on.
    let efi_code = r.string("efi_firmware_code").filter(|s| !s.is_empty());
    let efi_vars = r.string("efi_firmware_vars").filter(|s| !s.is_empty());
    let efi_boot = r.bool("efi_boot").unwrap_or(false) || efi_code.is_some() || efi_vars.is_some();
    let efi_drop_efivars = r.bool("efi_drop_efivars").unwrap_or(false);
    let efi_vars = if efi_boot {
        let code = efi_code.unwrap_or_else(|| "/usr/share/OVMF/OVMF_CODE.fd".into());
        let vars = efi_vars.unwrap_or_else(|| "/usr/share/OVMF/OVMF_VARS.fd".into());
        for (key, path) in [("efi_firmware_code", &code), ("efi_firmware_vars", &vars)] {
            if !info.env.in_cluster && !std::path::Path::new(path).is_file() {
                r.error_at(
                    if r.has(key) { key } else { "efi_boot" },
                    "Missing EFI firmware",
                    format!("{path} does not exist (install ovmf, or set {key})."),
                );
            }
        }
        args.efi_code = Some(code);
        Some(PathBuf::from(vars))
    } else {
        None
    };
    args.headless = r.bool("headless").unwrap_or(false);
    args.display = r.string("display").filter(|s| !s.is_empty());
    args.use_default_display = r.bool("use_default_display").unwrap_or(false);
    args.vga = r.string("vga").filter(|s| !s.is_empty());
    if let Some(a) = r.string("vnc_bind_address").filter(|s| !s.is_empty()) {
        args.vnc_bind_address = a;
    }
    args.vnc_use_password = r.bool("vnc_use_password").unwrap_or(false);
    let vnc_password = r.string("vnc_password").unwrap_or_default();
    if let Err(e) = super::qmp::vnc_password(args.vnc_use_password, &vnc_password) {
        r.error_at("vnc_password", "Invalid vnc_password", e);
    }
    let vnc_port_min = u16_opt(r, "vnc_port_min")
        .filter(|p| *p != 0)
        .unwrap_or(5900);
    let vnc_port_max = u16_opt(r, "vnc_port_max")
        .filter(|p| *p != 0)
        .unwrap_or(6000);
    if vnc_port_min < 5900 {
        r.error_at(
            "vnc_port_min",
            "Invalid VNC port range",
            "vnc_port_min cannot be below 5900",
        );
    }
    if vnc_port_min > vnc_port_max {
        r.error_at(
            "vnc_port_min",
            "Invalid VNC port range",
            "vnc_port_min must be less than vnc_port_max",
        );
    }
    args.qmp_enable = r.bool("qmp_enable").unwrap_or(false) || args.vnc_use_password;
    let qmp_socket = r.string("qmp_socket_path").filter(|s| !s.is_empty());
    if args.qmp_enable {
        args.qmp_socket_path = qmp_socket.unwrap_or_else(|| {
            super::args::go_join(&output_dir, &format!("{}.monitor", args.vm_name))
        });
    }
    if let Some(n) = r.string("net_device").filter(|s| !s.is_empty()) {
        args.net_device = n;
    }
    if let Some(v) = r.string("disk_interface").filter(|s| !s.is_empty()) {
        args.disk_interface = v;
    }
    one_of(
        r,
        "disk_interface",
        &args.disk_interface.clone(),
        DISK_INTERFACES,
        "unrecognized disk interface type",
    );
    if let Some(v) = r.string("disk_cache").filter(|s| !s.is_empty()) {
        args.disk_cache = v;
    }
    one_of(
        r,
        "disk_cache",
        &args.disk_cache.clone(),
        DISK_CACHES,
        "unrecognized disk cache type",
    );
    if let Some(v) = r.string("disk_discard").filter(|s| !s.is_empty()) {
        args.disk_discard = v;
    }
    one_of(
        r,
        "disk_discard",
        &args.disk_discard.clone(),
        DISK_DISCARDS,
        "unrecognized disk discard type",
    );
    if let Some(v) = r.string("disk_detect_zeroes").filter(|s| !s.is_empty()) {
        args.disk_detect_zeroes = v;
    }
    one_of(
        r,
        "disk_detect_zeroes",
        &args.disk_detect_zeroes.clone(),
        DISK_DETECT_ZEROES,
        "unrecognized disk detect zeroes setting",
    );
    args.cdrom_interface = r.string("cdrom_interface").filter(|s| !s.is_empty());
    args.comm_port = comm_port;
    args.qemuargs = list_of_lists(r, "qemuargs");
    for (i, row) in args.qemuargs.iter().enumerate() {
        if row.is_empty() {
            r.error_at(
                "qemuargs",
                "Invalid qemuargs",
                format!("qemuargs[{i}] is empty: each row is [flag, value parts...]."),
            );
        }
    }
    let qemu_binary = r
        .string("qemu_binary")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "qemu-system-x86_64".into());

    // --- HTTP server (`HTTPConfig`).
    let mut http = HttpConfig {
        directory: r
            .string("http_directory")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        content: r.string_map("http_content").unwrap_or_default(),
        port_min: u16_opt(r, "http_port_min").unwrap_or(0),
        port_max: u16_opt(r, "http_port_max").unwrap_or(0),
        bind_address: r.string("http_bind_address").unwrap_or_default(),
        network_protocol: r.string("http_network_protocol").unwrap_or_default(),
    };
    for e in http.prepare() {
        let key = if e.starts_with("http_port") {
            "http_port_min"
        } else if e.starts_with("http_content") {
            "http_content"
        } else {
            "http_network_protocol"
        };
        r.error_at(key, "Invalid HTTP server configuration", e);
    }
    args.http_directory = http
        .directory
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_default();

    // --- CD (`CDConfig`).
    let mut cd = CdConfig {
        files: r.strings("cd_files").unwrap_or_default(),
        content: r.string_map("cd_content").unwrap_or_default(),
        label: r.string("cd_label"),
    };
    if !info.env.in_cluster {
        for e in cd.prepare() {
            r.error_at("cd_files", "Invalid cd_files", e);
        }
    }

    // --- Output directory (`Config.Prepare` L877-883): it must not exist, unless -force.
    if !info.force && !info.env.in_cluster && std::fs::symlink_metadata(&output_dir).is_ok() {
        r.error_at(
            "output_directory",
            "Output directory exists",
            format!("Output directory '{output_dir}' already exists. It must not exist (or run with -force to delete it)."),
        );
    }

    let iso = iso?;
    Some(QemuConfig {
        args,
        disk,
        iso,
        boot,
        http,
        cd,
        comm,
        host_port_min,
        host_port_max,
        skip_nat_mapping,
        shutdown_command,
        shutdown_timeout,
        qemu_binary,
        vnc_port_min,
        vnc_port_max,
        vnc_password,
        efi_vars,
        efi_drop_efivars,
        accelerator_detected,
        cache_dir: info.env.work_dir.join("packer_cache"),
        tmp_dir: info.env.work_dir.clone(),
        force: info.force,
    })
}
