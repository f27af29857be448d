//! `kiln channel history | promote | rollback`: the GitOps side of channels. The operator
//! never writes an ImageChannel's spec; moving a channel is a commit. These commands read
//! `kubectl get imagechannel -o json` output (a file or stdin) and print — or write with
//! `-w FILE` — the manifest to commit:
//!
//! * `history`: the channel's assignments, newest first, the current one marked;
//! * `promote CHANNEL BUILD`: the channel pinned to `BUILD` (`spec.build`);
//! * `rollback CHANNEL`: the channel pinned to the build it pointed at before the current one.
//!
//! HCP Packer's channel assignment history and rollback, as files in git.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kiln_crds::{ImageChannel, ImageChannelSpec};
use kiln_engine::datasources::kiln_channel;
use kube::api::ObjectMeta;

#[derive(Args, Debug)]
pub struct ChannelArgs {
    #[command(subcommand)]
    pub command: ChannelCommand,
}

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Print a channel's assignment history (newest first).
    History(HistoryArgs),
    /// Print (or write) the ImageChannel manifest pinning a build.
    Promote(PromoteArgs),
    /// Print (or write) the ImageChannel manifest pointing back at the previous build.
    Rollback(RollbackArgs),
}

/// The channel `history` and `rollback` read.
#[derive(Args, Debug)]
pub struct Input {
    /// The ImageChannel (optional when the input holds one).
    pub channel: Option<String>,
    /// `kubectl get imagechannel -o json` output: one channel, a List or an array (`-`:
    /// stdin).
    #[arg(short = 'f', long = "file", default_value = "-")]
    pub file: String,
    /// The channel's namespace, when the input holds channels of several namespaces.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub input: Input,
    /// Print JSON instead of a table.
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct PromoteArgs {
    /// The ImageChannel.
    pub channel: String,
    /// The ImageBuild to pin.
    pub build: String,
    /// The current channel (`kubectl get imagechannel NAME -o json`); without it, a new
    /// manifest is made from `--template`.
    #[arg(short = 'f', long = "file")]
    pub file: Option<String>,
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// The ImageTemplate of a new channel.
    #[arg(long = "template")]
    pub template: Option<String>,
    /// Write the manifest to this file instead of stdout.
    #[arg(short = 'w', long = "write")]
    pub write: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub input: Input,
    /// Write the manifest to this file instead of stdout.
    #[arg(short = 'w', long = "write")]
    pub write: Option<PathBuf>,
}

pub fn run(a: ChannelArgs) -> i32 {
    let r = match a.command {
        ChannelCommand::History(h) => history(&h),
        ChannelCommand::Promote(p) => promote(&p),
        ChannelCommand::Rollback(r) => rollback(&r),
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e:#}");
            1
        }
    }
}

/// The ImageChannel `name` (or the only one) of the `kubectl get -o json` output in `file`
/// (`-`: stdin), in `namespace` when given.
fn read_channel(
    file: &str,
    name: Option<&str>,
    namespace: Option<&str>,
) -> anyhow::Result<ImageChannel> {
    let text = read_input(file)?;
    let channels = parse_channels(&text, file)?;
    pick(&channels, name, namespace).cloned()
}

impl Input {
    fn read(&self) -> anyhow::Result<ImageChannel> {
        read_channel(
            &self.file,
            self.channel.as_deref(),
            self.namespace.as_deref(),
        )
    }
}

fn read_input(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))
    }
}

/// The ImageChannels of `kubectl get -o json` output: one object, a `List`, or an array,
/// read as the `kiln-channel` data source reads its channels file.
pub fn parse_channels(text: &str, origin: &str) -> anyhow::Result<Vec<ImageChannel>> {
    let items = kiln_channel::parse_channels(text).with_context(|| origin.to_string())?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item)
                .with_context(|| format!("{origin}: item {i} is not a valid ImageChannel"))
        })
        .collect()
}

