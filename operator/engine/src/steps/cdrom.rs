//! `cd_files` / `cd_content` / `cd_label` → an ISO, as packer-plugin-sdk's
//! `commonsteps.StepCreateCD` (`step_create_cdrom.go`) and `CDConfig` (`extra_iso_config.go`):
//! files and directories are copied into a staging root (a directory keeps its own name,
//! `dir/` keeps only what is inside), `cd_content` entries are written at their paths, and the
//! first ISO tool found on `PATH` in the SDK's order (`xorriso`, `mkisofs`, `hdiutil`,
//! `oscdimg`) makes the image, labelled `cd_label` (default `packer`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use tokio_util::sync::CancellationToken;

/// `cd_files`, `cd_content`, `cd_label`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CdConfig {
    pub files: Vec<String>,
    pub content: BTreeMap<String, String>,
    pub label: Option<String>,
}

impl CdConfig {
    /// `CDConfig.Prepare`: expands globs (`*`, `?`, `[`) and checks that plain paths exist;
    /// each error names the path.
    pub fn prepare(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        let mut files = Vec::new();
        for p in &self.files {
            if p.contains(['*', '?', '[']) {
                match crate::gopath::go_glob(p) {
                    Ok(found) => files.extend(found),
                    Err(e) => errs.push(format!("Bad CD disk file '{p}': {e}")),
                }
            } else {
                if let Err(e) = std::fs::metadata(p) {
                    errs.push(format!(
                        "Bad CD disk file '{p}': {}",
                        crate::goerr::path_error("stat", Path::new(p), &e)
                    ));
                }
                files.push(p.clone());
            }
        }
        self.files = files;
        errs
    }

    pub fn enabled(&self) -> bool {
        !self.files.is_empty() || !self.content.is_empty()
    }
}

/// The ISO tools the SDK looks for, in order, with their argv
/// (`supportedCDISOCreationCommands`).
pub fn iso_command(
    tool: &str,
    path: &Path,
    label: &str,
    source: &Path,
    dest: &Path,
) -> Option<Vec<String>> {
    let p = path.display().to_string();
    let s = source.display().to_string();
    let d = dest.display().to_string();
    let l = label.to_string();
    Some(match tool {
        "xorriso" => vec![
            p,
            "-as".into(),
            "genisoimage".into(),
            "-rock".into(),
            "-joliet".into(),
            "-volid".into(),
            l,
            "-output".into(),
            d,
            s,
        ],
        "mkisofs" => vec![p, "-joliet".into(), "-volid".into(), l, "-o".into(), d, s],
        "hdiutil" => vec![
            p,
            "makehybrid".into(),
            "-o".into(),
            d,
            "-hfs".into(),
            "-joliet".into(),
            "-iso".into(),
            "-default-volume-name".into(),
            l,
            s,
        ],
        "oscdimg" => vec![
            p,
            "-j1".into(),
            "-o".into(),
            "-m".into(),
            format!("-l{l}"),
            s,
            d,
        ],
        _ => return None,
    })
}

/// The SDK's search order.
pub const ISO_TOOLS: &[&str] = &["xorriso", "mkisofs", "hdiutil", "oscdimg"];

/// The first of [`ISO_TOOLS`] on `search_path` (a `PATH`-style list).
pub fn find_iso_tool(search_path: &str) -> Option<(String, PathBuf)> {
    for tool in ISO_TOOLS {
        for dir in std::env::split_paths(search_path) {
            let cand = dir.join(tool);
            if std::fs::metadata(&cand).is_ok_and(|m| m.is_file()) {
                return Some((tool.to_string(), cand));
            }
        }
    }
    None
}

/// The ISO made for `cd_files`/`cd_content`; the file and its staging directory are removed
/// when this is dropped (the step's cleanup).
#[derive(Debug)]
pub struct CdImage {
    pub path: PathBuf,
    pub label: String,
}

