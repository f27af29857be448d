//! `fmt`: the canonical layout of HCL files, byte for byte as `packer fmt` writes it.
//!
//! Packer formats with hclwrite's `Format` (hashicorp/hcl v2.24.0, `hclwrite/format.go`), which
//! works on the token stream of hclsyntax's scanner (`hclsyntax/scan_tokens.rl`), not on a
//! syntax tree: it only ever changes the spaces in front of tokens. This module is a port of
//! both: [`lex`] splits the text into the scanner's tokens (the same types and boundaries, as
//! far as formatting can tell), and [`format`] applies hclwrite's three passes — indentation by
//! the net brackets of each line, spacing between the tokens of a line, and alignment of the
//! `=` and of trailing comments of consecutive lines — then writes the tokens back.
//!
//! What follows from that, as with Packer: heredoc bodies, block comments and string contents
//! are untouched (except inside `${ }` / `%{ }`, whose tokens are spaced like any other), a
//! comment keeps its trailing spaces, CRLF line ends stay CRLF, and the spaces at the very end
//! of a file without a final newline are kept. The input must parse; Packer refuses to format
//! a file that does not.

use crate::diag::{Diagnostic, Diagnostics, Subject};
use unicode_segmentation::UnicodeSegmentation;

/// hclsyntax's token types, as far as hclwrite's rules tell them apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenType {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    QuotedLit,
    StringLit,
    NumberLit,
    Ident,
    Comment,
    Newline,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    BitwiseNot,
    Semicolon,
    Backtick,
    Apostrophe,
    QuotedNewline,
    Invalid,
    Eof,
    Nil,
}

use TokenType as T;

/// One token: its type and its byte range in the source.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub ty: TokenType,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Main,
    Str,
    Heredoc,
}

struct Heredoc<'a> {
    marker: &'a str,
    start_of_line: bool,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

fn is_ident_continue(c: char) -> bool {
    c == '-' || unicode_ident::is_xid_continue(c)
}

/// hclsyntax's `ValidIdentifier`: the whole of `s` is one identifier.
pub fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_continue)
}

/// The length of the identifier at the start of `s` (0 when there is none).
fn ident_len(s: &str) -> usize {
    let mut it = s.char_indices();
    match it.next() {
        Some((_, c)) if is_ident_start(c) => {}
        _ => return 0,
    }
    for (i, c) in it {
        if !is_ident_continue(c) {
            return i;
        }
    }
    s.len()
}

/// The length of the number literal at the start of `b` (which starts with a digit): a digit,
/// then digits, dots and exponents, not ending with a dot.
fn number_len(b: &[u8]) -> usize {
    let mut i = 1;
    let mut last = 1;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() => {
                i += 1;
                last = i;
            }
            Some(b'.') => i += 1,
            Some(b'e' | b'E') => {
                let mut j = i + 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    i = j + 1;
                    last = i;
                } else {
                    return last;
                }
            }
            _ => return last,
        }
    }
}

/// The length of the newline at the start of `b`: `\n` or `\r\n`, else 0.
fn newline_len(b: &[u8]) -> usize {
    match b {
        [b'\n', ..] => 1,
        [b'\r', b'\n', ..] => 2,
        _ => 0,
    }
}

/// The length of the UTF-8 character starting at byte `i` of `s`.
fn char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

/// Splits HCL source into hclsyntax's tokens (`LexConfig`), ending with an EOF token. A UTF-8
/// byte order mark at the start is skipped, as hclsyntax does. Never fails: what the scanner
/// would not recognise becomes `Invalid` tokens.
pub fn lex(src: &str) -> Vec<Token> {
    lex_in(src, Mode::Main)
}

/// Splits a bare template (a template file, a string of hcl's JSON syntax) into hclsyntax's
/// tokens (`LexTemplate`): literal text and template sequences, as in a heredoc without its
/// closing marker.
pub fn lex_template(src: &str) -> Vec<Token> {
    lex_in(src, Mode::Heredoc)
}

