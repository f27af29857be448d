//! Packer's legacy JSON templates (`*.json`, any file that is not `.pkr.hcl`/`.pkr.json`):
//! parsing and structural validation as the SDK's `template` package does it (`Parse`,
//! `rawTemplate.Template`, `Template.Validate`), and the legacy core's part (`packer/core.go`):
//! `min_packer_version`, required variables, variables rendered into one another, build names,
//! `-only`/`-except`, and what `inspect` and `console` print. Messages are Packer's, word for
//! word. The engine maps the builds onto its components (`kiln_engine::legacy`).

pub mod config;
pub mod decode;
pub mod fix;
pub mod json;
pub mod render;
pub mod upgrade;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::template::body::GoDuration;
use decode::{Fields, MsError};
use json::J;

/// A `variables` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub default: String,
    /// Declared as `null`: a value must be given.
    pub required: bool,
}

/// A `builders` entry.
#[derive(Clone, Debug)]
pub struct Builder {
    /// `name`, else the type (uninterpolated).
    pub name: String,
    pub kind: String,
    /// Every other key, for the builder.
    pub config: Vec<(String, J)>,
}

/// `only` / `except`.
#[derive(Clone, Debug, Default)]
pub struct OnlyExcept {
    pub only: Vec<String>,
    pub except: Vec<String>,
}

impl OnlyExcept {
    /// The SDK's `OnlyExcept.Skip`: exact names.
    pub fn skip(&self, name: &str) -> bool {
        if !self.only.is_empty() {
            return !self.only.iter().any(|o| o == name);
        }
        self.except.iter().any(|e| e == name)
    }

    fn validate(&self, t: &LegacyTemplate) -> Vec<String> {
        if !self.only.is_empty() && !self.except.is_empty() {
            return vec!["only one of 'only' or 'except' may be specified".into()];
        }
        let mut errs = Vec::new();
        for n in &self.only {
            if !t.builders.contains_key(n) {
                errs.push(format!("'only' specified builder '{n}' not found"));
            }
        }
        for n in &self.except {
            if !t.builders.contains_key(n) {
                errs.push(format!("'except' specified builder '{n}' not found"));
            }
        }
        errs
    }
}

/// A `provisioners` entry (or the `error-cleanup-provisioner`).
#[derive(Clone, Debug, Default)]
pub struct Provisioner {
    pub kind: String,
    pub oe: OnlyExcept,
    pub config: Vec<(String, J)>,
    /// Builder name → keys replacing the config's for that builder.
    pub overrides: Vec<(String, J)>,
    pub pause_before: GoDuration,
    /// Rendered and parsed when the build is made.
    pub max_retries: String,
    pub timeout: GoDuration,
}

/// A post-processor of a chain.
#[derive(Clone, Debug)]
pub struct PostProcessor {
    /// `name`, else the type.
    pub name: String,
    pub kind: String,
    pub oe: OnlyExcept,
    pub keep_input_artifact: Option<bool>,
    pub config: Vec<(String, J)>,
}

/// A parsed legacy template.
#[derive(Clone, Debug, Default)]
pub struct LegacyTemplate {
    /// Absolute path (`template_dir`, `packer_template_path`).
    pub path: PathBuf,
    pub description: String,
    pub min_version: String,
    /// By name (Packer walks a Go map: where its order is random, Kiln's is sorted).
    pub variables: BTreeMap<String, Variable>,
    /// Names listed in `sensitive-variables` that are declared.
    pub sensitive: Vec<String>,
    /// By (uninterpolated) name.
    pub builders: BTreeMap<String, Builder>,
    pub provisioners: Vec<Provisioner>,
    pub cleanup: Option<Provisioner>,
    pub post_processors: Vec<Vec<PostProcessor>>,
}

/// Whether Packer reads `path` as a legacy JSON template (`GetConfigType`): not named
/// `*.pkr.hcl`/`*.pkr.json` and not a directory (`-` is standard input).
pub fn is_legacy(path: &Path) -> bool {
    let name = path.to_string_lossy();
    if name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json") {
        return false;
    }
    !path.is_dir()
}

/// go-multierror's text.
pub fn multierror(errs: &[String]) -> String {
    if errs.len() == 1 {
        return format!("1 error occurred:\n\t* {}\n\n", errs[0]);
    }
    let points: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
    format!(
        "{} errors occurred:\n\t{}\n\n",
        errs.len(),
        points.join("\n\t")
    )
}

