//! The qemu builder's pieces against real qemu under TCG, before the builder exists: the
//! argv of `builders::qemu::args`, the boot command typed over VNC by `builders::qemu::vnc`,
//! the HTTP server of `steps::http_server`, and Kiln's SSH communicator reading the result.
//!
//! Needs `qemu-system-x86_64` (Debian `qemu-system-x86`) and the offline guests that
//! `scripts/guests.sh` builds from Debian packages into `~/.cache/kiln/guests/<version>/`
//! (the test runs it; a few seconds cold, nothing when cached). `scripts/install-deps.sh`
//! installs what both need. Every qemu is killed by PID when its guard drops, and every
//! wait has a deadline.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kiln_engine::builders::qemu::args::{QemuArgsConfig, QemuRunState, qemu_args};
use kiln_engine::builders::qemu::bootcommand::{BootConfig, BootTemplateData};
use kiln_engine::builders::qemu::img::DiskConfig;
use kiln_engine::builders::qemu::qmp::{Qmp, vnc_password};
use kiln_engine::builders::qemu::vnc::{VncClient, type_boot_command};
use kiln_engine::communicator::ssh::SshConfig;
use kiln_engine::communicator::{Collect, Communicator, ExitStatus};
use kiln_engine::steps::http_server::{HttpConfig, HttpServer};
use kiln_engine::steps::ports::free_port_in_range;
use support::recording_ui;
use tokio_util::sync::CancellationToken;

const QEMU: &str = "qemu-system-x86_64";

/// The guests' cache directory, built on first use.
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
            "{} failed ({}): run scripts/install-deps.sh (busybox-static, isolinux, xorriso, cpio) and check apt can download Debian packages",
            script.display(),
            out.status
        );
        let dir = String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or_default().to_string();
        PathBuf::from(dir)
    })
}

fn require_qemu() {
    let ok = Command::new(QEMU)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{QEMU} is missing: these tests boot real guests. Run scripts/install-deps.sh (installs qemu-system-x86 and qemu-utils)."
    );
}

/// A running qemu, killed (SIGKILL to its PID, then reaped) when dropped.
struct Qemu {
    child: Child,
    pid: i32,
    dir: tempfile::TempDir,
}

impl Qemu {
    fn start(argv: &[String], dir: tempfile::TempDir) -> Qemu {
        let child = Command::new(QEMU)
            .args(argv)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {QEMU}: {e}"));
        let pid = child.id() as i32;
        Qemu { child, pid, dir }
    }

