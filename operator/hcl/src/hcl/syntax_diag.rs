//! hclsyntax's syntax errors, in its words, for files hcl-edit refuses.
//!
//! Kiln parses templates with hcl-edit; Packer with hclsyntax (hashicorp/hcl v2.24.0), whose
//! diagnostics for broken input differ from hcl-edit's in their words, positions and number:
//! hclsyntax reports what its scanner finds odd (`checkInvalidTokens`), then what its parser
//! meets, recovering after each error to go on (`parser.go`, `parser_template.go`). This
//! module is a port of that parser's error paths and recovery, written for diagnostics only:
//! it walks the token stream of [`crate::fmt::lex`] (the port of hclsyntax's scanner) the way
//! hclsyntax's recursive-descent parser does, keeps the ranges its messages name, and builds
//! no syntax tree. It also records the top-level blocks of the partial body hclsyntax would
//! return, which the diagnostic writer names ("in source "null" "a"").
//!
//! Only run when hcl-edit fails ([`config_errors`] is called from the template loader, fmt
//! and the variable file loader): the two parsers agree on valid input, and hcl-edit's tree is
//! what Kiln evaluates.

use crate::diag::{Diagnostic, Subject};
use crate::fmt::{Token, TokenType as T, lex, lexical_errors};
use std::collections::HashMap;
use unicode_segmentation::UnicodeSegmentation;

/// A byte range of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rng {
    start: usize,
    end: usize,
}

impl From<Token> for Rng {
    fn from(t: Token) -> Rng {
        Rng {
            start: t.start,
            end: t.end,
        }
    }
}

/// hcl's `RangeBetween`: from the start of `a` to the end of `b`.
fn between(a: impl Into<Rng>, b: impl Into<Rng>) -> Rng {
    Rng {
        start: a.into().start,
        end: b.into().end,
    }
}

/// One error of hclsyntax's parser: its words, subject and, when it has one, the start of its
/// context (the writer shows the source lines from there).
#[derive(Clone, Debug)]
struct SynErr {
    summary: String,
    detail: String,
    subject: Rng,
    context: Option<Rng>,
}

/// The template parts hclsyntax's template parser balances (`templateToken`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Other,
    If(Rng),
    For(Rng),
    EndIf(Rng),
    Else(Rng),
    EndFor(Rng),
    End(Rng),
}

enum Item {
    None,
    Attr(String, Rng),
    Block(String, Rng),
}

/// Nesting (of expressions, blocks, template directives) deeper than this stops the walk
/// there, as in recovery: hclsyntax recurses without limit on Go's growable stacks. Below it,
/// the stack grows as needed ([`grow`]). No real template comes near it.
const MAX_DEPTH: usize = 500;

/// Runs `f` with enough stack for one more level of nesting, whatever thread this is.
fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

struct Parser<'a> {
    src: &'a str,
    file: &'a str,
    toks: Vec<Token>,
    next: usize,
    newlines: Vec<bool>,
    recovery: bool,
    errs: Vec<SynErr>,
    /// The top-level blocks of the body: header (`source "null" "a"`) and range.
    blocks: Vec<(String, Rng)>,
    line_starts: Vec<usize>,
    depth: usize,
    /// The line and column of the source's first character.
    origin: (usize, usize),
}

/// The syntax errors hclsyntax's `ParseConfig` reports for `src` (named `file`), in its order,
/// and the top-level blocks of the partial body it returns (each block's header as hclsyntax's
/// `ContextString` writes it, and its byte range).
pub fn config_errors(src: &str, file: &str) -> (Vec<Diagnostic>, Vec<(String, usize, usize)>) {
    let toks = lex(src);
    let mut out: Vec<Diagnostic> = lexical_errors(src, file, &toks).0;
    let mut p = Parser::new(src, file, toks);
    p.parse_body(T::Eof, true);
    for e in std::mem::take(&mut p.errs) {
        out.push(p.diagnostic(e));
    }
    let blocks = p
        .blocks
        .iter()
        .map(|(h, r)| (h.clone(), r.start, r.end))
        .collect();
    (out, blocks)
}

/// The syntax errors hclsyntax's `ParseTemplate` reports for `src` (a bare template: a
/// template file, a string of hcl's JSON syntax), in its order; `origin` is the line and
/// column of its first character (hcl json parses a string's value from the column after its
/// opening quote).
pub fn template_errors(src: &str, file: &str, origin: (usize, usize)) -> Vec<Diagnostic> {
    let toks = crate::fmt::lex_template(src);
    let shift = |mut d: Diagnostic| {
        if let Some(s) = &mut d.subject {
            if s.line == 1 {
                s.column += origin.1 - 1;
            }
            if s.end_line == 1 {
                s.end_column += origin.1 - 1;
            }
            s.line += origin.0 - 1;
            s.end_line += origin.0 - 1;
        }
        d
    };
    let mut out: Vec<Diagnostic> = lexical_errors(src, file, &toks)
        .0
        .into_iter()
        .map(shift)
        .collect();
    let mut p = Parser::new(src, file, toks);
    p.origin = origin;
    p.parse_template_inner(T::Eof);
    for e in std::mem::take(&mut p.errs) {
        let mut d = p.diagnostic(e);
        // The positions are the template's own (the origin applied): no snippet of it.
        if let Some(s) = &mut d.subject {
            s.snippet.clear();
        }
        out.push(d);
    }
    out
}

