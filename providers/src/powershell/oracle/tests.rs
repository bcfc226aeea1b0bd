//! Tests of the oracle module.
use super::*;
use serde_json::json;

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/reference/cmdlets.json"
);

fn oracle() -> Oracle {
    match Oracle::load(Path::new(REFERENCE)) {
        Ok(o) => o,
        Err(e) => panic!(
            "the cmdlet reference must be present beside the repository \
             (expected {REFERENCE}); these tests never skip: {e}"
        ),
    }
}

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("test args must be an object, got {other}"),
    }
}

fn good(o: &Oracle, cmdlet: &str, a: Value, secrets: &[&str]) -> String {
    let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    match o.check(cmdlet, &args(a), &secrets) {
        Ok(set) => set,
        Err(p) => panic!("{cmdlet} should be valid, problems: {p:#?}"),
    }
}

fn bad(o: &Oracle, cmdlet: &str, a: Value, secrets: &[&str]) -> Vec<String> {
    let secrets: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    match o.check(cmdlet, &args(a), &secrets) {
        Ok(set) => panic!("{cmdlet} should be invalid, matched set {set}"),
        Err(p) => p,
    }
}

#[test]
fn reference_file_loads() {
    let o = oracle();
    assert!(o.cmdlet_names().count() >= 90);
    assert_eq!(
        o.canonical_name("new-cmboundarygroup"),
        Some("New-CMBoundaryGroup")
    );
}

#[test]
fn known_good_calls() {
    let o = oracle();
    assert_eq!(
        good(
            &o,
            "New-CMBoundaryGroup",
            json!({"Name": "X", "DefaultSiteCode": "ABC"}),
            &[]
        ),
        "__AllParameterSets"
    );
    assert_eq!(
        good(
            &o,
            "Set-CMClientPushInstallation",
            json!({"SiteCode": "ABC", "AllownNTLMFallback": true}),
            &[]
        ),
        "SearchBySiteCodeMandatory"
    );
    assert_eq!(
        good(
            &o,
            "Add-CMBoundaryToGroup",
            json!({"BoundaryGroupName": "a", "BoundaryName": "b"}),
            &[]
        ),
        "AddBoundaryToGroupByName_Name"
    );
    good(
        &o,
        "New-CMAccount",
        json!({"UserName": r"d\u", "Password": "s3cret", "SiteCode": "ABC"}),
        &["Password"],
    );
    assert_eq!(
        good(
            &o,
            "Set-GPRegistryValue",
            json!({"Name": "g", "Key": r"HKLM\Software\Policies\Microsoft\ccmsetup",
                   "ValueName": "SetupParameters", "Type": "String", "Value": "x"}),
            &[]
        ),
        "ByName"
    );
    assert_eq!(
        good(
            &o,
            "New-GPLink",
            json!({"Name": "g", "Target": "OU=x,DC=contoso,DC=com", "LinkEnabled": "Yes"}),
            &[]
        ),
        "LinkbyName"
    );
    // Case-insensitive names, aliases, common parameters, String[] forms.
    good(
        &o,
        "new-cmboundarygroup",
        json!({"name": "X", "Verbose": true}),
        &[],
    );
    good(
        &o,
        "New-CMAccount",
        json!({"Name": "u", "Password": "p"}),
        &["password"],
    );
    good(
        &o,
        "Set-CMBoundaryGroup",
        json!({"Name": "HQ", "AddSiteSystemServerName": ["mp1", "dp1"], "Description": null}),
        &[],
    );
    good(
        &o,
        "Set-CMBoundaryGroup",
        json!({"Name": "HQ", "AddSiteSystemServerNames": "mp1"}),
        &[],
    );
    good(
        &o,
        "Remove-CMBoundary",
        json!({"Name": "X", "Force": true, "ErrorAction": "stop"}),
        &[],
    );
    good(
        &o,
        "New-CMBoundary",
        json!({"Name": "HQ", "Type": "ipsubnet", "Value": "10.0.0.0/8"}),
        &[],
    );
}

#[test]
fn misspelt_parameter() {
    let o = oracle();
    let p = bad(
        &o,
        "Set-CMClientPushInstallation",
        json!({"SiteCode": "ABC", "AllowNTLMFallback": true}),
        &[],
    );
    assert!(
        p.iter().any(|m| m.contains("Set-CMClientPushInstallation")
            && m.contains("-AllowNTLMFallback")
            && m.contains("did you mean -AllownNTLMFallback")),
        "{p:#?}"
    );
}

