//! The three NTLM messages ([MS-NLMP] 2.2.1.1-3) and AV pairs (2.2.2.1), read with bounds
//! checks (a malformed message is an [`NtlmError::Malformed`], never a panic) and written with
//! UTF-16LE strings.

use super::{flags, NtlmError};

/// `NTLMSSP\0`, the signature every message starts with.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// The version structure cmdeploy sends (10.0 build 20348, NTLM revision 15); informational only.
pub const VERSION: [u8; 8] = [10, 0, 0x4C, 0x4F, 0, 0, 0, 15];

/// AV pair ids ([MS-NLMP] 2.2.2.1).
pub mod av {
    /// End of the list.
    pub const EOL: u16 = 0;
    /// NetBIOS computer name.
    pub const NB_COMPUTER_NAME: u16 = 1;
    /// NetBIOS domain name.
    pub const NB_DOMAIN_NAME: u16 = 2;
    /// DNS computer name.
    pub const DNS_COMPUTER_NAME: u16 = 3;
    /// DNS domain name.
    pub const DNS_DOMAIN_NAME: u16 = 4;
    /// Flags (0x2: the AUTHENTICATE message carries a MIC).
    pub const FLAGS: u16 = 6;
    /// FILETIME of the server.
    pub const TIMESTAMP: u16 = 7;
    /// The SPN the client targets.
    pub const TARGET_NAME: u16 = 9;
    /// MD5 of the channel bindings (16 bytes).
    pub const CHANNEL_BINDINGS: u16 = 10;
}

/// A NEGOTIATE message (type 1).
#[derive(Debug, Clone)]
pub struct Negotiate {
    /// The flags the client asks for.
    pub flags: u32,
}

/// A CHALLENGE message (type 2).
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The flags the server chose.
    pub flags: u32,
    /// The 8-byte server challenge.
    pub server_challenge: [u8; 8],
    /// The raw AV pairs (target information), EOL included.
    pub target_info: Vec<u8>,
}

/// An AUTHENTICATE message (type 3).
#[derive(Debug, Clone)]
pub struct Authenticate {
    /// The flags the client settled on.
    pub flags: u32,
    /// LmChallengeResponse.
    pub lm_response: Vec<u8>,
    /// NtChallengeResponse (NTProofStr followed by the client's blob).
    pub nt_response: Vec<u8>,
    /// The domain the client typed (may be empty).
    pub domain: String,
    /// The user name.
    pub user: String,
    /// The client's workstation name.
    pub workstation: String,
    /// EncryptedRandomSessionKey (empty without KEY_EXCH).
    pub encrypted_session_key: Vec<u8>,
    /// Offset of the 16-byte MIC in the raw message, when the layout has room for one.
    pub mic_offset: Option<usize>,
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, NtlmError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(NtlmError::Malformed("truncated"))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, NtlmError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(NtlmError::Malformed("truncated"))
}

/// A payload field: (length, max length, offset) at `at`, resolved to its bytes.
fn field(b: &[u8], at: usize) -> Result<&[u8], NtlmError> {
    let len = usize::from(u16_at(b, at)?);
    let offset = u32_at(b, at + 4)? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(
        offset
            ..offset
                .checked_add(len)
                .ok_or(NtlmError::Malformed("field"))?,
    )
    .ok_or(NtlmError::Malformed("field out of bounds"))
}

fn field_offset(b: &[u8], at: usize) -> Result<Option<usize>, NtlmError> {
    let len = u16_at(b, at)?;
    Ok((len > 0).then_some(u32_at(b, at + 4)? as usize))
}

fn header(b: &[u8], kind: u32) -> Result<(), NtlmError> {
    if b.get(..8) != Some(&SIGNATURE[..]) {
        return Err(NtlmError::Malformed("no NTLMSSP signature"));
    }
    if u32_at(b, 8)? != kind {
        return Err(NtlmError::Malformed("unexpected message type"));
    }
    Ok(())
}

/// UTF-16LE (with UNICODE) or 8-bit text.
fn text(bytes: &[u8], unicode: bool) -> Result<String, NtlmError> {
    if unicode {
        if !bytes.len().is_multiple_of(2) {
            return Err(NtlmError::Malformed("odd UTF-16 length"));
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16(&units).map_err(|_| NtlmError::Malformed("invalid UTF-16"))
    } else {
        Ok(bytes.iter().map(|&b| char::from(b)).collect())
    }
}

/// UTF-16LE bytes of `s`.
pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Reads a NEGOTIATE message.
///
/// # Errors
/// [`NtlmError::Malformed`].
pub fn parse_negotiate(b: &[u8]) -> Result<Negotiate, NtlmError> {
    header(b, 1)?;
    Ok(Negotiate {
        flags: u32_at(b, 12)?,
    })
}

/// Writes a NEGOTIATE message with `flags` (no domain or workstation).
pub fn negotiate(flags: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&(flags | flags::VERSION).to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m.extend_from_slice(&VERSION);
    m
}

/// Reads a CHALLENGE message.
///
/// # Errors
/// [`NtlmError::Malformed`].
pub fn parse_challenge(b: &[u8]) -> Result<Challenge, NtlmError> {
    header(b, 2)?;
    let flags = u32_at(b, 20)?;
    let server_challenge: [u8; 8] = b
        .get(24..32)
        .and_then(|s| s.try_into().ok())
        .ok_or(NtlmError::Malformed("truncated"))?;
    let target_info = if flags & flags::TARGET_INFO != 0 {
        field(b, 40)?.to_vec()
    } else {
        Vec::new()
    };
    Ok(Challenge {
        flags,
        server_challenge,
        target_info,
    })
}

/// Writes a CHALLENGE message: `flags`, the server challenge, the target name and the AV pairs
/// (as [`encode_av_pairs`] writes them).
pub fn challenge(
    flags: u32,
    server_challenge: [u8; 8],
    target_name: &str,
    target_info: &[u8],
) -> Vec<u8> {
    let name = utf16(target_name);
    let header_len = 56usize;
    let mut m = Vec::with_capacity(header_len + name.len() + target_info.len());
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&2u32.to_le_bytes());
    push_field(&mut m, name.len(), header_len);
    m.extend_from_slice(&(flags | flags::TARGET_INFO | flags::VERSION).to_le_bytes());
    m.extend_from_slice(&server_challenge);
    m.extend_from_slice(&[0; 8]);
    push_field(&mut m, target_info.len(), header_len + name.len());
    m.extend_from_slice(&VERSION);
    m.extend_from_slice(&name);
    m.extend_from_slice(target_info);
    m
}

