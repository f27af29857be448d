//! The HCL2 language layer on top of hcl-edit: evaluation with spans, type constraints.

pub mod describe;
pub mod eval;
pub mod heredoc;
pub mod json_syntax_diag;
pub mod lenient;
pub mod syntax_diag;
pub mod types;

pub use eval::{Evaluator, Scope};
