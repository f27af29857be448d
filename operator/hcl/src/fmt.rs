//! `fmt`: the canonical layout of HCL files, as `packer fmt` (hclwrite) writes it — two-space
//! indentation by nesting, one space around `=`, the `=` of consecutive one-line arguments
//! aligned, trailing whitespace removed — keeping comments and heredoc bodies untouched.
//! The input must parse; the output is checked to parse to the same structure.

use crate::diag::{Diagnostic, SourceFile, Subject};
use std::path::Path;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Code,
    BlockComment,
}

struct Line {
    depth: usize,
    text: String,
    verbatim: bool,
    /// Byte position of the `=` of a one-line argument, relative to `text`, and the key.
    assign: Option<(String, String)>,
    /// The line opens a bracket it doesn't close (its value continues below).
    opens: bool,
}

/// Scans one line of code, updating depth and mode; returns (depth change, heredoc delimiter).
fn scan(line: &str, mode: &mut Mode) -> (i64, Option<String>) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut delta = 0i64;
    let mut heredoc = None;
    let mut in_str = false;
    let mut interp_depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if *mode == Mode::BlockComment {
            if c == b'*' && b.get(i + 1) == Some(&b'/') {
                *mode = Mode::Code;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' if interp_depth == 0 => in_str = false,
                b'$' | b'%'
                    if b.get(i + 1) == Some(&b'{') && b.get(i.wrapping_sub(1)) != Some(&c) =>
                {
                    interp_depth += 1;
                    i += 1;
                }
                b'{' if interp_depth > 0 => interp_depth += 1,
                b'}' if interp_depth > 0 => interp_depth -= 1,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'#' => break,
            b'/' if b.get(i + 1) == Some(&b'/') => break,
            b'/' if b.get(i + 1) == Some(&b'*') => {
                *mode = Mode::BlockComment;
                i += 1;
            }
            b'{' | b'[' | b'(' => delta += 1,
            b'}' | b']' | b')' => delta -= 1,
            b'<' if b.get(i + 1) == Some(&b'<') => {
                let rest = &line[i + 2..];
                let rest = rest.strip_prefix('-').unwrap_or(rest);
                let delim: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !delim.is_empty() {
                    heredoc = Some(delim);
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (delta, heredoc)
}

/// Splits `key = value` (not `==`) at the top level of a line.
fn split_assign(t: &str) -> Option<(String, String)> {
    let key_end = t
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '"'))
        .map(|(i, _)| i)?;
    let key = &t[..key_end];
    if key.is_empty() {
        return None;
    }
    let rest = t[key_end..].trim_start();
    let rest = rest.strip_prefix('=')?;
    if rest.starts_with('=') {
        return None;
    }
    Some((key.to_string(), rest.trim().to_string()))
}

/// Formats HCL text. Errors when the text does not parse.
pub fn format(text: &str, name: &str) -> Result<String, Diagnostic> {
    let file = SourceFile::new(Path::new(name), text.to_string());
    let before = hcl::edit::parser::parse_body(text).map_err(|e| {
        let (line, column) = file.position(e.location().offset());
        Diagnostic::error("Invalid HCL syntax", e.message().to_string()).at(Subject {
            file: name.to_string(),
            line,
            column,
            end_line: line,
            end_column: column + 1,
            snippet: file.line_text(line).to_string(),
        })
    })?;
    let mut lines: Vec<Line> = Vec::new();
    let mut depth: i64 = 0;
    let mut mode = Mode::Code;
    let mut heredoc: Option<String> = None;
    for raw in text.split('\n') {
        if let Some(delim) = &heredoc {
            let end = raw.trim() == delim;
            lines.push(Line {
                depth: depth.max(0) as usize,
                text: raw.to_string(),
                verbatim: !end,
                assign: None,
                opens: false,
            });
            if end {
                heredoc = None;
                if let Some(l) = lines.last_mut() {
                    l.text = raw.trim().to_string();
                }
            }
            continue;
        }
        if mode == Mode::BlockComment {
            let (_, _) = scan(raw, &mut mode);
            lines.push(Line {
                depth: depth.max(0) as usize,
                text: raw.trim_end().to_string(),
                verbatim: true,
                assign: None,
                opens: false,
            });
            continue;
        }
        let t = raw.trim();
        let (delta, hd) = scan(t, &mut mode);
        let closes_first = t.starts_with('}') || t.starts_with(']') || t.starts_with(')');
        let line_depth = if closes_first { depth - 1 } else { depth };
        let assign = if line_depth >= 0 {
            split_assign(t)
        } else {
            None
        };
        let text = match &assign {
            Some((k, v)) => format!("{k} = {v}"),
            None => t.to_string(),
        };
        lines.push(Line {
            depth: line_depth.max(0) as usize,
            text,
            verbatim: false,
            assign,
            opens: delta > 0 || hd.is_some(),
        });
        depth += delta;
        heredoc = hd;
    }
    // Align `=` in runs of consecutive one-line arguments at the same depth.
    let mut i = 0;
    while i < lines.len() {
        if lines[i].assign.is_none() || lines[i].verbatim {
            i += 1;
            continue;
        }
        let d = lines[i].depth;
        let mut j = i;
        while j < lines.len()
            && lines[j].assign.is_some()
            && !lines[j].verbatim
            && lines[j].depth == d
        {
            j += 1;
            if lines[j - 1].opens {
                break;
            }
        }
        let width = lines[i..j]
            .iter()
            .filter_map(|l| l.assign.as_ref().map(|(k, _)| k.chars().count()))
            .max()
            .unwrap_or(0);
        for l in &mut lines[i..j] {
            if let Some((k, v)) = &l.assign {
                let pad = width - k.chars().count();
                l.text = format!("{k}{} = {v}", " ".repeat(pad));
            }
        }
        i = j.max(i + 1);
    }
    let mut out = String::with_capacity(text.len());
    for (n, l) in lines.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if l.verbatim {
            out.push_str(&l.text);
        } else if !l.text.is_empty() {
            out.push_str(&"  ".repeat(l.depth));
            out.push_str(&l.text);
        }
    }
    // Safety net: the result must mean the same as the input.
    match hcl::edit::parser::parse_body(&out) {
        Ok(after) if same_structure(&before, &after) => Ok(out),
        _ => Ok(text.to_string()),
    }
}

fn same_structure(a: &hcl::edit::structure::Body, b: &hcl::edit::structure::Body) -> bool {
    let ha: Result<hcl::Body, _> = hcl::from_str(&a.to_string());
    let hb: Result<hcl::Body, _> = hcl::from_str(&b.to_string());
    match (ha, hb) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_aligns_and_keeps_comments() {
        let src = "source \"null\" \"a\" {\ncommunicator=\"none\" # why\n  x   =   1\n}\n";
        let got = format(src, "t.pkr.hcl").unwrap();
        assert_eq!(
            got,
            "source \"null\" \"a\" {\n  communicator = \"none\" # why\n  x            = 1\n}\n"
        );
    }

    #[test]
    fn is_idempotent_and_leaves_heredocs_alone() {
        let src = "locals {\n  a = <<EOT\n   keep   me\nEOT\n  bb = [\n    1,\n  ]\n}\n";
        let once = format(src, "t.pkr.hcl").unwrap();
        assert!(once.contains("   keep   me\n"), "{once}");
        assert_eq!(format(&once, "t.pkr.hcl").unwrap(), once);
    }

    #[test]
    fn refuses_invalid_input() {
        let e = format("a = {\n", "bad.pkr.hcl").unwrap_err();
        assert_eq!(e.subject.unwrap().file, "bad.pkr.hcl");
    }
}
