//! klauspost/compress's levels 7 to 9 (`deflateLazy`): hash chains with lazy matching, a
//! check for a longer match two bytes back, literal skipping on long unmatched runs, and at
//! level 9 a match choice weighed by an estimate of its literals' Huffman cost.

use super::huffman::HuffmanEncoder;
use super::{Compressor, Mode};

pub(super) const WINDOW_SIZE: i64 = 1 << 15;
const WINDOW_MASK: i64 = WINDOW_SIZE - 1;
const MIN_MATCH_LENGTH: i64 = 4;
const MAX_MATCH_LENGTH: i64 = 258;
const MAX_FLATE_BLOCK_TOKENS: usize = 1 << 15;
const HASH_BITS: u32 = 17;
const HASH_SIZE: usize = 1 << HASH_BITS;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;
const MAX_HASH_OFFSET: i64 = 1 << 28;
const PRIME4BYTES: u32 = 2654435761;

/// (good, lazy, nice, chain) of levels 7, 8 and 9.
const LEVELS: [(i64, i64, i64, i64); 3] = [(8, 12, 16, 24), (16, 30, 40, 64), (32, 258, 258, 1024)];

#[inline]
fn hash4(b: &[u8], i: i64) -> usize {
    let i = i as usize;
    let u = u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    ((u.wrapping_mul(PRIME4BYTES) >> (32 - HASH_BITS)) & HASH_MASK) as usize
}

#[inline]
fn match_len(a: &[u8], b: &[u8]) -> i64 {
    a.iter().zip(b).take_while(|(x, y)| x == y).count() as i64
}

/// Go's `advancedState` with the level's parameters.
pub(super) struct LazyState {
    lazy: i64,
    nice: i64,
    chain: i64,
    length: i64,
    offset: i64,
    max_insert_index: i64,
    chain_head: i64,
    hash_offset: i64,
    /// Literals since the last match (Go's `ii`, a uint16 meant to wrap).
    ii: u16,
    pub index: i64,
    hash_head: Vec<u32>,
    hash_prev: Vec<u32>,
    /// Level 9's byte-cost estimate (Go's `d.h`), made on first use.
    h: Option<HuffmanEncoder>,
    pub block_start: i64,
    pub byte_available: bool,
}

impl LazyState {
    pub fn new(level: i32) -> Option<Self> {
        let (_good, lazy, nice, chain) = *LEVELS.get(usize::try_from(level - 7).ok()?)?;
        Some(LazyState {
            lazy,
            nice,
            chain,
            length: MIN_MATCH_LENGTH - 1,
            offset: 0,
            max_insert_index: 0,
            chain_head: -1,
            hash_offset: 1,
            ii: 0,
            index: 0,
            hash_head: vec![0; HASH_SIZE],
            hash_prev: vec![0; WINDOW_SIZE as usize],
            h: None,
            block_start: 0,
            byte_available: false,
        })
    }

    /// Go's `reset` for these levels.
    pub fn reset(&mut self) {
        self.chain_head = -1;
        self.hash_head.fill(0);
        self.hash_prev.fill(0);
        self.hash_offset = 1;
        self.index = 0;
        self.block_start = 0;
        self.byte_available = false;
        self.length = MIN_MATCH_LENGTH - 1;
        self.offset = 0;
        self.ii = 0;
        self.max_insert_index = 0;
    }

    #[inline]
    fn insert(&mut self, window: &[u8], index: i64) {
        let h = hash4(window, index);
        let ch = self.hash_head[h];
        self.chain_head = i64::from(ch);
        self.hash_prev[(index & WINDOW_MASK) as usize] = ch;
        self.hash_head[h] = (index + self.hash_offset) as u32;
    }
}

impl Compressor {
    fn lazy(&mut self) -> &mut LazyState {
        self.lazy.as_mut().expect("levels 7 to 9 have their state")
    }

