//! The PostgreSQL state backend against a real server: `CMDEPLOY_TEST_PG_URL` (tests/run.sh starts
//! one). These tests fail, never skip, when it is missing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::state::{
    Backend, JournalRecord, PostgresBackend, State, StateEntry, StateError,
};

fn url() -> String {
    std::env::var("CMDEPLOY_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "CMDEPLOY_TEST_PG_URL is not set: the PostgreSQL state tests need a server. \
             Run `bash tests/run.sh` (it starts one), or set CMDEPLOY_TEST_PG_URL=postgres://..."
        )
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

fn backend(name: &str) -> PostgresBackend {
    PostgresBackend::new(&url(), name).expect("backend")
}

/// Runs one SQL query on a fresh connection and returns its rows as strings.
fn sql(query: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Vec<Vec<String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let rows = client.query(query, params).await.unwrap();
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<_, String>(i)
                            .or_else(|_| r.try_get::<_, i64>(i).map(|v| v.to_string()))
                            .or_else(|_| r.try_get::<_, i32>(i).map(|v| v.to_string()))
                            .or_else(|_| r.try_get::<_, bool>(i).map(|v| v.to_string()))
                            .or_else(|_| r.try_get::<_, Vec<String>>(i).map(|v| v.join(",")))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect()
    })
}

fn conn() -> Connection {
    Connection::new(
        "cm01",
        serde_json::json!({"transport": "lab", "host": "cm01"}),
    )
}

fn entry(id: &str) -> StateEntry {
    StateEntry {
        kind: "boundary".into(),
        id: id.into(),
        attributes: serde_json::json!({ "value": id })
            .as_object()
            .unwrap()
            .clone()
            .into(),
        secret_fingerprints: BTreeMap::new(),
        depends_on: vec![],
        natural_key: id.into(),
        meta: serde_json::Map::new(),
        connection: conn(),
        read_connection: conn(),
        updated_at: "2025-01-01T00:00:00Z".into(),
    }
}

#[test]
fn persist_and_load_round_trip_across_backends() {
    let name = unique("roundtrip");
    let a = backend(&name);
    assert_eq!(a.load().unwrap(), State::default(), "a new state is empty");
    let mut s = State::default();
    s.ensure_lineage();
    s.serial = 3;
    s.resources.insert("boundary.hq".into(), entry("1"));
    a.persist(&s).unwrap();
    assert_eq!(
        backend(&name).load().unwrap(),
        s,
        "another backend reads it"
    );
    assert_eq!(
        backend(&unique("other")).load().unwrap(),
        State::default(),
        "states are separate per name"
    );
}

#[test]
fn every_persist_writes_a_journal_row() {
    let name = unique("journal");
    let b = backend(&name);
    let mut s = b.load().unwrap();
    s.ensure_lineage();
    for (serial, id) in [(1u64, "a"), (2, "b")] {
        s.serial = serial;
        s.resources.insert(format!("boundary.{id}"), entry(id));
        b.persist(&s).unwrap();
    }
    s.serial = 3;
    s.resources.remove("boundary.a");
    s.resources.get_mut("boundary.b").unwrap().id = "changed".into();
    b.persist(&s).unwrap();
    let rows = sql(
        "SELECT serial, added, changed, removed, resources FROM cmdeploy_journal WHERE state_name = $1 ORDER BY id",
        &[&name],
    );
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["1", "boundary.a", "", "", "1"],
            vec!["2", "boundary.b", "", "", "2"],
            vec!["3", "", "boundary.b", "boundary.a", "1"],
        ]
    );
}

