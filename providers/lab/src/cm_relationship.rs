//! Lab cmdlets for boundary-group relationships (SMS_BoundaryGroupRelationships), with
//! ConfigMgr's rules (configmgr.md §2.3; PSRef New-/Set-/Remove-/Get-CMBoundaryGroupRelationship;
//! Doc boundary-groups.md "Fallback"): source and destination must be two different existing
//! groups, one relationship per ordered pair, a fallback time is minutes from 0 or -1 ("never
//! fallback"), and an omitted time is ConfigMgr's default of 120 minutes (FallbackDP/MP/SMP/SUP
//! method docs: "The default value is 120"). Each primary site has its
//! `Default-Site-Boundary-Group<CODE>`, a group like any other for relationships.

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::model::Estate;
pub use super::relationship_model::{Relationship, DEFAULT_MINUTES};

/// "Never fallback" for a role.
pub const NEVER: i64 = -1;

/// The name of a primary site's default site boundary group (`Default-Site-Boundary-Group<ABC>`).
pub fn default_site_group(code: &str) -> String {
    format!("Default-Site-Boundary-Group<{}>", code.to_uppercase())
}

/// Resolves the seed's group names into IDs.
///
/// # Errors
/// A message naming an unknown group.
pub fn resolve_seed(estate: &mut Estate) -> Result<(), String> {
    let ids: Vec<(String, u64)> = estate
        .boundary_groups
        .iter()
        .map(|g| (g.name.to_lowercase(), g.id))
        .collect();
    let id_of = |name: &str| {
        ids.iter()
            .find(|(n, _)| *n == name.to_lowercase())
            .map(|(_, id)| *id)
            .ok_or_else(|| {
                format!("lab seed boundary_group_relationship: unknown boundary group `{name}`")
            })
    };
    for r in &mut estate.boundary_group_relationships {
        if r.source == 0 {
            r.source = id_of(&r.source_name)?;
        }
        if r.destination == 0 {
            r.destination = id_of(&r.destination_name)?;
        }
    }
    Ok(())
}

fn group_name(estate: &Estate, id: u64) -> String {
    estate
        .boundary_groups
        .iter()
        .find(|g| g.id == id)
        .map(|g| g.name.clone())
        .unwrap_or_default()
}

/// The SMS_BoundaryGroupRelationships shape (as the cmdlets return it: the fallback times as
/// `FallbackDP`, `FallbackMP`, `FallbackSMP`, `FallbackSUP`).
fn relationship_json(estate: &Estate, r: &Relationship) -> Value {
    json!({
        "SourceGroupID": r.source,
        "SourceGroupName": group_name(estate, r.source),
        "DestinationGroupID": r.destination,
        "DestinationGroupName": group_name(estate, r.destination),
        "FallbackDP": r.fallback_dp,
        "FallbackMP": r.fallback_mp,
        "FallbackSMP": r.fallback_smp,
        "FallbackSUP": r.fallback_sup,
    })
}

fn group_by_name(estate: &Estate, name: &str) -> Result<u64, CmdError> {
    estate
        .boundary_groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(name))
        .map(|g| g.id)
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!(
                    "No object corresponds to the specified parameters: boundary group '{name}'."
                ),
            )
        })
}

fn group_by_id(estate: &Estate, id: i64) -> Result<u64, CmdError> {
    estate
        .boundary_groups
        .iter()
        .find(|g| g.id as i64 == id)
        .map(|g| g.id)
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!(
                    "No object corresponds to the specified parameters: boundary group ID {id}."
                ),
            )
        })
}

/// The (source, destination) a call names, by `-SourceGroupName`/`-DestinationGroupName` or
/// `-SourceGroupId`/`-DestinationGroupId`; `None` for a side not given (Get filters on it).
fn pair(estate: &Estate, a: &Args) -> Result<(Option<u64>, Option<u64>), CmdError> {
    let side = |name: &str, id: &str| -> Result<Option<u64>, CmdError> {
        match (a.opt_str(name)?, a.opt_int(id)?) {
            (Some(_), Some(_)) => Err(CmdError::new(
                "InvalidArgument",
                format!("Parameter set cannot be resolved using the specified named parameters: -{name} and -{id}."),
            )),
            (Some(n), None) => group_by_name(estate, &n).map(Some),
            (None, Some(i)) => group_by_id(estate, i).map(Some),
            (None, None) => Ok(None),
        }
    };
    Ok((
        side("SourceGroupName", "SourceGroupId")?,
        side("DestinationGroupName", "DestinationGroupId")?,
    ))
}

