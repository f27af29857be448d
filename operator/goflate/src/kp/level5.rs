//! klauspost/compress's level 5 (`fastEncL5`, its `DefaultCompression`): a short (4-byte) and
//! a long (7-byte, two candidates) hash table over a history of previous blocks, with a check
//! at the end of each match for a longer one and backward extension.

use super::tokens::{MAX_STORE_BLOCK_SIZE, Tokens};

const TABLE_BITS: u32 = 15;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
const MAX_MATCH_OFFSET: i32 = 1 << 15;
const MAX_MATCH_LENGTH: i32 = 258;
const BASE_MATCH_OFFSET: i32 = 1;
const ALLOC_HISTORY: usize = MAX_STORE_BLOCK_SIZE * 5;
const BUFFER_RESET: i32 =
    ((1u32 << 31) - ALLOC_HISTORY as u32 - MAX_STORE_BLOCK_SIZE as u32 - 1) as i32;
const PRIME4BYTES: u32 = 2654435761;
const PRIME7BYTES: u64 = 58295818150454627;

#[inline]
fn load32(b: &[u8], i: i32) -> u32 {
    let i = i as usize;
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

#[inline]
fn load64(b: &[u8], i: i32) -> u64 {
    let i = i as usize;
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

#[inline]
fn hash4(u: u64) -> usize {
    ((u as u32).wrapping_mul(PRIME4BYTES) >> (32 - TABLE_BITS)) as usize
}

#[inline]
fn hash7(u: u64) -> usize {
    ((u << 8).wrapping_mul(PRIME7BYTES) >> (64 - TABLE_BITS)) as usize
}

/// The number of equal leading bytes of `a` and `b` (`b` at least as long as `a`).
#[inline]
fn match_len(a: &[u8], b: &[u8]) -> i32 {
    let mut n = 0;
    while a.len() - n >= 8 {
        let x = u64::from_le_bytes(a[n..n + 8].try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(b[n..n + 8].try_into().expect("8 bytes"));
        if x != 0 {
            return (n + (x.trailing_zeros() >> 3) as usize) as i32;
        }
        n += 8;
    }
    while n < a.len() && a[n] == b[n] {
        n += 1;
    }
    n as i32
}

#[derive(Clone, Copy, Default)]
struct Prev {
    cur: i32,
    prev: i32,
}

pub(crate) struct Level5 {
    hist: Vec<u8>,
    /// The capacity Go's `hist` slice has (0 until first used).
    hist_cap: usize,
    cur: i32,
    table: Vec<i32>,
    b_table: Vec<Prev>,
}

impl Level5 {
    pub fn new() -> Self {
        Level5 {
            hist: Vec::new(),
            hist_cap: 0,
            cur: MAX_STORE_BLOCK_SIZE as i32,
            table: vec![0; TABLE_SIZE],
            b_table: vec![Prev::default(); TABLE_SIZE],
        }
    }

    /// Go's `fastGen.Reset`: forget the history (the tables' entries fall out of range).
    pub fn reset(&mut self) {
        if self.hist_cap < ALLOC_HISTORY {
            self.hist = Vec::with_capacity(ALLOC_HISTORY);
            self.hist_cap = ALLOC_HISTORY;
        }
        if self.cur <= BUFFER_RESET {
            self.cur += MAX_MATCH_OFFSET + self.hist.len() as i32;
        }
        self.hist.clear();
    }

    fn add_block(&mut self, src: &[u8]) -> i32 {
        if self.hist.len() + src.len() > self.hist_cap {
            if self.hist_cap == 0 {
                self.hist = Vec::with_capacity(ALLOC_HISTORY);
                self.hist_cap = ALLOC_HISTORY;
            } else {
                let offset = self.hist.len() - MAX_MATCH_OFFSET as usize;
                self.hist.copy_within(offset.., 0);
                self.cur += offset as i32;
                self.hist.truncate(MAX_MATCH_OFFSET as usize);
            }
        }
        let s = self.hist.len() as i32;
        self.hist.extend_from_slice(src);
        s
    }

    fn matchlen(&self, s: i32, t: i32) -> i32 {
        let src = &self.hist;
        let s = s as usize;
        let end = (s + MAX_MATCH_LENGTH as usize - 4).min(src.len());
        match_len(&src[s..end], &src[t as usize..])
    }

    fn matchlen_long(&self, s: i32, t: i32) -> i32 {
        let src = &self.hist;
        match_len(&src[s as usize..], &src[t as usize..])
    }

    #[inline]
    fn push_long(&mut self, h: usize, offset: i32) {
        let e = &mut self.b_table[h];
        e.prev = e.cur;
        e.cur = offset;
    }

    pub fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        const INPUT_MARGIN: i32 = 12 - 1;
        const MIN_NON_LITERAL_BLOCK_SIZE: usize = 1 + 1 + INPUT_MARGIN as usize;

        // Protect against cur wraparound.
        while self.cur >= BUFFER_RESET {
            if self.hist.is_empty() {
                self.table.fill(0);
                self.b_table.fill(Prev::default());
                self.cur = MAX_MATCH_OFFSET;
                break;
            }
            let min_off = self.cur + self.hist.len() as i32 - MAX_MATCH_OFFSET;
            let cur = self.cur;
            for v in self.table.iter_mut() {
                *v = if *v <= min_off {
                    0
                } else {
                    *v - cur + MAX_MATCH_OFFSET
                };
            }
            for v in self.b_table.iter_mut() {
                if v.cur <= min_off {
                    v.cur = 0;
                    v.prev = 0;
                } else {
                    v.cur = v.cur - cur + MAX_MATCH_OFFSET;
                    v.prev = if v.prev <= min_off {
                        0
                    } else {
                        v.prev - cur + MAX_MATCH_OFFSET
                    };
                }
            }
            self.cur = MAX_MATCH_OFFSET;
        }

        let mut s = self.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            // No tokens: the caller encodes these bytes as literals.
            dst.n = src.len();
            return;
        }
        let src_len = self.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = src_len - INPUT_MARGIN;
        let mut cv = load64(&self.hist, s);
        'outer: loop {
            const SKIP_LOG: i32 = 6;
            const DO_EVERY: i32 = 1;
            let mut next_s = s;
            let mut l: i32 = 0;
            let mut t: i32;
            loop {
                let mut next_hash_s = hash4(cv);
                let mut next_hash_l = hash7(cv);
                s = next_s;
                next_s = s + DO_EVERY + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                let s_candidate = self.table[next_hash_s];
                let l_candidate = self.b_table[next_hash_l];
                let next = load64(&self.hist, next_s);
                let entry = s + self.cur;
                self.table[next_hash_s] = entry;
                self.push_long(next_hash_l, entry);

                next_hash_s = hash4(next);
                next_hash_l = hash7(next);

                t = l_candidate.cur - self.cur;
                if s - t < MAX_MATCH_OFFSET {
                    if cv as u32 == load32(&self.hist, t) {
                        self.table[next_hash_s] = next_s + self.cur;
                        self.push_long(next_hash_l, next_s + self.cur);
                        let t2 = l_candidate.prev - self.cur;
                        if s - t2 < MAX_MATCH_OFFSET && cv as u32 == load32(&self.hist, t2) {
                            l = self.matchlen(s + 4, t + 4) + 4;
                            let ml1 = self.matchlen(s + 4, t2 + 4) + 4;
                            if ml1 > l {
                                t = t2;
                                l = ml1;
                                break;
                            }
                        }
                        break;
                    }
                    t = l_candidate.prev - self.cur;
                    if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.hist, t) {
                        self.table[next_hash_s] = next_s + self.cur;
                        self.push_long(next_hash_l, next_s + self.cur);
                        break;
                    }
                }

                t = s_candidate - self.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.hist, t) {
                    // A 4-byte match; maybe a long candidate at the next position is better.
                    l = self.matchlen(s + 4, t + 4) + 4;
                    let l_candidate = self.b_table[next_hash_l];
                    self.table[next_hash_s] = next_s + self.cur;
                    self.push_long(next_hash_l, next_s + self.cur);

                    let mut t2 = l_candidate.cur - self.cur;
                    if next_s - t2 < MAX_MATCH_OFFSET {
                        if load32(&self.hist, t2) == next as u32 {
                            let ml = self.matchlen(next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                                break;
                            }
                        }
                        t2 = l_candidate.prev - self.cur;
                        if next_s - t2 < MAX_MATCH_OFFSET && load32(&self.hist, t2) == next as u32 {
                            let ml = self.matchlen(next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                                break;
                            }
                        }
                    }
                    break;
                }
                cv = next;
            }

            if l == 0 {
                l = self.matchlen_long(s + 4, t + 4) + 4;
            } else if l == MAX_MATCH_LENGTH {
                l += self.matchlen_long(s + l, t + l);
            }

            // A longer match ending where this one ends?
            let s_at = s + l;
            if l < 30 && s_at < s_limit {
                const SKIP_BEGINNING: i32 = 2;
                let e_long = self.b_table[hash7(load64(&self.hist, s_at))].cur;
                let t2 = e_long - self.cur - l + SKIP_BEGINNING;
                let s2 = s + SKIP_BEGINNING;
                let off = s2 - t2;
                if t2 >= 0 && off < MAX_MATCH_OFFSET && off > 0 {
                    let l2 = self.matchlen_long(s2, t2);
                    if l2 > l {
                        t = t2;
                        l = l2;
                        s = s2;
                    }
                }
            }

            // Extend backwards.
            while t > 0
                && s > next_emit
                && self.hist[(t - 1) as usize] == self.hist[(s - 1) as usize]
            {
                s -= 1;
                t -= 1;
                l += 1;
            }
            if next_emit < s {
                dst.emit_literals(&self.hist[next_emit as usize..s as usize]);
            }
            dst.add_match_long(l, (s - t - BASE_MATCH_OFFSET) as u32);
            s += l;
            next_emit = s;
            if next_s >= s {
                s = next_s + 1;
            }
            if s >= s_limit {
                break 'outer;
            }

            // Store every third hash in between.
            const HASH_EVERY: i32 = 3;
            let mut i = s - l + 1;
            if i < s - 1 {
                let mut cv = load64(&self.hist, i);
                let mut te = i + self.cur;
                self.table[hash4(cv)] = te;
                self.push_long(hash7(cv), te);
                cv >>= 8;
                te += 1;
                self.push_long(hash7(cv), te);
                cv >>= 8;
                te += 1;
                self.table[hash4(cv)] = te;
                i += 4;
                while i < s - 1 {
                    let cv = load64(&self.hist, i);
                    let te = i + self.cur;
                    self.push_long(hash7(cv), te);
                    self.table[hash4(cv >> 8)] = te + 1;
                    i += HASH_EVERY;
                }
            }

            let x = load64(&self.hist, s - 1);
            let o = self.cur + s - 1;
            self.table[hash4(x)] = o;
            self.push_long(hash7(x), o);
            cv = x >> 8;
        }

        if (next_emit as usize) < self.hist.len() {
            // Nothing matched: leave the block to the caller's literal coding.
            if dst.n == 0 {
                return;
            }
            let (hist, n) = (&self.hist, next_emit as usize);
            dst.emit_literals(&hist[n..]);
        }
    }
}
