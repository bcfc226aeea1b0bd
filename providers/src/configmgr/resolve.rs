//! `cmdeploy resolve`: where a client at an address (or in an AD site) lands. Which boundaries
//! match, which boundary groups hold them, the site it would be assigned to (groups used for
//! site assignment), and, per role (distribution point, management point, software update
//! point), the groups whose site systems it uses now and after each fallback time.
//!
//! ConfigMgr's rules (Doc boundary-groups.md "Fallback", boundary-groups-example.md; configmgr.md
//! §2.3, §6 rule 4): a client uses the servers of every group its location is in at once; after a
//! relationship's minutes it adds the neighbor group's servers; it falls back only to direct
//! neighbors; every custom group has an implied relationship to each primary site's
//! `Default-Site-Boundary-Group<CODE>` at 120 minutes unless a relationship to it says
//! otherwise; a client no boundary covers is in the default site boundary groups only.
//!
//! The answer is computed from a [`Model`]: the manifests' boundaries, groups and relationships
//! ([`Model::from_resources`]).

use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use cmdeploy_engine::resource::ResourceSet;

use super::boundary_group_relationship::{group_name, Fallback, DEFAULT_SITE_GROUP, ROLES};

/// ConfigMgr's implied fallback to a default site boundary group, in minutes.
pub const IMPLIED_DEFAULT_MINUTES: u32 = 120;

/// One boundary of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Boundary {
    /// Where it is declared (`boundary.hq_lan`).
    pub address: String,
    /// Its type (`ip_subnet`...).
    #[serde(rename = "type")]
    pub boundary_type: String,
    /// Its value, as the manifest states it.
    pub value: String,
    /// IPv4 addresses covered, inclusive (IP subnets and ranges).
    #[serde(skip)]
    pub interval: Option<(u32, u32)>,
}

/// One boundary group of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Where it is declared (`boundary_group.hq`), or its name for a default site group.
    pub address: String,
    /// ConfigMgr name.
    pub name: String,
    /// Site code used for site assignment (empty: not used for assignment).
    pub assignment_site: String,
    /// Site system servers.
    pub site_systems: Vec<String>,
    /// Member boundaries (addresses).
    #[serde(skip)]
    pub boundaries: Vec<String>,
}

/// One relationship: source and destination group names and minutes per role (`None`: never).
#[derive(Debug, Clone)]
pub struct Relationship {
    /// Source group name.
    pub source: String,
    /// Destination group name.
    pub destination: String,
    /// Minutes per role, in [`ROLES`] order; `None` is "never fallback".
    pub minutes: [Option<u32>; 3],
}

/// Boundaries, groups, relationships and primary sites.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Boundaries.
    pub boundaries: Vec<Boundary>,
    /// Boundary groups (the default site groups of [`Model::primary_sites`] included).
    pub groups: Vec<Group>,
    /// Relationships.
    pub relationships: Vec<Relationship>,
    /// Codes of the primary sites.
    pub primary_sites: Vec<String>,
    /// The servers (lower-case FQDNs) holding each role, in [`ROLES`] order, when known: the
    /// site says which site system is a distribution, management or software update point; the
    /// manifests do not, so from them every site system of a group is listed for every role.
    pub role_servers: Option<[Vec<String>; 3]>,
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Model {
    /// The model the manifests declare.
    pub fn from_resources(resources: &ResourceSet) -> Model {
        let mut m = Model::default();
        for b in resources.of_kind("boundary") {
            let get = |k: &str| {
                b.meta
                    .get(k)
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
            };
            let interval = get("ip_start").zip(get("ip_end"));
            m.boundaries.push(Boundary {
                address: b.address.to_string(),
                boundary_type: b.str_attr("type").unwrap_or("").to_string(),
                value: b.str_attr("value").unwrap_or("").to_string(),
                interval,
            });
        }
        for s in resources.of_kind("site") {
            if s.str_attr("type").is_none_or(|t| t == "primary") {
                let code = s.str_attr("code").unwrap_or(&s.address.name).to_uppercase();
                m.primary_sites.push(code);
            }
        }
        for g in resources.of_kind("boundary_group") {
            m.groups.push(Group {
                address: g.address.to_string(),
                name: g.str_attr("name").unwrap_or(&g.address.name).to_string(),
                assignment_site: g.str_attr("assignment_site").unwrap_or("").to_string(),
                site_systems: strs(g.attrs.get("site_systems")),
                boundaries: strs(g.attrs.get("boundaries"))
                    .into_iter()
                    .map(|k| format!("boundary.{k}"))
                    .collect(),
            });
        }
        for code in m.primary_sites.clone() {
            let name = format!("{DEFAULT_SITE_GROUP}{code}>");
            m.groups.push(Group {
                address: name.clone(),
                name,
                assignment_site: String::new(),
                site_systems: Vec::new(),
                boundaries: Vec::new(),
            });
        }
        for r in resources.of_kind("boundary_group_relationship") {
            let mut minutes = [None; 3];
            for (i, (attr, _, _)) in ROLES.iter().enumerate() {
                let f: Option<Fallback> = r
                    .attrs
                    .get(*attr)
                    .and_then(|v| serde_json::from_value(v.clone()).ok());
                minutes[i] = match f {
                    Some(Fallback::Minutes(n)) => Some(n),
                    _ => None,
                };
            }
            m.relationships.push(Relationship {
                source: group_name(resources, r.str_attr("source").unwrap_or("")),
                destination: group_name(resources, r.str_attr("destination").unwrap_or("")),
                minutes,
            });
        }
        m
    }
}

