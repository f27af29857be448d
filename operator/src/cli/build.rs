//! `kiln build`: Packer's `packer build`, with Packer's output and exit codes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use kiln_engine::components::OnError;
use kiln_engine::diag::Diagnostics;
use kiln_engine::plan::RunOptions;
use kiln_engine::run::human_duration;
use kiln_engine::session::{self, Selection};
use kiln_engine::sinks::{HumanSink, JsonSink, MachineSink};
use kiln_engine::ui::{EventKind, Masker, Sink, Ui};
use tokio_util::sync::CancellationToken;

use super::common::{CmdUi, VarFlags, split_list};
use crate::signals;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Template file or directory.
    pub template: PathBuf,
    #[command(flatten)]
    pub vars: VarFlags,
    /// Build only the builds whose names match these globs.
    #[arg(long)]
    pub only: Vec<String>,
    /// Build all builds (and run all post-processors) except those matching these globs.
    #[arg(long)]
    pub except: Vec<String>,
    /// Number of builds to run in parallel; 0 means no limit.
    #[arg(long = "parallel-builds", default_value_t = 0)]
    pub parallel_builds: usize,
    /// What to do when a build fails: cleanup, abort, ask, run-cleanup-provisioner.
    #[arg(long = "on-error", default_value = "cleanup")]
    pub on_error: String,
    /// Force a build to continue if artifacts exist, deletes existing artifacts.
    #[arg(long)]
    pub force: bool,
    /// Debug mode: builds run one at a time.
    #[arg(long)]
    pub debug: bool,
    /// Prefix every line with an RFC3339 timestamp.
    #[arg(long = "timestamp-ui")]
    pub timestamp_ui: bool,
    /// Produce machine-readable output.
    #[arg(long = "machine-readable")]
    pub machine_readable: bool,
    /// Emit one JSON event per line on stdout.
    #[arg(long)]
    pub json: bool,
    /// Colored output (default on a terminal).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub color: Option<bool>,
    /// Warn about variables set in var files that no variable block declares.
    #[arg(long = "warn-on-undeclared-var")]
    pub warn_on_undeclared_var: bool,
}

const HELP: &str = "Usage: packer build [options] TEMPLATE

  Will execute multiple builds in parallel as defined in the template.
  The various artifacts created by the template will be outputted.

Options:

  -color=false                  Disable color output. (Default: color)
  -debug                        Debug mode enabled for builds.
  -except=foo,bar,baz           Run all builds and post-processors other than these.
  -only=foo,bar,baz             Build only the specified builds.
  -force                        Force a build to continue if artifacts exist, deletes existing artifacts.
  -machine-readable             Produce machine-readable output.
  -on-error=[cleanup|abort|ask|run-cleanup-provisioner] If the build fails do: clean up (default), abort, ask, or run-cleanup-provisioner.
  -parallel-builds=1            Number of builds to run in parallel. 1 disables parallelization. 0 means no limit (Default: 0)
  -timestamp-ui                 Enable prefixing of each ui output with an RFC3339 timestamp.
  -var 'key=value'              Variable for templates, can be used multiple times.
  -var-file=path                JSON or HCL2 file containing user variables, can be used multiple times.
  -warn-on-undeclared-var       Display warnings for user variable files containing undeclared variables.
  -ignore-prerelease-plugins    Disable the loading of prerelease plugin binaries (x.y.z-dev).
  -use-sequential-evaluation    Fallback to using a sequential approach for local/datasource evaluation.
  -skip-enforcement             Skip injection of HCP Packer enforced provisioners.";

/// Packer's `BuildCommand.ParseArgs`: Go's flags, one template (Kiln adds `-json`).
/// `Err`: the exit code (the help printed).
pub fn parse_args(args: &[String], machine_readable: bool) -> Result<BuildArgs, i32> {
    use super::goflag::{self, Kind};
    let mut flags = vec![
        ("color", Kind::Bool),
        ("debug", Kind::Bool),
        ("force", Kind::Bool),
        ("timestamp-ui", Kind::Bool),
        ("machine-readable", Kind::Bool),
        ("parallel-builds", Kind::Int),
        (
            "on-error",
            Kind::Enum(&["cleanup", "abort", "ask", "run-cleanup-provisioner"]),
        ),
        ("warn-on-undeclared-var", Kind::Bool),
        ("use-sequential-evaluation", Kind::Bool),
        ("ignore-prerelease-plugins", Kind::Bool),
        ("skip-enforcement", Kind::Bool),
        ("json", Kind::Bool),
    ];
    flags.extend_from_slice(goflag::META);
    let p = goflag::parse_command(args, HELP, &flags)?;
    let [path] = p.args.as_slice() else {
        super::common::CmdUi::current().say(HELP);
        return Err(1);
    };
    let parallel = p
        .last("parallel-builds")
        .and_then(|v| goflag::parse_int(v).ok())
        .unwrap_or(0);
    Ok(BuildArgs {
        template: PathBuf::from(path),
        vars: VarFlags::from_parsed(&p),
        only: p.all("only").to_vec(),
        except: p.all("except").to_vec(),
        // Below 1: no limit (Packer's MaxInt64), Kiln's 0.
        parallel_builds: usize::try_from(parallel.max(0)).unwrap_or(0),
        on_error: p.last("on-error").unwrap_or("cleanup").to_string(),
        force: p.bool("force", false),
        debug: p.bool("debug", false),
        timestamp_ui: p.bool("timestamp-ui", false),
        machine_readable: machine_readable || p.bool("machine-readable", false),
        json: p.bool("json", false),
        color: p.last("color").map(|_| p.bool("color", true)),
        warn_on_undeclared_var: p.bool("warn-on-undeclared-var", false),
    })
}

