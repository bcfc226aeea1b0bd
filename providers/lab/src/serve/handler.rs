//! One HTTP request to `/wsman`, as a WinRM service configured as Windows ships it answers it:
//! fault injection, the envelope size limit, authentication ([`super::negotiate`] for Negotiate,
//! [`auth`] for Basic when enabled), message encryption, then the WinRS operation.
//!
//! Refusals, each as Windows answers (windows-runtime.md §1):
//! * Basic while `Basic=false`, or over HTTP while `AllowUnencrypted=false`: **401 with an empty
//!   body** (masterzen/winrm#75);
//! * a request without credentials on a connection with no security context: 401 offering
//!   `Negotiate` (and `Basic` when enabled);
//! * an unencrypted SOAP body on a Negotiate-authenticated HTTP connection while
//!   `AllowUnencrypted=false`: **500** (diyan/pywinrm#129);
//! * a body over MaxEnvelopeSizekb: **413** before any SOAP processing ([MS-WSMV] 3.1.4.1.20).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::auth;
use super::certmap;
use super::codepage::{CodePage, ConsoleIo};
use super::faults::{Fault, FaultKind, Injected};
use super::kerberos::KerberosAuth;
use super::negotiate::{ConnectionAuth, Step};
use super::program::{script_output, statement_output, Program};
use super::shells::{Command, Missing, Opening, Outcome};
use super::soap::{is_known_signal, parse_request, Operation, Request as WsRequest};
use super::{response, Server};
use cmdeploy_providers::transport::ntlm::wsmv;

/// Room for the MS-WSMV encryption framing around a sealed envelope, in bytes.
const FRAMING: usize = 1024;
/// How long a client may take to send a request body.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The error that makes hyper close a connection without answering (`--drop-rate`).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (--drop-rate)")
    }
}

impl std::error::Error for Dropped {}

use super::reply::{empty, fault_reply, plain, soap, unauthorized, Reply};

/// One client connection: its Negotiate and Kerberos state and whether it is TLS.
pub struct Conn {
    /// The Negotiate (NTLM) context of this connection.
    pub auth: ConnectionAuth,
    /// The Kerberos context of this connection.
    pub kerberos: KerberosAuth,
    /// The TLS channel-binding hash (HTTPS).
    pub binding: Option<[u8; 16]>,
    /// The UPN of the verified TLS client certificate, if one was presented.
    pub certificate: Option<String>,
    /// The connection is HTTPS.
    pub tls: bool,
}

fn missing(m: Missing) -> Fault {
    match m {
        Missing::Full => Fault::new(FaultKind::InternalError, m.to_string()),
        Missing::Quota(max) => Fault::shell_quota(max),
        _ => Fault::new(FaultKind::InvalidSelectors, m.to_string()),
    }
}

/// How the request authenticated.
enum Login {
    /// Negotiate on this connection (its context seals).
    Negotiate(String),
    /// Kerberos on this connection (its context seals).
    Kerberos(String),
    /// Basic or a client certificate (never encrypted: inside TLS, or Basic with
    /// AllowUnencrypted).
    Basic(String),
}

