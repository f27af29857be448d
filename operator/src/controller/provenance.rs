//! A channel's `spec.requireProvenance`: before the channel points at a build, every
//! attestation the build's `provenance` post-processors recorded must be a DSSE envelope
//! whose signature verifies with one of the channel's public keys (ed25519, ECDSA or RSA,
//! as Packer's `verify-attestation -key`), whose payload is an in-toto Statement v1 with the
//! SLSA provenance v1 predicate, whose subjects name the artifact (a file-less artifact's
//! `<builderId>:<id>` subject also has its sha256 recomputed), and whose bytes have the
//! digest recorded (the digest of what was pushed beside the image). A build with no
//! attestation at all is refused too. Pure functions; the attestations come from the
//! build's status (the runner copies each one there, up to 32 KiB).

use base64::Engine as _;
use kiln_crds::condition::reasons;
use kiln_crds::{Artifact, ImageBuild, ProvenanceRequirement};
use kiln_engine::postprocessors::provenance::{
    IN_TOTO_PAYLOAD_TYPE, SLSA_PREDICATE_TYPE, STATEMENT_TYPE, VerifyingKey,
};
use kube::ResourceExt;
use serde_json::Value as Json;
use sha2::{Digest as _, Sha256};

/// Why a build is refused: the condition reason and a message naming the artifact.
pub type Refusal = (&'static str, String);

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The sha256 of a file-less artifact's synthetic subject, as the post-processor computes
/// it (over its identity record).
fn identity_digest(a: &Artifact) -> String {
    let state = a
        .state
        .iter()
        .map(|(k, v)| {
            let j = serde_json::from_str::<Json>(v).unwrap_or_else(|_| Json::String(v.clone()));
            (k.clone(), j)
        })
        .collect();
    let engine = kiln_engine::artifact::Artifact {
        builder_id: a.builder_id.clone(),
        id: a.id.clone(),
        state,
        ..Default::default()
    };
    let record = kiln_engine::postprocessors::provenance::identity_record(&engine);
    sha256_hex(kiln_engine::postprocessors::provenance::go_json(&record).as_bytes())
}

/// Checks one artifact's attestation against the keys.
pub fn verify_artifact(source: &str, a: &Artifact, keys: &[VerifyingKey]) -> Result<(), Refusal> {
    let what = format!("the attestation of artifact {:?} (source {source})", a.id);
    let invalid = |why: String| (reasons::PROVENANCE_INVALID, format!("{what} {why}"));
    let Some(p) = &a.provenance else {
        return Err((
            reasons::PROVENANCE_MISSING,
            format!("artifact {:?} (source {source}) has no attestation", a.id),
        ));
    };
    if !p.signed {
        return Err(invalid(
            "is not signed (set signing_mode = \"key\" on the provenance post-processor)".into(),
        ));
    }
    let Some(text) = &p.attestation else {
        return Err((
            reasons::PROVENANCE_MISSING,
            format!("{what} is not in the build's status (larger than 32 KiB)"),
        ));
    };
    let got = format!("sha256:{}", sha256_hex(text.as_bytes()));
    if got != p.digest {
        return Err(invalid(format!(
            "has digest {got}, but {} was recorded (and pushed)",
            p.digest
        )));
    }
    let env: Json = serde_json::from_str(text).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    if env["payloadType"] != IN_TOTO_PAYLOAD_TYPE {
        return Err(invalid(format!(
            "has payloadType {}, not {IN_TOTO_PAYLOAD_TYPE}",
            env["payloadType"]
        )));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = env["payload"]
        .as_str()
        .and_then(|s| b64.decode(s).ok())
        .ok_or_else(|| invalid("has no base64 payload".into()))?;
    let sigs: Vec<Vec<u8>> = env["signatures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["sig"].as_str().and_then(|s| b64.decode(s).ok()))
                .collect()
        })
        .unwrap_or_default();
    if sigs.is_empty() {
        return Err(invalid("has no signature".into()));
    }
    let verified = sigs.iter().any(|sig| {
        keys.iter()
            .any(|k| k.verify(IN_TOTO_PAYLOAD_TYPE, &payload, sig).is_ok())
    });
    if !verified {
        let ids: Vec<&str> = env["signatures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["keyid"].as_str())
            .collect();
        return Err(invalid(format!(
            "is not signed by any of spec.requireProvenance.publicKeys (signed by key id {})",
            if ids.is_empty() {
                "unknown".to_string()
            } else {
                ids.join(", ")
            }
        )));
    }
    let st: Json = serde_json::from_slice(&payload)
        .map_err(|e| invalid(format!("has a payload that is not JSON: {e}")))?;
    if st["_type"] != STATEMENT_TYPE || st["predicateType"] != SLSA_PREDICATE_TYPE {
        return Err(invalid(format!(
            "is not an in-toto Statement v1 with SLSA provenance v1 (_type {}, predicateType {})",
            st["_type"], st["predicateType"]
        )));
    }
    let subjects: Vec<(&str, &str)> = st["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default(),
                s["digest"]["sha256"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let names_it = if a.files.is_empty() {
        let name = format!("{}:{}", a.builder_id, a.id);
        let digest = identity_digest(a);
        subjects.iter().any(|(n, d)| *n == name && *d == digest)
    } else {
        a.files.iter().all(|f| {
            let base = f.name.rsplit('/').next().unwrap_or(&f.name);
            subjects.iter().any(|(n, _)| *n == base)
        })
    };
    if !names_it {
        return Err(invalid(format!(
            "is about something else (subjects: {})",
            subjects
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// Whether `build` meets the channel's requirement.
pub fn verify_build(build: &ImageBuild, req: &ProvenanceRequirement) -> Result<(), Refusal> {
    let mut keys = vec![];
    for (i, pem) in req.public_keys.iter().enumerate() {
        let k = VerifyingKey::from_pem(pem).map_err(|e| {
            (
                reasons::PROVENANCE_INVALID,
                format!("spec.requireProvenance.publicKeys[{i}]: {e:#}"),
            )
        })?;
        keys.push(k);
    }
    let mut checked = 0;
    for src in build.status.iter().flat_map(|s| &s.sources) {
        for a in src.artifacts.iter().filter(|a| a.provenance.is_some()) {
            verify_artifact(&src.name, a, &keys)?;
            checked += 1;
        }
    }
    if checked == 0 {
        return Err((
            reasons::PROVENANCE_MISSING,
            format!(
                "ImageBuild {:?} has no attestation: its template must run the provenance post-processor",
                build.name_any()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::{
        ArtifactProvenance, BuildPhase, ImageBuildSpec, ImageBuildStatus, SourceStatus,
    };
    use kiln_engine::postprocessors::provenance::{Config, Inputs, sign_statement};
    use std::collections::BTreeMap;

    /// A fresh private key from openssl (`genpkey` arguments).
    fn genkey(args: &[&str]) -> String {
        let out = std::process::Command::new("openssl")
            .arg("genpkey")
            .args(args)
            .output()
            .expect("openssl (Debian package openssl)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn ed25519_pem() -> String {
        genkey(&["-algorithm", "ed25519"])
    }

    /// A real envelope of the provenance post-processor's statement for a pushed image,
    /// signed with `key`, as the status records it.
    fn attested(key_pem: &str, tamper: bool) -> (Artifact, String) {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        std::fs::write(&key, key_pem).unwrap();
        let engine = kiln_engine::artifact::Artifact {
            builder_id: "packer.post-processor.docker-push".into(),
            id: "10.96.0.50:5000/e2e/app:1".into(),
            state: [("digest".to_string(), serde_json::json!("sha256:ab"))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let c = Config {
            enabled: true,
            build_type: "https://packer.io/buildtypes/hcl2/v1".into(),
            ..Config::default()
        };
        let env = BTreeMap::new();
        let st = c
            .statement(
                &engine,
                &Inputs {
                    env: &env,
                    working_dir: None,
                    build_name: "app",
                    builder_type: "docker",
                    sensitive_vars: &[],
                },
            )
            .unwrap();
        let envelope = sign_statement(&st, &key, None).unwrap();
        let mut text = serde_json::to_string_pretty(&envelope).unwrap();
        text.push('\n');
        if tamper {
            text = text.replacen("\"payload\": \"", "\"payload\": \"e30", 1);
        }
        let pub_pem = VerifyingKey::from_pem(key_pem).unwrap().to_pem();
        let a = Artifact {
            builder_id: engine.builder_id.clone(),
            id: engine.id.clone(),
            state: BTreeMap::from([("digest".to_string(), "sha256:ab".to_string())]),
            provenance: Some(ArtifactProvenance {
                digest: format!("sha256:{}", sha256_hex(text.as_bytes())),
                media_type: "application/vnd.dsse.envelope.v1+json".into(),
                signed: true,
                attestation: Some(text),
                ..Default::default()
            }),
            ..Default::default()
        };
        (a, pub_pem)
    }

    fn build_with(a: Artifact) -> ImageBuild {
        let mut b = ImageBuild::new("app-1", ImageBuildSpec::for_template("app"));
        b.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Succeeded),
            sources: vec![SourceStatus {
                name: "docker.app".into(),
                artifacts: vec![a],
                ..Default::default()
            }],
            ..Default::default()
        });
        b
    }

    fn p256_pem() -> String {
        genkey(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
    }

    #[test]
    fn a_signed_attestation_verifies_with_the_right_key_only() {
        let ed = ed25519_pem();
        let (a, public) = attested(&ed, false);
        let good = ProvenanceRequirement {
            public_keys: vec![public.clone()],
        };
        assert_eq!(verify_build(&build_with(a.clone()), &good), Ok(()));
        // Any one of several keys will do.
        let (_, other_public) = attested(&p256_pem(), false);
        let two = ProvenanceRequirement {
            public_keys: vec![other_public.clone(), public],
        };
        assert_eq!(verify_build(&build_with(a.clone()), &two), Ok(()));
        // A wrong key: refused, naming the artifact and the key id.
        let wrong = ProvenanceRequirement {
            public_keys: vec![other_public],
        };
        let (reason, msg) = verify_build(&build_with(a.clone()), &wrong).unwrap_err();
        assert_eq!(reason, reasons::PROVENANCE_INVALID);
        assert!(msg.contains("10.96.0.50:5000/e2e/app:1"), "{msg}");
        assert!(msg.contains("not signed by any of"), "{msg}");
        // A P-256 signed one verifies with its own key.
        let (p, p_pub) = attested(&p256_pem(), false);
        let req = ProvenanceRequirement {
            public_keys: vec![p_pub],
        };
        assert_eq!(verify_build(&build_with(p), &req), Ok(()));
    }

    #[test]
    fn tampered_unsigned_missing_and_foreign_attestations_are_refused() {
        let ed = ed25519_pem();
        let (a, public) = attested(&ed, false);
        let req = ProvenanceRequirement {
            public_keys: vec![public],
        };
        // Tampered payload (digest recomputed so only the signature catches it).
        let (t, _) = attested(&ed, true);
        let (r, m) = verify_build(&build_with(t), &req).unwrap_err();
        assert_eq!(r, reasons::PROVENANCE_INVALID, "{m}");
        // Bytes that are not those recorded (and pushed).
        let mut changed = a.clone();
        changed.provenance.as_mut().unwrap().digest = "sha256:00".into();
        let (_, m) = verify_build(&build_with(changed), &req).unwrap_err();
        assert!(m.contains("was recorded"), "{m}");
        // The attestation of another artifact.
        let mut other = a.clone();
        other.id = "10.96.0.50:5000/e2e/evil:1".into();
        let (_, m) = verify_build(&build_with(other), &req).unwrap_err();
        assert!(m.contains("about something else"), "{m}");
        // Unsigned.
        let mut unsigned = a.clone();
        unsigned.provenance.as_mut().unwrap().signed = false;
        let (r, m) = verify_build(&build_with(unsigned), &req).unwrap_err();
        assert_eq!(r, reasons::PROVENANCE_INVALID);
        assert!(m.contains("not signed"), "{m}");
        // No attestation at all.
        let mut none = a;
        none.provenance = None;
        let (r, _) = verify_build(&build_with(none), &req).unwrap_err();
        assert_eq!(r, reasons::PROVENANCE_MISSING);
        // A key that is not a key.
        let bad = ProvenanceRequirement {
            public_keys: vec!["nope".into()],
        };
        let (_, m) = verify_build(&build_with(Artifact::default()), &bad).unwrap_err();
        assert!(m.contains("publicKeys[0]"), "{m}");
    }
}
