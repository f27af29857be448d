//! The engine's one door, used by every caller — `kiln build`, `validate`, `inspect`,
//! `console`, the runner pod and the template controller — as Packer's commands all go
//! through `Initialize`/`GetBuilds`:
//!
//! 1. [`parse`]: files (a template file, a directory, or in-memory files) → root schema
//!    (`validate -syntax-only` stops here);
//! 2. [`evaluate`]: variables in Packer's precedence → locals and data sources as one
//!    dependency graph (data sources run, or read as unknown) → a [`Session`];
//! 3. [`Session::plan`]: the build instances, selected by `-only`/`-except` globs or by name;
//! 4. [`Session::prepare`]: every selected builder, provisioner and post-processor decoded
//!    and validated (`validate` stops here; the template controller reads requirements);
//! 5. [`Session::run`]: the multistep runner.
//!
//! [`load`] is 1 + 2. Every phase returns its warnings beside its result, and all of a
//! phase's errors at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::components::RunEnv;
use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::{self, PreparedBuild, RunOptions};
use crate::run::{self, BuildOutcome};
use crate::template::build::BuildInstance;
use crate::template::locals::{self, DataMode};
use crate::template::{Template, VarInputs, variables};
use crate::ui::{Masker, Ui};

/// Where a template comes from.
#[derive(Clone, Debug)]
pub enum TemplateSource {
    /// A `.pkr.hcl` / `.pkr.json` file or a directory of them.
    Path(PathBuf),
    /// In-memory files (a resource's template); `root` is `path.root`.
    Files {
        root: PathBuf,
        files: Vec<(PathBuf, String)>,
    },
}

/// How to evaluate a parsed template.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub inputs: VarInputs,
    /// Run data sources (build, `validate -evaluate-datasources`); otherwise their outputs
    /// are unknown.
    pub evaluate_datasources: bool,
    /// Packer's `-use-sequential-evaluation`: data sources then locals, in turn.
    pub sequential: bool,
    /// Variables without a value read as unknown instead of failing (the template controller
    /// validates a template before any ImageBuild gives the values).
    pub unset_is_unknown: bool,
    /// Where the run happens (data sources read channels through it).
    pub env: Arc<RunEnv>,
}

/// A loaded template: variables, locals and data sources evaluated.
pub struct Session {
    pub template: Template,
    /// Warnings of loading.
    pub warnings: Diagnostics,
    pub env: Arc<RunEnv>,
}

/// Which builds a run selects.
#[derive(Clone, Debug)]
pub enum Selection {
    /// `-only` / `-except` globs over `[build.]type.name` (both empty: every build).
    Globs {
        only: Vec<String>,
        except: Vec<String>,
    },
    /// Exactly the build of this full name (a runner pod runs one).
    Named(String),
}

impl Selection {
    pub fn all() -> Selection {
        Selection::Globs {
            only: Vec::new(),
            except: Vec::new(),
        }
    }
}

/// Phase 1: reads and parses the files and checks the root schema.
pub fn parse(source: &TemplateSource) -> Result<(Template, Diagnostics), Diagnostics> {
    match source {
        TemplateSource::Path(p) => Template::load(p),
        TemplateSource::Files { root, files } => {
            Template::from_sources(root.clone(), true, files.clone())
        }
    }
}

/// [`parse`], keeping a template whose blocks have errors (they are among the diagnostics),
/// as Packer's `Parse` does to go on to the variable values given; `Err` only for what stops
/// it first (a file that cannot be read or parsed, an unsupported `required_version`).
pub fn parse_partial(source: &TemplateSource) -> Result<(Template, Diagnostics), Diagnostics> {
    match source {
        TemplateSource::Path(p) => Template::load_partial(p),
        TemplateSource::Files { root, files } => {
            Template::from_sources_partial(root.clone(), true, files.clone())
        }
    }
}

/// Phase 2: variables, then locals and data sources.
pub fn evaluate(
    mut t: Template,
    mut diags: Diagnostics,
    opts: &LoadOptions,
) -> Result<Session, Diagnostics> {
    // Packer checks `required_plugins` once the files are parsed, before anything is
    // evaluated (`DetectPluginBinaries`).
    if opts.unset_is_unknown {
        let given = &opts.inputs.exprs;
        for v in t.variables.values_mut() {
            if v.default.is_none() && !given.iter().any(|(name, _)| *name == v.name) {
                v.default = Some(crate::value::Value::Unknown);
            }
        }
    }
    // Packer's `Parse` ends with the variables' values given.
    let (given, input_diags) = variables::collect(&t, &opts.inputs);
    let failed = input_diags.has_errors();
    diags.extend(input_diags);
    if failed {
        return Err(masked(diags, &t));
    }
    // Then `DetectPluginBinaries`: the requirements (duplicates), the plugins installed.
    if t.plugin_diags.has_errors() {
        diags.extend(t.plugin_diags.clone());
        return Err(diags);
    }
    if let Some(d) = crate::components::registry::missing_plugins(&t) {
        diags.push(d);
        return Err(diags);
    }
    // Packer's `Initialize` from here: every phase runs and its errors are reported
    // together (an unset variable is unknown to what follows).
    diags.extend(variables::finish(&mut t, given));
    let env = opts.env.clone();
    let runner = move |decl: &crate::template::DataDecl, e: &crate::template::EvalEnv| {
        plan::run_data_source(decl, e, &env)
    };
    let mode = if opts.evaluate_datasources {
        DataMode::Execute(&runner)
    } else {
        DataMode::Unknown
    };
    // Packer's walk of locals and data sources stops at the first that fails (which one is
    // first is Go map order there; Kiln's own order here): that one's errors only.
    let walk = if opts.sequential {
        locals::evaluate_sequential(&mut t, mode)
    } else {
        locals::evaluate(&mut t, mode)
    };
    let walk_failed = walk.has_errors();
    diags.extend(walk);
    if !opts.evaluate_datasources && !walk_failed {
        // Checked once locals are known and data outputs unknown: a data source may read
        // another's output (`hcp-packer-artifact` reading `hcp-packer-version`'s
        // fingerprint, as HCP Packer's documentation shows).
        diags.extend(plan::check_data_sources(&t, &opts.env));
    }
    // Packer's parseConfig, file by file and block by block (`hcp_packer_registry`, sources
    // declared twice, builds), then initializeBlocks (the component types of the builds
    // that decoded). With no error anywhere, `plan` decodes the builds again and says the
    // rest; the registry blocks' warnings are said here.
    let (builds, parsed) = t.parse_config();
    let failed = diags.has_errors() || parsed.has_errors();
    diags.extend(parsed);
    if failed {
        diags.extend(crate::components::registry::check_build_types(&builds));
    }
    if diags.has_errors() {
        Err(masked(diags, &t))
    } else {
        Ok(Session {
            template: t,
            warnings: diags,
            env: opts.env.clone(),
        })
    }
}

