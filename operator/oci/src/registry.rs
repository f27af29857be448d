//! A client for the OCI distribution API (what `docker pull`/`docker push` speak).
//!
//! # Why hand-written on `ureq`, not `oci-client`
//!
//! `oci-client` (formerly `oci-distribution`) was evaluated first, as customers know it. It is
//! async-only on `reqwest`, which would add a second HTTP/TLS stack next to kube's `hyper`
//! client and the engine's `ureq`; it decides HTTP vs HTTPS from a fixed list given up
//! front rather than from the address (dockerd's loopback rule), its errors do not carry the
//! repository and status together, and it buffers some bodies in memory. What Kiln needs is
//! small — about fifteen calls of the distribution API with token and basic auth — and must
//! stream blobs to and from files with the digest checked on the way with constant memory.
//! `ureq` (already a dependency of the engine, rustls-based, blocking, streaming bodies from
//! `Read`/to `Read`) does that with the API written here by hand. The client is blocking:
//! the engine calls it from `spawn_blocking`.
//!
//! # Rules
//! - Registries on loopback (`localhost`, `127.0.0.0/8`, `::1`) are spoken to over plain HTTP
//!   without being told, as dockerd treats them as insecure, and so are those named in
//!   [`ClientOptions::insecure`] (env `KILN_INSECURE_REGISTRIES`, as dockerd's
//!   `insecure-registries`: names or CIDR ranges); everything else over HTTPS,
//!   verified against the Mozilla roots or, when given, a CA bundle
//!   ([`ClientOptions::ca_file`], env `KILN_REGISTRY_CA_FILE`).
//! - Auth: a `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` is answered by
//!   fetching a token from the realm (with basic credentials when there are some); a `Basic`
//!   challenge by sending the credentials. Tokens are cached per registry and scope.
//! - Every error names the registry, the repository and the HTTP status (or the transport
//!   failure).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use ureq::http;

use crate::auth::{Credential, Credentials};
use crate::store::{
    Descriptor, Index, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST, Manifest, Platform, Store, StoredImage,
};
use crate::{Digest, Error, Reference, Result};

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Options of a [`Client`].
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Credentials by registry.
    pub credentials: Credentials,
    /// A PEM bundle of CA certificates to trust for HTTPS registries instead of the Mozilla
    /// roots. Defaults to `$KILN_REGISTRY_CA_FILE` when set.
    pub ca_file: Option<PathBuf>,
    /// Overall timeout of one HTTP call (not of a blob transfer); default 60 s.
    pub timeout: Option<Duration>,
    /// Host name → address overrides, as curl's `--resolve` or an `/etc/hosts` line (split
    /// DNS in a cluster; tests that serve TLS on loopback under a name). Defaults to
    /// `$KILN_REGISTRY_RESOLVE` (`host=ip,host=ip`). Whether a registry is spoken to over
    /// plain HTTP is decided on its name, before this mapping.
    pub resolve: HashMap<String, IpAddr>,
    /// Registries spoken to over plain HTTP although not on loopback, as dockerd's
    /// `insecure-registries`: `host[:port]` names or CIDR ranges (`10.96.0.0/12`). Defaults to
    /// `$KILN_INSECURE_REGISTRIES` (comma-separated).
    pub insecure: Vec<String>,
}

/// One `insecure-registries` entry.
#[derive(Clone, Debug, PartialEq)]
enum Insecure {
    /// `host` or `host:port`, compared with the reference's registry (a bare host matches
    /// any port).
    Name(String),
    /// An address range; matches a registry whose host is an address in it.
    Cidr(IpAddr, u8),
}

impl Insecure {
    fn parse(entry: &str) -> Result<Insecure> {
        let entry = entry.trim();
        if let Some((ip, bits)) = entry.split_once('/') {
            let bad = || {
                Error::Invalid(format!(
                    "insecure registry {entry:?}: not a CIDR range (address/prefix length)"
                ))
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let bits: u8 = bits.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(bad());
            }
            return Ok(Insecure::Cidr(ip, bits));
        }
        if entry.is_empty() || entry.contains(['/', ' ']) {
            return Err(Error::Invalid(format!(
                "insecure registry {entry:?}: expected host[:port] or a CIDR range"
            )));
        }
        Ok(Insecure::Name(entry.to_ascii_lowercase()))
    }

