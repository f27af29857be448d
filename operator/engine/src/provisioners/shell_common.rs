//! What the `shell` provisioner, the `shell-local` provisioner and the `shell-local`
//! post-processor share, as the Packer SDK's `shell` and `shell-local` packages do: the
//! common options and their checks ([`ShellCommon`]), the environment handed to scripts
//! ([`EnvVars::flatten`], Packer's `createFlattenedEnvVars`), the exit-code check
//! ([`check_exit_code`], the SDK's `ValidExitCode`), the inline script ([`inline_script`]),
//! the run-time templates (`execute_command`: [`render_exec`], with the Go template engine) and Go's `fmt.Sprintf`
//! ([`go_sprintf`], kiln-gotemplate's) that `env_var_format` is
//! written for.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::components::ComponentInfo;
use crate::interpolate::Value as GoValue;
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;
use crate::value::Value;

/// `environment_vars`, `env` and `env_var_format`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvVars {
    /// `KEY=value` strings, checked when decoded.
    pub environment_vars: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// A Go format taking the key and the (quote-escaped) value.
    pub format: String,
}

/// The generated keys that become `PACKER_HTTP_*` variables when the builder serves files.
const HTTP_VARS: [(&str, &str); 3] = [
    ("PackerHTTPAddr", "PACKER_HTTP_ADDR"),
    ("PackerHTTPIP", "PACKER_HTTP_IP"),
    ("PackerHTTPPort", "PACKER_HTTP_PORT"),
];

impl EnvVars {
    /// Reads the three options; `default_format` is the component's `env_var_format` default.
    pub fn read(r: &mut ConfigReader, default_format: &str) -> EnvVars {
        let environment_vars = r.strings("environment_vars").unwrap_or_default();
        let env = r.string_map("env").unwrap_or_default();
        let format = r
            .string("env_var_format")
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| default_format.to_string());
        EnvVars {
            environment_vars,
            env,
            format,
        }
    }

    /// The SDK's check of `environment_vars` (`=foo`, `foobar`), a `Prepare` error each.
    pub fn check(&self, r: &mut ConfigReader) {
        for kv in &self.environment_vars {
            match kv.split_once('=') {
                Some((k, _)) if !k.is_empty() => {}
                _ => r.prepare_error(format!(
                    "Environment variable not in format 'key=value': {kv}"
                )),
            }
        }
    }

    /// Packer's `createFlattenedEnvVars`: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE, the
    /// PACKER_HTTP_{ADDR,IP,PORT} the builder provides, then `environment_vars` and `env`
    /// (later ones win), with single quotes of their values escaped for the shell
    /// (`'` → `'"'"'`), sorted by key, each through `env_var_format`.
    pub fn flatten(&self, info: &ComponentInfo, generated: &BTreeMap<String, Value>) -> String {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        vars.insert("PACKER_BUILD_NAME".into(), info.build_name.clone());
        vars.insert("PACKER_BUILDER_TYPE".into(), info.builder_type.clone());
        for (key, var) in HTTP_VARS {
            let value = match generated.get(key) {
                Some(Value::String(s)) => s.to_string(),
                Some(v @ Value::Number(_)) => v.to_string_lossless().unwrap_or_default(),
                _ => continue,
            };
            // The SDK's placeholder for a builder without an HTTP server.
            let placeholder =
                value.starts_with("ERR_") && value.ends_with("_NOT_IMPLEMENTED_BY_BUILDER");
            if !placeholder {
                vars.insert(var.into(), value);
            }
        }
        let escape = |v: &str| v.replace('\'', "'\"'\"'");
        for kv in &self.environment_vars {
            if let Some((k, v)) = kv.split_once('=') {
                vars.insert(k.to_string(), escape(v));
            }
        }
        for (k, v) in &self.env {
            vars.insert(k.clone(), escape(v));
        }
        let mut out = String::new();
        for (k, v) in &vars {
            out.push_str(&go_sprintf(&self.format, &[k, v]));
        }
        out
    }
}

