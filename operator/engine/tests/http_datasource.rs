//! The `http` data source against a small HTTP/1.1 server this test runs itself on a
//! loopback port: GET bodies, response headers (Packer's `request_headers` output), POST
//! with a body and request headers, HEAD, redirects, non-2xx errors, config errors, and
//! running inside a multi-threaded tokio runtime as the CLI does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use kiln_engine::session::{self, LoadOptions};
use kiln_engine::template::{Template, VarInputs};
use kiln_engine::value::Value;

/// One request as the server saw it.
#[derive(Clone, Debug, Default)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

fn respond(mut s: &TcpStream, status: &str, headers: &[(&str, &str)], body: &str, head: bool) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    if !head {
        out.push_str(body);
    }
    let _ = s.write_all(out.as_bytes());
    let _ = s.flush();
}

fn handle(stream: TcpStream, seen: &Mutex<Vec<Seen>>) {
    let Some(req) = read_request(&stream) else {
        return;
    };
    seen.lock().unwrap().push(req.clone());
    let head = req.method == "HEAD";
    match req.path.as_str() {
        "/hello" => respond(
            &stream,
            "200 OK",
            &[
                ("Content-Type", "text/plain; charset=utf-8"),
                ("x-custom-header", "one"),
                ("X-Custom-Header", "two"),
                ("ETag", "\"abc\""),
            ],
            "hello, kiln\n",
            head,
        ),
        "/echo" => {
            let auth = req.header("authorization").unwrap_or("-").to_string();
            let ctype = req.header("content-type").unwrap_or("-").to_string();
            let body = format!(
                "{} {} auth={auth} type={ctype} body={}",
                req.method, req.path, req.body
            );
            respond(
                &stream,
                "201 Created",
                &[("Content-Type", "application/json")],
                &body,
                head,
            )
        }
        "/moved" => respond(&stream, "302 Found", &[("Location", "/hello")], "", head),
        "/binary" => respond(
            &stream,
            "200 OK",
            &[("Content-Type", "application/octet-stream")],
            "raw",
            head,
        ),
        "/teapot" => respond(&stream, "418 I'm a teapot", &[], "short and stout", head),
        _ => respond(&stream, "404 Not Found", &[], "nope", head),
    }
}

fn start() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let s = s.clone();
            std::thread::spawn(move || handle(stream, &s));
        }
    });
    Server { port, seen }
}

fn load(dir: &Path, hcl: &str) -> Result<Template, String> {
    std::fs::write(dir.join("t.pkr.hcl"), hcl).unwrap();
    session::load_path(
        dir,
        &LoadOptions {
            inputs: VarInputs::default(),
            evaluate_datasources: true,
            ..LoadOptions::default()
        },
    )
    .map(|s| s.template)
    .map_err(|d| d.to_string())
}

fn local(t: &Template, name: &str) -> Value {
    t.local_values
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("local {name} missing: {:?}", t.local_values))
}

#[test]
fn get_returns_body_url_and_response_headers() {
    let srv = start();
    let d = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/hello", srv.port);
    let t = load(
        d.path(),
        &format!(
            r#"
data "http" "hello" {{
  url = "{url}"
}}
locals {{
  body    = data.http.hello.body
  url     = data.http.hello.url
  custom  = data.http.hello.request_headers["X-Custom-Header"]
  ctype   = data.http.hello.request_headers["Content-Type"]
  etag    = data.http.hello.request_headers["Etag"]
  names   = keys(data.http.hello.request_headers)
}}
"#
        ),
    )
    .unwrap();
    assert_eq!(local(&t, "body"), Value::str("hello, kiln\n"));
    assert_eq!(local(&t, "url"), Value::str(&url));
    // Duplicate headers are joined with ", " (RFC 2616), names canonicalised as in Go.
    assert_eq!(local(&t, "custom"), Value::str("one, two"));
    assert_eq!(local(&t, "ctype"), Value::str("text/plain; charset=utf-8"));
    assert_eq!(local(&t, "etag"), Value::str("\"abc\""));
    let Value::List(names) = local(&t, "names") else {
        panic!("names")
    };
    assert!(names.contains(&Value::str("Content-Length")), "{names:?}");
    let seen = srv.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    // A GET without request_body sends no body.
    assert_eq!(seen[0].body, "");
}

#[test]
fn post_sends_body_and_request_headers() {
    let srv = start();
    let d = tempfile::tempdir().unwrap();
    let t = load(
        d.path(),
        &format!(
            r#"
data "http" "echo" {{
  url    = "http://127.0.0.1:{}/echo"
  method = "POST"
  request_headers = {{
    authorization  = "Bearer s3cret"
    "Content-Type" = "application/json"
  }}
  request_body = jsonencode({{ name = "kiln" }})
}}
locals {{
  body = data.http.echo.body
}}
"#,
            srv.port
        ),
    )
    .unwrap();
    assert_eq!(
        local(&t, "body"),
        Value::str("POST /echo auth=Bearer s3cret type=application/json body={\"name\":\"kiln\"}")
    );
    let seen = srv.seen.lock().unwrap();
    assert_eq!(seen[0].method, "POST");
    // The content type given overrides any default.
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[0].header("content-length"), Some("15"));
}

