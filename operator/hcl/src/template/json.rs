//! HCL's JSON syntax (`*.pkr.json`), read as hashicorp/hcl's `json` package reads it and
//! turned into native syntax for the one decoder: strings are templates (their `${…}` kept as
//! written), numbers keep their digits (cty's 512-bit numbers), `"//"` properties of bodies
//! are comments, blocks nest as objects or arrays of objects. Positions are the JSON's: the
//! converted file maps each of its offsets to the JSON text (errors name the JSON lines and
//! columns and show the JSON lines, with hcl json's context `in variable.v`, the keys of the
//! objects around the error).

use std::ops::Range;

use crate::diag::Diagnostic;

/// The function a string whose template does not parse is converted to a call of, with the
/// string's JSON offset: evaluating it reports the template's syntax errors
/// ([`crate::diag::SourceFile::json_template_errors`]).
pub const BROKEN_TEMPLATE: &str = "__kiln_broken_json_template";

/// A JSON value with where it stands (byte offsets of the JSON text).
#[derive(Debug)]
pub struct Node {
    pub val: Val,
    pub span: Range<usize>,
}

#[derive(Debug)]
pub enum Val {
    Null,
    Bool(bool),
    /// A number's own text.
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<Prop>),
}

#[derive(Debug)]
pub struct Prop {
    pub key: String,
    pub key_start: usize,
    pub value: Node,
}

/// A JSON syntax error: hcl json's summary and detail, and where.
pub struct SyntaxError {
    pub summary: &'static str,
    pub detail: String,
    pub offset: usize,
    /// hcl json's context of the error: the keys of the objects that parsed so far around
    /// it (the innermost, unfinished one left out).
    pub context: String,
}

struct Parser<'a> {
    t: &'a str,
    i: usize,
    depth: usize,
    max_depth: usize,
    keys: Vec<String>,
}

fn err<T>(
    summary: &'static str,
    detail: impl Into<String>,
    offset: usize,
) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        summary,
        detail: detail.into(),
        offset,
        context: String::new(),
    })
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self
            .t
            .as_bytes()
            .get(self.i)
            .is_some_and(|b| b" \t\r\n".contains(b))
        {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.t.as_bytes().get(self.i).copied()
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let b = self.t.as_bytes();
        let start = self.i;
        self.i += 1;
        loop {
            match b.get(self.i) {
                None | Some(b'\n') => {
                    return err(
                        "Invalid JSON string",
                        "A JSON string must be terminated by a closing quote.",
                        start,
                    );
                }
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
        self.i += 1;
        serde_json::from_str(&self.t[start..self.i]).or_else(|_| {
            err(
                "Invalid JSON string",
                "This string is not a valid JSON string.",
                start,
            )
        })
    }

    fn value(&mut self) -> Result<Node, SyntaxError> {
        // Deep documents (`jsondecode` takes Go's ten thousand levels) grow the stack.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value_here())
    }

    fn value_here(&mut self) -> Result<Node, SyntaxError> {
        self.ws();
        self.depth += 1;
        if self.depth > self.max_depth {
            return err("Nesting too deep", "The JSON is nested too deeply.", self.i);
        }
        let start = self.i;
        let val = match self.peek() {
            None => return err("Missing value", "The JSON data ends prematurely.", start),
            Some(b'}') => {
                return err(
                    "Missing JSON value",
                    "A JSON value must start with a brace, a bracket, a number, a string, or a keyword.",
                    start,
                );
            }
            Some(b']') => {
                return err(
                    "Missing array element value",
                    "A JSON value must start with a brace, a bracket, a number, a string, or a keyword.",
                    start,
                );
            }
            Some(b'{') => {
                self.i += 1;
                let mut props = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'"') => {
                            let key_start = self.i;
                            let key = self.string()?;
                            self.ws();
                            if self.peek() != Some(b':') {
                                return err(
                                    "Missing property value colon",
                                    "JSON uses a colon as its name/value delimiter, not an equals sign.",
                                    self.i,
                                );
                            }
                            self.i += 1;
                            self.keys.push(key.clone());
                            let value = self.value()?;
                            self.keys.pop();
                            props.push(Prop {
                                key,
                                key_start,
                                value,
                            });
                            self.ws();
                            match self.peek() {
                                Some(b',') => {
                                    let comma = self.i;
                                    self.i += 1;
                                    self.ws();
                                    if self.peek() == Some(b'}') {
                                        return err(
                                            "Trailing comma in object",
                                            "JSON does not permit a trailing comma after the final property in an object.",
                                            comma,
                                        );
                                    }
                                }
                                Some(b'}') => {}
                                _ => {
                                    return err(
                                        "Missing attribute seperator comma",
                                        "A comma must appear between each property definition in an object.",
                                        self.i,
                                    );
                                }
                            }
                        }
                        _ => {
                            return err(
                                "Invalid object property name",
                                "A JSON object property name must be a string",
                                self.i,
                            );
                        }
                    }
                }
                Val::Obj(props)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value()?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => {
                            let comma = self.i;
                            self.i += 1;
                            self.ws();
                            if self.peek() == Some(b']') {
                                return err(
                                    "Trailing comma in array",
                                    "JSON does not permit a trailing comma after the final value in an array.",
                                    comma,
                                );
                            }
                        }
                        Some(b']') => {}
                        _ => {
                            return err(
                                "Missing array element separator comma",
                                "A comma must appear between each value in an array.",
                                self.i,
                            );
                        }
                    }
                }
                Val::Arr(items)
            }
            Some(b'"') => Val::Str(self.string()?),
            Some(c) if c.is_ascii_alphabetic() => {
                let word: String = self.t[self.i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                self.i += word.len();
                match word.as_str() {
                    "true" => Val::Bool(true),
                    "false" => Val::Bool(false),
                    "null" => Val::Null,
                    _ => {
                        return err(
                            "Invalid JSON keyword",
                            format!(
                                "The keyword {} is not valid JSON. The keywords true, false and null are valid.",
                                crate::value::go_quote(&word)
                            ),
                            start,
                        );
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
                {
                    self.i += 1;
                }
                let text = &self.t[start..self.i];
                if crate::value::Number::parse(text).is_none() {
                    return err(
                        "Invalid JSON number",
                        "There is a syntax error in the given JSON number.",
                        start,
                    );
                }
                Val::Num(text.to_string())
            }
            Some(_) => {
                return err(
                    "Invalid start of value",
                    "A JSON value must start with a brace, a bracket, a number, a string, or a keyword.",
                    start,
                );
            }
        };
        self.depth -= 1;
        Ok(Node {
            val,
            span: start..self.i,
        })
    }
}

