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
use cmdeploy_engine::provider::{
    Context, Observed, OpAction, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Resource;
use cmdeploy_engine::spanned::Spanned;

use crate::ccmsetup::{self, Context as CcmContext, Finding};
use crate::ccmsetup_spans;
use crate::kit;
use crate::powershell::{Call, Target};
use crate::sdk::{
    self, ApplyInSteps, Change, Declared, DecodeCx, Import, PlanNotes, ReadValues, TypedKind,
};

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

/// The package as cmdeploy compares it: desired from the manifest, observed from `Get-CMPackage`
/// (Name, PkgSourcePath), `Get-CMProgram` (CommandLine), `Get-CMDeploymentPackage` per
/// distribution point and `Get-CMPackageDeployment` (CollectionName, OfferType).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientUpgradePackageModel {
    /// Package name; a change replaces the package.
    pub name: String,
    /// Source folder (UNC).
    pub source: String,
    /// What follows `CCMSETUP.EXE` in the program's command line; absent when the program is
    /// missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    /// Distribution points holding the content (lower case, sorted).
    pub distribution_points: Vec<String>,
    /// Collection the program is deployed to; managed only when the manifest names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// Purpose of that deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_purpose: Option<DeployPurpose>,
}

type Model = ClientUpgradePackageModel;

/// The `client_upgrade_package` kind. Its create applies in steps ([`ApplyInSteps`]): the calls
/// after `New-CMPackage` name the PackageID it returns, and package names are not unique in
/// ConfigMgr, so no name can stand in for it in one batch.
pub struct ClientUpgradePackageKind;

/// Where a read request's calls stand: the package (0), its program (1), then one
/// `Get-CMDeploymentPackage` per distribution point, then one `Get-CMPackageDeployment` per
/// collection.
struct Layout {
    dps: Vec<String>,
    collections: Vec<String>,
}

#[async_trait::async_trait]
impl TypedKind for ClientUpgradePackageKind {
    type Spec = ClientUpgradePackageSpec;
    type Model = Model;
    const KIND: &'static str = "client_upgrade_package";
    const DESCRIPTION: &'static str = "The client upgrade package and program (\"Configuration Manager Client Upgrade\" definition) and its distribution points.";

