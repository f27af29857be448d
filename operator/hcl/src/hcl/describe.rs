//! The `with …` lines of HCL's diagnostic writer: for a diagnostic carrying the expression that
//! failed and the scope it was evaluated in, the value of each variable the expression reads
//! (`with local.l as tuple with 2 elements,` / `     var.x as "abc".`), as hcl v2's
//! `DiagnosticTextWriter` renders them (`traversalStr`, `valueStr`).
//!
//! Kiln's values do not carry cty's types (a list and a tuple are both [`Value::List`], a map
//! and an object both [`Value::Object`]): a value's type is the declared one where it is known
//! (a variable's `type`, a local whose expression is a traversal of one or a call of a
//! function returning a list or set), else the type cty infers for the value (a tuple, an
//! object).

use std::collections::{BTreeMap, BTreeSet};

use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::template::{Directive, Element};

use crate::hcl::eval::Scope;
use crate::hcl::types::{Attr, Type};
use crate::value::{Number, Value};

/// One step of a traversal: an attribute or a literal index.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Attr(String),
    Index(Value),
}

/// An absolute traversal an expression reads: its root name and literal steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Traversal {
    pub root: String,
    pub steps: Vec<Step>,
    /// Where the root name is, in its source text.
    pub root_span: Option<std::ops::Range<usize>>,
}

/// The type cty infers for a value: a list is a tuple, an object an object, null and unknown
/// are dynamic.
pub fn implied(v: &Value) -> Type {
    match v {
        Value::Null | Value::Unknown => Type::Any,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(l) => Type::Tuple(l.iter().map(implied).collect()),
        Value::Object(o) => Type::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), attr(implied(v))))
                .collect(),
        ),
    }
}

fn attr(ty: Type) -> Attr {
    Attr {
        ty,
        optional: false,
        default: None,
    }
}

/// The concrete type of a value converted to a declared type (`any` parts take the value's
/// own type, as cty's conversion gives them).
pub fn concrete(v: &Value, declared: Option<&Type>) -> Type {
    let Some(t) = declared else {
        return implied(v);
    };
    match (t, v) {
        (Type::Any, _) => implied(v),
        (Type::List(e) | Type::Set(e) | Type::Map(e), _) => {
            let items: Vec<&Value> = match v {
                Value::List(l) => l.iter().collect(),
                Value::Object(o) => o.values().collect(),
                _ => Vec::new(),
            };
            let et = if has_any(e) {
                let mut acc: Option<Type> = None;
                for i in items {
                    let it = concrete(i, Some(e));
                    acc = Some(match acc {
                        None => it,
                        Some(a) if a == it => a,
                        Some(a) => crate::hcl::eval::unify_types(&a, &it).unwrap_or(a),
                    });
                }
                acc.unwrap_or((**e).clone())
            } else {
                (**e).clone()
            };
            match t {
                Type::List(_) => Type::List(Box::new(et)),
                Type::Set(_) => Type::Set(Box::new(et)),
                _ => Type::Map(Box::new(et)),
            }
        }
        (Type::Tuple(ts), Value::List(l)) => Type::Tuple(
            l.iter()
                .enumerate()
                .map(|(i, x)| concrete(x, ts.get(i)))
                .collect(),
        ),
        (Type::Object(attrs), Value::Object(o)) => Type::Object(
            attrs
                .iter()
                .map(|(k, a)| {
                    let ty = match o.get(k) {
                        Some(x) => concrete(x, Some(&a.ty)),
                        None => a.ty.clone(),
                    };
                    (k.clone(), attr(ty))
                })
                .collect(),
        ),
        _ => t.clone(),
    }
}

fn has_any(t: &Type) -> bool {
    match t {
        Type::Any => true,
        Type::List(e) | Type::Set(e) | Type::Map(e) => has_any(e),
        Type::Tuple(ts) => ts.iter().any(has_any),
        Type::Object(a) => a.values().any(|a| has_any(&a.ty)),
        _ => false,
    }
}

