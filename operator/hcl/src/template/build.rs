//! `build` blocks: source references in their three forms, source blocks that rename and add
//! arguments, provisioners with their meta-arguments, post-processor chains and the
//! error-cleanup-provisioner; and the plan: builds × sources named `[build.]TYPE.NAME`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::diag::{Diagnostic, Diagnostics, Subject};
use crate::hcl::types::Type;
use crate::template::body::{EvalEnv, RawAttr, RawBlock, RawBody, unsuitable};
use crate::template::{Template, dynamic};
use crate::value::Value;

/// A source as one build uses it.
#[derive(Clone, Debug)]
pub struct SourceUse {
    /// Builder type, e.g. `null`.
    pub kind: String,
    /// The name in the top-level `source` block's label.
    pub label: String,
    /// The name this build gives it (`name = …` in a build's `source` block), else the label.
    pub name: String,
    /// The top-level body merged with the build's additions.
    pub body: RawBody,
    pub subject: Option<Subject>,
    /// For a reference no `source` block declares: the "Unknown source" error, reported
    /// with the component types (Packer's `initializeBlocks`), after its type's.
    pub unknown: Option<Diagnostic>,
}

impl SourceUse {
    /// `type.name`, as provisioner `only`/`except` match it.
    pub fn reference(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

/// A provisioner block with its meta-arguments decoded.
#[derive(Clone, Debug)]
pub struct ProvisionerDecl {
    pub kind: String,
    pub name: Option<String>,
    pub block: RawBlock,
    pub only: Vec<String>,
    pub except: Vec<String>,
    /// Not zero (negative included: Packer pauses for it, that is not at all).
    pub pause_before: Option<crate::template::body::GoDuration>,
    pub timeout: Option<Duration>,
    /// Packer wraps the provisioner in its retries when not zero (a negative count retries
    /// nothing but still says `retry limit reached.`).
    pub max_retries: i64,
    pub continue_on_error: bool,
    /// Per-source overrides, keyed by the source's name.
    pub overrides: BTreeMap<String, BTreeMap<String, Value>>,
}

impl ProvisionerDecl {
    pub fn applies_to(&self, source_ref: &str) -> bool {
        only_except_allows(&self.only, &self.except, source_ref)
    }

    /// The display name: `name`, else the type.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }
}

/// Packer's `only`/`except` meta-arguments: exact matches on `type.name`.
fn only_except_allows(only: &[String], except: &[String], source_ref: &str) -> bool {
    (only.is_empty() || only.iter().any(|o| o == source_ref))
        && !except.iter().any(|e| e == source_ref)
}

/// A post-processor block with its meta-arguments decoded.
#[derive(Clone, Debug)]
pub struct PostProcessorDecl {
    pub kind: String,
    pub name: Option<String>,
    pub block: RawBlock,
    pub only: Vec<String>,
    pub except: Vec<String>,
    pub keep_input_artifact: Option<bool>,
}

impl PostProcessorDecl {
    pub fn applies_to(&self, source_ref: &str) -> bool {
        only_except_allows(&self.only, &self.except, source_ref)
    }

    /// The name `-except` matches: `name`, else the type.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }
}

/// One decoded `build` block.
#[derive(Clone, Debug)]
pub struct BuildBlock {
    pub name: Option<String>,
    pub description: Option<String>,
    pub sources: Vec<SourceUse>,
    pub provisioners: Vec<ProvisionerDecl>,
    pub post_processors: Vec<Vec<PostProcessorDecl>>,
    pub error_cleanup: Option<ProvisionerDecl>,
    pub subject: Option<Subject>,
}

/// One unit of work: a build block × one of its sources.
#[derive(Clone, Debug)]
pub struct BuildInstance {
    /// `[build.]type.name`
    pub full_name: String,
    pub build_name: Option<String>,
    pub source: SourceUse,
    pub provisioners: Vec<ProvisionerDecl>,
    pub post_processors: Vec<Vec<PostProcessorDecl>>,
    pub error_cleanup: Option<ProvisionerDecl>,
}

impl BuildInstance {
    /// The values `source.*` and `build.name` give in this instance's bodies.
    pub fn env(&self, base: &EvalEnv, build_vars: Option<BTreeMap<String, Value>>) -> EvalEnv {
        let mut env = base.clone();
        let mut source = BTreeMap::new();
        source.insert("name".to_string(), Value::str(&self.source.name));
        source.insert("type".to_string(), Value::str(&self.source.kind));
        env.set("source", Value::Object(source));
        let mut build = build_vars.unwrap_or_default();
        build.insert(
            "name".to_string(),
            Value::str(self.build_name.clone().unwrap_or_default()),
        );
        env.set("build", Value::Object(build));
        env
    }
}

/// gohcl's `DecodeExpression` into a Go field whose cty type is `ty` (a pointer field when
/// `pointer`): the expression's own errors (its value then unknown: "value must be known"),
/// cty's conversion error, a null into a field that is neither a pointer nor a list ("null
/// value is not allowed", as gocty), an unknown value; each as "Unsuitable value type" at the
/// expression's start. `None` for an error or a null.
fn gohcl_decode(
    env: &EvalEnv,
    a: &RawAttr,
    ty: &Type,
    pointer: bool,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let value = match env.eval_attr(a) {
        Ok(v) => v,
        Err(d) => {
            diags.push(d);
            diags.push(unsuitable(env, a, "value must be known"));
            return None;
        }
    };
    let value = match crate::hcl::types::convert(&value, ty) {
        Ok(v) => v,
        Err(e) => {
            diags.push(unsuitable(env, a, &e));
            return None;
        }
    };
    let list = matches!(ty, Type::List(_));
    let null_inside = match &value {
        Value::List(items) => items.iter().any(|i| matches!(i, Value::Null)),
        _ => false,
    };
    if matches!(value, Value::Null) && !pointer && !list || null_inside {
        diags.push(unsuitable(env, a, "null value is not allowed"));
        return None;
    }
    if !value.is_wholly_known() {
        diags.push(unsuitable(env, a, "value must be known"));
        return None;
    }
    (!matches!(value, Value::Null)).then_some(value)
}

/// [`gohcl_decode`] into a Go `string`.
fn gohcl_string(env: &EvalEnv, a: &RawAttr, diags: &mut Diagnostics) -> Option<String> {
    gohcl_decode(env, a, &Type::String, false, diags).and_then(|v| v.to_string_lossless())
}

/// [`gohcl_decode`] into a Go `[]string`.
fn gohcl_strings(env: &EvalEnv, a: &RawAttr, diags: &mut Diagnostics) -> Vec<String> {
    match gohcl_decode(env, a, &Type::List(Box::new(Type::String)), false, diags) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|i| i.to_string_lossless())
            .collect(),
        _ => Vec::new(),
    }
}

