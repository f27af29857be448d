//! The default match finder `HashTable4`: ports `lzma/hashtable.go` (`hashTable` and its
//! `NextOp`) and `internal/hash/cyclic_poly.go` (the rolling hash it uses). The hash chains
//! are stored differently from Go's (see [`HashTable`]) but yield the same candidates.

use crate::codecs::MAX_MATCH_LEN;
use crate::dict::EncoderDict;
use crate::encoder::Op;

/// `maxMatches`: the number of hash-chain positions examined per operation.
const MAX_MATCHES: usize = 16;
/// `shortDists`: distances 1..=8 are always tried.
const SHORT_DISTS: usize = 8;
/// `minTableExponent`
const MIN_TABLE_EXPONENT: u32 = 9;
/// `maxTableExponent`
const MAX_TABLE_EXPONENT: u32 = 20;
/// The word length of `HashTable4`.
const WORD_LEN: usize = 4;

/// `hash.CyclicPoly` for words of `WORD_LEN` bytes.
struct CyclicPoly {
    h: u64,
    p: [u64; WORD_LEN],
    filled: usize,
    i: usize,
}

impl CyclicPoly {
    /// `hash.NewCyclicPoly`
    fn new() -> Self {
        CyclicPoly {
            h: 0,
            p: [0; WORD_LEN],
            filled: 0,
            i: 0,
        }
    }

    /// `CyclicPoly.RollByte`
    #[inline]
    fn roll_byte(&mut self, x: u8) -> u64 {
        let y = HASH[x as usize];
        if self.filled < WORD_LEN {
            self.h = self.h.rotate_right(1) ^ y;
            self.p[self.filled] = y;
            self.filled += 1;
        } else {
            self.h ^= self.p[self.i].rotate_right(WORD_LEN as u32 - 1);
            self.h = self.h.rotate_right(1) ^ y;
            self.p[self.i] = y;
            self.i = (self.i + 1) % WORD_LEN;
        }
        self.h
    }
}

/// `hashTableExponent`
fn hash_table_exponent(n: u32) -> u32 {
    (30i64 - i64::from(crate::codecs::nlz32(n)))
        .clamp(i64::from(MIN_TABLE_EXPONENT), i64::from(MAX_TABLE_EXPONENT)) as u32
}

/// Bytes per hash slot: one cache line.
const LINE: usize = 64;
/// Deltas kept per slot: enough for the `maxMatches` positions `getMatches` can return.
const DELTAS: usize = MAX_MATCHES - 1;
/// Bytes per stored delta. Go zeroes a delta larger than the hashed window, which is at most
/// the dictionary capacity, so deltas need `bits(capacity)` bits.
const DELTA_BYTES: usize = 3;
/// The largest capacity whose deltas fit into `DELTA_BYTES`.
pub(crate) const MAX_CAPACITY: usize = (1 << (8 * DELTA_BYTES)) - 1;

/// `hashTable`: chained hashing into a table of `1 << exp` slots.
///
/// Go keeps the newest position + 1 per slot in `t` and, in a circular array `data` with one
/// entry per hashed position, the delta from that position back to the previous position
/// with the same slot (0 when there is none or it lies more than the window back).
/// `getMatches` follows those deltas from the slot's newest position while the positions stay
/// inside the window and returns at most `maxMatches` of them; so only the newest
/// `maxMatches - 1` deltas of a slot's chain can ever be read. This port keeps exactly those:
/// one cache line per slot holds the newest position + 1 (8 bytes), the index of the newest
/// delta (1 byte) and a ring of the chain's newest 15 deltas (3 bytes each). `getMatches` then
/// reads one line instead of chasing up to 16 positions through a 32 MiB array, and returns
/// the same positions in the same order as Go's. The table takes 64 MiB (Go's `t` and `data`
/// take 40 MiB).
pub(crate) struct HashTable {
    /// `1 << exp` lines of `LINE` bytes starting at `base` (cache-line aligned).
    lines: Vec<u8>,
    base: usize,
    /// the number of positions the window holds (`len(data)` in Go: the dictionary capacity)
    window: i64,
    mask: u64,
    /// hash offset; initial value is `-wordLen`
    hoff: i64,
    /// roller for the bytes written (`wr`)
    wr: CyclicPoly,
    /// roller for arbitrary hashes (`hr`)
    hr: CyclicPoly,
    /// preallocated positions
    p: [i64; MAX_MATCHES],
}

