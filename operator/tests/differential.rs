//! Differential suite: every case under `tests/differential/cases/<name>/` runs through Kiln
//! and through Packer v1.16.0 built from source (`scripts/packer.sh`), and the two must agree
//! on exit code, stdout, stderr and the files the command wrote or changed.
//!
//! A case is a directory holding template files and:
//! - `cmd`: the command line after the program name, shell-quoted (`validate .`,
//!   `console -config-type=hcl2`); the command runs in a copy of the case directory;
//! - `stdin` (optional): given on standard input, a pipe (else stdin is an empty pipe);
//! - `stdin-file` (optional): given on standard input as a regular file (Packer's console
//!   treats a pipe and a file differently);
//! - `deviation` (optional): a deliberate difference, documented in docs/templates.md; its text
//!   is the reason. Such a case must still differ (when it agrees, remove the file).
//! - `pending` (optional): a known difference not fixed yet (listed in docs/templates.md,
//!   "Where Kiln still differs"). Such a case must still differ: when it agrees, the test
//!   fails until the file is removed, so fixed cases stay fixed.
//! - `source` (optional): where a real-world template came from.
//! - `plugins` (optional): plugins Packer gets for the case, one per line (`docker`:
//!   packer-plugin-docker v1.1.2 from `scripts/docker-plugin.sh`; `qemu`: packer-plugin-qemu
//!   v1.1.7 from `scripts/qemu-plugin.sh`; installed with `packer plugins install --path`),
//!   so a builder's own checks are compared; Kiln has them built in.
//! - `color` (optional): the command runs without `PACKER_NO_COLOR`, so build output is
//!   coloured (as both tools colour it, terminal or not).
//! - `signal` (optional): seconds after the start (`2.5`), the command gets SIGTERM, as
//!   `timeout` sends it (to the program's own process);
//! - `tty` (optional): the command runs on a pseudo-terminal (stdin, stdout and stderr) and
//!   each line of this file is typed in turn (escapes `\r`, `\e`, `\xHH`, `\\`), once the
//!   command waits for input; what the two show on the terminal is compared (see [`run_tty`]).
//!
//! Both tools run in the same directory (a fresh copy each), with the same environment, so
//! absolute paths agree; only what is inherently run-specific is normalised: durations,
//! timestamps and UUIDs. Where Kiln's outcome differs, Packer runs a second time and Kiln is
//! compared with that run when Packer's two differ (Packer's output varies under load).
//! `KILN_DIFF_CASE=<substring>` runs only the matching cases;
//! `KILN_DIFF_DUMP=<dir>` writes both outcomes of each case there, as compared;
//! `KILN_DIFF_CASES=<dir>` takes the cases from another directory;
//! `KILN_PACKER` names another Packer binary.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::packer;

/// A command still running after this is killed (and the case fails).
const TIMEOUT: Duration = Duration::from_secs(30);

/// The cases: `tests/differential/cases`, or the directory `KILN_DIFF_CASES` names (cases
/// generated elsewhere, as `scripts/build-fuzz.sh` writes them).
fn cases_dir() -> PathBuf {
    match std::env::var_os("KILN_DIFF_CASES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/cases"),
    }
}

/// Files that describe a case rather than belong to it.
const META: &[&str] = &[
    "cmd",
    "stdin",
    "stdin-file",
    "deviation",
    "pending",
    "source",
    "plugins",
    "tty",
    "color",
    "env",
    "signal",
];

fn copy_dir(from: &Path, to: &Path, top: bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if top && META.contains(&name.to_str().unwrap_or("")) {
            continue;
        }
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_dir(&e.path(), &to.join(&name), false);
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// Every regular file under `dir`, relative path → contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                walk(root, &p, out);
            } else if t.is_file() {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Files created or changed by the command (relative path → normalised text).
    files: BTreeMap<String, String>,
}

