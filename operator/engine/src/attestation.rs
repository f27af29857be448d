//! `verify-attestation`: Packer 1.16's `internal/attestation.VerifyAttestationFile` — a DSSE
//! envelope (read as Go's `encoding/json` reads it into Packer's types, in its words), its
//! signature checked with a PEM verifier or key (Go's `x509` parsers: PKIX public keys,
//! certificates, PKCS#8, PKCS#1 and SEC1 private keys; ed25519, ECDSA P-256/P-384/P-521 and
//! RSA PKCS#1 v1.5 signatures), then the policy (statement type, predicate type, artifact
//! subject, SLSA builder id and source URI). Keyless (Sigstore) attestations are verified
//! against a trusted root given with `-trusted-root-path`, with or without a Sigstore bundle
//! carrying Rekor v1 entries and RFC 3161 timestamps ([`keyless`]); Sigstore's public
//! trusted root (fetched over TUF), Rekor v2 entries and KMS keys need what Kiln does not
//! reach or have: refused with the reason, after Packer's own checks.

use std::path::Path;

mod keyless;

/// Go's `ecdsa.VerifyASN1` of a digest, per curve.
mod ecdsa_prehash {
    pub fn p256(k: &p256::ecdsa::VerifyingKey, d: &[u8], sig: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(d, &s).is_ok())
    }
    pub fn p384(k: &p384::ecdsa::VerifyingKey, d: &[u8], sig: &[u8]) -> bool {
        use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
        p384::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(d, &s).is_ok())
    }
    pub fn p521(k: &p521::ecdsa::VerifyingKey, d: &[u8], sig: &[u8]) -> bool {
        use p521::ecdsa::signature::hazmat::PrehashVerifier as _;
        p521::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(d, &s).is_ok())
    }
}

use crate::value::go_quote;
use kiln_hcl::functions::gojson;
use kiln_hcl::template::go_errno;
use serde_json::Value as Json;
use sha2::Digest as _;

use crate::postprocessors::provenance::{IN_TOTO_PAYLOAD_TYPE, pae};

const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// The command's flags (Packer's `VerifyAttestationArgs`).
#[derive(Debug, Default, Clone)]
pub struct Args {
    pub attestation: String,
    pub signing_mode: String,
    pub key: String,
    pub verifier: String,
    pub predicate_type: String,
    pub builder_id: String,
    pub source_uri: String,
    pub artifact: String,
    pub trusted_root: String,
    pub keyless_identity: String,
    pub keyless_oidc_issuer: String,
    pub bundle: String,
    pub require_rekor: bool,
    pub require_timestamp: bool,
}

/// Why Kiln stops where Packer would reach Sigstore's or a KMS's services.
const NO_KMS: &str =
    "Kiln cannot verify with a KMS or Vault key: give the key's public PEM with -verifier";

