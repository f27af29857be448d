//! Parsing as hclsyntax does where hcl-edit is stricter: an object constructor may repeat a
//! key (`{ a = 1, a = 2 }`; the last value wins when it is evaluated), which hcl-edit's
//! parser rejects ("redefined object key") because its `Object` is a map.
//!
//! A repeated key is renamed, in a copy of the text, to a placeholder of the same length that
//! occurs nowhere else in the file, so every byte offset (and so every line and column) stays
//! the same; the file records placeholder → key ([`SourceFile::key_alias`]) and the evaluator
//! uses the real key. Objects keep their items in source order, so the later value wins.
//!
//! A number literal beyond the range of a 64-bit float (`1e400`), which hcl-edit's parser
//! refuses while cty reads it as a 512-bit `big.Float`, is renamed the same way: to a
//! same-length run of digits found nowhere else in the file, which the evaluator maps back
//! to the literal's text ([`SourceFile::key_alias`]).
//!
//! A heredoc line that starts with the heredoc's marker but is not the marker alone
//! (`EOT...` inside `<<EOT`) is text to hclsyntax, which ends a heredoc only at a line that is
//! its marker (spaces aside); hcl-edit ends it there. Before parsing, such a line's marker is
//! replaced by a same-length run of control characters found nowhere in the file (hclsyntax's
//! scanner, [`crate::fmt::lex`], tells where heredocs are), and the parsed literals get the
//! marker back.

use hcl::edit::expr::Expression;
use hcl::edit::parser::Error;
use hcl::edit::structure::Body;
use hcl::edit::template::Element;
use hcl::edit::visit_mut::VisitMut;

use crate::diag::SourceFile;

/// How many repeated keys one file may have before the parser's error stands.
const MAX_RENAMES: usize = 256;

/// `hcl::edit::parser::parse_body`, accepting repeated object keys.
pub fn parse_body(file: &SourceFile) -> Result<Body, Error> {
    parse_with(file, hcl::edit::parser::parse_body)
}

/// `hcl::edit::parser::parse_expr`, accepting repeated object keys.
pub fn parse_expr(file: &SourceFile) -> Result<Expression, Error> {
    parse_with(file, hcl::edit::parser::parse_expr)
}

/// What the parsed heredoc literals are given back (see the module's documentation).
trait Restore {
    fn restore(&mut self, markers: &[(String, String)]);
}

struct Markers<'a>(&'a [(String, String)]);

impl VisitMut for Markers<'_> {
    fn visit_element_mut(&mut self, node: &mut Element) {
        if let Element::Literal(l) = node
            && self.0.iter().any(|(p, _)| l.value().contains(p.as_str()))
        {
            let mut v = l.value().clone();
            for (p, marker) in self.0 {
                v = v.replace(p.as_str(), marker);
            }
            *l.value_mut() = v;
        }
        hcl::edit::visit_mut::visit_element_mut(self, node);
    }
}

impl Restore for Body {
    fn restore(&mut self, markers: &[(String, String)]) {
        Markers(markers).visit_body_mut(self);
    }
}

impl Restore for Expression {
    fn restore(&mut self, markers: &[(String, String)]) {
        Markers(markers).visit_expr_mut(self);
    }
}

/// Replaces the marker of every heredoc line hcl-edit would take for the heredoc's end while
/// hclsyntax does not (see the module's documentation): the new text and placeholder →
/// marker pairs, or `None` when there is no such line.
fn protect_heredoc_lines(text: &str) -> Option<(String, Vec<(String, String)>)> {
    use crate::fmt::TokenType as T;
    if !text.contains("<<") {
        return None;
    }
    let toks = crate::fmt::lex(text);
    let mut markers: Vec<&str> = Vec::new();
    let mut at: Vec<(usize, usize)> = Vec::new();
    for t in &toks {
        let tok = &text[t.start..t.end];
        match t.ty {
            T::OHeredoc => markers.push(
                tok.trim_start_matches("<<")
                    .trim_start_matches('-')
                    .trim_end(),
            ),
            T::CHeredoc => {
                markers.pop();
            }
            T::StringLit => {
                let Some(marker) = markers.last() else {
                    continue;
                };
                let line_start = t.start == 0 || text.as_bytes()[t.start - 1] == b'\n';
                let indent = tok.len() - tok.trim_start_matches([' ', '\t']).len();
                if line_start && !marker.is_empty() && tok[indent..].starts_with(marker) {
                    at.push((t.start + indent, marker.len()));
                }
            }
            _ => {}
        }
    }
    if at.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (start, len) in at {
        let marker = &text[start..start + len];
        let placeholder = match pairs.iter().find(|(_, m)| m == marker) {
            Some((p, _)) => p.clone(),
            None => {
                let p = control_placeholder(&out, len)?;
                pairs.push((p.clone(), marker.to_string()));
                p
            }
        };
        out.replace_range(start..start + len, &placeholder);
    }
    Some((out, pairs))
}

