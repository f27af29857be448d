//! Packer HCL2 templates: loading files, the top-level blocks, variables and their precedence,
//! locals and data sources as one dependency graph, and build/source decoding.

pub mod body;
pub mod build;
pub mod dynamic;
pub mod json;
pub mod locals;
pub mod registry;
pub mod variables;
pub mod version;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::Span;
use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics, SourceFile, Subject};
use crate::value::Value;
pub use body::{
    ConfigReader, EvalEnv, INTERPOLATION_ERROR, RawAttr, RawBlock, RawBody, multi_error,
};
pub use variables::{VarInputs, Variable};

/// The Packer version Kiln's template language matches (`packer.version`,
/// `required_version` checks).
pub const PACKER_VERSION: &str = "1.16.0";

/// A declared `source "type" "name"` block.
#[derive(Clone, Debug)]
pub struct SourceDecl {
    pub kind: String,
    pub name: String,
    pub block: RawBlock,
}

impl SourceDecl {
    pub fn reference(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

/// A declared `data "type" "name"` block.
#[derive(Clone, Debug)]
pub struct DataDecl {
    pub kind: String,
    pub name: String,
    pub block: RawBlock,
}

/// A declared local value.
#[derive(Clone, Debug)]
pub struct LocalDecl {
    pub name: String,
    pub attr: RawAttr,
    pub sensitive: bool,
    /// Which `locals` (or `local`) block declares it, counted from 0 in the template: Packer
    /// takes a `locals` block's attributes from a Go map, in no set order.
    pub block: usize,
}

/// `packer { required_plugins { … } }` entry.
#[derive(Clone, Debug)]
pub struct RequiredPlugin {
    pub local_name: String,
    pub source: String,
    pub version: String,
    pub subject: Option<Subject>,
    /// The value's range as Go prints an `hcl.Range` (`file:3,14-6,6`).
    pub decl_range: String,
}

/// A loaded template: every file's blocks, decoded into declarations. Values are filled in by
/// [`Template::evaluate`].
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// `path.root`: the template directory (or the file's directory).
    pub root: PathBuf,
    /// True when the template was a directory (auto var files apply).
    pub is_dir: bool,
    pub files: Vec<Arc<SourceFile>>,
    pub required_version: Option<(String, Option<Subject>)>,
    pub required_plugins: Vec<RequiredPlugin>,
    pub variables: IndexMap<String, Variable>,
    pub locals: Vec<LocalDecl>,
    pub data: IndexMap<String, DataDecl>,
    pub sources: IndexMap<String, SourceDecl>,
    pub builds: Vec<RawBlock>,
    /// Top-level `hcp_packer_registry` blocks, decoded once variables, locals and data
    /// sources are known ([`registry`]).
    pub registry: Vec<RawBlock>,
    /// Values after evaluation.
    pub var_values: BTreeMap<String, Value>,
    pub local_values: BTreeMap<String, Value>,
    /// The types of the locals' values where Kiln knows more than their values tell (see
    /// [`crate::hcl::describe`]).
    pub local_types: BTreeMap<String, crate::hcl::types::Type>,
    /// Data source outputs by `type.name` (unknown under `validate`).
    pub data_values: BTreeMap<String, Value>,
    /// Strings to mask in every output: values of sensitive variables and locals.
    pub sensitive: Vec<String>,
    /// Names of sensitive variables.
    pub sensitive_vars: Vec<String>,
    /// Errors Packer finds only once variables and locals are evaluated (its `parseConfig`
    /// in `Initialize`), not when parsing: a source declared twice. `validate -syntax-only`,
    /// `inspect` and `console` do not report them.
    pub init_diags: Diagnostics,
    /// Errors Packer finds when it looks for the required plugins (`validate`, `build`):
    /// a plugin required twice.
    pub plugin_diags: Diagnostics,
}

/// Lists the template files of a path as Packer does: one file, or the `*.pkr.hcl` and
/// `*.pkr.json` files directly in a directory, the HCL files then the JSON ones, each in
/// lexical order.
pub fn template_files(path: &Path) -> Result<(Vec<PathBuf>, bool), Diagnostic> {
    // Packer's `GetHCL2Files`: a path it cannot stat is an error with no summary and Go's
    // `stat` error as its detail.
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::error("", format!("stat {}: {}", path.display(), go_errno(&e))))?;
    if meta.is_file() {
        return Ok((vec![path.to_path_buf()], false));
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|e| {
        Diagnostic::error(
            "Cannot read hcl directory",
            format!("open {}: {}", path.display(), go_errno(&e)),
        )
    })?;
    for entry in entries.flatten() {
        // Go's filepath.Join: `./x.pkr.hcl` is named `x.pkr.hcl`, `dir/` + x `dir/x.pkr.hcl`.
        let p = go_clean(&entry.path());
        let name = entry.file_name().to_string_lossy().to_string();
        if (name.ends_with(".pkr.hcl") || name.ends_with(".pkr.json")) && p.is_file() {
            files.push(p);
        }
    }
    // GetHCL2Files lists a directory by name; Parse reads its HCL files, then its JSON ones.
    files.sort_by_cached_key(|p| (p.to_string_lossy().ends_with(".pkr.json"), p.clone()));
    if files.is_empty() {
        return Err(Diagnostic::error(
            format!("Could not find any config file in {}", path.display()),
            "A config file must be suffixed with `.pkr.hcl` or `.pkr.json`. A folder can be referenced.",
        ));
    }
    Ok((files, true))
}

