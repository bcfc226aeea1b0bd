//! `lab serve` end to end over real HTTP: each test starts the server in-process on
//! 127.0.0.1:0 against a temporary copy of the Contoso example and speaks raw WS-Management,
//! over NTLM with message encryption (the product's [`NtlmConnection`]) as a Windows client
//! does, or with Basic where a test switches Basic on.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use tempfile::TempDir;
use tokio::sync::oneshot;

use cmdeploy_providers::lab::serve::program::encode_script;
use cmdeploy_providers::lab::serve::{serve, Listening, ServeOptions, ServiceConfig};
use cmdeploy_providers::lab::Lab;
use cmdeploy_providers::powershell::runner::{stdin_document, BOOTSTRAP};
use cmdeploy_providers::powershell::{Call, Script, ScriptOutput, Target};
use cmdeploy_providers::transport::ntlm_relay::{
    NtlmConnection, NtlmCredentials, Refusal, Upstream,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/contoso");
const SHELL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A running server and a client logged in as CONTOSO\cmadmin.
struct Served {
    _tmp: TempDir,
    _stop: oneshot::Sender<()>,
    listening: Listening,
    client: reqwest::Client,
    password: String,
    ntlm: tokio::sync::Mutex<Option<NtlmConnection>>,
}

async fn start(opts: ServeOptions) -> Served {
    let tmp = TempDir::new().unwrap();
    copy_dir(Path::new(EXAMPLE), tmp.path());
    let lab = Lab::open(tmp.path(), &tmp.path().join(".cmdeploy"));
    lab.reset().unwrap();
    let password = std::fs::read_to_string(tmp.path().join("lab-secrets/admin.txt"))
        .unwrap()
        .trim_end()
        .to_string();
    let https = opts.https;
    let (stop, stopped) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve(lab, opts, shutdown, move |l| {
            let _ = tx.send(l.clone());
        })
        .await
        .unwrap();
    });
    let listening = rx.await.unwrap();
    // reqwest is built without a default crypto provider; give it ring, as the server uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder().no_proxy();
    if https {
        let pem = std::fs::read(listening.ca_file.as_ref().unwrap()).unwrap();
        builder = builder
            .use_preconfigured_tls(tls_trusting(&pem))
            .resolve("cm01.contoso.com", listening.addr);
    }
    Served {
        _tmp: tmp,
        _stop: stop,
        listening,
        client: builder.build().unwrap(),
        password,
        ntlm: tokio::sync::Mutex::default(),
    }
}

/// Windows' defaults on a free loopback port.
fn windows() -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeOptions::default()
    }
}

/// Basic switched on, over HTTP too (`--allow-basic --allow-unencrypted`).
fn basic_on() -> ServeOptions {
    ServeOptions {
        service: ServiceConfig {
            basic: true,
            allow_unencrypted: true,
            ..ServiceConfig::default()
        },
        ..windows()
    }
}

