//! The LZMA symbol codecs (encoding halves only): ports `lzma/literalcodec.go`,
//! `lzma/lengthcodec.go`, `lzma/distcodec.go`, `lzma/treecodecs.go` and
//! `lzma/directcodec.go`.

use crate::rangecoder::{EncErr, PROB_INIT, Prob, RangeEncoder};

/// `maxPosBits`
pub(crate) const MAX_POS_BITS: u32 = 4;
/// `minMatchLen`
pub(crate) const MIN_MATCH_LEN: usize = 2;
/// `maxMatchLen`
pub(crate) const MAX_MATCH_LEN: usize = MIN_MATCH_LEN + 16 + 256 - 1;

/// `treeCodec.Encode`: a fixed-size value, most-significant bit first.
#[inline]
fn tree_encode(re: &mut RangeEncoder, probs: &mut [Prob], bits: u32, v: u32) -> Result<(), EncErr> {
    let mut m = 1usize;
    for i in (0..bits).rev() {
        let b = (v >> i) & 1;
        re.encode_bit(b, &mut probs[m])?;
        m = (m << 1) | b as usize;
    }
    Ok(())
}

/// `treeReverseCodec.Encode`: a fixed-size value, least-significant bit first.
#[inline]
fn tree_reverse_encode(
    re: &mut RangeEncoder,
    probs: &mut [Prob],
    bits: u32,
    v: u32,
) -> Result<(), EncErr> {
    let mut m = 1usize;
    for i in 0..bits {
        let b = (v >> i) & 1;
        re.encode_bit(b, &mut probs[m])?;
        m = (m << 1) | b as usize;
    }
    Ok(())
}

/// `directCodec.Encode`: `bits` bits with probability 1/2, most-significant first.
#[inline]
fn direct_encode(re: &mut RangeEncoder, bits: u32, v: u32) -> Result<(), EncErr> {
    for i in (0..bits).rev() {
        re.direct_encode_bit(v >> i)?;
    }
    Ok(())
}

/// `literalCodec`
#[derive(Clone)]
pub(crate) struct LiteralCodec {
    probs: Vec<Prob>,
}

impl LiteralCodec {
    /// `literalCodec.init`
    pub(crate) fn new(lc: u32, lp: u32) -> Self {
        LiteralCodec {
            probs: vec![PROB_INIT; 0x300 << (lc + lp)],
        }
    }

    /// `literalCodec.Encode`
    #[inline]
    pub(crate) fn encode(
        &mut self,
        re: &mut RangeEncoder,
        s: u8,
        state: u32,
        match_byte: u8,
        lit_state: u32,
    ) -> Result<(), EncErr> {
        let k = lit_state as usize * 0x300;
        let Some(probs) = self.probs.get_mut(k..k + 0x300) else {
            return Err(EncErr::Other("literal state out of range"));
        };
        let mut symbol = 1u32;
        let mut r = u32::from(s);
        if state >= 7 {
            let mut m = u32::from(match_byte);
            loop {
                let match_bit = (m >> 7) & 1;
                m <<= 1;
                let bit = (r >> 7) & 1;
                r <<= 1;
                let i = ((1 + match_bit) << 8) | symbol;
                re.encode_bit(bit, &mut probs[i as usize])?;
                symbol = (symbol << 1) | bit;
                if match_bit != bit {
                    break;
                }
                if symbol >= 0x100 {
                    break;
                }
            }
        }
        while symbol < 0x100 {
            let bit = (r >> 7) & 1;
            r <<= 1;
            re.encode_bit(bit, &mut probs[symbol as usize])?;
            symbol = (symbol << 1) | bit;
        }
        Ok(())
    }
}

/// `lengthCodec`
#[derive(Clone)]
pub(crate) struct LengthCodec {
    choice: [Prob; 2],
    low: [[Prob; 1 << 3]; 1 << MAX_POS_BITS],
    mid: [[Prob; 1 << 3]; 1 << MAX_POS_BITS],
    high: [Prob; 1 << 8],
}

