//! Preparing a lab seed (`lab.toml`) into an estate: passwords read and hashed, boundary-group
//! members resolved by name, object ids assigned, GPO settings encoded as Registry.pol.

use std::collections::BTreeMap;

use super::model::{first_id, BoundaryGroup, Estate};

/// Seed-only content expanded into the estate: passwords hashed, member names resolved, ids set.
pub fn prepare_seed(mut estate: Estate, project_dir: &std::path::Path) -> Result<Estate, String> {
    if estate.salt.is_empty() {
        estate.salt = format!("{:032x}", rand::random::<u128>());
    }
    if estate.next_id < first_id() {
        estate.next_id = first_id();
    }
    let salt_holder = estate.clone();
    for d in &mut estate.domains {
        for u in &mut d.users {
            if let Some(r) = u.password.take() {
                let pw = r
                    .resolve(project_dir)
                    .map_err(|e| format!("lab seed user {}: {e}", u.name))?;
                u.password_hash = salt_holder.hash_password(pw.expose());
                u.nt_hash = hex::encode(
                    &cmdeploy_providers::transport::ntlm::keys::nt_hash(pw.expose())[..],
                );
            }
        }
    }
    for s in &mut estate.sites {
        for a in &mut s.accounts {
            if let Some(r) = a.password.take() {
                let pw = r
                    .resolve(project_dir)
                    .map_err(|e| format!("lab seed account {}: {e}", a.user_name))?;
                a.password_hash = salt_holder.hash_password(pw.expose());
            }
        }
    }
    let mut next = estate.next_id;
    for b in &mut estate.boundaries {
        if b.id == 0 {
            b.id = next;
            next += 1;
        }
    }
    let ids: BTreeMap<String, u64> = estate
        .boundaries
        .iter()
        .map(|b| (b.name.to_lowercase(), b.id))
        .collect();
    for g in &mut estate.boundary_groups {
        if g.id == 0 {
            g.id = next;
            next += 1;
        }
        for m in std::mem::take(&mut g.members) {
            let id = ids
                .get(&m.to_lowercase())
                .ok_or_else(|| format!("lab seed group {}: unknown boundary `{m}`", g.name))?;
            g.boundaries.push(*id);
        }
    }
    for site in estate.sites.iter().filter(|s| s.site_type == "primary") {
        let name = super::cm_relationship::default_site_group(&site.code);
        if !estate
            .boundary_groups
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(&name))
        {
            estate.boundary_groups.push(BoundaryGroup {
                id: next,
                name,
                ..BoundaryGroup::default()
            });
            next += 1;
        }
    }
    super::cm_relationship::resolve_seed(&mut estate)?;
    estate.next_id = next;
    let mut guids = Vec::new();
    for _ in 0..estate.gpos.len() {
        guids.push(estate.new_guid());
    }
    for (g, guid) in estate.gpos.iter_mut().zip(guids) {
        if g.id.is_empty() {
            g.id = guid;
        }
        super::gp_pol::absorb_values(g).map_err(|e| format!("lab seed gpo {}: {e}", g.name))?;
    }
    Ok(estate)
}
