//! packer-plugin-sdk's `template/interpolate`: the Go templates (`{{ build_name }}`,
//! `{{ .Path }}`) inside plugin options, rendered with Go's `text/template` engine
//! ([`kiln_gotemplate`]) and the SDK's function set, in the SDK's words.
//!
//! A [`Context`] is what the SDK's `interpolate.Context` is: the data (`.Field`s), the
//! build's name and type, Packer's version, the template's path, user variables (legacy JSON
//! templates only) and whether `env` (and `consul_key`, `vault`, `aws_secretsmanager`) may be
//! used — in HCL2 templates they may not, components' options refuse them as Packer's do.
//! [`Context::render_once`] is the SDK's `RenderOnce`, [`Context::validate`] its `Validate`,
//! [`render_option`] what its `RenderMap` does to one option of a component's configuration
//! (with the `invalid '…'`/`render '…'` messages Packer prints).

use std::collections::BTreeMap;
use std::sync::Arc;

pub use kiln_gotemplate::{
    Error, ErrorKind, Func, FuncMap, List, Map, Param, Struct, Template, Value,
};

/// The SDK's `ErrVariableNotSetString`.
pub const ERR_VARIABLE_NOT_SET: &str = "Error: variable not set:";

/// `packerbuilderdata.PlaceholderMsg`: the text of the placeholders given for generated data
/// before a builder has run.
pub const PLACEHOLDER_MSG: &str =
    "To set this dynamically in the Packer template, you must use the `build` function";

/// The SDK's `interpolate.Context`.
#[derive(Clone, Debug)]
pub struct Context {
    /// The template's data (`.Field`); [`Value::Invalid`] is Go's nil.
    pub data: Value,
    /// Extra functions (the SDK's `Context.Funcs`), which win over the SDK's own.
    pub funcs: FuncMap,
    /// Variables `user` reads; `None` (HCL2 templates) makes `user` fail.
    pub user_variables: Option<BTreeMap<String, String>>,
    /// Whether `env`, `consul_key`, `vault` and `aws_secretsmanager` may be used (legacy
    /// templates' variables section only).
    pub enable_env: bool,
    /// `packer_build_name`: the source's name.
    pub build_name: String,
    /// `packer_builder_type`.
    pub build_type: String,
    /// `packer_core_version`.
    pub core_packer_version: String,
    /// `packer_template_path` (empty in HCL2 templates: `template_dir` then fails).
    pub template_path: String,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            data: Value::Invalid,
            funcs: FuncMap::new(),
            user_variables: None,
            enable_env: false,
            build_name: String::new(),
            build_type: String::new(),
            core_packer_version: String::new(),
            template_path: String::new(),
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn string(
    f: impl Fn(&[Value]) -> Result<String, String> + Send + Sync + 'static,
) -> impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static {
    move |a| f(a).map(Value::String)
}

/// Go's `strings.Split`: an empty separator splits after each UTF-8 character.
fn go_split<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        return s
            .char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect();
    }
    s.split(sep).collect()
}

/// Go's `strings.Replace(src, old, new, n)` (n < 0: all).
fn go_replace(src: &str, old: &str, new: &str, n: i64) -> String {
    if n < 0 {
        if old.is_empty() {
            return go_replace(src, old, new, src.chars().count() as i64 + 1);
        }
        return src.replace(old, new);
    }
    if old.is_empty() {
        // Go inserts `new` before each character (and at the end), up to n times.
        let mut out = String::new();
        let mut left = n;
        for c in src.chars() {
            if left > 0 {
                out.push_str(new);
                left -= 1;
            }
            out.push(c);
        }
        if left > 0 {
            out.push_str(new);
        }
        return out;
    }
    src.replacen(old, new, n as usize)
}

/// The SDK's `uuid.TimeOrderedUUID`: 32 bits of Unix time, then 96 random bits.
pub fn time_ordered_uuid() -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let r = uuid::Uuid::new_v4();
    let b = r.as_bytes();
    let hex = |s: &[u8]| s.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{unix:08x}-{}-{}-{}-{}{}",
        hex(&b[0..2]),
        hex(&b[2..4]),
        hex(&b[4..6]),
        hex(&b[6..8]),
        hex(&b[8..12])
    )
}

/// The SDK's `build` function over the context's data.
fn build_fn(data: &Value, key: &str) -> Result<String, String> {
    match data {
        Value::Map(m) => match m.entries.get(key) {
            Some(Value::String(v)) if v.contains(PLACEHOLDER_MSG) => Ok(format!("{{{{.{key}}}}}")),
            Some(Value::String(v)) => Ok(v.clone()),
            _ => Err(format!("loaded data, but couldnt find {key} in it.")),
        },
        _ => Err(format!(
            "Error validating build variable: the given variable {key} will not be passed into your plugin."
        )),
    }
}

