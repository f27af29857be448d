//! A small QMP (QEMU Machine Protocol) client over the `-qmp unix:<path>,server,nowait`
//! socket, for what the plugin's `step_configure_qmp.go` does (`change-vnc-password` when
//! `vnc_use_password` is set) and what a clean shutdown needs; plus the plugin's VNC
//! password rule (`VNCPassword` in `step_configure_vnc.go`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// A QMP session in command mode (capabilities negotiated).
pub struct Qmp {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The greeting's `QMP.version.qemu` (`{"major":7,"minor":2,"micro":19}`).
    pub version: Value,
}

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl Qmp {
    /// Connects to the socket (retrying for `dial_timeout` while qemu has not created it
    /// yet), reads the greeting and negotiates capabilities (`qmp_capabilities`).
    pub async fn connect(path: &Path, dial_timeout: Duration) -> anyhow::Result<Qmp> {
        let deadline = tokio::time::Instant::now() + dial_timeout;
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("Error opening QMP socket {}", path.display()));
                }
            }
        };
        let (r, w) = stream.into_split();
        let mut q = Qmp {
            reader: BufReader::new(r),
            writer: w,
            version: Value::Null,
        };
        let greeting = q.read_message().await.context("reading the QMP greeting")?;
        let Some(g) = greeting.get("QMP") else {
            bail!("not a QMP greeting: {greeting}");
        };
        q.version = g["version"]["qemu"].clone();
        q.execute("qmp_capabilities", None)
            .await
            .context("Error connecting to QMP socket")?;
        Ok(q)
    }

    async fn read_message(&mut self) -> anyhow::Result<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_line(&mut line))
            .await
            .context("QMP reply timed out")??;
        if n == 0 {
            bail!("QMP socket closed by qemu");
        }
        serde_json::from_str(&line).with_context(|| format!("invalid QMP message {line:?}"))
    }

    /// Runs a command; returns its `return` value, or its `error` as an error naming the
    /// command. Asynchronous events arriving meanwhile are skipped.
    pub async fn execute(
        &mut self,
        command: &str,
        arguments: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut msg = json!({ "execute": command });
        if let Some(a) = arguments {
            msg["arguments"] = a;
        }
        let mut text = msg.to_string();
        text.push('\n');
        self.writer
            .write_all(text.as_bytes())
            .await
            .with_context(|| format!("sending QMP {command}"))?;
        loop {
            let m = self
                .read_message()
                .await
                .with_context(|| format!("QMP {command}"))?;
            if let Some(r) = m.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = m.get("error") {
                bail!(
                    "QMP {command} failed: {} ({})",
                    e["desc"].as_str().unwrap_or("no description"),
                    e["class"].as_str().unwrap_or("?")
                );
            }
            // {"event": ...}: not ours.
        }
    }

    /// `change-vnc-password`, as the plugin sends it for `vnc_use_password`.
    pub async fn change_vnc_password(&mut self, password: &str) -> anyhow::Result<()> {
        self.execute("change-vnc-password", Some(json!({ "password": password })))
            .await
            .map(|_| ())
    }

    /// `query-status`'s `status` (`running`, `paused`, `shutdown`, …).
    pub async fn status(&mut self) -> anyhow::Result<String> {
        let r = self.execute("query-status", None).await?;
        Ok(r["status"].as_str().unwrap_or_default().to_string())
    }

    /// The plugin's `getNetDevices`: the NICs among `/machine/peripheral` and
    /// `/machine/peripheral-anon`'s children (those with a `netdev` property), each as its
    /// netdev id and MAC address.
    pub async fn net_devices(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        let mut out = vec![];
        for parent in ["/machine/peripheral", "/machine/peripheral-anon"] {
            for child in self.qom_list(parent).await? {
                if !child.1.starts_with("child<") {
                    continue;
                }
                let path = format!("{parent}/{}", child.0);
                let props = self.qom_list(&path).await?;
                if !props.iter().any(|p| p.0 == "netdev") {
                    continue;
                }
                let (mut name, mut mac) = (String::new(), String::new());
                for (prop, _) in &props {
                    if prop != "netdev" && prop != "mac" {
                        continue;
                    }
                    let v = self
                        .execute("qom-get", Some(json!({"path": path, "property": prop})))
                        .await?;
                    let v = v.as_str().unwrap_or_default().to_string();
                    if prop == "netdev" {
                        name = v;
                    } else {
                        mac = v;
                    }
                }
                out.push((name, mac));
            }
        }
        Ok(out)
    }

    /// `qom-list`: the (name, type) of each property at `path`.
    async fn qom_list(&mut self, path: &str) -> anyhow::Result<Vec<(String, String)>> {
        let r = self
            .execute("qom-list", Some(json!({"path": path})))
            .await?;
        Ok(r.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                        (s("name"), s("type"))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `system_powerdown`: the ACPI power button.
    pub async fn system_powerdown(&mut self) -> anyhow::Result<()> {
        self.execute("system_powerdown", None).await.map(|_| ())
    }
}

/// The plugin's charset for generated VNC passwords (it has no `7`, kept as is).
const VNC_PASSWORD_CHARS: &[u8] = b"012345689abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// `VNCPassword`: none without `vnc_use_password`; the configured `vnc_password` (at most 8
/// characters, VNC's limit); else 8 random characters.
pub fn vnc_password(use_password: bool, configured: &str) -> Result<Option<String>, String> {
    if !use_password {
        return Ok(None);
    }
    if configured.len() > 8 {
        return Err(format!(
            "password length is longer than expected {} > 8",
            configured.len()
        ));
    }
    if !configured.is_empty() {
        return Ok(Some(configured.to_string()));
    }
    use rand::RngExt as _;
    let mut rng = rand::rng();
    Ok(Some(
        (0..8)
            .map(|_| VNC_PASSWORD_CHARS[rng.random_range(0..VNC_PASSWORD_CHARS.len())] as char)
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnc_password_rules() {
        assert_eq!(vnc_password(false, "x"), Ok(None));
        assert_eq!(vnc_password(true, "secret"), Ok(Some("secret".into())));
        assert!(
            vnc_password(true, "123456789")
                .unwrap_err()
                .contains("9 > 8")
        );
        let p = vnc_password(true, "").unwrap().unwrap();
        assert_eq!(p.len(), 8);
        assert!(p.bytes().all(|b| VNC_PASSWORD_CHARS.contains(&b)));
        assert_ne!(p, vnc_password(true, "").unwrap().unwrap());
    }

    /// A scripted QMP server: greeting, capabilities, an event in between, an error.
    #[tokio::test]
    async fn protocol_against_a_scripted_server() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("qmp.sock");
        let l = tokio::net::UnixListener::bind(&sock).unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            w.write_all(b"{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 19}}, \"capabilities\": []}}\n").await.unwrap();
            let mut got = Vec::new();
            for reply in [
                "{\"return\": {}}\n",
                "{\"event\": \"RESUME\"}\n{\"return\": {}}\n",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Could not set password\"}}\n",
            ] {
                let mut line = String::new();
                r.read_line(&mut line).await.unwrap();
                got.push(serde_json::from_str::<Value>(&line).unwrap());
                w.write_all(reply.as_bytes()).await.unwrap();
            }
            got
        });
        let mut q = Qmp::connect(&sock, Duration::from_secs(2)).await.unwrap();
        assert_eq!(q.version["minor"], 2);
        q.change_vnc_password("pw").await.unwrap();
        let e = q.change_vnc_password("pw2").await.unwrap_err();
        assert!(format!("{e}").contains("Could not set password"), "{e}");
        let got = server.await.unwrap();
        assert_eq!(got[0], json!({"execute": "qmp_capabilities"}));
        assert_eq!(
            got[1],
            json!({"execute": "change-vnc-password", "arguments": {"password": "pw"}})
        );
        // No socket: a clear error after the dial timeout.
        let e = Qmp::connect(&dir.path().join("none.sock"), Duration::from_millis(200))
            .await
            .err()
            .unwrap();
        assert!(
            format!("{e:#}").contains("Error opening QMP socket"),
            "{e:#}"
        );
    }
}

