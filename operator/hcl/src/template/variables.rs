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
use crate::template::Template;
use crate::template::body::{EvalEnv, RawAttr, RawBlock, RawBody, wrong_type};
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
        types: Default::default(),
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
    // A block without its one label was reported and dropped with the root schema.
    let [name] = b.labels.as_slice() else { return };
    let name = name.clone();
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
    // decodeVariableBlock returns without declaring the variable when its type or its
    // default does not evaluate (a later block of the same name is then no duplicate).
    let mut undeclared = false;
    for a in &b.body.attrs {
        match a.key.as_str() {
            "type" => match parse_type_attr(a) {
                Ok(ty) => var.ty = Some(ty),
                Err(d) => {
                    diags.push(d);
                    undeclared = true;
                }
            },
            "default" => match eval_default(a) {
                Ok(v) => {
                    var.default = Some(v);
                    var.default_subject = a.subject();
                }
                Err(d) => {
                    diags.push(d);
                    undeclared = true;
                }
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
    if undeclared {
        return;
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
        // hcl's `Content` with hcl2template's validation schema: the required arguments
        // first, then what the schema does not have.
        let cond = vb.body.attr("condition").cloned();
        let msg = vb.body.attr("error_message").cloned();
        for (key, present) in [
            ("condition", cond.is_some()),
            ("error_message", msg.is_some()),
        ] {
            if !present {
                diags.push(
                    Diagnostic::error(
                        "Missing required argument",
                        format!("The argument {key:?} is required, but no definition was found."),
                    )
                    .with_subject(vb.subject()),
                );
            }
        }
        for a in &vb.body.attrs {
            if a.key != "condition" && a.key != "error_message" {
                diags.push(a.unsupported_in(&vb.body, &["condition", "error_message"], &[]));
            }
        }
        for nested in &vb.body.blocks {
            diags.push(nested.unsupported_in(&["condition", "error_message"], &[]));
        }
        // decodeVariableValidationBlock: every reference but `var.<name>` is refused, and
        // there must be one of those.
        if let Some(cond) = &cond {
            let mut good = 0;
            for (root, attr, span) in condition_refs(&cond.expr) {
                if root == "var" && attr.as_deref() == Some(name.as_str()) {
                    good += 1;
                    continue;
                }
                diags.push(
                    Diagnostic::error(
                        "Invalid reference in variable validation",
                        format!("The condition for variable {name:?} can only refer to the variable itself, using var.{name}."),
                    )
                    .with_subject(span.map(|r| cond.file.subject(r)).or_else(|| cond.subject())),
                );
            }
            if good < 1 {
                diags.push(
                    Diagnostic::error(
                        "Invalid variable validation condition",
                        format!("The condition for variable {name:?} must refer to var.{name} in order to test incoming values."),
                    )
                    .with_subject(cond.subject()),
                );
            }
        }
        // gohcl.DecodeExpression without a context, into a string.
        if let Some(msg) = &msg {
            const SUMMARY: &str = "Invalid validation error message";
            let text = eval_without_context(msg);
            match text.map(|v| v.to_string_lossless()) {
                Ok(Some(m)) if m.is_empty() => diags.push(
                    Diagnostic::error(SUMMARY, "An empty string is not a valid nor useful error message.")
                        .with_subject(msg.subject()),
                ),
                Ok(Some(m)) if !looks_like_sentences(&m) => diags.push(
                    Diagnostic::error(
                        SUMMARY,
                        "Validation error message must be at least one full sentence starting with an uppercase letter ( if the alphabet permits it ) and ending with a period or question mark.",
                    )
                    .with_subject(msg.subject()),
                ),
                Ok(Some(_)) => {}
                Ok(None) => diags.push(
                    Diagnostic::error(
                        "Unsuitable value type",
                        "Unsuitable value: string required",
                    )
                    .with_subject(msg.subject()),
                ),
                Err(d) => {
                    // The value is unknown then, which a Go string cannot hold.
                    diags.push(d);
                    diags.push(
                        Diagnostic::error(
                            "Unsuitable value type",
                            "Unsuitable value: value must be known",
                        )
                        .with_subject(msg.subject()),
                    );
                }
            }
        }
        let (Some(cond), Some(msg)) = (cond, msg) else {
            continue;
        };
        var.validations.push(Validation {
            condition: cond,
            error_message: msg,
            decl: vb.ident_span.clone().map(|r| vb.file.subject(r)),
        });
    }
    t.variables.insert(name, var);
}

/// hcl2template's `looksLikeSentences`: a letter first must be upper case, and the text
/// ends with `.`, `?` or `!`.
fn looks_like_sentences(s: &str) -> bool {
    let s = s.trim();
    let Some(first) = s.chars().next() else {
        return false;
    };
    if first.is_alphabetic() && !first.is_uppercase() {
        return false;
    }
    s.ends_with(['.', '?', '!'])
}

/// The root traversals of `expr` as hclsyntax's `Variables` lists them, in source order,
/// without the symbols a `for` expression binds: the root name, the first attribute and
/// the traversal's span.
fn condition_refs(
    expr: &Expression,
) -> Vec<(String, Option<String>, Option<std::ops::Range<usize>>)> {
    use hcl::edit::Span;
    use hcl::edit::expr::TraversalOperator;
    use hcl::edit::visit::{Visit, visit_expr};
    type Ref = (String, Option<String>, Option<std::ops::Range<usize>>);
    struct V {
        bound: Vec<String>,
        out: Vec<Ref>,
    }
    impl Visit for V {
        fn visit_expr(&mut self, e: &Expression) {
            match e {
                Expression::Variable(v) => {
                    if !self.bound.iter().any(|b| b == v.as_str()) {
                        self.out.push((v.as_str().to_string(), None, e.span()));
                    }
                }
                Expression::Traversal(t) => {
                    if let Expression::Variable(root) = &t.expr {
                        if !self.bound.iter().any(|b| b == root.as_str()) {
                            // addrs.ParseRef reads `var.<name>` only (not `var["name"]`).
                            let attr = t.operators.first().and_then(|op| match op.value() {
                                TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
                                _ => None,
                            });
                            self.out.push((root.as_str().to_string(), attr, e.span()));
                        }
                    } else {
                        self.visit_expr(&t.expr);
                    }
                    for op in t.operators.iter() {
                        if let TraversalOperator::Index(ix) = op.value() {
                            self.visit_expr(ix);
                        }
                    }
                }
                Expression::ForExpr(f) => {
                    self.visit_expr(&f.intro.collection_expr);
                    let before = self.bound.len();
                    if let Some(k) = &f.intro.key_var {
                        self.bound.push(k.as_str().to_string());
                    }
                    self.bound.push(f.intro.value_var.as_str().to_string());
                    if let Some(k) = &f.key_expr {
                        self.visit_expr(k);
                    }
                    self.visit_expr(&f.value_expr);
                    if let Some(c) = &f.cond {
                        self.visit_expr(&c.expr);
                    }
                    self.bound.truncate(before);
                }
                _ => visit_expr(self, e),
            }
        }
    }
    let mut v = V {
        bound: Vec::new(),
        out: Vec::new(),
    };
    v.visit_expr(expr);
    v.out
}

/// Decodes a legacy `variables { name = default … }` block.
pub fn decode_variables(t: &mut Template, b: &RawBlock, diags: &mut Diagnostics) {
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
    /// The value could not be converted to the variable's type (an error said so).
    invalid: bool,
}

/// The values [`collect`] found, by variable name: the input of [`finish`].
#[derive(Clone, Debug, Default)]
pub struct Collected(BTreeMap<String, Given>);

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

/// The type a variable's values are converted to, as Packer's `decodeVariableBlock` sets it:
/// the `type` given, else the default's own type (unless the default is `null`, `[]` or
/// `{}`), else none (any value, kept as given).
fn input_type(var: &Variable) -> Option<Type> {
    fn of(v: &Value) -> Type {
        match v {
            Value::String(_) => Type::String,
            Value::Number(_) => Type::Number,
            Value::Bool(_) => Type::Bool,
            Value::List(items) => Type::Tuple(items.iter().map(of).collect()),
            Value::Object(m) => Type::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            types::Attr {
                                ty: of(v),
                                optional: false,
                                default: None,
                            },
                        )
                    })
                    .collect(),
            ),
            _ => Type::Any,
        }
    }
    match (&var.ty, &var.default) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(Value::List(l))) if l.is_empty() => None,
        (None, Some(Value::Object(m))) if m.is_empty() => None,
        (None, Some(d)) => match of(d) {
            Type::Any => None,
            t => Some(t),
        },
        (None, None) => None,
    }
}