#[test]
fn every_method_reaches_the_server_and_head_has_no_body() {
    let srv = start();
    for method in ["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let d = tempfile::tempdir().unwrap();
        let t = load(
            d.path(),
            &format!(
                r#"
data "http" "m" {{
  url          = "http://127.0.0.1:{}/echo"
  method       = "{method}"
  request_body = "{}"
}}
locals {{ body = data.http.m.body }}
"#,
                srv.port,
                if method == "HEAD" || method == "GET" {
                    ""
                } else {
                    "payload"
                }
            ),
        )
        .unwrap_or_else(|e| panic!("{method}: {e}"));
        let body = local(&t, "body");
        if method == "HEAD" {
            assert_eq!(body, Value::str(""));
        } else {
            let Value::String(b) = body else { panic!() };
            assert!(b.starts_with(&format!("{method} /echo")), "{b}");
            if method != "GET" {
                assert!(b.ends_with("body=payload"), "{b}");
            }
        }
    }
    let seen = srv.seen.lock().unwrap();
    let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(
        methods,
        ["HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
    );
}

#[test]
fn redirects_are_followed_and_binary_types_still_load() {
    let srv = start();
    let d = tempfile::tempdir().unwrap();
    let t = load(
        d.path(),
        &format!(
            r#"
data "http" "moved" {{ url = "http://127.0.0.1:{0}/moved" }}
data "http" "bin" {{ url = "http://127.0.0.1:{0}/binary" }}
locals {{
  moved = data.http.moved.body
  url   = data.http.moved.url
  bin   = data.http.bin.body
}}
"#,
            srv.port
        ),
    )
    .unwrap();
    assert_eq!(local(&t, "moved"), Value::str("hello, kiln\n"));
    // `url` is the configured URL, not where the redirect led.
    assert_eq!(
        local(&t, "url"),
        Value::str(format!("http://127.0.0.1:{}/moved", srv.port))
    );
    assert_eq!(local(&t, "bin"), Value::str("raw"));
}

#[test]
fn non_2xx_statuses_are_errors_naming_the_code() {
    let srv = start();
    for (path, code) in [("/missing", "404"), ("/teapot", "418")] {
        let d = tempfile::tempdir().unwrap();
        let err = load(
            d.path(),
            &format!(
                "data \"http\" \"x\" {{ url = \"http://127.0.0.1:{}{path}\" }}\nlocals {{ b = data.http.x.body }}\n",
                srv.port
            ),
        )
        .map(|_| ()).expect_err("load fails");
        assert!(
            err.contains(&format!("HTTP request error. Response code: {code}")),
            "{err}"
        );
        // As Packer's: the message is the plugin's, the block is where it points.
        assert!(
            err.contains(&format!(
                "Error: Datasource.Execute failed: HTTP request error. Response code: {code}"
            )),
            "{err}"
        );
        assert!(err.contains("in data \"http\" \"x\""), "{err}");
    }
}

#[test]
fn config_errors_and_unreachable_servers() {
    let d = tempfile::tempdir().unwrap();
    let err = load(d.path(), "data \"http\" \"x\" {\n  method = \"GET\"\n}\n")
        .map(|_| ())
        .expect_err("no url");
    assert!(err.contains("the `url` must be specified"), "{err}");
    let err = load(
        d.path(),
        "data \"http\" \"x\" {\n  url    = \"http://127.0.0.1:1/\"\n  method = \"get\"\n}\n",
    )
    .map(|_| ())
    .expect_err("bad method");
    assert!(
        err.contains("the `method` must be one of [HEAD GET POST PUT DELETE OPTIONS PATCH]"),
        "{err}"
    );
    let err = load(
        d.path(),
        "data \"http\" \"x\" {\n  url = \"http://127.0.0.1:1/\"\n  bogus = 1\n}\n",
    )
    .map(|_| ())
    .expect_err("unknown argument");
    assert!(err.contains("Unsupported argument"), "{err}");
    // Nothing listens on port 1: a connection error, not a hang.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = load(
        d.path(),
        &format!("data \"http\" \"x\" {{ url = \"http://127.0.0.1:{port}/\" }}\n"),
    )
    .map(|_| ())
    .expect_err("connection refused");
    // Go's net/http words, as Packer reports them.
    assert!(
        err.contains(&format!(
            "Datasource.Execute failed: Get \"http://127.0.0.1:{port}/\": dial tcp 127.0.0.1:{port}: connect: connection refused"
        )),
        "{err}"
    );
}

/// The CLI loads templates from inside a multi-threaded runtime (on the `block_on` thread and
/// from `spawn_blocking`); the blocking client must work in both.
#[test]
fn works_inside_a_multi_threaded_runtime() {
    let srv = start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hcl = format!(
        "data \"http\" \"x\" {{ url = \"http://127.0.0.1:{}/hello\" }}\nlocals {{ b = data.http.x.body }}\n",
        srv.port
    );
    rt.block_on(async {
        let d = tempfile::tempdir().unwrap();
        let t = load(d.path(), &hcl).unwrap();
        assert_eq!(local(&t, "b"), Value::str("hello, kiln\n"));
        // On a worker thread.
        let hcl2 = hcl.clone();
        let b = tokio::spawn(async move {
            let d = tempfile::tempdir().unwrap();
            local(&load(d.path(), &hcl2).unwrap(), "b")
        })
        .await
        .unwrap();
        assert_eq!(b, Value::str("hello, kiln\n"));
        // From the blocking pool.
        let b = tokio::task::spawn_blocking(move || {
            let d = tempfile::tempdir().unwrap();
            local(&load(d.path(), &hcl).unwrap(), "b")
        })
        .await
        .unwrap();
        assert_eq!(b, Value::str("hello, kiln\n"));
    });
}

#[tokio::test]
async fn works_inside_a_current_thread_runtime() {
    let srv = start();
    let d = tempfile::tempdir().unwrap();
    let t = load(
        d.path(),
        &format!(
            "data \"http\" \"x\" {{ url = \"http://127.0.0.1:{}/hello\" }}\nlocals {{ b = data.http.x.body }}\n",
            srv.port
        ),
    )
    .unwrap();
    assert_eq!(local(&t, "b"), Value::str("hello, kiln\n"));
}
