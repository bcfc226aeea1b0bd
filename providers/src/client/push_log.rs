//! Why client push failed on a computer, as the site server's ccm.log says it: the only record of
//! a push that was queued and then could not reach or administer its target (access denied, no
//! ADMIN$ share). No cmdlet reports it (configmgr.md §5, "site server Logs\ccm.log (push)"), so
//! the runner's `Get-CmdeployPushLog` reads the log on the site server.

use serde::Deserialize;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// One computer's last ccm.log line.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PushLogLine {
    computer_name: String,
    #[serde(default)]
    line: Option<String>,
    #[serde(default)]
    failed: bool,
}

/// The members of `names` whose last ccm.log line on the site server is a failure, each as
/// `name: the line`.
///
/// # Errors
/// The transport failure or the failed call, naming the site server.
pub async fn failures(
    ctx: &Context,
    site_connection: &Connection,
    site_code: &str,
    names: &[String],
) -> Result<Vec<String>, RemoteError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut script = Script::new(Target::SiteServer {
        site_code: site_code.to_string(),
    });
    script.push(Call::new("Get-CmdeployPushLog").arg("ComputerName", names.to_vec()));
    let out = kit::run(ctx, site_connection, &script).await?;
    let v = kit::value_of(site_connection, &script, &out, 0)?;
    Ok(kit::items(v)
        .into_iter()
        .filter_map(|l| serde_json::from_value::<PushLogLine>(l.clone()).ok())
        .filter(|l| l.failed)
        .map(|l| {
            format!(
                "{}: ccm.log: {}",
                l.computer_name,
                l.line.unwrap_or_default()
            )
        })
        .collect())
}
