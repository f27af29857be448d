//! Keyless (Sigstore) verification as Packer 1.16's `newKeylessVerifier` does it without a
//! bundle: the trusted root read as sigstore-go's `root.NewTrustedRootFromPath` reads it
//! (protobuf JSON, then its checks in its words), the envelope's Fulcio certificate verified
//! as `verify.VerifyLeafCertificate` does at the current time (each certificate authority's
//! validity window, then Go's `x509.Certificate.Verify` with the authority's root and
//! intermediates and the code-signing usage), its identity as `SummarizeCertificate` and
//! `CertificateIdentity.Verify` read it (the first URI, else e-mail, else Fulcio's
//! `OtherName` SAN; the OIDC issuer from Fulcio's extensions), and the signature with
//! sigstore's default verifier for the certificate's key (`LoadDefaultVerifier`).
//!
//! Packer reports every failure of the certificate, its identity or the signature alike
//! (`signature verification failed`), so each check here answers yes or no.
//!
//! With a Sigstore bundle (`-bundle`, `-require-rekor`, `-require-timestamp`, or
//! `X.sigstore.json` beside the attestation) Packer runs sigstore-go's `Verifier.Verify`
//! instead, and so does Kiln: the bundle loaded and validated as `bundle.LoadJSONFromPath`
//! does, matched against the envelope, the Rekor v1 entries verified (inclusion promise,
//! RFC 6962 inclusion proof and signed checkpoint, the entry against the bundle), the
//! integrated times and the RFC 3161 timestamps ([`rfc3161`]) as observer timestamps, the
//! certificate at each, the signature (with the compatibility verifier), the artifact and
//! the identity, each failure in sigstore-go's words. Rekor v2 entries are refused with the
//! reason.

use std::path::Path;

use sha2::Digest as _;
use x509_cert::der::{Decode as _, Encode as _};

use super::{VerifyingKey, go_file_error, pae, parse_public};
use crate::sinks::rfc3339_secs;
use serde_json::Value as Json;

mod rfc3161;

const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

/// Why Kiln stops where Packer would fetch Sigstore's public trusted root.
pub(super) const NO_PUBLIC_ROOT: &str =
    "Kiln does not fetch Sigstore's public trusted root (TUF): give it with -trusted-root-path";
/// Why Kiln stops at a Rekor v2 log entry.
const REKOR_V2: &str = "Kiln cannot verify a Sigstore bundle's Rekor v2 (rekor-tiles) entries: verify with packer verify-attestation";

/// A Fulcio certificate authority of the trusted root.
struct Authority {
    root: Cert,
    intermediates: Vec<Cert>,
    /// Unix seconds; `None`: unset (Go's zero time).
    start: Option<i64>,
    end: Option<i64>,
}

/// The trusted root's certificate authorities (its logs and timestamp authorities are
/// checked as sigstore-go checks them, and not needed without a bundle).
pub(super) struct TrustedRoot {
    authorities: Vec<Authority>,
    logs: Vec<Log>,
    tsas: Vec<rfc3161::Tsa>,
}

/// A transparency log of the trusted root.
struct Log {
    id: Vec<u8>,
    key: VerifyingKey,
    /// The SHA-256 of the key's PKIX encoding (a signed note's key hint).
    der_hash: [u8; 32],
    start: Option<i64>,
    end: Option<i64>,
}

/// The keyless verifier of one envelope: its first certificate, checked on every signature.
pub(super) struct Verifier {
    leaf: Option<Cert>,
    key: SigstoreKey,
    root: TrustedRoot,
    identity: String,
    issuer: String,
}

/// sigstore's default verifier for a public key (`GetDefaultPublicKeyDetails`).
enum SigstoreKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

impl Verifier {
    /// `newKeylessVerifier` after the identity flags were checked: the trusted root, then
    /// sigstore's verifier for the certificate's key; `Err`: Packer's words.
    pub(super) fn new(
        cert_der: &[u8],
        key: VerifyingKey,
        trusted_root: &str,
        identity: &str,
        issuer: &str,
    ) -> Result<Verifier, String> {
        let root = load_trusted_root(trusted_root)
            .map_err(|e| format!("load keyless trusted root: {e}"))?;
        let key = SigstoreKey::new(key).ok_or(
            "create keyless verifier: load sigstore verifier: unsupported public key type",
        )?;
        Ok(Verifier {
            leaf: Cert::parse(cert_der),
            key,
            root,
            identity: identity.to_string(),
            issuer: issuer.to_string(),
        })
    }

    /// `keylessVerifier.Verify`: the certificate (chain at the current time, identity), then
    /// the signature over DSSE's PAE.
    pub(super) fn verify(&self, payload_type: &str, payload: &[u8], sig: &[u8]) -> bool {
        let Some(leaf) = &self.leaf else { return false };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.root.authorities.iter().any(|a| a.verify(leaf, now))
            && identity_matches(leaf, &self.identity, &self.issuer)
            && self.key.verify(&pae(payload_type, payload), sig)
    }
}

impl SigstoreKey {
    fn new(key: VerifyingKey) -> Option<SigstoreKey> {
        use rsa::traits::PublicKeyParts as _;
        Some(match key {
            VerifyingKey::Ed25519(k) => SigstoreKey::Ed25519(k),
            VerifyingKey::P256(k) => SigstoreKey::P256(k),
            VerifyingKey::P384(k) => SigstoreKey::P384(k),
            VerifyingKey::P521(k) => SigstoreKey::P521(k),
            // only the sizes sigstore names (2048, 3072, 4096 bits)
            VerifyingKey::Rsa(k) if [256, 384, 512].contains(&k.size()) => SigstoreKey::Rsa(k),
            _ => return None,
        })
    }

    /// sigstore-go's `compatSignatureVerifier` for a bundle's DSSE signature: the default
    /// verifier, then (bundles up to v0.3) a second one — SHA-256 for P-384 and P-521 keys,
    /// the same again for RSA and ed25519. (Its `Failed to verify signature with default
    /// verifier, trying compatibility verifier` goes to the stderr of Packer's wrapped
    /// process, which Packer logs and does not show.)
    fn verify_compat(&self, m: &[u8], sig: &[u8], compat: bool) -> bool {
        if self.verify(m, sig) {
            return true;
        }
        if !compat || matches!(self, SigstoreKey::P256(_)) {
            return false;
        }
        use super::ecdsa_prehash as e;
        let d = sha2::Sha256::digest(m);
        match self {
            SigstoreKey::P384(k) => e::p384(k, &d, sig),
            SigstoreKey::P521(k) => e::p521(k, &d, sig),
            _ => false,
        }
    }

