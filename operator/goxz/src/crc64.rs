//! CRC-64/XZ: Go's `hash/crc64` with the ECMA table (`crc64.MakeTable(crc64.ECMA)`), which
//! `crc.go`'s `newCRC64` uses for the default xz check. Slicing-by-8 like Go's for long input.

/// `crc64.ECMA` in reversed form.
const ECMA: u64 = 0xC96C_5795_D787_0F42;

const fn make_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ ECMA
            } else {
                crc >> 1
            };
            j += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut crc = t[0][i];
        let mut k = 1;
        while k < 8 {
            crc = t[0][(crc & 0xff) as usize] ^ (crc >> 8);
            t[k][i] = crc;
            k += 1;
        }
        i += 1;
    }
    t
}

static TABLES: [[u64; 256]; 8] = make_tables();

/// A running CRC-64/XZ (`crc64.New(crc64Table)`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Crc64 {
    crc: u64,
}

impl Crc64 {
    pub(crate) fn new() -> Self {
        Crc64 { crc: 0 }
    }

    /// `hash.Hash64.Write`
    pub(crate) fn update(&mut self, p: &[u8]) {
        let t = &TABLES;
        let mut crc = !self.crc;
        let mut chunks = p.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            crc ^= u64::from_le_bytes(b);
            crc = t[7][(crc & 0xff) as usize]
                ^ t[6][((crc >> 8) & 0xff) as usize]
                ^ t[5][((crc >> 16) & 0xff) as usize]
                ^ t[4][((crc >> 24) & 0xff) as usize]
                ^ t[3][((crc >> 32) & 0xff) as usize]
                ^ t[2][((crc >> 40) & 0xff) as usize]
                ^ t[1][((crc >> 48) & 0xff) as usize]
                ^ t[0][(crc >> 56) as usize];
        }
        for &b in chunks.remainder() {
            crc = t[0][((crc as u8) ^ b) as usize] ^ (crc >> 8);
        }
        self.crc = !crc;
    }

    /// `hash.Hash64.Sum64`
    pub(crate) fn sum64(&self) -> u64 {
        self.crc
    }
}

#[cfg(test)]
mod tests {
    use super::Crc64;

    #[test]
    fn check_value() {
        let mut c = Crc64::new();
        c.update(b"123456789");
        assert_eq!(c.sum64(), 0x995D_C9BB_DF19_39FA);
        let mut c = Crc64::new();
        c.update(b"");
        assert_eq!(c.sum64(), 0);
        // byte-at-a-time equals the sliced version
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut a = Crc64::new();
        a.update(&data);
        let mut b = Crc64::new();
        for ch in data.chunks(3) {
            b.update(ch);
        }
        assert_eq!(a.sum64(), b.sum64());
    }
}
