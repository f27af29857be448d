//! Byte-exact Rust port of the bzip2 **writer** of the Go module
//! [`github.com/dsnet/compress`](https://github.com/dsnet/compress)
//! (version `v0.0.2-0.20230904184137-39efe44ab707`, package `bzip2`,
//! plus the parts of `internal/prefix` and `internal` it uses).
//!
//! The original Go code is Copyright © 2015, Joe Tsai and The Go Authors,
//! licensed under the BSD-3-Clause license; see `LICENSE-DSNET-COMPRESS`.
//!
//! The output is identical to that of
//! `bzip2.NewWriter(w, &bzip2.WriterConfig{Level: level})` followed by
//! writes and `Close()`. Notable dsnet specifics reproduced here:
//!
//! * a block holds up to `level * 100000` bytes of RLE1 output (not the
//!   `-19` margin of the C implementation), and a block is only cut when a
//!   byte does not fit (runs may still be extended in a full buffer);
//! * the BWT is computed from the suffix array of the doubled block, so
//!   equal rotations of periodic inputs are ordered by descending offset;
//! * the tree count depends on the symbol count (thresholds 200/600/1200/2400),
//!   and selectors are assigned round-robin (`i % numTrees`) with no
//!   iterative refinement; Huffman lengths come from dsnet's two-queue
//!   algorithm with its tree-rotation length limiting (max 20 bits).
//!
//! The block cut does not depend on how the input is split into writes.

use std::io::{self, Write};

mod prefix;
mod sais;

use prefix::PrefixCode;

const BLOCK_SIZE: usize = 100_000;
const BLK_MAGIC: u64 = 0x3141_5926_5359;
const END_MAGIC: u64 = 0x1772_4538_5090;

const MIN_NUM_TREES: usize = 2;
const MAX_NUM_TREES: usize = 6;
const MAX_PREFIX_BITS: u32 = 20;
const NUM_BLOCK_SYMS: usize = 50;

// ---------------------------------------------------------------------------
// CRC-32 as used by bzip2 (MSB-first, poly 0x04c11db7).

const fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}
static CRC_TABLE: [u32; 256] = crc_table();

/// Equivalent of dsnet's `crc.update` (value kept post-inverted, starts at 0).
fn crc_update(val: u32, buf: &[u8]) -> u32 {
    let mut c = !val;
    for &b in buf {
        c = (c << 8) ^ CRC_TABLE[((c >> 24) as u8 ^ b) as usize];
    }
    !c
}

// ---------------------------------------------------------------------------
// MSB-first bit writer (equivalent to prefix.Writer in big-endian mode).

struct BitWriter {
    out: Vec<u8>,
    bits: u64,
    nbits: u32,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
        }
    }

    /// Writes the low `nb` bits of `v`, most significant first (nb <= 32).
    #[inline]
    fn put(&mut self, v: u32, nb: u32) {
        debug_assert!(nb <= 32);
        if nb == 0 {
            return;
        }
        self.bits = (self.bits << nb) | (v as u64 & ((1u64 << nb) - 1));
        self.nbits += nb;
        while self.nbits >= 8 {
            self.nbits -= 8;
            self.out.push((self.bits >> self.nbits) as u8);
        }
    }

    /// `WriteBitsBE64`.
    fn put64(&mut self, v: u64, nb: u32) {
        if nb > 32 {
            self.put((v >> 32) as u32, nb - 32);
            self.put(v as u32, 32);
        } else {
            self.put(v as u32, nb);
        }
    }

    /// `WritePads(0)`.
    fn pad(&mut self) {
        let nb = (8 - self.nbits % 8) % 8;
        self.put(0, nb);
    }
}

// ---------------------------------------------------------------------------
// RLE1 stage (rle1.go).

struct Rle {
    buf: Vec<u8>,
    idx: usize,
    last_val: u8,
    last_cnt: u32,
}

impl Rle {
    fn init(&mut self) {
        self.idx = 0;
        self.last_val = 0;
        self.last_cnt = 0;
    }

    /// Returns the number of input bytes consumed; fewer than `input.len()`
    /// means the block buffer is full (`rleDone`).
    fn write(&mut self, input: &[u8]) -> usize {
        let cap = self.buf.len();
        for (i, &b) in input.iter().enumerate() {
            if self.last_val != b {
                self.last_cnt = 0;
            }
            self.last_cnt += 1;
            if self.last_cnt < 4 {
                if self.idx >= cap {
                    return i;
                }
                self.buf[self.idx] = b;
                self.idx += 1;
            } else if self.last_cnt == 4 {
                if self.idx + 1 >= cap {
                    return i;
                }
                self.buf[self.idx] = b;
                self.buf[self.idx + 1] = 0;
                self.idx += 2;
            } else if self.last_cnt < 256 {
                self.buf[self.idx - 1] = self.buf[self.idx - 1].wrapping_add(1);
            } else {
                if self.idx >= cap {
                    return i;
                }
                self.last_cnt = 1;
                self.buf[self.idx] = b;
                self.idx += 1;
            }
            self.last_val = b;
        }
        input.len()
    }
}

