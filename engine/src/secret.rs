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
                let text = std::fs::read_to_string(&path).map_err(|source| SecretError::File {
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

/// The key for secret fingerprints: 32 bytes from `CMDEPLOY_FINGERPRINT_KEY` (hex) or from
/// `.cmdeploy/fingerprint.key`, created with a random key on first use. The key is not in state, so
/// a leaked state file does not allow guessing secrets offline.
#[derive(Clone)]
pub struct FingerprintKey(Vec<u8>);

impl FingerprintKey {
    /// Loads or creates the key for a project's `.cmdeploy` directory.
    ///
    /// # Errors
    /// I/O errors creating the key file, or a malformed `CMDEPLOY_FINGERPRINT_KEY`.
    pub fn load_or_create(work_dir: &Path) -> std::io::Result<FingerprintKey> {
        if let Ok(hexkey) = std::env::var("CMDEPLOY_FINGERPRINT_KEY") {
            let key = hex::decode(hexkey.trim()).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("CMDEPLOY_FINGERPRINT_KEY is not hex: {e}"),
                )
            })?;
            return Ok(FingerprintKey(key));
        }
        let path = work_dir.join("fingerprint.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(key) = hex::decode(text.trim()) {
                return Ok(FingerprintKey(key));
            }
        }
        std::fs::create_dir_all(work_dir)?;
        let key: [u8; 32] = rand::random();
        crate::state::write_atomic(&path, hex::encode(key).as_bytes())?;
        Ok(FingerprintKey(key.to_vec()))
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
    fn fingerprints_are_keyed_and_bound_to_the_attribute() {
        let k = FingerprintKey::fixed(b"k1");
        let s = SecretValue::new("pw".into());
        let a = k.fingerprint("account.push", "password", &s);
        assert_ne!(a, k.fingerprint("account.other", "password", &s));
        assert_ne!(
            a,
            FingerprintKey::fixed(b"k2").fingerprint("account.push", "password", &s)
        );
        assert!(!a.contains("pw"));
    }
}
