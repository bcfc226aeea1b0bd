//! The resource dependency graph (petgraph). Knows addresses and edges, nothing about resources'
//! meaning. An edge points from a dependency to its dependent: dependencies are applied first.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::address::Address;
use crate::resource::ResourceSet;

/// A directed graph of addresses.
#[derive(Debug, Clone, Default)]
pub struct ResourceGraph {
    graph: DiGraph<Address, ()>,
    index: BTreeMap<Address, NodeIndex>,
    /// Edges already added: petgraph's `update_edge` scans a node's edges, which made building
    /// quadratic when 100k resources reference one site.
    edges: std::collections::HashSet<(NodeIndex, NodeIndex)>,
}

impl ResourceGraph {
    /// Builds the graph of a resource set from its references (unknown targets are skipped; they
    /// are reported by validation).
    pub fn build(set: &ResourceSet) -> ResourceGraph {
        let mut g = ResourceGraph::default();
        for address in set.by_address.keys() {
            let i = g.graph.add_node(address.clone());
            g.index.insert(address.clone(), i);
        }
        // One lookup per reference (its target's node); a target not in the set has none.
        for (t, r) in set.by_address.values().enumerate() {
            let t = NodeIndex::new(t);
            for reference in &r.references {
                if let Some(&f) = g.index.get(&reference.target) {
                    if g.edges.insert((f, t)) {
                        g.graph.add_edge(f, t, ());
                    }
                }
            }
        }
        g
    }

    /// Builds a graph from explicit dependency lists (`address → its dependencies`).
    pub fn from_dependencies(deps: &BTreeMap<Address, BTreeSet<Address>>) -> ResourceGraph {
        let mut g = ResourceGraph::default();
        for a in deps.keys() {
            g.add_node(a.clone());
        }
        for (a, ds) in deps {
            for d in ds {
                if g.index.contains_key(d) {
                    g.add_edge(d, a);
                }
            }
        }
        g
    }

    fn add_node(&mut self, a: Address) {
        if !self.index.contains_key(&a) {
            let i = self.graph.add_node(a.clone());
            self.index.insert(a, i);
        }
    }

    fn add_edge(&mut self, from: &Address, to: &Address) {
        if let (Some(&f), Some(&t)) = (self.index.get(from), self.index.get(to)) {
            if self.edges.insert((f, t)) {
                self.graph.add_edge(f, t, ());
            }
        }
    }

    /// Direct dependencies of `a`.
    pub fn dependencies(&self, a: &Address) -> BTreeSet<Address> {
        self.neighbors(a, petgraph::Direction::Incoming)
    }

    /// Direct dependents of `a`.
    pub fn dependents(&self, a: &Address) -> BTreeSet<Address> {
        self.neighbors(a, petgraph::Direction::Outgoing)
    }

    fn neighbors(&self, a: &Address, dir: petgraph::Direction) -> BTreeSet<Address> {
        self.index
            .get(a)
            .map(|&i| {
                self.graph
                    .neighbors_directed(i, dir)
                    .map(|n| self.graph[n].clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// All transitive dependents of `a` (what must be skipped when `a` fails).
    pub fn transitive_dependents(&self, a: &Address) -> BTreeSet<Address> {
        let mut out = BTreeSet::new();
        let mut stack = vec![a.clone()];
        while let Some(x) = stack.pop() {
            for d in self.dependents(&x) {
                if out.insert(d.clone()) {
                    stack.push(d);
                }
            }
        }
        out
    }

    /// Checks that the graph has no cycle.
    ///
    /// # Errors
    /// The addresses of one cycle, in order.
    pub fn check_acyclic(&self) -> Result<(), Vec<Address>> {
        for scc in tarjan_scc(&self.graph) {
            let cyclic =
                scc.len() > 1 || scc.first().is_some_and(|&n| self.graph.contains_edge(n, n));
            if cyclic {
                let mut cycle: Vec<Address> = scc.iter().map(|&n| self.graph[n].clone()).collect();
                cycle.sort();
                return Err(cycle);
            }
        }
        Ok(())
    }

    /// Addresses in the graph.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.index.keys()
    }

    /// The graph in Graphviz DOT, written by petgraph's [`Dot`](petgraph::dot::Dot): one node
    /// per address (numbered in address order, labelled with the address, drawn as a box), one
    /// edge from each dependency to its dependent, laid out left to right.
    pub fn to_dot(&self) -> String {
        use petgraph::dot::{Config, Dot, RankDir};
        let dot = Dot::with_attr_getters(
            &self.graph,
            &[
                Config::NodeNoLabel,
                Config::EdgeNoLabel,
                Config::RankDir(RankDir::LR),
            ],
            &|_, _| String::new(),
            // A `{:?}` string is a valid DOT quoted string: `"` and `\` escaped.
            &|_, (_, address)| format!("label = {:?}, shape = box ", address.to_string()),
        );
        // Debug, not Display: the edges carry `()`; no label uses either (NodeNoLabel, EdgeNoLabel).
        format!("{dot:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: &str) -> Address {
        Address::new("k", n)
    }

    #[test]
    fn dot_labels_nodes_with_addresses_and_draws_dependency_edges() {
        let mut deps = BTreeMap::new();
        deps.insert(a("b"), [a("a")].into_iter().collect());
        deps.insert(a("a"), BTreeSet::new());
        let dot = ResourceGraph::from_dependencies(&deps).to_dot();
        assert!(dot.starts_with("digraph {"), "{dot}");
        assert!(dot.contains("rankdir=\"LR\""), "{dot}");
        assert!(dot.contains("0 [ label = \"k.a\", shape = box ]"), "{dot}");
        assert!(dot.contains("1 [ label = \"k.b\", shape = box ]"), "{dot}");
        assert!(dot.contains("0 -> 1 [ ]"), "{dot}");
    }

    #[test]
    fn finds_cycles_and_dependents() {
        let mut deps = BTreeMap::new();
        deps.insert(a("x"), BTreeSet::from([a("y")]));
        deps.insert(a("y"), BTreeSet::new());
        deps.insert(a("z"), BTreeSet::from([a("x")]));
        let g = ResourceGraph::from_dependencies(&deps);
        assert!(g.check_acyclic().is_ok());
        assert_eq!(
            g.transitive_dependents(&a("y")),
            BTreeSet::from([a("x"), a("z")])
        );
        deps.get_mut(&a("y")).unwrap().insert(a("z"));
        assert_eq!(
            ResourceGraph::from_dependencies(&deps)
                .check_acyclic()
                .unwrap_err()
                .len(),
            3
        );
    }
}
