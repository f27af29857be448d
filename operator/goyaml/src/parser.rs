//! `parserc.go`: the parser's state machine, from tokens to events.

use std::collections::BTreeSet;

use crate::scanner::{SimpleKey, Token, TokenType};
use crate::{
    Encoding, Error, ErrorKind, Event, EventType, Mark, TagDirective, VersionDirective,
    collection_style, scalar_style,
};

/// `yaml_parser_state_t` (go-yaml, like libyaml, never enters two of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) enum State {
    StreamStart,
    ImplicitDocumentStart,
    DocumentStart,
    DocumentContent,
    DocumentEnd,
    BlockNode,
    BlockNodeOrIndentlessSequence,
    FlowNode,
    BlockSequenceFirstEntry,
    BlockSequenceEntry,
    IndentlessSequenceEntry,
    BlockMappingFirstKey,
    BlockMappingKey,
    BlockMappingValue,
    FlowSequenceFirstEntry,
    FlowSequenceEntry,
    FlowSequenceEntryMappingKey,
    FlowSequenceEntryMappingValue,
    FlowSequenceEntryMappingEnd,
    FlowMappingFirstKey,
    FlowMappingKey,
    FlowMappingValue,
    FlowMappingEmptyValue,
    End,
}

/// A YAML parser over a byte string (`yaml_parser_t`): call [`Parser::parse`] for each event.
pub struct Parser<'a> {
    pub(crate) error: Option<Error>,

    // Reader.
    pub(crate) input: &'a [u8],
    pub(crate) input_pos: usize,
    pub(crate) eof: bool,
    pub(crate) buffer: Vec<u8>,
    pub(crate) buffer_pos: usize,
    pub(crate) unread: usize,
    pub(crate) raw_buffer: Vec<u8>,
    pub(crate) raw_buffer_pos: usize,
    pub(crate) encoding: Encoding,
    pub(crate) offset: usize,
    pub(crate) mark: Mark,

    // Scanner.
    pub(crate) stream_start_produced: bool,
    pub(crate) stream_end_produced: bool,
    pub(crate) flow_level: usize,
    pub(crate) tokens: Vec<Token>,
    pub(crate) tokens_head: usize,
    pub(crate) tokens_parsed: usize,
    pub(crate) token_available: bool,
    pub(crate) indent: isize,
    pub(crate) indents: Vec<isize>,
    pub(crate) simple_key_allowed: bool,
    pub(crate) simple_keys: Vec<SimpleKey>,
    /// The levels whose simple key is possible.
    pub(crate) possible_keys: BTreeSet<usize>,

    // Parser.
    state: State,
    states: Vec<State>,
    marks: Vec<Mark>,
    tag_directives: Vec<TagDirective>,
}

impl<'a> Parser<'a> {
    /// `yaml_parser_initialize` and `yaml_parser_set_input_string`.
    pub fn new(input: &'a [u8]) -> Parser<'a> {
        Parser {
            error: None,
            input,
            input_pos: 0,
            eof: false,
            buffer: Vec::with_capacity(1536),
            buffer_pos: 0,
            unread: 0,
            raw_buffer: Vec::with_capacity(512),
            raw_buffer_pos: 0,
            encoding: Encoding::Any,
            offset: 0,
            mark: Mark::default(),
            stream_start_produced: false,
            stream_end_produced: false,
            flow_level: 0,
            tokens: Vec::new(),
            tokens_head: 0,
            tokens_parsed: 0,
            token_available: false,
            indent: 0,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            possible_keys: BTreeSet::new(),
            state: State::StreamStart,
            states: Vec::new(),
            marks: Vec::new(),
            tag_directives: Vec::new(),
        }
    }

    /// `yaml_parser_parse`: the next event; an event of type [`EventType::NoEvent`] after
    /// the end of the stream. After an error, that error again.
    pub fn parse(&mut self) -> Result<Event, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.stream_end_produced || self.state == State::End {
            return Ok(Event::default());
        }
        let mut event = Event::default();
        if self.state_machine(&mut event) {
            Ok(event)
        } else {
            Err(self.error.clone().unwrap_or(Error {
                kind: ErrorKind::Parser,
                problem: "",
                problem_offset: 0,
                problem_value: 0,
                problem_mark: Mark::default(),
                context: "",
                context_mark: Mark::default(),
            }))
        }
    }