/// The type of one step into a value of type `t` (`None`: not known, take the value's own).
pub fn step_type(t: &Type, step: &Step) -> Option<Type> {
    match (t, step) {
        (Type::Object(attrs), Step::Attr(k)) => attrs.get(k).map(|a| a.ty.clone()),
        (Type::Object(attrs), Step::Index(Value::String(k))) => attrs.get(k).map(|a| a.ty.clone()),
        (Type::Map(e), _) | (Type::List(e), Step::Index(_)) | (Type::Set(e), Step::Index(_)) => {
            Some((**e).clone())
        }
        (Type::Tuple(ts), Step::Index(i)) => i
            .to_num()
            .and_then(|n| n.to_i64())
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| ts.get(i).cloned()),
        _ => None,
    }
}

/// cty's `FriendlyName` of a type.
pub fn friendly(t: &Type) -> String {
    match t {
        Type::Any => "dynamic".into(),
        Type::String => "string".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::List(e) => format!("list of {}", friendly(e)),
        Type::Set(e) => format!("set of {}", friendly(e)),
        Type::Map(e) => format!("map of {}", friendly(e)),
        Type::Tuple(_) => "tuple".into(),
        Type::Object(_) => "object".into(),
    }
}

/// hclsyntax's `describeConditionalTypeMismatch`: how two types that do not unify differ.
pub fn mismatch(t: &Type, f: &Type) -> String {
    match (t, f) {
        (Type::Object(ta), Type::Object(fa)) => {
            for (name, a) in ta {
                match fa.get(name) {
                    None => {
                        return format!(
                            "The 'true' value includes object attribute {}, which is absent in the 'false' value",
                            crate::value::go_quote(name)
                        );
                    }
                    Some(b) if a.ty != b.ty => {
                        return format!(
                            "Type mismatch for object attribute {}: {}",
                            crate::value::go_quote(name),
                            mismatch(&a.ty, &b.ty)
                        );
                    }
                    _ => {}
                }
            }
            for name in fa.keys() {
                if !ta.contains_key(name) {
                    return format!(
                        "The 'false' value includes object attribute {}, which is absent in the 'true' value",
                        crate::value::go_quote(name)
                    );
                }
            }
        }
        (Type::Tuple(te), Type::Tuple(fe)) => {
            if te.len() != fe.len() {
                return format!(
                    "The 'true' tuple has length {}, but the 'false' tuple has length {}",
                    te.len(),
                    fe.len()
                );
            }
            for (i, (a, b)) in te.iter().zip(fe).enumerate() {
                if a != b {
                    return format!("Type mismatch for tuple element {i}: {}", mismatch(a, b));
                }
            }
        }
        (Type::List(a), Type::List(b))
        | (Type::Map(a), Type::Map(b))
        | (Type::Set(a), Type::Set(b))
            if matches!(
                (&**a, &**b),
                (Type::Object(_), Type::Object(_)) | (Type::Tuple(_), Type::Tuple(_))
            ) =>
        {
            let noun = match t {
                Type::List(_) => "list",
                Type::Set(_) => "set",
                _ => "map",
            };
            return format!("Mismatched {noun} element types: {}", mismatch(a, b));
        }
        _ => {}
    }
    let (tn, fname) = (friendly(t), friendly(f));
    if tn == fname {
        return "At least one deeply-nested attribute or element is not compatible across both the 'true' and the 'false' value".into();
    }
    format!("The 'true' value is {tn}, but the 'false' value is {fname}")
}

/// hcl's `valueStr`: a value of type `t` described in a few words.
pub fn value_str(v: &Value, t: &Type) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Unknown => "(not yet known)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => g10(n),
        Value::String(s) => crate::value::go_quote(s),
        Value::List(_) | Value::Object(_) => {
            let len = match v {
                Value::List(l) => l.len(),
                Value::Object(o) => o.len(),
                _ => 0,
            };
            match t {
                Type::Object(attrs) => match attrs.len() {
                    0 => "object with no attributes".into(),
                    1 => format!(
                        "object with 1 attribute {}",
                        crate::value::go_quote(
                            attrs.keys().next().map(String::as_str).unwrap_or("")
                        )
                    ),
                    n => format!("object with {n} attributes"),
                },
                Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Tuple(_) => {
                    let name = friendly(t);
                    match len {
                        0 => format!("empty {name}"),
                        1 => format!("{name} with 1 element"),
                        n => format!("{name} with {n} elements"),
                    }
                }
                _ => value_str(v, &implied(v)),
            }
        }
    }
}

