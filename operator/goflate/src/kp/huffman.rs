//! klauspost/compress's `huffman_code.go` and `huffman_bit_writer.go`: the same
//! length-limited code construction as Go's, with uint16 frequencies, and a block writer that
//! may keep a dynamic block open across calls to reuse its tables, estimates sizes with
//! Shannon entropy, and stores incompressible literal blocks early.

use std::sync::OnceLock;

use super::tokens::{
    END_BLOCK_MARKER, LENGTH_EXTRA_BITS, LITERAL_COUNT, MATCH_OFFSET_ONLY_MASK,
    MAX_STORE_BLOCK_SIZE, OFFSET_CODE_COUNT, OFFSET_EXTRA_BITS, Token, Tokens, token_length,
    token_offset,
};
use crate::token::length_code;

const MAX_BITS_LIMIT: usize = 16;
const CODEGEN_CODE_COUNT: usize = 19;
const BAD_CODE: u8 = 255;
const MAX_PREDEFINED_TOKENS: usize = 250;
const LENGTH_CODES_START: usize = 257;
const LENGTH_EXTRA_BITS_MIN_CODE: u32 = 8;
const OFFSET_EXTRA_BITS_MIN_CODE: u32 = 4;
const EOB: usize = END_BLOCK_MARKER as usize;

const LENGTH_BASE: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255, 0, 0, 0,
];

const OFFSET_BASE: [u32; 32] = [
    0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010,
    0x000018, 0x000020, 0x000030, 0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180,
    0x000200, 0x000300, 0x000400, 0x000600, 0x000800, 0x000c00, 0x001000, 0x001800, 0x002000,
    0x003000, 0x004000, 0x006000, 0x008000, 0x00c000,
];

const CODEGEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A code packed as Go's `hcode`: length in the low 8 bits, (reversed) code above.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct HCode(u32);

impl HCode {
    fn new(code: u16, len: u8) -> Self {
        HCode(u32::from(len) | u32::from(code) << 8)
    }
    #[inline]
    pub fn len(self) -> u32 {
        self.0 & 0xff
    }
    #[inline]
    pub fn code64(self) -> u64 {
        u64::from(self.0 >> 8)
    }
    #[inline]
    pub fn zero(self) -> bool {
        self.0 == 0
    }
}

#[derive(Clone, Copy, Default)]
struct LiteralNode {
    literal: u16,
    freq: u16,
}

#[derive(Clone, Copy, Default)]
struct LevelInfo {
    level: i32,
    last_freq: i32,
    next_char_freq: i32,
    next_pair_freq: i32,
    needed: i32,
}

fn reverse_bits(number: u16, bit_length: u8) -> u16 {
    (number << ((16 - u32::from(bit_length)) & 15)).reverse_bits()
}

#[derive(Clone)]
pub(crate) struct HuffmanEncoder {
    pub codes: Vec<HCode>,
    bit_count: [i32; 17],
    list: Vec<LiteralNode>,
}

impl HuffmanEncoder {
    pub fn new(size: usize) -> Self {
        HuffmanEncoder {
            codes: vec![HCode::default(); size],
            bit_count: [0; 17],
            list: Vec::with_capacity(LITERAL_COUNT + 1),
        }
    }

