//! Packer's HCL2 function library (see docs/templates.md for the compatibility table).
//!
//! The evaluator calls [`call`] with already-evaluated arguments. It handles itself the
//! functions that need unevaluated expressions or the evaluator: `can`, `try`, `convert`
//! and `templatefile`; and it never passes unknown values here (a call with an unknown
//! argument yields unknown).
//!
//! Semantics follow go-cty's stdlib, go-cty-funcs and Packer's own functions
//! (`hcl2template/function`), including their error wording where known. Numbers are
//! cty's (`crate::number`); strings are measured in (approximate) grapheme
//! clusters.

use std::path::PathBuf;

use crate::value::Value;

mod collection;
mod crypto;
pub(crate) mod datetime;
mod encoding;
mod filesystem;
mod format;
mod gojson;
pub(crate) use format::go_float;
mod ipnet;
mod numeric;
mod string;
mod uuidfn;

/// What a function may know of its surroundings.
#[derive(Clone, Debug, Default)]
pub struct FuncCtx {
    /// `path.root`: the directory file functions resolve relative paths against.
    pub base_dir: PathBuf,
    /// `env()` is only allowed in variable defaults.
    pub allow_env: bool,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FuncError {
    /// Wrong number of arguments: (expected description, got).
    Arity(String),
    /// A specific argument is invalid: (zero-based index, parameter name, message).
    Arg(usize, String, String),
    /// Any other failure.
    Other(String),
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncError::Arity(m) | FuncError::Other(m) => f.write_str(m),
            FuncError::Arg(_, p, m) => write!(f, "Invalid value for \"{p}\" parameter: {m}."),
        }
    }
}

/// Whether `name` is a function of the library (not counting evaluator-handled ones).
///
/// Packer's secret-lookup functions (see [`UNSUPPORTED`]) count as known: [`call`] reports
/// clearly that Kiln does not support them instead of "no such function".
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name) || UNSUPPORTED.contains(&name)
}

/// Every function the library implements.
pub const NAMES: &[&str] = &[
    // string
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "regex_replace",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    // numeric
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    "sum",
    // collection
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "merge",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setunion",
    "slice",
    "sort",
    "values",
    "zipmap",
    // encoding
    "base64decode",
    "base64encode",
    "base64gzip",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
    // filesystem
    "abspath",
    "basename",
    "dirname",
    "file",
    "filebase64",
    "fileexists",
    "fileset",
    "pathexpand",
    // date and time
    "formatdate",
    "timeadd",
    "timestamp",
    "legacy_isotime",
    "legacy_strftime",
    "rfc3339_parse",
    "unix_timestamp_parse",
    // hash and crypto
    "bcrypt",
    "md5",
    "rsadecrypt",
    "sha1",
    "sha256",
    "sha512",
    // ip network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // uuid
    "uuidv4",
    "uuidv5",
    // variable defaults only
    "env",
];

/// Packer functions Kiln knows of but does not support (secret lookups from the Packer
/// process). [`call`] returns a clear error for them.
pub const UNSUPPORTED: &[&str] = &[
    "vault",
    "consul_key",
    "aws_secretsmanager",
    "aws_secretsmanager_raw",
];

/// Functions the evaluator implements itself.
const EVALUATOR: &[&str] = &["can", "try", "convert", "templatefile"];

/// The functions a template can call, as Packer's evaluation contexts have them: variable
/// defaults only `env` (`decodeInputVariables`), everywhere else Packer's `Functions` (the
/// library, the secret look-ups Kiln refuses when called, and the evaluator's own), without
/// `env`.
pub fn available(defaults: bool) -> Vec<&'static str> {
    if defaults {
        return vec!["env"];
    }
    NAMES
        .iter()
        .chain(UNSUPPORTED)
        .chain(EVALUATOR)
        .copied()
        .filter(|n| *n != "env")
        .collect()
}

