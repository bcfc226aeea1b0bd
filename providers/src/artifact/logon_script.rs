//! `logon_script`: a cmd or PowerShell logon script that runs CCMSetup with `/logon`, written to a
//! folder you give (e.g. the domain's NETLOGON share mounted on the machine cmdeploy runs on).
//!
//! Seed 000, "How to Install Configuration Manager Clients by Using Logon Scripts": logon script
//! installation uses the same methods as manual installation; `/logon` stops the installation
//! when any version of the client already exists, so the script can run at every logon.

use serde::Deserialize;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::spanned::Spanned;

use super::files::{Artifact, FileSource};
use super::kind::{ArtifactSpec, RenderInput, Rendered};
use super::render;
use crate::ccmsetup::{self, CcmsetupParameters, ClientMsiProperties, Context as CcmContext};
use crate::kit;
use crate::quote;

/// The script's language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// A batch file (`ccmsetup-logon.cmd`), the classic NETLOGON logon script.
    #[default]
    Cmd,
    /// A PowerShell script (`ccmsetup-logon.ps1`), for a GPO's PowerShell logon scripts.
    Powershell,
}

/// `[logon_script.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogonScriptSpec {
    /// Folder the script is written to, relative to the project directory or absolute (e.g. a
    /// mounted `\\contoso.com\NETLOGON`).
    pub path: Spanned<String>,
    /// File name; default `ccmsetup-logon.cmd` or `ccmsetup-logon.ps1`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// `cmd` (default) or `powershell`.
    #[serde(default)]
    pub shell: Shell,
    /// Where clients run CCMSetup.exe from: the site server's client share, e.g.
    /// `\\cm01.contoso.com\SMS_ABC\Client` (logon scripts run with the user's network
    /// credentials, so a UNC path works here, unlike over WinRM).
    pub source: Spanned<String>,
    /// client.msi properties (SMSSITECODE, FSP, ...); none means automatic site assignment.
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters; `/logon` is always added.
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

impl ArtifactSpec for LogonScriptSpec {
    const KIND: &'static str = "logon_script";
    const DESCRIPTION: &'static str =
        "A cmd or PowerShell logon script running CCMSetup with /logon, written to a folder (e.g. NETLOGON).";
    const MANUAL_STEP: Option<&'static str> = Some("assign the script as a logon script (user object, or a GPO's User Configuration › Windows Settings › Scripts); cmdeploy writes the file only");

    fn render(self, at: &RenderInput) -> Result<Rendered, Vec<Diagnostic>> {
        let spec = self;
        let (file, span, address) = (&at.file, at.span.clone(), &at.address);
        let mut params = spec.ccmsetup.clone();
        params.logon = Some(true);
        let cmd = ccmsetup::to_command_line(&params, &spec.properties);
        let (mut errors, mut warnings) = kit::finding_diagnostics(
            ccmsetup::check_command_line(&cmd, Some(CcmContext::Manual)),
            file,
            at.locate(&cmd),
            "logon script command line: ",
        );
        let args = cmd.render_args();
        let exe = format!("{}\\ccmsetup.exe", spec.source.value.trim_end_matches('\\'));
        if !spec.source.value.starts_with("\\\\") {
            warnings.push(
                Diagnostic::warning(
                    "cmdeploy::logon_script::source",
                    format!("`{}` is not a UNC path", spec.source.value),
                )
                .with_help("logon scripts run on every client: point `source` at the site server's client share, e.g. \\\\cm01.contoso.com\\SMS_ABC\\Client")
                .at_span(file, spec.source.span.clone()),
            );
        }
        let header = format!(
            "Managed by cmdeploy ({address}): apply rewrites it and drift reports hand edits."
        );
        let unsafe_value = |what: &str, e: crate::quote::Unsafe, span| {
            Diagnostic::error(
                "cmdeploy::logon_script::unsafe_value",
                format!("{what} cannot be written safely into the script: {e}"),
            )
            .with_help(
                "remove the character; a value that reaches a script can never change its commands",
            )
            .at_span(file, span)
        };
        match spec.shell {
            Shell::Cmd => {
                if let Err(e) = quote::cmd::in_quotes(&exe) {
                    errors.push(unsafe_value("`source`", e, spec.source.span.clone()));
                }
                if let Err(e) = quote::cmd::line(&args) {
                    errors.push(unsafe_value("the CCMSetup arguments", e, span.clone()));
                }
                if let Err(e) = quote::cmd::line(address) {
                    errors.push(unsafe_value("the table's address", e, span.clone()));
                }
            }
            Shell::Powershell => {
                if let Err(e) = quote::powershell::single_quoted(&exe) {
                    errors.push(unsafe_value("`source`", e, spec.source.span.clone()));
                }
                if let Err(e) = quote::powershell::single_quoted(&args) {
                    errors.push(unsafe_value("the CCMSetup arguments", e, span.clone()));
                }
                if let Err(e) = quote::no_control(&header) {
                    errors.push(unsafe_value("the table's address", e, span.clone()));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (template, default_name) = match spec.shell {
            Shell::Cmd => ("logon.cmd", "ccmsetup-logon.cmd"),
            Shell::Powershell => ("logon.ps1", "ccmsetup-logon.ps1"),
        };
        let text = render::render(
            template,
            minijinja::context! { header => header, exe => exe, args => args },
        )
        .map_err(|e| vec![Diagnostic::error("cmdeploy::logon_script::render", e)])?;
        let name = spec
            .file_name
            .clone()
            .unwrap_or_else(|| default_name.to_string());
        let artifact = Artifact {
            path: spec.path.clone(),
            files: [(name, FileSource::Text(text))].into_iter().collect(),
        };
        Ok(Rendered {
            artifact,
            command_line: format!("{exe} {args}"),
            warnings,
        })
    }
}
