//! MS-WSMV 2.2.9.1 message encryption over HTTP: a sealed SOAP body travels as
//! `multipart/encrypted` with two parts, the original content type and length, then a 32-bit
//! little-endian signature length, the NTLM signature and the ciphertext. The end boundary
//! follows the ciphertext directly, as Windows writes it (pywinrm `winrm/encryption.py`
//! `_decrypt_response` strips exactly `--Encrypted Boundary--\r\n` after the data).

use super::seal::Session;
use super::NtlmError;

/// The Content-Type of an encrypted request or response.
pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
const BOUNDARY: &[u8] = b"--Encrypted Boundary";
const OCTETS: &[u8] = b"\tContent-Type: application/octet-stream\r\n";

/// Whether a Content-Type header says the body is SPNEGO-encrypted.
pub fn is_encrypted(content_type: &str) -> bool {
    let c = content_type.to_ascii_lowercase();
    c.starts_with("multipart/encrypted") && c.contains("application/http-spnego-session-encrypted")
}

/// Seals `plain` (a SOAP document, UTF-8) into a `multipart/encrypted` body.
pub fn wrap(session: &mut Session, plain: &[u8]) -> Vec<u8> {
    let (sig, cipher) = session.seal(plain);
    let mut out = Vec::with_capacity(plain.len() + 256);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n");
    out.extend_from_slice(
        format!(
            "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={}\r\n",
            plain.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(OCTETS);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&sig);
    out.extend_from_slice(&cipher);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"--\r\n");
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Opens a `multipart/encrypted` body: reads the original length, the signature and exactly
/// that many bytes of ciphertext, and unseals them.
///
/// # Errors
/// [`NtlmError::Malformed`] for a body of another shape, [`NtlmError::BadSignature`].
pub fn unwrap(session: &mut Session, body: &[u8]) -> Result<Vec<u8>, NtlmError> {
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
    if sig_len != 16 {
        return Err(bad);
    }
    let sig = body.get(data + 4..data + 20).ok_or(bad.clone())?;
    let cipher = body
        .get(data + 20..(data + 20).checked_add(length).ok_or(bad.clone())?)
        .ok_or(bad)?;
    session.unseal(sig, cipher)
}
