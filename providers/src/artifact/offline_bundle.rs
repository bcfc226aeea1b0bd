//! `offline_bundle`: an offline media bundle for internet-only clients that no connection
//! reaches — a folder holding the client source layout (`Client\`), the site's signing
//! certificate, `install.cmd`, the CCMSetup command line and a README, rendered by cmdeploy.
//!
//! Seed 000, "How to Install Configuration Manager Clients for Internet-based Client Management"
//! and configmgr.md §6 rule 6: internet-only clients need an explicit SMSSITECODE (not AUTO),
//! CCMHOSTNAME, /UsePKICert, SMSSIGNCERT and a local `/source` (installing from the
//! internet-facing management point is not supported). The command line is built from the same
//! typed properties as every other method and checked in the `internet` context.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::spanned::Spanned;

use super::files::{self, Artifact, FileSource, Files};
use super::kind::{ArtifactSpec, RenderInput, Rendered};
use super::render;
use crate::ccmsetup::{self, CcmsetupParameters, ClientMsiProperties, Context as CcmContext};
use crate::kit;
use crate::quote;

/// Files CCMSetup needs in a `/source` folder (configmgr.md §1.2: with only `/source`, setup
/// fails when `ccmsetup.cab` is missing).
pub const REQUIRED_SOURCE_FILES: [&str; 2] = ["ccmsetup.exe", "ccmsetup.cab"];

/// `[offline_bundle.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineBundleSpec {
    /// Folder the bundle is written to, relative to the project directory or absolute.
    pub path: Spanned<String>,
    /// A local copy of the site server's `<ConfigMgr installation>\Client` folder (relative to
    /// the project directory); copied whole into the bundle's `Client\`.
    pub client_source: Spanned<String>,
    /// Where `install.cmd` copies `Client\` on the device; becomes `/source` (default
    /// `C:\ClientSource`, the seed's "local copy").
    #[serde(default = "default_install_path")]
    pub install_path: String,
    /// The site server signing certificate file (relative to the project directory); copied into
    /// the bundle and the device, and `SMSSIGNCERT` points at it unless given.
    #[serde(default)]
    pub signing_certificate: Option<Spanned<String>>,
    /// client.msi properties: SMSSITECODE, CCMHOSTNAME, FSP, CCMALWAYSINF, CCMFIRSTCERT, ...
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters (`UsePKICert`, `NoCRLCheck`, ...); `/source` is set from
    /// `install_path`.
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
}

fn default_install_path() -> String {
    r"C:\ClientSource".into()
}

impl ArtifactSpec for OfflineBundleSpec {
    const KIND: &'static str = "offline_bundle";
    const DESCRIPTION: &'static str =
        "An offline media bundle for internet-only clients: client source, signing certificate, install.cmd and command line.";
    const MANUAL_STEP: Option<&'static str> = None;

    fn render(self, at: &RenderInput) -> Result<Rendered, Vec<Diagnostic>> {
        let spec = self;
        let (file, span, project_dir, address) =
            (&at.file, at.span.clone(), &at.project_dir, &at.address);
        let mut files = Files::new();
        let source_rel = PathBuf::from(&spec.client_source.value);
        let at_source = |d: Diagnostic| d.at_span(file, spec.client_source.span.clone());
        match files::list_tree(&project_dir.join(&source_rel)) {
            Ok(names) => {
                let missing: Vec<&str> = REQUIRED_SOURCE_FILES
                    .iter()
                    .copied()
                    .filter(|r| !names.iter().any(|n| n.eq_ignore_ascii_case(r)))
                    .collect();
                if !missing.is_empty() {
                    return Err(vec![at_source(
                        Diagnostic::error(
                            "cmdeploy::offline_bundle::source_layout",
                            format!("`{}` has no {}", spec.client_source.value, missing.join(" or ")),
                        )
                        .with_help("copy the whole <ConfigMgr installation>\\Client folder of the site server: CCMSetup installing from /source alone fails without ccmsetup.cab"),
                    )]);
                }
                for n in names {
                    files.insert(format!("Client/{n}"), FileSource::Copy(source_rel.join(&n)));
                }
            }
            Err(e) => {
                return Err(vec![at_source(
                    Diagnostic::error(
                        "cmdeploy::offline_bundle::source",
                        format!("cannot read client source `{}`: {e}", spec.client_source.value),
                    )
                    .with_help("give a local copy of the site server's <ConfigMgr installation>\\Client folder"),
                )]);
            }
        }
        let install_path = spec.install_path.trim_end_matches('\\').to_string();
        let mut properties = spec.properties.clone();
        let mut certificates = Vec::new();
        if let Some(cert) = &spec.signing_certificate {
            let name = Path::new(&cert.value)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "siteserver.cer".into());
            files.insert(name.clone(), FileSource::Copy(PathBuf::from(&cert.value)));
            if properties.sms_sign_cert.is_none() {
                properties.sms_sign_cert = Some(format!("{install_path}\\{name}"));
            }
            certificates.push(name);
        }
        let mut params = spec.ccmsetup.clone();
        params.source = Some(vec![install_path.clone()]);
        let cmd = ccmsetup::to_command_line(&params, &properties);
        let (mut errors, warnings) = kit::finding_diagnostics(
            ccmsetup::check_command_line(&cmd, Some(CcmContext::Internet)),
            file,
            at.locate(&cmd),
            "offline bundle command line: ",
        );
        let args = cmd.render_args();
        let header = format!("Managed by cmdeploy ({address}); rendered by `cmdeploy apply`.");
        let unsafe_value = |what: String, e: crate::quote::Unsafe| {
            Diagnostic::error(
                "cmdeploy::offline_bundle::unsafe_value",
                format!("{what} cannot be written safely into install.cmd: {e}"),
            )
            .with_help(
                "remove the character; a value that reaches a script can never change its commands",
            )
            .at_span(file, span.clone())
        };
        if let Err(e) = quote::cmd::in_quotes(&install_path) {
            errors.push(unsafe_value("`install_path`".into(), e));
        }
        for cert in &certificates {
            if let Err(e) = quote::cmd::in_quotes(cert) {
                errors.push(unsafe_value(
                    format!("the certificate file name `{cert}`"),
                    e,
                ));
            }
        }
        if let Err(e) = quote::cmd::line(&args) {
            errors.push(unsafe_value("the CCMSetup arguments".into(), e));
        }
        if let Err(e) = quote::cmd::line(address) {
            errors.push(unsafe_value("the table's address".into(), e));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let command_line = format!("{install_path}\\ccmsetup.exe {args}");
        let site_code = properties.sms_site_code.clone().unwrap_or_default();
        let ctx = minijinja::context! {
            header => header, install_path => install_path, args => args,
            certificates => certificates, command_line => command_line, site_code => site_code,
        };
        for (name, template) in [
            ("install.cmd", "offline-install.cmd"),
            ("README.txt", "offline-readme.txt"),
        ] {
            let text = render::render(template, ctx.clone())
                .map_err(|e| vec![Diagnostic::error("cmdeploy::offline_bundle::render", e)])?;
            files.insert(name.into(), FileSource::Text(text));
        }
        files.insert(
            "ccmsetup-command-line.txt".into(),
            FileSource::Text(format!("{command_line}\n")),
        );
        let artifact = Artifact {
            path: spec.path.clone(),
            files,
        };
        Ok(Rendered {
            artifact,
            command_line,
            warnings,
        })
    }
}
