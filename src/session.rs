//! A run's working objects: the loaded project, its state backend, the provider context, and the
//! refresh → plan step shared by plan, apply and drift.

use std::collections::BTreeMap;
use std::mem::ManuallyDrop;
use std::path::Path;
use std::sync::Arc;

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::extensions::Extensions;
use cmdeploy_engine::manifest::{self, BackendKind, Project, ProjectConfig};
use cmdeploy_engine::plan::{self, Plan, PlanInput};
use cmdeploy_engine::provider::{Context, ReadOutcome};
use cmdeploy_engine::refresh::{refresh_observed, Quiet, RefreshObserver, Refreshed};
use cmdeploy_engine::registry::Registry;
use cmdeploy_engine::secret::{FingerprintKey, SecretValue};
use cmdeploy_engine::state::{
    apply_moves, plan_move, Backend, LocalBackend, MoveError, Moved, PostgresBackend, State,
};
use cmdeploy_engine::Address;
use cmdeploy_lab::transport::LabTransport;
use cmdeploy_providers::transport::{self, Transports};

use crate::Failure;

/// Resolved secrets by address and attribute.
pub type Secrets = BTreeMap<Address, BTreeMap<String, SecretValue>>;

/// Everything a command needs.
pub struct Session {
    /// The project. Never freed: the process exits after its one command, and freeing 100k
    /// resources piece by piece took an eighth of a `validate` run.
    pub project: ManuallyDrop<Project>,
    /// Kinds.
    pub registry: Registry,
    /// State storage.
    pub backend: Box<dyn Backend>,
    /// Provider context.
    pub ctx: Context,
    /// Warnings from loading.
    pub warnings: Diagnostics,
    /// The `[[moved]]` renames [`Session::state`] made in the loaded state; apply writes the
    /// state with them, under the lock, before any other change.
    moves: std::sync::Mutex<Vec<Moved>>,
    /// Refresh progress display, when the command shows one (see [`crate::progress`]).
    pub progress: Option<Arc<crate::progress::RefreshProgress>>,
    /// The data sources that could not be read (see [`crate::data_sources`]).
    pub unread: Vec<cmdeploy_engine::data::ReadFailure>,
}

/// Every kind of the providers, with the lab's seed (`lab.toml`) left out of the manifests.
pub fn registry() -> Registry {
    let mut r = cmdeploy_providers::registry();
    r.ignore_file(cmdeploy_lab::SEED_FILE);
    r
}

/// The transports this program offers: `winrm` to reach Windows hosts, and the lab's.
pub fn transports() -> Transports {
    let mut t = Transports::new();
    transport::winrm::register(&mut t);
    LabTransport::register(&mut t);
    t
}

/// A refresh and the plan built from it.
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// Refresh outcomes.
    pub observed: BTreeMap<Address, ReadOutcome>,
    /// Resolved secrets.
    pub secrets: Secrets,
}

impl Session {
    /// Loads the project in `dir`.
    ///
    /// # Errors
    /// Diagnostics when the manifests are invalid; other setup errors.
    pub fn open(dir: &Path) -> Result<Session, Failure> {
        let registry = registry();
        let dir = dir
            .canonicalize()
            .map_err(|e| Failure::Message(format!("project directory {}: {e}", dir.display())))?;
        let (project, warnings) = manifest::load(&dir, &registry).map_err(Failure::Diagnostics)?;
        let work_dir = project.work_dir();
        let backend = backend(&dir, &project.config)?;
        let fingerprints = FingerprintKey::load_or_create(&work_dir)
            .map_err(|e| Failure::Message(format!("fingerprint key: {e}")))?;
        let ctx = Context {
            project_dir: dir.clone(),
            work_dir,
            resources: project.resources.clone(),
            fingerprints,
            // Refresh sets the run's --parallelism; this is the CLI's default.
            parallelism: 10,
            // One question per connection to an SMS Provider about its site (`import`).
            extensions: Extensions::new()
                .with(transports())
                .with(cmdeploy_providers::configmgr::provider_site::ProviderSites::default()),
        };
        Ok(Session {
            project: ManuallyDrop::new(project),
            registry,
            backend,
            ctx,
            warnings,
            moves: std::sync::Mutex::default(),
            progress: None,
            unread: Vec::new(),
        })
    }