/// The syntax errors hclsyntax's `ParseExpression` reports for `src` (a console line, a
/// `-var` value), in its order.
pub fn expression_errors(src: &str, file: &str) -> Vec<Diagnostic> {
    let toks = lex(src);
    let mut out: Vec<Diagnostic> = lexical_errors(src, file, &toks).0;
    let mut p = Parser::new(src, file, toks);
    // A bare expression ignores newlines, as if in parentheses.
    p.push_newlines(false);
    p.parse_expression();
    let next = p.peek();
    if next.ty != T::Eof && !p.recovery {
        p.err(
            "Extra characters after expression",
            "An expression was successfully parsed, but extra characters were found after it.",
            next.into(),
            None,
        );
    }
    for e in std::mem::take(&mut p.errs) {
        out.push(p.diagnostic(e));
    }
    out
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, file: &'a str, toks: Vec<Token>) -> Parser<'a> {
        let mut line_starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Parser {
            src,
            file,
            toks,
            next: 0,
            newlines: vec![true],
            recovery: false,
            errs: Vec::new(),
            blocks: Vec::new(),
            line_starts,
            depth: 0,
            origin: (1, 1),
        }
    }

    // ---- positions, as hclsyntax counts them (a column per grapheme cluster) ----

    fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let mut col = 1 + self
            .src
            .get(start..offset)
            .map_or(0, |s| s.graphemes(true).count());
        // A byte order mark is skipped: the first token is at column 1.
        if line == 0 && self.src.starts_with('\u{feff}') && offset >= 3 {
            col -= 1;
        }
        if line == 0 {
            col += self.origin.1 - 1;
        }
        (line + self.origin.0, col)
    }

    /// hcl's `Range.String()`.
    fn range_string(&self, r: Rng) -> String {
        let (l1, c1) = self.pos(r.start);
        let (l2, c2) = self.pos(r.end);
        if l1 == l2 {
            format!("{}:{l1},{c1}-{c2}", self.file)
        } else {
            format!("{}:{l1},{c1}-{l2},{c2}", self.file)
        }
    }

    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.src.len());
        self.src
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    fn diagnostic(&self, e: SynErr) -> Diagnostic {
        let (line, column) = self.pos(e.subject.start);
        let (end_line, end_column) = self.pos(e.subject.end.max(e.subject.start));
        let mut d = Diagnostic::error(e.summary, e.detail).at(Subject {
            file: self.file.to_string(),
            line,
            column,
            end_line,
            end_column,
            snippet: self.line_text(line).to_string(),
        });
        // The writer shows the lines of the subject and of its context.
        if let Some(c) = e.context
            && c.start != c.end
        {
            let (cl, _) = self.pos(c.start);
            if cl < line {
                d.snippet_start = Some(cl);
            }
        }
        d
    }

    fn err(
        &mut self,
        summary: &str,
        detail: impl Into<String>,
        subject: Rng,
        context: Option<Rng>,
    ) {
        self.errs.push(SynErr {
            summary: summary.to_string(),
            detail: detail.into(),
            subject,
            context,
        });
    }

    fn text(&self, t: Token) -> &'a str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn is_keyword(&self, t: Token, kw: &str) -> bool {
        t.ty == T::Ident && self.text(t) == kw
    }

    // ---- the peeker ----

    fn next_token(&self) -> (Token, usize) {
        let include = *self.newlines.last().unwrap_or(&true);
        for i in self.next..self.toks.len() {
            let t = self.toks[i];
            match t.ty {
                T::Comment => {
                    // A line comment ends with its newline, which stands for one.
                    if include && self.text(t).ends_with('\n') {
                        return (
                            Token {
                                ty: T::Newline,
                                ..t
                            },
                            i + 1,
                        );
                    }
                    continue;
                }
                T::Newline if !include => continue,
                _ => return (t, i + 1),
            }
        }
        let eof = self.toks.last().copied().unwrap_or(Token {
            ty: T::Eof,
            start: self.src.len(),
            end: self.src.len(),
        });
        (eof, self.toks.len())
    }

    fn peek(&self) -> Token {
        self.next_token().0
    }

    fn read(&mut self) -> Token {
        let (t, n) = self.next_token();
        self.next = n;
        t
    }

    fn prev_range(&self) -> Rng {
        if self.next == 0 {
            return self.peek().into();
        }
        self.toks[self.next - 1].into()
    }

    fn push_newlines(&mut self, include: bool) {
        self.newlines.push(include);
    }

    fn pop_newlines(&mut self) {
        if self.newlines.len() > 1 {
            self.newlines.pop();
        }
    }

    // ---- recovery ----

    /// Too deep: stops the walk, as at the end of the file, and reports nothing more.
    fn give_up(&mut self) {
        self.recovery = true;
        self.next = self.toks.len();
    }

    fn recover(&mut self, end: T) -> Token {
        let start = opposite(end);
        self.recovery = true;
        let mut nest = 0usize;
        loop {
            let tok = self.read();
            let mut ty = tok.ty;
            if end == T::TemplateSeqEnd && ty == T::TemplateControl {
                ty = T::TemplateInterp;
            }
            if ty == start {
                nest += 1;
            } else if ty == end {
                if nest < 1 {
                    return tok;
                }
                nest -= 1;
            } else if ty == T::Eof {
                return tok;
            }
        }
    }

    fn recover_over(&mut self, start: T) {
        loop {
            let tok = self.read();
            if tok.ty == start || tok.ty == T::Eof {
                break;
            }
        }
        self.recover(opposite(start));
    }

    fn recover_after_body_item(&mut self) {
        self.recovery = true;
        let mut open: Vec<T> = Vec::new();
        loop {
            let tok = self.read();
            match tok.ty {
                T::Newline if open.is_empty() => break,
                T::Eof => break,
                T::OBrace
                | T::OBrack
                | T::OParen
                | T::OQuote
                | T::OHeredoc
                | T::TemplateInterp
                | T::TemplateControl => open.push(tok.ty),
                T::CBrace | T::CBrack | T::CParen | T::CQuote | T::CHeredoc => {
                    let opener = opposite(tok.ty);
                    while open.last().is_some_and(|&o| o != opener) {
                        open.pop();
                    }
                    open.pop();
                }
                T::TemplateSeqEnd => {
                    while open
                        .last()
                        .is_some_and(|&o| o != T::TemplateInterp && o != T::TemplateControl)
                    {
                        open.pop();
                    }
                    open.pop();
                }
                _ => {}
            }
        }
    }

    // ---- bodies ----

    fn parse_body(&mut self, end: T, top: bool) {
        let mut attrs: HashMap<String, Rng> = HashMap::new();
        let start_range = self.prev_range();
        loop {
            let next = self.peek();
            if next.ty == end {
                self.read();
                break;
            }
            match next.ty {
                T::Newline => {
                    self.read();
                }
                T::Ident => match self.parse_body_item() {
                    Item::Block(header, range) => {
                        if top {
                            self.blocks.push((header, range));
                        }
                    }
                    Item::Attr(name, name_range) => {
                        if let Some(&existing) = attrs.get(&name) {
                            let detail = format!(
                                "The argument {} was already set at {}. Each argument may be set only once.",
                                crate::value::go_quote(&name),
                                self.range_string(existing)
                            );
                            self.err("Attribute redefined", detail, name_range, None);
                        } else {
                            attrs.insert(name, name_range);
                        }
                    }
                    Item::None => {}
                },
                _ => {
                    let bad = self.read();
                    if !self.recovery {
                        match bad.ty {
                            T::OQuote => self.err(
                                "Invalid argument name",
                                "Argument names must not be quoted.",
                                bad.into(),
                                None,
                            ),
                            T::Eof if end == T::CBrace => self.err(
                                "Unclosed configuration block",
                                "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
                                start_range,
                                None,
                            ),
                            T::Eof => self.err(
                                "Unclosed configuration body",
                                "Found end of file before the end of this configuration body.",
                                start_range,
                                None,
                            ),
                            _ => self.err(
                                "Argument or block definition required",
                                "An argument or block definition is required here.",
                                bad.into(),
                                None,
                            ),
                        }
                    }
                    self.recover(end);
                    break;
                }
            }
        }
    }

    fn parse_body_item(&mut self) -> Item {
        let ident = self.read();
        if ident.ty != T::Ident {
            self.recover_after_body_item();
            self.err(
                "Argument or block definition required",
                "An argument or block definition is required here.",
                ident.into(),
                None,
            );
            return Item::None;
        }
        match self.peek().ty {
            T::Equal => self.finish_attribute(ident, false),
            T::OQuote | T::OBrace | T::Ident => self.finish_block(ident),
            _ => {
                self.recover_after_body_item();
                self.err(
                    "Argument or block definition required",
                    "An argument or block definition is required here. To set an argument, use the equals sign \"=\" to introduce the argument value.",
                    ident.into(),
                    None,
                );
                Item::None
            }
        }
    }

    fn parse_single_attr_body(&mut self) {
        let ident = self.read();
        if ident.ty != T::Ident {
            self.recover_after_body_item();
            self.err(
                "Argument or block definition required",
                "An argument or block definition is required here.",
                ident.into(),
                None,
            );
            return;
        }
        let next = self.peek();
        match next.ty {
            T::Equal => {
                self.finish_attribute(ident, true);
            }
            T::OQuote | T::OBrace | T::Ident => {
                self.recover_after_body_item();
                let detail = format!(
                    "A single-line block definition can contain only a single argument. If you meant to define argument {}, use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.",
                    crate::value::go_quote(self.text(ident))
                );
                self.err(
                    "Argument definition required",
                    detail,
                    between(ident, next),
                    None,
                );
            }
            _ => {
                self.recover_after_body_item();
                self.err(
                    "Argument or block definition required",
                    "An argument or block definition is required here. To set an argument, use the equals sign \"=\" to introduce the argument value.",
                    ident.into(),
                    None,
                );
            }
        }
    }

    fn finish_attribute(&mut self, ident: Token, single_line: bool) -> Item {
        self.read(); // =
        let mark = self.errs.len();
        self.parse_expression();
        if self.recovery && self.errs.len() > mark {
            self.recover_after_body_item();
        } else if !single_line {
            let end = self.peek();
            if end.ty != T::Newline && end.ty != T::Eof {
                if !self.recovery {
                    let (summary, detail) = if end.ty == T::Comma {
                        (
                            "Unexpected comma after argument",
                            "Argument definitions must be separated by newlines, not commas. An argument definition must end with a newline.",
                        )
                    } else {
                        (
                            "Missing newline after argument",
                            "An argument definition must end with a newline.",
                        )
                    };
                    self.err(summary, detail, end.into(), Some(between(ident, end)));
                }
                self.recover_after_body_item();
            } else {
                self.read();
            }
        }
        Item::Attr(self.text(ident).to_string(), ident.into())
    }

    fn finish_block(&mut self, ident: Token) -> Item {
        let mut header = self.text(ident).to_string();
        let obrace;
        loop {
            let tok = self.peek();
            match tok.ty {
                T::OBrace => {
                    obrace = self.read();
                    break;
                }
                T::OQuote => {
                    let label = self.parse_quoted_string_literal();
                    header.push(' ');
                    header.push_str(&crate::value::go_quote(&label));
                }
                T::Ident => {
                    self.read();
                    header.push(' ');
                    header.push_str(&crate::value::go_quote(self.text(tok)));
                }
                _ => {
                    let ctx = Some(between(ident, tok));
                    match tok.ty {
                        T::Equal => self.err(
                            "Invalid block definition",
                            "The equals sign \"=\" indicates an argument definition, and must not be used when defining a block.",
                            tok.into(),
                            ctx,
                        ),
                        T::Newline => self.err(
                            "Invalid block definition",
                            "A block definition must have block content delimited by \"{\" and \"}\", starting on the same line as the block header.",
                            tok.into(),
                            ctx,
                        ),
                        _ => {
                            if !self.recovery {
                                self.err(
                                    "Invalid block definition",
                                    "Either a quoted string block label or an opening brace (\"{\") is expected here.",
                                    tok.into(),
                                    ctx,
                                );
                            }
                        }
                    }
                    self.recover_after_body_item();
                    return Item::Block(header, ident.into());
                }
            }
        }
        if self.depth >= MAX_DEPTH {
            self.give_up();
            return Item::Block(header, ident.into());
        }
        self.depth += 1;
        match self.peek().ty {
            T::Newline | T::Eof | T::CBrace => grow(|| self.parse_body(T::CBrace, false)),
            _ => {
                // A one-line block: its errors come after the ones about its end.
                let mark = self.errs.len();
                self.parse_single_attr_body();
                let body_errs = self.errs.split_off(mark);
                let next = self.peek();
                match next.ty {
                    T::CBrace => {
                        self.read();
                    }
                    T::Comma => {
                        self.err(
                            "Invalid single-argument block definition",
                            "Single-line block syntax can include only one argument definition. To define multiple arguments, use the multi-line block syntax with one argument definition per line.",
                            next.into(),
                            None,
                        );
                        self.recover(T::CBrace);
                    }
                    T::Newline => {
                        self.err(
                            "Invalid single-argument block definition",
                            "An argument definition on the same line as its containing block creates a single-line block definition, which must also be closed on the same line. Place the block's closing brace immediately after the argument definition.",
                            next.into(),
                            None,
                        );
                        self.recover(T::CBrace);
                    }
                    _ => {
                        if !self.recovery {
                            if next.ty == T::Eof {
                                self.err(
                                    "Unclosed configuration block",
                                    "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
                                    obrace.into(),
                                    Some(between(ident, obrace)),
                                );
                            } else {
                                self.err(
                                    "Invalid single-argument block definition",
                                    "A single-line block definition must end with a closing brace immediately after its single argument definition.",
                                    next.into(),
                                    None,
                                );
                            }
                        }
                        self.recover(T::CBrace);
                    }
                }
                self.errs.extend(body_errs);
            }
        }
        self.depth -= 1;
        let cbrace = self.prev_range();
        let eol = self.peek();
        if eol.ty == T::Newline || eol.ty == T::Eof {
            self.read();
        } else {
            if !self.recovery {
                self.err(
                    "Missing newline after block definition",
                    "A block definition must end with a newline.",
                    eol.into(),
                    Some(between(ident, eol)),
                );
            }
            self.recover_after_body_item();
        }
        Item::Block(header, between(ident, cbrace))
    }

    // ---- expressions ----

    fn parse_expression(&mut self) -> Rng {
        let start = self.peek();
        self.parse_conditional(start)
    }

    fn parse_conditional(&mut self, start: Token) -> Rng {
        let mark = self.errs.len();
        let cond = self.parse_binary_ops(0);
        if self.recovery && self.errs.len() > mark {
            return cond;
        }
        if self.peek().ty != T::Question {
            return cond;
        }
        self.read();
        let mark = self.errs.len();
        self.parse_expression();
        if self.recovery && self.errs.len() > mark {
            return cond;
        }
        let colon = self.peek();
        if colon.ty != T::Colon {
            self.err(
                "Missing false expression in conditional",
                "The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
                colon.into(),
                Some(between(start, colon)),
            );
            return cond;
        }
        self.read();
        let mark = self.errs.len();
        let f = self.parse_expression();
        if self.recovery && self.errs.len() > mark {
            return cond;
        }
        between(start, f)
    }

    fn parse_binary_ops(&mut self, level: usize) -> Rng {
        const LEVELS: [&[T]; 6] = [
            &[T::Or],
            &[T::And],
            &[T::EqualOp, T::NotEqual],
            &[T::GreaterThan, T::GreaterThanEq, T::LessThan, T::LessThanEq],
            &[T::Plus, T::Minus],
            &[T::Star, T::Slash, T::Percent],
        ];
        if level == LEVELS.len() {
            return self.parse_expression_with_traversals();
        }
        let mark = self.errs.len();
        let mut lhs = self.parse_binary_ops(level + 1);
        if self.recovery && self.errs.len() > mark {
            return lhs;
        }
        let mut rhs: Option<Rng> = None;
        while LEVELS[level].contains(&self.peek().ty) {
            if let Some(r) = rhs {
                lhs = between(lhs, r);
            }
            self.read();
            let mark = self.errs.len();
            let r = self.parse_binary_ops(level + 1);
            rhs = Some(r);
            if self.recovery && self.errs.len() > mark {
                return lhs;
            }
        }
        match rhs {
            Some(r) => between(lhs, r),
            None => lhs,
        }
    }

    fn parse_expression_with_traversals(&mut self) -> Rng {
        let term = self.parse_expression_term();
        self.parse_expression_traversals(term)
    }

    fn legacy_index(&mut self, num: Token, subject: Token, splat: bool) {
        let text = self.text(num);
        if let Some((first, second)) = text.split_once('.') {
            let detail = if splat {
                format!(
                    "When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax with a full splat expression [*] instead, like [{first}][{second}]."
                )
            } else {
                format!(
                    "When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [{first}][{second}]."
                )
            };
            self.err("Invalid legacy index syntax", detail, subject.into(), None);
        }
    }

    /// `numberLitValue`: the scanner takes `1.0.0` as one number, which cty cannot read.
    fn number_literal(&mut self, tok: Token) {
        let text = self.text(tok);
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, ""),
        };
        let valid = mantissa.matches('.').count() <= 1
            && !exponent.contains(['.', 'e', 'E'])
            && exponent.trim_start_matches(['+', '-']).len() <= 9;
        if !valid {
            self.err(
                "Invalid number literal",
                "Failed to recognize the value of this number literal.",
                tok.into(),
                None,
            );
        }
    }

    fn parse_expression_traversals(&mut self, from: Rng) -> Rng {
        let mut ret = from;
        'traversal: loop {
            let next = self.peek();
            match next.ty {
                T::Dot => {
                    let dot = self.read();
                    let attr = self.peek();
                    match attr.ty {
                        T::Ident => {
                            self.read();
                            ret = between(ret, attr);
                        }
                        T::NumberLit => {
                            self.read();
                            if self.text(attr).contains('.') {
                                self.legacy_index(attr, attr, false);
                            } else {
                                self.number_literal(attr);
                            }
                            ret = between(ret, attr);
                        }
                        T::Star => {
                            let marker = self.read();
                            let mut last: Rng = marker.into();
                            while self.peek().ty == T::Dot {
                                self.read();
                                if self.peek().ty == T::NumberLit {
                                    let num = self.read();
                                    if self.text(num).contains('.') {
                                        self.legacy_index(num, attr, true);
                                    } else {
                                        self.number_literal(num);
                                    }
                                    last = num.into();
                                    continue;
                                }
                                let p = self.peek();
                                if p.ty != T::Ident {
                                    if !self.recovery {
                                        if p.ty == T::Star {
                                            self.err(
                                                "Nested splat expression not allowed",
                                                "A splat expression (*) cannot be used inside another attribute-only splat expression.",
                                                p.into(),
                                                None,
                                            );
                                        } else {
                                            self.err(
                                                "Invalid attribute name",
                                                "An attribute name is required after a dot.",
                                                attr.into(),
                                                None,
                                            );
                                        }
                                    }
                                    self.recovery = true;
                                    continue 'traversal;
                                }
                                last = self.read().into();
                            }
                            ret = between(from, last);
                        }
                        _ => {
                            self.err(
                                "Invalid attribute name",
                                "An attribute name is required after a dot.",
                                attr.into(),
                                None,
                            );
                            ret = between(from, dot);
                            self.recovery = true;
                        }
                    }
                }
                T::OBrack => {
                    let open = self.read();
                    if self.peek().ty == T::Star {
                        self.read();
                        let mut close = self.read();
                        if close.ty != T::CBrack && !self.recovery {
                            // hclsyntax's subject points at its `close` variable, which
                            // then takes the token recovery stops at.
                            close = self.recover(T::CBrack);
                            self.err(
                                "Missing close bracket on splat index",
                                "The star for a full splat operator must be immediately followed by a closing bracket (\"]\").",
                                close.into(),
                                None,
                            );
                        }
                        let each = self.parse_expression_traversals(between(open, close));
                        ret = between(from, each);
                    } else {
                        self.push_newlines(false);
                        let mark = self.errs.len();
                        self.parse_expression();
                        let close = if self.recovery && self.errs.len() > mark {
                            self.recover(T::CBrack)
                        } else {
                            let close = self.read();
                            if close.ty != T::CBrack && !self.recovery {
                                // The subject is the token recovery stops at (as above).
                                let close = self.recover(T::CBrack);
                                self.err(
                                    "Missing close bracket on index",
                                    "The index operator must end with a closing bracket (\"]\").",
                                    close.into(),
                                    None,
                                );
                                close
                            } else {
                                close
                            }
                        };
                        self.pop_newlines();
                        ret = between(ret, close);
                    }
                }
                _ => break,
            }
        }
        ret
    }

    fn parse_expression_term(&mut self) -> Rng {
        let start = self.peek();
        if self.depth >= MAX_DEPTH {
            self.give_up();
            return start.into();
        }
        self.depth += 1;
        let r = grow(|| self.parse_term(start));
        self.depth -= 1;
        r
    }

    fn parse_term(&mut self, start: Token) -> Rng {
        match start.ty {
            T::OParen => {
                let open = self.read();
                self.push_newlines(false);
                let mark = self.errs.len();
                let e = self.parse_expression();
                if self.errs.len() > mark {
                    self.recover(T::CParen);
                    self.pop_newlines();
                    return e;
                }
                let close = self.peek();
                if close.ty != T::CParen {
                    self.err(
                        "Unbalanced parentheses",
                        "Expected a closing parenthesis to terminate the expression.",
                        close.into(),
                        Some(between(start, close)),
                    );
                    self.recovery = true;
                }
                let close = self.read();
                self.pop_newlines();
                between(open, close)
            }
            T::NumberLit => {
                self.read();
                self.number_literal(start);
                start.into()
            }
            T::Ident => {
                self.read();
                if matches!(self.peek().ty, T::OParen | T::DoubleColon) {
                    return self.finish_function_call(start);
                }
                start.into()
            }
            T::OQuote | T::OHeredoc => {
                let open = self.read();
                let closer = opposite(open.ty);
                self.parse_template_inner(closer);
                between(open, self.prev_range())
            }
            T::Minus | T::Bang => {
                self.read();
                let operand = self.parse_expression_with_traversals();
                between(start, operand)
            }
            T::OBrack => self.parse_tuple_cons(),
            T::OBrace => self.parse_object_cons(),
            _ => {
                if !self.recovery {
                    if start.ty == T::Eof {
                        self.err(
                            "Missing expression",
                            "Expected the start of an expression, but found the end of the file.",
                            start.into(),
                            None,
                        );
                    } else {
                        self.err(
                            "Invalid expression",
                            "Expected the start of an expression, but found an invalid expression token.",
                            start.into(),
                            None,
                        );
                    }
                }
                self.recovery = true;
                start.into()
            }
        }
    }

    fn finish_function_call(&mut self, name: Token) -> Rng {
        let mut open = self.read();
        while open.ty == T::DoubleColon {
            let next_name = self.read();
            if next_name.ty != T::Ident {
                self.err(
                    "Missing function name",
                    "Function scope resolution symbol :: must be followed by a function name in this scope.",
                    next_name.into(),
                    Some(between(name, next_name)),
                );
                self.recover_over(T::OParen);
                return between(name, next_name);
            }
            open = self.read();
        }
        if open.ty != T::OParen {
            self.err(
                "Missing open parenthesis",
                "Function selector must be followed by an open parenthesis to begin the function call.",
                open.into(),
                Some(between(name, open)),
            );
            self.recover_over(T::OParen);
            return between(name, open);
        }
        self.push_newlines(false);
        let mut close: Option<Token> = None;
        loop {
            if self.peek().ty == T::CParen {
                close = Some(self.read());
                break;
            }
            let mark = self.errs.len();
            self.parse_expression();
            if self.recovery && self.errs.len() > mark {
                let t = self.recover(T::CParen);
                if t.ty == T::CParen {
                    close = Some(t);
                }
                break;
            }
            let sep = self.read();
            if sep.ty == T::CParen {
                close = Some(sep);
                break;
            }
            if sep.ty == T::Ellipsis {
                if self.peek().ty != T::CParen {
                    if !self.recovery {
                        self.err(
                            "Missing closing parenthesis",
                            "An expanded function argument (with ...) must be immediately followed by closing parentheses.",
                            sep.into(),
                            Some(between(name, sep)),
                        );
                    }
                    close = Some(self.recover(T::CParen));
                } else {
                    close = Some(self.read());
                }
                break;
            }
            if sep.ty != T::Comma {
                if sep.ty == T::Eof {
                    self.err(
                        "Unterminated function call",
                        "There is no closing parenthesis for this function call before the end of the file. This may be caused by incorrect parenthesis nesting elsewhere in this file.",
                        between(name, open),
                        None,
                    );
                } else {
                    self.err(
                        "Missing argument separator",
                        "A comma is required to separate each function argument from the next.",
                        sep.into(),
                        Some(between(name, sep)),
                    );
                }
                close = Some(self.recover(T::CParen));
                break;
            }
            if self.peek().ty == T::CParen {
                close = Some(self.read());
                break;
            }
        }
        self.pop_newlines();
        // Without a closing parenthesis, hclsyntax's range ends at the file's start.
        Rng {
            start: name.start,
            end: close.map_or(0, |c| c.end),
        }
    }

    fn parse_tuple_cons(&mut self) -> Rng {
        let open = self.read();
        self.push_newlines(false);
        if self.is_keyword(self.peek(), "for") {
            let r = self.finish_for(open);
            self.pop_newlines();
            return r;
        }
        let close;
        loop {
            if self.peek().ty == T::CBrack {
                close = self.read();
                break;
            }
            let mark = self.errs.len();
            self.parse_expression();
            if self.recovery && self.errs.len() > mark {
                close = self.recover(T::CBrack);
                break;
            }
            let next = self.peek();
            if next.ty == T::CBrack {
                close = self.read();
                break;
            }
            if next.ty != T::Comma {
                if !self.recovery {
                    if next.ty == T::Eof {
                        self.err(
                            "Unterminated tuple constructor expression",
                            "There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.",
                            open.into(),
                            None,
                        );
                    } else {
                        self.err(
                            "Missing item separator",
                            "Expected a comma to mark the beginning of the next item.",
                            next.into(),
                            Some(between(open, next)),
                        );
                    }
                }
                close = self.recover(T::CBrack);
                break;
            }
            self.read();
        }
        self.pop_newlines();
        between(open, close)
    }

    fn parse_object_cons(&mut self) -> Rng {
        let open = self.read();
        self.push_newlines(false);
        let is_for = self.is_keyword(self.peek(), "for");
        self.pop_newlines();
        if is_for {
            return self.finish_for(open);
        }
        self.push_newlines(true);
        let unterminated = "There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.";
        let close;
        loop {
            let next = self.peek();
            if next.ty == T::Newline {
                self.read();
                continue;
            }
            if next.ty == T::CBrace {
                close = self.read();
                break;
            }
            let mark = self.errs.len();
            self.parse_expression();
            if self.recovery && self.errs.len() > mark {
                close = self.recover(T::CBrace);
                break;
            }
            let next = self.peek();
            if next.ty != T::Equal && next.ty != T::Colon {
                if !self.recovery {
                    let ctx = Some(between(open, next));
                    match next.ty {
                        T::Newline | T::Comma => self.err(
                            "Missing attribute value",
                            "Expected an attribute value, introduced by an equals sign (\"=\").",
                            next.into(),
                            ctx,
                        ),
                        T::Ident => self.err(
                            "Missing key/value separator",
                            "Expected an equals sign (\"=\") to mark the beginning of the attribute value. If you intended to given an attribute name containing periods or spaces, write the name in quotes to create a string literal.",
                            next.into(),
                            ctx,
                        ),
                        T::Eof => self.err(
                            "Unterminated object constructor expression",
                            unterminated,
                            open.into(),
                            None,
                        ),
                        _ => self.err(
                            "Missing key/value separator",
                            "Expected an equals sign (\"=\") to mark the beginning of the attribute value.",
                            next.into(),
                            ctx,
                        ),
                    }
                }
                close = self.recover(T::CBrace);
                break;
            }
            self.read();
            let mark = self.errs.len();
            self.parse_expression();
            if self.recovery && self.errs.len() > mark {
                close = self.recover(T::CBrace);
                break;
            }
            let next = self.peek();
            if next.ty == T::CBrace {
                close = self.read();
                break;
            }
            if next.ty != T::Comma && next.ty != T::Newline {
                if !self.recovery {
                    if next.ty == T::Eof {
                        self.err(
                            "Unterminated object constructor expression",
                            unterminated,
                            open.into(),
                            None,
                        );
                    } else {
                        self.err(
                            "Missing attribute separator",
                            "Expected a newline or comma to mark the beginning of the next attribute.",
                            next.into(),
                            Some(between(open, next)),
                        );
                    }
                }
                close = self.recover(T::CBrace);
                break;
            }
            self.read();
        }
        self.pop_newlines();
        between(open, close)
    }

    /// A `for` expression's error: reported unless in recovery, then skipped to the closer.
    fn for_fails(&mut self, open: Token, close_ty: T, detail: &str) -> Rng {
        if !self.recovery {
            let at = self.peek();
            self.err(
                "Invalid 'for' expression",
                detail,
                at.into(),
                Some(between(open, at)),
            );
        }
        let close = self.recover(close_ty);
        self.pop_newlines();
        between(open, close)
    }

    fn finish_for(&mut self, open: Token) -> Rng {
        self.push_newlines(false);
        self.read(); // for
        let (make_obj, close_ty) = if open.ty == T::OBrace {
            (true, T::CBrace)
        } else {
            (false, T::CBrack)
        };
        if self.peek().ty != T::Ident {
            return self.for_fails(
                open,
                close_ty,
                "For expression requires variable name after 'for'.",
            );
        }
        self.read();
        if self.peek().ty == T::Comma {
            self.read();
            if self.peek().ty != T::Ident {
                return self.for_fails(
                    open,
                    close_ty,
                    "For expression requires value variable name after comma.",
                );
            }
            self.read();
        }
        if !self.is_keyword(self.peek(), "in") {
            return self.for_fails(
                open,
                close_ty,
                "For expression requires the 'in' keyword after its name declarations.",
            );
        }
        self.read();
        let bail = |p: &mut Parser| {
            let close = p.recover(close_ty);
            p.pop_newlines();
            between(open, close)
        };
        let mark = self.errs.len();
        self.parse_expression();
        if self.recovery && self.errs.len() > mark {
            return bail(self);
        }
        if self.peek().ty != T::Colon {
            return self.for_fails(
                open,
                close_ty,
                "For expression requires a colon after the collection expression.",
            );
        }
        self.read();
        let mark = self.errs.len();
        let mut val = self.parse_expression();
        let mut key = None;
        if self.peek().ty == T::FatArrow {
            self.read();
            key = Some(val);
            val = self.parse_expression();
        }
        if self.recovery && self.errs.len() > mark {
            return bail(self);
        }
        let ellipsis = (self.peek().ty == T::Ellipsis).then(|| self.read());
        if self.is_keyword(self.peek(), "if") {
            self.read();
            let mark = self.errs.len();
            self.parse_expression();
            if self.recovery && self.errs.len() > mark {
                return bail(self);
            }
        }
        let close = if self.peek().ty == close_ty {
            self.read()
        } else {
            if !self.recovery {
                let at = self.peek();
                self.err(
                    "Invalid 'for' expression",
                    "Extra characters after the end of the 'for' expression.",
                    at.into(),
                    Some(between(open, at)),
                );
            }
            self.recover(close_ty)
        };
        let ctx = Some(between(open, close));
        if !make_obj {
            if let Some(k) = key {
                self.err(
                    "Invalid 'for' expression",
                    "Key expression is not valid when building a tuple.",
                    k,
                    ctx,
                );
            }
            if let Some(e) = ellipsis {
                self.err(
                    "Invalid 'for' expression",
                    "Grouping ellipsis (...) cannot be used when building a tuple.",
                    e.into(),
                    ctx,
                );
            }
        } else if key.is_none() {
            self.err(
                "Invalid 'for' expression",
                "Key expression is required when building an object.",
                val,
                ctx,
            );
        }
        self.pop_newlines();
        between(open, close)
    }

    // ---- strings and templates ----

    /// A block label: a quoted string without template sequences. Returns its value.
    fn parse_quoted_string_literal(&mut self) -> String {
        let oquote = self.read();
        let mut ret = String::new();
        loop {
            let tok = self.read();
            match tok.ty {
                T::CQuote => break,
                T::QuotedLit => ret.push_str(&self.string_literal(tok)),
                T::TemplateControl | T::TemplateInterp => {
                    let which = if tok.ty == T::TemplateControl {
                        "%"
                    } else {
                        "$"
                    };
                    self.err(
                        "Invalid string literal",
                        format!(
                            "Template sequences are not allowed in this string. To include a literal \"{which}\", double it (as \"{which}{which}\") to escape it."
                        ),
                        tok.into(),
                        Some(between(oquote, tok)),
                    );
                    ret.push_str(which);
                    ret.push_str("{ ... }");
                    self.recover(T::TemplateSeqEnd);
                }
                T::Eof => {
                    self.err(
                        "Unterminated string literal",
                        "Unable to find the closing quote mark before the end of the file.",
                        tok.into(),
                        Some(between(oquote, tok)),
                    );
                    break;
                }
                _ => {
                    self.err(
                        "Invalid string literal",
                        "This item is not valid in a string literal.",
                        tok.into(),
                        Some(between(oquote, tok)),
                    );
                    self.recover(T::CQuote);
                    break;
                }
            }
        }
        ret
    }

    /// `ParseStringLiteralToken`: the value of a literal token, reporting its bad escapes.
    fn string_literal(&mut self, tok: Token) -> String {
        let quoted = tok.ty == T::QuotedLit;
        let s = self.text(tok);
        let b = s.as_bytes();
        let mut ret = String::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            // The escape sequences (`scanStringLit`); everything else is literal.
            let len = match c {
                b'\\' if quoted => match b.get(i + 1) {
                    Some(&u @ (b'u' | b'U')) => {
                        let max = if u == b'u' { 4 } else { 8 };
                        2 + b[i + 2..]
                            .iter()
                            .take(max)
                            .take_while(|h| h.is_ascii_hexdigit())
                            .count()
                    }
                    Some(_) => 1 + s[i + 1..].chars().next().map_or(1, char::len_utf8),
                    None => 1,
                },
                b'$' | b'%' => {
                    if b.get(i + 1) == Some(&c) {
                        if b.get(i + 2) == Some(&b'{') { 3 } else { 2 }
                    } else {
                        1
                    }
                }
                _ => {
                    let ch = s[i..].chars().next().unwrap_or(' ');
                    ret.push(ch);
                    i += ch.len_utf8().max(1);
                    continue;
                }
            };
            let slice = &s[i..i + len];
            let at = Rng {
                start: tok.start + i,
                end: tok.start + i + len,
            };
            i += len;
            if c != b'\\' {
                if len == 3 {
                    ret.push(c as char);
                    ret.push('{');
                } else {
                    ret.push_str(slice);
                }
                continue;
            }
            let bad = |p: &mut Parser, detail: String| {
                p.err("Invalid escape sequence", detail, at, None);
            };
            if len < 2 {
                bad(
                    self,
                    "Backslash must be followed by an escape sequence selector character."
                        .to_string(),
                );
                ret.push_str(slice);
                continue;
            }
            match slice.as_bytes()[1] {
                b'n' => ret.push('\n'),
                b'r' => ret.push('\r'),
                b't' => ret.push('\t'),
                b'"' => ret.push('"'),
                b'\\' => ret.push('\\'),
                u @ (b'u' | b'U') => {
                    if u == b'u' && len != 6 {
                        bad(
                            self,
                            "The \\u escape sequence must be followed by four hexadecimal digits."
                                .to_string(),
                        );
                        ret.push_str(slice);
                        continue;
                    }
                    if u == b'U' && len != 10 {
                        bad(
                            self,
                            "The \\U escape sequence must be followed by eight hexadecimal digits."
                                .to_string(),
                        );
                        ret.push_str(slice);
                        continue;
                    }
                    let num = u32::from_str_radix(&slice[2..], 16).unwrap_or(u32::MAX);
                    match char::from_u32(num) {
                        Some(ch) => ret.push(ch),
                        None => {
                            bad(
                                self,
                                format!("Cannot encode character U+{num:04x} in UTF-8."),
                            );
                            ret.push_str(slice);
                        }
                    }
                }
                _ => {
                    bad(
                        self,
                        format!(
                            "The symbol {} is not a valid escape sequence selector.",
                            crate::value::go_quote(&slice[1..])
                        ),
                    );
                    ret.push_str(&slice[1..]);
                }
            }
        }
        ret
    }

    fn parse_template_inner(&mut self, end: T) {
        let parts = self.parse_template_parts(end);
        let mut pos = 0;
        while !matches!(parts[pos], Part::End(_)) {
            self.template_expr(&parts, &mut pos);
        }
    }

    fn template_expr(&mut self, parts: &[Part], pos: &mut usize) {
        let unbalanced = "The control directives within this template are unbalanced.";
        match parts[*pos] {
            Part::Other => *pos += 1,
            Part::If(_) | Part::For(_) if self.depth >= MAX_DEPTH => *pos += 1,
            Part::If(open) => {
                *pos += 1;
                self.depth += 1;
                grow(|| self.template_if(parts, pos, open));
                self.depth -= 1;
            }
            Part::For(open) => {
                *pos += 1;
                self.depth += 1;
                grow(|| self.template_for(parts, pos, open));
                self.depth -= 1;
            }
            Part::End(r) => self.err("Unexpected end of template", unbalanced, r, None),
            Part::EndIf(r) => {
                *pos += 1;
                self.err("Unexpected endif directive", unbalanced, r, None);
            }
            Part::Else(r) => {
                *pos += 1;
                self.err("Unexpected else directive", unbalanced, r, None);
            }
            Part::EndFor(r) => {
                *pos += 1;
                self.err("Unexpected endfor directive", unbalanced, r, None);
            }
        }
    }

    fn template_if(&mut self, parts: &[Part], pos: &mut usize, open: Rng) {
        let mut in_else = false;
        loop {
            let at = self.range_string(open);
            match parts[*pos] {
                Part::End(r) => {
                    self.err(
                        "Unexpected end of template",
                        format!(
                            "The if directive at {at} is missing its corresponding endif directive."
                        ),
                        r,
                        None,
                    );
                    return;
                }
                Part::Else(r) => {
                    *pos += 1;
                    if !in_else {
                        in_else = true;
                        continue;
                    }
                    self.err(
                        "Unexpected else directive",
                        format!("Already in the else clause for the if started at {at}."),
                        r,
                        None,
                    );
                    return;
                }
                Part::EndIf(_) => {
                    *pos += 1;
                    return;
                }
                Part::EndFor(r) => {
                    *pos += 1;
                    self.err(
                        "Unexpected endfor directive",
                        format!("Expecting an endif directive for the if started at {at}."),
                        r,
                        None,
                    );
                    return;
                }
                _ => self.template_expr(parts, pos),
            }
        }
    }

    fn template_for(&mut self, parts: &[Part], pos: &mut usize, open: Rng) {
        loop {
            let at = self.range_string(open);
            match parts[*pos] {
                Part::End(r) => {
                    self.err(
                        "Unexpected end of template",
                        format!(
                            "The for directive at {at} is missing its corresponding endfor directive."
                        ),
                        r,
                        None,
                    );
                    return;
                }
                Part::Else(r) => {
                    *pos += 1;
                    self.err(
                        "Unexpected else directive",
                        "An else clause is not expected for a for directive.",
                        r,
                        None,
                    );
                    return;
                }
                Part::EndFor(_) => {
                    *pos += 1;
                    return;
                }
                Part::EndIf(r) => {
                    *pos += 1;
                    self.err(
                        "Unexpected endif directive",
                        format!(
                            "Expecting an endfor directive corresponding to the for directive at {at}."
                        ),
                        r,
                        None,
                    );
                    return;
                }
                _ => self.template_expr(parts, pos),
            }
        }
    }

    fn parse_template_parts(&mut self, end: T) -> Vec<Part> {
        let mut parts = Vec::new();
        let start_range: Rng = self.peek().into();
        let end_range: Rng;
        loop {
            let next = self.read();
            if next.ty == end {
                end_range = next.into();
                break;
            }
            match next.ty {
                T::StringLit | T::QuotedLit => {
                    self.string_literal(next);
                    parts.push(Part::Other);
                }
                T::TemplateInterp => {
                    self.push_newlines(false);
                    self.parse_expression();
                    let close = self.peek();
                    if close.ty != T::TemplateSeqEnd {
                        if !self.recovery {
                            let ctx = Some(between(start_range, close));
                            match close.ty {
                                T::Eof => self.err(
                                    "Unclosed template interpolation sequence",
                                    "There is no closing brace for this interpolation sequence before the end of the file. This might be caused by incorrect nesting inside the given expression.",
                                    start_range,
                                    None,
                                ),
                                T::Colon => self.err(
                                    "Extra characters after interpolation expression",
                                    "Template interpolation doesn't expect a colon at this location. Did you intend this to be a literal sequence to be processed as part of another language? If so, you can escape it by starting with \"$${\" instead of just \"${\".",
                                    close.into(),
                                    ctx,
                                ),
                                T::CQuote | T::OQuote if end == T::CQuote => self.err(
                                    "Unclosed template interpolation sequence",
                                    "There is no closing brace for this interpolation sequence before the end of the quoted template. This might be caused by incorrect nesting inside the given expression.",
                                    start_range,
                                    None,
                                ),
                                _ => self.err(
                                    "Extra characters after interpolation expression",
                                    "Expected a closing brace to end the interpolation expression, but found extra characters.\n\nThis can happen when you include interpolation syntax for another language, such as shell scripting, but forget to escape the interpolation start token. If this is an embedded sequence for another language, escape it by starting with \"$${\" instead of just \"${\".",
                                    close.into(),
                                    ctx,
                                ),
                            }
                        }
                        self.recover(T::TemplateSeqEnd);
                    } else {
                        self.read();
                    }
                    self.pop_newlines();
                    parts.push(Part::Other);
                }
                T::TemplateControl => {
                    self.push_newlines(false);
                    let kw = self.peek();
                    if kw.ty != T::Ident {
                        if !self.recovery {
                            self.err(
                                "Invalid template directive",
                                "A template directive keyword (\"if\", \"for\", etc) is expected at the beginning of a %{ sequence.",
                                kw.into(),
                                Some(between(next, kw)),
                            );
                        }
                        self.recover(T::TemplateSeqEnd);
                        self.pop_newlines();
                        continue;
                    }
                    self.read();
                    let word = self.text(kw);
                    match word {
                        "if" => {
                            self.parse_expression();
                            parts.push(Part::If(between(next, self.peek())));
                        }
                        "else" => parts.push(Part::Else(between(next, self.peek()))),
                        "endif" => parts.push(Part::EndIf(between(next, self.peek()))),
                        "endfor" => parts.push(Part::EndFor(between(next, self.peek()))),
                        "for" => {
                            let fail = |p: &mut Parser, detail: &str| {
                                if !p.recovery {
                                    let at = p.peek();
                                    p.err("Invalid 'for' directive", detail, at.into(), None);
                                }
                                p.recover(T::TemplateSeqEnd);
                                p.pop_newlines();
                            };
                            if self.peek().ty != T::Ident {
                                fail(self, "For directive requires variable name after 'for'.");
                                continue;
                            }
                            self.read();
                            if self.peek().ty == T::Comma {
                                self.read();
                                if self.peek().ty != T::Ident {
                                    fail(
                                        self,
                                        "For directive requires value variable name after comma.",
                                    );
                                    continue;
                                }
                                self.read();
                            }
                            if !self.is_keyword(self.peek(), "in") {
                                fail(self, "For directive requires 'in' keyword after names.");
                                continue;
                            }
                            self.read();
                            self.parse_expression();
                            parts.push(Part::For(between(next, self.peek())));
                        }
                        _ => {
                            if !self.recovery {
                                let suggestion = ["if", "for", "else", "endif", "endfor"]
                                    .into_iter()
                                    .find(|s| strsim::levenshtein(word, s) < 3)
                                    .map(|s| format!(" Did you mean \"{s}\"?"))
                                    .unwrap_or_default();
                                self.err(
                                    "Invalid template control keyword",
                                    format!(
                                        "{} is not a valid template control keyword.{suggestion}",
                                        crate::value::go_quote(word)
                                    ),
                                    kw.into(),
                                    Some(between(next, kw)),
                                );
                            }
                            self.recover(T::TemplateSeqEnd);
                            self.pop_newlines();
                            continue;
                        }
                    }
                    let close = self.peek();
                    if close.ty != T::TemplateSeqEnd {
                        if !self.recovery {
                            self.err(
                                &format!("Extra characters in {word} marker"),
                                "Expected a closing brace to end the sequence, but found extra characters.",
                                close.into(),
                                Some(between(start_range, close)),
                            );
                        }
                        self.recover(T::TemplateSeqEnd);
                    } else {
                        self.read();
                    }
                    self.pop_newlines();
                }
                _ => {
                    if !self.recovery {
                        self.err(
                            "Unterminated template string",
                            "No closing marker was found for the string.",
                            next.into(),
                            Some(between(start_range, next)),
                        );
                    }
                    end_range = self.recover(end).into();
                    break;
                }
            }
        }
        parts.push(Part::End(end_range));
        parts
    }
}

