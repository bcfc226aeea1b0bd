//! NTLMv2 ([MS-NLMP] 3.3.2): the response a client computes from its password, the check a
//! server makes with the user's NT hash, the session keys both derive (3.4.5.1) and the MIC
//! over the three messages (3.1.5.1.2).

use hmac::{Hmac, KeyInit, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{Rc4, StreamCipher};
use zeroize::Zeroizing;

use super::message::{self, av, Authenticate, AuthenticateFields, Challenge};
use super::{flags, NtlmError};

/// A 16-byte key, wiped when dropped.
pub type Key = Zeroizing<[u8; 16]>;

/// HMAC-MD5 of the concatenated `parts` under `key`.
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// MD5 of the concatenated `parts`.
pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RC4 of `data` under a fresh key schedule (RC4K in [MS-NLMP] 6).
pub fn rc4k(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut c = <Rc4 as KeyInit>::new_from_slice(key).expect("RC4 takes 1 to 256 byte keys");
    c.apply_keystream(&mut out);
    out
}

/// The NT hash: MD4 of the UTF-16LE password (what a domain controller stores).
pub fn nt_hash(password: &str) -> Key {
    let mut h = Md4::new();
    h.update(message::utf16(password));
    Zeroizing::new(h.finalize().into())
}

/// NTOWFv2: HMAC-MD5 under the NT hash of UTF-16LE(upper-case user + domain as typed).
pub fn ntowf_v2(nt_hash: &[u8; 16], user: &str, domain: &str) -> Key {
    let who = message::utf16(&format!("{}{domain}", user.to_uppercase()));
    Zeroizing::new(hmac_md5(nt_hash, &[&who]))
}

/// The MIC: HMAC-MD5 under the exported session key of the three messages (the AUTHENTICATE
/// message with its MIC field zeroed).
pub fn mic(
    exported: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
) -> [u8; 16] {
    hmac_md5(exported, &[negotiate, challenge, authenticate])
}

/// The channel-binding hash for TLS ([MS-NLMP] 2.2.2.1 MsvAvChannelBindings; RFC 5929
/// `tls-server-end-point`, SHA-256 of the server certificate): MD5 of a
/// `gss_channel_bindings_struct` with empty addresses and that application data.
pub fn channel_binding_hash(server_cert_der: &[u8]) -> [u8; 16] {
    let mut data = b"tls-server-end-point:".to_vec();
    data.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(server_cert_der));
    let len = u32::try_from(data.len()).unwrap_or(0).to_le_bytes();
    md5(&[&[0u8; 16], &len, &data])
}

/// What a client needs besides the messages to answer a CHALLENGE.
pub struct ClientInput<'a> {
    /// User name (without domain).
    pub user: &'a str,
    /// Domain as the user typed it (may be empty).
    pub domain: &'a str,
    /// Password.
    pub password: &'a str,
    /// `HTTP/<host>`, sent as MsvAvTargetName.
    pub target_name: &'a str,
    /// The TLS channel-binding hash, over HTTPS.
    pub channel_binding: Option<[u8; 16]>,
    /// 8 random bytes.
    pub client_challenge: [u8; 8],
    /// 16 random bytes (the exported session key with KEY_EXCH).
    pub random_session_key: [u8; 16],
    /// Now, as a FILETIME (100 ns since 1601), used when the server sent no timestamp.
    pub now_filetime: u64,
}

/// The client's answer: the AUTHENTICATE message (MIC included), the negotiated flags and the
/// exported session key for sealing.
pub struct ClientAuth {
    /// The AUTHENTICATE message.
    pub message: Vec<u8>,
    /// Flags of the established context.
    pub flags: u32,
    /// The exported session key.
    pub exported: Key,
}

