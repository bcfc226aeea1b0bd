//! `boundary_group_relationship`: fallback from one boundary group to a neighbor group, with a
//! fallback time in minutes per role or "never" (configmgr.md §2.3; PSRef
//! New-/Set-/Remove-/Get-CMBoundaryGroupRelationship; Doc boundary-groups.md "Fallback",
//! boundary-groups-example.md). A relationship is its own object in ConfigMgr
//! (SMS_BoundaryGroupRelationships, keyed by source and destination group), so it is its own
//! kind: it has its own address in plans, it may name the default site boundary group
//! (`Default-Site-Boundary-Group<ABC>`, which no manifest declares), and adding one does not
//! touch the groups.
//!
//! ```toml
//! [boundary_group_relationship.branch_to_hq]
//! site = "ABC"
//! source = "branch"                 # boundary_group key
//! destination = "hq"                # boundary_group key, or "Default-Site-Boundary-Group<ABC>"
//! distribution_point = 20           # minutes before clients use the neighbor's DPs
//! management_point = 10
//! software_update_point = "never"   # "Never fallback" for this role
//! ```
//!
//! A time left out is ConfigMgr's default, 120 minutes (FallbackDP/MP/SUP method docs). The
//! state migration point's time is left as ConfigMgr has it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::import::{ImportRef, Imported};
use cmdeploy_engine::provider::{
    Context, Observed, OpAction, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Connection, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::{self, Change, CrossValidate, Declared, DecodeCx, Import, TypedKind};

/// ConfigMgr's fallback time for a role a relationship does not set, in minutes.
pub const DEFAULT_MINUTES: u32 = 120;

/// The prefix of a default site boundary group's name (`Default-Site-Boundary-Group<ABC>`).
pub const DEFAULT_SITE_GROUP: &str = "Default-Site-Boundary-Group<";

/// The attribute naming the group whose clients fall back (part of the object's identity).
const SOURCE: &str = "source";
/// The attribute naming the neighbor group (part of the object's identity).
const DESTINATION: &str = "destination";

// Models serialise it through `Fallback::attr`: deriving `Serialize` would put `"default": null`
// in the manifest schema of the optional times.
/// A fallback time: minutes, or `"never"` ("Never fallback", `-1` in ConfigMgr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Fallback {
    /// Minutes before clients use the neighbor group's servers for this role (0: at once).
    Minutes(u32),
    /// `"never"`: clients never fall back to the neighbor for this role.
    Never(Never),
}

/// The word `never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Never {
    /// "Never fallback".
    Never,
}

impl Fallback {
    /// The `-Fallback*Minutes` value: the minutes, or -1 for never.
    pub fn minutes(self) -> i64 {
        match self {
            Fallback::Minutes(m) => i64::from(m),
            Fallback::Never(_) => -1,
        }
    }

    /// The attribute value: the minutes, or `"never"`.
    pub fn attr(self) -> Value {
        match self {
            Fallback::Minutes(m) => json!(m),
            Fallback::Never(_) => json!("never"),
        }
    }

    /// From ConfigMgr's number (-1 is never).
    pub fn from_minutes(m: i64) -> Fallback {
        u32::try_from(m).map_or(Fallback::Never(Never::Never), Fallback::Minutes)
    }
}

/// `[boundary_group_relationship.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipSpec {
    /// Key of the `site` whose server manages the relationship.
    pub site: Spanned<String>,
    /// The boundary group whose clients fall back: a `boundary_group` key.
    pub source: Spanned<String>,
    /// The neighbor group: a `boundary_group` key, or a default site boundary group by its
    /// ConfigMgr name (`Default-Site-Boundary-Group<ABC>`).
    pub destination: Spanned<String>,
    /// Distribution point fallback (content): minutes or `"never"`; default 120.
    #[serde(default)]
    pub distribution_point: Option<Fallback>,
    /// Management point fallback: minutes or `"never"`; default 120.
    #[serde(default)]
    pub management_point: Option<Fallback>,
    /// Software update point fallback: minutes or `"never"`; default 120.
    #[serde(default)]
    pub software_update_point: Option<Fallback>,
}

/// A relationship's attributes, desired and observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationshipModel {
    /// The source group: a `boundary_group` key (or the group's name when no resource has it).
    pub source: String,
    /// The destination group: a `boundary_group` key, or a default site group's name.
    pub destination: String,
    /// SMS_BoundaryGroupRelationships.FallbackDP, minutes or `"never"`.
    #[serde(serialize_with = "as_attr")]
    pub distribution_point: Fallback,
    /// SMS_BoundaryGroupRelationships.FallbackMP.
    #[serde(serialize_with = "as_attr")]
    pub management_point: Fallback,
    /// SMS_BoundaryGroupRelationships.FallbackSUP.
    #[serde(serialize_with = "as_attr")]
    pub software_update_point: Fallback,
}

