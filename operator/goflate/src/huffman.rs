//! Go's `huffman_code.go` and `huffman_bit_writer.go`: length-limited Huffman codes built the
//! way Go builds them (so that ties break identically), and the block writer that picks the
//! smallest of stored, fixed and dynamic encodings.

use std::sync::OnceLock;

use crate::token::{
    END_BLOCK_MARKER, LENGTH_CODES_START, MATCH_TYPE, Token, length_code, offset_code,
    token_length, token_literal, token_offset,
};

pub(crate) const MAX_NUM_LIT: usize = 286;
pub(crate) const OFFSET_CODE_COUNT: usize = 30;
const CODEGEN_CODE_COUNT: usize = 19;
const BAD_CODE: u8 = 255;
pub(crate) const MAX_STORE_BLOCK_SIZE: usize = 65535;
const MAX_BITS_LIMIT: usize = 16;

/// The number of extra bits needed by length code X - LENGTH_CODES_START.
const LENGTH_EXTRA_BITS: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// The length indicated by length code X - LENGTH_CODES_START (minus 3).
const LENGTH_BASE: [u32; 29] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255,
];

const OFFSET_EXTRA_BITS: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

const OFFSET_BASE: [u32; 30] = [
    0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010,
    0x000018, 0x000020, 0x000030, 0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180,
    0x000200, 0x000300, 0x000400, 0x000600, 0x000800, 0x000c00, 0x001000, 0x001800, 0x002000,
    0x003000, 0x004000, 0x006000,
];

/// The order in which the code length code lengths are written (RFC 1951 3.2.7).
const CODEGEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A code: its bits (already reversed for LSB-first writing) and its length.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(crate) struct HCode {
    pub code: u16,
    pub len: u16,
}

#[derive(Clone, Copy)]
struct LiteralNode {
    literal: u16,
    freq: i32,
}

const MAX_NODE: LiteralNode = LiteralNode {
    literal: u16::MAX,
    freq: i32::MAX,
};

#[derive(Clone, Copy, Default)]
struct LevelInfo {
    level: i32,
    last_freq: i32,
    next_char_freq: i32,
    next_pair_freq: i32,
    needed: i32,
}

pub(crate) struct HuffmanEncoder {
    pub codes: Vec<HCode>,
    freqcache: Vec<LiteralNode>,
    bit_count: [i32; 17],
}

fn reverse_bits(number: u16, bit_length: u8) -> u16 {
    (number << (16 - bit_length as u32)).reverse_bits()
}

impl HuffmanEncoder {
    pub fn new(size: usize) -> Self {
        HuffmanEncoder {
            codes: vec![HCode::default(); size],
            freqcache: Vec::new(),
            bit_count: [0; 17],
        }
    }

