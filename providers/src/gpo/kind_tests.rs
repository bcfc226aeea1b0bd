//! Reading a GPO back: a registry row that lacks a property the read needs (or carries an enum
//! as Windows PowerShell 5.1's number) is an error naming it, not a silent "in sync".

use std::collections::BTreeSet;

use serde_json::{json, Value};

use cmdeploy_engine::provider::ReadOutcome;
use cmdeploy_engine::resource::Connection;

use super::observe;
use crate::powershell::{CallResult, Script, ScriptOutput, Target};

const GPO: &str = "ConfigMgr Client Deployment Settings";

fn read_with(row: Value) -> ReadOutcome {
    let connection = Connection::new("dc", json!({"host": "dc01.contoso.com"}));
    let mut script = Script::new(Target::DomainController {
        domain: "contoso.com".into(),
    });
    let list = script.push(observe::list_call());
    let layout = observe::push_reads(&mut script.calls, list, GPO, BTreeSet::new());
    let mut results = vec![CallResult {
        id: 0,
        ok: true,
        value: json!([{"DisplayName": GPO, "Id": "{1}"}]),
        error: None,
        category: None,
    }];
    results.push(CallResult {
        id: layout.keys[0],
        ok: true,
        value: json!([row]),
        error: None,
        category: None,
    });
    observe::outcome(&connection, &script, &ScriptOutput { results }, &layout)
}

#[test]
fn a_registry_type_serialised_as_a_number_fails_naming_the_property() {
    let outcome = read_with(
        json!({"PolicyState": "Set", "ValueName": "SetupParameters", "Type": 1, "Value": "SMSSITECODE=ABC"}),
    );
    let ReadOutcome::Failed(e) = outcome else {
        panic!("expected a failed read, got {outcome:?}");
    };
    assert!(e.message.contains("'Type'"), "{e:?}");
    assert!(e.message.contains(GPO), "{e:?}");
    assert_eq!(e.host, "dc01.contoso.com");
}

#[test]
fn a_registry_row_without_a_policy_state_fails_naming_the_property() {
    let outcome = read_with(
        json!({"ValueName": "SetupParameters", "Type": "String", "Value": "SMSSITECODE=ABC"}),
    );
    let ReadOutcome::Failed(e) = outcome else {
        panic!("expected a failed read, got {outcome:?}");
    };
    assert!(e.message.contains("'PolicyState'"), "{e:?}");
}

#[test]
fn a_complete_row_reads_as_the_policy_value() {
    let outcome = read_with(
        json!({"PolicyState": "Set", "ValueName": "SetupParameters", "Type": "String", "Value": "SMSSITECODE=ABC"}),
    );
    let ReadOutcome::Present(o) = outcome else {
        panic!("expected the GPO, got {outcome:?}");
    };
    assert!(o.attrs.contains_key("client_deployment"), "{o:?}");
}

#[test]
fn each_policy_is_named_as_its_model_attribute() {
    use super::{GpoModel, PolicyValues};
    use crate::gpo::policy::Policy;
    for p in Policy::ALL {
        let mut m = GpoModel {
            name: GPO.into(),
            links: Vec::new(),
            client_deployment: None,
            site_assignment: None,
            windows_update: None,
        };
        *m.policy_mut(p) = Some(PolicyValues::new());
        let attrs = cmdeploy_engine::provider::to_attributes(&m);
        assert!(attrs.contains_key(p.name()), "{p:?}: {attrs:?}");
        assert!(m.policy(p).is_some());
    }
}
