//! Safety by construction: arbitrary strings — every PowerShell quote (including U+2018–U+201B),
//! `$`, backticks, `;`, newlines, non-BMP characters — go into every free-text field of the
//! manifests, are applied over WinRM through `cmdeploy lab serve`, and read back exactly. No value
//! is ever spliced into PowerShell source: values travel as JSON data and the runner splats them.

mod common;

use common::serve::{serve, switch_to_winrm};
use common::Project;
use proptest::prelude::*;
use serde_json::Value;

fn nasty() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("$".to_string()),
        Just("$(Remove-Item C:\\)".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\u{2018}".to_string()),
        Just("\u{2019}".to_string()),
        Just("\u{201A}".to_string()),
        Just("\u{201B}".to_string()),
        Just("\u{201C}".to_string()),
        Just("\u{201E}".to_string()),
        Just("\u{2013}".to_string()),
        Just("@{".to_string()),
        Just("|".to_string()),
        Just("&".to_string()),
        Just("#".to_string()),
        Just("<#".to_string()),
        Just("\\".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\u{1F600}".to_string()),
        Just("\u{1D49C}".to_string()),
        Just("é".to_string()),
        "[a-zA-Z0-9 ]{1,4}",
    ];
    // Manifest strings are minijinja templates: `{{` and `{%` start template syntax (write
    // `{{ '{{' }}` for a literal), so the generator keeps them apart.
    proptest::collection::vec(pieces, 1..10)
        .prop_map(|v| v.concat().replace("{{", "{ {").replace("{%", "{ %"))
}

fn write_manifest(p: &Project, name: &str, description: &str, value: &str, user: &str) {
    let mut doc = toml::Table::new();
    let mut boundary = toml::Table::new();
    boundary.insert("site".into(), "ABC".into());
    boundary.insert("type".into(), "ad_site".into());
    boundary.insert("value".into(), format!("pt {value}").into());
    boundary.insert("name".into(), name.into());
    let mut group = toml::Table::new();
    group.insert("site".into(), "ABC".into());
    group.insert("name".into(), format!("pt {name}").into());
    group.insert("description".into(), description.into());
    group.insert("boundaries".into(), toml::Value::Array(vec!["pt".into()]));
    let mut account = toml::Table::new();
    account.insert("site".into(), "ABC".into());
    account.insert("user_name".into(), format!("CONTOSO\\{user}").into());
    let mut pw = toml::Table::new();
    pw.insert("file".into(), "lab-secrets/network-access.txt".into());
    account.insert("password".into(), toml::Value::Table(pw));
    let mut gpo = toml::Table::new();
    gpo.insert("name".into(), format!("pt {name}").into());
    gpo.insert("domain".into(), "contoso.com".into());
    gpo.insert("connection".into(), "dc01".into());
    for (kind, table) in [
        ("boundary", boundary),
        ("boundary_group", group),
        ("account", account),
        ("gpo", gpo),
    ] {
        let mut t = toml::Table::new();
        t.insert("pt".into(), toml::Value::Table(table));
        doc.insert(kind.into(), toml::Value::Table(t));
    }
    p.write("pt.toml", &toml::to_string(&doc).unwrap());
}

fn check_round_trip(p: &Project, name: &str, description: &str, value: &str, user: &str) {
    write_manifest(p, name, description, value, user);
    p.run(&["apply", "--auto-approve"]).code(0);
    p.run(&["plan", "--detailed-exitcode"]).code(0);
    let estate: Value =
        serde_json::from_str(&p.run(&["lab", "show", "--json"]).code(0).stdout).unwrap();
    let has = |list: &str, field: &str, want: &str| {
        estate[list]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x[field].as_str() == Some(want))
    };
    assert!(has("boundary", "name", name), "boundary name {name:?}");
    assert!(
        has("boundary", "value", &format!("pt {value}")),
        "boundary value {value:?}"
    );
    assert!(
        has("boundary_group", "name", &format!("pt {name}")),
        "group name"
    );
    assert!(
        has("boundary_group", "description", description),
        "group description {description:?}"
    );
    assert!(has("gpo", "name", &format!("pt {name}")), "gpo name");
    let accounts = estate["site"][0]["account"].as_array().unwrap();
    assert!(
        accounts
            .iter()
            .any(|a| a["user_name"].as_str() == Some(&format!("CONTOSO\\{user}"))),
        "user {user:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_round_trip_through_lab_serve(
        name in nasty(),
        description in nasty(),
        value in nasty(),
        user in "[a-z]{1,3}".prop_flat_map(|a| nasty().prop_map(move |b| format!("{a}{}", b.replace('\\', "/")))),
    ) {
        let p = Project::example("contoso");
        p.run(&["lab", "reset"]).code(0);
        let s = serve(&p, &[]);
        switch_to_winrm(&p, s.port, None, "lab-secrets/admin.txt");
        check_round_trip(&p, &name, &description, &value, &user);
    }
}
