//! `file`: uploads files or directories to the machine (or downloads them from it) through
//! the communicator, with Packer's trailing-slash rules.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::communicator::CommError;
use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Upload,
    Download,
}

#[derive(Clone, Debug)]
pub struct FileConfig {
    pub sources: Vec<String>,
    pub content: Option<String>,
    pub destination: String,
    pub direction: Direction,
    pub generated: bool,
}

impl FileConfig {
    pub fn read(r: &mut ConfigReader) -> FileConfig {
        let source = r.string("source");
        let mut sources = r.strings("sources").unwrap_or_default();
        let content = r.string("content");
        let destination = r.string("destination").unwrap_or_default();
        let generated = r.bool("generated").unwrap_or(false);
        // The file provisioner's `Prepare`: its rules, in its words and order.
        let direction_raw = r.string("direction").unwrap_or_default();
        let direction = match direction_raw.as_str() {
            "download" => Direction::Download,
            _ => Direction::Upload,
        };
        if !matches!(direction_raw.as_str(), "" | "upload" | "download") {
            r.prepare_error("Direction must be one of: download, upload.");
        }
        if let Some(s) = source.filter(|s| !s.is_empty()) {
            sources.push(s);
        }
        let content = content.filter(|c| !c.is_empty());
        if (direction_raw.is_empty() || direction_raw == "upload") && !generated {
            for s in &sources {
                if let Err(e) = std::fs::metadata(s) {
                    r.prepare_error(format!(
                        "Bad source '{s}': {}",
                        crate::goerr::path_error("stat", std::path::Path::new(s), &e)
                    ));
                }
            }
        }
        if content.is_some() && !sources.is_empty() {
            r.prepare_error("source(s) conflicts with content.");
        }
        if destination.is_empty() {
            r.prepare_error("Destination must be specified.");
        }
        FileConfig {
            sources,
            content,
            destination,
            direction,
            generated,
        }
    }
}

fn base_name(p: &str) -> String {
    let t = p.trim_end_matches('/');
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// As Packer's file provisioner: a failed transfer of a file is said (`Upload failed: …`)
/// and fails the provisioner with the communicator's own message.
fn transfer_error(ui: &crate::ui::Ui, what: &str, e: CommError) -> ProvisionError {
    ui.error(format!("{what} failed: {e}"));
    ProvisionError::Command {
        message: e.to_string(),
    }
}

fn download_dir_error(e: CommError) -> ProvisionError {
    ProvisionError::Command {
        message: e.to_string(),
    }
}

pub struct File {
    config: FileConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(File {
        config: FileConfig::read(r),
    }))
}

impl File {
    pub fn from_config(config: FileConfig) -> File {
        File { config }
    }

    async fn upload_sources(
        &self,
        ctx: &ProvisionCtx<'_>,
        sources: &[String],
    ) -> Result<(), ProvisionError> {
        let comm = ctx.comm;
        for src in sources {
            let mut dst = self.config.destination.clone();
            ctx.ui.say(format!("Uploading {src} => {dst}"));
            let md = tokio::fs::metadata(src)
                .await
                .map_err(|e| ProvisionError::local(format!("Error reading source {src}"), e))?;
            if md.is_dir() {
                comm.upload_dir(&dst, Path::new(src), &[])
                    .await
                    .map_err(|e| transfer_error(ctx.ui, "Upload", e))?;
                continue;
            }
            if dst.ends_with('/') {
                dst.push_str(&base_name(src));
            }
            let mut f = tokio::fs::File::open(src)
                .await
                .map_err(|e| ProvisionError::local(format!("Error opening {src}"), e))?;
            comm.upload_file(&dst, &mut f, &md)
                .await
                .map_err(|e| transfer_error(ctx.ui, "Upload", e))?;
        }
        Ok(())
    }

    async fn download(
        &self,
        ctx: &ProvisionCtx<'_>,
        sources: &[String],
    ) -> Result<(), ProvisionError> {
        let comm = ctx.comm;
        for src in sources {
            let mut dst = self.config.destination.clone();
            ctx.ui.say(format!("Downloading {src} => {dst}"));
            let is_dir = src.ends_with('/') || src.contains(['*', '?', '[']);
            let dir: PathBuf = if !dst.ends_with('/') {
                Path::new(&dst)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            } else {
                let d = PathBuf::from(&dst);
                if !is_dir {
                    dst.push_str(&base_name(src));
                }
                d
            };
            if !dir.as_os_str().is_empty() {
                tokio::fs::create_dir_all(&dir).await.map_err(|e| {
                    ProvisionError::local(format!("Error creating {}", dir.display()), e)
                })?;
            }
            if is_dir {
                comm.download_dir(src, Path::new(&dst), &[])
                    .await
                    .map_err(download_dir_error)?;
                continue;
            }
            let mut f = tokio::fs::File::create(&dst)
                .await
                .map_err(|e| ProvisionError::local(format!("Error creating {dst}"), e))?;
            comm.download(src, &mut f)
                .await
                .map_err(|e| transfer_error(ctx.ui, "Download", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Provisioner for File {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        // Packer writes `content` to a temporary file (`pkr-file-content` and Go's random
        // digits, mode 0600) and adds it to the sources, whatever the direction (a download
        // then asks the remote host for that path); Kiln removes it afterwards.
        let mut content_file = None;
        let mut sources = self.config.sources.clone();
        if let Some(content) = &self.config.content {
            let tmp = crate::process::write_executable(
                &std::env::temp_dir(),
                "pkr-file-content",
                "",
                content.as_bytes(),
                0o600,
            )
            .map_err(|e| ProvisionError::local("Error writing the content", e))?;
            sources.push(tmp.to_string_lossy().to_string());
            content_file = Some(tmp);
        }
        let result = match self.config.direction {
            Direction::Upload => self.upload_sources(ctx, &sources).await,
            Direction::Download => self.download(ctx, &sources).await,
        };
        drop(content_file);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn validation() {
        // As Packer's: neither a source nor content is not an error (nothing is uploaded).
        assert!(decode_hcl("destination = \"/tmp/x\"\n", FileConfig::read).is_ok());
        let e = decode_hcl(
            "content = \"x\"\nsource = \"/\"\ndestination = \"/tmp/x\"\n",
            FileConfig::read,
        )
        .unwrap_err();
        assert!(
            e[0].contains("1 error(s) occurred:\n\n* source(s) conflicts with content."),
            "{e:?}"
        );
        let e = decode_hcl("content = \"x\"\n", FileConfig::read).unwrap_err();
        assert!(e[0].contains("Destination must be specified"), "{e:?}");
        let e = decode_hcl(
            "source = \"/nonexistent-kiln\"\ndestination = \"/tmp/x\"\n",
            FileConfig::read,
        )
        .unwrap_err();
        assert!(
            e[0].contains(
                "Bad source '/nonexistent-kiln': stat /nonexistent-kiln: no such file or directory"
            ),
            "{e:?}"
        );
        let c = decode_hcl(
            "source = \"/nonexistent-kiln\"\ndestination = \"/tmp/x\"\ngenerated = true\n",
            FileConfig::read,
        )
        .unwrap();
        assert_eq!(c.direction, Direction::Upload);
        let e = decode_hcl(
            "source = \"/a\"\ndestination = \"/tmp/x\"\ndirection = \"sideways\"\n",
            FileConfig::read,
        )
        .unwrap_err();
        assert!(e[0].contains("Direction must be one of"), "{e:?}");
    }
}
