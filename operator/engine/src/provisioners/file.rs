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
        let direction = match r.string("direction").as_deref() {
            None | Some("") | Some("upload") => Direction::Upload,
            Some("download") => Direction::Download,
            Some(_) => {
                r.error_at(
                    "direction",
                    "Invalid direction",
                    "Direction must be one of: download, upload.",
                );
                Direction::Upload
            }
        };
        if source.is_some() && !sources.is_empty() {
            r.error(
                "Invalid file config",
                "Only one of source or sources can be specified.",
            );
        }
        if let Some(s) = source {
            sources.push(s);
        }
        if direction == Direction::Upload && !generated {
            for s in &sources {
                if let Err(e) = std::fs::metadata(s) {
                    r.error("Invalid source", format!("Bad source '{s}': {e}"));
                }
            }
        }
        if sources.is_empty() && content.is_none() {
            r.error("Missing source", "Source must be specified.");
        }
        if content.is_some() && !sources.is_empty() {
            r.error(
                "Invalid file config",
                "Cannot specify both source and content",
            );
        }
        if content.is_some() && direction == Direction::Download {
            r.error(
                "Invalid file config",
                "content can only be used with direction = \"upload\".",
            );
        }
        if destination.is_empty() {
            r.error("Missing destination", "Destination must be specified.");
        } else if sources.len() > 1 && !destination.ends_with('/') {
            r.error(
                "Invalid destination",
                "Destination must be a directory (end with \"/\") when using multiple sources.",
            );
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

    async fn upload(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        let comm = ctx.comm;
        if let Some(content) = &self.config.content {
            let dst = &self.config.destination;
            ctx.ui.say(format!("Uploading content => {dst}"));
            let mut r = content.as_bytes();
            return comm
                .upload(dst, &mut r, 0o644)
                .await
                .map_err(|e| transfer_error(ctx.ui, "Upload", e));
        }
        for src in &self.config.sources {
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
            use std::os::unix::fs::PermissionsExt;
            let mode = md.permissions().mode() & 0o7777;
            let mut f = tokio::fs::File::open(src)
                .await
                .map_err(|e| ProvisionError::local(format!("Error opening {src}"), e))?;
            comm.upload(&dst, &mut f, mode)
                .await
                .map_err(|e| transfer_error(ctx.ui, "Upload", e))?;
        }
        Ok(())
    }

    async fn download(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        let comm = ctx.comm;
        for src in &self.config.sources {
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
        match self.config.direction {
            Direction::Upload => self.upload(ctx).await,
            Direction::Download => self.download(ctx).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn validation() {
        let e = decode_hcl("destination = \"/tmp/x\"\n", FileConfig::read).unwrap_err();
        assert!(e[0].contains("Source must be specified"), "{e:?}");
        let e = decode_hcl("content = \"x\"\n", FileConfig::read).unwrap_err();
        assert!(e[0].contains("Destination must be specified"), "{e:?}");
        let e = decode_hcl(
            "source = \"/nonexistent-kiln\"\ndestination = \"/tmp/x\"\n",
            FileConfig::read,
        )
        .unwrap_err();
        assert!(e[0].contains("Bad source '/nonexistent-kiln'"), "{e:?}");
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
