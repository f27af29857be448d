//! The build's HTTP server for `http_directory` / `http_content`, as packer-plugin-sdk's
//! `commonsteps.StepHTTPServer` (`step_http_server.go`) and `HTTPConfig` (`http_config.go`):
//! a port picked in `[http_port_min, http_port_max)` on `http_bind_address`, a file server
//! for a directory (Go's `http.FileServer`: index.html, listings, redirects to the slash
//! form) or a map of path → content (404 with a "Did you mean" hint), reporting the port
//! for `{{ .HTTPPort }}` / `build.PackerHTTPPort`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use tokio_util::sync::CancellationToken;

use super::ports::listen_in_range;

/// `http_directory`, `http_content`, `http_port_min/max`, `http_bind_address`,
/// `http_network_protocol`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpConfig {
    pub directory: Option<PathBuf>,
    pub content: BTreeMap<String, String>,
    /// 0: Packer's default 8000 (a Go `int`, as the plugin compares them; a value outside
    /// 0..=65535 is refused by the builder's own checks).
    pub port_min: i64,
    /// 0: Packer's default 9000.
    pub port_max: i64,
    /// Empty: Packer's default `0.0.0.0`.
    pub bind_address: String,
    /// `http_interface` (undocumented in the plugin, which only checks it against
    /// `http_bind_address`: the server listens on `http_bind_address` either way).
    pub interface: String,
    /// Empty: `tcp`.
    pub network_protocol: String,
}

impl HttpConfig {
    /// Applies `HTTPConfig.Prepare`'s defaults and returns its errors.
    pub fn prepare(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.port_min == 0 {
            self.port_min = 8000;
        }
        if self.port_max == 0 {
            self.port_max = 9000;
        }
        if !self.interface.is_empty() && !self.bind_address.is_empty() {
            errs.push("either http_interface or http_bind_address can be specified".into());
        }
        if self.bind_address.is_empty() {
            self.bind_address = "0.0.0.0".into();
        }
        if self.port_min > self.port_max {
            errs.push("http_port_min must be less than http_port_max".into());
        }
        if !self.content.is_empty() && self.directory.is_some() {
            errs.push("http_content cannot be used in conjunction with http_dir. Consider using the file function to load file in memory and serve them with http_content: https://www.packer.io/docs/templates/hcl_templates/functions/file/file".into());
        }
        if self.network_protocol.is_empty() {
            self.network_protocol = "tcp".into();
        }
        match self.network_protocol.as_str() {
            "tcp" | "tcp4" | "tcp6" => {}
            "unix" | "unixpacket" => errs.push(format!(
                "http_network_protocol {:?} is not supported by Kiln (tcp, tcp4, tcp6 are)",
                self.network_protocol
            )),
            _ => errs.push(
                "http_network_protocol is invalid. Must be one of: [tcp tcp4 tcp6 unix unixpacket]"
                    .into(),
            ),
        }
        errs
    }

    /// Whether there is anything to serve (else the step only sets `http_port` to 0).
    pub fn enabled(&self) -> bool {
        self.directory.is_some() || !self.content.is_empty()
    }
}

