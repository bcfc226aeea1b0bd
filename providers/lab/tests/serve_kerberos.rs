//! `lab serve --keytab` as a domain member's WinRM service: Kerberos offered in a 401, an
//! AP-REQ accepted with the keytab's keys and answered with the AP-REP, sealed bodies under
//! `application/HTTP-Kerberos-session-encrypted`, an unencrypted body over HTTP refused with 500
//! as AllowUnencrypted=false requires, and a principal that is no lab user refused. Tickets come
//! from the test KDC that tests/run.sh starts (tests/support/kdc.sh).

mod serve_support;

use cmdeploy_lab::serve::ServeOptions;
use cmdeploy_providers::transport::kerberos::KerberosCredentials;
use cmdeploy_providers::transport::relay::{Refusal, RelayConnection};
use serve_support::*;

fn keytab() -> std::path::PathBuf {
    std::env::var_os("CMDEPLOY_TEST_KRB5_KEYTAB")
        .expect("the test KDC is missing: run `bash tests/run.sh` (tests/support/kdc.sh)")
        .into()
}

fn domain_member() -> ServeOptions {
    ServeOptions {
        keytab: Some(keytab()),
        ..windows()
    }
}

fn create(id: &str) -> String {
    request(
        &format!("{TRANSFER}/Create"),
        id,
        None,
        "PT5S",
        "<rsp:Shell/>",
    )
}

#[tokio::test]
async fn kerberos_is_offered_accepted_sealed_and_unencrypted_bodies_are_refused() {
    let s = start(domain_member()).await;
    let r = s
        .client
        .post(&s.listening.url)
        .body(create("uuid:anon"))
        .send()
        .await
        .unwrap();
    let offered: Vec<_> = r.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(offered, ["Negotiate", "Kerberos"]);
    let creds = KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", &s.password);
    let mut c = RelayConnection::open(&s.upstream(), &creds).await.unwrap();
    let (status, body) = c.send(create("uuid:sealed").as_bytes()).await.unwrap();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status.as_u16(), 200, "{text}");
    assert!(text.contains("ShellId"), "{text}");
    // AllowUnencrypted=false: a plain body on the Kerberos connection is refused.
    let (status, body) = c
        .send_unsealed(create("uuid:plain").as_bytes())
        .await
        .unwrap();
    assert_eq!((status.as_u16(), body.len()), (500, 0));
}

#[tokio::test]
async fn without_a_keytab_the_service_refuses_kerberos() {
    let s = start(windows()).await;
    let creds = KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", &s.password);
    match RelayConnection::open(&s.upstream(), &creds).await {
        Err(Refusal::Kerberos(m)) => assert!(m.contains("HTTP/cm01.contoso.com"), "{m}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a service without the SPN's key accepted a ticket"),
    }
}

/// What Windows clients and pyspnego send under `Negotiate`: the Kerberos AP-REQ inside a SPNEGO
/// NegTokenInit. The service answers with a NegTokenResp (accept-completed, the AP-REP), and the
/// context seals the connection's bodies under `HTTP-SPNEGO-session-encrypted`.
#[tokio::test]
async fn spnego_wrapped_kerberos_logs_on_and_seals() {
    use base64::Engine as _;
    use cmdeploy_lab::serve::spnego;
    use cmdeploy_providers::transport::kerberos::client::ClientContext;
    use cmdeploy_providers::transport::ntlm::wsmv;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, WWW_AUTHENTICATE};

    let b64 = base64::engine::general_purpose::STANDARD;
    let s = start(domain_member()).await;
    let creds = KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", &s.password);
    let (mut ctx, token) = tokio::task::spawn_blocking(move || {
        ClientContext::initiate(&creds, "cm01.contoso.com", None)
    })
    .await
    .unwrap()
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(s.listening.addr)
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let post = |headers: Vec<(hyper::header::HeaderName, String)>, body: Vec<u8>| {
        let mut b = hyper::Request::post("/wsman")
            .header(HOST, "cm01.contoso.com")
            .header(CONTENT_LENGTH, body.len());
        for (k, v) in headers {
            b = b.header(k, v);
        }
        b.body(Full::new(Bytes::from(body))).unwrap()
    };
    let init = spnego::init(token).unwrap();
    let resp = sender
        .send_request(post(
            vec![(AUTHORIZATION, format!("Negotiate {}", b64.encode(init)))],
            Vec::new(),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let answer = resp.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .strip_prefix("Negotiate ")
        .expect("the answer comes under Negotiate")
        .to_string();
    let _ = resp.into_body().collect().await;
    let ap_rep = spnego::response_token(&b64.decode(answer).unwrap()).expect("a NegTokenResp");
    ctx.finish(&ap_rep)
        .expect("the AP-REP inside proves the service");
    let sealed = ctx.wrap(create("uuid:spnego").as_bytes()).unwrap();
    let resp = sender
        .send_request(post(
            vec![(CONTENT_TYPE, wsmv::CONTENT_TYPE.to_string())],
            sealed,
        ))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let plain = ctx.unwrap(&bytes).unwrap();
    assert!(String::from_utf8_lossy(&plain).contains("ShellId"));
}

/// Malformed Kerberos and SPNEGO tokens are refused with 401, and the service keeps serving.
#[tokio::test]
async fn malformed_kerberos_tokens_are_refused_and_the_service_keeps_serving() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let s = start(domain_member()).await;
    let krb5_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    let mut krb = vec![0x60, 0x30];
    krb.extend_from_slice(&krb5_oid);
    krb.extend_from_slice(&[0x01, 0x00, 0x6e, 0x82, 0xff, 0xff, 0x30, 0x03]);
    let mut spnego = vec![
        0x60, 0x20, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x05,
    ];
    spnego.extend_from_slice(&[0x30, 0x03, 0xa0, 0x01, 0xff]);
    for (scheme, token) in [
        ("Kerberos", krb.clone()),
        ("Negotiate", krb),
        ("Negotiate", spnego),
        ("Kerberos", b"garbage".to_vec()),
    ] {
        let r = s
            .client
            .post(&s.listening.url)
            .header("Authorization", format!("{scheme} {}", b64.encode(&token)))
            .body(create("uuid:bad"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{scheme} {token:?}");
    }
    let creds = KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", &s.password);
    let mut c = RelayConnection::open(&s.upstream(), &creds).await.unwrap();
    let (status, _) = c.send(create("uuid:after").as_bytes()).await.unwrap();
    assert_eq!(status.as_u16(), 200);
}
