//! What the plugin's `QemuDriver` (`driver.go`) does with the binaries, minus the VM process
//! itself: the qemu version (`Version`), running `qemu-img` (`QemuImg`) and the convert
//! step's lock retries (`step_convert_disk.go`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio_util::sync::CancellationToken;

use super::img::DiskConfig;
use crate::ui::Ui;
use crate::value::go_quote;

/// The version in `qemu -version` output, as the plugin's regexp `[\.[0-9]+]*` finds it:
/// the first run of digits, dots and `[`, with any `]` after it.
pub fn parse_version_output(out: &str) -> Option<String> {
    let start = out.find(|c: char| c.is_ascii_digit() || c == '.' || c == '[')?;
    let rest = &out[start..];
    let mut end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '['))
        .unwrap_or(rest.len());
    end += rest[end..].chars().take_while(|c| *c == ']').count();
    Some(rest[..end].to_string())
}

/// `atLeastVersion2`: the version's first number is 2 or more (go-version compares
/// numerically; 1.7.2 < 2.0 <= 7.2.19).
pub fn at_least_version_2(version: &str) -> Option<bool> {
    let major: u64 = version
        .split('.')
        .next()?
        .trim_matches(['[', ']'])
        .parse()
        .ok()?;
    Some(major >= 2)
}