    pub fn bit_length(&self, freq: &[i32]) -> i64 {
        let mut total = 0i64;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                total += i64::from(f) * i64::from(self.codes[i].len);
            }
        }
        total
    }

    /// The number of literals assigned to each bit length (Go's `bitCounts`, a package-merge
    /// variant). `list` is sorted by increasing frequency and has at least three entries.
    fn bit_counts(&mut self, list: &mut Vec<LiteralNode>, mut max_bits: i32) -> usize {
        let n = list.len() as i32;
        list.push(MAX_NODE);
        if max_bits > n - 1 {
            max_bits = n - 1;
        }
        let mut levels = [LevelInfo::default(); MAX_BITS_LIMIT];
        let mut leaf_counts = [[0i32; MAX_BITS_LIMIT]; MAX_BITS_LIMIT];
        for level in 1..=max_bits {
            let l = level as usize;
            levels[l] = LevelInfo {
                level,
                last_freq: list[1].freq,
                next_char_freq: list[2].freq,
                next_pair_freq: list[0].freq + list[1].freq,
                needed: 0,
            };
            leaf_counts[l][l] = 2;
            if level == 1 {
                levels[l].next_pair_freq = i32::MAX;
            }
        }
        levels[max_bits as usize].needed = 2 * n - 4;

        let mut level = max_bits as usize;
        loop {
            let l = &mut levels[level];
            if l.next_pair_freq == i32::MAX && l.next_char_freq == i32::MAX {
                l.needed = 0;
                levels[level + 1].next_pair_freq = i32::MAX;
                level += 1;
                continue;
            }
            let prev_freq = l.last_freq;
            if l.next_char_freq < l.next_pair_freq {
                let n = leaf_counts[level][level] + 1;
                l.last_freq = l.next_char_freq;
                leaf_counts[level][level] = n;
                l.next_char_freq = list[n as usize].freq;
            } else {
                l.last_freq = l.next_pair_freq;
                let (lower, upper) = leaf_counts.split_at_mut(level);
                upper[0][..level].copy_from_slice(&lower[level - 1][..level]);
                let below = levels[level].level as usize - 1;
                levels[below].needed = 2;
            }
            let l = &mut levels[level];
            l.needed -= 1;
            if l.needed == 0 {
                if l.level == max_bits {
                    break;
                }
                let sum = prev_freq + l.last_freq;
                let up = l.level as usize + 1;
                levels[up].next_pair_freq = sum;
                level += 1;
            } else {
                while levels[level - 1].needed > 0 {
                    level -= 1;
                }
            }
        }
        list.pop();
        debug_assert_eq!(leaf_counts[max_bits as usize][max_bits as usize], n);

        let max_bits = max_bits as usize;
        let counts = &leaf_counts[max_bits];
        for (bits, level) in (1..).zip((1..=max_bits).rev()) {
            self.bit_count[bits] = counts[level] - counts[level - 1];
        }
        max_bits + 1
    }

    fn assign_encoding_and_size(&mut self, nbits: usize, list: &mut [LiteralNode]) {
        let mut code: u16 = 0;
        let mut end = list.len();
        for n in 0..nbits {
            let bits = self.bit_count[n];
            code <<= 1;
            if n == 0 || bits == 0 {
                continue;
            }
            let chunk = &mut list[end - bits as usize..end];
            chunk.sort_unstable_by_key(|node| node.literal);
            for node in chunk.iter() {
                self.codes[node.literal as usize] = HCode {
                    code: reverse_bits(code, n as u8),
                    len: n as u16,
                };
                code = code.wrapping_add(1);
            }
            end -= bits as usize;
        }
    }

    /// Makes this the minimum code for `freq` with no code longer than `max_bits`.
    pub fn generate(&mut self, freq: &[i32], max_bits: i32) {
        let mut list = std::mem::take(&mut self.freqcache);
        list.clear();
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                list.push(LiteralNode {
                    literal: i as u16,
                    freq: f,
                });
            } else {
                self.codes[i].len = 0;
            }
        }
        if list.len() <= 2 {
            // With two or fewer literals, everything has bit length 1.
            for (i, node) in list.iter().enumerate() {
                self.codes[node.literal as usize] = HCode {
                    code: i as u16,
                    len: 1,
                };
            }
            self.freqcache = list;
            return;
        }
        // Frequency, then literal: a total order, so any sort agrees with Go's.
        list.sort_unstable_by(|a, b| a.freq.cmp(&b.freq).then(a.literal.cmp(&b.literal)));
        let nbits = self.bit_counts(&mut list, max_bits);
        self.assign_encoding_and_size(nbits, &mut list);
        self.freqcache = list;
    }
}

struct Fixed {
    literal: HuffmanEncoder,
    offset: HuffmanEncoder,
    /// The offset encoder of Huffman-only blocks (one offset code, never used).
    huff_offset: HuffmanEncoder,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let mut literal = HuffmanEncoder::new(MAX_NUM_LIT);
        for ch in 0..MAX_NUM_LIT as u16 {
            let (bits, size) = match ch {
                0..144 => (ch + 48, 8),
                144..256 => (ch + 400 - 144, 9),
                256..280 => (ch - 256, 7),
                _ => (ch + 192 - 280, 8),
            };
            literal.codes[ch as usize] = HCode {
                code: reverse_bits(bits, size as u8),
                len: size,
            };
        }
        let mut offset = HuffmanEncoder::new(OFFSET_CODE_COUNT);
        for (ch, c) in offset.codes.iter_mut().enumerate() {
            *c = HCode {
                code: reverse_bits(ch as u16, 5),
                len: 5,
            };
        }
        let mut freq = [0i32; OFFSET_CODE_COUNT];
        freq[0] = 1;
        let mut huff_offset = HuffmanEncoder::new(OFFSET_CODE_COUNT);
        huff_offset.generate(&freq, 15);
        Fixed {
            literal,
            offset,
            huff_offset,
        }
    })
}

/// Which literal/offset tables a block uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tables {
    Fixed,
    Dynamic,
}

/// Go's `huffmanBitWriter`, writing into a byte vector that the caller drains.
pub(crate) struct BitWriter {
    pub out: Vec<u8>,
    bits: u64,
    nbits: u32,
    codegen_freq: [i32; CODEGEN_CODE_COUNT],
    literal_freq: Vec<i32>,
    offset_freq: Vec<i32>,
    codegen: Vec<u8>,
    literal_encoding: HuffmanEncoder,
    offset_encoding: HuffmanEncoder,
    codegen_encoding: HuffmanEncoder,
}

