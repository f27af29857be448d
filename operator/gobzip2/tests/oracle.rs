//! Byte-for-byte comparison with the Go implementation.
//!
//! * `vectors`: compares against Go outputs committed under tests/vectors/
//!   (`NAME.in` input, `NAME.L.bz2` Go output at level L). Runs without Go.
//! * `go_oracle`: runs only when `GOBZIP2_ORACLE` names the Go oracle binary
//!   (see scripts/compare-with-go.sh); compares all small and large cases at
//!   levels 1, 5 and 9 (plus some chunked-write patterns). With
//!   `GOBZIP2_WRITE_VECTORS=1` it (re)writes tests/vectors/ for the small cases.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

#[test]
fn vectors() {
    let dir = vectors_dir();
    let mut checked = 0;
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        if p.extension().and_then(|e| e.to_str()) != Some("in") {
            continue;
        }
        let input = fs::read(&p).unwrap();
        let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
        for level in 1..=9 {
            let exp_path = dir.join(format!("{stem}.{level}.bz2"));
            if let Ok(expected) = fs::read(&exp_path) {
                let got = encode(&input, level);
                assert!(
                    got == expected,
                    "{stem} level {level}: differs from Go output"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no test vectors found");
    eprintln!("vectors: {checked} outputs identical to Go");
}

#[test]
fn write_pattern_does_not_matter() {
    for (name, data) in small_cases()
        .into_iter()
        .chain(large_cases().into_iter().filter(|(n, _)| {
            [
                "random-100000",
                "random-100001",
                "boundary-run",
                "boundary-run2",
                "runs-mixed-1M",
            ]
            .contains(n)
        }))
    {
        let a = encode(&data, 1);
        for chunks in [&[1usize][..], &[512, 32768], &[7, 100_003], &[usize::MAX]] {
            if chunks == [1] && data.len() > 200_000 {
                continue;
            }
            assert!(encode_chunked(&data, 1, chunks) == a, "{name} {chunks:?}");
        }
    }
}

fn run_go(oracle: &str, level: i32, input: &Path, out: &Path, chunks: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new(oracle);
    cmd.arg(level.to_string()).arg(input).arg(out);
    if let Some(c) = chunks {
        cmd.arg(c);
    }
    let st = cmd.status().expect("run oracle");
    assert!(st.success(), "oracle failed");
    fs::read(out).unwrap()
}

/// Needs the Go oracle (`scripts/compare-with-go.sh` builds it and runs this test).
#[test]
#[ignore = "needs Go: run scripts/compare-with-go.sh"]
fn go_oracle() {
    let oracle = std::env::var("GOBZIP2_ORACLE")
        .expect("GOBZIP2_ORACLE names the Go oracle binary (scripts/compare-with-go.sh)");
    let write_vectors = std::env::var("GOBZIP2_WRITE_VECTORS").is_ok_and(|v| v == "1");
    let tmp = std::env::temp_dir().join(format!("gobzip2-oracle-{}", std::process::id()));
    fs::create_dir_all(&tmp).unwrap();

    let small = small_cases();
    let n_small = small.len();
    let mut total = 0;
    let mut failures = Vec::new();
    for (idx, (name, data)) in small.into_iter().chain(large_cases()).enumerate() {
        let inp = tmp.join(format!("{name}.in"));
        fs::write(&inp, &data).unwrap();
        for &level in LEVELS {
            let out = tmp.join(format!("{name}.{level}.bz2"));
            let t0 = std::time::Instant::now();
            let want = run_go(&oracle, level, &inp, &out, None);
            let tg = t0.elapsed();
            let t1 = std::time::Instant::now();
            let got = encode(&data, level);
            let tr = t1.elapsed();
            total += 1;
            let same = got == want;
            eprintln!(
                "{:<16} L{level} in={:>8} out={:>8} go={:>6.0?} rust={:>6.0?} {}",
                name,
                data.len(),
                want.len(),
                tg,
                tr,
                if same { "identical" } else { "DIFFERENT" }
            );
            if !same {
                let pos = got.iter().zip(&want).position(|(a, b)| a != b);
                failures.push(format!(
                    "{name} L{level} (first diff at {pos:?}, len {} vs {})",
                    got.len(),
                    want.len()
                ));
            }
            if write_vectors && idx < n_small {
                fs::write(vectors_dir().join(format!("{name}.in")), &data).unwrap();
                fs::write(vectors_dir().join(format!("{name}.{level}.bz2")), &want).unwrap();
            }
        }
    }
    // Different write patterns on the Go side (tar-like 512/32K, odd sizes).
    for (name, data) in large_cases()
        .into_iter()
        .filter(|(n, _)| ["tar-like", "boundary-run", "random-100001"].contains(n))
    {
        let inp = tmp.join(format!("{name}.in"));
        fs::write(&inp, &data).unwrap();
        for chunks in ["512,32768", "1,7,100003", "512"] {
            let out = tmp.join(format!("{name}.chunked.bz2"));
            let want = run_go(&oracle, 1, &inp, &out, Some(chunks));
            let sizes: Vec<usize> = chunks.split(',').map(|s| s.parse().unwrap()).collect();
            let got = encode_chunked(&data, 1, &sizes);
            total += 1;
            let same = got == want;
            eprintln!(
                "{name:<16} L1 chunks={chunks} {}",
                if same { "identical" } else { "DIFFERENT" }
            );
            if !same {
                failures.push(format!("{name} L1 chunks={chunks}"));
            }
        }
    }
    let _ = fs::remove_dir_all(&tmp);
    eprintln!("go_oracle: {}/{} identical", total - failures.len(), total);
    assert!(failures.is_empty(), "differences: {failures:#?}");
}
