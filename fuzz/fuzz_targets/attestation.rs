//! Feeds arbitrary bytes to `verify-attestation`'s parsers: Go's JSON into Packer's envelope
//! and statement types, Go's base64, PEM, DER public keys, private keys and certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kiln_engine::fuzzing::attestation(data);
});
