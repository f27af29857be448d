//! Runs the `kiln` binary on templates and checks files, output and exit codes, as a Packer
//! user would observe them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kiln() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln"));
    c.env_remove("PACKER_RUN_UUID");
    // Build output is coloured even into a pipe (as Packer's); tests read plain text.
    c.env("PACKER_NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("PKR_VAR_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    kiln()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run kiln")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// What a user reads: Kiln, as Packer, writes errors and warnings to stdout too.
fn shown(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, content).unwrap();
    p
}

fn copy_example(name: &str, to: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let dst = to.join(name);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    dst
}

#[test]
fn bundled_example_builds_with_manifest_and_masks_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    copy_example("hello", tmp.path());
    let o = run(tmp.path(), &["build", "hello"]);
    let (out, _) = text(&o);
    let err = out.clone();
    assert!(o.status.success(), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("==> hello.null.greeter: Running local shell script:"),
        "{out}"
    );
    assert!(
        out.contains("==> hello.null.greeter: Hello, Kiln! from null.greeter"),
        "{out}"
    );
    assert!(
        out.contains("Build 'hello.file.motd' finished after"),
        "{out}"
    );
    assert!(
        out.contains("==> Builds finished. The artifacts of successful builds are:"),
        "{out}"
    );
    assert!(
        out.contains("--> hello.file.motd: Stored file: hello/output/motd.txt"),
        "{out}"
    );
    assert!(
        !out.contains("s3cr3t-token") && !err.contains("s3cr3t-token"),
        "secret leaked"
    );
    assert!(out.contains("token is <sensitive>"), "{out}");
    let motd = std::fs::read_to_string(tmp.path().join("hello/output/motd.txt")).unwrap();
    assert_eq!(motd, "Hello, Kiln!\n");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("hello/output/manifest.json")).unwrap(),
    )
    .unwrap();
    let builds = manifest["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    let mut names: Vec<&str> = builds.iter().map(|b| b["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, vec!["greeter", "motd"]);
    let motd_entry = builds.iter().find(|b| b["name"] == "motd").unwrap();
    assert_eq!(motd_entry["builder_type"], "file");
    assert_eq!(motd_entry["artifact_id"], "File");
    assert_eq!(motd_entry["files"][0]["name"], "motd.txt");
    assert_eq!(motd_entry["files"][0]["size"], 13);
    assert_eq!(motd_entry["custom_data"]["greeting"], "Hello");
    let greeter = builds.iter().find(|b| b["name"] == "greeter").unwrap();
    assert!(greeter["files"].is_null());
    assert_eq!(manifest["last_run_uuid"], greeter["packer_run_uuid"]);
}

#[test]
fn manifest_appends_per_run_and_force_resets_it() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "m.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  post-processor "manifest" {
    output     = "m.json"
    strip_time = true
  }
}
"#,
    );
    let t = t.to_str().unwrap();
    let count = || -> usize {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tmp.path().join("m.json")).unwrap())
                .unwrap();
        assert!(
            v["builds"][0].get("build_time").is_none(),
            "strip_time drops build_time"
        );
        v["builds"].as_array().unwrap().len()
    };
    assert!(run(tmp.path(), &["build", t]).status.success());
    assert_eq!(count(), 1);
    assert!(run(tmp.path(), &["build", t]).status.success());
    assert_eq!(count(), 2);
    assert!(run(tmp.path(), &["build", "-force", t]).status.success());
    assert_eq!(count(), 1);
}

#[test]
fn only_and_except_select_builds_by_glob() {
    let tmp = tempfile::tempdir().unwrap();
    copy_example("hello", tmp.path());
    let o = run(tmp.path(), &["build", "-only=*.file.*", "hello"]);
    let (out, _) = text(&o);
    let err = out.clone();
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("hello.file.motd"));
    assert!(!out.contains("hello.null.greeter"), "{out}");

    let o = run(
        tmp.path(),
        &["build", "-except", "hello.file.motd", "hello"],
    );
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(!out.contains("hello.file.motd"), "{out}");

    let o = run(tmp.path(), &["build", "-only=chocolate", "hello"]);
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("No builds to run"), "{err}");
}

#[test]
fn variables_follow_packers_precedence() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "v.pkr.hcl",
        r#"
variable "x" {
  type    = string
  default = "default"
}
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" { inline = ["echo x=${var.x}"] }
}
"#,
    );
    write(tmp.path(), "a.pkrvars.hcl", "x = \"file-a\"\n");
    write(tmp.path(), "b.pkrvars.json", "{\"x\": \"file-b\"}\n");
    let t = tmp.path().join("v.pkr.hcl");
    let t = t.to_str().unwrap();
    let got = |args: &[&str], env: Option<&str>| -> String {
        let mut c = kiln();
        c.current_dir(tmp.path()).args(args);
        if let Some(v) = env {
            c.env("PKR_VAR_x", v);
        }
        let o = c.output().unwrap();
        let (out, _) = text(&o);
        let err = out.clone();
        assert!(o.status.success(), "{out}{err}");
        out.lines()
            .find_map(|l| l.split("x=").nth(1).map(str::to_string))
            .unwrap_or_default()
    };
    assert_eq!(got(&["build", t], None), "default");
    assert_eq!(got(&["build", t], Some("env")), "env");
    assert_eq!(
        got(&["build", "-var-file=a.pkrvars.hcl", t], Some("env")),
        "file-a"
    );
    assert_eq!(
        got(
            &[
                "build",
                "-var-file=a.pkrvars.hcl",
                "-var-file=b.pkrvars.json",
                t
            ],
            None
        ),
        "file-b"
    );
    // -var beats var files whatever the order on the command line.
    assert_eq!(
        got(
            &["build", "-var", "x=cli", "-var-file=a.pkrvars.hcl", t],
            Some("env")
        ),
        "cli"
    );
}

#[test]
fn undeclared_and_unset_variables_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "v.pkr.hcl",
        "variable \"needed\" {}\nsource \"null\" \"a\" { communicator = \"none\" }\nbuild { sources = [\"null.a\"] }\n",
    );
    let t = t.to_str().unwrap();
    let o = run(tmp.path(), &["validate", t]);
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("Unset variable \"needed\""), "{err}");
    let o = run(
        tmp.path(),
        &["validate", "-var", "needed=1", "-var", "nope=2", t],
    );
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("Undefined -var variable"), "{err}");
    let o = run(tmp.path(), &["validate", "-var", "needed=1", t]);
    let (out, _) = text(&o);
    let err = out.clone();
    assert!(o.status.success(), "{err}");
    assert!(out.contains("The configuration is valid."));
}

