//! `boundary`: a network location (IP subnet, IP range, AD site, IPv6 prefix, VPN).
//!
//! IP subnets are compared by subnet ID, as ConfigMgr stores them; supernets are refused as IP
//! subnets (configmgr.md §2.2, §6 rule 5; PSRef New-/Set-/Remove-CMBoundary).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Context, Observed, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::ResourceSet;
use cmdeploy_engine::spanned::Spanned;

use super::net;
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{self, Change, CrossValidate, Declared, DecodeCx, Import, TypedKind};

pub use super::boundary_type::BoundaryType;

/// `[boundary.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoundarySpec {
    /// Key of the `site` whose server manages this boundary (boundaries are hierarchy-wide).
    pub site: Spanned<String>,
    /// Boundary type.
    #[serde(rename = "type")]
    pub boundary_type: BoundaryType,
    /// Value: `10.1.0.0/16`, `10.1.0.1-10.1.0.254`, `Default-First-Site-Name`, ...
    pub value: Spanned<String>,
    /// Display name (SMS_Boundary.DisplayName); defaults to the table key.
    #[serde(default)]
    pub name: Option<String>,
}

/// The address of a boundary group member as `boundaries` lists it: a table key (`hq_lan`) or
/// an instance of a table expanded over a data source (`ad["10.1.0.0/16"]`).
pub fn member_address(member: &str) -> cmdeploy_engine::Address {
    cmdeploy_engine::Address::parse(&format!("boundary.{member}"))
        .unwrap_or_else(|_| cmdeploy_engine::Address::new("boundary", member))
}

/// How a boundary group's `boundaries` names the boundary at `address` (the inverse of
/// [`member_address`]).
pub fn member_name(address: &cmdeploy_engine::Address) -> String {
    let text = address.to_string();
    text.strip_prefix("boundary.").unwrap_or(&text).to_string()
}

/// The natural key of a boundary: `type:value` (what ConfigMgr keeps unique).
pub fn natural_key(t: BoundaryType, value: &str) -> String {
    format!("{}:{}", t.key(), value.to_lowercase())
}

/// Normalises a value as ConfigMgr stores it.
///
/// # Errors
/// A message with help for invalid values and supernets.
pub fn normalize(t: BoundaryType, value: &str) -> Result<String, (String, String)> {
    match t {
        BoundaryType::IpSubnet => match net::subnet(value) {
            Ok(net::Subnet::Id(id)) => Ok(id),
            Ok(net::Subnet::Supernet { range }) => Err((
                format!("`{value}` is a supernet; ConfigMgr does not accept supernets as IP subnet boundaries"),
                format!("use `type = \"ip_range\"` with `value = \"{range}\"` (configmgr.md §6 rule 5)"),
            )),
            Err(m) => Err((m, "IP subnet boundaries take a.b.c.d/len".into())),
        },
        BoundaryType::IpRange => net::range(value)
            .map(|(a, b)| format!("{a}-{b}"))
            .map_err(|m| (m, "IP range boundaries take start-end, e.g. 10.2.0.1-10.2.0.254".into())),
        BoundaryType::Vpn => {
            let ok = ["auto:on", "name:", "description:"].iter().any(|p| value.to_lowercase().starts_with(p));
            if ok {
                Ok(value.to_string())
            } else {
                Err((format!("`{value}` is not a VPN boundary value"), "use `Auto:On`, `Name:<connection name>` or `Description:<text>`".into()))
            }
        }
        BoundaryType::AdSite | BoundaryType::Ipv6Prefix => Ok(value.to_string()),
    }
}

/// A boundary's attributes, desired and observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryModel {
    /// SMS_Boundary.BoundaryType.
    #[serde(rename = "type")]
    pub boundary_type: BoundaryType,
    /// SMS_Boundary.Value, as ConfigMgr stores it (an IP subnet by its subnet ID).
    pub value: String,
    /// SMS_Boundary.DisplayName.
    pub name: String,
}

impl BoundaryModel {
    /// The natural key (`type:value`).
    pub fn natural_key(&self) -> String {
        natural_key(self.boundary_type, &self.value)
    }
}

/// The `boundary` kind.
pub struct BoundaryKind;

