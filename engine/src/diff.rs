//! Attribute-level diff of normalised values, with list ownership (`exact` or `additive`).

use serde_json::Value;

use crate::resource::{Attributes, Resource};

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttrChange {
    /// Attribute name.
    pub name: String,
    /// Current value (`None`: not set). Always `None` for sensitive attributes.
    pub before: Option<Value>,
    /// Desired value. Always `None` for sensitive attributes.
    pub after: Option<Value>,
    /// True for secrets: values are never shown, only that they change.
    pub sensitive: bool,
}

/// Differences between a desired resource and what was observed, over the attributes the
/// manifest sets (attributes it leaves out are not managed).
pub fn diff_attrs(desired: &Resource, observed: &Attributes) -> Vec<AttrChange> {
    let mut out = Vec::new();
    for (name, want) in desired.attrs.iter() {
        let have = observed.get(name);
        let additive = desired.additive.contains(name);
        if !values_match(want, have, additive) {
            let after = if additive {
                Some(union(have, want))
            } else {
                Some(want.clone())
            };
            out.push(AttrChange {
                name: name.clone(),
                before: have.cloned(),
                after,
                sensitive: false,
            });
        }
    }
    out
}

/// Differences between two observations of the same object, over the attributes of `before`
/// (used by drift: state as last applied versus now).
pub fn diff_observed(before: &Attributes, now: &Attributes) -> Vec<AttrChange> {
    before
        .iter()
        .filter(|(name, v)| now.get(name.as_str()) != Some(v))
        .map(|(name, v)| AttrChange {
            name: name.clone(),
            before: Some(v.clone()),
            after: now.get(name).cloned(),
            sensitive: false,
        })
        .collect()
}

/// True when `have` satisfies `want`. Under additive ownership a list only needs to contain the
/// wanted members.
pub fn values_match(want: &Value, have: Option<&Value>, additive: bool) -> bool {
    match (want, have) {
        (Value::Array(w), Some(Value::Array(h))) if additive => w.iter().all(|x| h.contains(x)),
        (Value::Array(w), None) if additive => w.is_empty(),
        (Value::Null, None) => true,
        (w, Some(h)) => w == h,
        (_, None) => false,
    }
}

fn union(have: Option<&Value>, want: &Value) -> Value {
    let mut items: Vec<Value> = match have {
        Some(Value::Array(h)) => h.clone(),
        _ => Vec::new(),
    };
    if let Value::Array(w) = want {
        for x in w {
            if !items.contains(x) {
                items.push(x.clone());
            }
        }
    }
    items.sort_by_key(|a| a.to_string());
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn additive_lists_only_need_their_members() {
        assert!(values_match(&json!(["a"]), Some(&json!(["a", "b"])), true));
        assert!(!values_match(
            &json!(["a"]),
            Some(&json!(["a", "b"])),
            false
        ));
        assert!(!values_match(&json!(["c"]), Some(&json!(["a"])), true));
    }

    #[test]
    fn drift_compares_what_was_applied() {
        let before: Attributes = json!({"enabled": true, "x": 1})
            .as_object()
            .unwrap()
            .clone();
        let now: Attributes = json!({"enabled": false, "x": 1, "y": 2})
            .as_object()
            .unwrap()
            .clone();
        let d = diff_observed(&before, &now);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].name, "enabled");
    }
}