impl Context {
    /// An HCL2 component's context: the source's name and type and Packer's version, no
    /// user variables, no `env`. Its data is what the SDK's `Decode` leaves there when no
    /// placeholder data came with the configuration (as in HCL2): a nil
    /// `map[interface {}]interface {}`, so `{{ .X }}` is `<no value>` and `build` fails
    /// with "loaded data, but couldnt find X in it.".
    pub fn for_component(build_name: &str, build_type: &str, version: &str) -> Context {
        Context {
            data: Value::Map(Map {
                type_name: "map[interface {}]interface {}".into(),
                entries: BTreeMap::new(),
            }),
            build_name: build_name.to_string(),
            build_type: build_type.to_string(),
            core_packer_version: version.to_string(),
            ..Context::default()
        }
    }

    /// This context with other data.
    pub fn with_data(&self, data: Value) -> Context {
        Context {
            data,
            ..self.clone()
        }
    }

    /// The SDK's `Funcs(ctx)`: its function set bound to this context, then the context's
    /// own functions.
    pub fn funcs(&self) -> FuncMap {
        let mut f = FuncMap::new();
        let c = Arc::new(self.clone());
        let nullary = |f: &mut FuncMap, name: &str, g: fn(&Context) -> Result<String, String>| {
            let c = c.clone();
            f.insert(name, Func::new(&[], None, string(move |_| g(&c))));
        };
        nullary(&mut f, "build_name", |c| {
            if c.build_name.is_empty() {
                Err("build_name not available".into())
            } else {
                Ok(c.build_name.clone())
            }
        });
        nullary(&mut f, "build_type", |c| {
            if c.build_type.is_empty() {
                Err("build_type not available".into())
            } else {
                Ok(c.build_type.clone())
            }
        });
        nullary(&mut f, "packer_version", |c| {
            if c.core_packer_version.is_empty() {
                Err("packer_version not available".into())
            } else {
                Ok(c.core_packer_version.clone())
            }
        });
        nullary(&mut f, "template_dir", |c| {
            if c.template_path.is_empty() {
                return Err("template path not available".into());
            }
            let p = std::path::Path::new(&c.template_path);
            let dir = p.parent().unwrap_or(std::path::Path::new("."));
            std::path::absolute(if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            })
            .map(|d| d.to_string_lossy().to_string())
            .map_err(|e| e.to_string())
        });
        nullary(&mut f, "pwd", |_| {
            std::env::current_dir()
                .map(|d| d.to_string_lossy().to_string())
                .map_err(|e| format!("getwd: {e}"))
        });
        nullary(&mut f, "timestamp", |_| {
            Ok(crate::functions::datetime::init_unix().to_string())
        });
        nullary(&mut f, "uuid", |_| Ok(time_ordered_uuid()));
        {
            let c = c.clone();
            f.insert(
                "env",
                Func::new(
                    &[Param::String],
                    None,
                    string(move |a| {
                        if !c.enable_env {
                            return Err("env vars are not allowed here".into());
                        }
                        Ok(std::env::var(s(&a[0])).unwrap_or_default())
                    }),
                ),
            );
        }
        f.insert(
            "isotime",
            Func::new(
                &[],
                Some(Param::String),
                string(|a| match a {
                    [] => Ok(crate::functions::datetime::init_isotime(None)),
                    [l] => Ok(crate::functions::datetime::init_isotime(Some(s(l)))),
                    more => Err(format!(
                        "too many values, 1 needed: [{}]",
                        more.iter().map(s).collect::<Vec<_>>().join(" ")
                    )),
                }),
            ),
        );
        f.insert(
            "strftime",
            Func::new(
                &[Param::String],
                None,
                string(|a| Ok(crate::functions::datetime::init_strftime(s(&a[0])))),
            ),
        );
        f.insert(
            "split",
            Func::new(&[Param::String, Param::String, Param::Int], None, string(|a| {
                let (k, sep) = (s(&a[0]), s(&a[1]));
                let Value::Int(i) = a[2] else {
                    return Err("index is not an int".into());
                };
                let parts = go_split(k, sep);
                if i < 0 || parts.len() as i64 <= i {
                    return Err(format!(
                        "the substring {i} was unavailable using the separator value, {sep}, only {} values were found",
                        parts.len()
                    ));
                }
                Ok(parts[i as usize].to_string())
            })),
        );
        {
            let c = c.clone();
            f.insert(
                "user",
                Func::new(
                    &[Param::String],
                    None,
                    string(move |a| {
                        let Some(vars) = &c.user_variables else {
                            return Err("test".into());
                        };
                        let k = s(&a[0]);
                        match vars.get(k) {
                            Some(v) => Ok(v.clone()),
                            None if c.enable_env => Err(format!("{ERR_VARIABLE_NOT_SET} {k}")),
                            None => Ok(String::new()),
                        }
                    }),
                ),
            );
        }
        {
            let c = c.clone();
            f.insert(
                "consul_key",
                Func::new(
                    &[Param::String],
                    None,
                    string(move |a| {
                        if !c.enable_env {
                            return Err("consul_key is not allowed here".into());
                        }
                        consul_key(s(&a[0]))
                    }),
                ),
            );
        }
        {
            let c = c.clone();
            f.insert(
                "vault",
                Func::new(&[Param::String, Param::String], None, string(move |_| {
                    if !c.enable_env {
                        return Err("Vault vars are only allowed in the variables section".into());
                    }
                    if std::env::var("VAULT_TOKEN").unwrap_or_default().is_empty() {
                        return Err("Must set VAULT_TOKEN env var in order to use vault template function".into());
                    }
                    Err("Error reading vault secret: Kiln does not read from Vault".into())
                })),
            );
        }
        {
            let c = c.clone();
            f.insert(
                "aws_secretsmanager",
                Func::new(
                    &[],
                    Some(Param::String),
                    string(move |a| {
                        if !c.enable_env {
                            return Err(
                                "AWS Secrets Manager is only allowed in the variables section"
                                    .into(),
                            );
                        }
                        match a.len() {
                            0 => Err("secret name must be provided".into()),
                            1 | 2 => Err("Kiln does not read from AWS Secrets Manager".into()),
                            _ => {
                                Err("only secret name and optional secret key can be provided."
                                    .into())
                            }
                        }
                    }),
                ),
            );
        }
        {
            let c = c.clone();
            f.insert(
                "aws_secretsmanager_raw",
                Func::new(
                    &[Param::String],
                    None,
                    string(move |_| {
                        if !c.enable_env {
                            return Err(
                                "AWS Secrets Manager is only allowed in the variables section"
                                    .into(),
                            );
                        }
                        Err("Kiln does not read from AWS Secrets Manager".into())
                    }),
                ),
            );
        }
        f.insert(
            "sed",
            Func::new(&[Param::String, Param::String], None, string(|_| {
                Err("template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine".into())
            })),
        );
        {
            let c = c.clone();
            f.insert(
                "build",
                Func::new(
                    &[Param::String],
                    None,
                    string(move |a| build_fn(&c.data, s(&a[0]))),
                ),
            );
        }
        f.insert(
            "replace",
            Func::new(
                &[Param::String, Param::String, Param::Int, Param::String],
                None,
                string(|a| {
                    let Value::Int(n) = a[2] else {
                        return Err("n is not an int".into());
                    };
                    Ok(go_replace(s(&a[3]), s(&a[0]), s(&a[1]), n))
                }),
            ),
        );
        f.insert(
            "replace_all",
            Func::new(
                &[Param::String; 3],
                None,
                string(|a| Ok(go_replace(s(&a[2]), s(&a[0]), s(&a[1]), -1))),
            ),
        );
        f.insert(
            "upper",
            Func::new(
                &[Param::String],
                None,
                string(|a| Ok(s(&a[0]).to_uppercase())),
            ),
        );
        f.insert(
            "lower",
            Func::new(
                &[Param::String],
                None,
                string(|a| Ok(s(&a[0]).to_lowercase())),
            ),
        );
        for name in self.funcs.names() {
            if let Some(func) = self.funcs.get(name) {
                f.insert(name, func.clone());
            }
        }
        f
    }

    /// The SDK's `RenderOnce`: parse `text` as template `root` and execute it with the data.
    pub fn render_once(&self, text: &str) -> Result<String, Error> {
        let funcs = self.funcs();
        Template::parse("root", text, &funcs)?.execute(&self.data, &funcs)
    }

    /// The SDK's `Render`: [`Context::render_once`] until the text stops changing.
    pub fn render(&self, text: &str) -> Result<String, Error> {
        let mut v = text.to_string();
        // The SDK loops without bound; a template rendering to a different template forever
        // is cut off here.
        for _ in 0..100 {
            let r = self.render_once(&v)?;
            if r == v {
                return Ok(r);
            }
            v = r;
        }
        Ok(v)
    }

    /// The SDK's `Validate`: whether `text` parses.
    pub fn validate(&self, text: &str) -> Result<(), Error> {
        Template::parse("root", text, &self.funcs()).map(|_| ())
    }
}

