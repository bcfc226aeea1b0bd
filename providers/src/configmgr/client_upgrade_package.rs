//! `client_upgrade_package`: the package and program that upgrade clients, created from the
//! "Configuration Manager Client Upgrade" package definition (`New-CMPackage -FromDefinition
//! -PackageDefinitionName`), its program "Configuration Manager agent silent upgrade" whose
//! command line defaults to `CCMSETUP.EXE /noservice SMSSITECODE=AUTO` (`Set-CMProgram`,
//! `New-CMProgram` when it went missing), and its content on distribution points
//! (`Start-CMContentDistribution`, read back with `Get-CMDeploymentPackage`).
//!
//! With `collection`, the program is deployed to that collection (`New-CMPackageDeployment
//! -StandardProgram`, read back with `Get-CMPackageDeployment -CollectionName -ProgramName`,
//! moved with `Remove-CMPackageDeployment`), available or required. Source: seed 000 "How to Install Configuration Manager Clients by Using a
//! Package and Program" (deploy-clients-to-windows-computers.md), PSRef of each cmdlet.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::import::Imported;
use cmdeploy_engine::provider::{
    Applied, Context, DecodeInput, Decoded, Kind, Observed, OpAction, Operation, ReadRequest,
    ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::resource::Resource;
use cmdeploy_engine::spanned::Spanned;

use crate::ccmsetup::{self, Context as CcmContext, Finding};
use crate::ccmsetup_spans;
use crate::kit;
use crate::powershell::{Call, Target};

/// The package definition ConfigMgr ships for client upgrades (publisher Microsoft).
pub const DEFINITION: &str = "Configuration Manager Client Upgrade";
/// The program the definition creates.
pub const PROGRAM: &str = "Configuration Manager agent silent upgrade";
/// The program's executable; the manifest gives what follows it.
pub const EXECUTABLE: &str = "CCMSETUP.EXE";
/// The documented default installation properties of that program.
pub const DEFAULT_PROPERTIES: &str = "/noservice SMSSITECODE=AUTO";

/// `[client_upgrade_package.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientUpgradePackageSpec {
    /// Key of the site whose server creates the package.
    pub site: Spanned<String>,
    /// Package name (defaults to the definition's, "Configuration Manager Client Upgrade");
    /// changing it replaces the package.
    #[serde(default)]
    pub name: Option<String>,
    /// Network path (UNC) of the client installation files, e.g. `\\cm01\SMS_ABC\Client`
    /// ("Always obtain files from a source folder").
    pub source: Spanned<String>,
    /// CCMSetup parameters and client.msi properties of the program, after `CCMSETUP.EXE`
    /// (default `/noservice SMSSITECODE=AUTO`); checked with the CCMSetup model.
    #[serde(default)]
    pub command_line: Option<Spanned<String>>,
    /// Distribution points (FQDNs) that must hold the content.
    #[serde(default)]
    pub distribution_points: Vec<String>,
    /// Collection the program is deployed to (`New-CMPackageDeployment -CollectionName`); a
    /// deployment made to another collection is removed when this one changes.
    #[serde(default)]
    pub collection: Option<Spanned<String>>,
    /// Purpose of that deployment: `available` (the default: users start the upgrade from
    /// Software Center) or `required` (it runs as soon as possible).
    #[serde(default)]
    pub deploy_purpose: Option<DeployPurpose>,
}

/// `New-CMPackageDeployment -DeployPurpose` (`DeployPurposeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeployPurpose {
    /// `Available` (SMS_Advertisement OfferType 2).
    Available,
    /// `Required` (OfferType 0), scheduled `AsSoonAsPossible`.
    Required,
}

/// The `client_upgrade_package` kind.
pub struct ClientUpgradePackageKind;

