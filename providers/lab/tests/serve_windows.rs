//! `lab serve` as a WinRM service configured as Windows ships it (windows-runtime.md §1): Basic
//! refused, unencrypted bodies refused, the envelope size limit, the per-user shell quota, and
//! NTLM bound to its connection with one retry of a lost handshake.

mod serve_support;

use cmdeploy_lab::serve::{ServeOptions, ServiceConfig};
use cmdeploy_providers::transport::relay::{Refusal, RelayConnection, Upstream};
use serve_support::*;

#[tokio::test]
async fn basic_is_refused_with_an_empty_401_as_windows_ships_until_switched_on() {
    let create = || {
        request(
            &format!("{TRANSFER}/Create"),
            "uuid:basic",
            None,
            "PT5S",
            "<rsp:Shell/>",
        )
    };
    // Windows' defaults: Basic=false.
    let s = start(windows()).await;
    let r = s
        .client
        .post(&s.listening.url)
        .basic_auth("CONTOSO\\cmadmin", Some(&s.password))
        .body(create())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Negotiate");
    assert_eq!(
        r.text().await.unwrap(),
        "",
        "an empty body, as masterzen/winrm#75 saw"
    );
    // Basic=true but AllowUnencrypted=false: still refused over HTTP.
    let s = start(ServeOptions {
        service: ServiceConfig {
            basic: true,
            ..ServiceConfig::default()
        },
        ..windows()
    })
    .await;
    let pw = s.password.clone();
    let (status, text) = s
        .post(&s.listening.url, "CONTOSO\\cmadmin", &pw, create())
        .await;
    assert_eq!((status, text.as_str()), (401, ""));
    // Both switched on: Basic works, and a wrong password is refused offering Basic.
    let s = start(basic_on()).await;
    let pw = s.password.clone();
    let (status, text) = s
        .post(&s.listening.url, "CONTOSO\\cmadmin", &pw, create())
        .await;
    assert_eq!(status, 200, "{text}");
    let r = s
        .client
        .post(&s.listening.url)
        .basic_auth("CONTOSO\\cmadmin", Some("wrong"))
        .body(create())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let offered: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(offered, ["Negotiate", "Basic realm=\"WSMAN\""]);
}

#[tokio::test]
async fn an_unencrypted_body_on_an_ntlm_connection_over_http_is_refused_with_500() {
    let s = start(windows()).await;
    let mut c = s.logon().await;
    let create = request(
        &format!("{TRANSFER}/Create"),
        "uuid:plain",
        None,
        "PT5S",
        "<rsp:Shell/>",
    );
    let (status, body) = c.send_unsealed(create.as_bytes()).await.unwrap();
    assert_eq!((status.as_u16(), body.len()), (500, 0));
    // AllowUnencrypted=true accepts it.
    let s = start(ServeOptions {
        service: ServiceConfig {
            allow_unencrypted: true,
            ..ServiceConfig::default()
        },
        ..windows()
    })
    .await;
    let mut c = s.logon().await;
    let (status, body) = c.send_unsealed(create.as_bytes()).await.unwrap();
    assert_eq!(status.as_u16(), 200, "{body:?}");
}

#[tokio::test]
async fn an_envelope_over_max_envelope_size_is_answered_413() {
    let s = start(windows()).await;
    let padding = "x".repeat(500 * 1024);
    let big = request(
        &format!("{TRANSFER}/Create"),
        "uuid:big",
        None,
        "PT5S",
        &format!("<rsp:Shell><rsp:WorkingDirectory>{padding}</rsp:WorkingDirectory></rsp:Shell>"),
    );
    let (status, text) = s.sealed(big).await;
    assert_eq!((status, text.as_str()), (413, ""));
    // Just under the limit is processed.
    let fits = request(
        &format!("{TRANSFER}/Create"),
        "uuid:fits",
        None,
        "PT5S",
        &format!(
            "<rsp:Shell><rsp:WorkingDirectory>{}</rsp:WorkingDirectory></rsp:Shell>",
            "x".repeat(400 * 1024)
        ),
    );
    let mut c = s.logon().await;
    let (status, _) = c.send(fits.as_bytes()).await.unwrap();
    assert_eq!(status.as_u16(), 200);
}

