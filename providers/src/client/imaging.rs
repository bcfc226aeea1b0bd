//! `imaging`: a reference computer prepared for capture with the client preinstalled
//! (configmgr.md §4, §6 rule 21; deploy-clients-to-windows-computers.md, computer imaging).
//!
//! The desired state is "prepared for capture": client installed without a site code, CcmExec
//! stopped, SMSCFG.INI removed, SMS-store and PKI client certificates removed, and the trusted root
//! key removed only when the image goes to a different hierarchy. The plan lists the steps a probe
//! shows are still needed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{
    Context, DeleteMode, Observed, ReadOutcome, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::{Attributes, Resource};

use super::connection_field::ConnectionField;
use super::probe::{self, ClientState};
use crate::ccmsetup::{self, CcmsetupParameters, ClientMsiProperties};
use crate::kit;
use crate::powershell::{Call, Target};
use crate::sdk::{self, ApplyInSteps, Change, Declared, DecodeCx, OnHosts, PlanNotes, TypedKind};

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

/// The reference computer as cmdeploy compares it: desired "prepared for capture" from the
/// manifest, observed from the runner's `Get-CmdeployClientState` probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagingModel {
    /// A ConfigMgr client is installed.
    pub client_installed: bool,
    /// The client's assigned site code (empty: unassigned, as an image must be).
    pub site_code: String,
    /// The SMS Agent Host (CcmExec) runs.
    pub ccmexec_running: bool,
    /// `%WinDir%\SMSCFG.INI` exists.
    pub smscfg_ini: bool,
    /// Certificates in the SMS store.
    pub sms_certificates: i64,
    /// PKI client-authentication certificates in the Personal store.
    pub pki_certificates: i64,
    /// The trusted root key is present; managed only when the image leaves the hierarchy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_key: Option<bool>,
}

type Model = ImagingModel;

/// The step that makes each difference go away, in the order apply carries them out, for the
/// plan reader. A fresh install starts CcmExec and writes SMSCFG.INI, the SMS certificate and the
/// trusted root key, so those steps follow it whatever the probe said.
fn steps_needed(d: &Model, o: &Model) -> Vec<&'static str> {
    let fresh = !o.client_installed;
    let steps = [
        (
            d.client_installed != o.client_installed,
            "install the client without a site code",
        ),
        (
            d.site_code != o.site_code,
            "the client must not be assigned to a site (install without SMSSITECODE, outside site-assignment boundaries)",
        ),
        (
            d.ccmexec_running != o.ccmexec_running || fresh,
            "stop the SMS Agent Host (CcmExec)",
        ),
        (
            d.smscfg_ini != o.smscfg_ini || fresh,
            "delete %WinDir%\\SMSCFG.INI",
        ),
        (
            d.sms_certificates != o.sms_certificates || fresh,
            "remove the certificates in the SMS store",
        ),
        (
            d.pki_certificates != o.pki_certificates,
            "remove PKI client certificates from the Personal store",
        ),
        (
            d.trusted_root_key.is_some() && (d.trusted_root_key != o.trusted_root_key || fresh),
            "remove the trusted root key (the image leaves this hierarchy)",
        ),
    ];
    steps
        .into_iter()
        .filter(|(needed, _)| *needed)
        .map(|(_, step)| step)
        .collect()
}

/// The `imaging` kind. Its apply waits for CCMSetup and probes the computer between steps, so it
/// applies in steps ([`ApplyInSteps`]).
pub struct ImagingKind;

/// Provider-private keys: the source folder and the CCMSetup line, masked (`meta`, kept in
/// state) and as run (`private`, in memory only).
const SOURCE: &str = "source";
const COMMAND_LINE: &str = "command_line";

#[async_trait::async_trait]
impl TypedKind for ImagingKind {
    type Spec = ImagingSpec;
    type Model = Model;
    const KIND: &'static str = "imaging";
    const DESCRIPTION: &'static str =
        "A reference computer prepared for capture with the ConfigMgr client preinstalled.";

