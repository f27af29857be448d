//! SSH benchmark: Kiln's communicator against OpenSSH's `scp`/`sftp`/`ssh` to the same
//! loopback `sshd`, side by side in one run.
//!
//! ```sh
//! CARGO_TARGET_DIR=~/.cache/kiln/target cargo run --release -p kiln-engine --example ssh_bench -- [MiB]
//! ```
//! Needs `/usr/sbin/sshd` (scripts/install-deps.sh) and the OpenSSH clients.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use kiln_engine::communicator::ssh::{SshConfig, TransferMethod, decode_hcl};
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

#[tokio::main]
async fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    let sshd = Sshd::start();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src.bin");
    make_big(&src, mib);
    let remote = sshd.path("remote.bin");
    let back = work.path().join("back.bin");
    let opts = openssh_opts(&sshd);
    let target = format!("{}@127.0.0.1", sshd.user);
    let mbps = |d: Duration| (mib as f64) / d.as_secs_f64();
    let rss_before = peak_rss_mib();
    println!("# SSH benchmark: {mib} MiB over loopback to OpenSSH sshd, one run");
    println!("| transfer | Kiln (MiB/s) | OpenSSH (MiB/s) | ratio |");
    println!("|---|---|---|---|");
    for method in [TransferMethod::Scp, TransferMethod::Sftp] {
        let (ui, _) = recording_ui(&[]);
        let c = SshConfig {
            file_transfer_method: method,
            ..sshd.key_config()
        };
        let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
        let _ = std::fs::remove_file(&remote);
        // Upload
        let t = Instant::now();
        let mut f = tokio::fs::File::open(&src).await.unwrap();
        comm.upload(&remote.display().to_string(), &mut f, 0o644)
            .await
            .unwrap();
        let kiln_up = t.elapsed();
        assert!(same(&src, &remote));
        let _ = std::fs::remove_file(&remote);
        let name = match method {
            TransferMethod::Scp => "scp",
            TransferMethod::Sftp => "sftp",
        };
        let ossh_up = match method {
            TransferMethod::Scp => {
                let mut cmd = Command::new("scp");
                cmd.arg("-O")
                    .args(&opts)
                    .args(["-P", &sshd.port.to_string()])
                    .arg(&src)
                    .arg(format!("{target}:{}", remote.display()));
                timed(cmd)
            }
            TransferMethod::Sftp => {
                let batch = work.path().join("put.batch");
                std::fs::write(
                    &batch,
                    format!("put {} {}\n", src.display(), remote.display()),
                )
                .unwrap();
                let mut cmd = Command::new("sftp");
                cmd.args(&opts)
                    .args(["-P", &sshd.port.to_string(), "-b"])
                    .arg(&batch)
                    .arg(&target);
                timed(cmd)
            }
        };
        assert!(same(&src, &remote));
        println!(
            "| {name} upload | {:.0} | {:.0} | {:.2}x |",
            mbps(kiln_up),
            mbps(ossh_up),
            ossh_up.as_secs_f64() / kiln_up.as_secs_f64()
        );
        // Download
        let _ = std::fs::remove_file(&back);
        let t = Instant::now();
        let mut out = tokio::fs::File::create(&back).await.unwrap();
        comm.download(&remote.display().to_string(), &mut out)
            .await
            .unwrap();
        drop(out);
        let kiln_down = t.elapsed();
        assert!(same(&src, &back));
        let _ = std::fs::remove_file(&back);
        let ossh_down = match method {
            TransferMethod::Scp => {
                let mut cmd = Command::new("scp");
                cmd.arg("-O")
                    .args(&opts)
                    .args(["-P", &sshd.port.to_string()])
                    .arg(format!("{target}:{}", remote.display()))
                    .arg(&back);
                timed(cmd)
            }
            TransferMethod::Sftp => {
                let batch = work.path().join("get.batch");
                std::fs::write(
                    &batch,
                    format!("get {} {}\n", remote.display(), back.display()),
                )
                .unwrap();
                let mut cmd = Command::new("sftp");
                cmd.args(&opts)
                    .args(["-P", &sshd.port.to_string(), "-b"])
                    .arg(&batch)
                    .arg(&target);
                timed(cmd)
            }
        };
        assert!(same(&src, &back));
        println!(
            "| {name} download | {:.0} | {:.0} | {:.2}x |",
            mbps(kiln_down),
            mbps(ossh_down),
            ossh_down.as_secs_f64() / kiln_down.as_secs_f64()
        );
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

    // 100 commands.
    let (ui, _) = recording_ui(&[]);
    let comm = sshd
        .key_config()
        .connect(&ui, &CancellationToken::new())
        .await
        .unwrap();
    let info = ComponentInfo::default();
    let generated = BTreeMap::new();
    let cancel = CancellationToken::new();
    let ctx = ProvisionCtx {
        ui: &ui,
        comm: &comm,
        cancel: &cancel,
        generated: &generated,
        info: &info,
    };
    let rp = sshd.path("bench.sh").display().to_string();
    let lines: Vec<String> = (0..100).map(|i| format!("\"echo {i}\"")).collect();
    let one = Shell::from_config(
        decode_hcl(
            &format!("inline = [{}]\nremote_path = \"{rp}\"\n", lines.join(", ")),
            ShellConfig::read,
        )
        .unwrap(),
    );
    let t = Instant::now();
    one.provision(&ctx).await.unwrap();
    let one_script = t.elapsed();
    let single = Shell::from_config(
        decode_hcl(
            &format!("inline = [\"echo x\"]\nremote_path = \"{rp}\"\n"),
            ShellConfig::read,
        )
        .unwrap(),
    );
    let t = Instant::now();
    for _ in 0..100 {
        single.provision(&ctx).await.unwrap();
    }
    let hundred_provisioners = t.elapsed();
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
    let ssh_loop = t.elapsed();
    println!();
    println!("| 100 commands | seconds |");
    println!("|---|---|");
    println!(
        "| one `shell` provisioner, 100 inline commands | {:.2} |",
        one_script.as_secs_f64()
    );
    println!(
        "| 100 `shell` provisioners, 1 inline command each (upload, chmod, run, rm each) | {:.2} |",
        hundred_provisioners.as_secs_f64()
    );
    println!(
        "| loop of 100 `ssh host cmd` (OpenSSH, new connection each) | {:.2} |",
        ssh_loop.as_secs_f64()
    );
}
