//! The `.xz` writer of the Go library github.com/ulikunitz/xz v0.5.15, ported to Rust so that
//! Kiln writes the same bytes as Packer's `compress` post-processor, which calls
//! `xz.NewWriter(output)` with the default `WriterConfig`.
//!
//! That configuration is: LZMA properties lc=3 lp=0 pb=2, an 8 MiB dictionary, a 4096-byte
//! look-ahead buffer, the `HashTable4` match finder (a greedy longest-match search over
//! distances 1..=8 and up to 16 hash-chain candidates), CRC-64 checks, and a block size of
//! `maxInt64`, so the stream always holds exactly one block whose LZMA2 data is cut into
//! chunks of at most 2 MiB uncompressed / 64 KiB compressed (a chunk goes out stored when that
//! is shorter). The modules follow the Go files:
//!
//! | module | Go source |
//! | --- | --- |
//! | this file | `writer.go`, `format.go`, `bits.go`, `lzmafilter.go`, `crc.go` |
//! | `crc64` | `hash/crc64` (ECMA table) |
//! | `writer2` | `lzma/writer2.go`, `lzma/header2.go` |
//! | `encoder` | `lzma/encoder.go`, `lzma/operation.go` |
//! | `dict` | `lzma/encoderdict.go`, `lzma/buffer.go` |
//! | `hashtable` | `lzma/hashtable.go`, `internal/hash/cyclic_poly.go` |
//! | `rangecoder` | `lzma/rangecodec.go`, `lzma/prob.go`, `lzma/bytewriter.go` |
//! | `codecs` | `lzma/literalcodec.go`, `lzma/lengthcodec.go`, `lzma/distcodec.go`, `lzma/treecodecs.go`, `lzma/directcodec.go`, `lzma/bitops.go` |
//! | `state` | `lzma/state.go`, `lzma/properties.go` |
//!
//! Memory use is bounded as in Go, whatever the input size: the 8 MiB + 4 KiB dictionary
//! buffer, a 64 KiB chunk buffer and the 64 MiB hash table of `hashtable` (which stores Go's
//! hash chains in a cache-friendlier layout with the same results; Go uses 40 MiB there). The
//! output does not depend on how the input is split into `write` calls.
//!
//! `oracle/` holds the Go program the output was compared with and `oracle/compare.sh`, which
//! runs the comparison on the inputs of `tests/common/gen.rs`; `tests/vectors.rs` keeps the
//! digests of Go's output for them.
//!
//! ulikunitz/xz is Copyright (c) 2014-2022 Ulrich Kunitz (BSD-style license,
//! `LICENSE-ULIKUNITZ-XZ`).

mod codecs;
mod crc64;
mod dict;
mod encoder;
mod hashtable;
mod rangecoder;
mod state;
mod writer2;

use std::io::{self, Write};

use crc64::Crc64;
use writer2::Writer2;

/// `WriterConfig.DictCap` default: 8 MiB.
const DICT_CAP: usize = 8 * 1024 * 1024;
/// `WriterConfig.BufSize` default: 4096.
const BUF_SIZE: usize = 4096;
/// `CRC64`: the check method flag of the stream header and footer.
const CHECK_CRC64: u8 = 0x4;
/// `headerMagic`
const HEADER_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
/// `footerMagic`
const FOOTER_MAGIC: [u8; 2] = *b"YZ";
/// `lzmaFilterID`
const LZMA_FILTER_ID: u8 = 0x21;
/// Size of the CRC-64 check.
const CHECK_SIZE: usize = 8;

/// `padLen`: padding to a multiple of four.
fn pad_len(n: u64) -> usize {
    let k = (n % 4) as usize;
    if k > 0 { 4 - k } else { 0 }
}

/// `putUvarint`
fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

fn crc32(p: &[u8]) -> u32 {
    crc32fast::hash(p)
}