/// The message Packer prints when a legacy template does not parse.
pub fn parse_failure(err: &str) -> String {
    format!(
        "Failed to parse file as legacy JSON template: if you are using an HCL template, check \
         your file extensions; they should be either *.pkr.hcl or *.pkr.json; see the docs for \
         more details: https://www.packer.io/docs/templates/hcl_templates. \nOriginal error: {err}"
    )
}

/// The file Packer reads when no template is given (`console` in JSON mode).
pub const TINIEST_BUILDER: &str = "{\n\t\"builders\": [\n\t\t{\n\t\t\t\"type\":\"null\",\n\t\t\t\"communicator\": \"none\"\n\t\t}\n\t]\n}";

/// The SDK's `template.ParseFile`: the error text is the "Original error" Packer prints.
pub fn parse_file(path: &Path) -> Result<LegacyTemplate, String> {
    parse_file_raw(path).map(|(t, _)| t)
}

/// [`parse_file`], with the bytes read (the SDK's `Template.RawContents`).
pub fn parse_file_raw(path: &Path) -> Result<(LegacyTemplate, Vec<u8>), String> {
    let data = if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map_err(|e| e.to_string())?;
        b
    } else {
        let mut f = std::fs::File::open(path)
            .map_err(|e| format!("open {}: {}", path.display(), crate::template::go_errno(&e)))?;
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut b)
            .map_err(|e| format!("read {}: {}", path.display(), crate::template::go_errno(&e)))?;
        b
    };
    let mut t = match parse(&data) {
        Ok(t) => t,
        Err(ParseError::Syntax(e)) => {
            let (line, col, h) = json::highlight(&data, e.offset);
            return Err(format!(
                "Error parsing JSON: {}\nAt line {line}, column {col} (offset {}):\n{h}",
                e.msg, e.offset
            ));
        }
        Err(ParseError::Other(s)) => return Err(s),
    };
    t.path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Ok((t, data))
}

/// Why a document is not a template.
pub enum ParseError {
    Syntax(json::SyntaxError),
    Other(String),
}

const ROOT_FIELDS: &[&str] = &[
    "min_packer_version",
    "Description",
    "builders",
    "Comments",
    "Push",
    "post-processors",
    "Provisioners",
    "error-cleanup-provisioner",
    "Variables",
    "sensitive-variables",
    "RawContents",
];

