//! Lab client hosts: CCMSetup installs (manual, workgroup, internet, push), client state probes,
//! imaging preparation steps, and the site's device records (`Get-CMDevice`).
//!
//! Rules modelled (configmgr.md §1, §4, §6): push refuses workgroup computers, hosts without
//! ADMIN$, and hosts where no push account is a local administrator; `SMSSITECODE=AUTO` assigns
//! only through a site-assignment boundary group matching the host's address; an internet client
//! without a PKI certificate installs but cannot reach its management point; `/logon` stops when
//! any client is installed; reinstalls keep the existing client's settings unless `/forceinstall`;
//! a command line without installation properties takes the host's GPO-provisioned
//! `SetupParameters` (ConfigMgrInstallation.adm), one with any property ignores them.

use serde_json::{json, Value};

use super::args::{Args, CmdError, CmdResult};
use super::model::{short, Client, Estate, Host};
use cmdeploy_providers::ccmsetup;
use cmdeploy_providers::configmgr::net;

/// Where CCMSetup writes its log (configmgr.md §5).
pub const CCMSETUP_LOG: &str = "C:\\Windows\\ccmsetup\\Logs\\ccmsetup.log";

pub(crate) fn host_of<'e>(estate: &'e mut Estate, name: &str) -> Result<&'e mut Host, CmdError> {
    estate.host_mut(name).ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The computer '{name}' is not known in the lab."),
        )
    })
}

/// The site codes of site-assignment boundary groups whose boundaries contain the host.
pub fn assignment_sites(estate: &Estate, host: &Host) -> Vec<String> {
    let net4 = net::host_net(&host.ip);
    let mut codes: Vec<String> = estate
        .boundary_groups
        .iter()
        .filter(|g| !g.default_site_code.is_empty())
        .filter(|g| {
            g.boundaries.iter().any(|id| {
                estate
                    .boundaries
                    .iter()
                    .find(|b| b.id == *id)
                    .is_some_and(|b| match b.boundary_type {
                        0 => net4.is_some_and(|n| n.network().to_string() == b.value),
                        1 => host
                            .ad_site
                            .as_ref()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&b.value)),
                        3 => match (net::range(&b.value), net4) {
                            (Ok((lo, hi)), Some(n)) => {
                                (u32::from(lo)..=u32::from(hi)).contains(&u32::from(n.addr()))
                            }
                            _ => false,
                        },
                        _ => false,
                    })
            })
        })
        .map(|g| g.default_site_code.clone())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// `Get-CmdeployClientState`: what a probe of the host reads (WMI, services, files, stores).
pub fn client_state(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    a.finish()?;
    let h = host_of(estate, host)?.clone();
    let c = h.client.clone();
    Ok(json!({
        "Installed": c.is_some(),
        "ClientVersion": c.as_ref().map(|c| c.version.clone()),
        "SiteCode": c.as_ref().map(|c| c.site_code.clone()).filter(|s| !s.is_empty()),
        "CcmExecRunning": c.as_ref().is_some_and(|c| c.ccmexec_running),
        "SmsCfgIni": c.as_ref().is_some_and(|c| c.smscfg_ini),
        "SmsCertificates": c.as_ref().map(|c| c.sms_certificates).unwrap_or(0),
        "PkiCertificates": u32::from(h.pki_certificate),
        "TrustedRootKey": c.as_ref().is_some_and(|c| c.trusted_root_key),
        "InternetManagementPoint": c.as_ref().map(|c| c.internet_management_point.clone()).filter(|s| !s.is_empty()),
        "LastInstallParameters": c.as_ref().map(|c| c.install_parameters.clone()),
        "ManagementPointReachable": c.as_ref().is_some_and(|c| c.registered),
        "DomainJoined": h.domain.is_some(),
        "PendingReboot": h.pending_reboot,
    }))
}

/// What an install comes to: CCMSetup's return code, what the log says before its final line,
/// and what happens to the host's client.
struct InstallOutcome {
    exit_code: i64,
    log: String,
    client: Option<Client>,
    uninstall: bool,
}

impl InstallOutcome {
    /// What the ccmsetup service does with this outcome (it finishes when the service schedules it).
    fn service_run(&self) -> super::ccmsetup_service::CcmsetupRun {
        super::ccmsetup_service::CcmsetupRun {
            finishes_at_ms: 0,
            return_code: self.exit_code,
            outcome: self.log.clone(),
            client: self.client.clone(),
            uninstall: self.uninstall,
        }
    }
}

