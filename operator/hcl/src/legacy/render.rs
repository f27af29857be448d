//! Rendering a legacy template's strings: the SDK's `interpolate` context (user variables,
//! `env` in the variables section only, `build_name`, `build_type`, `template_dir`, the
//! builder's generated data) over Go's `text/template` ([`crate::interpolate`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::interpolate::{self, ErrorKind, Value};

/// The SDK's `interpolate.Context`, as the legacy core fills it.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `{{.Name}}` data (a `map[string]string`); `None`: Go's nil.
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
pub const VARIABLE_NOT_SET: &str = interpolate::ERR_VARIABLE_NOT_SET;

/// The SDK's `packerbuilderdata.PlaceholderMsg`.
pub const PLACEHOLDER_MSG: &str = interpolate::PLACEHOLDER_MSG;

impl Context {
    fn sdk(&self) -> interpolate::Context {
        interpolate::Context {
            data: match &self.data {
                Some(d) => Value::string_map(d.clone()),
                None => Value::Invalid,
            },
            user_variables: Some(self.user.clone()),
            enable_env: self.enable_env,
            build_name: self.build_name.clone(),
            build_type: self.build_type.clone(),
            core_packer_version: self.packer_version.clone(),
            template_path: self
                .template_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            ..interpolate::Context::default()
        }
    }
}

fn error(e: interpolate::Error) -> RenderError {
    RenderError {
        exec: e.kind == ErrorKind::Exec,
        msg: e.to_string(),
    }
}

/// Renders `s` once with `ctx` (the SDK's `RenderOnce`).
pub fn render_once(s: &str, ctx: &Context) -> Result<String, RenderError> {
    ctx.sdk().render_once(s).map_err(error)
}

/// The SDK's `interpolate.Render`: renders until the result no longer changes.
pub fn render(s: &str, ctx: &Context) -> Result<String, RenderError> {
    ctx.sdk().render(s).map_err(error)
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
        assert!(!e.exec);
        assert_eq!(e.msg, "template: root:2: function \"foo\" not defined");
    }
}
