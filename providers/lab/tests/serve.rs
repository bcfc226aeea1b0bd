//! `lab serve` end to end over real HTTP: each test starts the server in-process on
//! 127.0.0.1:0 against a temporary copy of the Contoso example and speaks raw WS-Management,
//! over NTLM with message encryption (the product's [`RelayConnection`]) as a Windows client
//! does, or with Basic where a test switches Basic on.

mod serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tempfile::TempDir;

use cmdeploy_lab::cost::CostModel;
use cmdeploy_lab::serve::{serve, ServeOptions};
use cmdeploy_lab::Lab;
use cmdeploy_providers::powershell::runner::{stdin_document, BOOTSTRAP};
use cmdeploy_providers::powershell::{Call, Script, ScriptOutput, Target};
use cmdeploy_providers::transport::relay::{Refusal, RelayConnection};
use serve_support::*;

#[tokio::test]
async fn create_command_receive_delete_lists_the_boundary_groups() {
    let s = start(windows()).await;
    assert!(
        s.listening.url.starts_with("http://127.0.0.1:") && s.listening.url.ends_with("/wsman")
    );
    let shell = s.create("cm01.contoso.com").await;
    let command = s
        .command(
            &shell,
            "Get-CMBoundaryGroup | ConvertTo-Json",
            Some("CMD-42"),
        )
        .await;
    assert_eq!(command, "CMD-42", "a client-supplied CommandId is honoured");
    let (out, err, code) = s.receive(&shell, &command).await;
    assert_eq!((err.as_str(), code), ("", 0));
    let groups: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The site's own Default-Site-Boundary-Group<ABC> is listed beside the estate's groups.
    let names: Vec<&str> = groups
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["Name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"HQ Clients"), "{out}");
    assert!(names.contains(&"Default-Site-Boundary-Group<ABC>"), "{out}");
    assert!(out.ends_with("]\r\n"));
    let signal = format!(
        r#"<rsp:Signal CommandId="{command}"><rsp:Code>{SHELL}/signal/terminate</rsp:Code></rsp:Signal>"#
    );
    assert_eq!(
        s.call(
            &format!("{SHELL}/Signal"),
            "uuid:signal-1",
            Some(&shell),
            &signal
        )
        .await
        .0,
        200
    );
    let (status, text) = s
        .call(
            &format!("{TRANSFER}/Delete"),
            "uuid:delete-1",
            Some(&shell),
            "",
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        text.contains(&format!("{TRANSFER}/DeleteResponse")) && text.contains("<s:Body></s:Body>")
    );
}

#[tokio::test]
async fn the_bootstrap_runs_the_stdin_document_and_cmdlet_errors_are_clixml() {
    let s = start(windows()).await;
    let shell = s.create("cm01.contoso.com").await;
    let command = s.command(&shell, BOOTSTRAP, None).await;
    let mut script = Script::new(Target::Host);
    script.push(Call::new("Get-CMBoundaryGroup"));
    let stdin = base64::engine::general_purpose::STANDARD.encode(stdin_document(&script));
    let send = format!(
        r#"<rsp:Send><rsp:Stream Name="stdin" CommandId="{command}" End="true">{stdin}</rsp:Stream></rsp:Send>"#
    );
    assert_eq!(
        s.call(&format!("{SHELL}/Send"), "uuid:send-1", Some(&shell), &send)
            .await
            .0,
        200
    );
    let (out, _, code) = s.receive(&shell, &command).await;
    assert_eq!(code, 0);
    let output: ScriptOutput = serde_json::from_str(out.trim_end()).unwrap();
    assert!(
        out.ends_with("\r\n") && out.contains("HQ Clients"),
        "{output:?}"
    );

    let command = s
        .command(&shell, "Get-CMBoundaryGroup -Bogus 1", None)
        .await;
    let (out, err, code) = s.receive(&shell, &command).await;
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(
        err.starts_with("#< CLIXML\r\n") && err.contains("Bogus"),
        "{err}"
    );
}

#[tokio::test]
async fn a_script_pays_its_startup_and_each_cmdlet_it_ran() {
    let s = start(ServeOptions {
        cost: CostModel::from_millis(300, 100),
        ..windows()
    })
    .await;
    let shell = s.create("cm01.contoso.com").await;
    let command = s.command(&shell, BOOTSTRAP, None).await;
    let mut script = Script::new(Target::Host);
    script.push(Call::new("Get-CMBoundaryGroup"));
    script.push(Call::new("Get-CMBoundary"));
    let stdin = base64::engine::general_purpose::STANDARD.encode(stdin_document(&script));
    let send = format!(
        r#"<rsp:Send><rsp:Stream Name="stdin" CommandId="{command}" End="true">{stdin}</rsp:Stream></rsp:Send>"#
    );
    let start = Instant::now();
    s.call(&format!("{SHELL}/Send"), "uuid:send-c", Some(&shell), &send)
        .await;
    let (out, _, code) = s.receive(&shell, &command).await;
    let took = start.elapsed();
    assert_eq!(code, 0, "{out}");
    let output: ScriptOutput = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(output.results.len(), 2, "{out}");
    // A lower bound only: 300 ms of startup and 100 ms for each of the 2 cmdlets.
    assert!(took >= Duration::from_millis(500), "{took:?}");
}

#[tokio::test]
async fn bad_credentials_get_401_and_unknown_shells_invalid_selectors() {
    let s = start(windows()).await;
    let wrong =
        RelayConnection::open(&s.upstream(), &s.credentials("cmadmin", "CONTOSO", "wrong")).await;
    assert_eq!(wrong.err(), Some(Refusal::Credentials));
    let stranger =
        RelayConnection::open(&s.upstream(), &s.credentials("nobody", "CONTOSO", "x")).await;
    assert_eq!(stranger.err(), Some(Refusal::Credentials));
    let body = request(
        &format!("{TRANSFER}/Create"),
        "uuid:1",
        None,
        "PT5S",
        "<rsp:Shell/>",
    );
    let r = s
        .client
        .post(&s.listening.url)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Negotiate");

    let receive = r#"<rsp:Receive><rsp:DesiredStream CommandId="X">stdout stderr</rsp:DesiredStream></rsp:Receive>"#;
    let (status, text) = s
        .call(
            &format!("{SHELL}/Receive"),
            "uuid:AAAA-Upper",
            Some("NO-SUCH-SHELL"),
            receive,
        )
        .await;
    assert_eq!(status, 500);
    assert!(
        text.contains("<s:Value>w:InvalidSelectors</s:Value>") && text.contains("WSManFault"),
        "{text}"
    );
}

#[tokio::test]
async fn a_receive_that_waits_past_the_operation_timeout_times_out() {
    let s = start(windows()).await;
    let shell = s.create("cm01.contoso.com").await;
    let command = s.command(&shell, BOOTSTRAP, None).await; // waits for stdin forever
    let body = format!(
        r#"<rsp:Receive><rsp:DesiredStream CommandId="{command}">stdout stderr</rsp:DesiredStream></rsp:Receive>"#
    );
    let mut upn = RelayConnection::open(
        &s.upstream(),
        &s.credentials("cmadmin@contoso.com", "", &s.password),
    )
    .await
    .unwrap();
    let (status, text) = upn
        .send(
            request(
                &format!("{SHELL}/Receive"),
                "uuid:t",
                Some(&shell),
                "PT0.3S",
                &body,
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (status, text) = (status.as_u16(), String::from_utf8(text.to_vec()).unwrap());
    assert_eq!(status, 500);
    assert!(
        text.contains("w:TimedOut") && text.contains(r#"Code="2150858793""#),
        "{text}"
    );
}

#[tokio::test]
async fn https_verifies_the_site_server_name_against_the_ca() {
    let s = start(ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        https: true,
        ..ServeOptions::default()
    })
    .await;
    let ca = s.listening.ca_file.clone().unwrap();
    assert!(ca.ends_with(".cmdeploy/lab/serve-ca.pem"));
    assert!(s.listening.url.starts_with("https://127.0.0.1:"));
    let url = format!("https://cm01.contoso.com:{}/wsman", s.listening.addr.port());
    let body = request(
        &format!("{TRANSFER}/Create"),
        "uuid:tls",
        None,
        "PT5S",
        "<rsp:Shell/>",
    );
    // Over HTTPS Negotiate needs no sealing: TLS encrypts, and the NTLM proof carries the
    // channel binding of the lab's certificate.
    let (status, text) = s.sealed(body.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<rsp:ShellId>"));
    let _ = url;
}

#[tokio::test]
async fn injected_failures_and_drops() {
    let mut opts = basic_on();
    opts.faults.fail_rate = 1.0;
    let s = start(opts.clone()).await;
    let (status, text) = s
        .call(
            &format!("{TRANSFER}/Create"),
            "uuid:fail",
            None,
            "<rsp:Shell/>",
        )
        .await;
    assert_eq!(status, 500);
    assert!(text.contains("w:InternalError"));
    opts.faults.fail_rate = 0.0;
    opts.faults.drop_rate = 1.0;
    let s = start(opts).await;
    let body = request(
        &format!("{TRANSFER}/Create"),
        "uuid:drop",
        None,
        "PT5S",
        "<rsp:Shell/>",
    );
    let sent = s
        .client
        .post(&s.listening.url)
        .basic_auth("cmadmin", Some(&s.password))
        .body(body)
        .send()
        .await;
    assert!(sent.is_err(), "the connection closes without a response");
}

#[tokio::test]
async fn listening_beyond_loopback_is_refused() {
    let tmp = TempDir::new().unwrap();
    copy_dir(Path::new(EXAMPLE), tmp.path());
    let lab = Lab::open(tmp.path(), &tmp.path().join(".cmdeploy"));
    let opts = ServeOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..ServeOptions::default()
    };
    let err = serve(lab, opts, async {}, |_| panic!("must not start"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
}
