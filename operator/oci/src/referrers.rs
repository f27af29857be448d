//! OCI referrers: an artifact (an attestation, an SBOM, a signature) stored in an image's
//! repository as a manifest whose `subject` is the image's manifest (OCI image spec 1.1,
//! distribution spec 1.1).
//!
//! [`Client::push_referrer`] uploads the artifact's blob and the empty config, then puts an
//! OCI image manifest with `artifactType`, the blob as its only layer and the `subject`
//! descriptor. A registry that implements the referrers API answers with an `OCI-Subject`
//! header and indexes the referrer itself; one that does not (Debian's `docker-registry`,
//! distribution 2.8, among them) gets the **referrers tag schema** the spec defines as the
//! fallback: the tag `sha256-<hex of the subject digest>` holds an OCI index listing the
//! referrers, read, extended and put back. Two clients updating the same tag at the same
//! moment can lose one entry (the schema has no compare-and-swap); the referrer manifest
//! itself stays in the repository either way.
//!
//! [`Client::referrers`] lists them the same two ways: `GET /v2/<name>/referrers/<digest>`,
//! and the tag when that answers 404.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::{Body, Client, Ctx, is_success};
use crate::store::{MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST};
use crate::{Digest, Error, Reference, Result};

/// The media type of the empty config of an artifact manifest (`{}`).
pub const MEDIA_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The artifact type of an in-toto attestation.
pub const ARTIFACT_IN_TOTO: &str = "application/vnd.in-toto+json";
/// The media type of a DSSE envelope.
pub const MEDIA_DSSE: &str = "application/vnd.dsse.envelope.v1+json";

/// A descriptor as referrers are listed: with their `artifactType` and annotations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerDescriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferrerIndex {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<ReferrerDescriptor>,
}

/// What [`Client::push_referrer`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferrerPushed {
    /// The digest of the referrer manifest.
    pub manifest_digest: Digest,
    /// The digest of the artifact blob (its only layer).
    pub blob_digest: Digest,
    /// The referrers tag updated (`sha256-<hex>`), when the registry has no referrers API.
    pub referrers_tag: Option<String>,
}

/// The fallback tag of the referrers of `subject`: `sha256-<hex>`.
pub fn referrers_tag(subject: &Digest) -> String {
    subject.as_str().replacen(':', "-", 1)
}

impl Client {
    /// Uploads `data` as a blob of `r`'s repository (skipped when it is there already).
    pub fn push_blob_bytes(&self, r: &Reference, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        let scopes = vec![format!("repository:{}:pull,push", r.repository)];
        if self.blob_exists(r, &d, &scopes)? {
            return Ok(d);
        }
        let ctx = Ctx::of(r, format!("start upload of blob {d}"));
        let resp = ctx.accept(
            self.send(
                &ctx,
                "POST",
                &self.url(r, "blobs/uploads/"),
                &[],
                &scopes,
                Body::Empty,
            )?,
            |st| st == 202,
        )?;
        self.finish_upload(r, &ctx, &resp, &d, &scopes, Body::Bytes(data.to_vec()))?;
        Ok(d)
    }

