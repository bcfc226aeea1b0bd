//! Executing a payload: who the lab is on this host (site server, domain controller, client),
//! and which cmdlet implementation each call goes to.

use serde_json::{Map, Value};

use cmdeploy_engine::provider::RemoteError;

use super::args::{Args, CmdError, CmdResult};
use super::model::Estate;
use super::{
    cm_boundary as b, cm_package as p, cm_settings as t, cm_site as s, cm_sup as u, host as h,
};
use cmdeploy_providers::powershell::{CallResult, Target};

pub use cmdeploy_providers::powershell::{Payload, PayloadCall};

/// What the host offers: the ConfigurationManager drive of a site, the GroupPolicy module.
#[derive(Debug, Clone)]
pub struct Session {
    /// The host's FQDN.
    pub host: String,
    /// Site code whose drive is mounted (site servers only).
    pub site: Option<String>,
    /// Domain whose GPOs are managed (domain controllers only).
    pub domain: Option<String>,
}

impl Session {
    /// Opens a session on `host` for `target`.
    ///
    /// # Errors
    /// The host is unknown or unreachable (WinRM's words), or lacks the module the target needs.
    pub fn open(estate: &Estate, host: &str, target: &Target) -> Result<Session, RemoteError> {
        // Both are failures to reach the host, before anything ran: what a WinRM client reports
        // as a connection failure (name resolution, connection refused or timed out).
        let h = estate.host(host).ok_or_else(|| {
            RemoteError::unreachable(host, "WinRM cannot process the request: the host name could not be resolved (not in the lab)")
        })?;
        if !h.reachable {
            return Err(RemoteError::unreachable(
                host,
                "WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled",
            ));
        }
        // A secondary site has no SMS Provider ("Secondary sites don't support the SMS Provider
        // role", memdocs configmgr/core/plan-design/hierarchy/plan-for-the-sms-provider.md): its
        // server has no root\sms namespace and no CMSite drive can be made there. Its settings
        // are managed through the parent primary's provider (windows-runtime.md §7).
        if let (Target::SiteServer { site_code }, Some(s)) =
            (target, estate.site_of_server(&h.fqdn))
        {
            if s.site_type == "secondary" {
                return Err(RemoteError::new(
                    host,
                    format!("Get-CimInstance : Invalid namespace \"root\\sms\" ({} is the server of secondary site {}, which has no SMS Provider; no CMSite drive '{site_code}' can be created there)", h.fqdn, s.code),
                ));
            }
        }
        let site = estate.site_of_server(&h.fqdn).map(|s| s.code.clone());
        let domain = estate.domain_of_controller(&h.fqdn).map(|d| d.name.clone());
        match target {
            Target::SiteServer { site_code } => match &site {
                Some(code) if code.eq_ignore_ascii_case(site_code) => {
                    // A WinRM user who never opened the console has no CMSite drive; a bare
                    // `Set-Location ABC:` then fails (windows-runtime.md §7: CMO:79-91;
                    // PowerShell/PowerShell@60b3b304 SessionStateStrings.resx:462-463).
                    let has_drive = estate.site(code).is_some_and(|s| s.winrm_user_has_drive);
                    if !has_drive && !super::runner_model::creates_site_drive() {
                        return Err(RemoteError::new(
                            host,
                            format!("Cannot find drive. A drive with the name '{site_code}' does not exist."),
                        ));
                    }
                }
                _ => {
                    return Err(RemoteError::new(
                        host,
                        format!("Cannot find drive. A drive with the name '{site_code}' does not exist (the host is not the site server of {site_code})"),
                    ))
                }
            },
            Target::DomainController { .. } if domain.is_none() => {
                return Err(RemoteError::new(host, "The specified module 'GroupPolicy' was not loaded (the host is not a domain controller)"));
            }
            _ => {}
        }
        Ok(Session {
            host: h.fqdn.clone(),
            site,
            domain,
        })
    }
}

