//! `floppy_files` / `floppy_dirs` / `floppy_content` / `floppy_label` → a 1.44 MB FAT12
//! floppy image, as packer-plugin-sdk v0.6.10's `commonsteps.FloppyConfig`
//! (`floppy_config.go`) and `commonsteps.StepCreateFloppy` (`step_create_floppy.go`, on
//! mitchellh/go-fs) make it; the image is written with the `fatfs` crate.
//!
//! What lands where, as the SDK does it (checked against the SDK itself):
//! - `floppy_files`: each file at the root under its base name; a directory's files, found
//!   recursively, all at the root too (flatly: the SDK's "broken on purpose"); glob patterns
//!   expanded by Go's `filepath.Glob` rules (a bad pattern matches nothing there).
//! - `floppy_dirs`: a directory copied recursively under its own name (`dir` and `dir/`
//!   alike), a file at the root; glob patterns expanded (a bad pattern is an error).
//! - `floppy_content`: each value written as a file named by the key's last element, at the
//!   root: the SDK's `AddContent` computes the key's directory relative to itself, so
//!   `sub/meta-data` lands as `/meta-data` (its documentation says the keys are paths).
//! - A name already in a directory (compared case-insensitively) is an error
//!   (`name already exists: NAME`), `floppy_content` included.
//! - The label (default `packer`) is also go-fs's OEM name, so it must be at most 8 bytes of
//!   ASCII (`OEMName must be 8 bytes or less`); it is written as given (not upper-cased) in
//!   the root directory's volume label entry and, zero-padded, in the boot sector, whose
//!   geometry is the standard 1.44 MB floppy's (512-byte sectors and clusters, 2 FATs of 9
//!   sectors, 224 root entries, media `0xF0`, 18 sectors a track, 2 heads), volume id 0.
//!
//! Where Kiln differs, on the disk only: `fatfs` gives every name a long-name entry (go-fs
//! only to names that are not upper-case 8.3 names, so `readme.txt` reads `README.TXT` from
//! Packer's floppy and `readme.txt` from Kiln's), generates its own `~N` short names, and
//! refuses names FAT cannot hold (`a:b`, empty), with an error naming them.

use crate::gopath::{self, go_glob};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use tokio_util::sync::CancellationToken;

use crate::goerr::path_error;
use crate::ui::Ui;

/// The image's size: go-fs's `Truncate(1440 * 1024)`.
pub const FLOPPY_SIZE: u64 = 1440 * 1024;

/// The label when `floppy_label` is empty.
pub const DEFAULT_LABEL: &str = "packer";

/// `floppy_files`, `floppy_dirs`, `floppy_content`, `floppy_label`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloppyConfig {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
    pub content: BTreeMap<String, String>,
    pub label: Option<String>,
}

impl FloppyConfig {
    /// `FloppyConfig.Prepare`: a path with `*`, `?` or `[` is only checked as a pattern by
    /// `filepath.Glob` (nothing needs to match), any other path must exist (`os.Stat`); the
    /// errors in the SDK's words and order, files first. Nothing is expanded here.
    pub fn prepare(&self) -> Vec<String> {
        let mut errs = Vec::new();
        for (paths, what) in [(&self.files, "file"), (&self.dirs, "directory")] {
            for p in paths {
                let err = if p.contains(['*', '?', '[']) {
                    go_glob(p).err().map(|e| e.to_string())
                } else {
                    std::fs::metadata(p)
                        .err()
                        .map(|e| path_error("stat", Path::new(p), &e))
                };
                if let Some(e) = err {
                    errs.push(format!("Bad Floppy disk {what} '{p}': {e}"));
                }
            }
        }
        errs
    }

    /// The SDK makes a floppy when any of the three lists is non-empty (even when the
    /// patterns match nothing: an empty floppy is still attached).
    pub fn enabled(&self) -> bool {
        !self.files.is_empty() || !self.dirs.is_empty() || !self.content.is_empty()
    }

