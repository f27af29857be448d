#![allow(dead_code)]

use std::io::Write;

use kiln_gobzip2::Bzip2Writer;

/// Encodes `data` with 32 KiB writes (what Go's io.Copy does).
pub fn encode(data: &[u8], level: i32) -> Vec<u8> {
    encode_chunked(data, level, &[32 * 1024])
}

/// Encodes `data`, cycling through `chunks` as write sizes.
pub fn encode_chunked(data: &[u8], level: i32, chunks: &[usize]) -> Vec<u8> {
    let mut w = Bzip2Writer::new(Vec::new(), level).expect("level");
    let mut rest = data;
    let mut k = 0;
    while !rest.is_empty() {
        let n = chunks[k % chunks.len()].min(rest.len());
        let got = w.write(&rest[..n]).unwrap();
        assert_eq!(got, n);
        rest = &rest[n..];
        k += 1;
    }
    w.finish().unwrap()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    (0..n).map(|_| (r.next() >> 56) as u8).collect()
}

/// Random bytes with no two equal neighbours and never the byte 7,
/// so RLE1 output length equals input length.
fn norun(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut v: Vec<u8> = Vec::with_capacity(n);
    while v.len() < n {
        let b = (r.next() >> 56) as u8;
        if b != 7 && v.last() != Some(&b) {
            v.push(b);
        }
    }
    v
}

/// `prefix` run-free bytes, then `run` copies of 7, then a tail.
fn at_boundary(prefix: usize, run: usize, seed: u64) -> Vec<u8> {
    let mut v = norun(prefix, seed);
    v.extend(std::iter::repeat_n(7u8, run));
    v.extend(norun(1000, seed + 1));
    v
}

fn runs(lens: &[usize], total: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut v = Vec::with_capacity(total);
    let mut k = 0;
    let mut prev = 0u8;
    while v.len() < total {
        let mut b = (r.next() >> 56) as u8;
        if b == prev {
            b = b.wrapping_add(1);
        }
        prev = b;
        let len = lens[k % lens.len()];
        v.extend(std::iter::repeat_n(b, len));
        k += 1;
    }
    v.truncate(total);
    v
}

const WORDS: &[&str] = &[
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "packer",
    "builder",
    "image",
    "artifact",
    "compress",
    "bzip2",
    "post-processor",
    "vagrant",
    "box",
    "template",
    "variable",
    "provisioner",
    "shell",
    "file",
    "iso",
    "checksum",
    "sha256",
    "\n",
    ", ",
    ". ",
    "0",
    "42",
];

fn text(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut v = Vec::with_capacity(n + 32);
    while v.len() < n {
        let w = WORDS[(r.next() % WORDS.len() as u64) as usize];
        v.extend_from_slice(w.as_bytes());
        v.push(b' ');
    }
    v.truncate(n);
    v
}

fn repetitive(n: usize) -> Vec<u8> {
    let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n";
    line.iter().copied().cycle().take(n).collect()
}

/// Byte values with a geometric distribution (very skewed Huffman trees,
/// exercising the 20-bit length limiter), plus every byte value once.
fn geometric(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let mut v: Vec<u8> = (0..n)
        .map(|_| r.next().trailing_zeros().min(255) as u8)
        .collect();
    v.extend(0..=255u8);
    v
}

/// Tar-like: 512-byte headers, data, zero padding, two zero blocks.
fn tar_like(seed: u64) -> Vec<u8> {
    let mut v = Vec::new();
    for (i, size) in [1000usize, 70_000, 0, 513, 250_000].iter().enumerate() {
        let mut hdr = vec![0u8; 512];
        let name = format!("file-{i}.txt");
        hdr[..name.len()].copy_from_slice(name.as_bytes());
        hdr[124..135].copy_from_slice(format!("{:011o}", size).as_bytes());
        v.extend_from_slice(&hdr);
        v.extend_from_slice(&text(*size, seed + i as u64));
        let pad = (512 - size % 512) % 512;
        v.extend(std::iter::repeat_n(0u8, pad));
    }
    v.extend(std::iter::repeat_n(0u8, 1024));
    v
}

/// Small cases: stored as test vectors (inputs and Go outputs).
pub fn small_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", vec![]),
        ("one-byte-a", b"a".to_vec()),
        ("one-byte-0", vec![0]),
        ("hello", b"hello, world\n".to_vec()),
        ("short-text", text(2000, 1)),
        ("zeros-4k", vec![0; 4096]),
        ("runs-3", runs(&[3], 3000, 2)),
        ("runs-4", runs(&[4], 3000, 3)),
        ("runs-5", runs(&[5], 3000, 4)),
        ("runs-255", runs(&[255], 6000, 5)),
        ("runs-256", runs(&[256], 6000, 6)),
        (
            "runs-mixed",
            runs(
                &[
                    1, 2, 3, 4, 5, 6, 254, 255, 256, 257, 258, 259, 260, 511, 512,
                ],
                20_000,
                7,
            ),
        ),
        ("all-bytes", (0..=255u8).collect()),
        (
            "period-ab",
            b"ab".iter().copied().cycle().take(1001).collect(),
        ),
        (
            "period-abc",
            b"abcabcabd".iter().copied().cycle().take(5000).collect(),
        ),
        ("random-10k", random(10_000, 8)),
        ("geometric-20k", geometric(20_000, 9)),
    ]
}

/// Large cases: compared against Go only when the oracle is available.
pub fn large_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("zeros-1MiB", vec![0; 1 << 20]),
        ("ones-1MiB", vec![0xff; 1 << 20]),
        (
            "runs-mixed-1M",
            runs(
                &[
                    1, 2, 3, 4, 5, 6, 254, 255, 256, 257, 258, 259, 260, 511, 512,
                ],
                1_000_000,
                10,
            ),
        ),
        ("runs-4-1M", runs(&[4], 1_000_000, 11)),
        ("random-300k", random(300_000, 12)),
        ("random-1M", random(1_000_000, 13)),
        ("random-100000", random(100_000, 14)),
        ("random-99999", random(99_999, 15)),
        ("random-100001", random(100_001, 16)),
        ("boundary-run", {
            let mut v = random(99_998, 17);
            v.extend(std::iter::repeat_n(0u8, 300));
            v.extend(random(50_000, 18));
            v
        }),
        ("boundary-run2", {
            let mut v = random(99_997, 19);
            v.extend(std::iter::repeat_n(7u8, 5));
            v.extend(random(10, 20));
            v
        }),
        // Level-1 buffer is 100000 bytes: exercise every RLE1 cut rule.
        ("cut-lt4", at_boundary(99_998, 3, 30)),
        ("cut-eq4-one-free", at_boundary(99_996, 5, 31)),
        ("cut-eq4-none-free", at_boundary(99_997, 5, 32)),
        ("cut-extend-full", at_boundary(99_995, 300, 33)),
        ("cut-extend-255", at_boundary(99_995, 259, 34)),
        ("cut-exact-fill", at_boundary(99_995, 4, 35)),
        ("cut-500k", at_boundary(499_995, 600, 36)),
        ("cut-900k", at_boundary(899_996, 600, 37)),
        ("text-100k", text(100_000, 21)),
        ("text-1M", text(1_000_000, 22)),
        ("repetitive-100k", repetitive(100_000)),
        ("repetitive-3M", repetitive(3_000_000)),
        (
            "period-ab-2M",
            b"ab".iter().copied().cycle().take(2_000_000).collect(),
        ),
        ("geometric-1M", geometric(1_000_000, 23)),
        ("tar-like", tar_like(24)),
    ]
}

pub const LEVELS: &[i32] = &[1, 5, 9];
