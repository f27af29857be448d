//! Feeds arbitrary bytes through the whole template pipeline: parse, decode, variables,
//! locals (data sources unknown), build decoding, component preparation, and formatting.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kiln_engine::fuzzing::load_eval(data);
});
