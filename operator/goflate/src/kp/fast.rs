//! klauspost/compress's fast encoders, levels 1 to 6 (`fastEncL1`…`fastEncL6`; level 5 is its
//! `DefaultCompression`): hash tables over a history of the previous blocks (`fastGen`), each
//! level with its own tables, hash lengths, skipping and match checks.

use super::tokens::{MAX_STORE_BLOCK_SIZE, Tokens};

const TABLE_BITS: u32 = 15;
const TABLE_SIZE: usize = 1 << TABLE_BITS;
const MAX_MATCH_OFFSET: i32 = 1 << 15;
const MAX_MATCH_LENGTH: i32 = 258;
const BASE_MATCH_OFFSET: i32 = 1;
const ALLOC_HISTORY: usize = MAX_STORE_BLOCK_SIZE * 5;
pub(super) const BUFFER_RESET: i32 =
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

const PRIME5BYTES: u64 = 889523592379;

/// Go's `hashLen(u, 15, 4)`: the low 4 bytes hashed to `TABLE_BITS`.
#[inline]
fn hash4(u: u64) -> usize {
    ((u as u32).wrapping_mul(PRIME4BYTES) >> (32 - TABLE_BITS)) as usize
}

/// Go's `hash7(u, 15)`: the low 7 bytes.
#[inline]
fn hash7(u: u64) -> usize {
    ((u << 8).wrapping_mul(PRIME7BYTES) >> (64 - TABLE_BITS)) as usize
}

