//! The docker builder's `build` block (packer-plugin-docker's "bootstrapping a build with a
//! Dockerfile"): the plugin runs `docker build` and continues from the image it made; Kiln,
//! without a daemon, builds the Dockerfile itself with the docker builder's own parts — the
//! base image pulled into the local store and unpacked, each `RUN` run with runc in that
//! root filesystem, `COPY`/`ADD` from the build directory, the other instructions applied to
//! the image's config as `docker build` applies them — and commits what changed as one
//! layer over the base.
//!
//! Multi-stage builds as the classic builder makes them: every stage built in order, `FROM`
//! an earlier stage (its name) built on that stage's image, `COPY --from=` a stage (name or
//! index) or an image reading from its root filesystem; the last stage is the result.
//! `ADD <url>` downloads as the classic builder does. `RUN` flags (`--mount`, `--network`,
//! which need BuildKit) and a `FROM --platform` other than the builder's own are refused
//! with the line. The image id is Kiln's (its layer is its own bytes), as for every image
//! the docker builder commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use kiln_oci::Reference;
use kiln_oci::diff::{self, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::registry::{Client, ClientOptions};
use kiln_oci::runtime::{self, RunSpec};
use kiln_oci::store::{Platform, Store, StoredImage};
use kiln_oci::unpack::{self, UnpackOptions};

use crate::ui::Ui;

/// One instruction: its keyword (upper case), its flags (`--chown=…`) and the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line of the keyword.
    pub line: usize,
    pub keyword: String,
    pub flags: Vec<(String, String)>,
    pub args: String,
    /// The file's escape character (`\`, or `` ` `` after `# escape=`).
    pub escape: char,
}

/// Parses a Dockerfile: the parser directives at its top (`# escape=` and `# syntax=`),
/// comments and blank lines dropped, continuations (the escape character, `\` unless
/// `# escape=` says `` ` ``, at the end of a line) joined (comment lines inside a
/// continuation skipped, as Docker does), leading `--flag=value`s of `FROM`, `RUN`, `COPY`
/// and `ADD` split off.
pub fn parse(text: &str) -> Result<Vec<Instruction>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let escape = escape_directive(text)?;
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_none()) {
            continue;
        }
        let (text, continues) = match line.trim_end().strip_suffix(escape) {
            Some(t) => (t, true),
            None => (line, false),
        };
        let acc = pending.get_or_insert_with(|| (i + 1, String::new()));
        acc.1.push_str(text);
        if continues {
            continue;
        }
        let (n, full) = pending.take().expect("pending");
        if let Some(ins) = instruction(n, &full, escape)? {
            out.push(ins);
        }
    }
    if let Some((n, full)) = pending
        && let Some(ins) = instruction(n, &full, escape)?
    {
        out.push(ins);
    }
    Ok(out)
}

/// The escape character the parser directives at the top of the file set (BuildKit's
/// parser, which the classic builder uses): `# escape=X` lines (X being `\` or `` ` ``, once),
/// a `# syntax=` line allowed among them; the first other line ends the directives.
fn escape_directive(text: &str) -> Result<char, String> {
    let mut escape = None;
    for raw in text.lines() {
        let l = raw.trim_start().to_ascii_lowercase();
        let Some(body) = l.strip_prefix('#') else {
            break;
        };
        let body = body.trim_start_matches([' ', '\t']);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (
                n.trim_end_matches([' ', '\t']),
                v.trim_start_matches([' ', '\t']),
            ),
            None => break,
        };
        match name {
            "escape" => {
                if escape.is_some() {
                    return Err("only one escape parser directive can be used".into());
                }
                let c = value.chars().next().unwrap_or(' ');
                if c != '\\' && c != '`' {
                    return Err(format!("invalid ESCAPE '{c}'. Must be ` or \\"));
                }
                escape = Some(c);
            }
            "syntax" => {}
            _ => break,
        }
    }
    Ok(escape.unwrap_or('\\'))
}

fn instruction(line: usize, full: &str, escape: char) -> Result<Option<Instruction>, String> {
    let full = full.trim();
    if full.is_empty() {
        return Ok(None);
    }
    let (kw, rest) = full.split_once(char::is_whitespace).unwrap_or((full, ""));
    let keyword = kw.to_ascii_uppercase();
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    if ["FROM", "RUN", "COPY", "ADD"].contains(&keyword.as_str()) {
        while let Some(f) = rest.strip_prefix("--") {
            let (flag, after) = f.split_once(char::is_whitespace).unwrap_or((f, ""));
            let (k, v) = flag.split_once('=').unwrap_or((flag, ""));
            flags.push((k.to_string(), v.to_string()));
            rest = after.trim_start();
        }
    }
    Ok(Some(Instruction {
        line,
        keyword,
        flags,
        args: rest.trim().to_string(),
        escape,
    }))
}

/// What the build needs.
pub struct Build<'a> {
    pub dockerfile: &'a Path,
    pub build_dir: &'a Path,
    /// `build.arguments`.
    pub args: &'a BTreeMap<String, String>,
    /// `build.pull` (true unless set false): pull the base image even when the store has it.
    pub pull: bool,
    pub platform: &'a Platform,
    pub store: &'a Store,
    pub client: ClientOptions,
    /// Where the root filesystem and the runtime's state go (the builder's temporary dir).
    pub work_dir: &'a Path,
    /// runc or crun (the builder's `runtime`).
    pub runtime: Option<String>,
    pub ui: &'a Ui,
    pub cancel: &'a CancellationToken,
}

fn err_at(ins: &Instruction, msg: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "Dockerfile line {}: {} {}: {msg}",
        ins.line,
        ins.keyword,
        ins.args
    )
}

/// One word of `ins` as Docker's word lexer gives it (`ProcessWord`: quotes removed, `$VAR`,
/// `${VAR}`, `${VAR:-word}`… of `vars`, the first of a name winning, the file's escape
/// character), or its error at the instruction.
fn word(ins: &Instruction, s: &str, vars: &[String]) -> anyhow::Result<String> {
    kiln_oci::shlex::Lex::new(ins.escape)
        .process_word(s, vars)
        .map_err(|e| err_at(ins, e))
}

/// A JSON array of strings (the exec form), else None.
fn exec_form(s: &str) -> Option<Vec<String>> {
    if !s.trim_start().starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s).ok()
}

