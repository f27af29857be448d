//! Block bodies kept as syntax (with their file) so they can be evaluated later — component
//! configs are decoded at validate time and again at run time with `build.*` known — and the
//! [`ConfigReader`] components use to decode their own arguments with positioned errors.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use hcl::edit::Span;
use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body, Structure};

use crate::diag::{Diagnostic, Diagnostics, SourceFile, Subject};
use crate::functions::FuncCtx;
use crate::hcl::types::Type;
use crate::hcl::{Evaluator, Scope};
use crate::legacy::decode::{self as ms, MsError};
use crate::legacy::json::J;
use crate::value::Value;

/// An attribute with the file it came from.
#[derive(Clone, Debug)]
pub struct RawAttr {
    pub key: String,
    pub key_span: Option<Range<usize>>,
    pub expr: Expression,
    pub file: Arc<SourceFile>,
    /// Names bound by an enclosing `dynamic` block (its iterator).
    pub bindings: BTreeMap<String, Value>,
}

impl RawAttr {
    /// HCL's "Unsupported argument" error for this attribute.
    pub fn unsupported(&self) -> Diagnostic {
        self.unsupported_suggesting("")
    }

    /// HCL's "Unsupported argument" error in `body`, whose schema has the arguments `attrs`
    /// and the block types `blocks` (in the schema's order): with hcl's suggestion, an
    /// argument `body` does not set within an edit distance of 3, else a block type so named.
    pub fn unsupported_in(&self, body: &RawBody, attrs: &[&str], blocks: &[&str]) -> Diagnostic {
        let unset: Vec<&str> = attrs
            .iter()
            .copied()
            .filter(|k| body.attr(k).is_none())
            .collect();
        let suggestion = match name_suggestion(&self.key, &unset) {
            Some(s) => format!(" Did you mean {}?", crate::value::go_quote(s)),
            None if blocks.contains(&self.key.as_str()) => format!(
                " Did you mean to define a block of type {}?",
                crate::value::go_quote(&self.key)
            ),
            None => String::new(),
        };
        self.unsupported_suggesting(&suggestion)
    }

    /// `suggestion`: hcl's " Did you mean …?" (empty when there is none).
    pub fn unsupported_suggesting(&self, suggestion: &str) -> Diagnostic {
        if self.file.is_json() {
            return extraneous(&self.key).with_subject(self.key_subject());
        }
        Diagnostic::error(
            "Unsupported argument",
            format!(
                "An argument named {} is not expected here.{suggestion}",
                crate::value::go_quote(&self.key)
            ),
        )
        .with_subject(self.key_subject())
    }

    pub fn subject(&self) -> Option<Subject> {
        self.expr
            .span()
            .or(self.key_span.clone())
            .map(|r| self.file.subject(r))
    }
    pub fn key_subject(&self) -> Option<Subject> {
        self.key_span.clone().map(|r| self.file.subject(r))
    }
}

/// A nested block with the file it came from.
#[derive(Clone, Debug)]
pub struct RawBlock {
    pub ident: String,
    pub labels: Vec<String>,
    pub body: RawBody,
    pub span: Option<Range<usize>>,
    pub ident_span: Option<Range<usize>>,
    /// Where the header (type and labels, HCL's `DefRange`) ends.
    pub header_end: Option<usize>,
    pub file: Arc<SourceFile>,
}

/// hcl json's error for a property that is neither an argument nor a block type.
fn extraneous(name: &str) -> Diagnostic {
    Diagnostic::error(
        "Extraneous JSON object property",
        format!(
            "No argument or block type is named {}.",
            crate::value::go_quote(name)
        ),
    )
}

impl RawBlock {
    /// HCL's "Unsupported block type" error for this block.
    pub fn unsupported(&self) -> Diagnostic {
        self.unsupported_in(&[], &[])
    }

    /// HCL's "Unsupported block type" error for this block in a body whose schema has the
    /// arguments `attrs` and the block types `blocks` (in the schema's order): with hcl's
    /// suggestion, a block type within an edit distance of 3, else an argument so named.
    pub fn unsupported_in(&self, attrs: &[&str], blocks: &[&str]) -> Diagnostic {
        self.unsupported_as(&self.ident, attrs, blocks)
    }

    /// [`unsupported_in`](Self::unsupported_in) for the block type `ident` (a `dynamic`
    /// block's label).
    fn unsupported_as(&self, ident: &str, attrs: &[&str], blocks: &[&str]) -> Diagnostic {
        if self.file.is_json() {
            return extraneous(ident).with_subject(self.subject());
        }
        let suggestion = match name_suggestion(ident, blocks) {
            Some(s) => format!(" Did you mean {}?", crate::value::go_quote(s)),
            None if attrs.contains(&ident) => format!(
                " Did you mean to define argument {}? If so, use the equals sign to assign it a value.",
                crate::value::go_quote(ident)
            ),
            None => String::new(),
        };
        Diagnostic::error(
            "Unsupported block type",
            format!(
                "Blocks of type {} are not expected here.{suggestion}",
                crate::value::go_quote(ident)
            ),
        )
        .with_subject(self.subject())
    }

    pub fn from_block(block: &Block, file: &Arc<SourceFile>) -> RawBlock {
        RawBlock {
            ident: block.ident.as_str().to_string(),
            labels: block
                .labels
                .iter()
                .map(|l| l.as_str().to_string())
                .collect(),
            body: RawBody::from_body(&block.body, file),
            span: block.span(),
            ident_span: block.ident.span(),
            header_end: block
                .labels
                .last()
                .and_then(|l| l.span())
                .or(block.ident.span())
                .map(|r| r.end),
            file: file.clone(),
        }
    }

    /// HCL's `DefRange` (the type keyword and labels) as Go's `hcl.Range.String()`:
    /// `file:line,col-endcol`, or `file:line,col-endline,endcol` across lines.
    pub fn def_range(&self) -> String {
        let Some(start) = self.ident_span.clone().or(self.span.clone()) else {
            return self.file.name.clone();
        };
        let end = self.header_end.unwrap_or(start.end);
        self.file.range_string(start.start..end.max(start.start))
    }

    /// The block's header position (its type keyword).
    pub fn subject(&self) -> Option<Subject> {
        self.ident_span
            .clone()
            .or(self.span.clone())
            .map(|r| self.file.subject(r))
    }
}

/// A body: attributes and blocks in source order.
#[derive(Clone, Debug, Default)]
pub struct RawBody {
    pub attrs: Vec<RawAttr>,
    pub blocks: Vec<RawBlock>,
    /// The config of a component in a legacy JSON template, which the SDK decodes with
    /// mapstructure: an option HCL2 writes as a nested block is a JSON object there
    /// ([`ConfigReader::blocks`]).
    pub mapstructure: bool,
}

