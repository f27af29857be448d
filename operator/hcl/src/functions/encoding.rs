//! Encoding functions: base64, gzip, CSV, JSON, YAML, URL and text encodings.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Args, FuncError, MAX_LIST, arg_err, check_len, other};
use crate::value::{Value, format_number};

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "base64encode" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            Ok(Value::String(STANDARD.encode(s.as_bytes())))
        }
        "base64decode" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            let bytes = b64decode(&s)
                .map_err(|_| arg_err(0, "str", format!("failed to decode base64 data '{s}'")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| {
                arg_err(
                    0,
                    "str",
                    "the result of decoding the provided string is not valid UTF-8",
                )
            })
        }
        "base64gzip" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            Ok(Value::String(STANDARD.encode(go_gzip(s.as_bytes())?)))
        }
        "csvdecode" => {
            f.exact(&["str"])?;
            csvdecode(&f.string(0, "str")?).map_err(other)
        }
        "jsondecode" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            // cty's syntax check first, in Go's `encoding/json` words; then the document's
            // value alone (Go ignores closing brackets after it).
            let end = super::gojson::check(&s).map_err(other)?;
            let s = &super::gojson::replace_lone_surrogates(&s[..end]);
            go_max_depth(s).map_err(other)?;
            // The text is valid JSON: read keeping each number's digits, as cty does
            // (`ParseNumberVal`, 512 bits).
            exact_json(s).ok_or_else(|| other("invalid JSON".to_string()))
        }
        "jsonencode" => {
            f.exact(&["val"])?;
            json_encode(f.get(0)).map(Value::String).map_err(other)
        }
        "urlencode" => {
            f.exact(&["str"])?;
            Ok(Value::String(query_escape(&f.string(0, "str")?)))
        }
        "yamldecode" => {
            f.exact(&["src"])?;
            yamldecode(&f.string(0, "src")?).map_err(other)
        }
        "yamlencode" => {
            f.exact(&["value"])?;
            let mut out = String::new();
            yaml_node(f.get(0), 0, Ctx::Top, &mut out).map_err(other)?;
            check_len(out.len())?;
            Ok(Value::String(out))
        }
        "textencodebase64" => {
            f.exact(&["string", "encoding"])?;
            let s = f.string(0, "string")?;
            let enc =
                text_encoding(&f.string(1, "encoding")?).map_err(|m| arg_err(1, "encoding", m))?;
            let bytes = enc.encode(&s).ok_or_else(|| {
                arg_err(
                    0,
                    "string",
                    format!(
                        "the given string contains characters that cannot be represented in {}",
                        enc.name()
                    ),
                )
            })?;
            Ok(Value::String(STANDARD.encode(bytes)))
        }
        "textdecodebase64" => {
            f.exact(&["source", "encoding"])?;
            let s = f.string(0, "source")?;
            let enc =
                text_encoding(&f.string(1, "encoding")?).map_err(|m| arg_err(1, "encoding", m))?;
            let bytes = STANDARD.decode(s.as_bytes()).map_err(|e| {
                let msg = match e {
                    base64::DecodeError::InvalidByte(off, _) => {
                        format!("the given value is has an invalid base64 symbol at offset {off}")
                    }
                    e => format!("invalid source string: {e}"),
                };
                arg_err(0, "source", msg)
            })?;
            match enc.decode(&bytes) {
                Some(s) if !s.contains('\u{FFFD}') => Ok(Value::String(s)),
                _ => Err(arg_err(
                    0,
                    "source",
                    format!(
                        "the given string contains symbols that are not defined for {}",
                        enc.name()
                    ),
                )),
            }
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// Go's `base64.StdEncoding.DecodeString`, which skips CR and LF.
fn b64decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    STANDARD.decode(clean.as_bytes())
}

// ---------------------------------------------------------------------------------------
// JSON

/// Encodes as cty's JSON marshaller does: object keys sorted, HTML-sensitive characters
/// escaped like Go's `encoding/json`, numbers never in exponent form.
pub(crate) fn json_encode(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    json_write(v, &mut out, 0)?;
    Ok(out)
}

/// Deepest nesting the encoders accept (deeper values cannot come from a template).
const MAX_DEPTH: usize = 512;

fn json_write(v: &Value, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("value is nested too deeply to encode".to_string());
    }
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_infinite() {
                return Err("cannot serialize infinity as JSON".to_string());
            }
            out.push_str(&format_number(n));
        }
        Value::String(s) => json_string(s, out),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_write(x, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                json_write(x, out, depth + 1)?;
            }
            out.push('}');
        }
    }
    if out.len() > super::MAX_STRING {
        return Err(format!(
            "the result would be longer than {} bytes, which Kiln does not allow",
            super::MAX_STRING
        ));
    }
    Ok(())
}

/// Go's `encoding/json` string encoding (HTML-safe).
pub(crate) fn json_string(s: &str, out: &mut String) {
    crate::value::push_quoted(out, s, |c| match c {
        '\u{8}' => Some("\\b".to_string()),
        '\u{c}' => Some("\\f".to_string()),
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Some(format!("\\u{:04x}", c as u32)),
        _ => None,
    });
}

// ---------------------------------------------------------------------------------------
// URL

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// CSV

fn csvdecode(s: &str) -> Result<Value, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(s.as_bytes());
    let mut records = rdr.records();
    let headers: Vec<String> = match records.next() {
        None => return Err("missing header line".to_string()),
        Some(Err(e)) => return Err(csv_error(&e)),
        Some(Ok(r)) => r.iter().map(String::from).collect(),
    };
    let mut seen = std::collections::HashSet::new();
    for h in &headers {
        if !seen.insert(h) {
            return Err(format!("duplicate column name {}", super::go_quote(h)));
        }
    }
    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(&e))?;
        if rec.len() != headers.len() {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            return Err(format!(
                "CSV parse error on line {line}: wrong number of fields"
            ));
        }
        if rows.len() >= MAX_LIST {
            return Err(format!(
                "the result would have more than {MAX_LIST} elements, which Kiln does not allow"
            ));
        }
        let obj: BTreeMap<String, Value> = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(Value::str))
            .collect();
        rows.push(Value::Object(obj));
    }
    Ok(Value::List(rows))
}

fn csv_error(e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("CSV parse error on line {}: {e}", p.line()),
        None => format!("CSV parse error: {e}"),
    }
}