impl HashTable {
    /// `newHashTable(capacity, 4)`; `capacity` must not exceed [`MAX_CAPACITY`] (it is
    /// clamped to it).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let exp = hash_table_exponent(capacity as u32);
        // vec![0; n] allocates zeroed memory lazily; align the first line by hand.
        let lines = vec![0u8; (LINE << exp) + LINE];
        let base = (LINE - lines.as_ptr() as usize % LINE) % LINE;
        HashTable {
            lines,
            base,
            window: capacity as i64,
            mask: (1u64 << exp) - 1,
            hoff: -(WORD_LEN as i64),
            wr: CyclicPoly::new(),
            hr: CyclicPoly::new(),
            p: [0; MAX_MATCHES],
        }
    }

    /// `hashTable.buffered`: the number of positions currently hashed.
    #[inline]
    fn buffered(&self) -> i64 {
        let n = self.hoff + 1;
        if n <= 0 {
            0
        } else if n >= self.window {
            self.window
        } else {
            n
        }
    }

    /// The line of the slot for hash `h`.
    #[inline]
    fn line_offset(&self, h: u64) -> usize {
        self.base + (h & self.mask) as usize * LINE
    }

    /// `hashTable.putEntry` (with `putDelta`).
    #[inline]
    fn put_entry(&mut self, h: u64, pos: i64) {
        if pos < 0 {
            return;
        }
        let buffered = self.buffered();
        let off = self.line_offset(h);
        let line = &mut self.lines[off..off + LINE];
        let old = i64::from_le_bytes(head_bytes(line)) - 1;
        line[..8].copy_from_slice(&(pos + 1).to_le_bytes());
        let mut delta = 0i64;
        if old >= 0 {
            delta = pos - old;
            if delta > (1i64 << 32) - 1 || delta > buffered {
                delta = 0;
            }
        }
        // push the delta in front of the slot's chain: the ring of deltas starts one earlier
        let first = (usize::from(line[8]) + DELTAS - 1) % DELTAS;
        line[8] = first as u8;
        let j = 9 + first * DELTA_BYTES;
        line[j..j + DELTA_BYTES].copy_from_slice(&(delta as u32).to_le_bytes()[..DELTA_BYTES]);
    }

    /// `hashTable.WriteByte`
    #[inline]
    fn write_byte(&mut self, b: u8) {
        let h = self.wr.roll_byte(b);
        self.hoff += 1;
        self.put_entry(h, self.hoff);
    }

    /// `hashTable.Write`
    #[inline]
    pub(crate) fn write(&mut self, p: &[u8]) {
        for &b in p {
            self.write_byte(b);
        }
    }

    /// `hashTable.getMatches`: fills `self.p` with the positions on the chain for hash `h`,
    /// newest first.
    #[inline]
    fn get_matches(&mut self, h: u64) -> usize {
        if self.hoff < 0 {
            return 0;
        }
        let buffered = self.buffered();
        let tail_pos = self.hoff + 1 - buffered;
        let off = self.line_offset(h);
        let line = &self.lines[off..off + LINE];
        let pos = i64::from_le_bytes(head_bytes(line)) - 1;
        let first = usize::from(line[8]) % DELTAS;
        let mut delta = pos - tail_pos;
        let mut n = 0;
        loop {
            if delta < 0 {
                return n;
            }
            self.p[n] = tail_pos + delta;
            n += 1;
            if n >= MAX_MATCHES {
                return n;
            }
            // the delta stored for the position just taken: the (n-1)-th of the chain
            let j = 9 + ((first + n - 1) % DELTAS) * DELTA_BYTES;
            let mut u = [0u8; 4];
            u[..DELTA_BYTES].copy_from_slice(&line[j..j + DELTA_BYTES]);
            let u = u32::from_le_bytes(u);
            if u == 0 {
                return n;
            }
            delta -= i64::from(u);
        }
    }

    /// Loads the slot line of `word` (the next operation's first four bytes) ahead of time so
    /// that the cache miss overlaps with the encoding of the current operation. No effect on
    /// the output.
    #[inline]
    pub(crate) fn touch(&self, word: &[u8]) {
        if let [b0, b1, b2, b3, ..] = *word {
            let h = HASH[b0 as usize].rotate_right(3)
                ^ HASH[b1 as usize].rotate_right(2)
                ^ HASH[b2 as usize].rotate_right(1)
                ^ HASH[b3 as usize];
            let off = self.line_offset(h);
            std::hint::black_box(self.lines[off]);
        }
    }

    /// `hashTable.hash`
    #[inline]
    fn hash(&mut self, p: &[u8]) -> u64 {
        let mut h = 0;
        for &b in p {
            h = self.hr.roll_byte(b);
        }
        h
    }
}

