//! The operator's memory returned to the node.
//!
//! The operator caches every ImageBuild, Job and runner Pod it watches; when thousands of
//! them go at once (a namespace deleted, retention), their memory is freed, but glibc's
//! allocator keeps it: measured in session 5, the resident size went from 114 to 187 MiB
//! while deleting 10 000 builds and stayed there, with a live heap under 50 MiB (heaptrack).
//! Two knobs of glibc (the binary is linked statically against it):
//!
//! - [`limit_arenas`]: at most two malloc arenas (glibc's default is eight per core), so
//!   memory freed by one worker thread is reused by the others instead of each thread's
//!   arena growing on its own;
//! - [`trim_periodically`]: `malloc_trim(0)` once a minute gives free pages back to the
//!   kernel (also from the middle of an arena, not only its top).
//!
//! Only `kiln operator` does this; the CLI and the runner keep glibc's defaults (short-lived
//! processes, where speed matters more).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often free memory is handed back.
pub const TRIM_EVERY: Duration = Duration::from_secs(60);

/// At most two malloc arenas. Call before the runtime's threads start allocating.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is thread-safe in glibc.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands free memory back to the kernel; returns whether any was.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim walks glibc's own arenas under their locks.
    unsafe {
        libc::malloc_trim(0) == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Runs [`trim`] every [`TRIM_EVERY`] until `stop`.
pub async fn trim_periodically(stop: CancellationToken) {
    let mut tick = tokio::time::interval(TRIM_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                let released = tokio::task::spawn_blocking(trim).await.unwrap_or(false);
                tracing::debug!(released, "malloc_trim");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory freed by a large burst of allocations goes back to the kernel. The resident
    /// size is the whole process's, so the measurement runs in a process of its own (this
    /// test binary again, running only the test below), away from the other tests'
    /// allocations.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn trim_gives_freed_memory_back() {
        let name = "controller::memory::tests::trim_gives_freed_memory_back_in_this_process";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                name,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "{text}");
    }

    #[test]
    #[ignore = "run in a process of its own by trim_gives_freed_memory_back"]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn trim_gives_freed_memory_back_in_this_process() {
        fn rss_kib() -> u64 {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap()
        }
        // 200 000 small objects (about 100 MiB), interleaved with a few that stay, so the
        // freed memory is in the middle of the heap, not only at its top.
        let mut keep = Vec::new();
        let mut gone: Vec<Vec<u8>> = Vec::new();
        for i in 0..200_000u32 {
            let v = vec![(i % 251) as u8; 512];
            if i % 1000 == 0 {
                keep.push(v);
            } else {
                gone.push(v);
            }
        }
        let full = rss_kib();
        drop(gone);
        trim();
        let after = rss_kib();
        assert!(keep.len() == 200);
        assert!(
            after + 50 * 1024 < full,
            "resident {full} KiB with the objects, {after} KiB after freeing and trimming"
        );
    }
}