#[test]
fn validate_reports_problems_as_packer_does() {
    // As Packer: an unknown component type stops validation before any block is decoded;
    // a builder that fails stops its build before its provisioners; every error names its
    // file and line ("(source code not available)": Packer shows source lines only for
    // errors of parsing).
    let tmp = tempfile::tempdir().unwrap();
    let body = r#"source "null" "a" {
  communicator = "none"
  bogus        = 1
}
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    inline = ["true"]
    nope   = true
  }
  provisioner "no-such-thing" {}
}
"#;
    let t = write(tmp.path(), "bad.pkr.hcl", body);
    let o = run(tmp.path(), &["validate", t.to_str().unwrap()]);
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("Error: Unknown provisioner type \"no-such-thing\""),
        "{err}"
    );
    assert!(err.contains("bad.pkr.hcl line 11:"), "{err}");
    assert!(!err.contains("Unsupported argument"), "{err}");
    let t = write(
        tmp.path(),
        "bad.pkr.hcl",
        &body.replace("  provisioner \"no-such-thing\" {}\n", ""),
    );
    let o = run(tmp.path(), &["validate", t.to_str().unwrap()]);
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err.matches("Error: Unsupported argument").count(),
        1,
        "{err}"
    );
    assert!(err.contains("bad.pkr.hcl line 3:"), "{err}");
    assert!(err.contains("An argument named \"bogus\""), "{err}");
    let t = write(
        tmp.path(),
        "bad.pkr.hcl",
        &body
            .replace("  provisioner \"no-such-thing\" {}\n", "")
            .replace("  bogus        = 1\n", ""),
    );
    let o = run(tmp.path(), &["validate", t.to_str().unwrap()]);
    let err = shown(&o);
    // A provisioner's decoding error, as hcl2template's HCL2Prepare returns it: at the
    // block, the argument's range and hcl's suggestion in the text.
    assert!(
        err.contains("Failed preparing provisioner-block \"shell-local\""),
        "{err}"
    );
    assert!(
        err.contains("bad.pkr.hcl:8,5-9: Unsupported argument; An argument named"),
        "{err}"
    );
    assert!(
        err.contains("\"nope\" is not expected here. Did you mean \"name\"?"),
        "{err}"
    );
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "s.pkr.hcl",
        "source \"null\" \"a\" {\n  x = [1, 2\n}\n",
    );
    let o = run(
        tmp.path(),
        &["validate", "-syntax-only", t.to_str().unwrap()],
    );
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    // hclsyntax's words (as Packer), its subject (the `}`) and the lines of its context.
    assert!(err.contains("Error: Missing item separator"), "{err}");
    assert!(
        err.contains("s.pkr.hcl line 3, in source \"null\" \"a\":\n   2:   x = [1, 2\n   3: }\n"),
        "{err}"
    );
    assert!(
        err.contains("Expected a comma to mark the beginning of the next item."),
        "{err}"
    );
}

#[test]
fn failing_provisioner_runs_the_error_cleanup_provisioner_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "f.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" { inline = ["echo before", "exit 7"] }
  provisioner "shell-local" { inline = ["touch never-ran"] }
  error-cleanup-provisioner "shell-local" { inline = ["touch cleaned-up"] }
}
"#,
    );
    let o = run(tmp.path(), &["build", t.to_str().unwrap()]);
    let (out, _) = text(&o);
    let err = out.clone();
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("Script exited with non-zero exit status: 7. Allowed exit codes are: [0]"),
        "{err}"
    );
    assert!(err.contains("Build 'null.a' errored after"), "{err}");
    assert!(
        err.contains("Some builds didn't complete successfully"),
        "{err}"
    );
    assert!(
        tmp.path().join("cleaned-up").exists(),
        "error-cleanup-provisioner ran"
    );
    assert!(!tmp.path().join("never-ran").exists());

    // -on-error=abort skips cleanup, including the error-cleanup-provisioner.
    std::fs::remove_file(tmp.path().join("cleaned-up")).unwrap();
    let o = run(
        tmp.path(),
        &["build", "-on-error=abort", t.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!tmp.path().join("cleaned-up").exists());
    let (out, _) = text(&o);
    assert!(out.contains("aborted: skipping cleanup of step"), "{out}");

    // run-cleanup-provisioner keeps other resources but runs the cleanup provisioner.
    let o = run(
        tmp.path(),
        &[
            "build",
            "-on-error=run-cleanup-provisioner",
            t.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(tmp.path().join("cleaned-up").exists());
}

#[test]
fn retries_valid_exit_codes_and_continue_on_error() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "r.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    inline      = ["echo x >> attempts", "test $(wc -l < attempts) -ge 3"]
    max_retries = 2
  }
  provisioner "shell-local" {
    inline           = ["exit 3"]
    valid_exit_codes = [0, 3]
  }
  provisioner "shell-local" {
    inline            = ["exit 1"]
    continue_on_error = true
  }
  provisioner "shell-local" { inline = ["touch reached-end"] }
}
"#,
    );
    let o = run(tmp.path(), &["build", t.to_str().unwrap()]);
    let (out, _) = text(&o);
    let err = out.clone();
    assert!(o.status.success(), "{out}{err}");
    let attempts = std::fs::read_to_string(tmp.path().join("attempts")).unwrap();
    assert_eq!(attempts.lines().count(), 3);
    assert!(err.contains("trie(s) left"), "{err}");
    assert!(tmp.path().join("reached-end").exists());
}

#[test]
fn provisioner_timeout_stops_a_hanging_command() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "t.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    inline  = ["sleep 60"]
    timeout = "1s"
  }
}
"#,
    );
    let started = std::time::Instant::now();
    let o = run(tmp.path(), &["build", t.to_str().unwrap()]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1));
    // Packer's TimeoutProvisioner says it cancels, then the provisioner's own error stands
    // (the SDK's shell-local: the script that did not finish).
    let cancelling = err
        .find("==> null.a: Cancelling provisioner after a timeout...")
        .unwrap_or_else(|| panic!("no cancelling line: {err}"));
    let failed = err
        .find("==> null.a: Provisioning step had errors")
        .unwrap_or_else(|| panic!("no step error: {err}"));
    assert!(cancelling < failed, "{err}");
    assert!(
        err.contains("--> null.a: Error executing script: ")
            && err.contains("\n\nPlease see output above for more information."),
        "{err}"
    );
}

