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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::statement::PositionalHints;

/// One parameter of one parameter set, as in `cmdlets.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The parameter name without the dash, e.g. `SiteCode`.
    pub name: String,
    /// The type as written in the doc's SYNTAX block: `String`, `String[]`,
    /// `Boolean`, `SwitchParameter`, `Int32`, `UInt32`, `SecureString`,
    /// `Guid`, `IResultObject`, or an enum name such as `BoundaryTypes`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the parameter is required in this set.
    #[serde(default)]
    pub mandatory: bool,
    /// Alternative names (`Get-Help -Parameter` "Aliases").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Accepted values for enum-like types (compared case-insensitively);
    /// empty when any value of the type is accepted.
    #[serde(default)]
    pub valid_values: Vec<String>,
    /// Positional index, or `None` for a named-only parameter.
    #[serde(default)]
    pub position: Option<u32>,
}

impl Parameter {
    /// An optional, named-only parameter of type `type_name` with no aliases.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Parameter {
            name: name.into(),
            type_name: type_name.into(),
            mandatory: false,
            aliases: Vec::new(),
            valid_values: Vec::new(),
            position: None,
        }
    }

    /// The same parameter, marked mandatory.
    pub fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// The same parameter with an extra alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// The same parameter, restricted to `values` (an enum).
    pub fn valid_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.valid_values = values.into_iter().map(Into::into).collect();
        self
    }
}

/// One parameter set of a cmdlet, as in `cmdlets.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterSet {
    /// The set name; `__AllParameterSets` when the cmdlet has a single set.
    pub name: String,
    /// Whether this is the cmdlet's default parameter set.
    #[serde(default)]
    pub is_default: bool,
    /// Every parameter of the set (including `WhatIf`/`Confirm` if listed).
    pub parameters: Vec<Parameter>,
}

impl ParameterSet {
    /// A non-default set named `name` with `parameters`.
    pub fn new(name: impl Into<String>, parameters: Vec<Parameter>) -> Self {
        ParameterSet {
            name: name.into(),
            is_default: false,
            parameters,
        }
    }
}

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

/// Where a cmdlet definition came from.
#[derive(Debug, Clone)]
enum Origin {
    Reference,
    Extra(String),
}