/// [`gohcl_decode`] into a Go `bool` (`*bool` when `pointer`).
fn gohcl_bool(env: &EvalEnv, a: &RawAttr, pointer: bool, diags: &mut Diagnostics) -> Option<bool> {
    gohcl_decode(env, a, &Type::Bool, pointer, diags).and_then(|v| v.to_bool())
}

/// [`gohcl_decode`] into a Go `int` (gocty's range check).
fn gohcl_int(env: &EvalEnv, a: &RawAttr, diags: &mut Diagnostics) -> Option<i64> {
    let n = gohcl_decode(env, a, &Type::Number, false, diags)?.to_number()?;
    if n.fract() != 0.0 || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        diags.push(unsuitable(
            env,
            a,
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807",
        ));
        return None;
    }
    Some(n as i64)
}

/// `pause_before`, `timeout` once decoded: Go's `time.ParseDuration`, and Packer's error at
/// the block.
fn parse_meta_duration(
    key: &str,
    text: &str,
    block: &RawBlock,
) -> Result<crate::template::body::GoDuration, Diagnostic> {
    crate::template::body::GoDuration::parse(text).map_err(|e| {
        Diagnostic::error(format!("Failed to parse {key} duration"), e)
            .with_subject(block.subject())
    })
}

/// What provisioner and post-processor blocks share: the type label and the `name`,
/// `only` and `except` meta-arguments.
struct Meta {
    kind: String,
    name: Option<String>,
    only: Vec<String>,
    except: Vec<String>,
    /// The block with only the arguments left that belong to the component type.
    block: RawBlock,
}

