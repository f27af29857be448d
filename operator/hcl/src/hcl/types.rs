//! Type constraints (`string`, `list(string)`, `object({a = optional(number, 1)})`, …) and
//! cty's conversions between values, as `variable { type = … }` and `convert()` use them.

use std::collections::BTreeMap;
use std::fmt;

use hcl::edit::Span;
use hcl::edit::expr::{Expression, ObjectKey};

use crate::value::{Value, format_number};

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
}

/// A type constraint.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, Attr>),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (k, a)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if a.optional {
                        write!(f, "{k} = optional({})", a.ty)?;
                    } else {
                        write!(f, "{k} = {}", a.ty)?;
                    }
                }
                f.write_str("})")
            }
        }
    }
}

/// A type-expression error: the byte range of the offending expression and a message.
#[derive(Debug)]
pub struct TypeExprError {
    pub range: Option<std::ops::Range<usize>>,
    pub message: String,
}

fn err(expr: &Expression, message: impl Into<String>) -> TypeExprError {
    TypeExprError {
        range: expr.span(),
        message: message.into(),
    }
}

/// Parses a type expression. `optional()` is accepted only directly inside `object({…})`.
/// `eval_default` evaluates the default argument of `optional(type, default)`.
pub fn parse_type(
    expr: &Expression,
    eval_default: &dyn Fn(&Expression) -> Result<Value, TypeExprError>,
) -> Result<Type, TypeExprError> {
    parse_inner(expr, eval_default, false).map(|(t, _, _)| t)
}

type Parsed = (Type, bool, Option<Value>);

fn parse_inner(
    expr: &Expression,
    eval_default: &dyn Fn(&Expression) -> Result<Value, TypeExprError>,
    in_object: bool,
) -> Result<Parsed, TypeExprError> {
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "any" => Ok((Type::Any, false, None)),
            "string" => Ok((Type::String, false, None)),
            "number" => Ok((Type::Number, false, None)),
            "bool" => Ok((Type::Bool, false, None)),
            "list" | "set" | "map" | "tuple" | "object" => Err(err(
                expr,
                format!(
                    "The {} type constructor requires one argument specifying the element type.",
                    v.as_str()
                ),
            )),
            other => Err(err(
                expr,
                format!("The keyword {other:?} is not a valid type specification."),
            )),
        },
        Expression::Parenthesis(p) => parse_inner(p.inner(), eval_default, in_object),
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            let one = |what: &str| -> Result<&Expression, TypeExprError> {
                if args.len() == 1 {
                    Ok(args[0])
                } else {
                    Err(err(
                        expr,
                        format!(
                            "The {what} type constructor requires one argument specifying the element type."
                        ),
                    ))
                }
            };
            match name {
                "list" => Ok((
                    Type::List(Box::new(parse_type(one("list")?, eval_default)?)),
                    false,
                    None,
                )),
                "set" => Ok((
                    Type::Set(Box::new(parse_type(one("set")?, eval_default)?)),
                    false,
                    None,
                )),
                "map" => Ok((
                    Type::Map(Box::new(parse_type(one("map")?, eval_default)?)),
                    false,
                    None,
                )),
                "tuple" => {
                    let arg = one("tuple")?;
                    let Expression::Array(items) = arg else {
                        return Err(err(
                            arg,
                            "The tuple type constructor requires a list of element types.",
                        ));
                    };
                    let mut ts = Vec::new();
                    for item in items.iter() {
                        ts.push(parse_type(item, eval_default)?);
                    }
                    Ok((Type::Tuple(ts), false, None))
                }
                "object" => {
                    let arg = one("object")?;
                    let Expression::Object(obj) = arg else {
                        return Err(err(
                            arg,
                            "The object type constructor requires an object of attribute types.",
                        ));
                    };
                    let mut attrs = BTreeMap::new();
                    for (k, v) in obj.iter() {
                        let key = match k {
                            ObjectKey::Ident(id) => id.as_str().to_string(),
                            ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                            ObjectKey::Expression(e) => {
                                return Err(err(
                                    e,
                                    "Object constructor map keys must be attribute names.",
                                ));
                            }
                        };
                        let (ty, optional, default) = parse_inner(v.expr(), eval_default, true)?;
                        attrs.insert(
                            key,
                            Attr {
                                ty,
                                optional,
                                default,
                            },
                        );
                    }
                    Ok((Type::Object(attrs), false, None))
                }
                "optional" => {
                    if !in_object {
                        return Err(err(
                            expr,
                            "Keyword \"optional\" is valid only as a modifier for object type attributes.",
                        ));
                    }
                    match args.len() {
                        1 => Ok((parse_type(args[0], eval_default)?, true, None)),
                        2 => {
                            let ty = parse_type(args[0], eval_default)?;
                            let raw = eval_default(args[1])?;
                            let default = convert(&raw, &ty).map_err(|e| {
                                err(
                                    args[1],
                                    format!("Invalid default value for optional attribute: {e}."),
                                )
                            })?;
                            Ok((ty, true, Some(default)))
                        }
                        _ => Err(err(
                            expr,
                            "The optional modifier requires the attribute type and an optional default value.",
                        )),
                    }
                }
                other => Err(err(
                    expr,
                    format!("Keyword {other:?} is not a valid type constructor."),
                )),
            }
        }
        _ => Err(err(
            expr,
            "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).",
        )),
    }
}