    /// Go's `fillDeflate`.
    pub(super) fn fill_deflate(&mut self, b: &[u8]) -> usize {
        let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
        if s.index >= 2 * WINDOW_SIZE - (MIN_MATCH_LENGTH + MAX_MATCH_LENGTH) {
            let ws = WINDOW_SIZE as usize;
            self.window.copy_within(ws..2 * ws, 0);
            s.index -= WINDOW_SIZE;
            self.window_end -= ws;
            if s.block_start >= WINDOW_SIZE {
                s.block_start -= WINDOW_SIZE;
            } else {
                s.block_start = i64::from(i32::MAX);
            }
            s.hash_offset += WINDOW_SIZE;
            if s.hash_offset > MAX_HASH_OFFSET {
                let delta = s.hash_offset - 1;
                s.hash_offset -= delta;
                s.chain_head -= delta;
                for v in s.hash_prev.iter_mut().chain(s.hash_head.iter_mut()) {
                    *v = if i64::from(*v) > delta {
                        (i64::from(*v) - delta) as u32
                    } else {
                        0
                    };
                }
            }
        }
        let end = self.window_end;
        let n = b.len().min(self.window.len() - end);
        self.window[end..end + n].copy_from_slice(&b[..n]);
        self.window_end += n;
        n
    }

    /// Go's `fillWindow` for these levels: the dictionary in the window, hashed.
    pub(super) fn fill_window_lazy(&mut self, dict: &[u8]) {
        let dict = &dict[dict.len().saturating_sub(WINDOW_SIZE as usize)..];
        let start = self.window_end;
        let n = dict.len().min(self.window.len() - start);
        self.window[start..start + n].copy_from_slice(&dict[..n]);
        let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
        // Go hashes positions 0..n - 3 of the window (the dictionary starts at 0 after a
        // reset).
        for di in 0..n.saturating_sub(MIN_MATCH_LENGTH as usize - 1) {
            let h = hash4(&self.window, di as i64);
            s.hash_prev[di & WINDOW_MASK as usize] = s.hash_head[h];
            s.hash_head[h] = (di as i64 + s.hash_offset) as u32;
        }
        self.window_end += n;
        s.index = n as i64;
    }

    /// Writes the queued tokens as a block ending at window position `index`.
    fn write_block_lazy(&mut self, index: i64) {
        let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
        if index > 0 {
            let window = if s.block_start <= index {
                Some(&self.window[s.block_start as usize..index as usize])
            } else {
                None
            };
            s.block_start = index;
            self.w
                .write_block_dynamic(&mut self.tokens, false, window, self.sync);
        }
    }

    /// Adds a literal, writing the block out when it is full.
    fn literal_lazy(&mut self, b: u8, index: i64) {
        self.tokens.add_literal(b);
        if self.tokens.n == MAX_FLATE_BLOCK_TOKENS {
            self.write_block_lazy(index);
            self.tokens.reset();
        }
    }

