//! The `qemu` builder: packer-plugin-qemu v1.1.7's `Builder.Run` step list (`builder.go`),
//! on the pieces of this module and the shared steps of [`crate::steps`]:
//!
//! download the ISO (or the `disk_image` source) → prepare the output directory → the
//! `floppy_files` floppy → `cd_files` ISO → create / copy / resize the disks → HTTP server →
//! the communicator's host port → VNC port and password → EFI variables → run qemu → QMP →
//! type the boot command → connect → provision → shut down → compact (`qemu-img convert`).
//!
//! qemu is a child process killed by PID when its step is cleaned up (failure, cancellation)
//! and when Kiln itself dies (`PR_SET_PDEATHSIG`). A guest that never answers SSH ends at
//! `ssh_timeout` with the host, port, user and accelerator named.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::artifact::{Artifact, ArtifactError, Destroy};
use crate::builders::common::{StepConnect, StepProvision};
use crate::communicator::UiOutput;
use crate::communicator::config::CommConfig;
use crate::components::{
    BuildError, BuildState, Builder, ComponentInfo, Grant, Requirements, Step, StepAction, StepKind,
};
use crate::steps::cdrom::{CdImage, create_cd};
use crate::steps::download::download_iso;
use crate::steps::floppy::{FloppyImage, create_floppy};
use crate::steps::http_server::{HttpServer, http_generated_data, qemu_user_net_http_ip};
use crate::steps::ports::free_port_in_range;
use crate::template::ConfigReader;
use crate::value::Value;

use super::args::{QemuRunState, qemu_args, vnc_connection_message};
use super::bootcommand::BootTemplateData;
use super::config::{QemuConfig, decode};
use super::driver::{at_least_version_2, convert_disk, qemu_version, run_qemu_img};
use super::img::CopyAction;

/// Packer's builder id for qemu artifacts.
pub const BUILDER_ID: &str = "transcend.qemu";

pub struct QemuBuilder {
    config: Arc<QemuConfig>,
}

/// The registry's constructor.
pub fn new(r: &mut ConfigReader, info: &ComponentInfo) -> Option<Box<dyn Builder>> {
    let config = decode(r, info)?;
    Some(Box::new(QemuBuilder {
        config: Arc::new(config),
    }))
}

/// What the steps learn at run time (the plugin's state bag keys).
#[derive(Default)]
struct QemuState {
    run: QemuRunState,
    vnc_password: Option<String>,
    vm: Option<Arc<Vm>>,
    /// swtpm (`vtpm`) and its state directory.
    swtpm: Option<(tokio::process::Child, PathBuf)>,
}

fn qstate(state: &mut BuildState) -> &mut QemuState {
    state.private.get_or_default::<QemuState>()
}

impl Builder for QemuBuilder {
    fn steps(&self) -> Vec<Box<dyn Step>> {
        let c = &self.config;
        vec![
            Box::new(StepNewDriver(c.clone())),
            Box::new(StepDownload(c.clone())),
            Box::new(StepPrepareOutputDir {
                config: c.clone(),
                created: false,
            }),
            Box::new(StepCreateVtpm(c.clone())),
            Box::new(StepCreateFloppy {
                config: c.clone(),
                image: None,
            }),
            Box::new(StepCreateCd {
                config: c.clone(),
                image: None,
            }),
            Box::new(StepCreateDisk(c.clone())),
            Box::new(StepCopyDisk(c.clone())),
            Box::new(StepResizeDisk(c.clone())),
            Box::new(StepHttpServer {
                config: c.clone(),
                server: None,
            }),
            Box::new(StepPortForward(c.clone())),
            Box::new(StepSshKeyGen(c.clone())),
            Box::new(StepConfigureVnc(c.clone())),
            Box::new(StepPrepareEfivars(c.clone())),
            Box::new(StepRun(c.clone())),
            Box::new(StepConfigureQmp(c.clone())),
            Box::new(StepTypeBootCommand(c.clone())),
            Box::new(StepWaitConnect {
                config: c.clone(),
                inner: StepConnect {
                    config: c.comm.clone(),
                },
            }),
            Box::new(StepProvision),
            Box::new(StepShutdown(c.clone())),
            Box::new(StepConvertDisk(c.clone())),
        ]
    }

    fn artifact(&self, state: &BuildState) -> Option<Artifact> {
        let c = &self.config;
        let dir = c.output_dir();
        let mut files = Vec::new();
        walk_files(&dir, &mut files);
        if c.efi_drop_efivars {
            files.retain(|f| f.file_name().is_none_or(|n| n != "efivars.fd"));
        }
        files.sort();
        let mut st = std::collections::BTreeMap::new();
        // The plugin's artifact carries the state's generated data, which the provision
        // step had filled with the hook data (communicator keys, ID, run UUID).
        let generated: serde_json::Map<String, serde_json::Value> =
            crate::plan::runtime_generated(&state.generated, &state.info.run_uuid)
                .iter()
                .map(|(k, v)| (k.clone(), value_json(v)))
                .collect();
        st.insert(
            "generated_data".into(),
            serde_json::Value::Object(generated),
        );
        st.insert("diskName".into(), c.args.vm_name.clone().into());
        st.insert(
            "diskPaths".into(),
            serde_json::Value::from(c.disk.disk_paths()),
        );
        st.insert("diskType".into(), c.args.format.clone().into());
        st.insert("diskSize".into(), c.disk.disk_size.clone().into());
        st.insert("domainType".into(), c.args.accelerator.clone().into());
        if let Some(u) = c.iso.urls.first() {
            st.insert("sourceImage".into(), u.clone().into());
        }
        // The base disk's (or ISO's) checksum, `type:hex`: what Kiln records as the
        // build's input, to find the build that made it (ancestry).
        if c.iso.checksum != crate::steps::download::Checksum::None {
            st.insert(
                "sourceImageChecksum".into(),
                c.iso.checksum.to_string().into(),
            );
        }
        Some(Artifact {
            builder_id: BUILDER_ID.into(),
            id: "VM".into(),
            files,
            description: format!("VM files in directory: {}", c.args.output_dir),
            state: st,
            destroyer: Some(Arc::new(RemoveDir(dir))),
        })
    }

    fn requirements(&self) -> Requirements {
        let mut r = Requirements::default();
        if self.config.args.accelerator == "kvm" {
            let why = if self.config.accelerator_detected {
                "accelerator unset: /dev/kvm opened where the template was validated, so qemu runs with accel=kvm (set accelerator = \"tcg\" to run without it)"
            } else {
                "accelerator = \"kvm\" runs qemu with the KVM device"
            };
            r.devices.push(Grant::new("/dev/kvm", why));
        }
        r.tools.push(Grant::new(
            "qemu",
            format!("runs {} and qemu-img", self.config.qemu_binary),
        ));
        r.scratch_bytes = scratch(&self.config);
        r
    }
}

