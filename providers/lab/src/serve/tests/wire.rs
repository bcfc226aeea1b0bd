//! Request parsing (every client's forms, and garbage) and response shapes.

use std::time::Duration;

use proptest::prelude::*;

use super::super::faults::{Fault, FaultKind};
use super::super::program::classify;
use super::super::response;
use super::super::shells::Outcome;
use super::super::soap::{
    parse_duration, parse_request, Operation, NS_ADDRESSING, NS_SHELL, NS_SOAP,
};
use super::super::xml;

const HEAD: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">"#;

fn envelope(action: &str, selector: bool, after_header: &str, body: &str) -> String {
    let sel = if selector {
        r#"<wsman:SelectorSet><wsman:Selector Name="ShellId">SHELL-1</wsman:Selector></wsman:SelectorSet>"#
    } else {
        ""
    };
    format!(
        "{HEAD}<s:Header><wsa:Action>{action}</wsa:Action><wsa:MessageID>uuid:ABCDEF01-0000-4000-8000-00000000000A</wsa:MessageID><wsman:OperationTimeout>PT20.000S</wsman:OperationTimeout>{sel}</s:Header>{after_header}<s:Body>{body}</s:Body></s:Envelope>"
    )
}

#[test]
fn create_with_option_set_outside_the_header_and_environment() {
    let text = envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
        false,
        r#"<wsman:OptionSet><wsman:Option Name="WINRS_NOPROFILE">TRUE</wsman:Option><wsman:Option Name="WINRS_CODEPAGE">65001</wsman:Option></wsman:OptionSet>"#,
        r#"<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams><rsp:Environment><rsp:Variable Name="CMDEPLOY_HOST">cm01.contoso.com</rsp:Variable></rsp:Environment><rsp:IdleTimeOut>PT60S</rsp:IdleTimeOut></rsp:Shell>"#,
    );
    let r = parse_request(&text).unwrap();
    assert_eq!(
        r.message_id.as_deref(),
        Some("uuid:ABCDEF01-0000-4000-8000-00000000000A")
    );
    assert_eq!(r.operation_timeout, Duration::from_secs(20));
    assert!(r
        .options
        .contains(&("WINRS_CODEPAGE".into(), "65001".into())));
    // Outside the header, where winrm-rs 1.1.2 puts it, Windows does not read it.
    assert_eq!(r.header_option("WINRS_CODEPAGE"), None);
    let inside = envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
        false,
        "",
        "<rsp:Shell/>",
    )
    .replace(
        "</s:Header>",
        r#"<wsman:OptionSet><wsman:Option Name="WINRS_CODEPAGE">65001</wsman:Option></wsman:OptionSet></s:Header>"#,
    );
    assert_eq!(
        parse_request(&inside)
            .unwrap()
            .header_option("winrs_codepage"),
        Some("65001")
    );
    let Operation::Create(c) = r.operation else {
        panic!("not a Create")
    };
    assert_eq!(
        c.environment,
        vec![("CMDEPLOY_HOST".into(), "cm01.contoso.com".into())]
    );
    assert_eq!(c.idle_timeout.as_deref(), Some("PT60S"));
}

#[test]
fn command_send_receive_signal_delete_are_read() {
    let shell = |op: &str| format!("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/{op}");
    let r = parse_request(&envelope(
        &shell("Command"),
        true,
        "",
        r#"<rsp:CommandLine CommandId="C-1"><rsp:Command>powershell -encodedcommand aABpAA==</rsp:Command></rsp:CommandLine>"#,
    ))
    .unwrap();
    assert_eq!(r.shell_id.as_deref(), Some("SHELL-1"));
    let Operation::Command(line) = r.operation else {
        panic!()
    };
    assert_eq!(line.command_id.as_deref(), Some("C-1"));
    assert_eq!(line.command, "powershell -encodedcommand aABpAA==");
    assert!(line.arguments.is_empty());

    let r = parse_request(&envelope(
        &shell("Send"),
        true,
        "",
        r#"<rsp:Send><rsp:Stream Name="stdin" CommandId="C-1" End="true">aGVs
bG8=</rsp:Stream></rsp:Send>"#,
    ))
    .unwrap();
    let Operation::Send(chunks) = r.operation else {
        panic!()
    };
    assert_eq!(chunks[0].data, b"hello");
    assert!(chunks[0].end);

    let r = parse_request(&envelope(
        &shell("Receive"),
        true,
        "",
        r#"<rsp:Receive><rsp:DesiredStream CommandId="C-1">stdout stderr</rsp:DesiredStream></rsp:Receive>"#,
    ))
    .unwrap();
    assert_eq!(r.operation, Operation::Receive(Some("C-1".into())));

    let r = parse_request(&envelope(
        &shell("Signal"),
        true,
        "",
        r#"<rsp:Signal CommandId="C-1"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate</rsp:Code></rsp:Signal>"#,
    ))
    .unwrap();
    let Operation::Signal { code, .. } = r.operation else {
        panic!()
    };
    assert!(super::super::soap::is_known_signal(&code));
    assert!(super::super::soap::is_known_signal("x/signal/ctrl_c"));

    let r = parse_request(&envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
        true,
        "",
        "",
    ))
    .unwrap();
    assert_eq!(r.operation, Operation::Delete);
}

#[test]
fn an_unknown_action_is_a_fault_that_still_knows_the_message_id() {
    let (id, fault) = parse_request(&envelope("urn:nope", false, "", "")).unwrap_err();
    assert!(id.unwrap().starts_with("uuid:ABCDEF01"));
    assert_eq!(fault.kind, FaultKind::ActionNotSupported);
}

