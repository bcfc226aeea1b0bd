//! Session security of an established NTLM context ([MS-NLMP] 3.4.4.2 and 3.4.5.2-3, extended
//! session security with 128-bit keys): each direction has its own signing key, its own RC4
//! stream (kept across messages, not reset) and its own sequence number from 0.

use rc4::{KeyInit, Rc4, StreamCipher};

use super::keys::{hmac_md5, md5, same, Key};
use super::{flags, NtlmError};

const CLIENT_SIGN: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGN: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL: &[u8] = b"session key to server-to-client sealing key magic constant\0";

/// Which end of the context this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The initiator (sends with the client-to-server keys).
    Client,
    /// The acceptor (sends with the server-to-client keys).
    Server,
}

struct Direction {
    sign: Key,
    rc4: Rc4,
    seq: u32,
}

impl Direction {
    fn new(exported: &[u8; 16], sign: &[u8], seal: &[u8]) -> Direction {
        let seal_key = zeroize::Zeroizing::new(md5(&[exported, seal]));
        Direction {
            sign: zeroize::Zeroizing::new(md5(&[exported, sign])),
            rc4: <Rc4 as KeyInit>::new_from_slice(&seal_key[..]).expect("16-byte RC4 key"),
            seq: 0,
        }
    }

    /// The 8-byte checksum of `plain` at the current sequence number, RC4-encrypted with the
    /// direction's stream when keys were exchanged.
    fn checksum(&mut self, plain: &[u8], key_exch: bool) -> [u8; 8] {
        let mac = hmac_md5(&self.sign[..], &[&self.seq.to_le_bytes(), plain]);
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&mac[..8]);
        if key_exch {
            self.rc4.apply_keystream(&mut sum);
        }
        sum
    }
}

/// A sealing context.
pub struct Session {
    send: Direction,
    recv: Direction,
    key_exch: bool,
}

impl Session {
    /// A session from the exported key and the negotiated flags, for `role`.
    ///
    /// # Errors
    /// [`NtlmError::Unsupported`] without 128-bit extended session security and sealing.
    pub fn new(exported: &[u8; 16], negotiated: u32, role: Role) -> Result<Session, NtlmError> {
        for (flag, what) in [
            (flags::EXTENDED_SESSIONSECURITY, "extended session security"),
            (flags::NEGOTIATE_128, "128-bit keys"),
            (flags::SEAL, "sealing"),
        ] {
            if negotiated & flag == 0 {
                return Err(NtlmError::Unsupported(what));
            }
        }
        let client = Direction::new(exported, CLIENT_SIGN, CLIENT_SEAL);
        let server = Direction::new(exported, SERVER_SIGN, SERVER_SEAL);
        let (send, recv) = match role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        Ok(Session {
            send,
            recv,
            key_exch: negotiated & flags::KEY_EXCH != 0,
        })
    }

    /// Seals `plain`: returns the 16-byte signature and the ciphertext (same length).
    pub fn seal(&mut self, plain: &[u8]) -> ([u8; 16], Vec<u8>) {
        let mut data = plain.to_vec();
        self.send.rc4.apply_keystream(&mut data);
        let sum = self.send.checksum(plain, self.key_exch);
        let mut sig = [0u8; 16];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[4..12].copy_from_slice(&sum);
        sig[12..].copy_from_slice(&self.send.seq.to_le_bytes());
        self.send.seq = self.send.seq.wrapping_add(1);
        (sig, data)
    }

    /// Unseals a message: decrypts, then checks the signature and the sequence number.
    ///
    /// # Errors
    /// [`NtlmError::BadSignature`].
    pub fn unseal(&mut self, signature: &[u8], cipher: &[u8]) -> Result<Vec<u8>, NtlmError> {
        if signature.len() != 16 {
            return Err(NtlmError::BadSignature);
        }
        let mut plain = cipher.to_vec();
        self.recv.rc4.apply_keystream(&mut plain);
        let sum = self.recv.checksum(&plain, self.key_exch);
        let ok = same(&signature[..4], &1u32.to_le_bytes())
            && same(&signature[4..12], &sum)
            && same(&signature[12..], &self.recv.seq.to_le_bytes());
        self.recv.seq = self.recv.seq.wrapping_add(1);
        if ok {
            Ok(plain)
        } else {
            Err(NtlmError::BadSignature)
        }
    }
}