/// Parses a whole JSON document (a template: nested at most 256 levels).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    parse_nested(text, 256)
}

/// Parses a whole JSON document nested at most `max_depth` levels.
pub fn parse_nested(text: &str, max_depth: usize) -> Result<Node, SyntaxError> {
    let mut p = Parser {
        t: text,
        i: 0,
        depth: 0,
        max_depth,
        keys: Vec::new(),
    };
    let v = p.value().map_err(|mut e| {
        let n = p.keys.len().saturating_sub(1);
        e.context = p.keys[..n].join(".");
        e
    })?;
    p.ws();
    if p.i < text.len() {
        return err(
            "Extraneous data after value",
            "Extra characters appear after the JSON value.",
            p.i,
        );
    }
    Ok(v)
}

/// hcl json's `ContextString`: the keys (and `[i]` indices) of the objects and arrays
/// around `offset`.
pub fn context(root: &Node, offset: usize) -> String {
    let mut out = String::new();
    let mut node = root;
    loop {
        let next = match &node.val {
            Val::Obj(props) => props.iter().find_map(|p| {
                (matches!(p.value.val, Val::Obj(_) | Val::Arr(_)) && p.value.span.contains(&offset))
                    .then(|| (format!(".{}", p.key), &p.value))
            }),
            Val::Arr(items) => items.iter().enumerate().find_map(|(i, n)| {
                (matches!(n.val, Val::Obj(_) | Val::Arr(_)) && n.span.contains(&offset))
                    .then(|| (format!("[{i}]"), n))
            }),
            _ => None,
        };
        match next {
            Some((step, n)) => {
                out.push_str(&step);
                node = n;
            }
            None => break,
        }
    }
    out.trim_start_matches('.').to_string()
}

/// The block types a Packer template has and how many labels each takes.
/// The block types a Packer template has and the names of their labels.
const LABELS: &[(&str, &[&str])] = &[
    ("packer", &[]),
    ("variable", &["name"]),
    ("variables", &[]),
    ("locals", &[]),
    ("local", &["name"]),
    ("source", &["type", "name"]),
    ("data", &["type", "name"]),
    ("build", &[]),
    ("provisioner", &["type"]),
    ("post-processor", &["type"]),
    ("error-cleanup-provisioner", &["type"]),
    ("post-processors", &[]),
    ("required_plugins", &[]),
    ("validation", &[]),
    ("hcp_packer_registry", &[]),
];

