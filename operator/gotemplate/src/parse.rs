//! The parser: Go's `text/template/parse`, building the same tree and failing with the same
//! messages (`template: root:1: function "foo" not defined`).

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use crate::gofmt;
use crate::lex::{Item, ItemType, Lexer};

/// A parsed number constant, with every interpretation Go keeps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int64: i64,
    pub uint64: u64,
    pub float64: f64,
    pub complex: (f64, f64),
}

/// An operand (Go's Field, Chain, Identifier, Variable, Dot, Nil, Bool, Number, String and
/// parenthesised Pipe nodes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        ident: Vec<String>,
    },
    Chain {
        pos: usize,
        node: Box<Arg>,
        field: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Variable {
        pos: usize,
        ident: Vec<String>,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Box<Number>,
    },
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    Pipe(Box<Pipe>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    /// Declared variables, `$` names with their positions.
    pub decl: Vec<(usize, String)>,
    pub cmds: Vec<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchKind {
    If,
    Range,
    With,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Branch {
    pub kind: BranchKind,
    pub pos: usize,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text {
        pos: usize,
        text: String,
    },
    Action {
        pos: usize,
        pipe: Pipe,
    },
    Branch(Box<Branch>),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct List {
    pub pos: usize,
    pub nodes: Vec<Node>,
}

/// What `text_or_action` found: a node, or the `{{else}}`/`{{end}}` closing a list.
enum Parsed {
    Node(Node),
    Else { pos: usize },
    End,
}

/// The templates of one parse: the top-level one and those `{{define}}`d.
pub(crate) type TreeSet = BTreeMap<String, List>;

/// Parse failure: the full Go message.
#[derive(Debug)]
pub(crate) struct ParseError(pub String);

type PResult<T> = Result<T, ParseError>;

/// Go's maximum nesting of parenthesised pipelines.
const MAX_STACK_DEPTH: usize = 10000;

/// Kiln's own bound on nesting (parentheses, `if`/`range`/`with`/`block` inside one another),
/// so that no input exhausts the stack: Go allows 10000 parentheses and unbounded blocks, no
/// real template comes near this.
pub(crate) const MAX_NESTING: usize = 100;

pub(crate) struct Parser<'a, 'f> {
    name: &'a str,
    lex: Lexer<'a>,
    token: [Item; 3],
    peek_count: usize,
    vars: Vec<String>,
    action_line: usize,
    range_depth: usize,
    stack_depth: usize,
    /// Nesting of control structures and parentheses (see [`MAX_NESTING`]).
    nesting: usize,
    has_function: &'f dyn Fn(&str) -> bool,
    /// `{{block}}` bodies, added to the set after the template itself.
    pending_blocks: Vec<(String, List)>,
}

fn eof_item() -> Item {
    Item {
        typ: ItemType::Eof,
        pos: 0,
        val: String::new(),
        line: 0,
    }
}

impl<'a, 'f> Parser<'a, 'f> {
    pub fn new(name: &'a str, text: &'a str, has_function: &'f dyn Fn(&str) -> bool) -> Self {
        let mut lex = Lexer::new(text);
        lex.break_ok = !has_function("break");
        lex.continue_ok = !has_function("continue");
        Parser {
            name,
            lex,
            token: [eof_item(), eof_item(), eof_item()],
            peek_count: 0,
            vars: vec!["$".into()],
            action_line: 0,
            range_depth: 0,
            stack_depth: 0,
            nesting: 0,
            has_function,
            pending_blocks: vec![],
        }
    }

    fn next(&mut self) -> Item {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item, t1: Item) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn nest(&mut self) -> PResult<()> {
        if self.nesting >= MAX_NESTING {
            return self.errorf("max expression depth exceeded");
        }
        self.nesting += 1;
        Ok(())
    }

    fn errorf<T>(&self, msg: impl fmt::Display) -> PResult<T> {
        Err(ParseError(format!(
            "template: {}:{}: {}",
            self.name, self.token[0].line, msg
        )))
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.typ != expected {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn unexpected<T>(&self, token: &Item, context: &str) -> PResult<T> {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format_args!("{token}{extra}"));
        }
        self.errorf(format_args!("unexpected {token} in {context}"))
    }

    /// Parses the whole input into `set` (the top-level template under `name`).
    pub fn parse(mut self, set: &mut TreeSet) -> PResult<()> {
        let first = self.peek();
        let mut root = List {
            pos: first.pos,
            nodes: vec![],
        };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition(set)?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.nodes.push(n),
                Parsed::Else { .. } => return self.errorf("unexpected {{else}}"),
                Parsed::End => return self.errorf("unexpected {{end}}"),
            }
        }
        let name = self.name.to_string();
        for (n, l) in std::mem::take(&mut self.pending_blocks) {
            self.add(set, &n, l)?;
        }
        self.add(set, &name, root)
    }

    fn add(&self, set: &mut TreeSet, name: &str, root: List) -> PResult<()> {
        match set.get(name) {
            Some(existing) if !is_empty_tree(existing) => {
                if !is_empty_tree(&root) {
                    return self.errorf(format_args!(
                        "template: multiple definition of template {}",
                        gofmt::quote(name)
                    ));
                }
                Ok(())
            }
            _ => {
                set.insert(name.to_string(), root);
                Ok(())
            }
        }
    }

    fn parse_definition(&mut self, set: &mut TreeSet) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        if t.typ != ItemType::String && t.typ != ItemType::RawString {
            return self.unexpected(&t, CONTEXT);
        }
        let Ok(name) = gofmt::unquote(&t.val) else {
            return self.errorf("invalid syntax");
        };
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        if !matches!(end, Parsed::End) {
            return self.errorf(format_args!("unexpected {} in {CONTEXT}", parsed_str(&end)));
        }
        self.add(set, &name, list)
    }

    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        let p = self.peek_non_space();
        let mut list = List {
            pos: p.pos,
            nodes: vec![],
        };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                other => return Ok((list, other)),
            }
        }
        self.errorf("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text {
                pos: token.pos,
                text: token.val,
            })),
            ItemType::LeftDelim => {
                self.action_line = token.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break => return self.break_control(token.pos, "{{break}}", true),
            ItemType::Continue => return self.break_control(token.pos, "{{continue}}", false),
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return self.control(BranchKind::If).map(Parsed::Node),
            ItemType::Range => return self.control(BranchKind::Range).map(Parsed::Node),
            ItemType::Template => return self.template_control().map(Parsed::Node),
            ItemType::With => return self.control(BranchKind::With).map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let token = self.peek();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action {
            pos: token.pos,
            pipe,
        }))
    }

    fn break_control(&mut self, pos: usize, context: &str, brk: bool) -> PResult<Parsed> {
        let t = self.next_non_space();
        if t.typ != ItemType::RightDelim {
            return self.unexpected(&t, context);
        }
        if self.range_depth == 0 {
            return self.errorf(format_args!("{context} outside {{{{range}}}}"));
        }
        Ok(Parsed::Node(if brk {
            Node::Break { pos }
        } else {
            Node::Continue { pos }
        }))
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let token = self.peek_non_space();
        let mut pipe = Pipe {
            pos: token.pos,
            is_assign: false,
            decl: vec![],
            cmds: vec![],
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.typ == ItemType::Variable {
                self.next();
                let after = self.peek();
                let next = self.peek_non_space();
                if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                    pipe.is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push((v.pos, v.val.clone()));
                    self.vars.push(v.val.clone());
                } else if next.typ == ItemType::Char && next.val == "," {
                    self.next_non_space();
                    pipe.decl.push((v.pos, v.val.clone()));
                    self.vars.push(v.val.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue 'decls;
                            }
                            _ => return self.errorf("range can only initialize variables"),
                        }
                    }
                    return self.errorf(format_args!("too many declarations in {context}"));
                } else if after.typ == ItemType::Space {
                    self.backup3(v, after);
                } else {
                    self.backup2(v);
                }
            }
            break;
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.errorf(format_args!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return self.errorf(format_args!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    fn control(&mut self, kind: BranchKind) -> PResult<Node> {
        let context = match kind {
            BranchKind::If => "if",
            BranchKind::Range => "range",
            BranchKind::With => "with",
        };
        self.nest()?;
        let nvars = self.vars.len();
        let r = self.control_inner(kind, context);
        self.vars.truncate(nvars);
        self.nesting -= 1;
        r
    }

    fn control_inner(&mut self, kind: BranchKind, context: &str) -> PResult<Node> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if kind == BranchKind::Range {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if kind == BranchKind::Range {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Parsed::Else { pos, .. } = next {
            let pk = self.peek().typ;
            if kind == BranchKind::If && pk == ItemType::If {
                self.next();
                let inner = self.control(BranchKind::If)?;
                else_list = Some(List {
                    pos,
                    nodes: vec![inner],
                });
            } else if kind == BranchKind::With && pk == ItemType::With {
                self.next();
                let inner = self.control(BranchKind::With)?;
                else_list = Some(List {
                    pos,
                    nodes: vec![inner],
                });
            } else {
                let (l, next) = self.item_list()?;
                if !matches!(next, Parsed::End) {
                    return self.errorf(format_args!("expected end; found {}", parsed_str(&next)));
                }
                else_list = Some(l);
            }
        }
        Ok(Node::Branch(Box::new(Branch {
            kind,
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })))
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If || peek.typ == ItemType::With {
            return Ok(Parsed::Else { pos: peek.pos });
        }
        let t = self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else { pos: t.pos })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        // The block's body is a definition parsed in place.
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        self.nest()?;
        let r = self.item_list();
        self.nesting -= 1;
        self.vars = saved;
        self.range_depth = saved_depth;
        let (list, end) = r?;
        if !matches!(end, Parsed::End) {
            return self.errorf(format_args!("unexpected {} in {CONTEXT}", parsed_str(&end)));
        }
        self.pending_blocks.push((name.clone(), list));
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, ItemType::RightDelim)?);
        }
        Ok(Node::Template {
            pos: token.pos,
            name,
            pipe,
        })
    }

    fn parse_template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => match gofmt::unquote(&token.val) {
                Ok(s) => Ok(s),
                Err(()) => self.errorf("invalid syntax"),
            },
            _ => self.unexpected(token, context),
        }
    }

    fn command(&mut self) -> PResult<Command> {
        let p = self.peek_non_space();
        let mut cmd = Command {
            pos: p.pos,
            args: vec![],
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.errorf("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ == ItemType::Field {
            let chain_pos = self.peek().pos;
            let mut fields = vec![];
            while self.peek().typ == ItemType::Field {
                let f = self.next().val;
                fields.push(f[1..].to_string());
            }
            return Ok(Some(match node {
                Arg::Field { mut ident, .. } => {
                    ident.extend(fields);
                    Arg::Field {
                        pos: chain_pos,
                        ident,
                    }
                }
                Arg::Variable { mut ident, .. } => {
                    ident.extend(fields);
                    Arg::Variable {
                        pos: chain_pos,
                        ident,
                    }
                }
                n @ (Arg::Bool { .. }
                | Arg::String { .. }
                | Arg::Number { .. }
                | Arg::Nil { .. }
                | Arg::Dot { .. }) => {
                    return self.errorf(format_args!(
                        "unexpected . after term {}",
                        gofmt::quote(&n.to_string())
                    ));
                }
                n => Arg::Chain {
                    pos: chain_pos,
                    node: Box::new(n),
                    field: fields,
                },
            }));
        }
        Ok(Some(node))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        Ok(Some(match token.typ {
            ItemType::Identifier => {
                if !(self.has_function)(&token.val) {
                    return self.errorf(format_args!(
                        "function {} not defined",
                        gofmt::quote(&token.val)
                    ));
                }
                Arg::Identifier {
                    pos: token.pos,
                    name: token.val,
                }
            }
            ItemType::Dot => Arg::Dot { pos: token.pos },
            ItemType::Nil => Arg::Nil { pos: token.pos },
            ItemType::Variable => {
                let ident: Vec<String> = token.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == ident[0]) {
                    return self.errorf(format_args!(
                        "undefined variable {}",
                        gofmt::quote(&ident[0])
                    ));
                }
                Arg::Variable {
                    pos: token.pos,
                    ident,
                }
            }
            ItemType::Field => Arg::Field {
                pos: token.pos,
                ident: token.val[1..].split('.').map(str::to_string).collect(),
            },
            ItemType::Bool => Arg::Bool {
                pos: token.pos,
                val: token.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                match new_number(&token.val, token.typ) {
                    Ok(num) => Arg::Number {
                        pos: token.pos,
                        num: Box::new(num),
                    },
                    Err(e) => return self.errorf(e),
                }
            }
            ItemType::LeftParen => {
                if self.stack_depth >= MAX_STACK_DEPTH {
                    return self.errorf("max expression depth exceeded");
                }
                self.stack_depth += 1;
                self.nest()?;
                let r = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.nesting -= 1;
                self.stack_depth -= 1;
                Arg::Pipe(Box::new(r?))
            }
            ItemType::String | ItemType::RawString => match gofmt::unquote(&token.val) {
                Ok(text) => Arg::String {
                    pos: token.pos,
                    quoted: token.val,
                    text,
                },
                Err(()) => return self.errorf("invalid syntax"),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn parsed_str(p: &Parsed) -> &'static str {
    match p {
        Parsed::Else { .. } => "{{else}}",
        Parsed::End => "{{end}}",
        Parsed::Node(_) => "node",
    }
}

/// Go's `IsEmptyTree`: only blank text (and comments).
fn is_empty_tree(l: &List) -> bool {
    l.nodes.iter().all(|n| match n {
        Node::Text { text, .. } => text.trim().is_empty(),
        _ => false,
    })
}

fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        is_int: false,
        is_uint: false,
        is_float: false,
        is_complex: false,
        int64: 0,
        uint64: 0,
        float64: 0.0,
        complex: (0.0, 0.0),
    };
    match typ {
        ItemType::CharConstant => {
            let q = '\'';
            let Ok((r, tail)) = gofmt::unquote_char(&text[1..], q) else {
                return Err("invalid syntax".into());
            };
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            n.int64 = r as i64;
            n.is_int = true;
            n.uint64 = r as u64;
            n.is_uint = true;
            n.float64 = r as u32 as f64;
            n.is_float = true;
            return Ok(n);
        }
        ItemType::Complex => {
            // "re+imi" / "re-imi".
            let body = &text[..text.len() - 1];
            let split = body
                .char_indices()
                .skip(1)
                .filter(|&(i, c)| {
                    (c == '+' || c == '-')
                        && !matches!(body.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P')
                })
                .map(|(i, _)| i)
                .last();
            let parsed = split.and_then(|i| {
                Some((
                    gofmt::parse_float(&body[..i])?,
                    gofmt::parse_float(&body[i..])?,
                ))
            });
            let Some((re, im)) = parsed else {
                return Err("expected integer".into());
            };
            n.is_complex = true;
            n.complex = (re, im);
            simplify_complex(&mut n);
            return Ok(n);
        }
        _ => {}
    }
    if let Some(body) = text.strip_suffix('i')
        && let Some(f) =
            gofmt::parse_float(body).or_else(|| gofmt::parse_int(body).map(|i| i as f64))
    {
        n.is_complex = true;
        n.complex = (0.0, f);
        simplify_complex(&mut n);
        return Ok(n);
    }
    let u = gofmt::parse_uint(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.uint64 = u;
    }
    if let Some(i) = gofmt::parse_int(text) {
        n.is_int = true;
        n.int64 = i;
        if i == 0 {
            n.is_uint = true;
            n.uint64 = u.unwrap_or(0);
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float64 = n.int64 as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float64 = n.uint64 as f64;
    } else if let Some(f) = gofmt::parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", gofmt::quote(text)));
        }
        n.is_float = true;
        n.float64 = f;
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            n.is_int = true;
            n.int64 = f as i64;
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            n.is_uint = true;
            n.uint64 = f as u64;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", gofmt::quote(text)));
    }
    Ok(n)
}

fn simplify_complex(n: &mut Number) {
    n.is_float = n.complex.1 == 0.0;
    if n.is_float {
        let f = n.complex.0;
        n.float64 = f;
        n.is_int = f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64;
        if n.is_int {
            n.int64 = f as i64;
        }
        n.is_uint = f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64;
        if n.is_uint {
            n.uint64 = f as u64;
        }
    }
}

// --- Printing nodes back, as Go's String() methods do (for error contexts). ---

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { ident, .. } => {
                for i in ident {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, field, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in field {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Variable { ident, .. } => f.write_str(&ident.join(".")),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, (_, v)) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(v)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::Branch(b) => {
                let name = match b.kind {
                    BranchKind::If => "if",
                    BranchKind::Range => "range",
                    BranchKind::With => "with",
                };
                write!(f, "{{{{{name} {}}}}}{}", b.pipe, b.list)?;
                if let Some(e) = &b.else_list {
                    write!(f, "{{{{else}}}}{e}")?;
                }
                f.write_str("{{end}}")
            }
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", gofmt::quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

impl Node {
    pub fn pos(&self) -> usize {
        match self {
            Node::Text { pos, .. }
            | Node::Action { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos }
            | Node::Continue { pos } => *pos,
            Node::Branch(b) => b.pos,
        }
    }
}