/// Go's `big.Float.Text('g', 10)`: at most 10 significant digits, in exponent form when the
/// exponent is below -4 or at least the digits' count (up to 10).
pub fn g10(n: &Number) -> String {
    let Some((neg, mut d, mut dp)) = n.decimal(false) else {
        return if n.is_negative() { "-Inf" } else { "+Inf" }.into();
    };
    let sign = if neg { "-" } else { "" };
    if d.is_empty() {
        return format!("{sign}0");
    }
    const PREC: usize = 10;
    if d.len() > PREC {
        // Go's decimal rounding: half to even only when the 5 is the last digit.
        let up = if d[PREC] == b'5' && d.len() == PREC + 1 {
            (d[PREC - 1] - b'0') % 2 == 1
        } else {
            d[PREC] >= b'5'
        };
        d.truncate(PREC);
        if up {
            let mut i = PREC;
            loop {
                if i == 0 {
                    d.insert(0, b'1');
                    d.truncate(PREC);
                    dp += 1;
                    break;
                }
                i -= 1;
                if d[i] == b'9' {
                    d[i] = b'0';
                } else {
                    d[i] += 1;
                    break;
                }
            }
        }
        while d.last() == Some(&b'0') {
            d.pop();
        }
    }
    let len = d.len() as i64;
    let mut eprec = PREC as i64;
    if eprec > len && len >= dp {
        eprec = len;
    }
    let exp = dp - 1;
    let digits = std::str::from_utf8(&d).unwrap_or("0");
    if exp < -4 || exp >= eprec {
        let mut out = format!("{sign}{}", &digits[..1]);
        if d.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let es = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("e{es}{:02}", exp.abs()));
        return out;
    }
    // %f with the digits after the point that the mantissa has.
    let mut out = String::from(sign);
    if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(digits);
    } else if dp >= len {
        out.push_str(digits);
        out.push_str(&"0".repeat((dp - len) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

/// hcl's `traversalStr`.
fn traversal_str(t: &Traversal) -> String {
    let mut s = t.root.clone();
    for step in &t.steps {
        match step {
            Step::Attr(n) => {
                s.push('.');
                s.push_str(n);
            }
            Step::Index(k) => {
                s.push('[');
                match k {
                    Value::List(_) | Value::Object(_) => s.push_str("..."),
                    k => s.push_str(&value_str(k, &implied(k))),
                }
                s.push(']');
            }
        }
    }
    s
}

/// The traversals an expression reads (hclsyntax's `Variables`): each absolute traversal with
/// its literal steps, but not the names a `for` expression inside binds.
pub fn variables(expr: &Expression) -> Vec<Traversal> {
    let mut out = Vec::new();
    walk(expr, &mut Vec::new(), &mut out);
    out
}

/// The literal steps of a traversal's operators, up to the first that is not literal (an index
/// computed by an expression, a splat).
pub fn literal_steps(ops: &[&TraversalOperator]) -> (Vec<Step>, usize) {
    let mut steps = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            TraversalOperator::GetAttr(n) => steps.push(Step::Attr(n.as_str().to_string())),
            TraversalOperator::LegacyIndex(n) => {
                steps.push(Step::Index(Value::Number(Number::from(*n.value() as i64))))
            }
            TraversalOperator::Index(e) => match literal(e) {
                Some(v) => steps.push(Step::Index(v)),
                None => return (steps, i),
            },
            _ => return (steps, i),
        }
    }
    let n = ops.len();
    (steps, n)
}

/// A key hclsyntax's parser takes as a literal traversal step: a number, bool, null or a
/// quoted string without interpolations.
fn literal(e: &Expression) -> Option<Value> {
    match e {
        // A negative number is an operation in hclsyntax (an index expression, not a step).
        Expression::Number(n) if n.value().as_f64().is_some_and(|x| x < 0.0) => None,
        Expression::Number(n) => Some(Value::Number(
            n.value().as_f64().map(Number::from).unwrap_or(Number::ZERO),
        )),
        Expression::String(s) => Some(Value::String(s.value().clone())),
        Expression::Bool(b) => Some(Value::Bool(*b.value())),
        Expression::Null(_) => Some(Value::Null),
        _ => None,
    }
}

/// The variables of a traversal expression's part: its base and the first `upto` operators.
pub fn traversal_prefix_variables(
    base: &Expression,
    ops: &[&TraversalOperator],
    upto: usize,
) -> Vec<Traversal> {
    let mut out = Vec::new();
    let mut bound = Vec::new();
    walk_traversal(base, &ops[..upto.min(ops.len())], &mut bound, &mut out);
    out
}

fn walk_traversal(
    base: &Expression,
    ops: &[&TraversalOperator],
    bound: &mut Vec<String>,
    out: &mut Vec<Traversal>,
) {
    let rest = if let Expression::Variable(v) = base {
        let (steps, n) = literal_steps(ops);
        if !bound.iter().any(|b| b == v.as_str()) {
            out.push(Traversal {
                root: v.as_str().to_string(),
                steps,
                root_span: hcl::edit::Span::span(v),
            });
        }
        &ops[n..]
    } else {
        walk(base, bound, out);
        ops
    };
    for (i, op) in rest.iter().enumerate() {
        match op {
            TraversalOperator::Index(e) => walk(e, bound, out),
            // What follows a splat reads the splat's elements, not variables.
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                for op in &rest[i + 1..] {
                    if let TraversalOperator::Index(e) = op {
                        walk(e, bound, out);
                    }
                }
                return;
            }
            _ => {}
        }
    }
}