impl RawBody {
    pub fn from_body(body: &Body, file: &Arc<SourceFile>) -> RawBody {
        let mut out = RawBody::default();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => out.attrs.push(RawAttr {
                    key: a.key.as_str().to_string(),
                    key_span: a.key.span(),
                    expr: a.value.clone(),
                    file: file.clone(),
                    bindings: BTreeMap::new(),
                }),
                Structure::Block(b) => out.blocks.push(RawBlock::from_block(b, file)),
            }
        }
        out
    }

    /// Binds a name (a dynamic block's iterator) in every expression of this body.
    pub fn bind(&mut self, name: &str, value: &Value) {
        for a in &mut self.attrs {
            a.bindings.insert(name.to_string(), value.clone());
        }
        for b in &mut self.blocks {
            b.body.bind(name, value);
        }
    }

    pub fn attr(&self, key: &str) -> Option<&RawAttr> {
        self.attrs.iter().find(|a| a.key == key)
    }

    /// hcl's dynblock `unknownBody` (the block of a `dynamic` block whose `for_each` is
    /// unknown): every attribute, nested blocks' too, is an unknown value of unknown type,
    /// its expression never evaluated; where they are stays.
    pub fn make_unknown(&mut self) {
        const NAME: &str = "__kiln_dynblock_unknown";
        for a in &mut self.attrs {
            a.expr = Expression::Variable(hcl::edit::Decorated::new(hcl::edit::Ident::new(NAME)));
            a.bindings.insert(NAME.to_string(), Value::Unknown);
        }
        for b in &mut self.blocks {
            b.body.make_unknown();
        }
    }

    /// Merges another body's attributes and blocks into this one. An attribute set in both is
    /// HCL's "Duplicate argument" error.
    pub fn merge(&mut self, other: &RawBody) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for a in &other.attrs {
            if let Some(prev) = self.attr(&a.key) {
                // hcl's merged body, word for word.
                let first = prev
                    .key_subject()
                    .map(|s| format!(" at {}", s.range_string()))
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        "Duplicate argument",
                        format!("Argument {:?} was already set{first}", a.key),
                    )
                    .with_subject(a.key_subject()),
                );
            } else {
                self.attrs.push(a.clone());
            }
        }
        self.blocks.extend(other.blocks.iter().cloned());
        diags
    }
}

/// What an expression in a component body may reference.
#[derive(Clone, Debug, Default)]
pub struct EvalEnv {
    /// Root names shared by many bodies: `var`, `local`, `data`, `path`, `packer`. Shared,
    /// never copied per evaluation.
    pub vars: Arc<BTreeMap<String, Value>>,
    /// Names of one body's context on top (`source`, `build`, a validation's `var`).
    pub overlay: BTreeMap<String, Value>,
    pub funcs: FuncCtx,
    /// The types of `vars`' roots where Kiln knows them (a variable's declared type): the
    /// `with …` lines of diagnostics describe values by them.
    pub types: Arc<crate::hcl::describe::RootTypes>,
}

impl EvalEnv {
    /// Sets a root name for this context only.
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.overlay.insert(name.into(), value);
    }

    pub fn scope(&self) -> Scope<'_> {
        Scope::layered(&self.overlay, &self.vars).typed(&self.types)
    }

    pub fn evaluator(&self, file: &Arc<SourceFile>) -> Evaluator {
        Evaluator::new(file.clone(), self.funcs.clone())
    }

    /// Evaluates one attribute.
    pub fn eval_attr(&self, attr: &RawAttr) -> Result<Value, Diagnostic> {
        let mut scope = self.scope();
        for (k, v) in &attr.bindings {
            scope.set(k.clone(), v.clone());
        }
        self.evaluator(&attr.file).eval(&attr.expr, &scope)
    }
}

/// Decodes a component's body argument by argument, collecting every problem, and at the end
/// reports the arguments and blocks nobody asked for ("Unsupported argument").
pub struct ConfigReader<'a> {
    body: &'a RawBody,
    env: &'a EvalEnv,
    scope: Scope<'a>,
    used_attrs: BTreeSet<String>,
    used_blocks: BTreeSet<String>,
    pub diags: Diagnostics,
    /// Where the block itself starts, for "missing argument" errors.
    pub block_subject: Option<Subject>,
    /// Display of the block, e.g. `source "null" "example"`.
    pub block_desc: String,
    /// The SDK's Prepare-time interpolation of plugin options (`{{ build_name }}`): when
    /// set, every string option read is checked and rendered as the SDK's `RenderMap`
    /// does (see [`ConfigReader::render_later`]).
    pub interpolation: Option<crate::interpolate::Context>,
    /// Options the component renders itself at run time (the SDK's
    /// `InterpolateFilter.Exclude`): only checked when read.
    render_later: BTreeSet<String>,
    /// In a nested block: the option it belongs to (the SDK names it in errors) and whether
    /// that option is rendered now.
    top_key: Option<(String, bool)>,
    /// The first interpolation error (the SDK's `Decode` stops there), or the first error
    /// of gocty decoding the block's value into the plugin's config, which comes before it.
    interpolation_error: Option<String>,
    gocty_failed: bool,
    /// mapstructure's field errors decoding a legacy JSON template's component config
    /// (reported together, `N error(s) decoding:`, as the SDK's `Decode` returns them).
    ms_errors: Vec<String>,
    /// mapstructure's name of a nested struct's fields (`build.`): a JSON object given for a
    /// nested block is decoded with the rest, its errors among the block's.
    ms_prefix: String,
    /// The component's config passed over Packer's plugin RPC (every component of a legacy
    /// JSON template, Packer's own included): a JSON object reaches mapstructure as a
    /// `map[interface {}]interface {}`.
    pub rpc_plugin: bool,
    /// mapstructure's names of the options whose Go field has no `mapstructure` tag (the
    /// SDK's shell provisioners' `Inline`, `Script`…): its errors name the field.
    pub ms_go_names: &'static [(&'static str, &'static str)],
    /// The plugin's own decode hook for a string decoded into an `int` (the SDK's
    /// `DecodeOpts.DecodeHooks`, such as the powershell provisioner's
    /// `StringToExecutionPolicyHook`): mapstructure calls it, before its weak decoding, for
    /// every string of a legacy template that goes into an `int` field or element; its error
    /// is `error decoding 'NAME': …`.
    pub int_hook: Option<ms::IntHook>,
    /// A block Packer decodes with gohcl, not hcldec: a value of the wrong type is
    /// [`unsuitable`].
    pub gohcl: bool,
    /// The component's own checks after decoding (the plugin's `Prepare`), in its words:
    /// reported together as one `packersdk.MultiError` ([`multi_error`]), and only when
    /// decoding found no error (Packer prepares a component only once its block decoded).
    pub prepare_errors: Vec<String>,
    /// Kiln's own checks beyond the plugin's (options Kiln cannot honour, values it can
    /// tell are wrong before running): diagnostics of their own, apart from the plugin's
    /// `Prepare` errors. The component registry decides when they are reported: a builder's
    /// fail its build at its first step (the template validates as with Packer), the other
    /// kinds' are reported beside decoding's and `Prepare`'s.
    own_checks: Diagnostics,
    /// The warnings `Prepare` returns (reported under the same condition, before its error).
    pub prepare_warnings: Vec<String>,
    /// A `Prepare` that stopped with one plain error (not a MultiError): its text.
    pub prepare_failed: Option<String>,
}

/// The text of the Packer SDK's `MultiError` (`packersdk.MultiErrorAppend`): `N error(s)
/// occurred:`, a blank line, then `* error` per error, one a line.
pub fn multi_error<S: AsRef<str>>(errors: &[S]) -> String {
    let points: Vec<String> = errors.iter().map(|e| format!("* {}", e.as_ref())).collect();
    format!(
        "{} error(s) occurred:\n\n{}",
        errors.len(),
        points.join("\n")
    )
}

/// The summary [`ConfigReader::finish`] gives an interpolation error, for the decoder of
/// the component to word as Packer does for its kind (see [`ConfigReader::interpolation_error`]).
pub const INTERPOLATION_ERROR: &str = "Error interpolating plugin options";

impl<'a> ConfigReader<'a> {
    /// Whether the component's config comes from a legacy JSON template (the SDK decodes it
    /// with mapstructure over the plugin's defaults; an HCL2 config reaches it with every
    /// option of the plugin's spec, the unset ones null, which overwrite any default the
    /// plugin set before decoding).
    pub fn is_legacy(&self) -> bool {
        self.body.mapstructure
    }

