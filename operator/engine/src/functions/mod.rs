//! Packer's HCL2 function library (see docs/templates.md for the compatibility table).
//!
//! The evaluator calls [`call`] with already-evaluated arguments. It handles itself the
//! functions that need unevaluated expressions or the evaluator: `can`, `try`, `convert`
//! and `templatefile`; and it never passes unknown values here (a call with an unknown
//! argument yields unknown).

use std::path::PathBuf;

use crate::value::Value;

/// What a function may know of its surroundings.
#[derive(Clone, Debug, Default)]
pub struct FuncCtx {
    /// `path.root`: the directory file functions resolve relative paths against.
    pub base_dir: PathBuf,
    /// `env()` is only allowed in variable defaults.
    pub allow_env: bool,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FuncError {
    /// Wrong number of arguments: (expected description, got).
    Arity(String),
    /// A specific argument is invalid: (zero-based index, parameter name, message).
    Arg(usize, String, String),
    /// Any other failure.
    Other(String),
}

/// Whether `name` is a function of the library (not counting evaluator-handled ones).
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Every function the library implements.
pub const NAMES: &[&str] = &[];

/// Calls function `name`.
pub fn call(name: &str, _args: &[Value], _ctx: &FuncCtx) -> Result<Value, FuncError> {
    Err(FuncError::Other(format!("There is no function named \"{name}\".")))
}
