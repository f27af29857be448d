//! Locals and data sources, evaluated as one dependency graph (Packer's default since 1.10):
//! each local or data source is evaluated once everything it references is known; a cycle is
//! an error naming its members.

use std::collections::{BTreeMap, BTreeSet};

use hcl::edit::Span;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::visit::{Visit, visit_expr};

use crate::diag::{Diagnostic, Diagnostics};
use crate::template::body::{EvalEnv, RawBlock, wrong_type};
use crate::template::{DataDecl, LocalDecl, Template};
use crate::value::Value;

/// Decodes a `locals { … }` block.
pub fn decode_locals(t: &mut Template, b: &RawBlock, diags: &mut Diagnostics) {
    let block = next_block(t);
    for a in &b.body.attrs {
        if let Some(prev) = t.locals.iter().find(|l| l.name == a.key) {
            diags.push(dup_local(&a.key, prev).with_subject(a.subject()));
            continue;
        }
        t.locals.push(LocalDecl {
            name: a.key.clone(),
            attr: a.clone(),
            sensitive: false,
            block,
        });
    }
    for inner in &b.body.blocks {
        diags.push(inner.unsupported());
    }
}

/// The number of the next `locals`/`local` block.
fn next_block(t: &Template) -> usize {
    t.locals.last().map_or(0, |l| l.block + 1)
}

fn dup_local(name: &str, prev: &LocalDecl) -> Diagnostic {
    // Packer's checkForDuplicateLocalDefinition: the other definition's expression range,
    // `%q`-quoted.
    let at = prev
        .attr
        .expr
        .span()
        .map(|r| prev.attr.file.range_string(r))
        .unwrap_or_default();
    Diagnostic::error(
        "Duplicate local definition",
        format!(
            "Local variable {name:?} is defined twice in your templates. Other definition found at {}",
            crate::value::go_quote(&at)
        ),
    )
}

/// Decodes a `local "name" { expression = …, sensitive = … }` block.
pub fn decode_local(t: &mut Template, b: &RawBlock, diags: &mut Diagnostics) {
    // A block without its one label was reported and dropped with the root schema.
    let [name] = b.labels.as_slice() else { return };
    let name = name.clone();
    if let Some(prev) = t.locals.iter().find(|l| l.name == name) {
        let subject = b.body.attr("expression").and_then(|a| a.subject());
        diags.push(dup_local(&name, prev).with_subject(subject.or(b.subject())));
        return;
    }
    let mut sensitive = false;
    let mut expression = None;
    let mut unsupported = false;
    for a in &b.body.attrs {
        match a.key.as_str() {
            "expression" => expression = Some(a.clone()),
            "sensitive" => match EvalEnv::default().eval_attr(a).map(|v| v.to_bool()) {
                Ok(Some(s)) => sensitive = s,
                Ok(None) => diags.push(wrong_type(a, "bool required")),
                Err(d) => diags.push(d),
            },
            _ => {
                unsupported = true;
                diags.push(a.unsupported_in(&b.body, &["expression", "sensitive"], &[]));
            }
        }
    }
    let Some(attr) = expression else {
        // hcl2template's schema does not require it: with a misspelt argument, that is the
        // only error Packer reports (without any, Packer 1.16 crashes; Kiln says what lacks).
        if unsupported {
            return;
        }
        diags.push(
            Diagnostic::error(
                "Missing required argument",
                "The argument \"expression\" is required, but no definition was found.",
            )
            .with_subject(b.subject()),
        );
        return;
    };
    let block = next_block(t);
    t.locals.push(LocalDecl {
        name,
        attr,
        sensitive,
        block,
    });
}

/// Every traversal in an expression, as its leading names: `var.a.b[0]` → `["var","a","b"]`.
pub fn references(expr: &Expression) -> Vec<Vec<String>> {
    struct V(Vec<Vec<String>>);
    impl Visit for V {
        fn visit_expr(&mut self, e: &Expression) {
            match e {
                Expression::Traversal(t) => {
                    if let Expression::Variable(root) = &t.expr {
                        let mut path = vec![root.as_str().to_string()];
                        for op in t.operators.iter() {
                            match op.value() {
                                TraversalOperator::GetAttr(a) => path.push(a.as_str().to_string()),
                                TraversalOperator::Index(Expression::String(s)) => {
                                    path.push(s.value().clone())
                                }
                                _ => break,
                            }
                        }
                        self.0.push(path);
                    } else {
                        self.visit_expr(&t.expr);
                    }
                    for op in t.operators.iter() {
                        if let TraversalOperator::Index(ix) = op.value() {
                            self.visit_expr(ix);
                        }
                    }
                }
                Expression::Variable(v) => self.0.push(vec![v.as_str().to_string()]),
                _ => visit_expr(self, e),
            }
        }
    }
    let mut v = V(Vec::new());
    v.visit_expr(expr);
    v.0
}