/// Decodes the shared meta-arguments of `b`, hands every other argument to `own` (which
/// returns whether it was one of the block's own meta-arguments) and leaves the rest to the
/// component type.
fn decode_meta(
    b: &RawBlock,
    env: &EvalEnv,
    diags: &mut Diagnostics,
    mut own: impl FnMut(&RawAttr, &mut Diagnostics) -> bool,
) -> Option<Meta> {
    if b.labels.len() != 1 {
        diags.push(crate::template::label_count(b, &["type"], &b.ident));
        return None;
    }
    let mut m = Meta {
        kind: b.labels[0].clone(),
        name: None,
        only: Vec::new(),
        except: Vec::new(),
        block: b.clone(),
    };
    let mut body = RawBody {
        attrs: Vec::new(),
        blocks: b.body.blocks.clone(),
        mapstructure: b.body.mapstructure,
    };
    // gohcl's DecodeBody: every field's error, then the block ends there.
    let errors_before = diags.errors().count();
    for a in &b.body.attrs {
        match a.key.as_str() {
            "name" => m.name = gohcl_string(env, a, diags),
            "only" => m.only = gohcl_strings(env, a, diags),
            "except" => m.except = gohcl_strings(env, a, diags),
            _ if own(a, diags) => {}
            _ => body.attrs.push(a.clone()),
        }
    }
    if diags.errors().count() > errors_before {
        return None;
    }
    // `OnlyExcept.Validate`, in its words (no range).
    if !m.only.is_empty() && !m.except.is_empty() {
        diags.push(Diagnostic::error(
            "only one of 'only' or 'except' may be specified",
            "",
        ));
        return None;
    }
    m.block.body = body;
    Some(m)
}

/// Decodes a provisioner (or error-cleanup-provisioner) block's meta-arguments; the rest of
/// its body belongs to the provisioner type.
/// The `build` block's arguments and block types, in hcl2template's order.
const BUILD_ATTRS: &[&str] = &["name", "description", "sources"];
const BUILD_BLOCKS: &[&str] = &[
    "from",
    "source",
    "provisioner",
    "error-cleanup-provisioner",
    "post-processor",
    "post-processors",
    "hcp_packer_registry",
];

