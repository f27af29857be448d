//! Test vectors: kiln-goflate's output must be the bytes Go 1.26's compress/gzip wrote for the
//! same input (produced with `oracle/main.go`; the long ones kept as length and SHA-256).

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes `data` in writes of `chunk` bytes (0: one write), flushing after each when `flush`,
/// then closes: what `oracle/main.go` does with Go's writer.
fn gzip_as_oracle(level: i32, chunk: usize, flush: bool, data: &[u8]) -> Vec<u8> {
    let mut w = kiln_goflate::GzWriter::new(Vec::new(), level).unwrap();
    let chunk = if chunk == 0 { data.len() + 1 } else { chunk };
    let mut rest = data;
    let mut first = true;
    while first || !rest.is_empty() {
        first = false;
        let n = chunk.min(rest.len());
        w.write_all(&rest[..n]).unwrap();
        rest = &rest[n..];
        if flush {
            w.flush().unwrap();
        }
    }
    w.finish().unwrap()
}

/// (level, chunk, flush, input hex, Go's gzip hex)
const SHORT: &[(i32, usize, bool, &str, &str)] = &[
    (
        -1,
        0,
        false,
        "68656c6c6f",
        "1f8b08000000000000ffca48cdc9c907040000ffff86a6103605000000",
    ),
    (
        -1,
        0,
        true,
        "",
        "1f8b08000000000000ff000000ffff010000ffff0000000000000000",
    ),
    (
        1,
        0,
        false,
        "61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
        "1f8b08000000000004ff04c08100000000009056ff13000000000000000000000000c0000000ffff647a70af64000000",
    ),
    (
        6,
        0,
        false,
        "61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
        "1f8b08000000000000ff4aa40300040000ffff647a70af64000000",
    ),
    (
        -2,
        0,
        false,
        "61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
        "1f8b08000000000000ff04c08100000000009056ff13000000000000000000000000c0000000ffff647a70af64000000",
    ),
    (
        1,
        0,
        true,
        "303132333435363738396162636465666768696a",
        "1f8b08000000000004ff001400ebff303132333435363738396162636465666768696a000000ffff010000ffff290d8c6314000000",
    ),
    (
        1,
        0,
        true,
        "30313233343536373839",
        "1f8b08000000000004ff000a00f5ff30313233343536373839000000ffff010000ffffc6c784a60a000000",
    ),
    (
        0,
        0,
        true,
        "73746f726564",
        "1f8b08000000000000ff000600f9ff73746f726564000000ffff010000ffff0bf9435606000000",
    ),
    (
        9,
        7,
        true,
        "6162636162636162636162636162636162632d78797a2d616263616263",
        "1f8b08000000000002ff4a4c4a062100000000ffff829200000000ffff0291ba159500000000ffffaad205f300000000ffff4a06000000ffff010000ffff6ccb78a71d000000",
    ),
    (
        2,
        0,
        false,
        "62616e616e612062616e64616e612062616e616e612062616e64616e61",
        "1f8b08000000000000ff4a4acc4bcc4b54484acc4b81d2485c40000000fffff2a38dbb1d000000",
    ),
];

#[test]
fn short_inputs_match_go() {
    for &(level, chunk, flush, input, want) in SHORT {
        let got = gzip_as_oracle(level, chunk, flush, &unhex(input));
        assert_eq!(
            hex(&got),
            want,
            "level {level} chunk {chunk} flush {flush} input {input}"
        );
    }
}

/// A deterministic input: xorshift64 choosing words (kind 0), random bytes (1), byte runs (2)
/// or two-byte pairs mixed with copies of earlier text (3). Mirrored by the script that fed Go.
fn generate(seed: u64, n: usize, kind: u8) -> Vec<u8> {
    const WORDS: &[&[u8]] = &[
        b"build",
        b"source",
        b"image",
        b"disk",
        b"the",
        b"of",
        b"and",
        b"packer",
        b"kiln",
        b"{}",
        b"=",
        b"${var.x}",
        b"0123",
        b"\n",
    ];
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15).wrapping_add(1);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    while out.len() < n {
        let v = next();
        match kind {
            0 => {
                out.extend_from_slice(WORDS[(v % WORDS.len() as u64) as usize]);
                out.push(b' ');
            }
            1 => out.extend_from_slice(&v.to_le_bytes()),
            2 => out.extend(std::iter::repeat_n(v as u8, ((v >> 8) % 300 + 1) as usize)),
            _ => {
                if v % 3 == 0 && out.len() > 100 {
                    let i = ((v >> 8) % out.len() as u64) as usize;
                    let l = ((v >> 24) % 200 + 3) as usize;
                    let end = (i + l).min(out.len());
                    let copy = out[i..end].to_vec();
                    out.extend_from_slice(&copy);
                } else {
                    out.push((v >> 8) as u8);
                    out.push(((v >> 16) & 0x3f) as u8);
                }
            }
        }
    }
    out.truncate(n);
    out
}

