//! Shared helpers of the `lab serve` tests: a server started in-process on 127.0.0.1:0 against
//! a temporary copy of the Contoso example, and clients that speak raw WS-Management to it over
//! NTLM with message encryption (the product's `RelayConnection`) or with Basic.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use tempfile::TempDir;
use tokio::sync::oneshot;

use cmdeploy_lab::serve::program::encode_script;
use cmdeploy_lab::serve::{serve, Listening, ServeOptions, ServiceConfig};
use cmdeploy_lab::Lab;
use cmdeploy_providers::transport::relay::{NtlmCredentials, RelayConnection, Upstream};

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/contoso");
pub const SHELL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
pub const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";

pub fn copy_dir(from: &Path, to: &Path) {
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
pub struct Served {
    pub _tmp: TempDir,
    pub _stop: oneshot::Sender<()>,
    pub listening: Listening,
    pub client: reqwest::Client,
    pub password: String,
    pub ntlm: tokio::sync::Mutex<Option<RelayConnection>>,
}

pub async fn start(opts: ServeOptions) -> Served {
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
pub fn windows() -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeOptions::default()
    }
}

/// Basic switched on, over HTTP too (`--allow-basic --allow-unencrypted`).
pub fn basic_on() -> ServeOptions {
    ServeOptions {
        service: ServiceConfig {
            basic: true,
            allow_unencrypted: true,
            ..ServiceConfig::default()
        },
        ..windows()
    }
}

pub fn tls_trusting(ca_pem: &[u8]) -> rustls::ClientConfig {
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

pub fn request(
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
pub fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = [" ", ">"]
        .iter()
        .filter_map(|end| xml.find(&format!("<{tag}{end}")))
        .min()?;
    let open_end = start + xml[start..].find('>')? + 1;
    let close = open_end + xml[open_end..].find(&format!("</{tag}>"))?;
    Some(&xml[open_end..close])
}

impl Served {
    pub fn upstream(&self) -> Upstream {
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

    pub fn credentials(&self, user: &str, domain: &str, password: &str) -> NtlmCredentials {
        NtlmCredentials {
            user: user.into(),
            domain: domain.into(),
            password: zeroize::Zeroizing::new(password.into()),
        }
    }

    /// A new NTLM connection as CONTOSO\cmadmin.
    pub async fn logon(&self) -> RelayConnection {
        RelayConnection::open(
            &self.upstream(),
            &self.credentials("cmadmin", "CONTOSO", &self.password),
        )
        .await
        .unwrap_or_else(|e| panic!("NTLM logon: {e:?}"))
    }

    /// One request on the test's NTLM connection (sealed over HTTP).
    pub async fn sealed(&self, body: String) -> (u16, String) {
        let mut guard = self.ntlm.lock().await;
        if guard.is_none() {
            *guard = Some(self.logon().await);
        }
        let (status, bytes) = guard.as_mut().unwrap().send(body.as_bytes()).await.unwrap();
        (status.as_u16(), String::from_utf8(bytes.to_vec()).unwrap())
    }

    pub async fn post(&self, url: &str, user: &str, password: &str, body: String) -> (u16, String) {
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

    pub async fn call(
        &self,
        action: &str,
        id: &str,
        shell: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let (status, text) = self.sealed(request(action, id, shell, "PT5S", body)).await;
        assert_eq!(
            element(&text, "a:RelatesTo"),
            Some(id),
            "RelatesTo echo in {text}"
        );
        (status, text)
    }

    pub async fn create(&self, host: &str) -> String {
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
    pub async fn receive(&self, shell: &str, command: &str) -> (String, String, i32) {
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

    pub async fn command(&self, shell: &str, script: &str, id: Option<&str>) -> String {
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
