//! The engine seen from Kubernetes: template text held in a resource → files on disk →
//! the engine's load pipeline. Shared by the ImageTemplate controller (validation, no side
//! effects, data sources not evaluated), the ImageBuild controller (variable checks and source
//! selection) and the runner (the real run, exactly as `kiln build`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kiln_crds::{
    Diagnostic as CrdDiagnostic, Severity, TemplateBuild, TemplateFile, TemplateVariable,
    VariableValues,
};
use kiln_engine::components::{Requirements, RunEnv};
use kiln_engine::datasources::hcp_packer::{self, HcpRef};
use kiln_engine::datasources::kiln_channel::{self, ChannelRef};
use kiln_engine::diag::{Diagnostic, Diagnostics, Severity as EngineSeverity};
use kiln_engine::hcl::types;
use kiln_engine::plan::RunOptions;
use kiln_engine::session::{self, LoadOptions, Selection, TemplateSource};
use kiln_engine::template::registry::RegistryConfig;
use kiln_engine::template::{Template, VarInputs};
use kiln_engine::ui::Masker;
use kiln_engine::value::Value;
use sha2::{Digest, Sha256};

pub use crate::contract::{exprs, json_to_hcl, materialize};

/// The file name a single-body template (`spec.template`) gets, in diagnostics and on disk.
pub const SINGLE_FILE_NAME: &str = "template.pkr.hcl";

/// What the default of a sensitive variable reads as in status.
pub const MASKED: &str = "<sensitive>";

/// The files of a template: `spec.template` becomes [`SINGLE_FILE_NAME`], `spec.files` keep
/// their names, sorted by name (the order Packer reads a directory in).
pub fn template_files(single: Option<&str>, files: Option<&[TemplateFile]>) -> Vec<TemplateFile> {
    let mut out: Vec<TemplateFile> = match (single, files) {
        (Some(body), _) => vec![TemplateFile {
            name: SINGLE_FILE_NAME.to_string(),
            content: body.to_string(),
        }],
        (None, Some(files)) => files.to_vec(),
        (None, None) => Vec::new(),
    };
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `sha256:<hex>` of the template content: each file's name and content, in name order,
/// separated by NUL bytes.
pub fn fingerprint(files: &[TemplateFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0u8]);
        h.update(f.content.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Everything the ImageTemplate status says about a template.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    pub fingerprint: String,
    /// `type.name` of every `source` block, in declaration order.
    pub sources: Vec<String>,
    pub builds: Vec<TemplateBuild>,
    pub variables: Vec<TemplateVariable>,
    /// Every build instance's full name (`[build.]type.name`), what `only`/`except` match.
    pub instances: Vec<String>,
    /// The `kiln-channel` data sources, which the operator resolves before a build runs.
    pub channels: Vec<ChannelRef>,
    /// The HCP Packer data sources (`hcp-packer-version`, `hcp-packer-artifact`, …), whose
    /// buckets the operator reads before a build runs.
    pub hcp: Vec<HcpRef>,
    /// The `hcp_packer_registry` configuration (None: the registry is off).
    pub registry: Option<RegistryConfig>,
    /// What each build's runner pod needs beyond the restricted defaults (builds that need
    /// nothing more are absent), by full name.
    pub requirements: BTreeMap<String, Requirements>,
    /// Errors first, then warnings.
    pub diagnostics: Vec<CrdDiagnostic>,
}

impl Analysis {
    /// The first error, as `file:line:col: summary: detail`.
    pub fn first_error(&self) -> Option<String> {
        self.diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
    }
}

/// A diagnostic of the engine as status shows it; file paths inside `dir` lose the prefix.
pub fn convert_diagnostic(d: &Diagnostic, dir: Option<&Path>, masker: &Masker) -> CrdDiagnostic {
    let file = d.subject.as_ref().map(|s| {
        dir.and_then(|dir| Path::new(&s.file).strip_prefix(dir).ok())
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_else(|| s.file.clone())
    });
    CrdDiagnostic {
        severity: match d.severity {
            EngineSeverity::Error => Severity::Error,
            EngineSeverity::Warning => Severity::Warning,
        },
        summary: masker.mask(&d.summary),
        detail: (!d.detail.is_empty()).then(|| masker.mask(&d.detail)),
        file,
        line: d.subject.as_ref().map(|s| s.line as i32),
        column: d.subject.as_ref().map(|s| s.column as i32),
    }
}

fn convert_all(d: &Diagnostics, dir: &Path, masker: &Masker) -> Vec<CrdDiagnostic> {
    let mut out: Vec<CrdDiagnostic> = d
        .errors()
        .chain(d.warnings())
        .map(|d| convert_diagnostic(d, Some(dir), masker))
        .collect();
    // Bound what goes into status.
    out.truncate(50);
    out
}

/// The variables of a parsed template as status shows them. `overrides` are the
/// ImageTemplate's `spec.variables` (they replace a block's default).
pub fn describe_variables(t: &Template, overrides: &VariableValues) -> Vec<TemplateVariable> {
    t.variables
        .values()
        .map(|v| {
            let default = match overrides.get(&v.name) {
                Some(j) => Some(json_to_hcl(j)),
                None => v.default.as_ref().map(Value::to_hcl),
            };
            TemplateVariable {
                name: v.name.clone(),
                type_: v.type_display(),
                default: if v.sensitive {
                    default.map(|_| MASKED.to_string())
                } else {
                    default
                },
                sensitive: v.sensitive,
                required: v.required() && !overrides.contains_key(&v.name),
                description: (!v.description.is_empty()).then(|| v.description.clone()),
            }
        })
        .collect()
}

/// Parses and validates a template without side effects: data sources are not run,
/// variables without a value are unknown, every component of every build is prepared.
/// `dir` is a scratch directory (the template's files are written there).
pub fn analyze(dir: &Path, files: &[TemplateFile], overrides: &VariableValues) -> Analysis {
    match parse_files(dir, files) {
        Ok(parsed) => analyze_parsed(parsed, overrides),
        Err(a) => *a,
    }
}

/// A template whose files are written into a scratch directory and parsed, not evaluated.
pub struct Parsed<'a> {
    pub dir: &'a Path,
    pub fingerprint: String,
    pub template: Template,
    /// Warnings of the parse.
    pub diagnostics: Diagnostics,
}

