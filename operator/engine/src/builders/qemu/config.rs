//! The `qemu` source's configuration: every option of packer-plugin-qemu v1.1.7's `Config`
//! that Kiln supports, decoded and validated as its `Config.Prepare` (`config.go`) does: its
//! errors in its words and order, reported together at the source block as its MultiError.
//! Options Kiln does not support yet (WinRM) and Kiln's stricter
//! checks are its own checks, deferred to the build's first step (`registry::OwnChecks`):
//! the template validates as with the plugin.

use std::path::PathBuf;
use std::time::Duration;

use crate::communicator::config::CommConfig;
use crate::components::ComponentInfo;
use crate::steps::cdrom::CdConfig;
use crate::steps::download::{IsoConfig, PreparedIso};
use crate::steps::floppy::FloppyConfig;
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
    /// `floppy_files`, `floppy_dirs`, `floppy_content`, `floppy_label`: a FAT12 floppy (`-fda`).
    pub floppy: FloppyConfig,
    /// `iso_skip_cache`: qemu reads the ISO from its URL (which must serve byte ranges).
    pub iso_skip_cache: bool,
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
    /// `use_tpm1`: swtpm emulates a TPM 1.2 rather than 2.0 (with `vtpm`).
    pub vtpm_tpm1: bool,
    /// The accelerator was chosen by opening `/dev/kvm` (not set in the template).
    pub accelerator_detected: bool,
    /// Where downloaded ISOs are cached ([`packer_cache_dir`]).
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

/// A port option, as the plugin decodes it (a Go `int`, range-checked by its Prepare where
/// it checks at all).
fn port(r: &mut ConfigReader, key: &str) -> Option<i64> {
    r.int(key)
}

/// A port the plugin keeps as a Go `int`: its value, outside 0..=65535 also Kiln's own error.
fn checked_port(r: &mut ConfigReader, key: &str) -> Option<i64> {
    let v = port(r, key)?;
    if u16::try_from(v).is_err() {
        r.check_error_at(
            key,
            "Invalid port",
            format!("{key} must be between 0 and 65535, got {v}."),
        );
    }
    Some(v)
}

fn clamp_u16(v: i64) -> u16 {
    u16::try_from(v.max(0)).unwrap_or(u16::MAX)
}

