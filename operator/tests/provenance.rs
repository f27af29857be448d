//! The `provenance` post-processor against Packer 1.16.0 itself: Kiln builds a file artifact
//! with provenance unsigned, signed with ed25519, ECDSA P-256 (PKCS#8 and SEC1), P-384 and
//! P-521, and RSA (PKCS#1) keys made by `openssl`; Packer's own `packer verify-attestation` must accept every signed
//! output, and reject a tampered attestation, a tampered artifact and a wrong key, and
//! `kiln verify-attestation` must say exactly what Packer's says each time. The
//! unsigned statement is compared with the one Packer writes for the same template.
//!
//! Packer is built from source by `scripts/packer.sh` into `~/.cache/kiln/packer/1.16.0/`
//! (or named by `KILN_PACKER`); the test fails, saying so, when it is missing.

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use sha2::Digest as _;

mod common;
use common::packer;

/// A command with the CI and git variables Packer and Kiln read removed, so both see the
/// same environment.
fn clean(mut c: Command) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_")
            || k.starts_with("CI_")
            || k.starts_with("PKR_VAR_")
            || k == "BUILD_URL"
            || k == "BUILD_ID"
            || k.starts_with("HCP_")
        {
            c.env_remove(k);
        }
    }
    c.env("CHECKPOINT_DISABLE", "1");
    c.env("PACKER_NO_COLOR", "1");
    c.env("PKR_VAR_secret", "s3cr3t-value");
    c.env("PKR_VAR_region", "eu-west-1");
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("spawn")
}

fn out_text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed to make test keys (apt-get install openssl)");
    assert!(o.status.success(), "openssl {args:?}: {}", out_text(&o));
}

const TEMPLATE: &str = r#"
variable "secret" {
  type      = string
  sensitive = true
}
variable "region" {
  type = string
}

source "file" "disk" {
  content = "a disk image, honestly"
  target  = "out/disk.img"
}

build {
  sources = ["source.file.disk"]

  post-processor "provenance" {
    output_dir = "unsigned"
    template   = "build.pkr.hcl"
  }
  post-processor "provenance" {
    output_dir   = "ed25519"
    signing_mode = "key"
    key          = "ed25519.pem"
  }
  post-processor "provenance" {
    output_dir   = "ecdsa"
    signing_mode = "key"
    signer       = "p256.pem"
    verifier     = "p256.pub"
  }
  post-processor "provenance" {
    output_dir   = "sec1"
    signing_mode = "key"
    key          = "p256-sec1.pem"
  }
  post-processor "provenance" {
    output_dir   = "rsa"
    signing_mode = "key"
    key          = "rsa-pkcs1.pem"
  }
  post-processor "provenance" {
    output_dir   = "p384"
    signing_mode = "key"
    key          = "p384.pem"
  }
  post-processor "provenance" {
    output_dir   = "p521"
    signing_mode = "key"
    key          = "p521-sec1.pem"
  }
}
"#;

fn setup(dir: &Path) {
    std::fs::write(dir.join("build.pkr.hcl"), TEMPLATE).unwrap();
    // RSA (PKCS#1), P-384 (PKCS#8) and P-521 (SEC1), which Packer's signer takes too
    openssl(
        dir,
        &["genrsa", "-traditional", "-out", "rsa-pkcs1.pem", "2048"],
    );
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "p384.pem",
        ],
    );
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "secp521r1",
            "-genkey",
            "-noout",
            "-out",
            "p521-sec1.pem",
        ],
    );
    openssl(
        dir,
        &["genpkey", "-algorithm", "ed25519", "-out", "ed25519.pem"],
    );
    openssl(
        dir,
        &[
            "pkey",
            "-in",
            "ed25519.pem",
            "-pubout",
            "-out",
            "ed25519.pub",
        ],
    );
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "p256.pem",
        ],
    );
    openssl(
        dir,
        &["pkey", "-in", "p256.pem", "-pubout", "-out", "p256.pub"],
    );
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "p256-sec1.pem",
        ],
    );
}

/// `packer verify-attestation ARGS`; `kiln verify-attestation ARGS` must say the same (exit
/// code, stdout, stderr).
fn verify(dir: &Path, args: &[&str]) -> Output {
    let mut c = clean(Command::new(packer()));
    c.current_dir(dir).arg("verify-attestation").args(args);
    let theirs = run(c);
    let mut c = clean(Command::new(env!("CARGO_BIN_EXE_kiln")));
    c.current_dir(dir).arg("verify-attestation").args(args);
    let ours = run(c);
    assert_eq!(
        out_text(&ours),
        out_text(&theirs),
        "kiln verify-attestation {args:?} differs from Packer's"
    );
    theirs
}