/// What `resolve` was asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// An IPv4 or IPv6 address.
    Address(IpAddr),
    /// An AD site name.
    AdSite(String),
}

impl Query {
    /// An address when the text is one, else an AD site name.
    pub fn parse(text: &str) -> Query {
        text.trim()
            .parse::<IpAddr>()
            .map_or_else(|_| Query::AdSite(text.trim().to_string()), Query::Address)
    }

    /// The location the query describes.
    pub fn location(&self) -> Location {
        match self {
            Query::Address(a) => Location {
                addresses: vec![*a],
                ..Location::default()
            },
            Query::AdSite(s) => Location {
                ad_site: Some(s.clone()),
                ..Location::default()
            },
        }
    }
}

pub use super::client_location::Location;

/// One step of a role's fallback: from `minutes` on, the servers of `groups` are used too.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Minutes after the client starts looking (0: at once).
    pub minutes: u32,
    /// Groups added at this time (names).
    pub groups: Vec<String>,
    /// Their site systems (FQDNs), as declared; a default site group's are not in manifests.
    /// Only those holding the role when [`Model::role_servers`] is known.
    pub site_systems: Vec<String>,
}

/// A role's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct RoleTimeline {
    /// `distribution_point`, `management_point` or `software_update_point`.
    pub role: String,
    /// Steps in time order.
    pub steps: Vec<Step>,
    /// Neighbor groups this role never falls back to (names).
    pub never: Vec<String>,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// The query as given.
    pub query: String,
    /// Matching boundaries.
    pub boundaries: Vec<Boundary>,
    /// Groups holding them (the default site groups when none matches).
    pub boundary_groups: Vec<Group>,
    /// Sites the client could be assigned to (groups used for site assignment).
    pub assigned_sites: Vec<String>,
    /// One timeline per role.
    pub roles: Vec<RoleTimeline>,
    /// Warnings: no boundary covers the location; groups assign it to different sites.
    pub warnings: Vec<String>,
    /// For a host: where the site's device record places it (absent for an address or AD site).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<super::resolve_host::HostLocation>,
}

fn matches(b: &Boundary, at: &Location) -> bool {
    let v4 = || {
        at.addresses.iter().filter_map(|a| match a {
            IpAddr::V4(a) => Some(u32::from(*a)),
            IpAddr::V6(_) => None,
        })
    };
    let within = |a: u32| b.interval.is_some_and(|(s, e)| (s..=e).contains(&a));
    match b.boundary_type.as_str() {
        "ip_subnet" if !at.subnet_ids.is_empty() => at
            .subnet_ids
            .iter()
            .any(|id| b.interval.is_some_and(|(s, _)| s == u32::from(*id))),
        "ip_subnet" | "ip_range" => v4().any(within),
        "ipv6_prefix" => {
            let prefix = b.value.split('/').next().unwrap_or("");
            prefix.parse::<std::net::Ipv6Addr>().is_ok_and(|p| {
                // A ConfigMgr IPv6 prefix is the first 64 bits (a client's prefix).
                at.addresses.iter().any(|a| match a {
                    IpAddr::V6(a) => p.segments()[..4] == a.segments()[..4],
                    IpAddr::V4(_) => false,
                })
            })
        }
        "ad_site" => at
            .ad_site
            .as_ref()
            .is_some_and(|s| b.value.eq_ignore_ascii_case(s)),
        _ => false,
    }
}

