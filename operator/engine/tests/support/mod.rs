//! Test helpers: real OpenSSH `sshd` processes on loopback, each with its own host key,
//! config and authorized_keys in a temporary directory, and an `ssh-agent`.
//!
//! Needs `/usr/sbin/sshd` (Debian `openssh-server`; `scripts/install-deps.sh` installs it),
//! `ssh-keygen`, `ssh-agent` and `ssh-add`. Password tests need a local user with a known
//! password: when run as root the harness creates `kilntest` (password `kiln-test-pw`)
//! with `useradd`/`chpasswd`; otherwise they fail saying so.
#![allow(dead_code)]

pub mod build;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_engine::communicator::ssh::SshConfig;
use kiln_engine::ui::{Masker, Recorder, Ui};

pub const SSHD: &str = "/usr/sbin/sshd";
pub const PW_USER: &str = "kilntest";
pub const PW_PASSWORD: &str = "kiln-test-pw";

pub fn require_sshd() {
    if !Path::new(SSHD).exists() {
        panic!(
            "{SSHD} is missing: these tests run against a real OpenSSH server. Run scripts/install-deps.sh (installs openssh-server)."
        );
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Generates a key pair with ssh-keygen; returns the private key path.
pub fn keygen(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let p = dir.join(name);
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
        .arg(&p));
    p
}

/// Whether an SSH server answers on the port (reads its banner after sending ours, so sshd
/// does not log an aborted key exchange).
fn probe(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(b"SSH-2.0-kiln-probe\r\n");
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

/// A running sshd. Killed on drop.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    /// A key in authorized_keys.
    pub client_key: PathBuf,
    pub host_fingerprint: String,
    child: Option<Child>,
}

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::prepare(free_port()).launch()
    }

    /// Config, keys and a port, not started yet (for a host that comes up late).
    pub fn prepare(port: u16) -> Sshd {
        require_sshd();
        std::fs::create_dir_all("/run/sshd").ok();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let host = keygen(d, "host_ed25519", "ed25519");
        let client_key = keygen(d, "id_ed25519", "ed25519");
        std::fs::copy(d.join("id_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let fp = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(d.join("host_ed25519.pub"))
            .output()
            .unwrap();
        let host_fingerprint = String::from_utf8_lossy(&fp.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {d}/sshd.pid\nUsePAM no\nStrictModes no\n\
             AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication yes\nPubkeyAuthentication yes\n\
             KbdInteractiveAuthentication no\nPermitRootLogin yes\nAllowTcpForwarding yes\nAllowAgentForwarding yes\n\
             Subsystem sftp internal-sftp\nLogLevel ERROR\nMaxStartups 100\nMaxSessions 100\nMaxAuthTries 20\n",
            host = host.display(),
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        Sshd {
            dir,
            port,
            user: current_user(),
            client_key,
            host_fingerprint,
            child: None,
        }
    }

    /// An sshd that only allows keyboard-interactive authentication, through PAM (OpenSSH
    /// answers keyboard-interactive only through PAM or BSD auth). Logs in the
    /// password user ([`ensure_password_user`]) with its system password.
    pub fn kbd_interactive_only() -> Sshd {
        let s = Sshd::prepare(free_port());
        s.set_option("UsePAM no", "UsePAM yes");
        s.set_option(
            "KbdInteractiveAuthentication no",
            "KbdInteractiveAuthentication yes",
        );
        s.set_option("PasswordAuthentication yes", "PasswordAuthentication no");
        s.set_option("PubkeyAuthentication yes", "PubkeyAuthentication no");
        s.launch()
    }

    /// Replaces a line of the sshd config (before it starts).
    pub fn set_option(&self, from: &str, to: &str) {
        let p = self.dir.path().join("sshd_config");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }

    pub fn launch(mut self) -> Sshd {
        self.spawn();
        self
    }

    pub fn spawn(&mut self) {
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting sshd");
        self.child = Some(child);
        let started = Instant::now();
        while !probe(self.port) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A config for key auth as the current user.
    pub fn key_config(&self) -> SshConfig {
        SshConfig {
            host: Some("127.0.0.1".into()),
            port: self.port,
            username: Some(self.user.clone()),
            private_key_file: Some(self.client_key.clone()),
            timeout: Duration::from_secs(20),
            ..Default::default()
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes sure the password-auth user exists (root only).
pub fn ensure_password_user() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if current_user() != "root" {
            panic!(
                "password-auth tests need a local user {PW_USER:?} with password {PW_PASSWORD:?}; run them as root (the harness creates it) or create it yourself"
            );
        }
        let exists = Command::new("id")
            .arg(PW_USER)
            .output()
            .unwrap()
            .status
            .success();
        if !exists {
            run(Command::new("useradd").args(["-m", "-s", "/bin/sh", PW_USER]));
        }
        let mut c = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin
            .take()
            .unwrap()
            .write_all(format!("{PW_USER}:{PW_PASSWORD}\n").as_bytes())
            .unwrap();
        assert!(c.wait().unwrap().success());
    });
}

/// A UI that records every line and masks `secrets`.
pub fn recording_ui(secrets: &[&str]) -> (Ui, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(
        rec.clone(),
        Arc::new(Masker::new(secrets.iter().map(|s| s.to_string()))),
    );
    (ui, rec)
}

/// A running ssh-agent holding `key`; killed on drop.
pub struct Agent {
    pub socket: PathBuf,
    child: Child,
}

impl Agent {
    pub fn start(dir: &Path, key: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&socket)
            .stdout(Stdio::null())
            .spawn()
            .expect("starting ssh-agent");
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "ssh-agent did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        run(Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &socket));
        Agent { socket, child }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a deterministic pseudo-random file of `len` bytes.
pub fn write_file(path: &Path, len: usize, seed: u8, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mut v = Vec::with_capacity(len);
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((x >> 24) as u8);
    }
    std::fs::write(path, v).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Builds a deep tree under `root`: returns relative paths of files with their modes.
pub fn make_tree(root: &Path) -> Vec<(String, u32)> {
    let mut files = Vec::new();
    let mut dir = root.to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    for depth in 0..8 {
        dir = dir.join(format!("level{depth}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..3 {
            let rel = dir.strip_prefix(root).unwrap().join(format!("f{i}.bin"));
            let mode = [0o644, 0o755, 0o600][i];
            write_file(
                &root.join(&rel),
                1000 * (depth + 1) + i * 7,
                (depth * 3 + i) as u8,
                mode,
            );
            files.push((rel.to_string_lossy().to_string(), mode));
        }
    }
    let rel = "top file with spaces.txt".to_string();
    write_file(&root.join(&rel), 10, 1, 0o640);
    files.push((rel, 0o640));
    files
}

/// Asserts `b` has every file of the tree with the same content and mode.
pub fn assert_same_tree(a: &Path, b: &Path, files: &[(String, u32)]) {
    for (rel, mode) in files {
        let fa = std::fs::read(a.join(rel)).unwrap();
        let fb =
            std::fs::read(b.join(rel)).unwrap_or_else(|e| panic!("{}: {e}", b.join(rel).display()));
        assert_eq!(fa, fb, "content of {rel}");
        assert_eq!(mode_of(&b.join(rel)), *mode, "mode of {rel}");
    }
}
