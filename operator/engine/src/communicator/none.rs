//! `communicator = "none"`: commands report success without running anything; transfers fail.

use std::path::Path;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::{Communicator, ExitStatus, Output};

#[derive(Debug, Default)]
pub struct NoneCommunicator;

fn unsupported(what: &str) -> anyhow::Error {
    anyhow::anyhow!("{what} not implemented when communicator = \"none\"")
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
    ) -> anyhow::Result<ExitStatus> {
        Ok(ExitStatus::Code(0))
    }

    async fn upload(
        &self,
        _dst: &str,
        _src: &mut (dyn AsyncRead + Send + Unpin),
        _mode: u32,
    ) -> anyhow::Result<()> {
        Err(unsupported("Upload"))
    }

    async fn upload_dir(&self, _dst: &str, _src: &Path, _exclude: &[String]) -> anyhow::Result<()> {
        Err(unsupported("UploadDir"))
    }

    async fn download(
        &self,
        _src: &str,
        _dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> anyhow::Result<()> {
        Err(unsupported("Download"))
    }

    async fn download_dir(
        &self,
        _src: &str,
        _dst: &Path,
        _exclude: &[String],
    ) -> anyhow::Result<()> {
        Err(unsupported("DownloadDir"))
    }
}