/// Serialises a fallback time as its attribute value ([`Fallback::attr`]).
fn as_attr<S: serde::Serializer>(f: &Fallback, s: S) -> Result<S::Ok, S::Error> {
    f.attr().serialize(s)
}

impl RelationshipModel {
    /// Each role's time, in [`ROLES`] order.
    pub fn fallbacks(&self) -> [Fallback; 3] {
        [
            self.distribution_point,
            self.management_point,
            self.software_update_point,
        ]
    }

    /// The model with each role's time from a [`ROLES`]-ordered array.
    fn with_fallbacks(source: String, destination: String, f: [Fallback; 3]) -> Self {
        RelationshipModel {
            source,
            destination,
            distribution_point: f[0],
            management_point: f[1],
            software_update_point: f[2],
        }
    }
}

/// The roles a relationship sets: attribute name and `-Fallback*Minutes` parameter and the
/// SMS_BoundaryGroupRelationships property read back.
pub const ROLES: [(&str, &str, &str); 3] = [
    ("distribution_point", "FallbackDPMinutes", "FallbackDP"),
    ("management_point", "FallbackMPMinutes", "FallbackMP"),
    ("software_update_point", "FallbackSupMinutes", "FallbackSUP"),
];

/// The `boundary_group_relationship` kind.
pub struct RelationshipKind;

/// The ConfigMgr name of a relationship end: the default site group's name as written, else
/// the `boundary_group` resource's name (its key when it has none, or the key itself when no
/// such resource exists: validation reports that).
pub fn group_name(resources: &ResourceSet, end: &str) -> String {
    if end.starts_with(DEFAULT_SITE_GROUP) {
        return end.to_string();
    }
    resources
        .get(&Address::new("boundary_group", end))
        .and_then(|g| g.str_attr("name").map(str::to_string))
        .unwrap_or_else(|| end.to_string())
}

