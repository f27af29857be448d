//! (in progress)
use super::{Args, FuncError, other};
use crate::value::Value;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    Err(other(format!("The {}() function is not implemented yet.", f.name)))
}
