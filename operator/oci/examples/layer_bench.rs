//! Peak memory and time of the daemonless pipeline with a large layer.
//!
//! ```text
//! cargo run --release -p kiln-oci --example layer_bench -- 256
//! ```
//!
//! Starts Debian's docker-registry on a free loopback port, pushes a busybox base, then:
//! pull → unpack → write SIZE MiB of incompressible data plus small files → snapshot/diff
//! into one layer → commit → push (the base layer mounted) → pull the result into a fresh
//! store → unpack it. Prints each phase's wall time and the process's peak RSS
//! (`getrusage`), which must not grow with SIZE. Needs root (owners), docker-registry and
//! busybox-static.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiln_oci::Reference;
use kiln_oci::diff::{self, LayerOptions, SnapshotOptions};
use kiln_oci::image::{self, CommitOptions};
use kiln_oci::registry::{Client, ClientOptions};
use kiln_oci::store::{Platform, Store};
use kiln_oci::unpack::{self, UnpackOptions};

fn peak_rss_mib() -> f64 {
    let ru = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    ru.max_rss() as f64 / 1024.0
}

fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    println!(
        "{name:<28} {:>8.2} s   peak RSS so far {:>7.1} MiB",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    r
}

fn busybox_rootfs(dir: &Path) {
    for d in ["bin", "etc", "tmp", "root"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("install busybox-static");
    let list = Command::new("/bin/busybox")
        .arg("--list-full")
        .output()
        .unwrap();
    for l in String::from_utf8_lossy(&list.stdout).lines() {
        let p = dir.join(l);
        if !p.exists() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink("/bin/busybox", &p).unwrap();
        }
    }
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
}

fn main() {
    let size_mib: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SIZE in MiB"))
        .unwrap_or(256);
    let work =
        tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))
            .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let storage = work.path().join("registry");
    std::fs::create_dir_all(&storage).unwrap();
    let cfg = work.path().join("registry.yml");
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        ),
    )
    .unwrap();
    let mut registry = Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("install docker-registry");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let host = format!("127.0.0.1:{port}");
    let client = Client::new(ClientOptions::default()).unwrap();
    let base_ref = Reference::parse(&format!("{host}/bench/base:1")).unwrap();
    let out_ref = Reference::parse(&format!("{host}/bench/out:1")).unwrap();

    // base image
    {
        let seed = Store::open(work.path().join("seed")).unwrap();
        let root = work.path().join("seed-rootfs");
        std::fs::create_dir(&root).unwrap();
        busybox_rootfs(&root);
        let after = diff::snapshot(&root, &SnapshotOptions::default()).unwrap();
        let layer = diff::write_layer(
            &root,
            &Default::default(),
            &after,
            &seed,
            &LayerOptions::default(),
        )
        .unwrap();
        let base = image::scratch(&Platform::host(), serde_json::json!({"Cmd": ["sh"]}));
        image::commit(
            &seed,
            &base,
            &layer,
            &CommitOptions::default(),
            &base_ref.to_string(),
        )
        .unwrap();
        client
            .push(&seed, &base_ref.to_string(), &base_ref)
            .unwrap();
    }
    println!(
        "layer of {size_mib} MiB (incompressible), base busybox; RSS at start {:.1} MiB",
        peak_rss_mib()
    );

    let store = Store::open(work.path().join("store")).unwrap();
    let rootfs = work.path().join("rootfs");
    let pulled = phase("pull base", || {
        client.pull(&base_ref, &store, &Platform::host()).unwrap()
    });
    phase("unpack base", || {
        unpack::unpack_layers(
            &store,
            &pulled.image.manifest.layers,
            &rootfs,
            &UnpackOptions::default(),
        )
        .unwrap()
    });
    let before = phase("snapshot before", || {
        diff::snapshot(&rootfs, &SnapshotOptions::default()).unwrap()
    });
    phase("provision (write files)", || {
        std::fs::create_dir_all(rootfs.join("data")).unwrap();
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(rootfs.join("data/big.bin")).unwrap());
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..size_mib {
            for c in buf.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                c.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&buf).unwrap();
        }
        f.flush().unwrap();
        for i in 0..1000 {
            std::fs::write(rootfs.join(format!("data/small-{i}")), format!("{i}\n")).unwrap();
        }
    });
    let after = phase("snapshot after", || {
        diff::snapshot(&rootfs, &SnapshotOptions::default()).unwrap()
    });
    let layer = phase("diff → gzip layer", || {
        diff::write_layer(&rootfs, &before, &after, &store, &LayerOptions::default()).unwrap()
    });
    phase("commit", || {
        image::commit(
            &store,
            &pulled.image,
            &layer,
            &CommitOptions::default(),
            &out_ref.to_string(),
        )
        .unwrap()
    });
    let pushed = phase("push (base mounted)", || {
        client.push(&store, &out_ref.to_string(), &out_ref).unwrap()
    });
    let store2 = Store::open(work.path().join("store2")).unwrap();
    let pulled2 = phase("pull result (fresh store)", || {
        client.pull(&out_ref, &store2, &Platform::host()).unwrap()
    });
    phase("unpack result", || {
        unpack::unpack_layers(
            &store2,
            &pulled2.image.manifest.layers,
            &work.path().join("rootfs2"),
            &UnpackOptions::default(),
        )
        .unwrap()
    });
    println!(
        "layer: {} bytes compressed, digest {}; push: {} uploaded, {} mounted, {} skipped",
        layer.descriptor.size,
        layer.descriptor.digest,
        pushed.uploaded,
        pushed.mounted,
        pushed.skipped
    );
    let hwm = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.to_string())
        .unwrap_or_default();
    println!("PEAK_RSS_MIB {:.1} ({hwm})", peak_rss_mib());
    let _ = registry.kill();
    let _ = registry.wait();
}
