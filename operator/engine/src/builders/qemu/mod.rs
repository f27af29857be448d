//! The pieces of Packer's `qemu` builder (packer-plugin-qemu v1.1.7) that stand on their own,
//! ahead of the builder itself: the boot command language and its VNC typing, the qemu and
//! `qemu-img` command lines. Steps shared with other builders (HTTP server, CD, ISO download)
//! are in [`crate::steps`].

pub mod args;
pub mod bootcommand;
pub mod driver;
pub mod img;
pub mod qmp;
pub mod vnc;
