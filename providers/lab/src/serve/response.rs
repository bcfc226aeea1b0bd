//! WS-Management responses, shaped like Windows' own (prefixes `s a x w rsp`), with the
//! request's `MessageID` echoed verbatim in `a:RelatesTo` on every one of them.

use base64::Engine as _;

use super::faults::Fault;
use super::program::Outcome;
use super::soap::{NS_ADDRESSING, NS_SHELL, NS_SOAP, NS_TRANSFER, NS_WSMAN, RESOURCE_CMD};
use super::xml::escape;

/// The action of every fault response.
pub const FAULT_ACTION: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
/// `CommandState` URI of a running command.
pub const STATE_RUNNING: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running";
/// `CommandState` URI of a finished command.
pub const STATE_DONE: &str =
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done";
/// Raw bytes per `rsp:Stream` element.
const STREAM_CHUNK: usize = 32 * 1024;

/// A fresh random (version 4) UUID, upper case as Windows writes them.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_upper(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

/// A response envelope: header (Action, MessageID, To, RelatesTo) and `body` (XML, may be "").
pub fn envelope(action: &str, relates_to: Option<&str>, body: &str) -> String {
    let relates = relates_to
        .map(|id| format!("<a:RelatesTo>{}</a:RelatesTo>", escape(id)))
        .unwrap_or_default();
    format!(
        concat!(
            r#"<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:x="{x}" xmlns:w="{w}" xmlns:rsp="{rsp}">"#,
            "<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{id}</a:MessageID>",
            "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>{relates}</s:Header>",
            "<s:Body>{body}</s:Body></s:Envelope>"
        ),
        s = NS_SOAP,
        a = NS_ADDRESSING,
        x = NS_TRANSFER,
        w = NS_WSMAN,
        rsp = NS_SHELL,
        action = escape(action),
        id = new_uuid(),
        relates = relates,
        body = body,
    )
}

/// Create: both `x:ResourceCreated` (with the `ShellId` selector) and `rsp:Shell/rsp:ShellId`.
/// `idle` is the service's IdleTimeout.
pub fn created(
    relates_to: Option<&str>,
    address: &str,
    shell_id: &str,
    owner: &str,
    idle: std::time::Duration,
) -> String {
    let id = escape(shell_id);
    let body = format!(
        concat!(
            "<x:ResourceCreated><a:Address>{address}</a:Address><a:ReferenceParameters>",
            "<w:ResourceURI>{resource}</w:ResourceURI><w:SelectorSet>",
            r#"<w:Selector Name="ShellId">{id}</w:Selector></w:SelectorSet>"#,
            "</a:ReferenceParameters></x:ResourceCreated>",
            "<rsp:Shell><rsp:ShellId>{id}</rsp:ShellId><rsp:ResourceUri>{resource}</rsp:ResourceUri>",
            "<rsp:Owner>{owner}</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>",
            "<rsp:IdleTimeOut>PT{idle}.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>",
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>",
            "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>",
            "</rsp:Shell>"
        ),
        address = escape(address),
        resource = RESOURCE_CMD,
        id = id,
        owner = escape(owner),
        idle = idle.as_secs(),
    );
    envelope(&format!("{NS_TRANSFER}/CreateResponse"), relates_to, &body)
}

/// Command: `rsp:CommandResponse/rsp:CommandId`.
pub fn command(relates_to: Option<&str>, command_id: &str) -> String {
    envelope(
        &format!("{NS_SHELL}/CommandResponse"),
        relates_to,
        &format!(
            "<rsp:CommandResponse><rsp:CommandId>{}</rsp:CommandId></rsp:CommandResponse>",
            escape(command_id)
        ),
    )
}

/// Send: an empty `rsp:SendResponse`.
pub fn sent(relates_to: Option<&str>) -> String {
    envelope(
        &format!("{NS_SHELL}/SendResponse"),
        relates_to,
        "<rsp:SendResponse/>",
    )
}

/// Signal: an empty `rsp:SignalResponse`.
pub fn signalled(relates_to: Option<&str>) -> String {
    envelope(
        &format!("{NS_SHELL}/SignalResponse"),
        relates_to,
        "<rsp:SignalResponse/>",
    )
}

/// Delete: an empty body.
pub fn deleted(relates_to: Option<&str>) -> String {
    envelope(&format!("{NS_TRANSFER}/DeleteResponse"), relates_to, "")
}

/// Receive: the streams (base64, `rsp:` prefix, `End="true"` markers) and the state, `Done`
/// with its `ExitCode` when `outcome` is given, else `Running` with no output.
pub fn received(relates_to: Option<&str>, command_id: &str, outcome: Option<&Outcome>) -> String {
    let id = escape(command_id);
    let mut body = String::from("<rsp:ReceiveResponse>");
    match outcome {
        Some(o) => {
            for (name, data) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                for chunk in data.chunks(STREAM_CHUNK) {
                    body.push_str(&format!(
                        r#"<rsp:Stream Name="{name}" CommandId="{id}">{}</rsp:Stream>"#,
                        base64::engine::general_purpose::STANDARD.encode(chunk)
                    ));
                }
                body.push_str(&format!(
                    r#"<rsp:Stream Name="{name}" CommandId="{id}" End="true"></rsp:Stream>"#
                ));
            }
            body.push_str(&format!(
                r#"<rsp:CommandState CommandId="{id}" State="{STATE_DONE}"><rsp:ExitCode>{}</rsp:ExitCode></rsp:CommandState>"#,
                o.exit_code
            ));
        }
        None => body.push_str(&format!(
            r#"<rsp:CommandState CommandId="{id}" State="{STATE_RUNNING}"/>"#
        )),
    }
    body.push_str("</rsp:ReceiveResponse>");
    envelope(&format!("{NS_SHELL}/ReceiveResponse"), relates_to, &body)
}

/// A SOAP 1.2 fault with a `WSManFault` detail (sent with HTTP 500).
pub fn fault(relates_to: Option<&str>, fault: &Fault, machine: &str) -> String {
    let message = escape(&fault.message);
    let body = format!(
        concat!(
            "<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>",
            r#"<s:Reason><s:Text xml:lang="en-US">{message}</s:Text></s:Reason>"#,
            r#"<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{wsman}" Machine="{machine}">"#,
            "<f:Message>{message}</f:Message></f:WSManFault></s:Detail></s:Fault>"
        ),
        code = fault.kind.code(),
        subcode = fault.kind.subcode(),
        message = message,
        wsman = fault.kind.wsman_code(),
        machine = escape(machine),
    );
    envelope(FAULT_ACTION, relates_to, &body)
}