/// (seed, length, kind, level, Go's gzip length, its SHA-256)
const LONG: &[(u64, usize, u8, i32, usize, &str)] = &[
    (
        1,
        150000,
        0,
        -2,
        85561,
        "f3c44613204c791d30db52c37bdf59658557f7376ce31148b8ca446c853b806a",
    ),
    (
        1,
        150000,
        0,
        -1,
        25804,
        "91066b7ace132b7dcd504e165f3129c72b999b8db8e03948abb011e691f8d1c0",
    ),
    (
        1,
        150000,
        0,
        0,
        150038,
        "04de8e8d13139c3c8f4c32d0e2ead7b50c376876aa671f806458056ceba8b26b",
    ),
    (
        1,
        150000,
        0,
        1,
        35847,
        "1c51c8f4d9c7c3cc7b53bc0963d54d2b6eab1a7c99c3d3e8c89869a66ab5bbf2",
    ),
    (
        1,
        150000,
        0,
        2,
        32284,
        "4f1598c0026fc2b7825669c8b168a7ae6a8f1a23cc27ea982286370050f6d833",
    ),
    (
        1,
        150000,
        0,
        3,
        29217,
        "0ec07a7fb4f9be01da564b108da9c3620d9e47113344148b5ef9f68179229ad2",
    ),
    (
        1,
        150000,
        0,
        4,
        28825,
        "17eb9ea3bb8854e2d04c2af29bdcba77cea07bce125b27311a58d6afa1fc9466",
    ),
    (
        1,
        150000,
        0,
        5,
        27564,
        "5c36a78d5a663b296b83b8bf328fbae958b8404f9804d937ecf667d03ce9d8f4",
    ),
    (
        1,
        150000,
        0,
        6,
        25804,
        "91066b7ace132b7dcd504e165f3129c72b999b8db8e03948abb011e691f8d1c0",
    ),
    (
        1,
        150000,
        0,
        7,
        24902,
        "fe5793ebb3c343e9f9476c9f68713082bf24f7e15f4de2315de48d39f8de9df3",
    ),
    (
        1,
        150000,
        0,
        8,
        24196,
        "e38c40bd5e647e6dc7971311674c8c4af87fecc0616d4846d979ad562da7fd4d",
    ),
    (
        1,
        150000,
        0,
        9,
        24196,
        "2aaadfdfe81a518d7f8d9ffe482ac28f77ccbcfdbb20ac6efcce2e3b78bb3ee3",
    ),
    (
        2,
        100000,
        1,
        -2,
        100033,
        "5a0a2ffd6ea609a9580e56271c35b0cfd71383d9fe6a5a19aa052f32e92bc3c6",
    ),
    (
        2,
        100000,
        1,
        -1,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        0,
        100033,
        "5a0a2ffd6ea609a9580e56271c35b0cfd71383d9fe6a5a19aa052f32e92bc3c6",
    ),
    (
        2,
        100000,
        1,
        1,
        100033,
        "059336acfc5281733be4ec4a77a94f985fb61c199aee14ee314d7b2c959b9f02",
    ),
    (
        2,
        100000,
        1,
        2,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        3,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        4,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        5,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        6,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        7,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        8,
        100058,
        "23c496c607530477cf4893a6ac975b4eaa385e56f4720d1e3ae549d3fa85233d",
    ),
    (
        2,
        100000,
        1,
        9,
        100058,
        "4d9610630d6bdff0905fec35f3c1529b2405d871c3d43ab56ca45a1dbbdae37f",
    ),
    (
        3,
        200000,
        2,
        -2,
        183217,
        "8d5c74405bc7fbf85910a7fc7903c47d4ca7bbbfc1df69f98511c8e6aed90dea",
    ),
    (
        3,
        200000,
        2,
        -1,
        4289,
        "afabe56166362ac7308260f25aeb1305aa49f9a746e861372556793255ef281c",
    ),
    (
        3,
        200000,
        2,
        0,
        200043,
        "2cbfc6a25a8a28005f251298546c00d3d48014af1add575855a6cdbd269386dd",
    ),
    (
        3,
        200000,
        2,
        1,
        4533,
        "6af82d930c9d64e93d9f8a4e47c1753977616dae65a8ada24470dcf4a868f25d",
    ),
    (
        3,
        200000,
        2,
        2,
        4990,
        "d4ad72f34839569420e86c583814871e0348563ae15dbeb556717ffc562a2a11",
    ),
    (
        3,
        200000,
        2,
        3,
        4905,
        "bb5c1654979d9769a37a3623a99b3d9be8aea5c9e0ab50da960e9d698303b6a6",
    ),
    (
        3,
        200000,
        2,
        4,
        4337,
        "9351207aaa97ae9a1f6e1399ab0f5f5462b569a133c158e4bb3816b6be758b97",
    ),
    (
        3,
        200000,
        2,
        5,
        4348,
        "6f60a6860acff17615b84d58a0ad3d85c28b2339c54c764dc72530a9b9ef77db",
    ),
    (
        3,
        200000,
        2,
        6,
        4289,
        "afabe56166362ac7308260f25aeb1305aa49f9a746e861372556793255ef281c",
    ),
    (
        3,
        200000,
        2,
        7,
        4243,
        "7a5ed1aa8c8864e8b68f160624f9eb9d888f557e53bf06b26f117af45e0b1e7a",
    ),
    (
        3,
        200000,
        2,
        8,
        3872,
        "1933cb70517deabd00592b2cdc42fd49159d59632b19f4667f6fc2f7c9765497",
    ),
    (
        3,
        200000,
        2,
        9,
        3673,
        "ef205d495f8acd889e6811e684a2bbc62e76fad62e64df02db50b29594c4da27",
    ),
    (
        4,
        120000,
        3,
        -2,
        95749,
        "4bafb1d3d40b76040d922db73f8c3ade54590cd6724e0743c53c712c31a8fc7f",
    ),
    (
        4,
        120000,
        3,
        -1,
        11658,
        "bf181355c5d206f2e6a460cee489a5da3f66fcc7593da3a808464cdadb16c488",
    ),
    (
        4,
        120000,
        3,
        0,
        120033,
        "89c9b0433ff83eb8f6ba905be048ea48fb34545c7e6282e33233d4eee0103078",
    ),
    (
        4,
        120000,
        3,
        1,
        21067,
        "da7d5ca845e4f3962c27826a4a6455c8445c6539452524326e3a34d06b35d649",
    ),
    (
        4,
        120000,
        3,
        2,
        17490,
        "1b764cbaf9253c3c1159cf1aaad61b017a90129608428edd02e392704b950bf8",
    ),
    (
        4,
        120000,
        3,
        3,
        16447,
        "5fb210e8dabfba90813d23b10d57b48bd34c34d8a4bfa063d048d9a30f92349d",
    ),
    (
        4,
        120000,
        3,
        4,
        15306,
        "e7a635dca83e037eaaea2adcfc06cf70e1258cb4b94ced301cc9a0c51d8ce8bd",
    ),
    (
        4,
        120000,
        3,
        5,
        13555,
        "e48e61c926f60c503b7b2de6bcd9a610c2112b67054e0385b828adf407577d7e",
    ),
    (
        4,
        120000,
        3,
        6,
        11658,
        "bf181355c5d206f2e6a460cee489a5da3f66fcc7593da3a808464cdadb16c488",
    ),
    (
        4,
        120000,
        3,
        7,
        11150,
        "e042182286e11d43e382ddcec712120199b4009616a8e2c129c04cc5ed2a3052",
    ),
    (
        4,
        120000,
        3,
        8,
        10758,
        "10cc4962cf5a240716b04243f762537be767f039c3a26bf7e705ec480e131470",
    ),
    (
        4,
        120000,
        3,
        9,
        10758,
        "f460f78d51c4206749a86dd00ceef7e02b0e0d8c489368233aa65fbfa2ddadc1",
    ),
    (
        5,
        3000,
        0,
        -2,
        1763,
        "87bcc99d10d11c289e18d5e6bc84655c6f927f4fb3b5066be82123d046ae4764",
    ),
    (
        5,
        3000,
        0,
        -1,
        725,
        "afd3fad59f9824f357e63a6e91b270b6aa984b4ef17b3044143afb07df23b5b7",
    ),
    (
        5,
        3000,
        0,
        0,
        3028,
        "8f2ea675c7d822e1e01e564158edb070c99e940cf4b304793c75c95a29f5342d",
    ),
    (
        5,
        3000,
        0,
        1,
        854,
        "7b82806f8a539626851d85bb023abe28d81506dcd4efb5652131abc28195fd79",
    ),
    (
        5,
        3000,
        0,
        2,
        794,
        "a095bd36b6befc06e179d3bfc46f706fdb4b07d916114befcee77148c63f5190",
    ),
    (
        5,
        3000,
        0,
        3,
        769,
        "02eb6997237e1e8554b18819ce0b5db00ccba44ed058361b1e352b15d45d4b12",
    ),
    (
        5,
        3000,
        0,
        4,
        741,
        "81561567d8c782b9e4dae799f4141392be0167373a3b4828c4875e6ca2018f9d",
    ),
    (
        5,
        3000,
        0,
        5,
        725,
        "b845eddcefb493523ab956f744ea9020003348e0f31df5dafd77ba902558e752",
    ),
    (
        5,
        3000,
        0,
        6,
        725,
        "afd3fad59f9824f357e63a6e91b270b6aa984b4ef17b3044143afb07df23b5b7",
    ),
    (
        5,
        3000,
        0,
        7,
        725,
        "afd3fad59f9824f357e63a6e91b270b6aa984b4ef17b3044143afb07df23b5b7",
    ),
    (
        5,
        3000,
        0,
        8,
        725,
        "afd3fad59f9824f357e63a6e91b270b6aa984b4ef17b3044143afb07df23b5b7",
    ),
    (
        5,
        3000,
        0,
        9,
        725,
        "bb30f8c6b62b50da947697f311fa643bc08bd2d0e2fb2ef5d8ee8897bf97c01f",
    ),
    (
        6,
        70000,
        3,
        -2,
        55787,
        "5c4c7e4e92e818b51331e66ddedd31bd275232a31a9bbfab2043a567e5dc44d8",
    ),
    (
        6,
        70000,
        3,
        -1,
        5359,
        "7dcf9813e756d22864d502922be767d92b856c8ba421fa947b4376d7b4b739a2",
    ),
    (
        6,
        70000,
        3,
        0,
        70033,
        "57fbb3f71c27a4214a46ac424326746c50c2bef591732ad243484bf0ac5949cf",
    ),
    (
        6,
        70000,
        3,
        1,
        10081,
        "d9fc08eb7bc79759012172bd854c8a6b3ae0e652f6e438bd62e1cc1bbb16cc68",
    ),
    (
        6,
        70000,
        3,
        2,
        8451,
        "0200e9adcc2def14384d83dcc7548bb33f5afd2edc187f5c643697e7edf8e550",
    ),
    (
        6,
        70000,
        3,
        3,
        7896,
        "5014af01ae5f8e437a8c8c98c23f7073c190d90eb86d2c6b5d4154c1a699b151",
    ),
    (
        6,
        70000,
        3,
        4,
        7598,
        "8c2627fa7a39b9db32f4930089557fb687090b10f66008c8b2a058980769ba37",
    ),
    (
        6,
        70000,
        3,
        5,
        6656,
        "35dfd8ba178a3df6fa41712581a6fa1dffc126fdae302b47562a04761af258e5",
    ),
    (
        6,
        70000,
        3,
        6,
        5359,
        "7dcf9813e756d22864d502922be767d92b856c8ba421fa947b4376d7b4b739a2",
    ),
    (
        6,
        70000,
        3,
        7,
        5077,
        "e5b06ad06ab4b12f1375c299994632829928932fd5dc6220e13d649f9b451a9d",
    ),
    (
        6,
        70000,
        3,
        8,
        4899,
        "d9ec64c8675e6b0976a3eaea7dc34cad87ac40d85a2581f521d1e37fe7fe25a0",
    ),
    (
        6,
        70000,
        3,
        9,
        4899,
        "f85402ea915845a4694e7aa715037ab5c491a43423759c7604873c8fe234e797",
    ),
];