    /// `peek_token`: the index in `tokens` of the next token.
    fn peek_token(&mut self) -> Option<usize> {
        if (self.token_available || self.fetch_more_tokens())
            && self.tokens_head < self.tokens.len()
        {
            Some(self.tokens_head)
        } else {
            None
        }
    }

    fn tok(&self, i: usize) -> &Token {
        &self.tokens[i]
    }

    fn skip_token(&mut self) {
        self.token_available = false;
        self.tokens_parsed += 1;
        self.stream_end_produced = self
            .tokens
            .get(self.tokens_head)
            .is_some_and(|t| t.typ == TokenType::StreamEnd);
        self.tokens_head += 1;
    }

    fn set_parser_error(&mut self, problem: &'static str, problem_mark: Mark) -> bool {
        self.error = Some(Error {
            kind: ErrorKind::Parser,
            problem,
            problem_offset: 0,
            problem_value: 0,
            problem_mark,
            context: "",
            context_mark: Mark::default(),
        });
        false
    }

    fn set_parser_error_context(
        &mut self,
        context: &'static str,
        context_mark: Mark,
        problem: &'static str,
        problem_mark: Mark,
    ) -> bool {
        self.error = Some(Error {
            kind: ErrorKind::Parser,
            problem,
            problem_offset: 0,
            problem_value: 0,
            problem_mark,
            context,
            context_mark,
        });
        false
    }

    fn pop_state(&mut self) {
        // go-yaml indexes the stack unchecked; the states pushed always match.
        self.state = self.states.pop().unwrap_or(State::End);
    }

    fn state_machine(&mut self, event: &mut Event) -> bool {
        match self.state {
            State::StreamStart => self.parse_stream_start(event),
            State::ImplicitDocumentStart => self.parse_document_start(event, true),
            State::DocumentStart => self.parse_document_start(event, false),
            State::DocumentContent => self.parse_document_content(event),
            State::DocumentEnd => self.parse_document_end(event),
            State::BlockNode => self.parse_node(event, true, false),
            State::BlockNodeOrIndentlessSequence => self.parse_node(event, true, true),
            State::FlowNode => self.parse_node(event, false, false),
            State::BlockSequenceFirstEntry => self.parse_block_sequence_entry(event, true),
            State::BlockSequenceEntry => self.parse_block_sequence_entry(event, false),
            State::IndentlessSequenceEntry => self.parse_indentless_sequence_entry(event),
            State::BlockMappingFirstKey => self.parse_block_mapping_key(event, true),
            State::BlockMappingKey => self.parse_block_mapping_key(event, false),
            State::BlockMappingValue => self.parse_block_mapping_value(event),
            State::FlowSequenceFirstEntry => self.parse_flow_sequence_entry(event, true),
            State::FlowSequenceEntry => self.parse_flow_sequence_entry(event, false),
            State::FlowSequenceEntryMappingKey => self.parse_flow_sequence_entry_mapping_key(event),
            State::FlowSequenceEntryMappingValue => {
                self.parse_flow_sequence_entry_mapping_value(event)
            }
            State::FlowSequenceEntryMappingEnd => self.parse_flow_sequence_entry_mapping_end(event),
            State::FlowMappingFirstKey => self.parse_flow_mapping_key(event, true),
            State::FlowMappingKey => self.parse_flow_mapping_key(event, false),
            State::FlowMappingValue => self.parse_flow_mapping_value(event, false),
            State::FlowMappingEmptyValue => self.parse_flow_mapping_value(event, true),
            State::End => true,
        }
    }

    fn parse_stream_start(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let t = self.tok(t);
        if t.typ != TokenType::StreamStart {
            let m = t.start_mark;
            return self.set_parser_error("did not find expected <stream-start>", m);
        }
        *event = Event {
            typ: EventType::StreamStart,
            start_mark: t.start_mark,
            end_mark: t.end_mark,
            encoding: t.encoding,
            ..Event::default()
        };
        self.state = State::ImplicitDocumentStart;
        self.skip_token();
        true
    }