impl BitWriter {
    pub fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
            codegen_freq: [0; CODEGEN_CODE_COUNT],
            literal_freq: vec![0; MAX_NUM_LIT],
            offset_freq: vec![0; OFFSET_CODE_COUNT],
            codegen: vec![0; MAX_NUM_LIT + OFFSET_CODE_COUNT + 1],
            literal_encoding: HuffmanEncoder::new(MAX_NUM_LIT),
            offset_encoding: HuffmanEncoder::new(OFFSET_CODE_COUNT),
            codegen_encoding: HuffmanEncoder::new(CODEGEN_CODE_COUNT),
        }
    }

    /// Writes out the pending bits, padding the last byte with zeros.
    pub fn flush(&mut self) {
        while self.nbits != 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
        }
        self.bits = 0;
    }

    #[inline]
    fn write_bits(&mut self, b: u32, nb: u32) {
        self.bits |= u64::from(b) << self.nbits;
        self.nbits += nb;
        if self.nbits >= 48 {
            let bits = self.bits;
            self.bits >>= 48;
            self.nbits -= 48;
            self.out.extend_from_slice(&bits.to_le_bytes()[..6]);
        }
    }

    #[inline]
    fn write_code(&mut self, c: HCode) {
        self.write_bits(u32::from(c.code), u32::from(c.len));
    }

    /// Writes bytes after a stored header (the stream is byte-aligned there).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.nbits & 7, 0, "writeBytes with unfinished bits");
        while self.nbits != 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits -= 8;
        }
        self.out.extend_from_slice(bytes);
    }

    /// The run-length encoding of the literal and offset code lengths (RFC 1951 3.2.7) into
    /// `codegen`, and the frequency of each code length code into `codegen_freq`.
    fn generate_codegen(&mut self, num_literals: usize, num_offsets: usize, huff_offset: bool) {
        self.codegen_freq = [0; CODEGEN_CODE_COUNT];
        let off_enc = if huff_offset {
            &fixed().huff_offset
        } else {
            &self.offset_encoding
        };
        let codegen = &mut self.codegen;
        for (c, code) in codegen[..num_literals]
            .iter_mut()
            .zip(&self.literal_encoding.codes)
        {
            *c = code.len as u8;
        }
        for (c, code) in codegen[num_literals..num_literals + num_offsets]
            .iter_mut()
            .zip(&off_enc.codes)
        {
            *c = code.len as u8;
        }
        codegen[num_literals + num_offsets] = BAD_CODE;

        let mut size = codegen[0];
        let mut count: i32 = 1;
        let mut out_index = 0;
        let mut in_index = 1;
        while size != BAD_CODE {
            let next_size = codegen[in_index];
            in_index += 1;
            if next_size == size {
                count += 1;
                continue;
            }
            if size != 0 {
                codegen[out_index] = size;
                out_index += 1;
                self.codegen_freq[size as usize] += 1;
                count -= 1;
                while count >= 3 {
                    let n = count.min(6);
                    codegen[out_index] = 16;
                    codegen[out_index + 1] = (n - 3) as u8;
                    out_index += 2;
                    self.codegen_freq[16] += 1;
                    count -= n;
                }
            } else {
                while count >= 11 {
                    let n = count.min(138);
                    codegen[out_index] = 18;
                    codegen[out_index + 1] = (n - 11) as u8;
                    out_index += 2;
                    self.codegen_freq[18] += 1;
                    count -= n;
                }
                if count >= 3 {
                    codegen[out_index] = 17;
                    codegen[out_index + 1] = (count - 3) as u8;
                    out_index += 2;
                    self.codegen_freq[17] += 1;
                    count = 0;
                }
            }
            count -= 1;
            while count >= 0 {
                codegen[out_index] = size;
                out_index += 1;
                self.codegen_freq[size as usize] += 1;
                count -= 1;
            }
            size = next_size;
            count = 1;
        }
        codegen[out_index] = BAD_CODE;
    }

    /// The size in bits of a dynamic block, and the number of code length codes to write.
    fn dynamic_size(&self, huff_offset: bool, extra_bits: i64) -> (i64, usize) {
        let mut num_codegens = self.codegen_freq.len();
        while num_codegens > 4 && self.codegen_freq[CODEGEN_ORDER[num_codegens - 1]] == 0 {
            num_codegens -= 1;
        }
        let header = 3
            + 5
            + 5
            + 4
            + 3 * num_codegens as i64
            + self.codegen_encoding.bit_length(&self.codegen_freq)
            + i64::from(self.codegen_freq[16]) * 2
            + i64::from(self.codegen_freq[17]) * 3
            + i64::from(self.codegen_freq[18]) * 7;
        let off_enc = if huff_offset {
            &fixed().huff_offset
        } else {
            &self.offset_encoding
        };
        let size = header
            + self.literal_encoding.bit_length(&self.literal_freq)
            + off_enc.bit_length(&self.offset_freq)
            + extra_bits;
        (size, num_codegens)
    }

    fn fixed_size(&self, extra_bits: i64) -> i64 {
        let f = fixed();
        3 + f.literal.bit_length(&self.literal_freq)
            + f.offset.bit_length(&self.offset_freq)
            + extra_bits
    }

    /// The size in bits of `input` as one stored block, when it fits in one.
    fn stored_size(input: Option<&[u8]>) -> Option<i64> {
        match input {
            Some(i) if i.len() <= MAX_STORE_BLOCK_SIZE => Some((i.len() as i64 + 5) * 8),
            _ => None,
        }
    }

    fn write_dynamic_header(
        &mut self,
        num_literals: usize,
        num_offsets: usize,
        num_codegens: usize,
        eof: bool,
    ) {
        self.write_bits(if eof { 5 } else { 4 }, 3);
        self.write_bits((num_literals - 257) as u32, 5);
        self.write_bits((num_offsets - 1) as u32, 5);
        self.write_bits((num_codegens - 4) as u32, 4);
        for &i in CODEGEN_ORDER.iter().take(num_codegens) {
            let value = self.codegen_encoding.codes[i].len;
            self.write_bits(u32::from(value), 3);
        }
        let mut i = 0;
        loop {
            let code_word = self.codegen[i];
            i += 1;
            if code_word == BAD_CODE {
                break;
            }
            let c = self.codegen_encoding.codes[code_word as usize];
            self.write_code(c);
            let extra = match code_word {
                16 => 2,
                17 => 3,
                18 => 7,
                _ => continue,
            };
            let v = self.codegen[i];
            self.write_bits(u32::from(v), extra);
            i += 1;
        }
    }

    pub fn write_stored_header(&mut self, length: usize, eof: bool) {
        self.write_bits(u32::from(eof), 3);
        self.flush();
        self.write_bits(length as u32, 16);
        self.write_bits(u32::from(!(length as u16)), 16);
    }

    fn write_fixed_header(&mut self, eof: bool) {
        self.write_bits(if eof { 3 } else { 2 }, 3);
    }

    /// Writes `tokens` as one block in the smallest of the fixed, dynamic and (when `input`,
    /// the bytes the tokens stand for, is given and fits) stored encodings.
    pub fn write_block(&mut self, tokens: &[Token], eof: bool, input: Option<&[u8]>) {
        let (num_literals, num_offsets) = self.index_tokens(tokens);
        let mut extra_bits = 0i64;
        let stored = Self::stored_size(input);
        if stored.is_some() {
            for lc in LENGTH_CODES_START + 8..num_literals {
                extra_bits += i64::from(self.literal_freq[lc])
                    * i64::from(LENGTH_EXTRA_BITS[lc - LENGTH_CODES_START]);
            }
            for (&f, &eb) in self.offset_freq[..num_offsets]
                .iter()
                .zip(&OFFSET_EXTRA_BITS)
                .skip(4)
            {
                extra_bits += i64::from(f) * i64::from(eb);
            }
        }
        let mut tables = Tables::Fixed;
        let mut size = self.fixed_size(extra_bits);

        self.generate_codegen(num_literals, num_offsets, false);
        self.codegen_encoding.generate(&self.codegen_freq, 7);
        let (dynamic_size, num_codegens) = self.dynamic_size(false, extra_bits);
        if dynamic_size < size {
            size = dynamic_size;
            tables = Tables::Dynamic;
        }
        if let (Some(ssize), Some(input)) = (stored, input)
            && ssize < size
        {
            self.write_stored_header(input.len(), eof);
            self.write_bytes(input);
            return;
        }
        if tables == Tables::Fixed {
            self.write_fixed_header(eof);
            let f = fixed();
            self.write_tokens(tokens, &f.literal.codes, &f.offset.codes);
        } else {
            self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
            let lit = std::mem::take(&mut self.literal_encoding.codes);
            let off = std::mem::take(&mut self.offset_encoding.codes);
            self.write_tokens(tokens, &lit, &off);
            self.literal_encoding.codes = lit;
            self.offset_encoding.codes = off;
        }
    }

    /// A dynamic block, or a stored one when the saving is under 1/16 (level 1).
    pub fn write_block_dynamic(&mut self, tokens: &[Token], eof: bool, input: Option<&[u8]>) {
        let (num_literals, num_offsets) = self.index_tokens(tokens);
        self.generate_codegen(num_literals, num_offsets, false);
        self.codegen_encoding.generate(&self.codegen_freq, 7);
        let (size, num_codegens) = self.dynamic_size(false, 0);
        if let (Some(ssize), Some(input)) = (Self::stored_size(input), input)
            && ssize < size + (size >> 4)
        {
            self.write_stored_header(input.len(), eof);
            self.write_bytes(input);
            return;
        }
        self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
        let lit = std::mem::take(&mut self.literal_encoding.codes);
        let off = std::mem::take(&mut self.offset_encoding.codes);
        self.write_tokens(tokens, &lit, &off);
        self.literal_encoding.codes = lit;
        self.offset_encoding.codes = off;
    }

    /// Counts the tokens (plus the end-of-block marker) and builds the dynamic codes; returns
    /// the numbers of literal/length and offset codes in use.
    fn index_tokens(&mut self, tokens: &[Token]) -> (usize, usize) {
        self.literal_freq.fill(0);
        self.offset_freq.fill(0);
        for &t in tokens {
            if t < MATCH_TYPE {
                self.literal_freq[token_literal(t) as usize] += 1;
                continue;
            }
            self.literal_freq[LENGTH_CODES_START + length_code(token_length(t)) as usize] += 1;
            self.offset_freq[offset_code(token_offset(t)) as usize] += 1;
        }
        self.literal_freq[END_BLOCK_MARKER] += 1;
        let mut num_literals = self.literal_freq.len();
        while self.literal_freq[num_literals - 1] == 0 {
            num_literals -= 1;
        }
        let mut num_offsets = self.offset_freq.len();
        while num_offsets > 0 && self.offset_freq[num_offsets - 1] == 0 {
            num_offsets -= 1;
        }
        if num_offsets == 0 {
            // No match: one offset code so that a dynamic offset tree can be written.
            self.offset_freq[0] = 1;
            num_offsets = 1;
        }
        self.literal_encoding.generate(&self.literal_freq, 15);
        self.offset_encoding.generate(&self.offset_freq, 15);
        (num_literals, num_offsets)
    }

    /// The tokens, then the end-of-block marker.
    fn write_tokens(&mut self, tokens: &[Token], le: &[HCode], oe: &[HCode]) {
        for &t in tokens {
            if t < MATCH_TYPE {
                self.write_code(le[token_literal(t) as usize]);
                continue;
            }
            let length = token_length(t);
            let lc = length_code(length) as usize;
            self.write_code(le[lc + LENGTH_CODES_START]);
            let extra_length_bits = u32::from(LENGTH_EXTRA_BITS[lc]);
            if extra_length_bits > 0 {
                self.write_bits(length - LENGTH_BASE[lc], extra_length_bits);
            }
            let offset = token_offset(t);
            let oc = offset_code(offset) as usize;
            self.write_code(oe[oc]);
            let extra_offset_bits = u32::from(OFFSET_EXTRA_BITS[oc]);
            if extra_offset_bits > 0 {
                self.write_bits(offset - OFFSET_BASE[oc], extra_offset_bits);
            }
        }
        self.write_code(le[END_BLOCK_MARKER]);
    }

    /// `input` as Huffman-coded literals only, or stored when that gains under 1/16.
    pub fn write_block_huff(&mut self, eof: bool, input: &[u8]) {
        self.literal_freq.fill(0);
        for &b in input {
            self.literal_freq[b as usize] += 1;
        }
        self.literal_freq[END_BLOCK_MARKER] = 1;
        const NUM_LITERALS: usize = END_BLOCK_MARKER + 1;
        self.offset_freq[0] = 1;
        const NUM_OFFSETS: usize = 1;
        self.literal_encoding.generate(&self.literal_freq, 15);
        self.generate_codegen(NUM_LITERALS, NUM_OFFSETS, true);
        self.codegen_encoding.generate(&self.codegen_freq, 7);
        let (size, num_codegens) = self.dynamic_size(true, 0);
        if let Some(ssize) = Self::stored_size(Some(input))
            && ssize < size + (size >> 4)
        {
            self.write_stored_header(input.len(), eof);
            self.write_bytes(input);
            return;
        }
        self.write_dynamic_header(NUM_LITERALS, NUM_OFFSETS, num_codegens, eof);
        let codes = std::mem::take(&mut self.literal_encoding.codes);
        for &b in input {
            self.write_code(codes[b as usize]);
        }
        self.write_code(codes[END_BLOCK_MARKER]);
        self.literal_encoding.codes = codes;
    }
}