    /// `floppy_label`, or `packer`.
    pub fn label(&self) -> &str {
        self.label
            .as_deref()
            .filter(|l| !l.is_empty())
            .unwrap_or(DEFAULT_LABEL)
    }
}

/// The floppy image (`floppy_path`); the file is removed when this is dropped (the step's
/// cleanup).
#[derive(Debug)]
pub struct FloppyImage {
    pub path: PathBuf,
    pub label: String,
}

impl Drop for FloppyImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `StepCreateFloppy.Run`: makes the image under `tmp_dir` (`packer*`, as the SDK's
/// `tmp.File("packer")`), saying what the SDK says on `ui`. The caller checks
/// [`FloppyConfig::enabled`] first (called anyway, this makes an empty floppy). On any
/// error, in the SDK's words where it has them, nothing is left behind.
pub async fn create_floppy(
    cfg: &FloppyConfig,
    tmp_dir: &Path,
    ui: &Ui,
    cancel: &CancellationToken,
) -> anyhow::Result<FloppyImage> {
    let cfg = cfg.clone();
    let tmp_dir = tmp_dir.to_path_buf();
    let ui = ui.clone();
    let cancel = cancel.clone();
    // fatfs and the source files are blocking I/O.
    tokio::task::spawn_blocking(move || build(&cfg, &tmp_dir, &ui, &cancel))
        .await
        .map_err(|e| anyhow!("creating the floppy: {e}"))?
        .map_err(|e| anyhow!(e))
}

type Fs = fatfs::FileSystem<std::fs::File>;

fn build(
    cfg: &FloppyConfig,
    tmp_dir: &Path,
    ui: &Ui,
    cancel: &CancellationToken,
) -> Result<FloppyImage, String> {
    let label = cfg.label().to_string();
    ui.say("Creating floppy disk...");
    // Removed on drop until the image is complete.
    let tmp = tempfile::Builder::new()
        .prefix("packer")
        .tempfile_in(tmp_dir)
        .map_err(|e| format!("Error creating temporary file for floppy: {e}"))?;
    let fs = format(tmp.as_file(), &label).map_err(|e| format!("Error creating floppy: {e}"))?;
    let mut w = FloppyWriter {
        fs: &fs,
        dirs: HashSet::new(),
        cancel,
    };

    // floppy_files: flatly, directories walked.
    ui.message("Copying files flatly from floppy_files");
    for filename in expand_files(&cfg.files) {
        w.check_cancel()?;
        let meta = std::fs::metadata(&filename).map_err(|e| {
            format!(
                "Error trying to stat : {filename} : {}",
                path_error("stat", Path::new(&filename), &e)
            )
        })?;
        let fail = |e: String| format!("Error adding file from floppy_files : {filename} : {e}");
        if meta.is_dir() {
            ui.message(format!("Copying directory: {filename}"));
            let mut found = Vec::new();
            go_walk_files(&filename, &mut found, ui).map_err(fail)?;
            for f in found {
                w.check_cancel()?;
                w.add(&f).map_err(fail)?;
            }
            continue;
        }
        ui.message(format!("Copying file: {filename}"));
        w.add(&filename).map_err(fail)?;
    }
    ui.message("Done copying files from floppy_files");

    // floppy_dirs: recursively, keeping the structure.
    ui.message("Collecting paths from floppy_dirs");
    let mut queue = Vec::new();
    for d in &cfg.dirs {
        if d.contains(['*', '?', '[']) {
            let found = go_glob(d).map_err(|e| format!("Error adding path {d} to floppy: {e}"))?;
            queue.extend(found);
        } else {
            queue.push(d.clone());
        }
    }
    ui.message(format!(
        "Resulting paths from floppy_dirs : [{}]",
        queue.join(" ")
    ));
    for src in &queue {
        w.check_cancel()?;
        ui.message(format!("Recursively copying : {src}"));
        w.add(src)
            .map_err(|e| format!("Error adding path {src} to floppy: {e}"))?;
    }
    ui.message("Done copying paths from floppy_dirs");

    // floppy_content: at the root, named by the key's last element (see the module doc).
    ui.message("Copying files from floppy_content");
    for (key, content) in &cfg.content {
        w.check_cancel()?;
        let name = key.rsplit('/').next().unwrap_or_default();
        w.add_file_from("", name, &mut content.as_bytes(), key)
            .map_err(|e| format!("Error creating file for floppy: {e}"))?;
    }
    ui.message("Done copying files from floppy_content");

    drop(w);
    fs.unmount()
        .map_err(|e| format!("Error creating floppy: {e}"))?;
    let path = tmp
        .into_temp_path()
        .keep()
        .map_err(|e| format!("Error creating floppy: {e}"))?;
    Ok(FloppyImage { path, label })
}

/// go-fs's `FormatSuperFloppy` for a 1.44 MB FAT12 image labelled `label` (also its OEM
/// name), then the filesystem opened on it.
fn format(file: &std::fs::File, label: &str) -> Result<Fs, String> {
    check_label(label)?;
    let mut f = file.try_clone().map_err(|e| e.to_string())?;
    f.set_len(FLOPPY_SIZE).map_err(|e| e.to_string())?;
    let opts = fatfs::FormatVolumeOptions::new()
        .fat_type(fatfs::FatType::Fat12)
        .bytes_per_sector(512)
        .total_sectors((FLOPPY_SIZE / 512) as u32)
        .bytes_per_cluster(512)
        .max_root_dir_entries(224)
        .fats(2)
        .media(0xF0)
        .sectors_per_track(18)
        .heads(2)
        .drive_num(0)
        .volume_id(0)
        .volume_label(label_entry(label));
    fatfs::format_volume(&mut f, opts).map_err(|e| e.to_string())?;
    // go-fs's boot sector: the label as the OEM name (bytes 3-10) and as the volume label
    // (bytes 43-53), both zero-padded.
    let mut padded = [0u8; 11];
    padded[..label.len()].copy_from_slice(label.as_bytes());
    let mut write_at = |off: u64, bytes: &[u8]| -> std::io::Result<()> {
        f.seek(SeekFrom::Start(off))?;
        f.write_all(bytes)
    };
    write_at(3, &padded[..8]).map_err(|e| e.to_string())?;
    write_at(43, &padded).map_err(|e| e.to_string())?;
    f.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    fatfs::FileSystem::new(f, fatfs::FsOptions::new()).map_err(|e| e.to_string())
}

/// go-fs's checks of the OEM name (`BootSectorCommon.Bytes`), which is the label: at most
/// 8 bytes, ASCII only; its error texts.
fn check_label(label: &str) -> Result<(), String> {
    if label.len() > 8 {
        return Err("OEMName must be 8 bytes or less".into());
    }
    if let Some(c) = label.chars().find(|c| !c.is_ascii()) {
        // Go's %#U: `U+00E9 'é'`, the character only when printable.
        let shown = if c.is_control() || c.is_whitespace() {
            format!("U+{:04X}", c as u32)
        } else {
            format!("U+{:04X} '{c}'", c as u32)
        };
        return Err(format!(
            "{shown} in OEM name not a valid ASCII char. Must be ASCII."
        ));
    }
    Ok(())
}

/// The root directory's volume label entry name, as go-fs writes it
/// (`shortNameEntryValue(label + ".")`): the part before the first dot padded to 8, the
/// next part padded to 3, case kept.
fn label_entry(label: &str) -> [u8; 11] {
    let with_dot = format!("{label}.");
    let mut parts = with_dot.split('.');
    let name = parts.next().unwrap_or_default();
    let ext = parts.next().unwrap_or_default();
    let value = format!("{name:<8}{ext:<3}");
    let mut out = [b' '; 11];
    out.copy_from_slice(&value.as_bytes()[..11]);
    out
}

/// `globFiles`: `floppy_files` with patterns expanded; a bad pattern matches nothing.
fn expand_files(files: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        if f.contains(['*', '?', '[']) {
            out.extend(go_glob(f).unwrap_or_default());
        } else {
            out.push(f.clone());
        }
    }
    out
}

