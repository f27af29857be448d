//! Legacy JSON templates on Kiln's components: the legacy core's `GetBuilds` (Packer's
//! `Core.Build` then `CoreBuild.Prepare`) making [`PreparedBuild`]s the runner runs like any
//! other. Each component's JSON config is rendered as its plugin renders it (user variables,
//! `build_name`, `build_type`, …; `{{.Field}}` references are kept for the component, and
//! the builder's generated data — `{{ build `ID` }}` — reads the build's `build.*` at run
//! time), then handed to the component as a body of literal values.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::components::registry::{Block, Kind};
use crate::components::{BUILDERS, ComponentInfo, POST_PROCESSORS, PROVISIONERS};
use crate::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::plan::{PreparedBuild, RunOptions, unknown_generated};
use crate::template::build::{BuildInstance, PostProcessorDecl, ProvisionerDecl, SourceUse};
use crate::template::{EvalEnv, RawBlock};
use kiln_hcl::legacy::config::{body_of, placeholder_data, render_config};
use kiln_hcl::legacy::json::J;
use kiln_hcl::legacy::render::{self, Context};
use kiln_hcl::legacy::{Core, Provisioner};

/// `CoreBuild.Name()`: `type.name` for a named builder, the type alone otherwise.
pub fn full_name(kind: &str, raw_name: &str, name: &str) -> String {
    if kind != raw_name {
        format!("{kind}.{name}")
    } else {
        name.to_string()
    }
}

/// A diagnostic Packer's legacy core writes: a summary and an error's text.
fn diag(summary: String, detail: String) -> Diagnostic {
    Diagnostic::error(summary, detail)
}

/// The error of a component's failed `Prepare`, as its plugin words it: unknown keys first
/// and alone (the SDK's `config.Decode` stops there, with go-multierror's text), else the
/// component's own errors (the SDK's `MultiError`). `shell-local` wraps decoding errors.
fn plugin_failure(category: Kind, kind: &str, d: &Diagnostics, extra_unknown: &[String]) -> String {
    // mapstructure's decoding error stops the SDK's `Decode` before its check of unused keys: it
    // is the error, alone.
    if let Some(e) = d
        .errors()
        .find(|e| e.summary == kiln_hcl::template::body::MAPSTRUCTURE_ERROR)
    {
        return decoding_failure(kind, e.detail.clone());
    }
    let mut unknown: Vec<String> = extra_unknown.to_vec();
    for e in d.errors() {
        if e.summary == "Unsupported argument"
            && let Some(k) = e.detail.split('"').nth(1)
        {
            unknown.push(k.to_string());
        }
    }
    // The SDK's `Decode` passes over `type` and any `packer_*` key.
    unknown.retain(|k| k != "type" && !k.starts_with("packer_"));
    if !unknown.is_empty() {
        unknown.sort();
        let plugin_type = sdk_plugin_type(category, kind);
        let errs: Vec<String> = unknown
            .iter()
            .map(|k| {
                if plugin_type.is_some_and(|t| fixable(t, k)) {
                    format!(
                        "Deprecated configuration key: '{k}'. Please call `packer fix` against your template to update your template to be compatible with the current version of Packer. Visit https://www.packer.io/docs/commands/fix/ for more detail."
                    )
                } else {
                    format!(
                        "unknown configuration key: '{}'",
                        kiln_hcl::value::go_quote(k)
                    )
                }
            })
            .collect();
        return decoding_failure(kind, kiln_hcl::legacy::multierror(&errs));
    }
    let errs: Vec<String> = d
        .errors()
        .map(|e| {
            if e.summary.starts_with("Failed preparing ") {
                // A plugin's Prepare error as hcl2template words it: the text is the detail.
                e.detail.clone()
            } else if e.summary == "Missing required argument"
                && let Some(k) = e.detail.split('"').nth(1)
            {
                format!("{k} required")
            } else if e.detail.is_empty() {
                e.summary.clone()
            } else {
                e.detail.clone()
            }
        })
        .collect();
    // A component's Prepare error is given as the plugin returns it: its MultiError, or
    // the one plain error it stopped with (`Invalid OS specified in only_on: …`).
    let prepared = |e: &kiln_hcl::diag::Diagnostic| {
        e.summary.starts_with("Failed preparing ") || e.detail.is_empty()
    };
    if let [one] = errs.as_slice()
        && (one.contains(" error(s) occurred:")
            || d.errors().count() == 1 && d.errors().all(prepared))
    {
        return one.clone();
    }
    let points: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
    format!("{} error(s) occurred:\n\n{}", errs.len(), points.join("\n"))
}