/// The SDK's `template.Parse`.
pub fn parse(data: &[u8]) -> Result<LegacyTemplate, ParseError> {
    let raw = json::parse(data).map_err(ParseError::Syntax)?;
    if let Some(k) = json::first_duplicate(&raw) {
        return Err(ParseError::Other(format!(
            "template has duplicate field: {k}"
        )));
    }
    let other = |e: MsError| ParseError::Other(e.to_string());
    let root = decode::map("", &raw).map_err(other)?.unwrap_or_default();
    // The root struct, strictly (mapstructure without weak typing).
    let mut used: Vec<usize> = Vec::new();
    let mut f = Fields::default();
    let mut get = |name: &str| -> Option<J> {
        let i = root.iter().position(|(k, _)| k == name).or_else(|| {
            root.iter()
                .enumerate()
                .position(|(i, (k, _))| !used.contains(&i) && k.eq_ignore_ascii_case(name))
        })?;
        used.push(i);
        Some(root[i].1.clone())
    };
    let mut t = LegacyTemplate::default();
    let (mut builders, mut pps, mut provs, mut cleanup, mut vars, mut sensitive) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        J::Null,
        Vec::new(),
        Vec::new(),
    );
    for name in ROOT_FIELDS {
        let Some(v) = get(name) else { continue };
        match *name {
            "min_packer_version" => match decode::string(name, &v, false) {
                Ok(s) => t.min_version = s.unwrap_or_default(),
                Err(e) => f.push(e),
            },
            "Description" => match decode::string(name, &v, false) {
                Ok(s) => t.description = s.unwrap_or_default(),
                Err(e) => f.push(e),
            },
            "builders" => match decode::list(name, &v, false) {
                Ok(l) => builders = l,
                Err(e) => f.push(e),
            },
            "post-processors" => match decode::list(name, &v, false) {
                Ok(l) => pps = l,
                Err(e) => f.push(e),
            },
            "Provisioners" => match decode::list(name, &v, false) {
                Ok(l) => provs = l,
                Err(e) => f.push(e),
            },
            "error-cleanup-provisioner" => cleanup = v,
            "Variables" => match decode::map(name, &v) {
                Ok(m) => vars = m.unwrap_or_default(),
                Err(e) => f.push(e),
            },
            "sensitive-variables" => match decode::strings(name, &v, false) {
                Ok(l) => sensitive = l,
                Err(e) => f.push(e),
            },
            "Push" => {
                if let Err(e) = decode::map(name, &v) {
                    f.push(e)
                }
            }
            "Comments" => match decode::list(name, &v, false) {
                Ok(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let n = format!("{name}[{i}]");
                        match decode::map(&n, item) {
                            Ok(m) => {
                                for (k, v) in m.unwrap_or_default() {
                                    if let Err(e) = decode::string(&format!("{n}[{k}]"), &v, false)
                                    {
                                        f.push(e)
                                    }
                                }
                            }
                            Err(e) => f.push(e),
                        }
                    }
                }
                Err(e) => f.push(e),
            },
            _ => {}
        }
    }
    f.finish().map_err(other)?;
    // Keys no field took: `_…` comments (strings), anything else is unknown.
    let mut unused: Vec<&(String, J)> = root
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, e)| e)
        .collect();
    unused.sort_by(|a, b| a.0.cmp(&b.0));
    let mut errs = Vec::new();
    for (k, v) in unused {
        if k.starts_with('_') {
            if !matches!(v, J::Str(_)) {
                return Err(ParseError::Other(format!(
                    "Failed to cast root level comment value in comment \"{k}\" to string."
                )));
            }
            continue;
        }
        errs.push(format!("Unknown root level key in template: '{k}'"));
    }
    if !errs.is_empty() {
        return Err(ParseError::Other(multierror(&errs)));
    }
    let mut errs: Vec<String> = Vec::new();
    // Variables.
    for (k, raw) in &vars {
        match decode::string("", raw, false) {
            Ok(d) => {
                t.variables.insert(
                    k.clone(),
                    Variable {
                        default: d.unwrap_or_default(),
                        required: *raw == J::Null,
                    },
                );
                if sensitive.contains(k) {
                    t.sensitive.push(k.clone());
                }
            }
            Err(e) => errs.push(format!("variable {k}: {e}")),
        }
    }
    // Builders.
    for (i, raw) in builders.iter().enumerate() {
        let n = i + 1;
        let m = match decode::map("", raw) {
            Ok(m) => m.unwrap_or_default(),
            Err(e) => {
                errs.push(format!("builder {n}: {e}"));
                continue;
            }
        };
        let mut f = Fields::default();
        let mut name = String::new();
        let mut kind = String::new();
        for (field, slot) in [("Name", &mut name), ("Type", &mut kind)] {
            if let Some(v) = decode::field(&m, field) {
                match decode::string(field, v, true) {
                    Ok(s) => *slot = s.unwrap_or_default(),
                    Err(e) => f.push(e),
                }
            }
        }
        if let Some(v) = decode::field(&m, "Config")
            && let Err(e) = decode::map("Config", v)
        {
            f.push(e);
        }
        if let Err(e) = f.finish() {
            errs.push(format!("builder {n}: {e}"));
            continue;
        }
        let config: Vec<(String, J)> = m
            .into_iter()
            .filter(|(k, _)| k != "name" && k != "type")
            .collect();
        if kind.is_empty() {
            errs.push(format!("builder {n}: missing 'type'"));
            continue;
        }
        if name.is_empty() {
            name = kind.clone();
        }
        if t.builders.contains_key(&name) {
            errs.push(format!(
                "builder {n}: builder with name '{name}' already exists"
            ));
            continue;
        }
        t.builders
            .insert(name.clone(), Builder { name, kind, config });
    }
    // Post-processors.
    for (i, raw) in pps.iter().enumerate() {
        let n = i + 1;
        let configs: Vec<J> = match raw {
            J::Str(s) => vec![J::Obj(vec![("type".into(), J::Str(s.clone()))])],
            J::Obj(_) => vec![raw.clone()],
            J::Arr(items) => {
                let mut out = Vec::new();
                let mut bad = Vec::new();
                for (j, item) in items.iter().enumerate() {
                    match item {
                        J::Str(s) => out.push(J::Obj(vec![("type".into(), J::Str(s.clone()))])),
                        J::Obj(_) => out.push(item.clone()),
                        J::Arr(_) => bad.push(format!(
                            "post-processor {n}.{}: sequence not allowed to be nested in a sequence",
                            j + 1
                        )),
                        _ => bad.push(format!("post-processor {n}.{}: unknown format", j + 1)),
                    }
                }
                if !bad.is_empty() {
                    errs.extend(bad);
                    continue;
                }
                out
            }
            _ => {
                errs.push(format!("post-processor {n}: bad format"));
                continue;
            }
        };
        let mut chain = Vec::new();
        for (j, c) in configs.iter().enumerate() {
            let at = format!("post-processor {n}.{}", j + 1);
            let m = match decode::map("", c) {
                Ok(m) => m.unwrap_or_default(),
                Err(e) => {
                    errs.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let mut f = Fields::default();
            let oe = only_except(&m, false, &mut f);
            let mut name = String::new();
            let mut kind = String::new();
            for (field, slot) in [("Name", &mut name), ("Type", &mut kind)] {
                if let Some(v) = decode::field(&m, field) {
                    match decode::string(field, v, false) {
                        Ok(s) => *slot = s.unwrap_or_default(),
                        Err(e) => f.push(e),
                    }
                }
            }
            let mut keep = None;
            if let Some(v) = decode::field(&m, "keep_input_artifact") {
                match decode::boolean("keep_input_artifact", v, false) {
                    Ok(b) => keep = b,
                    Err(e) => f.push(e),
                }
            }
            if let Some(v) = decode::field(&m, "Config")
                && let Err(e) = decode::map("Config", v)
            {
                f.push(e);
            }
            if let Err(e) = f.finish() {
                errs.push(format!("{at}: {e}"));
                continue;
            }
            if kind.is_empty() {
                errs.push(format!("{at}: type is required"));
                continue;
            }
            if name.is_empty() {
                name = kind.clone();
            }
            let config = m
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "except" | "only" | "keep_input_artifact" | "type" | "name"
                    )
                })
                .collect();
            chain.push(PostProcessor {
                name,
                kind,
                oe,
                keep_input_artifact: keep,
                config,
            });
        }
        t.post_processors.push(chain);
    }
    // Provisioners.
    for (i, raw) in provs.iter().enumerate() {
        match decode_provisioner(raw) {
            Ok(p) => t.provisioners.push(p),
            Err(e) => errs.push(format!("provisioner {}: {e}", i + 1)),
        }
    }
    if cleanup != J::Null {
        match decode_provisioner(&cleanup) {
            Ok(p) => t.cleanup = Some(p),
            Err(e) => errs.push(format!("On Error Cleanup Provisioner error: {e}")),
        }
    }
    if !errs.is_empty() {
        return Err(ParseError::Other(multierror(&errs)));
    }
    Ok(t)
}

