//! Checked against the worked example of [MS-NLMP] 4.2.4 (NTLMv2 authentication) and by a
//! client talking to a server.

use super::keys::{self, ClientInput};
use super::message::{self, av};
use super::seal::{Role, Session};
use super::{flags, wsmv, NtlmError};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn ntlmv2_matches_the_worked_example_of_ms_nlmp_4_2_4() {
    let nt = keys::nt_hash("Password");
    let key = keys::ntowf_v2(&nt, "User", "Domain");
    assert_eq!(key.to_vec(), hex("0c868a403bfd7a93a3001ef22ef02e3f"));
    let pairs = message::encode_av_pairs(&[
        (av::NB_DOMAIN_NAME, message::utf16("Domain")),
        (av::NB_COMPUTER_NAME, message::utf16("Server")),
    ]);
    let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
    temp.extend_from_slice(&[0; 8]);
    temp.extend_from_slice(&[0xaa; 8]);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(&pairs);
    temp.extend_from_slice(&[0; 4]);
    let proof = keys::hmac_md5(&key[..], &[&hex("0123456789abcdef"), &temp]);
    assert_eq!(proof.to_vec(), hex("68cd0ab851e51c96aabc927bebef6a1c"));
    let base = keys::hmac_md5(&key[..], &[&proof]);
    assert_eq!(base.to_vec(), hex("8de40ccadbc14a82f15cb0ad0de95ca3"));
    assert_eq!(
        keys::rc4k(&base, &[0x55; 16]),
        hex("c5dad2544fc9799094ce1ce90bc9d03e")
    );
    let negotiated =
        flags::EXTENDED_SESSIONSECURITY | flags::NEGOTIATE_128 | flags::SEAL | flags::KEY_EXCH;
    let mut client = Session::new(&[0x55; 16], negotiated, Role::Client).unwrap();
    let (sig, sealed) = client.seal(&message::utf16("Plaintext"));
    assert_eq!(sealed, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
    assert_eq!(sig.to_vec(), hex("010000007fb38ec5c55d497600000000"));
}

struct Pair {
    client: Session,
    server: Session,
}

fn handshake(
    password: &str,
    binding: Option<[u8; 16]>,
    expected: Option<[u8; 16]>,
) -> Result<Pair, NtlmError> {
    handshake_with(password, binding, expected, false)
}

fn handshake_with(
    password: &str,
    binding: Option<[u8; 16]>,
    expected: Option<[u8; 16]>,
    strict: bool,
) -> Result<Pair, NtlmError> {
    let want = flags::CLIENT;
    let neg = message::negotiate(want);
    let parsed = message::parse_negotiate(&neg)?;
    let info = message::encode_av_pairs(&[
        (av::NB_DOMAIN_NAME, message::utf16("CONTOSO")),
        (
            av::TIMESTAMP,
            133_000_000_000_000_000u64.to_le_bytes().to_vec(),
        ),
    ]);
    let chal = message::challenge(parsed.flags, [7; 8], "CONTOSO", &info);
    let challenge = message::parse_challenge(&chal)?;
    let auth = keys::client_authenticate(
        &neg,
        &chal,
        &challenge,
        &ClientInput {
            user: "cmadmin",
            domain: "CONTOSO",
            password,
            target_name: "HTTP/cm01.contoso.com",
            channel_binding: binding,
            client_challenge: [9; 8],
            random_session_key: [3; 16],
            now_filetime: 0,
        },
    )?;
    let parsed = message::parse_authenticate(&auth.message)?;
    assert_eq!(
        (parsed.user.as_str(), parsed.domain.as_str()),
        ("cmadmin", "CONTOSO")
    );
    let exported = keys::server_verify(
        &neg,
        &chal,
        &challenge,
        &auth.message,
        &parsed,
        &keys::nt_hash("Pa55w.rd€"),
        match (expected, strict) {
            (None, _) => keys::BindingCheck::Off,
            (Some(h), false) => keys::BindingCheck::Relaxed(h),
            (Some(h), true) => keys::BindingCheck::Strict(h),
        },
    )?;
    assert_eq!(&exported[..], &auth.exported[..]);
    Ok(Pair {
        client: Session::new(&auth.exported, auth.flags, Role::Client)?,
        server: Session::new(&exported, parsed.flags, Role::Server)?,
    })
}

#[test]
fn a_client_and_a_server_agree_and_seal_both_ways_in_sequence() {
    let mut p = handshake("Pa55w.rd€", None, None).unwrap();
    for i in 0..3 {
        let body = format!("<s:Envelope>request {i} Zürich</s:Envelope>");
        let wire = wsmv::wrap(&mut p.client, body.as_bytes());
        assert!(!wire.windows(6).any(|w| w == b"Z\xc3\xbcrich"));
        assert_eq!(wsmv::unwrap(&mut p.server, &wire).unwrap(), body.as_bytes());
        let reply = wsmv::wrap(&mut p.server, b"<ok/>");
        assert_eq!(wsmv::unwrap(&mut p.client, &reply).unwrap(), b"<ok/>");
    }
}

#[test]
fn a_wrong_password_a_replayed_message_and_a_tampered_body_are_refused() {
    assert_eq!(
        handshake("wrong", None, None).err(),
        Some(NtlmError::BadProof)
    );
    let mut p = handshake("Pa55w.rd€", None, None).unwrap();
    let first = wsmv::wrap(&mut p.client, b"one");
    assert!(wsmv::unwrap(&mut p.server, &first).is_ok());
    assert_eq!(
        wsmv::unwrap(&mut p.server, &first).err(),
        Some(NtlmError::BadSignature)
    );
    let mut p = handshake("Pa55w.rd€", None, None).unwrap();
    let mut wire = wsmv::wrap(&mut p.client, b"payload");
    let n = wire.len();
    wire[n - 26] ^= 1;
    assert_eq!(
        wsmv::unwrap(&mut p.server, &wire).err(),
        Some(NtlmError::BadSignature)
    );
    assert!(wsmv::unwrap(&mut p.server, b"garbage").is_err());
}

#[test]
fn a_channel_binding_for_another_certificate_is_refused() {
    let mine = keys::channel_binding_hash(b"certificate A");
    let other = keys::channel_binding_hash(b"certificate B");
    assert!(handshake("Pa55w.rd€", Some(mine), Some(mine)).is_ok());
    assert!(
        handshake("Pa55w.rd€", None, Some(mine)).is_ok(),
        "Relaxed: checked if sent"
    );
    assert_eq!(
        handshake("Pa55w.rd€", Some(other), Some(mine)).err(),
        Some(NtlmError::BadChannelBinding)
    );
    assert_eq!(
        handshake_with("Pa55w.rd€", None, Some(mine), true).err(),
        Some(NtlmError::BadChannelBinding),
        "Strict: required"
    );
    assert!(handshake_with("Pa55w.rd€", Some(mine), Some(mine), true).is_ok());
}

#[test]
fn malformed_messages_are_errors_not_panics() {
    for bytes in [&b""[..], b"NTLMSSP\0", b"NTLMSSP\0\x03\0\0\0", &[0xff; 100]] {
        assert!(message::parse_authenticate(bytes).is_err());
        assert!(message::parse_challenge(bytes).is_err());
    }
    let mut m = message::negotiate(0);
    m[8] = 3;
    m.extend_from_slice(&[0xff; 60]);
    assert!(message::parse_authenticate(&m).is_err());
}