/// The SDK's check that every script exists (`os.Stat`), a `Prepare` error each.
pub fn check_scripts<S: AsRef<str>>(r: &mut ConfigReader, scripts: &[S]) {
    for s in scripts {
        let s = s.as_ref();
        if let Err(e) = std::fs::metadata(s) {
            r.prepare_error(format!(
                "Bad script '{s}': {}",
                crate::goerr::path_error("stat", std::path::Path::new(s), &e)
            ));
        }
    }
}

/// The options all three components decode alike (the SDK's `shell.Provisioner`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellCommon {
    /// `inline`: `None` when absent (an empty list is given but empty).
    pub inline: Option<Vec<String>>,
    /// `script`.
    pub script: Option<String>,
    /// `scripts`.
    pub scripts: Vec<String>,
    pub env: EnvVars,
    /// `valid_exit_codes` (default `[0]`).
    pub valid_exit_codes: Vec<i64>,
    /// `inline_shebang` as given (`None`: not set or empty).
    pub inline_shebang: Option<String>,
}

impl ShellCommon {
    /// Reads the shared options (`valid_exit_codes` must be a list of numbers); each
    /// component checks them in its plugin's order ([`EnvVars::check`],
    /// [`check_scripts`]).
    pub fn read(r: &mut ConfigReader, default_env_var_format: &str) -> ShellCommon {
        let common = ShellCommon::read_sdk(r, default_env_var_format);
        let inline_shebang = r.string("inline_shebang").filter(|s| !s.is_empty());
        ShellCommon {
            inline_shebang,
            ..common
        }
    }

    /// [`ShellCommon::read`] without `inline_shebang`: the SDK's `shell.Provisioner` alone
    /// (`shell` and `shell-local` add `inline_shebang`; `powershell` and `windows-shell`
    /// do not have it).
    pub fn read_sdk(r: &mut ConfigReader, default_env_var_format: &str) -> ShellCommon {
        let inline = r.strings("inline");
        let script = r.string("script");
        let scripts = r.strings("scripts").unwrap_or_default();
        let env = EnvVars::read(r, default_env_var_format);
        let valid_exit_codes = match r.numbers("valid_exit_codes") {
            Some(codes) => codes.into_iter().map(|n| n as i64).collect(),
            None => vec![0],
        };
        ShellCommon {
            inline,
            script,
            scripts,
            env,
            valid_exit_codes,
            inline_shebang: None,
        }
    }

    /// The script rules of the `Prepare` of Packer's `shell`, `powershell` and
    /// `windows-shell` provisioners, in their words: `script` and `scripts` together. (Then
    /// [`ShellCommon::check_script_or_inline`].)
    pub fn check_one_script(&self, r: &mut ConfigReader) {
        if self.script().is_some() && !self.scripts.is_empty() {
            r.prepare_error("Only one of script or scripts can be specified.");
        }
    }

    /// The rest of those rules: neither scripts nor inline commands, or both (an empty
    /// `inline` counts as none); then that each script exists ([`check_scripts`]). The
    /// scripts checked: `script` when set (it replaces `scripts`), else `scripts`.
    pub fn check_script_or_inline(&self, r: &mut ConfigReader) -> Vec<String> {
        let inline = self.inline.as_ref().is_some_and(|i| !i.is_empty());
        let checked: Vec<String> = match self.script() {
            Some(s) => vec![s.to_string()],
            None => self.scripts.clone(),
        };
        if checked.is_empty() && !inline {
            r.prepare_error("Either a script file or inline script must be specified.");
        } else if !checked.is_empty() && inline {
            r.prepare_error("Only a script file or an inline script can be specified, not both.");
        }
        check_scripts(r, &checked);
        checked
    }

    /// `script`, unless empty.
    fn script(&self) -> Option<&str> {
        self.script.as_deref().filter(|s| !s.is_empty())
    }

    /// `script` then `scripts`.
    pub fn script_paths(&self) -> Vec<PathBuf> {
        self.script
            .iter()
            .chain(&self.scripts)
            .map(PathBuf::from)
            .collect()
    }

    /// The shebang of inline scripts (`/bin/sh -e` unless set).
    pub fn shebang(&self) -> &str {
        self.inline_shebang.as_deref().unwrap_or("/bin/sh -e")
    }
}

