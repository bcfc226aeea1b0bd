//! `Get-CMDevice -Resource`: the device's discovery record, an `SMS_R_System` object, instead of
//! the `SMS_CombinedDeviceResources` row `Get-CMDevice` returns by default ("If you use
//! Get-CMDevice -Resource the output is the same as Get-CMResource", which "queries the
//! SMS_R_System class": PSRef Get-CMResource.md).
//!
//! Of the class (memdocs `configmgr/develop/reference/core/clients/manage/
//! sms_r_system-server-wmi-class.md`) the lab fills what a client's location needs and what
//! identifies the record: `IPAddresses` (String[], every address of the computer), `IPSubnets`
//! (String[], the subnet ID of each address: the page calls them "subnet masks", but the site
//! stores IDs, which collection queries compare them with, e.g. `SMS_R_System.IPSubnets =
//! "192.168.1.0"`), `IPv6Addresses`, `IPv6Prefixes`, `ADSiteName` (String, null when unknown,
//! as for a workgroup computer), `Client` (UInt32 1, or null for a discovered computer without
//! one), `ClientVersion`, `SMSAssignedSites`, `ResourceDomainORWorkgroup`, `Obsolete` and
//! `Active` (UInt32). A computer has a record when `Get-CMDevice` has one for it.

use serde_json::{json, Value};

use super::args::Args;
use super::model::{short, Estate, Host};
use cmdeploy_providers::configmgr::net;

/// The device records `records` as `Get-CMDevice` returns them: their `SMS_R_System` objects
/// with `-Resource`, else unchanged.
pub fn as_asked(estate: &Estate, a: &Args, records: Vec<Value>) -> Vec<Value> {
    if a.has("Resource") {
        system_resources(estate, &records)
    } else {
        records
    }
}

/// The `SMS_R_System` objects of the device records `records` (`Get-CMDevice` rows of the lab's
/// hosts, each with its `Name` and `ResourceID`).
pub fn system_resources(estate: &Estate, records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .filter_map(|r| {
            let name = r.get("Name").and_then(Value::as_str)?;
            let host = estate.host(name)?;
            Some(system_resource(estate, host, r))
        })
        .collect()
}

fn system_resource(estate: &Estate, h: &Host, record: &Value) -> Value {
    let net4 = net::host_net(&h.ip);
    let addresses: Vec<String> = net4.iter().map(|n| n.addr().to_string()).collect();
    let subnets: Vec<String> = net4.iter().map(|n| n.network().to_string()).collect();
    let is_client = record.get("IsClient").and_then(Value::as_bool) == Some(true);
    let assigned: Vec<String> = h
        .client
        .as_ref()
        .filter(|c| is_client && !c.site_code.is_empty())
        .map(|c| vec![c.site_code.to_uppercase()])
        .unwrap_or_default();
    // A domain member's NetBIOS domain name; a workgroup computer's workgroup.
    let workgroup = h.domain.as_ref().map_or_else(
        || "WORKGROUP".to_string(),
        |d| {
            estate
                .domain(d)
                .map_or_else(|| d.to_uppercase(), |x| x.netbios.clone())
        },
    );
    json!({
        "Name": short(&h.fqdn).to_uppercase(),
        "NetbiosName": short(&h.fqdn).to_uppercase(),
        "ResourceId": record.get("ResourceID").cloned().unwrap_or(Value::Null),
        "ResourceType": 5,
        "Client": if is_client { json!(1) } else { Value::Null },
        "ClientVersion": if is_client { record.get("ClientVersion").cloned().unwrap_or(Value::Null) } else { Value::Null },
        "IPAddresses": addresses,
        "IPSubnets": subnets,
        "IPv6Addresses": Vec::<String>::new(),
        "IPv6Prefixes": Vec::<String>::new(),
        "ADSiteName": h.ad_site.clone(),
        "SMSAssignedSites": assigned,
        "ResourceDomainORWorkgroup": workgroup,
        "Obsolete": 0,
        "Active": u32::from(is_client),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Client;

    #[test]
    fn a_client_record_holds_its_address_subnet_id_and_ad_site() {
        let mut e = Estate::default();
        e.domains.push(crate::model::Domain {
            name: "fabrikam.com".into(),
            netbios: "FABRIKAM".into(),
            ..Default::default()
        });
        e.hosts.push(Host {
            fqdn: "ws-muc-001.fabrikam.com".into(),
            domain: Some("fabrikam.com".into()),
            ip: "10.20.42.17/24".into(),
            ad_site: Some("Munich".into()),
            client: Some(Client {
                site_code: "FB1".into(),
                ..Client::default()
            }),
            ..Host::default()
        });
        let record = json!({"Name": "WS-MUC-001", "ResourceID": 16777000, "IsClient": true, "ClientVersion": "5.00.9128.1000"});
        let r = &system_resources(&e, &[record])[0];
        assert_eq!(r["IPAddresses"], json!(["10.20.42.17"]));
        assert_eq!(r["IPSubnets"], json!(["10.20.42.0"]));
        assert_eq!(r["ADSiteName"], "Munich");
        assert_eq!(r["Client"], 1);
        assert_eq!(r["SMSAssignedSites"], json!(["FB1"]));
        assert_eq!(r["ResourceDomainORWorkgroup"], "FABRIKAM");
    }
}
