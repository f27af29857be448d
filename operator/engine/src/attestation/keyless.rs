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

use std::path::Path;

use sha2::Digest as _;
use x509_cert::der::{Decode as _, Encode as _};

use super::{VerifyingKey, go_file_error, pae, parse_public};
use serde_json::Value as Json;

const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

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

    /// ECDSA (ASN.1) over the curve's hash, ed25519 over the message, RSA PKCS#1 v1.5 over
    /// SHA-256.
    fn verify(&self, m: &[u8], sig: &[u8]) -> bool {
        use ecdsa_prehash as e;
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

// ---------------------------------------------------------------------------------------
// Certificates as Go's x509 reads and verifies them
// ---------------------------------------------------------------------------------------

/// What Go's `x509.Certificate` holds that verification reads.
struct Cert {
    raw: Vec<u8>,
    tbs: Vec<u8>,
    sig_alg: String,
    signature: Vec<u8>,
    raw_issuer: Vec<u8>,
    raw_subject: Vec<u8>,
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
    uris: Vec<String>,
    emails: Vec<String>,
    /// (OID, critical, value) in the certificate's order.
    extensions: Vec<(String, bool, Vec<u8>)>,
    unhandled_critical: bool,
    name_constraints: bool,
}

const KEY_USAGE_CERT_SIGN: u16 = 1 << 5;

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
            uris: Vec::new(),
            emails: Vec::new(),
            extensions: Vec::new(),
            unhandled_critical: false,
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
                    for u in &eku.0 {
                        match u.to_string().as_str() {
                            "2.5.29.37.0" => cert.eku_any = true,
                            "1.3.6.1.5.5.7.3.3" => cert.eku_code_signing = true,
                            _ => {}
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
                cert.unhandled_critical = true;
            }
            cert.extensions.push((oid, e.critical, v.to_vec()));
        }
        Some(cert)
    }

    /// `isValid` for the certificate's place in the chain (`chain`: the certificates below).
    fn is_valid(&self, ca: bool, chain: &[&Cert], now: i64) -> bool {
        if self.unhandled_critical {
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
    use ecdsa_prehash as e;
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
        if !leaf.is_valid(false, &[], now) {
            return false;
        }
        let chains = if leaf.raw == self.root.raw {
            vec![vec![leaf]]
        } else {
            let mut checks = 0;
            self.build_chains(vec![leaf], &mut checks, now)
        };
        chains.iter().any(|c| code_signing_allowed(c))
    }

    /// Go's `buildChains`: each root, then each intermediate, whose subject is the issuer of
    /// the chain's last certificate and whose key signed it.
    fn build_chains<'a>(
        &'a self,
        chain: Vec<&'a Cert>,
        checks: &mut usize,
        now: i64,
    ) -> Vec<Vec<&'a Cert>> {
        let Some(cert) = chain.last().copied() else {
            return Vec::new();
        };
        let mut chains = Vec::new();
        let candidates = std::iter::once((true, &self.root))
            .chain(self.intermediates.iter().map(|c| (false, c)));
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
                chains.extend(self.build_chains(next, checks, now));
            }
        }
        chains
    }
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
    let tr = proto::decode(&json, proto::TRUSTED_ROOT)
        .map_err(|e| format!("failed to proto-json unmarshal trusted root: proto: {e}"))?;
    let media_type = tr.str("mediaType");
    if media_type != TRUSTED_ROOT_MEDIA_TYPE {
        return Err(format!("unsupported TrustedRoot media type: {media_type}"));
    }
    for log in tr.list("tlogs") {
        parse_tlog(log)?;
    }
    let mut authorities = Vec::new();
    for ca in tr.list("certificateAuthorities") {
        authorities.push(parse_authority(ca)?);
    }
    for tsa in tr.list("timestampAuthorities") {
        parse_authority(tsa)?;
    }
    for log in tr.list("ctlogs") {
        parse_tlog(log)?;
    }
    Ok(TrustedRoot { authorities })
}

/// `ParseTransparencyLogs` for one log.
fn parse_tlog(log: &proto::Msg) -> Result<(), String> {
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
    match details.as_str() {
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
        }
        "PKCS1_RSA_PKCS1V5" => {
            use rsa::pkcs1::DecodeRsaPublicKey as _;
            rsa::RsaPublicKey::from_pkcs1_der(raw).map_err(|_| {
                parse_err("x509: failed to parse public key (use ParsePKIXPublicKey instead for this key format)")
            })?;
        }
        _ => return Err(format!("unsupported tlog public key type: {details}")),
    }
    let Some(valid_for) = pk.msg("validFor") else {
        return Err("tlog missing public key validity period".into());
    };
    if valid_for.get("start").is_none() {
        return Err("tlog missing public key validity period start time".into());
    }
    Ok(())
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

/// Whether `path` (a Sigstore bundle beside the attestation, or `-bundle`) carries a
/// transparency-log entry or an RFC 3161 timestamp: Packer then verifies the bundle instead
/// (`bundleAnchorsSigningTime`; the bundle read loosely, a bundle sigstore-go refuses being
/// one without them).
pub(super) fn bundle_anchors_signing_time(path: &str) -> bool {
    let Ok(data) = std::fs::read(Path::new(path)) else {
        return false;
    };
    let Ok(b) = serde_json::from_slice::<Json>(&data) else {
        return false;
    };
    let vm = b
        .get("verificationMaterial")
        .or_else(|| b.get("verification_material"));
    let non_empty = |v: Option<&Json>| v.and_then(Json::as_array).is_some_and(|a| !a.is_empty());
    b.get("mediaType")
        .or_else(|| b.get("media_type"))
        .and_then(Json::as_str)
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
        && vm.is_some_and(|vm| {
            non_empty(vm.get("tlogEntries").or_else(|| vm.get("tlog_entries")))
                || vm
                    .get("timestampVerificationData")
                    .or_else(|| vm.get("timestamp_verification_data"))
                    .is_some_and(|t| {
                        non_empty(
                            t.get("rfc3161Timestamps")
                                .or_else(|| t.get("rfc3161_timestamps")),
                        )
                    })
        })
}

/// A small protojson reader for the trusted root's messages: fields by JSON or proto name,
/// unknown fields refused, bytes as standard or URL base64, enums by name or number.
mod proto {
    use serde_json::Value as Json;

    pub enum Ty {
        Str,
        Bytes,
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
                Ty::Bytes => Val::Bytes(base64(v.as_str().ok_or_else(bad)?).ok_or_else(bad)?),
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
            Ty::Bytes => "bytes",
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
    let _ = proto::timestamp(&String::from_utf8_lossy(data));
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