/// A running HTTP server; stopped by [`HttpServer::shutdown`] or when dropped.
pub struct HttpServer {
    pub port: u16,
    pub bind_address: String,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl HttpServer {
    /// Starts serving, or returns `Ok(None)` when neither `http_directory` nor
    /// `http_content` is set (Packer's `http_port` 0). Call [`HttpConfig::prepare`] first.
    pub async fn start(cfg: &HttpConfig) -> anyhow::Result<Option<HttpServer>> {
        if !cfg.enabled() {
            return Ok(None);
        }
        let handler = match &cfg.directory {
            Some(dir) => {
                if let Err(e) = std::fs::metadata(dir) {
                    bail!(
                        "Error finding {:?}: {}",
                        dir.display().to_string(),
                        crate::goerr::path_error("stat", dir, &e)
                    );
                }
                Handler::Dir(dir.clone())
            }
            None => Handler::Map(cfg.content.clone()),
        };
        if cfg.network_protocol == "tcp6" && !cfg.bind_address.contains(':') {
            bail!(
                "http_network_protocol tcp6 needs an IPv6 http_bind_address, got {:?}",
                cfg.bind_address
            );
        }
        if cfg.network_protocol == "tcp4" && cfg.bind_address.contains(':') {
            bail!(
                "http_network_protocol tcp4 needs an IPv4 http_bind_address, got {:?}",
                cfg.bind_address
            );
        }
        let port = |p: i64| u16::try_from(p.max(0)).unwrap_or(u16::MAX);
        let std_listener =
            listen_in_range(&cfg.bind_address, port(cfg.port_min), port(cfg.port_max))
                .context("Error finding port")?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let stop = CancellationToken::new();
        let handler = Arc::new(handler);
        let stop2 = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    r = listener.accept() => match r {
                        Ok(s) => s,
                        Err(_) => continue,
                    },
                    _ = stop2.cancelled() => return,
                };
                let handler = handler.clone();
                let stop3 = stop2.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let svc = hyper::service::service_fn(move |req| {
                        let h = handler.clone();
                        async move { Ok::<_, Infallible>(h.serve(req).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = stop3.cancelled() => {}
                    }
                });
            }
        });
        Ok(Some(HttpServer {
            port,
            bind_address: cfg.bind_address.clone(),
            stop,
            task: Some(task),
        }))
    }

    /// Stops accepting and closes open connections (Packer's `Cleanup` closes the listener).
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The address a guest on qemu's user network reaches the host's HTTP server at
/// (`step_http_ip_discover.go`): a specific `http_bind_address`, else `10.0.2.2`
/// (slirp's gateway). Bridged networks (`net_bridge`) need the bridge's address instead.
pub fn qemu_user_net_http_ip(bind_address: &str) -> String {
    if !bind_address.is_empty() && bind_address != "0.0.0.0" && bind_address != "::" {
        bind_address.to_string()
    } else {
        "10.0.2.2".to_string()
    }
}

/// `build.PackerHTTPIP`, `build.PackerHTTPPort`, `build.PackerHTTPAddr` as the provision
/// hook sets them (sdk `step_provision.go`): from the run's `http_ip` and `http_port` when a
/// builder put them in its state (the qemu builder always does; `http_port` is 0 when
/// nothing is served), else the SDK's `ERR_HTTP_*_NOT_IMPLEMENTED_BY_BUILDER` markers.
pub fn http_generated_data(http_ip: Option<&str>, http_port: Option<u16>) -> Vec<(String, String)> {
    let ip = http_ip
        .map(str::to_string)
        .unwrap_or_else(|| "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER".into());
    let port = http_port
        .map(|p| p.to_string())
        .unwrap_or_else(|| "ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER".into());
    let addr = match (http_ip, http_port) {
        (Some(_), Some(_)) => format!("{ip}:{port}"),
        _ => "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER".into(),
    };
    vec![
        ("PackerHTTPIP".into(), ip),
        ("PackerHTTPPort".into(), port),
        ("PackerHTTPAddr".into(), addr),
    ]
}

type Body = BoxBody<Bytes, std::io::Error>;

enum Handler {
    Dir(PathBuf),
    Map(BTreeMap<String, String>),
}

fn full(status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    let body: Bytes = body.into();
    Response::builder()
        .status(status)
        .header("Content-Type", ctype)
        .header("Content-Length", body.len())
        .body(Full::new(body).map_err(|e| match e {}).boxed())
        .expect("valid response")
}

fn text_error(status: StatusCode, msg: &str) -> Response<Body> {
    let mut r = full(status, "text/plain; charset=utf-8", format!("{msg}\n"));
    r.headers_mut()
        .insert("X-Content-Type-Options", "nosniff".parse().unwrap());
    r
}