#[test]
fn parallel_builds_limit_is_respected() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "p.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  dynamic "source" {
    for_each = ["one", "two", "three"]
    labels   = ["null.a"]
    content { name = source.value }
  }
  provisioner "shell-local" {
    inline = ["echo start >> log", "sleep 0.3", "echo end >> log"]
  }
}
"#,
    );
    let t = t.to_str().unwrap();
    let o = run(tmp.path(), &["build", "-parallel-builds=1", t]);
    assert!(o.status.success());
    let log = std::fs::read_to_string(tmp.path().join("log")).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        vec!["start", "end", "start", "end", "start", "end"],
        "strictly one build at a time"
    );
    std::fs::remove_file(tmp.path().join("log")).unwrap();
    let o = run(tmp.path(), &["build", t]);
    assert!(o.status.success());
    let log = std::fs::read_to_string(tmp.path().join("log")).unwrap();
    assert_eq!(
        &log.lines().take(3).collect::<Vec<_>>(),
        &["start", "start", "start"],
        "all builds start before any ends: {log}"
    );
}

#[test]
fn interrupt_cancels_runs_cleanup_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "i.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" { inline = ["touch started", "sleep 30", "touch finished"] }
  post-processor "shell-local" { inline = ["touch post-processed"] }
}
"#,
    );
    let child = kiln()
        .current_dir(tmp.path())
        .args(["build", t.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !tmp.path().join("started").exists() {
        assert!(std::time::Instant::now() < deadline, "build never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let (out, _) = text(&o);
    let err = out.clone();
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("Cancelling build after receiving interrupt"),
        "{err}"
    );
    assert!(
        out.contains("Cleanly cancelled builds after being interrupted.")
            || err.contains("Cleanly cancelled builds after being interrupted.")
    );
    assert!(
        !tmp.path().join("finished").exists(),
        "the provisioner was stopped"
    );
    assert!(
        !tmp.path().join("post-processed").exists(),
        "post-processors are skipped"
    );
}

#[test]
fn machine_readable_and_json_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "j.pkr.hcl",
        "source \"null\" \"a\" { communicator = \"none\" }\nbuild {\n  sources = [\"null.a\"]\n  provisioner \"shell-local\" { inline = [\"echo a,b\"] }\n}\n",
    );
    let o = run(
        tmp.path(),
        &["build", "-machine-readable", t.to_str().unwrap()],
    );
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.lines()
            .any(|l| l.ends_with(",,ui,say,==> null.a: a%!(PACKER_COMMA)b")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains(",null.a,artifact,0,builder-id,fnoeding.null")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains(",null.a,artifact-count,1")),
        "{out}"
    );

    let o = run(tmp.path(), &["build", "-json", t.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "build_started" && e["build"] == "null.a")
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "say" && e["message"] == "a,b")
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "artifact" && e["artifact"]["builderId"] == "fnoeding.null")
    );
}

