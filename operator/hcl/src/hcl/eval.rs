//! The expression evaluator. It walks hcl-edit's syntax tree (which keeps byte spans), so every
//! evaluation error points at the offending text in its file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hcl::edit::Span;
use hcl::edit::expr::{
    BinaryOperator, Expression, ForExpr, FuncCall, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl::edit::template::{Directive, Element, Strip, Template};

use crate::diag::{Diagnostic, FailedType, SourceFile};
use crate::functions::{self, FuncCtx, FuncError};
use crate::hcl::describe;
use crate::hcl::types::{self, TypeExprError};
use crate::value::{Number, Value};

/// Variables visible to an expression, with an optional parent scope (for-expressions and
/// dynamic blocks add names on top of the template's).
#[derive(Debug, Default)]
pub struct Scope<'p> {
    vars: BTreeMap<String, Value>,
    /// Borrowed names of one body's context (`source`, `build`), looked up after `vars`.
    overlay: Option<&'p BTreeMap<String, Value>>,
    /// Borrowed root values (a template's `var`, `local`, …), looked up after those.
    base: Option<&'p BTreeMap<String, Value>>,
    /// The declared types of `base`'s roots (see [`crate::hcl::describe`]).
    types: Option<&'p crate::hcl::describe::RootTypes>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    pub fn new() -> Scope<'static> {
        Scope {
            vars: BTreeMap::new(),
            overlay: None,
            base: None,
            types: None,
            parent: None,
        }
    }

    /// This scope with the declared types of its base's roots.
    pub fn typed(mut self, types: &'p crate::hcl::describe::RootTypes) -> Self {
        self.types = Some(types);
        self
    }

    /// The declared type of a root name, when it is one of the base's and known.
    pub fn type_of(&self, name: &str) -> Option<crate::hcl::types::Type> {
        if self.vars.contains_key(name) || self.overlay.is_some_and(|o| o.contains_key(name)) {
            return None;
        }
        if self.base.is_some_and(|b| b.contains_key(name)) {
            return self.types.and_then(|t| t.get(name)).cloned();
        }
        self.parent.and_then(|p| p.type_of(name))
    }

    /// A scope reading `base` without copying it.
    pub fn over(base: &'p BTreeMap<String, Value>) -> Scope<'p> {
        Scope {
            vars: BTreeMap::new(),
            overlay: None,
            base: Some(base),
            types: None,
            parent: None,
        }
    }

    /// A scope reading `overlay`, then `base`, without copying either.
    pub fn layered(
        overlay: &'p BTreeMap<String, Value>,
        base: &'p BTreeMap<String, Value>,
    ) -> Scope<'p> {
        Scope {
            vars: BTreeMap::new(),
            overlay: Some(overlay),
            base: Some(base),
            types: None,
            parent: None,
        }
    }

    pub fn child(&'p self) -> Scope<'p> {
        Scope {
            vars: BTreeMap::new(),
            overlay: None,
            base: None,
            types: None,
            parent: Some(self),
        }
    }

    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.vars.insert(name.into(), value);
    }

    pub fn with(mut self, name: impl Into<String>, value: Value) -> Self {
        self.set(name, value);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars
            .get(name)
            .or_else(|| self.overlay.and_then(|o| o.get(name)))
            .or_else(|| self.base.and_then(|b| b.get(name)))
            .or_else(|| self.parent.and_then(|p| p.get(name)))
    }

    /// hcl's suggestion for an unknown root name: a name of the scope within an edit
    /// distance of 3 (see [`name_suggestion`]).
    pub fn suggestion(&self, given: &str) -> Option<String> {
        let mut names: Vec<&String> = Vec::new();
        let mut at = Some(self);
        while let Some(s) = at {
            names.extend(s.vars.keys());
            names.extend(s.overlay.iter().flat_map(|o| o.keys()));
            names.extend(s.base.iter().flat_map(|b| b.keys()));
            at = s.parent;
        }
        name_suggestion(given, names.into_iter().map(String::as_str)).map(str::to_string)
    }

    /// Mutable access to a root object such as `var` or `local`, created when missing.
    pub fn object_mut(&mut self, name: &str) -> &mut BTreeMap<String, Value> {
        let entry = self
            .vars
            .entry(name.to_string())
            .or_insert_with(|| Value::Object(BTreeMap::new()));
        if !matches!(entry, Value::Object(_)) {
            *entry = Value::Object(BTreeMap::new());
        }
        match entry {
            Value::Object(o) => o,
            _ => unreachable!("just made an object"),
        }
    }
}

/// A span computed here (see `Evaluator::with_dot`).
struct AttrStep(Option<std::ops::Range<usize>>);

impl Span for AttrStep {
    fn span(&self) -> Option<std::ops::Range<usize>> {
        self.0.clone()
    }
}

/// Evaluates expressions of one source file.
#[derive(Clone)]
pub struct Evaluator {
    pub file: Arc<SourceFile>,
    pub funcs: FuncCtx,
    /// Set while evaluating a `templatefile` template: recursion is forbidden.
    in_templatefile: bool,
}

type R = Result<Value, Diagnostic>;

/// Maximum nesting of expressions before evaluation refuses (guards the stack on hostile input).
const MAX_DEPTH: usize = 200;
/// Largest string a template may build.
const MAX_STRING: usize = 64 << 20;

impl Evaluator {
    pub fn new(file: Arc<SourceFile>, funcs: FuncCtx) -> Evaluator {
        Evaluator {
            file,
            funcs,
            in_templatefile: false,
        }
    }

    /// A diagnostic pointing at `expr`.
    /// The span of `name` (an attribute step) widened to the `.` before it.
    fn with_dot(&self, name: &impl Span) -> Option<std::ops::Range<usize>> {
        let r = name.span()?;
        let t = self.file.text.as_bytes();
        let mut at = r.start.min(t.len());
        while at > 0 && t[at - 1].is_ascii_whitespace() {
            at -= 1;
        }
        Some(if at > 0 && t[at - 1] == b'.' {
            at - 1..r.end
        } else {
            r
        })
    }

    pub fn error_at(
        &self,
        expr: &impl Span,
        summary: &str,
        detail: impl Into<String>,
    ) -> Diagnostic {
        let d = Diagnostic::error(summary, detail);
        match expr.span() {
            Some(r) => d.at(self.file.subject(r)),
            None => d,
        }
    }

    /// A diagnostic pointing at a byte range of the file (none: no place).
    fn error_in(
        &self,
        range: Option<std::ops::Range<usize>>,
        summary: &str,
        detail: impl Into<String>,
    ) -> Diagnostic {
        let d = Diagnostic::error(summary, detail);
        match range {
            Some(r) => d.at(self.file.subject(r)),
            None => d,
        }
    }

    /// hcl's range of a traversal step: an attribute name with its dot (`.b`), an index
    /// with its brackets (`[5]`).
    fn step_range(&self, at: &impl Span) -> Option<std::ops::Range<usize>> {
        let r = at.span()?;
        let text = self.file.text.as_bytes();
        let before = text[..r.start.min(text.len())]
            .iter()
            .rposition(|c| !c.is_ascii_whitespace());
        match before.map(|i| (i, text[i])) {
            Some((i, b'.')) => Some(i..r.end),
            Some((i, b'[')) => {
                let close = text[r.end.min(text.len())..]
                    .iter()
                    .position(|c| !c.is_ascii_whitespace())
                    .map(|j| r.end + j)
                    .filter(|&j| text[j] == b']');
                Some(i..close.map_or(r.end, |j| j + 1))
            }
            _ => Some(r),
        }
    }

    /// hclsyntax's `StartRange` of a function call: its name and opening parenthesis.
    fn call_start(&self, call: &FuncCall) -> Option<std::ops::Range<usize>> {
        let name = call.name.name.span().or_else(|| call.span())?;
        let text = self.file.text.as_bytes();
        let end = if text.get(name.end) == Some(&b'(') {
            name.end + 1
        } else {
            name.end
        };
        let start = call.span().map_or(name.start, |c| c.start.min(name.start));
        Some(start..end)
    }

