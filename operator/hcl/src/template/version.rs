//! Version constraints as Packer (hashicorp/go-version) writes them: `>= 1.7.0, < 2.0`,
//! `~> 1.2`, `= 1.16.0`, `!= 1.9.0`.

/// A parsed constraint list; every element must match.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint(Vec<(Op, Vec<u64>, usize)>);

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

fn parse_version(s: &str) -> Option<Vec<u64>> {
    let s = s.trim().trim_start_matches('v');
    let core = s.split(['-', '+']).next()?;
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    let parts = parts?;
    (!parts.is_empty() && parts.len() <= 4).then_some(parts)
}

fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

impl Constraint {
    pub fn parse(s: &str) -> Result<Constraint, String> {
        let mut out = Vec::new();
        for part in s.split(',') {
            let p = part.trim();
            let (op, rest) = if let Some(r) = p.strip_prefix("~>") {
                (Op::Pessimistic, r)
            } else if let Some(r) = p.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = p.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = p.strip_prefix("!=") {
                (Op::Ne, r)
            } else if let Some(r) = p.strip_prefix('>') {
                (Op::Gt, r)
            } else if let Some(r) = p.strip_prefix('<') {
                (Op::Lt, r)
            } else if let Some(r) = p.strip_prefix('=') {
                (Op::Eq, r)
            } else {
                (Op::Eq, p)
            };
            let v = parse_version(rest)
                .ok_or_else(|| format!("Malformed constraint: {p:?} (in {s:?})."))?;
            let given = v.len();
            out.push((op, v, given));
        }
        Ok(Constraint(out))
    }

    pub fn matches(&self, version: &str) -> bool {
        let Some(v) = parse_version(version) else {
            return false;
        };
        self.0.iter().all(|(op, c, given)| {
            use std::cmp::Ordering::*;
            let o = cmp(&v, c);
            match op {
                Op::Eq => o == Equal,
                Op::Ne => o != Equal,
                Op::Gt => o == Greater,
                Op::Ge => o != Less,
                Op::Lt => o == Less,
                Op::Le => o != Greater,
                Op::Pessimistic => {
                    // ~> 1.2.3 means >= 1.2.3, < 1.3; ~> 1.2 means >= 1.2, < 2.
                    if o == Less {
                        return false;
                    }
                    let keep = given.saturating_sub(1).max(1);
                    v.iter().take(keep - 1).eq(c.iter().take(keep - 1))
                        && v.get(keep - 1).copied().unwrap_or(0)
                            == c.get(keep - 1).copied().unwrap_or(0)
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
    }
}
