//! The syntax check `jsondecode` makes before decoding, in Go's words: cty's
//! `json.ImpliedType` reads the text with `encoding/json`'s `Decoder.Token` (one value, then
//! `More` for anything after it), so a bad document fails with that decoder's error text:
//! `EOF`, `unexpected EOF`, `invalid character 'x' looking for beginning of value`,
//! `extraneous data after JSON object`, ... (Go's `SyntaxError` carries an offset too, but cty's
//! message is the text alone.)
//!
//! [`check`] walks the tokens as `Decoder.Token` does (its states and `tokenError`), reading
//! each string, number and literal as `Decoder.Decode` does (the `scanner` state machine, from
//! the value's first byte to the byte after it).

/// `Decoder.Token`'s states.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    TopValue,
    ArrayStart,
    ArrayValue,
    ArrayComma,
    ObjectStart,
    ObjectKey,
    ObjectColon,
    ObjectValue,
    ObjectComma,
}

/// Checks `text` as cty's `ImpliedType` does; `Ok(end)`: the document's value ends at byte
/// `end` (what follows is only white space or closing brackets, which Go's `More` ignores).
pub fn check(text: &str) -> Result<usize, String> {
    let mut d = Dec {
        b: text.as_bytes(),
        p: 0,
        st: St::TopValue,
        stack: Vec::new(),
    };
    let mut depth = 0usize;
    loop {
        match d.token()? {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Value => {}
        }
        if depth == 0 {
            break;
        }
    }
    let end = d.p;
    // `More`: anything but white space or a closing bracket after the value.
    if let Ok(c) = d.peek()
        && c != b']'
        && c != b'}'
    {
        return Err("extraneous data after JSON object".into());
    }
    Ok(end)
}

/// `json.Unmarshal`'s syntax check (`checkValid`), in its words: the document must be one
/// value and nothing else (`invalid character 'x' after top-level value`); a cut one is
/// `unexpected end of JSON input`.
pub fn check_valid(text: &str) -> Result<(), String> {
    let mut d = Dec {
        b: text.as_bytes(),
        p: 0,
        st: St::TopValue,
        stack: Vec::new(),
    };
    let eof = |e: String| {
        if e == "EOF" || e == "unexpected EOF" {
            "unexpected end of JSON input".to_string()
        } else {
            e
        }
    };
    let mut depth = 0usize;
    loop {
        // the scanner (unlike `Decoder.Token`) names what an object's start wants
        if d.st == St::ObjectStart
            && let Ok(c) = d.peek()
            && c != b'"'
            && c != b'}'
        {
            d.st = St::ObjectKey;
            return Err(d.token_error(c));
        }
        let tok = d.token().map_err(|e| {
            if e == "unexpected EOF" {
                // at the end the scanner is fed a space: a value cut short says so
                let rest = format!("{} ", &text[d.p..]);
                if let Err(e) = scan_value(rest.as_bytes(), 0)
                    && e != "unexpected EOF"
                {
                    return e;
                }
            }
            eof(e)
        })?;
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Value => {}
        }
        if depth == 0 {
            break;
        }
    }
    match d.peek() {
        Ok(c) => Err(format!(
            "invalid character {} after top-level value",
            quote_char(c)
        )),
        Err(_) => Ok(()),
    }
}

enum Tok {
    Open,
    Close,
    Value,
}

struct Dec<'a> {
    b: &'a [u8],
    p: usize,
    st: St,
    stack: Vec<St>,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Dec<'_> {
    fn peek(&mut self) -> Result<u8, String> {
        while self.p < self.b.len() {
            let c = self.b[self.p];
            if !is_space(c) {
                return Ok(c);
            }
            self.p += 1;
        }
        Err("EOF".into())
    }

    fn value_allowed(&self) -> bool {
        matches!(
            self.st,
            St::TopValue | St::ArrayStart | St::ArrayValue | St::ObjectValue
        )
    }

    fn value_end(&mut self) {
        match self.st {
            St::ArrayStart | St::ArrayValue => self.st = St::ArrayComma,
            St::ObjectValue => self.st = St::ObjectComma,
            _ => {}
        }
    }

    fn token_error(&self, c: u8) -> String {
        let context = match self.st {
            St::TopValue | St::ArrayStart | St::ArrayValue | St::ObjectValue => {
                " looking for beginning of value"
            }
            St::ArrayComma => " after array element",
            St::ObjectKey => " looking for beginning of object key string",
            St::ObjectColon => " after object key",
            St::ObjectComma => " after object key:value pair",
            St::ObjectStart => "",
        };
        format!("invalid character {}{context}", quote_char(c))
    }

    fn token(&mut self) -> Result<Tok, String> {
        loop {
            let c = self.peek()?;
            match c {
                b'[' | b'{' => {
                    if !self.value_allowed() {
                        return Err(self.token_error(c));
                    }
                    self.p += 1;
                    self.stack.push(self.st);
                    self.st = if c == b'[' {
                        St::ArrayStart
                    } else {
                        St::ObjectStart
                    };
                    return Ok(Tok::Open);
                }
                b']' | b'}' => {
                    let ok = if c == b']' {
                        matches!(self.st, St::ArrayStart | St::ArrayComma)
                    } else {
                        matches!(self.st, St::ObjectStart | St::ObjectComma)
                    };
                    if !ok {
                        return Err(self.token_error(c));
                    }
                    self.p += 1;
                    self.st = self.stack.pop().unwrap_or(St::TopValue);
                    self.value_end();
                    return Ok(Tok::Close);
                }
                b':' => {
                    if self.st != St::ObjectColon {
                        return Err(self.token_error(c));
                    }
                    self.p += 1;
                    self.st = St::ObjectValue;
                }
                b',' => match self.st {
                    St::ArrayComma => {
                        self.p += 1;
                        self.st = St::ArrayValue;
                    }
                    St::ObjectComma => {
                        self.p += 1;
                        self.st = St::ObjectKey;
                    }
                    _ => return Err(self.token_error(c)),
                },
                b'"' if matches!(self.st, St::ObjectStart | St::ObjectKey) => {
                    self.p += scan_value(self.b, self.p)?;
                    self.st = St::ObjectColon;
                    return Ok(Tok::Value);
                }
                _ => {
                    if !self.value_allowed() {
                        return Err(self.token_error(c));
                    }
                    self.p += scan_value(self.b, self.p)?;
                    self.value_end();
                    return Ok(Tok::Value);
                }
            }
        }
    }
}

