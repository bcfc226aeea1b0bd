//! The `boundary_group` kind's model and read side: what a group is compared as, the site's
//! groups indexed once per read, each request's group found by name or ID, and the observed
//! model with its members' BoundaryIDs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::provider::{Context, Observed, ReadRequest};
use cmdeploy_engine::Address;

use super::boundary::{self, BoundaryType};
use crate::kit;
use crate::sdk;

/// A boundary group's attributes, desired and observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryGroupModel {
    /// SMS_BoundaryGroup.Name (unique in the hierarchy).
    pub name: String,
    /// SMS_BoundaryGroup.Description; unmanaged when the manifest leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// SMS_BoundaryGroup.DefaultSiteCode, upper case; empty for a content-only group.
    #[serde(default)]
    pub assignment_site: String,
    /// Member boundaries by manifest key (or `type:value` for unmanaged ones), sorted.
    #[serde(default)]
    pub boundaries: Vec<String>,
    /// Site system server FQDNs, lower case, sorted.
    #[serde(default)]
    pub site_systems: Vec<String>,
}

/// Names a request may be found under: the desired one, and the one state recorded (a rename).
pub(super) fn candidate_names(r: &ReadRequest) -> Vec<String> {
    let desired = r
        .desired
        .as_ref()
        .and_then(|d| sdk::model::<BoundaryGroupModel>(&d.attrs));
    let prior = r
        .prior
        .as_ref()
        .and_then(|p| sdk::model::<BoundaryGroupModel>(&p.attributes));
    let mut v: Vec<String> = Vec::new();
    for m in desired.into_iter().chain(prior) {
        if !v.iter().any(|x| x.eq_ignore_ascii_case(&m.name)) {
            v.push(m.name);
        }
    }
    v
}

/// Key of [`Observed::private`] holding the refresh's `{member key: BoundaryID}`.
pub(super) const MEMBER_IDS: &str = "member_ids";

/// The site's boundary groups (`Get-CMBoundaryGroup`), indexed by name and by ID once per read:
/// each request is then answered in constant time (a scan of every group per request, decoding
/// the request's names again for each group, was quadratic).
pub(super) struct Listed<'a> {
    groups: Vec<&'a Value>,
    /// Positions by name, ASCII lower-cased (names compare without ASCII case).
    by_name: std::collections::HashMap<String, Vec<usize>>,
    /// Positions by `GroupID`.
    by_id: std::collections::HashMap<String, Vec<usize>>,
}

impl<'a> Listed<'a> {
    pub(super) fn new(all: &'a Value) -> Listed<'a> {
        let groups = kit::items(all);
        let mut by_name: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut by_id: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, g) in groups.iter().enumerate() {
            by_name
                .entry(kit::s(g, "Name").to_ascii_lowercase())
                .or_default()
                .push(i);
            by_id
                .entry(kit::n(g, "GroupID").to_string())
                .or_default()
                .push(i);
        }
        Listed {
            groups,
            by_name,
            by_id,
        }
    }

    /// The group a request reads. The group state knows by id and name; else one by name; else
    /// the one with its id, renamed in the console. A group whose id is state's but whose name is
    /// another's (ids handed out again after the site was rebuilt) is not taken when one has the
    /// name. Among several, the first listed.
    pub(super) fn find(&self, r: &ReadRequest) -> Option<&'a Value> {
        let prior_id = r.prior.as_ref().map(|p| p.id.as_str());
        let mut named: Vec<usize> = candidate_names(r)
            .iter()
            .filter_map(|n| self.by_name.get(&n.to_ascii_lowercase()))
            .flatten()
            .copied()
            .collect();
        named.sort_unstable();
        named.dedup();
        let has_prior_id =
            |i: &&usize| prior_id == Some(kit::n(self.groups[**i], "GroupID").to_string().as_str());
        named
            .iter()
            .find(has_prior_id)
            .or_else(|| named.first())
            .or_else(|| prior_id.and_then(|id| self.by_id.get(id)?.first()))
            .map(|&i| self.groups[i])
    }
}

/// The declared boundaries by natural key, built once per read: each member of each group is
/// then named in constant time (a scan of every boundary per member made the refresh of 60,000
/// members quadratic: 40 s of a converged 100k plan).
pub(super) struct MemberKeys<'a>(std::collections::HashMap<&'a str, &'a Address>);

impl<'a> MemberKeys<'a> {
    pub(super) fn new(ctx: &'a Context) -> MemberKeys<'a> {
        let mut keys = std::collections::HashMap::new();
        for b in ctx.resources.of_kind("boundary") {
            // The first in address order, should two share a key (validation refuses that).
            keys.entry(b.natural_key.as_str()).or_insert(&b.address);
        }
        MemberKeys(keys)
    }

    /// The manifest key of the boundary with this natural key, or the natural key itself.
    fn key(&self, natural: &str) -> String {
        self.0
            .get(natural)
            .map(|a| boundary::member_name(a))
            .unwrap_or_else(|| natural.to_string())
    }
}

/// The observed group: its model, and the members' BoundaryIDs for later removals.
pub(super) fn observe(
    keys: &MemberKeys<'_>,
    g: &Value,
    members: Option<&Value>,
    systems: Option<&Value>,
) -> Observed {
    let mut member_ids = serde_json::Map::new();
    for b in members.map(kit::items).unwrap_or_default() {
        if let Some(t) = BoundaryType::from_number(kit::n(b, "BoundaryType")) {
            let key = keys.key(&boundary::natural_key(t, kit::s(b, "Value")));
            member_ids.insert(key, json!(kit::n(b, "BoundaryID")));
        }
    }
    let model = BoundaryGroupModel {
        name: kit::s(g, "Name").to_string(),
        description: Some(kit::s(g, "Description").to_string()),
        assignment_site: kit::s(g, "DefaultSiteCode").to_uppercase(),
        boundaries: member_ids.keys().cloned().collect(),
        site_systems: kit::sorted_strings(systems.map(site_system_names).unwrap_or_default()),
    };
    let mut o = sdk::observed(kit::n(g, "GroupID").to_string(), &model);
    o.private
        .insert(MEMBER_IDS.into(), Value::Object(member_ids));
    o
}

/// Natural keys (`ip_subnet:10.1.0.0`) of the boundaries in a `Get-CMBoundary
/// -BoundaryGroupName` result.
pub(crate) fn member_naturals(members: &Value) -> Vec<String> {
    kit::items(members)
        .into_iter()
        .filter_map(|b| {
            let t = BoundaryType::from_number(kit::n(b, "BoundaryType"))?;
            Some(boundary::natural_key(t, kit::s(b, "Value")))
        })
        .collect()
}

/// Server FQDNs (lower-cased) of a `Get-CMBoundaryGroupSiteSystem` result, from the NAL paths
/// (`["Display=\\\\mp1.contoso.com\\"]MSWNET:["SMS_SITE=ABC"]\\\\mp1.contoso.com\\`).
pub(crate) fn site_system_names(systems: &Value) -> Vec<String> {
    kit::items(systems)
        .into_iter()
        .map(|s| {
            let path = kit::s(s, "ServerNalPath");
            path.trim_end_matches('\\')
                .rsplit('\\')
                .next()
                .unwrap_or(path)
                .to_lowercase()
        })
        .collect()
}