/// One stage: its `FROM`, the name it is given (`AS name`, lower case) and its instructions.
struct Stage<'i> {
    from: &'i Instruction,
    base: String,
    name: Option<String>,
    body: Vec<&'i Instruction>,
}

/// Where `COPY --from` reads: a stage's root filesystem, or an image's, unpacked.
struct Roots {
    /// Each built stage's root filesystem, by index.
    stages: Vec<PathBuf>,
    /// Images named by `COPY --from`, unpacked once each.
    images: BTreeMap<String, PathBuf>,
}

/// Builds the Dockerfile; returns the new image's id (`sha256:…`, also its name in the
/// store). Every stage is built in order, as `docker build`'s classic builder does; a stage
/// that a later `FROM` names is committed as an image of its own, and the last stage is
/// the result.
pub async fn build(b: Build<'_>) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(b.dockerfile)
        .with_context(|| format!("reading {}", b.dockerfile.display()))?;
    let instructions = parse(&text).map_err(anyhow::Error::msg)?;
    // Global ARGs (before the first FROM), then the stages.
    let mut global: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<Stage<'_>> = Vec::new();
    for ins in &instructions {
        if ins.keyword == "FROM" {
            let global_env: Vec<String> = global.iter().map(|(k, v)| format!("{k}={v}")).collect();
            // `FROM --platform=`: the build's own platform only (Kiln builds for one; the
            // BuildKit names for it, `$BUILDPLATFORM`/`$TARGETPLATFORM`, mean it too).
            for (k, v) in &ins.flags {
                if k != "platform" {
                    return Err(err_at(ins, format!("FROM --{k} is not supported by Kiln")));
                }
                let own = b.platform.to_string();
                let vars = [
                    format!("BUILDPLATFORM={own}"),
                    format!("TARGETPLATFORM={own}"),
                ];
                let env: Vec<String> = global_env.iter().chain(vars.iter()).cloned().collect();
                let want = word(ins, v, &env)?;
                let same = Platform::parse(&want).is_ok_and(|p| p.matches(b.platform));
                if !same {
                    return Err(err_at(
                        ins,
                        format!(
                            "FROM --platform={want}: Kiln builds this Dockerfile for {own} only (the docker builder's platform)"
                        ),
                    ));
                }
            }
            let words: Vec<&str> = ins.args.split_whitespace().collect();
            let (base, name) = match words.as_slice() {
                [img] => (word(ins, img, &global_env)?, None),
                [img, kw, name] if kw.eq_ignore_ascii_case("as") => (
                    word(ins, img, &global_env)?,
                    Some(name.to_ascii_lowercase()),
                ),
                _ => return Err(err_at(ins, "expected FROM IMAGE [AS NAME]")),
            };
            if let Some(n) = &name
                && stages.iter().any(|s| s.name.as_ref() == Some(n))
            {
                return Err(err_at(ins, format!("duplicate stage name {n:?}")));
            }
            stages.push(Stage {
                from: ins,
                base,
                name,
                body: Vec::new(),
            });
            continue;
        }
        match stages.last_mut() {
            Some(stage) => stage.body.push(ins),
            None if ins.keyword == "ARG" => {
                let env: Vec<String> = global.iter().map(|(k, v)| format!("{k}={v}")).collect();
                for (name, value) in declare_arg(ins, b.args, &[], &env)? {
                    global.retain(|(k, _)| *k != name);
                    global.push((name, value.unwrap_or_default()));
                }
            }
            None => return Err(err_at(ins, "the first instruction must be FROM (or ARG)")),
        }
    }
    if stages.is_empty() {
        bail!("{}: no FROM instruction", b.dockerfile.display());
    }
    // Which stages a later FROM builds on: those are committed as images.
    let stage_index = |name: &str, before: usize| -> Option<usize> {
        stages[..before]
            .iter()
            .position(|s| s.name.as_deref() == Some(&name.to_ascii_lowercase()))
            .or_else(|| name.parse::<usize>().ok().filter(|i| *i < before))
    };
    let mut based_on: Vec<Option<usize>> = Vec::new();
    for (i, st) in stages.iter().enumerate() {
        based_on.push(
            stages[..i]
                .iter()
                .position(|s| s.name.as_deref() == Some(&st.base.to_ascii_lowercase())),
        );
    }
    let mut roots = Roots {
        stages: Vec::new(),
        images: BTreeMap::new(),
    };
    let mut images: Vec<Option<String>> = Vec::new();
    let last = stages.len() - 1;
    let mut result = String::new();
    for (i, stage) in stages.iter().enumerate() {
        let base_stage = based_on[i];
        let base = match base_stage {
            Some(j) => match &images[j] {
                Some(id) => id.clone(),
                None => bail!("internal: stage {j} was not committed"),
            },
            None => stage.base.clone(),
        };
        let rootfs = b.work_dir.join(format!("dockerfile-stage-{i}"));
        let commit = i == last || based_on[i + 1..].contains(&Some(i));
        let id = build_stage(
            &b,
            stage,
            &base,
            base_stage.is_some(),
            &global,
            &rootfs,
            commit,
            &mut roots,
            &stage_index,
            i,
        )
        .await;
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                remove_roots(&roots, &rootfs);
                return Err(e);
            }
        };
        roots.stages.push(rootfs);
        images.push(id.clone());
        if i == last {
            result = id.unwrap_or_default();
        }
    }
    remove_roots(&roots, Path::new(""));
    Ok(result)
}

/// Removes the stages' and images' root filesystems (and `extra`).
fn remove_roots(roots: &Roots, extra: &Path) {
    for p in roots
        .stages
        .iter()
        .chain(roots.images.values())
        .map(PathBuf::as_path)
        .chain(std::iter::once(extra))
        .filter(|p| !p.as_os_str().is_empty())
    {
        let _ = std::fs::remove_dir_all(p);
    }
}