    /// Reads a blob of `r`'s repository into memory (at most `limit` bytes), checking its
    /// digest.
    pub fn read_blob(&self, r: &Reference, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let ctx = Ctx::of(r, format!("get blob {digest}"));
        let resp = ctx.accept(
            self.send(
                &ctx,
                "GET",
                &self.url(r, &format!("blobs/{digest}")),
                &[],
                &[format!("repository:{}:pull", r.repository)],
                Body::Empty,
            )?,
            is_success,
        )?;
        let bytes = resp
            .into_body()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| ctx.transport(e))?;
        let got = Digest::of(&bytes);
        if &got != digest {
            return Err(Error::DigestMismatch {
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                what: format!("blob {digest}"),
                expected: digest.to_string(),
                actual: got.to_string(),
            });
        }
        Ok(bytes)
    }

    fn put_manifest(
        &self,
        r: &Reference,
        reference: &str,
        media_type: &str,
        body: Vec<u8>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let ctx = Ctx::of(r, format!("put manifest {reference}"));
        ctx.accept(
            self.send(
                &ctx,
                "PUT",
                &self.url(r, &format!("manifests/{reference}")),
                &[("Content-Type", media_type.to_string())],
                &[format!("repository:{}:pull,push", r.repository)],
                Body::Bytes(body),
            )?,
            |st| st == 201,
        )
    }

    /// Stores `data` (of media type `media_type`) in `r`'s repository as an artifact of
    /// type `artifact_type` referring to the manifest `subject` of that repository.
    pub fn push_referrer(
        &self,
        r: &Reference,
        subject: &Digest,
        artifact_type: &str,
        media_type: &str,
        data: &[u8],
        annotations: &BTreeMap<String, String>,
    ) -> Result<ReferrerPushed> {
        let (subject_bytes, subject_type, _) = self.get_manifest(r, subject.as_str())?;
        let empty = self.push_blob_bytes(r, b"{}")?;
        let blob = self.push_blob_bytes(r, data)?;
        let mut manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": MEDIA_EMPTY, "digest": empty.as_str(), "size": 2, "data": "e30="},
            "layers": [{"mediaType": media_type, "digest": blob.as_str(), "size": data.len()}],
            "subject": {"mediaType": subject_type, "digest": subject.as_str(), "size": subject_bytes.len()},
        });
        if !annotations.is_empty() {
            manifest["annotations"] = serde_json::json!(annotations);
        }
        let bytes = serde_json::to_vec(&manifest).expect("a manifest serializes");
        let digest = Digest::of(&bytes);
        let size = bytes.len() as u64;
        let resp = self.put_manifest(r, digest.as_str(), MEDIA_OCI_MANIFEST, bytes)?;
        let indexed = resp
            .headers()
            .get("oci-subject")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == subject.as_str());
        if indexed {
            return Ok(ReferrerPushed {
                manifest_digest: digest,
                blob_digest: blob,
                referrers_tag: None,
            });
        }
        // The referrers tag schema: read the index under the tag, add this one, put it back.
        let tag = referrers_tag(subject);
        let mut index = self.tag_index(r, &tag)?.unwrap_or(ReferrerIndex {
            schema_version: 2,
            media_type: Some(MEDIA_OCI_INDEX.into()),
            manifests: vec![],
        });
        if !index.manifests.iter().any(|m| m.digest == digest.as_str()) {
            index.manifests.push(ReferrerDescriptor {
                media_type: MEDIA_OCI_MANIFEST.into(),
                digest: digest.to_string(),
                size,
                artifact_type: Some(artifact_type.into()),
                annotations: annotations.clone(),
            });
        }
        index.media_type = Some(MEDIA_OCI_INDEX.into());
        let body = serde_json::to_vec(&index).expect("an index serializes");
        self.put_manifest(r, &tag, MEDIA_OCI_INDEX, body)?;
        Ok(ReferrerPushed {
            manifest_digest: digest,
            blob_digest: blob,
            referrers_tag: Some(tag),
        })
    }

    /// The index under a referrers tag, None when the tag does not exist.
    fn tag_index(&self, r: &Reference, tag: &str) -> Result<Option<ReferrerIndex>> {
        match self.get_manifest(r, tag) {
            Ok((bytes, mt, _)) => {
                if mt != MEDIA_OCI_INDEX {
                    return Err(Error::Invalid(format!(
                        "registry {}, repository {}: the referrers tag {tag} holds a {mt}, not an OCI index",
                        r.registry, r.repository
                    )));
                }
                serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                    Error::Invalid(format!(
                        "registry {}, repository {}: the referrers tag {tag} is not a valid index: {e}",
                        r.registry, r.repository
                    ))
                })
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The referrers of the manifest `subject` in `r`'s repository, of `artifact_type`
    /// when given: from the referrers API, else from the referrers tag.
    pub fn referrers(
        &self,
        r: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<ReferrerDescriptor>> {
        let ctx = Ctx::of(r, format!("list referrers of {subject}"));
        let mut url = self.url(r, &format!("referrers/{subject}"));
        if let Some(t) = artifact_type {
            url.push_str(&format!("?artifactType={}", t.replace('+', "%2B")));
        }
        let resp = self.send(
            &ctx,
            "GET",
            &url,
            &[("Accept", MEDIA_OCI_INDEX.into())],
            &[format!("repository:{}:pull", r.repository)],
            Body::Empty,
        )?;
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let list = if is_success(status) && ct.starts_with(MEDIA_OCI_INDEX) {
            let bytes = resp
                .into_body()
                .with_config()
                .limit(4 << 20)
                .read_to_vec()
                .map_err(|e| ctx.transport(e))?;
            let idx: ReferrerIndex = serde_json::from_slice(&bytes)
                .map_err(|e| ctx.transport(format!("referrers answer is not an index: {e}")))?;
            idx.manifests
        } else if status == 404 || is_success(status) {
            // No referrers API (a 404, or a 200 that is not an index): the tag schema.
            drop(resp);
            self.tag_index(r, &referrers_tag(subject))?
                .map(|i| i.manifests)
                .unwrap_or_default()
        } else {
            return Err(ctx.status(status, crate::registry::read_error_body(resp)));
        };
        Ok(list
            .into_iter()
            .filter(|d| artifact_type.is_none() || d.artifact_type.as_deref() == artifact_type)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_tag_names_the_subject() {
        let d = Digest::of(b"x");
        let t = referrers_tag(&d);
        assert!(t.starts_with("sha256-"), "{t}");
        assert_eq!(&t[7..], &d.as_str()[7..]);
    }
}
