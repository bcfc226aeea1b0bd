//! The cmdlet oracle: checks that a call cmdeploy emits is valid against
//! Microsoft's documented cmdlet syntax.
//!
//! # Source
//!
//! [`Oracle::load`] reads `shared/reference/cmdlets.json`, extracted from the
//! platyPS help of `MicrosoftDocs/sccm-docs-powershell-ref` (ConfigurationManager
//! module) and `MicrosoftDocs/windows-powershell-docs` (GroupPolicy module,
//! Windows Server 2022 docset). Its `conventions` key explains the fields; the
//! ones used here are, per cmdlet, `default_parameter_set`,
//! `common_parameters` and `parameter_sets[]` with `name` and
//! `parameters[]` (`name`, `type`, `mandatory`, `aliases`, `valid_values`,
//! `position`). `mandatory` is the PARAMETERS yaml `Required:` value, which
//! the conventions say to trust over the SYNTAX block. `WhatIf`/`Confirm`
//! are listed as parameters; the other common parameters (`-Verbose`,
//! `-ErrorAction`, ...) are added here for cmdlets with `common_parameters`.
//!
//! # Rules ([`Oracle::check`])
//!
//! * the cmdlet exists (case-insensitive);
//! * every argument names a parameter by full name or alias, case-insensitive
//!   (never by prefix: cmdeploy always emits full names), and no parameter is
//!   bound twice;
//! * some parameter set contains every given parameter and has all its
//!   mandatory parameters given; if several do, the default set must be one
//!   of them, otherwise PowerShell would fail with "Parameter set cannot be
//!   resolved";
//! * each value's JSON type fits the parameter type (see [`Oracle::check`]);
//! * `SecureString` parameters are exactly the ones listed as secrets.

mod check;
mod cmdlet;
mod error;
mod load;
mod model;
mod registry;
mod values;

pub use error::OracleError;
pub use model::{Parameter, ParameterSet};
pub use registry::Oracle;

// Names the tests (`tests.rs`, `use super::*`) rely on.
#[cfg(test)]
use serde_json::{Map, Value};
#[cfg(test)]
use std::path::Path;

#[cfg(test)]
mod tests;