/// A subject in a file whose source Packer's diagnostic writer does not have: `on NAME line
/// N:` and "(source code not available)".
fn sourceless(file: &Arc<SourceFile>, range: std::ops::Range<usize>) -> Subject {
    let s = file.subject(range);
    crate::diag::forget(&file.path.to_string_lossy());
    s
}

/// An attribute's value as hcl gives it without an evaluation context (`expr.Value(nil)`,
/// gohcl's `DecodeExpression(expr, nil, …)`): literal values only, a function call is
/// "Function calls not allowed" and a variable "Variables not allowed".
pub fn eval_without_context(a: &RawAttr) -> Result<Value, Diagnostic> {
    if let Some(r) = first_call(&a.expr) {
        return Err(Diagnostic::error(
            "Function calls not allowed",
            "Functions may not be called here.",
        )
        .with_subject(Some(a.file.subject(r))));
    }
    EvalEnv::default().eval_attr(a).map_err(|mut d| {
        if d.summary == "Unknown variable" {
            d.summary = "Variables not allowed".into();
            d.detail = "Variables may not be used here.".into();
        }
        d
    })
}

/// The first function call in an expression (hcl refuses them in values given outside a
/// file: "Function calls not allowed").
fn first_call(expr: &Expression) -> Option<std::ops::Range<usize>> {
    use hcl::edit::visit::{Visit, visit_func_call};
    struct V(Option<std::ops::Range<usize>>);
    impl Visit for V {
        fn visit_func_call(&mut self, c: &hcl::edit::expr::FuncCall) {
            use hcl::edit::Span;
            if self.0.is_none() {
                self.0 = c.span();
            }
            visit_func_call(self, c);
        }
    }
    let mut v = V(None);
    v.visit_expr(expr);
    v.0
}

