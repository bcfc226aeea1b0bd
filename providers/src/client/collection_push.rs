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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    to_attributes, Context, DeleteMode, Observed, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, Resource};
use cmdeploy_engine::spanned::Spanned;

use super::client_group::prereq;
use crate::kit;
use crate::powershell::{Call, Script, Target};
use crate::sdk::{
    self, ApplyInSteps, Change, Declared, DecodeCx, OnHosts, PlanNotes, ReadValues, TypedKind,
};

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

/// The collection as cmdeploy compares it: desired "every member has a client", observed from
/// `Get-CMDevice -CollectionName -Fast` (IsClient).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionPushModel {
    /// The device collection's name; a new name is a new push target.
    pub collection: String,
    /// Members without a client (sorted short names, lower case).
    pub clients_missing: Vec<String>,
}

type Model = CollectionPushModel;

/// The push wizard's options, kept with the resource and its state entry (`meta`), never diffed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PushOptions {
    always_install: bool,
    include_domain_controllers: bool,
    /// Minutes apply waits for the site to report the clients.
    wait_minutes: u64,
}

impl PushOptions {
    fn of(meta: &Attributes) -> PushOptions {
        sdk::model(meta).unwrap_or(PushOptions {
            always_install: false,
            include_domain_controllers: false,
            wait_minutes: 10,
        })
    }
}

/// The `collection_push` kind. Apply pushes, then waits for the site to report the clients and
/// probes the members still without one, so it applies in steps ([`ApplyInSteps`]).
pub struct CollectionPushKind;

#[async_trait::async_trait]
impl TypedKind for CollectionPushKind {
    type Spec = CollectionPushSpec;
    type Model = Model;
    const KIND: &'static str = "collection_push";
    const DESCRIPTION: &'static str =
        "Client push to every member of a device collection (the push wizard's collection target).";

    fn decode(
        &self,
        spec: CollectionPushSpec,
        _cx: &DecodeCx,
    ) -> Result<Declared<Model>, Vec<Diagnostic>> {
        let (connection, reference, mut meta) = crate::configmgr::site_binding(&spec.site, true);
        let model = Model {
            collection: spec.collection.clone(),
            clients_missing: Vec::new(),
        };
        let mut d = Declared::new(
            model,
            connection,
            format!("{}/{}", spec.site.value.to_uppercase(), spec.collection),
        );
        d.references.extend(reference);
        meta.extend(to_attributes(&PushOptions {
            always_install: spec.always_install,
            include_domain_controllers: spec.include_domain_controllers,
            wait_minutes: spec.wait_minutes.unwrap_or(10),
        }));
        d.meta = meta;
        // The collection is the push target's identity.
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
        let mut results = sdk::read_by_site(
            ctx,
            requests,
            |_code, r| {
                let read = Call::new("Get-CMDevice")
                    .arg("CollectionName", collection_of(r))
                    .switch("Fast");
                (vec![read], ())
            },
            |values: &ReadValues<'_>, _: &(), r| {
                Ok(Some(observed(&collection_of(r), values.get(0)?)))
            },
        )
        .await;
        // The prerequisites of the members still without a client, in one Script.
        let mut missing: Vec<String> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                ReadOutcome::Present(o) => Some(missing_of(o)),
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
                for host in missing_of(o) {
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

    fn in_steps(&self) -> Option<&dyn ApplyInSteps<Model>> {
        Some(self)
    }

    fn on_hosts(&self) -> Option<&dyn OnHosts> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }
}

#[async_trait::async_trait]
impl ApplyInSteps<Model> for CollectionPushKind {
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, Model>,
    ) -> Result<(String, Option<Model>), RemoteError> {
        let op = change.op;
        let (Some(d), Some(want)) = (op.desired.as_ref(), change.desired.as_ref()) else {
            // Leaving the manifest uninstalls nothing (DeleteMode::Forget).
            return Ok((String::new(), None));
        };
        let code = kit::site_code(ctx, &d.meta);
        let collection = want.collection.clone();
        let options = PushOptions::of(&d.meta);
        let target = Target::SiteServer {
            site_code: code.clone(),
        };
        // Install-CMClient reaches a collection by its ID (parameter set SearchByIdMandatory);
        // its -Name names a client (PSRef Install-CMClient.md).
        let id = collection_id(ctx, &op.connection, target.clone(), &collection).await?;
        let mut call = Call::new("Install-CMClient")
            .arg("CollectionId", id.as_str())
            .arg("SiteCode", code.as_str());
        if options.always_install {
            call = call.arg("AlwaysInstallClient", true);
        }
        if options.include_domain_controllers {
            call = call.arg("IncludeDomainController", true);
        }
        kit::run_writes(ctx, &op.connection, target, vec![call]).await?;
        let deadline = Instant::now() + Duration::from_secs(options.wait_minutes * 60);
        loop {
            let (id, model) =
                sdk::read_again(self, ctx, op, &format!("collection {collection}")).await?;
            let missing = model.clients_missing.clone();
            if missing.is_empty() {
                return Ok((id, Some(model)));
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
}

impl OnHosts for CollectionPushKind {
    fn delete_mode_of(&self, _meta: &Attributes) -> DeleteMode {
        DeleteMode::Forget
    }

    fn target_host(&self, _desired: &Resource) -> Option<String> {
        // The members are pushed to by the site server, not reached by cmdeploy.
        None
    }
}

impl PlanNotes for CollectionPushKind {
    fn notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
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
        .and_then(|d| sdk::model::<Model>(&d.attrs))
        .or_else(|| {
            r.prior
                .as_ref()
                .and_then(|p| sdk::model::<Model>(&p.attributes))
        })
        .map(|m| m.collection)
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
    let model = Model {
        collection: collection.to_string(),
        clients_missing: missing,
    };
    sdk::observed(collection, &model)
}

fn missing_of(o: &Observed) -> Vec<String> {
    sdk::model::<Model>(&o.attrs)
        .map(|m| m.clients_missing)
        .unwrap_or_default()
}
