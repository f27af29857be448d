//! The qemu command line, a pure function of the configuration and the run state, as
//! packer-plugin-qemu v1.1.7's `builder/qemu/step_run.go` builds it (`getDefaultArgs`
//! L75-210, `getDeviceAndDriveArgs` L236-345, `applyUserOverrides` L347-440), plus the
//! `-smp` value of `config.go` (`QemuSMPConfig.getDefaultCmdLine` L103-138).
//!
//! The plugin collects arguments in a Go map, so its argv order is random; here the order is
//! fixed (the `qemuargs` keys first, in template order, then the defaults in the order
//! `getDefaultArgs` sets them), and every flag keeps its values in the plugin's order.

use indexmap::IndexMap;

use super::bootcommand::render_fields;

/// The part of the qemu builder's configuration the command line depends on, after the
/// plugin's `Prepare` defaults (see [`QemuArgsConfig::packer_defaults`]).
/// `Default` is Go's zero value of each field (what the plugin's tests start from).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QemuArgsConfig {
    pub vm_name: String,
    pub output_dir: String,
    /// `disk_image`: boot the disk (`-boot c`) rather than the ISO (`-boot once=d`).
    pub disk_image: bool,
    pub machine_type: String,
    /// `kvm`, `tcg`, `xen`, `hax`, `hvf`, `whpx` or `none` (no `accel=`).
    pub accelerator: String,
    /// `memory`, in MiB.
    pub memory: u64,
    pub cpus: u32,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
    pub cpu_model: Option<String>,
    /// `firmware`: `-bios`, or a read-only pflash drive when `pflash` is set.
    pub firmware: Option<String>,
    pub pflash: bool,
    /// `efi_boot`: the OVMF code file (`efi_firmware_code`); the VARS copy is run state.
    pub efi_code: Option<String>,
    pub headless: bool,
    pub display: Option<String>,
    pub use_default_display: bool,
    pub vga: Option<String>,
    pub vnc_bind_address: String,
    pub vnc_use_password: bool,
    pub qmp_enable: bool,
    pub qmp_socket_path: String,
    pub net_bridge: Option<String>,
    /// `net_device` (default `virtio-net`).
    pub net_device: String,
    pub disk_interface: String,
    pub disk_cache: String,
    pub disk_discard: String,
    pub disk_detect_zeroes: String,
    /// `format`: `qcow2` or `raw`.
    pub format: String,
    /// `cdrom_interface` (empty: `media=cdrom` drives with qemu's default interface).
    pub cdrom_interface: Option<String>,
    /// `vtpm` with `tpm_device_type` (default `tpm-tis`).
    pub vtpm: Option<String>,
    /// The communicator's port in the guest (`ssh_port`), `None` for `communicator = "none"`.
    pub comm_port: Option<u16>,
    /// `qemuargs`, uninterpolated.
    pub qemuargs: Vec<Vec<String>>,
    /// `http_directory`, for `{{ .HTTPDir }}` in `qemuargs`.
    pub http_directory: String,
}

impl QemuArgsConfig {
    /// The plugin's defaults (`Config.Prepare`): `pc` machine, 512 MiB, `virtio` disk with
    /// `writeback` cache, `ignore` discard, detect-zeroes `off`, `virtio-net`, qcow2, VNC on
    /// 127.0.0.1, `packer-<build name>` VM name in `output-<build name>`. The accelerator is
    /// left to the caller (Packer opens `/dev/kvm` to choose; see [`detect_accelerator`]).
    pub fn packer_defaults(build_name: &str, accelerator: &str) -> QemuArgsConfig {
        QemuArgsConfig {
            vm_name: format!("packer-{build_name}"),
            output_dir: format!("output-{build_name}"),
            machine_type: "pc".into(),
            accelerator: accelerator.into(),
            memory: 512,
            vnc_bind_address: "127.0.0.1".into(),
            net_device: "virtio-net".into(),
            disk_interface: "virtio".into(),
            disk_cache: "writeback".into(),
            disk_discard: "ignore".into(),
            disk_detect_zeroes: "off".into(),
            format: "qcow2".into(),
            comm_port: Some(22),
            ..QemuArgsConfig::default()
        }
    }
}

/// Packer's automatic accelerator (`config.go` L726-738): `kvm` when `/dev/kvm` opens, else
/// `tcg`. On hosts with a paravirtualised KVM (PVM) stock kernels hang under `kvm`: set
/// `accelerator = "tcg"` there.
pub fn detect_accelerator(dev_kvm: &std::path::Path) -> &'static str {
    if std::fs::File::open(dev_kvm).is_ok() {
        "kvm"
    } else {
        "tcg"
    }
}

