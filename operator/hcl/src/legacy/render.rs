//! Rendering a legacy template's strings: the SDK's `interpolate` context and functions
//! (`user`, `env`, `build_name`, `build_type`, `build`, `template_dir`, …) over Go's
//! `text/template`.
//!
//! This is a stand-in: it reads actions made of one function call with constant arguments
//! (`{{user `x`}}`, `{{ env "HOME" }}`, `{{build_name}}`) and field references (`{{.Path}}`),
//! which is what legacy templates write. [`render`] is the one entry point; the full
//! `text/template` engine replaces its body.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The SDK's `interpolate.Context`.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `{{.Name}}` data; `None` when the template is executed with no data.
    pub data: Option<BTreeMap<String, String>>,
    pub user: BTreeMap<String, String>,
    /// `env`, `vault`, `consul_key`… are allowed (the `variables` section), and `user`
    /// fails on a variable that is not set.
    pub enable_env: bool,
    pub build_name: String,
    pub build_type: String,
    pub packer_version: String,
    pub template_path: Option<PathBuf>,
}

/// A rendering failure: `exec` for text/template's `ExecError` (a function failed), else a
/// parse error.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderError {
    pub exec: bool,
    pub msg: String,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

/// The SDK's `ErrVariableNotSetString`.
pub const VARIABLE_NOT_SET: &str = "Error: variable not set:";

const FUNCS: &[&str] = &[
    "build_name",
    "build_type",
    "env",
    "isotime",
    "strftime",
    "pwd",
    "split",
    "template_dir",
    "timestamp",
    "uuid",
    "user",
    "packer_version",
    "consul_key",
    "vault",
    "sed",
    "build",
    "aws_secretsmanager",
    "aws_secretsmanager_raw",
    "replace",
    "replace_all",
    "upper",
    "lower",
];

/// One token of an action.
#[derive(Clone, Debug)]
enum Tok {
    Ident(String),
    Field(String),
    Str(String, String),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Field(s) => format!(".{s}"),
            Tok::Str(_, q) => q.clone(),
        }
    }
}

fn tokens(action: &str) -> Result<Vec<Tok>, String> {
    let b = action.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'`' {
            let end = action[i + 1..]
                .find('`')
                .ok_or("unterminated raw quoted string")?;
            let s = &action[i + 1..i + 1 + end];
            out.push(Tok::Str(s.to_string(), format!("`{s}`")));
            i += end + 2;
        } else if c == b'"' {
            let mut j = i + 1;
            let mut s = String::new();
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' && j + 1 < b.len() {
                    j += 1;
                    s.push(match b[j] {
                        b'n' => '\n',
                        b't' => '\t',
                        o => o as char,
                    });
                } else {
                    s.push(b[j] as char);
                }
                j += 1;
            }
            if j >= b.len() {
                return Err("unterminated quoted string".into());
            }
            out.push(Tok::Str(s, action[i..=j].to_string()));
            i = j + 1;
        } else {
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            let w = &action[start..i];
            match w.strip_prefix('.') {
                Some(f) => out.push(Tok::Field(f.to_string())),
                None => out.push(Tok::Ident(w.to_string())),
            }
        }
    }
    Ok(out)
}

/// Renders `s` once with `ctx` (the SDK's `I.Render`).
pub fn render_once(s: &str, ctx: &Context) -> Result<String, RenderError> {
    let parse_err = |line: usize, msg: String| RenderError {
        exec: false,
        msg: format!("template: root:{line}: {msg}"),
    };
    // Parse first, as text/template does: every action before anything runs.
    let mut parts: Vec<(usize, Result<String, (usize, Vec<Tok>)>)> = Vec::new();
    let mut rest = s;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        parts.push((0, Ok(rest[..open].to_string())));
        let line = 1 + s[..offset + open].matches('\n').count();
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(parse_err(line, "unclosed action".into()));
        };
        let mut action = &after[..close];
        let mut lead = 0;
        if let Some(a) = action.strip_prefix("- ") {
            action = a;
            lead = 2;
        }
        let action = action.strip_suffix(" -").unwrap_or(action);
        let trimmed_start = action.len() - action.trim_start().len();
        let toks = tokens(action).map_err(|e| parse_err(line, e))?;
        if toks.is_empty() {
            return Err(parse_err(line, "missing value for command".into()));
        }
        if let Tok::Ident(name) = &toks[0]
            && !FUNCS.contains(&name.as_str())
            && !matches!(name.as_str(), "true" | "false" | "nil")
        {
            return Err(parse_err(line, format!("function {name:?} not defined")));
        }
        let pos = offset + open + 2 + lead + trimmed_start;
        parts.push((pos, Err((pos, toks))));
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    parts.push((0, Ok(rest.to_string())));
    let mut out = String::new();
    for (_, part) in parts {
        match part {
            Ok(text) => out.push_str(&text),
            Err((pos, toks)) => out.push_str(&exec(s, pos, &toks, ctx)?),
        }
    }
    Ok(out)
}

