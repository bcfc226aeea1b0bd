//! One HTTP request to `/wsman`: fault injection, authentication, parsing, and the WinRS
//! operation, answered with a response envelope or a fault.

use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

use super::auth::{self, CHALLENGE};
use super::faults::{Fault, FaultKind, Injected};
use super::program::{script_output, statement_output, Program};
use super::shells::{Command, Missing, Outcome};
use super::soap::{is_known_signal, parse_request, Operation, Request as WsRequest};
use super::{response, Server};

/// Largest request body accepted, in bytes.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// The error that makes hyper close a connection without answering (`--drop-rate`).
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose (--drop-rate)")
    }
}

impl std::error::Error for Dropped {}

type Reply = Response<Full<Bytes>>;

fn plain(status: StatusCode, text: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn soap(status: StatusCode, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/soap+xml;charset=UTF-8"),
    );
    r
}

fn unauthorized() -> Reply {
    let mut r = plain(StatusCode::UNAUTHORIZED, "");
    r.headers_mut().insert(
        hyper::header::WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static(CHALLENGE),
    );
    r
}

fn fault_reply(relates_to: Option<&str>, fault: &Fault, machine: &str) -> Reply {
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        response::fault(relates_to, fault, machine),
    )
}

fn missing(m: Missing) -> Fault {
    match m {
        Missing::Full => Fault::new(FaultKind::InternalError, m.to_string()),
        _ => Fault::new(FaultKind::InvalidSelectors, m.to_string()),
    }
}

/// Answers one request. Returns `Err(Dropped)` to close the connection without a response.
pub async fn handle(server: Arc<Server>, req: Request<Incoming>) -> Result<Reply, Dropped> {
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
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let lab = server.lab.clone();
    let checked = tokio::task::spawn_blocking(move || {
        // Read in place: a copy of the estate per request was most of the server's time.
        lab.read(|estate| auth::authenticate(estate, header.as_deref()))
            .map_err(|e| e.to_string())
    })
    .await;
    let user = match checked {
        Ok(Ok(Ok(user))) => user,
        Ok(Ok(Err(_refusal))) => return Ok(unauthorized()),
        Ok(Err(message)) => {
            let f = Fault::new(FaultKind::InternalError, message);
            return Ok(fault_reply(None, &f, &server.default_host));
        }
        Err(_) => {
            let f = Fault::new(
                FaultKind::InternalError,
                "the lab failed to read its estate",
            );
            return Ok(fault_reply(None, &f, &server.default_host));
        }
    };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let f = Fault::new(
                FaultKind::SchemaValidation,
                "the request body could not be read or exceeds 32 MiB",
            );
            return Ok(fault_reply(None, &f, &server.default_host));
        }
    };
    let text = match std::str::from_utf8(&body) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(_) => {
            let f = Fault::new(FaultKind::SchemaValidation, "the request is not UTF-8");
            return Ok(fault_reply(None, &f, &server.default_host));
        }
    };
    let request = match parse_request(text) {
        Ok(r) => r,
        Err((id, f)) => return Ok(fault_reply(id.as_deref(), &f, &server.default_host)),
    };
    let relates = request.message_id.clone();
    if injected == Injected::Fail {
        let f = Fault::new(
            FaultKind::InternalError,
            "The WS-Management service cannot process the request (failure injected by --fail-rate).",
        );
        return Ok(fault_reply(relates.as_deref(), &f, &server.default_host));
    }
    let machine = request
        .shell_id
        .as_deref()
        .and_then(|id| server.shells.host(id).ok())
        .unwrap_or_else(|| server.default_host.clone());
    Ok(match operate(&server, request, &user).await {
        Ok(body) => soap(StatusCode::OK, body),
        Err(f) => fault_reply(relates.as_deref(), &f, &machine),
    })
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
    match &req.operation {
        Operation::Create(create) => {
            let named = create
                .environment
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("CMDEPLOY_HOST"))
                .map(|(_, v)| v.trim().to_string())
                .filter(|h| !h.is_empty());
            let id = match named {
                Some(host) => server.shells.create(&host),
                None => server.shells.create_unnamed(&server.default_host),
            }
            .map_err(missing)?;
            Ok(response::created(relates, &server.address, &id, user))
        }
        Operation::Command(line) => {
            let shell = shell_id()?;
            let host = server.shells.host(&shell).map_err(missing)?;
            let program = super::program::classify(&line.command, &line.arguments);
            let (id, command) = server
                .shells
                .start(&shell, line.command_id.clone(), program.clone())
                .map_err(missing)?;
            match program {
                Program::Immediate(outcome) => command.finish(outcome),
                Program::Statement(statement) => {
                    spawn_statement(server, host, statement, command);
                }
                Program::Bootstrap => {}
            }
            server.faults.delay().await;
            Ok(response::command(relates, &id))
        }
        Operation::Send(chunks) => {
            let shell = shell_id()?;
            let host = server.shells.host(&shell).map_err(missing)?;
            for chunk in chunks {
                let (_, command) = server
                    .shells
                    .command(&shell, chunk.command_id.as_deref())
                    .map_err(missing)?;
                if let Some(stdin) = command.push_stdin(&chunk.data, chunk.end) {
                    if command.program == Program::Bootstrap {
                        let named = server.shells.named(&shell).map_err(missing)?;
                        spawn_document(server, named.then(|| host.clone()), stdin, command);
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
fn spawn_statement(server: &Arc<Server>, host: String, statement: String, command: Arc<Command>) {
    let lab = server.lab.clone();
    tokio::spawn(async move {
        let ran = tokio::task::spawn_blocking(move || lab.console(&host, statement.trim())).await;
        command.finish(match ran {
            Ok(Ok(value)) => statement_output(value),
            Ok(Err(message)) => Outcome::failed_clixml(&message),
            Err(_) => Outcome::failed_clixml("the lab failed while running the statement"),
        });
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
) {
    let lab = server.lab.clone();
    let fallback = server.default_host.clone();
    tokio::spawn(async move {
        let ran = tokio::task::spawn_blocking(move || {
            let text = String::from_utf8_lossy(&stdin);
            lab.run_document_for(
                host.as_deref(),
                &fallback,
                text.trim_start_matches('\u{feff}'),
            )
        })
        .await;
        command.finish(match ran {
            Ok(Ok(output)) => script_output(&output),
            Ok(Err(e)) => Outcome::failed_clixml(&e.message),
            Err(_) => Outcome::failed_clixml("the lab failed while running the script"),
        });
    });
}
