//! The SSH connection: dialing (directly, through a bastion or a SOCKS5 proxy), host-key
//! policy, authentication, retries until `ssh_timeout`, command execution and reconnection.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use async_trait::async_trait;
use russh::client::{self, ChannelOpenHandle, Handle, KeyboardInteractiveAuthResponse, Msg};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::HashAlg;
use russh::keys::{Certificate, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Sig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::{BastionConfig, SshConfig, TransferMethod, Tunnel};
use super::{scp, sftp, tunnel};
use crate::communicator::{CommError, Communicator, ExitStatus, Output};
use crate::ui::Ui;

/// Decides whether a server's host key is acceptable.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostKeyPolicy {
    /// Accepted `SHA256:` fingerprints; empty accepts any key (Packer's behaviour).
    pub fingerprints: Vec<String>,
    pub known_hosts: Option<std::path::PathBuf>,
}

/// The russh event handler: host-key checks, remote tunnels and agent forwarding.
#[derive(Clone)]
pub(crate) struct ClientHandler {
    host: String,
    port: u16,
    policy: Arc<HostKeyPolicy>,
    /// Why the last host key was refused, for the error message.
    rejected: Arc<std::sync::Mutex<Option<String>>>,
    remote_tunnels: Arc<Vec<Tunnel>>,
}

impl ClientHandler {
    pub(crate) fn new(host: &str, port: u16, policy: Arc<HostKeyPolicy>) -> ClientHandler {
        ClientHandler {
            host: host.to_string(),
            port,
            policy,
            rejected: Arc::default(),
            remote_tunnels: Arc::default(),
        }
    }
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let public = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => {
                russh::keys::PublicKey::new(c.public_key().clone(), "")
            }
        };
        let fp = public.fingerprint(HashAlg::Sha256).to_string();
        if !self.policy.fingerprints.is_empty() && !self.policy.fingerprints.contains(&fp) {
            *self.rejected.lock().unwrap() = Some(format!(
                "host key {fp} does not match ssh_host_key ({})",
                self.policy.fingerprints.join(", ")
            ));
            return Ok(false);
        }
        if let Some(path) = &self.policy.known_hosts {
            let ok = russh::keys::check_known_hosts_path(&self.host, self.port, &public, path);
            match ok {
                Ok(true) => {}
                Ok(false) => {
                    *self.rejected.lock().unwrap() = Some(format!(
                        "host key {fp} of [{}]:{} is not in {}",
                        self.host,
                        self.port,
                        path.display()
                    ));
                    return Ok(false);
                }
                Err(e) => {
                    *self.rejected.lock().unwrap() =
                        Some(format!("host key {fp} rejected by {}: {e}", path.display()));
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        channel: Channel<Msg>,
        _connected_address: &str,
        connected_port: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let Some(t) = self
            .remote_tunnels
            .iter()
            .find(|t| u32::from(t.listen_port) == connected_port)
            .cloned()
        else {
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut tcp) = tokio::net::TcpStream::connect((t.host.as_str(), t.port)).await {
                let mut stream = channel.into_stream();
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut stream).await;
            }
        });
        Ok(())
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        let Some(sock) = std::env::var_os("SSH_AUTH_SOCK") else {
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(async move {
            if let Ok(mut agent) = tokio::net::UnixStream::connect(sock).await {
                let mut stream = channel.into_stream();
                let _ = tokio::io::copy_bidirectional(&mut agent, &mut stream).await;
            }
        });
        Ok(())
    }
}

/// How to authenticate one hop.
#[derive(Clone, Debug, Default)]
pub(crate) struct AuthSpec {
    pub user: String,
    pub password: Option<String>,
    pub key: Option<Arc<PrivateKey>>,
    pub key_desc: String,
    pub cert: Option<Certificate>,
    pub agent: bool,
    /// `ssh_bastion_interactive`: keyboard-interactive, answered on the terminal.
    pub interactive: bool,
}

