//! Go's `deflate.go`: the `compressor` behind `flate.Writer`, for every level (-2 to 9).

use crate::fast::DeflateFast;
use crate::huffman::{BitWriter, MAX_STORE_BLOCK_SIZE};
use crate::token::{Token, literal_token, match_token};

const LOG_WINDOW_SIZE: u32 = 15;
const WINDOW_SIZE: i64 = 1 << LOG_WINDOW_SIZE;
const WINDOW_MASK: i64 = WINDOW_SIZE - 1;
const BASE_MATCH_LENGTH: i64 = 3;
const MIN_MATCH_LENGTH: i64 = 4;
const MAX_MATCH_LENGTH: i64 = 258;
const BASE_MATCH_OFFSET: i64 = 1;
const MAX_FLATE_BLOCK_TOKENS: usize = 1 << 14;
const HASH_BITS: u32 = 17;
const HASH_SIZE: usize = 1 << HASH_BITS;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;
const MAX_HASH_OFFSET: i64 = 1 << 24;
const SKIP_NEVER: i64 = i32::MAX as i64;
const HASHMUL: u32 = 0x1e35a7bd;

/// A level's parameters (Go's `compressionLevel`).
#[derive(Clone, Copy, Default)]
struct Params {
    level: i32,
    good: i64,
    lazy: i64,
    nice: i64,
    chain: i64,
    fast_skip_hashing: i64,
}

const fn params(level: i32, good: i64, lazy: i64, nice: i64, chain: i64, skip: i64) -> Params {
    Params {
        level,
        good,
        lazy,
        nice,
        chain,
        fast_skip_hashing: skip,
    }
}

const LEVELS: [Params; 10] = [
    params(0, 0, 0, 0, 0, 0),
    params(1, 0, 0, 0, 0, 0),
    params(2, 4, 0, 16, 8, 5),
    params(3, 4, 0, 32, 32, 6),
    params(4, 4, 4, 16, 16, SKIP_NEVER),
    params(5, 8, 16, 32, 32, SKIP_NEVER),
    params(6, 8, 16, 128, 128, SKIP_NEVER),
    params(7, 8, 32, 128, 256, SKIP_NEVER),
    params(8, 32, 128, 258, 1024, SKIP_NEVER),
    params(9, 32, 258, 258, 4096, SKIP_NEVER),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Level 0: stored blocks of up to 65535 bytes.
    Store,
    /// Level -2: Huffman-coded literals, no matching.
    HuffmanOnly,
    /// Level 1: deflatefast.
    Fast,
    /// Levels 2-9: hash chains (greedy for 2-3, lazy for 4-9).
    Deflate,
}

#[inline]
fn hash4(b: &[u8]) -> u32 {
    (u32::from_be_bytes([b[0], b[1], b[2], b[3]]).wrapping_mul(HASHMUL)) >> (32 - HASH_BITS)
}

