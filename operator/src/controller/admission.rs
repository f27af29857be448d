//! Revoked images kept out of the cluster: the operator keeps the digests of every revoked
//! build's images (by its own `spec.revoked` or inherited from a parent) in a ConfigMap,
//! the parameters of the chart's ValidatingAdmissionPolicy `kiln-revoked-images`, which
//! rejects Pods whose containers name one of them by digest (`name@sha256:<hex>`). The API
//! server enforces it with CEL, with no webhook to run: the operator being down only delays
//! the list's updates.
//!
//! The ConfigMap's keys are the digests' hex (ConfigMap keys cannot hold `:`), its values
//! `<namespace>/<build>: <reason>`, quoted by the policy's message. The chart creates it
//! (so `helm uninstall` removes it); the operator writes its `data` with server-side apply,
//! whole, when the set changes; an unrevoked build's digests leave it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kiln_crds::ImageBuild;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::Store;
use kube::{Api, Client, ResourceExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::context::FIELD_MANAGER;
use super::error::Error;
use super::metrics::Metrics;

/// Artifact builder ids whose `digest` state is an image in a registry.
const PUSHERS: [&str; 2] = [
    "packer.post-processor.docker-push",
    "kiln.post-processor.containerdisk",
];

/// Why a build is revoked, if it is (and from which build it inherited that).
fn revocation(b: &ImageBuild) -> Option<String> {
    let (reason, from) = super::build::lineage::revoked_because(b)?;
    Some(match from {
        Some(from) => format!("{reason} (inherited from {from})"),
        None => reason.to_string(),
    })
}

fn hex_of(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// The image digests of a build: the `digest` of its pushed images, and any artifact id
/// naming an image by digest.
pub fn image_digests(b: &ImageBuild) -> Vec<String> {
    let mut out = vec![];
    for src in b.status.iter().flat_map(|s| &s.sources) {
        for a in &src.artifacts {
            if PUSHERS.contains(&a.builder_id.as_str())
                && let Some(h) = a.state.get("digest").and_then(|d| hex_of(d))
            {
                out.push(h.to_string());
            }
            if let Some((_, d)) = a.id.split_once('@')
                && let Some(h) = hex_of(d)
            {
                out.push(h.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The ConfigMap's data: digest hex → `<namespace>/<build>: <reason>`.
pub fn revoked_digests(builds: &[Arc<ImageBuild>]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut sorted: Vec<&Arc<ImageBuild>> = builds.iter().collect();
    sorted.sort_by_key(|b| (b.namespace(), b.name_any()));
    for b in sorted {
        let Some(reason) = revocation(b) else {
            continue;
        };
        for h in image_digests(b) {
            out.entry(h).or_insert_with(|| {
                let text = format!(
                    "{}/{}: {reason}",
                    b.namespace().unwrap_or_default(),
                    b.name_any()
                );
                crate::contract::truncate(&text, 512)
            });
        }
    }
    out
}

/// The ConfigMap as applied: only its `data` (the chart owns the object, its labels and
/// its deletion; the operator's field manager owns the list).
pub fn configmap(namespace: &str, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }))
    .expect("a ConfigMap")
}

/// Keeps the ConfigMap in step with the build cache: after the cache is complete, and
/// again (debounced by a second) each time `changed` is notified, until `stop`.
pub async fn keep(
    client: Client,
    builds: Store<ImageBuild>,
    changed: Arc<Notify>,
    target: (String, String),
    metrics: Metrics,
    stop: CancellationToken,
) {
    let (ns, name) = target;
    tokio::select! {
        r = builds.wait_until_ready() => if r.is_err() { return },
        _ = stop.cancelled() => return,
    }
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let mut written: Option<BTreeMap<String, String>> = None;
    loop {
        let data = revoked_digests(&builds.state());
        if written.as_ref() != Some(&data) {
            let cm = configmap(&ns, &name, data.clone());
            let pp = PatchParams::apply(FIELD_MANAGER).force();
            match api.patch(&name, &pp, &Patch::Apply(&cm)).await {
                Ok(_) => {
                    tracing::info!(configmap = %name, namespace = %ns, digests = data.len(), "revoked images updated");
                    written = Some(data);
                }
                Err(source) => {
                    let e = Error::ConfigMapApply {
                        namespace: ns.clone(),
                        name: name.clone(),
                        source,
                    };
                    tracing::warn!(error = %e, "could not update the revoked images");
                    metrics.failure("admission", e.category());
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(10)) => continue,
                        _ = stop.cancelled() => return,
                    }
                }
            }
        }
        tokio::select! {
            _ = changed.notified() => {}
            _ = stop.cancelled() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::{
        Artifact, ImageBuildSpec, ImageBuildStatus, Revocation, RevocationStatus, SourceStatus,
    };

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn build(name: &str, artifacts: Vec<Artifact>) -> ImageBuild {
        let mut b = ImageBuild::new(name, ImageBuildSpec::for_template("t"));
        b.metadata.namespace = Some("ns".into());
        b.status = Some(ImageBuildStatus {
            sources: vec![SourceStatus {
                name: "docker.app".into(),
                artifacts,
                ..Default::default()
            }],
            ..Default::default()
        });
        b
    }

    fn pushed(digest: &str) -> Artifact {
        Artifact {
            builder_id: "packer.post-processor.docker-push".into(),
            id: "reg/app:1".into(),
            state: BTreeMap::from([("digest".to_string(), digest.to_string())]),
            ..Default::default()
        }
    }

    #[test]
    fn revoked_builds_images_by_digest_with_the_reason() {
        let mut own = build("app-1", vec![pushed(D1)]);
        own.spec.revoked = Some(Revocation {
            reason: "CVE-1".into(),
        });
        let mut inherited = build(
            "app-2",
            vec![Artifact {
                builder_id: "x".into(),
                id: format!("reg/other@{D2}"),
                ..Default::default()
            }],
        );
        inherited.status.as_mut().unwrap().revoked = Some(RevocationStatus {
            reason: "CVE-2".into(),
            since: None,
            inherited_from: Some("base-1".into()),
        });
        let fine = build("app-3", vec![pushed(D3)]);
        // A docker-import id (an image id, not pullable by digest) and junk are ignored.
        let mut junk = build(
            "app-4",
            vec![Artifact {
                builder_id: "packer.post-processor.docker-import".into(),
                id: D3.into(),
                state: BTreeMap::from([("digest".to_string(), "sha256:short".to_string())]),
                ..Default::default()
            }],
        );
        junk.spec.revoked = Some(Revocation { reason: "x".into() });
        let all: Vec<Arc<ImageBuild>> = [own, inherited, fine, junk]
            .into_iter()
            .map(Arc::new)
            .collect();
        let data = revoked_digests(&all);
        assert_eq!(data.len(), 2, "{data:?}");
        assert_eq!(data[&D1[7..]], "ns/app-1: CVE-1");
        assert_eq!(data[&D2[7..]], "ns/app-2: CVE-2 (inherited from base-1)");
        let cm = configmap("kiln-system", "kiln-revoked-images", data);
        assert_eq!(cm.metadata.namespace.as_deref(), Some("kiln-system"));
        assert_eq!(cm.data.unwrap().len(), 2);
    }
}