    fn matches(&self, registry: &str) -> bool {
        let registry = registry.to_ascii_lowercase();
        let host = if let Some(rest) = registry.strip_prefix('[') {
            rest.split(']').next().unwrap_or("")
        } else {
            registry
                .rsplit_once(':')
                .map_or(registry.as_str(), |(h, _)| h)
        };
        match self {
            Insecure::Name(n) => *n == registry || *n == host,
            Insecure::Cidr(net, bits) => match (host.parse::<IpAddr>(), net) {
                (Ok(IpAddr::V4(a)), IpAddr::V4(n)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                    u32::from(a) & mask == u32::from(*n) & mask
                }
                (Ok(IpAddr::V6(a)), IpAddr::V6(n)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                    u128::from(a) & mask == u128::from(*n) & mask
                }
                _ => false,
            },
        }
    }
}

#[derive(Debug)]
struct OverrideResolver {
    map: HashMap<String, IpAddr>,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for OverrideResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let Some(ip) = uri.host().and_then(|h| self.map.get(h)) {
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("http") {
                    80
                } else {
                    443
                });
            let mut v = self.empty();
            v.push(std::net::SocketAddr::new(*ip, port));
            return Ok(v);
        }
        self.inner.resolve(uri, config, timeout)
    }
}

/// What a pull produced.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The image as stored (manifest for the chosen platform, config).
    pub image: StoredImage,
    /// The digest the registry gave for the reference (the index digest for a multi-platform
    /// image): Docker's repo digest, Packer's `SourceImageDigest`.
    pub repo_digest: Digest,
    /// Layers fetched over the network (the others were already in the store).
    pub layers_fetched: usize,
    /// Each layer of the image, in order, and whether it was fetched (else it was in the
    /// store already).
    pub layers: Vec<(Digest, bool)>,
    /// The store already named this manifest so: nothing was fetched or changed (Docker's
    /// "Image is up to date").
    pub up_to_date: bool,
}

/// What a push did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The digest of the pushed manifest.
    pub manifest_digest: Digest,
    /// Blobs the registry already had in the repository (HEAD answered 200).
    pub skipped: usize,
    /// Blobs mounted from another repository of the same registry.
    pub mounted: usize,
    /// Blobs uploaded.
    pub uploaded: usize,
    /// What happened to each blob, layers in manifest order, then the config.
    pub blobs: Vec<(Digest, BlobPush)>,
    /// The size of the pushed manifest, in bytes.
    pub manifest_size: u64,
}

/// How a blob reached the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobPush {
    /// The repository had it.
    Exists,
    /// Mounted from this other repository of the registry.
    Mounted(String),
    Uploaded,
}

impl Default for Digest {
    fn default() -> Self {
        Digest::of(b"")
    }
}