impl LengthCodec {
    /// `lengthCodec.init`
    pub(crate) fn new() -> Self {
        LengthCodec {
            choice: [PROB_INIT; 2],
            low: [[PROB_INIT; 8]; 16],
            mid: [[PROB_INIT; 8]; 16],
            high: [PROB_INIT; 256],
        }
    }

    /// `lengthCodec.Encode`; `l` is the match length minus `minMatchLen`.
    #[inline]
    pub(crate) fn encode(
        &mut self,
        re: &mut RangeEncoder,
        l: u32,
        pos_state: u32,
    ) -> Result<(), EncErr> {
        if l > (MAX_MATCH_LEN - MIN_MATCH_LEN) as u32 {
            return Err(EncErr::Other("lengthCodec.Encode: l out of range"));
        }
        let ps = (pos_state & ((1 << MAX_POS_BITS) - 1)) as usize;
        if l < 8 {
            re.encode_bit(0, &mut self.choice[0])?;
            return tree_encode(re, &mut self.low[ps], 3, l);
        }
        re.encode_bit(1, &mut self.choice[0])?;
        if l < 16 {
            re.encode_bit(0, &mut self.choice[1])?;
            return tree_encode(re, &mut self.mid[ps], 3, l - 8);
        }
        re.encode_bit(1, &mut self.choice[1])?;
        tree_encode(re, &mut self.high, 8, l - 16)
    }
}

/// `lenStates`
const LEN_STATES: u32 = 4;
/// `startPosModel`
const START_POS_MODEL: u32 = 4;
/// `endPosModel`
const END_POS_MODEL: u32 = 14;
/// `posSlotBits`
const POS_SLOT_BITS: u32 = 6;
/// `alignBits`
const ALIGN_BITS: u32 = 4;

/// `distCodec`
#[derive(Clone)]
pub(crate) struct DistCodec {
    pos_slot_codecs: [[Prob; 1 << POS_SLOT_BITS]; LEN_STATES as usize],
    /// `posModel[i]` is a reverse tree of `((startPosModel + i) >> 1) - 1` bits (at most 5).
    pos_model: [[Prob; 1 << 5]; (END_POS_MODEL - START_POS_MODEL) as usize],
    align_codec: [Prob; 1 << ALIGN_BITS],
}

/// `lenState`
#[inline]
fn len_state(l: u32) -> usize {
    l.min(LEN_STATES - 1) as usize
}

/// `nlz32`: the number of leading zeros (Go's de Bruijn version agrees for every input).
#[inline]
pub(crate) fn nlz32(x: u32) -> u32 {
    x.leading_zeros()
}

impl DistCodec {
    /// `distCodec.init`
    pub(crate) fn new() -> Self {
        DistCodec {
            pos_slot_codecs: [[PROB_INIT; 64]; 4],
            pos_model: [[PROB_INIT; 32]; 10],
            align_codec: [PROB_INIT; 16],
        }
    }

    /// `distCodec.Encode`; `dist` is the match distance minus one, `l` the length offset.
    #[inline]
    pub(crate) fn encode(
        &mut self,
        re: &mut RangeEncoder,
        dist: u32,
        l: u32,
    ) -> Result<(), EncErr> {
        let mut bits = 0u32;
        let pos_slot = if dist < START_POS_MODEL {
            dist
        } else {
            bits = 30 - nlz32(dist);
            START_POS_MODEL - 2 + (bits << 1) + ((dist >> bits) & 1)
        };
        tree_encode(
            re,
            &mut self.pos_slot_codecs[len_state(l)],
            POS_SLOT_BITS,
            pos_slot,
        )?;
        if pos_slot < START_POS_MODEL {
            return Ok(());
        }
        if pos_slot < END_POS_MODEL {
            let tree_bits = (pos_slot >> 1) - 1;
            let probs = &mut self.pos_model[(pos_slot - START_POS_MODEL) as usize];
            return tree_reverse_encode(re, probs, tree_bits, dist);
        }
        direct_encode(re, bits - ALIGN_BITS, dist >> ALIGN_BITS)?;
        tree_reverse_encode(re, &mut self.align_codec, ALIGN_BITS, dist)
    }
}