/// Converts `v` to type `t` as cty's conversion does (unsafe conversions included, as HCL
/// applies them to variable values). The error text reads like Packer's.
///
/// As cty: when no conversion exists between the value's type and `t`, the error is
/// `MismatchMessage`'s (`element 1: string required`, `attribute "a" is required`); when one
/// exists but the value does not convert (`"abc"` to a number), it is the value's own error
/// without its path (cty's `PathError` prints only its message).
pub fn convert(v: &Value, t: &Type) -> Result<Value, String> {
    if let Some(m) = mismatch(v, t) {
        return Err(m);
    }
    convert_at(v, t, &mut Vec::new())
}

/// Whether cty has a conversion (unsafe ones included, as `convert.Convert` uses) from values
/// of type `from` to type `to`: what decides, for an unknown value, whether it converts.
pub fn conversion_exists(from: &Type, to: &Type) -> bool {
    use Type::*;
    if from == to {
        return true;
    }
    match (from, to) {
        (_, Any) | (Any, _) => true,
        (Number, Bool) | (Bool, Number) => false,
        (String | Number | Bool, String | Number | Bool) => true,
        (Object(have), Object(want)) => want.iter().all(|(k, a)| match have.get(k) {
            Some(h) => conversion_exists(&h.ty, &a.ty),
            None => a.optional,
        }),
        (Tuple(have), Tuple(want)) => {
            have.len() == want.len() && have.iter().zip(want).all(|(h, w)| conversion_exists(h, w))
        }
        (List(h) | Set(h), List(w) | Set(w)) | (Map(h), Map(w)) => conversion_exists(h, w),
        (Tuple(items), List(e) | Set(e)) => elements_convert(items.iter(), e),
        (Object(attrs), Map(e)) => elements_convert(attrs.values().map(|a| &a.ty), e),
        (Map(e), Object(attrs)) => attrs.values().all(|a| conversion_exists(e, &a.ty)),
        _ => false,
    }
}

/// cty's tuple-to-list (object-to-map) conversion: every element to the element type, or,
/// for `any`, to the type they unify to.
fn elements_convert<'a>(items: impl Iterator<Item = &'a Type> + Clone, e: &Type) -> bool {
    if *e != Type::Any {
        return items.clone().all(|t| conversion_exists(t, e));
    }
    let mut unified: Option<Type> = None;
    for t in items.clone() {
        unified = match unified {
            None => Some(t.clone()),
            Some(u) => match crate::hcl::eval::unify_types(&u, t) {
                Some(u) => Some(u),
                None => return false,
            },
        };
    }
    match unified {
        Some(Type::Any) => items.into_iter().all(|t| *t == Type::Any),
        _ => true,
    }
}

