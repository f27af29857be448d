//! Kiln's step engine: Packer HCL2 templates, plans, the multistep runner and components.
//! Knows nothing of Kubernetes; the CLI and the runner pods share it unchanged.

pub mod diag;
pub mod functions;
pub mod hcl;
pub mod value;
pub mod template;