/// Writes the files into `dir` and parses them (once: the build controller checks the
/// variables on the result, then hands it to [`analyze_parsed`]). A template that does not
/// parse gives its analysis: the fingerprint and the errors.
pub fn parse_files<'a>(dir: &'a Path, files: &[TemplateFile]) -> Result<Parsed<'a>, Box<Analysis>> {
    let mut a = Analysis {
        fingerprint: fingerprint(files),
        ..Analysis::default()
    };
    let body = match materialize(dir, files) {
        Ok(b) => b,
        Err(e) => {
            a.diagnostics.push(CrdDiagnostic {
                severity: Severity::Error,
                summary: "Invalid template files".into(),
                detail: Some(e.to_string()),
                ..CrdDiagnostic::default()
            });
            return Err(Box::new(a));
        }
    };
    if body.is_empty() {
        a.diagnostics.push(CrdDiagnostic {
            severity: Severity::Error,
            summary: "No template files".into(),
            detail: Some(
                "A template needs at least one file suffixed with `.pkr.hcl` or `.pkr.json`."
                    .into(),
            ),
            ..CrdDiagnostic::default()
        });
        return Err(Box::new(a));
    }
    let source = TemplateSource::Files {
        root: dir.to_path_buf(),
        files: body,
    };
    match session::parse(&source) {
        Ok((template, diagnostics)) => Ok(Parsed {
            dir,
            fingerprint: a.fingerprint,
            template,
            diagnostics,
        }),
        Err(d) => {
            a.diagnostics = convert_all(&d, dir, &Masker::default());
            Err(Box::new(a))
        }
    }
}

/// The `HCP_PACKER_*` variables a build's run sees, by name.
pub type HcpEnv<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// The rest of [`analyze`], on a parsed template.
pub fn analyze_parsed(parsed: Parsed<'_>, overrides: &VariableValues) -> Analysis {
    analyze_parsed_env(parsed, overrides, None)
}