/// cty's `convert.Convert` of an unknown value of type `from` to `to`: `None` when it
/// converts, else cty's `MismatchMessage` (`bool required`, `element 0: string required`).
pub fn unknown_conversion_error(from: &Type, to: &Type) -> Option<String> {
    if conversion_exists(from, to) {
        return None;
    }
    Some(mismatch_message(from, to))
}

/// cty's `MismatchMessage(got, want)`.
fn mismatch_message(got: &Type, want: &Type) -> String {
    use Type::*;
    let required = || format!("{} required", friendly(want));
    match (got, want) {
        (Object(have), Object(w)) => {
            let mut missing: Vec<&std::string::String> = w
                .iter()
                .filter(|(k, a)| !a.optional && !have.contains_key(*k))
                .map(|(k, _)| k)
                .collect();
            missing.sort();
            let q = |k: &std::string::String| crate::value::go_quote(k);
            match missing.as_slice() {
                [] => {}
                [one] => return format!("attribute {} is required", q(one)),
                [a, b] => return format!("attributes {} and {} are required", q(a), q(b)),
                [rest @ .., last] => {
                    let rest: Vec<std::string::String> = rest.iter().map(|k| q(k)).collect();
                    return format!(
                        "attributes {}, and {} are required",
                        rest.join(", "),
                        q(last)
                    );
                }
            }
            w.iter()
                .find_map(|(k, a)| {
                    let h = &have.get(k)?.ty;
                    (!conversion_exists(h, &a.ty)).then(|| {
                        format!(
                            "attribute {}: {}",
                            crate::value::go_quote(k),
                            mismatch_message(h, &a.ty)
                        )
                    })
                })
                .unwrap_or_else(|| "incorrect object attributes".into())
        }
        (Tuple(_), List(e)) if **e == Any => "all list elements must have the same type".into(),
        (Tuple(_), Set(e)) if **e == Any => "all set elements must have the same type".into(),
        (Object(_), Map(e)) if **e == Any => "all map elements must have the same type".into(),
        (Tuple(items), List(e) | Set(e)) => items
            .iter()
            .enumerate()
            .find(|(_, t)| !conversion_exists(t, e))
            .map(|(i, t)| format!("element {i}: {}", mismatch_message(t, e)))
            .unwrap_or_else(|| format!("all elements must be {}", friendly(e))),
        (Object(attrs), Map(e)) => attrs
            .iter()
            .find(|(_, a)| !conversion_exists(&a.ty, e))
            .map(|(k, a)| {
                format!(
                    "element {}: {}",
                    crate::value::go_quote(k),
                    mismatch_message(&a.ty, e)
                )
            })
            .unwrap_or_else(|| format!("all elements must be {}", friendly(e))),
        (List(h) | Set(h), List(e)) => {
            format!("incorrect list element type: {}", mismatch_message(h, e))
        }
        (List(h) | Set(h), Set(e)) => {
            format!("incorrect set element type: {}", mismatch_message(h, e))
        }
        (Map(h), Map(e)) => format!("incorrect map element type: {}", mismatch_message(h, e)),
        _ => required(),
    }
}

/// A collection's element type in cty's `FriendlyNameForConstraint`: `any single type` for
/// `any` (all elements of one type).
fn friendly_element(e: &Type) -> String {
    match e {
        Type::Any => "any single type".into(),
        e => friendly(e),
    }
}

