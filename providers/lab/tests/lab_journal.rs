//! The lab persists a write Script as one journal line instead of rewriting the whole estate
//! file, and stays crash-consistent: a torn last line and a journal left by a crash between the
//! estate file's replacement and the journal's removal are never replayed.
//!
//! Another process is simulated by opening the same lab through a symbolic link: a `Lab` caches
//! the estate per directory path, so the link's lab reads the files as a new process would.

#![cfg(unix)]

use std::path::Path;

use serde_json::Value;

use cmdeploy_lab::model::Estate;
use cmdeploy_lab::Lab;
use cmdeploy_providers::powershell::runner::stdin_document;
use cmdeploy_providers::powershell::{Call, Script, Target};

mod lab_support;

use lab_support::*;

const JOURNAL: &str = ".cmdeploy/lab/estate.journal";
const ESTATE: &str = ".cmdeploy/lab/estate.json";

fn new_boundary(lab: &Lab, n: u32) {
    let mut s = Script::new(Target::SiteServer {
        site_code: "ABC".into(),
    });
    s.push(
        Call::new("New-CMBoundary")
            .arg("Type", "IPSubnet")
            .arg("Value", format!("10.{}.{}.0/24", 200 + n / 256, n % 256))
            .arg("Name", format!("Journal {n}")),
    );
    let out = lab
        .run_document(SITE_SERVER, &stdin_document(&s))
        .expect("the Script ran");
    assert!(out.results[0].ok, "{out:?}");
}

/// The lab as a new process sees it: the same files through another path.
fn other_process(root: &Path, name: &str) -> Lab {
    let link = root.parent().unwrap().join(format!(
        "{}-{name}",
        root.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(root, &link).unwrap();
    Lab::open(&link, &link.join(".cmdeploy"))
}

fn boundaries_named(estate: &Estate, prefix: &str) -> usize {
    estate
        .boundaries
        .iter()
        .filter(|b| b.name.starts_with(prefix))
        .count()
}

fn as_json(estate: &Estate) -> Value {
    let mut v = serde_json::to_value(estate).unwrap();
    v.as_object_mut().unwrap().remove("scripts_run");
    v
}

#[test]
fn a_write_script_appends_one_journal_line_and_another_process_replays_it() {
    let (tmp, lab) = lab();
    let root = tmp.path();
    let before = std::fs::read(root.join(ESTATE)).unwrap();
    new_boundary(&lab, 1);
    new_boundary(&lab, 2);
    assert!(
        std::fs::read(root.join(ESTATE)).unwrap() == before,
        "a write Script rewrote the whole estate file"
    );
    let journal = std::fs::read_to_string(root.join(JOURNAL)).unwrap();
    assert_eq!(
        journal.lines().count(),
        3,
        "a header and one line per Script"
    );
    let other = other_process(root, "b");
    let replayed = other.snapshot().unwrap();
    assert_eq!(boundaries_named(&replayed, "Journal "), 2);
    assert_eq!(
        as_json(&replayed),
        as_json(&lab.snapshot().unwrap()),
        "the replay rebuilt a different estate"
    );
    // And the first process sees what the other one appends.
    new_boundary(&other, 3);
    assert_eq!(boundaries_named(&lab.snapshot().unwrap(), "Journal "), 3);
}

#[test]
fn a_line_torn_by_a_crash_is_not_replayed_and_is_written_over() {
    let (tmp, lab) = lab();
    let root = tmp.path();
    new_boundary(&lab, 1);
    // A crash in the middle of an append: part of a line, no newline.
    let mut journal = std::fs::read(root.join(JOURNAL)).unwrap();
    journal.extend_from_slice(br#"{"at_ms":1,"host":"cm01.contoso.com","payl"#);
    std::fs::write(root.join(JOURNAL), &journal).unwrap();
    let other = other_process(root, "b");
    assert_eq!(boundaries_named(&other.snapshot().unwrap(), "Journal "), 1);
    new_boundary(&other, 2);
    let text = std::fs::read_to_string(root.join(JOURNAL)).unwrap();
    assert!(text.ends_with('\n'), "{text}");
    for line in text.lines() {
        serde_json::from_str::<Value>(line).expect("every line is whole");
    }
    let third = other_process(root, "c");
    assert_eq!(boundaries_named(&third.snapshot().unwrap(), "Journal "), 2);
}

#[test]
fn a_journal_left_by_a_crash_after_a_full_write_is_not_replayed_again() {
    let (tmp, lab) = lab();
    let root = tmp.path();
    new_boundary(&lab, 1);
    let journal = std::fs::read(root.join(JOURNAL)).unwrap();
    // A full write (what the console does) folds the journal into the estate file...
    lab.with_estate(|_| ()).unwrap();
    assert!(!root.join(JOURNAL).exists(), "the folded journal was kept");
    // ...and a crash just before the journal's removal would have left it.
    std::fs::write(root.join(JOURNAL), &journal).unwrap();
    let other = other_process(root, "b");
    assert_eq!(
        boundaries_named(&other.snapshot().unwrap(), "Journal "),
        1,
        "the stale journal was replayed onto the estate that already holds it"
    );
}

#[test]
fn the_journal_is_folded_into_the_estate_file_once_it_outgrows_it() {
    let (tmp, lab) = lab();
    let root = tmp.path();
    let mut largest = 0;
    let mut folded = false;
    for n in 0..400 {
        new_boundary(&lab, n);
        let estate = std::fs::metadata(root.join(ESTATE)).unwrap().len();
        match std::fs::metadata(root.join(JOURNAL)) {
            Ok(m) => largest = largest.max(m.len().saturating_sub(estate.max(64 << 10))),
            Err(_) => folded = true,
        }
    }
    assert!(folded, "400 Scripts never folded the journal");
    assert!(
        largest < 4096,
        "the journal outgrew the estate file by {largest} bytes"
    );
    let other = other_process(root, "b");
    assert_eq!(
        boundaries_named(&other.snapshot().unwrap(), "Journal "),
        400
    );
}

#[test]
fn an_estate_file_from_before_journals_is_written_whole_under_an_id() {
    let (tmp, _lab) = lab();
    let root = tmp.path();
    // `estate.json` as a cmdeploy without journals wrote it: no `journal` id.
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(root.join(ESTATE)).unwrap()).unwrap();
    assert!(doc.as_object_mut().unwrap().remove("journal").is_some());
    std::fs::write(root.join(ESTATE), doc.to_string()).unwrap();
    new_boundary(&other_process(root, "b"), 1);
    assert_eq!(
        boundaries_named(&other_process(root, "c").snapshot().unwrap(), "Journal "),
        1,
        "the Script's change was lost for the next process"
    );
}
