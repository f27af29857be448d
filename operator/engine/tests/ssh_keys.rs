//! Temporary key pairs (`temporary_key_pair_type` / `_bits`) against a real `sshd`: a
//! generated key is what a builder injects into the machine, so it must log in; and
//! `ssh_clear_authorized_keys` must take it out of the machine's `~/.ssh/authorized_keys`
//! again on close. See `support/mod.rs` for what these tests need (root, for the second).

mod support;

use std::time::Duration;

use kiln_engine::communicator::ssh::SshConfig;
use kiln_engine::communicator::ssh::keys::{KeyPair, fingerprint, generate};
use kiln_engine::communicator::{Collect, ExitStatus};
use support::*;
use tokio_util::sync::CancellationToken;

/// A config that logs in with the generated key only, held in memory as a builder holds it.
fn injected(sshd: &Sshd, user: &str, kp: &KeyPair) -> SshConfig {
    SshConfig {
        host: Some("127.0.0.1".into()),
        port: sshd.port,
        username: Some(user.into()),
        private_key: Some(kp.private_key.clone()),
        public_key: Some(kp.public_key.clone()),
        timeout: Duration::from_secs(20),
        handshake_attempts: 1,
        ..Default::default()
    }
}

async fn whoami(c: &SshConfig) -> anyhow::Result<String> {
    let (ui, _) = recording_ui(&[]);
    let comm = c.connect(&ui, &CancellationToken::new()).await?;
    let mut out = Collect::default();
    let st = comm
        .start("id -un", &mut out, &CancellationToken::new())
        .await?;
    assert_eq!(st, ExitStatus::Code(0));
    comm.close().await;
    Ok(out.stdout.join("\n"))
}

/// Files directly in `dir` whose contents include the private key.
fn files_holding(dir: &std::path::Path, secret: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        // Key files are small; this also skips big unrelated files in /tmp.
        .filter(|e| {
            e.metadata()
                .is_ok_and(|m| m.is_file() && m.len() < 64 * 1024)
        })
        .filter(|e| {
            std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains(secret.trim()))
        })
        .map(|e| e.path().display().to_string())
        .collect()
}

#[tokio::test]
async fn generated_keys_log_in_and_stay_off_disk() {
    let sshd = Sshd::start();
    for (kind, bits) in [
        ("ed25519", 0),
        ("ecdsa", 256),
        ("ecdsa", 384),
        ("ecdsa", 521),
        ("rsa", 2048),
        ("rsa", 0), // the default, 4096
    ] {
        let kp = generate(kind, bits, "packer_test").unwrap();
        // What a builder does: the public half goes into the machine's authorized_keys.
        std::fs::write(sshd.path("authorized_keys"), format!("{}\n", kp.public_key)).unwrap();
        let user = whoami(&injected(&sshd, &sshd.user, &kp))
            .await
            .unwrap_or_else(|e| panic!("{kind} {bits}: {e:#}"));
        assert_eq!(user, sshd.user, "{kind} {bits}");
        assert!(fingerprint(&kp.public_key).unwrap().starts_with("SHA256:"));
        // The private key lives in memory only: nothing in the working directory or the
        // temporary directory holds it.
        let body = kp.private_key.lines().nth(1).unwrap().to_string();
        for dir in [std::env::current_dir().unwrap(), std::env::temp_dir()] {
            let found = files_holding(&dir, &body);
            assert!(found.is_empty(), "private key on disk: {found:?}");
        }
    }
    // A key that is not in authorized_keys is refused: the login above was the key's doing.
    let other = generate("ed25519", 0, "packer_other").unwrap();
    let err = whoami(&injected(&sshd, &sshd.user, &other))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("authentication failed"),
        "{err:#}"
    );
}

#[tokio::test]
async fn clear_authorized_keys_removes_the_temporary_key_on_close() {
    use std::os::unix::fs::chown;
    ensure_password_user();
    // sshd reads the machine's own ~/.ssh/authorized_keys, which is what the cleanup edits.
    let sshd = Sshd::prepare(free_port());
    let keys_line = format!(
        "AuthorizedKeysFile {}",
        sshd.path("authorized_keys").display()
    );
    sshd.set_option(&keys_line, "AuthorizedKeysFile .ssh/authorized_keys");
    let sshd = sshd.launch();
    let home = std::path::PathBuf::from(format!("/home/{PW_USER}"));
    let ssh_dir = home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let out = std::process::Command::new("id")
        .args(["-u", PW_USER])
        .output()
        .unwrap();
    let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let out = std::process::Command::new("id")
        .args(["-g", PW_USER])
        .output()
        .unwrap();
    let gid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    chown(&ssh_dir, Some(uid), Some(gid)).unwrap();

    let kept = generate("ed25519", 0, "someone_else").unwrap();
    let temp = generate("ed25519", 0, "packer_temporary").unwrap();
    let auth = ssh_dir.join("authorized_keys");
    std::fs::write(&auth, format!("{}\n{}\n", kept.public_key, temp.public_key)).unwrap();
    chown(&auth, Some(uid), Some(gid)).unwrap();

    // Without the option, close leaves the key.
    assert_eq!(
        whoami(&injected(&sshd, PW_USER, &temp)).await.unwrap(),
        PW_USER
    );
    assert!(
        std::fs::read_to_string(&auth)
            .unwrap()
            .contains(&temp.public_key)
    );

    // With it, the temporary key's line goes, the other stays, and no backup is left.
    let c = SshConfig {
        clear_authorized_keys: true,
        ..injected(&sshd, PW_USER, &temp)
    };
    assert_eq!(whoami(&c).await.unwrap(), PW_USER);
    let after = std::fs::read_to_string(&auth).unwrap();
    assert!(!after.contains(&temp.public_key), "{after}");
    assert!(after.contains(&kept.public_key), "{after}");
    assert!(!ssh_dir.join("authorized_keys.bak").exists());
    // The machine no longer lets the temporary key in.
    let err = whoami(&injected(&sshd, PW_USER, &temp)).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("authentication failed"),
        "{err:#}"
    );
    std::fs::remove_dir_all(&ssh_dir).unwrap();
}
