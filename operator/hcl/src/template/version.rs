//! Version constraints as Packer (hashicorp/go-version) writes them: `>= 1.7.0, < 2.0`,
//! `~> 1.2`, `= 1.16.0`, `!= 1.9.0`.

/// A parsed constraint list; every element must match.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint(Vec<(Op, Version)>);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Pessimistic,
}

/// go-version's `Version`: segments padded to three, how many were given, the prerelease.
#[derive(Clone, Debug, PartialEq)]
struct Version {
    segments: Vec<i64>,
    given: usize,
    pre: String,
}

/// go-version's `VersionRegexpRaw`.
const VERSION: &str = r"v?([0-9]+(\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))??";

fn version_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(&format!("^{VERSION}$")).expect("go-version's pattern"))
}

fn constraint_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(&format!(r"^\s*(<=|>=|!=|~>|<|>|=|)\s*({VERSION})\s*$"))
            .expect("go-version's pattern")
    })
}

impl Version {
    /// go-version's `NewVersion`.
    fn parse(s: &str) -> Option<Version> {
        let m = version_regex().captures(s)?;
        let segments: Option<Vec<i64>> = m[1].split('.').map(|p| p.parse().ok()).collect();
        let mut segments = segments?;
        let given = segments.len();
        segments.resize(given.max(3), 0);
        let pre = m
            .get(7)
            .or_else(|| m.get(4))
            .map_or(String::new(), |p| p.as_str().to_string());
        Some(Version {
            segments,
            given,
            pre,
        })
    }

    /// go-version's `Compare` (prereleases compared as theirs, part by part).
    fn compare(&self, other: &Version) -> Ordering {
        let n = self.segments.len().max(other.segments.len());
        for i in 0..n {
            let x = self.segments.get(i).copied().unwrap_or(0);
            let y = other.segments.get(i).copied().unwrap_or(0);
            if x != y {
                return x.cmp(&y);
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_prereleases(&self.pre, &other.pre),
        }
    }

    fn equal_segments(&self, other: &Version) -> bool {
        self.compare(&Version {
            pre: self.pre.clone(),
            ..other.clone()
        }) == Ordering::Equal
    }
}

use std::cmp::Ordering;

/// go-version's `comparePrereleases`: dot-separated parts compared by `comparePart`.
fn compare_prereleases(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    (0..pa.len().max(pb.len()))
        .map(|i| {
            compare_part(
                pa.get(i).copied().unwrap_or(""),
                pb.get(i).copied().unwrap_or(""),
            )
        })
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// go-version's `comparePart`: a missing part is below a word and above a number; numbers
/// are below words.
fn compare_part(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    let (xn, yn) = (x.parse::<i64>().ok(), y.parse::<i64>().ok());
    if x.is_empty() {
        return if yn.is_some() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    if y.is_empty() {
        return if xn.is_some() {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    match (xn, yn) {
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) if x > y => Ordering::Greater,
        (Some(a), Some(b)) if a > b => Ordering::Greater,
        _ => Ordering::Less,
    }
}

/// go-version's `prereleaseCheck`.
fn prerelease_check(v: &Version, c: &Version) -> bool {
    match (v.pre.is_empty(), c.pre.is_empty()) {
        (false, false) => v.equal_segments(c),
        (false, true) => false,
        _ => true,
    }
}

impl Constraint {
    /// go-version's `NewConstraint`: each comma-separated part, its error naming the part.
    pub fn parse(s: &str) -> Result<Constraint, String> {
        let mut out = Vec::new();
        for part in s.split(',') {
            let malformed = || format!("malformed constraint: {part}");
            let m = constraint_regex().captures(part).ok_or_else(malformed)?;
            let op = match &m[1] {
                "~>" => Op::Pessimistic,
                ">=" => Op::Ge,
                "<=" => Op::Le,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                "<" => Op::Lt,
                _ => Op::Eq,
            };
            out.push((op, Version::parse(&m[2]).ok_or_else(malformed)?));
        }
        Ok(Constraint(out))
    }

    /// Whether any part names a prerelease (`= 1.0.2-dev`): Packer refuses those in
    /// `required_plugins`.
    pub fn has_prerelease(&self) -> bool {
        self.0.iter().any(|(_, c)| !c.pre.is_empty())
    }

    pub fn matches(&self, version: &str) -> bool {
        let Some(v) = Version::parse(version) else {
            return false;
        };
        self.0.iter().all(|(op, c)| {
            let o = v.compare(c);
            match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Gt => prerelease_check(&v, c) && o == Ordering::Greater,
                Op::Ge => prerelease_check(&v, c) && o != Ordering::Less,
                Op::Lt => prerelease_check(&v, c) && o == Ordering::Less,
                Op::Le => prerelease_check(&v, c) && o != Ordering::Greater,
                Op::Pessimistic => {
                    if !prerelease_check(&v, c) || (!c.pre.is_empty() && v.pre.is_empty()) {
                        return false;
                    }
                    if o == Ordering::Less || c.segments.len() > v.segments.len() {
                        return false;
                    }
                    let n = c.segments.len();
                    (0..c.given.saturating_sub(1)).all(|i| v.segments[i] == c.segments[i])
                        && c.segments[n - 1] <= v.segments[n - 1]
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_match_like_go_version() {
        let m = |c: &str, v: &str| Constraint::parse(c).unwrap().matches(v);
        assert!(m(">= 1.7.0", "1.16.0"));
        assert!(m(">= 1.7.0, < 2.0.0", "1.16.0"));
        assert!(!m("< 1.10", "1.16.0"));
        assert!(m("~> 1.16", "1.16.0"));
        assert!(m("~> 1.2", "1.16.0"));
        assert!(!m("~> 1.2.0", "1.16.0"));
        assert!(m("~> 1.16.0", "1.16.3"));
        assert!(!m("!= 1.16.0", "1.16.0"));
        assert!(m("1.16.0", "1.16.0"));
        assert!(Constraint::parse(">= banana").is_err());
        // Prereleases as go-version's: below their release, only pre-release versions of
        // the same segments match a prerelease constraint.
        assert!(m("> 1.16.0-dev", "1.16.0"));
        assert!(!m("= 1.16.0-dev", "1.16.0"));
        assert!(!m("~> 1.16.0-dev", "1.16.0"));
        assert!(!m(">= 1.0", "1.16.0-dev"));
        assert!(m(">= 1.16.0-alpha, < 1.16.0-beta", "1.16.0-alpha.2"));
        assert!(Constraint::parse("= 1.0.2-dev").unwrap().has_prerelease());
        assert!(
            !Constraint::parse(">= 1.0.2+build")
                .unwrap()
                .has_prerelease()
        );
        assert_eq!(
            Constraint::parse(">= 1.0, foo"),
            Err("malformed constraint:  foo".to_string())
        );
        assert!(Constraint::parse("").is_err());
    }
}
