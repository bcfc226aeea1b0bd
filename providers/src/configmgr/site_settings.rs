//! `site_settings`: the client-deployment settings of a site beyond push — automatic client
//! upgrade with pre-production testing, client approval and conflicting records (hierarchy
//! settings, `Set-CMHierarchySetting`), Active Directory System Discovery (`Set-CMDiscoveryMethod
//! -ActiveDirectorySystemDiscovery`), and blocked devices (`Block-/Unblock-CMDevice`).
//!
//! Only what the manifest declares is managed. Rule: automatic site-wide client push installs to
//! *discovered* computers, so a manifest that enables automatic push but disables system
//! discovery at the same site is refused (configmgr.md §2.10, §6 rule 12; seed 000 "Client Push";
//! seed 003 "Approval", "Blocking Clients", "Conflicting Records"; seed 004 pre-production).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{Context, ReadRequest, ReadResult, RemoteError};
use cmdeploy_engine::resource::ResourceSet;
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;

use super::client_push::{ClientPushKind, ClientPushModel};
pub use super::site_settings_model::{
    Approval, ConflictingRecords, SiteSettingsModel, UpgradeModel,
};
use super::site_settings_observe::{read_values, reads};
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{
    self, Change, CrossValidate, Declared, DecodeCx, Import, PlanNotes, ReadValues, TypedKind,
};

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

/// The `site_settings` kind.
pub struct SiteSettingsKind;

#[async_trait::async_trait]
impl TypedKind for SiteSettingsKind {
    type Spec = SiteSettingsSpec;
    type Model = SiteSettingsModel;
    const KIND: &'static str = "site_settings";
    const DESCRIPTION: &'static str = "Site and hierarchy client settings: automatic client upgrade, pre-production client, approval, conflicting records, system discovery, blocked devices.";

