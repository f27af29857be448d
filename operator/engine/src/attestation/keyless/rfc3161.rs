//! RFC 3161 timestamps of a Sigstore bundle, as sigstore-go's `SigstoreTimestampingAuthority`
//! verifies them with sigstore's timestamp-authority (`VerifyTimestampResponse`) over
//! digitorus' `timestamp` and `pkcs7` parsers: the response and its token (CMS SignedData
//! of a TSTInfo), the token's signature by its signer certificate, that certificate's chain
//! to the authority's root for time stamping at the stamped time, its critical time-stamping
//! usage, the message imprint over the bundle's signature, the authority's validity window.

use sha2::Digest as _;

use super::{Cert, check_signature};
use crate::attestation::{der_next, der_take};

/// A timestamp authority of the trusted root (`ParseTimestampingAuthority`: the chain's
/// first certificate is the leaf when it is no CA, the last the root).
pub(super) struct Tsa {
    pub root: Option<Cert>,
    pub intermediates: Vec<Cert>,
    pub leaf: Option<Cert>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub uri: String,
}

/// A parsed time-stamp token.
struct Token {
    /// The TSTInfo, the content the signer signed.
    content: Vec<u8>,
    certificates: Vec<Cert>,
    signers: Vec<Signer>,
    hash_alg: &'static str,
    hashed_message: Vec<u8>,
    time: i64,
}

struct Signer {
    issuer: Vec<u8>,
    serial: Vec<u8>,
    digest_alg: String,
    signed_attrs: Option<SignedAttrs>,
    sig_alg: String,
    signature: Vec<u8>,
}

/// A signer's signed attributes: re-tagged as a SET (what the signature covers), and the
/// message digest and signing time among them.
struct SignedAttrs {
    set: Vec<u8>,
    message_digest: Option<Vec<u8>>,
    signing_time: Option<i64>,
}

const SHA1: &str = "1.3.14.3.2.26";
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const SHA384: &str = "2.16.840.1.101.3.4.2.2";
const SHA512: &str = "2.16.840.1.101.3.4.2.3";

