//! Renderings of the event stream: the human output a Packer user knows (`==> build: …`,
//! in colour, as Packer colours it), Packer's `-machine-readable` lines, and JSON lines.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::run::human_duration;
use crate::ui::{Event, EventKind, Sink};

const COLORS: &[&str] = &["32", "36", "35", "33", "34"];

/// Packer's human output, as its UIs stack them for a build: the target prefix
/// (`TargetedUI`: `==> build: ` on every line of a message, trailing whitespace of the whole
/// trimmed), then the time (`TimestampedUi`, `-timestamp-ui`: once, before the first line),
/// then the build's colour (`ColoredUi`: around the whole message, bold; errors red). What
/// Packer's command says itself (the artifacts, "Wait completed") is neither timed nor
/// coloured.
pub struct HumanSink {
    /// `-color` (not `false`): each build announces its colour ("output will be in this
    /// color.") and its lines go through the colouring UI.
    announce: bool,
    /// Colour codes are written (`-color` and no `PACKER_NO_COLOR`).
    color: bool,
    timestamps: bool,
    colors: Mutex<BTreeMap<String, &'static str>>,
    out: Mutex<Box<dyn Write + Send>>,
    /// Builds were announced ("output will be in this color."): one blank line before
    /// whatever comes next, as Packer prints after the last announcement.
    announced: std::sync::atomic::AtomicBool,
}

impl HumanSink {
    /// `kiln build`'s output on stdout: `color` is the `-color` flag (Packer colours even
    /// when stdout is not a terminal; `PACKER_NO_COLOR` keeps the codes out).
    pub fn stdio(color: bool, timestamps: bool) -> HumanSink {
        HumanSink::new(
            color,
            timestamps,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    pub fn new(
        color: bool,
        timestamps: bool,
        out: Box<dyn Write + Send>,
        // Packer's UI writes errors to stdout too: nothing goes to `_err` any more.
        _err: Box<dyn Write + Send>,
    ) -> HumanSink {
        HumanSink {
            announce: color,
            color: color && std::env::var_os("PACKER_NO_COLOR").is_none_or(|v| v.is_empty()),
            timestamps,
            colors: Mutex::new(BTreeMap::new()),
            announced: std::sync::atomic::AtomicBool::new(false),
            out: Mutex::new(out),
        }
    }

    /// Announces the builds' colours but writes no colour codes (a runner pod's log).
    pub fn without_codes(mut self) -> HumanSink {
        self.color = false;
        self
    }

    fn color_of(&self, build: &str) -> &'static str {
        let mut m = self.colors.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.len();
        m.entry(build.to_string())
            .or_insert(COLORS[n % COLORS.len()])
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        format!("\x1b[1;{code}m{text}\x1b[0m")
    }

    fn stamp(&self) -> String {
        if !self.timestamps {
            return String::new();
        }
        timestamp_prefix()
    }

    /// A message said through a build's UI: timed (`-timestamp-ui`), then coloured with
    /// `code` when the build's UI colours.
    fn build_line(&self, text: &str, code: &str) {
        let text = format!("{}{text}", self.stamp());
        self.line(&self.paint(&text, code));
    }

    fn line(&self, text: &str) {
        let w = &self.out;
        let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(w, "{text}");
        let _ = w.flush();
    }
}

impl Sink for HumanSink {
    /// Packer's `BasicUi.Ask` under its build's UIs: the query targeted and coloured (not
    /// timed), a space, then a line read from the controlling terminal (`/dev/tty`, not
    /// stdin); Packer's `no available tty` without one.
    fn ask(&self, e: &Event) -> Result<String, String> {
        let no_tty = || "no available tty".to_string();
        let mut tty = std::fs::File::open("/dev/tty").map_err(|_| no_tty())?;
        let EventKind::Say { message } = &e.kind else {
            return Err(no_tty());
        };
        let query = match e.target() {
            Some(t) => targeted(&t, message),
            None => message.clone(),
        };
        let code = e.build.as_deref().map(|b| self.color_of(b)).unwrap_or("0");
        let query = self.paint(&query, code);
        {
            let mut w = self.out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = write!(w, "{query} ");
            let _ = w.flush();
        }
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match std::io::Read::read(&mut tty, &mut byte) {
                Ok(1) if byte[0] != b'\n' => line.push(byte[0]),
                Ok(1) => break,
                Ok(_) if line.is_empty() => return Err("EOF".into()),
                Ok(_) => break,
                Err(e) => return Err(crate::goerr::errno_text(&e)),
            }
        }
        Ok(String::from_utf8_lossy(&line).trim().to_string())
    }

