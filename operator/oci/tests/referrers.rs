//! OCI referrers against Debian's docker-registry (distribution 2.8, no referrers API): an
//! attestation pushed beside an image lands under the referrers tag `sha256-<hex>`, a second
//! one is added to the same index, both are listed back with their artifact type and the
//! blob reads back byte for byte; skopeo sees the tag as an OCI index; errors name the
//! registry, the repository and the status.

mod common;

use std::collections::BTreeMap;

use common::{Mode, Registry};
use kiln_oci::referrers::{ARTIFACT_IN_TOTO, MEDIA_DSSE, referrers_tag};
use kiln_oci::registry::Client;
use kiln_oci::store::Store;
use kiln_oci::{Digest, Reference};

fn push_image(reg: &Registry, client: &Client, repo: &str) -> Digest {
    let work = tempfile::tempdir().unwrap();
    let store = Store::open(work.path().join("store")).unwrap();
    common::make_base(&store, "base");
    let dest = Reference::parse(&format!("{}/{repo}:1", reg.host())).unwrap();
    client.push(&store, "base", &dest).unwrap().manifest_digest
}

#[test]
fn attestations_are_stored_as_referrers_under_the_fallback_tag() {
    for mode in [Mode::Plain, Mode::Basic] {
        let reg = Registry::start(mode);
        let client = Client::new(reg.client_options()).unwrap();
        let subject = push_image(&reg, &client, "e2e/app");
        let repo = Reference::parse(&format!("{}/e2e/app", reg.host())).unwrap();

        // Nothing refers to the image yet.
        assert!(client.referrers(&repo, &subject, None).unwrap().is_empty());

        let envelope =
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
        let ann = BTreeMap::from([(
            "org.opencontainers.image.created".to_string(),
            "2026-01-01T00:00:00Z".to_string(),
        )]);
        let first = client
            .push_referrer(
                &repo,
                &subject,
                ARTIFACT_IN_TOTO,
                MEDIA_DSSE,
                envelope,
                &ann,
            )
            .unwrap();
        // distribution 2.8 does not index referrers: the tag schema was used.
        assert_eq!(
            first.referrers_tag.as_deref(),
            Some(referrers_tag(&subject).as_str())
        );
        assert_eq!(first.blob_digest, Digest::of(envelope));

        // The referrer manifest names the image as its subject.
        let (bytes, mt, d) = client
            .get_manifest(&repo, first.manifest_digest.as_str())
            .unwrap();
        assert_eq!(d, first.manifest_digest);
        assert_eq!(mt, "application/vnd.oci.image.manifest.v1+json");
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["artifactType"], ARTIFACT_IN_TOTO);
        assert_eq!(m["subject"]["digest"], subject.as_str());
        assert_eq!(m["layers"][0]["mediaType"], MEDIA_DSSE);
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );

        // A second attestation joins the same index; pushing the first again adds nothing.
        let other = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let second = client
            .push_referrer(
                &repo,
                &subject,
                ARTIFACT_IN_TOTO,
                ARTIFACT_IN_TOTO,
                other,
                &BTreeMap::new(),
            )
            .unwrap();
        client
            .push_referrer(
                &repo,
                &subject,
                ARTIFACT_IN_TOTO,
                MEDIA_DSSE,
                envelope,
                &ann,
            )
            .unwrap();
        let list = client
            .referrers(&repo, &subject, Some(ARTIFACT_IN_TOTO))
            .unwrap();
        let digests: Vec<&str> = list.iter().map(|d| d.digest.as_str()).collect();
        assert_eq!(
            digests,
            [
                first.manifest_digest.as_str(),
                second.manifest_digest.as_str()
            ]
        );
        assert_eq!(list[0].annotations, ann);
        assert!(
            client
                .referrers(&repo, &subject, Some("application/spdx+json"))
                .unwrap()
                .is_empty()
        );

        // The blob reads back as pushed.
        let back = client
            .read_blob(&repo, &first.blob_digest, 1 << 20)
            .unwrap();
        assert_eq!(back, envelope);

        // skopeo (another client) sees the tag as an OCI index of the referrers.
        if mode == Mode::Plain {
            let raw = common::skopeo(&[
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!(
                    "docker://{}/e2e/app:{}",
                    reg.host(),
                    referrers_tag(&subject)
                ),
            ]);
            let idx: serde_json::Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(idx["mediaType"], "application/vnd.oci.image.index.v1+json");
            assert_eq!(idx["manifests"].as_array().unwrap().len(), 2, "{raw}");
        }
    }
}

#[test]
fn a_missing_subject_is_an_error_naming_registry_repository_and_status() {
    let reg = Registry::start(Mode::Plain);
    let client = Client::new(reg.client_options()).unwrap();
    let repo = Reference::parse(&format!("{}/e2e/none", reg.host())).unwrap();
    let missing = Digest::of(b"no such manifest");
    let err = client
        .push_referrer(
            &repo,
            &missing,
            ARTIFACT_IN_TOTO,
            MEDIA_DSSE,
            b"{}",
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("registry {}", reg.host())), "{err}");
    assert!(err.contains("repository e2e/none"), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
}
