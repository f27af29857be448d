//! `format` and `formatlist`: cty's printf-like formatter, including its Go-derived number
//! formatting.

use super::encoding::json_encode;
use super::{Args, FuncError, MAX_STRING, arg_err, check_len, go_quote, graphemes, other};
use crate::value::{Value, format_number};

/// Largest width or precision a verb may ask for.
const MAX_WIDTH: usize = 1_000_000;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    f.at_least(1, "format")?;
    let fmt = f.string(0, "format")?;
    let args = &f.args[1..];
    if f.name == "format" {
        return format(&fmt, args).map(Value::String).map_err(|e| {
            // cty's formatFSM: extra arguments are an error of the first one not used.
            if e.starts_with("too many arguments; no verbs") {
                return arg_err(1, "args", e);
            }
            match e
                .strip_prefix("too many arguments; only ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(used) => arg_err(used + 1, "args", e),
                None => other(e),
            }
        });
    }
    formatlist(&fmt, args)
}

fn formatlist(fmt: &str, args: &[Value]) -> Result<Value, FuncError> {
    if args.is_empty() {
        return format(fmt, args)
            .map(|s| Value::List(vec![Value::String(s)]))
            .map_err(other);
    }
    let mut iter_len: Option<(usize, usize)> = None; // (length, chooser)
    for (i, a) in args.iter().enumerate() {
        if let Value::List(l) = a {
            match iter_len {
                None => iter_len = Some((l.len(), i)),
                Some((len, chooser)) if len != l.len() => {
                    return Err(arg_err(
                        i + 1,
                        "args",
                        format!(
                            "argument {} has length {}, which is inconsistent with argument {} of length {}",
                            i + 1,
                            l.len(),
                            chooser + 1,
                            len
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let n = match iter_len {
        Some((0, _)) => return Ok(Value::List(vec![])),
        Some((n, _)) => n,
        None => 1,
    };
    let mut out = Vec::with_capacity(n.min(1024));
    let mut total = 0usize;
    for it in 0..n {
        let row: Vec<Value> = args
            .iter()
            .map(|a| match a {
                Value::List(l) => l.get(it).cloned().unwrap_or(Value::Null),
                v => v.clone(),
            })
            .collect();
        let s =
            format(fmt, &row).map_err(|e| other(format!("error on format iteration {it}: {e}")))?;
        total = total.saturating_add(s.len());
        check_len(total)?;
        out.push(Value::String(s));
    }
    Ok(Value::List(out))
}

#[derive(Default, Debug)]
struct Verb {
    raw: String,
    offset: usize,
    argnum: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    plus: bool,
    minus: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '\\' => "'\\\\'".to_string(),
        c if c.is_control() => format!("'\\u{:04x}'", c as u32),
        c => format!("'{c}'"),
    }
}

fn parse_num(bytes: &[u8], i: &mut usize) -> Result<usize, String> {
    let mut n: usize = 0;
    while let Some(d) = bytes.get(*i).filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        *i += 1;
    }
    if n > MAX_WIDTH {
        return Err(format!(
            "format width or precision must not exceed {MAX_WIDTH}"
        ));
    }
    Ok(n)
}

/// Formats like cty's `format`; the error is the message cty would give.
pub(crate) fn format(fmt: &str, args: &[Value]) -> Result<String, String> {
    let bytes = fmt.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut next_arg = 1usize;
    let mut max_used = 0usize;
    let mut verbs = 0usize;
    let unrecognized = |at: usize| -> String {
        let c = fmt.get(at..).and_then(|r| r.chars().next()).unwrap_or('?');
        format!(
            "unrecognized format character {} at offset {at}",
            quote_rune(c)
        )
    };
    while i < bytes.len() {
        if bytes[i] != b'%' {
            let j = fmt[i..].find('%').map(|k| i + k).unwrap_or(bytes.len());
            out.push_str(&fmt[i..j]);
            i = j;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'%') {
            out.push('%');
            i += 2;
            continue;
        }
        let start = i;
        i += 1;
        let mut v = Verb {
            argnum: next_arg,
            offset: start,
            ..Default::default()
        };
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0' => v.zero = true,
                b'#' => v.sharp = true,
                b'-' => v.minus = true,
                b'+' => v.plus = true,
                b' ' => v.space = true,
                _ => break,
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'[') {
            i += 1;
            if !matches!(bytes.get(i), Some(b'1'..=b'9')) {
                return Err(if i >= bytes.len() {
                    format!("invalid format string starting at offset {start}")
                } else {
                    unrecognized(i)
                });
            }
            v.argnum = parse_num(bytes, &mut i)?;
            if bytes.get(i) != Some(&b']') {
                return Err(if i >= bytes.len() {
                    format!("invalid format string starting at offset {start}")
                } else {
                    unrecognized(i)
                });
            }
            i += 1;
        }
        if matches!(bytes.get(i), Some(b'1'..=b'9')) {
            v.width = Some(parse_num(bytes, &mut i)?);
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            v.prec = Some(parse_num(bytes, &mut i)?);
        }
        match bytes.get(i) {
            None => return Err(format!("invalid format string starting at offset {start}")),
            Some(b) if b.is_ascii_alphabetic() => {
                v.mode = char::from(*b);
                i += 1;
            }
            Some(_) => return Err(unrecognized(i)),
        }
        v.raw = fmt[start..i].to_string();
        verbs += 1;
        append(&v, &mut out, args)?;
        max_used = max_used.max(v.argnum);
        next_arg = v.argnum + 1;
        if out.len() > MAX_STRING {
            return Err(format!(
                "the result would be longer than {MAX_STRING} bytes, which Kiln does not allow"
            ));
        }
    }
    if !args.is_empty() {
        if verbs == 0 {
            return Err("too many arguments; no verbs in format string".to_string());
        }
        if max_used < args.len() {
            return Err(format!(
                "too many arguments; only {max_used} used by format string"
            ));
        }
    }
    Ok(out)
}

fn append(v: &Verb, out: &mut String, args: &[Value]) -> Result<(), String> {
    let raw = go_quote(&v.raw);
    let Some(arg) = args.get(v.argnum - 1) else {
        return Err(format!(
            "not enough arguments for {raw} at {}: need index {} but have {} total",
            v.offset,
            v.argnum,
            args.len()
        ));
    };
    if v.mode != 'v' && arg.is_null() {
        return Err(format!(
            "unsupported value for {raw} at {}: null value cannot be formatted",
            v.offset
        ));
    }
    let unsupported = |msg: &str| format!("unsupported value for {raw} at {}: {msg}", v.offset);
    match v.mode {
        'v' => {
            let s = match arg {
                Value::String(s) if !v.sharp => s.clone(),
                Value::Number(n) if !v.sharp => n.g_text(),
                _ => json_encode(arg).map_err(|e| unsupported(&e))?,
            };
            out.push_str(&pad_width(v, &s));
        }
        't' => {
            let b = super::to_bool(arg).map_err(|e| unsupported(&e))?;
            out.push_str(if b { "true" } else { "false" });
        }
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = super::to_num(arg).map_err(|e| unsupported(&e))?;
            if !n.is_integer() {
                return Err(unsupported("an integer is required"));
            }
            out.push_str(&format_int(v, &n));
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = super::to_num(arg).map_err(|e| unsupported(&e))?;
            out.push_str(&format_float(v, &n));
        }
        's' | 'q' => {
            let mut s = match arg {
                Value::String(s) => s.clone(),
                Value::Number(n) => format_number(n),
                Value::Bool(b) => b.to_string(),
                _ => return Err(unsupported("string required")),
            };
            if let Some(p) = v.prec.filter(|p| *p > 0) {
                let g = graphemes(&s);
                if g.len() > p {
                    s = g[..p].concat();
                }
            }
            if v.mode == 'q' {
                s = json_encode(&Value::String(s)).map_err(|e| unsupported(&e))?;
            }
            out.push_str(&pad_width(v, &s));
        }
        m => {
            return Err(format!(
                "unsupported format verb {} in {raw} at offset {}",
                quote_rune(m),
                v.offset
            ));
        }
    }
    Ok(())
}

/// cty's `formatPadWidth`: pads to the width in grapheme clusters.
fn pad_width(v: &Verb, s: &str) -> String {
    let Some(w) = v.width else {
        return s.to_string();
    };
    let have = graphemes(s).len();
    if have >= w {
        return s.to_string();
    }
    let pad = if v.zero { "0" } else { " " }.repeat(w - have);
    if v.minus {
        format!("{s}{pad}")
    } else {
        format!("{pad}{s}")
    }
}

/// Digits of the whole number `n` in `base`, without sign.
fn int_digits(n: &crate::value::Number, base: u32, upper: bool) -> String {
    let d = n
        .trunc_int()
        .map(|i| i.magnitude().to_str_radix(base))
        .unwrap_or_default();
    if upper { d.to_ascii_uppercase() } else { d }
}

/// Go's `big.Int` formatting for %b %d %o %x %X with flags, width and precision.
fn format_int(v: &Verb, n: &crate::value::Number) -> String {
    let (base, upper) = match v.mode {
        'b' => (2, false),
        'o' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        _ => (10, false),
    };
    let digits = int_digits(n, base, upper);
    let sign = if n.signum() < 0 {
        "-"
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    };
    let prefix = if v.sharp {
        match v.mode {
            'b' => "0b",
            'o' => "0",
            'x' => "0x",
            'X' => "0X",
            _ => "",
        }
    } else {
        ""
    };
    let mut zeros = 0;
    if let Some(p) = v.prec {
        if digits.len() < p {
            zeros = p - digits.len();
        } else if digits == "0" && p == 0 {
            return String::new();
        }
    }
    let (mut left, mut right) = (0, 0);
    let length = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(w) = v.width.filter(|w| length < *w) {
        let d = w - length;
        if v.minus {
            right = d;
        } else if v.zero && v.prec.is_none() {
            zeros = d;
        } else {
            left = d;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

/// Go's `big.Float` formatting for %e %E %f %g %G with flags, width and precision.
fn format_float(v: &Verb, n: &crate::value::Number) -> String {
    let mode = v.mode;
    let mut buf = go_big_float(
        n,
        mode,
        v.prec.or(match mode {
            'g' | 'G' => None,
            _ => Some(6),
        }),
    );
    let sign = if let Some(rest) = buf.strip_prefix('-') {
        buf = rest.to_string();
        "-"
    } else if let Some(rest) = buf.strip_prefix('+') {
        buf = rest.to_string();
        if v.space { " " } else { "+" }
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    };
    let padding = v
        .width
        .filter(|w| *w > sign.len() + buf.len())
        .map(|w| w - sign.len() - buf.len())
        .unwrap_or(0);
    if v.zero && !n.is_infinite() {
        format!("{sign}{}{buf}", "0".repeat(padding))
    } else if v.minus {
        format!("{sign}{buf}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{buf}", " ".repeat(padding))
    }
}

fn fmt_e(out: &mut String, upper: bool, prec: usize, mant: &str, exp: i64) {
    let mut ds = mant.chars();
    out.push(ds.next().unwrap_or('0'));
    if prec > 0 {
        out.push('.');
        let rest: String = ds.take(prec).collect();
        out.push_str(&rest);
        out.push_str(&"0".repeat(prec - rest.len()));
    }
    out.push(if upper { 'E' } else { 'e' });
    let e = if mant.is_empty() { 0 } else { exp - 1 };
    out.push(if e < 0 { '-' } else { '+' });
    let ea = e.unsigned_abs();
    if ea < 10 {
        out.push('0');
    }
    out.push_str(&ea.to_string());
}

fn fmt_f(out: &mut String, prec: usize, mant: &str, exp: i64) {
    let digit = |i: i64| -> char {
        if i < 0 {
            '0'
        } else {
            mant.as_bytes()
                .get(i as usize)
                .map(|b| char::from(*b))
                .unwrap_or('0')
        }
    };
    if exp > 0 {
        for i in 0..exp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            out.push(digit(exp + i - 1));
        }
    }
}

/// Go's `big.Float.Text(mode, prec)` (`prec` `None` is -1, shortest) of a number at its own
/// precision (cty's 512 bits for parsed numbers): the exact decimal value rounded half to
/// even (Go's `decimal.round`), or its shortest digits.
pub(crate) fn go_big_float(n: &crate::value::Number, mode: char, prec: Option<usize>) -> String {
    let Some((neg, digits, dexp)) = n.decimal(prec.is_none()) else {
        return if n.is_negative() { "-Inf" } else { "+Inf" }.to_string();
    };
    let mut d = Decimal {
        mant: digits,
        exp: dexp,
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let shortest = prec.is_none();
    let mut prec = match prec {
        None => match mode {
            'e' | 'E' => d.mant.len().saturating_sub(1),
            'f' => (d.mant.len() as i64 - d.exp).max(0) as usize,
            _ => d.mant.len(),
        },
        Some(p) => {
            match mode {
                'e' | 'E' => d.round(1 + p as i64),
                'f' => d.round(d.exp + p as i64),
                _ => d.round(p.max(1) as i64),
            }
            if matches!(mode, 'g' | 'G') {
                p.max(1)
            } else {
                p
            }
        }
    };
    let mant = String::from_utf8(d.mant.clone()).unwrap_or_default();
    match mode {
        'e' | 'E' => fmt_e(&mut out, mode == 'E', prec, &mant, d.exp),
        'f' => fmt_f(&mut out, prec, &mant, d.exp),
        _ => {
            let mut eprec = prec;
            if eprec > d.mant.len() && d.mant.len() as i64 >= d.exp {
                eprec = d.mant.len();
            }
            if shortest {
                eprec = 6;
            }
            let exp = d.exp - 1;
            if exp < -4 || exp >= eprec as i64 {
                if prec > d.mant.len() {
                    prec = d.mant.len();
                }
                fmt_e(&mut out, mode == 'G', prec.saturating_sub(1), &mant, d.exp);
            } else {
                if prec as i64 > d.exp {
                    prec = d.mant.len();
                }
                fmt_f(
                    &mut out,
                    (prec as i64 - d.exp).max(0) as usize,
                    &mant,
                    d.exp,
                );
            }
        }
    }
    out
}

/// Go's `big.Float.Text(mode, prec)` of a float64 value (`prec` `None` is -1, shortest).
pub(crate) fn go_float(x: f64, mode: char, prec: Option<usize>) -> String {
    match crate::value::Number::from_f64(x) {
        Some(n) => go_big_float(&n, mode, prec),
        None => "NaN".to_string(),
    }
}

/// Go's `math/big` decimal: digits without trailing zeros, `0.mant × 10^exp`.
struct Decimal {
    mant: Vec<u8>,
    exp: i64,
}

impl Decimal {
    /// `decimal.round`: to `n` digits, half to even on the exact digits.
    fn round(&mut self, n: i64) {
        if n < 0 || n as usize >= self.mant.len() {
            return;
        }
        let n = n as usize;
        let up = if self.mant[n] == b'5' && n + 1 == self.mant.len() {
            n > 0 && (self.mant[n - 1] - b'0') & 1 != 0
        } else {
            self.mant[n] >= b'5'
        };
        if up {
            let mut i = n;
            while i > 0 && self.mant[i - 1] >= b'9' {
                i -= 1;
            }
            if i == 0 {
                self.mant = vec![b'1'];
                self.exp += 1;
            } else {
                self.mant[i - 1] += 1;
                self.mant.truncate(i);
            }
        } else {
            self.mant.truncate(n);
            while self.mant.last() == Some(&b'0') {
                self.mant.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::{go_big_float, go_float};
    use crate::value::Value;

    fn f(fmt: &str, args: Vec<Value>) -> String {
        let mut a = vec![s(fmt)];
        a.extend(args);
        match ok("format", a) {
            Value::String(s) => s,
            v => panic!("{v:?}"),
        }
    }

    fn fe(fmt: &str, args: Vec<Value>) -> String {
        let mut a = vec![s(fmt)];
        a.extend(args);
        err("format", a)
    }

    #[test]
    fn docs_examples() {
        assert_eq!(f("Hello, %s!", vec![s("Ander")]), "Hello, Ander!");
        assert_eq!(f("There are %d lights", vec![n(4.0)]), "There are 4 lights");
        assert_eq!(f("%-5s", vec![s("ab")]), "ab   ");
        assert_eq!(f("%.2f", vec![n(1.23456)]), "1.23");
        assert_eq!(f("%.1f", vec![s("1.06")]), "1.1");
        assert_eq!(
            f("%s is a %s", vec![s("Peter"), s("man")]),
            "Peter is a man"
        );
    }

    #[test]
    fn literals_and_defaults() {
        assert_eq!(f("", vec![]), "");
        assert_eq!(f("100%% successful", vec![]), "100% successful");
        assert_eq!(f("string %v", vec![s("hello")]), "string hello");
        assert_eq!(
            f("string %[2]v", vec![Value::Bool(true), s("hello")]),
            "string hello"
        );
        assert_eq!(f("string %#v", vec![s("hello")]), "string \"hello\"");
        assert_eq!(f("number %v", vec![n(2.0)]), "number 2");
        assert_eq!(f("number %v", vec![n(1000000.0)]), "number 1e+06");
        assert_eq!(f("number %#v", vec![n(1000000.0)]), "number 1000000");
        assert_eq!(f("bool %v", vec![Value::Bool(true)]), "bool true");
        assert_eq!(f("object %v", vec![obj(&[])]), "object {}");
        assert_eq!(f("tuple %v", vec![l(vec![])]), "tuple []");
        assert_eq!(
            f("%v", vec![obj(&[("b", n(1.0)), ("a", sl(&["<x>"]))])]),
            r#"{"a":["\u003cx\u003e"],"b":1}"#
        );
        assert_eq!(f("%%%v", vec![Value::Bool(false)]), "%false");
        assert_eq!(f("%v", vec![Value::Null]), "null");
    }

    #[test]
    fn strings() {
        assert_eq!(
            f("Hello, %[2]s!", vec![s("Stephen"), s("Ermintrude")]),
            "Hello, Ermintrude!"
        );
        assert_eq!(
            f(
                "Hello, %q... if that _is_ your real name!",
                vec![s("Ermintrude")]
            ),
            "Hello, \"Ermintrude\"... if that _is_ your real name!"
        );
        assert_eq!(
            f("This statement is %s", vec![Value::Bool(false)]),
            "This statement is false"
        );
        assert_eq!(
            f("This statement is %q", vec![Value::Bool(false)]),
            "This statement is \"false\""
        );
        assert_eq!(f("%10s", vec![s("hello")]), "     hello");
        assert_eq!(f("%-10s", vec![s("hello")]), "hello     ");
        assert_eq!(f("%4s", vec![s("💃🏿")]), "   💃🏿");
        assert_eq!(f("%6q", vec![s("💃🏿")]), "   \"💃🏿\"");
        assert_eq!(f("%.2s", vec![s("hello")]), "he");
        assert_eq!(f("%.2q", vec![s("hello")]), "\"he\"");
        assert_eq!(f("%.5s", vec![s("日本語日本語")]), "日本語日本");
        assert_eq!(f("%4.2s", vec![s("hello")]), "  he");
        assert_eq!(f("%-4.2s", vec![s("hello")]), "he  ");
        assert_eq!(f("%q", vec![s("Hello\nWorld")]), "\"Hello\\nWorld\"");
        assert_eq!(f("%s", vec![n(1.5)]), "1.5");
        assert_eq!(
            fe("%s", vec![Value::Null]),
            "unsupported value for \"%s\" at 0: null value cannot be formatted"
        );
        assert_eq!(
            fe("%s", vec![obj(&[])]),
            "unsupported value for \"%s\" at 0: string required"
        );
    }

    #[test]
    fn bools() {
        assert_eq!(
            f("This statement is %t", vec![Value::Bool(false)]),
            "This statement is false"
        );
        assert_eq!(
            f(
                "This statement is %[2]t",
                vec![Value::Bool(true), Value::Bool(false)]
            ),
            "This statement is false"
        );
        assert_eq!(
            f("This statement is %t", vec![s("false")]),
            "This statement is false"
        );
        assert_eq!(
            fe("%t", vec![n(1.0)]),
            "unsupported value for \"%t\" at 0: bool required"
        );
    }

    #[test]
    fn integers() {
        assert_eq!(f("%d green bottles", vec![n(10.0)]), "10 green bottles");
        assert_eq!(f("%[2]d things", vec![n(1.0), n(10.0)]), "10 things");
        assert_eq!(f("%+d", vec![n(10.0)]), "+10");
        assert_eq!(f("% d", vec![n(10.0)]), " 10");
        assert_eq!(f("%5d|", vec![n(10.0)]), "   10|");
        assert_eq!(f("%-5d|", vec![n(10.0)]), "10   |");
        assert_eq!(f("%05d", vec![n(-42.0)]), "-0042");
        assert_eq!(f("%.3d", vec![n(7.0)]), "007");
        assert_eq!(f("%b", vec![n(5.0)]), "101");
        assert_eq!(f("%o", vec![n(9.0)]), "11");
        assert_eq!(f("%#o", vec![n(9.0)]), "011");
        assert_eq!(f("%x", vec![n(254.0)]), "fe");
        assert_eq!(f("%X", vec![n(254.0)]), "FE");
        assert_eq!(f("%#x", vec![n(255.0)]), "0xff");
        assert_eq!(f("%d", vec![s("12")]), "12");
        assert_eq!(
            f("%d", vec![n(1e40)]),
            "10000000000000000303786028427003666890752"
        );
        assert_eq!(
            f("%x", vec![n(2f64.powi(130))]),
            format!("4{}", "0".repeat(32))
        );
        assert_eq!(
            fe("%d green bottles", vec![Value::Bool(true)]),
            "unsupported value for \"%d\" at 0: number required"
        );
        assert_eq!(
            fe("%d", vec![s("x")]),
            "unsupported value for \"%d\" at 0: a number is required"
        );
        assert_eq!(
            fe("%d", vec![n(1.5)]),
            "unsupported value for \"%d\" at 0: an integer is required"
        );
    }

    #[test]
    fn floats() {
        assert_eq!(f("%f things", vec![n(10.0)]), "10.000000 things");
        assert_eq!(f("%+f", vec![n(10.0)]), "+10.000000");
        assert_eq!(f("% f", vec![n(10.0)]), " 10.000000");
        assert_eq!(f("%+f", vec![n(-10.0)]), "-10.000000");
        assert_eq!(
            f("%.4f", vec![s("1.00000000000000000000000000000000000001")]),
            "1.0000"
        );
        assert_eq!(f("%e", vec![n(1000.0)]), "1.000000e+03");
        assert_eq!(f("%E", vec![n(1000.0)]), "1.000000E+03");
        assert_eq!(f("%g", vec![n(1000.0)]), "1000");
        assert_eq!(f("%G", vec![n(1000.0)]), "1000");
        assert_eq!(f("%g", vec![s("0.00000000000000000000001")]), "1e-23");
        assert_eq!(f("%G", vec![s("0.00000000000000000000001")]), "1E-23");
        assert_eq!(f("%.3g", vec![n(1234.5678)]), "1.23e+03");
        assert_eq!(f("%8.2f|", vec![n(1.23456)]), "    1.23|");
        assert_eq!(f("%-8.2f|", vec![n(1.23456)]), "1.23    |");
        assert_eq!(f("%08.2f", vec![n(-1.23456)]), "-0001.23");
        assert_eq!(f("%.0f", vec![n(2.5)]), "2");
        assert_eq!(f("%.f", vec![n(3.5)]), "4");
        assert_eq!(go_float(0.0001, 'g', None), "0.0001");
        assert_eq!(go_float(0.00001, 'g', None), "1e-05");
        assert_eq!(go_float(123456.0, 'g', None), "123456");
        assert_eq!(go_float(1234567.0, 'g', None), "1.234567e+06");
        assert_eq!(go_float(0.5, 'g', None), "0.5");
        assert_eq!(go_float(0.0, 'g', None), "0");
        assert_eq!(go_float(-2.5, 'g', None), "-2.5");
        assert_eq!(go_float(100.0, 'g', Some(2)), "1e+02");
        // cty's 512-bit numbers are rounded from their exact value (Go's big.Float), not
        // from the nearest float64.
        let third = crate::value::Number::parse("1")
            .unwrap()
            .div(&crate::value::Number::parse("3").unwrap())
            .unwrap();
        assert_eq!(
            go_big_float(&third, 'e', Some(40)),
            "3.3333333333333333333333333333333333333333e-01"
        );
        let tenth = crate::value::Number::parse("0.1").unwrap();
        assert_eq!(
            go_big_float(&tenth, 'f', Some(30)),
            "0.100000000000000000000000000000"
        );
        assert_eq!(go_float(2.5, 'f', Some(0)), "2");
        assert_eq!(go_float(3.5, 'f', Some(0)), "4");
    }

    #[test]
    fn invalid() {
        assert_eq!(
            fe("%s is not in the args list", vec![]),
            "not enough arguments for \"%s\" at 0: need index 1 but have 0 total"
        );
        assert_eq!(
            fe("%[3]s", vec![Value::Bool(true), Value::Bool(true)]),
            "not enough arguments for \"%[3]s\" at 0: need index 3 but have 2 total"
        );
        assert_eq!(
            fe("%[0]s", vec![Value::Bool(true)]),
            "unrecognized format character '0' at offset 2"
        );
        assert_eq!(
            fe("%v %v %v", vec![Value::Bool(true), Value::Bool(true)]),
            "not enough arguments for \"%v\" at 6: need index 3 but have 2 total"
        );
        assert_eq!(
            fe("%z is not valid", vec![n(10.0)]),
            "unsupported format verb 'z' in \"%z\" at offset 0"
        );
        assert_eq!(
            fe("%012z", vec![n(10.0)]),
            "unsupported format verb 'z' in \"%012z\" at offset 0"
        );
        assert_eq!(
            fe("%☠ is not valid", vec![n(10.0)]),
            "unrecognized format character '☠' at offset 1"
        );
        assert_eq!(
            fe("no verbs", vec![n(10.0)]),
            "too many arguments; no verbs in format string"
        );
        assert_eq!(
            fe("only one verb %d", vec![n(10.0), n(11.0)]),
            "too many arguments; only 1 used by format string"
        );
        assert_eq!(
            fe("abc %", vec![]),
            "invalid format string starting at offset 4"
        );
        assert!(fe("%99999999999d", vec![n(1.0)]).contains("must not exceed"));
        assert!(fe("%.99999999999f", vec![n(1.0)]).contains("must not exceed"));
    }

    #[test]
    fn formatlist() {
        assert_eq!(
            ok(
                "formatlist",
                vec![
                    s("Hello, %s!"),
                    sl(&["Valentina", "Ander", "Olivia", "Sam"])
                ]
            ),
            sl(&[
                "Hello, Valentina!",
                "Hello, Ander!",
                "Hello, Olivia!",
                "Hello, Sam!"
            ])
        );
        assert_eq!(
            ok(
                "formatlist",
                vec![s("%s, %s!"), s("Salutations"), sl(&["Valentina", "Ander"])]
            ),
            sl(&["Salutations, Valentina!", "Salutations, Ander!"])
        );
        assert_eq!(ok("formatlist", vec![s("100%%")]), sl(&["100%"]));
        assert_eq!(ok("formatlist", vec![s("%v"), l(vec![])]), l(vec![]));
        assert_eq!(ok("formatlist", vec![s("%v"), Value::Null]), sl(&["null"]));
        assert_eq!(
            err(
                "formatlist",
                vec![s("%s %s"), sl(&["hello", "goodbye"]), sl(&["world"])]
            ),
            "argument 2 has length 1, which is inconsistent with argument 1 of length 2"
        );
        assert_eq!(
            err("formatlist", vec![s("%s"), obj(&[])]),
            "error on format iteration 0: unsupported value for \"%s\" at 0: string required"
        );
    }
}