/// Answers one request. Returns `Err(Dropped)` to close the connection without a response.
pub async fn handle(
    server: Arc<Server>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Reply, Dropped> {
    let injected = server.faults.draw();
    if injected == Injected::Drop {
        return Err(Dropped);
    }
    let path = req.uri().path();
    if path != "/wsman" && path != "/wsman/" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "not found: the endpoint is /wsman\n",
        ));
    }
    if req.method() != Method::POST {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return Ok(r);
    }
    let max = server.config.max_envelope_bytes();
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let declared: Option<usize> =
        header(hyper::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    if declared.is_some_and(|n| n > max + FRAMING) {
        return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let authorization = header(hyper::header::AUTHORIZATION);
    let content_type = header(hyper::header::CONTENT_TYPE).unwrap_or_default();
    let collected = tokio::time::timeout(
        BODY_TIMEOUT,
        Limited::new(req.into_body(), max + FRAMING).collect(),
    )
    .await;
    let body = match collected {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Ok(Err(_)) => return Ok(empty(StatusCode::BAD_REQUEST)),
        Err(_) => return Ok(empty(StatusCode::REQUEST_TIMEOUT)),
    };
    let login = match authorization.as_deref().map(str::trim) {
        Some(a) => {
            let (scheme, token) = a.split_once(' ').unwrap_or((a, ""));
            let is_negotiate = scheme.eq_ignore_ascii_case("negotiate");
            let decoded = base64::engine::general_purpose::STANDARD.decode(token.trim());
            let kerberos_token = match &decoded {
                Ok(bytes) => super::kerberos::offered(scheme, bytes),
                Err(_) => None,
            };
            if let Some((token, spnego_mech)) = kerberos_token {
                let scheme = if is_negotiate {
                    "Negotiate"
                } else {
                    "Kerberos"
                };
                let accepted = super::kerberos::logon(&server, conn.binding, token)
                    .await
                    .map(|(user, answer, context)| {
                        conn.kerberos.establish(user.clone(), context);
                        (user, answer)
                    });
                match accepted {
                    Ok((_, answer)) if body.is_empty() => {
                        let mut r = empty(StatusCode::OK);
                        let value = super::kerberos::answer(scheme, spnego_mech, answer);
                        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
                            r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, v);
                        }
                        return Ok(r);
                    }
                    Ok((user, _)) => Login::Kerberos(user),
                    Err(()) => return Ok(unauthorized(&server, None)),
                }
            } else if is_negotiate {
                let Ok(bytes) = decoded else {
                    conn.auth.reset();
                    return Ok(unauthorized(&server, None));
                };
                match negotiate(&server, &conn, bytes).await {
                    Step::Challenge(t) => return Ok(unauthorized(&server, Some(&t))),
                    Step::Refused => return Ok(unauthorized(&server, None)),
                    // An AUTHENTICATE with an empty body only completes the context (pywinrm
                    // and cmdeploy's relay log on so, then seal every request).
                    Step::Authenticated(_) if body.is_empty() => return Ok(empty(StatusCode::OK)),
                    Step::Authenticated(user) => Login::Negotiate(user),
                }
            } else if a.eq_ignore_ascii_case(certmap::MUTUAL) {
                let upn = conn.certificate.clone().filter(|_| conn.tls);
                match certmap::logon(&server, upn).await {
                    Some(user) => Login::Basic(user),
                    None => return Ok(unauthorized(&server, None)),
                }
            } else if scheme.eq_ignore_ascii_case("basic") {
                // Basic=false refuses Basic; AllowUnencrypted=false refuses it over HTTP.
                if !server.config.basic || !(conn.tls || server.config.allow_unencrypted) {
                    return Ok(unauthorized(&server, None));
                }
                match basic(&server, a.to_string()).await {
                    Ok(user) => Login::Basic(user),
                    Err(reply) => return Ok(reply),
                }
            } else {
                return Ok(unauthorized(&server, None));
            }
        }
        None => match (conn.kerberos.user(), conn.auth.user()) {
            (Some(user), _) => Login::Kerberos(user),
            (None, Some(user)) => Login::Negotiate(user),
            (None, None) => return Ok(unauthorized(&server, None)),
        },
    };
    let protocol = wsmv::encrypted_protocol(&content_type);
    let encrypted = protocol.is_some();
    let kerberos_sealed = matches!(login, Login::Kerberos(_));
    let (user, plaintext) = match login {
        Login::Negotiate(user) if protocol == Some(wsmv::SPNEGO) => match conn.auth.unwrap(&body) {
            Ok(p) => (user, p),
            Err(_) => return Ok(empty(StatusCode::BAD_REQUEST)),
        },
        // Under `Kerberos` the protocol is HTTP-Kerberos-session-encrypted; under `Negotiate`
        // it is HTTP-SPNEGO-session-encrypted whichever mechanism logged on ([MS-WSMV]
        // 2.2.9.1.1; pywinrm seals Kerberos so).
        Login::Kerberos(user) if encrypted => match conn.kerberos.unwrap(&body) {
            Ok(p) => (user, p),
            Err(_) => return Ok(empty(StatusCode::BAD_REQUEST)),
        },
        Login::Negotiate(_) | Login::Kerberos(_) if encrypted => {
            return Ok(empty(StatusCode::BAD_REQUEST))
        }
        Login::Negotiate(user) | Login::Kerberos(user) => {
            // AllowUnencrypted=false: a plain SOAP body over HTTP is refused (pywinrm#129).
            if !conn.tls && !server.config.allow_unencrypted {
                return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
            }
            (user, body.to_vec())
        }
        Login::Basic(_) if encrypted => return Ok(empty(StatusCode::BAD_REQUEST)),
        Login::Basic(user) => (user, body.to_vec()),
    };
    if plaintext.len() > max {
        return Ok(empty(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let reply = process(&server, &user, &plaintext, injected).await;
    if encrypted {
        let status = reply.status();
        let inner = reply.into_body();
        let bytes = inner
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let sealed = if kerberos_sealed {
            conn.kerberos.wrap(&bytes)
        } else {
            conn.auth.wrap(&bytes)
        };
        let content_type = if protocol == Some(wsmv::KERBEROS) {
            wsmv::KERBEROS_CONTENT_TYPE
        } else {
            wsmv::CONTENT_TYPE
        };
        let Some(sealed) = sealed else {
            return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
        };
        let mut r = Response::new(Full::new(Bytes::from(sealed)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        return Ok(r);
    }
    Ok(reply)
}

/// Runs the NTLM step of a `Negotiate` token (the user lookup reads the estate).
async fn negotiate(server: &Arc<Server>, conn: &Arc<Conn>, token: Vec<u8>) -> Step {
    if token.get(8) == Some(&1) {
        return conn.auth.negotiate(&token, &server.names);
    }
    let lab = server.lab.clone();
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        conn.auth.authenticate(&token, |domain, user| {
            let login = if domain.is_empty() {
                user.to_string()
            } else {
                format!("{domain}\\{user}")
            };
            lab.read(|estate| {
                let u = auth::find_user(estate, &login)?;
                let mut hash = [0u8; 16];
                hex::decode_to_slice(&u.nt_hash, &mut hash).ok()?;
                Some((u.name.clone(), hash))
            })
            .ok()
            .flatten()
        })
    })
    .await
    .unwrap_or(Step::Refused)
}

/// Checks Basic credentials against the estate.
async fn basic(server: &Arc<Server>, header: String) -> Result<String, Reply> {
    let lab = server.lab.clone();
    let checked = tokio::task::spawn_blocking(move || {
        lab.read(|estate| auth::authenticate(estate, Some(&header)))
            .map_err(|e| e.to_string())
    })
    .await;
    match checked {
        Ok(Ok(Ok(user))) => Ok(user),
        Ok(Ok(Err(_refusal))) => Err(unauthorized(server, None)),
        Ok(Err(message)) => {
            let f = Fault::new(FaultKind::InternalError, message);
            Err(fault_reply(None, &f, &server.default_host))
        }
        Err(_) => {
            let f = Fault::new(
                FaultKind::InternalError,
                "the lab failed to read its estate",
            );
            Err(fault_reply(None, &f, &server.default_host))
        }
    }
}

/// Parses and runs the SOAP request of an authenticated user.
async fn process(server: &Arc<Server>, user: &str, body: &[u8], injected: Injected) -> Reply {
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(_) => {
            let f = Fault::new(FaultKind::SchemaValidation, "the request is not UTF-8");
            return fault_reply(None, &f, &server.default_host);
        }
    };
    let request = match parse_request(text) {
        Ok(r) => r,
        Err((id, f)) => return fault_reply(id.as_deref(), &f, &server.default_host),
    };
    let relates = request.message_id.clone();
    if injected == Injected::Fail {
        let f = Fault::new(
            FaultKind::InternalError,
            "The WS-Management service cannot process the request (failure injected by --fail-rate).",
        );
        return fault_reply(relates.as_deref(), &f, &server.default_host);
    }
    let machine = request
        .shell_id
        .as_deref()
        .and_then(|id| server.shells.host(id).ok())
        .unwrap_or_else(|| server.default_host.clone());
    let Some(_operation) = server.begin_operation(user) else {
        let f = Fault::operations_quota(server.config.max_concurrent_operations_per_user);
        return fault_reply(relates.as_deref(), &f, &machine);
    };
    match operate(server, request, user).await {
        Ok(body) => soap(StatusCode::OK, body),
        Err(f) => fault_reply(relates.as_deref(), &f, &machine),
    }
}

/// Runs one WinRS operation and renders its response.
async fn operate(server: &Arc<Server>, req: WsRequest, user: &str) -> Result<String, Fault> {
    let relates = req.message_id.as_deref();
    let shell_id = || {
        req.shell_id.clone().ok_or_else(|| {
            Fault::new(
                FaultKind::InvalidSelectors,
                "The request has no ShellId selector.",
            )
        })
    };
    if let Some(id) = &req.shell_id {
        // Any request naming a shell is activity: IdleTimeout counts from the last one.
        server
            .shells
            .touch_at(id, Instant::now())
            .map_err(missing)?;
    }
    match &req.operation {
        Operation::Create(create) => {
            let named = create
                .environment
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("CMDEPLOY_HOST"))
                .map(|(_, v)| v.trim().to_string())
                .filter(|h| !h.is_empty());
            let codepage = CodePage::for_shell(
                req.header_option("WINRS_CODEPAGE"),
                server.config.oem_codepage,
            );
            let id = server
                .shells
                .open(&Opening {
                    host: named.as_deref().unwrap_or(&server.default_host),
                    named: named.is_some(),
                    owner: user,
                    codepage,
                })
                .map_err(missing)?;
            Ok(response::created(
                relates,
                &server.address,
                &id,
                user,
                server.config.idle_timeout,
            ))
        }
        Operation::Command(line) => {
            let shell = shell_id()?;
            let host = server.shells.host(&shell).map_err(missing)?;
            let codepage = server.shells.codepage(&shell).map_err(missing)?;
            let program = super::program::classify(&line.command, &line.arguments);
            let (id, command) = server
                .shells
                .start(&shell, line.command_id.clone(), program.clone())
                .map_err(missing)?;
            match program {
                Program::Immediate(outcome) => command.finish(outcome.recoded(codepage)),
                Program::Statement(statement) => {
                    spawn_statement(server, host, statement, command, codepage);
                }
                Program::Bootstrap(_) => {}
            }
            server.faults.delay().await;
            Ok(response::command(relates, &id))
        }
        Operation::Send(chunks) => {
            let shell = shell_id()?;
            let host = server.shells.host(&shell).map_err(missing)?;
            let codepage = server.shells.codepage(&shell).map_err(missing)?;
            for chunk in chunks {
                let (_, command) = server
                    .shells
                    .command(&shell, chunk.command_id.as_deref())
                    .map_err(missing)?;
                if let Some(stdin) = command.push_stdin(&chunk.data, chunk.end) {
                    if let Program::Bootstrap(io) = command.program {
                        let named = server.shells.named(&shell).map_err(missing)?;
                        let console = (codepage, io);
                        spawn_document(
                            server,
                            named.then(|| host.clone()),
                            stdin,
                            command,
                            console,
                        );
                    }
                }
            }
            Ok(response::sent(relates))
        }
        Operation::Receive(command_id) => {
            let shell = shell_id()?;
            let (id, command) = server
                .shells
                .command(&shell, command_id.as_deref())
                .map_err(missing)?;
            match command.wait(req.operation_timeout).await {
                Some(outcome) => {
                    server.faults.delay().await;
                    Ok(response::received(relates, &id, Some(&outcome)))
                }
                None => Err(Fault::new(
                    FaultKind::TimedOut,
                    "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
                )),
            }
        }
        Operation::Signal { command_id, code } => {
            let shell = shell_id()?;
            if !is_known_signal(code) {
                return Err(Fault::new(
                    FaultKind::SchemaValidation,
                    format!("unknown signal code `{code}`"),
                ));
            }
            server
                .shells
                .end_command(&shell, command_id.as_deref())
                .map_err(missing)?;
            Ok(response::signalled(relates))
        }
        Operation::Delete => {
            let shell = shell_id()?;
            server.shells.delete(&shell).map_err(missing)?;
            Ok(response::deleted(relates))
        }
    }
}