/// `lzma.decodeDictCap`
fn decode_dict_cap(c: u8) -> i64 {
    (2 | (i64::from(c) & 1)) << (11 + ((c >> 1) & 0x1f))
}

/// `lzma.EncodeDictCap`: the smallest code whose capacity is at least `n`.
fn encode_dict_cap(n: i64) -> u8 {
    let (mut a, mut b) = (0u8, 40u8);
    while a < b {
        let c = a + ((b - a) >> 1);
        let m = decode_dict_cap(c);
        if n <= m {
            if n == m {
                return c;
            }
            b = c;
        } else {
            a = c + 1;
        }
    }
    a
}

/// `header.MarshalBinary`: the 12-byte stream header.
fn stream_header() -> [u8; 12] {
    let mut data = [0u8; 12];
    data[..6].copy_from_slice(&HEADER_MAGIC);
    data[7] = CHECK_CRC64;
    let crc = crc32(&data[6..8]);
    data[8..].copy_from_slice(&crc.to_le_bytes());
    data
}

/// `blockHeader.MarshalBinary` with unknown sizes and the single LZMA2 filter
/// (`lzmaFilter.MarshalBinary`).
fn block_header() -> Vec<u8> {
    let mut buf = vec![0u8];
    // flags: one filter, no compressed or uncompressed size
    buf.push(0);
    buf.extend_from_slice(&[LZMA_FILTER_ID, 1, encode_dict_cap(DICT_CAP as i64)]);
    buf.resize(buf.len() + pad_len(buf.len() as u64), 0);
    buf.extend_from_slice(&[0; 4]);
    let n = buf.len();
    buf[0] = (n / 4 - 1) as u8;
    let crc = crc32(&buf[..n - 4]);
    buf[n - 4..].copy_from_slice(&crc.to_le_bytes());
    buf
}