/// A checked document with each `\u` escape of a lone UTF-16 surrogate made `\ufffd`, as Go
/// decodes one (to U+FFFD) where serde_json refuses it.
pub fn replace_lone_surrogates(text: &str) -> String {
    let b = text.as_bytes();
    let hex4 = |at: usize| -> Option<u32> {
        let h = text.get(at..at + 4)?;
        u32::from_str_radix(h, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, mut from, mut in_string) = (0, 0, false);
    while i < b.len() {
        match b[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string && b.get(i + 1) == Some(&b'u') => {
                let Some(r) = hex4(i + 2) else {
                    i += 2;
                    continue;
                };
                if (0xd800..0xdc00).contains(&r)
                    && b.get(i + 6) == Some(&b'\\')
                    && b.get(i + 7) == Some(&b'u')
                    && hex4(i + 8).is_some_and(|l| (0xdc00..0xe000).contains(&l))
                {
                    i += 12;
                } else if (0xd800..0xe000).contains(&r) {
                    out.push_str(&text[from..i]);
                    out.push_str("\\ufffd");
                    i += 6;
                    from = i;
                } else {
                    i += 6;
                }
            }
            b'\\' if in_string => i += 2,
            _ => i += 1,
        }
    }
    out.push_str(&text[from..]);
    out
}

/// The `scanner` states a scalar value goes through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum S {
    Begin,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    Zero,
    One,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// In a literal: which (`true`, `false`, `null`) and how many bytes read.
    Lit(&'static [u8], &'static str, usize),
    /// The value is complete: the next byte ends it.
    EndValue,
}

/// `Decoder.Decode` of one value starting at `start` (not an array or object: `Token` reads
/// those): its length, or the scanner's error.
fn scan_value(b: &[u8], start: usize) -> Result<usize, String> {
    let err = |c: u8, context: &str| Err(format!("invalid character {} {context}", quote_char(c)));
    let mut s = S::Begin;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        // A state ending a number hands the byte to `stateEndValue`: the value ends before it.
        s = match s {
            S::Begin => match c {
                _ if is_space(c) => S::Begin,
                b'"' => S::InString,
                b'-' => S::Neg,
                b'0' => S::Zero,
                b'1'..=b'9' => S::One,
                b't' => S::Lit(b"true", "true", 1),
                b'f' => S::Lit(b"false", "false", 1),
                b'n' => S::Lit(b"null", "null", 1),
                _ => return err(c, "looking for beginning of value"),
            },
            S::InString => match c {
                b'"' => S::EndValue,
                b'\\' => S::InStringEsc,
                _ if c < 0x20 => return err(c, "in string literal"),
                _ => S::InString,
            },
            S::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => S::InString,
                b'u' => S::InStringEscU(0),
                _ => return err(c, "in string escape code"),
            },
            S::InStringEscU(n) => {
                if !c.is_ascii_hexdigit() {
                    return err(c, "in \\u hexadecimal character escape");
                }
                if n == 3 {
                    S::InString
                } else {
                    S::InStringEscU(n + 1)
                }
            }
            S::Neg => match c {
                b'0' => S::Zero,
                b'1'..=b'9' => S::One,
                _ => return err(c, "in numeric literal"),
            },
            S::One if c.is_ascii_digit() => S::One,
            S::One | S::Zero => match c {
                b'.' => S::Dot,
                b'e' | b'E' => S::E,
                _ => return Ok(i - start),
            },
            S::Dot => match c {
                b'0'..=b'9' => S::Dot0,
                _ => return err(c, "after decimal point in numeric literal"),
            },
            S::Dot0 => match c {
                b'0'..=b'9' => S::Dot0,
                b'e' | b'E' => S::E,
                _ => return Ok(i - start),
            },
            S::E if c == b'+' || c == b'-' => S::ESign,
            S::E | S::ESign => match c {
                b'0'..=b'9' => S::E0,
                _ => return err(c, "in exponent of numeric literal"),
            },
            S::E0 => match c {
                b'0'..=b'9' => S::E0,
                _ => return Ok(i - start),
            },
            S::Lit(word, name, n) => {
                if c != word[n] {
                    return err(
                        c,
                        &format!("in literal {name} (expecting {})", quote_char(word[n])),
                    );
                }
                if n + 1 == word.len() {
                    S::EndValue
                } else {
                    S::Lit(word, name, n + 1)
                }
            }
            S::EndValue => return Ok(i - start),
        };
        i += 1;
    }
    // The end of the input: a complete value ends there, else the value is cut short.
    match s {
        S::EndValue | S::Zero | S::One | S::Dot0 | S::E0 => Ok(i - start),
        _ => Err("unexpected EOF".into()),
    }
}

