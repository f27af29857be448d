//! Whole `source "qemu"` builds through the engine's door (load → plan → prepare → run), with
//! real qemu under TCG and the offline guests of `scripts/guests.sh`: the ISO guest booted
//! by a typed `boot_command`, a `shell` provisioner over SSH writing to the disk, the qcow2
//! output checked with `qemu-img`; `-force` and `-on-error=abort` on the output directory;
//! cancellation mid-boot; a guest that never answers SSH. Every test fails (never skips)
//! when qemu or a guest is missing: `scripts/install-deps.sh` installs what they need.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kiln_engine::components::{OnError, RunEnv};
use kiln_engine::plan::{self, RunOptions};
use kiln_engine::run::{self, BuildOutcome};
use kiln_engine::session::{self, LoadOptions};
use kiln_engine::ui::{Masker, Recorder, Ui};
use tokio_util::sync::CancellationToken;

fn guests() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/guests.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed ({}): run scripts/install-deps.sh (busybox-static, isolinux, xorriso, cpio)",
            script.display(),
            out.status
        );
        let dir = String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        PathBuf::from(dir)
    })
}

fn require_qemu() {
    for (bin, pkg) in [
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("qemu-img", "qemu-utils"),
    ] {
        let ok = Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "{bin} is missing: these tests boot real guests. Run scripts/install-deps.sh (installs {pkg})."
        );
    }
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let data = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Run {
    lines: Vec<String>,
    outcome: Option<BuildOutcome>,
    prepare_error: Option<String>,
}

fn opts(work: &Path, force: bool, on_error: OnError) -> RunOptions {
    RunOptions {
        force,
        on_error,
        env: Arc::new(RunEnv {
            work_dir: work.to_path_buf(),
            ..RunEnv::default()
        }),
        ..RunOptions::default()
    }
}

