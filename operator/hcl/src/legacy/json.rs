//! JSON as Go's `encoding/json` reads a legacy template into `interface{}`: the same syntax
//! errors at the same byte offsets (its scanner's words), the duplicate-key check Packer runs
//! afterwards, the error location Packer prints, and values printed as Go's `%v` and typed
//! as Go's `reflect` names them (for mapstructure's messages).

/// A JSON value, object keys in document order (Go's maps have none; callers sort where
/// Packer's output is deterministic).
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// The value of a key (the last one, as Go's decoder keeps).
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Go's `reflect.Type.String()` of the decoded value.
    pub fn go_type(&self) -> &'static str {
        match self {
            J::Null => "<nil>",
            J::Bool(_) => "bool",
            J::Num(_) => "float64",
            J::Str(_) => "string",
            J::Arr(_) => "[]interface {}",
            J::Obj(_) => "map[string]interface {}",
        }
    }

    /// Go's `reflect.Kind.String()` of the decoded value.
    pub fn go_kind(&self) -> &'static str {
        match self {
            J::Null => "invalid",
            J::Bool(_) => "bool",
            J::Num(_) => "float64",
            J::Str(_) => "string",
            J::Arr(_) => "slice",
            J::Obj(_) => "map",
        }
    }

    /// Go's `fmt` `%v` of the decoded value (maps with sorted keys, as fmt prints them).
    pub fn go_v(&self) -> String {
        match self {
            J::Null => "<nil>".into(),
            J::Bool(b) => b.to_string(),
            J::Num(n) => crate::functions::go_float(*n, 'g', None),
            J::Str(s) => s.clone(),
            J::Arr(items) => format!(
                "[{}]",
                items.iter().map(J::go_v).collect::<Vec<_>>().join(" ")
            ),
            J::Obj(m) => {
                let mut m = dedup(m);
                m.sort_by(|a, b| a.0.cmp(&b.0));
                format!(
                    "map[{}]",
                    m.iter()
                        .map(|(k, v)| format!("{k}:{}", v.go_v()))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        }
    }

    /// The value as a JSON value (for handing a config on).
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            J::Null => serde_json::Value::Null,
            J::Bool(b) => serde_json::Value::Bool(*b),
            J::Num(n) => serde_json::Number::from_f64(*n)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            J::Str(s) => serde_json::Value::String(s.clone()),
            J::Arr(items) => serde_json::Value::Array(items.iter().map(J::to_serde).collect()),
            J::Obj(m) => serde_json::Value::Object(
                dedup(m)
                    .into_iter()
                    .map(|(k, v)| (k, v.to_serde()))
                    .collect(),
            ),
        }
    }
}

