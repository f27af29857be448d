//! Numeric functions (go-cty stdlib, plus Packer's `sum`).

use super::{Args, FuncError, arg_err, other};
use crate::value::Value;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    let num = |v: f64| -> Result<Value, FuncError> {
        if v.is_nan() {
            Err(other("the result is not a number (NaN)"))
        } else {
            Ok(Value::num(if v == 0.0 { 0.0 } else { v }))
        }
    };
    match f.name {
        "abs" => {
            f.exact(&["num"])?;
            Ok(Value::Number(f.num(0, "num")?.abs()))
        }
        "ceil" => {
            f.exact(&["num"])?;
            Ok(Value::Number(f.num(0, "num")?.ceil()))
        }
        "floor" => {
            f.exact(&["num"])?;
            Ok(Value::Number(f.num(0, "num")?.floor()))
        }
        "signum" => {
            f.exact(&["num"])?;
            // cty reads the argument into a Go int: whole numbers only.
            // (its failure is the function's, not the argument's, in Packer's message).
            let n = f.num(0, "num")?;
            match n.to_i64() {
                Some(i) => Ok(Value::from(i.signum())),
                None => Err(other(super::WHOLE_NUMBER)),
            }
        }
        "log" => {
            f.exact(&["num", "base"])?;
            let n = f.number(0, "num")?;
            let b = f.number(1, "base")?;
            num(n.ln() / b.ln())
        }
        "pow" => {
            f.exact(&["num", "power"])?;
            let n = f.number(0, "num")?;
            let p = f.number(1, "power")?;
            num(n.powf(p))
        }
        "max" | "min" => {
            if f.len() == 0 {
                return Err(other("must pass at least one number"));
            }
            // cty keeps the first of equal numbers (`min(-0, 0)` is -0... printed 0).
            let mut best: Option<crate::value::Number> = None;
            for i in 0..f.len() {
                let n = f.num(i, "numbers")?;
                best = Some(match best {
                    None => n,
                    Some(b) if f.name == "max" && n > b => n,
                    Some(b) if f.name == "min" && n < b => n,
                    Some(b) => b,
                });
            }
            Ok(Value::Number(best.unwrap_or(crate::value::Number::ZERO)))
        }
        "parseint" => parseint(f),
        "sum" => sum(f),
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

fn parseint(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["number", "base"])?;
    let s = f.string(0, "number")?;
    let base = f.number(1, "base")?;
    if base.fract() != 0.0 || !(2.0..=62.0).contains(&base) {
        return Err(arg_err(
            1,
            "base",
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let base = base as u32;
    let fail = || {
        arg_err(
            0,
            "number",
            format!(
                "cannot parse {} as a base {base} integer",
                super::go_quote(&s)
            ),
        )
    };
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s.as_str()),
    };
    if digits.is_empty() {
        return Err(fail());
    }
    let mut acc = num_bigint::BigInt::from(0);
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => return Err(fail()),
        };
        if d >= base {
            return Err(fail());
        }
        acc = acc * base + d;
    }
    if neg {
        acc = -acc;
    }
    Ok(Value::Number(crate::value::Number::from_bigint(&acc)))
}