    fn emit(&self, e: &Event) {
        let build = e.build.as_deref();
        let code = build.map(|b| self.color_of(b)).unwrap_or("0");
        let starting = matches!(e.kind, EventKind::BuildStarted);
        if !starting
            && self
                .announced
                .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            self.line("");
        }
        match (&e.kind, e.target()) {
            (
                EventKind::Say { message }
                | EventKind::Message { message }
                | EventKind::Error { message },
                Some(target),
            ) => {
                let code = if matches!(e.kind, EventKind::Error { .. }) {
                    "31"
                } else {
                    code
                };
                self.build_line(&targeted(&target, message), code);
            }
            // What Packer's command says itself: through its plain UI.
            (EventKind::Say { message }, None) => {
                for l in message.lines() {
                    self.line(&format!("==> {l}"));
                }
            }
            (EventKind::Message { message }, None) => {
                for l in split_keep_empty(message) {
                    self.line(l);
                }
            }
            (EventKind::Error { message }, None) => {
                for l in message.lines() {
                    self.line(&format!("==> {l}"));
                }
            }
            (EventKind::BuildStarted, _) => {
                if let Some(b) = build
                    && self.announce
                {
                    self.line(&self.paint(&format!("{b}: output will be in this color."), code));
                    self.announced
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            (
                EventKind::BuildFinished {
                    seconds,
                    error,
                    cancelled: _,
                },
                _,
            ) => {
                let b = build.unwrap_or("");
                let d = human_duration(Duration::from_secs_f64(*seconds));
                match error {
                    None => self.build_line(&format!("Build '{b}' finished after {d}."), code),
                    Some(err) => {
                        self.build_line(&format!("Build '{b}' errored after {d}: {err}"), "31")
                    }
                }
            }
            // As Go's `log` writes Packer's log (`PACKER_LOG`) to standard error.
            (EventKind::Log { message }, target) if packer_log() => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let stamp = rfc3339(now)
                    .replace('-', "/")
                    .replace('T', " ")
                    .replace('Z', "");
                let who = target.map(|t| format!("{t}: ")).unwrap_or_default();
                for l in message.lines() {
                    eprintln!("{stamp} {who}{l}");
                }
            }
            _ => {}
        }
    }
}

fn split_keep_empty(s: &str) -> Vec<&str> {
    if s.is_empty() {
        vec![""]
    } else {
        s.lines().collect()
    }
}

/// `-timestamp-ui`'s prefix (Packer's `TimestampedUi`): the time now, RFC 3339, and `: `.
fn timestamp_prefix() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}: ", rfc3339(now))
}