impl AuthSpec {
    /// `password`, `public key ~/.ssh/id`, `agent`, … as said in errors.
    pub fn methods(&self) -> String {
        let mut m = Vec::new();
        if self.interactive {
            m.push("keyboard-interactive on the terminal".to_string());
        }
        if self.agent {
            m.push("agent".to_string());
            return m.join(", ");
        }
        if self.key.is_some() {
            if self.cert.is_some() {
                m.push(format!("certificate with {}", self.key_desc));
            } else {
                m.push(format!("public key {}", self.key_desc));
            }
        }
        if self.password.is_some() {
            m.push("password".to_string());
        }
        if m.is_empty() {
            "none".to_string()
        } else {
            m.join(", ")
        }
    }

    fn load(
        user: &str,
        password: Option<&String>,
        key_file: Option<&Path>,
        key_text: Option<&String>,
        cert_file: Option<&Path>,
        agent: bool,
    ) -> anyhow::Result<AuthSpec> {
        let mut spec = AuthSpec {
            user: user.to_string(),
            agent,
            ..Default::default()
        };
        if agent {
            // Password and key are ignored with agent auth, as in Packer.
            return Ok(spec);
        }
        spec.password = password.cloned();
        if let Some(p) = key_file {
            let key = russh::keys::load_secret_key(p, None)
                .with_context(|| format!("loading ssh private key {}", p.display()))?;
            spec.key = Some(Arc::new(key));
            spec.key_desc = p.display().to_string();
        } else if let Some(text) = key_text {
            let key = russh::keys::decode_secret_key(text, None)
                .context("decoding the temporary ssh private key")?;
            spec.key = Some(Arc::new(key));
            spec.key_desc = "(temporary key)".to_string();
        }
        if let Some(c) = cert_file {
            spec.cert = Some(
                russh::keys::load_openssh_certificate(c)
                    .with_context(|| format!("loading ssh certificate {}", c.display()))?,
            );
        }
        Ok(spec)
    }
}

/// A failure of one connection attempt.
pub(crate) enum AttemptError {
    /// TCP or transport: the host may not be up yet.
    Dial(anyhow::Error),
    /// The SSH handshake or authentication failed (counts as a handshake attempt).
    Handshake(anyhow::Error),
}

impl AttemptError {
    fn error(&self) -> &anyhow::Error {
        match self {
            AttemptError::Dial(e) | AttemptError::Handshake(e) => e,
        }
    }
}

/// Authenticates a fresh handle with every method the spec allows, in Packer's order.
pub(crate) async fn authenticate(
    h: &mut Handle<ClientHandler>,
    spec: &AuthSpec,
) -> anyhow::Result<()> {
    let user = spec.user.clone();
    // First, as in Packer's bastion config.
    if spec.interactive && keyboard_interactive(h, &user, Answers::Terminal).await? {
        return Ok(());
    }
    if spec.agent {
        let mut agent = AgentClient::connect_env()
            .await
            .context("connecting to the SSH agent (SSH_AUTH_SOCK)")?;
        let ids = agent
            .request_identities()
            .await
            .context("listing the SSH agent's keys")?;
        if ids.is_empty() {
            bail!("the SSH agent holds no keys");
        }
        for id in ids {
            let r = match id {
                AgentIdentity::PublicKey { key, .. } => {
                    let hash = if key.algorithm().is_rsa() {
                        h.best_supported_rsa_hash().await?.flatten()
                    } else {
                        None
                    };
                    h.authenticate_publickey_with(user.clone(), key, hash, &mut agent)
                        .await
                }
                AgentIdentity::Certificate { certificate, .. } => {
                    h.authenticate_certificate_with(user.clone(), certificate, None, &mut agent)
                        .await
                }
            };
            if let Ok(r) = r
                && r.success()
            {
                return Ok(());
            }
        }
        bail!("authentication failed: the server accepted none of the SSH agent's keys");
    }
    if let Some(key) = &spec.key {
        let ok = if let Some(cert) = &spec.cert {
            h.authenticate_openssh_cert(user.clone(), key.clone(), cert.clone())
                .await?
                .success()
        } else {
            let hash = if key.algorithm().is_rsa() {
                h.best_supported_rsa_hash().await?.flatten()
            } else {
                None
            };
            h.authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(key.clone(), hash))
                .await?
                .success()
        };
        if ok {
            return Ok(());
        }
    }
    if let Some(pw) = &spec.password {
        if h.authenticate_password(user.clone(), pw.clone())
            .await?
            .success()
        {
            return Ok(());
        }
        // Servers that only do keyboard-interactive: answer every prompt with the password
        // (Packer's PasswordKeyboardInteractive).
        if keyboard_interactive(h, &user, Answers::Password(pw)).await? {
            return Ok(());
        }
    }
    if spec.interactive {
        bail!(
            "authentication failed (keyboard-interactive answers rejected, and no other method was accepted)"
        );
    }
    if spec.key.is_none() && spec.password.is_none() {
        bail!("no authentication method configured");
    }
    bail!("authentication failed (wrong credentials, or the server does not allow this method)")
}