    fn parse_document_start(&mut self, event: &mut Event, implicit: bool) -> bool {
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        if !implicit {
            while self.tok(t).typ == TokenType::DocumentEnd {
                self.skip_token();
                let Some(n) = self.peek_token() else {
                    return false;
                };
                t = n;
            }
        }
        let typ = self.tok(t).typ;
        if implicit
            && typ != TokenType::VersionDirective
            && typ != TokenType::TagDirective
            && typ != TokenType::DocumentStart
            && typ != TokenType::StreamEnd
        {
            if !self.process_directives(None) {
                return false;
            }
            self.states.push(State::DocumentEnd);
            self.state = State::BlockNode;
            // process_directives may have moved the queue: peek again (the same token).
            let Some(t) = self.peek_token() else {
                return false;
            };
            let t = self.tok(t);
            *event = Event {
                typ: EventType::DocumentStart,
                start_mark: t.start_mark,
                end_mark: t.end_mark,
                ..Event::default()
            };
        } else if typ != TokenType::StreamEnd {
            let start_mark = self.tok(t).start_mark;
            let mut directives = (None, Vec::new());
            if !self.process_directives(Some(&mut directives)) {
                return false;
            }
            let Some(t) = self.peek_token() else {
                return false;
            };
            let t = self.tok(t);
            if t.typ != TokenType::DocumentStart {
                let m = t.start_mark;
                self.set_parser_error("did not find expected <document start>", m);
                return false;
            }
            let end_mark = t.end_mark;
            self.states.push(State::DocumentEnd);
            self.state = State::DocumentContent;
            *event = Event {
                typ: EventType::DocumentStart,
                start_mark,
                end_mark,
                version_directive: directives.0,
                tag_directives: directives.1,
                implicit: false,
                ..Event::default()
            };
            self.skip_token();
        } else {
            let t = self.tok(t);
            *event = Event {
                typ: EventType::StreamEnd,
                start_mark: t.start_mark,
                end_mark: t.end_mark,
                ..Event::default()
            };
            self.state = State::End;
            self.skip_token();
        }
        true
    }

    fn parse_document_content(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let t = self.tok(t);
        if matches!(
            t.typ,
            TokenType::VersionDirective
                | TokenType::TagDirective
                | TokenType::DocumentStart
                | TokenType::DocumentEnd
                | TokenType::StreamEnd
        ) {
            let m = t.start_mark;
            self.pop_state();
            return process_empty_scalar(event, m);
        }
        self.parse_node(event, true, false)
    }

    fn parse_document_end(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let t = self.tok(t);
        let start_mark = t.start_mark;
        let mut end_mark = t.start_mark;
        let mut implicit = true;
        if t.typ == TokenType::DocumentEnd {
            end_mark = t.end_mark;
            self.skip_token();
            implicit = false;
        }
        self.tag_directives.clear();
        self.state = State::DocumentStart;
        *event = Event {
            typ: EventType::DocumentEnd,
            start_mark,
            end_mark,
            implicit,
            ..Event::default()
        };
        true
    }