/// Loads, prepares and runs `hcl` (written to `dir/t.pkr.hcl`); `cancel_when` cancels the
/// run as soon as a UI line contains it.
async fn build(dir: &Path, hcl: &str, o: RunOptions, cancel_when: Option<&str>) -> Run {
    std::fs::write(dir.join("t.pkr.hcl"), hcl).unwrap();
    let s = session::load_path(
        &dir.join("t.pkr.hcl"),
        &LoadOptions {
            env: o.env.clone(),
            ..LoadOptions::default()
        },
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let t = &s.template;
    let rec = Arc::new(Recorder::default());
    let prepared = match plan::prepare(t, t.instances().unwrap(), &o) {
        Ok((p, _)) => p,
        Err(d) => {
            return Run {
                lines: rec.lines(),
                outcome: None,
                prepare_error: Some(d.to_string()),
            };
        }
    };
    let ui = Ui::new(rec.clone(), Arc::new(Masker::new(t.sensitive.clone())));
    let cancel = CancellationToken::new();
    if let Some(needle) = cancel_when {
        let (rec, cancel, needle) = (rec.clone(), cancel.clone(), needle.to_string());
        tokio::spawn(async move {
            loop {
                if rec.lines().iter().any(|l| l.contains(&needle)) {
                    cancel.cancel();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    let mut out = run::run_all(prepared, &ui, &cancel, &o, &t.base_env()).await;
    Run {
        lines: rec.lines(),
        outcome: out.pop(),
        prepare_error: None,
    }
}

fn pid_alive(pid: i32) -> bool {
    // A zombie is gone for our purposes; kill(0) succeeds on zombies, so read the state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn qemu_pid(lines: &[String]) -> i32 {
    lines
        .iter()
        .find_map(|l| l.split("Started qemu, PID ").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no qemu PID in the output:\n{lines:#?}"))
}

/// The ISO guest: isolinux's `boot:` prompt, booted by the typed command.
fn iso_source(out: &Path, extra: &str) -> String {
    let g = guests();
    let iso = g.join("iso/kiln-boot.iso");
    format!(
        r#"
source "qemu" "small" {{
  iso_url              = "{iso}"
  iso_checksum         = "sha256:{sum}"
  accelerator          = "tcg"
  headless             = true
  disk_size            = "64M"
  output_directory     = "{out}"
  ssh_username         = "root"
  ssh_private_key_file = "{key}"
{extra}
}}
"#,
        iso = iso.display(),
        sum = sha256(&iso),
        out = out.display(),
        key = g.join("small/id_ed25519").display(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iso_with_typed_boot_command_provisions_over_ssh_and_leaves_a_qcow2() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let hcl = format!(
        r#"{source}
build {{
  sources = ["source.qemu.small"]
  provisioner "shell" {{
    inline = [
      "echo cmdline: $(cat /proc/cmdline)",
      "echo fetched: $(wget -qO- http://${{build.PackerHTTPAddr}}/hello.txt)",
      "printf 'written-by-kiln-over-ssh' > /root/kiln.txt",
      "dd if=/root/kiln.txt of=/dev/vda bs=512 seek=2048 conv=notrunc 2>/dev/null",
      "sync",
    ]
  }}
}}
"#,
        source = iso_source(
            &out,
            r#"
  vm_name          = "small.qcow2"
  boot_wait        = "3s"
  boot_command     = ["linux kiln.typed={{ .Name }}<enter>"]
  http_content     = { "/hello.txt" = "hello from the HTTP server" }
  cd_content       = { "meta-data" = "instance-id: kiln" }
  ssh_timeout      = "4m"
  shutdown_command = "poweroff"
  shutdown_timeout = "1m"
"#
        ),
    );
    let started = Instant::now();
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.expect("the build ran");
    assert!(o.ok(), "{:?}\n{:#?}", o.errors, r.lines);
    let lines = r.lines.join("\n");
    assert!(
        lines.contains("cmdline: ") && lines.contains("kiln.typed=small.qcow2"),
        "the typed boot command is not on the guest's command line:\n{lines}"
    );
    assert!(
        lines.contains("fetched: hello from the HTTP server"),
        "{lines}"
    );
    // The disk: a qcow2 in the output directory holding what the provisioner wrote.
    let disk = out.join("small.qcow2");
    let info = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(&disk)
        .output()
        .unwrap();
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "qcow2", "{info}");
    assert_eq!(info["virtual-size"], 64 * 1024 * 1024, "{info}");
    let raw = dir.path().join("disk.raw");
    let conv = Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(&disk)
        .arg(&raw)
        .output()
        .unwrap();
    assert!(conv.status.success());
    let bytes = std::fs::read(&raw).unwrap();
    assert_eq!(
        &bytes[2048 * 512..2048 * 512 + 24],
        b"written-by-kiln-over-ssh",
        "the provisioner's write is not on the output disk"
    );
    // The artifact: Packer's id, files and state.
    let a = &o.artifacts[0];
    assert_eq!(a.builder_id, "transcend.qemu");
    assert_eq!(a.id, "VM");
    assert_eq!(a.files, vec![disk.clone()], "only the disk is left");
    assert_eq!(
        a.description,
        format!("VM files in directory: {}", out.display())
    );
    assert_eq!(a.state["diskType"], "qcow2");
    assert_eq!(a.state["domainType"], "tcg");
    assert_eq!(a.state["diskName"], "small.qcow2");
    assert!(
        a.state["generated_data"]["PackerHTTPAddr"]
            .as_str()
            .is_some_and(|s| s.starts_with("10.0.2.2:")),
        "{:?}",
        a.state
    );
    // No qemu left, no temporary file (the cd_content ISO) left.
    assert!(!pid_alive(qemu_pid(&r.lines)));
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
    eprintln!("qemu build from ISO: {:?}\n{lines}", started.elapsed());
}

/// The output directory: an existing one is an error unless -force, which deletes it; a
/// failed build removes it, unless -on-error=abort.
#[tokio::test]
async fn output_directory_force_and_on_error_rules() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.txt"), "previous build").unwrap();
    // EFI variables that do not exist: the build fails at stepPrepareEfivars, after the
    // disks.
    let hcl = format!(
        "{}\nbuild {{\n  sources = [\"source.qemu.small\"]\n}}\n",
        iso_source(&out, "  efi_firmware_vars = \"/nonexistent/OVMF_VARS.fd\"")
    );
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let e = r
        .prepare_error
        .expect("an existing output directory is an error");
    assert!(e.contains("already exists"), "{e}");
    assert!(e.contains("t.pkr.hcl line "), "positioned: {e}");
    assert!(out.join("old.txt").exists());

    // -force deletes it; the failed build then removes what it made.
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), true, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.unwrap();
    assert!(!o.ok());
    // The plugin's step says its error and halts without recording it.
    assert_eq!(o.errors.join("\n"), "Build was halted.");
    let lines = r.lines.join("\n");
    assert!(
        lines.contains(
            "failed to read from efivars file at /nonexistent/OVMF_VARS.fd: open /nonexistent/OVMF_VARS.fd: no such file or directory"
        ),
        "{lines}"
    );
    assert!(
        lines.contains("Deleting previous output directory"),
        "{lines}"
    );
    assert!(lines.contains("Deleting output directory"), "{lines}");
    assert!(!out.exists(), "removed after the failure");

    // -on-error=abort keeps it, with the disk the build created.
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), true, OnError::Abort),
        None,
    )
    .await;
    assert!(!r.outcome.unwrap().ok());
    assert!(
        out.join("packer-small").is_file(),
        "kept with -on-error=abort"
    );
    assert!(!out.join("old.txt").exists());
}

/// UEFI: the guest's ISO for OVMF (syslinux.efi's prompt), booted with the plugin's default
/// firmware files; the guest sees its EFI runtime, and the writable copy of the variables
/// (`efivars.fd`, which qemu used as its second pflash drive) is part of the artifact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn efi_boot_with_ovmf_keeps_the_variables_file() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("output");
    let iso = guests().join("iso-efi/kiln-boot-efi.iso");
    let hcl = format!(
        r#"
source "qemu" "efi" {{
  iso_url              = "{iso}"
  iso_checksum         = "sha256:{sum}"
  accelerator          = "tcg"
  headless             = true
  efi_boot             = true
  disk_size            = "32M"
  output_directory     = "{out}"
  ssh_username         = "root"
  ssh_private_key_file = "{key}"
  boot_wait            = "10s"
  boot_command         = ["linux kiln.efi=1<enter>"]
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
  shutdown_timeout     = "1m"
}}
build {{
  sources = ["source.qemu.efi"]
  provisioner "shell" {{
    inline = ["test -d /sys/firmware/efi && echo booted-by-uefi", "cat /proc/cmdline"]
  }}
}}
"#,
        iso = iso.display(),
        sum = sha256(&iso),
        out = out.display(),
        key = guests().join("small/id_ed25519").display(),
    );
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.expect("the build ran");
    assert!(o.ok(), "{:?}\n{:#?}", o.errors, r.lines);
    let lines = r.lines.join("\n");
    assert!(lines.contains("booted-by-uefi"), "{lines}");
    assert!(
        lines.contains("kiln.efi=1"),
        "typed at syslinux.efi's prompt: {lines}"
    );
    let argv = r
        .lines
        .iter()
        .find(|l| l.starts_with("Qemu command: "))
        .expect("the qemu command is logged");
    let vars = out.join("efivars.fd");
    assert!(
        argv.contains("file=/usr/share/OVMF/OVMF_CODE.fd,if=pflash,unit=0,format=raw,readonly=on")
            && argv.contains(&format!(
                "file={},if=pflash,unit=1,format=raw",
                vars.display()
            )),
        "{argv}"
    );
    assert!(!argv.contains("-boot "), "no -boot with UEFI: {argv}");
    let len = std::fs::metadata(&vars).expect("efivars.fd is kept").len();
    assert_eq!(
        len,
        std::fs::metadata("/usr/share/OVMF/OVMF_VARS.fd")
            .unwrap()
            .len()
    );
    let a = &o.artifacts[0];
    assert_eq!(a.files, vec![vars.clone(), out.join("packer-efi")]);
    assert!(!pid_alive(qemu_pid(&r.lines)));
}

/// A qemu binary that cannot be found ends the build before its first step, in the words of
/// the plugin's `newDriver` (Go's `exec.LookPath`): nothing downloaded, no output directory.
#[tokio::test]
async fn missing_qemu_binary_fails_before_any_step() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (binary, want) in [
        (
            "/nonexistent/qemu-system-x86_64",
            "Failed creating Qemu driver: exec: \"/nonexistent/qemu-system-x86_64\": stat /nonexistent/qemu-system-x86_64: no such file or directory",
        ),
        (
            "qemu-system-kiln",
            "Failed creating Qemu driver: exec: \"qemu-system-kiln\": executable file not found in $PATH",
        ),
        (
            "/tmp",
            "Failed creating Qemu driver: exec: \"/tmp\": is a directory",
        ),
    ] {
        let hcl = format!(
            "{}\nbuild {{\n  sources = [\"source.qemu.small\"]\n}}\n",
            iso_source(&out, &format!("  qemu_binary = \"{binary}\""))
        );
        let r = build(
            dir.path(),
            &hcl,
            opts(work.path(), false, OnError::Cleanup),
            None,
        )
        .await;
        let o = r.outcome.unwrap();
        assert_eq!(o.errors, vec![want.to_string()]);
        assert!(r.lines.is_empty(), "nothing said: {:#?}", r.lines);
        assert!(!out.exists());
    }
}

/// Cancelling while the guest boots kills qemu, frees the HTTP port, removes the CD ISO and
/// the output directory.
#[tokio::test]
async fn cancellation_mid_boot_leaves_nothing_behind() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // No boot command: the ISO waits at its prompt forever.
    let hcl = format!(
        "{}\nbuild {{\n  sources = [\"source.qemu.small\"]\n}}\n",
        iso_source(
            &out,
            r#"
  http_content = { "/x" = "y" }
  cd_content   = { "a.txt" = "b" }
  ssh_timeout  = "5m"
  vtpm         = true
"#
        )
    );
    let started = Instant::now();
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        Some("Waiting for the guest's SSH server"),
    )
    .await;
    let o = r.outcome.unwrap();
    assert!(o.cancelled, "{:?}", o.errors);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let pid = qemu_pid(&r.lines);
    assert!(
        !pid_alive(pid),
        "qemu (PID {pid}) still runs after cancellation"
    );
    let http_port: u16 = r
        .lines
        .iter()
        .find_map(|l| l.split("Starting HTTP server on port ").nth(1))
        .map(str::trim)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP port in {:#?}", r.lines));
    std::net::TcpListener::bind(("0.0.0.0", http_port))
        .unwrap_or_else(|e| panic!("HTTP port {http_port} still taken: {e}"));
    assert!(!out.exists(), "output directory removed");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "temporary files left"
    );
    // swtpm (vtpm) killed and its state directory removed
    let tpm_dir = r
        .lines
        .iter()
        .find_map(|l| l.split("--tpmstate dir=").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("swtpm not started: {:#?}", r.lines))
        .to_string();
    assert!(!Path::new(&tpm_dir).exists(), "{tpm_dir} left");
    let swtpm_left = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&tpm_dir))
            && e.file_name()
                .to_string_lossy()
                .parse::<i32>()
                .is_ok_and(pid_alive)
    });
    assert!(!swtpm_left, "swtpm still runs");
}