impl EncoderDict {
    /// `hashTable.NextOp`: the longest match at distances 1..=8 and at the (up to 16)
    /// hash-chain positions, a literal if none; matches of length 1 only at `rep0`.
    #[inline]
    pub(crate) fn next_op(&mut self, rep0: u32) -> Op {
        let n = self.buf.peek(&mut self.data[..MAX_MATCH_LEN]);
        if n == 0 {
            // not reached: `compress` asks only while data is buffered
            return Op::Lit(0);
        }
        let EncoderDict {
            buf,
            m: t,
            head,
            capacity,
            data,
        } = self;
        let data = &data[..n];
        let np = if n < WORD_LEN {
            0
        } else {
            let h = t.hash(&data[..WORD_LEN]);
            t.get_matches(h)
        };

        // convert positions in potential distances
        let mut dists = [0usize; MAX_MATCHES + SHORT_DISTS];
        let mut nd = 0;
        for d in 1..=SHORT_DISTS {
            dists[nd] = d;
            nd += 1;
        }
        for &pos in &t.p[..np] {
            let dis = *head - pos;
            if dis > SHORT_DISTS as i64 {
                dists[nd] = dis as usize;
                nd += 1;
            }
        }

        // check distances
        let mut m_dist = 0usize;
        let mut m_n = 0usize;
        let dict_len = if *head < *capacity as i64 {
            *head as usize
        } else {
            *capacity
        };
        let blen = buf.data.len();
        for &dist in &dists[..nd] {
            if dist > dict_len {
                continue;
            }
            // Only a match longer than the best so far matters: test the byte that would
            // make it longer first.
            let mut i = buf.rear as isize - dist as isize + m_n as isize;
            if i < 0 {
                i += blen as isize;
            }
            let i = i as usize;
            let i = if i >= blen { i - blen } else { i };
            if buf.data[i] != data[m_n] {
                continue;
            }
            let k = buf.match_len(dist, data);
            match k {
                0 => continue,
                1 if (dist - 1) as u32 != rep0 => continue,
                _ => {}
            }
            if k > m_n {
                m_dist = dist;
                m_n = k;
                if k == data.len() {
                    // No better match will be found.
                    break;
                }
            }
        }

        if m_n == 0 {
            return Op::Lit(data[0]);
        }
        Op::Match {
            distance: m_dist as i64,
            n: m_n,
        }
    }
}

/// The first eight bytes of a line: the slot's newest position + 1.
#[inline]
fn head_bytes(line: &[u8]) -> [u8; 8] {
    let mut b = [0u8; 8];
    b.copy_from_slice(&line[..8]);
    b
}