/// A decoding error (unknown keys, a template that fails) as the plugin returns it.
/// The `PluginType` a component gives the SDK's `config.Decode` (its builder id, or its
/// name), which picks the deprecated keys `packer fix` handles; `None` for the components
/// that give none (the file builder, shell-local, sleep).
fn sdk_plugin_type(category: Kind, kind: &str) -> Option<&'static str> {
    Some(match (category, kind) {
        (Kind::Builder, "null") => "fnoeding.null",
        (Kind::Builder, "docker") => "packer.docker",
        (Kind::Builder, "qemu") => "transcend.qemu",
        (Kind::Provisioner, "shell") => "shell",
        (Kind::Provisioner, "file") => "file",
        (Kind::Provisioner, "breakpoint") => "breakpoint",
        (Kind::Provisioner, "powershell") => "powershell",
        (Kind::Provisioner, "windows-shell") => "windows-shell",
        (Kind::Provisioner, "windows-restart") => "windows-restart",
        (Kind::Provisioner, "hcp-sbom") => "hcp-sbom",
        (Kind::PostProcessor, "artifice") => "artifice",
        (Kind::PostProcessor, "checksum") => "checksum",
        (Kind::PostProcessor, "compress") => "compress",
        (Kind::PostProcessor, "manifest") => "packer.post-processor.manifest",
        (Kind::PostProcessor, "provenance") => "packer.post-processor.provenance",
        (Kind::PostProcessor, "docker-import" | "docker-push") => {
            "packer.post-processor.docker-import"
        }
        (Kind::PostProcessor, "docker-save") => "packer.post-processor.docker-save",
        (Kind::PostProcessor, "docker-tag") => "packer.post-processor.docker-tag",
        _ => return None,
    })
}

/// The SDK's `DeprecatedOptions` (generated from `packer fix`'s fixers): plugin-type globs
/// and the keys `packer fix` rewrites for them.
const DEPRECATED_OPTIONS: &[(&str, &[&str])] = &[
    (
        "*",
        &[
            "iso_md5",
            "ssh_key_path",
            "ssh_disable_agent",
            "ssh_host_port_min",
            "ssh_host_port_max",
            "ssh_skip_nat_mapping",
            "ssh_wait_timeout",
            "iso_checksum_url",
            "iso_checksum_type",
        ],
    ),
    ("packer.docker", &["login_email"]),
    ("packer.post-processor.docker-import", &["login_email"]),
    ("packer.post-processor.docker-tag", &["tag"]),
    ("packer.post-processor.manifest", &["filename"]),
    (
        "transcend.qemu",
        &["ssh_host_port_max", "ssh_host_port_min"],
    ),
];

/// Whether an unknown key of a component of `plugin_type` is one `packer fix` handles (the
/// globs matched as ryanuber/go-glob does: `*` stands for any run of characters).
fn fixable(plugin_type: &str, key: &str) -> bool {
    DEPRECATED_OPTIONS
        .iter()
        .any(|(g, keys)| go_glob_match(g, plugin_type) && keys.contains(&key))
}

/// ryanuber/go-glob's `Glob`: `*` matches any run of characters, nothing else is special.
fn go_glob_match(pattern: &str, subj: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == subj;
    }
    let mut rest = subj;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn decoding_failure(kind: &str, e: String) -> String {
    if kind == "shell-local" {
        format!("Error decoding config: {e}")
    } else {
        e
    }
}

/// `max_retries`, rendered with the core's context and read as an integer when the build
/// is made.
fn max_retries(p: &Provisioner, core: &Core) -> Result<i64, String> {
    if p.max_retries.is_empty() {
        return Ok(0);
    }
    let r = render::render(&p.max_retries, &core.context())
        .map_err(|e| format!("failed to interpolate `max_retries`: {}", e.msg))?;
    r.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!(
            "`max_retries` must be a valid integer: strconv.Atoi: parsing {}: {why}",
            kiln_hcl::value::go_quote(&r)
        )
    })
}

