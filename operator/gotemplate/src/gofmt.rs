//! The parts of Go's `strconv` and `fmt` that templates reach: quoting and unquoting
//! literals, number syntax, and printing values (`print`, `println`, `printf`, `{{.}}`).

use crate::value::Value;

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and U+0020.
pub fn is_print(r: char) -> bool {
    use unicode_general_category::{GeneralCategory as G, get_general_category};
    if r == ' ' {
        return true;
    }
    if r.is_ascii() {
        return r.is_ascii_graphic();
    }
    !matches!(
        get_general_category(r),
        G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
    )
}

/// Go's `strconv.Quote`: a double-quoted Go string literal, with `\a \b \f \n \r \t \v`,
/// `\\` and `\"` escaped, other control characters as `\x..`, and characters Go does not
/// print (not a letter, mark, number, punctuation or symbol, nor the ASCII space) as
/// `\u....` or `\U........`.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// Go's `strconv.QuoteToASCII` (`%+q`): also every non-ASCII character escaped.
pub fn quote_ascii(s: &str) -> String {
    quote_with(s, '"', true)
}

pub(crate) fn quote_with(s: &str, q: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for r in s.chars() {
        escape_rune(&mut out, r, q, ascii_only);
    }
    out.push(q);
    out
}

fn escape_rune(out: &mut String, r: char, q: char, ascii_only: bool) {
    if r == q || r == '\\' {
        out.push('\\');
        out.push(r);
        return;
    }
    if is_print(r) && (r.is_ascii() || !ascii_only) {
        out.push(r);
        return;
    }
    match r {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        r if (r as u32) < 0x20 || r == '\x7f' => out.push_str(&format!("\\x{:02x}", r as u32)),
        r if (r as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", r as u32)),
        r => out.push_str(&format!("\\U{:08x}", r as u32)),
    }
}

/// Go's `strconv.UnquoteChar`: one (possibly escaped) character of a literal quoted with `q`;
/// returns the character and the rest. Byte escapes (`\xff`) above 0x7f become U+FFFD (Rust
/// strings hold UTF-8 only).
pub(crate) fn unquote_char(s: &str, q: char) -> Result<(char, &str), ()> {
    let mut it = s.chars();
    let c = it.next().ok_or(())?;
    if c == q && (q == '\'' || q == '"') {
        return Err(());
    }
    if c != '\\' {
        return Ok((c, it.as_str()));
    }
    let e = it.next().ok_or(())?;
    let rest = it.as_str();
    let simple = match e {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' | '"' if e == q => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, rest));
    }
    let hex = |n: usize| -> Result<(u32, &str), ()> {
        if rest.len() < n || !rest.is_char_boundary(n) {
            return Err(());
        }
        let v = u32::from_str_radix(&rest[..n], 16).map_err(|_| ())?;
        if !rest[..n].bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        Ok((v, &rest[n..]))
    };
    match e {
        'x' => {
            let (v, r) = hex(2)?;
            Ok((
                char::from_u32(v).filter(|_| v < 0x80).unwrap_or('\u{FFFD}'),
                r,
            ))
        }
        'u' => {
            let (v, r) = hex(4)?;
            Ok((char::from_u32(v).ok_or(())?, r))
        }
        'U' => {
            let (v, r) = hex(8)?;
            Ok((char::from_u32(v).ok_or(())?, r))
        }
        '0'..='7' => {
            if rest.len() < 2 || !rest.is_char_boundary(2) {
                return Err(());
            }
            let digits = format!("{e}{}", &rest[..2]);
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(());
            }
            let v = u32::from_str_radix(&digits, 8).map_err(|_| ())?;
            if v > 255 {
                return Err(());
            }
            Ok((
                char::from_u32(v).filter(|_| v < 0x80).unwrap_or('\u{FFFD}'),
                &rest[2..],
            ))
        }
        _ => Err(()),
    }
}

/// Go's `strconv.Unquote` for "…" and `…` literals (the lexer only makes those).
pub(crate) fn unquote(s: &str) -> Result<String, ()> {
    let q = s.chars().next().ok_or(())?;
    if s.len() < 2 || !s.ends_with(q) {
        return Err(());
    }
    let body = &s[1..s.len() - 1];
    match q {
        '`' => {
            if body.contains('`') {
                return Err(());
            }
            Ok(body.replace('\r', ""))
        }
        '"' => {
            if body.contains('\n') {
                return Err(());
            }
            let mut out = String::with_capacity(body.len());
            let mut rest = body;
            while !rest.is_empty() {
                let (c, r) = unquote_char(rest, '"')?;
                out.push(c);
                rest = r;
            }
            Ok(out)
        }
        _ => Err(()),
    }
}

/// Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut hex = false;
    if b.len() - i >= 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[i + 1] | 0x20 == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    let (base, digits) = base_prefix(s);
    if digits.is_empty() || base == 0 {
        return None;
    }
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let d: String = digits.chars().filter(|&c| c != '_').collect();
    if d.is_empty() {
        return None;
    }
    u64::from_str_radix(&d, base).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let u = parse_uint(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else if u <= i64::MAX as u64 {
        Some(u as i64)
    } else {
        None
    }
}

fn base_prefix(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'0' {
        match b[1] | 0x20 {
            b'x' => return (16, &s[2..]),
            b'o' => return (8, &s[2..]),
            b'b' => return (2, &s[2..]),
            _ => {
                // A leading 0: octal, the 0 itself a digit.
                if s[1..]
                    .bytes()
                    .all(|c| (b'0'..=b'7').contains(&c) || c == b'_')
                {
                    return (8, &s[1..]);
                }
                return (0, s);
            }
        }
    }
    if s.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
        (10, s)
    } else {
        (0, s)
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the syntax the lexer lets through (decimal and hex
/// floats, underscores). Out-of-range values are errors as in Go.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let t: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    let v = if body.len() > 2 && body[..2].eq_ignore_ascii_case("0x") {
        parse_hex_float(&body[2..])?
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    // Go requires the binary exponent of a hex float.
    let i = s.find(['p', 'P'])?;
    let (mant, exp) = (&s[..i], s[i + 1..].parse::<i32>().ok()?);
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// The shortest decimal digits of |x| and its decimal exponent: x = 0.d1d2… × 10^dp.
fn shortest_digits(x: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest representation that round-trips, as Go's does.
    let e = format!("{:e}", x.abs());
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = m.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_string(), exp + 1)
}

/// Go's `strconv.FormatFloat(x, verb, prec, 64)` for verbs `e`, `f`, `g` (prec None = shortest).
pub(crate) fn format_float(x: f64, verb: char, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let neg = x.is_sign_negative();
    let sign = if neg { "-" } else { "" };
    let upper = verb.is_ascii_uppercase();
    let body = match verb.to_ascii_lowercase() {
        'f' => match prec {
            Some(p) => format!("{:.*}", p, x.abs()),
            None => {
                let (d, dp) = shortest_digits(x);
                fixed_from_digits(&d, dp)
            }
        },
        'e' => {
            let (d, dp) = match prec {
                Some(p) => rounded_digits(x, p + 1),
                None => shortest_digits(x),
            };
            exp_from_digits(&d, dp, prec, 'e')
        }
        _ => {
            // 'g'
            let (d, dp, eprec) = match prec {
                None => {
                    let (d, dp) = shortest_digits(x);
                    (d, dp, 6)
                }
                Some(p) => {
                    let p = p.max(1);
                    let (d, dp) = rounded_digits(x, p);
                    let d = d.trim_end_matches('0').to_string();
                    let d = if d.is_empty() { "0".into() } else { d };
                    let mut eprec = p as i32;
                    if eprec > d.len() as i32 && d.len() as i32 >= dp {
                        eprec = d.len() as i32;
                    }
                    (d, dp, eprec)
                }
            };
            let exp = dp - 1;
            if x == 0.0 {
                "0".to_string()
            } else if exp < -4 || exp >= eprec {
                exp_from_digits(&d, dp, Some(d.len() - 1), 'e')
            } else {
                fixed_from_digits(&d, dp)
            }
        }
    };
    let s = format!("{sign}{body}");
    if upper { s.to_uppercase() } else { s }
}

/// `n` significant digits of |x|, rounded half to even as Go does on exact decimals.
fn rounded_digits(x: f64, n: usize) -> (String, i32) {
    if x == 0.0 {
        return ("0".repeat(n.max(1)), 1);
    }
    let e = format!("{:.*e}", n.saturating_sub(1), x.abs());
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    (m.chars().filter(|c| *c != '.').collect(), exp + 1)
}

fn fixed_from_digits(d: &str, dp: i32) -> String {
    if d == "0" {
        return "0".into();
    }
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), d)
    } else if dp as usize >= d.len() {
        format!("{}{}", d, "0".repeat(dp as usize - d.len()))
    } else {
        format!("{}.{}", &d[..dp as usize], &d[dp as usize..])
    }
}

