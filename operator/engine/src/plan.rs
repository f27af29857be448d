//! The plan: the build instances a run does, filtered by `-only` / `-except` globs, each with
//! its components prepared (every config decoded and validated; nothing runs).

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};

use std::sync::Arc;

use crate::components::registry::Block;
use crate::components::{
    BUILDERS, Builder, ComponentInfo, DATA_SOURCES, OnError, POST_PROCESSORS, PROVISIONERS,
    PostProcessor, Provisioner, Requirements, RunEnv,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::template::build::{BuildInstance, PostProcessorDecl, ProvisionerDecl};
use crate::template::{EvalEnv, RawBody, Template};
use crate::value::Value;

/// Options of a run that components see.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub only: Vec<String>,
    pub except: Vec<String>,
    pub force: bool,
    pub debug: bool,
    pub on_error: OnError,
    pub run_uuid: String,
    /// 0 = unlimited.
    pub parallel_builds: usize,
    /// Where the run happens.
    pub env: Arc<RunEnv>,
}

/// A build ready to run.
pub struct PreparedBuild {
    pub instance: BuildInstance,
    pub info: ComponentInfo,
    pub builder: Box<dyn Builder>,
    /// Post-processor chains (already cut by `-except`), validated; each is decoded again
    /// at run time with the build's `build.*` values.
    pub post_processors: Vec<Vec<PostProcessorDecl>>,
    /// Evaluation context of this build's bodies (without run-time `build.*`).
    pub env: EvalEnv,
    /// Kiln's own checks its post-processors failed, each named (`post-processor "TYPE":
    /// …`), when their blocks read no run-time `build.*` value: they fail the build when
    /// that post-processor runs.
    pub post_processor_checks: Vec<String>,
}

fn glob(p: &str) -> Result<GlobMatcher, Diagnostic> {
    Glob::new(p)
        .map(|g| g.compile_matcher())
        .map_err(|e| Diagnostic::error("Invalid -only/-except pattern", format!("{p:?}: {e}")))
}

/// Selects instances by `-only` / `-except`, as Packer's `GetBuilds`: a build is kept when it
/// matches an `-only` pattern (if any) and no `-except` pattern. When there are more `-only`
/// patterns than builds they kept, or more `-except` patterns than builds they dropped,
/// Packer warns, listing every build name ([`selection_warnings`]); nothing selected at all
/// is the caller's "No builds to run". (Post-processors an `-except` pattern cuts count too,
/// but only for builds prepared up to them: [`prepare_partial`] says the warnings then.)
pub fn select(
    instances: Vec<BuildInstance>,
    only: &[String],
    except: &[String],
) -> Result<(Vec<BuildInstance>, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let only_m: Vec<GlobMatcher> = only
        .iter()
        .map(|p| glob(p))
        .collect::<Result<_, _>>()
        .map_err(Diagnostics::from)?;
    let except_m: Vec<GlobMatcher> = except
        .iter()
        .map(|p| glob(p))
        .collect::<Result<_, _>>()
        .map_err(Diagnostics::from)?;
    let names: Vec<String> = instances.iter().map(|i| i.full_name.clone()).collect();
    let (only_matches, except_matches) = build_matches(&names, &only_m, &except_m);
    let selected = instances
        .into_iter()
        .filter(|i| {
            let hit = |ms: &[GlobMatcher]| ms.iter().any(|m| m.is_match(&i.full_name));
            (only_m.is_empty() || hit(&only_m)) && !hit(&except_m)
        })
        .collect();
    diags.extend(selection_warnings(
        &names,
        (only.len(), only_matches),
        (except.len(), except_matches),
    ));
    Ok((selected, diags))
}

/// How many builds `-only` keeps (when given) and, of those, how many `-except` drops.
fn build_matches(
    names: &[String],
    only_m: &[GlobMatcher],
    except_m: &[GlobMatcher],
) -> (usize, usize) {
    let hit = |ms: &[GlobMatcher], n: &str| ms.iter().any(|m| m.is_match(n));
    let kept: Vec<&String> = names
        .iter()
        .filter(|n| only_m.is_empty() || hit(only_m, n))
        .collect();
    let only_matches = if only_m.is_empty() { 0 } else { kept.len() };
    let except_matches = kept.iter().filter(|n| hit(except_m, n)).count();
    (only_matches, except_matches)
}

