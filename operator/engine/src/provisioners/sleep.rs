//! `sleep`: waits for `duration`; cancellable.

use std::time::Duration;

use async_trait::async_trait;

use crate::components::{ComponentInfo, ProvisionCtx, Provisioner};
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;

pub struct Sleep {
    duration: Duration,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    let duration = r.duration("duration");
    if duration.is_none() && !r.has("duration") {
        r.error(
            "Missing required argument",
            "The argument \"duration\" is required, but no definition was found.",
        );
    }
    Some(Box::new(Sleep {
        duration: duration.unwrap_or_default(),
    }))
}

#[async_trait]
impl Provisioner for Sleep {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        tokio::select! {
            _ = tokio::time::sleep(self.duration) => Ok(()),
            _ = ctx.cancel.cancelled() => Err(ProvisionError::cancelled()),
        }
    }
}