    fn parse_node(&mut self, event: &mut Event, block: bool, indentless_sequence: bool) -> bool {
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        if self.tok(t).typ == TokenType::Alias {
            self.pop_state();
            let tk = self.tok(t);
            *event = Event {
                typ: EventType::Alias,
                start_mark: tk.start_mark,
                end_mark: tk.end_mark,
                anchor: tk.value.clone(),
                ..Event::default()
            };
            self.skip_token();
            return true;
        }

        let mut start_mark = self.tok(t).start_mark;
        let mut end_mark = self.tok(t).start_mark;
        let mut tag_token = false;
        let mut tag_handle = Vec::new();
        let mut tag_suffix = Vec::new();
        let mut anchor = Vec::new();
        let mut tag_mark = Mark::default();
        if self.tok(t).typ == TokenType::Anchor {
            let tk = self.tok(t);
            anchor = tk.value.clone();
            start_mark = tk.start_mark;
            end_mark = tk.end_mark;
            self.skip_token();
            let Some(n) = self.peek_token() else {
                return false;
            };
            t = n;
            if self.tok(t).typ == TokenType::Tag {
                let tk = self.tok(t);
                tag_token = true;
                tag_handle = tk.value.clone();
                tag_suffix = tk.suffix.clone();
                tag_mark = tk.start_mark;
                end_mark = tk.end_mark;
                self.skip_token();
                let Some(n) = self.peek_token() else {
                    return false;
                };
                t = n;
            }
        } else if self.tok(t).typ == TokenType::Tag {
            let tk = self.tok(t);
            tag_token = true;
            tag_handle = tk.value.clone();
            tag_suffix = tk.suffix.clone();
            start_mark = tk.start_mark;
            tag_mark = tk.start_mark;
            end_mark = tk.end_mark;
            self.skip_token();
            let Some(n) = self.peek_token() else {
                return false;
            };
            t = n;
            if self.tok(t).typ == TokenType::Anchor {
                let tk = self.tok(t);
                anchor = tk.value.clone();
                end_mark = tk.end_mark;
                self.skip_token();
                let Some(n) = self.peek_token() else {
                    return false;
                };
                t = n;
            }
        }

        let mut tag = Vec::new();
        if tag_token {
            if tag_handle.is_empty() {
                tag = tag_suffix;
            } else {
                if let Some(d) = self.tag_directives.iter().find(|d| d.handle == tag_handle) {
                    tag = d.prefix.clone();
                    tag.extend_from_slice(&tag_suffix);
                }
                if tag.is_empty() {
                    self.set_parser_error_context(
                        "while parsing a node",
                        start_mark,
                        "found undefined tag handle",
                        tag_mark,
                    );
                    return false;
                }
            }
        }

        let implicit = tag.is_empty();
        let tk = self.tok(t);
        let typ = tk.typ;
        if indentless_sequence && typ == TokenType::BlockEntry {
            end_mark = tk.end_mark;
            self.state = State::IndentlessSequenceEntry;
            *event = Event {
                typ: EventType::SequenceStart,
                start_mark,
                end_mark,
                anchor,
                tag,
                implicit,
                style: collection_style::BLOCK,
                ..Event::default()
            };
            return true;
        }
        if typ == TokenType::Scalar {
            end_mark = tk.end_mark;
            let mut plain_implicit = false;
            let mut quoted_implicit = false;
            if (tag.is_empty() && tk.style == scalar_style::PLAIN) || tag == b"!" {
                plain_implicit = true;
            } else if tag.is_empty() {
                quoted_implicit = true;
            }
            let value = tk.value.clone();
            let style = tk.style;
            self.pop_state();
            *event = Event {
                typ: EventType::Scalar,
                start_mark,
                end_mark,
                anchor,
                tag,
                value,
                implicit: plain_implicit,
                quoted_implicit,
                style,
                ..Event::default()
            };
            self.skip_token();
            return true;
        }
        let collection = match typ {
            TokenType::FlowSequenceStart => Some((
                State::FlowSequenceFirstEntry,
                EventType::SequenceStart,
                collection_style::FLOW,
            )),
            TokenType::FlowMappingStart => Some((
                State::FlowMappingFirstKey,
                EventType::MappingStart,
                collection_style::FLOW,
            )),
            TokenType::BlockSequenceStart if block => Some((
                State::BlockSequenceFirstEntry,
                EventType::SequenceStart,
                collection_style::BLOCK,
            )),
            TokenType::BlockMappingStart if block => Some((
                State::BlockMappingFirstKey,
                EventType::MappingStart,
                collection_style::BLOCK,
            )),
            _ => None,
        };
        if let Some((state, etyp, style)) = collection {
            end_mark = tk.end_mark;
            self.state = state;
            *event = Event {
                typ: etyp,
                start_mark,
                end_mark,
                anchor,
                tag,
                implicit,
                style,
                ..Event::default()
            };
            return true;
        }
        if !anchor.is_empty() || !tag.is_empty() {
            self.pop_state();
            *event = Event {
                typ: EventType::Scalar,
                start_mark,
                end_mark,
                anchor,
                tag,
                implicit,
                quoted_implicit: false,
                style: scalar_style::PLAIN,
                ..Event::default()
            };
            return true;
        }
        let context = if block {
            "while parsing a block node"
        } else {
            "while parsing a flow node"
        };
        let m = tk.start_mark;
        self.set_parser_error_context(context, start_mark, "did not find expected node content", m)
    }