/// A guest that never answers SSH ends at ssh_timeout, naming host, port, user and the
/// accelerator, with qemu killed.
#[tokio::test]
async fn guest_without_sign_of_life_ends_at_ssh_timeout() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let hcl = format!(
        "{}\nbuild {{\n  sources = [\"source.qemu.small\"]\n}}\n",
        iso_source(
            &out,
            "  ssh_timeout = \"15s\"\n  host_port_min = 3300\n  host_port_max = 3400"
        )
    );
    let started = Instant::now();
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let took = started.elapsed();
    let o = r.outcome.unwrap();
    let err = o.errors.join("\n");
    assert!(!o.ok() && !o.cancelled);
    assert!(err.contains("Timeout waiting for SSH"), "{err}");
    assert!(
        err.contains("root@127.0.0.1:33"),
        "host, port and user: {err}"
    );
    assert!(err.contains("accelerator \"tcg\""), "{err}");
    assert!(took < Duration::from_secs(90), "{took:?}");
    assert!(!pid_alive(qemu_pid(&r.lines)));
    assert!(!out.exists());
}

/// Prepare's checks: the plugin's MultiError at the block; Kiln's own refusals (an option it
/// cannot honour) validate as with Packer and fail the build at its first step, naming the
/// option, before anything is made; requirements ask for /dev/kvm only with KVM.
#[tokio::test]
async fn validation_errors_and_requirements() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let hcl = r#"
source "qemu" "bad" {
  iso_url          = "/nonexistent.iso"
  iso_checksum     = "none"
  accelerator      = "fast"
  format           = "vmdk"
  disk_size        = "12x"
  disk_cache       = "sometimes"
  use_backing_file = true
  floppy_files     = ["a"]
  vnc_port_min     = 5000
  ssh_username     = "root"
  boot_command     = ["<leftCtrlOn>"]
  boot_steps       = [["<enter>"]]
}
build { sources = ["source.qemu.bad"] }
"#;
    let r = build(
        dir.path(),
        hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let e = r.prepare_error.expect("errors");
    // The plugin's Prepare errors: one MultiError at the source block, in its words and
    // order (packer-plugin-qemu v1.1.7's config.go).
    let multi = "Error: 8 error(s) occurred:\n\n\
        * Invalid disk size.\n\
        * Bad Floppy disk file 'a': stat a: no such file or directory\n\
        * invalid format, only 'qcow2' or 'raw' are allowed\n\
        * use_backing_file can only be enabled for QCOW2 images and when disk_image is true\n\
        * invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed\n\
        * unrecognized disk cache type\n\
        * vnc_port_min cannot be below 5900\n\
        * boot_command and boot_steps cannot be used together";
    // Compared with runs of whitespace as one space: long lines may be wrapped.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let found = e
        .split("\nError: ")
        .map(|d| words(&format!("Error: {}", d.trim_start_matches("Error: "))))
        .any(|d| d.contains(&words(multi)) && d.contains("t.pkr.hcl line 2"));
    assert!(found, "{e}");
    // Kiln's own refusal: not at validation (Packer's plugin accepts the option), at the
    // build's first step (here: a bridge in the cluster, where a runner pod has none).
    let out = dir.path().join("refused-out");
    let hcl = format!(
        r#"
source "qemu" "a" {{
  iso_url          = "/nonexistent.iso"
  iso_checksum     = "none"
  ssh_username     = "root"
  net_bridge       = "br0"
  output_directory = "{}"
}}
build {{ sources = ["source.qemu.a"] }}
"#,
        out.display()
    );
    let mut in_cluster = opts(work.path(), false, OnError::Cleanup);
    in_cluster.env = Arc::new(RunEnv {
        work_dir: work.path().to_path_buf(),
        in_cluster: true,
        ..RunEnv::default()
    });
    let r = build(dir.path(), &hcl, in_cluster, None).await;
    assert!(r.prepare_error.is_none(), "{:?}", r.prepare_error);
    let o = r.outcome.expect("the build ran");
    assert_eq!(
        o.errors,
        vec!["Kiln cannot run this build: net_bridge: a runner pod has no host bridge to attach the VM to (its network is the pod's); use the user network (the default) or build locally with `kiln build`.".to_string()],
        "{:?}",
        r.lines
    );
    assert!(!out.exists(), "nothing made before the refusal");

    for (accel, want) in [("kvm", true), ("tcg", false)] {
        let hcl = format!(
            r#"
source "qemu" "a" {{
  iso_url      = "/x.iso"
  iso_checksum = "none"
  accelerator  = "{accel}"
  ssh_username = "root"
  output_directory = "{out}"
}}
build {{ sources = ["source.qemu.a"] }}
"#,
            out = dir.path().join("never").display()
        );
        std::fs::write(dir.path().join("t.pkr.hcl"), hcl).unwrap();
        let s = session::load_path(&dir.path().join("t.pkr.hcl"), &LoadOptions::default())
            .unwrap_or_else(|d| panic!("{d}"));
        let t = &s.template;
        let (p, _) = plan::prepare(t, t.instances().unwrap(), &RunOptions::default())
            .unwrap_or_else(|d| panic!("{d}"));
        let req = p[0].builder.requirements();
        assert_eq!(
            req.devices
                .iter()
                .any(|g| g.name == "/dev/kvm" && g.why.contains("kvm")),
            want,
            "{accel}: {req:?}"
        );
    }
}

