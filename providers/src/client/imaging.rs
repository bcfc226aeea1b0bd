//! `imaging`: a reference computer prepared for capture with the client preinstalled
//! (configmgr.md §4, §6 rule 21; deploy-clients-to-windows-computers.md, computer imaging).
//!
//! The desired state is "prepared for capture": client installed without a site code, CcmExec
//! stopped, SMSCFG.INI removed, SMS-store and PKI client certificates removed, and the trusted root
//! key removed only when the image goes to a different hierarchy. The plan lists the steps a probe
//! shows are still needed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, DeleteMode, Kind, Observed, Operation, ReadOutcome,
    ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::ConnectionRef;
use cmdeploy_engine::resource::Resource;
use cmdeploy_engine::spanned::Spanned;

use super::probe::{self, ClientState};
use crate::ccmsetup::{self, CcmsetupParameters, ClientMsiProperties};
use crate::kit;
use crate::powershell::{Call, Target};

/// Where the image will be deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Hierarchy {
    /// The same ConfigMgr hierarchy: the trusted root key stays.
    Same,
    /// A different hierarchy: the trusted root key is removed.
    Different,
}

/// `[imaging.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagingSpec {
    /// The reference computer: a connection name, or an inline `{ host = "..." }`.
    pub connection: ConnectionField,
    /// `same` or `different` hierarchy.
    pub hierarchy: Hierarchy,
    /// Local folder on the reference computer holding a copy of the site's `Client` folder.
    pub source: String,
    /// Extra client.msi properties (never `SMSSITECODE`: the image must not carry a site code).
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// Extra CCMSetup parameters.
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

/// A connection given by name or inline.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ConnectionField {
    /// A `[connection.NAME]`.
    Named(Spanned<String>),
    /// An inline table, e.g. `{ host = "ref01.contoso.com" }`.
    Inline(Map<String, Value>),
}

impl ConnectionField {
    /// The engine's connection reference.
    pub fn to_ref(&self) -> ConnectionRef {
        match self {
            ConnectionField::Named(n) => ConnectionRef::Named(n.clone()),
            ConnectionField::Inline(m) => ConnectionRef::Inline(Value::Object(m.clone())),
        }
    }
}

/// Steps, in the order they are carried out: (attribute, desired value, what the step does).
const STEPS: [(&str, &str); 7] = [
    ("client_installed", "install the client without a site code"),
    ("site_code", "the client must not be assigned to a site (install without SMSSITECODE, outside site-assignment boundaries)"),
    ("ccmexec_running", "stop the SMS Agent Host (CcmExec)"),
    ("smscfg_ini", "delete %WinDir%\\SMSCFG.INI"),
    ("sms_certificates", "remove the certificates in the SMS store"),
    ("pki_certificates", "remove PKI client certificates from the Personal store"),
    ("trusted_root_key", "remove the trusted root key (the image leaves this hierarchy)"),
];

/// The `imaging` kind.
pub struct ImagingKind;

