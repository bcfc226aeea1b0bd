//! One log event per Script run (target `cmdeploy::script`, level info): the connection (name, host,
//! transport), what the Script is (read or write, its target), the cmdlets it calls, how long it
//! took and how it ended (`ok`, `ok, N call(s) failed: cmdlets`, or the error's kind). Never an
//! argument value, a result value or an error message: those may carry manifest values and, for
//! a write, a secret.

use std::time::Duration;

use cmdeploy_engine::provider::RemoteError;
use cmdeploy_engine::resource::Connection;

use crate::powershell::{Script, ScriptOutput, Target};

/// Logs the end of one Script run.
pub(super) fn finished(
    connection: &Connection,
    script: &Script,
    elapsed: Duration,
    result: &Result<ScriptOutput, RemoteError>,
) {
    let transport = connection
        .spec
        .get("transport")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("lab");
    let label = connection
        .key
        .strip_prefix("host:")
        .unwrap_or(&connection.key);
    let access = if script.stop_on_error {
        "write"
    } else {
        "read"
    };
    let target = match &script.target {
        Target::SiteServer { site_code } => format!("site server ({site_code})"),
        Target::DomainController { .. } => "domain controller".to_string(),
        Target::Host => "host".to_string(),
    };
    let cmdlets = counted(script.calls.iter().map(|c| c.cmdlet.as_str()));
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    let outcome = match result {
        Ok(out) => {
            let failed: Vec<&str> = out
                .results
                .iter()
                .filter(|r| !r.ok)
                .filter_map(|r| script.calls.get(r.id).map(|c| c.cmdlet.as_str()))
                .collect();
            if failed.is_empty() {
                "ok".to_string()
            } else {
                format!("ok, {} call(s) failed: {}", failed.len(), counted(failed))
            }
        }
        Err(e) => {
            let kind = match (&e.unreachable, e.category.as_deref()) {
                (Some(_), _) => "unreachable",
                (None, Some(c)) => c,
                (None, None) => "error",
            };
            format!("error: {kind}")
        }
    };
    tracing::info!(
        target: "cmdeploy::script",
        connection = label,
        host = %connection.host(),
        transport,
        access,
        on = %target,
        calls = script.calls.len(),
        cmdlets = %cmdlets,
        duration_ms,
        result = %outcome,
        "script run"
    );
}

/// Cmdlet names in first-seen order, a repeated one counted: `Get-CMBoundary, New-CMBoundary x3`.
fn counted<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for name in names {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => out.push((name, 1)),
        }
    }
    out.iter()
        .map(|(name, n)| {
            if *n > 1 {
                format!("{name} x{n}")
            } else {
                (*name).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powershell::Call;

    #[test]
    fn cmdlets_are_listed_once_in_order_with_counts() {
        let mut s = Script::new(Target::Host);
        for c in [
            "Get-CMBoundary",
            "New-CMBoundary",
            "New-CMBoundary",
            "Get-CMSite",
        ] {
            s.push(Call::new(c).arg("Name", "secret-looking value"));
        }
        assert_eq!(
            counted(s.calls.iter().map(|c| c.cmdlet.as_str())),
            "Get-CMBoundary, New-CMBoundary x2, Get-CMSite"
        );
    }
}
