//! Resource addresses: `kind.name` and `kind.name["key"]` for instances expanded per host.

use std::fmt;

/// The stable identity of a resource in manifests, plans and state.
///
/// Rendered as `kind.name` (e.g. `boundary_group.hq`) or `kind.name["key"]` for one instance of
/// an expanded resource (e.g. `client_group.kiosks["kiosk07"]`). Ordering is by kind, name, key,
/// which gives plans and state their deterministic order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// Resource kind, e.g. `boundary`.
    pub kind: String,
    /// The TOML table key, e.g. `hq_lan`.
    pub name: String,
    /// Instance key of an expanded resource (a host name), if any.
    pub key: Option<String>,
}

impl Address {
    /// An address without an instance key.
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            kind: kind.into(),
            name: name.into(),
            key: None,
        }
    }

    /// An address of one instance of an expanded resource.
    pub fn instance(
        kind: impl Into<String>,
        name: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Address {
            kind: kind.into(),
            name: name.into(),
            key: Some(key.into()),
        }
    }

    /// The address without its instance key (`client_group.kiosks`).
    pub fn base(&self) -> Address {
        Address::new(self.kind.clone(), self.name.clone())
    }

    /// Parses `kind.name` or `kind.name["key"]`.
    ///
    /// # Errors
    /// Returns a message when the text has no `.`, an empty part, or a malformed `["key"]` suffix.
    pub fn parse(text: &str) -> Result<Address, String> {
        let text = text.trim();
        let (head, key) = match text.find('[') {
            Some(i) => {
                let rest = &text[i..];
                let inner = rest
                    .strip_prefix("[\"")
                    .and_then(|r| r.strip_suffix("\"]"))
                    .ok_or_else(|| {
                        format!("malformed instance key in `{text}`: expected kind.name[\"key\"]")
                    })?;
                (&text[..i], Some(inner.to_string()))
            }
            None => (text, None),
        };
        let (kind, name) = head
            .split_once('.')
            .ok_or_else(|| format!("`{text}` is not an address: expected kind.name"))?;
        if kind.is_empty() || name.is_empty() {
            return Err(format!("`{text}` is not an address: expected kind.name"));
        }
        Ok(Address {
            kind: kind.to_string(),
            name: name.to_string(),
            key,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        if let Some(key) = &self.key {
            write!(f, "[\"{key}\"]")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Address::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_plain_and_instance_addresses() {
        for text in ["boundary.hq", "client_group.kiosks[\"kiosk07\"]"] {
            assert_eq!(Address::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for text in ["boundary", ".x", "a.b[kiosk]", "a.b[\"x\""] {
            assert!(Address::parse(text).is_err(), "{text}");
        }
    }
}