/// Go's `quoteChar`: a byte in single quotes, as `strconv.Quote` writes the rune of that
/// value (a UTF-8 lead byte is its Latin-1 letter: `'Ã'`).
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".into(),
        b'"' => "'\"'".into(),
        b'\\' => r"'\\'".into(),
        0x07 => r"'\a'".into(),
        0x08 => r"'\b'".into(),
        0x0c => r"'\f'".into(),
        b'\n' => r"'\n'".into(),
        b'\r' => r"'\r'".into(),
        b'\t' => r"'\t'".into(),
        0x0b => r"'\v'".into(),
        0x20..=0x7e => format!("'{}'", c as char),
        0x00..=0x1f | 0x7f => format!("'\\x{c:02x}'"),
        0xa1..=0xff if c != 0xad => format!("'{}'", char::from(c)),
        _ => format!("'\\u{c:04x}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::{check, check_valid};

    /// `json.Unmarshal`'s syntax errors (checked against Go 1.26).
    #[test]
    fn check_valid_as_unmarshal() {
        for (text, want) in [
            ("", "unexpected end of JSON input"),
            ("  {", "unexpected end of JSON input"),
            ("{\"a\": \"x", "unexpected end of JSON input"),
            ("{} x", "invalid character 'x' after top-level value"),
            ("12x", "invalid character 'x' after top-level value"),
            (
                "{1}",
                "invalid character '1' looking for beginning of object key string",
            ),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "nul",
                "invalid character ' ' in literal null (expecting 'l')",
            ),
            (
                "[1.",
                "invalid character ' ' after decimal point in numeric literal",
            ),
            (
                "\"\\u12",
                "invalid character ' ' in \\u hexadecimal character escape",
            ),
            (
                "tru3",
                "invalid character '3' in literal true (expecting 'e')",
            ),
            ("x", "invalid character 'x' looking for beginning of value"),
        ] {
            assert_eq!(check_valid(text).unwrap_err(), want, "{text:?}");
        }
        for ok in ["{}", " [1, {\"a\": null}] \n", "\"s\"", "0"] {
            assert_eq!(check_valid(ok), Ok(()), "{ok:?}");
        }
    }

    fn e(s: &str) -> String {
        check(s).unwrap_err()
    }

    #[test]
    fn errors_in_go_encoding_json_words() {
        assert_eq!(e(""), "EOF");
        assert_eq!(e("  \n"), "EOF");
        assert_eq!(
            e("abc"),
            "invalid character 'a' looking for beginning of value"
        );
        assert_eq!(e("{"), "EOF");
        assert_eq!(e("[1,"), "EOF");
        assert_eq!(e("\"abc"), "unexpected EOF");
        assert_eq!(e("tru"), "unexpected EOF");
        assert_eq!(
            e("[1,]"),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            e("{\"a\":1,}"),
            "invalid character '}' looking for beginning of object key string"
        );
        assert_eq!(e("{1:2}"), "invalid character '1'");
        assert_eq!(e("[01]"), "invalid character '1' after array element");
        assert_eq!(e("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            e("{\"a\":1 \"b\"}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(e("1 2"), "extraneous data after JSON object");
        assert_eq!(
            e("tx"),
            "invalid character 'x' in literal true (expecting 'r')"
        );
        assert_eq!(
            e("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(e("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(e("1e+"), "unexpected EOF");
        assert_eq!(e("\"a\nb\""), "invalid character '\\n' in string literal");
        assert_eq!(e("\"\\x\""), "invalid character 'x' in string escape code");
        assert_eq!(
            e("é"),
            "invalid character 'Ã' looking for beginning of value"
        );
        assert_eq!(check("1]"), Ok(1));
        assert_eq!(
            super::replace_lone_surrogates(r#"["\ud800", "\ud83d\ude00", "\\ud800", "\udc00x"]"#),
            r#"["\ufffd", "\ud83d\ude00", "\\ud800", "\ufffdx"]"#
        );
        assert_eq!(check(" {\"a\": [1, 2.5e3, true]} "), Ok(24));
    }
}
