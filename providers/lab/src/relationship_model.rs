//! A boundary-group relationship as the lab's estate keeps it (SMS_BoundaryGroupRelationships);
//! `cm_relationship.rs` answers the cmdlets that read and change it.

use serde::{Deserialize, Serialize};

/// ConfigMgr's fallback time when a relationship is created without one, in minutes.
pub const DEFAULT_MINUTES: i64 = 120;

/// One relationship from a source group to a neighbor (destination) group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    /// SourceGroupID (in the seed: leave 0 and give `source_name`).
    #[serde(default)]
    pub source: u64,
    /// DestinationGroupID (in the seed: leave 0 and give `destination_name`).
    #[serde(default)]
    pub destination: u64,
    /// Source group by name, in the seed only.
    #[serde(default, skip_serializing)]
    pub source_name: String,
    /// Destination group by name, in the seed only.
    #[serde(default, skip_serializing)]
    pub destination_name: String,
    /// Distribution point fallback, minutes (-1: never).
    #[serde(default = "default_minutes")]
    pub fallback_dp: i64,
    /// Management point fallback, minutes (-1: never).
    #[serde(default = "default_minutes")]
    pub fallback_mp: i64,
    /// State migration point fallback, minutes (-1: never).
    #[serde(default = "default_minutes")]
    pub fallback_smp: i64,
    /// Software update point fallback, minutes (-1: never).
    #[serde(default = "default_minutes")]
    pub fallback_sup: i64,
}

fn default_minutes() -> i64 {
    DEFAULT_MINUTES
}