/// [`analyze_parsed`] for a build, with the `HCP_PACKER_*` variables the run will see (an
/// ImageBuild's `spec.runner.env`): they shape its registry configuration, and Packer's
/// build-time registry rules (several blocks) are errors. Without `env` (a template being
/// validated, as `kiln validate`) those rules are not applied.
pub fn analyze_parsed_env(
    parsed: Parsed<'_>,
    overrides: &VariableValues,
    env: Option<&HcpEnv<'_>>,
) -> Analysis {
    let Parsed {
        dir,
        fingerprint,
        template: t,
        diagnostics: diags,
    } = parsed;
    let mut a = Analysis {
        fingerprint,
        ..Analysis::default()
    };
    let empty_masker = Masker::default();
    a.sources = t.sources.values().map(|s| s.reference()).collect();
    a.variables = describe_variables(&t, overrides);
    // Variables without a value are unknown while validating: an ImageBuild gives them.
    let opts = LoadOptions {
        inputs: VarInputs {
            exprs: exprs(overrides),
            ..VarInputs::default()
        },
        evaluate_datasources: false,
        sequential: false,
        unset_is_unknown: true,
        env: Arc::new(RunEnv {
            work_dir: dir.to_path_buf(),
            channels_file: None,
            interactive: false,
            in_cluster: true,
            ..RunEnv::default()
        }),
    };
    let s = match session::evaluate(t, diags, &opts) {
        Ok(s) => s,
        Err(d) => {
            a.diagnostics = convert_all(&d, dir, &empty_masker);
            return a;
        }
    };
    let masker = Masker::new(s.template.sensitive.clone());
    let mut diags = s.warnings.clone();
    match kiln_channel::references(&s.template) {
        Ok(refs) => a.channels = refs,
        Err(errors) => errors.into_iter().for_each(|d| diags.push(d)),
    }
    a.hcp = hcp_packer::references(&s.template);
    match (s.registry_with(env.unwrap_or(&|_| None)), env) {
        (Ok((cfg, w)), Some(_)) => {
            a.registry = cfg;
            diags.extend(w);
        }
        (Ok((cfg, _)), None) => a.registry = cfg,
        (Err(d), Some(_)) => diags.extend(d),
        (Err(_), None) => {}
    }
    // What the registry publishes (labels, annotations, status) never carries a sensitive
    // value, nor an unknown one (a secret variable is unknown until the run).
    if let Some(cfg) = a.registry.as_mut() {
        cfg.description = masker.mask(&cfg.description);
        for labels in [&mut cfg.bucket_labels, &mut cfg.build_labels] {
            labels.retain(|_, v| v != "<unknown>");
            for v in labels.values_mut() {
                *v = masker.mask(v);
            }
        }
    }
    if !diags.has_errors() {
        match s.plan(&Selection::all()) {
            Ok((instances, w)) => {
                diags.extend(w);
                diags.extend(kiln_engine::template::Template::duplicate_names(&instances));
                a.instances = instances.iter().map(|i| i.full_name.clone()).collect();
                let mut builds: Vec<TemplateBuild> = Vec::new();
                for i in &instances {
                    let name = i.build_name.clone().unwrap_or_default();
                    let src = format!("{}.{}", i.source.kind, i.source.name);
                    match builds.iter_mut().find(|b| b.name == name) {
                        Some(b) => b.sources.push(src),
                        None => builds.push(TemplateBuild {
                            name,
                            sources: vec![src],
                        }),
                    }
                }
                a.builds = builds;
                match s.prepare(instances, &RunOptions::default()) {
                    Ok((prepared, w)) => {
                        diags.extend(w);
                        // What Kiln cannot run fails the build at its first step; in the
                        // cluster it is reported before any pod starts.
                        for b in &prepared {
                            let errors = b.deferred_checks();
                            let detail = match errors.as_slice() {
                                [] => continue,
                                [one] => one.clone(),
                                many => kiln_engine::template::multi_error(many),
                            };
                            diags.push(Diagnostic::error(
                                format!("Kiln cannot run the build {}", b.instance.full_name),
                                detail,
                            ));
                        }
                        a.requirements = prepared
                            .iter()
                            .map(|b| (b.instance.full_name.clone(), b.requirements()))
                            .filter(|(_, r)| !r.is_empty())
                            .collect();
                    }
                    Err(d) => diags.extend(d),
                }
            }
            Err(d) => diags.extend(d),
        }
    }
    a.diagnostics = convert_all(&diags, dir, &masker);
    a
}