/// `filepath.Walk(root, crawlDirectory)`: every path under `root` that is not a directory
/// (by `Lstat`, so a symbolic link is one), in Walk's order, each said as it is found.
fn go_walk_files(root: &str, out: &mut Vec<String>, ui: &Ui) -> Result<(), String> {
    let meta =
        std::fs::symlink_metadata(root).map_err(|e| path_error("lstat", Path::new(root), &e))?;
    if !meta.is_dir() {
        ui.message(format!("Adding file: {root}"));
        out.push(root.to_string());
        return Ok(());
    }
    for name in read_dir_names(root)? {
        go_walk_files(&gopath::join(root, &name), out, ui)?;
    }
    Ok(())
}

/// `readDirNames`: the names in `dir`, sorted.
fn read_dir_names(dir: &str) -> Result<Vec<String>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| path_error("open", Path::new(dir), &e))?;
    let mut names = Vec::new();
    for e in rd {
        let e = e.map_err(|e| path_error("readdirent", Path::new(dir), &e))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The image being filled: go-fs's directory cache (`fsDirectoryCache`, the directories
/// made so far by path) and the `Add` / `AddContent` of the step.
struct FloppyWriter<'a> {
    fs: &'a Fs,
    dirs: HashSet<String>,
    cancel: &'a CancellationToken,
}

