//! The PostgreSQL state backend: several named states in one shared database, for teams and CI
//! runners.
//!
//! Every persist writes the state document and a journal row in one transaction. During apply,
//! each operation appends only a journal row holding its address's new entry (O(entry), not the
//! whole document); load replays those rows over the document, and the persist at the end of
//! the apply folds them in. The lock of a
//! state is a session-level advisory lock keyed by a hash of the state name, taken on a dedicated
//! connection held for the lock's lifetime: it dies with that connection (a killed run never leaves
//! a live lock), and it never locks anything else in the database. Who holds it is recorded in
//! `cmdeploy_locks` for `cmdeploy state lock` and `cmdeploy state unlock`. See [`schema`] for the
//! tables.
//!
//! The connection URL is a secret (it may carry a password): messages name only host, port,
//! database and state name.

mod lock;
mod runtime;
mod schema;
mod tls;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::types::Json;
use tokio_postgres::{Client, Config, NoTls};

use super::{from_value, Backend, JournalRecord, LockGuard, LockInfo, State, StateError};
use runtime::PgRuntime;

/// The connection shared by the backend and its lock: while a lock is held, persists go through
/// the lock's connection, so a run whose lock was broken (`state unlock`) cannot write any more.
type Slot = Arc<Mutex<Option<Arc<Client>>>>;

/// State in a PostgreSQL database, under a state name.
pub struct PostgresBackend {
    rt: Arc<PgRuntime>,
    config: Config,
    tls: tls::Tls,
    name: String,
    target: String,
    data: Mutex<Option<Arc<Client>>>,
    locked: Slot,
    /// The state as last loaded or persisted, to journal which addresses each persist changed.
    last: Mutex<BTreeMap<String, super::StateEntry>>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("target", &self.target)
            .finish()
    }
}

/// `host:port/database` of a connection configuration (no user, no password).
fn describe_config(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

impl PostgresBackend {
    /// A backend for state `name` in the database at `url` (a `postgres://` URL or a key=value
    /// connection string). Nothing is connected until first use.
    ///
    /// # Errors
    /// [`StateError::Database`] when the URL does not parse (the message never repeats it) or
    /// the backend's runtime cannot start.
    pub fn new(url: &str, name: &str) -> Result<PostgresBackend, StateError> {
        let mut config: Config = url.parse().map_err(|_| StateError::Database {
            target: format!("state {name}"),
            message: "the [state] url is not a valid PostgreSQL connection URL".into(),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("cmdeploy");
        let target = format!("postgres {}, state {name}", describe_config(&config));
        let rt = PgRuntime::new().map_err(|e| StateError::Database {
            target: target.clone(),
            message: format!("cannot start the database runtime: {e}"),
        })?;
        let tls = tls::Tls::for_mode(config.get_ssl_mode(), None).map_err(|message| {
            StateError::Database {
                target: target.clone(),
                message,
            }
        })?;
        Ok(PostgresBackend {
            rt: Arc::new(rt),
            config,
            tls,
            name: name.to_string(),
            target,
            data: Mutex::new(None),
            locked: Arc::new(Mutex::new(None)),
            last: Mutex::new(BTreeMap::new()),
        })
    }

    /// Verifies the server's TLS certificate against the CA in `ca_file` (PEM) instead of the
    /// public roots, and encrypts under the default `sslmode=prefer` too (see [`tls`]).
    ///
    /// # Errors
    /// [`StateError::Database`] when the file cannot be read or holds no certificate.
    pub fn with_ca_file(mut self, ca_file: &std::path::Path) -> Result<Self, StateError> {
        self.tls = tls::Tls::for_mode(self.config.get_ssl_mode(), Some(ca_file))
            .map_err(|m| self.err(m))?;
        Ok(self)
    }

    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn err(&self, message: impl std::fmt::Display) -> StateError {
        StateError::Database {
            target: self.target.clone(),
            message: message.to_string(),
        }
    }

    /// Runs a request on the backend's runtime.
    fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    ) -> Result<T, StateError> {
        match self.rt.run(fut) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(self.err(pg_message(&e))),
            None => Err(self.err("the database client stopped")),
        }
    }

    /// The connection for reads and writes: the lock's connection while a lock is held, else a
    /// lazily opened data connection (with the tables created on first use).
    fn client(&self) -> Result<Arc<Client>, StateError> {
        if let Some(c) = lock_slot(&self.locked).clone() {
            if c.is_closed() {
                return Err(self.err(
                    "the connection holding the state lock was closed (was the lock broken with `cmdeploy state unlock`?); nothing more is written",
                ));
            }
            return Ok(c);
        }
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = data.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = self.connect()?;
        *data = Some(c.clone());
        Ok(c)
    }

    /// Opens a new connection and makes sure the tables exist.
    fn connect(&self) -> Result<Arc<Client>, StateError> {
        let config = self.config.clone();
        let tls = self.tls.clone();
        let client = self.run(async move {
            let client = match tls {
                tls::Tls::Off => {
                    let (client, conn) = config.connect(NoTls).await?;
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    client
                }
                tls::Tls::Verified(tls) => {
                    let (client, conn) = config.connect(tls).await?;
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    client
                }
            };
            client.batch_execute(schema::CREATE).await?;
            Ok(client)
        })?;
        Ok(Arc::new(client))
    }
}

/// The columns every journal row shares: state name, serial, lineage, who (user@host), process
/// id, and how many resources the state holds.
struct Row {
    name: String,
    serial: i64,
    lineage: String,
    who: String,
    pid: i32,
    count: i32,
}

impl PostgresBackend {
    fn row(&self, state: &State, what: &str) -> Result<Row, StateError> {
        let info = LockInfo::current(what);
        Ok(Row {
            name: self.name.clone(),
            serial: i64::try_from(state.serial).map_err(|_| self.err("serial out of range"))?,
            lineage: state.lineage.clone(),
            who: info.who,
            pid: i32::try_from(info.pid).unwrap_or(0),
            count: i32::try_from(state.resources.len()).unwrap_or(i32::MAX),
        })
    }
}

fn lock_slot(slot: &Slot) -> std::sync::MutexGuard<'_, Option<Arc<Client>>> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// The server's message when there is one (it never contains the URL), else the client's (with
/// the fix for a certificate the client does not trust).
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let text = std::error::Error::source(e)
                .map(|s| format!("{e}: {s}"))
                .unwrap_or_else(|| e.to_string());
            if text.contains("certificate") {
                format!("{text} (give the CA of the server's certificate in [state] ca_file)")
            } else {
                text
            }
        }
    }
}

