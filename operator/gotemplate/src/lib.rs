//! Go's `text/template`, as Packer's plugins use it through packer-plugin-sdk's
//! `template/interpolate` package: the same lexer, parser and executor, producing the same
//! output and the same error messages (`template: root:1: function "foo" not defined`,
//! `template: root:1:3: executing "root" at <upper 1>: wrong type for value; expected
//! string; got int`).
//!
//! Parse once, render many times:
//!
//! ```
//! use kiln_gotemplate::{Func, FuncMap, Param, Template, Value};
//!
//! let mut funcs = FuncMap::new();
//! funcs.insert("build_name", Func::new(&[], None, |_| Ok(Value::str("docker.ubuntu"))));
//! funcs.insert(
//!     "upper",
//!     Func::new(&[Param::String], None, |a| Ok(Value::str(a[0].as_str().unwrap().to_uppercase()))),
//! );
//! let t = Template::parse("root", "{{ build_name | upper }}: {{ .Path }}", &funcs).unwrap();
//! let data = Value::map([("Path", Value::str("/tmp/script.sh"))]);
//! assert_eq!(t.execute(&data, &funcs).unwrap(), "DOCKER.UBUNTU: /tmp/script.sh");
//!
//! let e = Template::parse("root", "{{ foo }}", &funcs).unwrap_err();
//! assert_eq!(e.to_string(), "template: root:1: function \"foo\" not defined");
//! ```
//!
//! What is covered: text and actions, pipelines, `.Field` chains on maps and structs,
//! variables (`$x := …`, `$x = …`), string, raw-string, number, char, bool and `nil`
//! literals, parenthesised pipelines, `if`/`else if`/`range` (with `break`/`continue`, over
//! lists, maps and ints)/`with`/`else with`, `define`/`template`/`block`, trim markers
//! (`{{-`, `-}}`), comments, and Go's builtin functions. Delimiters are always `{{`/`}}`
//! (the SDK never changes them); methods on data values do not exist (data is plain
//! values). Deliberate limits: nesting deeper than 300 levels (parentheses and blocks)
//! fails as "max expression depth exceeded", `{{template}}` recursion deeper than 100 as
//! "exceeded maximum template depth (100)" (Go: 10000 and 100000), so no input exhausts
//! the stack; a byte read from a string by `index` is an `int`, not a `uint8` (only the type
//! name in a later error differs).
//!
//! Checked against Go 1.26's text/template on 90 000 generated templates: only the `uint8`
//! case differs. `oracle/compare.sh [SEED] [COUNT]` repeats the check (the `render_lines`
//! example and a Go program render the same generated templates with the same data and
//! functions).

mod exec;
mod funcs;
mod gofmt;
mod lex;
mod parse;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use funcs::query_escape;
pub use gofmt::{is_print, quote, quote_ascii, sprintf};
pub use value::{List, Map, Struct, Value};

/// The type of a function parameter, as Go's reflection sees the Go function's signature:
/// arguments are checked and converted as `text/template` does (a number literal given for a
/// `String` parameter fails with "expected string; found 1").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    String,
    /// Go's `int`.
    Int,
    Bool,
    /// Go's `float64`.
    Float,
    /// Go's `interface {}`: anything; an absent value arrives as [`Value::Nil`].
    Any,
}

type FuncImpl = dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync;

/// A template function: its Go signature and its body. The body gets exactly the declared
/// arguments (already checked and converted) and returns a value, or an error message that
/// the template reports as `error calling NAME: MESSAGE`.
#[derive(Clone)]
pub struct Func {
    pub(crate) params: Vec<Param>,
    pub(crate) variadic: Option<Param>,
    pub(crate) call: Arc<FuncImpl>,
}

impl Func {
    /// A function taking `params`, then any number of `variadic` ones when given.
    pub fn new(
        params: &[Param],
        variadic: Option<Param>,
        f: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Func {
        Func {
            params: params.to_vec(),
            variadic,
            call: Arc::new(f),
        }
    }
}

impl fmt::Debug for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Func")
            .field("params", &self.params)
            .field("variadic", &self.variadic)
            .finish_non_exhaustive()
    }
}

/// The functions a template may call besides Go's builtins (a `template.FuncMap`). A name
/// here hides a builtin of the same name, as in Go.
#[derive(Clone, Debug, Default)]
pub struct FuncMap(BTreeMap<String, Func>);

impl FuncMap {
    pub fn new() -> FuncMap {
        FuncMap::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, f: Func) {
        self.0.insert(name.into(), f);
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.0.get(name)
    }

