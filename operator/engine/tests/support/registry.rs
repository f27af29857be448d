//! A Debian `docker-registry` on loopback, and finding the tools tests need.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn need(bin: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin"] {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p;
        }
    }
    panic!("{bin} is not installed: run scripts/install-deps.sh (apt-get install {package})");
}

pub struct Registry {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Registry {
    /// An open registry.
    pub fn start() -> Registry {
        Registry::serve(None)
    }

    /// A registry that asks for basic auth with this user and password.
    pub fn start_with_auth(user: &str, password: &str) -> Registry {
        Registry::serve(Some((user, password)))
    }

    fn serve(auth: Option<(&str, &str)>) -> Registry {
        let bin = need("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = dir.path().join("config.yml");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("storage").display()
        );
        if let Some((user, password)) = auth {
            let htpasswd = dir.path().join("htpasswd");
            let hash = bcrypt::hash(password, 5).unwrap();
            std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kiln-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            _dir: dir,
            port,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