/// Addresses added, changed and removed between two states.
fn changes(
    before: &BTreeMap<String, super::StateEntry>,
    after: &State,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for (a, e) in &after.resources {
        match before.get(a) {
            None => added.push(a.clone()),
            Some(old) if old != e => changed.push(a.clone()),
            Some(_) => {}
        }
    }
    let removed = before
        .keys()
        .filter(|a| !after.resources.contains_key(*a))
        .cloned()
        .collect();
    (added, changed, removed)
}

impl Backend for PostgresBackend {
    fn load(&self) -> Result<State, StateError> {
        let client = self.client()?;
        let name = self.name.clone();
        let row = self.run(async move {
            client
                .query_opt(
                    "SELECT document FROM cmdeploy_state WHERE state_name = $1",
                    &[&name],
                )
                .await
        })?;
        let mut state = match row {
            None => State::default(),
            Some(row) => {
                let Json(doc): Json<serde_json::Value> =
                    row.try_get(0).map_err(|e| self.err(pg_message(&e)))?;
                from_value(&self.target, doc)?
            }
        };
        let client = self.client()?;
        let name = self.name.clone();
        let serial = i64::try_from(state.serial).map_err(|_| self.err("serial out of range"))?;
        let rows =
            self.run(async move { client.query(schema::UNFOLDED, &[&name, &serial]).await })?;
        let source = self.target.clone();
        let mut replay = super::Replay::new(&mut state, &source)?;
        for (i, row) in rows.into_iter().enumerate() {
            let Json(record): Json<JournalRecord> =
                row.try_get(0).map_err(|e| self.err(pg_message(&e)))?;
            replay.apply(i + 1, record)?;
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = state.resources.clone();
        Ok(state)
    }

    fn persist(&self, state: &State) -> Result<(), StateError> {
        let (added, changed, removed) = {
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            changes(&last, state)
        };
        let doc = serde_json::to_value(state).map_err(|e| self.err(e))?;
        let client = self.client()?;
        let Row {
            name,
            serial,
            lineage,
            who,
            pid,
            count,
        } = self.row(state, "persist")?;
        self.run(async move {
            client
                .execute(
                    schema::PERSIST,
                    &[
                        &name,
                        &serial,
                        &lineage,
                        &Json(&doc),
                        &who,
                        &pid,
                        &count,
                        &added,
                        &changed,
                        &removed,
                    ],
                )
                .await
        })?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = state.resources.clone();
        Ok(())
    }

    fn record(&self, state: &State, records: &[JournalRecord]) -> Result<(), StateError> {
        for record in records {
            self.record_one(state, record)?;
        }
        Ok(())
    }

    fn lock(&self, what: &str, timeout: Duration) -> Result<Box<dyn LockGuard>, StateError> {
        lock::acquire(self, what, timeout)
    }

    fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        lock::holder(self)
    }

    fn force_unlock(&self) -> Result<Option<LockInfo>, StateError> {
        lock::force_unlock(self)
    }

    fn describe(&self) -> String {
        self.target.clone()
    }
}

impl PostgresBackend {
    /// Appends one operation's record: one row, its own transaction.
    fn record_one(&self, state: &State, record: &JournalRecord) -> Result<(), StateError> {
        let address = record.address.as_str();
        let (mut added, mut changed, mut removed) = (Vec::new(), Vec::new(), Vec::new());
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            match (&record.entry, last.get(address)) {
                (Some(_), None) => added.push(address.to_string()),
                (Some(new), Some(old)) if new != old => changed.push(address.to_string()),
                (None, Some(_)) => removed.push(address.to_string()),
                _ => {}
            }
            match &record.entry {
                Some(e) => last.insert(address.to_string(), e.clone()),
                None => last.remove(address),
            };
        }
        let client = self.client()?;
        let Row {
            name,
            lineage,
            who,
            pid,
            count,
            ..
        } = self.row(state, "apply")?;
        // The serial this operation brought the state to (a batch holds several).
        let serial = i64::try_from(record.serial).map_err(|_| self.err("serial out of range"))?;
        let record = record.clone();
        self.run(async move {
            client
                .execute(
                    schema::RECORD,
                    &[
                        &name,
                        &serial,
                        &lineage,
                        &who,
                        &pid,
                        &count,
                        &added,
                        &changed,
                        &removed,
                        &Json(&record),
                    ],
                )
                .await
        })?;
        Ok(())
    }
}
