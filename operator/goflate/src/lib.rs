//! Go's `compress/flate` encoder and `compress/gzip` writer, and klauspost/compress's `flate`
//! encoder with klauspost/pgzip's parallel gzip writer, ported to Rust so that Kiln writes the
//! same bytes as Packer where Packer compresses: HCL's `base64gzip` (Go's standard library)
//! and the `compress` post-processor's `.gz`/`.tar.gz` (pgzip).
//!
//! The Go port follows Go 1.26's `deflate.go`, `deflatefast.go`, `huffman_code.go`,
//! `huffman_bit_writer.go` and `token.go` step by step (matching, block splitting, the choice
//! between stored, fixed and dynamic blocks, the Huffman code construction and its
//! tie-breaking), for every level Go accepts: -2 (Huffman only), -1 (default, 6), 0 (stored),
//! 1 (`deflatefast`) and 2–9 (hash chains). The klauspost port ([`PgzipWriter`]) follows
//! klauspost/compress 1.18.6 (fast encoders for levels 1–6, the lazy matcher for 7–9, stored
//! and Huffman-only blocks, its table-reusing block writer) and pgzip 1.2.6 (blocks with the
//! previous block's tail as dictionary, a sync flush after each). The output is compared with
//! Go's own on generated inputs by `oracle/compare.sh`; `tests/vectors.rs` holds bytes Go
//! produced.
//!
//! Go's source is Copyright 2009 The Go Authors (BSD-style license, `LICENSE-GO`);
//! klauspost/compress is Copyright 2012 The Go Authors and 2019 Klaus Post (BSD-style,
//! `LICENSE-KLAUSPOST-COMPRESS`); pgzip is Copyright 2014 Klaus Post (MIT, `LICENSE-PGZIP`).

mod deflate;
mod fast;
mod huffman;
mod kp;
mod token;

use std::io::{self, Write};

use deflate::Compressor;
pub use kp::{PACKER_BLOCK_SIZE, PgzipWriter, pgzip, pgzip_has_level};

/// Go's `flate.NoCompression`.
pub const NO_COMPRESSION: i32 = 0;
/// Go's `flate.BestSpeed`.
pub const BEST_SPEED: i32 = 1;
/// Go's `flate.BestCompression`.
pub const BEST_COMPRESSION: i32 = 9;
/// Go's `flate.DefaultCompression` (level 6).
pub const DEFAULT_COMPRESSION: i32 = -1;
/// Go's `flate.HuffmanOnly`.
pub const HUFFMAN_ONLY: i32 = -2;

/// A level outside -2..=9.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("flate: invalid compression level {0}: want value in range [-2, 9]")]
pub struct InvalidLevel(pub i32);

/// A raw DEFLATE stream writer (Go's `flate.Writer`): `write`, `flush` (a sync flush, as
/// Go's `Flush`), and [`Writer::finish`] (Go's `Close`).
pub struct Writer<W: Write> {
    c: Compressor,
    inner: W,
    closed: bool,
}

impl<W: Write> Writer<W> {
    /// A writer at `level` (-2 to 9; -1 is the default, 6), as Go's `flate.NewWriter`.
    pub fn new(inner: W, level: i32) -> Result<Self, InvalidLevel> {
        let c = Compressor::new(level).ok_or(InvalidLevel(level))?;
        Ok(Writer {
            c,
            inner,
            closed: false,
        })
    }

    fn drain(&mut self) -> io::Result<()> {
        if !self.c.w.out.is_empty() {
            let r = self.inner.write_all(&self.c.w.out);
            self.c.w.out.clear();
            r?;
        }
        Ok(())
    }

    /// Go's `Close`: compresses what is pending and ends the stream with a final empty
    /// stored block. Further calls do nothing.
    pub fn close(&mut self) -> io::Result<()> {
        if !self.closed {
            self.closed = true;
            self.c.close();
            self.drain()?;
        }
        Ok(())
    }

    /// Closes the stream and gives back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.close()?;
        Ok(self.inner)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::Error::other("flate: closed writer"));
        }
        self.c.write(buf);
        self.drain()?;
        Ok(buf.len())
    }

    /// Go's `Flush` (zlib's `Z_SYNC_FLUSH`): an empty stored block ends what was written so
    /// far, byte-aligned.
    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.c.sync_flush();
        self.drain()?;
        self.inner.flush()
    }
}

/// Go's `gzip.Writer` with a zero header (no name, comment, extra or time; OS 255): the
/// header, the DEFLATE stream, the CRC-32 and the length modulo 2^32.
pub struct GzWriter<W: Write> {
    level: i32,
    z: Option<Writer<W>>,
    inner: Option<W>,
    crc: crc32fast::Hasher,
    size: u32,
}

impl<W: Write> GzWriter<W> {
    /// Go's `gzip.NewWriterLevel` (-2 to 9).
    pub fn new(inner: W, level: i32) -> Result<Self, InvalidLevel> {
        if !(HUFFMAN_ONLY..=BEST_COMPRESSION).contains(&level) {
            return Err(InvalidLevel(level));
        }
        Ok(GzWriter {
            level,
            z: None,
            inner: Some(inner),
            crc: crc32fast::Hasher::new(),
            size: 0,
        })
    }

    /// The deflate writer, after writing the header on first use (as Go writes it lazily).
    fn z(&mut self) -> io::Result<&mut Writer<W>> {
        if self.z.is_none() {
            let mut inner = self
                .inner
                .take()
                .expect("a gzip writer has its inner writer");
            let xfl = match self.level {
                BEST_COMPRESSION => 2,
                BEST_SPEED => 4,
                _ => 0,
            };
            inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])?;
            self.z = Some(Writer::new(inner, self.level).map_err(io::Error::other)?);
        }
        Ok(self.z.as_mut().expect("set above"))
    }

    /// Go's `Close`: ends the stream and writes the trailer; gives back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let digest = self.crc.clone().finalize();
        let size = self.size;
        self.z()?;
        let z = self.z.take().expect("set above");
        let mut inner = z.finish()?;
        inner.write_all(&digest.to_le_bytes())?;
        inner.write_all(&size.to_le_bytes())?;
        Ok(inner)
    }
}

impl<W: Write> Write for GzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.size = self.size.wrapping_add(buf.len() as u32);
        self.crc.update(buf);
        self.z()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.z()?.flush()
    }
}

/// `data` compressed as a raw DEFLATE stream at `level` (one `Write`, then `Close`).
pub fn deflate(data: &[u8], level: i32) -> Result<Vec<u8>, InvalidLevel> {
    let mut w = Writer::new(Vec::with_capacity(data.len() / 2 + 64), level)?;
    w.write_all(data).expect("writing to a Vec");
    Ok(w.finish().expect("writing to a Vec"))
}

/// `data` gzipped at `level` as Go's `gzip.Writer` does with one `Write` then `Close`.
pub fn gzip(data: &[u8], level: i32) -> Result<Vec<u8>, InvalidLevel> {
    let mut w = GzWriter::new(Vec::with_capacity(data.len() / 2 + 64), level)?;
    w.write_all(data).expect("writing to a Vec");
    Ok(w.finish().expect("writing to a Vec"))
}
