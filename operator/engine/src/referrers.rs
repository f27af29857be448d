//! A build's documents (attestations, SBOMs) stored beside the images it pushed, as OCI
//! referrers (`kiln_oci::referrers`): the `provenance` post-processor attaches its
//! attestation, and a cluster build attaches the SBOMs its `hcp-sbom` provisioners fetched
//! (HCP Packer's registry keeps them with the build; Kiln's registry lives in the cluster, so
//! they go where the build's images are). A registry that refuses one is reported, never
//! fatal: the image is there already.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::artifact::Artifact;
use crate::components::{Sbom, SbomReferrer};
use crate::ui::Ui;

/// The annotation naming an SBOM's `sbom_name` on its referrer manifest.
pub const SBOM_NAME_ANNOTATION: &str = "dev.kiln.sbom.name";

/// A document to attach: stored as the one layer of an artifact manifest.
pub struct Referrer {
    pub artifact_type: String,
    pub media_type: String,
    pub data: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

/// Where a document was attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The referrer manifest's digest.
    pub manifest_digest: String,
    /// The referrers tag updated (registries without the referrers API).
    pub referrers_tag: Option<String>,
}

/// The image an artifact is in a registry as (`registry/repository`, manifest digest): the
/// artifact of `docker-push`, or of `containerdisk` once pushed.
pub fn pushed_image(a: &Artifact) -> Option<(String, String)> {
    const PUSHERS: [&str; 2] = [
        "packer.post-processor.docker-push",
        "kiln.post-processor.containerdisk",
    ];
    if !PUSHERS.contains(&a.builder_id.as_str()) {
        return None;
    }
    let digest = a.state.get("digest")?.as_str()?;
    if !digest.starts_with("sha256:") {
        return None;
    }
    let name = a.id.split('@').next().unwrap_or_default();
    // Drop a tag (a colon after the last slash), keep a registry port.
    let repo = match name.rfind(':') {
        Some(i) if i > name.rfind('/').unwrap_or(0) => &name[..i],
        _ => name,
    };
    (!repo.is_empty()).then(|| (repo.to_string(), digest.to_string()))
}

/// Stores `doc` in `repo` as a referrer of the manifest `digest`, with the credentials of the
/// run's docker config files.
#[cfg(feature = "docker")]
pub async fn attach(
    docker_configs: Vec<PathBuf>,
    repo: &str,
    digest: &str,
    doc: Referrer,
) -> anyhow::Result<Attached> {
    let (repo, digest) = (repo.to_string(), digest.to_string());
    tokio::task::spawn_blocking(move || -> anyhow::Result<Attached> {
        let r = kiln_oci::Reference::parse(&repo)?;
        let creds = crate::builders::docker::credentials(None, &docker_configs)?;
        let client = kiln_oci::registry::Client::new(kiln_oci::registry::ClientOptions {
            credentials: creds,
            ..Default::default()
        })?;
        let subject = kiln_oci::Digest::parse(&digest)?;
        let p = client.push_referrer(
            &r,
            &subject,
            &doc.artifact_type,
            &doc.media_type,
            &doc.data,
            &doc.annotations,
        )?;
        Ok(Attached {
            manifest_digest: p.manifest_digest.to_string(),
            referrers_tag: p.referrers_tag,
        })
    })
    .await?
}

#[cfg(not(feature = "docker"))]
pub async fn attach(
    _docker_configs: Vec<PathBuf>,
    _repo: &str,
    _digest: &str,
    _doc: Referrer,
) -> anyhow::Result<Attached> {
    anyhow::bail!("this Kiln is built without registry support")
}

/// Attaches every SBOM to every image among `artifacts` that was pushed (once per image),
/// recording each referrer in its SBOM, and saying so in the build's output.
pub async fn attach_sboms(
    artifacts: &[Artifact],
    sboms: &mut [Sbom],
    docker_configs: &[PathBuf],
    ui: &Ui,
) {
    let mut images: Vec<(String, String)> = Vec::new();
    for i in artifacts.iter().filter_map(pushed_image) {
        if !images.contains(&i) {
            images.push(i);
        }
    }
    for (repo, digest) in &images {
        for (n, sbom) in sboms.iter_mut().enumerate() {
            let what = if sbom.name.is_empty() {
                format!("SBOM #{} ({})", n + 1, sbom.format.as_str())
            } else {
                format!("SBOM {:?} ({})", sbom.name, sbom.format.as_str())
            };
            let doc = Referrer {
                artifact_type: sbom.format.media_type().into(),
                media_type: sbom.format.media_type().into(),
                data: sbom.data.clone(),
                annotations: (!sbom.name.is_empty())
                    .then(|| (SBOM_NAME_ANNOTATION.to_string(), sbom.name.clone()))
                    .into_iter()
                    .collect(),
            };
            match attach(docker_configs.to_vec(), repo, digest, doc).await {
                Ok(p) => {
                    ui.say(format!(
                        "Attached {what} to {repo}@{digest} as referrer {}{}",
                        p.manifest_digest,
                        p.referrers_tag
                            .as_deref()
                            .map(|t| format!(" (referrers tag {t})"))
                            .unwrap_or_default()
                    ));
                    sbom.referrers.push(SbomReferrer {
                        subject: format!("{repo}@{digest}"),
                        referrer: p.manifest_digest,
                        referrers_tag: p.referrers_tag,
                    });
                }
                Err(e) => ui.error(format!("could not attach {what} to {repo}@{digest}: {e:#}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pushed_images_are_found_by_builder_and_digest() {
        let a = |builder: &str, id: &str, digest: Option<&str>| Artifact {
            builder_id: builder.into(),
            id: id.into(),
            state: digest
                .map(|d| ("digest".to_string(), json!(d)))
                .into_iter()
                .collect(),
            ..Artifact::default()
        };
        assert_eq!(
            pushed_image(&a(
                "packer.post-processor.docker-push",
                "10.96.0.50:5000/e2e/app:1",
                Some("sha256:ab")
            )),
            Some(("10.96.0.50:5000/e2e/app".into(), "sha256:ab".into()))
        );
        assert_eq!(
            pushed_image(&a(
                "kiln.post-processor.containerdisk",
                "localhost:5000/disk",
                Some("sha256:cd")
            )),
            Some(("localhost:5000/disk".into(), "sha256:cd".into()))
        );
        // Not pushed (containerdisk without push), or not an image.
        assert_eq!(
            pushed_image(&a(
                "kiln.post-processor.containerdisk",
                "localhost:5000/disk",
                None
            )),
            None
        );
        assert_eq!(
            pushed_image(&a("packer.file", "x:1", Some("sha256:ab"))),
            None
        );
    }
}
