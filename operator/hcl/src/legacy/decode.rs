//! The few mapstructure (v1.5) decodings a legacy template goes through, with its error
//! texts: strings, booleans, string lists, maps, durations and structs from a JSON value,
//! strict or "weakly typed" (numbers and booleans read as strings, a single value lifted into
//! a list).

use std::time::Duration;

use super::json::J;
use crate::template::body::GoDuration;

/// A mapstructure error: one message, or the field errors of a struct or list
/// (`N error(s) decoding:` with the messages sorted).
#[derive(Clone, Debug, PartialEq)]
pub enum MsError {
    One(String),
    Many(Vec<String>),
}

impl std::fmt::Display for MsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MsError::One(s) => f.write_str(s),
            MsError::Many(errs) => {
                let mut points: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
                points.sort();
                write!(
                    f,
                    "{} error(s) decoding:\n\n{}",
                    errs.len(),
                    points.join("\n")
                )
            }
        }
    }
}

/// Field errors collected while decoding one struct.
#[derive(Default)]
pub struct Fields {
    pub errors: Vec<String>,
}

impl Fields {
    /// Records a field's error, flattening a nested struct's or list's errors.
    pub fn push(&mut self, e: MsError) {
        match e {
            MsError::One(s) => self.errors.push(s),
            MsError::Many(v) => self.errors.extend(v),
        }
    }

    pub fn finish(self) -> Result<(), MsError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(MsError::Many(self.errors))
        }
    }
}

fn unconvertible(name: &str, want: &str, v: &J) -> MsError {
    MsError::One(format!(
        "'{name}' expected type '{want}', got unconvertible type '{}', value: '{}'",
        v.go_type(),
        v.go_v()
    ))
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
fn format_f(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// A `string` field; `None` when the value is null (the field keeps its zero value).
pub fn string(name: &str, v: &J, weak: bool) -> Result<Option<String>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Str(s) => Ok(Some(s.clone())),
        J::Bool(b) if weak => Ok(Some(if *b { "1" } else { "0" }.into())),
        J::Num(n) if weak => Ok(Some(format_f(*n))),
        _ => Err(unconvertible(name, "string", v)),
    }
}

/// A `bool` field.
pub fn boolean(name: &str, v: &J, weak: bool) -> Result<Option<bool>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Bool(b) => Ok(Some(*b)),
        J::Num(n) if weak => Ok(Some(*n != 0.0)),
        J::Str(s) if weak => match s.as_str() {
            "" => Ok(Some(false)),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Some(false)),
            _ => Err(MsError::One(format!(
                "cannot parse '{name}' as bool: strconv.ParseBool: parsing {}: invalid syntax",
                crate::value::go_quote(s)
            ))),
        },
        _ => Err(unconvertible(name, "bool", v)),
    }
}

/// A `config.Trilean` field of the SDK (`winrm_use_ntlm`, the docker `build` section's
/// `pull`, provenance's `provenance`): unset, true or false. The SDK's `stringToTrilean`
/// hook reads a string with Go's `strconv.ParseBool` (`""` is unset) and a bool as itself;
/// a number is decoded weakly into the `uint8` (1 true, 2 false).
pub fn trilean(name: &str, v: &J) -> Result<Option<bool>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Bool(b) => Ok(Some(*b)),
        J::Str(s) => match s.as_str() {
            "" => Ok(None),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Some(true)),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Some(false)),
            _ => Err(MsError::One(format!(
                "error decoding '{name}': Error parsing bool from given var: strconv.ParseBool: parsing {}: invalid syntax",
                crate::value::go_quote(s)
            ))),
        },
        J::Num(n) => Ok(match *n as i64 as u8 {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }),
        _ => Err(unconvertible(name, "config.Trilean", v)),
    }
}

/// A `[]string` field.
pub fn strings(name: &str, v: &J, weak: bool) -> Result<Vec<String>, MsError> {
    let items: Vec<J> = match v {
        J::Null => return Ok(Vec::new()),
        J::Arr(items) => items.clone(),
        J::Obj(m) if weak && m.is_empty() => Vec::new(),
        other if weak => vec![other.clone()],
        other => {
            return Err(MsError::One(format!(
                "'{name}': source data must be an array or slice, got {}",
                other.go_kind()
            )));
        }
    };
    let mut out = Vec::new();
    let mut f = Fields::default();
    for (i, item) in items.iter().enumerate() {
        match string(&format!("{name}[{i}]"), item, weak) {
            Ok(s) => out.push(s.unwrap_or_default()),
            Err(e) => f.push(e),
        }
    }
    f.finish().map(|()| out)
}

/// A `[]string` field of a plugin's config, decoded by the SDK's `config.Decode`: its
/// `StringToSliceHookFunc(",")` splits a string at commas first (`""` is no element).
pub fn sdk_strings(name: &str, v: &J) -> Result<Vec<String>, MsError> {
    match v {
        J::Str(s) => Ok(if s.is_empty() {
            Vec::new()
        } else {
            s.split(',').map(str::to_string).collect()
        }),
        other => strings(name, other, true),
    }
}

