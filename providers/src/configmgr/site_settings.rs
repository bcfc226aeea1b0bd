//! `site_settings`: the client-deployment settings of a site beyond push — automatic client
//! upgrade with pre-production testing, client approval and conflicting records (hierarchy
//! settings, `Set-CMHierarchySetting`), Active Directory System Discovery (`Set-CMDiscoveryMethod
//! -ActiveDirectorySystemDiscovery`), and blocked devices (`Block-/Unblock-CMDevice`).
//!
//! Only what the manifest declares is managed. Rule: automatic site-wide client push installs to
//! *discovered* computers, so a manifest that enables automatic push but disables system
//! discovery at the same site is refused (configmgr.md §2.10, §6 rule 12; seed 000 "Client Push";
//! seed 003 "Approval", "Blocking Clients", "Conflicting Records"; seed 004 pre-production).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, Operation, ReadRequest, ReadResult,
    RemoteError,
};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::resource::{Resource, ResourceSet};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use super::hierarchy_read;
use super::site_settings_observe::{code_of, observe, pre_production_collection, upgrade_value};
use crate::kit;
use crate::powershell::{Call, Target};

/// How new clients are approved (`Set-CMHierarchySetting -ApprovalMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// `AutomaticallyApproveComputersInTrustedDomains` (ConfigMgr's default).
    TrustedDomains,
    /// `ManuallyApproveEachComputer`.
    Manual,
    /// `AutomaticallyApproveAllComputers`.
    All,
}

impl Approval {
    /// The `ApprovalMethodType` enum name.
    pub fn method(self) -> &'static str {
        match self {
            Approval::TrustedDomains => "AutomaticallyApproveComputersInTrustedDomains",
            Approval::Manual => "ManuallyApproveEachComputer",
            Approval::All => "AutomaticallyApproveAllComputers",
        }
    }

    pub(super) fn from_method(m: &str) -> Option<Approval> {
        [Approval::TrustedDomains, Approval::Manual, Approval::All]
            .into_iter()
            .find(|a| a.method().eq_ignore_ascii_case(m))
    }
}

/// How conflicting records (same hardware ID, new certificate) are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictingRecords {
    /// "Automatically resolve conflicting records" (`-AutoResolveClientConflict $true`).
    Automatic,
    /// Show them in the Conflicting Records node for an administrator (`$false`).
    Manual,
}

/// Automatic client upgrade (Hierarchy Settings, Client Upgrade tab).
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomaticUpgrade {
    /// "Upgrade all clients in the hierarchy using production client" (`-EnableAutoClientUpgrade`).
    pub enabled: bool,
    /// "Automatically upgrade clients within days", 1–31 (`-AutoUpgradeDays`, default 7).
    #[serde(default = "seven")]
    pub days: Spanned<i64>,
    /// "Do not upgrade servers" (`-ExcludeServer`).
    #[serde(default)]
    pub exclude_servers: bool,
    /// Name of the pre-production collection; set, it enables "Upgrade all clients in the
    /// pre-production collection using pre-production client" (`-EnablePreProduction`,
    /// `-TargetCollectionName`).
    #[serde(default)]
    pub pre_production_collection: Option<String>,
}

fn seven() -> Spanned<i64> {
    Spanned::detached(7)
}

/// `[site_settings.SITE]`: one per site (the table key is the site's key).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSettingsSpec {
    /// Key of the site (defaults to the table key).
    #[serde(default)]
    pub site: Option<Spanned<String>>,
    /// Automatic client upgrade and pre-production client testing (hierarchy-wide).
    #[serde(default)]
    pub automatic_upgrade: Option<AutomaticUpgrade>,
    /// Client approval method (hierarchy-wide).
    #[serde(default)]
    pub approval: Option<Approval>,
    /// Conflicting-records handling (hierarchy-wide).
    #[serde(default)]
    pub conflicting_records: Option<ConflictingRecords>,
    /// Active Directory System Discovery on or off; automatic push needs it on.
    #[serde(default)]
    pub system_discovery: Option<Spanned<bool>>,
    /// Devices that must be blocked (names as ConfigMgr shows them). A device dropped from the
    /// list is unblocked.
    #[serde(default)]
    pub blocked_devices: Option<Vec<String>>,
    /// Clients that must be approved (`Approve-CMDevice -DeviceName`), e.g. workgroup clients,
    /// which "approve computers in trusted domains" leaves waiting. ConfigMgr has no cmdlet that
    /// revokes approval, so a device dropped from the list stays approved.
    #[serde(default)]
    pub approved_devices: Option<Vec<String>>,
    /// What to do with conflicting records waiting for an administrator (with
    /// `conflicting_records = "manual"`): `merge`, `block`, or `new` (a console step the plan
    /// names). See [`super::conflicts`].
    #[serde(default)]
    pub conflicting_record_action: Option<super::conflicts::ConflictAction>,
}

