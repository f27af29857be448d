//! Diagnostics: every template problem names file, line and column with the offending text.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One source file of a template, kept for positions and snippets.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (displayed in messages).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
    /// Repeated object keys renamed for the parser: placeholder → key
    /// ([`crate::hcl::lenient`]).
    key_aliases: std::sync::OnceLock<Vec<(String, String)>>,
    /// For a `.pkr.json` file (whose `text` is its native conversion): the JSON as written,
    /// shown in snippets and contexts.
    json: std::sync::OnceLock<JsonView>,
    /// The context of a JSON syntax error in this (unconverted) file.
    json_context: std::sync::OnceLock<String>,
    /// For a file hcl-edit refuses: the top-level blocks hclsyntax's partial body holds
    /// (header, byte range), which name the context of its syntax errors.
    syntax_blocks: std::sync::OnceLock<Vec<(String, usize, usize)>>,
}

/// 1-based line and column (in characters) of a byte offset of `text`.
fn line_col(text: &str, line_starts: &[usize], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let line = match line_starts.binary_search(&offset) {
        Ok(i) => i,
        Err(i) => i - 1,
    };
    let start = line_starts[line];
    let col = text
        .get(start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(0);
    (line + 1, col + 1)
}

impl JsonView {
    /// The JSON offset a native offset stands for: from the attribute or block it is in,
    /// as far into it as it is into the native one.
    fn json_offset(&self, native: usize) -> usize {
        let (n, j) = self
            .offsets
            .iter()
            .rev()
            .find(|(n, _)| *n <= native)
            .copied()
            .unwrap_or((0, 0));
        let mut at = (j + (native - n)).min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}

/// A JSON template behind a converted file: its text, line starts, the (native offset, JSON
/// offset) pairs of its attributes and blocks, and its tree (for hcl json's contexts).
#[derive(Debug)]
struct JsonView {
    text: String,
    line_starts: Vec<usize>,
    offsets: Vec<(usize, usize)>,
    root: crate::template::json::Node,
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> Arc<SourceFile> {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        let f = Arc::new(SourceFile {
            name: path.display().to_string(),
            path: path.to_path_buf(),
            text,
            line_starts,
            key_aliases: std::sync::OnceLock::new(),
            json: std::sync::OnceLock::new(),
            json_context: std::sync::OnceLock::new(),
            syntax_blocks: std::sync::OnceLock::new(),
        });
        register(&f);
        f
    }

    /// Records the renamed repeated object keys of this file (the first record stands: the
    /// renaming is deterministic).
    pub fn set_key_aliases(&self, aliases: Vec<(String, String)>) {
        let _ = self.key_aliases.set(aliases);
    }

    /// Records the JSON a converted `.pkr.json` file was made from (see [`JsonView`]).
    pub fn set_json(
        &self,
        text: String,
        offsets: Vec<(usize, usize)>,
        root: crate::template::json::Node,
    ) {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        let _ = self.json.set(JsonView {
            text,
            line_starts,
            offsets,
            root,
        });
    }

    /// The syntax errors of the JSON string starting at `offset` (a template hcl-edit could
    /// not take, converted to a [`crate::template::json::BROKEN_TEMPLATE`] call): hcl json
    /// parses a string's value with hclsyntax's `ParseTemplate` when it evaluates it, from the
    /// column after its opening quote, and reports those errors then.
    pub fn json_template_errors(&self, offset: usize) -> Vec<Diagnostic> {
        use crate::template::json::{Node, Val};
        fn find(n: &Node, offset: usize) -> Option<&str> {
            match &n.val {
                Val::Str(s) if n.span.start == offset => Some(s),
                Val::Arr(items) => items.iter().find_map(|i| find(i, offset)),
                Val::Obj(props) => props.iter().find_map(|p| find(&p.value, offset)),
                _ => None,
            }
        }
        let Some(j) = self.json.get() else {
            return Vec::new();
        };
        let Some(s) = find(&j.root, offset) else {
            return Vec::new();
        };
        let (line, column) = line_col(&j.text, &j.line_starts, offset);
        crate::hcl::syntax_diag::template_errors(s, &self.name, (line, column + 1))
    }

    /// Whether this file is written in HCL's JSON syntax (and converted).
    pub fn is_json(&self) -> bool {
        self.json.get().is_some()
    }

    /// The top-level blocks of a file that does not parse, as hclsyntax's recovering parser
    /// finds them (see [`crate::hcl::syntax_diag`]); set when its errors are reported.
    pub fn set_syntax_blocks(&self, blocks: Vec<(String, usize, usize)>) {
        let _ = self.syntax_blocks.set(blocks);
    }

    /// A syntax error's context in a JSON file, set when it is reported.
    pub fn set_json_context(&self, context: String) {
        let _ = self.json_context.set(context);
    }

    /// Placeholder → key of the renamed repeated object keys.
    pub fn key_aliases(&self) -> &[(String, String)] {
        self.key_aliases.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The object key a parsed key stands for: itself unless it is a placeholder.
    pub fn key_alias<'a>(&'a self, key: &'a str) -> &'a str {
        self.key_aliases()
            .iter()
            .find(|(p, _)| p == key)
            .map(|(_, o)| o.as_str())
            .unwrap_or(key)
    }

    /// A byte range as Go's `hcl.Range.String()`: `file:line,col-endcol`, or
    /// `file:line,col-endline,endcol` across lines.
    pub fn range_string(self: &Arc<Self>, range: Range<usize>) -> String {
        let s = self.subject(range);
        if s.line == s.end_line {
            format!("{}:{},{}-{}", s.file, s.line, s.column, s.end_column)
        } else {
            format!(
                "{}:{},{}-{},{}",
                s.file, s.line, s.column, s.end_line, s.end_column
            )
        }
    }

    /// 1-based line and column (in characters) of a byte offset; in a JSON file, of the
    /// JSON text at the place the native offset stands for.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        match self.json.get() {
            Some(j) => line_col(&j.text, &j.line_starts, j.json_offset(offset)),
            None => line_col(&self.text, &self.line_starts, offset),
        }
    }

    /// The text of 1-based line `line`, without its newline (a JSON file's own line).
    pub fn line_text(&self, line: usize) -> &str {
        let (text, line_starts) = match self.json.get() {
            Some(j) => (&j.text, &j.line_starts),
            None => (&self.text, &self.line_starts),
        };
        let Some(&start) = line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = line_starts.get(line).copied().unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// A subject covering a byte range of a JSON file's own text (not its conversion).
    pub fn json_subject(self: &Arc<Self>, range: Range<usize>) -> Subject {
        let Some(j) = self.json.get() else {
            return self.subject(range);
        };
        let (line, column) = line_col(&j.text, &j.line_starts, range.start);
        let (end_line, end_column) = line_col(&j.text, &j.line_starts, range.end.max(range.start));
        Subject {
            file: self.name.clone(),
            line,
            column,
            end_line,
            end_column,
            snippet: self.line_text(line).to_string(),
        }
    }

    /// A subject covering a byte range of this file.
    pub fn subject(self: &Arc<Self>, range: Range<usize>) -> Subject {
        let (line, column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end.max(range.start));
        Subject {
            file: self.name.clone(),
            line,
            column,
            end_line,
            end_column,
            snippet: self.line_text(line).to_string(),
        }
    }
}

/// Where a diagnostic points.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The whole source line the subject starts on.
    pub snippet: String,
}

impl Subject {
    /// As hcl's `Range.String()`: `file:line,col-endcol`, or `file:line,col-endline,endcol`
    /// when the range spans lines.
    pub fn range_string(&self) -> String {
        if self.line == self.end_line {
            format!(
                "{}:{},{}-{}",
                self.file, self.line, self.column, self.end_column
            )
        } else {
            format!(
                "{}:{},{}-{},{}",
                self.file, self.line, self.column, self.end_line, self.end_column
            )
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in a template or its inputs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub subject: Option<Subject>,
    /// Further errors of the same evaluation (HCL reports every bad element of a tuple, of
    /// an object, of a call's arguments): reported after this one wherever diagnostics
    /// are collected ([`Diagnostics::push`], `From<Diagnostic>`).
    #[serde(skip)]
    pub more: Vec<Diagnostic>,
    /// HCL's `with …` statements (`local.l as tuple with 2 elements`): the values of the
    /// variables the failed expression reads, for a diagnostic hclsyntax gives its expression
    /// and evaluation context ([`crate::hcl::describe`]); shown after the source lines.
    #[serde(skip)]
    pub with: Vec<String>,
    /// The first source line shown, when the diagnostic's context (hclsyntax's `Context`
    /// range) starts on a line before its subject's.
    #[serde(skip)]
    pub snippet_start: Option<usize>,
    /// The type of the result hclsyntax still gives the expression that failed
    /// (`cty.UnknownVal(T)`: a number for arithmetic, a string for a template…), with which
    /// the enclosing expression goes on and may report more (an operand or argument of the
    /// wrong type). Not part of the diagnostic's identity.
    #[serde(skip)]
    pub failed: FailedType,
}

/// The type of a failed expression's stand-in result; `None`: dynamic (any type). Equal to
/// every other: a diagnostic is the same whatever its expression's type.
#[derive(Clone, Debug, Default)]
pub struct FailedType(pub Option<crate::hcl::types::Type>);

impl PartialEq for FailedType {
    fn eq(&self, _: &FailedType) -> bool {
        true
    }
}

impl Eq for FailedType {}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            subject: None,
            more: Vec::new(),
            with: Vec::new(),
            snippet_start: None,
            failed: FailedType::default(),
        }
    }

    /// The first of several errors, carrying the others (see [`Diagnostic::more`]); `None`
    /// when there are none.
    pub fn several(all: Vec<Diagnostic>) -> Option<Diagnostic> {
        let mut it = all.into_iter();
        let mut first = it.next()?;
        first.more.extend(it);
        Some(first)
    }

    /// This diagnostic and those it carries, each on its own.
    pub fn flatten(mut self) -> Vec<Diagnostic> {
        let more = std::mem::take(&mut self.more);
        let mut out = vec![self];
        for d in more {
            out.extend(d.flatten());
        }
        out
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    pub fn at(mut self, subject: Subject) -> Diagnostic {
        self.subject = Some(subject);
        self
    }

    /// Sets the `with …` statements (see [`Diagnostic::with`]) unless some are set already:
    /// the innermost expression's stand, as hclsyntax's `setDiagEvalContext` keeps them.
    pub fn with_statements(mut self, with: Vec<String>) -> Diagnostic {
        if self.with.is_empty() {
            self.with = with;
        }
        self
    }

    pub fn with_subject(mut self, subject: Option<Subject>) -> Diagnostic {
        if self.subject.is_none() {
            self.subject = subject;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// One line: `file:line:col: summary: detail`.
    pub fn one_line(&self) -> String {
        let mut s = String::new();
        if let Some(sub) = &self.subject {
            s.push_str(&format!("{}:{}:{}: ", sub.file, sub.line, sub.column));
        }
        s.push_str(&self.summary);
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail.replace('\n', " "));
        }
        s
    }
}

/// The files read lately, by displayed name: diagnostics render their source lines and
/// enclosing block from them, as HCL's diagnostic writer does from the parser's file map.
/// Bounded: the oldest entries go first.
static FILES: std::sync::Mutex<Vec<Arc<SourceFile>>> = std::sync::Mutex::new(Vec::new());

fn files() -> std::sync::MutexGuard<'static, Vec<Arc<SourceFile>>> {
    FILES.lock().unwrap_or_else(|e| e.into_inner())
}

