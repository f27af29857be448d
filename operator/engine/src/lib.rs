//! Kiln's step engine: Packer HCL2 templates, plans, the multistep runner and components.
//! Knows nothing of Kubernetes; the CLI and the runner pods share it unchanged.

// Diagnostics carry file, position and snippet; returning them by value keeps call sites simple.
#![allow(clippy::result_large_err)]

pub mod artifact;
pub mod builders;
pub mod communicator;
pub mod components;
pub mod datasources;
pub mod diag;
pub mod fmt;
pub mod functions;
pub mod fuzzing;
pub mod hcl;
pub mod plan;
pub mod postprocessors;
pub mod provisioners;
pub mod run;
pub mod session;
pub mod sinks;
pub mod template;
pub mod ui;
pub mod value;