/// Calls function `name`.
pub fn call(name: &str, args: &[Value], ctx: &FuncCtx) -> Result<Value, FuncError> {
    if UNSUPPORTED.contains(&name) {
        return Err(FuncError::Other(format!(
            "The {name}() function is not supported in Kiln: Kiln does not read secrets from \
             Vault, Consul or AWS Secrets Manager at template evaluation time. Pass the value \
             in as a sensitive variable instead."
        )));
    }
    if EVALUATOR.contains(&name) {
        return Err(FuncError::Other(format!(
            "The {name}() function is handled by the template evaluator, not the function library."
        )));
    }
    if !NAMES.contains(&name) {
        return Err(FuncError::Other(format!(
            "There is no function named \"{name}\"."
        )));
    }
    // The evaluator never passes unknown values, but stay total if it does.
    if args.iter().any(Value::is_unknown) {
        return Ok(Value::Unknown);
    }
    let f = Args { name, args };
    match name {
        "chomp" | "endswith" | "indent" | "join" | "lower" | "regex" | "regexall"
        | "regex_replace" | "replace" | "split" | "startswith" | "strcontains" | "strrev"
        | "substr" | "title" | "trim" | "trimprefix" | "trimspace" | "trimsuffix" | "upper" => {
            string::call(&f)
        }
        "format" | "formatlist" => format::call(&f),
        "abs" | "ceil" | "floor" | "log" | "max" | "min" | "parseint" | "pow" | "signum"
        | "sum" => numeric::call(&f),
        "base64decode" | "base64encode" | "base64gzip" | "csvdecode" | "jsondecode"
        | "jsonencode" | "textdecodebase64" | "textencodebase64" | "urlencode" | "yamldecode"
        | "yamlencode" => encoding::call(&f),
        "abspath" | "basename" | "dirname" | "file" | "filebase64" | "fileexists" | "fileset"
        | "pathexpand" => filesystem::call(&f, ctx),
        "formatdate"
        | "timeadd"
        | "timestamp"
        | "legacy_isotime"
        | "legacy_strftime"
        | "rfc3339_parse"
        | "unix_timestamp_parse" => datetime::call(&f),
        "bcrypt" | "md5" | "rsadecrypt" | "sha1" | "sha256" | "sha512" => crypto::call(&f),
        "cidrhost" | "cidrnetmask" | "cidrsubnet" | "cidrsubnets" => ipnet::call(&f),
        "uuidv4" | "uuidv5" => uuidfn::call(&f),
        "env" => call_env(&f, ctx),
        _ => collection::call(&f),
    }
}

fn call_env(f: &Args, ctx: &FuncCtx) -> Result<Value, FuncError> {
    f.exact(&["key"])?;
    let key = f.string(0, "key")?;
    if !ctx.allow_env {
        return Err(FuncError::Other(
            "The env() function is only available in variable default values.".to_string(),
        ));
    }
    Ok(Value::String(std::env::var(&key).unwrap_or_default()))
}

// ---------------------------------------------------------------------------------------
// Limits: no input may make a function allocate without bound.

/// Most elements a function may produce in one list.
pub(crate) const MAX_LIST: usize = 1_000_000;
/// Most bytes a function may produce in one string.
pub(crate) const MAX_STRING: usize = 64 * 1024 * 1024;

