//! Picking a listening port in a range, as packer-plugin-sdk's `net.ListenRangeConfig`
//! (`net/configure_port.go`) does for the HTTP server, VNC and the communicator's forwarded
//! port: a random port in `[min, max)` (`min + rand.Intn(max-min)`; exactly `min` when
//! `max <= min`), retried while it is busy.
//!
//! Packer also takes a lock file per port in its cache directory so that concurrent Packer
//! processes do not race; Kiln keeps the listener open instead when it serves the port
//! itself, and releases it just before handing the port to qemu (the same window Packer has).

use std::net::{SocketAddr, TcpListener};

use anyhow::bail;
use rand::RngExt as _;

/// Binds a TCP listener on `addr` at a random port in `[min, max)`. Gives up after trying
/// every port of the range (randomly, at most `4 × range` draws) with an error naming the
/// range and the last failure.
pub fn listen_in_range(addr: &str, min: u16, max: u16) -> anyhow::Result<TcpListener> {
    if min == 0 {
        bail!("port range must start above 0 (got {min}..{max})");
    }
    let range = max.saturating_sub(min) as u32;
    let attempts = (range * 4).clamp(1, 4096);
    let mut rng = rand::rng();
    let mut last_err = None;
    for _ in 0..attempts {
        let port = if range > 0 {
            min + rng.random_range(0..range) as u16
        } else {
            min
        };
        let host = if addr.contains(':') && !addr.starts_with('[') {
            format!("[{addr}]")
        } else {
            addr.to_string()
        };
        let sa = format!("{host}:{port}");
        let parsed: SocketAddr = match sa.parse() {
            Ok(s) => s,
            Err(e) => bail!("invalid bind address {addr:?}: {e}"),
        };
        match TcpListener::bind(parsed) {
            Ok(l) => return Ok(l),
            Err(e) => last_err = Some(format!("port {port} cannot be opened: {e}")),
        }
        if range == 0 {
            break;
        }
    }
    bail!(
        "no free port between {min} and {max} on {addr}: {}",
        last_err.unwrap_or_default()
    )
}

/// A free port in `[min, max)` on `addr`, released at once (how the qemu plugin picks the
/// VNC port and the communicator's host port before starting qemu). A port handed out in the
/// last minute is not handed out again by this process while another port of the range can
/// be opened: between its release here and qemu binding it, another build of the same run
/// could otherwise pick it too (Packer keeps a lock file per port for the same reason).
///
/// Random draws first (as Packer); when they keep meeting ports handed out a moment ago, the
/// whole range is swept in order, and only when every port that opens was handed out in the
/// last minute is the one handed out longest ago given again.
pub fn free_port_in_range(addr: &str, min: u16, max: u16) -> anyhow::Result<u16> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static HANDED_OUT: Mutex<Option<HashMap<(String, u16), Instant>>> = Mutex::new(None);
    const HELD: Duration = Duration::from_secs(60);
    let range = u32::from(max.saturating_sub(min)).max(1);
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let handed = guard.get_or_insert_with(HashMap::new);
    handed.retain(|_, at| at.elapsed() < HELD);
    let hand_out = |h: &mut HashMap<(String, u16), Instant>, port: u16| {
        h.insert((addr.to_string(), port), Instant::now());
        port
    };
    let is_handed =
        |h: &HashMap<(String, u16), Instant>, port: u16| h.get(&(addr.to_string(), port)).copied();
    for _ in 0..range.min(64) {
        let port = listen_in_range(addr, min, max)?.local_addr()?.port();
        if is_handed(handed, port).is_none() {
            return Ok(hand_out(handed, port));
        }
    }
    // The draws kept meeting ports handed out a moment ago: sweep the range.
    let mut oldest: Option<(Instant, u16)> = None;
    let last = if max > min { max - 1 } else { min };
    for port in min..=last {
        if listen_in_range(addr, port, port).is_err() {
            continue;
        }
        match is_handed(handed, port) {
            None => return Ok(hand_out(handed, port)),
            Some(at) if oldest.is_none_or(|(o, _)| at < o) => oldest = Some((at, port)),
            Some(_) => {}
        }
    }
    match oldest {
        Some((_, port)) => Ok(hand_out(handed, port)),
        None => anyhow::bail!("no free port between {min} and {max} on {addr}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn does_not_hand_out_a_port_twice_in_a_minute() {
        // Every port of the range once (the last draws meet mostly handed-out ports and
        // fall back to the sweep), then the one handed out longest ago.
        let open: Vec<u16> = (21000..21010)
            .filter(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .collect();
        let mut seen = Vec::new();
        for _ in 0..open.len() {
            let p = free_port_in_range("127.0.0.1", 21000, 21010).unwrap();
            assert!(!seen.contains(&p), "port {p} handed out twice: {seen:?}");
            seen.push(p);
        }
        let first = seen[0];
        seen.sort();
        assert_eq!(seen, open);
        let again = free_port_in_range("127.0.0.1", 21000, 21010).unwrap();
        assert_eq!(
            again, first,
            "the port handed out longest ago is given again"
        );
    }

    #[test]
    fn picks_in_range_and_skips_busy_ports() {
        for _ in 0..20 {
            let p = free_port_in_range("127.0.0.1", 20000, 20010).unwrap();
            assert!((20000..20010).contains(&p), "{p}");
        }
        // A single-port range that is busy is an error naming the range.
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = listen_in_range("127.0.0.1", port, port).unwrap_err();
        assert!(
            format!("{e}").contains(&format!("between {port} and {port}")),
            "{e}"
        );
        // Two ports, one busy: the other one is the one found. (The ports are from the
        // system's ephemeral range, so another process may take the second meanwhile: then
        // a new pair is tried.)
        let mut found = 0;
        for _ in 0..50 {
            let held = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = held.local_addr().unwrap().port();
            if port >= u16::MAX - 2 {
                continue;
            }
            if let Ok(l) = listen_in_range("127.0.0.1", port, port + 2) {
                assert_eq!(l.local_addr().unwrap().port(), port + 1);
                found += 1;
                if found == 5 {
                    break;
                }
            }
        }
        assert_eq!(
            found, 5,
            "no pair of ports with a free second one in 50 tries"
        );
        assert!(listen_in_range("not an ip", 8000, 9000).is_err());
    }
}
