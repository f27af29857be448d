//! The `ssh_*` options, with Packer's names, defaults and validation rules (SDK
//! `communicator/config.go`), plus Kiln's host-key pinning (`ssh_host_key`,
//! `ssh_known_hosts_file`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::communicator::Communicator;
use crate::template::ConfigReader;
use crate::ui::Ui;
use crate::value::Value;

/// Where a connection hops through before reaching the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BastionConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub certificate_file: Option<PathBuf>,
    pub agent_auth: bool,
    pub interactive: bool,
}

/// A SOCKS5 proxy the connection goes through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// `"PORT:HOST:PORT"`: a tunnel through the SSH connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tunnel {
    pub listen_port: u16,
    pub host: String,
    pub port: u16,
}

impl Tunnel {
    pub fn parse(s: &str) -> Option<Tunnel> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 3 || parts[1].is_empty() {
            return None;
        }
        Some(Tunnel {
            listen_port: parts[0].parse().ok()?,
            host: parts[1].to_string(),
            port: parts[2].parse().ok()?,
        })
    }
}

/// How files move: `scp` (Packer's default) or `sftp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransferMethod {
    #[default]
    Scp,
    Sftp,
}

/// Packer's SSH communicator options.
#[derive(Clone, Debug)]
pub struct SshConfig {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub certificate_file: Option<PathBuf>,
    pub agent_auth: bool,
    pub keypair_name: Option<String>,
    pub temporary_key_pair_name: Option<String>,
    pub temporary_key_pair_type: String,
    pub temporary_key_pair_bits: u32,
    /// Raw key material a builder generated or injected (`build.SSHPublicKey`,
    /// `build.SSHPrivateKey`); the private key authenticates when no key file is set.
    pub public_key: Option<String>,
    pub private_key: Option<String>,
    pub timeout: Duration,
    pub handshake_attempts: u32,
    /// `None`: keepalives disabled (a negative `ssh_keep_alive_interval`).
    pub keep_alive_interval: Option<Duration>,
    pub read_write_timeout: Option<Duration>,
    pub pty: bool,
    pub disable_agent_forwarding: bool,
    pub file_transfer_method: TransferMethod,
    pub ciphers: Vec<String>,
    pub key_exchange_algorithms: Vec<String>,
    pub bastion: Option<BastionConfig>,
    pub proxy: Option<ProxyConfig>,
    pub local_tunnels: Vec<Tunnel>,
    pub remote_tunnels: Vec<Tunnel>,
    pub clear_authorized_keys: bool,
    pub pause_before_connecting: Duration,
    /// Kiln: accepted host-key fingerprints (`SHA256:…`); empty accepts any key like Packer.
    pub host_keys: Vec<String>,
    /// Kiln: a known_hosts file the host key must be listed in.
    pub known_hosts_file: Option<PathBuf>,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            host: None,
            port: 22,
            username: None,
            password: None,
            private_key_file: None,
            certificate_file: None,
            agent_auth: false,
            keypair_name: None,
            temporary_key_pair_name: None,
            temporary_key_pair_type: "rsa".to_string(),
            temporary_key_pair_bits: 4096,
            public_key: None,
            private_key: None,
            timeout: Duration::from_secs(300),
            handshake_attempts: 10,
            keep_alive_interval: Some(Duration::from_secs(5)),
            read_write_timeout: None,
            pty: false,
            disable_agent_forwarding: false,
            file_transfer_method: TransferMethod::Scp,
            ciphers: Vec::new(),
            key_exchange_algorithms: Vec::new(),
            bastion: None,
            proxy: None,
            local_tunnels: Vec::new(),
            remote_tunnels: Vec::new(),
            clear_authorized_keys: false,
            pause_before_connecting: Duration::ZERO,
            host_keys: Vec::new(),
            known_hosts_file: None,
        }
    }
}

/// `~/` expanded against `$HOME`.
pub fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Path::new(&home).join(rest);
    }
    PathBuf::from(p)
}

/// Options Packer has that only matter to cloud builders; accepted and ignored here.
const BUILDER_ONLY_OPTIONS: &[&str] = &["ssh_interface", "ssh_ip_version"];

