//! The `site_settings` kind's model: what a site's client settings are compared as, desired and
//! observed, and the choices its tables name (approval method, conflicting records). Below the
//! kind and its read side, which both use it.

use serde::{Deserialize, Serialize};

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

    pub(crate) fn from_method(m: &str) -> Option<Approval> {
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

/// Automatic client upgrade as compared (the pre-production collection by name, or by ID when
/// ConfigMgr holds another one than the manifest names; `null` when off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeModel {
    /// `-EnableAutoClientUpgrade`.
    pub enabled: bool,
    /// `-AutoUpgradeDays`, 1–31.
    pub days: i64,
    /// `-ExcludeServer`.
    pub exclude_servers: bool,
    /// `-TargetCollectionName` with `-EnablePreProduction`.
    pub pre_production_collection: Option<String>,
}

/// A site's (and the hierarchy's) client settings, desired and observed; only what the manifest
/// declares is managed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSettingsModel {
    /// Automatic client upgrade (hierarchy-wide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_upgrade: Option<UpgradeModel>,
    /// Approval method (hierarchy-wide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Conflicting-records handling (hierarchy-wide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicting_records: Option<ConflictingRecords>,
    /// Active Directory System Discovery active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_discovery: Option<bool>,
    /// Approved devices among those the manifest lists, upper case, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_devices: Option<Vec<String>>,
    /// Blocked devices among those the manifest or state lists, upper case, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_devices: Option<Vec<String>>,
    /// Conflicting records waiting for an administrator (desired: none), upper case, sorted
    /// (see [`super::conflicts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicting_records_pending: Option<Vec<String>>,
}

impl SiteSettingsModel {
    /// True when it declares hierarchy-wide settings (one `site_settings` resource may).
    pub fn declares_hierarchy(&self) -> bool {
        self.automatic_upgrade.is_some()
            || self.approval.is_some()
            || self.conflicting_records.is_some()
    }
}
