//! The codec on real Registry.pol files (../shared/corpus/registry_pol/): byte-exact round trip
//! of every `.pol` file, and agreement with the collector's `registry.decoded.tsv` and with
//! registry-pol-rs's asserted parses (`registrypolrs_testdata/expected_parse.rs`).

use std::path::{Path, PathBuf};

use super::*;

/// The corpus folder; the repository is cloned beside `shared`.
pub(super) const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/corpus/registry_pol"
);

/// The corpus folder, or a failure saying where it was looked for.
pub(super) fn corpus() -> PathBuf {
    let dir = PathBuf::from(CORPUS);
    assert!(
        dir.is_dir(),
        "the Registry.pol corpus is missing: expected {} (clone the repository beside `shared`)",
        dir.display()
    );
    dir
}

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            pol_files(&p, out);
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pol")) {
            out.push(p);
        }
    }
}

/// Every `.pol` file of the corpus, sorted.
pub(super) fn all_pol_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    pol_files(&corpus(), &mut files);
    files
}

#[test]
fn every_corpus_file_round_trips_byte_for_byte() {
    let files = all_pol_files();
    let named = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "registry.pol"))
        .count();
    assert!(
        named >= 11,
        "expected the corpus's 11 registry.pol files, found {named}"
    );
    let mut records = 0;
    let mut report = String::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pol = read(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let back = write(&pol);
        assert!(
            back == bytes,
            "{}: writing it back changed the bytes",
            path.display()
        );
        records += pol.records.len();
        report.push_str(&format!(
            "{}: {} bytes, {} records\n",
            path.strip_prefix(CORPUS).unwrap_or(path).display(),
            bytes.len(),
            pol.records.len()
        ));
    }
    eprintln!(
        "{report}{} files, {records} records, all byte-exact",
        files.len()
    );
    assert!(records > 300, "{records} records");
}

/// Python's `repr` of a str, as the collector wrote REG_SZ data (ASCII corpus).
fn py_repr(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The collector's rendering of a record's data.
fn tsv_data(r: &Record) -> String {
    let data = r.data.as_deref().unwrap_or(&[]);
    let utf16 = |d: &[u8]| {
        let units: Vec<u16> = d
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    match r.reg_type() {
        Some(RegType::DWord) => match r.value() {
            Some(RegValue::DWord(n)) => n.to_string(),
            other => format!("{other:?}"),
        },
        Some(RegType::Sz) | Some(RegType::ExpandSz) => py_repr(&utf16(data)),
        Some(RegType::MultiSz) => {
            let parts: Vec<String> = utf16(data).split('\0').map(py_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        _ => format!("hex:{}", hex::encode(data)),
    }
}

#[test]
fn records_match_the_collectors_decoding() {
    let mut compared = 0;
    for path in all_pol_files() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let tsv = match name {
            "registry.pol" => path.with_file_name("registry.decoded.tsv"),
            n => path.with_file_name(format!("{}.decoded.tsv", n.trim_end_matches(".pol"))),
        };
        let Ok(text) = std::fs::read_to_string(&tsv) else {
            continue;
        };
        let pol = read(&std::fs::read(&path).unwrap()).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows.len(), pol.records.len(), "{}", tsv.display());
        for (row, r) in rows.iter().zip(&pol.records) {
            let cols: Vec<&str> = row.split('\t').collect();
            let [key, value, ty, size, data] = cols[..] else {
                panic!("{}: malformed row {row}", tsv.display());
            };
            let at = format!("{}: {key}\\{value}", tsv.display());
            assert_eq!(r.key, key, "{at}");
            assert_eq!(r.value_name.as_deref(), Some(value), "{at}");
            assert_eq!(
                r.reg_type().map(|t| t.to_string()).as_deref(),
                Some(ty),
                "{at}"
            );
            assert_eq!(r.size.map(|s| s.to_string()).as_deref(), Some(size), "{at}");
            let ours = tsv_data(r);
            // Long data is cut: `<prefix>...(N bytes)`.
            match data.rsplit_once("...(") {
                Some((prefix, rest)) if rest.ends_with(" bytes)") => {
                    assert!(ours.starts_with(prefix), "{at}: {ours} vs {data}")
                }
                _ => assert_eq!(ours, data, "{at}"),
            }
            compared += 1;
        }
    }
    assert!(compared > 300, "only {compared} rows compared");
}

#[test]
fn registry_pol_rs_assertions_hold() {
    let dir = corpus().join("registrypolrs_testdata");
    let expected = std::fs::read_to_string(dir.join("expected_parse.rs"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let load = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    // `assert_eq!(parse(EMPTY_DATA), Ok(vec![]))`
    assert!(expected.contains("parse(EMPTY_DATA), Ok(vec![])"));
    assert!(load("Empty.pol").records.is_empty());
    // Machine: NoDriveTypeAutorun REG_DWORD 9E 00 00 00.
    assert!(expected.contains("NoDriveTypeAutorun") && expected.contains("0x9E, 0x00, 0x00, 0x00"));
    let m = load("Machine-Registry.pol");
    assert_eq!(m.records.len(), 1);
    assert_eq!(
        m.records[0].key,
        r"Software\Microsoft\Windows\CurrentVersion\Policies\Explorer"
    );
    assert_eq!(
        m.records[0].value_name.as_deref(),
        Some("NoDriveTypeAutorun")
    );
    assert_eq!(m.records[0].reg_type(), Some(RegType::DWord));
    assert_eq!(m.records[0].data.as_deref(), Some(&[0x9E, 0, 0, 0][..]));
    assert_eq!(m.records[0].value(), Some(RegValue::DWord(0x9E)));
    // User: **del.NoChangingWallPaper REG_SZ 20 00 00 00.
    assert!(
        expected.contains("**del.NoChangingWallPaper")
            && expected.contains("0x20, 0x00, 0x00, 0x00")
    );
    let u = load("User-Registry.pol");
    assert_eq!(u.records.len(), 1);
    assert_eq!(
        u.records[0].key,
        r"Software\Microsoft\Windows\CurrentVersion\Policies\ActiveDesktop"
    );
    assert_eq!(
        u.records[0].action(),
        Action::DeleteValue("NoChangingWallPaper".into())
    );
    assert_eq!(u.records[0].reg_type(), Some(RegType::Sz));
    assert_eq!(u.records[0].data.as_deref(), Some(&[0x20, 0, 0, 0][..]));
}

#[test]
fn the_quirks_are_in_the_corpus_and_read() {
    let mut seen = [false; 4];
    for path in all_pol_files() {
        let bytes = std::fs::read(&path).unwrap();
        let pol = read(&bytes).unwrap();
        seen[0] |= pol.records.is_empty();
        for r in &pol.records {
            seen[1] |= matches!(r.action(), Action::DeleteValue(_) | Action::DeleteAllValues);
            seen[2] |= r.reg_type() == Some(RegType::None) && r.value_name.as_deref() == Some("");
            seen[3] |= r.reg_type() == Some(RegType::MultiSz) && r.size == Some(2);
        }
    }
    assert_eq!(
        seen, [true; 4],
        "empty file, **del., REG_NONE with empty name, short MULTI_SZ"
    );
}