/// A node of the locals/data graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Local(String),
    Data(String),
}

impl Node {
    fn display(&self) -> String {
        match self {
            Node::Local(n) => format!("local.{n}"),
            // The DAG names a data source's vertex by its `Name()`: `type.name`.
            Node::Data(n) => n.clone(),
        }
    }
}

/// How data sources are treated.
pub enum DataMode<'a> {
    /// `validate` without `-evaluate-datasources`: outputs are unknown.
    Unknown,
    /// Run each data source with this function (`build`, `validate -evaluate-datasources`,
    /// `inspect`, `console`).
    Execute(&'a DataRunner),
}

/// Runs one data source and returns its outputs.
pub type DataRunner = dyn Fn(&DataDecl, &EvalEnv) -> Result<BTreeMap<String, Value>, Diagnostics>;

fn block_refs(b: &RawBlock, out: &mut Vec<Vec<String>>) {
    for a in &b.body.attrs {
        out.extend(references(&a.expr));
    }
    for inner in &b.body.blocks {
        block_refs(inner, out);
    }
}

/// The summary of the error of a locals/data graph that cannot be built (a missing
/// dependency, a cycle): nothing of it is evaluated, or checked, then.
pub const GRAPH_ERROR: &str = "failed to prepare execution graph";

/// Evaluates locals and data sources in dependency order.
pub fn evaluate(t: &mut Template, mode: DataMode<'_>) -> Diagnostics {
    evaluate_walk(t, mode, false)
}

/// [`evaluate`] for `inspect` and `console`, which show the values: where Packer's walk is
/// random, the values it most often reaches.
pub fn evaluate_values(t: &mut Template, mode: DataMode<'_>) -> Diagnostics {
    evaluate_walk(t, mode, true)
}

