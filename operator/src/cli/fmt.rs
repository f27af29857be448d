//! `kiln fmt`: rewrites `.pkr.hcl` and `.pkrvars.hcl` files in the canonical format, as
//! `packer fmt` does (Packer's `command/fmt.go` and `hcl2template/formatter.go`): each changed
//! file is listed on stdout as named (a directory's entries as `dir/name`, cleaned), `-diff`
//! shows `diff -u`'s output, `-check` writes nothing and exits 3 when a file needs formatting,
//! `-` reads stdin and writes the result to stdout. Errors (a file that does not parse, is not
//! HCL or cannot be read) are collected and printed on stdout after the listing, as Packer's
//! diagnostics, and the exit status is then 1.

use std::io::{Read, Write};
use std::path::{Component, Path};

use clap::Args;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Files or directories to format (`-` reads stdin and writes stdout).
    pub paths: Vec<String>,
    /// Check if the input is formatted; exit status 3 if not.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub check: bool,
    /// Display diffs of formatting changes.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub diff: bool,
    /// Write the result to the source file (`-write=false`: don't).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub write: bool,
    /// Also process files in subdirectories.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub recursive: bool,
}

const HELP: &str = r#"Usage: packer fmt [options] [TEMPLATE]

  Rewrites all Packer configuration files to a canonical format. Both
  configuration files (.pkr.hcl) and variable files (.pkrvars.hcl) are updated.
  JSON files (.json) are not modified.

  If TEMPLATE is "." the current directory will be used.
  If TEMPLATE is "-" then content will be read from STDIN.

  The given content must be in Packer's HCL2 configuration language; JSON is
  not supported.

Options:
  -check        Check if the input is formatted. Exit status will be 0 if all
                 input is properly formatted and non-zero otherwise.

  -diff         Display diffs of formatting change

  -write=false  Don't write to source files
                (always disabled if using -check)

  -recursive     Also process files in subdirectories. By default, only the
                 given directory (or current directory) is processed."#;

/// An error to report: Packer's diagnostic summary and detail.
struct Problem {
    summary: String,
    detail: String,
}

struct Formatter {
    show_diff: bool,
    write: bool,
    recursive: bool,
    out: std::io::Stdout,
    problems: Vec<Problem>,
    bytes_modified: usize,
}

fn is_hcl_file(path: &str) -> bool {
    path.ends_with(".pkr.hcl") || path.ends_with(".pkrvars.hcl")
}

/// Editor and hidden files a directory listing skips, as Packer's `shouldIgnoreFile`.
fn ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// Go's `filepath.Join(dir, name)`: joined and cleaned (`./x` is `x`, `a//b/../c` is `a/c`).
fn join_clean(dir: &str, name: &str) -> String {
    let joined = format!("{dir}/{name}");
    let rooted = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(&joined).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or_default()),
            Component::ParentDir => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// An OS error as Go prints it: `open x: no such file or directory`.
fn go_error(op: &str, path: &str, e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{op} {path}: {text}")
}

/// Parse errors as Packer's multierror of HCL diagnostics renders them.
fn parse_problem(ds: &kiln_engine::diag::Diagnostics) -> String {
    let points: Vec<String> =
        ds.0.iter()
            .map(|d| {
                let at = match &d.subject {
                    Some(s) if s.end_line == s.line => {
                        format!("{}:{},{}-{}: ", s.file, s.line, s.column, s.end_column)
                    }
                    Some(s) => format!(
                        "{}:{},{}-{},{}: ",
                        s.file, s.line, s.column, s.end_line, s.end_column
                    ),
                    None => String::new(),
                };
                format!("* {at}{}; {}", d.summary, d.detail)
            })
            .collect();
    match points.len() {
        1 => format!("1 error occurred:\n\t{}\n\n", points[0]),
        n => format!("{n} errors occurred:\n\t{}\n\n", points.join("\n\t")),
    }
}

impl Formatter {
    fn say(&mut self, text: &[u8]) {
        let _ = self.out.write_all(text);
        let _ = self.out.flush();
    }