    fn decode(&self, spec: Self::Spec, cx: &DecodeCx) -> Result<Declared<Model>, Vec<Diagnostic>> {
        let (file, span) = (&cx.file, &cx.span);
        let mut errors = Vec::new();
        if !spec.source.value.starts_with("\\\\") {
            errors.push(
                Diagnostic::error("cmdeploy::client_upgrade_package::source", format!("`{}` is not a network path (UNC name)", spec.source.value))
                    .with_help("the package obtains its files from a network path, e.g. '\\\\cm01.contoso.com\\SMS_ABC\\Client'; the computers that run the program need read access to it")
                    .at_span(file, super::span_or(&spec.source.span, span)),
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
            .map_or(span.clone(), |c| super::span_or(&c.span, span));
        // Findings' ranges are in `full`; the manifest string starts after the executable.
        let skip = full.len() - props.len();
        let (mut bad, warnings) = kit::finding_diagnostics(
            ccmsetup::check(&full, Some(CcmContext::Manual)).1,
            file,
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
        let model = Model {
            name: name.clone(),
            source: spec.source.value.clone(),
            command_line: Some(props.to_string()),
            distribution_points: kit::sorted_strings(
                spec.distribution_points.iter().map(|d| d.to_lowercase()),
            ),
            collection: spec.collection.as_ref().map(|c| c.value.clone()),
            deploy_purpose: spec
                .collection
                .as_ref()
                .map(|_| spec.deploy_purpose.unwrap_or(DeployPurpose::Available)),
        };
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let mut d = Declared::new(model, connection, name.to_lowercase());
        d.references.extend(reference);
        // The package's name is its identity here: a new name is a new package.
        d.force_new.insert("name".into());
        d.meta = meta;
        d.warnings = warnings;
        Ok(d)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        sdk::read_by_site(ctx, requests, |_code, r| reads(r), observe).await
    }

    fn in_steps(&self) -> Option<&dyn ApplyInSteps<Model>> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    fn plan_notes(&self) -> Option<&dyn PlanNotes> {
        Some(self)
    }
}

/// The desired and the last applied model of a read request.
fn models_of(r: &ReadRequest) -> (Option<Model>, Option<Model>) {
    (
        r.desired.as_ref().and_then(|d| sdk::model(&d.attrs)),
        r.prior.as_ref().and_then(|p| sdk::model(&p.attributes)),
    )
}

/// The calls that read one package (see [`Layout`]).
fn reads(r: &ReadRequest) -> (Vec<Call>, Layout) {
    let (desired, prior) = models_of(r);
    let name = prior
        .as_ref()
        .or(desired.as_ref())
        .map_or(DEFINITION, |m| m.name.as_str())
        .to_string();
    let mut calls = vec![
        Call::new("Get-CMPackage")
            .arg("Name", name.as_str())
            .switch("Fast"),
        Call::new("Get-CMProgram")
            .arg("PackageName", name.as_str())
            .arg("ProgramName", PROGRAM),
    ];
    let dps: Vec<String> = desired
        .as_ref()
        .map(|d| d.distribution_points.clone())
        .unwrap_or_default();
    for dp in &dps {
        calls.push(
            Call::new("Get-CMDeploymentPackage")
                .arg("DistributionPointName", dp.as_str())
                .arg("DeploymentPackageName", name.as_str()),
        );
    }
    // The collection the manifest names, then the one last applied: a deployment that moved is
    // found where it is, so apply can remove it.
    let mut collections: Vec<String> = Vec::new();
    for c in [desired, prior]
        .into_iter()
        .flatten()
        .filter_map(|m| m.collection)
    {
        if !collections.iter().any(|n| n.eq_ignore_ascii_case(&c)) {
            collections.push(c);
        }
    }
    for c in &collections {
        calls.push(
            Call::new("Get-CMPackageDeployment")
                .arg("CollectionName", c.as_str())
                .arg("ProgramName", PROGRAM),
        );
    }
    (calls, Layout { dps, collections })
}

/// The package the reads found, or `None`.
fn observe(
    values: &ReadValues<'_>,
    layout: &Layout,
    _r: &ReadRequest,
) -> Result<Option<Observed>, RemoteError> {
    let Some(p) = kit::items(values.get(0)?).into_iter().next().cloned() else {
        return Ok(None);
    };
    let id = kit::s(&p, "PackageID").to_string();
    let of_package = |x: &Value| kit::s(x, "PackageID").eq_ignore_ascii_case(&id);
    let command_line = kit::items(values.get(1)?)
        .into_iter()
        .find(|x| of_package(x))
        .map(|g| properties_of(kit::s(g, "CommandLine")));
    let mut on = Vec::new();
    for (k, dp) in layout.dps.iter().enumerate() {
        if kit::items(values.get(2 + k)?).into_iter().any(of_package) {
            on.push(dp.clone());
        }
    }
    let mut deployment = None;
    for (j, c) in layout.collections.iter().enumerate() {
        let v = values.get(2 + layout.dps.len() + j)?;
        if let Some(x) = kit::items(v).into_iter().find(|x| of_package(x)) {
            let purpose = if kit::n(x, "OfferType") == 0 {
                DeployPurpose::Required
            } else {
                DeployPurpose::Available
            };
            deployment = Some((c.clone(), purpose));
            break;
        }
    }
    let model = Model {
        name: kit::s(&p, "Name").to_string(),
        source: kit::s(&p, "PkgSourcePath").to_string(),
        command_line,
        distribution_points: kit::sorted_strings(on),
        collection: deployment.as_ref().map(|(c, _)| c.clone()),
        deploy_purpose: deployment.map(|(_, p)| p),
    };
    let mut o = sdk::observed(id.clone(), &model);
    if model.command_line.is_none() {
        o.notes.push(format!(
            "package {id} has no program \"{PROGRAM}\": it is created again"
        ));
    }
    Ok(Some(o))
}

#[async_trait::async_trait]
impl ApplyInSteps<Model> for ClientUpgradePackageKind {
    async fn apply(
        &self,
        ctx: &Context,
        change: &Change<'_, Model>,
    ) -> Result<(String, Option<Model>), RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let target = || Target::SiteServer {
            site_code: code.clone(),
        };
        let host = op.connection.host();
        if op.action == OpAction::Delete {
            let id = change.id();
            let remove = Call::new("Remove-CMPackage")
                .arg("Id", id.as_str())
                .switch("Force");
            kit::run_writes(ctx, &op.connection, target(), vec![remove]).await?;
            return Ok((id, None));
        }
        let d = change.desired.as_ref().ok_or_else(|| {
            RemoteError::new(
                host.clone(),
                "provider bug: a create or update without a desired resource",
            )
        })?;
        let (id, have) = if op.action == OpAction::Create {
            let create = Call::new("New-CMPackage")
                .switch("FromDefinition")
                .arg("PackageDefinitionName", DEFINITION)
                .arg("SourceFileType", "AlwaysObtainSourceFile")
                .arg("SourceFolderPath", d.source.as_str())
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
            // What the package definition made.
            let made = Model {
                name: DEFINITION.into(),
                source: d.source.clone(),
                command_line: Some(DEFAULT_PROPERTIES.into()),
                distribution_points: Vec::new(),
                collection: None,
                deploy_purpose: None,
            };
            (id, made)
        } else {
            let have = change.observed.clone().ok_or_else(|| {
                RemoteError::new(
                    host.clone(),
                    "provider bug: an update without an observed package",
                )
            })?;
            (change.id(), have)
        };
        let mut calls = Vec::new();
        if have.name != d.name {
            calls.push(
                Call::new("Set-CMPackage")
                    .arg("Id", id.as_str())
                    .arg("NewName", d.name.as_str()),
            );
        }
        if have.source != d.source {
            calls.push(
                Call::new("Set-CMPackage")
                    .arg("Id", id.as_str())
                    .arg("Path", d.source.as_str()),
            );
        }
        if have.command_line != d.command_line {
            let line = format!("{EXECUTABLE} {}", d.command_line.as_deref().unwrap_or(""));
            calls.push(if have.command_line.is_none() {
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
        let missing: Vec<&String> = d
            .distribution_points
            .iter()
            .filter(|dp| {
                !have
                    .distribution_points
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(dp))
            })
            .collect();
        if !missing.is_empty() {
            calls.push(
                Call::new("Start-CMContentDistribution")
                    .arg("PackageId", json!([id]))
                    .arg("DistributionPointName", json!(missing)),
            );
        }
        if have.collection != d.collection || have.deploy_purpose != d.deploy_purpose {
            calls.extend(deployment_calls(&id, &have, d));
        }
        kit::run_writes(ctx, &op.connection, target(), calls).await?;
        // A replacement's state entry names the package it replaced: read the new one by name.
        let mut back = op.clone();
        if op.action == OpAction::Create {
            back.prior = None;
        }
        let (id, model) = sdk::read_again(self, ctx, &back, &format!("package {id}")).await?;
        Ok((id, Some(model)))
    }
}

impl PlanNotes for ClientUpgradePackageKind {
    fn notes(&self, desired: Option<&Resource>, _observed: Option<&Observed>) -> Vec<String> {
        let Some(c) = desired
            .and_then(|d| sdk::model::<Model>(&d.attrs))
            .and_then(|m| m.collection)
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
fn deployment_calls(id: &str, have: &Model, want: &Model) -> Vec<Call> {
    let mut calls = Vec::new();
    if let Some(old) = have.collection.as_deref() {
        calls.push(
            Call::new("Remove-CMPackageDeployment")
                .arg("PackageId", id)
                .arg("ProgramName", PROGRAM)
                .arg("CollectionName", old)
                .switch("Force"),
        );
    }
    let Some(collection) = want.collection.as_deref() else {
        return calls;
    };
    let required = want.deploy_purpose == Some(DeployPurpose::Required);
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