/// The runner's own check before each call (runner.ps1.j2: `$allowed -notcontains
/// $call.cmdlet`, case-insensitive, a `throw` whose category is `OperationStopped`): a payload
/// naming a cmdlet off the allow-list fails that call, as it would on Windows. The console,
/// where an administrator types, has no such list.
fn allowed(cmdlet: &str) -> Result<(), CmdError> {
    if cmdeploy_providers::powershell::runner::ALLOWED
        .iter()
        .any(|n| n.eq_ignore_ascii_case(cmdlet))
    {
        Ok(())
    } else {
        Err(CmdError::new(
            "OperationStopped",
            format!("cmdlet {cmdlet} is not on the runner's allow-list"),
        ))
    }
}

/// Runs every call of a payload, stopping early when the payload asks. A call that waits for
/// the ccmsetup service does not sleep here: the clock moves on to when its wait ends, which is
/// what the journal's replay needs (the estate the Script left, at once).
pub fn run_payload(estate: &mut Estate, session: &Session, payload: &Payload) -> Vec<CallResult> {
    let mut run = Run::default();
    let mut at = super::ccmsetup_service::now_ms();
    while let Some(until) = super::ccmsetup_service::at(at, || run.step(estate, session, payload)) {
        at = until;
    }
    run.into_results()
}

/// A payload being run: the results so far, and the call whose Script waits for the ccmsetup
/// service (see [`super::ccmsetup_wait`]).
#[derive(Debug, Default)]
pub struct Run {
    /// The next call to run.
    next: usize,
    results: Vec<CallResult>,
    failed_groups: std::collections::BTreeSet<usize>,
    waiting: Option<Waiting>,
}

/// A call that waits: its index, and what it returned when it started (an install's object).
#[derive(Debug)]
struct Waiting {
    index: usize,
    started: Option<Value>,
}

impl Run {
    /// The results of the calls run so far, in order.
    pub fn results(&self) -> &[CallResult] {
        &self.results
    }

    /// The results, once the run is over.
    pub fn into_results(self) -> Vec<CallResult> {
        self.results
    }

    /// Runs the payload's calls from where the run stopped, at the lab's current time. Returns
    /// when a call waits for the ccmsetup service, with the time (milliseconds since 1970) at
    /// which its wait ends and `step` is to go on; `None` once the payload is done.
    pub fn step(
        &mut self,
        estate: &mut Estate,
        session: &Session,
        payload: &Payload,
    ) -> Option<i64> {
        let now = super::ccmsetup_service::now_ms;
        super::ccmsetup_service::settle(estate, now());
        if let Some(w) = self.waiting.take() {
            let call = &payload.calls[w.index];
            let outcome = after_wait(estate, session, call, w.started.as_ref());
            if !self.record(call, outcome, payload.stop_on_error) {
                self.next = payload.calls.len();
            }
        }
        while let Some(call) = payload.calls.get(self.next) {
            self.next += 1;
            if call.group.is_some_and(|g| self.failed_groups.contains(&g)) {
                continue;
            }
            let wait = allowed(&call.cmdlet)
                .and_then(|()| super::ccmsetup_wait::wait_seconds(&call.cmdlet, &call.args));
            let outcome = match wait {
                Ok(Some(seconds)) => {
                    // An install starts first; the bootstrap's own failure (setup already
                    // running) is its result, with nothing of its own to wait for.
                    let started = if call.cmdlet.eq_ignore_ascii_case("Install-CmdeployClient") {
                        match execute(estate, session, &call.cmdlet, &call.args) {
                            Ok(v) if v.get("ExitCode") == Some(&Value::from(0)) => Some(v),
                            other => {
                                if self.record(call, other, payload.stop_on_error) {
                                    continue;
                                }
                                break;
                            }
                        }
                    } else {
                        None
                    };
                    let until = super::ccmsetup_wait::until(estate, &session.host, now(), seconds);
                    if let Some(until) = until {
                        self.waiting = Some(Waiting {
                            index: self.next - 1,
                            started,
                        });
                        return Some(until);
                    }
                    after_wait(estate, session, call, started.as_ref())
                }
                Ok(None) => execute(estate, session, &call.cmdlet, &call.args),
                Err(e) => Err(e),
            };
            if !self.record(call, outcome, payload.stop_on_error) {
                break;
            }
        }
        super::ccmsetup_service::settle(estate, now());
        None
    }

