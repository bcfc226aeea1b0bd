//! Typed values the program hands to providers through the [`Context`](crate::provider::Context)
//! without the engine knowing what they are: a map from a type to one value of that type, as
//! `http::Extensions` does for requests.
//!
//! The CLI puts what the providers need to reach hosts (their transports) here; a provider takes
//! it back out by type. The engine itself never reads an extension, so it names no transport.
//! Cloning is cheap (one `Arc`), so a context cloned per batch shares the same values, and any
//! cache inside them.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

type Value = Arc<dyn Any + Send + Sync>;

/// At most one value per type, shared by every clone.
#[derive(Clone, Default)]
pub struct Extensions {
    values: Arc<HashMap<TypeId, Value>>,
}

impl Extensions {
    /// No values.
    pub fn new() -> Extensions {
        Extensions::default()
    }

    /// These extensions with `value` (replacing a value of the same type). Clones made before
    /// keep what they had.
    #[must_use]
    pub fn with<T: Any + Send + Sync>(mut self, value: T) -> Extensions {
        self.insert(value);
        self
    }

    /// Stores `value`, replacing a value of the same type. Clones made before keep what they had.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        Arc::make_mut(&mut self.values).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no value is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("values", &self.values.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Port(u16);
    #[derive(Debug, PartialEq)]
    struct Name(&'static str);

    #[test]
    fn values_are_found_by_type_only() {
        let ext = Extensions::new().with(Port(5985)).with(Name("cm01"));
        assert_eq!(ext.get::<Port>(), Some(&Port(5985)));
        assert_eq!(ext.get::<Name>(), Some(&Name("cm01")));
        assert_eq!(ext.get::<u16>(), None, "a field's type is not the value's");
        assert_eq!(ext.len(), 2);
    }

    #[test]
    fn a_second_value_of_a_type_replaces_the_first() {
        let ext = Extensions::new().with(Port(1)).with(Port(2));
        assert_eq!(ext.get::<Port>(), Some(&Port(2)));
        assert_eq!(ext.len(), 1);
    }

    #[test]
    fn clones_share_values_and_keep_them_when_the_original_changes() {
        let mut ext = Extensions::new().with(Port(1));
        let clone = ext.clone();
        assert!(std::ptr::eq(
            ext.get::<Port>().unwrap(),
            clone.get::<Port>().unwrap()
        ));
        ext.insert(Port(2));
        assert_eq!(clone.get::<Port>(), Some(&Port(1)));
        assert_eq!(ext.get::<Port>(), Some(&Port(2)));
        assert!(Extensions::new().is_empty());
    }
}