/// Verifies the attestation as Packer does; `Err`: Packer's error text.
pub fn verify(a: &Args) -> Result<(), String> {
    let path = &a.attestation;
    let q = go_quote(path);
    let contents = std::fs::read(path)
        .map_err(|e| format!("read attestation {q}: open {path}: {}", go_errno(&e)))?;
    let text = String::from_utf8_lossy(&contents);
    let envelope = go_unmarshal(&text, &envelope_type())
        .map_err(|e| format!("decode attestation envelope {q}: {e}"))?;
    let field = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let payload_type = field(&envelope, "payloadType");
    if payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(format!(
            "attestation {q} has unexpected payloadType {} (want {})",
            go_quote(&payload_type),
            go_quote(IN_TOTO_PAYLOAD_TYPE)
        ));
    }
    let signatures: Vec<Json> = envelope
        .get("signatures")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let has_cert = signatures
        .iter()
        .any(|s| !field(s, "cert").trim().is_empty());
    // verifyEnvelopeSignature
    let bundle_evidence = |path: &str, loaded: Option<keyless::Bundle>| {
        keyless::verify_bundle(
            a,
            path,
            loaded,
            &payload_type,
            &field(&envelope, "payload"),
            &signatures,
        )
    };
    if a.require_rekor || a.require_timestamp {
        if a.bundle.trim().is_empty() {
            return Err("bundle-based Rekor or timestamp verification requires -bundle".into());
        }
        if mode(a, has_cert) != "keyless" && !has_cert {
            return Err(
                "bundle-based Rekor or timestamp verification currently requires a keyless attestation".into(),
            );
        }
        if a.keyless_identity.trim().is_empty() || a.keyless_oidc_issuer.trim().is_empty() {
            return Err("bundle-based Rekor or timestamp verification requires keyless_identity and keyless_oidc_issuer".into());
        }
        bundle_evidence(&a.bundle, None)?;
        return verify_payload_policy(&envelope, a);
    }
    // a keyless envelope with its Sigstore bundle beside it (`X.sigstore.json`)
    if has_cert {
        let bundle = if !a.bundle.trim().is_empty() {
            a.bundle.trim().to_string()
        } else {
            match path.strip_suffix(".json") {
                Some(stem) => format!("{stem}.sigstore.json"),
                None => format!("{path}.sigstore.json"),
            }
        };
        if let Some(loaded) = keyless::anchoring_bundle(&bundle) {
            if a.keyless_identity.trim().is_empty() || a.keyless_oidc_issuer.trim().is_empty() {
                return Err("bundle-based Rekor or timestamp verification requires keyless_identity and keyless_oidc_issuer".into());
            }
            bundle_evidence(&bundle, Some(loaded))?;
            return verify_payload_policy(&envelope, a);
        }
    }
    let m = mode(a, has_cert);
    let key = if !a.verifier.is_empty() {
        if m == "keyless" || has_cert {
            return Err("verifier overrides are not supported for keyless attestations; verify with keyless_identity and keyless_oidc_issuer instead".into());
        }
        Verifier::Key(VerifyingKey::load(&a.verifier)?)
    } else {
        match m {
            "key" if a.key.is_empty() => {
                return Err(
                    "attestation verification for signing_mode \"key\" requires verifier or key"
                        .into(),
                );
            }
            "key" => Verifier::Key(VerifyingKey::load(&a.key)?),
            "kms" if a.key.is_empty() => {
                return Err(
                    "attestation verification for signing_mode \"kms\" requires key or verifier"
                        .into(),
                );
            }
            // the mode detected from a KMS URI is not the flag's: Packer's NewSigner then
            // looks up the flag's (empty) mode
            "kms" if a.signing_mode.is_empty() => {
                return Err("signing_mode \"\" is not implemented".into());
            }
            // sigstore's kms.Get: a reference without a scheme names no provider
            "kms" if !a.key.contains("://") => {
                return Err(format!(
                    "initialize KMS signer {}: no kms provider found for key reference: {k}: parsing input key resource id: expected format: [plugin name]://[key ref], got: {k}",
                    go_quote(&a.key),
                    k = a.key
                ));
            }
            "kms" => return Err(NO_KMS.into()),
            "keyless" => Verifier::Keyless(Box::new(keyless_verifier(a, &signatures)?)),
            _ => {
                return Err("unable to determine attestation signing mode; set signing_mode or verifier explicitly".into());
            }
        }
    };
    // VerifyEnvelope
    let wrap = |e: &str| format!("verify attestation envelope {q}: {e}");
    if signatures.is_empty() {
        return Err(wrap("envelope has no signatures"));
    }
    let payload = go_base64(&field(&envelope, "payload"))
        .map_err(|e| wrap(&format!("decode envelope payload: {e}")))?;
    let mut verified = false;
    for s in &signatures {
        let sig = go_base64(&field(s, "sig"))
            .map_err(|e| wrap(&format!("decode envelope signature: {e}")))?;
        let ok = match &key {
            Verifier::Key(k) => k.verify(&payload_type, &payload, &sig).is_ok(),
            Verifier::Keyless(k) => k.verify(&payload_type, &payload, &sig),
        };
        if ok {
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(wrap("signature verification failed"));
    }
    verify_policy(&String::from_utf8_lossy(&payload), a)
}

/// `DecodeEnvelopePayload` then `verifyPolicy` (after the signature was verified elsewhere).
fn verify_payload_policy(envelope: &Json, a: &Args) -> Result<(), String> {
    let payload = envelope.get("payload").and_then(Json::as_str).unwrap_or("");
    let payload = go_base64(payload).map_err(|e| format!("decode envelope payload: {e}"))?;
    verify_policy(&String::from_utf8_lossy(&payload), a)
}

/// A verifier of the envelope's signatures: a PEM key, or a keyless certificate.
enum Verifier {
    Key(VerifyingKey),
    Keyless(Box<keyless::Verifier>),
}

/// `newKeylessVerifierForEnvelope`: the first signature's certificate, the identity flags,
/// the trusted root, the certificate's key.
fn keyless_verifier(a: &Args, signatures: &[Json]) -> Result<keyless::Verifier, String> {
    let cert = signatures
        .iter()
        .filter_map(|s| s.get("cert").and_then(Json::as_str))
        .find(|c| !c.trim().is_empty());
    let Some(cert) = cert else {
        return Err("keyless attestation does not contain a signing certificate".into());
    };
    let Some(der) = pem_decode(cert.as_bytes()) else {
        return Err("decode keyless certificate: no PEM block found".into());
    };
    let Some(key) = parse_certificate(&der) else {
        return Err("parse keyless certificate: x509: malformed certificate".into());
    };
    if a.keyless_identity.trim().is_empty() || a.keyless_oidc_issuer.trim().is_empty() {
        return Err("signing_mode \"keyless\" requires keyless_identity and keyless_oidc_issuer unless verifier is explicitly configured".into());
    }
    if a.trusted_root.trim().is_empty() {
        return Err(format!(
            "load keyless trusted root: {}",
            keyless::NO_PUBLIC_ROOT
        ));
    }
    keyless::Verifier::new(
        &der,
        key,
        a.trusted_root.trim(),
        &a.keyless_identity,
        &a.keyless_oidc_issuer,
    )
}

/// `normalizeVerificationMode`.
fn mode(a: &Args, has_cert: bool) -> &str {
    if !a.signing_mode.is_empty() {
        return &a.signing_mode;
    }
    if has_cert {
        return "keyless";
    }
    if ["awskms://", "gcpkms://", "azurekms://", "hashivault://"]
        .iter()
        .any(|p| a.key.starts_with(p))
    {
        return "kms";
    }
    if !a.key.is_empty() || !a.verifier.is_empty() {
        return "key";
    }
    ""
}