pub fn decode_provisioner(
    b: &RawBlock,
    env: &EvalEnv,
    diags: &mut Diagnostics,
) -> Option<ProvisionerDecl> {
    let (mut pause_text, mut timeout_text) = (None, None);
    let mut max_retries = 0;
    let mut continue_on_error = false;
    let mut override_value = Value::Null;
    let m = decode_meta(b, env, diags, |a, diags| {
        match a.key.as_str() {
            "pause_before" => pause_text = gohcl_string(env, a, diags),
            "timeout" => timeout_text = gohcl_string(env, a, diags),
            // Packer retries while `MaxRetries` is above zero.
            "max_retries" => max_retries = gohcl_int(env, a, diags).unwrap_or(0),
            "continue_on_error" => {
                continue_on_error = gohcl_bool(env, a, false, diags).unwrap_or(false)
            }
            // A `cty.Value` field: any value, checked below.
            "override" => match env.eval_attr(a) {
                Ok(v) => override_value = v,
                Err(d) => diags.push(d),
            },
            _ => return false,
        }
        true
    })?;
    // decodeProvisioner's checks after decoding, in its order, each ending the block.
    let mut overrides = BTreeMap::new();
    match override_value {
        Value::Null => {}
        Value::Object(m) => {
            for (source, v) in m {
                let Value::Object(inner) = v else {
                    diags.push(
                        Diagnostic::error(
                            format!(
                                "provisioner's override.'{source}' block must be an HCL object"
                            ),
                            "",
                        )
                        .with_subject(b.subject()),
                    );
                    return None;
                };
                overrides.insert(source, inner);
            }
        }
        _ => {
            diags.push(
                Diagnostic::error("provisioner's override block must be an HCL object", "")
                    .with_subject(b.subject()),
            );
            return None;
        }
    }
    let mut duration = |key: &str, text: Option<String>| match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse_meta_duration(key, &t, b)
            .map(|d| (!d.is_zero()).then_some(d))
            .map_err(|d| diags.push(d)),
    };
    // Packer wraps a provisioner in a pause or a timeout only when it is not zero (a
    // negative timeout is none here: it would expire before the provisioner starts).
    let pause_before = duration("pause_before", pause_text).ok()?;
    let timeout = duration("timeout", timeout_text)
        .ok()?
        .filter(|d| d.0 > 0)
        .map(|d| d.wait());
    Some(ProvisionerDecl {
        kind: m.kind,
        name: m.name,
        block: m.block,
        only: m.only,
        except: m.except,
        pause_before,
        timeout,
        max_retries,
        continue_on_error,
        overrides,
    })
}

fn decode_post_processor(
    b: &RawBlock,
    env: &EvalEnv,
    diags: &mut Diagnostics,
) -> Option<PostProcessorDecl> {
    let mut keep_input_artifact = None;
    let m = decode_meta(b, env, diags, |a, diags| {
        if a.key != "keep_input_artifact" {
            return false;
        }
        keep_input_artifact = gohcl_bool(env, a, true, diags);
        true
    })?;
    Some(PostProcessorDecl {
        kind: m.kind,
        name: m.name,
        block: m.block,
        only: m.only,
        except: m.except,
        keep_input_artifact,
    })
}

/// hcl2template's `sourceRefFromString`: `type.name`, or the second and third parts of
/// three or more (`source.type.name`, `sources.type.name`); `None` for fewer than two.
fn parse_source_ref(s: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = s.split('.').collect();
    match parts.as_slice() {
        [] | [_] => None,
        [t, n] => Some((t.to_string(), n.to_string())),
        [_, t, n, ..] => Some((t.to_string(), n.to_string())),
    }
}

impl Template {
    /// A source a build uses. From `sources` (`listed`), a reference that is not two
    /// identifiers is Packer's "Invalid source reference" at the build; in a `source` block,
    /// Packer reads any label (`decodeBuildSource`): what no source declares is unknown.
    fn resolve_source(
        &self,
        reference: &str,
        subject: Option<Subject>,
        build_subject: Option<Subject>,
        diags: &mut Diagnostics,
        listed: bool,
    ) -> Option<SourceUse> {
        let parsed = parse_source_ref(reference).filter(|(t, n)| {
            !listed || (crate::fmt::valid_identifier(t) && crate::fmt::valid_identifier(n))
        });
        let (kind, label) = match parsed {
            Some(p) => p,
            None if listed => {
                diags.push(
                    Diagnostic::error(
                        "Invalid source reference",
                        "A source type is made of three parts that are split by a dot `.`; each part must start with a letter and may contain only letters, digits, underscores, and dashes. A valid source reference looks like: `source.type.name`",
                    )
                    .with_subject(build_subject),
                );
                return None;
            }
            None => (String::new(), String::new()),
        };
        let Some(decl) = self.sources.get(&format!("{kind}.{label}")) else {
            // Packer's words (hcl2template/plugin.go): the known sources sorted, as Go
            // prints a []string, or the first one within edit distance 2.
            let wanted = format!("{kind}.{label}");
            let mut known: Vec<&str> = self.sources.keys().map(String::as_str).collect();
            known.sort();
            let detail = match known.iter().find(|k| levenshtein(&wanted, k) < 3) {
                Some(s) => format!("Did you mean to use {}?", crate::value::go_quote(s)),
                None => format!("Known: [{}]", known.join(" ")),
            };
            let at = build_subject.or(subject);
            return Some(SourceUse {
                kind,
                label: label.clone(),
                name: label,
                body: RawBody::default(),
                subject: at.clone(),
                unknown: Some(
                    Diagnostic::error(format!("Unknown source {wanted}"), detail).with_subject(at),
                ),
            });
        };
        Some(SourceUse {
            kind,
            label: label.clone(),
            name: label,
            body: decl.block.body.clone(),
            subject: decl.block.subject(),
            unknown: None,
        })
    }