#[test]
fn no_prefixes() {
    let o = oracle();
    let p = bad(
        &o,
        "New-CMBoundaryGroup",
        json!({"Name": "X", "DefaultSite": "ABC"}),
        &[],
    );
    assert!(
        p.iter().any(|m| m.contains("prefixes are not accepted")),
        "{p:#?}"
    );
}

#[test]
fn boolean_given_as_switch_string() {
    let o = oracle();
    for v in [json!("$true"), json!("true"), json!(1)] {
        let p = bad(
            &o,
            "Set-CMClientPushInstallation",
            json!({"SiteCode": "ABC", "EnableAutomaticClientPushInstallation": v}),
            &[],
        );
        assert!(
            p.iter()
                .any(|m| m.contains("-EnableAutomaticClientPushInstallation")
                    && m.contains("expected Boolean")
                    && m.contains("SearchBySiteCodeMandatory")),
            "{p:#?}"
        );
    }
}

#[test]
fn switch_only_true() {
    let o = oracle();
    let p = bad(
        &o,
        "Remove-CMBoundary",
        json!({"Name": "X", "Force": false}),
        &[],
    );
    assert!(p.iter().any(|m| m.contains("SwitchParameter")), "{p:#?}");
    bad(
        &o,
        "Remove-CMBoundary",
        json!({"Name": "X", "Force": "yes"}),
        &[],
    );
}

#[test]
fn missing_mandatory_name() {
    let o = oracle();
    let p = bad(
        &o,
        "New-CMBoundaryGroup",
        json!({"DefaultSiteCode": "ABC"}),
        &[],
    );
    assert!(
        p.iter().any(|m| m.contains("New-CMBoundaryGroup")
            && m.contains("missing mandatory -Name")
            && m.contains("__AllParameterSets")),
        "{p:#?}"
    );
    // null for a mandatory parameter is not "given".
    bad(&o, "New-CMBoundaryGroup", json!({"Name": null}), &[]);
}

#[test]
fn wrong_enum_value() {
    let o = oracle();
    let p = bad(
        &o,
        "New-GPLink",
        json!({"Name": "g", "Target": "OU=x,DC=contoso,DC=com", "LinkEnabled": "True"}),
        &[],
    );
    assert!(
        p.iter().any(|m| m.contains("-LinkEnabled")
            && m.contains("EnableLink")
            && m.contains("Unspecified, No, Yes")
            && m.contains("LinkbyName")),
        "{p:#?}"
    );
    bad(
        &o,
        "New-GPLink",
        json!({"Name": "g", "Target": "t", "LinkEnabled": true}),
        &[],
    );
}

#[test]
fn parameters_from_two_sets() {
    let o = oracle();
    let p = bad(
        &o,
        "Remove-CMBoundary",
        json!({"Name": "X", "Id": "16777217"}),
        &[],
    );
    assert!(
        p.iter().any(|m| m.contains("no parameter set fits")
            && (m.contains("SearchByNameMandatory") || m.contains("SearchByIdMandatory"))),
        "{p:#?}"
    );
    bad(
        &o,
        "New-GPLink",
        json!({"Name": "g", "Guid": "31b2f340-016d-11d2-945f-00c04fb984f9", "Target": "t"}),
        &[],
    );
}

#[test]
fn secrets_and_objects() {
    let o = oracle();
    // Password without being declared secret.
    let p = bad(
        &o,
        "New-CMAccount",
        json!({"UserName": "u", "Password": "p"}),
        &[],
    );
    assert!(p.iter().any(|m| m.contains("secret_args")), "{p:#?}");
    // A secret on a non-SecureString parameter.
    bad(
        &o,
        "New-CMAccount",
        json!({"UserName": "u", "Password": "p"}),
        &["Password", "UserName"],
    );
    // Object parameters are never passed.
    let p = bad(
        &o,
        "Set-CMClientPushInstallation",
        json!({"InputObject": "x"}),
        &[],
    );
    assert!(
        p.iter()
            .any(|m| m.contains("object parameter, pass a name/id instead")),
        "{p:#?}"
    );
}

#[test]
fn integers_and_unknown_cmdlet() {
    let o = oracle();
    good(
        &o,
        "Add-CMBoundaryToGroup",
        json!({"BoundaryGroupId": 5, "BoundaryId": 7}),
        &[],
    );
    bad(
        &o,
        "Add-CMBoundaryToGroup",
        json!({"BoundaryGroupId": 5.5, "BoundaryId": 7}),
        &[],
    );
    bad(
        &o,
        "Add-CMBoundaryToGroup",
        json!({"BoundaryGroupId": 3_000_000_000u64, "BoundaryId": 7}),
        &[],
    );
    let p = bad(&o, "New-CMBoundaryGrup", json!({"Name": "X"}), &[]);
    assert!(p[0].contains("did you mean New-CMBoundaryGroup"), "{p:#?}");
}