/// Go's `path.Clean` for URL paths: rooted, no `.`/`..`/empty segments.
pub fn clean_url_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `didyoumean.NameSuggestion`: the closest name within edit distance 3.
fn suggestion(given: &str, names: &[&String]) -> Option<String> {
    names
        .iter()
        .map(|n| (crate::components::registry::edit_distance(given, n), *n))
        .filter(|(d, _)| *d < 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.clone())
}

fn content_type(path: &Path, head: &[u8]) -> String {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let known = match ext.as_str() {
        "html" | "htm" => Some("text/html; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "js" => Some("text/javascript; charset=utf-8"),
        "json" => Some("application/json"),
        "xml" => Some("text/xml; charset=utf-8"),
        "txt" => Some("text/plain; charset=utf-8"),
        "iso" => Some("application/x-iso9660-image"),
        "gz" => Some("application/gzip"),
        "tar" => Some("application/x-tar"),
        "zip" => Some("application/zip"),
        "png" => Some("image/png"),
        "svg" => Some("image/svg+xml"),
        _ => None,
    };
    if let Some(k) = known {
        return k.into();
    }
    // Go's DetectContentType: text if the first bytes are valid UTF-8 without NULs.
    let looks_text = !head.contains(&0)
        && (std::str::from_utf8(head).is_ok()
            || std::str::from_utf8(&head[..head.len().saturating_sub(3)]).is_ok());
    if looks_text {
        "text/plain; charset=utf-8".into()
    } else {
        "application/octet-stream".into()
    }
}

impl Handler {
    async fn serve(&self, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let raw = req.uri().path().to_string();
        let head_only = req.method() == hyper::Method::HEAD;
        let mut resp = match self {
            Handler::Map(map) => {
                let p = clean_url_path(&percent_decode(&raw).unwrap_or(raw.clone()));
                match map.get(&p) {
                    Some(c) => full(StatusCode::OK, "text/plain; charset=utf-8", c.clone()),
                    None => {
                        let names: Vec<&String> = map.keys().collect();
                        let mut msg = format!("{p} not found.");
                        if let Some(s) = suggestion(&p, &names) {
                            msg += &format!(" Did you mean {s:?}?");
                        }
                        text_error(StatusCode::NOT_FOUND, &msg)
                    }
                }
            }
            Handler::Dir(root) => serve_dir(root, &raw).await,
        };
        if head_only {
            *resp.body_mut() = Full::new(Bytes::new()).map_err(|e| match e {}).boxed();
        }
        resp
    }
}

fn redirect(to: &str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::MOVED_PERMANENTLY)
        .header("Location", to)
        .header("Content-Length", 0)
        .body(Full::new(Bytes::new()).map_err(|e| match e {}).boxed())
        .expect("valid response")
}

/// Go's `http.FileServer(http.Dir(root))` for one request path.
async fn serve_dir(root: &Path, raw: &str) -> Response<Body> {
    let Some(decoded) = percent_decode(raw) else {
        return text_error(StatusCode::BAD_REQUEST, "invalid URL escape");
    };
    let upath = if decoded.starts_with('/') {
        decoded.clone()
    } else {
        format!("/{decoded}")
    };
    // `/index.html` is served as its directory.
    if upath.ends_with("/index.html") {
        return redirect("./");
    }
    let clean = clean_url_path(&upath);
    let fs_path = root.join(clean.trim_start_matches('/'));
    let meta = match tokio::fs::metadata(&fs_path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return text_error(StatusCode::FORBIDDEN, "403 Forbidden");
        }
        Err(_) => return text_error(StatusCode::NOT_FOUND, "404 page not found"),
    };
    if meta.is_dir() {
        if !upath.ends_with('/') {
            let base = upath.rsplit('/').next().unwrap_or("");
            return redirect(&format!("{base}/"));
        }
        let index = fs_path.join("index.html");
        if tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
            return serve_file(&index).await;
        }
        let mut names = Vec::new();
        if let Ok(mut rd) = tokio::fs::read_dir(&fs_path).await {
            while let Ok(Some(e)) = rd.next_entry().await {
                let mut n = e.file_name().to_string_lossy().to_string();
                if e.file_type().await.is_ok_and(|t| t.is_dir()) {
                    n.push('/');
                }
                names.push(n);
            }
        }
        names.sort();
        let mut html = String::from(
            "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
        );
        for n in names {
            let esc = n
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;");
            html += &format!("<a href=\"{esc}\">{esc}</a>\n");
        }
        html += "</pre>\n";
        return full(StatusCode::OK, "text/html; charset=utf-8", html);
    }
    if upath.ends_with('/') {
        // A file asked for as a directory: Go redirects to the name without the slash.
        let base = clean.rsplit('/').next().unwrap_or("");
        return redirect(&format!("../{base}"));
    }
    serve_file(&fs_path).await
}

