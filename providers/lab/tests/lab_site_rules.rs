//! The lab enforces the rules of the site-side deployment methods and refuses in ConfigMgr's
//! words: software update-based installation needs the active software update point of a primary
//! site and publishes the site's client; WSUS ports go 80/443 or HTTP+1; automatic client upgrade
//! within 1–31 days and a pre-production collection that exists; the client upgrade package comes
//! from its definition with a network source, and its content goes to the site's distribution
//! points; only devices with a record can be blocked, and `Get-CMDevice` reports them blocked.

mod lab_support;

use lab_support::*;
use serde_json::Value;

/// The one object a console statement returned (the console may or may not wrap it in an array).
fn one(v: Value) -> Value {
    match v {
        Value::Array(mut a) if a.len() == 1 => a.remove(0),
        other => other,
    }
}

fn published(lab: &cmdeploy_lab::Lab) -> String {
    let v = ok(
        lab,
        SITE_SERVER,
        "Get-CMSoftwareUpdateBasedClientInstallation -SiteCode ABC",
    );
    one(v)["Props"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["PropertyName"] == "Published Client Version")
        .and_then(|p| p["Value1"].as_str())
        .unwrap()
        .to_string()
}

#[test]
fn software_update_based_installation_needs_a_software_update_point() {
    let (_tmp, lab) = example_lab("upgrade");
    ok(&lab, SITE_SERVER, "Remove-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName server1.contoso.com -Force");
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMSoftwareUpdateBasedClientInstallation -SiteCode ABC -EnableWsus $true",
    );
    assert_says(
        &e,
        &["needs the active software update point of a primary site"],
    );
}

#[test]
fn enabling_publishes_the_sites_client_again_after_a_site_upgrade() {
    let (_tmp, lab) = example_lab("upgrade");
    assert_eq!(published(&lab), "5.00.9122.1000", "the seed's older client");
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMSoftwareUpdateBasedClientInstallation -SiteCode ABC -EnableWsus $true",
    );
    assert_eq!(published(&lab), "5.00.9128.1000", "the site's own client");
}

#[test]
fn wsus_ports_follow_the_http_plus_one_rule() {
    let (_tmp, lab) = example_lab("upgrade");
    let e = refused(&lab, SITE_SERVER, "Set-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName server1.contoso.com -HttpPort 8530 -HttpsPort 443");
    assert_says(&e, &["8530/443", "HTTP port plus one"]);
    ok(&lab, SITE_SERVER, "Set-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName server1.contoso.com -HttpPort 8530 -HttpsPort 8531");
    let e = refused(
        &lab,
        SITE_SERVER,
        "Add-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName server1.contoso.com",
    );
    assert_says(&e, &["already has the software update point role"]);
    let e = refused(
        &lab,
        SITE_SERVER,
        "Add-CMSoftwareUpdatePoint -SiteCode ABC -SiteSystemServerName nosuch.contoso.com",
    );
    assert_says(&e, &["is not a site system server"]);
}

#[test]
fn automatic_upgrade_days_and_pre_production_collection_are_checked() {
    let (_tmp, lab) = example_lab("upgrade");
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMHierarchySetting -EnableAutoClientUpgrade $true -AutoUpgradeDays 40",
    );
    assert_says(&e, &["AutoUpgradeDays", "maximum allowed range of 31"]);
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMHierarchySetting -EnablePreProduction $true",
    );
    assert_says(&e, &["needs a pre-production collection"]);
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMHierarchySetting -EnablePreProduction $true -TargetCollectionName 'Pilot'",
    );
    assert_says(&e, &["collection 'Pilot'"]);
    ok(&lab, SITE_SERVER, "Set-CMHierarchySetting -EnablePreProduction $true -TargetCollectionName 'Pre-production clients' -ApprovalMethod ManuallyApproveEachComputer");
    // Get-CMHierarchySetting returns several objects, told apart by PropertyNames
    // (ConfigMgrCBDsc DSC_CMHierarchySetting.psm1:31-64); approval is an SMS_SCI_SCProperty.
    let objects = ok(&lab, SITE_SERVER, "Get-CMHierarchySetting -SiteCode ABC");
    let pre = objects
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["PropertyNames"]
                .to_string()
                .contains("TargetCollectionID")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no pre-production object in {objects}"));
    assert_eq!(pre["IsAccepted"], true);
    assert_eq!(pre["IsEnabled"], true);
    assert!(
        pre["TargetCollectionID"]
            .as_str()
            .is_some_and(|id| id.starts_with("ABC")),
        "{pre}"
    );
    let approval = one(ok(
        &lab,
        SITE_SERVER,
        "Get-CmdeploySiteControlProperty -SiteCode ABC -PropertyName 'Auto Approval'",
    ));
    assert_eq!(
        approval["Value"], 0,
        "manual approval is Value 0: {approval}"
    );
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMHierarchySetting -ApprovalMethod ApproveNobody",
    );
    assert_says(&e, &["ApprovalMethodType"]);
}

