//! A key-only VNC (RFB 3.3/3.7/3.8) client, enough to type boot commands as the qemu plugin
//! does with `mitchellh/go-vnc`: handshake with None or VNC (DES challenge) authentication,
//! a shared session, then `KeyEvent` messages with the key interval after each event.
//!
//! It never asks for framebuffer updates, so the server has nothing to send it.

use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::bootcommand::KeyStep;

/// A connected VNC session.
pub struct VncClient {
    stream: TcpStream,
    /// The desktop name from ServerInit (qemu sends `-name`, `QEMU` by default).
    pub desktop_name: String,
    pub width: u16,
    pub height: u16,
    /// The protocol version agreed on, e.g. (3, 8).
    pub version: (u32, u32),
}

/// How long any single read of the handshake may take before the server is called stuck.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

impl VncClient {
    /// Connects to `addr` (`host:port`) and performs the handshake. With a password, VNC
    /// authentication is used (and required); without, the server must offer None.
    pub async fn connect(addr: &str, password: Option<&str>) -> anyhow::Result<VncClient> {
        let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(addr))
            .await
            .with_context(|| format!("connecting to VNC at {addr}: timed out"))?
            .with_context(|| format!("connecting to VNC at {addr}"))?;
        stream.set_nodelay(true).ok();
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::handshake(stream, password))
            .await
            .with_context(|| format!("VNC handshake with {addr}: timed out"))?
            .with_context(|| format!("VNC handshake with {addr}"))
    }

    async fn handshake(mut s: TcpStream, password: Option<&str>) -> anyhow::Result<VncClient> {
        let mut ver = [0u8; 12];
        s.read_exact(&mut ver)
            .await
            .context("reading ProtocolVersion")?;
        let (major, minor) = parse_version(&ver)?;
        let version = if major > 3 || minor >= 8 {
            (3, 8)
        } else if minor >= 7 {
            (3, 7)
        } else {
            (3, 3)
        };
        s.write_all(format!("RFB {:03}.{:03}\n", version.0, version.1).as_bytes())
            .await?;

        let want = if password.is_some_and(|p| !p.is_empty()) {
            2u8
        } else {
            1u8
        };
        let chosen = if version == (3, 3) {
            let t = s.read_u32().await.context("reading security type")?;
            if t == 0 {
                bail!(
                    "server refused the connection: {}",
                    read_reason(&mut s).await?
                );
            }
            if t != want as u32 {
                bail!("server requires security type {t}, client supports {want}");
            }
            want
        } else {
            let n = s.read_u8().await.context("reading security types")?;
            if n == 0 {
                bail!(
                    "server refused the connection: {}",
                    read_reason(&mut s).await?
                );
            }
            let mut types = vec![0u8; n as usize];
            s.read_exact(&mut types).await?;
            if !types.contains(&want) {
                bail!(
                    "server offers security types {types:?}; {}",
                    if want == 2 {
                        "no VNC password authentication (2)"
                    } else {
                        "no 'None' authentication (1): set a VNC password"
                    }
                );
            }
            s.write_u8(want).await?;
            want
        };
        if chosen == 2 {
            let mut challenge = [0u8; 16];
            s.read_exact(&mut challenge)
                .await
                .context("reading VNC auth challenge")?;
            let resp = vnc_auth_response(password.unwrap_or_default().as_bytes(), &challenge);
            s.write_all(&resp).await?;
        }
        // SecurityResult: always after VNC auth; after None only from 3.8 on.
        if chosen == 2 || version == (3, 8) {
            let r = s.read_u32().await.context("reading SecurityResult")?;
            if r != 0 {
                let reason = if version == (3, 8) {
                    read_reason(&mut s).await.unwrap_or_default()
                } else {
                    String::new()
                };
                bail!(
                    "VNC authentication failed{}",
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                );
            }
        }
        // ClientInit: shared (go-vnc's Exclusive: false).
        s.write_u8(1).await?;
        let width = s.read_u16().await.context("reading ServerInit")?;
        let height = s.read_u16().await?;
        let mut pixel_format = [0u8; 16];
        s.read_exact(&mut pixel_format).await?;
        let desktop_name = read_reason(&mut s).await?;
        Ok(VncClient {
            stream: s,
            desktop_name,
            width,
            height,
            version,
        })
    }

    /// Sends one KeyEvent message.
    pub async fn key_event(&mut self, keysym: u32, down: bool) -> anyhow::Result<()> {
        let mut msg = [0u8; 8];
        msg[0] = 4;
        msg[1] = down as u8;
        msg[4..].copy_from_slice(&keysym.to_be_bytes());
        self.stream
            .write_all(&msg)
            .await
            .context("sending a VNC key event")
    }

    /// Types `steps`, sleeping `interval` after each key event as the SDK's VNC driver does;
    /// waits and sleeps end early (with an error) when `cancel` fires.
    pub async fn type_steps(
        &mut self,
        steps: &[KeyStep],
        interval: Duration,
        cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        for step in steps {
            if cancel.is_cancelled() {
                bail!("typing the boot command was cancelled");
            }
            let pause = match *step {
                KeyStep::Key { keysym, down } => {
                    self.key_event(keysym, down).await?;
                    interval
                }
                KeyStep::Wait(d) => d,
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = cancel.cancelled() => bail!("typing the boot command was cancelled"),
                }
            }
        }
        self.stream.flush().await?;
        Ok(())
    }
}