#[test]
fn fmt_check_diff_and_write() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "f.pkr.hcl",
        "source \"null\" \"a\" {\ncommunicator=\"none\" # keep\n}\n",
    );
    let o = run(tmp.path(), &["fmt", "-check", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let o = run(tmp.path(), &["fmt", t.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(&t).unwrap(),
        "source \"null\" \"a\" {\n  communicator = \"none\" # keep\n}\n"
    );
    let o = run(tmp.path(), &["fmt", "-check", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn inspect_and_console_mask_sensitive_values_keeping_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "s.pkr.hcl",
        r#"
variable "keys" {
  type      = list(string)
  default   = ["k1-secret", "k2-secret"]
  sensitive = true
}
variable "plain" { default = "visible" }
source "null" "a" { communicator = "none" }
build { sources = ["null.a"] }
"#,
    );
    let o = run(tmp.path(), &["inspect", t.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("var.keys: \"[\\n  \\\"<sensitive>\\\",\\n  \\\"<sensitive>\\\",\\n]\""),
        "{out}"
    );
    assert!(out.contains("var.plain: \"visible\""), "{out}");
    assert!(!out.contains("k1-secret"));

    let mut c = kiln()
        .current_dir(tmp.path())
        .args(["console", t.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin
        .take()
        .unwrap()
        .write_all(b"upper(var.plain)\nvar.keys[0]\n")
        .unwrap();
    let o = c.wait_with_output().unwrap();
    let (out, _) = text(&o);
    // Piped, as Packer's console: only the last line's result, a string bare, masked.
    assert_eq!(out, "<sensitive>\n");
}

#[test]
fn output_flags_timestamps_color_debug_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "o.pkr.hcl",
        "source \"null\" \"a\" { communicator = \"none\" }\nsource \"null\" \"b\" { communicator = \"none\" }\nbuild {\n  sources = [\"null.a\", \"null.b\"]\n  provisioner \"shell-local\" { inline = [\"echo start >> log\", \"sleep 0.2\", \"echo end >> log\"] }\n}\n",
    );
    let t = t.to_str().unwrap();
    // -timestamp-ui prefixes every line a build says with an RFC 3339 time (as Packer's
    // TimestampedUi: not the colour announcements nor the command's own lines).
    let o = run(tmp.path(), &["build", "-timestamp-ui", t]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let said = out.lines().find(|l| l.contains("==> null.a:")).unwrap();
    assert!(
        said.len() > 21 && said.as_bytes()[4] == b'-' && said[..21].ends_with("Z:"),
        "{said}"
    );
    let first = out.lines().next().unwrap();
    assert_eq!(first, "null.a: output will be in this color.");
    let wait = out.lines().find(|l| l.contains("Wait completed")).unwrap();
    assert!(wait.starts_with("==> Wait completed"), "{wait}");
    // Colour is on unless `-color=false` or PACKER_NO_COLOR, terminal or not (stdout is a
    // pipe here), as Packer's.
    let coloured = |args: &[&str]| {
        let o = kiln()
            .current_dir(tmp.path())
            .env_remove("PACKER_NO_COLOR")
            .args(args)
            .output()
            .unwrap();
        text(&o).0
    };
    let out = coloured(&["build", t]);
    assert!(
        out.starts_with("\x1b[1;32mnull.a: output will be in this color.\x1b[0m\n"),
        "{out}"
    );
    let out = coloured(&["build", "-color=false", t]);
    assert!(
        !out.contains("\x1b[") && !out.contains("in this color"),
        "{out}"
    );
    let o = run(tmp.path(), &["build", t]);
    assert!(!text(&o).0.contains("\x1b["));
    assert!(
        text(&o)
            .0
            .starts_with("null.a: output will be in this color.")
    );
    // -debug runs builds one at a time.
    std::fs::remove_file(tmp.path().join("log")).unwrap();
    let o = run(tmp.path(), &["build", "-debug", t]);
    assert!(o.status.success());
    let log = std::fs::read_to_string(tmp.path().join("log")).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        vec!["start", "end", "start", "end"]
    );
    let o = run(tmp.path(), &["version"]);
    assert!(text(&o).0.starts_with("Kiln v"));
    let o = run(tmp.path(), &["build", "-on-error=sometimes", t]);
    assert_eq!(o.status.code(), Some(1));
    // Go's flag error after the usage, on stdout, as Packer's.
    let out = text(&o).0;
    assert!(
        out.starts_with("Usage: packer build [options] TEMPLATE"),
        "{out}"
    );
    assert!(
        out.ends_with("invalid value \"sometimes\" for flag -on-error: expected one of [\"cleanup\" \"abort\" \"ask\" \"run-cleanup-provisioner\"]\n"),
        "{out}"
    );
}

#[test]
fn undeclared_var_file_entries_warn_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "w.pkr.hcl",
        "variable \"a\" { default = \"x\" }\nsource \"null\" \"a\" { communicator = \"none\" }\nbuild { sources = [\"null.a\"] }\n",
    );
    write(tmp.path(), "v.pkrvars.hcl", "a = \"y\"\nnot_declared = 1\n");
    let t = t.to_str().unwrap();
    let o = run(tmp.path(), &["validate", "-var-file=v.pkrvars.hcl", t]);
    let err = shown(&o);
    assert!(o.status.success());
    assert!(
        err.contains("Warning: Undefined variable") && err.contains("not_declared"),
        "{err}"
    );
    let o = run(
        tmp.path(),
        &[
            "validate",
            "-no-warn-undeclared-var",
            "-var-file=v.pkrvars.hcl",
            t,
        ],
    );
    assert!(!text(&o).1.contains("Undefined variable"));
    let o = run(tmp.path(), &["build", "-var-file=v.pkrvars.hcl", t]);
    assert!(!text(&o).1.contains("Undefined variable"));
    let o = run(
        tmp.path(),
        &[
            "build",
            "-warn-on-undeclared-var",
            "-var-file=v.pkrvars.hcl",
            t,
        ],
    );
    assert!(shown(&o).contains("Undefined variable"));
    let o = run(tmp.path(), &["validate", "-var-file=v.txt", t]);
    assert_eq!(o.status.code(), Some(1));
    assert!(shown(&o).contains("Could not"), "{}", shown(&o));
}

#[test]
fn validate_evaluates_data_sources_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let t = write(
        tmp.path(),
        "d.pkr.hcl",
        "data \"http\" \"x\" { url = \"http://127.0.0.1:9/nothing-listens-here\" }\nlocals { body = data.http.x.body }\nsource \"null\" \"a\" { communicator = \"none\" }\nbuild { sources = [\"null.a\"] }\n",
    );
    let t = t.to_str().unwrap();
    let o = run(tmp.path(), &["validate", t]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = run(tmp.path(), &["validate", "-evaluate-datasources", t]);
    assert_eq!(o.status.code(), Some(1));
    // Packer's words: the data source's Execute error with Go's net/http text.
    assert!(
        shown(&o).contains("Datasource.Execute failed: Get \"http://127.0.0.1:9/nothing-listens-here\": dial tcp 127.0.0.1:9: connect: connection refused"),
        "{}",
        shown(&o)
    );
}

/// `kiln fmt` as `packer fmt` (Packer 1.16.0, observed): names as given or joined to the
/// directory (`x.pkr.hcl`, not `./x.pkr.hcl`), `-check` exit codes, errors on stdout after the
/// listing with exit 1, stdin echoed.
#[test]
fn fmt_lists_checks_and_reports_as_packer() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "x.pkr.hcl", "a=1\n");
    write(tmp.path(), "ok.pkr.hcl", "b = 2\n");
    write(tmp.path(), ".hidden.pkr.hcl", "a=1\n");
    write(tmp.path(), "sub/deep/z.pkr.hcl", "c=3\n");
    write(tmp.path(), "env/y.pkrvars.hcl", "c=3\n");
    write(tmp.path(), "notes.txt", "x");

    // A formatted file: nothing listed, 0. One that is not: listed as named, 3.
    let o = run(tmp.path(), &["fmt", "-check", "ok.pkr.hcl"]);
    assert_eq!((o.status.code(), text(&o).0.as_str()), (Some(0), ""));
    let o = run(tmp.path(), &["fmt", "-check=true", "./x.pkr.hcl"]);
    assert_eq!(
        (o.status.code(), text(&o).0.as_str()),
        (Some(3), "./x.pkr.hcl\n")
    );
    // A directory: entries joined and cleaned, hidden files skipped, subdirectories only with
    // -recursive, in name order.
    let o = run(tmp.path(), &["fmt", "-check", "./"]);
    assert_eq!(
        (o.status.code(), text(&o).0.as_str()),
        (Some(3), "x.pkr.hcl\n")
    );
    let o = run(tmp.path(), &["fmt", "-check", "-recursive", "."]);
    assert_eq!(
        (o.status.code(), text(&o).0.as_str()),
        (
            Some(3),
            "env/y.pkrvars.hcl\nsub/deep/z.pkr.hcl\nx.pkr.hcl\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("x.pkr.hcl")).unwrap(),
        "a=1\n"
    );
    // -write=false lists without writing; several paths are processed in order.
    let o = run(tmp.path(), &["fmt", "-write=false", "x.pkr.hcl", "env"]);
    assert_eq!(
        (o.status.code(), text(&o).0.as_str()),
        (Some(0), "x.pkr.hcl\nenv/y.pkrvars.hcl\n")
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("x.pkr.hcl")).unwrap(),
        "a=1\n"
    );

    // Not HCL, missing: errors on stdout (Packer's UI), exit 1, nothing on stderr.
    let o = run(tmp.path(), &["fmt", "-check", "notes.txt"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o),
        (
            "Error: encountered an error while formatting notes.txt\n\nfile notes.txt is not a HCL file\n\n\n".to_string(),
            String::new()
        )
    );
    let o = run(tmp.path(), &["fmt", "nope.pkr.hcl"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o).0,
        "Error: encountered an error while formatting nope.pkr.hcl\n\nfailed to open nope.pkr.hcl: open nope.pkr.hcl: no such file or directory\n\n\n"
    );

    // A file that does not parse: the others are still listed (and written), then the error.
    write(tmp.path(), "bad.pkr.hcl", "a = \"x\ny\"\n");
    let o = run(tmp.path(), &["fmt", "."]);
    assert_eq!(o.status.code(), Some(1));
    // Packer's errors (its scanner's, then its parser's), wrapped at 80 columns as its
    // diagnostic writer does.
    let want = "x.pkr.hcl\nError: encountered an error while formatting bad.pkr.hcl\n\n2 errors occurred:\n\t* bad.pkr.hcl:1,7-2,1: Invalid multi-line string; Quoted strings may not be\nsplit over multiple lines. To produce a multi-line string, either use the \\n\nescape to represent a newline character or use the \"heredoc\" multi-line template\nsyntax.\n\t* bad.pkr.hcl:1,7-2,1: Unterminated template string; No closing marker was\nfound for the string.\n\n\n\n\n";
    assert_eq!(text(&o).0, want);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("x.pkr.hcl")).unwrap(),
        "a = 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("bad.pkr.hcl")).unwrap(),
        "a = \"x\ny\"\n"
    );
}