impl Drop for CdImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Makes the CD as the SDK's StepCreateCD does: `Ok(None)` when there is nothing to put on
/// it. The files are gathered in `packer_to_cdrom<digits>` and the ISO written as
/// `packer<digits>.iso`, both under `tmp_dir`; the ISO tool's output is said line by line
/// (the SDK's `RunAndStream`). The staging directory goes at the end, the ISO with the
/// returned [`CdImage`].
pub async fn create_cd(
    cfg: &CdConfig,
    tmp_dir: &Path,
    cancel: &CancellationToken,
    ui: &crate::ui::Ui,
) -> anyhow::Result<Option<CdImage>> {
    if !cfg.enabled() {
        return Ok(None);
    }
    let label = cfg
        .label
        .clone()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "packer".into());
    // `tmp.File("packer*.iso")`, closed and removed: the tool makes it.
    let iso = crate::process::write_executable(tmp_dir, "packer", ".iso", b"", 0o600)
        .context("Error creating temporary file for CD")?;
    let iso = CdImage {
        path: iso.keep().context("Error creating temporary file for CD")?,
        label: label.clone(),
    };
    let _ = std::fs::remove_file(&iso.path);
    struct Staging(PathBuf);
    impl Drop for Staging {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let root = Staging(
        crate::goerr::mkdir_temp(tmp_dir, "packer_to_cdrom")
            .context("Error creating temporary file for CD")?,
    );
    for src in &cfg.files {
        add_file(&root.0, Path::new(src))
            .with_context(|| format!("Error creating temporary file for CD: {src}"))?;
    }
    for (p, content) in &cfg.content {
        let what = || format!("Error creating temporary file for CD: {p}");
        let dst = safe_join(&root.0, p).with_context(what)?;
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).with_context(what)?;
        }
        std::fs::write(&dst, content).with_context(what)?;
    }
    let path_var = std::env::var("PATH").unwrap_or_default();
    let Some((tool, tool_path)) = find_iso_tool(&path_var) else {
        // (the SDK's words; Debian: apt-get install xorriso)
        bail!(
            "could not find a supported CD ISO creation command (the supported commands are: {})",
            ISO_TOOLS.join(", ")
        );
    };
    let argv = iso_command(&tool, &tool_path, &label, &root.0, &iso.path).expect("known tool");
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let out = tokio::select! {
        r = crate::process::output(&mut cmd) => r.with_context(|| format!("running {}", argv[0]))?,
        _ = cancel.cancelled() => bail!("creating the CD was cancelled"),
    };
    for stream in [&out.stderr, &out.stdout] {
        for line in String::from_utf8_lossy(stream).lines() {
            let l = clean_output_line(line);
            if !l.is_empty() {
                ui.message(l);
            }
        }
    }
    if !out.status.success() {
        bail!("Bad exit status: {}", out.status.code().unwrap_or(1));
    }
    Ok(Some(iso))
}

/// The SDK's `cleanOutputLine`: terminal colour codes dropped, whitespace trimmed, only
/// what follows the last carriage return kept.
pub fn clean_output_line(line: &str) -> String {
    // `(?i)\x1b\[([0-9]{1,2}(;[0-9]{1,2})?)?[a|b|m|k]`, by hand.
    let b = line.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    'scan: while i < b.len() {
        if b[i] == 0x1b && b.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            let digits = |j: &mut usize| {
                let start = *j;
                while *j < b.len() && *j - start < 2 && b[*j].is_ascii_digit() {
                    *j += 1;
                }
                *j - start
            };
            if digits(&mut j) > 0 && b.get(j) == Some(&b';') {
                let k = j + 1;
                let mut k2 = k;
                if digits(&mut k2) > 0 {
                    j = k2;
                }
            }
            if let Some(c) = b.get(j)
                && matches!(c.to_ascii_lowercase(), b'a' | b'b' | b'm' | b'k' | b'|')
            {
                i = j + 1;
                continue 'scan;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    let l = String::from_utf8_lossy(&out);
    let l = l.trim();
    match l.rfind('\r') {
        Some(i) => l[i + 1..].to_string(),
        None => l.to_string(),
    }
}

/// Joins a relative `cd_content` key under `root`, refusing paths that climb out of it
/// (Packer's `filepath.Join` would follow `..`).
fn safe_join(root: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let mut out = root.to_path_buf();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                bail!("must stay inside the CD (no '..')")
            }
        }
    }
    if out == root {
        bail!("is empty");
    }
    Ok(out)
}

/// `AddFile`: a file lands at the root under its name; a directory is copied with its own
/// name (`dir`) or, written `dir/`, its contents land at the root.
fn add_file(root: &Path, src: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(src)?;
    if !meta.is_dir() {
        let name = src.file_name().context("no file name")?;
        std::fs::copy(src, root.join(name))?;
        return Ok(());
    }
    let s = src.to_string_lossy();
    let dst = if s.ends_with('/') {
        root.to_path_buf()
    } else {
        root.join(src.file_name().context("no directory name")?)
    };
    copy_tree(src, &dst)
}