impl InstallOutcome {
    fn done(exit_code: i64, log: impl Into<String>) -> InstallOutcome {
        InstallOutcome {
            exit_code,
            log: log.into(),
            client: None,
            uninstall: false,
        }
    }

    /// The log with CCMSetup's final line, as it reads once the install is over.
    fn full_log(&self) -> String {
        let last = super::ccmsetup_service::final_line(self.exit_code);
        if self.log.is_empty() {
            last
        } else {
            format!("{} {last}", self.log)
        }
    }
}

fn do_install(
    estate: &mut Estate,
    host: &str,
    text: &str,
    method: &str,
) -> Result<InstallOutcome, CmdError> {
    let (parsed, findings) = ccmsetup::check(text, None);
    if let Some(f) = findings.iter().find(|f| f.is_error()) {
        return Ok(InstallOutcome::done(
            6,
            format!("CcmSetup failed: invalid command line: {}.", f.message),
        ));
    }
    let cmd = parsed.unwrap_or_default();
    let h = estate.host(host).cloned().ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The computer '{host}' is not known in the lab."),
        )
    })?;
    if cmd.has_parameter("logon") && h.client.is_some() {
        return Ok(InstallOutcome::done(
            0,
            "A client is already installed and /logon was specified.",
        ));
    }
    if cmd.has_parameter("uninstall") {
        return Ok(InstallOutcome {
            uninstall: true,
            ..InstallOutcome::done(0, "Client uninstalled.")
        });
    }
    if h.client.is_some() && !cmd.has_parameter("forceinstall") {
        return Ok(InstallOutcome::done(
            0,
            "An existing client is installed; its local policy and stored command line take precedence over the new properties (use /forceinstall to change them).",
        ));
    }
    let mut log = Vec::new();
    // Without installation properties on its command line, CCMSetup uses those the
    // ConfigMgrInstallation.adm policy provisioned on the computer; any property on the command
    // line means the provisioned ones are not used (seed 000, "How to Provision Client
    // Installation Properties").
    let provisioned = h
        .setup_parameters
        .as_deref()
        .filter(|_| cmd.properties.is_empty())
        .map(|p| ccmsetup::parse(p).command_line);
    if let Some(p) = &provisioned {
        log.push(format!(
            "Using the installation properties provisioned by Group Policy: {}.",
            p.render()
        ));
    }
    let cmd = match provisioned {
        Some(p) => ccmsetup::CommandLine {
            properties: p.properties,
            ..cmd
        },
        None => cmd,
    };
    let explicit = cmd
        .property_value("SMSSITECODE")
        .map(str::to_uppercase)
        .filter(|c| c != "AUTO");
    let internet = cmd.property_value("CCMALWAYSINF") == Some("1");
    let site_code = match &explicit {
        Some(code) => match estate.site(code) {
            Some(s) if s.site_type == "primary" => code.clone(),
            Some(_) => {
                log.push(format!("Site {code} is not a primary site; clients can be assigned only to a primary site. The client is unassigned."));
                String::new()
            }
            None => {
                log.push(format!("Failed to assign to site {code}: the site code does not exist. The client is unassigned; automatic assignment retries every 10 minutes."));
                String::new()
            }
        },
        None if internet => {
            log.push("An internet-only client needs an explicit SMSSITECODE; it cannot use automatic site assignment.".into());
            String::new()
        }
        None => match assignment_sites(estate, &h).first() {
            Some(code) => code.clone(),
            None => {
                log.push(format!(
                    "Automatic site assignment found no site: {} ({}) is in no boundary group used for site assignment. The client is unassigned.",
                    h.fqdn, h.ip
                ));
                String::new()
            }
        },
    };
    let version = estate
        .site(&site_code)
        .map(|s| s.version.clone())
        .unwrap_or_else(|| "5.00.9128.1000".into());
    let hostname = cmd
        .property_value("CCMHOSTNAME")
        .map(str::to_lowercase)
        .unwrap_or_default();
    let registered = if site_code.is_empty() {
        false
    } else if internet || !hostname.is_empty() {
        let site = estate.site(&site_code);
        let known_mp = site.is_some_and(|s| {
            s.internet_management_points
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&hostname))
        });
        if !h.pki_certificate || !cmd.has_parameter("UsePKICert") {
            log.push(format!(
                "The client cannot communicate with the internet-based management point {hostname}: no valid PKI client authentication certificate (use a PKI certificate and /UsePKICert)."
            ));
            false
        } else if !known_mp {
            log.push(format!(
                "{hostname} is not an internet-facing management point of site {site_code}."
            ));
            false
        } else {
            true
        }
    } else {
        estate
            .site(&site_code)
            .is_some_and(|s| !s.management_points.is_empty())
    };
    let client = Client {
        version,
        site_code,
        ccmexec_running: true,
        smscfg_ini: true,
        sms_certificates: 1,
        trusted_root_key: true,
        internet_management_point: hostname,
        install_parameters: text.to_string(),
        registered,
        method: method.to_string(),
        ccmexec_start_type: "Automatic".into(),
        installed_at_ms: Some(super::ccmsetup_service::now_ms()),
    };
    Ok(InstallOutcome {
        client: Some(client),
        uninstall: false,
        exit_code: 0,
        log: log.join(" "),
    })
}

