//! `cmdeploy resolve HOST`: where a computer of the manifests lands.
//!
//! Manifests name hosts, never their addresses: a client's IP addresses come from DHCP and its
//! AD site from the domain controller that answers it, and no client deployment cmdlet takes
//! them. What the site knows is the computer's discovery record, `SMS_R_System`, which
//! heartbeat and Active Directory System Discovery keep: `IPAddresses` (every network card),
//! `IPSubnets` (the subnet ID of each, computed with the client's own mask, which an IP subnet
//! boundary must equal: "the client's subnet mask is used to determine if the client resides
//! within the site boundaries", KB Q200344; ConfigMgr keeps a subnet boundary's ID, not a mask)
//! and `ADSiteName` (memdocs `configmgr/develop/reference/core/clients/manage/
//! sms_r_system-server-wmi-class.md`). `Get-CMDevice -Name NAME -Resource` returns it (PSRef
//! Get-CMResource.md: "If you use Get-CMDevice -Resource the output is the same as
//! Get-CMResource", which "queries the SMS_R_System class"). So a host is resolved against the
//! estate only (`--estate`), from that record; without `--estate` the answer is a diagnostic at the table that declares the host,
//! saying so.

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;
use serde_json::Value;

use cmdeploy_engine::resource::ResourceSet;

use super::client_location::Location;
use crate::kit;
use crate::powershell::Call;

/// Kinds whose instances are computers (`client_group.kiosks["kiosk01"]`, `imaging.reference`).
const HOST_KINDS: [&str; 2] = ["client_group", "imaging"];

/// Where the site's device record places a host.
#[derive(Debug, Clone, Serialize)]
pub struct HostLocation {
    /// The name asked about.
    pub host: String,
    /// Manifest addresses that declare it (`client_group.pushed["ws-muc-001"]`); empty for a
    /// device only the site knows.
    pub declared_by: Vec<String>,
    /// `SMS_R_System.ResourceId` of each record read.
    pub resource_ids: Vec<i64>,
    /// `IPAddresses`.
    pub ip_addresses: Vec<String>,
    /// `IPSubnets` (subnet IDs).
    pub ip_subnets: Vec<String>,
    /// `ADSiteName`.
    pub ad_site: Option<String>,
}

/// The NetBIOS name `Get-CMDevice -Name` looks up for `text` (the first label of a host name),
/// or `None` when `text` is an address or not a computer name (`-Name` takes wildcards, so a
/// name with anything but letters, digits, `-`, `_` and `.` is never looked up).
pub fn device_name(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.parse::<IpAddr>().is_ok() {
        return None;
    }
    let ok = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let first = text.split('.').next().unwrap_or(text);
    (ok && !first.is_empty()).then(|| first.to_string())
}

/// The call that reads the discovery record of the device `name`.
pub fn device_call(name: &str) -> Call {
    Call::new("Get-CMDevice")
        .arg("Name", name)
        .switch("Resource")
}

/// The addresses of the manifest instances that are the computer `text`: by instance key or by
/// connection host, its FQDN or its first label, case-insensitively.
pub fn declared_by(resources: &ResourceSet, text: &str) -> Vec<String> {
    let text = text.trim();
    let short = |s: &str| s.split('.').next().unwrap_or(s).to_string();
    let same = |a: &str| a.eq_ignore_ascii_case(text) || short(a).eq_ignore_ascii_case(text);
    let mut out = Vec::new();
    for kind in HOST_KINDS {
        for r in resources.of_kind(kind) {
            let by_key = r.address.key.as_deref().is_some_and(same);
            let by_connection = resources
                .connections
                .get(&r.address)
                .filter(|c| c.key.starts_with("host:"))
                .is_some_and(|c| same(&c.host()));
            if by_key || by_connection {
                out.push(r.address.to_string());
            }
        }
    }
    out
}

/// The help for a host of the manifests resolved without `--estate`: where its location is
/// kept and what to run instead.
pub fn needs_estate_help(text: &str) -> String {
    format!(
        "a computer's IP addresses, subnets and AD site are what it last reported to the site, kept in its discovery record (SMS_R_System IPAddresses, IPSubnets, ADSiteName); read them with `cmdeploy resolve {text} --estate`, or resolve one of its addresses (`cmdeploy resolve 10.1.2.3`) or its AD site"
    )
}

