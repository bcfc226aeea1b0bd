//! The lab behaves as Windows PowerShell 5.1, a WinRM session and ConfigMgr do at run time
//! (windows-runtime.md Part B), and cmdeploy's runner copes: each test runs a real stdin
//! document (runner + payload) through the lab, as a WinRM shell would.

use serde_json::{json, Value};

use cmdeploy_lab::Lab;
use cmdeploy_providers::powershell::runner::stdin_document;
use cmdeploy_providers::powershell::{Call, CallResult, Script, Target};

mod lab_support;

use lab_support::*;

fn run(lab: &Lab, host: &str, target: Target, calls: Vec<Call>) -> Vec<CallResult> {
    let mut script = Script::new(target);
    for c in calls {
        script.push(c);
    }
    lab.run_document(host, &stdin_document(&script))
        .unwrap_or_else(|e| panic!("the script on {host} failed as a whole: {e}"))
        .results
}

fn site(code: &str) -> Target {
    Target::SiteServer {
        site_code: code.into(),
    }
}

fn value(r: &CallResult) -> &Value {
    assert!(r.ok, "call {} failed: {:?}", r.id, r.error);
    &r.value
}

// Item 1: a WinRM user who never opened the console has no CMSite drive (windows-runtime.md §7).

#[test]
fn site_scripts_run_for_a_winrm_user_without_the_cmsite_drive() {
    let (_tmp, lab) = lab();
    assert!(
        !lab.snapshot().unwrap().sites[0].winrm_user_has_drive,
        "the Contoso seed models a WinRM user who never opened the console"
    );
    let results = run(
        &lab,
        SITE_SERVER,
        site("ABC"),
        vec![Call::new("Get-CMSite")],
    );
    assert!(!value(&results[0]).as_array().unwrap().is_empty());
}

// Item 5: `""` for a mandatory [string] and `Start-Process -ArgumentList ""` fail in 5.1 (§8).

#[test]
fn an_install_without_properties_passes_an_empty_command_line() {
    let (_tmp, lab) = lab();
    let results = run(
        &lab,
        "kiosk02",
        Target::Host,
        vec![Call::new("Install-CmdeployClient")
            .arg("SourcePath", "C:\\ClientSource")
            .arg("CommandLine", "")],
    );
    value(&results[0]);
    assert!(has_client(&lab, "kiosk02"));
}

#[test]
fn a_missing_mandatory_runner_parameter_is_refused_as_powershell_binds() {
    let (_tmp, lab) = lab();
    let results = run(
        &lab,
        "kiosk02",
        Target::Host,
        vec![Call::new("Install-CmdeployClient").arg("SourcePath", "C:\\ClientSource")],
    );
    assert!(!results[0].ok);
    assert_says(
        results[0].error.as_deref().unwrap_or_default(),
        &["missing mandatory parameters: CommandLine"],
    );
}

// Item 7: stopping CcmExec for imaging leaves its start type as it was.

#[test]
fn stopping_ccmexec_for_imaging_keeps_its_start_type() {
    let (_tmp, lab) = lab();
    install(&lab, "kiosk01", "SMSSITECODE=ABC");
    let results = run(
        &lab,
        "kiosk01",
        Target::Host,
        vec![Call::new("Stop-CmdeployClientService")],
    );
    value(&results[0]);
    let estate = lab.snapshot().unwrap();
    let client = estate.host("kiosk01").unwrap().client.clone().unwrap();
    assert!(!client.ccmexec_running);
    assert_eq!(client.ccmexec_start_type, "Automatic", "{client:?}");
    assert_eq!(json!(client.ccmexec_start_type), json!("Automatic"));
}

// Item 2: Windows PowerShell 5.1's ConvertTo-Json (windows-runtime.md §5, §10.1, §10.6).

const DC: &str = "dc01.contoso.com";
const GPO: &str = "ConfigMgr Client Deployment Settings";
const CCMSETUP_KEY: &str = "HKLM\\Software\\Policies\\Microsoft\\ccmsetup";

#[test]
fn the_console_answers_get_gpregistryvalue_as_windows_powershell_51() {
    let (_tmp, lab) = lab();
    let rows = ok(
        &lab,
        DC,
        &format!("Get-GPRegistryValue -Name '{GPO}' -Key '{CCMSETUP_KEY}' | ConvertTo-Json"),
    );
    let rows = rows.as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["ValueName"] == json!(name))
            .unwrap_or_else(|| panic!("{name} in {rows:?}"))
    };
    assert_eq!(row("SetupParameters")["Type"], json!(1));
    assert_eq!(row("NoDefAutoAssign")["Type"], json!(4));
    assert!(row("SetupParameters")["PolicyState"].is_number());
    assert_eq!(row("SetupParameters")["Hive"], json!(-2_147_483_646));
}

