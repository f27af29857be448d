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
            let j: serde_json::Value = match serde_json::from_str(s) {
                Ok(j) => j,
                // A number beyond f64 (`1e400`) is valid JSON to cty.
                Err(e) if e.to_string().starts_with("number out of range") => {
                    return exact_json(s).ok_or_else(|| other(json_error(&e)));
                }
                Err(e) => return Err(other(json_error(&e))),
            };
            // The text is valid JSON: read again keeping each number's digits, as cty does
            // (`ParseNumberVal`, 512 bits), which serde_json's `f64` would round.
            Ok(exact_json(s).unwrap_or_else(|| Value::from_json(&j)))
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

fn json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of JSON input".to_string(),
        _ => format!("invalid JSON: {e}"),
    }
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
    incompatible_version(s)?;
    match yaml11::decode(s) {
        Ok(v) => v,
        // A syntax error: worded by libyaml (serde_yaml's parser), placed as go-cty-yaml
        // places it.
        Err(e) => match serde_yaml::from_str::<serde_yaml::Value>(s) {
            Err(se) => Err(go_yaml_syntax_error(&se.to_string(), s)),
            Ok(_) => Err(e),
        },
    }
}

/// go-yaml's check of a document's `%YAML` directive: only version 1.1 (libyaml's parser,
/// which Kiln's YAML readers share, accepts 1.2 and 2.0).
fn incompatible_version(src: &str) -> Result<(), String> {
    for (i, line) in src.lines().enumerate() {
        let t = line.trim_end();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some(version) = t.strip_prefix("%YAML") else {
            if t.starts_with('%') {
                continue;
            }
            break;
        };
        let version = version.split('#').next().unwrap_or("").trim();
        if version != "1.1" {
            let problem = "found incompatible YAML document";
            return Err(if i == 0 {
                problem.to_string()
            } else {
                format!("on line {i}, column 1: {problem}")
            });
        }
        break;
    }
    Ok(())
}

/// go-cty-yaml's `parserErrorWrap` of a libyaml error, from serde_yaml's text of it
/// (`PROBLEM at line L column C, CONTEXT at line L column C`, marks counted from 1): `on line
/// N, column M: PROBLEM` where N is the problem's line counted from 0 (a scanner error's from
/// 1, column 1), else the context's, and the problem alone when both are on the first line.
fn go_yaml_syntax_error(text: &str, src: &str) -> String {
    /// A text and the (line, column) counted from 0 of its `at line L column C` suffix.
    fn mark(s: &str) -> (&str, Option<(usize, usize)>) {
        if let Some((t, m)) = s.rsplit_once(" at line ")
            && let Some((l, c)) = m.split_once(" column ")
            && let (Ok(l), Ok(c)) = (l.trim().parse::<usize>(), c.trim().parse::<usize>())
        {
            return (t, Some((l.saturating_sub(1), c.saturating_sub(1))));
        }
        match s.rsplit_once(" at position ") {
            Some((t, n)) if n.trim().parse::<usize>().is_ok() => (t, None),
            _ => (s, None),
        }
    }
    let (head, context) = match text.split_once(", while ") {
        Some((h, c)) => (h, Some(c)),
        None => (text, None),
    };
    let (problem, pmark) = mark(head);
    // An alias of no anchor: go-cty-yaml's own error, at the alias event (its line counted
    // from 0 and no place on the first line).
    if problem == "unknown anchor"
        && let Some((l, c)) = pmark
    {
        let name: String = src
            .lines()
            .nth(l)
            .and_then(|line| line.get(line.char_indices().nth(c).map_or(line.len(), |(i, _)| i)..))
            .map(|rest| {
                rest.trim_start_matches('*')
                    .chars()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '-')
                    .collect()
            })
            .unwrap_or_default();
        let msg = format!("reference to undefined anchor {}", super::go_quote(&name));
        return if l == 0 {
            msg
        } else {
            format!("on line {l}, column {}: {msg}", c + 1)
        };
    }
    let cmark = context.map(|c| mark(c).1.or(pmark)).unwrap_or(None);
    const SCANNER_ALONE: &[&str] = &[
        "block sequence entries are not allowed in this context",
        "mapping keys are not allowed in this context",
        "mapping values are not allowed in this context",
    ];
    let scanner =
        context.is_some_and(|c| c.starts_with("scanning")) || SCANNER_ALONE.contains(&problem);
    match (pmark, cmark) {
        (Some((l, c)), _) if l != 0 => {
            if scanner {
                format!("on line {}, column 1: {problem}", l + 1)
            } else {
                format!("on line {l}, column {}: {problem}", c + 1)
            }
        }
        (_, Some((l, c))) if l != 0 => format!("on line {l}, column {}: {problem}", c + 1),
        _ => problem.to_string(),
    }
}