/// GetBuilds' warnings: more `-only` patterns than builds they kept, more `-except` patterns
/// than builds and post-processors they dropped (`(patterns, matches)` each).
fn selection_warnings(
    names: &[String],
    (only, only_matches): (usize, usize),
    (except, except_matches): (usize, usize),
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let detail = format!(
        "Possible build names: [{}].\nThese could also be matched with a glob pattern like: 'happycloud.*'",
        names.join(" ")
    );
    if only > only_matches {
        diags.push(Diagnostic::warning(
            "an 'only' option was passed, but not all matches were found for the given build.",
            detail.clone(),
        ));
    }
    if except > except_matches {
        diags.push(Diagnostic::warning(
            "an 'except' option was passed, but did not match any build.",
            detail,
        ));
    }
    diags
}

/// The `build.*` keys every build has, as provisioners and post-processors see them (the
/// SDK's `BuilderDataCommonKeys`).
pub use kiln_hcl::legacy::config::GENERATED_KEYS;

/// `build.*` at validate time: every key reads `"<unknown>"`.
pub fn unknown_generated(extra: &[String]) -> BTreeMap<String, Value> {
    GENERATED_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(extra.iter().cloned())
        .map(|k| (k, Value::str("<unknown>")))
        .collect()
}

/// `build.*` as provisioners see it at run time (the SDK's `PopulateProvisionHookData`):
/// what the builder and its communicator produced, `ID` and the HTTP server's keys with the
/// SDK's `ERR_*_NOT_IMPLEMENTED_BY_BUILDER` markers when unset, the run's UUID; a key nothing
/// set (the communicator's with `communicator = "none"`) keeps its validate-time
/// `"<unknown>"`.
pub fn runtime_generated(
    generated: &BTreeMap<String, Value>,
    run_uuid: &str,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for k in GENERATED_KEYS {
        let v = generated.get(*k).cloned().unwrap_or_else(|| {
            Value::str(match *k {
                "ID" => "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER",
                "PackerHTTPIP" => "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER",
                "PackerHTTPPort" => "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER",
                "PackerHTTPAddr" => "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER",
                _ => "<unknown>",
            })
        });
        out.insert(k.to_string(), v);
    }
    for (k, v) in generated {
        out.insert(k.clone(), v.clone());
    }
    out.insert("PackerRunUUID".into(), Value::str(run_uuid));
    out
}

/// `build.*` as a post-processor sees it (Packer's `HCL2PostProcessor.PostProcess`): the
/// `generated_data` state of the artifact it is given, `"<unknown>"` for every other key.
/// The null builder's artifact gives only `ID`; the file builder's and most
/// post-processors' artifacts give nothing.
///
/// In a legacy JSON template (`legacy`) the post-processor renders `{{ build `ID` }}` (a
/// `{{.ID}}` placeholder) with that data alone: a key it lacks is "<no value>".
pub fn artifact_generated(
    artifact: &crate::artifact::Artifact,
    legacy: bool,
) -> BTreeMap<String, Value> {
    let mut out = unknown_generated(&[]);
    if legacy {
        out.values_mut().for_each(|v| *v = Value::str("<no value>"));
    }
    out.extend(artifact_state_generated(artifact));
    out
}

