//! Taking a build's snapshot from its template: the variables checked against the
//! declarations, the template validated with the build's values, the sources selected, the
//! `kiln-channel` references collected and what each selected source's runner pod needs.
//! The template is parsed once. No API call; blocking (run off the async threads).

use std::path::Path;

use kiln_crds::{ImageBuild, ImageTemplate, VariableValues};
use kube::ResourceExt;

use super::super::analysis;
use super::super::resources::Snapshot;

/// What taking the snapshot gave.
#[derive(Debug)]
pub enum Prepared {
    Ready(Box<Snapshot>),
    /// The ImageTemplate does not exist (yet).
    TemplateMissing(String),
    /// A problem only a change of the spec (or template) fixes; nothing is started.
    Invalid(String),
}

/// Checks the build against its template and fixes what it will run. `template` is the
/// referenced ImageTemplate (None for inline); `dir` a scratch directory.
pub fn prepare_snapshot(
    build: &ImageBuild,
    template: Option<&ImageTemplate>,
    run_uuid: String,
    dir: &Path,
) -> Prepared {
    let spec = &build.spec;
    let (files, defaults, template_name) = match (&spec.template_ref, &spec.template, template) {
        (Some(r), _, Some(t)) => (
            analysis::template_files(t.spec.template.as_deref(), t.spec.files.as_deref()),
            t.spec.variables.clone(),
            r.name.clone(),
        ),
        (Some(r), _, None) => {
            return Prepared::TemplateMissing(format!("ImageTemplate {:?} not found", r.name));
        }
        (None, Some(inline), _) => (
            analysis::template_files(inline.template.as_deref(), inline.files.as_deref()),
            VariableValues::new(),
            String::new(),
        ),
        (None, None, _) => {
            return Prepared::Invalid(
                "set exactly one of spec.templateRef and spec.template".into(),
            );
        }
    };
    let parsed = match analysis::parse_files(dir, &files) {
        Ok(p) => p,
        Err(a) => {
            return Prepared::Invalid(format!(
                "invalid template: {}",
                a.first_error().unwrap_or_default()
            ));
        }
    };
    let secret_names: Vec<String> = spec
        .secret_variables
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let problems =
        analysis::check_variables(&parsed.template, &defaults, &spec.variables, &secret_names);
    if !problems.is_empty() {
        let msg: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        return Prepared::Invalid(msg.join("; "));
    }
    let mut merged = defaults.clone();
    merged.extend(spec.variables.clone());
    for s in &secret_names {
        merged.remove(s);
    }
    let env = match super::registry::runner_env(build) {
        Ok(env) => env,
        Err(e) => return Prepared::Invalid(e),
    };
    let a = analysis::analyze_parsed_env(parsed, &merged, Some(&|k| env.get(k).cloned()));
    if let Some(err) = a.first_error() {
        return Prepared::Invalid(format!("invalid template: {err}"));
    }
    let builds = match analysis::select_names(&a.instances, &spec.only, &spec.except) {
        Ok(b) => b,
        Err(e) => return Prepared::Invalid(format!("spec.only/spec.except: {e}")),
    };
    if builds.is_empty() {
        return Prepared::Invalid(format!(
            "no build to run: spec.only/spec.except select none of {}",
            a.instances.join(", ")
        ));
    }
    let ns = build.namespace().unwrap_or_default();
    for r in &a.channels {
        if !r.is_known() {
            return Prepared::Invalid(format!(
                "data.kiln-channel.{}: its arguments must be known when the build starts \
                 (literals and spec.variables, not secret variables or other data sources)",
                r.name
            ));
        }
        if let Some(other) = r.namespace.as_deref().filter(|n| *n != ns) {
            return Prepared::Invalid(format!(
                "data.kiln-channel.{}: namespace {other:?}: a build reads channels of its own \
                 namespace ({ns:?}) only",
                r.name
            ));
        }
    }
    for r in &a.hcp {
        if r.bucket().is_none() {
            return Prepared::Invalid(format!(
                "{}: bucket_name must be known when the build starts (literals and \
                 spec.variables, not secret variables or other data sources)",
                r.address
            ));
        }
    }
    let registry = match &a.registry {
        Some(cfg) => match super::registry::version_plan(build, &template_name, cfg) {
            Ok(plan) => Some(plan),
            Err(e) => return Prepared::Invalid(e),
        },
        None => None,
    };
    let dedupe = spec
        .dedupe
        .unwrap_or_else(|| template.is_some_and(|t| t.spec.dedupe));
    Prepared::Ready(Box::new(Snapshot {
        template: template_name,
        fingerprint: a.fingerprint,
        files,
        template_variables: defaults,
        variables: spec.variables.clone(),
        secret_variables: secret_names,
        builds: builds.clone(),
        only: spec.only.clone(),
        except: spec.except.clone(),
        on_error: spec.on_error,
        run_uuid,
        channels: Vec::new(),
        parent: None,
        requirements: a
            .requirements
            .into_iter()
            .filter(|(name, _)| builds.contains(name))
            .collect(),
        channel_refs: a.channels,
        registry,
        carried: Vec::new(),
        inputs_digest: None,
        reused_from: None,
        hcp_refs: a.hcp,
        dedupe,
    }))
}
