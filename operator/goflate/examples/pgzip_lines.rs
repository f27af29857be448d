//! The Rust side of `oracle/compare.sh pgzip`: reads `LEVEL BLOCKSIZE CHUNK HEXDATA` lines
//! and prints the hex of the pgzip stream kiln-goflate writes (see `oracle/pgzip/main.go`).

use std::io::{BufRead, BufWriter, Write};

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run(line: &str) -> Result<String, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 3 && f.len() != 4 {
        return Err("bad line".into());
    }
    let level: i32 = f[0].parse().map_err(|e| format!("{e}"))?;
    let block: usize = f[1].parse().map_err(|e| format!("{e}"))?;
    let chunk: i64 = f[2].parse().map_err(|e| format!("{e}"))?;
    let mut data: &[u8] = &unhex(f.get(3).copied().unwrap_or("")).ok_or("bad hex")?;
    let mut w = kiln_goflate::PgzipWriter::new(Vec::new(), level, block, 3)
        .ok_or_else(|| format!("level {level} is not ported"))?;
    let chunk = if chunk <= 0 {
        data.len() + 1
    } else {
        chunk as usize
    };
    while !data.is_empty() {
        let n = chunk.min(data.len());
        w.write_all(&data[..n]).map_err(|e| e.to_string())?;
        data = &data[n..];
    }
    Ok(hex(&w.finish().map_err(|e| e.to_string())?))
}

fn main() {
    let stdin = std::io::stdin();
    let mut out = BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        if line.is_empty() {
            continue;
        }
        let s = run(&line).unwrap_or_else(|e| format!("error: {e}"));
        writeln!(out, "{s}").expect("stdout");
    }
}