fn evaluate_walk(t: &mut Template, mode: DataMode<'_>, by_values: bool) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut deps: BTreeMap<Node, BTreeSet<Node>> = BTreeMap::new();
    // Packer's buildPrereqsDAG: a `data.T.N` or `local.N` that nothing declares is an error
    // of the graph (data sources' first, then locals'; each one's `data` references, then
    // its `local` ones, each time it is used).
    let mut missing: Vec<String> = Vec::new();
    let add_deps = |name: String, refs: Vec<Vec<String>>, missing: &mut Vec<String>| {
        // In the order Packer connects them (the order of its vertex's down edges).
        let mut d: Vec<Node> = Vec::new();
        for root in ["data", "local"] {
            for r in refs.iter().filter(|r| r.first().is_some_and(|f| f == root)) {
                if r.len() < 2 {
                    continue;
                }
                match dep_node(r, t) {
                    Some(n) => {
                        if !d.contains(&n) {
                            d.push(n);
                        }
                    }
                    None => {
                        let dep = r.iter().take(if root == "data" { 3 } else { 2 });
                        let dep = dep.cloned().collect::<Vec<_>>().join(".");
                        missing.push(format!(
                            "could not get dependency {dep:?} for {name:?}, {dep:?} missing in template"
                        ));
                    }
                }
            }
        }
        d
    };
    let mut data_deps = Vec::new();
    for (key, decl) in &t.data {
        let mut refs = Vec::new();
        block_refs(&decl.block, &mut refs);
        data_deps.push((
            Node::Data(key.clone()),
            add_deps(format!("data.{key}"), refs, &mut missing),
        ));
    }
    let mut local_deps = Vec::new();
    for l in &t.locals {
        let d = add_deps(
            format!("local.{}", l.name),
            references(&l.attr.expr),
            &mut missing,
        );
        local_deps.push((Node::Local(l.name.clone()), d));
    }
    let down: BTreeMap<Node, Vec<Node>> = data_deps.iter().chain(&local_deps).cloned().collect();
    deps.extend(
        down.iter()
            .map(|(n, d)| (n.clone(), d.iter().cloned().collect::<BTreeSet<Node>>())),
    );
    let mut blocks: Vec<Vec<Node>> = Vec::new();
    for l in &t.locals {
        if blocks.len() <= l.block {
            blocks.resize(l.block + 1, Vec::new());
        }
        blocks[l.block].push(Node::Local(l.name.clone()));
    }
    let data: Vec<Node> = t.data.keys().map(|k| Node::Data(k.clone())).collect();
    let graph_errors = graph_errors(&deps, &down, &data, &blocks, missing);
    if !graph_errors.is_empty() {
        let list = if graph_errors.len() == 1 {
            format!("1 error occurred:\n\t* {}\n\n", graph_errors[0])
        } else {
            format!(
                "{} errors occurred:\n\t* {}\n\n",
                graph_errors.len(),
                graph_errors.join("\n\t* ")
            )
        };
        diags.push(Diagnostic::error(
            GRAPH_ERROR,
            format!("An error occurred while building the graph for datasources/locals: {list}"),
        ));
        return diags;
    }
    // Every local and data source whose dependencies succeed is evaluated once; which of them
    // Packer's walk reaches before it stops is then worked out (see [`packer_walk`]).
    let mut done: BTreeSet<Node> = BTreeSet::new();
    let mut failed: BTreeMap<Node, Diagnostics> = BTreeMap::new();
    loop {
        let ready: Vec<Node> = deps
            .iter()
            .filter(|(n, d)| {
                !done.contains(*n) && !failed.contains_key(*n) && d.iter().all(|x| done.contains(x))
            })
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            break;
        }
        // Nodes of one batch depend only on earlier batches: one environment serves them all.
        let env = t.base_env();
        for node in ready {
            match &node {
                Node::Local(name) => {
                    let Some(decl) = t.locals.iter().find(|l| &l.name == name).cloned() else {
                        done.insert(node.clone());
                        continue;
                    };
                    match evaluate_local(t, &env, &decl) {
                        Ok(()) => {
                            done.insert(node);
                        }
                        Err(d) => {
                            let mut ds = Diagnostics::new();
                            ds.push(d);
                            failed.insert(node, ds);
                        }
                    }
                }
                Node::Data(key) => {
                    let decl = t.data[key].clone();
                    let outputs = match &mode {
                        // An argument that does not evaluate fails the data source and
                        // ends the walk; the error itself is reported by the data sources'
                        // check after locals.
                        DataMode::Unknown
                            if decl
                                .block
                                .body
                                .attrs
                                .iter()
                                .any(|a| env.eval_attr(a).is_err()) =>
                        {
                            Err(Diagnostics::new())
                        }
                        DataMode::Unknown => Ok(Value::Unknown),
                        DataMode::Execute(run) => run(&decl, &env).map(Value::Object),
                    };
                    match outputs {
                        Ok(o) => {
                            t.data_values.insert(key.clone(), o);
                            done.insert(node);
                        }
                        Err(d) => {
                            failed.insert(node, d);
                        }
                    }
                }
            }
        }
    }
    if !failed.is_empty() {
        let (reached, failure) = packer_walk(&data, &blocks, &down, &failed, by_values);
        t.local_values
            .retain(|name, _| reached.contains(&Node::Local(name.clone())));
        t.local_types
            .retain(|name, _| reached.contains(&Node::Local(name.clone())));
        t.data_values
            .retain(|key, _| reached.contains(&Node::Data(key.clone())));
        if let Some(d) = failed.remove(&failure) {
            diags.extend(d);
        }
    }
    // Under validate, unknown data outputs: make `data.T.N.anything` unknown.
    if matches!(mode, DataMode::Unknown) {
        for key in t.data.keys() {
            t.data_values.entry(key.clone()).or_insert(Value::Unknown);
        }
    }
    diags
}