/// The scratch space a build writes where the runner pod keeps its work (the `/work`
/// emptyDir): every disk at its full size (`disk_size`, `disk_additional_size`), twice when
/// compaction writes a converted copy beside the original, and a local `iso_url` file's size
/// (a remote ISO is downloaded into the cache; its size is known only then, so it is not
/// counted, and the reason says so).
fn scratch(c: &QemuConfig) -> Option<Grant> {
    let disks: u64 = std::iter::once(&c.disk.disk_size)
        .chain(c.disk.additional_sizes.iter())
        .filter_map(|s| size_bytes(s))
        .sum();
    let (skip_compaction, _) = c.disk.effective_compaction();
    let mut bytes = if skip_compaction { disks } else { 2 * disks };
    let mut why = format!(
        "the disks ({} B{})",
        disks,
        if skip_compaction {
            ""
        } else {
            ", twice: compaction writes a converted copy"
        }
    );
    let local_iso = c
        .iso
        .urls
        .first()
        .filter(|u| !u.contains("://") || u.starts_with("file://"))
        .and_then(|u| std::fs::metadata(u.trim_start_matches("file://")).ok());
    match local_iso {
        Some(m) if m.is_file() => {
            bytes += m.len();
            why.push_str(&format!(" and the ISO ({} B)", m.len()));
        }
        _ if c.iso.urls.iter().any(|u| u.contains("://")) => {
            why.push_str("; the downloaded ISO is not counted (its size is unknown until then)");
        }
        _ => {}
    }
    (bytes > 0).then(|| Grant::new(bytes.to_string(), why))
}

/// A qemu-img size (`256M`, `10G`, `4096b`, digits only = bytes) in bytes.
fn size_bytes(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let digits = lower.trim_end_matches(['b', 'k', 'm', 'g', 't']);
    let n: u64 = digits.parse().ok()?;
    let unit: u64 = match &lower[digits.len()..] {
        "" | "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(unit)
}

fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Unknown => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => serde_json::Number::from_f64(n.to_f64())
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => s.clone().into(),
        Value::List(l) => l.iter().map(value_json).collect(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

/// Every file under `dir` (`filepath.Walk` keeping non-directories).
fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk_files(&p, out),
            Ok(_) => out.push(p),
            Err(_) => {}
        }
    }
}

/// The artifact's `Destroy`: the whole output directory (`os.RemoveAll(a.dir)`).
#[derive(Debug)]
struct RemoveDir(PathBuf);

#[async_trait]
impl Destroy for RemoveDir {
    async fn destroy(&self, _artifact: &Artifact) -> Result<(), ArtifactError> {
        crate::artifact::remove_files(std::slice::from_ref(&self.0)).await
    }
}

/// The child is killed (SIGKILL) by the kernel if Kiln itself dies (`PR_SET_PDEATHSIG`).
fn die_with_parent(cmd: &mut tokio::process::Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
}

// ------------------------------------------------------------------------------------------
// The VM process.

/// A running qemu: a task owns the child and reaps it; killing goes through that task (so a
/// reused PID is never signalled).
pub struct Vm {
    pub pid: u32,
    kill: CancellationToken,
    exit: watch::Receiver<Option<std::process::ExitStatus>>,
    output: Arc<Mutex<String>>,
}

impl Vm {
    fn spawn(binary: &str, argv: &[String]) -> anyhow::Result<Vm> {
        let mut cmd = tokio::process::Command::new(binary);
        cmd.args(argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            anyhow::anyhow!("Error starting VM: {binary}: {e} (is qemu-system-x86 installed?)")
        })?;
        let pid = child.id().unwrap_or_default();
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let out = output.clone();
            tokio::spawn(async move {
                let mut pipe = pipe;
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let mut o = out.lock().unwrap();
                    o.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if o.len() > 16384 {
                        let cut = o.len() - 8192;
                        let cut = (cut..o.len()).find(|i| o.is_char_boundary(*i)).unwrap_or(0);
                        o.drain(..cut);
                    }
                }
            });
        }
        let (tx, rx) = watch::channel(None);
        let kill = CancellationToken::new();
        let kill2 = kill.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                s = child.wait() => s,
                _ = kill2.cancelled() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let _ = tx.send(Some(status.unwrap_or_else(|_| {
                std::os::unix::process::ExitStatusExt::from_raw(255 << 8)
            })));
        });
        Ok(Vm {
            pid,
            kill,
            exit: rx,
            output,
        })
    }

    /// The exit status once qemu has exited.
    pub fn exited(&self) -> Option<std::process::ExitStatus> {
        *self.exit.borrow()
    }

    /// Waits for qemu to exit, at most `limit`.
    async fn wait(&self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut rx = self.exit.clone();
        let r = tokio::time::timeout(limit, rx.wait_for(|s| s.is_some())).await;
        match r {
            Ok(Ok(s)) => *s,
            _ => None,
        }
    }

    /// Sends qemu SIGKILL (through its reaper task), without waiting for it to go.
    fn signal_kill(&self) {
        self.kill.cancel();
    }

    /// Kills qemu (SIGKILL) and waits until it is reaped.
    async fn kill(&self) {
        if self.exited().is_some() {
            return;
        }
        self.kill.cancel();
        let _ = self.wait(Duration::from_secs(30)).await;
    }

    /// qemu's output so far (the last few KiB), for error messages.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().trim().to_string()
    }

    fn died_message(&self, status: std::process::ExitStatus) -> String {
        let out = self.output();
        if out.is_empty() {
            format!("qemu exited ({status})")
        } else {
            format!("qemu exited ({status}): {out}")
        }
    }
}

// ------------------------------------------------------------------------------------------
// Steps, in the plugin's order.

/// The builder's `newDriver`, before its steps: `qemu_binary` and `qemu-img` looked up as
/// Go's `exec.LookPath` does; a failure ends the build with `Failed creating Qemu driver: …`
/// and nothing said before it.
struct StepNewDriver(Arc<QemuConfig>);

#[async_trait]
impl Step for StepNewDriver {
    fn name(&self) -> &str {
        "newDriver"
    }