/// An `int` field (weakly typed: a bool is 1 or 0, a string is parsed as Go's
/// `strconv.ParseInt(s, 0, 64)`, `""` being 0).
pub fn int(name: &str, v: &J, weak: bool) -> Result<Option<i64>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Num(n) => Ok(Some(*n as i64)),
        J::Bool(b) if weak => Ok(Some(i64::from(*b))),
        J::Str(s) if weak => parse_int(s).map(Some).ok_or_else(|| {
            MsError::One(format!(
                "cannot parse '{name}' as int: strconv.ParseInt: parsing {}: invalid syntax",
                crate::value::go_quote(s)
            ))
        }),
        _ => Err(unconvertible(name, "int", v)),
    }
}

/// A plugin's own decode hook for a string going into an `int` (see
/// `ConfigReader::int_hook`): the int, or the hook's error text.
pub type IntHook = fn(&str) -> Result<i64, String>;

/// An `int` field of a plugin whose `Decode` has a hook of its own for strings (`hook`, see
/// `ConfigReader::int_hook`): a string goes through it, anything else is [`int`]'s.
pub fn int_hooked(name: &str, v: &J, hook: Option<IntHook>) -> Result<Option<i64>, MsError> {
    match (v, hook) {
        (J::Str(s), Some(hook)) => hook(s)
            .map(Some)
            .map_err(|e| MsError::One(format!("error decoding '{name}': {e}"))),
        _ => int(name, v, true),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` for the forms a template writes (sign, `0x`, `0o`,
/// `0b`, a leading `0` for octal, `_` between digits); `""` reads as 0 (mapstructure).
fn parse_int(s: &str) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower.clone())
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    if radix == 10 && digits.contains('_') {
        return None;
    }
    let n = i64::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    Some(if neg { -n } else { n })
}

/// A `[]int` field of a plugin's config (the SDK's string splitting first, a single value
/// lifted into a list), each element an `int` named `name[i]` (through the plugin's `hook`
/// for strings, if it has one: [`int_hooked`]).
pub fn sdk_ints(name: &str, v: &J, hook: Option<IntHook>) -> Result<Vec<i64>, MsError> {
    sdk_elements(name, v, |at, item| {
        int_hooked(at, item, hook).map(|n| n.unwrap_or(0))
    })
}

/// A slice field of a plugin's config: the SDK's `StringToSliceHookFunc(",")` splits a string
/// at commas (`""` is no element), any other single value is lifted into a list (weakly), and
/// each element is decoded by `element` under its name `name[i]`, every failure kept.
fn sdk_elements<T>(
    name: &str,
    v: &J,
    mut element: impl FnMut(&str, &J) -> Result<T, MsError>,
) -> Result<Vec<T>, MsError> {
    let items: Vec<J> = match v {
        J::Str(s) if s.is_empty() => Vec::new(),
        J::Str(s) => s.split(',').map(|p| J::Str(p.to_string())).collect(),
        other => list(name, other, true)?,
    };
    let mut out = Vec::new();
    let mut f = Fields::default();
    for (i, item) in items.iter().enumerate() {
        match element(&format!("{name}[{i}]"), item) {
            Ok(x) => out.push(x),
            Err(e) => f.push(e),
        }
    }
    f.finish().map(|()| out)
}

/// A `[][]string` field of a plugin's config (`qemuargs`, `boot_steps`): the SDK's string
/// splitting and a single value lifted into a list at each level, each row a `[]string`
/// named `name[i]`.
pub fn sdk_string_lists(name: &str, v: &J) -> Result<Vec<Vec<String>>, MsError> {
    sdk_elements(name, v, sdk_strings)
}

/// A `[]byte` field of a plugin's config (`ssh_private_key`, `ssh_public_key`): the SDK's
/// string splitting, then each element a `uint8` (weakly: a string parsed as Go's
/// `strconv.ParseUint(s, 0, 8)`, `""` being 0; a number or bool converted).
pub fn sdk_bytes(name: &str, v: &J) -> Result<Vec<u8>, MsError> {
    sdk_elements(name, v, |at, item| match item {
        J::Null => Ok(0),
        J::Num(n) => Ok(*n as i64 as u8),
        J::Bool(b) => Ok(u8::from(*b)),
        J::Str(s) => {
            let text = if s.is_empty() { "0" } else { s.as_str() };
            let signed = text.starts_with(['-', '+']);
            match parse_int(text).filter(|_| !signed) {
                Some(n) if (0..=255).contains(&n) => Ok(n as u8),
                parsed => Err(MsError::One(format!(
                    "cannot parse '{at}' as uint: strconv.ParseUint: parsing {}: {}",
                    crate::value::go_quote(s),
                    if parsed.is_some() {
                        "value out of range"
                    } else {
                        "invalid syntax"
                    }
                ))),
            }
        }
        other => Err(unconvertible(at, "uint8", other)),
    })
}

/// A `map[string]string` field of a plugin's config (weakly typed): each value a string; an
/// empty list is an empty map, a list of maps their union. The SDK's interpolation hands
/// mapstructure a `map[interface{}]interface{}`, so a value's error names its key
/// `name[<interface {} Value>]` (reflect's `String` of an interface value).
pub fn string_map(name: &str, v: &J) -> Result<Option<Vec<(String, String)>>, MsError> {
    let entries: Vec<(String, J)> = match v {
        J::Null => return Ok(None),
        J::Obj(m) => super::json::dedup(m),
        J::Arr(items) => {
            let mut all = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    J::Obj(m) => all.extend(super::json::dedup(m)),
                    other => {
                        return Err(MsError::One(format!(
                            "'{name}[{i}]' expected a map, got '{}'",
                            other.go_kind()
                        )));
                    }
                }
            }
            all
        }
        other => {
            return Err(MsError::One(format!(
                "'{name}' expected a map, got '{}'",
                other.go_kind()
            )));
        }
    };
    let mut out = Vec::new();
    let mut f = Fields::default();
    for (k, item) in entries {
        match string(&format!("{name}[<interface {{}} Value>]"), &item, true) {
            Ok(s) => out.push((k, s.unwrap_or_default())),
            Err(e) => f.push(e),
        }
    }
    f.finish().map(|()| Some(out))
}

/// A `[]interface{}` field.
pub fn list(name: &str, v: &J, weak: bool) -> Result<Vec<J>, MsError> {
    match v {
        J::Null => Ok(Vec::new()),
        J::Arr(items) => Ok(items.clone()),
        J::Obj(m) if weak && m.is_empty() => Ok(Vec::new()),
        other if weak => Ok(vec![other.clone()]),
        other => Err(MsError::One(format!(
            "'{name}': source data must be an array or slice, got {}",
            other.go_kind()
        ))),
    }
}

/// A `map[string]interface{}` field (or the map a struct is decoded from).
pub fn map(name: &str, v: &J) -> Result<Option<Vec<(String, J)>>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Obj(m) => Ok(Some(super::json::dedup(m))),
        other => Err(MsError::One(format!(
            "'{name}' expected a map, got '{}'",
            other.go_kind()
        ))),
    }
}

/// A `time.Duration` field with `StringToTimeDurationHookFunc`: a string is parsed by Go's
/// `time.ParseDuration`, a number (weakly) counts nanoseconds. A negative one is zero.
pub fn duration(name: &str, v: &J, weak: bool) -> Result<Option<Duration>, MsError> {
    go_duration(name, v, weak).map(|d| d.map(GoDuration::wait))
}

/// [`duration`], kept signed.
pub fn go_duration(name: &str, v: &J, weak: bool) -> Result<Option<GoDuration>, MsError> {
    match v {
        J::Null => Ok(None),
        J::Str(s) => GoDuration::parse(s)
            .map(Some)
            .map_err(|e| MsError::One(format!("error decoding '{name}': {e}"))),
        // (float64 to int64 as Go converts in range: towards zero.)
        J::Num(n) if weak => Ok(Some(GoDuration(*n as i64))),
        J::Bool(b) if weak => Ok(Some(GoDuration(i64::from(*b)))),
        _ => Err(unconvertible(name, "time.Duration", v)),
    }
}

/// mapstructure's field lookup: the exact name, else a key equal to it ignoring case.
pub fn field<'a>(m: &'a [(String, J)], name: &str) -> Option<&'a J> {
    m.iter()
        .find(|(k, _)| k == name)
        .or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
}

/// Whether `key` is claimed by one of the struct's field names.
pub fn claimed(key: &str, fields: &[&str]) -> bool {
    fields.iter().any(|f| f.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_mapstructure_writes_them() {
        assert_eq!(
            string("Type", &J::Arr(vec![J::Str("null".into())]), true)
                .unwrap_err()
                .to_string(),
            "'Type' expected type 'string', got unconvertible type '[]interface {}', value: '[null]'"
        );
        assert_eq!(string("n", &J::Num(3.0), true).unwrap(), Some("3".into()));
        assert_eq!(
            strings("only", &J::Str("a".into()), true).unwrap(),
            vec!["a".to_string()]
        );
        assert_eq!(
            list("Provisioners", &J::Str("x".into()), false)
                .unwrap_err()
                .to_string(),
            "'Provisioners': source data must be an array or slice, got string"
        );
        assert_eq!(
            duration("pause_before", &J::Str("soon".into()), true)
                .unwrap_err()
                .to_string(),
            "error decoding 'pause_before': time: invalid duration \"soon\""
        );
        let many = MsError::Many(vec!["b".into(), "a".into()]);
        assert_eq!(many.to_string(), "2 error(s) decoding:\n\n* a\n* b");
    }
}
