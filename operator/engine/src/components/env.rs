//! The run environment every component is handed (through [`ComponentInfo`]): where it may
//! write, where channel data comes from, whether a person is at a terminal. Nothing in the
//! engine reads process globals for these; each caller (CLI, runner pod, template
//! controller) builds one `RunEnv` and passes it through the engine door.
//!
//! [`ComponentInfo`]: super::ComponentInfo

use std::path::PathBuf;

/// Where the run happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEnv {
    /// Scratch space for temporary files (scripts, unpacked images, disks being built).
    pub work_dir: PathBuf,
    /// The ImageChannel objects `kiln-channel` data sources read (a file of `kubectl get -o
    /// json` output). `None`: the `KILN_CHANNELS` environment variable names it, locally.
    pub channels_file: Option<PathBuf>,
    /// A person can answer prompts on a terminal (`breakpoint`, `ssh_bastion_interactive`).
    pub interactive: bool,
    /// The run happens in a build pod created by the operator (no terminal, no host paths).
    pub in_cluster: bool,
    /// The run's own root filesystem is its `docker` source's base image (the kaniko
    /// pattern: the operator created the runner pod from that image with Kiln injected, see
    /// `Requirements::image`): the docker builder provisions this directory in place (`/` in
    /// a pod) with no container runtime, and commits what changed in it. `None`: the builder
    /// unpacks the image into the scratch directory and runs commands with runc/crun.
    pub image_root: Option<PathBuf>,
    /// Docker config files (`config.json`, or the `.dockerconfigjson` key of a
    /// `kubernetes.io/dockerconfigjson` Secret) whose registry credentials the docker builder
    /// and post-processors use, before `~/.docker/config.json` (`$DOCKER_CONFIG`).
    pub docker_configs: Vec<PathBuf>,
}

impl Default for RunEnv {
    fn default() -> RunEnv {
        RunEnv {
            work_dir: std::env::temp_dir(),
            channels_file: None,
            interactive: false,
            in_cluster: false,
            image_root: None,
            docker_configs: Vec::new(),
        }
    }
}

impl RunEnv {
    /// The environment of a local CLI run: the system temp dir; interactive when stdin is a
    /// terminal.
    pub fn local() -> RunEnv {
        use std::io::IsTerminal;
        RunEnv {
            interactive: std::io::stdin().is_terminal(),
            ..RunEnv::default()
        }
    }

    /// The channels file: the one this run was given, else `KILN_CHANNELS`.
    pub fn channels(&self) -> Option<PathBuf> {
        self.channels_file.clone().or_else(|| {
            std::env::var_os(crate::datasources::kiln_channel::ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }
}
