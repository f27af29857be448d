//! Kiln's step engine: Packer HCL2 templates, plans, the multistep runner and components.
//! Knows nothing of Kubernetes; the CLI and the runner pods share it unchanged.

// Diagnostics carry file, position and snippet; returning them by value keeps call sites simple.
#![allow(clippy::result_large_err)]

/// Legacy JSON templates: parsing, validation and the legacy core.
pub use kiln_hcl::legacy as legacy_template;
pub use kiln_hcl::{diag, fmt, functions, gopath, hcl, interpolate, template, value};
/// Child processes and files written to be executed, under one fork lock.
pub use kiln_process as process;

pub mod artifact;
pub mod attestation;
pub mod builders;
pub mod communicator;
pub mod components;
pub mod datasources;
pub mod fuzzing;
pub mod goerr;
pub mod legacy;
pub mod plan;
pub mod postprocessors;
pub mod provisioners;
pub mod referrers;
pub mod run;
pub mod session;
pub mod sinks;
pub mod steps;
pub mod ui;
