//! SSH benchmark: Kiln's communicator against OpenSSH's `scp`/`sftp`/`ssh` to the same
//! loopback `sshd`, side by side in one run.
//!
//! ```sh
//! CARGO_TARGET_DIR=~/.cache/kiln/target cargo run --release -p kiln-engine --example ssh_bench -- \
//!     [MiB (1024)] [rounds (3)] [--only=scp-up,scp-down,sftp-up,sftp-down,commands]
//! ```
//! Each measurement is taken `rounds` times, Kiln and OpenSSH alternating which goes first,
//! and the median of each side is reported: load from other processes on the machine then
//! falls on both sides alike. Needs `/usr/sbin/sshd` (scripts/install-deps.sh) and the
//! OpenSSH clients.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_engine::communicator::Communicator;
use kiln_engine::communicator::ssh::{SshClient, SshConfig, TransferMethod, decode_hcl};
use kiln_engine::components::{ComponentInfo, ProvisionCtx, Provisioner};
use kiln_engine::provisioners::shell::{Shell, ShellConfig};
use support::*;
use tokio_util::sync::CancellationToken;

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0)
        .unwrap_or(0.0)
}

fn make_big(path: &Path, mib: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&block).unwrap();
    }
    f.flush().unwrap();
}

fn openssh_opts(sshd: &Sshd) -> Vec<String> {
    vec![
        "-i".into(),
        sshd.client_key.display().to_string(),
        "-o".into(),
        "StrictHostKeyChecking=no".into(),
        "-o".into(),
        "UserKnownHostsFile=/dev/null".into(),
        "-o".into(),
        "LogLevel=ERROR".into(),
        "-o".into(),
        "BatchMode=yes".into(),
    ]
}

