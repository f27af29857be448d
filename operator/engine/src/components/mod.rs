//! The component model: a tiny interface per concept, and a registry from type name to
//! constructor. Each component decodes and validates its own config in its constructor
//! (`prepare`, no side effects), so `validate` reports every mistake before anything runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::communicator::Communicator;
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// `-on-error` behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    #[default]
    Cleanup,
    Abort,
    /// Non-interactive `ask` means cleanup, as in Packer without a TTY.
    Ask,
    RunCleanupProvisioner,
}

impl OnError {
    pub fn parse(s: &str) -> Option<OnError> {
        match s {
            "cleanup" | "" => Some(OnError::Cleanup),
            "abort" => Some(OnError::Abort),
            "ask" => Some(OnError::Ask),
            "run-cleanup-provisioner" => Some(OnError::RunCleanupProvisioner),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            OnError::Cleanup => "cleanup",
            OnError::Abort => "abort",
            OnError::Ask => "ask",
            OnError::RunCleanupProvisioner => "run-cleanup-provisioner",
        }
    }
}

/// What every component knows of the run (Packer's `packer_*` plugin keys).
#[derive(Clone, Debug, Default)]
pub struct ComponentInfo {
    /// `packer_build_name`: the source label.
    pub build_name: String,
    /// `packer_builder_type`.
    pub builder_type: String,
    /// The full build name `[build.]type.name`.
    pub full_name: String,
    pub run_uuid: String,
    pub force: bool,
    pub debug: bool,
    pub on_error: OnError,
    pub sensitive_vars: Vec<String>,
    /// `path.root`.
    pub template_dir: PathBuf,
}

/// Whether the step sequence continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepAction {
    Continue,
    Halt,
}

/// The state a builder's steps share (Packer's state bag, typed).
pub struct BuildState {
    pub ui: Ui,
    pub cancel: CancellationToken,
    pub info: ComponentInfo,
    /// The communicator, once a connect step set it.
    pub comm: Option<Arc<dyn Communicator>>,
    /// Generated data: `build.*` values (`ID`, `Host`, `Port`, `User`, ...).
    pub generated: BTreeMap<String, Value>,
    /// Why the build failed, if it did.
    pub error: Option<String>,
    /// The hooks (the provision hook runs the build's provisioners).
    pub hooks: Arc<dyn Hook>,
    /// Builder-specific state.
    pub extra: BTreeMap<String, serde_json::Value>,
    /// Set when the provision hook failed (the error-cleanup-provisioner then runs).
    pub provision_failed: bool,
}

impl BuildState {
    /// Records an error and says it.
    pub fn fail(&mut self, message: impl Into<String>) -> StepAction {
        let m = message.into();
        self.ui.error(&m);
        self.error = Some(m);
        StepAction::Halt
    }
}

/// One step of a builder.
#[async_trait]
pub trait Step: Send {
    fn name(&self) -> &str;
    async fn run(&mut self, state: &mut BuildState) -> StepAction;
    /// Runs after the sequence ends (success, failure or cancellation), in reverse order, for
    /// every step that started.
    async fn cleanup(&mut self, _state: &mut BuildState) {}
}

/// A builder: an ordered list of steps and the artifact they leave.
pub trait Builder: Send + Sync {
    fn steps(&self) -> Vec<Box<dyn Step>>;
    /// The artifact after the steps succeeded (`None`: nothing was produced).
    fn artifact(&self, state: &BuildState) -> Option<Artifact>;
    /// Generated-data keys this builder declares (`build.*` beyond the standard ones).
    fn generated_keys(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Hook names.
pub const HOOK_PROVISION: &str = "packer_provision";
pub const HOOK_CLEANUP_PROVISION: &str = "packer_cleanup_provision";

/// Hooks dispatched by name; unknown names do nothing.
#[async_trait]
pub trait Hook: Send + Sync {
    async fn run(&self, name: &str, state: &mut BuildState) -> anyhow::Result<()>;
}

/// What a provisioner gets to work with.
pub struct ProvisionCtx<'a> {
    pub ui: &'a Ui,
    pub comm: &'a Arc<dyn Communicator>,
    pub cancel: &'a CancellationToken,
    pub generated: &'a BTreeMap<String, Value>,
    pub info: &'a ComponentInfo,
}

#[async_trait]
pub trait Provisioner: Send + Sync {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> anyhow::Result<()>;
}

/// What a post-processor gets to work with.
pub struct PostProcessCtx<'a> {
    pub ui: &'a Ui,
    pub cancel: &'a CancellationToken,
    pub info: &'a ComponentInfo,
    pub generated: &'a BTreeMap<String, Value>,
}

