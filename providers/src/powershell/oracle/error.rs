//! The errors of building or extending the oracle.

use std::path::PathBuf;

#[cfg(doc)]
use super::Oracle;

/// Why the oracle could not be built or extended.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// The reference file could not be read.
    #[error("cannot read cmdlet reference {path}: {source}")]
    Io {
        /// The path given to [`Oracle::load`].
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not JSON of the expected shape (a `cmdlets` map of
    /// cmdlets with `parameter_sets`).
    #[error("cmdlet reference is not in the expected format: {0}")]
    Json(#[from] serde_json::Error),
    /// A cmdlet definition is inconsistent (e.g. one name or alias used by
    /// two different parameters, or no parameter set).
    #[error("cmdlet {cmdlet}: {message}")]
    Definition {
        /// The cmdlet concerned.
        cmdlet: String,
        /// What is inconsistent.
        message: String,
    },
    /// [`Oracle::add_extra`] was asked to add a cmdlet that is already known.
    /// If it is the reference file that now documents it, drop the extra.
    #[error("cmdlet {0} is already defined{1}; remove the extra definition")]
    AlreadyDefined(String, String),
    /// [`Oracle::add_extra`] was called without a reason.
    #[error("extra cmdlet {0} needs a reason saying why it is not in cmdlets.json")]
    MissingReason(String),
}