/// A problem with an ImageBuild's variables, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableProblem {
    /// `spec.variables.<name>` or `spec.secretVariables[<name>]`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for VariableProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Checks an ImageBuild's variables against the template's declarations (parsed, not
/// evaluated): unknown names, values of the wrong type, and required variables without a
/// value (neither in the template's defaults, the build's variables nor its secret
/// variables). Secret values are never seen here.
pub fn check_variables(
    t: &Template,
    template_defaults: &VariableValues,
    given: &VariableValues,
    secret_names: &[String],
) -> Vec<VariableProblem> {
    let mut problems = Vec::new();
    for (name, value) in given {
        let field = format!("spec.variables.{name}");
        let Some(var) = t.variables.get(name) else {
            problems.push(VariableProblem {
                field,
                message: format!("the template declares no variable {name:?}"),
            });
            continue;
        };
        if let Some(ty) = &var.ty
            && let Err(e) = types::convert(&Value::from_json(value), ty)
        {
            let shown = if var.sensitive {
                MASKED.to_string()
            } else {
                value.to_string()
            };
            problems.push(VariableProblem {
                field,
                message: format!("value {shown} is not a valid {ty}: {e}"),
            });
        }
    }
    for name in secret_names {
        if !t.variables.contains_key(name) {
            problems.push(VariableProblem {
                field: format!("spec.secretVariables[{name}]"),
                message: format!("the template declares no variable {name:?}"),
            });
        }
    }
    for v in t.variables.values() {
        if v.required()
            && !template_defaults.contains_key(&v.name)
            && !given.contains_key(&v.name)
            && !secret_names.contains(&v.name)
        {
            problems.push(VariableProblem {
                field: format!("spec.variables.{}", v.name),
                message: format!(
                    "variable {:?} has no default: give a value in spec.variables or spec.secretVariables",
                    v.name
                ),
            });
        }
    }
    problems
}