impl SshConfig {
    /// Reads the `ssh_*` options (the `winrm_*` ones are [`crate::communicator::config::WinRmConfig`]'s), validating what does not
    /// depend on the builder.
    pub fn read(r: &mut ConfigReader) -> SshConfig {
        SshConfig::read_in(r, &crate::components::RunEnv::default())
    }

    /// [`read`](Self::read) for a run in `env`. In the cluster, a key, certificate or
    /// known-hosts file that does not exist where the template is validated (the operator)
    /// is not an error: it comes from a volume the runner pod mounts (`spec.runner.volumes`,
    /// a Secret), and is read when SSH connects. One that exists is checked as everywhere.
    pub fn read_in(r: &mut ConfigReader, env: &crate::components::RunEnv) -> SshConfig {
        SshConfig::read_checked(r, env, true)
    }

    /// [`read_in`](Self::read_in); `check`: apply the SDK's `prepareSSH` rules (only when
    /// the communicator is `ssh`: the options of another type are read and ignored).
    pub fn read_checked(
        r: &mut ConfigReader,
        env: &crate::components::RunEnv,
        check: bool,
    ) -> SshConfig {
        let d = SshConfig::default();
        r.ignore(BUILDER_ONLY_OPTIONS);
        // The SDK's `SSHPublicKey`/`SSHPrivateKey` (bytes a builder's temporary key fills in):
        // in its schema, decoded and unused.
        let _ = r.bytes("ssh_public_key");
        let _ = r.bytes("ssh_private_key");
        let port = read_port(r, "ssh_port", 22);
        let timeout_set = r.has("ssh_timeout") || r.has("ssh_wait_timeout");
        let attempts_set = r.has("ssh_handshake_attempts");
        let mut timeout = r.duration("ssh_timeout").unwrap_or(d.timeout);
        if let Some(t) = r.duration("ssh_wait_timeout") {
            // Deprecated alias that overrides ssh_timeout, as in Packer.
            timeout = t;
        }
        let mut handshake_attempts = match r.int("ssh_handshake_attempts") {
            Some(n) if n > 0 => n as u32,
            // (the SDK's zero value: its default)
            Some(0) => d.handshake_attempts,
            Some(_) => {
                r.check_error_at(
                    "ssh_handshake_attempts",
                    "Invalid ssh_handshake_attempts",
                    "ssh_handshake_attempts must be a positive number.",
                );
                d.handshake_attempts
            }
            None => d.handshake_attempts,
        };
        if !timeout_set && !attempts_set {
            timeout = d.timeout;
            handshake_attempts = d.handshake_attempts;
        }
        let keep_alive_interval = match r.string("ssh_keep_alive_interval") {
            Some(s) if s.trim_start().starts_with('-') => None,
            Some(_) => r
                .duration("ssh_keep_alive_interval")
                .filter(|d| !d.is_zero())
                .or(d.keep_alive_interval),
            None => d.keep_alive_interval,
        };
        // Checked with the SDK's other rules, in its order (`validate`).
        let transfer_method_raw = r.string("ssh_file_transfer_method").unwrap_or_default();
        let file_transfer_method = match transfer_method_raw.as_str() {
            "sftp" => TransferMethod::Sftp,
            _ => TransferMethod::Scp,
        };
        // (an empty string is the SDK's unset)
        let private_key_file = r
            .string("ssh_private_key_file")
            .filter(|s| !s.is_empty())
            .map(|s| expand_home(&s));
        let certificate_file = r
            .string("ssh_certificate_file")
            .filter(|s| !s.is_empty())
            .map(|s| expand_home(&s));
        let temporary_key_pair_type = r
            .string("temporary_key_pair_type")
            .unwrap_or(d.temporary_key_pair_type.clone());
        let bits = r.int("temporary_key_pair_bits");
        let temporary_key_pair_bits = match (temporary_key_pair_type.as_str(), bits) {
            ("rsa", None) => 4096,
            ("ecdsa", None) => 521,
            ("rsa", Some(b)) if b >= 2048 => b as u32,
            ("ecdsa", Some(b)) if [256, 384, 521].contains(&b) => b as u32,
            ("ed25519", _) => 0,
            ("dsa", _) => {
                r.check_error_at(
                    "temporary_key_pair_type",
                    "Unsupported temporary_key_pair_type",
                    "DSA keys are deprecated in Packer and unsupported in Kiln; use \"rsa\", \"ecdsa\" or \"ed25519\".",
                );
                0
            }
            ("rsa", Some(b)) => {
                r.check_error_at(
                    "temporary_key_pair_bits",
                    "Invalid temporary_key_pair_bits",
                    format!("RSA keys must have at least 2048 bits, got {b}."),
                );
                4096
            }
            ("ecdsa", Some(b)) => {
                r.check_error_at(
                    "temporary_key_pair_bits",
                    "Invalid temporary_key_pair_bits",
                    format!("ECDSA keys must have 256, 384 or 521 bits, got {b}."),
                );
                521
            }
            (other, _) => {
                r.check_error_at(
                    "temporary_key_pair_type",
                    "Invalid temporary_key_pair_type",
                    format!("temporary_key_pair_type must be one of \"rsa\", \"ecdsa\" or \"ed25519\", got {other:?}."),
                );
                0
            }
        };

        let bastion_host = r.string("ssh_bastion_host").filter(|s| !s.is_empty());
        let bastion_port = read_port(r, "ssh_bastion_port", 22);
        let bastion_username = r.string("ssh_bastion_username");
        let bastion_password = r.string("ssh_bastion_password");
        let bastion_key = r
            .string("ssh_bastion_private_key_file")
            .filter(|s| !s.is_empty())
            .map(|s| expand_home(&s));
        let bastion_cert = r
            .string("ssh_bastion_certificate_file")
            .filter(|s| !s.is_empty())
            .map(|s| expand_home(&s));
        // (checked by the SDK whether or not a bastion host is set)
        let bastion_cert_without_key = bastion_key.is_none() && bastion_cert.is_some();
        let bastion_agent = r.bool("ssh_bastion_agent_auth").unwrap_or(false);
        let bastion_interactive = r.bool("ssh_bastion_interactive").unwrap_or(false);
        let bastion = bastion_host.map(|host| BastionConfig {
            host,
            port: bastion_port,
            username: bastion_username.unwrap_or_default(),
            password: bastion_password,
            // Defaults to the main key, as in Packer.
            private_key_file: bastion_key.or(private_key_file.clone()),
            certificate_file: bastion_cert,
            agent_auth: bastion_agent,
            interactive: bastion_interactive,
        });

        let proxy_host = r.string("ssh_proxy_host").filter(|s| !s.is_empty());
        let proxy_port = read_port(r, "ssh_proxy_port", 1080);
        let proxy_username = r.string("ssh_proxy_username");
        let proxy_password = r.string("ssh_proxy_password");
        let proxy = proxy_host.map(|host| ProxyConfig {
            host,
            port: proxy_port,
            username: proxy_username,
            password: proxy_password,
        });

        let local_tunnel_specs = r.strings("ssh_local_tunnels").unwrap_or_default();
        let remote_tunnel_specs = r.strings("ssh_remote_tunnels").unwrap_or_default();
        let local_tunnels = local_tunnel_specs
            .iter()
            .filter_map(|s| Tunnel::parse(s))
            .collect();
        let remote_tunnels = remote_tunnel_specs
            .iter()
            .filter_map(|s| Tunnel::parse(s))
            .collect();

        let mut host_keys = Vec::new();
        if let Some(v) = r.any("ssh_host_key") {
            match v {
                Value::List(items) => {
                    host_keys.extend(items.iter().filter_map(|i| i.to_string_lossless()))
                }
                other => host_keys.extend(other.to_string_lossless()),
            }
        }
        for k in &host_keys {
            if !k.starts_with("SHA256:") {
                r.error_at(
                    "ssh_host_key",
                    "Invalid ssh_host_key",
                    format!("ssh_host_key must be an OpenSSH SHA256 fingerprint such as \"SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\" (see `ssh-keygen -lf`), got {k:?}."),
                );
            }
        }
        let known_hosts_file = r.string("ssh_known_hosts_file").map(|s| expand_home(&s));

        let c = SshConfig {
            host: r.string("ssh_host"),
            port,
            username: r.string("ssh_username"),
            password: r.string("ssh_password"),
            private_key_file,
            certificate_file,
            agent_auth: r.bool("ssh_agent_auth").unwrap_or(false),
            keypair_name: r.string("ssh_keypair_name"),
            temporary_key_pair_name: r.string("temporary_key_pair_name"),
            temporary_key_pair_type,
            temporary_key_pair_bits,
            public_key: None,
            private_key: None,
            timeout,
            handshake_attempts,
            keep_alive_interval,
            read_write_timeout: r
                .duration("ssh_read_write_timeout")
                .filter(|d| !d.is_zero()),
            pty: r.bool("ssh_pty").unwrap_or(false),
            disable_agent_forwarding: r.bool("ssh_disable_agent_forwarding").unwrap_or(false),
            file_transfer_method,
            ciphers: r.strings("ssh_ciphers").unwrap_or_default(),
            key_exchange_algorithms: r.strings("ssh_key_exchange_algorithms").unwrap_or_default(),
            bastion,
            proxy,
            local_tunnels,
            remote_tunnels,
            clear_authorized_keys: r.bool("ssh_clear_authorized_keys").unwrap_or(false),
            pause_before_connecting: r.duration("pause_before_connecting").unwrap_or_default(),
            host_keys,
            known_hosts_file,
        };
        if !check {
            return c;
        }
        c.validate(
            r,
            env,
            bastion_cert_without_key,
            &transfer_method_raw,
            &[
                ("ssh_local_tunnels", &local_tunnel_specs),
                ("ssh_remote_tunnels", &remote_tunnel_specs),
            ],
        );
        c
    }