/// `verifyPolicy`: the statement decoded into Packer's types, then each check asked for.
fn verify_policy(payload: &str, a: &Args) -> Result<(), String> {
    let st = go_unmarshal(payload, &statement_type(false))
        .map_err(|e| format!("decode attestation statement: {e}"))?;
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let ty = s(&st, "_type");
    if ty != STATEMENT_TYPE {
        return Err(format!(
            "unexpected attestation statement type {}",
            go_quote(&ty)
        ));
    }
    let predicate_type = s(&st, "predicateType");
    if !a.predicate_type.is_empty() && predicate_type != a.predicate_type {
        return Err(format!(
            "attestation predicate type {} does not match expected {}",
            go_quote(&predicate_type),
            go_quote(&a.predicate_type)
        ));
    }
    if !a.artifact.is_empty() {
        let p = &a.artifact;
        let digest = std::fs::read(p)
            .map(|b| hex(&sha2::Sha256::digest(&b)))
            .map_err(|e| {
                format!(
                    "hash artifact {}: {}",
                    go_quote(p),
                    go_file_error("open", p, &e)
                )
            })?;
        let name = Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.clone());
        let matched = st
            .get("subject")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .any(|sub| {
                s(sub, "name") == name
                    && sub
                        .get("digest")
                        .and_then(|d| d.get("sha256"))
                        .and_then(Json::as_str)
                        .is_some_and(|d| d.eq_ignore_ascii_case(&digest))
            });
        if !matched {
            return Err(format!(
                "attestation subject does not match artifact {}",
                go_quote(p)
            ));
        }
    }
    if !a.builder_id.is_empty() || !a.source_uri.is_empty() {
        if predicate_type != SLSA_V1 {
            return Err(format!(
                "builder and source policy checks require predicate type {}, got {}",
                go_quote(SLSA_V1),
                go_quote(&predicate_type)
            ));
        }
        let typed = go_unmarshal(payload, &statement_type(true))
            .map_err(|e| format!("decode SLSA predicate for policy verification: {e}"))?;
        let pred = typed.get("predicate");
        let id = pred
            .and_then(|p| p.pointer("/runDetails/builder/id"))
            .and_then(Json::as_str)
            .unwrap_or("");
        if !a.builder_id.is_empty() && id != a.builder_id {
            return Err(format!(
                "attestation builder id {} does not match expected {}",
                go_quote(id),
                go_quote(&a.builder_id)
            ));
        }
        if !a.source_uri.is_empty() {
            let found = pred
                .and_then(|p| p.pointer("/buildDefinition/resolvedDependencies"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .any(|d| s(d, "uri") == a.source_uri);
            if !found {
                return Err(format!(
                    "attestation does not contain expected source URI {}",
                    go_quote(&a.source_uri)
                ));
            }
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Go's `*PathError` text: `open PATH: no such file or directory`; a directory read is
/// `read PATH: is a directory`.
fn go_file_error(op: &str, path: &str, e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(21) {
        return format!("read {path}: is a directory");
    }
    format!("{op} {path}: {}", go_errno(e))
}

// ---------------------------------------------------------------------------------------
// Keys, as Go's pem and x509 packages read them
// ---------------------------------------------------------------------------------------

/// A verification key as Packer's `pemVerifier` holds it.
#[derive(Clone)]
pub enum VerifyingKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
    /// A key Go's x509 parses but Packer cannot verify with (X25519, DSA, P-224): every
    /// signature fails (`unsupported public key type`).
    Other,
}

/// A signing key as Packer's `loadPEMSigner` reads it (PKCS#8, PKCS#1, SEC1).
pub enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl VerifyingKey {
    /// `LoadPEMVerifierBytes`: a PKIX public key, a certificate's, or a private key's
    /// public half; `Err`: `no PEM block found`, `unsupported PEM verifier data`.
    pub fn from_pem(text: &str) -> Result<VerifyingKey, String> {
        let der = pem_decode(text.as_bytes()).ok_or("no PEM block found")?;
        parse_public(&der)
            .or_else(|| parse_certificate(&der))
            .or_else(|| parse_signing(&der).map(|k| k.verifying_key()))
            .ok_or_else(|| "unsupported PEM verifier data".into())
    }

    /// `LoadPEMVerifier`: `read verifier "P": …`, `load verifier "P": …`.
    pub fn load(path: &str) -> Result<VerifyingKey, String> {
        let q = go_quote(path);
        let contents = std::fs::read(path)
            .map_err(|e| format!("read verifier {q}: {}", go_file_error("open", path, &e)))?;
        VerifyingKey::from_pem(&String::from_utf8_lossy(&contents))
            .map_err(|e| format!("load verifier {q}: {e}"))
    }

    /// `pemVerifier.Verify` over DSSE's PAE: ed25519 over it, ECDSA (ASN.1) and RSA PKCS#1
    /// v1.5 over its SHA-256; `Err`: Packer's words.
    pub fn verify(&self, payload_type: &str, payload: &[u8], sig: &[u8]) -> Result<(), String> {
        let m = pae(payload_type, payload);
        let digest = sha2::Sha256::digest(&m);
        let ok = match self {
            VerifyingKey::Ed25519(k) => {
                let ok = ed25519_dalek::Signature::from_slice(sig)
                    .is_ok_and(|s| k.verify_strict(&m, &s).is_ok());
                if !ok {
                    return Err("Ed25519 verification failed".into());
                }
                true
            }
            // Go's ecdsa.VerifyASN1 of the SHA-256 digest, whatever the curve
            VerifyingKey::P256(k) => ecdsa_prehash::p256(k, &digest, sig),
            VerifyingKey::P384(k) => ecdsa_prehash::p384(k, &digest, sig),
            VerifyingKey::P521(k) => ecdsa_prehash::p521(k, &digest, sig),
            VerifyingKey::Rsa(k) => {
                return k
                    .verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, sig)
                    .map_err(|_| "crypto/rsa: verification error".into());
            }
            VerifyingKey::Other => return Err("unsupported public key type".into()),
        };
        if ok {
            Ok(())
        } else {
            Err("ECDSA verification failed".into())
        }
    }

    /// Go's `marshalPublicKeyPEM`: the PKIX public key in a `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        use p256::pkcs8::EncodePublicKey as _;
        let der = match self {
            VerifyingKey::Ed25519(k) => k.to_public_key_der().map(|d| d.to_vec()),
            VerifyingKey::P256(k) => k.to_public_key_der().map(|d| d.to_vec()),
            VerifyingKey::P384(k) => k.to_public_key_der().map(|d| d.to_vec()),
            VerifyingKey::P521(k) => p521::PublicKey::from(k)
                .to_public_key_der()
                .map(|d| d.to_vec()),
            VerifyingKey::Rsa(k) => {
                use rsa::pkcs8::EncodePublicKey as _;
                return go_pem(
                    "PUBLIC KEY",
                    &k.to_public_key_der()
                        .map(|d| d.to_vec())
                        .unwrap_or_default(),
                );
            }
            VerifyingKey::Other => return String::new(),
        };
        go_pem("PUBLIC KEY", &der.unwrap_or_default())
    }

    /// The PKIX encoding of the key (empty for [`VerifyingKey::Other`]).
    pub fn to_der(&self) -> Vec<u8> {
        use base64::Engine as _;
        let pem = self.to_pem();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default()
    }

    /// The key id Packer records: the SHA-256 of the public key's PEM.
    pub fn key_id(&self) -> String {
        hex(&sha2::Sha256::digest(self.to_pem().as_bytes()))
    }
}

impl SigningKey {
    /// A PEM private key (the first block); `None` when Go's parsers would refuse it.
    pub fn from_pem(text: &str) -> Option<SigningKey> {
        parse_signing(&pem_decode(text.as_bytes())?)
    }

    /// `loadPEMSigner`: `read signer "P": …`, `decode signer "P": no PEM block found`,
    /// `unsupported private key in signer "P"`.
    pub fn load(path: &str) -> Result<SigningKey, String> {
        let q = go_quote(path);
        let contents = std::fs::read(path)
            .map_err(|e| format!("read signer {q}: {}", go_file_error("open", path, &e)))?;
        let der = pem_decode(&contents)
            .ok_or_else(|| format!("decode signer {q}: no PEM block found"))?;
        parse_signing(&der).ok_or_else(|| {
            // Go parses a PKCS#8 X25519 key, an ECDH key that cannot sign
            if pkcs8_algorithm(&der) == Some(X25519_OID) {
                format!("signer {q} does not implement crypto.Signer")
            } else {
                format!("unsupported private key in signer {q}")
            }
        })
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
            SigningKey::P256(k) => VerifyingKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => VerifyingKey::P384(*k.verifying_key()),
            SigningKey::P521(k) => VerifyingKey::P521(*k.verifying_key()),
            SigningKey::Rsa(k) => VerifyingKey::Rsa(k.to_public_key()),
        }
    }

    /// `pemSigner.Sign`: ed25519 over DSSE's PAE, ECDSA (ASN.1 DER) and RSA PKCS#1 v1.5 over
    /// its SHA-256.
    pub fn sign(&self, payload_type: &str, payload: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        let m = pae(payload_type, payload);
        let digest = sha2::Sha256::digest(&m);
        match self {
            SigningKey::Ed25519(k) => k.sign(&m).to_bytes().to_vec(),
            SigningKey::P256(k) => {
                use p256::ecdsa::signature::hazmat::PrehashSigner as _;
                let s: Option<p256::ecdsa::Signature> = k.sign_prehash(&digest).ok();
                s.map(|s| s.to_der().as_bytes().to_vec())
                    .unwrap_or_default()
            }
            SigningKey::P384(k) => {
                use p384::ecdsa::signature::hazmat::PrehashSigner as _;
                let s: Option<p384::ecdsa::Signature> = k.sign_prehash(&digest).ok();
                s.map(|s| s.to_der().as_bytes().to_vec())
                    .unwrap_or_default()
            }
            SigningKey::P521(k) => {
                use p521::ecdsa::signature::hazmat::PrehashSigner as _;
                let s: Option<p521::ecdsa::Signature> = k.sign_prehash(&digest).ok();
                s.map(|s| s.to_der().as_bytes().to_vec())
                    .unwrap_or_default()
            }
            SigningKey::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
                .unwrap_or_default(),
        }
    }
}