#[test]
fn fmt_reads_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let stdin = |args: &[&str], input: &str| {
        use std::io::Write;
        let mut c = kiln()
            .current_dir(tmp.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        (o.status.code(), String::from_utf8(o.stdout).unwrap())
    };
    assert_eq!(
        stdin(&["fmt", "-"], "a=[ 1,2 ]\n"),
        (Some(0), "a = [1, 2]\n".into())
    );
    assert_eq!(stdin(&["fmt", "-"], "a = 1\n"), (Some(0), "a = 1\n".into()));
    // -check: a formatted input is echoed (0); an unformatted one is not (3).
    assert_eq!(
        stdin(&["fmt", "-check", "-"], "a = 1\n"),
        (Some(0), "a = 1\n".into())
    );
    assert_eq!(
        stdin(&["fmt", "-check", "-"], "a=1\n"),
        (Some(3), String::new())
    );
    let (code, out) = stdin(&["fmt", "-"], "a = 1 & 2\n");
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("Error: encountered an error while formatting -\n\n2 errors occurred:\n\t* -:1,7-8: Unsupported operator; Bitwise operators are not supported. Did you\nmean boolean AND (\"&&\")?\n\t* -:1,7-8: Missing newline after argument; An argument definition must end with\na newline.\n"),
        "{out}"
    );
    // No path: the usage, exit 1.
    let (code, out) = stdin(&["fmt"], "");
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("Usage: packer fmt [options] [TEMPLATE]"),
        "{out}"
    );
}

#[test]
fn fmt_diff_and_recursive() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "top.pkr.hcl", "a=1\n");
    write(tmp.path(), "sub/inner.pkrvars.hcl", "b=2\n");
    write(tmp.path(), "sub/ignored.txt", "c=3\n");
    let o = run(tmp.path(), &["fmt", "-check", "-diff", "."]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(out.contains("-a=1") && out.contains("+a = 1"), "{out}");
    assert!(!out.contains("inner"), "not recursive by default: {out}");
    let o = run(tmp.path(), &["fmt", "-recursive", "."]);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("sub/inner.pkrvars.hcl")).unwrap(),
        "b = 2\n"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("sub/ignored.txt")).unwrap(),
        "c=3\n"
    );
}

const CHILD: &str = r#"data "kiln-channel" "base" {
  channel = "base-prod"
}
source "file" "child" {
  content = "from ${data.kiln-channel.base.build}: ${data.kiln-channel.base.id}"
  target  = "child.txt"
}
build {
  sources = ["source.file.child"]
}
"#;

fn channel_json(stalled: bool) -> String {
    let conditions = if stalled {
        r#"[{"type":"Ready","status":"False","reason":"TargetRevoked","message":"x"},
            {"type":"Stalled","status":"True","reason":"TargetRevoked","message":"ImageBuild \"base-7\" is revoked: CVE-2026-1"}]"#
    } else {
        r#"[{"type":"Ready","status":"True","reason":"TargetVerified","message":""}]"#
    };
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"kiln.dev/v1alpha1","kind":"ImageChannel",
        "metadata":{{"name":"base-prod","namespace":"images"}},
        "status":{{"conditions":{conditions},"currentBuild":"base-7",
          "artifacts":[{{"source":"file.root","artifacts":[{{"builderId":"packer.file","id":"root.img","files":[{{"name":"root.img"}}]}}]}}]}}}}]}}"#
    )
}

#[test]
fn kiln_channel_reads_the_channels_file_and_refuses_a_revoked_parent() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "child.pkr.hcl", CHILD);
    // No channels file: a clear error saying how to give one.
    let o = kiln()
        .current_dir(dir.path())
        .env_remove("KILN_CHANNELS")
        .args(["build", "child.pkr.hcl"])
        .output()
        .unwrap();
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("KILN_CHANNELS is not set"), "{err}");
    assert!(
        err.contains("on child.pkr.hcl line 1"),
        "names the block: {err}"
    );

    let ok = write(dir.path(), "ok.json", &channel_json(false));
    let o = kiln()
        .current_dir(dir.path())
        .env("KILN_CHANNELS", &ok)
        .args(["build", "child.pkr.hcl"])
        .output()
        .unwrap();
    let err = shown(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("child.txt")).unwrap(),
        "from base-7: root.img"
    );

    // Like HCP Packer's data sources on a revoked version: the child does not start.
    std::fs::remove_file(dir.path().join("child.txt")).unwrap();
    let bad = write(dir.path(), "bad.json", &channel_json(true));
    let o = kiln()
        .current_dir(dir.path())
        .env("KILN_CHANNELS", &bad)
        .args(["build", "child.pkr.hcl"])
        .output()
        .unwrap();
    let err = shown(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        // Packer's `Datasource.Execute failed:` summary (a summary is not word-wrapped).
        err.contains("Error: Datasource.Execute failed: ImageChannel base-prod is not Ready (TargetRevoked: ImageBuild \"base-7\" is revoked: CVE-2026-1)"),
        "{err}"
    );
    assert!(!dir.path().join("child.txt").exists());
}