fn lex_in(src: &str, start: Mode) -> Vec<Token> {
    let b = src.as_bytes();
    let mut toks: Vec<Token> = Vec::with_capacity(src.len() / 3 + 4);
    let mut p = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut modes: Vec<Mode> = vec![start];
    let mut braces: i64 = 0;
    let mut ret_braces: Vec<i64> = Vec::new();
    let mut heredocs: Vec<Heredoc> = Vec::new();
    let emit = |toks: &mut Vec<Token>, ty, start, end| toks.push(Token { ty, start, end });
    while p < b.len() {
        let mode = *modes.last().unwrap_or(&Mode::Main);
        let rest = &b[p..];
        // `${` / `%{` (with an optional `~`) open a template sequence in strings and heredocs.
        if mode != Mode::Main && (rest.starts_with(b"${") || rest.starts_with(b"%{")) {
            let ty = if rest[0] == b'$' {
                T::TemplateInterp
            } else {
                T::TemplateControl
            };
            let len = if rest.get(2) == Some(&b'~') { 3 } else { 2 };
            emit(&mut toks, ty, p, p + len);
            braces += 1;
            ret_braces.push(braces);
            if let Some(h) = heredocs.last_mut() {
                h.start_of_line = false;
            }
            modes.push(Mode::Main);
            p += len;
            continue;
        }
        match mode {
            Mode::Main => {
                let c = rest[0];
                let (ty, len) = match c {
                    b' ' | b'\t' => {
                        p += rest
                            .iter()
                            .position(|&c| c != b' ' && c != b'\t')
                            .unwrap_or(rest.len());
                        continue;
                    }
                    b'0'..=b'9' => (T::NumberLit, number_len(rest)),
                    b'#' => (T::Comment, line_comment_len(rest)),
                    b'/' if rest.get(1) == Some(&b'/') => (T::Comment, line_comment_len(rest)),
                    b'/' if rest.get(1) == Some(&b'*') => match src[p + 2..].find("*/") {
                        Some(i) => (T::Comment, i + 4),
                        None => (T::Slash, 1),
                    },
                    b'\n' => (T::Newline, 1),
                    b'\r' if rest.get(1) == Some(&b'\n') => (T::Newline, 2),
                    b'=' if rest.get(1) == Some(&b'=') => (T::EqualOp, 2),
                    b'=' if rest.get(1) == Some(&b'>') => (T::FatArrow, 2),
                    b'=' => (T::Equal, 1),
                    b'!' if rest.get(1) == Some(&b'=') => (T::NotEqual, 2),
                    b'!' => (T::Bang, 1),
                    b'>' if rest.get(1) == Some(&b'=') => (T::GreaterThanEq, 2),
                    b'>' => (T::GreaterThan, 1),
                    b'<' if rest.get(1) == Some(&b'<') => {
                        let dash = usize::from(rest.get(2) == Some(&b'-'));
                        let id = ident_len(&src[p + 2 + dash..]);
                        let nl = if id > 0 {
                            newline_len(&rest[2 + dash + id..])
                        } else {
                            0
                        };
                        if nl > 0 {
                            let len = 2 + dash + id + nl;
                            emit(&mut toks, T::OHeredoc, p, p + len);
                            heredocs.push(Heredoc {
                                marker: &src[p + 2 + dash..p + 2 + dash + id],
                                start_of_line: true,
                            });
                            modes.push(Mode::Heredoc);
                            p += len;
                            continue;
                        }
                        (T::LessThan, 1)
                    }
                    b'<' if rest.get(1) == Some(&b'=') => (T::LessThanEq, 2),
                    b'<' => (T::LessThan, 1),
                    b'&' if rest.get(1) == Some(&b'&') => (T::And, 2),
                    b'|' if rest.get(1) == Some(&b'|') => (T::Or, 2),
                    b':' if rest.get(1) == Some(&b':') => (T::DoubleColon, 2),
                    b'.' if rest.starts_with(b"...") => (T::Ellipsis, 3),
                    b'.' => (T::Dot, 1),
                    b'[' => (T::OBrack, 1),
                    b']' => (T::CBrack, 1),
                    b'(' => (T::OParen, 1),
                    b')' => (T::CParen, 1),
                    b',' => (T::Comma, 1),
                    b'*' => (T::Star, 1),
                    b'/' => (T::Slash, 1),
                    b'%' => (T::Percent, 1),
                    b'+' => (T::Plus, 1),
                    b'-' => (T::Minus, 1),
                    b'?' => (T::Question, 1),
                    b':' => (T::Colon, 1),
                    b'{' => {
                        braces += 1;
                        (T::OBrace, 1)
                    }
                    b'}' | b'~' if c == b'}' || rest.get(1) == Some(&b'}') => {
                        let len = if c == b'~' { 2 } else { 1 };
                        let closes_sequence = ret_braces.last() == Some(&braces);
                        let ty = if closes_sequence || c == b'~' {
                            T::TemplateSeqEnd
                        } else {
                            T::CBrace
                        };
                        emit(&mut toks, ty, p, p + len);
                        braces -= 1;
                        p += len;
                        if closes_sequence {
                            ret_braces.pop();
                            modes.pop();
                        }
                        continue;
                    }
                    b'"' => {
                        emit(&mut toks, T::OQuote, p, p + 1);
                        modes.push(Mode::Str);
                        p += 1;
                        continue;
                    }
                    b'&' => (T::BitwiseAnd, 1),
                    b'|' => (T::BitwiseOr, 1),
                    b'^' => (T::BitwiseXor, 1),
                    b'~' => (T::BitwiseNot, 1),
                    b';' => (T::Semicolon, 1),
                    b'`' => (T::Backtick, 1),
                    b'\'' => (T::Apostrophe, 1),
                    _ => {
                        let id = ident_len(&src[p..]);
                        if id > 0 {
                            (T::Ident, id)
                        } else {
                            (T::Invalid, char_len(src, p))
                        }
                    }
                };
                emit(&mut toks, ty, p, p + len);
                p += len;
            }
            Mode::Str => {
                let (ty, len) = match rest[0] {
                    b'"' => {
                        emit(&mut toks, T::CQuote, p, p + 1);
                        modes.pop();
                        p += 1;
                        continue;
                    }
                    b'$' | b'%' if rest.get(1) == Some(&rest[0]) && rest.get(2) == Some(&b'{') => {
                        (T::QuotedLit, 3)
                    }
                    // The scanner needs the character after a `$` or `%`: at the end of the
                    // input, only its "any character" rule (an invalid token) matches.
                    b'$' | b'%' if rest.len() == 1 => (T::Invalid, 1),
                    b'$' | b'%' => (T::QuotedLit, 1),
                    b'\r' | b'\n' => (
                        T::QuotedNewline,
                        rest.iter()
                            .position(|&c| c != b'\r' && c != b'\n')
                            .unwrap_or(rest.len()),
                    ),
                    _ => {
                        let mut i = 0;
                        while i < rest.len() {
                            match rest[i] {
                                b'$' | b'%' | b'"' | b'\r' | b'\n' => break,
                                b'\\' => match rest.get(i + 1) {
                                    Some(b'\r' | b'\n') | None => break,
                                    Some(_) => i += 1 + char_len(src, p + i + 1),
                                },
                                _ => i += char_len(src, p + i),
                            }
                        }
                        if i == 0 {
                            (T::Invalid, 1)
                        } else {
                            (T::QuotedLit, i)
                        }
                    }
                };
                emit(&mut toks, ty, p, p + len);
                p += len;
            }
            Mode::Heredoc => {
                let lit = match rest[0] {
                    b'$' | b'%' if rest.get(1) == Some(&rest[0]) && rest.get(2) == Some(&b'{') => 3,
                    b'$' | b'%' if rest.len() == 1 => {
                        // No heredoc rule matches a `$` or `%` that ends the input: the
                        // scanner stops, and the rest is invalid.
                        emit(&mut toks, T::Invalid, p, p + 1);
                        p += 1;
                        continue;
                    }
                    b'$' | b'%' => {
                        // A lone `$` or `%` is a literal of its own, never joined to a newline.
                        emit(&mut toks, T::StringLit, p, p + 1);
                        if let Some(h) = heredocs.last_mut() {
                            h.start_of_line = false;
                        }
                        p += 1;
                        continue;
                    }
                    _ => rest
                        .iter()
                        .position(|&c| matches!(c, b'$' | b'%' | b'\r' | b'\n'))
                        .unwrap_or(rest.len()),
                };
                let nl = newline_len(&rest[lit..]);
                if nl == 0 {
                    if lit == 0 {
                        // A lone `\r`: the scanner stops here and the rest is invalid.
                        emit(&mut toks, T::Invalid, p, b.len());
                        p = b.len();
                        continue;
                    }
                    emit(&mut toks, T::StringLit, p, p + lit);
                    if let Some(h) = heredocs.last_mut() {
                        h.start_of_line = false;
                    }
                    p += lit;
                    continue;
                }
                let end = p + lit + nl;
                let closes = heredocs
                    .last()
                    .is_some_and(|h| h.start_of_line && src[p..end].trim() == h.marker);
                if closes {
                    emit(&mut toks, T::CHeredoc, p, p + lit);
                    emit(&mut toks, T::Newline, p + lit, end);
                    heredocs.pop();
                    modes.pop();
                } else {
                    if let Some(h) = heredocs.last_mut() {
                        h.start_of_line = true;
                    }
                    emit(&mut toks, T::StringLit, p, end);
                }
                p = end;
            }
        }
    }
    emit(&mut toks, T::Eof, b.len(), b.len());
    toks
}