/// The artifact's `generated_data` state alone: what a post-processor's own code reads
/// (the shell-local post-processor's environment and templates), with nothing filled in.
pub fn artifact_state_generated(artifact: &crate::artifact::Artifact) -> BTreeMap<String, Value> {
    match artifact.state.get("generated_data") {
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// Prepares one provisioner for a build: decodes its body with `build.*` given.
pub fn prepare_provisioner(
    decl: &ProvisionerDecl,
    instance: &BuildInstance,
    base: &EvalEnv,
    generated: BTreeMap<String, Value>,
    info: &ComponentInfo,
) -> Result<Box<dyn Provisioner>, Diagnostics> {
    let env = instance.env(base, Some(generated));
    prepare_provisioner_in(decl, instance, &env, info).map(|(p, _)| p)
}

/// Like [`prepare_provisioner`], with the instance's evaluation context already made (one
/// context serves every provisioner of a build at validate time).
pub fn prepare_provisioner_in(
    decl: &ProvisionerDecl,
    instance: &BuildInstance,
    env: &EvalEnv,
    info: &ComponentInfo,
) -> Result<(Box<dyn Provisioner>, Diagnostics), Diagnostics> {
    let overridden;
    let mut body = &decl.block.body;
    // `override` for this source: the SDK decodes it after the body, into the same config
    // (mapstructure without zeroing), so it merges into what the body set.
    if let Some(over) = decl.overrides.get(&instance.source.name) {
        // hcl2template decodes the block as written first: its errors end the provisioner
        // before the override is merged.
        let errors = PROVISIONERS.spec_errors(&decl.kind, provisioner_block(decl, body, env), info);
        if errors.has_errors() {
            return Err(errors);
        }
        let mut b = decl.block.body.clone();
        let mut merged = Vec::with_capacity(over.len());
        for (k, v) in over {
            // (An original with unknown values, data sources under `validate`, is replaced:
            // the merged value must be written back as an expression.)
            let value = match b.attr(k).map(|a| env.eval_attr(a)) {
                Some(Ok(orig)) if orig.is_wholly_known() => mapstructure_merge(orig, v),
                _ => v.clone(),
            };
            merged.push((k, value));
        }
        b.attrs.retain(|a| !over.contains_key(&a.key));
        for (k, v) in merged {
            b.attrs.push(crate::template::RawAttr {
                key: k.clone(),
                key_span: None,
                expr: value_expr(&v),
                file: decl.block.file.clone(),
                bindings: Default::default(),
            });
        }
        overridden = b;
        body = &overridden;
    }
    PROVISIONERS.decode(&decl.kind, provisioner_block(decl, body, env), info)
}

fn provisioner_block<'a>(
    decl: &'a ProvisionerDecl,
    body: &'a RawBody,
    env: &'a EvalEnv,
) -> Block<'a> {
    Block {
        legacy: false,
        body,
        env,
        subject: decl.block.subject(),
        what: format!("provisioner {:?}", decl.kind),
        name: decl.name.as_deref().unwrap_or_default(),
    }
}

/// Decodes a post-processor's body again with the build's run-time `build.*` values (at
/// prepare time they read `"<unknown>"`, as in Packer).
pub fn prepare_post_processor(
    decl: &PostProcessorDecl,
    instance: &BuildInstance,
    base: &EvalEnv,
    generated: BTreeMap<String, Value>,
    info: &ComponentInfo,
) -> Result<Box<dyn PostProcessor>, Diagnostics> {
    let env = instance.env(base, Some(generated));
    decode_post_processor(decl, &env, info).map(|(pp, _)| pp)
}

fn decode_post_processor(
    decl: &PostProcessorDecl,
    env: &EvalEnv,
    info: &ComponentInfo,
) -> Result<(Box<dyn PostProcessor>, Diagnostics), Diagnostics> {
    POST_PROCESSORS.decode(
        &decl.kind,
        Block {
            legacy: false,
            body: &decl.block.body,
            env,
            subject: decl.block.subject(),
            what: format!("post-processor {:?}", decl.kind),
            name: decl.name.as_deref().unwrap_or_default(),
        },
        info,
    )
}

/// What mapstructure leaves in a field holding `orig` once it decodes `over` into it, as
/// the SDK decodes a provisioner's `override` after its body (no zeroing): a list is merged
/// element by element (its elements decoded into the ones there, a longer original keeping
/// its tail), a map key by key, a null changes nothing, anything else is replaced.
pub fn mapstructure_merge(orig: Value, over: &Value) -> Value {
    match (orig, over) {
        (orig, Value::Null) => orig,
        (Value::List(mut items), Value::List(with)) => {
            for (i, w) in with.iter().enumerate() {
                match items.get_mut(i) {
                    Some(item) => *item = mapstructure_merge(std::mem::take(item), w),
                    None => items.push(w.clone()),
                }
            }
            Value::List(items)
        }
        (Value::Object(mut map), Value::Object(with)) => {
            for (k, w) in with {
                let item = map.remove(k).unwrap_or_default();
                map.insert(k.clone(), mapstructure_merge(item, w));
            }
            Value::Object(map)
        }
        (_, over) => over.clone(),
    }
}

/// An expression that evaluates to `v` (for overrides).
fn value_expr(v: &Value) -> hcl::edit::expr::Expression {
    v.to_hcl().parse().unwrap_or_else(|_| {
        hcl::edit::expr::Expression::Null(hcl::edit::Decorated::new(hcl::edit::expr::Null))
    })
}

