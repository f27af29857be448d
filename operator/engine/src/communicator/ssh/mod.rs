//! The SSH communicator, on russh: Packer's `ssh_*` options ([`SshConfig`]), connection with
//! retries, bastion and SOCKS5 hops, tunnels, host-key pinning, command execution, and file
//! transfers over `scp` (default) or `sftp`.

mod client;
pub mod config;
pub mod keys;
mod prompt;
mod scp;
mod sftp;
mod tunnel;

pub use client::SshClient;
pub use config::{BastionConfig, ProxyConfig, SshConfig, TransferMethod, Tunnel, decode_hcl};