/// Runs a console statement on a blocking thread and records its outcome.
/// Its output is in the shell's code page.
fn spawn_statement(
    server: &Arc<Server>,
    host: String,
    statement: String,
    command: Arc<Command>,
    codepage: CodePage,
) {
    let lab = server.lab.clone();
    let cost = server.cost;
    tokio::spawn(async move {
        let ran = tokio::task::spawn_blocking(move || lab.console(&host, statement.trim())).await;
        // A console statement is a Script of one cmdlet.
        cost.pay(1).await;
        let outcome = match ran {
            Ok(Ok(value)) => statement_output(value),
            Ok(Err(message)) => Outcome::failed_clixml(&message),
            Err(_) => Outcome::failed_clixml("the lab failed while running the statement"),
        };
        command.finish(outcome.recoded(codepage));
    });
}

/// Runs a stdin document (runner and payload) on a blocking thread and records its outcome.
/// Runs a bootstrap's stdin document on the shell's host (`None`: the host its payload names,
/// else the server's default host).
fn spawn_document(
    server: &Arc<Server>,
    host: Option<String>,
    stdin: Vec<u8>,
    command: Arc<Command>,
    (codepage, io): (CodePage, ConsoleIo),
) {
    let lab = server.lab.clone();
    let fallback = server.default_host.clone();
    let cost = server.cost;
    tokio::spawn(async move {
        let ran = tokio::task::spawn_blocking(move || {
            // What the child reads: stdin decoded as its console input encoding says.
            let text = io.stdin_text(codepage, &stdin);
            lab.run_document_for(host.as_deref(), &fallback, &text)
        })
        .await;
        // What a real site pays for this Script: its startup, and each call it ran.
        let calls = match &ran {
            Ok(Ok(output)) => output.results.len(),
            _ => 0,
        };
        cost.pay(calls).await;
        let outcome = match ran {
            Ok(Ok(output)) => script_output(&output),
            Ok(Err(e)) => Outcome::failed_clixml(&e.message),
            Err(_) => Outcome::failed_clixml("the lab failed while running the script"),
        };
        command.finish(Outcome {
            stdout: io.stdout_bytes(codepage, &outcome.stdout),
            stderr: codepage.recode(outcome.stderr),
            exit_code: outcome.exit_code,
        });
    });
}
