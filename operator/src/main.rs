//! `kiln`: Packer-style image builds, locally (`kiln build`) and on Kubernetes.

mod cli;
mod contract;
mod controller;
mod runner;
mod signals;

fn main() {
    signals::die_quietly_on_broken_stdio();
    let code = cli::main(std::env::args().collect());
    std::process::exit(code);
}
