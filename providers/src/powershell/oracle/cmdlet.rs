//! One cmdlet's definition as the oracle holds it: its parameter sets with
//! the common parameters added, and the name/alias lookup built from them.

use std::collections::{BTreeMap, HashMap};

use super::{OracleError, Parameter, ParameterSet};

/// Where a cmdlet definition came from.
#[derive(Debug, Clone)]
pub(super) enum Origin {
    Reference,
    Extra(String),
}

/// One cmdlet as the oracle checks it.
#[derive(Debug, Clone)]
pub(super) struct Cmdlet {
    pub(super) name: String,
    pub(super) default_set: Option<String>,
    pub(super) sets: Vec<ParameterSet>,
    /// lower-case name or alias -> canonical parameter name.
    pub(super) resolve: HashMap<String, String>,
    /// canonical parameter name -> its first definition (types are uniform
    /// across sets; checked on load).
    pub(super) params: BTreeMap<String, Parameter>,
    pub(super) origin: Origin,
}

/// PowerShell's common parameters other than WhatIf/Confirm
/// (about_CommonParameters), available in every set of an advanced cmdlet.
fn common_parameters() -> Vec<Parameter> {
    let action = [
        "Break",
        "Continue",
        "Ignore",
        "Inquire",
        "SilentlyContinue",
        "Stop",
        "Suspend",
    ];
    vec![
        Parameter::new("Verbose", "SwitchParameter").alias("vb"),
        Parameter::new("Debug", "SwitchParameter").alias("db"),
        Parameter::new("ErrorAction", "ActionPreference")
            .alias("ea")
            .valid_values(action),
        Parameter::new("WarningAction", "ActionPreference")
            .alias("wa")
            .valid_values(action),
        Parameter::new("InformationAction", "ActionPreference")
            .alias("infa")
            .valid_values(action),
        Parameter::new("ProgressAction", "ActionPreference")
            .alias("proga")
            .valid_values(action),
        Parameter::new("ErrorVariable", "String").alias("ev"),
        Parameter::new("WarningVariable", "String").alias("wv"),
        Parameter::new("InformationVariable", "String").alias("iv"),
        Parameter::new("OutVariable", "String").alias("ov"),
        Parameter::new("OutBuffer", "Int32").alias("ob"),
        Parameter::new("PipelineVariable", "String").alias("pv"),
    ]
}

impl Cmdlet {
    pub(super) fn build(
        name: &str,
        default_set: Option<String>,
        common: bool,
        sets: Vec<ParameterSet>,
        origin: Origin,
    ) -> Result<Cmdlet, OracleError> {
        let def_err = |message: String| OracleError::Definition {
            cmdlet: name.to_string(),
            message,
        };
        if sets.is_empty() {
            return Err(def_err("no parameter set".into()));
        }
        let default_set = default_set
            .or_else(|| sets.iter().find(|s| s.is_default).map(|s| s.name.clone()))
            .or_else(|| (sets.len() == 1).then(|| sets[0].name.clone()));
        let mut resolve: HashMap<String, String> = HashMap::new();
        let mut params: BTreeMap<String, Parameter> = BTreeMap::new();
        let commons = if common {
            common_parameters()
        } else {
            Vec::new()
        };
        let all = sets
            .iter()
            .flat_map(|s| s.parameters.iter())
            .chain(commons.iter());
        for p in all {
            if let Some(first) = params.get(&p.name) {
                if !first.type_name.eq_ignore_ascii_case(&p.type_name) {
                    return Err(def_err(format!(
                        "parameter -{} is {} in one set and {} in another",
                        p.name, first.type_name, p.type_name
                    )));
                }
            } else {
                params.insert(p.name.clone(), p.clone());
            }
            for key in std::iter::once(&p.name).chain(p.aliases.iter()) {
                let lower = key.to_lowercase();
                match resolve.get(&lower) {
                    Some(other) if *other != p.name => {
                        return Err(def_err(format!(
                            "-{key} names both -{other} and -{}",
                            p.name
                        )));
                    }
                    _ => {
                        resolve.insert(lower, p.name.clone());
                    }
                }
            }
        }
        // Common parameters belong to every set.
        let sets = sets
            .into_iter()
            .map(|mut s| {
                for c in &commons {
                    if !s.parameters.iter().any(|p| p.name == c.name) {
                        s.parameters.push(c.clone());
                    }
                }
                s
            })
            .collect();
        Ok(Cmdlet {
            name: name.to_string(),
            default_set,
            sets,
            resolve,
            params,
            origin,
        })
    }
}
