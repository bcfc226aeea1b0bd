//! Secret references (`{ env = "VAR" }`, `{ file = "path" }`), secret values that never print,
//! and keyed fingerprints, the only trace of a secret that state ever holds.

use std::fmt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Where a secret comes from. Manifests never hold secret values, only these references.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(untagged, deny_unknown_fields)]
pub enum SecretRef {
    /// An environment variable, e.g. `{ env = "CM_PUSH_PASSWORD" }` (the CI system's secret store).
    Env {
        /// Variable name.
        env: String,
    },
    /// A file whose content (without a trailing newline) is the secret, e.g.
    /// `{ file = "lab-secrets/push.txt" }`; relative paths are relative to the project directory.
    File {
        /// Path to the file.
        file: PathBuf,
    },
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env { env } => write!(f, "environment variable {env}"),
            SecretRef::File { file } => write!(f, "file {}", file.display()),
        }
    }
}

/// Why a secret could not be read. The message names the reference, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("secret environment variable {0} is not set")]
    MissingEnv(String),
    /// The file could not be read.
    #[error("secret file {path} cannot be read: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl SecretRef {
    /// Reads the secret.
    ///
    /// # Errors
    /// [`SecretError`] when the variable is unset or the file unreadable.
    pub fn resolve(&self, project_dir: &Path) -> Result<SecretValue, SecretError> {
        match self {
            SecretRef::Env { env } => std::env::var(env)
                .map(SecretValue::new)
                .map_err(|_| SecretError::MissingEnv(env.clone())),
            SecretRef::File { file } => {
                let path = project_dir.join(file);
                let text = crate::input::read_text(&path, crate::input::MAX_SECRET_FILE_BYTES)
                    .map_err(|source| SecretError::File {
                        path: path.clone(),
                        source,
                    })?;
                Ok(SecretValue::new(
                    text.trim_end_matches(['\r', '\n']).to_string(),
                ))
            }
        }
    }
}

