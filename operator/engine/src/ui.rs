//! The UI: one event stream for everything a build says. Sensitive values are masked here,
//! before any line leaves the engine; sinks render events for a terminal, for
//! `-machine-readable`, as JSON lines, or into a resource's status.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::artifact::Artifact;

/// Replaces sensitive strings with `<sensitive>`, as Packer does: every registered value,
/// its CRLF-normalised form, and each non-empty line of a multi-line value.
#[derive(Debug, Default)]
pub struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    pub fn new(values: impl IntoIterator<Item = String>) -> Masker {
        let mut secrets: Vec<String> = Vec::new();
        for v in values {
            let norm = v.replace("\r\n", "\n");
            // a multi-line value's lines first: Packer's RegisterSecret puts the value and
            // its lines in a Go map, then into the filter's, so which is replaced first is
            // random; its lines first, hence one `<sensitive>` per line, in 9 of 16 runs
            // (measured: 23 of 40 for a three-line value)
            for candidate in norm
                .lines()
                .map(str::to_string)
                .chain([v.clone(), norm.clone()])
            {
                if !candidate.trim().is_empty() && !secrets.contains(&candidate) {
                    secrets.push(candidate);
                }
            }
        }
        // In the order they were registered, as Packer's filter most often replaces them:
        // its secrets are a Go map, which iterates a small map in insertion order from a
        // random start (the first registered first in 7 of 8 runs for two secrets). A
        // sensitive local built from a sensitive variable therefore shows as
        // `tok-<sensitive>-xyz`: the variable's value is masked first.
        Masker { secrets }
    }

    pub fn mask(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "<sensitive>");
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// What happened.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A step announcing what it does (`==> build: …`).
    Say { message: String },
    /// Detail or command output (`    build: …`).
    Message { message: String },
    /// An error line.
    Error { message: String },
    /// A log line (what Packer's components `log.Printf`): not part of the build's output;
    /// on standard error with `PACKER_LOG` set.
    Log { message: String },
    /// A build started.
    BuildStarted,
    /// A builder step started.
    Step { step: String },
    /// Provisioner `index` (1-based) of `total` started.
    Provisioner {
        index: usize,
        total: usize,
        kind: String,
    },
    /// A build ended; `error` is set when it failed.
    BuildFinished {
        seconds: f64,
        error: Option<String>,
        cancelled: bool,
    },
    /// An artifact of a finished build.
    Artifact { index: usize, artifact: Artifact },
    /// A manifest entry was written.
    ManifestEntry { entry: serde_json::Value },
}

/// One event.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// Unix time in seconds.
    pub time: f64,
    /// The build (`[build.]type.name`) it belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The post-processor type saying it, if one does (Packer targets its lines
    /// `build (type)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// What Packer's `TargetedUI` prefixes lines with: `null.a`, `null.a (compress)`.
    pub fn target(&self) -> Option<String> {
        let b = self.build.as_deref()?;
        Some(match &self.component {
            Some(c) => format!("{b} ({c})"),
            None => b.to_string(),
        })
    }
}

/// Where events go.
pub trait Sink: Send + Sync {
    fn emit(&self, event: &Event);

    /// Asks the user `query` (said as `event` would be) and returns the line typed, or
    /// why this output cannot ask, in Packer's words (`no available tty`, `machine-readable
    /// UI can't ask`): Packer's `Ui.Ask`. Blocks until a line is typed.
    fn ask(&self, _event: &Event) -> Result<String, String> {
        Err("no available tty".into())
    }
}

/// A handle for saying things, bound to a build or not.
#[derive(Clone)]
pub struct Ui {
    sink: Arc<dyn Sink>,
    build: Option<String>,
    component: Option<String>,
    masker: Arc<Masker>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").field("build", &self.build).finish()
    }
}

impl Ui {
    pub fn new(sink: Arc<dyn Sink>, masker: Arc<Masker>) -> Ui {
        Ui {
            sink,
            build: None,
            component: None,
            masker,
        }
    }

    /// A UI whose events belong to `build`.
    pub fn for_build(&self, build: &str) -> Ui {
        Ui {
            build: Some(build.to_string()),
            component: None,
            ..self.clone()
        }
    }

