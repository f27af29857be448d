//! `breakpoint`: pauses the build until Enter is pressed on the controlling terminal; without
//! one (CI, a build pod) the build fails, as Packer's (`Error asking for input: no available
//! tty`).

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
        // (Packer's breakpoint never renders its note with the build's data: a legacy
        // template's `{{ build `ID` }}` stays the SDK's `{{.ID}}` placeholder.)
        note: r.string_prepared("note").unwrap_or_default(),
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
        ctx.ui
            .say(format!("Pausing at breakpoint provisioner{note}."));
        // Packer asks on the controlling terminal; without one (CI, a build pod) the ask
        // fails and so does the build, as Packer's.
        let ui = ctx.ui.clone();
        let wait = tokio::task::spawn_blocking(move || ui.ask("Press enter to continue."));
        tokio::select! {
            r = wait => match r {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(ProvisionError::Terminal {
                    message: format!("Error asking for input: {e}"),
                }),
                Err(e) => Err(ProvisionError::Terminal { message: e.to_string() }),
            },
            _ = ctx.cancel.cancelled() => Err(ProvisionError::cancelled()),
        }
    }
}