/// cty's `FriendlyNameForConstraint`.
pub fn friendly(t: &Type) -> String {
    match t {
        Type::Any => "any type".into(),
        Type::List(e) => format!("list of {}", friendly_element(e)),
        Type::Set(e) => format!("set of {}", friendly_element(e)),
        Type::Map(e) => format!("map of {}", friendly_element(e)),
        Type::Tuple(_) => "tuple".into(),
        Type::Object(_) => "object".into(),
        other => other.to_string(),
    }
}

/// cty's `MismatchMessage` when no conversion exists from the value's type to `t` (`None`:
/// one does, even if this value may still fail to convert).
fn mismatch(v: &Value, t: &Type) -> Option<String> {
    if matches!(v, Value::Null | Value::Unknown) {
        return None;
    }
    let required = || Some(format!("{} required", friendly(t)));
    match t {
        Type::Any => None,
        Type::String => match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => None,
            _ => required(),
        },
        Type::Number => match v {
            Value::String(_) | Value::Number(_) => None,
            _ => required(),
        },
        Type::Bool => match v {
            Value::String(_) | Value::Bool(_) => None,
            _ => required(),
        },
        Type::List(et) | Type::Set(et) => {
            let Value::List(items) = v else {
                return required();
            };
            items
                .iter()
                .enumerate()
                .find_map(|(i, item)| mismatch(item, et).map(|m| format!("element {i}: {m}")))
        }
        Type::Map(et) => {
            let Value::Object(m) = v else {
                return required();
            };
            m.iter().find_map(|(k, item)| {
                mismatch(item, et).map(|m| format!("element {}: {m}", crate::value::go_quote(k)))
            })
        }
        Type::Tuple(ts) => {
            let Value::List(items) = v else {
                return required();
            };
            if items.len() != ts.len()
                || items.iter().zip(ts).any(|(i, t)| mismatch(i, t).is_some())
            {
                return required();
            }
            None
        }
        Type::Object(attrs) => {
            let Value::Object(m) = v else {
                return required();
            };
            let missing: Vec<String> = attrs
                .iter()
                .filter(|(k, a)| !a.optional && !m.contains_key(*k))
                .map(|(k, _)| crate::value::go_quote(k))
                .collect();
            match missing.as_slice() {
                [] => {}
                [one] => return Some(format!("attribute {one} is required")),
                [a, b] => return Some(format!("attributes {a} and {b} are required")),
                [rest @ .., last] => {
                    return Some(format!(
                        "attributes {}, and {last} are required",
                        rest.join(", ")
                    ));
                }
            }
            attrs.iter().find_map(|(k, a)| {
                let item = m.get(k)?;
                mismatch(item, &a.ty)
                    .map(|msg| format!("attribute {}: {msg}", crate::value::go_quote(k)))
            })
        }
    }
}

/// What a value's error says of where it is: nothing, as cty's `PathError` prints only its
/// message (the path is still tracked, for callers that may want it).
fn path_prefix(_path: &[String]) -> String {
    String::new()
}