fn exec(src: &str, pos: usize, toks: &[Tok], ctx: &Context) -> Result<String, RenderError> {
    let before = &src[..pos];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(i) => pos - i - 1,
        None => pos,
    };
    let context = toks.iter().map(Tok::text).collect::<Vec<_>>().join(" ");
    let fail = |msg: String| RenderError {
        exec: true,
        msg: format!("template: root:{line}:{col}: executing \"root\" at <{context}>: {msg}"),
    };
    let args: Vec<String> = toks[1..]
        .iter()
        .map(|t| match t {
            Tok::Str(s, _) => s.clone(),
            other => other.text(),
        })
        .collect();
    let name = match &toks[0] {
        Tok::Field(f) => {
            return match &ctx.data {
                Some(d) => Ok(d.get(f).cloned().unwrap_or_else(|| "<no value>".into())),
                None => Ok("<no value>".into()),
            };
        }
        Tok::Str(s, _) => return Ok(s.clone()),
        Tok::Ident(n) => n.as_str(),
    };
    let call = |r: Result<String, String>| r.map_err(|e| fail(format!("error calling {name}: {e}")));
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match name {
        "user" => call(match ctx.user.get(&arg(0)) {
            Some(v) => Ok(v.clone()),
            None if ctx.enable_env => Err(format!("{VARIABLE_NOT_SET} {}", arg(0))),
            None => Ok(String::new()),
        }),
        "env" => call(if ctx.enable_env {
            Ok(std::env::var(arg(0)).unwrap_or_default())
        } else {
            Err("env vars are not allowed here".into())
        }),
        "build_name" => call(if ctx.build_name.is_empty() {
            Err("build_name not available".into())
        } else {
            Ok(ctx.build_name.clone())
        }),
        "build_type" => call(if ctx.build_type.is_empty() {
            Err("build_type not available".into())
        } else {
            Ok(ctx.build_type.clone())
        }),
        "packer_version" => call(Ok(ctx.packer_version.clone())),
        "template_dir" => call(match &ctx.template_path {
            Some(p) => Ok(p
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default()),
            None => Err("template path not available".into()),
        }),
        "pwd" => call(
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .map_err(|e| e.to_string()),
        ),
        "upper" => call(Ok(arg(0).to_uppercase())),
        "lower" => call(Ok(arg(0).to_lowercase())),
        "build" => call(match &ctx.data {
            Some(d) => match d.get(&arg(0)) {
                Some(v) if v.contains(PLACEHOLDER_MSG) => Ok(format!("{{{{.{}}}}}", arg(0))),
                Some(v) => Ok(v.clone()),
                None => Err(format!("loaded data, but couldnt find {} in it.", arg(0))),
            },
            None => Err(format!(
                "Error validating build variable: the given variable {} will not be passed into your plugin.",
                arg(0)
            )),
        }),
        "vault" | "consul_key" | "aws_secretsmanager" | "aws_secretsmanager_raw"
            if !ctx.enable_env =>
        {
            call(Err(match name {
                "vault" => "Vault vars are only allowed in the variables section".into(),
                "consul_key" => "consul_key is not allowed here".into(),
                _ => "AWS Secrets Manager is only allowed in the variables section".into(),
            }))
        }
        "sed" => call(Err("template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine".into())),
        other => call(Err(format!("{other} is not available in Kiln's legacy JSON mode yet"))),
    }
}

/// The SDK's `packerbuilderdata.PlaceholderMsg`.
pub const PLACEHOLDER_MSG: &str = "To set this dynamically in the Packer template, you must use the `build` function";

/// The SDK's `interpolate.Render`: renders until the result no longer changes.
pub fn render(s: &str, ctx: &Context) -> Result<String, RenderError> {
    let mut v = s.to_string();
    loop {
        let r = render_once(&v, ctx)?;
        if r == v {
            return Ok(r);
        }
        v = r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_errors() {
        let mut ctx = Context::default();
        ctx.user.insert("a".into(), "x".into());
        assert_eq!(render("{{user `a`}}y", &ctx).unwrap(), "xy");
        assert_eq!(render("{{ user \"b\" }}", &ctx).unwrap(), "");
        ctx.enable_env = true;
        let e = render_once("{{user `nope`}}", &ctx).unwrap_err();
        assert!(e.exec);
        assert_eq!(
            e.msg,
            "template: root:1:2: executing \"root\" at <user `nope`>: error calling user: Error: variable not set: nope"
        );
        let e = render_once("a\n{{foo}}", &ctx).unwrap_err();
        assert_eq!(e.msg, "template: root:2: function \"foo\" not defined");
    }
}
