//! The plan: the build instances a run does, filtered by `-only` / `-except` globs, each with
//! its components prepared (every config decoded and validated; nothing runs).

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};

use crate::components::{
    self, Builder, ComponentInfo, OnError, PostProcessor, data_source, post_processor, provisioner,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::template::build::{BuildInstance, PostProcessorDecl, ProvisionerDecl};
use crate::template::{ConfigReader, EvalEnv, Template};
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
}

/// A build ready to run.
pub struct PreparedBuild {
    pub instance: BuildInstance,
    pub info: ComponentInfo,
    pub builder: Box<dyn Builder>,
    /// Post-processor chains (already cut by `-except`).
    pub post_processors: Vec<Vec<(PostProcessorDecl, Box<dyn PostProcessor>)>>,
    /// Evaluation context of this build's bodies (without run-time `build.*`).
    pub env: EvalEnv,
}

fn glob(p: &str) -> Result<GlobMatcher, Diagnostic> {
    Glob::new(p)
        .map(|g| g.compile_matcher())
        .map_err(|e| Diagnostic::error("Invalid -only/-except pattern", format!("{p:?}: {e}")))
}

/// Selects instances by `-only` / `-except`. A pattern that matches nothing is a warning;
/// nothing selected at all is the caller's "No builds to run".
pub fn select(
    instances: Vec<BuildInstance>,
    only: &[String],
    except: &[String],
) -> Result<(Vec<BuildInstance>, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let only_m: Vec<(String, GlobMatcher)> = only
        .iter()
        .map(|p| glob(p).map(|g| (p.clone(), g)))
        .collect::<Result<_, _>>()
        .map_err(Diagnostics::from)?;
    let except_m: Vec<(String, GlobMatcher)> = except
        .iter()
        .map(|p| glob(p).map(|g| (p.clone(), g)))
        .collect::<Result<_, _>>()
        .map_err(Diagnostics::from)?;
    for (p, m) in &only_m {
        if !instances.iter().any(|i| m.is_match(&i.full_name)) {
            diags.push(Diagnostic::warning(
                "No build matched an -only pattern",
                format!("the pattern {p:?} matched no build"),
            ));
        }
    }
    let selected = instances
        .into_iter()
        .filter(|i| only_m.is_empty() || only_m.iter().any(|(_, m)| m.is_match(&i.full_name)))
        .filter(|i| !except_m.iter().any(|(_, m)| m.is_match(&i.full_name)))
        .collect();
    Ok((selected, diags))
}

/// The `build.*` keys every build has, as provisioners and post-processors see them.
pub const GENERATED_KEYS: &[&str] = &[
    "ID",
    "Host",
    "Port",
    "User",
    "Password",
    "ConnType",
    "PackerRunUUID",
    "PackerHTTPIP",
    "PackerHTTPPort",
    "PackerHTTPAddr",
    "SSHPublicKey",
    "SSHPrivateKey",
    "WinRMPassword",
];

/// `build.*` at validate time: every key reads `"<unknown>"`.
pub fn unknown_generated(extra: &[String]) -> BTreeMap<String, Value> {
    GENERATED_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(extra.iter().cloned())
        .map(|k| (k, Value::str("<unknown>")))
        .collect()
}

/// `build.*` at run time: what the builder produced, with Packer's placeholders for the rest.
pub fn runtime_generated(
    generated: &BTreeMap<String, Value>,
    run_uuid: &str,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for k in GENERATED_KEYS {
        let v = generated.get(*k).cloned().unwrap_or_else(|| {
            Value::str(format!(
                "ERR_{}_NOT_IMPLEMENTED_BY_BUILDER",
                k.to_uppercase()
            ))
        });
        out.insert(k.to_string(), v);
    }
    for (k, v) in generated {
        out.insert(k.clone(), v.clone());
    }
    out.insert("PackerRunUUID".into(), Value::str(run_uuid));
    out
}

