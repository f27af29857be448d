//! Data sources, one file each.

pub mod hcp_packer;
pub mod http;
pub mod kiln_channel;
pub mod null;

/// Why a data source failed, named as Packer names it.
#[derive(Debug, thiserror::Error)]
pub enum DataSourceError {
    /// The request could not be made or sent: Go's `net/http` error text (`Get "URL":
    /// dial tcp 127.0.0.1:1: connect: connection refused`).
    #[error("{0}")]
    Request(String),
    /// The server answered with a status outside 2xx.
    #[error("HTTP request error. Response code: {status}")]
    Status { status: u16 },
    /// Reading what a data source reads (a channels file) failed or it is malformed.
    #[error("{0}")]
    Input(String),
    /// The resource it looks up is missing, not ready or revoked.
    #[error("{0}")]
    Lookup(String),
}