fn only_except(m: &[(String, J)], weak: bool, f: &mut Fields) -> OnlyExcept {
    let mut oe = OnlyExcept::default();
    for (field, slot) in [("Only", &mut oe.only), ("Except", &mut oe.except)] {
        if let Some(v) = decode::field(m, field) {
            match decode::strings(field, v, weak) {
                Ok(l) => *slot = l,
                Err(e) => f.push(e),
            }
        }
    }
    oe
}

/// The SDK's `decodeProvisioner` (weakly typed).
fn decode_provisioner(raw: &J) -> Result<Provisioner, String> {
    let wrap = |e: MsError| format!("Error decoding provisioner: {e}");
    let m = decode::map("", raw).map_err(wrap)?.unwrap_or_default();
    let mut f = Fields::default();
    let mut p = Provisioner {
        oe: only_except(&m, true, &mut f),
        ..Provisioner::default()
    };
    if let Some(v) = decode::field(&m, "Type") {
        match decode::string("Type", v, true) {
            Ok(s) => p.kind = s.unwrap_or_default(),
            Err(e) => f.push(e),
        }
    }
    if let Some(v) = decode::field(&m, "max_retries") {
        match decode::string("max_retries", v, true) {
            Ok(s) => p.max_retries = s.unwrap_or_default(),
            Err(e) => f.push(e),
        }
    }
    for (field, slot) in [
        ("pause_before", &mut p.pause_before),
        ("timeout", &mut p.timeout),
    ] {
        if let Some(v) = decode::field(&m, field) {
            match decode::go_duration(field, v, true) {
                Ok(d) => *slot = d.unwrap_or_default(),
                Err(e) => f.push(e),
            }
        }
    }
    for field in ["Config", "Override"] {
        if let Some(v) = decode::field(&m, field) {
            match decode::map(field, v) {
                Ok(o) if field == "Override" => p.overrides = o.unwrap_or_default(),
                Ok(_) => {}
                Err(e) => f.push(e),
            }
        }
    }
    f.finish().map_err(wrap)?;
    if p.kind.is_empty() {
        return Err("Provisioner missing 'type'".into());
    }
    p.config = m
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "except"
                    | "only"
                    | "override"
                    | "pause_before"
                    | "max_retries"
                    | "type"
                    | "timeout"
            )
        })
        .collect();
    Ok(p)
}