    /// Checks that hold for every builder: the SDK's `prepareSSH`, its rules and words in
    /// its order (errors of the builder's `Prepare`); then Kiln's own (files mounted later in
    /// the cluster, algorithms its SSH client lacks).
    fn validate(
        &self,
        r: &mut ConfigReader,
        env: &crate::components::RunEnv,
        bastion_cert_without_key: bool,
        transfer_method: &str,
        tunnels: &[(&str, &Vec<String>)],
    ) {
        // In the cluster, a file absent here is mounted in the runner pod.
        let mounted_later = |p: &Path| env.in_cluster && !p.exists();
        if self.private_key_file.is_none() && self.certificate_file.is_some() {
            r.prepare_error(
                "ssh_private_key_file must be specified if ssh_certificate_file is specified",
            );
        }
        if bastion_cert_without_key {
            r.prepare_error(
                "ssh_bastion_private_key_file must be specified if ssh_bastion_certificate_file is specified",
            );
        }
        if self.username.as_deref().unwrap_or("").is_empty() {
            r.prepare_error(
                "An ssh_username must be specified\n  Note: some builders used to default ssh_username to \"root\".",
            );
        }
        if let Some(p) = self.private_key_file.as_ref().filter(|p| !mounted_later(p)) {
            if let Err(e) = std::fs::metadata(p) {
                r.prepare_error(format!(
                    "ssh_private_key_file is invalid: {}",
                    crate::goerr::path_error("stat", p, &e)
                ));
            } else if let Err(e) = sdk_file_signer(p) {
                r.prepare_error(format!("ssh_private_key_file is invalid: {e}"));
            } else if let Some(c) = self.certificate_file.as_ref().filter(|c| !mounted_later(c))
                && let Err(e) = russh::keys::load_openssh_certificate(c)
            {
                r.prepare_error(format!(
                    "ssh_private_key_file is invalid: Failed to read certificate file '{}': {e}",
                    c.display()
                ));
            }
        }
        if let Some(b) = &self.bastion
            && b.password.as_deref().unwrap_or("").is_empty()
            && b.private_key_file.is_none()
            && !b.agent_auth
        {
            r.prepare_error(
                "ssh_bastion_password, ssh_bastion_private_key_file or ssh_bastion_agent_auth must be specified",
            );
        } else if let Some(b) = &self.bastion
            && let Some(p) = b.private_key_file.as_ref().filter(|p| !mounted_later(p))
        {
            // The bastion's key (ssh_private_key_file when it has none of its own).
            if let Err(e) = std::fs::metadata(p) {
                r.prepare_error(format!(
                    "ssh_bastion_private_key_file is invalid: {}",
                    crate::goerr::path_error("stat", p, &e)
                ));
            } else if let Err(e) = sdk_file_signer(p) {
                r.prepare_error(format!("ssh_bastion_private_key_file is invalid: {e}"));
            }
        }
        if !matches!(transfer_method, "" | "scp" | "sftp") {
            r.prepare_error(format!(
                "ssh_file_transfer_method ('{transfer_method}') is invalid, valid methods: sftp, scp"
            ));
        }
        if self.bastion.is_some() && self.proxy.is_some() {
            r.prepare_error("please specify either ssh_bastion_host or ssh_proxy_host, not both");
        }
        for (key, specs) in tunnels {
            for spec in specs.iter() {
                if let Err(e) = go_tunnel_argument(spec) {
                    r.prepare_error(format!("{key} ('{spec}') is invalid: {e}"));
                } else if Tunnel::parse(spec).is_none() {
                    r.check_error_at(
                        key,
                        "Invalid tunnel",
                        format!("{key}: {spec:?} is not of the form \"PORT:HOST:PORT\"."),
                    );
                }
            }
        }
        if let Some(p) = &self.known_hosts_file
            && !p.is_file()
            && !mounted_later(p)
        {
            r.check_error_at(
                "ssh_known_hosts_file",
                "Invalid ssh_known_hosts_file",
                format!("ssh_known_hosts_file {} does not exist.", p.display()),
            );
        }
        if let Some(b) = &self.bastion
            && b.username.is_empty()
        {
            r.check_error(
                "Invalid SSH bastion",
                "ssh_bastion_username must be specified with ssh_bastion_host.",
            );
        }
        for name in self.ciphers.iter() {
            if russh::cipher::Name::try_from(name.as_str()).is_err() {
                r.check_error_at(
                    "ssh_ciphers",
                    "Unsupported cipher",
                    format!("Cipher {name:?} is not supported by Kiln's SSH client."),
                );
            }
        }
        for name in self.key_exchange_algorithms.iter() {
            if russh::kex::Name::try_from(name.as_str()).is_err() {
                r.check_error_at(
                    "ssh_key_exchange_algorithms",
                    "Unsupported key exchange algorithm",
                    format!(
                        "Key exchange algorithm {name:?} is not supported by Kiln's SSH client."
                    ),
                );
            }
        }
    }