    /// Bits for `freq` with these codes (symbols beyond the table must have no frequency).
    pub fn bit_length(&self, freq: &[u16]) -> i64 {
        let mut total = 0i64;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                total += i64::from(f) * i64::from(self.codes[i].len());
            }
        }
        total
    }

    /// Bits for `freq` with these codes, or i32::MAX when a used symbol has no code.
    pub fn can_reuse_bits(&self, freq: &[u16]) -> i64 {
        let mut total = 0i64;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                let code = self.codes[i];
                if code.zero() {
                    return i64::from(i32::MAX);
                }
                total += i64::from(f) * i64::from(code.len());
            }
        }
        total
    }

    fn bit_counts(&mut self, list: &mut Vec<LiteralNode>, mut max_bits: i32) -> usize {
        let n = list.len() as i32;
        list.push(LiteralNode {
            literal: u16::MAX,
            freq: u16::MAX,
        });
        if max_bits > n - 1 {
            max_bits = n - 1;
        }
        let mut levels = [LevelInfo::default(); MAX_BITS_LIMIT];
        let mut leaf_counts = [[0i32; MAX_BITS_LIMIT]; MAX_BITS_LIMIT];
        let l2f = i32::from(list[2].freq);
        let l1f = i32::from(list[1].freq);
        let l0f = i32::from(list[0].freq) + i32::from(list[1].freq);
        for level in 1..=max_bits {
            let l = level as usize;
            levels[l] = LevelInfo {
                level,
                last_freq: l1f,
                next_char_freq: l2f,
                next_pair_freq: l0f,
                needed: 0,
            };
            leaf_counts[l][l] = 2;
            if level == 1 {
                levels[l].next_pair_freq = i32::MAX;
            }
        }
        levels[max_bits as usize].needed = 2 * n - 4;
        let mut level = max_bits as usize;
        while level < 16 {
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
                let e = list[n as usize];
                l.next_char_freq = if e.literal < u16::MAX {
                    i32::from(e.freq)
                } else {
                    i32::MAX
                };
            } else {
                l.last_freq = l.next_pair_freq;
                let save = leaf_counts[level][level];
                leaf_counts[level] = leaf_counts[level - 1];
                leaf_counts[level][level] = save;
                let below = levels[level].level as usize - 1;
                levels[below].needed = 2;
            }
            let l = &mut levels[level];
            l.needed -= 1;
            if l.needed == 0 {
                if l.level == max_bits {
                    break;
                }
                let sum = prev_freq.wrapping_add(l.last_freq);
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
                self.codes[node.literal as usize] =
                    HCode::new(reverse_bits(code, n as u8), n as u8);
                code = code.wrapping_add(1);
            }
            end -= bits as usize;
        }
    }

    pub fn generate(&mut self, freq: &[u16], max_bits: i32) {
        let mut list = std::mem::take(&mut self.list);
        list.clear();
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                list.push(LiteralNode {
                    literal: i as u16,
                    freq: f,
                });
            } else {
                self.codes[i] = HCode(0);
            }
        }
        if list.len() <= 2 {
            for (i, node) in list.iter().enumerate() {
                self.codes[node.literal as usize] = HCode::new(i as u16, 1);
            }
            self.list = list;
            return;
        }
        list.sort_unstable_by(|a, b| a.freq.cmp(&b.freq).then(a.literal.cmp(&b.literal)));
        let nbits = self.bit_counts(&mut list, max_bits);
        self.assign_encoding_and_size(nbits, &mut list);
        self.list = list;
    }
}

struct Fixed {
    literal: HuffmanEncoder,
    offset: HuffmanEncoder,
    huff_offset: HuffmanEncoder,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let mut literal = HuffmanEncoder::new(LITERAL_COUNT);
        for ch in 0..LITERAL_COUNT as u16 {
            let (bits, size) = match ch {
                0..144 => (ch + 48, 8),
                144..256 => (ch + 400 - 144, 9),
                256..280 => (ch - 256, 7),
                _ => (ch + 192 - 280, 8),
            };
            literal.codes[ch as usize] = HCode::new(reverse_bits(bits, size), size);
        }
        let mut offset = HuffmanEncoder::new(OFFSET_CODE_COUNT);
        for (ch, c) in offset.codes.iter_mut().enumerate() {
            *c = HCode::new(reverse_bits(ch as u16, 5), 5);
        }
        let mut freq = [0u16; OFFSET_CODE_COUNT];
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum OffEnc {
    Dynamic,
    Huff,
}

pub(crate) struct BitWriter {
    pub out: Vec<u8>,
    bits: u64,
    nbits: u32,
    last_huff_man: bool,
    literal_encoding: HuffmanEncoder,
    tmp_lit_encoding: HuffmanEncoder,
    offset_encoding: HuffmanEncoder,
    codegen_encoding: HuffmanEncoder,
    /// The header size in bits of the open dynamic block whose tables may be reused; 0 when
    /// no block is open.
    last_header: i64,
    pub log_new_table_penalty: u32,
    literal_freq: [u16; LENGTH_CODES_START + 32],
    offset_freq: [u16; 32],
    codegen_freq: [u16; CODEGEN_CODE_COUNT],
    codegen: [u8; LITERAL_COUNT + OFFSET_CODE_COUNT + 1],
}

impl BitWriter {
    pub fn new() -> Self {
        BitWriter {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
            last_huff_man: false,
            literal_encoding: HuffmanEncoder::new(LITERAL_COUNT),
            tmp_lit_encoding: HuffmanEncoder::new(LITERAL_COUNT),
            offset_encoding: HuffmanEncoder::new(OFFSET_CODE_COUNT),
            codegen_encoding: HuffmanEncoder::new(CODEGEN_CODE_COUNT),
            last_header: 0,
            log_new_table_penalty: 0,
            literal_freq: [0; LENGTH_CODES_START + 32],
            offset_freq: [0; 32],
            codegen_freq: [0; CODEGEN_CODE_COUNT],
            codegen: [0; LITERAL_COUNT + OFFSET_CODE_COUNT + 1],
        }
    }