    pub fn new(
        body: &'a RawBody,
        env: &'a EvalEnv,
        block_subject: Option<Subject>,
        block_desc: impl Into<String>,
    ) -> ConfigReader<'a> {
        ConfigReader {
            body,
            env,
            scope: env.scope(),
            used_attrs: BTreeSet::new(),
            used_blocks: BTreeSet::new(),
            diags: Diagnostics::new(),
            block_subject,
            block_desc: block_desc.into(),
            prepare_errors: Vec::new(),
            own_checks: Diagnostics::new(),
            prepare_warnings: Vec::new(),
            prepare_failed: None,
            interpolation: None,
            render_later: BTreeSet::new(),
            top_key: None,
            interpolation_error: None,
            gocty_failed: false,
            ms_errors: Vec::new(),
            ms_prefix: String::new(),
            rpc_plugin: false,
            ms_go_names: &[],
            int_hook: None,
            gohcl: false,
        }
    }

    /// Options rendered by the component itself at run time, with data only known then
    /// (the SDK's `InterpolateFilter.Exclude`, such as `execute_command`): Prepare only
    /// checks they parse.
    pub fn render_later(&mut self, keys: &[&str]) {
        self.render_later.extend(keys.iter().map(|k| k.to_string()));
    }

    /// The first interpolation error, in the SDK's words (`render 'inline': template: …
    /// in:\n\n<text>`), once the whole block was read.
    pub fn interpolation_error(&self) -> Option<&str> {
        self.interpolation_error.as_deref()
    }

    /// Checks and renders one string of option `key` as the SDK's Prepare does (see
    /// [`crate::interpolate::render_option`]); for strings a component reads itself through
    /// [`ConfigReader::any`]. The first error is kept for [`ConfigReader::finish`].
    pub fn interpolate(&mut self, key: &str, text: String) -> String {
        let Some(ctx) = &self.interpolation else {
            return text;
        };
        if self.interpolation_error.is_some() || !text.contains("{{") {
            return text;
        }
        let (name, now) = match &self.top_key {
            Some((k, now)) => (k.as_str(), *now),
            None => (key, !self.render_later.contains(key)),
        };
        match crate::interpolate::render_option(ctx, name, &text, now) {
            Ok(r) => r,
            Err(e) => {
                self.interpolation_error = Some(e);
                text
            }
        }
    }

    /// The SDK's `Decode` of an HCL2 block's value (gocty's `FromCtyValue` into the plugin's
    /// flat config) fails at element `step` of option `key`: `null value is not allowed`,
    /// `value must be a whole number, …`, with the path as Go prints a `cty.Path`. The first
    /// such error is the only one reported (before any interpolation error). Only for an
    /// option at the top of the block (a nested one keeps hcldec's words).
    fn gocty_fail(&mut self, key: &str, step: &PathStep, message: &str) -> bool {
        if self.body.mapstructure || self.top_key.is_some() {
            return false;
        }
        if !self.gocty_failed {
            let step = match step {
                // A string key: its cty.Value printed by %v; a number key is a *big.Float,
                // printed as its address (random in Packer).
                PathStep::Key(k) => format!("{{{{{{{{}} 83}}}} {k}}}"),
                PathStep::Index => "{{{{} 78}} 0xc000012345}".to_string(),
            };
            self.interpolation_error = Some(format!("{message}: [{{{{}} {key}}} {{{{}} {step}}}]"));
            self.gocty_failed = true;
        }
        true
    }

    /// Records an error of the component's own checks (its plugin's `Prepare`), in the
    /// plugin's words: see [`ConfigReader::prepare_errors`].
    pub fn prepare_error(&mut self, message: impl Into<String>) {
        self.prepare_errors.push(message.into());
    }

    /// Records that the plugin's `Prepare` stops with this one error (a plain error, not a
    /// MultiError: the errors recorded before it are not reported).
    pub fn prepare_fail(&mut self, message: impl Into<String>) {
        self.prepare_failed.get_or_insert(message.into());
    }

    /// Records a warning the plugin's `Prepare` returns.
    pub fn prepare_warning(&mut self, message: impl Into<String>) {
        self.prepare_warnings.push(message.into());
    }

    /// The SDK's `common.PackerConfig` options (`packer_build_name`, `packer_force`, …), in
    /// the schema of nearly every component: Packer's core passes its own values after the
    /// template's, which they override, so a template's are only decoded (types checked).
    pub fn packer_config_options(&mut self) {
        for k in [
            "packer_build_name",
            "packer_builder_type",
            "packer_core_version",
            "packer_on_error",
        ] {
            let _ = self.string(k);
        }
        for k in ["packer_debug", "packer_force"] {
            let _ = self.bool(k);
        }
        let _ = self.string_map("packer_user_variables");
        let _ = self.strings("packer_sensitive_variables");
    }

    /// Marks arguments as handled elsewhere (meta-arguments such as `only`).
    pub fn ignore(&mut self, keys: &[&str]) {
        for k in keys {
            self.used_attrs.insert(k.to_string());
        }
    }

    /// Marks every argument and block as handled (a block that is not decoded at all).
    pub fn ignore_all(&mut self) {
        let body = self.body;
        self.used_attrs
            .extend(body.attrs.iter().map(|a| a.key.clone()));
        self.used_blocks.extend(body.blocks.iter().map(block_type));
    }

    pub fn has(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// The argument named `key`; in a legacy JSON template's component config, as
    /// mapstructure matches a field: the exact name, else one equal ignoring case.
    fn find(&self, key: &str) -> Option<&'a RawAttr> {
        let body: &'a RawBody = self.body;
        body.attr(key).or_else(|| {
            body.mapstructure
                .then(|| body.attrs.iter().find(|a| a.key.eq_ignore_ascii_case(key)))
                .flatten()
        })
    }

    /// The raw value of an argument, if set (null counts as unset).
    pub fn value(&mut self, key: &str) -> Option<(Value, &'a RawAttr)> {
        self.used_attrs.insert(key.to_string());
        let attr = self.find(key)?;
        self.used_attrs.insert(attr.key.clone());
        let result = if attr.bindings.is_empty() {
            self.env.evaluator(&attr.file).eval(&attr.expr, &self.scope)
        } else {
            self.env.eval_attr(attr)
        };
        match result {
            Ok(Value::Null) => None,
            Ok(v) => Some((v, attr)),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    /// In a legacy JSON template's component config, `key`'s value as mapstructure decodes
    /// it into the plugin's field (`decode`, weakly typed): `None` when the body is not one
    /// (HCL2: hcldec's rules apply), `Some(None)` when the option is unset or its field
    /// error was recorded.
    fn ms_decode<T>(
        &mut self,
        key: &str,
        decode: impl FnOnce(&str, &J) -> Result<Option<T>, MsError>,
    ) -> Option<Option<T>> {
        if !self.body.mapstructure || (self.top_key.is_some() && self.ms_prefix.is_empty()) {
            return None;
        }
        let Some((v, _)) = self.value(key) else {
            return Some(None);
        };
        if v == Value::Unknown {
            return Some(None);
        }
        // mapstructure names the field (its tag, whatever the template's spelling of the key)
        let field = self
            .ms_go_names
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, go)| *go);
        let name = format!("{}{}", self.ms_prefix, field);
        let errors = match decode(&name, &to_j(&v)) {
            Ok(t) => return Some(t),
            Err(MsError::One(e)) => vec![e],
            Err(MsError::Many(es)) => es,
        };
        for e in errors {
            self.ms_errors.push(if self.rpc_plugin {
                e.replace(
                    "got unconvertible type 'map[string]interface {}'",
                    "got unconvertible type 'map[interface {}]interface {}'",
                )
            } else {
                e
            });
        }
        Some(None)
    }

    fn bad(&mut self, attr: &RawAttr, what: &str) {
        if self.gohcl {
            self.diags.push(unsuitable(self.env, attr, what));
            return;
        }
        let with = self.statements(attr);
        self.diags
            .push(wrong_type(attr, what).with_statements(with));
    }

    /// hcldec's type errors carry the attribute's expression and context: the `with …`
    /// statements of the variables it reads.
    fn statements(&self, attr: &RawAttr) -> Vec<String> {
        let vars = crate::hcl::describe::variables(&attr.expr);
        if attr.bindings.is_empty() {
            crate::hcl::describe::statements(&vars, &self.scope)
        } else {
            let mut scope = self.env.scope();
            for (k, v) in &attr.bindings {
                scope.set(k.clone(), v.clone());
            }
            crate::hcl::describe::statements(&vars, &scope)
        }
    }

    /// Reports at the argument `key` that its value is not what it must be (`what`: `bool
    /// required`), as [`wrong_type`] says it.
    pub fn wrong_type(&mut self, key: &str, what: &str) {
        let with = self
            .find(key)
            .map(|a| self.statements(a))
            .unwrap_or_default();
        let subject = self.subject_of(key);
        self.diags.push(
            Diagnostic::error(WRONG_TYPE, wrong_type_detail(key, what))
                .with_subject(subject)
                .with_statements(with),
        );
    }

    /// Reports an error at an argument.
    pub fn error_at(&mut self, key: &str, summary: &str, detail: impl Into<String>) {
        let subject = self.subject_of(key);
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(subject));
    }

    /// Where the argument `key` stands, else the block.
    fn subject_of(&self, key: &str) -> Option<Subject> {
        self.body
            .attr(key)
            .and_then(|a| a.subject())
            .or(self.block_subject.clone())
    }

    /// Reports an error of Kiln's own checks at an argument (see `own_checks`: it does not
    /// hide the plugin's `Prepare` errors).
    pub fn check_error_at(&mut self, key: &str, summary: &str, detail: impl Into<String>) {
        let subject = self.subject_of(key);
        self.own_checks
            .push(Diagnostic::error(summary, detail).with_subject(subject));
    }

    /// Reports an error of Kiln's own checks at the block.
    pub fn check_error(&mut self, summary: &str, detail: impl Into<String>) {
        self.own_checks
            .push(Diagnostic::error(summary, detail).with_subject(self.block_subject.clone()));
    }

    /// Reports an error at the block.
    pub fn error(&mut self, summary: &str, detail: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(self.block_subject.clone()));
    }

    /// Reports a warning at an argument.
    pub fn warn_at(&mut self, key: &str, summary: &str, detail: impl Into<String>) {
        let subject = self.subject_of(key);
        self.diags
            .push(Diagnostic::warning(summary, detail).with_subject(subject));
    }

    /// Reports a warning at the block.
    pub fn warn(&mut self, summary: &str, detail: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(summary, detail).with_subject(self.block_subject.clone()));
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        if let Some(r) = self.ms_decode(key, |k, j| ms::string(k, j, true)) {
            return r.map(|s| self.interpolate(key, s));
        }
        let (v, attr) = self.value(key)?;
        if v == Value::Unknown {
            return Some("<unknown>".to_string());
        }
        match v.to_string_lossless() {
            Some(s) => Some(self.interpolate(key, s)),
            None => {
                self.bad(attr, "string required");
                None
            }
        }
    }

    /// In a legacy JSON template, a string option as the plugin's Prepare left it: its
    /// generated-data references as the SDK's placeholders (`{{.ID}}`), for a component that
    /// never renders them again with the build's data (the breakpoint provisioner). Elsewhere
    /// [`string`](Self::string).
    pub fn string_prepared(&mut self, key: &str) -> Option<String> {
        if !self.body.mapstructure {
            return self.string(key);
        }
        let mut attr = self.find(key)?.clone();
        self.used_attrs.insert(key.to_string());
        self.used_attrs.insert(attr.key.clone());
        let placeholders = crate::legacy::config::GENERATED_KEYS
            .iter()
            .map(|k| (k.to_string(), Value::str(format!("{{{{.{k}}}}}"))))
            .collect();
        attr.bindings
            .insert("build".to_string(), Value::Object(placeholders));
        match self.env.eval_attr(&attr) {
            Ok(Value::Null) => None,
            // (mapstructure's weak decoding of a bool into a string.)
            Ok(Value::Bool(b)) => Some(if b { "1" } else { "0" }.to_string()),
            Ok(v) => v.to_string_lossless(),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    /// A required string argument.
    pub fn required_string(&mut self, key: &str) -> Option<String> {
        let v = self.string(key);
        if v.is_none() && !self.has(key) {
            self.error(
                "Missing required argument",
                format!("The argument {key:?} is required, but no definition was found."),
            );
        }
        v
    }

    /// A known value converted by `convert`; an unknown value reads as unset, a value
    /// `convert` refuses is reported as `Inappropriate value …: {what}`, `what` given the
    /// value.
    fn converted<T>(
        &mut self,
        key: &str,
        what: impl FnOnce(&Value) -> String,
        convert: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        let (v, attr) = self.value(key)?;
        if v == Value::Unknown {
            return None;
        }
        let out = convert(&v);
        if out.is_none() {
            self.bad(attr, &what(&v));
        }
        out
    }

    /// cty's conversion words: a string that does not read as the type "a bool is
    /// required"; any other value "bool required".
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        if let Some(r) = self.ms_decode(key, |k, j| ms::boolean(k, j, true)) {
            return r;
        }
        let what = |v: &Value| match v {
            Value::String(s) => Value::bool_string_error(s),
            _ => "bool required".to_string(),
        };
        self.converted(key, what, Value::to_bool)
    }

    pub fn number(&mut self, key: &str) -> Option<f64> {
        let what = |v: &Value| match v {
            Value::String(_) => "a number is required".to_string(),
            _ => "number required".to_string(),
        };
        self.converted(key, what, Value::to_number)
    }

    /// A whole number. cty converts the value to a number first (its words for what is no
    /// number); a number that is not a whole one, or not an int64, stops the plugin before its
    /// `Prepare` with gocty's error (the SDK decodes the configuration into Go's `int`).
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let hook = self.int_hook;
        if let Some(r) = self.ms_decode(key, |k, j| ms::int_hooked(k, j, hook)) {
            return r;
        }
        let what = |v: &Value| match v {
            Value::String(_) => "a number is required".to_string(),
            _ => "number required".to_string(),
        };
        let n = self.converted(key, what, Value::to_number)?;
        if n.fract() == 0.0 && n.abs() < 9.2e18 {
            return Some(n as i64);
        }
        let path = match &self.top_key {
            Some((top, _)) => format!("{top}.{key}"),
            None => key.to_string(),
        };
        let message = format!(
            "value must be a whole number, between {} and {}: [{{{{}} {path}}}]",
            i64::MIN,
            i64::MAX
        );
        if self.body.mapstructure || self.top_key.is_some() {
            self.prepare_fail(message);
        } else if !self.gocty_failed {
            // gocty's error in the SDK's `Decode`: before mapstructure's and interpolation's.
            self.interpolation_error = Some(message);
            self.gocty_failed = true;
        }
        None
    }

    /// An option the plugin's schema types as a string and its config as an int, decoded
    /// with its [`int_hook`](Self::int_hook) (the powershell provisioner's
    /// `execution_policy`): in HCL2 the string goes through the hook, whose error is
    /// mapstructure's `error decoding 'KEY': …`; in a legacy template it is
    /// [`int`](Self::int).
    pub fn int_from_string(&mut self, key: &str) -> Option<i64> {
        if self.body.mapstructure && !(self.top_key.is_some() && self.ms_prefix.is_empty()) {
            return self.int(key);
        }
        if matches!(self.value(key)?.0, Value::Unknown) {
            return None;
        }
        let text = self.string(key)?;
        let hook = self.int_hook?;
        match hook(&text) {
            Ok(n) => Some(n),
            Err(e) => {
                self.ms_errors
                    .push(format!("error decoding '{}{key}': {e}", self.ms_prefix));
                None
            }
        }
    }

    /// A `time.Duration` option of a plugin: the SDK's `Decode` turns the string (HCL2's
    /// flat config holds a string; a legacy JSON template's value is decoded weakly, a number
    /// counting nanoseconds) into a duration with Go's `time.ParseDuration`, and an invalid
    /// one is mapstructure's `error decoding 'KEY': time: invalid duration "x"` (the
    /// component's Prepare then stops: see [`ConfigReader::finish_parts`]). A negative
    /// duration reads as zero.
    pub fn duration(&mut self, key: &str) -> Option<Duration> {
        if let Some(r) = self.ms_decode(key, |k, j| ms::duration(k, j, true)) {
            return r;
        }
        let (v, attr) = self.value(key)?;
        if v == Value::Unknown {
            return None;
        }
        let Some(s) = v.to_string_lossless() else {
            self.bad(attr, "string required");
            return None;
        };
        match go_parse_duration(&self.interpolate(key, s)) {
            Ok(d) => Some(d),
            Err(e) => {
                self.ms_errors
                    .push(format!("error decoding '{}': {e}", attr.key));
                None
            }
        }
    }

    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        if let Some(r) = self.ms_decode(key, |k, j| ms::sdk_strings(k, j).map(Some)) {
            return r.map(|items| {
                items
                    .into_iter()
                    .map(|s| self.interpolate(key, s))
                    .collect()
            });
        }
        let (v, attr) = self.value(key)?;
        let whole = v.clone();
        let why = |v: &Value| cty_mismatch(v, Type::List(Box::new(Type::String)));
        // mapstructure's weak decoding (a legacy JSON template): a single value is a list
        // of one, an empty object an empty list, a bool the string "1" or "0".
        let v = match v {
            Value::Object(m) if self.body.mapstructure && m.is_empty() => Value::List(Vec::new()),
            Value::List(_) | Value::Unknown => v,
            other if self.body.mapstructure => Value::List(vec![other]),
            other => other,
        };
        match v {
            Value::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::Unknown => out.push("<unknown>".to_string()),
                        Value::Bool(b) if self.body.mapstructure => {
                            out.push(if b { "1" } else { "0" }.to_string())
                        }
                        Value::Null
                            if self.gocty_fail(
                                key,
                                &PathStep::Index,
                                "null value is not allowed",
                            ) =>
                        {
                            out.push(String::new())
                        }
                        other => match other.to_string_lossless() {
                            Some(s) => {
                                let s = self.interpolate(key, s);
                                out.push(s);
                            }
                            None => {
                                self.bad(attr, &why(&whole));
                                return None;
                            }
                        },
                    }
                }
                Some(out)
            }
            Value::Unknown => Some(vec![]),
            _ => {
                self.bad(attr, &why(&whole));
                None
            }
        }
    }

    /// A `config.Trilean` option of the SDK: a bool in HCL2 (`None` when unset), the SDK's
    /// hooks in a legacy template ([`ms::trilean`]).
    pub fn trilean(&mut self, key: &str) -> Option<bool> {
        if let Some(r) = self.ms_decode(key, ms::trilean) {
            return r;
        }
        self.bool(key)
    }

    /// A `[]byte` option of the SDK (`ssh_private_key`, `ssh_public_key`): a list of
    /// numbers, each a whole number 0–255 (gocty into `uint8`; mapstructure's weak decoding
    /// in a legacy template).
    pub fn bytes(&mut self, key: &str) -> Option<Vec<u8>> {
        if let Some(r) = self.ms_decode(key, |k, j| ms::sdk_bytes(k, j).map(Some)) {
            return r;
        }
        let (v, attr) = self.value(key)?;
        if v == Value::Unknown {
            return None;
        }
        match crate::hcl::types::convert(&v, &Type::List(Box::new(Type::Number))) {
            Ok(Value::List(items)) => {
                let mut out = Vec::new();
                for item in &items {
                    let why = match item.to_number() {
                        None if *item == Value::Null => "null value is not allowed",
                        Some(n) if n.fract() == 0.0 && (0.0..=255.0).contains(&n) => {
                            out.push(n as u8);
                            continue;
                        }
                        _ => "value must be a whole number, between 0 and 255",
                    };
                    self.gocty_fail(key, &PathStep::Index, why);
                    return None;
                }
                Some(out)
            }
            Ok(_) => Some(Vec::new()),
            Err(why) => {
                self.bad(attr, &why);
                None
            }
        }
    }

    /// A `[][]string` option of a plugin (`qemuargs`, `boot_steps`) in a legacy template,
    /// decoded by mapstructure as the SDK's `Decode` does; `None` in an HCL2 template (the
    /// caller reads the value itself).
    pub fn ms_string_lists(&mut self, key: &str) -> Option<Option<Vec<Vec<String>>>> {
        self.ms_decode(key, |k, j| ms::sdk_string_lists(k, j).map(Some))
    }

    /// A list of numbers, converted as cty converts to `list(number)` (`"1"` is 1; its
    /// words for what does not convert: `a number is required`, `element 0: number
    /// required`). Unknown elements are left out. A legacy template's value is taken as it
    /// is (its numbers only).
    pub fn numbers(&mut self, key: &str) -> Option<Vec<f64>> {
        let hook = self.int_hook;
        if let Some(r) = self.ms_decode(key, |k, j| ms::sdk_ints(k, j, hook).map(Some)) {
            return r.map(|items| items.into_iter().map(|n| n as f64).collect());
        }
        let (v, attr) = self.value(key)?;
        if v == Value::Unknown {
            return None;
        }
        match crate::hcl::types::convert(&v, &Type::List(Box::new(Type::Number))) {
            Ok(Value::List(items)) => {
                // gocty into the plugin's `[]int`.
                for item in &items {
                    let why = match item.to_number() {
                        None if *item == Value::Null => "null value is not allowed".to_string(),
                        Some(n) if n.fract() != 0.0 || n.abs() >= 9.2e18 => format!(
                            "value must be a whole number, between {} and {}",
                            i64::MIN,
                            i64::MAX
                        ),
                        _ => continue,
                    };
                    self.gocty_fail(key, &PathStep::Index, &why);
                    return None;
                }
                Some(items.iter().filter_map(Value::to_number).collect())
            }
            Ok(_) => Some(Vec::new()),
            Err(why) => {
                self.bad(attr, &why);
                None
            }
        }
    }

    pub fn string_map(&mut self, key: &str) -> Option<BTreeMap<String, String>> {
        if let Some(r) = self.ms_decode(key, ms::string_map) {
            // The SDK renders map keys too.
            return r.map(|entries| {
                entries
                    .into_iter()
                    .map(|(k, v)| (self.interpolate(key, k), self.interpolate(key, v)))
                    .collect()
            });
        }
        let (v, attr) = self.value(key)?;
        let whole = v.clone();
        let why = |v: &Value| cty_mismatch(v, Type::Map(Box::new(Type::String)));
        match v {
            Value::Object(m) => {
                let mut out = BTreeMap::new();
                for (k, item) in m {
                    match item.to_string_lossless() {
                        Some(s) => {
                            // The SDK renders map keys too.
                            let k = self.interpolate(key, k);
                            let s = self.interpolate(key, s);
                            out.insert(k, s);
                        }
                        None if item == Value::Unknown => {
                            out.insert(k, "<unknown>".to_string());
                        }
                        None if item == Value::Null
                            && self.gocty_fail(
                                key,
                                &PathStep::Key(k.clone()),
                                "null value is not allowed",
                            ) => {}
                        None => {
                            self.bad(attr, &why(&whole));
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::Unknown => Some(BTreeMap::new()),
            _ => {
                self.bad(attr, &why(&whole));
                None
            }
        }
    }

    /// Any value, unconverted.
    pub fn any(&mut self, key: &str) -> Option<Value> {
        self.value(key).map(|(v, _)| v)
    }

    /// Nested blocks of a type, with `dynamic` blocks of that type expanded. In a legacy
    /// JSON template's component config (mapstructure), the option given as an object is
    /// the block (null: none; any other value is mapstructure's error).
    pub fn blocks(&mut self, ident: &str) -> Vec<RawBlock> {
        self.used_blocks.insert(ident.to_string());
        let mut out = Vec::new();
        if self.body.mapstructure
            && let Some(attr) = self.find(ident)
        {
            self.used_attrs.insert(attr.key.clone());
            match object_block(ident, attr) {
                Ok(Some(b)) => out.push(b),
                Ok(None) => {}
                Err(got) => self.diags.push(Diagnostic::error(
                    MAPSTRUCTURE_ERROR,
                    format!("1 error(s) decoding:\n\n* '{ident}' expected a map, got '{got}'"),
                )),
            }
        }
        for b in &self.body.blocks {
            if b.ident == ident {
                out.push(b.clone());
            } else if b.ident == "dynamic" && b.labels.first().map(String::as_str) == Some(ident) {
                match crate::template::dynamic::expand(b, self.env) {
                    Ok(blocks) => out.extend(blocks),
                    Err(d) => self.diags.extend(d),
                }
            }
        }
        out
    }

    /// A reader for a nested block's body.
    pub fn nested(&self, block: &'a RawBlock) -> ConfigReader<'a> {
        let mut r = ConfigReader::new(
            &block.body,
            self.env,
            block.subject(),
            format!("{} block", block.ident),
        );
        r.interpolation = self.interpolation.clone();
        r.rpc_plugin = self.rpc_plugin;
        r.int_hook = self.int_hook;
        if self.body.mapstructure && block.body.mapstructure {
            r.ms_prefix = format!("{}{}.", self.ms_prefix, block.ident);
        }
        r.top_key = Some(match &self.top_key {
            Some(t) => t.clone(),
            None => (
                block.ident.clone(),
                !self.render_later.contains(&block.ident),
            ),
        });
        r
    }

    /// Finishes a reader made by [`nested`](Self::nested): its mapstructure errors join this
    /// reader's (one `N error(s) decoding:` list, as mapstructure decodes the nested struct
    /// with the rest), its other diagnostics are this reader's.
    pub fn finish_nested(&mut self, mut nested: ConfigReader<'_>) {
        self.ms_errors.append(&mut nested.ms_errors);
        let d = nested.finish();
        self.diags.extend(d);
    }

    /// Reports unsupported arguments and blocks; returns every diagnostic collected, the
    /// `Prepare` errors as a builder's are reported (one error whose summary is the
    /// MultiError's text, at the block).
    pub fn finish(self) -> Diagnostics {
        let subject = self.block_subject.clone();
        let (mut diags, error) = self.finish_prepared();
        if let Some(text) = error {
            diags.push(Diagnostic::error(text, "").with_subject(subject));
        }
        diags
    }

    /// Like [`finish`](Self::finish), the text of `Prepare`'s error returned apart (none
    /// when decoding failed) for the caller to report as Packer reports its component
    /// kind's; the `Prepare` warnings are in the diagnostics (when decoding succeeded).
    pub fn finish_prepared(self) -> (Diagnostics, Option<String>) {
        let f = self.finish_parts();
        let mut diags = f.decoding;
        diags.extend(f.own_checks);
        (diags, f.error)
    }

    /// [`finish_prepared`](Self::finish_prepared)'s parts apart: decoding's diagnostics
    /// (with `Prepare`'s warnings when decoding succeeded), Kiln's own checks, and
    /// `Prepare`'s error (none when decoding failed).
    pub fn finish_parts(mut self) -> Finished {
        // An interpolation error is the only one reported (the SDK's `Decode` stops at it),
        // as an error summarised [`INTERPOLATION_ERROR`] with the SDK's message as its
        // detail.
        if let Some(e) = self.interpolation_error.take() {
            let mut d = Diagnostics::new();
            d.push(
                Diagnostic::error(INTERPOLATION_ERROR, e).with_subject(self.block_subject.clone()),
            );
            return Finished {
                decoding: d,
                own_checks: Diagnostics::new(),
                error: None,
            };
        }
        if !self.ms_errors.is_empty() {
            let text = MsError::Many(std::mem::take(&mut self.ms_errors)).to_string();
            let subject = self.block_subject.clone();
            let summary = if self.body.mapstructure {
                MAPSTRUCTURE_ERROR
            } else {
                // HCL2: hcldec decodes the block first (its errors alone), then the SDK's
                // `Decode` fails as on an interpolation error.
                let decoding = self.finish_decoding();
                if decoding.has_errors() {
                    return Finished {
                        decoding,
                        own_checks: Diagnostics::new(),
                        error: None,
                    };
                }
                INTERPOLATION_ERROR
            };
            let mut d = Diagnostics::new();
            d.push(Diagnostic::error(summary, text).with_subject(subject));
            return Finished {
                decoding: d,
                own_checks: Diagnostics::new(),
                error: None,
            };
        }
        let prepare_errors = std::mem::take(&mut self.prepare_errors);
        let prepare_warnings = std::mem::take(&mut self.prepare_warnings);
        let failed = self.prepare_failed.take();
        let subject = self.block_subject.clone();
        let own_checks = std::mem::take(&mut self.own_checks);
        let mut decoding = self.finish_decoding();
        if decoding.has_errors() {
            return Finished {
                decoding,
                own_checks,
                error: None,
            };
        }
        if failed.is_none() {
            for w in prepare_warnings {
                decoding.push(Diagnostic::warning(w, "").with_subject(subject.clone()));
            }
        }
        let error =
            failed.or_else(|| (!prepare_errors.is_empty()).then(|| multi_error(&prepare_errors)));
        Finished {
            decoding,
            own_checks,
            error,
        }
    }

    fn finish_decoding(self) -> Diagnostics {
        // hcl's suggestions (hclsyntax `Body.Content`): for an unexpected argument, an option
        // of the component not set yet whose name is within an edit distance of 3, else a
        // block type of that name; for an unexpected block, a block type so close, else an
        // option of that name. The options and block types are those the component asked
        // for (its schema).
        let options: Vec<&str> = self.used_attrs.iter().map(String::as_str).collect();
        let block_types: Vec<&str> = self.used_blocks.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        for a in &self.body.attrs {
            if !self.used_attrs.contains(&a.key) {
                // The SDK names a nested struct's unknown key with its option's (`a.b`).
                if let Some((top, _)) = self.top_key.as_ref().filter(|_| self.body.mapstructure) {
                    found.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!(
                                "An argument named \"{top}.{}\" is not expected here.",
                                a.key
                            ),
                        )
                        .with_subject(a.key_subject()),
                    );
                    continue;
                }
                found.push(a.unsupported_in(self.body, &options, &block_types));
            }
        }
        for b in &self.body.blocks {
            let ident = block_type(b);
            if !self.used_blocks.contains(&ident) {
                found.push(b.unsupported_as(&ident, &options, &block_types));
            }
        }
        // hcldec reads the body's content (unexpected arguments and blocks) before any value.
        let mut diags = Diagnostics::new();
        for d in found {
            diags.push(d);
        }
        diags.extend(self.diags);
        diags
    }
}

/// hcl's `nameSuggestion`: the first candidate within a Levenshtein distance under 3.
pub fn name_suggestion<'s>(given: &str, candidates: &[&'s str]) -> Option<&'s str> {
    candidates
        .iter()
        .find(|c| strsim::levenshtein(given, c) < 3)
        .copied()
}