/// The channel the arguments name among `channels`.
pub fn pick<'a>(
    channels: &'a [ImageChannel],
    name: Option<&str>,
    namespace: Option<&str>,
) -> anyhow::Result<&'a ImageChannel> {
    let found: Vec<&ImageChannel> = channels
        .iter()
        .filter(|c| name.is_none_or(|n| c.metadata.name.as_deref() == Some(n)))
        .filter(|c| namespace.is_none_or(|ns| c.metadata.namespace.as_deref() == Some(ns)))
        .collect();
    let what = match (name, namespace) {
        (Some(n), Some(ns)) => format!("ImageChannel {ns}/{n}"),
        (Some(n), None) => format!("ImageChannel {n}"),
        (None, _) => "an ImageChannel".to_string(),
    };
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "{what} is not in the input ({} channel(s) read)",
            channels.len()
        ),
        many => bail!(
            "the input holds {} channels matching; name one{}: {}",
            many.len(),
            if name.is_some() {
                " and its namespace (-n)"
            } else {
                ""
            },
            many.iter()
                .map(|c| display(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn display(c: &ImageChannel) -> String {
    let name = c.metadata.name.clone().unwrap_or_default();
    match &c.metadata.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name,
    }
}

/// The history table.
pub fn render_history(c: &ImageChannel) -> String {
    let status = c.status.clone().unwrap_or_default();
    let current = status.current_build.clone();
    let mut rows = vec![[
        String::new(),
        "BUILD".to_string(),
        "ASSIGNED".to_string(),
        "REASON".to_string(),
    ]];
    for h in &status.history {
        rows.push([
            if current.as_deref() == Some(h.build.as_str()) && rows.len() == 1 {
                "*".to_string()
            } else {
                String::new()
            },
            h.build.clone(),
            h.assigned_at
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_else(|| "-".into()),
            h.reason.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = format!("ImageChannel {}\n", display(c));
    if status.history.is_empty() {
        out.push_str("no assignments yet\n");
        return out;
    }
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn history(a: &HistoryArgs) -> anyhow::Result<()> {
    let c = &a.input.read()?;
    if a.json {
        let status = c.status.clone().unwrap_or_default();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "channel": c.metadata.name,
                "namespace": c.metadata.namespace,
                "currentBuild": status.current_build,
                "history": status.history,
            }))?
        );
    } else {
        print!("{}", render_history(c));
    }
    Ok(())
}

/// The manifest to commit: `current`'s identity and spec, pinned to `build`; no status, no
/// server-set metadata.
pub fn pinned_manifest(current: &ImageChannel, build: &str) -> ImageChannel {
    let m = &current.metadata;
    let mut annotations = m.annotations.clone().unwrap_or_default();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    let mut spec = current.spec.clone();
    spec.build = Some(build.to_string());
    spec.follow = None;
    ImageChannel {
        metadata: ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            labels: m.labels.clone().filter(|l| !l.is_empty()),
            annotations: Some(annotations).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        },
        spec,
        status: None,
    }
}

/// The build a rollback goes to: the newest history entry that is not the current build.
pub fn previous_build(c: &ImageChannel) -> anyhow::Result<String> {
    let status = c.status.clone().unwrap_or_default();
    let current = status
        .current_build
        .clone()
        .or_else(|| status.history.first().map(|h| h.build.clone()));
    status
        .history
        .iter()
        .find(|h| Some(&h.build) != current.as_ref())
        .map(|h| h.build.clone())
        .with_context(|| {
            format!(
                "ImageChannel {} has no earlier build in its history ({} entr{}; spec.historyLimit {})",
                display(c),
                status.history.len(),
                if status.history.len() == 1 { "y" } else { "ies" },
                c.spec.history_limit
            )
        })
}

fn to_yaml(c: &ImageChannel) -> anyhow::Result<String> {
    let mut v = serde_json::to_value(c)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    Ok(serde_yaml::to_string(&v)?)
}

fn emit(c: &ImageChannel, write: Option<&Path>) -> anyhow::Result<()> {
    let yaml = to_yaml(c)?;
    match write {
        None => print!("{yaml}"),
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, yaml.as_bytes())?;
            tmp.persist(path)
                .map_err(|e| e.error)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("Wrote {}", path.display());
        }
    }
    Ok(())
}

fn promote(a: &PromoteArgs) -> anyhow::Result<()> {
    let current = match &a.file {
        Some(f) => read_channel(f, Some(&a.channel), a.namespace.as_deref())?,
        None => {
            let Some(t) = &a.template else {
                bail!(
                    "promote needs the current channel (-f, `kubectl get imagechannel {} -o json`) or, for a new channel, --template",
                    a.channel
                );
            };
            let mut c = ImageChannel::new(&a.channel, ImageChannelSpec::pinned(t, &a.build));
            c.metadata.namespace = a.namespace.clone();
            c
        }
    };
    if let Some(t) = &a.template
        && current.spec.template_ref.name != *t
    {
        bail!(
            "ImageChannel {} serves ImageTemplate {}, not {t}",
            display(&current),
            current.spec.template_ref.name
        );
    }
    if current.spec.follow.is_some() {
        eprintln!(
            "Warning: ImageChannel {} follows a selector; the manifest pins {} instead (spec.follow removed)",
            display(&current),
            a.build
        );
    }
    emit(&pinned_manifest(&current, &a.build), a.write.as_deref())
}

fn rollback(a: &RollbackArgs) -> anyhow::Result<()> {
    let c = &a.input.read()?;
    let to = previous_build(c)?;
    eprintln!(
        "Rolling ImageChannel {} back from {} to {to}",
        display(c),
        c.status
            .as_ref()
            .and_then(|s| s.current_build.clone())
            .unwrap_or_else(|| "-".into())
    );
    emit(&pinned_manifest(c, &to), a.write.as_deref())
}