fn labels_for(kind: &str) -> Option<usize> {
    label_names(kind).map(<[&str]>::len)
}

fn label_names(kind: &str) -> Option<&'static [&'static str]> {
    LABELS.iter().find(|(k, _)| *k == kind).map(|(_, n)| *n)
}

/// The native text of a JSON template, and pairs (native offset, JSON offset) of where
/// each attribute and block starts in both.
pub struct Converted {
    pub text: String,
    pub offsets: Vec<(usize, usize)>,
    /// hcl json's errors for blocks given in a shape it does not take, and Packer's for a
    /// variable declared again after one of those (summary, detail, JSON offset when the
    /// error has a place).
    pub errors: Vec<(&'static str, String, Option<usize>)>,
}

struct Writer<'a> {
    json: &'a str,
    out: String,
    line: usize,
    offsets: Vec<(usize, usize)>,
    errors: Vec<(&'static str, String, Option<usize>)>,
    /// The variables declared so far, and whether each one's body was an object.
    variables: Vec<(String, bool)>,
}

impl Writer<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.json[..offset.min(self.json.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count()
    }

    /// Starts a line at the JSON line of `offset` when the output has not passed it.
    fn align(&mut self, offset: usize, depth: usize) {
        let target = self.line_of(offset);
        while self.line < target {
            self.newline();
        }
        self.out.push_str(&"  ".repeat(depth));
        self.offsets.push((self.out.len(), offset));
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.line += 1;
    }

    fn body(&mut self, props: &[Prop], depth: usize) {
        // A `"//"` property of a body is a comment (hcl json).
        for p in props.iter().filter(|p| p.key != "//") {
            match labels_for(&p.key) {
                Some(n) => self.blocks(&p.key, &p.value, n, Vec::new(), p.key_start, depth),
                _ => {
                    self.align(p.key_start, depth);
                    let key = if is_ident(&p.key) {
                        p.key.clone()
                    } else {
                        serde_json::to_string(&p.key).unwrap_or_default()
                    };
                    self.out.push_str(&key);
                    self.out.push_str(" = ");
                    self.expr(&p.value);
                    self.newline();
                }
            }
        }
    }

    /// Writes the blocks of type `kind` a JSON value holds, as hcl json's `unpackBlock`
    /// reads them: label levels as objects (or arrays of objects), then one object (a block)
    /// or an array (a block each); other shapes are its errors.
    fn blocks(
        &mut self,
        kind: &str,
        v: &Node,
        n: usize,
        labels: Vec<String>,
        at: usize,
        depth: usize,
    ) {
        if labels.len() < n {
            let label = label_names(kind)
                .and_then(|l| l.get(labels.len()))
                .copied()
                .unwrap_or("name");
            // collectDeepAttrs
            let mut props: Vec<&Prop> = Vec::new();
            match &v.val {
                Val::Null => {}
                Val::Obj(p) => props.extend(p.iter()),
                Val::Arr(items) => {
                    for item in items {
                        match &item.val {
                            Val::Obj(p) => props.extend(p.iter()),
                            _ => self.errors.push((
                                "Incorrect JSON value type",
                                format!(
                                    "A JSON object is required here, to specify {label} labels for this block."
                                ),
                                Some(item.span.start),
                            )),
                        }
                    }
                }
                _ => self.errors.push((
                    "Incorrect JSON value type",
                    format!(
                        "Either a JSON object or JSON array of objects is required here, to specify {label} labels for this block."
                    ),
                    Some(v.span.start),
                )),
            }
            if props.is_empty() {
                self.errors.push((
                    "Missing block label",
                    format!(
                        "At least one object property is required, whose name represents the {kind} block's {label}."
                    ),
                    Some(v.span.start),
                ));
                return;
            }
            for p in props {
                let mut l = labels.clone();
                l.push(p.key.clone());
                self.blocks(kind, &p.value, n, l, p.key_start, depth);
            }
            return;
        }
        match &v.val {
            Val::Null => {}
            Val::Arr(items) => {
                for item in items {
                    self.block(kind, item, &labels, item.span.start, depth);
                }
            }
            Val::Obj(_) => self.block(kind, v, &labels, at, depth),
            _ => self.errors.push((
                "Incorrect JSON value type",
                format!(
                    "Either a JSON object or a JSON array is required, representing the contents of one or more {} blocks.",
                    crate::value::go_quote(kind)
                ),
                Some(v.span.start),
            )),
        }
    }

    /// One block whose labels are known: its body must be an object.
    ///
    /// hcl json makes a block of any element of an array and complains only when the block's
    /// body is read, in words that depend on how it is read, so the errors of a body that is
    /// not an object are Packer's for each kind of block: a variable's is read twice
    /// (`Content`) and only when no variable of that name came before (Packer's `Duplicate
    /// variable`, without a place, comes first; a variable whose body was bad still counts);
    /// `locals` are read as attributes (`JustAttributes`).
    fn block(&mut self, kind: &str, v: &Node, labels: &[String], at: usize, depth: usize) {
        let is_object = matches!(v.val, Val::Obj(_));
        if kind == "variable" && depth == 0 {
            let name = labels.first().cloned().unwrap_or_default();
            match self.variables.iter().find(|(n, _)| *n == name) {
                // Two objects: the native declarations' own duplicate error.
                Some((_, true)) if is_object => {}
                Some(_) => {
                    self.errors.push((
                        "Duplicate variable",
                        format!("Duplicate {name} variable definition found."),
                        None,
                    ));
                    return;
                }
                None => self.variables.push((name, is_object)),
            }
        }
        let Val::Obj(props) = &v.val else {
            let (detail, times) = match kind {
                "variable" => (
                    "Either a JSON object or JSON array of objects is required here, to define arguments and child blocks.",
                    2,
                ),
                "locals" => (
                    "A JSON object is required here, setting the arguments for this block.",
                    1,
                ),
                _ => (
                    "A JSON object is required here, to define arguments and child blocks.",
                    1,
                ),
            };
            for _ in 0..times {
                self.errors.push((
                    "Incorrect JSON value type",
                    detail.into(),
                    Some(v.span.start),
                ));
            }
            return;
        };
        self.align(at, depth);
        self.out.push_str(kind);
        for l in labels {
            self.out.push(' ');
            self.out
                .push_str(&serde_json::to_string(l).unwrap_or_default());
        }
        self.out.push_str(" {");
        self.newline();
        self.body(props, depth + 1);
        self.out.push_str(&"  ".repeat(depth));
        self.out.push('}');
        self.newline();
    }
}

fn is_ident(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A JSON string (a template in hcl json) as a native quoted template: the literal parts
/// escaped, the `${…}` and `%{…}` sequences as written (their own strings need no escaping
/// in native syntax).
fn quoted_template(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = (c == '$' || c == '%') && chars.get(i + 1) == Some(&'{');
        if opens {
            // `$${` / `%%{` are escapes: written as they are, in both syntaxes.
            if i > 0 && chars[i - 1] == c && escaped_marker(&chars, i) {
                out.push(c);
                i += 1;
                continue;
            }
            // Copy the sequence to its closing brace, minding nested braces and strings.
            let mut depth = 0usize;
            let mut in_str = false;
            let mut j = i + 1;
            while j < chars.len() {
                let d = chars[j];
                if in_str {
                    if d == '\\' {
                        j += 1;
                    } else if d == '"' {
                        in_str = false;
                    }
                } else if d == '"' {
                    in_str = true;
                } else if d == '{' {
                    depth += 1;
                } else if d == '}' {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
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
        i += 1;
    }
    out.push('"');
    out
}

/// Whether the marker at `i` (`$` or `%` before `{`) is the second of an escape (`$${`):
/// preceded by an odd run of the same marker.
fn escaped_marker(chars: &[char], i: usize) -> bool {
    let c = chars[i];
    let mut n = 0;
    let mut k = i;
    while k > 0 && chars[k - 1] == c {
        n += 1;
        k -= 1;
    }
    n % 2 == 1
}

impl Writer<'_> {
    /// Writes a JSON value as a native expression (strings are templates, numbers keep
    /// their digits), recording where each of its values starts in both texts.
    fn expr(&mut self, v: &Node) {
        self.offsets.push((self.out.len(), v.span.start));
        match &v.val {
            Val::Null => self.out.push_str("null"),
            Val::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Val::Num(n) => self.out.push_str(n),
            Val::Str(s) => {
                let quoted = quoted_template(s);
                // A template hclsyntax cannot parse fails where it is evaluated, not here.
                if hcl::edit::parser::parse_expr(&quoted).is_err()
                    && !crate::hcl::syntax_diag::template_errors(s, "", (1, 1)).is_empty()
                {
                    self.out
                        .push_str(&format!("{BROKEN_TEMPLATE}({})", v.span.start));
                } else {
                    self.out.push_str(&quoted);
                }
            }
            Val::Arr(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(item);
                }
                self.out.push(']');
            }
            Val::Obj(props) => {
                self.out.push_str("{ ");
                for (i, p) in props.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.offsets.push((self.out.len(), p.key_start));
                    let key = quoted_template(&p.key);
                    // A key is a template too: one with an interpolation or a directive
                    // is written as an expression.
                    if p.key.contains("${") || p.key.contains("%{") {
                        self.out.push_str(&format!("({key})"));
                    } else {
                        self.out.push_str(&key);
                    }
                    self.out.push_str(" = ");
                    self.expr(&p.value);
                }
                self.out.push_str(" }");
            }
        }
    }
}

/// Converts a parsed JSON template to native syntax (see [`Converted`]); the root must be an
/// object.
pub fn to_native(json: &str, root: &Node) -> Result<Converted, Diagnostic> {
    let Val::Obj(props) = &root.val else {
        return Err(Diagnostic::error(
            "Incorrect JSON value type",
            "A JSON object is required here, to define arguments and child blocks.",
        ));
    };
    let mut w = Writer {
        json,
        out: String::new(),
        line: 0,
        offsets: Vec::new(),
        errors: Vec::new(),
        variables: Vec::new(),
    };
    w.body(props, 0);
    Ok(Converted {
        text: w.out,
        offsets: w.offsets,
        errors: w.errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_read_as_hcl_json_reports_them() {
        let e = parse("{\n  \"a\": { \"b\": { \"c\": 1, } }\n}")
            .err()
            .unwrap();
        assert_eq!(e.summary, "Trailing comma in object");
        assert_eq!(e.context, "a");
        let e = parse("[1, 2,]").err().unwrap();
        assert_eq!(e.summary, "Trailing comma in array");
        let e = parse("{\"a\" = 1}").err().unwrap();
        assert_eq!(e.summary, "Missing property value colon");
        let e = parse("{\"a\": nope}").err().unwrap();
        assert_eq!(e.summary, "Invalid JSON keyword");
        assert!(parse("{} x").is_err());
    }

    #[test]
    fn contexts_name_the_objects_around_a_place() {
        let text = r#"{"variable": {"v": {"type": "number", "default": "x"}}, "b": [{"c": {}}]}"#;
        let root = parse(text).ok().unwrap();
        let at = text.find("\"x\"").unwrap();
        assert_eq!(context(&root, at), "variable.v");
        let at = text.find("{}").unwrap();
        assert_eq!(context(&root, at), "b[0].c");
        assert_eq!(context(&root, 0), "");
    }

    #[test]
    fn converts_blocks_templates_numbers_and_comments() {
        let text = r#"{
  "//": "a comment",
  "source": { "null": { "a": { "communicator": "none", "//": "also a comment" } } },
  "locals": { "n": 1e400, "s": "say \"${upper(\"hi\")}\" $${x}", "o": { "${k}": 1, "//": 2 } },
  "build": [ { "provisioner": { "shell-local": [ { "inline": ["a"] }, { "inline": ["b"] } ] } } ]
}"#;
        let root = parse(text).ok().unwrap();
        let c = to_native(text, &root).ok().unwrap();
        assert!(!c.text.contains("comment"), "{}", c.text);
        assert!(c.text.contains("source \"null\" \"a\" {"), "{}", c.text);
        assert!(c.text.contains("n = 1e400"), "{}", c.text);
        assert!(
            c.text.contains(r#"s = "say \"${upper("hi")}\" $${x}""#),
            "{}",
            c.text
        );
        assert!(
            c.text.contains(r#"o = { ("${k}") = 1, "//" = 2 }"#),
            "{}",
            c.text
        );
        assert_eq!(c.text.matches("provisioner \"shell-local\" {").count(), 2);
        // A block header stands on its JSON key's line when nothing before it took more
        // lines; every attribute and value maps back to its JSON offset.
        let line = |needle: &str| c.text[..c.text.find(needle).unwrap()].matches('\n').count();
        assert_eq!(line("source \"null\""), 2);
        assert!(
            c.offsets
                .iter()
                .any(|(n, j)| c.text[*n..].starts_with("n = ") && text[*j..].starts_with("\"n\""))
        );
        assert!(
            c.offsets
                .iter()
                .any(|(n, j)| c.text[*n..].starts_with("1e400") && text[*j..].starts_with("1e400"))
        );
    }
}