/// The four `-Fallback*Minutes` arguments (`None` when not given), each -1 or at least 0.
fn minutes(a: &Args) -> Result<[Option<i64>; 4], CmdError> {
    let mut out = [None; 4];
    for (i, name) in [
        "FallbackDPMinutes",
        "FallbackMPMinutes",
        "FallbackSmpMinutes",
        "FallbackSupMinutes",
    ]
    .iter()
    .enumerate()
    {
        if let Some(m) = a.opt_int(name)? {
            if m < NEVER || m > i64::from(i32::MAX) {
                return Err(CmdError::new(
                    "InvalidArgument",
                    format!("Cannot validate argument on parameter '{name}'. The fallback time {m} is not valid: give minutes (0 or more) or -1 for never fallback."),
                ));
            }
            out[i] = Some(m);
        }
    }
    Ok(out)
}

fn position(estate: &Estate, source: u64, destination: u64) -> Option<usize> {
    estate
        .boundary_group_relationships
        .iter()
        .position(|r| r.source == source && r.destination == destination)
}

fn not_found(estate: &Estate, source: u64, destination: u64) -> CmdError {
    CmdError::new(
        "ObjectNotFound",
        format!(
            "No boundary group relationship from '{}' to '{}' exists.",
            group_name(estate, source),
            group_name(estate, destination)
        ),
    )
}

/// `Get-CMBoundaryGroupRelationship [-SourceGroupName] [-DestinationGroupName]` (or the IDs).
pub fn get(estate: &mut Estate, a: &Args) -> CmdResult {
    let (source, destination) = pair(estate, a)?;
    a.finish()?;
    Ok(Value::Array(
        estate
            .boundary_group_relationships
            .iter()
            .filter(|r| source.is_none_or(|s| r.source == s))
            .filter(|r| destination.is_none_or(|d| r.destination == d))
            .map(|r| relationship_json(estate, r))
            .collect(),
    ))
}

fn both(pair: (Option<u64>, Option<u64>), cmdlet: &str) -> Result<(u64, u64), CmdError> {
    match pair {
        (Some(s), Some(d)) => Ok((s, d)),
        _ => Err(CmdError::new(
            "InvalidArgument",
            format!("{cmdlet}: both the source and the destination boundary group are mandatory."),
        )),
    }
}

/// `New-CMBoundaryGroupRelationship -SourceGroupName -DestinationGroupName [-Fallback*Minutes]`.
pub fn new(estate: &mut Estate, a: &Args) -> CmdResult {
    let (source, destination) = both(pair(estate, a)?, "New-CMBoundaryGroupRelationship")?;
    let m = minutes(a)?;
    a.finish()?;
    if source == destination {
        return Err(CmdError::new(
            "InvalidArgument",
            "The source and destination boundary groups must be different: a boundary group cannot fall back to itself.",
        ));
    }
    if position(estate, source, destination).is_some() {
        return Err(CmdError::new(
            "ResourceExists",
            format!(
                "A relationship from boundary group '{}' to '{}' already exists.",
                group_name(estate, source),
                group_name(estate, destination)
            ),
        ));
    }
    let r = Relationship {
        source,
        destination,
        fallback_dp: m[0].unwrap_or(DEFAULT_MINUTES),
        fallback_mp: m[1].unwrap_or(DEFAULT_MINUTES),
        fallback_smp: m[2].unwrap_or(DEFAULT_MINUTES),
        fallback_sup: m[3].unwrap_or(DEFAULT_MINUTES),
        ..Relationship::default()
    };
    let out = relationship_json(estate, &r);
    estate.boundary_group_relationships.push(r);
    Ok(out)
}

/// `Set-CMBoundaryGroupRelationship -SourceGroupName -DestinationGroupName [-Fallback*Minutes] [-PassThru]`.
pub fn set(estate: &mut Estate, a: &Args) -> CmdResult {
    let (source, destination) = both(pair(estate, a)?, "Set-CMBoundaryGroupRelationship")?;
    let m = minutes(a)?;
    let pass_thru = a.opt_bool("PassThru")?.unwrap_or(false);
    a.finish()?;
    let i = position(estate, source, destination)
        .ok_or_else(|| not_found(estate, source, destination))?;
    let r = &mut estate.boundary_group_relationships[i];
    for (slot, v) in [
        &mut r.fallback_dp,
        &mut r.fallback_mp,
        &mut r.fallback_smp,
        &mut r.fallback_sup,
    ]
    .into_iter()
    .zip(m)
    {
        if let Some(v) = v {
            *slot = v;
        }
    }
    let r = r.clone();
    Ok(if pass_thru {
        relationship_json(estate, &r)
    } else {
        Value::Null
    })
}