/// `len` control characters (no tab, newline or carriage return) that occur nowhere in `text`.
fn control_placeholder(text: &str, len: usize) -> Option<String> {
    const CHARS: &[u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f";
    (0..4096usize).find_map(|n| {
        let mut k = n;
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            s.push(CHARS[k % CHARS.len()] as char);
            k /= CHARS.len();
        }
        (k == 0 && !text.contains(&s)).then_some(s)
    })
}

fn parse_with<T: Restore>(
    file: &SourceFile,
    parse: impl Fn(&str) -> Result<T, Error>,
) -> Result<T, Error> {
    let protected = protect_heredoc_lines(&file.text);
    let markers = protected
        .as_ref()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    let mut text: Option<String> = protected.map(|(t, _)| t);
    let mut aliases: Vec<(String, String)> = Vec::new();
    for _ in 0..=MAX_RENAMES {
        let current = text.as_deref().unwrap_or(&file.text);
        match parse(current) {
            Ok(mut v) => {
                if !aliases.is_empty() {
                    file.set_key_aliases(aliases);
                }
                if !markers.is_empty() {
                    v.restore(&markers);
                }
                return Ok(v);
            }
            Err(e) => {
                let offset = e.location().offset();
                let renamed = if e.message().contains("redefined object key") {
                    rename_key(current, offset)
                } else {
                    rename_big_number(current, offset)
                };
                let Some((renamed, alias)) = renamed else {
                    return Err(e);
                };
                aliases.push(alias);
                text = Some(renamed);
            }
        }
    }
    let mut v = parse(text.as_deref().unwrap_or(&file.text))?;
    v.restore(&markers);
    Ok(v)
}

/// Renames the object key starting at `offset` (an identifier, or a quoted string without
/// escapes or interpolation) to a same-length placeholder found nowhere in `text`.
fn rename_key(text: &str, offset: usize) -> Option<(String, (String, String))> {
    let rest = text.get(offset..)?;
    let (start, len) = if let Some(inner) = rest.strip_prefix('"') {
        let end = inner.find('"')?;
        let body = &inner[..end];
        if body.is_empty() || body.contains(['\\', '$', '%', '\n']) {
            return None;
        }
        (offset + 1, end)
    } else {
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_alphanumeric() || c == '_' || (i > 0 && c == '-')))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        (offset, len)
    };
    let original = text[start..start + len].to_string();
    let placeholder = placeholder(text, len)?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.push_str(&placeholder);
    out.push_str(&text[start + len..]);
    Some((out, (placeholder, original)))
}

/// Renames the number literal at `offset` when it is one hcl-edit refuses for being beyond
/// a 64-bit float's range, to a same-length run of digits that occurs nowhere in `text`.
fn rename_big_number(text: &str, offset: usize) -> Option<(String, (String, String))> {
    // hcl-edit stops where the float stops parsing (at the exponent, past the mantissa):
    // the literal starts at the mantissa's first digit.
    let bytes = text.as_bytes();
    let mut offset = offset.min(bytes.len());
    while offset > 0 && (bytes[offset - 1].is_ascii_digit() || bytes[offset - 1] == b'.') {
        offset -= 1;
    }
    if offset > 0 && (bytes[offset - 1].is_ascii_alphanumeric() || bytes[offset - 1] == b'_') {
        return None;
    }
    let rest = text.get(offset..)?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == 0 {
        return None;
    }
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let digits = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > digits {
            i = j;
        }
    }
    let literal = &rest[..i];
    if literal.parse::<f64>().is_ok_and(f64::is_finite) {
        return None;
    }
    let placeholder = (0..10_000u64).find_map(|n| {
        let digits = format!("{:0>width$}", n, width = i);
        let candidate = format!("1{}", &digits[digits.len() + 1 - i..]);
        (candidate.len() == i && !text.contains(&candidate)).then_some(candidate)
    })?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..offset]);
    out.push_str(&placeholder);
    out.push_str(&text[offset + i..]);
    Some((out, (placeholder, literal.to_string())))
}

