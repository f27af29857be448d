//! The range encoder: ports `lzma/rangecodec.go` (`rangeEncoder`), `lzma/prob.go` and
//! `lzma/bytewriter.go` (`LimitedByteWriter` over the `bytes.Buffer` of `Writer2`).

/// Go's `ErrLimit` ("limit reached") and the few errors Go raises (or panics with) inside the
/// encoder. `Limit` is flow control between the encoder and the LZMA2 writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncErr {
    /// `lzma.ErrLimit`: the chunk's compressed-size limit has been reached.
    Limit,
    /// An internal consistency error (Go panics or returns an `errors.New` value there).
    Other(&'static str),
}

/// `prob`: an 11-bit probability.
pub(crate) type Prob = u16;

/// `movebits`
const MOVE_BITS: u32 = 5;
/// `probbits`
const PROB_BITS: u32 = 11;
/// `probInit`
pub(crate) const PROB_INIT: Prob = 1 << (PROB_BITS - 1);

/// `LimitedByteWriter{BW: &w.buf, N: ...}`: the chunk buffer of `Writer2` with the number of
/// bytes that may still be written to it.
pub(crate) struct LimitedBuf {
    pub(crate) buf: Vec<u8>,
    pub(crate) n: i64,
}

/// `rangeEncoder`
pub(crate) struct RangeEncoder {
    pub(crate) lbw: LimitedBuf,
    nrange: u32,
    low: u64,
    cache_len: i64,
    cache: u8,
}

impl RangeEncoder {
    /// `newRangeEncoder` over a `LimitedByteWriter`.
    pub(crate) fn new(lbw: LimitedBuf) -> Self {
        RangeEncoder {
            lbw,
            nrange: 0xffff_ffff,
            low: 0,
            cache_len: 1,
            cache: 0,
        }
    }

    /// `newRangeEncoder` again on the same `LimitedByteWriter` (used by `encoder.Reopen`).
    pub(crate) fn reset(&mut self) {
        self.nrange = 0xffff_ffff;
        self.low = 0;
        self.cache_len = 1;
        self.cache = 0;
    }

    /// `rangeEncoder.Available`: bytes that can still be written, minus what `Close` needs.
    #[inline]
    pub(crate) fn available(&self) -> i64 {
        self.lbw.n - (self.cache_len + 4)
    }

    /// `rangeEncoder.writeByte` and `LimitedByteWriter.WriteByte`.
    #[inline]
    fn write_byte(&mut self, c: u8) -> Result<(), EncErr> {
        if self.available() < 1 {
            return Err(EncErr::Limit);
        }
        if self.lbw.n <= 0 {
            return Err(EncErr::Limit);
        }
        self.lbw.buf.push(c);
        self.lbw.n -= 1;
        Ok(())
    }

    /// `rangeEncoder.DirectEncodeBit`
    #[inline]
    pub(crate) fn direct_encode_bit(&mut self, b: u32) -> Result<(), EncErr> {
        self.nrange >>= 1;
        self.low = self
            .low
            .wrapping_add(u64::from(self.nrange) & 0u64.wrapping_sub(u64::from(b) & 1));
        const TOP: u32 = 1 << 24;
        if self.nrange >= TOP {
            return Ok(());
        }
        self.nrange <<= 8;
        self.shift_low()
    }

    /// `rangeEncoder.EncodeBit` (with `prob.bound`, `prob.inc` and `prob.dec`).
    #[inline]
    pub(crate) fn encode_bit(&mut self, b: u32, p: &mut Prob) -> Result<(), EncErr> {
        let bound = (self.nrange >> PROB_BITS) * u32::from(*p);
        if b & 1 == 0 {
            self.nrange = bound;
            *p += ((1 << PROB_BITS) - *p) >> MOVE_BITS;
        } else {
            self.low += u64::from(bound);
            self.nrange -= bound;
            *p -= *p >> MOVE_BITS;
        }
        const TOP: u32 = 1 << 24;
        if self.nrange >= TOP {
            return Ok(());
        }
        self.nrange <<= 8;
        self.shift_low()
    }

    /// `rangeEncoder.Close`: writes a complete copy of the low value.
    pub(crate) fn close(&mut self) -> Result<(), EncErr> {
        for _ in 0..5 {
            self.shift_low()?;
        }
        Ok(())
    }

    /// `rangeEncoder.shiftLow`
    #[inline]
    fn shift_low(&mut self) -> Result<(), EncErr> {
        if (self.low as u32) < 0xff00_0000 || (self.low >> 32) != 0 {
            let mut tmp = self.cache;
            loop {
                self.write_byte(tmp.wrapping_add((self.low >> 32) as u8))?;
                tmp = 0xff;
                self.cache_len -= 1;
                if self.cache_len <= 0 {
                    if self.cache_len < 0 {
                        return Err(EncErr::Other("negative cacheLen"));
                    }
                    break;
                }
            }
            self.cache = ((self.low as u32) >> 24) as u8;
        }
        self.cache_len += 1;
        self.low = u64::from((self.low as u32) << 8);
        Ok(())
    }
}