/// Packer's `-use-sequential-evaluation` (its `evaluateDatasources`, then
/// `evaluateLocalVariables`): every data source in turn (those it reads first), then every
/// local in turn, each one's `local` dependencies first (ten levels deep at most: a cycle is
/// "Max local recursion depth exceeded." and then each level's own failure); a local whose
/// dependency is not declared fails before it is evaluated. Every failure is reported, and
/// every local that evaluates keeps its value.
pub fn evaluate_sequential(t: &mut Template, mode: DataMode<'_>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // Data sources, those each one reads first; a data source's errors once each summary
    // (Packer keeps them in a map by summary: the last one of each).
    let keys: Vec<String> = t.data.keys().cloned().collect();
    let mut data_done: BTreeSet<String> = BTreeSet::new();
    let mut data_diags: Vec<Diagnostic> = Vec::new();
    for key in &keys {
        let mut ds = Vec::new();
        sequential_data(t, key, &mode, &mut data_done, 0, &mut ds);
        for d in ds {
            match data_diags.iter_mut().find(|x| x.summary == d.summary) {
                Some(x) => *x = d,
                None => data_diags.push(d),
            }
        }
    }
    diags.extend(Diagnostics(data_diags));
    let mut evaluated = vec![false; t.locals.len()];
    for i in 0..t.locals.len() {
        sequential_local(t, i, 0, &mut evaluated, &mut diags);
    }
    if matches!(mode, DataMode::Unknown) {
        for key in t.data.keys() {
            t.data_values.entry(key.clone()).or_insert(Value::Unknown);
        }
    }
    diags
}

/// Packer's `recursivelyEvaluateDatasources` for one data source.
fn sequential_data(
    t: &mut Template,
    key: &str,
    mode: &DataMode<'_>,
    done: &mut BTreeSet<String>,
    depth: usize,
    diags: &mut Vec<Diagnostic>,
) {
    if done.contains(key) {
        return;
    }
    let decl = t.data[key].clone();
    if depth > 10 {
        diags.push(
            Diagnostic::error(
                "Max datasource recursion depth exceeded.",
                "An error occured while recursively evaluating data sources. Either your data source depends on more than ten other data sources, or your data sources have a cyclic dependency. Please simplify your config to continue. ",
            )
            .with_subject(decl.block.subject()),
        );
        return;
    }
    let mut refs = Vec::new();
    block_refs(&decl.block, &mut refs);
    for r in refs
        .iter()
        .filter(|r| r.first().is_some_and(|f| f == "data"))
    {
        if let (Some(ty), Some(name)) = (r.get(1), r.get(2)) {
            let dep = format!("{ty}.{name}");
            if t.data.contains_key(&dep) && !done.contains(&dep) {
                let before = diags.len();
                sequential_data(t, &dep, mode, done, depth + 1, diags);
                if diags[before..].iter().any(Diagnostic::is_error) {
                    return;
                }
            }
        }
    }
    done.insert(key.to_string());
    let env = t.base_env();
    let outputs = match mode {
        // Packer's startDatasource decodes the block even when it does not run it.
        DataMode::Unknown => {
            let errors: Vec<Diagnostic> = decl
                .block
                .body
                .attrs
                .iter()
                .filter_map(|a| env.eval_attr(a).err())
                .collect();
            if errors.is_empty() {
                Ok(Value::Unknown)
            } else {
                Err(Diagnostics(errors))
            }
        }
        DataMode::Execute(run) => run(&decl, &env).map(Value::Object),
    };
    match outputs {
        Ok(o) => {
            t.data_values.insert(key.to_string(), o);
        }
        Err(d) => diags.extend(d.0),
    }
}

/// Packer's `recursivelyEvaluateLocalVariable` for the local at `i`.
fn sequential_local(
    t: &mut Template,
    i: usize,
    depth: usize,
    evaluated: &mut Vec<bool>,
    diags: &mut Diagnostics,
) {
    if evaluated[i] {
        return;
    }
    if depth >= 10 {
        diags.push(Diagnostic::error(
            "Max local recursion depth exceeded.",
            "An error occured while recursively evaluating locals.Your local variables likely have a cyclic dependency. Please simplify your config to continue. ",
        ));
        return;
    }
    let decl = t.locals[i].clone();
    for r in references(&decl.attr.expr) {
        if r.first().map(String::as_str) != Some("local") || r.len() < 2 {
            continue;
        }
        match t.locals.iter().position(|l| l.name == r[1]) {
            Some(dep) => sequential_local(t, dep, depth + 1, evaluated, diags),
            None => {
                diags.push(Diagnostic::error(
                    "failed to get local variable",
                    format!(
                        "While evaluating {:?}, its dependency {:?} was not found, is it defined?",
                        format!("local.{}", decl.name),
                        format!("local.{}", r[1])
                    ),
                ));
                return;
            }
        }
    }
    let env = t.base_env();
    evaluated[i] = true;
    if let Err(d) = evaluate_local(t, &env, &decl) {
        diags.push(d);
    }
}

