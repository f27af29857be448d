//! Values of the template language: the subset of go-cty's model that Packer templates see.
//!
//! Lists and tuples are both [`Value::List`]; maps and objects are both [`Value::Object`]
//! (keys kept sorted, as cty iterates them). [`Value::Unknown`] stands for a value that is only
//! known at run time (data sources under `validate`); operations on it yield unknown.

use std::collections::BTreeMap;
use std::fmt;

pub use crate::number::Number;

/// A template value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Known only at run time.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// The (key, element) pairs a `for` expression or a `for_each` iterates: index and
    /// element of a list, key and value of an object; any other value is given back.
    pub fn into_pairs(self) -> Result<Vec<(Value, Value)>, Value> {
        match self {
            Value::List(items) => Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i.into()), v))
                .collect()),
            Value::Object(m) => Ok(m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()),
            other => Err(other),
        }
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The name of this value's type as Packer's messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "tuple",
            Value::Object(_) => "object",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True if this value or anything inside it is unknown.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::is_unknown),
            Value::Object(map) => map.values().any(Value::is_unknown),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Converts to a string the way cty converts primitives (numbers, bools, strings).
    /// Returns `None` for null, unknown and collections.
    pub fn to_string_lossless(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.text()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts to a number as cty does (numbers, and strings that parse as numbers), as the
    /// nearest `f64`.
    pub fn to_number(&self) -> Option<f64> {
        self.to_num().map(|n| n.to_f64())
    }

    /// Converts to a number as cty does (numbers, and strings that parse as numbers), exactly.
    pub fn to_num(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(n.clone()),
            Value::String(s) => parse_num(s),
            _ => None,
        }
    }

    /// A number value from a float64 (cty's `NumberFloatVal`; NaN becomes 0).
    pub fn num(x: f64) -> Value {
        Value::Number(x.into())
    }

    /// Converts to a bool as cty does (bools, and the strings "true"/"false").
    /// cty's words for a string that does not convert to a bool (a capitalised `True`
    /// gets a hint).
    pub fn bool_string_error(s: &str) -> String {
        match s.to_lowercase().as_str() {
            "true" => "a bool is required; to convert from string, use lowercase \"true\"".into(),
            "false" => "a bool is required; to convert from string, use lowercase \"false\"".into(),
            _ => "a bool is required".into(),
        }
    }

    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            // cty's string-to-bool conversion (Packer's go-cty fork, v1.13.3).
            Value::String(s) if s == "true" || s == "1" => Some(true),
            Value::String(s) if s == "false" || s == "0" => Some(false),
            _ => None,
        }
    }

    /// Every string nested anywhere in this value (used to register sensitive values).
    pub fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::List(l) => l.iter().for_each(|x| walk(x, out)),
                Value::Object(o) => o.values().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        walk(self, &mut out);
        out
    }

    /// Replaces every primitive inside with the string `<sensitive>`, keeping the shape.
    pub fn masked_shape(&self) -> Value {
        match self {
            Value::List(l) => Value::List(l.iter().map(Value::masked_shape).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.masked_shape()))
                    .collect(),
            ),
            Value::Null => Value::Null,
            _ => Value::str("<sensitive>"),
        }
    }

    /// Converts to JSON (unknown becomes null).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Object(o) => {
                serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Converts from JSON.
    pub fn from_json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(
                n.as_i64()
                    .map(Number::Int)
                    .or_else(|| Number::parse(&n.to_string()))
                    .unwrap_or(Number::ZERO),
            ),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Renders in HCL syntax, as `packer console` and `inspect` print values.
    pub fn to_hcl(&self) -> String {
        let mut s = String::new();
        write_hcl(self, &mut s, 0);
        s
    }
}

impl Value {
    /// Whether no part of this value is unknown (cty's `IsWhollyKnown`).
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(l) => l.iter().all(Value::is_wholly_known),
            Value::Object(o) => o.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// Packer's `PrintableCtyValue` (hcl2template/utils.go), as `console` and `inspect` print a
    /// value: `<unknown>` when any part is unknown, else hcl2shim's Go value formatted by
    /// Packer's `repl.FormatResult`: a top-level string bare, nested strings Go-quoted, integral
    /// numbers as integers, other numbers as Go's `%g`, lists one element per line with a
    /// trailing comma, objects with sorted, quoted keys (`"k" = v`).
    pub fn printable(&self) -> String {
        if !self.is_wholly_known() {
            return "<unknown>".into();
        }
        repl_format(self, false)
    }
}

fn repl_format(v: &Value, nested: bool) -> String {
    fn indent(s: &str) -> String {
        s.lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::String(s) if nested => go_quote(s),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.shim_text(),
        Value::List(l) => {
            let mut out = String::from("[");
            if !l.is_empty() {
                out.push('\n');
            }
            for item in l {
                out.push_str(&indent(&repl_format(item, true)));
                out.push_str(",\n");
            }
            out.push(']');
            out
        }
        Value::Object(o) => {
            // hcl2shim leaves null attributes out of the Go map.
            let present: Vec<_> = o.iter().filter(|(_, v)| !v.is_null()).collect();
            let mut out = String::from("{");
            if !present.is_empty() {
                out.push('\n');
            }
            for (k, item) in present {
                out.push_str(&indent(&format!(
                    "{} = {}",
                    go_quote(k),
                    repl_format(item, true)
                )));
                out.push('\n');
            }
            out.push('}');
            out
        }
    }
}

