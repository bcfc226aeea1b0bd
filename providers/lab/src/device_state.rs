//! What the site holds about a device beside its record: removed, blocked, approved. The
//! device record listing (`host.rs`) and the cmdlets that change these (`cm_device.rs`,
//! `cm_settings.rs`) both read them here.

use super::model::{short, Estate};

/// Whether the site's record of `name` was removed (only a record without a registered client
/// stays removed: see the module doc).
pub fn is_removed(estate: &Estate, site: &str, name: &str) -> bool {
    estate.site(site).is_some_and(|s| {
        s.removed_devices
            .iter()
            .any(|d| d.eq_ignore_ascii_case(short(name)))
    })
}

/// Whether `name` (short name or FQDN) is blocked at `site`.
pub fn is_blocked(estate: &Estate, site: &str, name: &str) -> bool {
    estate.site(site).is_some_and(|s| {
        s.blocked_devices
            .iter()
            .any(|d| d.eq_ignore_ascii_case(short(name)))
    })
}

/// Whether the client `name` is approved at `site` (`IsApproved`): approved by an administrator
/// (or approved when the approval method last changed, see `set_hierarchy`), or automatically by
/// the site's approval method — every computer, or (ConfigMgr's default)
/// computers in trusted domains, so a workgroup client waits for an administrator (seed 003
/// "Approval": "...unless they are from a separate Active Directory forest or a workgroup").
pub fn is_approved(estate: &Estate, site: &str, name: &str, in_domain: bool) -> bool {
    estate.site(site).is_some_and(|s| {
        s.approved_devices
            .iter()
            .any(|d| d.eq_ignore_ascii_case(short(name)))
            || match s.hierarchy.approval_method.as_str() {
                "AutomaticallyApproveAllComputers" => true,
                "AutomaticallyApproveComputersInTrustedDomains" => in_domain,
                _ => false,
            }
    })
}