fn walk(e: &Expression, bound: &mut Vec<String>, out: &mut Vec<Traversal>) {
    match e {
        Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) => {}
        Expression::String(_) => {}
        Expression::Variable(v) => {
            if !bound.iter().any(|b| b == v.as_str()) {
                out.push(Traversal {
                    root: v.as_str().to_string(),
                    steps: Vec::new(),
                    root_span: hcl::edit::Span::span(v),
                });
            }
        }
        Expression::Array(items) => items.iter().for_each(|i| walk(i, bound, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let ObjectKey::Expression(k) = k {
                    // A bare name as a key is a literal, not a variable.
                    if !matches!(k, Expression::Variable(_)) {
                        walk(k, bound, out);
                    }
                }
                walk(v.expr(), bound, out);
            }
        }
        Expression::StringTemplate(t) => walk_elems(t.iter(), bound, out),
        Expression::HeredocTemplate(h) => walk_elems(h.template.iter(), bound, out),
        Expression::Parenthesis(p) => walk(p.inner(), bound, out),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, bound, out);
            walk(&c.true_expr, bound, out);
            walk(&c.false_expr, bound, out);
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|a| walk(a, bound, out)),
        Expression::Traversal(t) => {
            let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
            walk_traversal(&t.expr, &ops, bound, out);
        }
        Expression::UnaryOp(op) => walk(&op.expr, bound, out),
        Expression::BinaryOp(op) => {
            walk(&op.lhs_expr, bound, out);
            walk(&op.rhs_expr, bound, out);
        }
        Expression::ForExpr(f) => {
            walk(&f.intro.collection_expr, bound, out);
            let n = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.as_str().to_string());
            }
            bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                walk(k, bound, out);
            }
            walk(&f.value_expr, bound, out);
            if let Some(c) = &f.cond {
                walk(&c.expr, bound, out);
            }
            bound.truncate(n);
        }
    }
}

fn walk_elems<'a>(
    elems: impl Iterator<Item = &'a Element>,
    bound: &mut Vec<String>,
    out: &mut Vec<Traversal>,
) {
    for el in elems {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk(&i.expr, bound, out),
            Element::Directive(d) => match &**d {
                Directive::If(d) => {
                    walk(&d.if_expr.cond_expr, bound, out);
                    walk_elems(d.if_expr.template.iter(), bound, out);
                    if let Some(e) = &d.else_expr {
                        walk_elems(e.template.iter(), bound, out);
                    }
                }
                Directive::For(d) => {
                    let fe = &d.for_expr;
                    walk(&fe.collection_expr, bound, out);
                    let n = bound.len();
                    if let Some(k) = &fe.key_var {
                        bound.push(k.as_str().to_string());
                    }
                    bound.push(fe.value_var.as_str().to_string());
                    walk_elems(fe.template.iter(), bound, out);
                    bound.truncate(n);
                }
            },
        }
    }
}