/// The number of equal leading bytes of `a` and `b`, at most `max`.
#[inline]
fn match_len(a: &[u8], b: &[u8], max: usize) -> usize {
    let a = &a[..max];
    let b = &b[..max];
    let mut i = 0;
    while i + 8 <= max {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < max {
        if a[i] != b[i] {
            return i;
        }
        i += 1;
    }
    max
}

pub(crate) struct Compressor {
    p: Params,
    mode: Mode,
    pub w: BitWriter,
    fast: Option<DeflateFast>,

    index: i64,
    window: Vec<u8>,
    window_end: i64,
    block_start: i64,
    byte_available: bool,
    sync: bool,
    tokens: Vec<Token>,

    length: i64,
    offset: i64,
    max_insert_index: i64,

    chain_head: i64,
    hash_head: Vec<u32>,
    hash_prev: Vec<u32>,
    hash_offset: i64,
}

impl Compressor {
    /// A compressor for `level` (-2 to 9, -1 meaning 6), or `None` for another level.
    pub fn new(level: i32) -> Option<Self> {
        let mut c = Compressor {
            p: Params::default(),
            mode: Mode::Store,
            w: BitWriter::new(),
            fast: None,
            index: 0,
            window: Vec::new(),
            window_end: 0,
            block_start: 0,
            byte_available: false,
            sync: false,
            tokens: Vec::new(),
            length: 0,
            offset: 0,
            max_insert_index: 0,
            chain_head: 0,
            hash_head: Vec::new(),
            hash_prev: Vec::new(),
            hash_offset: 0,
        };
        match level {
            0 => {
                c.window = vec![0; MAX_STORE_BLOCK_SIZE];
                c.mode = Mode::Store;
            }
            -2 => {
                c.window = vec![0; MAX_STORE_BLOCK_SIZE];
                c.mode = Mode::HuffmanOnly;
            }
            1 => {
                c.p = LEVELS[1];
                c.window = vec![0; MAX_STORE_BLOCK_SIZE];
                c.mode = Mode::Fast;
                c.fast = Some(DeflateFast::new());
                c.tokens = Vec::with_capacity(MAX_STORE_BLOCK_SIZE);
            }
            -1 | 2..=9 => {
                let level = if level == -1 { 6 } else { level };
                c.p = LEVELS[level as usize];
                c.mode = Mode::Deflate;
                c.window = vec![0; 2 * WINDOW_SIZE as usize];
                c.hash_offset = 1;
                c.tokens = Vec::with_capacity(MAX_FLATE_BLOCK_TOKENS + 1);
                c.length = MIN_MATCH_LENGTH - 1;
                c.offset = 0;
                c.byte_available = false;
                c.index = 0;
                c.chain_head = -1;
                c.hash_head = vec![0; HASH_SIZE];
                c.hash_prev = vec![0; WINDOW_SIZE as usize];
            }
            _ => return None,
        }
        Some(c)
    }

    /// The level's number as Go's `compressionLevel.level` holds it (0 for -2).
    #[allow(dead_code)]
    pub fn level(&self) -> i32 {
        self.p.level
    }

    fn step(&mut self) {
        match self.mode {
            Mode::Store => self.store(),
            Mode::HuffmanOnly => self.store_huff(),
            Mode::Fast => self.enc_speed(),
            Mode::Deflate => self.deflate(),
        }
    }

    fn fill(&mut self, b: &[u8]) -> usize {
        if self.mode == Mode::Deflate {
            self.fill_deflate(b)
        } else {
            self.fill_store(b)
        }
    }

    fn fill_deflate(&mut self, b: &[u8]) -> usize {
        if self.index >= 2 * WINDOW_SIZE - (MIN_MATCH_LENGTH + MAX_MATCH_LENGTH) {
            // Shift the window by WINDOW_SIZE.
            let ws = WINDOW_SIZE as usize;
            self.window.copy_within(ws..2 * ws, 0);
            self.index -= WINDOW_SIZE;
            self.window_end -= WINDOW_SIZE;
            if self.block_start >= WINDOW_SIZE {
                self.block_start -= WINDOW_SIZE;
            } else {
                self.block_start = i64::from(i32::MAX);
            }
            self.hash_offset += WINDOW_SIZE;
            if self.hash_offset > MAX_HASH_OFFSET {
                let delta = self.hash_offset - 1;
                self.hash_offset -= delta;
                self.chain_head -= delta;
                for v in self.hash_prev.iter_mut().chain(self.hash_head.iter_mut()) {
                    *v = if i64::from(*v) > delta {
                        (i64::from(*v) - delta) as u32
                    } else {
                        0
                    };
                }
            }
        }
        let end = self.window_end as usize;
        let n = b.len().min(self.window.len() - end);
        self.window[end..end + n].copy_from_slice(&b[..n]);
        self.window_end += n as i64;
        n
    }

    fn fill_store(&mut self, b: &[u8]) -> usize {
        let end = self.window_end as usize;
        let n = b.len().min(self.window.len() - end);
        self.window[end..end + n].copy_from_slice(&b[..n]);
        self.window_end += n as i64;
        n
    }

    /// Writes the queued tokens as a block ending at window position `index`.
    fn write_block(&mut self, index: i64) {
        if index > 0 {
            let window = if self.block_start <= index {
                Some(&self.window[self.block_start as usize..index as usize])
            } else {
                None
            };
            self.block_start = index;
            self.w.write_block(&self.tokens, false, window);
        }
    }

    /// The longest match at `pos` longer than `prev_length`, looking at `chain` candidates
    /// from `prev_head`: (length, offset), or `None`.
    fn find_match(
        &self,
        pos: i64,
        prev_head: i64,
        prev_length: i64,
        lookahead: i64,
    ) -> Option<(i64, i64)> {
        let min_match_look = lookahead.min(MAX_MATCH_LENGTH);
        let win = &self.window[..(pos + min_match_look) as usize];
        let nice = (win.len() as i64 - pos).min(self.p.nice);
        let mut tries = self.p.chain;
        let mut length = prev_length;
        if length >= self.p.good {
            tries >>= 2;
        }
        let mut found = None;
        let mut w_end = win[(pos + length) as usize];
        let w_pos = &win[pos as usize..];
        let min_index = pos - WINDOW_SIZE;
        let mut i = prev_head;
        while tries > 0 {
            if w_end == win[(i + length) as usize] {
                let n = match_len(&win[i as usize..], w_pos, min_match_look as usize) as i64;
                if n > length && (n > MIN_MATCH_LENGTH || pos - i <= 4096) {
                    length = n;
                    found = Some((n, pos - i));
                    if n >= nice {
                        break;
                    }
                    w_end = win[(pos + n) as usize];
                }
            }
            if i == min_index {
                // hash_prev[i & WINDOW_MASK] has been overwritten already.
                break;
            }
            i = i64::from(self.hash_prev[(i & WINDOW_MASK) as usize]) - self.hash_offset;
            if i < min_index || i < 0 {
                break;
            }
            tries -= 1;
        }
        found
    }

    fn write_stored_block(&mut self, start: usize, end: usize) {
        self.w.write_stored_header(end - start, false);
        self.w.write_bytes(&self.window[start..end]);
    }

    fn enc_speed(&mut self) {
        let end = self.window_end as usize;
        if end < MAX_STORE_BLOCK_SIZE {
            if !self.sync {
                return;
            }
            if end < 128 {
                match end {
                    0 => return,
                    1..=16 => self.write_stored_block(0, end),
                    _ => self.w.write_block_huff(false, &self.window[..end]),
                }
                self.window_end = 0;
                if let Some(f) = self.fast.as_mut() {
                    f.reset();
                }
                return;
            }
        }
        let fast = self.fast.as_mut().expect("level 1 has a fast encoder");
        self.tokens.clear();
        fast.encode(&mut self.tokens, &self.window[..end]);
        if self.tokens.len() > end - (end >> 4) {
            self.w.write_block_huff(false, &self.window[..end]);
        } else {
            self.w
                .write_block_dynamic(&self.tokens, false, Some(&self.window[..end]));
        }
        self.window_end = 0;
    }

    #[inline]
    fn insert_hash(&mut self, index: i64) {
        let i = index as usize;
        let hash = hash4(&self.window[i..i + MIN_MATCH_LENGTH as usize]);
        let hh = &mut self.hash_head[(hash & HASH_MASK) as usize];
        self.hash_prev[(index & WINDOW_MASK) as usize] = *hh;
        *hh = (index + self.hash_offset) as u32;
    }

    fn deflate(&mut self) {
        if self.window_end - self.index < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH && !self.sync {
            return;
        }
        self.max_insert_index = self.window_end - (MIN_MATCH_LENGTH - 1);
        let skip = self.p.fast_skip_hashing;
        loop {
            assert!(self.index <= self.window_end, "index > windowEnd");
            let lookahead = self.window_end - self.index;
            if lookahead < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH {
                if !self.sync {
                    break;
                }
                if lookahead == 0 {
                    // Flush the current block, with the pending literal if any.
                    if self.byte_available {
                        let b = self.window[(self.index - 1) as usize];
                        self.tokens.push(literal_token(u32::from(b)));
                        self.byte_available = false;
                    }
                    if !self.tokens.is_empty() {
                        self.write_block(self.index);
                        self.tokens.clear();
                    }
                    break;
                }
            }
            if self.index < self.max_insert_index {
                let i = self.index as usize;
                let hash = hash4(&self.window[i..i + MIN_MATCH_LENGTH as usize]);
                let hh = &mut self.hash_head[(hash & HASH_MASK) as usize];
                self.chain_head = i64::from(*hh);
                self.hash_prev[(self.index & WINDOW_MASK) as usize] = self.chain_head as u32;
                *hh = (self.index + self.hash_offset) as u32;
            }
            let prev_length = self.length;
            let prev_offset = self.offset;
            self.length = MIN_MATCH_LENGTH - 1;
            self.offset = 0;
            let min_index = (self.index - WINDOW_SIZE).max(0);

            if self.chain_head - self.hash_offset >= min_index
                && (skip != SKIP_NEVER && lookahead > MIN_MATCH_LENGTH - 1
                    || skip == SKIP_NEVER && lookahead > prev_length && prev_length < self.p.lazy)
                && let Some((l, o)) = self.find_match(
                    self.index,
                    self.chain_head - self.hash_offset,
                    MIN_MATCH_LENGTH - 1,
                    lookahead,
                )
            {
                self.length = l;
                self.offset = o;
            }
            if skip != SKIP_NEVER && self.length >= MIN_MATCH_LENGTH
                || skip == SKIP_NEVER
                    && prev_length >= MIN_MATCH_LENGTH
                    && self.length <= prev_length
            {
                // A match at the previous step (lazy) or this one (greedy): emit it.
                let t = if skip != SKIP_NEVER {
                    match_token(
                        (self.length - BASE_MATCH_LENGTH) as u32,
                        (self.offset - BASE_MATCH_OFFSET) as u32,
                    )
                } else {
                    match_token(
                        (prev_length - BASE_MATCH_LENGTH) as u32,
                        (prev_offset - BASE_MATCH_OFFSET) as u32,
                    )
                };
                self.tokens.push(t);
                if self.length <= skip {
                    let new_index = if skip != SKIP_NEVER {
                        self.index + self.length
                    } else {
                        self.index + prev_length - 1
                    };
                    let mut index = self.index + 1;
                    while index < new_index {
                        if index < self.max_insert_index {
                            self.insert_hash(index);
                        }
                        index += 1;
                    }
                    self.index = index;
                    if skip == SKIP_NEVER {
                        self.byte_available = false;
                        self.length = MIN_MATCH_LENGTH - 1;
                    }
                } else {
                    // Matches this long are not hashed byte by byte.
                    self.index += self.length;
                }
                if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                    self.write_block(self.index);
                    self.tokens.clear();
                }
            } else {
                if skip != SKIP_NEVER || self.byte_available {
                    let i = if skip != SKIP_NEVER {
                        self.index
                    } else {
                        self.index - 1
                    };
                    let b = self.window[i as usize];
                    self.tokens.push(literal_token(u32::from(b)));
                    if self.tokens.len() == MAX_FLATE_BLOCK_TOKENS {
                        self.write_block(i + 1);
                        self.tokens.clear();
                    }
                }
                self.index += 1;
                if skip == SKIP_NEVER {
                    self.byte_available = true;
                }
            }
        }
    }

    fn store(&mut self) {
        let end = self.window_end as usize;
        if end > 0 && (end == MAX_STORE_BLOCK_SIZE || self.sync) {
            self.write_stored_block(0, end);
            self.window_end = 0;
        }
    }

    fn store_huff(&mut self) {
        let end = self.window_end as usize;
        if end < self.window.len() && !self.sync || end == 0 {
            return;
        }
        self.w.write_block_huff(false, &self.window[..end]);
        self.window_end = 0;
    }

    /// Compresses `b` (Go's `compressor.write`).
    pub fn write(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            self.step();
            let n = self.fill(b);
            b = &b[n..];
        }
    }

    /// Go's `syncFlush`: everything so far, then an empty stored block.
    pub fn sync_flush(&mut self) {
        self.sync = true;
        self.step();
        self.w.write_stored_header(0, false);
        self.w.flush();
        self.sync = false;
    }

    /// Go's `close`: everything so far, then a final empty stored block.
    pub fn close(&mut self) {
        self.sync = true;
        self.step();
        self.w.write_stored_header(0, true);
        self.w.flush();
    }
}
