//! Go's error texts for what Packer's plugins report from the standard library (`os`,
//! `syscall`), so Kiln's messages read as theirs.

use std::path::Path;

/// Go's `*fs.PathError` text for an `os` call on `path` that failed with `e`
/// (`stat /x: no such file or directory`).
pub fn path_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), errno_text(e))
}

/// Go's text of an OS error (`syscall.Errno`'s): Rust's `io::Error` without its
/// `(os error N)` suffix, the first letter lower-case as Go's table has it.
pub fn errno_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let t = e.to_string();
            let t = t.split(" (os error").next().unwrap_or(&t).to_string();
            let mut c = t.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => t,
            }
        }
    }
}

/// Go's `exec.LookPath(file)` on Unix: a name with a slash is checked as it is, another is
/// searched for in `$PATH` (an empty entry being `.`); the error is its `*exec.Error` text
/// (`exec: "qemu-foo": executable file not found in $PATH`, `exec: "/x/qemu": stat /x/qemu:
/// no such file or directory`).
pub fn look_path(file: &str) -> Result<std::path::PathBuf, String> {
    let quoted = serde_json::to_string(file).unwrap_or_else(|_| format!("{file:?}"));
    if file.contains('/') {
        return find_executable(Path::new(file))
            .map(|()| std::path::PathBuf::from(file))
            .map_err(|e| format!("exec: {quoted}: {e}"));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(file);
        if find_executable(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "exec: {quoted}: executable file not found in $PATH"
    ))
}

/// Go's `findExecutable`: the file exists, is no directory and may be executed.
fn find_executable(file: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::metadata(file).map_err(|e| path_error("stat", file, &e))?;
    if m.is_dir() {
        return Err("is a directory".into());
    }
    match nix::unistd::access(file, nix::unistd::AccessFlags::X_OK) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM)
            if m.permissions().mode() & 0o111 != 0 =>
        {
            Ok(())
        }
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM) => {
            Err("permission denied".into())
        }
        Err(e) => Err(e.desc().to_lowercase()),
    }
}

/// Go's `os.MkdirTemp(dir, prefix)`: `<prefix><random decimal digits>`, mode 0700.
pub fn mkdir_temp(dir: &Path, prefix: &str) -> std::io::Result<std::path::PathBuf> {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    let mut last = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
    for _ in 0..10_000 {
        let d = dir.join(format!("{prefix}{}", rng.random::<u32>()));
        let mut b = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        match b.create(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Go's `os.MkdirAll(path, mode)`, with its error: the `*fs.PathError` of the first
/// directory it could not make (`mkdir s.sh: not a directory` when a file is in the way).
pub fn mkdir_all(path: &Path, mode: u32) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => return Err(format!("mkdir {}: not a directory", path.display())),
        Err(_) => {}
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        mkdir_all(parent, mode)?;
    }
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, mode);
    match b.create(path) {
        Ok(()) => Ok(()),
        // (Made meanwhile by someone else: fine, as Go's Lstat check.)
        Err(_) if path.is_dir() => Ok(()),
        Err(e) => Err(path_error("mkdir", path, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mkdir_all_fails_as_go_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(
            mkdir_all(&file, 0o755).unwrap_err(),
            format!("mkdir {}: not a directory", file.display())
        );
        // Below a file: the file is the directory that could not be made.
        assert_eq!(
            mkdir_all(&file.join("a/b"), 0o755).unwrap_err(),
            format!("mkdir {}: not a directory", file.display())
        );
        let deep = dir.path().join("x/y/z");
        mkdir_all(&deep, 0o755).unwrap();
        assert!(deep.is_dir());
        mkdir_all(&deep, 0o755).unwrap();
    }
}