/// The SDK's `shell.ProvisionerRemoteSpecific` options (`binary`, `remote_path`,
/// `execute_command`), as given (`None`: unset or empty), for the provisioners that run
/// scripts on the guest through the communicator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteSpecific {
    pub binary: bool,
    pub remote_path: Option<String>,
    pub execute_command: Option<String>,
}

impl RemoteSpecific {
    pub fn read(r: &mut ConfigReader) -> RemoteSpecific {
        RemoteSpecific {
            binary: r.bool("binary").unwrap_or(false),
            remote_path: r.string("remote_path").filter(|s| !s.is_empty()),
            execute_command: r.string("execute_command").filter(|s| !s.is_empty()),
        }
    }
}

/// The SDK's `ValidExitCode`: `code` must be one of `allowed` (an empty list means `[0]`).
pub fn check_exit_code(code: i64, allowed: &[i64]) -> Result<(), ProvisionError> {
    let allowed: &[i64] = if allowed.is_empty() { &[0] } else { allowed };
    if allowed.contains(&code) {
        Ok(())
    } else {
        Err(ProvisionError::ExitCode {
            code,
            allowed: allowed.to_vec(),
        })
    }
}

/// The script made of inline commands: `#!<shebang>` then one command a line. With
/// `first_line_may_be_shebang` (the `shell` provisioner when `inline_shebang` is not set,
/// since Packer 1.13) a first command starting with `#!` is the shebang instead.
pub fn inline_script(lines: &[String], shebang: &str, first_line_may_be_shebang: bool) -> String {
    let mut text = String::new();
    let own = first_line_may_be_shebang && lines.first().is_some_and(|l| l.starts_with("#!"));
    if !own && !shebang.is_empty() {
        let _ = writeln!(text, "#!{shebang}");
    }
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    text
}

/// The data run-time templates of a component see (the SDK's `ctx.Data` at run time): the
/// build's generated data, plus `extra` (`Vars`, `Script`, `Path`…), as a Go
/// `map[string]interface {}`.
pub fn template_data(generated: &BTreeMap<String, Value>, extra: &[(&str, &str)]) -> GoValue {
    // Packer's generated data holds only what the builder and communicator set: the keys
    // HCL2's `build.*` reads as unknown are absent (`<no value>` in a template).
    let unset = |v: &Value| matches!(v, Value::Unknown) || v.as_str() == Some("<unknown>");
    let mut m: Vec<(String, GoValue)> = generated
        .iter()
        .filter(|(_, v)| !unset(v))
        .map(|(k, v)| (k.clone(), go_value(v)))
        .collect();
    for (k, v) in extra {
        m.push((k.to_string(), GoValue::str(*v)));
    }
    GoValue::map(m)
}

/// A template value as Go data.
fn go_value(v: &Value) -> GoValue {
    match v {
        Value::String(s) => GoValue::str(s.to_string()),
        Value::Bool(b) => GoValue::Bool(*b),
        Value::Number(_) => match v.to_number() {
            Some(n) if n.fract() == 0.0 && n.abs() < 9e15 => GoValue::Int(n as i64),
            Some(n) => GoValue::Float(n),
            None => GoValue::Nil,
        },
        other => match other.to_string_lossless() {
            Some(s) => GoValue::str(s),
            None => GoValue::Nil,
        },
    }
}

/// Renders a run-time template of a component (`execute_command`, an inline command) with
/// the SDK's functions and `data`, as the SDK's `interpolate.Render` does.
pub fn render_runtime(
    template: &str,
    info: &ComponentInfo,
    data: GoValue,
) -> Result<String, String> {
    crate::interpolate::Context::for_component(
        &info.build_name,
        &info.builder_type,
        crate::template::PACKER_VERSION,
    )
    .with_data(data)
    .render(template)
    .map_err(|e| e.to_string())
}

/// Renders `execute_command` with `data` (`Vars`, `Script`/`Path`… over the generated
/// data); an error is Packer's "Error processing command: …".
pub fn render_exec(
    template: &str,
    info: &ComponentInfo,
    data: GoValue,
) -> Result<String, ProvisionError> {
    render_runtime(template, info, data).map_err(|e| ProvisionError::Command {
        message: format!("Error processing command: {e}"),
    })
}