/// The example the docs show validates through the door with the cached guests.
#[test]
fn the_qemu_small_example_validates() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qemu-small");
    let mut inputs = kiln_engine::template::VarInputs::default();
    inputs
        .vars
        .push(("guests".to_string(), guests().display().to_string()));
    let s = session::load_path(
        &example,
        &LoadOptions {
            inputs,
            ..LoadOptions::default()
        },
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let t = &s.template;
    let (p, _) = plan::prepare(t, t.instances().unwrap(), &RunOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(p.len(), 1);
    // TCG asks for no device and no privilege: only the qemu tools and scratch space for
    // the 256M disk (twice: compaction) and the local ISO.
    let req = p[0].builder.requirements();
    let iso = std::fs::metadata(guests().join("iso/kiln-boot.iso"))
        .unwrap()
        .len();
    assert_eq!(
        req,
        kiln_engine::components::Requirements {
            tools: vec![kiln_engine::components::Grant::new(
                "qemu",
                "runs qemu-system-x86_64 and qemu-img"
            )],
            scratch_bytes: Some(kiln_engine::components::Grant::new(
                (2 * 256 * 1024 * 1024 + iso).to_string(),
                format!(
                    "the disks (268435456 B, twice: compaction writes a converted copy) and the ISO ({iso} B)"
                )
            )),
            ..Default::default()
        }
    );
}

/// `disk_image` with `use_backing_file`: the output disk is a resized qcow2 overlay of the
/// base disk, which the guest reads and writes through; the base is untouched. The small
/// guest boots its kernel directly (`qemuargs` adds `-kernel`/`-initrd`/`-append`, which
/// keeps every default flag).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_image_with_backing_file() {
    require_qemu();
    let g = guests();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    let ok = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&base)
        .arg("32M")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let ok = Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", "write -P 0x6b 0 4096"])
        .arg(&base)
        .stdout(Stdio::null())
        .status()
        .expect("qemu-io (qemu-utils)")
        .success();
    assert!(ok);
    let base_sum = sha256(&base);
    let out = dir.path().join("out");
    let hcl = format!(
        r#"
source "qemu" "overlay" {{
  iso_url              = "{base}"
  iso_checksum         = "sha256:{sum}"
  disk_image           = true
  use_backing_file     = true
  disk_size            = "48M"
  accelerator          = "tcg"
  headless             = true
  output_directory     = "{out}"
  qemuargs = [
    ["-kernel", "{g}/small/vmlinuz"],
    ["-initrd", "{g}/small/initrd.img"],
    ["-append", "console=ttyS0 quiet"],
  ]
  ssh_username         = "root"
  ssh_private_key_file = "{g}/small/id_ed25519"
  ssh_timeout          = "4m"
  shutdown_command     = "poweroff"
}}
build {{
  sources = ["source.qemu.overlay"]
  provisioner "shell" {{
    inline = [
      "echo size: $(cat /sys/block/vda/size)",
      "echo base: $(head -c 4 /dev/vda)",
      "printf overlay-write | dd of=/dev/vda bs=512 seek=64 conv=notrunc 2>/dev/null",
      "sync",
    ]
  }}
}}
"#,
        base = base.display(),
        sum = base_sum,
        out = out.display(),
        g = g.display(),
    );
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.expect("ran");
    assert!(o.ok(), "{:?}\n{:#?}", o.errors, r.lines);
    let lines = r.lines.join("\n");
    assert!(
        lines.contains("size: 98304"),
        "48 MiB in 512-byte sectors: {lines}"
    );
    assert!(lines.contains("base: kkkk"), "{lines}");
    let disk = out.join("packer-overlay");
    let info = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(&disk)
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 48 * 1024 * 1024);
    assert_eq!(
        info["backing-filename"].as_str(),
        Some(base.to_str().unwrap()),
        "{info}"
    );
    let read = Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", "read -v 32768 13"])
        .arg(&disk)
        .output()
        .unwrap();
    assert!(
        // qemu-io's hex dump of "overlay-write".
        String::from_utf8_lossy(&read.stdout).contains("6f 76 65 72 6c 61 79 2d 77 72 69 74 65"),
        "{}",
        String::from_utf8_lossy(&read.stdout)
    );
    assert_eq!(sha256(&base), base_sum, "the base disk is untouched");
    assert_eq!(o.artifacts[0].state["domainType"], "tcg");
}