/// The manifest form of a group a relationship names in ConfigMgr: the key of the
/// `boundary_group` resource of that name, or the name itself (a default site group).
fn end_key(resources: &ResourceSet, name: &str) -> String {
    resources
        .of_kind("boundary_group")
        .find(|g| {
            g.str_attr("name")
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .map(|g| g.address.name.clone())
        .unwrap_or_else(|| name.to_string())
}

#[async_trait::async_trait]
impl TypedKind for RelationshipKind {
    type Spec = RelationshipSpec;
    type Model = RelationshipModel;
    const KIND: &'static str = "boundary_group_relationship";
    const DESCRIPTION: &'static str =
        "Fallback from a boundary group to a neighbor group: minutes or never, per role (DP, MP, SUP).";

    fn decode(
        &self,
        spec: RelationshipSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<RelationshipModel>, Vec<Diagnostic>> {
        if spec
            .source
            .value
            .eq_ignore_ascii_case(&spec.destination.value)
        {
            return Err(vec![Diagnostic::error(
                "cmdeploy::boundary_group_relationship::itself",
                format!("boundary group `{}` cannot fall back to itself", spec.source.value),
            )
            .with_help("a relationship's source and destination must be two different boundary groups (New-CMBoundaryGroupRelationship; configmgr.md §2.3)")
            .at_span(&cx.file, spec.destination.span.clone())]);
        }
        let or_default = |f: Option<Fallback>| f.unwrap_or(Fallback::Minutes(DEFAULT_MINUTES));
        let model = RelationshipModel::with_fallbacks(
            spec.source.value.clone(),
            spec.destination.value.clone(),
            [
                or_default(spec.distribution_point),
                or_default(spec.management_point),
                or_default(spec.software_update_point),
            ],
        );
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let natural = format!(
            "{}->{}",
            model.source.to_lowercase(),
            model.destination.to_lowercase()
        );
        let mut d = Declared::new(model, connection, natural);
        d.references.extend(reference);
        d.references
            .push(super::reference("boundary_group", &spec.source));
        if !spec.destination.value.starts_with(DEFAULT_SITE_GROUP) {
            d.references
                .push(super::reference("boundary_group", &spec.destination));
        }
        d.force_new.insert(SOURCE.into());
        d.force_new.insert(DESTINATION.into());
        d.meta = meta;
        Ok(d)
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
        script.push(Call::new("Get-CMBoundaryGroupRelationship"));
        let all = kit::run(ctx, &connection, &script).await.and_then(|out| {
            kit::value_of(&connection, &script, &out, 0)
                .map(|v| kit::items(v).into_iter().cloned().collect::<Vec<Value>>())
        });
        requests
            .into_iter()
            .map(|r| {
                let outcome = match &all {
                    Err(e) => ReadOutcome::Failed(e.clone()),
                    Ok(all) => match find(ctx, all, &r) {
                        Some(o) => ReadOutcome::Present(observed_of(ctx, o, r.prior.as_ref())),
                        None => ReadOutcome::Absent,
                    },
                };
                ReadResult {
                    address: r.address,
                    outcome,
                }
            })
            .collect()
    }

    /// A delete removes the relationship by its group IDs; a create or update sets each role's
    /// time that differs, and its cmdlet's output (`-PassThru` for the update) is the read-back.
    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, RelationshipModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let Some(d) = change
            .desired
            .as_ref()
            .filter(|_| op.action != OpAction::Delete)
        else {
            let id = change.id();
            let (source, destination) = split_id(&id).ok_or_else(|| {
                RemoteError::new(
                    op.connection.host(),
                    format!("provider bug: relationship id `{id}`"),
                )
            })?;
            return Ok(vec![Call::new("Remove-CMBoundaryGroupRelationship")
                .arg("SourceGroupId", source)
                .arg("DestinationGroupId", destination)
                .switch("Force")]);
        };
        let create = op.action == OpAction::Create;
        let mut call = if create {
            Call::new("New-CMBoundaryGroupRelationship")
        } else {
            Call::new("Set-CMBoundaryGroupRelationship")
        }
        .arg("SourceGroupName", group_name(&ctx.resources, &d.source))
        .arg(
            "DestinationGroupName",
            group_name(&ctx.resources, &d.destination),
        );
        let have = change.observed.as_ref().map(RelationshipModel::fallbacks);
        for (i, (want, (_, param, _))) in d.fallbacks().into_iter().zip(ROLES).enumerate() {
            if create || have.is_none_or(|h| h[i] != want) {
                call = call.arg(param, want.minutes());
            }
        }
        if !create {
            call = call.switch("PassThru");
        }
        Ok(vec![call])
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, RelationshipModel>,
        values: &[Value],
    ) -> Result<(String, RelationshipModel), RemoteError> {
        let obj = values.first().map(kit::items).unwrap_or_default();
        let obj = obj.first().ok_or_else(|| {
            RemoteError::new(
                change.op.connection.host(),
                "the relationship cmdlet returned no object",
            )
        })?;
        let (id, model) = read_model(ctx, obj, None);
        Ok((id, model))
    }
}

impl CrossValidate for RelationshipKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (r, m) in sdk::models::<RelationshipModel>(resources, Self::KIND) {
            let dest = m.destination.as_str();
            if let Some(code) = dest
                .strip_prefix(DEFAULT_SITE_GROUP)
                .and_then(|c| c.strip_suffix('>'))
            {
                // A site is matched by code or key, in any case, and with no site decoded at
                // all nothing is said: a mistake in the site's own table is reported there.
                let site = resources.of_kind("site").find(|s| {
                    s.str_attr("code")
                        .unwrap_or(&s.address.name)
                        .eq_ignore_ascii_case(code)
                        || s.address.name.eq_ignore_ascii_case(code)
                });
                let no_sites = resources.of_kind("site").next().is_none();
                let primary = no_sites
                    || site.is_some_and(|s| s.str_attr("type").is_none_or(|t| t == "primary"));
                if !primary || code != code.to_uppercase() {
                    out.push(
                        Diagnostic::error("cmdeploy::boundary_group_relationship::default_site", format!("`{dest}` is not the default site boundary group of a primary site in the manifests"))
                            .with_help("each primary site has one, named Default-Site-Boundary-Group<CODE> with the site code in capitals (boundary-groups.md, \"Default site boundary group\")")
                            .at(r.attr_loc(DESTINATION)),
                    );
                }
            }
            let key = format!(
                "{}->{}",
                group_name(resources, &m.source).to_lowercase(),
                group_name(resources, dest).to_lowercase()
            );
            if let Some(prev) = seen.insert(key, r.address.to_string()) {
                out.push(
                    Diagnostic::error("cmdeploy::boundary_group_relationship::duplicate", format!("{} and {prev} relate the same source and destination groups", r.address))
                        .with_help("ConfigMgr keeps one relationship per source and destination group; set all its fallback times in one table")
                        .at(r.attr_loc(DESTINATION)),
                );
            }
        }
    }
}

site_server_import!(RelationshipKind, self::list);

/// `SourceGroupID:DestinationGroupID`, the relationship's ID in state.
fn id_of(obj: &Value) -> String {
    format!(
        "{}:{}",
        kit::n(obj, "SourceGroupID"),
        kit::n(obj, "DestinationGroupID")
    )
}

fn split_id(id: &str) -> Option<(i64, i64)> {
    let (s, d) = id.split_once(':')?;
    Some((s.parse().ok()?, d.parse().ok()?))
}