#[async_trait::async_trait]
impl TypedKind for BoundaryKind {
    type Spec = BoundarySpec;
    type Model = BoundaryModel;
    const KIND: &'static str = "boundary";
    const DESCRIPTION: &'static str =
        "A boundary: IP subnet (compared by subnet ID), IP range, AD site, IPv6 prefix or VPN.";

    fn decode(
        &self,
        spec: BoundarySpec,
        cx: &DecodeCx,
    ) -> Result<Declared<BoundaryModel>, Vec<Diagnostic>> {
        let value = normalize(spec.boundary_type, &spec.value.value).map_err(|(m, help)| {
            vec![Diagnostic::error(
                if m.contains("supernet") {
                    "cmdeploy::boundary::supernet"
                } else {
                    "cmdeploy::boundary::value"
                },
                m,
            )
            .with_help(help)
            .at_span(&cx.file, spec.value.span.clone())]
        })?;
        let model = BoundaryModel {
            boundary_type: spec.boundary_type,
            value,
            name: spec.name.clone().unwrap_or_else(|| cx.key.clone()),
        };
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let natural_key = model.natural_key();
        let mut d = Declared::new(model, connection, natural_key);
        d.references.extend(reference);
        d.meta = meta;
        if let Some((start, end)) = ip_interval(spec.boundary_type, &spec.value.value) {
            d.meta.insert("ip_start".into(), json!(start));
            d.meta.insert("ip_end".into(), json!(end));
        }
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
        script.push(Call::new("Get-CMBoundary"));
        let all = kit::run(ctx, &connection, &script)
            .await
            .and_then(|out| kit::value_of(&connection, &script, &out, 0).map(Index::new));
        let unmanaged = all
            .as_ref()
            .ok()
            .map(|index| index.unmanaged(ctx, &requests));
        requests
            .into_iter()
            .map(|r| {
                let warnings = match (&unmanaged, &r.desired) {
                    (Some(u), Some(d)) => u.warnings_for(d),
                    _ => Vec::new(),
                };
                let outcome = match &all {
                    Err(e) => ReadOutcome::Failed(e.clone()),
                    Ok(index) => match index.find(&r) {
                        Some(mut o) => {
                            o.notes.extend(warnings);
                            ReadOutcome::Present(o)
                        }
                        None if warnings.is_empty() => ReadOutcome::Absent,
                        None => ReadOutcome::AbsentWith(warnings),
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
        change: &Change<'_, BoundaryModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let Some(d) = &change.desired else {
            return Ok(vec![Call::new("Remove-CMBoundary")
                .arg("Id", change.id().as_str())
                .switch("Force")]);
        };
        let Some(have) = &change.observed else {
            return Ok(vec![Call::new("New-CMBoundary")
                .arg("Type", d.boundary_type.cmdlet_name())
                .arg("Value", d.value.as_str())
                .arg("Name", d.name.as_str())]);
        };
        let mut call = Call::new("Set-CMBoundary").arg("Id", change.id().as_str());
        if d.name != have.name {
            call = call.arg("NewName", d.name.as_str());
        }
        if d.boundary_type != have.boundary_type {
            call = call.arg("NewType", d.boundary_type.cmdlet_name());
        }
        if d.value != have.value || d.boundary_type != have.boundary_type {
            call = call.arg("NewValue", d.value.as_str());
        }
        Ok(vec![call.switch("PassThru")])
    }

    fn read_back(
        &self,
        _ctx: &Context,
        change: &Change<'_, BoundaryModel>,
        values: &[Value],
    ) -> Result<(String, BoundaryModel), RemoteError> {
        // New-CMBoundary and Set-CMBoundary -PassThru return the SMS_Boundary as written.
        values
            .first()
            .and_then(|v| kit::items(v).first().and_then(|o| model_of(o)))
            .ok_or_else(|| {
                let cmdlet = if change.observed.is_none() {
                    "New-CMBoundary"
                } else {
                    "Set-CMBoundary -PassThru"
                };
                RemoteError::new(
                    change.op.connection.host(),
                    format!("{cmdlet} returned no boundary"),
                )
            })
    }
}

impl CrossValidate for BoundaryKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let mut seen: std::collections::BTreeMap<String, String> = Default::default();
        for b in resources.of_kind(Self::KIND) {
            if let Some(prev) = seen.insert(b.natural_key.clone(), b.address.to_string()) {
                out.push(
                    Diagnostic::error("cmdeploy::boundary::duplicate", format!("{} has the same type and value as {prev}", b.address))
                        .with_help("ConfigMgr keeps one boundary per type and value; reference the existing one from several boundary groups instead")
                        .at(b.attr_loc("value")),
                );
            }
        }
    }
}

/// An SMS_Boundary object's ID and model.
pub fn model_of(obj: &Value) -> Option<(String, BoundaryModel)> {
    let boundary_type = BoundaryType::from_number(kit::n(obj, "BoundaryType"))?;
    Some((
        kit::n(obj, "BoundaryID").to_string(),
        BoundaryModel {
            boundary_type,
            value: kit::s(obj, "Value").to_string(),
            name: kit::s(obj, "DisplayName").to_string(),
        },
    ))
}

/// Reads an SMS_Boundary object into normalised attributes.
pub fn observed_of(obj: &Value) -> Option<Observed> {
    model_of(obj).map(|(id, m)| sdk::observed(id, &m))
}

/// The site's boundaries, read once per refresh and looked up by ID and by natural key: each
/// read request is answered in constant time, so a refresh of n boundaries is O(n) (it was one
/// conversion of every object per request, O(n²): 29 s for 6,000 boundaries).
struct Index {
    observed: Vec<Observed>,
    by_id: std::collections::HashMap<String, usize>,
    by_key: std::collections::HashMap<String, usize>,
}

impl Index {
    /// Indexes a `Get-CMBoundary` answer (an array of SMS_Boundary objects, or one object).
    fn new(all: &Value) -> Index {
        let observed: Vec<Observed> = kit::items(all)
            .into_iter()
            .filter_map(observed_of)
            .collect();
        let mut by_id = std::collections::HashMap::with_capacity(observed.len());
        let mut by_key = std::collections::HashMap::with_capacity(observed.len());
        for (i, o) in observed.iter().enumerate() {
            by_id.entry(o.id.clone()).or_insert(i);
            if let Some(m) = sdk::model::<BoundaryModel>(&o.attrs) {
                by_key.entry(m.natural_key()).or_insert(i);
            }
        }
        Index {
            observed,
            by_id,
            by_key,
        }
    }

