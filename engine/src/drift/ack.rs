//! `drift.ack.toml`: drift the team knows about, each with a reason and an expiry date.
//!
//! ```toml
//! [[ack]]
//! address = "boundary_group.hq"
//! attribute = "description"        # optional: without it, every attribute of the resource
//! reason = "helpdesk ticket 4711, reverted after the migration"
//! expires = 2026-12-31             # a TOML date; acknowledged up to and including that day
//! ```
//!
//! A malformed file is a diagnostic with file and line, like a manifest.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::value::Datetime;
use toml::Spanned;

use crate::address::Address;
use crate::diagnostics::{Diagnostic, Diagnostics, Loc, SourceFile};

/// File name of the acknowledgement file in the project directory (never read as a manifest).
pub const ACK_FILE: &str = "drift.ack.toml";

/// One acknowledged drift.
#[derive(Debug, Clone)]
pub struct Ack {
    /// Address as written: `kind.name` (covers every instance) or `kind.name["key"]`.
    pub address: String,
    /// The attribute; `None` acknowledges every attribute of the resource.
    pub attribute: Option<String>,
    /// Why the drift is accepted.
    pub reason: String,
    /// Last day the acknowledgement holds.
    pub expires: NaiveDate,
    /// Where the `[[ack]]` table is.
    pub loc: Loc,
}

impl Ack {
    /// 1-based line of the `[[ack]]` table in the file.
    pub fn line(&self) -> usize {
        self.loc.file.line_of(self.loc.span.start)
    }
}

/// Drift the team knows about, each with a reason and an expiry date.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "cmdeploy drift acknowledgements")]
struct RawFile {
    /// Each acknowledged drift, as `[[ack]]`.
    #[serde(default)]
    #[schemars(with = "Vec<RawAck>")]
    ack: Vec<Spanned<RawAck>>,
}

/// One `[[ack]]`: an acknowledged drift.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ack")]
struct RawAck {
    /// `kind.name` (covers every instance) or `kind.name["key"]`, as in `cmdeploy state list`.
    #[schemars(with = "String")]
    address: Spanned<String>,
    /// The attribute; leave it out to acknowledge every attribute of the resource.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    attribute: Option<Spanned<String>>,
    /// Why this drift is accepted.
    #[schemars(with = "String")]
    reason: Spanned<String>,
    /// Last day the acknowledgement holds: a bare TOML date (`2026-12-31`).
    #[schemars(with = "String", extend("format" = "date"))]
    expires: Spanned<Datetime>,
}

/// The JSON Schema of `drift.ack.toml` (`cmdeploy schema drift-ack`); TOML dates are strings
/// of format `date` in it, as editors validate them.
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawFile).to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert("$id".into(), ACK_SCHEMA_ID.into());
    }
    schema
}

/// The `$id` of the acknowledgement file's schema.
pub const ACK_SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/cmdeploy/cmdeploy/main/schemas/drift-ack.schema.json";

/// Reads `drift.ack.toml` from the project directory; no file means no acknowledgements.
///
/// # Errors
/// Every problem in the file, with its place.
pub fn load(dir: &Path) -> Result<Vec<Ack>, Diagnostics> {
    let path = dir.join(ACK_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            let mut d = Diagnostics::new();
            d.push(Diagnostic::error(
                "cmdeploy::drift_ack::read",
                format!("cannot read {}: {e}", path.display()),
            ));
            return Err(d);
        }
    };
    parse(&SourceFile::new(&path, text))
}

/// Parses the text of an acknowledgement file.
///
/// # Errors
/// Every problem in the file, with its place.
pub fn parse(file: &Arc<SourceFile>) -> Result<Vec<Ack>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let raw: RawFile = match toml::from_str(file.text.as_str()) {
        Ok(r) => r,
        Err(e) => {
            let mut d = crate::provider::decode_error(file, 0..0, e, "drift_ack");
            if d.help.is_none() {
                d = d.with_help(HELP);
            }
            diags.push(d);
            return Err(diags);
        }
    };
    let mut acks = Vec::new();
    for table in raw.ack {
        let span = table.span();
        let raw = table.into_inner();
        if let Some(ack) = check(file, span, raw, &mut diags) {
            acks.push(ack);
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(acks)
    }
}

const HELP: &str = "each [[ack]] has address = \"kind.name\", optional attribute = \"name\", \
                    reason = \"why\" and expires = 2026-12-31 (a TOML date)";