fn normalise(s: &str) -> String {
    use std::sync::OnceLock;
    static RES: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            // UUIDs (run ids, uuidv4()).
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<UUID>"),
            // Durations as Packer prints them ("finished after 1 second 5 milliseconds",
            // "Wait completed after 13 milliseconds"): any run of numbers and units.
            (
                r"after( \d+(\.\d+)? ?(hours?|minutes?|seconds?|milliseconds?|microseconds?|nanoseconds?|h|m|s|ms|µs|ns))+",
                "after <DURATION>",
            ),
            // Temporary script names (Go's os.CreateTemp: random decimal digits; Kiln names
            // them the same way, so only digits are taken as a name).
            (r"packer-shell[0-9]+", "packer-shell<TEMP>"),
            (r"pkr-file-content[0-9]+", "pkr-file-content<TEMP>"),
            // hcp-sbom's hand-over file and its copies into a destination directory.
            (r"packer-sbom-[0-9]+\.json", "packer-sbom-<TEMP>.json"),
            (r"packer-user-sbom-[0-9]+\.json", "packer-user-sbom-<TEMP>.json"),
            // Unix times (manifest build_time) and RFC 3339 timestamps.
            (r#""build_time": \d{10}"#, r#""build_time": <TIME>"#),
            (r"(?m)^\d{10},", "<TIME>,"),
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", "<TIMESTAMP>"),
            // Packer's TimeoutProvisioner says this from a goroutine that races the
            // provisioner's return (a Go select between two ready channels): the line comes
            // before or after the step's error, or not at all. Kiln says it first, always
            // (tests/cli.rs, provisioner_timeout_stops_a_hanging_command).
            (r"(?m)^==> [^\n]*: Cancelling provisioner after a timeout\.\.\.\n", ""),
        ]
        .into_iter()
        .map(|(r, w)| (regex::Regex::new(r).unwrap(), w))
        .collect()
    });
    let mut s = s.to_string();
    for (re, with) in res {
        s = re.replace_all(&s, *with).to_string();
    }
    // Packer lists the artifacts and errors of finished builds from a Go map: in random
    // order. Runs of `--> ` entries are compared sorted, an entry running to the next
    // `--> ` or `==> ` line (a build's error may span lines), blank lines at the end of a
    // run staying after it.
    fn flush(out: &mut String, run: &mut Vec<String>) {
        let Some(last) = run.last_mut() else { return };
        let kept = last.trim_end_matches('\n').len() + 1;
        let tail = last.split_off(kept.min(last.len()));
        run.sort();
        for entry in run.drain(..) {
            out.push_str(&entry);
        }
        out.push_str(&tail);
    }
    let mut out = String::new();
    let mut run: Vec<String> = Vec::new();
    for line in s.split_inclusive('\n') {
        if line.starts_with("--> ") {
            run.push(line.to_string());
        } else if line.starts_with("==> ") || run.is_empty() {
            flush(&mut out, &mut run);
            out.push_str(line);
        } else if let Some(entry) = run.last_mut() {
            entry.push_str(line);
        }
    }
    flush(&mut out, &mut run);
    out
}

fn program_is_packer(program: &Path) -> bool {
    program != Path::new(env!("CARGO_BIN_EXE_kiln"))
}