/// The hierarchy-wide attributes (one `site_settings` resource may declare them).
pub const HIERARCHY_ATTRS: [&str; 3] = ["automatic_upgrade", "approval", "conflicting_records"];

/// The `site_settings` kind.
pub struct SiteSettingsKind;

#[async_trait::async_trait]
impl Kind for SiteSettingsKind {
    fn name(&self) -> &'static str {
        "site_settings"
    }

    fn description(&self) -> &'static str {
        "Site and hierarchy client settings: automatic client upgrade, pre-production client, approval, conflicting records, system discovery, blocked devices."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<SiteSettingsSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let key = input.address.name.clone();
        let span = input.span.clone();
        let spec: SiteSettingsSpec = kit::decode_typed(input, "site_settings")?;
        let site = spec.site.clone().unwrap_or(Spanned {
            value: key,
            span: span.clone(),
        });
        if spec.site.is_none() {
            // The table key is the site code: `[site_settings.ABC]`.
            let old = format!("site_settings.{}", site.value);
            if let Some(d) =
                super::site::site_code_case(&site.value, &file, span.clone(), Some(&old))
            {
                return Err(vec![d]);
            }
        }
        let mut attrs = serde_json::Map::new();
        let mut d_spans = Vec::new();
        if let Some(u) = &spec.automatic_upgrade {
            if !(1..=31).contains(&u.days.value) {
                return Err(vec![Diagnostic::error("cmdeploy::site_settings::upgrade_days", format!("automatic client upgrade within {} days: ConfigMgr accepts 1 to 31", u.days.value))
                    .with_help("set days between 1 and 31 (Set-CMHierarchySetting -AutoUpgradeDays; Hierarchy Settings, Client Upgrade tab)")
                    .at_span(&file, super::span_or(&u.days.span, &span))]);
            }
            attrs.insert(
                "automatic_upgrade".into(),
                upgrade_value(
                    u.enabled,
                    u.days.value,
                    u.exclude_servers,
                    u.pre_production_collection.as_deref(),
                ),
            );
        }
        if let Some(a) = spec.approval {
            attrs.insert("approval".into(), json!(a));
        }
        if let Some(c) = spec.conflicting_records {
            attrs.insert("conflicting_records".into(), json!(c));
        }
        if let Some(s) = &spec.system_discovery {
            attrs.insert("system_discovery".into(), json!(s.value));
            d_spans.push(("system_discovery", s.span.clone()));
        }
        if let Some(a) = &spec.approved_devices {
            attrs.insert(
                "approved_devices".into(),
                kit::sorted(a.iter().map(|n| n.to_uppercase())),
            );
        }
        if let Some(b) = &spec.blocked_devices {
            attrs.insert(
                "blocked_devices".into(),
                kit::sorted(b.iter().map(|n| n.to_uppercase())),
            );
        }
        let (connection, reference, mut meta) = super::site_binding(&site, true);
        if let Some(a) = spec.conflicting_record_action {
            meta.insert(
                "conflicting_record_action".into(),
                super::conflicts::meta_value(a),
            );
            attrs.insert(super::conflicts::PENDING.into(), json!([]));
        }
        let mut d = Decoded::new(attrs, connection, site.value.to_uppercase());
        d.references.extend(reference);
        d.meta = meta;
        for (name, s) in d_spans {
            d.attr_spans.insert(name.into(), s);
        }
        Ok(d)
    }

    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let settings: Vec<&Arc<Resource>> = resources.of_kind("site_settings").collect();
        let hierarchy: Vec<&&Arc<Resource>> = settings
            .iter()
            .filter(|s| HIERARCHY_ATTRS.iter().any(|a| s.attrs.contains_key(*a)))
            .collect();
        for extra in hierarchy.iter().skip(1) {
            out.push(
                Diagnostic::error("cmdeploy::site_settings::hierarchy_twice", format!("{} and {} both set hierarchy settings", hierarchy[0].address, extra.address))
                    .with_help("automatic client upgrade, approval and conflicting records are hierarchy-wide (Set-CMHierarchySetting): declare them in one site_settings table")
                    .at(extra.loc.clone()),
            );
        }
        for push in resources.of_kind("client_push") {
            if push.attrs.get("automatic").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let site = push.meta.get("site").and_then(Value::as_str).unwrap_or("");
            let Some(s) = resources
                .get(&Address::new("site_settings", site))
                .or_else(|| {
                    settings
                        .iter()
                        .copied()
                        .find(|s| s.meta.get("site").and_then(Value::as_str) == Some(site))
                })
            else {
                continue;
            };
            if s.attrs.get("system_discovery").and_then(Value::as_bool) == Some(false) {
                out.push(
                    Diagnostic::error("cmdeploy::site_settings::push_needs_discovery", format!("{} enables automatic site-wide client push, but {} turns Active Directory System Discovery off", push.address, s.address))
                        .with_help("automatic push installs only to discovered computers: enable system_discovery, or turn automatic push off (configmgr.md §2.10, §6 rule 12)")
                        .at(s.attr_loc("system_discovery")),
                );
            }
        }
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
        super::listing_settings::site_settings(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        kit::read_by_site(
            ctx,
            requests,
            |script, code, r| {
                let h = script.push(Call::new("Get-CMHierarchySetting").arg("SiteCode", code));
                let p = script.push(
                    Call::new("Get-CmdeploySiteControlProperty")
                        .arg("SiteCode", code)
                        .arg(
                            "PropertyName",
                            json!(hierarchy_read::SITE_CONTROL_PROPERTIES),
                        ),
                );
                // The pre-production collection is read back by ID: look up the ID of the one
                // the manifest (or the state) names.
                let collection = pre_production_collection(r).map(|n| {
                    (
                        n.clone(),
                        script.push(Call::new("Get-CMDeviceCollection").arg("Name", n.as_str())),
                    )
                });
                let d = script.push(
                    Call::new("Get-CMDiscoveryMethod")
                        .arg("Name", "ActiveDirectorySystemDiscovery")
                        .arg("SiteCode", code),
                );
                let devices: Vec<(String, usize)> =
                    kit::listed(r.desired.as_ref(), r.prior.as_ref(), "blocked_devices")
                        .into_iter()
                        .map(|n| {
                            let id = script.push(
                                Call::new("Get-CMDevice")
                                    .arg("Name", n.as_str())
                                    .switch("Fast"),
                            );
                            (n, id)
                        })
                        .collect();
                // Only the devices the manifest names: approval cannot be revoked, so a device
                // dropped from the list is no longer looked at.
                let approvals: Vec<(String, usize)> =
                    kit::listed(r.desired.as_ref(), None, "approved_devices")
                        .into_iter()
                        .map(|n| {
                            let id = script.push(
                                Call::new("Get-CMDevice")
                                    .arg("Name", n.as_str())
                                    .switch("Fast"),
                            );
                            (n, id)
                        })
                        .collect();
                let conflicts = r
                    .desired
                    .as_ref()
                    .and_then(|d| super::conflicts::action_of(&d.meta))
                    .map(|a| (a, script.push(super::conflicts::read_call())));
                (h, p, collection, d, devices, approvals, conflicts)
            },
            |connection, script, out, (h, p, collection, d, devices, approvals, conflicts), r| {
                let hierarchy = kit::value_of(connection, script, out, *h)?;
                let properties = kit::value_of(connection, script, out, *p)?;
                let h = hierarchy_read::parse(hierarchy, properties).map_err(|m| RemoteError {
                    host: connection.host(),
                    operation: Some("Get-CMHierarchySetting".into()),
                    message: m,
                    category: None,
                    unreachable: None,
                })?;
                let known = match collection {
                    Some((name, id)) => kit::items(kit::value_of(connection, script, out, *id)?)
                        .into_iter()
                        .next()
                        .map(|c| (name.clone(), kit::s(c, "CollectionID").to_string())),
                    None => None,
                };
                let discovery = kit::value_of(connection, script, out, *d)?;
                let mut blocked = Vec::new();
                for (name, id) in devices {
                    let v = kit::value_of(connection, script, out, *id)?;
                    if kit::items(v)
                        .iter()
                        .any(|x| x.get("IsBlocked").and_then(Value::as_bool) == Some(true))
                    {
                        blocked.push(name.to_uppercase());
                    }
                }
                let mut o = observe(&code_of(hierarchy), &h, known, discovery, blocked);
                if r.desired
                    .as_ref()
                    .is_some_and(|d| d.attrs.contains_key("approved_devices"))
                {
                    let mut approved = Vec::new();
                    for (name, id) in approvals {
                        let v = kit::value_of(connection, script, out, *id)?;
                        // IsApproved is a UInt32 (windows-runtime.md §9): 1 approved.
                        if kit::items(v).iter().any(|x| kit::n(x, "IsApproved") == 1) {
                            approved.push(name.to_uppercase());
                        }
                    }
                    o.attrs
                        .insert("approved_devices".into(), kit::sorted(approved));
                }
                if let Some((action, id)) = conflicts {
                    let pending =
                        super::conflicts::pending(kit::value_of(connection, script, out, *id)?);
                    o.notes.extend(super::conflicts::notes(*action, &pending));
                    o.attrs.insert(super::conflicts::PENDING.into(), pending);
                }
                Ok(Some(o))
            },
        )
        .await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let Some(d) = op.desired.clone() else {
            // Removing the resource stops managing the settings; the site keeps them.
            return Ok(Applied {
                id: code,
                attrs: Default::default(),
            });
        };
        let changed = |a: &str| op.changed.iter().any(|c| c == a);
        let mut calls = Vec::new();
        let mut set = Call::new("Set-CMHierarchySetting");
        if changed("automatic_upgrade") {
            let u = &d.attrs["automatic_upgrade"];
            let collection = u["pre_production_collection"].as_str();
            set = set
                .arg("EnableAutoClientUpgrade", u["enabled"].clone())
                .arg("AutoUpgradeDays", u["days"].clone())
                .arg("ExcludeServer", u["exclude_servers"].clone())
                .arg("EnablePreProduction", collection.is_some())
                .opt("TargetCollectionName", collection);
        }
        if changed("approval") {
            let a: Option<Approval> = serde_json::from_value(d.attrs["approval"].clone()).ok();
            set = set.opt("ApprovalMethod", a.map(Approval::method));
        }
        if changed("conflicting_records") {
            set = set.arg(
                "AutoResolveClientConflict",
                d.attrs["conflicting_records"] == json!("automatic"),
            );
        }
        if !set.args.is_empty() {
            calls.push(set);
        }
        if changed("system_discovery") {
            calls.push(
                Call::new("Set-CMDiscoveryMethod")
                    .switch("ActiveDirectorySystemDiscovery")
                    .arg("SiteCode", code.as_str())
                    .arg("Enabled", d.attrs["system_discovery"].clone()),
            );
        }
        if changed("approved_devices") {
            let have = op
                .observed
                .as_ref()
                .and_then(|o| o.attrs.get("approved_devices"))
                .map(names)
                .unwrap_or_default();
            for n in kit::listed(Some(&d), None, "approved_devices") {
                if !have.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                    calls.push(Call::new("Approve-CMDevice").arg("DeviceName", n.as_str()));
                }
            }
        }
        if changed("blocked_devices") {
            let want = kit::listed(Some(&d), None, "blocked_devices");
            let have = op
                .observed
                .as_ref()
                .map(|o| names(&o.attrs["blocked_devices"]))
                .unwrap_or_default();
            let has = |list: &[String], n: &str| list.iter().any(|x| x.eq_ignore_ascii_case(n));
            for n in want.iter().filter(|n| !has(&have, n)) {
                calls.push(Call::new("Block-CMDevice").arg("DeviceName", n.as_str()));
            }
            for n in have.iter().filter(|n| !has(&want, n)) {
                calls.push(Call::new("Unblock-CMDevice").arg("DeviceName", n.as_str()));
            }
        }
        // With `new`, no cmdlet can act: the other settings are written, then apply stops with
        // the console step for each pending record.
        let mut console_steps = Vec::new();
        if changed(super::conflicts::PENDING) {
            if let (Some(action), Some(o)) = (super::conflicts::action_of(&d.meta), &op.observed) {
                let have = o
                    .attrs
                    .get(super::conflicts::PENDING)
                    .cloned()
                    .unwrap_or_default();
                calls.extend(super::conflicts::calls(action, &have));
                console_steps = super::conflicts::notes(action, &have);
            }
        }
        let target = Target::SiteServer {
            site_code: code.clone(),
        };
        if !calls.is_empty() {
            kit::run_writes(ctx, &op.connection, target, calls).await?;
        }
        if !console_steps.is_empty() {
            return Err(RemoteError {
                host: op.connection.host(),
                operation: Some("Get-CMConflictingRecord".into()),
                message: console_steps.join("; "),
                category: None,
                unreachable: None,
            });
        }
        kit::read_back(
            &SiteSettingsKind,
            ctx,
            &op,
            &format!("settings of site {code}"),
        )
        .await
    }

    fn plan_notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        let mut notes = Vec::new();
        if desired.is_some_and(|d| d.attrs.contains_key("automatic_upgrade")) {
            notes.push("automatic client upgrade is hierarchy-wide: it upgrades clients of every primary site within the days given".into());
        }
        if desired.and_then(|d| d.attrs.get("approval")) == Some(&json!("manual")) {
            notes.push("with manual approval, every new client waits in Devices until an administrator approves it (Approve-CMDevice)".into());
        }
        notes
    }
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}