fn parse_version(v: &[u8; 12]) -> anyhow::Result<(u32, u32)> {
    let text = std::str::from_utf8(v).unwrap_or("");
    let bad = || {
        anyhow::anyhow!(
            "not an RFB server (greeting {:?})",
            String::from_utf8_lossy(v)
        )
    };
    let rest = text.strip_prefix("RFB ").ok_or_else(bad)?;
    let major: u32 = rest
        .get(0..3)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let minor: u32 = rest
        .get(4..7)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    if major < 3 {
        bail!("unsupported RFB version {major}.{minor}");
    }
    Ok((major, minor))
}

async fn read_reason(s: &mut TcpStream) -> anyhow::Result<String> {
    let n = s.read_u32().await?;
    if n > 1 << 20 {
        bail!("server sent an implausible string length {n}");
    }
    let mut buf = vec![0u8; n as usize];
    s.read_exact(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// VNC authentication: DES-encrypt the 16-byte challenge with the password (first 8 bytes,
/// zero padded) as key, each key byte's bits mirrored (RFB 6.2.2 and every VNC server).
pub fn vnc_auth_response(password: &[u8], challenge: &[u8; 16]) -> [u8; 16] {
    use des::cipher::{BlockCipherEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.iter()) {
        *k = b.reverse_bits();
    }
    let cipher = des::Des::new(&key.into());
    let mut out = *challenge;
    for chunk in out.chunks_exact_mut(8) {
        let mut block: [u8; 8] = chunk.try_into().expect("8-byte chunk");
        cipher.encrypt_block((&mut block).into());
        chunk.copy_from_slice(&block);
    }
    out
}

/// The plugin's `stepTypeBootCommand` (`step_type_boot_command.go`): waits `boot_wait`,
/// connects to the VM's VNC server, then for each boot step renders its placeholders,
/// parses it and types it with the key interval (`boot_key_interval`, else
/// `PACKER_KEY_INTERVAL` from `env_key_interval`, else 100 ms). `say` receives the messages
/// Packer prints. Nothing is done with `disable_vnc`.
pub async fn type_boot_command(
    cfg: &super::bootcommand::BootConfig,
    vnc_addr: &str,
    password: Option<&str>,
    data: &super::bootcommand::BootTemplateData,
    env_key_interval: Option<&str>,
    cancel: &CancellationToken,
    say: &(dyn Fn(String) + Send + Sync),
) -> anyhow::Result<()> {
    use super::bootcommand::{key_interval, parse, render, validate, vnc_events};
    let steps = cfg.steps();
    // As the plugin's stepTypeBootCommand: only `disable_vnc` skips it; with nothing to type
    // it still waits `boot_wait` and connects.
    if cfg.disable_vnc {
        return Ok(());
    }
    let wait = cfg.boot_wait();
    if !wait.is_zero() {
        say(format!(
            "Waiting {} for boot...",
            super::bootcommand::go_duration(wait)
        ));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => bail!("cancelled while waiting boot_wait"),
        }
    }
    say(format!("Connecting to VM via VNC ({vnc_addr})"));
    let mut client = VncClient::connect(vnc_addr, password)
        .await
        .context("Error connecting to VNC")?;
    let interval = key_interval(cfg.boot_key_interval, env_key_interval);
    say("Typing the boot commands over VNC...".into());
    for step in steps {
        if let Some(d) = &step.description {
            say(format!("Typing boot command for: {d}"));
        }
        let command = render(&step.command, data)
            .map_err(|e| anyhow::anyhow!("Error preparing boot command: {e}"))?;
        let seq = parse(&command);
        // The SDK's `expressionSequence.Do` validates first (a zero or negative wait), in
        // words that blame Packer: the plugin checks only boot_command in Prepare.
        if !validate(&seq).is_empty() {
            bail!(
                "Error running boot command: Found an invalid boot command. This is likely an error in Packer, so please open a ticket."
            );
        }
        let events =
            vnc_events(&seq).map_err(|e| anyhow::anyhow!("Error running boot command: {e}"))?;
        client
            .type_steps(&events, interval, cancel)
            .await
            .context("Error running boot command")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Known answer: the password bytes 0x80 mirror to the DES key 0x0101010101010101, and
    /// DES-ECB of the zero block under that key is 8CA64DE9C1B123A7 (the classic test vector).
    #[test]
    fn vnc_auth_known_answer() {
        let r = vnc_auth_response(&[0x80; 8], &[0u8; 16]);
        let expected = [0x8C, 0xA6, 0x4D, 0xE9, 0xC1, 0xB1, 0x23, 0xA7];
        assert_eq!(r[..8], expected);
        assert_eq!(r[8..], expected);
        // Only the first 8 bytes count, shorter passwords are zero padded.
        assert_eq!(
            vnc_auth_response(b"12345678", &[1u8; 16]),
            vnc_auth_response(b"123456789", &[1u8; 16])
        );
        assert_ne!(
            vnc_auth_response(b"secret", &[7u8; 16]),
            vnc_auth_response(b"secreT", &[7u8; 16])
        );
    }

    /// A scripted RFB 3.8 server checking the client's bytes, with VNC auth.
    #[tokio::test]
    async fn handshake_and_key_events_against_a_scripted_server() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"RFB 003.008\n").await.unwrap();
            let mut v = [0u8; 12];
            s.read_exact(&mut v).await.unwrap();
            assert_eq!(&v, b"RFB 003.008\n");
            s.write_all(&[2, 1, 2]).await.unwrap();
            assert_eq!(s.read_u8().await.unwrap(), 2);
            let challenge = [9u8; 16];
            s.write_all(&challenge).await.unwrap();
            let mut resp = [0u8; 16];
            s.read_exact(&mut resp).await.unwrap();
            assert_eq!(resp, vnc_auth_response(b"pw", &challenge));
            s.write_u32(0).await.unwrap();
            assert_eq!(s.read_u8().await.unwrap(), 1, "shared session");
            s.write_u16(640).await.unwrap();
            s.write_u16(480).await.unwrap();
            s.write_all(&[0u8; 16]).await.unwrap();
            s.write_u32(4).await.unwrap();
            s.write_all(b"kiln").await.unwrap();
            let mut msgs = Vec::new();
            let mut m = [0u8; 8];
            while s.read_exact(&mut m).await.is_ok() {
                msgs.push(m);
            }
            msgs
        });
        let mut c = VncClient::connect(&addr, Some("pw")).await.unwrap();
        assert_eq!(c.desktop_name, "kiln");
        assert_eq!((c.width, c.height, c.version), (640, 480, (3, 8)));
        let steps = super::super::bootcommand::vnc_events(&super::super::bootcommand::parse(
            "A<wait0.01s><enter>",
        ))
        .unwrap();
        c.type_steps(&steps, Duration::from_millis(1), &CancellationToken::new())
            .await
            .unwrap();
        drop(c);
        let msgs = server.await.unwrap();
        let keys: Vec<(u8, u32)> = msgs
            .iter()
            .map(|m| {
                assert_eq!(m[0], 4);
                (m[1], u32::from_be_bytes([m[4], m[5], m[6], m[7]]))
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                (1, 0xFFE1),
                (1, 0x41),
                (0, 0x41),
                (0, 0xFFE1),
                (1, 0xFF0D),
                (0, 0xFF0D)
            ]
        );
    }

    #[tokio::test]
    async fn refusals_are_clear_errors() {
        // A 3.3 server that demands VNC auth while the client has no password.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"RFB 003.003\n").await.unwrap();
            let mut v = [0u8; 12];
            s.read_exact(&mut v).await.unwrap();
            s.write_u32(2).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
        let e = VncClient::connect(&addr, None).await.err().unwrap();
        assert!(format!("{e:#}").contains("security type 2"), "{e:#}");
        // Not an RFB server at all.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"SSH-2.0-xyz\r\n").await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
        let e = VncClient::connect(&addr, None).await.err().unwrap();
        assert!(format!("{e:#}").contains("not an RFB server"), "{e:#}");
    }

    #[tokio::test]
    async fn type_boot_command_skips_and_cancels() {
        use super::super::bootcommand::{BootConfig, BootTemplateData};
        let data = BootTemplateData::default();
        let say = |_m: String| {};
        let typed = |cfg: BootConfig, addr: String, cancel: CancellationToken| {
            let data = data.clone();
            async move { type_boot_command(&cfg, &addr, None, &data, None, &cancel, &say).await }
        };
        let bogus = || "127.0.0.1:1".to_string();
        // disable_vnc: no connection is attempted (the address is bogus).
        let off = BootConfig {
            boot_command: vec!["x".into()],
            disable_vnc: true,
            ..Default::default()
        };
        typed(off, bogus(), CancellationToken::new()).await.unwrap();
        // Nothing to type: still connected to, as the plugin does.
        let empty = BootConfig {
            boot_wait: Some(Duration::ZERO),
            ..Default::default()
        };
        let e = typed(empty, bogus(), CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("Error connecting to VNC"),
            "{e:#}"
        );
        // Cancelling during boot_wait ends the step at once.
        let slow = BootConfig {
            boot_command: vec!["x".into()],
            boot_wait: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let cancel = CancellationToken::new();
        let c2 = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            c2.cancel();
        });
        let t0 = std::time::Instant::now();
        let e = typed(slow, bogus(), cancel).await.unwrap_err();
        assert!(format!("{e}").contains("boot_wait"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // A placeholder the boot command cannot know is an error naming it.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"RFB 003.008\n").await.unwrap();
            let mut v = [0u8; 12];
            s.read_exact(&mut v).await.unwrap();
            s.write_all(&[1, 1]).await.unwrap();
            s.read_u8().await.unwrap();
            s.write_u32(0).await.unwrap();
            s.read_u8().await.unwrap();
            s.write_all(&[0u8; 20]).await.unwrap();
            s.write_u32(0).await.unwrap();
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let bad = BootConfig {
            boot_command: vec!["{{ .Nope }}".into()],
            boot_wait: Some(Duration::ZERO),
            ..Default::default()
        };
        let e = typed(bad, addr, CancellationToken::new())
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("Nope"), "{e:#}");
    }
}
