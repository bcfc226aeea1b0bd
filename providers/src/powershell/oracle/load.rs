//! Reading `cmdlets.json` into an [`Oracle`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::cmdlet::{Cmdlet, Origin};
use super::{Oracle, OracleError, ParameterSet};

#[derive(Deserialize)]
struct ReferenceFile {
    cmdlets: BTreeMap<String, ReferenceCmdlet>,
}

#[derive(Deserialize)]
struct ReferenceCmdlet {
    #[serde(default)]
    default_parameter_set: Option<String>,
    #[serde(default = "yes")]
    common_parameters: bool,
    parameter_sets: Vec<ParameterSet>,
}

fn yes() -> bool {
    true
}

impl Oracle {
    /// Read the reference file at `path` (normally
    /// `shared/reference/cmdlets.json`).
    ///
    /// Errors: [`OracleError::Io`] if unreadable, otherwise as
    /// [`Oracle::from_json`].
    pub fn load(path: &Path) -> Result<Oracle, OracleError> {
        let text = std::fs::read_to_string(path).map_err(|source| OracleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Oracle::from_json(&text)
    }

    /// Build the oracle from the text of a `cmdlets.json`-shaped document:
    /// `{"cmdlets": {"<Name>": {"default_parameter_set": ..,
    /// "common_parameters": .., "parameter_sets": [..]}}}`; other keys are
    /// ignored.
    ///
    /// Errors: [`OracleError::Json`] for malformed text,
    /// [`OracleError::Definition`] for an inconsistent cmdlet.
    pub fn from_json(text: &str) -> Result<Oracle, OracleError> {
        let file: ReferenceFile = serde_json::from_str(text)?;
        let mut oracle = Oracle::default();
        for (name, c) in file.cmdlets {
            let cmdlet = Cmdlet::build(
                &name,
                c.default_parameter_set,
                c.common_parameters,
                c.parameter_sets,
                Origin::Reference,
            )?;
            oracle.cmdlets.insert(name.to_lowercase(), cmdlet);
        }
        Ok(oracle)
    }
}