#[test]
fn duplicate_binding_by_alias() {
    let o = oracle();
    let p = bad(
        &o,
        "New-CMAccount",
        json!({"UserName": "u", "Name": "v", "Password": "p"}),
        &["Password"],
    );
    assert!(p.iter().any(|m| m.contains("given twice")), "{p:#?}");
}

#[test]
fn extras() {
    let mut o = oracle();
    o.add_extra(
        "Set-CMSoftwareUpdateBasedClientInstallation",
        vec![ParameterSet::new(
            "__AllParameterSets",
            vec![
                Parameter::new("Enable", "Boolean"),
                Parameter::new("SiteCode", "String"),
            ],
        )],
        "documented in Microsoft's PSRef but missing from cmdlets.json",
    )
    .unwrap_or_else(|e| panic!("add_extra: {e}"));
    good(
        &o,
        "Set-CMSoftwareUpdateBasedClientInstallation",
        json!({"Enable": true, "SiteCode": "ABC"}),
        &[],
    );
    assert!(o
        .extra_reason("set-cmsoftwareupdatebasedclientinstallation")
        .is_some());
    assert!(matches!(
        o.add_extra("New-CMBoundaryGroup", vec![], "x"),
        Err(OracleError::AlreadyDefined(..))
    ));
    assert!(matches!(
        o.add_extra("Invoke-Helper", vec![], " "),
        Err(OracleError::MissingReason(_))
    ));
    assert!(matches!(
        o.add_extra("Invoke-Helper", vec![], "runner helper"),
        Err(OracleError::Definition { .. })
    ));
}

#[test]
fn positional_hints_from_reference() {
    use crate::powershell::statement::parse_statement_with_hints;
    let o = oracle();
    let e = parse_statement_with_hints("Get-GPO MyGpo", &o).unwrap_err();
    assert!(e.message.contains("-Guid MyGpo or -Name MyGpo"), "{e}");
    let e = parse_statement_with_hints("Remove-CMBoundary X", &o).unwrap_err();
    assert!(e.message.contains("-ParameterName X"), "{e}");
    let s = parse_statement_with_hints("Remove-CMBoundary -Name X -Force", &o)
        .unwrap_or_else(|e| panic!("{e}"));
    good(&o, &s.cmdlet, Value::Object(s.args), &[]);
}

#[test]
fn small_documents() {
    let o = Oracle::from_json(
        r#"{"cmdlets": {"Get-X": {"parameter_sets": [
        {"name": "A", "parameters": [{"name": "Id", "type": "Int32", "mandatory": true}]},
        {"name": "B", "parameters": [{"name": "Name", "type": "String", "mandatory": true}]}
    ]}}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        o.check("Get-X", &args(json!({"Id": 1})), &[]),
        Ok("A".to_string())
    );
    assert!(Oracle::from_json("{}").is_err());
    assert!(Oracle::load(Path::new("/nonexistent/cmdlets.json")).is_err());
}

/// The product's table of secret-typed parameters is exactly what the reference types as
/// SecureString or PSCredential (with aliases).
#[test]
fn secret_parameters_match_the_reference() {
    let text = std::fs::read_to_string(REFERENCE).expect("cmdlets.json");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let mut want = std::collections::BTreeSet::new();
    for (name, c) in doc["cmdlets"].as_object().expect("cmdlets by name") {
        for set in c["parameter_sets"].as_array().expect("sets") {
            for p in set["parameters"].as_array().expect("parameters") {
                let t = p["type"].as_str().unwrap_or_default();
                if t.contains("SecureString") || t.contains("PSCredential") {
                    let aliases: Vec<String> = p["aliases"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    want.insert((
                        name.to_string(),
                        p["name"].as_str().unwrap().to_string(),
                        aliases,
                    ));
                }
            }
        }
    }
    let have: std::collections::BTreeSet<(String, String, Vec<String>)> =
        crate::powershell::secret_parameters::SECRET_PARAMETERS
            .iter()
            .map(|(c, p, a)| {
                (
                    c.to_string(),
                    p.to_string(),
                    a.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
    assert_eq!(have, want);
}