#[async_trait::async_trait]
impl Kind for ClientUpgradePackageKind {
    fn name(&self) -> &'static str {
        "client_upgrade_package"
    }

    fn description(&self) -> &'static str {
        "The client upgrade package and program (\"Configuration Manager Client Upgrade\" definition) and its distribution points."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<ClientUpgradePackageSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<Decoded, Vec<Diagnostic>> {
        let file = input.file.clone();
        let span = input.span.clone();
        let spec: ClientUpgradePackageSpec = kit::decode_typed(input, "client_upgrade_package")?;
        let mut errors = Vec::new();
        if !spec.source.value.starts_with("\\\\") {
            errors.push(
                Diagnostic::error("cmdeploy::client_upgrade_package::source", format!("`{}` is not a network path (UNC name)", spec.source.value))
                    .with_help("the package obtains its files from a network path, e.g. '\\\\cm01.contoso.com\\SMS_ABC\\Client'; the computers that run the program need read access to it")
                    .at_span(&file, super::span_or(&spec.source.span, &span)),
            );
        }
        let props = spec
            .command_line
            .as_ref()
            .map_or(DEFAULT_PROPERTIES, |c| c.value.trim());
        let full = format!("{EXECUTABLE} {props}");
        let line_span = spec
            .command_line
            .as_ref()
            .map_or(span.clone(), |c| super::span_or(&c.span, &span));
        // Findings' ranges are in `full`; the manifest string starts after the executable.
        let skip = full.len() - props.len();
        let (mut bad, warnings) = kit::finding_diagnostics(
            ccmsetup::check(&full, Some(CcmContext::Manual)).1,
            &file,
            |f| match (&spec.command_line, f.span.clone()) {
                (Some(c), Some(at)) if at.start >= skip && c.value.trim() == c.value => {
                    let shifted = Finding {
                        span: Some((at.start - skip)..(at.end - skip)),
                        ..f.clone()
                    };
                    ccmsetup_spans::in_string(&file.text, &line_span, &c.value, &shifted)
                }
                _ => line_span.clone(),
            },
            "program command line: ",
        );
        errors.append(&mut bad);
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = spec.name.clone().unwrap_or_else(|| DEFINITION.to_string());
        let mut attrs = serde_json::Map::new();
        attrs.insert("name".into(), json!(name));
        attrs.insert("source".into(), json!(spec.source.value));
        attrs.insert("command_line".into(), json!(props));
        attrs.insert(
            "distribution_points".into(),
            kit::sorted(spec.distribution_points.iter().map(|d| d.to_lowercase())),
        );
        if let Some(c) = &spec.collection {
            attrs.insert("collection".into(), json!(c.value));
            attrs.insert(
                "deploy_purpose".into(),
                json!(spec.deploy_purpose.unwrap_or(DeployPurpose::Available)),
            );
        }
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let mut d = Decoded::new(attrs, connection, name.to_lowercase());
        d.references.extend(reference);
        d.force_new.insert("name".into());
        d.meta = meta;
        d.warnings = warnings;
        Ok(d)
    }

    fn importable(&self) -> bool {
        true
    }

    async fn imports_from(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<bool, RemoteError> {
        super::listing::is_site_server(ctx, connection).await
    }

    async fn list(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Vec<Imported>, RemoteError> {
        super::listing_settings::client_upgrade_packages(ctx, connection).await
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        kit::read_by_site(
            ctx,
            requests,
            |script, _code, r| {
                let name = r
                    .prior
                    .as_ref()
                    .and_then(|p| p.attributes.get("name"))
                    .or_else(|| r.desired.as_ref().and_then(|d| d.attrs.get("name")))
                    .and_then(Value::as_str)
                    .unwrap_or(DEFINITION)
                    .to_string();
                let package = script.push(
                    Call::new("Get-CMPackage")
                        .arg("Name", name.as_str())
                        .switch("Fast"),
                );
                let program = script.push(
                    Call::new("Get-CMProgram")
                        .arg("PackageName", name.as_str())
                        .arg("ProgramName", PROGRAM),
                );
                let dps: Vec<(String, usize)> =
                    kit::listed(r.desired.as_ref(), None, "distribution_points")
                        .into_iter()
                        .map(|dp| {
                            let id = script.push(
                                Call::new("Get-CMDeploymentPackage")
                                    .arg("DistributionPointName", dp.as_str())
                                    .arg("DeploymentPackageName", name.as_str()),
                            );
                            (dp, id)
                        })
                        .collect();
                // The collection the manifest names, then the one last applied: a deployment
                // that moved is found where it is, so apply can remove it.
                let mut names: Vec<String> = Vec::new();
                for c in [
                    r.desired.as_ref().and_then(|d| d.attrs.get("collection")),
                    r.prior
                        .as_ref()
                        .and_then(|p| p.attributes.get("collection")),
                ]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                {
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(c)) {
                        names.push(c.to_string());
                    }
                }
                let collections: Vec<(String, usize)> = names
                    .into_iter()
                    .map(|c| {
                        let id = script.push(
                            Call::new("Get-CMPackageDeployment")
                                .arg("CollectionName", c.as_str())
                                .arg("ProgramName", PROGRAM),
                        );
                        (c, id)
                    })
                    .collect();
                (package, program, dps, collections)
            },
            |connection, script, out, (package, program, dps, collections), _r| {
                let Some(p) = kit::items(kit::value_of(connection, script, out, *package)?)
                    .into_iter()
                    .next()
                    .cloned()
                else {
                    return Ok(None);
                };
                let id = kit::s(&p, "PackageID").to_string();
                let command_line = kit::items(kit::value_of(connection, script, out, *program)?)
                    .into_iter()
                    .find(|g| kit::s(g, "PackageID").eq_ignore_ascii_case(&id))
                    .map(|g| properties_of(kit::s(g, "CommandLine")));
                let mut on = Vec::new();
                for (dp, call) in dps {
                    let v = kit::value_of(connection, script, out, *call)?;
                    if kit::items(v)
                        .iter()
                        .any(|x| kit::s(x, "PackageID").eq_ignore_ascii_case(&id))
                    {
                        on.push(dp.clone());
                    }
                }
                let mut attrs = serde_json::Map::new();
                attrs.insert("name".into(), json!(kit::s(&p, "Name")));
                attrs.insert("source".into(), json!(kit::s(&p, "PkgSourcePath")));
                attrs.insert("command_line".into(), json!(command_line));
                attrs.insert("distribution_points".into(), kit::sorted(on));
                if !collections.is_empty() {
                    let mut found = None;
                    for (name, call) in collections {
                        let v = kit::value_of(connection, script, out, *call)?;
                        if let Some(x) = kit::items(v)
                            .into_iter()
                            .find(|x| kit::s(x, "PackageID").eq_ignore_ascii_case(&id))
                        {
                            found = Some((name.clone(), x.clone()));
                            break;
                        }
                    }
                    attrs.insert(
                        "collection".into(),
                        json!(found.as_ref().map(|(n, _)| n.clone())),
                    );
                    let found = found.as_ref().map(|(_, x)| x);
                    attrs.insert(
                        "deploy_purpose".into(),
                        json!(found.map(|x| if kit::n(x, "OfferType") == 0 {
                            DeployPurpose::Required
                        } else {
                            DeployPurpose::Available
                        })),
                    );
                }
                let mut notes = Vec::new();
                if command_line.is_none() {
                    notes.push(format!(
                        "package {id} has no program \"{PROGRAM}\": it is created again"
                    ));
                }
                Ok(Some(Observed {
                    id,
                    attrs,
                    notes,
                    private: Default::default(),
                }))
            },
        )
        .await
    }

    async fn apply(&self, ctx: &Context, op: Operation) -> Result<Applied, RemoteError> {
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let target = || Target::SiteServer {
            site_code: code.clone(),
        };
        let host = op.connection.host();
        if op.action == OpAction::Delete {
            let id = op.prior.as_ref().map(|p| p.id.clone()).unwrap_or_default();
            let remove = Call::new("Remove-CMPackage")
                .arg("Id", id.as_str())
                .switch("Force");
            kit::run_writes(ctx, &op.connection, target(), vec![remove]).await?;
            return Ok(Applied {
                id,
                attrs: Default::default(),
            });
        }
        let d = op.desired.clone().ok_or_else(|| {
            RemoteError::new(
                op.connection.host(),
                "provider bug: a create or update without a desired resource",
            )
        })?;
        let attr = |a: &str| {
            d.attrs
                .get(a)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (id, have) = if op.action == OpAction::Create {
            let create = Call::new("New-CMPackage")
                .switch("FromDefinition")
                .arg("PackageDefinitionName", DEFINITION)
                .arg("SourceFileType", "AlwaysObtainSourceFile")
                .arg("SourceFolderPath", attr("source"))
                .arg("SourceFolderPathType", "UncNetworkPath");
            let out = kit::run_writes(ctx, &op.connection, target(), vec![create]).await?;
            let id = out
                .get(0)
                .and_then(|r| {
                    kit::items(&r.value)
                        .first()
                        .map(|p| kit::s(p, "PackageID").to_string())
                })
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    RemoteError::new(host.clone(), "New-CMPackage returned no PackageID")
                })?;
            let have = json!({"name": DEFINITION, "source": attr("source"), "command_line": DEFAULT_PROPERTIES, "distribution_points": []});
            (id, have)
        } else {
            let o = op.observed.as_ref().ok_or_else(|| {
                RemoteError::new(
                    host.clone(),
                    "provider bug: an update without an observed package",
                )
            })?;
            (o.id.clone(), Value::Object(o.attrs.clone()))
        };
        let differs = |a: &str| have.get(a) != d.attrs.get(a);
        let mut calls = Vec::new();
        if differs("name") {
            calls.push(
                Call::new("Set-CMPackage")
                    .arg("Id", id.as_str())
                    .arg("NewName", attr("name")),
            );
        }
        if differs("source") {
            calls.push(
                Call::new("Set-CMPackage")
                    .arg("Id", id.as_str())
                    .arg("Path", attr("source")),
            );
        }
        if differs("command_line") {
            let line = format!("{EXECUTABLE} {}", attr("command_line"));
            calls.push(if have["command_line"].is_null() {
                Call::new("New-CMProgram")
                    .arg("PackageId", id.as_str())
                    .arg("StandardProgramName", PROGRAM)
                    .arg("CommandLine", line)
            } else {
                Call::new("Set-CMProgram")
                    .arg("PackageId", id.as_str())
                    .arg("ProgramName", PROGRAM)
                    .switch("StandardProgram")
                    .arg("CommandLine", line)
            });
        }
        let on: Vec<String> = have["distribution_points"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let missing: Vec<String> = kit::listed(Some(&d), None, "distribution_points")
            .into_iter()
            .filter(|dp| !on.iter().any(|x| x.eq_ignore_ascii_case(dp)))
            .collect();
        if !missing.is_empty() {
            calls.push(
                Call::new("Start-CMContentDistribution")
                    .arg("PackageId", json!([id]))
                    .arg("DistributionPointName", json!(missing)),
            );
        }
        if differs("collection") || differs("deploy_purpose") {
            calls.extend(deployment_calls(&id, &have, &d.attrs));
        }
        kit::run_writes(ctx, &op.connection, target(), calls).await?;
        // A replacement's state entry names the package it replaced: read the new one by name.
        let mut back = op.clone();
        if op.action == OpAction::Create {
            back.prior = None;
        }
        kit::read_back(
            &ClientUpgradePackageKind,
            ctx,
            &back,
            &format!("package {id}"),
        )
        .await
    }

    fn plan_notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        let Some(c) = desired
            .and_then(|d| d.attrs.get("collection"))
            .and_then(Value::as_str)
        else {
            return Vec::new();
        };
        vec![format!("\"{PROGRAM}\" is deployed to collection \"{c}\" (New-CMPackageDeployment); its members run it from the distribution points listed")]
    }
}