pub(crate) enum Body {
    Empty,
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// The `Authorization` value for a username and password.
fn basic_auth(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Context of a call, named in errors.
pub(crate) struct Ctx<'a> {
    registry: &'a str,
    repository: &'a str,
    action: String,
}

impl<'a> Ctx<'a> {
    pub(crate) fn of(r: &'a Reference, action: String) -> Self {
        Ctx {
            registry: &r.registry,
            repository: &r.repository,
            action,
        }
    }
    /// `resp` when `ok` accepts its status, else the error naming this call, with the
    /// registry's answer.
    pub(crate) fn accept(
        &self,
        resp: http::Response<ureq::Body>,
        ok: impl Fn(u16) -> bool,
    ) -> Result<http::Response<ureq::Body>> {
        let st = resp.status().as_u16();
        if ok(st) {
            Ok(resp)
        } else {
            Err(self.status(st, read_error_body(resp)))
        }
    }
    pub(crate) fn status(&self, status: u16, detail: String) -> Error {
        Error::Status {
            registry: self.registry.into(),
            repository: self.repository.into(),
            action: self.action.clone(),
            status,
            detail,
        }
    }
    pub(crate) fn transport(&self, detail: impl std::fmt::Display) -> Error {
        Error::Transport {
            registry: self.registry.into(),
            repository: self.repository.into(),
            action: self.action.clone(),
            detail: detail.to_string(),
        }
    }
}

/// A registry client. Cheap to share across threads.
pub struct Client {
    agent: ureq::Agent,
    credentials: Credentials,
    insecure: Vec<Insecure>,
    /// (registry, scope) → Authorization header value.
    auth_cache: Mutex<HashMap<(String, String), String>>,
}

/// Whether `registry` (host[:port]) is a loopback address, spoken to over plain HTTP.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

pub(crate) fn read_error_body(resp: http::Response<ureq::Body>) -> String {
    let mut body = resp.into_body();
    let bytes = body
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Errs {
        errors: Vec<E>,
    }
    #[derive(serde::Deserialize)]
    struct E {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(e) = serde_json::from_slice::<Errs>(&bytes) {
        return e
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ");
    }
    let s = String::from_utf8_lossy(&bytes);
    s.trim().chars().take(200).collect()
}

/// Parses `Bearer realm="…",service="…"` into its scheme and parameters.
fn parse_challenge(h: &str) -> (String, BTreeMap<String, String>) {
    let (scheme, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
    let mut params = BTreeMap::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some((k, v)) = s.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let v = v.trim_start();
        let (val, rest) = if let Some(q) = v.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_string(), &q[(end + 1).min(q.len())..])
        } else {
            let end = v.find(',').unwrap_or(v.len());
            (v[..end].trim().to_string(), &v[end..])
        };
        params.insert(k, val);
        s = rest.trim_start_matches(',').trim();
    }
    (scheme.to_ascii_lowercase(), params)
}

