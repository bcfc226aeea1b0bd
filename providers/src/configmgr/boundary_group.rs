//! `boundary_group`: a boundary group with its boundaries, site systems and optional
//! site-assignment site (configmgr.md §2.3, §6 rules 3–4; PSRef New-/Set-CMBoundaryGroup,
//! Add-CMBoundaryToGroup, Remove-CMBoundaryFromGroup, Get-CMBoundaryGroupSiteSystem).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Context, Observed, OpAction, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Ownership, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use super::boundary::{self, BoundaryType};
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{self, Change, CrossValidate, Declared, DecodeCx, Import, TypedKind};

/// `[boundary_group.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundaryGroupSpec {
    /// Key of the `site` whose server manages the group.
    pub site: Spanned<String>,
    /// Boundary group name (unique in the hierarchy); defaults to the table key.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Site code clients in this group are assigned to ("Use this boundary group for site
    /// assignment", `-DefaultSiteCode`); leave out for a content-only group. Primary sites only.
    #[serde(default)]
    pub assignment_site: Option<Spanned<String>>,
    /// Member boundaries: keys of `boundary` resources.
    #[serde(default)]
    pub boundaries: Vec<Spanned<String>>,
    /// Site system servers for content and location (FQDNs: `-AddSiteSystemServerName` requires them).
    #[serde(default)]
    pub site_systems: Vec<Spanned<String>>,
    /// `exact` (default): members not listed are removed; `additive`: listed members are added and
    /// others left to console administrators.
    #[serde(default)]
    pub members: Ownership,
}

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

/// The `boundary_group` kind.
pub struct BoundaryGroupKind;

#[async_trait::async_trait]
impl TypedKind for BoundaryGroupKind {
    type Spec = BoundaryGroupSpec;
    type Model = BoundaryGroupModel;
    const KIND: &'static str = "boundary_group";
    const DESCRIPTION: &'static str =
        "A boundary group: boundaries, site systems and the site used for site assignment.";