/// What a finished [`ConfigReader`] found, by origin.
pub struct Finished {
    /// Decoding the block (hcldec's errors in Packer), and `Prepare`'s warnings.
    pub decoding: Diagnostics,
    /// Kiln's own checks beyond the plugin's.
    pub own_checks: Diagnostics,
    /// The plugin's `Prepare` error (its text), when decoding succeeded.
    pub error: Option<String>,
}

/// The summary of a mapstructure decoding error in a legacy JSON template's component
/// config; the detail is mapstructure's text (`1 error(s) decoding: …`).
pub const MAPSTRUCTURE_ERROR: &str = "Failed preparing (decoding)";

/// A JSON object given for a nested-block option, as the block (mapstructure decoding a map
/// into the option's struct); `Ok(None)` for null, `Err(kind)` with the Go kind of any other
/// value.
fn object_block(ident: &str, attr: &RawAttr) -> Result<Option<RawBlock>, &'static str> {
    use hcl::edit::expr::{Expression, ObjectKey};
    let obj = match &attr.expr {
        Expression::Object(o) => o,
        Expression::Null(_) => return Ok(None),
        Expression::Array(_) => return Err("slice"),
        Expression::Bool(_) => return Err("bool"),
        Expression::Number(_) => return Err("float64"),
        _ => return Err("string"),
    };
    let mut body = RawBody {
        mapstructure: true,
        ..RawBody::default()
    };
    for (k, v) in obj.iter() {
        let key = match k {
            ObjectKey::Ident(i) => i.as_str().to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
            ObjectKey::Expression(other) => {
                let Some(r) = other.span() else { continue };
                attr.file.text.get(r).unwrap_or_default().to_string()
            }
        };
        body.attrs.push(RawAttr {
            key,
            key_span: k.span(),
            expr: v.expr().clone(),
            file: attr.file.clone(),
            bindings: BTreeMap::new(),
        });
    }
    Ok(Some(RawBlock {
        ident: ident.to_string(),
        labels: Vec::new(),
        body,
        span: attr.expr.span(),
        ident_span: attr.key_span.clone(),
        header_end: attr.key_span.as_ref().map(|r| r.end),
        file: attr.file.clone(),
    }))
}

