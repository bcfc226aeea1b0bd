//! NTLMv2 with session security, as WinRM uses it under the HTTP scheme `Negotiate`, for both
//! sides: the `winrm` transport's relay authenticates as a client, `cmdeploy lab serve` verifies
//! as a server.
//!
//! Source: [MS-NLMP] (learn.microsoft.com/openspecs/windows_protocols/ms-nlmp): messages §2.2.1,
//! AV pairs §2.2.2.1, NTLMv2 §3.3.2, key exchange §3.4.5, session security (sign and seal with
//! extended session security) §3.4.4.2 and §3.4.5.1-3; the WinRM framing of sealed messages is
//! [MS-WSMV] 2.2.9.1 ([`wsmv`]).
//!
//! The crypto primitives come from RustCrypto (`md4`, `md-5`, `hmac`, `rc4`); the message layout
//! and the key schedule are written here, and checked against the worked example of
//! [MS-NLMP] §4.2.4 in the tests. Passwords and keys live in memory only and are never printed.
//!
//! * [`message`] reads and writes the NEGOTIATE, CHALLENGE and AUTHENTICATE messages;
//! * [`keys`] computes the NTLMv2 response, the session keys and the MIC;
//! * [`seal`] signs and seals messages once the context is established;
//! * [`wsmv`] wraps a sealed SOAP body as `multipart/encrypted` and back.

pub mod handshake;
pub mod keys;
pub mod message;
pub mod seal;
pub mod wsmv;

#[cfg(test)]
mod tests;

/// Negotiate flags ([MS-NLMP] 2.2.2.5) cmdeploy uses or checks.
pub mod flags {
    /// Strings are UTF-16LE.
    pub const UNICODE: u32 = 0x0000_0001;
    /// The server should send its target name.
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// Message integrity.
    pub const SIGN: u32 = 0x0000_0010;
    /// Message confidentiality.
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLM authentication.
    pub const NTLM: u32 = 0x0000_0200;
    /// Always sign.
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// The target is a domain.
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    /// NTLM2 (extended) session security.
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    /// The CHALLENGE carries target information (AV pairs).
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// A version structure is present.
    pub const VERSION: u32 = 0x0200_0000;
    /// 128-bit session keys.
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    /// An encrypted random session key is exchanged.
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// 56-bit session keys.
    pub const NEGOTIATE_56: u32 = 0x8000_0000;

    /// What cmdeploy's client asks for in NEGOTIATE: NTLMv2 with extended session security,
    /// signing and 128-bit sealing with key exchange, as message encryption (MS-WSMV 2.2.9.1)
    /// needs.
    pub const CLIENT: u32 = UNICODE
        | REQUEST_TARGET
        | SIGN
        | SEAL
        | NTLM
        | ALWAYS_SIGN
        | EXTENDED_SESSIONSECURITY
        | NEGOTIATE_128
        | KEY_EXCH
        | NEGOTIATE_56;
}

/// Why an NTLM message or sealed body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtlmError {
    /// The bytes are not the expected NTLM message.
    #[error("malformed NTLM message: {0}")]
    Malformed(&'static str),
    /// The user is unknown or the proof does not match the password.
    #[error("the NTLMv2 response does not match the user's password")]
    BadProof,
    /// The MIC over the three messages does not match.
    #[error("the NTLM message integrity code does not match")]
    BadMic,
    /// The channel binding does not match the TLS channel.
    #[error("the NTLM channel binding does not match the TLS channel")]
    BadChannelBinding,
    /// The flags lack what the peer requires (128-bit keys, extended session security, sealing).
    #[error("NTLM negotiation lacks {0}")]
    Unsupported(&'static str),
    /// A sealed message's signature does not verify (tampered, or out of sequence).
    #[error("the NTLM signature of a sealed message does not verify")]
    BadSignature,
}