    fn kind(&self) -> StepKind {
        StepKind::Internal
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        for bin in [self.0.qemu_binary.as_str(), "qemu-img"] {
            if let Err(e) = crate::goerr::look_path(bin) {
                return state.fail_unsaid(format!("Failed creating Qemu driver: {e}"));
            }
        }
        StepAction::Continue
    }
}

/// `commonsteps.StepDownload`: the ISO (or the disk image's source) → `iso_path`.
struct StepDownload(Arc<QemuConfig>);

#[async_trait]
impl Step for StepDownload {
    fn name(&self) -> &str {
        "StepDownload"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        if c.iso_skip_cache {
            // (the plugin's `stepSetISO`, silent)
            return match crate::steps::download::byte_serving_url(&c.iso.urls).await {
                Ok(url) => {
                    qstate(state).run.iso_path = Some(url);
                    StepAction::Continue
                }
                Err(e) => state.fail(format!("{e:#}")),
            };
        }
        // (the plugin's StepDownload says ISO for a disk image too)
        state.ui.say("Retrieving ISO");
        match download_iso(&c.iso, &c.cache_dir, &state.cancel, &state.ui).await {
            Ok(p) => {
                let p = std::path::absolute(&p).unwrap_or(p);
                qstate(state).run.iso_path = Some(p.display().to_string());
                StepAction::Continue
            }
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            Err(e) => state.fail(format!("{e:#}")),
        }
    }
}

/// `stepPrepareOutputDir`: with `-force` an existing directory is deleted; on failure or
/// cancellation the directory is removed (the runner skips this with `-on-error=abort`).
struct StepPrepareOutputDir {
    config: Arc<QemuConfig>,
    created: bool,
}

#[async_trait]
impl Step for StepPrepareOutputDir {
    fn name(&self) -> &str {
        "stepPrepareOutputDir"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let dir = self.config.output_dir();
        if std::fs::symlink_metadata(&dir).is_ok() {
            if !self.config.force {
                return state.fail(format!(
                    "Output directory '{}' already exists. It must not exist (or run with -force to delete it).",
                    dir.display()
                ));
            }
            state.ui.say("Deleting previous output directory...");
            if let Err(e) = crate::artifact::remove_files(std::slice::from_ref(&dir)).await {
                return state.fail(format!("{e}"));
            }
        }
        // From here on a failure removes the directory, as the plugin's cleanup does (the
        // failed step's own cleanup runs too).
        self.created = true;
        // The plugin's `os.MkdirAll(dir, 0755)`, its error recorded but not said.
        if let Err(e) = crate::goerr::mkdir_all(&dir, 0o755) {
            return state.fail_unsaid(e);
        }
        StepAction::Continue
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        if !self.created || (state.error.is_none() && !state.cancel.is_cancelled()) {
            return;
        }
        state.ui.say("Deleting output directory...");
        let dir = self.config.output_dir();
        for _ in 0..5 {
            match crate::artifact::remove_files(std::slice::from_ref(&dir)).await {
                Ok(()) => break,
                Err(e) => {
                    // (The plugin only logs it, and tries again after 2 s, 5 times.)
                    state.ui.log(format!("Error removing output dir: {e}"));
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }
}

/// `stepCreatevTPM`: with `vtpm`, swtpm serving a TPM 2.0 (1.2 with `use_tpm1`) on a control
/// socket in a new temporary directory, which qemu's `-chardev socket,id=vtpm` opens; killed
/// and its directory removed at cleanup.
struct StepCreateVtpm(Arc<QemuConfig>);

#[async_trait]
impl Step for StepCreateVtpm {
    fn name(&self) -> &str {
        "stepCreatevTPM"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        if self.0.args.vtpm.is_none() {
            return StepAction::Continue;
        }
        let swtpm = match crate::goerr::look_path("swtpm") {
            Ok(p) => p,
            Err(e) => {
                return state.halt(format!(
                    "failed to locate swtpm ({e}), this is required for vTPM support"
                ));
            }
        };
        // Go's `os.MkdirTemp("", "")`
        let dir = match crate::goerr::mkdir_temp(&std::env::temp_dir(), "") {
            Ok(d) => d,
            Err(e) => {
                let e = crate::goerr::path_error("mkdirtemp", &std::env::temp_dir().join("*"), &e);
                return state.halt(format!("failed to create vtpm state directory: {e}"));
            }
        };
        let sock = dir.join("vtpm.sock");
        let mut cmd = tokio::process::Command::new(&swtpm);
        cmd.arg("socket")
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", sock.display()));
        if !self.0.vtpm_tpm1 {
            cmd.arg("--tpm2");
        }
        // (the plugin's swtpm writes to the plugin's own output, which Packer only logs)
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        state.ui.log(format!(
            "Executing swtpm: socket --tpmstate dir={} --ctrl type=unixio,path={}{}",
            dir.display(),
            sock.display(),
            if self.0.vtpm_tpm1 { "" } else { " --tpm2" }
        ));
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                let e = crate::goerr::path_error("fork/exec", &swtpm, &e);
                return state.halt(format!("failed to start swtpm: {e}"));
            }
        };
        // qemu opens the socket: wait for swtpm to make it (the plugin leaves that to the
        // steps in between), unless swtpm ends first (qemu then fails to start, as with
        // Packer)
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !sock.exists()
            && tokio::time::Instant::now() < deadline
            && matches!(child.try_wait(), Ok(None))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let q = qstate(state);
        q.run.vtpm_socket = Some(sock.display().to_string());
        q.swtpm = Some((child, dir));
        StepAction::Continue
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        let Some((mut child, dir)) = qstate(state).swtpm.take() else {
            return;
        };
        let _ = child.kill().await;
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    }
}

/// `commonsteps.StepCreateFloppy`: `floppy_files` / `floppy_dirs` / `floppy_content` →
/// `floppy_path` (qemu's `-fda`), removed at cleanup. The step says what the SDK's says.
struct StepCreateFloppy {
    config: Arc<QemuConfig>,
    image: Option<FloppyImage>,
}

#[async_trait]
impl Step for StepCreateFloppy {
    fn name(&self) -> &str {
        "StepCreateFloppy"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let cfg = &self.config.floppy;
        if !cfg.enabled() {
            return StepAction::Continue;
        }
        match create_floppy(cfg, &self.config.tmp_dir, &state.ui, &state.cancel).await {
            Ok(img) => {
                qstate(state).run.floppy_path = Some(img.path.display().to_string());
                self.image = Some(img);
                StepAction::Continue
            }
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            // (the SDK's StepCreateFloppy records its error without saying it)
            Err(e) => state.fail_unsaid(format!("{e:#}")),
        }
    }