fn unknown_component(
    kind_of: &str,
    kind: &str,
    subject: Option<crate::diag::Subject>,
) -> Diagnostic {
    let known = components::known(kind_of);
    let hint = components::suggest(kind, &known)
        .map(|s| format!(" Did you mean {s:?}?"))
        .unwrap_or_default();
    let summary = match kind_of {
        "builder" => "Unknown source type",
        "provisioner" => "Unknown provisioner type",
        "post-processor" => "Unknown post-processor type",
        _ => "Unknown data source type",
    };
    Diagnostic::error(
        summary,
        format!(
            "The {kind_of} {kind:?} is unknown by Kiln.{hint} Kiln has: {}.",
            known.join(", ")
        ),
    )
    .with_subject(subject)
}

/// Prepares one provisioner for a build: decodes its body with `build.*` given.
pub fn prepare_provisioner(
    decl: &ProvisionerDecl,
    instance: &BuildInstance,
    base: &EvalEnv,
    generated: BTreeMap<String, Value>,
    info: &ComponentInfo,
) -> Result<Box<dyn components::Provisioner>, Diagnostics> {
    let env = instance.env(base, Some(generated));
    prepare_provisioner_in(decl, instance, &env, info)
}

/// Like [`prepare_provisioner`], with the instance's evaluation context already made (one
/// context serves every provisioner of a build at validate time).
pub fn prepare_provisioner_in(
    decl: &ProvisionerDecl,
    instance: &BuildInstance,
    env: &EvalEnv,
    info: &ComponentInfo,
) -> Result<Box<dyn components::Provisioner>, Diagnostics> {
    let Some(factory) = provisioner(&decl.kind) else {
        return Err(unknown_component("provisioner", &decl.kind, decl.block.subject()).into());
    };
    let overridden;
    let mut body = &decl.block.body;
    // `override` replaces arguments for this source.
    if let Some(over) = decl.overrides.get(&instance.source.name) {
        let mut b = decl.block.body.clone();
        b.attrs.retain(|a| !over.contains_key(&a.key));
        for (k, v) in over {
            b.attrs.push(crate::template::RawAttr {
                key: k.clone(),
                key_span: None,
                expr: value_expr(v),
                file: decl.block.file.clone(),
                bindings: Default::default(),
            });
        }
        overridden = b;
        body = &overridden;
    }
    let mut r = ConfigReader::new(
        body,
        env,
        decl.block.subject(),
        format!("provisioner {:?}", decl.kind),
    );
    let p = factory(&mut r, info);
    let diags = r.finish();
    match p {
        Some(p) if !diags.has_errors() => Ok(p),
        _ => Err(diags),
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
    let Some(factory) = post_processor(&decl.kind) else {
        return Err(unknown_component("post-processor", &decl.kind, decl.block.subject()).into());
    };
    let env = instance.env(base, Some(generated));
    let mut r = ConfigReader::new(
        &decl.block.body,
        &env,
        decl.block.subject(),
        format!("post-processor {:?}", decl.kind),
    );
    let pp = factory(&mut r, info);
    let diags = r.finish();
    match pp {
        Some(pp) if !diags.has_errors() => Ok(pp),
        _ => Err(diags),
    }
}

/// An expression that evaluates to `v` (for overrides).
fn value_expr(v: &Value) -> hcl::edit::expr::Expression {
    v.to_hcl().parse().unwrap_or_else(|_| {
        hcl::edit::expr::Expression::Null(hcl::edit::Decorated::new(hcl::edit::expr::Null))
    })
}

/// Decodes and validates every component of the selected builds. Provisioners are validated
/// with `build.*` unknown and decoded again at run time.
pub fn prepare(
    template: &Template,
    instances: Vec<BuildInstance>,
    opts: &RunOptions,
) -> Result<(Vec<PreparedBuild>, Diagnostics), Diagnostics> {
    let base = template.base_env();
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    let except_m: Vec<GlobMatcher> = opts.except.iter().filter_map(|p| glob(p).ok()).collect();
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
        };
        let env = inst.env(&base, None);
        let Some(factory) = components::builder(&inst.source.kind) else {
            diags.push(unknown_component(
                "builder",
                &inst.source.kind,
                inst.source.subject.clone(),
            ));
            continue;
        };
        let mut r = ConfigReader::new(
            &inst.source.body,
            &env,
            inst.source.subject.clone(),
            format!("source {:?} {:?}", inst.source.kind, inst.source.label),
        );
        let builder = factory(&mut r, &info);
        let d = r.finish();
        let builder_ok = !d.has_errors();
        diags.extend(d);
        let extra = builder
            .as_ref()
            .map(|b| b.generated_keys())
            .unwrap_or_default();
        let unknown = unknown_generated(&extra);
        let prov_env = inst.env(&base, Some(unknown.clone()));
        for p in inst.provisioners.iter().chain(inst.error_cleanup.iter()) {
            if let Err(d) = prepare_provisioner_in(p, &inst, &prov_env, &info) {
                diags.extend(d);
            }
        }
        let pp_env = inst.env(&base, Some(unknown.clone()));
        let mut chains = Vec::new();
        for chain in &inst.post_processors {
            let mut prepared = Vec::new();
            for decl in chain {
                // -except on a post-processor name truncates the rest of its chain.
                if except_m.iter().any(|m| m.is_match(decl.display_name())) {
                    break;
                }
                let Some(f) = post_processor(&decl.kind) else {
                    diags.push(unknown_component(
                        "post-processor",
                        &decl.kind,
                        decl.block.subject(),
                    ));
                    continue;
                };
                let mut r = ConfigReader::new(
                    &decl.block.body,
                    &pp_env,
                    decl.block.subject(),
                    format!("post-processor {:?}", decl.kind),
                );
                let pp = f(&mut r, &info);
                diags.extend(r.finish());
                if let Some(pp) = pp {
                    prepared.push((decl.clone(), pp));
                }
            }
            if !prepared.is_empty() {
                chains.push(prepared);
            }
        }
        if let (Some(builder), true) = (builder, builder_ok) {
            out.push(PreparedBuild {
                instance: inst,
                info,
                builder,
                post_processors: chains,
                env,
            });
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((out, diags))
    }
}

