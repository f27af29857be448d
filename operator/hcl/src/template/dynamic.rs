//! `dynamic` blocks: `dynamic "name" { for_each = …, iterator = it, labels = […], content {…} }`
//! expands to one `name` block per element, with the iterator (`it.key`, `it.value`; by
//! default named after the block type) bound in the content.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::template::body::{EvalEnv, RawBlock};
use crate::value::Value;

/// Expands one `dynamic` block.
pub fn expand(block: &RawBlock, env: &EvalEnv) -> Result<Vec<RawBlock>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let Some(kind) = block.labels.first().cloned() else {
        return Err(Diagnostic::error(
            "Missing dynamic block type",
            "A dynamic block needs one label: the type of the blocks it generates.",
        )
        .with_subject(block.subject())
        .into());
    };
    for a in &block.body.attrs {
        if !matches!(a.key.as_str(), "for_each" | "iterator" | "labels") {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named {:?} is not expected in a dynamic block.",
                        a.key
                    ),
                )
                .with_subject(a.key_subject()),
            );
        }
    }
    let contents: Vec<&RawBlock> = block
        .body
        .blocks
        .iter()
        .filter(|b| b.ident == "content")
        .collect();
    if contents.len() != 1 {
        diags.push(
            Diagnostic::error(
                "Invalid dynamic block",
                "A dynamic block must have exactly one nested \"content\" block.",
            )
            .with_subject(block.subject()),
        );
    }
    let Some(for_each) = block.body.attr("for_each") else {
        diags.push(
            Diagnostic::error(
                "Missing required argument",
                "The argument \"for_each\" is required, but no definition was found.",
            )
            .with_subject(block.subject()),
        );
        return Err(diags);
    };
    if diags.has_errors() {
        return Err(diags);
    }
    let iterator = match block.body.attr("iterator") {
        Some(a) => match &a.expr {
            hcl::edit::expr::Expression::Variable(v) => v.as_str().to_string(),
            _ => {
                return Err(Diagnostic::error(
                    "Invalid dynamic iterator name",
                    "The iterator argument must be a single identifier.",
                )
                .with_subject(a.subject())
                .into());
            }
        },
        None => kind.clone(),
    };
    let coll = env.eval_attr(for_each).map_err(Diagnostics::from)?;
    // An unknown collection (an unset variable under `inspect`, a data source under
    // `validate`) gives one block, whose attributes are all unknown (hcl's dynblock).
    let unknown = coll == Value::Unknown;
    let pairs: Vec<(Value, Value)> = match coll.into_pairs() {
        Ok(pairs) => pairs,
        Err(Value::Unknown) => vec![(Value::Unknown, Value::Unknown)],
        Err(other) => {
            return Err(Diagnostic::error(
                "Invalid dynamic for_each value",
                format!(
                    "Cannot use a {} value in for_each. An iterable collection is required.",
                    other.type_name()
                ),
            )
            .with_subject(for_each.subject())
            .into());
        }
    };
    let content = contents[0];
    let mut out = Vec::new();
    for (k, v) in pairs {
        let mut it = BTreeMap::new();
        it.insert("key".to_string(), k);
        it.insert("value".to_string(), v);
        let it = Value::Object(it);
        let mut labels = Vec::new();
        if let Some(la) = block.body.attr("labels") {
            let mut bound = la.clone();
            bound.bindings.insert(iterator.clone(), it.clone());
            match env.eval_attr(&bound) {
                Ok(Value::List(ls)) => {
                    for l in ls {
                        match l.to_string_lossless() {
                            Some(s) => labels.push(s),
                            None => diags.push(
                                Diagnostic::error(
                                    "Invalid dynamic block label",
                                    "Labels must be strings.",
                                )
                                .with_subject(la.subject()),
                            ),
                        }
                    }
                }
                Ok(_) => diags.push(
                    Diagnostic::error(
                        "Invalid dynamic block labels",
                        "The labels argument must be a list of strings.",
                    )
                    .with_subject(la.subject()),
                ),
                Err(d) => diags.push(d),
            }
        }
        let mut body = content.body.clone();
        body.bind(&iterator, &it);
        if unknown {
            body.make_unknown();
        }
        out.push(RawBlock {
            ident: kind.clone(),
            labels,
            body,
            span: block.span.clone(),
            ident_span: block.ident_span.clone(),
            header_end: block.header_end,
            file: block.file.clone(),
        });
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}
