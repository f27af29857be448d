//! Steps several builders share (Packer's `multistep/commonsteps`), as plain async functions
//! and structs until the engine's step interface settles.

pub mod cdrom;
pub mod download;
pub mod floppy;
pub mod http_server;
pub mod ports;
