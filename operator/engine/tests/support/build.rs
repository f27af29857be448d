//! Templates through the engine's door in tests: load a `t.pkr.hcl`, then prepare and run
//! every build with a recording UI.

use std::path::Path;
use std::sync::Arc;

use kiln_engine::plan::{self, RunOptions};
use kiln_engine::run::{self, BuildOutcome};
use kiln_engine::session::{self, LoadOptions};
use kiln_engine::template::{Template, VarInputs};
use kiln_engine::ui::{Masker, Recorder, Ui};
use tokio_util::sync::CancellationToken;

/// Writes `t.pkr.hcl` into `dir` and loads it (data sources run): the template, or the
/// diagnostics as text.
pub fn load_hcl(dir: &Path, hcl: &str) -> Result<Template, String> {
    std::fs::write(dir.join("t.pkr.hcl"), hcl).unwrap();
    session::load_path(
        dir,
        &LoadOptions {
            inputs: VarInputs::default(),
            evaluate_datasources: true,
            ..LoadOptions::default()
        },
    )
    .map(|s| s.template)
    .map_err(|d| d.to_string())
}

/// Prepares and runs every build of `t` with `opts`: the UI lines and the outcomes, or the
/// prepare diagnostics as text.
pub async fn run_template(
    t: &Template,
    opts: &RunOptions,
) -> Result<(Vec<String>, Vec<BuildOutcome>), String> {
    let (prepared, _) =
        plan::prepare(t, t.instances().unwrap(), opts).map_err(|d| d.to_string())?;
    let rec = Arc::new(Recorder::default());
    let ui = Ui::new(rec.clone(), Arc::new(Masker::new(t.sensitive.clone())));
    let out = run::run_all(
        prepared,
        &ui,
        &CancellationToken::new(),
        opts,
        &t.base_env(),
    )
    .await;
    Ok((rec.lines(), out))
}
