//! Agent authentication against a real `sshd` and `ssh-agent`. Its own test binary with a
//! single test, because agent auth reads `SSH_AUTH_SOCK` from the process environment.

mod support;

use std::time::Duration;

use kiln_engine::communicator::ExitStatus;
use kiln_engine::communicator::ssh::SshConfig;
use support::*;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn agent_auth_and_forwarding() {
    let sshd = Sshd::start();
    let agent = Agent::start(sshd.dir.path(), &sshd.client_key);
    // SAFETY: the only test in this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("SSH_AUTH_SOCK", &agent.socket) };
    let c = SshConfig {
        host: Some("127.0.0.1".into()),
        port: sshd.port,
        username: Some(sshd.user.clone()),
        agent_auth: true,
        timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let (ui, _) = recording_ui(&[]);
    let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
    let mut out = kiln_engine::communicator::Collect::default();
    // Agent forwarding is on by default: the remote side sees the agent's key.
    let st = comm
        .start("ssh-add -l", &mut out, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(st, ExitStatus::Code(0), "{out:?}");
    assert!(out.stdout.iter().any(|l| l.contains("ED25519")), "{out:?}");

    // With forwarding disabled the remote side has no agent.
    let c = SshConfig {
        disable_agent_forwarding: true,
        ..c
    };
    let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
    let mut out = kiln_engine::communicator::Collect::default();
    let st = comm
        .start("ssh-add -l", &mut out, &CancellationToken::new())
        .await
        .unwrap();
    assert_ne!(st, ExitStatus::Code(0), "{out:?}");

    // An agent without the right key: a clear error naming the method.
    let other = keygen(sshd.dir.path(), "other", "ed25519");
    drop(agent);
    let dir2 = tempfile::tempdir().unwrap();
    let agent2 = Agent::start(dir2.path(), &other);
    unsafe { std::env::set_var("SSH_AUTH_SOCK", &agent2.socket) };
    let c = SshConfig {
        handshake_attempts: 1,
        ..c
    };
    let err = format!(
        "{:#}",
        c.connect(&ui, &CancellationToken::new())
            .await
            .err()
            .unwrap()
    );
    assert!(err.contains("auth: agent"), "{err}");
    assert!(
        err.contains("accepted none of the SSH agent's keys"),
        "{err}"
    );
}
