//! The lab's GPOs: their Registry.pol files as a domain controller's SYSVOL holds them, the seed's
//! registry settings, and their links (configmgr.md §3.5). Part of the estate model
//! ([`super::model`]).

use serde::{Deserialize, Serialize};

/// A GPO.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gpo {
    /// GUID.
    #[serde(default)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Domain.
    pub domain: String,
    /// Seed-only registry settings (`[[gpo.value]]` in lab.toml), moved into the Registry.pol
    /// files below when the seed is prepared.
    #[serde(default, rename = "value", skip_serializing)]
    pub values: Vec<RegistrySetting>,
    /// `Machine\Registry.pol` (HKLM settings) as a domain controller's SYSVOL would hold it
    /// (configmgr.md §3.5); base64 in estate.json, empty when the GPO has no such file yet.
    #[serde(default, with = "pol_base64")]
    pub machine_registry_pol: Vec<u8>,
    /// `User\Registry.pol` (HKCU settings); base64 in estate.json.
    #[serde(default, with = "pol_base64")]
    pub user_registry_pol: Vec<u8>,
    /// Links to OUs.
    #[serde(default, rename = "link")]
    pub links: Vec<GpoLink>,
}

/// Registry.pol bytes as base64 text in the estate JSON.
mod pol_base64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(serde::de::Error::custom)
    }
}

/// One registry policy setting of a GPO, as the lab seed (`[[gpo.value]]`) writes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegistrySetting {
    /// `HKLM\Software\...`.
    pub key: String,
    /// Value name.
    pub value_name: String,
    /// `String`, `DWord`, ...
    #[serde(rename = "type")]
    pub value_type: String,
    /// Value (string or number).
    pub value: serde_json::Value,
    /// `Set` or `Delete` (a `-Disable`d setting).
    #[serde(default = "set_state")]
    pub state: String,
}

fn set_state() -> String {
    "Set".into()
}

/// A GPO link.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GpoLink {
    /// Target DN.
    pub target: String,
    /// Link enabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Enforced.
    #[serde(default)]
    pub enforced: bool,
}

fn yes() -> bool {
    true
}