/// [`prepare_partial`], failing when any build failed to prepare.
pub fn prepare(
    template: &Template,
    instances: Vec<BuildInstance>,
    opts: &RunOptions,
) -> Result<(Vec<PreparedBuild>, Diagnostics), Diagnostics> {
    let (out, diags) = prepare_partial(template, instances, opts);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((out, diags))
    }
}

/// Decodes and validates every component of the selected builds. Provisioners are validated
/// with `build.*` unknown and decoded again at run time.
///
/// As Packer's `GetBuilds`: the builds that prepared, beside every diagnostic (a build
/// that fails to prepare is left out; `packer build` runs the others).
pub fn prepare_partial(
    template: &Template,
    instances: Vec<BuildInstance>,
    opts: &RunOptions,
) -> (Vec<PreparedBuild>, Diagnostics) {
    let base = template.base_env();
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    let except_m: Vec<GlobMatcher> = opts.except.iter().filter_map(|p| glob(p).ok()).collect();
    // `-except` patterns matching a post-processor, counted (once per chain) only for the
    // builds prepared up to their post-processors, as GetBuilds counts them.
    let mut pp_except_matches = 0;
    for inst in instances {
        let info = ComponentInfo {
            build_name: inst.source.label.clone(),
            builder_type: inst.source.kind.clone(),
            full_name: inst.full_name.clone(),
            run_uuid: opts.run_uuid.clone(),
            force: opts.force,
            debug: opts.debug,
            on_error: opts.on_error,
            sensitive_vars: template.sensitive_vars.clone(),
            template_dir: template.root.clone(),
            env: opts.env.clone(),
        };
        let env = inst.env(&base, None);
        let builder = BUILDERS.decode(
            &inst.source.kind,
            Block {
                legacy: false,
                body: &inst.source.body,
                env: &env,
                subject: inst.source.subject.clone(),
                what: format!("source {:?} {:?}", inst.source.kind, inst.source.label),
                name: &inst.source.label,
            },
            &info,
        );
        // As Packer's GetBuilds: a builder that fails stops this build there, failing
        // provisioners stop it before its post-processors, failing post-processors before
        // its error-cleanup-provisioner.
        let builder = match builder {
            Ok((b, d)) => {
                diags.extend(d);
                b
            }
            Err(d) => {
                diags.extend(d);
                continue;
            }
        };
        let extra = builder.generated_keys();
        let unknown = unknown_generated(&extra);
        let late_env = inst.env(&base, Some(unknown));
        let mut failed = false;
        for p in &inst.provisioners {
            match prepare_provisioner_in(p, &inst, &late_env, &info) {
                Ok((_, d)) => diags.extend(d),
                Err(d) => {
                    failed |= d.has_errors();
                    diags.extend(d);
                }
            }
        }
        if failed {
            continue;
        }
        let mut chains = Vec::new();
        let mut pp_checks = Vec::new();
        for chain in &inst.post_processors {
            let mut kept = Vec::new();
            for decl in chain {
                // -except on a post-processor name truncates the rest of its chain.
                if except_m.iter().any(|m| m.is_match(decl.display_name())) {
                    pp_except_matches += 1;
                    break;
                }
                match decode_post_processor(decl, &late_env, &info) {
                    Ok((pp, d)) => {
                        diags.extend(d);
                        // (a block reading `build.*` is decoded again when it runs, with
                        // the values it reads `"<unknown>"` now)
                        if !reads_build_values(&decl.block.body) {
                            pp_checks.extend(
                                pp.deferred_checks().into_iter().map(|c| {
                                    format!("post-processor {:?}: {c}", decl.display_name())
                                }),
                            );
                        }
                        kept.push(decl.clone());
                    }
                    Err(d) => {
                        failed |= d.has_errors();
                        diags.extend(d);
                    }
                }
            }
            if !kept.is_empty() {
                chains.push(kept);
            }
        }
        if failed {
            continue;
        }
        if let Some(p) = &inst.error_cleanup {
            match prepare_provisioner_in(p, &inst, &late_env, &info) {
                Ok((_, d)) => diags.extend(d),
                Err(d) => {
                    diags.extend(d);
                    continue;
                }
            }
        }
        out.push(PreparedBuild {
            instance: inst,
            info,
            builder,
            post_processors: chains,
            env,
            post_processor_checks: pp_checks,
        });
    }
    diags.extend(get_builds_warnings(template, opts, pp_except_matches));
    (out, diags)
}