/// What earlier steps found out, which the command line uses (the plugin's state bag keys).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QemuRunState {
    /// `commHostPort`: the host port forwarded to the guest's communicator port.
    pub comm_host_port: Option<u16>,
    /// `vnc_port`: the full TCP port (5900 + display).
    pub vnc_port: u16,
    /// `floppy_path`.
    pub floppy_path: Option<String>,
    /// `iso_path`: the installation ISO (or the source disk with `disk_image`).
    pub iso_path: Option<String>,
    /// `cd_path`: the ISO made from `cd_files`/`cd_content`.
    pub cd_path: Option<String>,
    /// `qemu_disk_paths`: the disks to attach, main disk first.
    pub disk_paths: Vec<String>,
    /// `http_ip` / `http_port`, for `qemuargs` templates.
    pub http_ip: String,
    pub http_port: u16,
    /// The writable copy of the EFI variables file.
    pub efivars_path: Option<String>,
    /// The swtpm socket.
    pub vtpm_socket: Option<String>,
    /// qemu ≥ 2.0 (`atLeastVersion2`): Debian's qemu is 7.2, so nearly always true.
    pub qemu_at_least_2: bool,
}

/// `-smp`'s value (`getDefaultCmdLine`): the CPU count, or the topology's product when
/// only the topology is set, clamped to the topology; then `,sockets=`/`,cores=`/`,threads=`.
pub fn smp_value(cpus: u32, sockets: u32, cores: u32, threads: u32) -> String {
    let parts = [sockets, cores, threads];
    let max: u32 = if parts.iter().all(|p| *p == 0) {
        0
    } else {
        parts.iter().filter(|p| **p > 0).product()
    };
    if max == 0 && cpus == 0 {
        return "1".into();
    }
    let mut count = if cpus == 0 { max } else { cpus };
    if count > max && max != 0 {
        count = max;
    }
    let mut s = count.to_string();
    if sockets > 0 {
        s += &format!(",sockets={sockets}");
    }
    if cores > 0 {
        s += &format!(",cores={cores}");
    }
    if threads > 0 {
        s += &format!(",threads={threads}");
    }
    s
}

/// A default argument: one value or several (`-device`, `-drive`).
#[derive(Debug, Clone, PartialEq)]
enum Val {
    One(String),
    Many(Vec<String>),
}

/// The default arguments (`getDefaultArgs`), in the order the plugin sets them.
fn default_args(c: &QemuArgsConfig, st: &QemuRunState) -> IndexMap<&'static str, Val> {
    let mut d: IndexMap<&'static str, Val> = IndexMap::new();
    let one = |s: String| Val::One(s);
    // L83-93: boot from the CD once, or from the disk with disk_image; none with EFI.
    if c.efi_code.is_none() {
        d.insert(
            "-boot",
            one(if c.disk_image { "c" } else { "once=d" }.into()),
        );
    }
    // L96-98
    if c.qmp_enable {
        d.insert(
            "-qmp",
            one(format!("unix:{},server,nowait", c.qmp_socket_path)),
        );
    }
    // L101
    d.insert("-name", one(c.vm_name.clone()));
    // L104-111
    if c.accelerator == "none" {
        d.insert("-machine", one(format!("type={}", c.machine_type)));
    } else {
        d.insert(
            "-machine",
            one(format!("type={},accel={}", c.machine_type, c.accelerator)),
        );
    }
    // L114-116
    if let Some(fw) = c.firmware.as_ref().filter(|_| !c.pflash) {
        d.insert("-bios", one(fw.clone()));
    }
    // L119-126: user networking with the communicator port forwarded, unless bridged.
    let netdev = match &c.net_bridge {
        Some(br) if !br.is_empty() => format!("bridge,id=user.0,br={br}"),
        _ => match (c.comm_port, st.comm_host_port) {
            (Some(guest), Some(host)) => format!("user,id=user.0,hostfwd=tcp::{host}-:{guest}"),
            _ => "user,id=user.0".into(),
        },
    };
    d.insert("-netdev", one(netdev));
    // L131-140: `-vnc addr:display[,password]`.
    let display = st.vnc_port.saturating_sub(5900);
    let mut vnc = format!("{}:{}", c.vnc_bind_address, display);
    if c.vnc_use_password {
        vnc += ",password";
    }
    d.insert("-vnc", one(vnc));
    // L150
    d.insert("-m", one(format!("{}M", c.memory)));
    // L153
    d.insert(
        "-smp",
        one(smp_value(c.cpus, c.sockets, c.cores, c.threads)),
    );
    // L156-158
    if let Some(m) = &c.cpu_model {
        d.insert("-cpu", one(m.clone()));
    }
    // L161-165
    if let Some(f) = &st.floppy_path {
        d.insert("-fda", one(f.clone()));
    }
    // L168-185: a window unless headless ("none" means qemu's default display).
    if !c.headless && st.qemu_at_least_2 {
        match c.display.as_deref() {
            Some(disp) if !disp.is_empty() && disp != "none" => {
                d.insert("-display", one(disp.into()));
            }
            _ if !c.use_default_display => {
                d.insert("-display", one("gtk".into()));
            }
            _ => {}
        }
    }
    // L187-191
    if let Some(sock) = c.vtpm.as_ref().and(st.vtpm_socket.as_ref()) {
        d.insert("-chardev", one(format!("socket,id=vtpm,path={sock}")));
        d.insert("-tpmdev", one("emulator,id=tpm0,chardev=vtpm".into()));
    }
    // L193-195
    if let Some(v) = &c.vga {
        d.insert("-vga", one(v.clone()));
    }
    // L197-199
    let (devices, drives) = device_and_drive_args(c, st);
    d.insert("-device", Val::Many(devices));
    d.insert("-drive", Val::Many(drives));
    d
}

