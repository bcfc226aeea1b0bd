//! The site a connection's SMS Provider serves, asked of the server itself: what `cmdeploy import`
//! uses when no `site` resource of the manifests names the connection, so that a project holding
//! only a `[connection]` can adopt the whole site, its own fields included.
//!
//! The runner's `Get-CmdeployProviderSite` reads `root\sms` `SMS_ProviderLocation` and keeps the
//! instance whose ProviderForLocalSite is true (memdocs
//! `configmgr/develop/reference/misc/sms_providerlocation-server-wmi-class.md`; windows-runtime.md
//! §7). It runs without the ConfigurationManager module, since the module's drive needs the very
//! site code it looks for. A server without the SMS Provider (a domain controller, a secondary
//! site's server) has no `root\sms` namespace: WMI answers "Invalid namespace"
//! (WBEM_E_INVALID_NAMESPACE), which means "not a site server", not a failure.

use std::collections::HashMap;
use std::sync::Mutex;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// The runner function that reads `SMS_ProviderLocation`.
const PROVIDER_SITE: &str = "Get-CmdeployProviderSite";

/// What each connection's SMS Provider answered, by connection key, so that the kinds asking in
/// one import send one Script per connection. Stored in the context's extensions by the CLI;
/// without it every question sends its own Script.
#[derive(Debug, Default)]
pub struct ProviderSites {
    answers: Mutex<HashMap<String, Option<String>>>,
}

/// The site code whose SMS Provider runs on `connection`'s host, or `None` when the host has no
/// SMS Provider.
///
/// # Errors
/// The host could not be reached, or WMI failed for another reason than a missing `root\sms`
/// namespace (access denied, say): host, operation and Windows' message.
pub async fn discover(
    ctx: &Context,
    connection: &Connection,
) -> Result<Option<String>, RemoteError> {
    let cache = ctx.extensions.get::<ProviderSites>();
    if let Some(known) = cache.and_then(|c| lock(c).get(&connection.key).cloned()) {
        return Ok(known);
    }
    let mut script = Script::new(Target::Host);
    script.push(Call::new(PROVIDER_SITE));
    let out = kit::run(ctx, connection, &script).await?;
    let answer = match kit::value_of(connection, &script, &out, 0) {
        Ok(rows) => kit::items(rows)
            .into_iter()
            .map(|r| kit::s(r, "SiteCode").to_uppercase())
            .find(|c| !c.is_empty()),
        Err(e) if e.message.contains("Invalid namespace") => None,
        Err(e) => return Err(e),
    };
    if let Some(c) = cache {
        lock(c).insert(connection.key.clone(), answer.clone());
    }
    Ok(answer)
}

fn lock(c: &ProviderSites) -> std::sync::MutexGuard<'_, HashMap<String, Option<String>>> {
    // A panic while holding the lock leaves a map that is still whole.
    c.answers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
