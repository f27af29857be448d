//! Whole builds of `null` templates over SSH against a real `sshd` (session load →
//! plan::prepare → run::run_all): shell and file provisioners, `build.*` values, a sensitive
//! variable masked in streamed output, and `timeout`/`max_retries` on a hanging command.

mod support;

use std::path::Path;

use kiln_engine::components::SbomFormat;
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

/// `hcp-sbom` fetches SBOMs from the machine, keeps them for the build (in order, with their
/// format and name) and copies them to `destination` (a directory gets a new
/// `packer-user-sbom-<digits>.json`; missing parents are made). An SBOM in neither format is
/// said and then fails the build as Packer's hand-over does.
#[tokio::test]
async fn hcp_sbom_fetches_checks_and_keeps_sboms() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let remote = sshd.path("sboms");
    std::fs::create_dir_all(&remote).unwrap();
    let cdx = r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}"#;
    let spdx = r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"img"}"#;
    std::fs::write(remote.join("cdx.json"), cdx).unwrap();
    std::fs::write(remote.join("spdx.json"), spdx).unwrap();
    std::fs::write(remote.join("bad.json"), r#"{"bomFormat":"SPDX"}"#).unwrap();
    let local = dir.path().join("local");
    std::fs::create_dir_all(local.join("existing")).unwrap();
    let template = |provisioners: &str| {
        format!(
            r#"
source "null" "host" {{
  ssh_host             = "127.0.0.1"
  ssh_port             = {port}
  ssh_username         = "{user}"
  ssh_private_key_file = "{key}"
}}
build {{
  sources = ["null.host"]
{provisioners}
}}
"#,
            port = sshd.port,
            user = sshd.user,
            key = sshd.client_key.display(),
        )
    };
    let hcl = template(&format!(
        r#"
  provisioner "hcp-sbom" {{
    source      = "{remote}/cdx.json"
    destination = "{local}/existing"
    sbom_name   = "base-image"
  }}
  provisioner "hcp-sbom" {{
    source      = "{remote}/spdx.json"
    destination = "{local}/new/sub/sbom.json"
  }}
"#,
        remote = remote.display(),
        local = local.display(),
    ));
    let (lines, out) = build(dir.path(), &hcl).await;
    assert!(out[0].ok(), "{:?}\n{lines:#?}", out[0].errors);
    assert!(
        lines.contains(&"Using SSH communicator to connect: 127.0.0.1".to_string()),
        "{lines:#?}"
    );
    let kept: Vec<_> = out[0]
        .sboms
        .iter()
        .map(|s| (s.name.as_str(), s.format, s.data.clone()))
        .collect();
    assert_eq!(
        kept,
        [
            ("base-image", SbomFormat::CycloneDx, cdx.as_bytes().to_vec()),
            ("", SbomFormat::Spdx, spdx.as_bytes().to_vec()),
        ]
    );
    let copies: Vec<_> = std::fs::read_dir(local.join("existing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let copy = copies[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        copy.starts_with("packer-user-sbom-")
            && copy.ends_with(".json")
            && copy["packer-user-sbom-".len()..copy.len() - 5]
                .bytes()
                .all(|b| b.is_ascii_digit()),
        "{copy}"
    );
    assert_eq!(std::fs::read_to_string(&copies[0]).unwrap(), cdx);
    assert_eq!(
        std::fs::read_to_string(local.join("new/sub/sbom.json")).unwrap(),
        spdx
    );

    let hcl = template(&format!(
        "  provisioner \"hcp-sbom\" {{\n    source = \"{}/bad.json\"\n  }}\n",
        remote.display()
    ));
    let (lines, out) = build(dir.path(), &hcl).await;
    assert!(!out[0].ok(), "{lines:#?}");
    assert!(out[0].sboms.is_empty());
    assert!(
        lines.contains(
            &"Failed to process SBOM: SBOM validation failed: invalid bomFormat: \"SPDX\", expected CycloneDX"
                .to_string()
        ),
        "{lines:#?}"
    );
    let err = out[0].errors.join("\n");
    assert!(
        err.starts_with("malformed packer SBOM output from file \"") && err.ends_with("\": EOF"),
        "{err}"
    );
    // The hand-over file named in the error is gone.
    let handover = err.split('"').nth(1).unwrap();
    assert!(!std::path::Path::new(handover).exists(), "{handover}");
}
