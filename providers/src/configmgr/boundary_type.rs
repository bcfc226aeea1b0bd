//! A boundary's type, with ConfigMgr's `-Type` names and `SMS_Boundary.BoundaryType` numbers
//! (PSRef New-CMBoundary; configmgr.md §2.2). Below the `boundary` kind and the overlap checks
//! that use it.

use serde::{Deserialize, Serialize};

/// Boundary type, with ConfigMgr's `-Type` names and BoundaryType numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryType {
    /// IPSubnet (0): `10.1.0.0/16`; ConfigMgr stores only the subnet ID.
    IpSubnet,
    /// ADSite (1): the AD site name.
    AdSite,
    /// IPV6Prefix (2).
    Ipv6Prefix,
    /// IPRange (3): `start-end`.
    IpRange,
    /// Vpn (4): `Auto:On`, `Name:<connection>` or `Description:<text>`.
    Vpn,
}

impl BoundaryType {
    /// The `-Type` value.
    pub fn cmdlet_name(self) -> &'static str {
        ["IPSubnet", "ADSite", "IPV6Prefix", "IPRange", "Vpn"][self.number() as usize]
    }

    /// SMS_Boundary.BoundaryType.
    pub fn number(self) -> u32 {
        match self {
            BoundaryType::IpSubnet => 0,
            BoundaryType::AdSite => 1,
            BoundaryType::Ipv6Prefix => 2,
            BoundaryType::IpRange => 3,
            BoundaryType::Vpn => 4,
        }
    }

    /// From SMS_Boundary.BoundaryType.
    pub fn from_number(n: i64) -> Option<BoundaryType> {
        [
            BoundaryType::IpSubnet,
            BoundaryType::AdSite,
            BoundaryType::Ipv6Prefix,
            BoundaryType::IpRange,
            BoundaryType::Vpn,
        ]
        .get(usize::try_from(n).ok()?)
        .copied()
    }

    /// The manifest name (`ip_subnet`).
    pub fn key(self) -> &'static str {
        ["ip_subnet", "ad_site", "ipv6_prefix", "ip_range", "vpn"][self.number() as usize]
    }
}
