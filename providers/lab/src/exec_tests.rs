//! The lab's dispatch against the cmdlet table: every entry has an implementation, nothing off
//! the table is one, each runs only where its module is loaded, and the runner's check lets
//! through exactly the table's runner entries.

use serde_json::Map;

use cmdeploy_providers::powershell::cmdlets::{Caller, RunsOn, CMDLETS};

use super::super::args::CmdResult;
use super::super::model::Estate;
use super::{allowed, execute, Session};

fn opened(on: RunsOn) -> Session {
    Session {
        host: "srv01.contoso.com".into(),
        site: (on == RunsOn::SiteServer).then(|| "ABC".into()),
        domain: (on == RunsOn::DomainController).then(|| "contoso.com".into()),
    }
}

fn not_recognized(r: &CmdResult) -> bool {
    matches!(r, Err(e) if e.message.contains("is not recognized as the name of a cmdlet"))
}

#[test]
fn every_table_entry_has_a_lab_implementation() {
    for c in CMDLETS {
        for name in [c.name.to_string(), c.name.to_ascii_lowercase()] {
            let r = execute(
                &mut Estate::default(),
                &opened(c.runs_on),
                &name,
                &Map::new(),
            );
            assert!(!not_recognized(&r), "{name}: {r:?}");
        }
    }
}

#[test]
fn a_name_off_the_table_is_not_recognized_anywhere() {
    for name in [
        "Invoke-Expression",
        "Get-CMUser",
        "Set-GPPermission",
        "Get-ADUser",
        "Get-CmdeploySecrets",
    ] {
        for on in [RunsOn::SiteServer, RunsOn::DomainController, RunsOn::Host] {
            let r = execute(&mut Estate::default(), &opened(on), name, &Map::new());
            assert!(not_recognized(&r), "{name}: {r:?}");
        }
        assert!(allowed(name).is_err(), "{name}");
    }
}

#[test]
fn a_module_cmdlet_is_unknown_where_its_module_is_not_loaded() {
    let modules = CMDLETS
        .iter()
        .filter(|c| c.runs_on != RunsOn::Host && !c.is_runner_function());
    for c in modules {
        for on in [RunsOn::SiteServer, RunsOn::DomainController, RunsOn::Host] {
            if on == c.runs_on {
                continue;
            }
            let r = execute(&mut Estate::default(), &opened(on), c.name, &Map::new());
            assert!(not_recognized(&r), "{} on {on:?}: {r:?}", c.name);
        }
    }
}

#[test]
fn the_runner_allows_exactly_the_runner_entries() {
    for c in CMDLETS {
        let runner = c.caller == Caller::Runner;
        assert_eq!(allowed(c.name).is_ok(), runner, "{}", c.name);
        assert_eq!(
            allowed(&c.name.to_ascii_uppercase()).is_ok(),
            runner,
            "{}",
            c.name
        );
    }
}