#[tokio::test]
async fn the_shell_over_max_shells_per_user_gets_the_quota_fault() {
    let s = start(ServeOptions {
        service: ServiceConfig {
            max_shells_per_user: 30,
            ..ServiceConfig::default()
        },
        ..windows()
    })
    .await;
    let mut shells = Vec::new();
    for _ in 0..30 {
        shells.push(s.create("cm01.contoso.com").await);
    }
    let (status, text) = s
        .call(
            &format!("{TRANSFER}/Create"),
            "uuid:31",
            None,
            "<rsp:Shell/>",
        )
        .await;
    assert_eq!(status, 500);
    assert!(
        text.contains("<s:Value>w:QuotaLimit</s:Value>")
            && text.contains(r#"Code="2150859173""#)
            && text.contains("This user is allowed a maximum number of 30 concurrent shells, which has been exceeded."),
        "{text}"
    );
    let (status, _) = s
        .call(
            &format!("{TRANSFER}/Delete"),
            "uuid:del",
            Some(&shells[0]),
            "",
        )
        .await;
    assert_eq!(status, 200);
    s.create("cm01.contoso.com").await;
}

/// A TCP forwarder to `to` that closes the first `drop_first` connections as soon as a request
/// arrives on them, without answering (a handshake lost on its connection).
async fn flaky_forwarder(to: std::net::SocketAddr, drop_first: usize) -> u16 {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut seen = 0;
        while let Ok((mut inbound, _)) = listener.accept().await {
            seen += 1;
            if seen <= drop_first {
                let mut buf = [0u8; 64];
                let _ = inbound.read(&mut buf).await;
                drop(inbound);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_handshake_lost_on_its_connection_is_retried_once_on_a_fresh_one() {
    let s = start(windows()).await;
    let creds = s.credentials("cmadmin", "CONTOSO", &s.password);
    let via = |port: u16| Upstream {
        port,
        ..s.upstream()
    };
    // The first connection dies during the NEGOTIATE: nothing ran, the second one logs on.
    let once = flaky_forwarder(s.listening.addr, 1).await;
    let mut c = RelayConnection::open(&via(once), &creds).await.unwrap();
    let create = request(
        &format!("{TRANSFER}/Create"),
        "uuid:retry",
        None,
        "PT5S",
        "<rsp:Shell/>",
    );
    let (status, text) = c.send(create.as_bytes()).await.unwrap();
    assert_eq!(status.as_u16(), 200, "{text:?}");
    // Twice in a row: one retry only, and the failure says where.
    let twice = flaky_forwarder(s.listening.addr, 2).await;
    match RelayConnection::open(&via(twice), &creds).await {
        Err(Refusal::Other(m)) => assert!(m.contains(&format!("127.0.0.1:{twice}")), "{m}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("logged on through two lost handshakes"),
    }
}

/// Regression: `lab serve` kept a request whose body never finished open without end (one held
/// connection per stalled client). The body must arrive within the read timeout; time is paused,
/// so the 60 s pass at once.
#[tokio::test(start_paused = true)]
async fn a_request_body_that_never_finishes_is_answered_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let served = start(windows()).await;
    let mut stream = tokio::net::TcpStream::connect(served.listening.addr)
        .await
        .unwrap();
    stream
        .write_all(b"POST /wsman HTTP/1.1\r\nHost: cm01\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let mut reply = vec![0u8; 256];
    // Windows' own limits are minutes; two minutes of (paused) time is ample.
    let n = tokio::time::timeout(std::time::Duration::from_secs(120), stream.read(&mut reply))
        .await
        .expect("no answer within 120 s: the stalled body holds the connection")
        .unwrap();
    let text = String::from_utf8_lossy(&reply[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
}