    fn find_match(&self, pos: i64, prev_head: i64, lookahead: i64) -> Option<(i64, i64)> {
        let s = self.lazy.as_ref().expect("levels 7 to 9 have their state");
        let min_match_look = lookahead.min(MAX_MATCH_LENGTH);
        let win = &self.window[..(pos + min_match_look) as usize];
        let nice = s.nice.min(win.len() as i64 - pos);
        let mut tries = s.chain;
        let mut length = MIN_MATCH_LENGTH - 1;
        let mut w_end = win[(pos + length) as usize];
        let w_pos = &win[pos as usize..];
        let min_index = (pos - WINDOW_SIZE).max(0);
        let mut found = None;
        let weigh = s.chain >= 100;
        let mut c_gain: i64 = 4;
        const BASE_COST: i64 = 3;
        let mut i = prev_head;
        while tries > 0 {
            if w_end == win[(i + length) as usize] {
                let n = match_len(&win[i as usize..(i + min_match_look) as usize], w_pos);
                if n > length {
                    let better = if weigh {
                        let h = s.h.as_ref().expect("level 9 has its estimate");
                        let raw: i64 = w_pos[..n as usize]
                            .iter()
                            .map(|&b| i64::from(h.codes[b as usize].len()))
                            .sum();
                        let oc = super::tokens::offset_code_kp((pos - i) as u32) as usize;
                        let lc = crate::token::length_code(((n - 3) & 255) as u32) as usize;
                        let new_gain = raw
                            - i64::from(super::tokens::OFFSET_EXTRA_BITS[oc])
                            - BASE_COST
                            - i64::from(super::tokens::LENGTH_EXTRA_BITS[lc]);
                        if new_gain > c_gain {
                            c_gain = new_gain;
                            true
                        } else {
                            false
                        }
                    } else {
                        true
                    };
                    if better {
                        length = n;
                        found = Some((n, pos - i));
                        if n >= nice {
                            break;
                        }
                        w_end = win[(pos + n) as usize];
                    }
                }
            }
            if i <= min_index {
                break;
            }
            i = i64::from(s.hash_prev[(i & WINDOW_MASK) as usize]) - s.hash_offset;
            if i < min_index {
                break;
            }
            tries -= 1;
        }
        found
    }