impl Tsa {
    /// `SigstoreTimestampingAuthority.Verify`: the stamped time (Unix seconds), or why not.
    pub fn verify(&self, tsr: &[u8], signature: &[u8]) -> Result<i64, String> {
        let Some(root) = &self.root else {
            let uri = if self.uri.is_empty() {
                String::new()
            } else {
                format!("{} ", self.uri)
            };
            return Err(format!(
                "timestamping authority {uri}root certificate is nil"
            ));
        };
        let ts = parse_response(tsr).map_err(|(parse_error, e)| {
            if parse_error {
                format!("timestamp response is not valid: {e}")
            } else {
                format!("error parsing response into Timestamp: {e}")
            }
        })?;
        match ts.hash_alg {
            "sha1" => {
                return Err("weak hash algorithm: must be SHA-256, SHA-384, or SHA-512".into());
            }
            "sha256" | "sha384" | "sha512" => {}
            _ => return Err("unsupported hash algorithm".into()),
        }
        // verifyTSRWithChain
        if ts.certificates.is_empty() && self.leaf.is_none() {
            return Err("leaf certificate must be present in the TSR or as a verify option".into());
        }
        let certs: Vec<&Cert> = if ts.certificates.is_empty() {
            self.leaf.iter().collect()
        } else {
            ts.certificates.iter().collect()
        };
        // (`timestamp.Parse` verified a token carrying certificates already; pkcs7's second
        // verification there can only meet the same answer)
        if ts.certificates.is_empty() {
            verify_signers(&ts, &certs)
                .map_err(|e| format!("error while verifying signature: {e}"))?;
        }
        let signer = match ts.signers.as_slice() {
            [s] => certs
                .iter()
                .find(|c| c.raw_issuer == s.issuer && c.serial == s.serial)
                .copied(),
            _ => None,
        }
        .ok_or("signer certificate was not found")?;
        if let Some(leaf) = &self.leaf
            && leaf.raw != signer.raw
        {
            return Err(
                "certificate embedded in the TSR does not match the provided TSA certificate"
                    .into(),
            );
        }
        let intermediates: Vec<&Cert> = self
            .intermediates
            .iter()
            .chain(ts.certificates.iter())
            .collect();
        let chains = super::build_verified_chains(signer, root, &intermediates, ts.time)
            .map_err(|e| format!("error while verifying signer certificate chain: {e}"))?;
        let time_stamping = |c: &Cert| !c.eku_given || c.eku_any || c.eku_time_stamping;
        if !chains.iter().any(|c| c.iter().all(|c| time_stamping(c))) {
            return Err("error while verifying signer certificate chain: x509: certificate specifies an incompatible key usage".into());
        }
        // verifyLeafCert
        if !signer.eku_critical {
            return Err(
                "failed to verify TSA certificate: certificate must set EKU to critical".into(),
            );
        }
        if signer.eku_known != 1 {
            return Err(format!(
                "failed to verify EKU on leaf certificate: failed to verify EKU on leaf certificate: certificate has {} extended key usages, expected only one",
                signer.eku_known
            ));
        }
        if !signer.eku_time_stamping {
            return Err("failed to verify EKU on leaf certificate: failed to verify EKU on leaf certificate: leaf certificate EKU is not set to TimeStamping as required".into());
        }
        let intermediate_ok = |c: &Cert| c.eku_known == 0 || c.eku_time_stamping || c.eku_any;
        if !chains.iter().any(|chain| {
            chain.len() < 3 || chain[1..chain.len() - 1].iter().all(|c| intermediate_ok(c))
        }) {
            return Err("failed to verify EKU on leaf certificate: no verified certificate chain met EKU requirements: intermediate certificate does not allow Timestamping usage".into());
        }
        // verifyHashedMessages
        if digest(ts.hash_alg, signature) != ts.hashed_message {
            return Err("hashed messages don't match".into());
        }
        if self.start.is_some_and(|s| ts.time < s) {
            return Err("timestamp is before the validity period start".into());
        }
        if self.end.is_some_and(|e| ts.time > e) {
            return Err("timestamp is after the validity period end".into());
        }
        Ok(ts.time)
    }
}

fn digest(alg: &str, data: &[u8]) -> Vec<u8> {
    match alg {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => sha2::Sha256::digest(data).to_vec(),
    }
}

fn hash_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        SHA1 => "sha1",
        SHA256 => "sha256",
        SHA384 => "sha384",
        SHA512 => "sha512",
        _ => return None,
    })
}

/// pkcs7's `verifySignature` for each signer: its certificate, the message digest among the
/// signed attributes, the signing time within the certificate, the signature.
fn verify_signers(ts: &Token, certs: &[&Cert]) -> Result<(), String> {
    if ts.signers.is_empty() {
        return Err("pkcs7: Message has no signers".into());
    }
    for s in &ts.signers {
        let cert = certs
            .iter()
            .find(|c| c.raw_issuer == s.issuer && c.serial == s.serial)
            .ok_or("pkcs7: No certificate for signer")?;
        let mut signed = ts.content.clone();
        if let Some(attrs) = &s.signed_attrs {
            let md = attrs
                .message_digest
                .as_ref()
                .ok_or("pkcs7: attribute type not in attributes")?;
            let Some(alg) = hash_name(&s.digest_alg) else {
                return Err("pkcs7: cannot calculate digest".into());
            };
            let computed = digest(alg, &ts.content);
            if *md != computed {
                let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
                return Err(format!(
                    "pkcs7: Message digest mismatch\n\tExpected: {}\n\tActual  : {}",
                    hex(md),
                    hex(&computed)
                ));
            }
            signed = attrs.set.clone();
            if let Some(t) = &attrs.signing_time
                && (*t > cert.not_after || *t < cert.not_before)
            {
                return Err(format!(
                    "pkcs7: signing time \"{}\" is outside of certificate validity \"{}\" to \"{}\"",
                    super::rfc3339_secs(*t),
                    super::rfc3339_secs(cert.not_before),
                    super::rfc3339_secs(cert.not_after)
                ));
            }
        }
        let alg = signature_algorithm(&s.sig_alg, &s.digest_alg)?;
        let Some(key) = &cert.key else {
            return Err("x509: cannot verify signature: algorithm unimplemented".into());
        };
        if !check_signature(&alg, &signed, &s.signature, key) {
            return Err("x509: ECDSA verification failure".into());
        }
    }
    Ok(())
}