    /// Loads the project in `dir` and reads its data sources, then declares the resources that
    /// expand over their items (`for_each`): what plan, apply, drift and import work on. A source
    /// that cannot be read is recorded in [`Session::unread`] (see [`crate::data_sources`]).
    ///
    /// # Errors
    /// Diagnostics when the manifests are invalid (also with the items).
    pub async fn open_read(dir: &Path) -> Result<Session, Failure> {
        let mut s = Session::open(dir)?;
        s.read_data().await?;
        Ok(s)
    }

    /// Loads state.
    ///
    /// # Errors
    /// State errors.
    pub fn state(&self) -> Result<State, Failure> {
        let mut state = self
            .backend
            .load()
            .map_err(|e| Failure::Message(e.to_string()))?;
        let moves = self.apply_moved_tables(&mut state);
        if let Ok(mut held) = self.moves.lock() {
            *held = moves;
        }
        Ok(state)
    }

    /// Renames in `state` (in memory) what the manifests' `[[moved]]` tables move, in file
    /// order (so chains work). A table whose old address is not in state has nothing to do (it
    /// was applied already, or its object never was); one whose new address is taken too is
    /// ignored with a warning, as Terraform does.
    fn apply_moved_tables(&self, state: &mut State) -> Vec<Moved> {
        let mut moved = Vec::new();
        for block in &self.project.config.moved {
            match plan_move(state, &block.from, &block.to) {
                Ok(moves) => {
                    apply_moves(state, &moves);
                    moved.extend(moves);
                }
                Err(MoveError::NotInState(_)) => {}
                Err(e) => eprintln!(
                    "warning: the [[moved]] table at {} is ignored: {e}",
                    block.from_loc.short()
                ),
            }
        }
        moved
    }

    /// Persists the renames [`Session::state`] made (apply, under the state lock, before any
    /// other change), so that state knows the objects by their new addresses even when nothing
    /// else changes.
    ///
    /// # Errors
    /// The state cannot be written.
    pub fn record_moves(&self, state: &State) -> Result<usize, Failure> {
        let moved = match self.moves.lock() {
            Ok(mut held) => std::mem::take(&mut *held),
            Err(_) => return Ok(0),
        };
        if moved.is_empty() {
            return Ok(0);
        }
        // One atomic write: the moves of a rename must not be cut in half by a crash.
        self.backend
            .persist(state)
            .map_err(|e| Failure::Message(format!("state could not be saved: {e}")))?;
        Ok(moved.len())
    }

    /// Resolves every secret of the desired resources.
    ///
    /// # Errors
    /// Diagnostics naming each secret that cannot be read (never its value).
    pub fn secrets(&self) -> Result<Secrets, Failure> {
        let (out, diags) = self.read_secrets();
        if diags.has_errors() {
            return Err(Failure::Diagnostics(diags));
        }
        Ok(out)
    }

    /// Reads every secret of the desired resources: the values, and a diagnostic at each
    /// reference that cannot be read (an unset variable, a missing or oversized file). `validate`
    /// reports the diagnostics and drops the values at once.
    pub fn read_secrets(&self) -> (Secrets, Diagnostics) {
        let mut out = Secrets::new();
        let mut diags = Diagnostics::new();
        for (address, r) in &self.project.resources.by_address {
            for (name, reference) in &r.secrets {
                match reference.value.resolve(&self.project.dir) {
                    Ok(v) => {
                        out.entry(address.clone()).or_default().insert(name.clone(), v);
                    }
                    Err(e) => diags.push(
                        Diagnostic::error("cmdeploy::secret::unreadable", format!("{address}.{name}: {e}"))
                            .with_help("set the environment variable or create the file; secrets are never stored in manifests or state")
                            .with_label("this secret cannot be read")
                            .at_span(&r.loc.file, reference.span.clone()),
                    ),
                }
            }
        }
        (out, diags)
    }

