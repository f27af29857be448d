//! The component model: a tiny interface per concept ([`Builder`] and its [`Step`]s,
//! [`Provisioner`], [`PostProcessor`], [`DataSource`], [`Hook`]; communicators are in
//! [`crate::communicator`]), the [`registry`] from type name to constructor, the
//! [`RunEnv`](env::RunEnv) every component is handed, and the [`Requirements`] a builder
//! declares for the pod that runs it. Each component decodes and validates its own config in
//! its constructor (no side effects), so `validate` reports every mistake before anything
//! runs.

pub mod env;
pub mod error;
pub mod extensions;
pub mod registry;
pub mod requirements;

pub use env::RunEnv;
pub use error::{BuildError, HookError};
pub use extensions::Extensions;
pub use registry::{BUILDERS, DATA_SOURCES, POST_PROCESSORS, PROVISIONERS};
pub use requirements::{Grant, Requirements};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::communicator::Communicator;
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
    /// Where the run happens: scratch space, channel data, terminal.
    pub env: Arc<RunEnv>,
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
    pub error: Option<BuildError>,
    /// The step running now (named in step errors).
    pub step: String,
    /// The hooks (the provision hook runs the build's provisioners).
    pub hooks: Arc<dyn Hook>,
    /// Where a machine builder's steps say the communicator should connect (a VM's
    /// forwarded port is known only after it boots): read by the connect step at run time.
    pub endpoint: Endpoint,
    /// Builder-private state, one typed value per type (a builder's own state struct).
    pub private: Extensions,
    /// Set by a builder that fires the provision hook with no data (Packer's file builder
    /// calls `hook.Run(…, nil)`): its provisioners then see every `build.*` key as at
    /// validate time, `"<unknown>"` (the run's UUID and `ID` included).
    pub no_hook_data: bool,
}

impl BuildState {
    /// Records the running step's error and says it.
    pub fn fail(&mut self, message: impl Into<String>) -> StepAction {
        self.fail_with(BuildError::Step {
            step: self.step.clone(),
            message: message.into(),
        })
    }

    /// Says an error and halts without recording it, as a plugin step that calls
    /// `ui.Error` and returns `ActionHalt`: the build's error is `Build was halted.`.
    pub fn halt(&mut self, message: impl Into<String>) -> StepAction {
        let said = message.into();
        self.ui.error(said.clone());
        self.error = Some(BuildError::Halted {
            step: self.step.clone(),
            said,
        });
        StepAction::Halt
    }

    /// Records the running step's error without saying it (a plugin step that puts its error
    /// in the state bag and halts: Packer says it only in the build's summary).
    pub fn fail_unsaid(&mut self, message: impl Into<String>) -> StepAction {
        self.error = Some(BuildError::Step {
            step: self.step.clone(),
            message: message.into(),
        });
        StepAction::Halt
    }

    /// Records an error and says it.
    pub fn fail_with(&mut self, error: BuildError) -> StepAction {
        self.ui.error(error.to_string());
        self.error = Some(error);
        StepAction::Halt
    }
}

/// Where the communicator connects, as a builder's steps learned it at run time. Unset
/// fields fall back to the communicator's own config (`ssh_host`, `ssh_port`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// A temporary SSH key pair the builder made (the SDK's `StepSSHKeyGen`): OpenSSH
    /// private key, authorized_keys line.
    pub temporary_key: Option<(String, String)>,
}

/// What a step is, where the runner treats steps differently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepKind {
    #[default]
    Other,
    /// Fires the provision hook; with `-on-error=run-cleanup-provisioner` its cleanup is the
    /// only one that runs after a failure.
    Provision,
    /// Work Kiln does as a step where Packer's builder does it outside its step runner
    /// (`-on-error` does not wrap it: its cleanup runs and it is never named).
    Internal,
}