    /// The first token of a collection: its start mark pushed, the token skipped.
    fn first_entry(&mut self) {
        // go-yaml peeks without checking: the token was already peeked by parse_node.
        if let Some(t) = self.peek_token() {
            let m = self.tok(t).start_mark;
            self.marks.push(m);
            self.skip_token();
        }
    }

    fn pop_mark(&mut self) -> Mark {
        self.marks.pop().unwrap_or_default()
    }

    fn parse_block_sequence_entry(&mut self, event: &mut Event, first: bool) -> bool {
        if first {
            self.first_entry();
        }
        let Some(t) = self.peek_token() else {
            return false;
        };
        let tk = self.tok(t);
        if tk.typ == TokenType::BlockEntry {
            let mark = tk.end_mark;
            self.skip_token();
            let Some(t) = self.peek_token() else {
                return false;
            };
            let typ = self.tok(t).typ;
            if typ != TokenType::BlockEntry && typ != TokenType::BlockEnd {
                self.states.push(State::BlockSequenceEntry);
                return self.parse_node(event, true, false);
            }
            self.state = State::BlockSequenceEntry;
            return process_empty_scalar(event, mark);
        }
        if tk.typ == TokenType::BlockEnd {
            let (s, e) = (tk.start_mark, tk.end_mark);
            self.pop_state();
            self.pop_mark();
            *event = Event {
                typ: EventType::SequenceEnd,
                start_mark: s,
                end_mark: e,
                ..Event::default()
            };
            self.skip_token();
            return true;
        }
        let m = tk.start_mark;
        let context_mark = self.pop_mark();
        self.set_parser_error_context(
            "while parsing a block collection",
            context_mark,
            "did not find expected '-' indicator",
            m,
        )
    }

    fn parse_indentless_sequence_entry(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let tk = self.tok(t);
        if tk.typ == TokenType::BlockEntry {
            let mark = tk.end_mark;
            self.skip_token();
            let Some(t) = self.peek_token() else {
                return false;
            };
            let typ = self.tok(t).typ;
            if typ != TokenType::BlockEntry
                && typ != TokenType::Key
                && typ != TokenType::Value
                && typ != TokenType::BlockEnd
            {
                self.states.push(State::IndentlessSequenceEntry);
                return self.parse_node(event, true, false);
            }
            self.state = State::IndentlessSequenceEntry;
            return process_empty_scalar(event, mark);
        }
        let m = tk.start_mark;
        self.pop_state();
        *event = Event {
            typ: EventType::SequenceEnd,
            start_mark: m,
            end_mark: m,
            ..Event::default()
        };
        true
    }

    fn parse_block_mapping_key(&mut self, event: &mut Event, first: bool) -> bool {
        if first {
            self.first_entry();
        }
        let Some(t) = self.peek_token() else {
            return false;
        };
        let tk = self.tok(t);
        if tk.typ == TokenType::Key {
            let mark = tk.end_mark;
            self.skip_token();
            let Some(t) = self.peek_token() else {
                return false;
            };
            let typ = self.tok(t).typ;
            if typ != TokenType::Key && typ != TokenType::Value && typ != TokenType::BlockEnd {
                self.states.push(State::BlockMappingValue);
                return self.parse_node(event, true, true);
            }
            self.state = State::BlockMappingValue;
            return process_empty_scalar(event, mark);
        } else if tk.typ == TokenType::BlockEnd {
            let (s, e) = (tk.start_mark, tk.end_mark);
            self.pop_state();
            self.pop_mark();
            *event = Event {
                typ: EventType::MappingEnd,
                start_mark: s,
                end_mark: e,
                ..Event::default()
            };
            self.skip_token();
            return true;
        }
        let m = tk.start_mark;
        let context_mark = self.pop_mark();
        self.set_parser_error_context(
            "while parsing a block mapping",
            context_mark,
            "did not find expected key",
            m,
        )
    }

    fn parse_block_mapping_value(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let tk = self.tok(t);
        if tk.typ == TokenType::Value {
            let mark = tk.end_mark;
            self.skip_token();
            let Some(t) = self.peek_token() else {
                return false;
            };
            let typ = self.tok(t).typ;
            if typ != TokenType::Key && typ != TokenType::Value && typ != TokenType::BlockEnd {
                self.states.push(State::BlockMappingKey);
                return self.parse_node(event, true, true);
            }
            self.state = State::BlockMappingKey;
            return process_empty_scalar(event, mark);
        }
        let m = tk.start_mark;
        self.state = State::BlockMappingKey;
        process_empty_scalar(event, m)
    }

