//! Throughput of kiln-goflate against flate2 (zlib-rs/miniz) on 1 MiB inputs:
//!   cargo run --release -p kiln-goflate --example bench
//! Prints MB/s and output sizes for text-like and random data.

use std::io::Write;
use std::time::Instant;

fn text(n: usize) -> Vec<u8> {
    let words = [
        "build", "source", "image", "disk", "the", "of", "and", "packer", "kiln", "{", "}", "=",
        "variable", "locals", "qemu", "docker", "\n", "0", "1", "2", "3",
    ];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
        out.push(b' ');
    }
    out.truncate(n);
    out
}

fn random(n: usize) -> Vec<u8> {
    let mut x: u64 = 88172645463325252;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn time<F: FnMut() -> usize>(name: &str, len: usize, mut f: F) {
    let mut out = f();
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        out = f();
    }
    let secs = start.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{name:<44} {:>8.1} MB/s  {out:>9} bytes",
        len as f64 / secs / 1e6
    );
}

fn flate2_gzip(data: &[u8], level: u32) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap().len()
}

fn main() {
    const MIB: usize = 1 << 20;
    for (kind, data) in [("text", text(MIB)), ("random", random(MIB))] {
        for level in [1, 6, 9] {
            time(
                &format!("{kind} 1 MiB  goflate gzip level {level}"),
                data.len(),
                || kiln_goflate::gzip(&data, level).unwrap().len(),
            );
            time(
                &format!("{kind} 1 MiB  flate2 gzip level {level}"),
                data.len(),
                || flate2_gzip(&data, level as u32),
            );
        }
        for level in [1, -1, 9] {
            time(
                &format!("{kind} 1 MiB  goflate pgzip level {level} (1 thread)"),
                data.len(),
                || {
                    kiln_goflate::pgzip(&data, level, kiln_goflate::PACKER_BLOCK_SIZE, 1)
                        .unwrap()
                        .len()
                },
            );
        }
    }
    let big = text(16 * MIB);
    for threads in [1, 2] {
        time(
            &format!("text 16 MiB goflate pgzip ({threads} threads)"),
            big.len(),
            || {
                kiln_goflate::pgzip(&big, -1, kiln_goflate::PACKER_BLOCK_SIZE, threads)
                    .unwrap()
                    .len()
            },
        );
    }
    time("text 16 MiB flate2 gzip level 6", big.len(), || {
        flate2_gzip(&big, 6)
    });
}