/// hashicorp/go-version's `NewVersion` and `String()`: segments (at least three), a
/// pre-release and metadata.
fn go_version(s: &str) -> Result<(Vec<u64>, String, String), String> {
    let re = regex::Regex::new(
        r"^v?([0-9]+(\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?$",
    )
    .expect("version pattern");
    let c = re
        .captures(s)
        .ok_or_else(|| format!("malformed version: {s}"))?;
    let mut segs: Vec<u64> = Vec::new();
    for p in c.get(1).map_or("", |m| m.as_str()).split('.') {
        segs.push(
            p.parse()
                .map_err(|e| format!("error parsing version: {e}"))?,
        );
    }
    while segs.len() < 3 {
        segs.push(0);
    }
    let pre = c
        .get(7)
        .or(c.get(4))
        .map_or(String::new(), |m| m.as_str().to_string());
    let meta = c.get(10).map_or(String::new(), |m| m.as_str().to_string());
    Ok((segs, pre, meta))
}

fn version_string((segs, pre, meta): &(Vec<u64>, String, String)) -> String {
    let mut s = segs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    if !pre.is_empty() {
        s.push('-');
        s.push_str(pre);
    }
    if !meta.is_empty() {
        s.push('+');
        s.push_str(meta);
    }
    s
}

/// go-version's comparison (segments, then a pre-release sorts before its release).
fn version_less(a: &(Vec<u64>, String, String), b: &(Vec<u64>, String, String)) -> bool {
    let n = a.0.len().max(b.0.len());
    for i in 0..n {
        let (x, y) = (
            a.0.get(i).copied().unwrap_or(0),
            b.0.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x < y;
        }
    }
    match (a.1.is_empty(), b.1.is_empty()) {
        (false, true) => true,
        (true, false) => false,
        _ => a.1 < b.1,
    }
}

impl LegacyTemplate {
    /// The SDK's `Template.Validate`: at least one builder, provisioners' and
    /// post-processors' `only`/`except` and provisioners' `override` naming builders. The
    /// errors, in the SDK's order.
    pub fn validate(&self) -> Vec<String> {
        let t = self;
        let mut errs = Vec::new();
        if t.builders.is_empty() {
            errs.push("at least one builder must be defined".to_string());
        }
        for (i, p) in t.provisioners.iter().enumerate() {
            for e in p.oe.validate(t) {
                errs.push(format!("provisioner {}: {e}", i + 1));
            }
            let mut names: Vec<&String> = p.overrides.iter().map(|(k, _)| k).collect();
            names.sort();
            for name in names {
                if !t.builders.contains_key(name) {
                    errs.push(format!(
                        "provisioner {}: override '{name}' doesn't exist",
                        i + 1
                    ));
                }
            }
        }
        for (i, chain) in t.post_processors.iter().enumerate() {
            for (j, p) in chain.iter().enumerate() {
                for e in p.oe.validate(t) {
                    errs.push(format!("post-processor {}.{}: {e}", i + 1, j + 1));
                }
            }
        }
        errs
    }
}

/// The legacy core after `Initialize`: user variables rendered, builds named.
#[derive(Clone, Debug, Default)]
pub struct Core {
    pub template: LegacyTemplate,
    /// `-var` and `-var-file` values, then every variable rendered.
    pub variables: BTreeMap<String, String>,
    /// Values of the sensitive variables (masked in every output).
    pub secrets: Vec<String>,
    /// Interpolated build name → builder.
    pub builds: BTreeMap<String, Builder>,
}