fn tls_trusting(ca_pem: &[u8]) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem).unwrap())
        .unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn request(
    action: &str,
    message_id: &str,
    shell: Option<&str>,
    timeout: &str,
    body: &str,
) -> String {
    let selector = shell
        .map(|id| {
            format!(
                r#"<w:SelectorSet><w:Selector Name="ShellId">{id}</w:Selector></w:SelectorSet>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="{SHELL}"><s:Header><a:To>http://127.0.0.1/wsman</a:To><w:ResourceURI>{SHELL}/cmd</w:ResourceURI><a:Action>{action}</a:Action><a:MessageID>{message_id}</a:MessageID><w:OperationTimeout>{timeout}</w:OperationTimeout>{selector}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

/// Text between `<{tag}...>` and `</{tag}>` (first occurrence).
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = [" ", ">"]
        .iter()
        .filter_map(|end| xml.find(&format!("<{tag}{end}")))
        .min()?;
    let open_end = start + xml[start..].find('>')? + 1;
    let close = open_end + xml[open_end..].find(&format!("</{tag}>"))?;
    Some(&xml[open_end..close])
}

impl Served {
    fn upstream(&self) -> Upstream {
        let tls = self
            .listening
            .ca_file
            .as_ref()
            .map(|ca| cmdeploy_providers::transport::tls_relay::roots(Some(ca)).unwrap());
        Upstream {
            address: "127.0.0.1".into(),
            port: self.listening.addr.port(),
            host: "cm01.contoso.com".into(),
            tls,
            connect_timeout: std::time::Duration::from_secs(5),
        }
    }

    fn credentials(&self, user: &str, domain: &str, password: &str) -> NtlmCredentials {
        NtlmCredentials {
            user: user.into(),
            domain: domain.into(),
            password: zeroize::Zeroizing::new(password.into()),
        }
    }

    /// A new NTLM connection as CONTOSO\cmadmin.
    async fn logon(&self) -> NtlmConnection {
        NtlmConnection::open(
            &self.upstream(),
            &self.credentials("cmadmin", "CONTOSO", &self.password),
        )
        .await
        .unwrap_or_else(|e| panic!("NTLM logon: {e:?}"))
    }

    /// One request on the test's NTLM connection (sealed over HTTP).
    async fn sealed(&self, body: String) -> (u16, String) {
        let mut guard = self.ntlm.lock().await;
        if guard.is_none() {
            *guard = Some(self.logon().await);
        }
        let (status, bytes) = guard.as_mut().unwrap().send(body.as_bytes()).await.unwrap();
        (status.as_u16(), String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn post(&self, url: &str, user: &str, password: &str, body: String) -> (u16, String) {
        let r = self
            .client
            .post(url)
            .basic_auth(user, Some(password))
            .header("Content-Type", "application/soap+xml;charset=UTF-8")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn call(&self, action: &str, id: &str, shell: Option<&str>, body: &str) -> (u16, String) {
        let (status, text) = self.sealed(request(action, id, shell, "PT5S", body)).await;
        assert_eq!(
            element(&text, "a:RelatesTo"),
            Some(id),
            "RelatesTo echo in {text}"
        );
        (status, text)
    }

    async fn create(&self, host: &str) -> String {
        let body = format!(
            r#"<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:Environment><rsp:Variable Name="CMDEPLOY_HOST">{host}</rsp:Variable></rsp:Environment></rsp:Shell>"#
        );
        let (status, text) = self
            .call(
                &format!("{TRANSFER}/Create"),
                "uuid:0A0B0C0D-1111-4222-8333-444455556666",
                None,
                &body,
            )
            .await;
        assert_eq!(status, 200, "{text}");
        let created = element(&text, "x:ResourceCreated").expect("ResourceCreated");
        let id = element(created, "w:Selector").unwrap().to_string();
        assert_eq!(element(&text, "rsp:ShellId"), Some(id.as_str()));
        id
    }

    /// Receive until Done; returns (stdout, stderr, exit code).
    async fn receive(&self, shell: &str, command: &str) -> (String, String, i32) {
        let body = format!(
            r#"<rsp:Receive><rsp:DesiredStream CommandId="{command}">stdout stderr</rsp:DesiredStream></rsp:Receive>"#
        );
        let (status, text) = self
            .call(
                &format!("{SHELL}/Receive"),
                "uuid:receive-1",
                Some(shell),
                &body,
            )
            .await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("CommandState/Done"), "{text}");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        for piece in text.split("<rsp:Stream ").skip(1) {
            let (attrs, rest) = piece.split_once('>').unwrap();
            let data = base64::engine::general_purpose::STANDARD
                .decode(rest.split('<').next().unwrap())
                .unwrap();
            if attrs.contains(r#"Name="stdout""#) {
                out.extend(data)
            } else {
                err.extend(data)
            }
        }
        let code = element(&text, "rsp:ExitCode").unwrap().parse().unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
            code,
        )
    }

    async fn command(&self, shell: &str, script: &str, id: Option<&str>) -> String {
        let id_attr = id
            .map(|i| format!(r#" CommandId="{i}""#))
            .unwrap_or_default();
        let body = format!(
            r#"<rsp:CommandLine{id_attr}><rsp:Command>%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe</rsp:Command><rsp:Arguments>-NoProfile</rsp:Arguments><rsp:Arguments>-NonInteractive</rsp:Arguments><rsp:Arguments>-EncodedCommand</rsp:Arguments><rsp:Arguments>{}</rsp:Arguments></rsp:CommandLine>"#,
            encode_script(script)
        );
        let (status, text) = self
            .call(
                &format!("{SHELL}/Command"),
                "uuid:command-1",
                Some(shell),
                &body,
            )
            .await;
        assert_eq!(status, 200, "{text}");
        element(&text, "rsp:CommandId").unwrap().to_string()
    }
}

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
    assert_eq!(groups["Name"], "HQ Clients", "{out}");
    assert!(out.ends_with("}\r\n"));
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
async fn bad_credentials_get_401_and_unknown_shells_invalid_selectors() {
    let s = start(windows()).await;
    let wrong =
        NtlmConnection::open(&s.upstream(), &s.credentials("cmadmin", "CONTOSO", "wrong")).await;
    assert_eq!(wrong.err(), Some(Refusal::Credentials));
    let stranger =
        NtlmConnection::open(&s.upstream(), &s.credentials("nobody", "CONTOSO", "x")).await;
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

#[tokio::test]
async fn a_receive_that_waits_past_the_operation_timeout_times_out() {
    let s = start(windows()).await;
    let shell = s.create("cm01.contoso.com").await;
    let command = s.command(&shell, BOOTSTRAP, None).await; // waits for stdin forever
    let body = format!(
        r#"<rsp:Receive><rsp:DesiredStream CommandId="{command}">stdout stderr</rsp:DesiredStream></rsp:Receive>"#
    );
    let mut upn = NtlmConnection::open(
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
    let mut c = NtlmConnection::open(&via(once), &creds).await.unwrap();
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
    match NtlmConnection::open(&via(twice), &creds).await {
        Err(Refusal::Other(m)) => assert!(m.contains(&format!("127.0.0.1:{twice}")), "{m}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("logged on through two lost handshakes"),
    }
}
