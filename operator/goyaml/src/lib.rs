//! go-cty-yaml v1.0.1's YAML parser, in safe Rust: the reader (`readerc.go`), scanner
//! (`scannerc.go`) and parser (`parserc.go`) that go-yaml v2 ported from libyaml and
//! go-cty-yaml embeds, with what they need of `yamlh.go`, `yamlprivateh.go` and `apic.go`,
//! and go-cty-yaml's wording of their errors (`error.go`). Packer's `yamldecode` reads YAML
//! with these; Kiln's gives the same events, marks and error texts.
//!
//! Marks count as go-yaml counts them: `index` in characters from the start of the stream
//! (after a byte order mark), `line` and `column` from 0, `column` in characters.
//!
//! Licensed Apache-2.0 (go-cty-yaml, go-yaml) AND MIT (libyaml): see LICENSE-GO-CTY-YAML,
//! NOTICE-GO-CTY-YAML and LICENSE.libyaml.

#![forbid(unsafe_code)]

mod parser;
mod reader;
mod scanner;

pub use parser::Parser;

/// A position in the stream (`yaml_mark_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// Characters from the start of the stream.
    pub index: usize,
    /// The line, counted from 0.
    pub line: usize,
    /// The column in characters, counted from 0.
    pub column: usize,
}

/// The stream encoding (`yaml_encoding_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    #[default]
    Any = 0,
    Utf8 = 1,
    Utf16Le = 2,
    Utf16Be = 3,
}

/// Event types (`yaml_event_type_t`), numbered as go-yaml numbers them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventType {
    #[default]
    NoEvent = 0,
    StreamStart = 1,
    StreamEnd = 2,
    DocumentStart = 3,
    DocumentEnd = 4,
    Alias = 5,
    Scalar = 6,
    SequenceStart = 7,
    SequenceEnd = 8,
    MappingStart = 9,
    MappingEnd = 10,
}

impl EventType {
    /// go-yaml's `yaml_event_type_t.String()`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::NoEvent => "none",
            EventType::StreamStart => "stream start",
            EventType::StreamEnd => "stream end",
            EventType::DocumentStart => "document start",
            EventType::DocumentEnd => "document end",
            EventType::Alias => "alias",
            EventType::Scalar => "scalar",
            EventType::SequenceStart => "sequence start",
            EventType::SequenceEnd => "sequence end",
            EventType::MappingStart => "mapping start",
            EventType::MappingEnd => "mapping end",
        }
    }
}

/// Scalar styles (`yaml_scalar_style_t`), as the `style` of a scalar event.
pub mod scalar_style {
    pub const ANY: u8 = 0;
    pub const PLAIN: u8 = 1;
    pub const SINGLE_QUOTED: u8 = 2;
    pub const DOUBLE_QUOTED: u8 = 3;
    pub const LITERAL: u8 = 4;
    pub const FOLDED: u8 = 5;
}

/// Sequence and mapping styles, as the `style` of a start event.
pub mod collection_style {
    pub const ANY: u8 = 0;
    pub const BLOCK: u8 = 1;
    pub const FLOW: u8 = 2;
}

/// A `%YAML` directive's version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VersionDirective {
    pub major: i8,
    pub minor: i8,
}

/// A `%TAG` directive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagDirective {
    pub handle: Vec<u8>,
    pub prefix: Vec<u8>,
}

/// A parser event (`yaml_event_t`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub typ: EventType,
    pub start_mark: Mark,
    pub end_mark: Mark,
    /// For a stream start.
    pub encoding: Encoding,
    /// For a document start.
    pub version_directive: Option<VersionDirective>,
    /// For a document start.
    pub tag_directives: Vec<TagDirective>,
    /// For a scalar, a collection start or an alias.
    pub anchor: Vec<u8>,
    /// For a scalar or a collection start: the tag, resolved through the `%TAG` handles.
    pub tag: Vec<u8>,
    /// For a scalar.
    pub value: Vec<u8>,
    /// Document start/end indicator implicit, or the tag optional (go-yaml's `implicit`; for
    /// a scalar, libyaml's `plain_implicit`).
    pub implicit: bool,
    /// For a scalar: the tag optional for a non-plain style.
    pub quoted_implicit: bool,
    /// A [`scalar_style`] or [`collection_style`].
    pub style: u8,
}

/// Which stage failed (`yaml_error_type_t`), numbered as go-yaml numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Reader = 2,
    Scanner = 3,
    Parser = 4,
}

/// A reader, scanner or parser error, with the fields go-yaml sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub problem: &'static str,
    /// Reader errors: the byte offset of the problem.
    pub problem_offset: usize,
    /// Reader errors: the offending byte or character, or -1.
    pub problem_value: i64,
    pub problem_mark: Mark,
    pub context: &'static str,
    pub context_mark: Mark,
}

