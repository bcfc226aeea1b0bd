//! Criterion benchmark of the lab's persistence: one write Script (`Set-CMBoundary` on the site
//! server) against estates of 1,000 and 40,000 hosts. The lab journals a write Script instead of
//! rewriting its estate file, so the two should cost about the same (ideal: independent of the
//! estate's size; the whole-file rewrite it replaces grew with it).
//! Run with `cargo bench -p cmdeploy-providers --bench lab`.

use std::cell::Cell;

use criterion::{criterion_group, criterion_main, Criterion};

use cmdeploy_lab::generate::{generate, GenerateSpec};
use cmdeploy_lab::Lab;
use cmdeploy_providers::powershell::runner::stdin_document;
use cmdeploy_providers::powershell::{Call, Script, Target};

fn site_script(call: Call) -> String {
    let mut s = Script::new(Target::SiteServer {
        site_code: "FAB".into(),
    });
    s.push(call);
    stdin_document(&s)
}

fn write_script(c: &mut Criterion) {
    let mut group = c.benchmark_group("lab write Script");
    for hosts in [1_000, 40_000] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("estate");
        let spec = GenerateSpec {
            boundaries: 0,
            groups: 0,
            hosts,
            converged: false,
        };
        generate(&dir, &spec).expect("generate");
        let lab = Lab::open(&dir, &dir.join(".cmdeploy"));
        lab.reset().expect("lab reset");
        let server = "cm01.fabrikam.test";
        let created = lab
            .run_document(
                server,
                &site_script(
                    Call::new("New-CMBoundary")
                        .arg("Type", "IPSubnet")
                        .arg("Value", "10.0.0.0/24")
                        .arg("Name", "Bench"),
                ),
            )
            .expect("the Script ran");
        let id = created.results[0].value[0]["BoundaryID"].to_string();
        let n = Cell::new(0u64);
        // Renaming one boundary: a write whose change is the same size at every estate size.
        group.bench_function(format!("Set-CMBoundary, estate of {hosts} hosts"), |b| {
            b.iter(|| {
                n.set(n.get() + 1);
                let doc = site_script(
                    Call::new("Set-CMBoundary")
                        .arg("Id", id.clone())
                        .arg("NewName", format!("Bench {}", n.get())),
                );
                lab.run_document(server, &doc).expect("the Script ran")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = write_script
}
criterion_main!(benches);
