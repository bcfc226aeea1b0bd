//! The [`Oracle`] itself: the table of known cmdlets, extended with extras
//! and queried by name.

use std::collections::BTreeMap;

use super::cmdlet::{Cmdlet, Origin};
use super::{OracleError, ParameterSet};
use crate::powershell::statement::PositionalHints;

/// Documented cmdlet syntax, queried by tests to prove provider calls valid.
///
/// Built from `cmdlets.json` with [`Oracle::load`] or [`Oracle::from_json`],
/// extended with [`Oracle::add_extra`], queried with [`Oracle::check`].
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    /// lower-case cmdlet name -> definition.
    pub(super) cmdlets: BTreeMap<String, Cmdlet>,
}

impl Oracle {
    /// Register a cmdlet that `cmdlets.json` does not document, with the
    /// `reason` it is trusted anyway (kept and shown by [`Oracle::extra_reason`]).
    ///
    /// Meant for `Set-CMSoftwareUpdateBasedClientInstallation`, which is in
    /// Microsoft's ConfigurationManager PSRef but missing from the file, and
    /// for the runner's own helper functions. The cmdlet gets the common
    /// parameters; its default set is the one marked `is_default`, or the
    /// only one.
    ///
    /// Errors: [`OracleError::MissingReason`] for a blank reason,
    /// [`OracleError::AlreadyDefined`] if the name is already known (so an
    /// extra is noticed once the reference file gains the cmdlet), and
    /// [`OracleError::Definition`] for inconsistent sets.
    pub fn add_extra(
        &mut self,
        name: &str,
        parameter_sets: Vec<ParameterSet>,
        reason: &str,
    ) -> Result<(), OracleError> {
        if reason.trim().is_empty() {
            return Err(OracleError::MissingReason(name.to_string()));
        }
        if let Some(existing) = self.cmdlets.get(&name.to_lowercase()) {
            let whence = match &existing.origin {
                Origin::Reference => " in cmdlets.json".to_string(),
                Origin::Extra(r) => format!(" as an extra ({r})"),
            };
            return Err(OracleError::AlreadyDefined(existing.name.clone(), whence));
        }
        let cmdlet = Cmdlet::build(
            name,
            None,
            true,
            parameter_sets,
            Origin::Extra(reason.to_string()),
        )?;
        self.cmdlets.insert(name.to_lowercase(), cmdlet);
        Ok(())
    }

    /// Whether `cmdlet` is known (case-insensitive).
    pub fn contains(&self, cmdlet: &str) -> bool {
        self.cmdlets.contains_key(&cmdlet.to_lowercase())
    }

    /// The documented spelling of `cmdlet`, if known.
    pub fn canonical_name(&self, cmdlet: &str) -> Option<&str> {
        self.cmdlets
            .get(&cmdlet.to_lowercase())
            .map(|c| c.name.as_str())
    }

    /// Why `cmdlet` was added with [`Oracle::add_extra`]; `None` for cmdlets
    /// from the reference file and unknown ones.
    pub fn extra_reason(&self, cmdlet: &str) -> Option<&str> {
        match &self.cmdlets.get(&cmdlet.to_lowercase())?.origin {
            Origin::Extra(reason) => Some(reason),
            Origin::Reference => None,
        }
    }

    /// Every known cmdlet name, in the documented spelling, sorted
    /// case-insensitively.
    pub fn cmdlet_names(&self) -> impl Iterator<Item = &str> {
        self.cmdlets.values().map(|c| c.name.as_str())
    }

    /// The parameter sets of `cmdlet` (with the common parameters added), if
    /// known.
    pub fn parameter_sets(&self, cmdlet: &str) -> Option<&[ParameterSet]> {
        self.cmdlets
            .get(&cmdlet.to_lowercase())
            .map(|c| c.sets.as_slice())
    }
}

impl PositionalHints for Oracle {
    /// The documented parameters at `position`, default set first, without
    /// repeats.
    fn positional_parameters(&self, cmdlet: &str, position: usize) -> Vec<String> {
        let Some(def) = self.cmdlets.get(&cmdlet.to_lowercase()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = Vec::new();
        let default_first = def
            .sets
            .iter()
            .filter(|s| Some(&s.name) == def.default_set.as_ref())
            .chain(def.sets.iter());
        for set in default_first {
            for p in &set.parameters {
                if p.position.is_some_and(|q| q as usize == position) && !names.contains(&p.name) {
                    names.push(p.name.clone());
                }
            }
        }
        names
    }
}