/// What the SDK's `RenderMap` does to one string of option `key` at Prepare time: checks it
/// parses (`invalid 'key': …`), then, unless the option is rendered later (`render_now`
/// false: the component's `InterpolateFilter.Exclude`), renders it (`render 'key': …`).
/// The error names the string, as the SDK's walker does (`… in:\n\n<text>`).
pub fn render_option(
    ctx: &Context,
    key: &str,
    text: &str,
    render_now: bool,
) -> Result<String, String> {
    let funcs = ctx.funcs();
    let t = Template::parse("root", text, &funcs)
        .map_err(|e| format!("invalid '{key}': {e} in:\n\n{text}"))?;
    if !render_now {
        return Ok(text.to_string());
    }
    t.execute(&ctx.data, &funcs)
        .map_err(|e| format!("render '{key}': {e} in:\n\n{text}"))
}

/// The SDK's `consul_key` (legacy templates' variables only): Consul's KV API at
/// `CONSUL_HTTP_ADDR` (default `127.0.0.1:8500`). Kiln reports an unreachable agent as the
/// Consul client does and refuses to read from a reachable one.
fn consul_key(key: &str) -> Result<String, String> {
    let addr = std::env::var("CONSUL_HTTP_ADDR")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "127.0.0.1:8500".into());
    let host = addr
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let url = format!("http://{host}/v1/kv/{key}");
    match std::net::TcpStream::connect(host) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err(format!(
            "error reading consul key: Get \"{url}\": dial tcp {host}: connect: connection refused"
        )),
        Err(e) => Err(format!("error reading consul key: Get \"{url}\": {e}")),
        Ok(_) => Err(format!(
            "error reading consul key: Kiln does not read from Consul ({url})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::for_component("a", "null", "1.16.0")
    }

    #[test]
    fn sdk_functions_in_hcl2_components() {
        let c = ctx();
        assert_eq!(
            c.render_once("{{ build_name }} {{ build_type }} {{ packer_version }} {{ upper \"a\" }} {{ lower \"B\" }}").unwrap(),
            "a null 1.16.0 A b"
        );
        assert_eq!(
            c.render_once("{{ split \"a-b-c\" \"-\" 1 }}|{{ split \"ab\" \"\" 1 }}")
                .unwrap(),
            "b|b"
        );
        assert_eq!(c.render_once("{{ replace \"a\" \"b\" 1 \"aaa\" }} {{ replace_all \"a\" \"b\" \"aaa\" }} {{ replace \"\" \"-\" -1 \"ab\" }}").unwrap(), "baa bbb -a-b-");
        assert_eq!(c.render_once("{{ .Foo }}").unwrap(), "<no value>");
        let ts = c.render_once("{{ timestamp }}").unwrap();
        assert!(ts.parse::<i64>().is_ok(), "{ts}");
        assert_eq!(
            c.render_once("{{ timestamp }}").unwrap(),
            ts,
            "one time per process"
        );
        assert_eq!(c.render_once("{{ isotime \"2006\" }}").unwrap().len(), 4);
        assert_eq!(
            c.render_once("{{ strftime \"%Y\" }}").unwrap(),
            c.render_once("{{ isotime \"2006\" }}").unwrap()
        );
        let u = c.render_once("{{ uuid }}").unwrap();
        assert_eq!(u.len(), 36);
        let t = u64::from_str_radix(&u[..8], 16).unwrap() as i64;
        assert!(
            (t - ts.parse::<i64>().unwrap()).abs() < 3600,
            "{u}: time-ordered"
        );
        let pwd = std::env::current_dir().unwrap();
        assert_eq!(c.render_once("{{ pwd }}").unwrap(), pwd.to_string_lossy());
    }

    #[test]
    fn sdk_errors_in_hcl2_components() {
        let c = ctx();
        let e = |t: &str| c.render_once(t).unwrap_err().to_string();
        assert_eq!(
            e("{{ env `HOME` }}"),
            "template: root:1:3: executing \"root\" at <env `HOME`>: error calling env: env vars are not allowed here"
        );
        assert_eq!(
            e("{{ user `x` }}"),
            "template: root:1:3: executing \"root\" at <user `x`>: error calling user: test"
        );
        assert_eq!(
            e("{{ template_dir }}"),
            "template: root:1:3: executing \"root\" at <template_dir>: error calling template_dir: template path not available"
        );
        assert_eq!(
            e("{{ consul_key `k` }}"),
            "template: root:1:3: executing \"root\" at <consul_key `k`>: error calling consul_key: consul_key is not allowed here"
        );
        assert_eq!(
            e("{{ vault `p` `k` }}"),
            "template: root:1:3: executing \"root\" at <vault `p` `k`>: error calling vault: Vault vars are only allowed in the variables section"
        );
        assert_eq!(
            e("{{ aws_secretsmanager `s` }}"),
            "template: root:1:3: executing \"root\" at <aws_secretsmanager `s`>: error calling aws_secretsmanager: AWS Secrets Manager is only allowed in the variables section"
        );
        assert_eq!(
            e("{{ sed `a` `b` }}"),
            "template: root:1:3: executing \"root\" at <sed `a` `b`>: error calling sed: template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine"
        );
        assert_eq!(
            e("{{ build `ID` }}"),
            "template: root:1:3: executing \"root\" at <build `ID`>: error calling build: loaded data, but couldnt find ID in it."
        );
        assert_eq!(
            Context::default()
                .render_once("{{ build `ID` }}")
                .unwrap_err()
                .to_string(),
            "template: root:1:3: executing \"root\" at <build `ID`>: error calling build: Error validating build variable: the given variable ID will not be passed into your plugin."
        );
        assert_eq!(
            e("{{ split `a` `-` 3 }}"),
            "template: root:1:3: executing \"root\" at <split `a` `-` 3>: error calling split: the substring 3 was unavailable using the separator value, -, only 1 values were found"
        );
        assert_eq!(
            e("{{ isotime `a` `b` }}"),
            "template: root:1:3: executing \"root\" at <isotime `a` `b`>: error calling isotime: too many values, 1 needed: [a b]"
        );
        assert_eq!(
            e("{{ nope }}"),
            "template: root:1: function \"nope\" not defined"
        );
        let c = Context {
            build_name: String::new(),
            ..ctx()
        };
        assert!(
            c.render_once("{{ build_name }}")
                .unwrap_err()
                .to_string()
                .ends_with("build_name not available")
        );
    }

    #[test]
    fn legacy_variables_context() {
        let c = Context {
            enable_env: true,
            user_variables: Some([("x".to_string(), "1".to_string())].into()),
            template_path: "/tmp/dir/t.json".into(),
            ..Context::default()
        };
        assert_eq!(
            c.render_once("{{ user `x` }}{{ template_dir }}").unwrap(),
            "1/tmp/dir"
        );
        assert!(
            c.render_once("{{ user `y` }}")
                .unwrap_err()
                .to_string()
                .ends_with("error calling user: Error: variable not set: y")
        );
        // SAFETY of the test: reading a variable every process has.
        assert_eq!(
            c.render_once("{{ env `PATH` }}").unwrap(),
            std::env::var("PATH").unwrap_or_default()
        );
        let placeholders = c.with_data(Value::string_map([
            ("ID", format!("Build_ID. {PLACEHOLDER_MSG}")),
            ("Host", "h".into()),
        ]));
        assert_eq!(
            placeholders
                .render_once("{{ build `ID` }} {{ build `Host` }}")
                .unwrap(),
            "{{.ID}} h"
        );
        assert!(
            placeholders
                .render_once("{{ build `Nope` }}")
                .unwrap_err()
                .to_string()
                .ends_with("loaded data, but couldnt find Nope in it.")
        );
    }

    #[test]
    fn options_render_as_render_map() {
        let c = ctx();
        assert_eq!(
            render_option(&c, "inline", "{{ build_name }}", true).unwrap(),
            "a"
        );
        assert_eq!(
            render_option(&c, "execute_command", "{{ .Vars }}", false).unwrap(),
            "{{ .Vars }}"
        );
        assert_eq!(
            render_option(&c, "inline", "{{ nope }}", true).unwrap_err(),
            "invalid 'inline': template: root:1: function \"nope\" not defined in:\n\n{{ nope }}"
        );
        assert_eq!(
            render_option(&c, "execute_command", "{{ nope }}", false).unwrap_err(),
            "invalid 'execute_command': template: root:1: function \"nope\" not defined in:\n\n{{ nope }}"
        );
        assert_eq!(
            render_option(&c, "output", "{{ user `x` }}", true).unwrap_err(),
            "render 'output': template: root:1:3: executing \"root\" at <user `x`>: error calling user: test in:\n\n{{ user `x` }}"
        );
    }
}
