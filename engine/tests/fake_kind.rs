//! The engine on its own, driven by a fake kind and a fake executor: refresh, plan, apply level by
//! level with batches per connection, failure isolation inside a batch, skipped dependents, the
//! journal, and a second plan that finds nothing to do. No lab, no provider.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;

use cmdeploy_engine::address::Address;
use cmdeploy_engine::apply::{apply, ApplyInput, Silent};
use cmdeploy_engine::batch::{Described, Work, WorkOutput};
use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::manifest;
use cmdeploy_engine::plan::{self, Action, PlanInput};
use cmdeploy_engine::provider::{
    decode_table, Applied, Context, DecodeInput, Decoded, Executor, Kind, Observed, Operation,
    ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::refresh::refresh;
use cmdeploy_engine::registry::Registry;
use cmdeploy_engine::resource::{Connection, ConnectionRef, Reference, ResourceSet};
use cmdeploy_engine::secret::FingerprintKey;
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::state::Backend;
use cmdeploy_engine::state::LocalBackend;

/// The remote side: object name → value, per connection; and what ran.
#[derive(Default)]
struct Remote {
    objects: BTreeMap<String, String>,
    /// (connection, number of operations) per executed batch.
    batches: Vec<(String, usize)>,
    /// Operations run one by one through `Kind::apply`.
    singles: usize,
}

type Shared = Arc<Mutex<Remote>>;

/// `[thing.NAME]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ThingSpec {
    connection: Spanned<String>,
    value: String,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    /// The remote side refuses this object.
    #[serde(default)]
    refused: bool,
    /// Applied through `Kind::apply` rather than described.
    #[serde(default)]
    single: bool,
}

struct Thing(Shared);

/// One described operation.
struct Write {
    name: String,
    value: Option<String>,
    refused: bool,
}

#[async_trait::async_trait]
impl Kind for Thing {
    fn name(&self) -> &'static str {
        "thing"
    }
    fn description(&self) -> &'static str {
        "a fake object"
    }
    fn schema(&self, g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        g.subschema_for::<ThingSpec>()
    }
    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let name = input.address.name.clone();
        let spec: ThingSpec = decode_table(input.file, input.span.clone(), input.table, "thing")?;
        let mut attrs = serde_json::Map::new();
        attrs.insert("value".into(), json!(spec.value));
        let mut d = Decoded::new(attrs, ConnectionRef::Named(spec.connection), name);
        d.references = spec
            .needs
            .iter()
            .map(|n| Reference {
                target: Address::new("thing", n.value.clone()),
                span: n.span.clone(),
            })
            .collect();
        d.meta.insert("refused".into(), json!(spec.refused));
        d.meta.insert("single".into(), json!(spec.single));
        Ok(d)
    }
    async fn read(&self, _ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let remote = self.0.lock().unwrap();
        requests
            .into_iter()
            .map(|r| ReadResult {
                outcome: match remote.objects.get(&r.address.name) {
                    Some(v) => ReadOutcome::Present(Observed {
                        id: r.address.name.clone(),
                        attrs: [("value".to_string(), json!(v))].into_iter().collect(),
                        notes: Vec::new(),
                        private: Default::default(),
                    }),
                    None => ReadOutcome::Absent,
                },
                address: r.address,
            })
            .collect()
    }
    async fn apply(&self, _ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let mut remote = self.0.lock().unwrap();
        remote.singles += 1;
        let w = write_of(&op);
        store(&mut remote, &w, &op.connection)
    }
    fn describe(&self, _ctx: &Context, op: &Operation) -> Option<Result<Described, RemoteError>> {
        if op
            .desired
            .as_ref()
            .is_some_and(|d| d.meta["single"] == json!(true))
        {
            return None;
        }
        Some(Ok(Described {
            batch_key: "fake".into(),
            work: Work::new(write_of(op)),
            cost: 1,
        }))
    }
    fn finish(
        &self,
        _ctx: &Context,
        _op: &Operation,
        output: WorkOutput,
    ) -> Result<Applied, RemoteError> {
        Ok(output
            .downcast::<Applied>()
            .expect("the fake executor's output"))
    }
}

fn write_of(op: &Operation) -> Write {
    Write {
        name: op.address.name.clone(),
        value: op
            .desired
            .as_ref()
            .and_then(|d| d.str_attr("value").map(str::to_string)),
        refused: op
            .desired
            .as_ref()
            .is_some_and(|d| d.meta["refused"] == json!(true)),
    }
}