/// A base image (`scratch`, a stage's committed image when `local`, else pulled unless the
/// store has it and `pull` is off) unpacked into `rootfs`.
async fn unpack_base(
    b: &Build<'_>,
    name: &str,
    local: bool,
    rootfs: &Path,
) -> anyhow::Result<StoredImage> {
    let (store, platform, client_opts) = (b.store.clone(), b.platform.clone(), b.client.clone());
    let (name2, root2, pull) = (name.to_string(), rootfs.to_path_buf(), b.pull);
    tokio::task::spawn_blocking(move || -> anyhow::Result<StoredImage> {
        if name2 == "scratch" {
            std::fs::create_dir_all(&root2)?;
            return Ok(image::scratch(&platform, json!({})));
        }
        let img = if local {
            store.image(&name2)?
        } else {
            let r = Reference::parse(&name2)?;
            match store.image(&r.to_string()) {
                Ok(img) if !pull => img,
                _ => Client::new(client_opts)?.pull(&r, &store, &platform)?.image,
            }
        };
        unpack::unpack_layers(
            &store,
            &img.manifest.layers,
            &root2,
            &UnpackOptions::default(),
        )?;
        Ok(img)
    })
    .await?
}

/// One stage: its base unpacked, its instructions run; committed as one layer over the base
/// when `commit` (the image's id is returned).
#[allow(clippy::too_many_arguments)]
async fn build_stage(
    b: &Build<'_>,
    stage: &Stage<'_>,
    base_name: &str,
    local: bool,
    global: &[(String, String)],
    rootfs: &Path,
    commit: bool,
    roots: &mut Roots,
    stage_index: &(dyn Fn(&str, usize) -> Option<usize> + Sync),
    index: usize,
) -> anyhow::Result<Option<String>> {
    let base = unpack_base(b, base_name, local, rootfs)
        .await
        .map_err(|e| err_at(stage.from, format!("{e:#}")))?;
    let spill = b.work_dir.to_path_buf();
    let before = if commit {
        let (root3, spill3) = (rootfs.to_path_buf(), spill.clone());
        Some(
            tokio::task::spawn_blocking(move || {
                diff::snapshot(
                    &root3,
                    &SnapshotOptions {
                        exclude: vec![],
                        keep: vec![],
                        spill_dir: Some(spill3),
                    },
                )
            })
            .await??,
        )
    } else {
        None
    };

    let mut cfg: Map<String, Value> = base.config["config"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut author: Option<String> = None;
    // The stage's ARGs (name → value), which RUN sees in its environment and the other
    // instructions in their substitution, after the image's ENV.
    let mut stage_args: Vec<(String, String)> = Vec::new();
    // The base image's ONBUILD triggers run first, as if written after the FROM, and the new
    // image starts without them (the classic builder's `initializeStage`).
    let mut triggered: Vec<Instruction> = Vec::new();
    if let Some(Value::Array(triggers)) = cfg.remove("OnBuild") {
        for t in triggers.iter().filter_map(Value::as_str) {
            match instruction(stage.from.line, t, '\\') {
                Ok(Some(ins)) if onbuild_refused(&ins.keyword).is_some() => {
                    let why = onbuild_refused(&ins.keyword).unwrap_or_default();
                    return Err(err_at(stage.from, why));
                }
                Ok(Some(ins)) => triggered.push(ins),
                Ok(None) => {}
                Err(e) => return Err(err_at(stage.from, e)),
            }
        }
    }
    for ins in triggered.iter().chain(stage.body.iter().copied()) {
        if b.cancel.is_cancelled() {
            bail!("the Dockerfile build was cancelled");
        }
        let env = image::image_env(&json!({ "config": cfg }));
        let arg_env: Vec<String> = stage_args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let vars: Vec<String> = env.iter().chain(arg_env.iter()).cloned().collect();
        match ins.keyword.as_str() {
            "ARG" => {
                for (name, value) in declare_arg(ins, b.args, global, &vars)? {
                    stage_args.retain(|(k, _)| *k != name);
                    if let Some(v) = value {
                        stage_args.push((name, v));
                    }
                }
            }
            "ENV" | "LABEL" | "EXPOSE" | "ONBUILD" | "USER" | "VOLUME" | "WORKDIR" | "CMD"
            | "ENTRYPOINT" => {
                if ins.keyword == "ONBUILD" {
                    let trigger = ins.args.split_whitespace().next().unwrap_or_default();
                    if let Some(why) = onbuild_refused(&trigger.to_ascii_uppercase()) {
                        return Err(err_at(ins, why));
                    }
                }
                image::apply_changes_escaped(
                    &mut cfg,
                    &[format!("{} {}", ins.keyword, ins.args)],
                    &arg_env,
                    ins.escape,
                )
                .map_err(|e| err_at(ins, e))?;
                if ins.keyword == "WORKDIR" {
                    // Docker makes the working directory when the instruction runs.
                    let w = cfg
                        .get("WorkingDir")
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_string();
                    unpack::resolve_in_root(rootfs, Path::new(&w), true)
                        .map_err(|e| err_at(ins, e))?;
                }
            }
            // (MAINTAINER is taken as written: Docker expands no variables in it)
            "MAINTAINER" => author = Some(ins.args.clone()),
            "STOPSIGNAL" => {
                cfg.insert("StopSignal".into(), json!(word(ins, &ins.args, &vars)?));
            }
            "SHELL" => {
                let shell = exec_form(&ins.args)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| err_at(ins, "SHELL requires a JSON array"))?;
                cfg.insert("Shell".into(), json!(shell));
            }
            "HEALTHCHECK" => {
                cfg.insert(
                    "Healthcheck".into(),
                    healthcheck(&ins.args).map_err(|e| err_at(ins, e))?,
                );
            }
            "RUN" => {
                if let Some((k, _)) = ins.flags.first() {
                    return Err(err_at(ins, format!("RUN --{k} is not supported by Kiln")));
                }
                // Docker's run config: the exec form's argv as it is, the shell form after
                // the SHELL (`/bin/sh -c` by default).
                let argv: Vec<String> = match exec_form(&ins.args) {
                    Some(argv) if !argv.is_empty() => argv,
                    Some(_) => return Err(err_at(ins, "RUN needs a command")),
                    None => cfg
                        .get("Shell")
                        .and_then(Value::as_array)
                        .map(|sh| {
                            sh.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
                        .into_iter()
                        .chain(std::iter::once(ins.args.clone()))
                        .collect(),
                };
                run(b, rootfs, &cfg, &arg_env, argv)
                    .await
                    .map_err(|e| err_at(ins, format!("{e:#}")))?;
            }
            "COPY" | "ADD" => {
                for (k, _) in &ins.flags {
                    let from_ok = k == "from" && ins.keyword == "COPY";
                    if !["chown", "chmod"].contains(&k.as_str()) && !from_ok {
                        return Err(err_at(
                            ins,
                            format!("{} --{k} is not supported by Kiln", ins.keyword),
                        ));
                    }
                }
                let from = ins
                    .flags
                    .iter()
                    .find(|(k, _)| k == "from")
                    .map(|(_, v)| word(ins, v, &vars))
                    .transpose()?;
                let source = match from {
                    None => Source::Context(b.build_dir),
                    Some(from) => match stage_index(&from, index) {
                        Some(j) => Source::Root(roots.stages[j].clone()),
                        None if stage.name.as_deref() == Some(&from.to_ascii_lowercase())
                            || from == index.to_string() =>
                        {
                            return Err(err_at(ins, "a stage cannot COPY --from itself"));
                        }
                        None => Source::Root(
                            image_root(b, &from, roots)
                                .await
                                .map_err(|e| err_at(ins, format!("{e:#}")))?,
                        ),
                    },
                };
                copy(rootfs, &cfg, ins, &vars, &source)
                    .map_err(|e| err_at(ins, format!("{e:#}")))?;
            }
            other => return Err(err_at(ins, format!("unknown instruction: {other}"))),
        }
    }
    let Some(before) = before else {
        return Ok(None);
    };

    // One layer of what changed, over the base, with the config as the instructions left it.
    let store = b.store.clone();
    let mut base2 = base.clone();
    if let Some(root) = base2.config.as_object_mut() {
        root.insert("config".into(), Value::Object(cfg));
    }
    let root4 = rootfs.to_path_buf();
    let id = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let (_, id) = super::docker::commit_rootfs(
            &store,
            &root4,
            &before,
            SnapshotOptions {
                exclude: vec![],
                keep: vec![],
                spill_dir: Some(spill),
            },
            &base2,
            &CommitOptions {
                author,
                epoch: kiln_oci::source_date_epoch()?,
                created_by: Some("kiln build (Dockerfile)".into()),
                ..Default::default()
            },
        )?;
        Ok(id)
    })
    .await??;
    Ok(Some(id))
}

