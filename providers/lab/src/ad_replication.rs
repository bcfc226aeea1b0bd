//! Active Directory replication sites and subnets on a domain controller:
//! `Get-ADReplicationSite` and `Get-ADReplicationSubnet` (PSRef ActiveDirectory, winserver2022-ps;
//! parameter sets in cmdlets.json), and the `lab ad-subnet` changes tests make to AD.
//!
//! Sites and subnets live in the forest's configuration partition
//! (`CN=Sites,CN=Configuration,<forest root>`); the lab keeps them on the domain whose
//! controllers answer. The objects come out as the module writes them: `Name`,
//! `DistinguishedName`, `ObjectClass` (`site`, `subnet`), `ObjectGUID`, and for a subnet `Site`
//! (the *distinguished name* of its site, `$null` when it has none) and `Location` (`$null` when
//! unset); `Description` only when asked for with `-Properties` (it is not in the subnet's
//! default property set), `$null` when unset. `-Filter` is mandatory in the `Filter` set; the lab
//! evaluates `*` only. `-Server` naming another computer is the double hop.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::args::{Args, CmdError, CmdResult};
use super::model::{Domain, Estate};

pub use super::ad_model::{AdSite, AdSubnet};

/// `DC=contoso,DC=com`.
fn root_dn(domain: &str) -> String {
    domain
        .split('.')
        .map(|p| format!("DC={p}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A site's distinguished name (`,` escaped as a DN requires).
fn site_dn(domain: &str, site: &str) -> String {
    format!(
        "CN={},CN=Sites,CN=Configuration,{}",
        site.replace(',', "\\,"),
        root_dn(domain)
    )
}

/// A stable GUID for an object, from its distinguished name.
fn guid(dn: &str) -> String {
    let h = hex::encode(Sha256::digest(dn.to_lowercase().as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn or_null(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

fn domain<'e>(estate: &'e Estate, name: &str) -> Result<&'e Domain, CmdError> {
    estate
        .domains
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| CmdError::new("ResourceUnavailable", format!("Unable to find a default server with Active Directory Web Services running for domain {name}.")))
}

/// The common parameters of both cmdlets: `-Filter` (only `*`) or `-Identity`, `-Properties`
/// (whether `Description` is asked for), `-Server` (must be this controller).
fn bind(a: &Args, controller: &str) -> Result<(Option<String>, bool), CmdError> {
    if let Some(server) = a.opt_str("Server")? {
        let same = server.eq_ignore_ascii_case(controller)
            || super::model::short(&server).eq_ignore_ascii_case(super::model::short(controller));
        if !same {
            return Err(super::double_hop::refused(&format!(
                "Contacting Active Directory Web Services on {server} from {controller}"
            )));
        }
    }
    let filter = a.opt_str("Filter")?;
    let identity = a.opt_str("Identity")?;
    let properties = a.opt_strs("Properties")?.unwrap_or_default();
    a.accept(&["AuthType"]);
    a.finish()?;
    match (&filter, &identity) {
        (Some(_), Some(_)) => Err(CmdError::new(
            "InvalidArgument",
            "Parameter set cannot be resolved using the specified named parameters.",
        )),
        (Some(f), None) if f.trim() != "*" => Err(CmdError::new(
            "NotImplemented",
            format!("the lab evaluates -Filter * only (got {f:?})"),
        )),
        _ => Ok((
            identity,
            properties
                .iter()
                .any(|p| p == "*" || p.eq_ignore_ascii_case("Description")),
        )),
    }
}

fn not_found(kind: &str, identity: &str, domain: &str) -> CmdError {
    CmdError::new(
        "ObjectNotFound",
        format!(
            "Cannot find an object with identity: '{identity}' under: 'CN={kind},CN=Configuration,{}'.",
            root_dn(domain)
        ),
    )
}

/// `Get-ADReplicationSite -Filter * | -Identity NAME [-Properties ...] [-Server ...]`.
///
/// # Errors
/// Binding errors, the double hop, an identity that matches no site.
pub fn get_sites(estate: &Estate, controller: &str, dom: &str, a: &Args) -> CmdResult {
    let (identity, description) = bind(a, controller)?;
    let d = domain(estate, dom)?;
    let sites: Vec<&AdSite> = match &identity {
        Some(id) => {
            let s = d
                .ad_sites
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(id))
                .ok_or_else(|| not_found("Sites", id, dom))?;
            vec![s]
        }
        None => d.ad_sites.iter().collect(),
    };
    Ok(Value::Array(
        sites
            .into_iter()
            .map(|s| {
                let dn = site_dn(&d.name, &s.name);
                let mut m = Map::new();
                if description {
                    m.insert("Description".into(), or_null(&s.description));
                }
                m.insert("DistinguishedName".into(), json!(dn));
                m.insert("Name".into(), json!(s.name));
                m.insert("ObjectClass".into(), json!("site"));
                m.insert("ObjectGUID".into(), json!(guid(&dn)));
                Value::Object(m)
            })
            .collect(),
    ))
}

/// `Get-ADReplicationSubnet -Filter * | -Identity PREFIX [-Properties ...] [-Server ...]`.
///
/// # Errors
/// Binding errors, the double hop, an identity that matches no subnet.
pub fn get_subnets(estate: &Estate, controller: &str, dom: &str, a: &Args) -> CmdResult {
    let (identity, description) = bind(a, controller)?;
    let d = domain(estate, dom)?;
    let subnets: Vec<&AdSubnet> = match &identity {
        Some(id) => {
            let s = d
                .ad_subnets
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(id))
                .ok_or_else(|| not_found("Subnets,CN=Sites", id, dom))?;
            vec![s]
        }
        None => d.ad_subnets.iter().collect(),
    };
    Ok(Value::Array(
        subnets
            .into_iter()
            .map(|s| {
                let dn = format!(
                    "CN={},CN=Subnets,CN=Sites,CN=Configuration,{}",
                    s.name,
                    root_dn(&d.name)
                );
                let mut m = Map::new();
                if description {
                    m.insert("Description".into(), or_null(&s.description));
                }
                m.insert("DistinguishedName".into(), json!(dn));
                m.insert("Location".into(), or_null(&s.location));
                m.insert("Name".into(), json!(s.name));
                m.insert("ObjectClass".into(), json!("subnet"));
                m.insert("ObjectGUID".into(), json!(guid(&dn)));
                m.insert(
                    "Site".into(),
                    if s.site.is_empty() {
                        Value::Null
                    } else {
                        json!(site_dn(&d.name, &s.site))
                    },
                );
                Value::Object(m)
            })
            .collect(),
    ))
}

/// Adds a subnet to the first domain (`New-ADReplicationSubnet`'s rules: a valid prefix, not
/// there yet, an existing site). Returns what `lab ad-subnet` prints.
///
/// # Errors
/// The reason, as a sentence.
pub fn add_subnet(estate: &mut Estate, subnet: AdSubnet) -> Result<String, String> {
    let d = estate.domains.first_mut().ok_or("the lab has no domain")?;
    if subnet.name.trim().parse::<ipnet::IpNet>().is_err() {
        return Err(format!(
            "`{}` is not a subnet prefix (a.b.c.d/len or an IPv6 prefix)",
            subnet.name
        ));
    }
    if d.ad_subnets
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case(&subnet.name))
    {
        return Err(format!("subnet {} exists already", subnet.name));
    }
    check_site(d, &subnet.site)?;
    let line = format!("Added AD subnet {} in site {}.", subnet.name, subnet.site);
    d.ad_subnets.push(subnet);
    Ok(line)
}

/// Moves a subnet to another site (`Set-ADReplicationSubnet -Site`).
///
/// # Errors
/// The subnet or the site does not exist.
pub fn set_subnet_site(estate: &mut Estate, name: &str, site: &str) -> Result<String, String> {
    let d = estate.domains.first_mut().ok_or("the lab has no domain")?;
    check_site(d, site)?;
    let s = d
        .ad_subnets
        .iter_mut()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("no AD subnet {name}"))?;
    s.site = site.to_string();
    Ok(format!("Moved AD subnet {name} to site {site}."))
}

/// Removes a subnet (`Remove-ADReplicationSubnet`).
///
/// # Errors
/// The subnet does not exist.
pub fn remove_subnet(estate: &mut Estate, name: &str) -> Result<String, String> {
    let d = estate.domains.first_mut().ok_or("the lab has no domain")?;
    let before = d.ad_subnets.len();
    d.ad_subnets.retain(|s| !s.name.eq_ignore_ascii_case(name));
    if d.ad_subnets.len() == before {
        return Err(format!("no AD subnet {name}"));
    }
    Ok(format!("Removed AD subnet {name}."))
}

fn check_site(d: &Domain, site: &str) -> Result<(), String> {
    if site.is_empty() || d.ad_sites.iter().any(|s| s.name.eq_ignore_ascii_case(site)) {
        Ok(())
    } else {
        let known: Vec<&str> = d.ad_sites.iter().map(|s| s.name.as_str()).collect();
        Err(format!(
            "no AD site {site} (sites: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    }
}
