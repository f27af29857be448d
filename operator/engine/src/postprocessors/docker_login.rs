//! What `docker login` and `docker logout` do for Packer's docker components. The plugin runs
//! the docker CLI around its pull (the builder's `login*`) and its pushes (`docker-push`'s);
//! Kiln has no CLI and does the same work itself, with the CLI's words: the credentials are
//! checked against the registry (`GET /v2/`, a token fetched when it asks for one), written
//! to the CLI's configuration file in plain text (its file store, without a credential
//! helper: `auths.<server>.auth`), and removed again at logout, as `docker logout` removes
//! them — a login the file held before is gone afterwards, as with Packer.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use kiln_oci::registry::{Client, ClientOptions};

use crate::ui::Ui;

/// The CLI's default server (Docker Hub's index).
pub const DEFAULT_SERVER: &str = "https://index.docker.io/v1/";

/// The error of a failed `docker login` / `docker logout`, as the SDK reports a command
/// that exited 1 (what went wrong is on the lines before it).
pub const BAD_EXIT: &str = "Bad exit status: 1";

/// The CLI's configuration directory: `--config DIR` when given (docker-push's temporary
/// one), else `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(d) = explicit {
        return Some(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker"))
}

/// The registry's host of a server as the CLI names it (`registry.ConvertToHostname`: the
/// scheme and any path dropped).
pub fn hostname(server: &str) -> &str {
    let s = server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("https://"))
        .unwrap_or(server);
    s.split('/').next().unwrap_or(s)
}

/// The registry the credentials are for (Docker Hub for the CLI's default server).
fn registry_of(server: &str) -> &str {
    match hostname(server) {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" => kiln_oci::reference::DOCKER_HUB,
        h => h,
    }
}

/// `docker login -u USER --password-stdin SERVER` with `config_dir` as its configuration
/// (`server` empty: the default server). Blocking. Says the CLI's lines; `Err(BAD_EXIT)`
/// after the daemon's refusal or a file that cannot be written.
pub fn login(
    ui: &Ui,
    config_dir: &Path,
    server: &str,
    user: &str,
    pass: &str,
) -> Result<(), String> {
    let server = if server.is_empty() {
        DEFAULT_SERVER
    } else {
        server
    };
    let registry = registry_of(server);
    let mut creds = kiln_oci::auth::Credentials::new();
    creds.add_basic(registry, user, pass);
    let checked = Client::new(ClientOptions {
        credentials: creds,
        ..Default::default()
    })
    .map_err(|e| e.to_string())
    .and_then(|client| {
        let url = client.base_url(registry);
        client.check_login(registry).map_err(|e| match &e {
            kiln_oci::Error::Status {
                status: st @ (401 | 403),
                ..
            } => format!(
                "login attempt to {url} failed with status: {st} {}",
                if *st == 401 {
                    "Unauthorized"
                } else {
                    "Forbidden"
                }
            ),
            kiln_oci::Error::Transport { detail, .. } => format!("Get \"{url}\": {detail}"),
            other => other.to_string(),
        })
    });
    if let Err(e) = checked {
        ui.message(format!("Error response from daemon: {e}"));
        return Err(BAD_EXIT.into());
    }
    let file = config_dir.join("config.json");
    ui.message(format!(
        "WARNING! Your password will be stored unencrypted in {}.",
        file.display()
    ));
    ui.message("Configure a credential helper to remove this warning. See");
    ui.message("https://docs.docker.com/engine/reference/commandline/login/#credentials-store");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    if let Err(e) = update_config(&file, |auths| {
        auths.insert(server.to_string(), serde_json::json!({ "auth": auth }));
    }) {
        ui.message(format!("Error saving credentials: {e}"));
        return Err(BAD_EXIT.into());
    }
    ui.message("Login Succeeded");
    Ok(())
}

/// `docker logout SERVER` with `config_dir` as its configuration (`server` empty: the
/// default server): the entries the CLI looks under (the server as given, its host, and the
/// host with either scheme) removed, in its words. Blocking.
pub fn logout(ui: &Ui, config_dir: &Path, server: &str) -> Result<(), String> {
    let (name, tries) = if server.is_empty() {
        (DEFAULT_SERVER.to_string(), vec![DEFAULT_SERVER.to_string()])
    } else {
        let h = hostname(server).to_string();
        (
            h.clone(),
            vec![
                server.to_string(),
                h.clone(),
                format!("http://{h}"),
                format!("https://{h}"),
            ],
        )
    };
    let file = config_dir.join("config.json");
    let held = read_config(&file)
        .ok()
        .and_then(|c| c.get("auths").and_then(|a| a.as_object()).cloned())
        .unwrap_or_default();
    if !tries.iter().any(|k| held.contains_key(k)) {
        ui.message(format!("Not logged in to {name}"));
        return Ok(());
    }
    ui.message(format!("Removing login credentials for {name}"));
    if let Err(e) = update_config(&file, |auths| {
        for k in &tries {
            auths.remove(k);
        }
    }) {
        ui.message(format!(
            "WARNING: could not erase credentials: {server}: {e}"
        ));
    }
    Ok(())
}

fn read_config(file: &Path) -> std::io::Result<serde_json::Value> {
    match std::fs::read(file) {
        Ok(b) if b.iter().all(|c| c.is_ascii_whitespace()) => Ok(serde_json::json!({})),
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            std::io::Error::other(format!("loading config file {}: {e}", file.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(e),
    }
}

/// Reads the configuration file (none: `{}`), changes its `auths`, and writes it back as
/// the CLI does (tab-indented, mode 0600, through a temporary file renamed over it; the
/// directory made 0700 when missing).
fn update_config(
    file: &Path,
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let mut config = read_config(file)?;
    let Some(obj) = config.as_object_mut() else {
        return Err(std::io::Error::other(format!(
            "{}: not a JSON object",
            file.display()
        )));
    };
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    change(auths.as_object_mut().expect("an object"));
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut text = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut text, fmt);
    serde::Serialize::serialize(&config, &mut ser).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".config.json.kiln-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&text).and_then(|_| f.sync_all()));
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, file)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::{Masker, Recorder};
    use std::sync::Arc;

    #[test]
    fn hostnames_as_the_cli_converts_them() {
        assert_eq!(hostname("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(hostname("localhost:5000"), "localhost:5000");
        assert_eq!(hostname("http://r.example:5000/x"), "r.example:5000");
        assert_eq!(registry_of(DEFAULT_SERVER), "docker.io");
    }

    /// Logout removes every form of the server the CLI looks under and keeps the rest of
    /// the file; nothing to remove is "Not logged in".
    #[test]
    fn logout_removes_the_servers_entries_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(
            &file,
            r#"{"auths":{"r.example:5000":{"auth":"eA=="},"https://r.example:5000":{"auth":"eQ=="},"other":{"auth":"eg=="}},"psFormat":"x"}"#,
        )
        .unwrap();
        let rec = Arc::new(Recorder::default());
        let ui = Ui::new(rec.clone(), Arc::new(Masker::default()));
        logout(&ui, dir.path(), "r.example:5000").unwrap();
        logout(&ui, dir.path(), "r.example:5000").unwrap();
        assert_eq!(
            rec.lines(),
            [
                "Removing login credentials for r.example:5000",
                "Not logged in to r.example:5000"
            ]
        );
        let left: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            left,
            serde_json::json!({"auths": {"other": {"auth": "eg=="}}, "psFormat": "x"})
        );
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