/// Runs a data source block (used while loading the template).
pub fn run_data_source(
    decl: &crate::template::DataDecl,
    env: &EvalEnv,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let Some(factory) = data_source(&decl.kind) else {
        return Err(unknown_component("data", &decl.kind, decl.block.subject()).into());
    };
    let mut r = ConfigReader::new(
        &decl.block.body,
        env,
        decl.block.subject(),
        format!("data {:?} {:?}", decl.kind, decl.name),
    );
    let ds = factory(&mut r);
    let diags = r.finish();
    if diags.has_errors() {
        return Err(diags);
    }
    let Some(ds) = ds else {
        return Err(diags);
    };
    ds.execute().map_err(|e| {
        Diagnostic::error(
            "Data source failed",
            format!("data.{}.{}: {e:#}", decl.kind, decl.name),
        )
        .with_subject(decl.block.subject())
        .into()
    })
}

/// Checks data source blocks without running them (validate without
/// `-evaluate-datasources`).
pub fn check_data_sources(template: &Template) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let env = template.base_env();
    for decl in template.data.values() {
        match data_source(&decl.kind) {
            None => diags.push(unknown_component("data", &decl.kind, decl.block.subject())),
            Some(f) => {
                let mut r = ConfigReader::new(&decl.block.body, &env, decl.block.subject(), "data");
                let _ = f(&mut r);
                diags.extend(r.finish());
            }
        }
    }
    diags
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
        assert_eq!(r["Host"], Value::str("ERR_HOST_NOT_IMPLEMENTED_BY_BUILDER"));
        assert_eq!(r["PackerRunUUID"], Value::str("u-1"));
    }
}
