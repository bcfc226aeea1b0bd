//! `client_group`: hosts client push cannot reach, installed with a validated CCMSetup command
//! line over each host's connection: `workgroup` computers (configmgr.md §6 rule 8) and
//! `internet`-based clients (rule 6). One instance per host: `client_group.NAME["host"]`.
//!
//! Refresh reads the site's device records first (`Get-CMDevice`, one Script per site for all
//! hosts); a host is probed directly only when the site has no healthy record of it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Connection, ConnectionRef};
use cmdeploy_engine::spanned::Spanned;

use super::imaging::ConnectionField;
use super::probe;
use crate::ccmsetup::{
    self, CcmsetupParameters, ClientMsiProperties, Context as CcmContext, Program,
};
use crate::kit;
use crate::powershell::{Call, Script, Target};

/// How the group's hosts get the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Workgroup computers: manual install with SMSSITECODE and DNSSUFFIX (or an MP).
    Workgroup,
    /// Internet-based clients: PKI certificate, CCMHOSTNAME, SMSSIGNCERT, a local source.
    Internet,
}

/// `[client_group.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGroupSpec {
    /// `workgroup` or `internet`.
    pub method: Method,
    /// Key of the `site` the clients are assigned to (its records are read first).
    pub site: Spanned<String>,
    /// How to reach each host (templated per host, e.g. `{ host = "{{ host }}.contoso.com" }`);
    /// defaults to `{ host = "{{ host }}" }`.
    #[serde(default)]
    pub connection: Option<ConnectionField>,
    /// Local folder on each host holding a copy of the site's `Client` folder (`/source`).
    pub source: String,
    /// client.msi properties; `SMSSITECODE` defaults to the site's code.
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters (`UsePKICert`, `NoCRLCheck`, `mp`, ...).
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

/// The `client_group` kind.
pub struct ClientGroupKind;

