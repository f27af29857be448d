//! Byte-for-byte comparison with ulikunitz/xz v0.5.15 (Go): the table holds, for each
//! generated input of `common/gen.rs`, the input size, and the size and SHA-256 of the `.xz`
//! that Go's `xz.NewWriter` + `io.Copy` + `Close` produced (regenerate with
//! `oracle/compare.sh`, which also checks that xz-utils decompresses every output).

#[path = "common/gen.rs"]
mod gen_inputs;

use std::io::Write;

use sha2::{Digest, Sha256};

/// (name, input size, Go output size, SHA-256 of Go's output)
const VECTORS: &[(&str, usize, usize, &str)] = &[
    (
        "empty",
        0,
        56,
        "1c186d9838382d626afe58507d25289da06a84f598b1269daf9ace381d6d873c",
    ),
    (
        "one",
        1,
        60,
        "51f11c46f45d0bbd6a79bc56239a2a5d4e8cd6a3bb91b65a9d2b57b83313ff61",
    ),
    (
        "hello",
        5,
        64,
        "9f73652c48585bc028e2efc4ec03ea67d739ee5d67d809f3f616bf5d73bf5ba4",
    ),
    (
        "small_text",
        446,
        336,
        "bf1244987ebc72108f4eb9cd30fb730b025bbe3b1bc8da1170f91055bb4c887c",
    ),
    (
        "text_271",
        271,
        260,
        "afdec2a49da304f6d03d9da0df341f1bbdd6c2c50d33ee4ca41f907e687a3c1d",
    ),
    (
        "text_272",
        272,
        264,
        "6c6da296fb7c4194e4d247291d860e1df954891c7a2cc4604bedff4476a9e16a",
    ),
    (
        "text_273",
        273,
        256,
        "c2f75aff71a023d4511c909ec592bffe42d9587fa1a7897cb93ed9c0fd1dc485",
    ),
    (
        "text_274",
        274,
        264,
        "e211665b615fa9ef9913a07dd29c5932f14ddaf35ad8384380ee5ccd3fefa099",
    ),
    (
        "text_4096",
        4096,
        1772,
        "a24167093d5c179ad34d5e743ffd7abd2702d0ad7764f649590740c196820edf",
    ),
    (
        "text_4369",
        4369,
        1884,
        "c7819b1643af208e6aee887f5bcdbe7a5d5634053d4bf030e63a79f4c1ab89eb",
    ),
    (
        "text_4370",
        4370,
        1916,
        "b01dcf9a239d0174a541e6e2ea980ee306818d8ba5d206a838e18251d5fb8857",
    ),
    (
        "text_64k",
        65536,
        22624,
        "ed01582c9ea17b3500f19268ea0c81355d7cf9254593e9c67d31c4ba881dea9a",
    ),
    (
        "random_100k",
        100000,
        100064,
        "cdd9f487fbf525f3318a8731cd9a3e27d8f481edda9798f764f1924604a6a973",
    ),
    (
        "zeros_1m",
        1048576,
        284,
        "d4b8d7ffff1a03cffd5ed6e955ae14ad91dda417d5a0d315cfe7e71f853a3885",
    ),
    (
        "runs_1m",
        1048576,
        9676,
        "52b31c534040d6f8ff8da990375941f3271320716ce2d6987f3b8680cf695cb5",
    ),
    (
        "periodic_1m",
        1048576,
        74080,
        "9942d0edd16af5191cf9e26f3f09af201a07f3818cb8328038a050130bf6417e",
    ),
    (
        "records_1m",
        1048576,
        271216,
        "6527580c98e2696de4fcf7233ee68a65a4fa9bcf572041945e27ddda3f604aa1",
    ),
    (
        "text_1m",
        1048576,
        352144,
        "cc871f67bc1b8e3f967b50bcd8264354f26e461488fd079790b4b81e9f01e5ab",
    ),
    (
        "mixed_1m",
        1048576,
        324536,
        "c364bb69ec82ec32ec502c91a11088f2c7596a30b321b39500419d56abfc647b",
    ),
    (
        "random_3m",
        3145728,
        3145936,
        "78214a11f6c98f8680d3cd7d2d596b623ce4c93cb1e3ac59b9a769157ca34cd1",
    ),
    (
        "text_2m_exact",
        2097152,
        703620,
        "9ed587e74826dcdad8f4c6afbf30b54c57888d6c8118d2a55499b5ea4685ab2b",
    ),
    (
        "text_2m_plus1",
        2097153,
        703808,
        "b3fe278a917fd3b838339472b2cfd81f13a34b2daed71e829b1087038446355b",
    ),
    (
        "zeros_2m_plus1",
        2097153,
        436,
        "5f9dca553bac5cb5d0f485be6e72d7a684a9664ac305f6becaea6d1b4649d388",
    ),
    (
        "random_text_5m",
        5255225,
        3165416,
        "2fe18fe0041d62d7dc581a82bdc0d5cdb14ac83a2e2626fa07c75d1378ffe474",
    ),
    (
        "image_6m",
        6291456,
        805396,
        "f0de1e69161ec4b05eb6207cdcaaa9ea16da2d16e445171fe657d254881cb80e",
    ),
    (
        "text_dictbuf",
        8392705,
        2815756,
        "acd7e49c9d7f0179f8c0c5e57da420e67030f256b6f6db4a8565f10faec8b306",
    ),
    (
        "text_12m",
        12582912,
        4223748,
        "6efe6b67a59de185d9085fb661226ddecbb91a6c5506e4a8dd6d00b429e3c811",
    ),
    (
        "zeros_20m",
        20971520,
        3200,
        "b564c06299223165e0a0fdbe774c8af75127776c11b1e5606cdaa53ce9ce00bd",
    ),
    (
        "mixed_20m",
        20971520,
        7110540,
        "7fd468d85c7574be5994f862849728370b3936922d6530798560035bc09d0689",
    ),
    (
        "repeat_4m_x3",
        12582912,
        4200596,
        "21261077c722481a9634262cc8e49cf23d70a8e39adec06623035f8fd6d02538",
    ),
    (
        "repeat_9m_x2",
        18874368,
        18875308,
        "141e55b6c9af2c6611e6bad5cb5129f5aef3206afecfb63ce1ecc3ad793a12f5",
    ),
    (
        "runs_wrap_18m",
        18874368,
        297256,
        "08365a5cc6a98ab93138538b4af06b517974afee21e75d27a5fac5ab4400c13f",
    ),
    (
        "image_24m",
        25165824,
        4849204,
        "fca8a73a677c1eaf7c3a51ea6696291dedd1199f0e01f9dc2e5913e745b79ca4",
    ),
    (
        "rand:1",
        8519,
        7896,
        "4a162c223ead723e5109b4ca0142f4c5b01c882207b6516146528d5f3191c202",
    ),
    (
        "rand:2",
        160226,
        100540,
        "725867f3fe7622d3db9a62e3d6cca116c681c7d75c7d4020dd490470979ac285",
    ),
    (
        "rand:3",
        11561,
        10516,
        "a4600420afa132dae9a171897cc9d043f26dd49e8da89a6993593d3b0e3969e2",
    ),
    (
        "rand:4",
        36304,
        14868,
        "36b1325e51610c519cdb321f78605f26b449f6a2a16400dbcb57ad0f38005300",
    ),
    (
        "rand:5",
        176344,
        30032,
        "353190bcbaa7300b934740b01ea7f408c3af0b83e1889e90db37ef9e5b90ea5c",
    ),
    (
        "rand:6",
        233,
        236,
        "ab52e441c057dd6a6833adeb26d213e9cc7f2777090670659d141b414dc65066",
    ),
    (
        "rand:7",
        2909724,
        389032,
        "59b3811bf4afa2ee8317140d27f7aed1cb9f406d6e5d167e8ad3c422382f5c52",
    ),
    (
        "rand:8",
        154817,
        2140,
        "7602b2205be3919883872ff13c8411b96dd01a6478842c43382fd0e586cf321b",
    ),
    (
        "rand:9",
        106,
        144,
        "5a73e21edc02cd8a07c886a87aeafa9f308b4188ef74f3359f5c55a79bf8eb6b",
    ),
    (
        "rand:10",
        211814,
        33312,
        "0962374e5d1815c65660c155c1dd09c1b81f5f06b92d1b755008011a3b457845",
    ),
    (
        "rand:11",
        4545,
        2456,
        "fe79f5f4a7ee758e7925bd0701083f3f93626a1842950445f48811c627092fea",
    ),
    (
        "rand:12",
        2663511,
        347516,
        "69e2793dfee5af67a3705af396ca7d2e077112eb14e8534bbbe511f0335aa989",
    ),
    (
        "rand:13",
        434289,
        271852,
        "c9eed8d7c83c2b865c2a4263c118bbccefe76d675f65749fc965ad57fd6ff0b1",
    ),
    (
        "rand:14",
        19194,
        17628,
        "2dbbf0bd0be4ceb53e8201726a2a333f2936a880e5215215b159959b45e1a846",
    ),
    (
        "rand:15",
        4496,
        4556,
        "6206bbba3ca9bdee9bafd899baa40b7372370b7d2d5269a981e0f45d008725d7",
    ),
    (
        "rand:16",
        1401931,
        337460,
        "b78267c533ce6b2e03bc484d96f2cd6184b71906f344a1ea9bd3fd0a2ba6576c",
    ),
    (
        "rand:17",
        585169,
        116128,
        "2f9e61875219e660c357272818826832cb8bddc3a5bebc6bf8b40dea2902dcbf",
    ),
    (
        "rand:18",
        286488,
        133696,
        "ec6103db98b6432da0259f9524fb7907a9cb81c90f43a1cadc642f08e6bd7a0f",
    ),
    (
        "rand:19",
        170,
        132,
        "a28020cbab2b311b707a4d6aea411cdd2394372e2c2d979d005041d7d13bc081",
    ),
    (
        "rand:20",
        257,
        176,
        "97c78a6af2b8a56184700b8086ec615ab10bdef0243ed697d99d3a7a989aa016",
    ),
    (
        "rand:21",
        2020799,
        689892,
        "c2dee04d37d8ed9a80717cc04cac6937bd823e32c80b3b96fd86a49d08a60a88",
    ),
    (
        "rand:22",
        16686,
        1236,
        "844f962815f14c607390e4ba016c6a50042b7d0896f6391c4035aaa24c85f949",
    ),
    (
        "rand:23",
        42679,
        12248,
        "0205384027973e612ccdc5089e1267376f6b44c90d892e560f194e9de156983e",
    ),
    (
        "rand:24",
        175,
        184,
        "0c04c3f4eab27521cadd7973338444f195d7b84d3adaba9c9c7d050d5b336fdd",
    ),
];

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn decompress(xz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut d = liblzma::read::XzDecoder::new(xz);
    std::io::Read::read_to_end(&mut d, &mut out).expect("liblzma decodes the output");
    out
}