/// Packer's base64gzip stream: go-cty-funcs' `gzip.NewWriter`, `Write`, `Flush`, `Close`,
/// written by kiln-goflate (Go's compress/flate at the default level, byte for byte).
fn go_gzip(data: &[u8]) -> Result<Vec<u8>, super::FuncError> {
    use std::io::Write;
    let err = |e: std::io::Error| other(format!("failed to write gzip raw data: {e}"));
    let mut w = kiln_goflate::GzWriter::new(Vec::with_capacity(data.len() / 2 + 64), -1)
        .map_err(|e| other(e.to_string()))?;
    w.write_all(data).map_err(err)?;
    w.flush().map_err(err)?;
    w.finish().map_err(err)
}

// ---------------------------------------------------------------------------------------
// YAML

fn yamldecode(s: &str) -> Result<Value, String> {
    yaml11::decode(s)
}

/// go-cty-yaml's `YAMLDecodeFunc` (`ImpliedType`, then `Unmarshal` to that type) over the
/// events of kiln-goyaml, its parser ported: the YAML 1.1 scalar resolver (`y`, `yes`, `on`…
/// are booleans, `0b101` an integer, `.inf`, timestamps as RFC 3339 strings), merge keys,
/// anchors, mapping keys converted to strings, and go-cty-yaml's errors placed as it places
/// them.
mod yaml11 {
    use std::collections::{BTreeMap, HashMap};

    use kiln_goyaml::{Event, EventType, Parser, scalar_style};

    use crate::value::{Number, Value, go_quote};

    const TAG: &str = "tag:yaml.org,2002:";

    /// A resolved scalar: a value, or go-cty-yaml's merge key (`<<`).
    enum Resolved {
        Value(Value),
        Merge,
    }

    /// A collection being read.
    enum Frame {
        Seq {
            anchor: String,
            items: Vec<Value>,
        },
        Map {
            anchor: String,
            vals: BTreeMap<String, Value>,
            /// The key whose value comes next: a name, or a merge key (its event).
            key: Option<Result<String, Box<Event>>>,
        },
    }

    /// One walk does both of go-cty-yaml's passes: they read the same events and fail the
    /// same way, but for the untagged quoted and block scalars, which `ImpliedType` takes for
    /// strings unread and `Unmarshal` resolves (then converts to string). The one error only
    /// `Unmarshal` can meet there (`.nan`) is kept for after the whole `ImpliedType` pass.
    struct Decoder<'a> {
        parser: Parser<'a>,
        /// go-cty-yaml's `anchorsPending`: anchors whose definition is being read.
        pending: HashMap<String, usize>,
        /// Each anchor's value and `ImpliedType`'s type name of it.
        anchors: HashMap<String, (Value, &'static str)>,
        /// The first error of the `Unmarshal` pass.
        deferred: Option<String>,
    }

