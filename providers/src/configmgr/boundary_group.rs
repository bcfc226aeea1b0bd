//! `boundary_group`: a boundary group with its boundaries, site systems and optional
//! site-assignment site (configmgr.md §2.3, §6 rules 3–4; PSRef New-/Set-CMBoundaryGroup,
//! Add-CMBoundaryToGroup, Remove-CMBoundaryFromGroup, Get-CMBoundaryGroupSiteSystem).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Context, OpAction, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Ownership, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use super::boundary;
pub use super::boundary_group_read::BoundaryGroupModel;
use super::boundary_group_read::{candidate_names, observe, Listed, MemberKeys, MEMBER_IDS};
pub(crate) use super::boundary_group_read::{member_naturals, site_system_names};
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
            boundaries: kit::sorted_strings(spec.boundaries.iter().map(|b| b.value.clone())),
            site_systems: kit::sorted_strings(
                spec.site_systems.iter().map(|s| s.value.to_lowercase()),
            ),
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
