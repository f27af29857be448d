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
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> Arc<SourceFile> {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Arc::new(SourceFile {
            name: path.display().to_string(),
            path: path.to_path_buf(),
            text,
            line_starts,
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The whole source line the subject starts on.
    pub snippet: String,
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
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            subject: None,
        }
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

impl fmt::Display for Diagnostic {
    /// Renders like HCL's diagnostic text writer, plus the column and a caret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        writeln!(f, "{label}: {}", self.summary)?;
        if let Some(sub) = &self.subject {
            writeln!(f)?;
            writeln!(
                f,
                "  on {} line {}, column {}:",
                sub.file, sub.line, sub.column
            )?;
            let num = format!("{:>4}", sub.line);
            writeln!(f, "{num}: {}", sub.snippet)?;
            let width = if sub.end_line == sub.line && sub.end_column > sub.column {
                sub.end_column - sub.column
            } else {
                sub.snippet
                    .chars()
                    .count()
                    .saturating_sub(sub.column - 1)
                    .max(1)
            };
            let lead: String = sub
                .snippet
                .chars()
                .take(sub.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(
                f,
                "{}  {lead}{}",
                " ".repeat(num.len()),
                "^".repeat(width.min(120))
            )?;
        }
        if !self.detail.is_empty() {
            writeln!(f)?;
            writeln!(f, "{}", self.detail)?;
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
        self.0.push(d);
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
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
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
    fn rendering_shows_line_and_caret() {
        let f = SourceFile::new(Path::new("t.pkr.hcl"), "x = 1\n  foo = 2\n".to_string());
        let d = Diagnostic::error(
            "Unsupported argument",
            "An argument named \"foo\" is not expected here.",
        )
        .at(f.subject(8..11));
        let text = d.to_string();
        assert!(text.contains("on t.pkr.hcl line 2, column 3:"), "{text}");
        assert!(text.contains("   2:   foo = 2\n        ^^^\n"), "{text}");
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
    for c in s.chars() {
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
    if word.is_empty() {
        if current + space_len <= lim {
            buf.push_str(&space);
        }
    } else {
        buf.push_str(&space);
        buf.push_str(&word);
    }
    buf
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap_string;

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