    /// The `null` builder's rule: host, username and exactly one auth method.
    /// Options that cannot work where the build runs: `ssh_bastion_interactive` answers the
    /// bastion's prompts on a terminal, and build pods have none.
    pub fn check_env(&self, r: &mut ConfigReader, env: &crate::components::RunEnv) {
        if env.in_cluster && self.bastion.as_ref().is_some_and(|b| b.interactive) {
            r.warn_at(
                "ssh_bastion_interactive",
                "Needs a terminal",
                "ssh_bastion_interactive answers the bastion's prompts on a terminal, and build \
                 pods have none: run by the operator, this source cannot connect. Use \
                 ssh_bastion_password or ssh_bastion_private_key_file.",
            );
        }
    }

    /// Connects, waiting and retrying until `ssh_timeout`.
    pub async fn connect(
        &self,
        ui: &Ui,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Arc<dyn Communicator>> {
        let c = super::client::SshClient::connect(self.clone(), ui, cancel).await?;
        Ok(Arc::new(c))
    }

    /// The private key used for `build.SSHPrivateKey`: the injected one, else the key file.
    fn private_key_text(&self) -> Option<String> {
        self.private_key.clone().or_else(|| {
            self.private_key_file
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
        })
    }

    /// `build.*` values: Host, Port, User, Password, ConnType, SSHPublicKey, SSHPrivateKey.
    pub fn generated_data(&self) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        m.insert("ConnType".to_string(), Value::str("ssh"));
        m.insert(
            "Host".to_string(),
            Value::str(self.host.clone().unwrap_or_default()),
        );
        m.insert("Port".to_string(), Value::from(i64::from(self.port)));
        m.insert(
            "User".to_string(),
            Value::str(self.username.clone().unwrap_or_default()),
        );
        m.insert(
            "Password".to_string(),
            Value::str(self.password.clone().unwrap_or_default()),
        );
        let private = self.private_key_text();
        let public = self.public_key.clone().or_else(|| {
            let text = private.as_ref()?;
            let key = russh::keys::decode_secret_key(text, None).ok()?;
            key.public_key().to_openssh().ok()
        });
        m.insert(
            "SSHPublicKey".to_string(),
            Value::str(public.unwrap_or_default()),
        );
        m.insert(
            "SSHPrivateKey".to_string(),
            Value::str(private.unwrap_or_default()),
        );
        m
    }
}

