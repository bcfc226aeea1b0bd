//! Static table of every CCMSetup `/` parameter and client.msi property.
//!
//! Source: `configmgr.md` §1.2 and §1.3 (memdocs `about-client-installation-properties.md`,
//! 2022+ revision; SCCMdocs 2017 revision for removed items), plus a few names seen in real
//! command lines and logs (marked [`Status::Undocumented`] or [`Status::Legacy`]).

/// Parameter (`/name:value`) or property (`NAME=value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ccmsetup `/` parameter.
    Parameter,
    /// client.msi property.
    Property,
}

/// The value a name takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A switch: no value (`/logon`).
    None,
    /// Free, non-empty text (path, FQDN, GUID, ...).
    Text,
    /// Non-empty `;`-separated list (`/mp`, `/skipprereq`, `CCMADMINS`).
    List,
    /// One of these words, case-insensitive (`/BITSPriority`, `CCMENABLELOGGING`).
    Enum(&'static [&'static str]),
    /// `;`-list whose items are each one of these words (`SMSCACHEFLAGS`).
    EnumList(&'static [&'static str]),
    /// Integer in `min..=max` (`max` `None` = unbounded).
    Int {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: Option<u64>,
    },
    /// Must be `1` (`CCMALWAYSINF`, `CCMFIRSTCERT`, `MANAGEDINSTALLER`); `0` has no effect.
    One,
    /// Must be `TRUE` (`DISABLESITEOPT`, `RESETKEYINFORMATION`, ...); `FALSE` has no effect.
    True,
    /// A flag that may be given bare, or as `1`/`TRUE` (`CCMALLOWSILENTREBOOT`).
    Flag,
}

/// Documentation status of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// In the current docs.
    Documented,
    /// Seen in real use but not documented (warning); the text says where.
    Undocumented(&'static str),
    /// From an older product version, ignored by current clients (warning).
    Legacy(&'static str),
    /// Removed from the docs (error); the text says why.
    Obsolete(&'static str),
}

/// Whether a parameter may appear in client push installation properties (§1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// In the documented push subset (all properties are).
    Allowed,
    /// Not allowed in push.
    NotAllowed,
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Canonical name: documented casing for parameters (no `/`), upper case for properties.
    pub name: &'static str,
    /// Parameter or property.
    pub kind: Kind,
    /// Value form.
    pub value: ValueKind,
    /// Push subset membership.
    pub push: Push,
    /// Documentation status.
    pub status: Status,
    /// May be given more than once (`/source`).
    pub repeatable: bool,
    /// One-line meaning and source.
    pub doc: &'static str,
}

/// `SMSCACHEFLAGS` items (§1.3).
pub const CACHE_FLAGS: &[&str] = &[
    "PERCENTDISKSPACE",
    "PERCENTFREEDISKSPACE",
    "MAXDRIVE",
    "MAXDRIVESPACE",
    "NTFSONLY",
    "COMPRESS",
    "FAILIFNOSPACE",
];

mod table;

pub use table::{PARAMETERS, PROPERTIES};

/// Look up a parameter by name (case-insensitive, without `/`).
pub fn parameter(name: &str) -> Option<&'static Spec> {
    PARAMETERS
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Look up a property by name (case-insensitive).
pub fn property(name: &str) -> Option<&'static Spec> {
    PROPERTIES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Closest documented name of `kind` to `name`, for did-you-mean help.
///
/// Tries the `SMS`/`CCM` prefixes first (`MP` → `SMSMP`), then the smallest
/// Damerau–Levenshtein distance (at most a third of the length, minimum 1).
pub fn suggest(kind: Kind, name: &str) -> Option<&'static str> {
    let table = match kind {
        Kind::Parameter => PARAMETERS,
        Kind::Property => PROPERTIES,
    };
    let upper = name.to_ascii_uppercase();
    let documented = || table.iter().filter(|s| s.status == Status::Documented);
    if kind == Kind::Property {
        for prefix in ["SMS", "CCM"] {
            let candidate = format!("{prefix}{upper}");
            if let Some(s) = documented().find(|s| s.name == candidate) {
                return Some(s.name);
            }
        }
    }
    let limit = (upper.chars().count() / 3).max(1);
    documented()
        .map(|s| {
            (
                strsim::damerau_levenshtein(&s.name.to_ascii_uppercase(), &upper),
                s.name,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}