/// Docker's refusal of an ONBUILD trigger instruction (its parser's words).
fn onbuild_refused(keyword: &str) -> Option<String> {
    match keyword {
        "ONBUILD" => Some("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "FROM" | "MAINTAINER" => Some(format!("{keyword} isn't allowed as an ONBUILD trigger")),
        _ => None,
    }
}

/// The root filesystem of an image `COPY --from` names (pulled as a base image is), unpacked
/// once per build.
async fn image_root(b: &Build<'_>, name: &str, roots: &mut Roots) -> anyhow::Result<PathBuf> {
    if let Some(p) = roots.images.get(name) {
        return Ok(p.clone());
    }
    let dir = b
        .work_dir
        .join(format!("dockerfile-from-{}", roots.images.len()));
    roots.images.insert(name.to_string(), dir.clone());
    unpack_base(b, name, false, &dir).await?;
    Ok(dir)
}

/// `ARG NAME[=default] …`: each name's value from `build.arguments`, else its default, else
/// (in a stage) the global ARG of that name.
fn declare_arg(
    ins: &Instruction,
    given: &BTreeMap<String, String>,
    global: &[(String, String)],
    env: &[String],
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    // BuildKit's `parseNameOrNameVal` and `parseArg`, then the word lexer over each name and
    // default, with the variables known before the instruction
    let words = kiln_oci::shlex::parse_words(&ins.args, ins.escape);
    if words.is_empty() {
        return Err(err_at(ins, "ARG requires at least one argument"));
    }
    let mut out = vec![];
    for w in words {
        let (name, default) = match w.split_once('=') {
            Some(("", _)) => return Err(err_at(ins, "ARG names can not be blank")),
            Some((n, d)) => (word(ins, n, env)?, Some(word(ins, d, env)?)),
            None => (word(ins, &w, env)?, None),
        };
        let value = given.get(&name).cloned().or(default).or_else(|| {
            global
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        });
        out.push((name, value));
    }
    Ok(out)
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D]
/// [--retries=N] CMD …`, as Docker records it (durations in nanoseconds).
fn healthcheck(args: &str) -> Result<Value, String> {
    let mut rest = args.trim();
    if rest.eq_ignore_ascii_case("NONE") {
        return Ok(json!({ "Test": ["NONE"] }));
    }
    let mut hc = Map::new();
    while let Some(f) = rest.strip_prefix("--") {
        let (flag, after) = f.split_once(char::is_whitespace).unwrap_or((f, ""));
        let (k, v) = flag
            .split_once('=')
            .ok_or_else(|| format!("--{flag} needs a value"))?;
        let field = match k {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let n: i64 = v.parse().map_err(|_| format!("invalid retries {v:?}"))?;
                hc.insert("Retries".into(), json!(n));
                rest = after.trim_start();
                continue;
            }
            other => return Err(format!("unknown flag --{other}")),
        };
        let d = crate::template::body::go_parse_duration(v)
            .map_err(|e| format!("invalid duration {v:?}: {e}"))?;
        hc.insert(field.into(), json!(d.as_nanos() as u64));
        rest = after.trim_start();
    }
    let (kw, cmd) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !kw.eq_ignore_ascii_case("CMD") {
        return Err("HEALTHCHECK needs NONE or CMD".into());
    }
    let test = match exec_form(cmd) {
        Some(argv) => std::iter::once("CMD".to_string())
            .chain(argv)
            .collect::<Vec<_>>(),
        None => vec!["CMD-SHELL".into(), cmd.trim().to_string()],
    };
    hc.insert("Test".into(), json!(test));
    Ok(Value::Object(hc))
}

