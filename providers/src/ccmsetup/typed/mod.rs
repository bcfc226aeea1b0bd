//! Typed manifest structs for ccmsetup parameters and client.msi properties.
//!
//! Field names serialise as the documented names, so a TOML manifest reads like the docs:
//!
//! ```toml
//! [x.ccmsetup]
//! UsePKICert = true
//! source = ["C:\\ClientSource"]
//! mp = ["mp1.contoso.com"]
//! BITSPriority = "HIGH"
//!
//! [x.properties]
//! SMSSITECODE = "ABC"
//! FSP = "FSPSERVER"
//! CCMALWAYSINF = true   # renders CCMALWAYSINF=1
//! CCMEVALINTERVAL = 60
//! ```
//!
//! Source for every field: `configmgr.md` §1.2 (parameters) and §1.3 (properties), from
//! memdocs `about-client-installation-properties.md`. Conversion to and from
//! [`crate::ccmsetup::CommandLine`] lives in `convert.rs`. `/?` (help) is not modelled.

use serde::{Deserialize, Serialize};

/// `/BITSPriority` values (§1.2); default NORMAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BitsPriority {
    /// FOREGROUND.
    Foreground,
    /// HIGH.
    High,
    /// NORMAL (default).
    Normal,
    /// LOW.
    Low,
}

/// `/ExcludeFeatures` values (§1.2): ClientUI is the only supported one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ExcludeFeature {
    /// Don't install Software Center.
    ClientUI,
}

/// `SMSCACHEFLAGS` items (§1.3). The two PERCENT flags are mutually exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CacheFlag {
    /// SMSCACHESIZE is a percentage of the disk size.
    PercentDiskSpace,
    /// SMSCACHESIZE is a percentage of the free disk space.
    PercentFreeDiskSpace,
    /// Use the largest disk.
    MaxDrive,
    /// Use the disk with the most free space.
    MaxDriveSpace,
    /// Only NTFS disks.
    NtfsOnly,
    /// Compress the cache.
    Compress,
    /// Fail if there isn't enough space.
    FailIfNoSpace,
}

mod parameters;
mod properties;

pub use parameters::CcmsetupParameters;
pub use properties::ClientMsiProperties;
