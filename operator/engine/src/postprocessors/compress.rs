//! `compress`: packs the artifact's files into one archive (Packer's `post-processor/compress`).
//!
//! The format comes from the `output` file name, or from `output + "." + format` when `format`
//! is set, exactly as Packer detects it: the last two `.ext` groups of the (uninterpolated)
//! name are looked at; `tar`/`zip` as the last one make a plain archive, `.tar.<x>` a
//! compressed tarball, a known compression extension alone compresses the single input file,
//! and anything else (including no extension at all, as in the default output name) falls
//! back to a gzipped tarball without changing the name.
//!
//! Compression extensions: `gz` (parallel gzip, the bytes Packer's klauspost/pgzip writes at
//! every level, from kiln-goflate's port), `bgzf` (parallel
//! blocked gzip), `lz4` (Packer's bytes: [`super::golz4`], a port of pierrec/lz4), `xz`
//! (Packer's bytes: kiln-goxz, a port of ulikunitz/xz's writer), and, beyond Packer,
//! `bz2`/`bzip2`
//! (Packer 1.16 would write a `.tar.gz` under such a name). `.zip` is Go's archive/zip, byte
//! for byte ([`write_zip`]). Everything streams: no file is held in memory.
//!
//! The new artifact is the archive; the input is not kept unless `keep_input_artifact = true`.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::postprocessors::checksum::{
    CHUNK, parse_go_template, render_go_template, template_data,
};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.post-processor.compress";

pub const DEFAULT_OUTPUT: &str = "packer_{{.BuildName}}_{{.BuilderType}}";

/// An archive container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archive {
    Tar,
    Zip,
}

/// A compression algorithm applied to the whole output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Parallel gzip (Packer's `pgzip`).
    Gzip,
    Bgzf,
    Lz4,
    Xz,
    Bzip2,
}

impl Algorithm {
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Gzip => "pgzip",
            Algorithm::Bgzf => "bgzf",
            Algorithm::Lz4 => "lz4",
            Algorithm::Xz => "xz",
            Algorithm::Bzip2 => "bzip2",
        }
    }
}

/// Packer's `detectFromFilename`: the archive and the algorithm a name asks for.
pub fn detect(output: &str, format: Option<&str>) -> (Option<Archive>, Option<Algorithm>) {
    let name = match format.filter(|f| !f.is_empty()) {
        Some(f) => format!("{output}.{f}"),
        None => output.to_string(),
    };
    let groups = ext_groups(&name);
    let default = (Some(Archive::Tar), Some(Algorithm::Gzip));
    let Some(last) = groups.last() else {
        return default;
    };
    let next_to_last = if groups.len() > 1 {
        groups[groups.len() - 2].as_str()
    } else {
        ""
    };
    let archive = (next_to_last == "tar").then_some(Archive::Tar);
    match last.as_str() {
        "tar" => return (Some(Archive::Tar), None),
        "zip" => return (Some(Archive::Zip), None),
        _ => {}
    }
    let algorithm = match last.as_str() {
        "gz" => Algorithm::Gzip,
        "lz4" => Algorithm::Lz4,
        "bgzf" => Algorithm::Bgzf,
        "xz" => Algorithm::Xz,
        // Packer's table knows `bzip2`, not `bz2` (which falls to the default).
        "bzip2" => Algorithm::Bzip2,
        _ => return default,
    };
    (archive, Some(algorithm))
}

/// Every match of Go's `(?:\.([a-z0-9]+))` in `s`, left to right: the group after each dot.
fn ext_groups(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit()) {
                j += 1;
            }
            if j > start {
                out.push(s[start..j].to_string());
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

pub struct Compress {
    output: String,
    archive: Option<Archive>,
    algorithm: Option<Algorithm>,
    /// Normalised as Packer does: 0 and -1 mean the default (-1), above 9 means 9.
    level: i64,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    // Rendered when the post-processor runs, with the build's data.
    r.render_later(&["output"]);
    let output = r
        .string("output")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_OUTPUT.to_string());
    let format = r.string("format");
    let mut level = r.int("compression_level").unwrap_or(0);
    if level > 9 {
        level = 9;
    }
    if level == 0 || level == -1 {
        level = -1;
    }
    if let Err(e) = parse_go_template(&output) {
        r.prepare_error(format!("Error parsing target template: {e}"));
    }
    let (archive, algorithm) = detect(&output, format.as_deref());
    // Packer's gzip writers refuse levels below -2 (HuffmanOnly) when the archive is made;
    // Kiln says so before anything runs.
    if level < -2 && matches!(algorithm, Some(Algorithm::Gzip) | Some(Algorithm::Bgzf)) {
        r.error_at(
            "compression_level",
            "Invalid compression level",
            "Invalid compression level. Expected an integer from -1 to 9.",
        );
    }
    Some(Box::new(Compress {
        output,
        archive,
        algorithm,
        level,
    }))
}

