//! A human summary of the lab's estate (`cmdeploy lab show`).

use std::fmt::Write;

use super::model::Estate;

/// Renders the estate as text.
pub fn summary(e: &Estate) -> String {
    let mut s = String::new();
    for site in &e.sites {
        let _ = writeln!(
            s,
            "site {} ({}, {}) on {}",
            site.code, site.name, site.site_type, site.server
        );
        let _ = writeln!(
            s,
            "  client push: automatic={} filters={} accounts={:?} properties={:?}",
            site.push.automatic,
            site.push.filters,
            site.push.accounts,
            site.push.installation_properties
        );
        if let Some(f) = &site.fallback_status_point {
            let _ = writeln!(
                s,
                "  fallback status point: {} ({} messages / {} ms)",
                f.server, f.state_message_count, f.throttle_interval_ms
            );
        }
        let accounts: Vec<&str> = site.accounts.iter().map(|a| a.user_name.as_str()).collect();
        let _ = writeln!(
            s,
            "  accounts: {accounts:?}; network access: {:?}",
            site.network_access_accounts
        );
        site_settings(&mut s, site);
    }
    for b in &e.boundaries {
        let _ = writeln!(
            s,
            "boundary {} type={} value={} name={:?}",
            b.id, b.boundary_type, b.value, b.name
        );
    }
    for g in &e.boundary_groups {
        let _ = writeln!(
            s,
            "boundary group {:?} site={:?} boundaries={:?} site systems={:?}",
            g.name, g.default_site_code, g.boundaries, g.site_systems
        );
    }
    for g in &e.gpos {
        let _ = writeln!(
            s,
            "gpo {:?} ({}) links={:?}",
            g.name,
            g.domain,
            g.links.iter().map(|l| &l.target).collect::<Vec<_>>()
        );
        for half in [super::gp_pol::Half::Machine, super::gp_pol::Half::User] {
            let hive = match half {
                super::gp_pol::Half::Machine => "HKLM",
                super::gp_pol::Half::User => "HKCU",
            };
            let records = super::gp_pol::load(g, half)
                .map(|p| p.records)
                .unwrap_or_default();
            for r in &records {
                let Some((state, _, value)) = super::gp_pol::shown(r) else {
                    continue;
                };
                let _ = writeln!(
                    s,
                    "  {hive}\\{}\\{} = {} ({})",
                    r.key,
                    r.target_name().unwrap_or(""),
                    value,
                    state
                );
            }
        }
    }
    for h in &e.hosts {
        let client = match &h.client {
            Some(c) => {
                let mut line = format!(
                    "client {} site={:?} ccmexec={} registered={}",
                    c.version, c.site_code, c.ccmexec_running, c.registered
                );
                if !c.internet_management_point.is_empty() {
                    let _ = write!(line, " internet_mp={}", c.internet_management_point);
                }
                line
            }
            None => "no client".into(),
        };
        let _ = writeln!(
            s,
            "host {} ({}, {}) {}",
            h.fqdn,
            h.domain.as_deref().unwrap_or("workgroup"),
            h.ip,
            client
        );
    }
    let _ = writeln!(s, "scripts run since reset: {}", e.scripts_run);
    s
}

/// The settings of the site-side deployment methods: hierarchy settings, discovery, blocked
/// devices, software update points and the published client, packages and their content.
fn site_settings(s: &mut String, site: &super::model::Site) {
    let h = &site.hierarchy;
    let _ = writeln!(
        s,
        "  hierarchy: auto upgrade={} within {} days exclude servers={} pre-production={} ({:?}); approval={}; auto-resolve conflicts={}",
        h.auto_upgrade,
        h.auto_upgrade_days,
        h.exclude_servers,
        h.pre_production,
        h.pre_production_collection,
        h.approval_method,
        h.auto_resolve_conflicts
    );
    let _ = writeln!(
        s,
        "  system discovery={} blocked devices={:?}",
        site.system_discovery, site.blocked_devices
    );
    for u in &site.software_update_points {
        let _ = writeln!(
            s,
            "  software update point {} ports {}/{} ssl={}",
            u.server, u.http_port, u.https_port, u.ssl
        );
    }
    let _ = writeln!(
        s,
        "  software update-based installation={} published client={:?} (site client {})",
        site.software_update_installation, site.software_update_client_version, site.version
    );
    for p in &site.packages {
        let _ = writeln!(
            s,
            "  package {} {:?} source={:?} on {:?}",
            p.id, p.name, p.source, p.distributed_to
        );
        for g in &p.programs {
            let _ = writeln!(s, "    program {:?}: {}", g.name, g.command_line);
        }
    }
}

/// The estate without what logs on as a password does (the users' NT hashes), for display.
pub fn without_credentials(mut estate: Estate) -> Estate {
    for d in &mut estate.domains {
        for u in &mut d.users {
            u.nt_hash.clear();
        }
    }
    estate
}
