//! Communicators: how provisioners reach the machine being built. `none` (commands succeed
//! without running, transfers fail, as in Packer), `ssh` (russh), and `local` for builders
//! that work on a directory of this machine.

pub mod config;
#[cfg(feature = "docker")]
pub mod docker;
pub mod none;
pub mod ssh;

use std::path::Path;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

/// Why a communicator operation failed: one variant per operation, saying what and where.
#[derive(Debug, thiserror::Error)]
pub enum CommError {
    /// The communicator cannot do this at all (`none` transfers files nowhere).
    #[error("{operation} is not implemented when communicator = '{communicator}'")]
    Unsupported {
        communicator: String,
        operation: &'static str,
    },
    /// The command could not be started (no session, channel refused, runtime missing).
    #[error("{message}")]
    Start { message: String },
    /// The run was cancelled while the command ran (it was stopped).
    #[error("Interrupted while running {command:?}")]
    Interrupted { command: String },
    #[error("uploading {path}: {message}")]
    Upload { path: String, message: String },
    #[error("uploading directory {src} to {dst}: {message}")]
    UploadDir {
        src: String,
        dst: String,
        message: String,
    },
    #[error("downloading {path}: {message}")]
    Download { path: String, message: String },
    /// The remote side refused, in the words Packer's communicator reports as they are (the
    /// remote `scp`'s own message line, newline included).
    #[error("{0}")]
    Remote(String),
    #[error("downloading directory {src} to {dst}: {message}")]
    DownloadDir {
        src: String,
        dst: String,
        message: String,
    },
}

/// An error whose text is the whole message, as Packer's communicator returns it (no
/// context added): becomes [`CommError::Remote`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Verbatim(pub String);

/// Turns a transfer's cause into the error naming the transfer (`{e:#}`: an `anyhow` chain
/// in full), for `map_err`.
impl CommError {
    /// A [`Verbatim`] cause as it is ([`CommError::Remote`]), any other through `wrap`.
    pub fn verbatim_or(
        e: anyhow::Error,
        wrap: impl FnOnce(anyhow::Error) -> CommError,
    ) -> CommError {
        match e.downcast::<Verbatim>() {
            Ok(v) => CommError::Remote(v.0),
            Err(e) => wrap(e),
        }
    }

    pub fn upload<E: std::fmt::Display>(path: &str) -> impl FnOnce(E) -> CommError + '_ {
        move |e| CommError::Upload {
            path: path.to_string(),
            message: format!("{e:#}"),
        }
    }
    pub fn upload_dir<'a, E: std::fmt::Display>(
        src: &'a Path,
        dst: &'a str,
    ) -> impl FnOnce(E) -> CommError + 'a {
        move |e| CommError::UploadDir {
            src: src.display().to_string(),
            dst: dst.to_string(),
            message: format!("{e:#}"),
        }
    }
    pub fn download<E: std::fmt::Display>(path: &str) -> impl FnOnce(E) -> CommError + '_ {
        move |e| CommError::Download {
            path: path.to_string(),
            message: format!("{e:#}"),
        }
    }
    pub fn download_dir<'a, E: std::fmt::Display>(
        src: &'a str,
        dst: &'a Path,
    ) -> impl FnOnce(E) -> CommError + 'a {
        move |e| CommError::DownloadDir {
            src: src.to_string(),
            dst: dst.display().to_string(),
            message: format!("{e:#}"),
        }
    }
}

/// How a remote command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command exited with this code.
    Code(i32),
    /// The command was killed by a signal (name without `SIG`, e.g. `TERM`).
    Signal(String),
    /// The channel closed without reporting a status (e.g. the connection dropped).
    NoStatus,
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit status {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by signal {s}"),
            ExitStatus::NoStatus => f.write_str("the remote end closed without an exit status"),
        }
    }
}

/// Receives a command's output, line by line, as it arrives.
pub trait Output: Send {
    fn stdout_line(&mut self, line: &str);
    fn stderr_line(&mut self, line: &str);
}

/// Sends output lines to the UI as messages (masked there).
pub struct UiOutput(pub crate::ui::Ui);

impl Output for UiOutput {
    fn stdout_line(&mut self, line: &str) {
        self.0.message(line);
    }
    fn stderr_line(&mut self, line: &str) {
        self.0.message(line);
    }
}

/// Collects output (tests, and provisioners that need it).
#[derive(Default, Debug)]
pub struct Collect {
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Output for Collect {
    fn stdout_line(&mut self, line: &str) {
        self.stdout.push(line.to_string());
    }
    fn stderr_line(&mut self, line: &str) {
        self.stderr.push(line.to_string());
    }
}

/// A connection to the machine being built. Mirrors Packer's `packersdk.Communicator`.
#[async_trait]
pub trait Communicator: Send + Sync {
    /// `ssh`, `none`, ...: what `build.ConnType` reports.
    fn kind(&self) -> &str;

    /// Runs `command` remotely; output is streamed to `output` line by line. Cancelling the
    /// token stops waiting and closes the channel.
    async fn start(
        &self,
        command: &str,
        output: &mut dyn Output,
        cancel: &CancellationToken,
    ) -> Result<ExitStatus, CommError>;

    /// Streams `src` to the remote file `dst` with permission bits `mode`.
    async fn upload(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        mode: u32,
    ) -> Result<(), CommError>;

    /// Uploads the local file `src` (its metadata `md`) to `dst`: [`Communicator::upload`]
    /// with its permission bits; the docker communicator also keeps its modification time,
    /// as the plugin's `docker cp` of the file's `os.FileInfo` does.
    async fn upload_file(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        md: &std::fs::Metadata,
    ) -> Result<(), CommError> {
        use std::os::unix::fs::PermissionsExt;
        self.upload(dst, src, md.permissions().mode() & 0o7777)
            .await
    }

    /// Uploads a local directory. As in Packer: a `src` ending in `/` uploads its contents
    /// into `dst`; otherwise the directory itself is created inside `dst`.
    async fn upload_dir(&self, dst: &str, src: &Path, exclude: &[String]) -> Result<(), CommError>;

    /// Streams the remote file `src` into `dst`.
    async fn download(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError>;

    /// Downloads a remote directory, with the same trailing-slash rule as `upload_dir`.
    async fn download_dir(
        &self,
        src: &str,
        dst: &Path,
        exclude: &[String],
    ) -> Result<(), CommError>;

    /// Closes the connection (cleanup).
    async fn close(&self) {}
}