/// A program the container example needs, or a failure saying what to install.
fn need(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found || Path::new(program).is_file(),
        "{program} is missing: install {package} (scripts/install-deps.sh)"
    );
}

#[test]
fn container_example_builds_an_image_runc_runs_and_rebuilds_identically() {
    need("runc", "runc");
    need("umoci", "umoci");
    need("skopeo", "skopeo");
    need("/bin/busybox", "busybox-static");
    let tmp = tempfile::tempdir().unwrap();
    copy_example("container", tmp.path());
    let store = tmp.path().join("store");
    let build = || {
        let o = kiln()
            .current_dir(tmp.path())
            .env("KILN_IMAGE_STORE", &store)
            .env_remove("SOURCE_DATE_EPOCH")
            .args(["build", "container"])
            .output()
            .expect("run kiln");
        let (out, err) = text(&o);
        assert!(o.status.success(), "stdout:\n{out}\nstderr:\n{err}");
        assert!(
            out.contains(
                "==> container.docker.hello: Hello from an image Kiln built from scratch!"
            ),
            "{out}"
        );
        out.lines()
            .find_map(|l| l.split_once("Image ID: ").map(|x| x.1.to_string()))
            .unwrap_or_else(|| panic!("no image id in\n{out}"))
    };
    let first = build();
    let tar = tmp.path().join("container/output/hello.tar");
    // docker's archive format and an OCI layout in one file
    let o = Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{}", tar.display())])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let inspect: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        inspect["Layers"].as_array().map(Vec::len),
        Some(1),
        "{inspect}"
    );
    assert_eq!(inspect["Env"], serde_json::json!(["PATH=/bin"]));
    // run the image as a user would: unpack the layout with umoci, run the bundle with runc
    let layout = tmp.path().join("layout");
    std::fs::create_dir(&layout).unwrap();
    let o = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&layout)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let bundle = tmp.path().join("bundle");
    let o = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!(
            "{}:docker.io/kiln-example/hello:latest",
            layout.display()
        ))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "umoci unpack: {}", text(&o).1);
    let cfg_path = bundle.join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    assert_eq!(cfg["process"]["args"], serde_json::json!(["/bin/hello"]));
    cfg["process"]["terminal"] = serde_json::json!(false);
    std::fs::write(&cfg_path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    let id = format!("kiln-cli-example-{}", std::process::id());
    let o = Command::new("runc")
        .arg("run")
        .arg("--bundle")
        .arg(&bundle)
        .arg(&id)
        .output()
        .unwrap();
    let _ = Command::new("runc").args(["delete", "-f", &id]).output();
    let (out, err) = text(&o);
    assert!(o.status.success(), "runc run: {out}\n{err}");
    assert!(
        out.starts_with("Hello from an image Kiln built from scratch!\nbusybox v"),
        "{out}"
    );
    // the same inputs give the same image, with no variable set
    assert_eq!(build(), first);
}

/// The `kiln-*` entries of a scratch directory.
fn kiln_dirs(scratch: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(scratch)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("kiln-"))
        })
        .collect();
    v.sort();
    v
}

fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Nothing left behind (issue 12 item 5): a failed docker build leaves nothing in the
/// scratch directory; a SIGKILLed one leaves its container running and its file system, and
/// the next `kiln build` — of any template — kills and deletes the container and removes
/// the directories, from the journal the killed run kept.
#[test]
fn failed_build_leaves_nothing_and_the_next_build_reaps_a_sigkilled_one() {
    need("runc", "runc");
    need("/bin/busybox", "busybox-static");
    let tmp = tempfile::tempdir().unwrap();
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let store = tmp.path().join("store");
    let docker = |inline: &str| {
        format!(
            "source \"docker\" \"x\" {{\n  image  = \"scratch\"\n  commit = true\n}}\nbuild {{\n  sources = [\"docker.x\"]\n  provisioner \"file\" {{\n    source      = \"/bin/busybox\"\n    destination = \"/bin/sh\"\n  }}\n  provisioner \"shell\" {{\n    inline = [{inline}]\n  }}\n}}\n"
        )
    };
    let kiln_in = |dir: &str| {
        let mut c = kiln();
        c.current_dir(tmp.path())
            .env("TMPDIR", &scratch)
            .env("KILN_IMAGE_STORE", &store)
            .args(["build", dir]);
        c
    };
    // a failed build
    write(
        tmp.path(),
        "fail/t.pkr.hcl",
        &docker("\"echo about to fail\", \"exit 3\""),
    );
    let o = kiln_in("fail").output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("non-zero exit status: 3"), "{out}\n{err}");
    assert_eq!(kiln_dirs(&scratch), Vec::<PathBuf>::new());

    // a build killed with SIGKILL while a provisioner runs in its container
    write(
        tmp.path(),
        "killed/t.pkr.hcl",
        &docker("\"touch /started\", \"sleep 300\""),
    );
    let mut child = kiln_in("killed")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let build_dir = loop {
        let found = kiln_dirs(&scratch)
            .into_iter()
            .find(|d| d.join("rootfs/started").exists());
        if let Some(d) = found {
            break d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provisioner did not start"
        );
        assert!(child.try_wait().unwrap().is_none(), "kiln ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // the container's state: kiln-run-*/state/<id> in the build's directory
    let run_dir = std::fs::read_dir(&build_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("kiln-run-")
        })
        .expect("a run directory");
    let state = run_dir.join("state");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (id, pid) = loop {
        let ids: Vec<String> = std::fs::read_dir(&state)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(id) = ids.first() {
            let o = Command::new("runc")
                .arg("--root")
                .arg(&state)
                .args(["state", id])
                .output()
                .unwrap();
            if o.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                if let Some(pid) = v["pid"].as_u64().filter(|p| *p > 0) {
                    break (id.clone(), pid as u32);
                }
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no container in {}",
            state.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        running(pid),
        "the container {id} should outlive a SIGKILLed kiln"
    );
    assert!(build_dir.exists());

    // the next build, of another template, reaps it
    write(
        tmp.path(),
        "next/t.pkr.hcl",
        "source \"null\" \"n\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"null.n\"]\n}\n",
    );
    let o = kiln_in("next").output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        err.contains(&format!(
            "Removed {} left by a killed Kiln run",
            build_dir.display()
        )),
        "{err}"
    );
    assert_eq!(kiln_dirs(&scratch), Vec::<PathBuf>::new());
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left in the scratch directory: {left:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while running(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "container process {pid} still runs"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&*scratch.to_string_lossy()),
        "a mount is left under {}",
        scratch.display()
    );
}