#[async_trait::async_trait]
impl Kind for ClientGroupKind {
    fn name(&self) -> &'static str {
        "client_group"
    }

    fn description(&self) -> &'static str {
        "Hosts client push cannot reach (workgroup, internet-based), installed with a validated CCMSetup command line; one instance per host."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<ClientGroupSpec>()
    }

    fn expandable(&self) -> bool {
        true
    }

    fn delete_mode(&self) -> DeleteMode {
        DeleteMode::Forget
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let span = input.span.clone();
        let host = input.address.key.clone().unwrap_or_default();
        let mut spec: ClientGroupSpec = kit::decode_typed(input, "client_group")?;
        if spec.properties.sms_site_code.is_none() {
            spec.properties.sms_site_code = Some(spec.site.value.to_uppercase());
        }
        if spec.ccmsetup.source.is_none() {
            spec.ccmsetup.source = Some(vec![spec.source.clone()]);
        }
        let mut cmd = ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties);
        cmd.program = Program::Exe {
            path: "CCMSetup.exe".into(),
        };
        let context = match spec.method {
            Method::Workgroup => CcmContext::Workgroup,
            Method::Internet => CcmContext::Internet,
        };
        let (errors, warnings) = kit::finding_diagnostics(
            ccmsetup::check_command_line(&cmd, Some(context)),
            &file,
            span.clone(),
            &format!("{}: ", cmd.render()),
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        let connection = match &spec.connection {
            Some(c) => c.to_ref(),
            None => ConnectionRef::Inline(json!({"host": host})),
        };
        let mut attrs = Map::new();
        attrs.insert("installed".into(), json!(true));
        attrs.insert(
            "site_code".into(),
            json!(spec
                .properties
                .sms_site_code
                .clone()
                .unwrap_or_default()
                .to_uppercase()),
        );
        attrs.insert("registered".into(), json!(true));
        let mut d = Decoded::new(attrs, connection, host.to_lowercase());
        d.read_connection = Some(ConnectionRef::Inherit(cmdeploy_engine::Address::new(
            "site",
            spec.site.value.clone(),
        )));
        d.references
            .push(crate::configmgr::reference("site", &spec.site));
        d.meta.insert("site".into(), json!(spec.site.value));
        d.meta.insert("source".into(), json!(spec.source));
        d.meta
            .insert("command_line".into(), json!(cmd.render_args()));
        d.meta.insert(
            "method".into(),
            serde_json::to_value(spec.method).unwrap_or(Value::Null),
        );
        d.warnings = warnings;
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let Some(site_connection) = requests.first().map(|r| r.connection.clone()) else {
            return Vec::new();
        };
        let code = kit::site_code(
            ctx,
            &kit::meta_of(requests[0].desired.as_ref(), requests[0].prior.as_ref()),
        );
        let mut script = Script::new(Target::SiteServer {
            site_code: code.clone(),
        });
        script.push(Call::new("Get-CMDevice").switch("Fast"));
        let devices = kit::run(ctx, &site_connection, &script)
            .await
            .and_then(|out| kit::value_of(&site_connection, &script, &out, 0).cloned());
        let mut results = Vec::new();
        for r in requests {
            let host = r.address.key.clone().unwrap_or_default();
            let want_site = r
                .desired
                .as_ref()
                .and_then(|d| d.str_attr("site_code"))
                .unwrap_or(&code)
                .to_string();
            let record = devices.as_ref().ok().and_then(|all| {
                kit::items(all)
                    .into_iter()
                    .find(|d| short(kit::s(d, "Name")).eq_ignore_ascii_case(short(&host)))
                    .cloned()
            });
            let healthy = record.as_ref().is_some_and(|d| {
                d.get("IsClient").and_then(Value::as_bool) == Some(true)
                    && kit::s(d, "SiteCode").eq_ignore_ascii_case(&want_site)
            });
            let outcome = if healthy {
                let mut attrs = Map::new();
                attrs.insert("installed".into(), json!(true));
                attrs.insert("site_code".into(), json!(want_site.to_uppercase()));
                attrs.insert("registered".into(), json!(true));
                ReadOutcome::Present(Observed {
                    id: host.to_lowercase(),
                    attrs,
                    notes: Vec::new(),
                })
            } else {
                // No healthy record: ask the host itself.
                let connection = host_connection(ctx, &r);
                match probe::probe(ctx, &connection).await {
                    Ok(state) if !state.installed => ReadOutcome::Absent,
                    Ok(state) => ReadOutcome::Present(observed(&state, &host)),
                    Err(e) => ReadOutcome::Failed(e),
                }
            };
            results.push(ReadResult {
                address: r.address,
                outcome,
            });
        }
        results
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let Some(d) = op.desired.clone() else {
            return Ok(Applied {
                id: String::new(),
                attrs: Map::new(),
            });
        };
        let source = d
            .meta
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut cmd = d
            .meta
            .get("command_line")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let state = probe::probe(ctx, &op.connection).await?;
        if state.installed {
            // Settings of an installed client change only with /forceinstall (reinstall precedence).
            cmd = format!("/forceinstall {cmd}");
        }
        let log = probe::install(ctx, &op.connection, &source, &cmd).await?;
        let after = probe::probe(ctx, &op.connection).await?;
        let host = op.address.key.clone().unwrap_or_default();
        let o = observed(&after, &host);
        if o.attrs.get("registered") != Some(&json!(true))
            || o.attrs.get("site_code") != d.attrs.get("site_code")
        {
            return Err(RemoteError {
                host: op.connection.host(),
                cmdlet: Some("Install-CmdeployClient".into()),
                message: format!(
                    "CCMSetup.exe {cmd} finished but the client is not working: {log}"
                ),
                category: None,
            });
        }
        Ok(Applied {
            id: o.id,
            attrs: o.attrs,
        })
    }
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn host_connection(ctx: &Context, r: &ReadRequest) -> Connection {
    ctx.resources
        .connections
        .get(&r.address)
        .cloned()
        .or_else(|| r.prior.as_ref().map(|p| p.connection.clone()))
        .unwrap_or_else(|| Connection {
            key: format!("host:{}", r.address.key.clone().unwrap_or_default()),
            spec: json!({"host": r.address.key.clone().unwrap_or_default()}),
        })
}

fn observed(state: &probe::ClientState, host: &str) -> Observed {
    let mut attrs = Map::new();
    attrs.insert("installed".into(), json!(state.installed));
    attrs.insert(
        "site_code".into(),
        json!(state.site_code.clone().unwrap_or_default().to_uppercase()),
    );
    attrs.insert("registered".into(), json!(state.management_point_reachable));
    let mut notes = Vec::new();
    if state.installed && !state.management_point_reachable {
        notes.push("the client is installed but has not reached its management point".into());
    }
    Observed {
        id: host.to_lowercase(),
        attrs,
        notes,
    }
}
