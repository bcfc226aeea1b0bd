//! Overlapping site-assignment boundaries (configmgr.md §6 rule 4): when the address spaces of
//! boundaries in groups assigned to *different* sites overlap — a subnet inside a range, two
//! ranges, a subnet and its parent — clients there pick a site at random.

use serde_json::Value;

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::resource::ResourceSet;
use cmdeploy_engine::Address;

struct Interval {
    start: u32,
    end: u32,
    site: String,
    group: Address,
    boundary: String,
}

/// Reports every pair of groups assigned to different sites whose IP boundaries overlap.
pub fn check(resources: &ResourceSet, out: &mut Diagnostics) {
    let mut intervals = Vec::new();
    for g in resources.of_kind("boundary_group") {
        let site = g.str_attr("assignment_site").unwrap_or("");
        if site.is_empty() {
            continue;
        }
        for b in g
            .attrs
            .get("boundaries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let Some(boundary) = resources.get(&super::boundary::member_address(b)) else {
                continue;
            };
            let get = |k: &str| {
                boundary
                    .meta
                    .get(k)
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
            };
            if let (Some(start), Some(end)) = (get("ip_start"), get("ip_end")) {
                intervals.push(Interval {
                    start,
                    end,
                    site: site.to_string(),
                    group: g.address.clone(),
                    boundary: b.to_string(),
                });
            }
        }
    }
    intervals.sort_by_key(|i| (i.start, i.end));
    let mut reported = std::collections::BTreeSet::new();
    let mut active: Vec<&Interval> = Vec::new();
    for i in &intervals {
        active.retain(|a| a.end >= i.start);
        for a in &active {
            if a.site == i.site || a.boundary == i.boundary {
                // Same site, or the same boundary (reported by the membership check).
                continue;
            }
            let pair = (
                a.group.clone().min(i.group.clone()),
                a.group.clone().max(i.group.clone()),
            );
            if !reported.insert(pair) {
                continue;
            }
            let loc = resources.get(&i.group).map(|g| g.attr_loc("boundaries"));
            let mut d = Diagnostic::error(
                "cmdeploy::boundary::assignment_overlap",
                format!(
                    "boundary.{} ({}, site {}) overlaps boundary.{} ({}, site {}): both groups are used for site assignment",
                    i.boundary, i.group, i.site, a.boundary, a.group, a.site
                ),
            )
            .with_help("clients in overlapping assignment boundaries are assigned to one of the sites at random; make the address spaces disjoint or use one site (define-site-boundaries-and-boundary-groups.md; configmgr.md §6 rule 4)");
            if let Some(loc) = loc {
                d = d.at(loc);
            }
            out.push(d);
        }
        active.push(i);
    }
}