fn convert_at(v: &Value, t: &Type, path: &mut Vec<String>) -> Result<Value, String> {
    if matches!(v, Value::Null | Value::Unknown) || *t == Type::Any {
        return Ok(v.clone());
    }
    let fail = |what: &str, path: &[String]| Err(format!("{}{what}", path_prefix(path)));
    match t {
        Type::Any => Ok(v.clone()),
        Type::String => match v.to_string_lossless() {
            Some(s) => Ok(Value::String(s)),
            None => fail("string required", path),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => match crate::value::parse_num(s) {
                Some(n) => Ok(Value::Number(n)),
                None => fail("a number is required", path),
            },
            _ => fail("number required", path),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" || s == "1" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" || s == "0" => Ok(Value::Bool(false)),
            Value::String(s) => fail(&Value::bool_string_error(s), path),
            _ => fail("bool required", path),
        },
        Type::List(et) | Type::Set(et) => {
            let items: Vec<Value> = match v {
                Value::List(items) => items.clone(),
                // cty converts a map to a list? No: only tuples/lists/sets.
                _ => return fail(&format!("{} required", t.kind_name()), path),
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                let c = convert_at(item, et, path);
                path.pop();
                out.push(c?);
            }
            let out = unify_elements(out, et);
            if matches!(t, Type::Set(_)) {
                Ok(Value::List(set_normalise(out)))
            } else {
                Ok(Value::List(out))
            }
        }
        Type::Tuple(ts) => {
            let Value::List(items) = v else {
                return fail("tuple required", path);
            };
            if items.len() != ts.len() {
                return fail(&format!("tuple required with {} elements", ts.len()), path);
            }
            let mut out = Vec::new();
            for (i, (item, et)) in items.iter().zip(ts).enumerate() {
                path.push(format!("[{i}]"));
                let c = convert_at(item, et, path);
                path.pop();
                out.push(c?);
            }
            Ok(Value::List(out))
        }
        Type::Map(et) => {
            let Value::Object(m) = v else {
                return fail(&format!("map of {et} required"), path);
            };
            let mut out = BTreeMap::new();
            for (k, item) in m {
                path.push(format!("[{}]", crate::value::quote_hcl(k)));
                let c = convert_at(item, et, path);
                path.pop();
                out.insert(k.clone(), c?);
            }
            let vals = unify_elements(out.values().cloned().collect(), et);
            Ok(Value::Object(out.into_keys().zip(vals).collect()))
        }
        Type::Object(attrs) => {
            let Value::Object(m) = v else {
                return fail("object required", path);
            };
            let mut out = BTreeMap::new();
            for (k, attr) in attrs {
                match m.get(k) {
                    Some(item) if !item.is_null() => {
                        path.push(format!(".{k}"));
                        let c = convert_at(item, &attr.ty, path);
                        path.pop();
                        out.insert(k.clone(), c?);
                    }
                    Some(_) | None if attr.optional => {
                        out.insert(k.clone(), attr.default.clone().unwrap_or(Value::Null));
                    }
                    Some(item) => {
                        out.insert(k.clone(), item.clone());
                    }
                    None => {
                        return fail(&format!("attribute {k:?} is required"), path);
                    }
                }
            }
            Ok(Value::Object(out))
        }
    }
}

impl Type {
    fn kind_name(&self) -> String {
        match self {
            Type::List(t) => format!("list of {t}"),
            Type::Set(t) => format!("set of {t}"),
            other => other.to_string(),
        }
    }
}

/// With element type `any`, cty unifies a collection's elements to one type; the common case
/// is mixed primitives becoming strings.
fn unify_elements(items: Vec<Value>, et: &Type) -> Vec<Value> {
    if *et != Type::Any {
        return items;
    }
    let has_string = items.iter().any(|v| matches!(v, Value::String(_)));
    let all_prim = items.iter().all(|v| {
        matches!(
            v,
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
        )
    });
    if has_string && all_prim {
        items
            .into_iter()
            .map(|v| match v {
                Value::Number(n) => Value::String(format_number(&n)),
                Value::Bool(b) => Value::String(b.to_string()),
                other => other,
            })
            .collect()
    } else {
        items
    }
}

