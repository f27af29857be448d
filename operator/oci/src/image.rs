//! Image configs: Docker's `--change` instructions and the commit of a new layer.
//!
//! `changes` lines are parsed as `docker commit --change` parses them (the Dockerfile
//! instructions CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, in shell
//! and JSON forms, with `$VAR`/`${VAR}` substitution from the image's environment where
//! Docker substitutes). Any other instruction is an error naming it.
//!
//! Packer's docker builder appends `CMD <base CMD>` and `ENTRYPOINT <base ENTRYPOINT>` to the
//! changes when they set none (`step_set_defaults.go`), because dockerd's container carries
//! the `/bin/sh` entrypoint of `run_command` into `docker commit`. Kiln never alters the
//! container config, so it reaches the same result directly: the base image's CMD and
//! ENTRYPOINT are kept unless `changes` sets them (an unset one stays unset, where Packer
//! would write `[""]`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::diff::NewLayer;
use crate::shlex::{Lex, parse_name_val};
use crate::store::{
    Descriptor, MEDIA_OCI_CONFIG, MEDIA_OCI_MANIFEST, Manifest, Store, StoredImage, oci_media_type,
};
use crate::{Digest, Error, Result};

/// RFC 3339 UTC time of a Unix epoch second.
pub fn rfc3339(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn change_err(line: &str, reason: impl Into<String>) -> Error {
    Error::Invalid(format!("changes: {line:?}: {}", reason.into()))
}

/// A JSON array of strings (exec form), or None when `rest` is not one (shell form).
fn json_array(rest: &str) -> Option<Vec<String>> {
    let t = rest.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// `ENV`/`LABEL` pairs as dockerd reads them: BuildKit's `parseNameVal` (`KEY=VALUE …`, or
/// the old `KEY value with spaces`), then each key and value through its word lexer.
fn pairs(
    instr: &str,
    rest: &str,
    line: &str,
    env: &[String],
    lex: Lex,
) -> Result<Vec<(String, String)>> {
    let raw = parse_name_val(rest, instr, lex.escape).map_err(|e| change_err(line, e))?;
    raw.into_iter()
        .map(|(k, v)| {
            let k = lex.process_word(&k, env).map_err(|e| change_err(line, e))?;
            let v = lex.process_word(&v, env).map_err(|e| change_err(line, e))?;
            Ok((k, v))
        })
        .collect()
}

/// BuildKit's `parseStringsWhitespaceDelimited`: the words between whitespace, quotes and
/// all (the lexer removes them after).
fn split_blank(rest: &str) -> Vec<&str> {
    rest.split(|c: char| " \t\r\n\x0b\x0c".contains(c))
        .filter(|w| !w.is_empty())
        .collect()
}

fn obj<'a>(cfg: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let e = cfg.entry(key.to_string()).or_insert_with(|| json!({}));
    if !e.is_object() {
        *e = json!({});
    }
    e.as_object_mut().unwrap()
}

fn env_of(cfg: &Map<String, Value>) -> Vec<String> {
    cfg.get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Applies Docker `--change` lines to a container config (the `config` object of an image
/// config). ENTRYPOINT clears CMD unless a CMD came before it in the same list, as in Docker.
pub fn apply_changes(cfg: &mut Map<String, Value>, changes: &[String]) -> Result<()> {
    apply_changes_with(cfg, changes, &[])
}

/// [`apply_changes`] with more variables for the substitution (`KEY=VALUE`, after the
/// config's own environment: a Dockerfile's ARGs), which are not stored.
pub fn apply_changes_with(
    cfg: &mut Map<String, Value>,
    changes: &[String],
    extra: &[String],
) -> Result<()> {
    apply_changes_escaped(cfg, changes, extra, '\\')
}

/// [`apply_changes_with`] with the escape character a Dockerfile's `# escape=` set.
pub fn apply_changes_escaped(
    cfg: &mut Map<String, Value>,
    changes: &[String],
    extra: &[String],
    escape: char,
) -> Result<()> {
    let lex = Lex::new(escape);
    let word = |w: &str, env: &[String], line: &str| {
        lex.process_word(w, env).map_err(|e| change_err(line, e))
    };
    let mut cmd_set = false;
    for line in changes {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (instr, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        let rest = rest.trim();
        let stored = env_of(cfg);
        let env: Vec<String> = stored.iter().chain(extra.iter()).cloned().collect();
        match instr.to_ascii_uppercase().as_str() {
            "CMD" | "ENTRYPOINT" => {
                let up = instr.to_ascii_uppercase();
                let v = match json_array(rest) {
                    Some(a) => a,
                    None if rest.is_empty() => vec![],
                    None => vec!["/bin/sh".into(), "-c".into(), rest.into()],
                };
                let val = if v.is_empty() && up == "ENTRYPOINT" {
                    Value::Null
                } else {
                    json!(v)
                };
                if up == "CMD" {
                    cfg.insert("Cmd".into(), val);
                    cmd_set = true;
                } else {
                    cfg.insert("Entrypoint".into(), val);
                    if !cmd_set {
                        cfg.insert("Cmd".into(), Value::Null);
                    }
                }
            }
            "ENV" => {
                let kv = pairs("ENV", rest, line, &env, lex)?;
                let mut env = stored;
                for (k, v) in kv {
                    let entry = format!("{k}={v}");
                    match env
                        .iter_mut()
                        .find(|e| e.split_once('=').map(|x| x.0) == Some(k.as_str()))
                    {
                        Some(e) => *e = entry,
                        None => env.push(entry),
                    }
                }
                cfg.insert("Env".into(), json!(env));
            }
            "LABEL" => {
                let kv = pairs("LABEL", rest, line, &env, lex)?;
                let labels = obj(cfg, "Labels");
                for (k, v) in kv {
                    labels.insert(k, json!(v));
                }
            }
            "EXPOSE" => {
                // dockerd's EXPOSE: each word expanded into words (`$PORTS` may be several)
                let mut ports = vec![];
                for w in split_blank(rest) {
                    ports.extend(
                        lex.process_words(w, &env)
                            .map_err(|e| change_err(line, e))?,
                    );
                }
                if ports.is_empty() {
                    return Err(change_err(line, "EXPOSE needs at least one port"));
                }
                let mut keys = vec![];
                for p in ports {
                    let (num, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
                    let proto = proto.to_ascii_lowercase();
                    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
                        return Err(change_err(line, format!("invalid protocol {proto:?}")));
                    }
                    let (a, b) = num.split_once('-').unwrap_or((num, num));
                    let (a, b): (u16, u16) = match (a.parse(), b.parse()) {
                        (Ok(a), Ok(b)) if a <= b && a > 0 => (a, b),
                        _ => return Err(change_err(line, format!("invalid port {p:?}"))),
                    };
                    for n in a..=b {
                        keys.push(format!("{n}/{proto}"));
                    }
                }
                let ep = obj(cfg, "ExposedPorts");
                for k in keys {
                    ep.insert(k, json!({}));
                }
            }
            "ONBUILD" => {
                let (sub, _) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let sub_up = sub.to_ascii_uppercase();
                if sub.is_empty() || ["ONBUILD", "FROM", "MAINTAINER"].contains(&sub_up.as_str()) {
                    return Err(change_err(
                        line,
                        format!("{sub_up} is not allowed as an ONBUILD trigger"),
                    ));
                }
                let trig = format!("{sub_up}{}", &rest[sub.len()..]);
                let e = cfg
                    .entry("OnBuild".to_string())
                    .or_insert_with(|| json!([]));
                if !e.is_array() {
                    *e = json!([]);
                }
                e.as_array_mut().unwrap().push(json!(trig));
            }
            "USER" => {
                let u = word(rest, &env, line)?;
                if u.is_empty() {
                    return Err(change_err(line, "USER needs a user"));
                }
                cfg.insert("User".into(), json!(u));
            }
            "VOLUME" => {
                let vols = match json_array(rest) {
                    Some(a) => a,
                    None => split_blank(rest).into_iter().map(String::from).collect(),
                };
                let vols = vols
                    .iter()
                    .map(|v| word(v, &env, line))
                    .collect::<Result<Vec<_>>>()?;
                if vols.is_empty() || vols.iter().any(|v| v.is_empty()) {
                    return Err(change_err(line, "VOLUME needs a path"));
                }
                let vm = obj(cfg, "Volumes");
                for v in vols {
                    vm.insert(v, json!({}));
                }
            }
            "WORKDIR" => {
                let w = word(rest, &env, line)?;
                if w.is_empty() {
                    return Err(change_err(line, "WORKDIR needs a path"));
                }
                let cur = cfg.get("WorkingDir").and_then(Value::as_str).unwrap_or("/");
                let joined = if w.starts_with('/') {
                    w
                } else {
                    format!("{}/{w}", cur.trim_end_matches('/'))
                };
                cfg.insert("WorkingDir".into(), json!(joined));
            }
            other => {
                return Err(change_err(
                    line,
                    format!(
                        "{other} is not a valid change command (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Options of [`commit`].
#[derive(Clone, Debug, Default)]
pub struct CommitOptions {
    /// Docker `--change` lines.
    pub changes: Vec<String>,
    /// Packer's `author` (`docker commit -a`).
    pub author: Option<String>,
    /// Packer's `message` (`docker commit -m`), the history entry's comment.
    pub message: Option<String>,
    /// The `created` time (`SOURCE_DATE_EPOCH`).
    pub epoch: i64,
    /// What the history entry says created the layer.
    pub created_by: Option<String>,
}

/// The result of a commit.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The new manifest's descriptor: its digest is Packer's `Digest`.
    pub manifest: Descriptor,
    /// The config's digest: the image id, Packer's `ImageSha256` (and the artifact id).
    pub config_digest: Digest,
    pub config: Value,
}

/// Validates `changes` without an image (for a builder's prepare step).
pub fn validate_changes(changes: &[String]) -> Result<()> {
    apply_changes(&mut Map::new(), changes)
}

/// Writes a new image = `base` + `layer` with the config changed by `opts` into `store`,
/// named `name`.
pub fn commit(
    store: &Store,
    base: &StoredImage,
    layer: &NewLayer,
    opts: &CommitOptions,
    name: &str,
) -> Result<Committed> {
    let c = commit_untagged(store, base, layer, opts)?;
    store.tag(name, &c.manifest)?;
    Ok(c)
}

/// [`commit`] without naming the image (its blobs are written; the caller names it, e.g. by
/// its id, as `docker commit` without a repository does).
pub fn commit_untagged(
    store: &Store,
    base: &StoredImage,
    layer: &NewLayer,
    opts: &CommitOptions,
) -> Result<Committed> {
    let mut config = base.config.clone();
    let root = config.as_object_mut().ok_or_else(|| {
        Error::Invalid(format!("image {}: config is not a JSON object", base.name))
    })?;
    let created = rfc3339(opts.epoch);
    {
        let c = obj(root, "config");
        apply_changes(c, &opts.changes)?;
    }
    root.insert("created".into(), json!(created));
    if let Some(a) = &opts.author {
        root.insert("author".into(), json!(a));
    }
    {
        let rootfs = obj(root, "rootfs");
        rootfs.insert("type".into(), json!("layers"));
        let ids = rootfs
            .entry("diff_ids".to_string())
            .or_insert_with(|| json!([]));
        if !ids.is_array() {
            *ids = json!([]);
        }
        ids.as_array_mut()
            .unwrap()
            .push(json!(layer.diff_id.to_string()));
    }
    let mut hist = Map::new();
    hist.insert("created".into(), json!(created));
    hist.insert(
        "created_by".into(),
        json!(
            opts.created_by
                .clone()
                .unwrap_or_else(|| "kiln build (docker builder)".into())
        ),
    );
    if let Some(a) = &opts.author {
        hist.insert("author".into(), json!(a));
    }
    if let Some(m) = &opts.message {
        hist.insert("comment".into(), json!(m));
    }
    let h = root
        .entry("history".to_string())
        .or_insert_with(|| json!([]));
    if !h.is_array() {
        *h = json!([]);
    }
    h.as_array_mut().unwrap().push(Value::Object(hist));
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let (config_digest, config_size) = store.put_blob(&config_bytes)?;
    let mut layers: Vec<Descriptor> = base
        .manifest
        .layers
        .iter()
        .map(|l| Descriptor {
            media_type: oci_media_type(&l.media_type).into(),
            digest: l.digest.clone(),
            size: l.size,
            platform: None,
            annotations: l.annotations.clone(),
        })
        .collect();
    layers.push(layer.descriptor.clone());
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MEDIA_OCI_MANIFEST.into()),
        config: Descriptor::new(MEDIA_OCI_CONFIG, config_digest.clone(), config_size),
        layers,
        annotations: BTreeMap::new(),
    };
    let mbytes = serde_json::to_vec(&manifest).unwrap();
    let (mdigest, msize) = store.put_blob(&mbytes)?;
    let desc = Descriptor::new(MEDIA_OCI_MANIFEST, mdigest, msize);
    Ok(Committed {
        manifest: desc,
        config_digest,
        config,
    })
}

/// The image's environment (`config.Env`).
pub fn image_env(config: &Value) -> Vec<String> {
    config
        .get("config")
        .and_then(Value::as_object)
        .map(env_of)
        .unwrap_or_default()
}

/// A string field of the image's `config` (`User`, `WorkingDir`).
pub fn config_str<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config
        .get("config")
        .and_then(|c| c.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An empty base image (`FROM scratch`) for `platform` with the container config `config`
/// (e.g. `{"Cmd":["sh"]}`); not stored: [`commit`] onto it writes the first layer.
pub fn scratch(platform: &crate::store::Platform, config: Value) -> StoredImage {
    let mut c = json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": []
    });
    if let Some(v) = &platform.variant {
        c["variant"] = json!(v);
    }
    StoredImage {
        name: "scratch".into(),
        descriptor: Descriptor::new(MEDIA_OCI_MANIFEST, Digest::of(b""), 0),
        manifest: Manifest {
            schema_version: 2,
            media_type: Some(MEDIA_OCI_MANIFEST.into()),
            config: Descriptor::new(MEDIA_OCI_CONFIG, Digest::of(b""), 0),
            layers: vec![],
            annotations: BTreeMap::new(),
        },
        config: c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(base: Value, changes: &[&str]) -> Value {
        let mut m = base.as_object().unwrap().clone();
        apply_changes(
            &mut m,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        Value::Object(m)
    }

    #[test]
    fn shell_and_json_forms() {
        let c = apply(
            json!({"Cmd":["sh"]}),
            &["CMD echo hi", "ENTRYPOINT [\"/bin/app\", \"-v\"]"],
        );
        assert_eq!(c["Cmd"], json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/app", "-v"]));
        // ENTRYPOINT alone clears the base CMD, as docker does
        let c = apply(json!({"Cmd":["sh"]}), &["ENTRYPOINT /bin/app"]);
        assert_eq!(c["Cmd"], Value::Null);
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/app"]));
        let c = apply(json!({}), &["VOLUME [\"/a\", \"/b\"]", "VOLUME /c /d"]);
        assert_eq!(c["Volumes"], json!({"/a":{}, "/b":{}, "/c":{}, "/d":{}}));
    }

    #[test]
    fn env_label_expose_user_workdir_onbuild() {
        let c = apply(
            json!({"Env":["PATH=/bin","A=1"]}),
            &[
                "ENV A=2 B=\"two words\" C=$A-${B}",
                "ENV LEGACY some value",
                "LABEL version=1.0 \"com.example.x\"='y z'",
                "EXPOSE 80 53/udp 8000-8001",
                "USER app:${A}",
                "WORKDIR /srv",
                "WORKDIR data",
                "onbuild run echo hi",
            ],
        );
        assert_eq!(
            c["Env"],
            json!([
                "PATH=/bin",
                "A=2",
                "B=two words",
                "C=1-",
                "LEGACY=some value"
            ])
        );
        assert_eq!(c["Labels"], json!({"version":"1.0","com.example.x":"y z"}));
        assert_eq!(
            c["ExposedPorts"],
            json!({"80/tcp":{},"53/udp":{},"8000/tcp":{},"8001/tcp":{}})
        );
        assert_eq!(c["User"], json!("app:2"));
        assert_eq!(c["WorkingDir"], json!("/srv/data"));
        assert_eq!(c["OnBuild"], json!(["RUN echo hi"]));
    }

    #[test]
    fn env_and_label_words_as_dockerd_reads_them() {
        let mut c = Map::new();
        c.insert("Env".into(), json!(["BASE=/srv"]));
        apply_changes(
            &mut c,
            &[
                r#"ENV A="hello world" B='$BASE' C=$BASE/x D=a\ b"#.into(),
                "ENV OLD value with  spaces".into(),
                r#"LABEL "key with space"="v" k=${BASE:-d}"#.into(),
                "VOLUME $BASE/data".into(),
                "WORKDIR \"$BASE/w\"".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            c["Env"],
            json!([
                "BASE=/srv",
                "A=hello world",
                "B=$BASE",
                "C=/srv/x",
                "D=a b",
                "OLD=value with  spaces"
            ])
        );
        assert_eq!(c["Labels"], json!({"key with space": "v", "k": "/srv"}));
        assert_eq!(c["Volumes"], json!({"/srv/data": {}}));
        assert_eq!(c["WorkingDir"], json!("/srv/w"));
    }

    #[test]
    fn errors_name_the_line() {
        for (bad, why) in [
            ("RUN echo", "RUN is not a valid change command"),
            ("EXPOSE http", "invalid port"),
            ("EXPOSE 80/xtp", "invalid protocol"),
            (
                "ENV A=\"x",
                "failed to process \"\\\"x\": unexpected end of statement while looking for matching double-quote",
            ),
            ("ENV A=1 B", "Syntax error - can't find = in \"B\""),
            ("ONBUILD FROM x", "not allowed"),
            ("USER", "needs a user"),
        ] {
            let e = validate_changes(&[bad.to_string()])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(why) && e.contains(&format!("{bad:?}")),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn created_time() {
        assert_eq!(
            rfc3339(crate::DEFAULT_SOURCE_DATE_EPOCH),
            "2000-01-01T00:00:00Z"
        );
    }
}
