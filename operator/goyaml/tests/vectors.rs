//! Regression vectors: inputs and go-cty-yaml's events or error for each, as the Go oracle
//! (`oracle/main.go`, go-cty-yaml v1.0.1's parser) printed them. `oracle/compare.sh`
//! compares far more inputs and rewrites `vectors.txt`.

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn vectors_match_go_cty_yaml() {
    let text = include_str!("vectors.txt");
    let mut lines = text.lines();
    let (mut n, mut failed) = (0, 0);
    while let Some(line) = lines.next() {
        let Some(hex) = line.strip_prefix("IN ") else {
            continue;
        };
        let want: Vec<&str> = lines.by_ref().take_while(|l| *l != "END").collect();
        let input = unhex(hex);
        let got = kiln_goyaml::summary(&input);
        n += 1;
        if got != want {
            failed += 1;
            if failed <= 5 {
                eprintln!("input {:?}", String::from_utf8_lossy(&input));
                for (g, w) in got.iter().zip(&want).filter(|(g, w)| g != w).take(3) {
                    eprintln!("  got  {g}\n  want {w}");
                }
                eprintln!("  ({} lines, want {})", got.len(), want.len());
            }
        }
    }
    assert!(n > 500, "only {n} vectors");
    assert_eq!(failed, 0, "{failed} of {n} vectors differ");
}