    /// The boundaries no manifest declares: neither the one a request reads (by prior ID or
    /// natural key) nor one with the natural key of a desired boundary (`--target` reads fewer).
    fn unmanaged(
        &self,
        ctx: &Context,
        requests: &[ReadRequest],
    ) -> super::estate_overlap::Unmanaged {
        let mut managed: std::collections::HashSet<usize> =
            requests.iter().filter_map(|r| self.position(r)).collect();
        managed.extend(
            ctx.resources
                .of_kind("boundary")
                .filter_map(|b| self.by_key.get(&b.natural_key).copied()),
        );
        let ids: std::collections::HashSet<&str> = managed
            .iter()
            .map(|i| self.observed[*i].id.as_str())
            .collect();
        super::estate_overlap::Unmanaged::new(&self.observed, |o| ids.contains(o.id.as_str()))
    }

    /// The boundary a request reads: the prior ID first (a renamed value keeps its ID), then
    /// the natural key (type and value, as ConfigMgr refuses duplicates of).
    fn find(&self, r: &ReadRequest) -> Option<Observed> {
        self.position(r).map(|i| self.observed[i].clone())
    }

    /// Where [`Index::find`]'s boundary is in `observed`.
    fn position(&self, r: &ReadRequest) -> Option<usize> {
        if let Some(i) = r.prior.as_ref().and_then(|p| self.by_id.get(&p.id)) {
            return Some(*i);
        }
        let key = r
            .desired
            .as_ref()
            .map(|d| &d.natural_key)
            .or_else(|| r.prior.as_ref().map(|p| &p.natural_key))?;
        self.by_key.get(key).copied()
    }
}

/// The IPv4 addresses a boundary covers, as an inclusive interval of integers (IP subnets by
/// their prefix as written in the manifest; ConfigMgr itself stores only the subnet ID).
pub fn ip_interval(t: BoundaryType, value: &str) -> Option<(u32, u32)> {
    match t {
        BoundaryType::IpSubnet => {
            let n = net::host_net(value.trim())?;
            Some((u32::from(n.network()), u32::from(n.broadcast())))
        }
        BoundaryType::IpRange => net::range(value)
            .ok()
            .map(|(a, b)| (u32::from(a), u32::from(b))),
        _ => None,
    }
}