/// Runs one `RUN` command in the root filesystem with the config's user, working directory
/// and environment (then the stage's ARGs); its output goes to the log, as `docker build`'s
/// does for Packer.
async fn run(
    b: &Build<'_>,
    rootfs: &Path,
    cfg: &Map<String, Value>,
    arg_env: &[String],
    argv: Vec<String>,
) -> anyhow::Result<()> {
    let mut env = image::image_env(&json!({ "config": cfg }));
    for a in arg_env {
        let name = a.split_once('=').map(|x| x.0).unwrap_or(a);
        if !env
            .iter()
            .any(|e| e.split_once('=').map(|x| x.0) == Some(name))
        {
            env.push(a.clone());
        }
    }
    // Each RUN is a container of its own, as dockerd's: named by 12 hex digits, with
    // /.dockerenv and its /etc/hosts, /etc/hostname and /etc/resolv.conf (bound over
    // placeholders made for the command and removed after it, so that they stay out of the
    // stage's layer, as dockerd's init layer stays out of a commit).
    let id = super::docker::container_id();
    let etc = tempfile::tempdir_in(b.work_dir)?;
    let binds = super::docker::container_etc_files(etc.path(), &id)?;
    let ph = runtime::make_placeholders(
        rootfs,
        &[".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf"],
    )?;
    let mounts = binds
        .into_iter()
        .filter(|m| {
            ph.ready
                .iter()
                .any(|r| Path::new(&m.destination).strip_prefix("/") == Ok(r.as_path()))
        })
        .collect();
    let spec = RunSpec {
        rootfs: rootfs.to_path_buf(),
        argv: Some(argv.clone()),
        mounts,
        user: cfg.get("User").and_then(Value::as_str).map(String::from),
        env,
        workdir: cfg
            .get("WorkingDir")
            .and_then(Value::as_str)
            .map(String::from),
        runtime: b.runtime.clone(),
        work_dir: Some(b.work_dir.to_path_buf()),
        hostname: Some(id[..12].to_string()),
        ..Default::default()
    };
    let ui = b.ui.clone();
    let ui2 = b.ui.clone();
    let code = runtime::run(
        &spec,
        move |l| ui.log(format!("docker build: {l}")),
        move |l| ui2.log(format!("docker build: {l}")),
        b.cancel,
    )
    .await?;
    drop(ph);
    if code != 0 {
        bail!(
            "The command '{}' returned a non-zero code: {code}",
            argv.join(" ")
        );
    }
    Ok(())
}

/// Where a `COPY`/`ADD` takes its sources from.
enum Source<'a> {
    /// The build directory, with its `.dockerignore`.
    Context(&'a Path),
    /// A stage's or an image's root filesystem (`COPY --from`): paths are absolute in it,
    /// symbolic links resolved inside it.
    Root(PathBuf),
}

/// `COPY`/`ADD [--chown=U[:G]] [--chmod=MODE] SRC… DEST` from the build directory (or, with
/// `COPY --from`, from a stage's or an image's root filesystem).
fn copy(
    rootfs: &Path,
    cfg: &Map<String, Value>,
    ins: &Instruction,
    vars: &[String],
    source: &Source<'_>,
) -> anyhow::Result<()> {
    // the JSON form, or the words between blanks (quotes and all: BuildKit's
    // `parseStringsWhitespaceDelimited`), each through the word lexer
    let words: Vec<String> = match exec_form(&ins.args) {
        Some(w) => w,
        None => ins.args.split_whitespace().map(String::from).collect(),
    };
    let words: Vec<String> = words
        .iter()
        .map(|w| word(ins, w, vars))
        .collect::<anyhow::Result<_>>()?;
    let [sources @ .., dest] = words.as_slice() else {
        bail!("expected SOURCE… DEST");
    };
    if sources.is_empty() {
        bail!("expected SOURCE… DEST");
    }
    let flag = |k: &str| {
        ins.flags
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
    };
    let owner = match flag("chown") {
        Some(spec) => {
            let u = runtime::resolve_user(rootfs, Some(&word(ins, &spec, vars)?))?;
            Some((u.uid, u.gid))
        }
        None => None,
    };
    let mode = match flag("chmod") {
        Some(m) => Some(u32::from_str_radix(&m, 8).with_context(|| format!("--chmod={m}"))?),
        None => None,
    };
    let workdir = cfg.get("WorkingDir").and_then(Value::as_str).unwrap_or("/");
    let dest_abs = if dest.starts_with('/') {
        dest.clone()
    } else {
        format!("{}/{dest}", workdir.trim_end_matches('/'))
    };
    let (from_dir, ignore) = match source {
        Source::Context(dir) => (dir.to_path_buf(), Ignore::load(dir)?),
        Source::Root(root) => (root.clone(), Ignore::default()),
    };
    let mut matched: Vec<PathBuf> = Vec::new();
    // Downloads live in a temporary directory beside the root filesystem until copied.
    let mut downloads: Vec<tempfile::TempDir> = Vec::new();
    // (downloaded files are copied as they are, never extracted)
    let mut remote: Vec<PathBuf> = Vec::new();
    for s in sources {
        if s.starts_with("http://") || s.starts_with("https://") {
            if ins.keyword != "ADD" || matches!(source, Source::Root(_)) {
                bail!("source can't be a URL for {}", ins.keyword);
            }
            let tmp = tempfile::tempdir_in(rootfs.parent().unwrap_or(Path::new("/tmp")))?;
            let file = download(s, tmp.path(), dest.ends_with('/'))?;
            downloads.push(tmp);
            remote.push(file.clone());
            matched.push(file);
            continue;
        }
        let found = match source {
            Source::Context(dir) => glob_in(dir, s, &ignore)?,
            Source::Root(root) => glob_in_root(root, s)?,
        };
        if found.is_empty() {
            match source {
                Source::Context(dir) => bail!(
                    "{s}: not found in the build directory {} or excluded by its .dockerignore",
                    dir.display()
                ),
                Source::Root(_) => bail!("{s}: not found in the --from stage or image"),
            }
        }
        matched.extend(found);
    }
    let into_dir = dest.ends_with('/') || matched.len() > 1;
    for src in &matched {
        let meta = std::fs::symlink_metadata(src).with_context(|| src.display().to_string())?;
        if meta.is_dir() {
            // a directory's contents, not the directory itself
            let target = unpack::resolve_in_root(rootfs, Path::new(&dest_abs), true)?;
            copy_tree(src, &target, owner, mode, (&from_dir, &ignore))?;
        } else if ins.keyword == "ADD" && !remote.contains(src) && is_archive(src) {
            let target = unpack::resolve_in_root(rootfs, Path::new(&dest_abs), true)?;
            extract(src, &target)?;
        } else {
            let rel = if into_dir || dest_is_dir(rootfs, &dest_abs) {
                format!(
                    "{}/{}",
                    dest_abs.trim_end_matches('/'),
                    src.file_name().unwrap_or_default().to_string_lossy()
                )
            } else {
                dest_abs.clone()
            };
            let rel_path = Path::new(&rel);
            let parent = rel_path.parent().unwrap_or(Path::new("/"));
            let dir = unpack::resolve_in_root(rootfs, parent, true)?;
            let target = dir.join(rel_path.file_name().unwrap_or_default());
            copy_entry(src, &target, owner, mode)?;
        }
    }
    Ok(())
}