/// pkcs7's `getSignatureAlgorithm`, as the x509 signature algorithm's OID.
fn signature_algorithm(enc: &str, digest: &str) -> Result<String, String> {
    let by_digest = |ecdsa: bool| -> Result<String, String> {
        let (e, r) = match digest {
            SHA1 => ("1.2.840.10045.4.1", "1.2.840.113549.1.1.5"),
            SHA256 => ("1.2.840.10045.4.3.2", "1.2.840.113549.1.1.11"),
            SHA384 => ("1.2.840.10045.4.3.3", "1.2.840.113549.1.1.12"),
            SHA512 => ("1.2.840.10045.4.3.4", "1.2.840.113549.1.1.13"),
            _ => {
                return Err(format!(
                    "pkcs7: unsupported digest \"{digest}\" for encryption algorithm \"{enc}\""
                ));
            }
        };
        Ok(if ecdsa { e } else { r }.to_string())
    };
    match enc {
        "1.2.840.10045.4.1"
        | "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3"
        | "1.2.840.10045.4.3.4"
        | "1.3.101.112" => Ok(enc.to_string()),
        "1.2.840.113549.1.1.1"
        | "1.2.840.113549.1.1.5"
        | "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12"
        | "1.2.840.113549.1.1.13" => by_digest(false),
        "1.2.840.10045.3.1.7" | "1.3.132.0.34" | "1.3.132.0.35" => by_digest(true),
        _ => Err(format!("pkcs7: unsupported algorithm \"{enc}\"")),
    }
}

// ---------------------------------------------------------------------------------------
// DER: the response, the CMS SignedData, the TSTInfo
// ---------------------------------------------------------------------------------------

/// `timestamp.ParseResponse`; `Err((is a ParseError, text))`.
fn parse_response(b: &[u8]) -> Result<Token, (bool, String)> {
    let asn1 = |e: String| (false, e);
    let (body, rest) = go_sequence(b, "response").map_err(asn1)?;
    if !rest.is_empty() {
        return Err((true, "trailing data in Time-Stamp response".into()));
    }
    let bad = || {
        (
            false,
            "asn1: structure error: malformed Time-Stamp response".to_string(),
        )
    };
    let (status, after) = der_take(body, 0x30).ok_or_else(bad)?;
    let (code, strings_and_info) = der_take(status, 0x02).ok_or_else(bad)?;
    let code = code.iter().fold(0i64, |a, &x| (a << 8) | i64::from(x));
    if code > 0 {
        let mut strings = Vec::new();
        let mut fail_info = None;
        let mut r = strings_and_info;
        while let Some((t, c, rest)) = der_next(r) {
            match t {
                0x30 => {
                    let mut s = c;
                    while let Some((_, v, rest)) = der_next(s) {
                        strings.push(String::from_utf8_lossy(v).into_owned());
                        s = rest;
                    }
                }
                0x03 => fail_info = Some(c.to_vec()),
                _ => {}
            }
            r = rest;
        }
        let status = match code {
            1 => "the request is granted with modifications".to_string(),
            2 => "the request is rejected".into(),
            3 => "the request is waiting".into(),
            4 => "revocation is imminent".into(),
            5 => "revocation has occurred".into(),
            n => format!("unknown status: {n}"),
        };
        let failure = fail_info.and_then(|f| {
            let bit = |i: usize| {
                f.get(1 + i / 8)
                    .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
            };
            [
                (0, "unrecognized or unsupported Algorithm Identifier"),
                (2, "transaction not permitted or supported"),
                (5, "the data submitted has the wrong format"),
                (14, "the TSA's time source is not available"),
                (15, "the requested TSA policy is not supported by the TSA"),
                (16, "the requested extension is not supported by the TSA"),
                (17, "the additional information requested could not be understood or is not available"),
                (25, "the request cannot be handled due to system failure"),
            ]
            .into_iter()
            .find(|(i, _)| bit(*i))
            .map(|x| x.1)
        });
        return Err((
            false,
            format!(
                "{status}: {} ({})",
                strings.join(","),
                failure.unwrap_or("")
            ),
        ));
    }
    let Some((_, token_body, _)) = der_next(after) else {
        return Err((true, "no pkcs7 data in Time-Stamp response".into()));
    };
    if token_body.is_empty() {
        return Err((true, "no pkcs7 data in Time-Stamp response".into()));
    }
    let token_len = after.len() - der_next(after).map_or(0, |x| x.2.len());
    parse_token(&after[..token_len])
}

