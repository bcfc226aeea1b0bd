//! Version and health of a host's client as state: what a target wants (`version = "site"`, a
//! minimum version, or `"any"`; a running CcmExec) and what the site's device record or a probe
//! of the host says (`ClientVersion`, `ClientActiveStatus`, the assigned site, the management
//! point reached). An older client is upgraded and an unhealthy one repaired by reinstalling it
//! with the group's method; the plan says why, per host.
//!
//! A client version is four dotted numbers (`5.00.9128.1000`), compared number by number; the
//! site's current client is the site's version (`Get-CMSite`, `SMS_Site.Version`).

use serde_json::Value;

use super::model::ClientModel;

/// The desired `client_version` attribute for `version` (`"site"`, `"any"`, a version), or
/// `None` for `"any"`.
///
/// # Errors
/// A value that is none of these, with the reason.
pub fn desired(version: Option<&str>) -> Result<Option<String>, String> {
    match version.map(str::trim) {
        None | Some("site") => Ok(Some("site".into())),
        Some("any") => Ok(None),
        Some(v) if parse(v).is_some() => Ok(Some(format!(">= {v}"))),
        Some(v) => Err(format!(
            "`version = {v:?}` is not \"site\", \"any\" or a client version such as \"5.00.9128.1000\""
        )),
    }
}

/// The numbers of a dotted version, or `None` when it is not one.
pub fn parse(v: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = v.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| (2..=4).contains(&p.len()))
}

/// True when `have` is older than `want` (both dotted versions; an unreadable `have` is older).
pub fn older(have: &str, want: &str) -> bool {
    match (parse(have), parse(want)) {
        (Some(h), Some(w)) => h < w,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// The observed `client_version` for the desired `want` (`"site"` or `">= X"`): `want` itself
/// when `have` satisfies it, else `have`, with the plan's note saying why.
pub fn observe_version(
    want: &str,
    have: Option<&str>,
    site_code: &str,
    site_version: Option<&str>,
) -> (String, Option<String>) {
    let have_text = have.unwrap_or("unknown");
    let (minimum, whose) = match want.strip_prefix(">= ") {
        Some(v) => (Some(v.to_string()), format!("the minimum {v}")),
        None => (
            site_version.map(str::to_string),
            format!("site {site_code}'s client {}", site_version.unwrap_or("?")),
        ),
    };
    match minimum {
        Some(m) if older(have_text, &m) => (
            have_text.to_string(),
            Some(format!("client {have_text} is older than {whose}: upgrade")),
        ),
        _ => (want.to_string(), None),
    }
}

/// Sets the health a target wants (`ccmexec_running`) and its `client_version` in `observed`
/// from a device record (`ClientVersion`, `ClientActiveStatus`) and returns the notes.
pub fn from_record(
    desired: Option<&ClientModel>,
    record: &Value,
    site_code: &str,
    site_version: Option<&str>,
    observed: &mut ClientModel,
) -> Vec<String> {
    let active = record
        .get("ClientActiveStatus")
        .and_then(Value::as_i64)
        .is_none_or(|s| s == 1);
    let version = record.get("ClientVersion").and_then(Value::as_str);
    observe(desired, version, active, site_code, site_version, observed)
}

/// As [`from_record`], from what the host itself says (a probe).
pub fn observe(
    desired: Option<&ClientModel>,
    version: Option<&str>,
    ccmexec_running: bool,
    site_code: &str,
    site_version: Option<&str>,
    observed: &mut ClientModel,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(want) = desired.and_then(|d| d.client_version.as_deref()) {
        let (value, note) = observe_version(want, version, site_code, site_version);
        observed.client_version = Some(value);
        notes.extend(note);
    }
    if desired.is_some_and(|d| d.ccmexec_running.is_some()) {
        observed.ccmexec_running = Some(ccmexec_running);
        if !ccmexec_running {
            notes.push("CcmExec (SMS Agent Host) is not running: repair".into());
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_number_by_number() {
        assert!(older("5.00.9000.1000", "5.00.9128.1000"));
        assert!(!older("5.00.9128.1000", "5.00.9128.1000"));
        assert!(!older("5.00.10000.1", "5.00.9128.1000"));
        assert!(older("garbage", "5.00.9128.1000"));
    }

    #[test]
    fn version_wants_are_site_any_or_a_minimum() {
        assert_eq!(desired(None).unwrap().as_deref(), Some("site"));
        assert_eq!(desired(Some("any")).unwrap(), None);
        assert_eq!(
            desired(Some("5.00.9128.1000")).unwrap().as_deref(),
            Some(">= 5.00.9128.1000")
        );
        assert!(desired(Some("latest")).is_err());
    }

    #[test]
    fn an_older_client_shows_its_version_and_why() {
        let (v, note) = observe_version(
            "site",
            Some("5.00.9000.1000"),
            "ABC",
            Some("5.00.9128.1000"),
        );
        assert_eq!(v, "5.00.9000.1000");
        assert!(note
            .unwrap()
            .contains("older than site ABC's client 5.00.9128.1000"));
        let (v, note) = observe_version(
            "site",
            Some("5.00.9128.1000"),
            "ABC",
            Some("5.00.9128.1000"),
        );
        assert_eq!((v.as_str(), note), ("site", None));
    }
}