    fn decode(
        &self,
        spec: SiteSettingsSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<SiteSettingsModel>, Vec<Diagnostic>> {
        let file = &cx.file;
        let span = cx.span.clone();
        let site = spec.site.clone().unwrap_or(Spanned {
            value: cx.key.clone(),
            span: span.clone(),
        });
        if spec.site.is_none() {
            // The table key is the site code: `[site_settings.ABC]`.
            let old = format!("site_settings.{}", site.value);
            if let Some(d) =
                super::site::site_code_case(&site.value, file, span.clone(), Some(&old))
            {
                return Err(vec![d]);
            }
        }
        if let Some(u) = &spec.automatic_upgrade {
            if !(1..=31).contains(&u.days.value) {
                return Err(vec![Diagnostic::error("cmdeploy::site_settings::upgrade_days", format!("automatic client upgrade within {} days: ConfigMgr accepts 1 to 31", u.days.value))
                    .with_help("set days between 1 and 31 (Set-CMHierarchySetting -AutoUpgradeDays; Hierarchy Settings, Client Upgrade tab)")
                    .at_span(file, super::span_or(&u.days.span, &span))]);
            }
        }
        let upper = |l: &Vec<String>| kit::sorted_strings(l.iter().map(|n| n.to_uppercase()));
        let model = SiteSettingsModel {
            automatic_upgrade: spec.automatic_upgrade.as_ref().map(|u| UpgradeModel {
                enabled: u.enabled,
                days: u.days.value,
                exclude_servers: u.exclude_servers,
                pre_production_collection: u.pre_production_collection.clone(),
            }),
            approval: spec.approval,
            conflicting_records: spec.conflicting_records,
            system_discovery: spec.system_discovery.as_ref().map(|s| s.value),
            approved_devices: spec.approved_devices.as_ref().map(upper),
            blocked_devices: spec.blocked_devices.as_ref().map(upper),
            conflicting_records_pending: spec.conflicting_record_action.map(|_| Vec::new()),
        };
        let (connection, reference, mut meta) = super::site_binding(&site, true);
        if let Some(a) = spec.conflicting_record_action {
            meta.insert(
                "conflicting_record_action".into(),
                super::conflicts::meta_value(a),
            );
        }
        let mut d = Declared::new(model, connection, site.value.to_uppercase());
        d.references.extend(reference);
        d.meta = meta;
        Ok(d)
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        sdk::read_by_site(ctx, requests, reads, |values, layout, r| {
            read_values(values, layout, r).map(Some)
        })
        .await
    }

    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, SiteSettingsModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let Some(d) = &change.desired else {
            // Removing the resource stops managing the settings; the site keeps them.
            return Ok(Vec::new());
        };
        let have = change.observed.as_ref();
        // An attribute changes as the plan compares it: declared, and not what ConfigMgr holds.
        fn changed<'a, T: PartialEq>(
            want: &'a Option<T>,
            have: Option<&Option<T>>,
        ) -> Option<&'a T> {
            want.as_ref()
                .filter(|w| have.and_then(Option::as_ref) != Some(*w))
        }
        let mut calls = Vec::new();
        let mut set = Call::new("Set-CMHierarchySetting");
        if let Some(u) = changed(&d.automatic_upgrade, have.map(|h| &h.automatic_upgrade)) {
            let collection = u.pre_production_collection.as_deref();
            set = set
                .arg("EnableAutoClientUpgrade", u.enabled)
                .arg("AutoUpgradeDays", u.days)
                .arg("ExcludeServer", u.exclude_servers)
                .arg("EnablePreProduction", collection.is_some())
                .opt("TargetCollectionName", collection);
        }
        if let Some(a) = changed(&d.approval, have.map(|h| &h.approval)) {
            set = set.arg("ApprovalMethod", a.method());
        }
        if let Some(c) = changed(&d.conflicting_records, have.map(|h| &h.conflicting_records)) {
            set = set.arg(
                "AutoResolveClientConflict",
                *c == ConflictingRecords::Automatic,
            );
        }
        if !set.args.is_empty() {
            calls.push(set);
        }
        if let Some(on) = changed(&d.system_discovery, have.map(|h| &h.system_discovery)) {
            calls.push(
                Call::new("Set-CMDiscoveryMethod")
                    .switch("ActiveDirectorySystemDiscovery")
                    .arg("SiteCode", code.as_str())
                    .arg("Enabled", *on),
            );
        }
        let has = |list: &[String], n: &str| list.iter().any(|x| x.eq_ignore_ascii_case(n));
        if let Some(want) = changed(&d.approved_devices, have.map(|h| &h.approved_devices)) {
            let held = have
                .and_then(|h| h.approved_devices.clone())
                .unwrap_or_default();
            for n in want.iter().filter(|n| !has(&held, n)) {
                calls.push(Call::new("Approve-CMDevice").arg("DeviceName", n.as_str()));
            }
        }
        if let Some(want) = changed(&d.blocked_devices, have.map(|h| &h.blocked_devices)) {
            let held = have
                .and_then(|h| h.blocked_devices.clone())
                .unwrap_or_default();
            for n in want.iter().filter(|n| !has(&held, n)) {
                calls.push(Call::new("Block-CMDevice").arg("DeviceName", n.as_str()));
            }
            for n in held.iter().filter(|n| !has(want, n)) {
                calls.push(Call::new("Unblock-CMDevice").arg("DeviceName", n.as_str()));
            }
        }
        if let Some((action, pending)) = pending_records(change) {
            calls.extend(super::conflicts::calls(action, &json!(pending)));
        }
        calls.extend(reads(&code, &change.request()).0);
        Ok(calls)
    }

    fn read_back(
        &self,
        ctx: &Context,
        change: &Change<'_, SiteSettingsModel>,
        values: &[Value],
    ) -> Result<(String, SiteSettingsModel), RemoteError> {
        let op = change.op;
        // With `new`, no cmdlet can act: the other settings are written, then apply stops with
        // the console step for each pending record.
        if let Some((action, pending)) = pending_records(change) {
            let console_steps = super::conflicts::notes(action, &json!(pending));
            if !console_steps.is_empty() {
                return Err(RemoteError {
                    host: op.connection.host(),
                    operation: Some("Get-CMConflictingRecord".into()),
                    message: console_steps.join("; "),
                    category: None,
                    unreachable: None,
                });
            }
        }
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let request = change.request();
        let (calls, layout) = reads(&code, &request);
        let values = ReadValues::tail(&op.connection, values, calls.len());
        sdk::observed_model(read_values(&values, &layout, &request)?).ok_or_else(|| {
            RemoteError::new(
                op.connection.host(),
                format!("settings of site {code} is not found after apply"),
            )
        })
    }
}

