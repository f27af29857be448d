//! Whole builds of `null` templates over SSH against a real `sshd` (session load →
//! plan::prepare → run::run_all): shell and file provisioners, `build.*` values, a sensitive
//! variable masked in streamed output, and `timeout`/`max_retries` on a hanging command.

mod support;

use std::path::Path;

use kiln_engine::plan::RunOptions;
use kiln_engine::run;
use support::build::{load_hcl, run_template};
use support::*;

async fn build(dir: &Path, hcl: &str) -> (Vec<String>, Vec<run::BuildOutcome>) {
    let t = load_hcl(dir, hcl).unwrap_or_else(|d| panic!("{d}"));
    run_template(&t, &RunOptions::default())
        .await
        .unwrap_or_else(|d| panic!("{d}"))
}

#[tokio::test]
async fn null_builder_over_ssh() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let remote = sshd.path("out");
    std::fs::create_dir_all(&remote).unwrap();
    let hcl = format!(
        r#"
variable "token" {{
  type      = string
  default   = "tok-9f8e7d"
  sensitive = true
}}
source "null" "host" {{
  ssh_host             = "127.0.0.1"
  ssh_port             = {port}
  ssh_username         = "{user}"
  ssh_private_key_file = "{key}"
  ssh_host_key         = "{fp}"
}}
build {{
  sources = ["null.host"]
  provisioner "shell" {{
    inline      = ["echo conn=${{build.ConnType}} host=${{build.Host}} port=${{build.Port}}", "echo secret=$TOKEN"]
    env         = {{ TOKEN = var.token }}
    remote_path = "{remote}/s.sh"
  }}
  provisioner "file" {{
    content     = "made by kiln"
    destination = "{remote}/made.txt"
  }}
  provisioner "file" {{
    source      = "{remote}/made.txt"
    destination = "{local}/fetched.txt"
    direction   = "download"
  }}
}}
"#,
        port = sshd.port,
        user = sshd.user,
        key = sshd.client_key.display(),
        fp = sshd.host_fingerprint,
        remote = remote.display(),
        local = dir.path().display(),
    );
    let (lines, out) = build(dir.path(), &hcl).await;
    assert!(out[0].ok(), "{:?}\n{lines:#?}", out[0].errors);
    assert!(
        lines.contains(&format!("conn=ssh host=127.0.0.1 port={}", sshd.port)),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"secret=<sensitive>".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains("tok-9f8e7d")),
        "{lines:#?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("fetched.txt")).unwrap(),
        "made by kiln"
    );
}

/// A timeout cancels the provisioner's context for good (Packer's plugin server keeps it):
/// the retry is announced and fails at once, and starts no command.
#[tokio::test]
async fn hanging_command_times_out_and_is_retried() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let hcl = format!(
        r#"
source "null" "host" {{
  ssh_host             = "127.0.0.1"
  ssh_port             = {port}
  ssh_username         = "{user}"
  ssh_private_key_file = "{key}"
}}
build {{
  sources = ["null.host"]
  provisioner "shell" {{
    inline      = ["echo attempt >> {count}", "sleep 60"]
    timeout     = "1s"
    max_retries = 1
    remote_path = "{rp}"
  }}
}}
"#,
        port = sshd.port,
        user = sshd.user,
        key = sshd.client_key.display(),
        count = sshd.path("count").display(),
        rp = sshd.path("h.sh").display(),
    );
    let started = std::time::Instant::now();
    let (lines, out) = build(dir.path(), &hcl).await;
    assert!(!out[0].ok(), "{lines:#?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let attempts = std::fs::read_to_string(sshd.path("count")).unwrap();
    assert_eq!(attempts.lines().count(), 1, "{lines:#?}");
    let retry = lines
        .iter()
        .position(|l| l.contains("retrying with 1 trie(s) left"))
        .expect("the retry is announced");
    assert_eq!(
        lines[retry + 1..]
            .iter()
            .filter(|l| !l.starts_with("Provisioning with shell script"))
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "Setting a 1s timeout for the next provisioner...",
            "retry limit reached.",
            "Provisioning step had errors: Running the cleanup provisioner, if present...",
        ],
        "{lines:#?}"
    );
}