/// `hash` of `internal/hash/cyclic_poly.go`: the random values per byte.
#[rustfmt::skip]
static HASH: [u64; 256] = [
    0x2e4f_c3f9_0406_5142, 0xc790_984c_fbc9_9527, 0x879f_95eb_8c62_f187, 0x3b61_be86_b502_1ef2,
    0x65a8_96a0_4196_f0a5, 0xc5b3_07b8_0470_b59e, 0xd3bf_f376_a70d_f14b, 0xc332_f04f_0b3f_1701,
    0x753b_5f0e_9abf_3e0d, 0xb415_38fd_fe66_ef53, 0x1906_a10c_2c1c_0208, 0xfb0c_712a_0342_1c0d,
    0x38be_311a_65c9_552b, 0xfee7_ee4c_a644_5c7e, 0x71aa_dede_d184_f21e, 0xd734_26fc_cda2_3b2d,
    0x2977_3fb5_fb96_00b5, 0xce41_0261_cd32_981a, 0xfe28_48b3_c62d_bc2d, 0x459e_aaff_6e43_e11c,
    0xc13e_35fc_9c73_a887, 0xf30e_d5c2_01e7_6dbc, 0xa5f1_0b39_1048_2cea, 0x2945_d59b_e02d_faad,
    0x06ee_334f_f705_71b5, 0xbabf_9d80_70f4_4380, 0xee3e_2e99_12ff_d27c, 0x2a71_18d1_ea6b_8ea7,
    0x2618_3cb9_f7b1_664c, 0xea71_dac7_da06_8f21, 0xea92_eca5_bd1d_0bb7, 0x4155_9586_2def_cd75,
    0x248a_3860_23c6_0648, 0x9cf0_21ab_284b_3c8a, 0xfc93_72df_0287_0f6c, 0x2b92_d693_eeb3_b3fc,
    0x73e7_99d1_39dc_6975, 0x7b15_ae31_2486_363c, 0xb70e_5454_a223_9c80, 0x208e_3fb3_1d3b_2263,
    0x01f5_63ca_bb93_0f44, 0x2ac4_533d_2a32_40d8, 0x8423_1ed1_064f_6f7c, 0xa9f0_2097_7c2a_6d19,
    0x213c_2272_71c2_0122, 0x09fe_8a9a_0a03_d07a, 0x4236_dc75_bcaf_910c, 0x460a_8b2b_ead8_f17e,
    0xd9b2_7be1_aa07_055f, 0xd202_d5dc_4b11_c33e, 0x70ad_b010_543b_ea12, 0xcdae_938f_7ea6_f579,
    0x3f3d_8702_0867_2f4d, 0x8e6c_cbce_9d34_9536, 0xe4c0_871a_3890_95ae, 0xf5f2_a491_52bc_a080,
    0x9a43_f9b9_7269_934e, 0xc17b_3753_cb6f_475c, 0xd56d_941e_8e20_6bd4, 0xac0a_4f3e_525e_da00,
    0xa06d_5a01_1912_a550, 0x5537_ed19_537a_d1df, 0xa32f_e713_d611_449d, 0x2a1d_05b4_7c3b_579f,
    0x991d_02db_d30a_2a52, 0x39e9_1e7e_28f9_3eb0, 0x40d0_6adb_3e92_c9ac, 0x9b9d_3afd_e1c7_7c97,
    0x9a3f_3f41_c02c_616f, 0x22ec_d4ba_00f6_0c44, 0x0b63_d5d8_0170_8420, 0x8f22_7ca8_f37f_faec,
    0x0256_2786_7088_7c24, 0x107e_1487_7dbf_540b, 0x32c1_9f27_86ac_1c05, 0x1df5_b12b_b4bc_9c61,
    0xc0ca_c129_d0d4_c4e2, 0x9fdb_52ee_9800_b001, 0x31f6_01d5_d31c_48c4, 0x72ff_3c09_28bc_aec7,
    0xd992_6442_1147_eb03, 0x535a_2d6d_38ae_fcfe, 0x6ba8_b445_4a91_6237, 0xfa39_366e_aae4_719c,
    0x10f0_0fd7_bbb2_4b6f, 0x5bd2_3185_c76c_84d4, 0xb22c_3d7e_1b00_d33f, 0x3efc_20aa_6bc8_30a8,
    0xd61c_2503_fe63_9144, 0x30ce_6254_41eb_92d3, 0xe5d3_4cf3_59e9_3100, 0xa8e5_aa13_f2b9_f7a5,
    0x5c2b_8d85_1ca2_54a6, 0x68fb_6c5e_8b0d_5fdf, 0xc7ea_4872_c96b_83ae, 0x6dd5_d376_f439_2382,
    0x1be8_8681_aaa9_792f, 0xfef4_65ee_1b6c_10d9, 0x1f98_b65e_d43f_cb2e, 0x4d1c_a11e_b6e9_a9c9,
    0x7808_e902_b385_7d0b, 0x171c_9c4e_a460_7972, 0x58d6_6274_8501_46df, 0x42b3_11c1_0d39_81d1,
    0x647f_a8c6_21c4_1a4c, 0xf472_771c_66dd_fedc, 0x338d_27e3_f847_b46b, 0x6402_ce3d_a975_45ce,
    0x5162_db61_6fc3_8638, 0x9c83_be97_bc22_a50e, 0x2d3d_7478_a78d_5e72, 0xe621_a9b9_38fd_5397,
    0x9454_614e_b0f8_1c45, 0x395f_b6e7_42ed_39b6, 0x77dd_9179_d060_37bf, 0xc478_d0fe_e4d2_656d,
    0x35d9_d6cb_7720_07af, 0x83a5_6e92_c883_f0f6, 0x2793_7453_250c_00a1, 0x27bd_6ebc_3a46_a97d,
    0x9f54_3bf7_8434_2d51, 0xd158_f38c_48b0_ed52, 0x8dd8_537c_045f_66b4, 0x846a_5723_0226_f6d5,
    0x6b13_939e_0c4e_7cdf, 0xfca2_5425_d817_6758, 0x92e5_fc6c_d527_88e6, 0x9992_e13d_7a73_9170,
    0x5182_46f7_a199_e8ea, 0xf104_c2a7_1b99_79c7, 0x86b3_ffaa_bea4_768f, 0x6388_061c_f3e3_51ad,
    0x09d9_b529_5de5_bbb5, 0x38bf_1638_c259_9e92, 0x1d75_9846_499e_148d, 0x4c0f_f015_e5f9_6ef4,
    0xa41a_94cf_a270_f565, 0x42d7_6f9c_b232_6c0b, 0x0cf3_85dd_3c9c_23ba, 0x0508_a6c7_508d_6e7a,
    0x3375_23aa_bbe6_cf8d, 0x646b_b140_01d4_2b12, 0xc178_729d_138a_dc74, 0xf900_ef44_91f2_4086,
    0xee1a_90d3_34bb_5ac4, 0x9755_c922_4730_1a50, 0xb999_bf7c_4ff1_b610, 0x6aee_b2f3_b21e_8fc9,
    0x0fa8_084c_f91a_c6ff, 0x10d2_26cf_136e_6189, 0xd302_057a_07d4_fb21, 0x5f03_800e_20a0_fcc3,
    0x8011_8d4a_e46b_d210, 0x58ab_61a5_2284_3733, 0x51ed_d575_c543_2a4b, 0x94ee_6ff6_7f91_97f7,
    0x7656_69e0_e5e8_157b, 0xa534_7830_7371_32f0, 0x3ba4_85a6_9f01_510c, 0x0b24_7d7b_957a_01c3,
    0x1b3d_6344_9fd8_07dc, 0x0fdc_4721_c30a_d743, 0x8b53_5ed3_829b_2b14, 0xee41_d0ca_d65d_232c,
    0xe6a9_9ed9_7a6a_982f, 0x65ac_6194_c202_003d, 0x692a_ccf3_a705_73eb, 0xcc3c_02c3_e200_d5af,
    0x0d41_9e8b_3259_14a3, 0x320f_160f_42c2_5e40, 0x0071_0d64_7a51_fe7a, 0x3c94_7692_330a_ed60,
    0x9288_aa28_0d35_5a7a, 0xa180_6a9b_791d_1696, 0x5d60_e384_9676_3da1, 0x6c69_e22e_613f_d0f4,
    0x977f_c2a5_aadf_fb17, 0xfb7b_d063_fc5a_94ba, 0x460c_1799_2cba_ece1, 0xf782_2c54_44d3_297f,
    0x344a_9790_c69b_74aa, 0xb80a_42e6_cae0_9dce, 0x1b13_61ea_f2b1_e757, 0xd84c_1e75_8e23_6f01,
    0x88e0_b7be_3476_27cc, 0x4524_6009_b7a9_9490, 0x8011_c6dd_3fe5_0472, 0xc341_d682_bffb_99d7,
    0x2511_be93_808e_2d15, 0xd5bc_13d7_fd73_9840, 0x2a3c_d030_679a_e1ec, 0x8ad9_898a_4b9e_e157,
    0x3245_fef0_a8ea_f521, 0x3d6d_8dbb_b427_d2b0, 0x1ed1_46d8_968b_3981, 0x0c6a_28bf_7d45_f3fc,
    0x4a1f_d3db_cee3_c561, 0x4210_ff6a_476b_f67e, 0xa559_cce0_d919_9aac, 0xde39_d47e_f372_3380,
    0xe5b6_9d84_8ce4_2e35, 0xefa2_4296_f8e7_9f52, 0x7019_0b59_db9a_5afc, 0x26f1_66cd_b211_e7bf,
    0x4dea_f2df_3c6b_8ef5, 0xf171_dbdd_670f_1017, 0xb905_9b05_e942_0d90, 0x2f0d_a855_c938_8754,
    0x611d_5e9a_b779_49cc, 0x2912_038a_c011_63f4, 0x0231_df50_402b_2fba, 0x4566_0fc4_f324_5f58,
    0xb91c_c97c_7c8d_ac50, 0xb72d_2aaf_e495_3427, 0xfa64_63f8_7e81_3d6b, 0x4515_f7ee_95d5_c6a2,
    0x1310_e1c1_a48d_21c3, 0xad48_a781_0cdd_8544, 0x4d5b_dfef_d5c9_e631, 0xa43e_d43f_1fdc_b7de,
    0xe70c_fc8f_e1ee_9626, 0xef47_11b0_d8dd_a442, 0xb80d_d9bd_4dab_6c93, 0xa23b_e08d_31ba_4d93,
    0x9b37_db9d_0335_a39c, 0x494b_6f87_0f5c_febc, 0x6d1b_3c11_49dd_a943, 0x372c_943a_518c_1093,
    0xad27_af45_e77c_09c4, 0x3b6f_92b6_4604_4604, 0xac29_1790_9f5f_cf4f, 0x2069_a60e_977e_5557,
    0x353a_469e_7101_4de5, 0x24be_3562_81f5_5c15, 0x2b6d_710b_a8e9_adea, 0x404a_d175_1c74_9c29,
    0xed73_11bf_23d7_f185, 0xba4f_6976_b4ac_c43e, 0x32d7_198d_2bc3_9000, 0xee66_7019_014d_6e01,
    0x494e_f3e1_28d1_4c83, 0x1f95_a152_baec_d6be, 0x2016_48df_f1f4_83a5, 0x68c2_8550_c838_4af6,
    0x5fc8_34a6_824a_7f48, 0x7cd0_6cb7_365e_af28, 0xd82b_bd95_e9b3_0909, 0x234f_0d16_94c5_3f6d,
    0xd2fb_7f4a_96d8_3f4a, 0xff0d_5da8_3aca_c05e, 0xf8f6_b97f_5585_080a, 0x7423_6084_be57_b95b,
    0xa25e_40c0_3bbc_36ad, 0x6b6e_5c14_ce88_465b, 0x4378_ffe9_3e15_28c5, 0x94ca_92a1_7118_e2d2,
];