impl Core {
    /// `NewCore`: the template with the command line's variables (`-var` over `-var-file`).
    pub fn new(template: LegacyTemplate, variables: BTreeMap<String, String>) -> Core {
        Core {
            template,
            variables,
            ..Core::default()
        }
    }

    /// The interpolation context of the core (`Core.Context`).
    pub fn context(&self) -> render::Context {
        render::Context {
            user: self.variables.clone(),
            packer_version: crate::template::PACKER_VERSION.into(),
            template_path: Some(self.template.path.clone()),
            ..Default::default()
        }
    }

    /// `Core.Initialize`: validation, variables, build names. The error is the detail of
    /// Packer's diagnostic (it has no summary).
    pub fn initialize(&mut self) -> Result<(), String> {
        self.validate()?;
        self.render_variables()?;
        let t = &self.template;
        let sensitive: Vec<String> = t
            .sensitive
            .iter()
            .filter_map(|k| self.variables.get(k).cloned())
            .collect();
        self.secrets = sensitive;
        let ctx = self.context();
        let mut builds = BTreeMap::new();
        for b in t.builders.values() {
            let name = render::render(&b.name, &ctx)
                .map_err(|e| format!("Error interpolating builder '{}': {e}", b.name))?;
            builds.insert(name, b.clone());
        }
        self.builds = builds;
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        let t = &self.template;
        let errs = t.validate();
        if !errs.is_empty() {
            return Err(multierror(&errs));
        }
        if !t.min_version.is_empty() {
            let actual = go_version(crate::template::PACKER_VERSION).expect("own version");
            let min =
                go_version(&t.min_version).map_err(|e| format!("min_version is invalid: {e}"))?;
            if version_less(&actual, &min) {
                return Err(format!(
                    "This template requires Packer version {} or higher; using {}",
                    version_string(&min),
                    version_string(&actual)
                ));
            }
        }
        let missing: Vec<String> = t
            .variables
            .iter()
            .filter(|(k, v)| v.required && !self.variables.contains_key(*k))
            .map(|(k, _)| format!("required variable not set: {k}"))
            .collect();
        if !missing.is_empty() {
            return Err(multierror(&missing));
        }
        Ok(())
    }