/// Evaluates a local and keeps its value, its static type and, when it is sensitive, its
/// strings (masked from then on).
fn evaluate_local(t: &mut Template, env: &EvalEnv, decl: &LocalDecl) -> Result<(), Diagnostic> {
    let v = env.eval_attr(&decl.attr)?;
    if decl.sensitive {
        t.sensitive.extend(v.strings());
    }
    let scope = env.scope();
    let evaluator = env.evaluator(&decl.attr.file);
    let sub = |e: &hcl::edit::expr::Expression| evaluator.eval(e, &scope).ok();
    if let Some(ty) = crate::hcl::describe::static_type_with(&decl.attr.expr, &scope, Some(&sub)) {
        t.local_types.insert(decl.name.clone(), ty);
    }
    t.local_values.insert(decl.name.clone(), v);
    Ok(())
}

/// How many of Packer's random walks Kiln draws to find its most frequent outcome.
const SAMPLES: usize = 512;

/// Go 1.26's map iteration, drawn from a fixed seed (so Kiln's answer is the same every
/// time): a map of up to eight entries iterates in insertion order from a random one of its
/// eight slots, wrapping around; a larger one in no set order.
struct GoMaps {
    seed: u64,
}

impl GoMaps {
    fn new() -> GoMaps {
        GoMaps {
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The iteration order of a map whose items were inserted in this order.
    fn order<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        let mut out: Vec<T> = items.to_vec();
        if items.len() <= 8 {
            let offset = (self.next() % 8) as usize;
            if offset < items.len() {
                out.rotate_left(offset);
            }
        } else {
            for i in (1..out.len()).rev() {
                let j = (self.next() % (i as u64 + 1)) as usize;
                out.swap(i, j);
            }
        }
        out
    }

    /// The order in which Packer's `buildPrereqsDAG` adds its vertices: its data sources
    /// (a map), then its locals (each `locals` block's attributes through hclsyntax's body,
    /// a map, copied into another by `JustAttributes`).
    fn inserted(
        order: &mut impl FnMut(&[Node]) -> Vec<Node>,
        data: &[Node],
        locals_blocks: &[Vec<Node>],
    ) -> Vec<Node> {
        let mut inserted = order(data);
        for block in locals_blocks {
            let once = order(block);
            inserted.extend(order(&once));
        }
        inserted
    }
}

/// What Packer's walk of the locals/data graph most often does when some of its nodes fail:
/// the nodes it evaluates before it stops, and the failure it stops at.
///
/// Packer walks its DAG's `ReverseTopologicalOrder`: a depth-first search from each vertex
/// in turn, dependencies first, over Go maps (the vertex set, each vertex's down edges), and
/// stops at the first node that fails. Go 1.26's maps iterate a map of up to eight entries
/// from a random slot, wrapping around, in insertion order (data sources then locals, in the
/// order declared; edges in the order of the references); larger maps in no set order. A
/// `locals` block's attributes come from two such maps in turn (hclsyntax's body, then
/// `JustAttributes`). The
/// outcome is drawn for many such orders (with a fixed seed, so the same every time) and the
/// most frequent one kept.
///
/// `by_values`: the outcome whose values are the most frequent (what `inspect` and `console`
/// show), else the most frequent values and failure together (what `validate` and `build`
/// report).
fn packer_walk(
    data: &[Node],
    locals_blocks: &[Vec<Node>],
    down: &BTreeMap<Node, Vec<Node>>,
    failed: &BTreeMap<Node, Diagnostics>,
    by_values: bool,
) -> (BTreeSet<Node>, Node) {
    let mut maps = GoMaps::new();
    let mut go_order = |items: &[Node]| maps.order(items);
    let mut tally: BTreeMap<(BTreeSet<Node>, Node), usize> = BTreeMap::new();
    let mut first: Option<(BTreeSet<Node>, Node)> = None;
    for _ in 0..SAMPLES {
        let inserted = GoMaps::inserted(&mut go_order, data, locals_blocks);
        let mut sorted: Vec<Node> = Vec::new();
        let mut seen: BTreeSet<Node> = BTreeSet::new();
        // The depth-first search, iteratively: (node, its down edges in map order, next).
        for start in go_order(&inserted) {
            if seen.contains(&start) {
                continue;
            }
            let edges = go_order(down.get(&start).map_or(&[][..], |d| d.as_slice()));
            let mut stack: Vec<(Node, Vec<Node>, usize)> = vec![(start, edges, 0)];
            while let Some((node, edges, i)) = stack.last_mut() {
                if let Some(u) = edges.get(*i).cloned() {
                    *i += 1;
                    // A node on the stack is reached again only through a cycle, which the
                    // graph's validation has refused.
                    if !seen.contains(&u) && !stack.iter().any(|(n, _, _)| *n == u) {
                        let e = go_order(down.get(&u).map_or(&[][..], |d| d.as_slice()));
                        stack.push((u, e, 0));
                    }
                    continue;
                }
                let node = node.clone();
                stack.pop();
                seen.insert(node.clone());
                sorted.push(node);
            }
        }
        let Some(stop) = sorted.iter().position(|n| failed.contains_key(n)) else {
            continue;
        };
        let outcome = (
            sorted[..stop].iter().cloned().collect(),
            sorted[stop].clone(),
        );
        first.get_or_insert_with(|| outcome.clone());
        *tally.entry(outcome).or_default() += 1;
    }
    if by_values {
        // What `inspect` and `console` show is the values reached: the most frequent set,
        // then its most frequent failure.
        let mut sets: BTreeMap<&BTreeSet<Node>, usize> = BTreeMap::new();
        for ((reached, _), n) in &tally {
            *sets.entry(reached).or_default() += n;
        }
        let top = sets.values().copied().max().unwrap_or(0);
        let set = first
            .as_ref()
            .map(|(r, _)| r)
            .filter(|r| sets.get(r) == Some(&top))
            .or_else(|| sets.iter().find(|(_, n)| **n == top).map(|(r, _)| *r))
            .cloned();
        if let Some(set) = set {
            tally.retain(|(r, _), _| *r == set);
            first = first.filter(|(r, _)| *r == set);
        }
    }
    let best = tally.values().copied().max().unwrap_or(0);
    first
        .filter(|o| tally.get(o) == Some(&best))
        .or_else(|| tally.into_iter().find(|(_, n)| *n == best).map(|(o, _)| o))
        .unwrap_or_else(|| {
            let f = failed
                .keys()
                .next()
                .cloned()
                .unwrap_or(Node::Local(String::new()));
            (BTreeSet::new(), f)
        })
}

/// The graph's errors as Packer's `buildPrereqsDAG` lists them: each missing dependency,
/// then, when the graph has cycles or self references, its validation's error (one error of
/// several lines: each cycle of Tarjan's search over the graph's maps, its members in the
/// order the search pops them, then each self reference in the order of the graph's edge
/// set). Which vertex the search starts from is Go map order: Kiln draws Packer's orders
/// as [`packer_walk`] does and keeps the most frequent text.
fn graph_errors(
    deps: &BTreeMap<Node, BTreeSet<Node>>,
    down: &BTreeMap<Node, Vec<Node>>,
    data: &[Node],
    locals_blocks: &[Vec<Node>],
    mut errors: Vec<String>,
) -> Vec<String> {
    // What a topological walk cannot reach is in a cycle (or waits on one).
    let mut done: BTreeSet<&Node> = BTreeSet::new();
    loop {
        let ready: Vec<&Node> = deps
            .iter()
            .filter(|(n, d)| !done.contains(n) && d.iter().all(|x| done.contains(x)))
            .map(|(n, _)| n)
            .collect();
        if ready.is_empty() {
            break;
        }
        done.extend(ready);
    }
    if deps.keys().all(|n| done.contains(n)) {
        return errors;
    }
    let mut maps = GoMaps::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut first: Option<String> = None;
    let no_edges: Vec<Node> = Vec::new();
    for _ in 0..SAMPLES {
        let inserted = GoMaps::inserted(&mut |i| maps.order(i), data, locals_blocks);
        // The edges, as Connect adds them: the data sources' (a map), then the locals'.
        let mut edges: Vec<(Node, Node)> = Vec::new();
        let data_order = maps.order(data);
        let locals_order = inserted.iter().filter(|n| matches!(n, Node::Local(_)));
        for n in data_order.iter().chain(locals_order) {
            for d in down.get(n).unwrap_or(&no_edges) {
                let e = (n.clone(), d.clone());
                if !edges.contains(&e) {
                    edges.push(e);
                }
            }
        }
        let mut scc = Tarjan::default();
        for v in maps.order(&inserted) {
            if !scc.index.contains_key(&v) {
                scc.visit(&v, down, &mut maps);
            }
        }
        let mut lines: Vec<String> = scc
            .components
            .iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let names: Vec<String> = c.iter().map(Node::display).collect();
                format!("Cycle: {}", names.join(", "))
            })
            .collect();
        for (from, to) in maps.order(&edges) {
            if from == to {
                lines.push(format!("Self reference: {}", from.display()));
            }
        }
        let text = lines.join("\n");
        first.get_or_insert_with(|| text.clone());
        *tally.entry(text).or_default() += 1;
    }
    let best = tally.values().copied().max().unwrap_or(0);
    let text = first
        .filter(|t| tally.get(t) == Some(&best))
        .or_else(|| tally.into_iter().find(|(_, n)| *n == best).map(|(t, _)| t))
        .unwrap_or_default();
    errors.push(text);
    errors
}

