//! Connections that could not be used at all: the typed failure a transport reports when it never
//! got a Script to run on a connection (nothing listening, a firewall, refused credentials), and
//! the plan's grouping of every resource behind such a connection under one error.
//!
//! A closed port used to give the same error once per resource, in the plan body and again on
//! stderr; with [`Unreachable`] on the [`RemoteError`](crate::provider::RemoteError), the plan
//! says it once per connection, with the likely causes, and lists the resources it could not read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::address::Address;

/// A read outcome that may be a connection-level failure: its host, Windows' or the operating
/// system's message, and why the connection could not be used.
pub trait Unreachability {
    /// `(host, message, why)` when the outcome is a failure to use the connection at all.
    fn unreachable(&self) -> Option<(&str, &str, &Unreachable)>;
}

/// Why a connection could not be used, as its transport describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreachable {
    /// The connection's name (`cm01` for `[connection.cm01]`, the host of an inline connection).
    pub connection: String,
    /// Where and how it connects, e.g. `cm01.contoso.com at 127.0.0.1:5985, winrm over HTTP,
    /// ntlm as CONTOSO\cmadmin` (never a secret).
    pub endpoint: String,
    /// The likely causes and what to check, most likely first.
    pub causes: Vec<String>,
}

/// One unreachable connection of a plan and the resources it left unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreachableConnection {
    /// What the transport said about the connection.
    #[serde(flatten)]
    pub unreachable: Unreachable,
    /// Host the error names.
    pub host: String,
    /// The error: the stage and Windows' or the operating system's own message.
    pub error: String,
    /// Addresses not read because of it, in the plan's order.
    pub resources: Vec<String>,
}

/// The unreachable connections among read outcomes, each once, with the addresses behind it
/// (ordered as `order` lists them; addresses not in `order` are left out).
pub fn group<'a, O: Unreachability>(
    observed: &BTreeMap<Address, O>,
    order: impl IntoIterator<Item = &'a str>,
) -> Vec<UnreachableConnection> {
    // Mostly none: then no address is parsed.
    if !observed.values().any(|o| o.unreachable().is_some()) {
        return Vec::new();
    }
    let mut by_connection: BTreeMap<String, UnreachableConnection> = BTreeMap::new();
    let mut first_seen: Vec<String> = Vec::new();
    for address in order {
        let Ok(a) = Address::parse(address) else {
            continue;
        };
        let Some((host, message, u)) = observed.get(&a).and_then(Unreachability::unreachable)
        else {
            continue;
        };
        let entry = by_connection
            .entry(u.connection.clone())
            .or_insert_with(|| {
                first_seen.push(u.connection.clone());
                UnreachableConnection {
                    unreachable: u.clone(),
                    host: host.to_string(),
                    error: message.to_string(),
                    resources: Vec::new(),
                }
            });
        entry.resources.push(address.to_string());
    }
    first_seen
        .into_iter()
        .filter_map(|c| by_connection.remove(&c))
        .collect()
}

/// The note on a resource that was not read because its connection is unreachable.
pub fn note(connection: &str) -> String {
    format!("not read: connection {connection} is unreachable")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read outcome: absent (`None`), or failed with a message and maybe an unreachable
    /// connection.
    struct Outcome(Option<(String, Option<Unreachable>)>);

    impl Unreachability for Outcome {
        fn unreachable(&self) -> Option<(&str, &str, &Unreachable)> {
            let (message, u) = self.0.as_ref()?;
            Some(("cm01.contoso.com", message.as_str(), u.as_ref()?))
        }
    }

    fn failed(connection: Option<&str>, message: &str) -> Outcome {
        let u = connection.map(|c| Unreachable {
            connection: c.into(),
            endpoint: "cm01.contoso.com at 127.0.0.1:1".into(),
            causes: vec!["nothing listens".into()],
        });
        Outcome(Some((message.to_string(), u)))
    }

    #[test]
    fn resources_behind_one_connection_give_one_group_and_other_failures_none() {
        let mut observed = BTreeMap::new();
        for (a, o) in [
            ("boundary.b1", failed(Some("cm01"), "connect: refused")),
            ("boundary.b2", failed(Some("cm01"), "connect: refused")),
            ("gpo.g", failed(Some("dc01"), "auth: 401")),
            ("boundary.b3", failed(None, "Get-CMBoundary: access denied")),
            ("boundary.b4", Outcome(None)),
        ] {
            observed.insert(Address::parse(a).unwrap(), o);
        }
        let order = [
            "boundary.b1",
            "boundary.b2",
            "boundary.b3",
            "boundary.b4",
            "gpo.g",
        ];
        let groups = group(&observed, order);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].unreachable.connection, "cm01");
        assert_eq!(groups[0].resources, ["boundary.b1", "boundary.b2"]);
        assert_eq!(groups[0].error, "connect: refused");
        assert_eq!(groups[1].unreachable.connection, "dc01");
        assert_eq!(groups[1].resources, ["gpo.g"]);
    }
}
