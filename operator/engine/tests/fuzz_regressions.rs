//! Replays every input the fuzzer crashed on (kept in `fuzz/regressions/`) plus the bundled
//! examples through the fuzz entry point: none may panic.

use std::path::Path;

#[test]
fn fuzz_regressions_do_not_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            kiln_engine::fuzzing::load_eval(&data);
            n += 1;
        }
    }
    assert!(n > 0, "the regression corpus is not empty");
}

#[test]
fn examples_go_through_the_fuzz_entry_point() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.to_string_lossy().ends_with(".pkr.hcl") {
                kiln_engine::fuzzing::load_eval(&std::fs::read(&f).unwrap());
            }
        }
    }
}