/// The host's location from the `SMS_R_System` records `records` read for it (several when the
/// site holds more than one record of the name: their addresses are merged, since the client
/// may be at any of them), or `None` when there is none.
pub fn locate(
    text: &str,
    declared: Vec<String>,
    records: &[Value],
) -> Option<(HostLocation, Location)> {
    let live: Vec<&Value> = records
        .iter()
        .filter(|r| kit::n(r, "Obsolete") != 1)
        .collect();
    if live.is_empty() {
        return None;
    }
    let strings = |r: &Value, field: &str| -> Vec<String> {
        kit::items(r.get(field).unwrap_or(&Value::Null))
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let mut host = HostLocation {
        host: text.trim().to_string(),
        declared_by: declared,
        resource_ids: live.iter().map(|r| kit::n(r, "ResourceId")).collect(),
        ip_addresses: Vec::new(),
        ip_subnets: Vec::new(),
        ad_site: None,
    };
    let mut at = Location::default();
    for r in &live {
        for a in strings(r, "IPAddresses")
            .into_iter()
            .chain(strings(r, "IPv6Addresses"))
        {
            if let Ok(ip) = a.parse::<IpAddr>() {
                if !at.addresses.contains(&ip) {
                    at.addresses.push(ip);
                    host.ip_addresses.push(a);
                }
            }
        }
        for s in strings(r, "IPSubnets") {
            if let Ok(id) = s.parse::<Ipv4Addr>() {
                if !at.subnet_ids.contains(&id) {
                    at.subnet_ids.push(id);
                    host.ip_subnets.push(s);
                }
            }
        }
        let site = kit::s(r, "ADSiteName");
        if host.ad_site.is_none() && !site.is_empty() {
            host.ad_site = Some(site.to_string());
            at.ad_site = Some(site.to_string());
        }
    }
    Some((host, at))
}

/// The line `resolve` prints under the host's name.
pub fn describe(h: &HostLocation) -> String {
    let ids: Vec<String> = h.resource_ids.iter().map(i64::to_string).collect();
    let join = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "device record (SMS_R_System {}): IP addresses {}; subnets {}; AD site {}{}",
        ids.join(", "),
        join(&h.ip_addresses),
        join(&h.ip_subnets),
        h.ad_site.as_deref().unwrap_or("none"),
        if h.declared_by.is_empty() {
            String::new()
        } else {
            format!("; declared by {}", h.declared_by.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_computer_names_are_looked_up_by_their_first_label() {
        assert_eq!(
            device_name("ws-muc-001.fabrikam.com").as_deref(),
            Some("ws-muc-001")
        );
        assert_eq!(device_name("KIOSK01").as_deref(), Some("KIOSK01"));
        assert_eq!(device_name("10.20.42.17"), None);
        assert_eq!(device_name("ws*"), None);
        assert_eq!(device_name("Default First Site"), None);
    }

    #[test]
    fn records_merge_into_one_location_and_obsolete_ones_are_ignored() {
        let records = [
            json!({"ResourceId": 7, "IPAddresses": ["10.20.42.17", "fe80::1"], "IPSubnets": ["10.20.42.0"], "ADSiteName": "Munich", "Obsolete": 0}),
            json!({"ResourceId": 8, "IPAddresses": ["172.20.3.4"], "IPSubnets": [], "ADSiteName": null}),
            json!({"ResourceId": 3, "IPAddresses": ["10.99.0.1"], "Obsolete": 1}),
        ];
        let (h, at) = locate("ws-muc-001", vec![], &records).unwrap();
        assert_eq!(h.resource_ids, [7, 8]);
        assert_eq!(h.ip_addresses, ["10.20.42.17", "fe80::1", "172.20.3.4"]);
        assert_eq!(at.subnet_ids, ["10.20.42.0".parse::<Ipv4Addr>().unwrap()]);
        assert_eq!(at.ad_site.as_deref(), Some("Munich"));
        assert!(locate("x", vec![], &records[2..]).is_none());
        assert!(describe(&h).contains("AD site Munich"));
    }
}