/// Go's `pem.EncodeToMemory`: base64 in lines of 64.
fn go_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Go's `pem.Decode`: the first well-formed block anywhere in the data, its base64 body
/// decoded (headers skipped).
fn pem_decode(data: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(data);
    let mut rest: &str = &text;
    loop {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + 11..];
        let eol = after.find("-----")?;
        let label = &after[..eol];
        let body_start = &after[eol + 5..];
        let end_marker = format!("-----END {label}-----");
        if label.contains('\n') || !(body_start.starts_with('\n') || body_start.starts_with("\r\n"))
        {
            rest = after;
            continue;
        }
        let Some(end) = body_start.find(&end_marker) else {
            rest = after;
            continue;
        };
        let body = &body_start[..end];
        // headers (`Key: value` lines, then a blank line) are skipped
        let body = body.trim_start_matches(['\r', '\n']);
        let body = match body.lines().next() {
            Some(l) if l.contains(':') => body
                .split_once("\n\n")
                .or_else(|| body.split_once("\r\n\r\n"))
                .map_or(body, |x| x.1),
            _ => body,
        };
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        use base64::Engine as _;
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(der) => return Some(der),
            Err(_) => rest = after,
        }
    }
}

/// `x509.ParsePKIXPublicKey`.
fn parse_public(der: &[u8]) -> Option<VerifyingKey> {
    use p256::pkcs8::DecodePublicKey as _;
    if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
        return Some(VerifyingKey::Ed25519(k));
    }
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Some(VerifyingKey::P256(k));
    }
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Some(VerifyingKey::P384(k));
    }
    if let Ok(k) = p521::ecdsa::VerifyingKey::from_public_key_der(der) {
        return Some(VerifyingKey::P521(k));
    }
    {
        use rsa::pkcs8::DecodePublicKey as _;
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(der) {
            return Some(VerifyingKey::Rsa(k));
        }
    }
    // other algorithms Go's x509 knows (X25519, DSA, P-224)
    let spki = der_seq(der)?;
    let (alg, _) = der_take(spki, 0x30)?;
    let (oid, _) = der_take(alg, 0x06)?;
    const KNOWN: &[&[u8]] = &[
        X25519_OID,
        &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01], // DSA
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], // EC (P-224)
    ];
    KNOWN.contains(&oid).then_some(VerifyingKey::Other)
}

