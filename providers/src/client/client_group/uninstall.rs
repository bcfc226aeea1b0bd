//! Uninstalling a host's client: `ccmsetup.exe /uninstall` over the host's connection, run by
//! the ccmsetup service as an install is (windows-runtime.md §8; seed 000, "About client
//! installation properties": `/uninstall`), then, when the target asks, the site's device record
//! (`Remove-CMDevice -Name -Force`, PSRef Remove-CMDevice.md, SearchByNameMandatory).
//!
//! A target opts in with `on_destroy = "uninstall"` (kept in state, so that a target removed
//! from the manifests is still uninstalled); `ensure = "absent"` uninstalls a target in place.

use serde_json::Value;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::{Attributes, Connection};

use super::super::probe;
use crate::kit;
use crate::powershell::{Call, Target};

/// The CCMSetup arguments of an uninstall.
pub const UNINSTALL: &str = "/uninstall";

/// True when `meta` (a desired resource's or a state entry's) opts in to uninstalling.
pub fn opted_in(meta: &Attributes) -> bool {
    meta.get("on_destroy").and_then(Value::as_str) == Some("uninstall")
}

/// The plan's words for an uninstall of `host`'s client with `meta`'s options.
pub fn notes(meta: &Attributes) -> Vec<String> {
    let mut out = vec![format!("uninstalls the client: {}", command_line(meta))];
    if remove_record(meta) {
        out.push("then deletes the site's device record (Remove-CMDevice)".into());
    }
    out
}

/// `<source>\ccmsetup.exe /uninstall`.
pub fn command_line(meta: &Attributes) -> String {
    let source = meta
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_end_matches('\\');
    if source.is_empty() {
        format!("ccmsetup.exe {UNINSTALL}")
    } else {
        format!("{source}\\ccmsetup.exe {UNINSTALL}")
    }
}

fn remove_record(meta: &Attributes) -> bool {
    meta.get("remove_device_record").and_then(Value::as_bool) == Some(true)
}

/// Uninstalls the client of `host` through `connection`, checks that it is gone, then deletes
/// the site's device record through `site_connection` when `meta` asks.
///
/// # Errors
/// CCMSetup's failure (return code and log), a client still installed afterwards, or the
/// site's refusal of `Remove-CMDevice`; each names its host.
pub async fn uninstall(
    ctx: &Context,
    connection: &Connection,
    site_connection: &Connection,
    meta: &Attributes,
    host: &str,
) -> Result<(), RemoteError> {
    let source = meta
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (log, after) = probe::install_and_probe(ctx, connection, source, UNINSTALL).await?;
    if after.installed {
        return Err(RemoteError {
            host: connection.host(),
            operation: Some("Install-CmdeployClient".into()),
            message: format!(
                "{} finished but the client is still installed: {log}",
                command_line(meta)
            ),
            category: None,
            unreachable: None,
        });
    }
    if remove_record(meta) {
        let code = kit::site_code(ctx, meta);
        let device = host.split('.').next().unwrap_or(host).to_uppercase();
        let call = Call::new("Remove-CMDevice")
            .arg("Name", device.as_str())
            .switch("Force");
        kit::run_writes(
            ctx,
            site_connection,
            Target::SiteServer { site_code: code },
            vec![call],
        )
        .await?;
    }
    Ok(())
}