impl Compress {
    /// The archive and algorithm this post-processor will use.
    pub fn plan(&self) -> (Option<Archive>, Option<Algorithm>) {
        (self.archive, self.algorithm)
    }
}

/// A compressing (or plain) writer that must be finished to be complete.
trait Sink: Write + Send {
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

type Out = BufWriter<File>;

/// A writer over the output file: the file itself or an encoder.
trait Encoder: Write + Send + Sized {
    /// Writes what the format needs at its end and gives the file back.
    fn end(self) -> std::io::Result<Out>;
    /// Dropped without being finished (an error path: the output is removed anyway).
    fn abandon(self) {}
}

impl Encoder for Out {
    fn end(self) -> std::io::Result<Out> {
        Ok(self)
    }
}

/// kiln-goflate's port of pgzip (Packer's writer).
impl Encoder for kiln_goflate::PgzipWriter<Out> {
    fn end(self) -> std::io::Result<Out> {
        self.finish()
    }
}

/// biogo/hts's `bgzf.Writer` (Packer's), over Go's `compress/gzip` (kiln-goflate's port):
/// the input is cut into blocks of at most [`BGZF_BLOCK`] bytes where Go's writer cuts it,
/// which depends on the sizes of the writes (a write that does not fit in the block's room
/// ends the block, unless the block is empty), each block one gzip member with the `BC`
/// extra field holding its size; then the last block (empty or not) and the EOF block.
pub struct BgzfWriter<W: Write> {
    inner: W,
    level: i32,
    block: Vec<u8>,
}

/// biogo/hts's `bgzf.BlockSize`.
const BGZF_BLOCK: usize = 0x0ff00;

/// biogo/hts's end-of-file marker block.
const BGZF_EOF: &[u8] = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00\x42\x43\x02\x00\x1b\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00";

impl<W: Write> BgzfWriter<W> {
    /// `bgzf.NewWriterLevel`: levels -1 (Go's default, 6) to 9.
    pub fn new(inner: W, level: i32) -> Option<Self> {
        (-1..=9).contains(&level).then(|| BgzfWriter {
            inner,
            level,
            block: Vec::with_capacity(BGZF_BLOCK),
        })
    }

    /// One block as `compressor.writeBlock` writes it: Go's gzip writer with the extra
    /// field `BC\x02\x00` and the member's size minus one in its last two bytes, no name,
    /// no time, OS 255; one `Write` of the block, then `Close`.
    fn write_block(&mut self) -> std::io::Result<()> {
        let data = std::mem::take(&mut self.block);
        let deflated = kiln_goflate::deflate(&data, self.level).map_err(std::io::Error::other)?;
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        let mut member = Vec::with_capacity(deflated.len() + 26);
        member.extend_from_slice(&[0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, xfl, 0xff, 6, 0]);
        member.extend_from_slice(b"BC\x02\x00\x00\x00");
        member.extend_from_slice(&deflated);
        member.extend_from_slice(&crc32fast::hash(&data).to_le_bytes());
        member.extend_from_slice(&(data.len() as u32).to_le_bytes());
        let size = member.len() - 1;
        if size >= 0x10000 {
            return Err(std::io::Error::other("bgzf: compressed block overflow"));
        }
        member[16] = size as u8;
        member[17] = (size >> 8) as u8;
        self.block = data;
        self.block.clear();
        self.inner.write_all(&member)
    }

