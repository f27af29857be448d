//! `kiln`: Packer-style image builds, locally (`kiln build`) and on Kubernetes.

mod cli;
mod controller;
mod runner;

fn main() {
    let code = cli::main(std::env::args().collect());
    std::process::exit(code);
}
