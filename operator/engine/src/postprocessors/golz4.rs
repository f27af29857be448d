//! The `compress` post-processor's `.lz4`: pierrec/lz4 v4.1.22's frame writer (Packer's),
//! ported so Kiln writes Packer's bytes. The frame: 4 MiB independent blocks, a content
//! checksum, no block checksums; each block compressed by pierrec's own fast compressor
//! (`CompressBlock`: hashes of 6 bytes, three positions tried per step) or, for a
//! `compression_level` of 1 to 9, its hash-chain compressor (`CompressBlockHC`, searching
//! `1 << (8 + level)` candidates), and stored as it is when that does not make it smaller.
//!
//! pierrec/lz4 is Copyright (c) 2015 Pierre Curto (BSD 3-Clause license).

use std::io::{self, Write};

use xxhash_rust::xxh32::Xxh32;

const MIN_MATCH: usize = 4;
const WIN_SIZE: usize = 1 << 16;
const WIN_MASK: usize = WIN_SIZE - 1;
const HASH_LOG: u32 = 16;
const HT_SIZE: usize = 1 << HASH_LOG;
const MF_LIMIT: usize = 10 + MIN_MATCH;
const ADAPT_SKIP_LOG: usize = 7;
/// The frame's block size (pierrec's default, `Block4Mb`).
pub const BLOCK_SIZE: usize = 4 << 20;

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default())
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default())
}

fn block_hash(x: u64) -> u32 {
    const PRIME6BYTES: u64 = 227718039650203;
    ((x << (64 - 48)).wrapping_mul(PRIME6BYTES) >> (64 - HASH_LOG)) as u32
}

fn block_hash_hc(x: u32) -> u32 {
    x.wrapping_mul(2654435761) >> (32 - 16)
}

/// The output of a block compressor, written as Go writes into a slice of the source's
/// length: `None` where Go gives up (the block is then stored as it is).
struct Dst {
    buf: Vec<u8>,
    cap: usize,
}

impl Dst {
    fn set(&mut self, i: usize, b: u8) -> Option<()> {
        (i < self.cap).then(|| {
            if self.buf.len() <= i {
                self.buf.resize(i + 1, 0);
            }
            self.buf[i] = b;
        })
    }

    fn or(&mut self, i: usize, b: u8) -> Option<()> {
        (i < self.cap).then(|| {
            if self.buf.len() <= i {
                self.buf.resize(i + 1, 0);
            }
            self.buf[i] |= b;
        })
    }

    fn copy(&mut self, at: usize, src: &[u8]) -> Option<()> {
        (at + src.len() <= self.cap).then(|| {
            if self.buf.len() < at + src.len() {
                self.buf.resize(at + src.len(), 0);
            }
            self.buf[at..at + src.len()].copy_from_slice(src);
        })
    }
}

/// pierrec's `Compressor`: the last position (low 16 bits) of each hash, and which are set.
struct Table {
    table: Vec<u16>,
    in_use: Vec<u32>,
}

impl Table {
    fn new() -> Table {
        Table {
            table: vec![0; HT_SIZE],
            in_use: vec![0; HT_SIZE / 32],
        }
    }

    fn get(&self, h: u32, si: usize) -> isize {
        let h = (h as usize) & (HT_SIZE - 1);
        let mut i = 0isize;
        if self.in_use[h / 32] & (1 << (h % 32)) != 0 {
            i = self.table[h] as isize;
        }
        i += (si & !WIN_MASK) as isize;
        if i >= si as isize {
            i -= WIN_SIZE as isize;
        }
        i
    }

    fn put(&mut self, h: u32, si: usize) {
        let h = (h as usize) & (HT_SIZE - 1);
        self.table[h] = si as u16;
        self.in_use[h / 32] |= 1 << (h % 32);
    }
}

/// Writes a sequence's literal length (the token's high half, then its extra bytes).
fn literal_length(dst: &mut Dst, di: &mut usize, l_len: usize) -> Option<()> {
    if l_len < 0xF {
        dst.or(*di, (l_len << 4) as u8)?;
    } else {
        dst.or(*di, 0xF0)?;
        *di += 1;
        let mut l = l_len - 0xF;
        while l >= 0xFF {
            dst.set(*di, 0xFF)?;
            *di += 1;
            l -= 0xFF;
        }
        dst.set(*di, l as u8)?;
    }
    *di += 1;
    Some(())
}