/// Installs the plugins a case's `plugins` file names into Packer's plugin directory.
fn install_plugins(packer: &Path, case: &Path, home: &Path) {
    let Ok(list) = std::fs::read_to_string(case.join("plugins")) else {
        return;
    };
    for name in list.split_whitespace() {
        let (bin, source) = match name {
            "docker" => (common::docker_plugin(), "github.com/hashicorp/docker"),
            "qemu" => (common::qemu_plugin(), "github.com/hashicorp/qemu"),
            other => panic!("{}: unknown plugin {other:?}", case.display()),
        };
        let out = Command::new(packer)
            .args(["plugins", "install", "--path"])
            .arg(&bin)
            .arg(source)
            .env("HOME", home)
            .env("PACKER_CONFIG_DIR", home)
            .env("PACKER_PLUGIN_PATH", home.join("plugins"))
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: packer plugins install {source}: {}",
            case.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A case's own environment: its `env` file, one `KEY=VALUE` a line.
fn case_env(case: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(case.join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The environment both tools run in (nothing else of the test's own).
fn environment(home: &Path) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("PATH", std::env::var_os("PATH").unwrap_or_default()),
        ("HOME", home.into()),
        ("TMPDIR", std::env::temp_dir().into()),
        ("PACKER_CONFIG_DIR", home.into()),
        ("PACKER_PLUGIN_PATH", home.join("plugins").into()),
        ("CHECKPOINT_DISABLE", "1".into()),
        // Both colour build output, terminal or not; a case with a `color` file runs
        // without this.
        ("PACKER_NO_COLOR", "1".into()),
        (
            "PACKER_RUN_UUID",
            "11111111-2222-3333-4444-555555555555".into(),
        ),
        ("PKR_VAR_from_env", "from the environment".into()),
        ("KILN_DIFF", "1".into()),
    ]
}

fn run(program: &Path, case: &Path, work: &Path, kiln: bool) -> Outcome {
    if work.exists() {
        std::fs::remove_dir_all(work).unwrap();
    }
    copy_dir(case, work, true);
    let before = snapshot(work);
    let cmd = std::fs::read_to_string(case.join("cmd")).unwrap();
    let args = shlex::split(cmd.trim()).unwrap_or_else(|| panic!("{}: bad cmd", case.display()));
    let stdin = std::fs::read(case.join("stdin")).unwrap_or_default();
    let home = work.with_extension("home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("plugins")).unwrap();
    if program_is_packer(program) {
        install_plugins(program, case, &home);
    }
    if let Ok(keys) = std::fs::read_to_string(case.join("tty")) {
        let (code, screen, problems) = run_tty(program, &args, work, &home, &keys, kiln);
        let _ = std::fs::remove_dir_all(&home);
        return Outcome {
            code,
            stdout: normalise(&screen),
            stderr: problems,
            files: BTreeMap::new(),
        };
    }
    let mut c = Command::new(program);
    c.current_dir(work)
        .args(&args)
        .env_clear()
        .envs(
            environment(&home)
                .into_iter()
                .filter(|(k, _)| *k != "PACKER_NO_COLOR" || !case.join("color").exists()),
        )
        .envs(case_env(case))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // No controlling terminal (as in CI), even when the suite runs from one: a command that
    // asks on /dev/tty (`-on-error=ask`, `breakpoint`, `-debug`) then gets Packer's "no
    // available tty" instead of waiting for a key.
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let stdin_file = case.join("stdin-file");
    if stdin_file.exists() {
        c.stdin(std::fs::File::open(&stdin_file).unwrap());
    } else {
        c.stdin(Stdio::piped());
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let si = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let Some(mut si) = si {
            let _ = si.write_all(&stdin);
        }
    });
    let reader = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            b
        })
    };
    let so = reader(Box::new(child.stdout.take().unwrap()));
    let se = reader(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + TIMEOUT;
    let mut signal_at = std::fs::read_to_string(case.join("signal"))
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if signal_at.is_some_and(|t| Instant::now() >= t) {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            signal_at = None;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    feeder.join().unwrap();
    let (stdout, mut stderr) = (so.join().unwrap(), se.join().unwrap());
    if status.is_none() {
        stderr.extend_from_slice(format!("\n<killed after {TIMEOUT:?}>").as_bytes());
    }
    let after = snapshot(work);
    let mut files = BTreeMap::new();
    for (k, v) in &after {
        if before.get(k) != Some(v) {
            files.insert(normalise(k), normalise(&String::from_utf8_lossy(v)));
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            files.insert(k.clone(), "<deleted>".into());
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    Outcome {
        code: status.and_then(|s| s.code()),
        stdout: normalise(&String::from_utf8_lossy(&stdout)),
        stderr: normalise(&String::from_utf8_lossy(&stderr)),
        files,
    }
}

/// The terminal's size in the `tty` cases: tall enough that nothing scrolls away.
const TTY_ROWS: u16 = 500;
const TTY_COLS: u16 = 100;
/// The output is taken as complete (the command waiting for the next keys) after this long
/// without a byte.
const TTY_QUIET: Duration = Duration::from_millis(400);

/// `\r`, `\n`, `\t`, `\e`, `\xHH` and `\\` in a line of a `tty` file.
fn unescape(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('e') => out.push(0x1b),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("\\xHH in a tty file"));
            }
            other => panic!("unknown escape \\{other:?} in a tty file"),
        }
    }
    out
}