    async fn cleanup(&mut self, _state: &mut BuildState) {
        // Dropping the image removes the file.
        self.image = None;
    }
}

/// `commonsteps.StepCreateCD`: `cd_files` / `cd_content` → `cd_path`, removed at cleanup.
struct StepCreateCd {
    config: Arc<QemuConfig>,
    image: Option<CdImage>,
}

#[async_trait]
impl Step for StepCreateCd {
    fn name(&self) -> &str {
        "StepCreateCD"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        if !self.config.cd.enabled() {
            return StepAction::Continue;
        }
        state.ui.say("Creating CD disk...");
        match create_cd(
            &self.config.cd,
            &self.config.tmp_dir,
            &state.cancel,
            &state.ui,
        )
        .await
        {
            Ok(Some(img)) => {
                state.ui.message("Done copying paths from CD_dirs");
                qstate(state).run.cd_path = Some(img.path.display().to_string());
                self.image = Some(img);
                StepAction::Continue
            }
            Ok(None) => StepAction::Continue,
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            // (the SDK's StepCreateCD records its error without saying it)
            Err(e) => state.fail_unsaid(format!("{e:#}")),
        }
    }

    async fn cleanup(&mut self, _state: &mut BuildState) {
        // Dropping the image removes the ISO.
        self.image = None;
    }
}

fn qemu_img() -> PathBuf {
    PathBuf::from("qemu-img")
}

/// `stepCreateDisk`: `qemu-img create` for each disk (an overlay with `use_backing_file`).
struct StepCreateDisk(Arc<QemuConfig>);

#[async_trait]
impl Step for StepCreateDisk {
    fn name(&self) -> &str {
        "stepCreateDisk"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let d = &self.0.disk;
        if !d.additional_sizes.is_empty() || d.use_backing_file {
            state.ui.say("Creating required virtual machine disks");
        }
        let source = qstate(state).run.iso_path.clone().unwrap_or_default();
        for argv in d.create_commands(&source) {
            if let Err(e) = run_qemu_img(&qemu_img(), &argv, &state.cancel, &state.ui).await {
                if state.cancel.is_cancelled() {
                    return StepAction::Halt;
                }
                return state.fail(format!("Error creating hard drive: {e:#}"));
            }
        }
        qstate(state).run.disk_paths = d.disk_paths();
        StepAction::Continue
    }
}

/// `stepCopyDisk`: the `disk_image` source copied (or converted) to the output directory.
struct StepCopyDisk(Arc<QemuConfig>);

#[async_trait]
impl Step for StepCopyDisk {
    fn name(&self) -> &str {
        "stepCopyDisk"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let source = qstate(state).run.iso_path.clone().unwrap_or_default();
        match self.0.disk.copy_action(&source) {
            CopyAction::None => StepAction::Continue,
            CopyAction::Copy { from, to } => {
                state.ui.message(
                    "File extension already matches desired output format. Skipping qemu-img convert step",
                );
                match tokio::fs::copy(&from, &to).await {
                    Ok(_) => StepAction::Continue,
                    Err(e) => state.fail(format!("Error copying {from} to {to}: {e}")),
                }
            }
            CopyAction::Convert(argv) => {
                state.ui.say("Copying hard drive...");
                match run_qemu_img(&qemu_img(), &argv, &state.cancel, &state.ui).await {
                    Ok(()) => StepAction::Continue,
                    Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
                    Err(e) => state.fail(format!("Error creating hard drive: {e:#}")),
                }
            }
        }
    }
}

/// `stepResizeDisk`: `qemu-img resize` of a `disk_image` to `disk_size`.
struct StepResizeDisk(Arc<QemuConfig>);

#[async_trait]
impl Step for StepResizeDisk {
    fn name(&self) -> &str {
        "stepResizeDisk"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let Some(argv) = self.0.disk.resize_command() else {
            return StepAction::Continue;
        };
        state.ui.say("Resizing hard drive...");
        match run_qemu_img(&qemu_img(), &argv, &state.cancel, &state.ui).await {
            Ok(()) => StepAction::Continue,
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            Err(e) => state.fail(format!("Error creating hard drive: {e:#}")),
        }
    }
}

/// `stepHTTPIPDiscover` + `commonsteps.StepHTTPServer`: `http_ip`, `http_port`, and the
/// `build.PackerHTTP*` values provisioners see.
struct StepHttpServer {
    config: Arc<QemuConfig>,
    server: Option<HttpServer>,
}

#[async_trait]
impl Step for StepHttpServer {
    fn name(&self) -> &str {
        "StepHTTPServer"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        // stepHTTPIPDiscover: a wildcard bind address with `net_bridge` is the bridge's
        // first IPv4 address
        let bind = &self.config.http.bind_address;
        let ip = match &self.config.args.net_bridge {
            Some(br) if bind.is_empty() || bind == "0.0.0.0" || bind == "::" => {
                match bridge_ipv4(br) {
                    Ok(ip) => ip,
                    Err(e) => return state.halt(e),
                }
            }
            _ => qemu_user_net_http_ip(bind),
        };
        let mut port = 0;
        if self.config.http.enabled() {
            match HttpServer::start(&self.config.http).await {
                Ok(Some(s)) => {
                    port = s.port;
                    // The SDK's StepHTTPServer; where the guest reaches it, logged.
                    state.ui.say(format!("Starting HTTP server on port {port}"));
                    state.ui.log(format!(
                        "HTTP server on {}:{port} (the guest reaches it at {ip}:{port})",
                        s.bind_address
                    ));
                    self.server = Some(s);
                }
                Ok(None) => {}
                Err(e) => return state.fail(format!("{e:#}")),
            }
        }
        for (k, v) in http_generated_data(Some(&ip), Some(port)) {
            state.generated.insert(k, Value::str(v));
        }
        let q = qstate(state);
        q.run.http_ip = ip;
        q.run.http_port = port;
        StepAction::Continue
    }

