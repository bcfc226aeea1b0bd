//! The state lock: a session advisory lock on a dedicated connection, plus a `cmdeploy_locks` row
//! saying who holds it.
//!
//! The advisory lock is the truth (it dies with its connection); the row is information. A row
//! whose advisory lock is not held is stale and ignored, and overwritten by the next holder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::runtime::PgRuntime;
use super::{lock_slot, schema, PostgresBackend, Slot};
use crate::state::{LockGuard, LockInfo, StateError};

/// How often a waiting run retries the lock.
const POLL: Duration = Duration::from_millis(200);
/// How long releasing or breaking a lock may take before it is left to the server.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// A held lock: releases the advisory lock and deletes its row on drop, then closes the
/// connection.
struct PgLock {
    rt: Arc<PgRuntime>,
    slot: Slot,
    key: i64,
    name: String,
}

impl LockGuard for PgLock {}

impl Drop for PgLock {
    fn drop(&mut self) {
        let Some(client) = lock_slot(&self.slot).take() else {
            return;
        };
        let (key, name) = (self.key, self.name.clone());
        self.rt.run(async move {
            let release = async {
                client
                    .execute(
                        "DELETE FROM cmdeploy_locks WHERE state_name = $1 AND backend_pid = pg_backend_pid()",
                        &[&name],
                    )
                    .await?;
                client
                    .query_one("SELECT pg_advisory_unlock($1)", &[&key])
                    .await
            };
            // Whatever happens, closing the connection releases the advisory lock.
            let _ = tokio::time::timeout(RELEASE_TIMEOUT, release).await;
            drop(client);
        });
    }
}

fn unknown() -> LockInfo {
    LockInfo {
        who: "unknown".into(),
        when: "unknown".into(),
        what: "unknown".into(),
        pid: 0,
    }
}

async fn read_row(c: &Client, name: &str) -> Result<Option<LockInfo>, tokio_postgres::Error> {
    let row = c
        .query_opt(
            "SELECT who, taken_at, what, pid FROM cmdeploy_locks WHERE state_name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| LockInfo {
        who: r.get(0),
        when: r.get(1),
        what: r.get(2),
        pid: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
    }))
}

async fn holders(c: &Client, key: i64) -> Result<Vec<i32>, tokio_postgres::Error> {
    let (hi, lo) = schema::lock_key_parts(key);
    let rows = c.query(schema::HOLDERS, &[&hi, &lo]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Takes the lock of `b`'s state, retrying until `timeout`.
///
/// # Errors
/// [`StateError::Locked`] naming the holder after `timeout`; database errors.
pub(super) fn acquire(
    b: &PostgresBackend,
    what: &str,
    timeout: Duration,
) -> Result<Box<dyn LockGuard>, StateError> {
    let client = b.connect()?;
    let key = schema::lock_key(&b.name);
    let info = LockInfo::current(what);
    let name = b.name.clone();
    let c = client.clone();
    let refused = b.run(async move {
        let start = Instant::now();
        loop {
            let row = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?;
            if row.get::<_, bool>(0) {
                let pid = i32::try_from(info.pid).unwrap_or(0);
                c.execute(
                    "INSERT INTO cmdeploy_locks (state_name, who, taken_at, what, pid, backend_pid)
                     VALUES ($1, $2, $3, $4, $5, pg_backend_pid())
                     ON CONFLICT (state_name) DO UPDATE SET who = EXCLUDED.who,
                        taken_at = EXCLUDED.taken_at, what = EXCLUDED.what, pid = EXCLUDED.pid,
                        backend_pid = EXCLUDED.backend_pid",
                    &[&name, &info.who, &info.when, &info.what, &pid],
                )
                .await?;
                return Ok(None);
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Ok(Some(read_row(&c, &name).await?.unwrap_or_else(unknown)));
            }
            tokio::time::sleep(POLL.min(timeout - elapsed)).await;
        }
    })?;
    if let Some(holder) = refused {
        return Err(StateError::Locked(holder));
    }
    *lock_slot(&b.locked) = Some(client);
    Ok(Box::new(PgLock {
        rt: b.rt.clone(),
        slot: b.locked.clone(),
        key,
        name: b.name.clone(),
    }))
}

/// Who holds the lock: `None` when no session holds the advisory lock (a stale row is ignored).
///
/// # Errors
/// Database errors.
pub(super) fn holder(b: &PostgresBackend) -> Result<Option<LockInfo>, StateError> {
    let c = b.client()?;
    let key = schema::lock_key(&b.name);
    let name = b.name.clone();
    b.run(async move {
        if holders(&c, key).await?.is_empty() {
            return Ok(None);
        }
        Ok(Some(read_row(&c, &name).await?.unwrap_or_else(unknown)))
    })
}

/// Breaks the lock: terminates the server session holding the advisory lock (so the holder's
/// connection, and with it its ability to write state, is gone), then deletes the row. Returns
/// the recorded holder, `None` when there was neither a holder nor a row.
///
/// # Errors
/// Database errors, e.g. when this role may not terminate the holder's session.
pub(super) fn force_unlock(b: &PostgresBackend) -> Result<Option<LockInfo>, StateError> {
    let c = b.client()?;
    let key = schema::lock_key(&b.name);
    let name = b.name.clone();
    b.run(async move {
        let info = read_row(&c, &name).await?;
        let pids = holders(&c, key).await?;
        for pid in &pids {
            c.query_one("SELECT pg_terminate_backend($1)", &[pid])
                .await?;
        }
        let deadline = Instant::now() + RELEASE_TIMEOUT;
        while !pids.is_empty() && Instant::now() < deadline && !holders(&c, key).await?.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.execute("DELETE FROM cmdeploy_locks WHERE state_name = $1", &[&name])
            .await?;
        Ok(match (info, pids.is_empty()) {
            (Some(i), _) => Some(i),
            (None, false) => Some(unknown()),
            (None, true) => None,
        })
    })
}
