//! Transfers over SFTP (`ssh_file_transfer_method = "sftp"`), with russh-sftp. Files stream
//! through bounded buffers; modes are set explicitly (the remote umask does not apply).

use std::path::Path;

use anyhow::{Context, anyhow};
use globset::GlobSet;
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::client::SshClient;
use super::scp::{CHUNK, Walk, rel_join, trim_dir};
use crate::communicator::Verbatim;

async fn session(c: &SshClient) -> anyhow::Result<SftpSession> {
    let ch = c.channel().await?;
    ch.request_subsystem(true, "sftp")
        .await
        .context("requesting the sftp subsystem")?;
    let cfg = russh_sftp::client::Config {
        // Generous: a slow disk on the far side must not fail a transfer.
        request_timeout_secs: 300,
        ..Default::default()
    };
    SftpSession::new_with_config(ch.into_stream(), cfg)
        .await
        .map_err(|e| anyhow!("starting sftp: {e}"))
}

/// A failed open as pkg/sftp (Packer's SFTP client) reports it: its `normaliseError`
/// (`file does not exist`, `permission denied`, `EOF`), else its `StatusError` text
/// (`sftp: "Failure" (SSH_FX_FAILURE)`); not a status: Kiln's words with `what`.
fn open_error(e: russh_sftp::client::error::Error, what: String) -> anyhow::Error {
    use russh_sftp::protocol::StatusCode as C;
    let russh_sftp::client::error::Error::Status(st) = &e else {
        return anyhow!("{what}: {e}");
    };
    let name = match st.status_code {
        C::NoSuchFile => return Verbatim("file does not exist".into()).into(),
        C::PermissionDenied => return Verbatim("permission denied".into()).into(),
        C::Eof => return Verbatim("EOF".into()).into(),
        C::Ok => "SSH_FX_OK",
        C::Failure => "SSH_FX_FAILURE",
        C::BadMessage => "SSH_FX_BAD_MESSAGE",
        C::NoConnection => "SSH_FX_NO_CONNECTION",
        C::ConnectionLost => "SSH_FX_CONNECTION_LOST",
        C::OpUnsupported => "SSH_FX_OP_UNSUPPORTED",
    };
    Verbatim(format!(
        "sftp: {} ({name})",
        kiln_hcl::value::go_quote(&st.error_message)
    ))
    .into()
}

fn mode_attrs(mode: u32) -> FileAttributes {
    FileAttributes {
        permissions: Some(mode & 0o7777),
        ..FileAttributes::empty()
    }
}

async fn put(
    s: &SftpSession,
    dst: &str,
    src: &mut (dyn AsyncRead + Send + Unpin),
    mode: u32,
) -> anyhow::Result<()> {
    let mut f = s
        .open_with_flags_and_attributes(
            dst,
            OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE,
            mode_attrs(mode),
        )
        .await
        .map_err(|e| open_error(e, format!("sftp: creating {dst}")))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = src.read(&mut buf).await.context("reading local data")?;
        if n == 0 {
            break;
        }
        f.write_all(&buf[..n])
            .await
            .map_err(|e| anyhow!("sftp: writing {dst}: {e}"))?;
    }
    f.shutdown()
        .await
        .map_err(|e| anyhow!("sftp: closing {dst}: {e}"))?;
    s.set_metadata(dst, mode_attrs(mode))
        .await
        .map_err(|e| anyhow!("sftp: setting the mode of {dst}: {e}"))?;
    Ok(())
}

pub(crate) async fn upload(
    c: &SshClient,
    dst: &str,
    src: &mut (dyn AsyncRead + Send + Unpin),
    mode: u32,
) -> anyhow::Result<()> {
    let s = session(c).await?;
    let r = put(&s, dst, src, mode).await;
    let _ = s.close().await;
    r
}

async fn get(
    s: &SftpSession,
    src: &str,
    dst: &mut (dyn AsyncWrite + Send + Unpin),
) -> anyhow::Result<()> {
    let mut f = s
        .open(src)
        .await
        .map_err(|e| open_error(e, format!("sftp: opening {src}")))?;
    let mut buf = vec![0u8; CHUNK];
    let mut dst = tokio::io::BufWriter::with_capacity(CHUNK, dst);
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(|e| anyhow!("sftp: reading {src}: {e}"))?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])
            .await
            .context("writing local data")?;
    }
    dst.flush().await?;
    Ok(())
}

pub(crate) async fn download(
    c: &SshClient,
    src: &str,
    dst: &mut (dyn AsyncWrite + Send + Unpin),
) -> anyhow::Result<()> {
    let s = session(c).await?;
    let r = get(&s, src, dst).await;
    let _ = s.close().await;
    r
}