/// The plugin's `getDeviceIPAddress`: the IPv4 address of the complete (`ATF_COM`) entry for
/// `mac` on `device` in `/proc/net/arp`'s text.
pub fn arp_address(arp: &str, device: &str, mac: &str) -> Option<String> {
    const ATF_COM: i64 = 0x02;
    for line in arp.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || (!device.is_empty() && f[5] != device) || f[3] != mac {
            continue;
        }
        // Go's strconv.ParseInt(s, 0, 32)
        let flags = match f[2].strip_prefix("0x").or_else(|| f[2].strip_prefix("0X")) {
            Some(h) => i64::from_str_radix(h, 16).ok()?,
            None => f[2].parse().ok()?,
        };
        if flags & ATF_COM == ATF_COM {
            return Some(f[0].to_string());
        }
    }
    None
}

#[cfg(test)]
mod arp_tests {
    use super::arp_address;

    #[test]
    fn the_complete_entry_of_the_mac_on_the_bridge() {
        let arp = "IP address       HW type     Flags       HW address            Mask     Device
10.0.0.9         0x1         0x0         52:54:00:12:34:56     *        br0
192.168.121.111  0x1         0x2         52:54:00:12:34:56     *        virbr0
10.0.0.7         0x1         0x2         52:54:00:12:34:56     *        br0
";
        assert_eq!(
            arp_address(arp, "br0", "52:54:00:12:34:56").as_deref(),
            Some("10.0.0.7")
        );
        assert_eq!(
            arp_address(arp, "", "52:54:00:12:34:56").as_deref(),
            Some("192.168.121.111")
        );
        assert_eq!(arp_address(arp, "br0", "52:54:00:00:00:01"), None);
        // an incomplete entry (flags 0x0) is not the guest's address yet
        assert_eq!(
            arp_address(&arp.replace("0x2 ", "0x0 "), "br0", "52:54:00:12:34:56"),
            None
        );
    }
}
