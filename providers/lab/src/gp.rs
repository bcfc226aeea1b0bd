//! Lab GroupPolicy cmdlets (run on a domain controller): GPOs, registry-based settings, links.

use serde_json::{json, Value};

use cmdeploy_providers::gpo::registry_pol::Record;
use cmdeploy_providers::powershell::cmdlets::Cmdlet;

use super::args::{Args, CmdError, CmdResult};
use super::gp_pol::{self, normalize_key, split_key};
use super::model::{Estate, Gpo, GpoLink};
use super::ps_value;

fn long_key(key: &str) -> String {
    key.replacen("HKLM\\", "HKEY_LOCAL_MACHINE\\", 1)
        .replacen("HKCU\\", "HKEY_CURRENT_USER\\", 1)
}

fn gpo_json(g: &Gpo) -> Value {
    json!({"DisplayName": g.name, "Id": g.id, "DomainName": g.domain, "GpoStatus": "AllSettingsEnabled"})
}

fn gpo_index(estate: &Estate, domain: &str, name: &str) -> Result<usize, CmdError> {
    estate
        .gpos
        .iter()
        .position(|g| g.domain.eq_ignore_ascii_case(domain) && g.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("GPO with name {name} was not found in the {domain} domain."),
            )
        })
}

/// Runs a GroupPolicy cmdlet of the cmdlet table on `domain`'s controller.
///
/// # Errors
/// The cmdlet's error; any other cmdlet of the table is not recognized here.
pub fn execute(estate: &mut Estate, domain: &str, cmdlet: Cmdlet, a: &Args) -> CmdResult {
    a.accept(&["Domain", "Server", "DC"]);
    // An estate saved before GPOs held Registry.pol content still lists settings.
    for g in estate.gpos.iter_mut().filter(|g| !g.values.is_empty()) {
        gp_pol::absorb_values(g).map_err(|m| CmdError::new("InvalidData", m))?;
    }
    match cmdlet {
        Cmdlet::GetGpo => {
            let name = a.opt_str("Name")?;
            let all = a.opt_bool("All")?.unwrap_or(false);
            a.finish()?;
            let list: Vec<Value> = estate
                .gpos
                .iter()
                .filter(|g| g.domain.eq_ignore_ascii_case(domain))
                .filter(|g| all || name.as_ref().is_none_or(|n| g.name.eq_ignore_ascii_case(n)))
                .map(gpo_json)
                .collect();
            if name.is_some() && list.is_empty() {
                return Err(CmdError::new("ObjectNotFound", format!("GPO with name {} was not found in the {domain} domain.", name.unwrap_or_default())));
            }
            Ok(Value::Array(list))
        }
        Cmdlet::NewGpo => {
            let name = a.str("Name")?;
            a.accept(&["Comment"]);
            a.finish()?;
            if gpo_index(estate, domain, &name).is_ok() {
                return Err(CmdError::new("ResourceExists", format!("A GPO named {name} already exists in the {domain} domain.")));
            }
            let id = estate.new_guid();
            let g = Gpo {
                id,
                name,
                domain: domain.to_string(),
                ..Gpo::default()
            };
            let out = gpo_json(&g);
            estate.gpos.push(g);
            Ok(out)
        }
        Cmdlet::RemoveGpo => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            a.finish()?;
            estate.gpos.remove(idx);
            Ok(Value::Null)
        }
        Cmdlet::GetGpRegistryValue => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            let key = normalize_key(&a.str("Key")?)?;
            let value_name = a.opt_str("ValueName")?;
            a.finish()?;
            let (half, rest) = split_key(&key);
            let pol = gp_pol::load(&estate.gpos[idx], half)?;
            let rows: Vec<Value> = pol
                .records
                .iter()
                .filter(|r| r.key.eq_ignore_ascii_case(rest))
                .filter(|r| {
                    let name = r.target_name().unwrap_or("");
                    value_name.as_ref().is_none_or(|n| name.eq_ignore_ascii_case(n))
                })
                .filter_map(|r| {
                    let (state, value_type, value) = gp_pol::shown(r)?;
                    // Microsoft.GroupPolicy.PolicyRegistrySetting: PolicyState, Hive and Type are
                    // enums (windows-runtime.md §9, Get-GPRegistryValue.md examples; Hive is
                    // Microsoft.Win32.RegistryHive: LocalMachine -2147483646, CurrentUser
                    // -2147483647, learn.microsoft.com/dotnet/api/microsoft.win32.registryhive).
                    let hive = if half == gp_pol::Half::Machine {
                        ps_value::enumeration("Microsoft.Win32.RegistryHive", "LocalMachine", -2_147_483_646)
                    } else {
                        ps_value::enumeration("Microsoft.Win32.RegistryHive", "CurrentUser", -2_147_483_647)
                    };
                    Some(json!({
                        "PolicyState": ps_value::policy_state(state),
                        "Hive": hive,
                        "KeyPath": rest,
                        "FullKeyPath": long_key(&key),
                        "ValueName": r.target_name().unwrap_or(""),
                        "Type": ps_value::registry_value_kind(&value_type),
                        "Value": value,
                        "HasValue": true,
                    }))
                })
                .collect();
            if rows.is_empty() {
                return Err(CmdError::new(
                    "ObjectNotFound",
                    format!("The following Group Policy registry setting was not found: \"{}\".", long_key(&key)),
                ));
            }
            Ok(Value::Array(rows))
        }
        Cmdlet::SetGpRegistryValue => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            let key = normalize_key(&a.str("Key")?)?;
            let names = a.opt_strs("ValueName")?.unwrap_or_default();
            let disable = a.opt_bool("Disable")?.unwrap_or(false);
            let value_type = a.opt_str("Type")?;
            let given = a.raw("Value").cloned().unwrap_or(Value::Null);
            a.finish()?;
            if names.is_empty() {
                return Err(CmdError::new("InvalidArgument", "Set-GPRegistryValue: -ValueName is required (the lab does not model key-only settings)."));
            }
            let (half, rest) = split_key(&key);
            let g = &mut estate.gpos[idx];
            let mut pol = gp_pol::load(g, half)?;
            for name in names {
                let record = if disable {
                    Record::delete_value(rest, &name)
                } else {
                    let t = value_type.clone().ok_or_else(|| CmdError::new("InvalidArgument", "Set-GPRegistryValue: -Type is required with -Value."))?;
                    Record::set(rest, &name, &gp_pol::typed_value(&t, &given)?)
                };
                pol.upsert(record);
            }
            gp_pol::store(g, half, &pol);
            Ok(gpo_json(g))
        }
        Cmdlet::RemoveGpRegistryValue => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            let key = normalize_key(&a.str("Key")?)?;
            let names = a.opt_strs("ValueName")?;
            a.finish()?;
            let (half, rest) = split_key(&key);
            let g = &mut estate.gpos[idx];
            let mut pol = gp_pol::load(g, half)?;
            let removed = match &names {
                None => pol.remove(rest, None),
                Some(ns) => ns.iter().map(|n| pol.remove(rest, Some(n))).sum(),
            };
            if removed == 0 {
                return Err(CmdError::new(
                    "ObjectNotFound",
                    format!("The following Group Policy registry setting was not found: \"{}\".", long_key(&key)),
                ));
            }
            gp_pol::store(g, half, &pol);
            Ok(Value::Null)
        }
        Cmdlet::GetGpoReport => super::gp_report::get_report(estate, domain, a),
        Cmdlet::GetGpInheritance => {
            let target = a.str("Target")?;
            a.finish()?;
            check_target(estate, domain, &target)?;
            let links: Vec<Value> = estate
                .gpos
                .iter()
                .flat_map(|g| g.links.iter().filter(|l| l.target.eq_ignore_ascii_case(&target)).map(move |l| (g, l)))
                .enumerate()
                .map(|(i, (g, l))| json!({"DisplayName": g.name, "GpoId": g.id, "Enabled": l.enabled, "Enforced": l.enforced, "Order": i + 1, "Target": l.target}))
                .collect();
            Ok(json!({"Path": target, "GpoLinks": links}))
        }
        Cmdlet::NewGpLink | Cmdlet::SetGpLink => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            let target = a.str("Target")?;
            let enabled = yes_no(a.opt_str("LinkEnabled")?)?;
            let enforced = yes_no(a.opt_str("Enforced")?)?;
            a.accept(&["Order"]);
            a.finish()?;
            check_target(estate, domain, &target)?;
            let g = &mut estate.gpos[idx];
            let existing = g.links.iter().position(|l| l.target.eq_ignore_ascii_case(&target));
            match (cmdlet, existing) {
                (Cmdlet::NewGpLink, Some(_)) => Err(CmdError::new("ResourceExists", format!("The GPO {} is already linked to {target}.", g.name))),
                (Cmdlet::SetGpLink, None) => Err(CmdError::new("ObjectNotFound", format!("The GPO {} is not linked to {target}.", g.name))),
                (_, Some(i)) => {
                    if let Some(e) = enabled {
                        g.links[i].enabled = e;
                    }
                    if let Some(e) = enforced {
                        g.links[i].enforced = e;
                    }
                    Ok(Value::Null)
                }
                (_, None) => {
                    g.links.push(GpoLink {
                        target,
                        enabled: enabled.unwrap_or(true),
                        enforced: enforced.unwrap_or(false),
                    });
                    Ok(Value::Null)
                }
            }
        }
        Cmdlet::RemoveGpLink => {
            let idx = gpo_index(estate, domain, &a.str("Name")?)?;
            let target = a.str("Target")?;
            a.finish()?;
            let g = &mut estate.gpos[idx];
            let before = g.links.len();
            g.links.retain(|l| !l.target.eq_ignore_ascii_case(&target));
            if g.links.len() == before {
                return Err(CmdError::new("ObjectNotFound", format!("The GPO {} is not linked to {target}.", g.name)));
            }
            Ok(Value::Null)
        }
        other => Err(CmdError::new(
            "ObjectNotFound",
            format!("The term '{}' is not recognized as the name of a cmdlet, function, script file, or operable program.", other.name()),
        )),
    }
}

fn yes_no(v: Option<String>) -> Result<Option<bool>, CmdError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some(other) => Err(CmdError::new(
            "InvalidArgument",
            format!("Cannot convert value \"{other}\" to type \"EnableLink\". Specify one of the enumerator names: Unspecified, No, Yes."),
        )),
    }
}

fn check_target(estate: &Estate, domain: &str, target: &str) -> Result<(), CmdError> {
    let d = estate
        .domain(domain)
        .ok_or_else(|| CmdError::new("ObjectNotFound", format!("Domain {domain} not found.")))?;
    let domain_dn = d
        .name
        .split('.')
        .map(|p| format!("DC={p}"))
        .collect::<Vec<_>>()
        .join(",");
    if target.eq_ignore_ascii_case(&domain_dn)
        || d.ous.iter().any(|o| o.eq_ignore_ascii_case(target))
    {
        Ok(())
    } else {
        Err(CmdError::new(
            "ObjectNotFound",
            format!("The Active Directory object '{target}' was not found in the {domain} domain."),
        ))
    }
}