fn url_encode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client> {
        let ca_file = opts
            .ca_file
            .or_else(|| std::env::var_os("KILN_REGISTRY_CA_FILE").map(PathBuf::from));
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(p) = &ca_file {
            let pem = std::fs::read(p).map_err(Error::io("read registry CA bundle", p))?;
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::Invalid(format!(
                    "registry CA bundle {}: no PEM certificate in it",
                    p.display()
                )));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let mut resolve = opts.resolve;
        if let Ok(env) = std::env::var("KILN_REGISTRY_RESOLVE") {
            for pair in env.split(',').filter(|p| !p.trim().is_empty()) {
                let (h, ip) = pair.trim().split_once('=').ok_or_else(|| {
                    Error::Invalid(format!("KILN_REGISTRY_RESOLVE: {pair:?} is not host=ip"))
                })?;
                let ip: IpAddr = ip.parse().map_err(|_| {
                    Error::Invalid(format!(
                        "KILN_REGISTRY_RESOLVE: {ip:?} is not an IP address"
                    ))
                })?;
                resolve.entry(h.to_string()).or_insert(ip);
            }
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(opts.timeout.unwrap_or(Duration::from_secs(60))))
            .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")))
            .max_redirects(10)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            OverrideResolver {
                map: resolve,
                inner: Default::default(),
            },
        );
        let mut insecure = Vec::new();
        let from_env = std::env::var("KILN_INSECURE_REGISTRIES").unwrap_or_default();
        for e in opts
            .insecure
            .iter()
            .map(String::as_str)
            .chain(from_env.split(','))
            .filter(|e| !e.trim().is_empty())
        {
            insecure.push(Insecure::parse(e)?);
        }
        Ok(Client {
            agent,
            credentials: opts.credentials,
            insecure,
            auth_cache: Mutex::new(HashMap::new()),
        })
    }

    /// `http` for loopback registries and those named insecure, else `https`.
    fn scheme(&self, registry: &str) -> &'static str {
        if is_loopback(registry) || self.insecure.iter().any(|i| i.matches(registry)) {
            "http"
        } else {
            "https"
        }
    }

    /// The registry's API base, `<scheme>://<host>/v2/` (Docker Hub's API host for
    /// `docker.io`).
    pub fn base_url(&self, registry: &str) -> String {
        let host = if registry == crate::reference::DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            registry
        };
        format!("{}://{host}/v2/", self.scheme(registry))
    }

    /// What `docker login` asks the registry: `GET /v2/` with the client's credentials for
    /// `registry` (a token fetched for a bearer challenge), answered with a success.
    pub fn check_login(&self, registry: &str) -> Result<()> {
        let ctx = Ctx {
            registry,
            repository: "",
            action: "log in".into(),
        };
        let url = self.base_url(registry);
        let resp = self.send(&ctx, "GET", &url, &[], &[], Body::Empty)?;
        ctx.accept(resp, is_success).map(|_| ())
    }

    pub(crate) fn url(&self, r: &Reference, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme(&r.registry),
            r.api_host(),
            r.repository
        )
    }

    fn raw(
        &self,
        ctx: &Ctx,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&str>,
        body: &Body,
    ) -> Result<http::Response<ureq::Body>> {
        let mut b = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        let res = match body {
            Body::Empty => {
                if method == "PUT" || method == "POST" || method == "PATCH" {
                    b = b.header("Content-Length", "0");
                    self.agent
                        .run(b.body(&[][..]).map_err(|e| ctx.transport(e))?)
                } else {
                    self.agent.run(b.body(()).map_err(|e| ctx.transport(e))?)
                }
            }
            Body::Bytes(v) => self
                .agent
                .run(b.body(&v[..]).map_err(|e| ctx.transport(e))?),
            Body::File(p) => {
                let f = File::open(p).map_err(Error::io("open blob", p))?;
                self.agent.run(b.body(f).map_err(|e| ctx.transport(e))?)
            }
        };
        res.map_err(|e| ctx.transport(e))
    }

    /// Sends a request, answering an auth challenge once. `scopes` are the token scopes to
    /// ask for (`repository:NAME:pull` …).
    pub(crate) fn send(
        &self,
        ctx: &Ctx,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        scopes: &[String],
        body: Body,
    ) -> Result<http::Response<ureq::Body>> {
        let key = (ctx.registry.to_string(), scopes.join(" "));
        let cached = self.auth_cache.lock().unwrap().get(&key).cloned();
        let resp = self.raw(ctx, method, url, headers, cached.as_deref(), &body)?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let detail = read_error_body(resp);
        let (scheme, params) = parse_challenge(&challenge);
        let cred = self.credentials.get(ctx.registry).cloned();
        let header = match scheme.as_str() {
            "bearer" => self.fetch_token(ctx, &params, scopes, cred.as_ref())?,
            "basic" => match &cred {
                Some(Credential::Basic { username, password }) => basic_auth(username, password),
                _ => {
                    return Err(ctx.status(
                        401,
                        format!("{detail}; the registry asks for a username and password and none is configured for {} (docker config auths or login_username/login_password)", ctx.registry),
                    ));
                }
            },
            _ => {
                return Err(ctx.status(
                    401,
                    format!("{detail}; unsupported challenge {challenge:?}"),
                ));
            }
        };
        if cached.as_deref() == Some(header.as_str()) {
            return Err(ctx.status(401, detail));
        }
        let resp = self.raw(ctx, method, url, headers, Some(&header), &body)?;
        if resp.status() == 401 || resp.status() == 403 {
            let st = resp.status().as_u16();
            let d = read_error_body(resp);
            return Err(ctx.status(
                st,
                if cred.is_some() {
                    format!("{d}; the credentials for {} were refused", ctx.registry)
                } else {
                    d
                },
            ));
        }
        self.auth_cache.lock().unwrap().insert(key, header);
        Ok(resp)
    }

    fn fetch_token(
        &self,
        ctx: &Ctx,
        params: &BTreeMap<String, String>,
        scopes: &[String],
        cred: Option<&Credential>,
    ) -> Result<String> {
        let realm = params
            .get("realm")
            .ok_or_else(|| ctx.status(401, "Bearer challenge without realm".into()))?;
        let tctx = Ctx {
            registry: ctx.registry,
            repository: ctx.repository,
            action: format!("{} (token from {realm})", ctx.action),
        };
        let mut q = vec![];
        if let Some(s) = params.get("service") {
            q.push(format!("service={}", url_encode(s)));
        }
        for s in scopes {
            q.push(format!("scope={}", url_encode(s)));
        }
        let resp = match cred {
            Some(Credential::IdentityToken(t)) => {
                q.push("grant_type=refresh_token".into());
                q.push("client_id=kiln".into());
                q.push(format!("refresh_token={}", url_encode(t)));
                let body = q.join("&").into_bytes();
                self.raw(
                    &tctx,
                    "POST",
                    realm,
                    &[("Content-Type", "application/x-www-form-urlencoded".into())],
                    None,
                    &Body::Bytes(body),
                )?
            }
            _ => {
                let url = format!(
                    "{realm}{}{}",
                    if realm.contains('?') { "&" } else { "?" },
                    q.join("&")
                );
                let auth = match cred {
                    Some(Credential::Basic { username, password }) => {
                        Some(basic_auth(username, password))
                    }
                    _ => None,
                };
                self.raw(&tctx, "GET", &url, &[], auth.as_deref(), &Body::Empty)?
            }
        };
        let resp = tctx.accept(resp, is_success)?;
        #[derive(serde::Deserialize)]
        struct Tok {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let bytes = resp
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| tctx.transport(e))?;
        let t: Tok = serde_json::from_slice(&bytes)
            .map_err(|e| tctx.transport(format!("token answer is not JSON: {e}")))?;
        let tok = t
            .token
            .or(t.access_token)
            .ok_or_else(|| tctx.transport("token answer has no token"))?;
        Ok(format!("Bearer {tok}"))
    }

    fn pull_scope(r: &Reference) -> Vec<String> {
        vec![format!("repository:{}:pull", r.repository)]
    }

    /// Fetches a manifest or index by tag or digest: (raw bytes, media type, digest).
    pub fn get_manifest(
        &self,
        r: &Reference,
        reference: &str,
    ) -> Result<(Vec<u8>, String, Digest)> {
        let ctx = Ctx::of(r, format!("get manifest {reference}"));
        let resp = ctx.accept(
            self.send(
                &ctx,
                "GET",
                &self.url(r, &format!("manifests/{reference}")),
                &[("Accept", MANIFEST_ACCEPT.into())],
                &Self::pull_scope(r),
                Body::Empty,
            )?,
            is_success,
        )?;
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let bytes = resp
            .into_body()
            .with_config()
            .limit(8 << 20)
            .read_to_vec()
            .map_err(|e| ctx.transport(e))?;
        let digest = Digest::of(&bytes);
        if let Ok(want) = Digest::parse(reference)
            && want != digest
        {
            return Err(Error::DigestMismatch {
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                what: "manifest".into(),
                expected: want.to_string(),
                actual: digest.to_string(),
            });
        }
        #[derive(serde::Deserialize)]
        struct Mt {
            #[serde(rename = "mediaType", default)]
            media_type: Option<String>,
            #[serde(default)]
            manifests: Option<serde_json::Value>,
        }
        let body_mt: Mt = serde_json::from_slice(&bytes)
            .map_err(|e| ctx.transport(format!("manifest is not JSON: {e}")))?;
        let mt = match body_mt.media_type {
            Some(m) if !m.is_empty() => m,
            _ if body_mt.manifests.is_some() => MEDIA_OCI_INDEX.into(),
            _ if ct.is_empty() || ct == "application/json" => MEDIA_OCI_MANIFEST.into(),
            _ => ct,
        };
        Ok((bytes, mt, digest))
    }

    /// Streams the blob `desc` of `r` into `store`, checking its digest and size.
    pub fn fetch_blob(&self, r: &Reference, desc: &Descriptor, store: &Store) -> Result<()> {
        if store.has_blob(&desc.digest) {
            return Ok(());
        }
        let ctx = Ctx::of(r, format!("get blob {}", desc.digest));
        let resp = ctx.accept(
            self.send(
                &ctx,
                "GET",
                &self.url(r, &format!("blobs/{}", desc.digest)),
                &[],
                &Self::pull_scope(r),
                Body::Empty,
            )?,
            is_success,
        )?;
        let mut reader = resp.into_body().into_reader();
        let mut w = store.blob_writer()?;
        io::copy(&mut reader, &mut w).map_err(|e| ctx.transport(e))?;
        let (got, size) = match w.commit(Some(&desc.digest)) {
            Ok(x) => x,
            Err(Error::Invalid(m)) => {
                return Err(Error::DigestMismatch {
                    registry: r.registry.clone(),
                    repository: r.repository.clone(),
                    what: format!("blob {}", desc.digest),
                    expected: desc.digest.to_string(),
                    actual: m,
                });
            }
            Err(e) => return Err(e),
        };
        if size != desc.size {
            let _ = std::fs::remove_file(store.blob_path(&got));
            return Err(ctx.transport(format!(
                "blob is {size} bytes, the manifest says {}",
                desc.size
            )));
        }
        Ok(())
    }

    /// Pulls `r` into `store` (named `r.to_string()`), choosing `platform` in an index.
    pub fn pull(&self, r: &Reference, store: &Store, platform: &Platform) -> Result<Pulled> {
        let (bytes, mt, repo_digest) = self.get_manifest(r, &r.manifest_ref())?;
        let (bytes, mt, digest) = if mt == MEDIA_OCI_INDEX || mt == MEDIA_DOCKER_LIST {
            let idx: Index = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!("{r}: index {repo_digest} is not valid: {e}"))
            })?;
            let chosen = idx
                .manifests
                .iter()
                .find(|m| m.platform.as_ref().is_some_and(|p| platform.matches(p)))
                .ok_or_else(|| {
                    let have: Vec<String> = idx
                        .manifests
                        .iter()
                        .filter_map(|m| m.platform.as_ref().map(|p| p.to_string()))
                        .collect();
                    Error::Invalid(format!(
                        "registry {}, repository {}: image {r} has no manifest for platform {platform} (it has: {})",
                        r.registry,
                        r.repository,
                        have.join(", ")
                    ))
                })?;
            let d = chosen.digest.to_string();
            self.get_manifest(r, &d)?
        } else {
            (bytes, mt, repo_digest.clone())
        };
        if mt != MEDIA_OCI_MANIFEST && mt != MEDIA_DOCKER_MANIFEST {
            return Err(Error::Invalid(format!(
                "registry {}, repository {}: {r} has unsupported manifest type {mt:?}",
                r.registry, r.repository
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("{r}: manifest {digest} is not valid: {e}")))?;
        let name = r.to_string();
        let up_to_date = store
            .image(&name)
            .is_ok_and(|i| i.descriptor.digest == digest);
        self.fetch_blob(r, &manifest.config, store)?;
        let mut layers = Vec::new();
        for l in &manifest.layers {
            let fetch = !store.has_blob(&l.digest);
            if fetch {
                self.fetch_blob(r, l, store)?;
            }
            layers.push((l.digest.clone(), fetch));
        }
        let fetched = layers.iter().filter(|(_, f)| *f).count();
        let (d, size) = store.put_blob(&bytes)?;
        debug_assert_eq!(d, digest);
        let desc = Descriptor::new(&mt, digest, size);
        store.tag(&name, &desc)?;
        let mut known: Vec<&Digest> = manifest.layers.iter().map(|l| &l.digest).collect();
        known.push(&manifest.config.digest);
        record_sources(store, &r.registry, &r.repository, &known)?;
        let image = store.image_by_descriptor(&name, desc)?;
        Ok(Pulled {
            image,
            repo_digest,
            layers_fetched: fetched,
            layers,
            up_to_date,
        })
    }

    pub(crate) fn blob_exists(&self, r: &Reference, d: &Digest, scopes: &[String]) -> Result<bool> {
        let ctx = Ctx::of(r, format!("check blob {d}"));
        let resp = self.send(
            &ctx,
            "HEAD",
            &self.url(r, &format!("blobs/{d}")),
            &[],
            scopes,
            Body::Empty,
        )?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            st => Err(ctx.status(st, String::new())),
        }
    }

    /// Completes a blob upload the registry started (`202` with a `Location`): one `PUT` of
    /// `body` with its digest.
    pub(crate) fn finish_upload(
        &self,
        r: &Reference,
        started: &Ctx,
        resp: &http::Response<ureq::Body>,
        d: &Digest,
        scopes: &[String],
        body: Body,
    ) -> Result<()> {
        let loc = self.location(r, started, resp)?;
        let put = format!(
            "{loc}{}digest={}",
            if loc.contains('?') { "&" } else { "?" },
            url_encode(d.as_str())
        );
        let ctx = Ctx::of(r, format!("upload blob {d}"));
        ctx.accept(
            self.send(
                &ctx,
                "PUT",
                &put,
                &[("Content-Type", "application/octet-stream".into())],
                scopes,
                body,
            )?,
            |st| st == 201,
        )?;
        Ok(())
    }

    pub(crate) fn location(
        &self,
        r: &Reference,
        ctx: &Ctx,
        resp: &http::Response<ureq::Body>,
    ) -> Result<String> {
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ctx.status(resp.status().as_u16(), "no Location header".into()))?;
        Ok(
            if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_string()
            } else {
                format!("{}://{}{loc}", self.scheme(&r.registry), r.api_host())
            },
        )
    }

    /// Pushes the blob `d` of `store` to `r`: skipped if present, mounted from `from` when
    /// given (a repository of the same registry known to hold it), else uploaded.
    fn push_blob(
        &self,
        r: &Reference,
        store: &Store,
        d: &Digest,
        from: Option<&str>,
        scopes: &[String],
        report: &mut Pushed,
    ) -> Result<()> {
        if self.blob_exists(r, d, scopes)? {
            report.skipped += 1;
            report.blobs.push((d.clone(), BlobPush::Exists));
            return Ok(());
        }
        let path = store.blob_path(d);
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "image store {}: blob {d} is missing, cannot push it to {}/{}",
                store.root().display(),
                r.registry,
                r.repository
            )));
        }
        let mut ctx = Ctx::of(r, format!("start upload of blob {d}"));
        let mut scopes = scopes.to_vec();
        let url = match from {
            Some(f) => {
                ctx.action = format!("mount blob {d} from {f}");
                scopes.push(format!("repository:{f}:pull"));
                self.url(
                    r,
                    &format!("blobs/uploads/?mount={d}&from={}", url_encode(f)),
                )
            }
            None => self.url(r, "blobs/uploads/"),
        };
        let resp = self.send(&ctx, "POST", &url, &[], &scopes, Body::Empty)?;
        let st = resp.status().as_u16();
        if st == 201
            && let Some(f) = from
        {
            report.mounted += 1;
            report
                .blobs
                .push((d.clone(), BlobPush::Mounted(f.to_string())));
            return Ok(());
        }
        let resp = ctx.accept(resp, |st| st == 202)?;
        self.finish_upload(r, &ctx, &resp, d, &scopes, Body::File(path))?;
        report.uploaded += 1;
        report.blobs.push((d.clone(), BlobPush::Uploaded));
        Ok(())
    }

    /// Pushes the image `name` of `store` to `dest` (its tag, or its digest when it has no
    /// tag): blobs first (skipped, mounted or uploaded), then the manifest.
    pub fn push(&self, store: &Store, name: &str, dest: &Reference) -> Result<Pushed> {
        let img = store.image(name)?;
        let scopes = vec![format!("repository:{}:pull,push", dest.repository)];
        let sources = load_sources(store)?;
        let mut report = Pushed::default();
        let mut blobs: Vec<&Digest> = img.manifest.layers.iter().map(|l| &l.digest).collect();
        blobs.push(&img.manifest.config.digest);
        for d in &blobs {
            let from = sources.get(d.as_str()).and_then(|list| {
                list.iter().find_map(|s| {
                    let (reg, repo) = s.split_once('/')?;
                    (reg == dest.registry && repo != dest.repository).then_some(repo)
                })
            });
            self.push_blob(dest, store, d, from, &scopes, &mut report)?;
        }
        let manifest = store.read_blob(&img.descriptor.digest)?;
        report.manifest_size = manifest.len() as u64;
        let reference = dest
            .tag
            .clone()
            .unwrap_or_else(|| img.descriptor.digest.to_string());
        let ctx = Ctx::of(dest, format!("put manifest {reference}"));
        let resp = ctx.accept(
            self.send(
                &ctx,
                "PUT",
                &self.url(dest, &format!("manifests/{reference}")),
                &[("Content-Type", img.descriptor.media_type.clone())],
                &scopes,
                Body::Bytes(manifest),
            )?,
            |st| st == 201,
        )?;
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok())
            && d != img.descriptor.digest
        {
            return Err(Error::DigestMismatch {
                registry: dest.registry.clone(),
                repository: dest.repository.clone(),
                what: "pushed manifest".into(),
                expected: img.descriptor.digest.to_string(),
                actual: d.to_string(),
            });
        }
        record_sources(store, &dest.registry, &dest.repository, &blobs)?;
        report.manifest_digest = img.descriptor.digest.clone();
        Ok(report)
    }
}