#[derive(Debug, Clone)]
struct Cmdlet {
    name: String,
    default_set: Option<String>,
    sets: Vec<ParameterSet>,
    /// lower-case name or alias -> canonical parameter name.
    resolve: HashMap<String, String>,
    /// canonical parameter name -> its first definition (types are uniform
    /// across sets; checked on load).
    params: BTreeMap<String, Parameter>,
    origin: Origin,
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

impl Cmdlet {
    fn build(
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

/// Documented cmdlet syntax, queried by tests to prove provider calls valid.
///
/// Built from `cmdlets.json` with [`Oracle::load`] or [`Oracle::from_json`],
/// extended with [`Oracle::add_extra`], queried with [`Oracle::check`].
#[derive(Debug, Clone, Default)]
pub struct Oracle {
    /// lower-case cmdlet name -> definition.
    cmdlets: BTreeMap<String, Cmdlet>,
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

    /// Check one call: `cmdlet` with named `args` (JSON values as providers
    /// emit them), where `secret_args` names the arguments whose value is a
    /// secret to be passed as a `SecureString`.
    ///
    /// Returns the name of the parameter set PowerShell would bind, or every
    /// problem found. Each problem names the cmdlet and, where it concerns
    /// one, the parameter, the expected type and the closest parameter set.
    ///
    /// Value rules by parameter type:
    /// * `SwitchParameter`: only `true` (leave a switch out to turn it off);
    /// * `Boolean`: `true`/`false`;
    /// * `String`: a string, or `null` to clear (not for mandatory ones);
    ///   with `valid_values`, one of them;
    /// * `String[]`: an array of strings, or one string; `null` to clear;
    /// * `Int16`/`Int32`/`Int64`/`UInt16`/`UInt32`/`UInt64`/`Byte`: an
    ///   integer in range (arrays of them for `[]` types);
    /// * `SecureString`: a string listed in `secret_args` (and every name in
    ///   `secret_args` must be a `SecureString` parameter);
    /// * `Guid`: a GUID string; `DateTime`: a string;
    /// * `PSObject`/`Object`: a string, number, boolean or array of those;
    /// * enum types (with `valid_values`): one of them, case-insensitive;
    /// * `IResultObject`, hashtables, script blocks and any other type:
    ///   rejected, "object parameter, pass a name/id instead".
    pub fn check(
        &self,
        cmdlet: &str,
        args: &Map<String, Value>,
        secret_args: &[String],
    ) -> Result<String, Vec<String>> {
        let Some(def) = self.cmdlets.get(&cmdlet.to_lowercase()) else {
            return Err(vec![self.unknown_cmdlet(cmdlet)]);
        };
        let name = &def.name;
        let mut problems = Vec::new();

        // Resolve argument names to canonical parameter names.
        let mut bound: Vec<(&str, &Parameter, &Value)> = Vec::new();
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (key, value) in args {
            let Some(canonical) = def.resolve.get(&key.to_lowercase()) else {
                problems.push(unknown_parameter(def, key));
                continue;
            };
            if let Some(first) = seen.insert(canonical.as_str(), key.as_str()) {
                problems.push(format!(
                    "{name}: parameter -{canonical} is given twice (as -{first} and -{key})"
                ));
                continue;
            }
            if let Some(p) = def.params.get(canonical) {
                bound.push((key.as_str(), p, value));
            }
        }

        // Secrets must be SecureString parameters.
        let mut secrets: Vec<&str> = Vec::new();
        for secret in secret_args {
            match def.resolve.get(&secret.to_lowercase()) {
                None => problems.push(format!(
                    "{name}: secret argument -{secret} is not a parameter of {name}"
                )),
                Some(canonical) => {
                    let p = def.params.get(canonical);
                    if p.is_some_and(|p| !p.type_name.eq_ignore_ascii_case("SecureString")) {
                        problems.push(format!(
                            "{name} -{canonical}: listed as a secret, but the parameter is {} \
                             (only SecureString parameters take secrets)",
                            p.map(|p| p.type_name.as_str()).unwrap_or_default()
                        ));
                    }
                    secrets.push(canonical);
                }
            }
        }

        // Parameter set resolution.
        let given: Vec<&str> = bound.iter().map(|(_, p, _)| p.name.as_str()).collect();
        let set = resolve_set(def, &given);
        let closest = match &set {
            SetResolution::Bound(s) => s.clone(),
            SetResolution::Problem { closest, .. } => closest.clone(),
        };
        if let SetResolution::Problem { message, .. } = &set {
            problems.push(format!("{name}: {message}"));
        }

        // Value types.
        for (key, p, value) in &bound {
            let is_secret = secrets.iter().any(|s| *s == p.name);
            if let Err(why) = check_value(p, value, is_secret) {
                let shown = if key.eq_ignore_ascii_case(&p.name) {
                    format!("-{}", p.name)
                } else {
                    format!("-{key} (alias of -{})", p.name)
                };
                problems.push(format!(
                    "{name} {shown}: expected {} ({}), {why} [parameter set '{closest}']",
                    p.type_name,
                    describe_type(p)
                ));
            }
        }

        match set {
            SetResolution::Bound(s) if problems.is_empty() => Ok(s),
            _ => Err(problems),
        }
    }

    fn unknown_cmdlet(&self, cmdlet: &str) -> String {
        let lower = cmdlet.to_lowercase();
        let nearest = self
            .cmdlets
            .iter()
            .map(|(k, c)| (strsim::jaro_winkler(&lower, k), c.name.as_str()))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match nearest {
            Some((score, n)) if score > 0.8 => {
                format!("{cmdlet}: unknown cmdlet (did you mean {n}?)")
            }
            _ => {
                format!("{cmdlet}: unknown cmdlet (not in cmdlets.json and not added as an extra)")
            }
        }
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

fn unknown_parameter(def: &Cmdlet, key: &str) -> String {
    let lower = key.to_lowercase();
    let mut names: Vec<&str> = def.params.keys().map(String::as_str).collect();
    names.sort_by(|a, b| {
        let da = strsim::levenshtein(&lower, &a.to_lowercase());
        let db = strsim::levenshtein(&lower, &b.to_lowercase());
        da.cmp(&db)
    });
    let prefix_of: Vec<&str> = def
        .resolve
        .iter()
        .filter(|(k, _)| k.starts_with(&lower))
        .map(|(_, v)| v.as_str())
        .collect();
    let hint = if !lower.is_empty() && !prefix_of.is_empty() {
        let mut p = prefix_of;
        p.sort_unstable();
        p.dedup();
        format!(
            " (prefixes are not accepted: write the full name, -{})",
            p.join(" or -")
        )
    } else {
        match names.first() {
            Some(n) if strsim::levenshtein(&lower, &n.to_lowercase()) <= 3 => {
                format!(" (did you mean -{n}?)")
            }
            _ => String::new(),
        }
    };
    format!("{}: unknown parameter -{key}{hint}", def.name)
}

enum SetResolution {
    Bound(String),
    Problem { message: String, closest: String },
}

fn resolve_set(def: &Cmdlet, given: &[&str]) -> SetResolution {
    struct Fit<'a> {
        set: &'a ParameterSet,
        not_in_set: Vec<&'a str>,
        missing: Vec<&'a str>,
    }
    let fits: Vec<Fit> = def
        .sets
        .iter()
        .map(|set| Fit {
            set,
            not_in_set: given
                .iter()
                .copied()
                .filter(|g| !set.parameters.iter().any(|p| p.name == *g))
                .collect(),
            missing: set
                .parameters
                .iter()
                .filter(|p| p.mandatory && !given.contains(&p.name.as_str()))
                .map(|p| p.name.as_str())
                .collect(),
        })
        .collect();
    let is_default = |s: &ParameterSet| Some(&s.name) == def.default_set.as_ref();
    let valid: Vec<&Fit> = fits
        .iter()
        .filter(|f| f.not_in_set.is_empty() && f.missing.is_empty())
        .collect();
    match valid.as_slice() {
        [one] => return SetResolution::Bound(one.set.name.clone()),
        [] => {}
        many => {
            if let Some(d) = many.iter().find(|f| is_default(f.set)) {
                return SetResolution::Bound(d.set.name.clone());
            }
            let names: Vec<&str> = many.iter().map(|f| f.set.name.as_str()).collect();
            return SetResolution::Problem {
                message: format!(
                    "ambiguous parameter set: the arguments fit {} and none is the default; \
                     add a parameter that selects one",
                    names.join(", ")
                ),
                closest: names[0].to_string(),
            };
        }
    }
    // No set fits: report the closest one (fewest foreign + missing
    // parameters, the default set first on ties).
    let Some(best) = fits
        .iter()
        .min_by_key(|f| (f.not_in_set.len() + f.missing.len(), !is_default(f.set)))
    else {
        return SetResolution::Problem {
            message: "has no parameter set".into(),
            closest: String::new(),
        };
    };
    let mut parts = Vec::new();
    if !best.not_in_set.is_empty() {
        let homes: Vec<String> = best
            .not_in_set
            .iter()
            .map(|g| {
                let sets: Vec<&str> = def
                    .sets
                    .iter()
                    .filter(|s| s.parameters.iter().any(|p| p.name == *g))
                    .map(|s| s.name.as_str())
                    .collect();
                format!("-{g} (in {})", sets.join(", "))
            })
            .collect();
        parts.push(format!(
            "does not accept {} together with the other arguments",
            homes.join(", ")
        ));
    }
    if !best.missing.is_empty() {
        parts.push(format!(
            "is missing mandatory {}",
            best.missing
                .iter()
                .map(|m| format!("-{m}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    SetResolution::Problem {
        message: format!(
            "no parameter set fits; the closest, '{}', {}",
            best.set.name,
            parts.join(" and ")
        ),
        closest: best.set.name.clone(),
    }
}

/// How a parameter's value is written, for problem messages.
fn describe_type(p: &Parameter) -> String {
    if !p.valid_values.is_empty() {
        return format!("one of {}", p.valid_values.join(", "));
    }
    let t = p.type_name.to_ascii_lowercase();
    match t.as_str() {
        "switchparameter" => "a switch: pass true, or leave it out".into(),
        "boolean" | "bool" => "JSON true/false".into(),
        "string" => "a string, or null to clear".into(),
        "string[]" => "an array of strings".into(),
        "securestring" => "a secret string listed in secret_args".into(),
        "guid" => "a GUID string".into(),
        "datetime" => "a date/time string".into(),
        "psobject" | "object" => "a string, number, boolean or array of those".into(),
        _ if int_range(&t).is_some() => "an integer".into(),
        _ if t.ends_with("[]") && int_range(&t[..t.len() - 2]).is_some() => {
            "an array of integers".into()
        }
        _ => "object parameter, pass a name/id instead".into(),
    }
}

fn int_range(t: &str) -> Option<(i128, i128)> {
    Some(match t {
        "byte" => (0, u8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "int32" | "int" => (i32::MIN.into(), i32::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "int64" | "long" => (i64::MIN.into(), i64::MAX.into()),
        "uint64" => (0, u64::MAX.into()),
        _ => return None,
    })
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "got null".into(),
        Value::Bool(b) => format!("got {b}"),
        Value::Number(n) => format!("got the number {n}"),
        Value::String(s) => format!("got the string {s:?}"),
        Value::Array(_) => "got an array".into(),
        Value::Object(_) => "got an object".into(),
    }
}

fn check_integer(v: &Value, (lo, hi): (i128, i128)) -> Result<(), String> {
    let n = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    };
    match n {
        Some(n) if (lo..=hi).contains(&n) => Ok(()),
        Some(n) => Err(format!("got {n}, outside {lo}..={hi}")),
        None => Err(json_kind(v)),
    }
}

fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Check one value against its parameter; `Err` says what was wrong.
fn check_value(p: &Parameter, v: &Value, is_secret: bool) -> Result<(), String> {
    let t = p.type_name.to_ascii_lowercase();
    if t == "securestring" {
        return match (is_secret, v) {
            (true, Value::String(_)) => Ok(()),
            (true, _) => Err(json_kind(v)),
            (false, _) => Err(format!(
                "{} but it is not listed in secret_args",
                json_kind(v)
            )),
        };
    }
    if is_secret {
        // Already reported as a secret on a non-SecureString parameter.
        return Ok(());
    }
    if v.is_null() && p.mandatory {
        return Err("got null, but the parameter is mandatory".into());
    }
    let one_of = |s: &str| p.valid_values.iter().any(|x| x.eq_ignore_ascii_case(s));
    if !p.valid_values.is_empty() {
        let element_ok = |v: &Value| matches!(v, Value::String(s) if one_of(s));
        let ok = match v {
            Value::Array(items) if t.ends_with("[]") => items.iter().all(element_ok),
            Value::Null => t == "string",
            _ => element_ok(v),
        };
        return if ok { Ok(()) } else { Err(json_kind(v)) };
    }
    match t.as_str() {
        "switchparameter" => match v {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => {
                Err("got false (a switch is only ever passed as true; leave it out instead)".into())
            }
            _ => Err(json_kind(v)),
        },
        "boolean" | "bool" => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(json_kind(v)),
        },
        "string" => match v {
            Value::String(_) | Value::Null => Ok(()),
            _ => Err(json_kind(v)),
        },
        "string[]" => match v {
            Value::String(_) | Value::Null => Ok(()),
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
            Value::Array(_) => Err("got an array with non-string items".into()),
            _ => Err(json_kind(v)),
        },
        "guid" => match v {
            Value::String(s) if is_guid(s) => Ok(()),
            _ => Err(json_kind(v)),
        },
        "datetime" => match v {
            Value::String(s) if !s.trim().is_empty() => Ok(()),
            _ => Err(json_kind(v)),
        },
        "psobject" | "object" => {
            let scalar =
                |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            match v {
                Value::Array(items) if items.iter().all(scalar) => Ok(()),
                _ if scalar(v) => Ok(()),
                _ => Err(json_kind(v)),
            }
        }
        _ => {
            if let Some(range) = int_range(&t) {
                return check_integer(v, range);
            }
            if let Some(range) = t.strip_suffix("[]").and_then(int_range) {
                return match v {
                    Value::Array(items) => items.iter().try_for_each(|i| check_integer(i, range)),
                    _ => check_integer(v, range),
                };
            }
            Err(json_kind(v))
        }
    }
}

#[cfg(test)]
mod tests;
