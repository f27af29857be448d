//! (in progress)
use super::{Args, FuncError, other};
use crate::value::Value;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    Err(other(format!("The {}() function is not implemented yet.", f.name)))
}

pub(crate) fn json_encode(v: &Value) -> Result<String, String> {
    Ok(v.to_json().to_string())
}
