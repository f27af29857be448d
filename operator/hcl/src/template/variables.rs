//! Input variables: declarations, values from every source in Packer's precedence order
//! (default < `PKR_VAR_*` < `*.auto.pkrvars.*` < `-var-file` in order < `-var`), type
//! conversion, validation rules and sensitivity.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::expr::Expression;

use crate::diag::{Diagnostic, Diagnostics, SourceFile, Subject};
use crate::functions::FuncCtx;
use crate::hcl::types::{self, Type, TypeExprError};
use crate::hcl::{Evaluator, Scope};
use crate::template::body::{EvalEnv, RawAttr, RawBlock, RawBody, wrong_type};
use crate::template::{Template, label_count};
use crate::value::Value;

/// A `validation` rule.
#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: RawAttr,
    pub error_message: RawAttr,
    /// The `validation` keyword (hcl's `DefRange` of the block), which Packer's failure
    /// message names.
    pub decl: Option<Subject>,
}

/// A declared input variable.
#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub ty: Option<Type>,
    pub default: Option<Value>,
    pub description: String,
    pub sensitive: bool,
    pub validations: Vec<Validation>,
    pub subject: Option<Subject>,
    /// The `default` expression, where a failed validation of the default points.
    pub default_subject: Option<Subject>,
}

impl Variable {
    /// The type as `inspect` and the ImageTemplate status show it.
    pub fn type_display(&self) -> String {
        match (&self.ty, &self.default) {
            (Some(t), _) => t.to_string(),
            (None, Some(v)) => match v {
                Value::String(_) => "string".into(),
                Value::Number(_) => "number".into(),
                Value::Bool(_) => "bool".into(),
                Value::List(_) => "tuple".into(),
                Value::Object(_) => "object".into(),
                _ => "any".into(),
            },
            (None, None) => "any".into(),
        }
    }

    /// Whether a value must be given (no default).
    pub fn required(&self) -> bool {
        self.default.is_none()
    }
}

/// Where variable values come from, besides defaults.
#[derive(Clone, Debug, Default)]
pub struct VarInputs {
    /// `-var name=value`, in order.
    pub vars: Vec<(String, String)>,
    /// `-var-file` paths, in order.
    pub var_files: Vec<PathBuf>,
    /// The process environment (only `PKR_VAR_*` entries are used).
    pub env: Vec<(String, String)>,
    /// Warn about var-file entries that no variable declares.
    pub warn_undeclared: bool,
    /// Values given as already-typed expressions (ImageBuild spec.variables): name → HCL text.
    pub exprs: Vec<(String, String)>,
}

fn attr_string(a: &RawAttr) -> Result<String, Diagnostic> {
    let v = EvalEnv::default().eval_attr(a)?;
    v.to_string_lossless()
        .ok_or_else(|| wrong_type(a, "string required"))
}

fn attr_bool(a: &RawAttr) -> Result<bool, Diagnostic> {
    let v = EvalEnv::default().eval_attr(a)?;
    v.to_bool().ok_or_else(|| wrong_type(a, "bool required"))
}

/// Parses a type expression attribute (`type = list(string)`; in JSON, a string).
fn parse_type_attr(a: &RawAttr) -> Result<Type, Diagnostic> {
    let owned;
    let expr: &Expression = match &a.expr {
        Expression::String(s) => {
            owned = s.value().parse::<Expression>().map_err(|_| {
                Diagnostic::error(
                    "Invalid type specification",
                    "Could not parse the type string.",
                )
                .with_subject(a.subject())
            })?;
            &owned
        }
        e => e,
    };
    let env = EvalEnv::default();
    types::parse_type(expr, &|e| {
        env.evaluator(&a.file)
            .eval(e, &Scope::new())
            .map_err(|d| TypeExprError {
                range: hcl::edit::Span::span(e),
                message: d.detail,
            })
    })
    .map_err(|e| {
        let d = Diagnostic::error("Invalid type specification", e.message);
        match e.range {
            Some(_) if matches!(a.expr, Expression::String(_)) => d.with_subject(a.subject()),
            Some(r) => d.at(a.file.subject(r)),
            None => d.with_subject(a.subject()),
        }
    })
}

