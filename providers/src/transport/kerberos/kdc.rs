//! The initiator's KDC messages over TCP (RFC 4120 §7.2.2: a 4-byte big-endian length, then the
//! message; `sspi` hands over the request already framed and expects the answer framed) or UDP
//! (§7.2.1: one datagram each way, handed over unframed; the answer goes back framed, as for
//! TCP). A KDC proxy (`http(s)://`) is not spoken.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use sspi::network_client::NetworkClient;
use sspi::{Error, ErrorKind, NetworkProtocol, NetworkRequest};

/// How long to wait for a KDC to connect and answer (MIT waits 3 s per KDC, Windows 5 s).
pub const KDC_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest KDC answer read, in bytes (tickets with a PAC are a few KiB).
const MAX_REPLY: usize = 1024 * 1024;

/// Sends the initiator's messages to the KDC it names.
#[derive(Debug, Default, Clone, Copy)]
pub struct KdcClient;

fn unreachable(url: &url::Url, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::NoAuthenticatingAuthority,
        format!("the KDC at {url}: {e}"),
    )
}

fn address(url: &url::Url) -> Result<std::net::SocketAddr, Error> {
    let host = url.host_str().unwrap_or_default();
    (host, url.port().unwrap_or(88))
        .to_socket_addrs()
        .map_err(|e| unreachable(url, e))?
        .next()
        .ok_or_else(|| unreachable(url, "no address"))
}

impl KdcClient {
    fn tcp(url: &url::Url, data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut s = TcpStream::connect_timeout(&address(url)?, KDC_TIMEOUT)
            .map_err(|e| unreachable(url, e))?;
        s.set_read_timeout(Some(KDC_TIMEOUT))
            .and_then(|()| s.set_write_timeout(Some(KDC_TIMEOUT)))
            .and_then(|()| s.write_all(data))
            .map_err(|e| unreachable(url, e))?;
        let mut len = [0u8; 4];
        s.read_exact(&mut len).map_err(|e| unreachable(url, e))?;
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_REPLY {
            return Err(unreachable(url, format!("an answer of {n} bytes")));
        }
        let mut out = vec![0u8; 4 + n];
        out[..4].copy_from_slice(&len);
        s.read_exact(&mut out[4..])
            .map_err(|e| unreachable(url, e))?;
        Ok(out)
    }

    fn udp(url: &url::Url, data: &[u8]) -> Result<Vec<u8>, Error> {
        let to = address(url)?;
        let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        let s = UdpSocket::bind(bind).map_err(|e| unreachable(url, e))?;
        s.set_read_timeout(Some(KDC_TIMEOUT))
            .map_err(|e| unreachable(url, e))?;
        // sspi hands a UDP request over without the TCP length prefix: one datagram as is.
        s.send_to(data, to).map_err(|e| unreachable(url, e))?;
        let mut buf = vec![0u8; 65_535];
        let n = s.recv(&mut buf).map_err(|e| unreachable(url, e))?;
        let mut out = u32::try_from(n).unwrap_or(0).to_be_bytes().to_vec();
        out.extend_from_slice(&buf[..n]);
        Ok(out)
    }
}

impl NetworkClient for KdcClient {
    fn send(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        match request.protocol {
            NetworkProtocol::Tcp => KdcClient::tcp(&request.url, &request.data),
            NetworkProtocol::Udp => KdcClient::udp(&request.url, &request.data),
            NetworkProtocol::Http | NetworkProtocol::Https => Err(unreachable(
                &request.url,
                "a KDC proxy (KKDCP) is not supported: name the KDC as tcp://host:88",
            )),
        }
    }
}
