//! WS-Management requests of the WinRS cmd shell, read from their SOAP envelopes.
//!
//! Matching is by namespace URI and local name, never by prefix, so any client's prefixes work.
//! The parser is lenient where real clients differ (pywinrm, pypsrp, winrm-rs): an `OptionSet`
//! outside the `Header` is accepted, unknown header and body elements are ignored, and the
//! operation is chosen by `wsa:Action`.

use std::time::Duration;

use base64::Engine as _;

use super::faults::{Fault, FaultKind};
use super::xml::{self, Element};

/// SOAP 1.2 envelope namespace.
pub const NS_SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (2004/08).
pub const NS_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Transfer (2004/09).
pub const NS_TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/// DMTF WS-Management.
pub const NS_WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// Microsoft's WS-Management extensions.
pub const NS_WSMAN_MS: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
/// The Windows Remote Shell namespace.
pub const NS_SHELL: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell";
/// The cmd shell resource.
pub const RESOURCE_CMD: &str = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";

/// Longest wait a Receive may ask for; longer `OperationTimeout`s are cut to this.
const MAX_OPERATION_TIMEOUT: Duration = Duration::from_secs(300);
/// The wait when a request gives no `OperationTimeout` (Windows' default).
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// One parsed request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `wsa:MessageID`, verbatim (echoed in `RelatesTo`).
    pub message_id: Option<String>,
    /// `wsa:Action`.
    pub action: String,
    /// The `ShellId` selector, when present.
    pub shell_id: Option<String>,
    /// `wsman:OperationTimeout`, capped; [`DEFAULT_OPERATION_TIMEOUT`] when absent.
    pub operation_timeout: Duration,
    /// `wsman:OptionSet/Option` name and value pairs, wherever the set sits.
    pub options: Vec<(String, String)>,
    /// The options of an OptionSet inside `s:Header`: the only ones Windows reads
    /// ([MS-WSMV] 3.1.4.5.2 and the 4.7.1 example put the OptionSet in the header).
    pub header_options: Vec<(String, String)>,
    /// The operation and its body.
    pub operation: Operation,
}

/// The WinRS operations.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Create a shell.
    Create(CreateShell),
    /// Start a command in a shell.
    Command(CommandLine),
    /// Send stdin to a command.
    Send(Vec<InputChunk>),
    /// Receive a command's output (for the `CommandId`, when given).
    Receive(Option<String>),
    /// Signal a command (terminate, ctrl_c).
    Signal {
        /// The command, when given.
        command_id: Option<String>,
        /// The signal code URI.
        code: String,
    },
    /// Delete the shell.
    Delete,
}

/// A Create body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateShell {
    /// `rsp:Environment/rsp:Variable` name and value pairs.
    pub environment: Vec<(String, String)>,
    /// `rsp:WorkingDirectory`.
    pub working_directory: Option<String>,
    /// `rsp:IdleTimeOut` as sent (xs:duration).
    pub idle_timeout: Option<String>,
}

/// A Command body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandLine {
    /// A client-chosen `CommandId`.
    pub command_id: Option<String>,
    /// `rsp:Command`.
    pub command: String,
    /// Each `rsp:Arguments`.
    pub arguments: Vec<String>,
}

/// One `rsp:Stream` of a Send body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputChunk {
    /// The command it is for, when given.
    pub command_id: Option<String>,
    /// Decoded bytes.
    pub data: Vec<u8>,
    /// `End="true"`: stdin is closed after this chunk.
    pub end: bool,
}

/// Parses a request envelope.
///
/// # Errors
/// A [`Fault`] to answer with, and the request's `MessageID` when it could be read.
pub fn parse_request(text: &str) -> Result<Request, (Option<String>, Fault)> {
    let schema = |m: String| Fault::new(FaultKind::SchemaValidation, m);
    let root = xml::parse(text).map_err(|m| (None, schema(m)))?;
    if !root.is(NS_SOAP, "Envelope") {
        return Err((None, schema("the body is not a SOAP 1.2 envelope".into())));
    }
    let header = root.child(NS_SOAP, "Header");
    let text_of = |ns: &str, name: &str| {
        header
            .and_then(|h| h.child(ns, name))
            .map(|e| e.text.trim().to_string())
    };
    let message_id = text_of(NS_ADDRESSING, "MessageID");
    let fail = |f: Fault| (message_id.clone(), f);
    let action = text_of(NS_ADDRESSING, "Action")
        .ok_or_else(|| fail(schema("the request has no wsa:Action".into())))?;
    let shell_id = header
        .and_then(|h| h.child(NS_WSMAN, "SelectorSet"))
        .and_then(|s| {
            s.children_named(NS_WSMAN, "Selector")
                .find(|sel| sel.attr("Name") == Some("ShellId"))
        })
        .map(|sel| sel.text.trim().to_string());
    let operation_timeout = text_of(NS_WSMAN, "OperationTimeout")
        .and_then(|t| parse_duration(&t))
        .map(|d| d.min(MAX_OPERATION_TIMEOUT))
        .unwrap_or(DEFAULT_OPERATION_TIMEOUT);
    let options = root
        .descendants()
        .into_iter()
        .filter(|e| e.is(NS_WSMAN, "Option"))
        .filter_map(|o| Some((o.attr("Name")?.to_string(), o.text.trim().to_string())))
        .collect();
    let header_options = header
        .map(|h| {
            h.children_named(NS_WSMAN, "OptionSet")
                .flat_map(|set| set.children_named(NS_WSMAN, "Option"))
                .filter_map(|o| Some((o.attr("Name")?.to_string(), o.text.trim().to_string())))
                .collect()
        })
        .unwrap_or_default();
    let body = root
        .child(NS_SOAP, "Body")
        .ok_or_else(|| fail(schema("the envelope has no s:Body".into())))?;
    let operation = operation(&action, body).map_err(fail)?;
    Ok(Request {
        message_id,
        action,
        shell_id,
        operation_timeout,
        options,
        header_options,
        operation,
    })
}