fn register(f: &Arc<SourceFile>) {
    let mut files = files();
    files.retain(|g| g.name != f.name);
    if files.len() >= 256 {
        files.remove(0);
    }
    files.push(f.clone());
}

/// Go's text of `hcl.Diagnostics` (its `Error()`): the first one as
/// `file:line,col-endcol: summary; detail`, then how many more there are.
pub fn go_error_text(diags: &[&Diagnostic]) -> String {
    let Some(first) = diags.first() else {
        return "no diagnostics".to_string();
    };
    let at = first
        .subject
        .as_ref()
        .map_or_else(|| "<nil>".to_string(), |s| s.range_string());
    let mut text = format!("{at}: {}; {}", first.summary, first.detail);
    if diags.len() > 1 {
        text.push_str(&format!(", and {} other diagnostic(s)", diags.len() - 1));
    }
    text
}

/// Forgets every file: diagnostics of later phases say "(source code not available)", as
/// Packer's do after parsing (it hands no file map to the writer for them).
pub fn forget_all() {
    files().clear();
}

/// Forgets a file: its diagnostics then say "(source code not available)", as HCL's writer
/// does for a file outside its map (Packer's console input).
pub fn forget(name: &str) {
    files().retain(|g| g.name != name);
}

fn registered(name: &str) -> Option<Arc<SourceFile>> {
    files().iter().rev().find(|f| f.name == name).cloned()
}

