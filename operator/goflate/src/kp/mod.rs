//! klauspost/compress's `flate` writer (every level, -2 to 9; its default, -1, is 5) and
//! klauspost/pgzip's parallel gzip writer over it: what Packer's `compress` post-processor
//! writes for `.gz` and `.tar.gz`.
//!
//! pgzip cuts the stream into blocks (500 000 bytes as Packer sets them; pgzip's default is
//! 1 MiB); each is compressed on its own, with the last
//! 16 KiB of the previous block's input as a preset dictionary, and ends with a sync flush
//! (the last block also with a final empty block). The blocks are independent, so they are
//! compressed in parallel here too; the bytes do not depend on the number of threads.

mod fast;
mod huffman;
mod lazy;
mod tokens;

use std::io::{self, Write};

use fast::FastEnc;
use huffman::BitWriter;
use tokens::{MAX_STORE_BLOCK_SIZE, Tokens};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Level 0: stored blocks.
    Store,
    /// Level -2: Huffman-coded literals only.
    HuffmanOnly,
    /// Levels 1 to 6.
    Fast,
    /// Levels 7 to 9.
    Lazy,
}

/// Go's `compressor` (`fillBlock` with `store`, `storeHuff` or `storeFast`; `fillDeflate` with
/// `deflateLazy`).
pub(crate) struct Compressor {
    mode: Mode,
    w: BitWriter,
    fast: Option<FastEnc>,
    lazy: Option<Box<lazy::LazyState>>,
    tokens: Tokens,
    window: Vec<u8>,
    window_end: usize,
    sync: bool,
}

impl Compressor {
    /// A compressor at klauspost's `level` (-1 is 5), or `None` for a level not ported.
    pub fn new(level: i32) -> Option<Self> {
        let level = if level == -1 { 5 } else { level };
        let mut w = BitWriter::new();
        let mut lazy = None;
        let (mode, window, fast) = match level {
            0 => (Mode::Store, MAX_STORE_BLOCK_SIZE, None),
            -2 => {
                w.log_new_table_penalty = 10;
                (Mode::HuffmanOnly, 32 << 10, None)
            }
            1..=6 => {
                w.log_new_table_penalty = 7;
                (Mode::Fast, MAX_STORE_BLOCK_SIZE, FastEnc::new(level))
            }
            7..=9 => {
                w.log_new_table_penalty = 8;
                lazy = Some(Box::new(lazy::LazyState::new(level)?));
                (Mode::Lazy, 2 * lazy::WINDOW_SIZE as usize, None)
            }
            _ => return None,
        };
        Some(Compressor {
            mode,
            w,
            fast,
            lazy,
            tokens: Tokens::new(),
            window: vec![0; window],
            window_end: 0,
            sync: false,
        })
    }

    /// Go's `ResetDict`: a new stream whose matches may reach into `dict` (the fast levels;
    /// the others ignore it).
    pub fn reset_dict(&mut self, dict: &[u8]) {
        self.w.reset();
        self.w.out.clear();
        self.sync = false;
        self.window_end = 0;
        if let Some(fast) = self.fast.as_mut() {
            fast.reset();
            self.tokens.reset();
            // fillWindow: the fast encoders encode the dictionary and drop the tokens.
            let dict = &dict[dict.len().saturating_sub(1 << 15)..];
            fast.encode(&mut self.tokens, dict);
            self.tokens.reset();
        }
        if let Some(s) = self.lazy.as_mut() {
            s.reset();
            self.tokens.reset();
            self.fill_window_lazy(dict);
        }
    }

    fn step(&mut self) {
        match self.mode {
            Mode::Store => {
                let end = self.window_end;
                if end > 0 && (end == MAX_STORE_BLOCK_SIZE || self.sync) {
                    self.write_stored_block(end);
                    self.window_end = 0;
                }
            }
            Mode::HuffmanOnly => {
                let end = self.window_end;
                if end < self.window.len() && !self.sync || end == 0 {
                    return;
                }
                self.w
                    .write_block_huff(false, &self.window[..end], self.sync);
                self.window_end = 0;
            }
            Mode::Fast => self.store_fast(),
            Mode::Lazy => self.deflate_lazy(),
        }
    }

    fn write_stored_block(&mut self, end: usize) {
        self.w.write_stored_header(end, false);
        self.w.write_bytes(&self.window[..end]);
    }

