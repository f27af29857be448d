//! Go's `path/filepath` functions for slash-separated (Unix) paths, as strings: Packer's
//! messages and results name paths as Go computes them.

/// Go's `filepath.Clean` for slash-separated paths.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Go's `filepath.Join` of two elements.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// Go's `filepath.Base`.
pub fn basename(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".to_string();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `filepath.Dir`.
pub fn dirname(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".to_string(),
    }
}

/// Go's `filepath.ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

impl std::fmt::Display for BadPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("syntax error in pattern")
    }
}

impl std::error::Error for BadPattern {}

/// Go's `filepath.Glob` (Unix), rule for rule: the pattern is checked as `Match(pattern,
/// "")` checks it, each directory's names are read sorted and matched by
/// `filepath.Match` (whose errors surface only as far as matching gets, as in Go), I/O
/// errors are ignored, and the matches are `filepath.Join`ed. Unlike the CD's globset-based
/// `glob`, `{a,b}` is literal and `[!a]` means `!` or `a`, as in Packer.
pub fn go_glob(pattern: &str) -> Result<Vec<String>, BadPattern> {
    glob_with_limit(pattern, 0)
}

fn glob_with_limit(pattern: &str, depth: usize) -> Result<Vec<String>, BadPattern> {
    if depth == 10000 {
        return Err(BadPattern);
    }
    go_match(pattern.as_bytes(), b"")?;
    if !has_meta(pattern) {
        return Ok(if std::fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(i) => (&pattern[..=i], &pattern[i + 1..]),
        None => ("", pattern),
    };
    let dir = match dir {
        "" => ".",
        "/" => "/",
        d => &d[..d.len() - 1],
    };
    if !has_meta(dir) {
        return glob_dir(dir, file, Vec::new());
    }
    if dir == pattern {
        return Err(BadPattern);
    }
    let mut matches = Vec::new();
    for d in glob_with_limit(dir, depth + 1)? {
        matches = glob_dir(&d, file, matches)?;
    }
    Ok(matches)
}

fn glob_dir(dir: &str, pattern: &str, mut matches: Vec<String>) -> Result<Vec<String>, BadPattern> {
    if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Ok(matches);
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(matches);
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        if go_match(pattern.as_bytes(), n.as_bytes())? {
            matches.push(join(dir, &n));
        }
    }
    Ok(matches)
}

fn has_meta(p: &str) -> bool {
    p.contains(['*', '?', '[', '\\'])
}

/// Go's `filepath.Match` on Unix.
pub fn go_match(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, BadPattern> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        match match_chunk(chunk, name)? {
            Some(t) if t.is_empty() || !pattern.is_empty() => {
                name = t;
                continue;
            }
            _ => {}
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])? {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while let [b'*', rest @ ..] = p {
        p = rest;
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => return (star, &p[..i], &p[i..]),
            _ => {}
        }
        i += 1;
    }
    (star, p, &[])
}

/// `matchChunk`: `Some(rest of s)` when `chunk` matches its start.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Result<Option<&'s [u8]>, BadPattern> {
    let mut failed = false;
    while let Some(&c) = chunk.first() {
        failed = failed || s.is_empty();
        match c {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (rr, n) = decode_rune(s);
                    r = rr;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    matched = matched || (lo <= r && r <= hi);
                    nrange += 1;
                }
                failed = failed || matched == negated;
            }
            b'?' => {
                if !failed {
                    failed = s[0] == b'/';
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    failed = chunk[0] != s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// `getEsc`: one possibly escaped character of a range.
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), BadPattern> {
    let mut chunk = match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(_) => chunk,
    };
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode_rune(chunk);
    if r == 0xFFFD && n == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

/// `utf8.DecodeRune`: the first character and its length, `(0xFFFD, 1)` when invalid.
fn decode_rune(s: &[u8]) -> (u32, usize) {
    match s.utf8_chunks().next() {
        Some(chunk) => match chunk.valid().chars().next() {
            Some(c) => (c as u32, c.len_utf8()),
            None => (0xFFFD, 1),
        },
        None => (0xFFFD, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: &std::path::Path) -> String {
        p.display().to_string()
    }

    #[test]
    fn paths() {
        assert_eq!(clean("a/../../b/./c/"), "../b/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean(""), ".");
        assert_eq!(join(".", "a"), "a");
        assert_eq!(join("src/flat/", "f.txt"), "src/flat/f.txt");
        assert_eq!(basename("src/scripts/"), "scripts");
        assert_eq!(basename("/"), "/");
    }

    /// `filepath.Match` / `filepath.Glob` cases, each checked against Go 1.26.
    #[test]
    fn go_glob_rules() {
        let m = |p: &str, n: &str| go_match(p.as_bytes(), n.as_bytes());
        assert_eq!(m("*.txt", "a.txt"), Ok(true));
        assert_eq!(m("*", "a/b"), Ok(false));
        assert_eq!(m("a?c", "abc"), Ok(true));
        assert_eq!(m("[^a]b", "ab"), Ok(false));
        assert_eq!(m("[!a]b", "!b"), Ok(true));
        assert_eq!(m("[!a]b", "cb"), Ok(false));
        assert_eq!(m("{a,b}", "a"), Ok(false));
        assert_eq!(m("{a,b}", "{a,b}"), Ok(true));
        assert_eq!(m("[a-c]x", "bx"), Ok(true));
        assert_eq!(m("\\*", "*"), Ok(true));
        assert_eq!(m("[]a]", "a"), Err(BadPattern));
        assert_eq!(m("[a-]", "a"), Err(BadPattern));
        assert_eq!(m("a\\", "a"), Err(BadPattern));
        assert_eq!(m("[", ""), Err(BadPattern));
        // Go only finds an error as far as matching gets.
        assert_eq!(m("a*[", ""), Ok(false));
        assert_eq!(m("x[", "a"), Err(BadPattern));

        let dir = tempfile::tempdir().unwrap();
        let d = s(dir.path());
        for n in ["a1", "a2", "b1", "{a,b}"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a3"), "").unwrap();
        assert_eq!(
            go_glob(&format!("{d}/a*")).unwrap(),
            [format!("{d}/a1"), format!("{d}/a2")]
        );
        assert_eq!(
            go_glob(&format!("{d}/*/a*")).unwrap(),
            [format!("{d}/sub/a3")]
        );
        assert_eq!(
            go_glob(&format!("{d}/{{a,b}}*")).unwrap(),
            [format!("{d}/{{a,b}}")]
        );
        assert_eq!(go_glob(&format!("{d}/zz*")).unwrap(), Vec::<String>::new());
        // A trailing slash matches nothing (the last element is empty).
        assert_eq!(go_glob(&format!("{d}/s*/")).unwrap(), Vec::<String>::new());
        // Cleaned as Join cleans; a name in the directory reaching the bad part errors.
        assert_eq!(
            go_glob(&format!("{d}/./a?")).unwrap(),
            [format!("{d}/a1"), format!("{d}/a2")]
        );
        assert_eq!(go_glob(&format!("{d}/a*[")), Err(BadPattern));
        assert_eq!(go_glob(&format!("{d}/zz*[")), Ok(vec![]));
        assert_eq!(go_glob(&format!("{d}/nodir/[")), Err(BadPattern));
    }
}