impl SourceFile {
    /// The header of the top-level block holding `offset` (`source "null" "a"`), as hclsyntax's
    /// `ContextString` gives it; `None` outside any block.
    pub fn context(&self, offset: usize) -> Option<String> {
        use hcl::edit::Span;
        if let Some(c) = self.json_context.get() {
            return (!c.is_empty()).then(|| c.clone());
        }
        if let Some(j) = self.json.get() {
            // hcl json's context: the keys of the JSON objects around the place (`offset`
            // is the JSON's: see `offset_of`).
            let ctx = crate::template::json::context(&j.root, offset);
            return (!ctx.is_empty()).then_some(ctx);
        }
        if let Some(blocks) = self.syntax_blocks.get() {
            // hclsyntax's `ContextString`: the first block whose range holds the offset.
            return blocks
                .iter()
                .find(|(_, start, end)| (*start..*end).contains(&offset))
                .map(|(h, _, _)| h.clone());
        }
        if let Ok(body) = crate::hcl::lenient::parse_body(self) {
            for b in body.blocks() {
                let Some(span) = b.span() else { continue };
                if span.contains(&offset) {
                    let mut h = b.ident.to_string();
                    for l in &b.labels {
                        let l = match l {
                            hcl::edit::structure::BlockLabel::String(s) => s.value().to_string(),
                            hcl::edit::structure::BlockLabel::Ident(i) => i.as_str().to_string(),
                        };
                        h.push(' ');
                        h.push_str(&crate::value::go_quote(&l));
                    }
                    return Some(h);
                }
            }
            return None;
        }
        scan_context(&self.text, offset)
    }