/// One sequence: the token (match length beyond the minimum, literal count), the literals,
/// the offset, the match length's extra bytes. `None` where the output would not fit.
fn sequence(
    dst: &mut Dst,
    di: &mut usize,
    literals: &[u8],
    offset: usize,
    mut m_len: usize,
) -> Option<()> {
    dst.set(*di, if m_len < 0xF { m_len as u8 } else { 0xF })?;
    literal_length(dst, di, literals.len())?;
    dst.copy(*di, literals)?;
    *di += literals.len() + 2;
    dst.set(*di - 2, offset as u8)?;
    dst.set(*di - 1, (offset >> 8) as u8)?;
    if m_len >= 0xF {
        m_len -= 0xF;
        while m_len >= 0xFF {
            dst.set(*di, 0xFF)?;
            *di += 1;
            m_len -= 0xFF;
        }
        dst.set(*di, m_len as u8)?;
        *di += 1;
    }
    Some(())
}

/// The last literals, then the end: `None` when the block does not shrink.
fn last_literals(src: &[u8], mut dst: Dst, mut di: usize, anchor: usize) -> Option<Vec<u8>> {
    dst.set(di, 0)?;
    literal_length(&mut dst, &mut di, src.len() - anchor)?;
    if di >= anchor {
        // Incompressible.
        return None;
    }
    dst.copy(di, &src[anchor..])?;
    di += src.len() - anchor;
    dst.buf.truncate(di);
    Some(dst.buf)
}

/// pierrec's `Compressor.CompressBlock`, into a destination as long as `src`.
pub fn compress_block(src: &[u8]) -> Option<Vec<u8>> {
    let mut c = Table::new();
    let mut dst = Dst {
        buf: Vec::with_capacity(src.len()),
        cap: src.len(),
    };
    let (mut si, mut di, mut anchor) = (0usize, 0usize, 0usize);
    let sn = src.len() as isize - MF_LIMIT as isize;
    if sn > 0 {
        let sn = sn as usize;
        while si < sn {
            let m = u64_at(src, si);
            let mut h = block_hash(m);
            let h2 = block_hash(m >> 8);
            let r = c.get(h, si);
            let r2 = c.get(h2, si + 1);
            c.put(h, si);
            c.put(h2, si + 1);
            let matches = |at: isize, offset: isize, v: u32| {
                offset > 0 && offset < WIN_SIZE as isize && at >= 0 && u32_at(src, at as usize) == v
            };
            let mut offset = si as isize - r;
            if !matches(r, offset, m as u32) {
                h = block_hash(m >> 16);
                let r3 = c.get(h, si + 2);
                si += 1;
                offset = si as isize - r2;
                if !matches(r2, offset, (m >> 8) as u32) {
                    si += 1;
                    offset = si as isize - r3;
                    c.put(h, si);
                    if !matches(r3, offset, (m >> 16) as u32) {
                        si += 2 + ((si - anchor) >> ADAPT_SKIP_LOG);
                        continue;
                    }
                }
            }
            let offset = offset as usize;
            let mut l_len = si - anchor;
            let mut m_len = 4usize;
            let mut t_off = si as isize - offset as isize - 1;
            while l_len > 0 && t_off >= 0 && src[si - 1] == src[t_off as usize] {
                si -= 1;
                t_off -= 1;
                l_len -= 1;
                m_len += 1;
            }
            let base = si + MIN_MATCH;
            si += m_len;
            while si + 8 <= sn {
                let x = u64_at(src, si) ^ u64_at(src, si - offset);
                if x == 0 {
                    si += 8;
                } else {
                    si += (x.trailing_zeros() >> 3) as usize;
                    break;
                }
            }
            sequence(
                &mut dst,
                &mut di,
                &src[anchor..anchor + l_len],
                offset,
                si - base,
            )?;
            anchor = si;
            if si >= sn {
                break;
            }
            let h = block_hash(u64_at(src, si - 2));
            c.put(h, si - 2);
        }
    }
    if anchor == 0 {
        // Incompressible.
        return None;
    }
    last_literals(src, dst, di, anchor)
}