/// One step of a builder.
#[async_trait]
pub trait Step: Send {
    fn name(&self) -> &str;
    fn kind(&self) -> StepKind {
        StepKind::Other
    }
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
    /// What the pod that runs this build needs beyond the restricted defaults.
    fn requirements(&self) -> Requirements {
        Requirements::default()
    }
    /// Whether the builder runs its steps through the SDK's step runner, which `-on-error`
    /// wraps (`abort` skips cleanups and says so). Packer's `file` builder has no step
    /// runner: it writes its file and fires the provision hook, nothing to clean up.
    fn step_runner(&self) -> bool {
        true
    }
    /// How the build ends when it was cancelled, as the plugin's `Run` returns: `Some`, the
    /// error Packer reports (`Build was cancelled.` for the SDK's usual check of
    /// `StateCancelled`); `None`, no error and no artifact (the build "finished").
    fn cancelled_error(&self) -> Option<&'static str> {
        Some("Build was cancelled.")
    }
    /// Kiln's own checks the builder failed, deferred to its first step (see
    /// `registry::OwnChecks`): the operator reports them before it starts a pod.
    fn deferred_checks(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Hook names.
pub const HOOK_PROVISION: &str = "packer_provision";
pub const HOOK_CLEANUP_PROVISION: &str = "packer_cleanup_provision";

/// Hooks dispatched by name; unknown names do nothing.
#[async_trait]
pub trait Hook: Send + Sync {
    async fn run(&self, name: &str, state: &mut BuildState) -> Result<(), HookError>;
}

/// What a provisioner gets to work with.
pub struct ProvisionCtx<'a> {
    pub ui: &'a Ui,
    pub comm: &'a Arc<dyn Communicator>,
    pub cancel: &'a CancellationToken,
    pub generated: &'a BTreeMap<String, Value>,
    pub info: &'a ComponentInfo,
    /// Where the `hcp-sbom` provisioner leaves the SBOMs it fetched for the build.
    pub sboms: &'a SbomSink,
}

/// The format of an [`Sbom`], as HCP Packer names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SbomFormat {
    #[serde(rename = "SPDX")]
    Spdx,
    #[serde(rename = "CYCLONEDX")]
    CycloneDx,
}

impl SbomFormat {
    /// HCP Packer's name (`SPDX`, `CYCLONEDX`).
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::Spdx => "SPDX",
            SbomFormat::CycloneDx => "CYCLONEDX",
        }
    }

    /// The document's media type.
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::Spdx => "application/spdx+json",
            SbomFormat::CycloneDx => "application/vnd.cyclonedx+json",
        }
    }
}

/// A software bill of materials the `hcp-sbom` provisioner fetched from the machine (Packer's
/// `packer.SBOM`, which HCP Packer's registry stores with the build).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sbom {
    /// `sbom_name` (empty: HCP Packer names it after the build's fingerprint).
    pub name: String,
    pub format: SbomFormat,
    /// The document, as fetched.
    pub data: Vec<u8>,
    /// Where it was attached to the build's pushed images (a cluster build's, see
    /// [`crate::referrers::attach_sboms`]).
    pub referrers: Vec<SbomReferrer>,
}

/// An SBOM stored beside a pushed image as an OCI referrer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomReferrer {
    /// The image, `registry/repository@sha256:…`.
    pub subject: String,
    /// The referrer manifest's digest.
    pub referrer: String,
    /// The referrers tag updated (registries without the referrers API).
    pub referrers_tag: Option<String>,
}

/// The SBOMs a build's provisioners fetched, in order.
pub type SbomSink = std::sync::Mutex<Vec<Sbom>>;

#[async_trait]
pub trait Provisioner: Send + Sync {
    async fn provision(
        &self,
        ctx: &ProvisionCtx<'_>,
    ) -> Result<(), crate::provisioners::ProvisionError>;
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
    ) -> Result<PostProcessed, crate::postprocessors::PostProcessError>;

    /// Kiln's own checks the post-processor failed, with which it fails when it runs (see
    /// `registry::OwnChecks`).
    fn deferred_checks(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A data source: runs while the template is loaded.
pub trait DataSource: Send + Sync {
    fn execute(&self) -> Result<BTreeMap<String, Value>, crate::datasources::DataSourceError>;
}
