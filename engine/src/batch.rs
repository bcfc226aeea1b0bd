//! Described work and its batches: kinds say what an operation needs ([`crate::provider::Kind::describe`]),
//! the engine groups the operations of one graph level that share a connection and a batch key,
//! splits each group into at most `--parallelism` chunks of similar cost, and hands each chunk to
//! the provider's [`crate::provider::Executor`] as one unit (one remote Script), getting one outcome per operation.
//!
//! The engine never looks inside the work: it is the provider's own type behind [`Work`].

use std::any::Any;

/// A provider's description of one operation's remote work (e.g. its calls), opaque to the engine.
pub struct Work(Box<dyn Any + Send + Sync>);

impl Work {
    /// Wraps the provider's value.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Work(Box::new(value))
    }

    /// The provider's value, if it is a `T`.
    pub fn downcast<T: Any>(self) -> Option<T> {
        self.0.downcast::<T>().ok().map(|b| *b)
    }

    /// The provider's value by reference, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Work(..)")
    }
}

/// What one operation's work produced (e.g. the values of its calls), opaque to the engine and
/// handed back to the kind's [`crate::provider::Kind::finish`].
pub type WorkOutput = Work;

/// One operation's described work.
#[derive(Debug)]
pub struct Described {
    /// Operations on one connection with equal keys may share one unit of execution (for a
    /// Script, its target: the site code whose drive it opens).
    pub batch_key: String,
    /// The work.
    pub work: Work,
    /// Its relative cost (remote calls, reads included), used to balance the chunks.
    pub cost: usize,
}

/// Splits items of the given costs, in order, into at most `parts` contiguous chunks of similar
/// total cost, none empty. Returns the chunks' lengths.
pub fn balanced_chunks(costs: &[usize], parts: usize) -> Vec<usize> {
    let n = costs.len();
    if n == 0 {
        return Vec::new();
    }
    let parts = parts.clamp(1, n);
    let total: usize = costs.iter().map(|c| (*c).max(1)).sum();
    let mut lengths = Vec::with_capacity(parts);
    let mut start = 0;
    let mut spent = 0usize;
    for part in 1..=parts {
        // End this chunk once the running cost reaches this chunk's share of the total, leaving
        // at least one item for each remaining chunk.
        let target = total * part / parts;
        let remaining_parts = parts - part;
        let mut end = start;
        while end < n - remaining_parts && (end == start || spent + costs[end].max(1) <= target) {
            spent += costs[end].max(1);
            end += 1;
        }
        if part == parts {
            while end < n {
                spent += costs[end].max(1);
                end += 1;
            }
        }
        lengths.push(end - start);
        start = end;
    }
    lengths.retain(|l| *l > 0);
    lengths
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_costs_split_evenly() {
        assert_eq!(balanced_chunks(&[1; 600], 10), vec![60; 10]);
        assert_eq!(balanced_chunks(&[1; 3], 10), vec![1, 1, 1]);
        assert_eq!(balanced_chunks(&[], 10), Vec::<usize>::new());
    }

    #[test]
    fn costly_items_get_chunks_of_their_own() {
        let chunks = balanced_chunks(&[10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2);
        assert_eq!(chunks, vec![1, 10]);
    }

    proptest! {
        #[test]
        fn chunks_cover_every_item_once_within_the_limit(
            costs in proptest::collection::vec(0usize..50, 0..200),
            parts in 1usize..20,
        ) {
            let chunks = balanced_chunks(&costs, parts);
            prop_assert_eq!(chunks.iter().sum::<usize>(), costs.len());
            prop_assert!(chunks.len() <= parts);
            prop_assert!(chunks.iter().all(|c| *c > 0));
            if !costs.is_empty() {
                prop_assert_eq!(chunks.len(), parts.min(costs.len()));
            }
        }
    }
}