    fn store_fast(&mut self) {
        let end = self.window_end;
        if end < self.window.len() {
            if !self.sync {
                return;
            }
            if end < 128 {
                if end == 0 {
                    return;
                }
                if end <= 32 {
                    self.write_stored_block(end);
                } else {
                    self.w.write_block_huff(false, &self.window[..end], true);
                }
                self.tokens.reset();
                self.window_end = 0;
                if let Some(f) = self.fast.as_mut() {
                    f.reset();
                }
                return;
            }
        }
        let fast = self.fast.as_mut().expect("the fast levels have an encoder");
        fast.encode(&mut self.tokens, &self.window[..end]);
        if self.tokens.n == 0 {
            self.write_stored_block(end);
        } else if self.tokens.n > end - (end >> 4) {
            self.w
                .write_block_huff(false, &self.window[..end], self.sync);
        } else {
            self.w.write_block_dynamic(
                &mut self.tokens,
                false,
                Some(&self.window[..end]),
                self.sync,
            );
        }
        self.tokens.reset();
        self.window_end = 0;
    }

    pub fn write(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.window_end == self.window.len() || self.sync {
                self.step();
            }
            let n = if self.mode == Mode::Lazy {
                self.fill_deflate(b)
            } else {
                let n = b.len().min(self.window.len() - self.window_end);
                self.window[self.window_end..self.window_end + n].copy_from_slice(&b[..n]);
                self.window_end += n;
                n
            };
            b = &b[n..];
        }
    }

    pub fn sync_flush(&mut self) {
        self.sync = true;
        self.step();
        self.w.write_stored_header(0, false);
        self.w.flush();
        self.sync = false;
    }

    pub fn close(&mut self) {
        self.sync = true;
        self.step();
        self.w.write_stored_header(0, true);
        self.w.flush();
        self.w.reset();
    }

    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.w.out)
    }
}

/// The block size Packer's `compress` post-processor sets (`SetConcurrency(500000, …)`).
pub const PACKER_BLOCK_SIZE: usize = 500_000;
/// pgzip's dictionary: the end of the previous block.
const TAIL_SIZE: usize = 16384;

/// One pgzip block: its dictionary, its data and whether it ends the stream.
fn compress_block(c: &mut Compressor, dict: &[u8], data: &[u8], last: bool) -> Vec<u8> {
    c.reset_dict(dict);
    c.write(data);
    c.sync_flush();
    if last {
        c.close();
    }
    c.take_output()
}

/// klauspost/pgzip's `Writer` with a zero header, as Packer's `compress` post-processor uses
/// it: OS 255, no name, and the MTIME of Go's zero `time.Time` (`0x886e0900`, what
/// `uint32(time.Time{}.Unix())` gives).
pub struct PgzipWriter<W: Write> {
    inner: W,
    level: i32,
    block_size: usize,
    threads: usize,
    compressors: Vec<Compressor>,
    /// Full blocks waiting to be compressed, each with its dictionary.
    pending: Vec<(Vec<u8>, Vec<u8>)>,
    current: Vec<u8>,
    prev_tail: Vec<u8>,
    crc: crc32fast::Hasher,
    size: u64,
    wrote_header: bool,
}