/// Packer's `PACKER_LOG`: set, and not `0`.
fn packer_log() -> bool {
    std::env::var("PACKER_LOG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// RFC 3339 UTC timestamp of a Unix time.
pub fn rfc3339(d: Duration) -> String {
    rfc3339_secs(d.as_secs() as i64)
}

/// RFC 3339 UTC timestamp of Unix seconds (before 1970 too), as Go's `time.RFC3339` in UTC.
pub fn rfc3339_secs(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Packer's `-machine-readable` format: `timestamp,target,type,data...`.
pub struct MachineSink {
    out: Mutex<Box<dyn Write + Send>>,
    /// `-timestamp-ui`: what a build says is timed inside its `ui` line (Packer's
    /// `TimestampedUi` over its `MachineReadableUi`).
    timestamps: bool,
}

impl MachineSink {
    pub fn new(out: Box<dyn Write + Send>) -> MachineSink {
        MachineSink {
            out: Mutex::new(out),
            timestamps: false,
        }
    }

    /// Times what builds say (`-timestamp-ui`).
    pub fn timed(mut self, timestamps: bool) -> MachineSink {
        self.timestamps = timestamps;
        self
    }

    fn stamp(&self, text: String) -> String {
        if !self.timestamps {
            return text;
        }
        format!("{}{text}", timestamp_prefix())
    }

    /// Writes one machine-readable line.
    pub fn line(&self, target: &str, kind: &str, data: &[String]) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let fields: Vec<String> = data.iter().map(|d| escape_machine(d)).collect();
        let mut w = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(w, "{ts},{target},{kind},{}", fields.join(","));
        let _ = w.flush();
    }
}

/// Escapes a machine-readable field as Packer does.
pub fn escape_machine(s: &str) -> String {
    s.replace(',', "%!(PACKER_COMMA)")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// Packer's `TargetedUI.prefixLines`: every line arrowed and targeted, trailing
/// whitespace trimmed.
fn targeted(target: &str, message: &str) -> String {
    message
        .split('\n')
        .map(|l| format!("==> {target}: {l}"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

impl Sink for MachineSink {
    fn ask(&self, _e: &Event) -> Result<String, String> {
        Err("machine-readable UI can't ask".into())
    }

    /// As Packer's `MachineReadableUi` under a `TargetedUI`: `ui` lines have an empty
    /// target and carry the arrowed, targeted text (a message is said); the end of a build
    /// is said by the command's own UI.
    fn emit(&self, e: &Event) {
        let target = e.build.clone().unwrap_or_default();
        let text = |message: &str| match e.target() {
            Some(t) => self.stamp(targeted(&t, message)),
            None => message.to_string(),
        };
        match &e.kind {
            EventKind::Say { message } | EventKind::Message { message } => {
                self.line("", "ui", &["say".into(), text(message)]);
            }
            EventKind::Error { message } => {
                self.line("", "ui", &["error".into(), text(message)]);
            }
            EventKind::BuildFinished {
                seconds,
                error,
                cancelled: _,
            } => {
                let d = human_duration(Duration::from_secs_f64(*seconds));
                match error {
                    None => self.line(
                        "",
                        "ui",
                        &[
                            "say".into(),
                            self.stamp(format!("Build '{target}' finished after {d}.")),
                        ],
                    ),
                    Some(err) => self.line(
                        "",
                        "ui",
                        &[
                            "error".into(),
                            self.stamp(format!("Build '{target}' errored after {d}: {err}")),
                        ],
                    ),
                }
            }
            EventKind::Artifact { index, artifact } => {
                let i = index.to_string();
                self.line(
                    &target,
                    "artifact",
                    &[i.clone(), "builder-id".into(), artifact.builder_id.clone()],
                );
                self.line(
                    &target,
                    "artifact",
                    &[i.clone(), "id".into(), artifact.id.clone()],
                );
                self.line(
                    &target,
                    "artifact",
                    &[i.clone(), "string".into(), artifact.description.clone()],
                );
                self.line(
                    &target,
                    "artifact",
                    &[
                        i.clone(),
                        "files-count".into(),
                        artifact.files.len().to_string(),
                    ],
                );
                for (n, f) in artifact.files.iter().enumerate() {
                    self.line(
                        &target,
                        "artifact",
                        &[
                            i.clone(),
                            "file".into(),
                            n.to_string(),
                            f.display().to_string(),
                        ],
                    );
                }
                self.line(&target, "artifact", &[i, "end".into()]);
            }
            _ => {}
        }
    }
}

/// One JSON object per event, per line.
pub struct JsonSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonSink {
    pub fn new(out: Box<dyn Write + Send>) -> JsonSink {
        JsonSink {
            out: Mutex::new(out),
        }
    }
}

impl Sink for JsonSink {
    fn emit(&self, e: &Event) {
        if let Ok(s) = serde_json::to_string(e) {
            let mut w = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(w, "{s}");
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_fields_escape_commas_and_newlines() {
        assert_eq!(escape_machine("a,b\nc"), "a%!(PACKER_COMMA)b\\nc");
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(Duration::from_secs(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Duration::from_secs(1_700_000_000)),
            "2023-11-14T22:13:20Z"
        );
    }
}