pub async fn run(a: BuildArgs) -> i32 {
    let Some(on_error) = OnError::parse(&a.on_error) else {
        eprintln!(
            "Error: -on-error must be one of cleanup, abort, ask, run-cleanup-provisioner; got {:?}",
            a.on_error
        );
        return 1;
    };
    // Packer's command UI: with `-machine-readable` every message is a `ui,say`/`ui,error`
    // line on stdout.
    let ui = CmdUi::new(a.machine_readable);
    if !super::common::check_path_ui(&a.template, ui) {
        return 1;
    }
    if kiln_engine::legacy_template::is_legacy(&a.template) {
        return build_legacy(a, on_error).await;
    }
    let Some(session) =
        super::common::load_template_ui(&a.template, &a.vars, a.warn_on_undeclared_var, true, ui)
    else {
        return 1;
    };
    let masker = Arc::new(Masker::new(session.template.sensitive.clone()));
    ui.diags(&session.warnings, Some(&masker));
    // hcp_packer_registry as `packer build` reads it (several blocks fail, a block inside
    // `build` is deprecated, the bucket's checks). Locally nothing is published; the
    // operator labels the ImageBuild with the bucket and fingerprint.
    let registry = session.registry();
    if !matches!(registry, Ok((None, _))) {
        // Packer's Initialize ends with the builds' decoding and their components' types,
        // before the HCP bucket is made (registry.New); without a registry `plan` does it.
        let initialized = session.template.decode_builds().and_then(|builds| {
            kiln_engine::components::registry::check_build_types(&builds).into_result()
        });
        if let Err(d) = initialized {
            ui.diags(&d, Some(&masker));
            return 1;
        }
    }
    match registry {
        Ok((cfg, mut diags)) => {
            if let Some(cfg) = cfg {
                diags.extend(hcp_bucket_checks(&cfg));
            }
            ui.diags(&diags, Some(&masker));
            if diags.has_errors() {
                return 1;
            }
        }
        Err(errors) => {
            ui.diags(&errors, Some(&masker));
            return 1;
        }
    }
    let only = split_list(&a.only);
    let except = split_list(&a.except);
    let selection = Selection::Globs {
        only: only.clone(),
        except: except.clone(),
    };
    let (selected, plan_warnings) = match session.plan(&selection) {
        Ok(s) => s,
        Err(d) => {
            ui.diags(&d, Some(&masker));
            return 1;
        }
    };
    if selected.is_empty() {
        ui.diags(&plan_warnings, Some(&masker));
        ui.diags(&Diagnostics::from(session::no_builds_to_run()), None);
        return 1;
    }
    let run_uuid = std::env::var("PACKER_RUN_UUID")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ropts = RunOptions {
        only,
        except,
        force: a.force,
        debug: a.debug,
        on_error,
        run_uuid,
        parallel_builds: a.parallel_builds,
        env: session.env.clone(),
    };
    // As Packer's GetBuilds: one message of every build's preparation problems, then the
    // selection's warnings; the builds that prepared run, and the exit code is 1 after an
    // error.
    let (prepared, diags) = session.prepare_partial(selected, &ropts);
    ui.diags(&diags, Some(&masker));
    let prepare_failed = diags.has_errors();
    if prepared.is_empty() && prepare_failed {
        return 1;
    }
    // what killed runs left in the scratch directory (docker builds' containers and file
    // systems, recorded in their journals) goes before anything new starts
    #[cfg(feature = "docker")]
    {
        let wd = session.env.work_dir.clone();
        if let Ok(reaped) =
            tokio::task::spawn_blocking(move || kiln_engine::builders::docker::reap_stale(&wd))
                .await
        {
            for d in reaped {
                eprintln!("Removed {} left by a killed Kiln run", d.display());
            }
        }
    }
    let base = session.template.base_env();
    let code = execute(&a, prepared, masker, &ropts, &base).await;
    if prepare_failed { 1 } else { code }
}