/// Resolves a query (an address or an AD site name) against a model.
pub fn resolve(model: &Model, query_text: &str) -> Resolution {
    resolve_location(model, query_text, &Query::parse(query_text).location())
}

/// Resolves a location (`query_text` names it in the answer and its warnings).
pub fn resolve_location(model: &Model, query_text: &str, at: &Location) -> Resolution {
    let boundaries: Vec<Boundary> = model
        .boundaries
        .iter()
        .filter(|b| matches(b, at))
        .cloned()
        .collect();
    let mut warnings = Vec::new();
    let mut groups: Vec<Group> = model
        .groups
        .iter()
        .filter(|g| boundaries.iter().any(|b| g.boundaries.contains(&b.address)))
        .cloned()
        .collect();
    let defaults: Vec<&Group> = model
        .groups
        .iter()
        .filter(|g| g.name.starts_with(DEFAULT_SITE_GROUP))
        .collect();
    if boundaries.is_empty() {
        warnings.push(format!("no boundary covers {query_text}: the client is in the default site boundary group only and cannot be assigned to a site automatically (boundary-groups.md, \"Default site boundary group\")"));
        groups = defaults.iter().map(|g| (*g).clone()).collect();
    } else if groups.is_empty() {
        warnings.push(format!("the boundaries matching {query_text} are in no boundary group: the client uses the default site boundary group only"));
        groups = defaults.iter().map(|g| (*g).clone()).collect();
    }
    let mut assigned_sites: Vec<String> = groups
        .iter()
        .filter(|g| !g.assignment_site.is_empty())
        .map(|g| g.assignment_site.clone())
        .collect();
    assigned_sites.sort();
    assigned_sites.dedup();
    if assigned_sites.len() > 1 {
        warnings.push(format!(
            "overlap: groups assign {query_text} to sites {}: the client is assigned to one of them at random (configmgr.md §6 rule 4)",
            assigned_sites.join(", ")
        ));
    }
    let roles = ROLES
        .iter()
        .enumerate()
        .map(|(i, (role, _, _))| timeline(model, &groups, &defaults, i, role))
        .collect();
    Resolution {
        query: query_text.to_string(),
        boundaries,
        boundary_groups: groups,
        assigned_sites,
        roles,
        warnings,
        host: None,
    }
}