/// Unmounts when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "mount a tmpfs (the test runs as root)");
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Bad input names what failed and loses nothing: a provisioner that deletes `/bin/sh`, an
/// image store on a full disk (the commit), a scratch directory on a full disk (the upload).
/// (As in Packer, the shell provisioner retries a command that cannot start for
/// `start_retry_timeout`, 5 minutes by default: shortened here.)
#[test]
fn deleted_shell_and_full_disks_name_what_failed() {
    need("runc", "runc");
    need("/bin/busybox", "busybox-static");
    let tmp = tempfile::tempdir().unwrap();
    let template = |inline: &str| {
        format!(
            "source \"docker\" \"x\" {{\n  image  = \"scratch\"\n  commit = true\n}}\nbuild {{\n  sources = [\"docker.x\"]\n  provisioner \"file\" {{\n    source      = \"/bin/busybox\"\n    destination = \"/bin/sh\"\n  }}\n  provisioner \"shell\" {{\n    inline = [{inline}]\n    start_retry_timeout = \"1s\"\n  }}\n  provisioner \"shell\" {{\n    inline = [\"echo still here\"]\n    start_retry_timeout = \"1s\"\n  }}\n}}\n"
        )
    };
    let run_in = |dir: &str, scratch: &Path, store: &Path| {
        let o = kiln()
            .current_dir(tmp.path())
            .env("TMPDIR", scratch)
            .env("KILN_IMAGE_STORE", store)
            .args(["build", dir])
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
        format!("{out}\n{err}")
    };
    let empty = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect()
    };

    // the provisioner deletes /bin/sh: the next command fails as `docker exec … /bin/sh`
    // fails there (exit 126, runc's words), the script's removal first
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    write(tmp.path(), "nosh/t.pkr.hcl", &template("\"rm /bin/sh\""));
    let all = run_in("nosh", &scratch, &tmp.path().join("store"));
    assert!(
        all.contains("exit status 126: OCI runtime exec failed: exec failed: unable to start container process: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown"),
        "{all}"
    );
    assert!(!all.contains("still here"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(empty(&scratch), Vec::<PathBuf>::new());

    // the image store's disk is full when the layer is written
    let full_store = tmp.path().join("full-store");
    let _s = Tmpfs::mount(&full_store, "256k");
    write(tmp.path(), "commit/t.pkr.hcl", &template("\"echo ok\""));
    let all = run_in("commit", &scratch, &full_store);
    assert!(all.contains("commit:"), "{all}");
    assert!(all.contains("No space left on device"), "{all}");
    assert!(all.contains(&*full_store.to_string_lossy()), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(empty(&scratch), Vec::<PathBuf>::new());
    // nothing half-written in the store: no temporary blob, no image named
    let mut leftovers = vec![];
    let mut stack = vec![full_store.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                leftovers.push(e.path());
            }
        }
    }
    leftovers.retain(|p| {
        !p.ends_with("oci-layout")
            && !p.ends_with("index.json")
            && !p.ends_with("kiln-blob-sources.json")
    });
    assert!(leftovers.is_empty(), "half-written: {leftovers:?}");
    let index = std::fs::read_to_string(full_store.join("index.json")).unwrap_or_default();
    assert!(!index.contains("sha256:"), "an image was named: {index}");

    // the scratch directory's disk is full when busybox is uploaded
    let full_scratch = tmp.path().join("full-scratch");
    let _t = Tmpfs::mount(&full_scratch, "512k");
    let all = run_in("commit", &full_scratch, &tmp.path().join("store"));
    assert!(all.contains("/bin/sh"), "{all}");
    assert!(all.contains("No space left on device"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert_eq!(empty(&full_scratch), Vec::<PathBuf>::new());
}

#[test]
fn console_into_a_pipe_closed_early_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("lines.txt");
    // A regular file: line mode, one result printed per line (far more than a pipe holds).
    std::fs::write(&input, "\"a line of output\"\n".repeat(50_000)).unwrap();
    let mut child = kiln()
        .arg("console")
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"\"a line of"), "{first:?}");
    drop(out); // as `| head -c 16` does
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    // Killed by SIGPIPE, as Packer is (or done before the pipe closed).
    assert!(
        status.signal() == Some(13) || status.success(),
        "{status:?}: {err}"
    );
}

/// Output into a pipe whose reader is gone (`kiln inspect . | head -1`) ends Kiln by SIGPIPE,
/// as it ends Packer, with no panic message.
#[test]
fn a_closed_stdout_ends_kiln_by_sigpipe_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let mut vars = String::new();
    for i in 0..2000 {
        vars.push_str(&format!("variable \"v{i}\" {{\n  default = \"{i}\"\n}}\n"));
    }
    write(dir.path(), "t.pkr.hcl", &vars);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = kiln()
        .current_dir(dir.path())
        .args(["inspect", "."])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

