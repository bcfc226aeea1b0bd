//! Tests against the shared real-world corpus `ccmsetup_cmdlines.tsv` (never copied here).
//!
//! Expectations come from the `note` column:
//!
//! * `BROKEN ORDER` → an `order` error (plus `unknown_property` when the note says `MP=` isn't
//!   a property); `OBSOLETE` → an `obsolete` error; `BROKEN` → an error whose code matches the
//!   stated reason (space after `/source:` → `empty_value` + `stray_token`; comma-separated
//!   issuer attributes → `cert_issuers_separator`; switches after properties → `order`;
//!   single quotes → `single_quoted`). An unknown BROKEN reason fails the test, so the
//!   mapping must be extended when the corpus grows.
//! * Notes with no flag that *describe* an order violation (the doc's own `/regtoken` example,
//!   "placed AFTER msi properties") → an `order` error: the doc contradicts its own rule.
//! * Decision for `LEGACY`, `QUESTIONABLE` and `UNDOCUMENTED`: **warnings, never errors**.
//!   They come from scripts and logs that worked against real sites; ccmsetup ignores legacy
//!   properties, undocumented switches exist in ccmsetup itself, and the questionable items
//!   (PROVISIONTS with ccmsetup.exe, which a 2020 doc example used; `/source` given a URL)
//!   are doubtful rather than proven broken. The test asserts the matching warning code
//!   (`legacy`, `provisionts_msi`, `source_path`, `undocumented`) and no error.
//! * Everything else (`valid`, or no flag) → no error.

use super::codes;
use super::{check, parse, Context, Severity};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/ccmsetup_cmdlines.tsv"
);

struct Expect {
    errors: Vec<&'static str>,
    warnings: Vec<&'static str>,
}

fn expectation(note: &str) -> Expect {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if note.contains("BROKEN ORDER") {
        errors.push(codes::ORDER);
        if note.contains("\"MP=\" not") || note.contains("\"MP=\" is not") {
            errors.push(codes::UNKNOWN_PROPERTY);
        }
    } else if note.contains("BROKEN") {
        if note.contains("space after \"/source:\"") {
            errors.extend([codes::EMPTY_VALUE, codes::STRAY_TOKEN]);
        }
        if note.contains("comma-separated issuer attributes") {
            errors.push(codes::CERT_ISSUERS_SEPARATOR);
        }
        if note.contains("switches after properties") {
            errors.push(codes::ORDER);
        }
        if note.contains("single quotes") {
            errors.push(codes::SINGLE_QUOTED);
        }
        assert!(
            !errors.is_empty(),
            "no expected code mapped for BROKEN note: {note}"
        );
    }
    if note.contains("OBSOLETE") {
        errors.push(codes::OBSOLETE);
    }
    if note.contains("placed AFTER msi properties") {
        errors.push(codes::ORDER);
    }
    if note.contains("LEGACY") || note.contains("legacy SMSSLP") {
        warnings.push(codes::LEGACY);
    }
    if note.contains("QUESTIONABLE") {
        if note.contains("PROVISIONTS") {
            warnings.push(codes::PROVISIONTS_MSI);
        }
        if note.contains("http://") {
            warnings.push(codes::SOURCE_PATH);
        }
        assert!(
            !warnings.is_empty(),
            "no expected code mapped for QUESTIONABLE note: {note}"
        );
    }
    if note.to_ascii_lowercase().contains("undocumented")
        || note.contains("not in the documented parameter list")
    {
        warnings.push(codes::UNDOCUMENTED);
    }
    Expect { errors, warnings }
}

fn rows() -> Vec<(usize, String, String)> {
    let text = std::fs::read_to_string(CORPUS).unwrap_or_else(|e| {
        panic!(
            "corpus file {CORPUS} is missing ({e}); the shared corpus must be checked out \
             next to the repository (../shared/corpus) for this test"
        )
    });
    let rows: Vec<_> = text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let mut cols = l.split('\t');
            let cmd = cols.next().unwrap_or_default().to_string();
            let _source = cols.next();
            let note = cols
                .next()
                .unwrap_or_else(|| panic!("line {}: no note column", i + 1));
            (i + 1, cmd, note.to_string())
        })
        .collect();
    assert!(
        rows.len() >= 40,
        "corpus unexpectedly small: {} rows",
        rows.len()
    );
    rows
}

#[test]
fn corpus_lines_match_their_notes() {
    let mut failures = Vec::new();
    for (line, cmd, note) in rows() {
        let exp = expectation(&note);
        let (_, findings) = check(&cmd, None);
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let warnings: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .collect();
        if exp.errors.is_empty() && !errors.is_empty() {
            failures.push(format!(
                "line {line}: expected no error, got {errors:#?}\n  {cmd}"
            ));
        }
        for code in &exp.errors {
            if !errors.iter().any(|f| f.code == *code) {
                failures.push(format!(
                    "line {line}: expected error {code}, got {findings:#?}\n  {cmd}"
                ));
            }
        }
        for code in &exp.warnings {
            if !warnings.iter().any(|f| f.code == *code) {
                failures.push(format!(
                    "line {line}: expected warning {code}, got {findings:#?}\n  {cmd}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_push_properties_are_clean_in_push_context() {
    for (line, cmd, note) in rows() {
        if note.contains("kind=client-push-property") {
            let (_, findings) = check(&cmd, Some(Context::Push));
            assert!(
                findings.iter().all(|f| !f.is_error()),
                "line {line}: {findings:#?}"
            );
        }
    }
}

#[test]
fn corpus_round_trips_and_spans_are_in_bounds() {
    for (line, cmd, _) in rows() {
        let parsed = parse(&cmd);
        let c = &parsed.command_line;
        for span in c
            .parameters
            .iter()
            .map(|p| &p.span)
            .chain(c.properties.iter().map(|p| &p.span))
        {
            assert!(
                span.start <= span.end && span.end <= cmd.len(),
                "line {line}: span {span:?}"
            );
            assert!(cmd.is_char_boundary(span.start) && cmd.is_char_boundary(span.end));
        }
        if !parsed.has_syntax_error() {
            let again = parse(&c.render()).command_line;
            assert_eq!(&again, c, "line {line}: round trip of {cmd}");
        }
    }
}