/// Runs a command on a pseudo-terminal, typing each line of `keys` once the command waits
/// (its output quiet for [`TTY_QUIET`]), and returns its exit code, the screen at the end
/// and what went wrong (a timeout; for Kiln, a key sent while no prompt was at the cursor).
///
/// One thing of Packer's is set aside: its readline writes the next prompt straight to the
/// terminal while the line's result goes through panicwrap's relay (another process), so
/// the two race and the result most often lands on the new prompt's row (`> bar`), leaving
/// the row after it without a prompt until a key is typed. Packer's drawings of an empty
/// prompt (chzyer/readline's `>  \b`) are taken out of its output before the screen is
/// compared; its drawings of the prompt with what is typed stay. Kiln prints the result,
/// then the prompt; its output is compared as it is, and before every line typed the row at
/// its cursor must be `> ` with the cursor after it.
fn run_tty(
    program: &Path,
    args: &[String],
    work: &Path,
    home: &Path,
    keys: &str,
    kiln: bool,
) -> (Option<i32>, String, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: TTY_ROWS,
            cols: TTY_COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let mut cmd = CommandBuilder::new(program);
    cmd.args(args);
    cmd.cwd(work);
    cmd.env_clear();
    for (k, v) in environment(home) {
        cmd.env(k, v);
    }
    cmd.env("TERM", "xterm");
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .unwrap_or_else(|e| panic!("run {} on a pty: {e}", program.display()));
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    let mut writer = pair.master.take_writer().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let mut screen = vt100::Parser::new(size(TTY_ROWS), size(TTY_COLS), 0);
    let mut raw = Vec::new();
    let mut problems = String::new();
    let deadline = Instant::now() + TIMEOUT;
    // Reads until the output has been quiet for TTY_QUIET after some output came (or the
    // command ended): false when the command ended.
    let settle = |screen: &mut vt100::Parser, raw: &mut Vec<u8>| -> bool {
        let mut seen = false;
        loop {
            match rx.recv_timeout(TTY_QUIET) {
                Ok(bytes) => {
                    screen.process(&bytes);
                    raw.extend_from_slice(&bytes);
                    seen = true;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if seen => return true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if Instant::now() > deadline {
                        return false;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
    };
    for (i, line) in keys.lines().enumerate() {
        if !settle(&mut screen, &mut raw) {
            problems += &format!("<ended before line {} of tty was typed>\n", i + 1);
            break;
        }
        if kiln {
            let s = screen.screen();
            let (row, col) = s.cursor_position();
            let text = s.contents_between(row, 0, row, TTY_COLS);
            // Kiln waits at a prompt: the cursor one space after the row's text (`> ` of
            // the console, `… continue. ` of `-debug`, `…? ` of `-on-error=ask`).
            let prompt = text.trim_end();
            if prompt.is_empty() || usize::from(col) != prompt.chars().count() + 1 {
                problems += &format!(
                    "<no prompt at the cursor before line {} of tty: {text:?}, column {col}>\n",
                    i + 1
                );
            }
        }
        writer.write_all(&unescape(line)).unwrap();
        writer.flush().unwrap();
    }
    while settle(&mut screen, &mut raw) {
        if Instant::now() > deadline {
            break;
        }
    }
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st.exit_code() as i32);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            problems += &format!("<killed after {TIMEOUT:?}>\n");
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    while let Ok(bytes) = rx.recv_timeout(Duration::from_millis(100)) {
        raw.extend_from_slice(&bytes);
    }
    if !kiln {
        const EMPTY_PROMPT: &[u8] = b">  \x08";
        let mut kept = Vec::with_capacity(raw.len());
        let mut rest = &raw[..];
        while !rest.is_empty() {
            if rest.starts_with(EMPTY_PROMPT) {
                rest = &rest[EMPTY_PROMPT.len()..];
            } else {
                kept.push(rest[0]);
                rest = &rest[1..];
            }
        }
        raw = kept;
    }
    let mut screen = vt100::Parser::new(size(TTY_ROWS), size(TTY_COLS), 0);
    screen.process(&raw);
    let mut rows: Vec<String> = screen
        .screen()
        .contents()
        .lines()
        .map(|r| r.trim_end().to_string())
        .collect();
    while rows.last().is_some_and(|r| r.is_empty()) {
        rows.pop();
    }
    (code, rows.join("\n") + "\n", problems)
}

fn describe(kiln: &Outcome, packer: &Outcome) -> String {
    let mut s = String::new();
    if kiln.code != packer.code {
        s += &format!(
            "  exit code: kiln {:?}, packer {:?}\n",
            kiln.code, packer.code
        );
    }
    for (what, k, p) in [
        ("stdout", &kiln.stdout, &packer.stdout),
        ("stderr", &kiln.stderr, &packer.stderr),
    ] {
        if k != p {
            s += &format!("  {what}:\n---- kiln\n{k}\n---- packer\n{p}\n----\n");
        }
    }
    let names: std::collections::BTreeSet<_> =
        kiln.files.keys().chain(packer.files.keys()).collect();
    for n in names {
        let (k, p) = (kiln.files.get(n), packer.files.get(n));
        if k != p {
            s += &format!(
                "  file {n}:\n---- kiln\n{}\n---- packer\n{}\n----\n",
                k.map_or("<not written>", |s| s),
                p.map_or("<not written>", |s| s)
            );
        }
    }
    s
}

#[test]
fn kiln_agrees_with_packer() {
    let packer = packer();
    let kiln = PathBuf::from(env!("CARGO_BIN_EXE_kiln"));
    let filter = std::env::var("KILN_DIFF_CASE").ok();
    let mut names: Vec<_> = std::fs::read_dir(cases_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("cmd").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| filter.as_deref().is_none_or(|f| n.contains(f)))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no case matches");
    let tmp = tempfile::tempdir().unwrap();
    let (mut agree, mut deviations, mut pending, mut failures) = (0, 0, 0, Vec::new());
    for name in &names {
        let case = cases_dir().join(name);
        let work = tmp.path().join("case").join(name);
        let mut p = run(&packer, &case, &work, false);
        let k = run(&kiln, &case, &work, true);
        if k != p {
            // Packer's own output can vary (a busy machine: panicwrap's copy of the child's
            // output, goroutines racing, Go map order): run it up to three times more. Kiln
            // must still match one of Packer's real outputs; if none does, it is compared
            // with the last.
            for attempt in 2..=4 {
                let again = run(&packer, &case, &work, false);
                if again == p {
                    continue;
                }
                eprintln!(
                    "{name}: Packer's output varied between runs (run {attempt} differs from an earlier one)"
                );
                p = again;
                if p == k {
                    break;
                }
            }
        }
        if let Some(dir) = std::env::var_os("KILN_DIFF_DUMP") {
            // Both outcomes as compared, to diff by hand.
            let dir = Path::new(&dir).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("kiln"), format!("{k:#?}")).unwrap();
            std::fs::write(dir.join("packer"), format!("{p:#?}")).unwrap();
        }
        let marked = ["deviation", "pending"]
            .into_iter()
            .find(|m| case.join(m).is_file());
        match (k == p, marked) {
            (true, None) => agree += 1,
            (false, Some("deviation")) => deviations += 1,
            (false, Some(_)) => {
                pending += 1;
                if std::env::var_os("KILN_DIFF_SHOW_PENDING").is_some() {
                    eprintln!("{name} (pending):\n{}", describe(&k, &p));
                }
            }
            (true, Some(m)) => failures.push(format!(
                "{name}: marked {m} but Kiln now agrees with Packer: remove {}/{m} \
                 (and its mention in docs/templates.md)",
                case.display()
            )),
            (false, None) => failures.push(format!("{name}:\n{}", describe(&k, &p))),
        }
    }
    eprintln!(
        "differential: {} cases: {agree} agree, {deviations} documented deviations, \
         {pending} known differences pending, {} unexpected",
        names.len(),
        failures.len()
    );
    if !failures.is_empty() {
        panic!(
            "{} of {} cases differ from Packer:\n\n{}",
            failures.len(),
            names.len(),
            failures.join("\n")
        );
    }
}