    /// Go's `reset`: a new stream (the tables stay, as in a pooled writer, but none is open).
    pub fn reset(&mut self) {
        self.bits = 0;
        self.nbits = 0;
        self.last_header = 0;
        self.last_huff_man = false;
    }

    fn can_reuse(&self, t: &Tokens) -> bool {
        let b = &self.offset_encoding.codes;
        for (i, &v) in t.off_hist[..OFFSET_CODE_COUNT].iter().enumerate() {
            if v != 0 && b[i].zero() {
                return false;
            }
        }
        let b = &self.literal_encoding.codes[256..LITERAL_COUNT];
        for (i, &v) in t.extra_hist[..LITERAL_COUNT - 256].iter().enumerate() {
            if v != 0 && b[i].zero() {
                return false;
            }
        }
        let b = &self.literal_encoding.codes[..256];
        for (i, &v) in t.lit_hist.iter().enumerate() {
            if v != 0 && b[i].zero() {
                return false;
            }
        }
        true
    }

    fn close_open_block(&mut self) {
        if self.last_header > 0 {
            let c = self.literal_encoding.codes[EOB];
            self.write_code(c);
            self.last_header = 0;
        }
    }

    /// Ends an open block, then writes out the pending bits padded to a byte.
    pub fn flush(&mut self) {
        self.close_open_block();
        while self.nbits != 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits = self.nbits.saturating_sub(8);
        }
        self.bits = 0;
    }

    #[inline]
    fn write_bits(&mut self, b: u32, nb: u32) {
        self.bits |= u64::from(b) << (self.nbits & 63);
        self.nbits += nb;
        if self.nbits >= 48 {
            self.write_out_bits();
        }
    }

    #[inline]
    fn write_code(&mut self, c: HCode) {
        self.bits |= c.code64() << (self.nbits & 63);
        self.nbits += c.len();
        if self.nbits >= 48 {
            self.write_out_bits();
        }
    }

    #[inline]
    fn write_out_bits(&mut self) {
        let bits = self.bits;
        self.bits >>= 48;
        self.nbits -= 48;
        self.out.extend_from_slice(&bits.to_le_bytes()[..6]);
    }

