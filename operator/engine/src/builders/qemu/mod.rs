//! Packer's `qemu` builder (packer-plugin-qemu v1.1.7): the builder and its steps
//! ([`builder`]), its configuration ([`config`]), and the pieces they stand on: the boot
//! command language and its VNC typing, the qemu and `qemu-img` command lines, QMP. Steps shared with other builders (HTTP server, CD, ISO download)
//! are in [`crate::steps`].

pub mod args;
pub mod bootcommand;
pub mod builder;
pub mod config;
pub mod driver;
pub mod img;
pub mod qmp;
pub mod vnc;