    fn parse_flow_sequence_entry(&mut self, event: &mut Event, first: bool) -> bool {
        if first {
            self.first_entry();
        }
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        if self.tok(t).typ != TokenType::FlowSequenceEnd {
            if !first {
                if self.tok(t).typ == TokenType::FlowEntry {
                    self.skip_token();
                    let Some(n) = self.peek_token() else {
                        return false;
                    };
                    t = n;
                } else {
                    let m = self.tok(t).start_mark;
                    let context_mark = self.pop_mark();
                    return self.set_parser_error_context(
                        "while parsing a flow sequence",
                        context_mark,
                        "did not find expected ',' or ']'",
                        m,
                    );
                }
            }
            let tk = self.tok(t);
            if tk.typ == TokenType::Key {
                *event = Event {
                    typ: EventType::MappingStart,
                    start_mark: tk.start_mark,
                    end_mark: tk.end_mark,
                    implicit: true,
                    style: collection_style::FLOW,
                    ..Event::default()
                };
                self.state = State::FlowSequenceEntryMappingKey;
                self.skip_token();
                return true;
            } else if tk.typ != TokenType::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntry);
                return self.parse_node(event, false, false);
            }
        }
        let tk = self.tok(t);
        let (s, e) = (tk.start_mark, tk.end_mark);
        self.pop_state();
        self.pop_mark();
        *event = Event {
            typ: EventType::SequenceEnd,
            start_mark: s,
            end_mark: e,
            ..Event::default()
        };
        self.skip_token();
        true
    }

    fn parse_flow_sequence_entry_mapping_key(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let tk = self.tok(t);
        if tk.typ != TokenType::Value
            && tk.typ != TokenType::FlowEntry
            && tk.typ != TokenType::FlowSequenceEnd
        {
            self.states.push(State::FlowSequenceEntryMappingValue);
            return self.parse_node(event, false, false);
        }
        let mark = tk.end_mark;
        self.skip_token();
        self.state = State::FlowSequenceEntryMappingValue;
        process_empty_scalar(event, mark)
    }

    fn parse_flow_sequence_entry_mapping_value(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        // go-yaml shadows `token` inside the `if`: the empty scalar is placed at the first one.
        let mark = self.tok(t).start_mark;
        if self.tok(t).typ == TokenType::Value {
            self.skip_token();
            let Some(t) = self.peek_token() else {
                return false;
            };
            let typ = self.tok(t).typ;
            if typ != TokenType::FlowEntry && typ != TokenType::FlowSequenceEnd {
                self.states.push(State::FlowSequenceEntryMappingEnd);
                return self.parse_node(event, false, false);
            }
        }
        self.state = State::FlowSequenceEntryMappingEnd;
        process_empty_scalar(event, mark)
    }

    fn parse_flow_sequence_entry_mapping_end(&mut self, event: &mut Event) -> bool {
        let Some(t) = self.peek_token() else {
            return false;
        };
        let m = self.tok(t).start_mark;
        self.state = State::FlowSequenceEntry;
        *event = Event {
            typ: EventType::MappingEnd,
            start_mark: m,
            end_mark: m,
            ..Event::default()
        };
        true
    }

    fn parse_flow_mapping_key(&mut self, event: &mut Event, first: bool) -> bool {
        if first {
            self.first_entry();
        }
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        if self.tok(t).typ != TokenType::FlowMappingEnd {
            if !first {
                if self.tok(t).typ == TokenType::FlowEntry {
                    self.skip_token();
                    let Some(n) = self.peek_token() else {
                        return false;
                    };
                    t = n;
                } else {
                    let m = self.tok(t).start_mark;
                    let context_mark = self.pop_mark();
                    return self.set_parser_error_context(
                        "while parsing a flow mapping",
                        context_mark,
                        "did not find expected ',' or '}'",
                        m,
                    );
                }
            }
            let typ = self.tok(t).typ;
            if typ == TokenType::Key {
                self.skip_token();
                let Some(n) = self.peek_token() else {
                    return false;
                };
                t = n;
                let tk = self.tok(t);
                if tk.typ != TokenType::Value
                    && tk.typ != TokenType::FlowEntry
                    && tk.typ != TokenType::FlowMappingEnd
                {
                    self.states.push(State::FlowMappingValue);
                    return self.parse_node(event, false, false);
                }
                let m = tk.start_mark;
                self.state = State::FlowMappingValue;
                return process_empty_scalar(event, m);
            } else if typ != TokenType::FlowMappingEnd {
                self.states.push(State::FlowMappingEmptyValue);
                return self.parse_node(event, false, false);
            }
        }
        let tk = self.tok(t);
        let (s, e) = (tk.start_mark, tk.end_mark);
        self.pop_state();
        self.pop_mark();
        *event = Event {
            typ: EventType::MappingEnd,
            start_mark: s,
            end_mark: e,
            ..Event::default()
        };
        self.skip_token();
        true
    }

    fn parse_flow_mapping_value(&mut self, event: &mut Event, empty: bool) -> bool {
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        if empty {
            let m = self.tok(t).start_mark;
            self.state = State::FlowMappingKey;
            return process_empty_scalar(event, m);
        }
        if self.tok(t).typ == TokenType::Value {
            self.skip_token();
            let Some(n) = self.peek_token() else {
                return false;
            };
            t = n;
            let typ = self.tok(t).typ;
            if typ != TokenType::FlowEntry && typ != TokenType::FlowMappingEnd {
                self.states.push(State::FlowMappingKey);
                return self.parse_node(event, false, false);
            }
        }
        let m = self.tok(t).start_mark;
        self.state = State::FlowMappingKey;
        process_empty_scalar(event, m)
    }

    /// `yaml_parser_process_directives`.
    fn process_directives(
        &mut self,
        out: Option<&mut (Option<VersionDirective>, Vec<TagDirective>)>,
    ) -> bool {
        let mut version_directive: Option<VersionDirective> = None;
        let mut tag_directives = Vec::new();
        let Some(mut t) = self.peek_token() else {
            return false;
        };
        loop {
            let tk = self.tok(t);
            match tk.typ {
                TokenType::VersionDirective => {
                    let m = tk.start_mark;
                    if version_directive.is_some() {
                        return self.set_parser_error("found duplicate %YAML directive", m);
                    }
                    if tk.major != 1 || tk.minor != 1 {
                        return self.set_parser_error("found incompatible YAML document", m);
                    }
                    version_directive = Some(VersionDirective {
                        major: tk.major,
                        minor: tk.minor,
                    });
                }
                TokenType::TagDirective => {
                    let value = TagDirective {
                        handle: tk.value.clone(),
                        prefix: tk.prefix.clone(),
                    };
                    let m = tk.start_mark;
                    if !self.append_tag_directive(&value, false, m) {
                        return false;
                    }
                    tag_directives.push(value);
                }
                _ => break,
            }
            self.skip_token();
            let Some(n) = self.peek_token() else {
                return false;
            };
            t = n;
        }
        let m = self.tok(t).start_mark;
        for (h, p) in [(&b"!"[..], &b"!"[..]), (b"!!", b"tag:yaml.org,2002:")] {
            let d = TagDirective {
                handle: h.to_vec(),
                prefix: p.to_vec(),
            };
            if !self.append_tag_directive(&d, true, m) {
                return false;
            }
        }
        if let Some(out) = out {
            *out = (version_directive, tag_directives);
        }
        true
    }

    fn append_tag_directive(
        &mut self,
        value: &TagDirective,
        allow_duplicates: bool,
        mark: Mark,
    ) -> bool {
        if self.tag_directives.iter().any(|d| d.handle == value.handle) {
            if allow_duplicates {
                return true;
            }
            return self.set_parser_error("found duplicate %TAG directive", mark);
        }
        self.tag_directives.push(value.clone());
        true
    }
}

fn process_empty_scalar(event: &mut Event, mark: Mark) -> bool {
    *event = Event {
        typ: EventType::Scalar,
        start_mark: mark,
        end_mark: mark,
        implicit: true,
        style: scalar_style::PLAIN,
        ..Event::default()
    };
    true
}