#[test]
fn records_append_rows_that_load_replays_and_persist_folds_in() {
    let name = unique("record");
    let b = backend(&name);
    let mut s = b.load().unwrap();
    s.ensure_lineage();
    s.serial = 1;
    s.resources.insert("boundary.a".into(), entry("a"));
    b.persist(&s).unwrap();
    s.serial = 2;
    s.resources.insert("boundary.b".into(), entry("b"));
    b.record(&s, &[JournalRecord::of(&s, "boundary.b")])
        .unwrap();
    s.serial = 3;
    s.resources.remove("boundary.a");
    b.record(&s, &[JournalRecord::of(&s, "boundary.a")])
        .unwrap();
    // A new process (a run after a crash) sees the document plus the records.
    assert_eq!(backend(&name).load().unwrap(), s);
    let unfolded =
        "SELECT count(*)::bigint FROM cmdeploy_journal WHERE state_name = $1 AND entry IS NOT NULL";
    assert_eq!(sql(unfolded, &[&name]), vec![vec!["2".to_string()]]);
    b.persist(&s).unwrap();
    assert_eq!(sql(unfolded, &[&name]), vec![vec!["0".to_string()]]);
    assert_eq!(backend(&name).load().unwrap(), s);
    let audit = sql(
        "SELECT serial, added, removed FROM cmdeploy_journal WHERE state_name = $1 ORDER BY id",
        &[&name],
    );
    assert_eq!(audit[1], vec!["2", "boundary.b", ""]);
    assert_eq!(audit[2], vec!["3", "", "boundary.a"]);
}

#[test]
fn a_second_lock_waits_for_the_timeout_then_names_the_holder() {
    let name = unique("wait");
    let a = backend(&name);
    let _held = a.lock("apply", Duration::ZERO).unwrap();
    let b = backend(&name);
    let start = Instant::now();
    match b.lock("plan", Duration::from_millis(700)) {
        Err(StateError::Locked(info)) => {
            assert_eq!(info.what, "apply");
            assert_eq!(info.pid, std::process::id());
            assert!(info.who.contains('@'), "{}", info.who);
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("the second lock was granted"),
    }
    assert!(start.elapsed() >= Duration::from_millis(700), "it waited");
    assert_eq!(b.lock_info().unwrap().unwrap().what, "apply");
    // Other state names are not blocked.
    backend(&unique("free"))
        .lock("apply", Duration::ZERO)
        .unwrap();
}

#[test]
fn a_released_lock_is_taken_at_once() {
    let name = unique("release");
    let a = backend(&name);
    drop(a.lock("apply", Duration::ZERO).unwrap());
    let b = backend(&name);
    assert!(b.lock_info().unwrap().is_none());
    b.lock("apply", Duration::ZERO).unwrap();
}

#[test]
fn the_lock_dies_with_its_connection_and_its_holder_can_no_longer_write() {
    let name = unique("dies");
    let a = backend(&name);
    let mut s = a.load().unwrap();
    let _held = a.lock("apply", Duration::ZERO).unwrap();
    let pid = sql(
        "SELECT backend_pid FROM cmdeploy_locks WHERE state_name = $1",
        &[&name],
    );
    let pid: i32 = pid[0][0].parse().unwrap();
    // The server closes the holder's connection (as when its process or network dies).
    sql("SELECT pg_terminate_backend($1)", &[&pid]);
    let b = backend(&name);
    b.lock("apply", Duration::from_secs(5))
        .expect("the lock died with its connection");
    s.serial = 1;
    let e = a.persist(&s).expect_err("the old holder cannot write");
    assert!(e.to_string().contains("lock was closed"), "{e}");
}

#[test]
fn force_unlock_ends_the_holders_session_and_clears_stale_rows() {
    let name = unique("unlock");
    let a = backend(&name);
    let _held = a.lock("apply", Duration::ZERO).unwrap();
    let b = backend(&name);
    let info = b.force_unlock().unwrap().expect("a holder");
    assert_eq!(info.what, "apply");
    assert!(b.lock_info().unwrap().is_none());
    b.lock("apply", Duration::ZERO).expect("free after unlock");

    // A row without a live advisory lock is stale: not a holder, and cleared by unlock.
    let stale = unique("stale");
    sql(
        "INSERT INTO cmdeploy_locks (state_name, who, taken_at, what, pid, backend_pid) VALUES ($1, 'gone@ci', 'yesterday', 'apply', 1, 1)",
        &[&stale],
    );
    let c = backend(&stale);
    assert!(c.lock_info().unwrap().is_none(), "a stale row is no holder");
    assert_eq!(c.force_unlock().unwrap().unwrap().who, "gone@ci");
    assert!(c.force_unlock().unwrap().is_none());
}

#[test]
fn errors_never_show_the_url() {
    let e = PostgresBackend::new("postgres://u:hunter2@[bad", "x").unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let b =
        PostgresBackend::new("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2", "x").unwrap();
    let e = b.load().unwrap_err().to_string();
    assert!(!e.contains("hunter2"), "{e}");
    assert!(e.contains("127.0.0.1:1/db"), "{e}");
}