fn store(remote: &mut Remote, w: &Write, c: &Connection) -> Result<Applied, RemoteError> {
    if w.refused {
        return Err(RemoteError::new(c.host(), format!("{} is refused", w.name)));
    }
    let mut attrs = serde_json::Map::new();
    match &w.value {
        Some(v) => {
            remote.objects.insert(w.name.clone(), v.clone());
            attrs.insert("value".into(), json!(v));
        }
        None => {
            remote.objects.remove(&w.name);
        }
    }
    Ok(Applied {
        id: w.name.clone(),
        attrs,
    })
}

struct FakeExecutor(Shared);

#[async_trait::async_trait]
impl Executor for FakeExecutor {
    async fn execute(
        &self,
        _ctx: &Context,
        connection: &Connection,
        _key: &str,
        work: Vec<Work>,
    ) -> Vec<Result<WorkOutput, RemoteError>> {
        let mut remote = self.0.lock().unwrap();
        remote.batches.push((connection.key.clone(), work.len()));
        work.into_iter()
            .map(|w| {
                let w = w.downcast::<Write>().expect("a Write");
                store(&mut remote, &w, connection).map(Work::new)
            })
            .collect()
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

struct Run {
    remote: Shared,
    registry: Registry,
}

impl Run {
    fn new() -> Run {
        let remote: Shared = Arc::default();
        let mut registry = Registry::new();
        registry.register(Arc::new(Thing(remote.clone())));
        registry.set_executor(Arc::new(FakeExecutor(remote.clone())));
        Run { remote, registry }
    }

    /// Plans and applies the project in `dir` at `parallelism`; returns the plan's actions and
    /// the report's failed and skipped addresses.
    async fn apply(
        &self,
        dir: &Path,
        parallelism: usize,
    ) -> (BTreeMap<String, Action>, Vec<String>, Vec<String>) {
        let (project, _) = manifest::load(dir, &self.registry).expect("the project loads");
        std::fs::create_dir_all(dir.join(".cmdeploy")).unwrap();
        let backend = LocalBackend::new(dir.join(".cmdeploy"));
        let mut state = backend.load().unwrap_or_default();
        let ctx = Context {
            parallelism,
            ..Context::new(
                dir.to_path_buf(),
                dir.join(".cmdeploy"),
                project.resources.clone(),
                FingerprintKey::load_or_create(&dir.join(".cmdeploy")).unwrap(),
            )
        };
        let refreshed = refresh(
            &self.registry,
            &ctx,
            &project.resources,
            &state,
            None,
            parallelism,
        )
        .await;
        let secrets = BTreeMap::new();
        let p = plan::build(&PlanInput {
            resources: &project.resources,
            registry: &self.registry,
            state: &state,
            observed: &refreshed.outcomes,
            secrets: &secrets,
            fingerprints: &ctx.fingerprints,
            manifest_hash: &project.hash,
            project: None,
            targets: None,
            refresh_scripts: refreshed.batches,
        });
        let actions = p
            .resource_changes
            .iter()
            .map(|c| (c.address.clone(), c.action()))
            .collect();
        let resources: &Arc<ResourceSet> = &project.resources;
        let report = apply(
            ApplyInput {
                plan: &p,
                resources,
                registry: &self.registry,
                ctx: &ctx,
                observed: &refreshed.outcomes,
                secrets: &secrets,
                parallelism,
                interrupt: Arc::new(AtomicBool::new(false)),
            },
            &backend,
            &mut state,
            &Silent,
        )
        .await
        .expect("state is written");
        (
            actions,
            report.failed.iter().map(|(a, _)| a.to_string()).collect(),
            report.skipped.iter().map(|(a, _)| a.to_string()).collect(),
        )
    }
}

const CONNECTIONS: &str = r#"
[connection.a]
host = "a.example"
[connection.b]
host = "b.example"
"#;

fn things(dir: &Path, extra: &str) {
    let mut text = String::from(CONNECTIONS);
    for i in 0..7 {
        text.push_str(&format!(
            "[thing.a{i}]\nconnection = \"a\"\nvalue = \"v{i}\"\n"
        ));
    }
    for i in 0..3 {
        text.push_str(&format!(
            "[thing.b{i}]\nconnection = \"b\"\nvalue = \"w{i}\"\n"
        ));
    }
    text.push_str(
        "[thing.top]\nconnection = \"a\"\nvalue = \"t\"\nneeds = [\"a0\", \"a1\", \"b0\"]\n",
    );
    text.push_str(extra);
    write(dir, "cmdeploy.toml", &text);
}

#[tokio::test]
async fn each_level_is_batched_per_connection_within_the_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    things(dir.path(), "");
    let run = Run::new();
    let (actions, failed, skipped) = run.apply(dir.path(), 2).await;
    assert_eq!(actions.len(), 11);
    assert!(
        failed.is_empty() && skipped.is_empty(),
        "{failed:?} {skipped:?}"
    );
    {
        let remote = run.remote.lock().unwrap();
        // Level 0: 7 creates on a in 2 chunks, 3 on b in 2 chunks; level 1: `top` alone.
        let mut batches = remote.batches.clone();
        batches.sort();
        assert_eq!(
            batches,
            vec![
                ("a".to_string(), 1),
                ("a".to_string(), 3),
                ("a".to_string(), 4),
                ("b".to_string(), 1),
                ("b".to_string(), 2),
            ]
        );
        assert_eq!(
            remote.batches.last(),
            Some(&("a".to_string(), 1)),
            "top runs last"
        );
        assert_eq!(remote.objects.len(), 11);
    }
    // The journal and state hold every object: the next plan has nothing to do.
    let (actions, _, _) = run.apply(dir.path(), 2).await;
    assert!(actions.values().all(|a| *a == Action::NoOp), "{actions:?}");
}

#[tokio::test]
async fn a_refused_operation_fails_alone_and_skips_only_its_dependents() {
    let dir = tempfile::tempdir().unwrap();
    things(
        dir.path(),
        "[thing.bad]\nconnection = \"a\"\nvalue = \"x\"\nrefused = true\n\
         [thing.after_bad]\nconnection = \"a\"\nvalue = \"y\"\nneeds = [\"bad\"]\n\
         [thing.own]\nconnection = \"b\"\nvalue = \"z\"\nsingle = true\nneeds = [\"b1\"]\n",
    );
    let run = Run::new();
    let (_, failed, skipped) = run.apply(dir.path(), 10).await;
    assert_eq!(failed, vec!["thing.bad"]);
    assert_eq!(skipped, vec!["thing.after_bad"]);
    {
        let remote = run.remote.lock().unwrap();
        // `bad` shared its batch with the other creates on `a`, which all went through.
        assert!(remote.objects.contains_key("a6") && !remote.objects.contains_key("bad"));
        assert!(remote.objects.contains_key("own") && remote.objects.contains_key("top"));
        assert_eq!(
            remote.singles, 1,
            "the kind applies what it does not describe"
        );
    }
    // State records what succeeded: only the failed one and its dependent are planned again.
    let (actions, _, _) = run.apply(dir.path(), 10).await;
    let pending: Vec<&String> = actions
        .iter()
        .filter(|(_, a)| **a != Action::NoOp)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(pending, vec!["thing.after_bad", "thing.bad"]);
}

#[tokio::test]
async fn removed_objects_are_deleted_in_a_batch_after_their_dependents() {
    let dir = tempfile::tempdir().unwrap();
    things(dir.path(), "");
    let run = Run::new();
    run.apply(dir.path(), 4).await;
    // Drop `top` and the b objects: b0 waits for `top` (which needs it); b1 and b2 wait for
    // nothing, so they share a batch in the first level.
    let mut text = String::from(CONNECTIONS);
    for i in 0..7 {
        text.push_str(&format!(
            "[thing.a{i}]\nconnection = \"a\"\nvalue = \"v{i}\"\n"
        ));
    }
    write(dir.path(), "cmdeploy.toml", &text);
    run.remote.lock().unwrap().batches.clear();
    let (actions, failed, _) = run.apply(dir.path(), 1).await;
    assert!(failed.is_empty());
    let deletes = actions.values().filter(|a| **a == Action::Delete).count();
    assert_eq!(deletes, 4);
    let remote = run.remote.lock().unwrap();
    assert_eq!(
        remote.batches,
        vec![
            ("a".to_string(), 1),
            ("b".to_string(), 2),
            ("b".to_string(), 1)
        ],
        "top with b1 and b2 (one batch), then b0"
    );
    assert_eq!(remote.objects.len(), 7);
}
