//! `goxz`: compresses stdin to stdout with [`kiln_goxz::XzWriter`]. With `gen NAME` it writes
//! the named test input instead, and `names` lists them (used by `oracle/compare.sh`).

use std::io::{self, BufWriter, Read, Write};

#[path = "../tests/common/gen.rs"]
mod gen_inputs;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    match args.first().map(String::as_str) {
        None => {
            let mut w = kiln_goxz::XzWriter::new(&mut out)?;
            let mut stdin = io::stdin().lock();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = stdin.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n])?;
            }
            w.finish()?.flush()?;
        }
        Some("names") => {
            for n in gen_inputs::NAMES {
                writeln!(out, "{n}")?;
            }
        }
        Some("gen") => {
            let name = args.get(1).map(String::as_str).unwrap_or("");
            let Some(data) = gen_inputs::generate(name) else {
                return Err(io::Error::other(format!("unknown input {name:?}")));
            };
            out.write_all(&data)?;
        }
        Some(other) => return Err(io::Error::other(format!("unknown mode {other:?}"))),
    }
    out.flush()
}
