//! Decoded resources: the engine's generic view of one `[kind.name]` table (or one instance of an
//! expanded table), with normalised attributes, references, secrets and its connection.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::address::Address;
use crate::diagnostics::Loc;
use crate::secret::SecretRef;
use crate::spanned::Spanned;

/// Attributes of a resource: a JSON object with sorted keys, normalised by its kind so that equal
/// meaning gives equal values (CIDR to subnet ID, FQDNs lower-cased, unordered lists sorted).
pub type Attributes = Map<String, Value>;

/// A typed reference from one resource to another, e.g. `boundaries = ["hq_lan"]` in a boundary
/// group refers to `boundary.hq_lan`. References become graph edges.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The resource referred to.
    pub target: Address,
    /// Byte range of the reference in the referring resource's file.
    pub span: Range<usize>,
}

/// How a resource reaches the machine that holds it.
#[derive(Debug, Clone)]
pub enum ConnectionRef {
    /// A named `[connection.NAME]` from `cmdeploy.toml`.
    Named(Spanned<String>),
    /// An inline connection table, e.g. `{ host = "kiosk07.contoso.com" }` after templating.
    Inline(Value),
    /// The connection of another resource (a boundary uses its site's connection).
    Inherit(Address),
    /// The resource has no remote side (a file rendered locally).
    Local,
}

/// A connection after resolution: a stable key (the connection name, or `host:<fqdn>` for inline
/// ones) and its settings as a JSON object (secret references unresolved).
///
/// The settings are shared: every resource on a named connection, its state entry and its read
/// request hold the same [`Arc`] (a 100k-resource plan held 300,000 copies of one small table).
/// They serialise as the plain table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    /// Stable key used to batch work per connection.
    pub key: String,
    /// The connection table (transport, host, credentials as secret references...).
    pub spec: Arc<Value>,
}

impl Connection {
    /// A connection of `key` with the settings `spec`.
    pub fn new(key: impl Into<String>, spec: Value) -> Connection {
        Connection {
            key: key.into(),
            spec: Arc::new(spec),
        }
    }

    /// The `host` field of the connection, or its key.
    pub fn host(&self) -> String {
        self.spec
            .get("host")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| self.key.clone())
    }
}

/// Whether a list attribute is owned entirely (`exact`, members not in the manifest are removed)
/// or only for its listed members (`additive`, others are left to console administrators).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ownership {
    /// The list must equal the manifest's list.
    #[default]
    Exact,
    /// The listed members must be present; others are left alone.
    Additive,
}

/// One resource, decoded and normalised.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its address.
    pub address: Address,
    /// Where its table starts (the `[kind.name]` header).
    pub loc: Loc,
    /// Desired attributes, normalised. Shared (the plan's `after` of a resource without secrets
    /// is the same map).
    pub attrs: Arc<Attributes>,
    /// Byte ranges of attributes in the file, for diagnostics about a value.
    /// Shared among resources with equal spans (the instances of one expanded table).
    pub attr_spans: Arc<BTreeMap<String, Range<usize>>>,
    /// Secret attributes (values resolved only when planning and applying).
    pub secrets: BTreeMap<String, Spanned<SecretRef>>,
    /// References to other resources (typed fields and `depends_on`).
    pub references: Vec<Reference>,
    /// Connection used to apply changes.
    pub connection: ConnectionRef,
    /// Connection used to read state, when it differs (clients are read from their site's records).
    pub read_connection: Option<ConnectionRef>,
    /// List attributes under `additive` ownership.
    pub additive: BTreeSet<String>,
    /// Attributes whose change requires replacing the object.
    pub force_new: BTreeSet<String>,
    /// Provider-private data carried with the resource and its state entry, never diffed (e.g.
    /// which site's drive a boundary is managed through). Shared among resources with equal data.
    pub meta: Arc<Attributes>,
    /// Provider-private data kept in memory only: never written to state, plans or output (e.g.
    /// a command line holding a credential, whose masked form is in `meta`).
    /// Shared among resources with equal data.
    pub private: Arc<Attributes>,
    /// The object's natural key in the remote system (a name, a site code, a host name): how an
    /// object created by an interrupted apply is recognised instead of created twice.
    pub natural_key: String,
}

impl Resource {
    /// Location of an attribute (or of the resource when the attribute has no span).
    pub fn attr_loc(&self, attr: &str) -> Loc {
        match self.attr_spans.get(attr) {
            Some(span) => Loc {
                file: self.loc.file.clone(),
                span: span.clone(),
            },
            None => self.loc.clone(),
        }
    }

    /// A string attribute.
    pub fn str_attr(&self, attr: &str) -> Option<&str> {
        self.attrs.get(attr).and_then(Value::as_str)
    }
}

/// All desired resources of a project, by address.
#[derive(Debug, Default, Clone)]
pub struct ResourceSet {
    /// Resources by address, in address order.
    pub by_address: BTreeMap<Address, Arc<Resource>>,
    /// Resolved apply connection of each resource.
    pub connections: BTreeMap<Address, Connection>,
    /// Resolved read connection of each resource.
    pub read_connections: BTreeMap<Address, Connection>,
}

impl ResourceSet {
    /// Resources of one kind, in address order. Addresses order by kind first, so this is one
    /// range of the map: its length, not the project's (kinds look up their site per Script).
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Arc<Resource>> + 'a {
        self.by_address
            .range(Address::new(kind, "")..)
            .take_while(move |(a, _)| a.kind == kind)
            .map(|(_, r)| r)
    }

    /// A resource by address.
    pub fn get(&self, address: &Address) -> Option<&Arc<Resource>> {
        self.by_address.get(address)
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// True when there are no resources.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn resource(kind: &str, name: &str, key: Option<&str>) -> Resource {
        let address = match key {
            Some(k) => Address::instance(kind, name, k),
            None => Address::new(kind, name),
        };
        let file = SourceFile::new(std::path::Path::new("t.toml"), String::new());
        Resource {
            address,
            loc: Loc { file, span: 0..0 },
            attrs: Arc::default(),
            attr_spans: Arc::default(),
            secrets: BTreeMap::new(),
            references: Vec::new(),
            connection: ConnectionRef::Local,
            read_connection: None,
            additive: BTreeSet::new(),
            force_new: BTreeSet::new(),
            meta: Arc::default(),
            private: Arc::default(),
            natural_key: String::new(),
        }
    }

    #[test]
    fn of_kind_is_every_resource_of_that_kind_and_no_other() {
        let mut set = ResourceSet::default();
        for r in [
            resource("account", "a", None),
            resource("boundary", "", None),
            resource("boundary", "b2", None),
            resource("boundary", "b10", None),
            resource("boundary_group", "g", None),
            resource("client_group", "c", Some("h1")),
            resource("client_group", "c", Some("h2")),
            resource("site", "ABC", None),
        ] {
            set.by_address.insert(r.address.clone(), Arc::new(r));
        }
        let names = |kind: &str| -> Vec<String> {
            set.of_kind(kind).map(|r| r.address.to_string()).collect()
        };
        assert_eq!(
            names("boundary"),
            ["boundary.", "boundary.b10", "boundary.b2"]
        );
        assert_eq!(names("boundary_group"), ["boundary_group.g"]);
        assert_eq!(
            names("client_group"),
            ["client_group.c[\"h1\"]", "client_group.c[\"h2\"]"]
        );
        assert_eq!(names("site"), ["site.ABC"]);
        assert!(names("gpo").is_empty());
        assert!(names("bound").is_empty());
    }
}
