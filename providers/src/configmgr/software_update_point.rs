//! `software_update_point`: a site's software update point (the WSUS server clients use) and the
//! rules software update-based client installation puts on the Windows Update GPO: its
//! `WUServer` must name the server exactly as the site system is configured (FQDN or short
//! name), with its scheme and port — 8530/8531 or 80/443, HTTPS = HTTP + 1 except 80/443
//! (configmgr.md §2.7, §3.3, §6 rules 14 and 22; seed 000 "How to Install Configuration Manager
//! Clients by Using Software Update-Based Installation"; PSRef Add-/Set-/Get-/Remove-
//! CMSoftwareUpdatePoint).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use cmdeploy_engine::diagnostics::{Diagnostic, Diagnostics};
use cmdeploy_engine::provider::{
    Context, Observed, OpAction, ReadRequest, ReadResult, RemoteError,
};
use cmdeploy_engine::resource::Connection;
use cmdeploy_engine::resource::{Resource, ResourceSet};
use cmdeploy_engine::spanned::Spanned;

use crate::gpo::kind::{wsus_server_span, GpoKind, GpoModel};
use crate::kit;
use crate::powershell::Call;
use crate::sdk::{self, Change, CrossValidate, Declared, DecodeCx, Import, TypedKind};

/// The attribute naming the site system server (the role's identity: a change replaces it).
const SERVER: &str = "server";

/// `[software_update_point.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoftwareUpdatePointSpec {
    /// Key of the site the role belongs to (software update-based installation needs the active
    /// software update point of a primary site).
    pub site: Spanned<String>,
    /// The site system server as ConfigMgr holds it: an FQDN (`server1.contoso.com`) or a short
    /// name (`server1`). Clients' `WUServer` must use the same form.
    pub server: Spanned<String>,
    /// WSUS HTTP port: 8530 (custom web site, default) or 80 (default web site).
    #[serde(default = "http")]
    pub http_port: Spanned<u16>,
    /// WSUS HTTPS port: 8531 with 8530, 443 with 80.
    #[serde(default = "https")]
    pub https_port: Spanned<u16>,
    /// Require SSL between clients and the software update point (`-WsusSsl`).
    #[serde(default)]
    pub ssl: bool,
}

/// A software update point's attributes, desired and observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftwareUpdatePointModel {
    /// The site system server, lower case (SMS_SCI_SysResUse NetworkOSPath).
    pub server: String,
    /// Embedded property WSUSIISPort.
    pub http_port: u16,
    /// Embedded property WSUSIISSSLPort.
    pub https_port: u16,
    /// Embedded property SSLWSUS (non-zero: SSL required).
    pub ssl: bool,
}

impl SoftwareUpdatePointModel {
    /// The `WUServer` URL its clients must use ([`expected_url`]).
    pub fn url(&self) -> String {
        expected_url(&self.server, self.http_port, self.https_port, self.ssl)
    }
}

fn http() -> Spanned<u16> {
    Spanned::detached(8530)
}

fn https() -> Spanned<u16> {
    Spanned::detached(8531)
}

/// The WSUS port rule: 80 goes with 443; any other HTTP port with HTTPS = HTTP + 1.
pub fn ports_consistent(http: u16, https: u16) -> bool {
    if http == 80 {
        https == 443
    } else {
        u32::from(https) == u32::from(http) + 1
    }
}

/// The `WUServer` URL clients of a software update point must use: `http://server:port`, or
/// `https://server:port` when it requires SSL.
pub fn expected_url(server: &str, http_port: u16, https_port: u16, ssl: bool) -> String {
    if ssl {
        format!("https://{server}:{https_port}")
    } else {
        format!("http://{server}:{http_port}")
    }
}

/// Scheme, host and port of a WSUS URL (the default port of the scheme when none is given).
fn parts(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split('/').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, if scheme == "https" { 443 } else { 80 }),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// The `software_update_point` kind.
pub struct SoftwareUpdatePointKind;

#[async_trait::async_trait]
impl TypedKind for SoftwareUpdatePointKind {
    type Spec = SoftwareUpdatePointSpec;
    type Model = SoftwareUpdatePointModel;
    const KIND: &'static str = "software_update_point";
    const DESCRIPTION: &'static str =
        "A software update point (WSUS server name form, ports, SSL); the Windows Update GPO's WUServer is checked against it.";