    /// `renderVarsRecursively`: every variable (template defaults under the command line's
    /// values) rendered with `env` allowed and `user` failing on unset names, in sorted
    /// order, up to 100 passes so variables can build on one another.
    fn render_variables(&mut self) -> Result<(), String> {
        let mut ctx = self.context();
        ctx.enable_env = true;
        ctx.user = BTreeMap::new();
        let mut all: BTreeMap<String, String> = self
            .template
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.default.clone()))
            .collect();
        for (k, v) in &self.variables {
            all.insert(k.clone(), v.clone());
        }
        let mut pending: Vec<(String, String)> = all.into_iter().collect();
        let filter = regex::Regex::new(r"\{\{(\s|)\.(.*?)(\s|)\}\}").expect("filter");
        let done_re = regex::Regex::new(r"\{\{\s*user\s*`.*`\s*\}\}").expect("user");
        let (mut should_retry, mut changed) = (false, false);
        let mut failed = String::new();
        for _ in 0..100 {
            should_retry = false;
            changed = false;
            let mut done = Vec::new();
            for (k, v) in &pending {
                // `RenderRegex`: `{{.X}}` references are kept for later.
                let mut held = Vec::new();
                let mut text = v.clone();
                for (n, m) in filter.find_iter(v).enumerate() {
                    let id = format!("\u{0}held{n}\u{0}");
                    text = text.replace(m.as_str(), &id);
                    held.push((id, m.as_str().to_string()));
                }
                match render::render_once(&text, &ctx) {
                    Ok(mut r) => {
                        for (id, orig) in &held {
                            r = r.replace(id, orig);
                        }
                        changed = true;
                        self.variables.insert(k.clone(), r);
                        ctx.user = self.variables.clone();
                        if done_re.is_match(v) {
                            should_retry = true;
                        } else {
                            done.push(k.clone());
                        }
                    }
                    Err(e) if e.exec && e.msg.contains(render::VARIABLE_NOT_SET) => {
                        should_retry = true;
                        failed = format!("\"{k}\": \"{v}\"; error: {e}");
                    }
                    Err(e) if e.exec => return Err(e.msg),
                    Err(e) => {
                        return Err(format!("error interpolating default value for '{k}': {e}"));
                    }
                }
            }
            if !should_retry {
                break;
            }
            pending.retain(|(k, _)| !done.contains(k));
        }
        if !changed && should_retry {
            return Err(format!(
                "Failed to interpolate {failed}: Please make sure that the variable you're \
                 referencing has been defined; Packer treats all variables used to interpolate \
                 other user variables as required."
            ));
        }
        Ok(())
    }

    /// `Core.BuildNames`: the build names `-only`/`-except` select (exact names), sorted.
    pub fn build_names(&self, only: &[String], except: &[String]) -> Vec<String> {
        self.builds
            .keys()
            .filter(|n| only.is_empty() || only.contains(n))
            .filter(|n| !except.contains(n))
            .cloned()
            .collect()
    }

    /// `Core.EvaluateExpression` (console): the output, whether to exit, and an error's
    /// detail.
    pub fn evaluate(&self, line: &str) -> (String, bool, Option<String>) {
        match line {
            "" => (String::new(), false, None),
            "exit" => (String::new(), true, None),
            "help" => (CONSOLE_HELP.to_string(), false, None),
            "variables" => {
                let mut s = String::from("\n");
                for (k, v) in &self.variables {
                    s.push_str(&format!("{k}: {v},\n"));
                }
                (s, false, None)
            }
            _ => match render::render(line, &self.context()) {
                Ok(r) => (r, false, None),
                Err(e) => (String::new(), false, Some(e.msg)),
            },
        }
    }

    /// `Core.InspectConfig`'s text (each `ui.Say` a line).
    pub fn inspect(&self) -> String {
        let mut out = String::new();
        for line in self.inspect_lines() {
            if let UiLine::Say(s) = line {
                out.push_str(&s);
                out.push('\n');
            }
        }
        out
    }

    /// `Core.InspectConfig`'s calls of its UI, in order: what it says and the
    /// machine-readable lines (`template-variable`, `template-builder`,
    /// `template-provisioner`) that only the machine-readable UI prints.
    pub fn inspect_lines(&self) -> Vec<UiLine> {
        let t = &self.template;
        let mut out = vec![UiLine::Say("Packer Inspect: JSON mode".into())];
        let say = |out: &mut Vec<UiLine>, s: &str| out.push(UiLine::Say(s.to_string()));
        let machine = |out: &mut Vec<UiLine>, kind: &'static str, data: Vec<String>| {
            out.push(UiLine::Machine(kind, data))
        };
        if !t.description.is_empty() {
            say(&mut out, "Description:\n");
            say(&mut out, &format!("{}\n", t.description));
        }
        // A sensitive variable's default masks every default equal to it.
        let sensitive_defaults: Vec<String> = t
            .sensitive
            .iter()
            .filter_map(|k| t.variables.get(k).map(|v| v.default.clone()))
            .collect();
        let shown = |v: &Variable| {
            if sensitive_defaults.contains(&v.default) {
                "<sensitive>".to_string()
            } else {
                v.default.clone()
            }
        };
        if t.variables.is_empty() {
            say(&mut out, "Variables:\n");
            say(&mut out, "  <No variables>");
        } else {
            // Packer lists the required ones in Go map order (random); Kiln sorts them.
            let required: Vec<(&String, &Variable)> =
                t.variables.iter().filter(|(_, v)| v.required).collect();
            if !required.is_empty() {
                say(&mut out, "Required variables:\n");
                for (k, v) in &required {
                    let data = vec![k.to_string(), shown(v), "1".into()];
                    machine(&mut out, "template-variable", data);
                    say(&mut out, &format!("  {k}"));
                }
                say(&mut out, "");
            }
            say(&mut out, "Optional variables and their defaults:\n");
            let max = t.variables.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &t.variables {
                if v.required {
                    continue;
                }
                let data = vec![k.clone(), shown(v), "0".into()];
                machine(&mut out, "template-variable", data);
                say(
                    &mut out,
                    &format!("  {k}{} = {}", " ".repeat(max - k.len()), shown(v)),
                );
            }
        }
        say(&mut out, "");
        say(&mut out, "Builders:\n");
        if t.builders.is_empty() {
            say(&mut out, "  <No builders>");
        } else {
            let max = t.builders.keys().map(String::len).max().unwrap_or(0);
            for (k, b) in &t.builders {
                let mut line = format!("  {k}{}", " ".repeat(max - k.len()));
                if b.name != b.kind {
                    line.push_str(&format!(" ({})", b.kind));
                }
                machine(
                    &mut out,
                    "template-builder",
                    vec![k.clone(), b.kind.clone()],
                );
                say(&mut out, &line);
            }
        }
        say(&mut out, "");
        say(&mut out, "Provisioners:\n");
        if t.provisioners.is_empty() {
            say(&mut out, "  <No provisioners>");
        } else {
            for p in &t.provisioners {
                machine(&mut out, "template-provisioner", vec![p.kind.clone()]);
                say(&mut out, &format!("  {}", p.kind));
            }
        }
        say(
            &mut out,
            "\nNote: If your build names contain user variables or template\n\
             functions such as 'timestamp', these are processed at build time,\n\
             and therefore only show in their raw form here.",
        );
        out
    }
}