/// Go's `hashLen(u, bits, 5)`: the low 5 bytes.
#[inline]
fn hash5(u: u64, bits: u32) -> usize {
    ((u << 24).wrapping_mul(PRIME5BYTES) >> (64 - bits)) as usize
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

/// Go's `fastGen`: the history the matches reach into, and the offset of its start.
pub(crate) struct FastGen {
    hist: Vec<u8>,
    /// The capacity Go's `hist` slice has (0 until first used).
    hist_cap: usize,
    cur: i32,
}

impl FastGen {
    fn new() -> Self {
        FastGen {
            hist: Vec::new(),
            hist_cap: 0,
            cur: MAX_STORE_BLOCK_SIZE as i32,
        }
    }

    /// Go's `fastGen.Reset`: forget the history (the tables' entries fall out of range).
    fn reset(&mut self) {
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

    /// The match length at `s` against `t`, at most 254.
    fn matchlen(&self, s: i32, t: i32) -> i32 {
        let src = &self.hist;
        let s = s as usize;
        let end = (s + MAX_MATCH_LENGTH as usize - 4).min(src.len());
        match_len(&src[s..end], &src[t as usize..])
    }

    /// The match length at `s` against `t`, unbounded.
    fn matchlen_long(&self, s: i32, t: i32) -> i32 {
        let src = &self.hist;
        match_len(&src[s as usize..], &src[t as usize..])
    }

    /// The literals after the last match, unless the block had no token at all (the caller
    /// then codes it as literals itself).
    fn emit_remainder(&self, dst: &mut Tokens, next_emit: i32) {
        if (next_emit as usize) < self.hist.len() {
            if dst.n == 0 {
                return;
            }
            dst.emit_literals(&self.hist[next_emit as usize..]);
        }
    }
}

/// Shifts a table's offsets down when `cur` nears overflow (entries out of reach become 0).
fn shift_entry(v: i32, cur: i32, min_off: i32) -> i32 {
    if v <= min_off {
        0
    } else {
        v - cur + MAX_MATCH_OFFSET
    }
}

/// The shift of a two-candidate entry whose `prev` goes when `cur` does (levels 5 and 6).
fn shift_prev_linked(v: &mut Prev, cur: i32, min_off: i32) {
    if v.cur <= min_off {
        v.cur = 0;
        v.prev = 0;
    } else {
        v.cur = v.cur - cur + MAX_MATCH_OFFSET;
        v.prev = shift_entry(v.prev, cur, min_off);
    }
}

pub(crate) struct Level5 {
    g: FastGen,
    table: Vec<i32>,
    b_table: Vec<Prev>,
}

impl Level5 {
    fn new() -> Self {
        Level5 {
            g: FastGen::new(),
            table: vec![0; TABLE_SIZE],
            b_table: vec![Prev::default(); TABLE_SIZE],
        }
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
        while self.g.cur >= BUFFER_RESET {
            if self.g.hist.is_empty() {
                self.table.fill(0);
                self.b_table.fill(Prev::default());
                self.g.cur = MAX_MATCH_OFFSET;
                break;
            }
            let (cur, min_off) = (
                self.g.cur,
                self.g.cur + self.g.hist.len() as i32 - MAX_MATCH_OFFSET,
            );
            self.table
                .iter_mut()
                .for_each(|v| *v = shift_entry(*v, cur, min_off));
            self.b_table
                .iter_mut()
                .for_each(|v| shift_prev_linked(v, cur, min_off));
            self.g.cur = MAX_MATCH_OFFSET;
        }

        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            // No tokens: the caller encodes these bytes as literals.
            dst.n = src.len();
            return;
        }
        let src_len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = src_len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
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
                let next = load64(&self.g.hist, next_s);
                let entry = s + self.g.cur;
                self.table[next_hash_s] = entry;
                self.push_long(next_hash_l, entry);

                next_hash_s = hash4(next);
                next_hash_l = hash7(next);

                t = l_candidate.cur - self.g.cur;
                if s - t < MAX_MATCH_OFFSET {
                    if cv as u32 == load32(&self.g.hist, t) {
                        self.table[next_hash_s] = next_s + self.g.cur;
                        self.push_long(next_hash_l, next_s + self.g.cur);
                        let t2 = l_candidate.prev - self.g.cur;
                        if s - t2 < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t2) {
                            l = self.g.matchlen(s + 4, t + 4) + 4;
                            let ml1 = self.g.matchlen(s + 4, t2 + 4) + 4;
                            if ml1 > l {
                                t = t2;
                                l = ml1;
                                break;
                            }
                        }
                        break;
                    }
                    t = l_candidate.prev - self.g.cur;
                    if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                        self.table[next_hash_s] = next_s + self.g.cur;
                        self.push_long(next_hash_l, next_s + self.g.cur);
                        break;
                    }
                }

                t = s_candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    // A 4-byte match; maybe a long candidate at the next position is better.
                    l = self.g.matchlen(s + 4, t + 4) + 4;
                    let l_candidate = self.b_table[next_hash_l];
                    self.table[next_hash_s] = next_s + self.g.cur;
                    self.push_long(next_hash_l, next_s + self.g.cur);

                    let mut t2 = l_candidate.cur - self.g.cur;
                    if next_s - t2 < MAX_MATCH_OFFSET {
                        if load32(&self.g.hist, t2) == next as u32 {
                            let ml = self.g.matchlen(next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                                break;
                            }
                        }
                        t2 = l_candidate.prev - self.g.cur;
                        if next_s - t2 < MAX_MATCH_OFFSET && load32(&self.g.hist, t2) == next as u32
                        {
                            let ml = self.g.matchlen(next_s + 4, t2 + 4) + 4;
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
                l = self.g.matchlen_long(s + 4, t + 4) + 4;
            } else if l == MAX_MATCH_LENGTH {
                l += self.g.matchlen_long(s + l, t + l);
            }

            // A longer match ending where this one ends?
            let s_at = s + l;
            if l < 30 && s_at < s_limit {
                const SKIP_BEGINNING: i32 = 2;
                let e_long = self.b_table[hash7(load64(&self.g.hist, s_at))].cur;
                let t2 = e_long - self.g.cur - l + SKIP_BEGINNING;
                let s2 = s + SKIP_BEGINNING;
                let off = s2 - t2;
                if t2 >= 0 && off < MAX_MATCH_OFFSET && off > 0 {
                    let l2 = self.g.matchlen_long(s2, t2);
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
                && self.g.hist[(t - 1) as usize] == self.g.hist[(s - 1) as usize]
            {
                s -= 1;
                t -= 1;
                l += 1;
            }
            if next_emit < s {
                dst.emit_literals(&self.g.hist[next_emit as usize..s as usize]);
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
                let mut cv = load64(&self.g.hist, i);
                let mut te = i + self.g.cur;
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
                    let cv = load64(&self.g.hist, i);
                    let te = i + self.g.cur;
                    self.push_long(hash7(cv), te);
                    self.table[hash4(cv >> 8)] = te + 1;
                    i += HASH_EVERY;
                }
            }

            let x = load64(&self.g.hist, s - 1);
            let o = self.g.cur + s - 1;
            self.table[hash4(x)] = o;
            self.push_long(hash7(x), o);
            cv = x >> 8;
        }

        self.g.emit_remainder(dst, next_emit);
    }
}