    pub(super) fn decode(src: &str) -> Result<Value, String> {
        let src = if src.is_empty() { "\n" } else { src };
        let mut d = Decoder {
            parser: Parser::new(src.as_bytes()),
            pending: HashMap::new(),
            anchors: HashMap::new(),
            deferred: None,
        };
        let (v, ty) = d.document()?;
        // A document of no type (null) is left unknown: `YAMLDecodeFunc` gives back
        // `cty.DynamicVal` when `ImpliedType` is `cty.DynamicPseudoType`.
        if ty == "dynamic" {
            return Ok(Value::Unknown);
        }
        match d.deferred {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    /// `cty.Type.FriendlyName` of what `ImpliedType` makes of a scalar's value.
    fn type_name(v: &Value) -> &'static str {
        match v {
            Value::Null => "dynamic",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::List(_) => "tuple",
            Value::Object(_) => "object",
            _ => "string",
        }
    }

    impl Decoder<'_> {
        fn next(&mut self) -> Result<Event, String> {
            self.parser.parse().map_err(|e| e.message())
        }

        /// `impliedType`/`unmarshal`: one document, alone in the stream.
        fn document(&mut self) -> Result<(Value, &'static str), String> {
            let ev = self.next()?;
            if ev.typ != EventType::StreamStart {
                return Err(ev.wrap("missing stream start token"));
            }
            let ev = self.next()?;
            if ev.typ != EventType::DocumentStart {
                return Err(ev.wrap("missing start of document"));
            }
            let (v, ty) = self.value()?;
            let ev = self.next()?;
            if ev.typ == EventType::DocumentStart {
                return Err(ev.wrap("only a single document is allowed"));
            }
            if ev.typ != EventType::DocumentEnd {
                return Err(ev.wrap(&format!(
                    "unexpected extra content ({}) after value",
                    ev.typ.name()
                )));
            }
            let ev = self.next()?;
            if ev.typ != EventType::StreamEnd {
                return Err(ev.wrap("unexpected extra content after value"));
            }
            Ok((v, ty))
        }

        fn begin_anchor(&mut self, name: &str) {
            if !name.is_empty() {
                *self.pending.entry(name.to_string()).or_default() += 1;
            }
        }

        fn complete_anchor(&mut self, name: String, v: &Value, ty: &'static str) {
            if name.is_empty() {
                return;
            }
            if let Some(n) = self.pending.get_mut(&name) {
                *n -= 1;
                if *n == 0 {
                    self.pending.remove(&name);
                }
            }
            self.anchors.insert(name, (v.clone(), ty));
        }

        /// A node and `ImpliedType`'s type name of it, read with an explicit stack of the
        /// collections open.
        fn value(&mut self) -> Result<(Value, &'static str), String> {
            let mut stack: Vec<Frame> = Vec::new();
            loop {
                let ev = self.next()?;
                let (v, ty) = match stack.last_mut() {
                    Some(Frame::Map {
                        key: key @ None, ..
                    }) => {
                        if ev.typ != EventType::MappingEnd {
                            *key = Some(self.key(ev)?);
                            continue;
                        }
                        let Some(Frame::Map { anchor, vals, .. }) = stack.pop() else {
                            continue;
                        };
                        let v = Value::Object(vals);
                        self.complete_anchor(anchor, &v, "object");
                        (v, "object")
                    }
                    Some(Frame::Seq { .. }) if ev.typ == EventType::SequenceEnd => {
                        let Some(Frame::Seq { anchor, items }) = stack.pop() else {
                            continue;
                        };
                        let v = Value::List(items);
                        self.complete_anchor(anchor, &v, "tuple");
                        (v, "tuple")
                    }
                    _ => match ev.typ {
                        EventType::Scalar => self.scalar(&ev)?,
                        EventType::Alias => {
                            let name = text(&ev.anchor);
                            if self.pending.contains_key(&name) {
                                return Err(ev.wrap(&format!(
                                    "cannot refer to anchor {} from inside its own definition",
                                    go_quote(&name)
                                )));
                            }
                            match self.anchors.get(&name) {
                                Some((v, ty)) => (v.clone(), *ty),
                                None => {
                                    return Err(ev.wrap(&format!(
                                        "reference to undefined anchor {}",
                                        go_quote(&name)
                                    )));
                                }
                            }
                        }
                        EventType::MappingStart | EventType::SequenceStart => {
                            let map = ev.typ == EventType::MappingStart;
                            let (what, want) = if map {
                                ("mapping", "map")
                            } else {
                                ("sequence", "seq")
                            };
                            let tag = text(&ev.tag);
                            if !tag.is_empty() && tag != format!("{TAG}{want}") {
                                return Err(ev.wrap(&format!("can't interpret {what} as {tag}")));
                            }
                            let anchor = text(&ev.anchor);
                            self.begin_anchor(&anchor);
                            stack.push(if map {
                                Frame::Map {
                                    anchor,
                                    vals: BTreeMap::new(),
                                    key: None,
                                }
                            } else {
                                Frame::Seq {
                                    anchor,
                                    items: Vec::new(),
                                }
                            });
                            continue;
                        }
                        EventType::DocumentStart => {
                            return Err(ev.wrap("only a single document is allowed"));
                        }
                        EventType::StreamEnd => {
                            return Err(ev.wrap("expecting value but found end of stream"));
                        }
                        other => {
                            return Err(
                                ev.wrap(&format!("unexpected parser event {}", other.name()))
                            );
                        }
                    },
                };
                match stack.last_mut() {
                    None => return Ok((v, ty)),
                    Some(Frame::Seq { items, .. }) => items.push(v),
                    Some(Frame::Map { vals, key, .. }) => match key.take() {
                        Some(Ok(name)) => {
                            vals.insert(name, v);
                        }
                        Some(Err(kev)) => match v {
                            Value::Object(o) if ty == "object" => vals.extend(o),
                            _ => return Err(kev.wrap(&format!("cannot merge {ty} into mapping"))),
                        },
                        None => {}
                    },
                }
            }
        }

        /// A mapping key: its name, or the merge key's event.
        fn key(&mut self, ev: Event) -> Result<Result<String, Box<Event>>, String> {
            if ev.typ != EventType::Scalar {
                return Err(ev.wrap("only strings are allowed as mapping keys"));
            }
            // go-cty-yaml neither places this error nor records a key's anchor.
            match resolve(&text(&ev.tag), &text(&ev.value), ev.style)? {
                Resolved::Merge => Ok(Err(Box::new(ev))),
                Resolved::Value(v) => match v.to_string_lossless() {
                    Some(k) => Ok(Ok(k)),
                    None if v.is_null() => Err(ev.wrap("mapping key cannot be null")),
                    None => Err(ev.wrap("only strings are allowed as mapping keys")),
                },
            }
        }

        /// A scalar node and `ImpliedType`'s type name of it.
        fn scalar(&mut self, ev: &Event) -> Result<(Value, &'static str), String> {
            let anchor = text(&ev.anchor);
            self.begin_anchor(&anchor);
            let tag = text(&ev.tag);
            let src = text(&ev.value);
            let (v, ty) = if tag.is_empty() && !ev.implicit {
                // An untagged quoted or block scalar: a string to `ImpliedType`, resolved by
                // `Unmarshal` and converted to string.
                let v = match resolve("", &src, ev.style) {
                    Ok(Resolved::Merge) => Value::str("<<"),
                    Ok(Resolved::Value(v)) => {
                        v.to_string_lossless().map_or(Value::Null, Value::String)
                    }
                    Err(e) => {
                        self.deferred.get_or_insert_with(|| ev.wrap(&e));
                        Value::Null
                    }
                };
                (v, "string")
            } else {
                match resolve(&tag, &src, ev.style).map_err(|e| ev.wrap(&e))? {
                    Resolved::Merge => (Value::str("<<"), "string"),
                    Resolved::Value(v) => {
                        let ty = type_name(&v);
                        (v, ty)
                    }
                }
            };
            self.complete_anchor(anchor, &v, ty);
            Ok((v, ty))
        }
    }

    /// cty's `ParseNumberVal` (Go's `big.ParseFloat`, which also reads `Inf`).
    fn parse_number(s: &str) -> Option<Number> {
        let (neg, t) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if t == "Inf" || t == "inf" {
            return Some(Number::inf(neg));
        }
        Number::parse(s)
    }

