//! Typed registry values, decoded from and encoded to a record's raw data (configmgr.md §3.5:
//! strings are UTF-16LE and NUL-terminated, DWORD/QWORD little-endian).

use std::fmt;

use super::reg_type::RegType;

/// A record's data, decoded by its type for display and comparison. The record keeps the raw
/// bytes, so decoding never has to be reversible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    /// REG_NONE: raw bytes (usually none).
    None(Vec<u8>),
    /// REG_SZ, without its terminator.
    String(String),
    /// REG_EXPAND_SZ, without its terminator.
    ExpandString(String),
    /// REG_BINARY.
    Binary(Vec<u8>),
    /// REG_DWORD (or REG_DWORD_BIG_ENDIAN, converted).
    DWord(u32),
    /// REG_QWORD.
    QWord(u64),
    /// REG_MULTI_SZ: the strings, without terminators. A short value (just `\0`, size 2, as
    /// GPMC writes an empty list) decodes to no strings.
    MultiString(Vec<String>),
    /// Data that does not fit its type (a DWORD of 3 bytes, another type number): the raw bytes.
    Raw(RegType, Vec<u8>),
}

fn utf16_units(data: &[u8]) -> Vec<u16> {
    data.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn utf16_string(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

/// The UTF-16LE bytes of `s`, followed by a NUL.
pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

impl RegValue {
    /// Decodes `data` as type `t`; never fails (odd data becomes [`RegValue::Raw`]).
    pub fn decode(t: RegType, data: &[u8]) -> RegValue {
        let raw = || RegValue::Raw(t, data.to_vec());
        match t {
            RegType::None => RegValue::None(data.to_vec()),
            RegType::Sz | RegType::ExpandSz => {
                if !data.len().is_multiple_of(2) {
                    return raw();
                }
                let mut units = utf16_units(data);
                while units.last() == Some(&0) {
                    units.pop();
                }
                let s = utf16_string(&units);
                if t == RegType::Sz {
                    RegValue::String(s)
                } else {
                    RegValue::ExpandString(s)
                }
            }
            RegType::Binary => RegValue::Binary(data.to_vec()),
            RegType::DWord => match <[u8; 4]>::try_from(data) {
                Ok(b) => RegValue::DWord(u32::from_le_bytes(b)),
                Err(_) => raw(),
            },
            RegType::DWordBigEndian => match <[u8; 4]>::try_from(data) {
                Ok(b) => RegValue::DWord(u32::from_be_bytes(b)),
                Err(_) => raw(),
            },
            RegType::QWord => match <[u8; 8]>::try_from(data) {
                Ok(b) => RegValue::QWord(u64::from_le_bytes(b)),
                Err(_) => raw(),
            },
            RegType::MultiSz => {
                if !data.len().is_multiple_of(2) {
                    return raw();
                }
                let mut units = utf16_units(data);
                // The list ends with an empty string: drop the final NUL, then the last
                // string's own terminator.
                for _ in 0..2 {
                    if units.last() == Some(&0) {
                        units.pop();
                    }
                }
                if units.is_empty() {
                    return RegValue::MultiString(Vec::new());
                }
                RegValue::MultiString(units.split(|u| *u == 0).map(utf16_string).collect())
            }
            RegType::Other(_) => raw(),
        }
    }

    /// The type this value is written as.
    pub fn reg_type(&self) -> RegType {
        match self {
            RegValue::None(_) => RegType::None,
            RegValue::String(_) => RegType::Sz,
            RegValue::ExpandString(_) => RegType::ExpandSz,
            RegValue::Binary(_) => RegType::Binary,
            RegValue::DWord(_) => RegType::DWord,
            RegValue::QWord(_) => RegType::QWord,
            RegValue::MultiString(_) => RegType::MultiSz,
            RegValue::Raw(t, _) => *t,
        }
    }

    /// The data bytes Windows writes for this value (strings NUL-terminated; a multi-string
    /// list ends with an extra NUL).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            RegValue::None(b) | RegValue::Binary(b) | RegValue::Raw(_, b) => b.clone(),
            RegValue::String(s) | RegValue::ExpandString(s) => utf16z(s),
            RegValue::DWord(n) => n.to_le_bytes().to_vec(),
            RegValue::QWord(n) => n.to_le_bytes().to_vec(),
            RegValue::MultiString(list) => {
                let mut out: Vec<u8> = list.iter().flat_map(|s| utf16z(s)).collect();
                out.extend_from_slice(&[0, 0]);
                out
            }
        }
    }

    /// The value as JSON, as `Get-GPRegistryValue` shows it: strings, numbers, a list of
    /// strings, or a list of bytes.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            RegValue::String(s) | RegValue::ExpandString(s) => serde_json::Value::String(s.clone()),
            RegValue::DWord(n) => serde_json::Value::from(*n),
            RegValue::QWord(n) => serde_json::Value::from(*n),
            RegValue::MultiString(l) => serde_json::Value::from(l.clone()),
            RegValue::None(b) | RegValue::Binary(b) | RegValue::Raw(_, b) => {
                serde_json::Value::from(b.clone())
            }
        }
    }
}

impl fmt::Display for RegValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegValue::String(s) | RegValue::ExpandString(s) => write!(f, "{s:?}"),
            RegValue::DWord(n) => write!(f, "{n}"),
            RegValue::QWord(n) => write!(f, "{n}"),
            RegValue::MultiString(l) => write!(f, "{l:?}"),
            RegValue::None(b) | RegValue::Binary(b) | RegValue::Raw(_, b) => {
                write!(f, "hex:{}", hex::encode(b))
            }
        }
    }
}