/// `mkdir -p` over sftp.
async fn mkdir_all(s: &SftpSession, path: &str) -> anyhow::Result<()> {
    let mut cur = String::new();
    for part in path.split('/') {
        if part.is_empty() {
            if cur.is_empty() {
                cur.push('/');
            }
            continue;
        }
        if !cur.is_empty() && !cur.ends_with('/') {
            cur.push('/');
        }
        cur.push_str(part);
        if !s.try_exists(cur.clone()).await.unwrap_or(false) {
            s.create_dir(cur.clone())
                .await
                .map_err(|e| anyhow!("sftp: creating directory {cur}: {e}"))?;
        }
    }
    Ok(())
}

/// Sends `entries` (see [`upload_entries`]) into the remote directory `dst`.
pub(crate) async fn upload_dir(c: &SshClient, dst: &str, entries: Vec<Walk>) -> anyhow::Result<()> {
    let s = session(c).await?;
    let base = trim_dir(dst);
    mkdir_all(&s, base).await?;
    let join = |rel: &str| {
        if base == "/" {
            format!("/{rel}")
        } else {
            format!("{base}/{rel}")
        }
    };
    let mut dirs: Vec<(String, u32)> = Vec::new();
    for e in entries {
        match e {
            Walk::Enter { rel, mode, .. } => {
                let p = join(&rel);
                if !s.try_exists(p.clone()).await.unwrap_or(false) {
                    s.create_dir(p.clone())
                        .await
                        .map_err(|e| anyhow!("sftp: creating directory {p}: {e}"))?;
                }
                dirs.push((p, mode));
            }
            Walk::Leave => {
                if let Some((p, mode)) = dirs.pop() {
                    s.set_metadata(p.clone(), mode_attrs(mode))
                        .await
                        .map_err(|e| anyhow!("sftp: setting the mode of {p}: {e}"))?;
                }
            }
            Walk::File {
                path, rel, mode, ..
            } => {
                let mut f = tokio::fs::File::open(&path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                put(&s, &join(&rel), &mut f, mode).await?;
            }
        }
    }
    let _ = s.close().await;
    Ok(())
}

/// Downloads the remote directory `src` (its contents when it ends in `/`) into `dst`,
/// leaving out what `set` matches.
pub(crate) async fn download_dir(
    c: &SshClient,
    src: &str,
    dst: &Path,
    set: &GlobSet,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let s = session(c).await?;
    let remote = trim_dir(src);
    let root_local = if src.ends_with('/') {
        dst.to_path_buf()
    } else {
        let name = remote.rsplit('/').next().unwrap_or(remote);
        dst.join(name)
    };
    let root_mode = s
        .metadata(remote)
        .await
        .map_err(|e| anyhow!("sftp: {remote}: {e}"))?
        .permissions
        .unwrap_or(0o755);
    // Depth-first with an explicit stack: (remote dir, local dir, relative path, mode).
    let mut todo = vec![(remote.to_string(), root_local, String::new(), root_mode)];
    let mut dir_modes = Vec::new();
    while let Some((rdir, ldir, rel, mode)) = todo.pop() {
        tokio::fs::create_dir_all(&ldir)
            .await
            .with_context(|| format!("creating {}", ldir.display()))?;
        dir_modes.push((ldir.clone(), mode));
        let entries = s
            .read_dir(rdir.clone())
            .await
            .map_err(|e| anyhow!("sftp: listing {rdir}: {e}"))?;
        for e in entries {
            let name = e.file_name();
            if name == "." || name == ".." {
                continue;
            }
            let r = rel_join(&rel, &name);
            if set.is_match(&r) {
                continue;
            }
            let rpath = format!("{}/{name}", rdir.trim_end_matches('/'));
            // Follow symlinks, as scp does.
            let md = s
                .metadata(rpath.clone())
                .await
                .map_err(|e| anyhow!("sftp: {rpath}: {e}"))?;
            let m = md.permissions.unwrap_or(0o644) & 0o7777;
            if md.is_dir() {
                todo.push((rpath, ldir.join(&name), r, m));
            } else if md.is_regular() {
                let lpath = ldir.join(&name);
                let mut f = tokio::fs::File::create(&lpath)
                    .await
                    .with_context(|| format!("creating {}", lpath.display()))?;
                get(&s, &rpath, &mut f).await?;
                drop(f);
                std::fs::set_permissions(&lpath, std::fs::Permissions::from_mode(m))?;
                if m & 0o111 != 0 {
                    // It may be executed next (a shell-local step).
                    crate::process::executable_closed();
                }
            }
        }
    }
    // Modes last, deepest first, so read-only directories could still be filled.
    for (p, m) in dir_modes.into_iter().rev() {
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m & 0o7777));
    }
    let _ = s.close().await;
    Ok(())
}
