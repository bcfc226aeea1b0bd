//! The fuzz targets (tests/fuzz/targets.rs) on the stable toolchain, as part of the test suite:
//! each runs over its seed corpus (examples/ and ../shared/corpus), every input that once crashed
//! it (tests/fuzz/regressions/TARGET/), and a few hundred deterministic mutations of the seeds.
//! A panic fails the test. Coverage-guided runs use libFuzzer: `bash tests/fuzz/run.sh SECONDS`.
//!
//! With `CMDEPLOY_FUZZ_CORPUS=DIR` the seeds are also written to `DIR/TARGET/` for libFuzzer.

#[path = "fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

/// Mutations per target.
const MUTATIONS: usize = 400;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that often matter to the parsers under test.
const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\"",
    b"'",
    b"\\",
    b"{{",
    b"}}",
    b"{%",
    b"[",
    b"]",
    b"=",
    b"\n",
    b"\r\n",
    b"<",
    b">",
    b"/",
    b":",
    b"%",
    b"\xff\xfe",
    b"\xe2\x80\x99",
    b"\xf0\x9f\x98\x80",
    b"99999999999999999999",
    b"-1",
    b"PReg",
    b"<s:Envelope>",
    b"]]>",
    b"&amp;",
    b"\x01\x00\x00\x00",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                v.splice(at..at, piece.iter().copied());
            }
            2 => v.truncate(at),
            3 if !v.is_empty() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at..end);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                v.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let end = (at + rng.below(32)).min(v.len());
                let dup = v[at..end].to_vec();
                v.splice(at..at, dup);
            }
        }
    }
    v
}

fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("tests/fuzz/regressions").join(target);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            out.push(std::fs::read(e.path()).unwrap());
        }
    }
    out
}

fn write_corpus(dir: &Path, target: &str, seeds: &[Vec<u8>]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:04}")), s).unwrap();
    }
}

fn run(target: &str, body: fn(&[u8])) {
    let seeds = targets::seeds(&root(), target);
    assert!(
        !seeds.is_empty(),
        "no seeds for {target} (sources: {:?}; ../shared must be beside the repository)",
        targets::seed_sources(target)
    );
    if let Some(dir) = std::env::var_os("CMDEPLOY_FUZZ_CORPUS") {
        write_corpus(Path::new(&dir), target, &seeds);
    }
    for input in seeds.iter().chain(&regressions(target)) {
        body(input);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    for _ in 0..MUTATIONS {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, other);
        body(&input);
    }
}

#[test]
fn manifest() {
    run("manifest", targets::manifest);
}

#[test]
fn ccmsetup() {
    run("ccmsetup", targets::ccmsetup);
}

#[test]
fn registry_pol() {
    run("registry_pol", targets::registry_pol);
}

#[test]
fn gpreport() {
    run("gpreport", targets::gpreport);
}

#[test]
fn state() {
    run("state", targets::state);
}

#[test]
fn wsman() {
    run("wsman", targets::wsman);
}
