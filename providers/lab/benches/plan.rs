//! Criterion benchmarks of the plan path on generated estates against the in-process lab:
//! manifest loading (validate), refresh + plan, and loading a 100k-entry state.
//! Run with `cargo bench -p cmdeploy-lab`; tests/bench.sh gives the end-to-end figures.

use std::collections::BTreeMap;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

use cmdeploy_engine::manifest;
use cmdeploy_engine::plan::{self, PlanInput};
use cmdeploy_engine::provider::Context;
use cmdeploy_engine::refresh::refresh;
use cmdeploy_engine::secret::FingerprintKey;
use cmdeploy_engine::state::{Backend, LocalBackend, State};
use cmdeploy_lab::generate::{generate, GenerateSpec};
use cmdeploy_lab::{harness, Lab};

/// 1,000 resources: 600 boundaries, 20 groups, 379 hosts and the site.
const SPEC_1K: GenerateSpec = GenerateSpec {
    boundaries: 600,
    groups: 20,
    hosts: 379,
    converged: false,
};

fn estate(dir: &Path) {
    generate(dir, &SPEC_1K).expect("generate");
    Lab::open(dir, &dir.join(".cmdeploy"))
        .reset()
        .expect("lab reset");
}

fn validate_and_plan(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("estate");
    estate(&dir);
    let registry = harness::registry();
    c.bench_function("validate 1k resources", |b| {
        b.iter(|| manifest::load(&dir, &registry).expect("valid"))
    });
    let (project, _) = manifest::load(&dir, &registry).expect("valid");
    let work_dir = project.work_dir();
    let ctx = Context {
        parallelism: 16,
        ..Context::new(
            dir.clone(),
            work_dir.clone(),
            project.resources.clone(),
            FingerprintKey::load_or_create(&work_dir).expect("key"),
        )
        .with_extensions(harness::extensions())
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let state = State::default();
    c.bench_function("refresh + plan 1k resources (lab)", |b| {
        b.iter(|| {
            let refreshed = rt.block_on(refresh(
                &registry,
                &ctx,
                &project.resources,
                &state,
                None,
                10,
            ));
            plan::build(&PlanInput {
                resources: &project.resources,
                registry: &registry,
                state: &state,
                observed: &refreshed.outcomes,
                secrets: &BTreeMap::new(),
                fingerprints: &ctx.fingerprints,
                manifest_hash: &project.hash,
                project: None,
                targets: None,
                refresh_scripts: refreshed.batches,
            })
        })
    });
}

fn state_load(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let entry = serde_json::json!({
        "kind": "boundary", "id": "16777217",
        "attributes": {"name": "Subnet", "site": "FAB", "type": "ip_subnet", "value": "10.0.0.0"},
        "natural_key": "ip_subnet:10.0.0.0", "depends_on": ["site.FAB"],
        "connection": {"key": "cm01", "spec": {"transport": "lab", "host": "cm01.fabrikam.test"}},
        "read_connection": {"key": "cm01", "spec": {"transport": "lab", "host": "cm01.fabrikam.test"}},
        "updated_at": "2025-01-01T00:00:00Z"
    });
    let resources: serde_json::Map<String, serde_json::Value> = (0..100_000)
        .map(|i| (format!("boundary.b{i}"), entry.clone()))
        .collect();
    let doc =
        serde_json::json!({"version": 1, "serial": 1, "lineage": "x", "resources": resources});
    std::fs::write(tmp.path().join("state.json"), doc.to_string()).expect("write");
    let backend = LocalBackend::new(tmp.path());
    let mut group = c.benchmark_group("state");
    group.sample_size(10);
    group.bench_function("load 100k entries", |b| {
        b.iter(|| backend.load().expect("load"))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = validate_and_plan, state_load
}
criterion_main!(benches);
