//! What can go wrong with the lab itself (not with the Scripts it runs): its seed, its files.

/// Lab errors: seed and storage problems.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The seed file is missing or invalid.
    #[error("lab seed {path}: {message}")]
    Seed {
        /// Seed path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// I/O on the lab directory.
    #[error("lab {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The estate file is corrupt.
    #[error("lab estate {path} is corrupt: {message}; run `cmdeploy lab reset`")]
    Corrupt {
        /// The file.
        path: String,
        /// Parser message.
        message: String,
    },
}
