//! Answers keyboard-interactive prompts on the terminal, for `ssh_bastion_interactive`.
//!
//! As in Packer (`communicator/ssh.KeyboardInteractive`), the answers are typed on the
//! controlling terminal. Packer prints nothing and only logs the questions; here each prompt
//! is shown on the terminal, and answers the server marks as secret are read with echo off.
//! Without a terminal (a build pod, CI) the method fails, as Packer's does.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, bail};
use nix::sys::termios::{LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};

/// Turns terminal echo off until dropped.
struct EchoOff<'a> {
    tty: &'a File,
    saved: Termios,
}

impl<'a> EchoOff<'a> {
    fn new(tty: &'a File) -> anyhow::Result<EchoOff<'a>> {
        let saved = tcgetattr(tty).context("reading the terminal's settings")?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(tty, SetArg::TCSANOW, &quiet).context("turning terminal echo off")?;
        Ok(EchoOff { tty, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        let _ = tcsetattr(self.tty, SetArg::TCSANOW, &self.saved);
    }
}

const NO_TERMINAL: &str = "ssh_bastion_interactive needs a terminal to answer the bastion's keyboard-interactive prompts (opening /dev/tty)";

fn open_terminal() -> anyhow::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context(NO_TERMINAL)
}

/// Fails at once when there is no terminal, as Packer does when it sets up the bastion.
pub(crate) fn require_terminal() -> anyhow::Result<()> {
    open_terminal().map(drop)
}

/// One round of prompts (`(prompt, echo)`), answered line by line on `/dev/tty`.
pub(crate) fn answer_on_terminal(
    name: &str,
    instructions: &str,
    prompts: &[(String, bool)],
) -> anyhow::Result<Vec<String>> {
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    let tty = open_terminal()?;
    let mut w = &tty;
    for text in [name, instructions] {
        if !text.trim().is_empty() {
            writeln!(w, "{}", text.trim_end())?;
        }
    }
    let mut lines = BufReader::new(&tty);
    let mut answers = Vec::with_capacity(prompts.len());
    for (prompt, echo) in prompts {
        let mut line = String::new();
        let n = {
            // Echo goes off before the prompt shows (as getpass does): an answer typed, or
            // pasted, the moment the prompt appears is never echoed.
            let _quiet = if *echo {
                None
            } else {
                Some(EchoOff::new(&tty)?)
            };
            write!(w, "{prompt}")?;
            w.flush()?;
            lines.read_line(&mut line)?
        };
        if !echo {
            writeln!(w)?;
        }
        if n == 0 {
            bail!("the terminal closed while answering the bastion's prompt {prompt:?}");
        }
        answers.push(line.trim_end_matches(['\r', '\n']).to_string());
    }
    Ok(answers)
}
