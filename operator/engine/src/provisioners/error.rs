//! Why a provisioner failed: one variant per failure site, each saying it as Packer does
//! (the runner shows them as they are, in `Provisioner ... failed: <error>` and the build's
//! error).

/// A provisioner's error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProvisionError {
    /// A script ended with an exit code outside `valid_exit_codes` (the SDK's
    /// `ErrorInvalidExitCode`).
    #[error(
        "Script exited with non-zero exit status: {code}. Allowed exit codes are: {}",
        go_ints(allowed)
    )]
    ExitCode { code: i64, allowed: Vec<i64> },
    /// A remote script was killed by a signal not allowed by `valid_exit_codes`.
    #[error(
        "Script was killed by signal {signal} (exit status {code}). Allowed exit codes are: {}",
        go_ints(allowed)
    )]
    Signal {
        signal: String,
        code: i64,
        allowed: Vec<i64>,
    },
    /// The connection dropped while a script ran, and that was not expected.
    #[error(
        "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding `expect_disconnect = true` or `valid_exit_codes = [0, {code}]` to the shell provisioner parameters."
    )]
    Disconnected { code: i64 },
    /// Uploading failed; `what` names the file (`script`, `envVarFile`, a source path,
    /// `content to <destination>`).
    #[error("Error uploading {what}: {message}")]
    Upload { what: String, message: String },
    /// Downloading `file` failed.
    #[error("Error downloading {file}: {message}")]
    Download { file: String, message: String },
    /// A script file could not be read.
    #[error("Error opening shell script: {path}: {message}")]
    ScriptNotFound { path: String, message: String },
    /// The temporary script of inline commands could not be written.
    #[error("Error preparing shell script: {message}")]
    Prepare { message: String },
    /// A local file operation failed (`context` says which: `Error reading source x`).
    #[error("{context}: {message}")]
    LocalFile { context: String, message: String },
    /// A command the provisioner runs itself through the communicator failed (`context`
    /// says which: the chmod of the script, the removal of a temporary file).
    #[error("{context}: {message}")]
    Communicator { context: String, message: String },
    /// The communicator could not run the script (its own message, as Packer shows it).
    #[error("{message}")]
    Command { message: String },
    /// A local script was stopped before it ended (the build cancelled, the provisioner's
    /// `timeout`): the SDK's shell-local words for `RunWithUi`'s error.
    #[error("Error executing script: {script}\n\nPlease see output above for more information.")]
    Script { script: String },
    /// A local command could not be started.
    #[error("Error executing command {program:?}: {message}")]
    Start { program: String, message: String },
    /// `execute_command` is an empty list.
    #[error("execute_command is empty")]
    EmptyCommand,
    /// The build was cancelled while the provisioner worked (`during`: what it was doing,
    /// when not its main work).
    #[error("Interrupted{}", during.as_ref().map(|d| format!(" during {d}")).unwrap_or_default())]
    Cancelled { during: Option<String> },
    /// A provisioner of Packer's that Kiln validates but cannot run (`powershell`,
    /// `windows-shell`, `windows-restart`: they work on Windows guests over WinRM): it fails
    /// before doing anything, saying why.
    #[error("Kiln cannot run the {provisioner} provisioner: {reason}")]
    Unsupported {
        provisioner: &'static str,
        reason: &'static str,
    },
    /// Asking on the terminal failed (`breakpoint`): `message` is the whole text
    /// (`Error asking for input: no available tty`).
    #[error("{message}")]
    Terminal { message: String },
}

impl ProvisionError {
    /// Cancelled while doing the provisioner's main work.
    pub fn cancelled() -> ProvisionError {
        ProvisionError::Cancelled { during: None }
    }

    /// What a provisioner for Windows guests (`powershell`, `windows-shell`,
    /// `windows-restart`) says when a build runs it: Kiln validates it as Packer does, but
    /// has no WinRM communicator to run it with.
    pub fn windows_only(provisioner: &'static str) -> ProvisionError {
        ProvisionError::Unsupported {
            provisioner,
            reason: "it works on Windows guests over WinRM, and Kiln has no WinRM communicator",
        }
    }

    /// A communicator error under `context`.
    pub fn comm(context: impl Into<String>, e: impl std::fmt::Display) -> ProvisionError {
        ProvisionError::Communicator {
            context: context.into(),
            message: e.to_string(),
        }
    }

    /// A local file error under `context`.
    pub fn local(context: impl Into<String>, e: impl std::fmt::Display) -> ProvisionError {
        ProvisionError::LocalFile {
            context: context.into(),
            message: e.to_string(),
        }
    }
}

/// Go's `%v` of an `[]int`: `[0 1]`.
fn go_ints(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(" "))
}