fn timeline(
    model: &Model,
    current: &[Group],
    defaults: &[&Group],
    role: usize,
    name: &str,
) -> RoleTimeline {
    let is_current = |n: &str| current.iter().any(|g| g.name.eq_ignore_ascii_case(n));
    // (minutes or never, destination) per neighbor, explicit relationships first.
    let mut neighbors: Vec<(Option<u32>, String)> = Vec::new();
    for r in &model.relationships {
        if is_current(&r.source) && !is_current(&r.destination) {
            neighbors.push((r.minutes[role], r.destination.clone()));
        }
    }
    for d in defaults {
        let explicit = |src: &Group| {
            model.relationships.iter().any(|r| {
                r.source.eq_ignore_ascii_case(&src.name)
                    && r.destination.eq_ignore_ascii_case(&d.name)
            })
        };
        let implied = current
            .iter()
            .any(|g| !g.name.starts_with(DEFAULT_SITE_GROUP) && !explicit(g));
        if implied && !is_current(&d.name) {
            neighbors.push((Some(IMPLIED_DEFAULT_MINUTES), d.name.clone()));
        }
    }
    // A neighbor reached by two sources is used at the earliest time.
    let mut earliest: std::collections::BTreeMap<String, Option<u32>> = Default::default();
    for (m, dest) in neighbors {
        let e = earliest.entry(dest).or_insert(m);
        *e = match (*e, m) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let systems = |names: &[String]| -> Vec<String> {
        let mut v: Vec<String> = model
            .groups
            .iter()
            .filter(|g| names.iter().any(|n| n.eq_ignore_ascii_case(&g.name)))
            .flat_map(|g| g.site_systems.clone())
            .filter(|server| {
                model.role_servers.as_ref().is_none_or(|r| {
                    r[role]
                        .iter()
                        .any(|holder| holder.eq_ignore_ascii_case(server))
                })
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let now: Vec<String> = current.iter().map(|g| g.name.clone()).collect();
    let mut steps = vec![Step {
        minutes: 0,
        site_systems: systems(&now),
        groups: now,
    }];
    let mut timed: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    let mut never = Vec::new();
    for (dest, m) in earliest {
        match m {
            Some(m) => timed.entry(m).or_default().push(dest),
            None => never.push(dest),
        }
    }
    for (minutes, groups) in timed {
        if minutes == 0 {
            steps[0].groups.extend(groups.clone());
            steps[0].site_systems = systems(&steps[0].groups);
            continue;
        }
        steps.push(Step {
            minutes,
            site_systems: systems(&groups),
            groups,
        });
    }
    RoleTimeline {
        role: name.to_string(),
        steps,
        never,
    }
}

/// The answer as text, for people.
pub fn render(r: &Resolution) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.query);
    if let Some(h) = &r.host {
        let _ = writeln!(out, "  {}", super::resolve_host::describe(h));
    }
    let _ = writeln!(out, "  boundaries:");
    if r.boundaries.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for b in &r.boundaries {
        let _ = writeln!(out, "    {} ({} {})", b.address, b.boundary_type, b.value);
    }
    let _ = writeln!(out, "  boundary groups:");
    for g in &r.boundary_groups {
        let assign = if g.assignment_site.is_empty() {
            String::new()
        } else {
            format!(", site assignment {}", g.assignment_site)
        };
        let _ = writeln!(out, "    {} \"{}\"{assign}", g.address, g.name);
    }
    let _ = writeln!(
        out,
        "  assigned site: {}",
        match r.assigned_sites.as_slice() {
            [] => "none (no group used for site assignment)".to_string(),
            [one] => one.clone(),
            many => format!("one of {} (overlap)", many.join(", ")),
        }
    );
    for t in &r.roles {
        let _ = writeln!(out, "  {}:", t.role.replace('_', " "));
        for s in &t.steps {
            let when = if s.minutes == 0 {
                "now".to_string()
            } else {
                format!("after {} min", s.minutes)
            };
            let servers = if s.site_systems.is_empty() {
                "no site system".to_string()
            } else {
                s.site_systems.join(", ")
            };
            let _ = writeln!(out, "    {when:<14} {}: {servers}", s.groups.join(", "));
        }
        if !t.never.is_empty() {
            let _ = writeln!(out, "    never          {}", t.never.join(", "));
        }
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, site: &str, boundaries: &[&str]) -> Group {
        Group {
            address: format!("boundary_group.{name}"),
            name: name.into(),
            assignment_site: site.into(),
            site_systems: vec![format!("{name}.contoso.com")],
            boundaries: boundaries.iter().map(|b| format!("boundary.{b}")).collect(),
        }
    }

    fn boundary(key: &str, t: &str, value: &str, interval: Option<(u32, u32)>) -> Boundary {
        Boundary {
            address: format!("boundary.{key}"),
            boundary_type: t.into(),
            value: value.into(),
            interval,
        }
    }

    #[test]
    fn groups_assigning_one_address_to_two_sites_are_an_overlap_warning() {
        let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
        let model = Model {
            boundaries: vec![
                boundary(
                    "lan",
                    "ip_subnet",
                    "10.1.0.0",
                    Some((ip("10.1.0.0"), ip("10.1.255.255"))),
                ),
                boundary(
                    "printers",
                    "ip_range",
                    "10.1.5.1-10.1.5.50",
                    Some((ip("10.1.5.1"), ip("10.1.5.50"))),
                ),
                boundary("v6", "ipv6_prefix", "2001:db8:1:2::", None),
            ],
            groups: vec![
                group("hq", "ABC", &["lan"]),
                group("printers", "DEF", &["printers"]),
                group("v6", "", &["v6"]),
            ],
            relationships: vec![Relationship {
                source: "hq".into(),
                destination: "printers".into(),
                minutes: [Some(5), None, Some(0)],
            }],
            primary_sites: Vec::new(),
            role_servers: None,
        };
        let r = resolve(&model, "10.1.5.7");
        assert_eq!(r.assigned_sites, ["ABC", "DEF"]);
        assert!(
            r.warnings[0].starts_with("overlap: groups assign 10.1.5.7 to sites ABC, DEF"),
            "{:?}",
            r.warnings
        );
        // Outside the range only HQ holds it: its neighbor comes after 5 minutes for content,
        // never for management, at once for software updates.
        let r = resolve(&model, "10.1.9.9");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.roles[0].steps[1].minutes, 5);
        assert_eq!(r.roles[1].never, ["printers"]);
        assert_eq!(r.roles[2].steps[0].groups, ["hq", "printers"]);
        // An IPv6 address matches the 64-bit prefix.
        assert_eq!(
            resolve(&model, "2001:db8:1:2::15").boundaries[0].address,
            "boundary.v6"
        );
        assert!(resolve(&model, "2001:db8:1:3::15").boundaries.is_empty());
    }
}
