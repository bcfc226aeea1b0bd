//! `collection_push`: the Client Push Installation Wizard with a device collection as its target
//! (seed 000, *To use the Client Push Installation Wizard*: "…to install the client on a
//! collection"). The desired state is that every member of the collection has a client assigned
//! to the site; the plan lists the members without one (`clients_missing`), with the push
//! prerequisites the site server finds on them, and apply pushes to the collection
//! (`Install-CMClient -CollectionId`), then waits for the site to report the clients. The wait
//! ends as soon as every member has an outcome: a client, or a failure the site server's own
//! probe proves (no ping, SMB 445 or RPC 135: [`prereq::blocker`]); apply then fails at once with
//! each member's reason instead of holding for `wait_minutes`.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::spanned::Spanned;

use super::client_group::prereq;
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// `[collection_push.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPushSpec {
    /// Key of the `site` that pushes (its client push installation settings and accounts apply).
    pub site: Spanned<String>,
    /// The device collection's name (its ID is looked up with `Get-CMDeviceCollection`), e.g. "All Desktop and Server
    /// Clients".
    pub collection: String,
    /// "Always install the client software" (`-AlwaysInstallClient`).
    #[serde(default)]
    pub always_install: bool,
    /// "Allow the client software to be installed on domain controllers"
    /// (`-IncludeDomainController`).
    #[serde(default)]
    pub include_domain_controllers: bool,
    /// Minutes apply waits for the site to report the clients (default 10; the lab is immediate).
    #[serde(default)]
    pub wait_minutes: Option<u64>,
}

/// The `collection_push` kind.
pub struct CollectionPushKind;

#[async_trait::async_trait]
impl Kind for CollectionPushKind {
    fn name(&self) -> &'static str {
        "collection_push"
    }

    fn description(&self) -> &'static str {
        "Client push to every member of a device collection (the push wizard's collection target)."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<CollectionPushSpec>()
    }

    fn delete_mode(&self) -> DeleteMode {
        DeleteMode::Forget
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let spec: CollectionPushSpec = kit::decode_typed(input, "collection_push")?;
        let (connection, reference, mut meta) = crate::configmgr::site_binding(&spec.site, true);
        let mut attrs = Map::new();
        attrs.insert("collection".into(), json!(spec.collection));
        attrs.insert("clients_missing".into(), json!([]));
        let mut d = Decoded::new(
            attrs,
            connection,
            format!("{}/{}", spec.site.value.to_uppercase(), spec.collection),
        );
        d.references.extend(reference);
        meta.insert("always_install".into(), json!(spec.always_install));
        meta.insert(
            "include_domain_controllers".into(),
            json!(spec.include_domain_controllers),
        );
        meta.insert(
            "wait_minutes".into(),
            json!(spec.wait_minutes.unwrap_or(10)),
        );
        d.meta = meta;
        d.force_new.insert("collection".into());
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        // Requests come per kind and connection: the site server of the first one's site.
        let Some(first) = requests.first() else {
            return Vec::new();
        };
        let meta = kit::meta_of(first.desired.as_ref(), first.prior.as_ref());
        let site = meta
            .get("site")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let code = kit::site_code(ctx, &meta);
        let connection = first.connection.clone();
        let mut results = kit::read_by_site(
            ctx,
            requests,
            |script, _code, r| {
                script.push(
                    Call::new("Get-CMDevice")
                        .arg("CollectionName", collection_of(r))
                        .switch("Fast"),
                )
            },
            |connection, script, out, id, r| {
                let members = kit::value_of(connection, script, out, *id)?;
                Ok(Some(observed(&collection_of(r), members)))
            },
        )
        .await;
        // The prerequisites of the members still without a client, in one Script.
        let mut missing: Vec<String> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                ReadOutcome::Present(o) => Some(missing_of(&o.attrs)),
                _ => None,
            })
            .flatten()
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            return results;
        }
        let accounts = prereq::push_accounts(ctx, &site);
        let found = prereq::probe(ctx, &connection, &code, &missing).await;
        for r in &mut results {
            if let ReadOutcome::Present(o) = &mut r.outcome {
                for host in missing_of(&o.attrs) {
                    match &found {
                        Ok(f) => o.notes.extend(
                            f.get(&host.to_lowercase())
                                .map(|t| prereq::notes(&host, t, &accounts))
                                .unwrap_or_default(),
                        ),
                        Err(e) => o.notes.push(format!("prerequisites not checked: {e}")),
                    }
                }
            }
        }
        results
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let Some(d) = op.desired.clone() else {
            // Leaving the manifest uninstalls nothing (DeleteMode::Forget).
            return Ok(Applied {
                id: String::new(),
                attrs: Map::new(),
            });
        };
        let code = kit::site_code(ctx, &d.meta);
        let collection = d.str_attr("collection").unwrap_or_default().to_string();
        let flag = |k: &str| d.meta.get(k).and_then(Value::as_bool).unwrap_or(false);
        let target = Target::SiteServer {
            site_code: code.clone(),
        };
        // Install-CMClient reaches a collection by its ID (parameter set SearchByIdMandatory);
        // its -Name names a client (PSRef Install-CMClient.md).
        let id = collection_id(ctx, &op.connection, target.clone(), &collection).await?;
        let mut call = Call::new("Install-CMClient")
            .arg("CollectionId", id.as_str())
            .arg("SiteCode", code.as_str());
        if flag("always_install") {
            call = call.arg("AlwaysInstallClient", true);
        }
        if flag("include_domain_controllers") {
            call = call.arg("IncludeDomainController", true);
        }
        kit::run_writes(ctx, &op.connection, target, vec![call]).await?;
        let wait = d
            .meta
            .get("wait_minutes")
            .and_then(Value::as_u64)
            .unwrap_or(10);
        let deadline = Instant::now() + Duration::from_secs(wait * 60);
        loop {
            let back = kit::read_back(self, ctx, &op, &format!("collection {collection}")).await?;
            let missing = missing_of(&back.attrs);
            if missing.is_empty() {
                return Ok(back);
            }
            // Each member without a client either is still installing or cannot be pushed to;
            // when every one of them has a failure the site server itself proves, waiting
            // longer changes nothing.
            let mut blocked = blockers(ctx, &op.connection, &code, &missing).await;
            // A member the site server can reach may still have failed: access denied, no
            // ADMIN$ share. Only ccm.log on the site server says so.
            let unexplained: Vec<String> = missing
                .iter()
                .filter(|m| !blocked.iter().any(|b| b.starts_with(&format!("{m}: "))))
                .cloned()
                .collect();
            if let Ok(logged) =
                super::push_log::failures(ctx, &op.connection, &code, &unexplained).await
            {
                blocked.extend(logged);
            }
            let all_blocked = blocked.len() >= missing.len();
            if all_blocked || Instant::now() >= deadline {
                let mut message = format!(
                    "the push to collection '{collection}' was queued but {} of its members report no client yet ({})",
                    missing.len(),
                    missing.join(", ")
                );
                for reason in &blocked {
                    message.push_str("; ");
                    message.push_str(reason);
                }
                message.push_str(if all_blocked {
                    "; none of them can be pushed to until that is fixed (ConfigMgr retries failed pushes every hour for up to 7 days), so apply stops now: fix it and plan again"
                } else {
                    "; ConfigMgr retries failed pushes every hour for up to 7 days (see ccm.log on the site server); plan again later"
                });
                return Err(RemoteError {
                    host: op.connection.host(),
                    operation: Some("Install-CMClient".into()),
                    message,
                    category: None,
                    unreachable: None,
                });
            }
            tokio::time::sleep(Duration::from_secs(15)).await;
        }
    }

    fn plan_notes(
        &self,
        desired: Option<&cmdeploy_engine::resource::Resource>,
        _observed: Option<&Observed>,
    ) -> Vec<String> {
        if desired.is_none() {
            return Vec::new();
        }
        vec!["client push to the collection from the site server (Install-CMClient -CollectionId); ConfigMgr retries a failed push hourly for up to 7 days, and a later plan pushes again".into()]
    }
}

