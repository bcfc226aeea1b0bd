//! Lab cmdlets for legacy packages and programs and their content: `New-CMPackage
//! -FromDefinition` (the "Configuration Manager Client Upgrade" definition), `Get-/Set-/Remove-
//! CMPackage`, `Get-/New-/Set-/Remove-CMProgram`, `Start-/Remove-CMContentDistribution`,
//! `Get-CMDeploymentPackage -DistributionPointName` and `Get-CMDistributionPoint` (PSRef of
//! each; deploy-clients-to-windows-computers.md "How to Install Configuration Manager Clients by
//! Using a Package and Program").

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::{remove_where, site_code, site_of};
use super::model::{Estate, Package, Program, Site};
use super::settings_model::{
    CLIENT_UPGRADE_COMMAND_LINE, CLIENT_UPGRADE_DEFINITION, CLIENT_UPGRADE_PROGRAM,
};

fn not_found(what: String) -> CmdError {
    CmdError::new(
        "ObjectNotFound",
        format!("No object corresponds to the specified parameters: {what}."),
    )
}

fn package_json(p: &Package) -> Value {
    json!({
        "PackageID": p.id,
        "Name": p.name,
        "Manufacturer": p.manufacturer,
        "PkgSourcePath": p.source,
        "PackageType": 0,
    })
}

fn package_mut<'s>(site: &'s mut Site, id: &str) -> Result<&'s mut Package, CmdError> {
    site.packages
        .iter_mut()
        .find(|p| p.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| not_found(format!("package '{id}'")))
}

/// `Get-CMPackage [-Name | -Id] [-Fast] [-PackageType]`: SMS_Package rows.
pub fn get_package(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = a.opt_str("Name")?;
    let id = a.opt_str("Id")?;
    a.accept(&["Fast", "PackageType"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    Ok(Value::Array(
        site.packages
            .iter()
            .filter(|p| name.as_ref().is_none_or(|n| p.name.eq_ignore_ascii_case(n)))
            .filter(|p| id.as_ref().is_none_or(|i| p.id.eq_ignore_ascii_case(i)))
            .map(package_json)
            .collect(),
    ))
}

/// `New-CMPackage -FromDefinition -PackageDefinitionName <def> -SourceFileType
/// AlwaysObtainSourceFile -SourceFolderPath <UNC> -SourceFolderPathType UncNetworkPath`, or
/// `New-CMPackage -Name`. The lab knows one definition: "Configuration Manager Client Upgrade",
/// whose program "Configuration Manager agent silent upgrade" runs
/// `CCMSETUP.EXE /noservice SMSSITECODE=AUTO`. A UNC source must start with `\\`.
pub fn new_package(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let from_definition = a.opt_bool("FromDefinition")?.unwrap_or(false);
    let definition = a.opt_str("PackageDefinitionName")?;
    let source = a.opt_str("SourceFolderPath")?.unwrap_or_default();
    let path_type = a.opt_str("SourceFolderPathType")?;
    let name = a.opt_str("Name")?;
    a.accept(&[
        "SourceFileType",
        "PackageNoSourceFile",
        "Description",
        "Manufacturer",
        "Version",
        "Language",
        "Path",
    ]);
    a.finish()?;
    let code = session_site.to_uppercase();
    let number = estate.new_id() & 0xFFFFF;
    let site = site_of(estate, &code)?;
    let id = format!("{code}{number:05X}");
    let package = if from_definition {
        let def = definition.unwrap_or_default();
        if !def.eq_ignore_ascii_case(CLIENT_UPGRADE_DEFINITION) {
            return Err(not_found(format!("package definition '{def}'")));
        }
        if path_type.as_deref() == Some("UncNetworkPath") && !source.starts_with("\\\\") {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("The source folder '{source}' is not a network path (UNC name): give \\\\server\\share\\folder."),
            ));
        }
        Package {
            id,
            name: CLIENT_UPGRADE_DEFINITION.into(),
            manufacturer: "Microsoft".into(),
            source,
            programs: vec![Program {
                name: CLIENT_UPGRADE_PROGRAM.into(),
                command_line: CLIENT_UPGRADE_COMMAND_LINE.into(),
            }],
            distributed_to: Vec::new(),
            deployments: Vec::new(),
        }
    } else {
        Package {
            id,
            name: name.ok_or_else(|| {
                CmdError::new("InvalidArgument", "New-CMPackage: Cannot process command because of one or more missing mandatory parameters: Name.")
            })?,
            ..Package::default()
        }
    };
    let out = package_json(&package);
    site.packages.push(package);
    Ok(out)
}

