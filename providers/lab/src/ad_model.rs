//! AD replication sites and subnets as the lab's estate keeps them (`[[domain.ad_site]]`,
//! `[[domain.ad_subnet]]` in the seed); `ad_replication.rs` answers the cmdlets that read them.

use serde::{Deserialize, Serialize};

/// An AD replication site (`[[domain.ad_site]]` in the seed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdSite {
    /// Site name (`HQ`).
    pub name: String,
    /// Description (empty: unset).
    #[serde(default)]
    pub description: String,
}

/// An AD replication subnet (`[[domain.ad_subnet]]` in the seed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdSubnet {
    /// The prefix (`10.1.0.0/16`).
    pub name: String,
    /// The site's name (empty: the subnet is in no site).
    #[serde(default)]
    pub site: String,
    /// Location (empty: unset).
    #[serde(default)]
    pub location: String,
    /// Description (empty: unset).
    #[serde(default)]
    pub description: String,
}
