//! No panics, and an end, whatever the input: random bytes, mutations of YAML, deep nesting.

use kiln_goyaml::{EventType, Parser, parse};

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "a",
    ": ",
    ":",
    "- ",
    "-",
    "? ",
    "?",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "  ",
    "#c",
    "&a ",
    "*a",
    "!",
    "!!str ",
    "!x!y ",
    "!<t>",
    "'",
    "\"",
    "\\",
    "|",
    ">",
    "|-\n",
    "%YAML 1.1\n",
    "%TAG !e! p:\n",
    "---",
    "...",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "é",
    "\0",
    "\x01",
    "\"\\u00e9\"",
    "\"\\x4",
    "%",
    "@",
    "`",
    "0x1F",
    "~",
];

#[test]
fn random_inputs_end_without_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let mut doc = Vec::new();
        let pieces = rng.below(40);
        for _ in 0..pieces {
            if round % 5 == 0 {
                doc.push(rng.next() as u8);
            } else {
                doc.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
            }
        }
        if round % 7 == 0 {
            doc.splice(0..0, [0xFF, 0xFE]);
        }
        let (events, _) = parse(&doc);
        assert!(
            events.len() <= 4 * doc.len() + 16,
            "{} events",
            events.len()
        );
    }
}

#[test]
fn parse_after_the_end_or_an_error_is_stable() {
    for src in [&b"a: 1\n"[..], b"[1", b"\xff"] {
        let mut p = Parser::new(src);
        let mut last = None;
        for _ in 0..20 {
            last = Some(p.parse());
        }
        match last.expect("parsed") {
            Ok(e) => assert_eq!(e.typ, EventType::NoEvent),
            Err(e) => assert!(!e.message().is_empty()),
        }
    }
}

#[test]
fn deep_nesting_is_not_recursive() {
    // go-yaml looks at every open level's simple key for each token; the port only at
    // the ones that can change, so this stays linear.
    let n = 100_000;
    let mut doc = "[".repeat(n);
    doc.push_str(&"]".repeat(n));
    let (events, err) = parse(doc.as_bytes());
    assert!(err.is_none());
    assert_eq!(events.len(), 2 * n + 4);

    let doc: String = (0..3000)
        .map(|i| format!("{}- \n", " ".repeat(i)))
        .collect();
    let (_, err) = parse(doc.as_bytes());
    assert!(err.is_none());
}

#[test]
fn error_messages_are_placed_as_go_cty_yaml_places_them() {
    let msg = |s: &str| parse(s.as_bytes()).1.map(|e| e.message());
    assert_eq!(
        msg("\tx: 1\n").as_deref(),
        Some("found character that cannot start any token")
    );
    // A scanner error: its line counted from 1, column 1.
    assert_eq!(
        msg("a:\n\tb: 2\n").as_deref(),
        Some("on line 2, column 1: found character that cannot start any token")
    );
    // A parser error: at its problem mark, the line counted from 0.
    assert_eq!(
        msg("a: [1\n").as_deref(),
        Some("on line 1, column 1: did not find expected ',' or ']'")
    );
    assert_eq!(msg("a: [1]\n"), None);
}