    /// Records a call's outcome; `false` when the payload stops here.
    fn record(&mut self, call: &PayloadCall, outcome: CmdResult, stop_on_error: bool) -> bool {
        let rendering = super::runner_model::result_rendering();
        let ok = outcome.is_ok();
        self.results.push(
            match outcome.map(|v| super::ps_value::render(v, rendering)) {
                Ok(value) => CallResult {
                    id: call.id,
                    ok: true,
                    value: match value {
                        Value::Array(items) => Value::Array(items),
                        Value::Null => Value::Array(Vec::new()),
                        other => Value::Array(vec![other]),
                    },
                    error: None,
                    category: None,
                },
                Err(e) => CallResult {
                    id: call.id,
                    ok: false,
                    value: Value::Null,
                    error: Some(e.message),
                    category: Some(e.category),
                },
            },
        );
        match call.group {
            Some(g) if !ok => {
                self.failed_groups.insert(g);
                true
            }
            None if !ok && stop_on_error => false,
            _ => true,
        }
    }
}

/// What a waiting call returns once its wait is over: the install's object with what the log
/// says now (`started`), or the log read of `Get-CmdeployInstallResult`. An install that ended
/// by now is complete first.
fn after_wait(
    estate: &mut Estate,
    session: &Session,
    call: &PayloadCall,
    started: Option<&Value>,
) -> CmdResult {
    super::ccmsetup_service::settle(estate, super::ccmsetup_service::now_ms());
    match started {
        Some(started) => {
            let offset = started.get("LogOffset").cloned().unwrap_or(Value::Null);
            let read = Map::from_iter([("LogOffset".to_string(), offset)]);
            execute(estate, session, "Get-CmdeployInstallResult", &read)
                .map(|result| super::ccmsetup_wait::merged(started, result))
        }
        None => execute(estate, session, &call.cmdlet, &call.args),
    }
}

fn not_recognized(cmdlet: &str) -> CmdError {
    CmdError::new(
        "ObjectNotFound",
        format!("The term '{cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program."),
    )
}