/// `communicator = "none"`: no port forward, no SSH; the guest must power off by itself
/// within `shutdown_timeout`, else the build fails saying so (and qemu is killed).
#[tokio::test]
async fn no_communicator_waits_for_the_guest_to_power_off() {
    require_qemu();
    let g = guests();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let iso = g.join("iso/kiln-boot.iso");
    let hcl = format!(
        r#"
source "qemu" "quiet" {{
  iso_url          = "{iso}"
  iso_checksum     = "none"
  communicator     = "none"
  accelerator      = "tcg"
  headless         = true
  disk_size        = "16M"
  output_directory = "{out}"
  shutdown_timeout = "5s"
}}
build {{ sources = ["source.qemu.quiet"] }}
"#,
        iso = iso.display(),
        out = out.display(),
    );
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.unwrap();
    let err = o.errors.join("\n");
    assert!(!o.ok() && !o.cancelled, "{:#?}", r.lines);
    // The plugin's words; why, on the log.
    assert_eq!(err, "Failed to shutdown");
    let lines = r.lines.join("\n");
    assert!(
        lines.contains("The VM did not power off within shutdown_timeout (5 seconds).")
            && lines.contains("accelerator \"tcg\""),
        "{lines}"
    );
    assert!(
        lines.contains("No communicator is set; skipping port forwarding setup."),
        "{lines}"
    );
    assert!(!lines.contains("hostfwd"), "no port forward: {lines}");
    assert!(!pid_alive(qemu_pid(&r.lines)));
    assert!(!out.exists());
}

