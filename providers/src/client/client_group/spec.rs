//! The manifest table of a `client_group` and the rules that keep its installs from failing
//! (configmgr.md §6 rules 6, 8, 13, 18).

use serde::{Deserialize, Serialize};

use cmdeploy_engine::diagnostics::{Diagnostic, SourceFile};
use cmdeploy_engine::spanned::Spanned;

use crate::ccmsetup::{CcmsetupParameters, ClientMsiProperties, Context as CcmContext};
use crate::client::connection_field::ConnectionField;

/// How the group's hosts get the client (deploy-clients-to-windows-computers.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Client Push Installation Wizard: the site installs to discovered domain computers
    /// (`Install-CMClient`); failed pushes retry hourly for up to 7 days.
    Push,
    /// Manual intranet install: CCMSetup.exe run on each host over its connection.
    Manual,
    /// Workgroup computers: manual install with SMSSITECODE and DNSSUFFIX (or an MP); needs a
    /// network access account.
    Workgroup,
    /// Internet-based clients: PKI certificate, CCMHOSTNAME, SMSSIGNCERT, a local source.
    Internet,
}

impl Method {
    /// The CCMSetup linting context.
    pub fn context(self) -> CcmContext {
        match self {
            Method::Push => CcmContext::Push,
            Method::Manual => CcmContext::Manual,
            Method::Workgroup => CcmContext::Workgroup,
            Method::Internet => CcmContext::Internet,
        }
    }
}

/// Options of the push wizard (`Install-CMClient`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushOptions {
    /// "Always install the client software" (`-AlwaysInstallClient`).
    #[serde(default)]
    pub always_install: bool,
    /// Uninstall and reinstall an existing client (`-ForceReinstall`).
    #[serde(default)]
    pub force_reinstall: bool,
    /// "Allow the client software to be installed on domain controllers" (`-IncludeDomainController`).
    #[serde(default)]
    pub include_domain_controllers: bool,
    /// Minutes apply waits for the site to report the client (default 10; the lab is immediate).
    #[serde(default)]
    pub wait_minutes: Option<u64>,
}

/// Whether the group's hosts should have a client.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ensure {
    /// Installed, assigned to the site and registered (the default).
    #[default]
    Present,
    /// Not installed: an installed client is uninstalled (`ccmsetup.exe /uninstall`); needs
    /// `on_destroy = "uninstall"`.
    Absent,
}

/// What happens to a host's client when its target leaves the manifests or says
/// `ensure = "absent"`; kept in state, so that a removed target is still uninstalled.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OnDestroy {
    /// cmdeploy stops managing the client and leaves it installed (the plan says "forget").
    #[default]
    Forget,
    /// `ccmsetup.exe /uninstall` over the host's connection (through the ccmsetup service,
    /// windows-runtime.md §8), then `Remove-CMDevice` when `remove_device_record` is set.
    Uninstall,
}

/// `[client_group.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGroupSpec {
    /// `push`, `manual`, `workgroup` or `internet`.
    pub method: Method,
    /// Key of the `site` the clients are assigned to (its device records are read first).
    pub site: Spanned<String>,
    /// AD domain of the hosts (`contoso.com`); templated per host from a hosts file with
    /// `domain = "{{ row.domain }}"`. Push needs domain members.
    #[serde(default)]
    pub domain: Option<Spanned<String>>,
    /// How to reach each host (templated per host, e.g. `{ host = "{{ host }}.contoso.com" }`);
    /// defaults to `{ host = "{{ host }}" }`. Not used by `push`.
    #[serde(default)]
    pub connection: Option<ConnectionField>,
    /// Local folder on each host holding a copy of the site's `Client` folder (`/source`);
    /// required except for `push`.
    #[serde(default)]
    pub source: Option<String>,
    /// Push wizard options (`method = "push"`).
    #[serde(default)]
    pub push: Option<PushOptions>,
    /// client.msi properties, on the command line as given: no `SMSSITECODE` is added, so a bare
    /// `CCMSetup.exe` takes its properties from the ConfigMgrInstallation.adm policy or AD
    /// (seed 000, manual example 1).
    #[serde(default)]
    pub properties: ClientMsiProperties,
    /// CCMSetup parameters (`UsePKICert`, `NoCRLCheck`, `mp`, ...).
    #[serde(default)]
    pub ccmsetup: CcmsetupParameters,
    /// The client version the hosts must run: `"site"` (the site's current client, the
    /// default), a minimum such as `"5.00.9128.1000"`, or `"any"`. An older client is upgraded
    /// by reinstalling it with the group's method (`/forceinstall`; push: `always_install`).
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// `present` (default) or `absent` (uninstall the client; needs `on_destroy = "uninstall"`).
    #[serde(default)]
    pub ensure: Ensure,
    /// `forget` (default: a removed target leaves its client installed) or `uninstall`.
    #[serde(default)]
    pub on_destroy: OnDestroy,
    /// After an uninstall, also delete the site's device record (`Remove-CMDevice`).
    #[serde(default)]
    pub remove_device_record: bool,
}