    fn offset_of(&self, line: usize, column: usize) -> usize {
        // A JSON file's positions are the JSON's.
        let (text, line_starts) = match self.json.get() {
            Some(j) => (&j.text, &j.line_starts),
            None => (&self.text, &self.line_starts),
        };
        let start = line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let text = text.get(start..).unwrap_or("");
        start
            + text
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(i, _)| i)
                .unwrap_or(text.len())
    }
}

/// The enclosing top-level block of a file that does not parse: brace depth over the text,
/// skipping strings and comments.
fn scan_context(text: &str, offset: usize) -> Option<String> {
    let b = text.as_bytes();
    let (mut i, mut depth, mut stmt) = (0usize, 0i64, 0usize);
    let mut header: Option<(String, usize)> = None;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                if depth == 0 && b[i] == b'{' {
                    let h = text[stmt..i].trim();
                    if !h.contains('=') {
                        header = Some((h.to_string(), stmt));
                    }
                }
                depth += 1;
            }
            b'}' | b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    if let Some((h, from)) = header.take()
                        && (from..=i).contains(&offset)
                    {
                        return Some(format_header(&h));
                    }
                    stmt = i + 1;
                }
            }
            b'\n' if depth == 0 => stmt = i + 1,
            _ => {}
        }
        i += 1;
    }
    match header {
        Some((h, from)) if offset >= from => Some(format_header(&h)),
        _ => None,
    }
}

fn format_header(h: &str) -> String {
    let mut parts = h.split_whitespace();
    let mut out = parts.next().unwrap_or("").to_string();
    for p in parts {
        out.push(' ');
        out.push_str(&crate::value::go_quote(p.trim_matches('"')));
    }
    out
}

impl fmt::Display for Diagnostic {
    /// Renders as HCL's diagnostic text writer does for Packer (width 80, no color): the
    /// summary, the file and line with the enclosing top-level block, the source lines of the
    /// subject, and the detail word-wrapped; each part followed by a blank line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        write!(f, "{label}: {}\n\n", self.summary)?;
        if let Some(sub) = &self.subject {
            match registered(&sub.file) {
                Some(file) => {
                    let at = file.offset_of(sub.line, sub.column);
                    let ctx = file
                        .context(at)
                        .map(|c| format!(", in {c}"))
                        .unwrap_or_default();
                    writeln!(f, "  on {} line {}{ctx}:", sub.file, sub.line)?;
                    let last = sub.end_line.max(sub.line);
                    let first = self.snippet_start.unwrap_or(sub.line).min(sub.line);
                    for n in first..=last {
                        // hcl's writer shows the lines overlapping the range; an empty
                        // line (or the end of the file after its last newline) overlaps
                        // nothing.
                        if file.line_text(n).is_empty() {
                            continue;
                        }
                        writeln!(f, "{n:4}: {}", file.line_text(n))?;
                    }
                    writeln!(f)?;
                }
                None => {
                    writeln!(f, "  on {} line {}:", sub.file, sub.line)?;
                    writeln!(f, "  (source code not available)")?;
                    writeln!(f)?;
                }
            }
            let last = self.with.len().saturating_sub(1);
            for (i, stmt) in self.with.iter().enumerate() {
                let lead = if i == 0 { "with " } else { "     " };
                let end = if i == last { ".\n\n" } else { ",\n" };
                write!(f, "{lead}{stmt}{end}")?;
            }
        }
        if !self.detail.is_empty() {
            write!(f, "{}\n\n", wrap_string(&self.detail, 80))?;
        }
        Ok(())
    }
}