/// `timestamp.Parse`: the CMS SignedData (its signature checked when it carries
/// certificates), then the TSTInfo.
fn parse_token(b: &[u8]) -> Result<Token, (bool, String)> {
    let bad = |what: &str| (false, format!("pkcs7: cannot parse {what}"));
    let (ci, _) = der_take(b, 0x30).ok_or_else(|| bad("content info"))?;
    let (oid, rest) = der_take(ci, 0x06).ok_or_else(|| bad("content type"))?;
    if oid_string(oid) != "1.2.840.113549.1.7.2" {
        return Err((
            false,
            "pkcs7: cannot parse data: unimplemented content type".into(),
        ));
    }
    let (explicit, _) = der_take(rest, 0xa0).ok_or_else(|| bad("signed data"))?;
    let (sd, _) = der_take(explicit, 0x30).ok_or_else(|| bad("signed data"))?;
    let (_, sd) = der_take(sd, 0x02).ok_or_else(|| bad("version"))?;
    let (_, sd) = der_take(sd, 0x31).ok_or_else(|| bad("digest algorithms"))?;
    let (eci, mut sd) = der_take(sd, 0x30).ok_or_else(|| bad("encapsulated content"))?;
    let (_, eci_rest) = der_take(eci, 0x06).ok_or_else(|| bad("encapsulated content"))?;
    let content = match der_take(eci_rest, 0xa0) {
        Some((e, _)) => der_take(e, 0x04).map(|x| x.0.to_vec()).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut certificates = Vec::new();
    if let Some((certs, rest)) = der_take(sd, 0xa0) {
        let mut c = certs;
        while let Some((_, _, rest)) = der_next(c) {
            let raw = &c[..c.len() - rest.len()];
            certificates.push(
                Cert::parse(raw)
                    .ok_or_else(|| (false, "x509: malformed certificate".to_string()))?,
            );
            c = rest;
        }
        sd = rest;
    }
    if let Some((_, rest)) = der_take(sd, 0xa1) {
        sd = rest;
    }
    let (infos, _) = der_take(sd, 0x31).ok_or_else(|| bad("signer infos"))?;
    let mut signers = Vec::new();
    let mut r = infos;
    while let Some((si, rest)) = der_take(r, 0x30) {
        signers.push(parse_signer(si).ok_or_else(|| bad("signer info"))?);
        r = rest;
    }
    let mut token = Token {
        content,
        certificates,
        signers,
        hash_alg: "",
        hashed_message: Vec::new(),
        time: 0,
    };
    if !token.certificates.is_empty() {
        let certs: Vec<&Cert> = token.certificates.iter().collect();
        verify_signers(&token, &certs).map_err(|e| (false, e))?;
    }
    // TSTInfo: version, policy, messageImprint, serialNumber, genTime, …
    let asn1_err = || {
        (
            false,
            "asn1: structure error: malformed TSTInfo".to_string(),
        )
    };
    let (info, _) = der_take(&token.content, 0x30).ok_or_else(asn1_err)?;
    let (_, info) = der_take(info, 0x02).ok_or_else(asn1_err)?;
    let (_, info) = der_take(info, 0x06).ok_or_else(asn1_err)?;
    let (imprint, info) = der_take(info, 0x30).ok_or_else(asn1_err)?;
    let (_, info) = der_take(info, 0x02).ok_or_else(asn1_err)?;
    let (gen_time, _) = der_take(info, 0x18).ok_or_else(asn1_err)?;
    let (alg, imprint_rest) = der_take(imprint, 0x30).ok_or_else(asn1_err)?;
    let (alg_oid, _) = der_take(alg, 0x06).ok_or_else(asn1_err)?;
    let (hashed, _) = der_take(imprint_rest, 0x04).ok_or_else(asn1_err)?;
    if hashed.is_empty() {
        return Err((
            true,
            "Time-Stamp response contains no hashed message".into(),
        ));
    }
    token.hashed_message = hashed.to_vec();
    token.time = generalized_time(gen_time).ok_or_else(asn1_err)?;
    token.hash_alg = hash_name(&oid_string(alg_oid)).ok_or((
        true,
        "Time-Stamp response uses unknown hash function".to_string(),
    ))?;
    Ok(token)
}

/// One SignerInfo: version, issuer and serial, digest algorithm, signed attributes,
/// signature algorithm, signature.
fn parse_signer(si: &[u8]) -> Option<Signer> {
    let (_, si) = der_take(si, 0x02)?;
    let (ias, si) = der_take(si, 0x30)?;
    let (_, _, after_issuer) = der_next(ias)?;
    let issuer = ias[..ias.len() - after_issuer.len()].to_vec();
    let (serial, _) = der_take(after_issuer, 0x02)?;
    let (dalg, si) = der_take(si, 0x30)?;
    let (digest_alg, _) = der_take(dalg, 0x06)?;
    let (signed_attrs, si) = match der_next(si)? {
        (0xa0, body, rest) => {
            let mut set = si[..si.len() - rest.len()].to_vec();
            set[0] = 0x31;
            let (mut md, mut time) = (None, None);
            let mut r = body;
            while let Some((attr, rest)) = der_take(r, 0x30) {
                let (oid, values) = der_take(attr, 0x06)?;
                let (vals, _) = der_take(values, 0x31)?;
                match oid_string(oid).as_str() {
                    "1.2.840.113549.1.9.4" => md = der_take(vals, 0x04).map(|x| x.0.to_vec()),
                    "1.2.840.113549.1.9.5" => {
                        time = match der_next(vals)? {
                            (0x17, t, _) => utc_time(t),
                            (0x18, t, _) => generalized_time(t),
                            _ => None,
                        }
                    }
                    _ => {}
                }
                r = rest;
            }
            (
                Some(SignedAttrs {
                    set,
                    message_digest: md,
                    signing_time: time,
                }),
                rest,
            )
        }
        _ => (None, si),
    };
    let (salg, si) = der_take(si, 0x30)?;
    let (sig_alg, _) = der_take(salg, 0x06)?;
    let (signature, _) = der_take(si, 0x04)?;
    Some(Signer {
        issuer,
        serial: serial.to_vec(),
        digest_alg: oid_string(digest_alg),
        signed_attrs,
        sig_alg: oid_string(sig_alg),
        signature: signature.to_vec(),
    })
}

/// An OID's dotted form.
fn oid_string(b: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for (i, &x) in b.iter().enumerate() {
        v = (v << 7) | u64::from(x & 0x7f);
        if x & 0x80 == 0 {
            if parts.is_empty() && i < 9 {
                let first = (v / 40).min(2);
                parts.push(first);
                parts.push(v - first * 40);
            } else {
                parts.push(v);
            }
            v = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// `YYYYMMDDHHMMSS[.f…]Z` as Unix seconds.
fn generalized_time(t: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(t).ok()?;
    let s = s.strip_suffix('Z')?;
    let (whole, _frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 14 {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14]
    );
    super::proto::timestamp(&rfc)
}

/// `YYMMDDHHMMSSZ` (years 50–99 in the 1900s) as Unix seconds.
fn utc_time(t: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(t).ok()?.strip_suffix('Z')?;
    if s.len() != 12 {
        return None;
    }
    let yy: i64 = s[0..2].parse().ok()?;
    let century = if yy >= 50 { "19" } else { "20" };
    generalized_time(format!("{century}{s}Z").as_bytes())
}

/// Go's `asn1` reading of the SEQUENCE a struct expects, in its words: the header
/// (`data truncated`, an indefinite length, superfluous zeros), then the tag, then the length.
fn go_sequence<'a>(b: &'a [u8], ty: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    const TRUNCATED: &str = "asn1: syntax error: data truncated";
    if b.len() < 2 {
        return Err(TRUNCATED.into());
    }
    if b[0] & 0x1f == 0x1f {
        return Err(tags_dont_match(b, ty));
    }
    let l0 = b[1];
    if l0 == 0x80 {
        return Err("asn1: syntax error: indefinite length found (not DER)".into());
    }
    if l0 & 0x80 != 0 {
        let n = usize::from(l0 & 0x7f);
        if b.len() < 2 + n {
            return Err(TRUNCATED.into());
        }
        if b[2] == 0 {
            return Err("asn1: structure error: superfluous leading zeros in length".into());
        }
    }
    if b[0] != 0x30 {
        return Err(tags_dont_match(b, ty));
    }
    der_take(b, 0x30).ok_or_else(|| TRUNCATED.into())
}

/// Go's `tags don't match` for a value that is not the SEQUENCE a struct expects.
fn tags_dont_match(b: &[u8], ty: &str) -> String {
    let (class, compound, tag) = (b[0] >> 6, b[0] & 0x20 != 0, b[0] & 0x1f);
    let (len, at) = match b.get(1) {
        Some(&l) if l & 0x80 == 0 => (usize::from(l), 2),
        Some(&l) => {
            let n = usize::from(l & 0x7f);
            let len = b.get(2..2 + n).map_or(0, |x| {
                x.iter().fold(0usize, |a, &y| (a << 8) | usize::from(y))
            });
            (len, 2 + n)
        }
        None => (0, 1),
    };
    format!(
        "asn1: structure error: tags don't match (16 vs {{class:{class} tag:{tag} length:{len} isCompound:{compound}}}) {{optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false}} {ty} @{at}"
    )
}

/// Every parser of this module over arbitrary bytes (the fuzz target's body).
pub(super) fn parse_anything(data: &[u8]) {
    let _ = parse_response(data);
    let _ = parse_token(data);
    let _ = parse_signer(data);
    let _ = generalized_time(data);
    let _ = utc_time(data);
    let _ = oid_string(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_and_times() {
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]),
            "1.2.840.113549.1.7.2"
        );
        assert_eq!(generalized_time(b"20250601120000Z"), Some(1_748_779_200));
        assert_eq!(
            generalized_time(b"20250601120000.123Z"),
            Some(1_748_779_200)
        );
        assert_eq!(utc_time(b"250601120000Z"), Some(1_748_779_200));
        assert_eq!(generalized_time(b"2025060112Z"), None);
    }

    #[test]
    fn garbage_is_go_asn1_error() {
        let e = parse_response(b"not a timestamp").err().unwrap();
        assert_eq!(
            e.1,
            "asn1: structure error: tags don't match (16 vs {class:1 tag:14 length:111 isCompound:true}) {optional:false explicit:false application:false private:false defaultValue:<nil> tag:<nil> stringType:0 timeType:0 set:false omitEmpty:false} response @2"
        );
    }
}