    fn format_paths(&mut self, paths: &[String]) -> bool {
        for path in paths {
            match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    let entries = match std::fs::read_dir(path) {
                        Ok(e) => e,
                        Err(e) => {
                            self.problems.push(Problem {
                                summary: "Cannot read hcl directory".into(),
                                detail: go_error("open", path, &e),
                            });
                            return false;
                        }
                    };
                    let mut entries: Vec<(String, bool)> = entries
                        .flatten()
                        .map(|e| {
                            let dir = e.file_type().is_ok_and(|t| t.is_dir());
                            (e.file_name().to_string_lossy().into_owned(), dir)
                        })
                        .collect();
                    entries.sort();
                    for (name, is_dir) in entries {
                        if ignored(&name) {
                            continue;
                        }
                        let file = join_clean(path, &name);
                        if is_dir {
                            // An unreadable subdirectory is reported; its siblings go on.
                            if self.recursive {
                                self.format_paths(&[file]);
                            }
                            continue;
                        }
                        if is_hcl_file(&file) {
                            self.format_file(&file);
                        }
                    }
                }
                _ => self.format_file(path),
            }
        }
        true
    }

    fn format_file(&mut self, name: &str) {
        match self.process(name) {
            Ok(n) => self.bytes_modified += n,
            Err(detail) => self.problems.push(Problem {
                summary: format!("encountered an error while formatting {name}"),
                detail,
            }),
        }
    }

    /// Formats one file; returns the length of the new text when it changed.
    fn process(&mut self, name: &str) -> Result<usize, String> {
        let stdin = name == "-";
        if !stdin && !is_hcl_file(name) {
            return Err(format!("file {name} is not a HCL file"));
        }
        let mut bytes = Vec::new();
        if stdin {
            self.show_diff = false;
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
                format!(
                    "failed to read {name}: {}",
                    go_error("read", "/dev/stdin", &e)
                )
            })?;
        } else {
            let mut f = std::fs::File::open(name)
                .map_err(|e| format!("failed to open {name}: {}", go_error("open", name, &e)))?;
            f.read_to_end(&mut bytes)
                .map_err(|e| format!("failed to read {name}: {}", go_error("read", name, &e)))?;
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            format!("1 error occurred:\n\t* {name}:1,1-1: Invalid UTF-8; The file is not valid UTF-8.\n\n")
        })?;
        let formatted = kiln_engine::fmt::format(&text, name).map_err(|d| parse_problem(&d))?;
        if formatted == text {
            if stdin {
                self.say(formatted.as_bytes());
            }
            return Ok(0);
        }
        if !stdin {
            self.say(format!("{name}\n").as_bytes());
        }
        if self.write {
            if stdin {
                self.say(formatted.as_bytes());
            } else {
                std::fs::write(name, &formatted).map_err(|e| go_error("open", name, &e))?;
            }
        }
        if self.show_diff {
            let d = diff(name, &text, &formatted)
                .map_err(|e| format!("failed to generate diff for {name}: {e}"))?;
            self.say(&d);
        }
        Ok(formatted.len())
    }
}

/// `diff -u` of the two texts, labelled `old/<name>` and `new/<name>`, as Packer shows it (it
/// runs `diff` too).
fn diff(name: &str, a: &str, b: &str) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (fa, fb) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&fa, a).map_err(|e| e.to_string())?;
    std::fs::write(&fb, b).map_err(|e| e.to_string())?;
    let o = std::process::Command::new("diff")
        .arg(format!("--label=old/{name}"))
        .arg(format!("--label=new/{name}"))
        .arg("-u")
        .arg(&fa)
        .arg(&fb)
        .output()
        .map_err(|e| format!("exec: \"diff\": {e}"))?;
    let mut out = o.stdout;
    out.extend(o.stderr);
    Ok(out)
}

/// Packer's `FormatCommand.ParseArgs`: Go's flags (Packer's `MetaArgs` ones too, unused),
/// at least one path. `Err`: the exit code (the help printed).
pub fn parse_args(args: &[String]) -> Result<FmtArgs, i32> {
    use super::goflag::{self, Kind};
    let mut flags = vec![
        ("check", Kind::Bool),
        ("diff", Kind::Bool),
        ("write", Kind::Bool),
        ("recursive", Kind::Bool),
    ];
    flags.extend_from_slice(goflag::META);
    let p = goflag::parse_command(args, HELP, &flags)?;
    Ok(FmtArgs {
        paths: p.args.clone(),
        check: p.bool("check", false),
        diff: p.bool("diff", false),
        write: p.bool("write", true),
        recursive: p.bool("recursive", false),
    })
}

pub fn run(a: FmtArgs) -> i32 {
    if a.paths.is_empty() {
        super::common::CmdUi::current().say(HELP);
        return 1;
    }
    let mut f = Formatter {
        show_diff: a.diff,
        write: a.write && !a.check,
        recursive: a.recursive,
        out: std::io::stdout(),
        problems: Vec::new(),
        bytes_modified: 0,
    };
    f.format_paths(&a.paths);
    if !f.problems.is_empty() {
        // Packer's diagnostic text writer (80 columns), then its UI's newline.
        let mut text = String::new();
        for p in &f.problems {
            text.push_str(&format!(
                "Error: {}\n\n{}\n\n",
                p.summary,
                kiln_engine::diag::wrap_string(&p.detail, 80)
            ));
        }
        text.push('\n');
        match super::common::CmdUi::current() {
            super::common::CmdUi::Machine => {
                super::common::CmdUi::Machine.error(text.strip_suffix('\n').unwrap_or(&text))
            }
            super::common::CmdUi::Basic => f.say(text.as_bytes()),
        }
        return 1;
    }
    if a.check && f.bytes_modified > 0 {
        return 3;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_as_go() {
        assert_eq!(join_clean(".", "x.pkr.hcl"), "x.pkr.hcl");
        assert_eq!(join_clean("./", "x.pkr.hcl"), "x.pkr.hcl");
        assert_eq!(join_clean("a//b/", "x"), "a/b/x");
        assert_eq!(join_clean("../a/../b", "x"), "../b/x");
        assert_eq!(join_clean("/tmp/", "x"), "/tmp/x");
    }

    #[test]
    fn ignores_editor_and_hidden_files() {
        assert!(ignored(".x.pkr.hcl") && ignored("x.pkr.hcl~") && ignored("#x.pkr.hcl#"));
        assert!(!ignored("x~.pkr.hcl"));
    }
}
