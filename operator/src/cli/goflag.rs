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
    }
}
