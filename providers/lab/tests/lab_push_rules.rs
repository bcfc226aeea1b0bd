//! The lab enforces client push's documented prerequisites and refuses in ConfigMgr's words:
//! no push to workgroup computers, ADMIN$ and a push account that is a local administrator with
//! the password AD holds, a management point for automatic push, system types only while push is
//! enabled.

mod lab_support;

use lab_support::*;
use serde_json::json;

// 2. Client push does not install to workgroup computers.

#[test]
fn client_push_to_a_workgroup_computer_is_refused() {
    let (_tmp, lab) = lab();
    let e = refused(
        &lab,
        SITE_SERVER,
        "Install-CMClient -DeviceName kiosk01 -SiteCode ABC",
    );
    assert_says(
        &e,
        &[
            "Client push installation cannot install to workgroup computer kiosk01",
            "manually",
        ],
    );
    assert!(!has_client(&lab, "kiosk01"));
}

// 3. Push needs ADMIN$ and a push account that is a local administrator (with AD's password).

#[test]
fn client_push_to_a_host_without_admin_share_is_refused() {
    let (tmp, lab) = lab_with(
        r#"
[[host]]
fqdn = "ws02.contoso.com"
domain = "contoso.com"
ip = "10.1.20.16/16"
role = "workstation"
os = "Windows 11 Enterprise"
admin_share = false
local_admins = ['CONTOSO\svc-cmpush']
"#,
    );
    new_cm_account(&lab, "CONTOSO\\svc-cmpush", &push_password(&tmp)).unwrap();
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -AddAccount 'CONTOSO\\svc-cmpush'",
    );
    let e = refused(
        &lab,
        SITE_SERVER,
        "Install-CMClient -DeviceName ws02.contoso.com -SiteCode ABC",
    );
    assert_says(&e, &["ADMIN$ share", "ws02.contoso.com"]);
    assert!(!has_client(&lab, "ws02"));
}

#[test]
fn client_push_without_a_push_account_in_local_administrators_is_refused() {
    let (_tmp, lab) = lab();
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -AddAccount 'CONTOSO\\svc-cmnaa'",
    );
    let e = refused(
        &lab,
        SITE_SERVER,
        "Install-CMClient -DeviceName ws01.contoso.com -SiteCode ABC",
    );
    assert_says(&e, &["Access is denied", "local Administrators group"]);
    assert!(!has_client(&lab, "ws01"));
}

#[test]
fn push_account_must_exist_as_a_configmgr_account() {
    let (_tmp, lab) = lab();
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -AddAccount 'CONTOSO\\svc-cmpush'",
    );
    assert_says(&e, &["does not exist", "New-CMAccount"]);
}

#[test]
fn client_push_with_a_push_account_holding_a_stale_password_is_refused() {
    let (_tmp, lab) = lab();
    new_cm_account(&lab, "CONTOSO\\svc-cmpush", "not-the-AD-password").unwrap();
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -AddAccount 'CONTOSO\\svc-cmpush'",
    );
    let e = refused(
        &lab,
        SITE_SERVER,
        "Install-CMClient -DeviceName ws01.contoso.com -SiteCode ABC",
    );
    assert_says(&e, &["Access is denied", "password AD holds"]);
}

#[test]
fn client_push_succeeds_with_a_local_admin_push_account_and_the_ad_password() {
    let (tmp, lab) = lab();
    assert_eq!(device(&lab, "WS01")["IsClient"], json!(false));
    new_cm_account(&lab, "CONTOSO\\svc-cmpush", &push_password(&tmp)).unwrap();
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -AddAccount 'CONTOSO\\svc-cmpush'",
    );
    let out = ok(
        &lab,
        SITE_SERVER,
        "Install-CMClient -DeviceName ws01.contoso.com -SiteCode ABC",
    );
    assert_eq!(out["DeviceName"], json!("ws01.contoso.com"), "{out}");
    let d = device(&lab, "WS01");
    assert_eq!(d["IsClient"], json!(true), "{d}");
    assert_eq!(d["SiteCode"], json!("ABC"), "{d}");
}

// 7. Automatic push needs a management point; system types only while push is enabled.

#[test]
fn automatic_push_on_a_site_without_a_management_point_is_refused() {
    let (_tmp, lab) = lab();
    lab.with_estate(|e| e.site_mut("ABC").unwrap().management_points.clear())
        .unwrap();
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $true",
    );
    assert_says(&e, &["cannot be enabled", "has no management point"]);
    assert!(!lab.snapshot().unwrap().site("ABC").unwrap().push.automatic);
}

#[test]
fn setting_system_types_while_push_is_disabled_is_refused() {
    let (_tmp, lab) = lab();
    let e = refused(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -EnableSystemTypeWorkstation $true",
    );
    assert_says(&e, &["System types can be set only while automatic site-wide client push installation is enabled"]);
    assert_eq!(lab.snapshot().unwrap().site("ABC").unwrap().push.filters, 7);
    ok(
        &lab,
        SITE_SERVER,
        "Set-CMClientPushInstallation -SiteCode ABC -EnableAutomaticClientPushInstallation $true -EnableSystemTypeWorkstation $true",
    );
    let push = lab.snapshot().unwrap().site("ABC").unwrap().push.clone();
    assert!(push.automatic);
    assert_eq!(push.filters & 1, 0);
}
