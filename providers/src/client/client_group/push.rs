//! The push wizard (`Install-CMClient`): the site server installs the client on a discovered
//! domain computer; apply then waits for the site to report it.

use std::time::{Duration, Instant};

use serde_json::Value;

use cmdeploy_engine::provider::{Context, Operation, RemoteError};

use super::spec::PushOptions;
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// Requests the push and waits up to `wait_minutes` for a client record assigned to the site,
/// active (`ClientActiveStatus`), and at least the version `want` asks (`"site"`: the site's
/// version from `Get-CMSite`; `">= X"`: X), so that an upgrade is not taken for done while the
/// old record still shows.
///
/// # Errors
/// The site refused the push (ConfigMgr's words), or no client appeared in time.
pub async fn push(
    ctx: &Context,
    op: &Operation,
    site_code: &str,
    host: &str,
    options: &PushOptions,
    want: Option<&str>,
) -> Result<(), RemoteError> {
    let target = Target::SiteServer {
        site_code: site_code.to_string(),
    };
    let device = host.split('.').next().unwrap_or(host).to_uppercase();
    let mut call = Call::new("Install-CMClient")
        .arg("DeviceName", device.as_str())
        .arg("SiteCode", site_code);
    if options.always_install {
        call = call.arg("AlwaysInstallClient", true);
    }
    if options.force_reinstall {
        call = call.arg("ForceReinstall", true);
    }
    if options.include_domain_controllers {
        call = call.arg("IncludeDomainController", true);
    }
    kit::run_writes(ctx, &op.connection, target.clone(), vec![call]).await?;
    let deadline = Instant::now() + Duration::from_secs(options.wait_minutes.unwrap_or(10) * 60);
    let minimum = match want {
        Some("site") => {
            let mut script = Script::new(target.clone());
            script.push(Call::new("Get-CMSite").arg("SiteCode", site_code));
            let out = kit::run(ctx, &op.connection, &script).await?;
            let v = kit::value_of(&op.connection, &script, &out, 0)?;
            kit::items(v)
                .first()
                .map(|s| kit::s(s, "Version").to_string())
        }
        Some(w) => w.strip_prefix(">= ").map(str::to_string),
        None => None,
    };
    loop {
        let mut script = Script::new(target.clone());
        script.push(
            Call::new("Get-CMDevice")
                .arg("Name", device.as_str())
                .switch("Fast"),
        );
        let out = kit::run(ctx, &op.connection, &script).await?;
        let records = kit::value_of(&op.connection, &script, &out, 0)?;
        let installed = kit::items(records).into_iter().any(|d| {
            d.get("IsClient").and_then(Value::as_bool) == Some(true)
                && kit::s(d, "SiteCode").eq_ignore_ascii_case(site_code)
                && d.get("ClientActiveStatus").and_then(Value::as_i64) != Some(0)
                && minimum
                    .as_deref()
                    .is_none_or(|m| !super::health::older(kit::s(d, "ClientVersion"), m))
        });
        if installed {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(RemoteError {
                host: op.connection.host(),
                operation: Some("Install-CMClient".into()),
                message: format!(
                    "the push to {device} was queued but the site reports no client yet; ConfigMgr retries failed pushes every hour for up to 7 days (see ccm.log on the site server); plan again later"
                ),
                category: None,
                unreachable: None,
            });
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}