/// Writes an inline script to a temporary file of the run's work directory, executable by
/// its owner (`packer-shell*`, with `.<extension>` when given, as Packer names it). Written
/// through [`crate::process::write_executable`], so no child forked meanwhile keeps it open
/// for writing when it is executed.
pub fn write_temp_script(
    dir: &std::path::Path,
    text: &str,
    extension: &str,
) -> Result<tempfile::TempPath, ProvisionError> {
    let ext = extension.trim_start_matches('.');
    let suffix = if ext.is_empty() {
        String::new()
    } else {
        format!(".{ext}")
    };
    crate::process::write_executable(dir, "packer-shell", &suffix, text.as_bytes(), 0o700).map_err(
        |e| ProvisionError::Prepare {
            message: e.to_string(),
        },
    )
}

/// Go's `fmt.Sprintf` for string operands (what `env_var_format` is given: the name and the
/// value), with Go's `%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)` and `%!(NOVERB)`
/// markers: kiln-gotemplate's, where Go's `fmt` lives.
pub fn go_sprintf(format: &str, args: &[&str]) -> String {
    let args: Vec<GoValue> = args
        .iter()
        .map(|a| GoValue::String(a.to_string()))
        .collect();
    kiln_gotemplate::sprintf(format, &args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    // The expected strings below are Go's own output (go1.26 `fmt.Sprintf`), not derived
    // from this implementation.

    #[test]
    fn sprintf_verbs_widths_and_mistakes_like_go() {
        let s = go_sprintf;
        assert_eq!(s("%s='%s' ", &["K", "v"]), "K='v' ");
        assert_eq!(
            s("export %s=%q\n", &["K", "a \"b\""]),
            "export K=\"a \\\"b\\\"\"\n"
        );
        assert_eq!(s("%s=%v|%v", &["K", "x", "y"]), "K=x|y");
        assert_eq!(
            s("[%5s][%-5s][%.2s]", &["ab", "ab", "abc"]),
            "[   ab][ab   ][ab]"
        );
        assert_eq!(s("%8q", &["é"]), "     \"é\"");
        assert_eq!(s("%x %X %#x", &["hi", "hi", "hi"]), "6869 6869 0x6869");
        assert_eq!(s("%#q %#v", &["a\"b", "x"]), "`a\"b` \"x\"");
        assert_eq!(s("%d", &["K"]), "%!d(string=K)");
        assert_eq!(
            s("%d%%|%c|%b", &["K", "v", "w"]),
            "%!d(string=K)%|%!c(string=v)|%!b(string=w)"
        );
        assert_eq!(s("%s %s %s", &["a"]), "a %!s(MISSING) %!s(MISSING)");
        assert_eq!(s("%s", &["a", "b", "c"]), "a%!(EXTRA string=b, string=c)");
        assert_eq!(s("ab%", &[]), "ab%!(NOVERB)");
        assert_eq!(s("%z", &["a"]), "%!z(string=a)");
        assert_eq!(
            s(
                "[%05s][%05q][%06v][%-05s][%05x][%5.1q]",
                &["ab", "a", "x", "ab", "hi", "héllo"]
            ),
            "[000ab][00\"a\"][00000x][ab   ][06869][  \"h\"]"
        );
        assert_eq!(
            s(
                "[% x][%#x][% #X][%+q][%.0s]",
                &["hi", "hi", "hi", "é", "abc"]
            ),
            "[68 69][0x6869][0X68 0X69][\"\\u00e9\"][]"
        );
        assert_eq!(s("%05s|%-05s|%x", &["ab", "c", "é"]), "000ab|c    |c3a9");
    }

    #[test]
    fn env_is_flattened_sorted_and_quote_escaped_like_packer() {
        let env = EnvVars {
            environment_vars: vec!["B=it's".into(), "A=1=2".into()],
            env: BTreeMap::from([("A".to_string(), "env wins".to_string())]),
            format: "%s='%s' ".into(),
        };
        let info = ComponentInfo {
            build_name: "example".into(),
            builder_type: "null".into(),
            ..Default::default()
        };
        let generated = BTreeMap::from([
            ("PackerHTTPAddr".to_string(), Value::str("10.0.2.2:8080")),
            (
                "PackerHTTPIP".to_string(),
                Value::str("ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER"),
            ),
        ]);
        assert_eq!(
            env.flatten(&info, &generated),
            "A='env wins' B='it'\"'\"'s' PACKER_BUILDER_TYPE='null' PACKER_BUILD_NAME='example' PACKER_HTTP_ADDR='10.0.2.2:8080' "
        );
        let q = EnvVars {
            format: "%s=%q ".into(),
            environment_vars: vec!["B=it's \"q\"".into()],
            ..env
        };
        // Packer escapes single quotes before formatting, %q or not.
        assert!(
            q.flatten(&info, &BTreeMap::new())
                .starts_with("A=\"env wins\" B=\"it'\\\"'\\\"'s \\\"q\\\"\" "),
            "{}",
            q.flatten(&info, &BTreeMap::new())
        );
    }

    #[test]
    fn exit_codes_default_to_zero_and_errors_read_like_packer() {
        assert!(check_exit_code(0, &[]).is_ok());
        assert!(check_exit_code(3, &[0, 3]).is_ok());
        let e = check_exit_code(7, &[0, 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Script exited with non-zero exit status: 7. Allowed exit codes are: [0 1]"
        );
        assert_eq!(
            check_exit_code(7, &[]).unwrap_err().to_string(),
            "Script exited with non-zero exit status: 7. Allowed exit codes are: [0]"
        );
    }

    #[test]
    fn shared_options_decode_and_check() {
        let c = decode_hcl("inline = [\"a\"]\nenvironment_vars = [\"=x\"]\n", |r| {
            ShellCommon::read(r, "%s='%s' ").env.check(r)
        })
        .unwrap_err();
        assert!(c[0].contains("not in format 'key=value': =x"), "{c:?}");
        let e = decode_hcl("script = \"/nonexistent-kiln\"\n", |r| {
            let c = ShellCommon::read(r, "%s='%s' ");
            check_scripts(r, &c.script.into_iter().collect::<Vec<_>>())
        })
        .unwrap_err();
        assert!(e[0].contains("Bad script '/nonexistent-kiln'"), "{e:?}");
        let e = decode_hcl("inline = [\"a\"]\nvalid_exit_codes = 3\n", |r| {
            ShellCommon::read(r, "%s='%s' ")
        })
        .unwrap_err();
        assert!(e[0].contains("list of number required"), "{e:?}");
        let c = decode_hcl(
            "inline = [\"a\"]\nvalid_exit_codes = [0, 2]\nenv_var_format = \"\"\n",
            |r| ShellCommon::read(r, "%s='%s' "),
        )
        .unwrap();
        assert_eq!(c.valid_exit_codes, vec![0, 2]);
        assert_eq!(c.env.format, "%s='%s' ");
        assert_eq!(c.shebang(), "/bin/sh -e");
    }

    #[test]
    fn inline_scripts_and_exec_templates() {
        let lines = vec!["#!/bin/bash".to_string(), "echo hi".to_string()];
        assert_eq!(
            inline_script(&lines, "/bin/sh -e", true),
            "#!/bin/bash\necho hi\n"
        );
        assert_eq!(
            inline_script(&lines, "/bin/sh -e", false),
            "#!/bin/sh -e\n#!/bin/bash\necho hi\n"
        );
        let data = template_data(
            &[("PackerHTTPIP".to_string(), Value::str("10.0.2.2"))].into(),
            &[("Vars", "A=1"), ("Script", "/t")],
        );
        let r = |t: &str| {
            crate::interpolate::Context::for_component("a", "null", "1.16.0")
                .with_data(data.clone())
                .render(t)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            r("{{.Vars}} {{ .Script }}; {{ .PackerHTTPIP }} {{ build_name }} {{.Nope}}").unwrap(),
            "A=1 /t; 10.0.2.2 a <no value>"
        );
    }
}