/// The method-specific rules, as diagnostics at the table.
pub fn method_rules(
    spec: &ClientGroupSpec,
    file: &std::sync::Arc<SourceFile>,
    span: std::ops::Range<usize>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |d: Diagnostic| d.at_span(file, span.clone());
    let domain = spec
        .domain
        .as_ref()
        .map(|d| d.value.trim().to_string())
        .unwrap_or_default();
    match spec.method {
        Method::Push => {
            if domain.is_empty() || domain.eq_ignore_ascii_case("workgroup") {
                let d = Diagnostic::error("cmdeploy::client_push::workgroup_target", "client push cannot install to workgroup computers")
                    .with_help("push needs domain members (give `domain`); install workgroup computers with method = \"workgroup\" (configmgr.md §6 rule 8)");
                out.push(match &spec.domain {
                    Some(s) => d.at_span(file, s.span.clone()),
                    None => at(d),
                });
            }
        }
        Method::Internet => {
            let auto = spec
                .properties
                .sms_site_code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("AUTO"));
            if auto {
                out.push(at(Diagnostic::error("cmdeploy::client::internet_auto_site", "internet-based clients need an explicit SMSSITECODE, not AUTO")
                    .with_help("internet clients cannot use automatic site assignment; set SMSSITECODE to the primary site's code (configmgr.md §6 rule 6)")));
            }
            if spec.ccmsetup.use_pki_cert != Some(true) {
                out.push(at(Diagnostic::error("cmdeploy::client::internet_missing_pki", "internet-based clients need /UsePKICert")
                    .with_help("without /UsePKICert the client filters out HTTPS management points and cannot reach the internet MP; set ccmsetup = { UsePKICert = true } and deploy a client authentication certificate first (configmgr.md §1.2, §6 rule 6)")));
            }
        }
        Method::Workgroup => {
            if !domain.is_empty() && !domain.eq_ignore_ascii_case("workgroup") {
                out.push(at(Diagnostic::warning(
                    "cmdeploy::client::workgroup_domain",
                    format!("workgroup hosts are given the domain `{domain}`"),
                )
                .with_help(
                    "domain members can be pushed to: use method = \"push\" or \"manual\"",
                )));
            }
        }
        Method::Manual => {}
    }
    if spec.method != Method::Push && spec.source.is_none() {
        out.push(at(Diagnostic::error("cmdeploy::client::source", "`source` (a local copy of the client folder on each host) is required")
            .with_help("WinRM sessions have no network credentials for a UNC /source (double hop): copy the Client folder to the host first (configmgr.md §6 rule 19)")));
    }
    if let Some(source) = spec.source.as_deref().filter(|s| is_unc(s)) {
        out.push(at(unc_source(source)));
    }
    // With /noservice CCMSetup runs as the WinRM user, who has no network credentials for a share;
    // as a service (the default) the computer account reads it (windows-runtime.md §8, CIP
    // /noservice; configmgr.md §6 rule 19).
    if spec.ccmsetup.no_service == Some(true) {
        if let Some(share) = spec.ccmsetup.source.iter().flatten().find(|s| is_unc(s)) {
            out.push(at(Diagnostic::error(
                "cmdeploy::client::noservice_unc_source",
                format!("/noservice with `/source:{share}`: CCMSetup would read the share as the WinRM user"),
            )
            .with_help("a WinRM session has no network credentials (the double hop): drop /noservice so the ccmsetup service reads the share as the computer account, or give a local /source")));
        }
    }
    out.extend(lifecycle_rules(spec).into_iter().map(at));
    if spec.method == Method::Push && spec.push.is_none() && spec.source.is_some() {
        out.push(at(Diagnostic::warning(
            "cmdeploy::client::push_source",
            "`source` is not used by client push",
        )));
    }
    out
}

/// True for a UNC path (`\\server\share`).
pub fn is_unc(path: &str) -> bool {
    path.starts_with("\\\\") || path.starts_with("//")
}

/// The diagnostic for a client source on a share: the runner reads it from inside a WinRM
/// session, which has no network credentials (windows-runtime.md §6, configmgr.md §6 rule 19).
pub fn unc_source(source: &str) -> Diagnostic {
    Diagnostic::error(
        "cmdeploy::client::unc_source",
        format!("`source = {source:?}` is a UNC path, which a WinRM session cannot read"),
    )
    .with_help("a WinRM session has no network credentials for a second computer (the double hop): copy the Client folder to a local folder on each host and give that path")
}

/// The uninstall options' rules: `ensure = "absent"` opts in with `on_destroy = "uninstall"`,
/// an uninstall runs CCMSetup over the host's connection (which push targets have not), and
/// `remove_device_record` follows an uninstall.
fn lifecycle_rules(spec: &ClientGroupSpec) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if spec.ensure == Ensure::Absent && spec.on_destroy != OnDestroy::Uninstall {
        out.push(
            Diagnostic::error(
                "cmdeploy::client::absent_without_uninstall",
                "`ensure = \"absent\"` uninstalls the client, but `on_destroy` is not \"uninstall\"",
            )
            .with_help("opt in with on_destroy = \"uninstall\" (or remove the target to forget its hosts, leaving their clients installed)"),
        );
    }
    if spec.method == Method::Push && spec.on_destroy == OnDestroy::Uninstall {
        out.push(
            Diagnostic::error(
                "cmdeploy::client::push_uninstall",
                "client push targets cannot be uninstalled: cmdeploy has no connection to their hosts",
            )
            .with_help("CCMSetup /uninstall runs on the host: give the hosts a connection with method = \"manual\", or uninstall from the console"),
        );
    }
    if spec.remove_device_record && spec.on_destroy != OnDestroy::Uninstall {
        out.push(Diagnostic::warning(
            "cmdeploy::client::remove_device_record",
            "`remove_device_record` has no effect unless on_destroy = \"uninstall\"",
        ));
    }
    out
}