/// hcl's `TraverseAbs` of a traversal in a scope: its value and type, `None` when a step
/// fails.
fn traverse_abs(t: &Traversal, scope: &Scope) -> Option<(Value, Type)> {
    let mut cur = scope.get(&t.root)?;
    let mut ty = scope.type_of(&t.root);
    for step in &t.steps {
        // A set has no index (hcl's `Index` fails on one).
        if matches!((&ty, step), (Some(Type::Set(_)), Step::Index(_))) {
            return None;
        }
        let next = match (step, cur) {
            (Step::Attr(n), Value::Object(m)) => m.get(n)?,
            (Step::Index(k), Value::List(l)) => {
                let n = k.to_num()?;
                let i = n.to_i64().filter(|_| n.is_integer())?;
                l.get(usize::try_from(i).ok()?)?
            }
            (Step::Index(k), Value::Object(m)) => m.get(&k.to_string_lossless()?)?,
            _ => return None,
        };
        ty = ty.as_ref().and_then(|t| step_type(t, step));
        cur = next;
    }
    let ty = concrete(cur, ty.as_ref());
    Some((cur.clone(), ty))
}

/// The `with …` statements for an expression evaluated in `scope`: each variable it reads
/// that has a known value, `NAME as VALUE` or `NAME set to null`, sorted, each name once.
pub fn statements(vars: &[Traversal], scope: &Scope) -> Vec<String> {
    let mut stmts = Vec::new();
    let mut seen = BTreeSet::new();
    for t in vars {
        let Some((v, ty)) = traverse_abs(t, scope) else {
            continue;
        };
        let s = traversal_str(t);
        if seen.contains(&s) {
            continue;
        }
        match v {
            Value::Unknown => continue,
            Value::Null => stmts.push(format!("{s} set to null")),
            v => stmts.push(format!("{s} as {}", value_str(&v, &ty))),
        }
        seen.insert(s);
    }
    stmts.sort();
    stmts
}

/// The type of an expression's value where the expression tells more than the value: a
/// traversal of a typed variable, a call of a function returning a list or a set. `None`: the
/// value's own type.
pub fn static_type(expr: &Expression, scope: &Scope) -> Option<Type> {
    static_type_with(expr, scope, None)
}

/// An evaluation of sub-expressions for [`static_type_with`]: their values, `None` when
/// they fail.
pub type SubEval<'a> = Option<&'a dyn Fn(&Expression) -> Option<Value>>;