/// GetBuilds' `-only`/`-except` warnings, said after every build's preparation: the
/// template's builds counted as [`select`] counts them, and the post-processors cut.
fn get_builds_warnings(template: &Template, opts: &RunOptions, pp_matches: usize) -> Diagnostics {
    if opts.only.is_empty() && opts.except.is_empty() {
        return Diagnostics::new();
    }
    let Ok(all) = template.instances() else {
        return Diagnostics::new();
    };
    let globs =
        |ps: &[String]| -> Vec<GlobMatcher> { ps.iter().filter_map(|p| glob(p).ok()).collect() };
    let (only_m, except_m) = (globs(&opts.only), globs(&opts.except));
    let names: Vec<String> = all.iter().map(|i| i.full_name.clone()).collect();
    let (only_matches, except_matches) = build_matches(&names, &only_m, &except_m);
    selection_warnings(
        &names,
        (opts.only.len(), only_matches),
        (opts.except.len(), except_matches + pp_matches),
    )
}

/// Runs a data source block (used while loading the template).
pub fn run_data_source(
    decl: &crate::template::DataDecl,
    env: &EvalEnv,
    run_env: &Arc<RunEnv>,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let (ds, _) = decode_data_source(decl, env, run_env)?;
    // As Packer reports a data source's `Execute` error (through the plugin RPC layer).
    ds.execute().map_err(|e| {
        Diagnostic::error(format!("Datasource.Execute failed: {e:#}"), "")
            .with_subject(decl.block.subject())
            .into()
    })
}

fn decode_data_source(
    decl: &crate::template::DataDecl,
    env: &EvalEnv,
    run_env: &Arc<RunEnv>,
) -> Result<(Box<dyn crate::components::DataSource>, Diagnostics), Diagnostics> {
    let info = ComponentInfo {
        env: run_env.clone(),
        ..ComponentInfo::default()
    };
    DATA_SOURCES.decode(
        &decl.kind,
        Block {
            legacy: false,
            body: &decl.block.body,
            env,
            subject: decl.block.subject(),
            what: format!("data {:?} {:?}", decl.kind, decl.name),
            name: &decl.name,
        },
        &info,
    )
}

/// Checks data source blocks without running them (validate without
/// `-evaluate-datasources`).
pub fn check_data_sources(template: &Template, run_env: &Arc<RunEnv>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let env = template.base_env();
    for decl in template.data.values() {
        match decode_data_source(decl, &env, run_env) {
            Ok((_, d)) => diags.extend(d),
            // Packer's walk stops at the first data source that fails.
            Err(d) => {
                diags.extend(d);
                break;
            }
        }
    }
    diags
}

impl PreparedBuild {
    /// What the pod running this build needs beyond the restricted defaults.
    pub fn requirements(&self) -> Requirements {
        self.builder.requirements()
    }

    /// Kiln's own checks its builder failed, which fail the build at its first step, then
    /// those of its post-processors ([`PreparedBuild::post_processor_checks`]).
    pub fn deferred_checks(&self) -> Vec<String> {
        let mut all = self.builder.deferred_checks();
        all.extend(self.post_processor_checks.iter().cloned());
        all
    }
}

/// Whether a block reads run-time build values: a `build.*` traversal, or a Go template
/// (`{{ build "ID" }}`, `{{ .ID }}`) in a string.
fn reads_build_values(body: &RawBody) -> bool {
    body.attrs.iter().any(|a| {
        crate::template::locals::references(&a.expr)
            .iter()
            .any(|r| r.first().is_some_and(|n| n == "build"))
            || a.expr.to_string().contains("{{")
    }) || body.blocks.iter().any(|b| reads_build_values(&b.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_generated_fills_placeholders() {
        let mut g = BTreeMap::new();
        g.insert("ID".to_string(), Value::str("Null"));
        let r = runtime_generated(&g, "u-1");
        assert_eq!(r["ID"], Value::str("Null"));
        assert_eq!(r["Host"], Value::str("<unknown>"));
        assert_eq!(r["ConnType"], Value::str("<unknown>"));
        let r = runtime_generated(&BTreeMap::new(), "u-1");
        assert_eq!(r["ID"], Value::str("ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"));
        assert_eq!(
            r["PackerHTTPAddr"],
            Value::str("ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER")
        );
        assert_eq!(r["PackerRunUUID"], Value::str("u-1"));
    }
}
