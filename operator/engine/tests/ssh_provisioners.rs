//! The `shell` and `file` provisioners over SSH against a real `sshd` (see `support/mod.rs`).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kiln_engine::communicator::Communicator;
use kiln_engine::communicator::ssh::{SshConfig, TransferMethod, decode_hcl};
use kiln_engine::components::{ComponentInfo, ProvisionCtx, Provisioner};
use kiln_engine::provisioners::file::{File, FileConfig};
use kiln_engine::provisioners::shell::{Shell, ShellConfig};
use kiln_engine::ui::{Recorder, Ui};
use support::*;
use tokio_util::sync::CancellationToken;

struct Env {
    sshd: Sshd,
    comm: Arc<dyn Communicator>,
    ui: Ui,
    rec: Arc<Recorder>,
}

async fn env(method: TransferMethod, secrets: &[&str]) -> Env {
    let sshd = Sshd::start();
    let (ui, rec) = recording_ui(secrets);
    let c = SshConfig {
        file_transfer_method: method,
        ..sshd.key_config()
    };
    let comm = c.connect(&ui, &CancellationToken::new()).await.unwrap();
    Env {
        sshd,
        comm,
        ui,
        rec,
    }
}

async fn provision(e: &Env, p: &dyn Provisioner) -> anyhow::Result<()> {
    let info = ComponentInfo {
        build_name: "example".into(),
        builder_type: "null".into(),
        ..Default::default()
    };
    let generated = BTreeMap::new();
    let cancel = CancellationToken::new();
    let ctx = ProvisionCtx {
        ui: &e.ui,
        comm: &e.comm,
        cancel: &cancel,
        generated: &generated,
        sboms: &Default::default(),
        info: &info,
    };
    Ok(p.provision(&ctx).await?)
}

trait On {
    fn on<'a>(&'a self, e: &'a Env) -> impl Future<Output = anyhow::Result<()>> + 'a;
}

impl<T: Provisioner> On for T {
    fn on<'a>(&'a self, e: &'a Env) -> impl Future<Output = anyhow::Result<()>> + 'a {
        provision(e, self)
    }
}

fn shell(hcl: &str) -> Shell {
    Shell::from_config(decode_hcl(hcl, ShellConfig::read).unwrap())
}

fn file(hcl: &str) -> File {
    File::from_config(decode_hcl(hcl, FileConfig::read).unwrap())
}

#[tokio::test]
async fn shell_inline_env_and_exit_codes() {
    let e = env(TransferMethod::Scp, &["s3cr3t-value"]).await;
    let rp = e.sshd.path("script.sh").display().to_string();
    shell(&format!(
        r#"
inline = ["echo \"name=$PACKER_BUILD_NAME type=$PACKER_BUILDER_TYPE foo=$FOO bar=$BAR\"", "echo token=s3cr3t-value", "echo to-stderr >&2"]
environment_vars = ["FOO=it's ok"]
env = {{ BAR = "b" }}
remote_path = "{rp}"
"#
    ))
    .on(&e)
    .await
    .unwrap_or_else(|err| panic!("{err:#}"));
    let lines = e.rec.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Provisioning with shell script: ")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"name=example type=null foo=it's ok bar=b".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"token=<sensitive>".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"to-stderr".to_string()), "{lines:?}");
    assert!(!std::path::Path::new(&rp).exists(), "script cleaned up");

    // Non-zero exit: an error unless listed in valid_exit_codes.
    let err = shell(&format!("inline = [\"exit 3\"]\nremote_path = \"{rp}\"\n"))
        .on(&e)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}")
            .contains("Script exited with non-zero exit status: 3. Allowed exit codes are: [0]"),
        "{err:#}"
    );
    shell(&format!(
        "inline = [\"exit 3\"]\nvalid_exit_codes = [0, 3]\nremote_path = \"{rp}\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    // A signal.
    let err = shell(&format!(
        "inline = [\"kill -TERM $$\"]\nremote_path = \"{rp}\"\n"
    ))
    .on(&e)
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("killed by signal TERM"),
        "{err:#}"
    );
    // A `#!` first line is the interpreter; use_env_var_file.
    shell(&format!(
        "inline = [\"#!/bin/bash\", \"echo bash=$BASH_VERSION\", \"echo v=$V\"]\nenvironment_vars = [\"V=1\"]\nuse_env_var_file = true\nremote_folder = \"{}\"\n",
        e.sshd.dir.path().display()
    ))
    .on(&e)
    .await
    .unwrap();
    let lines = e.rec.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bash=5") || l.starts_with("bash=4")),
        "{lines:?}"
    );
    assert!(lines.contains(&"v=1".to_string()), "{lines:?}");
}