fn sum(f: &Args) -> Result<Value, FuncError> {
    f.exact(&["list"])?;
    let items = match f.get(0) {
        Value::List(l) => l,
        Value::Object(o) if o.is_empty() => {
            return Err(arg_err(0, "list", "cannot sum an empty list"));
        }
        Value::Object(_) => {
            return Err(arg_err(
                0,
                "list",
                "argument must be list, set, or tuple. Received object",
            ));
        }
        Value::Null => return Err(arg_err(0, "list", "argument must not be null")),
        _ => return Err(arg_err(0, "list", "cannot sum noniterable")),
    };
    if items.is_empty() {
        return Err(arg_err(0, "list", "cannot sum an empty list"));
    }
    let mut total: Option<crate::value::Number> = None;
    for it in items {
        let n = super::to_num(it).map_err(|_| {
            arg_err(
                0,
                "list",
                "argument must be list, set, or tuple of number values",
            )
        })?;
        total = Some(match total {
            None => n,
            Some(t) => t.add(&n).map_err(|e| other(e.to_string()))?,
        });
    }
    Ok(Value::Number(total.unwrap_or(crate::value::Number::ZERO)))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    #[test]
    fn abs_ceil_floor_signum() {
        assert_eq!(ok("abs", vec![n(23.0)]), n(23.0));
        assert_eq!(ok("abs", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("abs", vec![n(-12.4)]), n(12.4));
        assert_eq!(ok("abs", vec![s("-3")]), n(3.0));
        assert_eq!(err("abs", vec![s("x")]), "a number is required");
        assert_eq!(err("abs", vec![Value::Bool(true)]), "number required");
        assert_eq!(ok("ceil", vec![n(5.0)]), n(5.0));
        assert_eq!(ok("ceil", vec![n(5.1)]), n(6.0));
        assert_eq!(ok("floor", vec![n(5.0)]), n(5.0));
        assert_eq!(ok("floor", vec![n(4.9)]), n(4.0));
        assert_eq!(ok("floor", vec![n(-4.5)]), n(-5.0));
        assert_eq!(ok("signum", vec![n(-13.0)]), n(-1.0));
        assert_eq!(ok("signum", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("signum", vec![n(344.0)]), n(1.0));
    }

    #[test]
    fn log_pow() {
        assert_eq!(ok("log", vec![n(50.0), n(10.0)]), n(1.6989700043360185));
        assert_eq!(ok("log", vec![n(16.0), n(2.0)]), n(4.0));
        assert_eq!(ok("log", vec![n(1.0), n(10.0)]), n(0.0));
        assert_eq!(ok("log", vec![n(0.0), n(10.0)]), n(f64::NEG_INFINITY));
        assert!(err("log", vec![n(-1.0), n(10.0)]).contains("NaN"));
        assert_eq!(ok("pow", vec![n(3.0), n(2.0)]), n(9.0));
        assert_eq!(ok("pow", vec![n(4.0), n(0.0)]), n(1.0));
        assert_eq!(ok("pow", vec![n(2.0), n(-1.0)]), n(0.5));
        assert!(err("pow", vec![n(-8.0), n(0.5)]).contains("NaN"));
    }

    #[test]
    fn max_min() {
        assert_eq!(ok("max", vec![n(12.0), n(54.0), n(3.0)]), n(54.0));
        assert_eq!(ok("min", vec![n(12.0), n(54.0), n(3.0)]), n(3.0));
        assert_eq!(ok("max", vec![s("12"), n(4.0)]), n(12.0));
        assert_eq!(err("max", vec![]), "must pass at least one number");
        assert_eq!(err("min", vec![n(1.0), s("x")]), "a number is required");
    }

    #[test]
    fn parseint() {
        assert_eq!(ok("parseint", vec![s("100"), n(10.0)]), n(100.0));
        assert_eq!(ok("parseint", vec![s("FF"), n(16.0)]), n(255.0));
        assert_eq!(ok("parseint", vec![s("-10"), n(16.0)]), n(-16.0));
        assert_eq!(
            ok("parseint", vec![s("1011111011101111"), n(2.0)]),
            n(48879.0)
        );
        assert_eq!(ok("parseint", vec![s("aA"), n(62.0)]), n(656.0));
        assert_eq!(ok("parseint", vec![n(42.0), n(10.0)]), n(42.0));
        assert_eq!(
            err("parseint", vec![s("12"), n(2.0)]),
            "cannot parse \"12\" as a base 2 integer"
        );
        assert_eq!(
            err("parseint", vec![s("1"), n(63.0)]),
            "base must be a whole number between 2 and 62 inclusive"
        );
        assert_eq!(
            err("parseint", vec![s(""), n(10.0)]),
            "cannot parse \"\" as a base 10 integer"
        );
        assert_eq!(
            err("parseint", vec![s("1_000"), n(10.0)]),
            "cannot parse \"1_000\" as a base 10 integer"
        );
        // Integers of any size are exact, as with Go's big.Int.
        let big = "9".repeat(400);
        assert_eq!(ok("parseint", vec![s(&big), n(10.0)]).to_string(), big);
        assert_eq!(
            ok("parseint", vec![s("ffffffffffffffffff"), n(16.0)]).to_string(),
            "4722366482869645213695"
        );
    }

    #[test]
    fn sum() {
        assert_eq!(
            ok("sum", vec![l(vec![n(10.0), n(13.0), n(6.0), n(4.5)])]),
            n(33.5)
        );
        assert_eq!(ok("sum", vec![l(vec![s("1"), n(2.0)])]), n(3.0));
        assert_eq!(err("sum", vec![l(vec![])]), "cannot sum an empty list");
        assert_eq!(err("sum", vec![s("x")]), "cannot sum noniterable");
        assert_eq!(
            err("sum", vec![l(vec![n(1.0), Value::Null])]),
            "argument must be list, set, or tuple of number values"
        );
        assert_eq!(
            err("sum", vec![l(vec![n(f64::INFINITY), n(f64::NEG_INFINITY)])]),
            "can't compute sum of opposing infinities"
        );
        assert_eq!(
            err("sum", vec![obj(&[("a", n(1.0))])]),
            "argument must be list, set, or tuple. Received object"
        );
    }
}