    fn serial(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serial.log")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Waits until the serial console shows `needle` (or qemu exits, or the deadline).
    async fn wait_serial(&mut self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.serial().contains(needle) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "qemu exited ({st}) before {needle:?} on the serial console; stderr: {}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on the serial console after {limit:?}; serial so far:\n{}",
                self.serial()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.kill();
    }
}

fn process_exists(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// The command line for a headless TCG guest, through Kiln's argv function, with the serial
/// console in a file (a `qemuargs` row, which adds to the defaults).
fn guest_config(name: &str, dir: &Path, extra: Vec<Vec<String>>) -> QemuArgsConfig {
    let mut c = QemuArgsConfig::packer_defaults("kiln-test", "tcg");
    c.vm_name = name.to_string();
    c.output_dir = dir.display().to_string();
    c.headless = true;
    c.qemuargs = vec![vec![
        "-serial".into(),
        format!("file:{}", dir.join("serial.log").display()),
    ]];
    c.qemuargs.extend(extra);
    c
}

/// The build's main disk, made with the `qemu-img create` argv of `builders::qemu::img`
/// (an empty 64 MiB qcow2 here: the small guests run from their initramfs).
fn create_disk(dir: &Path, name: &str) -> Vec<String> {
    let d = DiskConfig::qcow2(&dir.display().to_string(), name, "64M");
    for argv in d.create_commands("") {
        let out = Command::new("qemu-img")
            .args(&argv)
            .output()
            .expect("qemu-img is missing: run scripts/install-deps.sh (qemu-utils)");
        assert!(
            out.status.success(),
            "qemu-img {argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    d.disk_paths()
}

fn ports() -> (u16, u16) {
    // Packer's ranges: VNC 5900-6000, communicator host port 2222-4444.
    let vnc = free_port_in_range("127.0.0.1", 5900, 6000).unwrap();
    let ssh = free_port_in_range("127.0.0.1", 2222, 4444).unwrap();
    (vnc, ssh)
}

fn ssh_config(port: u16, timeout: Duration) -> SshConfig {
    SshConfig {
        host: Some("127.0.0.1".into()),
        port,
        username: Some("root".into()),
        private_key_file: Some(guests().join("small/id_ed25519")),
        timeout,
        // qemu's user network accepts on the forwarded port before the guest listens and
        // then closes: those early attempts must not use up the handshake budget.
        handshake_attempts: 1000,
        ..Default::default()
    }
}

async fn run(comm: &dyn Communicator, cmd: &str) -> (ExitStatus, String) {
    let mut out = Collect::default();
    let st = tokio::time::timeout(
        Duration::from_secs(30),
        comm.start(cmd, &mut out, &CancellationToken::new()),
    )
    .await
    .expect("command over SSH timed out")
    .unwrap();
    (st, out.stdout.join("\n"))
}

/// Polls the forwarded port until the guest's SSH server sends its banner.
async fn wait_for_ssh_banner(port: u16, limit: Duration) -> Duration {
    use tokio::io::AsyncReadExt;
    let t0 = Instant::now();
    loop {
        if let Ok(Ok(mut s)) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(("127.0.0.1", port)),
        )
        .await
        {
            let mut buf = [0u8; 4];
            if let Ok(Ok(4)) =
                tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf)).await
                && &buf == b"SSH-"
            {
                return t0.elapsed();
            }
        }
        assert!(
            t0.elapsed() < limit,
            "no SSH banner on 127.0.0.1:{port} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The proof that `boot_command` works: at the ISO's `boot:` prompt, a command with
/// `{{ .Name }}`, `{{ .HTTPIP }}` and `{{ .HTTPPort }}`, upper case and shifted symbols is
/// typed over VNC; it lands on the guest's kernel command line, read back over SSH, and the
/// guest fetches a file from the build's HTTP server at the typed address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_boot_command_lands_on_the_guest_kernel_command_line() {
    require_qemu();
    let g = guests();
    let dir = tempfile::tempdir().unwrap();
    let token = format!(
        "{:x}",
        std::process::id() as u64 * 1_000_003 + Instant::now().elapsed().subsec_nanos() as u64
    );
    let name = format!("kiln-{token}");

    // The HTTP server on loopback; slirp maps the guest's 10.0.2.2 to the host's loopback.
    let mut http = HttpConfig {
        content: [("/proof".to_string(), format!("served-{token}"))]
            .into_iter()
            .collect(),
        bind_address: "127.0.0.1".into(),
        ..Default::default()
    };
    assert!(http.prepare().is_empty());
    let server = HttpServer::start(&http).await.unwrap().unwrap();

    let (vnc_port, ssh_port) = ports();
    let cfg = guest_config(&name, dir.path(), vec![]);
    let st = QemuRunState {
        comm_host_port: Some(ssh_port),
        vnc_port,
        iso_path: Some(g.join("iso/kiln-boot.iso").display().to_string()),
        disk_paths: create_disk(dir.path(), &name),
        http_ip: "10.0.2.2".into(),
        http_port: server.port,
        qemu_at_least_2: true,
        ..Default::default()
    };
    let argv = qemu_args(&cfg, &st).unwrap();
    assert!(
        argv.windows(2)
            .any(|w| w[0] == "-machine" && w[1] == "type=pc,accel=tcg"),
        "{argv:?}"
    );
    let started = Instant::now();
    let mut qemu = Qemu::start(&argv, dir);
    let pid = qemu.pid;

    // boot_wait, made exact: wait for isolinux's prompt on the serial console.
    qemu.wait_serial("boot:", Duration::from_secs(60)).await;
    let at_prompt = started.elapsed();

    // The boot step as the builder will run it: boot_wait already spent above, placeholders,
    // key interval, then typing over VNC.
    let boot = BootConfig {
        boot_command: vec![
            "linux kiln.proof={{ .Name }} ".into(),
            "kiln.http={{ .HTTPIP }}:{{ .HTTPPort }} kiln.sym=Up_C:a-b<enter>".into(),
        ],
        boot_wait: Some(Duration::ZERO),
        boot_key_interval: Some(Duration::from_millis(10)),
        ..Default::default()
    };
    assert!(boot.validate().is_empty());
    let data = BootTemplateData {
        http_ip: st.http_ip.clone(),
        http_port: server.port,
        name: name.clone(),
        ssh_public_key: String::new(),
    };
    let said = std::sync::Mutex::new(Vec::new());
    let say = |m: String| said.lock().unwrap().push(m);
    let vnc_addr = format!("127.0.0.1:{vnc_port}");
    let client = VncClient::connect(&vnc_addr, None).await.unwrap();
    assert_eq!(
        client.desktop_name,
        format!("QEMU ({name})"),
        "qemu names the VNC desktop after -name"
    );
    drop(client);
    tokio::time::timeout(
        Duration::from_secs(60),
        type_boot_command(
            &boot,
            &vnc_addr,
            None,
            &data,
            None,
            &CancellationToken::new(),
            &say,
        ),
    )
    .await
    .expect("typing timed out")
    .unwrap();
    assert_eq!(
        said.lock().unwrap().clone(),
        vec![
            format!("Connecting to VM via VNC ({vnc_addr})"),
            "Typing the boot commands over VNC...".to_string()
        ]
    );

    let to_banner = wait_for_ssh_banner(ssh_port, Duration::from_secs(90)).await;
    let (ui, _) = recording_ui(&[]);
    let comm = tokio::time::timeout(
        Duration::from_secs(120),
        ssh_config(ssh_port, Duration::from_secs(90)).connect(&ui, &CancellationToken::new()),
    )
    .await
    .expect("SSH connect timed out")
    .unwrap_or_else(|e| panic!("SSH to the ISO guest: {e:#}\nserial:\n{}", qemu.serial()));
    let to_ssh = started.elapsed();
    let (status, cmdline) = run(&*comm, "cat /proc/cmdline").await;
    assert_eq!(status, ExitStatus::Code(0));
    assert!(
        cmdline.contains(&format!("kiln.proof={name}")),
        "typed name missing from /proc/cmdline: {cmdline:?}"
    );
    assert!(
        cmdline.contains("kiln.sym=Up_C:a-b"),
        "shifted characters wrong in /proc/cmdline: {cmdline:?}"
    );
    assert!(
        cmdline.contains(&format!("kiln.http=10.0.2.2:{}", server.port)),
        "{cmdline:?}"
    );
    // The guest reaches the build's HTTP server at the address typed into the boot command.
    let (status, body) = run(
        &*comm,
        "wget -q -O - http://$(sed -n 's/.*kiln.http=\\([^ ]*\\).*/\\1/p' /proc/cmdline)/proof",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (ExitStatus::Code(0), format!("served-{token}").as_str())
    );
    comm.close().await;
    eprintln!(
        "ISO guest under TCG: boot: prompt after {at_prompt:.1?}, SSH banner {to_banner:.1?} after typing, SSH session after {to_ssh:.1?} from qemu start"
    );
    drop(qemu);
    assert!(
        !process_exists(pid),
        "qemu {pid} still running after its guard dropped"
    );
    server.shutdown().await;
}

/// The small guest (kernel + initramfs, direct boot) reaches SSH in seconds under TCG.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_guest_reaches_ssh_quickly_under_tcg() {
    require_qemu();
    let g = guests();
    let dir = tempfile::tempdir().unwrap();
    let (vnc_port, ssh_port) = ports();
    let s = |x: &str| x.to_string();
    let mut cfg = guest_config(
        "kiln-small",
        dir.path(),
        vec![
            vec![s("-kernel"), g.join("small/vmlinuz").display().to_string()],
            vec![
                s("-initrd"),
                g.join("small/initrd.img").display().to_string(),
            ],
            vec![s("-append"), s("console=ttyS0 quiet")],
        ],
    );
    cfg.disk_image = true; // no installation CD
    let st = QemuRunState {
        comm_host_port: Some(ssh_port),
        vnc_port,
        disk_paths: create_disk(dir.path(), "kiln-small"),
        qemu_at_least_2: true,
        ..Default::default()
    };
    let argv = qemu_args(&cfg, &st).unwrap();
    let started = Instant::now();
    let qemu = Qemu::start(&argv, dir);
    let banner = wait_for_ssh_banner(ssh_port, Duration::from_secs(60)).await;
    let (ui, _) = recording_ui(&[]);
    let comm = ssh_config(ssh_port, Duration::from_secs(60))
        .connect(&ui, &CancellationToken::new())
        .await
        .unwrap();
    let session = started.elapsed();
    let (st, out) = run(
        &*comm,
        "cat /proc/cmdline; ip -4 addr show eth0 | grep -c 10.0.2.15",
    )
    .await;
    assert_eq!(st, ExitStatus::Code(0));
    assert_eq!(out, "console=ttyS0 quiet\n1");
    // Password login works too (root / kiln).
    let mut pw = ssh_config(ssh_port, Duration::from_secs(20));
    pw.private_key_file = None;
    pw.password = Some(
        std::fs::read_to_string(g.join("small/password"))
            .unwrap()
            .trim()
            .to_string(),
    );
    let comm2 = pw.connect(&ui, &CancellationToken::new()).await.unwrap();
    assert_eq!(run(&*comm2, "id -u").await.1, "0");
    comm2.close().await;
    comm.close().await;
    eprintln!(
        "small guest under TCG: SSH banner after {banner:.1?}, SSH session after {session:.1?} from qemu start"
    );
    // Seconds on an idle machine (docs/e2e.md); the bound catches hangs and regressions to
    // minutes, not the load of a shared CI machine.
    assert!(
        banner < Duration::from_secs(45),
        "boot to SSH took {banner:?}"
    );
    drop(qemu);
}

/// A guest that never boots (nobody types at the prompt) ends at `ssh_timeout` with an error
/// naming user, host and port, and its qemu is gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_never_boots_times_out_and_qemu_is_killed() {
    require_qemu();
    let g = guests();
    let dir = tempfile::tempdir().unwrap();
    let (vnc_port, ssh_port) = ports();
    let cfg = guest_config("kiln-stuck", dir.path(), vec![]);
    let st = QemuRunState {
        comm_host_port: Some(ssh_port),
        vnc_port,
        disk_paths: create_disk(dir.path(), "kiln-stuck"),
        iso_path: Some(g.join("iso/kiln-boot.iso").display().to_string()),
        qemu_at_least_2: true,
        ..Default::default()
    };
    let mut qemu = Qemu::start(&qemu_args(&cfg, &st).unwrap(), dir);
    let pid = qemu.pid;
    qemu.wait_serial("boot:", Duration::from_secs(60)).await;
    let (ui, _) = recording_ui(&[]);
    let t0 = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        ssh_config(ssh_port, Duration::from_secs(6)).connect(&ui, &CancellationToken::new()),
    )
    .await
    .expect("the SSH wait ignored its own timeout");
    let e = format!(
        "{:#}",
        r.err()
            .expect("SSH cannot succeed: the guest sits at boot:")
    );
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t0.elapsed()
    );
    assert!(e.contains("Timeout waiting for SSH"), "{e}");
    assert!(e.contains(&format!("root@127.0.0.1:{ssh_port}")), "{e}");
    drop(qemu);
    assert!(!process_exists(pid), "qemu {pid} survived");
}

