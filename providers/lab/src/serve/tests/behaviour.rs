//! Command lines, console output, CLIXML, Basic auth, certificates, shell state, fault rates.

use std::time::Duration;

use base64::Engine as _;

use super::super::auth::{authenticate, find_user, parse_basic, Refusal};
use super::super::codepage::{CodePage, ConsoleIo};
use super::super::faults::FaultInjection;
use super::super::faults::FaultKind;
use super::super::program::{
    classify, clixml_error, encode_script, encoded_command, statement_output, Program,
};
use super::super::shells::{Limits, Missing, Opening, Outcome, Shells};
use super::super::xml;
use crate::model::{Domain, Estate, Host, User};
use cmdeploy_providers::powershell::runner::BOOTSTRAP;

#[test]
fn command_lines_of_the_three_clients() {
    let b64 = encode_script("Get-CMSite | ConvertTo-Json");
    let winrm_rs: Vec<String> = ["-NoProfile", "-NonInteractive", "-EncodedCommand", &b64]
        .map(String::from)
        .to_vec();
    let want = Program::Statement("Get-CMSite | ConvertTo-Json".into());
    assert_eq!(
        classify(
            r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe",
            &winrm_rs
        ),
        want
    );
    assert_eq!(
        classify(&format!("powershell -encodedcommand {b64}"), &[]),
        want
    );
    assert_eq!(
        classify("PowerShell.exe", &["-enc".into(), b64.clone()]),
        want
    );
    for flag in ["-e", "-ec", "-en", "-ENCODED", "/EncodedCommand"] {
        assert_eq!(encoded_command(&[flag, "x"]), Some("x"), "{flag}");
    }
    for flag in ["-ex", "-EncodedArguments", "-Command", "e"] {
        assert_eq!(encoded_command(&[flag, "x"]), None, "{flag}");
    }
    let boot = encode_script(BOOTSTRAP);
    assert_eq!(
        classify(
            "powershell.exe",
            &["-NoProfile".into(), "-EncodedCommand".into(), boot]
        ),
        Program::Bootstrap(ConsoleIo::of_bootstrap(BOOTSTRAP))
    );
    // The product's bootstrap reads and writes UTF-8 whatever the shell's code page.
    let io = ConsoleIo::of_bootstrap(BOOTSTRAP);
    assert!(io.utf8_stdin && io.utf8_stdout, "{io:?}");
}

#[test]
fn command_lines_that_fail_like_windows() {
    let long = "A".repeat(8200);
    let Program::Immediate(o) = classify("powershell -EncodedCommand", &[long]) else {
        panic!()
    };
    assert_eq!(
        (o.stderr.as_slice(), o.exit_code),
        (&b"The command line is too long.\r\n"[..], 1)
    );
    for (cmd, args) in [
        ("ipconfig", vec![]),
        ("", vec![]),
        ("powershell", vec!["-NoProfile".to_string()]),
        ("powershell -e", vec!["%%%".to_string()]),
        ("powershell -e", vec!["aGlf".to_string()]),
    ] {
        let Program::Immediate(o) = classify(cmd, &args) else {
            panic!("{cmd}")
        };
        assert_eq!(o.exit_code, 1, "{cmd}");
    }
}

#[test]
fn statement_output_is_shaped_like_convert_to_json() {
    use serde_json::json;
    let one = statement_output(json!([{"Name": "HQ"}]));
    assert_eq!(
        String::from_utf8(one.stdout).unwrap(),
        "{\r\n  \"Name\": \"HQ\"\r\n}\r\n"
    );
    let two = String::from_utf8(statement_output(json!([1, null, 2])).stdout).unwrap();
    assert!(two.starts_with("[\r\n"));
    assert!(statement_output(json!(null)).stdout.is_empty());
    assert!(statement_output(json!([])).stdout.is_empty());
}

