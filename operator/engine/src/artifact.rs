//! Artifacts: what a builder or post-processor produced. Serialisable, because they end up in
//! `ImageBuild.status` and in manifests.

//!
//! An artifact owns its destruction: when a post-processor chain does not keep an
//! intermediate artifact, the runner calls [`Artifact::destroy`], which removes its files by
//! default, or runs the [`Destroy`] its producer attached (a pushed image's tag deleted from
//! its registry, a VM disk, a cloud image) — so chains can destroy intermediates of any kind.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ui::{Masker, mask_json};

/// Why an artifact could not be destroyed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("removing {path}: {source}")]
    RemoveFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A producer's own destruction failed (registry, cloud API, ...).
    #[error("destroying {what}: {message}")]
    Destroy { what: String, message: String },
}

/// How a producer destroys what its artifact stands for.
#[async_trait]
pub trait Destroy: Send + Sync + std::fmt::Debug {
    async fn destroy(&self, artifact: &Artifact) -> Result<(), ArtifactError>;
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// The producing component's id, e.g. `fnoeding.null`, `packer.file`.
    pub builder_id: String,
    /// An id for the artifact, e.g. `Null`, an image digest.
    pub id: String,
    /// Files the artifact consists of.
    pub files: Vec<PathBuf>,
    /// A human description (Packer's `String()`).
    pub description: String,
    /// Extra state (Packer's `State(name)`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state: BTreeMap<String, serde_json::Value>,
    /// How to destroy it when that is more than removing its files (not serialised: an
    /// artifact read back from a status or manifest is a record, not a handle).
    #[serde(skip)]
    pub destroyer: Option<Arc<dyn Destroy>>,
}

/// Equal when every recorded field is; the destroyer is a handle, not data.
impl PartialEq for Artifact {
    fn eq(&self, other: &Artifact) -> bool {
        self.builder_id == other.builder_id
            && self.id == other.id
            && self.files == other.files
            && self.description == other.description
            && self.state == other.state
    }
}

impl Artifact {
    /// Destroys the artifact: its producer's [`Destroy`] when it attached one, else its
    /// files are removed (a missing file is not an error; a directory goes with its
    /// contents).
    pub async fn destroy(&self) -> Result<(), ArtifactError> {
        if let Some(d) = &self.destroyer {
            return d.destroy(self).await;
        }
        remove_files(&self.files).await
    }

    /// The same artifact with every string masked.
    pub fn masked(&self, m: &Masker) -> Artifact {
        if m.is_empty() {
            return self.clone();
        }
        Artifact {
            builder_id: m.mask(&self.builder_id),
            id: m.mask(&self.id),
            files: self
                .files
                .iter()
                .map(|f| PathBuf::from(m.mask(&f.to_string_lossy())))
                .collect(),
            description: m.mask(&self.description),
            state: self
                .state
                .iter()
                .map(|(k, v)| (k.clone(), mask_json(v, m)))
                .collect(),
            destroyer: self.destroyer.clone(),
        }
    }
}

/// Removes files and directories; missing ones are not an error.
pub async fn remove_files(files: &[PathBuf]) -> Result<(), ArtifactError> {
    for f in files {
        let r = match tokio::fs::symlink_metadata(f).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Ok(m) if m.is_dir() => tokio::fs::remove_dir_all(f).await,
            _ => tokio::fs::remove_file(f).await,
        };
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ArtifactError::RemoveFile {
                    path: f.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    #[async_trait]
    impl Destroy for Counting {
        async fn destroy(&self, _artifact: &Artifact) -> Result<(), ArtifactError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn files_are_removed_unless_the_producer_destroys() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("a.img");
        let dir = d.path().join("out");
        std::fs::write(&file, "x").unwrap();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let a = Artifact {
            files: vec![file.clone(), dir.clone(), d.path().join("missing")],
            ..Artifact::default()
        };
        a.destroy().await.unwrap();
        assert!(!file.exists() && !dir.exists());

        std::fs::write(&file, "x").unwrap();
        let counting = Arc::new(Counting::default());
        let b = Artifact {
            files: vec![file.clone()],
            destroyer: Some(counting.clone()),
            ..Artifact::default()
        };
        b.destroy().await.unwrap();
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        assert!(file.exists(), "the producer's destroyer decides what goes");
        assert_eq!(
            b,
            Artifact {
                destroyer: None,
                ..b.clone()
            }
        );
    }
}
