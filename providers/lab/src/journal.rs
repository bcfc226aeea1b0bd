//! The lab's journal: persistence proportional to what a Script changed.
//!
//! The estate lives in two files under `.cmdeploy/lab/`: `estate.json`, the whole estate as of
//! its last full write, and `estate.journal`, one JSON line per write Script run since then —
//! the Script's payload, the host it ran on and the time it started ([`Record`]). A write Script
//! appends one line (its payload's size, not the estate's); loading replays the lines over
//! `estate.json`. The lab is deterministic given those three (its clock is stopped at the
//! Script's start while it runs, [`super::ccmsetup_service::at`]), so the replay rebuilds the
//! estate the Script left. When the journal outgrows the estate file, the lab writes the estate
//! whole again (compaction: the total written stays linear in the Scripts run). A Script whose
//! payload holds a secret (an account's password) is never journaled: the estate is written whole
//! instead, since it keeps only the salted hash, so no secret reaches the lab's files.
//!
//! Crash consistency (a process killed at any instant; the lab is a simulator, so nothing is
//! fsynced, as before):
//!
//! * `estate.json` is replaced atomically (temp file and rename), never written in place;
//! * the journal's first line names the estate file it continues (`{"journal": ID}`, ID also in
//!   `estate.json`, new at every full write), so a journal left behind by a crash between the
//!   rename and the journal's replacement is recognised as stale and ignored;
//! * a line is appended with one write and ends with a newline: a line cut short by a crash
//!   (no newline) is a Script whose answer was never sent; it is not replayed, and the next
//!   append writes over it.
//!
//! Other processes (`lab serve` and CLI runs share one lab) see an append as a longer journal and
//! replay only the new lines onto the estate they cached.

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::exec::{self, Payload};
use super::model::Estate;

/// File name of the journal in the lab directory.
pub const FILE: &str = "estate.journal";

/// One write Script as the journal keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record<'a> {
    /// When the Script started (milliseconds since 1970, UTC): the lab's clock while it ran.
    pub at_ms: i64,
    /// The host it ran on (the name its Script was run as).
    #[serde(borrow)]
    pub host: Cow<'a, str>,
    /// The payload exactly as received (JSON text).
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
}

/// The journal's first line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    /// The `journal` id of the estate file this journal continues.
    journal: u64,
}

/// Replays one Script onto the estate, as it ran: same host, same payload, same clock.
///
/// # Errors
/// The payload does not parse (the line is not one this lab wrote).
pub fn replay(estate: &mut Estate, record: &Record<'_>) -> Result<(), String> {
    let payload: Payload = serde_json::from_str(&record.payload).map_err(|e| e.to_string())?;
    super::ccmsetup_service::at(record.at_ms, || {
        // A Script that could not reach its host changed nothing when it ran either.
        if let Ok(on) = exec::Session::open(estate, &record.host, &payload.target) {
            exec::run_payload(estate, &on, &payload);
        }
    });
    Ok(())
}

/// Replays the journal at `path` onto `estate`, from byte `offset` (0: the whole journal, whose
/// header must name `estate.journal`). Returns the offset after the last complete line replayed
/// (what the next call starts from), or 0 when there is no journal for this estate file (none,
/// or a stale one).
///
/// # Errors
/// I/O errors, or a complete line that is not a record (a corrupt journal).
pub fn catch_up(path: &Path, estate: &mut Estate, offset: u64) -> Result<u64, String> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.to_string()),
    };
    f.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let mut consumed = offset;
    let mut rest = &bytes[..];
    if offset == 0 {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Ok(0);
        };
        match serde_json::from_slice::<Header>(&rest[..end]) {
            Ok(h) if h.journal != 0 && h.journal == estate.journal => {}
            _ => return Ok(0),
        }
        consumed += end as u64 + 1;
        rest = &rest[end + 1..];
    }
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let record: Record<'_> = serde_json::from_slice(&rest[..end])
            .map_err(|e| format!("line at byte {consumed}: {e}"))?;
        replay(estate, &record).map_err(|e| format!("line at byte {consumed}: {e}"))?;
        consumed += end as u64 + 1;
        rest = &rest[end + 1..];
    }
    Ok(consumed)
}

/// Appends `record` to the journal of `estate` whose complete lines end at `consumed` (0: no
/// journal for this estate file yet, so one is started with its header, replacing any stale
/// file atomically). Bytes after `consumed` (a line cut short by a crash) are written over.
/// Returns the new end of the journal.
///
/// # Errors
/// I/O errors.
pub fn append(
    path: &Path,
    estate: &Estate,
    consumed: u64,
    record: &Record<'_>,
) -> std::io::Result<u64> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    if consumed == 0 {
        let mut text = serde_json::to_vec(&Header {
            journal: estate.journal,
        })
        .map_err(std::io::Error::other)?;
        text.push(b'\n');
        text.extend_from_slice(&line);
        cmdeploy_engine::state::replace_atomic(path, &text)?;
        return Ok(text.len() as u64);
    }
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    if f.metadata()?.len() != consumed {
        f.set_len(consumed)?;
    }
    f.seek(SeekFrom::Start(consumed))?;
    f.write_all(&line)?;
    Ok(consumed + line.len() as u64)
}

/// A fresh journal id for a full write of the estate file (never 0, which no journal names).
pub fn new_id() -> u64 {
    rand::random::<u64>().max(1)
}
