//! Go's `flag` package, for the commands whose flags Kiln parses as Packer does, error
//! messages included (`flag provided but not defined: -x`): flags end at the first
//! argument that is not one (or after `--`); `-name`, `--name`, `-name=value`,
//! `-name value` (not for booleans).

use std::collections::BTreeMap;

/// What a flag takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `-x`, `-x=false` (strconv.ParseBool's spellings).
    Bool,
    /// A value; given again, the last one wins.
    String,
    /// A value; given again, appended.
    List,
    /// Packer's `-var`: `NAME=VALUE`, appended.
    KeyValue,
    /// Packer's `-config-type`: `json` or `hcl2`.
    ConfigType,
    /// Go's `Int64Var` (`strconv.ParseInt(s, 0, 64)`).
    Int,
    /// Packer's `enumflag`: one of these values.
    Enum(&'static [&'static str]),
}

/// The flags given (by name, every value in order) and the arguments after them.
#[derive(Debug, Default)]
pub struct Parsed {
    pub values: BTreeMap<String, Vec<String>>,
    pub args: Vec<String>,
}

impl Parsed {
    pub fn last(&self, name: &str) -> Option<&str> {
        self.values.get(name)?.last().map(String::as_str)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// A boolean flag's value (its default when not given).
    pub fn bool(&self, name: &str, default: bool) -> bool {
        self.last(name)
            .map_or(default, |v| parse_bool(v).unwrap_or(default))
    }
}

/// Packer's `MetaArgs` flags, which every command takes.
pub const META: &[(&str, Kind)] = &[
    ("only", Kind::List),
    ("except", Kind::List),
    ("var", Kind::KeyValue),
    ("var-file", Kind::List),
    ("config-type", Kind::ConfigType),
];

/// Whether the command line asks for a command's help (mitchellh/cli, before the command
/// runs): `-h`, `-help` or `--help` anywhere before `--`. Packer prints the help and exits 0.
pub fn asks_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "-help" || a == "--help")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then decimal, `0x`, `0o`, `0b` or
/// a leading `0` (octal), `_` between digits when a prefix is given; the error as Go's flag
/// package words it (`parse error`, `value out of range`).
pub fn parse_int(s: &str) -> Result<i64, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed && digits.contains('_') {
        if digits.starts_with('_') && radix != 8 || digits.ends_with('_') || digits.contains("__") {
            return Err("parse error");
        }
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("parse error");
    }
    let magnitude = u128::from_str_radix(&digits, radix).map_err(|_| "value out of range")?;
    let limit = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
    if magnitude > limit {
        return Err("value out of range");
    }
    Ok(if neg {
        (magnitude as i128).wrapping_neg() as i64
    } else {
        magnitude as i64
    })
}

/// A command's flags parsed as Packer's commands do (`FlagSet` with `Usage` printing the
/// help): `-h`/`-help` print the help (exit 0); a flag error prints the help, then Go's
/// error (exit 1). `Err`: the exit code.
pub fn parse_command(args: &[String], help: &str, flags: &[(&str, Kind)]) -> Result<Parsed, i32> {
    // `-h` is the CLI library's, which prints the help itself; otherwise through the
    // command's UI: `Usage` says the help, the flag set's output is said as errors, line by
    // line.
    if asks_help(args) {
        println!("{help}");
        return Err(0);
    }
    let ui = super::common::CmdUi::current();
    parse(args, flags).map_err(|e| {
        ui.say(help);
        if let Some(e) = e {
            for line in e.to_string().lines() {
                ui.error(line);
            }
        }
        1
    })
}

