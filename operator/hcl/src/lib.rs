//! Packer's HCL2 language, as Kiln reads it: values and types ([`value`]), diagnostics with
//! file, line and column ([`diag`]), the expression evaluator ([`hcl`]), Packer's function
//! library ([`functions`]), template loading — files, variables, locals, builds — and the
//! [`ConfigReader`](template::ConfigReader) components decode their blocks with
//! ([`template`]), and `fmt` ([`fmt`]). It knows no component and runs nothing: the engine
//! (`kiln-engine`) builds on it.

// Diagnostics carry file, position and snippet; returning them by value keeps call sites simple.
#![allow(clippy::result_large_err)]

pub mod diag;
pub mod fmt;
pub mod functions;
pub mod gopath;
pub mod hcl;
pub mod interpolate;
pub mod legacy;
pub mod number;
pub mod template;
pub mod value;