/// `ADD <url>`: the classic builder's `downloadSource`. The file is named by the URL's
/// path (else the response's `Content-Disposition` filename), mode 0600, its times the
/// `Last-Modified` header's (the Unix epoch without one); a response of status 400 or more
/// is `failed to GET <url> with status <status>: <body>`.
fn download(url: &str, dir: &Path, dest_is_dir: bool) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(10)
        .timeout_connect(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut resp = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    if status.as_u16() >= 400 {
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        bail!(
            "failed to GET {url} with status {} {}: {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.trim()
        );
    }
    let path = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut name = if !path.is_empty() && !path.ends_with('/') {
        path.rsplit('/').next().unwrap_or("").to_string()
    } else {
        String::new()
    };
    if name.is_empty()
        && let Some(cd) = resp
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
    {
        name = cd
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("filename"))
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.ends_with('/'))
            .and_then(|v| v.rsplit('/').next().map(String::from))
            .unwrap_or_default();
    }
    if name.is_empty() && dest_is_dir {
        bail!("cannot determine filename for source {url}");
    }
    let file = dir.join(if name.is_empty() {
        "__unnamed__"
    } else {
        &name
    });
    let mut out = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)?;
    std::io::copy(&mut resp.body_mut().as_reader(), &mut out)
        .with_context(|| format!("downloading {url}"))?;
    out.flush()?;
    drop(out);
    let mtime = resp
        .headers()
        .get("last-modified")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    set_times(&file, (mtime, 0), (mtime, 0))?;
    Ok(file)
}

/// The entries of a root filesystem a `COPY --from` source names: the path up to its first
/// pattern component resolved inside the root (symbolic links too), the rest matched as in
/// the build directory.
fn glob_in_root(root: &Path, pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let parts: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let literal = parts
        .iter()
        .position(|c| c.contains(['*', '?', '[']))
        .unwrap_or(parts.len());
    let prefix = format!("/{}", parts[..literal].join("/"));
    let Ok(dir) = unpack::resolve_in_root(root, Path::new(&prefix), false) else {
        return Ok(vec![]);
    };
    if literal == parts.len() {
        return Ok(if dir.symlink_metadata().is_ok() {
            vec![dir]
        } else {
            vec![]
        });
    }
    glob_in(&dir, &parts[literal..].join("/"), &Ignore::default())
}

fn dest_is_dir(rootfs: &Path, dest: &str) -> bool {
    unpack::resolve_in_root(rootfs, Path::new(dest), false).is_ok_and(|p| p.is_dir())
}

/// The build directory's `.dockerignore`, as Docker reads it: a pattern per line (`#`
/// comments, blank lines skipped; `*`, `?`, `[…]` within a path component, `**` across
/// them), matched against paths relative to the build directory, a pattern that matches a
/// directory covering everything under it; `!` makes an exception; the last matching line
/// decides.
#[derive(Default)]
struct Ignore {
    rules: Vec<(globset::GlobMatcher, bool)>,
}

impl Ignore {
    fn load(build_dir: &Path) -> anyhow::Result<Ignore> {
        let file = build_dir.join(".dockerignore");
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ignore::default()),
            Err(e) => return Err(e).with_context(|| file.display().to_string()),
        };
        let mut rules = Vec::new();
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (exclude, pat) = match l.strip_prefix('!') {
                Some(p) => (false, p.trim()),
                None => (true, l),
            };
            let pat = pat.trim_start_matches("./").trim_start_matches('/');
            let pat = pat.trim_end_matches('/');
            if pat.is_empty() {
                continue;
            }
            let m = globset::GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
                .with_context(|| format!("{}: pattern {l:?}", file.display()))?
                .compile_matcher();
            rules.push((m, exclude));
        }
        Ok(Ignore { rules })
    }

    /// Whether `rel` (relative to the build directory) is left out.
    fn excluded(&self, rel: &Path) -> bool {
        let mut out = false;
        for (m, exclude) in &self.rules {
            if rel
                .ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| m.is_match(a))
            {
                out = *exclude;
            }
        }
        out
    }
}

/// The build directory's entries a source names: a path, or a pattern with `*`, `?` or
/// `[…]` in its components; never outside the build directory, nor what `.dockerignore`
/// leaves out.
fn glob_in(build_dir: &Path, pattern: &str, ignore: &Ignore) -> anyhow::Result<Vec<PathBuf>> {
    let rel = pattern.trim_start_matches("./").trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        bail!("{pattern}: outside the build directory");
    }
    if !rel.contains(['*', '?', '[']) {
        let p = if rel.is_empty() || rel == "." {
            build_dir.to_path_buf()
        } else {
            build_dir.join(rel)
        };
        let left_out = p
            .strip_prefix(build_dir)
            .is_ok_and(|r| !r.as_os_str().is_empty() && ignore.excluded(r));
        return Ok(if p.symlink_metadata().is_ok() && !left_out {
            vec![p]
        } else {
            vec![]
        });
    }
    let matcher = globset::GlobBuilder::new(rel)
        .literal_separator(true)
        .build()
        .with_context(|| format!("pattern {pattern}"))?
        .compile_matcher();
    let mut out = Vec::new();
    let mut stack = vec![build_dir.to_path_buf()];
    let depth = rel.split('/').count();
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(r) = p.strip_prefix(build_dir) else {
                continue;
            };
            if ignore.excluded(r) {
                continue;
            }
            if matcher.is_match(r) {
                out.push(p.clone());
            }
            if r.components().count() < depth && e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A directory's contents into `dst`, but what `.dockerignore` leaves out (`ctx`: the build
/// directory and its ignore rules).
fn copy_tree(
    src: &Path,
    dst: &Path,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    ctx: (&Path, &Ignore),
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dst)?;
    let mut entries: Vec<_> = std::fs::read_dir(src)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.path()
            .strip_prefix(ctx.0)
            .is_ok_and(|r| ctx.1.excluded(r))
        {
            continue;
        }
        let target = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            if target.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                std::fs::remove_file(&target)?;
            }
            std::fs::create_dir_all(&target)?;
            let m = e.metadata()?;
            set_meta(
                &target,
                owner,
                mode.or(Some(
                    std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777,
                )),
            )?;
            copy_tree(&e.path(), &target, owner, mode, ctx)?;
            // (after its contents, which change it)
            keep_times(&m, &target)?;
        } else {
            copy_entry(&e.path(), &target, owner, mode)?;
        }
    }
    Ok(())
}