    /// ECDSA (ASN.1) over the curve's hash, ed25519 over the message, RSA PKCS#1 v1.5 over
    /// SHA-256.
    fn verify(&self, m: &[u8], sig: &[u8]) -> bool {
        use super::ecdsa_prehash as e;
        match self {
            SigstoreKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(m, &s).is_ok()),
            SigstoreKey::P256(k) => e::p256(k, &sha2::Sha256::digest(m), sig),
            SigstoreKey::P384(k) => e::p384(k, &sha2::Sha384::digest(m), sig),
            SigstoreKey::P521(k) => e::p521(k, &sha2::Sha512::digest(m), sig),
            SigstoreKey::Rsa(k) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    &sha2::Sha256::digest(m),
                    sig,
                )
                .is_ok(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Certificates as Go's x509 reads and verifies them
// ---------------------------------------------------------------------------------------

/// What Go's `x509.Certificate` holds that verification reads.
#[derive(Clone)]
struct Cert {
    raw: Vec<u8>,
    tbs: Vec<u8>,
    sig_alg: String,
    signature: Vec<u8>,
    raw_issuer: Vec<u8>,
    raw_subject: Vec<u8>,
    /// The serial number's DER content.
    serial: Vec<u8>,
    not_before: i64,
    not_after: i64,
    v3: bool,
    key: Option<VerifyingKey>,
    basic_constraints_valid: bool,
    is_ca: bool,
    /// -1: no path length constraint.
    max_path_len: i64,
    /// Go's `KeyUsage` bits (0: none given).
    key_usage: u16,
    /// Extended key usages given (known or not), any usage, code signing.
    eku_given: bool,
    eku_any: bool,
    eku_code_signing: bool,
    eku_time_stamping: bool,
    /// Extended key usages Go knows (its `ExtKeyUsage`), and whether the extension is
    /// critical.
    eku_known: usize,
    eku_critical: bool,
    uris: Vec<String>,
    emails: Vec<String>,
    /// (OID, critical, value) in the certificate's order.
    extensions: Vec<(String, bool, Vec<u8>)>,
    /// OIDs of critical extensions Go does not handle.
    unhandled_critical: Vec<String>,
    name_constraints: bool,
}

const KEY_USAGE_CERT_SIGN: u16 = 1 << 5;

/// The extended key usages Go's x509 knows by name.
const GO_EXT_KEY_USAGES: &[&str] = &[
    "2.5.29.37.0",
    "1.3.6.1.5.5.7.3.1",
    "1.3.6.1.5.5.7.3.2",
    "1.3.6.1.5.5.7.3.3",
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.5",
    "1.3.6.1.5.5.7.3.6",
    "1.3.6.1.5.5.7.3.7",
    "1.3.6.1.5.5.7.3.8",
    "1.3.6.1.5.5.7.3.9",
    "1.3.6.1.4.1.311.10.3.3",
    "2.16.840.1.113730.4.1",
    "1.3.6.1.4.1.311.2.1.22",
    "1.3.6.1.4.1.311.61.1.1",
];

impl Cert {
    /// `x509.ParseCertificate` (as far as verification needs); `None`: Go refuses it.
    fn parse(der: &[u8]) -> Option<Cert> {
        use x509_cert::ext::pkix::{
            BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName, name::GeneralName,
        };
        let c = x509_cert::Certificate::from_der(der).ok()?;
        let tbs = &c.tbs_certificate;
        let spki = tbs.subject_public_key_info.to_der().ok()?;
        let mut cert = Cert {
            raw: der.to_vec(),
            tbs: tbs.to_der().ok()?,
            sig_alg: c.signature_algorithm.oid.to_string(),
            signature: c.signature.as_bytes()?.to_vec(),
            raw_issuer: tbs.issuer.to_der().ok()?,
            raw_subject: tbs.subject.to_der().ok()?,
            serial: tbs.serial_number.as_bytes().to_vec(),
            not_before: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
            not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
            v3: tbs.version == x509_cert::Version::V3,
            key: parse_public(&spki),
            basic_constraints_valid: false,
            is_ca: false,
            max_path_len: -1,
            key_usage: 0,
            eku_given: false,
            eku_any: false,
            eku_code_signing: false,
            eku_time_stamping: false,
            eku_known: 0,
            eku_critical: false,
            uris: Vec::new(),
            emails: Vec::new(),
            extensions: Vec::new(),
            unhandled_critical: Vec::new(),
            name_constraints: false,
        };
        let mut seen = std::collections::HashSet::new();
        for e in tbs.extensions.iter().flatten() {
            let oid = e.extn_id.to_string();
            // x509: certificate contains duplicate extensions
            if !seen.insert(oid.clone()) {
                return None;
            }
            let v = e.extn_value.as_bytes();
            let mut unhandled = false;
            match oid.as_str() {
                "2.5.29.15" => {
                    let ku = KeyUsage::from_der(v).ok()?;
                    cert.key_usage = (0..9)
                        .filter(|i| ku.0.bits() & (1 << i) != 0)
                        .fold(0, |acc, i| acc | (1 << i));
                }
                "2.5.29.19" => {
                    let bc = BasicConstraints::from_der(v).ok()?;
                    cert.basic_constraints_valid = true;
                    cert.is_ca = bc.ca;
                    cert.max_path_len = match bc.path_len_constraint {
                        Some(n) if bc.ca => i64::from(n),
                        _ => -1,
                    };
                }
                "2.5.29.17" => {
                    let san = SubjectAltName::from_der(v).ok()?;
                    let mut names = 0;
                    for n in &san.0 {
                        match n {
                            GeneralName::Rfc822Name(s) => {
                                cert.emails.push(s.to_string());
                                names += 1;
                            }
                            GeneralName::UniformResourceIdentifier(s) => {
                                cert.uris.push(s.to_string());
                                names += 1;
                            }
                            GeneralName::DnsName(_) | GeneralName::IpAddress(_) => names += 1,
                            _ => {}
                        }
                    }
                    unhandled = names == 0;
                }
                "2.5.29.37" => {
                    let eku = ExtendedKeyUsage::from_der(v).ok()?;
                    cert.eku_given = !eku.0.is_empty();
                    cert.eku_critical = e.critical;
                    for u in &eku.0 {
                        let u = u.to_string();
                        match u.as_str() {
                            "2.5.29.37.0" => cert.eku_any = true,
                            "1.3.6.1.5.5.7.3.3" => cert.eku_code_signing = true,
                            "1.3.6.1.5.5.7.3.8" => cert.eku_time_stamping = true,
                            _ => {}
                        }
                        if GO_EXT_KEY_USAGES.contains(&u.as_str()) {
                            cert.eku_known += 1;
                        }
                    }
                }
                "2.5.29.30" => {
                    cert.name_constraints = true;
                }
                "2.5.29.14" | "2.5.29.31" | "2.5.29.32" | "2.5.29.33" | "2.5.29.35"
                | "2.5.29.36" | "2.5.29.54" | "1.3.6.1.5.5.7.1.1" => {}
                _ => unhandled = true,
            }
            if e.critical && unhandled {
                cert.unhandled_critical.push(oid.clone());
            }
            cert.extensions.push((oid, e.critical, v.to_vec()));
        }
        Some(cert)
    }

    /// `isValid` for the certificate's place in the chain (`chain`: the certificates below).
    fn is_valid(&self, ca: bool, chain: &[&Cert], now: i64) -> bool {
        if !self.unhandled_critical.is_empty() {
            return false;
        }
        if let Some(child) = chain.last()
            && child.raw_issuer != self.raw_subject
        {
            return false;
        }
        if now < self.not_before || now > self.not_after {
            return false;
        }
        if ca {
            // Kiln does not evaluate name constraints (Fulcio's authorities have none)
            if self.name_constraints || !self.basic_constraints_valid || !self.is_ca {
                return false;
            }
            if self.max_path_len >= 0 && chain.len() as i64 - 1 > self.max_path_len {
                return false;
            }
        }
        true
    }

    /// `CheckSignatureFrom`: the parent may sign certificates and its key signed this one.
    fn signed_by(&self, parent: &Cert) -> bool {
        if (parent.v3 && !parent.basic_constraints_valid)
            || (parent.basic_constraints_valid && !parent.is_ca)
            || (parent.key_usage != 0 && parent.key_usage & KEY_USAGE_CERT_SIGN == 0)
        {
            return false;
        }
        let Some(key) = &parent.key else { return false };
        check_signature(&self.sig_alg, &self.tbs, &self.signature, key)
    }
}

/// Go's `checkSignature` for the algorithms it accepts in a chain (SHA-1 and MD5 refused).
fn check_signature(alg: &str, signed: &[u8], sig: &[u8], key: &VerifyingKey) -> bool {
    use super::ecdsa_prehash as e;
    let digest = |h: &str| -> Vec<u8> {
        match h {
            "256" => sha2::Sha256::digest(signed).to_vec(),
            "384" => sha2::Sha384::digest(signed).to_vec(),
            _ => sha2::Sha512::digest(signed).to_vec(),
        }
    };
    let ecdsa_hash = match alg {
        "1.2.840.10045.4.3.2" => Some("256"),
        "1.2.840.10045.4.3.3" => Some("384"),
        "1.2.840.10045.4.3.4" => Some("512"),
        _ => None,
    };
    if let Some(h) = ecdsa_hash {
        let d = digest(h);
        return match key {
            VerifyingKey::P256(k) => e::p256(k, &d, sig),
            VerifyingKey::P384(k) => e::p384(k, &d, sig),
            VerifyingKey::P521(k) => e::p521(k, &d, sig),
            _ => false,
        };
    }
    let rsa = |scheme: rsa::Pkcs1v15Sign, d: Vec<u8>| match key {
        // Go refuses keys under 1024 bits
        VerifyingKey::Rsa(k) => {
            use rsa::traits::PublicKeyParts as _;
            k.n().bits() >= 1024 && k.verify(scheme, &d, sig).is_ok()
        }
        _ => false,
    };
    match alg {
        "1.2.840.113549.1.1.11" => rsa(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest("256")),
        "1.2.840.113549.1.1.12" => rsa(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), digest("384")),
        "1.2.840.113549.1.1.13" => rsa(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), digest("512")),
        "1.3.101.112" => match key {
            VerifyingKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(signed, &s).is_ok()),
            _ => false,
        },
        _ => false,
    }
}

/// At most this many signature checks while building chains (Go's
/// `maxChainSignatureChecks`).
const MAX_SIGNATURE_CHECKS: usize = 100;

impl Authority {
    /// `FulcioCertificateAuthority.Verify` at `now`, answered yes or no.
    fn verify(&self, leaf: &Cert, now: i64) -> bool {
        if self.start.is_some_and(|s| now < s) || self.end.is_some_and(|e| now > e) {
            return false;
        }
        let intermediates: Vec<&Cert> = self.intermediates.iter().collect();
        build_verified_chains(leaf, &self.root, &intermediates, now)
            .is_ok_and(|chains| chains.iter().any(|c| code_signing_allowed(c)))
    }
}

/// Go's `Certificate.Verify` up to the key usages: the leaf valid at `now`, then every chain
/// through `intermediates` to `root` (`buildChains`); `Err`: Go's error.
fn build_verified_chains<'a>(
    leaf: &'a Cert,
    root: &'a Cert,
    intermediates: &[&'a Cert],
    now: i64,
) -> Result<Vec<Vec<&'a Cert>>, String> {
    if now < leaf.not_before || now > leaf.not_after {
        let (rel, bound) = if now < leaf.not_before {
            ("before", leaf.not_before)
        } else {
            ("after", leaf.not_after)
        };
        return Err(format!(
            "x509: certificate has expired or is not yet valid: current time {} is {rel} {}",
            rfc3339_secs(now),
            rfc3339_secs(bound)
        ));
    }
    if !leaf.is_valid(false, &[], now) {
        return Err("x509: unhandled critical extension".into());
    }
    if leaf.raw == root.raw {
        return Ok(vec![vec![leaf]]);
    }
    let mut checks = 0;
    let chains = extend_chains(vec![leaf], root, intermediates, &mut checks, now);
    if chains.is_empty() {
        return Err("x509: certificate signed by unknown authority".into());
    }
    Ok(chains)
}

/// Go's `buildChains`: the root, then each intermediate, whose subject is the issuer of the
/// chain's last certificate and whose key signed it.
fn extend_chains<'a>(
    chain: Vec<&'a Cert>,
    root: &'a Cert,
    intermediates: &[&'a Cert],
    checks: &mut usize,
    now: i64,
) -> Vec<Vec<&'a Cert>> {
    let Some(cert) = chain.last().copied() else {
        return Vec::new();
    };
    let mut chains = Vec::new();
    let candidates = std::iter::once((true, root)).chain(intermediates.iter().map(|c| (false, *c)));
    for (is_root, cand) in candidates {
        if cand.raw_subject != cert.raw_issuer
            || cand.key.is_none()
            || chain.iter().any(|c| c.raw == cand.raw)
        {
            continue;
        }
        *checks += 1;
        if *checks > MAX_SIGNATURE_CHECKS {
            break;
        }
        if !cert.signed_by(cand) || !cand.is_valid(true, &chain, now) {
            continue;
        }
        let mut next = chain.clone();
        next.push(cand);
        if is_root {
            chains.push(next);
        } else {
            chains.extend(extend_chains(next, root, intermediates, checks, now));
        }
    }
    chains
}

/// `checkChainForKeyUsage` for code signing: every certificate that names extended key
/// usages names it (or any usage).
fn code_signing_allowed(chain: &[&Cert]) -> bool {
    chain
        .iter()
        .all(|c| !c.eku_given || c.eku_any || c.eku_code_signing)
}

/// `SummarizeCertificate` then `CertificateIdentity.Verify` with the exact identity and
/// issuer.
fn identity_matches(leaf: &Cert, identity: &str, issuer: &str) -> bool {
    let Some(cert_issuer) = fulcio_issuer(&leaf.extensions) else {
        return false;
    };
    let san = if let Some(u) = leaf.uris.first() {
        u.clone()
    } else if let Some(e) = leaf.emails.first() {
        e.clone()
    } else {
        match other_name_san(&leaf.extensions) {
            Some(s) => s,
            None => return false,
        }
    };
    !san.is_empty()
        && (identity.is_empty() || san == identity)
        && (issuer.is_empty() || cert_issuer.as_slice() == issuer.as_bytes())
}

/// `ParseExtensions`: the OIDC issuer (Fulcio's 1.1 as raw bytes, 1.8 as a DER string, the
/// last one given); `None` when one of Fulcio's DER-string extensions does not parse.
fn fulcio_issuer(exts: &[(String, bool, Vec<u8>)]) -> Option<Vec<u8>> {
    let mut issuer = Vec::new();
    for (oid, _, v) in exts {
        let Some(n) = oid.strip_prefix("1.3.6.1.4.1.57264.1.") else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        match n {
            1 => issuer = v.clone(),
            8 => issuer = der_string(v)?.into_bytes(),
            9..=22 => {
                der_string(v)?;
            }
            _ => {}
        }
    }
    Some(issuer)
}

