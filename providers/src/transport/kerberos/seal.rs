//! Sealing SOAP bodies with an established Kerberos context: the wrap token's header part goes
//! where MS-WSMV 2.2.9.1 puts the signature, the ciphertext after it, framed as
//! `application/HTTP-Kerberos-session-encrypted` ([`crate::transport::ntlm::wsmv`]).

use sspi::{EncryptionFlags, SecurityBufferRef, Sspi};

use crate::transport::ntlm::wsmv;

/// Seals `plain` into a `multipart/encrypted` body.
///
/// # Errors
/// The context is not established.
pub fn wrap(ctx: &mut impl Sspi, plain: &[u8]) -> Result<Vec<u8>, String> {
    let mut token = vec![0u8; 1024];
    let mut data = plain.to_vec();
    let mut message = [
        SecurityBufferRef::token_buf(token.as_mut_slice()),
        SecurityBufferRef::data_buf(data.as_mut_slice()),
    ];
    ctx.encrypt_message(EncryptionFlags::empty(), &mut message)
        .map_err(|e| format!("Kerberos sealing: {}", e.description))?;
    Ok(wsmv::frame(
        wsmv::KERBEROS,
        message[1].data().len(),
        message[0].data(),
        message[1].data(),
    ))
}

/// Opens a `multipart/encrypted` body sealed with Kerberos.
///
/// # Errors
/// A body of another shape, or one that does not verify (tampered, replayed, another key).
pub fn unwrap(ctx: &mut impl Sspi, body: &[u8]) -> Result<Vec<u8>, String> {
    let framed = wsmv::parse(body).map_err(|e| e.to_string())?;
    let mut token = framed.signature.to_vec();
    let mut data = framed.cipher.to_vec();
    let mut message = [
        SecurityBufferRef::token_buf(token.as_mut_slice()),
        SecurityBufferRef::data_buf(data.as_mut_slice()),
    ];
    ctx.decrypt_message(&mut message)
        .map_err(|e| format!("a Kerberos-sealed body does not verify: {}", e.description))?;
    Ok(message[1].data().to_vec())
}