/// Go's `filepath.Clean`, lexically: no `.` elements, no repeated or trailing slashes, `..`
/// resolved against a preceding name; `.` for an empty result.
pub fn go_clean(p: &Path) -> PathBuf {
    let s = p.to_string_lossy();
    let rooted = s.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    PathBuf::from(match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    })
}

/// An I/O error as Go's `syscall.Errno` prints it (`no such file or directory`): the C
/// library's text with a lower-case first letter, without Rust's `(os error N)`.
pub fn go_errno(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.rfind(" (os error ") {
        Some(i) => &s[..i],
        None => &s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The root's block types in hcl2template's `configSchema` order (its suggestions take the
/// first close one).
const ROOT_SCHEMA: &[&str] = &[
    "packer",
    "source",
    "variables",
    "variable",
    "locals",
    "local",
    "data",
    "build",
    "hcp_packer_registry",
    "communicator",
];

/// A template file's path and text.
type SourceText = (PathBuf, String);

/// The labels of each root block (hcl2template's `configSchema`); `None`: not a root block.
fn root_labels(ident: &str) -> Option<&'static [&'static str]> {
    Some(match ident {
        "packer" | "variables" | "locals" | "build" | "hcp_packer_registry" => &[],
        "variable" | "local" => &["name"],
        "source" | "data" | "communicator" => &["type", "name"],
        _ => return None,
    })
}

impl Template {
    /// Parses every file of a template and decodes its top-level blocks. Reports all syntax
    /// and structure problems at once. `required_version` is checked before anything else.
    pub fn load(path: &Path) -> Result<(Template, Diagnostics), Diagnostics> {
        let (root, is_dir, sources) = Template::read_sources(path)?;
        Template::from_sources(root, is_dir, sources)
    }

    /// The template's files (a file, or a directory's `.pkr.hcl`/`.pkr.json` files) with
    /// their text, its root directory and whether it is a directory.
    fn read_sources(path: &Path) -> Result<(PathBuf, bool, Vec<SourceText>), Diagnostics> {
        let (paths, is_dir) = template_files(path).map_err(Diagnostics::from)?;
        let root = if is_dir {
            path.to_path_buf()
        } else {
            path.parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."))
        };
        let mut sources = Vec::new();
        for p in &paths {
            match std::fs::read_to_string(p) {
                Ok(text) => sources.push((p.clone(), text)),
                Err(e) => {
                    return Err(Diagnostic::error(
                        "Failed to read file",
                        format!("Could not read {}: {e}.", p.display()),
                    )
                    .into());
                }
            }
        }
        Ok((root, is_dir, sources))
    }

    /// Like [`Template::load`], from file contents (used for templates stored in resources).
    pub fn from_sources(
        root: PathBuf,
        is_dir: bool,
        files: Vec<(PathBuf, String)>,
    ) -> Result<(Template, Diagnostics), Diagnostics> {
        match Template::from_sources_partial(root, is_dir, files) {
            Ok((_, diags)) if diags.has_errors() => Err(diags),
            other => other,
        }
    }

    /// [`Template::load`], keeping the template when its blocks have errors (`Ok` with
    /// errors among the diagnostics), as Packer's `Parse` goes on to collect the variable
    /// values given; `Err` for what stops `Parse` (files that cannot be read or parsed, an
    /// unsupported `required_version`).
    pub fn load_partial(path: &Path) -> Result<(Template, Diagnostics), Diagnostics> {
        let (root, is_dir, sources) = Template::read_sources(path)?;
        Template::from_sources_partial(root, is_dir, sources)
    }

    /// [`Template::from_sources`], keeping the template when its blocks have errors (see
    /// [`Template::load_partial`]).
    pub fn from_sources_partial(
        root: PathBuf,
        is_dir: bool,
        files: Vec<(PathBuf, String)>,
    ) -> Result<(Template, Diagnostics), Diagnostics> {
        let mut t = Template {
            root,
            is_dir,
            ..Template::default()
        };
        let mut diags = Diagnostics::new();
        let mut bodies = Vec::new();
        for (path, text) in files {
            if path.to_string_lossy().ends_with(".json") {
                // hcl json's syntax errors, all of them, with the contexts its partial tree
                // gives (also for what Kiln's reader accepts, as `01`).
                let (errors, partial) = crate::hcl::json_syntax_diag::json_errors(&text);
                if !errors.is_empty() {
                    let file = SourceFile::new(&path, text.clone());
                    file.set_json(text.clone(), vec![(0, 0)], partial);
                    for e in errors {
                        diags.push(
                            Diagnostic::error(e.summary, e.detail).at(file.json_subject(e.range)),
                        );
                    }
                    continue;
                }
                match json::parse(&text) {
                    // Kiln's reader's one error where hcl json finds none.
                    Err(e) => {
                        let file = SourceFile::new(&path, text.clone());
                        file.set_json_context(e.context);
                        diags.push(
                            Diagnostic::error(e.summary, e.detail)
                                .at(file.subject(e.offset..e.offset + 1)),
                        );
                    }
                    Ok(root) => match json::to_native(&text, &root) {
                        Err(d) => {
                            let file = SourceFile::new(&path, text.clone());
                            file.set_json_context(String::new());
                            let d = d.at(file.subject(root.span.start..root.span.start + 1));
                            // hcl json says it on each look into the body, and Packer looks
                            // six times before it stops.
                            for _ in 0..6 {
                                diags.push(d.clone());
                            }
                        }
                        Ok(converted) => {
                            let file = SourceFile::new(&path, converted.text);
                            file.set_json(text.clone(), converted.offsets, root);
                            if !converted.errors.is_empty() {
                                for (summary, detail, at) in converted.errors {
                                    let d = Diagnostic::error(summary, detail);
                                    diags.push(match at {
                                        Some(at) => d.at(file.json_subject(at..at + 1)),
                                        None => d,
                                    });
                                }
                                t.files.push(file);
                                continue;
                            }
                            match crate::hcl::lenient::parse_body(&file) {
                                Ok(b) => bodies.push((file.clone(), b)),
                                // The structure is made here: what does not parse is a
                                // string's template, whose errors hcl json reports without
                                // the source (hclsyntax parses the string on its own).
                                Err(e) => {
                                    diags.push(parse_error(&file, &e));
                                    crate::diag::forget(&file.name);
                                }
                            }
                            t.files.push(file);
                        }
                    },
                }
                continue;
            }
            let file = SourceFile::new(&path, text);
            match crate::hcl::lenient::parse_body(&file) {
                // hcl-edit accepts a few things hclsyntax refuses (a newline in a quoted
                // string, `a.0.1`, `a.*.*`): Packer reports them.
                Ok(b) => match hclsyntax_refuses(&file) {
                    Some(errors) => {
                        for d in errors {
                            diags.push(d);
                        }
                    }
                    None => bodies.push((file.clone(), b)),
                },
                Err(e) => {
                    for d in syntax_errors(&file, &e) {
                        diags.push(d);
                    }
                }
            }
            t.files.push(file);
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let raw: Vec<RawBody> = bodies
            .iter()
            .map(|(f, b)| RawBody::from_body(b, f))
            .collect();

        // 1. required_version first (Packer's sniffCoreVersionRequirements, which reads the
        // `packer` blocks alone and drops a labelled one): a mismatch stops everything else.
        // File by file: the labelled blocks refused, then each block's content (unsupported
        // arguments and block types, reported again when its plugins are decoded) and its
        // constraint.
        for body in &raw {
            for b in body.blocks.iter().filter(|b| b.ident == "packer") {
                if !b.labels.is_empty() {
                    diags.push(extra_labels(b));
                }
            }
            for b in body
                .blocks
                .iter()
                .filter(|b| b.ident == "packer" && b.labels.is_empty())
            {
                for d in packer_block_content(b) {
                    diags.push(d);
                }
                if let Some(a) = b.body.attr("required_version") {
                    match variables::eval_without_context(a) {
                        // Packer's decodeVersionConstraint: null is no constraint.
                        Ok(Value::Null | Value::Unknown) => {}
                        Ok(v) => {
                            let Some(c) = v.to_string_lossless() else {
                                diags.push(
                                    Diagnostic::error(
                                        "Invalid version constraint",
                                        "A string value is required for required_version.",
                                    )
                                    .with_subject(a.subject()),
                                );
                                continue;
                            };
                            match version::Constraint::parse(&c) {
                                Ok(cons) => {
                                    if !cons.matches(PACKER_VERSION) {
                                        diags.push(Diagnostic::error(
                                            "Unsupported Packer Core version",
                                            format!(
                                                "This configuration does not support Packer version {PACKER_VERSION}. To proceed, either choose another supported Packer version or update this version constraint. Version constraints are normally set for good reason, so updating the constraint may lead to other errors or unexpected behavior."
                                            ),
                                        )
                                        .with_subject(a.subject()));
                                        return Err(diags);
                                    }
                                    t.required_version = Some((c, a.subject()));
                                }
                                Err(_) => diags.push(
                                    Diagnostic::error(
                                        "Invalid version constraint",
                                        "This string does not use correct version constraint syntax. Check out the docs: https://packer.io/docs/templates/hcl_templates/blocks/packer#version-constraints",
                                    )
                                    .with_subject(a.subject()),
                                ),
                            }
                        }
                        Err(d) => diags.push(d),
                    }
                }
            }
        }

        // 2. The root schema.
        for body in &raw {
            for a in &body.attrs {
                diags.push(a.unsupported_in(body, &[], ROOT_SCHEMA));
            }
            // hcl's `Content`: an unknown block is refused, a block whose labels do not fit
            // its schema is reported and dropped (no later pass sees it).
            for b in &body.blocks {
                match root_labels(&b.ident) {
                    None => diags.push(b.unsupported_in(&[], ROOT_SCHEMA)),
                    Some(names) if b.labels.len() != names.len() => {
                        diags.push(label_count(b, names, &b.ident))
                    }
                    Some(_) => {}
                }
            }
        }

        // In Packer's order (hcl2template's Parse): each kind of block through every file
        // before the next kind, so diagnostics come in the same order.
        const PASSES: &[&[&str]] = &[
            &["packer"],
            &["variable", "variables"],
            &["data"],
            &["locals", "local"],
            &["source", "build", "hcp_packer_registry"],
        ];
        for pass in PASSES {
            for body in &raw {
                for b in body.blocks.iter().filter(|b| {
                    pass.contains(&b.ident.as_str())
                        && root_labels(&b.ident).is_some_and(|n| n.len() == b.labels.len())
                }) {
                    match b.ident.as_str() {
                        "packer" => t.decode_packer(b, &mut diags),
                        "variable" => variables::decode_variable(&mut t, b, &mut diags),
                        "variables" => variables::decode_variables(&mut t, b, &mut diags),
                        "locals" => locals::decode_locals(&mut t, b, &mut diags),
                        "local" => locals::decode_local(&mut t, b, &mut diags),
                        "source" => t.decode_source(b),
                        "data" => t.decode_data(b, &mut diags),
                        "build" => t.builds.push(b.clone()),
                        "hcp_packer_registry" => t.registry.push(b.clone()),
                        _ => {}
                    }
                }
            }
        }
        Ok((t, diags))
    }

    fn decode_packer(&mut self, b: &RawBlock, diags: &mut Diagnostics) {
        // Packer decodes the block twice (its version first, see `parse_files`, then its
        // plugins here) and reports the content errors of each pass.
        for d in packer_block_content(b) {
            diags.push(d);
        }
        for inner in &b.body.blocks {
            if inner.ident != "required_plugins" {
                continue;
            }
            for a in &inner.body.attrs {
                // Each entry is decoded (its errors reported), then the ones that decode are
                // gathered, a name seen before refused.
                let Some(p) = required_plugin(a, diags) else {
                    continue;
                };
                if let Some(prev) = self.required_plugins.iter().find(|p| p.local_name == a.key) {
                    // Packer's PluginRequirements: found only where plugins are looked for
                    // (`validate`, `build`), with no position but the first one's range.
                    self.plugin_diags.push(Diagnostic::error(
                        format!("Duplicate required_plugin.{:?} block", a.key),
                        format!(
                            "Block previously seen at {} is already named {:?}.\nNames at the left hand side of required_plugins are made available to use in your HCL2 configurations.\nTo allow to calling to their features correctly two plugins have to have different accessors.",
                            prev.decl_range, a.key
                        ),
                    ));
                    continue;
                }
                self.required_plugins.push(p);
            }
            for nested in &inner.body.blocks {
                diags.push(nested.unsupported());
            }
        }
    }

    fn decode_source(&mut self, b: &RawBlock) {
        let decl = SourceDecl {
            kind: b.labels[0].clone(),
            name: b.labels[1].clone(),
            block: b.clone(),
        };
        let key = decl.reference();
        if let Some(prev) = self.sources.get(&key) {
            self.init_diags.push(
                Diagnostic::error(
                    "Duplicate source block",
                    format!(
                        "This source block has the same builder type and name as a previous block declared at {}. Each source must have a unique name per builder type.",
                        prev.block.def_range()
                    ),
                )
                .with_subject(b.subject()),
            );
            return;
        }
        self.sources.insert(key, decl);
    }

    fn decode_data(&mut self, b: &RawBlock, diags: &mut Diagnostics) {
        let decl = DataDecl {
            kind: b.labels[0].clone(),
            name: b.labels[1].clone(),
            block: b.clone(),
        };
        let key = format!("{}.{}", decl.kind, decl.name);
        if let Some(prev) = self.data.get(&key) {
            diags.push(
                Diagnostic::error(
                    "Duplicate data block",
                    format!(
                        "This data block has the same data type and name as a previous block declared at {}. Each data must have a unique name per builder type.",
                        prev.block.def_range()
                    ),
                )
                .with_subject(b.subject()),
            );
            return;
        }
        self.data.insert(key, decl);
    }

    /// What `console` evaluates a line in: Packer's `EvalContext(NilContext)`: no `data`,
    /// `source` with an unknown type and name, `build` an unknown empty object (so
    /// `build.name` is an unsupported attribute).
    pub fn console_env(&self) -> EvalEnv {
        use crate::hcl::types::{Attr, Type};
        let mut env = self.base_env();
        let mut vars = (*env.vars).clone();
        let mut types = (*env.types).clone();
        vars.remove("data");
        types.remove("data");
        let unknown_string = || Attr {
            ty: Type::String,
            optional: false,
            default: None,
        };
        vars.insert(
            "source".to_string(),
            Value::Object(
                [
                    ("type".to_string(), Value::Unknown),
                    ("name".to_string(), Value::Unknown),
                ]
                .into_iter()
                .collect(),
            ),
        );
        types.insert(
            "source".to_string(),
            Type::Object(
                [
                    ("name".to_string(), unknown_string()),
                    ("type".to_string(), unknown_string()),
                ]
                .into_iter()
                .collect(),
            ),
        );
        vars.insert("build".to_string(), Value::Unknown);
        types.insert("build".to_string(), Type::Object(Default::default()));
        env.vars = std::sync::Arc::new(vars);
        env.types = std::sync::Arc::new(types);
        env
    }

    /// The values every expression sees: `var`, `local`, `data`, `path`, `packer`.
    pub fn base_env(&self) -> EvalEnv {
        let mut vars = BTreeMap::new();
        vars.insert("var".to_string(), Value::Object(self.var_values.clone()));
        vars.insert(
            "local".to_string(),
            Value::Object(self.local_values.clone()),
        );
        let data: BTreeMap<String, Value> = {
            let mut by_type: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
            for (key, outputs) in &self.data_values {
                let (kind, name) = key.split_once('.').unwrap_or((key, ""));
                by_type
                    .entry(kind.to_string())
                    .or_default()
                    .insert(name.to_string(), outputs.clone());
            }
            by_type
                .into_iter()
                .map(|(k, v)| (k, Value::Object(v)))
                .collect()
        };
        vars.insert("data".to_string(), Value::Object(data));
        vars.insert("path".to_string(), self.path_value());
        let mut packer = BTreeMap::new();
        packer.insert("version".to_string(), Value::str(PACKER_VERSION));
        packer.insert("versionFingerprint".to_string(), Value::Unknown);
        packer.insert("iterationID".to_string(), Value::Unknown);
        vars.insert("packer".to_string(), Value::Object(packer));
        let attr = |ty: crate::hcl::types::Type| crate::hcl::types::Attr {
            ty,
            optional: false,
            default: None,
        };
        let mut types = crate::hcl::describe::RootTypes::new();
        types.insert(
            "var".to_string(),
            crate::hcl::types::Type::Object(
                self.var_values
                    .iter()
                    .map(|(k, v)| {
                        let declared = self.variables.get(k).and_then(|d| d.ty.as_ref());
                        (k.clone(), attr(crate::hcl::describe::concrete(v, declared)))
                    })
                    .collect(),
            ),
        );
        types.insert(
            "local".to_string(),
            crate::hcl::types::Type::Object(
                self.local_values
                    .iter()
                    .map(|(k, v)| {
                        let known = self.local_types.get(k);
                        (k.clone(), attr(crate::hcl::describe::concrete(v, known)))
                    })
                    .collect(),
            ),
        );
        EvalEnv {
            types: std::sync::Arc::new(types),
            vars: std::sync::Arc::new(vars),
            overlay: BTreeMap::new(),
            funcs: crate::functions::FuncCtx {
                base_dir: self.root.clone(),
                allow_env: false,
            },
        }
    }

    fn path_value(&self) -> Value {
        let mut path = BTreeMap::new();
        path.insert(
            "root".to_string(),
            Value::str(self.root.to_string_lossy().replace('\\', "/")),
        );
        let cwd = std::env::current_dir()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        path.insert("cwd".to_string(), Value::str(cwd));
        Value::Object(path)
    }
}

pub(crate) fn parse_error(file: &Arc<SourceFile>, e: &hcl::edit::parser::Error) -> Diagnostic {
    let offset = e.location().offset();
    if let Some(d) = hclsyntax_words(file, e) {
        return d;
    }
    let (line, column) = file.position(offset);
    Diagnostic::error("Invalid HCL syntax", e.message().to_string()).at(Subject {
        file: file.name.clone(),
        line,
        column,
        end_line: line,
        end_column: column + 1,
        snippet: file.line_text(line).to_string(),
    })
}

/// The syntax errors of a native file hcl-edit refuses, as hclsyntax reports them (all of
/// them, in its order: see [`crate::hcl::syntax_diag`]); hcl-edit's one error in the rare
/// case hclsyntax finds none (where the two parsers disagree).
pub fn syntax_errors(file: &Arc<SourceFile>, e: &hcl::edit::parser::Error) -> Vec<Diagnostic> {
    let (errs, blocks) = crate::hcl::syntax_diag::config_errors(&file.text, &file.name);
    if errs.is_empty() {
        return vec![parse_error(file, e)];
    }
    file.set_syntax_blocks(blocks);
    errs
}

/// hclsyntax's errors for a file hcl-edit parsed, when it has any.
pub fn hclsyntax_refuses(file: &Arc<SourceFile>) -> Option<Vec<Diagnostic>> {
    let (errs, blocks) = crate::hcl::syntax_diag::config_errors(&file.text, &file.name);
    if errs.is_empty() {
        return None;
    }
    file.set_syntax_blocks(blocks);
    Some(errs)
}

/// The fallback for an error only hcl-edit finds (hclsyntax's port finds none, see
/// [`syntax_errors`]): hclsyntax's words where hcl-edit's message maps to one of its own, an
/// expression expected where another token stands ("Invalid expression", at that token: a
/// newline's range ends at the next line's start) or where the input ends ("Missing
/// expression"); `None` otherwise (hcl-edit's words stand).
pub fn hclsyntax_words(file: &Arc<SourceFile>, e: &hcl::edit::parser::Error) -> Option<Diagnostic> {
    let offset = e.location().offset();
    let msg = e.message();
    let rest = file.text.get(offset..)?;
    let at_end = rest.trim().is_empty();
    let missing = || {
        Diagnostic::error(
            "Missing expression",
            "Expected the start of an expression, but found the end of the file.",
        )
        .at(file.subject(offset..offset))
    };
    let d = match msg {
        m if m.contains("redefined attribute") => return redefined_attribute(file, offset),
        m if m.starts_with("invalid expression;") => match rest.chars().next() {
            Some(c) if !at_end || c == '\n' => Diagnostic::error(
                "Invalid expression",
                "Expected the start of an expression, but found an invalid expression token.",
            )
            .at(file.subject(offset..offset + c.len_utf8())),
            _ => missing(),
        },
        _ => return None,
    };
    Some(d)
}

/// hclsyntax's "Attribute redefined" for the key at `offset`, naming where the same body
/// set it first (the closest line before it, at the same indentation, setting that key).
fn redefined_attribute(file: &Arc<SourceFile>, offset: usize) -> Option<Diagnostic> {
    let text = &file.text;
    let rest = text.get(offset..)?;
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    if len == 0 {
        return None;
    }
    let key = &rest[..len];
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..offset];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let mut first = None;
    let mut pos = 0;
    for line in text[..line_start].split_inclusive('\n') {
        if let Some(after) = line.strip_prefix(indent)
            && after.starts_with(key)
            && after[len..].trim_start().starts_with('=')
            && !after[len..].trim_start().starts_with("==")
        {
            first = Some(pos + indent.len());
        }
        pos += line.len();
    }
    let first = first?;
    Some(
        Diagnostic::error(
            "Attribute redefined",
            format!(
                "The argument {} was already set at {}. Each argument may be set only once.",
                crate::value::go_quote(key),
                file.range_string(first..first + len)
            ),
        )
        .at(file.subject(offset..offset + len)),
    )
}

/// hcl's error for a block with labels where its schema has none (`PartialContent`).
pub(crate) fn extra_labels(b: &RawBlock) -> Diagnostic {
    label_count(b, &[], &b.ident)
}

/// hcl's errors for a block whose label count differs from its schema's `names`
/// (`Body.PartialContent`): extra labels, at the first one not expected; missing ones, at the
/// opening brace, naming the first missing label.
pub(crate) fn label_count(b: &RawBlock, names: &[&str], kind: &str) -> Diagnostic {
    let want = names.len();
    let listed = names.join(", ");
    if b.labels.len() > want {
        let detail = if want == 0 {
            format!("No labels are expected for {kind} blocks.")
        } else {
            format!("Only {want} labels ({listed}) are expected for {kind} blocks.")
        };
        Diagnostic::error(format!("Extraneous label for {kind}"), detail).with_subject(b.subject())
    } else {
        Diagnostic::error(
            format!("Missing {} for {kind}", names[b.labels.len()]),
            format!("All {kind} blocks must have {want} labels ({listed})."),
        )
        .with_subject(b.subject())
    }
}

/// A plugin local name normalised as Packer's `addrs.ParsePluginPart` does (a DNS label
/// through golang.org/x/net/idna's `Lookup` profile: UTS 46 mapping with the STD3 rules,
/// hyphens checked), with its error words. Exact for ASCII names (letters mapped to lower
/// case, `_` a disallowed rune, a leading or trailing dash an invalid label); other names go
/// through the `idna` crate's UTS 46 (its Unicode version, not Go's), an error naming the
/// first character it refuses, else the label.
pub(crate) fn plugin_part(given: &str) -> Result<String, String> {
    use idna::uts46::{AsciiDenyList, Hyphens, Uts46};
    if given.is_empty() {
        return Err("must have at least one character".into());
    }
    if given.contains('.') {
        return Err("dots are not allowed".into());
    }
    if given.contains("--") {
        return Err("cannot use multiple consecutive dashes".into());
    }
    let idna = |e: String| {
        format!(
            "must contain only letters, digits, and dashes, and may not use leading or trailing dashes: {e}"
        )
    };
    let rune = |c: char| idna(format!("idna: disallowed rune U+{:04X}", c as u32));
    if !given.is_ascii() {
        let uts46 = Uts46::new();
        let lookup = |s: &str| {
            let (mapped, r) = uts46.to_unicode(s.as_bytes(), AsciiDenyList::STD3, Hyphens::Check);
            (mapped.into_owned(), r.is_ok())
        };
        let (mapped, ok) = lookup(given);
        if ok {
            return Ok(mapped);
        }
        if let Some(c) = given.chars().find(|c| !lookup(&format!("a{c}a")).1) {
            return Err(rune(c));
        }
        return Err(idna(format!("idna: invalid label {mapped:?}")));
    }
    if let Some(c) = given
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(rune(c));
    }
    let mapped = given.to_ascii_lowercase();
    if mapped.starts_with('-') || mapped.ends_with('-') {
        return Err(idna(format!("idna: invalid label {mapped:?}")));
    }
    Ok(mapped)
}

/// What hcl's object constructor still gives when an element fails: the object, with that
/// element's value unknown (`None`: not an object constructor, or a key fails).
fn partial_object(a: &RawAttr) -> Option<Value> {
    let hcl::edit::expr::Expression::Object(o) = &a.expr else {
        return None;
    };
    let mut out = BTreeMap::new();
    for (k, v) in o.iter() {
        let key = match k {
            hcl::edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
            hcl::edit::expr::ObjectKey::Expression(e) => {
                let key = RawAttr {
                    expr: e.clone(),
                    ..a.clone()
                };
                variables::eval_without_context(&key)
                    .ok()?
                    .to_string_lossless()?
            }
        };
        let value = RawAttr {
            expr: v.expr().clone(),
            ..a.clone()
        };
        out.insert(
            key,
            variables::eval_without_context(&value).unwrap_or(Value::Unknown),
        );
    }
    Some(Value::Object(out))
}

/// One `required_plugins` entry, decoded as Packer's `decodeRequiredPluginsBlock` does, its
/// errors in Packer's words and order (`None`: the entry is left out, as Packer leaves it).
fn required_plugin(a: &RawAttr, diags: &mut Diagnostics) -> Option<RequiredPlugin> {
    let expr_subject = a.subject();
    // hcl's `attr.Range`: from the name to the end of the value.
    let attr_subject = match (a.key_span.clone(), a.expr.span()) {
        (Some(k), Some(e)) => Some(a.file.subject(k.start..e.end)),
        _ => expr_subject.clone(),
    };
    let value = match variables::eval_without_context(a) {
        Ok(v) => Some(v),
        Err(d) => {
            diags.push(d);
            partial_object(a)
        }
    };
    let name = &a.key;
    match plugin_part(name) {
        Err(e) => diags.push(
            Diagnostic::error(
                "Invalid plugin local name",
                format!("{name} is an invalid plugin local name: {e}"),
            )
            .with_subject(expr_subject.clone()),
        ),
        Ok(normal) if normal != *name => diags.push(
            Diagnostic::error(
                "Invalid plugin local name",
                format!("Plugin names must be normalized. Replace {name:?} with {normal:?} to fix this error."),
            )
            .with_subject(expr_subject.clone()),
        ),
        Ok(_) => {}
    }
    let at = |summary: &str, detail: String, subject: &Option<Subject>| {
        Diagnostic::error(summary, detail).with_subject(subject.clone())
    };
    let o = match value {
        Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
            let given = value
                .as_ref()
                .and_then(Value::to_string_lossless)
                .unwrap_or_default();
            let c = if version::Constraint::parse(&given).is_ok() {
                given
            } else {
                "version".to_string()
            };
            diags.push(at(
                "Invalid plugin requirement",
                format!("'{name} = \"{c}\"' plugin requirement calls are not possible. You must define a whole block. For example:\n{name} = {{\n  source  = \"github.com/hashicorp/{name}\"\n  version = \"{c}\"\n}}"),
                &attr_subject,
            ));
            return None;
        }
        Some(Value::Object(o)) => o,
        _ => {
            diags.push(at(
                "Invalid required_plugins syntax",
                "required_plugins entries must be objects.".into(),
                &expr_subject,
            ));
            return None;
        }
    };
    let Some(version_value) = o.get("version") else {
        diags.push(at(
            "No version constraint was set",
            "The version field must be specified as a string. Ex: `version = \">= 1.2.0, < 2.0.0\". See https://www.packer.io/docs/templates/hcl_templates/blocks/packer#version-constraints for docs".into(),
            &expr_subject,
        ));
        return None;
    };
    let Value::String(ver) = version_value else {
        diags.push(at(
            "Invalid version constraint",
            "Version must be specified as a string. See https://www.packer.io/docs/templates/hcl_templates/blocks/packer#version-constraint-syntax for docs.".into(),
            &expr_subject,
        ));
        return None;
    };
    match version::Constraint::parse(ver) {
        Err(e) => {
            diags.push(at(
                "Invalid version constraint",
                format!("This string does not use correct version constraint syntax. See https://www.packer.io/docs/templates/hcl_templates/blocks/packer#version-constraint-syntax for docs.\n{e}"),
                &expr_subject,
            ));
            return None;
        }
        // Reported, and the entry is still checked on.
        Ok(c) if c.has_prerelease() => diags.push(at(
            "Invalid version constraint",
            format!(
                "Unsupported prerelease for constraint {}",
                crate::value::go_quote(ver)
            ),
            &expr_subject,
        )),
        Ok(_) => {}
    }
    let Some(source_value) = o.get("source") else {
        diags.push(at(
            "No source was set",
            "The source field must be specified as a string. Ex: `source = \"coolcloud\". See https://www.packer.io/docs/templates/hcl_templates/blocks/packer#specifying-plugin-requirements for docs".into(),
            &expr_subject,
        ));
        return None;
    };
    let Value::String(source) = source_value else {
        diags.push(at(
            "Invalid source",
            "Source must be specified as a string. For example: source = \"coolcloud\"".into(),
            &expr_subject,
        ));
        return None;
    };
    if let Err(e) = parse_plugin_source(source) {
        diags.push(at("Failed to parse source", e, &attr_subject));
        return None;
    }
    if o.keys().any(|k| k != "source" && k != "version") {
        diags.push(at(
            "Invalid required_plugins object",
            "required_plugins objects can only contain \"version\" and \"source\" attributes."
                .into(),
            &expr_subject,
        ));
    }
    Some(RequiredPlugin {
        local_name: name.clone(),
        source: source.clone(),
        version: ver.clone(),
        subject: expr_subject,
        decl_range: a
            .expr
            .span()
            .map(|r| a.file.range_string(r))
            .unwrap_or_default(),
    })
}

