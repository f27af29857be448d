//! `communicator = "none"`: commands report success without running anything; transfers fail.

use std::path::Path;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::{CommError, Communicator, ExitStatus, Output};

#[derive(Debug, Default)]
pub struct NoneCommunicator;

fn unsupported(operation: &'static str) -> CommError {
    CommError::Unsupported {
        communicator: "none".into(),
        operation,
    }
}

#[async_trait]
impl Communicator for NoneCommunicator {
    fn kind(&self) -> &str {
        "none"
    }

    async fn start(
        &self,
        _command: &str,
        _output: &mut dyn Output,
        _cancel: &CancellationToken,
    ) -> Result<ExitStatus, CommError> {
        Ok(ExitStatus::Code(0))
    }

    async fn upload(
        &self,
        _dst: &str,
        _src: &mut (dyn AsyncRead + Send + Unpin),
        _mode: u32,
    ) -> Result<(), CommError> {
        Err(unsupported("Upload"))
    }

    async fn upload_dir(
        &self,
        _dst: &str,
        _src: &Path,
        _exclude: &[String],
    ) -> Result<(), CommError> {
        Err(unsupported("UploadDir"))
    }

    async fn download(
        &self,
        _src: &str,
        _dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        Err(unsupported("Download"))
    }

    async fn download_dir(
        &self,
        _src: &str,
        _dst: &Path,
        _exclude: &[String],
    ) -> Result<(), CommError> {
        Err(unsupported("DownloadDir"))
    }
}