/// Packer's `expressionFromVariableDefinition` and `expr.Value(nil)`: a `-var` or
/// `PKR_VAR_` value is a string literal for variables of type string, number or none, an
/// HCL expression without variables or functions otherwise, read from a file named `fake`
/// (whose source Packer does not show). The subject is the expression's range (none for a
/// literal: Packer's zero range, `on  line 0:`).
fn value_from_definition(
    fake: &str,
    raw: &str,
    ty: Option<&Type>,
) -> Result<(Value, Subject), Diagnostic> {
    if matches!(ty, None | Some(Type::Any | Type::String | Type::Number)) {
        return Ok((Value::str(raw), Subject::default()));
    }
    // hclsyntax's `ParseExpression` errors, all of them (Packer shows no source for them).
    if let Some(d) = Diagnostic::several(crate::hcl::syntax_diag::expression_errors(raw, fake)) {
        return Err(d);
    }
    let file = SourceFile::new(Path::new(fake), raw.to_string());
    let whole = || sourceless(&file, 0..raw.len());
    let expr: Expression = match hcl::edit::parser::parse_expr(&file.text) {
        Ok(e) => e,
        Err(e) => {
            let offset = e.location().offset().min(raw.len());
            // Whether the parser read to the end and wanted more: with a stray token after
            // the text, it then stops at that token.
            let probe = format!("{raw} @");
            let at_end = raw[offset..].trim().is_empty()
                || hcl::edit::parser::parse_expr(&probe)
                    .err()
                    .is_some_and(|e| e.location().offset() > raw.len());
            let prefix_parses = raw.is_char_boundary(offset)
                && !raw[..offset].trim().is_empty()
                && hcl::edit::parser::parse_expr(&raw[..offset]).is_ok();
            let d = match crate::template::hclsyntax_words(&file, &e) {
                Some(d) => d,
                None if at_end => Diagnostic::error(
                    "Missing expression",
                    "Expected the start of an expression, but found the end of the file.",
                )
                .at(file.subject(raw.len()..raw.len())),
                // hclsyntax's `ParseExpression` reads one expression and refuses what follows.
                None if prefix_parses => Diagnostic::error(
                    "Extra characters after expression",
                    "An expression was successfully parsed, but extra characters were found after it.",
                )
                .at(file.subject(offset..offset + 1)),
                None => Diagnostic::error("Invalid expression", e.message().to_string())
                    .at(file.subject(offset..(offset + 1).min(raw.len()))),
            };
            crate::diag::forget(fake);
            return Err(d);
        }
    };
    if let Some(r) = first_call(&expr) {
        return Err(Diagnostic::error(
            "Function calls not allowed",
            "Functions may not be called here.",
        )
        .at(sourceless(&file, r)));
    }
    let v = Evaluator::new(file.clone(), FuncCtx::default())
        .eval(&expr, &Scope::new())
        .map_err(|mut d| {
            if d.summary == "Unknown variable" {
                d.summary = "Variables not allowed".into();
                d.detail = "Variables may not be used here.".into();
            }
            crate::diag::forget(fake);
            d
        })?;
    use hcl::edit::Span;
    let subject = expr.span().map_or_else(whole, |r| sourceless(&file, r));
    Ok((v, subject))
}

