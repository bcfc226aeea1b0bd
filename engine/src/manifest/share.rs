//! Equal values held once: the instances of an expanded table (38,000 hosts of one
//! `client_group`) decode to the same attributes, provider data and attribute spans, and every
//! boundary of a site carries the same `{ site = ... }`; a map of a few keys costs a 450-630-byte
//! tree node and its strings, so a 100k-resource project held about 100 MB of copies.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

/// Hands out one [`Arc`] per distinct value seen during a load (compared by value).
pub(crate) struct Shared<T> {
    seen: HashSet<Arc<T>>,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared {
            seen: HashSet::new(),
        }
    }
}

impl<T: Hash + Eq> Shared<T> {
    /// `value`, or an equal value handed out before.
    pub(crate) fn share(&mut self, value: T) -> Arc<T> {
        if let Some(held) = self.seen.get(&value) {
            return Arc::clone(held);
        }
        let held = Arc::new(value);
        self.seen.insert(Arc::clone(&held));
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Attributes;
    use serde_json::json;

    fn map(v: serde_json::Value) -> Attributes {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn equal_maps_are_one_and_different_maps_stay_apart() {
        let mut s = Shared::default();
        let a = s.share(map(json!({ "site": "FAB", "installed": true })));
        let b = s.share(map(json!({ "installed": true, "site": "FAB" })));
        let c = s.share(map(json!({ "site": "CHQ", "installed": true })));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.get("site"), Some(&json!("CHQ")));
    }
}