/// The wraparound guard every level runs first: when `cur` nears `i32::MAX`, offsets are
/// rebased (or, without history, the tables cleared).
macro_rules! guard_wraparound {
    ($self:ident, $clear:expr, $shift:expr) => {
        while $self.g.cur >= BUFFER_RESET {
            if $self.g.hist.is_empty() {
                $clear;
                $self.g.cur = MAX_MATCH_OFFSET;
                break;
            }
            let cur = $self.g.cur;
            let min_off = cur + $self.g.hist.len() as i32 - MAX_MATCH_OFFSET;
            ($shift)(cur, min_off);
            $self.g.cur = MAX_MATCH_OFFSET;
        }
    };
}

/// Literals from `next_emit` to `s`, then a match of `l` at distance `s - t`.
#[inline]
fn emit_match(g: &FastGen, dst: &mut Tokens, next_emit: i32, s: i32, t: i32, l: i32) {
    if next_emit < s {
        dst.emit_literals(&g.hist[next_emit as usize..s as usize]);
    }
    dst.add_match_long(l, (s - t - BASE_MATCH_OFFSET) as u32);
}

/// Extends a match at `s` against `t` backwards while the bytes before agree.
#[inline]
fn extend_back(g: &FastGen, next_emit: i32, s: &mut i32, t: &mut i32, l: &mut i32) {
    while *t > 0 && *s > next_emit && g.hist[(*t - 1) as usize] == g.hist[(*s - 1) as usize] {
        *s -= 1;
        *t -= 1;
        *l += 1;
    }
}

const INPUT_MARGIN: i32 = 12 - 1;
const MIN_NON_LITERAL_BLOCK_SIZE: usize = 1 + 1 + INPUT_MARGIN as usize;

/// Level 1: one 5-byte hash table, two probes per step.
pub(crate) struct Level1 {
    g: FastGen,
    table: Vec<i32>,
}

impl Level1 {
    fn new() -> Self {
        Level1 {
            g: FastGen::new(),
            table: vec![0; TABLE_SIZE],
        }
    }

    fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        let table = &mut self.table;
        guard_wraparound!(self, table.fill(0), |cur, min_off| table
            .iter_mut()
            .for_each(|v| *v = shift_entry(*v, cur, min_off)));
        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }
        let h = |u| hash5(u, TABLE_BITS);
        let len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
        'outer: loop {
            const SKIP_LOG: i32 = 5;
            const DO_EVERY: i32 = 2;
            let mut next_s;
            let mut t;
            loop {
                let mut next_hash = h(cv);
                let mut candidate = self.table[next_hash];
                next_s = s + DO_EVERY + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                let mut now = load64(&self.g.hist, next_s);
                self.table[next_hash] = s + self.g.cur;
                next_hash = h(now);
                t = candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    self.table[next_hash] = next_s + self.g.cur;
                    break;
                }
                cv = now;
                s = next_s;
                next_s += 1;
                candidate = self.table[next_hash];
                now >>= 8;
                self.table[next_hash] = s + self.g.cur;
                t = candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    self.table[next_hash] = next_s + self.g.cur;
                    break;
                }
                cv = now;
                s = next_s;
            }
            loop {
                let mut l = self.g.matchlen_long(s + 4, t + 4) + 4;
                extend_back(&self.g, next_emit, &mut s, &mut t, &mut l);
                emit_match(&self.g, dst, next_emit, s, t, l);
                s += l;
                next_emit = s;
                if next_s >= s {
                    s = next_s + 1;
                }
                if s >= s_limit {
                    if s + l + 8 < len {
                        let cv = load64(&self.g.hist, s);
                        self.table[h(cv)] = s + self.g.cur;
                    }
                    break 'outer;
                }
                let mut x = load64(&self.g.hist, s - 2);
                let o = self.g.cur + s - 2;
                self.table[h(x)] = o;
                x >>= 16;
                let curr_hash = h(x);
                let candidate = self.table[curr_hash];
                self.table[curr_hash] = o + 2;
                t = candidate - self.g.cur;
                if s - t > MAX_MATCH_OFFSET || x as u32 != load32(&self.g.hist, t) {
                    cv = x >> 8;
                    s += 1;
                    break;
                }
            }
        }
        self.g.emit_remainder(dst, next_emit);
    }
}

