//! Marking a drift report with the acknowledgements of `drift.ack.toml`.
//!
//! An entry whose every difference is covered by an acknowledgement that has not expired is still
//! reported, marked acknowledged, and does not make the exit code 2. An expired acknowledgement is
//! reported as expired and the drift counts again. An acknowledgement that matches no drift is
//! stale. Read failures are never acknowledged: the estate is unknown there.

use chrono::NaiveDate;
use serde::Serialize;

use super::ack::Ack;
use super::{DriftEntry, DriftKind, DriftReport};
use crate::address::Address;

/// Whether an acknowledgement still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AckStatus {
    /// `today` is on or before the expiry date.
    Active,
    /// The expiry date has passed: the drift counts again.
    Expired,
}

/// An acknowledgement as it applies to one drift entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckMark {
    /// The acknowledged attribute; `None` for the whole resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Why the drift is accepted.
    pub reason: String,
    /// Last day the acknowledgement holds.
    pub expires: NaiveDate,
    /// Active or expired.
    pub status: AckStatus,
}

/// An acknowledgement that matches no drift: it can be removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleAck {
    /// The acknowledged address.
    pub address: String,
    /// The acknowledged attribute, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Why the drift was accepted.
    pub reason: String,
    /// Last day the acknowledgement holds.
    pub expires: NaiveDate,
    /// Line of the `[[ack]]` table in `drift.ack.toml`.
    pub line: usize,
}

/// Marks `report` with `acks` as of the day `today` (the caller's clock: the CLI passes the local
/// date, tests a fixed one).
pub fn acknowledge(report: &mut DriftReport, acks: &[Ack], today: NaiveDate) {
    let mut used = vec![false; acks.len()];
    for entry in &mut report.entries {
        let matching: Vec<usize> = (0..acks.len())
            .filter(|&i| address_matches(&acks[i].address, &entry.address))
            .collect();
        if entry.drift == DriftKind::ReadFailed {
            // Unknown state: neither acknowledged nor a reason to call the ack stale.
            for i in matching {
                used[i] = true;
            }
            continue;
        }
        for i in matching {
            let ack = &acks[i];
            let applies = match &ack.attribute {
                None => true,
                Some(a) => entry.changes.iter().any(|c| &c.name == a),
            };
            if !applies {
                continue;
            }
            used[i] = true;
            entry.acks.push(AckMark {
                attribute: ack.attribute.clone(),
                reason: ack.reason.clone(),
                expires: ack.expires,
                status: if today <= ack.expires {
                    AckStatus::Active
                } else {
                    AckStatus::Expired
                },
            });
        }
        entry.acknowledged = covered(entry);
    }
    report.stale_acks = acks
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(a, _)| StaleAck {
            address: a.address.clone(),
            attribute: a.attribute.clone(),
            reason: a.reason.clone(),
            expires: a.expires,
            line: a.line(),
        })
        .collect();
}

/// `kind.name` covers every instance `kind.name["key"]`.
fn address_matches(ack: &str, entry: &str) -> bool {
    ack == entry || Address::parse(entry).is_ok_and(|a| a.base().to_string() == ack)
}

