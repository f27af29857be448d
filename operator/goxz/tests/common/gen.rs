//! Deterministic test inputs, shared by `tests/vectors.rs` and `examples/goxz.rs` (which
//! writes them out for the Go oracle, see `oracle/compare.sh`).

// Each user (test crate, example) uses a different part.
#![allow(dead_code)]

/// SplitMix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), up to a negligible bias.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn fill(&mut self, out: &mut Vec<u8>, n: usize) {
        let mut left = n;
        while left > 0 {
            let v = self.next_u64().to_le_bytes();
            let k = left.min(8);
            out.extend_from_slice(&v[..k]);
            left -= k;
        }
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "packer",
    "build",
    "image",
    "source",
    "provisioner",
    "artifact",
    "compress",
    "kiln",
    "template",
    "variable",
    "builder",
    "shell",
    "inline",
    "script",
    "upload",
    "checksum",
    "manifest",
    "kubernetes",
    "operator",
    "dictionary",
    "compression",
    "repetition",
    "distance",
    "literal",
    "encoder",
    "stream",
    "buffer",
    "window",
    "machine",
    "virtual",
    "disk",
];

/// Word-salad text with a skewed word distribution, punctuation and line breaks.
pub fn text(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut col = 0;
    while out.len() < n {
        let a = rng.below(WORDS.len() as u64);
        let b = rng.below(WORDS.len() as u64);
        let w = WORDS[(a * b / WORDS.len() as u64) as usize];
        let cap = rng.below(12) == 0;
        for (i, c) in w.bytes().enumerate() {
            out.push(if cap && i == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        col += w.len() + 1;
        match rng.below(20) {
            0 => out.extend_from_slice(b", "),
            1 => out.extend_from_slice(b". "),
            2 => out.push(b' '),
            _ => out.push(b' '),
        }
        if col > 72 {
            out.push(b'\n');
            col = 0;
        }
        if rng.below(400) == 0 {
            let num = rng.next_u64() % 100_000;
            out.extend_from_slice(format!("{num} ").as_bytes());
        }
    }
    out.truncate(n);
    out
}

pub fn random(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    rng.fill(&mut out, n);
    out
}

/// Alternating text, random and zero segments.
pub fn mixed(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 65536);
    while out.len() < n {
        match rng.below(4) {
            0 | 1 => {
                let k = 1 + rng.below(64 << 10) as usize;
                let t = text(rng, k);
                out.extend_from_slice(&t);
            }
            2 => {
                let k = 1 + rng.below(16 << 10) as usize;
                rng.fill(&mut out, k);
            }
            _ => {
                let k = 1 + rng.below(32 << 10) as usize;
                out.resize(out.len() + k, 0);
            }
        }
    }
    out.truncate(n);
    out
}

/// Runs of one byte with random lengths; with `wrap` the runs are long and often end with a
/// different byte (long matches at short distances, including across the dictionary buffer's
/// wrap-around).
pub fn runs(rng: &mut Rng, n: usize, max_run: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + max_run as usize);
    let alphabet = b"ab\0\xffxyz";
    while out.len() < n {
        let c = alphabet[rng.below(alphabet.len() as u64) as usize];
        let k = 1 + rng.below(max_run) as usize;
        out.resize(out.len() + k, c);
    }
    out.truncate(n);
    out
}

/// A random block repeated `times` times with sparse single-byte mutations.
pub fn repeated_block(rng: &mut Rng, block: usize, times: usize, mutations: usize) -> Vec<u8> {
    let b = random(rng, block);
    let mut out = Vec::with_capacity(block * times);
    for _ in 0..times {
        out.extend_from_slice(&b);
    }
    for _ in 0..mutations {
        let i = rng.below(out.len() as u64) as usize;
        out[i] = rng.next_u64() as u8;
    }
    out
}

/// Short random patterns repeated with occasional substitutions (rep matches, short reps).
pub fn periodic(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 4096);
    while out.len() < n {
        let p = 1 + rng.below(40) as usize;
        let pat = random(rng, p);
        let reps = 1 + rng.below(200) as usize;
        for _ in 0..reps {
            for &c in &pat {
                if rng.below(50) == 0 {
                    out.push(rng.next_u64() as u8);
                } else {
                    out.push(c);
                }
            }
        }
    }
    out.truncate(n);
    out
}

/// 32-byte records: a counter, constant fields and a few random bytes.
pub fn records(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(&i.to_le_bytes());
        out.extend_from_slice(b"REC:");
        out.extend_from_slice(&(i * 3 / 7).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 1]);
        let r = rng.next_u64();
        out.extend_from_slice(&r.to_le_bytes()[..(r % 9) as usize]);
        out.resize(out.len() + (8 - (r % 9) as usize), b'.');
        i += 1 + rng.below(3);
    }
    out.truncate(n);
    out
}

/// A disk-image-like mix: zero sectors, text files, random (compressed) data, copies of earlier
/// regions at various distances.
pub fn image(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(n + (1 << 20));
    while out.len() < n {
        match rng.below(6) {
            0 => {
                let k = 512 * (1 + rng.below(512) as usize);
                out.resize(out.len() + k, 0);
            }
            1 | 2 => {
                let k = 512 * (1 + rng.below(128) as usize);
                let t = text(rng, k);
                out.extend_from_slice(&t);
            }
            3 => {
                let k = 512 * (1 + rng.below(64) as usize);
                rng.fill(&mut out, k);
            }
            _ => {
                if out.is_empty() {
                    continue;
                }
                let k = (1 + rng.below(64 << 10) as usize).min(out.len());
                let back = k + rng.below((out.len() - k + 1) as u64) as usize;
                let start = out.len() - back;
                for j in 0..k {
                    let c = out[start + j];
                    out.push(c);
                }
            }
        }
    }
    out.truncate(n);
    out
}

