//! `scannerc.go`: from characters to tokens, with go-yaml's simple keys, indentation and
//! errors.

use crate::parser::Parser;
use crate::{Encoding, Error, ErrorKind, Mark, scalar_style};

/// `yaml_token_type_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum TokenType {
    #[default]
    NoToken,
    StreamStart,
    StreamEnd,
    VersionDirective,
    TagDirective,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

/// `yaml_token_t`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Token {
    pub typ: TokenType,
    pub start_mark: Mark,
    pub end_mark: Mark,
    pub encoding: Encoding,
    /// Alias, anchor or scalar value; tag or tag directive handle.
    pub value: Vec<u8>,
    /// Tag suffix.
    pub suffix: Vec<u8>,
    /// Tag directive prefix.
    pub prefix: Vec<u8>,
    pub style: u8,
    pub major: i8,
    pub minor: i8,
}

/// `yaml_simple_key_t`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

/// `width`: the length of the UTF-8 sequence a leading byte starts (0 if invalid).
fn width(b: u8) -> usize {
    if b & 0x80 == 0x00 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        0
    }
}

fn is_hex_byte(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn as_hex_byte(c: u8) -> u32 {
    match c {
        b'A'..=b'F' => (c - b'A' + 10) as u32,
        b'a'..=b'f' => (c - b'a' + 10) as u32,
        _ => c.wrapping_sub(b'0') as u32,
    }
}

impl Parser<'_> {
    // --- The buffer, as `yamlprivateh.go` reads it (past its end: NUL). ---

    #[inline]
    fn at(&self, k: usize) -> u8 {
        self.buffer.get(self.buffer_pos + k).copied().unwrap_or(0)
    }

    fn is_alpha(&self, k: usize) -> bool {
        let c = self.at(k);
        c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
    }

    fn is_digit(&self, k: usize) -> bool {
        self.at(k).is_ascii_digit()
    }

    fn is_hex(&self, k: usize) -> bool {
        is_hex_byte(self.at(k))
    }

    fn is_z(&self, k: usize) -> bool {
        self.at(k) == 0
    }

    /// go-yaml's `is_bom(b, i)` ignores `i`: it looks at the start of the working buffer,
    /// not at the current position.
    fn is_bom(&self) -> bool {
        self.buffer.starts_with(b"\xEF\xBB\xBF")
    }

    fn is_space(&self, k: usize) -> bool {
        self.at(k) == b' '
    }

    fn is_tab(&self, k: usize) -> bool {
        self.at(k) == b'\t'
    }

    fn is_blank(&self, k: usize) -> bool {
        matches!(self.at(k), b' ' | b'\t')
    }

    fn is_break(&self, k: usize) -> bool {
        let c = self.at(k);
        c == b'\r'
            || c == b'\n'
            || (c == 0xC2 && self.at(k + 1) == 0x85)
            || (c == 0xE2 && self.at(k + 1) == 0x80 && matches!(self.at(k + 2), 0xA8 | 0xA9))
    }

    fn is_crlf(&self, k: usize) -> bool {
        self.at(k) == b'\r' && self.at(k + 1) == b'\n'
    }

    fn is_breakz(&self, k: usize) -> bool {
        self.is_break(k) || self.is_z(k)
    }

    fn is_blankz(&self, k: usize) -> bool {
        self.is_blank(k) || self.is_breakz(k)
    }

    #[inline]
    fn cache(&mut self, length: usize) -> bool {
        self.unread >= length || self.update_buffer(length)
    }

    fn skip(&mut self) {
        self.mark.index += 1;
        self.mark.column += 1;
        self.unread = self.unread.saturating_sub(1);
        self.buffer_pos += width(self.at(0));
    }

    fn skip_line(&mut self) {
        if self.is_crlf(0) {
            self.mark.index += 2;
            self.mark.column = 0;
            self.mark.line += 1;
            self.unread = self.unread.saturating_sub(2);
            self.buffer_pos += 2;
        } else if self.is_break(0) {
            self.mark.index += 1;
            self.mark.column = 0;
            self.mark.line += 1;
            self.unread = self.unread.saturating_sub(1);
            self.buffer_pos += width(self.at(0));
        }
    }

    fn read(&mut self, s: &mut Vec<u8>) {
        // go-yaml panics on width 0, which its reader never lets through.
        let w = width(self.at(0)).max(1);
        for k in 0..w {
            s.push(self.at(k));
        }
        self.buffer_pos += w;
        self.mark.index += 1;
        self.mark.column += 1;
        self.unread = self.unread.saturating_sub(1);
    }

    fn read_line(&mut self, s: &mut Vec<u8>) {
        let (c0, c1, c2) = (self.at(0), self.at(1), self.at(2));
        if c0 == b'\r' && c1 == b'\n' {
            s.push(b'\n');
            self.buffer_pos += 2;
            self.mark.index += 1;
            self.unread = self.unread.saturating_sub(1);
        } else if c0 == b'\r' || c0 == b'\n' {
            s.push(b'\n');
            self.buffer_pos += 1;
        } else if c0 == 0xC2 && c1 == 0x85 {
            s.push(b'\n');
            self.buffer_pos += 2;
        } else if c0 == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9) {
            s.extend_from_slice(&[c0, c1, c2]);
            self.buffer_pos += 3;
        } else {
            return;
        }
        self.mark.index += 1;
        self.mark.column = 0;
        self.mark.line += 1;
        self.unread = self.unread.saturating_sub(1);
    }

    fn set_scanner_error(
        &mut self,
        context: &'static str,
        context_mark: Mark,
        problem: &'static str,
    ) -> bool {
        self.error = Some(Error {
            kind: ErrorKind::Scanner,
            problem,
            problem_offset: 0,
            problem_value: 0,
            problem_mark: self.mark,
            context,
            context_mark,
        });
        false
    }

    fn set_scanner_tag_error(
        &mut self,
        directive: bool,
        context_mark: Mark,
        problem: &'static str,
    ) -> bool {
        let context = if directive {
            "while parsing a %TAG directive"
        } else {
            "while parsing a tag"
        };
        self.set_scanner_error(context, context_mark, problem)
    }

    /// `yaml_insert_token`: at `pos` in the queue (from its head), or at its end if negative.
    fn insert_token(&mut self, pos: isize, token: Token) {
        if self.tokens_head > 0 && self.tokens_head == self.tokens.len() {
            self.tokens.clear();
            self.tokens_head = 0;
        } else if self.tokens_head > 64 {
            self.tokens.drain(..self.tokens_head);
            self.tokens_head = 0;
        }
        if pos < 0 {
            self.tokens.push(token);
        } else {
            let i = (self.tokens_head + pos as usize).min(self.tokens.len());
            self.tokens.insert(i, token);
        }
    }

    /// `yaml_parser_fetch_more_tokens`.
    pub(crate) fn fetch_more_tokens(&mut self) -> bool {
        loop {
            let mut need_more_tokens = false;
            if self.tokens_head == self.tokens.len() {
                need_more_tokens = true;
            } else {
                if !self.stale_simple_keys() {
                    return false;
                }
                // go-yaml looks at every simple key; the possible keys' token numbers grow
                // with their level and none is below `tokens_parsed`: the first tells.
                let parsed = self.tokens_parsed;
                if let Some(&i) = self.possible_keys.first()
                    && self
                        .simple_keys
                        .get(i)
                        .is_some_and(|k| k.token_number == parsed)
                {
                    need_more_tokens = true;
                }
            }
            if !need_more_tokens {
                break;
            }
            if !self.fetch_next_token() {
                return false;
            }
        }
        self.token_available = true;
        true
    }

    /// `yaml_parser_fetch_next_token`.
    fn fetch_next_token(&mut self) -> bool {
        if !self.cache(1) {
            return false;
        }
        if !self.stream_start_produced {
            return self.fetch_stream_start();
        }
        if !self.scan_to_next_token() {
            return false;
        }
        if !self.stale_simple_keys() {
            return false;
        }
        self.unroll_indent(self.mark.column as isize);
        if !self.cache(4) {
            return false;
        }
        if self.is_z(0) {
            return self.fetch_stream_end();
        }
        let c = self.at(0);
        let col0 = self.mark.column == 0;
        if col0 && c == b'%' {
            return self.fetch_directive();
        }
        if col0 && c == b'-' && self.at(1) == b'-' && self.at(2) == b'-' && self.is_blankz(3) {
            return self.fetch_document_indicator(TokenType::DocumentStart);
        }
        if col0 && c == b'.' && self.at(1) == b'.' && self.at(2) == b'.' && self.is_blankz(3) {
            return self.fetch_document_indicator(TokenType::DocumentEnd);
        }
        match c {
            b'[' => return self.fetch_flow_collection_start(TokenType::FlowSequenceStart),
            b'{' => return self.fetch_flow_collection_start(TokenType::FlowMappingStart),
            b']' => return self.fetch_flow_collection_end(TokenType::FlowSequenceEnd),
            b'}' => return self.fetch_flow_collection_end(TokenType::FlowMappingEnd),
            b',' => return self.fetch_flow_entry(),
            _ => {}
        }
        if c == b'-' && self.is_blankz(1) {
            return self.fetch_block_entry();
        }
        if c == b'?' && (self.flow_level > 0 || self.is_blankz(1)) {
            return self.fetch_key();
        }
        if c == b':' && (self.flow_level > 0 || self.is_blankz(1)) {
            return self.fetch_value();
        }
        match c {
            b'*' => return self.fetch_anchor(TokenType::Alias),
            b'&' => return self.fetch_anchor(TokenType::Anchor),
            b'!' => return self.fetch_tag(),
            b'|' if self.flow_level == 0 => return self.fetch_block_scalar(true),
            b'>' if self.flow_level == 0 => return self.fetch_block_scalar(false),
            b'\'' => return self.fetch_flow_scalar(true),
            b'"' => return self.fetch_flow_scalar(false),
            _ => {}
        }
        if !(self.is_blankz(0)
            || matches!(
                c,
                b'-' | b'?'
                    | b':'
                    | b','
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'#'
                    | b'&'
                    | b'*'
                    | b'!'
                    | b'|'
                    | b'>'
                    | b'\''
                    | b'"'
                    | b'%'
                    | b'@'
                    | b'`'
            ))
            || (c == b'-' && !self.is_blank(1))
            || (self.flow_level == 0 && (c == b'?' || c == b':') && !self.is_blankz(1))
        {
            return self.fetch_plain_scalar();
        }
        let m = self.mark;
        self.set_scanner_error(
            "while scanning for the next token",
            m,
            "found character that cannot start any token",
        )
    }

    /// Whether the simple key at level `i` is possible (kept in `possible_keys` too).
    fn set_key_possible(&mut self, i: usize, possible: bool) {
        if let Some(k) = self.simple_keys.get_mut(i) {
            k.possible = possible;
            if possible {
                self.possible_keys.insert(i);
            } else {
                self.possible_keys.remove(&i);
            }
        }
    }

    /// `yaml_parser_stale_simple_keys`. go-yaml checks every level's key in order; a key
    /// of a deeper level is always further in the stream, so the stale ones come first and
    /// the check stops at the first that is not (go-yaml's result, in linear time).
    fn stale_simple_keys(&mut self) -> bool {
        let (line, index) = (self.mark.line, self.mark.index);
        while let Some(&i) = self.possible_keys.first() {
            let Some(&k) = self.simple_keys.get(i) else {
                self.possible_keys.remove(&i);
                continue;
            };
            if !(k.mark.line < line || k.mark.index + 1024 < index) {
                break;
            }
            if k.required {
                return self.set_scanner_error(
                    "while scanning a simple key",
                    k.mark,
                    "could not find expected ':'",
                );
            }
            self.set_key_possible(i, false);
        }
        true
    }

    /// `yaml_parser_save_simple_key`.
    fn save_simple_key(&mut self) -> bool {
        let required = self.flow_level == 0 && self.indent == self.mark.column as isize;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens_parsed + (self.tokens.len() - self.tokens_head),
                mark: self.mark,
            };
            if !self.remove_simple_key() {
                return false;
            }
            if let Some(last) = self.simple_keys.last_mut() {
                *last = key;
                let i = self.simple_keys.len() - 1;
                self.set_key_possible(i, true);
            }
        }
        true
    }

    /// `yaml_parser_remove_simple_key`.
    fn remove_simple_key(&mut self) -> bool {
        let Some(&k) = self.simple_keys.last() else {
            return true;
        };
        if k.possible && k.required {
            return self.set_scanner_error(
                "while scanning a simple key",
                k.mark,
                "could not find expected ':'",
            );
        }
        self.set_key_possible(self.simple_keys.len() - 1, false);
        true
    }

    fn increase_flow_level(&mut self) {
        self.simple_keys.push(SimpleKey::default());
        self.flow_level += 1;
    }

    fn decrease_flow_level(&mut self) {
        if self.flow_level > 0 {
            self.flow_level -= 1;
            self.set_key_possible(self.simple_keys.len().saturating_sub(1), false);
            self.simple_keys.pop();
        }
    }

    /// `yaml_parser_roll_indent`: `number` is a token number, or -1 for the queue's end.
    fn roll_indent(&mut self, column: usize, number: isize, typ: TokenType, mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        if self.indent < column as isize {
            self.indents.push(self.indent);
            self.indent = column as isize;
            let token = Token {
                typ,
                start_mark: mark,
                end_mark: mark,
                ..Token::default()
            };
            let mut number = number;
            if number > -1 {
                number -= self.tokens_parsed as isize;
            }
            self.insert_token(number, token);
        }
    }

    /// `yaml_parser_unroll_indent`.
    fn unroll_indent(&mut self, column: isize) {
        if self.flow_level > 0 {
            return;
        }
        while self.indent > column {
            let token = Token {
                typ: TokenType::BlockEnd,
                start_mark: self.mark,
                end_mark: self.mark,
                ..Token::default()
            };
            self.insert_token(-1, token);
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn fetch_stream_start(&mut self) -> bool {
        self.indent = -1;
        self.simple_keys.push(SimpleKey::default());
        self.simple_key_allowed = true;
        self.stream_start_produced = true;
        let token = Token {
            typ: TokenType::StreamStart,
            start_mark: self.mark,
            end_mark: self.mark,
            encoding: self.encoding,
            ..Token::default()
        };
        self.insert_token(-1, token);
        true
    }

    fn fetch_stream_end(&mut self) -> bool {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        self.unroll_indent(-1);
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let token = Token {
            typ: TokenType::StreamEnd,
            start_mark: self.mark,
            end_mark: self.mark,
            ..Token::default()
        };
        self.insert_token(-1, token);
        true
    }

    fn fetch_directive(&mut self) -> bool {
        self.unroll_indent(-1);
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let mut token = Token::default();
        if !self.scan_directive(&mut token) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    fn fetch_document_indicator(&mut self, typ: TokenType) -> bool {
        self.unroll_indent(-1);
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let start_mark = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_flow_collection_start(&mut self, typ: TokenType) -> bool {
        if !self.save_simple_key() {
            return false;
        }
        self.increase_flow_level();
        self.simple_key_allowed = true;
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_flow_collection_end(&mut self, typ: TokenType) -> bool {
        if !self.remove_simple_key() {
            return false;
        }
        self.decrease_flow_level();
        self.simple_key_allowed = false;
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_flow_entry(&mut self) -> bool {
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = true;
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ: TokenType::FlowEntry,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_block_entry(&mut self) -> bool {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                let m = self.mark;
                return self.set_scanner_error(
                    "",
                    m,
                    "block sequence entries are not allowed in this context",
                );
            }
            let m = self.mark;
            self.roll_indent(m.column, -1, TokenType::BlockSequenceStart, m);
        }
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = true;
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ: TokenType::BlockEntry,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_key(&mut self) -> bool {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                let m = self.mark;
                return self.set_scanner_error(
                    "",
                    m,
                    "mapping keys are not allowed in this context",
                );
            }
            let m = self.mark;
            self.roll_indent(m.column, -1, TokenType::BlockMappingStart, m);
        }
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = self.flow_level == 0;
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ: TokenType::Key,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_value(&mut self) -> bool {
        let key = self.simple_keys.last().copied().unwrap_or_default();
        if key.possible {
            let token = Token {
                typ: TokenType::Key,
                start_mark: key.mark,
                end_mark: key.mark,
                ..Token::default()
            };
            self.insert_token(
                key.token_number as isize - self.tokens_parsed as isize,
                token,
            );
            self.roll_indent(
                key.mark.column,
                key.token_number as isize,
                TokenType::BlockMappingStart,
                key.mark,
            );
            self.set_key_possible(self.simple_keys.len().saturating_sub(1), false);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    let m = self.mark;
                    return self.set_scanner_error(
                        "",
                        m,
                        "mapping values are not allowed in this context",
                    );
                }
                let m = self.mark;
                self.roll_indent(m.column, -1, TokenType::BlockMappingStart, m);
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        let start_mark = self.mark;
        self.skip();
        let end_mark = self.mark;
        self.insert_token(
            -1,
            Token {
                typ: TokenType::Value,
                start_mark,
                end_mark,
                ..Token::default()
            },
        );
        true
    }

    fn fetch_anchor(&mut self, typ: TokenType) -> bool {
        if !self.save_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let mut token = Token::default();
        if !self.scan_anchor(&mut token, typ) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    fn fetch_tag(&mut self) -> bool {
        if !self.save_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let mut token = Token::default();
        if !self.scan_tag(&mut token) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    fn fetch_block_scalar(&mut self, literal: bool) -> bool {
        if !self.remove_simple_key() {
            return false;
        }
        self.simple_key_allowed = true;
        let mut token = Token::default();
        if !self.scan_block_scalar(&mut token, literal) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> bool {
        if !self.save_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let mut token = Token::default();
        if !self.scan_flow_scalar(&mut token, single) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    fn fetch_plain_scalar(&mut self) -> bool {
        if !self.save_simple_key() {
            return false;
        }
        self.simple_key_allowed = false;
        let mut token = Token::default();
        if !self.scan_plain_scalar(&mut token) {
            return false;
        }
        self.insert_token(-1, token);
        true
    }

    /// `yaml_parser_scan_to_next_token`.
    fn scan_to_next_token(&mut self) -> bool {
        loop {
            if !self.cache(1) {
                return false;
            }
            if self.mark.column == 0 && self.is_bom() {
                self.skip();
            }
            if !self.cache(1) {
                return false;
            }
            while self.at(0) == b' '
                || ((self.flow_level > 0 || !self.simple_key_allowed) && self.at(0) == b'\t')
            {
                self.skip();
                if !self.cache(1) {
                    return false;
                }
            }
            if self.at(0) == b'#' {
                while !self.is_breakz(0) {
                    self.skip();
                    if !self.cache(1) {
                        return false;
                    }
                }
            }
            if self.is_break(0) {
                if !self.cache(2) {
                    return false;
                }
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
        true
    }

    /// Blanks, then a comment, to the end of the line.
    fn skip_blanks_and_comment(&mut self) -> bool {
        while self.is_blank(0) {
            self.skip();
            if !self.cache(1) {
                return false;
            }
        }
        if self.at(0) == b'#' {
            while !self.is_breakz(0) {
                self.skip();
                if !self.cache(1) {
                    return false;
                }
            }
        }
        true
    }

    /// `yaml_parser_scan_directive`.
    fn scan_directive(&mut self, token: &mut Token) -> bool {
        let start_mark = self.mark;
        self.skip();
        let mut name = Vec::new();
        if !self.scan_directive_name(start_mark, &mut name) {
            return false;
        }
        if name == b"YAML" {
            let (mut major, mut minor) = (0i8, 0i8);
            if !self.scan_version_directive_value(start_mark, &mut major, &mut minor) {
                return false;
            }
            *token = Token {
                typ: TokenType::VersionDirective,
                start_mark,
                end_mark: self.mark,
                major,
                minor,
                ..Token::default()
            };
        } else if name == b"TAG" {
            let (mut handle, mut prefix) = (Vec::new(), Vec::new());
            if !self.scan_tag_directive_value(start_mark, &mut handle, &mut prefix) {
                return false;
            }
            *token = Token {
                typ: TokenType::TagDirective,
                start_mark,
                end_mark: self.mark,
                value: handle,
                prefix,
                ..Token::default()
            };
        } else {
            return self.set_scanner_error(
                "while scanning a directive",
                start_mark,
                "found unknown directive name",
            );
        }
        if !self.cache(1) {
            return false;
        }
        if !self.skip_blanks_and_comment() {
            return false;
        }
        if !self.is_breakz(0) {
            return self.set_scanner_error(
                "while scanning a directive",
                start_mark,
                "did not find expected comment or line break",
            );
        }
        if self.is_break(0) {
            if !self.cache(2) {
                return false;
            }
            self.skip_line();
        }
        true
    }

    fn scan_directive_name(&mut self, start_mark: Mark, name: &mut Vec<u8>) -> bool {
        if !self.cache(1) {
            return false;
        }
        let mut s = Vec::new();
        while self.is_alpha(0) {
            self.read(&mut s);
            if !self.cache(1) {
                return false;
            }
        }
        if s.is_empty() {
            return self.set_scanner_error(
                "while scanning a directive",
                start_mark,
                "could not find expected directive name",
            );
        }
        if !self.is_blankz(0) {
            return self.set_scanner_error(
                "while scanning a directive",
                start_mark,
                "found unexpected non-alphabetical character",
            );
        }
        *name = s;
        true
    }

    fn scan_version_directive_value(
        &mut self,
        start_mark: Mark,
        major: &mut i8,
        minor: &mut i8,
    ) -> bool {
        if !self.cache(1) {
            return false;
        }
        while self.is_blank(0) {
            self.skip();
            if !self.cache(1) {
                return false;
            }
        }
        if !self.scan_version_directive_number(start_mark, major) {
            return false;
        }
        if self.at(0) != b'.' {
            return self.set_scanner_error(
                "while scanning a %YAML directive",
                start_mark,
                "did not find expected digit or '.' character",
            );
        }
        self.skip();
        self.scan_version_directive_number(start_mark, minor)
    }

    fn scan_version_directive_number(&mut self, start_mark: Mark, number: &mut i8) -> bool {
        if !self.cache(1) {
            return false;
        }
        let (mut value, mut length) = (0i8, 0);
        while self.is_digit(0) {
            length += 1;
            if length > 2 {
                return self.set_scanner_error(
                    "while scanning a %YAML directive",
                    start_mark,
                    "found extremely long version number",
                );
            }
            value = value
                .wrapping_mul(10)
                .wrapping_add((self.at(0) - b'0') as i8);
            self.skip();
            if !self.cache(1) {
                return false;
            }
        }
        if length == 0 {
            return self.set_scanner_error(
                "while scanning a %YAML directive",
                start_mark,
                "did not find expected version number",
            );
        }
        *number = value;
        true
    }

    fn scan_tag_directive_value(
        &mut self,
        start_mark: Mark,
        handle: &mut Vec<u8>,
        prefix: &mut Vec<u8>,
    ) -> bool {
        if !self.cache(1) {
            return false;
        }
        while self.is_blank(0) {
            self.skip();
            if !self.cache(1) {
                return false;
            }
        }
        let mut handle_value = Vec::new();
        if !self.scan_tag_handle(true, start_mark, &mut handle_value) {
            return false;
        }
        if !self.cache(1) {
            return false;
        }
        if !self.is_blank(0) {
            return self.set_scanner_error(
                "while scanning a %TAG directive",
                start_mark,
                "did not find expected whitespace",
            );
        }
        while self.is_blank(0) {
            self.skip();
            if !self.cache(1) {
                return false;
            }
        }
        let mut prefix_value = Vec::new();
        if !self.scan_tag_uri(true, &[], start_mark, &mut prefix_value) {
            return false;
        }
        if !self.cache(1) {
            return false;
        }
        if !self.is_blankz(0) {
            return self.set_scanner_error(
                "while scanning a %TAG directive",
                start_mark,
                "did not find expected whitespace or line break",
            );
        }
        *handle = handle_value;
        *prefix = prefix_value;
        true
    }

    fn scan_anchor(&mut self, token: &mut Token, typ: TokenType) -> bool {
        let mut s = Vec::new();
        let start_mark = self.mark;
        self.skip();
        if !self.cache(1) {
            return false;
        }
        while self.is_alpha(0) {
            self.read(&mut s);
            if !self.cache(1) {
                return false;
            }
        }
        let end_mark = self.mark;
        if s.is_empty()
            || !(self.is_blankz(0)
                || matches!(
                    self.at(0),
                    b'?' | b':' | b',' | b']' | b'}' | b'%' | b'@' | b'`'
                ))
        {
            let context = if typ == TokenType::Anchor {
                "while scanning an anchor"
            } else {
                "while scanning an alias"
            };
            return self.set_scanner_error(
                context,
                start_mark,
                "did not find expected alphabetic or numeric character",
            );
        }
        *token = Token {
            typ,
            start_mark,
            end_mark,
            value: s,
            ..Token::default()
        };
        true
    }

    fn scan_tag(&mut self, token: &mut Token) -> bool {
        let mut handle = Vec::new();
        let mut suffix = Vec::new();
        let start_mark = self.mark;
        if !self.cache(2) {
            return false;
        }
        if self.at(1) == b'<' {
            self.skip();
            self.skip();
            if !self.scan_tag_uri(false, &[], start_mark, &mut suffix) {
                return false;
            }
            if self.at(0) != b'>' {
                return self.set_scanner_error(
                    "while scanning a tag",
                    start_mark,
                    "did not find the expected '>'",
                );
            }
            self.skip();
        } else {
            if !self.scan_tag_handle(false, start_mark, &mut handle) {
                return false;
            }
            if handle.first() == Some(&b'!') && handle.len() > 1 && handle.last() == Some(&b'!') {
                if !self.scan_tag_uri(false, &[], start_mark, &mut suffix) {
                    return false;
                }
            } else {
                let head = std::mem::take(&mut handle);
                if !self.scan_tag_uri(false, &head, start_mark, &mut suffix) {
                    return false;
                }
                handle = vec![b'!'];
                if suffix.is_empty() {
                    std::mem::swap(&mut handle, &mut suffix);
                }
            }
        }
        if !self.cache(1) {
            return false;
        }
        if !self.is_blankz(0) {
            return self.set_scanner_error(
                "while scanning a tag",
                start_mark,
                "did not find expected whitespace or line break",
            );
        }
        *token = Token {
            typ: TokenType::Tag,
            start_mark,
            end_mark: self.mark,
            value: handle,
            suffix,
            ..Token::default()
        };
        true
    }

    fn scan_tag_handle(&mut self, directive: bool, start_mark: Mark, handle: &mut Vec<u8>) -> bool {
        if !self.cache(1) {
            return false;
        }
        if self.at(0) != b'!' {
            return self.set_scanner_tag_error(directive, start_mark, "did not find expected '!'");
        }
        let mut s = Vec::new();
        self.read(&mut s);
        if !self.cache(1) {
            return false;
        }
        while self.is_alpha(0) {
            self.read(&mut s);
            if !self.cache(1) {
                return false;
            }
        }
        if self.at(0) == b'!' {
            self.read(&mut s);
        } else if directive && s != b"!" {
            return self.set_scanner_tag_error(directive, start_mark, "did not find expected '!'");
        }
        *handle = s;
        true
    }

    fn scan_tag_uri(
        &mut self,
        directive: bool,
        head: &[u8],
        start_mark: Mark,
        uri: &mut Vec<u8>,
    ) -> bool {
        let mut s = Vec::new();
        let mut has_tag = !head.is_empty();
        if head.len() > 1 {
            s.extend_from_slice(&head[1..]);
        }
        if !self.cache(1) {
            return false;
        }
        while self.is_alpha(0)
            || matches!(
                self.at(0),
                b';' | b'/'
                    | b'?'
                    | b':'
                    | b'@'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b'.'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'%'
            )
        {
            if self.at(0) == b'%' {
                if !self.scan_uri_escapes(directive, start_mark, &mut s) {
                    return false;
                }
            } else {
                self.read(&mut s);
            }
            if !self.cache(1) {
                return false;
            }
            has_tag = true;
        }
        if !has_tag {
            return self.set_scanner_tag_error(
                directive,
                start_mark,
                "did not find expected tag URI",
            );
        }
        *uri = s;
        true
    }

    fn scan_uri_escapes(&mut self, directive: bool, start_mark: Mark, s: &mut Vec<u8>) -> bool {
        let mut w = 1024usize;
        while w > 0 {
            if !self.cache(3) {
                return false;
            }
            if !(self.at(0) == b'%' && self.is_hex(1) && self.is_hex(2)) {
                return self.set_scanner_tag_error(
                    directive,
                    start_mark,
                    "did not find URI escaped octet",
                );
            }
            let octet = ((as_hex_byte(self.at(1)) << 4) + as_hex_byte(self.at(2))) as u8;
            if w == 1024 {
                w = width(octet);
                if w == 0 {
                    return self.set_scanner_tag_error(
                        directive,
                        start_mark,
                        "found an incorrect leading UTF-8 octet",
                    );
                }
            } else if octet & 0xC0 != 0x80 {
                return self.set_scanner_tag_error(
                    directive,
                    start_mark,
                    "found an incorrect trailing UTF-8 octet",
                );
            }
            s.push(octet);
            self.skip();
            self.skip();
            self.skip();
            w -= 1;
        }
        true
    }

    fn scan_block_scalar(&mut self, token: &mut Token, literal: bool) -> bool {
        let start_mark = self.mark;
        self.skip();
        if !self.cache(1) {
            return false;
        }
        let mut chomping = 0i32;
        let mut increment = 0isize;
        if self.at(0) == b'+' || self.at(0) == b'-' {
            chomping = if self.at(0) == b'+' { 1 } else { -1 };
            self.skip();
            if !self.cache(1) {
                return false;
            }
            if self.is_digit(0) {
                if self.at(0) == b'0' {
                    return self.set_scanner_error(
                        "while scanning a block scalar",
                        start_mark,
                        "found an indentation indicator equal to 0",
                    );
                }
                increment = (self.at(0) - b'0') as isize;
                self.skip();
            }
        } else if self.is_digit(0) {
            if self.at(0) == b'0' {
                return self.set_scanner_error(
                    "while scanning a block scalar",
                    start_mark,
                    "found an indentation indicator equal to 0",
                );
            }
            increment = (self.at(0) - b'0') as isize;
            self.skip();
            if !self.cache(1) {
                return false;
            }
            if self.at(0) == b'+' || self.at(0) == b'-' {
                chomping = if self.at(0) == b'+' { 1 } else { -1 };
                self.skip();
            }
        }
        if !self.cache(1) {
            return false;
        }
        if !self.skip_blanks_and_comment() {
            return false;
        }
        if !self.is_breakz(0) {
            return self.set_scanner_error(
                "while scanning a block scalar",
                start_mark,
                "did not find expected comment or line break",
            );
        }
        if self.is_break(0) {
            if !self.cache(2) {
                return false;
            }
            self.skip_line();
        }
        let mut end_mark = self.mark;
        let mut indent: isize = 0;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent + increment
            } else {
                increment
            };
        }
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        if !self.scan_block_scalar_breaks(
            &mut indent,
            &mut trailing_breaks,
            start_mark,
            &mut end_mark,
        ) {
            return false;
        }
        if !self.cache(1) {
            return false;
        }
        let mut leading_blank = false;
        while self.mark.column as isize == indent && !self.is_z(0) {
            let trailing_blank = self.is_blank(0);
            if !literal
                && !leading_blank
                && !trailing_blank
                && leading_break.first() == Some(&b'\n')
            {
                if trailing_breaks.is_empty() {
                    s.push(b' ');
                }
            } else {
                s.extend_from_slice(&leading_break);
            }
            leading_break.clear();
            s.extend_from_slice(&trailing_breaks);
            trailing_breaks.clear();
            leading_blank = self.is_blank(0);
            while !self.is_breakz(0) {
                self.read(&mut s);
                if !self.cache(1) {
                    return false;
                }
            }
            if !self.cache(2) {
                return false;
            }
            self.read_line(&mut leading_break);
            if !self.scan_block_scalar_breaks(
                &mut indent,
                &mut trailing_breaks,
                start_mark,
                &mut end_mark,
            ) {
                return false;
            }
        }
        if chomping != -1 {
            s.extend_from_slice(&leading_break);
        }
        if chomping == 1 {
            s.extend_from_slice(&trailing_breaks);
        }
        *token = Token {
            typ: TokenType::Scalar,
            start_mark,
            end_mark,
            value: s,
            style: if literal {
                scalar_style::LITERAL
            } else {
                scalar_style::FOLDED
            },
            ..Token::default()
        };
        true
    }

    fn scan_block_scalar_breaks(
        &mut self,
        indent: &mut isize,
        breaks: &mut Vec<u8>,
        start_mark: Mark,
        end_mark: &mut Mark,
    ) -> bool {
        *end_mark = self.mark;
        let mut max_indent: isize = 0;
        loop {
            if !self.cache(1) {
                return false;
            }
            while (*indent == 0 || (self.mark.column as isize) < *indent) && self.is_space(0) {
                self.skip();
                if !self.cache(1) {
                    return false;
                }
            }
            if self.mark.column as isize > max_indent {
                max_indent = self.mark.column as isize;
            }
            if (*indent == 0 || (self.mark.column as isize) < *indent) && self.is_tab(0) {
                return self.set_scanner_error(
                    "while scanning a block scalar",
                    start_mark,
                    "found a tab character where an indentation space is expected",
                );
            }
            if !self.is_break(0) {
                break;
            }
            if !self.cache(2) {
                return false;
            }
            self.read_line(breaks);
            *end_mark = self.mark;
        }
        if *indent == 0 {
            *indent = max_indent;
            if *indent < self.indent + 1 {
                *indent = self.indent + 1;
            }
            if *indent < 1 {
                *indent = 1;
            }
        }
        true
    }

    fn scan_flow_scalar(&mut self, token: &mut Token, single: bool) -> bool {
        let start_mark = self.mark;
        self.skip();
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        let mut whitespaces = Vec::new();
        loop {
            if !self.cache(4) {
                return false;
            }
            if self.mark.column == 0
                && ((self.at(0) == b'-' && self.at(1) == b'-' && self.at(2) == b'-')
                    || (self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz(3)
            {
                return self.set_scanner_error(
                    "while scanning a quoted scalar",
                    start_mark,
                    "found unexpected document indicator",
                );
            }
            if self.is_z(0) {
                return self.set_scanner_error(
                    "while scanning a quoted scalar",
                    start_mark,
                    "found unexpected end of stream",
                );
            }
            let mut leading_blanks = false;
            while !self.is_blankz(0) {
                let c = self.at(0);
                if single && c == b'\'' && self.at(1) == b'\'' {
                    s.push(b'\'');
                    self.skip();
                    self.skip();
                } else if (single && c == b'\'') || (!single && c == b'"') {
                    break;
                } else if !single && c == b'\\' && self.is_break(1) {
                    if !self.cache(3) {
                        return false;
                    }
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == b'\\' {
                    let mut code_length = 0usize;
                    match self.at(1) {
                        b'0' => s.push(0),
                        b'a' => s.push(0x07),
                        b'b' => s.push(0x08),
                        b't' | b'\t' => s.push(0x09),
                        b'n' => s.push(0x0A),
                        b'v' => s.push(0x0B),
                        b'f' => s.push(0x0C),
                        b'r' => s.push(0x0D),
                        b'e' => s.push(0x1B),
                        b' ' => s.push(0x20),
                        b'"' => s.push(b'"'),
                        b'\'' => s.push(b'\''),
                        b'\\' => s.push(b'\\'),
                        b'N' => s.extend_from_slice(&[0xC2, 0x85]),
                        b'_' => s.extend_from_slice(&[0xC2, 0xA0]),
                        b'L' => s.extend_from_slice(&[0xE2, 0x80, 0xA8]),
                        b'P' => s.extend_from_slice(&[0xE2, 0x80, 0xA9]),
                        b'x' => code_length = 2,
                        b'u' => code_length = 4,
                        b'U' => code_length = 8,
                        _ => {
                            return self.set_scanner_error(
                                "while parsing a quoted scalar",
                                start_mark,
                                "found unknown escape character",
                            );
                        }
                    }
                    self.skip();
                    self.skip();
                    if code_length > 0 {
                        if !self.cache(code_length) {
                            return false;
                        }
                        let mut value: u64 = 0;
                        for k in 0..code_length {
                            if !self.is_hex(k) {
                                return self.set_scanner_error(
                                    "while parsing a quoted scalar",
                                    start_mark,
                                    "did not find expected hexdecimal number",
                                );
                            }
                            value = (value << 4) + as_hex_byte(self.at(k)) as u64;
                        }
                        if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
                            return self.set_scanner_error(
                                "while parsing a quoted scalar",
                                start_mark,
                                "found invalid Unicode character escape code",
                            );
                        }
                        let v = value as u32;
                        if v <= 0x7F {
                            s.push(v as u8);
                        } else if v <= 0x7FF {
                            s.push((0xC0 + (v >> 6)) as u8);
                            s.push((0x80 + (v & 0x3F)) as u8);
                        } else if v <= 0xFFFF {
                            s.push((0xE0 + (v >> 12)) as u8);
                            s.push((0x80 + ((v >> 6) & 0x3F)) as u8);
                            s.push((0x80 + (v & 0x3F)) as u8);
                        } else {
                            s.push((0xF0 + (v >> 18)) as u8);
                            s.push((0x80 + ((v >> 12) & 0x3F)) as u8);
                            s.push((0x80 + ((v >> 6) & 0x3F)) as u8);
                            s.push((0x80 + (v & 0x3F)) as u8);
                        }
                        for _ in 0..code_length {
                            self.skip();
                        }
                    }
                } else {
                    self.read(&mut s);
                }
                if !self.cache(2) {
                    return false;
                }
            }
            if !self.cache(1) {
                return false;
            }
            if single {
                if self.at(0) == b'\'' {
                    break;
                }
            } else if self.at(0) == b'"' {
                break;
            }
            while self.is_blank(0) || self.is_break(0) {
                if self.is_blank(0) {
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else {
                    if !self.cache(2) {
                        return false;
                    }
                    if !leading_blanks {
                        whitespaces.clear();
                        self.read_line(&mut leading_break);
                        leading_blanks = true;
                    } else {
                        self.read_line(&mut trailing_breaks);
                    }
                }
                if !self.cache(1) {
                    return false;
                }
            }
            if leading_blanks {
                if leading_break.first() == Some(&b'\n') {
                    if trailing_breaks.is_empty() {
                        s.push(b' ');
                    } else {
                        s.extend_from_slice(&trailing_breaks);
                    }
                } else {
                    s.extend_from_slice(&leading_break);
                    s.extend_from_slice(&trailing_breaks);
                }
                trailing_breaks.clear();
                leading_break.clear();
            } else {
                s.extend_from_slice(&whitespaces);
                whitespaces.clear();
            }
        }
        self.skip();
        *token = Token {
            typ: TokenType::Scalar,
            start_mark,
            end_mark: self.mark,
            value: s,
            style: if single {
                scalar_style::SINGLE_QUOTED
            } else {
                scalar_style::DOUBLE_QUOTED
            },
            ..Token::default()
        };
        true
    }

    fn scan_plain_scalar(&mut self, token: &mut Token) -> bool {
        let mut s = Vec::new();
        let mut leading_break = Vec::new();
        let mut trailing_breaks = Vec::new();
        let mut whitespaces = Vec::new();
        let mut leading_blanks = false;
        let indent = self.indent + 1;
        let start_mark = self.mark;
        let mut end_mark = self.mark;
        loop {
            if !self.cache(4) {
                return false;
            }
            if self.mark.column == 0
                && ((self.at(0) == b'-' && self.at(1) == b'-' && self.at(2) == b'-')
                    || (self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
                && self.is_blankz(3)
            {
                break;
            }
            if self.at(0) == b'#' {
                break;
            }
            while !self.is_blankz(0) {
                let c = self.at(0);
                if (c == b':' && self.is_blankz(1))
                    || (self.flow_level > 0 && matches!(c, b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                {
                    break;
                }
                if leading_blanks || !whitespaces.is_empty() {
                    if leading_blanks {
                        if leading_break.first() == Some(&b'\n') {
                            if trailing_breaks.is_empty() {
                                s.push(b' ');
                            } else {
                                s.extend_from_slice(&trailing_breaks);
                            }
                        } else {
                            s.extend_from_slice(&leading_break);
                            s.extend_from_slice(&trailing_breaks);
                        }
                        trailing_breaks.clear();
                        leading_break.clear();
                        leading_blanks = false;
                    } else {
                        s.extend_from_slice(&whitespaces);
                        whitespaces.clear();
                    }
                }
                self.read(&mut s);
                end_mark = self.mark;
                if !self.cache(2) {
                    return false;
                }
            }
            if !(self.is_blank(0) || self.is_break(0)) {
                break;
            }
            if !self.cache(1) {
                return false;
            }
            while self.is_blank(0) || self.is_break(0) {
                if self.is_blank(0) {
                    if leading_blanks && (self.mark.column as isize) < indent && self.is_tab(0) {
                        return self.set_scanner_error(
                            "while scanning a plain scalar",
                            start_mark,
                            "found a tab character that violates indentation",
                        );
                    }
                    if !leading_blanks {
                        self.read(&mut whitespaces);
                    } else {
                        self.skip();
                    }
                } else {
                    if !self.cache(2) {
                        return false;
                    }
                    if !leading_blanks {
                        whitespaces.clear();
                        self.read_line(&mut leading_break);
                        leading_blanks = true;
                    } else {
                        self.read_line(&mut trailing_breaks);
                    }
                }
                if !self.cache(1) {
                    return false;
                }
            }
            if self.flow_level == 0 && (self.mark.column as isize) < indent {
                break;
            }
        }
        *token = Token {
            typ: TokenType::Scalar,
            start_mark,
            end_mark,
            value: s,
            style: scalar_style::PLAIN,
            ..Token::default()
        };
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        true
    }
}
