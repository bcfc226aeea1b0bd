//! The lab's model of a site's settings beyond client push: hierarchy settings (automatic client
//! upgrade, pre-production, approval, conflicting records), Active Directory System Discovery,
//! blocked devices, software update points, distribution points and packages with programs.
//! Every struct is part of the persisted estate and of the `lab.toml` seed.

use serde::{Deserialize, Serialize};

/// Hierarchy settings as `Set-CMHierarchySetting` changes them (PSRef Set-CMHierarchySetting).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HierarchySettings {
    /// "Upgrade all clients in the hierarchy using production client".
    #[serde(default)]
    pub auto_upgrade: bool,
    /// "Automatically upgrade clients within days" (1–31).
    #[serde(default = "seven")]
    pub auto_upgrade_days: i64,
    /// "Do not upgrade servers".
    #[serde(default)]
    pub exclude_servers: bool,
    /// "Upgrade all clients in the pre-production collection using pre-production client".
    #[serde(default)]
    pub pre_production: bool,
    /// Name of the pre-production collection ("" = none).
    #[serde(default)]
    pub pre_production_collection: String,
    /// `ApprovalMethod` enum value (default: approve computers in trusted domains).
    #[serde(default = "trusted")]
    pub approval_method: String,
    /// "Automatically resolve conflicting records" (default on).
    #[serde(default = "yes")]
    pub auto_resolve_conflicts: bool,
}

impl Default for HierarchySettings {
    fn default() -> Self {
        HierarchySettings {
            auto_upgrade: false,
            auto_upgrade_days: seven(),
            exclude_servers: false,
            pre_production: false,
            pre_production_collection: String::new(),
            approval_method: trusted(),
            auto_resolve_conflicts: true,
        }
    }
}

fn seven() -> i64 {
    7
}

fn trusted() -> String {
    "AutomaticallyApproveComputersInTrustedDomains".into()
}

fn yes() -> bool {
    true
}

/// A software update point role (SMS_SCI_SysResUse, "SMS Software Update Point").
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SoftwareUpdatePoint {
    /// The site system name as ConfigMgr holds it: an FQDN or a short name.
    pub server: String,
    /// WSUS IIS HTTP port (`WSUSIISPort`: 80 or 8530).
    #[serde(default = "http_port")]
    pub http_port: i64,
    /// WSUS IIS HTTPS port (`WSUSIISSSLPort`: 443 or 8531).
    #[serde(default = "https_port")]
    pub https_port: i64,
    /// Clients connect over SSL (`SSLWSUS`).
    #[serde(default)]
    pub ssl: bool,
}

fn http_port() -> i64 {
    8530
}

fn https_port() -> i64 {
    8531
}

/// A program of a package (SMS_Program).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// ProgramName.
    pub name: String,
    /// CommandLine.
    pub command_line: String,
}

/// A legacy package (SMS_Package) and where its content is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// PackageID (`<site code><5 hex digits>`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Manufacturer.
    #[serde(default)]
    pub manufacturer: String,
    /// PkgSourcePath ("" = no source files).
    #[serde(default)]
    pub source: String,
    /// Programs.
    #[serde(default, rename = "program")]
    pub programs: Vec<Program>,
    /// Distribution points (FQDNs) holding the content.
    #[serde(default)]
    pub distributed_to: Vec<String>,
    /// Deployments of its programs to collections (SMS_Advertisement).
    #[serde(default, rename = "deployment")]
    pub deployments: Vec<PackageDeployment>,
}

/// A deployment of a package's program to a collection (SMS_Advertisement; PSRef
/// New-CMPackageDeployment).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PackageDeployment {
    /// AdvertisementID (`<site code><5 hex digits>`).
    pub id: String,
    /// ProgramName.
    pub program: String,
    /// CollectionID.
    pub collection_id: String,
    /// `DeployPurpose Required` (OfferType 0); otherwise Available (OfferType 2).
    #[serde(default)]
    pub required: bool,
}

/// Built-in collections every site has.
pub fn default_collections() -> Vec<String> {
    ["All Systems", "All Desktop and Server Clients"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// The package definition ConfigMgr ships for client upgrades ("Create Package from Definition",
/// publisher Microsoft): its name, and its program with the default command line
/// (deploy-clients-to-windows-computers.md, "How to Install Configuration Manager Clients by
/// Using a Package and Program").
pub const CLIENT_UPGRADE_DEFINITION: &str = "Configuration Manager Client Upgrade";
/// The program of that definition.
pub const CLIENT_UPGRADE_PROGRAM: &str = "Configuration Manager agent silent upgrade";
/// Its default command line.
pub const CLIENT_UPGRADE_COMMAND_LINE: &str = "CCMSETUP.EXE /noservice SMSSITECODE=AUTO";

/// A conflicting record (SMS_PendingRegistrationRecord; PSRef Get-CMConflictingRecord).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConflictingRecord {
    /// `SMSID` (the cmdlets' `-Id`, alias `Smsid`), e.g. `GUID:...`.
    pub smsid: String,
    /// `AgentName` (the cmdlets' `-Name`, alias `AgentName`): the computer name.
    pub name: String,
}