/// What `packer build` checks when it creates the HCP Packer bucket
/// (`createConfiguredBucket`): HCP credentials in the environment or a credential file, and
/// a bucket name. Kiln sends nothing to HCP (the registry is the cluster's resources), but
/// a template that turns the registry on fails here as with Packer; `HCP_PACKER_REGISTRY=off`
/// builds it locally with either tool.
fn hcp_bucket_checks(cfg: &kiln_engine::template::registry::RegistryConfig) -> Diagnostics {
    use kiln_engine::diag::Diagnostic;
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
    let file = |p: std::path::PathBuf| std::fs::metadata(p).is_ok();
    let cred_file = std::env::var("HCP_CRED_FILE")
        .ok()
        .filter(|p| !p.is_empty())
        .is_some_and(|p| file(p.into()))
        || std::env::var_os("HOME")
            .is_some_and(|h| file(std::path::Path::new(&h).join(".config/hcp/cred_file.json")));
    let mut diags = Diagnostics::new();
    let client_credentials = set("HCP_CLIENT_ID") && set("HCP_CLIENT_SECRET");
    if !(client_credentials || cred_file) {
        diags.push(Diagnostic::error(
            "HCP authentication information required",
            "HCP Authentication not configured, either set an HCP Client ID and secret using the environment variables HCP_CLIENT_ID and HCP_CLIENT_SECRET, place an HCP credential file in the default path (.config/hcp/), or at a different path specified in the HCP_CRED_FILE environment variable.",
        ));
    }
    if cfg.bucket_name.is_empty() {
        diags.push(Diagnostic::error(
            "Bucket name required",
            "You must provide a bucket name for HCP Packer builds. You can set the HCP_PACKER_BUCKET_NAME environment variable. For HCL2 templates, the registry either uses the name of your template's build block, or you can set the bucket_name argument in an hcp_packer_registry block.",
        ));
    }
    diags
}

/// `packer build` on a legacy JSON template: the legacy core's builds on the same runner.
async fn build_legacy(a: BuildArgs, on_error: OnError) -> i32 {
    let ui = CmdUi::new(a.machine_readable);
    let (path, vars) = (a.template.clone(), a.vars.clone());
    let only = split_list(&a.only);
    let except = split_list(&a.except);
    let loaded = tokio::task::spawn_blocking(move || {
        let mut core = super::legacy::load(Some(&path), &vars, ui)?;
        if let Err(d) = super::legacy::initialize(&mut core) {
            ui.diags(&d, None);
            return None;
        }
        Some(core)
    })
    .await;
    let Ok(Some(core)) = loaded else {
        return 1;
    };
    let masker = Arc::new(super::legacy::masker(&core));
    let run_uuid = std::env::var("PACKER_RUN_UUID")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ropts = RunOptions {
        only: only.clone(),
        except: except.clone(),
        force: a.force,
        debug: a.debug,
        on_error,
        run_uuid,
        parallel_builds: a.parallel_builds,
        env: kiln_engine::legacy::local_env(),
    };
    let (prepared, diags) = kiln_engine::legacy::get_builds(&core, &only, &except, &ropts);
    // As Packer: builds that failed to prepare are reported, the others run.
    ui.diags(&diags, Some(&masker));
    if prepared.is_empty() {
        if diags.has_errors() {
            return 1;
        }
        ui.diags(
            &Diagnostics::from(kiln_engine::diag::Diagnostic::error(
                "No builds to run",
                "A build command cannot run without at least one build to process. If the \
                 only or except flags have been specified at run time check that at least one \
                 build is selected for execution.",
            )),
            None,
        );
        return 1;
    }
    let code = execute(
        &a,
        prepared,
        masker,
        &ropts,
        &kiln_engine::legacy::base_env(),
    )
    .await;
    if diags.has_errors() { 1 } else { code }
}