const B_TABLE_BITS: u32 = 17;

/// Level 2: a larger 5-byte hash table, and more positions hashed after each match.
pub(crate) struct Level2 {
    g: FastGen,
    table: Vec<i32>,
}

impl Level2 {
    fn new() -> Self {
        Level2 {
            g: FastGen::new(),
            table: vec![0; 1 << B_TABLE_BITS],
        }
    }

    fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        let table = &mut self.table;
        guard_wraparound!(self, table.fill(0), |cur, min_off| table
            .iter_mut()
            .for_each(|v| *v = shift_entry(*v, cur, min_off)));
        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }
        let h = |u| hash5(u, B_TABLE_BITS);
        let len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
        'outer: loop {
            const SKIP_LOG: i32 = 5;
            const DO_EVERY: i32 = 2;
            let mut next_s = s;
            let mut candidate;
            loop {
                let mut next_hash = h(cv);
                s = next_s;
                next_s = s + DO_EVERY + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                candidate = self.table[next_hash];
                let mut now = load64(&self.g.hist, next_s);
                self.table[next_hash] = s + self.g.cur;
                next_hash = h(now);
                let offset = s - (candidate - self.g.cur);
                if offset < MAX_MATCH_OFFSET
                    && cv as u32 == load32(&self.g.hist, candidate - self.g.cur)
                {
                    self.table[next_hash] = next_s + self.g.cur;
                    break;
                }
                cv = now;
                s = next_s;
                next_s += 1;
                candidate = self.table[next_hash];
                now >>= 8;
                self.table[next_hash] = s + self.g.cur;
                let offset = s - (candidate - self.g.cur);
                if offset < MAX_MATCH_OFFSET
                    && cv as u32 == load32(&self.g.hist, candidate - self.g.cur)
                {
                    break;
                }
                cv = now;
            }
            loop {
                let mut t = candidate - self.g.cur;
                let mut l = self.g.matchlen_long(s + 4, t + 4) + 4;
                extend_back(&self.g, next_emit, &mut s, &mut t, &mut l);
                emit_match(&self.g, dst, next_emit, s, t, l);
                s += l;
                next_emit = s;
                if next_s >= s {
                    s = next_s + 1;
                }
                if s >= s_limit {
                    if s + l + 8 < len {
                        let cv = load64(&self.g.hist, s);
                        self.table[h(cv)] = s + self.g.cur;
                    }
                    break 'outer;
                }
                let mut i = s - l + 2;
                while i < s - 5 {
                    let mut x = load64(&self.g.hist, i);
                    self.table[h(x)] = self.g.cur + i;
                    x >>= 16;
                    self.table[h(x)] = self.g.cur + i + 2;
                    x >>= 16;
                    self.table[h(x)] = self.g.cur + i + 4;
                    i += 7;
                }
                let x = load64(&self.g.hist, s - 2);
                let o = self.g.cur + s - 2;
                let prev_hash = h(x);
                let prev_hash2 = h(x >> 8);
                self.table[prev_hash] = o;
                self.table[prev_hash2] = o + 1;
                let curr_hash = h(x >> 16);
                candidate = self.table[curr_hash];
                self.table[curr_hash] = o + 2;
                let offset = s - (candidate - self.g.cur);
                if offset > MAX_MATCH_OFFSET
                    || (x >> 16) as u32 != load32(&self.g.hist, candidate - self.g.cur)
                {
                    cv = x >> 24;
                    s += 1;
                    break;
                }
            }
        }
        self.g.emit_remainder(dst, next_emit);
    }
}

const L3_TABLE_BITS: u32 = 16;

/// Level 3: a 5-byte hash table keeping two candidates per entry.
pub(crate) struct Level3 {
    g: FastGen,
    table: Vec<Prev>,
}