/// Runs `<qemu> -version` and returns the version text.
pub async fn qemu_version(qemu: &Path) -> anyhow::Result<String> {
    let out = crate::process::output(
        tokio::process::Command::new(qemu)
            .arg("-version")
            .kill_on_drop(true),
    )
    .await
    .with_context(|| format!("Error determining qemu version: running {}", qemu.display()))?;
    if !out.status.success() {
        bail!(
            "Error determining qemu version: {} -version failed ({})",
            qemu.display(),
            out.status
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_version_output(text.trim()).with_context(|| {
        format!(
            "Error determining qemu version: No version found: {}",
            text.trim()
        )
    })
}

/// Runs `qemu-img <args>`; a failure is `QemuImg error: <stderr>` as in the plugin (which logs
/// the arguments: `Executing qemu-img: []string{…}`, on `ui`'s log). Cancelling kills it.
pub async fn run_qemu_img(
    qemu_img: &Path,
    args: &[String],
    cancel: &CancellationToken,
    ui: &Ui,
) -> anyhow::Result<()> {
    ui.log(format!(
        "Executing qemu-img: []string{{{}}}",
        args.iter()
            .map(|a| go_quote(a))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut cmd = tokio::process::Command::new(qemu_img);
    cmd.args(args)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let out = tokio::select! {
        r = crate::process::output(&mut cmd) => r.with_context(|| format!("running {} (is qemu-utils installed?)", qemu_img.display()))?,
        _ = cancel.cancelled() => bail!("qemu-img {} cancelled", args.join(" ")),
    };
    if !out.status.success() {
        bail!(
            "QemuImg error: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `stepConvertDisk`: compaction/compression with `qemu-img convert` into `<disk>.convert`,
/// then renamed over the disk; returns `false` when there is nothing to do. As the plugin's
/// `retry.Config`: while qemu still holds the image lock (the VM was just killed), 10 tries,
/// each failed one said (`Error getting file lock for conversion; retrying...`) and followed
/// by the SDK's linear backoff (1 s, doubled up to 10 s).
pub async fn convert_disk(
    disk: &DiskConfig,
    qemu_img: &Path,
    cancel: &CancellationToken,
    ui: &Ui,
) -> anyhow::Result<bool> {
    let Some((argv, target, source)) = disk.convert_command() else {
        return Ok(false);
    };
    let mut delay = Duration::from_secs(1);
    let mut last = None;
    for _ in 0..10 {
        match run_qemu_img(qemu_img, &argv, cancel, ui).await {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e) if format!("{e}").contains("Failed to get shared \"write\" lock") => {
                ui.say("Error getting file lock for conversion; retrying...");
                last = Some(e);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => bail!("converting the disk was cancelled"),
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&target);
                return Err(e.context("Error converting hard drive"));
            }
        }
    }
    if let Some(e) = last {
        let _ = std::fs::remove_file(&target);
        bail!("Exhausted retries for getting file lock: retry count exhausted. Last err: {e}");
    }
    std::fs::rename(&target, &source)
        .with_context(|| format!("Error moving converted hard drive {target} to {source}"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::{Masker, Recorder};
    use std::path::PathBuf;
    use std::sync::Arc;

    #[test]
    fn version_like_the_plugin() {
        let v = parse_version_output(
            "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright (c) 2003-2022",
        )
        .unwrap();
        assert_eq!(v, "7.2.19");
        assert_eq!(at_least_version_2(&v), Some(true));
        assert_eq!(at_least_version_2("1.7.2"), Some(false));
        assert_eq!(parse_version_output("no digits here"), None);
    }

    fn qemu_img() -> PathBuf {
        let p = PathBuf::from("/usr/bin/qemu-img");
        assert!(
            p.exists(),
            "qemu-img is missing: run scripts/install-deps.sh (installs qemu-utils)"
        );
        p
    }

    #[tokio::test]
    async fn real_qemu_version_and_qemu_img_errors() {
        let q = PathBuf::from("/usr/bin/qemu-system-x86_64");
        assert!(
            q.exists(),
            "qemu-system-x86_64 is missing: run scripts/install-deps.sh (installs qemu-system-x86)"
        );
        let v = qemu_version(&q).await.unwrap();
        assert_eq!(at_least_version_2(&v), Some(true), "{v}");
        let (ui, rec) = recording_ui();
        let e = run_qemu_img(
            &qemu_img(),
            &["info".into(), "/nonexistent/kiln.qcow2".into()],
            &CancellationToken::new(),
            &ui,
        )
        .await
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.starts_with("QemuImg error: qemu-img: Could not open '/nonexistent/kiln.qcow2'"),
            "{e}"
        );
        assert_eq!(
            rec.lines(),
            [r#"Executing qemu-img: []string{"info", "/nonexistent/kiln.qcow2"}"#]
        );
    }

    fn recording_ui() -> (Ui, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        (Ui::new(rec.clone(), Arc::new(Masker::default())), rec)
    }

    /// While another process holds the image's lock (qemu-io, as the killed VM until it is
    /// gone), the conversion is retried as the plugin's: said, then tried again 1 s later.
    #[tokio::test]
    async fn convert_retries_while_the_image_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskConfig {
            disk_compression: true,
            ..DiskConfig::qcow2(&dir.path().display().to_string(), "vm", "16M")
        };
        let cancel = CancellationToken::new();
        let (ui, rec) = recording_ui();
        for argv in disk.create_commands("") {
            run_qemu_img(&qemu_img(), &argv, &cancel, &ui)
                .await
                .unwrap();
        }
        // qemu-io keeps the image open (and its write lock) until its stdin closes.
        let mut holder = std::process::Command::new("qemu-io")
            .args(["-f", "qcow2", &disk.main_disk()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("qemu-io is missing: run scripts/install-deps.sh (installs qemu-utils)");
        let locked = std::time::Instant::now();
        while std::process::Command::new("qemu-img")
            .args(["info", &disk.main_disk()])
            .output()
            .unwrap()
            .status
            .success()
        {
            assert!(
                locked.elapsed() < Duration::from_secs(10),
                "qemu-io took no lock"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let stdin = holder.stdin.take();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            drop(stdin);
            holder.wait().unwrap()
        });
        let before = rec.lines().len();
        assert!(
            convert_disk(&disk, &qemu_img(), &cancel, &ui)
                .await
                .unwrap()
        );
        assert!(release.join().unwrap().success());
        let said: Vec<String> = rec.lines()[before..]
            .iter()
            .filter(|l| !l.starts_with("Executing qemu-img: "))
            .cloned()
            .collect();
        assert_eq!(
            said,
            ["Error getting file lock for conversion; retrying..."]
        );
        assert!(!Path::new(&format!("{}.convert", disk.main_disk())).exists());
    }

    /// Compaction with real qemu-img: a disk whose data was overwritten with zeros shrinks,
    /// keeps its content, and no `.convert` file is left.
    #[tokio::test]
    async fn convert_compacts_a_real_disk() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskConfig {
            disk_compression: true,
            ..DiskConfig::qcow2(&dir.path().display().to_string(), "vm", "64M")
        };
        let cancel = CancellationToken::new();
        let (ui, _) = recording_ui();
        for argv in disk.create_commands("") {
            run_qemu_img(&qemu_img(), &argv, &cancel, &ui)
                .await
                .unwrap();
        }
        let path = disk.main_disk();
        for cmd in [
            "write -P 0x55 0 16M",
            "write -P 0 0 12M",
            "write -P 0x61 12M 4M",
        ] {
            let st = std::process::Command::new("qemu-io")
                .args(["-f", "qcow2", "-c", cmd, &path])
                .stdout(std::process::Stdio::null())
                .status()
                .expect("qemu-io is missing: run scripts/install-deps.sh (installs qemu-utils)");
            assert!(st.success());
        }
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(
            convert_disk(&disk, &qemu_img(), &cancel, &ui)
                .await
                .unwrap()
        );
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after * 4 < before, "compaction: {before} -> {after} bytes");
        assert!(!Path::new(&format!("{path}.convert")).exists());
        // The data survived.
        let out = std::process::Command::new("qemu-io")
            .args(["-f", "qcow2", "-c", "read -P 0x61 12M 4M", &path])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("read 4194304/4194304"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Raw disks are never converted.
        let raw = DiskConfig {
            format: "raw".into(),
            ..disk
        };
        assert!(!convert_disk(&raw, &qemu_img(), &cancel, &ui).await.unwrap());
    }
}
