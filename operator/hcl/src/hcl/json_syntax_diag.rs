//! The syntax errors of HCL's JSON syntax (`*.pkr.json`), as hashicorp/hcl v2.24.0's `json`
//! package reports them: a port of its scanner (`json/scanner.go`) and of its parser's error
//! paths and recovery (`json/parser.go`, `json/public.go`), for diagnostics only. It builds the
//! partial tree hcl's parser returns (objects and arrays whose values may be invalid), which
//! names the context of each error (`in variable.a`, hcl json's `ContextString`).
//!
//! Used when Kiln's own JSON reader ([`crate::template::json::parse`]) refuses a file.

use crate::template::json::{Node, Prop, Val};
use std::ops::Range;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum J {
    BraceO,
    BraceC,
    BrackO,
    BrackC,
    Comma,
    Colon,
    Keyword,
    Str,
    Num,
    Eof,
    Invalid,
    Equals,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    ty: J,
    start: usize,
    end: usize,
}

/// One syntax error: summary, detail and the byte range of the JSON text it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonSyntaxError {
    pub summary: String,
    pub detail: String,
    pub range: Range<usize>,
}

/// The partial tree: hcl json's nodes, an invalid value standing where one did not parse.
enum Tree {
    Obj(Vec<(String, usize, Tree)>, Range<usize>),
    Arr(Vec<Tree>, Range<usize>),
    Str(String, Range<usize>),
    Other(Range<usize>),
    Invalid(Range<usize>),
}

impl Tree {
    /// hcl json's `StartRange`: an object's or array's opening bracket, else the value.
    fn start_range(&self) -> Range<usize> {
        match self {
            Tree::Obj(_, r) | Tree::Arr(_, r) => r.start..r.start + 1,
            Tree::Str(_, r) | Tree::Other(r) | Tree::Invalid(r) => r.clone(),
        }
    }

    fn into_node(self) -> Node {
        match self {
            Tree::Obj(attrs, span) => Node {
                val: Val::Obj(
                    attrs
                        .into_iter()
                        .map(|(key, key_start, v)| Prop {
                            key,
                            key_start,
                            value: v.into_node(),
                        })
                        .collect(),
                ),
                span,
            },
            Tree::Arr(items, span) => Node {
                val: Val::Arr(items.into_iter().map(Tree::into_node).collect()),
                span,
            },
            Tree::Str(s, span) => Node {
                val: Val::Str(s),
                span,
            },
            Tree::Other(span) | Tree::Invalid(span) => Node {
                val: Val::Null,
                span,
            },
        }
    }
}

/// Nesting deeper than this stops the walk (hcl's parser recurses without limit on Go's
/// growable stacks). No real template comes near it.
const MAX_DEPTH: usize = 500;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    pos: usize,
    errs: Vec<JsonSyntaxError>,
    depth: usize,
}

/// The syntax errors hcl's `json.Parse` reports for `src`, in its order, and the partial tree
/// its file holds (for contexts). No errors: the JSON parses.
pub fn json_errors(src: &str) -> (Vec<JsonSyntaxError>, Node) {
    let mut p = Parser {
        src,
        toks: scan(src),
        pos: 0,
        errs: Vec::new(),
        depth: 0,
    };
    let root = p.value();
    if p.errs.is_empty() && p.peek().ty != J::Eof {
        let at = p.peek();
        p.err(
            "Extraneous data after value",
            "Extra characters appear after the JSON value.",
            at.start..at.end,
        );
    }
    let root = match root {
        Tree::Obj(..) | Tree::Arr(..) => root,
        other => {
            p.err(
                "Root value must be object",
                "The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.",
                other.start_range(),
            );
            Tree::Obj(Vec::new(), 0..0)
        }
    };
    (p.errs, root.into_node())
}

