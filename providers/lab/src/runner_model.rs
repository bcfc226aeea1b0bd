//! What the lab knows of the reviewed runner it executes.
//!
//! The lab cannot run PowerShell. It accepts only cmdeploy's own runner (byte for byte, see
//! [`crate::Lab::run_document`]) and executes the payload's calls in Rust. Where Windows
//! PowerShell 5.1 would treat the runner's own code strictly, the lab reads the runner's
//! declarations instead of assuming them, so that a runner that does not cope with Windows fails
//! in the lab as it would on a site server:
//!
//! * the parameter blocks of the runner's functions (`[Parameter(Mandatory = $true)]`,
//!   `[AllowEmptyString()]`, the declared type), bound with 5.1's rules ([`bind_function`]);
//! * whether the site-server prelude creates the CMSite drive when it is missing
//!   ([`creates_site_drive`]);
//! * whether a function's body holds a given statement ([`function_body`]).

use serde_json::{Map, Value};

use super::args::CmdError;
use super::ps_value::Rendering;
use cmdeploy_providers::powershell::runner::runner;

/// One parameter of a runner function's `param(...)` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDecl {
    /// Parameter name without `$`.
    pub name: String,
    /// `[Parameter(Mandatory = $true)]`.
    pub mandatory: bool,
    /// `[AllowEmptyString()]`.
    pub allow_empty_string: bool,
    /// The declared type, lower case (`string`, `string[]`), or "" when untyped.
    pub type_name: String,
}

/// The text between `function <name> {` and its closing brace (matched by nesting), or `None`
/// when the runner defines no such function.
pub fn function_body(name: &str) -> Option<&'static str> {
    let text = runner();
    let start = text.find(&format!("function {name} {{"))?;
    let open = start + text[start..].find('{')?;
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The parameters a runner function declares, one per line of its `param(...)` block.
pub fn function_params(name: &str) -> Vec<ParamDecl> {
    let Some(body) = function_body(name) else {
        return Vec::new();
    };
    let Some(start) = body.find("param(") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in body[start + "param(".len()..].lines() {
        let line = line.trim();
        if line.starts_with(')') {
            break;
        }
        let Some(dollar) = line.rfind('$') else {
            continue;
        };
        let name: String = line[dollar + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let attrs = &line[..dollar];
        let type_name = attrs
            .rfind('[')
            .map(|i| attrs[i + 1..].trim_end_matches(']').to_ascii_lowercase())
            .filter(|t| !t.starts_with("parameter(") && !t.contains('('))
            .unwrap_or_default();
        out.push(ParamDecl {
            name,
            mandatory: attrs.contains("Mandatory = $true"),
            allow_empty_string: attrs.contains("[AllowEmptyString()]"),
            type_name,
        });
    }
    out
}

/// Binds `args` to the runner function `name` as Windows PowerShell 5.1 does for the checks the
/// lab models: a mandatory parameter that is missing, and `""` given to a mandatory `[string]`
/// without `[AllowEmptyString()]`.
///
/// Source: PowerShell/PowerShell@60b3b304 `src/System.Management.Automation/engine/
/// ParameterBinderBase.cs:685-760` and `resources/ParameterBinderStrings.resx:201-202`
/// ("Cannot bind argument to parameter '{0}' because it is an empty string."), cited in
/// windows-runtime.md §8 "Empty arguments".
///
/// # Errors
/// PowerShell's binding error, category `InvalidData`.
pub fn bind_function(name: &str, args: &Map<String, Value>) -> Result<(), CmdError> {
    for p in function_params(name) {
        let given = args
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&p.name))
            .map(|(_, v)| v);
        match given {
            None if p.mandatory => {
                return Err(CmdError::new(
                    "InvalidArgument",
                    format!("{name}: Cannot process command because of one or more missing mandatory parameters: {}.", p.name),
                ))
            }
            Some(Value::String(s))
                if s.is_empty()
                    && p.mandatory
                    && p.type_name == "string"
                    && !p.allow_empty_string =>
            {
                return Err(CmdError::new(
                    "InvalidData",
                    format!(
                        "Cannot bind argument to parameter '{}' because it is an empty string.",
                        p.name
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// True when the runner's site-server prelude creates the CMSite drive when it is missing, from
/// the SMS Provider the site server lists in `root\sms` `SMS_ProviderLocation`
/// (`New-PSDrive -PSProvider CMSite -Root <provider>`, windows-runtime.md §7; CMO:79-91).
pub fn creates_site_drive() -> bool {
    let text = runner();
    text.contains("Get-PSDrive -Name $driveSite -PSProvider CMSite")
        && text.contains("New-PSDrive -Name $driveSite -PSProvider CMSite -Root $provider")
        && text.contains("-ClassName 'SMS_ProviderLocation'")
}

/// Two keys of one JSON object that differ only in case, if any: Windows PowerShell 5.1's
/// `ConvertFrom-Json` refuses them with `DuplicateKeysInJsonString`, since PSObject property
/// lookup is case-insensitive (PowerShell@60b3b304 `JsonObject.cs:288-298`; windows-runtime.md §5).
pub fn case_duplicate_keys(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            for (i, a) in keys.iter().enumerate() {
                if let Some(b) = keys[i + 1..].iter().find(|b| b.eq_ignore_ascii_case(a)) {
                    return Some(((*a).clone(), (*b).clone()));
                }
            }
            map.values().find_map(case_duplicate_keys)
        }
        Value::Array(items) => items.iter().find_map(case_duplicate_keys),
        _ => None,
    }
}

/// How the runner's results are serialised: [`Rendering::Plain`] when every call's output goes
/// through the runner's `ConvertTo-CmdeployPlain` before `ConvertTo-Json`, else as Windows
/// PowerShell 5.1 serialises the objects themselves ([`Rendering::Windows51`]).
pub fn result_rendering() -> Rendering {
    let text = runner();
    if text.contains("function ConvertTo-CmdeployPlain {")
        && text.contains("$entry.value = ConvertTo-CmdeployPlain -Value @($output)")
    {
        Rendering::Plain
    } else {
        Rendering::Windows51
    }
}

/// True when the runner's `Install-CmdeployClient` throws when the bootstrap's exit code is not
/// 0 (the service did not start: 8, setup already running), as the reviewed runner does.
pub fn throws_on_bootstrap_failure() -> bool {
    function_body("Install-CmdeployClient").is_some_and(|b| {
        b.contains("if ($process.ExitCode -ne 0)") && b.contains("throw \"CCMSetup did not start")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_install_function_parameters() {
        let params = function_params("Install-CmdeployClient");
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert!(names.contains(&"SourcePath"), "{params:?}");
        assert!(names.contains(&"CommandLine"), "{params:?}");
        for p in &params {
            let want = if p.name == "WaitSeconds" {
                "int"
            } else {
                "string"
            };
            assert_eq!(p.type_name, want, "{params:?}");
        }
        assert!(!params
            .iter()
            .any(|p| p.name == "WaitSeconds" && p.mandatory));
    }

    #[test]
    fn a_missing_mandatory_parameter_is_refused() {
        let e = bind_function("Install-CmdeployClient", &Map::new()).unwrap_err();
        assert!(e.message.contains("missing mandatory parameters"), "{e:?}");
        assert!(function_body("No-SuchFunction").is_none());
    }
}
