//! The Kerberos initiator against the acceptor, with tickets from the test KDC that
//! `tests/run.sh` starts (tests/support/kdc.sh): both sides of the mechanism, no HTTP.

use std::path::PathBuf;

use super::super::kerberos::ServiceKeys;
use cmdeploy_providers::transport::kerberos::client::ClientContext;
use cmdeploy_providers::transport::kerberos::{seal, sec_channel_bindings, KerberosCredentials};

/// The keytab of the test KDC; fails (never skips) without it.
pub fn keytab() -> PathBuf {
    let path = std::env::var_os("CMDEPLOY_TEST_KRB5_KEYTAB").expect(
        "the test KDC is missing: run `bash tests/run.sh` (tests/support/kdc.sh starts one and sets CMDEPLOY_TEST_KRB5_KEYTAB and KRB5_CONFIG)",
    );
    PathBuf::from(path)
}

fn admin(password: &str) -> KerberosCredentials {
    KerberosCredentials::new("CONTOSO\\cmadmin", "cm01.contoso.com", password)
}

fn admin_password() -> String {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/contoso/lab-secrets/admin.txt"
    );
    std::fs::read_to_string(p).unwrap().trim().to_string()
}

#[test]
fn a_password_logon_gives_a_context_that_seals_both_ways() {
    let keys = ServiceKeys::load(&keytab()).unwrap();
    assert!(keys.has_host("cm01.contoso.com"));
    let (mut client, token) =
        ClientContext::initiate(&admin(&admin_password()), "cm01.contoso.com", None).unwrap();
    let mut accepted = keys.accept(&token, None, false).unwrap();
    // The same AP-REQ again (another connection replaying it) is refused.
    assert!(keys.accept(&token, None, false).is_err(), "a replay");
    assert_eq!(
        accepted.principal.to_ascii_lowercase(),
        "cmadmin@contoso.com"
    );
    client.finish(&accepted.token).unwrap();
    let request = "<s:Envelope>Zürich €</s:Envelope>".repeat(50);
    let wire = client.wrap(request.as_bytes()).unwrap();
    assert!(!wire.windows(6).any(|w| w == b"Z\xc3\xbcrich"), "sealed");
    let opened = seal::unwrap(&mut accepted.context, &wire).unwrap();
    assert_eq!(opened, request.as_bytes());
    let answer = seal::wrap(&mut accepted.context, b"<ok/>").unwrap();
    assert_eq!(client.unwrap(&answer).unwrap(), b"<ok/>");
    // A tampered body does not open.
    let mut tampered = client.wrap(b"<s:Envelope/>").unwrap();
    let at = tampered.len() - 30;
    tampered[at] ^= 1;
    assert!(seal::unwrap(&mut accepted.context, &tampered).is_err());
}

#[test]
fn a_wrong_password_is_refused_by_the_kdc() {
    let err = ClientContext::initiate(&admin("wrong password"), "cm01.contoso.com", None)
        .err()
        .expect("a wrong password gets no ticket");
    assert!(err.refused, "not worth another try: {err}");
    assert!(
        err.message.contains(
            "refused the password (pre-authentication information was invalid (PREAUTH_FAILED))"
        ),
        "{err}"
    );
    assert!(
        !err.message.contains("wrong password"),
        "the password is never echoed: {err}"
    );
}

#[test]
fn a_service_outside_the_keytab_and_a_wrong_binding_are_refused() {
    let keys = ServiceKeys::load(&keytab()).unwrap();
    let cert = b"server certificate";
    let bindings = sec_channel_bindings(cert);
    let hash = cmdeploy_providers::transport::ntlm::keys::channel_binding_hash(cert);
    let (_, token) = ClientContext::initiate(
        &admin(&admin_password()),
        "cm01.contoso.com",
        Some(bindings.clone()),
    )
    .unwrap();
    assert!(
        keys.accept(&token, Some(hash), true).is_ok(),
        "the right binding"
    );
    let (_, token) = ClientContext::initiate(
        &admin(&admin_password()),
        "cm01.contoso.com",
        Some(bindings),
    )
    .unwrap();
    let other =
        cmdeploy_providers::transport::ntlm::keys::channel_binding_hash(b"another certificate");
    assert!(
        keys.accept(&token, Some(other), false).is_err(),
        "another channel"
    );
    let (_, token) =
        ClientContext::initiate(&admin(&admin_password()), "cm01.contoso.com", None).unwrap();
    assert!(
        keys.accept(&token, Some(hash), true).is_err(),
        "Strict needs a binding"
    );
    let (_, token) =
        ClientContext::initiate(&admin(&admin_password()), "cm01.contoso.com", None).unwrap();
    assert!(
        keys.accept(&token, Some(hash), false).is_ok(),
        "Relaxed allows none"
    );
}