impl Level3 {
    fn new() -> Self {
        Level3 {
            g: FastGen::new(),
            table: vec![Prev::default(); 1 << L3_TABLE_BITS],
        }
    }

    #[inline]
    fn push(&mut self, h: usize, offset: i32) {
        let e = &mut self.table[h];
        e.prev = e.cur;
        e.cur = offset;
    }

    fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        let table = &mut self.table;
        guard_wraparound!(self, table.fill(Prev::default()), |cur, min_off| table
            .iter_mut()
            .for_each(|v| {
                v.cur = shift_entry(v.cur, cur, min_off);
                v.prev = shift_entry(v.prev, cur, min_off);
            }));
        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }
        let h = |u| hash5(u, L3_TABLE_BITS);
        let len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
        'outer: loop {
            const SKIP_LOG: i32 = 7;
            let mut next_s = s;
            let mut candidate;
            loop {
                let next_hash = h(cv);
                s = next_s;
                next_s = s + 1 + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                let candidates = self.table[next_hash];
                let now = load64(&self.g.hist, next_s);
                let min_offset = self.g.cur + s - (MAX_MATCH_OFFSET - 4);
                self.table[next_hash] = Prev {
                    prev: candidates.cur,
                    cur: s + self.g.cur,
                };
                candidate = candidates.cur;
                if candidate < min_offset {
                    cv = now;
                    continue;
                }
                if cv as u32 == load32(&self.g.hist, candidate - self.g.cur) {
                    if candidates.prev < min_offset
                        || cv as u32 != load32(&self.g.hist, candidates.prev - self.g.cur)
                    {
                        break;
                    }
                    let offset = s - (candidate - self.g.cur);
                    let o2 = s - (candidates.prev - self.g.cur);
                    let hist = &self.g.hist;
                    let l1 = match_len(
                        &hist[(s + 4) as usize..],
                        &hist[(s - offset + 4) as usize..],
                    );
                    let l2 = match_len(&hist[(s + 4) as usize..], &hist[(s - o2 + 4) as usize..]);
                    if l2 > l1 {
                        candidate = candidates.prev;
                    }
                    break;
                } else {
                    candidate = candidates.prev;
                    if candidate > min_offset
                        && cv as u32 == load32(&self.g.hist, candidate - self.g.cur)
                    {
                        break;
                    }
                }
                cv = now;
            }
            loop {
                let mut t = candidate - self.g.cur;
                let mut l = self.g.matchlen_long(s + 4, t + 4) + 4;
                extend_back(&self.g, next_emit, &mut s, &mut t, &mut l);
                emit_match(&self.g, dst, next_emit, s, t, l);
                s += l;
                next_emit = s;
                if next_s >= s {
                    s = next_s + 1;
                }
                if s >= s_limit {
                    t += l;
                    if t + 8 < len && t > 0 {
                        let cv = load64(&self.g.hist, t);
                        self.push(h(cv), self.g.cur + t);
                    }
                    break 'outer;
                }
                let mut i = s - l + 2;
                while i < s - 5 {
                    let hh = h(load64(&self.g.hist, i));
                    self.push(hh, self.g.cur + i);
                    i += 6;
                }
                let mut x = load64(&self.g.hist, s - 2);
                self.push(h(x), self.g.cur + s - 2);
                x >>= 8;
                self.push(h(x), self.g.cur + s - 1);
                x >>= 8;
                let curr_hash = h(x);
                let candidates = self.table[curr_hash];
                cv = x;
                self.table[curr_hash] = Prev {
                    prev: candidates.cur,
                    cur: s + self.g.cur,
                };
                candidate = candidates.cur;
                let min_offset = self.g.cur + s - (MAX_MATCH_OFFSET - 4);
                if candidate > min_offset {
                    if cv as u32 == load32(&self.g.hist, candidate - self.g.cur) {
                        continue;
                    }
                    candidate = candidates.prev;
                    if candidate > min_offset
                        && cv as u32 == load32(&self.g.hist, candidate - self.g.cur)
                    {
                        continue;
                    }
                }
                cv = x >> 8;
                s += 1;
                break;
            }
        }
        self.g.emit_remainder(dst, next_emit);
    }
}