/// The other end of a bracketing pair (`oppositeBracket`); `Nil` for other tokens.
fn opposite(ty: T) -> T {
    match ty {
        T::OBrace => T::CBrace,
        T::OBrack => T::CBrack,
        T::OParen => T::CParen,
        T::OQuote => T::CQuote,
        T::OHeredoc => T::CHeredoc,
        T::CBrace => T::OBrace,
        T::CBrack => T::OBrack,
        T::CParen => T::OParen,
        T::CQuote => T::OQuote,
        T::CHeredoc => T::OHeredoc,
        T::TemplateControl | T::TemplateInterp => T::TemplateSeqEnd,
        T::TemplateSeqEnd => T::TemplateInterp,
        _ => T::Nil,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `line,col-endline,endcol summary` of each error, as hcl's ranges print them.
    fn errors(src: &str) -> Vec<String> {
        config_errors(src, "t.pkr.hcl")
            .0
            .iter()
            .map(|d| {
                let s = d.subject.as_ref().unwrap();
                format!(
                    "{},{}-{},{} {}",
                    s.line, s.column, s.end_line, s.end_column, d.summary
                )
            })
            .collect()
    }

    #[test]
    fn reports_what_packer_reports() {
        // Each as `packer validate -syntax-only` (Packer 1.16.0, hcl v2.24.0) reports it.
        let cases: &[(&str, &[&str])] = &[
            (
                "source \"null\" \"a\" {\n  x = 1\n",
                &["1,19-1,20 Unclosed configuration block"],
            ),
            (
                "variable \"a\" {\n  default = \"x\n}\n",
                &[
                    "2,15-3,1 Invalid multi-line string",
                    "3,2-4,1 Invalid multi-line string",
                    "2,15-3,1 Unterminated template string",
                ],
            ),
            ("a = [1, 2\n}\n", &["2,1-2,2 Missing item separator"]),
            ("a = 1 b = 2\n", &["1,7-1,8 Missing newline after argument"]),
            (
                // The second `"` opens a string, which the newline breaks.
                "a = \"${foo\"\n",
                &[
                    "1,12-2,1 Invalid multi-line string",
                    "1,6-1,8 Unclosed template interpolation sequence",
                ],
            ),
            (
                "@a = 1\n",
                &[
                    "1,1-1,2 Invalid character",
                    "1,1-1,2 Argument or block definition required",
                ],
            ),
            (
                "a = ~1\n",
                &["1,5-1,6 Unsupported operator", "1,5-1,6 Invalid expression"],
            ),
            ("a =", &["1,4-1,4 Missing expression"]),
            ("a = x.0.1\n", &["1,7-1,10 Invalid legacy index syntax"]),
            (
                "a = x[* 1]\n",
                &["1,10-1,11 Missing close bracket on splat index"],
            ),
            ("a = 1\na = 2\n", &["2,1-2,2 Attribute redefined"]),
            (
                "a = \"%{ if x }\"\n",
                &["1,15-1,16 Unexpected end of template"],
            ),
            ("a = \"\\q\"\n", &["1,6-1,8 Invalid escape sequence"]),
        ];
        for (src, want) in cases {
            assert_eq!(errors(src), *want, "{src:?}");
        }
    }

    #[test]
    fn accepts_valid_templates() {
        let src = "# c\nsource \"null\" \"a\" {\n  communicator = \"none\" // x\n  list = [for k, v in var.m : \"${k}=${v}\" if v != null]\n  obj = { for k, v in local.m : k => v... }\n  s = <<-EOT\n    %{ for x in y ~}\n    ${x}\n    %{ endfor ~}\n  EOT\n  t = a.*.b[0].c[*].d\n  u = f::g(1, [2]...)\n  v = !true ? -1 : 2 % 3\n  w = { a = 1, \"b\" : 2\n    (c) = 3 }\n}\nx { y = 1 }\n";
        assert_eq!(errors(src), Vec::<String>::new());
    }

    #[test]
    fn names_the_blocks_of_the_partial_body() {
        let src = "source \"null\" \"a\" {\n}\nbuild {\n  x = [\n}\n";
        let (_, blocks) = config_errors(src, "t.pkr.hcl");
        let headers: Vec<&str> = blocks.iter().map(|(h, _, _)| h.as_str()).collect();
        assert_eq!(headers, ["source \"null\" \"a\"", "build"]);
        // Recovery from the bad tuple ends at the end of the file, and so does the block.
        assert_eq!(blocks[1].2, src.len());
    }

    #[test]
    fn the_context_shows_from_its_first_line() {
        let (d, _) = config_errors("a = [1\n\n  2]\n", "t.pkr.hcl");
        assert_eq!(d[0].summary, "Missing item separator");
        assert_eq!(d[0].subject.as_ref().unwrap().line, 3);
        assert_eq!(d[0].snippet_start, Some(1));
    }

    #[test]
    fn never_panics_nor_overflows() {
        // Deep nesting of every kind.
        for unit in [
            "(",
            "[",
            "{",
            "a {\n",
            "x = \"${",
            "\"%{ if x }",
            "-",
            "!",
            "f(",
        ] {
            let src = format!("a = {}", unit.repeat(20_000));
            let _ = config_errors(&src, "t");
            let _ = config_errors(&unit.repeat(20_000), "t");
        }
        // Every prefix of a template using most of the syntax.
        let src = "source \"null\" \"a\" {\n  a = [for k, v in x : \"${k}%{ if v }y%{ else }\\u00e9%{ endif }\" if v]\n  b = <<EOT\n${a.*.b}\nEOT\n  c = { (d) = e[*].f, g : h ? i : j }\n}\n";
        for i in 0..=src.len() {
            if src.is_char_boundary(i) {
                let _ = config_errors(&src[..i], "t");
            }
        }
        // Pseudo-random text over HCL's punctuation, words and a few odd characters.
        let pieces = [
            "{", "}", "[", "]", "(", ")", "\"", "=", ",", ".", "$", "%", "${", "%{", "~}", "~",
            "\n", "\r\n", "\r", "#", "//", "/*", "*/", "*", ":", "?", "<<EOT\n", "EOT", "<<-X\n",
            "for", "in", "if", "else", "endif", "endfor", "=>", "...", "\\", "\\u", "'", "`", ";",
            "é", "\u{201c}", "\u{feff}", "\t", " ", "a", "1", "1.5e3", "-", "!", "&&",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut s = String::new();
            let n = (state % 40) as usize;
            for _ in 0..n {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let _ = config_errors(&s, "t");
        }
    }
}