impl<W: Write> PgzipWriter<W> {
    /// A writer at klauspost's `level` (-2 to 9, -1 meaning 5; `None` for another level),
    /// cutting blocks of `block_size` bytes (above 16 KiB, as
    /// pgzip requires) and compressing up to `threads` of them at a time.
    pub fn new(inner: W, level: i32, block_size: usize, threads: usize) -> Option<Self> {
        if !pgzip_has_level(level) {
            return None;
        }
        let first = Compressor::new(level)?;
        let block_size = block_size.max(TAIL_SIZE + 1);
        Some(PgzipWriter {
            inner,
            level,
            block_size,
            threads: threads.max(1),
            compressors: vec![first],
            pending: Vec::new(),
            current: Vec::with_capacity(block_size),
            prev_tail: Vec::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            wrote_header: false,
        })
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.wrote_header = true;
            let xfl = match self.level {
                9 => 2,
                1 => 4,
                _ => 0,
            };
            self.inner
                .write_all(&[0x1f, 0x8b, 8, 0, 0x00, 0x09, 0x6e, 0x88, xfl, 255])?;
        }
        Ok(())
    }

    /// Queues the current block (pgzip's `compressCurrent`).
    fn queue_current(&mut self) {
        let block = std::mem::replace(&mut self.current, Vec::with_capacity(self.block_size));
        let dict = if block.len() > TAIL_SIZE {
            let tail = block[block.len() - TAIL_SIZE..].to_vec();
            std::mem::replace(&mut self.prev_tail, tail)
        } else {
            std::mem::take(&mut self.prev_tail)
        };
        self.pending.push((dict, block));
    }

    /// Compresses the queued blocks (in parallel) and writes them in order; the last one
    /// ends the stream when `last`.
    fn run_pending(&mut self, last: bool) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        while self.compressors.len() < pending.len().min(self.threads) {
            self.compressors
                .push(Compressor::new(self.level).expect("a level checked in new"));
        }
        let n = pending.len();
        let mut outputs: Vec<Vec<u8>> = vec![Vec::new(); n];
        for (chunk_i, (jobs, outs)) in pending
            .chunks(self.threads)
            .zip(outputs.chunks_mut(self.threads))
            .enumerate()
        {
            let base = chunk_i * self.threads;
            if jobs.len() == 1 {
                let (dict, data) = &jobs[0];
                outs[0] =
                    compress_block(&mut self.compressors[0], dict, data, last && base + 1 == n);
                continue;
            }
            std::thread::scope(|sc| {
                for (j, ((job, out), c)) in jobs
                    .iter()
                    .zip(outs.iter_mut())
                    .zip(self.compressors.iter_mut())
                    .enumerate()
                {
                    let is_last = last && base + j + 1 == n;
                    sc.spawn(move || {
                        *out = compress_block(c, &job.0, &job.1, is_last);
                    });
                }
            });
        }
        for out in outputs {
            self.inner.write_all(&out)?;
        }
        Ok(())
    }

    /// Compresses what is buffered, ends the stream, writes the trailer and gives back the
    /// inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.header()?;
        self.queue_current();
        self.run_pending(true)?;
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        self.inner.write_all(&(self.size as u32).to_le_bytes())?;
        Ok(self.inner)
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for PgzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.header()?;
        let mut q = buf;
        while !q.is_empty() {
            let n = q.len().min(self.block_size - self.current.len());
            self.crc.update(&q[..n]);
            self.current.extend_from_slice(&q[..n]);
            if self.current.len() == self.block_size {
                self.queue_current();
                if self.pending.len() >= self.threads {
                    self.run_pending(false)?;
                }
            }
            self.size += n as u64;
            q = &q[n..];
        }
        Ok(buf.len())
    }

    /// Writes out what is compressed so far (the blocks not yet full stay buffered: pgzip's
    /// `Flush` would end a block here, which Packer never asks for).
    fn flush(&mut self) -> io::Result<()> {
        self.run_pending(false)?;
        self.inner.flush()
    }
}

/// Whether [`PgzipWriter`] has klauspost's `level` (-2 to 9, -1 meaning 5).
pub fn pgzip_has_level(level: i32) -> bool {
    matches!(level, -2..=9)
}

/// `data` as klauspost/pgzip writes it at `level` in blocks of `block_size` (one `Write`,
/// then `Close`); `None` for a level not ported.
pub fn pgzip(data: &[u8], level: i32, block_size: usize, threads: usize) -> Option<Vec<u8>> {
    let mut w = PgzipWriter::new(
        Vec::with_capacity(data.len() / 2 + 64),
        level,
        block_size,
        threads,
    )?;
    w.write_all(data).expect("writing to a Vec");
    Some(w.finish().expect("writing to a Vec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text with repeats near and far, for the wraparound test.
    fn text(n: usize) -> Vec<u8> {
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(4) && out.len() > 1000 {
                let from = (x >> 8) as usize % (out.len() - 300);
                let copy = out[from..from + 3 + (x >> 40) as usize % 250].to_vec();
                out.extend_from_slice(&copy);
            } else {
                out.extend_from_slice(format!("w{} ", (x >> 20) % 500).as_bytes());
            }
        }
        out.truncate(n);
        out
    }

    /// The fast encoders rebase their tables when the history offset nears `i32::MAX`
    /// (after about 2 GiB through one encoder); matches in reach are kept, so the bytes are
    /// those of an encoder that never wrapped.
    #[test]
    fn offsets_wrapping_around_change_no_byte() {
        let data = text(400_000);
        for level in 1..=6 {
            let run = |cur: Option<i32>| {
                let mut c = Compressor::new(level).unwrap();
                if let Some(cur) = cur {
                    c.fast.as_mut().unwrap().set_cur(cur);
                }
                for piece in data.chunks(100_000) {
                    c.write(piece);
                    c.sync_flush();
                }
                c.close();
                c.take_output()
            };
            let plain = run(None);
            // Within the first blocks' reach of the guard, with history present.
            let wrapped = run(Some(fast::BUFFER_RESET - 150_000));
            assert!(plain == wrapped, "level {level}");
        }
    }
}