/// `FlagSet.Parse`. `Err`: the message Go prints (`None` for `-h`/`-help`, which only print
/// the usage).
pub fn parse(args: &[String], flags: &[(&str, Kind)]) -> Result<Parsed, Option<String>> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let s = &args[i];
        if s.len() < 2 || !s.starts_with('-') {
            break;
        }
        let mut minuses = 1;
        if s.as_bytes()[1] == b'-' {
            minuses = 2;
            if s.len() == 2 {
                i += 1;
                break;
            }
        }
        let name = &s[minuses..];
        if name.is_empty() || name.starts_with('-') || name.starts_with('=') {
            return Err(Some(format!("bad flag syntax: {s}")));
        }
        i += 1;
        let (name, value) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        let Some((_, kind)) = flags.iter().find(|(n, _)| *n == name) else {
            if name == "help" || name == "h" {
                return Err(None);
            }
            return Err(Some(format!("flag provided but not defined: -{name}")));
        };
        let value = if *kind == Kind::Bool {
            match value {
                Some(v) => match parse_bool(&v) {
                    Some(_) => v,
                    None => {
                        return Err(Some(format!(
                            "invalid boolean value \"{v}\" for -{name}: parse error"
                        )));
                    }
                },
                None => "true".into(),
            }
        } else {
            match value {
                Some(v) => v,
                None if i < args.len() => {
                    i += 1;
                    args[i - 1].clone()
                }
                None => return Err(Some(format!("flag needs an argument: -{name}"))),
            }
        };
        match kind {
            Kind::KeyValue if !value.contains('=') => {
                return Err(Some(format!(
                    "invalid value {} for flag -{name}: No '=' value in arg: {value}",
                    kiln_engine::value::go_quote(&value)
                )));
            }
            Kind::Int => {
                if let Err(e) = parse_int(&value) {
                    return Err(Some(format!(
                        "invalid value {} for flag -{name}: {e}",
                        kiln_engine::value::go_quote(&value)
                    )));
                }
            }
            Kind::Enum(allowed) if !allowed.contains(&value.as_str()) => {
                let list: Vec<String> = allowed
                    .iter()
                    .map(|a| kiln_engine::value::go_quote(a))
                    .collect();
                return Err(Some(format!(
                    "invalid value {} for flag -{name}: expected one of [{}]",
                    kiln_engine::value::go_quote(&value),
                    list.join(" ")
                )));
            }
            Kind::ConfigType if value != "json" && value != "hcl2" => {
                return Err(Some(format!(
                    "invalid value {} for flag -{name}: {value} does not belong to configType values",
                    kiln_engine::value::go_quote(&value)
                )));
            }
            _ => {}
        }
        out.values.entry(name.to_string()).or_default().push(value);
    }
    out.args = args[i..].to_vec();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_stop_at_the_first_argument() {
        let p = parse(
            &args(&["-validate=false", "--var", "a=b", "t.json", "-x"]),
            &[("validate", Kind::Bool), ("var", Kind::KeyValue)],
        )
        .unwrap();
        assert!(!p.bool("validate", true));
        assert_eq!(p.all("var"), ["a=b"]);
        assert_eq!(p.args, ["t.json", "-x"]);
    }

    #[test]
    fn errors_are_go_flag_messages() {
        let e = |a: &[&str]| parse(&args(a), &[("b", Kind::Bool), ("s", Kind::String)]);
        assert_eq!(
            e(&["-nope"]).unwrap_err().unwrap(),
            "flag provided but not defined: -nope"
        );
        assert_eq!(
            e(&["-s"]).unwrap_err().unwrap(),
            "flag needs an argument: -s"
        );
        assert_eq!(
            e(&["-b=maybe"]).unwrap_err().unwrap(),
            "invalid boolean value \"maybe\" for -b: parse error"
        );
        assert_eq!(e(&["-=x"]).unwrap_err().unwrap(), "bad flag syntax: -=x");
        assert!(e(&["-help"]).unwrap_err().is_none());
        let n = |a: &[&str]| {
            parse(
                &args(a),
                &[("n", Kind::Int), ("e", Kind::Enum(&["a", "b"]))],
            )
        };
        assert_eq!(
            n(&["-n=x"]).unwrap_err().unwrap(),
            "invalid value \"x\" for flag -n: parse error"
        );
        assert_eq!(
            n(&["-n", "99999999999999999999"]).unwrap_err().unwrap(),
            "invalid value \"99999999999999999999\" for flag -n: value out of range"
        );
        assert_eq!(
            n(&["-e=c"]).unwrap_err().unwrap(),
            "invalid value \"c\" for flag -e: expected one of [\"a\" \"b\"]"
        );
    }

    #[test]
    fn ints_as_strconv() {
        assert_eq!(parse_int("10"), Ok(10));
        assert_eq!(parse_int("-0x1f"), Ok(-31));
        assert_eq!(parse_int("010"), Ok(8));
        assert_eq!(parse_int("0b1_0"), Ok(2));
        assert_eq!(parse_int("1_0"), Err("parse error"));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), Err("value out of range"));
        assert_eq!(parse_int(""), Err("parse error"));
    }
}