/// `Install-CmdeployClient -SourcePath -CommandLine [-WaitSeconds]`: runs CCMSetup from a local
/// copy (the wait is the Script's: `ccmsetup_wait`).
pub fn install(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    let source = a.str("SourcePath")?;
    let text = a.str("CommandLine")?;
    a.opt_int("WaitSeconds")?;
    a.finish()?;
    let h = host_of(estate, host)?;
    if source.starts_with("\\\\") {
        return Err(CmdError::new(
            "PermissionDenied",
            format!("Access to the path '{source}' is denied: a WinRM session has no network credentials (double hop). Copy the client source to {} first.", h.fqdn),
        ));
    }
    if !h
        .files
        .iter()
        .any(|f| f.eq_ignore_ascii_case(source.trim_end_matches('\\')))
    {
        return Err(CmdError::new(
            "ObjectNotFound",
            format!("Cannot find path '{source}\\ccmsetup.exe' because it does not exist."),
        ));
    }
    // `Start-Process -ArgumentList` is `[ValidateNotNullOrEmpty]` in 5.1 (PowerShell/PowerShell
    // @60b3b304 Process.cs:1783-1787; windows-runtime.md §8): an empty command line must not
    // reach it, so the runner starts ccmsetup.exe without -ArgumentList then.
    let guarded = super::runner_model::function_body("Install-CmdeployClient")
        .is_some_and(|b| b.contains("[string]::IsNullOrEmpty($CommandLine)"));
    if text.is_empty() && !guarded {
        return Err(CmdError::new(
            "InvalidData",
            "Cannot validate argument on parameter 'ArgumentList'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.",
        ));
    }
    let mut out = do_install(estate, host, &text, "manual")?;
    if let Some(code) = host_of(estate, host)?
        .ccmsetup_return_code
        .filter(|c| *c != 0)
    {
        out = InstallOutcome::done(
            code,
            format!("CcmSetup failed (injected fault: return code {code})."),
        );
    }
    // The bootstrap starts the ccmsetup service and exits: its exit code is 0 (8 when setup is
    // already running) whatever the install will come to; the result is in ccmsetup.log later
    // (windows-runtime.md §8, CIP /service). The runner throws on any other exit code.
    let offset = ccmsetup_log_len(estate, host)?;
    let started = super::ccmsetup_service::start(estate, host, out.service_run());
    let exit_code = if started { 0 } else { 8 };
    let h = host_of(estate, host)?;
    let last = h.ccmsetup_log.last().cloned().unwrap_or_default();
    if !started && super::runner_model::throws_on_bootstrap_failure() {
        return Err(CmdError::new(
            "OperationStopped",
            format!("CCMSetup did not start the ccmsetup service (exit code {exit_code}): {last}"),
        ));
    }
    // `Get-Content -Tail 1` returns the line with the FileSystem provider's note properties.
    let tail = super::ps_value::content_line(&last, CCMSETUP_LOG);
    Ok(json!({"ExitCode": exit_code, "LogTail": tail, "LogOffset": offset}))
}

/// Bytes of ccmsetup.log on `host` (what `(Get-Item ccmsetup.log).Length` says).
fn ccmsetup_log_len(estate: &mut Estate, host: &str) -> Result<usize, CmdError> {
    Ok(super::ccmsetup_service::log_text(&host_of(estate, host)?.ccmsetup_log).len())
}

/// `Get-CmdeployInstallResult -LogOffset N [-WaitSeconds]`: whether the ccmsetup service still
/// runs, and the return code and last lines that ccmsetup.log gained after byte `N`.
pub fn install_result(estate: &mut Estate, host: &str, a: &Args) -> CmdResult {
    let offset = a.opt_int("LogOffset")?.unwrap_or(0).max(0) as usize;
    a.opt_int("WaitSeconds")?;
    a.finish()?;
    let h = host_of(estate, host)?;
    let text = super::ccmsetup_service::log_text(&h.ccmsetup_log);
    let new = text.get(offset..).unwrap_or("");
    let lines: Vec<&str> = new.lines().filter(|l| !l.is_empty()).collect();
    let code = lines.iter().rev().find_map(|l| {
        l.split("CcmSetup is exiting with return code ")
            .nth(1)
            .and_then(|n| n.trim().parse::<i64>().ok())
    });
    let tail = lines[lines.len().saturating_sub(5)..].join("\n");
    Ok(json!({"Running": h.ccmsetup.is_some(), "ReturnCode": code, "LogTail": tail}))
}