/// The members of `missing` that the site server proves cannot be pushed to, each as
/// `name: reason` ([`prereq::blocker`]). A failed probe proves nothing: apply keeps waiting.
async fn blockers(
    ctx: &Context,
    connection: &cmdeploy_engine::resource::Connection,
    code: &str,
    missing: &[String],
) -> Vec<String> {
    let Ok(found) = prereq::probe(ctx, connection, code, missing).await else {
        return Vec::new();
    };
    missing
        .iter()
        .filter_map(|m| {
            let t = found.get(&m.to_lowercase())?;
            prereq::blocker(m, t).map(|r| format!("{m}: {r}"))
        })
        .collect()
}

/// The `CollectionID` of the device collection named `name` (`Get-CMDeviceCollection -Name`).
///
/// # Errors
/// The read failed, no collection has that name, or the result has no `CollectionID`.
async fn collection_id(
    ctx: &Context,
    connection: &cmdeploy_engine::resource::Connection,
    target: Target,
    name: &str,
) -> Result<String, RemoteError> {
    let mut script = Script::new(target);
    script.push(Call::new("Get-CMDeviceCollection").arg("Name", name));
    let out = kit::run(ctx, connection, &script).await?;
    let v = kit::value_of(connection, &script, &out, 0)?;
    let error = |message: String| RemoteError {
        host: connection.host(),
        operation: Some("Get-CMDeviceCollection".into()),
        message,
        category: None,
        unreachable: None,
    };
    let first = kit::items(v)
        .into_iter()
        .next()
        .ok_or_else(|| error(format!("no device collection is named '{name}'")))?;
    kit::required_str(first, "CollectionID")
        .map(str::to_string)
        .map_err(|m| error(format!("device collection '{name}': {m}")))
}

fn collection_of(r: &ReadRequest) -> String {
    r.desired
        .as_ref()
        .and_then(|d| d.str_attr("collection").map(str::to_string))
        .or_else(|| {
            r.prior.as_ref().and_then(|p| {
                p.attributes
                    .get("collection")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        })
        .unwrap_or_default()
}

/// The observed collection: the members without a client (sorted short names, lower case).
fn observed(collection: &str, members: &Value) -> Observed {
    let mut missing: Vec<String> = kit::items(members)
        .into_iter()
        .filter(|d| d.get("IsClient").and_then(Value::as_bool) != Some(true))
        .map(|d| kit::s(d, "Name").to_lowercase())
        .collect();
    missing.sort();
    missing.dedup();
    let mut attrs = Map::new();
    attrs.insert("collection".into(), json!(collection));
    attrs.insert("clients_missing".into(), json!(missing));
    Observed {
        id: collection.to_string(),
        attrs,
        notes: Vec::new(),
        private: Default::default(),
    }
}

fn missing_of(attrs: &Map<String, Value>) -> Vec<String> {
    attrs
        .get("clients_missing")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}