/// A number as hcl2shim hands it to Go's fmt: an `int` when integral and within 64 bits,
/// else a float64 printed with `%g` (shortest digits, exponent form below 1e-4 or from 1e6).
pub fn go_number(n: f64) -> String {
    // 2^63: within Go's int64.
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_223_372_036_854_775_808.0 {
        return format!("{}", n as i64);
    }
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345675e6".
    let e = format!("{n:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        format!("{n}")
    }
}

/// Go's `strconv.Quote` and `strconv.QuoteToASCII` (`%+q`), from kiln-gotemplate (Go's
/// `strconv` and `fmt` live there).
pub use kiln_gotemplate::{quote as go_quote, quote_ascii as go_quote_ascii};

fn write_hcl(v: &Value, out: &mut String, indent: usize) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Null => out.push_str("null"),
        Value::Unknown => out.push_str("(known after apply)"),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Number(n) => out.push_str(&n.text()),
        Value::String(s) => out.push_str(&quote_hcl(s)),
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::List(l) => {
            out.push_str("[\n");
            for item in l {
                out.push_str(&pad(indent + 1));
                write_hcl(item, out, indent + 1);
                out.push_str(",\n");
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
        Value::Object(o) => {
            out.push_str("{\n");
            let width = o.keys().map(|k| hcl_key(k).len()).max().unwrap_or(0);
            for (k, item) in o {
                let key = hcl_key(k);
                out.push_str(&pad(indent + 1));
                out.push_str(&format!("{key:width$} = "));
                write_hcl(item, out, indent + 1);
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
    }
}

fn hcl_key(k: &str) -> String {
    let ident = !k.is_empty()
        && k.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ident { k.to_string() } else { quote_hcl(k) }
}

/// Quotes a string as an HCL string literal.
pub fn quote_hcl(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s, |_| None);
    // `${` and `%{` would start a template sequence when read back.
    out.replace("${", "$${").replace("%{", "%%{")
}

/// Writes `s` between double quotes, escaping `"`, `\`, `\n`, `\r`, `\t` and the other
/// control characters (`\u00XX`), as HCL and JSON string literals both do; `more` escapes
/// further characters first (JSON's `\b`, `\f` and HTML-safe `\u003c`...).
pub(crate) fn push_quoted(out: &mut String, s: &str, more: impl Fn(char) -> Option<String>) {
    out.push('"');
    for c in s.chars() {
        if let Some(e) = more(c) {
            out.push_str(&e);
            continue;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a number the way cty converts it to a string (Go's `big.Float.Text('f', -1)`).
pub fn format_number(n: &Number) -> String {
    n.text()
}

/// Parses a number as cty's string-to-number conversion does, as the nearest `f64`.
pub fn parse_number(s: &str) -> Option<f64> {
    parse_num(s).map(|n| n.to_f64())
}

/// Parses a number as cty's string-to-number conversion does (`ParseNumberVal`), exactly.
pub fn parse_num(s: &str) -> Option<Number> {
    Number::parse(s)
}

fn number_to_json(n: &Number) -> serde_json::Value {
    if let Some(i) = n.to_i64() {
        return serde_json::Value::from(i);
    }
    serde_json::Number::from_f64(n.to_f64())
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_string_lossless() {
            Some(s) => f.write_str(&s),
            None => f.write_str(&self.to_hcl()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n.into())
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_cty() {
        assert_eq!(format_number(&2.0.into()), "2");
        assert_eq!(format_number(&(-3.0).into()), "-3");
        assert_eq!(format_number(&1.5.into()), "1.5");
        assert_eq!(parse_number("12"), Some(12.0));
        assert_eq!(parse_number(" 12"), None);
        assert_eq!(parse_number("nan"), None);
    }

    #[test]
    fn masked_shape_keeps_structure() {
        let v = Value::from(vec!["a", "b"]);
        assert_eq!(
            v.masked_shape(),
            Value::from(vec!["<sensitive>", "<sensitive>"])
        );
    }

    #[test]
    fn hcl_rendering_quotes_and_escapes() {
        assert_eq!(Value::str("a\"${b}").to_hcl(), r#""a\"$${b}""#);
        let mut o = BTreeMap::new();
        o.insert("k".to_string(), Value::num(1.0));
        assert_eq!(Value::Object(o).to_hcl(), "{\n  k = 1\n}");
    }

    // The expected strings below are Go's own output (go1.26 `strconv.Quote`), not derived from this implementation.

    #[test]
    fn quote_escapes_quotes_backslashes_and_controls_like_go() {
        assert_eq!(go_quote(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(go_quote(r"C:\dir\x"), r#""C:\\dir\\x""#);
        assert_eq!(go_quote("it's"), r#""it's""#);
        assert_eq!(
            go_quote("a\u{7}\u{8}\u{c}\n\r\t\u{b}z"),
            r#""a\a\b\f\n\r\t\vz""#
        );
        assert_eq!(go_quote("\u{0}\u{1b}\u{7f}"), r#""\x00\x1b\x7f""#);
        assert_eq!(go_quote(""), r#""""#);
    }

    #[test]
    fn quote_keeps_printable_unicode_and_escapes_the_rest_like_go() {
        assert_eq!(go_quote("héllo wörld 日本 😀"), "\"héllo wörld 日本 😀\"");
        // No-break space, zero-width space, byte-order mark, line separator: not printable.
        assert_eq!(
            go_quote("a\u{a0}b\u{200b}c\u{feff}d\u{2028}"),
            r#""a\u00a0b\u200bc\ufeffd\u2028""#
        );
        // C1 control, private use in the BMP and beyond it.
        assert_eq!(
            go_quote("\u{85}\u{e000}\u{f0000}"),
            r#""\u0085\ue000\U000f0000""#
        );
        assert_eq!(go_quote_ascii("é😀"), r#""\u00e9\U0001f600""#);
    }
}