/// Sets hold distinct values; cty orders string sets lexically and number sets numerically.
pub fn set_normalise(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    if out.iter().all(|v| matches!(v, Value::String(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if out.iter().all(|v| matches!(v, Value::Number(_))) {
        out.sort_by(|a, b| {
            a.to_number()
                .partial_cmp(&b.to_number())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Type {
        let e: Expression = src.parse().unwrap();
        parse_type(&e, &|e| {
            let s = e.to_string();
            Ok(match s.trim().parse::<f64>() {
                Ok(n) => Value::num(n),
                Err(_) => Value::str(s.trim().trim_matches('"')),
            })
        })
        .unwrap()
    }

    #[test]
    fn parses_and_displays_constraints() {
        assert_eq!(ty("list(string)").to_string(), "list(string)");
        assert_eq!(
            ty("object({a = string, b = optional(number, 2)})").to_string(),
            "object({a = string, b = optional(number)})"
        );
        assert_eq!(
            ty("map(list(bool))"),
            Type::Map(Box::new(Type::List(Box::new(Type::Bool))))
        );
    }

    #[test]
    fn optional_outside_object_is_an_error() {
        let e: Expression = "optional(string)".parse().unwrap();
        let r = parse_type(&e, &|_| Ok(Value::Null));
        assert!(r.unwrap_err().message.contains("optional"));
    }

    #[test]
    fn converts_primitives_like_cty() {
        assert_eq!(
            convert(&Value::num(1.0), &Type::String),
            Ok(Value::str("1"))
        );
        assert_eq!(
            convert(&Value::str("2.5"), &Type::Number),
            Ok(Value::num(2.5))
        );
        assert_eq!(
            convert(&Value::str("true"), &Type::Bool),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            convert(&Value::str("x"), &Type::Number),
            Err("a number is required".to_string())
        );
    }

    #[test]
    fn object_conversion_applies_optional_defaults_and_drops_extras() {
        let t = ty("object({a = string, b = optional(number, 2)})");
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Value::num(1.0));
        m.insert("extra".to_string(), Value::Bool(true));
        let got = convert(&Value::Object(m), &t).unwrap();
        let obj = got.as_object().unwrap();
        assert_eq!(obj.get("a"), Some(&Value::str("1")));
        assert_eq!(obj.get("b"), Some(&Value::num(2.0)));
        assert!(!obj.contains_key("extra"));
        let missing = convert(&Value::Object(BTreeMap::new()), &t).unwrap_err();
        assert_eq!(missing, "attribute \"a\" is required");
    }

    #[test]
    fn errors_are_ctys() {
        // A value that does not convert: its own error, without the path.
        let t = ty("list(number)");
        let v = Value::from(vec!["1", "x"]);
        assert_eq!(convert(&v, &t), Err("a number is required".to_string()));
        // No conversion between the types: MismatchMessage, with the element.
        let t = ty("list(string)");
        let v = Value::List(vec![Value::from(1), Value::Object(BTreeMap::new())]);
        assert_eq!(
            convert(&v, &t),
            Err("element 1: string required".to_string())
        );
        let t = ty("tuple([string])");
        assert_eq!(
            convert(&Value::from(vec!["a", "b"]), &t),
            Err("tuple required".to_string())
        );
    }

    #[test]
    fn sets_are_distinct_and_sorted() {
        let v = Value::from(vec!["b", "a", "b"]);
        assert_eq!(
            convert(&v, &ty("set(string)")),
            Ok(Value::from(vec!["a", "b"]))
        );
    }

    #[test]
    fn unknowns_convert_by_their_type_as_cty() {
        use super::unknown_conversion_error as err;
        let list = |t| Type::List(Box::new(t));
        assert_eq!(err(&Type::String, &Type::Number), None);
        assert_eq!(
            err(&Type::Number, &Type::Bool).as_deref(),
            Some("bool required")
        );
        assert_eq!(err(&Type::Any, &Type::Bool), None);
        assert_eq!(
            err(
                &Type::Tuple(vec![Type::String, Type::Number]),
                &list(Type::Bool)
            )
            .as_deref(),
            Some("element 1: bool required")
        );
        assert_eq!(
            err(
                &Type::Tuple(vec![Type::String, list(Type::String)]),
                &list(Type::Any)
            )
            .as_deref(),
            Some("all list elements must have the same type")
        );
        assert_eq!(
            err(&list(Type::Number), &list(Type::Bool)).as_deref(),
            Some("incorrect list element type: bool required")
        );
        assert_eq!(
            err(&Type::Bool, &list(Type::Any)).as_deref(),
            Some("list of any single type required")
        );
        assert_eq!(err(&Type::Tuple(vec![]), &list(Type::Bool)), None);
    }
}