const MIB: usize = 1 << 20;

/// The named inputs of the Go comparison table.
pub const NAMES: &[&str] = &[
    "empty",
    "one",
    "hello",
    "small_text",
    "text_271",
    "text_272",
    "text_273",
    "text_274",
    "text_4096",
    "text_4369",
    "text_4370",
    "text_64k",
    "random_100k",
    "zeros_1m",
    "runs_1m",
    "periodic_1m",
    "records_1m",
    "text_1m",
    "mixed_1m",
    "random_3m",
    "text_2m_exact",
    "text_2m_plus1",
    "zeros_2m_plus1",
    "random_text_5m",
    "image_6m",
    "text_dictbuf",
    "text_12m",
    "zeros_20m",
    "mixed_20m",
    "repeat_4m_x3",
    "repeat_9m_x2",
    "runs_wrap_18m",
    "image_24m",
    "rand:1",
    "rand:2",
    "rand:3",
    "rand:4",
    "rand:5",
    "rand:6",
    "rand:7",
    "rand:8",
    "rand:9",
    "rand:10",
    "rand:11",
    "rand:12",
    "rand:13",
    "rand:14",
    "rand:15",
    "rand:16",
    "rand:17",
    "rand:18",
    "rand:19",
    "rand:20",
    "rand:21",
    "rand:22",
    "rand:23",
    "rand:24",
];

/// A random mixture of the generators for seed `seed` (`rand:SEED` inputs, used for wider
/// randomized comparisons with the Go oracle: `oracle/compare.sh rand:1 rand:2 ...`).
pub fn random_mix(seed: u64) -> Vec<u8> {
    let rng = &mut Rng::new(seed);
    let max = match rng.below(4) {
        0 => 300,
        1 => 20_000,
        2 => 300_000,
        _ => 3 * MIB,
    };
    let n = rng.below(max as u64) as usize;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = 1 + rng.below((n - out.len()) as u64) as usize;
        let part = match rng.below(7) {
            0 => random(rng, k),
            1 => text(rng, k),
            2 => {
                let max_run = 1 + rng.below(1000);
                runs(rng, k, max_run)
            }
            3 => periodic(rng, k),
            4 => records(rng, k),
            5 => image(rng, k),
            _ => {
                if out.is_empty() {
                    continue;
                }
                let start = rng.below(out.len() as u64) as usize;
                let end = (start + k).min(out.len());
                out[start..end].to_vec()
            }
        };
        out.extend_from_slice(&part);
    }
    out.truncate(n);
    out
}

/// Generates the named input; `None` for an unknown name.
pub fn generate(name: &str) -> Option<Vec<u8>> {
    if let Some(seed) = name.strip_prefix("rand:") {
        return seed.parse().ok().map(random_mix);
    }
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let rng = &mut Rng::new(seed);
    let v = match name {
        "empty" => Vec::new(),
        "one" => b"a".to_vec(),
        "hello" => b"hello".to_vec(),
        "small_text" => b"Packer is a tool for creating identical machine images for multiple \
platforms from a single source configuration. Packer is lightweight, runs on every major \
operating system, and is highly performant, creating machine images for multiple platforms in \
parallel. Packer does not replace configuration management like Chef or Puppet. In fact, when \
building images, Packer is able to use tools like Chef or Puppet to install software onto the \
image.\n"
            .to_vec(),
        "text_271" => text(rng, 271),
        "text_272" => text(rng, 272),
        "text_273" => text(rng, 273),
        "text_274" => text(rng, 274),
        "text_4096" => text(rng, 4096),
        "text_4369" => text(rng, 4096 + 273),
        "text_4370" => text(rng, 4096 + 274),
        "text_64k" => text(rng, 64 << 10),
        "random_100k" => random(rng, 100_000),
        "zeros_1m" => vec![0; MIB],
        "runs_1m" => runs(rng, MIB, 600),
        "periodic_1m" => periodic(rng, MIB),
        "records_1m" => records(rng, MIB),
        "text_1m" => text(rng, MIB),
        "mixed_1m" => mixed(rng, MIB),
        "random_3m" => random(rng, 3 * MIB),
        "text_2m_exact" => text(rng, 2 * MIB),
        "text_2m_plus1" => text(rng, 2 * MIB + 1),
        "zeros_2m_plus1" => vec![0; 2 * MIB + 1],
        "random_text_5m" => {
            let mut v = random(rng, 2 * MIB + 12345);
            v.extend_from_slice(&text(rng, 3 * MIB));
            v
        }
        "image_6m" => image(rng, 6 * MIB),
        "text_dictbuf" => text(rng, 8 * MIB + 4096 + 1),
        "text_12m" => text(rng, 12 * MIB),
        "zeros_20m" => vec![0; 20 * MIB],
        "mixed_20m" => mixed(rng, 20 * MIB),
        "repeat_4m_x3" => repeated_block(rng, 4 * MIB, 3, 1000),
        "repeat_9m_x2" => repeated_block(rng, 9 * MIB, 2, 10),
        "runs_wrap_18m" => runs(rng, 18 * MIB, 300),
        "image_24m" => image(rng, 24 * MIB),
        // benchmark input, not in NAMES
        "mixed_50m" => mixed(rng, 50 * MIB),
        _ => return None,
    };
    Some(v)
}