/// `vnc_use_password` the plugin's way: `-vnc addr:N,password` and `-qmp` in the default
/// argv, a generated password set over QMP (`change-vnc-password`), then VNC authentication
/// (DES challenge) against qemu's own VNC server with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vnc_password_set_over_qmp_authenticates() {
    require_qemu();
    let dir = tempfile::tempdir().unwrap();
    let (vnc_port, _) = ports();
    let mut cfg = guest_config("kiln-vnc", dir.path(), vec![]);
    cfg.comm_port = None;
    cfg.disk_image = true;
    cfg.vnc_use_password = true;
    // Prepare: vnc_use_password turns QMP on, the socket in the output directory.
    cfg.qmp_enable = true;
    cfg.qmp_socket_path = dir.path().join("kiln-vnc.monitor").display().to_string();
    let st = QemuRunState {
        vnc_port,
        disk_paths: create_disk(dir.path(), "kiln-vnc"),
        qemu_at_least_2: true,
        ..Default::default()
    };
    let argv = qemu_args(&cfg, &st).unwrap();
    assert!(
        argv.contains(&format!("127.0.0.1:{},password", vnc_port - 5900)),
        "{argv:?}"
    );
    let password = vnc_password(true, "").unwrap().unwrap();
    let qmp_path = PathBuf::from(&cfg.qmp_socket_path);
    let qemu = Qemu::start(&argv, dir);
    let mut qmp = Qmp::connect(&qmp_path, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("QMP: {e:#}; qemu stderr: {}", qemu.stderr()));
    assert_eq!(qmp.version["major"].as_u64().map(|m| m >= 2), Some(true));
    assert_eq!(qmp.status().await.unwrap(), "running");
    qmp.change_vnc_password(&password).await.unwrap();
    let addr = format!("127.0.0.1:{vnc_port}");
    let c = VncClient::connect(&addr, Some(&password)).await.unwrap();
    assert_eq!(c.desktop_name, "QEMU (kiln-vnc)");
    assert_eq!(c.version, (3, 8));
    drop(c);
    let e = VncClient::connect(&addr, Some("wrong-pw"))
        .await
        .err()
        .unwrap();
    assert!(format!("{e:#}").contains("authentication failed"), "{e:#}");
    let e = VncClient::connect(&addr, None).await.err().unwrap();
    assert!(
        format!("{e:#}").contains("no 'None' authentication"),
        "{e:#}"
    );
    drop(qmp);
    drop(qemu);
}