fn exp_from_digits(d: &str, dp: i32, prec: Option<usize>, e: char) -> String {
    let mut out = String::new();
    out.push_str(&d[..1]);
    let frac = &d[1..];
    let want = prec.unwrap_or(frac.len());
    if want > 0 {
        out.push('.');
        out.push_str(frac);
        for _ in frac.len()..want {
            out.push('0');
        }
    }
    let exp = if d == "0" || d.bytes().all(|b| b == b'0') {
        0
    } else {
        dp - 1
    };
    out.push(e);
    out.push(if exp < 0 { '-' } else { '+' });
    let a = exp.abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
    out
}

pub(crate) fn format_complex(r: f64, i: f64) -> String {
    let im = format_float(i, 'g', None);
    let im = if im.starts_with(['-', '+']) {
        im
    } else {
        format!("+{im}")
    };
    format!("({}{}i)", format_float(r, 'g', None), im)
}

/// Go's `fmt.Sprint`: spaces between operands when neither side is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Value::String(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        out.push_str(&a.to_string());
    }
    out
}

/// Go's `fmt.Sprintln`: spaces between all operands, and a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = args
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    out.push('\n');
    out
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Flags {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(s: String, f: &Flags, numeric: bool) -> String {
    let Some(w) = f.width else { return s };
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = w - n;
    if f.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if f.zero && numeric {
        let (sign, rest) = if s.starts_with(['-', '+', ' ']) {
            s.split_at(1)
        } else {
            ("", s.as_str())
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

/// Go's `badVerb`: the value printed with `%v` and the same flags.
fn bad_verb(verb: char, v: &Value, f: &Flags) -> String {
    match v {
        Value::Invalid => format!("%!{verb}(<invalid reflect.Value>)"),
        Value::Nil => format!("%!{verb}(<nil>)"),
        v => format!("%!{verb}({}={})", v.type_name(), fmt_value(v, 'v', f)),
    }
}

/// An integer as a rune; invalid ones are U+FFFD, as in Go.
fn rune(i: i128) -> char {
    u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}')
}

fn fmt_int(i: i128, verb: char, f: &Flags) -> Option<String> {
    let neg = i < 0;
    let a = i.unsigned_abs();
    let mut digits = match verb {
        'd' | 'v' => a.to_string(),
        'x' => format!("{a:x}"),
        'X' => format!("{a:X}"),
        'o' | 'O' => format!("{a:o}"),
        'b' => format!("{a:b}"),
        'c' => return Some(pad(rune(i).to_string(), f, false)),
        'q' => {
            return Some(pad(
                quote_with(&rune(i).to_string(), '\'', f.plus),
                f,
                false,
            ));
        }
        'U' => return Some(pad(format!("U+{a:04X}"), f, false)),
        _ => return None,
    };
    if let Some(p) = f.prec {
        while digits.len() < p {
            digits.insert(0, '0');
        }
        if p == 0 && a == 0 {
            digits.clear();
        }
    }
    if f.sharp {
        match verb {
            'x' => digits.insert_str(0, "0x"),
            'X' => digits.insert_str(0, "0X"),
            'o' if !digits.starts_with('0') => digits.insert(0, '0'),
            'b' => digits.insert_str(0, "0b"),
            _ => {}
        }
    }
    if verb == 'O' {
        digits.insert_str(0, "0o");
    }
    let sign = if neg {
        "-"
    } else if f.plus {
        "+"
    } else if f.space {
        " "
    } else {
        ""
    };
    let f2 = Flags {
        zero: f.zero && f.prec.is_none(),
        ..*f
    };
    Some(pad(format!("{sign}{digits}"), &f2, true))
}

fn fmt_float(x: f64, verb: char, f: &Flags) -> Option<String> {
    let s = match verb {
        'v' | 'g' | 'G' => format_float(x, if verb == 'G' { 'G' } else { 'g' }, f.prec),
        'f' | 'F' => format_float(x, 'f', Some(f.prec.unwrap_or(6))),
        'e' | 'E' => format_float(x, verb, Some(f.prec.unwrap_or(6))),
        _ => return None,
    };
    let s = if f.plus && !s.starts_with('-') {
        format!("+{s}")
    } else if f.space && !s.starts_with('-') {
        format!(" {s}")
    } else {
        s
    };
    Some(pad(s, f, x.is_finite()))
}

/// Go's `strconv.CanBackquote`: one line without a backquote, control characters other than
/// tab, or U+FEFF.
fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\t' || !(c < ' ' || c == '`' || c == '\u{7f}' || c == '\u{feff}'))
}

fn fmt_string(s: &str, verb: char, f: &Flags) -> Option<String> {
    let t: String = match f.prec {
        Some(p) if matches!(verb, 's' | 'v' | 'q') => s.chars().take(p).collect(),
        _ => s.to_string(),
    };
    let out = match verb {
        'v' if f.sharp => quote(&t),
        's' | 'v' => t,
        'q' if f.sharp && can_backquote(&t) => format!("`{t}`"),
        'q' if f.plus => quote_ascii(&t),
        'q' => quote(&t),
        'x' | 'X' => {
            // Go's fmtSbx: the precision counts bytes.
            let bytes = &s.as_bytes()[..f.prec.unwrap_or(usize::MAX).min(s.len())];
            hex_bytes(bytes, verb == 'X', f)
        }
        _ => return None,
    };
    // Go pads strings with zeros too under the `0` flag (its writePadding).
    Some(match f.width {
        Some(w) if f.zero && !f.minus && out.chars().count() < w => {
            format!("{}{out}", "0".repeat(w - out.chars().count()))
        }
        _ => pad(out, f, false),
    })
}

/// `%x`/`%X` of a string's bytes: `% x` separates them, `%#x` prefixes `0x` (to each one
/// with the space flag).
fn hex_bytes(bytes: &[u8], upper: bool, f: &Flags) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for (i, b) in bytes.iter().enumerate() {
        if f.space && i > 0 {
            out.push(' ');
        }
        if f.sharp && (f.space || i == 0) {
            out.push_str(if upper { "0X" } else { "0x" });
        }
        out.push_str(&if upper {
            format!("{b:02X}")
        } else {
            format!("{b:02x}")
        });
    }
    out
}

/// An element inside a map, list or struct: a nil interface there prints `<nil>` whatever
/// the verb.
fn fmt_elem(v: &Value, verb: char, f: &Flags) -> String {
    match v {
        Value::Nil | Value::Invalid => "<nil>".into(),
        v => fmt_value(v, verb, f),
    }
}

pub(crate) fn fmt_value(v: &Value, verb: char, f: &Flags) -> String {
    let r = match v {
        Value::Bool(b) if matches!(verb, 't' | 'v') => Some(pad(b.to_string(), f, false)),
        Value::Int(i) => fmt_int(*i as i128, verb, f),
        Value::Float(x) => fmt_float(*x, verb, f),
        Value::String(s) => fmt_string(s, verb, f),
        Value::Nil if verb == 'v' => Some(pad("<nil>".into(), f, false)),
        Value::List(l) if verb != 'T' => {
            let parts: Vec<String> = l.items.iter().map(|i| fmt_elem(i, verb, f)).collect();
            Some(format!("[{}]", parts.join(" ")))
        }
        Value::Map(m) if verb != 'T' => {
            let parts: Vec<String> = m
                .entries
                .iter()
                .map(|(k, i)| {
                    format!(
                        "{}:{}",
                        fmt_value(&Value::String(k.clone()), verb, f),
                        fmt_elem(i, verb, f)
                    )
                })
                .collect();
            Some(format!("map[{}]", parts.join(" ")))
        }
        Value::Struct(s) if verb != 'T' => {
            let parts: Vec<String> = s
                .fields
                .iter()
                .map(|(k, i)| {
                    if f.plus {
                        format!("{k}:{}", fmt_elem(i, verb, f))
                    } else {
                        fmt_elem(i, verb, f)
                    }
                })
                .collect();
            Some(format!("{{{}}}", parts.join(" ")))
        }
        Value::Complex(..) if verb == 'v' => Some(pad(v.to_string(), f, false)),
        _ => None,
    };
    if verb == 'T' {
        return pad(v.type_name().to_string(), f, false);
    }
    r.unwrap_or_else(|| bad_verb(verb, v, f))
}

/// `%s` of a value (Go's `fmt.Sprintf("%s", v)`).
pub(crate) fn sprint_s(v: &Value) -> String {
    fmt_value(v, 's', &Flags::default())
}

/// Go's `fmt.Sprintf` for the verbs templates use (`%v %s %q %d %x %X %o %b %c %U %t %f %e
/// %g %T %%`, flags `+-# 0`, width, precision, `*`), with Go's `%!verb(type=value)`,
/// `%!v(MISSING)` and `%!(EXTRA …)` markers.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut f = Flags::default();
        // Flags.
        while let Some(&(_, c)) = chars.peek() {
            match c {
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                '+' => f.plus = true,
                '#' => f.sharp = true,
                ' ' => f.space = true,
                '0' => f.zero = !f.minus,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if let Some(&(_, '*')) = chars.peek() {
            chars.next();
            match args.get(argi) {
                Some(Value::Int(w)) => {
                    if *w < 0 {
                        f.minus = true;
                        f.zero = false;
                    }
                    f.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argi += 1;
        } else {
            let mut w = String::new();
            while let Some(&(_, c)) = chars.peek() {
                if !c.is_ascii_digit() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            if !w.is_empty() {
                f.width = w.parse().ok();
            }
        }
        // Precision.
        if let Some(&(_, '.')) = chars.peek() {
            chars.next();
            if let Some(&(_, '*')) = chars.peek() {
                chars.next();
                match args.get(argi) {
                    Some(Value::Int(p)) if *p >= 0 => f.prec = Some(*p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let mut p = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if !c.is_ascii_digit() {
                        break;
                    }
                    p.push(c);
                    chars.next();
                }
                f.prec = Some(p.parse().unwrap_or(0));
            }
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        out.push_str(&fmt_value(arg, verb, &f));
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={a}", a.type_name()),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\n\x01é"), "\"a\\\"b\\\\c\\n\\x01é\"");
        assert_eq!(unquote("\"a\\tb\\u00e9\\x41\\101\"").unwrap(), "a\tbéAA");
        assert_eq!(unquote("`a\\n\r`").unwrap(), "a\\n");
        assert!(unquote("\"\\q\"").is_err());
        assert!(unquote("\"\\'\"").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("017"), Some(15));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_uint("9223372036854775808"), Some(1 << 63));
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("08"), None);
        assert_eq!(parse_float("1.5e3"), Some(1500.0));
        assert_eq!(parse_float("0x1p4"), Some(16.0));
        assert_eq!(parse_float("1e400"), None);
    }

    #[test]
    fn floats_print_as_go() {
        assert_eq!(format_float(1.5, 'g', None), "1.5");
        assert_eq!(format_float(1e6, 'g', None), "1e+06");
        assert_eq!(format_float(123456.0, 'g', None), "123456");
        assert_eq!(format_float(1234567.0, 'g', None), "1.234567e+06");
        assert_eq!(format_float(0.0001, 'g', None), "0.0001");
        assert_eq!(format_float(0.00001, 'g', None), "1e-05");
        assert_eq!(format_float(0.0, 'g', None), "0");
        assert_eq!(format_float(-2.5, 'f', Some(2)), "-2.50");
        assert_eq!(format_float(1234.5678, 'e', Some(2)), "1.23e+03");
        assert_eq!(format_complex(1.0, -2.0), "(1-2i)");
    }

    #[test]
    fn printf_as_go() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            sprintf(
                "%s-%d|%5s|%-4d|%05d|%x|%q|%v|%t",
                &[
                    s("a"),
                    Value::Int(3),
                    s("b"),
                    Value::Int(7),
                    Value::Int(-42),
                    s("hi"),
                    s("q"),
                    Value::Float(2.0),
                    Value::Bool(true)
                ]
            ),
            "a-3|    b|7   |-0042|6869|\"q\"|2|true"
        );
        assert_eq!(sprintf("%d", &[s("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s %s", &[s("x")]), "x %!s(MISSING)");
        assert_eq!(sprintf("%s", &[s("x"), Value::Int(1)]), "x%!(EXTRA int=1)");
        assert_eq!(sprintf("100%%", &[]), "100%");
        assert_eq!(
            sprintf("%.2f %6.1f", &[Value::Float(1.23456), Value::Float(2.25)]),
            "1.23    2.2"
        );
        assert_eq!(
            sprint(&[Value::Int(1), Value::Int(2), s("a"), Value::Int(3)]),
            "1 2a3"
        );
        assert_eq!(sprintln(&[Value::Int(1), s("a")]), "1 a\n");
    }
}
