//! Prints the oracle's lines (`oracle/main.go ev`) for each hex-encoded document read from
//! stdin, one a line: `DOC n`, then one line per event and `OK`, or `ERR …` and `MSG …`.
use std::io::{BufRead, Write};

fn unhex(s: &str) -> Vec<u8> {
    let b = s.trim().as_bytes();
    let v = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    b.chunks(2)
        .map(|p| (v(p[0]) << 4) | v(*p.get(1).unwrap_or(&b'0')))
        .collect()
}

fn main() {
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let src = unhex(&line.expect("stdin"));
        writeln!(out, "DOC {n}").ok();
        for l in kiln_goyaml::summary(&src) {
            writeln!(out, "{l}").ok();
        }
    }
}