/// pierrec's `CompressorHC.CompressBlock` with `depth` candidates per position, into a
/// destination as long as `src` (where Go would panic writing past it, the block is stored).
pub fn compress_block_hc(src: &[u8], depth: usize) -> Option<Vec<u8>> {
    let mut hash_table = vec![0usize; HT_SIZE];
    let mut chain_table = vec![0usize; HT_SIZE];
    let mut dst = Dst {
        buf: Vec::with_capacity(src.len()),
        cap: src.len(),
    };
    let (mut si, mut di, mut anchor) = (0usize, 0usize, 0usize);
    let sn = src.len() as isize - MF_LIMIT as isize;
    if sn > 0 {
        let sn = sn as usize;
        let depth = if depth == 0 { WIN_SIZE } else { depth };
        while si < sn {
            let mut m = u32_at(src, si);
            let h = block_hash_hc(m) as usize;
            let (mut m_len, mut offset) = (0usize, 0usize);
            let (mut next, mut tries) = (hash_table[h], depth);
            while tries > 0 && next > 0 && si - next < WIN_SIZE {
                if *src.get(next + m_len)? == *src.get(si + m_len)? {
                    let mut ml = 0usize;
                    while ml < sn - si {
                        let x = u64_at(src, next + ml) ^ u64_at(src, si + ml);
                        if x == 0 {
                            ml += 8;
                        } else {
                            ml += (x.trailing_zeros() >> 3) as usize;
                            break;
                        }
                    }
                    if ml >= MIN_MATCH && ml > m_len {
                        m_len = ml;
                        offset = si - next;
                    }
                }
                next = chain_table[next & WIN_MASK];
                tries -= 1;
            }
            chain_table[si & WIN_MASK] = hash_table[h];
            hash_table[h] = si;
            if m_len == 0 {
                si += 1 + ((si - anchor) >> ADAPT_SKIP_LOG);
                continue;
            }
            let mut win_start = si + 1;
            if si + m_len > WIN_SIZE && si + m_len - WIN_SIZE > win_start {
                win_start = si + m_len - WIN_SIZE;
            }
            let mut i = win_start;
            while i < si + m_len {
                m >>= 8;
                m |= (*src.get(i + 3)? as u32) << 24;
                let h = block_hash_hc(m) as usize;
                chain_table[i & WIN_MASK] = hash_table[h];
                hash_table[h] = i;
                i += 1;
            }
            let literals = &src[anchor..si];
            si += m_len;
            sequence(&mut dst, &mut di, literals, offset, m_len - MIN_MATCH)?;
            anchor = si;
        }
        if anchor == 0 {
            return None;
        }
    }
    last_literals(src, dst, di, anchor)
}

/// pierrec/lz4's `Writer` with Packer's options: the frame header on the first write, blocks
/// of [`BLOCK_SIZE`], the end mark and content checksum on [`Lz4Writer::finish`].
pub struct Lz4Writer<W: Write> {
    inner: W,
    /// 0: the fast compressor; else the hash-chain compressor's depth.
    depth: usize,
    buf: Vec<u8>,
    checksum: Xxh32,
    header: bool,
    /// Fed as Go's `io.Copy` feeds a file to it (`ReadFrom`): the last block is written even
    /// when empty.
    read_from: bool,
}