/// Go's `asn1.Unmarshal` into a string: one universal string of the kinds Go reads, nothing
/// after it.
fn der_string(v: &[u8]) -> Option<String> {
    let (tag, body, rest) = super::der_next(v)?;
    if !rest.is_empty() {
        return None;
    }
    match tag {
        // UTF8String
        12 => String::from_utf8(body.to_vec()).ok(),
        // PrintableString
        19 => body
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&c))
            .then(|| String::from_utf8_lossy(body).into_owned()),
        // IA5String
        22 => body
            .is_ascii()
            .then(|| String::from_utf8_lossy(body).into_owned()),
        // NumericString
        18 => body
            .iter()
            .all(|&c| c.is_ascii_digit() || c == b' ')
            .then(|| String::from_utf8_lossy(body).into_owned()),
        // T61String, GeneralString: bytes as Latin-1
        20 | 27 => Some(body.iter().map(|&b| char::from(b)).collect()),
        // BMPString
        30 if body.len() % 2 == 0 => {
            let units: Vec<u16> = body
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            let units = units.strip_suffix(&[0]).unwrap_or(&units);
            Some(String::from_utf16_lossy(units))
        }
        _ => None,
    }
}

/// sigstore's `UnmarshalOtherNameSAN`: the one `OtherName` of type 1.3.6.1.4.1.57264.1.7.
fn other_name_san(exts: &[(String, bool, Vec<u8>)]) -> Option<String> {
    const OTHER_NAME: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x07];
    let mut names = Vec::new();
    for (oid, _, v) in exts {
        if oid != "2.5.29.17" {
            continue;
        }
        let (tag, mut seq, rest) = super::der_next(v)?;
        if tag != 0x30 || !rest.is_empty() {
            return None;
        }
        while !seq.is_empty() {
            let (tag, body, rest) = super::der_next(seq)?;
            seq = rest;
            if tag & 0x1f != 0 {
                continue;
            }
            // [0] { type-id OID, [0] EXPLICIT UTF8String }
            let (oid, after) = super::der_take(body, 0x06)?;
            if oid != OTHER_NAME {
                return None;
            }
            let (inner, end) = super::der_take(after, 0xa0)?;
            let (value, tail) = super::der_take(inner, 0x0c)?;
            if !end.is_empty() || !tail.is_empty() {
                return None;
            }
            names.push(String::from_utf8(value.to_vec()).ok()?);
        }
    }
    (names.len() == 1).then(|| names.remove(0))
}

// ---------------------------------------------------------------------------------------
// The trusted root, as protojson and sigstore-go read it
// ---------------------------------------------------------------------------------------

/// `root.NewTrustedRootFromPath`; `Err`: sigstore-go's words.
fn load_trusted_root(path: &str) -> Result<TrustedRoot, String> {
    let data = std::fs::read(path).map_err(|e| {
        format!(
            "failed to read trusted root {}",
            go_file_error("open", path, &e)
        )
    })?;
    let json: Json = serde_json::from_slice(&data).map_err(|e| {
        format!("failed to proto-json unmarshal trusted root: proto: syntax error: {e}")
    })?;
    proto::top_level(&data, &json)
        .map_err(|e| format!("failed to proto-json unmarshal trusted root: {e}"))?;
    let tr = proto::decode(&json, proto::TRUSTED_ROOT)
        .map_err(|e| format!("failed to proto-json unmarshal trusted root: proto: {e}"))?;
    let media_type = tr.str("mediaType");
    if media_type != TRUSTED_ROOT_MEDIA_TYPE {
        return Err(format!("unsupported TrustedRoot media type: {media_type}"));
    }
    let mut logs = Vec::new();
    for log in tr.list("tlogs") {
        logs.push(parse_tlog(log)?);
    }
    let mut authorities = Vec::new();
    for ca in tr.list("certificateAuthorities") {
        authorities.push(parse_authority(ca)?);
    }
    let mut tsas = Vec::new();
    for tsa in tr.list("timestampAuthorities") {
        tsas.push(parse_tsa(tsa)?);
    }
    for log in tr.list("ctlogs") {
        parse_tlog(log)?;
    }
    Ok(TrustedRoot {
        authorities,
        logs,
        tsas,
    })
}

/// `ParseTransparencyLogs` for one log.
fn parse_tlog(log: &proto::Msg) -> Result<Log, String> {
    let hash = log.enum_name("hashAlgorithm", proto::HASH_ALGORITHMS);
    if hash != "SHA2_256" {
        return Err(format!("unsupported tlog hash algorithm: {hash}"));
    }
    let Some(id) = log.msg("logId") else {
        return Err("tlog missing log ID".into());
    };
    if id.bytes("keyId").is_none() {
        return Err("tlog missing log ID key ID".into());
    }
    let Some(pk) = log.msg("publicKey") else {
        return Err("tlog missing public key".into());
    };
    let Some(raw) = pk.bytes("rawBytes") else {
        return Err("tlog missing public key raw bytes".into());
    };
    let url = log.str("baseUrl");
    let details = pk.enum_name("keyDetails", proto::KEY_DETAILS);
    let parse_err = |e: &str| format!("failed to parse public key for tlog: {url} {e}");
    let key = match details.as_str() {
        "PKIX_ECDSA_P256_SHA_256"
        | "PKIX_ECDSA_P384_SHA_384"
        | "PKIX_ECDSA_P521_SHA_512"
        | "PKIX_RSA_PKCS1V15_2048_SHA256"
        | "PKIX_RSA_PKCS1V15_3072_SHA256"
        | "PKIX_RSA_PKCS1V15_4096_SHA256"
        | "PKIX_ED25519" => {
            let key = parse_public(raw).ok_or_else(|| parse_err(&pkix_error(raw)))?;
            let ok = match details.as_str() {
                "PKIX_ED25519" => matches!(key, VerifyingKey::Ed25519(_)),
                d if d.starts_with("PKIX_RSA") => matches!(key, VerifyingKey::Rsa(_)),
                _ => matches!(
                    key,
                    VerifyingKey::P256(_) | VerifyingKey::P384(_) | VerifyingKey::P521(_)
                ),
            };
            if !ok {
                let kind = if details.starts_with("PKIX_ECDSA") {
                    "ECDSA"
                } else {
                    "RSA"
                };
                return Err(format!("tlog public key is not {kind}: {details}"));
            }
            key
        }
        "PKCS1_RSA_PKCS1V5" => {
            use rsa::pkcs1::DecodeRsaPublicKey as _;
            VerifyingKey::Rsa(rsa::RsaPublicKey::from_pkcs1_der(raw).map_err(|_| {
                parse_err("x509: failed to parse public key (use ParsePKIXPublicKey instead for this key format)")
            })?)
        }
        _ => return Err(format!("unsupported tlog public key type: {details}")),
    };
    let Some(valid_for) = pk.msg("validFor") else {
        return Err("tlog missing public key validity period".into());
    };
    let Some(start) = valid_for.get("start") else {
        return Err("tlog missing public key validity period start time".into());
    };
    let time = |v: &Json| v.as_str().and_then(proto::timestamp);
    let der = key.to_der();
    Ok(Log {
        id: id.bytes("keyId").unwrap_or_default().to_vec(),
        der_hash: sha2::Sha256::digest(&der).into(),
        key,
        start: time(start),
        end: valid_for.get("end").and_then(time),
    })
}

/// Go's `x509.ParsePKIXPublicKey` error for bytes it refuses (the common cases).
fn pkix_error(raw: &[u8]) -> String {
    if super::der_seq(raw).is_none() {
        "asn1: structure error: tags don't match (16 vs {class:0 tag:0 length:0 isCompound:false}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} publicKeyInfo @2".into()
    } else {
        "x509: unknown public key algorithm".into()
    }
}

/// `ParseCertificateAuthority` (and `ParseTimestampingAuthority`, whose errors are the same).
fn parse_authority(ca: &proto::Msg) -> Result<Authority, String> {
    let Some(chain) = ca.msg("certChain") else {
        return Err("CertificateAuthority missing cert chain".into());
    };
    let certs = chain.list("certificates");
    if certs.is_empty() {
        return Err("CertificateAuthority cert chain is empty".into());
    }
    let uri = ca.str("uri");
    let mut parsed = Vec::new();
    for c in certs {
        let raw = c.bytes("rawBytes").unwrap_or_default();
        let cert = Cert::parse(raw).ok_or_else(|| {
            format!("failed to parse certificate for {uri} x509: malformed certificate")
        })?;
        parsed.push(cert);
    }
    let root = parsed.pop().expect("the chain is not empty");
    let time = |k: &str| {
        ca.msg("validFor")
            .and_then(|v| v.get(k))
            .and_then(Json::as_str)
            .and_then(proto::timestamp)
    };
    Ok(Authority {
        root,
        intermediates: parsed,
        start: time("start"),
        end: time("end"),
    })
}

// ---------------------------------------------------------------------------------------
// Sigstore bundles, as sigstore-go loads them and Packer checks them against the envelope
// ---------------------------------------------------------------------------------------

/// A Sigstore bundle that `bundle.LoadJSONFromPath` accepted.
pub(super) struct Bundle {
    msg: proto::Msg,
}

/// `bundle.LoadJSONFromPath`: protobuf JSON, then `Bundle.validate`; `Err`: sigstore-go's
/// words.
pub(super) fn load_bundle(path: &str) -> Result<Bundle, String> {
    let data = std::fs::read(Path::new(path)).map_err(|e| go_file_error("open", path, &e))?;
    let json: Json =
        serde_json::from_slice(&data).map_err(|e| format!("proto: syntax error: {e}"))?;
    proto::top_level(&data, &json)?;
    let msg = proto::decode(&json, proto::BUNDLE).map_err(|e| format!("proto: {e}"))?;
    const UNSUPPORTED: &str = "validation error: unsupported media type";
    let media_type = msg.str("mediaType");
    let version = bundle_version(&media_type)
        .map_err(|e| format!("error getting bundle version: {UNSUPPORTED}: {e}"))?;
    if semver_cmp(&version, "v0.1").is_lt() {
        return Err(format!(
            "{UNSUPPORTED}: bundle version {version} is not supported"
        ));
    }
    let material = msg.msg("verificationMaterial");
    let entries = tlog_entries(&msg);
    let (mut promise, mut proof) = (false, false);
    for e in entries {
        let (p, q) = parse_tlog_entry(e).map_err(|e| format!("validation error: {e}"))?;
        promise |= p;
        proof |= q;
    }
    if semver_cmp(&version, "v0.1").is_eq() {
        if !entries.is_empty() && !promise {
            return Err("inclusion promises missing in bundle (required for bundle v0.1)".into());
        }
    } else if !entries.is_empty() && !proof {
        return Err("inclusion proof missing in bundle (required for bundle v0.2)".into());
    }
    if semver_cmp(&version, "v0.3").is_ge()
        && material.is_some_and(|m| m.has("x509CertificateChain"))
    {
        return Err(
            "verification material cannot be X.509 certificate chain (for bundle v0.3)".into(),
        );
    }
    if semver_cmp(&version, "v0.4").is_ge() {
        return Err(format!(
            "{UNSUPPORTED}: bundle version {version} is not yet supported"
        ));
    }
    if !msg.has("dsseEnvelope") && !msg.has("messageSignature") {
        return Err("invalid bundle: validation error: missing bundle content".into());
    }
    let has_content = material.is_some_and(|m| {
        ["publicKey", "x509CertificateChain", "certificate"]
            .iter()
            .any(|k| m.has(k))
    });
    if !has_content {
        return Err("invalid bundle: validation error: missing verification material".into());
    }
    Ok(Bundle { msg })
}