/// A secret in memory. `Debug` and `Display` print `(sensitive)`; the bytes are zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        SecretValue(value)
    }

    /// The secret itself. Call only where it is handed to a transport.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters (for rules such as the 38-character push password limit).
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        // SAFETY-free zeroing: overwrite the buffer in place before it is freed.
        let bytes = unsafe { self.0.as_bytes_mut() };
        for b in bytes.iter_mut() {
            // write_volatile keeps the compiler from eliding the wipe.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// The key for secret fingerprints: at least [`FingerprintKey::MIN_BYTES`] bytes (256 bits), from
/// `CMDEPLOY_FINGERPRINT_KEY` (hex) or from `.cmdeploy/fingerprint.key` (hex), which is created
/// with 32 random bytes and mode 0600 on first use. The key is not in state, so a leaked state
/// file does not allow guessing secrets offline; a short or empty key would (an HMAC with an empty
/// key is a plain hash), so such keys are refused, never padded or replaced.
#[derive(Clone)]
pub struct FingerprintKey(Vec<u8>);

/// Why a fingerprint key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is not hex, or shorter than 256 bits (an empty `CMDEPLOY_FINGERPRINT_KEY`, as CI
    /// sets for a missing secret, lands here).
    #[error(
        "{source_name}: {problem}; use 64 hex digits (256 bits), e.g. from `openssl rand -hex 32`"
    )]
    Invalid {
        /// `CMDEPLOY_FINGERPRINT_KEY` or the key file's path.
        source_name: String,
        /// What is wrong (never the key itself).
        problem: String,
    },
    /// The key file could not be read or created.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl FingerprintKey {
    /// The shortest key accepted: 32 bytes (256 bits), HMAC-SHA-256's block-size-independent
    /// recommendation (RFC 2104 §3: keys shorter than the hash output are "strongly
    /// discouraged").
    pub const MIN_BYTES: usize = 32;

    /// Loads or creates the key for a project's `.cmdeploy` directory.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] for a key that is not hex or shorter than 256 bits (from the
    /// variable or the file; a bad file is never overwritten), [`KeyError::Io`] when the file
    /// cannot be read or created.
    pub fn load_or_create(work_dir: &Path) -> Result<FingerprintKey, KeyError> {
        if let Some(hexkey) = std::env::var_os("CMDEPLOY_FINGERPRINT_KEY") {
            let hexkey = hexkey.to_string_lossy();
            return Self::parse("CMDEPLOY_FINGERPRINT_KEY", &hexkey);
        }
        let path = work_dir.join("fingerprint.key");
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => return Self::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        std::fs::create_dir_all(work_dir).map_err(io)?;
        let key: [u8; 32] = rand::random();
        crate::atomic_file::write_private(&path, hex::encode(key).as_bytes()).map_err(io)?;
        Ok(FingerprintKey(key.to_vec()))
    }

    /// Parses a hex key (surrounding whitespace ignored) named `source_name` in errors.
    ///
    /// # Errors
    /// [`KeyError::Invalid`]: not hex, or shorter than [`Self::MIN_BYTES`].
    pub fn parse(source_name: &str, text: &str) -> Result<FingerprintKey, KeyError> {
        let invalid = |problem: String| KeyError::Invalid {
            source_name: source_name.to_string(),
            problem,
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("the fingerprint key is empty".into()));
        }
        let key = hex::decode(text).map_err(|e| invalid(format!("the key is not hex ({e})")))?;
        if key.len() < Self::MIN_BYTES {
            return Err(invalid(format!(
                "the key has {} bits; at least {} are needed",
                key.len() * 8,
                Self::MIN_BYTES * 8
            )));
        }
        Ok(FingerprintKey(key))
    }

    /// A fixed key, for tests.
    pub fn fixed(bytes: &[u8]) -> FingerprintKey {
        FingerprintKey(bytes.to_vec())
    }

    /// `hmac-sha256:<hex>` of the secret, bound to the resource address and attribute so equal
    /// passwords on two accounts give different fingerprints.
    pub fn fingerprint(&self, address: &str, attribute: &str, secret: &SecretValue) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(address.as_bytes());
        mac.update(&[0]);
        mac.update(attribute.as_bytes());
        mac.update(&[0]);
        mac.update(secret.expose().as_bytes());
        format!(
            "hmac-sha256:{}",
            hex::encode(&mac.finalize().into_bytes()[..16])
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_never_print() {
        let s = SecretValue::new("canary-123".into());
        assert_eq!(format!("{s:?} {s}"), "(sensitive) (sensitive)");
    }

    #[test]
    fn short_empty_or_non_hex_keys_are_refused() {
        for bad in ["", "   ", "00", &"ab".repeat(31), "zz".repeat(32).as_str()] {
            assert!(
                matches!(
                    FingerprintKey::parse("k", bad),
                    Err(KeyError::Invalid { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert!(FingerprintKey::parse("k", &format!(" {}\n", "ab".repeat(32))).is_ok());
    }

    #[test]
    fn a_new_key_file_is_private_and_a_bad_one_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = FingerprintKey::load_or_create(dir.path()).unwrap();
        let path = dir.path().join("fingerprint.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "fingerprint.key is {mode:o}");
        }
        let again = FingerprintKey::load_or_create(dir.path()).unwrap();
        assert_eq!(k1.0, again.0);
        std::fs::write(&path, "00").unwrap();
        assert!(FingerprintKey::load_or_create(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "00",
            "not silently replaced"
        );
    }

    #[test]
    fn fingerprints_are_keyed_and_bound_to_the_attribute() {
        let k = FingerprintKey::fixed(&[1; 32]);
        let s = SecretValue::new("pw".into());
        let a = k.fingerprint("account.push", "password", &s);
        assert_ne!(a, k.fingerprint("account.other", "password", &s));
        assert_ne!(
            a,
            FingerprintKey::fixed(&[2; 32]).fingerprint("account.push", "password", &s)
        );
        assert!(!a.contains("pw"));
    }
}
