//! A legacy component config as its plugin sees it: strings rendered with the SDK's
//! interpolation (`{{.Field}}` references kept for the component), then written as an HCL
//! body of literal values for Kiln's components, a generated-data reference (`{{.ID}}`)
//! becoming `${build.ID}` so that it reads the build's value at run time.

use std::path::Path;

use super::json::{J, dedup};
use super::render::{self, Context};
use crate::diag::SourceFile;
use crate::template::RawBody;

/// The SDK's `BasicPlaceholderData` with a builder's own generated keys: what
/// provisioners and post-processors render `{{ build `X` }}` with at prepare time.
pub fn placeholder_data(extra: &[String]) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    for k in GENERATED_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(extra.iter().cloned())
    {
        let v = format!("Build_{k}. {}", render::PLACEHOLDER_MSG);
        m.insert(k, v);
    }
    m.insert("WinRMPassword".into(), "{{.WinRMPassword}}".into());
    m
}

/// The `build.*` keys a builder generates for every build (the SDK's
/// `BuilderDataCommonKeys`).
pub const GENERATED_KEYS: &[&str] = &[
    "ID",
    "Host",
    "Port",
    "User",
    "Password",
    "ConnType",
    "PackerRunUUID",
    "PackerHTTPIP",
    "PackerHTTPPort",
    "PackerHTTPAddr",
    "SSHPublicKey",
    "SSHPrivateKey",
    "WinRMPassword",
];

/// Renders every string of a component's config as the SDK's `config.Decode` does
/// (`RenderMap`: each string parsed, then rendered once; `{{.Field}}` references kept for the
/// component). The error is the SDK's: `invalid 'key': … in:\n\n…` for a template that does
/// not parse, `render 'key': … in:\n\n…` for one that fails.
pub fn render_config(config: &[(String, J)], ctx: &Context) -> Result<Vec<(String, J)>, String> {
    config
        .iter()
        .map(|(k, v)| Ok((k.clone(), render_value(k, v, ctx)?)))
        .collect()
}

fn render_value(key: &str, v: &J, ctx: &Context) -> Result<J, String> {
    Ok(match v {
        J::Str(s) => J::Str(render_string(s, ctx).map_err(|e| {
            let what = if e.exec { "render" } else { "invalid" };
            format!("{what} '{key}': {} in:\n\n{s}", e.msg)
        })?),
        J::Arr(items) => J::Arr(
            items
                .iter()
                .map(|i| render_value(key, i, ctx))
                .collect::<Result<_, _>>()?,
        ),
        J::Obj(m) => J::Obj(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), render_value(key, v, ctx)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn field_ref() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\{\{-?\s*\.([A-Za-z0-9_]+)\s*-?\}\}").expect("field"))
}

/// Renders one string once, `{{.Field}}` references kept.
pub fn render_string(s: &str, ctx: &Context) -> Result<String, render::RenderError> {
    let mut held = Vec::new();
    let mut text = s.to_string();
    for (n, m) in field_ref().find_iter(s).enumerate() {
        let id = format!("KILNHELD{n}X");
        text = text.replacen(m.as_str(), &id, 1);
        held.push((id, m.as_str().to_string()));
    }
    let mut out = render::render_once(&text, ctx)?;
    for (id, orig) in held {
        out = out.replace(&id, &orig);
    }
    Ok(out)
}

/// An HCL string literal of `s`, `${`/`%{` escaped, with `{{.ID}}`-style references to
/// the builder's generated data turned into `${build.ID}`.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(m) = field_ref().find(rest)
            && m.start() == 0
        {
            let key = field_ref()
                .captures(m.as_str())
                .and_then(|c| c.get(1))
                .map_or("", |g| g.as_str());
            if GENERATED_KEYS.contains(&key) {
                out.push_str(&format!("${{build.{key}}}"));
                rest = &rest[m.end()..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if rest[1..].starts_with('{') => out.push_str("$$"),
            '%' if rest[1..].starts_with('{') => out.push_str("%%"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push('"');
    out
}

pub fn hcl_value(v: &J) -> String {
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Num(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{n:.0}")
            } else {
                format!("{n}")
            }
        }
        J::Str(s) => hcl_string(s),
        J::Arr(items) => format!(
            "[{}]",
            items.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        J::Obj(m) => format!(
            "{{{}}}",
            dedup(m)
                .iter()
                .map(|(k, v)| format!("{} = {}", hcl_string(k), hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn is_ident(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A body of literal attributes from a rendered config; keys HCL cannot name are returned
/// as unknown configuration keys.
pub fn body_of(config: &[(String, J)], path: &Path) -> (RawBody, Vec<String>) {
    let mut text = String::new();
    let mut bad = Vec::new();
    for (k, v) in dedup(config) {
        if is_ident(&k) {
            text.push_str(&format!("{k} = {}\n", hcl_value(&v)));
        } else {
            bad.push(k);
        }
    }
    let file = SourceFile::new(path, text);
    match ::hcl::edit::parser::parse_body(&file.text) {
        Ok(b) => {
            let mut body = RawBody::from_body(&b, &file);
            body.mapstructure = true;
            (body, bad)
        }
        Err(e) => {
            bad.push(e.to_string());
            (RawBody::default(), bad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_become_hcl_literals() {
        assert_eq!(hcl_string("a\"b ${x} %{y}"), "\"a\\\"b $${x} %%{y}\"");
        assert_eq!(
            hcl_string("echo {{.ID}} {{ .Path }}"),
            "\"echo ${build.ID} {{ .Path }}\""
        );
    }
}
