//! Renderers of the drift report for CI: a markdown comment and JUnit XML. (The text form, for
//! people at a terminal, lives with the `drift` command; the JSON form is the report itself.)

pub mod junit;
pub mod markdown;

use cmdeploy_engine::diff::AttrChange;
use cmdeploy_engine::drift::acknowledge::{AckMark, AckStatus};
use cmdeploy_engine::drift::{DriftEntry, DriftKind};
use serde_json::Value;

/// What happened to a resource, in words.
pub fn describe(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::ChangedOutside => "changed outside cmdeploy",
        DriftKind::DeletedOutside => "deleted outside cmdeploy",
        DriftKind::NotApplied => "differs from the manifests (not applied yet)",
        DriftKind::ReadFailed => "could not be read",
    }
}

/// A value as shown to people: strings bare, other values as compact JSON, `(unset)` for none.
pub fn show_value(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The expected (state or manifest) and actual values of a change; secrets as `(sensitive)`.
pub fn expected_actual(c: &AttrChange) -> (String, String) {
    if c.sensitive {
        ("(sensitive)".into(), "(sensitive)".into())
    } else {
        (show_value(&c.before), show_value(&c.after))
    }
}

/// One acknowledgement in words: `acknowledged until 2026-12-31: reason`.
pub fn describe_ack(m: &AckMark) -> String {
    let what = match &m.attribute {
        Some(a) => format!(" ({a})"),
        None => String::new(),
    };
    match m.status {
        AckStatus::Active => format!("acknowledged{what} until {}: {}", m.expires, m.reason),
        AckStatus::Expired => format!(
            "acknowledgement{what} expired on {}: {}",
            m.expires, m.reason
        ),
    }
}

/// The acknowledgements of an entry in words, joined with `; `.
pub fn describe_acks(e: &DriftEntry) -> String {
    e.acks
        .iter()
        .map(describe_ack)
        .collect::<Vec<_>>()
        .join("; ")
}
