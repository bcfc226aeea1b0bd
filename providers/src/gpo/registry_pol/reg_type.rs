//! The registry value types a Registry.pol record carries (winnt.h `REG_*`), below the record
//! model and the value codec that both use them.

use std::fmt;

/// The registry value types Registry.pol uses (winnt.h `REG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegType {
    /// `REG_NONE` (0).
    None,
    /// `REG_SZ` (1).
    Sz,
    /// `REG_EXPAND_SZ` (2).
    ExpandSz,
    /// `REG_BINARY` (3).
    Binary,
    /// `REG_DWORD` (4, little-endian).
    DWord,
    /// `REG_DWORD_BIG_ENDIAN` (5).
    DWordBigEndian,
    /// `REG_MULTI_SZ` (7).
    MultiSz,
    /// `REG_QWORD` (11).
    QWord,
    /// Any other number.
    Other(u32),
}

impl RegType {
    /// The type of a raw DWORD.
    pub fn from_u32(n: u32) -> RegType {
        match n {
            0 => RegType::None,
            1 => RegType::Sz,
            2 => RegType::ExpandSz,
            3 => RegType::Binary,
            4 => RegType::DWord,
            5 => RegType::DWordBigEndian,
            7 => RegType::MultiSz,
            11 => RegType::QWord,
            n => RegType::Other(n),
        }
    }

    /// The raw DWORD.
    pub fn as_u32(self) -> u32 {
        match self {
            RegType::None => 0,
            RegType::Sz => 1,
            RegType::ExpandSz => 2,
            RegType::Binary => 3,
            RegType::DWord => 4,
            RegType::DWordBigEndian => 5,
            RegType::MultiSz => 7,
            RegType::QWord => 11,
            RegType::Other(n) => n,
        }
    }

    /// The GroupPolicy module's name (`Set-GPRegistryValue -Type`): `String`, `DWord`, ...
    pub fn gp_name(self) -> &'static str {
        match self {
            RegType::None => "None",
            RegType::Sz => "String",
            RegType::ExpandSz => "ExpandString",
            RegType::Binary => "Binary",
            RegType::DWord | RegType::DWordBigEndian => "DWord",
            RegType::MultiSz => "MultiString",
            RegType::QWord => "QWord",
            RegType::Other(_) => "Unknown",
        }
    }

    /// The type named by `Set-GPRegistryValue -Type` (case-insensitive).
    pub fn from_gp_name(name: &str) -> Option<RegType> {
        [
            RegType::Sz,
            RegType::ExpandSz,
            RegType::Binary,
            RegType::DWord,
            RegType::MultiSz,
            RegType::QWord,
        ]
        .into_iter()
        .find(|t| t.gp_name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for RegType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegType::None => f.write_str("REG_NONE"),
            RegType::Sz => f.write_str("REG_SZ"),
            RegType::ExpandSz => f.write_str("REG_EXPAND_SZ"),
            RegType::Binary => f.write_str("REG_BINARY"),
            RegType::DWord => f.write_str("REG_DWORD"),
            RegType::DWordBigEndian => f.write_str("REG_DWORD_BIG_ENDIAN"),
            RegType::MultiSz => f.write_str("REG_MULTI_SZ"),
            RegType::QWord => f.write_str("REG_QWORD"),
            RegType::Other(n) => write!(f, "REG_{n}"),
        }
    }
}