/// True when an active acknowledgement covers every difference of the entry.
fn covered(entry: &DriftEntry) -> bool {
    let active = |attr: Option<&str>| {
        entry.acks.iter().any(|m| {
            m.status == AckStatus::Active
                && (m.attribute.is_none() || m.attribute.as_deref() == attr)
        })
    };
    if entry.changes.is_empty() {
        entry
            .acks
            .iter()
            .any(|m| m.status == AckStatus::Active && m.attribute.is_none())
    } else {
        entry.changes.iter().all(|c| active(Some(&c.name)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::diagnostics::SourceFile;
    use crate::diff::AttrChange;
    use crate::drift::ack;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn change(name: &str) -> AttrChange {
        AttrChange {
            name: name.into(),
            before: Some(json!("a")),
            after: Some(json!("b")),
            sensitive: false,
        }
    }

    fn entry(address: &str, drift: DriftKind, changes: &[&str]) -> DriftEntry {
        DriftEntry {
            address: address.into(),
            kind: address.split('.').next().unwrap_or_default().into(),
            drift,
            changes: changes.iter().map(|c| change(c)).collect(),
            error: None,
            acks: Vec::new(),
            acknowledged: false,
        }
    }

    fn report(entries: Vec<DriftEntry>) -> DriftReport {
        DriftReport {
            format_version: "1.0".into(),
            checked: entries.len(),
            resources: Vec::new(),
            entries,
            stale_acks: Vec::new(),
            unreachable: Vec::new(),
        }
    }

    fn acks(text: &str) -> Vec<Ack> {
        ack::parse(&SourceFile::new(Path::new("drift.ack.toml"), text.into())).unwrap()
    }

    const DESCRIPTION_ACK: &str = "[[ack]]\naddress = \"boundary_group.hq\"\nattribute = \"description\"\nreason = \"ticket 4711\"\nexpires = 2026-12-31\n";

    #[test]
    fn active_ack_keeps_drift_reported_but_exit_zero() {
        let mut r = report(vec![entry(
            "boundary_group.hq",
            DriftKind::ChangedOutside,
            &["description"],
        )]);
        acknowledge(&mut r, &acks(DESCRIPTION_ACK), day(2026, 6, 1));
        assert_eq!(r.entries.len(), 1, "still reported");
        assert!(r.entries[0].acknowledged);
        assert_eq!(r.entries[0].acks[0].status, AckStatus::Active);
        assert_eq!(r.entries[0].acks[0].reason, "ticket 4711");
        assert_eq!(r.exit_code(), 0);
        assert!(r.stale_acks.is_empty());
    }

    #[test]
    fn the_expiry_day_itself_is_still_acknowledged() {
        let mut r = report(vec![entry(
            "boundary_group.hq",
            DriftKind::ChangedOutside,
            &["description"],
        )]);
        acknowledge(&mut r, &acks(DESCRIPTION_ACK), day(2026, 12, 31));
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn an_expired_ack_counts_again() {
        let mut r = report(vec![entry(
            "boundary_group.hq",
            DriftKind::ChangedOutside,
            &["description"],
        )]);
        acknowledge(&mut r, &acks(DESCRIPTION_ACK), day(2027, 1, 1));
        assert!(!r.entries[0].acknowledged);
        assert_eq!(r.entries[0].acks[0].status, AckStatus::Expired);
        assert_eq!(r.exit_code(), 2);
        assert!(r.stale_acks.is_empty(), "expired is not stale");
    }

    #[test]
    fn an_attribute_ack_does_not_cover_other_attributes() {
        let mut r = report(vec![entry(
            "boundary_group.hq",
            DriftKind::ChangedOutside,
            &["description", "name"],
        )]);
        acknowledge(&mut r, &acks(DESCRIPTION_ACK), day(2026, 6, 1));
        assert!(!r.entries[0].acknowledged);
        assert_eq!(r.exit_code(), 2);
    }

    #[test]
    fn a_whole_resource_ack_covers_deletes_and_instances() {
        let mut r = report(vec![
            entry(
                "client_group.roaming[\"laptop01\"]",
                DriftKind::DeletedOutside,
                &[],
            ),
            entry("client_push.ABC", DriftKind::ChangedOutside, &["automatic"]),
        ]);
        let a = acks("[[ack]]\naddress = \"client_group.roaming\"\nreason = \"laptop in repair\"\nexpires = 2026-12-31\n[[ack]]\naddress = \"client_push.ABC\"\nreason = \"push paused\"\nexpires = 2026-12-31\n");
        acknowledge(&mut r, &a, day(2026, 1, 1));
        assert!(r.entries.iter().all(|e| e.acknowledged));
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn an_ack_without_drift_is_stale() {
        let mut r = report(vec![entry(
            "client_push.ABC",
            DriftKind::ChangedOutside,
            &["automatic"],
        )]);
        let a = acks(&format!("{DESCRIPTION_ACK}[[ack]]\naddress = \"client_push.ABC\"\nattribute = \"accounts\"\nreason = \"r\"\nexpires = 2026-12-31\n"));
        acknowledge(&mut r, &a, day(2026, 1, 1));
        let stale: Vec<(&str, usize)> = r
            .stale_acks
            .iter()
            .map(|s| (s.address.as_str(), s.line))
            .collect();
        assert_eq!(
            stale,
            vec![("boundary_group.hq", 1), ("client_push.ABC", 6)]
        );
        assert_eq!(r.exit_code(), 2);
    }

    #[test]
    fn read_failures_are_never_acknowledged() {
        let mut e = entry("client_push.ABC", DriftKind::ReadFailed, &[]);
        e.error = Some("timeout".into());
        let mut r = report(vec![e]);
        let a =
            acks("[[ack]]\naddress = \"client_push.ABC\"\nreason = \"r\"\nexpires = 2026-12-31\n");
        acknowledge(&mut r, &a, day(2026, 1, 1));
        assert!(!r.entries[0].acknowledged);
        assert!(r.stale_acks.is_empty());
        assert_eq!(r.exit_code(), 3);
    }

    #[test]
    fn json_stays_compatible_without_acks() {
        let r = report(vec![entry(
            "client_push.ABC",
            DriftKind::ChangedOutside,
            &["automatic"],
        )]);
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["entries"][0].get("acks").is_none());
        assert!(v["entries"][0].get("acknowledged").is_none());
        assert!(v.get("stale_acks").is_none());
        assert_eq!(v["checked"], 1);
    }
}
