//! Checking one call against the documented syntax ([`Oracle::check`]):
//! parameter names, parameter set resolution and secrets.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::cmdlet::Cmdlet;
use super::values::{check_value, describe_type};
use super::{Oracle, Parameter, ParameterSet};

impl Oracle {
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