/// The action on conflicting records and the records the refresh found pending, when they
/// change (the manifest wants none pending and some are).
fn pending_records(
    change: &Change<'_, SiteSettingsModel>,
) -> Option<(super::conflicts::ConflictAction, Vec<String>)> {
    let want = change
        .desired
        .as_ref()?
        .conflicting_records_pending
        .as_ref()?;
    let have = change.observed.as_ref()?;
    if have.conflicting_records_pending.as_ref() == Some(want) {
        return None;
    }
    let action = super::conflicts::action_of(&change.op.desired.as_ref()?.meta)?;
    Some((
        action,
        have.conflicting_records_pending.clone().unwrap_or_default(),
    ))
}

impl CrossValidate for SiteSettingsKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let settings: Vec<_> = sdk::models::<SiteSettingsModel>(resources, Self::KIND).collect();
        let hierarchy: Vec<_> = settings
            .iter()
            .filter(|(_, m)| m.declares_hierarchy())
            .collect();
        for (extra, _) in hierarchy.iter().skip(1) {
            out.push(
                Diagnostic::error("cmdeploy::site_settings::hierarchy_twice", format!("{} and {} both set hierarchy settings", hierarchy[0].0.address, extra.address))
                    .with_help("automatic client upgrade, approval and conflicting records are hierarchy-wide (Set-CMHierarchySetting): declare them in one site_settings table")
                    .at(extra.loc.clone()),
            );
        }
        let site_of = |meta: &serde_json::Map<String, Value>| {
            meta.get("site")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        for (push, p) in sdk::models::<ClientPushModel>(resources, ClientPushKind::KIND) {
            if !p.automatic {
                continue;
            }
            let site = site_of(&push.meta);
            let found = resources
                .get(&Address::new(Self::KIND, site.as_str()))
                .and_then(|r| Some((r, sdk::model::<SiteSettingsModel>(&r.attrs)?)))
                .or_else(|| {
                    settings
                        .iter()
                        .find(|(s, _)| site_of(&s.meta) == site)
                        .map(|(s, m)| (*s, m.clone()))
                });
            let Some((s, m)) = found else {
                continue;
            };
            if m.system_discovery == Some(false) {
                out.push(
                    Diagnostic::error("cmdeploy::site_settings::push_needs_discovery", format!("{} enables automatic site-wide client push, but {} turns Active Directory System Discovery off", push.address, s.address))
                        .with_help("automatic push installs only to discovered computers: enable system_discovery, or turn automatic push off (configmgr.md §2.10, §6 rule 12)")
                        .at(s.attr_loc("system_discovery")),
                );
            }
        }
    }
}

impl PlanNotes for SiteSettingsKind {
    fn notes(
        &self,
        desired: Option<&cmdeploy_engine::resource::Resource>,
        _observed: Option<&cmdeploy_engine::provider::Observed>,
    ) -> Vec<String> {
        let desired = desired.and_then(|d| sdk::model::<SiteSettingsModel>(&d.attrs));
        let desired = desired.as_ref();
        let mut notes = Vec::new();
        if desired.is_some_and(|d| d.automatic_upgrade.is_some()) {
            notes.push("automatic client upgrade is hierarchy-wide: it upgrades clients of every primary site within the days given".into());
        }
        if desired.and_then(|d| d.approval) == Some(Approval::Manual) {
            notes.push("with manual approval, every new client waits in Devices until an administrator approves it (Approve-CMDevice)".into());
        }
        notes
    }
}