impl<W: Write> Lz4Writer<W> {
    /// `level`: Packer's `compression_level` (below 0 or 0: fast; 1 to 9: `Level1`…`Level9`).
    pub fn new(inner: W, level: i64, read_from: bool) -> Lz4Writer<W> {
        let depth = if (1..=9).contains(&level) {
            1usize << (8 + level)
        } else {
            0
        };
        Lz4Writer {
            inner,
            depth,
            buf: Vec::new(),
            checksum: Xxh32::new(0),
            header: false,
            read_from,
        }
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            // Version 1, independent blocks, content checksum; 4 MiB blocks.
            let descriptor = [0x64u8, 0x70];
            let hc = (xxhash_rust::xxh32::xxh32(&descriptor, 0) >> 8) as u8;
            let mut h = 0x184D_2204u32.to_le_bytes().to_vec();
            h.extend_from_slice(&descriptor);
            h.push(hc);
            self.inner.write_all(&h)?;
        }
        Ok(())
    }

    fn write_block(&mut self) -> io::Result<()> {
        let src = std::mem::take(&mut self.buf);
        self.checksum.update(&src);
        let compressed = match self.depth {
            0 => compress_block(&src),
            d => compress_block_hc(&src, d),
        };
        match compressed {
            Some(c) if !c.is_empty() => {
                self.inner.write_all(&(c.len() as u32).to_le_bytes())?;
                self.inner.write_all(&c)?;
            }
            _ => {
                self.inner
                    .write_all(&((src.len() as u32) | 0x8000_0000).to_le_bytes())?;
                self.inner.write_all(&src)?;
            }
        }
        self.buf = src;
        self.buf.clear();
        Ok(())
    }

    /// Writes the last block, the end mark and the content checksum; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_header()?;
        if self.read_from || !self.buf.is_empty() {
            self.write_block()?;
        }
        self.inner.write_all(&0u32.to_le_bytes())?;
        self.inner
            .write_all(&self.checksum.digest().to_le_bytes())?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Lz4Writer<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        self.write_header()?;
        let n = data.len();
        while !data.is_empty() {
            let room = BLOCK_SIZE - self.buf.len();
            let take = room.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == BLOCK_SIZE {
                self.write_block()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(data: &[u8], level: i64, read_from: bool) -> Vec<u8> {
        let mut w = Lz4Writer::new(Vec::new(), level, read_from);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    /// LZ4's block format, decoded (the test's own reader, to check round trips).
    fn decode_block(src: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        let length = |i: &mut usize, mut n: usize| {
            if n == 15 {
                loop {
                    let b = src[*i] as usize;
                    *i += 1;
                    n += b;
                    if b != 255 {
                        break;
                    }
                }
            }
            n
        };
        while i < src.len() {
            let token = src[i] as usize;
            i += 1;
            let lits = length(&mut i, token >> 4);
            out.extend_from_slice(&src[i..i + lits]);
            i += lits;
            if i == src.len() {
                break;
            }
            let offset = src[i] as usize | (src[i + 1] as usize) << 8;
            i += 2;
            let m = length(&mut i, token & 15) + MIN_MATCH;
            let start = out.len() - offset;
            for k in 0..m {
                out.push(out[start + k]);
            }
        }
        out
    }

    /// Bytes pierrec/lz4 v4.1.22 wrote for the same input (Go, `lz4.NewWriter` with
    /// `io.Copy` from a file; level 5 through `CompressionLevelOption(lz4.Level5)`).
    #[test]
    fn frames_are_the_bytes_go_writes() {
        let data = b"packer kiln packer kiln lz4 lz4 lz4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa the end\n";
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&frame(data, -1, true)),
            "04224d186470b92c000000c87061636b6572206b696c6e200c00356c7a3404001f61010012000200000200b061612074686520656e640a00000000ff8a7ef4"
        );
        assert_eq!(
            hex(&frame(data, 5, true)),
            "04224d186470b925000000d77061636b6572206b696c6e20700c00356c7a3404001f6101001c902074686520656e640a00000000ff8a7ef4"
        );
        // Empty input fed as a file: one empty stored block, as Go's ReadFrom writes.
        assert_eq!(
            hex(&frame(b"", -1, true)),
            "04224d186470b90000008000000000055dcc02"
        );
    }

    /// Both compressors round-trip generated data (random, repetitive, mixed), or store it.
    #[test]
    fn blocks_round_trip() {
        let mut seed: u64 = 42;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..60 {
            let len = (rand() % 70_000) as usize;
            let mut data = Vec::with_capacity(len);
            while data.len() < len {
                match rand() % 3 {
                    0 => data.push(rand() as u8),
                    1 => data.extend_from_slice(&b"kiln packer "[..(rand() % 12) as usize]),
                    _ => {
                        let n = (rand() % 300) as usize;
                        let b = rand() as u8;
                        data.extend(std::iter::repeat_n(b, n));
                    }
                }
            }
            data.truncate(len);
            for depth in [0usize, 512, 1 << 17] {
                let out = if depth == 0 {
                    compress_block(&data)
                } else {
                    compress_block_hc(&data, depth)
                };
                if let Some(c) = out {
                    assert!(
                        c.len() < data.len(),
                        "case {case}: a block that does not shrink is stored"
                    );
                    assert_eq!(decode_block(&c), data, "case {case}, depth {depth}");
                }
            }
        }
    }
}