    /// Decodes every `build` block.
    pub fn decode_builds(&self) -> Result<Vec<BuildBlock>, Diagnostics> {
        let (out, diags) = self.decode_builds_partial();
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }

    /// Every `build` block that decodes, with the errors of those that do not, as Packer's
    /// parseConfig keeps them (`inspect` lists these builds): a build with an error of its
    /// own, or of its `hcp_packer_registry` blocks (reported by
    /// [`Template::registry_blocks`]), is left out.
    pub fn decode_builds_partial(&self) -> (Vec<BuildBlock>, Diagnostics) {
        let env = self.base_env();
        let mut diags = Diagnostics::new();
        let mut out = Vec::new();
        for b in &self.builds {
            let (bb, d) = self.decode_build(b, &env);
            diags.extend(d);
            out.extend(bb);
        }
        (out, diags)
    }

    /// Packer's `parseConfig` for the blocks it decodes once variables, locals and data
    /// sources are known, file by file and block by block, as it reports them: each
    /// top-level `hcp_packer_registry` (one for the whole template: any after the first that
    /// decodes is "Only one … is allowed"), each `source` (declared twice: found when the
    /// files were read, [`Template::init_diags`]) and each `build` (with its own
    /// `hcp_packer_registry` blocks). The builds that decode, with every diagnostic.
    pub fn parse_config(&self) -> (Vec<BuildBlock>, Diagnostics) {
        let env = self.base_env();
        let file_index = |name: &str| {
            self.files
                .iter()
                .position(|f| f.name == name)
                .unwrap_or(usize::MAX)
        };
        let key = |s: &Option<crate::diag::Subject>| {
            s.as_ref().map_or((usize::MAX, 0, 0), |s| {
                (file_index(&s.file), s.line, s.column)
            })
        };
        let mut keyed: Vec<((usize, usize, usize), Diagnostics)> = Vec::new();
        for d in &self.init_diags.0 {
            keyed.push((key(&d.subject), d.clone().into()));
        }
        for (b, d) in self.top_registry_diags() {
            keyed.push((key(&b.subject()), d));
        }
        let mut out = Vec::new();
        for b in &self.builds {
            let (bb, d) = self.decode_build(b, &env);
            keyed.push((key(&b.subject()), d));
            out.extend(bb);
        }
        // A stable sort: the diagnostics of one block stay in their order.
        keyed.sort_by_key(|(k, _)| *k);
        let mut diags = Diagnostics::new();
        for (_, d) in keyed {
            diags.extend(d);
        }
        (out, diags)
    }