/// `x509.ParseCertificate`'s public key: the SubjectPublicKeyInfo of the certificate's
/// `tbsCertificate` (version, serial, signature algorithm, issuer, validity, subject, key).
fn parse_certificate(der: &[u8]) -> Option<VerifyingKey> {
    let cert = der_seq(der)?;
    let (tbs, rest) = der_take(cert, 0x30)?;
    // the signature algorithm and the signature follow
    let (_, rest) = der_take(rest, 0x30)?;
    der_take(rest, 0x03)?;
    let mut t = tbs;
    if t.first() == Some(&0xa0) {
        t = der_next(t)?.2;
    }
    let (_, t) = der_take(t, 0x02)?; // serial
    let (_, t) = der_take(t, 0x30)?; // signature
    let (_, t) = der_take(t, 0x30)?; // issuer
    let (_, t) = der_take(t, 0x30)?; // validity
    let (_, t) = der_take(t, 0x30)?; // subject
    let rest = der_next(t)?.2.len();
    parse_public(&t[..t.len() - rest])
}

/// `x509.ParsePKCS8PrivateKey`, `ParsePKCS1PrivateKey`, `ParseECPrivateKey`, in Go's order.
fn parse_signing(der: &[u8]) -> Option<SigningKey> {
    use p256::pkcs8::DecodePrivateKey as _;
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        return Some(SigningKey::Ed25519(k));
    }
    if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
        return Some(SigningKey::P256(k.into()));
    }
    if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
        return Some(SigningKey::P384(k.into()));
    }
    if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
        return p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
            .ok()
            .map(SigningKey::P521);
    }
    {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
            return Some(SigningKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs1_der(der) {
            return Some(SigningKey::Rsa(Box::new(k)));
        }
    }
    if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
        return Some(SigningKey::P256(k.into()));
    }
    if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
        return Some(SigningKey::P384(k.into()));
    }
    if let Ok(k) = p521::SecretKey::from_sec1_der(der) {
        return p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
            .ok()
            .map(SigningKey::P521);
    }
    None
}

const X25519_OID: &[u8] = &[0x2b, 0x65, 0x6e];

/// The algorithm OID of a PKCS#8 `PrivateKeyInfo` (version, algorithm, key).
fn pkcs8_algorithm(der: &[u8]) -> Option<&[u8]> {
    let info = der_seq(der)?;
    let (_, rest) = der_take(info, 0x02)?;
    let (alg, _) = der_take(rest, 0x30)?;
    Some(der_take(alg, 0x06)?.0)
}

/// One DER element: (its tag, its contents, what follows).
fn der_next(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let l0 = *b.get(1)? as usize;
    let (len, at) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = at.checked_add(len)?;
    Some((tag, b.get(at..end)?, &b[end..]))
}