// ---------------------------------------------------------------------------
// BWT (bwt.go): suffix array of buf+buf, keep suffixes starting in the first half.

fn bwt_encode(buf: &mut [u8]) -> u32 {
    let n = buf.len();
    if n == 0 {
        return u32::MAX; // -1 in Go; never reached (empty blocks are not encoded)
    }
    let mut t = Vec::with_capacity(2 * n);
    t.extend_from_slice(buf);
    t.extend_from_slice(buf);
    let sa = sais::suffix_array_u8(&t);
    let buf2 = &t[n..];
    let mut ptr = 0u32;
    let mut j = 0usize;
    for &i in &sa {
        let mut i = i as usize;
        if i < n {
            if i == 0 {
                ptr = j as u32;
                i = n;
            }
            buf[j] = buf2[i - 1];
            j += 1;
        }
    }
    ptr
}

// ---------------------------------------------------------------------------
// MTF + RLE2 (mtf_rle2.go).

fn mtf_encode(dict_in: &[u8], vals: &[u8], syms: &mut Vec<u16>) {
    let mut dict = [0u8; 256];
    dict[..dict_in.len()].copy_from_slice(dict_in);
    let dict = &mut dict[..dict_in.len()];
    syms.clear();
    let mut last_num: u32 = 0;
    let flush_run = |syms: &mut Vec<u16>, last_num: u32| {
        let mut rc = last_num + 1;
        while rc != 1 {
            syms.push((rc & 1) as u16);
            rc >>= 1;
        }
    };
    for &val in vals {
        let idx = dict.iter().position(|&d| d == val).unwrap_or(0);
        dict.copy_within(0..idx, 1);
        dict[0] = val;
        if idx == 0 {
            last_num += 1;
            continue;
        }
        if last_num > 0 {
            flush_run(syms, last_num);
            last_num = 0;
        }
        syms.push(idx as u16 + 1);
    }
    if last_num > 0 {
        flush_run(syms, last_num);
    }
}

// ---------------------------------------------------------------------------
// Block encoder (writer.go encodeBlock / encodePrefix).

fn encode_block(bw: &mut BitWriter, blk_crc: u32, buf: &mut [u8], syms: &mut Vec<u16>) {
    bw.put64(BLK_MAGIC, 48);
    bw.put(blk_crc, 32);
    bw.put(0, 1);

    let ptr = bwt_encode(buf);
    bw.put(ptr, 24);

    let mut dict_map = [false; 256];
    for &c in buf.iter() {
        dict_map[c as usize] = true;
    }
    let mut dict: Vec<u8> = Vec::with_capacity(256);
    let mut bmap_lo = [0u16; 16];
    let mut bmap_hi = 0u16;
    for (i, &b) in dict_map.iter().enumerate() {
        if b {
            let c = i as u8;
            dict.push(c);
            bmap_hi |= 1 << (c >> 4);
            bmap_lo[(c >> 4) as usize] |= 1 << (c & 0xf);
        }
    }
    // Go writes these with the LSB-first WriteBits: bit k of the mask goes
    // out k-th, i.e. range 0 first -- same as writing the reversed mask MSB-first.
    bw.put(bmap_hi.reverse_bits() as u32, 16);
    for &m in &bmap_lo {
        if m > 0 {
            bw.put(m.reverse_bits() as u32, 16);
        }
    }

    mtf_encode(&dict, buf, syms);
    encode_prefix(bw, syms, dict.len());
}

fn encode_prefix(bw: &mut BitWriter, syms: &mut Vec<u16>, num_syms: usize) {
    let num_syms = num_syms + 2;
    assert!(num_syms >= 3, "unable to encode EOB marker");
    syms.push((num_syms - 1) as u16);

    let mut num_trees = MAX_NUM_TREES;
    for (i, &lim) in [200usize, 600, 1200, 2400].iter().enumerate() {
        if syms.len() < lim {
            num_trees = MIN_NUM_TREES + i;
            break;
        }
    }

    let num_sels = syms.len().div_ceil(NUM_BLOCK_SYMS);
    let tree_sels: Vec<u8> = (0..num_sels).map(|i| (i % num_trees) as u8).collect();

    let mut codes: Vec<Vec<PrefixCode>> = (0..num_trees)
        .map(|_| {
            (0..num_syms)
                .map(|j| PrefixCode {
                    sym: j as u32,
                    ..Default::default()
                })
                .collect()
        })
        .collect();

    for (k, &sym) in syms.iter().enumerate() {
        let t = tree_sels[k / NUM_BLOCK_SYMS] as usize;
        codes[t][sym as usize].cnt += 1;
    }

    for pc in codes.iter_mut() {
        prefix::sort_by_count(pc);
        prefix::generate_lengths(pc, MAX_PREFIX_BITS);
        prefix::sort_by_symbol(pc);
    }

    bw.put(num_trees as u32, 3);
    bw.put(num_sels as u32, 15);
    // Selector MTF (internal.MoveToFront, fresh instance => identity dict).
    let mut mtf: Vec<u8> = (0..MAX_NUM_TREES as u8).collect();
    for &s in &tree_sels {
        let idx = mtf.iter().position(|&d| d == s).unwrap();
        mtf.copy_within(0..idx, 1);
        mtf[0] = s;
        // encSel: idx ones followed by a zero (idx < 6 always).
        bw.put(((1u32 << idx) - 1) << 1, idx as u32 + 1);
    }

    // WritePrefixCodes.
    for pc in codes.iter_mut() {
        prefix::generate_prefixes(pc);
        let mut clen = pc[0].len;
        bw.put(clen, 5);
        for c in pc.iter() {
            while c.len < clen {
                bw.put(0b11, 2);
                clen -= 1;
            }
            while c.len > clen {
                bw.put(0b10, 2);
                clen += 1;
            }
            bw.put(0, 1);
        }
    }

    for (k, &sym) in syms.iter().enumerate() {
        let t = tree_sels[k / NUM_BLOCK_SYMS] as usize;
        let c = codes[t][sym as usize];
        bw.put(c.val, c.len);
    }
}