#[test]
fn runner_results_carry_enum_names_not_numbers() {
    let (_tmp, lab) = lab();
    let results = run(
        &lab,
        DC,
        Target::DomainController {
            domain: "contoso.com".into(),
        },
        vec![Call::new("Get-GPRegistryValue")
            .arg("Name", GPO)
            .arg("Key", CCMSETUP_KEY)
            .arg("ValueName", "NoDefAutoAssign")],
    );
    let rows = value(&results[0]);
    assert_eq!(rows[0]["Type"], json!("DWord"), "{rows}");
    assert_eq!(rows[0]["PolicyState"], json!("Set"), "{rows}");
}

#[test]
fn runner_results_carry_a_log_line_as_a_string() {
    let (_tmp, lab) = lab();
    let results = run(
        &lab,
        "kiosk01",
        Target::Host,
        vec![Call::new("Install-CmdeployClient")
            .arg("SourcePath", "C:\\ClientSource")
            .arg("CommandLine", "SMSSITECODE=ABC")],
    );
    let out = value(&results[0]);
    assert!(out[0]["LogTail"].is_string(), "{out}");
    // The ccmsetup service writes its return code later (windows-runtime.md §8).
    let offset = out[0]["LogOffset"].as_u64().unwrap();
    let results = run(
        &lab,
        "kiosk01",
        Target::Host,
        vec![Call::new("Get-CmdeployInstallResult").arg("LogOffset", offset)],
    );
    let result = value(&results[0]);
    assert_eq!(result[0]["ReturnCode"], json!(0), "{result}");
    assert_says(
        result[0]["LogTail"].as_str().unwrap(),
        &["CcmSetup is exiting with return code 0"],
    );
}

// Item 6: a secondary site server has no SMS Provider (plan-for-the-sms-provider.md).

#[test]
fn a_secondary_site_server_has_no_sms_provider() {
    let (_tmp, lab) = lab_with(
        "[[site]]\ncode = \"S01\"\nname = \"Branch\"\ntype = \"secondary\"\nparent = \"ABC\"\nserver = \"s01.contoso.com\"\n\n[[host]]\nfqdn = \"s01.contoso.com\"\ndomain = \"contoso.com\"\nip = \"10.1.0.10\"\nrole = \"server\"\nos = \"Windows Server 2022 Standard\"\n",
    );
    let mut script = Script::new(site("S01"));
    script.push(Call::new("Get-CMSite"));
    let e = lab
        .run_document("s01.contoso.com", &stdin_document(&script))
        .unwrap_err();
    assert_says(&e.to_string(), &["Invalid namespace", "no SMS Provider"]);
    // Through the parent primary's provider, with -SiteCode.
    let results = run(
        &lab,
        SITE_SERVER,
        site("ABC"),
        vec![Call::new("Get-CMSite").arg("SiteCode", "S01")],
    );
    assert_eq!(value(&results[0])[0]["SiteCode"], json!("S01"));
}

// Item 2: a DateTime is `\/Date(ms)\/` in Windows PowerShell 5.1, ISO 8601 after the runner.