fn copy_tree(src: &Path, dst: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let p = e.path();
        let t = dst.join(e.file_name());
        if std::fs::metadata(&p)?.is_dir() {
            copy_tree(&p, &t)?;
        } else {
            std::fs::copy(&p, &t)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_ui() -> crate::ui::Ui {
        crate::ui::Ui::new(
            std::sync::Arc::new(crate::ui::Recorder::default()),
            std::sync::Arc::new(crate::ui::Masker::new(Vec::<String>::new())),
        )
    }

    #[test]
    fn output_lines_cleaned_as_the_sdk_does() {
        assert_eq!(clean_output_line("  \x1b[1;31mred\x1b[0m  "), "red");
        assert_eq!(clean_output_line("10%\r50%\rdone"), "done");
        assert_eq!(clean_output_line("\x1b[Kx"), "x");
    }

    fn xorriso_list(iso: &Path) -> String {
        let out = std::process::Command::new("xorriso")
            .args(["-indev"])
            .arg(iso)
            .args(["-pvd_info", "-find", "/", "-type", "f"])
            .output()
            .expect("xorriso is missing: run scripts/install-deps.sh (installs xorriso)");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn extract(iso: &Path, inner: &str) -> String {
        let out = tempfile::tempdir().unwrap();
        let dst = out.path().join("f");
        let st = std::process::Command::new("xorriso")
            .args(["-osirrox", "on", "-indev"])
            .arg(iso)
            .args(["-extract", inner])
            .arg(&dst)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::read_to_string(dst).unwrap()
    }

    #[tokio::test]
    async fn makes_an_iso_with_files_dirs_and_content() {
        let src = tempfile::tempdir().unwrap();
        let d = src.path();
        std::fs::write(d.join("meta-data"), "instance-id: kiln\n").unwrap();
        std::fs::create_dir_all(d.join("scripts/inner")).unwrap();
        std::fs::write(d.join("scripts/a.sh"), "echo a\n").unwrap();
        std::fs::write(d.join("scripts/inner/b.sh"), "echo b\n").unwrap();
        std::fs::create_dir_all(d.join("flat")).unwrap();
        std::fs::write(d.join("flat/c.txt"), "c\n").unwrap();
        std::fs::write(d.join("x1.cfg"), "1").unwrap();
        std::fs::write(d.join("x2.cfg"), "2").unwrap();
        let mut cfg = CdConfig {
            files: vec![
                d.join("meta-data").display().to_string(),
                d.join("scripts").display().to_string(),
                format!("{}/", d.join("flat").display()),
                format!("{}/x*.cfg", d.display()),
            ],
            content: [
                ("user-data".to_string(), "#cloud-config\n".to_string()),
                ("deep/dir/f".into(), "F".into()),
            ]
            .into_iter()
            .collect(),
            label: Some("cidata".into()),
        };
        assert!(cfg.prepare().is_empty());
        assert_eq!(cfg.files.len(), 5, "glob expanded: {:?}", cfg.files);
        let tmp = tempfile::tempdir().unwrap();
        let img = create_cd(&cfg, tmp.path(), &CancellationToken::new(), &test_ui())
            .await
            .unwrap()
            .unwrap();
        let listing = xorriso_list(&img.path);
        assert!(listing.contains("Volume Id    : cidata"), "{listing}");
        for f in [
            "/meta-data",
            "/scripts/a.sh",
            "/scripts/inner/b.sh",
            "/c.txt",
            "/x1.cfg",
            "/x2.cfg",
            "/user-data",
            "/deep/dir/f",
        ] {
            assert!(
                listing.contains(&format!("'{f}'")),
                "{f} missing in {listing}"
            );
        }
        assert_eq!(extract(&img.path, "/user-data"), "#cloud-config\n");
        assert_eq!(extract(&img.path, "/scripts/inner/b.sh"), "echo b\n");
        // Only the ISO is left in the temporary directory; dropping it removes it.
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        let p = img.path.clone();
        drop(img);
        assert!(!p.exists());
    }

    #[tokio::test]
    async fn errors_name_the_path() {
        let mut cfg = CdConfig {
            files: vec!["/nonexistent/kiln-cd-file".into()],
            ..Default::default()
        };
        let errs = cfg.prepare();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("/nonexistent/kiln-cd-file"), "{errs:?}");
        let bad = CdConfig {
            content: [("../escape".to_string(), "x".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let tmp = tempfile::tempdir().unwrap();
        let e = create_cd(&bad, tmp.path(), &CancellationToken::new(), &test_ui())
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("../escape"), "{e:#}");
        assert!(
            create_cd(
                &CdConfig::default(),
                tmp.path(),
                &CancellationToken::new(),
                &test_ui()
            )
            .await
            .unwrap()
            .is_none()
        );
        // With no tool on the search path, the error lists the tools.
        assert!(find_iso_tool("/nonexistent").is_none());
        let (tool, _) = find_iso_tool(&std::env::var("PATH").unwrap())
            .expect("xorriso is missing: run scripts/install-deps.sh");
        assert_eq!(tool, "xorriso");
        assert_eq!(
            iso_command(
                "mkisofs",
                Path::new("/usr/bin/mkisofs"),
                "L",
                Path::new("/src"),
                Path::new("/o.iso")
            )
            .unwrap(),
            vec![
                "/usr/bin/mkisofs",
                "-joliet",
                "-volid",
                "L",
                "-o",
                "/o.iso",
                "/src"
            ]
        );
    }
}