/// hcl json's scanner: whitespace skipped, a token per bracket, comma, colon or `=`; strings
/// up to their closing quote or a control character; numbers and keywords as runs of their
/// characters; the first other character is invalid and ends the scan.
fn scan(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
            i += 1;
        }
        if i >= b.len() {
            toks.push(Tok {
                ty: J::Eof,
                start: i,
                end: i,
            });
            return toks;
        }
        let start = i;
        let ty = match b[i] {
            b'{' => J::BraceO,
            b'}' => J::BraceC,
            b'[' => J::BrackO,
            b']' => J::BrackC,
            b',' => J::Comma,
            b':' => J::Colon,
            b'=' => J::Equals,
            b'"' => {
                i += 1;
                let mut escaping = false;
                while i < b.len() {
                    match b[i] {
                        b'\\' => {
                            escaping = !escaping;
                            i += 1;
                        }
                        b'"' => {
                            i += 1;
                            if !escaping {
                                break;
                            }
                            escaping = false;
                        }
                        c if c < 32 => break,
                        _ => {
                            i += src[i..].chars().next().map_or(1, char::len_utf8);
                            escaping = false;
                        }
                    }
                }
                toks.push(Tok {
                    ty: J::Str,
                    start,
                    end: i,
                });
                continue;
            }
            b'-' | b'+' | b'.' | b'0'..=b'9' => {
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                toks.push(Tok {
                    ty: J::Num,
                    start,
                    end: i,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() => {
                while i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                    i += 1;
                }
                toks.push(Tok {
                    ty: J::Keyword,
                    start,
                    end: i,
                });
                continue;
            }
            _ => {
                // One character, then the end.
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                toks.push(Tok {
                    ty: J::Invalid,
                    start,
                    end: start + len,
                });
                toks.push(Tok {
                    ty: J::Eof,
                    start: start + len,
                    end: start + len,
                });
                return toks;
            }
        };
        i += 1;
        toks.push(Tok { ty, start, end: i });
    }
}

/// Whether `s` is a JSON number as Go's `encoding/json` reads one.
fn json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    i == b.len()
}

/// Where Go's `encoding/json` fails on a string token (`SyntaxError.Offset`: the bytes read,
/// the bad one included), or `None` when it is a valid JSON string.
fn json_string_error(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return (i + 1 != b.len()).then_some(i + 2),
            b'\\' => {
                i += 1;
                match b.get(i) {
                    None => return Some(b.len()),
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 1,
                    Some(b'u') => {
                        i += 1;
                        for _ in 0..4 {
                            match b.get(i) {
                                None => return Some(b.len()),
                                Some(h) if h.is_ascii_hexdigit() => i += 1,
                                Some(_) => return Some(i + 1),
                            }
                        }
                    }
                    Some(_) => return Some(i + 1),
                }
            }
            c if c < 32 => return Some(i + 1),
            _ => i += 1,
        }
    }
    // The input ends inside the string.
    Some(b.len())
}