    /// Parses `--target` arguments and adds what the targets depend on, as Terraform does (a
    /// boundary group's boundaries and site, a `depends_on`), so a targeted apply can create them
    /// in order. A target is an address (`boundary_group.hq`, `client_group.kiosks["k01"]`) or a
    /// whole kind (`boundary`).
    ///
    /// # Errors
    /// A message for a malformed address, an unknown kind, or an address in neither the
    /// manifests nor state.
    pub fn targets(&self, raw: &[String], state: &State) -> Result<Option<Vec<Address>>, Failure> {
        if raw.is_empty() {
            return Ok(None);
        }
        let in_state: Vec<Address> = state
            .resources
            .keys()
            .filter_map(|x| Address::parse(x).ok())
            .collect();
        let manifests = &self.project.resources.by_address;
        let mut out: Vec<Address> = Vec::new();
        for t in raw {
            let t = t.trim();
            if !t.contains('.') && !t.contains('[') {
                if self.registry.get(t).is_none() {
                    let kinds: Vec<&str> = self.registry.kinds().map(|k| k.name()).collect();
                    let hint = cmdeploy_engine::diagnostics::did_you_mean(t, kinds.iter().copied())
                        .map(|k| format!(" (did you mean `{k}`?)"))
                        .unwrap_or_default();
                    return Err(Failure::Message(format!(
                        "--target {t}: no such kind{hint}; a target is a kind, kind.name or kind.name[\"key\"]"
                    )));
                }
                let before = out.len();
                for a in manifests.keys().chain(&in_state) {
                    if a.kind == t && !out.contains(&a.base()) {
                        out.push(a.base());
                    }
                }
                if out.len() == before {
                    return Err(Failure::Message(format!(
                        "--target {t}: no {t} resource in the manifests or state"
                    )));
                }
                continue;
            }
            let a = Address::parse(t).map_err(Failure::Message)?;
            let known = manifests
                .keys()
                .chain(&in_state)
                .any(|x| x == &a || x.base() == a);
            if !known {
                return Err(Failure::Message(format!(
                    "--target {t}: no such resource in the manifests or state"
                )));
            }
            out.push(a);
        }
        Ok(Some(with_dependencies(&self.project.resources, out)))
    }

    /// Refreshes and plans.
    ///
    /// # Errors
    /// Secret errors.
    pub async fn plan(
        &self,
        state: &State,
        targets: Option<&[Address]>,
        parallelism: usize,
    ) -> Result<Planned, Failure> {
        let secrets = self.secrets()?;
        Ok(self.plan_with(state, targets, secrets, parallelism).await)
    }

    /// Refreshes and plans with secrets already resolved (`import` plans its new resources, which
    /// have none, without needing every other secret of the project).
    pub async fn plan_with(
        &self,
        state: &State,
        targets: Option<&[Address]>,
        secrets: Secrets,
        parallelism: usize,
    ) -> Planned {
        let only = targets.map(|ts| {
            let ts: Vec<Address> = ts.to_vec();
            move |a: &Address| {
                ts.iter()
                    .any(|t| t == a || (t.key.is_none() && *t == a.base()))
            }
        });
        let observer: Arc<dyn RefreshObserver> = match &self.progress {
            Some(p) => p.clone(),
            None => Arc::new(Quiet),
        };
        let mut refreshed: Refreshed = match &only {
            Some(f) => {
                refresh_observed(
                    &self.registry,
                    &self.ctx,
                    &self.project.resources,
                    state,
                    Some(f),
                    parallelism,
                    observer,
                )
                .await
            }
            None => {
                refresh_observed(
                    &self.registry,
                    &self.ctx,
                    &self.project.resources,
                    state,
                    None,
                    parallelism,
                    observer,
                )
                .await
            }
        };
        if let Some(p) = &self.progress {
            p.finish();
        }
        self.mark_unread(state, &mut refreshed.outcomes);
        let input = PlanInput {
            resources: &self.project.resources,
            registry: &self.registry,
            state,
            observed: &refreshed.outcomes,
            secrets: &secrets,
            fingerprints: &self.ctx.fingerprints,
            manifest_hash: &self.project.hash,
            project: self.project.config.project.name.clone(),
            targets,
            refresh_scripts: refreshed.batches,
        };
        let mut plan = plan::build(&input);
        if let Ok(held) = self.moves.lock() {
            if !held.is_empty() {
                plan.mark_moves(&held);
            }
        }
        Planned {
            plan,
            observed: refreshed.outcomes,
            secrets,
        }
    }

