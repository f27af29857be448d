//! `http` data source: one HTTP request while the template loads (Packer's `datasource/http`).
//!
//! Outputs `url`, `body` and `request_headers`, which holds the **response** headers (Packer's
//! naming): a map from the canonical header name (`Content-Type`) to its values joined with
//! `", "`. A status outside 2xx is an error naming the code. Redirects are followed (up to 10,
//! as Go's client does).
//!
//! The request is made with a blocking client. Data sources run while the template loads,
//! which the CLI does from inside its tokio runtime; on a multi-threaded runtime the request
//! runs under `block_in_place` so the other tasks keep their worker threads.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::components::{ComponentInfo, DataSource};
use crate::datasources::DataSourceError;
use crate::template::ConfigReader;
use crate::value::Value;

/// The methods Packer accepts, in its order (the error message lists them so).
pub const METHODS: &[&str] = &["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// Bodies larger than this are refused rather than exhausting memory.
const MAX_BODY: u64 = 1 << 30;

pub struct HttpData {
    url: String,
    method: String,
    headers: BTreeMap<String, String>,
    body: String,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn DataSource>> {
    let url = r.string("url").unwrap_or_default();
    if url.is_empty() {
        r.prepare_error("the `url` must be specified");
    }
    let method = r
        .string("method")
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "GET".to_string());
    if !METHODS.contains(&method.as_str()) && method != "<unknown>" {
        r.prepare_error(format!(
            "the `method` must be one of [{}]",
            METHODS.join(" ")
        ));
    }
    let headers = r.string_map("request_headers").unwrap_or_default();
    let body = r.string("request_body").unwrap_or_default();
    Some(Box::new(HttpData {
        url,
        method,
        headers,
        body,
    }))
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. Keys with a
/// space or a byte outside the token set are returned unchanged, as Go does.
pub fn canonical_header_key(k: &str) -> String {
    const TOKEN_SPECIALS: &[u8] = b"!#$%&'*+-.^_`|~";
    if !k
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || TOKEN_SPECIALS.contains(&b))
    {
        return k.to_string();
    }
    let mut upper = true;
    let mut out = String::with_capacity(k.len());
    for c in k.chars() {
        if upper {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
        upper = c == '-';
    }
    out
}

/// Packer's `isContentTypeText`: `text/*`, `application/json` or SAML metadata, in UTF-8 or
/// US-ASCII.
fn is_text(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let textual = (media.starts_with("text/") && media.len() > 5)
        || media == "application/json"
        || media.starts_with("application/samlmetadata+xml");
    if !textual {
        return false;
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("charset")
        {
            let v = v.trim().trim_matches('"').to_ascii_lowercase();
            return v.is_empty() || v == "utf-8" || v == "us-ascii";
        }
    }
    true
}

/// A URL as Go's `net/url` reads it, for what `net/http` says about it.
struct GoUrl {
    scheme: String,
    /// Whether `//` (an authority) follows the scheme.
    authority: bool,
    /// `user:password@`, if any.
    userinfo: Option<String>,
    /// The host with its port, as written (`[::1]:8080`).
    host: String,
    /// Everything after the authority (path, query, fragment).
    rest: String,
}

impl GoUrl {
    /// `url.Parse`: the common failures with Go's texts (`parse "URL": …`).
    fn parse(raw: &str) -> Result<GoUrl, String> {
        let fail = |why: String| Err(format!("parse {}: {why}", go_quote(raw)));
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return fail("net/url: invalid control character in URL".into());
        }
        let (scheme, rest) = match raw.find(':') {
            Some(0) => return fail("missing protocol scheme".into()),
            Some(i)
                if raw[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                    && raw[..i]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                (raw[..i].to_ascii_lowercase(), &raw[i + 1..])
            }
            _ => (String::new(), raw),
        };
        let rest = rest.split('#').next().unwrap_or(rest);
        let Some(after) = rest.strip_prefix("//") else {
            return Ok(GoUrl {
                scheme,
                authority: false,
                userinfo: None,
                host: String::new(),
                rest: rest.to_string(),
            });
        };
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, tail) = after.split_at(end);
        let (userinfo, host) = match authority.rfind('@') {
            Some(i) => (Some(authority[..i].to_string()), &authority[i + 1..]),
            None => (None, authority),
        };
        if let Some(inner) = host.strip_prefix('[') {
            let Some(close) = inner.find(']') else {
                return fail("missing ']' in host".into());
            };
            let port = &inner[close + 1..];
            if !port.is_empty() && !valid_optional_port(port) {
                return fail(format!("invalid port {} after host", go_quote(port)));
            }
        } else {
            if let Some(i) = host.rfind(':') {
                let port = &host[i..];
                if !valid_optional_port(port) {
                    return fail(format!("invalid port {} after host", go_quote(port)));
                }
            }
            // `unescape(host, encodeHost)`: what may stand in a host name.
            if let Some(c) = host.chars().find(|&c| {
                (c as u32) < 0x80
                    && !c.is_ascii_alphanumeric()
                    && !"-_.~!$&'()*+,;=:[]<>\"%".contains(c)
            }) {
                return fail(format!(
                    "invalid character {} in host name",
                    go_quote(&c.to_string())
                ));
            }
        }
        Ok(GoUrl {
            scheme,
            authority: true,
            userinfo,
            host: host.to_string(),
            rest: tail.to_string(),
        })
    }

    /// `URL.String()` with the password masked (`stripPassword`), as `net/http` quotes it.
    fn display(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if self.authority
            && (!self.host.is_empty() || self.userinfo.is_some() || !self.rest.is_empty())
        {
            out.push_str("//");
        }
        if let Some(u) = &self.userinfo {
            match u.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(u),
            }
            out.push('@');
        }
        out.push_str(&self.host);
        out.push_str(&self.rest);
        out
    }

    /// Host and port (the scheme's default when none is written).
    fn host_port(&self) -> (String, String) {
        let default = if self.scheme == "https" { "443" } else { "80" };
        if let Some(inner) = self.host.strip_prefix('[') {
            let close = inner.find(']').unwrap_or(inner.len());
            let port = inner[close..]
                .trim_start_matches(']')
                .trim_start_matches(':');
            let port = if port.is_empty() { default } else { port };
            return (inner[..close].to_string(), port.to_string());
        }
        match self.host.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() => (h.to_string(), p.to_string()),
            Some((h, _)) => (h.to_string(), default.to_string()),
            None => (self.host.clone(), default.to_string()),
        }
    }
}