/// `#` or `//` comments run to the end of the line, newline included.
fn line_comment_len(rest: &[u8]) -> usize {
    rest.iter()
        .position(|&c| c == b'\n')
        .map_or(rest.len(), |i| i + 1)
}

fn bracket_change(ty: TokenType) -> i64 {
    match ty {
        T::OBrace | T::OBrack | T::OParen | T::TemplateControl | T::TemplateInterp => 1,
        T::CBrace | T::CBrack | T::CParen | T::TemplateSeqEnd => -1,
        _ => 0,
    }
}

/// hclwrite's `spaceAfterToken`: whether `subject` (preceded by `before`) is followed by a space
/// before `after`.
fn space_after(src: &str, subject: &Token, before: TokenType, after: TokenType) -> bool {
    let s = subject.ty;
    match () {
        _ if after == T::Newline || after == T::Nil => false,
        _ if s == T::Ident && after == T::OParen => false,
        _ if (s == T::Ident && after == T::DoubleColon)
            || (s == T::DoubleColon && after == T::Ident) =>
        {
            false
        }
        _ if s == T::Dot || after == T::Dot => false,
        _ if after == T::Comma || after == T::Ellipsis => false,
        _ if s == T::Comma => true,
        _ if matches!(s, T::QuotedLit | T::StringLit | T::OQuote | T::OHeredoc)
            || matches!(after, T::QuotedLit | T::StringLit | T::CQuote | T::CHeredoc) =>
        {
            false
        }
        _ if s == T::Ident && &src[subject.start..subject.end] == "in" && before == T::Ident => {
            true
        }
        _ if after == T::OBrack
            && (s == T::Ident || s == T::NumberLit || bracket_change(s) < 0) =>
        {
            false
        }
        _ if s == T::Bang => false,
        _ if s == T::Minus => !matches!(
            before,
            T::Nil
                | T::OParen
                | T::OBrace
                | T::OBrack
                | T::Equal
                | T::Colon
                | T::Comma
                | T::Question
                | T::Plus
                | T::Star
                | T::Slash
                | T::Percent
                | T::Minus
                | T::EqualOp
                | T::NotEqual
                | T::GreaterThan
                | T::GreaterThanEq
                | T::LessThan
                | T::LessThanEq
                | T::And
                | T::Or
                | T::Bang
        ),
        _ if s == T::OBrace || after == T::CBrace => !(s == T::OBrace && after == T::CBrace),
        _ if matches!(s, T::TemplateInterp | T::TemplateControl) && after == T::OBrace => true,
        _ if s == T::CBrace && after == T::TemplateSeqEnd => true,
        _ if s == T::TemplateSeqEnd && matches!(after, T::TemplateInterp | T::TemplateControl) => {
            false
        }
        _ if bracket_change(s) > 0 => false,
        _ if bracket_change(after) < 0 => false,
        _ => true,
    }
}

