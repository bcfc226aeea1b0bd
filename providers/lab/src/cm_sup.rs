//! Lab cmdlets for software update points and software update-based client installation:
//! `Get-/Add-/Set-/Remove-CMSoftwareUpdatePoint` and
//! `Get-/Set-CMSoftwareUpdateBasedClientInstallation` (PSRef of each; configmgr.md §2.7, §3.3,
//! §6 rule 14; deploy-clients-to-windows-computers.md "Software update-based installation").

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::cm_site::{prop, remove_where, site_code, site_of};
use super::model::{Estate, Site, SoftwareUpdatePoint};

/// The WSUS port rule: HTTP 80 goes with HTTPS 443, otherwise HTTPS is HTTP + 1 (8530/8531 on the
/// custom web site). Returns ConfigMgr-style wording of the problem.
pub fn port_problem(http: i64, https: i64) -> Option<String> {
    let ok = if http == 80 {
        https == 443
    } else {
        https == http + 1
    };
    (!ok).then(|| format!("The WSUS ports {http}/{https} are inconsistent: with HTTP port 80 the HTTPS port is 443, otherwise the HTTPS port is the HTTP port plus one (8530/8531)."))
}

fn sup_json(site: &Site, s: &SoftwareUpdatePoint) -> Value {
    json!({
        "NetworkOSPath": format!("\\\\{}", s.server),
        "RoleName": "SMS Software Update Point",
        "SiteCode": site.code,
        "Props": [
            prop("WSUSIISPort", s.http_port, ""),
            prop("WSUSIISSSLPort", s.https_port, ""),
            prop("SSLWSUS", i64::from(s.ssl), ""),
        ],
    })
}

/// `Get-CMSoftwareUpdatePoint [-SiteCode] [-SiteSystemServerName]`: SMS_SCI_SysResUse rows.
pub fn get_sup(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.opt_str("SiteSystemServerName")?;
    a.accept(&["AllSite"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(Value::Array(
        site.software_update_points
            .iter()
            .filter(|s| {
                server
                    .as_ref()
                    .is_none_or(|n| s.server.eq_ignore_ascii_case(n))
            })
            .map(|s| sup_json(site, s))
            .collect(),
    ))
}

/// `Add-CMSoftwareUpdatePoint -SiteSystemServerName [-SiteCode] [-WsusIisPort] [-WsusIisSslPort]
/// [-WsusSsl] [-ClientConnectionType]`: the server must be a known computer, one role per server,
/// ports per [`port_problem`]. The name is kept as given (FQDN or short name).
pub fn add_sup(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    let http = a.opt_int("WsusIisPort")?.unwrap_or(8530);
    let https = a.opt_int("WsusIisSslPort")?.unwrap_or(8531);
    let ssl = a.opt_bool("WsusSsl")?.unwrap_or(false);
    a.accept(&["ClientConnectionType"]);
    a.finish()?;
    if estate.host(&server).is_none() {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!(
                "'{server}' is not a site system server. Add it with New-CMSiteSystemServer first."
            ),
        ));
    }
    if let Some(p) = port_problem(http, https) {
        return Err(CmdError::new("InvalidArgument", p));
    }
    let site = site_of(estate, &code)?;
    if site
        .software_update_points
        .iter()
        .any(|s| s.server.eq_ignore_ascii_case(&server))
    {
        return Err(CmdError::new(
            "ResourceExists",
            format!("'{server}' already has the software update point role in site {code}."),
        ));
    }
    let s = SoftwareUpdatePoint {
        server,
        http_port: http,
        https_port: https,
        ssl,
    };
    let out = sup_json(site, &s);
    site.software_update_points.push(s);
    Ok(out)
}

/// `Set-CMSoftwareUpdatePoint -SiteSystemServerName [-SiteCode] [-HttpPort] [-HttpsPort]
/// [-EnableSsl]`, with the port rule.
pub fn set_sup(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    let http = a.opt_int("HttpPort")?;
    let https = a.opt_int("HttpsPort")?;
    let ssl = a.opt_bool("EnableSsl")?;
    a.accept(&["PassThru", "ClientConnectionType"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    let s = site
        .software_update_points
        .iter_mut()
        .find(|s| s.server.eq_ignore_ascii_case(&server))
        .ok_or_else(|| {
            CmdError::new(
                "ObjectNotFound",
                format!("No software update point on '{server}' in site {code}."),
            )
        })?;
    let (h, hs) = (http.unwrap_or(s.http_port), https.unwrap_or(s.https_port));
    if let Some(p) = port_problem(h, hs) {
        return Err(CmdError::new("InvalidArgument", p));
    }
    s.http_port = h;
    s.https_port = hs;
    if let Some(v) = ssl {
        s.ssl = v;
    }
    Ok(Value::Null)
}

/// `Remove-CMSoftwareUpdatePoint -SiteSystemServerName [-SiteCode] -Force`.
pub fn remove_sup(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let server = a.str("SiteSystemServerName")?;
    a.accept(&["Force"]);
    a.finish()?;
    let site = site_of(estate, &code)?;
    if !remove_where(&mut site.software_update_points, |s| {
        s.server.eq_ignore_ascii_case(&server)
    }) {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("No software update point on '{server}' in site {code}."),
        ));
    }
    Ok(Value::Null)
}

/// `Get-CMSoftwareUpdateBasedClientInstallation -SiteCode`. Prop names are undocumented
/// (configmgr.md §2.7): the lab reports `Enabled` and the client version published to the
/// software update point as `Published Client Version` (`Value1`, "" when never published).
pub fn get_sup_install(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    a.finish()?;
    let site = site_of(estate, &code)?;
    Ok(json!({
        "ComponentName": "SMS_SITE_COMPONENT_MANAGER",
        "SiteCode": site.code,
        // Embedded property names **unverified** (configmgr.md §2.7: undocumented).
        "Props": [
            prop("Enabled", i64::from(site.software_update_installation), ""),
            prop("Published Client Version", 0, &site.software_update_client_version),
        ],
    }))
}

/// `Set-CMSoftwareUpdateBasedClientInstallation -SiteCode -EnableWsus`: needs the active software
/// update point of a primary site; enabling publishes the site's current client to it (the
/// console's "Later Version of Client Package Detected" → Yes).
pub fn set_sup_install(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let code = site_code(a, session_site)?;
    let enable = a.opt_bool("EnableWsus")?;
    a.finish()?;
    let site = site_of(estate, &code)?;
    if enable == Some(true) {
        if site.site_type != "primary" || site.software_update_points.is_empty() {
            return Err(CmdError::new("InvalidOperation", "Software update-based client installation needs the active software update point of a primary site."));
        }
        site.software_update_client_version = site.version.clone();
    }
    if let Some(e) = enable {
        site.software_update_installation = e;
    }
    Ok(Value::Null)
}
