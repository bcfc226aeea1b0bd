//! `cmdeploy ccmsetup check` on every real command line of ../shared/corpus/ccmsetup_cmdlines.tsv:
//! exit 0 for the ones marked valid, exit 1 with an error for BROKEN, BROKEN ORDER and OBSOLETE.

mod common;

use assert_cmd::Command;

#[test]
fn accepts_the_valid_corpus_lines_and_rejects_the_broken_ones() {
    let path = common::repo().join("../shared/corpus/ccmsetup_cmdlines.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the corpus {} is needed: {e}", path.display()));
    let mut checked = 0;
    for row in text.lines().skip(1) {
        let mut cols = row.split('\t');
        let (Some(line), Some(_source), Some(note)) = (cols.next(), cols.next(), cols.next())
        else {
            continue;
        };
        // BROKEN, BROKEN ORDER, OBSOLETE, and the doc's own /regtoken example that puts a `/`
        // parameter after the properties, are errors; LEGACY, QUESTIONABLE and UNDOCUMENTED lines
        // are warnings, and every other line is valid.
        let broken = note.contains("BROKEN")
            || note.contains("OBSOLETE")
            || note.contains("placed AFTER msi properties");
        let out = Command::cargo_bin("cmdeploy")
            .unwrap()
            .args(["ccmsetup", "check", line])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if broken {
            assert_eq!(out.status.code(), Some(1), "{line}\n{note}\n{stderr}");
            assert!(stderr.contains("cmdeploy::ccmsetup::"), "{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(0), "{line}\n{note}\n{stderr}");
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} corpus lines checked");
}

#[test]
fn unknown_properties_get_a_did_you_mean_and_contexts_apply() {
    let run = |args: &[&str]| {
        Command::cargo_bin("cmdeploy")
            .unwrap()
            .arg("ccmsetup")
            .arg("check")
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let typo = run(&["--context", "gpo", "SMSSITECODE=ABC DNSSUFIX=contoso.com"]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `DNSSUFFIX`"));
    let internet = run(&["--context", "internet", "CCMSetup.exe SMSSITECODE=AUTO"]);
    assert_eq!(internet.status.code(), Some(1));
    let intune = run(&[
        "--context",
        "intune",
        &format!(
            "ccmsetup.msi CCMSETUPCMD=\"SMSSITECODE=ABC SMSMP={}\"",
            "x".repeat(1100)
        ),
    ]);
    assert_eq!(
        intune.status.code(),
        Some(1),
        "Intune caps the command line at 1024 characters"
    );
    let push = run(&["--context", "push", "SMSSITECODE=ABC FSP=fsp.contoso.com"]);
    assert_eq!(push.status.code(), Some(0));
    assert_eq!(
        run(&["--context", "nonsense", "SMSSITECODE=ABC"])
            .status
            .code(),
        Some(1)
    );
}