#[async_trait::async_trait]
impl Kind for ImagingKind {
    fn name(&self) -> &'static str {
        "imaging"
    }

    fn description(&self) -> &'static str {
        "A reference computer prepared for capture with the ConfigMgr client preinstalled."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<ImagingSpec>()
    }

    fn delete_mode(&self) -> DeleteMode {
        DeleteMode::Forget
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let span = input.span.clone();
        let spec: ImagingSpec = kit::decode_typed(input, "imaging")?;
        if super::client_group::spec::is_unc(&spec.source) {
            return Err(vec![
                super::client_group::spec::unc_source(&spec.source).at_span(&file, span)
            ]);
        }
        if spec.properties.sms_site_code.is_some() {
            return Err(vec![Diagnostic::error("cmdeploy::imaging::site_code", "a reference computer is installed without a site code")
                .with_help("remove SMSSITECODE: the client in the image must not be assigned (configmgr.md §4 step 1, §6 rule 21)")
                .at_span(&file, span)]);
        }
        let mut attrs = Map::new();
        attrs.insert("client_installed".into(), json!(true));
        attrs.insert("site_code".into(), json!(""));
        attrs.insert("ccmexec_running".into(), json!(false));
        attrs.insert("smscfg_ini".into(), json!(false));
        attrs.insert("sms_certificates".into(), json!(0));
        attrs.insert("pki_certificates".into(), json!(0));
        if spec.hierarchy == Hierarchy::Different {
            attrs.insert("trusted_root_key".into(), json!(false));
        }
        let cmd = ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties);
        let connection = spec.connection.to_ref();
        let natural = match &spec.connection {
            ConnectionField::Named(n) => n.value.clone(),
            ConnectionField::Inline(m) => m
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase(),
        };
        let mut d = Decoded::new(attrs, connection, natural);
        d.meta.insert("source".into(), json!(spec.source));
        d.meta
            .insert("command_line".into(), json!(cmd.masked().render_args()));
        // The line as run, credentials included: in memory only, never in state.
        d.private
            .insert("command_line".into(), json!(cmd.render_args()));
        d.meta.insert(
            "hierarchy".into(),
            serde_json::to_value(spec.hierarchy).unwrap_or(Value::Null),
        );
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        let mut results = Vec::new();
        for r in requests {
            let outcome = match probe::probe(ctx, &r.connection).await {
                Ok(state) => ReadOutcome::Present(observed(&state, &r.connection.host())),
                Err(e) => ReadOutcome::Failed(e),
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
        let host = op.connection.host();
        let mut state = probe::probe(ctx, &op.connection).await?;
        let mut log = String::new();
        if !state.installed {
            let source = d
                .meta
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let cmd = d
                .private
                .get("command_line")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (log, state) = probe::install_and_probe(ctx, &op.connection, &source, &cmd).await?;
        }
        let mut calls = Vec::new();
        if state.ccm_exec_running {
            calls.push(Call::new("Stop-CmdeployClientService"));
        }
        if state.sms_cfg_ini {
            calls.push(Call::new("Remove-CmdeploySmsCfg"));
        }
        if state.sms_certificates > 0 {
            calls.push(Call::new("Remove-CmdeployCertificates").arg("Store", "SMS"));
        }
        if state.pki_certificates > 0 {
            calls.push(Call::new("Remove-CmdeployCertificates").arg("Store", "My"));
        }
        if d.attrs.contains_key("trusted_root_key") && state.trusted_root_key {
            calls.push(Call::new("Remove-CmdeployTrustedRootKey"));
        }
        kit::run_writes(ctx, &op.connection, Target::Host, calls).await?;
        let after = probe::probe(ctx, &op.connection).await?;
        if after.site_code.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(RemoteError::new(
                host,
                format!(
                    "the client on the reference computer was assigned to site {} during installation ({}); an image must not carry a site code: move the computer outside site-assignment boundaries or uninstall and reinstall it there",
                    after.site_code.clone().unwrap_or_default(),
                    log
                ),
            ));
        }
        let o = observed(&after, &host);
        Ok(Applied {
            id: o.id,
            attrs: o.attrs,
        })
    }

    fn target_host(&self, desired: &cmdeploy_engine::resource::Resource) -> Option<String> {
        Some(desired.natural_key.clone())
    }

    fn planned_commands(&self, desired: &Resource, observed: Option<&Observed>) -> Vec<String> {
        // CCMSetup runs only when the reference computer has no client yet (see apply).
        let installed =
            observed.and_then(|o| o.attrs.get("client_installed")) == Some(&json!(true));
        if installed {
            Vec::new()
        } else {
            vec![super::command_line::shown(desired, false)]
        }
    }

    fn plan_notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        let (Some(d), Some(o)) = (desired, observed) else {
            return vec![
                "steps: all of them (the reference computer could not be probed yet)".into(),
            ];
        };
        let fresh_install = o.attrs.get("client_installed") != Some(&json!(true));
        let needed: Vec<&str> = STEPS
            .iter()
            .filter(|(attr, _)| {
                d.attrs.get(*attr).is_some_and(|want| {
                    let differs = o.attrs.get(*attr) != Some(want);
                    // A fresh install starts CcmExec and writes SMSCFG.INI and the SMS certificate.
                    let after_install = fresh_install
                        && matches!(
                            *attr,
                            "ccmexec_running"
                                | "smscfg_ini"
                                | "sms_certificates"
                                | "trusted_root_key"
                        );
                    differs || after_install
                })
            })
            .map(|(_, step)| *step)
            .collect();
        if needed.is_empty() {
            Vec::new()
        } else {
            vec![format!("steps still needed: {}", needed.join("; "))]
        }
    }
}

fn observed(state: &ClientState, host: &str) -> Observed {
    let mut attrs = Map::new();
    attrs.insert("client_installed".into(), json!(state.installed));
    attrs.insert(
        "site_code".into(),
        json!(state.site_code.clone().unwrap_or_default()),
    );
    attrs.insert("ccmexec_running".into(), json!(state.ccm_exec_running));
    attrs.insert("smscfg_ini".into(), json!(state.sms_cfg_ini));
    attrs.insert("sms_certificates".into(), json!(state.sms_certificates));
    attrs.insert("pki_certificates".into(), json!(state.pki_certificates));
    attrs.insert("trusted_root_key".into(), json!(state.trusted_root_key));
    Observed {
        id: host.to_lowercase(),
        attrs,
        notes: Vec::new(),
        private: Default::default(),
    }
}