/// An ASCII identifier of `len` bytes that is not a word of `text` (so no other key, string
/// or name of the file is mistaken for it).
fn placeholder(text: &str, len: usize) -> Option<String> {
    const FIRST: &[u8] = b"QZXJKVWYqzxjkvwy";
    const REST: &[u8] = b"QZXJKVWYqzxjkvwy0123456789_";
    let is_word = |w: &str| {
        text.match_indices(w).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + w.len()..].chars().next();
            let ident =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
            !ident(before) && !ident(after)
        })
    };
    // Candidates: counting in a mixed radix over FIRST × REST^(len-1), a bounded number.
    for n in 0..4096usize {
        let mut s = String::with_capacity(len);
        let mut k = n;
        s.push(FIRST[k % FIRST.len()] as char);
        k /= FIRST.len();
        for _ in 1..len {
            s.push(REST[k % REST.len()] as char);
            k /= REST.len();
        }
        if k > 0 && len > 1 {
            // Wrapped around: every combination of this length was tried.
            break;
        }
        if !is_word(&s) {
            return Some(s);
        }
        if len == 1 && n + 1 >= FIRST.len() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn heredoc_lines_starting_with_the_marker_are_text() {
        let text = "a = <<EOT\nEOT...\n  EOT) x\nEOT\nb = <<-E\n  E,\n  E\n";
        let f = SourceFile::new(Path::new("lenient-test.pkr.hcl"), text.to_string());
        let body = parse_body(&f).expect("parses");
        let lits: Vec<String> = body
            .attributes()
            .map(|a| match &a.value {
                Expression::HeredocTemplate(h) => h
                    .template
                    .iter()
                    .map(|e| match e {
                        Element::Literal(l) => l.value().clone(),
                        _ => String::new(),
                    })
                    .collect(),
                other => panic!("not a heredoc: {other:?}"),
            })
            .collect();
        assert_eq!(lits, ["EOT...\n  EOT) x\n", "E,\n"]);
        // Nothing to protect: the text is parsed as it is.
        assert!(protect_heredoc_lines("a = <<EOT\nx\nEOT\n").is_none());
        assert!(protect_heredoc_lines("a = \"<<EOT\"\n").is_none());
    }

    #[test]
    fn repeated_keys_parse_and_keep_offsets() {
        let text = "x = { a = 1, a = 2, \"b\" = 3, \"b\" = 4 }\ny = 1\n";
        let f = SourceFile::new(Path::new("lenient-test.pkr.hcl"), text.to_string());
        let body = parse_body(&f).expect("parses");
        assert_eq!(body.attributes().count(), 2);
        let aliases = f.key_aliases();
        assert_eq!(aliases.len(), 2);
        assert_eq!(aliases[0].1, "a");
        assert_eq!(aliases[1].1, "b");
        assert!(
            aliases
                .iter()
                .all(|(p, o)| p.len() == o.len() && !text.contains(p.as_str()))
        );
    }

    #[test]
    fn numbers_beyond_float64_parse_as_their_text() {
        let text = "x = 1e400\ny = [1e400, -2.5E+999, 10000]\n";
        let f = SourceFile::new(Path::new("lenient-test4.pkr.hcl"), text.to_string());
        let body = parse_body(&f).expect("parses");
        assert_eq!(body.attributes().count(), 2);
        let aliases = f.key_aliases();
        let originals: Vec<&str> = aliases.iter().map(|(_, o)| o.as_str()).collect();
        assert_eq!(originals, ["1e400", "1e400", "2.5E+999"]);
        assert!(aliases.iter().all(|(p, o)| p.len() == o.len()
            && p.bytes().all(|b| b.is_ascii_digit())
            && !text.contains(p.as_str())));
    }

    #[test]
    fn other_errors_stand() {
        let f = SourceFile::new(Path::new("lenient-test2.pkr.hcl"), "x = {".to_string());
        assert!(parse_body(&f).is_err());
        let f = SourceFile::new(
            Path::new("lenient-test3.pkr.hcl"),
            "x = { \"a${1}\" = 1, \"a${1}\" = 2 }".to_string(),
        );
        // Keys with interpolation are not renamed: hcl-edit's error stands.
        assert!(parse_body(&f).is_err() || f.key_aliases().is_empty());
    }

    #[test]
    fn placeholder_avoids_words_of_the_text() {
        let p = placeholder("Q Z X J", 1).unwrap();
        assert!(!["Q", "Z", "X", "J"].contains(&p.as_str()));
        assert_eq!(placeholder("abc", 3).unwrap().len(), 3);
    }
}