/// Level 4: a short (4-byte) and a long (7-byte) table, one candidate each.
pub(crate) struct Level4 {
    g: FastGen,
    table: Vec<i32>,
    b_table: Vec<i32>,
}

impl Level4 {
    fn new() -> Self {
        Level4 {
            g: FastGen::new(),
            table: vec![0; TABLE_SIZE],
            b_table: vec![0; TABLE_SIZE],
        }
    }

    fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        let (table, b_table) = (&mut self.table, &mut self.b_table);
        guard_wraparound!(
            self,
            {
                table.fill(0);
                b_table.fill(0);
            },
            |cur, min_off| {
                table
                    .iter_mut()
                    .for_each(|v| *v = shift_entry(*v, cur, min_off));
                b_table
                    .iter_mut()
                    .for_each(|v| *v = shift_entry(*v, cur, min_off));
            }
        );
        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }
        let len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
        'outer: loop {
            const SKIP_LOG: i32 = 6;
            const DO_EVERY: i32 = 1;
            let mut next_s = s;
            let mut t;
            loop {
                let next_hash_s = hash4(cv);
                let next_hash_l = hash7(cv);
                s = next_s;
                next_s = s + DO_EVERY + ((s - next_emit) >> SKIP_LOG);
                if next_s > s_limit {
                    break 'outer;
                }
                let s_candidate = self.table[next_hash_s];
                let l_candidate = self.b_table[next_hash_l];
                let next = load64(&self.g.hist, next_s);
                let entry = s + self.g.cur;
                self.table[next_hash_s] = entry;
                self.b_table[next_hash_l] = entry;
                t = l_candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    break;
                }
                t = s_candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    let l_candidate = self.b_table[hash7(next)];
                    let l_off = l_candidate - self.g.cur;
                    if next_s - l_off < MAX_MATCH_OFFSET
                        && load32(&self.g.hist, l_off) == next as u32
                    {
                        // As klauspost writes it: the second length is taken at
                        // `next_s - l_off` (the distance), not at `l_off`.
                        let hist = &self.g.hist;
                        let l1 = match_len(&hist[(s + 4) as usize..], &hist[(t + 4) as usize..]);
                        let l2 = match_len(
                            &hist[(next_s + 4) as usize..],
                            &hist[(next_s - l_off + 4) as usize..],
                        );
                        if l2 > l1 {
                            s = next_s;
                            t = l_candidate - self.g.cur;
                        }
                    }
                    break;
                }
                cv = next;
            }
            let mut l = self.g.matchlen_long(s + 4, t + 4) + 4;
            extend_back(&self.g, next_emit, &mut s, &mut t, &mut l);
            emit_match(&self.g, dst, next_emit, s, t, l);
            s += l;
            next_emit = s;
            if next_s >= s {
                s = next_s + 1;
            }
            if s >= s_limit {
                if s + 8 < len {
                    let cv = load64(&self.g.hist, s);
                    self.table[hash4(cv)] = s + self.g.cur;
                    self.b_table[hash7(cv)] = s + self.g.cur;
                }
                break 'outer;
            }
            let mut i = next_s;
            if i < s - 1 {
                loop {
                    let cv = load64(&self.g.hist, i);
                    let te = i + self.g.cur;
                    self.b_table[hash7(cv)] = te;
                    self.b_table[hash7(cv >> 8)] = te + 1;
                    self.table[hash4(cv >> 8)] = te + 1;
                    i += 3;
                    if i >= s - 1 {
                        break;
                    }
                }
            }
            let x = load64(&self.g.hist, s - 1);
            let o = self.g.cur + s - 1;
            self.table[hash4(x)] = o;
            self.b_table[hash7(x)] = o;
            cv = x >> 8;
        }
        self.g.emit_remainder(dst, next_emit);
    }
}

/// Level 6: level 5's tables, a repeat-offset check, and more positions hashed.
pub(crate) struct Level6 {
    g: FastGen,
    table: Vec<i32>,
    b_table: Vec<Prev>,
}

impl Level6 {
    fn new() -> Self {
        Level6 {
            g: FastGen::new(),
            table: vec![0; TABLE_SIZE],
            b_table: vec![Prev::default(); TABLE_SIZE],
        }
    }