/// The selected build instances (`[build.]type.name`), in template order, filtered by
/// `only`/`except` globs. The order fixes each source's Job completion index.
pub fn select_names(
    instances: &[String],
    only: &[String],
    except: &[String],
) -> Result<Vec<String>, String> {
    let compile = |p: &String| {
        globset::Glob::new(p)
            .map(|g| g.compile_matcher())
            .map_err(|e| format!("invalid pattern {p:?}: {e}"))
    };
    let only_m = only.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
    let except_m = except.iter().map(compile).collect::<Result<Vec<_>, _>>()?;
    Ok(instances
        .iter()
        .filter(|i| only_m.is_empty() || only_m.iter().any(|m| m.is_match(i.as_str())))
        .filter(|i| !except_m.iter().any(|m| m.is_match(i.as_str())))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(body: &str) -> Vec<TemplateFile> {
        template_files(Some(body), None)
    }

    const OK: &str = r#"
variable "greeting" {
  type    = string
  default = "hello"
}
variable "count" {
  type = number
}
variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
source "null" "a" {
  communicator = "none"
}
source "null" "b" {
  communicator = "none"
}
build {
  sources = ["source.null.a", "source.null.b"]
  provisioner "shell-local" {
    inline = ["echo ${var.greeting}"]
  }
}
"#;

    #[test]
    fn interactive_bastion_is_flagged_for_build_pods() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![TemplateFile {
            name: "main.pkr.hcl".into(),
            content: "source \"null\" \"a\" {\n  ssh_host = \"10.0.0.1\"\n  ssh_username = \"u\"\n  ssh_password = \"p\"\n  ssh_bastion_host = \"b\"\n  ssh_bastion_username = \"u\"\n  ssh_bastion_password = \"x\"\n  ssh_bastion_interactive = true\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n".into(),
        }];
        let a = analyze(dir.path(), &files, &VariableValues::new());
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        let w = a
            .diagnostics
            .iter()
            .find(|d| d.summary == "Needs a terminal")
            .unwrap_or_else(|| panic!("{:?}", a.diagnostics));
        assert_eq!(w.severity, Severity::Warning);
        assert_eq!(w.file.as_deref(), Some("main.pkr.hcl"));
        assert_eq!(w.line, Some(8));
    }

    #[test]
    fn reports_what_kiln_cannot_run_before_any_pod() {
        // `kiln validate` accepts it as Packer's plugin does; the build would fail at its
        // first step, and the operator says so before it starts a pod.
        let dir = tempfile::tempdir().unwrap();
        let body = "source \"docker\" \"a\" {\n  image = \"scratch\"\n  commit = true\n  tmpfs = [\"/run\"]\n}\nbuild {\n  sources = [\"source.docker.a\"]\n}\n";
        let a = analyze(dir.path(), &files(body), &VariableValues::new());
        let e = a
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .unwrap_or_else(|| panic!("{:?}", a.diagnostics));
        assert_eq!(e.summary, "Kiln cannot run the build docker.a");
        let detail = e.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("2 error(s) occurred"), "{detail}");
        assert!(
            detail.contains("* tmpfs: a runner pod runs its build in its base image, with no container runtime to give it a tmpfs mount; build it locally with `kiln build`."),
            "{detail}"
        );
        assert!(detail.contains("scratch is no image to run in"), "{detail}");
    }

    #[test]
    fn reports_post_processors_kiln_cannot_run() {
        // A docker-tag whose repository is no image name fails when it runs; one whose
        // repository reads `build.*` is known only then, and is not reported.
        let dir = tempfile::tempdir().unwrap();
        let body = "source \"docker\" \"a\" {\n  image = \"busybox\"\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.a\"]\n  post-processor \"docker-tag\" {\n    repository = \"Not/A Name\"\n  }\n  post-processor \"docker-tag\" {\n    name       = \"later\"\n    repository = \"reg.example/${build.ID}\"\n  }\n}\n";
        let a = analyze(dir.path(), &files(body), &VariableValues::new());
        let errors: Vec<_> = a
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", a.diagnostics);
        assert_eq!(errors[0].summary, "Kiln cannot run the build docker.a");
        let detail = errors[0].detail.as_deref().unwrap_or_default();
        assert!(
            detail.starts_with("post-processor \"docker-tag\": ") && detail.contains("Not/A Name"),
            "{detail}"
        );
        assert!(!detail.contains("later"), "{detail}");
    }

    #[test]
    fn refuses_builds_sharing_a_name() {
        // Packer runs both unnamed builds as `null.a`; a build's Job index and status are
        // keyed by that name, so the operator refuses it.
        let dir = tempfile::tempdir().unwrap();
        let body = "source \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n";
        let a = analyze(dir.path(), &files(body), &VariableValues::new());
        let e = a
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .unwrap_or_else(|| panic!("{:?}", a.diagnostics));
        assert_eq!(e.summary, "Duplicate build name");
        let detail = e.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("\"null.a\""), "{detail}");
    }

    #[test]
    fn analyzes_a_valid_template() {
        let dir = tempfile::tempdir().unwrap();
        let a = analyze(dir.path(), &files(OK), &VariableValues::new());
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        assert_eq!(a.sources, ["null.a", "null.b"]);
        assert_eq!(a.instances, ["null.a", "null.b"]);
        assert_eq!(a.builds.len(), 1);
        assert_eq!(a.builds[0].sources, ["null.a", "null.b"]);
        let count = a.variables.iter().find(|v| v.name == "count").unwrap();
        assert!(count.required);
        assert_eq!(count.type_, "number");
        let pw = a.variables.iter().find(|v| v.name == "password").unwrap();
        assert_eq!(pw.default.as_deref(), Some(MASKED));
        assert!(pw.sensitive);
        let g = a.variables.iter().find(|v| v.name == "greeting").unwrap();
        assert_eq!(g.default.as_deref(), Some("\"hello\""));
        assert!(a.fingerprint.starts_with("sha256:"));
        assert_eq!(a.fingerprint.len(), "sha256:".len() + 64);
    }

    #[test]
    fn overrides_replace_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = VariableValues::new();
        o.insert("count".into(), serde_json::json!(3));
        let a = analyze(dir.path(), &files(OK), &o);
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        let count = a.variables.iter().find(|v| v.name == "count").unwrap();
        assert!(!count.required);
        assert_eq!(count.default.as_deref(), Some("3"));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let a = analyze(
            dir.path(),
            &files("source \"null\" \"a\" {\n  communicator = \n}\n"),
            &VariableValues::new(),
        );
        assert!(a.first_error().is_some());
        let d = &a.diagnostics[0];
        assert_eq!(d.file.as_deref(), Some(SINGLE_FILE_NAME));
        assert!(d.line.is_some() && d.column.is_some(), "{d:?}");
        assert!(a.first_error().unwrap().starts_with("template.pkr.hcl:"));
    }

    #[test]
    fn component_errors_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = analyze(
            dir.path(),
            &files(
                "source \"nosuchbuilder\" \"a\" {}\nbuild {\n  sources = [\"source.nosuchbuilder.a\"]\n}\n",
            ),
            &VariableValues::new(),
        );
        assert!(a.first_error().is_some(), "{a:?}");
        assert_eq!(a.diagnostics[0].file.as_deref(), Some(SINGLE_FILE_NAME));
    }

    #[test]
    fn fingerprint_depends_on_names_and_content() {
        let a = fingerprint(&files("x"));
        let b = fingerprint(&files("y"));
        let c = fingerprint(&template_files(
            None,
            Some(&[TemplateFile {
                name: "other.pkr.hcl".into(),
                content: "x".into(),
            }]),
        ));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, fingerprint(&files("x")));
    }

    #[test]
    fn variables_are_checked_by_name_and_type() {
        let dir = tempfile::tempdir().unwrap();
        let t = parse_files(dir.path(), &files(OK)).ok().unwrap().template;
        let mut given = VariableValues::new();
        given.insert("count".into(), serde_json::json!("many"));
        given.insert("nope".into(), serde_json::json!(1));
        let p = check_variables(&t, &VariableValues::new(), &given, &[]);
        let fields: Vec<_> = p.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["spec.variables.count", "spec.variables.nope"]);
        assert!(p[0].message.contains("number"), "{}", p[0]);

        // Missing required value.
        let p = check_variables(&t, &VariableValues::new(), &VariableValues::new(), &[]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "spec.variables.count");
        // Satisfied by a secret variable.
        let p = check_variables(
            &t,
            &VariableValues::new(),
            &VariableValues::new(),
            &["count".to_string()],
        );
        assert!(p.is_empty(), "{p:?}");
        // Numbers as strings convert, as in Packer.
        let mut given = VariableValues::new();
        given.insert("count".into(), serde_json::json!(2));
        assert!(check_variables(&t, &VariableValues::new(), &given, &[]).is_empty());
    }

    #[test]
    fn selection_keeps_template_order() {
        let all: Vec<String> = ["null.a", "null.b", "x.null.c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(select_names(&all, &[], &[]).unwrap(), all);
        assert_eq!(
            select_names(&all, &["*.b".into(), "null.a".into()], &[]).unwrap(),
            ["null.a", "null.b"]
        );
        assert_eq!(
            select_names(&all, &[], &["null.a".into()]).unwrap(),
            ["null.b", "x.null.c"]
        );
        assert!(select_names(&all, &["[".into()], &[]).is_err());
    }

    #[test]
    fn samples_are_valid() {
        let tpl: kiln_crds::ImageTemplate =
            serde_yaml::from_str(include_str!("../../../config/samples/imagetemplate.yaml"))
                .unwrap();
        let build: kiln_crds::ImageBuild =
            serde_yaml::from_str(include_str!("../../../config/samples/imagebuild.yaml")).unwrap();
        let files = template_files(tpl.spec.template.as_deref(), tpl.spec.files.as_deref());
        let dir = tempfile::tempdir().unwrap();
        let a = analyze(dir.path(), &files, &tpl.spec.variables);
        assert!(a.first_error().is_none(), "{:?}", a.diagnostics);
        assert_eq!(a.instances, ["null.alpha", "null.beta"]);
        let token = a.variables.iter().find(|v| v.name == "token").unwrap();
        assert!(token.required && token.sensitive);
        let dir = tempfile::tempdir().unwrap();
        let t = parse_files(dir.path(), &files).ok().unwrap().template;
        let secrets: Vec<String> = build
            .spec
            .secret_variables
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let p = check_variables(&t, &tpl.spec.variables, &build.spec.variables, &secrets);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn json_values_become_hcl() {
        assert_eq!(json_to_hcl(&serde_json::json!("a")), "\"a\"");
        let v = json_to_hcl(&serde_json::json!({"k": ["x", 1, true]}));
        assert!(v.contains("k"), "{v}");
    }
}