// ---------------------------------------------------------------------------
// Public writer.

/// bzip2 stream writer producing the same bytes as dsnet/compress's
/// `bzip2.Writer`.
pub struct Bzip2Writer<W: Write> {
    inner: W,
    level: i32,
    wr_hdr: bool,
    crc: u32,
    end_crc: u32,
    rle: Rle,
    bw: BitWriter,
    syms: Vec<u16>,
    /// Set after an error from the inner writer; like Go's sticky `zw.err`.
    failed: bool,
}

impl<W: Write> Bzip2Writer<W> {
    /// dsnet's `bzip2.NewWriter` with `WriterConfig{Level: level}`;
    /// `level` must be in `1..=9`, otherwise `None` is returned.
    /// (Go maps level 0 to its default of 6; that mapping is not applied here.)
    pub fn new(inner: W, level: i32) -> Option<Self> {
        if !(1..=9).contains(&level) {
            return None;
        }
        Some(Bzip2Writer {
            inner,
            level,
            wr_hdr: false,
            crc: 0,
            end_crc: 0,
            rle: Rle {
                buf: vec![0; level as usize * BLOCK_SIZE],
                idx: 0,
                last_val: 0,
                last_cnt: 0,
            },
            bw: BitWriter::new(),
            syms: Vec::new(),
            failed: false,
        })
    }

    fn write_header(&mut self) {
        if !self.wr_hdr {
            self.bw.put(0x425a, 16);
            self.bw.put(b'h' as u32, 8);
            self.bw.put(b'0' as u32 + self.level as u32, 8);
            self.wr_hdr = true;
        }
    }

    fn drain(&mut self) -> io::Result<()> {
        if !self.bw.out.is_empty() {
            if let Err(e) = self.inner.write_all(&self.bw.out) {
                self.failed = true;
                return Err(e);
            }
            self.bw.out.clear();
        }
        Ok(())
    }

    fn check_failed(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "bzip2: previous write to the underlying writer failed",
            ));
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.rle.idx == 0 {
            return Ok(());
        }
        self.write_header();
        let blk_crc = self.crc;
        self.crc = 0;
        let n = self.rle.idx;
        encode_block(
            &mut self.bw,
            blk_crc,
            &mut self.rle.buf[..n],
            &mut self.syms,
        );
        self.drain()?;
        self.end_crc = self.end_crc.rotate_left(1) ^ blk_crc;
        self.rle.init();
        Ok(())
    }

    /// Close: flushes the last block and writes the stream footer; gives the
    /// inner writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.check_failed()?;
        self.flush_block()?;
        self.write_header();
        self.bw.put64(END_MAGIC, 48);
        self.bw.put(self.end_crc, 32);
        self.bw.pad();
        self.drain()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Bzip2Writer<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        self.check_failed()?;
        let cnt = buf.len();
        loop {
            let n = self.rle.write(buf);
            self.crc = crc_update(self.crc, &buf[..n]);
            buf = &buf[n..];
            if buf.is_empty() {
                return Ok(cnt);
            }
            self.flush_block()?;
        }
    }

    /// Like Go's Writer, there is no explicit flush of a partial block;
    /// this only flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_bzip2_check_value() {
        // CRC-32/BZIP2 check value for "123456789".
        assert_eq!(crc_update(0, b"123456789"), 0xFC89_1918);
    }

    #[test]
    fn rejects_bad_levels() {
        assert!(Bzip2Writer::new(Vec::new(), 0).is_none());
        assert!(Bzip2Writer::new(Vec::new(), 10).is_none());
        assert!(Bzip2Writer::new(Vec::new(), 1).is_some());
    }
}