#[test]
fn the_client_upgrade_package_comes_from_its_definition_and_goes_to_known_distribution_points() {
    let (_tmp, lab) = example_lab("upgrade");
    let e = refused(&lab, SITE_SERVER, "New-CMPackage -FromDefinition -PackageDefinitionName 'Office' -SourceFileType AlwaysObtainSourceFile -SourceFolderPath '\\\\cm01\\src' -SourceFolderPathType UncNetworkPath");
    assert_says(&e, &["package definition 'Office'"]);
    let e = refused(&lab, SITE_SERVER, "New-CMPackage -FromDefinition -PackageDefinitionName 'Configuration Manager Client Upgrade' -SourceFileType AlwaysObtainSourceFile -SourceFolderPath 'C:\\Client' -SourceFolderPathType UncNetworkPath");
    assert_says(&e, &["not a network path"]);
    let p = one(ok(&lab, SITE_SERVER, "New-CMPackage -FromDefinition -PackageDefinitionName 'Configuration Manager Client Upgrade' -SourceFileType AlwaysObtainSourceFile -SourceFolderPath '\\\\cm01.contoso.com\\SMS_ABC\\Client' -SourceFolderPathType UncNetworkPath"));
    let id = p["PackageID"].as_str().unwrap().to_string();
    let programs = one(ok(
        &lab,
        SITE_SERVER,
        &format!("Get-CMProgram -PackageId {id}"),
    ));
    assert_eq!(
        programs["ProgramName"],
        "Configuration Manager agent silent upgrade"
    );
    assert_eq!(
        programs["CommandLine"],
        "CCMSETUP.EXE /noservice SMSSITECODE=AUTO"
    );
    let e = refused(
        &lab,
        SITE_SERVER,
        &format!(
            "Start-CMContentDistribution -PackageId {id} -DistributionPointName dp99.contoso.com"
        ),
    );
    assert_says(&e, &["distribution point 'dp99.contoso.com'"]);
    ok(
        &lab,
        SITE_SERVER,
        &format!(
            "Start-CMContentDistribution -PackageId {id} -DistributionPointName dp01.contoso.com"
        ),
    );
    let on = one(ok(
        &lab,
        SITE_SERVER,
        "Get-CMDeploymentPackage -DistributionPointName dp01.contoso.com",
    ));
    assert_eq!(on["PackageID"], id.as_str());
    let e = refused(&lab, SITE_SERVER, &format!("New-CMProgram -PackageId {id} -StandardProgramName 'Configuration Manager agent silent upgrade' -CommandLine 'CCMSETUP.EXE'"));
    assert_says(&e, &["already exists"]);
}

#[test]
fn only_devices_with_a_record_are_blocked_and_get_cmdevice_says_so() {
    let (_tmp, lab) = example_lab("upgrade");
    let e = refused(&lab, SITE_SERVER, "Block-CMDevice -DeviceName NOSUCH");
    assert_says(&e, &["device 'NOSUCH'"]);
    ok(&lab, SITE_SERVER, "Block-CMDevice -DeviceName laptop07");
    let d = one(ok(&lab, SITE_SERVER, "Get-CMDevice -Name LAPTOP07"));
    assert_eq!(d["IsBlocked"], true);
    ok(&lab, SITE_SERVER, "Unblock-CMDevice -DeviceName LAPTOP07");
    let d = one(ok(&lab, SITE_SERVER, "Get-CMDevice -Name LAPTOP07"));
    assert_eq!(d["IsBlocked"], false);
}

#[test]
fn system_discovery_is_read_as_the_component_settings() {
    let (_tmp, lab) = example_lab("upgrade");
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMDiscoveryMethod -ActiveDirectorySystemDiscovery -SiteCode ABC -Enabled $true",
    );
    let c = one(ok(
        &lab,
        SITE_SERVER,
        "Get-CMDiscoveryMethod -Name ActiveDirectorySystemDiscovery -SiteCode ABC",
    ));
    assert_eq!(c["Props"][0]["Value1"], "Active");
}
