//! `boundary_group`: a boundary group with its boundaries, site systems and optional
//! site-assignment site (configmgr.md §2.3, §6 rules 3–4; PSRef New-/Set-CMBoundaryGroup,
//! Add-CMBoundaryToGroup, Remove-CMBoundaryFromGroup, Get-CMBoundaryGroupSiteSystem).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, OpAction, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Connection, Ownership, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use super::boundary::{self, BoundaryType};
use crate::kit;
use crate::powershell::{Call, Script, Target};

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
impl Kind for BoundaryGroupKind {
    fn name(&self) -> &'static str {
        "boundary_group"
    }

    fn description(&self) -> &'static str {
        "A boundary group: boundaries, site systems and the site used for site assignment."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<BoundaryGroupSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let key = input.address.name.clone();
        let spec: BoundaryGroupSpec = kit::decode_typed(input, "boundary_group")?;
        let mut errors = Vec::new();
        for s in &spec.site_systems {
            if !s.value.contains('.') {
                errors.push(
                    Diagnostic::error("cmdeploy::boundary_group::site_system_fqdn", format!("site system `{}` is not a fully qualified domain name", s.value))
                        .with_help("Set-CMBoundaryGroup -AddSiteSystemServerName requires the FQDN, e.g. mp1.contoso.com")
                        .at_span(&file, s.span.clone()),
                );
            }
        }
        if let Some(a) = &spec.assignment_site {
            if let Some(p) = super::site::site_code_problem(&a.value) {
                errors.push(
                    Diagnostic::error("cmdeploy::site_code::format", p)
                        .at_span(&file, a.span.clone()),
                );
            } else {
                errors.extend(super::site::site_code_case(
                    &a.value,
                    &file,
                    a.span.clone(),
                    None,
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = spec.name.clone().unwrap_or(key);
        let mut attrs = serde_json::Map::new();
        attrs.insert("name".into(), json!(name));
        if let Some(d) = &spec.description {
            attrs.insert("description".into(), json!(d));
        }
        attrs.insert(
            "assignment_site".into(),
            json!(spec
                .assignment_site
                .as_ref()
                .map(|s| s.value.to_uppercase())
                .unwrap_or_default()),
        );
        attrs.insert(
            "boundaries".into(),
            kit::sorted(spec.boundaries.iter().map(|b| b.value.clone())),
        );
        attrs.insert(
            "site_systems".into(),
            kit::sorted(spec.site_systems.iter().map(|s| s.value.to_lowercase())),
        );
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let mut d = Decoded::new(attrs, connection, name.to_lowercase());
        d.references.extend(reference);
        d.references.extend(
            spec.boundaries
                .iter()
                .map(|b| super::reference("boundary", b)),
        );
        if let Some(a) = &spec.assignment_site {
            d.attr_spans
                .insert("assignment_site".into(), a.span.clone());
        }
        if let Some(b) = spec.boundaries.first() {
            d.attr_spans.insert("boundaries".into(), b.span.clone());
        }
        d.meta = meta;
        if spec.members == Ownership::Additive {
            d.additive.insert("boundaries".into());
            d.additive.insert("site_systems".into());
        }
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
            resource.attrs.insert("boundaries".into(), kit::sorted(out));
        }
    }

    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        // Rule 4: a boundary in two site-assignment groups for different sites assigns at random.
        let mut assigned: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for g in resources.of_kind("boundary_group") {
            if let Some(name) = g.str_attr("name") {
                if let Some(prev) = names.insert(name.to_lowercase(), g.address.to_string()) {
                    out.push(
                        Diagnostic::error("cmdeploy::boundary_group::duplicate_name", format!("{} and {prev} are both named `{name}`", g.address))
                            .with_help("boundary group names are unique in the hierarchy (SMS_BoundaryGroup.Name)")
                            .at(g.loc.clone()),
                    );
                }
            }
            let site = g.str_attr("assignment_site").unwrap_or("");
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
            for b in g
                .attrs
                .get("boundaries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
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
                        assigned.insert(b.to_string(), (site.to_string(), g.address.to_string()));
                    }
                }
            }
        }
        super::overlap::check(resources, out);
    }

    fn importable(&self) -> bool {
        true
    }

    fn imports_from(&self, ctx: &Context, connection: &Connection) -> bool {
        super::listing::is_site_server(ctx, connection)
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        super::listing::boundary_groups(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some(connection) = requests.first().map(|r| r.connection.clone()) else {
            return Vec::new();
        };
        let code = kit::site_code(
            ctx,
            &kit::meta_of(requests[0].desired.as_ref(), requests[0].prior.as_ref()),
        );
        let mut script = Script::new(Target::SiteServer { site_code: code });
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
        requests
            .into_iter()
            .map(|r| {
                let outcome = match &out {
                    Err(e) => ReadOutcome::Failed(e.clone()),
                    Ok(out) => match kit::value_of(&connection, &script, out, 0) {
                        Err(e) => ReadOutcome::Failed(e),
                        Ok(groups) => {
                            let groups = kit::items(groups);
                            let prior_id = r.prior.as_ref().map(|p| p.id.clone());
                            let by_id = |g: &&Value| {
                                prior_id.as_deref()
                                    == Some(kit::n(g, "GroupID").to_string().as_str())
                            };
                            let by_name = |g: &&Value| {
                                candidate_names(&r)
                                    .iter()
                                    .any(|n| n.eq_ignore_ascii_case(kit::s(g, "Name")))
                            };
                            // The group state knows by id and name; else one by name; else the
                            // one with its id, renamed in the console. A group whose id is
                            // state's but whose name is another's (ids handed out again after
                            // the site was rebuilt) is not taken when one has the name.
                            let found = groups
                                .iter()
                                .find(|g| by_id(g) && by_name(g))
                                .or_else(|| groups.iter().find(|g| by_name(g)))
                                .or_else(|| groups.iter().find(|g| by_id(g)));
                            match found {
                                None => ReadOutcome::Absent,
                                Some(g) => {
                                    let name = kit::s(g, "Name").to_lowercase();
                                    match per_name.get(&name) {
                                        Some(&(bid, sid)) => observe(
                                            ctx,
                                            g,
                                            out.get(bid).map(|x| &x.value),
                                            out.get(sid).map(|x| &x.value),
                                        ),
                                        None => observe(ctx, g, None, None),
                                    }
                                }
                            }
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

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let target = Target::SiteServer { site_code: code };
        let host = op.connection.host();
        let current_name = kit::current_attr(&op, "name");
        let Some(d) = op.desired.clone() else {
            let name = current_name.unwrap_or_default();
            kit::run_writes(
                ctx,
                &op.connection,
                target,
                vec![Call::new("Remove-CMBoundaryGroup")
                    .arg("Name", name.as_str())
                    .switch("Force")],
            )
            .await?;
            return Ok(Applied {
                id: String::new(),
                attrs: Default::default(),
            });
        };
        let name = d.str_attr("name").unwrap_or_default().to_string();
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let want_b = strs(d.attrs.get("boundaries"));
        let want_s = strs(d.attrs.get("site_systems"));
        let have = op
            .observed
            .as_ref()
            .map(|o| o.attrs.clone())
            .unwrap_or_default();
        let have_b = strs(have.get("boundaries"));
        let have_s = strs(have.get("site_systems"));
        let additive = |a: &str| d.additive.contains(a);
        let mut calls = Vec::new();
        let site = d.str_attr("assignment_site").unwrap_or("").to_string();
        if op.action == OpAction::Create {
            let mut c = Call::new("New-CMBoundaryGroup").arg("Name", name.as_str());
            if let Some(desc) = d.str_attr("description") {
                c = c.arg("Description", desc);
            }
            if !site.is_empty() {
                c = c.arg("DefaultSiteCode", site.as_str());
            }
            if !want_s.is_empty() {
                c = c.arg("AddSiteSystemServerName", json!(want_s));
            }
            calls.push(c);
        } else {
            let old = current_name.clone().unwrap_or_else(|| name.clone());
            let mut c = Call::new("Set-CMBoundaryGroup").arg("Name", old.as_str());
            let mut any = false;
            if old != name {
                c = c.arg("NewName", name.as_str());
                any = true;
            }
            if op.changed.iter().any(|x| x == "description") {
                c = c.arg("Description", d.attrs["description"].clone());
                any = true;
            }
            if op.changed.iter().any(|x| x == "assignment_site") {
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
            let add_s: Vec<&String> = want_s.iter().filter(|s| !have_s.contains(s)).collect();
            let remove_s: Vec<&String> = have_s
                .iter()
                .filter(|s| !want_s.contains(s) && !additive("site_systems"))
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
        let to_add: Vec<&String> = want_b.iter().filter(|b| !have_b.contains(b)).collect();
        let to_remove: Vec<&String> = have_b
            .iter()
            .filter(|b| !want_b.contains(b) && !additive("boundaries"))
            .collect();
        if !to_add.is_empty() || !to_remove.is_empty() {
            let ids = boundary_ids(ctx, &op, &target).await?;
            for b in to_add {
                let id = ids.get(&natural_of(ctx, b)).ok_or_else(|| {
                    RemoteError::new(
                        host.clone(),
                        format!("boundary {b} does not exist in ConfigMgr"),
                    )
                })?;
                calls.push(
                    Call::new("Add-CMBoundaryToGroup")
                        .arg("BoundaryGroupName", name.as_str())
                        .arg("BoundaryId", *id),
                );
            }
            for b in to_remove {
                if let Some(id) = ids.get(&natural_of(ctx, b)) {
                    calls.push(
                        Call::new("Remove-CMBoundaryFromGroup")
                            .arg("BoundaryGroupName", name.as_str())
                            .arg("BoundaryId", *id)
                            .switch("Force"),
                    );
                }
            }
        }
        kit::run_writes(ctx, &op.connection, target, calls).await?;
        kit::read_back(
            &BoundaryGroupKind,
            ctx,
            &op,
            &format!("boundary group {name}"),
        )
        .await
    }
}

fn candidate_names(r: &ReadRequest) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(n) = r.desired.as_ref().and_then(|d| d.str_attr("name")) {
        v.push(n.to_string());
    }
    if let Some(n) = r
        .prior
        .as_ref()
        .and_then(|p| p.attributes.get("name").and_then(Value::as_str))
    {
        if !v.iter().any(|x| x.eq_ignore_ascii_case(n)) {
            v.push(n.to_string());
        }
    }
    v
}

/// The natural key (`type:value`) of a boundary member written as a manifest key or as a natural key.
fn natural_of(ctx: &Context, member: &str) -> String {
    ctx.resources
        .get(&boundary::member_address(member))
        .map(|r| r.natural_key.clone())
        .unwrap_or_else(|| member.to_string())
}

/// The manifest key of the boundary with this natural key, or the natural key itself.
fn member_key(ctx: &Context, natural: &str) -> String {
    ctx.resources
        .of_kind("boundary")
        .find(|b| b.natural_key == natural)
        .map(|b| boundary::member_name(&b.address))
        .unwrap_or_else(|| natural.to_string())
}

async fn boundary_ids(
    ctx: &Context,
    op: &Operation,
    target: &Target,
) -> Result<BTreeMap<String, i64>, RemoteError> {
    let mut script = Script::new(target.clone());
    script.push(Call::new("Get-CMBoundary"));
    let out = kit::run(ctx, &op.connection, &script).await?;
    let all = kit::value_of(&op.connection, &script, &out, 0)?;
    Ok(kit::items(all)
        .into_iter()
        .filter_map(|b| {
            let t = BoundaryType::from_number(kit::n(b, "BoundaryType"))?;
            Some((
                boundary::natural_key(t, kit::s(b, "Value")),
                kit::n(b, "BoundaryID"),
            ))
        })
        .collect())
}

fn observe(
    ctx: &Context,
    g: &Value,
    members: Option<&Value>,
    systems: Option<&Value>,
) -> ReadOutcome {
    let mut attrs = serde_json::Map::new();
    attrs.insert("name".into(), json!(kit::s(g, "Name")));
    attrs.insert("description".into(), json!(kit::s(g, "Description")));
    attrs.insert(
        "assignment_site".into(),
        json!(kit::s(g, "DefaultSiteCode").to_uppercase()),
    );
    let boundaries = members
        .map(member_naturals)
        .unwrap_or_default()
        .into_iter()
        .map(|natural| member_key(ctx, &natural));
    attrs.insert("boundaries".into(), kit::sorted(boundaries));
    let servers = systems.map(site_system_names).unwrap_or_default();
    attrs.insert("site_systems".into(), kit::sorted(servers));
    ReadOutcome::Present(Observed {
        id: kit::n(g, "GroupID").to_string(),
        attrs,
        notes: Vec::new(),
    })
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
