//! Artifacts: what a builder or post-processor produced. Serialisable, because they end up in
//! `ImageBuild.status` and in manifests.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ui::{Masker, mask_json};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
}

impl Artifact {
    /// Destroys the artifact: removes its files (a missing file is not an error).
    pub fn destroy(&self) -> std::io::Result<()> {
        for f in &self.files {
            match std::fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
                    std::fs::remove_dir_all(f)?
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
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
        }
    }
}