/// Tarjan's strongly connected components, as Packer's `dag.StronglyConnected` finds them
/// (each vertex's down edges in Go map order).
#[derive(Default)]
struct Tarjan {
    index: BTreeMap<Node, usize>,
    stack: Vec<Node>,
    components: Vec<Vec<Node>>,
}

impl Tarjan {
    fn visit(&mut self, v: &Node, down: &BTreeMap<Node, Vec<Node>>, maps: &mut GoMaps) -> usize {
        let index = self.index.len() + 1;
        self.index.insert(v.clone(), index);
        self.stack.push(v.clone());
        let mut min = index;
        let targets = maps.order(down.get(v).map_or(&[][..], |d| d.as_slice()));
        for t in targets {
            match self.index.get(&t).copied() {
                None => min = min.min(self.visit(&t, down, maps)),
                Some(i) if self.stack.contains(&t) => min = min.min(i),
                Some(_) => {}
            }
        }
        if index == min {
            let mut component = Vec::new();
            while let Some(n) = self.stack.pop() {
                let root = n == *v;
                component.push(n);
                if root {
                    break;
                }
            }
            self.components.push(component);
        }
        min
    }
}

fn dep_node(r: &[String], t: &Template) -> Option<Node> {
    match r.first().map(String::as_str) {
        Some("local") => {
            let n = r.get(1)?;
            t.locals
                .iter()
                .any(|l| &l.name == n)
                .then(|| Node::Local(n.clone()))
        }
        Some("data") => {
            let key = format!("{}.{}", r.get(1)?, r.get(2)?);
            t.data.contains_key(&key).then_some(Node::Data(key))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(n: &str) -> Node {
        Node::Local(n.to_string())
    }

    fn failing(nodes: &[Node]) -> BTreeMap<Node, Diagnostics> {
        nodes
            .iter()
            .map(|n| (n.clone(), Diagnostics::new()))
            .collect()
    }

    /// The outcomes measured on Packer 1.16.0 (see docs/templates.md, "random walk").
    #[test]
    fn the_walk_packer_takes_most_often_is_chosen() {
        // One data source that fails (no plugin), then a locals block: `timestamp`,
        // `ami_name` (reads it, fails), `tags` (reads `ami_name`): 27 of 40 Packer runs
        // start at the data source and list no local.
        let data = vec![Node::Data("amazon-parameterstore.this".into())];
        let block = vec![local("timestamp"), local("ami_name"), local("tags")];
        let down = BTreeMap::from([
            (data[0].clone(), vec![]),
            (local("timestamp"), vec![]),
            (local("ami_name"), vec![local("timestamp")]),
            (local("tags"), vec![local("ami_name")]),
        ]);
        let failed = failing(&[data[0].clone(), local("ami_name")]);
        let (reached, failure) = packer_walk(&data, &[block], &down, &failed, false);
        assert!(reached.is_empty(), "{reached:?}");
        assert_eq!(failure, data[0]);

        // Three locals, the last failing: half of Packer's runs reach both others first.
        let block = vec![local("url"), local("checksum"), local("boot")];
        let down: BTreeMap<Node, Vec<Node>> = block.iter().map(|n| (n.clone(), vec![])).collect();
        let failed = failing(&[local("boot")]);
        let (reached, failure) = packer_walk(&[], &[block], &down, &failed, false);
        assert_eq!(reached, BTreeSet::from([local("url"), local("checksum")]));
        assert_eq!(failure, local("boot"));

        // One constant local before three that fail (canonical/packer-maas'
        // debian-cloudimg): 38 of 60 Packer runs reach no local (modelled: 0.66), so
        // `inspect` and `console` show none, though "the constant, then the next failure"
        // is the most frequent single outcome.
        let block = vec![
            local("arch"),
            local("machine"),
            local("cpu"),
            local("proxy"),
        ];
        let down: BTreeMap<Node, Vec<Node>> = block.iter().map(|n| (n.clone(), vec![])).collect();
        let failed = failing(&[local("machine"), local("cpu"), local("proxy")]);
        let (reached, _) = packer_walk(&[], std::slice::from_ref(&block), &down, &failed, true);
        assert!(reached.is_empty(), "{reached:?}");
        let (reached, _) = packer_walk(&[], &[block], &down, &failed, false);
        assert_eq!(reached, BTreeSet::from([local("arch")]));

        // A failure's dependencies are always evaluated before it.
        let block = vec![local("s"), local("m")];
        let down = BTreeMap::from([(local("s"), vec![local("m")]), (local("m"), vec![])]);
        let (reached, _) = packer_walk(&[], &[block], &down, &failing(&[local("s")]), false);
        assert_eq!(reached, BTreeSet::from([local("m")]));
    }

    /// The cycles measured on Packer 1.16.0: its most frequent text each time.
    #[test]
    fn cycles_are_listed_as_packer_most_often_lists_them() {
        let errors = |data: &[Node], blocks: &[Vec<Node>], edges: &[(Node, Node)]| {
            let mut down: BTreeMap<Node, Vec<Node>> = BTreeMap::new();
            for n in data.iter().chain(blocks.iter().flatten()) {
                down.entry(n.clone()).or_default();
            }
            for (from, to) in edges {
                down.entry(from.clone()).or_default().push(to.clone());
            }
            let deps = down
                .iter()
                .map(|(n, d)| (n.clone(), d.iter().cloned().collect()))
                .collect();
            graph_errors(&deps, &down, data, blocks, vec!["missing".into()])
        };
        // `first = local.second, second = local.first`: 77 of 100 runs.
        let block = vec![local("first"), local("second")];
        let e = errors(
            &[],
            std::slice::from_ref(&block),
            &[
                (local("first"), local("second")),
                (local("second"), local("first")),
            ],
        );
        assert_eq!(e, ["missing", "Cycle: local.second, local.first"]);
        // Two data sources reading each other, `gummy` declared first: 23 of 30 runs.
        let (gummy, bear) = (
            Node::Data("null.gummy".into()),
            Node::Data("null.bear".into()),
        );
        let e = errors(
            &[gummy.clone(), bear.clone()],
            &[],
            &[(gummy.clone(), bear.clone()), (bear, gummy)],
        );
        assert_eq!(e[1], "Cycle: null.bear, null.gummy");
        // Two cycles and a self reference: one error of three lines (16 of 40 runs).
        let names = ["a", "b", "s", "c", "d", "e"];
        let block: Vec<Node> = names.iter().map(|n| local(n)).collect();
        let edges: Vec<(Node, Node)> = [
            ("a", "b"),
            ("b", "a"),
            ("s", "s"),
            ("c", "d"),
            ("d", "e"),
            ("e", "c"),
        ]
        .iter()
        .map(|(f, t)| (local(f), local(t)))
        .collect();
        let e = errors(&[], &[block], &edges);
        assert_eq!(
            e[1],
            "Cycle: local.e, local.d, local.c\nCycle: local.b, local.a\nSelf reference: local.s"
        );
        // No cycle: only the missing dependencies.
        let e = errors(&[], &[vec![local("x")]], &[]);
        assert_eq!(e, ["missing"]);
    }
}