impl<'a> FloppyWriter<'a> {
    fn check_cancel(&self) -> Result<(), String> {
        if self.cancel.is_cancelled() {
            return Err("creating the floppy was cancelled".into());
        }
        Ok(())
    }

    /// `StepCreateFloppy.Add`: a file at the root under its base name; a directory walked,
    /// under its own name, its structure kept.
    fn add(&mut self, src: &str) -> Result<(), String> {
        let meta = std::fs::metadata(src).map_err(|e| {
            format!(
                "Error adding path to floppy: {}",
                path_error("stat", Path::new(src), &e)
            )
        })?;
        if !meta.is_dir() {
            return self.copy_file("", &gopath::basename(src), src);
        }
        // The directory's path relative to its parent: its own name (none for `/`).
        let abs = go_abs(src);
        let rel = if abs == "/" {
            String::new()
        } else {
            gopath::basename(&abs)
        };
        self.walk(src, &rel)
    }

    /// `filepath.Walk(src, visit)`: directories made (`dircache`), files copied into them.
    fn walk(&mut self, path: &str, rel: &str) -> Result<(), String> {
        self.check_cancel()?;
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| path_error("lstat", Path::new(path), &e))?;
        if meta.is_dir() {
            self.dircache(rel)?;
            for name in read_dir_names(path)? {
                let child_rel = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                self.walk(&gopath::join(path, &name), &child_rel)?;
            }
            return Ok(());
        }
        let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        self.copy_file(dir, &gopath::basename(path), path)
    }

    /// Copies the file at `src` into the directory `dir` as `name`.
    fn copy_file(&mut self, dir: &str, name: &str, src: &str) -> Result<(), String> {
        let mut input =
            std::fs::File::open(src).map_err(|e| path_error("open", Path::new(src), &e))?;
        self.add_file_from(dir, name, &mut input, src)
    }

    /// `AddFile` + `io.Copy`: a new file `name` in `dir` (`""` is the root) with what `input`
    /// holds; `what` names the source in errors.
    fn add_file_from(
        &mut self,
        dir: &str,
        name: &str,
        input: &mut dyn Read,
        what: &str,
    ) -> Result<(), String> {
        self.dircache(dir)?;
        let name = name.trim();
        let d = self.open_dir(dir)?;
        self.check_free(&d, name)?;
        let mut file = d
            .create_file(name)
            .map_err(|e| format!("cannot create {name:?} on the floppy ({what}): {e}"))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(path_error("read", Path::new(what), &e)),
            };
            file.write_all(&buf[..n]).map_err(|e| {
                format!("write {what}: {e} (the floppy holds {FLOPPY_SIZE} bytes, FAT included)")
            })?;
        }
        file.flush().map_err(|e| format!("write {what}: {e}"))?;
        Ok(())
    }

    fn open_dir(&self, dir: &str) -> Result<fatfs::Dir<'a, std::fs::File>, String> {
        let root = self.fs.root_dir();
        if dir.is_empty() {
            return Ok(root);
        }
        root.open_dir(dir)
            .map_err(|e| format!("cannot open {dir:?} on the floppy: {e}"))
    }

    /// go-fs's `addEntry` check: no entry of that name (case-insensitively) in `d`.
    fn check_free(&self, d: &fatfs::Dir<'_, std::fs::File>, name: &str) -> Result<(), String> {
        let upper = name.to_uppercase();
        for e in d.iter() {
            let e = e.map_err(|e| format!("reading the floppy: {e}"))?;
            if e.file_name().to_uppercase() == upper {
                return Err(format!("name already exists: {name}"));
            }
        }
        Ok(())
    }

    /// `fsDirectoryCache`: the directory at `path` (`/`-separated, `""` the root), made with
    /// its parents unless made before (by path; a directory of that name made otherwise,
    /// or a file, is `name already exists`).
    fn dircache(&mut self, path: &str) -> Result<(), String> {
        let path = if path.is_empty() {
            String::new()
        } else {
            gopath::clean(path)
        };
        if path.is_empty() || self.dirs.contains(&path) {
            return Ok(());
        }
        let comps: Vec<&str> = path.split('/').collect();
        for i in 1..=comps.len() {
            let sub = comps[..i].join("/");
            if self.dirs.contains(&sub) {
                continue;
            }
            let parent = comps[..i - 1].join("/");
            let name = comps[i - 1].trim();
            let d = self.open_dir(&parent)?;
            self.check_free(&d, name)?;
            d.create_dir(name)
                .map_err(|e| format!("cannot create the directory {sub:?} on the floppy: {e}"))?;
            self.dirs.insert(sub);
        }
        Ok(())
    }
}