#[test]
fn garbage_bodies_are_faults_not_panics() {
    let deep = "<a>".repeat(100_000);
    let wide = "<a/>".repeat(20_000);
    let bodies = [
        "",
        "   ",
        "\u{0}\u{1}\u{2}",
        "not xml at all",
        "<",
        "<s:Envelope>",
        "<x:Envelope xmlns:x='urn:other'/>",
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'/>",
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Header><a:Action/></s:Header></s:Envelope>",
        "<a>&bogus;</a>",
        "<a>&#xFFFFFFFF;</a>",
        "<a b='&#0;'/>",
        "<a></b>",
        "<a/><b/>",
        "<!DOCTYPE x [<!ENTITY e 'boom'>]><a>&e;</a>",
        deep.as_str(),
        wide.as_str(),
    ];
    for body in bodies {
        assert!(parse_request(body).is_err(), "{body:.40}");
    }
    let bad_b64 = envelope(
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send",
        true,
        "",
        r#"<rsp:Send><rsp:Stream Name="stdin">!!!</rsp:Stream></rsp:Send>"#,
    );
    assert_eq!(
        parse_request(&bad_b64).unwrap_err().1.kind,
        FaultKind::SchemaValidation
    );
}

proptest! {
    #[test]
    fn any_text_parses_or_faults(s in "\\PC{0,300}") {
        let _ = parse_request(&s);
        let _ = parse_request(&format!("{HEAD}{s}</s:Envelope>"));
    }

    #[test]
    fn any_command_line_classifies(cmd in "\\PC{0,80}", args in proptest::collection::vec("\\PC{0,20}", 0..4)) {
        let _ = classify(&cmd, &args);
    }
}

#[test]
fn durations() {
    assert_eq!(parse_duration("PT60S"), Some(Duration::from_secs(60)));
    assert_eq!(
        parse_duration("PT60.500S"),
        Some(Duration::from_millis(60_500))
    );
    assert_eq!(parse_duration("P0DT0H1M5S"), Some(Duration::from_secs(65)));
    for bad in ["", "P", "PT", "60", "PT5X", "P1Y", "PTS", "PT1e999S", "PT5"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn create_response_has_resource_created_and_shell_id_in_the_right_namespaces() {
    let id = "uuid:AbC-verbatim";
    let text = response::created(
        Some(id),
        "http://127.0.0.1:1/wsman",
        "S-1",
        "CONTOSO\\cmadmin",
        Duration::from_millis(7_200_000),
    );
    let root = xml::parse(&text).unwrap();
    assert!(root.is(NS_SOAP, "Envelope"));
    let header = root.child(NS_SOAP, "Header").unwrap();
    assert_eq!(header.child(NS_ADDRESSING, "RelatesTo").unwrap().text, id);
    let body = root.child(NS_SOAP, "Body").unwrap();
    let created = body
        .child(
            "http://schemas.xmlsoap.org/ws/2004/09/transfer",
            "ResourceCreated",
        )
        .unwrap();
    let selector = created
        .find("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", "Selector")
        .unwrap();
    assert_eq!(
        (selector.attr("Name"), selector.text.as_str()),
        (Some("ShellId"), "S-1")
    );
    let shell = body.child(NS_SHELL, "Shell").unwrap();
    assert_eq!(shell.child(NS_SHELL, "ShellId").unwrap().text, "S-1");
}

#[test]
fn receive_response_streams_use_the_rsp_prefix_and_report_the_exit_code() {
    let outcome = Outcome {
        stdout: b"hi\r\n".to_vec(),
        stderr: Vec::new(),
        exit_code: 3,
    };
    let text = response::received(Some("uuid:1"), "C-1", Some(&outcome));
    assert!(text.contains(r#"<rsp:Stream Name="stdout" CommandId="C-1">aGkNCg==</rsp:Stream>"#));
    let root = xml::parse(&text).unwrap();
    let state = root.find(NS_SHELL, "CommandState").unwrap();
    assert!(state.attr("State").unwrap().ends_with("CommandState/Done"));
    assert_eq!(state.child(NS_SHELL, "ExitCode").unwrap().text, "3");
    let running = response::received(None, "C-1", None);
    assert!(running.contains("CommandState/Running") && !running.contains("RelatesTo"));
}

#[test]
fn faults_carry_subcode_and_wsman_code() {
    let f = Fault::new(FaultKind::TimedOut, "slow <&>");
    let text = response::fault(Some("uuid:X"), &f, "cm01.contoso.com");
    let root = xml::parse(&text).unwrap();
    let fault = root.find(NS_SOAP, "Fault").unwrap();
    assert_eq!(
        fault.find(NS_SOAP, "Subcode").unwrap().children[0].text,
        "w:TimedOut"
    );
    let detail = fault
        .find(
            "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
            "WSManFault",
        )
        .unwrap();
    assert_eq!(detail.attr("Code"), Some("2150858793"));
    assert!(text.contains("slow &lt;&amp;&gt;"));
    assert_eq!(
        root.find(NS_ADDRESSING, "RelatesTo").unwrap().text,
        "uuid:X"
    );
}

#[test]
fn generated_ids_are_upper_case_version_4_uuids() {
    for _ in 0..50 {
        let id = response::new_uuid();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(
            parts[2].starts_with('4') && "89AB".contains(&parts[3][..1]),
            "{id}"
        );
        assert_eq!(id, id.to_uppercase());
    }
}