impl Bundle {
    /// The verification material's transparency-log entries.
    fn tlog_entries(&self) -> &[proto::Msg] {
        tlog_entries(&self.msg)
    }

    /// The verification material's RFC 3161 timestamps (their signed responses).
    fn timestamps(&self) -> Vec<&[u8]> {
        self.msg
            .msg("verificationMaterial")
            .and_then(|m| m.msg("timestampVerificationData"))
            .map(|t| {
                t.list("rfc3161Timestamps")
                    .iter()
                    .map(|s| s.bytes("signedTimestamp").unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A bundle message's transparency-log entries.
fn tlog_entries(bundle: &proto::Msg) -> &[proto::Msg] {
    bundle
        .msg("verificationMaterial")
        .map_or(&[][..], |m| m.list("tlogEntries"))
}

/// `getBundleVersion`.
fn bundle_version(media_type: &str) -> Result<String, String> {
    const BASE: &str = "application/vnd.dev.sigstore.bundle";
    for v in ["0.1", "0.2", "0.3"] {
        if media_type == format!("{BASE}+json;version={v}") {
            return Ok(format!("v{v}"));
        }
    }
    if let Some(v) = media_type
        .strip_prefix(BASE)
        .and_then(|r| r.strip_prefix('.'))
        .filter(|r| r.starts_with('v'))
        .and_then(|r| r.strip_suffix("+json"))
    {
        return if semver_parse(v).is_some() {
            Ok(v.to_string())
        } else {
            Err(format!("invalid bundle version: {v}"))
        };
    }
    Err(media_type.to_string())
}

/// `golang.org/x/mod/semver`'s parse: `vMAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]`, numbers
/// without leading zeros; (major, minor, patch, prerelease).
fn semver_parse(v: &str) -> Option<(u64, u64, u64, String)> {
    let v = v.strip_prefix('v')?;
    let v = v.split_once('+').map_or(v, |x| x.0);
    let (core, pre) = v.split_once('-').map_or((v, ""), |x| x);
    let nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty() || nums.len() > 3 {
        return None;
    }
    let mut n = [0u64; 3];
    for (i, p) in nums.iter().enumerate() {
        if p.is_empty()
            || !p.bytes().all(|c| c.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        n[i] = p.parse().ok()?;
    }
    if (nums.len() < 3 && !pre.is_empty()) || (v.contains('-') && pre.is_empty()) {
        return None;
    }
    Some((n[0], n[1], n[2], pre.to_string()))
}

/// `semver.Compare` (an invalid version is less than any valid one).
fn semver_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (semver_parse(a), semver_parse(b)) {
        (None, None) => Ordering::Equal,
        (None, _) => Ordering::Less,
        (_, None) => Ordering::Greater,
        (Some(x), Some(y)) => (x.0, x.1, x.2).cmp(&(y.0, y.1, y.2)).then_with(|| {
            match (x.3.is_empty(), y.3.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => x.3.cmp(&y.3),
            }
        }),
    }
}

/// `tlog.ParseTransparencyLogEntry`: its required fields, the checkpoint, a body Rekor v1 or
/// v2 knows, kind and version as the entry says; (inclusion promise, inclusion proof).
fn parse_tlog_entry(e: &proto::Msg) -> Result<(bool, bool), String> {
    const NIL: &str = "validation error: nil value in transaction log entry";
    let kv = e.msg("kindVersion");
    if !e.has("canonicalizedBody")
        || e.int("logIndex") < 0
        || !e.msg("logId").is_some_and(|l| l.has("keyId"))
        || kv.is_none()
    {
        return Err(NIL.into());
    }
    let proof = e.msg("inclusionProof");
    if let Some(p) = proof {
        match p.msg("checkpoint") {
            None => return Err("inclusion proof missing required checkpoint".into()),
            Some(c) if c.str("envelope").is_empty() => {
                return Err("inclusion proof checkpoint empty".into());
            }
            _ => {}
        }
    }
    // (the entry's kind and version are taken from `kindVersion`, so the body's own never
    // mismatch them)
    let body = e.bytes("canonicalizedBody").unwrap_or_default();
    if let RekorBody::Unknown(why) = rekor_body(body) {
        return Err(format!(
            "entry body is not a recognizable Rekor v1 or Rekor v2 type: {why}"
        ));
    }
    let promise = e
        .msg("inclusionPromise")
        .and_then(|p| p.bytes("signedEntryTimestamp"))
        .is_some_and(|s| !s.is_empty());
    Ok((promise, proof.is_some()))
}

enum RekorBody {
    V2,
    V1(RekorV1),
    Unknown(String),
}

/// What sigstore-go reads of a Rekor v1 entry: its signature, the verifier's PEM, the DSSE
/// payload hash (`None` for a `hashedrekord`).
struct RekorV1 {
    signature: Vec<u8>,
    verifier_pem: Vec<u8>,
    payload_hash: Option<Vec<u8>>,
}

/// What a log entry's canonicalized body is: a Rekor v2 entry (rekor-tiles' protobuf JSON),
/// a Rekor v1 entry in its canonical form of a kind and version sigstore-go reads (`dsse`
/// 0.0.1, `intoto` 0.0.2, `hashedrekord` 0.0.1), or neither.
fn rekor_body(body: &[u8]) -> RekorBody {
    use base64::Engine as _;
    let b64 = |v: &Json| {
        v.as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    };
    let Ok(Json::Object(o)) = serde_json::from_slice::<Json>(body) else {
        return RekorBody::Unknown("invalid character in entry body".into());
    };
    let v2_keys = ["kind", "apiVersion", "api_version", "spec"];
    let v2_specs = [
        "hashedRekordV002",
        "hashed_rekord_v002",
        "dsseV002",
        "dsse_v002",
    ];
    if o.keys().all(|k| v2_keys.contains(&k.as_str()))
        && o.get("spec")
            .and_then(Json::as_object)
            .is_some_and(|s| s.len() == 1 && s.keys().all(|k| v2_specs.contains(&k.as_str())))
    {
        return RekorBody::V2;
    }
    let field = |k: &str| {
        o.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (kind, version) = (field("kind"), field("apiVersion"));
    let spec = o.get("spec").cloned().unwrap_or(Json::Null);
    let hash = |v: &Json| -> Option<Vec<u8>> {
        (v.get("algorithm")?.as_str()? == "sha256")
            .then(|| v.get("value")?.as_str().map(str::to_string))?
            .and_then(|h| {
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
                    .collect()
            })
    };
    let parsed = match (kind.as_str(), version.as_str()) {
        ("dsse", "0.0.1") => (|| {
            let sig = spec.get("signatures")?.as_array()?.first()?;
            Some(RekorV1 {
                signature: b64(sig.get("signature")?)?,
                verifier_pem: b64(sig.get("verifier")?)?,
                payload_hash: Some(hash(spec.get("payloadHash")?)?),
            })
            .filter(|_| spec.get("envelopeHash").and_then(hash).is_some())
        })(),
        ("intoto", "0.0.2") => (|| {
            let content = spec.get("content")?;
            let sig = content
                .get("envelope")?
                .get("signatures")?
                .as_array()?
                .first()?;
            let sig_b64 = String::from_utf8(b64(sig.get("sig")?)?).ok()?;
            Some(RekorV1 {
                signature: b64(&Json::String(sig_b64))?,
                verifier_pem: b64(sig.get("publicKey")?)?,
                payload_hash: Some(hash(content.get("payloadHash")?)?),
            })
        })(),
        ("hashedrekord", "0.0.1") => (|| {
            let sig = spec.get("signature")?;
            Some(RekorV1 {
                signature: b64(sig.get("content")?)?,
                verifier_pem: b64(sig.get("publicKey")?.get("content")?)?,
                payload_hash: None,
            })
        })(),
        _ => None,
    };
    match parsed {
        Some(v1) => RekorBody::V1(v1),
        None => RekorBody::Unknown(format!(
            "unsupported or malformed entry kind {kind:?} version {version:?}"
        )),
    }
}

/// `ParseTimestampingAuthority`: the chain's first certificate is the leaf when it is no CA,
/// the last the root (its errors are `ParseCertificateAuthority`'s).
fn parse_tsa(ca: &proto::Msg) -> Result<rfc3161::Tsa, String> {
    let authority = parse_authority(ca)?;
    let mut certs = authority.intermediates;
    certs.push(authority.root);
    let n = certs.len();
    let mut tsa = rfc3161::Tsa {
        root: None,
        intermediates: Vec::new(),
        leaf: None,
        start: authority.start,
        end: authority.end,
        uri: ca.str("uri"),
    };
    for (i, c) in certs.into_iter().enumerate() {
        if i == 0 && !(c.basic_constraints_valid && c.is_ca) {
            tsa.leaf = Some(c);
        } else if i < n - 1 {
            tsa.intermediates.push(c);
        } else {
            tsa.root = Some(c);
        }
    }
    Ok(tsa)
}

/// `bundleAnchorsSigningTime`: the bundle at `path`, when it loads and carries a
/// transparency-log entry or an RFC 3161 timestamp.
pub(super) fn anchoring_bundle(path: &str) -> Option<Bundle> {
    load_bundle(path)
        .ok()
        .filter(|b| !b.tlog_entries().is_empty() || !b.timestamps().is_empty())
}

/// Packer's `verifySigstoreBundleEvidenceImpl` after its flag checks: the trusted root, the
/// bundle, the bundle against the envelope, the verifier's options, then sigstore-go's
/// `Verifier.Verify` as far as Kiln goes: `Err` is Packer's error, or why Kiln stops.
pub(super) fn verify_bundle(
    a: &super::Args,
    bundle_path: &str,
    loaded: Option<Bundle>,
    payload_type: &str,
    payload_b64: &str,
    signatures: &[Json],
) -> Result<(), String> {
    if a.trusted_root.trim().is_empty() {
        return Err(format!("load keyless trusted root: {NO_PUBLIC_ROOT}"));
    }
    let root = load_trusted_root(a.trusted_root.trim())
        .map_err(|e| format!("load keyless trusted root: {e}"))?;
    let q = super::go_quote(bundle_path);
    // (a bundle beside the attestation was loaded to see whether it anchors the signing
    // time; Packer loads it again, which cannot fail differently)
    let bundle = match loaded {
        Some(b) => b,
        None => load_bundle(bundle_path).map_err(|e| format!("load Sigstore bundle {q}: {e}"))?,
    };
    // ensureBundleMatchesEnvelope
    let Some(env) = bundle.msg.msg("dsseEnvelope") else {
        return Err("extract DSSE envelope from Sigstore bundle: validation error: missing verification material".into());
    };
    let Some(payload) = env.bytes("payload") else {
        return Err("extract DSSE envelope from Sigstore bundle: validation error: invalid attestation: missing valid envelope".into());
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    if env.str("payloadType") != payload_type || b64.encode(payload) != payload_b64 {
        return Err("sigstore bundle payload does not match attestation".into());
    }
    if signatures.is_empty() {
        return Err("attestation envelope has no signatures".into());
    }
    let bundle_sig = env
        .list("signatures")
        .first()
        .and_then(|s| s.bytes("sig"))
        .unwrap_or_default();
    let mut matched = false;
    for (i, s) in signatures.iter().enumerate() {
        let sig = s.get("sig").and_then(Json::as_str).unwrap_or_default();
        let sig = super::go_base64(sig).map_err(|e| {
            format!("decode attestation envelope signature {i}: decode envelope signature: {e}")
        })?;
        if sig == bundle_sig {
            matched = true;
            break;
        }
    }
    if !matched {
        return Err("sigstore bundle signature does not match any attestation signature".into());
    }
    // the verifier's options: -require-rekor alone asks for log entries and no time source
    if a.require_rekor && !a.require_timestamp {
        return Err("create Sigstore bundle verifier: when initializing a new Verifier, you must specify at least one of WithObserverTimestamps(), WithSignedTimestamps(), WithIntegratedTimestamps() or WithCurrentTime(), or exclusively specify WithNoObserverTimestamps()".into());
    }
    if !a.artifact.is_empty() {
        std::fs::File::open(&a.artifact).map_err(|e| {
            format!(
                "open artifact {} for bundle verification: {}",
                super::go_quote(&a.artifact),
                go_file_error("open", &a.artifact, &e)
            )
        })?;
    }
    let wrap = |e: String| format!("verify Sigstore bundle {q}: {e}");
    bundle_verify(a, &bundle, &root).map_err(|e| match e {
        Stop::Packer(e) => wrap(e),
        Stop::Kiln(e) => e,
    })
}

/// Where sigstore-go's verification stops: its error, or where Kiln cannot follow.
enum Stop {
    Packer(String),
    Kiln(String),
}

/// sigstore-go's `Verifier.Verify` of a keyless DSSE bundle with Packer's options: the
/// transparency log when `-require-rekor` asks for it, observer timestamps, the leaf
/// certificate at each, the signature, the artifact, the identity.
fn bundle_verify(a: &super::Args, bundle: &Bundle, root: &TrustedRoot) -> Result<(), Stop> {
    let p = |e: String| Stop::Packer(e);
    let material = bundle.msg.msg("verificationMaterial");
    let env = bundle
        .msg
        .msg("dsseEnvelope")
        .expect("checked against the attestation");
    let env_sigs = env.list("signatures");
    let entity_sig = env_sigs
        .first()
        .and_then(|s| s.bytes("sig"))
        .unwrap_or_default()
        .to_vec();
    // the verification content: the certificate (or the first of a chain), or a key hint
    let cert_raw = material.and_then(|m| {
        m.msg("certificate")
            .and_then(|c| c.bytes("rawBytes"))
            .or_else(|| {
                m.msg("x509CertificateChain")
                    .and_then(|c| c.list("certificates").first())
                    .and_then(|c| c.bytes("rawBytes"))
            })
    });
    let is_key = material.is_some_and(|m| m.has("publicKey"));
    let leaf =
        match cert_raw {
            _ if is_key => None,
            None => return Err(p(
                "failed to verify log inclusion: validation error: missing verification material"
                    .into(),
            )),
            Some(raw) => Some(Cert::parse(raw).ok_or_else(|| {
                p(
                    "failed to verify log inclusion: validation error: x509: malformed certificate"
                        .into(),
                )
            })?),
        };
    let mut times = Vec::new();
    if a.require_rekor {
        times = verify_tlog(bundle, root, &entity_sig, leaf.as_ref()).map_err(|e| match e {
            Stop::Packer(e) => p(format!("failed to verify log inclusion: {e}")),
            k => k,
        })?;
    }
    // observer timestamps: RFC 3161 timestamps, then the log's integrated times
    let stamps = bundle.timestamps();
    if stamps.len() > 32 {
        return Err(p(format!(
            "failed to verify timestamps: failed to verify signed timestamps: too many signed timestamps: {} > 32",
            stamps.len()
        )));
    }
    let mut tsa_times: Vec<(i64, &str)> = Vec::new();
    let mut errors = Vec::new();
    for stamp in stamps {
        let mut tsa_errors = Vec::new();
        let verified = root.tsas.iter().find_map(|tsa| {
            tsa.verify(stamp, &entity_sig)
                .map(|t| (t, tsa.uri.as_str()))
                .map_err(|e| tsa_errors.push(e))
                .ok()
        });
        match verified {
            Some((_, uri)) if tsa_times.iter().any(|(_, u)| *u == uri) => errors.push(format!(
                "duplicate timestamps from the same authority, ignoring {uri}"
            )),
            Some(t) => tsa_times.push(t),
            None => errors.push(format!(
                "unable to verify signed timestamps: {}",
                go_join(&tsa_errors)
            )),
        }
    }
    times.extend(tsa_times.iter().map(|t| t.0));
    if times.is_empty() {
        return Err(p(format!(
            "failed to verify timestamps: threshold not met for verified signed & log entry integrated timestamps: 0 < 1; error: {}",
            go_join(&errors)
        )));
    }
    let Some(mut leaf) = leaf else {
        // a bundle signed with a key: the trusted root names no keys
        return Err(p(
            "signature time outside of public key validity window".into()
        ));
    };
    let summary_issuer = fulcio_issuer(&leaf.extensions).ok_or_else(|| {
        p(
            "failed to summarize certificate: unexpected error unmarshalling DER-encoded string"
                .into(),
        )
    })?;
    let san = leaf_san(&leaf).ok_or_else(|| {
        p("failed to summarize certificate: no Subject Alternative Name found".into())
    })?;
    // a critical SAN of other names only is accepted here
    leaf.unhandled_critical.retain(|o| o != "2.5.29.17");
    for t in &times {
        if !root.authorities.iter().any(|au| au.verify(&leaf, *t)) {
            return Err(p(
                "failed to verify leaf certificate: leaf certificate verification failed".into(),
            ));
        }
    }
    // the signature: the bundle's envelope, one signature, sigstore's verifier for the
    // certificate's key (with its compatibility verifier for P-384 and P-521)
    let key =
        leaf.key.clone().and_then(SigstoreKey::new).ok_or_else(|| {
            p("failed to get signature verifier: unsupported public key type".into())
        })?;
    let sig_fail = || {
        p("failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1".into())
    };
    if env_sigs.len() != 1 {
        return Err(p(
            "failed to verify signature: exactly one signature is required".into(),
        ));
    }
    let payload = env.bytes("payload").unwrap_or_default();
    let keyid = env_sigs[0].str("keyid");
    if !keyid.is_empty() && Some(keyid) != leaf.key.as_ref().and_then(ssh_fingerprint) {
        return Err(sig_fail());
    }
    let version = bundle_version(&bundle.msg.str("mediaType")).unwrap_or_default();
    let compat = ["v0.1", "v0.2", "v0.3"].contains(&version.as_str());
    if !key.verify_compat(
        &super::pae(&env.str("payloadType"), payload),
        &entity_sig,
        compat,
    ) {
        return Err(sig_fail());
    }
    if !a.artifact.is_empty() {
        verify_artifact_digest(payload, &a.artifact)
            .map_err(|e| p(format!("failed to verify signature: {e}")))?;
    }
    // the identity
    if san != a.keyless_identity {
        return Err(p(format!(
            "failed to verify certificate identity: no matching CertificateIdentity found, last error: expected SAN value \"{}\", got \"{san}\"",
            a.keyless_identity
        )));
    }
    if summary_issuer != a.keyless_oidc_issuer.as_bytes() {
        return Err(p(format!(
            "failed to verify certificate identity: no matching CertificateIdentity found, last error: expected issuer value \"{}\", got \"{}\"",
            a.keyless_oidc_issuer,
            String::from_utf8_lossy(&summary_issuer)
        )));
    }
    Ok(())
}

/// Go's `errors.Join` as `%w` prints it: the errors on lines of their own, `%!w(<nil>)`
/// for none.
fn go_join(errors: &[String]) -> String {
    if errors.is_empty() {
        "%!w(<nil>)".into()
    } else {
        errors.join("\n")
    }
}

/// `SummarizeCertificate`'s SAN: the first URI, else e-mail, else Fulcio's `OtherName`.
fn leaf_san(leaf: &Cert) -> Option<String> {
    leaf.uris
        .first()
        .or(leaf.emails.first())
        .cloned()
        .or_else(|| other_name_san(&leaf.extensions))
        .filter(|s| !s.is_empty())
}

/// `verifyEnvelopeWithArtifacts` after the signature: the artifact's SHA-256 (and SHA-384,
/// SHA-512 when the subjects name them) among the statement's subject digests.
fn verify_artifact_digest(payload: &[u8], artifact: &str) -> Result<(), String> {
    let data = std::fs::read(artifact).map_err(|e| {
        format!("could not verify artifact: unable to calculate digest: read {artifact}: {e}")
    })?;
    let st: Json = serde_json::from_slice(payload).map_err(|e| {
        format!("could not verify artifact: unable to extract statement from envelope: {e}")
    })?;
    let subjects = st
        .get("subject")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    if subjects.is_empty() {
        return Err("no subjects found in statement".into());
    }
    let digest = |alg: &str| -> Option<Vec<u8>> {
        Some(match alg {
            "sha256" => sha2::Sha256::digest(&data).to_vec(),
            "sha384" => sha2::Sha384::digest(&data).to_vec(),
            "sha512" => sha2::Sha512::digest(&data).to_vec(),
            _ => return None,
        })
    };
    let mut any_alg = false;
    for s in &subjects {
        for (alg, hex) in s
            .get("digest")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            let Some(d) = digest(alg) else { continue };
            any_alg = true;
            let want = hex.as_str().and_then(go_hex);
            if want.as_deref() == Some(&d[..]) {
                return Ok(());
            }
        }
    }
    if !any_alg {
        return Err(
            "unable to determine hash functions: no supported hash functions found in statement"
                .into(),
        );
    }
    Err("provided artifact digests do not match digests in statement".into())
}

/// Go's `hex.DecodeString`: pairs of hexadecimal digits, either case.
fn go_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Go's `ssh.FingerprintSHA256` of a key (the DSSE key id sigstore's envelope verifier
/// computes for a verifier without one).
fn ssh_fingerprint(key: &VerifyingKey) -> Option<String> {
    use base64::Engine as _;
    fn put(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    fn mpint(out: &mut Vec<u8>, b: &[u8]) {
        let b: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
        let mut v = Vec::new();
        if b.first().is_some_and(|&x| x & 0x80 != 0) {
            v.push(0);
        }
        v.extend_from_slice(&b);
        put(out, &v);
    }
    let mut w = Vec::new();
    match key {
        VerifyingKey::Ed25519(k) => {
            put(&mut w, b"ssh-ed25519");
            put(&mut w, k.as_bytes());
        }
        VerifyingKey::P256(k) => {
            put(&mut w, b"ecdsa-sha2-nistp256");
            put(&mut w, b"nistp256");
            put(&mut w, k.to_sec1_point(false).as_bytes());
        }
        VerifyingKey::P384(k) => {
            put(&mut w, b"ecdsa-sha2-nistp384");
            put(&mut w, b"nistp384");
            put(&mut w, k.to_sec1_point(false).as_bytes());
        }
        VerifyingKey::P521(k) => {
            put(&mut w, b"ecdsa-sha2-nistp521");
            put(&mut w, b"nistp521");
            put(&mut w, k.to_sec1_point(false).as_bytes());
        }
        VerifyingKey::Rsa(k) => {
            use rsa::traits::PublicKeyParts as _;
            put(&mut w, b"ssh-rsa");
            mpint(&mut w, &k.e().to_bytes_be());
            mpint(&mut w, &k.n().to_bytes_be());
        }
        VerifyingKey::Other => return None,
    }
    let h = sha2::Sha256::digest(&w);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
    ))
}

/// `VerifyTlogEntry` with a threshold of one, trusting integrated times: each entry of a log
/// the trusted root names checked (its inclusion promise, its inclusion proof and signed
/// checkpoint, the entry against the bundle); the integrated times of entries with a
/// verified promise.
fn verify_tlog(
    bundle: &Bundle,
    root: &TrustedRoot,
    entity_sig: &[u8],
    leaf: Option<&Cert>,
) -> Result<Vec<i64>, Stop> {
    let p = |e: &str| Stop::Packer(e.to_string());
    let entries = bundle.tlog_entries();
    if entries.len() > 32 {
        return Err(p(&format!("too many tlog entries: {} > 32", entries.len())));
    }
    let key_of = |e: &proto::Msg| {
        (
            e.msg("logId")
                .and_then(|l| l.bytes("keyId"))
                .unwrap_or_default()
                .to_vec(),
            e.int("logIndex"),
        )
    };
    for (i, a) in entries.iter().enumerate() {
        if entries[i + 1..].iter().any(|b| key_of(a) == key_of(b)) {
            return Err(p("duplicate tlog entries found"));
        }
    }
    let env = bundle.msg.msg("dsseEnvelope").expect("checked");
    let payload_hash = sha2::Sha256::digest(env.bytes("payload").unwrap_or_default()).to_vec();
    let mut verified_logs: Vec<Vec<u8>> = Vec::new();
    let mut times = Vec::new();
    for e in entries {
        let body = e.bytes("canonicalizedBody").unwrap_or_default();
        let v1 = match rekor_body(body) {
            RekorBody::V1(v1) => v1,
            _ => return Err(Stop::Kiln(REKOR_V2.into())),
        };
        let (log_id, log_index) = key_of(e);
        let Some(log) = root.logs.iter().find(|l| l.id == log_id) else {
            continue;
        };
        let promise = e
            .msg("inclusionPromise")
            .and_then(|p| p.bytes("signedEntryTimestamp"))
            .filter(|s| !s.is_empty());
        let proof = e.msg("inclusionProof");
        if promise.is_none() && proof.is_none() {
            return Err(p("entry must contain an inclusion proof and/or promise"));
        }
        let integrated = e.int("integratedTime");
        if let Some(set) = promise
            && !verify_set(log, body, integrated, log_index, set)
        {
            continue;
        }
        if let Some(proof) = proof {
            let checkpoint = proof
                .msg("checkpoint")
                .map(|c| c.str("envelope"))
                .unwrap_or_default();
            let first = checkpoint.split('\n').next().unwrap_or_default();
            let v1_sth = checkpoint.split('\n').count() >= 4
                && first
                    .rsplit_once(" - ")
                    .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
            if !v1_sth {
                return Err(Stop::Kiln(REKOR_V2.into()));
            }
            verify_inclusion(log, body, proof, &checkpoint).map_err(Stop::Packer)?;
        }
        if v1.signature != entity_sig {
            return Err(p("transparency log signature does not match"));
        }
        let same_key = leaf
            .is_some_and(|l| super::pem_decode(&v1.verifier_pem).is_some_and(|der| der == l.raw));
        if !same_key {
            return Err(p("transparency log certificate does not match"));
        }
        match &v1.payload_hash {
            None => {
                return Err(p(
                    "transparency log rekor v1 entry is not a dsse_v001 or intoto_v002 entry",
                ));
            }
            Some(h) if *h != payload_hash => {
                return Err(p(&format!(
                    "transparency log dsse/intoto entry payload hash {} does not match envelope payload hash {}",
                    super::hex(&payload_hash),
                    super::hex(h)
                )));
            }
            _ => {}
        }
        if integrated != 0
            && let Some(l) = leaf
            && (integrated < l.not_before || integrated > l.not_after)
        {
            return Err(p("integrated time outside certificate validity"));
        }
        if !verified_logs.contains(&log_id) {
            verified_logs.push(log_id.clone());
            if promise.is_some() {
                times.push(integrated);
            }
        }
    }
    if verified_logs.is_empty() {
        return Err(p(
            "not enough verified log entries from transparency log: 0 < 1",
        ));
    }
    Ok(times)
}

/// `tlog.VerifySET`: the log's ECDSA signature over the canonical JSON of the entry's body,
/// integrated time, log id and index, within the log key's validity.
fn verify_set(log: &Log, body: &[u8], integrated: i64, index: i64, set: &[u8]) -> bool {
    use base64::Engine as _;
    if log.start.is_none_or(|s| s == GO_ZERO_TIME)
        || log.start.is_some_and(|s| s > integrated)
        || log.end.is_some_and(|e| e < integrated)
    {
        return false;
    }
    let payload = format!(
        "{{\"body\":\"{}\",\"integratedTime\":{integrated},\"logID\":\"{}\",\"logIndex\":{index}}}",
        base64::engine::general_purpose::STANDARD.encode(body),
        super::hex(&log.id)
    );
    let d = sha2::Sha256::digest(payload.as_bytes());
    use super::ecdsa_prehash as e;
    match &log.key {
        VerifyingKey::P256(k) => e::p256(k, &d, set),
        VerifyingKey::P384(k) => e::p384(k, &d, set),
        VerifyingKey::P521(k) => e::p521(k, &d, set),
        _ => false,
    }
}

/// Go's zero `time.Time` in Unix seconds (`0001-01-01T00:00:00Z`).
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// rekor's `VerifyInclusion` (RFC 6962) and `VerifyCheckpointSignature`.
fn verify_inclusion(
    log: &Log,
    body: &[u8],
    proof: &proto::Msg,
    checkpoint: &str,
) -> Result<(), String> {
    let hash_children = |l: &[u8], r: &[u8]| {
        let mut h = sha2::Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().to_vec()
    };
    let leaf = {
        let mut h = sha2::Sha256::new();
        h.update([0u8]);
        h.update(body);
        h.finalize().to_vec()
    };
    let index = proof.int("logIndex") as u64;
    let size = proof.int("treeSize") as u64;
    let hashes = proof.bytes_list("hashes");
    let root_hash = proof.bytes("rootHash").unwrap_or_default();
    if index >= size {
        return Err(format!("index is beyond size: {index} >= {size}"));
    }
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if hashes.len() != inner + border {
        return Err(format!(
            "wrong proof size {}, want {}",
            hashes.len(),
            inner + border
        ));
    }
    let mut seed = leaf;
    for (i, h) in hashes[..inner].iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            hash_children(&seed, h)
        } else {
            hash_children(h, &seed)
        };
    }
    for h in &hashes[inner..] {
        seed = hash_children(h, &seed);
    }
    if seed != root_hash {
        let list = |b: &[u8]| {
            format!(
                "[{}]",
                b.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
            )
        };
        return Err(format!(
            "calculated root:\n{}\n does not match expected root:\n{}",
            list(&seed),
            list(root_hash)
        ));
    }
    // the signed checkpoint
    let (note, sth_hash) = parse_checkpoint(checkpoint)
        .map_err(|e| format!("unmarshalling log entry checkpoint to SignedCheckpoint: {e}"))?;
    if !verify_note(log, &note.0, &note.1) {
        return Err("signature on checkpoint did not verify".into());
    }
    if sth_hash != root_hash {
        return Err(format!(
            "proof root hash does not match signed tree head, expected {} got {}",
            super::hex(root_hash),
            super::hex(&sth_hash)
        ));
    }
    Ok(())
}

/// A signed note: its text and its signatures (key hash, signature).
type Note = (String, Vec<(u32, Vec<u8>)>);

/// rekor's `SignedCheckpoint.UnmarshalText`: the note, then the checkpoint's root hash.
fn parse_checkpoint(data: &str) -> Result<(Note, Vec<u8>), String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let malformed = || "unmarshalling signed note: malformed note".to_string();
    let split = data.rfind("\n\n").ok_or_else(malformed)?;
    let (text, sigs) = (&data[..split + 1], &data[split + 2..]);
    if !sigs.ends_with('\n') {
        return Err(malformed());
    }
    let mut signatures = Vec::new();
    for line in sigs.lines() {
        let mut words = line
            .strip_prefix('\u{2014}')
            .ok_or_else(|| {
                "unmarshalling signed note: parsing signature: input does not match format"
                    .to_string()
            })?
            .split_whitespace();
        let (Some(_name), Some(sig)) = (words.next(), words.next()) else {
            return Err("unmarshalling signed note: parsing signature: unexpected EOF".into());
        };
        let bytes = b64
            .decode(sig)
            .map_err(|e| format!("unmarshalling signed note: decoding signature: {e}"))?;
        if bytes.len() < 5 {
            return Err("unmarshalling signed note: signature is too small".into());
        }
        let hash = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        signatures.push((hash, bytes[4..].to_vec()));
    }
    if signatures.is_empty() {
        return Err("unmarshalling signed note: no signatures found in input".into());
    }
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < 4 {
        return Err("unmarshalling checkpoint: invalid checkpoint - too few newlines".into());
    }
    if lines[0].is_empty() {
        return Err("unmarshalling checkpoint: invalid checkpoint - empty ecosystem".into());
    }
    if lines[1].parse::<u64>().is_err() {
        return Err(format!(
            "unmarshalling checkpoint: invalid checkpoint - size invalid: strconv.ParseUint: parsing {}: invalid syntax",
            super::go_quote(lines[1])
        ));
    }
    let hash = b64.decode(lines[2]).map_err(|_| {
        "unmarshalling checkpoint: invalid checkpoint - invalid hash: illegal base64 data"
            .to_string()
    })?;
    Ok(((text.to_string(), signatures), hash))
}

/// `SignedNote.Verify`: every signature names the log's key (the first four bytes of the
/// SHA-256 of its PKIX encoding) and verifies over the note (ECDSA over its SHA-256,
/// ed25519 over the text).
fn verify_note(log: &Log, text: &str, sigs: &[(u32, Vec<u8>)]) -> bool {
    let key_hash = u32::from_be_bytes(log.der_hash[..4].try_into().expect("32 bytes"));
    let d = sha2::Sha256::digest(text.as_bytes());
    use super::ecdsa_prehash as e;
    sigs.iter().all(|(h, sig)| {
        *h == key_hash
            && match &log.key {
                VerifyingKey::P256(k) => e::p256(k, &d, sig),
                VerifyingKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                    .is_ok_and(|s| k.verify_strict(text.as_bytes(), &s).is_ok()),
                _ => false,
            }
    })
}

/// A small protojson reader for the trusted root's messages: fields by JSON or proto name,
/// unknown fields refused, bytes as standard or URL base64, enums by name or number.
mod proto {
    use serde_json::Value as Json;

    pub enum Ty {
        Str,
        Bytes,
        Int64,
        BytesList,
        Enum(&'static [(&'static str, i64)]),
        Time,
        Msg(&'static [Field]),
        List(&'static [Field]),
    }

    /// (JSON name, proto name, type).
    pub type Field = (&'static str, &'static str, Ty);

    pub const HASH_ALGORITHMS: &[(&str, i64)] = &[
        ("HASH_ALGORITHM_UNSPECIFIED", 0),
        ("SHA2_256", 1),
        ("SHA2_384", 2),
        ("SHA2_512", 3),
        ("SHA3_256", 4),
        ("SHA3_384", 5),
    ];

    pub const KEY_DETAILS: &[(&str, i64)] = &[
        ("PUBLIC_KEY_DETAILS_UNSPECIFIED", 0),
        ("PKCS1_RSA_PKCS1V5", 1),
        ("PKCS1_RSA_PSS", 2),
        ("PKIX_RSA_PKCS1V5", 3),
        ("PKIX_RSA_PSS", 4),
        ("PKIX_ECDSA_P256_SHA_256", 5),
        ("PKIX_ECDSA_P256_HMAC_SHA_256", 6),
        ("PKIX_ED25519", 7),
        ("PKIX_ED25519_PH", 8),
        ("PKIX_RSA_PKCS1V15_2048_SHA256", 9),
        ("PKIX_RSA_PKCS1V15_3072_SHA256", 10),
        ("PKIX_RSA_PKCS1V15_4096_SHA256", 11),
        ("PKIX_ECDSA_P384_SHA_384", 12),
        ("PKIX_ECDSA_P521_SHA_512", 13),
        ("LMS_SHA256", 14),
        ("LMOTS_SHA256", 15),
        ("PKIX_RSA_PSS_2048_SHA256", 16),
        ("PKIX_RSA_PSS_3072_SHA256", 17),
        ("PKIX_RSA_PSS_4096_SHA256", 18),
        ("PKIX_ECDSA_P384_SHA_256", 19),
        ("PKIX_ECDSA_P521_SHA_256", 20),
        ("ML_DSA_65", 21),
        ("ML_DSA_87", 22),
        ("ML_DSA_44", 23),
    ];

    // Sigstore's bundle (protobuf-specs' `dev.sigstore.bundle.v1.Bundle`)
    const KIND_VERSION: &[Field] = &[("kind", "kind", Ty::Str), ("version", "version", Ty::Str)];
    const PROMISE: &[Field] = &[("signedEntryTimestamp", "signed_entry_timestamp", Ty::Bytes)];
    const CHECKPOINT: &[Field] = &[("envelope", "envelope", Ty::Str)];
    const PROOF: &[Field] = &[
        ("logIndex", "log_index", Ty::Int64),
        ("rootHash", "root_hash", Ty::Bytes),
        ("treeSize", "tree_size", Ty::Int64),
        ("hashes", "hashes", Ty::BytesList),
        ("checkpoint", "checkpoint", Ty::Msg(CHECKPOINT)),
    ];
    const TLOG_ENTRY: &[Field] = &[
        ("logIndex", "log_index", Ty::Int64),
        ("logId", "log_id", Ty::Msg(LOG_ID)),
        ("kindVersion", "kind_version", Ty::Msg(KIND_VERSION)),
        ("integratedTime", "integrated_time", Ty::Int64),
        ("inclusionPromise", "inclusion_promise", Ty::Msg(PROMISE)),
        ("inclusionProof", "inclusion_proof", Ty::Msg(PROOF)),
        ("canonicalizedBody", "canonicalized_body", Ty::Bytes),
    ];
    const HINT: &[Field] = &[("hint", "hint", Ty::Str)];
    const SIGNED_TIMESTAMP: &[Field] = &[("signedTimestamp", "signed_timestamp", Ty::Bytes)];
    const TIMESTAMP_DATA: &[Field] = &[(
        "rfc3161Timestamps",
        "rfc3161_timestamps",
        Ty::List(SIGNED_TIMESTAMP),
    )];
    const MATERIAL: &[Field] = &[
        ("publicKey", "public_key", Ty::Msg(HINT)),
        (
            "x509CertificateChain",
            "x509_certificate_chain",
            Ty::Msg(CHAIN),
        ),
        ("certificate", "certificate", Ty::Msg(CERT)),
        ("tlogEntries", "tlog_entries", Ty::List(TLOG_ENTRY)),
        (
            "timestampVerificationData",
            "timestamp_verification_data",
            Ty::Msg(TIMESTAMP_DATA),
        ),
    ];
    const HASH_OUTPUT: &[Field] = &[
        ("algorithm", "algorithm", Ty::Enum(HASH_ALGORITHMS)),
        ("digest", "digest", Ty::Bytes),
    ];
    const MESSAGE_SIGNATURE: &[Field] = &[
        ("messageDigest", "message_digest", Ty::Msg(HASH_OUTPUT)),
        ("signature", "signature", Ty::Bytes),
    ];
    const DSSE_SIGNATURE: &[Field] = &[("sig", "sig", Ty::Bytes), ("keyid", "keyid", Ty::Str)];
    const DSSE: &[Field] = &[
        ("payload", "payload", Ty::Bytes),
        ("payloadType", "payloadType", Ty::Str),
        ("signatures", "signatures", Ty::List(DSSE_SIGNATURE)),
    ];
    pub const BUNDLE: &[Field] = &[
        ("mediaType", "media_type", Ty::Str),
        (
            "verificationMaterial",
            "verification_material",
            Ty::Msg(MATERIAL),
        ),
        (
            "messageSignature",
            "message_signature",
            Ty::Msg(MESSAGE_SIGNATURE),
        ),
        ("dsseEnvelope", "dsse_envelope", Ty::Msg(DSSE)),
    ];
    /// Fields of one `oneof`: at most one of them may be given.
    const ONEOFS: &[&[&str]] = &[
        &["publicKey", "x509CertificateChain", "certificate"],
        &["messageSignature", "dsseEnvelope"],
    ];

    const TIME_RANGE: &[Field] = &[("start", "start", Ty::Time), ("end", "end", Ty::Time)];
    const LOG_ID: &[Field] = &[("keyId", "key_id", Ty::Bytes)];
    const PUBLIC_KEY: &[Field] = &[
        ("rawBytes", "raw_bytes", Ty::Bytes),
        ("keyDetails", "key_details", Ty::Enum(KEY_DETAILS)),
        ("validFor", "valid_for", Ty::Msg(TIME_RANGE)),
    ];
    const TLOG: &[Field] = &[
        ("baseUrl", "base_url", Ty::Str),
        ("hashAlgorithm", "hash_algorithm", Ty::Enum(HASH_ALGORITHMS)),
        ("publicKey", "public_key", Ty::Msg(PUBLIC_KEY)),
        ("logId", "log_id", Ty::Msg(LOG_ID)),
        ("checkpointKeyId", "checkpoint_key_id", Ty::Msg(LOG_ID)),
        ("operator", "operator", Ty::Str),
    ];
    const DN: &[Field] = &[
        ("organization", "organization", Ty::Str),
        ("commonName", "common_name", Ty::Str),
    ];
    const CERT: &[Field] = &[("rawBytes", "raw_bytes", Ty::Bytes)];
    const CHAIN: &[Field] = &[("certificates", "certificates", Ty::List(CERT))];
    const CA: &[Field] = &[
        ("subject", "subject", Ty::Msg(DN)),
        ("uri", "uri", Ty::Str),
        ("certChain", "cert_chain", Ty::Msg(CHAIN)),
        ("validFor", "valid_for", Ty::Msg(TIME_RANGE)),
        ("operator", "operator", Ty::Str),
    ];
    pub const TRUSTED_ROOT: &[Field] = &[
        ("mediaType", "media_type", Ty::Str),
        ("tlogs", "tlogs", Ty::List(TLOG)),
        (
            "certificateAuthorities",
            "certificate_authorities",
            Ty::List(CA),
        ),
        ("ctlogs", "ctlogs", Ty::List(TLOG)),
        (
            "timestampAuthorities",
            "timestamp_authorities",
            Ty::List(CA),
        ),
    ];

    /// A decoded message: its set fields by JSON name (bytes decoded, enums as numbers).
    pub struct Msg {
        fields: Vec<(&'static str, Val)>,
    }

    pub enum Val {
        Json(Json),
        Bytes(Vec<u8>),
        BytesList(Vec<Vec<u8>>),
        Msg(Msg),
        List(Vec<Msg>),
    }

    impl Msg {
        fn val(&self, k: &str) -> Option<&Val> {
            self.fields.iter().find(|f| f.0 == k).map(|f| &f.1)
        }
        pub fn get(&self, k: &str) -> Option<&Json> {
            match self.val(k)? {
                Val::Json(j) => Some(j),
                _ => None,
            }
        }
        pub fn str(&self, k: &str) -> String {
            self.get(k)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        }
        pub fn bytes(&self, k: &str) -> Option<&[u8]> {
            match self.val(k)? {
                Val::Bytes(b) => Some(b),
                _ => None,
            }
        }
        pub fn has(&self, k: &str) -> bool {
            self.val(k).is_some()
        }
        pub fn int(&self, k: &str) -> i64 {
            self.get(k).and_then(Json::as_i64).unwrap_or(0)
        }
        pub fn bytes_list(&self, k: &str) -> &[Vec<u8>] {
            match self.val(k) {
                Some(Val::BytesList(l)) => l,
                _ => &[],
            }
        }
        pub fn msg(&self, k: &str) -> Option<&Msg> {
            match self.val(k)? {
                Val::Msg(m) => Some(m),
                _ => None,
            }
        }
        pub fn list(&self, k: &str) -> &[Msg] {
            match self.val(k) {
                Some(Val::List(l)) => l,
                _ => &[],
            }
        }
        /// An enum field as Go's `String()` prints it (the name, else the number).
        pub fn enum_name(&self, k: &str, names: &[(&str, i64)]) -> String {
            let n = self.get(k).and_then(Json::as_i64).unwrap_or(0);
            names
                .iter()
                .find(|e| e.1 == n)
                .map_or_else(|| n.to_string(), |e| e.0.to_string())
        }
    }

    /// protojson's error for a document that is no JSON object, with the line and column
    /// of its first token.
    pub fn top_level(data: &[u8], v: &Json) -> Result<(), String> {
        if v.is_object() {
            return Ok(());
        }
        let at = data
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(0);
        let line = 1 + data[..at].iter().filter(|&&c| c == b'\n').count();
        let col = 1 + at
            - data[..at]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1);
        Err(format!(
            "proto: syntax error (line {line}:{col}): unexpected token {}",
            token(v)
        ))
    }

    /// Decodes `v` as the message of `fields`; `Err`: why protojson refuses it.
    pub fn decode(v: &Json, fields: &'static [Field]) -> Result<Msg, String> {
        let Json::Object(obj) = v else {
            return Err(format!("syntax error: unexpected token {}", token(v)));
        };
        let mut out = Msg { fields: Vec::new() };
        for (k, v) in obj {
            let Some((name, _, ty)) = fields.iter().find(|f| f.0 == k || f.1 == k) else {
                return Err(format!("unknown field {k:?}"));
            };
            if out.val(name).is_some() {
                return Err(format!("duplicate field {k:?}"));
            }
            if v.is_null() {
                continue;
            }
            if let Some(group) = ONEOFS.iter().find(|g| g.contains(name))
                && let Some(set) = group.iter().find(|g| out.val(g).is_some())
            {
                return Err(format!(
                    "error parsing {k:?}, oneof field {set:?} is already set"
                ));
            }
            let bad = || {
                format!(
                    "invalid value for {} field {}: {}",
                    kind(ty),
                    name,
                    token(v)
                )
            };
            let val = match ty {
                Ty::Str => Val::Json(Json::String(v.as_str().ok_or_else(bad)?.to_string())),
                Ty::Bytes => {
                    let b = base64(v.as_str().ok_or_else(bad)?).ok_or_else(bad)?;
                    // proto3: empty bytes are the unset field (Go reads nil)
                    if b.is_empty() {
                        continue;
                    }
                    Val::Bytes(b)
                }
                Ty::BytesList => Val::BytesList(
                    v.as_array()
                        .ok_or_else(bad)?
                        .iter()
                        .map(|b| b.as_str().and_then(base64).ok_or_else(bad))
                        .collect::<Result<_, _>>()?,
                ),
                Ty::Int64 => {
                    let n = match v {
                        Json::String(s) => s.parse::<i64>().ok(),
                        Json::Number(n) => n.as_i64(),
                        _ => None,
                    };
                    Val::Json(Json::from(n.ok_or_else(bad)?))
                }
                Ty::Enum(names) => {
                    let n = match v {
                        Json::String(s) => names.iter().find(|e| e.0 == s).map(|e| e.1),
                        Json::Number(n) => n.as_i64().filter(|n| i32::try_from(*n).is_ok()),
                        _ => None,
                    };
                    Val::Json(Json::from(n.ok_or_else(bad)?))
                }
                Ty::Time => {
                    let s = v.as_str().ok_or_else(bad)?;
                    timestamp(s).ok_or_else(bad)?;
                    Val::Json(Json::String(s.to_string()))
                }
                Ty::Msg(f) => Val::Msg(decode(v, f)?),
                Ty::List(f) => {
                    let items = v.as_array().ok_or_else(bad)?;
                    Val::List(
                        items
                            .iter()
                            .map(|i| decode(i, f))
                            .collect::<Result<_, _>>()?,
                    )
                }
            };
            out.fields.push((name, val));
        }
        Ok(out)
    }

    fn kind(ty: &Ty) -> &'static str {
        match ty {
            Ty::Str => "string",
            Ty::Bytes | Ty::BytesList => "bytes",
            Ty::Int64 => "int64",
            Ty::Enum(_) => "enum",
            Ty::Time => "google.protobuf.Timestamp",
            Ty::Msg(_) | Ty::List(_) => "message",
        }
    }

    fn token(v: &Json) -> String {
        match v {
            Json::Object(_) => "{".into(),
            Json::Array(_) => "[".into(),
            other => other.to_string(),
        }
    }

    /// protojson's bytes: standard or URL-safe base64, padded or not.
    fn base64(s: &str) -> Option<Vec<u8>> {
        use base64::Engine as _;
        use base64::engine::general_purpose as g;
        let url = s.contains(['-', '_']);
        let trimmed = s.trim_end_matches('=');
        if url {
            g::URL_SAFE_NO_PAD.decode(trimmed).ok()
        } else {
            g::STANDARD_NO_PAD.decode(trimmed).ok()
        }
    }

    /// An RFC 3339 timestamp (`Z` or an offset, up to nine fractional digits) as Unix
    /// seconds.
    pub fn timestamp(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            i += 1 + n;
        }
        let offset = match &s[i..] {
            "Z" => 0,
            o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
                let v = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
                if o.starts_with('-') { -v } else { v }
            }
            _ => return None,
        };
        // days from the civil date (proleptic Gregorian)
        let (y, m) = if mo <= 2 {
            (y - 1, mo + 9)
        } else {
            (y, mo - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
    }
}

/// Every parser of this module over arbitrary bytes (the fuzz target's body): none may
/// panic.
pub(super) fn parse_anything(data: &[u8]) {
    if let Some(c) = Cert::parse(data) {
        let _ = fulcio_issuer(&c.extensions);
        let _ = other_name_san(&c.extensions);
        let _ = identity_matches(&c, "x", "y");
    }
    let _ = der_string(data);
    let _ = other_name_san(&[("2.5.29.17".into(), false, data.to_vec())]);
    if let Ok(json) = serde_json::from_slice::<Json>(data)
        && let Ok(tr) = proto::decode(&json, proto::TRUSTED_ROOT)
    {
        let _ = tr.list("tlogs").iter().map(parse_tlog).count();
        let _ = tr
            .list("certificateAuthorities")
            .iter()
            .map(parse_authority)
            .count();
    }
    if let Ok(json) = serde_json::from_slice::<Json>(data)
        && let Ok(b) = proto::decode(&json, proto::BUNDLE)
    {
        for e in tlog_entries(&b) {
            let _ = parse_tlog_entry(e);
        }
    }
    let _ = rekor_body(data);
    let _ = proto::timestamp(&String::from_utf8_lossy(data));
    rfc3161::parse_anything(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_unix_seconds() {
        assert_eq!(proto::timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            proto::timestamp("2021-01-12T11:53:27Z"),
            Some(1_610_452_407)
        );
        assert_eq!(
            proto::timestamp("2021-01-12T11:53:27.123Z"),
            Some(1_610_452_407)
        );
        assert_eq!(
            proto::timestamp("2021-01-12T12:53:27+01:00"),
            Some(1_610_452_407)
        );
        assert_eq!(proto::timestamp("2021-01-12 11:53:27Z"), None);
        assert_eq!(proto::timestamp("2021-13-12T11:53:27Z"), None);
        assert_eq!(proto::timestamp("2021-01-12T11:53:27"), None);
    }

    #[test]
    fn der_strings_as_go_reads_them() {
        assert_eq!(der_string(&[12, 2, b'h', b'i']).as_deref(), Some("hi"));
        assert_eq!(der_string(&[22, 1, b'a']).as_deref(), Some("a"));
        assert_eq!(der_string(&[19, 1, b'!']), None);
        assert_eq!(der_string(&[12, 1, b'a', 0]), None, "trailing bytes");
        assert_eq!(
            der_string(b"https://x"),
            None,
            "raw bytes are no DER string"
        );
    }

    #[test]
    fn protojson_refuses_unknown_fields_and_wrong_types() {
        let d = |s: &str| proto::decode(&serde_json::from_str(s).unwrap(), proto::TRUSTED_ROOT);
        assert!(d(r#"{"mediaType": "x", "tlogs": []}"#).is_ok());
        assert!(d(r#"{"media_type": "x"}"#).is_ok());
        assert_eq!(
            d(r#"{"mediaTypes": "x"}"#).err().as_deref(),
            Some("unknown field \"mediaTypes\"")
        );
        assert!(d(r#"{"mediaType": 1}"#).is_err());
        assert!(d(r#"{"tlogs": [{"hashAlgorithm": "SHA9"}]}"#).is_err());
        let m = d(r#"{"tlogs": [{"hashAlgorithm": 2, "logId": {"keyId": "AAE="}}]}"#).unwrap();
        let log = &m.list("tlogs")[0];
        assert_eq!(
            log.enum_name("hashAlgorithm", proto::HASH_ALGORITHMS),
            "SHA2_384"
        );
        assert_eq!(
            log.msg("logId").unwrap().bytes("keyId"),
            Some(&[0u8, 1][..])
        );
    }
}