/// Converts a given value to the variable's type; the error is cty's.
fn convert_input(v: Value, ty: Option<&Type>) -> Result<Value, String> {
    match ty {
        Some(ty) => types::convert(&v, ty),
        None => Ok(v),
    }
}

/// A var file's assignments: name, value (or the error of evaluating it), the value's range.
type Assignments = Vec<(String, Result<Value, Diagnostic>, Option<Subject>)>;

/// A var file that parsed: what `collectInputVariableValues` finds in it.
struct VarFile {
    /// "Variable declaration in a .pkrvar file" errors.
    declarations: Diagnostics,
    /// hcl's `JustAttributes` error for the first other block.
    blocks: Diagnostics,
    assignments: Assignments,
}

/// Reads a var file as Packer's `Parse` and `collectInputVariableValues` do: by extension
/// (`.hcl` or `.json`, else "Could not guess format"), "Failed to read file" when it cannot
/// be read, hcl's syntax errors; `Ok(None)` after "Variable declaration in a .pkrvar file"
/// errors (Packer stops collecting there).
fn read_var_file(path: &Path, diags: &mut Diagnostics) -> Option<VarFile> {
    let name = path.to_string_lossy().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "hcl" && ext != "json" {
        diags.push(Diagnostic::error(
            format!("Could not guess format of {name}"),
            "A var file must be suffixed with `.hcl` or `.json`.",
        ));
        return None;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        // hclparse's words for an HCL file, hcl json's for a JSON one.
        diags.push(if ext == "json" {
            Diagnostic::error(
                "Failed to open file",
                format!(
                    "The file {} could not be opened.",
                    crate::value::go_quote(&name)
                ),
            )
        } else {
            Diagnostic::error(
                "Failed to read file",
                format!(
                    "The configuration file {} could not be read.",
                    crate::value::go_quote(&name)
                ),
            )
        });
        return None;
    };
    let file: Arc<SourceFile> = SourceFile::new(path, text.clone());
    if ext == "json" {
        // hcl json's syntax errors, all of them, with its partial tree's contexts.
        let (errors, partial) = crate::hcl::json_syntax_diag::json_errors(&text);
        if !errors.is_empty() {
            file.set_json(text.clone(), vec![(0, 0)], partial);
            for e in errors {
                diags.push(Diagnostic::error(e.summary, e.detail).at(file.json_subject(e.range)));
            }
            return None;
        }
        let root = match crate::template::json::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                file.set_json_context(e.context);
                diags.push(
                    Diagnostic::error(e.summary, e.detail).at(file.subject(e.offset..e.offset + 1)),
                );
                return None;
            }
        };
        file.set_json_context(String::new());
        let crate::template::json::Val::Obj(props) = &root.val else {
            diags.push(
                Diagnostic::error(
                    "Incorrect JSON value type",
                    "A JSON object is required here, setting the arguments for this block.",
                )
                .at(file.subject(root.span.start..root.span.start + 1)),
            );
            return Some(VarFile {
                declarations: Diagnostics::new(),
                blocks: Diagnostics::new(),
                assignments: Vec::new(),
            });
        };
        let mut out: Assignments = Vec::new();
        let mut seen: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
        let mut duplicates = Diagnostics::new();
        for p in props {
            if p.key == "//" {
                continue;
            }
            // hcl json's `JustAttributes`: the first definition stays.
            let key_end = text[p.key_start..]
                .find(':')
                .map_or(p.key_start + 1, |i| p.key_start + i)
                .min(p.value.span.start);
            let key_end = text[p.key_start..key_end].trim_end().len() + p.key_start;
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == p.key) {
                duplicates.push(
                    Diagnostic::error(
                        "Duplicate attribute definition",
                        format!(
                            "The argument {} was already set at {}.",
                            crate::value::go_quote(&p.key),
                            file.range_string(first.clone())
                        ),
                    )
                    .at(file.subject(p.key_start..key_end)),
                );
                continue;
            }
            seen.push((&p.key, p.key_start..p.value.span.end));
            out.push((
                p.key.clone(),
                Ok(json_value(&p.value)),
                Some(file.subject(p.value.span.clone())),
            ));
        }
        return Some(VarFile {
            declarations: Diagnostics::new(),
            blocks: duplicates,
            assignments: out,
        });
    }
    // hclsyntax's syntax errors (all of them), also for what hcl-edit accepts and hclsyntax
    // refuses.
    let body = match crate::hcl::lenient::parse_body(&file) {
        Ok(b) => match crate::template::hclsyntax_refuses(&file) {
            Some(errors) => {
                for d in errors {
                    diags.push(d);
                }
                return None;
            }
            None => b,
        },
        Err(e) => {
            for d in crate::template::syntax_errors(&file, &e) {
                diags.push(d);
            }
            return None;
        }
    };
    let raw = RawBody::from_body(&body, &file);
    let mut declarations = Diagnostics::new();
    for b in raw
        .blocks
        .iter()
        .filter(|b| b.ident == "variable" && b.labels.len() == 1)
    {
        let n = &b.labels[0];
        declarations.push(
            Diagnostic::error(
                "Variable declaration in a .pkrvar file",
                format!(
                    "A .pkrvar file is used to assign values to variables that have already been declared in .pkr files, not to declare new variables. To declare variable {n:?}, place this block in one of your .pkr files, such as variables.pkr.hcl\n\nTo set a value for this variable in {name}, use the definition syntax instead:\n    {n} = <value>"
                ),
            )
            .with_subject(b.subject()),
        );
    }
    let mut blocks = Diagnostics::new();
    if let Some(b) = raw.blocks.first() {
        blocks.push(
            Diagnostic::error(
                format!("Unexpected {:?} block", b.ident),
                "Blocks are not allowed here.",
            )
            .with_subject(b.subject()),
        );
    }
    let mut assignments = Vec::new();
    for a in &raw.attrs {
        let value = eval_without_context(a);
        assignments.push((a.key.clone(), value, a.subject()));
    }
    Some(VarFile {
        declarations,
        blocks,
        assignments,
    })
}