#[test]
fn long_inputs_match_go_at_every_level() {
    for &(seed, n, kind, level, len, sha) in LONG {
        let data = generate(seed, n, kind);
        let got = kiln_goflate::gzip(&data, level).unwrap();
        assert_eq!(
            (got.len(), hex(&Sha256::digest(&got))),
            (len, sha.to_string()),
            "input {seed}/{n}/{kind} at level {level}"
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&got[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(
            back == data,
            "input {seed}/{n}/{kind} at level {level} round-trips"
        );
    }
}

#[test]
fn bad_levels_are_refused() {
    for level in [-3, 10, i32::MIN, i32::MAX] {
        let e = kiln_goflate::GzWriter::new(Vec::new(), level)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!("flate: invalid compression level {level}: want value in range [-2, 9]")
        );
    }
}

/// (seed, length, kind, block size, length and SHA-256 of what klauspost/pgzip v1.2.6 over
/// klauspost/compress v1.18.6 wrote at the default level; `oracle/pgzip/main.go`)
const PGZIP: &[(u64, usize, u8, usize, usize, &str)] = &[
    (
        1,
        150000,
        0,
        16385,
        29807,
        "3ec11efac327a9d1eb6adbee3747d36d2ec5dbf8ca528878a92b9fac13091a56",
    ),
    (
        2,
        100000,
        1,
        20000,
        100075,
        "7b82e75b49812b68946b4362d5ea84be5363501b279fe061784b8d9e28da24dc",
    ),
    (
        3,
        1200000,
        2,
        500000,
        27505,
        "2db75f3aa0c9b25f11a571e4f1f45bb91088085e481c5b31b43db4b18a462da5",
    ),
    (
        4,
        1100000,
        3,
        500000,
        243648,
        "90da1cd74cb615fc26fd9e25c30679fad6a0c2a40646103eb1ea232fd46ae188",
    ),
    (
        5,
        3000,
        0,
        500000,
        763,
        "929b57e554669a808967f7932c0ca23df2a2390e9140a91b4b8e9afb1d235381",
    ),
    (
        6,
        70000,
        3,
        65536,
        7364,
        "637b5c3e658c2ff86acdc13f16c82c01b1802fa1af89d8bc7bdaf9eba5b37986",
    ),
    (
        7,
        0,
        0,
        500000,
        25,
        "56061a2727129d03575feb70ff7d610c6b1fdc7d35159ec124ab237823ee68bd",
    ),
    (
        8,
        40,
        0,
        500000,
        70,
        "ea62883f2ccbe38a9547d7b1153bb1eede45a1288f8bcb58c0dc4da2987b5b0e",
    ),
    (
        9,
        120,
        1,
        500000,
        150,
        "6c80aab05989d14cc47a59b78f51e1ce79280b270f1cc1e6cc8e0ceb1e57baff",
    ),
];

#[test]
fn pgzip_matches_go_whatever_the_threads() {
    for &(seed, n, kind, block, len, sha) in PGZIP {
        let data = generate(seed, n, kind);
        for threads in [1, 3] {
            let got = kiln_goflate::pgzip(&data, -1, block, threads).unwrap();
            assert_eq!(
                (got.len(), hex(&Sha256::digest(&got))),
                (len, sha.to_string()),
                "input {seed}/{n}/{kind} in blocks of {block}, {threads} threads"
            );
        }
    }
}

#[test]
fn pgzip_short_inputs_match_go() {
    // "hello": one stored block, the sync flush, the final fixed block; Go's zero-time MTIME.
    assert_eq!(
        hex(&kiln_goflate::pgzip(b"hello", -1, kiln_goflate::PACKER_BLOCK_SIZE, 2).unwrap()),
        "1f8b080000096e8800ff000500faff68656c6c6f000000ffff030086a6103605000000"
    );
}