fn timed(mut cmd: Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("running OpenSSH client");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

fn same(a: &Path, b: &Path) -> bool {
    let out = Command::new("cmp").arg(a).arg(b).output().unwrap();
    out.status.success()
}

/// One transfer path measured on both sides.
#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Up,
    Down,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Options: `[MiB] [rounds] [--only=scp-up,scp-down,sftp-up,sftp-down,commands]`.
struct Args {
    mib: usize,
    rounds: usize,
    only: Option<Vec<String>>,
}

impl Args {
    fn parse() -> Args {
        let mut pos = Vec::new();
        let mut only = None;
        for a in std::env::args().skip(1) {
            if let Some(list) = a.strip_prefix("--only=") {
                only = Some(list.split(',').map(str::to_string).collect());
            } else {
                pos.push(a);
            }
        }
        Args {
            mib: pos.first().and_then(|a| a.parse().ok()).unwrap_or(1024),
            rounds: pos.get(1).and_then(|a| a.parse().ok()).unwrap_or(3).max(1),
            only,
        }
    }

    fn wants(&self, what: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|l| l.iter().any(|w| w == what))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Kiln,
    OpenSsh,
}

/// One OpenSSH `scp -O` or `sftp -b` transfer.
fn openssh_transfer(
    method: TransferMethod,
    dir: Dir,
    sshd: &Sshd,
    work: &Path,
    local: &Path,
    remote: &Path,
) -> Duration {
    let opts = openssh_opts(sshd);
    let target = format!("{}@127.0.0.1", sshd.user);
    let remote_arg = format!("{target}:{}", remote.display());
    match method {
        TransferMethod::Scp => {
            let mut cmd = Command::new("scp");
            cmd.arg("-O")
                .args(&opts)
                .args(["-P", &sshd.port.to_string()]);
            match dir {
                Dir::Up => cmd.arg(local).arg(&remote_arg),
                Dir::Down => cmd.arg(&remote_arg).arg(local),
            };
            timed(cmd)
        }
        TransferMethod::Sftp => {
            let batch = work.join("sftp.batch");
            let line = match dir {
                Dir::Up => format!("put {} {}\n", local.display(), remote.display()),
                Dir::Down => format!("get {} {}\n", remote.display(), local.display()),
            };
            std::fs::write(&batch, line).unwrap();
            let mut cmd = Command::new("sftp");
            cmd.args(&opts)
                .args(["-P", &sshd.port.to_string(), "-b"])
                .arg(&batch)
                .arg(&target);
            timed(cmd)
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (mib, rounds) = (args.mib, args.rounds);
    let sshd = Sshd::start();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src.bin");
    make_big(&src, mib);
    let remote = sshd.path("remote.bin");
    let back = work.path().join("back.bin");
    let mbps = |d: f64| (mib as f64) / d;
    let rss_before = peak_rss_mib();
    println!(
        "# SSH benchmark: {mib} MiB over loopback to OpenSSH sshd; {rounds} rounds, Kiln and OpenSSH alternating; medians"
    );
    println!();
    println!("| transfer | Kiln (MiB/s) | OpenSSH (MiB/s) | ratio of medians | ratio per round |");
    println!("|---|---|---|---|---|");
    for method in [TransferMethod::Scp, TransferMethod::Sftp] {
        let name = match method {
            TransferMethod::Scp => "scp",
            TransferMethod::Sftp => "sftp",
        };
        let dirs: Vec<Dir> = [Dir::Up, Dir::Down]
            .into_iter()
            .filter(|d| {
                args.wants(&format!(
                    "{name}-{}",
                    if *d == Dir::Up { "up" } else { "down" }
                ))
            })
            .collect();
        if dirs.is_empty() {
            continue;
        }
        let (ui, _) = recording_ui(&[]);
        let c = SshConfig {
            file_transfer_method: method,
            ..sshd.key_config()
        };
        let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
        if !remote.exists() {
            std::fs::copy(&src, &remote).unwrap();
        }
        // (dir, side) -> seconds per round
        let mut secs: BTreeMap<(u8, u8), Vec<f64>> = BTreeMap::new();
        for round in 0..rounds {
            for &dir in &dirs {
                let order = if round % 2 == 0 {
                    [Side::Kiln, Side::OpenSsh]
                } else {
                    [Side::OpenSsh, Side::Kiln]
                };
                for side in order {
                    let (local, check) = match dir {
                        Dir::Up => {
                            let _ = std::fs::remove_file(&remote);
                            (&src, &remote)
                        }
                        Dir::Down => {
                            let _ = std::fs::remove_file(&back);
                            (&back, &back)
                        }
                    };
                    let took = match side {
                        Side::OpenSsh => {
                            openssh_transfer(method, dir, &sshd, work.path(), local, &remote)
                        }
                        Side::Kiln => {
                            let t = Instant::now();
                            match dir {
                                Dir::Up => {
                                    let mut f = tokio::fs::File::open(&src).await.unwrap();
                                    comm.upload(&remote.display().to_string(), &mut f, 0o644)
                                        .await
                                        .unwrap();
                                }
                                Dir::Down => {
                                    let mut out = tokio::fs::File::create(&back).await.unwrap();
                                    comm.download(&remote.display().to_string(), &mut out)
                                        .await
                                        .unwrap();
                                }
                            }
                            t.elapsed()
                        }
                    };
                    assert!(same(&src, check), "{name} transfer corrupted the file");
                    secs.entry((dir as u8, side as u8))
                        .or_default()
                        .push(took.as_secs_f64());
                }
            }
        }
        for &dir in &dirs {
            let k = &secs[&(dir as u8, Side::Kiln as u8)];
            let o = &secs[&(dir as u8, Side::OpenSsh as u8)];
            let per_round: Vec<String> = k
                .iter()
                .zip(o)
                .map(|(k, o)| format!("{:.2}", o / k))
                .collect();
            println!(
                "| {name} {} | {:.0} | {:.0} | **{:.2}x** | {} |",
                if dir == Dir::Up { "upload" } else { "download" },
                mbps(median(k)),
                mbps(median(o)),
                median(o) / median(k),
                per_round.join(", ")
            );
        }
        comm.close().await;
    }
    let _ = std::fs::remove_file(&remote);
    let _ = std::fs::remove_file(&back);
    println!();
    println!(
        "Peak RSS of the benchmark process: {:.1} MiB before the transfers, {:.1} MiB after (file size {mib} MiB).",
        rss_before,
        peak_rss_mib()
    );
    if args.wants("commands") {
        commands(&sshd, rounds).await;
    }
}

/// 100 commands: through one `shell` provisioner, through 100 `shell` provisioners, and as
/// a loop of OpenSSH `ssh host cmd`.
///
/// Run as root, this logs in as the harness's plain `/bin/sh` user instead of root: every
/// SSH session runs the login shell's startup files, and a heavy root `~/.bashrc` (this
/// machine's runs `pyenv init`, about 250 ms) would be most of what is measured.
async fn commands(sshd: &Sshd, rounds: usize) {
    use std::os::unix::fs::PermissionsExt;
    let user = if current_user() == "root" {
        ensure_password_user();
        // The plain user reads authorized_keys with its own rights.
        std::fs::set_permissions(sshd.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(
            sshd.path("authorized_keys"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        PW_USER.to_string()
    } else {
        sshd.user.clone()
    };
    let opts = openssh_opts(sshd);
    let target = format!("{user}@127.0.0.1");
    let (ui, _) = recording_ui(&[]);
    let config = SshConfig {
        username: Some(user.clone()),
        ..sshd.key_config()
    };
    let client = Arc::new(
        SshClient::connect(config, &ui, &CancellationToken::new())
            .await
            .unwrap(),
    );
    let comm: Arc<dyn Communicator> = client.clone();
    let info = ComponentInfo::default();
    let generated = BTreeMap::new();
    let cancel = CancellationToken::new();
    let ctx = ProvisionCtx {
        ui: &ui,
        comm: &comm,
        cancel: &cancel,
        generated: &generated,
        sboms: &Default::default(),
        info: &info,
    };
    let rp = format!("/tmp/kiln-bench-{}.sh", sshd.port);
    let lines: Vec<String> = (0..100).map(|i| format!("\"echo {i}\"")).collect();
    let one = Shell::from_config(
        decode_hcl(
            &format!("inline = [{}]\nremote_path = \"{rp}\"\n", lines.join(", ")),
            ShellConfig::read,
        )
        .unwrap(),
    );
    let single = Shell::from_config(
        decode_hcl(
            &format!("inline = [\"echo x\"]\nremote_path = \"{rp}\"\n"),
            ShellConfig::read,
        )
        .unwrap(),
    );
    let mut t_one = Vec::new();
    let mut t_hundred = Vec::new();
    let mut t_loop = Vec::new();
    let mut sessions_per_provisioner = 0.0;
    for round in 0..rounds {
        let ssh_loop = || {
            let t = Instant::now();
            for i in 0..100 {
                let mut cmd = Command::new("ssh");
                cmd.args(&opts)
                    .args(["-p", &sshd.port.to_string()])
                    .arg(&target)
                    .arg(format!("echo {i}"));
                let out = cmd.output().unwrap();
                assert!(out.status.success());
            }
            t.elapsed().as_secs_f64()
        };
        if round % 2 == 1 {
            t_loop.push(ssh_loop());
        }
        let t = Instant::now();
        one.provision(&ctx).await.unwrap();
        t_one.push(t.elapsed().as_secs_f64());
        let before = client.sessions_opened();
        let t = Instant::now();
        for _ in 0..100 {
            single.provision(&ctx).await.unwrap();
        }
        t_hundred.push(t.elapsed().as_secs_f64());
        sessions_per_provisioner = (client.sessions_opened() - before) as f64 / 100.0;
        if round % 2 == 0 {
            t_loop.push(ssh_loop());
        }
    }
    println!();
    println!("| 100 commands as {user:?} ({rounds} rounds, median) | seconds | per command (ms) |");
    println!("|---|---|---|");
    for (what, v) in [
        ("one `shell` provisioner, 100 inline commands", &t_one),
        (
            &*format!(
                "100 `shell` provisioners, 1 inline command each ({sessions_per_provisioner} SSH sessions each)"
            ),
            &t_hundred,
        ),
        (
            "loop of 100 `ssh host cmd` (OpenSSH, new connection each)",
            &t_loop,
        ),
    ] {
        println!("| {what} | {:.2} | {:.1} |", median(v), median(v) * 10.0);
    }
}