/// Compresses with writes of varying sizes (the output must not depend on them).
fn compress_in_pieces(data: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = gen_inputs::Rng::new(seed);
    let mut w = kiln_goxz::XzWriter::new(Vec::new()).unwrap();
    let mut i = 0;
    while i < data.len() {
        let k = match rng.below(4) {
            0 => 1 + rng.below(16) as usize,
            1 => 1 + rng.below(5000) as usize,
            2 => 1 + rng.below(300_000) as usize,
            _ => 1 + rng.below(3 << 20) as usize,
        };
        let k = k.min(data.len() - i);
        w.write_all(&data[i..i + k]).unwrap();
        i += k;
    }
    w.finish().unwrap()
}

fn check(name: &str) {
    let &(_, in_len, out_len, digest) = VECTORS
        .iter()
        .find(|v| v.0 == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let data = gen_inputs::generate(name).unwrap();
    assert_eq!(data.len(), in_len, "{name}: input size");
    let out = kiln_goxz::compress(&data).unwrap();
    assert_eq!(out.len(), out_len, "{name}: output size");
    assert_eq!(hex(&Sha256::digest(&out)), digest, "{name}: output digest");
    assert!(decompress(&out) == data, "{name}: roundtrip");
    if data.len() <= (3 << 20) {
        assert!(
            compress_in_pieces(&data, in_len as u64) == out,
            "{name}: split writes"
        );
    }
}

fn check_all(filter: impl Fn(usize) -> bool) {
    for &(name, in_len, _, _) in VECTORS {
        if filter(in_len) {
            check(name);
        }
    }
}

#[test]
fn table_covers_every_input() {
    let names: Vec<&str> = VECTORS.iter().map(|v| v.0).collect();
    assert_eq!(names, gen_inputs::NAMES);
}

#[test]
fn go_vectors_small() {
    check_all(|n| n <= (1 << 20));
}

#[test]
fn go_vectors_medium() {
    check_all(|n| n > (1 << 20) && n <= (8 << 20));
}

// The inputs beyond the 8 MiB dictionary (buffer wrap-around, chains that age out), one test
// each so that they run in parallel.
#[test]
fn go_vector_text_dictbuf() {
    check("text_dictbuf");
}

#[test]
fn go_vector_text_12m() {
    check("text_12m");
}

#[test]
fn go_vector_zeros_20m() {
    check("zeros_20m");
}

#[test]
fn go_vector_mixed_20m() {
    check("mixed_20m");
}

#[test]
fn go_vector_repeat_4m_x3() {
    check("repeat_4m_x3");
}

#[test]
fn go_vector_repeat_9m_x2() {
    check("repeat_9m_x2");
}

#[test]
fn go_vector_runs_wrap_18m() {
    check("runs_wrap_18m");
}

#[test]
fn go_vector_image_24m() {
    check("image_24m");
}

/// xz-utils' own `xz -t` accepts the output (xz-utils is part of every Debian system;
/// without it the test fails).
#[test]
fn xz_utils_accepts_output() {
    let mut child = std::process::Command::new("xz")
        .args(["-t", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("xz-utils' `xz` must be installed (apt-get install xz-utils)");
    let data = gen_inputs::generate("mixed_1m").unwrap();
    let out = kiln_goxz::compress(&data).unwrap();
    child.stdin.take().unwrap().write_all(&out).unwrap();
    assert!(child.wait().unwrap().success());
}

/// Many small random inputs of mixed kinds decode back (no Go oracle here; no panics).
#[test]
fn roundtrip_small_random() {
    let mut rng = gen_inputs::Rng::new(42);
    for _ in 0..300 {
        let n = rng.below(20_000) as usize;
        let data = match rng.below(5) {
            0 => gen_inputs::random(&mut rng, n),
            1 => gen_inputs::text(&mut rng, n),
            2 => {
                let max_run = 1 + rng.below(400);
                gen_inputs::runs(&mut rng, n, max_run)
            }
            3 => gen_inputs::periodic(&mut rng, n),
            _ => gen_inputs::mixed(&mut rng, n),
        };
        let out = kiln_goxz::compress(&data).unwrap();
        assert!(decompress(&out) == data);
    }
}