/// One file or symlink, replacing what is there; root-owned unless `--chown`, its own mode
/// unless `--chmod`.
fn copy_entry(
    src: &Path,
    dst: &Path,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::symlink_metadata(src)?;
    if let Ok(m) = dst.symlink_metadata() {
        if m.is_dir() {
            bail!(
                "cannot copy {} over the directory {}",
                src.display(),
                dst.display()
            );
        }
        std::fs::remove_file(dst)?;
    }
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)?;
        let (u, g) = owner.unwrap_or((0, 0));
        std::os::unix::fs::lchown(dst, Some(u), Some(g))?;
        return keep_times(&meta, dst);
    }
    std::fs::copy(src, dst).with_context(|| format!("{} → {}", src.display(), dst.display()))?;
    set_meta(
        dst,
        owner,
        Some(mode.unwrap_or(meta.permissions().mode() & 0o7777)),
    )?;
    keep_times(&meta, dst)
}

/// The source's access and modification times on the copy (Docker's copies keep them).
fn keep_times(meta: &std::fs::Metadata, dst: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    set_times(
        dst,
        (meta.atime(), meta.atime_nsec()),
        (meta.mtime(), meta.mtime_nsec()),
    )
}

/// Sets a path's access and modification times (seconds, nanoseconds), not following a
/// symbolic link.
fn set_times(p: &Path, atime: (i64, i64), mtime: (i64, i64)) -> anyhow::Result<()> {
    use nix::sys::time::TimeSpec;
    nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        p,
        &TimeSpec::new(atime.0, atime.1),
        &TimeSpec::new(mtime.0, mtime.1),
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .with_context(|| format!("setting the times of {}", p.display()))
}

fn set_meta(p: &Path, owner: Option<(u32, u32)>, mode: Option<u32>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let (u, g) = owner.unwrap_or((0, 0));
    std::os::unix::fs::chown(p, Some(u), Some(g))
        .with_context(|| format!("chown {}", p.display()))?;
    if let Some(m) = mode {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))?;
    }
    Ok(())
}

/// The file's contents, decompressed as Docker's `archive.DecompressStream` does: gzip,
/// bzip2 or xz by their magic bytes, anything else as it is.
fn decompressed(src: &Path) -> std::io::Result<Box<dyn std::io::Read>> {
    use std::io::Read as _;
    let mut magic = [0u8; 6];
    let mut n = 0;
    {
        let mut g = std::fs::File::open(src)?;
        while n < magic.len() {
            match g.read(&mut magic[n..])? {
                0 => break,
                k => n += k,
            }
        }
    }
    let head = &magic[..n];
    let f = std::io::BufReader::new(std::fs::File::open(src)?);
    Ok(if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else if head.starts_with(b"BZh") {
        Box::new(bzip2::read::MultiBzDecoder::new(f))
    } else if head.starts_with(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) {
        Box::new(liblzma::read::XzDecoder::new_multi_decoder(f))
    } else {
        Box::new(f)
    })
}

/// Whether `ADD` extracts the file: Docker's `isArchivePath`, by content, not by name — its
/// (decompressed) contents start with a tar header.
fn is_archive(p: &Path) -> bool {
    let Ok(r) = decompressed(p) else {
        return false;
    };
    let mut ar = tar::Archive::new(r);
    ar.entries()
        .ok()
        .and_then(|mut e| e.next())
        .is_some_and(|first| first.is_ok())
}