pub(crate) fn check_len(len: usize) -> Result<(), FuncError> {
    if len > MAX_STRING {
        Err(FuncError::Other(format!(
            "the result would be longer than {MAX_STRING} bytes, which Kiln does not allow"
        )))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Argument access with cty's conversions.

/// A call's arguments, with accessors that convert as cty does.
pub(crate) struct Args<'a> {
    pub name: &'a str,
    pub args: &'a [Value],
}

pub(crate) fn arg_err(i: usize, param: &str, msg: impl Into<String>) -> FuncError {
    FuncError::Arg(i, param.to_string(), msg.into())
}

pub(crate) fn other(msg: impl Into<String>) -> FuncError {
    FuncError::Other(msg.into())
}

/// The message cty gives when a value cannot be converted to a string.
fn string_required(v: &Value) -> String {
    match v {
        Value::Null => "argument must not be null".to_string(),
        _ => "string required".to_string(),
    }
}

/// The whole-number error gocty gives for Go `int` targets.
pub(crate) const WHOLE_NUMBER: &str =
    "value must be a whole number, between -9223372036854775808 and 9223372036854775807";

impl<'a> Args<'a> {
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Requires exactly these parameters.
    pub fn exact(&self, params: &[&str]) -> Result<(), FuncError> {
        self.between(params, params.len())
    }

    /// Requires at least `required` of these parameters (the rest are optional).
    pub fn between(&self, params: &[&str], required: usize) -> Result<(), FuncError> {
        let n = self.args.len();
        if n < required {
            let missing = params.get(n).copied().unwrap_or("");
            return Err(FuncError::Arity(format!(
                "Function \"{}\" expects {} argument(s). Missing value for \"{}\".",
                self.name, required, missing
            )));
        }
        if n > params.len() {
            return Err(FuncError::Arity(format!(
                "Function \"{}\" expects only {} argument(s).",
                self.name,
                params.len()
            )));
        }
        Ok(())
    }

    /// Requires at least `min` arguments of a variadic function.
    pub fn at_least(&self, min: usize, param: &str) -> Result<(), FuncError> {
        if self.args.len() < min {
            return Err(FuncError::Arity(format!(
                "Function \"{}\" expects at least {} argument(s). Missing value for \"{}\".",
                self.name, min, param
            )));
        }
        Ok(())
    }

    pub fn get(&self, i: usize) -> &'a Value {
        static NULL: Value = Value::Null;
        self.args.get(i).unwrap_or(&NULL)
    }

    /// A non-null argument of any type.
    pub fn value(&self, i: usize, param: &str) -> Result<&'a Value, FuncError> {
        let v = self.get(i);
        if v.is_null() {
            return Err(arg_err(i, param, "argument must not be null"));
        }
        Ok(v)
    }

    /// A string parameter: strings, numbers and bools convert.
    pub fn string(&self, i: usize, param: &str) -> Result<String, FuncError> {
        let v = self.get(i);
        v.to_string_lossless()
            .ok_or_else(|| arg_err(i, param, string_required(v)))
    }

    /// A number parameter: numbers, and strings that parse as numbers.
    pub fn number(&self, i: usize, param: &str) -> Result<f64, FuncError> {
        to_number(self.get(i)).map_err(|m| arg_err(i, param, m))
    }

    /// A number parameter, exactly.
    pub fn num(&self, i: usize, param: &str) -> Result<crate::value::Number, FuncError> {
        to_num(self.get(i)).map_err(|m| arg_err(i, param, m))
    }

    /// A number parameter that must be a whole number fitting in an i64.
    pub fn int(&self, i: usize, param: &str) -> Result<i64, FuncError> {
        let n = self.number(i, param)?;
        to_int(n).ok_or_else(|| arg_err(i, param, WHOLE_NUMBER))
    }

    /// A `list(string)` parameter; null elements are kept as `None`.
    pub fn string_list(&self, i: usize, param: &str) -> Result<Vec<Option<String>>, FuncError> {
        let v = self.get(i);
        let l = match v {
            Value::List(l) => l,
            Value::Null => return Err(arg_err(i, param, "argument must not be null")),
            _ => return Err(arg_err(i, param, "list of string required")),
        };
        l.iter()
            .enumerate()
            .map(|(n, e)| match e {
                Value::Null => Ok(None),
                e => e
                    .to_string_lossless()
                    .map(Some)
                    .ok_or_else(|| arg_err(i, param, format!("element {n}: string required"))),
            })
            .collect()
    }
}

/// cty's conversion to number, with its error wording.
pub(crate) fn to_number(v: &Value) -> Result<f64, String> {
    to_num(v).map(|n| n.to_f64())
}

/// cty's conversion to number, exactly, with its error wording.
pub(crate) fn to_num(v: &Value) -> Result<crate::value::Number, String> {
    match v {
        Value::Number(n) => Ok(n.clone()),
        Value::String(s) => {
            crate::value::parse_num(s).ok_or_else(|| "a number is required".to_string())
        }
        Value::Null => Err("argument must not be null".to_string()),
        _ => Err("number required".to_string()),
    }
}

/// cty's conversion to bool, with its error wording.
pub(crate) fn to_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        Value::String(_) => Err("a bool is required".to_string()),
        Value::Null => Err("argument must not be null".to_string()),
        _ => Err("bool required".to_string()),
    }
}

/// A whole number that fits in an i64.
pub(crate) fn to_int(n: f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_finite() && n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n) {
        Some(n as i64)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers.

/// The kind of a primitive, for type unification.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    List,
    Object,
}

pub(crate) fn kind(v: &Value) -> Kind {
    match v {
        Value::Null | Value::Unknown => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::List(_) => Kind::List,
        Value::Object(_) => Kind::Object,
    }
}

