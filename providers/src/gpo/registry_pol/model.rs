//! The in-memory shape of a Registry.pol file (configmgr.md §3.5).

pub use super::reg_type::RegType;
use super::value::RegValue;

/// The file signature, `50 52 65 67` ("PReg"; the DWORD `0x67655250`).
pub const SIGNATURE: [u8; 4] = *b"PReg";
/// The only format version Windows writes and this codec reads.
pub const VERSION: u32 = 1;

/// A whole Registry.pol file: its records in file order (the header is implied).
///
/// Keys omit the hive: a GPO's `Machine\Registry.pol` holds `HKLM` keys and its
/// `User\Registry.pol` holds `HKCU` keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryPol {
    /// Records in file order (order matters to Windows: later records win).
    pub records: Vec<Record>,
}

/// One `[key;value;type;size;data]` record.
///
/// Every field after the key is optional because a record may end early (`[key]` creates the
/// key only). The writer stops at the first absent field; `size` is written as given only when
/// `data` is absent, otherwise the length of `data` is written. The reader only produces records
/// that satisfy this, so reading and writing gives the same bytes back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Key path without the hive, e.g. `Software\Policies\Microsoft\ccmsetup`.
    pub key: String,
    /// Value name; may be empty (REG_NONE key-creation records) or special (`**del.X`).
    pub value_name: Option<String>,
    /// Raw REG_* type DWORD (see [`RegType`]).
    pub value_type: Option<u32>,
    /// Raw size DWORD, kept for records that stop before their data.
    pub size: Option<u32>,
    /// Raw data bytes (strings are UTF-16LE with their NUL terminator).
    pub data: Option<Vec<u8>>,
}

/// What a record tells the Registry client-side extension to do, from its value name
/// (configmgr.md §3.5; the special names are matched case-insensitively, as Windows does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Only create the key (no value name, or an empty one).
    CreateKey,
    /// Set the named value.
    Set(String),
    /// `**del.<name>`: delete one value. GPMC writes these for a policy part that is
    /// "Disabled", as REG_SZ `" \0"` (size 4).
    DeleteValue(String),
    /// `**delvals.`: delete every value of the key.
    DeleteAllValues,
    /// `**DeleteValues`: delete the `;`-separated values named in the data.
    DeleteValues,
    /// `**DeleteKeys`: delete the `;`-separated subkeys named in the data.
    DeleteKeys,
    /// `**SecureKey`: set (1) or reset (0) the key's security to the administrators-only default.
    SecureKey,
    /// Another `**` name Windows reserves.
    OtherSpecial(String),
}

impl Record {
    /// A record that sets `value_name` under `key` to `value` (size and data from the value).
    pub fn set(key: &str, value_name: &str, value: &RegValue) -> Record {
        let data = value.encode();
        Record {
            key: key.to_string(),
            value_name: Some(value_name.to_string()),
            value_type: Some(value.reg_type().as_u32()),
            size: Some(u32::try_from(data.len()).unwrap_or(u32::MAX)),
            data: Some(data),
        }
    }

    /// The `**del.<name>` record GPMC and `Set-GPRegistryValue -Disable` write: REG_SZ `" "`.
    pub fn delete_value(key: &str, value_name: &str) -> Record {
        Record::set(
            key,
            &format!("**del.{value_name}"),
            &RegValue::String(" ".into()),
        )
    }

    /// The record's type.
    pub fn reg_type(&self) -> Option<RegType> {
        self.value_type.map(RegType::from_u32)
    }

    /// The typed value, decoded from the raw data (absent when the record has no data).
    pub fn value(&self) -> Option<RegValue> {
        let t = self.reg_type()?;
        Some(RegValue::decode(t, self.data.as_deref().unwrap_or(&[])))
    }

    /// What the record does.
    pub fn action(&self) -> Action {
        let name = match self.value_name.as_deref() {
            None | Some("") => return Action::CreateKey,
            Some(n) => n,
        };
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("**") {
            return Action::Set(name.to_string());
        }
        if lower.starts_with("**del.") {
            // `**del.` is 6 ASCII bytes, so the slice is on a character boundary.
            return Action::DeleteValue(name.get(6..).unwrap_or("").to_string());
        }
        match lower.as_str() {
            "**delvals." | "**delvals" => Action::DeleteAllValues,
            "**deletevalues" => Action::DeleteValues,
            "**deletekeys" => Action::DeleteKeys,
            "**securekey" => Action::SecureKey,
            _ => Action::OtherSpecial(name.to_string()),
        }
    }

    /// The value name this record concerns: the name it sets, or the one a `**del.` deletes.
    pub fn target_name(&self) -> Option<&str> {
        let name = self.value_name.as_deref()?;
        match name.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("**del.") => name.get(6..),
            _ => Some(name),
        }
    }
}

impl RegistryPol {
    /// The last record that sets or deletes `value_name` under `key` (both case-insensitive,
    /// `**del.` records included), as the client-side extension would apply them.
    pub fn find(&self, key: &str, value_name: &str) -> Option<&Record> {
        self.records.iter().rev().find(|r| {
            r.key.eq_ignore_ascii_case(key)
                && r.target_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case(value_name))
        })
    }

    /// Replaces the records for `key`/`record`'s target name (set or `**del.`) with `record`,
    /// in place of the first one, or appends it (what `Set-GPRegistryValue` does).
    pub fn upsert(&mut self, record: Record) {
        let name = record.target_name().unwrap_or("").to_string();
        let same = |r: &Record| {
            r.key.eq_ignore_ascii_case(&record.key)
                && r.target_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        };
        match self.records.iter().position(same) {
            Some(i) => {
                let key = record.key.clone();
                self.records[i] = record;
                let mut seen = 0;
                self.records.retain(|r| {
                    let dup = r.key.eq_ignore_ascii_case(&key)
                        && r.target_name()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&name));
                    if dup {
                        seen += 1;
                    }
                    !dup || seen == 1
                });
            }
            None => self.records.push(record),
        }
    }

    /// Removes the records for `key` (and `value_name`, when given; `**del.` records included).
    /// Returns how many were removed.
    pub fn remove(&mut self, key: &str, value_name: Option<&str>) -> usize {
        let before = self.records.len();
        self.records.retain(|r| {
            !(r.key.eq_ignore_ascii_case(key)
                && value_name
                    .is_none_or(|v| r.target_name().is_some_and(|n| n.eq_ignore_ascii_case(v))))
        });
        before - self.records.len()
    }
}