/// A post-processor's output.
pub struct PostProcessed {
    pub artifact: Artifact,
    /// Keep the input artifact by default.
    pub keep: bool,
    /// Keep it whatever the template says.
    pub force_keep: bool,
}

#[async_trait]
pub trait PostProcessor: Send + Sync {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> anyhow::Result<PostProcessed>;
}

/// A data source: runs while the template is loaded.
pub trait DataSource: Send + Sync {
    fn execute(&self) -> anyhow::Result<BTreeMap<String, Value>>;
}

pub type BuilderFactory = fn(&mut ConfigReader, &ComponentInfo) -> Option<Box<dyn Builder>>;
pub type ProvisionerFactory = fn(&mut ConfigReader, &ComponentInfo) -> Option<Box<dyn Provisioner>>;
pub type PostProcessorFactory =
    fn(&mut ConfigReader, &ComponentInfo) -> Option<Box<dyn PostProcessor>>;
pub type DataSourceFactory = fn(&mut ConfigReader) -> Option<Box<dyn DataSource>>;

/// Builder types Kiln has.
pub fn builder(kind: &str) -> Option<BuilderFactory> {
    Some(match kind {
        "null" => crate::builders::null::new,
        "file" => crate::builders::file::new,
        _ => return None,
    })
}

/// Provisioner types Kiln has.
pub fn provisioner(kind: &str) -> Option<ProvisionerFactory> {
    Some(match kind {
        "shell-local" => crate::provisioners::shell_local::new,
        "breakpoint" => crate::provisioners::breakpoint::new,
        "sleep" => crate::provisioners::sleep::new,
        "shell" => crate::provisioners::shell::new,
        "file" => crate::provisioners::file::new,
        _ => return None,
    })
}

/// Post-processor types Kiln has.
pub fn post_processor(kind: &str) -> Option<PostProcessorFactory> {
    Some(match kind {
        "manifest" => crate::postprocessors::manifest::new,
        "shell-local" => crate::postprocessors::shell_local::new,
        "artifice" => crate::postprocessors::artifice::new,
        "checksum" => crate::postprocessors::checksum::new,
        "compress" => crate::postprocessors::compress::new,
        _ => return None,
    })
}

/// Data source types Kiln has.
pub fn data_source(kind: &str) -> Option<DataSourceFactory> {
    Some(match kind {
        "null" => crate::datasources::null::new,
        "http" => crate::datasources::http::new,
        "kiln-channel" => crate::datasources::kiln_channel::new,
        _ => return None,
    })
}

/// Every component type, for "did you mean" messages and the docs.
pub fn known(kind_of: &str) -> Vec<&'static str> {
    let all: &[&str] = match kind_of {
        "builder" => &["null", "file"],
        "provisioner" => &["shell-local", "breakpoint", "sleep", "shell", "file"],
        "post-processor" => &[
            "manifest",
            "shell-local",
            "artifice",
            "checksum",
            "compress",
        ],
        "data" => &["null", "http", "kiln-channel"],
        _ => &[],
    };
    all.iter()
        .copied()
        .filter(|k| match kind_of {
            "builder" => builder(k).is_some(),
            "provisioner" => provisioner(k).is_some(),
            "post-processor" => post_processor(k).is_some(),
            "data" => data_source(k).is_some(),
            _ => false,
        })
        .collect()
}

/// The closest known name, for "Did you mean" suggestions.
pub fn suggest(name: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim(name, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn strsim(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
