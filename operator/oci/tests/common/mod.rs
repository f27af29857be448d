//! Test fixtures: Debian's docker-registry on loopback (plain, TLS, basic auth), a busybox
//! base image, skopeo/umoci helpers. Each fixture fails with what to install when a peer is
//! missing.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::store::{Platform, Store};

pub fn need(bin: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p;
        }
    }
    panic!("{bin} is not installed: run scripts/install-deps.sh (apt-get install {package})");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Plain,
    Tls,
    Basic,
    /// Bearer tokens from a token server the test runs (JWTs signed with openssl).
    Token,
}

pub const USER: &str = "kiln";
pub const PASSWORD: &str = "s3cret-pw";
pub const TLS_NAME: &str = "registry.kiln.test";

/// A docker-registry process on 127.0.0.1, killed (and its storage removed) on drop.
pub struct Registry {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub mode: Mode,
    /// The scopes asked of the token server (Mode::Token), one request per entry.
    pub token_requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Registry {
    pub fn start(mode: Mode) -> Registry {
        let bin = need("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if mode == Mode::Tls {
            make_certs(dir.path());
            cfg.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("server.crt").display(),
                dir.path().join("server.key").display()
            ));
        }
        if mode == Mode::Basic {
            let hash = bcrypt::hash(PASSWORD, 5).unwrap();
            std::fs::write(dir.path().join("htpasswd"), format!("{USER}:{hash}\n")).unwrap();
            cfg.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kiln-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let token_requests = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
        if mode == Mode::Token {
            let tport = token_server(dir.path(), token_requests.clone());
            cfg.push_str(&format!(
                "auth:\n  token:\n    realm: http://127.0.0.1:{tport}/token\n    service: kiln-test-registry\n    issuer: kiln-test-issuer\n    rootcertbundle: {}\n",
                dir.path().join("token.crt").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let reg = Registry {
            child,
            dir,
            port,
            mode,
            token_requests,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {port}: {}",
                reg.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
    }

    /// host:port as references name it (the TLS one under a name resolved to 127.0.0.1).
    pub fn host(&self) -> String {
        match self.mode {
            Mode::Tls => format!("{TLS_NAME}:{}", self.port),
            _ => format!("127.0.0.1:{}", self.port),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    pub fn client_options(&self) -> kiln_oci::registry::ClientOptions {
        let mut o = kiln_oci::registry::ClientOptions::default();
        if self.mode == Mode::Tls {
            o.ca_file = Some(self.ca());
            o.resolve
                .insert(TLS_NAME.into(), "127.0.0.1".parse().unwrap());
        }
        if self.mode == Mode::Basic || self.mode == Mode::Token {
            o.credentials.add_basic(&self.host(), USER, PASSWORD);
        }
        o
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn make_certs(dir: &Path) {
    let openssl = need("openssl", "openssl");
    let run = |args: &[&str]| {
        let out = Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=kiln test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        &format!("/CN={TLS_NAME}"),
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName=DNS:{TLS_NAME},IP:127.0.0.1\n"),
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// A busybox root filesystem: the static /bin/busybox, its applets as symlinks, /etc/passwd
/// and /etc/group with root and an `app` user.
pub fn busybox_rootfs(dir: &Path) {
    let bb = need("busybox", "busybox-static");
    let ldd = Command::new("ldd").arg(&bb).output();
    if let Ok(o) = ldd {
        let s =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(
            s.contains("not a dynamic executable") || s.contains("statically linked"),
            "{} is not static: apt-get install busybox-static",
            bb.display()
        );
    }
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "root", "home/app",
    ] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(&bb, dir.join("bin/busybox")).unwrap();
    let list = Command::new(&bb).arg("--list-full").output().unwrap();
    for l in String::from_utf8_lossy(&list.stdout).lines() {
        let p = dir.join(l);
        if l == "bin/busybox" || p.exists() {
            continue;
        }
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("/bin/busybox", &p).unwrap();
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    std::fs::write(dir.join("etc/motd"), "base image\n").unwrap();
    std::fs::write(dir.join("etc/to-delete"), "going away\n").unwrap();
    std::fs::create_dir_all(dir.join("var/lib/gone/sub")).unwrap();
    std::fs::write(dir.join("var/lib/gone/sub/f"), "x").unwrap();
    std::fs::set_permissions(
        dir.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    nix::unistd::chown(&dir.join("home/app"), Some(1000.into()), Some(1000.into())).unwrap();
}

/// Builds the busybox base image into `store` as `name` (one layer, CMD ["sh"]).
pub fn make_base(store: &Store, name: &str) -> image::Committed {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir(&root).unwrap();
    let before = diff::snapshot(&root, &SnapshotOptions::default()).unwrap();
    busybox_rootfs(&root);
    let after = diff::snapshot(&root, &SnapshotOptions::default()).unwrap();
    let layer = diff::write_layer(&root, &before, &after, store, &LayerOptions::default()).unwrap();
    let base = image::scratch(
        &Platform::host(),
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}),
    );
    image::commit(
        store,
        &base,
        &layer,
        &CommitOptions {
            epoch: kiln_oci::DEFAULT_SOURCE_DATE_EPOCH,
            created_by: Some("busybox-static base (test)".into()),
            ..Default::default()
        },
        name,
    )
    .unwrap()
}

pub fn skopeo(args: &[&str]) -> String {
    let bin = need("skopeo", "skopeo");
    let out = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) {
    let bin = need("umoci", "umoci");
    let out = Command::new(bin)
        .args(["unpack", "--image"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg(bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "umoci unpack: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn b64url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A token server in a thread: checks basic credentials, answers a JWT (RS256, signed by
/// `openssl dgst`, certificate in `x5c`) granting pull and push on every scope asked.
fn token_server(dir: &Path, requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> u16 {
    use base64::Engine as _;
    use std::io::{BufRead, BufReader, Write};
    let openssl = need("openssl", "openssl");
    let out = Command::new(&openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
            "-days",
            "2",
            "-subj",
            "/CN=kiln token issuer",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let der = Command::new(&openssl)
        .args(["x509", "-in", "token.crt", "-outform", "DER"])
        .current_dir(dir)
        .output()
        .unwrap()
        .stdout;
    let x5c = base64::engine::general_purpose::STANDARD.encode(der);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization:") {
                    auth = h["authorization:".len()..].trim().to_string();
                }
            }
            let query = target.split_once('?').map(|x| x.1).unwrap_or("");
            let scopes: Vec<String> = query
                .split('&')
                .filter_map(|kv| kv.strip_prefix("scope="))
                .map(|s| {
                    s.replace("%3A", ":")
                        .replace("%2F", "/")
                        .replace("%2C", ",")
                })
                .collect();
            requests.lock().unwrap().push(scopes.join(" "));
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            );
            if auth != want {
                let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#;
                let _ = write!(
                    conn,
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let access: Vec<serde_json::Value> = scopes
                .iter()
                .filter_map(|s| {
                    let mut p = s.splitn(3, ':');
                    let (t, name, _) = (p.next()?, p.next()?, p.next()?);
                    Some(serde_json::json!({"type": t, "name": name, "actions": ["pull", "push"]}))
                })
                .collect();
            let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
            let claims = serde_json::json!({
                "iss": "kiln-test-issuer", "sub": USER, "aud": "kiln-test-registry",
                "exp": now + 600, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()),
                "access": access
            });
            let signing_input = format!(
                "{}.{}",
                b64url(header.to_string().as_bytes()),
                b64url(claims.to_string().as_bytes())
            );
            let mut child = Command::new(&openssl)
                .args(["dgst", "-sha256", "-sign", "token.key"])
                .current_dir(&dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(signing_input.as_bytes())
                .unwrap();
            let sig = child.wait_with_output().unwrap().stdout;
            let token = format!("{signing_input}.{}", b64url(&sig));
            let body = serde_json::json!({"token": token}).to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}