    async fn cleanup(&mut self, _state: &mut BuildState) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// The first IPv4 address of the host interface `bridge` (Go's `net.InterfaceByName` then
/// `Addrs`), or the plugin's error.
fn bridge_ipv4(bridge: &str) -> Result<String, String> {
    let addrs: Vec<_> = match nix::ifaddrs::getifaddrs() {
        Ok(a) => a.filter(|a| a.interface_name == bridge).collect(),
        Err(e) => {
            return Err(format!(
                "Error getting the bridge {bridge} interface: route ip+net: {}",
                e.desc().to_lowercase()
            ));
        }
    };
    if addrs.is_empty() {
        return Err(format!(
            "Error getting the bridge {bridge} interface: route ip+net: no such network interface"
        ));
    }
    addrs
        .iter()
        .find_map(|a| a.address.as_ref()?.as_sockaddr_in().map(|s| s.ip().to_string()))
        .ok_or_else(|| {
            format!(
                "Error getting an IPv4 address from the bridge {bridge}: cannot find any IPv4 address"
            )
        })
}

/// The SDK's `StepSSHKeyGen` (SSH only): the key file is used as it is; without one, a
/// temporary key pair (`temporary_key_pair_type`/`_bits`) for the boot command's
/// `{{ .SSHPublicKey }}`, `build.SSHPublicKey`/`SSHPrivateKey`, and to log in with.
struct StepSshKeyGen(Arc<QemuConfig>);

#[async_trait]
impl Step for StepSshKeyGen {
    fn name(&self) -> &str {
        "StepSSHKeyGen"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let CommConfig::Ssh(ssh) = &self.0.comm else {
            return StepAction::Continue;
        };
        if ssh.private_key_file.is_some() {
            state.ui.say("Using existing SSH private key");
            return StepAction::Continue;
        }
        let kind = ssh.temporary_key_pair_type.clone();
        let bits = ssh.temporary_key_pair_bits;
        state.ui.say(format!(
            "Creating temporary {} SSH key for instance...",
            kind.to_uppercase()
        ));
        let made = tokio::task::spawn_blocking(move || {
            crate::communicator::ssh::keys::generate(&kind, bits, "")
        })
        .await;
        match made {
            Ok(Ok(pair)) => {
                // As `ssh.MarshalAuthorizedKey` writes it: with a newline.
                let public = format!("{}\n", pair.public_key.trim_end());
                state.endpoint.temporary_key = Some((pair.private_key, public));
                StepAction::Continue
            }
            Ok(Err(e)) => state.fail(format!("Error creating temporary SSH key: {e:#}")),
            Err(e) => state.fail(format!("Error creating temporary SSH key: {e}")),
        }
    }
}

/// `stepPortForward`: the host port forwarded to the guest's SSH port, recorded as the
/// communicator's endpoint (127.0.0.1 unless `ssh_host` is set).
struct StepPortForward(Arc<QemuConfig>);

#[async_trait]
impl Step for StepPortForward {
    fn name(&self) -> &str {
        "stepPortForward"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        let CommConfig::Ssh(ssh) = &c.comm else {
            state
                .ui
                .message("No communicator is set; skipping port forwarding setup.");
            return StepAction::Continue;
        };
        if c.args.net_bridge.is_some() {
            state
                .ui
                .message("net_bridge is set; skipping port forwarding setup.");
            return StepAction::Continue;
        }
        let port = if c.skip_nat_mapping {
            ssh.port
        } else {
            match free_port_in_range(&c.args.vnc_bind_address, c.host_port_min, c.host_port_max) {
                Ok(p) => p,
                Err(e) => return state.fail(format!("Error finding port: {e:#}")),
            }
        };
        if !c.skip_nat_mapping {
            state.ui.say(format!(
                "Found port for communicator (SSH, WinRM, etc): {port}."
            ));
        }
        qstate(state).run.comm_host_port = Some(port);
        state.endpoint.port = Some(port);
        if ssh.host.is_none() {
            state.endpoint.host = Some("127.0.0.1".into());
        }
        StepAction::Continue
    }
}

/// `stepConfigureVNC`: a free VNC port and the VNC password.
struct StepConfigureVnc(Arc<QemuConfig>);

#[async_trait]
impl Step for StepConfigureVnc {
    fn name(&self) -> &str {
        "stepConfigureVNC"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        state.ui.say(format!(
            "Looking for available port between {} and {} on {}",
            c.vnc_port_min, c.vnc_port_max, c.args.vnc_bind_address
        ));
        let port =
            match free_port_in_range(&c.args.vnc_bind_address, c.vnc_port_min, c.vnc_port_max) {
                Ok(p) => p,
                Err(e) => return state.fail(format!("Error finding VNC port: {e:#}")),
            };
        let password = match super::qmp::vnc_password(c.args.vnc_use_password, &c.vnc_password) {
            Ok(p) => p,
            Err(e) => return state.fail(format!("Error finding VNC password: {e}")),
        };
        let q = qstate(state);
        q.run.vnc_port = port;
        q.vnc_password = password;
        StepAction::Continue
    }
}

/// The driver's early failure, in its words (`Qemu failed to start. Please run with
/// PACKER_LOG=1 to get more info.`); what qemu said goes to the log.
fn qemu_failed_to_start(
    state: &mut BuildState,
    vm: &Vm,
    status: std::process::ExitStatus,
) -> StepAction {
    state.ui.log(vm.died_message(status));
    state.halt(
        "Error launching VM: Qemu failed to start. Please run with PACKER_LOG=1 to get more info.",
    )
}

/// `stepPrepareEfivars`: a writable copy of the EFI variables in the output directory,
/// made as the plugin makes it (created without truncating, 0660, then the source read into
/// it) and removed again when the build fails or is cancelled.
struct StepPrepareEfivars(Arc<QemuConfig>);

#[async_trait]
impl Step for StepPrepareEfivars {
    fn name(&self) -> &str {
        "stepPrepareEfivars"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        use std::os::unix::fs::OpenOptionsExt;
        let Some(src) = self.0.efi_vars.clone() else {
            return StepAction::Continue;
        };
        let dst = self.0.output_dir().join("efivars.fd");
        let mut out = match std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o660)
            .open(&dst)
        {
            Ok(f) => f,
            Err(e) => {
                return state.halt(format!(
                    "failed to create local efivars file at {}: {}",
                    dst.display(),
                    crate::goerr::path_error("open", &dst, &e)
                ));
            }
        };
        qstate(state).run.efivars_path = Some(dst.display().to_string());
        let mut input = match std::fs::File::open(&src) {
            Ok(f) => f,
            Err(e) => {
                return state.halt(format!(
                    "failed to read from efivars file at {}: {}",
                    src.display(),
                    crate::goerr::path_error("open", &src, &e)
                ));
            }
        };
        if let Err(e) = std::io::copy(&mut input, &mut out) {
            return state.halt(format!("failed to copy efivars data: {e}"));
        }
        StepAction::Continue
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        if state.error.is_none() && !state.cancel.is_cancelled() {
            return;
        }
        let Some(path) = qstate(state).run.efivars_path.clone() else {
            return;
        };
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            let e = crate::goerr::path_error("remove", Path::new(&path), &e);
            state
                .ui
                .error(format!("failed to cleanup efivars file at {path}: {e}"));
        }
    }
}