fn push_field(m: &mut Vec<u8>, len: usize, offset: usize) {
    let len = u16::try_from(len).unwrap_or(u16::MAX);
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes());
}

/// Reads an AUTHENTICATE message.
///
/// # Errors
/// [`NtlmError::Malformed`].
pub fn parse_authenticate(b: &[u8]) -> Result<Authenticate, NtlmError> {
    header(b, 3)?;
    let flags = u32_at(b, 60)?;
    let unicode = flags & flags::UNICODE != 0;
    // The payload starts after the header; a header of 88 bytes or more has room for the
    // version (8) and the MIC (16) at offset 72 ([MS-NLMP] 2.2.1.3).
    let first_payload = [12, 20, 28, 36, 44, 52]
        .iter()
        .filter_map(|&at| field_offset(b, at).ok().flatten())
        .min()
        .unwrap_or(b.len());
    Ok(Authenticate {
        flags,
        lm_response: field(b, 12)?.to_vec(),
        nt_response: field(b, 20)?.to_vec(),
        domain: text(field(b, 28)?, unicode)?,
        user: text(field(b, 36)?, unicode)?,
        workstation: text(field(b, 44)?, unicode)?,
        encrypted_session_key: field(b, 52)?.to_vec(),
        mic_offset: (first_payload >= 88 && b.len() >= 88).then_some(72),
    })
}

/// What an AUTHENTICATE message carries.
pub struct AuthenticateFields<'a> {
    /// Negotiated flags.
    pub flags: u32,
    /// LmChallengeResponse.
    pub lm_response: &'a [u8],
    /// NtChallengeResponse.
    pub nt_response: &'a [u8],
    /// Domain.
    pub domain: &'a str,
    /// User.
    pub user: &'a str,
    /// Workstation.
    pub workstation: &'a str,
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: &'a [u8],
}

/// Writes an AUTHENTICATE message with version and a zero MIC at offset 72 (the caller fills
/// it in with [`super::keys::mic`]).
pub fn authenticate(f: &AuthenticateFields<'_>) -> Vec<u8> {
    let domain = utf16(f.domain);
    let user = utf16(f.user);
    let workstation = utf16(f.workstation);
    let parts: [&[u8]; 6] = [
        f.lm_response,
        f.nt_response,
        &domain,
        &user,
        &workstation,
        f.encrypted_session_key,
    ];
    let header_len = 88usize;
    let mut offsets = [0usize; 6];
    let mut at = header_len;
    for (i, p) in parts.iter().enumerate() {
        offsets[i] = at;
        at += p.len();
    }
    let mut m = Vec::with_capacity(at);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&3u32.to_le_bytes());
    for (p, off) in parts.iter().zip(offsets) {
        push_field(&mut m, p.len(), off);
    }
    m.extend_from_slice(&(f.flags | flags::VERSION).to_le_bytes());
    m.extend_from_slice(&VERSION);
    m.extend_from_slice(&[0; 16]);
    for p in parts {
        m.extend_from_slice(p);
    }
    m
}

/// Splits AV pairs into (id, value) up to EOL.
///
/// # Errors
/// [`NtlmError::Malformed`] when a pair runs past the end or EOL is missing.
pub fn av_pairs(mut b: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, NtlmError> {
    let mut out = Vec::new();
    loop {
        let id = u16_at(b, 0)?;
        let len = usize::from(u16_at(b, 2)?);
        if id == av::EOL {
            return Ok(out);
        }
        let value = b
            .get(4..4 + len)
            .ok_or(NtlmError::Malformed("AV pair out of bounds"))?;
        out.push((id, value.to_vec()));
        b = &b[4 + len..];
    }
}

/// Writes AV pairs followed by EOL.
pub fn encode_av_pairs(pairs: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = Vec::new();
    for (id, value) in pairs {
        m.extend_from_slice(&id.to_le_bytes());
        m.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
        m.extend_from_slice(value);
    }
    m.extend_from_slice(&[0; 4]);
    m
}