/// Evaluates a variable default: only literal values and `env()` are allowed.
fn eval_default(a: &RawAttr) -> Result<Value, Diagnostic> {
    let env = EvalEnv {
        vars: Default::default(),
        overlay: BTreeMap::new(),
        funcs: FuncCtx {
            base_dir: PathBuf::new(),
            allow_env: true,
        },
    };
    env.eval_attr(a).map_err(|mut d| {
        if d.summary == "Unknown variable" {
            d.summary = "Variables not allowed".to_string();
            d.detail = "Variables may not be used here.".to_string();
        }
        d
    })
}

/// Decodes one `variable "name" { … }` block.
/// The arguments of a `variable` block, in hcl2template's schema order.
const VARIABLE_ATTRS: &[&str] = &["description", "default", "type", "sensitive"];

pub fn decode_variable(t: &mut Template, b: &RawBlock, diags: &mut Diagnostics) {
    if b.labels.len() != 1 {
        diags.push(label_count(b, 1, "variable", "\"name\""));
        return;
    }
    let name = b.labels[0].clone();
    if !is_ident(&name) {
        diags.push(
            Diagnostic::error(
                "Invalid variable name",
                "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
            )
            .with_subject(b.subject()),
        );
        return;
    }
    if t.variables.contains_key(&name) {
        // Packer's words; the block is only its context (no source lines).
        diags.push(Diagnostic::error(
            "Duplicate variable",
            format!("Duplicate {name} variable definition found."),
        ));
        return;
    }
    let mut var = Variable {
        name: name.clone(),
        ty: None,
        default: None,
        description: String::new(),
        sensitive: false,
        validations: Vec::new(),
        subject: b.subject(),
        default_subject: None,
    };
    for a in &b.body.attrs {
        match a.key.as_str() {
            "type" => match parse_type_attr(a) {
                Ok(ty) => var.ty = Some(ty),
                Err(d) => diags.push(d),
            },
            "default" => match eval_default(a) {
                Ok(v) => {
                    var.default = Some(v);
                    var.default_subject = a.subject();
                }
                Err(d) => diags.push(d),
            },
            "description" => match attr_string(a) {
                Ok(s) => var.description = s,
                Err(d) => diags.push(d),
            },
            "sensitive" => match attr_bool(a) {
                Ok(s) => var.sensitive = s,
                Err(d) => diags.push(d),
            },
            _ => diags.push(a.unsupported_in(&b.body, VARIABLE_ATTRS, &["validation"])),
        }
    }
    // The default must satisfy the type.
    if let (Some(ty), Some(def)) = (&var.ty, &var.default) {
        match types::convert(def, ty) {
            Ok(v) => var.default = Some(v),
            Err(e) => diags.push(
                Diagnostic::error(
                    "Invalid default value for variable",
                    format!("This default value is not compatible with the variable's type constraint: {e}."),
                )
                .with_subject(b.body.attr("default").and_then(RawAttr::subject)),
            ),
        }
    }
    for vb in &b.body.blocks {
        if vb.ident != "validation" {
            diags.push(vb.unsupported_in(VARIABLE_ATTRS, &["validation"]));
            continue;
        }
        let cond = vb.body.attr("condition").cloned();
        let msg = vb.body.attr("error_message").cloned();
        for a in &vb.body.attrs {
            if a.key != "condition" && a.key != "error_message" {
                diags.push(a.unsupported_in(&vb.body, &["condition", "error_message"], &[]));
            }
        }
        let (Some(cond), Some(msg)) = (cond, msg) else {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    "A validation block needs both \"condition\" and \"error_message\".",
                )
                .with_subject(vb.subject()),
            );
            continue;
        };
        // The condition may refer only to this variable.
        let refs = crate::template::locals::references(&cond.expr);
        let only_self = refs
            .iter()
            .all(|r| r.first().map(String::as_str) == Some("var") && r.get(1) == Some(&name));
        if refs.is_empty() || !only_self {
            diags.push(
                Diagnostic::error(
                    "Invalid variable validation condition",
                    format!("The condition for variable {name:?} must refer to var.{name} in order to test incoming values, and may not refer to other variables."),
                )
                .with_subject(cond.subject()),
            );
        }
        // Packer's rule for error messages: a sentence.
        if let Ok(Value::String(m)) = EvalEnv::default().eval_attr(&msg)
            && !looks_like_sentence(&m)
        {
            diags.push(
                Diagnostic::error(
                    "Invalid validation error message",
                    "Validation error message must be at least one full English sentence starting with an uppercase letter and ending with a period or question mark.",
                )
                .with_subject(msg.subject()),
            );
        }
        var.validations.push(Validation {
            condition: cond,
            error_message: msg,
            decl: vb.ident_span.clone().map(|r| vb.file.subject(r)),
        });
    }
    t.variables.insert(name, var);
}

