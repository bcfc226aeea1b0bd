//! Adoption of objects that exist but are not managed yet (`cmdeploy import`).
//!
//! A kind that can be imported lists every object a connection holds as an [`Imported`]: the
//! resource table it would be written as, its natural key and remote id, and which fields refer
//! to other objects (by *their* natural keys). [`select`] then keeps only what is unmanaged (not
//! declared in the manifests, not bound in state), gives each object a stable, unique table key,
//! and rewrites references into table keys, so the written manifest has the right graph.
//! [`problems`] decodes each chosen table as `validate` would, and [`render`] writes the selection
//! as commented TOML, tables that would not validate commented out with their problems.
//!
//! Binding the objects in state is not done here: the caller reloads the project with the new
//! file, refreshes the imported addresses and adopts them with [`crate::apply::adopt`], which
//! records only resources whose plan is a no-op.

mod check;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::address::Address;
use crate::resource::ResourceSet;
use crate::state::State;

pub use check::problems;
pub use render::{render, RenderInput};

/// One object a kind found on a connection, in manifest form.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The kind (`boundary`).
    pub kind: String,
    /// Suggested table key, e.g. `subnet_10_1_0_0`; [`select`] makes it a valid, unique key.
    pub key_hint: String,
    /// Remote identifier (a numeric ID, a GUID, a user name), as refresh reports it.
    pub id: String,
    /// Natural key, exactly as the kind's decode computes it for the written table.
    pub natural_key: String,
    /// Where the object came from, for the comment above its table (its remote class and ID).
    pub origin: String,
    /// The resource table to write, fields in the order written (nulls are left out, objects
    /// become sub-tables).
    pub table: Vec<(String, Value)>,
    /// Fields of `table` whose string (or list of strings) values are natural keys of other
    /// objects; [`select`] rewrites them into table keys.
    pub references: Vec<ImportRef>,
    /// Extra comment lines written above the table (e.g. why a password is left out).
    pub notes: Vec<String>,
}

/// A field of an imported table that refers to objects of another kind by natural key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRef {
    /// Field name in the table (`boundaries`, `site`).
    pub field: String,
    /// Kind of the referred objects (`boundary`).
    pub kind: String,
}

/// An object chosen for import, with its final address and resolved references.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The address it is written under.
    pub address: Address,
    /// The object, its reference fields rewritten into table keys.
    pub object: Imported,
    /// Set when the object was imported only because a selected object refers to it.
    pub required_by: Option<Address>,
    /// Why its table would not validate (see [`problems`]); when not empty the table is written
    /// commented out, with these reasons, and the object is not bound in state.
    pub problems: Vec<String>,
}

/// Why nothing can be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// A selected object refers to an object that is neither managed nor importable.
    #[error("{from} refers to {kind} `{natural_key}`, which is neither declared in the manifests nor found on the connection")]
    Unresolved {
        /// The referring object.
        from: Address,
        /// Kind referred to.
        kind: String,
        /// Natural key referred to.
        natural_key: String,
    },
}