    /// hclsyntax's `StartRange` of an argument: a call's name and parenthesis, else the
    /// whole expression.
    pub fn start_range(&self, e: &Expression) -> Option<std::ops::Range<usize>> {
        match e {
            Expression::FuncCall(call) => self.call_start(call),
            // A quoted string starts with its text, inside the quotes.
            Expression::String(_) => {
                let r = e.span()?;
                if r.end >= r.start + 3 && self.file.text.as_bytes().get(r.start) == Some(&b'"') {
                    Some(r.start + 1..r.end - 1)
                } else {
                    Some(r)
                }
            }
            // A tuple, object or `for` expression: its opening bracket.
            Expression::Array(_) | Expression::Object(_) | Expression::ForExpr(_) => {
                let r = e.span()?;
                Some(r.start..(r.start + 1).min(r.end))
            }
            Expression::Parenthesis(p) => self.start_range(p.inner()),
            Expression::Conditional(c) => self.start_range(&c.cond_expr),
            Expression::BinaryOp(op) => self.start_range(&op.lhs_expr),
            // The operator symbol.
            Expression::UnaryOp(_) => {
                let r = e.span()?;
                Some(r.start..(r.start + 1).min(r.end))
            }
            // A traversal ending with an index computed by an expression is an index
            // expression: its opening bracket.
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                let splat = ops.iter().any(|o| {
                    matches!(
                        o,
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)
                    )
                });
                if splat {
                    // A splat expression: its marker (`[*]`, `.*`).
                    let k = ops.iter().position(|o| {
                        matches!(
                            o,
                            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)
                        )
                    })?;
                    let op = t.operators.get(k)?;
                    return match op.value() {
                        TraversalOperator::AttrSplat(sp) | TraversalOperator::FullSplat(sp) => {
                            self.step_range(sp).or_else(|| e.span())
                        }
                        _ => e.span(),
                    };
                }
                match ops.last() {
                    Some(TraversalOperator::Index(ix))
                        if describe::literal_steps(&ops[ops.len() - 1..]).1 == 0 =>
                    {
                        let r = self.step_range(ix)?;
                        Some(r.start..(r.start + 1).min(r.end))
                    }
                    _ => e.span(),
                }
            }
            // A heredoc starts with its first part: its first line's text (after the
            // indentation a `<<-` heredoc strips) up to an interpolation or directive or the
            // closing marker's line.
            Expression::HeredocTemplate(h) => {
                if let Some(Element::Interpolation(i)) = h.template.iter().next() {
                    return self.start_range(&i.expr);
                }
                let r = e.span()?;
                let text = self.file.text.get(r.clone())?;
                let body_at = text.find('\n')? + 1;
                let close = text.trim_end().rfind('\n').map_or(text.len(), |i| i + 1);
                let body = text.get(body_at..close.max(body_at))?;
                let indent = if text.starts_with("<<-") {
                    body.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| l.len() - l.trim_start().len())
                        .min()
                        .unwrap_or(0)
                } else {
                    0
                };
                let from = body_at + indent.min(body.len());
                let b = text.as_bytes();
                let mut to = close.max(from);
                let mut i = from;
                while i + 1 < close {
                    if matches!(b[i], b'$' | b'%') && b[i + 1] == b'{' {
                        if i > from && b[i - 1] == b[i] {
                            i += 2;
                            continue;
                        }
                        to = i;
                        break;
                    }
                    i += 1;
                }
                Some(r.start + from..r.start + to)
            }
            // A template starts with its first part (one interpolation alone is the whole).
            Expression::StringTemplate(t) => {
                let elems: Vec<&Element> = t.iter().collect();
                match elems.as_slice() {
                    [Element::Interpolation(_)] => e.span(),
                    [Element::Interpolation(i), ..] => self.start_range(&i.expr),
                    [Element::Literal(l), ..] => l.span().or_else(|| e.span()),
                    _ => e.span(),
                }
            }
            other => other.span(),
        }
    }

    /// `d` with HCL's `with …` statements for `expr` evaluated in `scope` (the diagnostics
    /// hclsyntax gives an expression and its evaluation context).
    fn with(&self, d: Diagnostic, expr: &Expression, scope: &Scope) -> Diagnostic {
        d.with_statements(describe::statements(&describe::variables(expr), scope))
    }

    /// The type of an evaluation's result as hclsyntax has it: a value's (its expression's
    /// declared type where known), or the type a failed expression still gives
    /// ([`Diagnostic::failed`]); `any` for an unknown or dynamic one.
    fn result_type(&self, r: &R, e: &Expression, scope: &Scope) -> types::Type {
        match r {
            Ok(v) => self.value_type(v, e, scope),
            Err(d) => d.failed.0.clone().unwrap_or(types::Type::Any),
        }
    }

    /// [`Evaluator::result_type`] of a value `e` gave.
    fn value_type(&self, v: &Value, e: &Expression, scope: &Scope) -> types::Type {
        match v {
            Value::Unknown => types::Type::Any,
            v => describe::concrete(v, describe::static_type(e, scope).as_ref()),
        }
    }

    /// The types of results some of which failed (`failed[i]`: `None` for one that gave the
    /// next of `values`, else the failed one's type), computed only when an error needs them.
    fn mixed_types<'a>(
        &self,
        failed: Vec<Option<Option<types::Type>>>,
        values: impl IntoIterator<Item = &'a Value>,
        exprs: impl IntoIterator<Item = &'a Expression>,
        scope: &Scope,
    ) -> Vec<types::Type> {
        let mut values = values.into_iter();
        failed
            .into_iter()
            .zip(exprs)
            .map(|(f, e)| match f {
                Some(t) => t.unwrap_or(types::Type::Any),
                None => values
                    .next()
                    .map_or(types::Type::Any, |v| self.value_type(v, e, scope)),
            })
            .collect()
    }

    /// Why a conditional's two results have no common type (hclsyntax's
    /// `describeConditionalTypeMismatch`); `None` when they have one, or when either is null
    /// or unknown (dynamic).
    ///
    /// A result whose evaluation failed still has a type in hclsyntax when its expression
    /// is an operation or a string template (see [`failed_type`]): `c ? [1] : "" + 1` is
    /// the mismatch (tuple, number), and only that is reported.
    fn conditional_mismatch(
        &self,
        c: &hcl::edit::expr::Conditional,
        t: &R,
        f: &R,
        scope: &Scope,
    ) -> Option<String> {
        let type_of = |r: &R, e: &Expression| -> Option<types::Type> {
            match r {
                Ok(Value::Unknown) => None,
                Ok(v) if v.is_unknown() => None,
                Ok(v) => Some(describe::concrete(
                    v,
                    describe::static_type(e, scope).as_ref(),
                )),
                Err(d) => d.failed.0.clone(),
            }
        };
        let tt = type_of(t, &c.true_expr)?;
        let ft = type_of(f, &c.false_expr)?;
        if tt == types::Type::Any || ft == types::Type::Any {
            return None;
        }
        if unify::unify(&tt, &ft).is_some() {
            return None;
        }
        Some(describe::mismatch(&tt, &ft))
    }

    /// A function call's error of its own (`Error in function call`): at the call's start.
    fn call_error(&self, call: &FuncCall, scope: &Scope, detail: impl Into<String>) -> Diagnostic {
        self.with_call(
            self.error_in(self.call_start(call), "Error in function call", detail),
            call,
            scope,
        )
    }

    /// `d` with the `with …` statements of a whole call (its arguments' variables).
    fn with_call(&self, d: Diagnostic, call: &FuncCall, scope: &Scope) -> Diagnostic {
        let vars: Vec<describe::Traversal> =
            call.args.iter().flat_map(describe::variables).collect();
        d.with_statements(describe::statements(&vars, scope))
    }

    /// Evaluates an expression.
    pub fn eval(&self, expr: &Expression, scope: &Scope) -> R {
        self.eval_depth(expr, scope, 0)
    }

    fn eval_depth(&self, expr: &Expression, scope: &Scope, depth: usize) -> R {
        self.eval_kind(expr, scope, depth).map_err(|mut e| {
            // The type of the failed expression's result in hclsyntax: an operation's or a
            // template's own; a tuple's, an object's, a conditional's as their evaluation
            // found (set there); what a parenthesis or a lone interpolation wraps; dynamic
            // for everything else (calls, traversals, `for`).
            match expr {
                Expression::BinaryOp(_)
                | Expression::UnaryOp(_)
                | Expression::HeredocTemplate(_) => {
                    e.failed = FailedType(failed_type(expr));
                }
                Expression::StringTemplate(t) => {
                    if !matches!(
                        t.iter().collect::<Vec<_>>().as_slice(),
                        [Element::Interpolation(_)]
                    ) {
                        e.failed = FailedType(Some(types::Type::String));
                    }
                }
                Expression::Parenthesis(_)
                | Expression::Array(_)
                | Expression::Object(_)
                | Expression::Conditional(_)
                | Expression::ForExpr(_)
                | Expression::Traversal(_) => {}
                _ => e.failed = FailedType(None),
            }
            e
        })
    }

    fn eval_kind(&self, expr: &Expression, scope: &Scope, depth: usize) -> R {
        if depth > MAX_DEPTH {
            return Err(self.error_at(
                expr,
                "Expression too deeply nested",
                format!("Kiln evaluates expressions nested at most {MAX_DEPTH} levels deep."),
            ));
        }
        let d = depth + 1;
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(literal_number(n, &self.file))),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => {
                // As hclsyntax's TupleConsExpr: every element is evaluated, every error kept.
                let mut out = Vec::with_capacity(items.len());
                let mut errors = Vec::new();
                let mut failed = Vec::with_capacity(items.len());
                for item in items.iter() {
                    match self.eval_depth(item, scope, d) {
                        Ok(v) => {
                            out.push(v);
                            failed.push(None);
                        }
                        // An error inside a string template has no place of its own: the
                        // element's.
                        Err(e) => {
                            failed.push(Some(e.failed.0.clone()));
                            errors.push(match item.span() {
                                Some(r) if e.subject.is_none() => e.at(self.file.subject(r)),
                                _ => e,
                            })
                        }
                    }
                }
                match Diagnostic::several(errors) {
                    // hclsyntax's tuple of the elements, failed ones as unknowns of their type.
                    Some(mut e) => {
                        let types = self.mixed_types(failed, &out, items.iter(), scope);
                        e.failed = FailedType(Some(types::Type::Tuple(types)));
                        Err(e)
                    }
                    None => Ok(Value::List(out)),
                }
            }
            Expression::Object(obj) => {
                // As hclsyntax's ObjectConsExpr: every key and value is evaluated, and all
                // their errors kept (a key's, its value's, then the key's conversion); a key
                // that fails or is unknown makes the object dynamic.
                let mut out = BTreeMap::new();
                let mut attr_types = BTreeMap::new();
                let mut errors = Vec::new();
                let mut known = true;
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Ident(id) => Ok(self.file.key_alias(id.as_str()).to_string()),
                        ObjectKey::Expression(e) => match self.eval_depth(e, scope, d) {
                            Ok(Value::String(s)) if matches!(e, Expression::String(_)) => {
                                Ok(self.file.key_alias(&s).to_string())
                            }
                            Ok(Value::Unknown) => Err(None),
                            Ok(Value::Null) => Err(Some(self.with(
                                self.error_at(
                                    v.expr(),
                                    "Null value as key",
                                    "Can't use a null value as a key.",
                                ),
                                e,
                                scope,
                            ))),
                            Ok(kv) => kv.to_string_lossless().ok_or_else(|| {
                                Some(self.with(
                                    self.error_at(
                                        e,
                                        "Incorrect key type",
                                        format!(
                                            "Can't use this value as a key: {}.",
                                            conv_err(&kv, &types::Type::String)
                                        ),
                                    ),
                                    e,
                                    scope,
                                ))
                            }),
                            Err(diag) => {
                                errors.push(diag);
                                Err(None)
                            }
                        },
                    };
                    let (val, ty) = match self.eval_depth(v.expr(), scope, d) {
                        Ok(val) => (val, None),
                        Err(e) => {
                            let t = e.failed.0.clone().unwrap_or(types::Type::Any);
                            errors.push(e);
                            (Value::Unknown, Some(t))
                        }
                    };
                    match key {
                        Ok(key) => {
                            attr_types.insert(key.clone(), (ty, v.expr()));
                            out.insert(key, val);
                        }
                        Err(e) => {
                            known = false;
                            errors.extend(e);
                        }
                    }
                }
                match Diagnostic::several(errors) {
                    Some(mut e) => {
                        let attrs = attr_types.into_iter().map(|(k, (t, expr))| {
                            let ty = t.unwrap_or_else(|| {
                                out.get(&k)
                                    .map_or(types::Type::Any, |v| self.value_type(v, expr, scope))
                            });
                            let attr = types::Attr {
                                ty,
                                optional: false,
                                default: None,
                            };
                            (k, attr)
                        });
                        e.failed = FailedType(known.then(|| types::Type::Object(attrs.collect())));
                        Err(e)
                    }
                    None if !known => Ok(Value::Unknown),
                    None => Ok(Value::Object(out)),
                }
            }
            Expression::StringTemplate(t) => {
                let elems: Vec<&Element> = t.iter().collect();
                self.eval_template_elems(&elems, scope, d, true)
            }
            Expression::HeredocTemplate(h) => {
                if let Some(t) = super::heredoc::flush_template(h, &self.file) {
                    let elems: Vec<&Element> = t.iter().collect();
                    return self.eval_template_elems(&elems, scope, d, true);
                }
                let elems: Vec<&Element> = h.template.iter().collect();
                self.eval_template_elems(&elems, scope, d, true)
            }
            Expression::Parenthesis(p) => self.eval_depth(p.inner(), scope, d),
            Expression::Variable(v) => match scope.get(v.as_str()) {
                Some(val) => Ok(val.clone()),
                None => Err(self.error_at(
                    v,
                    "Unknown variable",
                    match scope.suggestion(v.as_str()) {
                        Some(s) => format!(
                            "There is no variable named {:?}. Did you mean {s:?}?",
                            v.as_str()
                        ),
                        None => format!("There is no variable named {:?}.", v.as_str()),
                    },
                )),
            },
            Expression::Conditional(c) => {
                // hclsyntax evaluates both results first: when their types have no common
                // type, that is the one error (the condition is not evaluated).
                let t = self.eval_depth(&c.true_expr, scope, d);
                let f = self.eval_depth(&c.false_expr, scope, d);
                if let Some(why) = self.conditional_mismatch(c, &t, &f, scope) {
                    let range = match (c.true_expr.span(), c.false_expr.span()) {
                        (Some(a), Some(b)) => Some(a.start..b.end),
                        _ => c.span(),
                    };
                    return Err(self.with(
                        self.error_in(
                            range,
                            "Inconsistent conditional result types",
                            format!(
                                "The true and false result expressions must have consistent types. {why}."
                            ),
                        ),
                        expr,
                        scope,
                    ));
                }
                // The type of the result (of an unknown one when the condition or the chosen
                // result fails).
                let result_type = match (&t, &f) {
                    (Ok(Value::Null), _) => self.result_type(&f, &c.false_expr, scope),
                    (_, Ok(Value::Null)) => self.result_type(&t, &c.true_expr, scope),
                    _ => {
                        let tt = self.result_type(&t, &c.true_expr, scope);
                        let ft = self.result_type(&f, &c.false_expr, scope);
                        if tt == types::Type::Any || ft == types::Type::Any {
                            types::Type::Any
                        } else {
                            unify::unify(&tt, &ft).unwrap_or(types::Type::Any)
                        }
                    }
                };
                let failed = FailedType(Some(result_type).filter(|t| *t != types::Type::Any));
                self.choose(c, t, f, scope, d).map_err(|mut e| {
                    e.failed = failed;
                    e
                })
            }
            Expression::FuncCall(call) => self.eval_call(call, scope, d),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                // `var.x`, `local.y[0]`: walk the scope's value by reference and copy only
                // what is reached, not the whole `var` object.
                if let Expression::Variable(root) = &t.expr
                    && let Some(v) = scope.get(root.as_str())
                {
                    let mut cur = v;
                    let mut i = 0;
                    while i < ops.len() {
                        let next = match (ops[i], cur) {
                            (TraversalOperator::GetAttr(name), Value::Object(m)) => {
                                m.get(name.as_str())
                            }
                            (TraversalOperator::LegacyIndex(n), Value::List(l)) => {
                                l.get(*n.value() as usize)
                            }
                            _ => None,
                        };
                        match next {
                            Some(n) => {
                                cur = n;
                                i += 1;
                            }
                            None => break,
                        }
                    }
                    return self.traverse(
                        cur.clone(),
                        &ops[i..],
                        scope,
                        d,
                        Some((&t.expr, &ops, i)),
                    );
                }
                let base = self.eval_depth(&t.expr, scope, d).map_err(|mut e| {
                    let ty = e.failed.0.take();
                    self.continue_steps(&mut e, &ops, ty, scope, d, &|j| {
                        describe::statements(
                            &describe::traversal_prefix_variables(&t.expr, &ops, j + 1),
                            scope,
                        )
                    });
                    e
                })?;
                self.traverse(base, &ops, scope, d, Some((&t.expr, &ops, 0)))
            }
            Expression::UnaryOp(op) => {
                let v = self.eval_depth(&op.expr, scope, d).map_err(|mut e| {
                    // hclsyntax converts the failed operand's unknown of its type too.
                    let want = match op.operator.value() {
                        UnaryOperator::Neg => types::Type::Number,
                        UnaryOperator::Not => types::Type::Bool,
                    };
                    if let Some(t) = &e.failed.0
                        && let Some(m) = types::unknown_conversion_error(t, &want)
                    {
                        e.more.push(self.with(
                            self.error_at(
                                &op.expr,
                                "Invalid operand",
                                format!("Unsuitable value for unary operand: {m}."),
                            ),
                            &op.expr,
                            scope,
                        ));
                    }
                    e
                })?;
                if v == Value::Unknown {
                    return Ok(Value::Unknown);
                }
                if v == Value::Null {
                    return Err(self.null_operand(op, &[&op.expr], scope));
                }
                match op.operator.value() {
                    UnaryOperator::Neg => match v.to_num() {
                        Some(n) => Ok(Value::Number(n.neg())),
                        None => Err(self.with(
                            self.error_at(
                                &op.expr,
                                "Invalid operand",
                                format!(
                                    "Unsuitable value for unary operand: {}.",
                                    conv_err(&v, &types::Type::Number)
                                ),
                            ),
                            &op.expr,
                            scope,
                        )),
                    },
                    UnaryOperator::Not => match cty_bool(&v) {
                        Some(b) => Ok(Value::Bool(!b)),
                        None => Err(self.with(
                            self.error_at(
                                &op.expr,
                                "Invalid operand",
                                format!(
                                    "Unsuitable value for unary operand: {}.",
                                    conv_err(&v, &types::Type::Bool)
                                ),
                            ),
                            &op.expr,
                            scope,
                        )),
                    },
                }
            }
            Expression::BinaryOp(op) => self.eval_binary(op, scope, d),
            Expression::ForExpr(f) => self.eval_for(f, scope, d),
        }
    }

    /// A conditional's result once both results are evaluated (and have a common type): by
    /// its condition. A condition that fails is an unknown to hclsyntax: its errors alone.
    fn choose(&self, c: &hcl::edit::expr::Conditional, t: R, f: R, scope: &Scope, d: usize) -> R {
        let cond = self.eval_depth(&c.cond_expr, scope, d)?;
        match cond {
            Value::Unknown => Ok(Value::Unknown),
            Value::Null => Err(self.with(
                self.error_at(
                    &c.cond_expr,
                    "Null condition",
                    "The condition value is null. Conditions must either be true or false.",
                ),
                &c.cond_expr,
                scope,
            )),
            other => match cty_bool(&other) {
                Some(b) => {
                    // The chosen result converted to the type both unify to
                    // (`false ? ["a"] : [1]` is `["1"]`); the other result's errors do
                    // not count.
                    let (v, o) = if b { (t, f) } else { (f, t) };
                    let v = v?;
                    match o {
                        Ok(o) => Ok(unify::conditional(v, &o)),
                        Err(_) => Ok(v),
                    }
                }
                None => Err(self.with(
                    self.error_at(
                        &c.cond_expr,
                        "Incorrect condition type",
                        "The condition expression must be of type bool.",
                    ),
                    &c.cond_expr,
                    scope,
                )),
            },
        }
    }

    /// hclsyntax's `BinaryOpExpr`: both operands evaluated (an operand that fails counts as
    /// unknown) and converted to the operator's types; conversion failures first, then the
    /// operands' own errors. `&&` and `||` short-circuit as hcl 2.24's: a known `false` (for
    /// `&&`) or `true` (for `||`) on either side decides, dropping the other side's errors.
    fn eval_binary(&self, op: &hcl::edit::expr::BinaryOp, scope: &Scope, d: usize) -> R {
        use BinaryOperator::*;
        let operator = *op.operator.value();
        let split = |r: R| match r {
            Ok(v) => (v, Vec::new(), None),
            Err(e) => {
                let t = e.failed.0.clone();
                (Value::Unknown, e.flatten(), t)
            }
        };
        let (lhs, lhs_errors, lhs_type) = split(self.eval_depth(&op.lhs_expr, scope, d));
        let (rhs, rhs_errors, rhs_type) = split(self.eval_depth(&op.rhs_expr, scope, d));
        let failed = [lhs_type, rhs_type];
        let converted = match operator {
            Eq | NotEq => Ok(Operands::Compared),
            // For the short-circuit, null is neither true nor false… and so counts as false:
            // cty's `True()` and `False()` compare it with `true`.
            And | Or => self
                .operands(
                    [(&lhs, &failed[0]), (&rhs, &failed[1])],
                    op,
                    scope,
                    &types::Type::Bool,
                    cty_bool,
                )
                .map(|(l, r)| {
                    let side = |b: Option<bool>, v: &Value| match v {
                        Value::Null => Some(false),
                        _ => b,
                    };
                    Operands::Bools(side(l, &lhs), side(r, &rhs))
                }),
            _ => self
                .operands(
                    [(&lhs, &failed[0]), (&rhs, &failed[1])],
                    op,
                    scope,
                    &types::Type::Number,
                    |v| v.to_num(),
                )
                .map(|(l, r)| Operands::Numbers(l, r)),
        };
        let operands = match converted {
            Ok(operands) => operands,
            Err(mut e) => {
                e.more.extend(lhs_errors.iter().chain(&rhs_errors).cloned());
                return Err(e);
            }
        };
        if let Operands::Bools(l, r) = operands {
            let decides = Some(operator == Or);
            let other = Some(operator != Or);
            let unknown = |v: &Value| *v == Value::Unknown;
            let unknown_unless = |errors: &[Diagnostic]| match Diagnostic::several(errors.to_vec())
            {
                Some(e) => Err(e),
                None => Ok(Value::Unknown),
            };
            if unknown(&lhs) && unknown(&rhs) {
                // hcl stops at a good unknown on the left; an error there may have company.
                if lhs_errors.is_empty() {
                    return Ok(Value::Unknown);
                }
            } else if l == decides || r == decides {
                return Ok(Value::Bool(operator == Or));
            } else if unknown(&lhs) && r == other {
                return unknown_unless(&lhs_errors);
            } else if unknown(&rhs) && l == other {
                return unknown_unless(&rhs_errors);
            }
        }
        if let Some(e) = Diagnostic::several(lhs_errors.into_iter().chain(rhs_errors).collect()) {
            return Err(e);
        }
        if !matches!(operator, Eq | NotEq) && (lhs == Value::Null || rhs == Value::Null) {
            return Err(self.null_operand(op, &[&op.lhs_expr, &op.rhs_expr], scope));
        }
        if lhs == Value::Unknown || rhs == Value::Unknown {
            return Ok(Value::Unknown);
        }
        self.binary(operator, &lhs, &rhs, operands, op, scope)
    }

    /// cty's refusal of a null operand, for the whole operation.
    fn null_operand(&self, op: &impl Span, operands: &[&Expression], scope: &Scope) -> Diagnostic {
        let vars: Vec<_> = operands
            .iter()
            .flat_map(|e| describe::variables(e))
            .collect();
        self.error_at(
            op,
            "Operation failed",
            "Error during operation: argument must not be null.",
        )
        .with_statements(describe::statements(&vars, scope))
    }

    /// Both operands converted to the operator's type (an unknown one converts to nothing);
    /// as hclsyntax, a failure of each is reported.
    fn operands<T>(
        &self,
        [(lhs, lhs_failed), (rhs, rhs_failed)]: [(&Value, &Option<types::Type>); 2],
        op: &hcl::edit::expr::BinaryOp,
        scope: &Scope,
        ty: &types::Type,
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Result<(Option<T>, Option<T>), Diagnostic> {
        let side = |v: &Value, failed: &Option<types::Type>, e: &Expression, which: &str| {
            let refuse = |why: String| {
                self.with(
                    self.error_at(
                        e,
                        "Invalid operand",
                        format!("Unsuitable value for {which} operand: {why}."),
                    ),
                    e,
                    scope,
                )
            };
            // An unknown converts to anything its type converts to (a failed operand is an
            // unknown of its type), and null to anything (the operation refuses it).
            if matches!(v, Value::Unknown | Value::Null) {
                return match failed
                    .as_ref()
                    .and_then(|t| types::unknown_conversion_error(t, ty))
                {
                    Some(m) => Err(refuse(m)),
                    None => Ok(None),
                };
            }
            convert(v).map(Some).ok_or_else(|| refuse(conv_err(v, ty)))
        };
        match (
            side(lhs, lhs_failed, &op.lhs_expr, "left"),
            side(rhs, rhs_failed, &op.rhs_expr, "right"),
        ) {
            (Ok(l), Ok(r)) => Ok((l, r)),
            (Err(mut a), Err(b)) => {
                a.more.push(b);
                Err(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    /// The operation on known, non-null operands, already converted to its types.
    fn binary(
        &self,
        operator: BinaryOperator,
        lhs: &Value,
        rhs: &Value,
        operands: Operands,
        op: &hcl::edit::expr::BinaryOp,
        scope: &Scope,
    ) -> R {
        use BinaryOperator::*;
        match operands {
            Operands::Compared => Ok(Value::Bool(values_equal(lhs, rhs) == (operator == Eq))),
            Operands::Bools(l, r) => {
                let (l, r) = (l.unwrap_or_default(), r.unwrap_or_default());
                Ok(Value::Bool(if operator == And { l && r } else { l || r }))
            }
            Operands::Numbers(l, r) => {
                let (Some(l), Some(r)) = (l, r) else {
                    return Ok(Value::Unknown);
                };
                // cty's arithmetic: dividing by zero gives an infinity, `x % 0` is `x`; only
                // results that are not a number fail.
                let arith = |r: Result<crate::value::Number, crate::number::NaN>| {
                    r.map(Value::Number).map_err(|e| {
                        let mut vars = describe::variables(&op.lhs_expr);
                        vars.extend(describe::variables(&op.rhs_expr));
                        self.error_at(
                            op,
                            "Operation failed",
                            format!("Error during operation: {e}."),
                        )
                        .with_statements(describe::statements(&vars, scope))
                    })
                };
                Ok(match operator {
                    Plus => arith(l.add(&r))?,
                    Minus => arith(l.sub(&r))?,
                    Mul => arith(l.mul(&r))?,
                    Div => arith(l.div(&r))?,
                    Mod => arith(l.rem(&r))?,
                    Less => Value::Bool(l < r),
                    LessEq => Value::Bool(l <= r),
                    Greater => Value::Bool(l > r),
                    GreaterEq => Value::Bool(l >= r),
                    Eq | NotEq | And | Or => unreachable!("converted as booleans or compared"),
                })
            }
        }
    }

    /// Follows traversal operators from `cur`. `at`: the traversal's base expression, all its
    /// operators and where `ops` starts among them, for the `with …` statements of an error
    /// (none after a splat, whose steps read its elements).
    fn traverse(
        &self,
        cur: Value,
        ops: &[&TraversalOperator],
        scope: &Scope,
        d: usize,
        at: Option<(&Expression, &[&TraversalOperator], usize)>,
    ) -> R {
        let mut failed_at = 0;
        // The declared type of the value reached so far, where known (a typed variable's).
        let ty = at.and_then(|(base, all, from)| {
            let Expression::Variable(root) = base else {
                return None;
            };
            let (steps, n) = describe::literal_steps(&all[..from]);
            if n != from {
                return None;
            }
            let mut ty = scope.type_of(root.as_str())?;
            for s in &steps {
                ty = describe::step_type(&ty, s)?;
            }
            Some(ty)
        });
        // The `with …` statements of an error at step `i` of `ops`: the traversal's variables
        // up to it (hclsyntax's expression of the failing index or relative traversal).
        // Inside a splat, whose steps start from each element (an anonymous symbol): the
        // variables of the index keys.
        let stmts = |i: usize| match at {
            Some((base, all, from)) => describe::statements(
                &describe::traversal_prefix_variables(base, all, from + i + 1),
                scope,
            ),
            None => {
                let vars: Vec<describe::Traversal> = ops[..(i + 1).min(ops.len())]
                    .iter()
                    .filter_map(|op| match op {
                        TraversalOperator::Index(ix) => Some(describe::variables(ix)),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                describe::statements(&vars, scope)
            }
        };
        let r = self
            .traverse_each(cur, ops, scope, d, ty, &stmts)
            .map_err(|(mut e, at)| {
                failed_at = at;
                // hclsyntax evaluates every index expression after a failed step (each is
                // an `IndexExpr` over the failed, dynamic value): their errors follow.
                if at < ops.len() {
                    self.continue_steps(&mut e, &ops[at + 1..], None, scope, d, &|j| {
                        stmts(at + 1 + j)
                    });
                }
                e
            });
        // hclsyntax gives an index's and a relative traversal's errors their expression: the
        // traversal up to the failing step (a scope traversal's own reads only itself, which
        // fails: no statement).
        r.map_err(|e| {
            if failed_at != usize::MAX {
                e.with_statements(stmts(failed_at))
            } else {
                e
            }
        })
    }

    /// The steps of [`Evaluator::traverse`] until one fails: its error and which step
    /// failed (`usize::MAX`: an error that is not the traversal's own, a key's or a splat's).
    fn traverse_each(
        &self,
        mut cur: Value,
        ops: &[&TraversalOperator],
        scope: &Scope,
        d: usize,
        mut ty: Option<types::Type>,
        stmts: &dyn Fn(usize) -> Vec<String>,
    ) -> Result<Value, (Diagnostic, usize)> {
        use types::Type;
        let mut failed_at = 0;
        let walk = || -> R {
            for (i, op) in ops.iter().enumerate() {
                failed_at = i;
                if cur == Value::Unknown {
                    // hcl's GetAttr checks an unknown object's type first.
                    if let (TraversalOperator::GetAttr(name), Some(Type::Object(attrs))) = (op, &ty)
                        && !attrs.contains_key(name.as_str())
                    {
                        return Err(self.error_at(
                            &AttrStep(self.with_dot(name)),
                            "Unsupported attribute",
                            format!(
                                "This object does not have an attribute named {:?}.",
                                name.as_str()
                            ),
                        ));
                    }
                    // The later keys are still evaluated, and their errors reported.
                    let mut e = Diagnostic::error("", "");
                    self.continue_steps(&mut e, &ops[i..], None, scope, d, &|j| stmts(i + j));
                    failed_at = usize::MAX;
                    return match Diagnostic::several(e.more) {
                        Some(mut e) => {
                            e.failed = FailedType(None);
                            Err(e)
                        }
                        None => Ok(Value::Unknown),
                    };
                }
                match op {
                    TraversalOperator::GetAttr(name) => {
                        // hcl's subject of a failed step: the attribute with its dot.
                        let step = AttrStep(self.with_dot(name));
                        let attr_ty = ty.as_ref().and_then(|t| {
                            describe::step_type(t, &describe::Step::Attr(name.as_str().to_string()))
                        });
                        cur = match cur {
                            Value::Object(mut m) => match m.remove(name.as_str()) {
                                Some(v) => v,
                                None if matches!(ty, Some(Type::Map(_))) => {
                                    return Err(self.error_at(
                                        &step,
                                        "Missing map element",
                                        format!(
                                            "This map does not have an element with the key {:?}.",
                                            name.as_str()
                                        ),
                                    ));
                                }
                                None => {
                                    return Err(self.error_at(
                                        &step,
                                        "Unsupported attribute",
                                        format!(
                                            "This object does not have an attribute named {:?}.",
                                            name.as_str()
                                        ),
                                    ));
                                }
                            },
                            Value::Null => {
                                return Err(self.error_at(
                                    &step,
                                    "Attempt to get attribute from null value",
                                    "This value is null, so it does not have any attributes.",
                                ));
                            }
                            Value::List(_) => {
                                let detail = match &ty {
                                Some(Type::List(e)) if matches!(**e, Type::Object(_)) => {
                                    match &**e {
                                        Type::Object(a) if a.contains_key(name.as_str()) => format!(
                                            "Can't access attributes on a list of objects. Did you mean to access attribute {:?} for a specific element of the list, or across all elements of the list?",
                                            name.as_str()
                                        ),
                                        _ => "Can't access attributes on a list of objects. Did you mean to access an attribute for a specific element of the list, or across all elements of the list?".to_string(),
                                    }
                                }
                                Some(Type::Set(e)) if matches!(**e, Type::Object(_)) => "Can't access attributes on a set of objects. Did you mean to access an attribute across all elements of the set?".to_string(),
                                _ => "This value does not have any attributes.".to_string(),
                            };
                                return Err(self.error_at(&step, "Unsupported attribute", detail));
                            }
                            other => {
                                return Err(self.error_at(
                                    &step,
                                    "Unsupported attribute",
                                    format!(
                                        "Can't access attributes on a primitive-typed value ({}).",
                                        other.type_name()
                                    ),
                                ));
                            }
                        };
                        ty = attr_ty;
                    }
                    TraversalOperator::Index(ix) => {
                        // The key's own errors are its own; hcl still indexes with the unknown of
                        // the failed key's type, and the later steps' keys are evaluated.
                        let key = self.eval_depth(ix, scope, d).map_err(|mut e| {
                            let key_ty = e.failed.0.take().unwrap_or(Type::Any);
                            let coll = match &cur {
                                Value::Null => None,
                                v => Some(describe::concrete(v, ty.as_ref())),
                            };
                            if let Some(x) = self.index_type_error(coll.as_ref(), &key_ty, ix) {
                                e.more.push(x.with_statements(stmts(i)));
                            }
                            self.continue_steps(&mut e, &ops[i + 1..], None, scope, d, &|j| {
                                stmts(i + 1 + j)
                            });
                            failed_at = usize::MAX;
                            e
                        })?;
                        let next = ty.as_ref().and_then(|t| {
                            describe::step_type(t, &describe::Step::Index(key.clone()))
                        });
                        cur = self.index(cur, &key, ix, ty.as_ref())?;
                        ty = next;
                    }
                    TraversalOperator::LegacyIndex(n) => {
                        let key = Value::Number(Number::from_bigint(&(*n.value()).into()));
                        let next = ty.as_ref().and_then(|t| {
                            describe::step_type(t, &describe::Step::Index(key.clone()))
                        });
                        cur = self.index(cur, &key, n, ty.as_ref())?;
                        ty = next;
                    }
                    TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                        let is_list = matches!(ty, Some(Type::List(_) | Type::Set(_)));
                        let items = match cur {
                            Value::List(items) => items,
                            Value::Null => Vec::new(),
                            other => vec![other],
                        };
                        // hclsyntax's result when an element fails: an unknown list, or tuple,
                        // of what each step gives an unknown element (dynamic here).
                        let failed = if is_list {
                            Type::List(Box::new(Type::Any))
                        } else {
                            Type::Tuple(vec![Type::Any; items.len()])
                        };
                        // As hclsyntax's SplatExpr: every element is visited and every error kept.
                        let rest = &ops[i + 1..];
                        let mut out = Vec::with_capacity(items.len());
                        let mut errors = Vec::new();
                        for item in items {
                            match self.traverse(item, rest, scope, d, None) {
                                Ok(v) => out.push(v),
                                Err(e) => errors.extend(e.flatten()),
                            }
                        }
                        if let Some(mut e) = Diagnostic::several(errors) {
                            failed_at = usize::MAX;
                            e.failed = FailedType(Some(failed));
                            return Err(e);
                        }
                        return Ok(Value::List(out));
                    }
                }
            }
            Ok(cur)
        };
        let r = walk();
        r.map_err(|e| (e, failed_at))
    }

    /// hclsyntax's evaluation of the steps after a failed one (the value then being an
    /// unknown of type `ty`, dynamic when `None`): each index expression is evaluated and its
    /// errors follow `e`'s; where the type is known, hcl's `GetAttr` and `Index` still check
    /// it (an attribute of a number, a string key for a list).
    fn continue_steps(
        &self,
        e: &mut Diagnostic,
        ops: &[&TraversalOperator],
        mut ty: Option<types::Type>,
        scope: &Scope,
        d: usize,
        stmts: &dyn Fn(usize) -> Vec<String>,
    ) {
        use types::Type;
        for (j, op) in ops.iter().enumerate() {
            match op {
                TraversalOperator::GetAttr(name) => {
                    let detail = match &ty {
                        Some(t @ (Type::String | Type::Number | Type::Bool)) => Some(format!(
                            "Can't access attributes on a primitive-typed value ({t})."
                        )),
                        Some(Type::Object(attrs)) if !attrs.contains_key(name.as_str()) => {
                            Some(format!(
                                "This object does not have an attribute named {:?}.",
                                name.as_str()
                            ))
                        }
                        Some(Type::Tuple(_)) => {
                            Some("This value does not have any attributes.".to_string())
                        }
                        _ => None,
                    };
                    if let Some(detail) = detail {
                        e.more.push(
                            self.error_at(
                                &AttrStep(self.with_dot(name)),
                                "Unsupported attribute",
                                detail,
                            )
                            .with_statements(stmts(j)),
                        );
                    }
                    ty = None;
                }
                TraversalOperator::Index(ix) => {
                    let key_ty = match self.eval_depth(ix, scope, d) {
                        Ok(k) => describe::implied(&k),
                        Err(ke) => {
                            let t = ke.failed.0.clone().unwrap_or(Type::Any);
                            e.more.extend(ke.flatten());
                            t
                        }
                    };
                    if let Some(t) = &ty
                        && let Some(x) = self.index_type_error(Some(t), &key_ty, ix)
                    {
                        e.more.push(x.with_statements(stmts(j)));
                    }
                    ty = None;
                }
                TraversalOperator::LegacyIndex(n) => {
                    if let Some(t) = &ty
                        && let Some(x) = self.index_type_error(Some(t), &Type::Number, n)
                    {
                        e.more.push(x.with_statements(stmts(j)));
                    }
                    ty = None;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => return,
            }
        }
    }

    /// hcl's `Index` of a collection of type `coll` (`None`: null) by a key of type `key`
    /// whose value is not known (a failed or unknown key): what its types alone refuse.
    fn index_type_error(
        &self,
        coll: Option<&types::Type>,
        key: &types::Type,
        at: &impl Span,
    ) -> Option<Diagnostic> {
        use types::Type;
        let invalid = |detail: String| self.error_in(self.step_range(at), "Invalid index", detail);
        let Some(coll) = coll else {
            return Some(self.error_in(
                self.step_range(at),
                "Attempt to index null value",
                "This value is null, so it does not have any indices.",
            ));
        };
        if *key == Type::Any || *coll == Type::Any {
            return None;
        }
        let want = match coll {
            Type::List(_) | Type::Tuple(_) => Type::Number,
            Type::Map(_) | Type::Object(_) => Type::String,
            Type::Set(_) => return Some(invalid("Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.".into())),
            _ => return Some(invalid("This value does not have any indices.".into())),
        };
        types::unknown_conversion_error(key, &want).map(|m| {
            invalid(format!(
                "The given key does not identify an element in this collection value: {m}."
            ))
        })
    }

    /// hcl's `Index`: an element of a list or tuple (by a number, or a string holding one)
    /// or of an object or map (by a string, or a number or bool as one), in its words.
    fn index(&self, cur: Value, key: &Value, at: &impl Span, ty: Option<&types::Type>) -> R {
        if *key == Value::Unknown {
            return Ok(Value::Unknown);
        }
        const NOT_FOUND: &str =
            "The given key does not identify an element in this collection value";
        let invalid = |detail: String| self.error_in(self.step_range(at), "Invalid index", detail);
        if cur == Value::Null {
            return Err(self.error_in(
                self.step_range(at),
                "Attempt to index null value",
                "This value is null, so it does not have any indices.",
            ));
        }
        if *key == Value::Null {
            return Err(invalid("Can't use a null value as an indexing key.".into()));
        }
        if let (Some(types::Type::Set(_)), Value::List(_)) = (ty, &cur) {
            return Err(invalid("Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.".into()));
        }
        let is_map = matches!(ty, Some(types::Type::Map(_)));
        match cur {
            Value::List(mut items) => {
                // cty's conversion to a number: a string that does not hold one says so,
                // other types have none.
                let n = match key {
                    Value::Number(n) => n.clone(),
                    Value::String(s) => match crate::value::parse_num(s) {
                        Some(n) => n,
                        None => return Err(invalid(format!("{NOT_FOUND}: a number is required."))),
                    },
                    _ => return Err(invalid(format!("{NOT_FOUND}: number required."))),
                };
                let x = n.to_f64();
                if x >= 0.0 && x.fract() == 0.0 && (x as usize) < items.len() {
                    return Ok(items.swap_remove(x as usize));
                }
                let len = items.len() as f64;
                let detail = if x.fract() != 0.0 {
                    format!(
                        "{NOT_FOUND}: indexing a sequence requires a whole number, but the given index has a fractional part."
                    )
                } else if x < 0.0 {
                    format!("{NOT_FOUND}: a negative number is not a valid index for a sequence.")
                } else if x - len < 1.0 && items.is_empty() {
                    format!("{NOT_FOUND}: the collection has no elements.")
                } else if x - len < 1.0 {
                    // hcl says it only when the index is the length (its test of
                    // `index - length < 1`); beyond, the plain words.
                    format!(
                        "{NOT_FOUND}: the given index is greater than or equal to the length of the collection."
                    )
                } else {
                    format!("{NOT_FOUND}.")
                };
                Err(invalid(detail))
            }
            Value::Object(mut m) => {
                let Some(k) = key.to_string_lossless() else {
                    return Err(invalid(format!("{NOT_FOUND}: string required.")));
                };
                match m.remove(&k) {
                    Some(v) => Ok(v),
                    // A map (a value of a declared map type) has no hint; an object's value
                    // (any other: Kiln's values do not tell them apart) has.
                    None if matches!(key, Value::Number(_)) && !is_map => Err(invalid(format!(
                        "{NOT_FOUND}. An object only supports looking up attributes by name, not by numeric index."
                    ))),
                    None => Err(invalid(format!("{NOT_FOUND}."))),
                }
            }
            _ => Err(invalid("This value does not have any indices.".into())),
        }
    }

    fn eval_for(&self, f: &ForExpr, scope: &Scope, d: usize) -> R {
        let coll = self
            .eval_depth(&f.intro.collection_expr, scope, d)
            .map_err(|mut e| {
                // A failed collection of a primitive type cannot be iterated either.
                if let Some(t @ (types::Type::String | types::Type::Number | types::Type::Bool)) =
                    &e.failed.0
                {
                    e.more.push(self.with(
                        self.error_at(
                            &f.intro.collection_expr,
                            "Iteration over non-iterable value",
                            format!(
                                "A value of type {t} cannot be used as the collection in a 'for' expression."
                            ),
                        ),
                        &f.intro.collection_expr,
                        scope,
                    ));
                }
                e.failed = FailedType(None);
                e
            })?;
        let pairs: Vec<(Value, Value)> = match coll.into_pairs() {
            Ok(pairs) => pairs,
            Err(Value::Unknown) => return Ok(Value::Unknown),
            Err(Value::Null) => {
                return Err(self.with(
                    self.error_at(
                        &f.intro.collection_expr,
                        "Iteration over null value",
                        "A null value cannot be used as the collection in a 'for' expression.",
                    ),
                    &f.intro.collection_expr,
                    scope,
                ));
            }
            Err(other) => {
                return Err(self.with(
                    self.error_at(
                        &f.intro.collection_expr,
                        "Iteration over non-iterable value",
                        format!(
                            "A value of type {} cannot be used as the collection in a 'for' expression.",
                            other.type_name()
                        ),
                    ),
                    &f.intro.collection_expr,
                    scope,
                ));
            }
        };
        // hclsyntax's early look at the condition, with the key and value unknown: a
        // condition that cannot work for any element is reported once, not per element.
        if let Some(cond) = &f.cond {
            let mut child = scope.child();
            if let Some(kv) = &f.intro.key_var {
                child.set(kv.as_str(), Value::Unknown);
            }
            child.set(f.intro.value_var.as_str(), Value::Unknown);
            let c = self.eval_depth(&cond.expr, &child, d).map_err(|mut e| {
                e.failed = FailedType(None);
                e
            })?;
            let detail = match &c {
                Value::Null => Some((
                    "Condition is null",
                    "The value of the 'if' clause must not be null.".to_string(),
                )),
                Value::Unknown => None,
                c if cty_bool(c).is_none() => Some((
                    "Invalid 'for' condition",
                    format!(
                        "The 'if' clause value is invalid: {}.",
                        conv_err(c, &types::Type::Bool)
                    ),
                )),
                _ => None,
            };
            if let Some((summary, detail)) = detail {
                return Err(self.with(
                    self.error_at(&cond.expr, summary, detail),
                    &cond.expr,
                    &child,
                ));
            }
        }
        // As hclsyntax's ForExpr: every element is visited and every error of its
        // expressions kept; of the checks on their results (a condition that is no bool, a key
        // that is no string), only the first is reported.
        let mut list = Vec::new();
        let mut obj: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut errors: Vec<Diagnostic> = Vec::new();
        let mut known = true;
        // The types of the results (for the type of hclsyntax's result when some fail).
        let mut elem_failed = Vec::new();
        let mut attr_failed: BTreeMap<String, Option<Option<types::Type>>> = BTreeMap::new();
        let mut group_failed: BTreeMap<String, Vec<Option<Option<types::Type>>>> = BTreeMap::new();
        for (k, v) in pairs {
            let mut child = scope.child();
            if let Some(kv) = &f.intro.key_var {
                child.set(kv.as_str(), k);
            }
            child.set(f.intro.value_var.as_str(), v);
            if let Some(cond) = &f.cond {
                match self.eval_depth(&cond.expr, &child, d) {
                    Err(e) => {
                        errors.extend(e.flatten());
                        known = false;
                        continue;
                    }
                    Ok(Value::Unknown) => {
                        known = false;
                        continue;
                    }
                    Ok(c) => match cty_bool(&c) {
                        Some(true) => {}
                        Some(false) => continue,
                        None => {
                            if known {
                                let detail = match &c {
                                    Value::Null => {
                                        "The value of the 'if' clause must not be null.".to_string()
                                    }
                                    _ => format!(
                                        "The 'if' clause value is invalid: {}.",
                                        conv_err(&c, &types::Type::Bool)
                                    ),
                                };
                                errors.push(self.with(
                                    self.error_at(&cond.expr, "Invalid 'for' condition", detail),
                                    &cond.expr,
                                    &child,
                                ));
                            }
                            known = false;
                            continue;
                        }
                    },
                }
            }
            match &f.key_expr {
                None => match self.eval_depth(&f.value_expr, &child, d) {
                    Ok(v) => {
                        list.push(v);
                        elem_failed.push(None);
                    }
                    Err(e) => {
                        elem_failed.push(Some(e.failed.0.clone()));
                        errors.extend(e.flatten());
                    }
                },
                Some(ke) => {
                    let key = match self.eval_depth(ke, &child, d) {
                        Ok(k) => k,
                        Err(e) => {
                            errors.extend(e.flatten());
                            known = false;
                            continue;
                        }
                    };
                    let key = match key {
                        Value::Unknown => {
                            known = false;
                            continue;
                        }
                        Value::Null => {
                            if known {
                                errors.push(self.with(
                                    self.error_at(
                                        ke,
                                        "Invalid object key",
                                        "Key expression in 'for' expression must not produce a null value.",
                                    ),
                                    ke,
                                    &child,
                                ));
                            }
                            known = false;
                            continue;
                        }
                        key => match key.to_string_lossless() {
                            Some(k) => k,
                            None => {
                                if known {
                                    errors.push(self.with(
                                        self.error_at(
                                            ke,
                                            "Invalid object key",
                                            format!(
                                                "The key expression produced an invalid result: {}.",
                                                conv_err(&key, &types::Type::String)
                                            ),
                                        ),
                                        ke,
                                        &child,
                                    ));
                                }
                                known = false;
                                continue;
                            }
                        },
                    };
                    let (val, ty) = match self.eval_depth(&f.value_expr, &child, d) {
                        Ok(v) => (v, None),
                        Err(e) => {
                            let t = e.failed.0.clone();
                            errors.extend(e.flatten());
                            (Value::Unknown, Some(t))
                        }
                    };
                    if f.grouping {
                        group_failed.entry(key.clone()).or_default().push(ty);
                    } else {
                        attr_failed.entry(key.clone()).or_insert(ty);
                    }
                    if f.grouping {
                        groups.entry(key).or_default().push(val);
                    } else {
                        match obj.entry(key) {
                            std::collections::btree_map::Entry::Occupied(o) => {
                                let key = o.key().clone();
                                errors.push(self.with(
                                    self.error_at(
                                        ke,
                                        "Duplicate object key",
                                        format!("Two different items produced the key {key:?} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key."),
                                    ),
                                    ke,
                                    &child,
                                ));
                            }
                            std::collections::btree_map::Entry::Vacant(v) => {
                                v.insert(val);
                            }
                        }
                    }
                }
            }
        }
        if let Some(mut e) = Diagnostic::several(errors) {
            // hclsyntax's tuple or object of the results, failed ones as unknowns of their
            // type; dynamic when a key or condition was not known.
            let attr = |ty| types::Attr {
                ty,
                optional: false,
                default: None,
            };
            let value = &f.value_expr;
            let one = |t: Option<Option<types::Type>>, v: Option<&Value>| match t {
                Some(t) => t.unwrap_or(types::Type::Any),
                None => v.map_or(types::Type::Any, |v| self.value_type(v, value, scope)),
            };
            e.failed = FailedType(known.then(|| {
                match &f.key_expr {
                    None => {
                        let n = elem_failed.len();
                        types::Type::Tuple(self.mixed_types(
                            elem_failed,
                            &list,
                            std::iter::repeat_n(value, n),
                            scope,
                        ))
                    }
                    Some(_) if f.grouping => types::Type::Object(
                        group_failed
                            .into_iter()
                            .map(|(k, fs)| {
                                let vals = groups.get(&k).map(Vec::as_slice).unwrap_or_default();
                                let ts = fs
                                    .into_iter()
                                    .zip(vals.iter().map(Some).chain(std::iter::repeat(None)))
                                    .map(|(t, v)| one(t, v))
                                    .collect();
                                (k, attr(types::Type::Tuple(ts)))
                            })
                            .collect(),
                    ),
                    Some(_) => types::Type::Object(
                        attr_failed
                            .into_iter()
                            .map(|(k, t)| {
                                let ty = one(t, obj.get(&k));
                                (k, attr(ty))
                            })
                            .collect(),
                    ),
                }
            }));
            return Err(e);
        }
        if !known {
            return Ok(Value::Unknown);
        }
        if f.key_expr.is_none() {
            Ok(Value::List(list))
        } else if f.grouping {
            Ok(Value::Object(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ))
        } else {
            Ok(Value::Object(obj))
        }
    }

    fn eval_call(&self, call: &FuncCall, scope: &Scope, d: usize) -> R {
        let name = call.name.name.as_str();
        if name == crate::template::json::BROKEN_TEMPLATE
            && let [Expression::Number(n)] = call.args.iter().collect::<Vec<_>>().as_slice()
            && let Some(offset) = n.value().as_u64()
            && let Some(e) = Diagnostic::several(self.file.json_template_errors(offset as usize))
        {
            return Err(e);
        }
        if call.name.is_namespaced() {
            // Packer has no namespaced functions: hclsyntax finds none in the namespace.
            let namespace: String = call
                .name
                .namespace
                .iter()
                .map(|n| format!("{}::", n.as_str()))
                .collect();
            return Err(self.with_call(
                self.error_at(
                    &call.name.name,
                    "Call to unknown function",
                    format!("There are no functions in namespace {namespace:?}."),
                ),
                call,
                scope,
            ));
        }
        // As hclsyntax: an unknown function is reported before its arguments are evaluated,
        // with the closest function of the context (variable defaults have only `env`).
        let available = functions::available(self.funcs.allow_env);
        if !available.contains(&name) {
            let detail = match name_suggestion(name, available.iter().copied()) {
                Some(s) => format!("There is no function named {name:?}. Did you mean {s:?}?"),
                None => format!("There is no function named {name:?}."),
            };
            return Err(self.with_call(
                self.error_at(&call.name.name, "Call to unknown function", detail),
                call,
                scope,
            ));
        }
        let arg_exprs: Vec<&Expression> = call.args.iter().collect();
        match name {
            "can" => {
                if arg_exprs.len() != 1 {
                    let msg = if arg_exprs.is_empty() {
                        "Function \"can\" expects 1 argument(s). Missing value for \"expression\"."
                    } else {
                        "Function \"can\" expects only 1 argument(s)."
                    };
                    return Err(self.arity_error(call, scope, msg));
                }
                return Ok(match self.eval_depth(arg_exprs[0], scope, d) {
                    Ok(v) if v.is_unknown() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            "try" => {
                // hcl's tryfunc: the first argument that evaluates without error; when none
                // does, every argument's diagnostics in the function's error.
                if arg_exprs.is_empty() {
                    return Err(self.call_error(
                        call,
                        scope,
                        "Call to function \"try\" failed: at least one argument is required.",
                    ));
                }
                let mut failed = Vec::new();
                for e in &arg_exprs {
                    match self.eval_depth(e, scope, d) {
                        Ok(v) => return Ok(v),
                        Err(diag) => failed.extend(diag.flatten()),
                    }
                }
                let mut detail =
                    String::from("Call to function \"try\" failed: no expression succeeded:\n");
                for f in &failed {
                    match &f.subject {
                        Some(s) => detail.push_str(&format!(
                            "- {} (at {})\n  {}\n",
                            f.summary,
                            s.range_string(),
                            f.detail
                        )),
                        None => detail.push_str(&format!("- {}\n  {}\n", f.summary, f.detail)),
                    }
                }
                detail.push_str("\nAt least one expression must produce a successful result.");
                return Err(self.call_error(call, scope, detail));
            }
            "convert" => {
                if arg_exprs.len() != 2 {
                    return Err(self.arity_error(
                        call,
                        scope,
                        "Function \"convert\" expects 2 arguments.",
                    ));
                }
                let v = self.eval_depth(arg_exprs[0], scope, d)?;
                let ty = types::parse_type(arg_exprs[1], &|e| {
                    self.eval_depth(e, scope, d).map_err(|diag| TypeExprError {
                        range: e.span(),
                        message: diag.detail,
                    })
                })
                .map_err(|e| self.type_error(e))?;
                return types::convert(&v, &ty).map_err(|m| {
                    self.with(
                        self.error_at(
                            arg_exprs[0],
                            "Invalid function argument",
                            format!("Invalid value for \"value\" parameter: {m}."),
                        ),
                        arg_exprs[0],
                        scope,
                    )
                });
            }
            _ => {}
        }
        // Evaluate the arguments (every one: all their errors are reported), expanding a final
        // `list...`.
        let mut args = Vec::with_capacity(arg_exprs.len());
        let mut arg_spans: Vec<&Expression> = Vec::with_capacity(arg_exprs.len());
        let mut errors = Vec::new();
        // Which arguments failed (their values are in `args`, in order, for hclsyntax's
        // conversions after errors).
        let mut failed = Vec::with_capacity(arg_exprs.len());
        for (i, e) in arg_exprs.iter().enumerate() {
            let v = match self.eval_depth(e, scope, d) {
                Ok(v) => {
                    failed.push(false);
                    v
                }
                Err(diag) => {
                    failed.push(true);
                    errors.push(diag);
                    continue;
                }
            };
            if i + 1 == arg_exprs.len() && call.args.expand_final() {
                match v {
                    Value::List(items) => {
                        for item in items {
                            args.push(item);
                            arg_spans.push(e);
                        }
                    }
                    Value::Unknown => return Ok(Value::Unknown),
                    _ => {
                        return Err(self.with(
                            self.error_at(
                                *e,
                                "Invalid expanding argument value",
                                "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                            ),
                            e,
                            scope,
                        ));
                    }
                }
            } else {
                args.push(v);
                arg_spans.push(e);
            }
        }
        if let Some(e) = Diagnostic::several(errors.clone()) {
            // hclsyntax checks the number of arguments before evaluating them: a wrong
            // count is the one error then.
            if !call.args.expand_final() {
                let arity = if name == "templatefile" {
                    templatefile_arity(arg_exprs.len())
                } else {
                    match functions::call(name, &vec![Value::Null; arg_exprs.len()], &self.funcs) {
                        Err(FuncError::Arity(msg)) => Some(msg),
                        _ => None,
                    }
                };
                if let Some(msg) = arity {
                    return Err(self.arity_error(call, scope, &msg));
                }
                let mut values = args.iter().cloned();
                let mut diags = errors.into_iter();
                let each = failed
                    .iter()
                    .filter_map(|f| match f {
                        true => diags.next().map(Err),
                        false => values.next().map(Ok),
                    })
                    .collect();
                if let Some(all) = self.argument_conversions(name, &arg_exprs, each, scope) {
                    return Err(all);
                }
            }
            return Err(e);
        }
        if name == "templatefile" {
            // Packer reads and renders the file unless an argument is itself unknown: unknown
            // values inside `vars` make the result unknown only where the template uses them.
            if args.iter().any(|v| matches!(v, Value::Unknown)) {
                return Ok(Value::Unknown);
            }
            return self.templatefile(call, &args, &arg_spans, scope);
        }
        let unknown = args.iter().any(Value::is_unknown) && functions::exists(name);
        let result = if unknown {
            // Probed with null in place of the unknown parts of tuples and objects.
            if args.iter().any(|a| matches!(a, Value::Unknown)) {
                return Ok(Value::Unknown);
            }
            let probe: Vec<Value> = args.iter().map(null_unknowns).collect();
            functions::call(name, &probe, &self.funcs)
        } else if args.contains(&Value::Null)
            && let Some(r) =
                functions::precheck(name, &args, &self.dynamic_nulls(&args, &arg_spans, scope))
        {
            r
        } else {
            functions::call(name, &args, &self.funcs)
        };
        if unknown {
            // An unknown result, unless an argument cannot convert whatever its unknown parts
            // are: a tuple or object given for a string, number or bool (cty's conversion
            // fails on the type).
            match &result {
                Err(FuncError::Arg(i, _, m))
                    if matches!(args.get(*i), Some(Value::List(_) | Value::Object(_)))
                        && matches!(
                            m.trim_end_matches('.'),
                            "string required" | "number required" | "bool required"
                        ) => {}
                _ => return Ok(Value::Unknown),
            }
        }
        match result {
            Ok(v) => {
                if let Value::String(s) = &v
                    && s.len() > MAX_STRING
                {
                    return Err(self.call_error(call, scope, "Result too large."));
                }
                Ok(v)
            }
            Err(FuncError::Arity(msg)) => Err(self.arity_error(call, scope, &msg)),
            Err(FuncError::Arg(i, param, msg)) => {
                // hclsyntax converts every argument to its parameter's type before calling:
                // when any does not convert, those conversions are the errors.
                if !call.args.expand_final()
                    && let Some(e) = self.argument_conversions(
                        name,
                        &arg_exprs,
                        args.iter().cloned().map(Ok).collect(),
                        scope,
                    )
                {
                    return Err(e);
                }
                let arg_error = |i: usize, param: &str, msg: &str| {
                    let detail =
                        format!("Invalid value for \"{param}\" parameter: {}", sentence(msg));
                    // An argument an expanding `...` gave is a literal value: no statement.
                    let expanded = call.args.expand_final() && i + 1 >= arg_exprs.len();
                    match arg_spans.get(i) {
                        Some(at) if at.span().is_some() => {
                            let d = self.error_in(
                                self.start_range(at),
                                "Invalid function argument",
                                detail,
                            );
                            if expanded { d } else { self.with(d, at, scope) }
                        }
                        _ => self.with_call(
                            self.error_at(call, "Invalid function argument", detail),
                            call,
                            scope,
                        ),
                    }
                };
                let mut errors = vec![arg_error(i, &param, &msg)];
                // hclsyntax converts every argument to its parameter's type before calling:
                // each later argument that does not convert is reported too. Found by calling
                // again with a value of the wanted type in place of each that failed.
                if let Some(stand_in) = conversion_stand_in(&msg) {
                    let mut probe = args.clone();
                    probe[i] = stand_in;
                    let mut last = i;
                    while let Err(FuncError::Arg(j, p, m)) =
                        functions::call(name, &probe, &self.funcs)
                    {
                        let Some(stand_in) = conversion_stand_in(&m).filter(|_| j > last) else {
                            break;
                        };
                        errors.push(arg_error(j, &p, &m));
                        probe[j] = stand_in;
                        last = j;
                    }
                }
                Err(Diagnostic::several(errors).unwrap_or_else(|| arg_error(i, &param, &msg)))
            }
            Err(FuncError::Other(msg)) => Err(self.call_error(
                call,
                scope,
                format!("Call to function {name:?} failed: {}", sentence(&msg)),
            )),
        }
    }

    /// Which arguments are nulls of no known type (a `null` literal, not a typed variable's
    /// null): cty's dynamic-typed values.
    fn dynamic_nulls(&self, args: &[Value], exprs: &[&Expression], scope: &Scope) -> Vec<bool> {
        args.iter()
            .zip(exprs)
            .map(|(a, e)| *a == Value::Null && null_is_dynamic(e, scope))
            .collect()
    }

    /// hclsyntax's diagnostics of a call whose arguments did not all evaluate: each
    /// argument's own errors, then its conversion to its parameter's type (a failed argument
    /// as an unknown of its type), argument by argument; the function is not called.
    /// `None` when Kiln does not know the function's parameters.
    fn argument_conversions(
        &self,
        name: &str,
        exprs: &[&Expression],
        each: Vec<R>,
        scope: &Scope,
    ) -> Option<Diagnostic> {
        let (fixed, variadic) = functions::params(name)?;
        let mut all = Vec::new();
        for (i, (e, r)) in exprs.iter().zip(each).enumerate() {
            let param = fixed.get(i).or(variadic.as_ref())?;
            let refused = match r {
                Ok(v) => types::convert(&v, &param.ty).err(),
                Err(diag) => {
                    let t = diag.failed.0.clone();
                    all.extend(diag.flatten());
                    t.and_then(|t| types::unknown_conversion_error(&t, &param.ty))
                }
            };
            if let Some(m) = refused {
                all.push(self.with(
                    self.error_in(
                        self.start_range(e),
                        "Invalid function argument",
                        format!("Invalid value for \"{}\" parameter: {m}.", param.name),
                    ),
                    e,
                    scope,
                ));
            }
        }
        Diagnostic::several(all)
    }

    fn arity_error(&self, call: &FuncCall, scope: &Scope, msg: &str) -> Diagnostic {
        self.with_call(self.arity_error_at(call, msg), call, scope)
    }

    fn arity_error_at(&self, call: &FuncCall, msg: &str) -> Diagnostic {
        // hclsyntax's words: the detail says "expects only" for too many. Its places: the
        // first argument too many, or the closing parenthesis when some are missing.
        if msg.contains("expects only") || msg.contains("Too many") {
            let expected = msg
                .split("expects only ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok());
            let extra = expected.and_then(|n| call.args.iter().nth(n));
            let range = match extra {
                Some(e) => self.start_range(e),
                None => call.span(),
            };
            return self.error_in(range, "Too many function arguments", msg.to_string());
        }
        let close = call.span().map(|r| r.end.saturating_sub(1)..r.end);
        self.error_in(close, "Not enough function arguments", msg.to_string())
    }

    fn type_error(&self, e: TypeExprError) -> Diagnostic {
        let d = Diagnostic::error("Invalid type specification", e.message);
        match e.range {
            Some(r) => d.at(self.file.subject(r)),
            None => d,
        }
    }

    fn templatefile(
        &self,
        call: &FuncCall,
        args: &[Value],
        spans: &[&Expression],
        scope: &Scope,
    ) -> R {
        if self.in_templatefile {
            return Err(self.call_error(call, scope,
                "Call to function \"templatefile\" failed: cannot recursively call templatefile from inside templatefile call.",
            ));
        }
        if let Some(msg) = templatefile_arity(args.len()) {
            return Err(self.arity_error(call, scope, &msg));
        }
        // cty refuses a null argument before anything else.
        for (i, param) in ["path", "vars"].iter().enumerate() {
            if args[i] == Value::Null {
                return Err(self.with(
                    self.error_at(
                        spans[i],
                        "Invalid function argument",
                        format!(
                            "Invalid value for \"{param}\" parameter: argument must not be null."
                        ),
                    ),
                    spans[i],
                    scope,
                ));
            }
        }
        let Some(rel) = args[0].to_string_lossless() else {
            return Err(self.with(
                self.error_at(
                    spans[0],
                    "Invalid function argument",
                    "Invalid value for \"path\" parameter: string required.",
                ),
                spans[0],
                scope,
            ));
        };
        let path = resolve(&self.funcs.base_dir, &rel);
        if !path.exists() {
            // Terraform's templatefile (Packer's): the path as given.
            return Err(self.call_error(
                call,
                scope,
                format!("Call to function \"templatefile\" failed: no file exists at {rel}."),
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.error_at(
                spans[0],
                "Invalid function argument",
                format!(
                    "Invalid value for \"path\" parameter: failed to read file {}: {e}.",
                    path.display()
                ),
            )
        })?;
        let file = SourceFile::new(&path, text);
        let template: Template = hcl::edit::parser::parse_template(&file.text).map_err(|e| {
            // hclsyntax's `ParseTemplate` errors (the file named as given), as the
            // function's failure.
            let errors = crate::hcl::syntax_diag::template_errors(&file.text, &rel, (1, 1));
            if !errors.is_empty() {
                let errors: Vec<&Diagnostic> = errors.iter().collect();
                return self.call_error(
                    call,
                    scope,
                    format!(
                        "Call to function \"templatefile\" failed: {}.",
                        crate::diag::go_error_text(&errors)
                    ),
                );
            }
            let loc = e.location();
            Diagnostic::error("Invalid template", e.message().to_string()).at(
                crate::diag::Subject {
                    file: file.name.clone(),
                    line: loc.line(),
                    column: loc.column(),
                    end_line: loc.line(),
                    end_column: loc.column() + 1,
                    snippet: e.line().to_string(),
                },
            )
        })?;
        // Terraform's (Packer's) renderTmpl: `vars` must be a map or an object, its names
        // identifiers, and every variable the template reads one of them.
        let vars_error = |msg: String| {
            self.with(
                self.error_at(
                    spans[1],
                    "Invalid function argument",
                    format!("Invalid value for \"vars\" parameter: {msg}."),
                ),
                spans[1],
                scope,
            )
        };
        let Value::Object(vars) = &args[1] else {
            return Err(vars_error("invalid vars value: must be a map".into()));
        };
        if let Some(bad) = vars.keys().find(|k| !crate::fmt::valid_identifier(k)) {
            return Err(vars_error(format!(
                "invalid template variable name {}: must start with a letter, followed by zero or more letters, digits, and underscores",
                crate::value::go_quote(bad)
            )));
        }
        let whole =
            Expression::StringTemplate(hcl::edit::template::StringTemplate::from(template.clone()));
        for t in crate::hcl::describe::variables(&whole) {
            if !vars.contains_key(&t.root) {
                let at = t.root_span.map_or(String::new(), |r| {
                    let (line, col) = file.position(r.start);
                    let (_, end) = file.position(r.end);
                    format!("{rel}:{line},{col}-{end}")
                });
                return Err(vars_error(format!(
                    "vars map does not contain key {}, referenced at {at}",
                    crate::value::go_quote(&t.root)
                )));
            }
        }
        let vars = vars.clone();
        let sub = Evaluator {
            file: file.clone(),
            funcs: self.funcs.clone(),
            in_templatefile: true,
        };
        let mut scope = Scope::new();
        for (k, v) in vars {
            scope.set(k, v);
        }
        let elems: Vec<&Element> = template.iter().collect();
        let v = sub.eval_template_elems(&elems, &scope, 1, false)?;
        Ok(match v {
            Value::Unknown => Value::Unknown,
            other => Value::String(other.to_string_lossless().unwrap_or_default()),
        })
    }

    /// Evaluates a template's elements. A template of a single interpolation yields the value
    /// itself (not its string form), as in HCL, when `unwrap` is set.
    fn eval_template_elems(&self, elems: &[&Element], scope: &Scope, d: usize, unwrap: bool) -> R {
        if unwrap
            && elems.len() == 1
            && let Element::Interpolation(i) = elems[0]
        {
            return self.eval_depth(&i.expr, scope, d);
        }
        let mut out = String::new();
        if self.render(elems, scope, d, Strip::None, Strip::None, &mut out)? {
            Ok(Value::String(out))
        } else {
            Ok(Value::Unknown)
        }
    }

    /// Renders template elements into `out`; returns false when a value was unknown.
    fn render(
        &self,
        elems: &[&Element],
        scope: &Scope,
        d: usize,
        prev_strip: Strip,
        next_strip: Strip,
        out: &mut String,
    ) -> Result<bool, Diagnostic> {
        let len = elems.len();
        let mut known = true;
        let mut errors = Vec::new();
        for (i, elem) in elems.iter().enumerate() {
            let prev = if i == 0 {
                prev_strip
            } else {
                outer_strip(elems[i - 1])
            };
            let next = if i + 1 == len {
                next_strip
            } else {
                outer_strip(elems[i + 1])
            };
            match elem {
                Element::Literal(lit) => out.push_str(strip_literal(lit.value(), prev, next)),
                Element::Interpolation(interp) => {
                    // As hclsyntax's TemplateExpr: every part is evaluated, every error kept.
                    let v = match self.eval_depth(&interp.expr, scope, d) {
                        Ok(v) => v,
                        Err(e) => {
                            errors.push(e);
                            continue;
                        }
                    };
                    match v {
                        Value::Unknown => known = false,
                        Value::Null => {
                            errors.push(self.with(
                                self.error_at(
                                    &interp.expr,
                                    "Invalid template interpolation value",
                                    "The expression result is null. Cannot include a null value in a string template.",
                                ),
                                &interp.expr,
                                scope,
                            ));
                        }
                        other => match other.to_string_lossless() {
                            Some(s) => out.push_str(&s),
                            None => {
                                errors.push(self.with(
                                    self.error_at(
                                        &interp.expr,
                                        "Invalid template interpolation value",
                                        format!("Cannot include the given value in a string template: {}.", conv_err(&other, &types::Type::String)),
                                    ),
                                    &interp.expr,
                                    scope,
                                ));
                            }
                        },
                    }
                }
                // As hclsyntax's TemplateExpr: a directive's errors are kept with the others'.
                Element::Directive(dir) => match self.render_directive(dir, scope, d, out) {
                    Ok(k) => known &= k,
                    Err(e) => errors.extend(e.flatten()),
                },
            }
            if out.len() > MAX_STRING {
                return Err(Diagnostic::error(
                    "Template result too large",
                    format!("A template may produce at most {MAX_STRING} bytes."),
                ));
            }
        }
        match Diagnostic::several(errors) {
            Some(e) => Err(e),
            None => Ok(known),
        }
    }

    /// Renders an `if` or `for` directive into `out`; returns false when a value was unknown.
    fn render_directive(
        &self,
        dir: &Directive,
        scope: &Scope,
        d: usize,
        out: &mut String,
    ) -> Result<bool, Diagnostic> {
        let mut known = true;
        match dir {
            Directive::If(dir) => {
                let c = self.eval_depth(&dir.if_expr.cond_expr, scope, d)?;
                let cond = match c {
                    Value::Unknown => {
                        return Ok(false);
                    }
                    // hclsyntax makes the directive a conditional expression: its words.
                    Value::Null => {
                        return Err(self.with(
                                self.error_at(
                                    &dir.if_expr.cond_expr,
                                    "Null condition",
                                    "The condition value is null. Conditions must either be true or false.",
                                ),
                                &dir.if_expr.cond_expr,
                                scope,
                            ));
                    }
                    other => cty_bool(&other).ok_or_else(|| {
                        self.with(
                            self.error_at(
                                &dir.if_expr.cond_expr,
                                "Incorrect condition type",
                                "The condition expression must be of type bool.",
                            ),
                            &dir.if_expr.cond_expr,
                            scope,
                        )
                    })?,
                };
                if cond {
                    let next = match &dir.else_expr {
                        Some(e) => e.strip,
                        None => dir.endif_expr.strip,
                    };
                    let inner: Vec<&Element> = dir.if_expr.template.iter().collect();
                    known &= self.render(&inner, scope, d + 1, dir.if_expr.strip, next, out)?;
                } else if let Some(e) = &dir.else_expr {
                    let inner: Vec<&Element> = e.template.iter().collect();
                    known &=
                        self.render(&inner, scope, d + 1, e.strip, dir.endif_expr.strip, out)?;
                }
            }
            Directive::For(dir) => {
                let fe = &dir.for_expr;
                let coll = self.eval_depth(&fe.collection_expr, scope, d)?;
                let pairs: Vec<(Value, Value)> = match coll {
                    Value::Unknown => {
                        return Ok(false);
                    }
                    Value::List(items) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::Number(i.into()), v))
                        .collect(),
                    Value::Object(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                    // hclsyntax makes the directive a `for` expression: its words.
                    Value::Null => {
                        return Err(self.with(
                                self.error_at(
                                    &fe.collection_expr,
                                    "Iteration over null value",
                                    "A null value cannot be used as the collection in a 'for' expression.",
                                ),
                                &fe.collection_expr,
                                scope,
                            ));
                    }
                    other => {
                        return Err(self.with(
                                self.error_at(
                                    &fe.collection_expr,
                                    "Iteration over non-iterable value",
                                    format!("A value of type {} cannot be used as the collection in a 'for' expression.", other.type_name()),
                                ),
                                &fe.collection_expr,
                                scope,
                            ));
                    }
                };
                let inner: Vec<&Element> = fe.template.iter().collect();
                for (k, v) in pairs {
                    let mut child = scope.child();
                    if let Some(kv) = &fe.key_var {
                        child.set(kv.as_str(), k);
                    }
                    child.set(fe.value_var.as_str(), v);
                    known &=
                        self.render(&inner, &child, d + 1, fe.strip, dir.endfor_expr.strip, out)?;
                    if out.len() > MAX_STRING {
                        return Err(self.error_at(
                            &fe.collection_expr,
                            "Template result too large",
                            format!("A template may produce at most {MAX_STRING} bytes."),
                        ));
                    }
                }
            }
        }
        Ok(known)
    }
}

/// The strip markers a template element shows to its neighbours: its opening marker's left
/// side and its closing marker's right side.
fn outer_strip(e: &Element) -> Strip {
    let (start, end) = match e {
        Element::Literal(_) => return Strip::None,
        Element::Interpolation(i) => (i.strip.strip_start(), i.strip.strip_end()),
        Element::Directive(d) => match &**d {
            Directive::If(d) => (
                d.if_expr.strip.strip_start(),
                d.endif_expr.strip.strip_end(),
            ),
            Directive::For(d) => (
                d.for_expr.strip.strip_start(),
                d.endfor_expr.strip.strip_end(),
            ),
        },
    };
    match (start, end) {
        (true, true) => Strip::Both,
        (true, false) => Strip::Start,
        (false, true) => Strip::End,
        (false, false) => Strip::None,
    }
}

fn strip_literal(mut literal: &str, prev: Strip, next: Strip) -> &str {
    fn is_space(ch: char) -> bool {
        ch.is_whitespace() && ch != '\r' && ch != '\n'
    }
    if prev.strip_end() {
        let s = literal.trim_start_matches(is_space);
        literal = s
            .strip_prefix("\r\n")
            .or_else(|| s.strip_prefix('\n'))
            .unwrap_or(s);
    }
    if next.strip_start() {
        let s = literal.trim_end_matches(is_space);
        literal = s
            .strip_suffix("\r\n")
            .or_else(|| s.strip_suffix('\n'))
            .unwrap_or(s);
    }
    literal
}

/// For a function argument's type conversion error (`string required`, `a number is
/// required`, `list of string required`), a value of that type; `None` for other errors.
fn conversion_stand_in(msg: &str) -> Option<Value> {
    let m = msg.trim_end_matches('.');
    Some(match m {
        "string required" => Value::str(""),
        "number required" | "a number is required" => Value::Number(Number::ZERO),
        "bool required" | "a bool is required" => Value::Bool(false),
        _ if m.ends_with(" required")
            && (m.starts_with("list of ") || m.starts_with("set of ") || m == "tuple required") =>
        {
            Value::List(Vec::new())
        }
        _ if m.ends_with(" required") && (m.starts_with("map of ") || m == "object required") => {
            Value::Object(BTreeMap::new())
        }
        _ => return None,
    })
}

/// The type hclsyntax gives the result of an expression whose evaluation failed: an
/// operation's result type (`cty.UnknownVal(op.Type)`: a number for arithmetic, a bool for
/// comparisons and logic), a string for a template; `None` (dynamic) for anything else.
fn failed_type(e: &Expression) -> Option<types::Type> {
    use hcl::edit::expr::{BinaryOperator as B, UnaryOperator as U};
    match e {
        Expression::Parenthesis(p) => failed_type(p.inner()),
        Expression::BinaryOp(op) => Some(match op.operator.value() {
            B::Plus | B::Minus | B::Mul | B::Div | B::Mod => types::Type::Number,
            _ => types::Type::Bool,
        }),
        Expression::UnaryOp(op) => Some(match op.operator.value() {
            U::Neg => types::Type::Number,
            U::Not => types::Type::Bool,
        }),
        Expression::StringTemplate(t) => {
            let elems: Vec<&Element> = t.iter().collect();
            match elems.as_slice() {
                // One interpolation alone is its expression's value.
                [Element::Interpolation(i)] => failed_type(&i.expr),
                _ => Some(types::Type::String),
            }
        }
        Expression::HeredocTemplate(_) => Some(types::Type::String),
        _ => None,
    }
}

/// Whether the null an expression gave has no known type: not a typed variable's, nor a
/// conditional's (whose type is its other result's, unless both are `null`).
fn null_is_dynamic(e: &Expression, scope: &Scope) -> bool {
    match e {
        Expression::Parenthesis(p) => null_is_dynamic(p.inner(), scope),
        Expression::Conditional(c) => {
            matches!(c.true_expr, Expression::Null(_))
                && matches!(c.false_expr, Expression::Null(_))
        }
        e => !matches!(describe::static_type(e, scope), Some(t) if t != types::Type::Any),
    }
}

/// hclsyntax's arity error for `templatefile(path, vars)` called with `n` arguments.
fn templatefile_arity(n: usize) -> Option<String> {
    match n {
        0 | 1 => Some(format!(
            "Function \"templatefile\" expects 2 argument(s). Missing value for \"{}\".",
            ["path", "vars"][n]
        )),
        2 => None,
        _ => Some("Function \"templatefile\" expects only 2 argument(s).".to_string()),
    }
}

/// A value with null for each unknown part.
fn null_unknowns(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(l) => Value::List(l.iter().map(null_unknowns).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), null_unknowns(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A binary operation's operands as converted for its operator.
enum Operands {
    /// `==` and `!=` compare the values as they are.
    Compared,
    Bools(Option<bool>, Option<bool>),
    Numbers(Option<crate::value::Number>, Option<crate::value::Number>),
}

/// A value converted to a bool as cty converts it (`true`, and the strings `"true"` and `"1"`;
/// `false`, `"false"` and `"0"`), as conditions and logical operators take it.
fn cty_bool(v: &Value) -> Option<bool> {
    match types::convert(v, &types::Type::Bool) {
        Ok(Value::Bool(b)) => Some(b),
        _ => None,
    }
}

/// cty's conversion error converting `v` to `t` (`string required`, `a number is required`).
fn conv_err(v: &Value, t: &types::Type) -> String {
    types::convert(v, t)
        .err()
        .unwrap_or_else(|| format!("{t} required"))
}

/// cty's unification of two types (`None`: they have none).
pub fn unify_types(a: &types::Type, b: &types::Type) -> Option<types::Type> {
    unify::unify(a, b)
}

/// cty equality: values of different types are unequal; numbers compare numerically.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    a == b
}

fn sentence(msg: &str) -> String {
    // hcl appends the period to cty's message as it is (`… in .` for an empty part of a
    // pattern, `?.` after a question mark); Kiln's own messages end with theirs.
    let m = msg.trim_start().trim_end_matches('\n');
    if m.ends_with('.') {
        m.to_string()
    } else {
        format!("{m}.")
    }
}

/// Resolves a path relative to a base directory (absolute paths are kept).
pub fn resolve(base: &Path, rel: &str) -> std::path::PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// cty's type unification, as hclsyntax applies it to the two results of a conditional,
/// over Kiln's untyped values (a list is a tuple, an object an object, null and unknown are
/// dynamic).
mod unify {
    use std::collections::BTreeMap;

    use crate::hcl::types::{Attr, Type, convert};
    use crate::value::Value;

    /// A value's cty type: a list is a tuple, an object an object, null and unknown are
    /// dynamic (`any`).
    fn ty(v: &Value) -> Type {
        match v {
            Value::Null | Value::Unknown => Type::Any,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(l) => Type::Tuple(l.iter().map(ty).collect()),
            Value::Object(o) => {
                Type::Object(o.iter().map(|(k, v)| (k.clone(), attr(ty(v)))).collect())
            }
        }
    }

    fn attr(ty: Type) -> Attr {
        Attr {
            ty,
            optional: false,
            default: None,
        }
    }

    fn unify_all(types: &[Type]) -> Option<Type> {
        let mut it = types.iter();
        let mut acc = it.next().cloned().unwrap_or(Type::Any);
        for t in it {
            acc = unify(&acc, t)?;
        }
        Some(acc)
    }

    fn element(t: &Type) -> Vec<Type> {
        match t {
            Type::Tuple(e) => e.clone(),
            Type::List(e) | Type::Map(e) => vec![(**e).clone()],
            Type::Object(m) => m.values().map(|a| a.ty.clone()).collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn unify(a: &Type, b: &Type) -> Option<Type> {
        use Type::*;
        Some(match (a, b) {
            _ if a == b => a.clone(),
            (Any, x) | (x, Any) => x.clone(),
            (String, Number | Bool) | (Number | Bool, String) => String,
            (Tuple(x), Tuple(y)) if x.len() == y.len() => Tuple(
                x.iter()
                    .zip(y)
                    .map(|(p, q)| unify(p, q))
                    .collect::<Option<Vec<_>>>()?,
            ),
            (Tuple(_) | List(_), Tuple(_) | List(_)) => {
                let mut all = element(a);
                all.extend(element(b));
                List(Box::new(unify_all(&all)?))
            }
            (Object(x), Object(y)) if x.keys().eq(y.keys()) => Object(
                x.iter()
                    .zip(y.values())
                    .map(|((k, p), q)| unify(&p.ty, &q.ty).map(|t| (k.clone(), attr(t))))
                    .collect::<Option<BTreeMap<_, _>>>()?,
            ),
            (Object(_) | Map(_), Object(_) | Map(_)) => {
                let mut all = element(a);
                all.extend(element(b));
                Map(Box::new(unify_all(&all)?))
            }
            _ => return None,
        })
    }

    /// The chosen result converted (as cty converts) to the type both results unify to;
    /// unchanged when either is unknown or they do not unify.
    pub fn conditional(chosen: Value, other: &Value) -> Value {
        if chosen.is_unknown() || other.is_unknown() {
            return chosen;
        }
        match unify(&ty(&chosen), &ty(other)) {
            Some(t) => convert(&chosen, &t).unwrap_or(chosen),
            None => chosen,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn conditional_results_unify_as_cty_types_do() {
            let n = |x: f64| Value::num(x);
            let s = |x: &str| Value::String(x.into());
            assert_eq!(conditional(n(1.0), &s("a")), s("1"));
            assert_eq!(conditional(Value::Bool(true), &s("a")), s("true"));
            assert_eq!(conditional(n(1.0), &Value::Bool(true)), n(1.0));
            assert_eq!(
                conditional(
                    Value::List(vec![n(1.0), n(2.0)]),
                    &Value::List(vec![s("a")])
                ),
                Value::List(vec![s("1"), s("2")])
            );
            assert_eq!(conditional(n(1.0), &Value::Null), n(1.0));
            let obj = |k: &str, v: Value| Value::Object([(k.to_string(), v)].into());
            assert_eq!(
                conditional(obj("a", n(1.0)), &obj("b", s("x"))),
                obj("a", s("1"))
            );
        }
    }
}

/// A number literal as cty reads it (`ParseNumberVal`: 512 bits) from its source text; the
/// parser's own `f64` only when the text is not at hand. A literal beyond a 64-bit float's
/// range was renamed for the parser ([`super::lenient`]): its own text is read.
fn literal_number(
    n: &hcl::edit::Formatted<hcl::Number>,
    file: &SourceFile,
) -> crate::value::Number {
    let parsed = n.as_repr().and_then(|r| {
        let t: &str = r;
        let t = t.trim();
        match t.strip_prefix('-') {
            Some(rest) => {
                crate::value::Number::parse(file.key_alias(rest.trim_start())).map(|x| x.neg())
            }
            None => crate::value::Number::parse(file.key_alias(t)),
        }
    });
    parsed.unwrap_or_else(|| n.value().as_f64().unwrap_or(0.0).into())
}

/// hcl's `nameSuggestion`: a candidate within an edit distance of 3 of `given`. hcl takes
/// the first such name of a Go map (random among several), Kiln the closest, then the first
/// by name.
pub fn name_suggestion<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|n| (strsim::levenshtein(given, n), n))
        .filter(|(d, _)| *d < 3)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(src: &str) -> Result<Value, Diagnostic> {
        ev_with(src, Scope::new())
    }

    fn ev_with(src: &str, scope: Scope) -> Result<Value, Diagnostic> {
        let text = format!("x = {src}\n");
        let file = SourceFile::new(Path::new("test.pkr.hcl"), text);
        let body = hcl::edit::parser::parse_body(&file.text).expect("parse");
        let attr = body.get_attribute("x").expect("attr").clone();
        let e = Evaluator::new(file, FuncCtx::default());
        e.eval(&attr.value, &scope)
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(ev("1 + 2 * 3").unwrap(), Value::num(7.0));
        assert_eq!(ev("\"5\" + 1").unwrap(), Value::num(6.0));
        assert_eq!(ev("!true || 1 < 2").unwrap(), Value::Bool(true));
        assert_eq!(ev("1 == \"1\"").unwrap(), Value::Bool(false));
        assert_eq!(ev("7 % 3").unwrap(), Value::num(1.0));
        assert_eq!(ev("-(2)").unwrap(), Value::num(-2.0));
    }

    #[test]
    fn division_by_zero_is_infinite_and_zero_by_zero_an_error_with_position() {
        assert_eq!(ev("1 / 0").unwrap().to_string(), "+Inf");
        assert_eq!(ev("7 % 0").unwrap(), Value::num(7.0));
        let e = ev("0 / 0").unwrap_err();
        assert_eq!(e.summary, "Operation failed");
        let s = e.subject.unwrap();
        assert_eq!((s.line, s.column), (1, 5));
    }

    #[test]
    fn templates_interpolate_and_strip() {
        let scope = Scope::new().with("name", Value::str("world"));
        assert_eq!(
            ev_with("\"hello ${name}!\"", scope).unwrap(),
            Value::str("hello world!")
        );
        assert_eq!(ev("\"${1 + 1}\"").unwrap(), Value::num(2.0));
        assert_eq!(ev("\"a${1}\"").unwrap(), Value::str("a1"));
        assert_eq!(
            ev("\"%{ for x in [1, 2, 3] ~}${x},%{ endfor ~}\"").unwrap(),
            Value::str("1,2,3,")
        );
        assert_eq!(
            ev("\"%{ if true }yes%{ else }no%{ endif }\"").unwrap(),
            Value::str("yes")
        );
        assert_eq!(ev("\"a $${b} %%{c}\"").unwrap(), Value::str("a ${b} %{c}"));
    }

    #[test]
    fn heredocs_dedent() {
        let file = SourceFile::new(
            Path::new("h.pkr.hcl"),
            "x = <<-EOT\n    hello\n      world\n    EOT\n".to_string(),
        );
        let body = hcl::edit::parser::parse_body(&file.text).unwrap();
        let attr = body.get_attribute("x").unwrap().clone();
        let v = Evaluator::new(file, FuncCtx::default())
            .eval(&attr.value, &Scope::new())
            .unwrap();
        assert_eq!(v, Value::str("hello\n  world\n"));
    }

    #[test]
    fn for_expressions_and_splats() {
        assert_eq!(
            ev("[for s in [\"a\", \"b\"] : upper_is_missing if s != \"b\"]")
                .unwrap_err()
                .summary,
            "Unknown variable"
        );
        assert_eq!(
            ev("{for i, s in [\"a\", \"b\"] : s => i}").unwrap(),
            obj(&[("a", Value::num(0.0)), ("b", Value::num(1.0))])
        );
        assert_eq!(
            ev("{for s in [\"a\", \"a\", \"b\"] : s => s...}").unwrap(),
            obj(&[
                ("a", Value::from(vec!["a", "a"])),
                ("b", Value::from(vec!["b"]))
            ])
        );
        let list = Value::List(vec![
            obj(&[("id", Value::num(1.0))]),
            obj(&[("id", Value::num(2.0))]),
        ]);
        let scope = Scope::new().with("xs", list);
        assert_eq!(
            ev_with("xs[*].id", scope).unwrap(),
            Value::from(vec![Value::num(1.0), Value::num(2.0)])
        );
    }

    #[test]
    fn attribute_errors_point_at_the_step_with_its_dot() {
        let scope = Scope::new().with("var", obj(&[("a", Value::str("x"))]));
        let e = ev_with("var.nope", scope).unwrap_err();
        assert_eq!(e.summary, "Unsupported attribute");
        assert_eq!(
            e.detail,
            "This object does not have an attribute named \"nope\"."
        );
        // hcl's subject: the traversal step `.nope`, dot included.
        let s = e.subject.unwrap();
        assert_eq!((s.line, s.column, s.end_column), (1, 8, 13));
        let scope = Scope::new().with("xs", Value::List(vec![Value::num(1.0)]));
        let e = ev_with("xs[ 3 ]", scope).unwrap_err();
        let s = e.subject.unwrap();
        assert_eq!((s.column, s.end_column), (7, 12), "{}", e.detail);
    }

    #[test]
    fn can_try_convert() {
        let scope = Scope::new().with("var", obj(&[]));
        assert_eq!(ev_with("can(var.x)", scope).unwrap(), Value::Bool(false));
        let scope = Scope::new().with("var", obj(&[]));
        assert_eq!(
            ev_with("try(var.x, \"fallback\")", scope).unwrap(),
            Value::str("fallback")
        );
        assert_eq!(ev("convert(\"5\", number)").unwrap(), Value::num(5.0));
        assert_eq!(
            ev("convert([\"a\", \"a\"], set(string))").unwrap(),
            Value::from(vec!["a"])
        );
        assert_eq!(
            ev("convert(\"x\", number)").unwrap_err().summary,
            "Invalid function argument"
        );
    }

    #[test]
    fn unknown_propagates() {
        let scope = Scope::new().with("d", Value::Unknown);
        assert_eq!(ev_with("\"a-${d}\"", scope).unwrap(), Value::Unknown);
        let scope = Scope::new().with("d", Value::Unknown);
        assert_eq!(ev_with("d.x[0]", scope).unwrap(), Value::Unknown);
    }

    /// The (summary, detail) of every error an evaluation reports, in order.
    fn all_errors(src: &str) -> Vec<(String, String)> {
        ev(src)
            .unwrap_err()
            .flatten()
            .into_iter()
            .map(|d| (d.summary, d.detail))
            .collect()
    }

    #[test]
    fn after_an_error_hclsyntax_goes_on_with_an_unknown_of_the_failed_type() {
        let details =
            |src: &str| -> Vec<String> { all_errors(src).into_iter().map(|(_, d)| d).collect() };
        // Arithmetic that fails is a number to `&&`: conversions first, then the operands'.
        assert_eq!(
            details(r#"("a" + 1) && true"#),
            [
                "Unsuitable value for left operand: bool required.",
                "Unsuitable value for left operand: a number is required.",
            ]
        );
        // A failed comparison is a bool to unary minus.
        assert_eq!(
            details(r#"-("a" < 1)"#),
            [
                "Unsuitable value for left operand: a number is required.",
                "Unsuitable value for unary operand: number required.",
            ]
        );
        // A failed argument is converted to its parameter's type; a good one too.
        assert_eq!(
            details(r#"trimsuffix([], "x" * 2)"#),
            [
                "Invalid value for \"str\" parameter: string required.",
                "Unsuitable value for left operand: a number is required.",
            ]
        );
        assert_eq!(
            details(r#"anytrue(["x" * 2])"#),
            [
                "Unsuitable value for left operand: a number is required.",
                "Invalid value for \"list\" parameter: element 0: bool required.",
            ]
        );
        // A failed string template cannot be iterated.
        assert_eq!(
            all_errors(r#"[for x in "a${[]}" : x]"#)[1],
            (
                "Iteration over non-iterable value".to_string(),
                "A value of type string cannot be used as the collection in a 'for' expression."
                    .to_string()
            )
        );
        // A failed condition makes the result an unknown of the results' type.
        assert_eq!(
            details(r#"[for x in ("a" * 1 ? "a" : "b") : x]"#)[1],
            "A value of type string cannot be used as the collection in a 'for' expression."
        );
        // Index keys after a failed step are still evaluated, and checked by type.
        assert_eq!(
            details(r#"null.a[1 + "x"]"#),
            [
                "This value is null, so it does not have any attributes.",
                "Unsuitable value for right operand: a number is required.",
            ]
        );
        assert_eq!(
            details(r#""abc"[!1]"#),
            [
                "Unsuitable value for unary operand: bool required.",
                "This value does not have any indices.",
            ]
        );
        assert_eq!(
            details(r#"["a"][!1]"#)[1],
            "The given key does not identify an element in this collection value: number required."
        );
        // Object keys and values: every one evaluated.
        assert_eq!(
            all_errors(r#"{("a" * 1) = "b" * 1, (null) = 1}"#)
                .into_iter()
                .map(|(s, _)| s)
                .collect::<Vec<_>>(),
            ["Invalid operand", "Invalid operand", "Null value as key"]
        );
        // A `for` whose elements fail is still a tuple: a mismatch for the conditional.
        assert_eq!(
            all_errors(r#"true ? {} : [for x in [1] : x * "a"]"#)[0].0,
            "Inconsistent conditional result types"
        );
    }

    #[test]
    fn with_statements_name_the_values_an_erring_expression_reads() {
        let var = obj(&[
            ("x", Value::str("abc")),
            ("l", Value::from(vec!["a", "b"])),
            ("n", Value::Null),
            ("big", Value::num(12345678901.0)),
        ]);
        let types: crate::hcl::describe::RootTypes = [(
            "var".to_string(),
            types::Type::Object(
                [(
                    "l".to_string(),
                    types::Attr {
                        ty: types::Type::List(Box::new(types::Type::String)),
                        optional: false,
                        default: None,
                    },
                )]
                .into(),
            ),
        )]
        .into();
        let base: BTreeMap<String, Value> = [("var".to_string(), var)].into();
        let scope = Scope::over(&base).typed(&types);
        let e = ev_with(
            "upper([var.x, var.l, var.n, var.x, var.big, var.l[0]])",
            scope,
        )
        .unwrap_err();
        assert_eq!(
            e.with,
            vec![
                "var.big as 1.23456789e+10",
                "var.l as list of string with 2 elements",
                "var.l[0] as \"a\"",
                "var.n set to null",
                "var.x as \"abc\"",
            ]
        );
        let text = e.to_string();
        assert!(
            text.contains("with var.big as 1.23456789e+10,\n     var.l as list of string"),
            "{text}"
        );
        assert!(
            text.contains("     var.x as \"abc\".\n\nInvalid value"),
            "{text}"
        );
        // A traversal that fails (its own error) reads nothing known: no statement.
        let scope = Scope::over(&base).typed(&types);
        assert!(ev_with("var.l[5]", scope).unwrap_err().with.is_empty());
        // A for expression's names are the for's, not the template's; its condition's
        // error names them with the element's values.
        let scope = Scope::over(&base).typed(&types);
        let e = ev_with("[for i, s in var.l : s if s]", scope).unwrap_err();
        assert_eq!(e.with, vec!["s as \"a\""]);
        assert_eq!(
            e.detail,
            "The 'if' clause value is invalid: a bool is required."
        );
    }

    #[test]
    fn unknown_function_is_named() {
        let e = ev("nope(1)").unwrap_err();
        assert_eq!(e.summary, "Call to unknown function");
        assert!(
            ev("vault(\"a\", \"b\")")
                .unwrap_err()
                .detail
                .contains("secret")
        );
    }

    #[test]
    fn templatefile_renders_and_refuses_recursion() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.tpl"),
            "Hi ${name}%{ for x in xs }-${x}%{ endfor }",
        )
        .unwrap();
        std::fs::write(dir.path().join("r.tpl"), "${templatefile(\"t.tpl\", {})}").unwrap();
        let text = "x = templatefile(\"t.tpl\", { name = \"K\", xs = [1, 2] })\ny = templatefile(\"r.tpl\", {})\n";
        let file = SourceFile::new(Path::new("t.pkr.hcl"), text.to_string());
        let body = hcl::edit::parser::parse_body(&file.text).unwrap();
        let ev = Evaluator::new(
            file,
            FuncCtx {
                base_dir: dir.path().to_path_buf(),
                allow_env: false,
            },
        );
        let x = body.get_attribute("x").unwrap();
        assert_eq!(
            ev.eval(&x.value, &Scope::new()).unwrap(),
            Value::str("Hi K-1-2")
        );
        let y = body.get_attribute("y").unwrap();
        let err = ev.eval(&y.value, &Scope::new()).unwrap_err();
        assert!(err.detail.contains("recursively"), "{err}");
    }
}
