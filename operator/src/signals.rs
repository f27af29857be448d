//! Signal handling for every long-running command: the first SIGINT or SIGTERM cancels a
//! token (builds clean up, controllers stop); later signals are ignored while that
//! finishes, as Packer does.

use kiln_engine::ui::Ui;
use tokio_util::sync::CancellationToken;

/// What to tell the user when a signal arrives.
pub enum Announce {
    /// `kiln build`: Packer's command UI says `Cancelling build after receiving …` itself
    /// (plainly, not as a build's line; `Interrupted, not going to start any more builds.`
    /// is only a log line there): the function prints it.
    Build(Box<dyn Fn(&str) + Send + Sync>),
    /// A runner pod: the cancel line only (it runs one build).
    Runner,
}

/// Cancels `cancel` on the first SIGINT/SIGTERM, saying so through `ui`.
pub fn cancel_on_signal(cancel: CancellationToken, ui: Ui, announce: Announce) {
    tokio::spawn(async move {
        let Some(name) = first_signal().await else {
            return;
        };
        match announce {
            Announce::Build(say) => say(&format!("Cancelling build after receiving {name}")),
            Announce::Runner => ui.error(format!("Cancelling build after receiving {name}")),
        }
        cancel.cancel();
        ignore_signals().await;
    });
}

/// Cancels `cancel` on the first SIGINT/SIGTERM with a log line (the operator).
pub fn shutdown_on_signal(cancel: CancellationToken) {
    tokio::spawn(async move {
        if let Some(name) = first_signal().await {
            tracing::info!("signal received ({name}): shutting down");
            cancel.cancel();
        }
    });
}

/// Waits for SIGINT or SIGTERM; `None` when the handlers cannot be installed.
async fn first_signal() -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).ok()?;
    let mut term = signal(SignalKind::terminate()).ok()?;
    Some(tokio::select! {
        _ = int.recv() => "interrupt",
        _ = term.recv() => "terminated",
    })
}

/// Swallows further signals for the rest of the process.
async fn ignore_signals() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    loop {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    }
}

/// Writing to a closed standard output or error (`kiln inspect t.pkr.hcl | head -1`) ends the
/// process the way it ends Packer (a Go program dies of SIGPIPE on such a write to fd 1 or 2)
/// instead of panicking in `println!`. Sockets are unaffected: SIGPIPE stays ignored for
/// them (Rust's default), only this hook raises it, on a broken standard stream.
pub fn die_quietly_on_broken_stdio() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload_as_str().unwrap_or("");
        let stdio = msg.starts_with("failed printing to stdout")
            || msg.starts_with("failed printing to stderr");
        if stdio && msg.contains("Broken pipe") {
            use nix::sys::signal::{SigHandler, Signal, raise, signal};
            // SAFETY: restoring the default disposition of SIGPIPE, then raising it, ends the
            // process; no handler of ours runs.
            unsafe {
                let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
            }
            let _ = raise(Signal::SIGPIPE);
            std::process::exit(141);
        }
        default(info)
    }));
}