/// Unifies values to one type as cty's `convert.Unify` does for the cases templates meet:
/// equal kinds stay; a mix of primitives including a string becomes strings. Returns
/// `None` when no common type exists (for example a number and a bool, or a string and a
/// list).
pub(crate) fn unify(vals: &[Value]) -> Option<Vec<Value>> {
    let kinds: Vec<Kind> = vals.iter().map(kind).filter(|k| *k != Kind::Null).collect();
    let Some(first) = kinds.first().copied() else {
        return Some(vals.to_vec());
    };
    if kinds.iter().all(|k| *k == first) {
        return Some(vals.to_vec());
    }
    let all_prim = kinds
        .iter()
        .all(|k| matches!(k, Kind::Bool | Kind::Number | Kind::String));
    if all_prim && kinds.contains(&Kind::String) {
        return Some(
            vals.iter()
                .map(|v| match v {
                    Value::Null => Value::Null,
                    v => v
                        .to_string_lossless()
                        .map(Value::String)
                        .unwrap_or(Value::Null),
                })
                .collect(),
        );
    }
    None
}

/// Orders values as cty orders set elements of primitive types: numbers ascending, strings
/// lexically, false before true. Other values keep their relative order.
pub(crate) fn set_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.compare(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Splits a string into (approximate) Unicode grapheme clusters: a base character with
/// any following combining marks, variation selectors, emoji modifiers, zero-width-joiner
/// sequences, CR LF pairs and regional-indicator pairs.
pub(crate) fn graphemes(s: &str) -> Vec<&str> {
    fn extends(c: char) -> bool {
        let u = c as u32;
        matches!(u,
            0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
            | 0x064B..=0x065F | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
            | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F
            | 0xE0100..=0xE01EF)
            || (0x0900..=0x0DFF).contains(&u) && is_indic_mark(u)
    }
    fn is_indic_mark(u: u32) -> bool {
        // Dependent vowel signs and viramas of the main Indic blocks sit at offsets
        // 0x3E..0x4D and 0x01..0x03 within each 128-character block.
        let off = u & 0x7F;
        (0x3E..=0x4D).contains(&off) || (0x01..=0x03).contains(&off) || off == 0x3C
    }
    fn regional(c: char) -> bool {
        (0x1F1E6..=0x1F1FF).contains(&(c as u32))
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let mut end = i + c.len_utf8();
        if c == '\r' {
            if let Some(&(j, '\n')) = chars.peek() {
                end = j + 1;
                chars.next();
            }
        } else {
            let mut prev = c;
            let mut ri_pending = regional(c);
            while let Some(&(j, n)) = chars.peek() {
                if extends(n) {
                    end = j + n.len_utf8();
                    prev = n;
                    chars.next();
                } else if n == '\u{200D}' {
                    // ZWJ joins the next character too.
                    end = j + n.len_utf8();
                    chars.next();
                    if let Some(&(k, m)) = chars.peek() {
                        end = k + m.len_utf8();
                        prev = m;
                        chars.next();
                    }
                } else if ri_pending && regional(n) {
                    end = j + n.len_utf8();
                    ri_pending = false;
                    prev = n;
                    chars.next();
                } else {
                    break;
                }
            }
            let _ = prev;
        }
        out.push(&s[start..end]);
        start = end;
    }
    out
}

pub(crate) use crate::value::go_quote;

/// Lists a number of values as a cty "tuple" result.
pub(crate) fn str_list<I: IntoIterator<Item = String>>(items: I) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    pub fn ctx() -> FuncCtx {
        FuncCtx::default()
    }

    pub fn c(name: &str, args: Vec<Value>) -> Result<Value, FuncError> {
        call(name, &args, &ctx())
    }

    /// Calls and expects success.
    pub fn ok(name: &str, args: Vec<Value>) -> Value {
        match c(name, args) {
            Ok(v) => v,
            Err(e) => panic!("{name}: unexpected error {e:?}"),
        }
    }

    /// Calls and expects failure; returns the error message.
    pub fn err(name: &str, args: Vec<Value>) -> String {
        match c(name, args) {
            Ok(v) => panic!("{name}: expected an error, got {v:?}"),
            Err(FuncError::Arg(_, _, m)) | Err(FuncError::Other(m)) | Err(FuncError::Arity(m)) => m,
        }
    }

    pub fn s(x: &str) -> Value {
        Value::str(x)
    }

    pub fn n(x: f64) -> Value {
        Value::num(x)
    }

    pub fn l(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    pub fn sl(items: &[&str]) -> Value {
        Value::List(items.iter().map(|x| Value::str(*x)).collect())
    }

    pub fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn names_are_unique_and_dispatch() {
        let mut seen = std::collections::HashSet::new();
        for n in NAMES {
            assert!(seen.insert(n), "duplicate {n}");
            assert!(exists(n));
            // No function may panic on zero arguments or on odd argument types.
            let _ = c(n, vec![]);
            let _ = c(n, vec![Value::Null]);
            let _ = c(n, vec![obj(&[]), l(vec![]), Value::Bool(true)]);
            let _ = c(n, vec![s(""), s(""), s(""), s("")]);
            let _ = c(n, vec![n_(-1.0), n_(1e300), n_(-1e300)]);
        }
    }

    /// Every function, every arity up to three, over awkward values: errors are fine,
    /// panics are not.
    #[test]
    fn no_panics_on_awkward_input() {
        let vals = vec![
            Value::Null,
            Value::Bool(true),
            n_(-1.0),
            n_(0.0),
            n_(2.5),
            n_(128.0),
            n_(1e300),
            n_(f64::NEG_INFINITY),
            s(""),
            s("%[2]d %-08.3q %"),
            s("💃🏿e\u{301}'YYYY'Z"),
            s("10.0.0.0/8"),
            s("::/0"),
            s("2023-07-25T23:43:16Z"),
            s("[a-(]"),
            sl(&["a", "", "b"]),
            l(vec![l(vec![n_(1.0)]), obj(&[("k", Value::Null)])]),
            obj(&[("a", n_(1.0)), ("b", sl(&["x"]))]),
        ];
        for name in NAMES {
            if matches!(*name, "bcrypt" | "uuidv4" | "timestamp") {
                continue;
            }
            let _ = c(name, vec![]);
            for a in &vals {
                let _ = c(name, vec![a.clone()]);
                for b in &vals {
                    let _ = c(name, vec![a.clone(), b.clone()]);
                    for d in vals.iter().step_by(3) {
                        let _ = c(name, vec![a.clone(), b.clone(), d.clone()]);
                    }
                }
            }
        }
    }

    fn n_(x: f64) -> Value {
        Value::num(x)
    }

    #[test]
    fn unknown_and_unsupported() {
        assert!(!exists("nope"));
        assert!(exists("vault"));
        let e = err("vault", vec![s("a"), s("b")]);
        assert!(e.contains("not supported in Kiln"), "{e}");
        let e = err("nope", vec![]);
        assert_eq!(e, "There is no function named \"nope\".");
        let e = err("try", vec![]);
        assert!(e.contains("evaluator"));
    }

    #[test]
    fn arity_errors() {
        match c("upper", vec![]) {
            Err(FuncError::Arity(m)) => assert!(m.contains("Missing value for \"str\""), "{m}"),
            other => panic!("{other:?}"),
        }
        match c("upper", vec![s("a"), s("b")]) {
            Err(FuncError::Arity(m)) => assert!(m.contains("expects only 1 argument"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn env_only_in_defaults() {
        let e = err("env", vec![s("HOME")]);
        assert!(e.contains("only available in variable default"), "{e}");
        let ctx = FuncCtx {
            allow_env: true,
            ..Default::default()
        };
        // SAFETY-free: read a variable that is always set in test processes.
        let v = call("env", &[s("KILN_SURELY_UNSET_VARIABLE")], &ctx).unwrap();
        assert_eq!(v, s(""));
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(call("env", &[s("PATH")], &ctx).unwrap(), s(&path));
    }

    #[test]
    fn graphemes_cluster() {
        assert_eq!(graphemes("abc").len(), 3);
        assert_eq!(graphemes("💃🏿").len(), 1);
        assert_eq!(graphemes("e\u{301}x").len(), 2);
        assert_eq!(graphemes("🇬🇧🇫🇷").len(), 2);
        assert_eq!(graphemes("👨‍👩‍👧").len(), 1);
        assert_eq!(graphemes("a\r\nb").len(), 3);
        assert_eq!(graphemes("").len(), 0);
    }

    #[test]
    fn unknown_args_yield_unknown() {
        assert_eq!(ok("upper", vec![Value::Unknown]), Value::Unknown);
    }
}
