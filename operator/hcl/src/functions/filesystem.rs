//! Filesystem functions (go-cty-funcs' filesystem package). Relative paths resolve against
//! `path.root` ([`FuncCtx::base_dir`]), except `abspath`, which like Go's `filepath.Abs`
//! resolves against the process's working directory.

use std::io::Read;
use std::path::Path;

use base64::Engine;

use super::{Args, FuncCtx, FuncError, MAX_LIST, MAX_STRING, other};
use crate::gopath::{basename, clean, dirname, join};
use crate::value::Value;

pub(super) fn call(f: &Args, ctx: &FuncCtx) -> Result<Value, FuncError> {
    match f.name {
        "abspath" => {
            f.exact(&["path"])?;
            let p = f.string(0, "path")?;
            if p.starts_with('/') {
                return Ok(Value::String(clean(&p)));
            }
            let cwd = std::env::current_dir()
                .map_err(|e| other(format!("failed to get working directory: {e}")))?;
            Ok(Value::String(clean(&join(&cwd.to_string_lossy(), &p))))
        }
        "basename" => {
            f.exact(&["path"])?;
            Ok(Value::String(basename(&f.string(0, "path")?)))
        }
        "dirname" => {
            f.exact(&["path"])?;
            Ok(Value::String(dirname(&f.string(0, "path")?)))
        }
        "pathexpand" => {
            f.exact(&["path"])?;
            expand_home(&f.string(0, "path")?)
                .map(Value::String)
                .map_err(other)
        }
        "file" | "filebase64" => {
            f.exact(&["path"])?;
            let path = resolve(&f.string(0, "path")?, ctx)?;
            let limit = if f.name == "file" {
                MAX_STRING
            } else {
                MAX_STRING / 4 * 3
            };
            let bytes = read_file(&path, limit)?;
            if f.name == "filebase64" {
                return Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ));
            }
            String::from_utf8(bytes).map(Value::String).map_err(|_| {
                other(format!(
                    "contents of {path} are not valid UTF-8; use the filebase64 function to \
                     obtain the Base64 encoded contents or the other file functions (e.g. \
                     filemd5, filesha256) to obtain file hashing results instead"
                ))
            })
        }
        "fileexists" => {
            f.exact(&["path"])?;
            let path = resolve(&f.string(0, "path")?, ctx)?;
            match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
                Err(_) => Err(other(format!("failed to stat {path}"))),
                Ok(m) if m.is_file() => Ok(Value::Bool(true)),
                Ok(m) => Err(other(format!(
                    "{path} is not a regular file, but \"{}\"",
                    mode_string(&m)
                ))),
            }
        }
        "fileset" => {
            f.exact(&["path", "pattern"])?;
            let base = f.string(0, "path")?;
            let pattern = f.string(1, "pattern")?;
            fileset(&base, &pattern, ctx)
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// `homedir.Expand`: `~` and `~/...` become the home directory.
fn expand_home(p: &str) -> Result<String, String> {
    if !p.starts_with('~') {
        return Ok(p.to_string());
    }
    if p.len() > 1 && !p[1..].starts_with('/') && !p[1..].starts_with('\\') {
        return Err("cannot expand user-specific home dir".to_string());
    }
    let home = std::env::var("HOME")
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "$HOME is not defined".to_string())?;
    Ok(join(&home, &p[1..]))
}

/// Expands `~`, resolves against the base directory and cleans, as go-cty-funcs does.
fn resolve(p: &str, ctx: &FuncCtx) -> Result<String, FuncError> {
    let p = expand_home(p).map_err(|e| other(format!("failed to expand ~: {e}")))?;
    if p.starts_with('/') {
        return Ok(clean(&p));
    }
    Ok(join(&ctx.base_dir.to_string_lossy(), &p))
}

fn read_file(path: &str, limit: usize) -> Result<Vec<u8>, FuncError> {
    let file = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            other(format!("no file exists at {path}"))
        } else {
            other(format!("failed to read {path}"))
        }
    })?;
    let mut buf = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|_| other(format!("failed to read {path}")))?;
    if buf.len() > limit {
        return Err(other(format!(
            "{path} is larger than {limit} bytes, which Kiln does not read into a template"
        )));
    }
    Ok(buf)
}

