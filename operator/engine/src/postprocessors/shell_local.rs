//! `shell-local` post-processor: runs local commands; returns its input artifact.

use async_trait::async_trait;

use crate::artifact::Artifact;
use crate::components::{ComponentInfo, PostProcessCtx, PostProcessed, PostProcessor};
use crate::postprocessors::PostProcessError;
use crate::provisioners::shell_local::ShellLocalConfig;
use crate::template::ConfigReader;

pub struct ShellLocalPp {
    config: ShellLocalConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn PostProcessor>> {
    let mut config = ShellLocalConfig::read(r);
    // Packer's post-processor (not the provisioner) keeps its old single-string
    // `execute_command`: one element is run by `sh -c`.
    if config.execute_command.len() == 1 {
        config
            .execute_command
            .splice(0..0, ["sh".to_string(), "-c".to_string()]);
    }
    Some(Box::new(ShellLocalPp { config }))
}

#[async_trait]
impl PostProcessor for ShellLocalPp {
    async fn post_process(
        &self,
        ctx: &PostProcessCtx<'_>,
        input: &Artifact,
    ) -> Result<PostProcessed, PostProcessError> {
        // The SDK's shell-local gets the artifact's generated data alone (Packer's
        // PostProcess reads `generated_data`): no HTTP keys from the build, a key it lacks
        // renders as "<no value>".
        let generated = crate::plan::artifact_state_generated(input);
        self.config
            .run(ctx.ui, ctx.info, &generated, ctx.cancel)
            .await?;
        // Kept whatever the template says, as Packer does (use `artifice` to replace it).
        Ok(PostProcessed {
            artifact: input.clone(),
            keep: true,
            force_keep: true,
        })
    }
}
