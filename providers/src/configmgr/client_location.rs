//! Where a client is on the network, as `cmdeploy resolve` places it: from an address or AD
//! site given on the command line, or from the site's device record of a host.

use std::net::IpAddr;

use serde::Serialize;

/// Where a client is on the network, as ConfigMgr matches it against boundaries: its IP
/// addresses (every network card), the subnet IDs it computed from them, and its AD site
/// (boundaries.md; SMS_R_System `IPAddresses`, `IPSubnets`, `ADSiteName`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// IPv4 and IPv6 addresses.
    pub addresses: Vec<IpAddr>,
    /// IPv4 subnet IDs (`10.20.42.0`). When given, an IP subnet boundary matches only its own
    /// subnet ID, as the client's network mask decides it; when empty, it matches every address
    /// its block holds.
    pub subnet_ids: Vec<std::net::Ipv4Addr>,
    /// AD site name.
    pub ad_site: Option<String>,
}