    fn decode(
        &self,
        spec: SoftwareUpdatePointSpec,
        cx: &DecodeCx,
    ) -> Result<Declared<SoftwareUpdatePointModel>, Vec<Diagnostic>> {
        let (http, https) = (spec.http_port.value, spec.https_port.value);
        if !ports_consistent(http, https) {
            return Err(vec![Diagnostic::error("cmdeploy::software_update_point::ports", format!("WSUS ports {http}/{https} do not go together"))
                .with_help("WSUS listens on 80/443 (default web site) or 8530/8531 (custom web site); with HTTP 80 HTTPS is 443, otherwise HTTPS is HTTP+1 (configmgr.md §3.3)")
                .at_span(&cx.file, super::span_or(&spec.https_port.span, &cx.span))]);
        }
        let model = SoftwareUpdatePointModel {
            server: spec.server.value.to_lowercase(),
            http_port: http,
            https_port: https,
            ssl: spec.ssl,
        };
        let (connection, reference, meta) = super::site_binding(&spec.site, true);
        let natural_key = model.server.clone();
        let mut d = Declared::new(model, connection, natural_key);
        d.references.extend(reference);
        d.force_new.insert(SERVER.into());
        d.meta = meta;
        Ok(d)
    }

    fn cross_validate(&self) -> Option<&dyn CrossValidate> {
        Some(self)
    }

    fn import(&self) -> Option<&dyn Import> {
        Some(self)
    }

    async fn read(&self, ctx: &Context, requests: Vec<ReadRequest>) -> Vec<ReadResult> {
        kit::read_by_site(
            ctx,
            requests,
            |script, code, r| {
                let server = r
                    .desired
                    .as_ref()
                    .and_then(|d| sdk::model::<SoftwareUpdatePointModel>(&d.attrs))
                    .map(|m| m.server)
                    .or_else(|| r.prior.as_ref().map(|p| p.id.clone()))
                    .unwrap_or_default();
                script.push(get_point(code, &server))
            },
            |connection, script, out, id, _r| {
                let v = kit::value_of(connection, script, out, *id)?;
                kit::items(v)
                    .into_iter()
                    .next()
                    .map(observe)
                    .transpose()
                    .map_err(|m| read_error(connection, m))
            },
        )
        .await
    }

    /// A delete removes the role from the server state recorded; a create adds it (intranet
    /// clients), an update sets its ports and SSL; both then read the role back.
    fn calls(
        &self,
        ctx: &Context,
        change: &Change<'_, SoftwareUpdatePointModel>,
    ) -> Result<Vec<Call>, RemoteError> {
        let op = change.op;
        let code = kit::site_code(ctx, &kit::meta_of(op.desired.as_ref(), op.prior.as_ref()));
        let Some(d) = change
            .desired
            .as_ref()
            .filter(|_| op.action != OpAction::Delete)
        else {
            let server = op.prior.as_ref().map(|p| p.id.clone()).unwrap_or_default();
            return Ok(vec![Call::new("Remove-CMSoftwareUpdatePoint")
                .arg("SiteCode", code.as_str())
                .arg("SiteSystemServerName", server.as_str())
                .switch("Force")]);
        };
        let server = d.server.as_str();
        let write = if op.action == OpAction::Create {
            Call::new("Add-CMSoftwareUpdatePoint")
                .arg("SiteCode", code.as_str())
                .arg("SiteSystemServerName", server)
                .arg("WsusIisPort", d.http_port)
                .arg("WsusIisSslPort", d.https_port)
                .arg("WsusSsl", d.ssl)
                .arg("ClientConnectionType", "Intranet")
        } else {
            Call::new("Set-CMSoftwareUpdatePoint")
                .arg("SiteCode", code.as_str())
                .arg("SiteSystemServerName", server)
                .arg("HttpPort", d.http_port)
                .arg("HttpsPort", d.https_port)
                .arg("EnableSsl", d.ssl)
        };
        Ok(vec![write, get_point(&code, server)])
    }

    fn read_back(
        &self,
        _ctx: &Context,
        change: &Change<'_, SoftwareUpdatePointModel>,
        values: &[Value],
    ) -> Result<(String, SoftwareUpdatePointModel), RemoteError> {
        let connection = &change.op.connection;
        let server = change
            .desired
            .as_ref()
            .map(|d| d.server.clone())
            .unwrap_or_default();
        let found = values.last().and_then(|v| kit::items(v).into_iter().next());
        let Some(v) = found else {
            return Err(RemoteError::new(
                connection.host(),
                format!("software update point {server} is not found after apply"),
            ));
        };
        let o = observe(v).map_err(|m| read_error(connection, m))?;
        let model = sdk::model(&o.attrs).ok_or_else(|| {
            read_error(
                connection,
                format!("software update point {server}: unexpected read"),
            )
        })?;
        Ok((o.id, model))
    }
}