/// A `list(list(string))` argument (`qemuargs`, `boot_steps`).
fn list_of_lists(r: &mut ConfigReader, key: &str) -> Vec<Vec<String>> {
    if let Some(rows) = r.ms_string_lists(key) {
        return rows
            .unwrap_or_default()
            .into_iter()
            .map(|row| row.into_iter().map(|s| r.interpolate(key, s)).collect())
            .collect();
    }
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

/// Decodes and validates a `source "qemu"` block (the plugin's `Config.Prepare`).
///
/// The plugin's errors are recorded with [`ConfigReader::prepare_error`] in its words and in
/// the order its `Prepare` finds them (reported together as its MultiError); the checks
/// only Kiln makes (unsupported options, `qemuargs` rows, on which the plugin panics, and
/// ports above 65535, for which it searches forever) are Kiln's own
/// ([`ConfigReader::check_error_at`]), which fail the build at its first step rather than
/// its validation (see `registry::OwnChecks`).
pub fn decode(r: &mut ConfigReader, info: &ComponentInfo) -> Option<QemuConfig> {
    // Rendered by the builder when it runs, with the HTTP server's address and the VM.
    r.render_later(&["boot_command", "boot_steps", "qemuargs"]);
    if !r.blocks("winrm").is_empty() {
        r.check_error("Unsupported qemu option", "WinRM is not supported by Kiln.");
    }
    // `run_once`: in the plugin's schema, used by nothing.
    let _ = r.bool("run_once");
    // `boot_keygroup_interval`: the SDK's USB keyboard's; the VNC driver does not use it.
    let _ = r.duration("boot_keygroup_interval");
    let iso_skip_cache = r.bool("iso_skip_cache").unwrap_or(false);

    // --- Everything the plugin's Prepare looks at, read first: its checks follow, in its
    // order (`config.go` Prepare).
    let iso_cfg = IsoConfig {
        // (an empty `iso_url` is the SDK's unset)
        iso_url: r.string("iso_url").filter(|s| !s.is_empty()),
        iso_urls: r.strings("iso_urls").unwrap_or_default(),
        // (`iso_skip_cache`: the plugin's Prepare sets the checksum to "none")
        iso_checksum: if iso_skip_cache {
            let _ = r.string("iso_checksum");
            "none".into()
        } else {
            r.string("iso_checksum").unwrap_or_default()
        },
        iso_target_path: r.string("iso_target_path"),
        iso_target_extension: r.string("iso_target_extension"),
    };
    let boot = BootConfig {
        boot_command: r.strings("boot_command").unwrap_or_default(),
        boot_steps: list_of_lists(r, "boot_steps"),
        // A Go duration decoded by mapstructure (its errors); zero is `BootConfig.Prepare`'s
        // default of 10 s, a negative one waits nothing.
        boot_wait: match r.any("boot_wait") {
            Some(Value::String(t))
                if t.trim_start().starts_with('-')
                    && crate::template::body::go_parse_duration_nanos(&t).is_ok() =>
            {
                let _ = r.duration("boot_wait");
                Some(Duration::ZERO)
            }
            _ => r.duration("boot_wait").filter(|d| !d.is_zero()),
        },
        boot_key_interval: r.duration("boot_key_interval"),
        disable_vnc: r.bool("disable_vnc").unwrap_or(false),
    };
    let shutdown_command = r.string("shutdown_command").filter(|s| !s.is_empty());
    let shutdown_timeout = r
        .duration("shutdown_timeout")
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(300));
    let disk_image = r.bool("disk_image").unwrap_or(false);
    let use_backing_file = r.bool("use_backing_file").unwrap_or(false);
    let format = r
        .string("format")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "qcow2".into());
    let disk_size_set = r.string("disk_size");
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
        r.finish_nested(nr);
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
    let skip_resize_disk = r.bool("skip_resize_disk").unwrap_or(false);
    let skip_compaction = r.bool("skip_compaction").unwrap_or(false);
    let disk_compression = r.bool("disk_compression").unwrap_or(false);
    let accelerator_set = r.string("accelerator").filter(|s| !s.is_empty());
    let accelerator_detected = accelerator_set.is_none();
    let accelerator = accelerator_set
        .unwrap_or_else(|| detect_accelerator(std::path::Path::new("/dev/kvm")).to_string());
    let mut args = QemuArgsConfig::packer_defaults(build_name, &accelerator);
    args.vm_name = vm_name.clone();
    args.output_dir = output_dir.clone();
    args.disk_image = disk_image;
    args.format = format.clone();
    if let Some(m) = r.string("machine_type").filter(|s| !s.is_empty()) {
        args.machine_type = m;
    }
    // `vtpm`: swtpm's socket as the VM's TPM (`tpm_device_type`, default `tpm-tis`), TPM 2.0
    // unless `use_tpm1`.
    let vtpm_tpm1 = r.bool("use_tpm1").unwrap_or(false);
    let tpm_type = r
        .string("tpm_device_type")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "tpm-tis".into());
    if r.bool("vtpm").unwrap_or(false) {
        args.vtpm = Some(tpm_type);
    }
    if let Some(m) = r.int("memory") {
        // Prepare: anything under 10 MiB means the default 512.
        args.memory = if m < 10 { 512 } else { m as u64 };
    }
    let topology: Vec<(&str, i64)> = ["cpus", "sockets", "cores", "threads"]
        .into_iter()
        .map(|k| (k, r.int(k).unwrap_or(0)))
        .collect();
    let count = |k: &str| {
        topology
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| u32::try_from((*v).max(0)).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    args.cpus = count("cpus");
    args.sockets = count("sockets");
    args.cores = count("cores");
    args.threads = count("threads");
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
        // A missing firmware file is found when the build runs, as the plugin finds it: the
        // VARS file by stepPrepareEfivars, the CODE file by qemu, which fails to start.
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
    // (a password over 8 characters fails the build at stepConfigureVNC, as the plugin's)
    let vnc_password = r.string("vnc_password").unwrap_or_default();
    let vnc_port_min = port(r, "vnc_port_min").filter(|p| *p != 0).unwrap_or(5900);
    let vnc_port_max = port(r, "vnc_port_max").filter(|p| *p != 0).unwrap_or(6000);
    // `net_bridge`: qemu's bridge helper attaches the VM to that host bridge; the guest's
    // address is then found over QMP and in the host's ARP table
    args.net_bridge = r.string("net_bridge").filter(|s| !s.is_empty());
    if info.env.in_cluster && args.net_bridge.is_some() {
        r.check_error_at(
            "net_bridge",
            "Unsupported in the cluster",
            "net_bridge: a runner pod has no host bridge to attach the VM to (its network is the pod's); use the user network (the default) or build locally with `kiln build`.",
        );
    }
    args.qmp_enable =
        r.bool("qmp_enable").unwrap_or(false) || args.vnc_use_password || args.net_bridge.is_some();
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
    if let Some(v) = r.string("disk_cache").filter(|s| !s.is_empty()) {
        args.disk_cache = v;
    }
    if let Some(v) = r.string("disk_discard").filter(|s| !s.is_empty()) {
        args.disk_discard = v;
    }
    if let Some(v) = r.string("disk_detect_zeroes").filter(|s| !s.is_empty()) {
        args.disk_detect_zeroes = v;
    }
    args.cdrom_interface = r.string("cdrom_interface").filter(|s| !s.is_empty());
    args.qemuargs = list_of_lists(r, "qemuargs");
    for (i, row) in args.qemuargs.iter().enumerate() {
        if row.is_empty() {
            r.check_error_at(
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
    let mut http = HttpConfig {
        directory: r
            .string("http_directory")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        content: r.string_map("http_content").unwrap_or_default(),
        port_min: checked_port(r, "http_port_min").unwrap_or(0),
        port_max: checked_port(r, "http_port_max").unwrap_or(0),
        bind_address: r.string("http_bind_address").unwrap_or_default(),
        interface: r.string("http_interface").unwrap_or_default(),
        network_protocol: r.string("http_network_protocol").unwrap_or_default(),
    };
    let floppy = FloppyConfig {
        files: r.strings("floppy_files").unwrap_or_default(),
        dirs: r.strings("floppy_dirs").unwrap_or_default(),
        content: r.string_map("floppy_content").unwrap_or_default(),
        label: r.string("floppy_label"),
    };
    let mut cd = CdConfig {
        files: r.strings("cd_files").unwrap_or_default(),
        content: r.string_map("cd_content").unwrap_or_default(),
        label: r.string("cd_label"),
    };
    let skip_nat_mapping = r.bool("skip_nat_mapping").unwrap_or(false);
    let mut host_port_min = port(r, "host_port_min").unwrap_or(0);
    let mut host_port_max = port(r, "host_port_max").unwrap_or(0);
    let old_host_port_min = port(r, "ssh_host_port_min").unwrap_or(0);
    let old_host_port_max = port(r, "ssh_host_port_max").unwrap_or(0);

    // --- The plugin's Prepare, in its order. `ShutdownConfig` only sets defaults.
    // The disk size: digits with an optional unit.
    let disk_size = match disk_size_set {
        None => "40960M".to_string(),
        Some(s) => normalize_disk_size(&s).unwrap_or_else(|_| {
            r.prepare_error("Invalid disk size.");
            s
        }),
    };
    // `FloppyConfig` and `CDConfig` (the files are on the runner, checked there in the
    // cluster).
    if !info.env.in_cluster {
        for e in floppy.prepare() {
            r.prepare_error(e);
        }
        for e in cd.prepare() {
            r.prepare_error(e);
        }
    }
    // `VNCConfig` and its `BootConfig`.
    for e in boot.prepare_errors() {
        r.prepare_error(e);
    }
    // `ISOConfig`: iso_url is the disk image's source with disk_image.
    let iso = match iso_cfg.prepare() {
        Ok(p) => {
            for w in &p.warnings {
                r.prepare_warning(w.clone());
            }
            Some(p)
        }
        Err(errs) => {
            for e in errs {
                if e.kiln_only {
                    r.check_error_at("iso_checksum", "Invalid iso_checksum", e.message);
                } else {
                    r.prepare_error(e.message);
                }
            }
            None
        }
    };
    // `HTTPConfig`.
    for e in http.prepare() {
        if e.contains("not supported by Kiln") {
            r.check_error_at("http_network_protocol", "Unsupported qemu option", e);
        } else {
            r.prepare_error(e);
        }
    }
    // The plugin's `CommConfig`: the deprecated host port options, then the SDK's
    // communicator config (SSH through a forwarded host port, or none), then the range.
    for (old, new, v) in [
        ("ssh_host_port_min", "host_port_min", old_host_port_min),
        ("ssh_host_port_max", "host_port_max", old_host_port_max),
    ] {
        if v != 0 {
            r.prepare_warning(format!(
                "{old} is deprecated and is being replaced by {new}. Please, update your template to use {new}. In future versions of Packer, inclusion of {old} will error your builds."
            ));
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
    let mut comm = CommConfig::read_with(r, "ssh", &[], &info.env);
    if let CommConfig::Ssh(ssh) = &mut comm
        && ssh.host.is_none()
        && skip_nat_mapping
    {
        ssh.host = Some("127.0.0.1".into());
    }
    if host_port_min > host_port_max {
        r.prepare_error("host_port_min must be less than host_port_max");
    }
    if host_port_min < 0 {
        r.prepare_error("host_port_min must be positive");
    }
    for (key, v) in [
        ("host_port_min", host_port_min),
        ("host_port_max", host_port_max),
    ] {
        // Kiln's own: the plugin finds no free port there when it runs.
        if v > 65535 {
            r.check_error_at(
                key,
                "Invalid port",
                format!("{key} must be between 0 and 65535, got {v}."),
            );
        }
    }
    args.comm_port = match &comm {
        CommConfig::Ssh(s) => Some(s.port),
        _ => None,
    };
    // The disks: format, backing file, resizing.
    let disk = DiskConfig {
        output_dir: output_dir.clone(),
        vm_name,
        disk_size,
        additional_sizes,
        format,
        disk_image,
        use_backing_file,
        skip_resize_disk,
        skip_compaction,
        disk_compression,
        qemu_img_args,
    };
    for e in disk.validate() {
        r.prepare_error(e);
    }
    // (`disk_additional_size` goes to qemu-img as it is, whose error fails stepCreateDisk)
    // The machine's settings, each from its fixed set.
    for (value, allowed, message) in [
        (
            &accelerator,
            ACCELERATORS,
            "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed",
        ),
        (
            &args.disk_interface,
            DISK_INTERFACES,
            "unrecognized disk interface type",
        ),
        (
            &args.disk_cache,
            DISK_CACHES,
            "unrecognized disk cache type",
        ),
        (
            &args.disk_discard,
            DISK_DISCARDS,
            "unrecognized disk discard type",
        ),
        (
            &args.disk_detect_zeroes,
            DISK_DETECT_ZEROES,
            "unrecognized disk detect zeroes setting",
        ),
    ] {
        if !allowed.contains(&value.as_str()) {
            r.prepare_error(message);
        }
    }
    for (key, v) in &topology {
        if *v < 0 {
            r.prepare_error(format!("{key} must be a positive number"));
        }
    }
    // The output directory must not exist, unless -force (in the cluster, the runner's
    // work directory is fresh).
    if !info.force && !info.env.in_cluster && std::fs::metadata(&output_dir).is_ok() {
        r.prepare_error(format!(
            "Output directory '{output_dir}' already exists. It must not exist."
        ));
    }
    // VNC's port range.
    if vnc_port_min < 5900 {
        r.prepare_error("vnc_port_min cannot be below 5900");
    }
    if vnc_port_min > 65535 || vnc_port_max > 65535 {
        r.prepare_error(
            "vmc_port_min and vnc_port_max must both be below 65535 to be valid TCP ports",
        );
    }
    if vnc_port_min > vnc_port_max {
        r.prepare_error("vnc_port_min must be less than vnc_port_max");
    }
    if !boot.boot_command.is_empty() && !boot.boot_steps.is_empty() {
        r.prepare_error("boot_command and boot_steps cannot be used together");
    }
    let host_port_min = clamp_u16(host_port_min);
    let host_port_max = clamp_u16(host_port_max);
    let vnc_port_min = clamp_u16(vnc_port_min);
    let vnc_port_max = clamp_u16(vnc_port_max);
    args.http_directory = http
        .directory
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_default();

    let iso = iso?;
    Some(QemuConfig {
        args,
        disk,
        iso,
        boot,
        http,
        cd,
        floppy,
        iso_skip_cache,
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
        vtpm_tpm1,
        accelerator_detected,
        cache_dir: packer_cache_dir(&info.env.work_dir),
        tmp_dir: info.env.work_dir.clone(),
        force: info.force,
    })
}

/// The SDK's `CachePath` directory: `PACKER_CACHE_DIR`, else `$XDG_CACHE_HOME/packer`,
/// else `~/.cache/packer` (with no home, Kiln's `<work dir>/packer_cache`).
pub fn packer_cache_dir(work_dir: &std::path::Path) -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("PACKER_CACHE_DIR") {
        return std::path::absolute(&d).unwrap_or(d);
    }
    if let Some(x) = env("XDG_CACHE_HOME") {
        return x.join("packer");
    }
    match env("HOME") {
        Some(h) => h.join(".cache/packer"),
        None => work_dir.join("packer_cache"),
    }
}
