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
