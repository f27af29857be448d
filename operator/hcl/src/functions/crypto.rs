//! Hash and crypto functions: `bcrypt`, `md5`, `rsadecrypt`, `sha1`, `sha256`, `sha512`.

use base64::Engine;
use md5::Digest;
use rsa::pkcs1::DecodeRsaPrivateKey;

use super::{Args, FuncError, other};
use crate::value::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "md5" | "sha1" | "sha256" | "sha512" => {
            f.exact(&["str"])?;
            let s = f.string(0, "str")?;
            let b = s.as_bytes();
            let h = match f.name {
                "md5" => hex(&md5::Md5::digest(b)),
                "sha1" => hex(&sha1::Sha1::digest(b)),
                "sha256" => hex(&sha2::Sha256::digest(b)),
                _ => hex(&sha2::Sha512::digest(b)),
            };
            Ok(Value::String(h))
        }
        "bcrypt" => {
            f.between(&["str", "cost"], 1)?;
            let s = f.string(0, "str")?;
            let mut cost: i64 = 10;
            if f.len() > 1 {
                cost = f.int(1, "cost")?;
            }
            // Go's bcrypt uses the default cost for anything below the minimum.
            if cost < 4 {
                cost = 10;
            }
            if cost > 31 {
                return Err(other(format!(
                    "error occured generating password crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
                )));
            }
            if s.len() > 72 {
                return Err(other(
                    "error occured generating password bcrypt: password length exceeds 72 bytes",
                ));
            }
            let parts = bcrypt::hash_with_result(s.as_bytes(), cost as u32)
                .map_err(|e| other(format!("error occured generating password {e}")))?;
            Ok(Value::String(
                parts.format_for_version(bcrypt::Version::TwoA),
            ))
        }
        "rsadecrypt" => {
            f.exact(&["ciphertext", "privatekey"])?;
            let ct = f.string(0, "ciphertext")?;
            let key = f.string(1, "privatekey")?;
            // Packer's rsadecrypt (go-cty-funcs): every failure is the call's, in Go's words.
            let data = base64::engine::general_purpose::STANDARD
                .decode(ct.as_bytes())
                .map_err(|_| {
                    other(format!(
                        "failed to decode input {}: cipher text must be base64-encoded",
                        super::go_quote(&ct)
                    ))
                })?;
            let pk = parse_private_key(&key).map_err(other)?;
            let out = pk
                .decrypt(rsa::Pkcs1v15Encrypt, &data)
                .map_err(|_| other("crypto/rsa: decryption error"))?;
            Ok(Value::String(String::from_utf8_lossy(&out).into_owned()))
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// Reads an RSA private key as Packer does: the first PEM block (`pem.Decode`), not
/// password protected, in PKCS #1 form (`x509.ParsePKCS1PrivateKey`, whose errors name the
/// parser a PKCS #8 or EC key needs).
fn parse_private_key(pem: &str) -> Result<rsa::RsaPrivateKey, String> {
    let Some(start) = pem.find("-----BEGIN ") else {
        return Err("failed to parse key: no key found".to_string());
    };
    let block = &pem[start..];
    let kind = block["-----BEGIN ".len()..]
        .split("-----")
        .next()
        .unwrap_or_default();
    if block.contains("Proc-Type: 4,ENCRYPTED") {
        return Err("failed to parse key: password protected keys are not supported. Please decrypt the key prior to use".to_string());
    }
    match kind {
        "PRIVATE KEY" => Err("x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)".to_string()),
        "EC PRIVATE KEY" => Err("x509: failed to parse private key (use ParseECPrivateKey instead for this key format)".to_string()),
        _ => rsa::RsaPrivateKey::from_pkcs1_pem(block.trim())
            .map_err(|e| format!("x509: failed to parse private key: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    const KEY_PKCS1: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIICXQIBAAKBgQCpVlG+AqRhKoMseVyaLSwKvXIZ9To2FeT/c7/zYtkqFwTOWQ6Z
31qEXghmwV3N7vPJ7m5z7d4CJXRNxZNggo/n7dQ2OKgggYmGkXRja640tO4dHaHv
5hB1yKv3KLlz1vYOJP87Oq7rkdaehPX3NkN/F6jDY0S0qW2I34UBOxQtqwIDAQAB
AoGAJTmzmIiuKCoXUgSP5di+UNIarjgphtBDWiDQ9qkpQkZzKQWM3yiplmWxhR1H
CMlZ0G9Y2qVU47XmHl6rqlCpX6Be17XGKnK9y/J7a0UrD3+SUHepNBO2heVshCJi
L6VrjJgEMXZwdPWiWF9r9AmArxcAz3vumlPyRENHGG9o/akCQQDYF8+Ax3pXVxAQ
W7cqx6mDhov6toiE/k78UlOaXoX+iGj/NxW+IdUrdQdfqwPVc/quPIoFQ3S367V2
G2el4FFfAkEAyJwKzimIvaQerypN45I3oZosOdRu1/01bFYOsCDuGedzyuoKm7zF
1UFW3G76db9j3UL0mu8II3agp0c9UQPLNQJAIEU2BLpFZ+Olj3vS172nb+/Y2aEG
tC2yJ/Y3a/cvtXozi+FzCsjMp8e7SSsl0GuYhQqfZffT51944uFm0hu0qwJBAMMs
VbLoY9olX5kKLodWzXsTNS36SPEor548R8QB9cUMEvL7KuEEEvF8xVZnPpPqZe1x
4+sM3b0q//hfbf9xEnUCQQCSYQWMvjgMYT/ABwBBM6L1cYscevaumpGADeTOSNTb
fR2FaJZSCkeZILD33wxiHaMXesyL+nP43Op5y23rTVHz
-----END RSA PRIVATE KEY-----";
    const KEY_PKCS8: &str = r"-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAKlWUb4CpGEqgyx5
XJotLAq9chn1OjYV5P9zv/Ni2SoXBM5ZDpnfWoReCGbBXc3u88nubnPt3gIldE3F
k2CCj+ft1DY4qCCBiYaRdGNrrjS07h0doe/mEHXIq/couXPW9g4k/zs6ruuR1p6E
9fc2Q38XqMNjRLSpbYjfhQE7FC2rAgMBAAECgYAlObOYiK4oKhdSBI/l2L5Q0hqu
OCmG0ENaIND2qSlCRnMpBYzfKKmWZbGFHUcIyVnQb1japVTjteYeXquqUKlfoF7X
tcYqcr3L8ntrRSsPf5JQd6k0E7aF5WyEImIvpWuMmAQxdnB09aJYX2v0CYCvFwDP
e+6aU/JEQ0cYb2j9qQJBANgXz4DHeldXEBBbtyrHqYOGi/q2iIT+TvxSU5pehf6I
aP83Fb4h1St1B1+rA9Vz+q48igVDdLfrtXYbZ6XgUV8CQQDInArOKYi9pB6vKk3j
kjehmiw51G7X/TVsVg6wIO4Z53PK6gqbvMXVQVbcbvp1v2PdQvSa7wgjdqCnRz1R
A8s1AkAgRTYEukVn46WPe9LXvadv79jZoQa0LbIn9jdr9y+1ejOL4XMKyMynx7tJ
KyXQa5iFCp9l99PnX3ji4WbSG7SrAkEAwyxVsuhj2iVfmQouh1bNexM1LfpI8Siv
njxHxAH1xQwS8vsq4QQS8XzFVmc+k+pl7XHj6wzdvSr/+F9t/3ESdQJBAJJhBYy+
OAxhP8AHAEEzovVxixx69q6akYAN5M5I1Nt9HYVollIKR5kgsPffDGIdoxd6zIv6
c/jc6nnLbetNUfM=
-----END PRIVATE KEY-----";
    const CIPHERTEXT: &str = "PBG1nCD85SVjqa7eZEtF4Yff/AfTHeTS+y8EKC5S3OX3V6fE2s+D3EnRzgJyo6xStkVWlprvcgo89S9b5hrzCxHHt7LumlFu3Ch4uK0Zp1pR3wSUERuyZmPNU9G/DJuto79zvkF5akXwuRZXMY7RnLYu9vN79g0ysoLwlFccbpc=";

    #[test]
    fn hashes() {
        assert_eq!(
            ok("md5", vec![s("hello world")]),
            s("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(
            ok("sha1", vec![s("hello world")]),
            s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            ok("sha256", vec![s("hello world")]),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            ok("sha512", vec![s("hello world")]),
            s(
                "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
            )
        );
        assert_eq!(
            ok("md5", vec![s("")]),
            s("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(ok("sha256", vec![n(1.0)]), ok("sha256", vec![s("1")]));
    }

    #[test]
    fn bcrypt() {
        let super::super::Value::String(h) = ok("bcrypt", vec![s("hello world"), n(4.0)]) else {
            panic!()
        };
        assert!(h.starts_with("$2a$04$"), "{h}");
        assert_eq!(h.len(), 60);
        assert!(::bcrypt::verify("hello world", &h).unwrap());
        // Below the minimum cost, Go's bcrypt uses the default cost 10.
        let super::super::Value::String(h) = ok("bcrypt", vec![s("x"), n(1.0)]) else {
            panic!()
        };
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert_eq!(
            err("bcrypt", vec![s("x"), n(32.0)]),
            "error occured generating password crypto/bcrypt: cost 32 is outside allowed range (4,31)"
        );
        assert_eq!(
            err("bcrypt", vec![s(&"x".repeat(73)), n(4.0)]),
            "error occured generating password bcrypt: password length exceeds 72 bytes"
        );
        assert!(err("bcrypt", vec![s("x"), n(4.0), n(4.0)]).contains("expects only 2"));
    }

    #[test]
    fn rsadecrypt() {
        assert_eq!(
            ok("rsadecrypt", vec![s(CIPHERTEXT), s(KEY_PKCS1)]),
            s("Hello, world!")
        );
        // Packer reads PKCS #1 keys only.
        assert_eq!(
            err("rsadecrypt", vec![s(CIPHERTEXT), s(KEY_PKCS8)]),
            "x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)"
        );
        assert_eq!(
            err("rsadecrypt", vec![s("#"), s(KEY_PKCS1)]),
            "failed to decode input \"#\": cipher text must be base64-encoded"
        );
        assert_eq!(
            err("rsadecrypt", vec![s(CIPHERTEXT), s("not a key")]),
            "failed to parse key: no key found"
        );
        assert_eq!(
            c("rsadecrypt", vec![s("aGVsbG8="), s(KEY_PKCS1)]),
            Err(crate::functions::FuncError::Other(
                "crypto/rsa: decryption error".into()
            ))
        );
        assert!(
            err(
                "rsadecrypt",
                vec![
                    s(CIPHERTEXT),
                    s("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----")
                ]
            )
            .starts_with("x509: failed to parse private key")
        );
    }
}