/// Chooses what to import: the unmanaged objects of `listed` (the kinds asked for), plus the
/// unmanaged objects of `extra` (other kinds listed on the same connection) that they refer to.
/// Output is sorted by address; keys are derived from the hints and de-duplicated with `_2`,
/// `_3`... in natural-key order, so the same estate always gives the same file.
///
/// # Errors
/// [`SelectError::Unresolved`] for a reference to an object that is nowhere to be found.
pub fn select(
    listed: Vec<Imported>,
    extra: Vec<Imported>,
    resources: &ResourceSet,
    state: &State,
) -> Result<Vec<Selected>, SelectError> {
    let managed = Managed::new(resources, state);
    let mut chosen: Vec<(Imported, Option<usize>)> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for o in sorted(listed) {
        if !managed.contains(&o) && seen.insert((o.kind.clone(), o.natural_key.clone())) {
            chosen.push((o, None));
        }
    }
    // Pull in what the chosen objects refer to and nobody manages, and what that refers to.
    let extra: Vec<Imported> = sorted(extra)
        .into_iter()
        .filter(|o| !managed.contains(o))
        .collect();
    let mut i = 0;
    while i < chosen.len() {
        let wanted: Vec<(String, String)> = references_of(&chosen[i].0).collect();
        for (kind, natural) in wanted {
            if managed.key_of(&kind, &natural).is_some()
                || seen.contains(&(kind.clone(), natural.clone()))
            {
                continue;
            }
            if let Some(o) = extra
                .iter()
                .find(|o| o.kind == kind && o.natural_key == natural)
            {
                seen.insert((kind, natural));
                chosen.push((o.clone(), Some(i)));
            }
        }
        i += 1;
    }
    // Keys: unique against the manifests, the state and each other.
    let mut taken: BTreeSet<Address> = managed.addresses.clone();
    let mut order: Vec<usize> = (0..chosen.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&chosen[a].0, &chosen[b].0);
        (&x.kind, table_key(&x.key_hint), &x.natural_key).cmp(&(
            &y.kind,
            table_key(&y.key_hint),
            &y.natural_key,
        ))
    });
    let mut addresses: Vec<Option<Address>> = vec![None; chosen.len()];
    for i in order {
        let o = &chosen[i].0;
        let base = table_key(&o.key_hint);
        let mut n = 1;
        let address = loop {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}_{n}")
            };
            let a = Address::new(o.kind.clone(), name);
            if !taken.contains(&a) {
                break a;
            }
            n += 1;
        };
        taken.insert(address.clone());
        addresses[i] = Some(address);
    }
    let keys: BTreeMap<(String, String), String> = chosen
        .iter()
        .zip(&addresses)
        .filter_map(|((o, _), a)| {
            Some((
                (o.kind.clone(), o.natural_key.clone()),
                a.as_ref()?.name.clone(),
            ))
        })
        .collect();
    let mut out = Vec::new();
    for (idx, (mut object, by)) in chosen.iter().cloned().enumerate() {
        let address = addresses[idx]
            .clone()
            .unwrap_or_else(|| Address::new(object.kind.clone(), object.key_hint.clone()));
        for r in object.references.clone() {
            let Some((_, v)) = object.table.iter_mut().find(|(f, _)| *f == r.field) else {
                continue;
            };
            let resolve = |natural: &str| -> Result<String, SelectError> {
                managed
                    .key_of(&r.kind, natural)
                    .or_else(|| keys.get(&(r.kind.clone(), natural.to_string())).cloned())
                    .ok_or_else(|| SelectError::Unresolved {
                        from: address.clone(),
                        kind: r.kind.clone(),
                        natural_key: natural.to_string(),
                    })
            };
            match v {
                Value::String(s) => *s = resolve(s)?,
                Value::Array(items) => {
                    for item in items.iter_mut() {
                        if let Value::String(s) = item {
                            *s = resolve(s)?;
                        }
                    }
                }
                _ => {}
            }
        }
        let required_by = by.and_then(|j| addresses[j].clone());
        out.push(Selected {
            address,
            object,
            required_by,
            problems: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(out)
}

/// A valid TOML bare key from a hint: ASCII letters, digits, `_` and `-`; anything else becomes
/// `_`, runs of `_` collapse, and an empty result becomes `imported`.
pub fn table_key(hint: &str) -> String {
    let mut out = String::new();
    for c in hint.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "imported".into()
    } else {
        out
    }
}

fn sorted(mut v: Vec<Imported>) -> Vec<Imported> {
    v.sort_by(|a, b| (&a.kind, &a.natural_key).cmp(&(&b.kind, &b.natural_key)));
    v
}

fn references_of(o: &Imported) -> impl Iterator<Item = (String, String)> + '_ {
    o.references.iter().flat_map(move |r| {
        let values: Vec<String> = match o.table.iter().find(|(f, _)| *f == r.field).map(|(_, v)| v)
        {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        values.into_iter().map(move |v| (r.kind.clone(), v))
    })
}

/// What is already managed: declared resources and state entries, by kind and natural key.
struct Managed {
    /// (kind, natural key) → table key.
    keys: BTreeMap<(String, String), String>,
    /// (kind, remote id) of state entries.
    ids: BTreeSet<(String, String)>,
    /// Every address in the manifests or state.
    addresses: BTreeSet<Address>,
}

impl Managed {
    fn new(resources: &ResourceSet, state: &State) -> Managed {
        let mut m = Managed {
            keys: BTreeMap::new(),
            ids: BTreeSet::new(),
            addresses: BTreeSet::new(),
        };
        for (a, r) in &resources.by_address {
            m.keys
                .entry((a.kind.clone(), r.natural_key.clone()))
                .or_insert_with(|| a.name.clone());
            m.addresses.insert(a.base());
        }
        for (text, e) in &state.resources {
            let Ok(a) = Address::parse(text) else {
                continue;
            };
            m.keys
                .entry((e.kind.clone(), e.natural_key.clone()))
                .or_insert_with(|| a.name.clone());
            m.ids.insert((e.kind.clone(), e.id.clone()));
            m.addresses.insert(a.base());
        }
        m
    }

    fn contains(&self, o: &Imported) -> bool {
        self.key_of(&o.kind, &o.natural_key).is_some()
            || (!o.id.is_empty() && self.ids.contains(&(o.kind.clone(), o.id.clone())))
    }

    fn key_of(&self, kind: &str, natural: &str) -> Option<String> {
        self.keys
            .get(&(kind.to_string(), natural.to_string()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, hint: &str, natural: &str, table: Value) -> Imported {
        Imported {
            kind: kind.into(),
            key_hint: hint.into(),
            id: format!("id-{natural}"),
            natural_key: natural.into(),
            origin: "test".into(),
            table: table
                .as_object()
                .map(|m| m.clone().into_iter().collect())
                .unwrap_or_default(),
            references: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn keys_are_slugged_and_collisions_numbered_in_natural_key_order() {
        let listed = vec![
            obj("boundary_group", "HQ Clients!", "b", json!({})),
            obj("boundary_group", "hq clients", "a", json!({})),
        ];
        let s = select(
            listed,
            Vec::new(),
            &ResourceSet::default(),
            &State::default(),
        )
        .unwrap();
        let names: Vec<String> = s.iter().map(|x| x.address.to_string()).collect();
        assert_eq!(
            names,
            ["boundary_group.HQ_Clients", "boundary_group.hq_clients"]
        );
        assert_eq!(table_key("10.1.0.0/16"), "10_1_0_0_16");
        assert_eq!(table_key("///"), "imported");
    }

    #[test]
    fn references_become_keys_and_pull_in_what_they_need() {
        let mut g = obj(
            "boundary_group",
            "g",
            "g",
            json!({"boundaries": ["ip:1", "ip:2"]}),
        );
        g.references.push(ImportRef {
            field: "boundaries".into(),
            kind: "boundary".into(),
        });
        let extra = vec![
            obj("boundary", "one", "ip:1", json!({})),
            obj("boundary", "two", "ip:2", json!({})),
            obj("boundary", "unused", "ip:3", json!({})),
        ];
        let s = select(vec![g], extra, &ResourceSet::default(), &State::default()).unwrap();
        let names: Vec<String> = s.iter().map(|x| x.address.to_string()).collect();
        assert_eq!(names, ["boundary.one", "boundary.two", "boundary_group.g"]);
        assert_eq!(s[2].object.table[0].1, json!(["one", "two"]));
        assert_eq!(s[0].required_by, Some(Address::new("boundary_group", "g")));
    }

    #[test]
    fn an_unknown_reference_is_an_error() {
        let mut g = obj("boundary_group", "g", "g", json!({"boundaries": ["ip:9"]}));
        g.references.push(ImportRef {
            field: "boundaries".into(),
            kind: "boundary".into(),
        });
        let e = select(
            vec![g],
            Vec::new(),
            &ResourceSet::default(),
            &State::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("boundary `ip:9`"), "{e}");
    }
}
