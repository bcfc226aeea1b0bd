//! The lab's estate is guarded by an exclusive file lock (std's `File::lock`), so `lab serve` and
//! a CLI run in another process never interleave their writes.

use std::fs::{File, TryLockError};

mod lab_support;

use lab_support::*;

#[test]
fn the_estate_lock_is_exclusive_while_the_lab_works_and_free_after() {
    let (tmp, lab) = lab();
    let path = tmp.path().join(".cmdeploy/lab/estate.lock");
    // While the lab holds its lock, another open file description (as another process has)
    // cannot take it.
    let held = lab
        .read(|_| {
            let other = File::options().write(true).open(&path).unwrap();
            matches!(other.try_lock(), Err(TryLockError::WouldBlock))
        })
        .unwrap();
    assert!(
        held,
        "the lab worked on the estate without an exclusive lock"
    );
    // Released when the lab is done: another holder gets it at once.
    let other = File::options().write(true).open(&path).unwrap();
    other.try_lock().expect("the lab left its lock held");
}