/// Flag errors as Packer's commands report them: the command's usage, then Go's flag error
/// (on stdout, exit 1). Packer writes the error line from a goroutine that races its exit
/// (measured: missing in 13 of 36 runs), so the differential suite cannot compare these.
#[test]
fn flag_errors_follow_the_usage() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "t.pkr.hcl",
        "variable \"v\" {\n  default = 1\n}\n",
    );
    for (args, usage, error) in [
        (
            &["validate", "-var", "v", "t.pkr.hcl"][..],
            "Usage: packer validate [options] TEMPLATE",
            "invalid value \"v\" for flag -var: No '=' value in arg: v",
        ),
        (
            &["build", "-nope", "t.pkr.hcl"][..],
            "Usage: packer build [options] TEMPLATE",
            "flag provided but not defined: -nope",
        ),
        (
            &["build", "-parallel-builds=two", "t.pkr.hcl"][..],
            "Usage: packer build [options] TEMPLATE",
            "invalid value \"two\" for flag -parallel-builds: parse error",
        ),
        (
            &["inspect", "-var-file"][..],
            "Usage: packer inspect TEMPLATE",
            "flag needs an argument: -var-file",
        ),
        (
            &["console", "-config-type=yaml"][..],
            "Usage: packer console [options] [TEMPLATE]",
            "invalid value \"yaml\" for flag -config-type: yaml does not belong to configType values",
        ),
        (
            &["fmt", "-check=maybe", "."][..],
            "Usage: packer fmt [options] [TEMPLATE]",
            "invalid boolean value \"maybe\" for -check: parse error",
        ),
        (
            &["init", "-upgrade=2", "t.pkr.hcl"][..],
            "Usage: packer init [options] TEMPLATE",
            "invalid boolean value \"2\" for -upgrade: parse error",
        ),
        (
            &["plugins", "required", "-var", "x", "t.pkr.hcl"][..],
            "Usage: packer plugins required <path>",
            "invalid value \"x\" for flag -var: No '=' value in arg: x",
        ),
    ] {
        let o = run(tmp.path(), args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {out}{err}");
        assert!(out.starts_with(usage), "{args:?}: {out}");
        assert!(out.ends_with(&format!("\n{error}\n")), "{args:?}: {out}");
        assert_eq!(err, "", "{args:?}");
    }
    // Flags end at the first argument: one after the template is a second argument.
    let o = run(tmp.path(), &["validate", "t.pkr.hcl", "-var", "v=2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(shown(&o).starts_with("Usage: packer validate"));
    // `-h` prints the usage alone, exit 0.
    let o = run(tmp.path(), &["init", "-h"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(shown(&o).starts_with("Usage: packer init [options] TEMPLATE"));
}

/// `init`: built-in plugins count as installed (nothing to do, as Packer says nothing of an
/// installed plugin); any other plugin is refused with Kiln's reason, naming it (exit 1).
#[test]
fn init_counts_built_in_plugins_as_installed() {
    let tmp = tempfile::tempdir().unwrap();
    let req = |name: &str, source: &str, version: &str| {
        format!(
            "packer {{\n  required_plugins {{\n    {name} = {{\n      source  = \"{source}\"\n      version = \"{version}\"\n    }}\n  }}\n}}\n"
        )
    };
    write(
        tmp.path(),
        "ok/t.pkr.hcl",
        &format!(
            "{}{}",
            req("docker", "github.com/hashicorp/docker", ">= 1.0.0"),
            req("qemu", "github.com/hashicorp/qemu", "~> 1.1")
        ),
    );
    for args in [
        &["init", "ok"][..],
        &["init", "-upgrade", "ok"],
        &["init", "-force", "ok"],
    ] {
        let o = run(tmp.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", shown(&o));
        assert_eq!(text(&o), (String::new(), String::new()), "{args:?}");
    }
    write(
        tmp.path(),
        "amazon/t.pkr.hcl",
        &req("amazon", "github.com/hashicorp/amazon", ">= 1.0.0"),
    );
    let o = run(tmp.path(), &["init", "amazon"]);
    assert_eq!(o.status.code(), Some(1));
    let out = shown(&o);
    assert!(
        out.starts_with("Failed getting the \"github.com/hashicorp/amazon\" plugin:\nKiln does not download plugins: its components are built in"),
        "{out}"
    );
    assert!(
        out.contains("it has no github.com/hashicorp/amazon."),
        "{out}"
    );
    write(
        tmp.path(),
        "old/t.pkr.hcl",
        &req("docker", "github.com/hashicorp/docker", "< 1.0.0"),
    );
    let o = run(tmp.path(), &["init", "old"]);
    assert_eq!(o.status.code(), Some(1));
    let out = shown(&o);
    assert!(
        out.contains("its github.com/hashicorp/docker is version 1.1.4, which the constraint \"< 1.0.0\" does not accept."),
        "{out}"
    );
}

/// Runs `kiln runner --no-status` on a snapshot of `template` (one source, `null.a`), with
/// `KILN_RETRIES` and the index's earlier failures given; the child is returned running.
fn runner(dir: &Path, template: &str, retries: &str, failures: &str) -> std::process::Child {
    let snap = dir.join("snapshot");
    std::fs::create_dir_all(&snap).unwrap();
    let json = serde_json::json!({
        "template": "t",
        "fingerprint": "sha256:00",
        "files": [{"name": "template.pkr.hcl", "content": template}],
        "builds": ["null.a"],
        "onError": "cleanup",
        "runUuid": "run-1",
    });
    std::fs::write(snap.join("snapshot.json"), json.to_string()).unwrap();
    kiln()
        .args(["runner", "--no-status", "--build", "b", "--index", "0"])
        .arg("--snapshot-dir")
        .arg(&snap)
        .arg("--work-dir")
        .arg(dir.join("work"))
        .env("KILN_RETRIES", retries)
        .env("KILN_INDEX_FAILURES", failures)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A runner pod's exit code tells its Job what kind of failure it was (the Job's
/// `podFailurePolicy` acts on it): built 0; a build that failed with retries left 1 (the Job
/// counts it and runs the index again); a build that failed on its last attempt 3 (the Job
/// fails the index at once, leaving the spare attempts to failures that are not the build's);
/// a runner stopped by SIGTERM, after its cleanup, 143 (ignored: a pod deleted by hand or by
/// the Job controller is not the build's failure).
#[test]
fn the_runner_exit_code_says_how_the_job_counts_its_failure() {
    let fails = r#"source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" { inline = ["exit 7"] }
}
"#;
    let code = |template: &str, retries: &str, failures: &str| {
        let d = tempfile::tempdir().unwrap();
        let out = runner(d.path(), template, retries, failures)
            .wait_with_output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let builds = fails.replace("exit 7", "echo fine");
    assert_eq!(code(&builds, "0", "").0, Some(0));
    // No retry asked for: the first failure is final.
    let (c, out) = code(fails, "0", "");
    assert_eq!(c, Some(3), "{out}");
    assert!(
        out.contains("Script exited with non-zero exit status: 7"),
        "{out}"
    );
    // One retry: the first attempt may be run again, the second is final.
    assert_eq!(code(fails, "1", "").0, Some(1));
    assert_eq!(code(fails, "1", "0").0, Some(1));
    assert_eq!(code(fails, "1", "1").0, Some(3));
    // A Job made before KILN_RETRIES existed counts every failure itself.
    assert_eq!(code(fails, "", "").0, Some(1));

    let d = tempfile::tempdir().unwrap();
    let started = d.path().join("started");
    let slow = fails.replace("exit 7", &format!("touch {}; sleep 60", started.display()));
    let child = runner(d.path(), &slow, "0", "");
    let t0 = std::time::Instant::now();
    while !started.exists() {
        assert!(t0.elapsed().as_secs() < 60, "the provisioner never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(143), "{stdout}");
    assert!(
        stdout.contains("Cleanly cancelled builds after being interrupted."),
        "{stdout}"
    );
}