/// `Set-CMPackage -Id [-NewName] [-Path]` (`-Path` is the source folder, a UNC path).
pub fn set_package(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.str("Id")?;
    let new_name = a.opt_str("NewName")?;
    let path = a.opt_str("Path")?;
    a.accept(&["PassThru"]);
    a.finish()?;
    let p = package_mut(site_of(estate, session_site)?, &id)?;
    if let Some(n) = new_name {
        p.name = n;
    }
    if let Some(path) = path {
        if !path.starts_with("\\\\") {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("The package source '{path}' is not a network path (UNC name)."),
            ));
        }
        p.source = path;
    }
    Ok(Value::Null)
}

/// `Remove-CMPackage -Id -Force`: the content leaves every distribution point with it.
pub fn remove_package(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.str("Id")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    package_mut(site, &id)?;
    site.packages.retain(|p| !p.id.eq_ignore_ascii_case(&id));
    Ok(Value::Null)
}

/// `Get-CMProgram -PackageId [-ProgramName]`: SMS_Program rows.
pub fn get_program(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("PackageId")?;
    let name = a.opt_str("ProgramName")?;
    a.accept(&["PackageName"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    let mut out = Vec::new();
    for p in &site.packages {
        if id.as_ref().is_some_and(|i| !p.id.eq_ignore_ascii_case(i)) {
            continue;
        }
        for g in &p.programs {
            if name.as_ref().is_none_or(|n| g.name.eq_ignore_ascii_case(n)) {
                out.push(json!({"PackageID": p.id, "ProgramName": g.name, "CommandLine": g.command_line}));
            }
        }
    }
    Ok(Value::Array(out))
}

/// `New-CMProgram -PackageId -StandardProgramName -CommandLine`: program names are unique in a
/// package.
pub fn new_program(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.str("PackageId")?;
    let name = a.str("StandardProgramName")?;
    let command_line = a.str("CommandLine")?;
    a.accept(&["RunType", "ProgramRunType", "RunMode", "UserInteraction"]);
    a.finish()?;
    let p = package_mut(site_of(estate, session_site)?, &id)?;
    if p.programs
        .iter()
        .any(|g| g.name.eq_ignore_ascii_case(&name))
    {
        return Err(CmdError::new(
            "ResourceExists",
            format!("A program named '{name}' already exists in package {id}."),
        ));
    }
    p.programs.push(Program { name, command_line });
    Ok(Value::Null)
}

/// `Set-CMProgram -PackageId -ProgramName -StandardProgram [-CommandLine]`.
pub fn set_program(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.opt_str("PackageId")?;
    let package_name = a.opt_str("PackageName")?;
    let name = a.str("ProgramName")?;
    let command_line = a.opt_str("CommandLine")?;
    a.accept(&["StandardProgram", "PassThru"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    let p = site
        .packages
        .iter_mut()
        .find(|p| {
            id.as_ref().is_some_and(|i| p.id.eq_ignore_ascii_case(i))
                || package_name
                    .as_ref()
                    .is_some_and(|n| p.name.eq_ignore_ascii_case(n))
        })
        .ok_or_else(|| {
            not_found(format!(
                "package '{}'",
                id.or(package_name).unwrap_or_default()
            ))
        })?;
    let g = p
        .programs
        .iter_mut()
        .find(|g| g.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| not_found(format!("program '{name}'")))?;
    if let Some(c) = command_line {
        g.command_line = c;
    }
    Ok(Value::Null)
}

/// `Remove-CMProgram -PackageId -ProgramName -Force`.
pub fn remove_program(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let id = a.str("PackageId")?;
    let name = a.str("ProgramName")?;
    a.accept(&["Force"]);
    a.finish()?;
    let p = package_mut(site_of(estate, session_site)?, &id)?;
    if !remove_where(&mut p.programs, |g| g.name.eq_ignore_ascii_case(&name)) {
        return Err(not_found(format!("program '{name}'")));
    }
    Ok(Value::Null)
}

/// `Start-CMContentDistribution -PackageId <id[]> -DistributionPointName <fqdn[]>`: every
/// distribution point must be one of the site's; the package must have source files.
pub fn distribute(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let ids = a.opt_strs("PackageId")?.unwrap_or_default();
    let dps = a.opt_strs("DistributionPointName")?.unwrap_or_default();
    a.finish()?;
    let site = site_of(estate, session_site)?;
    for dp in &dps {
        if !site
            .distribution_points
            .iter()
            .any(|d| d.eq_ignore_ascii_case(dp))
        {
            return Err(not_found(format!("distribution point '{dp}'")));
        }
    }
    for id in &ids {
        let p = package_mut(site, id)?;
        if p.source.is_empty() {
            return Err(CmdError::new(
                "InvalidOperation",
                format!("Package {id} has no source files: there is no content to distribute."),
            ));
        }
        for dp in &dps {
            if !p.distributed_to.iter().any(|d| d.eq_ignore_ascii_case(dp)) {
                p.distributed_to.push(dp.to_lowercase());
            }
        }
    }
    Ok(Value::Null)
}

/// `Remove-CMContentDistribution -PackageId <id[]> -DistributionPointName <fqdn[]> [-Force]`
/// (PSRef Remove-CMContentDistribution): the content leaves those distribution points. cmdeploy
/// never emits it (cmdlets.json does not document it); the lab console offers it to stage drift.
pub fn undistribute(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let ids = a.opt_strs("PackageId")?.unwrap_or_default();
    let dps = a.opt_strs("DistributionPointName")?.unwrap_or_default();
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, session_site)?;
    for id in &ids {
        let p = package_mut(site, id)?;
        p.distributed_to
            .retain(|d| !dps.iter().any(|x| x.eq_ignore_ascii_case(d)));
    }
    Ok(Value::Null)
}

/// `Get-CMDeploymentPackage -DistributionPointName [-DeploymentPackageName]`: the packages whose
/// content is on that distribution point.
pub fn deployment_packages(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let dp = a.str("DistributionPointName")?;
    let name = a.opt_str("DeploymentPackageName")?;
    a.finish()?;
    let site = site_of(estate, session_site)?;
    if !site
        .distribution_points
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&dp))
    {
        return Err(not_found(format!("distribution point '{dp}'")));
    }
    Ok(Value::Array(
        site.packages
            .iter()
            .filter(|p| p.distributed_to.iter().any(|d| d.eq_ignore_ascii_case(&dp)))
            .filter(|p| name.as_ref().is_none_or(|n| p.name.eq_ignore_ascii_case(n)))
            .map(|p| json!({"PackageID": p.id, "Name": p.name, "ServerNALPath": format!("\\\\{dp}")}))
            .collect(),
    ))
}

/// `Get-CMDistributionPoint [-SiteCode]`: SMS_SCI_SysResUse rows.
pub fn get_dp(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.accept(&["SiteSystemServerName", "AllSite"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        site.distribution_points
            .iter()
            .map(|d| json!({"NetworkOSPath": format!("\\\\{d}"), "SiteCode": site.code, "RoleName": "SMS Distribution Point"}))
            .collect(),
    ))
}