    /// The UI a post-processor of type `kind` is given: its lines are targeted
    /// `build (kind)`, as Packer's are.
    pub fn for_component(&self, kind: &str) -> Ui {
        Ui {
            component: Some(kind.to_string()),
            ..self.clone()
        }
    }

    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }

    pub fn masker(&self) -> &Arc<Masker> {
        &self.masker
    }

    pub fn mask(&self, s: &str) -> String {
        self.masker.mask(s)
    }

    /// Emits an event; every string in it is masked first.
    pub fn emit(&self, kind: EventKind) {
        let kind = match kind {
            EventKind::Say { message } => EventKind::Say {
                message: self.mask(&message),
            },
            EventKind::Message { message } => EventKind::Message {
                message: self.mask(&message),
            },
            EventKind::Error { message } => EventKind::Error {
                message: self.mask(&message),
            },
            EventKind::BuildFinished {
                seconds,
                error,
                cancelled,
            } => EventKind::BuildFinished {
                seconds,
                error: error.map(|e| self.mask(&e)),
                cancelled,
            },
            EventKind::Artifact { index, artifact } => EventKind::Artifact {
                index,
                artifact: artifact.masked(&self.masker),
            },
            EventKind::ManifestEntry { entry } => EventKind::ManifestEntry {
                entry: mask_json(&entry, &self.masker),
            },
            other => other,
        };
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.sink.emit(&Event {
            time,
            build: self.build.clone(),
            component: self.component.clone(),
            kind,
        });
    }

    /// Asks the user (Packer's `Ui.Ask`): the line typed, or why no one can be asked.
    /// Blocking: call it off the async workers.
    pub fn ask(&self, query: &str) -> Result<String, String> {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.sink.ask(&Event {
            time,
            build: self.build.clone(),
            component: self.component.clone(),
            kind: EventKind::Say {
                message: self.mask(query),
            },
        })
    }

    pub fn say(&self, message: impl Into<String>) {
        self.emit(EventKind::Say {
            message: message.into(),
        });
    }

    pub fn message(&self, message: impl Into<String>) {
        self.emit(EventKind::Message {
            message: message.into(),
        });
    }

    pub fn error(&self, message: impl Into<String>) {
        self.emit(EventKind::Error {
            message: message.into(),
        });
    }

    /// Logs `message` ([`EventKind::Log`]).
    pub fn log(&self, message: impl Into<String>) {
        self.emit(EventKind::Log {
            message: message.into(),
        });
    }
}

/// Masks every string inside a JSON value.
pub fn mask_json(v: &serde_json::Value, m: &Masker) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => serde_json::Value::String(m.mask(s)),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(|x| mask_json(x, m)).collect())
        }
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), mask_json(x, m)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A sink that keeps every event (tests, status collection).
#[derive(Default)]
pub struct Recorder {
    pub events: std::sync::Mutex<Vec<Event>>,
}

impl Sink for Recorder {
    fn emit(&self, event: &Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event.clone());
        }
    }
}

impl Recorder {
    /// Every Say/Message/Error text, in order.
    pub fn lines(&self) -> Vec<String> {
        self.events
            .lock()
            .map(|e| {
                e.iter()
                    .filter_map(|ev| match &ev.kind {
                        EventKind::Say { message }
                        | EventKind::Message { message }
                        | EventKind::Error { message }
                        | EventKind::Log { message } => Some(message.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Fans events out to several sinks.
pub struct Tee(pub Vec<Arc<dyn Sink>>);

impl Sink for Tee {
    fn emit(&self, event: &Event) {
        for s in &self.0 {
            s.emit(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_lines_in_registration_order() {
        let m = Masker::new(["s3cret".to_string(), "line one\r\nline two".to_string()]);
        assert_eq!(m.mask("pw=s3cret!"), "pw=<sensitive>!");
        assert_eq!(m.mask("got line two here"), "got <sensitive> here");
        assert_eq!(m.mask("line one\nline two"), "<sensitive>\n<sensitive>");
        assert_eq!(m.mask("line one\r\nline two"), "<sensitive>\r\n<sensitive>");
        // A secret holding an earlier one: the earlier is masked first, as Packer most
        // often does.
        let m = Masker::new(["s3cret".to_string(), "tok-s3cret-x".to_string()]);
        assert_eq!(m.mask("t=tok-s3cret-x"), "t=tok-<sensitive>-x");
        let m = Masker::new(["tok-s3cret-x".to_string(), "s3cret".to_string()]);
        assert_eq!(m.mask("t=tok-s3cret-x"), "t=<sensitive>");
    }

    #[test]
    fn ui_masks_every_event() {
        let rec = Arc::new(Recorder::default());
        let ui = Ui::new(rec.clone(), Arc::new(Masker::new(["hunter2".to_string()])));
        ui.for_build("null.a").say("password is hunter2");
        ui.error("hunter2 failed");
        assert_eq!(
            rec.lines(),
            vec!["password is <sensitive>", "<sensitive> failed"]
        );
        assert_eq!(
            rec.events.lock().unwrap()[0].build.as_deref(),
            Some("null.a")
        );
    }
}