/// Answers a CHALLENGE ([MS-NLMP] 3.1.5.1.2): NTLMv2 response with the server's AV pairs plus
/// MsvAvFlags (MIC present), the channel binding and the target name, key exchange when the
/// server offers it, and the MIC.
///
/// # Errors
/// [`NtlmError::Unsupported`] when the server does not offer 128-bit extended session security.
pub fn client_authenticate(
    negotiate_raw: &[u8],
    challenge_raw: &[u8],
    challenge: &Challenge,
    input: &ClientInput<'_>,
) -> Result<ClientAuth, NtlmError> {
    let f = challenge.flags;
    if f & flags::EXTENDED_SESSIONSECURITY == 0 || f & flags::NEGOTIATE_128 == 0 {
        return Err(NtlmError::Unsupported("128-bit extended session security"));
    }
    let server_pairs = message::av_pairs(&challenge.target_info)?;
    let timestamp = server_pairs
        .iter()
        .find(|(id, v)| *id == av::TIMESTAMP && v.len() == 8)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| input.now_filetime.to_le_bytes().to_vec());
    let mut pairs: Vec<(u16, Vec<u8>)> = server_pairs
        .into_iter()
        .filter(|(id, _)| *id != av::FLAGS && *id != av::CHANNEL_BINDINGS && *id != av::TARGET_NAME)
        .collect();
    pairs.push((av::FLAGS, 2u32.to_le_bytes().to_vec()));
    pairs.push((
        av::CHANNEL_BINDINGS,
        input.channel_binding.unwrap_or([0; 16]).to_vec(),
    ));
    pairs.push((av::TARGET_NAME, message::utf16(input.target_name)));
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&timestamp);
    blob.extend_from_slice(&input.client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&message::encode_av_pairs(&pairs));
    blob.extend_from_slice(&[0; 4]);
    let nt = nt_hash(input.password);
    let key = ntowf_v2(&nt, input.user, input.domain);
    let proof = hmac_md5(&key[..], &[&challenge.server_challenge, &blob]);
    let mut nt_response = proof.to_vec();
    nt_response.extend_from_slice(&blob);
    let session_base = Zeroizing::new(hmac_md5(&key[..], &[&proof]));
    let key_exch = f & flags::KEY_EXCH != 0;
    let (exported, encrypted) = if key_exch {
        (
            Zeroizing::new(input.random_session_key),
            rc4k(&session_base[..], &input.random_session_key),
        )
    } else {
        (session_base.clone(), Vec::new())
    };
    let negotiated = f & !(flags::TARGET_INFO | flags::TARGET_TYPE_DOMAIN);
    let mut message = message::authenticate(&AuthenticateFields {
        flags: negotiated,
        // A timestamp AV pair means Z(24) instead of an LMv2 response ([MS-NLMP] 3.1.5.1.2).
        lm_response: &[0; 24],
        nt_response: &nt_response,
        domain: input.domain,
        user: input.user,
        workstation: "",
        encrypted_session_key: &encrypted,
    });
    let code = mic(&exported, negotiate_raw, challenge_raw, &message);
    message[72..88].copy_from_slice(&code);
    Ok(ClientAuth {
        message,
        flags: negotiated,
        exported,
    })
}

/// How a server checks the channel binding of an AUTHENTICATE message (`CbtHardeningLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingCheck {
    /// No TLS channel (HTTP), or None: not checked.
    Off,
    /// Relaxed (Windows' default): checked against this hash if the client sent one.
    Relaxed([u8; 16]),
    /// Strict: the client must send this hash.
    Strict([u8; 16]),
}

/// A server's check of an AUTHENTICATE message ([MS-NLMP] 3.2.5.1.2) against the user's NT
/// hash: NTProofStr, then the MIC when the client says it sent one, then the channel binding
/// as `binding` says. Returns the exported session key.
///
/// # Errors
/// [`NtlmError::BadProof`], [`NtlmError::BadMic`], [`NtlmError::BadChannelBinding`],
/// [`NtlmError::Malformed`], [`NtlmError::Unsupported`] (no NTLMv2 response).
pub fn server_verify(
    negotiate_raw: &[u8],
    challenge_raw: &[u8],
    challenge: &Challenge,
    auth_raw: &[u8],
    auth: &Authenticate,
    nt_hash: &[u8; 16],
    binding: BindingCheck,
) -> Result<Key, NtlmError> {
    if auth.nt_response.len() < 16 + 28 {
        return Err(NtlmError::Unsupported("an NTLMv2 response"));
    }
    let (proof, blob) = auth.nt_response.split_at(16);
    let key = ntowf_v2(nt_hash, &auth.user, &auth.domain);
    let expected = hmac_md5(&key[..], &[&challenge.server_challenge, blob]);
    if !same(&expected, proof) {
        return Err(NtlmError::BadProof);
    }
    let session_base = Zeroizing::new(hmac_md5(&key[..], &[proof]));
    let exported = if auth.flags & flags::KEY_EXCH != 0 {
        if auth.encrypted_session_key.len() != 16 {
            return Err(NtlmError::Malformed("encrypted session key"));
        }
        let k = rc4k(&session_base[..], &auth.encrypted_session_key);
        let mut out = Zeroizing::new([0u8; 16]);
        out.copy_from_slice(&k);
        out
    } else {
        session_base
    };
    // The client's AV pairs follow the 28-byte blob header.
    let pairs = message::av_pairs(blob.get(28..).ok_or(NtlmError::Malformed("blob"))?)?;
    let mic_sent = pairs
        .iter()
        .any(|(id, v)| *id == av::FLAGS && v.len() == 4 && v[0] & 0x2 != 0);
    if mic_sent {
        let at = auth.mic_offset.ok_or(NtlmError::BadMic)?;
        let mut zeroed = auth_raw.to_vec();
        let sent = zeroed.get(at..at + 16).ok_or(NtlmError::BadMic)?.to_vec();
        zeroed[at..at + 16].fill(0);
        if !same(
            &mic(&exported, negotiate_raw, challenge_raw, &zeroed),
            &sent,
        ) {
            return Err(NtlmError::BadMic);
        }
    }
    let (expected, required) = match binding {
        BindingCheck::Off => (None, false),
        BindingCheck::Relaxed(h) => (Some(h), false),
        BindingCheck::Strict(h) => (Some(h), true),
    };
    if let Some(want) = expected {
        let sent = pairs
            .iter()
            .find(|(id, _)| *id == av::CHANNEL_BINDINGS)
            .map(|(_, v)| v.as_slice());
        match sent.filter(|v| v.iter().any(|&b| b != 0)) {
            Some(sent) if !same(&want, sent) => return Err(NtlmError::BadChannelBinding),
            None if required => return Err(NtlmError::BadChannelBinding),
            _ => {}
        }
    }
    Ok(exported)
}

/// Constant-time equality.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