#[test]
fn guests_are_cached_by_version() {
    let g = guests();
    for f in [
        "small/vmlinuz",
        "small/initrd.img",
        "small/id_ed25519",
        "iso/kiln-boot.iso",
    ] {
        assert!(g.join(f).is_file(), "{} missing", g.join(f).display());
    }
    // A second run reuses the cache: it builds nothing and prints the same directory.
    let t0 = Instant::now();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/guests.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        g.display().to_string()
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "a cached run built something: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(t0.elapsed() < Duration::from_secs(5));
}

/// The real Debian disk (`scripts/guests.sh debian`, mmdebstrap) as a `disk_image` with
/// `use_backing_file`: the overlay is created and resized with the disk steps' `qemu-img`
/// argv, the guest boots it through extlinux, sees the resized disk over SSH, powers off
/// cleanly, and the base image is untouched. Slow (the disk is built once, ~3 min; the boot
/// takes 35-60 s under TCG), so it runs on request: `cargo test -p kiln-engine --test
/// qemu_guest -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: builds (once) and boots the mmdebstrap Debian disk; run with --ignored"]
async fn debian_disk_image_with_backing_file() {
    require_qemu();
    let g = guests();
    let base = g.join("debian/disk.qcow2");
    if !base.is_file() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/guests.sh");
        let st = Command::new("bash")
            .arg(&script)
            .arg("debian")
            .status()
            .unwrap();
        assert!(
            st.success(),
            "scripts/guests.sh debian failed (needs root, mmdebstrap, extlinux: scripts/install-deps.sh)"
        );
    }
    let base_meta = std::fs::metadata(&base).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = DiskConfig {
        disk_image: true,
        use_backing_file: true,
        ..DiskConfig::qcow2(&dir.path().display().to_string(), "kiln-debian", "4G")
    };
    assert!(disk.validate().is_empty());
    let source = base.display().to_string();
    let mut cmds = disk.create_commands(&source);
    cmds.push(disk.resize_command().expect("disk_image resizes"));
    for argv in cmds {
        let out = Command::new("qemu-img").args(&argv).output().unwrap();
        assert!(
            out.status.success(),
            "qemu-img {argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A backing-file overlay is never compacted (Prepare forces skip_compaction).
    assert_eq!(disk.convert_command(), None);
    let info = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(disk.main_disk())
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["backing-filename"], source.as_str());
    assert_eq!(info["virtual-size"], 4u64 << 30);

    let (vnc_port, ssh_port) = ports();
    let mut cfg = guest_config("kiln-debian", dir.path(), vec![]);
    cfg.disk_image = true;
    cfg.memory = 1024;
    let st = QemuRunState {
        comm_host_port: Some(ssh_port),
        vnc_port,
        iso_path: Some(source.clone()),
        disk_paths: disk.disk_paths(),
        qemu_at_least_2: true,
        ..Default::default()
    };
    let argv = qemu_args(&cfg, &st).unwrap();
    assert!(
        argv.windows(2).any(|w| w[0] == "-boot" && w[1] == "c"),
        "{argv:?}"
    );
    let started = Instant::now();
    let mut qemu = Qemu::start(&argv, dir);
    let banner = wait_for_ssh_banner(ssh_port, Duration::from_secs(240)).await;
    let (ui, _) = recording_ui(&[]);
    let comm = ssh_config(ssh_port, Duration::from_secs(120))
        .connect(&ui, &CancellationToken::new())
        .await
        .unwrap();
    let (s, root) = run(&*comm, "findmnt -n -o SOURCE /; cat /sys/block/vda/size; . /etc/os-release; echo $VERSION_CODENAME").await;
    assert_eq!(s, ExitStatus::Code(0));
    assert_eq!(root, format!("/dev/vda\n{}\nbookworm", (4u64 << 30) / 512));
    let (s, _) = run(&*comm, "echo kiln > /root/marker && sync").await;
    assert_eq!(s, ExitStatus::Code(0));
    let mut out = Collect::default();
    let _ = comm
        .start("systemctl poweroff", &mut out, &CancellationToken::new())
        .await;
    comm.close().await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(st) = qemu.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the guest did not power off within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(status.success(), "qemu exited with {status}");
    eprintln!(
        "Debian disk_image under TCG: SSH banner after {banner:.1?}, powered off after {:.1?}",
        started.elapsed()
    );
    // The base image was only read.
    let after = std::fs::metadata(&base).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (base_meta.len(), base_meta.modified().unwrap())
    );
    drop(qemu);
}