    /// One `build` block, as hcl2template's `decodeBuildConfig`: the build when it decodes
    /// without error, and its diagnostics.
    fn decode_build(&self, b: &RawBlock, env: &EvalEnv) -> (Option<BuildBlock>, Diagnostics) {
        let env = env.clone();
        let mut diags = Diagnostics::new();
        let mut bb = BuildBlock {
            name: None,
            description: None,
            sources: Vec::new(),
            provisioners: Vec::new(),
            post_processors: Vec::new(),
            error_cleanup: None,
            subject: b.subject(),
        };
        // Packer's `hadSource`: a source listed or a `source` block, valid or not.
        let mut had_source = false;
        let errors_before = diags.errors().count();
        let mut listed = Vec::new();
        let mut unsupported_attrs = Vec::new();
        for a in &b.body.attrs {
            match a.key.as_str() {
                "name" => bb.name = gohcl_string(&env, a, &mut diags),
                "description" => bb.description = gohcl_string(&env, a, &mut diags),
                "sources" => {
                    // gohcl decodes the list into Go strings: an unknown element (an
                    // unset variable in a reference) is "value must be known", once, at
                    // the list's start, and nothing of the list is used.
                    let mut unknown = false;
                    let items: Vec<(String, Option<Subject>)> = match &a.expr {
                        hcl::edit::expr::Expression::Array(arr) => arr
                            .iter()
                            .map(|e| {
                                let subject = hcl::edit::Span::span(e).map(|r| a.file.subject(r));
                                let text = match e {
                                    hcl::edit::expr::Expression::String(s) => s.value().clone(),
                                    hcl::edit::expr::Expression::Traversal(_) => {
                                        let r = hcl::edit::Span::span(e).unwrap_or(0..0);
                                        a.file.text.get(r).unwrap_or("").trim().to_string()
                                    }
                                    other => {
                                        match env.evaluator(&a.file).eval(other, &env.scope()) {
                                            Ok(v) if !v.is_wholly_known() => {
                                                unknown = true;
                                                String::new()
                                            }
                                            Ok(v) => v.to_string_lossless().unwrap_or_default(),
                                            Err(d) => {
                                                diags.push(d);
                                                String::new()
                                            }
                                        }
                                    }
                                };
                                (text, subject)
                            })
                            .collect(),
                        // Any other expression (`local.srcs`) is evaluated, as Packer
                        // does: a list of reference strings.
                        other => match env.evaluator(&a.file).eval(other, &env.scope()) {
                            Ok(Value::List(l)) if l.iter().all(|v| v.as_str().is_some()) => l
                                .iter()
                                .map(|v| (v.as_str().unwrap_or("").to_string(), a.subject()))
                                .collect(),
                            Err(d) => {
                                diags.push(d);
                                Vec::new()
                            }
                            Ok(_) => {
                                diags.push(
                                    // gohcl's words for a value that is not a list of
                                    // strings.
                                    Diagnostic::error(
                                        "Unsuitable value type",
                                        "Unsuitable value: list of string required",
                                    )
                                    .with_subject(a.subject()),
                                );
                                Vec::new()
                            }
                        },
                    };
                    had_source |= !items.is_empty();
                    if unknown {
                        diags.push(unsuitable(&env, a, "value must be known"));
                        continue;
                    }
                    listed = items;
                }
                _ => unsupported_attrs.push(a.unsupported_in(&b.body, BUILD_ATTRS, BUILD_BLOCKS)),
            }
        }
        // gohcl's decoding of the block: its errors end it there.
        if diags.errors().count() > errors_before {
            return (None, diags);
        }
        for (text, subject) in listed {
            if let Some(s) =
                self.resolve_source(&text, subject, bb.subject.clone(), &mut diags, true)
            {
                bb.sources.push(s);
            }
        }
        // decodeBuildConfig exposes `build.name` to its provisioners and post-processors.
        let mut block_env = env.clone();
        block_env.set(
            "build",
            Value::Object(
                [(
                    "name".to_string(),
                    Value::str(bb.name.clone().unwrap_or_default()),
                )]
                .into_iter()
                .collect(),
            ),
        );
        let mut blocks: Vec<RawBlock> = Vec::new();
        for inner in &b.body.blocks {
            if inner.ident == "dynamic" {
                match dynamic::expand(inner, &env) {
                    Ok(bs) => blocks.extend(bs),
                    Err(d) => diags.extend(d),
                }
            } else {
                blocks.push(inner.clone());
            }
        }
        // The rest of the body against `buildSchema` (hcl's `Content`): the labels of each
        // known block, then arguments and block types it does not have. Its errors, with
        // the invalid source references, end the block before any is decoded.
        for inner in &blocks {
            let labels: &[&str] = match inner.ident.as_str() {
                "from" | "provisioner" | "error-cleanup-provisioner" | "post-processor" => {
                    &["type"]
                }
                "source" => &["reference"],
                "post-processors" | "hcp_packer_registry" => &[],
                _ => continue,
            };
            if inner.labels.len() != labels.len() {
                diags.push(crate::template::label_count(inner, labels, &inner.ident));
            }
        }
        diags.extend(Diagnostics(unsupported_attrs));
        for inner in &blocks {
            if !BUILD_BLOCKS.contains(&inner.ident.as_str()) {
                diags.push(inner.unsupported_in(BUILD_ATTRS, BUILD_BLOCKS));
            }
        }
        if diags.errors().count() > errors_before {
            return (None, diags);
        }
        let mut registry_seen = false;
        for inner in &blocks {
            match inner.ident.as_str() {
                "source" => {
                    had_source = true;
                    let Some(mut s) = self.resolve_source(
                        &inner.labels[0],
                        inner.subject(),
                        bb.subject.clone(),
                        &mut diags,
                        false,
                    ) else {
                        continue;
                    };
                    let mut extra = inner.body.clone();
                    if let Some(pos) = extra.attrs.iter().position(|a| a.key == "name") {
                        let a = extra.attrs.remove(pos);
                        match env.eval_attr(&a).map(|v| v.to_string_lossless()) {
                            Ok(Some(n)) => s.name = n,
                            Ok(None) => diags.push(
                                Diagnostic::error(
                                    "Incorrect attribute value type",
                                    "The source name must be a string.",
                                )
                                .with_subject(a.subject()),
                            ),
                            Err(d) => diags.push(d),
                        }
                    }
                    // (Errors of the builder's own checks stay at the declared source
                    // block, as Packer reports them, and hcl's merged body has the first
                    // body's range for a missing argument.)
                    if s.unknown.is_none() {
                        diags.extend(s.body.merge(&extra));
                    }
                    bb.sources.push(s);
                }
                "provisioner" => {
                    if let Some(p) = decode_provisioner(inner, &block_env, &mut diags) {
                        bb.provisioners.push(p);
                    }
                }
                "error-cleanup-provisioner" => {
                    if bb.error_cleanup.is_some() {
                        diags.push(
                            Diagnostic::error("Only one error-cleanup-provisioner is allowed", "")
                                .with_subject(inner.subject()),
                        );
                        continue;
                    }
                    bb.error_cleanup = decode_provisioner(inner, &block_env, &mut diags);
                }
                "post-processor" => {
                    if let Some(p) = decode_post_processor(inner, &block_env, &mut diags) {
                        bb.post_processors.push(vec![p]);
                    }
                }
                "post-processors" => {
                    // Its body against `postProcessorsSchema` (labels, then what it does not
                    // have): an error skips the chain; then its post-processors in order,
                    // the first that fails ending it.
                    let errors_before = diags.errors().count();
                    for pp in &inner.body.blocks {
                        if pp.ident == "post-processor" && pp.labels.len() != 1 {
                            diags.push(crate::template::label_count(pp, &["type"], &pp.ident));
                        }
                    }
                    for a in &inner.body.attrs {
                        diags.push(a.unsupported());
                    }
                    for pp in &inner.body.blocks {
                        if pp.ident != "post-processor" {
                            diags.push(pp.unsupported());
                        }
                    }
                    if diags.errors().count() > errors_before {
                        continue;
                    }
                    let mut chain = Vec::new();
                    for pp in &inner.body.blocks {
                        match decode_post_processor(pp, &block_env, &mut diags) {
                            Some(p) => chain.push(p),
                            None => break,
                        }
                    }
                    if chain.len() == inner.body.blocks.len() && !chain.is_empty() {
                        bb.post_processors.push(chain);
                    }
                }
                // One per build: any after the first that decodes is an error.
                "hcp_packer_registry" => {
                    if registry_seen {
                        diags.push(
                            Diagnostic::error("Only one hcp_packer_registry is allowed", "")
                                .with_subject(inner.subject()),
                        );
                        continue;
                    }
                    let (decoded, d) = crate::template::registry::decode(self, inner, true);
                    diags.extend(d);
                    registry_seen = decoded.is_some();
                }
                // `from` is in Packer's schema but decodes to nothing.
                _ => {}
            }
        }
        if !had_source {
            // hcl2template's decodeBuildConfig, in its words.
            diags.push(
                Diagnostic::error(
                    "missing source reference",
                    "a build block must reference at least one source to be built",
                )
                .with_subject(b.subject()),
            );
        }
        let decoded = !diags.has_errors();
        (decoded.then_some(bb), diags)
    }