/// The SDK's `FileSigner` (`communicator/ssh`): the key file read, a PEM block looked for
/// (`encoding/pem`), an encrypted one refused, then the key parsed; its errors in its words
/// (a key Go parses but Kiln's client cannot read says why in russh's).
fn sdk_file_signer(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "Error setting up SSH config: {}",
            crate::goerr::path_error("open", path, &e)
        )
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let read_fail = |why: &str| {
        Err(format!(
            "Error setting up SSH config: Failed to read key '{}': {why}",
            path.display()
        ))
    };
    match pem_block(&text) {
        None => return read_fail("no key found"),
        Some(true) => {
            return read_fail(
                "password protected keys are\nnot supported. Please decrypt the key prior to use.",
            );
        }
        Some(false) => {}
    }
    russh::keys::decode_secret_key(&text, None)
        .map(|_| ())
        .map_err(|e| format!("Error setting up SSH config: {e}"))
}

/// `pem.Decode`'s first block, as far as the SDK looks at it: `None` without a complete
/// `-----BEGIN T-----` … `-----END T-----` block, else whether its headers say
/// `Proc-Type: 4,ENCRYPTED`.
fn pem_block(text: &str) -> Option<bool> {
    let mut lines = text.lines();
    let kind = lines.by_ref().find_map(|l| {
        l.trim_end()
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
    })?;
    let end = format!("-----END {kind}-----");
    let mut encrypted = false;
    let mut in_headers = true;
    for l in lines {
        let l = l.trim_end();
        if l == end {
            return Some(encrypted);
        }
        if in_headers {
            match l.split_once(':') {
                Some((k, v)) if !k.contains(' ') => {
                    encrypted |= k == "Proc-Type" && v.trim() == "4,ENCRYPTED";
                }
                _ => in_headers = false,
            }
        }
    }
    None
}