/// One call of a command's UI: `ui.Say(text)` or `ui.Machine(kind, data...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UiLine {
    Say(String),
    Machine(&'static str, Vec<String>),
}

/// Packer's `ConsoleHelp` (JSON mode).
pub const CONSOLE_HELP: &str = "Packer console JSON Mode.
The Packer console allows you to experiment with Packer interpolations.
You may access variables in the Packer config you called the console with.

Type in the interpolation to test and hit <enter> to see the result.

\"variables\" will dump all available variables and their values.

\"{{timestamp}}\" will output the timestamp, for example \"1559855090\".

To exit the console, type \"exit\" and hit <enter>, or use Control-C.

/!\\ If you would like to start console in hcl2 mode without a config you can
use the --config-type=hcl2 option.";

/// Packer's `kvflag.FlagJSON`: a `-var-file` read as a JSON object of strings. The error is
/// the text Packer prints.
pub fn read_var_file(path: &Path, into: &mut BTreeMap<String, String>) -> Result<(), String> {
    let data = std::fs::read(path)
        .map_err(|e| format!("open {}: {}", path.display(), crate::template::go_errno(&e)))?;
    let v = json::parse(&data)
        .map_err(|e| format!("Error reading variables in '{}': {}", path.display(), e.msg))?;
    match v {
        J::Obj(m) => {
            for (k, v) in json::dedup(&m) {
                match v {
                    J::Str(s) => {
                        into.insert(k, s);
                    }
                    other => {
                        return Err(format!(
                            "Error reading variables in '{}': json: cannot unmarshal {} into Go value of type string",
                            path.display(),
                            go_json_kind(&other)
                        ));
                    }
                }
            }
            Ok(())
        }
        other => Err(format!(
            "Error reading variables in '{}': json: cannot unmarshal {} into Go value of type map[string]string",
            path.display(),
            go_json_kind(&other)
        )),
    }
}

/// How `encoding/json`'s `UnmarshalTypeError` names a JSON value.
fn go_json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Num(_) => "number",
        J::Str(_) => "string",
        J::Arr(_) => "array",
        J::Obj(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_go_version() {
        let v = go_version("101").unwrap();
        assert_eq!(version_string(&v), "101.0.0");
        assert!(version_less(&go_version("1.16.0").unwrap(), &v));
        assert!(!version_less(
            &go_version("1.16.0").unwrap(),
            &go_version("1.5.0").unwrap()
        ));
        assert_eq!(
            go_version("one.two").unwrap_err(),
            "malformed version: one.two"
        );
    }

    #[test]
    fn templates_parse_and_validate() {
        let t = parse(
            br#"{"variables": {"a": "x", "b": "{{user `a`}}y", "r": null},
                 "builders": [{"type": "null"}, {"type": "null", "name": "two"}],
                 "post-processors": ["manifest", [{"type": "checksum"}, "compress"]]}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(t.builders.len(), 2);
        assert_eq!(t.post_processors[1].len(), 2);
        let mut c = Core::new(t, BTreeMap::new());
        assert_eq!(
            c.initialize().unwrap_err(),
            "1 error occurred:\n\t* required variable not set: r\n\n"
        );
        c.variables.insert("r".into(), "v".into());
        c.initialize().unwrap();
        assert_eq!(c.variables["b"], "xy");
        assert_eq!(
            c.build_names(&[], &["two".into()]),
            vec!["null".to_string()]
        );
    }
}