/// `getDeviceAndDriveArgs`: disks, the NIC, CD-ROMs, firmware and EFI pflash, TPM.
fn device_and_drive_args(c: &QemuArgsConfig, st: &QemuRunState) -> (Vec<String>, Vec<String>) {
    let mut devices = Vec::new();
    let mut drives = Vec::new();
    let mut scsi_index = 0;
    if st.qemu_at_least_2 {
        for (i, path) in st.disk_paths.iter().enumerate() {
            let mut drive = format!(
                "file={path},if={},cache={},discard={},format={}",
                c.disk_interface, c.disk_cache, c.disk_discard, c.format
            );
            if c.disk_interface == "virtio-scsi" {
                // L261-272: one controller, every disk on bus scsi0.0 (the plugin's own TODO).
                if scsi_index == 0 {
                    devices.push("virtio-scsi-pci,id=scsi0".to_string());
                }
                devices.push(format!("scsi-hd,bus=scsi0.0,drive=drive{i}"));
                drive = format!(
                    "if=none,file={path},id=drive{i},cache={},discard={},format={}",
                    c.disk_cache, c.disk_discard, c.format
                );
                scsi_index += 1;
            }
            if c.disk_detect_zeroes != "off" {
                drive += &format!(",detect-zeroes={}", c.disk_detect_zeroes);
            }
            drives.push(drive);
        }
    } else {
        let img = go_join(&c.output_dir, &c.vm_name);
        drives.push(format!(
            "file={img},if={},cache={},format={}",
            c.disk_interface, c.disk_cache, c.format
        ));
    }
    // L283
    devices.push(format!("{},netdev=user.0", c.net_device));
    // L285-313: the installation ISO (not with disk_image) and the cd_files ISO.
    let mut cds = Vec::new();
    if !c.disk_image
        && let Some(iso) = &st.iso_path
    {
        cds.push(iso.clone());
    }
    if let Some(cd) = st.cd_path.as_ref().filter(|p| !p.is_empty()) {
        cds.push(cd.clone());
    }
    for (i, cd) in cds.iter().enumerate() {
        match c.cdrom_interface.as_deref() {
            None | Some("") => drives.push(format!("file={cd},media=cdrom")),
            Some("virtio-scsi") => {
                if scsi_index == 0 {
                    devices.push("virtio-scsi-pci,id=scsi0".to_string());
                }
                drives.push(format!(
                    "file={cd},if=none,index={scsi_index},id=cdrom{i},media=cdrom"
                ));
                devices.push("virtio-scsi-device".to_string());
                devices.push(format!("scsi-cd,drive=cdrom{i}"));
                scsi_index += 1;
            }
            Some(other) => drives.push(format!(
                "file={cd},if={other},index={i},id=cdrom{i},media=cdrom"
            )),
        }
    }
    // L316-318
    if let Some(fw) = c.firmware.as_ref().filter(|_| c.pflash) {
        drives.push(format!("file={fw},if=pflash,format=raw,readonly=on"));
    }
    // L321-327
    if let Some(code) = &c.efi_code {
        drives.push(format!(
            "file={code},if=pflash,unit=0,format=raw,readonly=on"
        ));
        drives.push(format!(
            "file={},if=pflash,unit=1,format=raw",
            st.efivars_path.clone().unwrap_or_default()
        ));
    }
    // L330-332
    if let Some(tpm) = &c.vtpm {
        devices.push(format!("{tpm},tpmdev=tpm0"));
    }
    (devices, drives)
}

/// Go's `filepath.Join` for two relative-or-absolute parts: empty parts vanish.
pub(crate) fn go_join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => dir.to_string(),
        _ => std::path::Path::new(dir).join(name).display().to_string(),
    }
}