fn read_port(r: &mut ConfigReader, key: &str, default: u16) -> u16 {
    match r.int(key) {
        Some(p) if (1..=65535).contains(&p) => p as u16,
        // (the SDK's zero value: its default port)
        Some(0) => default,
        Some(p) => {
            r.check_error_at(
                key,
                "Invalid port",
                format!("{key} must be between 1 and 65535, got {p}."),
            );
            default
        }
        None => default,
    }
}

/// The SDK's `ParseTunnelArgument` (`PORT:HOST:PORT`): its error texts, Go's
/// `net.SplitHostPort` and `strconv.Atoi` messages included.
fn go_tunnel_argument(spec: &str) -> Result<(), String> {
    let Some((listen, forward)) = spec.split_once(':') else {
        return Err(format!("Error parsing tunnel '{spec}': [{spec}]"));
    };
    let port = go_split_host_port(forward)
        .map_err(|e| format!("Error parsing forwarding, must be a tcp address: {e}"))?;
    go_atoi(port)
        .map_err(|e| format!("Error parsing forwarding port, must be a valid port: {e}"))?;
    go_atoi(listen)
        .map_err(|e| format!("Error parsing listening port, must be a valid port: {e}"))?;
    Ok(())
}

/// Go's `net.SplitHostPort`: the port, or its error text.
fn go_split_host_port(addr: &str) -> Result<&str, String> {
    let err = |why: &str| Err(format!("address {addr}: {why}"));
    let Some(i) = addr.rfind(':') else {
        return err("missing port in address");
    };
    let (host, port) = (&addr[..i], &addr[i + 1..]);
    if host.starts_with('[') {
        let Some(end) = host.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 != host.len() {
            return err("missing port in address");
        }
        if host[1..end].contains('[') {
            return err("unexpected '[' in address");
        }
    } else {
        if host.contains(':') {
            return err("too many colons in address");
        }
        if host.contains('[') {
            return err("unexpected '[' in address");
        }
        if host.contains(']') {
            return err("unexpected ']' in address");
        }
    }
    if port.contains('[') {
        return err("unexpected '[' in address");
    }
    if port.contains(']') {
        return err("unexpected ']' in address");
    }
    Ok(port)
}

