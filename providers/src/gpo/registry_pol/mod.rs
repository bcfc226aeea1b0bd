//! Registry.pol (PReg version 1): the file a GPO's registry-based policy settings live in.
//!
//! Layout (configmgr.md §3.5; Microsoft "Registry Policy File Format",
//! learn.microsoft.com/previous-versions/windows/desktop/policy/registry-policy-file-format):
//! the header `50 52 65 67 01 00 00 00` ("PReg", version 1 little-endian), then records
//! `[key;value;type;size;data]` with no separator between them, where `[`, `;` and `]` are
//! UTF-16LE characters, `key` and `value` are UTF-16LE strings ending in a UTF-16 NUL, `type` and
//! `size` are little-endian DWORDs and `data` is `size` raw bytes. A record may stop after any
//! field (`[key]`, `[key;value]`, ...): Windows then only creates the key.
//!
//! * [`model`] — [`RegistryPol`] and [`Record`], which keep every byte needed to write the file
//!   back identically, and the special value names (`**del.`, `**delvals.`, ...);
//! * [`value`] — typed values ([`RegValue`]) decoded from a record's raw data, and encoded for
//!   writing;
//! * [`reader`] — [`read`]: bytes to model, never panicking, errors with their byte offset;
//! * [`writer`] — [`write`]: model to bytes; `write(&read(b)?) == b` for every file `read`
//!   accepts.

pub mod model;
pub mod reader;
pub mod reg_type;
pub mod value;
pub mod writer;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

pub use model::{Action, Record, RegType, RegistryPol};
pub use reader::{read, PolError};
pub use value::RegValue;
pub use writer::write;