    /// Go's `deflateLazy`.
    pub(super) fn deflate_lazy(&mut self) {
        debug_assert!(self.mode == Mode::Lazy);
        let window_end = self.window_end as i64;
        {
            let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
            if window_end - s.index < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH && !self.sync {
                return;
            }
            if window_end != s.index && s.chain > 100 {
                let mut tmp = [0u16; 256];
                let to_index = &self.window[s.index as usize..window_end as usize];
                let to_index = &to_index[..to_index.len().min(MAX_FLATE_BLOCK_TOKENS)];
                for &v in to_index {
                    tmp[v as usize] += 1;
                }
                s.h.get_or_insert_with(|| HuffmanEncoder::new(256))
                    .generate(&tmp, 15);
            }
            s.max_insert_index = window_end - (MIN_MATCH_LENGTH - 1);
        }
        loop {
            let index = self.lazy().index;
            assert!(index <= window_end, "index > windowEnd");
            let lookahead = window_end - index;
            if lookahead < MIN_MATCH_LENGTH + MAX_MATCH_LENGTH {
                if !self.sync {
                    return;
                }
                if lookahead == 0 {
                    if self.lazy().byte_available {
                        let b = self.window[(index - 1) as usize];
                        self.tokens.add_literal(b);
                        self.lazy().byte_available = false;
                    }
                    if self.tokens.n > 0 {
                        self.write_block_lazy(index);
                        self.tokens.reset();
                    }
                    return;
                }
            }
            let (prev_length, prev_offset, min_index, chain_head_pos);
            {
                let window = &self.window;
                let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
                if s.index < s.max_insert_index {
                    s.insert(window, s.index);
                }
                prev_length = s.length;
                prev_offset = s.offset;
                s.length = MIN_MATCH_LENGTH - 1;
                s.offset = 0;
                min_index = (s.index - WINDOW_SIZE).max(0);
                chain_head_pos = s.chain_head - s.hash_offset;
            }
            let s_lazy = self.lazy().lazy;
            if chain_head_pos >= min_index
                && lookahead > prev_length
                && prev_length < s_lazy
                && let Some((l, o)) = self.find_match(index, chain_head_pos, lookahead)
            {
                let s = self.lazy();
                s.length = l;
                s.offset = o;
            }
            let cur_length = self.lazy().length;
            if prev_length >= MIN_MATCH_LENGTH && cur_length <= prev_length {
                let (mut prev_length, mut prev_offset) = (prev_length, prev_offset);
                const CHECK_OFF: i64 = 2;
                // A longer match two bytes back, found through the hash of the match's end?
                let max_insert_index = self.lazy().max_insert_index;
                if prev_length < MAX_MATCH_LENGTH - CHECK_OFF {
                    let prev_index = index - 1;
                    if prev_index + prev_length < max_insert_index {
                        let end = lookahead.min(MAX_MATCH_LENGTH + CHECK_OFF) + prev_index;
                        let h = hash4(&self.window, prev_index + prev_length);
                        let s = self.lazy();
                        let ch2 = i64::from(s.hash_head[h]) - s.hash_offset - prev_length;
                        if prev_index - ch2 != prev_offset && ch2 > min_index + CHECK_OFF {
                            let length = match_len(
                                &self.window[(prev_index + CHECK_OFF) as usize..end as usize],
                                &self.window[(ch2 + CHECK_OFF) as usize..],
                            );
                            if length > prev_length {
                                prev_length = length;
                                prev_offset = prev_index - ch2;
                                let mut i = CHECK_OFF - 1;
                                while i >= 0 {
                                    if prev_length >= MAX_MATCH_LENGTH
                                        || self.window[(prev_index + i) as usize]
                                            != self.window[(ch2 + i) as usize]
                                    {
                                        for j in 0..=i {
                                            let b = self.window[(prev_index + j) as usize];
                                            let idx = self.lazy().index;
                                            self.literal_lazy(b, idx);
                                            let window = &self.window;
                                            let s = self
                                                .lazy
                                                .as_mut()
                                                .expect("levels 7 to 9 have their state");
                                            s.index += 1;
                                            if s.index < s.max_insert_index {
                                                s.insert(window, s.index);
                                            }
                                        }
                                        break;
                                    }
                                    prev_length += 1;
                                    i -= 1;
                                }
                            }
                        }
                    }
                }
                self.tokens
                    .add_match((prev_length - 3) as u32, (prev_offset - 1) as u32);
                {
                    let window = &self.window;
                    let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
                    let new_index = s.index + prev_length - 1;
                    let end = new_index.min(s.max_insert_index);
                    let mut p = (s.index + 1).min(s.max_insert_index);
                    while p < end {
                        let h = hash4(window, p);
                        s.hash_prev[(p & WINDOW_MASK) as usize] = s.hash_head[h];
                        s.hash_head[h] = (p + s.hash_offset) as u32;
                        p += 1;
                    }
                    s.index = new_index;
                    s.byte_available = false;
                    s.length = MIN_MATCH_LENGTH - 1;
                }
                if self.tokens.n == MAX_FLATE_BLOCK_TOKENS {
                    let idx = self.lazy().index;
                    self.write_block_lazy(idx);
                    self.tokens.reset();
                }
                self.lazy().ii = 0;
            } else {
                if cur_length >= MIN_MATCH_LENGTH {
                    self.lazy().ii = 0;
                }
                if self.lazy().byte_available {
                    let s = self.lazy();
                    s.ii = s.ii.wrapping_add(1);
                    let b = self.window[(index - 1) as usize];
                    self.literal_lazy(b, index);
                    self.lazy().index += 1;
                    let (ii, chain) = (self.lazy().ii, self.lazy().chain);
                    let n = i64::from(ii) - chain;
                    if n > 0 {
                        let n = 1 + (n >> 6);
                        for _ in 0..n {
                            let idx = self.lazy().index;
                            if idx >= window_end - 1 {
                                break;
                            }
                            let b = self.window[(idx - 1) as usize];
                            self.literal_lazy(b, idx);
                            let window = &self.window;
                            let s = self.lazy.as_mut().expect("levels 7 to 9 have their state");
                            if s.index < s.max_insert_index {
                                s.insert(window, s.index);
                            }
                            s.index += 1;
                        }
                        let idx = self.lazy().index;
                        let b = self.window[(idx - 1) as usize];
                        self.tokens.add_literal(b);
                        self.lazy().byte_available = false;
                        if self.tokens.n == MAX_FLATE_BLOCK_TOKENS {
                            self.write_block_lazy(idx);
                            self.tokens.reset();
                        }
                    }
                } else {
                    let s = self.lazy();
                    s.index += 1;
                    s.byte_available = true;
                }
            }
        }
    }
}