impl Session {
    /// The HCP Packer registry configuration of this template (`hcp_packer_registry` and the
    /// `HCP_PACKER_*` variables of the process): `None` when the registry is off. What the
    /// operator labels ImageBuilds with; `kiln build` reports its warnings and errors as
    /// `packer build` does.
    pub fn registry(
        &self,
    ) -> Result<
        (
            Option<crate::template::registry::RegistryConfig>,
            Diagnostics,
        ),
        Diagnostics,
    > {
        self.registry_with(&|k| std::env::var(k).ok())
    }

    /// [`Session::registry`] with the environment given.
    pub fn registry_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<
        (
            Option<crate::template::registry::RegistryConfig>,
            Diagnostics,
        ),
        Diagnostics,
    > {
        self.template.registry_config(env)
    }
}

/// Errors may quote values: sensitive ones never leave the engine.
fn masked(diags: Diagnostics, t: &Template) -> Diagnostics {
    if t.sensitive.is_empty() {
        return diags;
    }
    let m = Masker::new(t.sensitive.clone());
    Diagnostics(
        diags
            .0
            .into_iter()
            .map(|mut d| {
                d.summary = m.mask(&d.summary);
                d.detail = m.mask(&d.detail);
                d
            })
            .collect(),
    )
}

/// Phases 1 and 2.
pub fn load(source: &TemplateSource, opts: &LoadOptions) -> Result<Session, Diagnostics> {
    let (t, diags) = parse(source)?;
    evaluate(t, diags, opts)
}

/// [`load`] of a file or directory.
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<Session, Diagnostics> {
    load(&TemplateSource::Path(path.to_path_buf()), opts)
}

impl Session {
    /// Phase 3: the build instances the selection names, with a warning for each pattern
    /// that matched nothing. An empty result is the caller's "No builds to run".
    pub fn plan(
        &self,
        selection: &Selection,
    ) -> Result<(Vec<BuildInstance>, Diagnostics), Diagnostics> {
        if self.template.builds.is_empty() {
            // Packer's GetBuilds, before anything else about builds.
            return Err(Diagnostic::error(
                "Missing build block",
                "A build block with one or more sources is required for executing a build.",
            )
            .into());
        }
        let builds = self.template.decode_builds()?;
        let unknown = crate::components::registry::check_build_types(&builds);
        if unknown.has_errors() {
            return Err(unknown);
        }
        let instances = Template::instances_of(builds)?;
        match selection {
            Selection::Globs { only, except } => plan::select(instances, only, except),
            Selection::Named(name) => {
                let selected: Vec<BuildInstance> = instances
                    .into_iter()
                    .filter(|i| i.full_name == *name)
                    .collect();
                if selected.is_empty() {
                    return Err(Diagnostic::error(
                        "Unknown build",
                        format!("The template has no build named {name:?}."),
                    )
                    .into());
                }
                Ok((selected, Diagnostics::new()))
            }
        }
    }

    /// Phase 4: decodes and validates every component of the selected builds.
    pub fn prepare(
        &self,
        instances: Vec<BuildInstance>,
        opts: &RunOptions,
    ) -> Result<(Vec<PreparedBuild>, Diagnostics), Diagnostics> {
        let opts = RunOptions {
            env: self.env.clone(),
            ..opts.clone()
        };
        plan::prepare(&self.template, instances, &opts)
    }

    /// [`Session::prepare`] as `packer build` uses it: the builds that prepared, beside
    /// every diagnostic.
    pub fn prepare_partial(
        &self,
        instances: Vec<BuildInstance>,
        opts: &RunOptions,
    ) -> (Vec<PreparedBuild>, Diagnostics) {
        let opts = RunOptions {
            env: self.env.clone(),
            ..opts.clone()
        };
        plan::prepare_partial(&self.template, instances, &opts)
    }

    /// Phase 5: runs the prepared builds, at most `opts.parallel_builds` at once.
    pub async fn run(
        &self,
        builds: Vec<PreparedBuild>,
        ui: &Ui,
        cancel: &CancellationToken,
        opts: &RunOptions,
    ) -> Vec<BuildOutcome> {
        run::run_all(builds, ui, cancel, opts, &self.template.base_env()).await
    }
}

/// The error `build` reports when the selection is empty, in Packer's words.
pub fn no_builds_to_run() -> Diagnostic {
    Diagnostic::error(
        "No builds to run",
        "A build command cannot run without at least one build to process. If the only or except flags have been specified at run time check that at least one build is selected for execution.",
    )
}
