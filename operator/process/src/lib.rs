//! Child processes and the files they execute: every child the engine starts is spawned
//! here, and every file the engine writes to execute it afterwards is written here.
//!
//! # The race this prevents
//!
//! Linux refuses to `execve` a file that some process holds open for writing (`ETXTBSY`,
//! "Text file busy", exit 126 from `/bin/sh`). Descriptors are opened close-on-exec, but a
//! child inherits every descriptor of its parent at `fork` and keeps them until its own
//! `exec`. So with parallel builds in one process, this interleaving fails:
//!
//! 1. build A's thread creates `/tmp/packer-shellXXXX` and writes the script into it;
//! 2. build B's thread forks a child to run its own step: the child inherits A's write
//!    descriptor;
//! 3. A closes its descriptor and runs `/bin/sh -c /tmp/packer-shellXXXX`;
//! 4. B's child has not reached `exec` yet (on a loaded machine this takes milliseconds):
//!    the script still has a writer, and A's `exec` fails with `ETXTBSY`.
//!
//! # The fix
//!
//! One process-wide reader/writer lock, [`FORK_LOCK`], as Go's `syscall.ForkLock`:
//!
//! - [`spawn`] (and [`spawn_std`]) holds it **exclusively** across `Command::spawn`. Rust's
//!   `spawn` returns only once the child has called `exec` (or failed to), so when the lock
//!   is released no child of this process sits between fork and exec any more, and the
//!   close-on-exec descriptors it inherited are closed.
//! - [`write_executable`] holds it **shared** from the file's creation until its descriptor
//!   is closed: no fork can happen while the file is open for writing, so no child can
//!   inherit that descriptor. Writes do not wait for each other.
//! - A file written elsewhere that may be executed later (a download whose mode has an
//!   execute bit) calls [`executable_closed`] after closing it: taking the lock once waits
//!   out any spawn that was forking while the file was open, whose child may hold the
//!   descriptor until its `exec`. Long downloads thus never hold spawns back.
//!
//! Nothing else in the engine may call `Command::spawn` (or `output`, `status`) directly: a
//! child forked outside the lock would reopen the race. Use [`spawn`], [`spawn_std`],
//! [`output`], [`status`] or [`status_std`]. This is a crate of its own so that every crate
//! that starts children in the same process (the engine, `kiln-oci`'s runc/crun runner) takes
//! the same lock; the engine re-exports it as `kiln_engine::process`.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Held exclusively while a child is forked and exec'd; shared while a file that will be
/// executed is open for writing.
pub static FORK_LOCK: RwLock<()> = RwLock::new(());

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    // The lock guards no data: a panic while it was held leaves nothing inconsistent.
    FORK_LOCK.write().unwrap_or_else(|e| e.into_inner())
}

fn shared() -> RwLockReadGuard<'static, ()> {
    FORK_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// Spawns a child (tokio) with no file being written for execution open meanwhile.
pub fn spawn(cmd: &mut tokio::process::Command) -> io::Result<tokio::process::Child> {
    let _guard = exclusive();
    cmd.spawn()
}

/// Tokio's `Command::output` through [`spawn`]: stdin from `/dev/null`, stdout and stderr
/// collected. Dropping the future kills the child when the command has `kill_on_drop`.
pub async fn output(cmd: &mut tokio::process::Command) -> io::Result<std::process::Output> {
    use std::process::Stdio;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    spawn(cmd)?.wait_with_output().await
}

/// Tokio's `Command::status` through [`spawn`].
pub async fn status(cmd: &mut tokio::process::Command) -> io::Result<std::process::ExitStatus> {
    spawn(cmd)?.wait().await
}

/// `std::process::Command::status` through [`spawn_std`].
pub fn status_std(cmd: &mut std::process::Command) -> io::Result<std::process::ExitStatus> {
    spawn_std(cmd)?.wait()
}

/// [`spawn`] for a `std::process::Command`.
pub fn spawn_std(cmd: &mut std::process::Command) -> io::Result<std::process::Child> {
    let _guard = exclusive();
    cmd.spawn()
}

/// Writes `contents` to a new temporary file with `mode`, closes it, and returns its path
/// (deleted when dropped). No child can be forked while it is open, so it can be executed at
/// once. The name is Go's `os.CreateTemp`'s (Packer's `/tmp/packer-shell1234567890`): the
/// prefix, a random 32-bit number in decimal, the suffix.
pub fn write_executable(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    contents: &[u8],
    mode: u32,
) -> io::Result<tempfile::TempPath> {
    let _guard = shared();
    let mut tries = 0;
    let mut f = loop {
        use std::hash::BuildHasher;
        let n = std::collections::hash_map::RandomState::new().hash_one(tries) as u32;
        match tempfile::Builder::new()
            .prefix(&format!("{prefix}{n}"))
            .suffix(suffix)
            .rand_bytes(0)
            .tempfile_in(dir)
        {
            // Go gives up after 10 000 names that exist.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 10_000 => tries += 1,
            r => break r?,
        }
    };
    f.write_all(contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    // Closes the descriptor while the lock is still held.
    Ok(f.into_temp_path())
}

/// Call after closing a file written outside [`write_executable`] that may be executed:
/// returns once every child forked while it was open has exec'd (and so closed its copy of
/// the descriptor).
pub fn executable_closed() {
    drop(shared());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_scripts_run_and_spawns_exclude_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_executable(dir.path(), "t", ".sh", b"#!/bin/sh\nexit 3\n", 0o700).unwrap();
        // Named as Go's os.CreateTemp names: prefix, decimal digits, suffix.
        let name = p.file_name().unwrap().to_str().unwrap();
        let digits = &name[1..name.len() - 3];
        assert!(
            name.starts_with('t') && name.ends_with(".sh") && !digits.is_empty(),
            "{name}"
        );
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{name}");
        let other = write_executable(dir.path(), "t", ".sh", b"", 0o700).unwrap();
        assert_ne!(&*other, &*p);
        assert!(p.to_string_lossy().ends_with(".sh"));
        let status = spawn_std(&mut std::process::Command::new(&*p))
            .unwrap()
            .wait()
            .unwrap();
        assert_eq!(status.code(), Some(3));
        // While a write holds the lock shared, a spawn cannot take it.
        let held = shared();
        assert!(FORK_LOCK.try_write().is_err());
        drop(held);
    }
}