    /// go-cty-yaml's `resolveScalar`.
    fn resolve(tag: &str, src: &str, style: u8) -> Result<Resolved, String> {
        let short = tag.strip_prefix(TAG);
        let known = ["str", "bool", "int", "float", "null", "timestamp", "binary"];
        if !tag.is_empty() && !short.is_some_and(|t| known.contains(&t)) {
            return Err(format!("unsupported tag {}", go_quote(tag)));
        }
        let mut tag = short.unwrap_or("").to_string();
        let hint = match src.as_bytes().first() {
            None => b'N',
            Some(b'+' | b'-') => b'S',
            Some(b'0'..=b'9') => b'D',
            Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
                b'M'
            }
            Some(b'.') => b'.',
            Some(_) => 0,
        };
        if hint != 0 && tag != "str" && tag != "binary" {
            if style == scalar_style::SINGLE_QUOTED || style == scalar_style::DOUBLE_QUOTED {
                return Ok(Resolved::Value(Value::str(src)));
            }
            if let Some(v) = lookup(src) {
                return Ok(Resolved::Value(v));
            }
            if tag.is_empty() && matches!(src, ".nan" | ".NaN" | ".NAN") {
                return Err("floating point NaN is not supported".to_string());
            }
            match hint {
                b'.' => {
                    if let Some(n) = parse_number(src) {
                        return Ok(Resolved::Value(Value::Number(n)));
                    }
                }
                b'D' | b'S' => {
                    if (tag.is_empty() || tag == "timestamp")
                        && let Some(t) = timestamp(src)
                    {
                        return Ok(Resolved::Value(Value::String(t)));
                    }
                    let plain = src.replace('_', "");
                    if let Some(n) = parse_number(&plain) {
                        return Ok(Resolved::Value(Value::Number(n)));
                    }
                    if plain.starts_with("0b") || plain.starts_with("-0b") {
                        tag = "int".into();
                    }
                }
                _ => {}
            }
        }
        if tag.is_empty() && src == "<<" {
            return Ok(Resolved::Merge);
        }
        let cannot = |t: &str| format!("cannot parse {} as {TAG}{t}", go_quote(src));
        let v = match tag.as_str() {
            "binary" => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(src)
                    .map_err(|_| format!("{}: not valid base64", cannot("binary")))?;
                Value::str(src)
            }
            "bool" => match lookup(src) {
                Some(v @ Value::Bool(_)) => v,
                _ => return Err(cannot("bool")),
            },
            "int" | "float" => {
                let plain = src.replace('_', "");
                if let Some(n) = parse_number(&plain) {
                    return Ok(Resolved::Value(Value::Number(n)));
                }
                let i = go_int(&plain)
                    .or_else(|| binary_int(&plain))
                    .ok_or_else(|| cannot(&tag))?;
                Value::Number(Number::from_bigint(&i))
            }
            "timestamp" => Value::String(timestamp(src).ok_or_else(|| cannot("timestamp"))?),
            "null" => Value::Null,
            _ => Value::str(src),
        };
        Ok(Resolved::Value(v))
    }

    /// go-cty-yaml's table of YAML 1.1 words.
    fn lookup(src: &str) -> Option<Value> {
        Some(match src {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Value::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => Value::Bool(false),
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                Value::Number(Number::inf(false))
            }
            "-.inf" | "-.Inf" | "-.INF" => Value::Number(Number::inf(true)),
            _ => return None,
        })
    }

    /// `0b…` or `-0b…` in base 2, within 64 bits.
    fn binary_int(s: &str) -> Option<num_bigint::BigInt> {
        let (neg, d) = match s.strip_prefix("-0b") {
            Some(d) => (true, d),
            None => (false, s.strip_prefix("0b")?),
        };
        let v = u64::from_str_radix(d, 2).ok()?;
        let i = num_bigint::BigInt::from(v);
        if neg {
            (v <= 1u64 << 63).then(|| -i)
        } else {
            Some(i)
        }
    }

    /// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: prefixes 0x, 0o, 0b and 0 (octal).
    fn go_int(s: &str) -> Option<num_bigint::BigInt> {
        let (neg, t) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = t.to_ascii_lowercase();
        let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
            (16, d)
        } else if let Some(d) = lower.strip_prefix("0o") {
            (8, d)
        } else if let Some(d) = lower.strip_prefix("0b") {
            (2, d)
        } else if lower.len() > 1 && lower.starts_with('0') {
            (8, &lower[1..])
        } else {
            (10, lower.as_str())
        };
        if digits.is_empty() {
            return None;
        }
        let v = u64::from_str_radix(digits, radix).ok()?;
        let i = num_bigint::BigInt::from(v);
        if neg {
            // ParseInt: within int64; ParseUint refuses signs.
            (v <= 1u64 << 63).then(|| -i)
        } else {
            Some(i)
        }
    }

    /// go-cty-yaml's timestamps (`2006-1-2T15:4:5.999999999Z07:00`, the same with `t`,
    /// `2006-1-2 15:4:5.999999999`, `2006-1-2`), given back in RFC 3339.
    fn timestamp(s: &str) -> Option<String> {
        use chrono::{DateTime, NaiveDate, NaiveDateTime};
        let b = s.as_bytes();
        if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
            return None;
        }
        let t = s.replacen('t', "T", 1);
        if let Ok(d) = DateTime::parse_from_rfc3339(&t) {
            return Some(if d.offset().local_minus_utc() == 0 {
                d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                d.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            });
        }
        for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
            if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
                return Some(d.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.format("%Y-%m-%dT00:00:00Z").to_string())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// The document's root.
    Top,
    /// The value of a mapping entry (after `key:`).
    MapValue,
    /// An item of a sequence (after `- `).
    SeqItem,
}

/// Emits `v` in the block style of go-yaml's emitter as cty-yaml drives it: strings
/// double-quoted (multi-line strings as literal blocks), two-space indentation, sequences
/// inside mappings not indented.
fn yaml_node(v: &Value, indent: usize, ctx: Ctx, out: &mut String) -> Result<(), String> {
    if indent > 2 * MAX_DEPTH + 2 {
        return Err("value is nested too deeply to encode".to_string());
    }
    if out.len() > super::MAX_STRING {
        return Err(format!(
            "the result would be longer than {} bytes, which Kiln does not allow",
            super::MAX_STRING
        ));
    }
    let pad = |n: usize| " ".repeat(n);
    match v {
        Value::List(l) if !l.is_empty() => {
            // Sequence items start at `indent`; within a sequence item the first entry
            // follows the dash on the same line.
            for (i, item) in l.iter().enumerate() {
                if i > 0 || ctx != Ctx::SeqItem {
                    if ctx == Ctx::MapValue && i == 0 {
                        out.push('\n');
                    }
                    out.push_str(&pad(indent));
                }
                out.push_str("- ");
                yaml_node(item, indent + 2, Ctx::SeqItem, out)?;
            }
        }
        Value::Object(o) if !o.is_empty() => {
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 || ctx != Ctx::SeqItem {
                    if ctx == Ctx::MapValue && i == 0 {
                        out.push('\n');
                    }
                    out.push_str(&pad(indent));
                }
                yaml_double_quoted(k, out);
                out.push(':');
                match item {
                    Value::List(l) if !l.is_empty() => yaml_node(item, indent, Ctx::MapValue, out)?,
                    Value::Object(m) if !m.is_empty() => {
                        yaml_node(item, indent + 2, Ctx::MapValue, out)?
                    }
                    _ => {
                        out.push(' ');
                        yaml_node(item, indent + 2, Ctx::MapValue, out)?;
                    }
                }
            }
        }
        Value::Number(_) | Value::String(_) => yaml_scalar(v, indent, ctx, out)?,
        Value::List(_) => out.push_str("[]\n"),
        Value::Object(_) => out.push_str("{}\n"),
        Value::Null | Value::Unknown => out.push_str("null\n"),
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push('\n');
        }
    }
    // go-yaml's emitter leaves a document whose root is a plain scalar (a number, a bool,
    // null) "open ended": it closes it with `...`.
    if ctx == Ctx::Top
        && matches!(
            v,
            Value::Null | Value::Unknown | Value::Bool(_) | Value::Number(_)
        )
    {
        out.push_str("...\n");
    }
    Ok(())
}

