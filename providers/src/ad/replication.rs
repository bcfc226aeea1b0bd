//! Reading Active Directory replication sites and subnets from a domain controller, in one
//! Script: `Get-ADReplicationSite -Filter * -Properties Description` and
//! `Get-ADReplicationSubnet -Filter * -Properties Description` (PSRef ActiveDirectory,
//! winserver2022-ps; both in cmdlets.json, `Filter` parameter set).
//!
//! A subnet's `Site` is the distinguished name of its site object
//! (`CN=HQ,CN=Sites,CN=Configuration,DC=contoso,DC=com`), or `$null` when the subnet is in no
//! site; the site's `Name` is looked up from the sites read in the same Script. `Description` is
//! not in the subnets' default property set, hence `-Properties Description`.

use serde_json::Value;

use cmdeploy_engine::data::DataSource;
use cmdeploy_engine::provider::{Context, RemoteError};

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// An AD replication site.
#[derive(Debug, Clone, PartialEq)]
pub struct AdSite {
    /// `Name`.
    pub name: String,
    /// `Description` (empty when unset).
    pub description: String,
    /// `DistinguishedName`.
    pub dn: String,
}

/// An AD replication subnet.
#[derive(Debug, Clone, PartialEq)]
pub struct AdSubnet {
    /// `Name`: the prefix, `10.1.0.0/16` or `2001:db8:1::/48`.
    pub name: String,
    /// The name of its site (empty when the subnet is in no site).
    pub site: String,
    /// `Location` (empty when unset).
    pub location: String,
    /// `Description` (empty when unset).
    pub description: String,
}

/// The Script that reads every site and subnet through `source`'s domain controller.
pub fn script(source: &DataSource) -> Script {
    let domain = source
        .settings
        .get("domain")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let server = source.connection.host();
    let mut script = Script::new(Target::DomainController { domain });
    // -Server: the controller the Script runs on, so the module never looks for another one
    // (a second hop from WinRM has no network credentials; windows-runtime.md §6).
    script.push(
        Call::new("Get-ADReplicationSite")
            .arg("Filter", "*")
            .arg("Properties", serde_json::json!(["Description"]))
            .arg("Server", server.as_str()),
    );
    script.push(
        Call::new("Get-ADReplicationSubnet")
            .arg("Filter", "*")
            .arg("Properties", serde_json::json!(["Description"]))
            .arg("Server", server.as_str()),
    );
    script
}

/// Reads every site and subnet (unfiltered).
///
/// # Errors
/// The transport failure, or the failed cmdlet with the controller's message: never an empty
/// list in place of a failure.
pub async fn read(
    ctx: &Context,
    source: &DataSource,
) -> Result<(Vec<AdSite>, Vec<AdSubnet>), RemoteError> {
    let script = script(source);
    let out = kit::run(ctx, &source.connection, &script).await?;
    let sites = kit::value_of(&source.connection, &script, &out, 0)?;
    let subnets = kit::value_of(&source.connection, &script, &out, 1)?;
    Ok(parse(sites, subnets))
}

/// The sites and subnets of the two calls' values.
pub fn parse(sites: &Value, subnets: &Value) -> (Vec<AdSite>, Vec<AdSubnet>) {
    let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_string();
    let sites: Vec<AdSite> = kit::items(sites)
        .into_iter()
        .map(|s| AdSite {
            name: text(s, "Name"),
            description: text(s, "Description"),
            dn: text(s, "DistinguishedName"),
        })
        .filter(|s| !s.name.is_empty())
        .collect();
    let subnets = kit::items(subnets)
        .into_iter()
        .map(|n| {
            let dn = text(n, "Site");
            let site = sites
                .iter()
                .find(|s| s.dn.eq_ignore_ascii_case(&dn))
                .map(|s| s.name.clone())
                .unwrap_or_else(|| first_rdn(&dn));
            AdSubnet {
                name: text(n, "Name"),
                site,
                location: text(n, "Location"),
                description: text(n, "Description"),
            }
        })
        .filter(|n| !n.name.is_empty())
        .collect();
    (sites, subnets)
}

/// `HQ` of `CN=HQ,CN=Sites,...` (a site created after the sites were read), unescaping `\,`.
fn first_rdn(dn: &str) -> String {
    let Some(rest) = dn
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("CN="))
        .map(|_| &dn[3..])
    else {
        return String::new();
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            ',' => break,
            c => out.push(c),
        }
    }
    out
}

/// PowerShell's `-like` for the site patterns: `*` any run, `?` one character, case-insensitive.
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_subnet_names_its_site_by_distinguished_name() {
        let sites = json!([{"Name": "HQ", "Description": "Head office", "DistinguishedName": "CN=HQ,CN=Sites,CN=Configuration,DC=contoso,DC=com"}]);
        let subnets = json!([
            {"Name": "10.1.0.0/16", "Site": "CN=HQ,CN=Sites,CN=Configuration,DC=contoso,DC=com", "Location": null},
            {"Name": "10.9.0.0/16", "Site": null, "Location": "Lab"},
            {"Name": "10.8.0.0/16", "Site": "CN=New\\, Site,CN=Sites,CN=Configuration,DC=contoso,DC=com"}
        ]);
        let (s, n) = parse(&sites, &subnets);
        assert_eq!(s[0].description, "Head office");
        assert_eq!(n[0].site, "HQ");
        assert_eq!(n[0].location, "");
        assert_eq!(n[1].site, "");
        assert_eq!(n[2].site, "New, Site");
    }

    #[test]
    fn site_patterns_match_as_like_does() {
        assert!(like("Branch1", "branch*"));
        assert!(like("HQ", "HQ"));
        assert!(like("HQ", "*"));
        assert!(like("Branch12", "Branch?2"));
        assert!(!like("HQ2", "HQ"));
        assert!(!like("Branch", "Branch?"));
    }
}