/// `stepRun`: qemu with the plugin's command line; killed when cleaned up.
struct StepRun(Arc<QemuConfig>);

#[async_trait]
impl Step for StepRun {
    fn name(&self) -> &str {
        "stepRun"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        let binary = which(&c.qemu_binary);
        let version = match qemu_version(Path::new(&binary)).await {
            Ok(v) => v,
            Err(e) => {
                return state.halt(format!(
                    "{e:#} (is {} installed? Debian: apt-get install qemu-system-x86)",
                    c.qemu_binary
                ));
            }
        };
        let Some(v2) = at_least_version_2(&version) else {
            return state.halt(format!("Error parsing qemu version: {version:?}"));
        };
        let run = {
            let q = qstate(state);
            q.run.qemu_at_least_2 = v2;
            q.run.clone()
        };
        let argv = match qemu_args(&c.args, &run) {
            Ok(a) => a,
            Err(e) => return state.halt(format!("Error processing QemuArgs: {e}")),
        };
        let vnc_addr = format!("{}:{}", c.args.vnc_bind_address, run.vnc_port);
        let password = qstate(state).vnc_password.clone().unwrap_or_default();
        // The plugin's stepRun, in its order: the boot, no acceleration, the VNC display;
        // what it only logs, logged.
        state.ui.say(if c.args.disk_image {
            "Starting VM, booting disk image"
        } else {
            "Starting VM, booting from CD-ROM"
        });
        if c.args.accelerator == "none" {
            state.ui.message(
                "WARNING: The VM will be started with no hardware acceleration.\nThe installation may take considerably longer to finish.\n",
            );
        }
        if let Some(m) = vnc_connection_message(c.args.headless, &vnc_addr, &password) {
            state.ui.message(m);
        }
        if !c.args.qemuargs.is_empty() {
            state
                .ui
                .say("Overriding default Qemu arguments with qemuargs template option...");
        }
        state.ui.log(format!("Accelerator: {}", c.args.accelerator));
        state
            .ui
            .log(format!("Qemu command: {} {}", binary, argv.join(" ")));
        let vm = match Vm::spawn(&binary, &argv) {
            Ok(vm) => Arc::new(vm),
            Err(e) => return state.halt(format!("Error launching VM: {e:#}")),
        };
        qstate(state).vm = Some(vm.clone());
        // Ready when qemu listens on its VNC port (it does before the guest runs); a qemu
        // that exits first failed to start (the plugin waits 2 s for that exit).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(st) = vm.exited().filter(|st| !st.success()) {
                return qemu_failed_to_start(state, &vm, st);
            }
            if vm.exited().is_some()
                || tokio::net::TcpStream::connect(&vnc_addr).await.is_ok()
                || tokio::time::Instant::now() >= deadline
            {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(25)) => {}
                _ = state.cancel.cancelled() => return StepAction::Halt,
            }
        }
        if let Some(st) = vm.exited().filter(|st| !st.success()) {
            return qemu_failed_to_start(state, &vm, st);
        }
        state.ui.log(format!("Started qemu, PID {}", vm.pid));
        StepAction::Continue
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        let Some(vm) = qstate(state).vm.take() else {
            return;
        };
        if vm.exited().is_none() {
            vm.kill().await;
        }
    }
}

/// `exec.LookPath` for messages and spawning: a name with a slash is used as is.
fn which(name: &str) -> String {
    if name.contains('/') {
        return name.to_string();
    }
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p.display().to_string();
        }
    }
    name.to_string()
}

/// `stepConfigureQMP`: the VNC password set over QMP.
struct StepConfigureQmp(Arc<QemuConfig>);

#[async_trait]
impl Step for StepConfigureQmp {
    fn name(&self) -> &str {
        "stepConfigureQMP"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        if !c.args.qmp_enable {
            return StepAction::Continue;
        }
        let path = PathBuf::from(&c.args.qmp_socket_path);
        state.ui.say(format!("QMP socket at: {}", path.display()));
        let mut qmp = match super::qmp::Qmp::connect(&path, Duration::from_secs(2)).await {
            Ok(q) => q,
            Err(e) => return state.fail(format!("Error opening QMP socket: {e:#}")),
        };
        if let Some(p) = qstate(state).vnc_password.clone()
            && let Err(e) = qmp.change_vnc_password(&p).await
        {
            return state.fail(format!("Error connecting to QMP socket: {e:#}"));
        }
        StepAction::Continue
    }

    async fn cleanup(&mut self, _state: &mut BuildState) {
        if self.0.args.qmp_enable {
            let _ = std::fs::remove_file(&self.0.args.qmp_socket_path);
        }
    }
}

/// `stepTypeBootCommand`: `boot_wait`, then the boot command typed over VNC.
struct StepTypeBootCommand(Arc<QemuConfig>);

