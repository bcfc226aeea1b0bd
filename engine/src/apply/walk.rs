//! The failure-aware walk of planned changes: which change waits for which, the graph levels they
//! fall into (a change's level is one more than the deepest change it waits for), and which
//! changes a failure blocks.

use std::collections::{BTreeMap, BTreeSet};

use crate::address::Address;
use crate::plan::Action;
use crate::resource::ResourceSet;
use crate::state::State;

/// For each change, the changes it must wait for: a create or update waits for the changes of
/// what it references (unless they are deletes); a delete waits for the changes of whatever
/// depended on it in state (they drop their reference or go first).
pub fn dependencies(
    changes: &BTreeMap<Address, Action>,
    resources: &ResourceSet,
    state: &State,
) -> BTreeMap<Address, BTreeSet<Address>> {
    let mut deps: BTreeMap<Address, BTreeSet<Address>> = changes
        .keys()
        .map(|a| (a.clone(), BTreeSet::new()))
        .collect();
    // Dependents in state, indexed once: scanning the whole state per delete was quadratic.
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    if changes
        .values()
        .any(|a| matches!(a, Action::Delete | Action::Forget))
    {
        for (text, entry) in &state.resources {
            for d in &entry.depends_on {
                dependents
                    .entry(d.as_str())
                    .or_default()
                    .push(text.as_str());
            }
        }
    }
    for (a, action) in changes {
        let waits = deps.get_mut(a).expect("every change has an entry");
        match action {
            Action::Delete | Action::Forget => {
                let text = a.to_string();
                for other in dependents.get(text.as_str()).into_iter().flatten() {
                    if let Ok(other) = Address::parse(other) {
                        if changes.contains_key(&other) {
                            waits.insert(other);
                        }
                    }
                }
            }
            _ => {
                if let Some(r) = resources.get(a) {
                    for reference in &r.references {
                        if changes
                            .get(&reference.target)
                            .is_some_and(|t| *t != Action::Delete)
                        {
                            waits.insert(reference.target.clone());
                        }
                    }
                }
            }
        }
    }
    deps
}

/// The changes grouped by graph level, in order: level 0 waits for nothing, level n for changes of
/// levels below n only. Changes caught in a cycle (which validation refuses, so this only guards
/// against a state that disagrees with the manifests) come last, together.
pub fn levels(deps: &BTreeMap<Address, BTreeSet<Address>>) -> Vec<Vec<Address>> {
    let mut level: BTreeMap<&Address, usize> = BTreeMap::new();
    let mut waiting: BTreeMap<&Address, usize> = deps
        .iter()
        .map(|(a, ds)| (a, ds.iter().filter(|d| deps.contains_key(*d)).count()))
        .collect();
    let mut dependents: BTreeMap<&Address, Vec<&Address>> = BTreeMap::new();
    for (a, ds) in deps {
        for d in ds.iter().filter(|d| deps.contains_key(*d)) {
            dependents.entry(d).or_default().push(a);
        }
    }
    let mut ready: Vec<&Address> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| *a)
        .collect();
    for a in &ready {
        level.insert(a, 0);
    }
    while let Some(a) = ready.pop() {
        let l = level[a];
        for d in dependents.get(a).into_iter().flatten() {
            let entry = level.entry(d).or_insert(0);
            *entry = (*entry).max(l + 1);
            let n = waiting.get_mut(d).expect("every change is counted");
            *n -= 1;
            if *n == 0 {
                ready.push(d);
            }
        }
    }
    let depth = level.values().copied().max().map_or(0, |m| m + 1);
    let mut out: Vec<Vec<Address>> = vec![Vec::new(); depth];
    let mut cyclic = Vec::new();
    for a in deps.keys() {
        match (level.get(a), waiting.get(a)) {
            (Some(l), Some(0)) => out[*l].push(a.clone()),
            _ => cyclic.push(a.clone()),
        }
    }
    if !cyclic.is_empty() {
        out.push(cyclic);
    }
    out
}

/// The failed change that blocks `a`, if one of the changes it waits for failed or was itself
/// blocked (`failed` maps each to its root failure).
pub fn blocked_by<'a>(
    a: &Address,
    deps: &BTreeMap<Address, BTreeSet<Address>>,
    failed: &'a BTreeMap<Address, Address>,
) -> Option<&'a Address> {
    deps.get(a)?.iter().find_map(|d| failed.get(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: &str) -> Address {
        Address::new("k", name)
    }

    fn deps(edges: &[(&str, &[&str])]) -> BTreeMap<Address, BTreeSet<Address>> {
        edges
            .iter()
            .map(|(n, ds)| (a(n), ds.iter().map(|d| a(d)).collect()))
            .collect()
    }

    #[test]
    fn levels_follow_the_longest_chain() {
        let d = deps(&[
            ("site", &[]),
            ("b1", &["site"]),
            ("b2", &["site"]),
            ("g", &["b1", "b2", "site"]),
            ("lone", &[]),
        ]);
        let l = levels(&d);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0], vec![a("lone"), a("site")]);
        assert_eq!(l[1], vec![a("b1"), a("b2")]);
        assert_eq!(l[2], vec![a("g")]);
    }

    #[test]
    fn a_cycle_comes_last_and_nothing_is_lost() {
        let d = deps(&[("x", &["y"]), ("y", &["x"]), ("z", &[])]);
        let l = levels(&d);
        assert_eq!(l, vec![vec![a("z")], vec![a("x"), a("y")]]);
    }

    #[test]
    fn a_failure_blocks_its_dependents_through_their_root() {
        let d = deps(&[("b", &["a"]), ("c", &["b"])]);
        let mut failed = BTreeMap::new();
        failed.insert(a("a"), a("a"));
        assert_eq!(blocked_by(&a("b"), &d, &failed), Some(&a("a")));
        failed.insert(a("b"), a("a"));
        assert_eq!(blocked_by(&a("c"), &d, &failed), Some(&a("a")));
        assert_eq!(blocked_by(&a("a"), &d, &failed), None);
    }
}
