//! Local tunnels (`ssh_local_tunnels`) and the SOCKS5 dialer (`ssh_proxy_*`). Remote tunnels
//! are served by the client handler (`server_channel_open_forwarded_tcpip`).

use std::sync::Weak;

use anyhow::{Context, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::client::Conn;
use super::config::{ProxyConfig, Tunnel};

/// Listens on 127.0.0.1:`listen_port` and forwards each connection to `host:port` as seen
/// from the remote machine. The listener is bound before this returns.
pub(crate) async fn local_forward(conn: Weak<Conn>, t: Tunnel) -> anyhow::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(("127.0.0.1", t.listen_port))
        .await
        .with_context(|| {
            format!(
                "ssh_local_tunnels: listening on 127.0.0.1:{}",
                t.listen_port
            )
        })?;
    Ok(tokio::spawn(async move {
        while let Ok((mut tcp, peer)) = listener.accept().await {
            let Some(conn) = conn.upgrade() else { break };
            let t = t.clone();
            tokio::spawn(async move {
                let ch = conn
                    .handle
                    .channel_open_direct_tcpip(
                        t.host.clone(),
                        u32::from(t.port),
                        peer.ip().to_string(),
                        u32::from(peer.port()),
                    )
                    .await;
                if let Ok(ch) = ch {
                    let mut stream = ch.into_stream();
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut stream).await;
                }
            });
        }
    }))
}

/// Dials `host:port` through a SOCKS5 proxy (RFC 1928, with RFC 1929 username/password).
pub(crate) async fn socks5_connect(
    p: &ProxyConfig,
    host: &str,
    port: u16,
) -> anyhow::Result<TcpStream> {
    let mut s = TcpStream::connect((p.host.as_str(), p.port))
        .await
        .map_err(|e| anyhow!("dial SOCKS5 proxy {}:{}: {e}", p.host, p.port))?;
    let _ = s.set_nodelay(true);
    let with_auth = p.username.is_some();
    if with_auth {
        s.write_all(&[5, 2, 0, 2]).await?;
    } else {
        s.write_all(&[5, 1, 0]).await?;
    }
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await?;
    if reply[0] != 5 {
        bail!("{}:{} is not a SOCKS5 proxy", p.host, p.port);
    }
    match reply[1] {
        0 => {}
        2 => {
            let u = p.username.clone().unwrap_or_default();
            let pw = p.password.clone().unwrap_or_default();
            let mut m = vec![1, u.len() as u8];
            m.extend_from_slice(u.as_bytes());
            m.push(pw.len() as u8);
            m.extend_from_slice(pw.as_bytes());
            s.write_all(&m).await?;
            s.read_exact(&mut reply).await?;
            if reply[1] != 0 {
                bail!(
                    "SOCKS5 proxy {}:{} refused the username/password",
                    p.host,
                    p.port
                );
            }
        }
        _ => bail!(
            "SOCKS5 proxy {}:{} accepts none of our authentication methods",
            p.host,
            p.port
        ),
    }
    let mut req = vec![5, 1, 0, 3, host.len() as u8];
    req.extend_from_slice(host.as_bytes());
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    if head[1] != 0 {
        bail!(
            "SOCKS5 proxy {}:{} could not connect to {host}:{port} (reply code {})",
            p.host,
            p.port,
            head[1]
        );
    }
    let skip = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut l = [0u8; 1];
            s.read_exact(&mut l).await?;
            usize::from(l[0])
        }
        _ => bail!("SOCKS5 proxy sent a bad address type"),
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest).await?;
    Ok(s)
}