    #[inline]
    fn push_long(&mut self, h: usize, offset: i32) {
        let e = &mut self.b_table[h];
        e.prev = e.cur;
        e.cur = offset;
    }

    fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        let (table, b_table) = (&mut self.table, &mut self.b_table);
        guard_wraparound!(
            self,
            {
                table.fill(0);
                b_table.fill(Prev::default());
            },
            |cur, min_off| {
                table
                    .iter_mut()
                    .for_each(|v| *v = shift_entry(*v, cur, min_off));
                b_table
                    .iter_mut()
                    .for_each(|v| shift_prev_linked(v, cur, min_off));
            }
        );
        let mut s = self.g.add_block(src);
        if src.len() < MIN_NON_LITERAL_BLOCK_SIZE {
            dst.n = src.len();
            return;
        }
        let len = self.g.hist.len() as i32;
        let mut next_emit = s;
        let s_limit = len - INPUT_MARGIN;
        let mut cv = load64(&self.g.hist, s);
        let mut repeat: i32 = 1;
        'outer: loop {
            const SKIP_LOG: i32 = 7;
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
                let next = load64(&self.g.hist, next_s);
                let entry = s + self.g.cur;
                self.table[next_hash_s] = entry;
                self.push_long(next_hash_l, entry);
                next_hash_s = hash4(next);
                next_hash_l = hash7(next);
                t = l_candidate.cur - self.g.cur;
                if s - t < MAX_MATCH_OFFSET {
                    if cv as u32 == load32(&self.g.hist, t) {
                        self.table[next_hash_s] = next_s + self.g.cur;
                        self.push_long(next_hash_l, next_s + self.g.cur);
                        let t2 = l_candidate.prev - self.g.cur;
                        if s - t2 < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t2) {
                            l = self.g.matchlen(s + 4, t + 4) + 4;
                            let ml1 = self.g.matchlen(s + 4, t2 + 4) + 4;
                            if ml1 > l {
                                t = t2;
                                l = ml1;
                                break;
                            }
                        }
                        break;
                    }
                    t = l_candidate.prev - self.g.cur;
                    if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                        self.table[next_hash_s] = next_s + self.g.cur;
                        self.push_long(next_hash_l, next_s + self.g.cur);
                        break;
                    }
                }
                t = s_candidate - self.g.cur;
                if s - t < MAX_MATCH_OFFSET && cv as u32 == load32(&self.g.hist, t) {
                    l = self.g.matchlen(s + 4, t + 4) + 4;
                    let l_candidate = self.b_table[next_hash_l];
                    self.table[next_hash_s] = next_s + self.g.cur;
                    self.push_long(next_hash_l, next_s + self.g.cur);
                    // The previous match's distance, one byte on.
                    const REP_OFF: i32 = 1;
                    let mut t2 = s - repeat + REP_OFF;
                    if load32(&self.g.hist, t2) == (cv >> (8 * REP_OFF)) as u32 {
                        let ml = self.g.matchlen(s + 4 + REP_OFF, t2 + 4) + 4;
                        if ml > l {
                            t = t2;
                            l = ml;
                            s += REP_OFF;
                            break;
                        }
                    }
                    t2 = l_candidate.cur - self.g.cur;
                    if next_s - t2 < MAX_MATCH_OFFSET {
                        if load32(&self.g.hist, t2) == next as u32 {
                            let ml = self.g.matchlen(next_s + 4, t2 + 4) + 4;
                            if ml > l {
                                t = t2;
                                s = next_s;
                                l = ml;
                            }
                        }
                        t2 = l_candidate.prev - self.g.cur;
                        if next_s - t2 < MAX_MATCH_OFFSET && load32(&self.g.hist, t2) == next as u32
                        {
                            let ml = self.g.matchlen(next_s + 4, t2 + 4) + 4;
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
                l = self.g.matchlen_long(s + 4, t + 4) + 4;
            } else if l == MAX_MATCH_LENGTH {
                l += self.g.matchlen_long(s + l, t + l);
            }

            // A longer match ending where this one ends, through either long candidate?
            let s_at = s + l;
            if s_at < s_limit {
                const SKIP_BEGINNING: i32 = 2;
                let e_long = self.b_table[hash7(load64(&self.g.hist, s_at))];
                let mut t2 = e_long.cur - self.g.cur - l + SKIP_BEGINNING;
                let s2 = s + SKIP_BEGINNING;
                let off = s2 - t2;
                if off < MAX_MATCH_OFFSET {
                    if off > 0 && t2 >= 0 {
                        let l2 = self.g.matchlen_long(s2, t2);
                        if l2 > l {
                            t = t2;
                            l = l2;
                            s = s2;
                        }
                    }
                    t2 = e_long.prev - self.g.cur - l + SKIP_BEGINNING;
                    let off = s2 - t2;
                    if off > 0 && off < MAX_MATCH_OFFSET && t2 >= 0 {
                        let l2 = self.g.matchlen_long(s2, t2);
                        if l2 > l {
                            t = t2;
                            l = l2;
                            s = s2;
                        }
                    }
                }
            }

            extend_back(&self.g, next_emit, &mut s, &mut t, &mut l);
            emit_match(&self.g, dst, next_emit, s, t, l);
            repeat = s - t;
            s += l;
            next_emit = s;
            if next_s >= s {
                s = next_s + 1;
            }
            if s >= s_limit {
                let mut i = next_s + 1;
                while i < len - 8 {
                    let cv = load64(&self.g.hist, i);
                    self.table[hash4(cv)] = i + self.g.cur;
                    self.push_long(hash7(cv), i + self.g.cur);
                    i += 2;
                }
                break 'outer;
            }
            let mut i = next_s + 1;
            while i < s - 1 {
                let cv = load64(&self.g.hist, i);
                let te = i + self.g.cur;
                self.table[hash4(cv)] = te;
                self.push_long(hash7(cv), te);
                self.push_long(hash7(cv >> 8), te + 1);
                i += 2;
            }
            cv = load64(&self.g.hist, s);
        }
        self.g.emit_remainder(dst, next_emit);
    }
}

