//! Temporary key pairs (`temporary_key_pair_type` / `_bits`) for builders that inject a key
//! into the machine they boot, and fingerprints for `ssh_host_key`.

use anyhow::{Context, bail};
use russh::keys::ssh_key::{self, Algorithm, EcdsaCurve, HashAlg, LineEnding, PrivateKey};

/// A generated key pair in OpenSSH formats.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// `-----BEGIN OPENSSH PRIVATE KEY-----…`
    pub private_key: String,
    /// `ssh-ed25519 AAAA… comment`, an authorized_keys line.
    pub public_key: String,
}

/// Generates a key pair: `rsa` (bits, default 4096), `ecdsa` (256/384/521) or `ed25519`.
pub fn generate(kind: &str, bits: u32, comment: &str) -> anyhow::Result<KeyPair> {
    let mut rng = rand::rng();
    let mut key = match kind {
        "ed25519" => PrivateKey::random(&mut rng, Algorithm::Ed25519)?,
        "ecdsa" => {
            let curve = match bits {
                256 => EcdsaCurve::NistP256,
                384 => EcdsaCurve::NistP384,
                521 | 0 => EcdsaCurve::NistP521,
                other => bail!("ECDSA keys have 256, 384 or 521 bits, not {other}"),
            };
            PrivateKey::random(&mut rng, Algorithm::Ecdsa { curve })?
        }
        "rsa" => {
            let bits = if bits == 0 { 4096 } else { bits as usize };
            let kp = ssh_key::private::RsaKeypair::random(&mut rng, bits)
                .context("generating an RSA key")?;
            PrivateKey::from(kp)
        }
        other => bail!("unsupported temporary_key_pair_type {other:?}"),
    };
    key.set_comment(comment);
    Ok(KeyPair {
        private_key: key.to_openssh(LineEnding::LF)?.to_string(),
        public_key: key.public_key().to_openssh()?,
    })
}

/// `SHA256:…` of an OpenSSH public key line (`ssh-ed25519 AAAA…`).
pub fn fingerprint(public_key_line: &str) -> anyhow::Result<String> {
    let k = ssh_key::PublicKey::from_openssh(public_key_line.trim())?;
    Ok(k.fingerprint(HashAlg::Sha256).to_string())
}