#[tokio::test]
async fn shell_scripts_and_expect_disconnect() {
    let e = env(TransferMethod::Sftp, &[]).await;
    let local = tempfile::tempdir().unwrap();
    let s1 = local.path().join("one.sh");
    std::fs::write(&s1, "#!/bin/sh\r\necho one\r\n").unwrap();
    let s2 = local.path().join("two.sh");
    std::fs::write(&s2, "#!/bin/sh\necho two\n").unwrap();
    let rp = e.sshd.path("s.sh").display().to_string();
    shell(&format!(
        "scripts = [\"{}\", \"{}\"]\nremote_path = \"{rp}\"\n",
        s1.display(),
        s2.display()
    ))
    .on(&e)
    .await
    .unwrap_or_else(|err| panic!("{err:#}"));
    let lines = e.rec.lines();
    assert!(lines.contains(&"one".to_string()), "{lines:?}");
    assert!(lines.contains(&"two".to_string()), "{lines:?}");

    // The script kills its own sshd session: an error unless expected...
    let kill = format!(
        "inline = [\"kill -9 $PPID\"]\nremote_path = \"{rp}\"\nstart_retry_timeout = \"20s\"\n"
    );
    let err = shell(&kill).on(&e).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("Script disconnected unexpectedly"),
        "{err:#}"
    );
    // ...and fine with expect_disconnect: the cleanup reconnects.
    shell(&format!("{kill}expect_disconnect = true\n"))
        .on(&e)
        .await
        .unwrap_or_else(|err| panic!("{err:#}"));
    assert!(
        !std::path::Path::new(&rp).exists(),
        "script cleaned up after reconnecting"
    );
    // The communicator still works for the next provisioner.
    shell(&format!(
        "inline = [\"echo after\"]\nremote_path = \"{rp}\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    assert!(e.rec.lines().contains(&"after".to_string()));
}

#[tokio::test]
async fn shell_pause_after() {
    let e = env(TransferMethod::Scp, &[]).await;
    let rp = e.sshd.path("p.sh").display().to_string();
    let started = std::time::Instant::now();
    shell(&format!(
        "inline = [\"true\"]\npause_after = \"1s\"\nremote_path = \"{rp}\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
}

async fn file_both_ways(method: TransferMethod) {
    let e = env(method, &[]).await;
    let local = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let r = remote.path().display().to_string();
    let l = local.path().display().to_string();
    // A file into a directory destination (trailing slash keeps the name), mode kept.
    let src = local.path().join("a.bin");
    write_file(&src, 100_000, 3, 0o750);
    file(&format!(
        "source = \"{}\"\ndestination = \"{r}/\"\n",
        src.display()
    ))
    .on(&e)
    .await
    .unwrap();
    assert_eq!(
        std::fs::read(remote.path().join("a.bin")).unwrap(),
        std::fs::read(&src).unwrap()
    );
    assert_eq!(mode_of(&remote.path().join("a.bin")), 0o750);
    // content
    file(&format!(
        "content = \"hello\\n\"\ndestination = \"{r}/c.txt\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(remote.path().join("c.txt")).unwrap(),
        "hello\n"
    );
    // A deep tree up (no trailing slash: the directory itself) and down (trailing slash:
    // its contents).
    let tree = local.path().join("tree");
    let files = make_tree(&tree);
    file(&format!(
        "source = \"{}\"\ndestination = \"{r}/up\"\n",
        tree.display()
    ))
    .on(&e)
    .await
    .unwrap();
    assert_same_tree(&tree, &remote.path().join("up/tree"), &files);
    file(&format!(
        "source = \"{r}/up/tree/\"\ndestination = \"{l}/down/\"\ndirection = \"download\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    assert_same_tree(&tree, &local.path().join("down"), &files);
    // A single file down into a new directory.
    file(&format!(
        "source = \"{r}/a.bin\"\ndestination = \"{l}/new/dir/\"\ndirection = \"download\"\n"
    ))
    .on(&e)
    .await
    .unwrap();
    assert_eq!(
        std::fs::read(local.path().join("new/dir/a.bin")).unwrap(),
        std::fs::read(&src).unwrap()
    );
    // Wildcards, as in Packer: the remote shell expands them (`scp -rf` even with sftp), and
    // every match lands in the destination, directories with their contents. The literal
    // part of the pattern may have spaces.
    let logs = remote.path().join("var log");
    std::fs::create_dir_all(logs.join("sub.log.d")).unwrap();
    write_file(&logs.join("one.log"), 1000, 1, 0o640);
    write_file(&logs.join("two.log"), 2000, 2, 0o600);
    write_file(&logs.join("skip.txt"), 10, 3, 0o644);
    write_file(&logs.join("sub.log.d/inner.txt"), 30, 4, 0o644);
    file(&format!(
        r#"
source = "{r}/var log/*.log*"
destination = "{l}/logs/"
direction = "download"
"#
    ))
    .on(&e)
    .await
    .unwrap_or_else(|err| panic!("{err:#}"));
    let got = local.path().join("logs");
    for (name, mode) in [("one.log", 0o640), ("two.log", 0o600)] {
        assert_eq!(
            std::fs::read(got.join(name)).unwrap(),
            std::fs::read(logs.join(name)).unwrap()
        );
        assert_eq!(mode_of(&got.join(name)), mode, "{name}");
    }
    assert_eq!(
        std::fs::read(got.join("sub.log.d/inner.txt")).unwrap(),
        std::fs::read(logs.join("sub.log.d/inner.txt")).unwrap()
    );
    assert!(!got.join("skip.txt").exists(), "only the matches");
    // `?` and a bracket expression; no trailing slash on the destination.
    file(&format!(
        r#"
source = "{r}/var log/[ot]??.log"
destination = "{l}/logs2"
direction = "download"
"#
    ))
    .on(&e)
    .await
    .unwrap_or_else(|err| panic!("{err:#}"));
    let mut names: Vec<String> = std::fs::read_dir(local.path().join("logs2"))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["one.log", "two.log"]);
    // A pattern that matches nothing fails with scp's message.
    let err = file(&format!(
        r#"
source = "{r}/var log/*.nothing"
destination = "{l}/none/"
direction = "download"
"#
    ))
    .on(&e)
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("No such file or directory"),
        "{err:#}"
    );

    let lines = e.rec.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Uploading ") && l.contains(" => ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Downloading ")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn file_provisioner_scp() {
    file_both_ways(TransferMethod::Scp).await;
}

#[tokio::test]
async fn file_provisioner_sftp() {
    file_both_ways(TransferMethod::Sftp).await;
}

/// A 64 MiB file both ways on both paths (streamed; content compared by hash).
#[tokio::test]
async fn large_file_both_ways() {
    for method in [TransferMethod::Scp, TransferMethod::Sftp] {
        let e = env(method, &[]).await;
        let local = tempfile::tempdir().unwrap();
        let src = local.path().join("big.bin");
        write_file(&src, 64 << 20, 9, 0o600);
        let dst = e.sshd.path("big.bin").display().to_string();
        let mut f = tokio::fs::File::open(&src).await.unwrap();
        e.comm.upload(&dst, &mut f, 0o600).await.unwrap();
        let back = local.path().join("back.bin");
        let mut out = tokio::fs::File::create(&back).await.unwrap();
        e.comm.download(&dst, &mut out).await.unwrap();
        drop(out);
        let a = std::fs::read(&src).unwrap();
        assert!(std::fs::read(&dst).unwrap() == a, "{method:?} upload");
        assert!(std::fs::read(&back).unwrap() == a, "{method:?} download");
        assert_eq!(mode_of(std::path::Path::new(&dst)), 0o600);
    }
}