/// Go's `FileMode.String` for what `os.Stat` reports of a non-regular file.
fn mode_string(m: &std::fs::Metadata) -> String {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let ft = m.file_type();
    let mut s = String::new();
    if ft.is_dir() {
        s.push('d');
    }
    if ft.is_block_device() {
        s.push('D');
    }
    if ft.is_char_device() {
        s.push_str("Dc");
    }
    if ft.is_fifo() {
        s.push('p');
    }
    if ft.is_socket() {
        s.push('S');
    }
    if s.is_empty() {
        s.push('-');
    }
    let mode = m.permissions().mode();
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

/// Go's `filepath.Rel` for cleaned, slash-separated paths of the same kind.
fn rel(base: &str, target: &str) -> String {
    let split = |p: &str| -> Vec<String> {
        if p == "." {
            Vec::new()
        } else {
            p.trim_start_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }
    };
    let (b, t) = (split(base), split(target));
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(t[common..].iter().cloned());
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn has_meta(seg: &str) -> bool {
    seg.contains(['*', '?', '[', '{', '\\'])
}

fn fileset(base: &str, pattern: &str, ctx: &FuncCtx) -> Result<Value, FuncError> {
    let base = if base.starts_with('/') {
        clean(base)
    } else {
        join(&ctx.base_dir.to_string_lossy(), base)
    };
    let full = join(&base, pattern);
    let glob = globset::GlobBuilder::new(&full)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| other(format!("failed to glob pattern ({full}): {}", e.kind())))?
        .compile_matcher();
    // Walk from the longest literal prefix of the pattern.
    let segs: Vec<&str> = full.split('/').collect();
    let literal = segs.iter().take_while(|s| !has_meta(s)).count();
    let (root, rest) = if literal == segs.len() {
        // No wildcard at all: the pattern names one path.
        let mut out = Vec::new();
        if std::fs::metadata(&full).is_ok_and(|m| m.is_file()) {
            out.push(Value::String(rel(&base, &full)));
        }
        return Ok(Value::List(out));
    } else {
        let r = segs[..literal].join("/");
        let r = if r.is_empty() && full.starts_with('/') {
            "/".to_string()
        } else if r.is_empty() {
            ".".to_string()
        } else {
            r
        };
        (r, &segs[literal..])
    };
    let max_depth = if rest.iter().any(|s| s.contains("**")) {
        usize::MAX
    } else {
        rest.len()
    };
    let mut found = Vec::new();
    let mut visited = 0usize;
    walk(
        Path::new(&root),
        &root,
        1,
        max_depth,
        &glob,
        &mut found,
        &mut visited,
    )?;
    let mut out: Vec<String> = found.into_iter().map(|m| rel(&base, &clean(&m))).collect();
    out.sort();
    out.dedup();
    Ok(super::str_list(out))
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    max_depth: usize,
    glob: &globset::GlobMatcher,
    found: &mut Vec<String>,
    visited: &mut usize,
) -> Result<(), FuncError> {
    if depth > max_depth || depth > 256 {
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut names: Vec<_> = entries.flatten().collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        *visited += 1;
        if *visited > MAX_LIST {
            return Err(other(format!(
                "fileset visited more than {MAX_LIST} paths, which Kiln does not allow"
            )));
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let path_str = if prefix == "." {
            name.clone()
        } else if prefix.ends_with('/') {
            format!("{prefix}{name}")
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(ft) = e.file_type() else { continue };
        let meta = std::fs::metadata(e.path());
        let is_file = meta.as_ref().is_ok_and(|m| m.is_file());
        if is_file && glob.is_match(&path_str) {
            found.push(path_str.clone());
        }
        // Symlinked directories are not followed, so cycles cannot occur.
        if ft.is_dir() {
            walk(
                &e.path(),
                &path_str,
                depth + 1,
                max_depth,
                glob,
                found,
                visited,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{FuncCtx, call};
    use super::{clean, rel};
    use crate::value::Value;

    fn ctx_in(dir: &std::path::Path) -> FuncCtx {
        FuncCtx {
            base_dir: dir.to_path_buf(),
            allow_env: false,
        }
    }

    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("files/sub")).unwrap();
        std::fs::create_dir_all(p.join("templates")).unwrap();
        std::fs::write(p.join("hello.txt"), "Hello World").unwrap();
        std::fs::write(p.join("files/hello.txt"), "hello").unwrap();
        std::fs::write(p.join("files/world.txt"), "world").unwrap();
        std::fs::write(p.join("files/sub/deep.txt"), "deep").unwrap();
        std::fs::write(p.join("files/other.md"), "md").unwrap();
        std::fs::write(p.join("templates/t.txt"), "t").unwrap();
        std::fs::write(p.join("binary.bin"), [0xff, 0xfe, 0x00]).unwrap();
        d
    }

    #[test]
    fn path_manipulation() {
        assert_eq!(ok("basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok("basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok("basename", vec![s("")]), s("."));
        assert_eq!(ok("basename", vec![s("///")]), s("/"));
        assert_eq!(ok("dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("baz.txt")]), s("."));
        assert_eq!(ok("dirname", vec![s("/baz.txt")]), s("/"));
        assert_eq!(ok("dirname", vec![s("a//b/../c/d")]), s("a/c"));
        assert_eq!(ok("abspath", vec![s("/a/../b/./c")]), s("/b/c"));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            ok("abspath", vec![s("x/y")]),
            s(&format!("{}/x/y", cwd.to_string_lossy()))
        );
        assert_eq!(clean("../a/../../b"), "../../b");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(rel("/a/b", "/a/c/d"), "../c/d");
        assert_eq!(rel(".", "x/y"), "x/y");
    }

    #[test]
    fn pathexpand() {
        let home = std::env::var("HOME").unwrap_or_default();
        if home.is_empty() {
            return;
        }
        assert_eq!(
            ok("pathexpand", vec![s("~/.ssh/id_rsa")]),
            s(&format!("{}/.ssh/id_rsa", home.trim_end_matches('/')))
        );
        assert_eq!(
            ok("pathexpand", vec![s("/etc/resolv.conf")]),
            s("/etc/resolv.conf")
        );
        assert_eq!(ok("pathexpand", vec![s("rel/path")]), s("rel/path"));
        assert_eq!(
            err("pathexpand", vec![s("~bob/x")]),
            "cannot expand user-specific home dir"
        );
    }

    #[test]
    fn file_and_filebase64() {
        let d = fixture();
        let ctx = ctx_in(d.path());
        assert_eq!(
            call("file", &[s("hello.txt")], &ctx).unwrap(),
            s("Hello World")
        );
        assert_eq!(
            call("file", &[s("files/../hello.txt")], &ctx).unwrap(),
            s("Hello World")
        );
        let abs = d.path().join("files/world.txt");
        assert_eq!(
            call("file", &[s(&abs.to_string_lossy())], &ctx).unwrap(),
            s("world")
        );
        assert_eq!(
            call("filebase64", &[s("hello.txt")], &ctx).unwrap(),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            call("filebase64", &[s("binary.bin")], &ctx).unwrap(),
            s("//4A")
        );
        let e = call("file", &[s("binary.bin")], &ctx).unwrap_err();
        assert!(format!("{e:?}").contains("are not valid UTF-8"), "{e:?}");
        let e = call("file", &[s("nope.txt")], &ctx).unwrap_err();
        let want = format!("no file exists at {}/nope.txt", d.path().to_string_lossy());
        assert_eq!(e, super::super::FuncError::Other(want));
        let e = call("file", &[s("files")], &ctx).unwrap_err();
        assert!(format!("{e:?}").contains("failed to read"), "{e:?}");
    }

    #[test]
    fn fileexists() {
        let d = fixture();
        let ctx = ctx_in(d.path());
        assert_eq!(
            call("fileexists", &[s("hello.txt")], &ctx).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("fileexists", &[s("nope.txt")], &ctx).unwrap(),
            Value::Bool(false)
        );
        let e = call("fileexists", &[s("files")], &ctx).unwrap_err();
        assert!(
            format!("{e:?}").contains("is not a regular file, but \\\"drwx"),
            "{e:?}"
        );
    }

    #[test]
    fn fileset() {
        let d = fixture();
        let ctx = ctx_in(d.path());
        let fs = |p: &str, pat: &str| call("fileset", &[s(p), s(pat)], &ctx).unwrap();
        assert_eq!(
            fs(".", "files/*.txt"),
            sl(&["files/hello.txt", "files/world.txt"])
        );
        assert_eq!(
            fs(".", "files/{hello,world}.txt"),
            sl(&["files/hello.txt", "files/world.txt"])
        );
        assert_eq!(
            fs(".", "**/*.txt"),
            sl(&[
                "files/hello.txt",
                "files/sub/deep.txt",
                "files/world.txt",
                "hello.txt",
                "templates/t.txt"
            ])
        );
        assert_eq!(
            fs("files", "**"),
            sl(&["hello.txt", "other.md", "sub/deep.txt", "world.txt"])
        );
        assert_eq!(
            fs(".", "{files,templates}/*.txt"),
            sl(&["files/hello.txt", "files/world.txt", "templates/t.txt"])
        );
        assert_eq!(fs(".", "files/h?llo.txt"), sl(&["files/hello.txt"]));
        assert_eq!(
            fs(".", "files/[hw]*.txt"),
            sl(&["files/hello.txt", "files/world.txt"])
        );
        assert_eq!(fs(".", "hello.txt"), sl(&["hello.txt"]));
        assert_eq!(fs(".", "missing/*"), l(vec![]));
        assert_eq!(fs("files/sub", "../*.md"), sl(&["../other.md"]));
        let e = call("fileset", &[s("."), s("files/[")], &ctx).unwrap_err();
        assert!(format!("{e:?}").contains("failed to glob pattern"), "{e:?}");
    }
}
