//! Lab cmdlets for deployments of legacy packages' programs to collections (SMS_Advertisement):
//! `New-CMPackageDeployment -StandardProgram -PackageId -ProgramName -CollectionName
//! -DeployPurpose`, `Get-CMPackageDeployment` and `Remove-CMPackageDeployment` (PSRef of each;
//! deploy-clients-to-windows-computers.md "How to Install Configuration Manager Clients by Using
//! a Package and Program": deploy the package to a collection).
//!
//! ConfigMgr refuses a deployment whose package, program or collection does not exist; the
//! objects returned carry `OfferType` 0 for a required deployment and 2 for an available one.

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::site_of;
use super::collection::collection_ids;
use super::model::Estate;
use super::settings_model::PackageDeployment;

fn not_found(what: String) -> CmdError {
    CmdError::new(
        "ObjectNotFound",
        format!("No object corresponds to the specified parameters: {what}."),
    )
}

/// The collection named by `-CollectionName` or `-CollectionId`, as (name, ID); `None` when
/// neither is given.
fn collection(estate: &Estate, a: &Args, site: &str) -> Result<Option<(String, String)>, CmdError> {
    let name = a.opt_str("CollectionName")?;
    let id = a.opt_str("CollectionId")?;
    if name.is_none() && id.is_none() {
        return Ok(None);
    }
    collection_ids(estate, site)
        .into_iter()
        .find(|(n, i)| {
            name.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(n))
                || id.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(i))
        })
        .map(Some)
        .ok_or_else(|| not_found(format!("collection '{}'", name.or(id).unwrap_or_default())))
}

/// `New-CMPackageDeployment -StandardProgram (-PackageId | -PackageName) -ProgramName
/// (-CollectionName | -CollectionId) [-DeployPurpose Available|Required] [-ScheduleEvent]`: one
/// deployment (advertisement) of the program to the collection.
pub fn new_deployment(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("PackageId")?;
    let name = a.opt_str("PackageName")?;
    let program = a.str("ProgramName")?;
    let purpose = a.opt_str("DeployPurpose")?.unwrap_or("Available".into());
    let standard = a.opt_bool("StandardProgram")?.unwrap_or(false);
    a.accept(&["ScheduleEvent", "Comment", "RerunBehavior"]);
    let target = collection(estate, a, session_site)?;
    a.finish()?;
    if !standard {
        return Err(CmdError::new("InvalidArgument", "New-CMPackageDeployment: Parameter set cannot be resolved using the specified named parameters (give -StandardProgram or -DeviceProgram)."));
    }
    let required = match purpose.to_ascii_lowercase().as_str() {
        "available" => false,
        "required" => true,
        _ => {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("Cannot bind parameter 'DeployPurpose': '{purpose}' is not one of Available, Required."),
            ))
        }
    };
    let (_, collection_id) = target.ok_or_else(|| {
        CmdError::new(
            "InvalidArgument",
            "New-CMPackageDeployment needs the target collection (-CollectionName or -CollectionId).",
        )
    })?;
    let number = estate.new_id() & 0xFFFFF;
    let site = site_of(estate, session_site)?;
    let code = site.code.to_uppercase();
    let p = site
        .packages
        .iter_mut()
        .find(|p| {
            id.as_ref().is_some_and(|i| p.id.eq_ignore_ascii_case(i))
                || name
                    .as_ref()
                    .is_some_and(|n| p.name.eq_ignore_ascii_case(n))
        })
        .ok_or_else(|| {
            not_found(format!(
                "package '{}'",
                id.clone().or(name.clone()).unwrap_or_default()
            ))
        })?;
    if !p
        .programs
        .iter()
        .any(|g| g.name.eq_ignore_ascii_case(&program))
    {
        return Err(not_found(format!(
            "program '{program}' of package {}",
            p.id
        )));
    }
    let d = PackageDeployment {
        id: format!("{code}2{number:04X}"),
        program,
        collection_id,
        required,
    };
    let out = deployment_json(&p.id, &d);
    p.deployments.push(d);
    Ok(out)
}

fn deployment_json(package: &str, d: &PackageDeployment) -> Value {
    json!({
        "AdvertisementID": d.id,
        "PackageID": package,
        "ProgramName": d.program,
        "CollectionID": d.collection_id,
        "OfferType": if d.required { 0 } else { 2 },
    })
}

/// The deployments matching `-PackageId`, `-Name` (package name), `-ProgramName` and the
/// collection, as (package ID, deployment) pairs.
fn matching(
    estate: &mut Estate,
    a: &Args,
    session_site: &str,
) -> Result<Vec<(String, String)>, CmdError> {
    let id = a.opt_str("PackageId")?;
    let name = a.opt_str("Name")?;
    let program = a.opt_str("ProgramName")?;
    let target = collection(estate, a, session_site)?;
    let site = site_of(estate, session_site)?;
    let mut out = Vec::new();
    for p in &site.packages {
        if id.as_ref().is_some_and(|i| !p.id.eq_ignore_ascii_case(i))
            || name
                .as_ref()
                .is_some_and(|n| !p.name.eq_ignore_ascii_case(n))
        {
            continue;
        }
        for d in &p.deployments {
            let program_ok = program
                .as_ref()
                .is_none_or(|g| g.eq_ignore_ascii_case(&d.program));
            let collection_ok = target
                .as_ref()
                .is_none_or(|(_, c)| c.eq_ignore_ascii_case(&d.collection_id));
            if program_ok && collection_ok {
                out.push((p.id.clone(), d.id.clone()));
            }
        }
    }
    Ok(out)
}

/// `Get-CMPackageDeployment [-PackageId | -Name] [-ProgramName] [-CollectionName |
/// -CollectionId]`: SMS_Advertisement rows.
pub fn get_deployments(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    a.accept(&["Summary"]);
    let found = matching(estate, a, session_site)?;
    a.finish()?;
    let site = site_of(estate, session_site)?;
    let mut out = Vec::new();
    for (package, deployment) in found {
        if let Some(d) = site
            .packages
            .iter()
            .find(|p| p.id == package)
            .and_then(|p| p.deployments.iter().find(|d| d.id == deployment))
        {
            out.push(deployment_json(&package, d));
        }
    }
    Ok(Value::Array(out))
}

/// `Remove-CMPackageDeployment (-PackageId | -Name) [-ProgramName] [-CollectionName |
/// -CollectionId] -Force`: removes the matching deployments; none matching is an error, as
/// ConfigMgr reports a missing object.
pub fn remove_deployments(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    a.accept(&["Force"]);
    let found = matching(estate, a, session_site)?;
    a.finish()?;
    if found.is_empty() {
        return Err(not_found("package deployment".into()));
    }
    let site = site_of(estate, session_site)?;
    for p in &mut site.packages {
        p.deployments
            .retain(|d| !found.iter().any(|(pk, id)| *pk == p.id && *id == d.id));
    }
    Ok(Value::Null)
}
