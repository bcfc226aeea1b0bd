//! SPNEGO (RFC 4178) around Kerberos under the HTTP scheme `Negotiate`, as Windows clients and
//! pyspnego send it: the first token is a `NegTokenInit` (GSS-API framing with the SPNEGO OID
//! 1.3.6.1.5.5.2) listing the initiator's mechanisms, its preferred one first, with that
//! mechanism's token optimistically inside. When the preferred mechanism is Kerberos (the
//! standard OID 1.2.840.113554.1.2.2, or Microsoft's 1.2.840.48018.1.2.2), the acceptor takes its
//! AP-REQ and answers one `NegTokenResp` — accept-completed, the mechanism, the AP-REP. The
//! mechanism list MIC may be left out when the initiator's first choice was taken (RFC 4178
//! §5 (a)). NTLM inside SPNEGO is not unwrapped (`lab serve` takes raw NTLM under `Negotiate`).

use oid::ObjectIdentifier;
use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ObjectIdentifierAsn1, OctetStringAsn1, Optional,
};
use picky_asn1_der::Asn1RawDer;
use picky_krb::gss_api::{
    ApplicationTag0, GssApiNegInit, NegTokenInit, NegTokenTarg, NegTokenTarg1,
};

const SPNEGO: &str = "1.3.6.1.5.5.2";
const KRB5: &str = "1.2.840.113554.1.2.2";
const MS_KRB5: &str = "1.2.840.48018.1.2.2";
/// `negState accept-completed` (ENUMERATED 0).
const ACCEPT_COMPLETED: [u8; 3] = [0x0a, 0x01, 0x00];

fn oid(text: &str) -> Option<ObjectIdentifierAsn1> {
    ObjectIdentifier::try_from(text)
        .ok()
        .map(ObjectIdentifierAsn1::from)
}

/// Whether a token is a GSS-API initial context token of SPNEGO: tag 0x60, a DER length, then
/// the SPNEGO OID (RFC 2743 §3.1).
fn is_spnego(token: &[u8]) -> bool {
    const OID: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    if token.first() != Some(&0x60) {
        return false;
    }
    let at = match token.get(1) {
        Some(&n) if n < 0x80 => 2,
        Some(&n) if (0x81..=0x84).contains(&n) => 2 + usize::from(n & 0x7f),
        _ => return false,
    };
    token.get(at..at + OID.len()) == Some(OID)
}

/// The Kerberos token of a `NegTokenInit` whose preferred mechanism is Kerberos, and that
/// mechanism (to name in the answer); `None` for anything else.
pub fn kerberos_mech_token(token: &[u8]) -> Option<(Vec<u8>, ObjectIdentifierAsn1)> {
    if !is_spnego(token) {
        return None;
    }
    // picky-krb's `ApplicationTag0` unwraps the inner decoding: a malformed token would panic
    // the connection's task, so the parse is fenced.
    let init: ApplicationTag0<GssApiNegInit> = std::panic::catch_unwind(|| {
        picky_asn1_der::from_bytes::<ApplicationTag0<GssApiNegInit>>(token).ok()
    })
    .ok()
    .flatten()?;
    if init.0.oid != oid(SPNEGO)? {
        return None;
    }
    let init = init.0.neg_token_init.0;
    let preferred = init.mech_types.0.as_ref()?.0 .0.first()?.clone();
    if preferred != oid(KRB5)? && preferred != oid(MS_KRB5)? {
        return None;
    }
    let token = init.mech_token.0?.0 .0;
    Some((token, preferred))
}

/// The `NegTokenResp` that completes the context: accept-completed, `mech`, the AP-REP.
pub fn accept_completed(mech: ObjectIdentifierAsn1, response: Vec<u8>) -> Vec<u8> {
    let answer = NegTokenTarg1::from(NegTokenTarg {
        neg_result: Optional::from(Some(ExplicitContextTag0::from(Asn1RawDer(
            ACCEPT_COMPLETED.to_vec(),
        )))),
        supported_mech: Optional::from(Some(ExplicitContextTag1::from(mech))),
        response_token: Optional::from(Some(ExplicitContextTag2::from(OctetStringAsn1::from(
            response,
        )))),
        mech_list_mic: Optional::from(None),
    });
    picky_asn1_der::to_vec(&answer).unwrap_or_default()
}

/// A `NegTokenInit` offering Kerberos with `mech_token` inside (what an initiator sends).
pub fn init(mech_token: Vec<u8>) -> Option<Vec<u8>> {
    let init = ApplicationTag0(GssApiNegInit {
        oid: oid(SPNEGO)?,
        neg_token_init: ExplicitContextTag0::from(NegTokenInit {
            mech_types: Optional::from(Some(ExplicitContextTag0::from(Asn1SequenceOf::from(
                vec![oid(MS_KRB5)?, oid(KRB5)?],
            )))),
            req_flags: Optional::from(None),
            mech_token: Optional::from(Some(ExplicitContextTag2::from(OctetStringAsn1::from(
                mech_token,
            )))),
            mech_list_mic: Optional::from(None),
        }),
    });
    picky_asn1_der::to_vec(&init).ok()
}

/// The mechanism's token of a `NegTokenResp` (what an initiator reads from the answer).
pub fn response_token(token: &[u8]) -> Option<Vec<u8>> {
    let answer: NegTokenTarg1 =
        std::panic::catch_unwind(|| picky_asn1_der::from_bytes::<NegTokenTarg1>(token).ok())
            .ok()
            .flatten()?;
    Some(answer.0.response_token.0?.0 .0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kerberos_negtokeninit_round_trips_and_other_tokens_are_not_kerberos() {
        let inner = vec![0x60, 0x01, 0x02];
        let token = init(inner.clone()).unwrap();
        let (got, mech) = kerberos_mech_token(&token).unwrap();
        assert_eq!(got, inner);
        assert_eq!(mech, oid(MS_KRB5).unwrap());
        let answer = accept_completed(mech, vec![9, 9]);
        assert_eq!(response_token(&answer).unwrap(), vec![9, 9]);
        assert!(kerberos_mech_token(b"NTLMSSP\0\x01\0\0\0").is_none());
        assert!(kerberos_mech_token(&[]).is_none());
    }

    proptest::proptest! {
        /// Nothing a client sends panics the parse: garbage after a valid SPNEGO prefix, a
        /// truncated NegTokenInit, any bytes at all.
        #[test]
        fn no_token_panics(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
                           cut in 0usize..200) {
            let mut spnego_prefix = vec![0x60, 0x40, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
            spnego_prefix.extend_from_slice(&tail);
            let _ = kerberos_mech_token(&spnego_prefix);
            let full = init(tail.clone()).unwrap();
            let _ = kerberos_mech_token(&full[..cut.min(full.len())]);
            let _ = kerberos_mech_token(&tail);
            let _ = response_token(&tail);
        }
    }
}
