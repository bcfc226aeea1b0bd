//! Reading Registry.pol bytes (configmgr.md §3.5; Microsoft "Registry Policy File Format").
//!
//! The reader accepts exactly what the writer can reproduce byte for byte, and rejects the rest
//! with the byte offset of the problem. It never panics: every index is checked.

use super::model::{Record, RegistryPol, SIGNATURE, VERSION};

/// Why a file is not a Registry.pol file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Registry.pol byte offset {offset}: {message}")]
pub struct PolError {
    /// Byte offset from the start of the file.
    pub offset: usize,
    /// What is wrong there.
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, PolError> {
    Err(PolError {
        offset,
        message: message.into(),
    })
}

const OPEN: u16 = b'[' as u16;
const SEP: u16 = b';' as u16;
const CLOSE: u16 = b']' as u16;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn unit(&mut self, what: &str) -> Result<u16, PolError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(2)) {
            Some([a, b]) => {
                self.pos += 2;
                Ok(u16::from_le_bytes([*a, *b]))
            }
            _ => err(
                self.pos,
                format!("file ends inside a record: expected {what}"),
            ),
        }
    }

    fn dword(&mut self, what: &str) -> Result<u32, PolError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(4)) {
            Some([a, b, c, d]) => {
                self.pos += 4;
                Ok(u32::from_le_bytes([*a, *b, *c, *d]))
            }
            _ => err(self.pos, format!("file ends inside the {what} DWORD")),
        }
    }

    /// A NUL-terminated UTF-16LE string.
    fn string(&mut self, what: &str) -> Result<String, PolError> {
        let start = self.pos;
        let mut units = Vec::new();
        loop {
            if self.pos >= self.bytes.len() {
                return err(start, format!("the {what} has no terminating UTF-16 NUL"));
            }
            let u = self.unit(what)?;
            if u == 0 {
                break;
            }
            units.push(u);
        }
        String::from_utf16(&units)
            .or_else(|_| err(start, format!("the {what} is not valid UTF-16")))
    }

    /// After a field: `true` for `;` (another field follows), `false` for `]` (record ends).
    fn more(&mut self, after: &str) -> Result<bool, PolError> {
        let at = self.pos;
        match self.unit(&format!("';' or ']' after the {after}"))? {
            SEP => Ok(true),
            CLOSE => Ok(false),
            other => err(
                at,
                format!("expected ';' or ']' after the {after}, found UTF-16 unit {other:#06x}"),
            ),
        }
    }

    fn record(&mut self) -> Result<Record, PolError> {
        let at = self.pos;
        if self.unit("'['")? != OPEN {
            return err(at, "expected '[' at the start of a record");
        }
        let mut r = Record {
            key: self.string("key")?,
            ..Record::default()
        };
        if !self.more("key")? {
            return Ok(r);
        }
        r.value_name = Some(self.string("value name")?);
        if !self.more("value name")? {
            return Ok(r);
        }
        r.value_type = Some(self.dword("type")?);
        if !self.more("type")? {
            return Ok(r);
        }
        let size = self.dword("size")?;
        r.size = Some(size);
        if !self.more("size")? {
            return Ok(r);
        }
        let start = self.pos;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| start.checked_add(s))
            .filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return err(
                start,
                format!(
                    "the data is {size} bytes but only {} remain",
                    self.bytes.len() - start
                ),
            );
        };
        r.data = Some(self.bytes[start..end].to_vec());
        self.pos = end;
        let at = self.pos;
        if self.unit("']' after the data")? != CLOSE {
            return err(at, "expected ']' after the data (does the size match it?)");
        }
        Ok(r)
    }
}

/// Parses a whole Registry.pol file.
///
/// # Errors
/// A [`PolError`] with the byte offset when the header is not `PReg` version 1, a record is
/// malformed or truncated, or a string is not NUL-terminated valid UTF-16.
pub fn read(bytes: &[u8]) -> Result<RegistryPol, PolError> {
    match bytes.get(0..4) {
        Some(sig) if sig == SIGNATURE => {}
        Some(_) => return err(0, "not a Registry.pol file: the signature is not \"PReg\""),
        None => return err(0, "not a Registry.pol file: shorter than its 8-byte header"),
    }
    let mut c = Cursor { bytes, pos: 4 };
    let version = c.dword("version")?;
    if version != VERSION {
        return err(
            4,
            format!("unsupported Registry.pol version {version} (only 1 exists)"),
        );
    }
    let mut pol = RegistryPol::default();
    while c.pos < bytes.len() {
        pol.records.push(c.record()?);
    }
    Ok(pol)
}