/// Each role's time of an SMS_BoundaryGroupRelationships object, in [`ROLES`] order.
fn fallbacks_of(obj: &Value) -> [Fallback; 3] {
    ROLES.map(|(_, _, property)| Fallback::from_minutes(kit::n(obj, property)))
}

/// The relationship a request reads: by its ID in state, else by the group names.
fn find<'a>(ctx: &Context, all: &'a [Value], r: &ReadRequest) -> Option<&'a Value> {
    if let Some(p) = &r.prior {
        if let Some(o) = all.iter().find(|o| id_of(o) == p.id) {
            return Some(o);
        }
    }
    let d = sdk::model::<RelationshipModel>(&r.desired.as_ref()?.attrs)?;
    let source = group_name(&ctx.resources, &d.source);
    let destination = group_name(&ctx.resources, &d.destination);
    all.iter().find(|o| {
        kit::s(o, "SourceGroupName").eq_ignore_ascii_case(&source)
            && kit::s(o, "DestinationGroupName").eq_ignore_ascii_case(&destination)
    })
}

/// The ID and model of an SMS_BoundaryGroupRelationships object: the groups as manifest keys
/// (or a default site group's name), each role's time as minutes or `"never"`. When `prior`
/// (the state entry) has the object's ID, its groups are the ones state recorded: the group IDs
/// are the same, so a group renamed in the manifest is still the group the key names.
fn read_model(
    ctx: &Context,
    obj: &Value,
    prior: Option<&cmdeploy_engine::state::StateEntry>,
) -> (String, RelationshipModel) {
    let id = id_of(obj);
    let recorded = prior
        .filter(|p| p.id == id)
        .and_then(|p| sdk::model::<RelationshipModel>(&p.attributes));
    let (source, destination) = match recorded {
        Some(m) => (m.source, m.destination),
        None => (
            end_key(&ctx.resources, kit::s(obj, "SourceGroupName")),
            end_key(&ctx.resources, kit::s(obj, "DestinationGroupName")),
        ),
    };
    let model = RelationshipModel::with_fallbacks(source, destination, fallbacks_of(obj));
    (id, model)
}

/// Reads an SMS_BoundaryGroupRelationships object as an observed relationship (see
/// [`read_model`] for the groups).
fn observed_of(
    ctx: &Context,
    obj: &Value,
    prior: Option<&cmdeploy_engine::state::StateEntry>,
) -> Observed {
    let (id, model) = read_model(ctx, obj, prior);
    sdk::observed(id, &model)
}

/// Every relationship on the site server (one `Get-CMBoundaryGroupRelationship`), as tables:
/// the groups by name (the engine turns them into `boundary_group` keys; a default site group
/// keeps its name), every role's time written out. Keys: `hq_clients_to_branch_1_clients`.
///
/// # Errors
/// The remote failure.
async fn list(ctx: &Context, connection: &Connection) -> Result<Vec<Imported>, RemoteError> {
    let Some(site) = super::provider_site::sites_on(ctx, connection)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Vec::new());
    };
    let mut script = Script::new(Target::SiteServer {
        site_code: site.code.clone(),
    });
    script.push(Call::new("Get-CMBoundaryGroupRelationship"));
    let out = kit::run(ctx, connection, &script).await?;
    let all = kit::value_of(connection, &script, &out, 0)?;
    Ok(kit::items(all)
        .into_iter()
        .map(|r| {
            let source = kit::s(r, "SourceGroupName");
            let destination = kit::s(r, "DestinationGroupName");
            let end = |name: &str| {
                if name.starts_with(DEFAULT_SITE_GROUP) {
                    name.to_string()
                } else {
                    name.to_lowercase()
                }
            };
            let mut table = Vec::new();
            let mut references = vec![ImportRef {
                field: SOURCE.into(),
                kind: "boundary_group".into(),
            }];
            site.put_site(&mut table, &mut references);
            table.extend([
                (SOURCE.to_string(), json!(end(source))),
                (DESTINATION.to_string(), json!(end(destination))),
            ]);
            for ((attr, _, _), f) in ROLES.iter().zip(fallbacks_of(r)) {
                table.push((attr.to_string(), f.attr()));
            }
            if !destination.starts_with(DEFAULT_SITE_GROUP) {
                references.push(ImportRef {
                    field: DESTINATION.into(),
                    kind: "boundary_group".into(),
                });
            }
            let id = id_of(r);
            Imported {
                kind: RelationshipKind::KIND.into(),
                key_hint: format!(
                    "{}_to_{}",
                    source.to_lowercase(),
                    destination.to_lowercase()
                ),
                natural_key: format!("{}->{}", end(source), end(destination)).to_lowercase(),
                origin: format!("SMS_BoundaryGroupRelationships {id}"),
                id,
                table,
                references,
                notes: Vec::new(),
            }
        })
        .collect())
}
