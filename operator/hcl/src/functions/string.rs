//! String functions (go-cty stdlib, plus Packer's `startswith`, `endswith`, `strcontains`).

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

use super::{Args, FuncError, MAX_LIST, arg_err, check_len, graphemes, other, str_list};
use crate::value::Value;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "chomp" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            Ok(Value::String(s.trim_end_matches(['\r', '\n']).to_string()))
        }
        "startswith" => {
            f.exact(&["str", "prefix"])?;
            let (s, p) = (f.string(0, "str")?, f.string(1, "prefix")?);
            Ok(Value::Bool(s.starts_with(&p)))
        }
        "endswith" => {
            f.exact(&["str", "suffix"])?;
            let (s, p) = (f.string(0, "str")?, f.string(1, "suffix")?);
            Ok(Value::Bool(s.ends_with(&p)))
        }
        "strcontains" => {
            f.exact(&["str", "substr"])?;
            let (s, p) = (f.string(0, "str")?, f.string(1, "substr")?);
            Ok(Value::Bool(s.contains(&p)))
        }
        "indent" => indent(f),
        "join" => join(f),
        "lower" => {
            f.exact(&["str"])?;
            Ok(Value::String(lower(&f.string(0, "str")?)))
        }
        "upper" => {
            f.exact(&["str"])?;
            Ok(Value::String(upper(&f.string(0, "str")?)))
        }
        "title" => {
            f.exact(&["str"])?;
            Ok(Value::String(title(&f.string(0, "str")?)))
        }
        "regex" | "regexall" => regex_fn(f),
        "regex_replace" => {
            f.exact(&["str", "substr", "replace"])?;
            let s = f.string(0, "str")?;
            let pat = f.string(1, "substr")?;
            let rep = f.string(2, "replace")?;
            let re = compile(&pat).map_err(|e| other(e.go()))?;
            let mut total = s.len();
            for _ in re.re.find_iter(&s) {
                total = total.saturating_add(rep.len().saturating_mul(2) + 1);
                check_len(total)?;
            }
            let rep = re.replacement(&rep);
            Ok(Value::String(
                re.re.replace_all(&s, rep.as_str()).into_owned(),
            ))
        }
        "replace" => {
            f.exact(&["str", "substr", "replace"])?;
            let s = f.string(0, "str")?;
            let sub = f.string(1, "substr")?;
            let rep = f.string(2, "replace")?;
            let count = if sub.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(sub.as_str()).count()
            };
            check_len(s.len().saturating_add(count.saturating_mul(rep.len())))?;
            Ok(Value::String(s.replace(sub.as_str(), &rep)))
        }
        "split" => {
            f.exact(&["separator", "str"])?;
            let sep = f.string(0, "separator")?;
            let s = f.string(1, "str")?;
            let parts: Vec<String> = if sep.is_empty() {
                s.chars().map(String::from).collect()
            } else {
                s.split(sep.as_str()).map(String::from).collect()
            };
            if parts.len() > MAX_LIST {
                return Err(other(format!(
                    "the result would have more than {MAX_LIST} elements, which Kiln does not allow"
                )));
            }
            Ok(str_list(parts))
        }
        "strrev" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            Ok(Value::String(graphemes(&s).into_iter().rev().collect()))
        }
        "substr" => substr(f),
        "trim" => {
            f.exact(&["str", "cutset"])?;
            let s = f.string(0, "str")?;
            let cut: Vec<char> = f.string(1, "cutset")?.chars().collect();
            Ok(Value::String(
                s.trim_matches(|c| cut.contains(&c)).to_string(),
            ))
        }
        "trimprefix" => {
            f.exact(&["str", "prefix"])?;
            let s = f.string(0, "str")?;
            let p = f.string(1, "prefix")?;
            Ok(Value::String(
                s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }
        "trimsuffix" => {
            f.exact(&["str", "suffix"])?;
            let s = f.string(0, "str")?;
            let p = f.string(1, "suffix")?;
            Ok(Value::String(
                s.strip_suffix(p.as_str()).unwrap_or(&s).to_string(),
            ))
        }
        "trimspace" => {
            f.exact(&["str"])?;
            Ok(Value::String(f.string(0, "str")?.trim().to_string()))
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// Go's `unicode.ToLower` per rune.
fn lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut it = c.to_lowercase();
            match (it.next(), it.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
}

/// Go's `unicode.ToUpper` per rune (runes without a single-rune upper case stay).
fn upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut it = c.to_uppercase();
            match (it.next(), it.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    fn is_separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    }
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) {
                let mut it = c.to_uppercase();
                match (it.next(), it.next()) {
                    (Some(u), None) => u,
                    _ => c,
                }
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

fn indent(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["spaces", "str"])?;
    let spaces = f.int(0, "spaces")?;
    let s = f.string(1, "str")?;
    if spaces < 0 {
        return Err(arg_err(
            0,
            "spaces",
            "number of spaces must not be negative",
        ));
    }
    let lines = s.matches('\n').count();
    let spaces = usize::try_from(spaces).unwrap_or(usize::MAX);
    check_len(s.len().saturating_add(lines.saturating_mul(spaces)))?;
    let pad = format!("\n{}", " ".repeat(if lines == 0 { 0 } else { spaces }));
    Ok(Value::String(s.replace('\n', &pad)))
}

fn join(f: &Args) -> Result<Value, FuncError> {
    // cty's JoinFunc: the separator, then any number of lists (none is its own error).
    f.at_least(1, "separator")?;
    let sep = f.string(0, "separator")?;
    if f.len() < 2 {
        return Err(other("at least one list is required"));
    }
    let mut items: Vec<String> = Vec::new();
    for i in 1..f.len() {
        let list = f.string_list(i, "lists")?;
        for (n, item) in list.into_iter().enumerate() {
            match item {
                Some(s) => items.push(s),
                None => return Err(arg_err(i, "lists", format!("element {n} is null"))),
            }
        }
    }
    let total = items
        .iter()
        .map(String::len)
        .fold(0usize, usize::saturating_add)
        .saturating_add(sep.len().saturating_mul(items.len()));
    check_len(total)?;
    Ok(Value::String(items.join(&sep)))
}

/// A pattern compiled from Go's syntax, with its named groups' Go names (Rust's regex calls
/// group `n`'s name `_kn`: Go allows names Rust does not, `1x`, and the same name twice).
struct GoRegex {
    re: Regex,
    names: Vec<String>,
}

impl GoRegex {
    /// The Go name of a group Rust names.
    fn go_name<'a>(&'a self, rust: &'a str) -> &'a str {
        rust.strip_prefix("_k")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| self.names.get(n))
            .map_or(rust, String::as_str)
    }

    /// A `ReplaceAllString` template in Go's words (`$name`, `${name}`, `$$`) for Rust's
    /// regex: the names of named groups as Rust calls them.
    fn replacement(&self, rep: &str) -> String {
        let mut out = String::with_capacity(rep.len());
        let mut rest = rep;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            let (name, after) = if let Some(r) = rest.strip_prefix('{') {
                match r.find('}') {
                    Some(j) => (&r[..j], &r[j + 1..]),
                    None => {
                        out.push('$');
                        continue;
                    }
                }
            } else {
                let n = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..n], &rest[n..])
            };
            if name.is_empty() {
                out.push('$');
                continue;
            }
            match self.names.iter().position(|n| n == name) {
                Some(k) => out.push_str(&format!("${{_k{k}}}")),
                None => out.push_str(&format!("${{{name}}}")),
            }
            rest = after;
        }
        out.push_str(rest);
        out
    }
}