/// Executes one cmdlet.
///
/// # Errors
/// The cmdlet's error in the product's words.
pub fn execute(
    estate: &mut Estate,
    session: &Session,
    cmdlet: &str,
    args: &Map<String, Value>,
) -> CmdResult {
    let a = Args::new(cmdlet, args);
    let lower = cmdlet.to_ascii_lowercase();
    if let Some(result) = runner_function(estate, session, &lower, &a, args) {
        return result;
    }
    if lower.contains("-cm") {
        let Some(site) = session.site.clone() else {
            return Err(not_recognized(cmdlet));
        };
        return match lower.as_str() {
            "get-cmsite" => s::get_site(estate, &a),
            "get-cmboundary" => b::get_boundary(estate, &a),
            "new-cmboundary" => b::new_boundary(estate, &a),
            "set-cmboundary" => b::set_boundary(estate, &a),
            "remove-cmboundary" => b::remove_boundary(estate, &a),
            "get-cmboundarygroup" => b::get_group(estate, &a),
            "new-cmboundarygroup" => b::new_group(estate, &a),
            "set-cmboundarygroup" => b::set_group(estate, &a),
            "remove-cmboundarygroup" => b::remove_group(estate, &a),
            "add-cmboundarytogroup" => b::add_to_group(estate, &a),
            "remove-cmboundaryfromgroup" => b::remove_from_group(estate, &a),
            "get-cmboundarygroupsitesystem" => b::group_site_systems(estate, &a),
            "get-cmboundarygrouprelationship" => super::cm_relationship::get(estate, &a),
            "new-cmboundarygrouprelationship" => super::cm_relationship::new(estate, &a),
            "set-cmboundarygrouprelationship" => super::cm_relationship::set(estate, &a),
            "remove-cmboundarygrouprelationship" => super::cm_relationship::remove(estate, &a),
            "get-cmaccount" => s::get_account(estate, &a, &site),
            "new-cmaccount" => s::new_account(estate, &a, &site),
            "set-cmaccount" => s::set_account(estate, &a, &site),
            "remove-cmaccount" => s::remove_account(estate, &a, &site),
            "get-cmclientpushinstallation" => s::get_push(estate, &a, &site),
            "set-cmclientpushinstallation" => s::set_push(estate, &a, &site),
            "get-cmsitecomponent" => s::get_component(estate, &a, &site),
            "get-cmfallbackstatuspoint" => s::get_fsp(estate, &a, &site),
            "add-cmfallbackstatuspoint" => s::add_fsp(estate, &a, &site),
            "set-cmfallbackstatuspoint" => s::set_fsp(estate, &a, &site),
            "remove-cmfallbackstatuspoint" => s::remove_fsp(estate, &a, &site),
            "set-cmsoftwaredistributioncomponent" => s::set_distribution(estate, &a, &site),
            "get-cmsoftwareupdatebasedclientinstallation" => u::get_sup_install(estate, &a, &site),
            "set-cmsoftwareupdatebasedclientinstallation" => u::set_sup_install(estate, &a, &site),
            "get-cmsoftwareupdatepoint" => u::get_sup(estate, &a, &site),
            "add-cmsoftwareupdatepoint" => u::add_sup(estate, &a, &site),
            "set-cmsoftwareupdatepoint" => u::set_sup(estate, &a, &site),
            "remove-cmsoftwareupdatepoint" => u::remove_sup(estate, &a, &site),
            "get-cmhierarchysetting" => t::get_hierarchy(estate, &a, &site),
            "set-cmhierarchysetting" => t::set_hierarchy(estate, &a, &site),
            "get-cmdiscoverymethod" => t::get_discovery(estate, &a, &site),
            "set-cmdiscoverymethod" => t::set_discovery(estate, &a, &site),
            "block-cmdevice" => t::block_device(estate, &a, &site),
            "unblock-cmdevice" => t::unblock_device(estate, &a, &site),
            "approve-cmdevice" => t::approve_device(estate, &a, &site),
            "get-cmconflictingrecord" => super::cm_conflict::get(estate, &a, &site),
            "merge-cmconflictingrecord" => super::cm_conflict::merge(estate, &a, &site),
            "block-cmconflictingrecord" => super::cm_conflict::block(estate, &a, &site),
            "get-cmpackage" => p::get_package(estate, &a, &site),
            "new-cmpackage" => p::new_package(estate, &a, &site),
            "set-cmpackage" => p::set_package(estate, &a, &site),
            "remove-cmpackage" => p::remove_package(estate, &a, &site),
            "get-cmprogram" => p::get_program(estate, &a, &site),
            "new-cmprogram" => p::new_program(estate, &a, &site),
            "set-cmprogram" => p::set_program(estate, &a, &site),
            "remove-cmprogram" => p::remove_program(estate, &a, &site),
            "start-cmcontentdistribution" => p::distribute(estate, &a, &site),
            "remove-cmcontentdistribution" => p::undistribute(estate, &a, &site),
            "get-cmdeploymentpackage" => p::deployment_packages(estate, &a, &site),
            "new-cmpackagedeployment" => super::cm_deployment::new_deployment(estate, &a, &site),
            "get-cmpackagedeployment" => super::cm_deployment::get_deployments(estate, &a, &site),
            "remove-cmpackagedeployment" => {
                super::cm_deployment::remove_deployments(estate, &a, &site)
            }
            "get-cmdistributionpoint" => p::get_dp(estate, &a, &site),
            "get-cmmanagementpoint" => s::get_mp(estate, &a, &site),
            "get-cmdevice" if a.has("CollectionName") => {
                super::collection::get_members(estate, &a, &site)
            }
            "get-cmdevice" => h::get_device(estate, &a, &site),
            "remove-cmdevice" => super::cm_device::remove_device(estate, &a, &site),
            "get-cmdevicecollection" => super::collection::get_collection(estate, &a, &site),
            "install-cmclient" if a.has("CollectionId") => {
                super::collection::push_collection(estate, &a, &site)
            }
            "install-cmclient" => h::push_install(estate, &a, &site),
            _ => Err(not_recognized(cmdlet)),
        };
    }
    if lower.contains("-adreplication") {
        // The ActiveDirectory module is on domain controllers (and RSAT hosts, which the lab
        // does not model).
        let Some(domain) = session.domain.clone() else {
            return Err(not_recognized(cmdlet));
        };
        return match lower.as_str() {
            "get-adreplicationsite" => {
                super::ad_replication::get_sites(estate, &session.host, &domain, &a)
            }
            "get-adreplicationsubnet" => {
                super::ad_replication::get_subnets(estate, &session.host, &domain, &a)
            }
            _ => Err(not_recognized(cmdlet)),
        };
    }
    if lower.contains("-gp") {
        let Some(domain) = session.domain.clone() else {
            return Err(not_recognized(cmdlet));
        };
        super::double_hop::group_policy_server(estate, &session.host, &domain, &a)?;
        return super::gp::execute(estate, &domain, &lower, &a);
    }
    Err(not_recognized(cmdlet))
}