/// Where keyboard-interactive answers come from.
enum Answers<'a> {
    /// Every prompt gets the password.
    Password(&'a str),
    /// Typed on the terminal (`ssh_bastion_interactive`).
    Terminal,
}

/// Keyboard-interactive authentication; false when the server refuses it.
async fn keyboard_interactive(
    h: &mut Handle<ClientHandler>,
    user: &str,
    answers: Answers<'_>,
) -> anyhow::Result<bool> {
    let mut resp = h
        .authenticate_keyboard_interactive_start(user.to_string(), None)
        .await?;
    // PAM may ask several rounds (password, then an expired-password change...).
    for _ in 0..8 {
        match resp {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(false),
            KeyboardInteractiveAuthResponse::InfoRequest {
                name,
                instructions,
                prompts,
            } => {
                let replies = match answers {
                    Answers::Password(pw) => prompts.iter().map(|_| pw.to_string()).collect(),
                    Answers::Terminal => {
                        let prompts: Vec<(String, bool)> =
                            prompts.into_iter().map(|p| (p.prompt, p.echo)).collect();
                        tokio::task::spawn_blocking(move || {
                            super::prompt::answer_on_terminal(&name, &instructions, &prompts)
                        })
                        .await??
                    }
                };
                resp = h.authenticate_keyboard_interactive_respond(replies).await?;
            }
        }
    }
    Ok(false)
}