/// A list of diagnostics, errors and warnings mixed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        if d.more.is_empty() {
            self.0.push(d);
        } else {
            self.0.extend(d.flatten());
        }
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Ok when there are no errors.
    pub fn into_result(self) -> Result<Diagnostics, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(d.flatten())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let f = SourceFile::new(Path::new("a.pkr.hcl"), "ab\nçd = 1\n".to_string());
        assert_eq!(f.position(0), (1, 1));
        assert_eq!(f.position(3), (2, 1));
        // 'ç' is two bytes: offset 5 is the 'd', column 2.
        assert_eq!(f.position(5), (2, 2));
        assert_eq!(f.line_text(2), "çd = 1");
    }

    #[test]
    fn rendering_follows_hcl_diagnostic_writer() {
        let f = SourceFile::new(Path::new("t.pkr.hcl"), "x = 1\n  foo = 2\n".to_string());
        let d = Diagnostic::error(
            "Unsupported argument",
            "An argument named \"foo\" is not expected here.",
        )
        .at(f.subject(8..11));
        let text = d.to_string();
        assert_eq!(
            text,
            "Error: Unsupported argument\n\n  on t.pkr.hcl line 2:\n   2:   foo = 2\n\nAn argument named \"foo\" is not expected here.\n\n"
        );
        assert_eq!(
            d.one_line(),
            "t.pkr.hcl:2:3: Unsupported argument: An argument named \"foo\" is not expected here."
        );
    }
}

/// Wraps text at white space to lines of at most `lim` characters, as go-wordwrap's
/// `WrapString` (v1.0.1) does for HCL's diagnostic text writer: existing newlines are kept, a
/// word longer than the limit is not split, and the spaces where a line is broken are dropped.
pub fn wrap_string(s: &str, lim: usize) -> String {
    let mut buf = String::with_capacity(s.len() + 8);
    let mut current = 0usize;
    let mut word = String::new();
    let mut space = String::new();
    let (mut word_len, mut space_len) = (0usize, 0usize);
    // A final newline ends the text as a newline ends a line; it is taken off at the end.
    for c in s.chars().chain(Some('\n')) {
        if c == '\n' {
            if word.is_empty() {
                if current + space_len <= lim {
                    buf.push_str(&space);
                }
            } else {
                buf.push_str(&space);
                buf.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.clear();
            space_len = 0;
            buf.push('\n');
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                buf.push_str(&space);
                buf.push_str(&word);
                space.clear();
                word.clear();
                space_len = 0;
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + word_len + space_len > lim && word_len < lim {
                buf.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    buf.pop();
    buf
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap_string;

    #[test]
    fn shows_a_syntax_errors_context_lines_but_no_empty_line() {
        // As Packer: the lines from the context's start (the `[`) to the subject (the `2`),
        // the empty one between left out; the context block from hclsyntax's partial body.
        let name = "ctx-lines.pkr.hcl";
        let text = "build {
  a = [1

  2]
}
";
        let f = crate::diag::SourceFile::new(std::path::Path::new(name), text.to_string());
        let (errors, blocks) = crate::hcl::syntax_diag::config_errors(text, name);
        f.set_syntax_blocks(blocks);
        assert_eq!(
            errors[0].to_string(),
            "Error: Missing item separator\n\n  on ctx-lines.pkr.hcl line 4, in build:\n   2:   a = [1\n   4:   2]\n\nExpected a comma to mark the beginning of the next item.\n\n"
        );
        crate::diag::forget(name);
    }

    #[test]
    fn wraps_as_go_wordwrap() {
        let detail = "1 error occurred:\n\t* -:2,1-1: Missing expression; Expected the start of an expression, but found the end of the file.\n\n";
        assert_eq!(
            wrap_string(detail, 80),
            "1 error occurred:\n\t* -:2,1-1: Missing expression; Expected the start of an expression, but found\nthe end of the file.\n\n"
        );
        assert_eq!(wrap_string("aaaa bbbb cccc", 9), "aaaa bbbb\ncccc");
        assert_eq!(wrap_string("x".repeat(12).as_str(), 5), "x".repeat(12));
    }
}