async fn serve_file(path: &Path) -> Response<Body> {
    use tokio::io::AsyncReadExt as _;
    let mut f = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(_) => return text_error(StatusCode::FORBIDDEN, "403 Forbidden"),
    };
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let mut head = vec![0u8; 512.min(len as usize)];
    if f.read_exact(&mut head).await.is_err() {
        return text_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        );
    }
    let ctype = content_type(path, &head);
    let first = futures_util::stream::once(async move { Ok(Frame::data(Bytes::from(head))) });
    let rest =
        futures_util::StreamExt::map(tokio_util::io::ReaderStream::new(f), |r| r.map(Frame::data));
    let body = StreamBody::new(futures_util::StreamExt::chain(first, rest));
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", ctype)
        .header("Content-Length", len)
        .header("Accept-Ranges", "none")
        .body(BodyExt::boxed(body))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(port: u16, path: &str) -> (u16, String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut r = agent
            .get(&format!("http://127.0.0.1:{port}{path}"))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        (status, body, loc)
    }

    fn cfg() -> HttpConfig {
        HttpConfig {
            bind_address: "127.0.0.1".into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn serves_a_directory_like_go_file_server() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("preseed.cfg"),
            "d-i debian-installer/locale string en_US\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), "A").unwrap();
        std::fs::create_dir(dir.path().join("site")).unwrap();
        std::fs::write(dir.path().join("site/index.html"), "<h1>hi</h1>").unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("big.bin"), &big).unwrap();
        let mut c = HttpConfig {
            directory: Some(dir.path().to_path_buf()),
            ..cfg()
        };
        assert!(c.prepare().is_empty());
        let s = HttpServer::start(&c).await.unwrap().unwrap();
        assert!((8000..9000).contains(&s.port), "{}", s.port);
        let port = s.port;
        let r = tokio::task::spawn_blocking(move || {
            let bin = {
                let mut r = ureq::get(&format!("http://127.0.0.1:{port}/big.bin"))
                    .call()
                    .unwrap();
                r.body_mut()
                    .with_config()
                    .limit(10 << 20)
                    .read_to_vec()
                    .unwrap()
            };
            (
                get(port, "/preseed.cfg"),
                get(port, "/sub"),
                get(port, "/sub/"),
                get(port, "/site/"),
                get(port, "/site/index.html"),
                get(port, "/nope"),
                get(port, "/../preseed.cfg"),
                bin,
            )
        })
        .await
        .unwrap();
        assert_eq!(r.0.0, 200);
        assert_eq!(r.0.1, "d-i debian-installer/locale string en_US\n");
        assert_eq!((r.1.0, r.1.2.as_str()), (301, "sub/"));
        assert_eq!(r.2.0, 200);
        assert!(r.2.1.contains("<a href=\"a.txt\">a.txt</a>"), "{}", r.2.1);
        assert_eq!(r.3.1, "<h1>hi</h1>");
        assert_eq!((r.4.0, r.4.2.as_str()), (301, "./"));
        assert_eq!((r.5.0, r.5.1.as_str()), (404, "404 page not found\n"));
        // `..` cannot climb out of the directory.
        assert_eq!(r.6.0, 200);
        assert_eq!(r.7, big);
        s.shutdown().await;
        // Stopped: the port no longer answers.
        let refused = tokio::task::spawn_blocking(move || {
            ureq::get(&format!("http://127.0.0.1:{port}/preseed.cfg"))
                .call()
                .is_err()
        })
        .await
        .unwrap();
        assert!(refused);
    }

    #[tokio::test]
    async fn serves_http_content_with_suggestions() {
        let mut c = HttpConfig {
            content: [
                ("/ks.cfg".to_string(), "text\n".to_string()),
                ("/user-data".into(), "#cloud-config\n".into()),
            ]
            .into_iter()
            .collect(),
            port_min: 30100,
            port_max: 30200,
            ..cfg()
        };
        assert!(c.prepare().is_empty());
        let s = HttpServer::start(&c).await.unwrap().unwrap();
        assert!((30100..30200).contains(&s.port));
        let port = s.port;
        let (a, b, d) = tokio::task::spawn_blocking(move || {
            (
                get(port, "/ks.cfg"),
                get(port, "/./user-data"),
                get(port, "/ks.cgf"),
            )
        })
        .await
        .unwrap();
        assert_eq!((a.0, a.1.as_str()), (200, "text\n"));
        assert_eq!(b.1, "#cloud-config\n");
        assert_eq!(d.0, 404);
        assert_eq!(d.1, "/ks.cgf not found. Did you mean \"/ks.cfg\"?\n");
        s.shutdown().await;
    }

    #[tokio::test]
    async fn config_rules_and_errors() {
        assert!(
            HttpServer::start(&cfg()).await.unwrap().is_none(),
            "nothing to serve: no server"
        );
        let mut c = HttpConfig::default();
        assert!(c.prepare().is_empty());
        assert_eq!(
            (
                c.port_min,
                c.port_max,
                c.bind_address.as_str(),
                c.network_protocol.as_str()
            ),
            (8000, 9000, "0.0.0.0", "tcp")
        );
        let mut bad = HttpConfig {
            directory: Some("/x".into()),
            content: [("/a".to_string(), "b".to_string())].into_iter().collect(),
            port_min: 9000,
            port_max: 8000,
            network_protocol: "udp".into(),
            ..Default::default()
        };
        assert_eq!(bad.prepare().len(), 3);
        let mut missing = HttpConfig {
            directory: Some("/nonexistent/kiln-http".into()),
            ..cfg()
        };
        missing.prepare();
        let e = HttpServer::start(&missing).await.err().unwrap();
        assert_eq!(
            format!("{e:#}"),
            "Error finding \"/nonexistent/kiln-http\": stat /nonexistent/kiln-http: no such file or directory"
        );
        assert_eq!(qemu_user_net_http_ip("0.0.0.0"), "10.0.2.2");
        assert_eq!(qemu_user_net_http_ip("192.168.1.5"), "192.168.1.5");
        assert_eq!(clean_url_path("/a/../../b/./c//"), "/b/c");
        let d = http_generated_data(Some("10.0.2.2"), Some(8123));
        assert_eq!(
            d[2],
            ("PackerHTTPAddr".to_string(), "10.0.2.2:8123".to_string())
        );
        // The qemu builder without http_directory/http_content: port 0, as in Packer.
        assert_eq!(
            http_generated_data(Some("10.0.2.2"), Some(0))[2].1,
            "10.0.2.2:0"
        );
        let none = http_generated_data(None, Some(8000));
        assert_eq!(none[0].1, "ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER");
        assert_eq!(none[1].1, "8000");
        assert_eq!(none[2].1, "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER");
    }
}