/// Go's `validOptionalPort`: empty, or `:` and digits.
fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn go_quote(s: &str) -> String {
    crate::value::go_quote(s)
}

/// `host:port` as Go's `net.JoinHostPort` writes it.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The operation Go's `url.Error` names for a method: `Get`, `Post`, `Head`…
fn go_method_op(method: &str) -> String {
    let m = method.to_ascii_lowercase();
    let mut c = m.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Go's `url.Error` text: `Get "URL": why`.
fn go_url_error(op: &str, url: &GoUrl, why: impl std::fmt::Display) -> String {
    format!("{op} {}: {why}", go_quote(&url.display()))
}

/// What Go's `http.NewRequest` and `Client.Do` check before anything is sent, and the
/// address a connection goes to: Go's errors (`url.Error`, operation `op`) for a bad URL, an
/// unsupported scheme, a missing host, a bad port and a name that does not resolve.
fn go_request_checks(op: &str, raw: &str) -> Result<(GoUrl, Option<std::net::SocketAddr>), String> {
    let url = GoUrl::parse(raw)?;
    if url.scheme != "http" && url.scheme != "https" {
        return Err(go_url_error(
            op,
            &url,
            format_args!("unsupported protocol scheme {}", go_quote(&url.scheme)),
        ));
    }
    if url.host.is_empty() {
        return Err(go_url_error(op, &url, "http: no Host in request URL"));
    }
    let (host, port) = url.host_port();
    let Ok(port_num) = port.parse::<u16>() else {
        return Err(go_url_error(
            op,
            &url,
            format_args!("dial tcp: address {port}: invalid port"),
        ));
    };
    use std::net::ToSocketAddrs;
    match (host.as_str(), port_num).to_socket_addrs() {
        Ok(mut addrs) => Ok((url, addrs.next())),
        Err(_) => Err(go_url_error(
            op,
            &url,
            format_args!(
                "dial tcp: lookup {host} on {}: no such host",
                go_name_server()
            ),
        )),
    }
}

/// A GET of `raw` as Go's `http.Client.Get` makes it: the body, or Go's error text (its
/// checks before sending, a refused connection, else the client's error after `Get "URL": `);
/// a status other than 200 is `bad response code: N`, as go-getter reports it.
pub fn go_get_text(raw: &str) -> Result<String, String> {
    let (url, addr) = go_request_checks("Get", raw)?;
    match ureq::get(raw).call() {
        Ok(mut r) => r
            .body_mut()
            .read_to_string()
            .map_err(|e| go_url_error("Get", &url, e)),
        Err(ureq::Error::StatusCode(code)) => Err(format!("bad response code: {code}")),
        Err(ureq::Error::Io(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(go_url_error(
                "Get",
                &url,
                match addr {
                    Some(a) => format!("dial tcp {a}: connect: connection refused"),
                    None => "connect: connection refused".to_string(),
                },
            ))
        }
        Err(e) => Err(go_url_error("Get", &url, e)),
    }
}

/// The name server Go's resolver reports in a failed lookup: the first of
/// `/etc/resolv.conf`, else Go's default.
fn go_name_server() -> String {
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    for line in conf.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver")
            && let Some(ip) = words.next()
            && let Ok(ip) = ip.parse::<std::net::IpAddr>()
        {
            return join_host_port(&ip.to_string(), "53");
        }
    }
    "127.0.0.1:53".to_string()
}

impl HttpData {
    /// `Get "URL": why`: how Go's client reports a request that failed (`url.Error`).
    fn request_error(&self, url: &GoUrl, why: impl std::fmt::Display) -> DataSourceError {
        DataSourceError::Request(go_url_error(&go_method_op(&self.method), url, why))
    }

    /// What Go's `http.NewRequest` and `Client.Do` check before anything is sent, and the
    /// address a connection goes to ([`go_request_checks`]).
    fn go_checks(&self) -> Result<(GoUrl, Option<std::net::SocketAddr>), DataSourceError> {
        go_request_checks(&go_method_op(&self.method), &self.url).map_err(DataSourceError::Request)
    }

    fn fetch(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        let (url, addr) = self.go_checks()?;
        let request_error = |e: ureq::Error| -> DataSourceError {
            match (&e, addr) {
                (ureq::Error::Io(io), Some(a))
                    if io.kind() == std::io::ErrorKind::ConnectionRefused =>
                {
                    self.request_error(
                        &url,
                        format_args!("dial tcp {a}: connect: connection refused"),
                    )
                }
                _ => self.request_error(&url, e),
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(10)
            .timeout_connect(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(canonical_header_key(k), v.as_str());
        }
        let response = if self.body.is_empty() {
            let req = builder.body(()).map_err(|e| self.request_error(&url, e))?;
            agent.run(req)
        } else {
            let req = builder
                .body(self.body.clone())
                .map_err(|e| self.request_error(&url, e))?;
            agent.run(req)
        };
        let mut response = response.map_err(request_error)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(DataSourceError::Status { status });
        }
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in response.headers() {
            headers
                .entry(canonical_header_key(name.as_str()))
                .or_default()
                .push(String::from_utf8_lossy(value.as_bytes()).to_string());
        }
        let content_type = headers
            .get("Content-Type")
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default();
        if content_type.is_empty() || !is_text(&content_type) {
            tracing::warn!(
                url = %self.url,
                "Content-Type is not recognized as a text type, got {content_type:?}; if the content is binary data, Kiln may not properly handle the contents of the response"
            );
        }
        let bytes = if self.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()
                .map_err(|e| self.request_error(&url, e))?
        };
        let mut out = BTreeMap::new();
        out.insert("url".to_string(), Value::str(&self.url));
        out.insert(
            "body".to_string(),
            Value::str(String::from_utf8_lossy(&bytes).to_string()),
        );
        out.insert(
            "request_headers".to_string(),
            Value::Object(
                headers
                    .into_iter()
                    .map(|(k, v)| (k, Value::str(v.join(", "))))
                    .collect(),
            ),
        );
        Ok(out)
    }
}

impl DataSource for HttpData {
    fn execute(&self) -> Result<BTreeMap<String, Value>, DataSourceError> {
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.fetch())
            }
            // No runtime, or a current-thread one (where block_in_place is not allowed): the
            // blocking client needs no runtime, so just call it.
            _ => self.fetch(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_are_canonical_as_in_go() {
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("X-CUSTOM-header"), "X-Custom-Header");
        assert_eq!(canonical_header_key("etag"), "Etag");
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn text_types_as_packer() {
        assert!(is_text("text/plain"));
        assert!(is_text("text/html; charset=UTF-8"));
        assert!(is_text("application/json"));
        assert!(!is_text("application/octet-stream"));
        assert!(!is_text("text/plain; charset=latin1"));
    }
}