/// `ADD`'s extraction of a local tar archive (plain, gzip, bzip2 or xz) into `dst`, the
/// entries' owners, modes and times kept (Docker's `UntarPath`).
fn extract(src: &Path, dst: &Path) -> anyhow::Result<()> {
    let mut ar = tar::Archive::new(decompressed(src)?);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(true);
    ar.set_overwrite(true);
    let what = || format!("extracting {}", src.display());
    // Directories' times are set last, once nothing more is written into them.
    let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
    for entry in ar.entries().with_context(what)? {
        let mut entry = entry.with_context(what)?;
        let dir_time = entry
            .header()
            .entry_type()
            .is_dir()
            .then(|| entry.header().mtime().ok())
            .flatten();
        let path = entry.path().with_context(what)?.into_owned();
        if entry.unpack_in(dst).with_context(what)?
            && let Some(t) = dir_time
        {
            dirs.push((dst.join(path), t));
        }
    }
    for (dir, t) in dirs.iter().rev() {
        let t = (i64::try_from(*t).unwrap_or(0), 0);
        set_times(dir, t, t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuations_comments_and_flags() {
        let df = "# syntax\nARG BASE=busybox\nFROM ${BASE} AS b\nRUN echo a \\\n  # inside\n  && echo b\n\nCOPY --chown=1:2 a b /x/\nenv A=1\n";
        let p = parse(df).unwrap();
        let kw: Vec<_> = p.iter().map(|i| (i.line, i.keyword.as_str())).collect();
        assert_eq!(
            kw,
            [(2, "ARG"), (3, "FROM"), (4, "RUN"), (8, "COPY"), (9, "ENV")]
        );
        assert_eq!(p[2].args, "echo a   && echo b");
        assert_eq!(p[3].flags, [("chown".to_string(), "1:2".to_string())]);
        assert_eq!(p[3].args, "a b /x/");
    }

    #[test]
    fn escape_directive_sets_the_continuation_character() {
        let df = "# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  && echo c:\\dir\n";
        let p = parse(df).unwrap();
        assert_eq!(p[1].args, "echo a   && echo c:\\dir");
        // after the first other line, `# escape=` is a comment
        let p = parse("FROM busybox\n# escape=`\nRUN echo a \\\n  b\n").unwrap();
        assert_eq!(p[1].args, "echo a   b");
        assert_eq!(
            parse("# escape=x\nFROM busybox\n").unwrap_err(),
            "invalid ESCAPE 'x'. Must be ` or \\"
        );
        assert_eq!(
            parse("# escape=`\n# escape=\\\nFROM busybox\n").unwrap_err(),
            "only one escape parser directive can be used"
        );
    }

    #[test]
    fn dockerignore_leaves_out_what_docker_does() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(".dockerignore"),
            "# comment\n.git\n*.log\n!keep.log\nbuild/**/tmp\n/secret/\n",
        )
        .unwrap();
        let ig = Ignore::load(d.path()).unwrap();
        for (p, out) in [
            (".git", true),
            (".git/config", true),
            ("a.log", true),
            ("keep.log", false),
            ("sub/a.log", false),
            ("build/x/tmp/f", true),
            ("build/x/keep", false),
            ("secret/key", true),
            ("src/main.rs", false),
        ] {
            assert_eq!(ig.excluded(Path::new(p)), out, "{p}");
        }
        assert!(!Ignore::default().excluded(Path::new(".git")));
    }

    #[test]
    fn healthchecks_as_docker_records_them() {
        assert_eq!(healthcheck("NONE").unwrap(), json!({"Test": ["NONE"]}));
        assert_eq!(
            healthcheck("--interval=5s --retries=3 CMD curl -f http://x/").unwrap(),
            json!({"Interval": 5_000_000_000u64, "Retries": 3, "Test": ["CMD-SHELL", "curl -f http://x/"]})
        );
        assert_eq!(
            healthcheck("CMD [\"true\"]").unwrap(),
            json!({"Test": ["CMD", "true"]})
        );
        assert!(healthcheck("--bogus=1 CMD x").is_err());
    }

    #[test]
    fn args_come_from_the_build_then_defaults_then_globals() {
        let given = BTreeMap::from([("A".to_string(), "given".to_string())]);
        let ins = |a: &str| Instruction {
            line: 1,
            keyword: "ARG".into(),
            flags: vec![],
            args: a.into(),
            escape: '\\',
        };
        let arg = |a: &str, global: &[(String, String)]| {
            declare_arg(&ins(a), &given, global, &["V=v".into()]).unwrap()[0].clone()
        };
        assert_eq!(arg("A=d", &[]), ("A".into(), Some("given".into())));
        assert_eq!(arg("B=d", &[]), ("B".into(), Some("d".into())));
        let global = [("C".to_string(), "g".to_string())];
        assert_eq!(arg("C", &global), ("C".into(), Some("g".into())));
        assert_eq!(arg("D", &global), ("D".into(), None));
        // the default through the word lexer: quotes removed, variables expanded
        assert_eq!(arg("E=\"a b\"", &[]), ("E".into(), Some("a b".into())));
        assert_eq!(arg("F=${V}-x", &[]), ("F".into(), Some("v-x".into())));
        // several in one instruction, each expanded with the variables before it
        assert_eq!(
            declare_arg(&ins("A B=\"x y\" C=$V"), &given, &[], &["V=v".into()]).unwrap(),
            [
                ("A".into(), Some("given".into())),
                ("B".into(), Some("x y".into())),
                ("C".into(), Some("v".into()))
            ]
        );
        assert!(
            declare_arg(&ins("=x"), &given, &[], &[])
                .unwrap_err()
                .to_string()
                .contains("ARG names can not be blank")
        );
        assert!(
            declare_arg(&ins("G=\"open"), &given, &[], &[])
                .unwrap_err()
                .to_string()
                .contains("unexpected end of statement while looking for matching double-quote")
        );
    }

    /// ADD extracts by content, as Docker's `isArchivePath`: a tar plain or compressed with
    /// gzip, bzip2 or xz whatever its name; not a compressed file holding no tar, nor an
    /// empty tar (no header), nor a short file.
    #[test]
    fn archives_are_told_by_their_bytes() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(800_000_000);
        h.set_cksum();
        b.append_data(&mut h, "f.txt", &b"abc"[..]).unwrap();
        let tarball = b.into_inner().unwrap();
        let gz = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let bz = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(&tarball).unwrap();
            e.finish().unwrap()
        };
        let xz = {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(&tarball).unwrap();
            e.finish().unwrap()
        };
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            ("plain.dat", tarball.clone(), true),
            ("x.gz", gz(&tarball), true),
            ("x.bin", bz, true),
            ("noext", xz, true),
            ("notar.tar.gz", gz(b"not a tar\n"), false),
            ("empty.tar", vec![0; 1024], false),
            ("short.tar", b"abc".to_vec(), false),
        ];
        for (name, bytes, want) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            assert_eq!(is_archive(&p), want, "{name}");
            if want {
                let out = dir.path().join(format!("{name}.out"));
                std::fs::create_dir(&out).unwrap();
                extract(&p, &out).unwrap();
                assert_eq!(std::fs::read(out.join("f.txt")).unwrap(), b"abc", "{name}");
            }
        }
    }

    /// ADD <url>: a loopback server's answers as the classic builder takes them: the name
    /// from the path, else from Content-Disposition; mode 0600; the time Last-Modified says,
    /// else the Unix epoch; an error status with its body.
    #[test]
    fn downloads_as_the_classic_builder() {
        use std::io::{Read as _, Write as _};
        use std::os::unix::fs::MetadataExt as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let mut s = stream.unwrap();
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap();
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
                let resp = match path.as_str() {
                    "/f.txt" => "HTTP/1.1 200 OK\r\nLast-Modified: Tue, 07 May 1996 12:00:00 GMT\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".to_string(),
                    "/gen/" => "HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"made.bin\"\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx".to_string(),
                    _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\n no such \n".to_string(),
                };
                s.write_all(resp.as_bytes()).unwrap();
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let base = format!("http://{addr}");
        let f = download(&format!("{base}/f.txt"), dir.path(), false).unwrap();
        assert_eq!(f, dir.path().join("f.txt"));
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.mtime(), m.len()),
            (0o600, 831_470_400, 2)
        );
        let f = download(&format!("{base}/gen/"), dir.path(), true).unwrap();
        assert_eq!(f, dir.path().join("made.bin"));
        assert_eq!(std::fs::metadata(&f).unwrap().mtime(), 0);
        let e = download(&format!("{base}/missing"), dir.path(), false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("failed to GET {base}/missing with status 404 Not Found: no such")
        );
        let e = download(&format!("{base}/other/"), dir.path(), true).unwrap_err();
        assert!(e.to_string().contains("status 404"), "{e}");
    }
}