    /// The shared resource set.
    pub fn resources(&self) -> &Arc<cmdeploy_engine::resource::ResourceSet> {
        &self.project.resources
    }
}

/// The state backend of a project whose configuration is `config`.
///
/// # Errors
/// A message when the PostgreSQL settings are incomplete.
fn backend(dir: &Path, config: &ProjectConfig) -> Result<Box<dyn Backend>, Failure> {
    Ok(match config.state.backend {
        BackendKind::Local => Box::new(LocalBackend::new(manifest::work_dir(dir, config))),
        BackendKind::Postgres => Box::new(postgres_backend(dir, config)?),
    })
}

/// The state backend of the project in `dir`, from its configuration alone: for the `state`
/// commands, which need neither the resources nor the providers (with 100k resources, loading
/// them was most of `state list`'s time).
///
/// # Errors
/// Diagnostics when the configuration is invalid; backend setup errors.
pub fn state_backend(dir: &Path) -> Result<Box<dyn Backend>, Failure> {
    let dir = dir
        .canonicalize()
        .map_err(|e| Failure::Message(format!("project directory {}: {e}", dir.display())))?;
    let (config, _) = manifest::load_config(&dir, &registry()).map_err(Failure::Diagnostics)?;
    backend(&dir, &config)
}

/// The `postgres` backend of `[state]`: `url` (a secret reference) and `name` (default: the
/// project name).
///
/// # Errors
/// A message naming the missing setting or the unreadable reference, never the URL itself.
fn postgres_backend(dir: &Path, config: &ProjectConfig) -> Result<PostgresBackend, Failure> {
    let section = &config.state;
    let reference = section.url.as_ref().ok_or_else(|| {
        Failure::Message(
            "[state] backend = \"postgres\" needs url = { env = \"CMDEPLOY_PG_URL\" } (a secret reference)".into(),
        )
    })?;
    let url = reference
        .resolve(dir)
        .map_err(|e| Failure::Message(format!("[state] url: {e}")))?;
    let name = section
        .name
        .clone()
        .or_else(|| config.project.name.clone())
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            Failure::Message(
                "[state] backend = \"postgres\" needs name = \"...\" (or a [project] name)".into(),
            )
        })?;
    let backend =
        PostgresBackend::new(url.expose(), &name).map_err(|e| Failure::Message(e.to_string()))?;
    match &section.ca_file {
        Some(ca) => backend
            .with_ca_file(&dir.join(ca))
            .map_err(|e| Failure::Message(e.to_string())),
        None => Ok(backend),
    }
}

/// True when `target` selects `address`: the same address, or its resource when the target has
/// no instance key.
fn selects(target: &Address, address: &Address) -> bool {
    target == address || (target.key.is_none() && *target == address.base())
}

/// The targets and, transitively, every manifest resource they refer to (references and
/// `depends_on`).
fn with_dependencies(
    set: &cmdeploy_engine::resource::ResourceSet,
    mut targets: Vec<Address>,
) -> Vec<Address> {
    let mut queue: Vec<&Address> = set
        .by_address
        .keys()
        .filter(|a| targets.iter().any(|t| selects(t, a)))
        .collect();
    let mut seen: std::collections::BTreeSet<&Address> = queue.iter().copied().collect();
    while let Some(a) = queue.pop() {
        let Some(r) = set.by_address.get(a) else {
            continue;
        };
        for reference in &r.references {
            let Some((dep, _)) = set.by_address.get_key_value(&reference.target) else {
                continue;
            };
            if seen.insert(dep) {
                if !targets.iter().any(|t| selects(t, dep)) {
                    targets.push(dep.clone());
                }
                queue.push(dep);
            }
        }
    }
    targets
}
