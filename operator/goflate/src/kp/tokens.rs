//! klauspost/compress's `tokens`: the token list of a block with its histograms kept as it
//! fills (`token.go`). A match token packs the offset code too:
//! `MATCH_TYPE | xlength << 22 | offset_code << 16 | xoffset`.

use crate::token::{length_code, offset_code};

pub(crate) type Token = u32;

pub(crate) const MATCH_TYPE: u32 = 1 << 30;
const LENGTH_SHIFT: u32 = 22;
pub(crate) const OFFSET_MASK: u32 = (1 << LENGTH_SHIFT) - 1;
pub(crate) const MATCH_OFFSET_ONLY_MASK: u32 = 0xffff;
pub(crate) const END_BLOCK_MARKER: u32 = 256;
pub(crate) const MAX_STORE_BLOCK_SIZE: usize = 65535;
pub(crate) const LITERAL_COUNT: usize = 286;
pub(crate) const OFFSET_CODE_COUNT: usize = 30;
const BASE_MATCH_LENGTH: i32 = 3;

/// Extra bits of each length code (index: code - 257).
pub(crate) const LENGTH_EXTRA_BITS: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0, 0, 0, 0,
];

/// Extra bits of each offset code (30 and 31 are the extended window's, unused here).
pub(crate) const OFFSET_EXTRA_BITS: [u8; 32] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13, 14, 14,
];

pub(crate) struct Tokens {
    /// Codes 256.. (index 0: end of block, i: length code i - 1).
    pub extra_hist: [u16; 32],
    pub off_hist: [u16; 32],
    pub lit_hist: [u16; 256],
    pub n_filled: i32,
    pub n: usize,
    pub tokens: Vec<Token>,
}

/// klauspost's `offsetCode`: as Go's below 32768, and for 32768 (a distance, where level 9
/// weighs matches) the code its byte-indexed table gives.
#[inline]
pub(crate) fn offset_code_kp(off: u32) -> u32 {
    if off < 256 {
        offset_code(off)
    } else {
        offset_code((off >> 7) & 0xff) + 14
    }
}

#[inline]
pub(crate) fn token_length(t: Token) -> u32 {
    (t >> LENGTH_SHIFT) & 0xff
}

#[inline]
pub(crate) fn token_offset(t: Token) -> u32 {
    t & OFFSET_MASK
}

/// Go's `mFastLog2`: a cheap float32 log2 approximation, operation for operation (the
/// constants as Go's source writes them, rounded to f32 the same way).
#[allow(clippy::excessive_precision)]
fn m_fast_log2(val: f32) -> f32 {
    let mut ux = val.to_bits() as i32;
    let mut log2 = (((ux >> 23) & 255) - 128) as f32;
    ux &= -0x7f800001;
    ux = ux.wrapping_add(127 << 23);
    let uval = f32::from_bits(ux as u32);
    log2 += ((-0.34484843_f32) * uval + 2.02466578_f32) * uval - 0.67487759_f32;
    log2
}

pub(crate) fn at_least_one(v: f32) -> f32 {
    v.clamp(1.0, 15.0)
}

impl Tokens {
    pub fn new() -> Self {
        Tokens {
            extra_hist: [0; 32],
            off_hist: [0; 32],
            lit_hist: [0; 256],
            n_filled: 0,
            n: 0,
            tokens: vec![0; MAX_STORE_BLOCK_SIZE + 1],
        }
    }

    pub fn reset(&mut self) {
        if self.n == 0 {
            return;
        }
        self.n = 0;
        self.n_filled = 0;
        self.lit_hist = [0; 256];
        self.extra_hist = [0; 32];
        self.off_hist = [0; 32];
    }

    #[inline]
    pub fn add_literal(&mut self, lit: u8) {
        self.tokens[self.n] = u32::from(lit);
        self.lit_hist[lit as usize] += 1;
        self.n += 1;
    }

    pub fn emit_literals(&mut self, lit: &[u8]) {
        for &v in lit {
            self.add_literal(v);
        }
    }

    /// A match of any length (split into tokens of at most 258), at `xoffset` (offset - 1).
    pub fn add_match_long(&mut self, mut xlength: i32, mut xoffset: u32) {
        let oc = offset_code_kp(xoffset);
        xoffset |= oc << 16;
        while xlength > 0 {
            let mut xl = xlength;
            if xl > 258 {
                xl = if xl > 258 + BASE_MATCH_LENGTH {
                    258
                } else {
                    258 - BASE_MATCH_LENGTH
                };
            }
            xlength -= xl;
            xl -= BASE_MATCH_LENGTH;
            self.extra_hist[length_code(xl as u8 as u32) as usize + 1] += 1;
            self.off_hist[(oc & 31) as usize] += 1;
            self.tokens[self.n] = MATCH_TYPE | (xl as u32) << LENGTH_SHIFT | xoffset;
            self.n += 1;
        }
    }

    /// A match of at most 258 (Go's `AddMatch`), `xlength` = length - 3.
    pub fn add_match(&mut self, xlength: u32, xoffset: u32) {
        let oc = offset_code_kp(xoffset);
        self.extra_hist[length_code(xlength & 0xff) as usize + 1] += 1;
        self.off_hist[(oc & 31) as usize] += 1;
        self.tokens[self.n] = MATCH_TYPE | xlength << LENGTH_SHIFT | xoffset | oc << 16;
        self.n += 1;
    }

    pub fn add_eob(&mut self) {
        self.tokens[self.n] = END_BLOCK_MARKER;
        self.extra_hist[0] += 1;
        self.n += 1;
    }

    pub fn slice(&self) -> &[Token] {
        &self.tokens[..self.n]
    }

    /// Go's `EstimatedBits`: a Shannon estimate of the block with dynamic codes, in float32.
    pub fn estimated_bits(&self) -> i64 {
        let mut shannon = 0f32;
        let mut bits: i64 = 0;
        let mut n_matches: i64 = 0;
        let total = self.n as i64 + i64::from(self.n_filled);
        if total > 0 {
            let inv_total = 1.0f32 / total as f32;
            for &v in self.lit_hist.iter() {
                if v > 0 {
                    let n = f32::from(v);
                    shannon += at_least_one(-m_fast_log2(n * inv_total)) * n;
                }
            }
            shannon += 15.0;
            for (i, &v) in self.extra_hist[1..LITERAL_COUNT - 256].iter().enumerate() {
                if v > 0 {
                    let n = f32::from(v);
                    shannon += at_least_one(-m_fast_log2(n * inv_total)) * n;
                    bits += i64::from(LENGTH_EXTRA_BITS[i & 31]) * i64::from(v);
                    n_matches += i64::from(v);
                }
            }
        }
        if n_matches > 0 {
            let inv_total = 1.0f32 / n_matches as f32;
            for (i, &v) in self.off_hist[..OFFSET_CODE_COUNT].iter().enumerate() {
                if v > 0 {
                    let n = f32::from(v);
                    shannon += at_least_one(-m_fast_log2(n * inv_total)) * n;
                    bits += i64::from(OFFSET_EXTRA_BITS[i & 31]) * i64::from(v);
                }
            }
        }
        shannon as i64 + bits
    }
}
