//! Transfers over the scp protocol (`scp -t` / `scp -f` on the remote), as Packer's default.
//! Everything streams in bounded chunks; modes travel in the protocol records.

use crate::communicator::Verbatim;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use globset::{Glob, GlobSet, GlobSetBuilder};
use russh::ChannelMsg;
use russh::client::Msg;
use russh::{ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::client::{SshClient, quote, run_checked, sig_name};
use crate::communicator::ExitStatus;

/// Chunk size of reads from local files and streams.
pub(crate) const CHUNK: usize = 256 * 1024;
/// A stream that ends within this many bytes is sent with `scp -t`; a longer one (size not
/// known up front, which scp needs) is written by a remote `cat` instead of being buffered.
const SMALL: usize = 4 * 1024 * 1024;

/// A remote command's byte stream: stdout as a buffered reader, stdin as a writer.
pub(crate) struct ExecIo {
    r: ChannelReadHalf,
    w: ChannelWriteHalf<Msg>,
    buf: Bytes,
    stderr: Vec<u8>,
    status: Option<ExitStatus>,
    closed: bool,
    command: String,
}

impl ExecIo {
    pub async fn start(c: &SshClient, command: &str) -> anyhow::Result<ExecIo> {
        let ch = c.raw_exec(command).await?;
        let (r, w) = ch.split();
        Ok(ExecIo {
            r,
            w,
            buf: Bytes::new(),
            stderr: Vec::new(),
            status: None,
            closed: false,
            command: command.to_string(),
        })
    }

    /// Waits for more stdout; false when the channel is gone.
    async fn fill(&mut self) -> bool {
        while !self.closed {
            match self.r.wait().await {
                Some(ChannelMsg::Data { data }) => {
                    if !data.is_empty() {
                        self.buf = data;
                        return true;
                    }
                }
                Some(ChannelMsg::ExtendedData { data, .. }) => {
                    if self.stderr.len() < 64 * 1024 {
                        self.stderr.extend_from_slice(&data);
                    }
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => {
                    self.status = Some(ExitStatus::Code(exit_status as i32))
                }
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    self.status = Some(ExitStatus::Signal(sig_name(&signal_name)))
                }
                Some(_) => {}
                None => self.closed = true,
            }
        }
        false
    }

    /// What the remote said, for errors.
    fn remote_error(&self) -> String {
        let err = String::from_utf8_lossy(&self.stderr).trim().to_string();
        let status = self
            .status
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no exit status yet".to_string());
        if err.is_empty() {
            format!("{:?} ended early ({status})", self.command)
        } else {
            format!("{:?} ended early ({status}): {err}", self.command)
        }
    }

    async fn read_byte(&mut self) -> anyhow::Result<u8> {
        if self.buf.is_empty() && !self.fill().await {
            bail!("{}", self.remote_error());
        }
        let b = self.buf[0];
        self.buf = self.buf.slice(1..);
        Ok(b)
    }

    async fn read_line(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            let b = self.read_byte().await?;
            if b == b'\n' {
                return Ok(line);
            }
            line.push(b);
            if line.len() > 64 * 1024 {
                bail!("scp: protocol line too long");
            }
        }
    }

    /// The 1-byte scp acknowledgement: 0 ok, 1 warning or 2 error, followed by a message.
    async fn ack(&mut self) -> anyhow::Result<()> {
        match self.read_byte().await? {
            0 => Ok(()),
            // The SDK's checkSCPStatus: the message line, as it is.
            1 | 2 => {
                let msg = self.read_line().await.unwrap_or_default();
                Err(Verbatim(String::from_utf8_lossy(&msg).to_string()).into())
            }
            other => {
                let mut msg = vec![other];
                msg.extend(self.read_line().await.unwrap_or_default());
                bail!(
                    "scp: unexpected reply {:?}",
                    String::from_utf8_lossy(&msg).trim()
                )
            }
        }
    }

    pub async fn send(&self, data: impl Into<Bytes>) -> anyhow::Result<()> {
        self.w
            .data_bytes(data)
            .await
            .map_err(|e| anyhow!("sending to {:?}: {e}", self.command))
    }

    /// Copies exactly `n` bytes of stdout into `dst`.
    async fn read_exact_to(
        &mut self,
        mut n: u64,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && !self.fill().await {
                bail!("{} ({n} bytes missing)", self.remote_error());
            }
            let k = (self.buf.len() as u64).min(n) as usize;
            let chunk = self.buf.split_to(k);
            dst.write_all(&chunk).await.context("writing local file")?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Sends `n` bytes from `src` (fails if it has fewer).
    async fn send_from(
        &self,
        src: &mut (dyn AsyncRead + Send + Unpin),
        mut n: u64,
    ) -> anyhow::Result<()> {
        while n > 0 {
            let want = (n as usize).min(CHUNK);
            let mut v = vec![0u8; want];
            let k = src.read(&mut v).await.context("reading local file")?;
            if k == 0 {
                bail!("local file ended {n} bytes early");
            }
            v.truncate(k);
            self.send(v).await?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Sends EOF and waits for the command to end; errors unless it exited 0.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let _ = self.w.eof().await;
        while self.fill().await {}
        match &self.status {
            Some(ExitStatus::Code(0)) => Ok(()),
            _ => bail!("{}", self.remote_error().replace(" ended early", " failed")),
        }
    }
}

/// Fills `buf` as far as the stream goes; returns the count.
async fn read_full(
    src: &mut (dyn AsyncRead + Send + Unpin),
    buf: &mut [u8],
) -> anyhow::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = src
            .read(&mut buf[n..])
            .await
            .context("reading local data")?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// Splits a remote path into directory and file name.
pub(crate) fn split_remote(path: &str) -> (String, String) {
    match path.rfind('/') {
        Some(0) => ("/".to_string(), path[1..].to_string()),
        Some(i) => (path[..i].to_string(), path[i + 1..].to_string()),
        None => (".".to_string(), path.to_string()),
    }
}

pub(crate) async fn upload(
    c: &SshClient,
    dst: &str,
    src: &mut (dyn AsyncRead + Send + Unpin),
    mode: u32,
) -> anyhow::Result<()> {
    let mut head = vec![0u8; SMALL];
    let n = read_full(src, &mut head).await?;
    head.truncate(n);
    let mode = mode & 0o7777;
    if n < SMALL {
        // The full path as target: a missing parent directory is an error, not a file
        // created under the parent's name.
        let (_, name) = split_remote(dst);
        let mut io = ExecIo::start(c, &format!("scp -t {}", quote(dst))).await?;
        io.ack().await?;
        io.send(format!("C{mode:04o} {n} {name}\n")).await?;
        io.ack().await?;
        io.send(head).await?;
        io.send(vec![0u8]).await?;
        io.ack().await?;
        return io.finish().await;
    }
    // The length is unknown (scp needs it first): stream into a remote `cat`.
    let q = quote(dst);
    let io = ExecIo::start(c, &format!("cat > {q} && chmod {mode:04o} {q}")).await?;
    if let Err(e) = io.send(head).await {
        return io.finish().await.and(Err(e));
    }
    loop {
        let mut v = vec![0u8; CHUNK];
        let k = read_full(src, &mut v).await?;
        if k == 0 {
            break;
        }
        v.truncate(k);
        if let Err(e) = io.send(v).await {
            // The remote side ended early (e.g. a missing directory): report what it said.
            return io.finish().await.and(Err(e));
        }
    }
    io.finish().await
}

pub(crate) async fn download(
    c: &SshClient,
    src: &str,
    dst: &mut (dyn AsyncWrite + Send + Unpin),
) -> anyhow::Result<()> {
    let mut io = ExecIo::start(c, &format!("scp -f {}", quote(src))).await?;
    io.send(vec![0u8]).await?;
    loop {
        let line = record(&mut io).await?;
        match line.first() {
            Some(b'T') => io.send(vec![0u8]).await?,
            Some(b'C') => {
                let (_, size, _) = parse_record(&line)?;
                io.send(vec![0u8]).await?;
                // Packets are at most 32 KiB: batch them into larger local writes.
                let mut w = tokio::io::BufWriter::with_capacity(CHUNK, dst);
                io.read_exact_to(size, &mut w).await?;
                w.flush().await?;
                io.ack().await?;
                io.send(vec![0u8]).await?;
                return io.finish().await;
            }
            // The SDK's scpDownloadSession's words.
            Some(b'D') => return Err(Verbatim("remote file is directory".into()).into()),
            _ => bail!(
                "scp: unexpected record {:?}",
                String::from_utf8_lossy(&line)
            ),
        }
    }
}

/// Reads a protocol record line, turning error replies into errors.
async fn record(io: &mut ExecIo) -> anyhow::Result<Vec<u8>> {
    let line = io.read_line().await?;
    match line.first() {
        // The remote scp's message as the SDK returns it: the line after the code byte.
        Some(1) | Some(2) => {
            Err(Verbatim(format!("{}\n", String::from_utf8_lossy(&line[1..]))).into())
        }
        _ => Ok(line),
    }
}

/// `C0644 123 name` / `D0755 0 name` → (mode, size, name).
fn parse_record(line: &[u8]) -> anyhow::Result<(u32, u64, String)> {
    let s = String::from_utf8_lossy(&line[1..]).to_string();
    let mut parts = s.splitn(3, ' ');
    let bad = || anyhow!("scp: bad record {s:?}");
    let mode = u32::from_str_radix(parts.next().ok_or_else(bad)?, 8).map_err(|_| bad())?;
    let size = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let name = parts.next().ok_or_else(bad)?.to_string();
    if name.is_empty() || name == ".." || name.contains('/') {
        bail!("scp: refusing file name {name:?}");
    }
    Ok((mode, size, name))
}

pub(crate) fn exclude_set(exclude: &[String]) -> anyhow::Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for e in exclude {
        b.add(Glob::new(e).with_context(|| format!("bad exclude pattern {e:?}"))?);
    }
    Ok(b.build()?)
}

/// One step of a depth-first walk of a local directory.
pub(crate) enum Walk {
    Enter {
        rel: String,
        name: String,
        mode: u32,
    },
    File {
        path: PathBuf,
        rel: String,
        name: String,
        mode: u32,
        size: u64,
    },
    Leave,
}

/// The path relative to a transfer's root of `name` in the directory at `rel` (`""`: the
/// root): what `exclude` patterns are matched against.
pub(crate) fn rel_join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Walks `root` (following symlinks); `with_root` adds the root directory itself.
pub(crate) fn walk(root: &Path, with_root: bool, exclude: &GlobSet) -> anyhow::Result<Vec<Walk>> {
    use std::os::unix::fs::PermissionsExt;
    fn rec(dir: &Path, rel: &str, exclude: &GlobSet, out: &mut Vec<Walk>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().to_string();
            let r = rel_join(rel, &name);
            if exclude.is_match(&r) {
                continue;
            }
            let path = e.path();
            let md =
                std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
            let mode = md.permissions().mode() & 0o7777;
            if md.is_dir() {
                out.push(Walk::Enter {
                    rel: r.clone(),
                    name,
                    mode,
                });
                rec(&path, &r, exclude, out)?;
                out.push(Walk::Leave);
            } else if md.is_file() {
                out.push(Walk::File {
                    path,
                    rel: r,
                    name,
                    mode,
                    size: md.len(),
                });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if with_root {
        let md = std::fs::metadata(root).with_context(|| format!("reading {}", root.display()))?;
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .ok_or_else(|| anyhow!("{} has no directory name", root.display()))?;
        out.push(Walk::Enter {
            rel: name.clone(),
            name: name.clone(),
            mode: md.permissions().mode() & 0o7777,
        });
        rec(root, &name, exclude, &mut out)?;
        out.push(Walk::Leave);
    } else {
        rec(root, "", exclude, &mut out)?;
    }
    Ok(out)
}

/// `src` ending in `/` uploads its contents into `dst`; otherwise `dst/<basename>`.
pub(crate) fn contents_only(src: &Path) -> bool {
    src.as_os_str().to_string_lossy().ends_with('/')
}

/// What uploading the local directory `src` sends, `exclude` left out: its contents when it
/// ends in `/`, else the directory itself.
pub(crate) fn upload_entries(src: &Path, exclude: &[String]) -> anyhow::Result<Vec<Walk>> {
    let set = exclude_set(exclude)?;
    let root = PathBuf::from(trim_dir(&src.to_string_lossy()));
    walk(&root, !contents_only(src), &set)
}

/// A directory path without its trailing slashes (`/`, or nothing, is `/`).
pub(crate) fn trim_dir(p: &str) -> &str {
    match p.trim_end_matches('/') {
        "" => "/",
        t => t,
    }
}

/// Sends `entries` (see [`upload_entries`]) into the remote directory `dst`.
pub(crate) async fn upload_dir(c: &SshClient, dst: &str, entries: Vec<Walk>) -> anyhow::Result<()> {
    run_checked(c, &format!("mkdir -p {}", quote(dst))).await?;
    let mut io = ExecIo::start(c, &format!("scp -rt {}", quote(dst))).await?;
    io.ack().await?;
    for e in entries {
        match e {
            Walk::Enter { name, mode, .. } => {
                io.send(format!("D{mode:04o} 0 {name}\n")).await?;
                io.ack().await?;
            }
            Walk::Leave => {
                io.send("E\n").await?;
                io.ack().await?;
            }
            Walk::File {
                path,
                name,
                mode,
                size,
                ..
            } => {
                let mut f = tokio::fs::File::open(&path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                io.send(format!("C{mode:04o} {size} {name}\n")).await?;
                io.ack().await?;
                io.send_from(&mut f, size).await?;
                io.send(vec![0u8]).await?;
                io.ack().await?;
            }
        }
    }
    io.finish().await
}

/// Whether a remote path has shell wildcards, as Packer's file provisioner checks (`*?[`).
pub(crate) fn has_wildcards(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Quotes a remote path for the shell except its wildcards (`*`, `?`, `[...]`), which the
/// remote shell then expands, as it does for Packer's unquoted `scp -vrf <src>`; spaces and
/// other characters stay literal.
pub(crate) fn quote_glob(path: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    let mut chars = path.chars().peekable();
    let flush = |literal: &mut String, out: &mut String| {
        if !literal.is_empty() {
            out.push_str(&quote(literal));
            literal.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => {
                flush(&mut literal, &mut out);
                out.push(c);
            }
            '[' => {
                flush(&mut literal, &mut out);
                out.push(c);
                // The bracket expression goes to the shell as written.
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            _ => literal.push(c),
        }
    }
    flush(&mut literal, &mut out);
    out
}

/// Downloads a remote directory (`src` ending in `/`: its contents), or everything a
/// wildcard `src` matches, each match into `dst` (files, and directories recursively),
/// leaving out what `set` matches.
pub(crate) async fn download_dir(
    c: &SshClient,
    src: &str,
    dst: &Path,
    set: &GlobSet,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let glob = has_wildcards(src);
    let flatten = src.ends_with('/') && !glob;
    let remote = trim_dir(src);
    tokio::fs::create_dir_all(dst)
        .await
        .with_context(|| format!("creating {}", dst.display()))?;
    let remote = if glob {
        quote_glob(remote)
    } else {
        quote(remote)
    };
    let mut io = ExecIo::start(c, &format!("scp -rf {remote}")).await?;
    io.send(vec![0u8]).await?;
    // (local dir, relative path, mode to set on leaving)
    let mut stack: Vec<(PathBuf, String, Option<u32>)> = Vec::new();
    let mut depth0_done = false;
    loop {
        // One top-level entry, unless a wildcard matched several: then read to the end.
        if depth0_done && stack.is_empty() && !glob {
            break;
        }
        let line = match io.read_line().await {
            Ok(l) => l,
            Err(_) if stack.is_empty() => break,
            Err(e) => return Err(e),
        };
        let (cur, cur_rel) = stack
            .last()
            .map(|(p, r, _)| (p.clone(), r.clone()))
            .unwrap_or((dst.to_path_buf(), String::new()));
        match line.first() {
            // The SDK's DownloadDir: the remote scp's message line, as it is.
            Some(1) | Some(2) => {
                return Err(Verbatim(format!("{}\n", String::from_utf8_lossy(&line[1..]))).into());
            }
            Some(b'T') => io.send(vec![0u8]).await?,
            Some(b'D') => {
                let (mode, _, name) = parse_record(&line)?;
                let top = stack.is_empty();
                let rel = if top {
                    String::new()
                } else {
                    rel_join(&cur_rel, &name)
                };
                let excluded = !top && set.is_match(&rel);
                let path = if top && flatten {
                    dst.to_path_buf()
                } else {
                    cur.join(&name)
                };
                if excluded {
                    // Skip it: read and discard its contents.
                    io.send(vec![0u8]).await?;
                    skip_dir(&mut io).await?;
                    continue;
                }
                tokio::fs::create_dir_all(&path)
                    .await
                    .with_context(|| format!("creating {}", path.display()))?;
                stack.push((path, rel, Some(mode)));
                io.send(vec![0u8]).await?;
            }
            Some(b'E') => {
                if let Some((path, _, Some(mode))) = stack.pop() {
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
                }
                if stack.is_empty() {
                    depth0_done = true;
                }
                io.send(vec![0u8]).await?;
            }
            Some(b'C') => {
                let (mode, size, name) = parse_record(&line)?;
                let rel = rel_join(&cur_rel, &name);
                io.send(vec![0u8]).await?;
                if set.is_match(&rel) {
                    io.read_exact_to(size, &mut tokio::io::sink()).await?;
                } else {
                    let path = cur.join(&name);
                    let f = tokio::fs::File::create(&path)
                        .await
                        .with_context(|| format!("creating {}", path.display()))?;
                    let mut f = tokio::io::BufWriter::with_capacity(CHUNK, f);
                    io.read_exact_to(size, &mut f).await?;
                    f.flush().await?;
                    drop(f);
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
                    if mode & 0o111 != 0 {
                        // It may be executed next (a shell-local step).
                        crate::process::executable_closed();
                    }
                }
                io.ack().await?;
                io.send(vec![0u8]).await?;
                if stack.is_empty() {
                    // A plain file, not a directory.
                    depth0_done = true;
                }
            }
            _ => bail!(
                "scp: unexpected record {:?}",
                String::from_utf8_lossy(&line)
            ),
        }
    }
    io.finish().await
}

/// Consumes the records of a directory being skipped.
async fn skip_dir(io: &mut ExecIo) -> anyhow::Result<()> {
    let mut depth = 1;
    while depth > 0 {
        let line = record(io).await?;
        match line.first() {
            Some(b'D') => depth += 1,
            Some(b'E') => depth -= 1,
            Some(b'C') => {
                let (_, size, _) = parse_record(&line)?;
                io.send(vec![0u8]).await?;
                io.read_exact_to(size, &mut tokio::io::sink()).await?;
                io.ack().await?;
            }
            _ => {}
        }
        io.send(vec![0u8]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_stay_unquoted() {
        assert!(has_wildcards("/var/log/*.log"));
        assert!(has_wildcards("/a/f?.txt"));
        assert!(has_wildcards("/a/[ab].txt"));
        assert!(!has_wildcards("/a/b c/d"));
        assert_eq!(quote_glob("/var/log/*.log"), "'/var/log/'*'.log'");
        assert_eq!(quote_glob("/my logs/f?.txt"), "'/my logs/f'?'.txt'");
        assert_eq!(quote_glob("/a/[!ab]x*"), "'/a/'[!ab]'x'*");
        assert_eq!(quote_glob("/it's/*"), "'/it'\"'\"'s/'*");
    }
}
