//! Any input, at any level, written in any pieces with or without sync flushes: no panic, and
//! the stream inflates back to the input (checked with flate2, an independent decoder).

use std::io::{Read, Write};

use proptest::prelude::*;

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..3000),
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(0u8)], 0..20000),
        (proptest::collection::vec(any::<u8>(), 1..40), 1usize..5000)
            .prop_map(|(unit, n)| unit.iter().copied().cycle().take(n).collect()),
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