    pub fn write_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.nbits & 7, 0, "writeBytes with unfinished bits");
        while self.nbits != 0 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits -= 8;
        }
        self.out.extend_from_slice(bytes);
    }

    fn generate_codegen(&mut self, num_literals: usize, num_offsets: usize, off: OffEnc) {
        self.codegen_freq = [0; CODEGEN_CODE_COUNT];
        let off_enc = match off {
            OffEnc::Huff => &fixed().huff_offset,
            OffEnc::Dynamic => &self.offset_encoding,
        };
        let codegen = &mut self.codegen;
        for (c, code) in codegen[..num_literals]
            .iter_mut()
            .zip(&self.literal_encoding.codes)
        {
            *c = code.len() as u8;
        }
        for (c, code) in codegen[num_literals..num_literals + num_offsets]
            .iter_mut()
            .zip(&off_enc.codes)
        {
            *c = code.len() as u8;
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

    fn codegens(&self) -> usize {
        let mut n = self.codegen_freq.len();
        while n > 4 && self.codegen_freq[CODEGEN_ORDER[n - 1]] == 0 {
            n -= 1;
        }
        n
    }

    fn header_size(&self) -> (i64, usize) {
        let n = self.codegens();
        (
            3 + 5
                + 5
                + 4
                + 3 * n as i64
                + self.codegen_encoding.bit_length(&self.codegen_freq)
                + i64::from(self.codegen_freq[16]) * 2
                + i64::from(self.codegen_freq[17]) * 3
                + i64::from(self.codegen_freq[18]) * 7,
            n,
        )
    }

    fn dynamic_reuse_size(&self) -> i64 {
        self.literal_encoding.bit_length(&self.literal_freq)
            + self.offset_encoding.bit_length(&self.offset_freq)
    }

    fn dynamic_size(&self, extra_bits: i64) -> (i64, usize) {
        let (header, n) = self.header_size();
        (
            header
                + self.literal_encoding.bit_length(&self.literal_freq)
                + self.offset_encoding.bit_length(&self.offset_freq)
                + extra_bits,
            n,
        )
    }

    fn extra_bit_size(&self) -> i64 {
        let mut total = 0i64;
        for (i, &n) in self.literal_freq[257..LITERAL_COUNT].iter().enumerate() {
            total += i64::from(n) * i64::from(LENGTH_EXTRA_BITS[i & 31]);
        }
        for (i, &n) in self.offset_freq[..OFFSET_CODE_COUNT].iter().enumerate() {
            total += i64::from(n) * i64::from(OFFSET_EXTRA_BITS[i & 31]);
        }
        total
    }

    fn fixed_size(&self, extra_bits: i64) -> i64 {
        let f = fixed();
        3 + f.literal.bit_length(&self.literal_freq)
            + f.offset.bit_length(&self.offset_freq)
            + extra_bits
    }

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
            let value = self.codegen_encoding.codes[i].len();
            self.write_bits(value, 3);
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
        self.close_open_block();
        if length == 0 && eof {
            // An empty final block: a fixed block holding only its end (10 bits).
            self.write_fixed_header(eof);
            self.write_bits(0, 7);
            self.flush();
            return;
        }
        self.write_bits(u32::from(eof), 3);
        self.flush();
        self.write_bits(length as u32, 16);
        self.write_bits(u32::from(!(length as u16)), 16);
    }

    fn write_fixed_header(&mut self, eof: bool) {
        self.close_open_block();
        self.write_bits(if eof { 3 } else { 2 }, 3);
    }

    fn stored(&mut self, input: &[u8], eof: bool) {
        self.write_stored_header(input.len(), eof);
        self.write_bytes(input);
    }

    fn write_fixed_block(&mut self, tokens: &mut Tokens, eof: bool, sync: bool) {
        self.write_fixed_header(eof);
        if !sync {
            tokens.add_eob();
        }
        let f = fixed();
        self.write_tokens(tokens.slice(), &f.literal.codes, &f.offset.codes);
    }

    /// Go's `writeBlockDynamic`: the tokens with the open block's tables when that is
    /// estimated cheaper, else in a new dynamic, fixed or stored block; the block is left
    /// open (no end code) unless `sync` or `eof`.
    pub fn write_block_dynamic(
        &mut self,
        tokens: &mut Tokens,
        eof: bool,
        input: Option<&[u8]>,
        sync: bool,
    ) {
        let sync = sync || eof;
        if sync {
            tokens.add_eob();
        }
        if (self.last_huff_man || eof) && self.last_header > 0 {
            self.close_open_block();
            self.last_huff_man = false;
        }
        if self.last_header > 0 && !self.can_reuse(tokens) {
            self.close_open_block();
        }
        let (num_literals, num_offsets) = self.index_tokens(tokens, true);
        let mut extra_bits = 0;
        let ssize = Self::stored_size(input);
        if ssize.is_some() || self.last_header > 0 {
            extra_bits = self.extra_bit_size();
        }
        let mut size;
        if self.last_header > 0 {
            let mut new_size = self.last_header + tokens.estimated_bits();
            new_size += i64::from(self.literal_encoding.codes[EOB].len())
                + (new_size >> self.log_new_table_penalty);
            let reuse_size = self.dynamic_reuse_size() + extra_bits;
            if new_size < reuse_size {
                self.close_open_block();
                size = new_size;
            } else {
                size = reuse_size;
            }
            if tokens.n < MAX_PREDEFINED_TOKENS {
                let pre_size = self.fixed_size(extra_bits) + 7;
                if pre_size < size {
                    if let (Some(s), Some(input)) = (ssize, input)
                        && s <= size
                    {
                        self.stored(input, eof);
                        return;
                    }
                    self.write_fixed_block(tokens, eof, sync);
                    return;
                }
            }
            if let (Some(s), Some(input)) = (ssize, input)
                && s <= size
            {
                self.stored(input, eof);
                return;
            }
        }
        if self.last_header == 0 {
            self.literal_freq[EOB] = 1;
            self.generate();
            self.generate_codegen(num_literals, num_offsets, OffEnc::Dynamic);
            self.codegen_encoding.generate(&self.codegen_freq, 7);
            let num_codegens;
            (size, num_codegens) = self.dynamic_size(extra_bits);
            if tokens.n < MAX_PREDEFINED_TOKENS {
                let pre_size = self.fixed_size(extra_bits);
                if pre_size <= size {
                    if let (Some(s), Some(input)) = (ssize, input)
                        && s <= pre_size
                    {
                        self.stored(input, eof);
                        return;
                    }
                    self.write_fixed_block(tokens, eof, sync);
                    return;
                }
            }
            if let (Some(s), Some(input)) = (ssize, input)
                && s <= size
            {
                self.stored(input, eof);
                return;
            }
            self.write_dynamic_header(num_literals, num_offsets, num_codegens, eof);
            if !sync {
                self.last_header = self.header_size().0;
            }
            self.last_huff_man = false;
        }
        if sync {
            self.last_header = 0;
        }
        let lit = std::mem::take(&mut self.literal_encoding.codes);
        let off = std::mem::take(&mut self.offset_encoding.codes);
        self.write_tokens(tokens.slice(), &lit, &off);
        self.literal_encoding.codes = lit;
        self.offset_encoding.codes = off;
    }

    fn index_tokens(&mut self, t: &Tokens, always_eob: bool) -> (usize, usize) {
        self.literal_freq[..256].copy_from_slice(&t.lit_hist);
        self.literal_freq[256..288].copy_from_slice(&t.extra_hist);
        self.offset_freq = t.off_hist;
        if t.n == 0 {
            return (0, 0);
        }
        if always_eob {
            self.literal_freq[EOB] = 1;
        }
        let mut num_literals = self.literal_freq.len();
        while self.literal_freq[num_literals - 1] == 0 {
            num_literals -= 1;
        }
        let mut num_offsets = self.offset_freq.len();
        while num_offsets > 0 && self.offset_freq[num_offsets - 1] == 0 {
            num_offsets -= 1;
        }
        if num_offsets == 0 {
            self.offset_freq[0] = 1;
            num_offsets = 1;
        }
        (num_literals, num_offsets)
    }

    fn generate(&mut self) {
        self.literal_encoding
            .generate(&self.literal_freq[..LITERAL_COUNT], 15);
        self.offset_encoding
            .generate(&self.offset_freq[..OFFSET_CODE_COUNT], 15);
    }

    /// The tokens; an end-of-block token, if last, is written last with `le`.
    fn write_tokens(&mut self, tokens: &[Token], le: &[HCode], oe: &[HCode]) {
        if tokens.is_empty() {
            return;
        }
        let (tokens, defer_eob) = match tokens.split_last() {
            Some((&END_BLOCK_MARKER, rest)) => (rest, true),
            _ => (tokens, false),
        };
        for &t in tokens {
            if t < 256 {
                self.write_code(le[t as usize]);
                continue;
            }
            let length = token_length(t);
            let lc = length_code(length) & 31;
            self.write_code(le[LENGTH_CODES_START + lc as usize]);
            if lc >= LENGTH_EXTRA_BITS_MIN_CODE {
                let extra = length - u32::from(LENGTH_BASE[lc as usize]);
                self.write_bits(extra, u32::from(LENGTH_EXTRA_BITS[lc as usize]));
            }
            let offset = token_offset(t);
            let oc = (offset >> 16) & 31;
            self.write_code(oe[oc as usize]);
            if oc >= OFFSET_EXTRA_BITS_MIN_CODE {
                let extra = offset.wrapping_sub(OFFSET_BASE[oc as usize]) & MATCH_OFFSET_ONLY_MASK;
                self.write_bits(extra, u32::from(OFFSET_EXTRA_BITS[oc as usize]));
            }
        }
        if defer_eob {
            self.write_code(le[EOB]);
        }
    }

    /// Go's `writeBlockHuff`: `input` as literals with its own (or the open block's) code,
    /// or stored when it looks incompressible.
    pub fn write_block_huff(&mut self, eof: bool, input: &[u8], sync: bool) {
        self.literal_freq = [0; LENGTH_CODES_START + 32];
        if !self.last_huff_man {
            self.offset_freq = [0; 32];
        }
        const NUM_LITERALS: usize = EOB + 1;
        const NUM_OFFSETS: usize = 1;
        const GUESS_HEADER_SIZE_BITS: i64 = 70 * 8;
        for &b in input {
            self.literal_freq[b as usize] += 1;
        }
        let ssize = Self::stored_size(Some(input));
        if ssize.is_some() && input.len() > 1024 {
            // Close to a uniform byte histogram: store.
            let mut abs = 0f64;
            let avg = input.len() as f64 / 256.0;
            let max = (input.len() * 2) as f64;
            for &v in &self.literal_freq[..256] {
                let diff = f64::from(v) - avg;
                abs += diff * diff;
                if abs > max {
                    break;
                }
            }
            if abs < max {
                self.stored(input, eof);
                return;
            }
        }
        self.literal_freq[EOB] = 1;
        self.tmp_lit_encoding
            .generate(&self.literal_freq[..NUM_LITERALS], 15);
        let mut est_bits = self
            .tmp_lit_encoding
            .can_reuse_bits(&self.literal_freq[..NUM_LITERALS]);
        if est_bits < i64::from(i32::MAX) {
            est_bits += self.last_header;
            if self.last_header == 0 {
                est_bits += GUESS_HEADER_SIZE_BITS;
            }
            est_bits += est_bits >> self.log_new_table_penalty;
        }
        if let Some(s) = ssize
            && s <= est_bits
        {
            self.stored(input, eof);
            return;
        }
        if self.last_header > 0 {
            let reuse_size = self
                .literal_encoding
                .can_reuse_bits(&self.literal_freq[..256]);
            if est_bits < reuse_size {
                self.close_open_block();
            }
        }
        if self.last_header == 0 {
            std::mem::swap(&mut self.literal_encoding, &mut self.tmp_lit_encoding);
            self.generate_codegen(NUM_LITERALS, NUM_OFFSETS, OffEnc::Huff);
            self.codegen_encoding.generate(&self.codegen_freq, 7);
            let num_codegens = self.codegens();
            self.write_dynamic_header(NUM_LITERALS, NUM_OFFSETS, num_codegens, eof);
            self.last_huff_man = true;
            self.last_header = self.header_size().0;
        }
        let codes = std::mem::take(&mut self.literal_encoding.codes);
        for &b in input {
            self.write_code(codes[b as usize]);
        }
        self.literal_encoding.codes = codes;
        if eof || sync {
            let c = self.literal_encoding.codes[EOB];
            self.write_code(c);
            self.last_header = 0;
            self.last_huff_man = false;
        }
    }
}