const WRONG_TYPE: &str = "Incorrect attribute value type";

fn wrong_type_detail(key: &str, what: &str) -> String {
    format!("Inappropriate value for attribute {key:?}: {what}.")
}

/// HCL's error for an argument whose value is not what it must be (`what`: `bool required`,
/// `list of string required`), at the argument.
/// gohcl's `DecodeExpression` error for a value that cannot go into its Go field (`what`:
/// `string required`, `value must be known`), at the expression's start. Packer decodes
/// its own blocks (`build`, `hcp_packer_registry`) with gohcl, components with hcldec
/// ([`wrong_type`]).
pub fn unsuitable(env: &EvalEnv, attr: &RawAttr, what: &str) -> Diagnostic {
    let ev = env.evaluator(&attr.file);
    Diagnostic::error("Unsuitable value type", format!("Unsuitable value: {what}"))
        .with_subject(ev.start_range(&attr.expr).map(|r| attr.file.subject(r)))
}

pub fn wrong_type(attr: &RawAttr, what: &str) -> Diagnostic {
    Diagnostic::error(WRONG_TYPE, wrong_type_detail(&attr.key, what)).with_subject(attr.subject())
}

/// The type of a nested block: its identifier, or the label of a `dynamic` block.
fn block_type(b: &RawBlock) -> String {
    if b.ident == "dynamic" {
        b.labels.first().cloned().unwrap_or_default()
    } else {
        b.ident.clone()
    }
}