fn looks_like_sentence(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.chars().next().is_some_and(char::is_uppercase)
        && (s.ends_with('.') || s.ends_with('?') || s.ends_with('!'))
}

/// Decodes a legacy `variables { name = default … }` block.
pub fn decode_variables(t: &mut Template, b: &RawBlock, diags: &mut Diagnostics) {
    if !b.labels.is_empty() {
        diags.push(label_count(b, 0, "variables", "none"));
    }
    for a in &b.body.attrs {
        if t.variables.contains_key(&a.key) {
            diags.push(
                Diagnostic::error(
                    "Duplicate variable",
                    format!("Duplicate {} variable definition found.", a.key),
                )
                .with_subject(a.key_subject()),
            );
            continue;
        }
        match eval_default(a) {
            Ok(v) => {
                t.variables.insert(
                    a.key.clone(),
                    Variable {
                        name: a.key.clone(),
                        ty: None,
                        default: Some(v),
                        description: String::new(),
                        sensitive: false,
                        validations: Vec::new(),
                        subject: a.key_subject(),
                        default_subject: a.subject(),
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }
    for inner in &b.body.blocks {
        diags.push(inner.unsupported());
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Where a value came from, for messages.
#[derive(Clone, Debug)]
struct Given {
    value: Value,
    origin: &'static str,
    subject: Option<Subject>,
}

/// Parses a `-var`/`PKR_VAR_` string: a literal for string, number and untyped variables
/// (unless the default is a collection), an HCL expression otherwise.
fn parse_cli_value(var: &Variable, raw: &str, origin_name: &str) -> Result<Value, Diagnostic> {
    let literal = match &var.ty {
        Some(Type::String) | Some(Type::Number) | Some(Type::Bool) => true,
        None => !matches!(var.default, Some(Value::List(_)) | Some(Value::Object(_))),
        _ => false,
    };
    if literal {
        return Ok(Value::str(raw));
    }
    parse_expr_value(raw, origin_name)
}

/// Parses and evaluates a literal HCL expression (no variables) given outside a file.
pub fn parse_expr_value(raw: &str, origin_name: &str) -> Result<Value, Diagnostic> {
    let file = SourceFile::new(Path::new(origin_name), raw.to_string());
    let expr: Expression = match hcl::edit::parser::parse_expr(&file.text) {
        Ok(e) => e,
        Err(e) => {
            return Err(Diagnostic::error(
                "Invalid expression for variable value",
                format!(
                    "{origin_name}: {} (at column {}).",
                    e.message(),
                    e.location().column()
                ),
            ));
        }
    };
    Evaluator::new(file.clone(), FuncCtx::default())
        .eval(&expr, &Scope::new())
        .map_err(|mut d| {
            if d.summary == "Unknown variable" {
                d.summary = "Variables not allowed".into();
                d.detail = format!("{origin_name}: variables may not be used here.");
            }
            d
        })
}

/// Reads a var file: `name = value` attributes (HCL) or a JSON object.
fn read_var_file(path: &Path) -> Result<Vec<(String, Value, Option<Subject>)>, Diagnostics> {
    let name = path.to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Failed to read variables file",
            format!("Could not read {name}: {e}."),
        ))
    })?;
    if name.ends_with(".json") {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Invalid variables file",
                format!("{name}:{}:{}: {e}", e.line(), e.column()),
            ))
        })?;
        let serde_json::Value::Object(o) = v else {
            return Err(Diagnostic::error(
                "Invalid variables file",
                format!("{name}: the root of a JSON variables file must be an object."),
            )
            .into());
        };
        return Ok(o
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v), None))
            .collect());
    }
    if !name.ends_with(".hcl") {
        return Err(Diagnostic::error(
            "Could not guess format",
            format!(
                "Could not guess format of {name}, expecting a .pkrvars.hcl or .pkrvars.json file."
            ),
        )
        .into());
    }
    let file: Arc<SourceFile> = SourceFile::new(path, text);
    let body = crate::hcl::lenient::parse_body(&file).map_err(|e| {
        let offset = e.location().offset();
        Diagnostics::from(
            crate::template::hclsyntax_words(&file, &e).unwrap_or_else(|| {
                Diagnostic::error("Invalid HCL syntax", e.message().to_string())
                    .at(file.subject(offset..offset + 1))
            }),
        )
    })?;
    let raw = RawBody::from_body(&body, &file);
    let mut diags = Diagnostics::new();
    for b in &raw.blocks {
        diags.push(
            Diagnostic::error(
                "Unexpected block in variables file",
                format!("Blocks of type {:?} are not allowed in a variables file; only `name = value` assignments.", b.ident),
            )
            .with_subject(b.subject()),
        );
    }
    let mut out = Vec::new();
    for a in &raw.attrs {
        match EvalEnv::default().eval_attr(a) {
            Ok(v) => out.push((a.key.clone(), v, a.subject())),
            Err(mut d) => {
                if d.summary == "Unknown variable" {
                    d.summary = "Variables not allowed".into();
                    d.detail = "Variables may not be used here.".into();
                }
                diags.push(d)
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

fn auto_var_files(root: &Path) -> Vec<PathBuf> {
    let mut hcl = Vec::new();
    let mut json = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.ends_with(".auto.pkrvars.hcl") {
                hcl.push(e.path());
            } else if n.ends_with(".auto.pkrvars.json") {
                json.push(e.path());
            }
        }
    }
    hcl.sort();
    json.sort();
    hcl.extend(json);
    hcl
}

/// Collects every variable's value in precedence order, converts, validates and registers
/// sensitive values. All problems are reported together.
pub fn resolve(t: &mut Template, inputs: &VarInputs) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut given: BTreeMap<String, Given> = BTreeMap::new();
    for (name, var) in &t.variables {
        if let Some(d) = &var.default {
            given.insert(
                name.clone(),
                Given {
                    value: d.clone(),
                    origin: "default",
                    subject: var.subject.clone(),
                },
            );
        }
    }
    // PKR_VAR_name
    for (k, raw) in &inputs.env {
        let Some(name) = k.strip_prefix("PKR_VAR_") else {
            continue;
        };
        let Some(var) = t.variables.get(name) else {
            continue;
        };
        match parse_cli_value(var, raw, k) {
            Ok(v) => {
                given.insert(
                    name.to_string(),
                    Given {
                        value: v,
                        origin: "env",
                        subject: None,
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }
    // auto var files (directory templates only), then -var-file in order.
    let mut files = if t.is_dir {
        auto_var_files(&t.root)
    } else {
        Vec::new()
    };
    files.extend(inputs.var_files.iter().cloned());
    for path in &files {
        match read_var_file(path) {
            Ok(entries) => {
                for (name, value, subject) in entries {
                    if !t.variables.contains_key(&name) {
                        if inputs.warn_undeclared {
                            // Packer's gives the entry as context only: no source lines.
                            let _ = subject;
                            diags.push(Diagnostic::warning(
                                "Undefined variable",
                                format!("The variable {name:?} was set but was not declared as an input variable.\nTo declare variable {name:?} place this block in one of your .pkr.hcl files, such as variables.pkr.hcl\n\nvariable {name:?} {{\n  type    = string\n  default = null\n}}"),
                            ));
                        }
                        continue;
                    }
                    given.insert(
                        name,
                        Given {
                            value,
                            origin: "varfile",
                            subject,
                        },
                    );
                }
            }
            Err(d) => diags.extend(d),
        }
    }
    // Typed expressions (resource spec values): as a var file would give them.
    for (name, raw) in &inputs.exprs {
        if !t.variables.contains_key(name) {
            diags.push(Diagnostic::error(
                "Undefined variable",
                format!("A value was given for variable {name:?}, but the template declares no such variable."),
            ));
            continue;
        }
        match parse_expr_value(raw, &format!("variables.{name}")) {
            Ok(v) => {
                given.insert(
                    name.clone(),
                    Given {
                        value: v,
                        origin: "varfile",
                        subject: None,
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }
    // -var always wins.
    for (name, raw) in &inputs.vars {
        let Some(var) = t.variables.get(name) else {
            diags.push(Diagnostic::error(
                "Undefined -var variable",
                format!("A {name:?} variable was passed in the command line but was not found in known variables. To declare variable {name:?}, place this block in one of your .pkr files, such as variables.pkr.hcl"),
            ));
            continue;
        };
        match parse_cli_value(var, raw, &format!("-var {name}")) {
            Ok(v) => {
                given.insert(
                    name.clone(),
                    Given {
                        value: v,
                        origin: "cmd",
                        subject: None,
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }

    let mut values = BTreeMap::new();
    let mut sensitive = Vec::new();
    for (name, var) in &t.variables {
        let Some(g) = given.get(name) else {
            diags.push(
                Diagnostic::error(
                    format!("Unset variable {name:?}"),
                    "A used variable must be set or have a default value; see https://packer.io/docs/templates/hcl_templates/syntax for details.",
                ),
                // Packer's has no subject.
            );
            // Unknown to the commands that go on despite the error (console, inspect).
            values.insert(name.clone(), Value::Unknown);
            continue;
        };
        let value = match &var.ty {
            Some(ty) => match types::convert(&g.value, ty) {
                Ok(v) => v,
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            format!("Invalid value for {} variable", g.origin),
                            format!("The value for var.{name} is not compatible with the variable's type constraint: {e}."),
                        )
                        .with_subject(g.subject.clone().or(var.subject.clone())),
                    );
                    continue;
                }
            },
            None => g.value.clone(),
        };
        // Validation rules see only this variable's final value.
        let mut scope_vars = BTreeMap::new();
        scope_vars.insert(name.clone(), value.clone());
        let mut env = EvalEnv::default();
        env.set("var", Value::Object(scope_vars));
        for rule in &var.validations {
            match env.eval_attr(&rule.condition) {
                Ok(Value::Unknown) => {}
                Ok(c) => match c.to_bool() {
                    Some(true) => {}
                    Some(false) => {
                        let msg = env
                            .eval_attr(&rule.error_message)
                            .ok()
                            .and_then(|v| v.to_string_lossless())
                            .unwrap_or_default();
                        // Packer's words: the rule named by its `validation` keyword, the
                        // value's expression as the subject.
                        let at = rule
                            .decl
                            .as_ref()
                            .map(|s| {
                                format!(
                                    "\n\nThis was checked by the validation rule at {}.",
                                    s.range_string()
                                )
                            })
                            .unwrap_or_default();
                        let subject = match g.origin {
                            "default" => var.default_subject.clone(),
                            _ => g.subject.clone(),
                        };
                        diags.push(
                            Diagnostic::error(
                                format!("Invalid value for {} variable", g.origin),
                                format!("{msg}{at}"),
                            )
                            .with_subject(subject.or(var.subject.clone())),
                        );
                    }
                    None => diags.push(
                        Diagnostic::error(
                            "Invalid validation result",
                            "The validation condition must return a bool.",
                        )
                        .with_subject(rule.condition.subject()),
                    ),
                },
                Err(d) => diags.push(d),
            }
        }
        if var.sensitive {
            sensitive.extend(value.strings());
        }
        values.insert(name.clone(), value);
    }
    t.var_values = values;
    t.sensitive_vars = t
        .variables
        .values()
        .filter(|v| v.sensitive)
        .map(|v| v.name.clone())
        .collect();
    t.sensitive.extend(sensitive);
    diags
}