/// The calls that make the program's deployment what `want` says: the deployment to the
/// collection `have` names goes first (`Remove-CMPackageDeployment`), then the new one is made
/// (`New-CMPackageDeployment -StandardProgram`, set DeployStandardProgramByPackageId; a required
/// one is scheduled `-ScheduleEvent AsSoonAsPossible`).
fn deployment_calls(id: &str, have: &Value, want: &serde_json::Map<String, Value>) -> Vec<Call> {
    let mut calls = Vec::new();
    if let Some(old) = have.get("collection").and_then(Value::as_str) {
        calls.push(
            Call::new("Remove-CMPackageDeployment")
                .arg("PackageId", id)
                .arg("ProgramName", PROGRAM)
                .arg("CollectionName", old)
                .switch("Force"),
        );
    }
    let Some(collection) = want.get("collection").and_then(Value::as_str) else {
        return calls;
    };
    let required = want.get("deploy_purpose") == Some(&json!(DeployPurpose::Required));
    let mut create = Call::new("New-CMPackageDeployment")
        .switch("StandardProgram")
        .arg("PackageId", id)
        .arg("ProgramName", PROGRAM)
        .arg("CollectionName", collection)
        .arg(
            "DeployPurpose",
            if required { "Required" } else { "Available" },
        );
    if required {
        create = create.arg("ScheduleEvent", "AsSoonAsPossible");
    }
    calls.push(create);
    calls
}

/// The installation properties of a program command line: what follows `CCMSETUP.EXE`.
pub(super) fn properties_of(command_line: &str) -> String {
    let t = command_line.trim();
    match t.split_once(char::is_whitespace) {
        Some((exe, rest))
            if exe
                .trim_matches('"')
                .to_ascii_lowercase()
                .ends_with("ccmsetup.exe") =>
        {
            rest.trim().to_string()
        }
        _ if t.to_ascii_lowercase().ends_with("ccmsetup.exe") => String::new(),
        _ => t.to_string(),
    }
}