/// One of the fast encoders (Go's `fastEnc` interface).
pub(crate) enum FastEnc {
    L1(Box<Level1>),
    L2(Box<Level2>),
    L3(Box<Level3>),
    L4(Box<Level4>),
    L5(Box<Level5>),
    L6(Box<Level6>),
}

impl FastEnc {
    /// The encoder of level 1 to 6.
    pub fn new(level: i32) -> Option<Self> {
        Some(match level {
            1 => FastEnc::L1(Box::new(Level1::new())),
            2 => FastEnc::L2(Box::new(Level2::new())),
            3 => FastEnc::L3(Box::new(Level3::new())),
            4 => FastEnc::L4(Box::new(Level4::new())),
            5 => FastEnc::L5(Box::new(Level5::new())),
            6 => FastEnc::L6(Box::new(Level6::new())),
            _ => return None,
        })
    }

    pub fn encode(&mut self, dst: &mut Tokens, src: &[u8]) {
        match self {
            FastEnc::L1(e) => e.encode(dst, src),
            FastEnc::L2(e) => e.encode(dst, src),
            FastEnc::L3(e) => e.encode(dst, src),
            FastEnc::L4(e) => e.encode(dst, src),
            FastEnc::L5(e) => e.encode(dst, src),
            FastEnc::L6(e) => e.encode(dst, src),
        }
    }

    /// Moves the history's offset (tests of the wraparound guard).
    #[cfg(test)]
    pub fn set_cur(&mut self, cur: i32) {
        match self {
            FastEnc::L1(e) => e.g.cur = cur,
            FastEnc::L2(e) => e.g.cur = cur,
            FastEnc::L3(e) => e.g.cur = cur,
            FastEnc::L4(e) => e.g.cur = cur,
            FastEnc::L5(e) => e.g.cur = cur,
            FastEnc::L6(e) => e.g.cur = cur,
        }
    }

    pub fn reset(&mut self) {
        match self {
            FastEnc::L1(e) => e.g.reset(),
            FastEnc::L2(e) => e.g.reset(),
            FastEnc::L3(e) => e.g.reset(),
            FastEnc::L4(e) => e.g.reset(),
            FastEnc::L5(e) => e.g.reset(),
            FastEnc::L6(e) => e.g.reset(),
        }
    }
}