#[test]
fn a_device_records_last_active_time_is_a_5_1_date_at_the_console_and_iso_from_the_runner() {
    let (_tmp, lab) = lab();
    install(&lab, "kiosk01", "SMSSITECODE=ABC");
    let at_console = ok(
        &lab,
        SITE_SERVER,
        "Get-CMDevice -Name KIOSK01 -Fast | ConvertTo-Json",
    );
    let raw = at_console[0]["LastActiveTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        raw.starts_with("/Date(") && raw.ends_with(")/"),
        "{at_console}"
    );
    let results = run(
        &lab,
        SITE_SERVER,
        site("ABC"),
        vec![Call::new("Get-CMDevice")
            .arg("Name", "KIOSK01")
            .switch("Fast")],
    );
    let plain = value(&results[0])[0]["LastActiveTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(plain.ends_with('Z') && plain.contains('T'), "{plain}");
}

// Item 2: the runner reads its payload with 5.1's ConvertFrom-Json, which refuses keys that
// differ only in case (windows-runtime.md §5, §10.7).

#[test]
fn a_payload_with_keys_differing_only_in_case_is_refused() {
    let (_tmp, lab) = lab();
    let mut script = Script::new(site("ABC"));
    let mut call = Call::new("Get-CMBoundaryGroup");
    call.args.insert("Name".into(), json!("HQ Clients"));
    call.args.insert("name".into(), json!("HQ Clients"));
    script.calls.push(call);
    let e = lab
        .run_document(SITE_SERVER, &stdin_document(&script))
        .unwrap_err();
    assert_says(&e.to_string(), &["duplicated keys", "'Name'", "'name'"]);
}

// Item 4, waited for: the runner's install and result read can wait for the ccmsetup service
// (`-WaitSeconds`, `Wait-Process -Name 'ccmsetup'`; windows-runtime.md §8).

/// A lab seeded from the Contoso example whose ccmsetup service takes `seconds` per install.
fn slow_ccmsetup_lab(seconds: u32) -> (tempfile::TempDir, Lab) {
    let tmp = tempfile::TempDir::new().unwrap();
    copy_dir(std::path::Path::new(EXAMPLE), tmp.path());
    let seed = tmp.path().join("lab.toml");
    let text = std::fs::read_to_string(&seed).unwrap();
    std::fs::write(&seed, format!("ccmsetup_seconds = {seconds}\n{text}")).unwrap();
    let lab = Lab::open(tmp.path(), &tmp.path().join(".cmdeploy"));
    lab.reset().unwrap();
    (tmp, lab)
}

fn install_waiting(seconds: u64) -> Call {
    Call::new("Install-CmdeployClient")
        .arg("SourcePath", "C:\\ClientSource")
        .arg("CommandLine", "SMSSITECODE=ABC")
        .arg("WaitSeconds", seconds)
}

#[test]
fn a_script_that_waits_for_the_ccmsetup_service_takes_its_time_and_holds_no_other_host_back() {
    let (_tmp, lab) = slow_ccmsetup_lab(2);
    let started = std::time::Instant::now();
    let waiting = {
        let lab = lab.clone();
        std::thread::spawn(move || {
            run(
                &lab,
                "kiosk01",
                Target::Host,
                vec![install_waiting(30), Call::new("Get-CmdeployClientState")],
            )
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Another host's Script runs while the install waits: the lab let go of the estate.
    let other = run(
        &lab,
        "kiosk02",
        Target::Host,
        vec![Call::new("Get-CmdeployClientState")],
    );
    assert_eq!(value(&other[0])[0]["Installed"], json!(false));
    assert!(
        !waiting.is_finished(),
        "the install's Script ended before its ccmsetup service did"
    );
    let results = waiting.join().unwrap();
    assert!(
        started.elapsed() >= clock_slack_below(2),
        "the Script took less than the ccmsetup service: {:?}",
        started.elapsed()
    );
    let install = &value(&results[0])[0];
    assert_eq!(install["ReturnCode"], json!(0), "{install}");
    assert_eq!(install["Running"], json!(false), "{install}");
    assert_eq!(install["ExitCode"], json!(0), "{install}");
    assert!(install["LogOffset"].is_u64(), "{install}");
    assert_says(
        install["LogTail"].as_str().unwrap(),
        &["CcmSetup is exiting with return code 0"],
    );
    // The state read after the wait sees the client the service installed.
    assert_eq!(value(&results[1])[0]["Installed"], json!(true));
}

#[test]
fn a_wait_shorter_than_the_install_ends_with_the_service_running_and_a_later_wait_sees_it_end() {
    let (_tmp, lab) = slow_ccmsetup_lab(3);
    let started = std::time::Instant::now();
    let results = run(&lab, "kiosk01", Target::Host, vec![install_waiting(1)]);
    let first = &value(&results[0])[0];
    assert!(
        started.elapsed() >= clock_slack_below(1),
        "the install's Script did not wait its second ({:?}): {first}",
        started.elapsed()
    );
    assert_eq!(first["Running"], json!(true), "{first}");
    assert_eq!(first["ReturnCode"], Value::Null, "{first}");
    let offset = first["LogOffset"].as_u64().unwrap();
    let results = run(
        &lab,
        "kiosk01",
        Target::Host,
        vec![Call::new("Get-CmdeployInstallResult")
            .arg("LogOffset", offset)
            .arg("WaitSeconds", 30)],
    );
    assert!(
        started.elapsed() >= clock_slack_below(3),
        "the later wait returned before the 3 s install ended: {:?}",
        started.elapsed()
    );
    let result = &value(&results[0])[0];
    assert_eq!(result["ReturnCode"], json!(0), "{result}");
    assert_eq!(result["Running"], json!(false), "{result}");
}

#[test]
fn a_second_install_while_the_service_runs_fails_as_the_runner_throws() {
    let (_tmp, lab) = slow_ccmsetup_lab(30);
    let first = run(&lab, "kiosk01", Target::Host, vec![install_waiting(1)]);
    assert_eq!(value(&first[0])[0]["Running"], json!(true));
    // The bootstrap finds setup running (exit code 8): the runner throws, naming the code.
    let second = run(&lab, "kiosk01", Target::Host, vec![install_waiting(1)]);
    assert!(!second[0].ok, "{:?}", second[0]);
    assert_says(
        second[0].error.as_deref().unwrap_or_default(),
        &["did not start the ccmsetup service", "exit code 8"],
    );
}

/// `secs` less the lab clock's rounding: the lab keeps time in whole milliseconds of the wall
/// clock (`chrono::Utc::now().timestamp_millis()`, truncated), so a service it starts at t and
/// ends `secs` later may end up to a millisecond before `secs` of `Instant` time have passed.
fn clock_slack_below(secs: u64) -> std::time::Duration {
    std::time::Duration::from_secs(secs) - std::time::Duration::from_millis(5)
}
