//! `breakpoint`: pauses the build until Enter is pressed. Without a terminal on stdin (CI, a
//! build pod) it says so and continues, instead of hanging.

use std::io::IsTerminal;

use async_trait::async_trait;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;

pub struct Breakpoint {
    note: String,
    disable: bool,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(Breakpoint {
        note: r.string("note").unwrap_or_default(),
        disable: r.bool("disable").unwrap_or(false),
    }))
}

#[async_trait]
impl Provisioner for Breakpoint {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        if self.disable {
            // Packer's words.
            if self.note.is_empty() {
                ctx.ui.say("Breakpoint provisioner disabled; continuing...");
            } else {
                ctx.ui.say(format!(
                    "Breakpoint provisioner with note \"{}\" disabled; continuing...",
                    self.note
                ));
            }
            return Ok(());
        }
        let note = if self.note.is_empty() {
            String::new()
        } else {
            format!(" with note \"{}\"", self.note)
        };
        if !std::io::stdin().is_terminal() || std::env::var_os("KILN_NONINTERACTIVE").is_some() {
            ctx.ui.say(format!(
                "Breakpoint reached{note}; not waiting because stdin is not a terminal"
            ));
            return Ok(());
        }
        ctx.ui.say(format!(
            "Pausing at breakpoint provisioner{note}. Press enter to continue."
        ));
        let wait = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| ())
        });
        tokio::select! {
            r = wait => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(ProvisionError::Terminal { message: e.to_string() }),
                Err(e) => Err(ProvisionError::Terminal { message: e.to_string() }),
            },
            _ = ctx.cancel.cancelled() => Err(ProvisionError::cancelled()),
        }
    }
}
