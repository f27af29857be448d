//! The SSH communicator against real OpenSSH `sshd` processes on loopback (see
//! `support/mod.rs` for what these tests need).

mod support;

use std::time::{Duration, Instant};

use kiln_engine::communicator::ssh::{BastionConfig, SshConfig, TransferMethod};
use kiln_engine::communicator::{Collect, Communicator, ExitStatus, UiOutput};
use support::*;
use tokio_util::sync::CancellationToken;

async fn connect(c: &SshConfig) -> anyhow::Result<std::sync::Arc<dyn Communicator>> {
    let (ui, _) = recording_ui(&[]);
    c.connect(&ui, &CancellationToken::new()).await
}

async fn run(comm: &dyn Communicator, cmd: &str) -> (ExitStatus, Collect) {
    let mut out = Collect::default();
    let st = comm
        .start(cmd, &mut out, &CancellationToken::new())
        .await
        .unwrap();
    (st, out)
}

#[tokio::test]
async fn key_auth_exec_statuses_and_streams() {
    let sshd = Sshd::start();
    let comm = connect(&sshd.key_config()).await.unwrap();
    assert_eq!(comm.kind(), "ssh");
    let (st, out) = run(
        &*comm,
        "echo out1; echo err1 >&2; printf 'a\\r\\nb'; exit 3",
    )
    .await;
    assert_eq!(st, ExitStatus::Code(3));
    assert_eq!(out.stdout, vec!["out1", "a", "b"]);
    assert_eq!(out.stderr, vec!["err1"]);
    let (st, _) = run(&*comm, "true").await;
    assert_eq!(st, ExitStatus::Code(0));
    let (st, _) = run(&*comm, "kill -TERM $$").await;
    assert_eq!(st, ExitStatus::Signal("TERM".into()));
    // Exit status after a lot of output (status may follow EOF).
    let (st, out) = run(&*comm, "seq 1 20000; exit 7").await;
    assert_eq!(st, ExitStatus::Code(7));
    assert_eq!(out.stdout.len(), 20000);
    assert_eq!(out.stdout.last().unwrap(), "20000");
    comm.close().await;
}