/// [`crate::plan::mapstructure_merge`] over JSON values: an override's value merged into the
/// provisioner's own (lists element by element, objects key by key, null keeps it).
fn merge_json(orig: J, over: &J) -> J {
    match (orig, over) {
        (orig, J::Null) => orig,
        (J::Arr(mut items), J::Arr(with)) => {
            for (i, w) in with.iter().enumerate() {
                match items.get_mut(i) {
                    Some(item) => *item = merge_json(std::mem::replace(item, J::Null), w),
                    None => items.push(w.clone()),
                }
            }
            J::Arr(items)
        }
        (J::Obj(map), J::Obj(with)) => {
            let mut map = kiln_hcl::legacy::json::dedup(&map);
            for (k, w) in kiln_hcl::legacy::json::dedup(with) {
                match map.iter_mut().find(|(mk, _)| *mk == k) {
                    Some((_, item)) => *item = merge_json(std::mem::replace(item, J::Null), &w),
                    None => map.push((k, w)),
                }
            }
            J::Obj(map)
        }
        (_, over) => over.clone(),
    }
}

/// A provisioner of one build, its config (with the builder's override) rendered; the
/// error is its plugin's.
fn provisioner_decl(
    p: &Provisioner,
    raw_name: &str,
    retries: i64,
    ctx: &Context,
    path: &Path,
) -> Result<(ProvisionerDecl, Vec<String>), String> {
    let mut config = p.config.clone();
    if let Some((_, J::Obj(over))) = p.overrides.iter().find(|(k, _)| k == raw_name) {
        // Decoded after the config into the same struct (mapstructure, no zeroing): merged.
        for (k, v) in kiln_hcl::legacy::json::dedup(over) {
            let orig = config
                .iter()
                .rev()
                .find(|(ck, _)| *ck == k)
                .map(|(_, j)| j.clone());
            let v = match orig {
                Some(o) => merge_json(o, &v),
                None => v,
            };
            config.retain(|(ck, _)| *ck != k);
            config.push((k, v));
        }
    }
    let config = render_config(&config, ctx).map_err(|e| decoding_failure(&p.kind, e))?;
    let (body, bad) = body_of(&config, path);
    let block = RawBlock {
        ident: "provisioner".into(),
        labels: vec![p.kind.clone()],
        body,
        span: None,
        ident_span: None,
        header_end: None,
        file: SourceFile::new(path, String::new()),
    };
    // Packer wraps a provisioner in a pause, else a timeout: never both.
    // (A negative timeout is none here: it would expire before the provisioner starts.)
    let pause = (!p.pause_before.is_zero()).then_some(p.pause_before);
    let timeout = (pause.is_none() && p.timeout.0 > 0).then_some(p.timeout.wait());
    Ok((
        ProvisionerDecl {
            kind: p.kind.clone(),
            name: None,
            block,
            only: Vec::new(),
            except: Vec::new(),
            pause_before: pause,
            timeout,
            max_retries: retries,
            continue_on_error: false,
            overrides: BTreeMap::new(),
        },
        bad,
    ))
}

