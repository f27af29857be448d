//! The executor: Go's `text/template` exec.go over [`Value`]s, with its error messages and the
//! node each error is reported at (`template: root:1:5: executing "root" at <.X>: …`).

use crate::funcs::{self, Builtin};
use crate::gofmt;
use crate::parse::{Arg, Branch, BranchKind, Command, List, Node, Number, Pipe, TreeSet};
use crate::value::Value;
use crate::{Func, FuncMap, Param};

/// How deep `{{template}}` calls may nest (Go: 100000; Kiln keeps the stack bounded).
pub(crate) const MAX_EXEC_DEPTH: usize = 100;

/// How deep execution may nest in all (templates, blocks and parentheses within them), so
/// that a recursive template with nested blocks cannot exhaust the stack either.
pub(crate) const MAX_EXEC_LEVEL: usize = 200;

/// Why a walk stopped early.
pub(crate) enum Flow {
    Error(String),
    Break,
    Continue,
}

type R<T> = Result<T, Flow>;

/// The node evaluation is at, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

/// A function's parameter type, the Go type evalArg converts to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ty {
    String,
    Int,
    Bool,
    Float,
    /// `interface {}`
    Any,
    /// `reflect.Value` (the builtins)
    Reflect,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Int => "int",
            Ty::Bool => "bool",
            Ty::Float => "float64",
            Ty::Any => "interface {}",
            Ty::Reflect => "reflect.Value",
        }
    }

    fn can_be_nil(self) -> bool {
        matches!(self, Ty::Any | Ty::Reflect)
    }
}

impl From<Param> for Ty {
    fn from(p: Param) -> Ty {
        match p {
            Param::String => Ty::String,
            Param::Int => Ty::Int,
            Param::Bool => Ty::Bool,
            Param::Float => Ty::Float,
            Param::Any => Ty::Any,
        }
    }
}

/// A function as the executor sees it: a builtin or one of the caller's.
enum Callee<'f> {
    Builtin(Builtin),
    User(&'f Func),
}

impl Callee<'_> {
    fn fixed(&self) -> Vec<Ty> {
        match self {
            Callee::Builtin(b) => b.params().to_vec(),
            Callee::User(f) => f.params.iter().map(|&p| p.into()).collect(),
        }
    }

    fn variadic(&self) -> Option<Ty> {
        match self {
            Callee::Builtin(b) => b.variadic(),
            Callee::User(f) => f.variadic.map(Into::into),
        }
    }
}

pub(crate) struct State<'t> {
    /// The top-level template's name (Go's ParseName, in locations).
    parse_name: &'t str,
    /// The name of the template executing (in `executing "…"`).
    tmpl_name: &'t str,
    text: &'t str,
    set: &'t TreeSet,
    funcs: &'t FuncMap,
    at: At<'t>,
    /// Variables: name, value, and whether its static type is `interface {}` (a range
    /// element of a collection of interfaces).
    vars: Vec<(String, Value, bool)>,
    /// Whether dot's static type is `interface {}` (inside a range over interfaces).
    dot_iface: bool,
    /// Whether the last field chain evaluated read its value from a map of interfaces.
    last_iface: bool,
    depth: usize,
    level: usize,
    pub out: String,
}

impl<'t> State<'t> {
    pub fn new(name: &'t str, text: &'t str, set: &'t TreeSet, funcs: &'t FuncMap) -> Self {
        State {
            parse_name: name,
            tmpl_name: name,
            text,
            set,
            funcs,
            at: At::None,
            vars: vec![],
            dot_iface: false,
            last_iface: false,
            depth: 0,
            level: 0,
            out: String::new(),
        }
    }

    pub fn run(&mut self, root: &'t List, data: Value) -> Result<(), String> {
        self.vars = vec![("$".into(), data.clone(), false)];
        match self.walk_list(&data, root) {
            Ok(()) => Ok(()),
            Err(Flow::Error(e)) => Err(e),
            // The parser refuses break/continue outside range.
            Err(_) => Ok(()),
        }
    }

    fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let mut p = pos;
        while !self.text.is_char_boundary(p) {
            p -= 1;
        }
        let before = &self.text[..p];
        let col = match before.rfind('\n') {
            None => pos,
            Some(i) => pos - (i + 1),
        };
        let line = 1 + before.matches('\n').count();
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    fn errorf<T>(&self, msg: impl std::fmt::Display) -> R<T> {
        let (pos, ctx) = match self.at {
            At::None => {
                return Err(Flow::Error(format!("template: {}: {msg}", self.tmpl_name)));
            }
            At::Node(n) => (n.pos(), n.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        Err(Flow::Error(format!(
            "template: {}: executing {} at <{}>: {msg}",
            self.location(pos),
            gofmt::quote(self.tmpl_name),
            ctx
        )))
    }

    fn var_value(&self, name: &str) -> R<(Value, bool)> {
        for (n, v, iface) in self.vars.iter().rev() {
            if n == name {
                return Ok((v.clone(), *iface));
            }
        }
        self.errorf(format_args!("undefined variable: {name}"))
    }

    fn set_var(&mut self, name: &str, value: Value, is_iface: bool) -> R<()> {
        for (n, v, iface) in self.vars.iter_mut().rev() {
            if n == name {
                *v = value;
                *iface = is_iface;
                return Ok(());
            }
        }
        self.errorf(format_args!("undefined variable: {name}"))
    }

    fn set_top_var(&mut self, n: usize, value: Value, iface: bool) {
        let len = self.vars.len();
        if let Some(v) = self.vars.get_mut(len.wrapping_sub(n)) {
            v.1 = value;
            v.2 = iface;
        }
    }

    fn walk_list(&mut self, dot: &Value, list: &'t List) -> R<()> {
        for n in &list.nodes {
            self.walk(dot, n)?;
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> R<()> {
        self.at = At::Node(node);
        if self.level >= MAX_EXEC_LEVEL {
            return self.errorf(format_args!(
                "exceeded maximum nesting depth ({MAX_EXEC_LEVEL})"
            ));
        }
        self.level += 1;
        let r = self.walk_node(dot, node);
        self.level -= 1;
        r
    }

    fn walk_node(&mut self, dot: &Value, node: &'t Node) -> R<()> {
        match node {
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(&val);
                }
                Ok(())
            }
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
            Node::Branch(b) => match b.kind {
                BranchKind::Range => self.walk_range(dot, node, b),
                _ => self.walk_if_or_with(dot, b),
            },
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
            Node::Text { text, .. } => {
                self.out.push_str(text);
                Ok(())
            }
        }
    }

    fn walk_if_or_with(&mut self, dot: &Value, b: &'t Branch) -> R<()> {
        let mark = self.vars.len();
        let r = (|| {
            let val = self.eval_pipeline(dot, &b.pipe)?;
            if val.truth() {
                if b.kind == BranchKind::With {
                    let saved = std::mem::replace(&mut self.dot_iface, false);
                    let r = self.walk_list(&val, &b.list);
                    self.dot_iface = saved;
                    r
                } else {
                    self.walk_list(dot, &b.list)
                }
            } else if let Some(e) = &b.else_list {
                self.walk_list(dot, e)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, dot: &Value, node: &'t Node, r: &'t Branch) -> R<()> {
        self.at = At::Node(node);
        let mark = self.vars.len();
        let res = self.walk_range_inner(dot, r);
        self.vars.truncate(mark);
        match res {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &Value, r: &'t Branch) -> R<()> {
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let mark = self.vars.len();
        let decls = r.pipe.decl.len();
        // Elements of a collection of interfaces are interfaces (for error messages).
        let elem_iface = val.elem_type().is_some_and(|t| t.starts_with("interface"));
        let one = |s: &mut Self, index: Value, elem: Value| -> R<()> {
            if decls > 0 {
                if r.pipe.is_assign {
                    if decls > 1 {
                        s.set_var(&r.pipe.decl[0].1, index.clone(), false)?;
                    } else {
                        s.set_var(&r.pipe.decl[0].1, elem.clone(), elem_iface)?;
                    }
                } else {
                    s.set_top_var(1, elem.clone(), elem_iface);
                }
            }
            if decls > 1 {
                if r.pipe.is_assign {
                    s.set_var(&r.pipe.decl[1].1, elem.clone(), elem_iface)?;
                } else {
                    s.set_top_var(2, index, false);
                }
            }
            let saved = std::mem::replace(&mut s.dot_iface, elem_iface);
            let res = s.walk_list(&elem, &r.list);
            s.dot_iface = saved;
            s.vars.truncate(mark);
            match res {
                Err(Flow::Continue) => Ok(()),
                other => other,
            }
        };
        match &val {
            Value::Int(n) => {
                if decls > 1 {
                    return self.errorf(format_args!(
                        "can't use {val} to iterate over more than one variable"
                    ));
                }
                if *n > 0 {
                    for i in 0..*n {
                        one(self, Value::Invalid, Value::Int(i))?;
                    }
                    return Ok(());
                }
            }
            Value::List(l) if !l.items.is_empty() => {
                for (i, v) in l.items.iter().enumerate() {
                    one(self, Value::Int(i as i64), v.clone())?;
                }
                return Ok(());
            }
            Value::Map(m) if !m.entries.is_empty() => {
                for (k, v) in &m.entries {
                    one(self, Value::String(k.clone()), v.clone())?;
                }
                return Ok(());
            }
            Value::List(_) | Value::Map(_) | Value::Invalid => {}
            _ => return self.errorf(format_args!("range can't iterate over {val}")),
        }
        if let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        dot: &Value,
        node: &'t Node,
        name: &'t str,
        pipe: Option<&'t Pipe>,
    ) -> R<()> {
        self.at = At::Node(node);
        let Some((tname, tmpl)) = self.set.get_key_value(name) else {
            return self.errorf(format_args!("template {} not defined", gofmt::quote(name)));
        };
        if self.depth == MAX_EXEC_DEPTH {
            return self.errorf(format_args!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Invalid,
        };
        let saved_vars =
            std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone(), false)]);
        let saved_name = std::mem::replace(&mut self.tmpl_name, tname);
        let saved_iface = std::mem::replace(&mut self.dot_iface, false);
        self.depth += 1;
        let r = self.walk_list(&new_dot, tmpl);
        self.depth -= 1;
        self.dot_iface = saved_iface;
        self.tmpl_name = saved_name;
        self.vars = saved_vars;
        r
    }

    /// Evaluates a pipeline; `None` is Go's missingVal only inside (never returned).
    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let mut v = self.eval_command(dot, cmd, value.take())?;
            // An interface holding nil unwraps to the invalid value.
            if v == Value::Nil {
                v = Value::Invalid;
            }
            value = Some(v);
        }
        let value = value.unwrap_or(Value::Invalid);
        for (_, name) in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone(), false)?;
            } else {
                self.vars.push((name.clone(), value.clone(), false));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_: &Option<Value>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return self.errorf(format_args!(
                "can't give argument to non-function {}",
                args[0]
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'t Command, final_: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { .. } => return self.eval_field_node(dot, first, &cmd.args, final_),
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, final_),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable_node(first, &cmd.args, final_),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => self.errorf("nil is not a command"),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(Value::String(text.clone())),
            _ => self.errorf(format_args!(
                "can't evaluate command {}",
                gofmt::quote(&first.to_string())
            )),
        }
    }

    fn ideal_constant(&mut self, node: &'t Arg, c: &Number) -> R<Value> {
        self.at = At::Arg(node);
        let t = &c.text;
        let is_hex_int = t.len() > 2
            && t.as_bytes()[0] == b'0'
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if c.is_complex {
            return Ok(Value::Complex(c.complex.0, c.complex.1));
        }
        if c.is_float && !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(c.float64));
        }
        if c.is_int {
            return Ok(Value::Int(c.int64));
        }
        if c.is_uint {
            return self.errorf(format_args!("{t} overflows int"));
        }
        Ok(Value::Invalid)
    }

    fn eval_field_node(
        &mut self,
        dot: &Value,
        field: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(field);
        let Arg::Field { ident, .. } = field else {
            unreachable!("eval_field_node on a field")
        };
        let iface = self.dot_iface;
        self.eval_field_chain(dot.clone(), iface, ident, args, final_)
    }

    fn eval_chain_node(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(chain);
        let Arg::Chain { node, field, .. } = chain else {
            unreachable!("eval_chain_node on a chain")
        };
        if let Arg::Nil { .. } = **node {
            return self.errorf(format_args!("indirection through explicit nil in {chain}"));
        }
        let pipe = self.eval_arg(dot, None, node)?;
        let iface = self.last_iface;
        self.eval_field_chain(pipe, iface, field, args, final_)
    }

    fn eval_variable_node(
        &mut self,
        var: &'t Arg,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(var);
        let Arg::Variable { ident, .. } = var else {
            unreachable!("eval_variable_node on a variable")
        };
        let (value, iface) = self.var_value(&ident[0])?;
        if ident.len() == 1 {
            self.not_a_function(args, &final_)?;
            self.last_iface = iface;
            return Ok(value);
        }
        self.eval_field_chain(value, iface, &ident[1..], args, final_)
    }

    fn eval_field_chain(
        &mut self,
        mut receiver: Value,
        recv_iface: bool,
        ident: &'t [String],
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let n = ident.len();
        // Go reports a receiver by its static type: a value read from a map of interfaces
        // is an `interface {}`, whatever it holds.
        let mut recv_ty = if recv_iface {
            "interface {}".to_string()
        } else {
            receiver.type_name().to_string()
        };
        for name in &ident[..n - 1] {
            let elem = receiver.elem_type().map(str::to_string);
            receiver = self.eval_field(name, &[], None, receiver, &recv_ty)?;
            recv_ty = match elem {
                Some(e) if e.starts_with("interface") => e,
                _ => receiver.type_name().to_string(),
            };
        }
        let from_iface_map = matches!(&receiver, Value::Map(_))
            && receiver
                .elem_type()
                .is_some_and(|t| t.starts_with("interface"));
        let v = self.eval_field(&ident[n - 1], args, final_, receiver, &recv_ty)?;
        self.last_iface = from_iface_map && v != Value::Invalid;
        Ok(v)
    }

    fn eval_field(
        &mut self,
        field: &str,
        args: &'t [Arg],
        final_: Option<Value>,
        receiver: Value,
        recv_ty: &str,
    ) -> R<Value> {
        let has_args = args.len() > 1 || final_.is_some();
        match receiver {
            Value::Invalid => Ok(Value::Invalid),
            Value::Nil => self.errorf(format_args!("nil pointer evaluating {recv_ty}.{field}")),
            Value::Struct(s) => match s.fields.into_iter().find(|(k, _)| k == field) {
                Some((_, v)) => {
                    if !field.starts_with(|c: char| c.is_uppercase()) {
                        return self.errorf(format_args!(
                            "{field} is an unexported field of struct type {}",
                            s.type_name
                        ));
                    }
                    if has_args {
                        return self.errorf(format_args!(
                            "{field} has arguments but cannot be invoked as function"
                        ));
                    }
                    Ok(v)
                }
                None => self.errorf(format_args!(
                    "can't evaluate field {field} in type {recv_ty}"
                )),
            },
            Value::Map(m) => {
                if has_args {
                    return self.errorf(format_args!("{field} is not a method but has arguments"));
                }
                Ok(m.entries.get(field).cloned().unwrap_or(Value::Invalid))
            }
            _ => self.errorf(format_args!(
                "can't evaluate field {field} in type {recv_ty}"
            )),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        node: &'t Arg,
        name: &str,
        cmd: At<'t>,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        self.at = At::Arg(node);
        let funcs = self.funcs;
        let callee = if let Some(f) = funcs.get(name) {
            Callee::User(f)
        } else if let Some(b) = Builtin::lookup(name) {
            Callee::Builtin(b)
        } else {
            return self.errorf(format_args!(
                "{} is not a defined function",
                gofmt::quote(name)
            ));
        };
        self.eval_call(dot, callee, cmd, name, args, final_)
    }

    fn eval_call(
        &mut self,
        dot: &Value,
        callee: Callee<'_>,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let fixed = callee.fixed();
        let variadic = callee.variadic();
        let num_in = args.len() + usize::from(final_.is_some());
        if variadic.is_some() {
            if num_in < fixed.len() {
                return self.errorf(format_args!(
                    "wrong number of args for {name}: want at least {} got {}",
                    fixed.len(),
                    args.len()
                ));
            }
        } else if num_in != fixed.len() {
            return self.errorf(format_args!(
                "wrong number of args for {name}: want {} got {num_in}",
                fixed.len()
            ));
        }

        if let Callee::Builtin(b @ (Builtin::And | Builtin::Or)) = callee {
            let is_or = b == Builtin::Or;
            let mut v = Value::Invalid;
            for a in args {
                v = self.eval_arg(dot, Some(Ty::Reflect), a)?;
                if v.truth() == is_or {
                    return Ok(v);
                }
            }
            if let Some(f) = final_ {
                v = f;
            }
            return Ok(v);
        }

        let mut argv = Vec::with_capacity(num_in);
        // Which arguments are interfaces (`slice` does not look inside its indexes).
        let mut ifaces = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < fixed.len() && i < args.len() {
            argv.push(self.eval_arg(dot, Some(fixed[i]), &args[i])?);
            ifaces.push(self.last_iface);
            i += 1;
        }
        if let Some(vt) = variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(vt), &args[i])?);
                ifaces.push(self.last_iface);
                i += 1;
            }
        }
        ifaces.resize(num_in, false);
        if let Some(f) = final_ {
            let t = match variadic {
                Some(vt) if num_in > fixed.len() => vt,
                Some(_) => fixed[num_in - 1],
                None => fixed[fixed.len() - 1],
            };
            argv.push(self.validate_type(f, Some(t))?);
        }

        let result = match callee {
            Callee::Builtin(Builtin::Call) => {
                let callee_name = match args.first() {
                    Some(a) => a.to_string(),
                    None => argv.first().map(|v| v.to_string()).unwrap_or_default(),
                };
                funcs::call(&callee_name, &argv)
            }
            Callee::Builtin(Builtin::Slice) => funcs::slice(&argv[0], &argv[1..], &ifaces[1..]),
            Callee::Builtin(b) => b.call(&argv),
            Callee::User(f) => (f.call)(&argv),
        };
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at = node;
                self.errorf(format_args!("error calling {name}: {e}"))
            }
        }
    }

    fn validate_type(&self, value: Value, typ: Option<Ty>) -> R<Value> {
        let Some(typ) = typ else {
            return Ok(value);
        };
        if value == Value::Invalid {
            return match typ {
                Ty::Reflect => Ok(Value::Invalid),
                Ty::Any => Ok(Value::Nil),
                _ => self.errorf(format_args!("invalid value; expected {}", typ.name())),
            };
        }
        let ok = matches!(
            (typ, &value),
            (Ty::Reflect | Ty::Any, _)
                | (Ty::String, Value::String(_))
                | (Ty::Int, Value::Int(_))
                | (Ty::Bool, Value::Bool(_))
                | (Ty::Float, Value::Float(_))
        );
        if ok {
            return Ok(value);
        }
        let got = match &value {
            Value::Nil => "interface {}",
            v => v.type_name(),
        };
        self.errorf(format_args!(
            "wrong type for value; expected {}; got {got}",
            typ.name()
        ))
    }

    fn eval_arg(&mut self, dot: &Value, typ: Option<Ty>, n: &'t Arg) -> R<Value> {
        self.at = At::Arg(n);
        self.last_iface = false;
        match n {
            Arg::Dot { .. } => {
                self.last_iface = self.dot_iface;
                return self.validate_type(dot.clone(), typ);
            }
            Arg::Nil { .. } => {
                return match typ {
                    Some(t) if t.can_be_nil() => Ok(if t == Ty::Any {
                        Value::Nil
                    } else {
                        Value::Invalid
                    }),
                    Some(t) => self.errorf(format_args!("cannot assign nil to {}", t.name())),
                    None => self.errorf("cannot assign nil to <nil>"),
                };
            }
            Arg::Field { .. } => {
                let v = self.eval_field_node(dot, n, std::slice::from_ref(n), None)?;
                return self.validate_type(v, typ);
            }
            Arg::Variable { .. } => {
                let v = self.eval_variable_node(n, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = self.eval_pipeline(dot, p)?;
                self.last_iface = false;
                return self.validate_type(v, typ);
            }
            Arg::Identifier { name, .. } => {
                let v = self.eval_function(dot, n, name, At::Arg(n), &[], None)?;
                self.last_iface = false;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain_node(dot, n, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        match typ {
            Some(Ty::Bool) => match n {
                Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
                _ => self.errorf(format_args!("expected bool; found {n}")),
            },
            Some(Ty::Float) => match n {
                Arg::Number { num, .. } if num.is_float => Ok(Value::Float(num.float64)),
                _ => self.errorf(format_args!("expected float; found {n}")),
            },
            Some(Ty::Int) => match n {
                Arg::Number { num, .. } if num.is_int => Ok(Value::Int(num.int64)),
                _ => self.errorf(format_args!("expected integer; found {n}")),
            },
            Some(Ty::String) => match n {
                Arg::String { text, .. } => Ok(Value::String(text.clone())),
                _ => self.errorf(format_args!("expected string; found {n}")),
            },
            Some(Ty::Any | Ty::Reflect) | None => self.eval_empty_interface(dot, n),
        }
    }

    fn eval_empty_interface(&mut self, dot: &Value, n: &'t Arg) -> R<Value> {
        self.at = At::Arg(n);
        match n {
            Arg::Bool { val, .. } => Ok(Value::Bool(*val)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Number { num, .. } => self.ideal_constant(n, num),
            Arg::String { text, .. } => Ok(Value::String(text.clone())),
            _ => self.errorf(format_args!(
                "can't handle assignment of {n} to empty interface argument"
            )),
        }
    }

    fn print_value(&mut self, v: &Value) {
        match v {
            Value::Invalid => self.out.push_str("<no value>"),
            v => {
                use std::fmt::Write;
                let _ = write!(self.out, "{v}");
            }
        }
    }
}