/// The qemu argv (without the binary): the defaults with `qemuargs` applied by the plugin's
/// rules (`applyUserOverrides`): each `qemuargs` row is `[flag, value parts…]`, its parts
/// rendered (`{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .HTTPDir }}`, `{{ .OutputDir }}`,
/// `{{ .Name }}`, `{{ .SSHHostPort }}`) and joined with no separator; a flag given there
/// replaces every default value of that flag (a user `-device` drops the default devices,
/// a user `-drive` the default disks and CD-ROMs); a flag with no value is emitted alone;
/// and when `-device` is set but none names `net_device`, `<net_device>,netdev=user.0` is
/// added back (Packer #6804).
pub fn qemu_args(c: &QemuArgsConfig, st: &QemuRunState) -> Result<Vec<String>, String> {
    let defaults = default_args(c, st);
    let mut args: IndexMap<String, Vec<String>> = IndexMap::new();
    if !c.qemuargs.is_empty() {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("HTTPIP".to_string(), st.http_ip.clone());
        fields.insert("HTTPPort".to_string(), st.http_port.to_string());
        fields.insert("HTTPDir".to_string(), c.http_directory.clone());
        fields.insert("OutputDir".to_string(), c.output_dir.clone());
        fields.insert("Name".to_string(), c.vm_name.clone());
        let host_port = if c.comm_port.is_some() {
            st.comm_host_port.unwrap_or(0)
        } else {
            0
        };
        fields.insert("SSHHostPort".to_string(), host_port.to_string());
        for (i, row) in c.qemuargs.iter().enumerate() {
            let mut rendered = Vec::with_capacity(row.len());
            for part in row {
                rendered.push(
                    render_fields(part, "qemu.qemuArgsTemplateData", &fields)
                        .map_err(|e| format!("qemuargs[{i}]: {e}"))?,
                );
            }
            let Some((key, vals)) = rendered.split_first() else {
                return Err(format!("qemuargs[{i}]: empty argument list"));
            };
            let val = vals.concat();
            let entry = args.entry(key.clone()).or_default();
            if !val.is_empty() {
                entry.push(val);
            }
        }
    }
    for (key, val) in defaults {
        if !args.contains_key(key) {
            args.insert(
                key.to_string(),
                match val {
                    Val::One(s) => vec![s],
                    Val::Many(v) => v,
                },
            );
        }
    }
    if let Some(devs) = args.get_mut("-device")
        && !devs.concat().contains(&c.net_device)
    {
        devs.push(format!("{},netdev=user.0", c.net_device));
    }
    let mut out = Vec::new();
    for (key, vals) in args {
        if vals.is_empty() {
            out.push(key);
        } else {
            for v in vals {
                out.push(key.clone());
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// The message the plugin prints about the VNC display (`getVncConnectionMessage`).
pub fn vnc_connection_message(headless: bool, vnc_address: &str, password: &str) -> Option<String> {
    if !headless {
        return None;
    }
    if vnc_address.is_empty() {
        return Some(
            "The VM will be run headless, without a GUI, as configured.\nIf the run isn't \
             succeeding as you expect, please enable the GUI\nto inspect the progress of the build."
                .into(),
        );
    }
    if !password.is_empty() {
        return Some(format!(
            "The VM will be run headless, without a GUI. If you want to\nview the screen of the \
             VM, connect via VNC to vnc://{vnc_address}\nwith the password: {password}"
        ));
    }
    Some(format!(
        "The VM will be run headless, without a GUI. If you want to\nview the screen of the VM, \
         connect via VNC without a password to\nvnc://{vnc_address}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin's tests build a `Config{}` with zero values (not Prepare's defaults) and this
    /// state (`runTestState`, step_run_test.go L17-34).
    fn zero_config() -> QemuArgsConfig {
        QemuArgsConfig {
            // CommConfig{} zero value: type "" (not "none") and port 0.
            comm_port: Some(0),
            ..QemuArgsConfig::default()
        }
    }

    fn test_state() -> QemuRunState {
        QemuRunState {
            comm_host_port: Some(5000),
            vnc_port: 5905,
            floppy_path: Some("fake_floppy_path".into()),
            iso_path: Some("/path/to/test.iso".into()),
            cd_path: None,
            disk_paths: vec![],
            http_ip: "127.0.0.1".into(),
            http_port: 1234,
            efivars_path: None,
            vtpm_socket: None,
            qemu_at_least_2: true,
        }
    }

    /// `(flag, value)` pairs, sorted: the plugin's argv order is random (a Go map), so its
    /// tests compare with `ElementsMatch`; pairs are stricter than its loose strings.
    fn pairs(args: &[String]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = args
            .chunks(2)
            .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
            .collect();
        v.sort();
        v
    }

    fn expect(list: &[&str]) -> Vec<(String, String)> {
        let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        pairs(&owned)
    }

    /// The defaults every `Test_UserOverrides` case shares (step_run_test.go L105-114).
    const USER_OVERRIDE_BASE: &[&str] = &[
        "-m",
        "0M",
        "-boot",
        "once=d",
        "-fda",
        "fake_floppy_path",
        "-name",
        "myvm",
        "-netdev",
        "user,id=user.0,hostfwd=tcp::5000-:0",
        "-vnc",
        ":5",
        "-machine",
        "type=,accel=",
        "-smp",
        "1",
    ];

    /// `Test_UserOverrides` (step_run_test.go L37-117).
    #[test]
    fn plugin_user_overrides() {
        let cases: Vec<(QemuArgsConfig, Vec<&str>)> = vec![
            (
                QemuArgsConfig {
                    http_directory: "http/directory".into(),
                    output_dir: "output/directory".into(),
                    vm_name: "myvm".into(),
                    qemuargs: vec![
                        vec![
                            "-randomflag1".into(),
                            "{{.HTTPIP}}-{{.HTTPPort}}-{{.HTTPDir}}".into(),
                        ],
                        vec!["-randomflag2".into(), "{{.OutputDir}}-{{.Name}}".into()],
                    ],
                    ..zero_config()
                },
                vec![
                    "-display",
                    "gtk",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                    "-randomflag1",
                    "127.0.0.1-1234-http/directory",
                    "-randomflag2",
                    "output/directory-myvm",
                    "-device",
                    ",netdev=user.0",
                ],
            ),
            (
                QemuArgsConfig {
                    vm_name: "myvm".into(),
                    qemuargs: vec![vec!["-display".into(), "partydisplay".into()]],
                    ..zero_config()
                },
                vec![
                    "-display",
                    "partydisplay",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                    "-device",
                    ",netdev=user.0",
                ],
            ),
            (
                QemuArgsConfig {
                    vm_name: "myvm".into(),
                    net_device: "mynetdevice".into(),
                    qemuargs: vec![vec!["-device".into(), "somerandomdevice".into()]],
                    ..zero_config()
                },
                vec![
                    "-display",
                    "gtk",
                    "-device",
                    "somerandomdevice",
                    "-device",
                    "mynetdevice,netdev=user.0",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                ],
            ),
        ];
        for (c, extra) in cases {
            let got = qemu_args(&c, &test_state()).unwrap();
            let mut want: Vec<&str> = USER_OVERRIDE_BASE.to_vec();
            want.extend(extra);
            assert_eq!(pairs(&got), expect(&want), "{:?}", c.qemuargs);
        }
    }

    /// The defaults every `Test_DriveAndDeviceArgs` case shares (L370-378).
    const DRIVE_BASE: &[&str] = &[
        "-m",
        "0M",
        "-fda",
        "fake_floppy_path",
        "-name",
        "",
        "-netdev",
        "user,id=user.0,hostfwd=tcp::5000-:0",
        "-vnc",
        ":5",
        "-machine",
        "type=,accel=",
        "-device",
        ",netdev=user.0",
        "-smp",
        "1",
    ];

    /// `Test_DriveAndDeviceArgs` (step_run_test.go L119-381), case by case.
    #[test]
    fn plugin_drive_and_device_args() {
        struct Case {
            c: QemuArgsConfig,
            st: QemuRunState,
            want: Vec<&'static str>,
            why: &'static str,
        }
        let base = test_state;
        let scsi = |dz: &str, disk_image: bool| QemuArgsConfig {
            disk_image,
            disk_interface: "virtio-scsi".into(),
            output_dir: "path_to_output".into(),
            disk_cache: "writeback".into(),
            format: "qcow2".into(),
            disk_detect_zeroes: dz.into(),
            ..zero_config()
        };
        let cases = vec![
            Case {
                c: zero_config(),
                st: base(),
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "once=d",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                ],
                why: "once=d when diskImage isn't set",
            },
            Case {
                c: QemuArgsConfig {
                    efi_code: Some("/path/to/fake_efi_code.fd".into()),
                    output_dir: "path_to_output".into(),
                    disk_cache: "writeback".into(),
                    disk_interface: "virtio-scsi".into(),
                    disk_image: true,
                    format: "qcow2".into(),
                    ..zero_config()
                },
                st: QemuRunState {
                    efivars_path: Some("/path/to/fake_temporary_efi_vars.fd".into()),
                    qemu_at_least_2: false,
                    ..base()
                },
                want: vec![
                    "-drive",
                    "file=/path/to/fake_efi_code.fd,if=pflash,unit=0,format=raw,readonly=on",
                    "-drive",
                    "file=/path/to/fake_temporary_efi_vars.fd,if=pflash,unit=1,format=raw",
                    "-drive",
                    "file=path_to_output,if=virtio-scsi,cache=writeback,format=qcow2",
                ],
                why: "no -boot with UEFI",
            },
            Case {
                c: scsi("off", true),
                st: QemuRunState {
                    cd_path: Some("fake_cd_path.iso".into()),
                    disk_paths: vec!["path_to_output".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "c",
                    "-device",
                    "virtio-scsi-pci,id=scsi0",
                    "-device",
                    "scsi-hd,bus=scsi0.0,drive=drive0",
                    "-drive",
                    "if=none,file=path_to_output,id=drive0,cache=writeback,discard=,format=qcow2",
                    "-drive",
                    "file=fake_cd_path.iso,media=cdrom",
                ],
                why: "virtio-scsi, disk image, extra cdrom, detect zeroes off",
            },
            Case {
                c: scsi("on", true),
                st: QemuRunState {
                    cd_path: Some("fake_cd_path.iso".into()),
                    disk_paths: vec!["path_to_output".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "c",
                    "-device",
                    "virtio-scsi-pci,id=scsi0",
                    "-device",
                    "scsi-hd,bus=scsi0.0,drive=drive0",
                    "-drive",
                    "if=none,file=path_to_output,id=drive0,cache=writeback,discard=,format=qcow2,detect-zeroes=on",
                    "-drive",
                    "file=fake_cd_path.iso,media=cdrom",
                ],
                why: "virtio-scsi, disk image, extra cdrom, detect zeroes on",
            },
            Case {
                c: scsi("off", false),
                st: QemuRunState {
                    cd_path: Some("fake_cd_path.iso".into()),
                    disk_paths: vec!["qemupath1".into(), "qemupath2".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "once=d",
                    "-device",
                    "virtio-scsi-pci,id=scsi0",
                    "-device",
                    "scsi-hd,bus=scsi0.0,drive=drive0",
                    "-device",
                    "scsi-hd,bus=scsi0.0,drive=drive1",
                    "-drive",
                    "if=none,file=qemupath1,id=drive0,cache=writeback,discard=,format=qcow2",
                    "-drive",
                    "if=none,file=qemupath2,id=drive1,cache=writeback,discard=,format=qcow2",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                    "-drive",
                    "file=fake_cd_path.iso,media=cdrom",
                ],
                why: "virtio-scsi, bootable iso, cdrom",
            },
            Case {
                // detect_zeroes "" is not "off": the plugin appends `detect-zeroes=` (empty).
                c: scsi("", false),
                st: QemuRunState {
                    disk_paths: vec!["output/dir/path/mydisk.qcow2".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "once=d",
                    "-device",
                    "virtio-scsi-pci,id=scsi0",
                    "-device",
                    "scsi-hd,bus=scsi0.0,drive=drive0",
                    "-drive",
                    "if=none,file=output/dir/path/mydisk.qcow2,id=drive0,cache=writeback,discard=,format=qcow2,detect-zeroes=",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                ],
                why: "virtio-scsi, no extra disks or cds",
            },
            Case {
                c: zero_config(),
                st: QemuRunState {
                    cd_path: Some("fake_cd_path.iso".into()),
                    disk_paths: vec!["output/dir/path/mydisk.qcow2".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "once=d",
                    "-drive",
                    "file=output/dir/path/mydisk.qcow2,if=,cache=,discard=,format=,detect-zeroes=",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                    "-drive",
                    "file=fake_cd_path.iso,media=cdrom",
                ],
                why: "cd_path set, DiskImage false",
            },
            Case {
                c: QemuArgsConfig {
                    output_dir: "path_to_output".into(),
                    disk_interface: "virtio".into(),
                    disk_cache: "writeback".into(),
                    format: "qcow2".into(),
                    ..zero_config()
                },
                st: QemuRunState {
                    disk_paths: vec!["output/dir/path/mydisk.qcow2".into()],
                    qemu_at_least_2: false,
                    ..base()
                },
                want: vec![
                    "-boot",
                    "once=d",
                    "-drive",
                    "file=path_to_output,if=virtio,cache=writeback,format=qcow2",
                    "-drive",
                    "file=/path/to/test.iso,media=cdrom",
                ],
                why: "qemu older than 2",
            },
            Case {
                c: QemuArgsConfig {
                    disk_image: true,
                    output_dir: "path_to_output".into(),
                    disk_interface: "virtio".into(),
                    disk_cache: "writeback".into(),
                    format: "qcow2".into(),
                    ..zero_config()
                },
                st: QemuRunState {
                    cd_path: Some("fake_cd_path.iso".into()),
                    disk_paths: vec!["path_to_output".into()],
                    ..base()
                },
                want: vec![
                    "-display",
                    "gtk",
                    "-boot",
                    "c",
                    "-drive",
                    "file=path_to_output,if=virtio,cache=writeback,discard=,format=qcow2,detect-zeroes=",
                    "-drive",
                    "file=fake_cd_path.iso,media=cdrom",
                ],
                why: "virtio with disk image",
            },
        ];
        for case in cases {
            let got = qemu_args(&case.c, &case.st).unwrap();
            let mut want: Vec<&str> = DRIVE_BASE.to_vec();
            want.extend(case.want);
            // The "-name" value is "" in the plugin's table; keep pairs intact.
            assert_eq!(pairs(&got), expect(&want), "{}", case.why);
        }
    }

    /// `floppy_path` (StepCreateFloppy's image) → `-fda` (L160-165): set between `-cpu` and
    /// `-display` in the defaults' order, absent without a floppy, replaced by a `qemuargs`
    /// `-fda`; the floppy is no drive, so `-drive` and `-device` do not change.
    #[test]
    fn floppy_path_attaches_fda() {
        let c = QemuArgsConfig {
            cpu_model: Some("host".into()),
            ..zero_config()
        };
        let with = QemuRunState {
            floppy_path: Some("/work/packer123456".into()),
            cd_path: Some("fake_cd_path.iso".into()),
            ..test_state()
        };
        let a = qemu_args(&c, &with).unwrap();
        assert_eq!(value_of(&a, "-fda"), ["/work/packer123456"]);
        let pos = |flag: &str| a.iter().position(|x| x == flag).unwrap();
        assert_eq!(pos("-fda"), pos("-cpu") + 2);
        assert_eq!(pos("-display"), pos("-fda") + 2);
        let without = QemuRunState {
            floppy_path: None,
            ..with.clone()
        };
        let b = qemu_args(&c, &without).unwrap();
        assert!(value_of(&b, "-fda").is_empty());
        assert!(!b.contains(&"-fda".to_string()));
        // Everything else is the same.
        let mut rest = a.clone();
        let i = pos("-fda");
        rest.drain(i..i + 2);
        assert_eq!(rest, b);
        assert_eq!(
            value_of(&a, "-drive"),
            [
                "file=/path/to/test.iso,media=cdrom",
                "file=fake_cd_path.iso,media=cdrom"
            ]
        );
        // A user's -fda wins.
        let user = QemuArgsConfig {
            qemuargs: vec![vec!["-fda".into(), "mine.img".into()]],
            ..c.clone()
        };
        let u = qemu_args(&user, &with).unwrap();
        assert_eq!(value_of(&u, "-fda"), ["mine.img"]);
    }

    /// `Test_OptionalConfigOptionsGetSet` (L383-411).
    #[test]
    fn plugin_optional_options() {
        let c = QemuArgsConfig {
            vnc_use_password: true,
            qmp_enable: true,
            qmp_socket_path: "qmp_path".into(),
            vm_name: "MyFancyName".into(),
            machine_type: "pc".into(),
            accelerator: "hvf".into(),
            cpu_model: Some("host".into()),
            ..zero_config()
        };
        let got = qemu_args(&c, &test_state()).unwrap();
        assert_eq!(
            pairs(&got),
            expect(&[
                "-display",
                "gtk",
                "-m",
                "0M",
                "-boot",
                "once=d",
                "-cpu",
                "host",
                "-fda",
                "fake_floppy_path",
                "-name",
                "MyFancyName",
                "-netdev",
                "user,id=user.0,hostfwd=tcp::5000-:0",
                "-vnc",
                ":5,password",
                "-machine",
                "type=pc,accel=hvf",
                "-device",
                ",netdev=user.0",
                "-drive",
                "file=/path/to/test.iso,media=cdrom",
                "-qmp",
                "unix:qmp_path,server,nowait",
                "-smp",
                "1",
            ])
        );
    }

    fn value_of(args: &[String], flag: &str) -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    }

    /// `Test_Defaults` (L413-…): machine/accelerator, bridge, communicator none, smp.
    #[test]
    fn plugin_defaults() {
        let run = |c: QemuArgsConfig| qemu_args(&c, &test_state()).unwrap();
        let a = run(QemuArgsConfig {
            accelerator: "none".into(),
            machine_type: "fancymachine".into(),
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-machine"), ["type=fancymachine"]);
        let a = run(QemuArgsConfig {
            accelerator: "kvm".into(),
            machine_type: "fancymachine".into(),
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-machine"), ["type=fancymachine,accel=kvm"]);
        let a = run(QemuArgsConfig {
            net_bridge: Some("fakebridge".into()),
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-netdev"), ["bridge,id=user.0,br=fakebridge"]);
        let a = run(QemuArgsConfig {
            comm_port: None,
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-netdev"), ["user,id=user.0"]);
        let a = run(QemuArgsConfig {
            comm_port: Some(1234),
            ..zero_config()
        });
        assert_eq!(
            value_of(&a, "-netdev"),
            ["user,id=user.0,hostfwd=tcp::5000-:1234"]
        );
        let a = run(QemuArgsConfig {
            disk_image: true,
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-boot"), ["c"]);
        let a = run(QemuArgsConfig {
            headless: true,
            ..zero_config()
        });
        assert!(value_of(&a, "-display").is_empty());
        let a = run(QemuArgsConfig {
            display: Some("none".into()),
            use_default_display: true,
            ..zero_config()
        });
        assert!(value_of(&a, "-display").is_empty());
        let a = run(QemuArgsConfig {
            firmware: Some("/fw.bin".into()),
            ..zero_config()
        });
        assert_eq!(value_of(&a, "-bios"), ["/fw.bin"]);
        let a = run(QemuArgsConfig {
            firmware: Some("/fw.bin".into()),
            pflash: true,
            ..zero_config()
        });
        assert!(value_of(&a, "-bios").is_empty());
        assert!(
            value_of(&a, "-drive")
                .contains(&"file=/fw.bin,if=pflash,format=raw,readonly=on".to_string())
        );
    }

    /// `TestQemuSMPConfig` rules (config_test.go): topology products and clamping.
    #[test]
    fn smp_rules() {
        assert_eq!(smp_value(0, 0, 0, 0), "1");
        assert_eq!(smp_value(4, 0, 0, 0), "4");
        assert_eq!(smp_value(0, 2, 2, 0), "4,sockets=2,cores=2");
        assert_eq!(smp_value(8, 2, 2, 0), "4,sockets=2,cores=2");
        assert_eq!(smp_value(2, 2, 2, 2), "2,sockets=2,cores=2,threads=2");
        assert_eq!(smp_value(0, 0, 0, 3), "3,threads=3");
    }

    /// qemuargs rules beyond the plugin's tests, straight from `applyUserOverrides`.
    #[test]
    fn qemuargs_override_rules() {
        let st = QemuRunState {
            disk_paths: vec!["out/disk".into()],
            ..test_state()
        };
        let mut c = QemuArgsConfig::packer_defaults("t", "tcg");
        c.headless = true;
        c.qemuargs = vec![
            vec!["-drive".into(), "file=a.img,".into(), "if=ide".into()],
            vec!["-enable-kvm".into()],
            vec!["-serial".into(), "".into()],
            vec![
                "-netdev".into(),
                "user,id=user.0,hostfwd=tcp::{{ .SSHHostPort }}-:22".into(),
            ],
        ];
        let a = qemu_args(&c, &st).unwrap();
        // The user's -drive replaces every default drive (disk and CD alike); parts are joined.
        assert_eq!(value_of(&a, "-drive"), ["file=a.img,if=ide"]);
        // Flags without a value stand alone, in template order, before the defaults.
        assert_eq!(&a[..2], ["-drive", "file=a.img,if=ide"]);
        assert_eq!(a[2], "-enable-kvm");
        assert_eq!(a[3], "-serial");
        assert_eq!(
            value_of(&a, "-netdev"),
            ["user,id=user.0,hostfwd=tcp::5000-:22"]
        );
        // Defaults that were not overridden are still there; the NIC device is not duplicated.
        assert_eq!(value_of(&a, "-device"), ["virtio-net,netdev=user.0"]);
        assert_eq!(value_of(&a, "-machine"), ["type=pc,accel=tcg"]);
        assert_eq!(value_of(&a, "-m"), ["512M"]);
        // A user -device that names the NIC keeps it out of the defaults.
        c.qemuargs = vec![vec![
            "-device".into(),
            "virtio-net,netdev=user.0,mac=52:54:00:00:00:01".into(),
        ]];
        let a = qemu_args(&c, &st).unwrap();
        assert_eq!(
            value_of(&a, "-device"),
            ["virtio-net,netdev=user.0,mac=52:54:00:00:00:01"]
        );
        // An unknown template field is an error naming the row.
        c.qemuargs = vec![vec!["-x".into(), "{{ .Nope }}".into()]];
        let e = qemu_args(&c, &st).unwrap_err();
        assert!(e.contains("qemuargs[0]") && e.contains("Nope"), "{e}");
    }

    #[test]
    fn vnc_messages() {
        assert_eq!(vnc_connection_message(false, "127.0.0.1:5901", ""), None);
        assert!(
            vnc_connection_message(true, "127.0.0.1:5901", "pw")
                .unwrap()
                .contains("with the password: pw")
        );
        assert!(
            vnc_connection_message(true, "127.0.0.1:5901", "")
                .unwrap()
                .contains("without a password to\nvnc://127.0.0.1:5901")
        );
    }
}