    /// `Close`: the last block (written even when empty), then the EOF block.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.write_block()?;
        self.inner.write_all(BGZF_EOF)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for BgzfWriter<W> {
    /// `bgzf.Writer.Write`: copies into the block while the write fits (or the block is
    /// empty); a full block, or a write that does not fit, ends the block.
    fn write(&mut self, mut b: &[u8]) -> std::io::Result<usize> {
        let n = b.len();
        while !b.is_empty() {
            let mut copied = 0;
            if self.block.is_empty() || self.block.len() + b.len() <= BGZF_BLOCK {
                copied = b.len().min(BGZF_BLOCK - self.block.len());
                self.block.extend_from_slice(&b[..copied]);
                b = &b[copied..];
            }
            if self.block.len() == BGZF_BLOCK || copied == 0 {
                self.write_block()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Encoder for BgzfWriter<Out> {
    fn end(self) -> std::io::Result<Out> {
        self.finish()
    }
}

/// The port of pierrec/lz4's writer (Packer's).
impl Encoder for super::golz4::Lz4Writer<Out> {
    fn end(self) -> std::io::Result<Out> {
        self.finish()
    }
}

/// kiln-goxz's port of ulikunitz/xz's writer (Packer's).
impl Encoder for kiln_goxz::XzWriter<Out> {
    fn end(self) -> std::io::Result<Out> {
        self.finish()
    }
}

/// kiln-gobzip2's port of dsnet/compress's bzip2 writer (Packer's).
impl Encoder for kiln_gobzip2::Bzip2Writer<Out> {
    fn end(self) -> std::io::Result<Out> {
        self.finish()
    }
}

/// An [`Encoder`] until it is finished: the end written, the file flushed and synced.
struct Finishing<E: Encoder>(Option<E>);

impl<E: Encoder> Write for Finishing<E> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .as_mut()
            .ok_or_else(|| std::io::Error::other("writer finished"))?
            .write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<E: Encoder> Sink for Finishing<E> {
    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        let Some(w) = self.0.take() else {
            return Ok(());
        };
        let mut inner = w.end()?;
        inner.flush()?;
        inner.get_ref().sync_all()
    }
}

impl<E: Encoder> Drop for Finishing<E> {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.abandon();
        }
    }
}

fn sink(e: impl Encoder + 'static) -> Box<dyn Sink> {
    Box::new(Finishing(Some(e)))
}

/// The number of compression threads: every CPU, as Packer sets GOMAXPROCS.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// `whole_file`: one file compressed on its own (Go's `io.Copy` hands it to the writer's
/// `ReadFrom`), not a tarball written into it.
fn make_sink(
    file: File,
    algorithm: Option<Algorithm>,
    level: i64,
    whole_file: bool,
) -> anyhow::Result<Box<dyn Sink>> {
    let out = BufWriter::with_capacity(CHUNK, file);
    let go_level = i32::try_from(level).unwrap_or(i32::MIN);
    Ok(match algorithm {
        None => sink(out),
        // Packer's bytes: klauspost/pgzip over klauspost/compress at the same level (-1 is
        // its 5), in the 500 000-byte blocks Packer sets, ported by kiln-goflate.
        Some(Algorithm::Gzip) => {
            let w = kiln_goflate::PgzipWriter::new(
                out,
                go_level,
                kiln_goflate::PACKER_BLOCK_SIZE,
                threads(),
            )
            .ok_or_else(|| {
                anyhow!(
                    "error creating pgzip writer: Invalid compression level. Expected an integer from -1 to 9."
                )
            })?;
            sink(w)
        }
        Some(Algorithm::Bgzf) => sink(BgzfWriter::new(out, go_level).ok_or_else(|| {
            anyhow!(
                "error creating bgzf writer: Invalid compression level. Expected an integer from -1 to 9."
            )
        })?),
        Some(Algorithm::Lz4) => sink(super::golz4::Lz4Writer::new(out, level, whole_file)),
        // Packer's xz writer takes no level: ulikunitz/xz's defaults.
        Some(Algorithm::Xz) => sink(kiln_goxz::XzWriter::new(out)?),
        // Packer: level 9 unless a positive level is given; dsnet refuses levels above 9.
        Some(Algorithm::Bzip2) => {
            let l = if level > 0 { go_level } else { 9 };
            sink(kiln_gobzip2::Bzip2Writer::new(out, l).ok_or_else(|| {
                anyhow!("error creating bzip2 writer: bzip2: invalid argument: compression level: {l}")
            })?)
        }
    })
}

/// A reader that fails once the build is cancelled.
struct Cancellable<'a, R> {
    inner: R,
    cancel: &'a CancellationToken,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

fn copy(r: impl Read, w: &mut dyn Write) -> std::io::Result<u64> {
    copy_in(r, w, CHUNK)
}

/// Go's `io.Copy` between files: reads of `chunk` bytes (32 KiB in Go), each written as
/// one write.
fn copy_in(mut r: impl Read, w: &mut dyn Write, chunk: usize) -> std::io::Result<u64> {
    let mut buf = vec![0u8; chunk];
    let mut total = 0;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

fn open_regular(path: &Path) -> anyhow::Result<File> {
    let f = File::open(path).with_context(|| format!("Unable to read file {}", path.display()))?;
    let meta = f
        .metadata()
        .with_context(|| format!("Unable to get fileinfo for {}", path.display()))?;
    if meta.is_dir() {
        bail!(
            "Failed to copy {} data to archive: it is a directory",
            path.display()
        );
    }
    Ok(f)
}

fn write_tar(
    files: &[PathBuf],
    sink: &mut dyn Write,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(sink);
    tar.mode(tar::HeaderMode::Complete);
    for path in files {
        let (file, _, header) = tar_entry(path)?;
        tar.append(
            &header,
            Cancellable {
                inner: file,
                cancel,
            },
        )
        .with_context(|| format!("Failed to copy {} data to archive", path.display()))?;
    }
    tar.finish().context("Failed to finish the tar archive")?;
    Ok(())
}

/// One file of a tar archive: the file opened, its metadata and the header Packer writes
/// for it (named, like Go's `tar.FileInfoHeader`, by the file's base name).
fn tar_entry(path: &Path) -> anyhow::Result<(File, std::fs::Metadata, tar::Header)> {
    let file = open_regular(path)?;
    let meta = file
        .metadata()
        .with_context(|| format!("Unable to get fileinfo for {}", path.display()))?;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("Failed to create tar header for {}", path.display()))?;
    let header = go_tar_header(name, &meta)
        .with_context(|| format!("Failed to create tar header for {}", path.display()))?;
    Ok((file, meta, header))
}

/// The size of Go's `io.Copy` buffer.
const GO_COPY: usize = 32 * 1024;

/// [`write_tar`]'s archive in the writes Go's `archive/tar` makes (for a writer whose output
/// depends on them: bgzf): each header as one 512-byte write, the file's data in `io.Copy`'s
/// 32 KiB writes, the padding to 512 bytes as one write before the next header (or at the
/// end), then the two zero blocks of the trailer as two writes.
fn write_tar_go(
    files: &[PathBuf],
    sink: &mut dyn Write,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    const ZERO: [u8; 512] = [0; 512];
    let mut pad = 0;
    for path in files {
        let (file, meta, header) = tar_entry(path)?;
        if pad > 0 {
            sink.write_all(&ZERO[..pad])?;
        }
        sink.write_all(header.as_bytes())?;
        let n = copy_in(
            Cancellable {
                inner: file,
                cancel,
            },
            sink,
            GO_COPY,
        )
        .with_context(|| format!("Failed to copy {} data to archive", path.display()))?;
        if n != meta.len() {
            bail!(
                "Failed to copy {} data to archive: archive/tar: write too long",
                path.display()
            );
        }
        pad = ((512 - n % 512) % 512) as usize;
    }
    if pad > 0 {
        sink.write_all(&ZERO[..pad])?;
    }
    sink.write_all(&ZERO)?;
    sink.write_all(&ZERO)?;
    Ok(())
}

/// The header Packer writes for a file (Go's `tar.FileInfoHeader` in GNU format, times
/// cleared): base name, permission bits, owner ids and names (from `/etc/passwd` and
/// `/etc/group`, as Go's `os/user` reads them), size; no modification time (zero); numeric
/// fields as Go formats them (`0000000\0` for the device numbers) and the checksum as six
/// octal digits, NUL, space.
fn go_tar_header(name: &std::ffi::OsStr, meta: &std::fs::Metadata) -> anyhow::Result<tar::Header> {
    use std::os::unix::fs::MetadataExt;
    let mut h = tar::Header::new_gnu();
    h.set_path(name)?;
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(u64::from(meta.uid()));
    h.set_gid(u64::from(meta.gid()));
    h.set_size(meta.len());
    if let Some(u) = id_name("/etc/passwd", meta.uid()) {
        h.set_username(&u)?;
    }
    if let Some(g) = id_name("/etc/group", meta.gid()) {
        h.set_groupname(&g)?;
    }
    let bytes = h.as_mut_bytes();
    bytes[136..148].copy_from_slice(b"00000000000\0");
    for range in [329..337, 337..345] {
        bytes[range.clone()].copy_from_slice(b"0000000\0");
    }
    bytes[148..156].copy_from_slice(b"        ");
    let sum: u32 = bytes.iter().map(|b| u32::from(*b)).sum();
    bytes[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// The name of a numeric id in a `name:x:id:…` file (`/etc/passwd`, `/etc/group`).
fn id_name(file: &str, id: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id_field = f.nth(1)?;
        (id_field.parse::<u32>().ok()? == id).then(|| name.to_string())
    })
}

/// Packer's `createZipArchive`: Go's `archive/zip` writer, byte for byte. Each file is an
/// entry named by its path as the artifact lists it (forward slashes), deflated by Go's
/// `compress/flate` at level 5 (archive/zip's), with no time and no permissions (Go's
/// `Writer.Create`), its CRC and sizes in a data descriptor after the data (64-bit sizes
/// from 4 GiB on), then the central directory and its end record (zip64 ones when needed).
fn write_zip(files: &[PathBuf], out: File, cancel: &CancellationToken) -> anyhow::Result<()> {
    /// One entry of the central directory.
    struct Entry {
        name: String,
        flags: u16,
        reader_version: u16,
        crc: u32,
        compressed: u64,
        uncompressed: u64,
        offset: u64,
    }
    /// Counts what is written through it.
    struct Counting<W: Write> {
        inner: W,
        count: u64,
    }
    impl<W: Write> Write for Counting<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.count += n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    /// Computes the CRC and size of what is deflated.
    struct Raw<W: Write> {
        inner: kiln_goflate::Writer<W>,
        crc: crc32fast::Hasher,
        count: u64,
    }
    impl<W: Write> Write for Raw<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.crc.update(&buf[..n]);
            self.count += n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    const U32MAX: u64 = u32::MAX as u64;
    let mut w = Counting {
        inner: BufWriter::with_capacity(CHUNK, out),
        count: 0,
    };
    let mut dir: Vec<Entry> = Vec::new();
    for path in files {
        let file = open_regular(path)?;
        let name = path.to_string_lossy().replace('\\', "/");
        anyhow::ensure!(
            name.len() <= u16::MAX as usize,
            "Failed to add zip header for {}: zip: FileHeader.Name too long",
            path.display()
        );
        // archive/zip's detectUTF8: the UTF-8 flag only for names CP-437 cannot hold.
        let utf8 = name
            .chars()
            .any(|c| (c as u32) < 0x20 || (c as u32) > 0x7d || c == '\\');
        let flags: u16 = 0x8 | if utf8 { 0x800 } else { 0 };
        let offset = w.count;
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes()); // version needed
        header.extend_from_slice(&flags.to_le_bytes());
        header.extend_from_slice(&8u16.to_le_bytes()); // deflate
        header.extend_from_slice(&[0; 4]); // time, date
        header.extend_from_slice(&[0; 12]); // crc, sizes: in the data descriptor
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // extra
        header.extend_from_slice(name.as_bytes());
        w.write_all(&header)
            .with_context(|| format!("Failed to add zip header for {}", path.display()))?;
        let start = w.count;
        let mut raw = Raw {
            inner: kiln_goflate::Writer::new(&mut w, 5)
                .map_err(|_| anyhow!("archive/zip's flate level 5 refused"))?,
            crc: crc32fast::Hasher::new(),
            count: 0,
        };
        copy(
            Cancellable {
                inner: file,
                cancel,
            },
            &mut raw,
        )
        .with_context(|| format!("Failed to copy {} data to archive", path.display()))?;
        let (crc, uncompressed) = (raw.crc.finalize(), raw.count);
        raw.inner
            .finish()
            .with_context(|| format!("Failed to copy {} data to archive", path.display()))?;
        let compressed = w.count - start;
        let zip64 = compressed >= U32MAX || uncompressed >= U32MAX;
        let mut descriptor = Vec::with_capacity(24);
        descriptor.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        if zip64 {
            descriptor.extend_from_slice(&compressed.to_le_bytes());
            descriptor.extend_from_slice(&uncompressed.to_le_bytes());
        } else {
            descriptor.extend_from_slice(&(compressed as u32).to_le_bytes());
            descriptor.extend_from_slice(&(uncompressed as u32).to_le_bytes());
        }
        w.write_all(&descriptor)?;
        dir.push(Entry {
            name,
            flags,
            reader_version: if zip64 { 45 } else { 20 },
            crc,
            compressed,
            uncompressed,
            offset,
        });
    }
    let start = w.count;
    for e in &dir {
        let mut extra = Vec::new();
        let mut h = Vec::with_capacity(46 + e.name.len() + 28);
        h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0, FAT
        h.extend_from_slice(&e.reader_version.to_le_bytes());
        h.extend_from_slice(&e.flags.to_le_bytes());
        h.extend_from_slice(&8u16.to_le_bytes());
        h.extend_from_slice(&[0; 4]); // time, date
        h.extend_from_slice(&e.crc.to_le_bytes());
        if e.compressed >= U32MAX || e.uncompressed >= U32MAX || e.offset >= U32MAX {
            h.extend_from_slice(&u32::MAX.to_le_bytes());
            h.extend_from_slice(&u32::MAX.to_le_bytes());
            extra.extend_from_slice(&1u16.to_le_bytes()); // zip64 extra
            extra.extend_from_slice(&24u16.to_le_bytes());
            extra.extend_from_slice(&e.uncompressed.to_le_bytes());
            extra.extend_from_slice(&e.compressed.to_le_bytes());
            extra.extend_from_slice(&e.offset.to_le_bytes());
        } else {
            h.extend_from_slice(&(e.compressed as u32).to_le_bytes());
            h.extend_from_slice(&(e.uncompressed as u32).to_le_bytes());
        }
        h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        h.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        h.extend_from_slice(&(e.offset.min(U32MAX) as u32).to_le_bytes());
        h.extend_from_slice(e.name.as_bytes());
        h.extend_from_slice(&extra);
        w.write_all(&h)?;
    }
    let end = w.count;
    let (mut records, mut size, mut offset) = (dir.len() as u64, end - start, start);
    if records >= u16::MAX as u64 || size >= U32MAX || offset >= U32MAX {
        let mut z = Vec::with_capacity(76);
        z.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        z.extend_from_slice(&44u64.to_le_bytes());
        z.extend_from_slice(&45u16.to_le_bytes());
        z.extend_from_slice(&45u16.to_le_bytes());
        z.extend_from_slice(&[0; 8]);
        z.extend_from_slice(&records.to_le_bytes());
        z.extend_from_slice(&records.to_le_bytes());
        z.extend_from_slice(&size.to_le_bytes());
        z.extend_from_slice(&offset.to_le_bytes());
        z.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(&end.to_le_bytes());
        z.extend_from_slice(&1u32.to_le_bytes());
        w.write_all(&z)?;
        (records, size, offset) = (u16::MAX as u64, U32MAX, U32MAX);
    }
    let mut eocd = Vec::with_capacity(22);
    eocd.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    eocd.extend_from_slice(&[0; 4]);
    eocd.extend_from_slice(&(records as u16).to_le_bytes());
    eocd.extend_from_slice(&(records as u16).to_le_bytes());
    eocd.extend_from_slice(&(size as u32).to_le_bytes());
    eocd.extend_from_slice(&(offset as u32).to_le_bytes());
    eocd.extend_from_slice(&0u16.to_le_bytes());
    w.write_all(&eocd)?;
    let mut inner = w.inner;
    inner.flush().context("Error creating zip")?;
    inner.get_ref().sync_all()?;
    Ok(())
}

/// Why [`run`] failed, and whether the file it leaves is whole.
struct Failed {
    error: anyhow::Error,
    /// Packer's PostProcess creates the output and its compressor before it looks at the
    /// input; a wrong number of input files or a source it cannot open ends it with the
    /// compressor closed by its `defer`s: a complete stream of nothing, which stays (as
    /// Packer leaves it). Any other failure leaves a partial file, which is removed.
    complete: bool,
}

/// Packer's first steps: the archive's directory made and the archive created (before it
/// says anything).
fn create_target(target: &Path) -> anyhow::Result<File> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::goerr::mkdir_all(dir, 0o755).map_err(|e| {
            anyhow::anyhow!("Unable to create dir for archive {}: {e}", target.display())
        })?;
    }
    File::create(target).map_err(|e| {
        anyhow::anyhow!(
            "Unable to create archive {}: {}",
            target.display(),
            crate::goerr::path_error("open", target, &e)
        )
    })
}

