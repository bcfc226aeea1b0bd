//! The sites whose objects `cmdeploy import` lists through a connection: the `site` resources that
//! name it, or else the site the connection's SMS Provider serves, asked of the server itself, so
//! that a project holding only a `[connection]` can adopt the whole site, its own fields included.
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

use serde_json::{json, Value};

use cmdeploy_engine::import::ImportRef;
use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use crate::kit;
use crate::powershell::{Call, Script, Target};

/// A site whose objects are listed through a connection: a `site` resource of the manifests, or
/// the site the connection's SMS Provider serves when no `site` resource names the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOn {
    /// Table key of the `site` resource (`ABC`); the site code when it was discovered.
    pub key: String,
    /// Site code (`ABC`).
    pub code: String,
    /// False when no `site` resource names it: the import writes its `site` table too.
    pub declared: bool,
}

impl SiteOn {
    /// Writes the `site` field of a listed table: the declared site's table key, or the
    /// discovered site's code with a reference the engine resolves to the `site` table listed
    /// with it (so that `--kinds boundary` alone still writes a file that loads).
    pub(super) fn put_site(&self, table: &mut Vec<(String, Value)>, refs: &mut Vec<ImportRef>) {
        if self.declared {
            table.push(("site".into(), json!(self.key)));
        } else {
            table.push(("site".into(), json!(self.code)));
            refs.push(ImportRef {
                field: "site".into(),
                kind: "site".into(),
            });
        }
    }
}

/// The declared sites whose `connection` is `connection`, in key order.
fn declared_on(ctx: &Context, connection: &Connection) -> Vec<SiteOn> {
    kit::resources_on(ctx, "site", connection)
        .map(|s| SiteOn {
            key: s.address.name.clone(),
            code: s.str_attr("code").unwrap_or(&s.address.name).to_uppercase(),
            declared: true,
        })
        .collect()
}

/// The sites whose objects are listed through `connection`: the `site` resources that name it,
/// in key order, or else the site its SMS Provider serves ([`super::provider_site::discover`]).
/// Empty for a connection that is no site server.
///
/// # Errors
/// The discovery's remote failure (unreachable host, WMI access denied).
pub async fn sites_on(ctx: &Context, connection: &Connection) -> Result<Vec<SiteOn>, RemoteError> {
    let declared = declared_on(ctx, connection);
    if !declared.is_empty() {
        return Ok(declared);
    }
    Ok(discover(ctx, connection)
        .await?
        .into_iter()
        .map(|code| SiteOn {
            key: code.clone(),
            code,
            declared: false,
        })
        .collect())
}

/// True when objects of a site-side kind can be imported through `connection`: some `site`
/// resource is managed through it, or its host runs a site's SMS Provider.
///
/// # Errors
/// The discovery's remote failure.
pub async fn is_site_server(ctx: &Context, connection: &Connection) -> Result<bool, RemoteError> {
    Ok(!sites_on(ctx, connection).await?.is_empty())
}

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