    /// Whether `name` is callable in a template using these functions (builtins included).
    pub fn defines(&self, name: &str) -> bool {
        self.0.contains_key(name) || funcs::NAMES.contains(&name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Which stage failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Lexing or parsing (Go's `Parse`): bad syntax, an unknown function.
    Parse,
    /// Execution (Go's `Execute`): a missing field of a struct, a function's error.
    Exec,
}

/// A template error, its text exactly Go's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A parsed template (with the templates it `{{define}}`s), ready to execute any number of
/// times.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    text: String,
    set: parse::TreeSet,
}

impl Template {
    /// Parses `text` as Go's `template.New(name).Funcs(funcs).Parse(text)` does: every
    /// function called must be in `funcs` or a builtin. The SDK names its templates `root`.
    pub fn parse(name: &str, text: &str, funcs: &FuncMap) -> Result<Template, Error> {
        let has = |n: &str| funcs.defines(n);
        let mut set = parse::TreeSet::new();
        parse::Parser::new(name, text, &has)
            .parse(&mut set)
            .map_err(|e| Error {
                kind: ErrorKind::Parse,
                message: e.0,
            })?;
        Ok(Template {
            name: name.to_string(),
            text: text.to_string(),
            set,
        })
    }

    /// Executes the template with `data` as dot (Go's `Execute(w, data)`; [`Value::Invalid`]
    /// for nil data) and `funcs` as its functions.
    pub fn execute(&self, data: &Value, funcs: &FuncMap) -> Result<String, Error> {
        let mut st = exec::State::new(&self.name, &self.text, &self.set, funcs);
        let Some(root) = self.set.get(&self.name) else {
            return Ok(String::new());
        };
        st.run(root, data.clone()).map_err(|message| Error {
            kind: ErrorKind::Exec,
            message,
        })?;
        Ok(st.out)
    }

    /// The text the template was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The nodes of the top-level template's list, as Go's `Tree.Root.Nodes` holds them
    /// (what `packer hcl2_upgrade` walks to rewrite a template).
    pub fn root_nodes(&self) -> Vec<RootNode> {
        let Some(root) = self.set.get(&self.name) else {
            return Vec::new();
        };
        root.nodes
            .iter()
            .map(|n| match n {
                parse::Node::Text { text, .. } => RootNode::Text(text.clone()),
                parse::Node::Action { pipe, .. } => RootNode::Action {
                    text: n.to_string(),
                    commands: pipe.cmds.len(),
                    args: pipe.cmds.first().map_or(0, |c| c.args.len()),
                    first_arg: pipe
                        .cmds
                        .first()
                        .and_then(|c| c.args.first())
                        .map_or(String::new(), |a| a.to_string()),
                    command: pipe.cmds.first().map_or(String::new(), |c| c.to_string()),
                },
                parse::Node::Branch(b) => RootNode::Other(match b.kind {
                    parse::BranchKind::If => "*parse.IfNode",
                    parse::BranchKind::Range => "*parse.RangeNode",
                    parse::BranchKind::With => "*parse.WithNode",
                }),
                parse::Node::Template { .. } => RootNode::Other("*parse.TemplateNode"),
                parse::Node::Break { .. } => RootNode::Other("*parse.BreakNode"),
                parse::Node::Continue { .. } => RootNode::Other("*parse.ContinueNode"),
            })
            .collect()
    }
}

/// A node of a template's top-level list (see [`Template::root_nodes`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RootNode {
    /// Text outside actions.
    Text(String),
    /// An action (`{{…}}`): Go's `ActionNode`.
    Action {
        /// The action printed back as Go's `String()` does (`{{upper "x"}}`).
        text: String,
        /// How many commands its pipeline has (`a | b`: 2).
        commands: usize,
        /// How many arguments (the function included) its first command has.
        args: usize,
        /// Its first command's first argument, printed back (`upper`, `.Name`).
        first_arg: String,
        /// Its first command printed back (`upper "x"`).
        command: String,
    },
    /// Any other node, by Go's type name (`*parse.IfNode`).
    Other(&'static str),
}

/// Go's `strconv.Unquote` of a `"…"` or `` `…` `` literal; `None` when it is not one.
pub fn unquote(s: &str) -> Option<String> {
    gofmt::unquote(s).ok()
}

/// Parses and executes in one go (the SDK's `RenderOnce`).
pub fn render(name: &str, text: &str, data: &Value, funcs: &FuncMap) -> Result<String, Error> {
    Template::parse(name, text, funcs)?.execute(data, funcs)
}

#[cfg(test)]
mod tests;
