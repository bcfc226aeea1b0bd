//! The bodies of the fuzz targets, shared by the libFuzzer binaries (tests/fuzz/fuzz_targets) and
//! the stable smoke test (tests/fuzz_smoke.rs). Each takes arbitrary bytes and must neither panic,
//! hang nor exhaust memory; where a round trip is a documented property, it is asserted.
//!
//! Inputs that hold two documents (a project's cmdeploy.toml and a resource file; a state file and
//! its journal) are split at the first NUL byte.

#![allow(dead_code)]

use std::path::Path;

use cmdeploy_engine::state::{Backend, LocalBackend};

fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Renders diagnostics as the CLI does (miette, graphical), so the excerpt code runs too.
fn render(diags: &cmdeploy_engine::diagnostics::Diagnostics) {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_context_lines(1);
    for d in diags.iter() {
        let mut out = String::new();
        let _ = handler.render_report(&mut out, d);
    }
}

/// Manifest loading and validation: `cmdeploy.toml` NUL `resources.toml`, in a fresh directory.
pub fn manifest(data: &[u8]) {
    let (config, resources) = split(data);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cmdeploy.toml"), config).expect("write");
    std::fs::write(dir.path().join("resources.toml"), resources).expect("write");
    let registry = cmdeploy_providers::registry();
    match cmdeploy_engine::manifest::load(dir.path(), &registry) {
        Ok((_, warnings)) => render(&warnings),
        Err(diags) => render(&diags),
    }
}

/// The CCMSetup command-line model in every context; a line that parses renders and re-parses.
pub fn ccmsetup(data: &[u8]) {
    use cmdeploy_providers::ccmsetup::{self, Context};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for ctx in [
        None,
        Some(Context::Push),
        Some(Context::Gpo),
        Some(Context::Manual),
        Some(Context::Workgroup),
        Some(Context::Internet),
        Some(Context::Intune),
    ] {
        let (cmd, _) = ccmsetup::check(text, ctx);
        if let Some(cmd) = cmd {
            let _ = ccmsetup::check_command_line(&cmd, ctx);
        }
    }
}

/// The Registry.pol reader; what it reads, the writer writes back to the same records.
pub fn registry_pol(data: &[u8]) {
    use cmdeploy_providers::gpo::registry_pol::{read, write};
    if let Ok(pol) = read(data) {
        let again = read(&write(&pol)).expect("a written Registry.pol reads back");
        assert_eq!(again, pol, "Registry.pol round trip");
    }
}

/// gpreport.xml (UTF-16 or UTF-8) decoding and parsing.
pub fn gpreport(data: &[u8]) {
    use cmdeploy_providers::gpo::report;
    if let Ok(text) = report::decode_bytes(data) {
        let _ = report::parse(&text);
    }
}

/// The local state loader: `state.json` NUL `state.journal`, in a fresh directory.
pub fn state(data: &[u8]) {
    let (state, journal) = split(data);
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        if !bytes.is_empty() {
            std::fs::write(dir.path().join(name), bytes).expect("write");
        }
    };
    write("state.json", state);
    write("state.journal", journal);
    let backend = LocalBackend::new(dir.path());
    if let Ok(loaded) = backend.load() {
        // What loads persists and loads again to the same state.
        backend.persist(&loaded).expect("persist");
        assert_eq!(backend.load().expect("reload"), loaded, "state round trip");
    }
}

/// The WS-Management envelope parser of `cmdeploy lab serve`.
pub fn wsman(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cmdeploy_lab::serve::soap::parse_request(text);
}

/// Where each target's seeds come from: paths relative to the repository root, files or folders
/// (folders are walked). `../shared/...` is the shared corpus beside the repository.
pub fn seed_sources(target: &str) -> &'static [&'static str] {
    match target {
        "manifest" => &["examples"],
        "ccmsetup" => &["../shared/corpus/ccmsetup_cmdlines.tsv"],
        "registry_pol" => &["../shared/corpus/registry_pol"],
        "gpreport" => &["../shared/corpus/registry_pol"],
        "state" => &["tests/fuzz/seeds/state"],
        "wsman" => &["tests/fuzz/seeds/wsman"],
        _ => &[],
    }
}

/// Every target's name.
pub const TARGETS: [&str; 6] = [
    "manifest",
    "ccmsetup",
    "registry_pol",
    "gpreport",
    "state",
    "wsman",
];

/// The seed inputs of `target`, built from its sources under `root` (the repository).
pub fn seeds(root: &Path, target: &str) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for source in seed_sources(target) {
        walk(&root.join(source), &mut files);
    }
    files.sort();
    let read = |p: &Path| std::fs::read(p).unwrap_or_default();
    let name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    match target {
        "manifest" => {
            // Each example's cmdeploy.toml paired with each of its other manifests.
            let mut out = Vec::new();
            for config in files.iter().filter(|p| name(p) == "cmdeploy.toml") {
                let dir = config.parent().unwrap_or(Path::new("."));
                for other in files.iter().filter(|p| {
                    p.parent() == Some(dir)
                        && p.extension().is_some_and(|e| e == "toml")
                        && name(p) != "cmdeploy.toml"
                }) {
                    let mut input = read(config);
                    input.push(0);
                    input.extend(read(other));
                    out.push(input);
                }
            }
            out
        }
        "ccmsetup" => files
            .iter()
            .flat_map(|p| {
                String::from_utf8_lossy(&read(p))
                    .lines()
                    .skip(1)
                    .map(|l| l.split('\t').next().unwrap_or("").as_bytes().to_vec())
                    .collect::<Vec<_>>()
            })
            .collect(),
        "registry_pol" => files
            .iter()
            .filter(|p| name(p) == "registry.pol")
            .map(|p| read(p))
            .collect(),
        "gpreport" => files
            .iter()
            .filter(|p| name(p) == "gpreport.xml")
            .map(|p| read(p))
            .collect(),
        _ => files.iter().map(|p| read(p)).collect(),
    }
}

fn walk(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        if path
            .file_name()
            .is_some_and(|n| n == ".cmdeploy" || n == "out")
        {
            return;
        }
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                walk(&e.path(), out);
            }
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}