#[async_trait]
impl Step for StepTypeBootCommand {
    fn name(&self) -> &str {
        "stepTypeBootCommand"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        let (run, password, vm) = {
            let q = qstate(state);
            (q.run.clone(), q.vnc_password.clone(), q.vm.clone())
        };
        let public_key = match c
            .comm
            .resolved(&state.endpoint)
            .generated_data()
            .get("SSHPublicKey")
        {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let data = BootTemplateData {
            http_ip: run.http_ip.clone(),
            http_port: run.http_port,
            name: c.args.vm_name.clone(),
            ssh_public_key: public_key,
        };
        let vnc_addr = format!("{}:{}", c.args.vnc_bind_address, run.vnc_port);
        let env_interval = std::env::var(super::bootcommand::PACKER_KEY_ENV).ok();
        let ui = state.ui.clone();
        let say = move |m: String| ui.say(m);
        let typing = super::vnc::type_boot_command(
            &c.boot,
            &vnc_addr,
            password.as_deref(),
            &data,
            env_interval.as_deref(),
            &state.cancel,
            &say,
        );
        let died = vm_exit(vm.clone());
        let r = tokio::select! {
            r = typing => r,
            st = died => {
                let msg = vm.as_ref().map(|v| v.died_message(st)).unwrap_or_default();
                return state.fail(format!("The VM stopped while the boot command was typed: {msg}"));
            }
        };
        match r {
            Ok(()) => StepAction::Continue,
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            Err(e) => state.fail(format!("{e:#}")),
        }
    }
}

/// Resolves when the VM exits (never without a VM).
async fn vm_exit(vm: Option<Arc<Vm>>) -> std::process::ExitStatus {
    match vm {
        Some(vm) => {
            let mut rx = vm.exit.clone();
            let r = rx.wait_for(|s| s.is_some()).await.map(|s| *s);
            match r {
                Ok(Some(s)) => s,
                _ => std::future::pending().await,
            }
        }
        None => std::future::pending().await,
    }
}

/// `communicator.StepConnect`, watching qemu: a VM that exits while Kiln waits for SSH ends
/// the wait at once, and a guest that never answers ends at `ssh_timeout` with the
/// accelerator named and the way out.
struct StepWaitConnect {
    config: Arc<QemuConfig>,
    inner: StepConnect,
}

/// The plugin's stepWaitGuestAddress with `net_bridge`: the NIC's MAC over QMP (netdev
/// `user.0`), then its address in the host's ARP table on the bridge, tried every 10 s until
/// `ssh_timeout`, which halts the build (saying nothing, as the plugin). The address becomes
/// the communicator's host (unless `ssh_host` is set) on port 22 (the plugin's `commPort`
/// without a forwarded port). `Some` ends the step.
async fn wait_guest_address(
    state: &mut BuildState,
    c: &QemuConfig,
    bridge: &str,
    timeout: Duration,
) -> Option<StepAction> {
    state.ui.say(format!(
        "Waiting for the guest address to become available in the {bridge} network bridge..."
    ));
    let deadline = tokio::time::Instant::now() + timeout;
    let socket = PathBuf::from(&c.args.qmp_socket_path);
    let mut qmp = None;
    loop {
        if qmp.is_none() {
            match super::qmp::Qmp::connect(&socket, Duration::from_secs(2)).await {
                Ok(q) => qmp = Some(q),
                Err(e) => state.ui.log(format!("Could not connect to QMP: {e:#}")),
            }
        }
        let mut found = None;
        if let Some(q) = qmp.as_mut() {
            match q.net_devices().await {
                Ok(devs) => match devs.iter().find(|(name, _)| name == "user.0") {
                    Some((_, mac)) => {
                        let arp = std::fs::read_to_string("/proc/net/arp").unwrap_or_default();
                        found = super::qmp::arp_address(&arp, bridge, mac);
                    }
                    None => state
                        .ui
                        .log("QEMU QMP network device user.0 was not found".to_string()),
                },
                Err(e) => {
                    state.ui.log(format!(
                        "Could not retrieve QEMU QMP network device list: {e:#}"
                    ));
                    qmp = None;
                }
            }
        }
        if let Some(addr) = found {
            state.ui.log(format!("Found guest address {addr}"));
            if let CommConfig::Ssh(ssh) = &c.comm
                && ssh.host.is_none()
            {
                state.endpoint.host = Some(addr);
            }
            state.endpoint.port = Some(22);
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = tokio::time::sleep_until(deadline) => {
                state.error = Some(BuildError::Halted {
                    step: "stepWaitGuestAddress".into(),
                    said: format!("no address of the guest in the {bridge} network bridge after ssh_timeout"),
                });
                return Some(StepAction::Halt);
            }
            _ = state.cancel.cancelled() => return Some(StepAction::Halt),
        }
    }
}

/// The hint for a guest that never answered: under KVM on a paravirtualised host stock
/// kernels hang at boot, which only TCG avoids.
pub fn no_sign_of_life_hint(accelerator: &str, detected: bool, guest_port: u16) -> String {
    let how = if detected {
        format!("accelerator {accelerator:?}, chosen because /dev/kvm opens")
    } else {
        format!("accelerator {accelerator:?}")
    };
    if accelerator == "kvm" {
        format!(
            "The guest showed no sign of life under {how}. On hosts with a paravirtualised or nested KVM (PVM), guests hang at boot under KVM: set accelerator = \"tcg\" in the source to run it under emulation."
        )
    } else {
        format!(
            "The guest showed no sign of life under {how}: check that it boots (boot_command, boot_wait, the ISO or disk_image) and starts an SSH server on port {guest_port}."
        )
    }
}

/// Waits until `host:port` sends an SSH banner (`SSH-`), with short attempts; `false` at
/// `limit`.
async fn wait_for_banner(host: &str, port: u16, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt as _;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Ok(Ok(mut s)) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect((host, port)),
        )
        .await
        {
            let mut buf = [0u8; 4];
            if let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(1500), s.read_exact(&mut buf)).await
                && &buf == b"SSH-"
            {
                return true;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[async_trait]
impl Step for StepWaitConnect {
    fn name(&self) -> &str {
        "StepConnect"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        // The plugin's stepWaitGuestAddress.
        match (&self.config.comm, &self.config.args.net_bridge) {
            (CommConfig::None, _) => state
                .ui
                .message("No communicator is configured -- skipping StepWaitGuestAddress"),
            (_, None) => state
                .ui
                .message("Not using a NetBridge -- skipping StepWaitGuestAddress"),
            (comm, Some(br)) => {
                let timeout = match comm {
                    CommConfig::Ssh(ssh) => ssh.timeout,
                    _ => Duration::from_secs(300),
                };
                if let Some(a) = wait_guest_address(state, &self.config, br, timeout).await {
                    return a;
                }
            }
        }
        let vm = qstate(state).vm.clone();
        let outer = state.cancel.clone();
        let inner_cancel = outer.child_token();
        state.cancel = inner_cancel.clone();
        let watcher = {
            let vm = vm.clone();
            let token = inner_cancel.clone();
            tokio::spawn(async move {
                let st = vm_exit(vm).await;
                token.cancel();
                st
            })
        };
        // qemu's user network accepts on the forwarded port at once and holds a connection
        // open (up to ~20 s) while the guest is not listening yet: SSH attempts made then
        // stall. Probing for the server's banner with short attempts first connects as soon
        // as the guest's SSH server is up.
        let probe = match (&self.config.comm, state.endpoint.port) {
            (CommConfig::Ssh(ssh), Some(port)) if ssh.bastion.is_none() && ssh.proxy.is_none() => {
                let host = ssh
                    .host
                    .clone()
                    .or_else(|| state.endpoint.host.clone())
                    .unwrap_or_else(|| "127.0.0.1".into());
                Some((
                    host,
                    port,
                    ssh.timeout,
                    ssh.username.clone().unwrap_or_default(),
                ))
            }
            _ => None,
        };
        let mut action = None;
        if let Some((host, port, timeout, user)) = probe {
            let started = std::time::Instant::now();
            state.ui.log(format!(
                "Waiting for the guest's SSH server on {host}:{port}..."
            ));
            let up = tokio::select! {
                up = wait_for_banner(&host, port, timeout) => up,
                _ = inner_cancel.cancelled() => true,
            };
            if !up {
                action = Some(state.fail_with(BuildError::Connect {
                    communicator: "SSH".into(),
                    message: format!(
                        "Timeout waiting for SSH after {} (ssh_timeout = {}): no SSH server answered on {user}@{host}:{port}",
                        crate::run::human_duration(started.elapsed()),
                        crate::run::human_duration(timeout)
                    ),
                }));
            }
        }
        let action = match action {
            Some(a) => a,
            None if inner_cancel.is_cancelled() => StepAction::Halt,
            None => self.inner.run(state).await,
        };
        state.cancel = outer;
        let died = if watcher.is_finished() {
            watcher.await.ok()
        } else {
            watcher.abort();
            None
        };
        if action == StepAction::Continue {
            return action;
        }
        if state.cancel.is_cancelled() {
            return StepAction::Halt;
        }
        if let (Some(st), Some(vm)) = (died, &vm) {
            return state.fail_with(BuildError::Connect {
                communicator: "SSH".into(),
                message: format!(
                    "the VM stopped before SSH was available: {}",
                    vm.died_message(st)
                ),
            });
        }
        if let Some(BuildError::Connect {
            communicator,
            message,
        }) = state.error.clone()
        {
            let port = match &self.config.comm {
                CommConfig::Ssh(s) => s.port,
                _ => 0,
            };
            let hint = no_sign_of_life_hint(
                &self.config.args.accelerator,
                self.config.accelerator_detected,
                port,
            );
            let error = BuildError::Connect {
                communicator,
                message: format!("{message}. {hint}"),
            };
            state.ui.error(hint);
            state.error = Some(error);
        }
        StepAction::Halt
    }

    async fn cleanup(&mut self, state: &mut BuildState) {
        self.inner.cleanup(state).await;
    }
}

/// `stepShutdown`: `shutdown_command` over the communicator, then up to `shutdown_timeout`
/// for qemu to exit; with no command qemu is stopped (killed, as the plugin's `driver.Stop`);
/// with `communicator = "none"` the guest must power off by itself within the timeout.
struct StepShutdown(Arc<QemuConfig>);

#[async_trait]
impl Step for StepShutdown {
    fn name(&self) -> &str {
        "stepShutdown"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        let c = &self.0;
        let Some(vm) = qstate(state).vm.clone() else {
            return StepAction::Continue;
        };
        let timeout = c.shutdown_timeout;
        let wait = |state: &mut BuildState, vm: Arc<Vm>| {
            let cancel = state.cancel.clone();
            async move {
                tokio::select! {
                    st = vm.wait(timeout) => st.is_some(),
                    _ = cancel.cancelled() => false,
                }
            }
        };
        if matches!(c.comm, CommConfig::None) {
            state.ui.say("Waiting for shutdown...");
            if wait(state, vm.clone()).await {
                return StepAction::Continue;
            }
            if state.cancel.is_cancelled() {
                return StepAction::Halt;
            }
            state.ui.log(format!(
                "The VM did not power off within shutdown_timeout ({}). {}",
                crate::run::human_duration(timeout),
                no_sign_of_life_hint(&c.args.accelerator, c.accelerator_detected, 0)
                    .replace(" and starts an SSH server on port 0", " and powers off")
            ));
            return state.fail("Failed to shutdown");
        }
        if let Some(cmd) = &c.shutdown_command {
            let Some(comm) = state.comm.clone() else {
                return state.fail("Failed to send shutdown command: no communicator");
            };
            state.ui.say("Gracefully halting virtual machine...");
            let mut out = UiOutput(state.ui.clone());
            // The guest may drop the connection as it goes down: a failed command only
            // matters if the machine then does not stop.
            let sent = comm.start(cmd, &mut out, &state.cancel).await;
            if !wait(state, vm.clone()).await {
                if state.cancel.is_cancelled() {
                    return StepAction::Halt;
                }
                return match sent {
                    Err(e) => state.fail(format!("Failed to send shutdown command: {e}")),
                    Ok(_) => {
                        state.ui.log(format!(
                            "The VM did not power off within shutdown_timeout ({})",
                            crate::run::human_duration(timeout)
                        ));
                        state.fail("Timeout while waiting for machine to shut down.")
                    }
                };
            }
        } else {
            // As the plugin's `driver.Stop`: SIGKILL, not waiting for qemu to be gone (the
            // conversion after it retries while qemu still holds the disk's lock).
            state.ui.say("Halting the virtual machine...");
            vm.signal_kill();
        }
        StepAction::Continue
    }
}

/// `stepConvertDisk`: compaction / compression with `qemu-img convert`.
struct StepConvertDisk(Arc<QemuConfig>);

#[async_trait]
impl Step for StepConvertDisk {
    fn name(&self) -> &str {
        "stepConvertDisk"
    }

    async fn run(&mut self, state: &mut BuildState) -> StepAction {
        if self.0.disk.convert_command().is_none() {
            return StepAction::Continue;
        }
        state.ui.say("Converting hard drive...");
        match convert_disk(&self.0.disk, &qemu_img(), &state.cancel, &state.ui).await {
            Ok(_) => StepAction::Continue,
            Err(_) if state.cancel.is_cancelled() => StepAction::Halt,
            Err(e) => state.fail(format!("{e:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_bytes_as_qemu_img_reads_them() {
        assert_eq!(size_bytes("256M"), Some(256 << 20));
        assert_eq!(size_bytes("10G"), Some(10 << 30));
        assert_eq!(size_bytes("1t"), Some(1 << 40));
        assert_eq!(size_bytes("4096"), Some(4096));
        assert_eq!(size_bytes("4096b"), Some(4096));
        assert_eq!(size_bytes("2k"), Some(2048));
        assert_eq!(size_bytes("x"), None);
        assert_eq!(size_bytes("99999999999t"), None, "overflow");
    }

    #[test]
    fn hints_name_the_accelerator_and_the_way_out() {
        let h = no_sign_of_life_hint("kvm", true, 22);
        assert!(h.contains("accelerator \"kvm\""), "{h}");
        assert!(h.contains("/dev/kvm"), "{h}");
        assert!(h.contains("accelerator = \"tcg\""), "{h}");
        let h = no_sign_of_life_hint("tcg", false, 2200);
        assert!(h.contains("accelerator \"tcg\""), "{h}");
        assert!(h.contains("port 2200"), "{h}");
        assert!(!h.contains("accelerator = \"tcg\""), "{h}");
    }
}