#[tokio::test]
async fn cancellation_closes_the_channel() {
    let sshd = Sshd::start();
    let comm = connect(&sshd.key_config()).await.unwrap();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let started = Instant::now();
    let mut out = Collect::default();
    let r = comm.start("sleep 30", &mut out, &cancel).await;
    assert!(r.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    // The connection is still usable.
    let (st, _) = run(&*comm, "exit 0").await;
    assert_eq!(st, ExitStatus::Code(0));
}

#[tokio::test]
async fn output_is_masked_in_the_ui() {
    let sshd = Sshd::start();
    let comm = connect(&sshd.key_config()).await.unwrap();
    let (ui, rec) = recording_ui(&["hunter2-secret"]);
    let mut out = UiOutput(ui);
    let st = comm
        .start(
            "echo token=hunter2-secret; echo hunter2-secret >&2",
            &mut out,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(st, ExitStatus::Code(0));
    let lines = rec.lines();
    assert!(
        lines.contains(&"token=<sensitive>".to_string()),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains("hunter2")), "{lines:?}");
}

#[tokio::test]
async fn password_auth_and_wrong_password() {
    ensure_password_user();
    let sshd = Sshd::start();
    let mut c = SshConfig {
        host: Some("127.0.0.1".into()),
        port: sshd.port,
        username: Some(PW_USER.into()),
        password: Some(PW_PASSWORD.into()),
        timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let comm = connect(&c).await.unwrap();
    let (st, out) = run(&*comm, "id -un").await;
    assert_eq!(st, ExitStatus::Code(0));
    assert_eq!(out.stdout, vec![PW_USER]);

    c.password = Some("wrong".into());
    c.handshake_attempts = 2;
    let started = Instant::now();
    let err = format!("{:#}", connect(&c).await.err().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.contains(&format!("{PW_USER}@127.0.0.1:{}", sshd.port)),
        "{err}"
    );
    assert!(err.contains("password"), "{err}");
    assert!(err.contains("authentication failed"), "{err}");
}

#[tokio::test]
async fn late_host_is_waited_for_then_times_out() {
    let port = free_port();
    let mut sshd = Sshd::prepare(port);
    let c = SshConfig {
        timeout: Duration::from_secs(20),
        ..sshd.key_config()
    };
    let (ui, rec) = recording_ui(&[]);
    let started = Instant::now();
    let h = tokio::spawn(async move { c.connect(&ui, &CancellationToken::new()).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    sshd.spawn();
    let comm = h.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    let (st, _) = run(&*comm, "exit 0").await;
    assert_eq!(st, ExitStatus::Code(0));
    let lines = rec.lines();
    assert!(
        lines.iter().any(|l| l.contains("dial tcp 127.0.0.1")),
        "{lines:?}"
    );

    // Nobody listens: a clear error after ssh_timeout.
    let c = SshConfig {
        port: free_port(),
        timeout: Duration::from_secs(2),
        ..sshd.key_config()
    };
    let started = Instant::now();
    let err = format!("{:#}", connect(&c).await.err().unwrap());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(err.contains("Timeout waiting for SSH"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{}", c.port)), "{err}");
    assert!(err.contains("public key"), "{err}");
}

#[tokio::test]
async fn host_key_pinning() {
    let sshd = Sshd::start();
    let ok = SshConfig {
        host_keys: vec![sshd.host_fingerprint.clone()],
        ..sshd.key_config()
    };
    connect(&ok).await.unwrap();
    let bad = SshConfig {
        host_keys: vec!["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()],
        handshake_attempts: 1,
        ..sshd.key_config()
    };
    let err = format!("{:#}", connect(&bad).await.err().unwrap());
    assert!(err.contains("does not match ssh_host_key"), "{err}");
    assert!(err.contains(&sshd.host_fingerprint), "{err}");
}

async fn transfers(method: TransferMethod) {
    let sshd = Sshd::start();
    let comm = connect(&SshConfig {
        file_transfer_method: method,
        ..sshd.key_config()
    })
    .await
    .unwrap();
    let local = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let r = remote.path().to_string_lossy().to_string();

    // Small file (scp protocol path) and a 9 MiB one (streamed past the small-file buffer).
    for (name, len, mode) in [
        ("small.bin", 5000usize, 0o640u32),
        ("big.bin", 9 << 20, 0o755),
    ] {
        let src = local.path().join(name);
        write_file(&src, len, 7, mode);
        let mut f = tokio::fs::File::open(&src).await.unwrap();
        comm.upload(&format!("{r}/{name}"), &mut f, mode)
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(remote.path().join(name)).unwrap(),
            std::fs::read(&src).unwrap()
        );
        assert_eq!(mode_of(&remote.path().join(name)), mode, "{name}");
        let back = local.path().join(format!("{name}.back"));
        let mut out = tokio::fs::File::create(&back).await.unwrap();
        comm.download(&format!("{r}/{name}"), &mut out)
            .await
            .unwrap();
        drop(out);
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
    }
    // A missing file or directory, as Packer's communicator says it: the remote scp's own
    // message line (newline included for a download), or pkg/sftp's words.
    let mut empty: &[u8] = b"x";
    let err = comm
        .upload(&format!("{r}/missing-dir/x"), &mut empty, 0o644)
        .await
        .unwrap_err();
    let mut sink = tokio::io::sink();
    let nope = comm
        .download(&format!("{r}/nope"), &mut sink)
        .await
        .unwrap_err();
    match method {
        TransferMethod::Scp => {
            assert_eq!(
                err.to_string(),
                format!("scp: {r}/missing-dir/x: No such file or directory")
            );
            assert_eq!(
                nope.to_string(),
                format!("scp: {r}/nope: No such file or directory\n")
            );
        }
        TransferMethod::Sftp => {
            assert_eq!(err.to_string(), "file does not exist");
            assert_eq!(nope.to_string(), "file does not exist");
        }
    }

    // Directory trees: without a trailing slash the directory itself is created.
    let tree = local.path().join("tree");
    let files = make_tree(&tree);
    comm.upload_dir(&format!("{r}/up1"), &tree, &[])
        .await
        .unwrap();
    assert_same_tree(&tree, &remote.path().join("up1/tree"), &files);
    // With a trailing slash its contents go into the destination.
    let with_slash = std::path::PathBuf::from(format!("{}/", tree.display()));
    comm.upload_dir(&format!("{r}/up2"), &with_slash, &[])
        .await
        .unwrap();
    assert_same_tree(&tree, &remote.path().join("up2"), &files);

    let down = local.path().join("down");
    comm.download_dir(&format!("{r}/up2"), &down, &[])
        .await
        .unwrap();
    assert_same_tree(&tree, &down.join("up2"), &files);
    let down2 = local.path().join("down2");
    comm.download_dir(&format!("{r}/up2/"), &down2, &[])
        .await
        .unwrap();
    assert_same_tree(&tree, &down2, &files);
    comm.close().await;
}

#[tokio::test]
async fn scp_transfers() {
    transfers(TransferMethod::Scp).await;
}

#[tokio::test]
async fn sftp_transfers() {
    transfers(TransferMethod::Sftp).await;
}

#[tokio::test]
async fn bastion_hop() {
    let target = Sshd::start();
    let bastion = Sshd::start();
    // The bastion accepts the target's client key too.
    std::fs::copy(
        target.path("authorized_keys"),
        bastion.path("authorized_keys"),
    )
    .unwrap();
    let c = SshConfig {
        bastion: Some(BastionConfig {
            host: "127.0.0.1".into(),
            port: bastion.port,
            username: bastion.user.clone(),
            private_key_file: Some(target.client_key.clone()),
            ..Default::default()
        }),
        ..target.key_config()
    };
    let comm = connect(&c).await.unwrap();
    let (st, out) = run(&*comm, "echo via-bastion").await;
    assert_eq!(st, ExitStatus::Code(0));
    assert_eq!(out.stdout, vec!["via-bastion"]);
    // A bastion that refuses TCP forwarding breaks the path, so the hop really is used.
    let closed = Sshd::prepare(free_port());
    closed.set_option("AllowTcpForwarding yes", "AllowTcpForwarding no");
    let closed = closed.launch();
    std::fs::copy(
        target.path("authorized_keys"),
        closed.path("authorized_keys"),
    )
    .unwrap();
    let c = SshConfig {
        bastion: Some(BastionConfig {
            port: closed.port,
            ..c.bastion.clone().unwrap()
        }),
        timeout: Duration::from_secs(3),
        ..c
    };
    let err = format!("{:#}", connect(&c).await.err().unwrap());
    assert!(
        err.contains(&format!("bastion 127.0.0.1:{}", closed.port)),
        "{err}"
    );
}

#[tokio::test]
async fn reconnects_after_the_connection_drops() {
    let sshd = Sshd::start();
    let comm = connect(&sshd.key_config()).await.unwrap();
    // Kill our own sshd session process: the connection drops without an exit status.
    let (st, _) = run(&*comm, "kill -9 $PPID").await;
    assert_eq!(st, ExitStatus::NoStatus);
    let (st, out) = run(&*comm, "echo back").await;
    assert_eq!(st, ExitStatus::Code(0));
    assert_eq!(out.stdout, vec!["back"]);
}

/// Commands reuse the connection: one exec is a few round trips, not a new handshake.
#[tokio::test]
async fn sequential_commands_are_fast() {
    let sshd = Sshd::start();
    let comm = connect(&sshd.key_config()).await.unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        let (st, _) = run(&*comm, "true").await;
        assert_eq!(st, ExitStatus::Code(0));
    }
    let per = started.elapsed() / 20;
    eprintln!("per command: {per:?}");
    // Per-session cost is mostly sshd's (fork, exec of the shell); a new handshake per
    // command would cost several times more.
    assert!(per < Duration::from_secs(1), "{per:?} per command");
}

#[tokio::test]
async fn local_and_remote_tunnels() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sshd = Sshd::start();
    // Local: a port on this side reaching the machine's sshd.
    let local_port = free_port();
    // Remote: a port on the machine reaching a listener on this side.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let here = listener.local_addr().unwrap().port();
    let remote_port = free_port();
    let c = SshConfig {
        local_tunnels: vec![kiln_engine::communicator::ssh::Tunnel {
            listen_port: local_port,
            host: "127.0.0.1".into(),
            port: sshd.port,
        }],
        remote_tunnels: vec![kiln_engine::communicator::ssh::Tunnel {
            listen_port: remote_port,
            host: "127.0.0.1".into(),
            port: here,
        }],
        ..sshd.key_config()
    };
    let comm = connect(&c).await.unwrap();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", local_port))
        .await
        .unwrap();
    let mut banner = [0u8; 8];
    s.read_exact(&mut banner).await.unwrap();
    assert_eq!(&banner, b"SSH-2.0-");

    let accept = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = String::new();
        conn.read_to_string(&mut buf).await.unwrap();
        conn.shutdown().await.ok();
        buf
    });
    let (st, out) = run(
        &*comm,
        &format!("bash -c 'echo through-tunnel > /dev/tcp/127.0.0.1/{remote_port}'"),
    )
    .await;
    assert_eq!(st, ExitStatus::Code(0), "{out:?}");
    let got = tokio::time::timeout(Duration::from_secs(10), accept)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "through-tunnel\n");
}

#[tokio::test]
async fn socks5_proxy_and_pause_before_connecting() {
    // OpenSSH's dynamic forwarding (`ssh -D`) is the SOCKS5 server.
    let sshd = Sshd::start();
    let socks_port = free_port();
    let mut proxy = std::process::Command::new("ssh")
        .args(["-N", "-D", &format!("127.0.0.1:{socks_port}"), "-i"])
        .arg(&sshd.client_key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            "-p",
            &sshd.port.to_string(),
            &format!("{}@127.0.0.1", sshd.user),
        ])
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", socks_port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ssh -D did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = SshConfig {
        proxy: Some(kiln_engine::communicator::ssh::ProxyConfig {
            host: "127.0.0.1".into(),
            port: socks_port,
            username: None,
            password: None,
        }),
        pause_before_connecting: Duration::from_millis(500),
        ..sshd.key_config()
    };
    let (ui, rec) = recording_ui(&[]);
    let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
    let (st, out) = run(&*comm, "echo via-socks").await;
    assert_eq!(st, ExitStatus::Code(0));
    assert_eq!(out.stdout, vec!["via-socks"]);
    assert!(
        rec.lines().iter().any(|l| l.starts_with("Pausing")),
        "{:?}",
        rec.lines()
    );
    let _ = proxy.kill();
    let _ = proxy.wait();
}
