//! Any input, at any level, written in any pieces with or without sync flushes: no panic, and
//! the stream inflates back to the input (checked with flate2, an independent decoder).

use std::io::{Read, Write};

use proptest::prelude::*;

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..3000),
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 0..20000),
        (proptest::collection::vec(any::<u8>(), 1..40), 1usize..5000).prop_map(|(unit, n)| unit
            .iter()
            .copied()
            .cycle()
            .take(n)
            .collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trips(
        data in input(),
        level in -2i32..=9,
        chunks in proptest::collection::vec(1usize..5000, 1..6),
        flush in any::<bool>(),
    ) {
        let mut w = kiln_goflate::GzWriter::new(Vec::new(), level).unwrap();
        let mut rest = &data[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = chunks[i % chunks.len()].min(rest.len());
            w.write_all(&rest[..n]).unwrap();
            rest = &rest[n..];
            if flush {
                w.flush().unwrap();
            }
            i += 1;
        }
        let gz = w.finish().unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        prop_assert!(back == data);

        let raw = kiln_goflate::deflate(&data, level).unwrap();
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&raw[..]).read_to_end(&mut back).unwrap();
        prop_assert!(back == data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// pgzip in small blocks (so that inputs span several, each with its dictionary): no
    /// panic, the stream inflates back, and the bytes do not depend on the thread count or
    /// on how the input was cut into writes.
    #[test]
    fn pgzip_round_trips(
        data in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..60000),
            (proptest::collection::vec(any::<u8>(), 1..40), 1usize..90000)
                .prop_map(|(unit, n)| unit.iter().copied().cycle().take(n).collect()),
            proptest::collection::vec(prop_oneof![Just(b'x'), Just(b'y'), Just(b'\n')], 0..90000),
        ],
        level in -2i32..=9,
        block in 16385usize..40000,
        chunk in 1usize..70000,
        threads in 1usize..4,
    ) {
        let one = kiln_goflate::pgzip(&data, level, block, 1).unwrap();
        let mut w = kiln_goflate::PgzipWriter::new(Vec::new(), level, block, threads).unwrap();
        for piece in data.chunks(chunk) {
            w.write_all(piece).unwrap();
        }
        let gz = w.finish().unwrap();
        prop_assert!(gz == one);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        prop_assert!(back == data);
    }
}