/// [`static_type`], where `ev` (when given) evaluates sub-expressions for the functions whose
/// result type depends on which argument gives it (`try`, `coalescelist`) or on an index
/// (`element`, `lookup` of an object).
pub fn static_type_with(expr: &Expression, scope: &Scope, ev: SubEval) -> Option<Type> {
    match expr {
        Expression::Parenthesis(p) => static_type_with(p.inner(), scope, ev),
        // hclsyntax's conditional: the two results' types unified (`true ? var.list :
        // var.other_list` is a list, `true ? var.map : { k = 1 }` a map).
        Expression::Conditional(c) => {
            let a = literal_type(&c.true_expr, scope, ev)?;
            let b = literal_type(&c.false_expr, scope, ev)?;
            if a == b {
                Some(a)
            } else {
                crate::hcl::eval::unify_types(&a, &b)
            }
        }
        Expression::Variable(v) => scope.type_of(v.as_str()),
        Expression::Traversal(t) => {
            let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
            let (steps, n) = literal_steps(&ops);
            let mut ty = match &t.expr {
                Expression::Variable(root) => scope.type_of(root.as_str())?,
                base => static_type_with(base, scope, ev)?,
            };
            for s in &steps {
                ty = step_type(&ty, s)?;
            }
            let rest = &ops[n..];
            let Some(first) = rest.first() else {
                return Some(ty);
            };
            // hcl's splat of a list (or set) is a list of what follows it, applied to each
            // element (of anything else, a tuple: left to the value).
            if !matches!(
                first,
                TraversalOperator::FullSplat(_) | TraversalOperator::AttrSplat(_)
            ) {
                return None;
            }
            let (Type::List(elem) | Type::Set(elem)) = ty else {
                return None;
            };
            let (after, m) = literal_steps(&rest[1..]);
            if m != rest.len() - 1 {
                return None;
            }
            let mut elem = *elem;
            for s in &after {
                elem = step_type(&elem, s)?;
            }
            Some(Type::List(Box::new(elem)))
        }
        Expression::FuncCall(call) if !call.name.is_namespaced() => {
            let any = || Box::new(Type::Any);
            Some(match call.name.name.as_str() {
                "split" | "formatlist" | "compact" | "sort" => Type::List(Box::new(Type::String)),
                "range" => Type::List(Box::new(Type::Number)),
                "tolist" | "regexall" => Type::List(any()),
                "chunklist" => Type::List(Box::new(Type::List(any()))),
                "toset" | "setunion" | "setintersection" | "setsubtract" | "setproduct" => {
                    Type::Set(any())
                }
                "fileset" => Type::Set(Box::new(Type::String)),
                // cty's stdlib return types, where the arguments' types decide them.
                "concat" => {
                    // All lists: a list of their common element type (else a tuple).
                    let mut elem: Option<Type> = None;
                    for a in call.args.iter() {
                        let Type::List(e) = static_type_with(a, scope, ev)? else {
                            return None;
                        };
                        match &elem {
                            None => elem = Some(*e),
                            Some(t) if *t == *e => {}
                            Some(_) => elem = Some(Type::Any),
                        }
                    }
                    Type::List(Box::new(elem?))
                }
                "slice" | "reverse" | "distinct" => {
                    let first = call.args.iter().next()?;
                    match static_type_with(first, scope, ev)? {
                        Type::List(e) => Type::List(e),
                        _ if call.name.name.as_str() == "distinct" => Type::List(any()),
                        _ => return None,
                    }
                }
                // Maps of one type: that type (objects or a mix: an object).
                "merge" => one_type(call, scope, ev, |t| matches!(t, Type::Map(_)))?,
                // cty's coalescelist: lists of one type give that type; else the value is the
                // first non-empty argument's, of its type.
                "coalescelist" => match one_type(call, scope, ev, |t| matches!(t, Type::List(_))) {
                    Some(t) => t,
                    None => {
                        let ev = ev?;
                        let chosen = call
                            .args
                            .iter()
                            .find(|a| matches!(ev(a), Some(Value::List(l)) if !l.is_empty()))?;
                        static_type_with(chosen, scope, Some(ev))?
                    }
                },
                // hcl's try: the first argument that evaluates, with its type.
                "try" => {
                    let ev = ev?;
                    let chosen = call.args.iter().find(|a| ev(a).is_some())?;
                    static_type_with(chosen, scope, Some(ev))?
                }
                // cty's element: a list's (set's) element type; a tuple's element at the index.
                "element" => {
                    let mut args = call.args.iter();
                    match static_type_with(args.next()?, scope, ev)? {
                        Type::List(e) | Type::Set(e) => *e,
                        Type::Tuple(ts) if !ts.is_empty() => {
                            let i = ev?(args.next()?)?.to_num()?.to_i64()?;
                            ts[usize::try_from(i.rem_euclid(ts.len() as i64)).ok()?].clone()
                        }
                        _ => return None,
                    }
                }
                // cty's lookup: a map's element type; an object's attribute (or the default's
                // type when it has none).
                "lookup" => {
                    let args: Vec<&Expression> = call.args.iter().collect();
                    match static_type_with(args.first()?, scope, ev)? {
                        Type::Map(e) => *e,
                        Type::Object(attrs) => {
                            let key = ev?(args.get(1)?)?.to_string_lossless()?;
                            match attrs.get(&key) {
                                Some(a) => a.ty.clone(),
                                None => static_type_with(args.get(2)?, scope, ev)?,
                            }
                        }
                        _ => return None,
                    }
                }
                "values" => match static_type_with(call.args.iter().next()?, scope, ev)? {
                    Type::Map(e) => Type::List(e),
                    _ => return None,
                },
                "keys" => match static_type_with(call.args.iter().next()?, scope, ev)? {
                    Type::Map(_) => Type::List(Box::new(Type::String)),
                    _ => return None,
                },
                "zipmap" => match static_type_with(call.args.iter().nth(1)?, scope, ev)? {
                    Type::List(e) => Type::Map(e),
                    _ => return None,
                },
                _ => return None,
            })
        }
        _ => None,
    }
}