/// [`yaml_node`] for the numbers and strings.
fn yaml_scalar(v: &Value, indent: usize, ctx: Ctx, out: &mut String) -> Result<(), String> {
    match v {
        Value::Number(n) => {
            let s = if n.is_infinite() {
                if !n.is_negative() {
                    ".inf".to_string()
                } else {
                    "-.inf".to_string()
                }
            } else {
                format_number(n)
            };
            out.push_str(&s);
            out.push('\n');
        }
        Value::String(s) => {
            // Literal blocks are indented one level deeper than the enclosing node,
            // except at the root where go-yaml uses its default indentation.
            let block_indent = match ctx {
                Ctx::Top => 2,
                Ctx::MapValue => indent,
                Ctx::SeqItem => indent,
            };
            if literal_allowed(s) {
                yaml_literal(s, block_indent, out);
            } else {
                yaml_double_quoted(s, out);
                out.push('\n');
            }
        }
        _ => {}
    }
    Ok(())
}

fn yaml_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || u == 0x85
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
        || (0x10000..=0x10FFFF).contains(&u)
}

/// Whether go-yaml's emitter would accept the literal block style for this string.
fn literal_allowed(s: &str) -> bool {
    if !s.contains('\n') {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if s.contains(" \n") || s.chars().any(|c| !yaml_printable(c) || c == '\u{85}') {
        return false;
    }
    if s.chars().any(|c| matches!(c, '\u{2028}' | '\u{2029}')) {
        return false;
    }
    true
}

fn yaml_literal(s: &str, indent: usize, out: &mut String) {
    out.push('|');
    if s.starts_with('\n') {
        out.push('2');
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s.ends_with("\n\n") || s == "\n" {
        out.push('+');
    }
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn yaml_double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if !yaml_printable(c) => {
                let u = c as u32;
                if u <= 0xFF {
                    out.push_str(&format!("\\x{u:02X}"));
                } else if u <= 0xFFFF {
                    out.push_str(&format!("\\u{u:04X}"));
                } else {
                    out.push_str(&format!("\\U{u:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------
// Text encodings for textencodebase64 / textdecodebase64.

#[derive(Clone, Copy)]
enum TextEnc {
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf16Bom,
    Latin1,
    Ascii,
    Windows1252,
}

/// Windows-1252's assignments for 0x80..=0x9F (0 for undefined).
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

impl TextEnc {
    fn name(self) -> &'static str {
        match self {
            TextEnc::Utf8 => "UTF-8",
            TextEnc::Utf16Le => "UTF-16LE",
            TextEnc::Utf16Be => "UTF-16BE",
            TextEnc::Utf16Bom => "UTF-16",
            TextEnc::Latin1 => "ISO-8859-1",
            TextEnc::Ascii => "US-ASCII",
            TextEnc::Windows1252 => "windows-1252",
        }
    }

    fn encode(self, s: &str) -> Option<Vec<u8>> {
        match self {
            TextEnc::Utf8 => Some(s.as_bytes().to_vec()),
            TextEnc::Utf16Le => Some(s.encode_utf16().flat_map(u16::to_le_bytes).collect()),
            TextEnc::Utf16Be => Some(s.encode_utf16().flat_map(u16::to_be_bytes).collect()),
            TextEnc::Utf16Bom => {
                let mut v = vec![0xFE, 0xFF];
                v.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
                Some(v)
            }
            TextEnc::Latin1 => s.chars().map(|c| u8::try_from(c as u32).ok()).collect(),
            TextEnc::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { Some(c as u8) } else { None })
                .collect(),
            TextEnc::Windows1252 => s
                .chars()
                .map(|c| {
                    let u = c as u32;
                    if u < 0x80 || (0xA0..=0xFF).contains(&u) {
                        return Some(u as u8);
                    }
                    CP1252_HIGH
                        .iter()
                        .position(|x| *x != 0 && u32::from(*x) == u)
                        .map(|i| 0x80 + i as u8)
                })
                .collect(),
        }
    }

    fn decode(self, b: &[u8]) -> Option<String> {
        let utf16 = |b: &[u8], le: bool| -> Option<String> {
            if !b.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = b
                .chunks(2)
                .map(|c| {
                    let pair = [c[0], c.get(1).copied().unwrap_or(0)];
                    if le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                })
                .collect();
            String::from_utf16(&units).ok()
        };
        match self {
            TextEnc::Utf8 => String::from_utf8(b.to_vec()).ok(),
            TextEnc::Utf16Le => utf16(b, true),
            TextEnc::Utf16Be => utf16(b, false),
            TextEnc::Utf16Bom => match b {
                [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
                [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
                _ => utf16(b, false),
            },
            TextEnc::Latin1 => Some(b.iter().map(|x| char::from(*x)).collect()),
            TextEnc::Ascii => b
                .iter()
                .map(|x| {
                    if x.is_ascii() {
                        Some(char::from(*x))
                    } else {
                        None
                    }
                })
                .collect(),
            TextEnc::Windows1252 => b
                .iter()
                .map(|x| match x {
                    0x80..=0x9F => {
                        let u = CP1252_HIGH[usize::from(x - 0x80)];
                        if u == 0 {
                            None
                        } else {
                            char::from_u32(u32::from(u))
                        }
                    }
                    x => Some(char::from(*x)),
                })
                .collect(),
        }
    }
}

fn text_encoding(name: &str) -> Result<TextEnc, String> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    Ok(match n.as_str() {
        "utf-8" | "utf8" | "csutf8" => TextEnc::Utf8,
        "utf-16le" | "csutf16le" => TextEnc::Utf16Le,
        "utf-16be" | "csutf16be" => TextEnc::Utf16Be,
        "utf-16" | "csutf16" => TextEnc::Utf16Bom,
        "iso-8859-1" | "iso8859-1" | "latin1" | "l1" | "iso-ir-100" | "ibm819" | "cp819"
        | "csisolatin1" | "iso-8859-1:1987" => TextEnc::Latin1,
        "us-ascii" | "ascii" | "iso646-us" | "us" | "ansi-x3.4-1968" | "csascii" => TextEnc::Ascii,
        "windows-1252" | "cp1252" | "cswindows1252" => TextEnc::Windows1252,
        _ => {
            return Err(format!(
                "{} is not a supported IANA encoding name or alias in this Kiln version",
                super::go_quote(name)
            ));
        }
    })
}

/// Reads valid JSON `text` into a value, every number from its own digits
/// ([`crate::value::Number::parse`]), with the HCL JSON parser (which keeps a number's text);
/// `None` on anything unexpected.
fn exact_json(text: &str) -> Option<Value> {
    use crate::template::json::{Node, Val, parse_nested};
    fn value(n: &Node) -> Option<Value> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || value_here(n))
    }
    fn value_here(n: &Node) -> Option<Value> {
        Some(match &n.val {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(t) => Value::Number(crate::value::Number::parse(t)?),
            Val::Str(s) => Value::String(s.clone()),
            Val::Arr(items) => Value::List(items.iter().map(value).collect::<Option<_>>()?),
            // A repeated key: the last one wins, as in Go's encoding/json.
            Val::Obj(props) => Value::Object(
                props
                    .iter()
                    .map(|p| Some((p.key.clone(), value(&p.value)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
    value(&parse_nested(text, GO_MAX_DEPTH + 1).ok()?)
}

/// Go's `encoding/json` scanner's limit of nesting (`maxNestingDepth`).
const GO_MAX_DEPTH: usize = 10_000;

/// cty's decoding of a JSON document's top-level array or object reads each element alone
/// with Go's scanner, which refuses one nested more than ten thousand levels: cty's
/// `failed to read tuple value` (`object value`) with Go's `invalid character '[' exceeded
/// max depth`. `text` is valid JSON.
fn go_max_depth(text: &str) -> Result<(), String> {
    let what = match text.trim_start().as_bytes().first() {
        Some(b'[') => "tuple",
        Some(b'{') => "object",
        _ => return Ok(()),
    };
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for c in text.bytes() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                // The top-level container is one level; its element may have ten thousand.
                if depth > GO_MAX_DEPTH + 1 {
                    return Err(format!(
                        "failed to read {what} value: invalid character '{}' exceeded max depth",
                        c as char
                    ));
                }
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;
    use std::io::Read;

    #[test]
    fn base64() {
        assert_eq!(
            ok("base64encode", vec![s("Hello World")]),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            s("Hello World")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8g\nV29ybGQ=")]),
            s("Hello World")
        );
        assert_eq!(
            err("base64decode", vec![s("dGVzdA")]),
            "failed to decode base64 data 'dGVzdA'"
        );
        assert_eq!(
            err("base64decode", vec![s("/w==")]),
            "the result of decoding the provided string is not valid UTF-8"
        );
    }

    #[test]
    fn base64gzip_roundtrips() {
        let v = ok("base64gzip", vec![s("test")]);
        let Value::String(b) = v else { panic!() };
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
        assert_eq!(&raw[..2], &[0x1f, 0x8b]);
        assert_eq!(raw[9], 255, "OS byte as Go writes it");
        let mut d = flate2::read::GzDecoder::new(&raw[..]);
        let mut out = String::new();
        d.read_to_string(&mut out).unwrap();
        assert_eq!(out, "test");
    }

    /// Bytes Packer 1.16 (Go's compress/gzip) writes: repeats make LZ77 matches and, for the
    /// longer text, a dynamic Huffman block, which must be Go's choices exactly.
    #[test]
    fn base64gzip_is_gos_bytes() {
        let text = "the quick brown fox jumps over the lazy dog; the quick brown fox jumps over the lazy dog";
        assert_eq!(
            ok("base64gzip", vec![s(text)]),
            s(
                "H4sIAAAAAAAA/yrJSFUoLM1MzlZIKsovz1NIy69QyCrNLShWyC9LLVIASeckVlUqpOSnWyuQoBgAAAD//wEAAP//+5cGV1gAAAA="
            )
        );
        let lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        let expected = concat!(
            "H4sIAAAAAAAA/0TVu00lMBgF4Va2gA18/HZBBEiI/kMkPGOiP+ITcM/4fn1+f/wr/39P7qn3tHv6PeOe",
            "ec+6Z99z+HEZnAAFKVDBCljQAhe8ilf9vfAqXsWreBWv4lW8itfwGl7zD8VreA2v4TW8htfwOl7H63jd",
            "/xxex+t4Ha/jdbyBN/AG3sAbfhR4A2/gDbyBN/Em3sSbeBNv+tniTbyJN/EW3sJbeAtv4S285VjwFt7C",
            "23gbb+NtvI238Tbedn14G+/gHbyDd/AO3sE7eAfvOOe3ZwddXHRx0sVNF0ddXHVx1sVdF4ddlP9SUX6x",
            "vFpeLq+XF8wr5iVjMzGa1Fehst3EcGI5MZ3YTown1hPzif2kvcCVTSg2FCOKFcWMYkcxpFhSTCn9vR3K",
            "1hRzij3FoGJRManYVIwqVpXxniVlw4plxbRiWzGuWFfMK/YVA8t8L56yjcXIYmUxs9hZDC2WFlOLrWW9",
            "x1TZ3GJvMbhYXEwuNheji9XF7LLfO61seTG92F6ML9YX84v9xQBjgTnvK+D8AAAA//8BAAD//0ztNaOZ",
            "BgAA",
        );
        assert_eq!(ok("base64gzip", vec![s(&lines.join(","))]), s(expected));
        assert_eq!(
            ok("base64gzip", vec![s("")]),
            s("H4sIAAAAAAAA/wAAAP//AQAA//8AAAAAAAAAAA==")
        );
    }

    #[test]
    fn csvdecode() {
        assert_eq!(
            ok("csvdecode", vec![s("a,b,c\n1,2,3\n4,5,6")]),
            l(vec![
                obj(&[("a", s("1")), ("b", s("2")), ("c", s("3"))]),
                obj(&[("a", s("4")), ("b", s("5")), ("c", s("6"))]),
            ])
        );
        assert_eq!(
            ok(
                "csvdecode",
                vec![s("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n")]
            ),
            l(vec![obj(&[
                ("name", s("Smith, J")),
                ("note", s("said \"hi\""))
            ])])
        );
        assert_eq!(ok("csvdecode", vec![s("a,b\n")]), l(vec![]));
        assert_eq!(err("csvdecode", vec![s("")]), "missing header line");
        assert_eq!(
            err("csvdecode", vec![s("a,b\n1,2\n3\n")]),
            "CSV parse error on line 3: wrong number of fields"
        );
        assert_eq!(
            err("csvdecode", vec![s("a,a\n1,2")]),
            "duplicate column name \"a\""
        );
    }

    #[test]
    fn jsondecode() {
        assert_eq!(
            ok("jsondecode", vec![s("{\"hello\": \"world\"}")]),
            obj(&[("hello", s("world"))])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), Value::Bool(true));
        assert_eq!(ok("jsondecode", vec![s("null")]), Value::Null);
        assert_eq!(
            ok("jsondecode", vec![s("[1, 2.5, \"x\", {\"a\": []}]")]),
            l(vec![n(1.0), n(2.5), s("x"), obj(&[("a", l(vec![]))])])
        );
        assert_eq!(err("jsondecode", vec![s("")]), "EOF");
        assert_eq!(err("jsondecode", vec![s("{x")]), "invalid character 'x'");
        assert_eq!(ok("jsondecode", vec![s("[1]]")]), l(vec![n(1.0)]));
        // Deep nesting is an error, not a stack overflow: cut short, Go's `EOF`; complete,
        // Go's ten thousand levels for each element of the document's array or object.
        let deep = "[".repeat(100_000);
        assert_eq!(err("jsondecode", vec![s(&deep)]), "EOF");
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(
            err("jsondecode", vec![s(&nested(100_000))]),
            "failed to read tuple value: invalid character '[' exceeded max depth"
        );
        assert_eq!(
            err(
                "jsondecode",
                vec![s(&format!("{{\"a[\": {}}}", nested(10_001)))]
            ),
            "failed to read object value: invalid character '[' exceeded max depth"
        );
        let mut v = ok("jsondecode", vec![s(&nested(10_001))]);
        let mut levels = 1;
        while let Value::List(mut items) = v {
            match items.pop() {
                Some(inner) => (v, levels) = (inner, levels + 1),
                None => break,
            }
        }
        assert_eq!(levels, 10_001);
    }

    #[test]
    fn jsonencode() {
        assert_eq!(
            ok("jsonencode", vec![obj(&[("hello", s("world"))])]),
            s("{\"hello\":\"world\"}")
        );
        assert_eq!(
            ok(
                "jsonencode",
                vec![obj(&[
                    ("b", n(1.0)),
                    ("a", l(vec![Value::Bool(true), Value::Null]))
                ])]
            ),
            s("{\"a\":[true,null],\"b\":1}")
        );
        assert_eq!(
            ok("jsonencode", vec![s("<a & b>")]),
            s("\"\\u003ca \\u0026 b\\u003e\"")
        );
        assert_eq!(
            ok("jsonencode", vec![s("\u{1}\t\u{2028}")]),
            s("\"\\u0001\\t\\u2028\"")
        );
        assert_eq!(ok("jsonencode", vec![n(1.5)]), s("1.5"));
        assert_eq!(ok("jsonencode", vec![n(1e21)]), s("1000000000000000000000"));
        assert_eq!(ok("jsonencode", vec![n(1e-7)]), s("0.0000001"));
        assert_eq!(ok("jsonencode", vec![Value::Null]), s("null"));
        let mut deep = Value::Null;
        for _ in 0..600 {
            deep = l(vec![deep]);
        }
        assert!(err("jsonencode", vec![deep.clone()]).contains("nested too deeply"));
        assert!(err("yamlencode", vec![deep]).contains("nested too deeply"));
    }

    #[test]
    fn urlencode() {
        assert_eq!(
            ok("urlencode", vec![s("Hello World!")]),
            s("Hello+World%21")
        );
        assert_eq!(ok("urlencode", vec![s("☃")]), s("%E2%98%83"));
        assert_eq!(
            ok("urlencode", vec![s("foo:bar@localhost?foo=bar&bar=baz")]),
            s("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
        );
        assert_eq!(ok("urlencode", vec![s("a-b_c.d~e")]), s("a-b_c.d~e"));
    }

    #[test]
    fn yamldecode_syntax_errors_placed_as_go_cty_yaml() {
        // Each checked against Packer 1.16's console.
        for (src, want) in [
            (
                "a: [1",
                "on line 1, column 1: did not find expected ',' or ']'",
            ),
            (
                "- a\nb: c",
                "on line 1, column 1: did not find expected '-' indicator",
            ),
            (
                "a:\n  - b\n c: d",
                "on line 2, column 2: did not find expected key",
            ),
            ("\"abc", "found unexpected end of stream"),
            ("a: b: c", "mapping values are not allowed in this context"),
            (
                "a: &x 1\nb: *y",
                "on line 1, column 4: reference to undefined anchor \"y\"",
            ),
            ("a: [*q]", "reference to undefined anchor \"q\""),
            ("%YAML 1.2\n---\na: 1", "found incompatible YAML document"),
            (
                "# c\n%YAML 2.0\n---\na: 1",
                "on line 1, column 1: found incompatible YAML document",
            ),
            // go-yaml's scanner and parser, as go-cty-yaml embeds them.
            ("\tx: 1", "found character that cannot start any token"),
            (
                "a:\n\t- 1",
                "on line 2, column 1: found character that cannot start any token",
            ),
            (": x", "did not find expected key"),
            ("a: !] x", "unsupported tag \"!]\""),
            ("! x", "unsupported tag \"!\""),
            (
                "a: 1\n...\nb: 2\n",
                "on line 2, column 1: did not find expected <document start>",
            ),
            // go-cty-yaml's own checks.
            (
                "a: &x [*x]",
                "cannot refer to anchor \"x\" from inside its own definition",
            ),
            (
                "a: 1\n---\nb: 2\n",
                "on line 1, column 1: unexpected extra content after value",
            ),
            ("<<: ~", "cannot merge dynamic into mapping"),
            // Only `Unmarshal` resolves an untagged block scalar, after `ImpliedType`.
            ("|-\n  .nan", "floating point NaN is not supported"),
        ] {
            assert_eq!(err("yamldecode", vec![s(src)]), want, "{src:?}");
        }
    }

    #[test]
    fn yamldecode() {
        assert_eq!(
            ok("yamldecode", vec![s("hello: world")]),
            obj(&[("hello", s("world"))])
        );
        assert_eq!(ok("yamldecode", vec![s("true")]), Value::Bool(true));
        assert_eq!(
            ok("yamldecode", vec![s("{a: &foo [1, 2, 3], b: *foo}")]),
            obj(&[
                ("a", l(vec![n(1.0), n(2.0), n(3.0)])),
                ("b", l(vec![n(1.0), n(2.0), n(3.0)]))
            ])
        );
        // Packer 1.16 (go-cty-yaml 1.0): an empty stream has no document.
        assert_eq!(
            err("yamldecode", vec![s("")]),
            "on line 1, column 1: missing start of document"
        );
        // YAML 1.1 words, quoted or not; numbers as go-cty-yaml 1.0 reads them.
        assert_eq!(
            ok(
                "yamldecode",
                vec![s("[yes, 'yes', off, 0x1F, 1_000, 0b101, 2002-12-14]")]
            ),
            l(vec![
                Value::Bool(true),
                s("yes"),
                Value::Bool(false),
                s("0x1F"),
                n(1000.0),
                n(5.0),
                s("2002-12-14T00:00:00Z")
            ])
        );
        assert_eq!(
            ok("yamldecode", vec![s("1: one\n")]),
            obj(&[("1", s("one"))])
        );
        assert_eq!(
            ok(
                "yamldecode",
                vec![s("base: &b {x: 1}\nd:\n  <<: *b\n  z: 2\n  y: 3\n")]
            ),
            obj(&[
                ("base", obj(&[("x", n(1.0))])),
                // A key is resolved too: `y` is the bool true, as a string.
                ("d", obj(&[("x", n(1.0)), ("z", n(2.0)), ("true", n(3.0))]))
            ])
        );
        assert!(!err("yamldecode", vec![s("a: [1")]).is_empty());
        assert!(!err("yamldecode", vec![s("a: 1\n---\nb: 2\n")]).is_empty());
        // A null document is of no type: Packer's yamldecode leaves it unknown.
        assert_eq!(ok("yamldecode", vec![s("~\n")]), Value::Unknown);
        // A quoted `<<` key merges too; block scalars are resolved, then made strings.
        assert_eq!(
            ok("yamldecode", vec![s("\"<<\": {a: 1}\nb: |-\n  1e3\n")]),
            obj(&[("a", n(1.0)), ("b", s("1000"))])
        );
    }

    #[test]
    fn yamlencode() {
        assert_eq!(
            ok("yamlencode", vec![obj(&[("a", s("b")), ("c", s("d"))])]),
            s("\"a\": \"b\"\n\"c\": \"d\"\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![obj(&[
                    ("foo", l(vec![n(1.0), n(2.0), n(3.0)])),
                    ("bar", s("baz"))
                ])]
            ),
            s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![obj(&[
                    (
                        "foo",
                        l(vec![n(1.0), obj(&[("a", s("b")), ("c", s("d"))]), n(3.0)])
                    ),
                    ("bar", s("baz"))
                ])]
            ),
            s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
        );
        assert_eq!(ok("yamlencode", vec![s("hello")]), s("\"hello\"\n"));
        // A plain scalar at the root leaves the document open: go-yaml closes it with `...`.
        assert_eq!(ok("yamlencode", vec![n(1.5)]), s("1.5\n...\n"));
        assert_eq!(ok("yamlencode", vec![Value::Null]), s("null\n...\n"));
        assert_eq!(ok("yamlencode", vec![Value::Bool(true)]), s("true\n...\n"));
        assert_eq!(ok("yamlencode", vec![l(vec![])]), s("[]\n"));
        assert_eq!(
            ok(
                "yamlencode",
                vec![obj(&[("a", obj(&[("b", obj(&[])), ("c", l(vec![]))]))])]
            ),
            s("\"a\":\n  \"b\": {}\n  \"c\": []\n")
        );
        assert_eq!(
            ok("yamlencode", vec![l(vec![sl(&["a", "b"]), sl(&["c"])])]),
            s("- - \"a\"\n  - \"b\"\n- - \"c\"\n")
        );
        assert_eq!(
            ok("yamlencode", vec![s("tab\there")]),
            s("\"tab\\there\"\n")
        );
        assert_eq!(
            ok("yamlencode", vec![obj(&[("k", s("line1\nline2"))])]),
            s("\"k\": |-\n  line1\n  line2\n")
        );
        assert_eq!(
            ok("yamlencode", vec![obj(&[("k", s("line1\nline2\n"))])]),
            s("\"k\": |\n  line1\n  line2\n")
        );
    }

    #[test]
    fn text_encodings() {
        assert_eq!(
            ok("textencodebase64", vec![s("Hello World"), s("UTF-16LE")]),
            s("SABlAGwAbABvACAAVwBvAHIAbABkAA==")
        );
        assert_eq!(
            ok(
                "textdecodebase64",
                vec![s("SABlAGwAbABvACAAVwBvAHIAbABkAA=="), s("UTF-16LE")]
            ),
            s("Hello World")
        );
        assert_eq!(
            ok("textencodebase64", vec![s("é"), s("iso-8859-1")]),
            s("6Q==")
        );
        assert_eq!(
            ok("textencodebase64", vec![s("€"), s("windows-1252")]),
            s("gA==")
        );
        assert_eq!(ok("textdecodebase64", vec![s("gA=="), s("cp1252")]), s("€"));
        assert_eq!(
            err("textencodebase64", vec![s("☃"), s("us-ascii")]),
            "the given string contains characters that cannot be represented in US-ASCII"
        );
        assert_eq!(
            err("textencodebase64", vec![s("x"), s("klingon")]),
            "\"klingon\" is not a supported IANA encoding name or alias in this Kiln version"
        );
        assert_eq!(
            err("textdecodebase64", vec![s("#"), s("UTF-8")]),
            "the given value is has an invalid base64 symbol at offset 0"
        );
        assert_eq!(
            err("textdecodebase64", vec![s("/w=="), s("UTF-8")]),
            "the given string contains symbols that are not defined for UTF-8"
        );
    }
}