/// The contents of the element of tag `tag` at the start of `b`, and what follows.
fn der_take(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, c, rest) = der_next(b)?;
    (t == tag).then_some((c, rest))
}

/// The contents of a DER SEQUENCE that is the whole of `b`.
fn der_seq(b: &[u8]) -> Option<&[u8]> {
    let (c, rest) = der_take(b, 0x30)?;
    rest.is_empty().then_some(c)
}

// ---------------------------------------------------------------------------------------
// Go's encoding/base64 and encoding/json, as Packer's decoding meets them
// ---------------------------------------------------------------------------------------

/// `base64.StdEncoding.DecodeString`: newlines skipped, padding required, trailing bits not
/// checked; errors as Go's `illegal base64 data at input byte N`.
pub fn go_base64(s: &str) -> Result<Vec<u8>, String> {
    const PAD: u8 = b'=';
    let src = s.as_bytes();
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let corrupt = |at: usize| Err(format!("illegal base64 data at input byte {at}"));
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0usize;
    while si < src.len() {
        let mut dbuf = [0u32; 4];
        let mut dlen = 4;
        let mut trailing = None;
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return corrupt(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != PAD {
                return corrupt(si - 1);
            }
            // padding: the end
            match j {
                0 | 1 => return corrupt(si - 1),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return corrupt(src.len());
                    }
                    if src[si] != PAD {
                        return corrupt(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(si);
            }
            dlen = j;
            break;
        }
        let v = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(at) = trailing {
            return corrupt(at);
        }
        if dlen < 4 {
            break;
        }
    }
    Ok(out)
}

/// A Go type `encoding/json` decodes into (the parts Packer's types use).
enum GoTy {
    Str,
    /// `interface{}`: anything.
    Any,
    /// A map of string keys (its Go type's name).
    Map(&'static str, Box<GoTy>),
    /// A slice (its Go type's name) of the element type.
    Slice(&'static str, Box<GoTy>),
    /// A struct: its qualified name (`attestation.Envelope`; empty for an anonymous one)
    /// and fields (JSON name, type).
    Struct(&'static str, Vec<(&'static str, GoTy)>),
}

fn st(name: &'static str, fields: Vec<(&'static str, GoTy)>) -> GoTy {
    GoTy::Struct(name, fields)
}

fn envelope_type() -> GoTy {
    st(
        "attestation.Envelope",
        vec![
            ("payloadType", GoTy::Str),
            ("payload", GoTy::Str),
            (
                "signatures",
                GoTy::Slice(
                    "[]attestation.EnvelopeSignature",
                    Box::new(st(
                        "attestation.EnvelopeSignature",
                        vec![
                            ("keyid", GoTy::Str),
                            ("sig", GoTy::Str),
                            ("cert", GoTy::Str),
                        ],
                    )),
                ),
            ),
        ],
    )
}

/// `provenance.Statement`, or (`typed`) verifyPolicy's anonymous struct with the SLSA
/// predicate.
fn statement_type(typed: bool) -> GoTy {
    let digest = || GoTy::Map("provenance.DigestSet", Box::new(GoTy::Str));
    let subjects = GoTy::Slice(
        "[]provenance.Subject",
        Box::new(st(
            "provenance.Subject",
            vec![("name", GoTy::Str), ("digest", digest())],
        )),
    );
    let predicate = if typed {
        let any_map = || GoTy::Map("map[string]interface {}", Box::new(GoTy::Any));
        st(
            "provenance.SLSAProvenancePredicate",
            vec![
                (
                    "buildDefinition",
                    st(
                        "provenance.BuildDefinition",
                        vec![
                            ("buildType", GoTy::Str),
                            ("externalParameters", any_map()),
                            ("internalParameters", any_map()),
                            (
                                "resolvedDependencies",
                                GoTy::Slice(
                                    "[]provenance.ResolvedDependency",
                                    Box::new(st(
                                        "provenance.ResolvedDependency",
                                        vec![("uri", GoTy::Str), ("digest", digest())],
                                    )),
                                ),
                            ),
                        ],
                    ),
                ),
                (
                    "runDetails",
                    st(
                        "provenance.RunDetails",
                        vec![
                            (
                                "builder",
                                st(
                                    "provenance.Builder",
                                    vec![
                                        ("id", GoTy::Str),
                                        (
                                            "version",
                                            GoTy::Map("map[string]string", Box::new(GoTy::Str)),
                                        ),
                                    ],
                                ),
                            ),
                            (
                                "metadata",
                                st(
                                    "provenance.Metadata",
                                    vec![
                                        ("invocationId", GoTy::Str),
                                        ("startedOn", GoTy::Str),
                                        ("finishedOn", GoTy::Str),
                                    ],
                                ),
                            ),
                            (
                                "byproducts",
                                GoTy::Slice(
                                    "[]provenance.Byproduct",
                                    Box::new(st(
                                        "provenance.Byproduct",
                                        vec![("name", GoTy::Str), ("content", GoTy::Any)],
                                    )),
                                ),
                            ),
                        ],
                    ),
                ),
            ],
        )
    } else {
        GoTy::Any
    };
    st(
        if typed { "" } else { "provenance.Statement" },
        vec![
            ("_type", GoTy::Str),
            ("subject", subjects),
            ("predicateType", GoTy::Str),
            ("predicate", predicate),
        ],
    )
}

/// `json.Unmarshal(text, &T)`: the syntax checked first, then the value decoded, the first
/// type error reported (Go decodes the rest, keeping what fits). `Ok`: the document with
/// each struct's keys renamed to the fields they fill (Go matches a key to a field exactly,
/// else case-insensitively).
fn go_unmarshal(text: &str, ty: &GoTy) -> Result<Json, String> {
    gojson::check_valid(text)?;
    let v: Json =
        serde_json::from_str(&gojson::replace_lone_surrogates(text)).map_err(|e| e.to_string())?;
    let mut err = None;
    let mut ctx = Ctx {
        strukt: None,
        fields: vec![],
    };
    let out = decode(&v, ty, &mut ctx, &mut err);
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Go's `errorContext`: the innermost struct and the path of field names.
struct Ctx {
    strukt: Option<&'static str>,
    fields: Vec<&'static str>,
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::String(_) => "string",
        Json::Number(_) => "number",
        Json::Bool(_) => "bool",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
        Json::Null => "null",
    }
}

fn decode(v: &Json, ty: &GoTy, ctx: &mut Ctx, err: &mut Option<String>) -> Json {
    let mismatch = |ctx: &Ctx, err: &mut Option<String>, type_name: &str| {
        if err.is_some() {
            return;
        }
        *err = Some(match ctx.strukt {
            Some(s) => format!(
                "json: cannot unmarshal {} into Go struct field {}.{} of type {type_name}",
                kind(v),
                s.rsplit('.').next().unwrap_or(s),
                ctx.fields.join(".")
            ),
            None => format!(
                "json: cannot unmarshal {} into Go value of type {type_name}",
                kind(v)
            ),
        });
    };
    if v.is_null() {
        return Json::Null;
    }
    match ty {
        GoTy::Any => v.clone(),
        GoTy::Str => {
            if !v.is_string() {
                mismatch(ctx, err, "string");
                return Json::Null;
            }
            v.clone()
        }
        GoTy::Map(name, elem) => {
            let Some(o) = v.as_object() else {
                mismatch(ctx, err, name);
                return Json::Null;
            };
            let mut out = serde_json::Map::new();
            for (k, x) in o {
                out.insert(k.clone(), decode(x, elem, ctx, err));
            }
            Json::Object(out)
        }
        GoTy::Slice(name, elem) => {
            let Some(a) = v.as_array() else {
                mismatch(ctx, err, name);
                return Json::Null;
            };
            Json::Array(a.iter().map(|x| decode(x, elem, ctx, err)).collect())
        }
        GoTy::Struct(name, fields) => {
            let Some(o) = v.as_object() else {
                mismatch(ctx, err, if name.is_empty() { "struct" } else { name });
                return Json::Null;
            };
            let mut out = serde_json::Map::new();
            for (k, x) in o {
                let field = fields.iter().find(|(f, _)| f == k).or_else(|| {
                    fields
                        .iter()
                        .find(|(f, _)| f.to_lowercase() == k.to_lowercase())
                });
                let Some((f, fty)) = field else { continue };
                let saved = ctx.strukt;
                ctx.strukt = Some(name);
                ctx.fields.push(f);
                let d = decode(x, fty, ctx, err);
                ctx.fields.pop();
                ctx.strukt = saved;
                if !d.is_null() {
                    out.insert(f.to_string(), d);
                }
            }
            Json::Object(out)
        }
    }
}

/// Every parser of this module over `data` (the fuzz target's body): none may panic.
pub fn parse_anything(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = go_unmarshal(&text, &envelope_type());
    let _ = go_unmarshal(&text, &statement_type(true));
    let _ = go_base64(&text);
    if let Some(der) = pem_decode(data) {
        let _ = parse_public(&der)
            .or_else(|| parse_certificate(&der))
            .or_else(|| parse_signing(&der).map(|k| k.verifying_key()));
        keyless::parse_anything(&der);
    }
    let _ = parse_certificate(data);
    let _ = parse_public(data);
    keyless::parse_anything(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutations of a real envelope, PEM key and certificate never panic a parser (a
    /// deterministic quick fuzz; `fuzz/` runs the same body under libFuzzer).
    #[test]
    fn parsers_survive_mutated_input() {
        let keyless_att: &[u8] = include_bytes!(
            "../../tests/differential/cases/verify-attestation-keyless-othername/att.json"
        );
        let env: Json = serde_json::from_slice(keyless_att).unwrap();
        let cert = env["signatures"][0]["cert"].as_str().unwrap();
        let leaf_der = pem_decode(cert.as_bytes()).unwrap();
        // a Sigstore bundle with an RFC 3161 timestamp, and that timestamp
        let bundle: &[u8] = include_bytes!(
            "../../tests/differential/cases/verify-attestation-keyless-bundle-tsa-verified/b.json"
        );
        let b: Json = serde_json::from_slice(bundle).unwrap();
        let tsr = go_base64(
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        // a keyless envelope, its Fulcio-like certificate and a Sigstore trusted root
        let seeds: [&[u8]; 8] = [
            &tsr,
            bundle,
            &leaf_der,
            keyless_att,
            include_bytes!("../../tests/differential/cases/verify-attestation-keyless-trusted-root-tlog/root.json"),
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6IngiLCJzdWJqZWN0IjpbeyJuYW1lIjoiYSIsImRpZ2VzdCI6eyJzaGEyNTYiOiIxIn19XX0=","signatures":[{"keyid":"k","sig":"AAAA","cert":"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"}]}"#,
            b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n",
            b"\x30\x82\x01\x0a\x30\x81\xb0\xa0\x03\x02\x01\x02\x02\x01\x01\x30\x05\x06\x03\x2b\x65\x70\x30\x00\x30\x00\x30\x00\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for seed in seeds {
            for _ in 0..3000 {
                let mut d = seed.to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let at = (next() as usize) % (d.len() + 1);
                    match next() % 3 {
                        0 if at < d.len() => d[at] = next() as u8,
                        1 if at < d.len() => {
                            d.truncate(at);
                        }
                        _ => {
                            let bytes = b"{}[]\":,0-=\n";
                            d.insert(at, bytes[(next() as usize) % bytes.len()]);
                        }
                    }
                }
                parse_anything(&d);
            }
        }
    }

    /// Keyless attestations verify against their trusted root and fail against another's
    /// (the differential cases `verify-attestation-keyless-*` compare every outcome with
    /// Packer's).
    #[test]
    fn keyless_attestations_verify_against_their_root() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/cases");
        let run = |case: &str| {
            let dir = cases.join(format!("verify-attestation-keyless-{case}"));
            let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
            verify(&Args {
                attestation: p("att.json"),
                trusted_root: p("root.json"),
                keyless_identity:
                    "https://github.com/kiln/kiln/.github/workflows/build.yml@refs/heads/main"
                        .into(),
                keyless_oidc_issuer: "https://token.actions.githubusercontent.com".into(),
                ..Args::default()
            })
        };
        assert_eq!(run("verified"), Ok(()));
        assert_eq!(run("p384-leaf"), Ok(()));
        for case in [
            "untrusted-authority",
            "expired-certificate",
            "server-auth-only",
        ] {
            let e = run(case).unwrap_err();
            assert!(e.ends_with("signature verification failed"), "{case}: {e}");
        }
    }

    /// Go's `base64.StdEncoding.DecodeString` (checked against Go 1.26).
    #[test]
    fn base64_as_go() {
        for (s, want) in [
            ("YQ==", Ok(&b"a"[..])),
            ("YWJj\nZGVm", Ok(b"abcdef")),
            ("YR==", Ok(b"a")),
            ("", Ok(b"")),
            ("YQ", Err(0)),
            ("Y", Err(0)),
            ("YQ=", Err(3)),
            ("a b", Err(1)),
            ("YQ==YQ==", Err(4)),
            ("!!!!", Err(0)),
            ("YWJjZA=", Err(7)),
            ("YWJjZA==x", Err(8)),
        ] {
            assert_eq!(
                go_base64(s),
                want.map(<[u8]>::to_vec)
                    .map_err(|at| format!("illegal base64 data at input byte {at}")),
                "{s:?}"
            );
        }
    }

    /// `json.Unmarshal` into Packer's envelope (checked against Go 1.26).
    #[test]
    fn envelope_decoded_as_go() {
        let e = |t: &str| go_unmarshal(t, &envelope_type()).unwrap_err();
        assert_eq!(
            e("[]"),
            "json: cannot unmarshal array into Go value of type attestation.Envelope"
        );
        assert_eq!(
            e(r#"{"payloadType": 1}"#),
            "json: cannot unmarshal number into Go struct field Envelope.payloadType of type string"
        );
        assert_eq!(
            e(r#"{"PAYLOADTYPE": true, "payload": 2}"#),
            "json: cannot unmarshal bool into Go struct field Envelope.payloadType of type string"
        );
        assert_eq!(
            e(r#"{"signatures": "x"}"#),
            "json: cannot unmarshal string into Go struct field Envelope.signatures of type []attestation.EnvelopeSignature"
        );
        assert_eq!(
            e(r#"{"signatures": ["x"]}"#),
            "json: cannot unmarshal string into Go struct field Envelope.signatures of type attestation.EnvelopeSignature"
        );
        assert_eq!(
            e(r#"{"signatures": [{"sig": {}}], "payload": []}"#),
            "json: cannot unmarshal object into Go struct field EnvelopeSignature.signatures.sig of type string"
        );
        assert_eq!(e("{} x"), "invalid character 'x' after top-level value");
        let ok = go_unmarshal(
            r#"{"PayloadType": "t", "payload": null, "signatures": [{"SIG": "s", "other": 1}]}"#,
            &envelope_type(),
        )
        .unwrap();
        assert_eq!(
            ok,
            serde_json::json!({"payloadType": "t", "signatures": [{"sig": "s"}]})
        );
    }

    /// DER walking never panics on cut or bogus input.
    #[test]
    fn der_of_any_bytes() {
        for b in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x02, 0x30],
        ] {
            assert!(parse_certificate(b).is_none());
            assert!(parse_public(b).is_none());
        }
    }
}