impl Error {
    /// go-cty-yaml's `parserError`: the problem (or `invalid YAML syntax`) placed by
    /// `parserErrorWrap`.
    pub fn message(&self) -> String {
        let cause = if self.problem.is_empty() {
            "invalid YAML syntax"
        } else {
            self.problem
        };
        self.wrap(cause)
    }

    /// go-cty-yaml's `parserErrorWrap` of `cause`: `on line L, column C: cause` at the
    /// problem mark (a scanner error's line counted from 1 and column 1) unless that is on
    /// line 0, else at the context mark unless on line 0, else the cause alone.
    pub fn wrap(&self, cause: &str) -> String {
        if self.problem_mark.line != 0 {
            let (line, column) = if self.kind == ErrorKind::Scanner {
                (self.problem_mark.line + 1, 0)
            } else {
                (self.problem_mark.line, self.problem_mark.column)
            };
            format!("on line {line}, column {}: {cause}", column + 1)
        } else if self.context_mark.line != 0 {
            format!(
                "on line {}, column {}: {cause}",
                self.context_mark.line,
                self.context_mark.column + 1
            )
        } else {
            cause.to_string()
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl Event {
    /// go-cty-yaml's `parseEventErrorWrap`: `on line L, column C: cause` at the event's
    /// start mark, or the cause alone when that is on line 0.
    pub fn wrap(&self, cause: &str) -> String {
        if self.start_mark.line == 0 {
            cause.to_string()
        } else {
            format!(
                "on line {}, column {}: {cause}",
                self.start_mark.line,
                self.start_mark.column + 1
            )
        }
    }
}

/// Every event of `src` up to the end of the stream or the first error.
pub fn parse(src: &[u8]) -> (Vec<Event>, Option<Error>) {
    let mut p = Parser::new(src);
    let mut events = Vec::new();
    loop {
        match p.parse() {
            Ok(e) if e.typ == EventType::NoEvent => return (events, None),
            Ok(e) => events.push(e),
            Err(e) => return (events, Some(e)),
        }
    }
}

/// Bytes as the oracle prints them: printable ASCII but `\` and `"` as themselves, any
/// other byte as `\xNN`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..=0x7e).contains(&c) && c != b'\\' && c != b'"' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

fn mark_text(m: &Mark) -> String {
    format!("{}/{}/{}", m.index, m.line, m.column)
}

impl Event {
    /// A one-line summary of every field (the oracle's `eventLine`).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} {} {}",
            self.typ as u8,
            mark_text(&self.start_mark),
            mark_text(&self.end_mark)
        );
        let b = |v: bool| v as u8;
        match self.typ {
            EventType::StreamStart => s += &format!(" enc={}", self.encoding as u8),
            EventType::DocumentStart => {
                if let Some(v) = self.version_directive {
                    s += &format!(" v={}.{}", v.major, v.minor);
                }
                for td in &self.tag_directives {
                    s += &format!(" td=\"{}\"\"{}\"", escape(&td.handle), escape(&td.prefix));
                }
                s += &format!(" i={}", b(self.implicit));
            }
            EventType::DocumentEnd => s += &format!(" i={}", b(self.implicit)),
            EventType::Alias => s += &format!(" a=\"{}\"", escape(&self.anchor)),
            EventType::Scalar => {
                s += &format!(
                    " a=\"{}\" t=\"{}\" v=\"{}\" i={} q={} s={}",
                    escape(&self.anchor),
                    escape(&self.tag),
                    escape(&self.value),
                    b(self.implicit),
                    b(self.quoted_implicit),
                    self.style
                )
            }
            EventType::SequenceStart | EventType::MappingStart => {
                s += &format!(
                    " a=\"{}\" t=\"{}\" i={} s={}",
                    escape(&self.anchor),
                    escape(&self.tag),
                    b(self.implicit),
                    self.style
                )
            }
            _ => {}
        }
        s
    }
}

impl Error {
    /// A one-line summary of every field (the oracle's `ERR` line).
    pub fn summary(&self) -> String {
        format!(
            "ERR {} \"{}\" {} {} {} \"{}\" {}",
            self.kind as u8,
            escape(self.problem.as_bytes()),
            self.problem_offset,
            self.problem_value,
            mark_text(&self.problem_mark),
            escape(self.context.as_bytes()),
            mark_text(&self.context_mark)
        )
    }
}

/// The oracle's lines for `src`: one per event, then `OK`, or the error's `ERR` line and
/// `MSG` with go-cty-yaml's text of it.
pub fn summary(src: &[u8]) -> Vec<String> {
    let (events, err) = parse(src);
    let mut out: Vec<String> = events.iter().map(Event::summary).collect();
    match err {
        None => out.push("OK".into()),
        Some(e) => {
            out.push(e.summary());
            out.push(format!("MSG {}", escape(e.message().as_bytes())));
        }
    }
    out
}
