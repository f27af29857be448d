//! Encodes a file like Packer's compress post-processor (32 KiB writes).
//! Usage: cargo run --release --example encode -- LEVEL IN OUT
use std::io::{Read, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: encode LEVEL IN OUT");
        std::process::exit(2);
    }
    let level: i32 = args[1].parse().expect("level");
    let mut input = std::fs::File::open(&args[2])?;
    let out = std::io::BufWriter::new(std::fs::File::create(&args[3])?);
    let mut w = kiln_gobzip2::Bzip2Writer::new(out, level).expect("level must be 1..=9");
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n])?;
    }
    w.finish()?.flush()
}