/// Where blobs are known to exist (`registry/repository` by digest), for cross-repository
/// mounts; kept beside the layout as `kiln-blob-sources.json`.
fn sources_path(store: &Store) -> PathBuf {
    store.root().join("kiln-blob-sources.json")
}

fn load_sources(store: &Store) -> Result<BTreeMap<String, Vec<String>>> {
    let p = sources_path(store);
    match std::fs::read(&p) {
        Ok(b) => Ok(serde_json::from_slice(&b).unwrap_or_default()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::io("read", &p)(e)),
    }
}

fn record_sources(
    store: &Store,
    registry: &str,
    repository: &str,
    blobs: &[&Digest],
) -> Result<()> {
    let lock_path = store.root().join(".kiln-sources.lock");
    let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
    let _g = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::io("lock", &lock_path)(e.into()))?;
    let mut m = load_sources(store)?;
    let here = format!("{registry}/{repository}");
    for d in blobs {
        let v = m.entry(d.to_string()).or_default();
        if !v.contains(&here) {
            v.push(here.clone());
        }
    }
    crate::store::write_atomic(&sources_path(store), &serde_json::to_vec(&m).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_entries_match_names_ports_and_ranges() {
        let m = |e: &str, r: &str| Insecure::parse(e).unwrap().matches(r);
        assert!(m("reg.svc:5000", "reg.svc:5000"));
        assert!(!m("reg.svc:5000", "reg.svc:5001"));
        assert!(m("reg.svc", "reg.svc:5000"));
        assert!(m("Reg.Svc", "reg.svc"));
        assert!(!m("reg.svc", "other.svc:5000"));
        assert!(m("10.96.0.0/12", "10.96.0.50:5000"));
        assert!(m("10.96.0.0/12", "10.111.255.1"));
        assert!(!m("10.96.0.0/12", "10.112.0.1:5000"));
        assert!(!m("10.96.0.0/12", "reg.svc:5000"));
        assert!(m("0.0.0.0/0", "192.168.1.1:443"));
        assert!(m("fd00::/8", "[fd00::1]:5000"));
        assert!(!m("fd00::/8", "[fe80::1]:5000"));
        for bad in ["10.0.0.0/33", "x/8", "", "a b", "10.0.0.1/"] {
            assert!(Insecure::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_rule() {
        for r in [
            "127.0.0.1:5000",
            "localhost",
            "localhost:80",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "docker.io",
            "10.0.0.1:5000",
            "registry.local:5000",
            "[fe80::1]:5000",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }

    #[test]
    fn challenge_parsing() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/busybox:pull");
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(
            (s.as_str(), p["realm"].as_str()),
            ("basic", "Registry Realm")
        );
    }
}