    fn decode(&self, spec: ImagingSpec, cx: &DecodeCx) -> Result<Declared<Model>, Vec<Diagnostic>> {
        let (file, span) = (&cx.file, cx.span.clone());
        if super::client_group::spec::is_unc(&spec.source) {
            return Err(vec![
                super::client_group::spec::unc_source(&spec.source).at_span(file, span)
            ]);
        }
        if spec.properties.sms_site_code.is_some() {
            return Err(vec![Diagnostic::error("cmdeploy::imaging::site_code", "a reference computer is installed without a site code")
                .with_help("remove SMSSITECODE: the client in the image must not be assigned (configmgr.md §4 step 1, §6 rule 21)")
                .at_span(file, span)]);
        }
        let model = Model {
            client_installed: true,
            site_code: String::new(),
            ccmexec_running: false,
            smscfg_ini: false,
            sms_certificates: 0,
            pki_certificates: 0,
            trusted_root_key: (spec.hierarchy == Hierarchy::Different).then_some(false),
        };
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
        let mut d = Declared::new(model, connection, natural);
        d.meta.insert(SOURCE.into(), json!(spec.source));
        d.meta
            .insert(COMMAND_LINE.into(), json!(cmd.masked().render_args()));
        // The line as run, credentials included: in memory only, never in state.
        d.private
            .insert(COMMAND_LINE.into(), json!(cmd.render_args()));
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
                Ok(state) => ReadOutcome::Present(sdk::observed(
                    r.connection.host().to_lowercase(),
                    &model_of(&state),
                )),
                Err(e) => ReadOutcome::Failed(e),
            };
            results.push(ReadResult {
                address: r.address,
                outcome,
            });
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
impl ApplyInSteps<Model> for ImagingKind {
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, Model>,
    ) -> Result<(String, Option<Model>), RemoteError> {
        let op = change.op;
        let (Some(d), Some(want)) = (op.desired.as_ref(), change.desired.as_ref()) else {
            // Forgotten, never uninstalled (DeleteMode::Forget).
            return Ok((String::new(), None));
        };
        let host = op.connection.host();
        let text = |a: &Attributes, k: &str| {
            a.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut state = probe::probe(ctx, &op.connection).await?;
        let mut log = String::new();
        if !state.installed {
            let (source, cmd) = (text(&d.meta, SOURCE), text(&d.private, COMMAND_LINE));
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
        if want.trusted_root_key.is_some() && state.trusted_root_key {
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
        Ok((host.to_lowercase(), Some(model_of(&after))))
    }
}

impl OnHosts for ImagingKind {
    fn delete_mode_of(&self, _meta: &Attributes) -> DeleteMode {
        DeleteMode::Forget
    }

    fn target_host(&self, desired: &Resource) -> Option<String> {
        Some(desired.natural_key.clone())
    }

    fn planned_commands(&self, desired: &Resource, observed: Option<&Observed>) -> Vec<String> {
        // CCMSetup runs only when the reference computer has no client yet (see apply).
        let installed = observed
            .and_then(|o| sdk::model::<Model>(&o.attrs))
            .is_some_and(|m| m.client_installed);
        if installed {
            Vec::new()
        } else {
            vec![super::command_line::shown(desired, false)]
        }
    }
}

impl PlanNotes for ImagingKind {
    fn notes(&self, desired: Option<&Resource>, observed: Option<&Observed>) -> Vec<String> {
        let models = desired
            .and_then(|d| sdk::model::<Model>(&d.attrs))
            .zip(observed.and_then(|o| sdk::model::<Model>(&o.attrs)));
        let Some((d, o)) = models else {
            return vec![
                "steps: all of them (the reference computer could not be probed yet)".into(),
            ];
        };
        let needed = steps_needed(&d, &o);
        if needed.is_empty() {
            Vec::new()
        } else {
            vec![format!("steps still needed: {}", needed.join("; "))]
        }
    }
}

/// What the probe found, as the model.
fn model_of(state: &ClientState) -> Model {
    Model {
        client_installed: state.installed,
        site_code: state.site_code.clone().unwrap_or_default(),
        ccmexec_running: state.ccm_exec_running,
        smscfg_ini: state.sms_cfg_ini,
        sms_certificates: i64::from(state.sms_certificates),
        pki_certificates: i64::from(state.pki_certificates),
        trusted_root_key: Some(state.trusted_root_key),
    }
}