// Go's path handling (Unix), for the SDK's messages and its directory names.

/// `filepath.Abs`: joined to the working directory, cleaned (no symbolic links resolved).
fn go_abs(p: &str) -> String {
    if p.starts_with('/') {
        return gopath::clean(p);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "/".into());
    gopath::join(&cwd, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::{Masker, Recorder};
    use std::sync::Arc;

    const MTOOLS_MISSING: &str =
        "mtools is missing (mdir, mtype, minfo): run scripts/install-deps.sh (installs mtools)";

    /// An mtools command on `img`: its status, stdout and stderr; fails the test when
    /// mtools is not installed.
    fn mtool_run(tool: &str, args: &[&str], img: &Path) -> (bool, String, String) {
        let out = std::process::Command::new(tool)
            .arg("-i")
            .arg(img)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{MTOOLS_MISSING}: {tool}: {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn mtool(tool: &str, args: &[&str], img: &Path) -> String {
        let (ok, out, err) = mtool_run(tool, args, img);
        assert!(ok, "{tool} {args:?} failed: {err}");
        out
    }

    /// The long names `mdir -/ -b` lists (`::/dir/name`), sorted.
    fn listing(img: &Path) -> Vec<String> {
        let (ok, out, err) = mtool_run("mdir", &["-/", "-b", "::"], img);
        // An empty root: mdir -b says `File "::" not found` and fails (Packer's floppy too).
        if !ok && out.is_empty() && err.contains("not found") {
            return Vec::new();
        }
        assert!(ok, "mdir failed: {err}");
        let mut v: Vec<String> = out
            .lines()
            .map(|l| l.trim_end_matches('/').to_string())
            .filter(|l| !l.is_empty())
            .collect();
        v.sort();
        v
    }

    fn recorder_ui() -> (Ui, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        let ui = Ui::new(rec.clone(), Arc::new(Masker::new(Vec::<String>::new())));
        (ui, rec)
    }

    fn s(p: &Path) -> String {
        p.display().to_string()
    }

    #[tokio::test]
    async fn makes_a_floppy_with_files_dirs_and_content() {
        let src = tempfile::tempdir().unwrap();
        let d = src.path();
        std::fs::write(d.join("Autounattend.xml"), "<unattend/>\n").unwrap();
        std::fs::create_dir_all(d.join("flat/deeper")).unwrap();
        std::fs::write(d.join("flat/f1.txt"), "f1\n").unwrap();
        std::fs::write(d.join("flat/deeper/f2.txt"), "f2\n").unwrap();
        std::fs::write(d.join("x1.cfg"), "1").unwrap();
        std::fs::write(d.join("x2.cfg"), "2").unwrap();
        std::fs::create_dir_all(d.join("drivers/net/inf")).unwrap();
        std::fs::write(d.join("drivers/readme.txt"), "drivers\n").unwrap();
        std::fs::write(d.join("drivers/net/inf/e1000.inf"), "[Version]\n").unwrap();
        std::fs::create_dir_all(d.join("more/scripts")).unwrap();
        std::fs::write(d.join("more/scripts/run.cmd"), "echo run\r\n").unwrap();
        let cfg = FloppyConfig {
            files: vec![
                s(&d.join("Autounattend.xml")),
                s(&d.join("flat")),
                format!("{}/x?.cfg", d.display()),
            ],
            dirs: vec![
                format!("{}/", d.join("drivers").display()),
                format!("{}/mor*", d.display()),
            ],
            content: [
                ("user-data".to_string(), "#cloud-config\n".to_string()),
                ("sub/meta-data".into(), "instance-id: kiln\n".into()),
            ]
            .into_iter()
            .collect(),
            label: Some("cidata".into()),
        };
        assert!(cfg.enabled());
        assert_eq!(cfg.prepare(), Vec::<String>::new());
        let tmp = tempfile::tempdir().unwrap();
        let (ui, rec) = recorder_ui();
        let img = create_floppy(&cfg, tmp.path(), &ui, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(std::fs::metadata(&img.path).unwrap().len(), 1_474_560);
        assert!(
            img.path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("packer")
        );
        // What lands where: floppy_files flatly (a directory's files found recursively),
        // floppy_dirs with their structure under their own names, floppy_content at the root.
        assert_eq!(
            listing(&img.path),
            [
                "::/Autounattend.xml",
                "::/drivers",
                "::/drivers/net",
                "::/drivers/net/inf",
                "::/drivers/net/inf/e1000.inf",
                "::/drivers/readme.txt",
                "::/f1.txt",
                "::/f2.txt",
                "::/meta-data",
                "::/more",
                "::/more/scripts",
                "::/more/scripts/run.cmd",
                "::/user-data",
                "::/x1.cfg",
                "::/x2.cfg",
            ]
        );
        let read = |p: &str| mtool("mtype", &[p], &img.path);
        assert_eq!(read("::/Autounattend.xml"), "<unattend/>\n");
        assert_eq!(read("::/f2.txt"), "f2\n");
        assert_eq!(read("::/x2.cfg"), "2");
        assert_eq!(read("::/drivers/net/inf/e1000.inf"), "[Version]\n");
        assert_eq!(read("::/more/scripts/run.cmd"), "echo run\r\n");
        assert_eq!(read("::/user-data"), "#cloud-config\n");
        assert_eq!(read("::/meta-data"), "instance-id: kiln\n");
        // The label, as given, in the root directory; the boot sector as go-fs writes it.
        assert_eq!(
            mtool("mlabel", &["-s", "::"], &img.path).trim_end(),
            " Volume label is cidata"
        );
        let info = mtool("minfo", &["::"], &img.path);
        for want in [
            "banner:\"cidata\"",
            "sector size: 512 bytes",
            "cluster size: 1 sectors",
            "reserved (boot) sectors: 1",
            "fats: 2",
            "max available root directory slots: 224",
            "small size: 2880 sectors",
            "media descriptor byte: 0xf0",
            "sectors per fat: 9",
            "sectors per track: 18",
            "heads: 2",
            "physical drive id: 0x0",
            "serial number: 00000000",
            "disk type=\"FAT12   \"",
        ] {
            assert!(info.contains(want), "{want:?} not in\n{info}");
        }
        let d = s(d);
        assert_eq!(
            rec.lines(),
            [
                "Creating floppy disk...".to_string(),
                "Copying files flatly from floppy_files".into(),
                format!("Copying file: {d}/Autounattend.xml"),
                format!("Copying directory: {d}/flat"),
                format!("Adding file: {d}/flat/deeper/f2.txt"),
                format!("Adding file: {d}/flat/f1.txt"),
                format!("Copying file: {d}/x1.cfg"),
                format!("Copying file: {d}/x2.cfg"),
                "Done copying files from floppy_files".into(),
                "Collecting paths from floppy_dirs".into(),
                format!("Resulting paths from floppy_dirs : [{d}/drivers/ {d}/more]"),
                format!("Recursively copying : {d}/drivers/"),
                format!("Recursively copying : {d}/more"),
                "Done copying paths from floppy_dirs".into(),
                "Copying files from floppy_content".into(),
                "Done copying files from floppy_content".into(),
            ]
        );
        // Only the image is in the temporary directory; dropping it removes it.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
        let p = img.path.clone();
        drop(img);
        assert!(!p.exists());
    }

    #[tokio::test]
    async fn default_label_and_an_empty_floppy() {
        let tmp = tempfile::tempdir().unwrap();
        let (ui, rec) = recorder_ui();
        // A pattern that matches nothing still makes a floppy (as the SDK does).
        let cfg = FloppyConfig {
            files: vec![format!("{}/nothing-*", tmp.path().display())],
            ..Default::default()
        };
        assert!(cfg.enabled());
        assert!(!FloppyConfig::default().enabled());
        let img = create_floppy(&cfg, tmp.path(), &ui, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(img.label, "packer");
        assert_eq!(
            mtool("mlabel", &["-s", "::"], &img.path).trim_end(),
            " Volume label is packer"
        );
        assert!(listing(&img.path).is_empty());
        assert!(mtool("mdir", &["::"], &img.path).contains("No files"));
        assert!(
            rec.lines()
                .contains(&"Resulting paths from floppy_dirs : []".to_string())
        );
    }

    /// Runs `cfg` expecting an error; checks nothing is left in the temporary directory.
    async fn fails(cfg: &FloppyConfig) -> String {
        let tmp = tempfile::tempdir().unwrap();
        let (ui, _) = recorder_ui();
        let e = create_floppy(cfg, tmp.path(), &ui, &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "a partial image was left behind"
        );
        format!("{e:#}")
    }

    #[tokio::test]
    async fn errors_name_what_failed_and_leave_nothing() {
        let src = tempfile::tempdir().unwrap();
        let d = src.path();
        let missing = s(&d.join("missing.cfg"));
        let e = fails(&FloppyConfig {
            files: vec![missing.clone()],
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            format!("Error trying to stat : {missing} : stat {missing}: no such file or directory")
        );
        let nodir = s(&d.join("nodir"));
        let e = fails(&FloppyConfig {
            dirs: vec![nodir.clone()],
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            format!(
                "Error adding path {nodir} to floppy: Error adding path to floppy: stat {nodir}: no such file or directory"
            )
        );
        let bad = format!("{}/[", d.display());
        let e = fails(&FloppyConfig {
            dirs: vec![bad.clone()],
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            format!("Error adding path {bad} to floppy: syntax error in pattern")
        );
        // Names already there (case-insensitively): the SDK's go-fs refuses them, content too.
        std::fs::write(d.join("a.txt"), "a").unwrap();
        let a = s(&d.join("a.txt"));
        let e = fails(&FloppyConfig {
            files: vec![a.clone(), a.clone()],
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            format!("Error adding file from floppy_files : {a} : name already exists: a.txt")
        );
        let e = fails(&FloppyConfig {
            files: vec![a.clone()],
            content: [("A.TXT".to_string(), "x".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            "Error creating file for floppy: name already exists: A.TXT"
        );
        // The label is go-fs's OEM name too: 8 bytes of ASCII at most.
        let e = fails(&FloppyConfig {
            files: vec![a.clone()],
            label: Some("abcdefghi".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(e, "Error creating floppy: OEMName must be 8 bytes or less");
        let e = fails(&FloppyConfig {
            files: vec![a.clone()],
            label: Some("é".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(
            e,
            "Error creating floppy: U+00E9 'é' in OEM name not a valid ASCII char. Must be ASCII."
        );
        // More than a floppy holds.
        let big = d.join("big.bin");
        std::fs::write(&big, vec![0u8; 1_500_000]).unwrap();
        let e = fails(&FloppyConfig {
            files: vec![s(&big)],
            ..Default::default()
        })
        .await;
        assert!(
            e.starts_with(&format!(
                "Error adding file from floppy_files : {} : write {}",
                big.display(),
                big.display()
            )),
            "{e}"
        );
    }

    #[test]
    fn prepare_reports_as_the_sdk() {
        let src = tempfile::tempdir().unwrap();
        let d = src.path();
        std::fs::write(d.join("ok.cfg"), "").unwrap();
        let ok = s(&d.join("ok.cfg"));
        let cfg = FloppyConfig {
            files: vec![
                "kiln-missing-floppy.cfg".into(),
                ok.clone(),
                format!("{}/[", d.display()),
                format!("{}/none-*", d.display()),
                format!("{ok}/"),
            ],
            dirs: vec![
                s(&d.join("nodir")),
                "[-]".into(),
                s(d),
                format!("{}/*", d.display()),
            ],
            ..Default::default()
        };
        let d = s(d);
        assert_eq!(
            cfg.prepare(),
            [
                "Bad Floppy disk file 'kiln-missing-floppy.cfg': stat kiln-missing-floppy.cfg: no such file or directory".to_string(),
                format!("Bad Floppy disk file '{d}/[': syntax error in pattern"),
                format!("Bad Floppy disk file '{ok}/': stat {ok}/: not a directory"),
                format!("Bad Floppy disk directory '{d}/nodir': stat {d}/nodir: no such file or directory"),
                "Bad Floppy disk directory '[-]': syntax error in pattern".into(),
            ]
        );
        // Nothing is expanded by prepare.
        assert_eq!(cfg.files.len(), 5);
    }

    #[test]
    fn label_entry_and_check() {
        assert_eq!(&label_entry("packer"), b"packer     ");
        assert_eq!(&label_entry("a.bcdef"), b"a       bcd");
        assert_eq!(&label_entry("CONFIG-2"), b"CONFIG-2   ");
        assert!(check_label("CONFIG-2").is_ok());
        assert_eq!(
            check_label("\u{a0}").unwrap_err(),
            "U+00A0 in OEM name not a valid ASCII char. Must be ASCII."
        );
    }
}