impl CrossValidate for SoftwareUpdatePointKind {
    fn validate(&self, resources: &ResourceSet, out: &mut Diagnostics) {
        let sups: Vec<&std::sync::Arc<Resource>> = resources.of_kind(Self::KIND).collect();
        check_installation_sites(resources, &sups, out);
        if sups.is_empty() {
            return;
        }
        let urls: Vec<String> = sdk::models::<SoftwareUpdatePointModel>(resources, Self::KIND)
            .map(|(_, m)| m.url())
            .collect();
        for (gpo, m) in sdk::models::<GpoModel>(resources, GpoKind::KIND) {
            let Some(url) = m.wsus_server() else {
                continue;
            };
            let matches =
                parts(url).is_some_and(|have| urls.iter().any(|u| parts(u) == Some(have.clone())));
            if !matches {
                out.push(
                    Diagnostic::error("cmdeploy::gpo::wsus_url", format!("WUServer `{url}` of {} does not match the software update point ({})", gpo.address, urls.join(" or ")))
                        .with_help("the intranet update service location must name the software update point exactly as the site system is configured (FQDN or short name) with its port and scheme (seed 000, software update-based installation; configmgr.md §3.3)")
                        .at(gpo.attr_loc(&wsus_server_span())),
                );
            }
        }
    }
}

/// `Get-CMSoftwareUpdatePoint` of one server at a site.
fn get_point(code: &str, server: &str) -> Call {
    Call::new("Get-CMSoftwareUpdatePoint")
        .arg("SiteCode", code)
        .arg("SiteSystemServerName", server)
}

/// A read that does not show a whole role, as the error of its cmdlet.
fn read_error(connection: &Connection, message: String) -> RemoteError {
    RemoteError {
        host: connection.host(),
        operation: Some("Get-CMSoftwareUpdatePoint".into()),
        message,
        category: None,
        unreachable: None,
    }
}

/// Software update-based installation needs the active software update point of a primary
/// site: refused on a secondary site, and — when the manifest declares software update points —
/// on a site that has none (configmgr.md §6 rule 14).
fn check_installation_sites(
    resources: &ResourceSet,
    sups: &[&std::sync::Arc<Resource>],
    out: &mut Diagnostics,
) {
    for site in resources.of_kind("site") {
        if site.attrs.get("software_update_installation") != Some(&json!(true)) {
            continue;
        }
        let key = site.address.name.as_str();
        let has_sup = sups
            .iter()
            .any(|s| s.meta.get("site").and_then(Value::as_str) == Some(key));
        let problem = if site.str_attr("type") == Some("secondary") {
            format!("{} is a secondary site", site.address)
        } else if !sups.is_empty() && !has_sup {
            format!(
                "{} has no software update point in the manifest",
                site.address
            )
        } else {
            continue;
        };
        out.push(
            Diagnostic::error("cmdeploy::software_update_point::primary_site", format!("software update-based client installation is enabled but {problem}"))
                .with_help("it needs the active software update point of a primary site, the same WSUS server clients use for software updates (seed 000, software update-based installation; configmgr.md §6 rule 14)")
                .at(site.attr_loc("software_update_installation")),
        );
    }
}

/// The SUP role's server and WSUS ports from its SMS_SCI_SysResUse embedded properties.
///
/// # Errors
/// A message naming a missing property: never a port of 0 or SSL off by default.
pub(super) fn observe(v: &Value) -> Result<Observed, String> {
    let server = kit::required_str(v, "NetworkOSPath")?
        .trim_start_matches('\\')
        .to_lowercase();
    let n = |p: &str| {
        kit::prop(v, p)
            .and_then(|x| x.get("Value"))
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                format!(
                    "the software update point of {server} has no numeric embedded property '{p}'"
                )
            })
    };
    let model = SoftwareUpdatePointModel {
        http_port: port(n("WSUSIISPort")?, &server)?,
        https_port: port(n("WSUSIISSSLPort")?, &server)?,
        ssl: n("SSLWSUS")? != 0,
        server,
    };
    Ok(sdk::observed(model.server.clone(), &model))
}

/// A port number as read, or a message when it is not one.
fn port(n: i64, server: &str) -> Result<u16, String> {
    u16::try_from(n).map_err(|_| format!("the software update point of {server} has port {n}"))
}

#[cfg(test)]
mod tests {
    use super::observe;
    use serde_json::json;

    #[test]
    fn a_missing_port_is_named_not_read_as_zero() {
        let sup = json!({
            "NetworkOSPath": "\\\\server1.contoso.com",
            "Props": [
                {"PropertyName": "WSUSIISPort", "Value": 8530},
                {"PropertyName": "WSUSIISSSLPort", "Value": 8531},
            ],
        });
        let e = observe(&sup).unwrap_err();
        assert!(e.contains("'SSLWSUS'"), "{e}");
        assert!(e.contains("server1.contoso.com"), "{e}");
    }
}