/// Runs prepared builds and reports as `packer build` does.
async fn execute(
    a: &BuildArgs,
    prepared: Vec<kiln_engine::plan::PreparedBuild>,
    masker: Arc<Masker>,
    ropts: &RunOptions,
    base: &kiln_engine::template::EvalEnv,
) -> i32 {
    // As Packer: colours unless `-color=false` (or `PACKER_NO_COLOR`, which keeps the
    // announcements but drops the codes), whether or not stdout is a terminal.
    let color = a.color.unwrap_or(true);
    let machine = a
        .machine_readable
        .then(|| Arc::new(MachineSink::new(Box::new(std::io::stdout())).timed(a.timestamp_ui)));
    let sink: Arc<dyn Sink> = if a.json {
        Arc::new(JsonSink::new(Box::new(std::io::stdout())))
    } else if let Some(m) = &machine {
        m.clone()
    } else {
        Arc::new(HumanSink::stdio(color, a.timestamp_ui))
    };
    if a.debug {
        // Said by Packer's command UI before the builds announce their colours.
        let text = "Debug mode enabled. Builds will not be parallelized.";
        match &machine {
            Some(m) => m.line("", "ui", &["say".to_string(), text.to_string()]),
            None if !a.json => println!("{text}"),
            None => {}
        }
    }
    let ui = Ui::new(sink, masker.clone());
    let cancel = CancellationToken::new();
    // Packer's command UI (a BasicUi writing errors to stdout, or the machine-readable UI)
    let command_error: Box<dyn Fn(&str) + Send + Sync> = match (&machine, a.json) {
        (Some(m), _) => {
            let m = m.clone();
            Box::new(move |t: &str| m.line("", "ui", &["error".to_string(), t.to_string()]))
        }
        (None, false) => Box::new(|t: &str| println!("{t}")),
        (None, true) => {
            let ui = ui.clone();
            Box::new(move |t: &str| ui.error(t.to_string()))
        }
    };
    signals::cancel_on_signal(
        cancel.clone(),
        ui.clone(),
        signals::Announce::Build(command_error),
    );

    let started = Instant::now();
    let outcomes = kiln_engine::run::run_all(prepared, &ui, &cancel, ropts, base).await;
    let elapsed = started.elapsed();

    let human = !a.json && machine.is_none();
    // Packer's command UI says these lines itself (machine-readable: with no target).
    let say = |kind: &str, text: String| match &machine {
        Some(m) => m.line("", "ui", &[kind.to_string(), text]),
        None => println!("{text}"),
    };
    // A line of the command's own: said by the UI for people, a `ui,say` line for machines.
    let announce = |text: &str| {
        if human {
            ui.say(text.to_string());
        } else if machine.is_some() {
            say("say", format!("\n==> {text}"));
        }
    };
    if human {
        println!();
    }
    announce(&format!("Wait completed after {}", human_duration(elapsed)));
    // Packer's command, once its builds are done: interrupted, it says so and nothing more
    if cancel.is_cancelled() {
        match &machine {
            Some(_) => say(
                "say",
                "Cleanly cancelled builds after being interrupted.".into(),
            ),
            None if human => println!("Cleanly cancelled builds after being interrupted."),
            None => ui.say("Cleanly cancelled builds after being interrupted."),
        }
        return 1;
    }
    if human {
        println!();
    }
    let failed = last_by_name(&outcomes, |o| !o.ok());
    if !failed.is_empty() {
        if human {
            ui.error("Some builds didn't complete successfully and had errors:");
            // On stdout, as Packer's UI writes errors.
            for o in &failed {
                println!("--> {}: {}", o.name, masker.mask(&o.errors.join("\n")));
            }
            println!();
        }
        if let Some(m) = &machine {
            m.line("", "error-count", &[failed.len().to_string()]);
            say(
                "error",
                "\n==> Some builds didn't complete successfully and had errors:".into(),
            );
            for o in &failed {
                let err = masker.mask(&o.errors.join("\n"));
                m.line(&o.name, "error", std::slice::from_ref(&err));
                say("error", format!("--> {}: {err}", o.name));
            }
        }
    }
    let with_artifacts = last_by_name(&outcomes, |o| !o.artifacts.is_empty());
    if with_artifacts.is_empty() {
        announce("Builds finished but no artifacts were created.");
    } else {
        announce("Builds finished. The artifacts of successful builds are:");
        for o in &with_artifacts {
            if let Some(m) = &machine {
                m.line(&o.name, "artifact-count", &[o.artifacts.len().to_string()]);
            }
            for (i, art) in o.artifacts.iter().enumerate() {
                ui.for_build(&o.name).emit(EventKind::Artifact {
                    index: i,
                    artifact: art.clone(),
                });
                if human || machine.is_some() {
                    say(
                        "say",
                        format!("--> {}: {}", o.name, masker.mask(&art.description)),
                    );
                }
            }
        }
    }
    if failed.is_empty() { 0 } else { 1 }
}

/// The outcomes `pick` selects, only the last of each build name: Packer keeps errors and
/// artifacts in maps by name, so of builds sharing one (two unnamed `build` blocks using
/// one source) the last one written is listed.
fn last_by_name(
    outcomes: &[kiln_engine::run::BuildOutcome],
    pick: impl Fn(&kiln_engine::run::BuildOutcome) -> bool,
) -> Vec<&kiln_engine::run::BuildOutcome> {
    outcomes
        .iter()
        .enumerate()
        .filter(|(i, o)| {
            pick(o)
                && !outcomes[i + 1..]
                    .iter()
                    .any(|e| e.name == o.name && pick(e))
        })
        .map(|(_, o)| o)
        .collect()
}
