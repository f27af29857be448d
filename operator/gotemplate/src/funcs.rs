//! Go's builtin template functions (`and`, `or`, `not`, `len`, `index`, `slice`, `print`,
//! `printf`, `println`, `html`, `js`, `urlquery`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`,
//! `call`), with Go's results and error texts.

use crate::exec::Ty;
use crate::gofmt;
use crate::value::{List, Value, zero_of};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Call,
}

pub(crate) const NAMES: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        use Builtin::*;
        Some(match name {
            "and" => And,
            "or" => Or,
            "not" => Not,
            "len" => Len,
            "index" => Index,
            "slice" => Slice,
            "print" => Print,
            "printf" => Printf,
            "println" => Println,
            "html" => Html,
            "js" => Js,
            "urlquery" => Urlquery,
            "eq" => Eq,
            "ne" => Ne,
            "lt" => Lt,
            "le" => Le,
            "gt" => Gt,
            "ge" => Ge,
            "call" => Call,
            _ => return None,
        })
    }

    pub fn params(self) -> &'static [Ty] {
        use Builtin::*;
        match self {
            And | Or | Index | Slice | Eq | Call => &[Ty::Reflect],
            Not | Len => &[Ty::Reflect],
            Ne | Lt | Le | Gt | Ge => &[Ty::Reflect, Ty::Reflect],
            Print | Println | Html | Js | Urlquery => &[],
            Printf => &[Ty::String],
        }
    }

    pub fn variadic(self) -> Option<Ty> {
        use Builtin::*;
        match self {
            And | Or | Index | Slice | Eq | Call => Some(Ty::Reflect),
            Print | Println | Printf | Html | Js | Urlquery => Some(Ty::Any),
            Not | Len | Ne | Lt | Le | Gt | Ge => None,
        }
    }

    pub fn call(self, a: &[Value]) -> Result<Value, String> {
        use Builtin::*;
        match self {
            And | Or | Call => Err("unreachable".into()),
            Not => Ok(Value::Bool(!a[0].truth())),
            Len => length(&a[0]),
            Index => index(&a[0], &a[1..]),
            Slice => slice(&a[0], &a[1..], &[]),
            Print => Ok(Value::String(gofmt::sprint(a))),
            Println => Ok(Value::String(gofmt::sprintln(a))),
            Printf => {
                let f = a[0].as_str().unwrap_or_default();
                Ok(Value::String(gofmt::sprintf(f, &a[1..])))
            }
            Html => Ok(Value::String(html_escape(&eval_args(a)))),
            Js => Ok(Value::String(js_escape(&eval_args(a)))),
            Urlquery => Ok(Value::String(query_escape(&eval_args(a)))),
            Eq => eq(&a[0], &a[1..]).map(Value::Bool),
            Ne => eq(&a[0], &a[1..2]).map(|b| Value::Bool(!b)),
            Lt => lt(&a[0], &a[1]).map(Value::Bool),
            Le => le(&a[0], &a[1]).map(Value::Bool),
            Gt => le(&a[0], &a[1]).map(|b| Value::Bool(!b)),
            Ge => lt(&a[0], &a[1]).map(|b| Value::Bool(!b)),
        }
    }
}

/// `call`: no template value is a function here, so every call fails as Go's does on a
/// non-function.
pub(crate) fn call(name: &str, a: &[Value]) -> Result<Value, String> {
    match a.first() {
        None | Some(Value::Invalid | Value::Nil) => Err("call of nil".into()),
        Some(v) => Err(format!("non-function {name} of type {}", v.type_name())),
    }
}

const ZERO_TYPE: &str = "reflect: call of reflect.Value.Type on zero Value";

fn length(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.items.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.entries.len() as i64)),
        Value::Invalid => Err(ZERO_TYPE.into()),
        Value::Nil => Err("len of nil pointer".into()),
        v => Err(format!("len of type {}", v.type_name())),
    }
}

fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) => *x,
        Value::Invalid | Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => {
            return Err(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if matches!(item, Value::Invalid | Value::Nil) {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for i in indexes {
        item = match item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(ref l) => {
                let x = index_arg(i, l.items.len())?;
                match l.items.get(x) {
                    Some(v) => v.clone(),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::String(ref s) => {
                let x = index_arg(i, s.len())?;
                match s.as_bytes().get(x) {
                    Some(b) => Value::Int(*b as i64),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Map(ref m) => {
                let key = match i {
                    Value::String(k) => k,
                    Value::Invalid | Value::Nil => {
                        return Err("value is nil; should be of type string".into());
                    }
                    v => {
                        return Err(format!(
                            "value has type {}; should be string",
                            v.type_name()
                        ));
                    }
                };
                match m.entries.get(key) {
                    Some(v) => v.clone(),
                    None => zero_of(item.elem_type().unwrap_or("interface {}")),
                }
            }
            Value::Invalid => return Err(ZERO_TYPE.into()),
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

/// `slice`; `ifaces` says which indexes are interfaces, which Go's `slice` refuses.
pub(crate) fn slice(item: &Value, indexes: &[Value], ifaces: &[bool]) -> Result<Value, String> {
    if matches!(item, Value::Invalid | Value::Nil) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let (len, cap) = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            (s.len(), s.len())
        }
        Value::List(l) => (l.items.len(), l.items.len()),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut idx = [0, len, 0];
    for (n, i) in indexes.iter().enumerate() {
        if ifaces.get(n).copied().unwrap_or(false) {
            return Err("cannot index slice/array with type interface {}".into());
        }
        idx[n] = index_arg(i, cap)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::String(s) => match s.get(idx[0]..idx[1]) {
            Some(sub) => Value::String(sub.to_string()),
            None => Value::String(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into()),
        },
        Value::List(l) => Value::List(List {
            type_name: l.type_name.clone(),
            items: l.items[idx[0]..idx[1]].to_vec(),
        }),
        _ => unreachable!("checked above"),
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Complex,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn valid(v: &Value) -> bool {
    !matches!(v, Value::Invalid | Value::Nil)
}

const BAD_COMPARISON: &str = "invalid type for comparison";

fn eq(a: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if valid(a) && valid(b) {
                return Err(format!(
                    "incompatible types for comparison: {} and {}",
                    a.type_name(),
                    b.type_name()
                ));
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(x, i), Value::Complex(y, j)) => x == y && i == j,
                (Value::String(x), Value::String(y)) => x == y,
                _ => {
                    // Neither is a basic kind: Go compares kinds, then nils, then values.
                    let kind = |v: &Value| match v {
                        Value::List(_) => 1,
                        Value::Map(_) => 2,
                        Value::Struct(_) => 3,
                        _ => 0,
                    };
                    if valid(a) && valid(b) && kind(a) != kind(b) {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {b}",
                            gofmt::sprint_s(a),
                            a.type_name(),
                            b.type_name()
                        ));
                    }
                    if !valid(a) || !valid(b) {
                        valid(a) == valid(b)
                    } else if matches!(b, Value::Map(_) | Value::List(_)) {
                        return Err(format!(
                            "non-comparable type {}: {}",
                            gofmt::sprint_s(b),
                            b.type_name()
                        ));
                    } else {
                        a.type_name() == b.type_name() && a == b
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err(BAD_COMPARISON.into());
    }
    if k1 != k2 {
        return Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        ));
    }
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => return Err(BAD_COMPARISON.into()),
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `evalArgs`: one string as is, anything else through `fmt.Sprint` (an invalid value
/// printing as `<no value>`).
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.clone();
    }
    let printable: Vec<Value> = a
        .iter()
        .map(|v| match v {
            Value::Invalid | Value::Nil => Value::String("<no value>".into()),
            v => v.clone(),
        })
        .collect();
    gofmt::sprint(&printable)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if c.is_ascii() => out.push(c),
            c if gofmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
