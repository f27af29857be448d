//! The fuzz entry point, shared by `fuzz/` (cargo fuzz) and the regression test that replays
//! every input the fuzzer ever crashed on (`fuzz/regressions/`).

use std::path::PathBuf;

use crate::plan::{self, RunOptions};
use crate::session::{self, LoadOptions};

/// Loads `data` as a template (and as a var file value) and validates everything a
/// `kiln validate` would, without running anything. Must never panic.
pub fn load_eval(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::fmt::format(text, "fuzz.pkr.hcl");
    let opts = LoadOptions {
        inputs: crate::template::VarInputs::default(),
        evaluate_datasources: false,
    };
    let files = vec![(PathBuf::from("fuzz.pkr.hcl"), text.to_string())];
    let Ok((t, _)) = session::load_sources(PathBuf::from("/nonexistent-fuzz-root"), files, &opts)
    else {
        return;
    };
    if let Ok(instances) = t.instances() {
        let _ = plan::prepare(&t, instances, &RunOptions::default());
    }
    let _ = crate::template::variables::parse_expr_value(text, "fuzz");
}
