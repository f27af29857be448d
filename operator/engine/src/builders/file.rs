//! The `file` builder: writes `target` from `content` or a copy of `source`, then runs the
//! provisioners against a communicator that accepts everything and does nothing (as Packer's).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use crate::artifact::Artifact;
use crate::communicator::{CommError, Communicator, ExitStatus, Output};
use crate::components::{BuildState, Builder, ComponentInfo, Step, StepAction};
use crate::template::ConfigReader;

pub const BUILDER_ID: &str = "packer.file";

pub struct FileBuilder {
    target: PathBuf,
    source: Option<PathBuf>,
    content: String,
}

/// Packer's file builder `Prepare`: `target` required, not both `source` and `content` (a
/// warning when neither). The source is read when the build runs, as Packer's.
pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let target = non_empty(r.string("target"));
    let source = non_empty(r.string("source"));
    let content = non_empty(r.string("content"));
    if target.is_none() {
        r.prepare_error("target required");
    }
    if source.is_none() && content.is_none() {
        r.prepare_warning("Both source file and contents are blank; target will have no content");
    }
    if source.is_some() && content.is_some() {
        r.prepare_error("Cannot specify source file AND content");
    }
    let source = source.map(PathBuf::from);
    let _ = info;
    Some(Box::new(FileBuilder {
        target: PathBuf::from(target?),
        source,
        content: content.unwrap_or_default(),
    }))
}

/// Packer's file builder fires the provision hook itself, after writing the file: a failure
/// fails the build with no cleanup provisioner to run.
struct StepProvisionOnly;

#[async_trait]
impl Step for StepProvisionOnly {
    fn name(&self) -> &str {
        "StepProvision"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let hooks = state.hooks.clone();
        state.no_hook_data = true;
        match hooks.run(crate::components::HOOK_PROVISION, state).await {
            Ok(()) => StepAction::Continue,
            Err(e) => {
                let message = format!("{e:#}");
                state.error = Some(if state.cancel.is_cancelled() {
                    crate::components::BuildError::Cancelled { message }
                } else {
                    crate::components::BuildError::Provision { message }
                });
                StepAction::Halt
            }
        }
    }
}

struct StepWriteFile {
    target: PathBuf,
    source: Option<PathBuf>,
    content: String,
}

#[async_trait]
impl Step for StepWriteFile {
    fn name(&self) -> &str {
        "StepWriteFile"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        // Packer's file builder returns its `os` errors as they are, without a message of
        // its own.
        let quiet_fail = |state: &mut BuildState, message: String| {
            state.error = Some(crate::components::BuildError::Step {
                step: state.step.clone(),
                message,
            });
            StepAction::Halt
        };
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = crate::goerr::mkdir_all(dir, 0o755)
        {
            return quiet_fail(state, e);
        }
        let result = match &self.source {
            Some(src) => {
                // As Packer's: open the source first (its error alone ends the build, with
                // no message of the builder's own), then say what is copied.
                let from = match std::fs::File::open(src) {
                    Ok(f) => f,
                    Err(e) => return quiet_fail(state, crate::goerr::path_error("open", src, &e)),
                };
                state.ui.say(format!(
                    "Copying {} to {}",
                    src.display(),
                    self.target.display()
                ));
                // As Go's os.Create + io.Copy: a new file gets 0666 less the umask, not
                // the source's mode.
                let target = self.target.clone();
                let copied = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
                    let mut from = from;
                    let mut to = create_with_mode(&target, 0o666)?;
                    std::io::copy(&mut from, &mut to)
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                if let Ok(n) = &copied {
                    state.ui.say(format!("Copied {n} bytes"));
                }
                copied.map(|_| ())
            }
            // Packer's file builder writes content without a word, as os.WriteFile(…, 0600).
            None => {
                let (content, target) = (self.content.clone(), self.target.clone());
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    use std::io::Write;
                    create_with_mode(&target, 0o600)?.write_all(content.as_bytes())
                })
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
        };
        match result {
            Ok(()) => {
                state.comm = Some(Arc::new(AcceptAll));
                StepAction::Continue
            }
            // (os.Create's and os.WriteFile's errors: `open TARGET: …`.)
            Err(e) => quiet_fail(state, crate::goerr::path_error("open", &self.target, &e)),
        }
    }
}

impl Builder for FileBuilder {
    fn steps(&self) -> Vec<Box<dyn Step>> {
        vec![
            Box::new(StepWriteFile {
                target: self.target.clone(),
                source: self.source.clone(),
                content: self.content.clone(),
            }),
            Box::new(StepProvisionOnly),
        ]
    }

    fn step_runner(&self) -> bool {
        false
    }

    fn artifact(&self, _state: &BuildState) -> Option<Artifact> {
        Some(Artifact {
            destroyer: None,
            builder_id: BUILDER_ID.to_string(),
            id: "File".to_string(),
            files: vec![self.target.clone()],
            description: format!("Stored file: {}", self.target.display()),
            state: Default::default(),
        })
    }
}

/// The file builder's communicator: commands "succeed", transfers are accepted and dropped.
struct AcceptAll;

#[async_trait]
impl Communicator for AcceptAll {
    fn kind(&self) -> &str {
        "none"
    }
    async fn start(
        &self,
        _c: &str,
        _o: &mut dyn Output,
        _x: &CancellationToken,
    ) -> Result<ExitStatus, CommError> {
        Ok(ExitStatus::Code(0))
    }
    async fn upload(
        &self,
        d: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        _m: u32,
    ) -> Result<(), CommError> {
        tokio::io::copy(src, &mut tokio::io::sink())
            .await
            .map_err(CommError::upload(d))?;
        Ok(())
    }
    async fn upload_dir(&self, _d: &str, _s: &Path, _e: &[String]) -> Result<(), CommError> {
        Ok(())
    }
    async fn download(
        &self,
        _s: &str,
        _d: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        Ok(())
    }
    async fn download_dir(&self, _s: &str, _d: &Path, _e: &[String]) -> Result<(), CommError> {
        Ok(())
    }
}

/// Opens `path` for writing, truncated; created with `mode` (less the umask) when new.
fn create_with_mode(path: &std::path::Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
}