/// Go's `strconv.Atoi` on a port: its error text for what is not a (64-bit) integer.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            crate::value::go_quote(s)
        ));
    }
    s.parse::<i64>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: value out of range",
            crate::value::go_quote(s)
        )
    })
}

/// Decodes an HCL body with a component's reader (tests and tools): returns the value, or
/// every error as one line each.
pub fn decode_hcl<T>(src: &str, f: impl FnOnce(&mut ConfigReader) -> T) -> Result<T, Vec<String>> {
    use crate::diag::SourceFile;
    use crate::template::{EvalEnv, RawBody};
    let file = SourceFile::new(Path::new("test.pkr.hcl"), src.to_string());
    let body = hcl::edit::parser::parse_body(&file.text).map_err(|e| vec![e.to_string()])?;
    let raw = RawBody::from_body(&body, &file);
    let env = EvalEnv::default();
    let mut r = ConfigReader::new(&raw, &env, None, "test");
    let v = f(&mut r);
    let diags = r.finish();
    if diags.has_errors() {
        return Err(diags
            .0
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .map(|d| d.one_line())
            .collect());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packer_defaults() {
        let c = decode_hcl("ssh_username = \"u\"", SshConfig::read).unwrap();
        assert_eq!(c.port, 22);
        // The SDK's prepareSSH requires a user name.
        let e = decode_hcl("", SshConfig::read).unwrap_err();
        assert!(
            e[0].contains("* An ssh_username must be specified"),
            "{e:?}"
        );
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert_eq!(c.handshake_attempts, 10);
        assert_eq!(c.keep_alive_interval, Some(Duration::from_secs(5)));
        assert_eq!(c.file_transfer_method, TransferMethod::Scp);
        assert_eq!(c.temporary_key_pair_type, "rsa");
        assert_eq!(c.temporary_key_pair_bits, 4096);
        assert!(!c.pty && !c.agent_auth && !c.disable_agent_forwarding);
        assert!(c.host_keys.is_empty());
    }

    #[test]
    fn options_are_read_and_validated() {
        let c = decode_hcl(
            r#"
ssh_host = "h"
ssh_username = "u"
ssh_port = 2222
ssh_timeout = "30s"
ssh_keep_alive_interval = "-1s"
ssh_file_transfer_method = "sftp"
ssh_bastion_host = "b"
ssh_bastion_username = "u"
ssh_bastion_password = "p"
ssh_local_tunnels = ["8080:localhost:80"]
ssh_host_key = ["SHA256:abc", "SHA256:def"]
temporary_key_pair_type = "ecdsa"
temporary_key_pair_bits = 384
ssh_ciphers = ["aes256-gcm@openssh.com"]
"#,
            SshConfig::read,
        )
        .unwrap();
        assert_eq!(c.port, 2222);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.keep_alive_interval, None);
        assert_eq!(c.file_transfer_method, TransferMethod::Sftp);
        let b = c.bastion.unwrap();
        assert_eq!((b.host.as_str(), b.port), ("b", 22));
        assert_eq!(c.local_tunnels[0].listen_port, 8080);
        assert_eq!(c.host_keys.len(), 2);
        assert_eq!(c.temporary_key_pair_bits, 384);

        for (src, want) in [
            (
                "ssh_file_transfer_method = \"rsync\"",
                "ssh_file_transfer_method ('rsync') is invalid, valid methods: sftp, scp",
            ),
            (
                "ssh_bastion_host = \"b\"\nssh_bastion_username = \"u\"\nssh_bastion_password = \"p\"\nssh_proxy_host = \"x\"",
                "please specify either ssh_bastion_host or ssh_proxy_host, not both",
            ),
            (
                "ssh_bastion_host = \"b\"\nssh_bastion_username = \"u\"",
                "ssh_bastion_password",
            ),
            ("ssh_host_key = \"abc\"", "SHA256 fingerprint"),
            (
                "ssh_local_tunnels = [\"80\"]",
                "ssh_local_tunnels ('80') is invalid: Error parsing tunnel '80': [80]",
            ),
            (
                "ssh_remote_tunnels = [\"x:h:80\"]",
                "Error parsing listening port, must be a valid port: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            ("ssh_port = 70000", "between 1 and 65535"),
            ("ssh_ciphers = [\"rot13\"]", "not supported"),
            (
                "ssh_private_key_file = \"/nonexistent/kiln\"",
                "ssh_private_key_file is invalid",
            ),
            (
                "ssh_certificate_file = \"/nonexistent/kiln\"",
                "ssh_private_key_file must be specified if ssh_certificate_file is specified",
            ),
            ("temporary_key_pair_type = \"dsa\"", "DSA"),
            ("temporary_key_pair_bits = 1024", "at least 2048"),
        ] {
            let e = decode_hcl(src, SshConfig::read).unwrap_err();
            assert!(e.iter().any(|m| m.contains(want)), "{src}: {e:?}");
        }
    }

    /// Validated by the operator, a key file the runner pod mounts (a Secret volume) is not
    /// there yet: not an error in the cluster. One that is there is checked as everywhere.
    #[test]
    fn in_the_cluster_files_mounted_later_are_not_errors() {
        let cluster = crate::components::RunEnv {
            in_cluster: true,
            ..Default::default()
        };
        let in_cluster = |src: &str| {
            let src = format!("ssh_username = \"u\"\n{src}");
            decode_hcl(&src, |r| SshConfig::read_in(r, &cluster))
        };
        let locally =
            |src: &str| decode_hcl(&format!("ssh_username = \"u\"\n{src}"), SshConfig::read);
        for src in [
            "ssh_private_key_file = \"/keys/absent\"",
            "ssh_known_hosts_file = \"/keys/absent\"",
            "ssh_private_key_file = \"/keys/absent\"\nssh_certificate_file = \"/keys/absent-cert\"",
        ] {
            let c = in_cluster(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
            assert!(c.private_key_file.is_some() || c.known_hosts_file.is_some());
            assert!(locally(src).is_err(), "locally: {src}");
        }
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "not a key").unwrap();
        let e = in_cluster(&format!("ssh_private_key_file = \"{}\"", bad.display())).unwrap_err();
        assert!(
            e.iter()
                .any(|m| m.contains("ssh_private_key_file is invalid")),
            "{e:?}"
        );
    }

    #[test]
    fn generated_data_and_keys() {
        let kp = super::super::keys::generate("ed25519", 0, "kiln").unwrap();
        assert!(kp.public_key.starts_with("ssh-ed25519 "));
        assert!(
            super::super::keys::fingerprint(&kp.public_key)
                .unwrap()
                .starts_with("SHA256:")
        );
        let ec = super::super::keys::generate("ecdsa", 256, "kiln").unwrap();
        assert!(ec.public_key.starts_with("ecdsa-sha2-nistp256 "));

        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id");
        std::fs::write(&key, &kp.private_key).unwrap();
        let c = SshConfig {
            host: Some("10.0.0.1".into()),
            username: Some("root".into()),
            private_key_file: Some(key),
            ..Default::default()
        };
        let g = c.generated_data();
        assert_eq!(g["ConnType"], Value::str("ssh"));
        assert_eq!(g["Host"], Value::str("10.0.0.1"));
        assert_eq!(g["Port"], Value::Number(22.0.into()));
        assert_eq!(g["User"], Value::str("root"));
        assert_eq!(g["SSHPrivateKey"], Value::str(kp.private_key.clone()));
        let public = g["SSHPublicKey"].to_string_lossless().unwrap();
        assert_eq!(
            public.split_whitespace().nth(1),
            kp.public_key.split_whitespace().nth(1)
        );
    }
}