/// A JSON var file's value as hcl's JSON syntax gives it (strings as written).
fn json_value(n: &crate::template::json::Node) -> Value {
    use crate::template::json::Val;
    match &n.val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(s) => crate::value::parse_num(s).map_or_else(|| Value::str(s), Value::Number),
        Val::Str(s) => Value::str(s),
        Val::Arr(items) => Value::List(items.iter().map(json_value).collect()),
        Val::Obj(props) => {
            let mut m = BTreeMap::new();
            for p in props {
                m.insert(p.key.clone(), json_value(&p.value));
            }
            Value::Object(m)
        }
    }
}

/// Packer's `collectInputVariableValues`, which `Parse` runs (so every command that reads a
/// template meets its errors, `inspect`, `console` and `validate -syntax-only` included):
/// defaults, then `PKR_VAR_*` (declared variables only), then the var files (auto ones of a
/// directory first, then `-var-file`s in order), then `-var`s; each value converted to the
/// variable's type, in Packer's words (`Invalid value for variable` at the value;
/// `Invalid argument value for -var variable` without a place; `Undefined -var variable`).
pub fn collect(t: &Template, inputs: &VarInputs) -> (Collected, Diagnostics) {
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
                    invalid: false,
                },
            );
        }
    }
    let assign = |given: &mut BTreeMap<String, Given>,
                  diags: &mut Diagnostics,
                  name: &str,
                  value: Value,
                  origin: &'static str,
                  subject: Option<Subject>,
                  ty: Option<&Type>| {
        let (value, invalid) = match convert_input(value, ty) {
            Ok(v) => (v, false),
            Err(e) => {
                diags.push(match origin {
                    "cmd" => Diagnostic::error(
                        "Invalid argument value for -var variable",
                        format!("The received arg value for {name} is not compatible with the variable's type constraint: {e}."),
                    ),
                    _ => Diagnostic::error(
                        "Invalid value for variable",
                        format!("The value for {name} is not compatible with the variable's type constraint: {e}."),
                    )
                    .with_subject(subject.clone()),
                });
                (Value::Unknown, true)
            }
        };
        given.insert(
            name.to_string(),
            Given {
                value,
                origin,
                subject,
                invalid,
            },
        );
    };
    // PKR_VAR_name, in the environment's order.
    for (k, raw) in &inputs.env {
        let Some(name) = k.strip_prefix("PKR_VAR_") else {
            continue;
        };
        let Some(var) = t.variables.get(name) else {
            continue;
        };
        let ty = input_type(var);
        let fake = format!("<value for var.{name} from env>");
        match value_from_definition(&fake, raw, ty.as_ref()) {
            Ok((v, subject)) => assign(
                &mut given,
                &mut diags,
                name,
                v,
                "env",
                Some(subject),
                ty.as_ref(),
            ),
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
    // Parsed first (`Parse`): their syntax errors come before the others.
    let mut parse_diags = Diagnostics::new();
    let read: Vec<VarFile> = files
        .iter()
        .filter_map(|p| read_var_file(p, &mut parse_diags))
        .collect();
    for f in read {
        // Packer looks for `variable` blocks in each file in turn and stops there when any
        // error was found so far (in the environment, the files before).
        diags.extend(f.declarations);
        if diags.has_errors() {
            parse_diags.extend(diags);
            return (Collected(given), parse_diags);
        }
        diags.extend(f.blocks);
        for (name, value, subject) in f.assignments {
            let Some(var) = t.variables.get(&name) else {
                if inputs.warn_undeclared {
                    // Packer's gives the entry as context only: no source lines.
                    diags.push(Diagnostic::warning(
                        "Undefined variable",
                        format!("The variable {name:?} was set but was not declared as an input variable.\nTo declare variable {name:?} place this block in one of your .pkr.hcl files, such as variables.pkr.hcl\n\nvariable {name:?} {{\n  type    = string\n  default = null\n}}"),
                    ));
                }
                continue;
            };
            match value {
                Ok(value) => {
                    let ty = input_type(var);
                    assign(
                        &mut given,
                        &mut diags,
                        &name,
                        value,
                        "varfile",
                        subject,
                        ty.as_ref(),
                    );
                }
                Err(d) => diags.push(d),
            }
        }
    }
    // Typed expressions (resource spec values): as a var file would give them.
    for (name, raw) in &inputs.exprs {
        let Some(var) = t.variables.get(name) else {
            diags.push(Diagnostic::error(
                "Undefined variable",
                format!("A value was given for variable {name:?}, but the template declares no such variable."),
            ));
            continue;
        };
        match parse_expr_value(raw, &format!("variables.{name}")) {
            Ok(v) => {
                let ty = input_type(var);
                assign(
                    &mut given,
                    &mut diags,
                    name,
                    v,
                    "varfile",
                    None,
                    ty.as_ref(),
                );
            }
            Err(d) => diags.push(d),
        }
    }
    // -var always wins; given twice, the last value (Go's map).
    let mut argv: Vec<(&String, &String)> = Vec::new();
    for (name, raw) in &inputs.vars {
        match argv.iter_mut().find(|(n, _)| *n == name) {
            Some(e) => e.1 = raw,
            None => argv.push((name, raw)),
        }
    }
    for (name, raw) in argv {
        let Some(var) = t.variables.get(name) else {
            diags.push(Diagnostic::error(
                "Undefined -var variable",
                format!("A {name:?} variable was passed in the command line but was not found in known variables. To declare variable {name:?}, place this block in one of your .pkr files, such as variables.pkr.hcl"),
            ));
            continue;
        };
        let ty = input_type(var);
        let fake = format!("<value for var.{name} from arguments>");
        match value_from_definition(&fake, raw, ty.as_ref()) {
            Ok((v, subject)) => assign(
                &mut given,
                &mut diags,
                name,
                v,
                "cmd",
                Some(subject),
                ty.as_ref(),
            ),
            Err(d) => diags.push(d),
        }
    }
    parse_diags.extend(diags);
    (Collected(given), parse_diags)
}

fn auto_var_files(root: &Path) -> Vec<PathBuf> {
    let mut hcl = Vec::new();
    let mut json = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            // Named as Go's `filepath.Join` names them (`./x` is `x`).
            if n.ends_with(".auto.pkrvars.hcl") {
                hcl.push(crate::template::go_clean(&e.path()));
            } else if n.ends_with(".auto.pkrvars.json") {
                json.push(crate::template::go_clean(&e.path()));
            }
        }
    }
    hcl.sort();
    json.sort();
    hcl.extend(json);
    hcl
}