/// The russh client configuration from the options.
fn client_config(c: &SshConfig) -> anyhow::Result<Arc<client::Config>> {
    let mut preferred = russh::Preferred::default();
    if !c.ciphers.is_empty() {
        let names = c
            .ciphers
            .iter()
            .map(|n| {
                russh::cipher::Name::try_from(n.as_str())
                    .map_err(|_| anyhow!("unsupported cipher {n:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        preferred.cipher = names.into();
    }
    if !c.key_exchange_algorithms.is_empty() {
        let mut names = c
            .key_exchange_algorithms
            .iter()
            .map(|n| {
                russh::kex::Name::try_from(n.as_str())
                    .map_err(|_| anyhow!("unsupported key exchange {n:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        names.push(russh::kex::EXTENSION_SUPPORT_AS_CLIENT);
        names.push(russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT);
        preferred.kex = names.into();
    }
    Ok(Arc::new(client::Config {
        keepalive_interval: c.keep_alive_interval,
        keepalive_max: 3,
        // Only for a connection that is really dead (no keepalive replies either).
        inactivity_timeout: c.read_write_timeout,
        nodelay: true,
        window_size: 16 * 1024 * 1024,
        // The largest data packet the server may send us (OpenSSH's client says 32 KiB).
        // sshd seldom fills more than 32 KiB (it sends what it has read from the command),
        // so this only trims the packet count: about 7% on an scp download.
        maximum_packet_size: 65535,
        preferred,
        ..Default::default()
    }))
}

/// Bytes read from the transport at a time.
const READ_BUFFER: usize = 256 * 1024;

/// The transport with a read buffer. russh reads each packet with two exact reads (the
/// length, then the rest) straight from the stream it is given: unbuffered, that is two
/// `recvfrom` calls, and often a park and a wake-up, for every packet of at most 32 KiB.
/// Buffered, one read takes in many packets at once. Writes pass through (russh batches
/// them itself).
fn buffered<S: AsyncRead + AsyncWrite>(stream: S) -> tokio::io::BufReader<S> {
    tokio::io::BufReader::with_capacity(READ_BUFFER, stream)
}

/// One live connection (and the bastion it hops through, kept alive with it).
pub(crate) struct Conn {
    pub handle: Handle<ClientHandler>,
    _bastion: Option<Handle<ClientHandler>>,
}

/// The SSH communicator.
pub struct SshClient {
    config: SshConfig,
    host: String,
    user: String,
    auth: AuthSpec,
    bastion_auth: Option<AuthSpec>,
    policy: Arc<HostKeyPolicy>,
    russh: Arc<client::Config>,
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
    /// Local tunnel listeners (bound to the first connection).
    tunnels: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// Session channels opened so far (see [`SshClient::sessions_opened`]).
    sessions: std::sync::atomic::AtomicU64,
}

fn with_timeout<T>(
    d: Duration,
    what: &str,
    f: impl Future<Output = anyhow::Result<T>>,
) -> impl Future<Output = anyhow::Result<T>> {
    let what = what.to_string();
    async move {
        match tokio::time::timeout(d, f).await {
            Ok(r) => r,
            Err(_) => Err(anyhow!("{what} timed out after {d:?}")),
        }
    }
}

impl SshClient {
    /// Connects, retrying until `ssh_timeout` (or `ssh_handshake_attempts` handshake
    /// failures), after `pause_before_connecting` if set.
    pub async fn connect(
        config: SshConfig,
        ui: &Ui,
        cancel: &CancellationToken,
    ) -> anyhow::Result<SshClient> {
        let host = config
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .context("ssh_host is not set")?;
        let user = config.username.clone().unwrap_or_default();
        let auth = AuthSpec::load(
            &user,
            config.password.as_ref(),
            config.private_key_file.as_deref(),
            config.private_key.as_ref(),
            config.certificate_file.as_deref(),
            config.agent_auth,
        )?;
        if config.bastion.as_ref().is_some_and(|b| b.interactive) {
            super::prompt::require_terminal()?;
        }
        let bastion_auth = match &config.bastion {
            Some(b) => Some(AuthSpec {
                interactive: b.interactive,
                ..AuthSpec::load(
                    &b.username,
                    b.password.as_ref(),
                    b.private_key_file.as_deref(),
                    None,
                    b.certificate_file.as_deref(),
                    b.agent_auth,
                )?
            }),
            None => None,
        };
        let policy = Arc::new(HostKeyPolicy {
            fingerprints: config.host_keys.clone(),
            known_hosts: config.known_hosts_file.clone(),
        });
        let client = SshClient {
            russh: client_config(&config)?,
            host,
            user,
            auth,
            bastion_auth,
            policy,
            config,
            conn: tokio::sync::Mutex::new(None),
            tunnels: std::sync::Mutex::default(),
            sessions: Default::default(),
        };
        ui.say("Waiting for SSH to become available...");
        let conn = client.wait_for_ssh(ui, cancel).await?;
        let conn = if !client.config.pause_before_connecting.is_zero() {
            ui.say(format!(
                "Pausing {} before connecting...",
                crate::template::body::go_duration(client.config.pause_before_connecting)
            ));
            let _ = conn
                .handle
                .disconnect(russh::Disconnect::ByApplication, "", "")
                .await;
            drop(conn);
            tokio::select! {
                _ = tokio::time::sleep(client.config.pause_before_connecting) => {}
                _ = cancel.cancelled() => bail!("cancelled while pausing before connecting"),
            }
            client.wait_for_ssh(ui, cancel).await?
        } else {
            conn
        };
        ui.say("Connected to SSH!");
        let mut tasks = Vec::new();
        for t in &client.config.local_tunnels {
            tasks.push(tunnel::local_forward(Arc::downgrade(&conn), t.clone()).await?);
        }
        *client.tunnels.lock().unwrap() = tasks;
        *client.conn.lock().await = Some(conn);
        Ok(client)
    }

    /// `user@host:port`, with the bastion if any.
    fn target(&self) -> String {
        let mut s = format!("{}@{}:{}", self.user, self.host, self.config.port);
        if let Some(b) = &self.config.bastion {
            s.push_str(&format!(
                " via bastion {}@{}:{}",
                b.username, b.host, b.port
            ));
        }
        if let Some(p) = &self.config.proxy {
            s.push_str(&format!(" via SOCKS5 proxy {}:{}", p.host, p.port));
        }
        s
    }

    async fn wait_for_ssh(&self, ui: &Ui, cancel: &CancellationToken) -> anyhow::Result<Arc<Conn>> {
        let started = Instant::now();
        let deadline = started + self.config.timeout;
        let mut handshake_failures = 0u32;
        let mut delay = Duration::from_millis(200);
        let mut last_said = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let attempt_limit = left
                .max(Duration::from_secs(1))
                .min(Duration::from_secs(60));
            let result = tokio::select! {
                r = tokio::time::timeout(attempt_limit, self.attempt()) => match r {
                    Ok(r) => r,
                    Err(_) => Err(AttemptError::Dial(anyhow!("timed out after {attempt_limit:?}"))),
                },
                _ = cancel.cancelled() => bail!("cancelled while waiting for SSH"),
            };
            let err = match result {
                Ok(c) => return Ok(Arc::new(c)),
                Err(e) => e,
            };
            let msg = format!(
                "ssh {} (auth: {}): {:#}",
                self.target(),
                self.auth.methods(),
                err.error()
            );
            if msg != last_said {
                ui.message(format!("[DEBUG] SSH connection attempt failed: {msg}"));
                last_said = msg.clone();
            }
            if let AttemptError::Handshake(_) = err {
                handshake_failures += 1;
                if handshake_failures >= self.config.handshake_attempts {
                    bail!(
                        "{msg} (gave up after {handshake_failures} handshake attempt{}; ssh_handshake_attempts = {})",
                        if handshake_failures == 1 { "" } else { "s" },
                        self.config.handshake_attempts
                    );
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "Timeout waiting for SSH after {:?} (ssh_timeout = {:?}); last error: {msg}",
                    started.elapsed(),
                    self.config.timeout
                );
            }
            let pause = delay.min(deadline.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = cancel.cancelled() => bail!("cancelled while waiting for SSH"),
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// One attempt: dial (through the bastion or proxy), handshake, authenticate, tunnels.
    async fn attempt(&self) -> Result<Conn, AttemptError> {
        let handler = ClientHandler {
            remote_tunnels: Arc::new(self.config.remote_tunnels.clone()),
            ..ClientHandler::new(&self.host, self.config.port, self.policy.clone())
        };
        let rejected = handler.rejected.clone();
        let port = self.config.port;
        let mut bastion_handle = None;
        let handshake = |e: russh::Error, rejected: &Arc<std::sync::Mutex<Option<String>>>| {
            if let Some(why) = rejected.lock().unwrap().take() {
                AttemptError::Handshake(anyhow!("{why}"))
            } else {
                match e {
                    russh::Error::IO(io) => AttemptError::Dial(anyhow!("{io}")),
                    // As Packer's StepConnect, only authentication (and a rejected host key)
                    // counts against ssh_handshake_attempts: a transport closed during the
                    // key exchange is a host not up yet (qemu's user network accepts on the
                    // forwarded port before the guest listens, then closes).
                    other => AttemptError::Dial(anyhow!("handshake failed: {other}")),
                }
            }
        };
        let mut handle = if let (Some(b), Some(bauth)) = (&self.config.bastion, &self.bastion_auth)
        {
            let bh = self.connect_bastion(b, bauth).await?;
            let ch = bh
                .channel_open_direct_tcpip(self.host.clone(), u32::from(port), "127.0.0.1", 0)
                .await
                .map_err(|e| {
                    AttemptError::Dial(anyhow!(
                        "bastion {}:{} could not open a connection to {}:{port}: {e}",
                        b.host,
                        b.port,
                        self.host
                    ))
                })?;
            let h = client::connect_stream(self.russh.clone(), buffered(ch.into_stream()), handler)
                .await
                .map_err(|e| handshake(e, &rejected))?;
            // Kept alive as long as the target connection.
            bastion_handle = Some(bh);
            h
        } else if let Some(p) = &self.config.proxy {
            let stream = tunnel::socks5_connect(p, &self.host, port)
                .await
                .map_err(AttemptError::Dial)?;
            client::connect_stream(self.russh.clone(), buffered(stream), handler)
                .await
                .map_err(|e| handshake(e, &rejected))?
        } else {
            let tcp = tokio::net::TcpStream::connect((self.host.as_str(), port))
                .await
                .map_err(|e| AttemptError::Dial(anyhow!("dial tcp {}:{port}: {e}", self.host)))?;
            let _ = tcp.set_nodelay(true);
            client::connect_stream(self.russh.clone(), buffered(tcp), handler)
                .await
                .map_err(|e| handshake(e, &rejected))?
        };
        authenticate(&mut handle, &self.auth)
            .await
            .map_err(AttemptError::Handshake)?;
        let conn = Conn {
            handle,
            _bastion: bastion_handle,
        };
        for t in &self.config.remote_tunnels {
            conn.handle
                .tcpip_forward("127.0.0.1", u32::from(t.listen_port))
                .await
                .map_err(|e| {
                    AttemptError::Handshake(anyhow!(
                        "remote tunnel {}:{}:{}: {e}",
                        t.listen_port,
                        t.host,
                        t.port
                    ))
                })?;
        }
        Ok(conn)
    }

    async fn connect_bastion(
        &self,
        b: &BastionConfig,
        auth: &AuthSpec,
    ) -> Result<Handle<ClientHandler>, AttemptError> {
        // The bastion's host key is not pinned (Packer accepts it too).
        let handler = ClientHandler::new(&b.host, b.port, Arc::default());
        let tcp = tokio::net::TcpStream::connect((b.host.as_str(), b.port))
            .await
            .map_err(|e| {
                AttemptError::Dial(anyhow!("dial bastion tcp {}:{}: {e}", b.host, b.port))
            })?;
        let _ = tcp.set_nodelay(true);
        let mut h = client::connect_stream(self.russh.clone(), buffered(tcp), handler)
            .await
            .map_err(|e| {
                AttemptError::Dial(anyhow!("bastion {}:{} handshake: {e}", b.host, b.port))
            })?;
        authenticate(&mut h, auth).await.map_err(|e| {
            AttemptError::Handshake(anyhow!(
                "bastion {}@{}:{} (auth: {}): {e:#}",
                b.username,
                b.host,
                b.port,
                auth.methods()
            ))
        })?;
        Ok(h)
    }

    /// The live connection, reconnecting once (one attempt) if it dropped.
    pub(crate) async fn conn(&self) -> anyhow::Result<Arc<Conn>> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref()
            && !c.handle.is_closed()
        {
            return Ok(c.clone());
        }
        let c = Arc::new(self.reconnect_once().await?);
        *guard = Some(c.clone());
        Ok(c)
    }

    async fn reconnect_once(&self) -> anyhow::Result<Conn> {
        let limit = self
            .config
            .timeout
            .clamp(Duration::from_secs(1), Duration::from_secs(30));
        let r = with_timeout(limit, "reconnecting", async {
            self.attempt().await.map_err(|e| match e {
                AttemptError::Dial(e) | AttemptError::Handshake(e) => e,
            })
        })
        .await;
        r.with_context(|| {
            format!(
                "ssh {} (auth: {}): reconnecting",
                self.target(),
                self.auth.methods()
            )
        })
    }

    /// How many session channels (commands, transfers) this client has opened: each one is
    /// a process the server starts. For diagnostics and the benchmark.
    pub fn sessions_opened(&self) -> u64 {
        self.sessions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A new session channel; reconnects once if the connection turns out to be dead.
    pub(crate) async fn channel(&self) -> anyhow::Result<Channel<Msg>> {
        self.sessions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let conn = self.conn().await?;
        match conn.handle.channel_open_session().await {
            Ok(ch) => Ok(ch),
            Err(_) => {
                {
                    let mut g = self.conn.lock().await;
                    if g.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                        *g = None;
                    }
                }
                let conn = self.conn().await?;
                conn.handle
                    .channel_open_session()
                    .await
                    .with_context(|| format!("ssh {}: opening a session", self.target()))
            }
        }
    }

    /// Starts `command` on a new channel without a pty (file transfers).
    pub(crate) async fn raw_exec(&self, command: &str) -> anyhow::Result<Channel<Msg>> {
        let ch = self.channel().await?;
        ch.exec(true, command)
            .await
            .with_context(|| format!("ssh {}: starting {command:?}", self.target()))?;
        Ok(ch)
    }

    /// Starts `command` on a new channel (pty and agent forwarding as configured).
    pub(crate) async fn exec_channel(&self, command: &str) -> anyhow::Result<Channel<Msg>> {
        let ch = self.channel().await?;
        if self.config.pty {
            ch.request_pty(true, "xterm", 80, 40, 0, 0, &[])
                .await
                .context("requesting a pty")?;
        }
        if !self.config.disable_agent_forwarding && std::env::var_os("SSH_AUTH_SOCK").is_some() {
            let _ = ch.agent_forward(false).await;
        }
        ch.exec(true, command)
            .await
            .with_context(|| format!("ssh {}: starting {command:?}", self.target()))?;
        Ok(ch)
    }

    pub fn transfer_method(&self) -> TransferMethod {
        self.config.file_transfer_method
    }
}

/// `TERM`, `KILL`, … from russh's signal.
pub(crate) fn sig_name(s: &Sig) -> String {
    match s {
        Sig::ABRT => "ABRT".into(),
        Sig::ALRM => "ALRM".into(),
        Sig::FPE => "FPE".into(),
        Sig::HUP => "HUP".into(),
        Sig::ILL => "ILL".into(),
        Sig::INT => "INT".into(),
        Sig::KILL => "KILL".into(),
        Sig::PIPE => "PIPE".into(),
        Sig::QUIT => "QUIT".into(),
        Sig::SEGV => "SEGV".into(),
        Sig::TERM => "TERM".into(),
        Sig::USR1 => "USR1".into(),
        Sig::Custom(c) => c.trim_start_matches("SIG").to_string(),
    }
}

/// Splits a byte stream into lines (a trailing `\r` dropped), bounded in memory.
#[derive(Default)]
pub(crate) struct LineBuf(Vec<u8>);

impl LineBuf {
    const MAX: usize = 64 * 1024;

    pub fn push(&mut self, data: &[u8], mut emit: impl FnMut(&str)) {
        self.0.extend_from_slice(data);
        let mut start = 0;
        while let Some(i) = self.0[start..].iter().position(|&b| b == b'\n') {
            let end = start + i;
            let line = &self.0[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            emit(&String::from_utf8_lossy(line));
            start = end + 1;
        }
        self.0.drain(..start);
        if self.0.len() > Self::MAX {
            emit(&String::from_utf8_lossy(&self.0));
            self.0.clear();
        }
    }

    pub fn finish(&mut self, mut emit: impl FnMut(&str)) {
        if !self.0.is_empty() {
            let line = self.0.strip_suffix(b"\r").unwrap_or(&self.0);
            emit(&String::from_utf8_lossy(line));
            self.0.clear();
        }
    }
}

#[async_trait]
impl Communicator for SshClient {
    fn kind(&self) -> &str {
        "ssh"
    }

    async fn start(
        &self,
        command: &str,
        output: &mut dyn Output,
        cancel: &CancellationToken,
    ) -> Result<ExitStatus, CommError> {
        // A context already cancelled (a retry after a timeout: see `run.rs`) starts
        // nothing. (Packer's SDK would start the command and leave it running while the
        // provisioner returns; Kiln does not leave remote commands behind.)
        if cancel.is_cancelled() {
            return Err(CommError::Interrupted {
                command: command.to_string(),
            });
        }
        let mut ch = self
            .exec_channel(command)
            .await
            .map_err(|e| CommError::Start {
                message: format!("{e:#}"),
            })?;
        let (mut out, mut err) = (LineBuf::default(), LineBuf::default());
        let mut status = None;
        loop {
            tokio::select! {
                msg = ch.wait() => match msg {
                    Some(ChannelMsg::Data { data }) => out.push(&data, |l| output.stdout_line(l)),
                    Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                        err.push(&data, |l| output.stderr_line(l))
                    }
                    Some(ChannelMsg::ExitStatus { exit_status }) => {
                        status = Some(ExitStatus::Code(exit_status as i32))
                    }
                    Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                        status = Some(ExitStatus::Signal(sig_name(&signal_name)))
                    }
                    Some(_) => {}
                    // Exit status may come after EOF: read until the channel is gone.
                    None => break,
                },
                _ = cancel.cancelled() => {
                    let _ = ch.close().await;
                    out.finish(|l| output.stdout_line(l));
                    err.finish(|l| output.stderr_line(l));
                    return Err(CommError::Interrupted {
                        command: command.to_string(),
                    });
                }
            }
        }
        out.finish(|l| output.stdout_line(l));
        err.finish(|l| output.stderr_line(l));
        Ok(status.unwrap_or(ExitStatus::NoStatus))
    }

    async fn upload(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        mode: u32,
    ) -> Result<(), CommError> {
        match self.config.file_transfer_method {
            TransferMethod::Scp => scp::upload(self, dst, src, mode).await,
            TransferMethod::Sftp => sftp::upload(self, dst, src, mode).await,
        }
        .map_err(|e| CommError::verbatim_or(e, CommError::upload(dst)))
    }

    async fn upload_dir(&self, dst: &str, src: &Path, exclude: &[String]) -> Result<(), CommError> {
        async {
            let entries = scp::upload_entries(src, exclude)?;
            match self.config.file_transfer_method {
                TransferMethod::Scp => scp::upload_dir(self, dst, entries).await,
                TransferMethod::Sftp => sftp::upload_dir(self, dst, entries).await,
            }
        }
        .await
        .map_err(|e| CommError::verbatim_or(e, CommError::upload_dir(src, dst)))
    }

    async fn download(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        match self.config.file_transfer_method {
            TransferMethod::Scp => scp::download(self, src, dst).await,
            TransferMethod::Sftp => sftp::download(self, src, dst).await,
        }
        .map_err(|e| CommError::verbatim_or(e, CommError::download(src)))
    }

    async fn download_dir(
        &self,
        src: &str,
        dst: &Path,
        exclude: &[String],
    ) -> Result<(), CommError> {
        async {
            let set = scp::exclude_set(exclude)?;
            match self.config.file_transfer_method {
                // Wildcards are expanded by the remote shell, so they go through scp whatever
                // the transfer method (Packer's DownloadDir always uses scp).
                TransferMethod::Sftp if !scp::has_wildcards(src) => {
                    sftp::download_dir(self, src, dst, &set).await
                }
                _ => scp::download_dir(self, src, dst, &set).await,
            }
        }
        .await
        .map_err(|e| CommError::verbatim_or(e, CommError::download_dir(src, dst)))
    }

    async fn close(&self) {
        for t in self.tunnels.lock().unwrap().drain(..) {
            t.abort();
        }
        let conn = self.conn.lock().await.take();
        let Some(conn) = conn else { return };
        if self.config.clear_authorized_keys
            && let Some(pk) = &self.config.public_key
        {
            let key_body = pk.split_whitespace().nth(1).unwrap_or_default().to_string();
            if !key_body.is_empty() {
                let cmd = format!(
                    "sed -i.bak '\\#{key_body}#d' ~/.ssh/authorized_keys; rm -f ~/.ssh/authorized_keys.bak"
                );
                *self.conn.lock().await = Some(conn.clone());
                let mut sink = crate::communicator::Collect::default();
                let _ = self.start(&cmd, &mut sink, &CancellationToken::new()).await;
                self.conn.lock().await.take();
            }
        }
        let _ = conn
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "")
            .await;
    }
}

/// Shell single quotes.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Runs a command to completion, collecting output; errors on a non-zero status.
pub(crate) async fn run_checked(c: &SshClient, command: &str) -> anyhow::Result<()> {
    let mut out = crate::communicator::Collect::default();
    let status = c
        .start(command, &mut out, &CancellationToken::new())
        .await?;
    if status != ExitStatus::Code(0) {
        let mut text = out.stderr.join("\n");
        if text.is_empty() {
            text = out.stdout.join("\n");
        }
        bail!("{command:?} failed ({status}): {text}");
    }
    Ok(())
}
