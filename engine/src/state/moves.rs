//! Renaming addresses in state: `cmdeploy state mv FROM TO` and the manifests' `[[moved]]`
//! tables (Terraform's `moved` blocks). A move changes the address an object is known by, never
//! the object: the entry keeps its id, attributes and fingerprints, so the next plan reads and
//! diffs it at its new address instead of destroying and creating it again.
//!
//! A move of a resource without an instance key moves each of its instances too
//! (`client_group.kiosks` to `client_group.shops` moves `client_group.kiosks["k01"]` to
//! `client_group.shops["k01"]`). Other entries' `depends_on` follow the move.

use crate::address::Address;

use super::{JournalRecord, State};

/// One address moved in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The old address.
    pub from: String,
    /// The new address.
    pub to: String,
}

/// Why a move cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    /// Nothing in state is known by the old address.
    #[error("{0} is not in state")]
    NotInState(String),
    /// The new address is taken: moving would lose one of the two objects.
    #[error("{0} is in state already: moving onto it would lose one of the two objects")]
    TargetExists(String),
    /// The kinds differ: an object of one kind cannot become another.
    #[error("{from} is a `{from_kind}`, {to} would be a `{to_kind}`: a move keeps the kind")]
    KindDiffers {
        /// The old address.
        from: String,
        /// Its kind.
        from_kind: String,
        /// The new address.
        to: String,
        /// The kind the new address names.
        to_kind: String,
    },
    /// One address has an instance key and the other has none.
    #[error("{from} and {to} must both name a resource, or both one instance of it")]
    Shape {
        /// The old address.
        from: String,
        /// The new address.
        to: String,
    },
}