/// Collects every variable's value in precedence order ([`collect`]), then checks what
/// Packer checks once the template is initialised: unset variables, validation rules; and
/// registers sensitive values. All problems are reported together.
pub fn resolve(t: &mut Template, inputs: &VarInputs) -> Diagnostics {
    let (given, mut diags) = collect(t, inputs);
    diags.extend(finish(t, given));
    diags
}

/// The second half of [`resolve`], for values [`collect`] gathered (and whose problems were
/// reported already).
pub fn finish(t: &mut Template, given: Collected) -> Diagnostics {
    let given = given.0;
    let mut diags = Diagnostics::new();
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
        let value = g.value.clone();
        if g.invalid {
            // Reported by `collect`; unknown, as Packer's `cty.DynamicVal`.
            values.insert(name.clone(), Value::Unknown);
            continue;
        }
        // Validation rules see only this variable's final value.
        let mut scope_vars = BTreeMap::new();
        scope_vars.insert(name.clone(), value.clone());
        let mut env = EvalEnv::default();
        let mut types = crate::hcl::describe::RootTypes::new();
        types.insert(
            "var".to_string(),
            crate::hcl::types::Type::Object(
                [(
                    name.clone(),
                    crate::hcl::types::Attr {
                        ty: crate::hcl::describe::concrete(&value, var.ty.as_ref()),
                        optional: false,
                        default: None,
                    },
                )]
                .into(),
            ),
        );
        env.types = std::sync::Arc::new(types);
        env.vars = std::sync::Arc::new([("var".to_string(), Value::Object(scope_vars))].into());
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