/// Compiles a pattern in Go's `regexp` syntax (RE2's: Rust's `regex` takes the same, once
/// [`go_to_rust`] has rewritten what the two read differently); a pattern Go refuses fails
/// with the code and the part of the pattern Go's `syntax.Error` holds ([`go_syntax_error`]).
fn compile(pat: &str) -> Result<GoRegex, GoRegexpError> {
    let (rust, names) = go_to_rust(pat)?;
    if let Some(e) = go_syntax_error(&rust) {
        return Err(e);
    }
    let re = RegexBuilder::new(&rust)
        .size_limit(16 * 1024 * 1024)
        .dfa_size_limit(16 * 1024 * 1024)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            let code = text
                .lines()
                .rev()
                .find(|l| l.trim_start().starts_with("error:"))
                .map(|l| {
                    l.trim_start()
                        .trim_start_matches("error:")
                        .trim()
                        .to_string()
                })
                .unwrap_or(text);
            GoRegexpError {
                code,
                expr: pat.to_string(),
            }
        })?;
    Ok(GoRegex { re, names })
}

/// Rewrites a Go pattern for Rust's regex where the two read the same text differently, and
/// refuses what Go refuses there: `\Q…\E` quotes literally; a `{` that starts no repeat
/// (`a{,5}`, `{01}`) is a literal; inside a class `[` and Rust's set operators are literals,
/// and `[:name:]` must be a POSIX class Go knows; an escaped punctuation character is that
/// character (`\<` is no word boundary); `\1`–`\7` followed by an octal digit and `\0` are
/// octal escapes; flags are only `imsU`; named groups (`(?P<n>`, `(?<n>`) take Go's names
/// (ASCII letters, digits, `_`), renamed `_k0`, `_k1`… for Rust.
fn go_to_rust(pat: &str) -> Result<(String, Vec<String>), GoRegexpError> {
    let err = |code: &str, expr: &str| GoRegexpError {
        code: code.to_string(),
        expr: expr.to_string(),
    };
    let mut out = String::with_capacity(pat.len() + 8);
    let mut names = Vec::new();
    let mut i = 0;
    let next_char = |i: usize| pat[i..].chars().next();
    while let Some(c) = next_char(i) {
        match c {
            '\\' => {
                let Some(e) = next_char(i + 1) else {
                    out.push('\\');
                    i += 1;
                    continue;
                };
                if e == 'Q' {
                    let body = &pat[i + 2..];
                    let (lit, rest) = body.split_once("\\E").unwrap_or((body, ""));
                    out.push_str(&regex::escape(lit));
                    i = pat.len() - rest.len();
                    continue;
                }
                i += 1 + e.len_utf8();
                if matches!(e, 'p' | 'P') && pat[i..].starts_with('{') && !pat[i..].contains('}') {
                    return Err(err("invalid character class range", &pat[i - 2..]));
                }
                escape(&mut out, pat, &mut i, e);
            }
            '[' => {
                i = class(&mut out, pat, i).map_err(|(code, expr)| err(code, expr))?;
            }
            '(' if pat[i..].starts_with("(?") => {
                let t = &pat[i..];
                let named = if t.starts_with("(?P<") {
                    Some(4)
                } else if t.starts_with("(?<") {
                    Some(3)
                } else {
                    None
                };
                if let Some(start) = named {
                    let Some(end) = t.find('>') else {
                        return Err(err("invalid named capture", t));
                    };
                    let name = &t[start..end];
                    if name.is_empty()
                        || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
                    {
                        return Err(err("invalid named capture", &t[..end + 1]));
                    }
                    out.push_str(&format!("(?P<_k{}>", names.len()));
                    names.push(name.to_string());
                    i += end + 1;
                    continue;
                }
                // Flags: Go knows `i`, `m`, `s` and `U`.
                let mut j = 2;
                while let Some(f) = t[j..].chars().next() {
                    match f {
                        'i' | 'm' | 's' | 'U' | '-' => j += 1,
                        ')' | ':' => break,
                        other => {
                            return Err(err(
                                "invalid or unsupported Perl syntax",
                                &t[..j + other.len_utf8()],
                            ));
                        }
                    }
                }
                out.push_str("(?");
                i += 2;
            }
            '{' => {
                let n = go_repeat_len(&pat[i..]);
                if n == 0 {
                    out.push_str("\\{");
                    i += 1;
                } else {
                    out.push_str(&pat[i..i + n]);
                    i += n;
                }
            }
            c => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    return Ok((out, names));

    /// An escape after its `\\` and `e` (read up to `i`), written for Rust.
    fn escape(out: &mut String, pat: &str, i: &mut usize, e: char) {
        let octal = |c: Option<char>| c.is_some_and(|c| ('0'..='7').contains(&c));
        match e {
            // Go's octal escapes: `\0` and up to two more digits, or `\1`–`\7` and one or two.
            '0'..='7' if e == '0' || octal(pat[*i..].chars().next()) => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match pat[*i..].chars().next() {
                        Some(d) if octal(Some(d)) => {
                            v = v * 8 + d.to_digit(8).unwrap_or(0);
                            *i += 1;
                        }
                        _ => break,
                    }
                }
                out.push_str(&format!("\\x{{{v:X}}}"));
            }
            // An escaped ASCII punctuation character is itself.
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => {
                if regex_syntax::is_meta_character(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            // `\\p{Greek}`, `\\x{263a}`: the braces belong to the escape.
            // Go's `\\p{^Greek}` is `\\P{Greek}`.
            c @ ('p' | 'P' | 'x') if pat[*i..].starts_with('{') => {
                let len = pat[*i..].find('}').map_or(pat.len() - *i, |k| k + 1);
                let body = &pat[*i..*i + len];
                out.push('\\');
                match body.strip_prefix("{^") {
                    Some(rest) if c != 'x' => {
                        out.push(if c == 'p' { 'P' } else { 'p' });
                        out.push('{');
                        out.push_str(rest);
                    }
                    _ => {
                        out.push(c);
                        out.push_str(body);
                    }
                }
                *i += len;
            }
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }

    /// A character class from its `[`: its end, or Go's error.
    fn class<'p>(
        out: &mut String,
        pat: &'p str,
        start: usize,
    ) -> Result<usize, (&'static str, &'p str)> {
        let mut i = start + 1;
        out.push('[');
        if pat[i..].starts_with('^') {
            out.push('^');
            i += 1;
        }
        let mut first = true;
        while let Some(c) = pat[i..].chars().next() {
            match c {
                ']' if !first => {
                    out.push(']');
                    return Ok(i + 1);
                }
                '\\' => {
                    let Some(e) = pat[i + 1..].chars().next() else {
                        out.push('\\');
                        return Ok(i + 1);
                    };
                    i += 1 + e.len_utf8();
                    if matches!(e, 'p' | 'P')
                        && pat[i..].starts_with('{')
                        && !pat[i..].contains('}')
                    {
                        return Err(("invalid character class range", &pat[i - 2..]));
                    }
                    escape(out, pat, &mut i, e);
                }
                '[' if pat[i..].starts_with("[:") => match pat[i + 2..].find(":]") {
                    Some(k) => {
                        let name = &pat[i..i + 2 + k + 2];
                        let known = [
                            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower",
                            "print", "punct", "space", "upper", "word", "xdigit",
                        ];
                        let bare = name[2..name.len() - 2].trim_start_matches('^');
                        if !known.contains(&bare) {
                            return Err(("invalid character class range", name));
                        }
                        out.push_str(name);
                        i += name.len();
                    }
                    None => {
                        out.push_str("\\[");
                        i += 1;
                    }
                },
                // Literals in Go, nested classes and set operators in Rust.
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += c.len_utf8();
                }
            }
            first = false;
        }
        // Unclosed: Rust's parser reports it.
        Ok(i)
    }
}

/// The length of the repeat (`{n}`, `{n,}`, `{n,m}`) at the start of `s` as Go's
/// `parseRepeat` reads one (no sign, no leading zero), or 0.
fn go_repeat_len(s: &str) -> usize {
    let b = s.as_bytes();
    let int = |at: usize| -> usize {
        let n = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n >= 2 && b[at] == b'0' { 0 } else { n }
    };
    let mut i = 1;
    let n = int(i);
    if n == 0 {
        return 0;
    }
    i += n;
    if b.get(i) == Some(&b',') {
        i += 1;
        if b.get(i) != Some(&b'}') {
            let m = int(i);
            if m == 0 {
                return 0;
            }
            i += m;
        }
    }
    if b.get(i) == Some(&b'}') { i + 1 } else { 0 }
}

/// Go's `regexp/syntax.Error`: what is wrong and where.
struct GoRegexpError {
    code: String,
    expr: String,
}

impl GoRegexpError {
    /// As cty's `regex` and `regexall` word it.
    fn cty(&self) -> String {
        format!("invalid regexp pattern: {} in {}", self.code, self.expr)
    }

    /// As Go's `regexp.Compile` error prints (Packer's `regex_replace`).
    fn go(&self) -> String {
        format!("error parsing regexp: {}: `{}`", self.code, self.expr)
    }
}

/// The error Go's `regexp/syntax` parser gives `pat`, for the mistakes Rust's parser also
/// finds (in Go's words, with the part of the pattern Go names) and the two it does not: a
/// repetition of a repetition (`a**`) and a repeat count over 1000.
fn go_syntax_error(pat: &str) -> Option<GoRegexpError> {
    use regex_syntax::ast::{self, ErrorKind as K, RepetitionKind, RepetitionRange};
    let err = |code: &str, expr: &str| {
        Some(GoRegexpError {
            code: code.to_string(),
            expr: expr.to_string(),
        })
    };
    let tree = match ast::parse::Parser::new().parse(pat) {
        Ok(tree) => tree,
        Err(e) => {
            let span = e.span();
            let at = |s: &ast::Span| pat.get(s.start.offset..s.end.offset).unwrap_or(pat);
            // Go names the group's start to the character it stopped at (`(?z`, `(?i-)`).
            let perl = || {
                let start = pat[..span.start.offset].rfind("(?").unwrap_or(0);
                let mut end = span.end.offset.max(span.start.offset + 1);
                if matches!(e.kind(), K::FlagDanglingNegation) {
                    end += 1;
                }
                pat.get(start..end.min(pat.len()))
                    .unwrap_or(pat)
                    .to_string()
            };
            return match e.kind() {
                K::ClassUnclosed => err("missing closing ]", &pat[span.start.offset..]),
                K::GroupUnclosed => err("missing closing )", pat),
                K::GroupUnopened => err("unexpected )", pat),
                // Go names the operator (`*`, `{2}`); Rust's span is empty before it.
                K::RepetitionMissing => {
                    let rest = &pat[span.start.offset..];
                    let len = match rest.chars().next() {
                        Some('{') => rest.find('}').map_or(rest.len(), |i| i + 1),
                        Some(c) => c.len_utf8(),
                        None => 0,
                    };
                    err("missing argument to repetition operator", &rest[..len])
                }
                K::EscapeUnrecognized => err("invalid escape sequence", at(span)),
                K::EscapeUnexpectedEof => err("trailing backslash at end of expression", ""),
                K::RepetitionCountInvalid => err("invalid repeat count", at(span)),
                K::ClassRangeInvalid | K::UnicodeClassInvalid => {
                    err("invalid character class range", at(span))
                }
                // A class escape as a range's end (`[a-\\d]`), `\\8`: Go's parseEscape refuses
                // the escape itself.
                K::ClassRangeLiteral | K::UnsupportedBackreference => {
                    err("invalid escape sequence", at(span))
                }
                K::FlagUnrecognized
                | K::FlagUnexpectedEof
                | K::FlagDanglingNegation
                | K::FlagRepeatedNegation { .. }
                | K::FlagDuplicate { .. } => err("invalid or unsupported Perl syntax", &perl()),
                _ => None,
            };
        }
    };
    // An unknown Unicode class (`\\p{Foo}`): Go's parseUnicodeClass refuses its range.
    if let Err(e) = regex_syntax::hir::translate::Translator::new().translate(pat, &tree) {
        use regex_syntax::hir::ErrorKind as H;
        if matches!(
            e.kind(),
            H::UnicodePropertyNotFound | H::UnicodePropertyValueNotFound
        ) {
            let s = e.span();
            return err(
                "invalid character class range",
                pat.get(s.start.offset..s.end.offset).unwrap_or(pat),
            );
        }
    }
    // What Rust accepts and Go does not.
    let mut found = None;
    let _ = ast::visit(
        &tree,
        GoChecks {
            pat,
            found: &mut found,
        },
    );
    return found;

    struct GoChecks<'a, 'b> {
        pat: &'a str,
        found: &'b mut Option<GoRegexpError>,
    }
    impl ast::Visitor for GoChecks<'_, '_> {
        type Output = ();
        type Err = ();
        fn finish(self) -> Result<(), ()> {
            Ok(())
        }
        fn visit_pre(&mut self, a: &ast::Ast) -> Result<(), ()> {
            let ast::Ast::Repetition(rep) = a else {
                return Ok(());
            };
            let text = |start: usize, end: usize| self.pat.get(start..end).unwrap_or("");
            if let ast::Ast::Repetition(inner) = &*rep.ast {
                *self.found = Some(GoRegexpError {
                    code: "invalid nested repetition operator".into(),
                    expr: text(inner.op.span.start.offset, rep.op.span.end.offset).into(),
                });
                return Err(());
            }
            let over = |n: u32| n > 1000;
            if let RepetitionKind::Range(r) = &rep.op.kind {
                let big = match r {
                    RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => over(*n),
                    RepetitionRange::Bounded(a, b) => over(*a) || over(*b),
                };
                if big {
                    *self.found = Some(GoRegexpError {
                        code: "invalid repeat count".into(),
                        expr: text(rep.op.span.start.offset, rep.op.span.end.offset).into(),
                    });
                    return Err(());
                }
            }
            Ok(())
        }
    }
}

fn regex_fn(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["pattern", "string"])?;
    let pat = f.string(0, "pattern")?;
    let s = f.string(1, "string")?;
    let re = compile(&pat).map_err(|e| arg_err(0, "pattern", e.cty()))?;
    let names: Vec<Option<&str>> = re
        .re
        .capture_names()
        .skip(1)
        .map(|n| n.map(|n| re.go_name(n)))
        .collect();
    let named = names.iter().filter(|n| n.is_some()).count();
    if named > 0 && named != names.len() {
        return Err(arg_err(
            0,
            "pattern",
            "invalid regexp pattern: cannot mix both named and unnamed capture groups",
        ));
    }
    let result = |caps: &regex::Captures| -> Value {
        if names.is_empty() {
            return Value::str(caps.get(0).map(|m| m.as_str()).unwrap_or(""));
        }
        if named > 0 {
            let mut o = BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                if let Some(n) = n {
                    let v = caps
                        .get(i + 1)
                        .map(|m| Value::str(m.as_str()))
                        .unwrap_or(Value::Null);
                    o.insert(n.to_string(), v);
                }
            }
            return Value::Object(o);
        }
        Value::List(
            (1..=names.len())
                .map(|i| {
                    caps.get(i)
                        .map(|m| Value::str(m.as_str()))
                        .unwrap_or(Value::Null)
                })
                .collect(),
        )
    };
    if f.name == "regex" {
        match re.re.captures(&s) {
            Some(c) => Ok(result(&c)),
            None => Err(other("pattern did not match any part of the given string")),
        }
    } else {
        let mut out = Vec::new();
        for c in re.re.captures_iter(&s) {
            if out.len() >= MAX_LIST {
                return Err(other(format!(
                    "the result would have more than {MAX_LIST} elements, which Kiln does not allow"
                )));
            }
            out.push(result(&c));
        }
        Ok(Value::List(out))
    }
}