fn read_json(p: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// The statement without what differs between two runs or two tools.
fn comparable(mut s: serde_json::Value) -> serde_json::Value {
    let run = &mut s["predicate"]["runDetails"];
    run["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("invocationId");
    run["builder"]["version"]
        .as_object_mut()
        .unwrap()
        .remove("kiln");
    s["predicate"]["buildDefinition"]["internalParameters"]
        .as_object_mut()
        .unwrap()
        .remove("kilnVersion");
    s
}

#[test]
fn packer_verify_attestation_accepts_kilns_signed_provenance() {
    let packer = packer();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);

    let mut kiln = clean(Command::new(env!("CARGO_BIN_EXE_kiln")));
    kiln.current_dir(dir).args(["build", "build.pkr.hcl"]);
    let o = run(kiln);
    assert!(o.status.success(), "kiln build: {}", out_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Wrote attestation to ed25519/disk.img.provenance.json"),
        "{stdout}"
    );

    let artifact = dir.join("out/disk.img");
    let digest = format!(
        "{:x}",
        sha2::Sha256::digest(std::fs::read(&artifact).unwrap())
    );

    // Unsigned: an in-toto statement with the SLSA v1 predicate, as Packer's.
    let unsigned = read_json(&dir.join("unsigned/disk.img.provenance.json"));
    assert_eq!(unsigned["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(unsigned["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(unsigned["subject"][0]["name"], "disk.img");
    assert_eq!(unsigned["subject"][0]["digest"]["sha256"], digest.as_str());
    let ext = &unsigned["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(ext["template"], "build.pkr.hcl");
    assert_eq!(ext["userVariables"]["secret"], "[sensitive value redacted]");
    assert_eq!(ext["userVariables"]["region"], "eu-west-1");
    assert!(
        !std::fs::read_to_string(dir.join("unsigned/disk.img.provenance.json"))
            .unwrap()
            .contains("s3cr3t-value")
    );

    // Signed with each key kind: Packer's verifier accepts them, with every policy check.
    let policy = [
        "-artifact",
        "out/disk.img",
        "-predicate-type",
        "https://slsa.dev/provenance/v1",
        "-builder-id",
        "https://packer.io/local-build",
    ];
    for (att, key_flag) in [
        ("ed25519/disk.img.provenance.json", "-key=ed25519.pem"),
        ("ed25519/disk.img.provenance.json", "-verifier=ed25519.pub"),
        ("ecdsa/disk.img.provenance.json", "-key=p256.pem"),
        ("ecdsa/disk.img.provenance.json", "-verifier=p256.pub"),
        ("sec1/disk.img.provenance.json", "-key=p256-sec1.pem"),
        ("rsa/disk.img.provenance.json", "-key=rsa-pkcs1.pem"),
        ("p384/disk.img.provenance.json", "-key=p384.pem"),
        ("p521/disk.img.provenance.json", "-key=p521-sec1.pem"),
    ] {
        let mut args = vec![key_flag];
        args.extend(policy);
        args.push(att);
        let o = verify(dir, &args);
        assert!(
            o.status.success(),
            "packer verify-attestation {args:?} rejected Kiln's output: {}",
            out_text(&o)
        );
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Attestation verified."),
            "{}",
            out_text(&o)
        );
        let env = read_json(&dir.join(att));
        assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
        // the key id is Packer's: the SHA-256 of the public key's PKIX PEM
        if let Some(key) = key_flag.strip_prefix("-key=") {
            openssl(dir, &["pkey", "-in", key, "-pubout", "-out", "keyid.pub"]);
            let want = format!(
                "{:x}",
                sha2::Sha256::digest(std::fs::read(dir.join("keyid.pub")).unwrap())
            );
            assert_eq!(env["signatures"][0]["keyid"], want.as_str(), "{att}");
        }
        let payload = base64::engine::general_purpose::STANDARD
            .decode(env["payload"].as_str().unwrap())
            .unwrap();
        let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(statement["subject"][0]["digest"]["sha256"], digest.as_str());
    }

    // A wrong key is rejected.
    let o = verify(dir, &["-key=p256.pem", "ed25519/disk.img.provenance.json"]);
    assert!(!o.status.success(), "wrong key accepted: {}", out_text(&o));
    assert!(
        out_text(&o).contains("signature verification failed"),
        "{}",
        out_text(&o)
    );
    let o = verify(dir, &["-key=ed25519.pem", "ecdsa/disk.img.provenance.json"]);
    assert!(!o.status.success(), "wrong key accepted: {}", out_text(&o));

    // A tampered attestation (another digest in the payload) is rejected.
    let mut env = read_json(&dir.join("ed25519/disk.img.provenance.json"));
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = String::from_utf8(b64.decode(env["payload"].as_str().unwrap()).unwrap())
        .unwrap()
        .replace(&digest, &"0".repeat(64));
    env["payload"] = serde_json::json!(b64.encode(payload));
    std::fs::write(dir.join("tampered.json"), env.to_string()).unwrap();
    let o = verify(dir, &["-key=ed25519.pem", "tampered.json"]);
    assert!(
        !o.status.success(),
        "tampered attestation accepted: {}",
        out_text(&o)
    );
    assert!(
        out_text(&o).contains("signature verification failed"),
        "{}",
        out_text(&o)
    );

    // A tampered artifact no longer matches the subject.
    std::fs::write(&artifact, "another disk").unwrap();
    let o = verify(
        dir,
        &[
            "-key=p256.pem",
            "-artifact=out/disk.img",
            "ecdsa/disk.img.provenance.json",
        ],
    );
    assert!(
        !o.status.success(),
        "tampered artifact accepted: {}",
        out_text(&o)
    );
    assert!(
        out_text(&o).contains("attestation subject does not match artifact"),
        "{}",
        out_text(&o)
    );

    // Packer itself, same template, same environment: the unsigned statements agree on
    // everything but the invocation id (random per run) and Kiln's own version.
    let pdir = tempfile::tempdir().unwrap();
    setup(pdir.path());
    let mut c = clean(Command::new(&packer));
    c.current_dir(pdir.path()).args(["build", "build.pkr.hcl"]);
    let o = run(c);
    assert!(o.status.success(), "packer build: {}", out_text(&o));
    let theirs = read_json(&pdir.path().join("unsigned/disk.img.provenance.json"));
    assert_eq!(
        comparable(unsigned.clone()),
        comparable(theirs.clone()),
        "Kiln's statement differs from Packer's"
    );
    // And Packer's signed output verifies the same way Kiln's does.
    let o = verify(
        pdir.path(),
        &["-key=ed25519.pem", "ed25519/disk.img.provenance.json"],
    );
    assert!(o.status.success(), "{}", out_text(&o));
}