#[test]
fn clixml_errors_escape_and_split_lines() {
    let doc = clixml_error("bad <x> & _x000D_\nsecond");
    assert!(doc.starts_with("#< CLIXML\r\n<Objs Version=\"1.1.0.1\""));
    assert!(doc.contains(r#"<S S="Error">bad &lt;x&gt; &amp; _x005F_x000D__x000D__x000A_</S>"#));
    assert!(doc.contains(r#"<S S="Error">second_x000D__x000A_</S>"#));
    assert!(xml::parse(&doc["#< CLIXML\r\n".len()..]).is_ok());
}

fn estate() -> Estate {
    let mut e = Estate {
        salt: "salt".into(),
        ..Estate::default()
    };
    let hash = e.hash_password("Pa55:word");
    e.domains.push(Domain {
        name: "contoso.com".into(),
        netbios: "CONTOSO".into(),
        users: vec![User {
            name: "CONTOSO\\cmadmin".into(),
            password: None,
            password_hash: hash,
            nt_hash: String::new(),
        }],
        ..Domain::default()
    });
    e.hosts.push(Host {
        fqdn: "cm01.contoso.com".into(),
        ..Host::default()
    });
    e
}

fn basic(user: &str, pw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

#[test]
fn basic_auth_accepts_every_user_form_and_refuses_the_rest() {
    let e = estate();
    for user in [
        "CONTOSO\\cmadmin",
        "contoso.com\\CMADMIN",
        "cmadmin@contoso.com",
        "cmadmin",
    ] {
        assert_eq!(
            authenticate(&e, Some(&basic(user, "Pa55:word"))).as_deref(),
            Ok("CONTOSO\\cmadmin"),
            "{user}"
        );
    }
    assert_eq!(
        authenticate(&e, Some(&basic("cmadmin", "wrong"))),
        Err(Refusal::Rejected)
    );
    assert_eq!(
        authenticate(&e, Some(&basic("FABRIKAM\\cmadmin", "Pa55:word"))),
        Err(Refusal::Rejected)
    );
    assert_eq!(authenticate(&e, None), Err(Refusal::Missing));
    assert_eq!(
        authenticate(&e, Some("Negotiate abc")),
        Err(Refusal::Missing)
    );
    assert_eq!(parse_basic("Basic !!!"), Err(Refusal::Malformed));
    assert_eq!(parse_basic("Basic bm9jb2xvbg=="), Err(Refusal::Malformed));
    assert!(find_user(&e, "nobody").is_none());
}

#[test]
fn the_leaf_certificate_names_every_host() {
    let names = super::super::tls::subject_names(&estate());
    assert_eq!(
        names,
        ["127.0.0.1", "::1", "localhost", "cm01.contoso.com", "cm01"]
    );
    let certs = super::super::tls::generate(names).unwrap();
    assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(certs.chain.len(), 2);
    assert!(super::super::tls::server_config(&certs, None).is_ok());
}

#[tokio::test]
async fn commands_take_stdin_once_and_finish_once() {
    let shells = Shells::default();
    let id = shells.open(&opening("CONTOSO\\cmadmin")).unwrap();
    assert_eq!(shells.host(&id).unwrap(), "cm01.contoso.com");
    let (cid, cmd) = shells
        .start(
            &id,
            Some("C-9".into()),
            Program::Bootstrap(ConsoleIo::default()),
        )
        .unwrap();
    assert_eq!(cid, "C-9");
    assert_eq!(cmd.push_stdin(b"ab", false), None);
    assert_eq!(cmd.push_stdin(b"c", true), Some(b"abc".to_vec()));
    assert_eq!(cmd.push_stdin(b"d", true), None);
    assert_eq!(cmd.wait(Duration::from_millis(10)).await, None);
    cmd.finish(Outcome::ok("one".into()));
    cmd.finish(Outcome::ok("two".into()));
    assert_eq!(
        cmd.wait(Duration::from_secs(1)).await.unwrap().stdout,
        b"one"
    );
    let (latest, _) = shells.command(&id, None).unwrap();
    assert_eq!(latest, "C-9");
    assert!(shells.command(&id, Some("nope")).is_err());
    shells.delete(&id).unwrap();
    assert!(shells.host(&id).is_err() && shells.is_empty());
}

#[test]
fn fault_rates_must_be_fractions() {
    let ok = FaultInjection {
        fail_rate: 1.0,
        ..FaultInjection::default()
    };
    assert!(ok.validate().is_ok());
    assert_eq!(ok.draw(), super::super::faults::Injected::Fail);
    for bad in [-0.1, 1.5, f64::NAN] {
        let f = FaultInjection {
            drop_rate: bad,
            ..FaultInjection::default()
        };
        assert!(f.validate().is_err());
    }
}

fn opening(owner: &str) -> Opening<'_> {
    Opening {
        host: "cm01.contoso.com",
        named: true,
        owner,
        codepage: CodePage::Oem(437),
    }
}

#[test]
fn max_shells_per_user_counts_each_user_and_answers_the_quota_fault() {
    let shells = Shells::new(Limits {
        per_user: 30,
        idle: Duration::from_secs(7200),
    });
    let ids: Vec<String> = (0..30)
        .map(|_| shells.open(&opening("CONTOSO\\cmadmin")).unwrap())
        .collect();
    let refused = shells.open(&opening("contoso\\CMADMIN")).unwrap_err();
    assert_eq!(refused, Missing::Quota(30));
    let fault = super::super::faults::Fault::shell_quota(30);
    assert_eq!(fault.kind, FaultKind::QuotaLimit);
    assert_eq!(fault.kind.subcode(), "w:QuotaLimit");
    assert_eq!(fault.kind.wsman_code(), 2_150_859_173);
    assert!(fault
        .message
        .contains("maximum number of 30 concurrent shells"));
    // Another user has a quota of their own; deleting a shell frees a slot at once.
    assert!(shells.open(&opening("CONTOSO\\other")).is_ok());
    shells.delete(&ids[0]).unwrap();
    assert!(shells.open(&opening("CONTOSO\\cmadmin")).is_ok());
}

#[test]
fn shells_idle_longer_than_idle_timeout_are_deleted() {
    let idle = Duration::from_secs(60);
    let shells = Shells::new(Limits { per_user: 1, idle });
    let start = std::time::Instant::now();
    let id = shells.open_at(&opening("CONTOSO\\cmadmin"), start).unwrap();
    // Activity within the timeout keeps it.
    shells.touch_at(&id, start + idle).unwrap();
    assert_eq!(
        shells.open_at(&opening("CONTOSO\\cmadmin"), start + idle),
        Err(Missing::Quota(1))
    );
    // Idle for longer than the timeout: gone, its slot free.
    let later = start + idle + idle + Duration::from_millis(1);
    assert!(matches!(
        shells.touch_at(&id, later),
        Err(Missing::Shell(_))
    ));
    assert!(shells.open_at(&opening("CONTOSO\\cmadmin"), later).is_ok());
}

#[test]
fn an_authenticate_on_another_connection_than_its_challenge_is_refused() {
    use super::super::negotiate::{ConnectionAuth, ServerNames, Step};
    use cmdeploy_providers::transport::ntlm::{flags, keys, message};
    let names = ServerNames {
        netbios_domain: "CONTOSO".into(),
        dns_domain: "contoso.com".into(),
        netbios_computer: "CM01".into(),
        dns_computer: "cm01.contoso.com".into(),
    };
    let negotiate = message::negotiate(
        flags::UNICODE
            | flags::SEAL
            | flags::SIGN
            | flags::EXTENDED_SESSIONSECURITY
            | flags::NEGOTIATE_128
            | flags::KEY_EXCH,
    );
    let (first, second) = (
        ConnectionAuth::new(None, false),
        ConnectionAuth::new(None, false),
    );
    let Step::Challenge(token) = first.negotiate(&negotiate, &names) else {
        panic!("no challenge")
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    let challenge = message::parse_challenge(&raw).unwrap();
    let auth = keys::client_authenticate(
        &negotiate,
        &raw,
        &challenge,
        &keys::ClientInput {
            user: "cmadmin",
            domain: "CONTOSO",
            password: "Pa55:word",
            target_name: "HTTP/cm01.contoso.com",
            channel_binding: None,
            client_challenge: [1; 8],
            random_session_key: [2; 16],
            now_filetime: 0,
        },
    )
    .unwrap();
    let lookup =
        |_: &str, _: &str| Some(("CONTOSO\\cmadmin".to_string(), *keys::nt_hash("Pa55:word")));
    // NTLM is bound to the connection that was challenged (winrm.md §2.2).
    assert_eq!(second.authenticate(&auth.message, lookup), Step::Refused);
    assert_eq!(
        first.authenticate(&auth.message, lookup),
        Step::Authenticated("CONTOSO\\cmadmin".into())
    );
    assert_eq!(first.user().as_deref(), Some("CONTOSO\\cmadmin"));
    // A replayed AUTHENTICATE does not log on again.
    let third = ConnectionAuth::new(None, false);
    assert_eq!(third.authenticate(&auth.message, lookup), Step::Refused);
}