/// Parses a Go duration (`"1h2m3.5s"`, `"300ms"`, `"0"`) with Go's `time.ParseDuration`
/// ([`go_parse_duration_nanos`]) and its error texts (`time: invalid duration "soon"`,
/// `time: missing unit in duration "5"`, `time: unknown unit "x" in duration "5x"`).
/// A negative duration is zero.
pub fn go_parse_duration(orig: &str) -> Result<Duration, String> {
    let nanos = go_parse_duration_nanos(orig)?;
    Ok(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
}

/// A Go `time.Duration` kept signed (signed nanoseconds), for the durations Packer acts on
/// when they are not zero, negative ones included (a provisioner's `pause_before`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// Parses as Go's `time.ParseDuration`, with its error texts.
    pub fn parse(text: &str) -> Result<GoDuration, String> {
        go_parse_duration_nanos(text).map(GoDuration)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// How long to wait: a negative duration is none (Go's timers fire at once).
    pub fn wait(self) -> Duration {
        Duration::from_nanos(u64::try_from(self.0).unwrap_or(0))
    }
}

impl std::fmt::Display for GoDuration {
    /// Go's `time.Duration.String()`, a minus sign before a negative one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = go_duration(Duration::from_nanos(self.0.unsigned_abs()));
        if self.0 < 0 {
            write!(f, "-{text}")
        } else {
            f.write_str(&text)
        }
    }
}

