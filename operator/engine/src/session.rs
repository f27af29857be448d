//! The whole load pipeline in Packer's order, shared by the CLI, the runner pod and the
//! template controller: parse → root schema → variables → locals and data sources.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostics;
use crate::template::locals::{self, DataMode};
use crate::template::{Template, VarInputs, variables};

/// What to load and how.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub inputs: VarInputs,
    /// Run data sources (build, `validate -evaluate-datasources`); otherwise their outputs
    /// are unknown.
    pub evaluate_datasources: bool,
}

fn finish(
    mut t: Template,
    mut diags: Diagnostics,
    opts: &LoadOptions,
) -> Result<(Template, Diagnostics), Diagnostics> {
    diags.extend(variables::resolve(&mut t, &opts.inputs));
    if diags.has_errors() {
        return Err(diags);
    }
    let mode = if opts.evaluate_datasources {
        DataMode::Execute(&crate::plan::run_data_source)
    } else {
        diags.extend(crate::plan::check_data_sources(&t));
        DataMode::Unknown
    };
    diags.extend(locals::evaluate(&mut t, mode));
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((t, diags))
    }
}

/// Loads a template file or directory and evaluates its variables, locals and data sources.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Template, Diagnostics), Diagnostics> {
    let (t, diags) = Template::load(path)?;
    finish(t, diags, opts)
}

/// Like [`load`], from in-memory files (a resource's template). `root` is `path.root`.
pub fn load_sources(
    root: PathBuf,
    files: Vec<(PathBuf, String)>,
    opts: &LoadOptions,
) -> Result<(Template, Diagnostics), Diagnostics> {
    let (t, diags) = Template::from_sources(root, true, files)?;
    finish(t, diags, opts)
}