    fn decode(
        &self,
        spec: BoundaryGroupSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<BoundaryGroupModel>, Vec<Diagnostic>> {
        let file = &cx.file;
        let mut errors = Vec::new();
        for s in &spec.site_systems {
            if !s.value.contains('.') {
                errors.push(
                    Diagnostic::error("cmdeploy::boundary_group::site_system_fqdn", format!("site system `{}` is not a fully qualified domain name", s.value))
                        .with_help("Set-CMBoundaryGroup -AddSiteSystemServerName requires the FQDN, e.g. mp1.contoso.com")
                        .at_span(file, s.span.clone()),
                );
            }
        }
        if let Some(a) = &spec.assignment_site {
            if let Some(p) = super::site::site_code_problem(&a.value) {
                errors.push(
                    Diagnostic::error("cmdeploy::site_code::format", p)
                        .at_span(file, a.span.clone()),
                );
            } else {
                errors.extend(super::site::site_code_case(
                    &a.value,
                    file,
                    a.span.clone(),
                    None,
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let model = BoundaryGroupModel {
            name: spec.name.clone().unwrap_or_else(|| cx.key.clone()),
            description: spec.description.clone(),
            assignment_site: spec
                .assignment_site
                .as_ref()
                .map(|s| s.value.to_uppercase())
                .unwrap_or_default(),
            boundaries: sorted(spec.boundaries.iter().map(|b| b.value.clone())),
            site_systems: sorted(spec.site_systems.iter().map(|s| s.value.to_lowercase())),
        };
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let natural_key = model.name.to_lowercase();
        let mut d = Declared::new(model, connection, natural_key);
        d.references.extend(reference);
        d.references.extend(
            spec.boundaries
                .iter()
                .map(|b| super::reference("boundary", b)),
        );
        d.meta = meta;
        d.additive_lists = spec.members == Ownership::Additive;
        Ok(d)
    }

    /// A member that names a boundary table expanded over a data source (`boundaries = ["ad"]`
    /// with `[boundary.ad] for_each = ...`) stands for every instance of it (`ad["10.1.0.0/16"]`),
    /// none when the source has no item.
    fn instances_resolved(
        &self,
        resource: &mut cmdeploy_engine::resource::Resource,
        expanded: &BTreeMap<Address, Vec<Address>>,
    ) {
        let Some(Value::Array(members)) = resource.attrs.get("boundaries") else {
            return;
        };
        let mut out: Vec<String> = Vec::new();
        let mut changed = false;
        for m in members.iter().filter_map(Value::as_str) {
            match expanded.get(&Address::new("boundary", m)) {
                Some(instances) => {
                    changed = true;
                    out.extend(instances.iter().map(boundary::member_name));
                }
                None => out.push(m.to_string()),
            }
        }
        if changed {
            std::sync::Arc::make_mut(&mut resource.attrs)
                .insert("boundaries".into(), kit::sorted(out));
        }
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some((connection, mut script)) = kit::site_read_script(ctx, &requests) else {
            return Vec::new();
        };
        script.push(Call::new("Get-CMBoundaryGroup"));
        let mut per_name = BTreeMap::new();
        for r in &requests {
            for name in candidate_names(r) {
                per_name.entry(name.to_lowercase()).or_insert_with(|| {
                    (
                        script.push(
                            Call::new("Get-CMBoundary").arg("BoundaryGroupName", name.as_str()),
                        ),
                        script.push(
                            Call::new("Get-CMBoundaryGroupSiteSystem")
                                .arg("GroupName", name.as_str()),
                        ),
                    )
                });
            }
        }
        let out = kit::run(ctx, &connection, &script).await;
        let keys = MemberKeys::new(ctx);
        let listed = match &out {
            Ok(out) => kit::value_of(&connection, &script, out, 0).map(Listed::new),
            Err(e) => Err(e.clone()),
        };
        requests
            .into_iter()
            .map(|r| {
                let outcome = match (&out, &listed) {
                    (Err(e), _) | (_, Err(e)) => ReadOutcome::Failed(e.clone()),
                    (Ok(out), Ok(listed)) => match listed.find(&r) {
                        None => ReadOutcome::Absent,
                        Some(g) => {
                            let name = kit::s(g, "Name").to_lowercase();
                            let (members, systems) = match per_name.get(&name) {
                                Some(&(bid, sid)) => (
                                    out.get(bid).map(|x| &x.value),
                                    out.get(sid).map(|x| &x.value),
                                ),
                                None => (None, None),
                            };
                            ReadOutcome::Present(observe(&keys, g, members, systems))
                        }
                    },
                };
                ReadResult {
                    address: r.address,
                    outcome,
                }
            })
            .collect()
    }

    fn calls(
        &self,
        _ctx: &Context,
        change: &Change<'_, BoundaryGroupModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        writes(change)
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, BoundaryGroupModel>,
        values: &[Value],
    ) -> Result<(String, BoundaryGroupModel), RemoteError> {
        // The last three calls are the read-back: the group, its boundaries, its site systems.
        let name = change
            .desired
            .as_ref()
            .map(|d| d.name.as_str())
            .unwrap_or_default();
        let n = values.len();
        let read = (n >= 3).then(|| (&values[n - 3], &values[n - 2], &values[n - 1]));
        let keys = MemberKeys::new(ctx);
        read.and_then(|(g, members, systems)| {
            kit::items(g)
                .into_iter()
                .find(|g| kit::s(g, "Name").eq_ignore_ascii_case(name))
                .map(|g| observe(&keys, g, Some(members), Some(systems)))
        })
        .and_then(|o| Some((o.id, serde_json::from_value(Value::Object(o.attrs)).ok()?)))
        .ok_or_else(|| {
            RemoteError::new(
                change.op.connection.host(),
                format!("boundary group {name} is not found after apply"),
            )
        })
    }
}

impl CrossValidate for BoundaryGroupKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        // Rule 4: a boundary in two site-assignment groups for different sites assigns at random.
        let mut assigned: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (g, m) in sdk::models::<BoundaryGroupModel>(resources, Self::KIND) {
            if let Some(prev) = names.insert(m.name.to_lowercase(), g.address.to_string()) {
                out.push(
                    Diagnostic::error(
                        "cmdeploy::boundary_group::duplicate_name",
                        format!("{} and {prev} are both named `{}`", g.address, m.name),
                    )
                    .with_help(
                        "boundary group names are unique in the hierarchy (SMS_BoundaryGroup.Name)",
                    )
                    .at(g.loc.clone()),
                );
            }
            let site = m.assignment_site.as_str();
            if site.is_empty() {
                continue;
            }
            if let Some(s) = resources.get(&Address::new("site", site)).or_else(|| {
                resources
                    .of_kind("site")
                    .find(|s| s.str_attr("code") == Some(site))
            }) {
                if s.str_attr("type") != Some("primary") {
                    out.push(
                        Diagnostic::error("cmdeploy::boundary_group::assignment_not_primary", format!("{} assigns clients to {site}, which is not a primary site", g.address))
                            .with_help("clients can be assigned only to a primary site (assign-clients-to-a-site.md; configmgr.md §6 rule 2)")
                            .at(g.attr_loc("assignment_site")),
                    );
                }
            }
            for b in &m.boundaries {
                match assigned.get(b) {
                    Some((other_site, other_group)) if other_site != site => out.push(
                        Diagnostic::error(
                            "cmdeploy::boundary::assignment_overlap",
                            format!("boundary.{b} is in {other_group} (site {other_site}) and {} (site {site}), both used for site assignment", g.address),
                        )
                        .with_help("clients in overlapping assignment boundaries pick a site at random; keep each boundary in one site-assignment group (define-site-boundaries-and-boundary-groups.md; configmgr.md §6 rule 4)")
                        .at(g.attr_loc("boundaries")),
                    ),
                    _ => {
                        assigned.insert(b.clone(), (site.to_string(), g.address.to_string()));
                    }
                }
            }
        }
        super::overlap::check(resources, out);
    }
}

/// Names a request may be found under: the desired one, and the one state recorded (a rename).
fn candidate_names(r: &ReadRequest) -> Vec<String> {
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

fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

/// The calls a change needs: the writes, then (unless it deletes) the reads that verify them.
fn writes(change: &Change<'_, BoundaryGroupModel>) -> Result<Vec<Call>, RemoteError> {
    let op = change.op;
    let host = op.connection.host();
    let current = change
        .observed
        .as_ref()
        .map(|o| o.name.clone())
        .or_else(|| {
            op.prior
                .as_ref()
                .and_then(|p| sdk::model::<BoundaryGroupModel>(&p.attributes))
                .map(|m| m.name)
        });
    let Some(d) = &change.desired else {
        return Ok(vec![Call::new("Remove-CMBoundaryGroup")
            .arg("Name", current.unwrap_or_default().as_str())
            .switch("Force")]);
    };
    let name = d.name.as_str();
    let empty = BoundaryGroupModel {
        name: String::new(),
        description: None,
        assignment_site: String::new(),
        boundaries: Vec::new(),
        site_systems: Vec::new(),
    };
    let have = change.observed.as_ref().unwrap_or(&empty);
    let additive = op.desired.as_ref().is_some_and(|r| !r.additive.is_empty());
    let mut calls = Vec::new();
    let site = d.assignment_site.as_str();
    if op.action == OpAction::Create {
        let mut c = Call::new("New-CMBoundaryGroup").arg("Name", name);
        c = c.opt("Description", d.description.as_deref());
        if !site.is_empty() {
            c = c.arg("DefaultSiteCode", site);
        }
        if !d.site_systems.is_empty() {
            c = c.arg("AddSiteSystemServerName", json!(d.site_systems));
        }
        calls.push(c);
    } else {
        let old = current.clone().unwrap_or_else(|| name.to_string());
        let mut c = Call::new("Set-CMBoundaryGroup").arg("Name", old.as_str());
        let mut any = false;
        if old != name {
            c = c.arg("NewName", name);
            any = true;
        }
        if d.description.is_some() && d.description != have.description {
            c = c.opt("Description", d.description.as_deref());
            any = true;
        }
        if d.assignment_site != have.assignment_site {
            c = c.arg(
                "DefaultSiteCode",
                if site.is_empty() {
                    Value::Null
                } else {
                    json!(site)
                },
            );
            any = true;
        }
        let add_s: Vec<&String> = d
            .site_systems
            .iter()
            .filter(|s| !have.site_systems.contains(s))
            .collect();
        let remove_s: Vec<&String> = have
            .site_systems
            .iter()
            .filter(|s| !d.site_systems.contains(s) && !additive)
            .collect();
        if !add_s.is_empty() {
            c = c.arg("AddSiteSystemServerName", json!(add_s));
            any = true;
        }
        if !remove_s.is_empty() {
            c = c.arg("RemoveSiteSystemServerName", json!(remove_s));
            any = true;
        }
        if any {
            calls.push(c);
        }
    }
    // Members are added and removed by BoundaryId: the engine passes the IDs of the referenced
    // boundaries (created by an earlier level or read by the refresh), and the refresh read the
    // members' IDs. Comparing IDs, not keys, keeps a member whose value changed (its key as read
    // differs, the object is the same).
    let member_ids: BTreeMap<&str, &Value> = change
        .private(MEMBER_IDS)
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default();
    let mut wanted_ids = Vec::new();
    for b in &d.boundaries {
        let id = op
            .reference_ids
            .get(&boundary::member_address(b))
            .ok_or_else(|| {
                RemoteError::new(
                    host.clone(),
                    format!("boundary {b} does not exist in ConfigMgr"),
                )
            })?;
        let id = boundary_id(id);
        if !member_ids.values().any(|m| **m == id) {
            calls.push(
                Call::new("Add-CMBoundaryToGroup")
                    .arg("BoundaryGroupName", name)
                    .arg("BoundaryId", id.clone()),
            );
        }
        wanted_ids.push(id);
    }
    if !additive {
        for (b, id) in &member_ids {
            if !d.boundaries.iter().any(|w| w == b) && !wanted_ids.contains(id) {
                calls.push(
                    Call::new("Remove-CMBoundaryFromGroup")
                        .arg("BoundaryGroupName", name)
                        .arg("BoundaryId", (*id).clone())
                        .switch("Force"),
                );
            }
        }
    }
    calls.push(Call::new("Get-CMBoundaryGroup").arg("Name", name));
    calls.push(Call::new("Get-CMBoundary").arg("BoundaryGroupName", name));
    calls.push(Call::new("Get-CMBoundaryGroupSiteSystem").arg("GroupName", name));
    Ok(calls)
}

/// A BoundaryID as the cmdlet takes it (a number), from its text in state.
fn boundary_id(id: &str) -> Value {
    id.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(id))
}

/// Key of [`Observed::private`] holding the refresh's `{member key: BoundaryID}`.
const MEMBER_IDS: &str = "member_ids";

/// The site's boundary groups (`Get-CMBoundaryGroup`), indexed by name and by ID once per read:
/// each request is then answered in constant time (a scan of every group per request, decoding
/// the request's names again for each group, was quadratic).
struct Listed<'a> {
    groups: Vec<&'a Value>,
    /// Positions by name, ASCII lower-cased (names compare without ASCII case).
    by_name: std::collections::HashMap<String, Vec<usize>>,
    /// Positions by `GroupID`.
    by_id: std::collections::HashMap<String, Vec<usize>>,
}

impl<'a> Listed<'a> {
    fn new(all: &'a Value) -> Listed<'a> {
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
    fn find(&self, r: &ReadRequest) -> Option<&'a Value> {
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
struct MemberKeys<'a>(std::collections::HashMap<&'a str, &'a Address>);

impl<'a> MemberKeys<'a> {
    fn new(ctx: &'a Context) -> MemberKeys<'a> {
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
fn observe(
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
        site_systems: sorted(systems.map(site_system_names).unwrap_or_default()),
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