/// A line of tokens split into hclwrite's cells: `lead` is `start..assign`, `assign` (from the
/// `=` of a one-line attribute) is `assign..comment`, `comment` (a trailing comment) is
/// `comment..end`. An absent cell is empty.
struct Line {
    start: usize,
    assign: usize,
    comment: usize,
    end: usize,
}

impl Line {
    fn has_assign(&self) -> bool {
        self.assign < self.comment
    }
    fn has_comment(&self) -> bool {
        self.comment < self.end
    }
}

/// Aligns the cell at `cell(line)` of each run of consecutive lines that have one: one
/// space after the widest lead.
fn align(
    src: &str,
    toks: &[Token],
    spaces: &mut [usize],
    lines: &[Line],
    has: fn(&Line) -> bool,
    cell: fn(&Line) -> usize,
) {
    let mut i = 0;
    while i < lines.len() {
        if !has(&lines[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < lines.len() && has(&lines[j]) {
            j += 1;
        }
        let cols: Vec<usize> = lines[i..j]
            .iter()
            .map(|l| columns(src, &toks[l.start..cell(l)], &spaces[l.start..cell(l)]))
            .collect();
        let max = cols.iter().copied().max().unwrap_or(0);
        for (l, c) in lines[i..j].iter().zip(cols) {
            spaces[cell(l)] = max - c + 1;
        }
        i = j;
    }
}

fn is_newline(src: &str, t: &Token) -> bool {
    t.ty == T::Newline || (t.ty == T::Comment && src.as_bytes()[..t.end].last() == Some(&b'\n'))
}

/// The columns (grapheme clusters, and one per space) that `toks` occupy, as hclwrite counts.
fn columns(src: &str, toks: &[Token], spaces: &[usize]) -> usize {
    toks.iter()
        .zip(spaces)
        .map(|(t, s)| {
            let text = &src[t.start..t.end];
            s + if !text.is_ascii() {
                text.graphemes(true).count()
            } else if text.contains('\r') {
                // `\r\n` is one grapheme cluster.
                text.len() - text.matches("\r\n").count()
            } else {
                text.len()
            }
        })
        .sum()
}

/// Formats HCL text as `packer fmt` does. Errors when the text does not parse.
pub fn format(text: &str, name: &str) -> Result<String, Diagnostics> {
    // Packer parses with hclsyntax before formatting, and refuses the file on its errors (its
    // scanner's, then its parser's, all of them): hcl-edit's parser has no say here (it
    // refuses `1e400`, accepts `a.0.1`).
    let (errors, _) = crate::hcl::syntax_diag::config_errors(text, name);
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    Ok(format_lexed(text, &lex(text)))
}

/// The errors hclsyntax's scanner reports before parsing (`checkInvalidTokens`), with its
/// messages and ranges: characters HCL does not use, newlines inside quoted strings.
pub fn lexical_errors(src: &str, name: &str, toks: &[Token]) -> Diagnostics {
    let mut out = Diagnostics::new();
    let (mut bitwise, mut backtick, mut apostrophe, mut semicolon) = (0, 0, 0, 0);
    // Positions as hclsyntax counts them: a column per byte of the spaces between tokens, per
    // grapheme cluster within a token.
    let (mut line, mut col, mut last) = (1usize, 1usize, 0usize);
    for t in toks {
        col += t.start.saturating_sub(last);
        let (start_line, start_col) = (line, col);
        for g in src[t.start..t.end].graphemes(true) {
            if g == "\n" || g == "\r\n" {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        last = t.end;
        let problem = match t.ty {
            T::BitwiseAnd | T::BitwiseOr | T::BitwiseXor | T::BitwiseNot if bitwise < 4 => {
                bitwise += 1;
                let hint = match t.ty {
                    T::BitwiseAnd => " Did you mean boolean AND (\"&&\")?",
                    T::BitwiseOr => " Did you mean boolean OR (\"||\")?",
                    T::BitwiseNot => " Did you mean boolean NOT (\"!\")?",
                    _ => "",
                };
                Some((
                    "Unsupported operator",
                    format!("Bitwise operators are not supported.{hint}"),
                ))
            }
            T::Backtick => {
                let report = backtick % 2 == 0;
                if backtick <= 2 {
                    backtick += 1;
                }
                report.then(|| ("Invalid character", "The \"`\" character is not valid. To create a multi-line string, use the \"heredoc\" syntax, like \"<<EOT\".".to_string()))
            }
            T::Apostrophe => {
                let report = apostrophe % 2 == 0;
                if apostrophe <= 2 {
                    apostrophe += 1;
                }
                report.then(|| ("Invalid character", "Single quotes are not valid. Use double quotes (\") to enclose strings.".to_string()))
            }
            T::Semicolon if semicolon < 1 => {
                semicolon += 1;
                Some(("Invalid character", "The \";\" character is not valid. Use newlines to separate arguments and blocks, and commas to separate items in collection values.".to_string()))
            }
            T::QuotedNewline => Some(("Invalid multi-line string", "Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.".to_string())),
            T::Invalid => Some(match &src[t.start..t.end] {
                "\u{201c}" | "\u{201d}" => ("Invalid character", "\"Curly quotes\" are not valid here. These can sometimes be inadvertently introduced when sharing code via documents or discussion forums. It might help to replace the character with a \"straight quote\".".to_string()),
                _ => ("Invalid character", "This character is not used within the language.".to_string()),
            }),
            _ => None,
        };
        if let Some((summary, detail)) = problem {
            let snippet = src[..t.start].rfind('\n').map_or(src, |i| &src[i + 1..]);
            let snippet = snippet
                .split('\n')
                .next()
                .unwrap_or("")
                .trim_end_matches('\r');
            out.push(Diagnostic::error(summary, detail).at(Subject {
                file: name.to_string(),
                line: start_line,
                column: start_col,
                end_line: line,
                end_column: col,
                snippet: snippet.to_string(),
            }));
        }
    }
    out
}

/// hclwrite's `Format`, on any text (it does not need to parse).
pub fn format_tokens(src: &str) -> String {
    format_lexed(src, &lex(src))
}

fn format_lexed(src: &str, toks: &[Token]) -> String {
    // The spaces before each token: the gap in the source to start with (only the EOF token
    // keeps it), then as the passes set them.
    let mut spaces: Vec<usize> = Vec::with_capacity(toks.len());
    let mut last = 0;
    for t in toks {
        spaces.push(t.start - last);
        last = t.end;
    }

    // Lines, each ending with a newline (or a comment that ends with one); EOF is in none.
    let mut lines: Vec<Line> = Vec::new();
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.ty == T::Eof {
            lines.push(Line {
                start,
                assign: i,
                comment: i,
                end: i,
            });
            break;
        }
        if is_newline(src, t) {
            lines.push(Line {
                start,
                assign: i + 1,
                comment: i + 1,
                end: i + 1,
            });
            start = i + 1;
        }
    }
    for line in &mut lines {
        if line.end == line.start {
            continue;
        }
        if line.end - line.start > 1 && toks[line.end - 1].ty == T::Comment {
            line.comment = line.end - 1;
            line.assign = line.end - 1;
        }
        if let Some(eq) = (line.start + 1..line.assign).find(|&i| toks[i].ty == T::Equal) {
            let net: i64 = toks[eq..line.assign]
                .iter()
                .map(|t| bracket_change(t.ty))
                .sum();
            if net == 0 {
                line.assign = eq;
            }
        }
    }

    // Indentation.
    let mut indents: Vec<i64> = Vec::with_capacity(10);
    for line in &lines {
        if line.end == line.start {
            continue;
        }
        if toks[line.start].ty == T::Newline {
            spaces[line.start] = 0;
            continue;
        }
        let mut net = 0;
        for t in &toks[line.start..line.assign] {
            net += bracket_change(t.ty);
            if t.ty == T::OHeredoc {
                break;
            }
        }
        net += toks[line.assign..line.comment]
            .iter()
            .map(|t| bracket_change(t.ty))
            .sum::<i64>();
        if net > 0 {
            spaces[line.start] = 2 * indents.len();
            indents.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = indents.last_mut() else {
                    break;
                };
                if closed >= *top {
                    closed -= *top;
                    indents.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            spaces[line.start] = 2 * indents.len();
        }
    }

    // Spaces between the tokens of the lead and of the assign cell.
    for line in &lines {
        for (from, to) in [(line.start, line.assign), (line.assign, line.comment)] {
            if from == to {
                continue;
            }
            if from == line.assign {
                spaces[from] = 1;
            }
            for i in from..to - 1 {
                let before = if i > from { toks[i - 1].ty } else { T::Nil };
                spaces[i + 1] = usize::from(space_after(src, &toks[i], before, toks[i + 1].ty));
            }
        }
    }

    // Alignment of the `=` of consecutive lines with an assign cell, then of their comments.
    align(src, toks, &mut spaces, &lines, Line::has_assign, |l| {
        l.assign
    });
    align(src, toks, &mut spaces, &lines, Line::has_comment, |l| {
        l.comment
    });

    let mut out = String::with_capacity(src.len() + src.len() / 8);
    for (t, s) in toks.iter().zip(&spaces) {
        for _ in 0..*s {
            out.push(' ');
        }
        out.push_str(&src[t.start..t.end]);
    }
    out
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
    fn spaces_expressions_as_hclwrite() {
        let cases = [
            ("a= [ 1,2 ,3 ]\n", "a = [1, 2, 3]\n"),
            ("a = f( 1,2 )\n", "a = f(1, 2)\n"),
            ("a = [ for x in  y : x ]\n", "a = [for x in y : x]\n"),
            ("a = 1+2*3\n", "a = 1 + 2 * 3\n"),
            ("a = - 1\nb = 1 - -2\n", "a = -1\nb = 1 - -2\n"),
            ("a = ! true\n", "a = !true\n"),
            ("a = x.* .y\nb = x[ * ].y\n", "a = x.*.y\nb = x[*].y\n"),
            ("a = provider :: x :: f(1)\n", "a = provider::x::f(1)\n"),
            ("a = \"${ x }\"\n", "a = \"${x}\"\n"),
            ("a = {x=1}\nb = {}\n", "a = { x = 1 }\nb = {}\n"),
        ];
        for (src, want) in cases {
            assert_eq!(format(src, "t.pkr.hcl").unwrap(), want, "{src:?}");
        }
    }

    #[test]
    fn multi_line_values_end_the_aligned_group() {
        let src = "a = 1\nbbbb = [\n\"FOO=bar\",\n]\ncc = 2\nd = 3\n";
        let want = "a = 1\nbbbb = [\n  \"FOO=bar\",\n]\ncc = 2\nd  = 3\n";
        assert_eq!(format(src, "t.pkr.hcl").unwrap(), want);
    }

    #[test]
    fn is_idempotent_and_leaves_heredocs_alone() {
        let src = "locals {\n  a = <<EOT\n   keep   me\n   EOT \n  bb = [\n    1,\n  ]\n}\n";
        let once = format(src, "t.pkr.hcl").unwrap();
        assert!(once.contains("   keep   me\n   EOT \n"), "{once}");
        assert_eq!(format(&once, "t.pkr.hcl").unwrap(), once);
    }

    #[test]
    fn keeps_crlf_and_comment_spaces_and_empties_blank_lines() {
        let src = "a=1 # c  \r\n   \r\nb=2\r\n";
        assert_eq!(
            format(src, "t.pkr.hcl").unwrap(),
            "a = 1 # c  \r\n\r\nb = 2\r\n"
        );
    }

    #[test]
    fn refuses_invalid_input() {
        let e = format("a = {\n", "bad.pkr.hcl").unwrap_err();
        assert_eq!(e.0[0].subject.as_ref().unwrap().file, "bad.pkr.hcl");
    }

    #[test]
    fn accepts_repeated_object_keys_as_hclsyntax_does() {
        let src = "a = {\n  x   = 1\n  x   = 2\n  \"y\" = 3\n  \"y\" = 4\n}\n";
        assert_eq!(format(src, "t.pkr.hcl").unwrap(), src);
        let e = format("a = {\n  x = 1\n  x = 2\n}\nb = ]\n", "t.pkr.hcl").unwrap_err();
        assert_eq!(
            e.0[0].subject.as_ref().unwrap().line,
            5,
            "the position is in the text as given"
        );
    }

    #[test]
    fn reports_the_scanner_errors_of_hclsyntax() {
        let e = format("a = \"x\ny\"\nb = 1 ; c = 2\n", "t.pkr.hcl").unwrap_err();
        let got: Vec<String> =
            e.0.iter()
                .map(|d| {
                    let s = d.subject.as_ref().unwrap();
                    format!(
                        "{},{}-{},{} {}",
                        s.line, s.column, s.end_line, s.end_column, d.summary
                    )
                })
                .collect();
        assert_eq!(
            got,
            // As Packer: the scanner's errors, then the parser's.
            [
                "1,7-2,1 Invalid multi-line string",
                "3,7-3,8 Invalid character",
                "1,7-2,1 Unterminated template string"
            ]
        );
    }

    #[test]
    fn counts_crlf_as_one_column_when_aligning() {
        // (A quoted newline does not parse; the token formatter still aligns as hclwrite.)
        let src = "a {\nx = 1\n\"\r\n\" = 2\n}\n";
        assert_eq!(format_tokens(src), "a {\n  x   = 1\n  \"\r\n\" = 2\n}\n");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for src in [
            "",
            "\u{feff}a=1",
            "a = \"${",
            "a = <<EOT\nx",
            "x = \"\\",
            "}}}~}",
            "/* x",
            "a = \r x",
            "é = ü",
            "<<-\n",
            "a = <<EOT\n\r",
            "${}",
            "\"%{~ }\"",
        ] {
            let once = format_tokens(src);
            let _ = format_tokens(&once);
        }
    }
}
