//! Flush heredocs (`<<-EOT`) as hclsyntax reads them when they hold template directives.
//!
//! hcl-edit removes the common indentation of a flush heredoc when it parses it, before strip
//! markers (`~`) apply. hclsyntax scans a heredoc line by line (each line its own literal
//! token, split again at every interpolation or directive), applies the strip markers to the
//! neighbouring tokens first, and only then removes the smallest indentation among the tokens
//! that begin a line (`flushHeredocTemplateParts`): a line that follows a stripped newline
//! does not begin a line, and an interpolation or directive at the very start of a line makes
//! the indentation zero. Here the body is parsed again from the source text and its literals
//! rewritten that way; the strip markers are then cleared, since they have been applied.

use hcl::edit::Span;
use hcl::edit::template::{Directive, Element, HeredocTemplate, Strip, Template};

use crate::diag::SourceFile;

/// The template of a flush heredoc with directives, as hclsyntax's; `None` when hcl-edit's
/// reading is already the same (no directive, not flush) or the body cannot be read again.
pub fn flush_template(h: &HeredocTemplate, file: &SourceFile) -> Option<Template> {
    h.indent()?;
    if !h
        .template
        .iter()
        .any(|e| matches!(e, Element::Directive(_)))
    {
        return None;
    }
    let span = h.template.span()?;
    let body = file.text.get(span.clone())?;
    // Parse at the same offsets as in the file, so diagnostics keep their positions: the
    // padding only lengthens the first literal, and is cut off again below.
    let padded = format!("{}{}", " ".repeat(span.start), body);
    let mut t = hcl::edit::parser::parse_template(&padded).ok()?;
    match t.get_mut(0) {
        Some(Element::Literal(l)) if l.value().len() >= span.start => {
            let rest = l.value()[span.start..].to_string();
            if rest.is_empty() {
                t.remove(0);
            } else {
                *l.value_mut() = rest;
            }
        }
        _ if span.start == 0 => {}
        _ => return None,
    }
    let mut tokens = Vec::new();
    flatten(&t, &mut tokens);
    apply_strips(&mut tokens);
    flush(&mut tokens);
    let mut literals: Vec<String> = Vec::new();
    for tok in &tokens {
        if let Tok::Lit { id, text, .. } = tok {
            if literals.len() <= *id {
                literals.resize(*id + 1, String::new());
            }
            literals[*id].push_str(text);
        }
    }
    let mut next = 0;
    rewrite(&mut t, &literals, &mut next);
    Some(t)
}

enum Tok {
    /// One line (or the part of a line between markers) of the literal element `id`.
    Lit { id: usize, text: String },
    /// An interpolation or a directive keyword: its `~` on the left and on the right.
    Mark { before: bool, after: bool },
}

fn mark(s: Strip) -> Tok {
    Tok::Mark {
        before: s.strip_start(),
        after: s.strip_end(),
    }
}

fn flatten(t: &Template, out: &mut Vec<Tok>) {
    fn walk(t: &Template, out: &mut Vec<Tok>, id: &mut usize) {
        for e in t.iter() {
            match e {
                Element::Literal(l) => {
                    for line in l.value().split_inclusive('\n') {
                        out.push(Tok::Lit {
                            id: *id,
                            text: line.to_string(),
                        });
                    }
                    *id += 1;
                }
                Element::Interpolation(i) => out.push(mark(i.strip)),
                Element::Directive(d) => match &**d {
                    Directive::If(d) => {
                        out.push(mark(d.if_expr.strip));
                        walk(&d.if_expr.template, out, id);
                        if let Some(e) = &d.else_expr {
                            out.push(mark(e.strip));
                            walk(&e.template, out, id);
                        }
                        out.push(mark(d.endif_expr.strip));
                    }
                    Directive::For(d) => {
                        out.push(mark(d.for_expr.strip));
                        walk(&d.for_expr.template, out, id);
                        out.push(mark(d.endfor_expr.strip));
                    }
                },
            }
        }
    }
    let mut id = 0;
    walk(t, out, &mut id);
}

/// hclsyntax: `~` trims all white space (newlines included) of the neighbouring token only.
fn apply_strips(tokens: &mut [Tok]) {
    for i in 0..tokens.len() {
        let (before, after) = match tokens[i] {
            Tok::Mark { before, after } => (before, after),
            Tok::Lit { .. } => continue,
        };
        if before
            && i > 0
            && let Tok::Lit { text, .. } = &mut tokens[i - 1]
        {
            *text = text.trim_end().to_string();
        }
        if after && let Some(Tok::Lit { text, .. }) = tokens.get_mut(i + 1) {
            *text = text.trim_start().to_string();
        }
    }
}

