//! The fuzz entry point, shared by `fuzz/` (cargo fuzz) and the regression test that replays
//! every input the fuzzer ever crashed on (`fuzz/regressions/`).

use std::path::PathBuf;

use crate::plan::RunOptions;
use crate::session::{self, LoadOptions, Selection, TemplateSource};

/// Loads `data` as a template (and as a var file value) and validates everything a
/// `kiln validate` would, without running anything. Must never panic.
pub fn load_eval(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // hclsyntax's syntax errors (also behind fmt and the loader) never panic.
    let _ = crate::hcl::syntax_diag::config_errors(text, "fuzz.pkr.hcl");
    // fmt never panics, and formatting its own output changes nothing.
    if let Ok(once) = crate::fmt::format(text, "fuzz.pkr.hcl")
        && let Ok(twice) = crate::fmt::format(&once, "fuzz.pkr.hcl")
    {
        assert_eq!(twice, once, "fmt is not idempotent");
    }
    let source = TemplateSource::Files {
        root: PathBuf::from("/nonexistent-fuzz-root"),
        files: vec![(PathBuf::from("fuzz.pkr.hcl"), text.to_string())],
    };
    let Ok(s) = session::load(&source, &LoadOptions::default()) else {
        return;
    };
    if let Ok((instances, _)) = s.plan(&Selection::all()) {
        let _ = s.prepare(instances, &RunOptions::default());
    }
    let _ = crate::template::variables::parse_expr_value(text, "fuzz");
}

/// Feeds `data` to `verify-attestation`'s parsers (Go's JSON into Packer's types, base64,
/// PEM, DER keys and certificates). Must never panic.
pub fn attestation(data: &[u8]) {
    crate::attestation::parse_anything(data);
}