/// The moves that renaming `from` to `to` makes in `state` (one per instance for a resource
/// without a key), checked but not made.
///
/// # Errors
/// [`MoveError`] when nothing is at `from`, something is at `to`, or the kinds differ.
pub fn plan_move(state: &State, from: &Address, to: &Address) -> Result<Vec<Moved>, MoveError> {
    if from.key.is_some() != to.key.is_some() {
        return Err(MoveError::Shape {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let mut moves = Vec::new();
    for (address, entry) in &state.resources {
        let Ok(parsed) = Address::parse(address) else {
            continue;
        };
        let target = if &parsed == from {
            to.clone()
        } else if from.key.is_none() && parsed.base() == *from {
            Address {
                key: parsed.key.clone(),
                ..to.clone()
            }
        } else {
            continue;
        };
        if entry.kind != to.kind {
            return Err(MoveError::KindDiffers {
                from: address.clone(),
                from_kind: entry.kind.clone(),
                to: target.to_string(),
                to_kind: to.kind.clone(),
            });
        }
        moves.push(Moved {
            from: address.clone(),
            to: target.to_string(),
        });
    }
    if moves.is_empty() {
        return Err(MoveError::NotInState(from.to_string()));
    }
    for m in &moves {
        let taken = state.resources.contains_key(&m.to)
            || (to.key.is_none()
                && state
                    .resources
                    .keys()
                    .any(|a| Address::parse(a).is_ok_and(|p| p.base() == *to && p.key.is_some())));
        if taken {
            return Err(MoveError::TargetExists(m.to.clone()));
        }
    }
    Ok(moves)
}

/// Makes `moves` in `state` (as [`plan_move`] returned them), with the journal records that
/// persist them: one per moved entry (removed at the old address, added at the new one) and one
/// per entry whose `depends_on` followed, each with the next serial.
pub fn apply_moves(state: &mut State, moves: &[Moved]) -> Vec<JournalRecord> {
    state.ensure_lineage();
    let mut touched: Vec<String> = Vec::new();
    for m in moves {
        if let Some(entry) = state.resources.remove(&m.from) {
            state.resources.insert(m.to.clone(), entry);
            touched.push(m.from.clone());
            touched.push(m.to.clone());
        }
    }
    for (address, entry) in state.resources.iter_mut() {
        let mut changed = false;
        for dep in entry.depends_on.iter_mut() {
            if let Some(m) = moves.iter().find(|m| &m.from == dep) {
                // Kinds keep a reference in their attributes as the referenced table's key
                // (a group's `boundaries = ["hq_lan"]`): it follows too, or drift would compare
                // the old name, as last applied, with the new one read back.
                if let (Ok(old), Ok(new)) = (Address::parse(&m.from), Address::parse(&m.to)) {
                    for value in std::sync::Arc::make_mut(&mut entry.attributes).values_mut() {
                        rename_value(value, &old.name, &new.name);
                    }
                }
                dep.clone_from(&m.to);
                changed = true;
            }
        }
        if changed && !touched.contains(address) {
            touched.push(address.clone());
        }
    }
    touched
        .into_iter()
        .map(|address| {
            state.serial += 1;
            JournalRecord::of(state, &address)
        })
        .collect()
}

/// Replaces every string `old` (a whole value or a list item, at any depth) by `new`. A list
/// that was sorted stays sorted: kinds sort the lists whose order the remote side does not keep (a
/// group's members), and read them back sorted.
fn rename_value(value: &mut serde_json::Value, old: &str, new: &str) {
    match value {
        serde_json::Value::String(s) if s == old => *s = new.to_string(),
        serde_json::Value::Array(items) => {
            let key = |v: &serde_json::Value| v.as_str().map(str::to_string);
            let sorted = items.windows(2).all(|w| key(&w[0]) <= key(&w[1]));
            items.iter_mut().for_each(|i| rename_value(i, old, new));
            if sorted {
                items.sort_by_key(key);
            }
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| rename_value(v, old, new)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Connection;
    use crate::state::StateEntry;

    fn entry(kind: &str, depends_on: &[&str]) -> StateEntry {
        let connection = Connection::new("cm01", serde_json::json!({}));
        StateEntry {
            kind: kind.into(),
            id: "1".into(),
            attributes: Default::default(),
            secret_fingerprints: Default::default(),
            depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
            natural_key: String::new(),
            meta: serde_json::Map::new(),
            connection: connection.clone(),
            read_connection: connection,
            updated_at: String::new(),
        }
    }

    fn state() -> State {
        let mut s = State::default();
        s.resources
            .insert("boundary.a".into(), entry("boundary", &[]));
        let mut group = entry("boundary_group", &["boundary.a"]);
        std::sync::Arc::make_mut(&mut group.attributes)
            .insert("boundaries".into(), serde_json::json!(["a", "c"]));
        s.resources.insert("boundary_group.g".into(), group);
        s.resources
            .insert("client_group.k[\"h1\"]".into(), entry("client_group", &[]));
        s.resources
            .insert("client_group.k[\"h2\"]".into(), entry("client_group", &[]));
        s
    }

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn a_move_keeps_the_entry_and_dependents_follow() {
        let mut s = state();
        let moves = plan_move(&s, &addr("boundary.a"), &addr("boundary.b")).unwrap();
        let records = apply_moves(&mut s, &moves);
        assert!(!s.resources.contains_key("boundary.a"));
        assert_eq!(s.resources["boundary.b"].id, "1");
        assert_eq!(
            s.resources["boundary_group.g"].depends_on,
            vec!["boundary.b"]
        );
        assert_eq!(
            s.resources["boundary_group.g"].attributes["boundaries"],
            serde_json::json!(["b", "c"])
        );
        // Removed, added, and the dependent: replayed over the old state, they give the new.
        assert_eq!(records.len(), 3);
        let mut replayed = state();
        replayed.lineage.clone_from(&s.lineage);
        for r in records {
            replayed.replay(r);
        }
        assert_eq!(replayed, s);
    }

    #[test]
    fn a_sorted_list_stays_sorted_and_another_keeps_its_order() {
        let mut sorted = serde_json::json!(["a", "m"]);
        rename_value(&mut sorted, "a", "z");
        assert_eq!(sorted, serde_json::json!(["m", "z"]));
        let mut ordered = serde_json::json!(["m", "a"]);
        rename_value(&mut ordered, "a", "z");
        assert_eq!(ordered, serde_json::json!(["m", "z"]));
        let mut ordered = serde_json::json!(["x", "a"]);
        rename_value(&mut ordered, "a", "b");
        assert_eq!(ordered, serde_json::json!(["x", "b"]));
    }

    #[test]
    fn a_resource_move_moves_every_instance() {
        let mut s = state();
        let moves = plan_move(&s, &addr("client_group.k"), &addr("client_group.shops")).unwrap();
        apply_moves(&mut s, &moves);
        assert!(s.resources.contains_key("client_group.shops[\"h1\"]"));
        assert!(s.resources.contains_key("client_group.shops[\"h2\"]"));
    }

    #[test]
    fn refuses_taken_targets_other_kinds_and_missing_sources() {
        let s = state();
        assert_eq!(
            plan_move(&s, &addr("boundary.a"), &addr("boundary_group.g")),
            Err(MoveError::KindDiffers {
                from: "boundary.a".into(),
                from_kind: "boundary".into(),
                to: "boundary_group.g".into(),
                to_kind: "boundary_group".into()
            })
        );
        let mut s2 = state();
        s2.resources
            .insert("boundary.b".into(), entry("boundary", &[]));
        assert_eq!(
            plan_move(&s2, &addr("boundary.a"), &addr("boundary.b")),
            Err(MoveError::TargetExists("boundary.b".into()))
        );
        assert_eq!(
            plan_move(&s, &addr("boundary.zz"), &addr("boundary.b")),
            Err(MoveError::NotInState("boundary.zz".into()))
        );
    }
}