/// go-cty-yaml's conversion of YAML to values: its YAML 1.1 scalar resolver (`y`, `yes`, `on`…
/// are booleans, `0o17` and `0x1F` integers, `.inf`, timestamps as RFC 3339 strings), merge
/// keys, anchors, and mapping keys converted to strings.
mod yaml11 {
    use std::collections::BTreeMap;

    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
    use yaml_rust2::scanner::{Marker, TScalarStyle};

    use crate::value::{Number, Value};

    const TAG: &str = "tag:yaml.org,2002:";

    struct Events(Vec<(Event, Marker)>);

    impl MarkedEventReceiver for Events {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            self.0.push((ev, mark));
        }
    }

    /// `Err` for a syntax error (the caller words it); else the value or the conversion error.
    pub(super) fn decode(src: &str) -> Result<Result<Value, String>, String> {
        let mut events = Events(Vec::new());
        Parser::new_from_str(src)
            .load(&mut events, true)
            .map_err(|e| e.to_string())?;
        let docs: Vec<&Marker> = events
            .0
            .iter()
            .filter(|(e, _)| matches!(e, Event::DocumentStart))
            .map(|(_, m)| m)
            .collect();
        match docs.as_slice() {
            [] => {
                return Ok(Err(
                    "on line 1, column 1: missing start of document".to_string()
                ));
            }
            [_] => {}
            // go-yaml's line here is counted from 0.
            [_, second, ..] => {
                return Ok(Err(format!(
                    "on line {}, column {}: unexpected extra content after value",
                    second.line().saturating_sub(1),
                    second.col() + 1
                )));
            }
        }
        let mut d = Decoder {
            events: events.0,
            pos: 0,
            anchors: BTreeMap::new(),
        };
        // Skip to the document's content.
        while let Some((ev, _)) = d.events.get(d.pos) {
            match ev {
                Event::StreamStart | Event::DocumentStart | Event::Nothing => d.pos += 1,
                Event::StreamEnd | Event::DocumentEnd => return Ok(Ok(Value::Null)),
                _ => break,
            }
        }
        if d.pos >= d.events.len() {
            return Ok(Ok(Value::Null));
        }
        Ok(d.value(0))
    }

    struct Decoder {
        events: Vec<(Event, Marker)>,
        pos: usize,
        anchors: BTreeMap<usize, Value>,
    }

    fn long_tag(tag: &Option<Tag>) -> Result<String, String> {
        Ok(match tag {
            None => String::new(),
            Some(t) if t.handle == "!!" => format!("{TAG}{}", t.suffix),
            Some(t) if t.handle == "!" && t.suffix.is_empty() => format!("{TAG}str"),
            Some(t) if t.handle.is_empty() || t.handle == "!<" => t.suffix.clone(),
            Some(t) => format!("{}{}", t.handle, t.suffix),
        })
    }

    /// Packer's go-cty-yaml reports conversion errors without their position.
    fn at(_mark: &Marker, msg: impl std::fmt::Display) -> String {
        msg.to_string()
    }

    impl Decoder {
        fn next(&mut self) -> Result<(Event, Marker), String> {
            let e = self
                .events
                .get(self.pos)
                .cloned()
                .ok_or_else(|| "expecting value but found end of stream".to_string())?;
            self.pos += 1;
            Ok(e)
        }

        fn value(&mut self, depth: usize) -> Result<Value, String> {
            if depth > 512 {
                return Err("YAML document is nested too deeply".to_string());
            }
            let (ev, mark) = self.next()?;
            match ev {
                Event::Scalar(src, style, anchor, tag) => {
                    let mut v = resolve(&long_tag(&tag)?, &src, style).map_err(|e| at(&mark, e))?;
                    // Block scalars (`|`, `>`) come out as strings, whatever they resolve to.
                    if matches!(style, TScalarStyle::Literal | TScalarStyle::Folded)
                        && let Some(text) = v.to_string_lossless()
                    {
                        v = Value::String(text);
                    }
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    Ok(v)
                }
                Event::Alias(id) => self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(&mark, "reference to undefined anchor")),
                Event::SequenceStart(anchor, tag) => {
                    let tag = long_tag(&tag)?;
                    if !tag.is_empty() && tag != format!("{TAG}seq") {
                        return Err(at(&mark, format!("can't interpret sequence as {tag}")));
                    }
                    let mut items = Vec::new();
                    while !matches!(
                        self.events.get(self.pos),
                        Some((Event::SequenceEnd, _)) | None
                    ) {
                        items.push(self.value(depth + 1)?);
                    }
                    self.pos += 1;
                    let v = Value::List(items);
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    Ok(v)
                }
                Event::MappingStart(anchor, tag) => {
                    let tag = long_tag(&tag)?;
                    if !tag.is_empty() && tag != format!("{TAG}map") {
                        return Err(at(&mark, format!("can't interpret mapping as {tag}")));
                    }
                    let v = self.mapping(depth)?;
                    if anchor > 0 {
                        self.anchors.insert(anchor, v.clone());
                    }
                    Ok(v)
                }
                Event::MappingEnd => Err(at(&mark, "expecting value but found end of mapping")),
                Event::SequenceEnd => Err(at(&mark, "expecting value but found end of sequence")),
                _ => Err(at(&mark, "expecting value but found end of stream")),
            }
        }

        fn mapping(&mut self, depth: usize) -> Result<Value, String> {
            let mut vals = BTreeMap::new();
            loop {
                let (ev, mark) = self.next()?;
                let (src, style, tag) = match ev {
                    Event::MappingEnd => return Ok(Value::Object(vals)),
                    Event::Scalar(src, style, _, tag) => (src, style, long_tag(&tag)?),
                    _ => return Err(at(&mark, "only strings are allowed as mapping keys")),
                };
                let merge = (tag.is_empty() && style == TScalarStyle::Plain && src == "<<")
                    || tag == format!("{TAG}merge");
                if merge {
                    match self.value(depth + 1)? {
                        Value::Object(o) => vals.extend(o),
                        // go-cty-yaml 1.0 (Packer's) merges only a mapping.
                        other => {
                            return Err(format!(
                                "on line {}, column {}: cannot merge {} into mapping",
                                // go-yaml's line here is counted from 0.
                                mark.line().saturating_sub(1),
                                mark.col() + 1,
                                friendly(&other)
                            ));
                        }
                    }
                    continue;
                }
                let key = match resolve(&tag, &src, style)? {
                    Value::Null => return Err(at(&mark, "mapping key cannot be null")),
                    v => v
                        .to_string_lossless()
                        .ok_or_else(|| at(&mark, "only strings are allowed as mapping keys"))?,
                };
                let v = self.value(depth + 1)?;
                vals.insert(key, v);
            }
        }
    }

    fn friendly(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "tuple",
            _ => "dynamic",
        }
    }

    /// go-cty-yaml's `resolveScalar`.
    fn resolve(tag: &str, src: &str, style: TScalarStyle) -> Result<Value, String> {
        let known = ["str", "bool", "int", "float", "null", "timestamp", "binary"];
        let short = tag.strip_prefix(TAG);
        if !tag.is_empty() && !short.is_some_and(|t| known.contains(&t)) {
            return Err(format!("unsupported tag {}", crate::value::go_quote(tag)));
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
            if matches!(
                style,
                TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
            ) {
                return Ok(Value::str(src));
            }
            if let Some(v) = lookup(src) {
                return Ok(v);
            }
            if tag.is_empty() && matches!(src, ".nan" | ".NaN" | ".NAN") {
                return Err("floating point NaN is not supported".to_string());
            }
            match hint {
                b'.' => {
                    if let Some(n) = Number::parse(src) {
                        return Ok(Value::Number(n));
                    }
                }
                b'D' | b'S' => {
                    if (tag.is_empty() || tag == "timestamp")
                        && let Some(t) = timestamp(src)
                    {
                        return Ok(Value::String(t));
                    }
                    // go-cty-yaml 1.0 (Packer's): a decimal number with `_` allowed, or a
                    // binary `0b` integer; `0x`, `0o` and the like stay strings.
                    let plain = src.replace('_', "");
                    if let Some(n) = Number::parse(&plain) {
                        return Ok(Value::Number(n));
                    }
                    if plain.starts_with("0b") || plain.starts_with("-0b") {
                        tag = "int".into();
                    }
                }
                _ => {}
            }
        }
        let cannot = |t: &str| format!("cannot parse {} as {TAG}{t}", crate::value::go_quote(src));
        match tag.as_str() {
            "binary" => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(src)
                    .map_err(|_| {
                        format!(
                            "cannot parse {} as {TAG}binary: not valid base64",
                            crate::value::go_quote(src)
                        )
                    })?;
                Ok(Value::str(src))
            }
            "bool" => match lookup(src) {
                Some(v @ Value::Bool(_)) => Ok(v),
                _ => Err(cannot("bool")),
            },
            "int" | "float" => {
                let plain = src.replace('_', "");
                if let Some(n) = Number::parse(&plain) {
                    return Ok(Value::Number(n));
                }
                go_int(&plain)
                    .or_else(|| binary_int(&plain))
                    .map(|i| Value::Number(Number::from_bigint(&i)))
                    .ok_or_else(|| cannot(&tag))
            }
            "timestamp" => timestamp(src)
                .map(Value::String)
                .ok_or_else(|| cannot("timestamp")),
            "null" => Ok(Value::Null),
            _ => Ok(Value::str(src)),
        }
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
    use crate::template::json::{Node, Val, parse};
    fn value(n: &Node) -> Option<Value> {
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
    value(&parse(text).ok()?)
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
        // beyond serde_json's depth, its own words.
        let deep = "[".repeat(100_000);
        assert_eq!(err("jsondecode", vec![s(&deep)]), "EOF");
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(err("jsondecode", vec![s(&deep)]).contains("JSON"));
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