/// An object's entries with the last value of each key, in first-seen order.
pub fn dedup(m: &[(String, J)]) -> Vec<(String, J)> {
    let mut out: Vec<(String, J)> = Vec::with_capacity(m.len());
    for (k, v) in m {
        match out.iter_mut().find(|(o, _)| o == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// Go's `*json.SyntaxError`: the scanner's message and the offset of the byte that failed
/// (counting it), or the input's length at its end.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub msg: String,
    pub offset: usize,
}

/// Go's `quoteChar`: a byte as the scanner's messages quote it.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = crate::value::go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    /// Open objects and arrays (Go's scanner refuses more than 10000).
    depth: usize,
}

/// encoding/json's `maxNestingDepth`.
const MAX_DEPTH: usize = 10000;

type PResult<T> = Result<T, SyntaxError>;

impl Parser<'_> {
    fn eof(&self) -> SyntaxError {
        SyntaxError {
            msg: "unexpected end of JSON input".into(),
            offset: self.data.len(),
        }
    }

    fn err(&self, at: usize, context: &str) -> SyntaxError {
        SyntaxError {
            msg: format!("invalid character {} {context}", quote_char(self.data[at])),
            offset: at + 1,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.data.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> PResult<u8> {
        self.data.get(self.pos).copied().ok_or_else(|| self.eof())
    }

    fn value(&mut self) -> PResult<J> {
        self.skip_ws();
        let c = self.peek()?;
        if matches!(c, b'{' | b'[') {
            if self.depth >= MAX_DEPTH {
                return Err(self.err(self.pos, "exceeded max depth"));
            }
            self.depth += 1;
            let v = if c == b'{' {
                self.object()
            } else {
                self.array()
            };
            self.depth -= 1;
            return v;
        }
        match c {
            b'"' => self.string().map(J::Str),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal("true", J::Bool(true)),
            b'f' => self.literal("false", J::Bool(false)),
            b'n' => self.literal("null", J::Null),
            _ => Err(self.err(self.pos, "looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, v: J) -> PResult<J> {
        let bytes = word.as_bytes();
        self.pos += 1;
        for &want in &bytes[1..] {
            let c = self.peek()?;
            if c != want {
                return Err(self.err(
                    self.pos,
                    &format!("in literal {word} (expecting {})", quote_char(want)),
                ));
            }
            self.pos += 1;
        }
        Ok(v)
    }

    fn number(&mut self) -> PResult<J> {
        let start = self.pos;
        if self.data[self.pos] == b'-' {
            self.pos += 1;
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(self.err(self.pos, "in numeric literal"));
            }
        }
        if self.data[self.pos] == b'0' {
            self.pos += 1;
        } else {
            while self.data.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
        }
        if self.data.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(self.err(self.pos, "after decimal point in numeric literal"));
            }
            while self.data.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
        }
        if matches!(self.data.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek()?, b'+' | b'-') {
                self.pos += 1;
            }
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(self.err(self.pos, "in exponent of numeric literal"));
            }
            while self.data.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(&self.data[start..self.pos]).unwrap_or("0");
        Ok(J::Num(text.parse().unwrap_or(f64::INFINITY)))
    }

    fn string(&mut self) -> PResult<String> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek()?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code)
                                && self.data.get(self.pos) == Some(&b'\\')
                                && self.data.get(self.pos + 1) == Some(&b'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let low = self.hex4()?;
                                if (0xDC00..0xE000).contains(&low) {
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(self.err(self.pos - 1, "in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(self.err(self.pos, "in string literal")),
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let mut code = 0u32;
        for _ in 0..4 {
            let c = self.peek()?;
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.err(self.pos, "in \\u hexadecimal character escape"))?;
            code = code * 16 + d;
            self.pos += 1;
        }
        Ok(code)
    }

    fn object(&mut self) -> PResult<J> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(J::Obj(entries));
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return Err(self.err(self.pos, "looking for beginning of object key string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek()? != b':' {
                return Err(self.err(self.pos, "after object key"));
            }
            self.pos += 1;
            let v = self.value()?;
            entries.push((key, v));
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(J::Obj(entries));
                }
                _ => return Err(self.err(self.pos, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> PResult<J> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(J::Arr(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(J::Arr(items));
                }
                _ => return Err(self.err(self.pos, "after array element")),
            }
        }
    }
}

/// Parses a document as Go's `json.Unmarshal` into `interface{}`.
pub fn parse(data: &[u8]) -> Result<J, SyntaxError> {
    let mut p = Parser {
        data,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.skip_ws();
    if p.pos < data.len() {
        return Err(p.err(p.pos, "after top-level value"));
    }
    Ok(v)
}

/// The first value of a stream, as Go's `json.Decoder.Decode` reads it: what follows the
/// value is not looked at; an empty stream is `EOF`, a cut one `unexpected EOF`.
pub fn decode_first(data: &[u8]) -> Result<J, String> {
    let mut p = Parser {
        data,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.pos == data.len() {
        return Err("EOF".into());
    }
    p.value().map_err(|e| {
        if e.offset == data.len() && e.msg == "unexpected end of JSON input" {
            "unexpected EOF".to_string()
        } else {
            e.msg
        }
    })
}

/// Packer's `checkForDuplicateFields`: the first key repeated in one object, in document
/// order (a repeat inside a value is found before a later repeat of its object).
pub fn first_duplicate(v: &J) -> Option<String> {
    match v {
        J::Obj(m) => {
            let mut seen = std::collections::BTreeSet::new();
            for (k, v) in m {
                if !seen.insert(k.as_str()) {
                    return Some(k.clone());
                }
                if let Some(d) = first_duplicate(v) {
                    return Some(d);
                }
            }
            None
        }
        J::Arr(items) => items.iter().find_map(first_duplicate),
        _ => None,
    }
}

/// Packer's `highlightPosition`: the line and column of a syntax error's offset and the
/// lines it shows, the failing one with a caret under the column.
pub fn highlight(data: &[u8], pos: usize) -> (usize, usize, String) {
    let mut line = 1;
    let mut col = 0;
    let mut last_line: Vec<u8> = Vec::new();
    let mut this_line: Vec<u8> = Vec::new();
    for &b in data.iter().take(pos) {
        if b == b'\n' {
            last_line = std::mem::take(&mut this_line);
            line += 1;
            col = 1;
        } else {
            col += 1;
            this_line.push(b);
        }
    }
    let mut out = String::new();
    if line > 1 {
        out.push_str(&format!(
            "{:5}: {}\n",
            line - 1,
            String::from_utf8_lossy(&last_line)
        ));
    }
    out.push_str(&format!(
        "{line:5}: {}\n",
        String::from_utf8_lossy(&this_line)
    ));
    out.push_str(&format!("{}^\n", " ".repeat(col + 5)));
    (line, col, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> (String, usize) {
        let e = parse(s.as_bytes()).unwrap_err();
        (e.msg, e.offset)
    }

    #[test]
    fn syntax_errors_read_as_go_reports_them() {
        assert_eq!(
            err("{\"a\": 1 \"b\": 2}"),
            (
                "invalid character '\"' after object key:value pair".into(),
                9
            )
        );
        assert_eq!(
            err("{\n  \"a\": ["),
            ("unexpected end of JSON input".into(), 10)
        );
        assert_eq!(
            err("[1,]"),
            (
                "invalid character ']' looking for beginning of value".into(),
                4
            )
        );
        assert_eq!(
            err("{a: 1}"),
            (
                "invalid character 'a' looking for beginning of object key string".into(),
                2
            )
        );
        assert_eq!(
            err("[tru]"),
            (
                "invalid character ']' in literal true (expecting 'e')".into(),
                5
            )
        );
        assert_eq!(
            err("{} x"),
            ("invalid character 'x' after top-level value".into(), 4)
        );
        assert_eq!(
            err("[01]"),
            ("invalid character '1' after array element".into(), 3)
        );
        assert_eq!(
            err("\"a\nb\""),
            ("invalid character '\\n' in string literal".into(), 3)
        );
        assert_eq!(err(""), ("unexpected end of JSON input".into(), 0));
    }

    #[test]
    fn nesting_stops_at_go_max_depth() {
        // Deep documents need a deep stack (the CLI runs its commands on one).
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(nesting)
            .unwrap()
            .join()
            .unwrap();
    }

    fn nesting() {
        let doc = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(doc(10000).as_bytes()).is_ok());
        let e = parse(doc(10001).as_bytes()).unwrap_err();
        assert_eq!(e.msg, "invalid character '[' exceeded max depth");
        assert_eq!(e.offset, 10001);
        assert_eq!(
            decode_first(doc(10001).as_bytes()).unwrap_err(),
            "invalid character '[' exceeded max depth"
        );
        assert_eq!(decode_first(b" {} trailing").unwrap(), J::Obj(Vec::new()));
        assert_eq!(decode_first(b"  ").unwrap_err(), "EOF");
        assert_eq!(decode_first(b"[1, ").unwrap_err(), "unexpected EOF");
    }

    #[test]
    fn values_and_duplicates() {
        let v = parse(br#"{"a": [1, 2.5, "x", true, null], "b": {"c": 1e21}}"#).unwrap();
        assert_eq!(v.get("a").unwrap().go_v(), "[1 2.5 x true <nil>]");
        assert_eq!(v.get("b").unwrap().go_v(), "map[c:1e+21]");
        let d = parse(br#"{"a": {"x": 1, "x": 2}, "a": 3}"#).unwrap();
        assert_eq!(first_duplicate(&d).as_deref(), Some("x"));
    }

    #[test]
    fn highlight_points_at_the_column() {
        let (line, col, h) = highlight(b"{\n  \"a\": 1\n  \"b\"", 14);
        assert_eq!((line, col), (3, 4));
        assert_eq!(h, "    2:   \"a\": 1\n    3:   \"\n         ^\n");
    }
}