impl Parser<'_> {
    fn peek(&self) -> Tok {
        self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn read(&mut self) -> Tok {
        let t = self.peek();
        if t.ty != J::Eof {
            self.pos += 1;
        }
        t
    }

    fn err(&mut self, summary: &str, detail: impl Into<String>, range: Range<usize>) {
        self.errs.push(JsonSyntaxError {
            summary: summary.to_string(),
            detail: detail.into(),
            range,
        });
    }

    fn value(&mut self) -> Tree {
        let tok = self.peek();
        let r = tok.start..tok.end;
        if self.depth >= MAX_DEPTH {
            self.pos = self.toks.len() - 1;
            return Tree::Invalid(r);
        }
        let value_start =
            "A JSON value must start with a brace, a bracket, a number, a string, or a keyword.";
        let got = match tok.ty {
            J::BraceO => {
                self.depth += 1;
                let v = self.object();
                self.depth -= 1;
                v
            }
            J::BrackO => {
                self.depth += 1;
                let v = self.array();
                self.depth -= 1;
                v
            }
            J::Num => self.number(),
            J::Str => self.string(),
            J::Keyword => self.keyword(),
            J::BraceC => {
                self.err("Missing JSON value", value_start, r.clone());
                None
            }
            J::BrackC => {
                self.err("Missing array element value", value_start, r.clone());
                None
            }
            J::Eof => {
                self.err(
                    "Missing value",
                    "The JSON data ends prematurely.",
                    r.clone(),
                );
                None
            }
            _ => {
                self.err("Invalid start of value", value_start, r.clone());
                None
            }
        };
        got.unwrap_or(Tree::Invalid(r))
    }

    /// Skips to the end of the current object or array (`close`), counting nested ones.
    fn recover(&mut self, mut tok: Tok, open_ty: J, close_ty: J) {
        let mut open = 1;
        loop {
            if tok.ty == open_ty {
                open += 1;
            } else if tok.ty == close_ty {
                open -= 1;
                if open <= 1 {
                    return;
                }
            } else if tok.ty == J::Eof {
                return;
            }
            tok = self.read();
        }
    }

    fn object(&mut self) -> Option<Tree> {
        let open = self.read();
        let mut attrs = Vec::new();
        loop {
            if self.peek().ty == J::BraceC {
                break;
            }
            let key = self.value();
            let Tree::Str(name, name_range) = key else {
                self.err(
                    "Invalid object property name",
                    "A JSON object property name must be a string",
                    key.start_range(),
                );
                return None;
            };
            let colon = self.read();
            if colon.ty != J::Colon {
                self.recover(colon, J::BraceO, J::BraceC);
                let detail = match colon.ty {
                    J::BraceC | J::Comma => {
                        self.err(
                            "Missing object value",
                            "A JSON object attribute must have a value, introduced by a colon.",
                            colon.start..colon.end,
                        );
                        return None;
                    }
                    J::Equals => {
                        "JSON uses a colon as its name/value delimiter, not an equals sign."
                    }
                    _ => "A colon must appear between an object property's name and its value.",
                };
                self.err(
                    "Missing property value colon",
                    detail,
                    colon.start..colon.end,
                );
                return None;
            }
            let value = self.value();
            attrs.push((name, name_range.start, value));
            match self.peek().ty {
                J::Comma => {
                    let comma = self.read();
                    if self.peek().ty == J::BraceC {
                        self.err(
                            "Trailing comma in object",
                            "JSON does not permit a trailing comma after the final property in an object.",
                            comma.start..comma.end,
                        );
                        return None;
                    }
                }
                J::Eof => {
                    self.err(
                        "Unclosed object",
                        "No closing brace was found for this JSON object.",
                        open.start..open.end,
                    );
                    return None;
                }
                J::BrackC => {
                    self.read();
                    let at = self.peek();
                    self.err(
                        "Mismatched braces",
                        "A JSON object must be closed with a brace, not a bracket.",
                        at.start..at.end,
                    );
                    return None;
                }
                J::BraceC => break,
                _ => {
                    let t = self.read();
                    self.recover(t, J::BraceO, J::BraceC);
                    let at = self.peek();
                    self.err(
                        "Missing attribute seperator comma",
                        "A comma must appear between each property definition in an object.",
                        at.start..at.end,
                    );
                    return None;
                }
            }
        }
        let close = self.read();
        Some(Tree::Obj(attrs, open.start..close.end))
    }

    fn array(&mut self) -> Option<Tree> {
        let open = self.read();
        let mut items = Vec::new();
        loop {
            if self.peek().ty == J::BrackC {
                break;
            }
            items.push(self.value());
            let (summary, detail) = match self.peek().ty {
                J::Comma => {
                    let comma = self.read();
                    if self.peek().ty == J::BrackC {
                        self.err(
                            "Trailing comma in array",
                            "JSON does not permit a trailing comma after the final value in an array.",
                            comma.start..comma.end,
                        );
                        return None;
                    }
                    continue;
                }
                J::BrackC => break,
                J::Colon => (
                    "Invalid array value",
                    "A colon is not used to introduce values in a JSON array.",
                ),
                J::Eof => {
                    let t = self.read();
                    self.recover(t, J::BrackO, J::BrackC);
                    self.err(
                        "Unclosed object",
                        "No closing bracket was found for this JSON array.",
                        open.start..open.end,
                    );
                    return None;
                }
                J::BraceC => (
                    "Mismatched brackets",
                    "A JSON array must be closed with a bracket, not a brace.",
                ),
                _ => (
                    "Missing attribute seperator comma",
                    "A comma must appear between each value in an array.",
                ),
            };
            let t = self.read();
            self.recover(t, J::BrackO, J::BrackC);
            let at = self.peek();
            self.err(summary, detail, at.start..at.end);
            return None;
        }
        let close = self.read();
        Some(Tree::Arr(items, open.start..close.end))
    }

    fn number(&mut self) -> Option<Tree> {
        let tok = self.read();
        if !json_number(&self.src[tok.start..tok.end]) {
            self.err(
                "Invalid JSON number",
                "There is a syntax error in the given JSON number.",
                tok.start..tok.end,
            );
            return None;
        }
        Some(Tree::Other(tok.start..tok.end))
    }

    fn string(&mut self) -> Option<Tree> {
        let tok = self.read();
        let text = &self.src[tok.start..tok.end];
        if let Some(offset) = json_string_error(text) {
            // hcl json points one byte at Go's error offset (and keeps the token as context).
            let at = (tok.start + offset).min(self.src.len());
            self.err(
                "Invalid JSON string",
                "There is a syntax error in the given JSON string.",
                at..at + 1,
            );
            return None;
        }
        let value: String = serde_json::from_str(text).unwrap_or_default();
        Some(Tree::Str(value, tok.start..tok.end))
    }

    fn keyword(&mut self) -> Option<Tree> {
        let tok = self.read();
        let word = &self.src[tok.start..tok.end];
        let detail = match word {
            "true" | "false" | "null" => return Some(Tree::Other(tok.start..tok.end)),
            "undefined" | "NaN" | "Infinity" => format!(
                "The JavaScript identifier {} cannot be used in JSON.",
                crate::value::go_quote(word)
            ),
            _ => {
                let suggestion = ["false", "true", "null"]
                    .into_iter()
                    .find(|k| strsim::levenshtein(word, k) < 3)
                    .map(|k| format!(" Did you mean \"{k}\"?"))
                    .unwrap_or_default();
                format!(
                    "{} is not a valid JSON keyword.{suggestion}",
                    crate::value::go_quote(word)
                )
            }
        };
        self.err("Invalid JSON keyword", detail, tok.start..tok.end);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summaries(src: &str) -> Vec<String> {
        json_errors(src)
            .0
            .into_iter()
            .map(|e| format!("{}..{} {}", e.range.start, e.range.end, e.summary))
            .collect()
    }

    #[test]
    fn reports_what_hcl_json_reports() {
        // As `packer validate -syntax-only t.pkr.json` (Packer 1.16.0) reports them.
        let cases: &[(&str, &[&str])] = &[
            ("{\"a\": {\"b\": 1,}}", &["13..14 Trailing comma in object"]),
            (
                "{\"a\": 1,,}",
                &[
                    "8..9 Invalid start of value",
                    "8..9 Invalid object property name",
                    "0..1 Root value must be object",
                ],
            ),
            (
                "",
                &["0..0 Missing value", "0..0 Root value must be object"],
            ),
            ("{\"a\": 01}", &["6..8 Invalid JSON number"]),
            ("{\"a\": tru}", &["6..9 Invalid JSON keyword"]),
            ("{\"a\": \"\\q\"}", &["9..10 Invalid JSON string"]),
            // (At the token after recovery skipped past the array's end.)
            (
                "{\"a\": [1 2]}",
                &["11..12 Missing attribute seperator comma"],
            ),
            ("[1]", &[]),
            ("{} x", &["3..4 Extraneous data after value"]),
        ];
        for (src, want) in cases {
            assert_eq!(summaries(src), *want, "{src:?}");
        }
    }

    #[test]
    fn keeps_the_partial_tree_for_contexts() {
        let src = "{\"variable\": {\"a\": {\"default\": 1,}}}";
        let (errs, root) = json_errors(src);
        assert_eq!(errs[0].summary, "Trailing comma in object");
        assert_eq!(
            crate::template::json::context(&root, errs[0].range.start),
            "variable"
        );
    }

    #[test]
    fn never_panics_nor_overflows() {
        for unit in ["[", "{\"a\":", "{", "[{\"a\":"] {
            let _ = json_errors(&unit.repeat(50_000));
        }
        let src = "{\"a\": [1, -2.5e3, \"x\\u00e9\\n\", true, null, {\"b\": {}}], \"c\": \"d\"}";
        for i in 0..=src.len() {
            if src.is_char_boundary(i) {
                let _ = json_errors(&src[..i]);
            }
        }
        let pieces = [
            "{", "}", "[", "]", ",", ":", "=", "\"", "\\", "\\u", "a", "tru", "1", "-", ".", "e",
            " ", "\n", "\t", "é", "\u{1}", "null",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(state % 30) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let _ = json_errors(&s);
        }
    }
}