fn operation(action: &str, body: &Element) -> Result<Operation, Fault> {
    let shell = |name: &str| format!("{NS_SHELL}/{name}");
    let schema = |m: &str| Fault::new(FaultKind::SchemaValidation, m.to_string());
    if action == format!("{NS_TRANSFER}/Create") {
        let spec = body.child(NS_SHELL, "Shell");
        let mut create = CreateShell::default();
        if let Some(spec) = spec {
            if let Some(env) = spec.child(NS_SHELL, "Environment") {
                create.environment = env
                    .children_named(NS_SHELL, "Variable")
                    .filter_map(|v| Some((v.attr("Name")?.to_string(), v.text.clone())))
                    .collect();
            }
            create.working_directory = spec
                .child(NS_SHELL, "WorkingDirectory")
                .map(|w| w.text.trim().to_string());
            create.idle_timeout = spec
                .child(NS_SHELL, "IdleTimeOut")
                .map(|w| w.text.trim().to_string());
        }
        Ok(Operation::Create(create))
    } else if action == shell("Command") {
        let line = body
            .child(NS_SHELL, "CommandLine")
            .ok_or_else(|| schema("the Command body has no rsp:CommandLine"))?;
        Ok(Operation::Command(CommandLine {
            command_id: line.attr("CommandId").map(str::to_string),
            command: line
                .child(NS_SHELL, "Command")
                .map(|c| c.text.trim().to_string())
                .unwrap_or_default(),
            arguments: line
                .children_named(NS_SHELL, "Arguments")
                .map(|a| a.text.clone())
                .collect(),
        }))
    } else if action == shell("Send") {
        let send = body
            .child(NS_SHELL, "Send")
            .ok_or_else(|| schema("the Send body has no rsp:Send"))?;
        let mut chunks = Vec::new();
        for s in send.children_named(NS_SHELL, "Stream") {
            let compact: String = s.text.split_whitespace().collect();
            let data = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| schema(&format!("stdin is not base64: {e}")))?;
            chunks.push(InputChunk {
                command_id: s.attr("CommandId").map(str::to_string),
                data,
                end: s
                    .attr("End")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
            });
        }
        Ok(Operation::Send(chunks))
    } else if action == shell("Receive") {
        let command_id = body
            .child(NS_SHELL, "Receive")
            .and_then(|r| r.child(NS_SHELL, "DesiredStream"))
            .and_then(|d| d.attr("CommandId"))
            .map(str::to_string);
        Ok(Operation::Receive(command_id))
    } else if action == shell("Signal") {
        let signal = body
            .child(NS_SHELL, "Signal")
            .ok_or_else(|| schema("the Signal body has no rsp:Signal"))?;
        Ok(Operation::Signal {
            command_id: signal.attr("CommandId").map(str::to_string),
            code: signal
                .child(NS_SHELL, "Code")
                .map(|c| c.text.trim().to_string())
                .unwrap_or_default(),
        })
    } else if action == format!("{NS_TRANSFER}/Delete") {
        Ok(Operation::Delete)
    } else {
        Err(Fault::new(
            FaultKind::ActionNotSupported,
            format!("the action `{action}` is not supported by the lab's WinRS endpoint"),
        ))
    }
}

impl Request {
    /// A header option's value (`WINRS_CODEPAGE`, ...), by case-insensitive name.
    pub fn header_option(&self, name: &str) -> Option<&str> {
        self.header_options
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a signal code is one the lab accepts: terminate (any case) or ctrl_c.
pub fn is_known_signal(code: &str) -> bool {
    let last = code.rsplit('/').next().unwrap_or(code);
    last.eq_ignore_ascii_case("terminate")
        || last.eq_ignore_ascii_case("ctrl_c")
        || last.eq_ignore_ascii_case("ctrl_break")
}

/// Parses an xs:duration as WS-Man uses it (`PT60S`, `PT60.000S`, `P0DT0H1M0S`).
/// Years and months are refused; `None` on any malformed input.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let rest = text.trim().strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut seconds = 0f64;
    let mut any = false;
    for (part, units) in [
        (date, &[('D', 86_400f64)][..]),
        (time, &[('H', 3_600f64), ('M', 60f64), ('S', 1f64)][..]),
    ] {
        let mut number = String::new();
        let mut allowed = units.iter();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let (_, factor) = allowed.by_ref().find(|(u, _)| *u == c)?;
            let value: f64 = number.parse().ok()?;
            seconds += value * factor;
            number.clear();
            any = true;
        }
        if !number.is_empty() {
            return None;
        }
    }
    if !any || !seconds.is_finite() || seconds > 1e9 {
        return None;
    }
    Some(Duration::from_secs_f64(seconds))
}