/// `Remove-CMBoundaryGroupRelationship -SourceGroupName -DestinationGroupName -Force`.
pub fn remove(estate: &mut Estate, a: &Args) -> CmdResult {
    let (source, destination) = both(pair(estate, a)?, "Remove-CMBoundaryGroupRelationship")?;
    a.accept(&["Force"]);
    a.finish()?;
    let i = position(estate, source, destination)
        .ok_or_else(|| not_found(estate, source, destination))?;
    estate.boundary_group_relationships.remove(i);
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BoundaryGroup;

    fn estate() -> Estate {
        let mut e = Estate::default();
        for (id, name) in [
            (1, "HQ Clients"),
            (2, "Branch Clients"),
            (3, "Default-Site-Boundary-Group<ABC>"),
        ] {
            e.boundary_groups.push(BoundaryGroup {
                id,
                name: name.into(),
                ..BoundaryGroup::default()
            });
        }
        e
    }

    fn call(
        e: &mut Estate,
        f: fn(&mut Estate, &Args) -> CmdResult,
        cmdlet: &str,
        args: Value,
    ) -> CmdResult {
        let map = args.as_object().cloned().unwrap_or_default();
        f(e, &Args::new(cmdlet, &map))
    }

    fn new_rel(e: &mut Estate, args: Value) -> CmdResult {
        call(e, new, "New-CMBoundaryGroupRelationship", args)
    }

    #[test]
    fn a_relationship_takes_the_default_of_120_minutes_and_never_as_minus_one() {
        let mut e = estate();
        let r = new_rel(&mut e, json!({"SourceGroupName": "Branch Clients", "DestinationGroupName": "HQ Clients", "FallbackSupMinutes": -1})).unwrap();
        assert_eq!(r["FallbackDP"], 120);
        assert_eq!(r["FallbackSUP"], -1);
        assert_eq!(r["SourceGroupID"], 2);
        let r = call(&mut e, set, "Set-CMBoundaryGroupRelationship", json!({"SourceGroupId": 2, "DestinationGroupId": 1, "FallbackDPMinutes": 20, "PassThru": true})).unwrap();
        assert_eq!(r["FallbackDP"], 20);
        assert_eq!(r["FallbackMP"], 120);
        new_rel(&mut e, json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "Default-Site-Boundary-Group<ABC>"})).unwrap();
        let all = call(&mut e, get, "Get-CMBoundaryGroupRelationship", json!({})).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
        call(
            &mut e,
            remove,
            "Remove-CMBoundaryGroupRelationship",
            json!({"SourceGroupId": 2, "DestinationGroupId": 1, "Force": true}),
        )
        .unwrap();
        assert_eq!(e.boundary_group_relationships.len(), 1);
    }

    #[test]
    fn configmgr_refusals_are_kept() {
        let mut e = estate();
        let itself = new_rel(
            &mut e,
            json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "hq clients"}),
        )
        .unwrap_err();
        assert!(
            itself.message.contains("cannot fall back to itself"),
            "{}",
            itself.message
        );
        let unknown = new_rel(
            &mut e,
            json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "Nowhere"}),
        )
        .unwrap_err();
        assert_eq!(unknown.category, "ObjectNotFound");
        let range = new_rel(&mut e, json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "Branch Clients", "FallbackMPMinutes": -2})).unwrap_err();
        assert!(
            range.message.contains("FallbackMPMinutes"),
            "{}",
            range.message
        );
        new_rel(
            &mut e,
            json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "Branch Clients"}),
        )
        .unwrap();
        let twice = new_rel(
            &mut e,
            json!({"SourceGroupName": "HQ Clients", "DestinationGroupName": "Branch Clients"}),
        )
        .unwrap_err();
        assert_eq!(twice.category, "ResourceExists");
        let missing = call(&mut e, set, "Set-CMBoundaryGroupRelationship", json!({"SourceGroupName": "Branch Clients", "DestinationGroupName": "HQ Clients", "FallbackDPMinutes": 5})).unwrap_err();
        assert_eq!(missing.category, "ObjectNotFound");
    }
}
