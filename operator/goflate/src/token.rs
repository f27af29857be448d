//! LZ77 tokens as Go packs them in a `uint32`: literals below `MATCH_TYPE`, matches as
//! `MATCH_TYPE | (length - 3) << 22 | (offset - 1)`.

pub(crate) type Token = u32;

const LENGTH_SHIFT: u32 = 22;
const OFFSET_MASK: u32 = (1 << LENGTH_SHIFT) - 1;
pub(crate) const MATCH_TYPE: u32 = 1 << 30;

pub(crate) const END_BLOCK_MARKER: usize = 256;
pub(crate) const LENGTH_CODES_START: usize = 257;

/// The extra length (length - 3) each length code starts at.
const LENGTH_BASE: [u32; 29] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255,
];

/// The extra offset (offset - 1) each of the first 16 offset codes starts at.
const OFFSET_BASE_LOW: [u32; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192];

/// The length code of each extra length 0..=255.
const LENGTH_CODES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut l = 0;
    while l < 256 {
        let mut c = 0;
        while c + 1 < LENGTH_BASE.len() && LENGTH_BASE[c + 1] <= l as u32 {
            c += 1;
        }
        t[l] = c as u8;
        l += 1;
    }
    t
};

/// The offset code of each extra offset 0..=255.
const OFFSET_CODES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut o = 0;
    while o < 256 {
        let mut c = 0;
        while c + 1 < OFFSET_BASE_LOW.len() && OFFSET_BASE_LOW[c + 1] <= o as u32 {
            c += 1;
        }
        t[o] = c as u8;
        o += 1;
    }
    t
};

#[inline]
pub(crate) fn literal_token(literal: u32) -> Token {
    literal
}

#[inline]
pub(crate) fn match_token(xlength: u32, xoffset: u32) -> Token {
    MATCH_TYPE + (xlength << LENGTH_SHIFT) + xoffset
}

#[inline]
pub(crate) fn token_literal(t: Token) -> u32 {
    t
}

#[inline]
pub(crate) fn token_offset(t: Token) -> u32 {
    t & OFFSET_MASK
}

#[inline]
pub(crate) fn token_length(t: Token) -> u32 {
    (t - MATCH_TYPE) >> LENGTH_SHIFT
}

#[inline]
pub(crate) fn length_code(xlength: u32) -> u32 {
    u32::from(LENGTH_CODES[xlength as usize])
}

#[inline]
pub(crate) fn offset_code(xoffset: u32) -> u32 {
    if xoffset < 256 {
        return u32::from(OFFSET_CODES[xoffset as usize]);
    }
    if xoffset >> 7 < 256 {
        return u32::from(OFFSET_CODES[(xoffset >> 7) as usize]) + 14;
    }
    u32::from(OFFSET_CODES[(xoffset >> 14) as usize]) + 28
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cover_the_rfc_ranges() {
        // RFC 1951 3.2.5: lengths 3..=258 and distances 1..=32768.
        assert_eq!(length_code(0), 0);
        assert_eq!(length_code(8), 8); // length 11, code 265
        assert_eq!(length_code(254), 27); // length 257
        assert_eq!(length_code(255), 28); // length 258, code 285
        assert_eq!(offset_code(0), 0);
        assert_eq!(offset_code(4), 4); // distance 5
        assert_eq!(offset_code(255), 15); // distance 256
        assert_eq!(offset_code(256), 16); // distance 257
        assert_eq!(offset_code(32767), 29); // distance 32768
        let t = match_token(255, 32767);
        assert_eq!((token_length(t), token_offset(t)), (255, 32767));
    }
}
