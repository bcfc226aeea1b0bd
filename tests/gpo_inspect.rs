//! `cmdeploy gpo inspect` on the real "Install ConfigMgr Client" GPO backup of the corpus: it
//! lists the client-deployment and site-assignment values and flags the `DNSSUFIX` typo.

mod common;

use assert_cmd::Command;

fn inspect(path: &std::path::Path) -> common::Run {
    let o = Command::cargo_bin("cmdeploy")
        .unwrap()
        .args(["gpo", "inspect"])
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    common::Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn case(name: &str) -> std::path::PathBuf {
    let dir = common::repo()
        .join("../shared/corpus/registry_pol")
        .join(name);
    assert!(
        dir.is_dir(),
        "the corpus is needed: {} is missing",
        dir.display()
    );
    dir
}

#[test]
fn flags_the_dnssufix_typo_in_the_install_configmgr_client_backup() {
    let run = inspect(&case("chadsimmons_install_configmgr_client_gpo")).code(1);
    let all = run.all();
    for want in [
        "SetupParameters",
        "NoDefAutoAssign = 1",
        r#"GPRequestedSiteAssignmentCode = "LAB""#,
        "GPSiteAssignmentRetryInterval(Min) = 45",
        "cmdeploy::ccmsetup::unknown_property",
        "DNSSUFIX",
        "did you mean `DNSSUFFIX`",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
}

#[test]
fn a_backup_folder_layout_and_a_file_both_work() {
    let src = case("chadsimmons_manage_wua_gpo").join("registry.pol");
    let tmp = tempfile::tempdir().unwrap();
    let machine = tmp.path().join("DomainSysvol/GPO/Machine");
    std::fs::create_dir_all(&machine).unwrap();
    std::fs::copy(&src, machine.join("Registry.pol")).unwrap();
    let run = inspect(tmp.path()).code(0);
    assert!(run.stdout.contains("NoAutoUpdate = 1"), "{}", run.all());
    assert!(run.stdout.contains("AUOptions = deleted"), "{}", run.all());
    inspect(&src).code(0);
}

#[test]
fn a_broken_file_is_reported_with_its_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("registry.pol");
    std::fs::write(&bad, b"PReg\x01\0\0\0[\0K").unwrap();
    let run = inspect(&bad).code(1);
    assert!(run.stderr.contains("byte offset"), "{}", run.all());
}