    /// Every build instance (build × source), named as Packer names them.
    pub fn instances(&self) -> Result<Vec<BuildInstance>, Diagnostics> {
        Self::instances_of(self.decode_builds()?)
    }

    /// Builds sharing a name (two unnamed `build` blocks using one source): Packer runs
    /// them all; the operator, which keys a build's Job index and status by name, refuses
    /// them with this error.
    pub fn duplicate_names(instances: &[BuildInstance]) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for (n, i) in instances.iter().enumerate() {
            if instances[..n].iter().any(|e| e.full_name == i.full_name) {
                diags.push(
                    Diagnostic::error(
                        "Duplicate build name",
                        format!(
                            "More than one build is named {:?}; give the build blocks or the sources different names.",
                            i.full_name
                        ),
                    )
                    .with_subject(i.source.subject.clone()),
                );
            }
        }
        diags
    }

    /// [`Template::instances`] of build blocks already decoded.
    pub fn instances_of(builds: Vec<BuildBlock>) -> Result<Vec<BuildInstance>, Diagnostics> {
        let mut out: Vec<BuildInstance> = Vec::new();
        let mut diags = Diagnostics::new();
        for bb in builds {
            for s in &bb.sources {
                if let Some(d) = &s.unknown {
                    diags.push(d.clone());
                    continue;
                }
                let full_name = match &bb.name {
                    Some(n) if !n.is_empty() => format!("{n}.{}", s.reference()),
                    _ => s.reference(),
                };
                let r = s.reference();
                out.push(BuildInstance {
                    full_name,
                    build_name: bb.name.clone(),
                    source: s.clone(),
                    provisioners: bb
                        .provisioners
                        .iter()
                        .filter(|p| p.applies_to(&r))
                        .cloned()
                        .collect(),
                    post_processors: bb
                        .post_processors
                        .iter()
                        .map(|chain| {
                            chain
                                .iter()
                                .filter(|p| p.applies_to(&r))
                                .cloned()
                                .collect::<Vec<_>>()
                        })
                        .filter(|c: &Vec<PostProcessorDecl>| !c.is_empty())
                        .collect(),
                    error_cleanup: bb.error_cleanup.clone().filter(|p| p.applies_to(&r)),
                });
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }
}

/// Levenshtein distance over characters (Packer's didyoumean).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_references_in_all_forms() {
        assert_eq!(
            parse_source_ref("source.null.a"),
            Some(("null".into(), "a".into()))
        );
        assert_eq!(
            parse_source_ref("sources.null.a"),
            Some(("null".into(), "a".into()))
        );
        assert_eq!(
            parse_source_ref("null.a"),
            Some(("null".into(), "a".into()))
        );
        assert_eq!(parse_source_ref("ami"), None);
        // sourceRefFromString: the second and third of more parts; the rest is ignored.
        assert_eq!(parse_source_ref("a.b.c.d"), Some(("b".into(), "c".into())));
        assert_eq!(parse_source_ref("source..a"), Some(("".into(), "a".into())));
    }
}