/// cty's `substr`, grapheme by grapheme, including its treatment of out-of-range offsets.
fn substr(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["str", "offset", "length"])?;
    let s = f.string(0, "str")?;
    let mut offset = f.int(1, "offset")?;
    let length = f.int(2, "length")?;
    let g = graphemes(&s);
    let total = g.len() as i64;
    if offset < 0 {
        offset = offset.saturating_add(total);
    } else if length == 0 {
        return Ok(Value::str(""));
    }
    // Byte offset where grapheme `k` starts.
    let starts: Vec<usize> = g
        .iter()
        .scan(0usize, |acc, x| {
            let start = *acc;
            *acc += x.len();
            Some(start)
        })
        .collect();
    let byte_at = |k: usize| starts.get(k).copied().unwrap_or(s.len());
    let mut first = 0usize;
    let mut pos: i64 = 0;
    if offset > 0 {
        if offset > total {
            return Ok(Value::str(""));
        }
        first = offset as usize;
        pos = offset;
    }
    let rest = &g[first.min(g.len())..];
    if length < 0 {
        return Ok(Value::str(&s[byte_at(first)..]));
    }
    let target = offset.saturating_add(length);
    let mut taken = rest.len();
    for i in 0..rest.len() {
        pos += 1;
        if pos == target {
            taken = i + 1;
            break;
        }
    }
    Ok(Value::str(&s[byte_at(first)..byte_at(first + taken)]))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    /// Go's reading of patterns Rust reads otherwise, and no panic on any pattern.
    #[test]
    fn patterns_are_read_as_go_reads_them() {
        let m = |p: &str, s: &str| {
            super::compile(p).map(|r| r.re.find(s).map(|x| x.as_str().to_string()))
        };
        assert_eq!(
            m("a{,5}", "xa{,5}").ok().flatten().as_deref(),
            Some("a{,5}")
        );
        assert_eq!(m("a{01}", "a{01}").ok().flatten().as_deref(), Some("a{01}"));
        assert_eq!(m(r"\Q.*\E+", "a.*b").ok().flatten().as_deref(), Some(".*"));
        assert_eq!(m(r"[a[b]+", "x[ab").ok().flatten().as_deref(), Some("[ab"));
        assert_eq!(m(r"\101", "A").ok().flatten().as_deref(), Some("A"));
        assert_eq!(m(r"\<", "<").ok().flatten().as_deref(), Some("<"));
        assert_eq!(
            m(r"\P{^Greek}+", "xαβ").ok().flatten().as_deref(),
            Some("αβ")
        );
        let e = |p: &str| super::compile(p).err().map(|e| e.cty());
        assert_eq!(
            e("(?x)a").as_deref(),
            Some("invalid regexp pattern: invalid or unsupported Perl syntax in (?x")
        );
        assert_eq!(
            e("[[:foo:]]").as_deref(),
            Some("invalid regexp pattern: invalid character class range in [:foo:]")
        );
        assert_eq!(
            e("(?P<a-b>x)").as_deref(),
            Some("invalid regexp pattern: invalid named capture in (?P<a-b>")
        );
        // Go's names, even twice: the last group wins.
        assert_eq!(
            ok("regex", vec![s("(?P<1x>a)(?P<1x>b)"), s("ab")]),
            obj(&[("1x", s("b"))])
        );
        let mut seed: u64 = 7;
        let alphabet: Vec<char> = r"\[](){}?*+|^$.-,:<>=P!QEpx0123456789az&~_ "
            .chars()
            .collect();
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 12) as usize;
            let mut x = seed;
            let pat: String = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(x >> 33) as usize % alphabet.len()]
                })
                .collect();
            let _ = super::compile(&pat);
        }
    }

    #[test]
    fn chomp() {
        assert_eq!(ok("chomp", vec![s("hello\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\r\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\n\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hel\nlo")]), s("hel\nlo"));
        assert_eq!(err("chomp", vec![l(vec![])]), "string required");
        assert_eq!(err("chomp", vec![Value::Null]), "argument must not be null");
    }

    #[test]
    fn starts_ends_contains() {
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("hello")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("world")]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("endswith", vec![s("hello world"), s("world")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("endswith", vec![s("hello world"), s("hello")]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("strcontains", vec![s("hello world"), s("wor")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("strcontains", vec![s("hello world"), s("wod")]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("strcontains", vec![n(1234.0), n(23.0)]),
            Value::Bool(true)
        );
    }

    #[test]
    fn indent() {
        assert_eq!(
            ok("indent", vec![n(2.0), s("[\n  foo,\n  bar,\n]\n")]),
            s("[\n    foo,\n    bar,\n  ]\n  ")
        );
        assert_eq!(ok("indent", vec![n(4.0), s("a")]), s("a"));
        assert_eq!(
            err("indent", vec![n(-1.0), s("a")]),
            "number of spaces must not be negative"
        );
        assert!(err("indent", vec![n(1.5), s("a")]).contains("whole number"));
        // Bounded output.
        let many = "\n".repeat(1000);
        assert!(err("indent", vec![n(1e9), s(&many)]).contains("longer than"));
    }

    #[test]
    fn join() {
        assert_eq!(
            ok("join", vec![s("-"), sl(&["foo", "bar", "baz"])]),
            s("foo-bar-baz")
        );
        assert_eq!(
            ok("join", vec![s(", "), sl(&["foo", "bar", "baz"])]),
            s("foo, bar, baz")
        );
        assert_eq!(ok("join", vec![s(", "), sl(&["foo"])]), s("foo"));
        assert_eq!(
            ok("join", vec![s(","), sl(&["a"]), sl(&["b", "c"])]),
            s("a,b,c")
        );
        assert_eq!(
            ok("join", vec![s(","), l(vec![n(1.0), Value::Bool(true)])]),
            s("1,true")
        );
        assert_eq!(
            err("join", vec![s(","), l(vec![s("a"), Value::Null])]),
            "element 1 is null"
        );
        assert_eq!(
            err("join", vec![s(","), l(vec![s("a"), l(vec![])])]),
            "element 1: string required"
        );
        assert_eq!(err("join", vec![s(",")]), "at least one list is required");
        assert!(err("join", vec![]).contains("Missing value for \"separator\""));
    }

    #[test]
    fn case() {
        assert_eq!(ok("lower", vec![s("HELLO")]), s("hello"));
        assert_eq!(ok("lower", vec![s("АЛЛО!")]), s("алло!"));
        assert_eq!(ok("upper", vec![s("hello")]), s("HELLO"));
        assert_eq!(ok("upper", vec![s("алло!")]), s("АЛЛО!"));
        assert_eq!(ok("upper", vec![s("straße")]), s("STRAßE"));
        assert_eq!(ok("title", vec![s("hello world")]), s("Hello World"));
        assert_eq!(
            ok("title", vec![s("hello-world_x y.z")]),
            s("Hello-World_x Y.Z")
        );
    }

    #[test]
    fn regex() {
        assert_eq!(
            ok(
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]
            ),
            s("aaabbbccc")
        );
        assert_eq!(
            ok(
                "regex",
                vec![s(r"(\d\d\d\d)-(\d\d)-(\d\d)"), s("2019-02-01")]
            ),
            sl(&["2019", "02", "01"])
        );
        assert_eq!(
            ok(
                "regex",
                vec![
                    s(r"^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    s("https://terraform.io/docs/")
                ]
            ),
            obj(&[("authority", s("terraform.io")), ("scheme", s("https"))])
        );
        assert_eq!(
            ok("regex", vec![s("(a)|(b)"), s("b")]),
            l(vec![Value::Null, s("b")])
        );
        assert_eq!(
            err("regex", vec![s("[a-z]+"), s("53453453.34534523454")]),
            "pattern did not match any part of the given string"
        );
        assert!(err("regex", vec![s("(a"), s("a")]).starts_with("invalid regexp pattern"));
        assert_eq!(
            err("regex", vec![s("(?P<x>a)(b)"), s("ab")]),
            "invalid regexp pattern: cannot mix both named and unnamed capture groups"
        );
    }

    #[test]
    fn regexall() {
        assert_eq!(
            ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]),
            sl(&["abcd", "efgh"])
        );
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("123")]), l(vec![]));
        assert_eq!(
            ok("regexall", vec![s(r"(\w)=(\d)"), s("a=1 b=2")]),
            l(vec![sl(&["a", "1"]), sl(&["b", "2"])])
        );
    }

    #[test]
    fn regex_replace() {
        assert_eq!(
            ok(
                "regex_replace",
                vec![s("hello world"), s("w.*d"), s("everybody")]
            ),
            s("hello everybody")
        );
        assert_eq!(
            ok(
                "regex_replace",
                vec![s("2023-07-25"), s(r"(\d+)-(\d+)-(\d+)"), s("$3/$2/$1")]
            ),
            s("25/07/2023")
        );
        assert_eq!(
            ok("regex_replace", vec![s("abc"), s("(?P<x>b)"), s("[${x}]")]),
            s("a[b]c")
        );
        assert_eq!(
            ok("regex_replace", vec![s("-ab-axxb-"), s("a(x*)b"), s("$1W")]),
            s("---")
        );
        assert_eq!(
            ok(
                "regex_replace",
                vec![s("-ab-axxb-"), s("a(x*)b"), s("${1}W")]
            ),
            s("-W-xxW-")
        );
        // Go's regexp error as it prints (Packer's own function).
        assert_eq!(
            err("regex_replace", vec![s("a"), s("a("), s("")]),
            "error parsing regexp: missing closing ): `a(`"
        );
    }

    #[test]
    fn regex_errors_in_go_words() {
        let e = |pat: &str| err("regex", vec![s(pat), s("a")]);
        assert_eq!(e("a[b"), "invalid regexp pattern: missing closing ] in [b");
        assert_eq!(e("a)b"), "invalid regexp pattern: unexpected ) in a)b");
        assert_eq!(
            e("{2}"),
            "invalid regexp pattern: missing argument to repetition operator in {2}"
        );
        assert_eq!(
            e("a+*?"),
            "invalid regexp pattern: invalid nested repetition operator in +*?"
        );
        assert_eq!(
            e("a{1001}"),
            "invalid regexp pattern: invalid repeat count in {1001}"
        );
        assert_eq!(
            e("a{2,1}"),
            "invalid regexp pattern: invalid repeat count in {2,1}"
        );
        assert_eq!(
            e("[z-a]"),
            "invalid regexp pattern: invalid character class range in z-a"
        );
        assert_eq!(
            e("\\q"),
            "invalid regexp pattern: invalid escape sequence in \\q"
        );
        assert_eq!(
            e("x\\"),
            "invalid regexp pattern: trailing backslash at end of expression in "
        );
        assert_eq!(
            e("(?i-)"),
            "invalid regexp pattern: invalid or unsupported Perl syntax in (?i-)"
        );
        assert_eq!(
            e("(?z)"),
            "invalid regexp pattern: invalid or unsupported Perl syntax in (?z"
        );
        // Go accepts these.
        assert!(c("regex", vec![s("(a*)*"), s("aa")]).is_ok());
        assert_eq!(
            ok("regex", vec![s("a{1000}"), s(&"a".repeat(1000))]),
            s(&"a".repeat(1000))
        );
    }

    #[test]
    fn replace() {
        assert_eq!(
            ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            s("1 - 2 - 3")
        );
        assert_eq!(
            ok(
                "replace",
                vec![s("hello world"), s("world"), s("everybody")]
            ),
            s("hello everybody")
        );
        // Plain substring, as cty's stdlib replace (no /regex/ form).
        assert_eq!(ok("replace", vec![s("a/b/"), s("/b/"), s("x")]), s("ax"));
        assert_eq!(ok("replace", vec![s("abc"), s(""), s("-")]), s("-a-b-c-"));
    }

    #[test]
    fn split() {
        assert_eq!(ok("split", vec![s(","), s("foo")]), sl(&["foo"]));
        assert_eq!(
            ok("split", vec![s(","), s("foo,bar,baz")]),
            sl(&["foo", "bar", "baz"])
        );
        assert_eq!(ok("split", vec![s(","), s("")]), sl(&[""]));
        assert_eq!(
            ok("split", vec![s(","), s("foo,,baz")]),
            sl(&["foo", "", "baz"])
        );
        assert_eq!(ok("split", vec![s(""), s("abc")]), sl(&["a", "b", "c"]));
        assert_eq!(ok("split", vec![s(""), s("")]), l(vec![]));
    }

    #[test]
    fn strrev() {
        assert_eq!(ok("strrev", vec![s("hello")]), s("olleh"));
        assert_eq!(ok("strrev", vec![s("a ☃")]), s("☃ a"));
        assert_eq!(ok("strrev", vec![s("xe\u{301}")]), s("e\u{301}x"));
    }

    #[test]
    fn substr() {
        assert_eq!(
            ok("substr", vec![s("hello world"), n(1.0), n(4.0)]),
            s("ello")
        );
        assert_eq!(ok("substr", vec![s("🤔🤷"), n(0.0), n(1.0)]), s("🤔"));
        assert_eq!(
            ok("substr", vec![s("hello world"), n(-5.0), n(-1.0)]),
            s("world")
        );
        assert_eq!(
            ok("substr", vec![s("hello world"), n(6.0), n(10.0)]),
            s("world")
        );
        assert_eq!(ok("substr", vec![s("hello"), n(0.0), n(0.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(10.0), n(2.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(5.0), n(2.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(0.0), n(-1.0)]), s("hello"));
        assert_eq!(ok("substr", vec![s(""), n(0.0), n(3.0)]), s(""));
        assert_eq!(ok("substr", vec![s("hello"), n(-7.0), n(3.0)]), s("h"));
        assert!(err("substr", vec![s("x"), n(0.5), n(1.0)]).contains("whole number"));
    }

    #[test]
    fn trims() {
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trim", vec![s("foobar"), s("far")]), s("oob"));
        assert_eq!(
            ok("trim", vec![s("   hello! world.!  "), s("! ")]),
            s("hello! world.")
        );
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("hello")]),
            s("world")
        );
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("cat")]),
            s("helloworld")
        );
        assert_eq!(
            ok("trimsuffix", vec![s("helloworld"), s("world")]),
            s("hello")
        );
        assert_eq!(
            ok("trimsuffix", vec![s("helloworld"), s("cat")]),
            s("helloworld")
        );
        assert_eq!(ok("trimspace", vec![s("  hello\n\n")]), s("hello"));
        assert_eq!(ok("trimspace", vec![s("\u{a0}x\u{3000}")]), s("x"));
    }
}
