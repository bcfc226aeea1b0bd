//! `intune_app`: the command line of the Intune line-of-business app that installs the client
//! on Intune MDM-managed devices, `CCMSETUPCMD="..."` for `ccmsetup.msi`, written to a file for
//! the app's "command-line arguments" (or a Graph-based pipeline) to take.
//!
//! Seed 001, "Install clients with Intune": create an app from `ccmsetup.msi`
//! (`<ConfigMgr installation>\bin\i386`) with e.g. `CCMSETUPCMD="/MP:<FQDN of management point>
//! SMSMP=<FQDN of management point> SMSSITECODE=<site code> DNSSUFFIX=<DNS suffix>"`. Intune caps
//! the command line at 1024 characters (configmgr.md §1.3), checked in the `intune` context.

use serde::Deserialize;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::spanned::Spanned;

use super::files::{Artifact, FileSource};
use super::kind::{ArtifactSpec, RenderInput, Rendered};
use crate::ccmsetup::{
    self, CcmsetupParameters, ClientMsiProperties, CommandLine, Context as CcmContext, Program,
};
use crate::kit;

/// `[intune_app.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntuneAppSpec {
    /// Folder the command line file is written to (relative to the project directory).
    pub path: Spanned<String>,
    /// File name; default `ccmsetup-intune.txt`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// client.msi properties (SMSMP, SMSSITECODE, DNSSUFFIX, ...).
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters (`mp`, ...).
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

impl ArtifactSpec for IntuneAppSpec {
    const KIND: &'static str = "intune_app";
    const DESCRIPTION: &'static str =
        "The CCMSETUPCMD command line of an Intune app installing ccmsetup.msi on MDM-managed devices.";
    const MANUAL_STEP: Option<&'static str> = Some("create or update the Intune app from ccmsetup.msi (<ConfigMgr installation>\\bin\\i386) with this command line; cmdeploy writes the file only");

    fn render(self, at: &RenderInput) -> Result<Rendered, Vec<Diagnostic>> {
        let spec = self;
        let file = &at.file;
        let cmd = CommandLine {
            program: Program::Msi { path: None },
            ..ccmsetup::to_command_line(&spec.ccmsetup, &spec.properties)
        };
        let (errors, warnings) = kit::finding_diagnostics(
            ccmsetup::check_command_line(&cmd, Some(CcmContext::Intune)),
            file,
            at.locate(&cmd),
            "Intune command line: ",
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        let line = cmd.render();
        let name = spec
            .file_name
            .clone()
            .unwrap_or_else(|| "ccmsetup-intune.txt".into());
        let artifact = Artifact {
            path: spec.path.clone(),
            files: [(name, FileSource::Text(format!("{line}\n")))]
                .into_iter()
                .collect(),
        };
        Ok(Rendered {
            artifact,
            command_line: line,
            warnings,
        })
    }
}