/// The one type every argument of a call has, when each is of the kind `kind` accepts.
fn one_type(
    call: &hcl::edit::expr::FuncCall,
    scope: &Scope,
    ev: SubEval,
    kind: fn(&Type) -> bool,
) -> Option<Type> {
    let mut first: Option<Type> = None;
    for a in call.args.iter() {
        let t = static_type_with(a, scope, ev)?;
        if !kind(&t) {
            return None;
        }
        match &first {
            None => first = Some(t),
            Some(f) if *f == t => {}
            Some(_) => return None,
        }
    }
    first
}

/// [`static_type`], or the type a literal has (numbers, strings, booleans, templates, and
/// tuples and objects of such): a conditional's other result.
fn literal_type(expr: &Expression, scope: &Scope, ev: SubEval) -> Option<Type> {
    if let Some(t) = static_type_with(expr, scope, ev) {
        return Some(t);
    }
    Some(match expr {
        Expression::Number(_) => Type::Number,
        Expression::String(_) | Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => {
            Type::String
        }
        Expression::Bool(_) => Type::Bool,
        Expression::Array(items) => Type::Tuple(
            items
                .iter()
                .map(|e| literal_type(e, scope, ev))
                .collect::<Option<_>>()?,
        ),
        Expression::Object(obj) => {
            let mut attrs = BTreeMap::new();
            for (k, v) in obj.iter() {
                let name = match k {
                    ObjectKey::Ident(id) => id.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                    ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
                    _ => return None,
                };
                let ty = literal_type(v.expr(), scope, ev)?;
                attrs.insert(
                    name,
                    Attr {
                        ty,
                        optional: false,
                        default: None,
                    },
                );
            }
            Type::Object(attrs)
        }
        _ => return None,
    })
}

/// The types of a template's roots (`var`, `local`) by name, for [`Scope::typed`].
pub type RootTypes = BTreeMap<String, Type>;

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn numbers_as_go_big_float_g10() {
        assert_eq!(g10(&n("12345678901")), "1.23456789e+10");
        assert_eq!(g10(&n("100")), "100");
        assert_eq!(g10(&n("1.5")), "1.5");
        assert_eq!(g10(&n("1e10")), "1e+10");
        assert_eq!(g10(&n("999999999")), "999999999");
        assert_eq!(g10(&n("9999999999")), "9999999999");
        assert_eq!(g10(&n("99999999999")), "1e+11");
        assert_eq!(g10(&n("0.001")), "0.001");
        assert_eq!(g10(&n("0.00001")), "1e-05");
        assert_eq!(g10(&n("-2")), "-2");
        assert_eq!(g10(&n("0")), "0");
        assert_eq!(g10(&n("0.1")), "0.1");
    }

    #[test]
    fn values_described_by_type() {
        let l = Value::List(vec![Value::str("a"), Value::str("b")]);
        assert_eq!(value_str(&l, &implied(&l)), "tuple with 2 elements");
        assert_eq!(
            value_str(&l, &concrete(&l, Some(&Type::List(Box::new(Type::Any))))),
            "list of string with 2 elements"
        );
        let e = Value::List(vec![]);
        assert_eq!(value_str(&e, &implied(&e)), "empty tuple");
        let o = Value::Object([("a".to_string(), Value::num(1.0))].into());
        assert_eq!(value_str(&o, &implied(&o)), "object with 1 attribute \"a\"");
        assert_eq!(
            value_str(&o, &Type::Map(Box::new(Type::Number))),
            "map of number with 1 element"
        );
    }
}