/// Go's `time.Duration.String()`: `1s`, `1m30s`, `1h0m0s`, `1.5s`, `10ms`, `0s`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let frac = |v: u128, unit: u128| {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            whole.to_string()
        } else {
            let digits = unit.to_string().len() - 1;
            let f = format!("{rest:0digits$}");
            format!("{whole}.{}", f.trim_end_matches('0'))
        }
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 1_000_000));
    }
    let secs = ns / 1_000_000_000;
    let sub = ns % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let s = frac(s * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Go's `time.ParseDuration`, in (signed) nanoseconds, with Go's error texts: the one
/// Go duration parser that every duration of a template goes through.
pub fn go_parse_duration_nanos(orig: &str) -> Result<i64, String> {
    crate::functions::datetime::parse_duration(orig)
}

/// A Go duration (`time.ParseDuration`) that is not negative; `None` for anything else.
pub fn go_non_negative_duration(s: &str) -> Option<Duration> {
    let nanos = go_parse_duration_nanos(s).ok()?;
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

/// A value as Go's `encoding/json` decodes it into an `interface{}` (numbers are float64).
fn to_j(v: &Value) -> J {
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(_) => J::Num(v.to_number().unwrap_or(0.0)),
        Value::String(s) => J::Str(s.clone()),
        Value::List(items) => J::Arr(items.iter().map(to_j).collect()),
        Value::Object(m) => J::Obj(m.iter().map(|(k, v)| (k.clone(), to_j(v))).collect()),
    }
}

/// One step of a `cty.Path` below an option: a map key or a list index.
enum PathStep {
    Key(String),
    Index,
}

/// cty's words for a value that does not convert to `t` (`element 1: string required`,
/// `element "a": string required`, `map of string required`), as hcldec reports them.
fn cty_mismatch(v: &Value, t: Type) -> String {
    crate::hcl::types::convert(v, &t)
        .err()
        .unwrap_or_else(|| format!("{} required", crate::hcl::types::friendly(&t)))
}

#[cfg(test)]
mod tests {

    #[test]
    fn go_durations_and_their_errors() {
        assert_eq!(go_parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(go_parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(go_parse_duration("-3s"), Ok(Duration::ZERO));
        assert_eq!(go_parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            go_parse_duration("soon").unwrap_err(),
            "time: invalid duration \"soon\""
        );
        assert_eq!(
            go_parse_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            go_parse_duration("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            go_parse_duration("").unwrap_err(),
            "time: invalid duration \"\""
        );
    }

    use super::*;
    use std::path::Path;

    fn body(src: &str) -> RawBody {
        let file = SourceFile::new(Path::new("c.pkr.hcl"), src.to_string());
        let b = hcl::edit::parser::parse_body(&file.text).unwrap();
        RawBody::from_body(&b, &file)
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(
            go_non_negative_duration("1m30s"),
            Some(Duration::from_secs(90))
        );
        assert_eq!(go_non_negative_duration("0"), Some(Duration::ZERO));
        assert_eq!(go_non_negative_duration("5"), None);
        assert_eq!(go_non_negative_duration("-1s"), None);
        assert_eq!(GoDuration::parse("-1.5s").unwrap().to_string(), "-1.5s");
        assert_eq!(GoDuration::parse("-1s").unwrap().wait(), Duration::ZERO);
        assert_eq!(GoDuration::parse("90s").unwrap().to_string(), "1m30s");
        assert_eq!(
            GoDuration::parse("x").unwrap_err(),
            "time: invalid duration \"x\""
        );
    }

    #[test]
    fn durations_decode_as_the_sdk_decode() {
        // HCL2: a string (a number converted to one) through Go's time.ParseDuration; the
        // invalid ones together as mapstructure's errors, after hcldec's.
        let b = body("t = \"1m30s\"\nn = \"-2s\"\nx = \"bad\"\ny = 30\n");
        let env = EvalEnv::default();
        let mut r = ConfigReader::new(&b, &env, None, "test");
        assert_eq!(r.duration("t"), Some(Duration::from_secs(90)));
        assert_eq!(r.duration("n"), Some(Duration::ZERO));
        assert_eq!(r.duration("x"), None);
        assert_eq!(r.duration("y"), None);
        assert_eq!(r.duration("unset"), None);
        let diags = r.finish();
        let msgs: Vec<(String, String)> = diags
            .0
            .iter()
            .map(|d| (d.summary.clone(), d.detail.clone()))
            .collect();
        assert_eq!(
            msgs,
            [(
                INTERPOLATION_ERROR.to_string(),
                "2 error(s) decoding:\n\n* error decoding 'x': time: invalid duration \"bad\"\n\
                 * error decoding 'y': time: missing unit in duration \"30\""
                    .to_string()
            )]
        );
        // An unexpected argument is hcldec's error, reported alone.
        let b = body("x = \"bad\"\nbogus = 1\n");
        let mut r = ConfigReader::new(&b, &env, None, "test");
        assert_eq!(r.duration("x"), None);
        let diags = r.finish();
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].summary, "Unsupported argument");
        // A legacy JSON template's value is decoded weakly: a number counts nanoseconds.
        let mut b = body("X = 1500\ny = \"1x\"\n");
        b.mapstructure = true;
        let mut r = ConfigReader::new(&b, &env, None, "test");
        assert_eq!(r.duration("x"), Some(Duration::from_nanos(1500)));
        assert_eq!(r.duration("y"), None);
        let diags = r.finish();
        assert_eq!(diags.0[0].summary, MAPSTRUCTURE_ERROR);
        assert_eq!(
            diags.0[0].detail,
            "1 error(s) decoding:\n\n* error decoding 'y': time: unknown unit \"x\" in duration \"1x\""
        );
    }

    #[test]
    fn reader_reports_unknown_and_mistyped_arguments_with_positions() {
        let b = body("a = \"x\"\nb = [1]\nc = true\n");
        let env = EvalEnv::default();
        let mut r = ConfigReader::new(&b, &env, None, "test");
        assert_eq!(r.string("a"), Some("x".to_string()));
        assert_eq!(r.string("b"), None);
        let diags = r.finish();
        let msgs: Vec<String> = diags.0.iter().map(|d| d.one_line()).collect();
        // hcldec's order: the body's unexpected content first, then the values.
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("c.pkr.hcl:3:1: Unsupported argument"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].starts_with("c.pkr.hcl:2:5: Incorrect attribute value type"),
            "{msgs:?}"
        );
    }

    #[test]
    fn mapstructure_bodies_take_objects_as_blocks_and_weak_values() {
        // A legacy JSON template's component config (crate::legacy::config::body_of).
        let mut b = body(
            "Opts = { \"Create\" = \"-q\", \"resize\" = [true, 2], \"odd\" = 1 }\nbad = [1]\n",
        );
        b.mapstructure = true;
        let env = EvalEnv::default();
        let mut r = ConfigReader::new(&b, &env, None, "test");
        let blocks = r.blocks("opts");
        assert_eq!(blocks.len(), 1);
        let mut nr = r.nested(&blocks[0]);
        assert_eq!(nr.strings("create"), Some(vec!["-q".to_string()]));
        assert_eq!(
            nr.strings("resize"),
            Some(vec!["1".to_string(), "2".to_string()])
        );
        let nested: Vec<String> = nr.finish().0.iter().map(|d| d.detail.clone()).collect();
        assert_eq!(
            nested,
            ["An argument named \"opts.odd\" is not expected here."]
        );
        assert!(r.blocks("bad").is_empty());
        let diags = r.finish();
        let e = diags.errors().next().expect("an error");
        assert_eq!(e.summary, MAPSTRUCTURE_ERROR);
        assert_eq!(
            e.detail,
            "1 error(s) decoding:\n\n* 'bad' expected a map, got 'slice'"
        );
        // Outside a legacy template an object is an argument, not a block.
        let b = body("opts = { create = [\"-q\"] }\n");
        let mut r = ConfigReader::new(&b, &env, None, "test");
        assert!(r.blocks("opts").is_empty());
        assert!(r.finish().has_errors());
    }

    #[test]
    fn reader_interpolates_options_as_the_sdk_decode() {
        let src = "a = \"{{ build_name }}-{{ upper build_type }}\"\n\
                   cmd = [\"{{ .Vars }}\", \"{{ build_type }}\"]\n\
                   env = { \"K_{{ build_name }}\" = \"{{ lower \\\"X\\\" }}\" }\n\
                   plain = \"no {{ template }} here\"\n";
        let b = body(src);
        let env = EvalEnv::default();
        let mut r = ConfigReader::new(&b, &env, None, "test");
        r.interpolation = Some(crate::interpolate::Context::for_component(
            "web", "null", "1.16.0",
        ));
        r.render_later(&["cmd"]);
        assert_eq!(r.string("a").as_deref(), Some("web-NULL"));
        // A run-time option is only checked.
        assert_eq!(
            r.strings("cmd"),
            Some(vec![
                "{{ .Vars }}".to_string(),
                "{{ build_type }}".to_string()
            ])
        );
        // Map keys are rendered too.
        assert_eq!(
            r.string_map("env"),
            Some([("K_web".to_string(), "x".to_string())].into())
        );
        // The first error is the only one reported, with the SDK's words.
        assert_eq!(r.string("plain").as_deref(), Some("no {{ template }} here"));
        let d = r.finish();
        assert_eq!(d.0.len(), 1, "{:?}", d.0);
        assert_eq!(d.0[0].summary, INTERPOLATION_ERROR);
        assert_eq!(
            d.0[0].detail,
            "invalid 'plain': template: root:1: unexpected \"}}\" in template clause in:\n\nno {{ template }} here"
        );
    }

    #[test]
    fn merge_refuses_redefinition() {
        let mut a = body("x = 1\n");
        let b = body("x = 2\ny = 3\n");
        let d = a.merge(&b);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].summary, "Duplicate argument");
        assert!(a.attr("y").is_some());
    }
}
