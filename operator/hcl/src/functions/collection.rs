//! Collection functions (go-cty stdlib, plus Packer's `alltrue`, `anytrue`, `index`,
//! `length`).
//!
//! Lists, sets and tuples are all [`Value::List`]; maps and objects are both
//! [`Value::Object`]. Set results are ordered as cty orders sets of primitives (numbers
//! ascending, strings lexically).

use std::collections::BTreeMap;

use super::{
    Args, FuncError, MAX_LIST, WHOLE_NUMBER, arg_err, graphemes, other, set_order, to_bool, to_int,
    unify,
};
use crate::value::Value;

fn friendly(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "tuple",
        v => v.type_name(),
    }
}

fn too_many() -> FuncError {
    other(format!(
        "the result would have more than {MAX_LIST} elements, which Kiln does not allow"
    ))
}

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "alltrue" | "anytrue" => {
            f.exact(&["list"])?;
            // The argument converted to list(bool) as cty converts it: a value that is no
            // sequence, or an element of a type with no conversion to bool, fails by type
            // (naming the element); a string that is not "true" or "false" by value.
            let list = match f.get(0) {
                Value::List(l) => l,
                Value::Null => return Err(arg_err(0, "list", "argument must not be null")),
                _ => return Err(arg_err(0, "list", "list of bool required")),
            };
            if let Some(i) = list
                .iter()
                .position(|v| !matches!(v, Value::Bool(_) | Value::String(_) | Value::Null))
            {
                return Err(arg_err(0, "list", format!("element {i}: bool required")));
            }
            let all = f.name == "alltrue";
            let mut result = all;
            for v in list {
                if v.is_null() {
                    if all {
                        return Ok(Value::Bool(false));
                    }
                    continue;
                }
                let b = to_bool(v).map_err(|m| arg_err(0, "list", m))?;
                if all && !b {
                    result = false;
                }
                if !all && b {
                    result = true;
                }
            }
            Ok(Value::Bool(result))
        }
        "chunklist" => {
            f.exact(&["list", "size"])?;
            let list = typed_list(f, 0, "list")?;
            // The size converts to a number first (cty's conversion error), then must be whole.
            f.number(1, "size")?;
            let size = f
                .int(1, "size")
                .map_err(|_| arg_err(1, "size", format!("invalid index: {WHOLE_NUMBER}")))?;
            // cty checks the size before it looks at the list.
            if size < 0 {
                return Err(other("the size argument must be positive"));
            }
            if list.is_empty() {
                return Ok(Value::List(vec![]));
            }
            if size == 0 {
                return Ok(Value::List(vec![Value::List(list)]));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::List(
                list.chunks(size).map(|c| Value::List(c.to_vec())).collect(),
            ))
        }
        "coalesce" => {
            // No arguments have no common type (cty's UnifyUnsafe of nothing); nor do tuples
            // of different lengths, or lists and strings (cty unifies the arguments' types).
            let mut types = f
                .args
                .iter()
                .filter(|v| !matches!(v, Value::Null | Value::Unknown))
                .map(crate::hcl::describe::implied);
            let first = types.next();
            let common = types.try_fold(first, |acc, t| match acc {
                Some(a) => crate::hcl::eval::unify_types(&a, &t).map(Some),
                None => Some(Some(t)),
            });
            let vals = unify(f.args)
                .filter(|_| f.len() > 0 && common.is_some())
                .ok_or_else(|| other("all arguments must have the same type"))?;
            let strings = vals.iter().any(|v| matches!(v, Value::String(_)));
            for v in vals {
                match v {
                    Value::Null => continue,
                    Value::String(s) if strings && s.is_empty() => continue,
                    v => return Ok(v),
                }
            }
            Err(other("no non-null, non-empty-string arguments"))
        }
        "coalescelist" => {
            if f.len() == 0 {
                return Err(other("at least one argument is required"));
            }
            // cty checks every argument's type before it looks for a non-empty one.
            if f.args
                .iter()
                .any(|a| !matches!(a, Value::List(_) | Value::Null))
            {
                return Err(other("coalescelist arguments must be lists or tuples"));
            }
            for a in f.args {
                if matches!(a, Value::List(l) if !l.is_empty()) {
                    return Ok(a.clone());
                }
            }
            Err(other("no non-null arguments"))
        }
        "compact" => {
            f.exact(&["list"])?;
            let items = f.string_list(0, "list")?;
            Ok(Value::List(
                items
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .map(Value::String)
                    .collect(),
            ))
        }
        "concat" => {
            if f.len() == 0 {
                return Err(other("at least one argument is required"));
            }
            let mut out = Vec::new();
            for (i, a) in f.args.iter().enumerate() {
                match a {
                    Value::List(l) => {
                        if out.len() + l.len() > MAX_LIST {
                            return Err(too_many());
                        }
                        out.extend(l.iter().cloned());
                    }
                    Value::Null => return Err(arg_err(i, "seqs", "argument must not be null")),
                    v => {
                        return Err(arg_err(
                            i,
                            "seqs",
                            format!("all arguments must be lists or tuples; got {}", friendly(v)),
                        ));
                    }
                }
            }
            Ok(Value::List(out))
        }
        "contains" => {
            f.exact(&["list", "value"])?;
            let list = match f.value(0, "list")? {
                Value::List(l) => l,
                _ => return Err(other("argument must be list, tuple, or set")),
            };
            let needle = f.get(1);
            Ok(Value::Bool(list.iter().any(|v| v == needle)))
        }
        "distinct" => {
            f.exact(&["list"])?;
            let list = typed_list(f, 0, "list")?;
            let mut out: Vec<Value> = Vec::new();
            for v in list {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Ok(Value::List(out))
        }
        "element" => {
            f.exact(&["list", "index"])?;
            // hclsyntax converts each argument to its parameter's type before the call.
            if !f.get(1).is_null() {
                f.number(1, "index")?;
            }
            let list = match f.value(0, "list")? {
                Value::List(l) => l,
                v => return Err(other(format!("cannot read elements from {}", friendly(v)))),
            };
            let idx = f.number(1, "index")?;
            if idx < 0.0 {
                return Err(other("cannot use element function with a negative index"));
            }
            let idx = to_int(idx).ok_or_else(|| other(format!("invalid index: {WHOLE_NUMBER}")))?;
            if list.is_empty() {
                return Err(other("cannot use element function with an empty list"));
            }
            let i = usize::try_from(idx).unwrap_or(0) % list.len();
            Ok(list.get(i).cloned().unwrap_or(Value::Null))
        }
        "flatten" => {
            f.exact(&["list"])?;
            match f.value(0, "list")? {
                Value::List(l) => {
                    let mut out = Vec::new();
                    flatten_into(l, &mut out, 0)?;
                    Ok(Value::List(out))
                }
                _ => Err(other("can only flatten lists, sets and tuples")),
            }
        }
        "index" => {
            f.exact(&["list", "value"])?;
            let list = match f.value(0, "list")? {
                Value::List(l) => l,
                _ => return Err(other("argument must be a list or tuple")),
            };
            if list.is_empty() {
                return Err(other("cannot search an empty list"));
            }
            let needle = f.value(1, "value")?;
            list.iter()
                .position(|v| v == needle)
                .map(|i| Value::Number(i.into()))
                .ok_or_else(|| other("item not found"))
        }
        "keys" => {
            f.exact(&["inputMap"])?;
            match f.value(0, "inputMap")? {
                Value::Object(o) => Ok(Value::List(o.keys().map(Value::str).collect())),
                _ => Err(arg_err(0, "inputMap", "must have map or object type")),
            }
        }
        "values" => {
            f.exact(&["mapping"])?;
            match f.value(0, "mapping")? {
                Value::Object(o) => Ok(Value::List(o.values().cloned().collect())),
                _ => Err(other("values() requires a map as the first argument")),
            }
        }
        "length" => {
            f.exact(&["value"])?;
            match f.value(0, "value")? {
                Value::String(s) => Ok(Value::Number(graphemes(s).len().into())),
                Value::List(l) => Ok(Value::Number(l.len().into())),
                Value::Object(o) => Ok(Value::Number(o.len().into())),
                _ => Err(other(
                    "argument must be a string, a collection type, or a structural type",
                )),
            }
        }
        "lookup" => {
            // Packer's lookup requires its default (three parameters, none optional).
            f.exact(&["inputMap", "key", "default"])?;
            let map = match f.value(0, "inputMap")? {
                Value::Object(o) => o,
                _ => {
                    return Err(arg_err(
                        0,
                        "inputMap",
                        "lookup() requires a map as the first argument",
                    ));
                }
            };
            let key = f.string(1, "key")?;
            if let Some(v) = map.get(&key) {
                return Ok(v.clone());
            }
            if f.len() == 3 {
                return Ok(f.get(2).clone());
            }
            Err(arg_err(
                0,
                "inputMap",
                format!(
                    "the given object has no attribute {}",
                    super::go_quote(&key)
                ),
            ))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            let mut all_null = f.len() > 0;
            for a in f.args {
                match a {
                    Value::Null => {}
                    Value::Object(o) => {
                        all_null = false;
                        for (k, v) in o {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                    v => {
                        return Err(other(format!(
                            "arguments must be maps or objects, got \"{}\"",
                            friendly(v)
                        )));
                    }
                }
            }
            if all_null {
                return Ok(Value::Null);
            }
            Ok(Value::Object(out))
        }
        "range" => range(f),
        "reverse" => {
            f.exact(&["list"])?;
            match f.value(0, "list")? {
                Value::List(l) => Ok(Value::List(l.iter().rev().cloned().collect())),
                v => Err(arg_err(
                    0,
                    "list",
                    format!("can only reverse list or tuple values, not {}", friendly(v)),
                )),
            }
        }
        "setunion" | "setintersection" => set_op(f),
        "setproduct" => setproduct(f),
        "slice" => slice(f),
        "sort" => {
            f.exact(&["list"])?;
            let items = f.string_list(0, "list")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, it) in items.into_iter().enumerate() {
                match it {
                    Some(s) => out.push(s),
                    None => {
                        return Err(arg_err(
                            0,
                            "list",
                            format!(
                                "given list element {i} is null; a null value cannot be sorted"
                            ),
                        ));
                    }
                }
            }
            out.sort();
            Ok(super::str_list(out))
        }
        "zipmap" => {
            f.exact(&["keys", "values"])?;
            let keys = f.string_list(0, "keys")?;
            let values = match f.value(1, "values")? {
                Value::List(l) => l,
                // cty's return-type check, not an argument error.
                _ => return Err(other("values argument must be a list or tuple value")),
            };
            if keys.len() != values.len() {
                return Err(other(format!(
                    "number of keys ({}) does not match number of values ({})",
                    keys.len(),
                    values.len()
                )));
            }
            let mut out = BTreeMap::new();
            for (i, (k, v)) in keys.into_iter().zip(values.iter()).enumerate() {
                let k = k.ok_or_else(|| other(format!("keys list has null value at index {i}")))?;
                out.insert(k, v.clone());
            }
            Ok(Value::Object(out))
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// A `list(any)` parameter: a tuple converts to a list when its elements unify.
fn typed_list(f: &Args, i: usize, param: &str) -> Result<Vec<Value>, FuncError> {
    let l = match f.value(i, param)? {
        Value::List(l) => l,
        _ => return Err(arg_err(i, param, "list of any single type required")),
    };
    unify(l).ok_or_else(|| arg_err(i, param, "all list elements must have the same type"))
}

fn flatten_into(l: &[Value], out: &mut Vec<Value>, depth: usize) -> Result<(), FuncError> {
    if depth > 256 {
        return Err(other("list is nested too deeply to flatten"));
    }
    for v in l {
        match v {
            Value::List(inner) => flatten_into(inner, out, depth + 1)?,
            v => {
                if out.len() >= MAX_LIST {
                    return Err(too_many());
                }
                out.push(v.clone());
            }
        }
    }
    Ok(())
}

fn range(f: &Args) -> Result<Value, FuncError> {
    let n = f.len();
    if !(1..=3).contains(&n) {
        return Err(other("must have one, two, or three arguments"));
    }
    use crate::value::Number;
    let mut nums = Vec::with_capacity(n);
    for i in 0..n {
        nums.push(f.num(i, "params")?);
    }
    let one = Number::Int(1);
    let minus_one = Number::Int(-1);
    let (start, end, step) = match nums.as_slice() {
        [end] => (
            Number::ZERO,
            end.clone(),
            if end.signum() < 0 { minus_one } else { one },
        ),
        [start, end] => (
            start.clone(),
            end.clone(),
            if end < start { minus_one } else { one },
        ),
        [start, end, step] => (start.clone(), end.clone(), step.clone()),
        _ => return Err(other("must have one, two, or three arguments")),
    };
    // cty's check for a zero step compares Go structs (`step == cty.Zero`) and never
    // holds: a zero step counts as positive, and a range that is not empty ends at the
    // 1024-value limit below.
    let down = step.signum() < 0;
    if down && end > start {
        return Err(arg_err(
            1,
            "params",
            "end must be less than start when step is negative",
        ));
    }
    if !down && end < start {
        return Err(arg_err(
            1,
            "params",
            "end must be greater than start when step is positive",
        ));
    }
    // cty adds the step to the previous value each time (at the numbers' precision).
    let mut out = Vec::new();
    let mut v = start;
    loop {
        if (down && v <= end) || (!down && v >= end) || v.is_infinite() {
            break;
        }
        if out.len() >= 1024 {
            return Err(other(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        let next = v.add(&step).map_err(|e| other(e.to_string()))?;
        out.push(Value::Number(v));
        v = next;
    }
    Ok(Value::List(out))
}

fn set_elems(f: &Args, i: usize, param: &str) -> Result<Vec<Value>, FuncError> {
    match f.value(i, param)? {
        Value::List(l) => Ok(l.clone()),
        _ => Err(arg_err(i, param, "set of any single type required")),
    }
}

fn dedup_sorted(vals: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in vals {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out.sort_by(set_order);
    out
}

fn set_op(f: &Args) -> Result<Value, FuncError> {
    f.at_least(1, "first_set")?;
    let mut sets = Vec::with_capacity(f.len());
    let mut all = Vec::new();
    let mut bounds = Vec::new();
    for i in 0..f.len() {
        let param = if i == 0 { "first_set" } else { "other_sets" };
        let e = set_elems(f, i, param)?;
        bounds.push((all.len(), all.len() + e.len()));
        if all.len() + e.len() > MAX_LIST {
            return Err(too_many());
        }
        all.extend(e);
    }
    let all =
        unify(&all).ok_or_else(|| other("given sets must all have compatible element types"))?;
    for (a, b) in bounds {
        sets.push(all.get(a..b).unwrap_or(&[]).to_vec());
    }
    let result = if f.name == "setunion" {
        dedup_sorted(all)
    } else {
        let first = sets.first().cloned().unwrap_or_default();
        dedup_sorted(
            first
                .into_iter()
                .filter(|v| sets.iter().skip(1).all(|s| s.contains(v)))
                .collect(),
        )
    };
    Ok(Value::List(result))
}

fn setproduct(f: &Args) -> Result<Value, FuncError> {
    if f.len() < 2 {
        return Err(other("at least two arguments are required"));
    }
    let mut lists = Vec::with_capacity(f.len());
    let mut total: usize = 1;
    for i in 0..f.len() {
        let l = match f.get(i) {
            Value::List(l) => l,
            _ => return Err(arg_err(i, "sets", "a set or a list is required")),
        };
        let l =
            unify(l).ok_or_else(|| arg_err(i, "sets", "all elements must be of the same type"))?;
        total = total.checked_mul(l.len()).ok_or_else(too_many)?;
        lists.push(l);
    }
    if total > MAX_LIST {
        return Err(too_many());
    }
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; lists.len()];
    for _ in 0..total {
        out.push(Value::List(
            idx.iter()
                .zip(&lists)
                .map(|(i, l)| l.get(*i).cloned().unwrap_or(Value::Null))
                .collect(),
        ));
        for j in (0..idx.len()).rev() {
            idx[j] += 1;
            if idx[j] < lists[j].len() {
                break;
            }
            idx[j] = 0;
        }
    }
    Ok(Value::List(out))
}

fn slice(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["list", "start_index", "end_index"])?;
    let list = match f.value(0, "list")? {
        Value::List(l) => l,
        _ => return Err(arg_err(0, "list", "must be a list or tuple value")),
    };
    let len = list.len() as i64;
    let start = f.number(1, "start_index").and_then(|n| {
        to_int(n).ok_or_else(|| {
            arg_err(
                1,
                "start_index",
                format!("invalid start index: {WHOLE_NUMBER}"),
            )
        })
    })?;
    if start < 0 {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be less than zero",
        ));
    }
    if start > len {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be greater than the length of the list",
        ));
    }
    let end = f.number(2, "end_index").and_then(|n| {
        to_int(n)
            .ok_or_else(|| arg_err(2, "end_index", format!("invalid end index: {WHOLE_NUMBER}")))
    })?;
    if end < 0 {
        return Err(arg_err(
            2,
            "end_index",
            "end index must not be less than zero",
        ));
    }
    if end > len {
        return Err(arg_err(
            2,
            "end_index",
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(arg_err(
            1,
            "start_index",
            "start index must not be greater than end index",
        ));
    }
    Ok(Value::List(
        list.get(start as usize..end as usize)
            .unwrap_or(&[])
            .to_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::functions::FuncError;
    use crate::value::Value;

    fn b(x: bool) -> Value {
        Value::Bool(x)
    }

    fn nl(xs: &[f64]) -> Value {
        l(xs.iter().map(|x| n(*x)).collect())
    }

    #[test]
    fn alltrue_anytrue() {
        assert_eq!(ok("alltrue", vec![sl(&["true", "true"])]), b(true));
        assert_eq!(ok("alltrue", vec![l(vec![b(true), b(false)])]), b(false));
        assert_eq!(ok("alltrue", vec![l(vec![])]), b(true));
        assert_eq!(ok("alltrue", vec![l(vec![b(true), Value::Null])]), b(false));
        assert_eq!(ok("anytrue", vec![sl(&["true"])]), b(true));
        assert_eq!(ok("anytrue", vec![l(vec![b(true), b(false)])]), b(true));
        assert_eq!(ok("anytrue", vec![l(vec![])]), b(false));
        assert_eq!(
            ok("anytrue", vec![l(vec![Value::Null, b(false)])]),
            b(false)
        );
        assert_eq!(
            err("alltrue", vec![l(vec![n(1.0)])]),
            "element 0: bool required"
        );
        // The type of every element is looked at before any value.
        assert_eq!(
            err("anytrue", vec![l(vec![s("x"), n(1.0)])]),
            "element 1: bool required"
        );
        assert_eq!(err("alltrue", vec![sl(&["a"])]), "a bool is required");
        assert_eq!(err("anytrue", vec![n(1.0)]), "list of bool required");
    }

    #[test]
    fn chunklist() {
        assert_eq!(
            ok("chunklist", vec![sl(&["a", "b", "c", "d", "e"]), n(2.0)]),
            l(vec![sl(&["a", "b"]), sl(&["c", "d"]), sl(&["e"])])
        );
        assert_eq!(
            ok("chunklist", vec![sl(&["a", "b", "c", "d", "e"]), n(1.0)]),
            l(vec![
                sl(&["a"]),
                sl(&["b"]),
                sl(&["c"]),
                sl(&["d"]),
                sl(&["e"])
            ])
        );
        assert_eq!(
            ok("chunklist", vec![sl(&["a", "b"]), n(0.0)]),
            l(vec![sl(&["a", "b"])])
        );
        assert_eq!(ok("chunklist", vec![l(vec![]), n(3.0)]), l(vec![]));
        // Checked before the list, as a failure of the call (not of the argument).
        for list in [sl(&["a"]), l(vec![])] {
            assert_eq!(
                c("chunklist", vec![list, n(-1.0)]),
                Err(FuncError::Other(
                    "the size argument must be positive".into()
                ))
            );
        }
    }

    #[test]
    fn coalesce() {
        assert_eq!(
            err("coalesce", vec![]),
            "all arguments must have the same type"
        );
        assert_eq!(ok("coalesce", vec![s("a"), s("b")]), s("a"));
        assert_eq!(ok("coalesce", vec![s(""), s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![n(1.0), n(2.0)]), n(1.0));
        assert_eq!(ok("coalesce", vec![Value::Null, n(2.0)]), n(2.0));
        assert_eq!(ok("coalesce", vec![n(1.0), s("hello")]), s("1"));
        assert_eq!(
            err("coalesce", vec![Value::Null, s("")]),
            "no non-null, non-empty-string arguments"
        );
        assert_eq!(
            err("coalesce", vec![n(1.0), b(true)]),
            "all arguments must have the same type"
        );
        // Tuples unify only with tuples of their length.
        assert_eq!(
            err("coalesce", vec![sl(&["x", "y"]), l(vec![sl(&["x", "y"])])]),
            "all arguments must have the same type"
        );
        assert_eq!(
            ok("coalesce", vec![Value::Null, sl(&["x"]), sl(&["y"])]),
            sl(&["x"])
        );
    }

    #[test]
    fn coalescelist() {
        assert_eq!(
            ok("coalescelist", vec![sl(&["a", "b"]), sl(&["c", "d"])]),
            sl(&["a", "b"])
        );
        assert_eq!(
            ok("coalescelist", vec![l(vec![]), sl(&["c", "d"])]),
            sl(&["c", "d"])
        );
        assert_eq!(
            err("coalescelist", vec![l(vec![])]),
            "no non-null arguments"
        );
        // Every argument's type first, then the first non-empty one.
        assert_eq!(
            err("coalescelist", vec![sl(&["a"]), s("b")]),
            "coalescelist arguments must be lists or tuples"
        );
        assert_eq!(
            err("coalescelist", vec![s("a")]),
            "coalescelist arguments must be lists or tuples"
        );
    }

    #[test]
    fn compact() {
        assert_eq!(
            ok(
                "compact",
                vec![l(vec![s("a"), s(""), s("b"), Value::Null, s("c")])]
            ),
            sl(&["a", "b", "c"])
        );
    }

    #[test]
    fn concat() {
        assert_eq!(
            ok("concat", vec![sl(&["a", ""]), sl(&["b", "c"])]),
            sl(&["a", "", "b", "c"])
        );
        assert_eq!(
            err("concat", vec![sl(&["a"]), s("b")]),
            "all arguments must be lists or tuples; got string"
        );
        assert_eq!(err("concat", vec![]), "at least one argument is required");
    }

    #[test]
    fn contains() {
        assert_eq!(ok("contains", vec![sl(&["a", "b", "c"]), s("a")]), b(true));
        assert_eq!(ok("contains", vec![sl(&["a", "b", "c"]), s("d")]), b(false));
        assert_eq!(ok("contains", vec![nl(&[1.0, 2.0]), n(2.0)]), b(true));
        assert_eq!(ok("contains", vec![l(vec![]), n(2.0)]), b(false));
        assert_eq!(
            err("contains", vec![s("abc"), s("a")]),
            "argument must be list, tuple, or set"
        );
    }

    #[test]
    fn distinct() {
        assert_eq!(
            ok("distinct", vec![sl(&["a", "b", "a", "c", "d", "b"])]),
            sl(&["a", "b", "c", "d"])
        );
        assert_eq!(ok("distinct", vec![l(vec![s("1"), n(1.0)])]), sl(&["1"]));
    }

    #[test]
    fn element() {
        assert_eq!(ok("element", vec![sl(&["a", "b", "c"]), n(1.0)]), s("b"));
        assert_eq!(ok("element", vec![sl(&["a", "b", "c"]), n(3.0)]), s("a"));
        assert_eq!(
            err("element", vec![sl(&["a"]), n(-1.0)]),
            "cannot use element function with a negative index"
        );
        assert_eq!(
            err("element", vec![l(vec![]), n(0.0)]),
            "cannot use element function with an empty list"
        );
        assert!(err("element", vec![sl(&["a"]), n(0.5)]).starts_with("invalid index"));
        assert_eq!(
            err("element", vec![s("a"), n(0.0)]),
            "cannot read elements from string"
        );
    }

    #[test]
    fn flatten() {
        assert_eq!(
            ok(
                "flatten",
                vec![l(vec![sl(&["a", "b"]), l(vec![]), sl(&["c"])])]
            ),
            sl(&["a", "b", "c"])
        );
        assert_eq!(
            ok(
                "flatten",
                vec![l(vec![
                    l(vec![s("a"), s("b")]),
                    l(vec![]),
                    l(vec![s("c"), l(vec![s("d")])])
                ])]
            ),
            sl(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("flatten", vec![l(vec![obj(&[("a", n(1.0))])])]),
            l(vec![obj(&[("a", n(1.0))])])
        );
        assert_eq!(
            err("flatten", vec![s("a")]),
            "can only flatten lists, sets and tuples"
        );
    }

    #[test]
    fn index() {
        assert_eq!(ok("index", vec![sl(&["a", "b", "c"]), s("b")]), n(1.0));
        assert_eq!(
            err("index", vec![sl(&["a", "b", "c"]), s("d")]),
            "item not found"
        );
        assert_eq!(
            err("index", vec![l(vec![]), s("d")]),
            "cannot search an empty list"
        );
        assert_eq!(
            err("index", vec![s("abc"), s("a")]),
            "argument must be a list or tuple"
        );
    }

    #[test]
    fn keys_values() {
        let m = obj(&[("a", n(1.0)), ("c", n(2.0)), ("d", n(3.0))]);
        assert_eq!(ok("keys", vec![m.clone()]), sl(&["a", "c", "d"]));
        assert_eq!(ok("values", vec![m]), nl(&[1.0, 2.0, 3.0]));
        assert_eq!(
            err("keys", vec![sl(&["a"])]),
            "must have map or object type"
        );
        assert_eq!(
            err("values", vec![s("a")]),
            "values() requires a map as the first argument"
        );
    }

    #[test]
    fn length() {
        assert_eq!(ok("length", vec![l(vec![])]), n(0.0));
        assert_eq!(ok("length", vec![sl(&["a", "b"])]), n(2.0));
        assert_eq!(ok("length", vec![obj(&[("a", s("b"))])]), n(1.0));
        assert_eq!(ok("length", vec![s("hello")]), n(5.0));
        assert_eq!(ok("length", vec![s("👾🕹️")]), n(2.0));
        assert_eq!(
            err("length", vec![n(5.0)]),
            "argument must be a string, a collection type, or a structural type"
        );
    }

    #[test]
    fn lookup() {
        let m = obj(&[("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(ok("lookup", vec![m.clone(), s("a"), s("what?")]), s("ay"));
        assert_eq!(
            ok("lookup", vec![m.clone(), s("c"), s("what?")]),
            s("what?")
        );
        assert_eq!(
            err("lookup", vec![m, s("c")]),
            "Function \"lookup\" expects 3 argument(s). Missing value for \"default\"."
        );
        assert_eq!(
            err("lookup", vec![sl(&["a"]), s("c"), s("x")]),
            "lookup() requires a map as the first argument"
        );
    }

    #[test]
    fn merge() {
        assert_eq!(
            ok(
                "merge",
                vec![
                    obj(&[("a", s("b")), ("c", s("d"))]),
                    obj(&[("e", s("f")), ("c", s("z"))])
                ]
            ),
            obj(&[("a", s("b")), ("c", s("z")), ("e", s("f"))])
        );
        assert_eq!(
            ok(
                "merge",
                vec![obj(&[("a", s("b"))]), obj(&[("e", l(vec![]))])]
            ),
            obj(&[("a", s("b")), ("e", l(vec![]))])
        );
        assert_eq!(ok("merge", vec![]), obj(&[]));
        assert_eq!(
            ok("merge", vec![Value::Null, obj(&[("a", n(1.0))])]),
            obj(&[("a", n(1.0))])
        );
        assert_eq!(ok("merge", vec![Value::Null]), Value::Null);
        assert_eq!(
            err("merge", vec![s("x")]),
            "arguments must be maps or objects, got \"string\""
        );
    }

    #[test]
    fn range() {
        assert_eq!(ok("range", vec![n(3.0)]), nl(&[0.0, 1.0, 2.0]));
        assert_eq!(ok("range", vec![n(1.0), n(4.0)]), nl(&[1.0, 2.0, 3.0]));
        assert_eq!(
            ok("range", vec![n(1.0), n(8.0), n(2.0)]),
            nl(&[1.0, 3.0, 5.0, 7.0])
        );
        assert_eq!(
            ok("range", vec![n(1.0), n(4.0), n(0.5)]),
            nl(&[1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
        );
        assert_eq!(ok("range", vec![n(4.0), n(1.0)]), nl(&[4.0, 3.0, 2.0]));
        assert_eq!(
            ok("range", vec![n(10.0), n(5.0), n(-2.0)]),
            nl(&[10.0, 8.0, 6.0])
        );
        assert_eq!(ok("range", vec![n(-3.0)]), nl(&[0.0, -1.0, -2.0]));
        assert_eq!(ok("range", vec![n(0.0)]), l(vec![]));
        // A zero step is positive to cty (its zero check never holds).
        assert!(err("range", vec![n(1.0), n(2.0), n(0.0)]).starts_with("more than 1024 values"));
        assert_eq!(ok("range", vec![n(1.0), n(1.0), n(0.0)]), l(vec![]));
        assert!(matches!(
            c("range", vec![n(2.0), n(1.0), n(0.0)]),
            Err(FuncError::Arg(1, p, m)) if p == "params" && m == "end must be greater than start when step is positive"
        ));
        assert!(matches!(
            c("range", vec![n(1.0), n(4.0), n(-1.0)]),
            Err(FuncError::Arg(1, p, m)) if p == "params" && m == "end must be less than start when step is negative"
        ));
        assert!(err("range", vec![n(1e12)]).starts_with("more than 1024 values"));
        assert_eq!(
            err("range", vec![]),
            "must have one, two, or three arguments"
        );
    }

    #[test]
    fn reverse() {
        assert_eq!(
            ok("reverse", vec![nl(&[1.0, 2.0, 3.0])]),
            nl(&[3.0, 2.0, 1.0])
        );
        assert_eq!(
            err("reverse", vec![s("abc")]),
            "can only reverse list or tuple values, not string"
        );
    }

    #[test]
    fn sets() {
        assert_eq!(
            ok(
                "setintersection",
                vec![sl(&["a", "b"]), sl(&["b", "c"]), sl(&["b", "d"])]
            ),
            sl(&["b"])
        );
        assert_eq!(
            ok(
                "setunion",
                vec![sl(&["a", "b"]), sl(&["b", "c"]), sl(&["d"])]
            ),
            sl(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("setunion", vec![nl(&[3.0, 1.0]), nl(&[2.0, 10.0])]),
            nl(&[1.0, 2.0, 3.0, 10.0])
        );
        assert_eq!(
            ok("setunion", vec![sl(&["b"]), nl(&[1.0])]),
            sl(&["1", "b"])
        );
        assert_eq!(
            ok("setintersection", vec![sl(&["a"]), l(vec![])]),
            l(vec![])
        );
        assert_eq!(
            ok(
                "setproduct",
                vec![
                    sl(&["development", "staging", "production"]),
                    sl(&["app1", "app2"])
                ]
            ),
            l(vec![
                sl(&["development", "app1"]),
                sl(&["development", "app2"]),
                sl(&["staging", "app1"]),
                sl(&["staging", "app2"]),
                sl(&["production", "app1"]),
                sl(&["production", "app2"]),
            ])
        );
        assert_eq!(
            ok("setproduct", vec![sl(&["a", "b"]), l(vec![])]),
            l(vec![])
        );
        assert_eq!(
            err("setproduct", vec![sl(&["a"])]),
            "at least two arguments are required"
        );
        let big: Vec<Value> = (0..2000).map(|i| n(f64::from(i))).collect();
        assert!(
            err("setproduct", vec![l(big.clone()), l(big.clone()), l(big)]).contains("more than")
        );
    }

    #[test]
    fn slice() {
        assert_eq!(
            ok("slice", vec![sl(&["a", "b", "c", "d"]), n(1.0), n(3.0)]),
            sl(&["b", "c"])
        );
        assert_eq!(
            ok("slice", vec![sl(&["a", "b"]), n(1.0), n(1.0)]),
            l(vec![])
        );
        assert_eq!(
            err("slice", vec![sl(&["a", "b"]), n(-1.0), n(1.0)]),
            "start index must not be less than zero"
        );
        assert_eq!(
            err("slice", vec![sl(&["a", "b"]), n(0.0), n(3.0)]),
            "end index must not be greater than the length of the list"
        );
        assert_eq!(
            err("slice", vec![sl(&["a", "b"]), n(2.0), n(1.0)]),
            "start index must not be greater than end index"
        );
        assert_eq!(
            err("slice", vec![sl(&["a", "b"]), n(3.0), n(3.0)]),
            "start index must not be greater than the length of the list"
        );
    }

    #[test]
    fn sort() {
        assert_eq!(
            ok("sort", vec![sl(&["e", "d", "a", "x"])]),
            sl(&["a", "d", "e", "x"])
        );
        assert_eq!(
            ok("sort", vec![nl(&[3.0, 1.0, 11.0])]),
            sl(&["1", "11", "3"])
        );
        assert_eq!(
            err("sort", vec![l(vec![s("a"), Value::Null])]),
            "given list element 1 is null; a null value cannot be sorted"
        );
    }

    #[test]
    fn zipmap() {
        assert_eq!(
            ok("zipmap", vec![sl(&["a", "b"]), nl(&[1.0, 2.0])]),
            obj(&[("a", n(1.0)), ("b", n(2.0))])
        );
        assert_eq!(
            err("zipmap", vec![sl(&["a"]), nl(&[1.0, 2.0])]),
            "number of keys (1) does not match number of values (2)"
        );
        assert_eq!(
            err("zipmap", vec![l(vec![Value::Null]), nl(&[1.0])]),
            "keys list has null value at index 0"
        );
    }
}