/// `Install-CMClient -DeviceName [-SiteCode] [-AlwaysInstallClient] [-ForceReinstall]
/// [-IncludeDomainController]`: a client push from the site server, with push's prerequisites.
pub fn push_install(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    // `-Name` is the name of a client too (PSRef Install-CMClient.md, SearchByNameMandatory).
    let device = match a.opt_str("Name")? {
        Some(name) => name,
        None => a.str("DeviceName")?,
    };
    let site_code = a
        .opt_str("SiteCode")?
        .unwrap_or_else(|| session_site.to_string())
        .to_uppercase();
    let always = a.opt_bool("AlwaysInstallClient")?.unwrap_or(false);
    let force = a.opt_bool("ForceReinstall")?.unwrap_or(false);
    let include_dc = a.opt_bool("IncludeDomainController")?.unwrap_or(false);
    a.finish()?;
    let h = estate.host(&device).cloned().ok_or_else(|| CmdError::new("ObjectNotFound", format!("No discovered device named '{device}'. Client push installs only to discovered resources.")))?;
    let site = estate.site(&site_code).cloned().ok_or_else(|| {
        CmdError::new(
            "ObjectNotFound",
            format!("The site code '{site_code}' does not exist."),
        )
    })?;
    let refuse = |m: String| Err(CmdError::new("InvalidOperation", m));
    if h.domain.is_none() {
        return refuse(format!("Client push installation cannot install to workgroup computer {device}: install the client manually (CCMSetup.exe SMSSITECODE=... DNSSUFFIX=...)."));
    }
    if h.role == "domain_controller" && !include_dc {
        return refuse(format!("{device} is a domain controller; client push skips domain controllers unless they are included."));
    }
    if !h.reachable {
        return refuse(format!("Unable to connect to {device} (ping, SMB 445 and RPC 135 from the site server must be allowed). Client push retries every hour for up to 7 days."));
    }
    if !h.admin_share {
        return refuse(format!("Unable to connect to the ADMIN$ share on {device}. Client push needs the ADMIN$ share and File and Printer Sharing."));
    }
    let can_admin = site.push.accounts.iter().any(|acc| {
        let stored = site.accounts.iter().find(|x| x.user_name.eq_ignore_ascii_case(acc));
        let ad = estate.user(acc);
        let password_ok = matches!((stored, ad), (Some(s), Some(u)) if !s.password_hash.is_empty() && s.password_hash == u.password_hash);
        password_ok && h.local_admins.iter().any(|m| m.eq_ignore_ascii_case(acc))
    });
    if !can_admin {
        return refuse(format!(
            "Access is denied to {device}: no client push installation account is a member of its local Administrators group (with the password AD holds). The site computer account is tried last and fails. Push retries every hour for up to 7 days."
        ));
    }
    if !super::prereq::sha2_code_signing(&h) {
        return refuse(format!(
            "CCMSetup failed on {device}: the client is SHA-2 code signed and {} lacks SHA-2 code signing support ({}). Install the update first.",
            h.os,
            super::prereq::SHA2_UPDATE
        ));
    }
    if h.client.is_some() && !always && !force {
        return Ok(json!({"DeviceName": device, "Result": "a client is already installed"}));
    }
    let mut text = site.push.installation_properties.clone();
    // "Always install the client software": the site runs CCMSetup on a computer that has a
    // client, which reinstalls, upgrades or repairs it (seed 000, the Install Client Wizard's
    // installation options); ForceReinstall uninstalls it first.
    if force || (always && h.client.is_some()) {
        text = format!("/forceinstall {text}");
    }
    if !text.to_uppercase().contains("SMSSITECODE=") {
        text = format!("{text} SMSSITECODE={site_code}");
    }
    if let Some(fsp) = &site.fallback_status_point {
        if !text.to_uppercase().contains("FSP=") {
            text = format!("{text} FSP={}", fsp.server);
        }
    }
    let out = do_install(estate, &device, text.trim(), "push")?;
    if out.exit_code != 0 {
        return Err(CmdError::new(
            "InvalidResult",
            format!("Client push to {device} failed: {}", out.full_log()),
        ));
    }
    // Client push copies ccmsetup.exe to the target and starts it there: the ccmsetup service
    // installs as on a manual install, and the site learns of the client when it has finished
    // (windows-runtime.md §8).
    let run = out.service_run();
    if !super::ccmsetup_service::start(estate, &device, run) {
        return Err(CmdError::new(
            "InvalidResult",
            format!(
                "Client push to {device} failed: {}",
                super::ccmsetup_service::final_line(8)
            ),
        ));
    }
    Ok(json!({"DeviceName": device, "Result": "ccmsetup started on the target"}))
}