/// `writeIndex` for the records, returning the index bytes.
fn index(records: &[(u64, u64)]) -> Vec<u8> {
    let mut p = vec![0u8];
    put_uvarint(&mut p, records.len() as u64);
    for &(unpadded, uncompressed) in records {
        put_uvarint(&mut p, unpadded);
        put_uvarint(&mut p, uncompressed);
    }
    p.resize(p.len() + pad_len(p.len() as u64), 0);
    let crc = crc32(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// `footer.MarshalBinary`
fn footer(index_size: u64) -> io::Result<[u8; 12]> {
    if !(4..=(1u64 << 32) * 4).contains(&index_size) || !index_size.is_multiple_of(4) {
        return Err(io::Error::other("xz: index size out of range"));
    }
    let mut data = [0u8; 12];
    data[4..8].copy_from_slice(&((index_size / 4 - 1) as u32).to_le_bytes());
    data[9] = CHECK_CRC64;
    data[10..].copy_from_slice(&FOOTER_MAGIC);
    let crc = crc32(&data[4..10]);
    data[..4].copy_from_slice(&crc.to_le_bytes());
    Ok(data)
}

/// `countingWriter`: counts the LZMA2 bytes of the block.
struct CountingWriter<'a, W: Write> {
    w: &'a mut W,
    n: &'a mut u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.w.write(buf)?;
        *self.n += k as u64;
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// An xz compressor producing the bytes of ulikunitz/xz's `xz.NewWriter(w)` (v0.5.15) for the
/// same input. Data is buffered (up to the 8 MiB dictionary plus the current chunk); call
/// [`XzWriter::finish`] to write the rest, the index and the footer. Dropping the writer
/// without `finish` leaves an incomplete stream. After an error the writer refuses more input.
pub struct XzWriter<W: Write> {
    inner: W,
    /// the block's LZMA2 writer (`blockWriter.w`)
    w2: Writer2,
    /// the block's check (`blockWriter.hash`)
    hash: Crc64,
    /// LZMA2 bytes written (`blockWriter.cxz.n`)
    compressed: u64,
    /// input bytes accepted (`blockWriter.n`)
    uncompressed: u64,
    /// `blockWriter.headerLen`
    header_len: usize,
    failed: bool,
}

impl<W: Write> XzWriter<W> {
    /// `xz.NewWriter`: writes the stream header and the block header.
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(&stream_header())?;
        let w2 = Writer2::new(DICT_CAP, BUF_SIZE);
        let bh = block_header();
        inner.write_all(&bh)?;
        Ok(XzWriter {
            inner,
            w2,
            hash: Crc64::new(),
            compressed: 0,
            uncompressed: 0,
            header_len: bh.len(),
            failed: false,
        })
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer; writing to it directly corrupts the stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn check(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("xz: writer failed earlier"));
        }
        Ok(())
    }

    /// `Writer.Close`: finishes the block (remaining chunks, end-of-stream chunk, padding and
    /// CRC-64), writes the index and the stream footer, flushes and returns the underlying
    /// writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.check()?;
        // blockWriter.Close
        let mut cw = CountingWriter {
            w: &mut self.inner,
            n: &mut self.compressed,
        };
        self.w2.close(&mut cw)?;
        let k = pad_len(self.compressed);
        let mut p = vec![0u8; k];
        p.extend_from_slice(&self.hash.sum64().to_le_bytes());
        self.inner.write_all(&p)?;
        // blockWriter.record
        let unpadded = self.header_len as u64 + self.compressed + CHECK_SIZE as u64;
        let idx = index(&[(unpadded, self.uncompressed)]);
        self.inner.write_all(&idx)?;
        self.inner.write_all(&footer(idx.len() as u64)?)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for XzWriter<W> {
    /// `Writer.Write` (the block size is unlimited, so there is only one block).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        let mut cw = CountingWriter {
            w: &mut self.inner,
            n: &mut self.compressed,
        };
        match self.w2.write(&mut cw, buf) {
            Ok(n) => {
                self.uncompressed += n as u64;
                self.hash.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Flushes the underlying writer only: Go's writer has no flush, and cutting a chunk here
    /// would change the output.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Compresses `data` in one go (`xz.NewWriter` on a buffer, `Write`, `Close`).
pub fn compress(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut w = XzWriter::new(Vec::new())?;
    w.write_all(data)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_cap_code() {
        assert_eq!(encode_dict_cap(8 << 20), 22);
        assert_eq!(decode_dict_cap(22), 8 << 20);
        assert_eq!(encode_dict_cap(4096), 0);
        assert_eq!(encode_dict_cap(12 << 10), 3);
        assert_eq!(encode_dict_cap(12 << 10 | 1), 4);
    }

    #[test]
    fn headers() {
        assert_eq!(
            stream_header(),
            [
                0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46
            ]
        );
        assert_eq!(
            block_header(),
            [
                0x02, 0x00, 0x21, 0x01, 0x16, 0x00, 0x00, 0x00, 0x74, 0x2f, 0xe5, 0xa3
            ]
        );
    }

    #[test]
    fn hello_matches_go() {
        // printf hello | xzref | xxd (Go, ulikunitz/xz v0.5.15)
        let want: [u8; 64] = [
            0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46, 0x02, 0x00,
            0x21, 0x01, 0x16, 0x00, 0x00, 0x00, 0x74, 0x2f, 0xe5, 0xa3, 0x01, 0x00, 0x04, 0x68,
            0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x00, 0x00, 0x00, 0xb1, 0x37, 0xb9, 0xdb, 0xe5, 0xda,
            0x1e, 0x9b, 0x00, 0x01, 0x1d, 0x05, 0xb8, 0x2d, 0x80, 0xaf, 0x1f, 0xb6, 0xf3, 0x7d,
            0x01, 0x00, 0x00, 0x00, 0x00, 0x04, 0x59, 0x5a,
        ];
        assert_eq!(compress(b"hello").unwrap(), want);
    }
}
