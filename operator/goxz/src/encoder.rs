//! The LZMA encoder: ports `lzma/encoder.go` and `lzma/operation.go`.

use crate::codecs::{MAX_MATCH_LEN, MIN_MATCH_LEN};
use crate::dict::EncoderDict;
use crate::rangecoder::{EncErr, LimitedBuf, RangeEncoder};
use crate::state::State;

/// `opLenMargin`: the upper limit of the bytes needed to encode one operation.
const OP_LEN_MARGIN: i64 = 16;
/// `minDistance`
const MIN_DISTANCE: i64 = 1;
/// `maxDistance`
const MAX_DISTANCE: i64 = 1 << 32;

/// `operation`: `lit` or `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `lit{b}`
    Lit(u8),
    /// `match{distance, n}`
    Match { distance: i64, n: usize },
}

impl Op {
    /// `operation.Len`
    #[inline]
    fn len(self) -> usize {
        match self {
            Op::Lit(_) => 1,
            Op::Match { n, .. } => n,
        }
    }
}

/// `encoder`: compresses the data buffered in the dictionary into the range encoder. The
/// `Writer2` never asks for the end-of-stream marker, so `marker` is always false here.
pub(crate) struct Encoder {
    pub(crate) dict: EncoderDict,
    pub(crate) state: Box<State>,
    pub(crate) re: RangeEncoder,
    start: i64,
    margin: i64,
}

impl Encoder {
    /// `newEncoder(bw, state, dict, 0)`
    pub(crate) fn new(lbw: LimitedBuf, state: Box<State>, dict: EncoderDict) -> Self {
        let start = dict.pos();
        Encoder {
            dict,
            state,
            re: RangeEncoder::new(lbw),
            start,
            margin: OP_LEN_MARGIN,
        }
    }

    /// `encoder.Write`: puts `p` into the dictionary, compressing (all but the last
    /// `maxMatchLen - 1` bytes) whenever the buffer is full. Returns the bytes taken and
    /// `Some(Limit)` if the chunk limit was hit.
    pub(crate) fn write(&mut self, p: &[u8]) -> (usize, Option<EncErr>) {
        let mut n = 0;
        loop {
            let k = self.dict.write(&p[n..]);
            n += k;
            if n < p.len() {
                // ErrNoSpace
                if let Err(e) = self.compress(false) {
                    return (n, Some(e));
                }
                continue;
            }
            return (n, None);
        }
    }

    /// `encoder.Reopen`: a new range encoder on the (reset) chunk buffer.
    pub(crate) fn reopen(&mut self) {
        self.re.reset();
        self.start = self.dict.pos();
    }

    /// `encoder.writeLiteral`
    #[inline]
    fn write_literal(&mut self, b: u8) -> Result<(), EncErr> {
        let pos = self.dict.pos();
        let st = &mut *self.state;
        let (state, state2, _) = st.states(pos);
        self.re.encode_bit(0, &mut st.is_match[state2 as usize])?;
        let lit_state = st.lit_state(self.dict.byte_at(1), pos);
        let m = self.dict.byte_at(st.rep[0] as usize + 1);
        st.lit_codec.encode(&mut self.re, b, state, m, lit_state)?;
        st.update_state_literal();
        Ok(())
    }

    /// `encoder.writeMatch`
    #[inline]
    fn write_match(&mut self, distance: i64, n: usize) -> Result<(), EncErr> {
        if !(MIN_DISTANCE..=MAX_DISTANCE).contains(&distance) {
            return Err(EncErr::Other("match distance out of range"));
        }
        let dist = (distance - MIN_DISTANCE) as u32;
        let st = &mut *self.state;
        let short_rep = dist == st.rep[0] && n == 1;
        if !((MIN_MATCH_LEN..=MAX_MATCH_LEN).contains(&n) || short_rep) {
            return Err(EncErr::Other("match length out of range"));
        }
        let re = &mut self.re;
        let (state, state2, pos_state) = st.states(self.dict.pos());
        re.encode_bit(1, &mut st.is_match[state2 as usize])?;
        let g = st.rep.iter().position(|&r| r == dist).unwrap_or(4);
        let b = u32::from(g < 4);
        re.encode_bit(b, &mut st.is_rep[state as usize])?;
        let l = (n as u32).wrapping_sub(MIN_MATCH_LEN as u32);
        if b == 0 {
            // simple match
            st.rep = [dist, st.rep[0], st.rep[1], st.rep[2]];
            st.update_state_match();
            st.len_codec.encode(re, l, pos_state)?;
            return st.dist_codec.encode(re, dist, l);
        }
        let b = u32::from(g != 0);
        re.encode_bit(b, &mut st.is_rep_g0[state as usize])?;
        if b == 0 {
            // g == 0
            let b = u32::from(n != 1);
            re.encode_bit(b, &mut st.is_rep_g0_long[state2 as usize])?;
            if b == 0 {
                st.update_state_short_rep();
                return Ok(());
            }
        } else {
            // g in {1,2,3}
            let b = u32::from(g != 1);
            re.encode_bit(b, &mut st.is_rep_g1[state as usize])?;
            if b == 1 {
                // g in {2,3}
                let b = u32::from(g != 2);
                re.encode_bit(b, &mut st.is_rep_g2[state as usize])?;
                if b == 1 {
                    st.rep[3] = st.rep[2];
                }
                st.rep[2] = st.rep[1];
            }
            st.rep[1] = st.rep[0];
            st.rep[0] = dist;
        }
        st.update_state_rep();
        st.rep_len_codec.encode(re, l, pos_state)
    }

    /// `encoder.writeOp`: refuses with `Limit` when the chunk might not have room left.
    #[inline]
    fn write_op(&mut self, op: Op) -> Result<(), EncErr> {
        if self.re.available() < self.margin {
            return Err(EncErr::Limit);
        }
        match op {
            Op::Lit(b) => self.write_literal(b),
            Op::Match { distance, n } => self.write_match(distance, n),
        }
    }

    /// `encoder.compress`: with `all` false keeps `maxMatchLen - 1` bytes of look-ahead.
    pub(crate) fn compress(&mut self, all: bool) -> Result<(), EncErr> {
        let n = if all { 0 } else { MAX_MATCH_LEN - 1 };
        while self.dict.buffered() > n {
            let op = self.dict.next_op(self.state.rep[0]);
            // Load the hash slot of the next operation's word early (no effect on the output).
            let next = op.len();
            if let Some(word) = self.dict.data.get(next..next + 4) {
                self.dict.m.touch(word);
            }
            self.write_op(op)?;
            self.dict.discard(op.len());
        }
        Ok(())
    }

    /// `encoder.Close`: compresses what fits into the chunk and flushes the range encoder.
    pub(crate) fn close(&mut self) -> Result<(), EncErr> {
        match self.compress(true) {
            Ok(()) | Err(EncErr::Limit) => {}
            Err(e) => return Err(e),
        }
        self.re.close()
    }

    /// `encoder.Compressed`: input bytes compressed since the chunk started.
    #[inline]
    pub(crate) fn compressed(&self) -> i64 {
        self.dict.pos() - self.start
    }
}
