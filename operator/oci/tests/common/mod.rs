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
        if self.mode == Mode::Basic {
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