/// hclsyntax's `flushHeredocTemplateParts`.
fn flush(tokens: &mut [Tok]) {
    let mut min = usize::MAX;
    let mut newline = true;
    let mut adjust = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        if newline {
            newline = false;
            match tok {
                Tok::Lit { text, .. } => {
                    let trimmed = text.trim_start();
                    // A line of spaces only, ending its line, is blank: not counted.
                    if !(trimmed.is_empty() && text.ends_with('\n')) {
                        let spaces = text[..text.len() - trimmed.len()].chars().count();
                        min = min.min(spaces);
                        adjust.push(i);
                    }
                }
                Tok::Mark { .. } => min = 0,
            }
        }
        if let Tok::Lit { text, .. } = tok
            && text.ends_with('\n')
        {
            newline = true;
        }
    }
    if min == usize::MAX {
        return;
    }
    for i in adjust {
        if let Tok::Lit { text, .. } = &mut tokens[i] {
            let cut: usize = text.chars().take(min).map(char::len_utf8).sum();
            *text = text[cut..].to_string();
        }
    }
}

/// Puts the rewritten literals back, in the order [`flatten`] numbered them, and clears every
/// strip marker (already applied).
fn rewrite(t: &mut Template, literals: &[String], next: &mut usize) {
    let mut i = 0;
    while let Some(e) = t.get_mut(i) {
        match e {
            Element::Literal(l) => {
                *l.value_mut() = literals.get(*next).cloned().unwrap_or_default();
                *next += 1;
            }
            Element::Interpolation(x) => x.strip = Strip::None,
            Element::Directive(d) => match &mut **d {
                Directive::If(d) => {
                    d.if_expr.strip = Strip::None;
                    rewrite(&mut d.if_expr.template, literals, next);
                    if let Some(e) = &mut d.else_expr {
                        e.strip = Strip::None;
                        rewrite(&mut e.template, literals, next);
                    }
                    d.endif_expr.strip = Strip::None;
                }
                Directive::For(d) => {
                    d.for_expr.strip = Strip::None;
                    rewrite(&mut d.for_expr.template, literals, next);
                    d.endfor_expr.strip = Strip::None;
                }
            },
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::diag::SourceFile;
    use crate::functions::FuncCtx;
    use crate::hcl::{Evaluator, Scope};

    const SEEDS: &[&str] = &[
        "a = <<-EOT\n    x\n    %{~ for n in [1, 2] ~}\n      - ${n}\n    %{~ endfor ~}\n    %{ if true ~}\n    y\n    %{~ else ~}\n    z\n    %{ endif }\n    EOT\n",
        "b = <<-EOT\n${1}\n  %{ for k, v in { a = 1, a = 2 } }${k}=${v}%{ endfor }\n  EOT\nc = { q = 1, q = 2, \"q\" = 3 }\n",
        "d = <<-EOT\n\t\u{e9}t\u{e9}\n  %{ if false }no%{ endif }\n   EOT\n",
    ];

    fn eval_all(text: &str) {
        let f = SourceFile::new(Path::new("heredoc-mutations.pkr.hcl"), text.to_string());
        let Ok(body) = crate::hcl::lenient::parse_body(&f) else {
            return;
        };
        for attr in body.attributes() {
            let _ = Evaluator::new(f.clone(), FuncCtx::default()).eval(&attr.value, &Scope::new());
        }
    }

    /// Mutates the seeds at random (a fixed-seed generator: the same inputs every run) and
    /// evaluates every attribute: the lenient parser and the heredoc rewriting never panic.
    #[test]
    fn mutations_never_panic() {
        let alphabet: Vec<char> = "ab=~%{}$\n \t\"\\-,[]()<EOT#é".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        for seed in SEEDS {
            eval_all(seed);
            for _ in 0..400 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..1 + next(4) {
                    let at = next(chars.len() + 1);
                    match next(3) {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        1 if at < chars.len() => chars[at] = alphabet[next(alphabet.len())],
                        _ => chars.insert(at, alphabet[next(alphabet.len())]),
                    }
                }
                eval_all(&chars.into_iter().collect::<String>());
            }
        }
    }
}
