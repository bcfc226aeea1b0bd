//! Overlaps with the estate (issue item "overlaps against the estate"): a managed IPv4 boundary
//! whose addresses overlap a boundary that exists in ConfigMgr but is in no manifest is a
//! plan-time warning naming both, not silence. A client in the overlap is in both boundaries'
//! groups, so it may take its site assignment or its content from a group nobody reviewed
//! (configmgr.md §6 rule 4; define-site-boundaries-and-boundary-groups.md, "avoid overlapping
//! boundaries").
//!
//! ConfigMgr stores only an IP subnet's ID, so an unmanaged IP subnet is taken as the widest
//! block its ID allows ([`super::net::subnet_id_block`]) and the warning says so; IP ranges are
//! exact. IPv6 prefixes, AD sites and VPN boundaries are not compared (an AD site or a VPN
//! value names one thing, and two boundaries with the same type and value are the same
//! boundary).

use std::net::Ipv4Addr;

use serde_json::Value;

use cmdeploy_engine::provider::{Observed, WARNING};
use cmdeploy_engine::resource::Resource;

use super::boundary_type::BoundaryType;

/// An unmanaged IPv4 boundary of the estate.
struct Estate {
    start: u32,
    end: u32,
    describe: String,
}

/// The estate's IPv4 boundaries that no manifest declares, sorted by first address.
pub struct Unmanaged {
    sorted: Vec<Estate>,
}

impl Unmanaged {
    /// Keeps the boundaries of `all` (as [`super::boundary::observed_of`] reads them) for which
    /// `managed` is false and that cover IPv4 addresses.
    pub fn new<'a>(
        all: impl IntoIterator<Item = &'a Observed>,
        managed: impl Fn(&Observed) -> bool,
    ) -> Unmanaged {
        let mut sorted: Vec<Estate> = all
            .into_iter()
            .filter(|o| !managed(o))
            .filter_map(|o| {
                let t: BoundaryType = serde_json::from_value(o.attrs["type"].clone()).ok()?;
                let value = o.attrs["value"].as_str().unwrap_or("");
                let name = o.attrs["name"].as_str().unwrap_or("");
                let (start, end, shown) = match t {
                    BoundaryType::IpSubnet => {
                        let (a, b) = super::net::subnet_id_block(value)?;
                        let prefix = 32 - (b - a).wrapping_add(1).trailing_zeros().min(32);
                        (a, b, format!("IP subnet {value}, read as {value}/{prefix}: ConfigMgr keeps no mask"))
                    }
                    BoundaryType::IpRange => {
                        let (a, b) = super::net::range(value).ok()?;
                        (u32::from(a), u32::from(b), format!("IP range {value}"))
                    }
                    _ => return None,
                };
                Some(Estate {
                    start,
                    end,
                    describe: format!("\"{name}\" ({shown}; BoundaryID {})", o.id),
                })
            })
            .collect();
        sorted.sort_by_key(|e| (e.start, e.end));
        Unmanaged { sorted }
    }

    /// The warnings (notes starting with [`WARNING`]) for one desired boundary: one per
    /// unmanaged boundary its addresses overlap, in address order. Empty for a boundary that
    /// covers no IPv4 address.
    pub fn warnings_for(&self, desired: &Resource) -> Vec<String> {
        let get = |k: &str| {
            desired
                .meta
                .get(k)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        let (Some(start), Some(end)) = (get("ip_start"), get("ip_end")) else {
            return Vec::new();
        };
        let upto = self.sorted.partition_point(|e| e.start <= end);
        self.sorted[..upto]
            .iter()
            .filter(|e| e.end >= start)
            .map(|e| {
                format!(
                    "{WARNING}{} ({}-{}) overlaps the boundary {}, which exists in ConfigMgr but is in no manifest: a client there is in both boundaries' groups and may take its site or content from the unmanaged one. Adopt it with `cmdeploy import` or make the address spaces disjoint (configmgr.md §6 rule 4)",
                    desired.address,
                    Ipv4Addr::from(start),
                    Ipv4Addr::from(end),
                    e.describe
                )
            })
            .collect()
    }
}