/// Writes the archive into `out` (the created `target`), blocking.
fn run(
    out: File,
    target: &Path,
    archive: Option<Archive>,
    algorithm: Option<Algorithm>,
    level: i64,
    files: &[PathBuf],
    cancel: &CancellationToken,
) -> Result<(), Failed> {
    let partial = |error: anyhow::Error| Failed {
        error,
        complete: false,
    };
    match archive {
        Some(Archive::Zip) => write_zip(files, out, cancel)
            .context("Error creating zip")
            .map_err(partial),
        Some(Archive::Tar) => {
            let mut sink = make_sink(out, algorithm, level, false).map_err(partial)?;
            // bgzf's blocks follow the sizes of the writes: the tar stream is written in the
            // writes Go's archive/tar makes.
            let written = if algorithm == Some(Algorithm::Bgzf) {
                write_tar_go(files, &mut sink, cancel)
            } else {
                write_tar(files, &mut sink, cancel)
            };
            written.context("Error creating tar").map_err(partial)?;
            sink.finish()
                .with_context(|| format!("Failed to finish {}", target.display()))
                .map_err(partial)
        }
        None => {
            // The stream of nothing Packer's deferred Close writes on these errors (no
            // io.Copy ran: no empty last block).
            let empty = |out: File, error: anyhow::Error| {
                let finished = make_sink(out, algorithm, level, false)
                    .and_then(|sink| sink.finish().map_err(anyhow::Error::from));
                Failed {
                    error,
                    complete: finished.is_ok(),
                }
            };
            if files.len() != 1 {
                return Err(empty(
                    out,
                    anyhow!(
                        "Can only have 1 input file when not using tar/zip. Found {} files: [{}]",
                        files.len(),
                        files
                            .iter()
                            .map(|f| f.to_string_lossy())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ));
            }
            let source = &files[0];
            let f = match File::open(source) {
                Ok(f) => f,
                Err(e) => {
                    let error = anyhow::Error::new(e).context(format!(
                        "Failed to open source file {} for reading",
                        source.display()
                    ));
                    return Err(empty(out, error));
                }
            };
            let mut sink = make_sink(out, algorithm, level, true).map_err(partial)?;
            let chunk = if algorithm == Some(Algorithm::Bgzf) {
                GO_COPY
            } else {
                CHUNK
            };
            copy_in(Cancellable { inner: f, cancel }, &mut sink, chunk)
                .with_context(|| format!("Failed to compress {}", source.display()))
                .map_err(partial)?;
            sink.finish()
                .with_context(|| format!("Failed to compress {}", source.display()))
                .map_err(partial)
        }
    }
}

#[async_trait]
impl PostProcessor for Compress {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        let data = template_data(ctx);
        let target = render_go_template(&self.output, &data)
            .map_err(|e| anyhow!("Error interpolating output value: {e}"))?;
        let target = PathBuf::from(target);
        let out = create_target(&target)?;
        let compression = self.algorithm.map_or("no compression", |a| a.name());
        match self.algorithm {
            // Packer's words: its xz and bzip2 libraries run on one core.
            Some(a @ (Algorithm::Xz | Algorithm::Bzip2)) => ctx.ui.say(format!(
                "Using {} compression with 1 core for {} (library does not support MT)",
                a.name(),
                target.display()
            )),
            Some(a) => ctx.ui.say(format!(
                "Using {} compression with {} cores for {}",
                a.name(),
                threads(),
                target.display()
            )),
            None => {}
        }
        match self.archive {
            Some(Archive::Tar) => ctx
                .ui
                .say(format!("Tarring {} with {compression}", target.display())),
            Some(Archive::Zip) => ctx.ui.say(format!("Zipping {}", target.display())),
            // Said once the input is known to be one file.
            None => {
                if let [f] = input.files.as_slice() {
                    ctx.ui
                        .say(format!("Archiving {} with {compression}", f.display()));
                }
            }
        }
        let (archive, algorithm, level) = (self.archive, self.algorithm, self.level);
        let files = input.files.clone();
        let cancel = ctx.cancel.clone();
        let t = target.clone();
        let result = tokio::task::spawn_blocking(move || {
            run(out, &t, archive, algorithm, level, &files, &cancel).map_err(|f| {
                if !f.complete {
                    // Leave no half-written archive behind.
                    let _ = std::fs::remove_file(&t);
                }
                f.error
            })
        })
        .await
        .context("compress worker failed")?;
        result?;
        ctx.ui
            .say(format!("Archive {} completed", target.display()));
        let path = target.to_string_lossy().to_string();
        Ok(PostProcessed {
            artifact: Artifact {
                destroyer: None,
                builder_id: BUILDER_ID.to_string(),
                id: String::new(),
                files: vec![target],
                description: format!("compressed artifacts in: {path}"),
                state: Default::default(),
            },
            keep: false,
            force_keep: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_follows_packer() {
        use Algorithm::*;
        use Archive::*;
        type Case<'a> = (&'a str, Option<&'a str>, Option<Archive>, Option<Algorithm>);
        let cases: &[Case] = &[
            (DEFAULT_OUTPUT, None, Some(Tar), Some(Gzip)),
            ("out.tar.gz", None, Some(Tar), Some(Gzip)),
            ("out.tgz", None, Some(Tar), Some(Gzip)),
            ("out.tar", None, Some(Tar), None),
            ("out.zip", None, Some(Zip), None),
            ("out.tar.zip", None, Some(Zip), None),
            ("out.gz", None, None, Some(Gzip)),
            ("disk.raw.gz", None, None, Some(Gzip)),
            ("out.lz4", None, None, Some(Lz4)),
            ("out.tar.lz4", None, Some(Tar), Some(Lz4)),
            ("out.bgzf", None, None, Some(Bgzf)),
            ("out.xz", None, None, Some(Xz)),
            ("out.tar.xz", None, Some(Tar), Some(Xz)),
            ("out.bz2", None, Some(Tar), Some(Gzip)),
            ("out.tar.bz2", None, Some(Tar), Some(Gzip)),
            ("out.bzip2", None, None, Some(Bzip2)),
            ("out.tar.bzip2", None, Some(Tar), Some(Bzip2)),
            ("out.img", None, Some(Tar), Some(Gzip)),
            ("OUT.ZIP", None, Some(Tar), Some(Gzip)),
            ("dir.d/out", None, Some(Tar), Some(Gzip)),
            ("./build/out.zip", None, Some(Zip), None),
            ("out", Some("zip"), Some(Zip), None),
            ("out", Some("tar.xz"), Some(Tar), Some(Xz)),
            ("out.tar", Some("gz"), Some(Tar), Some(Gzip)),
            ("out", Some("lz4"), None, Some(Lz4)),
            ("out", Some("bzip2"), None, Some(Bzip2)),
            ("out", Some(""), Some(Tar), Some(Gzip)),
        ];
        for (output, format, archive, algorithm) in cases {
            assert_eq!(
                detect(output, *format),
                (*archive, *algorithm),
                "{output} {format:?}"
            );
        }
    }
}
