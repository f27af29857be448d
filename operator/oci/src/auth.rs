//! Registry credentials: `~/.docker/config.json` (`$DOCKER_CONFIG/config.json` when set), a
//! `kubernetes.io/dockerconfigjson` Secret's `.dockerconfigjson` blob, or explicit
//! username/password (Packer's `login_username`/`login_password`).
//!
//! Only the `auths` map is read (`auth` as base64 `user:password`, or `username`/`password`,
//! or `identitytoken`); credential helpers (`credsStore`, `credHelpers`) are external programs
//! and are not run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::{Error, Result};

/// A credential for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint.
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// Credentials by registry host, in the order they were added (first match wins).
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    entries: Vec<(String, Credential)>,
}

/// The registry host a config key names: `https://index.docker.io/v1/` → `docker.io`.
fn normalise_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        h => h.to_string(),
    }
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an explicit username/password for `registry` (taking precedence over files added
    /// later).
    pub fn add_basic(&mut self, registry: &str, username: &str, password: &str) {
        self.entries.push((
            normalise_key(registry),
            Credential::Basic {
                username: username.into(),
                password: password.into(),
            },
        ));
    }

    /// Adds the `auths` of a docker config JSON (a `config.json`, or the
    /// `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret). `origin` names it in
    /// errors.
    pub fn add_docker_config_json(&mut self, json: &[u8], origin: &str) -> Result<()> {
        let cfg: ConfigFile = serde_json::from_slice(json)
            .map_err(|e| Error::Invalid(format!("{origin}: not a docker config JSON: {e}")))?;
        for (key, entry) in cfg.auths {
            let host = normalise_key(&key);
            let cred = if let Some(token) = entry.identitytoken.filter(|t| !t.is_empty()) {
                Credential::IdentityToken(token)
            } else if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .map_err(|e| {
                        Error::Invalid(format!("{origin}: auths.{key:?}.auth is not base64: {e}"))
                    })?;
                let s = String::from_utf8(raw).map_err(|_| {
                    Error::Invalid(format!("{origin}: auths.{key:?}.auth is not UTF-8"))
                })?;
                let Some((u, p)) = s.split_once(':') else {
                    return Err(Error::Invalid(format!(
                        "{origin}: auths.{key:?}.auth does not decode to user:password"
                    )));
                };
                Credential::Basic {
                    username: u.into(),
                    password: p.into(),
                }
            } else if let (Some(u), Some(p)) = (entry.username, entry.password) {
                Credential::Basic {
                    username: u,
                    password: p,
                }
            } else {
                continue;
            };
            self.entries.push((host, cred));
        }
        Ok(())
    }

    /// Adds a docker config file; a missing file adds nothing.
    pub fn add_docker_config_file(&mut self, path: &Path) -> Result<()> {
        match std::fs::read(path) {
            Ok(b) => self.add_docker_config_json(&b, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("read docker config", path)(e)),
        }
    }

    /// The default docker config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_config_path() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
            return Some(PathBuf::from(d).join("config.json"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
    }

    /// Credentials from the default docker config (if any).
    pub fn from_default_config() -> Result<Self> {
        let mut c = Credentials::new();
        if let Some(p) = Self::default_config_path() {
            c.add_docker_config_file(&p)?;
        }
        Ok(c)
    }

    /// The credential for `registry` (as in [`crate::Reference::registry`]).
    pub fn get(&self, registry: &str) -> Option<&Credential> {
        let want = normalise_key(registry);
        self.entries
            .iter()
            .find(|(h, _)| *h == want)
            .map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_forms() {
        let mut c = Credentials::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3:cr3t");
        let json = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{b64}"}},
              "127.0.0.1:5000":{{"username":"bob","password":"pw"}},
              "ghcr.io":{{"identitytoken":"tok"}}, "empty.example":{{}}}},
              "credsStore":"desktop"}}"#
        );
        c.add_docker_config_json(json.as_bytes(), "test").unwrap();
        assert_eq!(
            c.get("docker.io"),
            Some(&Credential::Basic {
                username: "alice".into(),
                password: "s3:cr3t".into()
            })
        );
        assert_eq!(
            c.get("127.0.0.1:5000"),
            Some(&Credential::Basic {
                username: "bob".into(),
                password: "pw".into()
            })
        );
        assert_eq!(
            c.get("ghcr.io"),
            Some(&Credential::IdentityToken("tok".into()))
        );
        assert_eq!(c.get("empty.example"), None);
        assert!(!format!("{:?}", c).contains("s3:cr3t"));
    }

    #[test]
    fn bad_blob_names_origin() {
        let mut c = Credentials::new();
        let e = c
            .add_docker_config_json(br#"{"auths":{"r":{"auth":"!!"}}}"#, "secret ns/regcred")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("secret ns/regcred") && e.contains("not base64"),
            "{e}"
        );
        let e = c
            .add_docker_config_json(b"nope", "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a docker config JSON"), "{e}");
    }
}