/// `accelerator = "kvm"` as Packer would pick it: where KVM works the guest boots; where it
/// hangs (paravirtualised KVM, as on Kiln's CI machine) the build ends at ssh_timeout naming
/// the accelerator and the way out; where qemu cannot use KVM it fails at once with qemu's
/// error. Never a hang.
#[tokio::test]
async fn kvm_either_boots_or_names_the_way_out() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let hcl = format!(
        "{}\nbuild {{\n  sources = [\"source.qemu.small\"]\n}}\n",
        iso_source(
            &out,
            r#"
  boot_wait        = "3s"
  boot_command     = ["linux<enter>"]
  ssh_timeout      = "40s"
  shutdown_command = "poweroff"
"#
        )
        .replace(
            "accelerator          = \"tcg\"",
            "accelerator          = \"kvm\""
        )
    );
    assert!(hcl.contains("\"kvm\""));
    let started = Instant::now();
    let r = build(
        dir.path(),
        &hcl,
        opts(work.path(), false, OnError::Cleanup),
        None,
    )
    .await;
    let o = r.outcome.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(150),
        "{:?}",
        started.elapsed()
    );
    if o.ok() {
        eprintln!("KVM works here: the guest booted");
        assert_eq!(o.artifacts[0].state["domainType"], "kvm");
        return;
    }
    let err = o.errors.join("\n");
    if err.contains("Qemu failed to start") {
        // The plugin's words in the error; what qemu said about KVM in the log.
        assert!(err.contains("Please run with PACKER_LOG=1"), "{err}");
        let lines = r.lines.join("\n");
        assert!(lines.to_lowercase().contains("kvm"), "{lines}");
        return;
    }
    assert!(err.contains("Timeout waiting for SSH"), "{err}");
    assert!(err.contains("root@127.0.0.1:"), "{err}");
    assert!(err.contains("accelerator \"kvm\""), "{err}");
    assert!(err.contains("set accelerator = \"tcg\""), "{err}");
    assert!(!pid_alive(qemu_pid(&r.lines)));
    assert!(!out.exists());
}
