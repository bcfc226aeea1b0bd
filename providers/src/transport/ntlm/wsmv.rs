//! MS-WSMV 2.2.9.1 message encryption over HTTP: a sealed SOAP body travels as
//! `multipart/encrypted` with two parts, the original content type and length, then a 32-bit
//! little-endian signature length, the signature (the NTLM signature, or the header of the
//! Kerberos wrap token, RFC 4121 §4.2.6.2) and the ciphertext. The end boundary follows the
//! ciphertext directly, as Windows writes it (pywinrm `winrm/encryption.py` `_decrypt_response`
//! strips exactly `--Encrypted Boundary--\r\n` after the data).
//!
//! [`frame`] and [`parse`] do the framing for any mechanism; [`wrap`] and [`unwrap`] seal with
//! NTLM keys ([`crate::transport::kerberos`] seals with a Kerberos context).

use super::seal::Session;
use super::NtlmError;

/// The protocol of a body sealed under `Negotiate` (NTLM or SPNEGO).
pub const SPNEGO: &str = "application/HTTP-SPNEGO-session-encrypted";
/// The protocol of a body sealed under `Kerberos` ([MS-WSMV] 2.2.9.1.2).
pub const KERBEROS: &str = "application/HTTP-Kerberos-session-encrypted";
/// The Content-Type of an encrypted request or response under `Negotiate`.
pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
/// The Content-Type of an encrypted request or response under `Kerberos`.
pub const KERBEROS_CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-Kerberos-session-encrypted\";boundary=\"Encrypted Boundary\"";
const BOUNDARY: &[u8] = b"--Encrypted Boundary";
const OCTETS: &[u8] = b"\tContent-Type: application/octet-stream\r\n";

/// Whether a Content-Type header says the body is encrypted (SPNEGO or Kerberos).
pub fn is_encrypted(content_type: &str) -> bool {
    encrypted_protocol(content_type).is_some()
}

/// The protocol ([`SPNEGO`] or [`KERBEROS`]) of an encrypted Content-Type, if it is one.
pub fn encrypted_protocol(content_type: &str) -> Option<&'static str> {
    let c = content_type.to_ascii_lowercase();
    if !c.starts_with("multipart/encrypted") {
        return None;
    }
    if c.contains("application/http-spnego-session-encrypted") {
        Some(SPNEGO)
    } else if c.contains("application/http-kerberos-session-encrypted") {
        Some(KERBEROS)
    } else {
        None
    }
}

/// Frames a sealed body: `plain_len` is the length of the SOAP document before sealing,
/// `signature` and `cipher` what the mechanism produced.
pub fn frame(protocol: &str, plain_len: usize, signature: &[u8], cipher: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cipher.len() + signature.len() + 256);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(format!("\r\n\tContent-Type: {protocol}\r\n").as_bytes());
    out.extend_from_slice(
        format!(
            "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={plain_len}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(OCTETS);
    out.extend_from_slice(&u32::try_from(signature.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(signature);
    out.extend_from_slice(cipher);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"--\r\n");
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A framed body taken apart: the signature and exactly the original length of ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The mechanism's signature (NTLM) or wrap-token header (Kerberos).
    pub signature: &'a [u8],
    /// The ciphertext, as long as the original content.
    pub cipher: &'a [u8],
}

/// Reads a `multipart/encrypted` body: the original length, the signature (at most 1 KiB) and
/// exactly that many bytes of ciphertext.
///
/// # Errors
/// [`NtlmError::Malformed`] for a body of another shape.
pub fn parse(body: &[u8]) -> Result<Framed<'_>, NtlmError> {
    let bad = NtlmError::Malformed("not an MS-WSMV encrypted body");
    let at = find(body, b"Length=").ok_or(bad.clone())? + 7;
    let digits: Vec<u8> = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    let length: usize = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or(bad.clone())?;
    let data = find(&body[at..], OCTETS).ok_or(bad.clone())? + at + OCTETS.len();
    let sig_len = body
        .get(data..data + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(bad.clone())?;
    if sig_len == 0 || sig_len > 1024 {
        return Err(bad);
    }
    let start = data + 4;
    let signature = body.get(start..start + sig_len).ok_or(bad.clone())?;
    let from = start + sig_len;
    let cipher = body
        .get(from..from.checked_add(length).ok_or(bad.clone())?)
        .ok_or(bad)?;
    Ok(Framed { signature, cipher })
}

/// Seals `plain` (a SOAP document, UTF-8) with NTLM keys into a `multipart/encrypted` body.
pub fn wrap(session: &mut Session, plain: &[u8]) -> Vec<u8> {
    let (sig, cipher) = session.seal(plain);
    frame(SPNEGO, plain.len(), &sig, &cipher)
}

/// Opens a `multipart/encrypted` body sealed with NTLM (a 16-byte signature).
///
/// # Errors
/// [`NtlmError::Malformed`] for a body of another shape, [`NtlmError::BadSignature`].
pub fn unwrap(session: &mut Session, body: &[u8]) -> Result<Vec<u8>, NtlmError> {
    let framed = parse(body)?;
    if framed.signature.len() != 16 {
        return Err(NtlmError::Malformed("not an MS-WSMV encrypted body"));
    }
    session.unseal(framed.signature, framed.cipher)
}