/// The runner's own host functions (`*-Cmdeploy*`), by lower-case name; `None` for any other
/// name (ConfigMgr cmdlets such as `Get-CMDeploymentPackage` share the prefix).
fn runner_function(
    estate: &mut Estate,
    session: &Session,
    lower: &str,
    a: &Args,
    args: &Map<String, Value>,
) -> Option<CmdResult> {
    if let Some(name) = cmdeploy_providers::powershell::runner::ALLOWED
        .iter()
        .find(|n| n.eq_ignore_ascii_case(lower) && n.contains("-Cmdeploy"))
    {
        // The runner's functions bind their arguments as Windows PowerShell 5.1 does.
        if let Err(e) = super::runner_model::bind_function(name, args) {
            return Some(Err(e));
        }
    }
    Some(match lower {
        "get-cmdeployclientstate" => h::client_state(estate, &session.host, a),
        "install-cmdeployclient" => h::install(estate, &session.host, a),
        "get-cmdeployinstallresult" => h::install_result(estate, &session.host, a),
        "stop-cmdeployclientservice" => h::stop_service(estate, &session.host, a),
        "remove-cmdeploysmscfg" => h::remove_smscfg(estate, &session.host, a),
        "remove-cmdeploycertificates" => h::remove_certificates(estate, &session.host, a),
        "remove-cmdeploytrustedrootkey" => h::remove_trusted_root_key(estate, &session.host, a),
        "set-cmdeployinternetmanagementpoint" => h::set_internet_mp(estate, &session.host, a),
        "test-cmdeploypushprerequisites" => super::prereq::push_prerequisites(estate, a),
        "get-cmdeploypushlog" => match &session.site {
            Some(site) => super::collection::push_log(estate, a, site),
            None => Err(not_recognized("Get-CmdeployPushLog")),
        },
        "get-cmdeploysitepublishing" if session.site.is_some() => {
            super::cm_publishing::get(estate, a)
        }
        "set-cmdeploysitepublishing" if session.site.is_some() => {
            super::cm_publishing::set(estate, a)
        }
        "get-cmdeploysitecontrolproperty" => match &session.site {
            Some(site) => super::cm_settings::site_control_properties(estate, a, site),
            None => Err(not_recognized("Get-CmdeploySiteControlProperty")),
        },
        _ => return None,
    })
}