fn check(
    file: &Arc<SourceFile>,
    span: std::ops::Range<usize>,
    raw: RawAck,
    diags: &mut Diagnostics,
) -> Option<Ack> {
    let before = diags.len();
    if let Err(e) = Address::parse(raw.address.get_ref()) {
        diags.push(
            Diagnostic::error("cmdeploy::drift_ack::address", e)
                .with_help(
                    "an address is kind.name or kind.name[\"key\"], as in `cmdeploy state list`",
                )
                .at_span(file, raw.address.span()),
        );
    }
    if let Some(a) = &raw.attribute {
        if a.get_ref().trim().is_empty() {
            diags.push(
                Diagnostic::error("cmdeploy::drift_ack::attribute", "attribute is empty")
                    .with_help("leave `attribute` out to acknowledge every attribute")
                    .at_span(file, a.span()),
            );
        }
    }
    if raw.reason.get_ref().trim().is_empty() {
        diags.push(
            Diagnostic::error("cmdeploy::drift_ack::reason", "reason is empty")
                .with_help("say why this drift is accepted, so the next reader knows")
                .at_span(file, raw.reason.span()),
        );
    }
    let expires = date_of(raw.expires.get_ref());
    if expires.is_none() {
        diags.push(
            Diagnostic::error(
                "cmdeploy::drift_ack::expires",
                format!("expires = {} is not a date", raw.expires.get_ref()),
            )
            .with_help("write a bare TOML date, e.g. expires = 2026-12-31 (no time, no quotes)")
            .at_span(file, raw.expires.span()),
        );
    }
    if diags.len() > before {
        return None;
    }
    Some(Ack {
        address: raw.address.into_inner(),
        attribute: raw.attribute.map(Spanned::into_inner),
        reason: raw.reason.into_inner(),
        expires: expires?,
        loc: Loc {
            file: file.clone(),
            span,
        },
    })
}

/// The calendar date of a TOML local date (no time, no offset).
fn date_of(d: &Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Arc<SourceFile> {
        SourceFile::new(Path::new("drift.ack.toml"), text.to_string())
    }

    #[test]
    fn parses_acks_with_and_without_attribute() {
        let acks = parse(&file(
            "[[ack]]\naddress = \"boundary_group.hq\"\nattribute = \"description\"\nreason = \"ticket 1\"\nexpires = 2026-12-31\n\n[[ack]]\naddress = 'client_group.roaming[\"laptop01\"]'\nreason = \"in repair\"\nexpires = 2027-01-15\n",
        ))
        .unwrap();
        assert_eq!(acks.len(), 2);
        assert_eq!(acks[0].attribute.as_deref(), Some("description"));
        assert_eq!(
            acks[0].expires,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        assert_eq!(acks[0].line(), 1);
        assert_eq!(acks[1].attribute, None);
        assert_eq!(acks[1].line(), 7);
    }

    #[test]
    fn an_empty_file_has_no_acks() {
        assert!(parse(&file("")).unwrap().is_empty());
    }

    #[test]
    fn problems_are_placed_on_their_line() {
        let f = file("[[ack]]\naddress = \"not an address\"\nreason = \"\"\nexpires = 2026-12-31T10:00:00Z\n");
        let diags = parse(&f).unwrap_err();
        let mut lines: Vec<(String, usize)> = diags
            .iter()
            .map(|d| {
                let loc = d.loc.as_ref().unwrap();
                (d.code.clone(), f.line_of(loc.span.start))
            })
            .collect();
        lines.sort();
        assert_eq!(
            lines,
            vec![
                ("cmdeploy::drift_ack::address".to_string(), 2),
                ("cmdeploy::drift_ack::expires".to_string(), 4),
                ("cmdeploy::drift_ack::reason".to_string(), 3),
            ]
        );
    }

    #[test]
    fn unknown_fields_and_missing_fields_are_diagnostics() {
        let f = file(
            "[[ack]]\naddress = \"boundary.hq_lan\"\nreasn = \"typo\"\nexpires = 2026-12-31\n",
        );
        let diags = parse(&f).unwrap_err();
        let d = diags.iter().next().unwrap();
        assert_eq!(d.code, "cmdeploy::drift_ack::invalid");
        assert!(d.message.contains("reasn"), "{}", d.message);
        assert_eq!(f.line_of(d.loc.as_ref().unwrap().span.start), 3);

        let diags = parse(&file("[[ack]]\naddress = \"boundary.hq_lan\"\n")).unwrap_err();
        assert!(diags.iter().any(|d| d.message.contains("missing field")));
    }

    #[test]
    fn a_string_date_is_refused_with_help() {
        let diags = parse(&file(
            "[[ack]]\naddress = \"boundary.hq_lan\"\nreason = \"r\"\nexpires = \"2026-12-31\"\n",
        ))
        .unwrap_err();
        let d = diags.iter().next().unwrap();
        assert!(d.loc.is_some(), "{d:?}");
    }

    #[test]
    fn broken_toml_is_a_diagnostic_not_a_panic() {
        let diags = parse(&file("[[ack]\naddress = ")).unwrap_err();
        assert!(diags.has_errors());
    }

    #[test]
    fn a_missing_file_means_no_acks() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
    }
}
