//! `kiln fmt`: rewrites `.pkr.hcl` and `.pkrvars.hcl` files in the canonical format.
//! `-check` exits 3 when a file needs formatting, as Packer does.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// File or directory to format (`-` reads stdin and writes stdout).
    pub target: PathBuf,
    /// Check if the input is formatted; exit status 3 if not.
    #[arg(long)]
    pub check: bool,
    /// Display diffs of formatting changes.
    #[arg(long)]
    pub diff: bool,
    /// Write the result to the source file instead of stdout.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_value_t = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub write: bool,
    /// Also process files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
}

fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if p.is_dir() {
            if recursive {
                collect(&p, recursive, out);
            }
        } else if name.ends_with(".pkr.hcl") || name.ends_with(".pkrvars.hcl") {
            out.push(p);
        }
    }
}

fn diff(name: &str, a: &str, b: &str) -> String {
    let mut out = format!("--- old/{name}\n+++ new/{name}\n");
    let al: Vec<&str> = a.lines().collect();
    let bl: Vec<&str> = b.lines().collect();
    for i in 0..al.len().max(bl.len()) {
        match (al.get(i), bl.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("-{x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+{y}\n"));
                }
            }
        }
    }
    out
}

pub fn run(a: FmtArgs) -> i32 {
    if a.target.as_os_str() == "-" {
        let mut text = String::new();
        if std::io::stdin().read_to_string(&mut text).is_err() {
            eprintln!("Error: could not read stdin");
            return 1;
        }
        return match kiln_engine::fmt::format(&text, "<stdin>") {
            Ok(f) => {
                if a.check {
                    return if f == text { 0 } else { 3 };
                }
                print!("{f}");
                0
            }
            Err(d) => {
                eprintln!("{d}");
                1
            }
        };
    }
    let mut files = Vec::new();
    if a.target.is_dir() {
        collect(&a.target, a.recursive, &mut files);
    } else {
        files.push(a.target.clone());
    }
    let mut code = 0;
    for f in files {
        let name = f.display().to_string();
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: could not read {name}: {e}");
                return 1;
            }
        };
        let formatted = match kiln_engine::fmt::format(&text, &name) {
            Ok(t) => t,
            Err(d) => {
                eprintln!("{d}");
                return 1;
            }
        };
        if formatted == text {
            continue;
        }
        println!("{name}");
        if a.diff {
            print!("{}", diff(&name, &text, &formatted));
        }
        if a.check {
            code = 3;
            continue;
        }
        if a.write
            && let Err(e) = std::fs::write(&f, formatted)
        {
            eprintln!("Error: could not write {name}: {e}");
            return 1;
        }
    }
    code
}