/// `Core.GetBuilds`: the selected builds (exact names), each built and prepared; builds
/// that fail are reported and left out, as Packer does.
pub fn get_builds(
    core: &Core,
    only: &[String],
    except: &[String],
    opts: &RunOptions,
) -> (Vec<PreparedBuild>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    let t = &core.template;
    let path = t.path.clone();
    let template_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for n in core.build_names(only, except) {
        let b = &core.builds[&n];
        let raw_name = b.name.clone();
        let init_err = |detail: String| diag(format!("Failed to initialize build {n:?}"), detail);
        let prep_err = |detail: String| diag(format!("Failed to prepare build: {n:?}"), detail);
        // Core.Build: every component must exist.
        if BUILDERS.get(&b.kind).is_none() {
            let detail = BUILDERS.unknown(&b.kind, None).detail;
            diags.push(init_err(detail.replacen("The source ", "The builder ", 1)));
            continue;
        }
        let provs: Vec<&Provisioner> = t
            .provisioners
            .iter()
            .filter(|p| !p.oe.skip(&raw_name))
            .collect();
        let unknown_prov = provs
            .iter()
            .copied()
            .chain(t.cleanup.iter())
            .find(|p| PROVISIONERS.get(&p.kind).is_none());
        if let Some(p) = unknown_prov {
            diags.push(init_err(PROVISIONERS.unknown(&p.kind, None).detail));
            continue;
        }
        let mut chains = Vec::new();
        let mut unknown_pp = None;
        for chain in &t.post_processors {
            let mut current = Vec::new();
            for pp in chain {
                if pp.oe.skip(&raw_name) {
                    continue;
                }
                // -except names post-processors too: the rest of the chain is cut.
                if except.iter().any(|e| !e.is_empty() && *e == pp.name) {
                    break;
                }
                if POST_PROCESSORS.get(&pp.kind).is_none() {
                    unknown_pp = Some(pp.kind.clone());
                    break;
                }
                current.push(pp.clone());
            }
            if unknown_pp.is_some() {
                break;
            }
            if !current.is_empty() {
                chains.push(current);
            }
        }
        if let Some(k) = unknown_pp {
            diags.push(init_err(POST_PROCESSORS.unknown(&k, None).detail));
            continue;
        }
        let mut ctx = core.context();
        ctx.build_name = n.clone();
        ctx.build_type = b.kind.clone();
        let full = full_name(&b.kind, &raw_name, &n);
        let info = ComponentInfo {
            build_name: n.clone(),
            builder_type: b.kind.clone(),
            full_name: full.clone(),
            run_uuid: opts.run_uuid.clone(),
            force: opts.force,
            debug: opts.debug,
            on_error: opts.on_error,
            sensitive_vars: t.sensitive.clone(),
            template_dir: template_dir.clone(),
            env: opts.env.clone(),
        };
        // Provisioners' max_retries are read when the build is made.
        let mut retries = Vec::new();
        let mut failed = None;
        for p in provs.iter().copied().chain(t.cleanup.iter()) {
            match max_retries(p, core) {
                Ok(r) => retries.push(r),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            diags.push(init_err(e));
            continue;
        }
        // CoreBuild.Prepare: the builder, the provisioners, the cleanup provisioner, the
        // post-processors; the first that fails stops the build.
        let config = match render_config(&b.config, &ctx) {
            Ok(c) => c,
            Err(e) => {
                diags.push(prep_err(decoding_failure(&b.kind, e)));
                continue;
            }
        };
        let (body, bad) = body_of(&config, &path);
        let source = SourceUse {
            kind: b.kind.clone(),
            label: n.clone(),
            name: n.clone(),
            body,
            subject: None,
            unknown: None,
        };
        let mut instance = BuildInstance {
            full_name: full.clone(),
            build_name: None,
            source,
            provisioners: Vec::new(),
            post_processors: Vec::new(),
            error_cleanup: None,
        };
        let base = EvalEnv::default();
        let env = instance.env(&base, None);
        // The builder's warnings, reported only when the whole build prepared (GetBuilds
        // drops them with a build that fails).
        let mut pending = Diagnostics::new();
        let builder = BUILDERS.decode(
            &b.kind,
            Block {
                legacy: true,
                body: &instance.source.body,
                env: &env,
                subject: None,
                what: format!("builder {:?}", b.kind),
                name: &n,
            },
            &info,
        );
        let builder = match builder {
            Ok((builder, w)) if bad.is_empty() => {
                warnings(&n, &w, &mut pending);
                builder
            }
            Ok((_, d)) | Err(d) => {
                diags.push(prep_err(plugin_failure(Kind::Builder, &b.kind, &d, &bad)));
                continue;
            }
        };
        let extra = builder.generated_keys();
        let late_env = instance.env(&base, Some(unknown_generated(&extra)));
        // Provisioners and post-processors render `{{ build `X` }}` with placeholders.
        let mut pctx = ctx.clone();
        pctx.data = Some(placeholder_data(&extra));
        let mut decls = Vec::new();
        let mut ok = true;
        let all: Vec<(&Provisioner, i64)> = provs
            .iter()
            .copied()
            .chain(t.cleanup.iter())
            .zip(retries)
            .collect();
        for (p, r) in all {
            let (decl, bad) = match provisioner_decl(p, &raw_name, r, &pctx, &path) {
                Ok(d) => d,
                Err(e) => {
                    diags.push(prep_err(e));
                    ok = false;
                    break;
                }
            };
            let r = PROVISIONERS.decode(
                &decl.kind,
                Block {
                    legacy: true,
                    body: &decl.block.body,
                    env: &late_env,
                    subject: None,
                    what: format!("provisioner {:?}", decl.kind),
                    name: "",
                },
                &info,
            );
            match r {
                Ok((_, w)) if bad.is_empty() => warnings(&n, &w, &mut pending),
                Ok((_, d)) | Err(d) => {
                    diags.push(prep_err(plugin_failure(
                        Kind::Provisioner,
                        &decl.kind,
                        &d,
                        &bad,
                    )));
                    ok = false;
                    break;
                }
            }
            decls.push(decl);
        }
        if !ok {
            continue;
        }
        let cleanup = if t.cleanup.is_some() {
            decls.pop()
        } else {
            None
        };
        let mut pp_chains = Vec::new();
        'chains: for chain in &chains {
            let mut chain_decls = Vec::new();
            for pp in chain {
                let config = match render_config(&pp.config, &pctx) {
                    Ok(c) => c,
                    Err(e) => {
                        diags.push(prep_err(decoding_failure(&pp.kind, e)));
                        ok = false;
                        break 'chains;
                    }
                };
                let (body, bad) = body_of(&config, &path);
                let block = RawBlock {
                    ident: "post-processor".into(),
                    labels: vec![pp.kind.clone()],
                    body,
                    span: None,
                    ident_span: None,
                    header_end: None,
                    file: SourceFile::new(&path, String::new()),
                };
                let r = POST_PROCESSORS.decode(
                    &pp.kind,
                    Block {
                        legacy: true,
                        body: &block.body,
                        env: &late_env,
                        subject: None,
                        what: format!("post-processor {:?}", pp.kind),
                        name: &pp.name,
                    },
                    &info,
                );
                match r {
                    Ok((_, w)) if bad.is_empty() => warnings(&n, &w, &mut pending),
                    Ok((_, d)) | Err(d) => {
                        diags.push(prep_err(plugin_failure(
                            Kind::PostProcessor,
                            &pp.kind,
                            &d,
                            &bad,
                        )));
                        ok = false;
                        break 'chains;
                    }
                }
                chain_decls.push(PostProcessorDecl {
                    kind: pp.kind.clone(),
                    name: Some(pp.name.clone()),
                    block,
                    only: Vec::new(),
                    except: Vec::new(),
                    keep_input_artifact: pp.keep_input_artifact,
                });
            }
            pp_chains.push(chain_decls);
        }
        if !ok {
            continue;
        }
        diags.extend(pending);
        instance.provisioners = decls;
        instance.error_cleanup = cleanup;
        instance.post_processors = pp_chains.clone();
        out.push(PreparedBuild {
            instance,
            info,
            builder,
            post_processors: pp_chains,
            env,
            // (a legacy post-processor is decoded again when it runs, its Go templates
            // rendered then)
            post_processor_checks: Vec::new(),
        });
    }
    (out, diags)
}

fn warnings(n: &str, w: &Diagnostics, diags: &mut Diagnostics) {
    for d in w.warnings() {
        let text = if d.detail.is_empty() {
            d.summary.clone()
        } else {
            d.detail.clone()
        };
        diags.push(Diagnostic::warning(
            format!("Warning when preparing build: {n:?}"),
            text,
        ));
    }
}

/// The evaluation context legacy builds run in (their bodies hold literal values).
pub fn base_env() -> EvalEnv {
    EvalEnv::default()
}

/// Shares the run environment of a load (for callers that have no session).
pub fn local_env() -> Arc<crate::components::RunEnv> {
    Arc::new(crate::components::RunEnv::local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_become_hcl_literals() {
        assert_eq!(full_name("null", "null", "null"), "null");
        assert_eq!(full_name("null", "two", "two"), "null.two");
    }
}