/// Packer's `addrs.ParsePluginSourceString`: the checks a plugin source address must pass,
/// the error in Packer's words.
fn parse_plugin_source(s: &str) -> Result<(), String> {
    let mut errs = Vec::new();
    if s.starts_with('/') {
        errs.push("A source URL must not start with a '/' character.");
    }
    if s.ends_with('/') {
        errs.push("A source URL must not end with a '/' character.");
    }
    if s.matches('/').count() < 2 {
        errs.push("A source URL must at least contain a host and a path with 2 components");
    }
    let scheme = s.split_once(':').is_some_and(|(sch, _)| {
        !sch.is_empty()
            && sch.starts_with(|c: char| c.is_ascii_alphabetic())
            && sch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if scheme {
        errs.push("A source URL must not contain a scheme (e.g. https://).");
    }
    let before_fragment = s.split('#').next().unwrap_or("");
    if before_fragment
        .split_once('?')
        .is_some_and(|(_, q)| !q.is_empty())
    {
        errs.push("A source URL must not contain a query (e.g. ?var=val)");
    }
    if s.split_once('#').is_some_and(|(_, f)| !f.is_empty()) {
        errs.push("A source URL must not contain a fragment (e.g. #anchor).");
    }
    if !errs.is_empty() {
        let list: String = errs.iter().map(|e| format!("* {e}\n")).collect();
        return Err(format!(
            "The provided source URL is invalid.\nThe following errors have been discovered:\n{list}\nA valid source looks like \"github.com/hashicorp/happycloud\""
        ));
    }
    let name = s.rsplit('/').next().unwrap_or("");
    let part_err = |p: &str| -> Option<String> {
        if p.is_empty() {
            Some("must have at least one character".into())
        } else if p.contains('.') {
            Some("dots are not allowed".into())
        } else if p.contains("--") {
            Some("cannot use multiple consecutive dashes".into())
        } else {
            None
        }
    };
    if let Some(e) = part_err(name) {
        return Err(format!("Invalid plugin type {name:?} in source: {e}\""));
    }
    if let Some(rest) = name.strip_prefix("packer-") {
        if let Some(suggested) = name.strip_prefix("packer-plugin-")
            && part_err(suggested).is_none()
        {
            return Err(format!(
                "Plugin source has a type with the prefix \"packer-plugin-\", which isn't valid.\nAlthough that prefix is often used in the names of version control repositories for Packer plugins, plugin source strings should not include it.\n\nDid you mean {suggested:?}?"
            ));
        }
        return Err(format!(
            "Plugin source has a type with the \"packer-\" prefix, which isn't valid.\nIf you are the author of this plugin, rename it to not include the prefix.\nEx: {rest:?}"
        ));
    }
    let parts = s.split('/').count();
    if parts > 16 {
        return Err(format!(
            "The source URL must have at most 16 components, and the one provided has {parts}.\nThis is unsupported by Packer, please consider using a source that has less components to it.\nIf this is a blocking issue for you, please open an issue to ask for supporting more components to the source URI."
        ));
    }
    Ok(())
}

/// hcl's `Content` of a `packer` block against Packer's `packerBlockSchema`: its unsupported
/// arguments, then its unsupported block types.
fn packer_block_content(b: &RawBlock) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for a in &b.body.attrs {
        if a.key != "required_version" {
            out.push(a.unsupported_in(&b.body, &["required_version"], &["required_plugins"]));
        }
    }
    for inner in &b.body.blocks {
        if inner.ident != "required_plugins" {
            out.push(inner.unsupported_in(&["required_version"], &["required_plugins"]));
        }
    }
    out
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn paths_clean_as_go_joins_them() {
        for (given, want) in [
            ("./t.pkr.hcl", "t.pkr.hcl"),
            ("dir//t.pkr.hcl", "dir/t.pkr.hcl"),
            ("./dir/../t.pkr.hcl", "t.pkr.hcl"),
            ("../x/./t.pkr.hcl", "../x/t.pkr.hcl"),
            ("/a/../../t", "/t"),
            (".", "."),
        ] {
            assert_eq!(go_clean(Path::new(given)), PathBuf::from(want), "{given}");
        }
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(go_errno(&e), "no such file or directory");
    }
}