/// `Get-CMDevice [-Name] [-Fast] [-Resource]`: the site's device records (clients assigned to
/// the site that registered, and discovered domain computers without a client).
///
/// Without `-Name` the real cmdlet returns every device of the site (PSRef Get-CMDevice.md;
/// windows-runtime.md §9), which on a large site takes minutes and floods the runner's JSON. The
/// lab is stricter than ConfigMgr here: an unfiltered read of a site with more records than the
/// seed's `large_site_devices` (default 1000) is refused, so that code which reads every record
/// fails in the lab as it would crawl on a real site.
pub fn get_device(estate: &mut Estate, a: &Args, session_site: &str) -> CmdResult {
    let name = a.opt_str("Name")?;
    a.accept(&["Fast", "Resource"]);
    a.finish()?;
    let records = device_records(estate, name.as_deref(), session_site);
    let limit = estate
        .site(session_site)
        .map_or(usize::MAX, |s| s.large_site_devices);
    if name.is_none() && records.len() > limit {
        return Err(CmdError::new(
            "LimitsExceeded",
            format!("Get-CMDevice without -Name would return all {} device records of site {session_site}; filter by the names you need (the lab refuses unfiltered reads of sites with more than {limit} devices).", records.len()),
        ));
    }
    let records = super::cm_resource::as_asked(estate, a, records);
    Ok(Value::Array(records))
}

/// The device records of the site (all, or the one named `name`: short name or FQDN).
pub fn device_records(estate: &Estate, name: Option<&str>, session_site: &str) -> Vec<Value> {
    let site_domain = estate.site(session_site).map(|s| {
        s.server
            .split_once('.')
            .map(|x| x.1.to_string())
            .unwrap_or_default()
    });
    // With a name, only the hosts of that name (through the estate's index): one lookup per
    // name, not a scan of every host for each of the 250 names of a batch.
    let positions: Vec<usize> = match name {
        Some(n) => estate.host_index.find_all(&estate.hosts, n),
        None => (0..estate.hosts.len()).collect(),
    };
    let mut out = Vec::new();
    for i in positions {
        let h = &estate.hosts[i];
        let short_name = short(&h.fqdn).to_uppercase();
        let blocked = super::device_state::is_blocked(estate, session_site, &short_name);
        let record = match &h.client {
            Some(c) if c.registered && c.site_code.eq_ignore_ascii_case(session_site) => {
                Some(json!({
                    "Name": short_name, "ResourceID": 16_777_000 + i, "IsClient": true, "SiteCode": c.site_code,
                    "ClientVersion": c.version, "IsBlocked": blocked, "DeviceOS": h.os, "Domain": h.domain,
                    // IsApproved is a UInt32 (windows-runtime.md §9, 12).
                    "IsApproved": u32::from(super::device_state::is_approved(estate, session_site, &short_name, h.domain.is_some())),
                    // SMS_CombinedDeviceResources.ClientActiveStatus: 1 active, 0 inactive (the
                    // lab's client is inactive while its CcmExec service is stopped).
                    "ClientActiveStatus": i32::from(c.ccmexec_running),
                    // SMS_CombinedDeviceResources.LastActiveTime is a DateTime
                    // (sms_combineddeviceresources-server-wmi-class.md): `\/Date(ms)\/` in 5.1.
                    "LastActiveTime": c.installed_at_ms.and_then(chrono::DateTime::from_timestamp_millis).map(super::ps_value::date),
                }))
            }
            _ if super::device_state::is_removed(estate, session_site, &short_name) => None,
            _ if h.domain.is_some() && h.domain == site_domain => Some(json!({
                "Name": short_name, "ResourceID": 16_777_000 + i, "IsClient": false, "SiteCode": null,
                "ClientVersion": null, "IsBlocked": blocked, "DeviceOS": h.os, "Domain": h.domain,
            })),
            _ => None,
        };
        out.extend(record);
    }
    out
}
