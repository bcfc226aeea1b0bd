//! Executing a payload: who the lab is on this host (site server, domain controller, client),
//! and which cmdlet implementation each call goes to.

use serde_json::{Map, Value};

use cmdeploy_engine::provider::RemoteError;

use super::args::{Args, CmdError, CmdResult};
use super::model::Estate;
use super::{
    cm_boundary as b, cm_package as p, cm_settings as t, cm_site as s, cm_sup as u, host as h,
};
use cmdeploy_providers::powershell::cmdlets::{self, Caller, Cmdlet as C, RunsOn};
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
/// naming a cmdlet off the allow-list (the cmdlet table's runner entries) fails that call, as it
/// would on Windows. The console, where an administrator types, has no such list.
fn allowed(cmdlet: &str) -> Result<(), CmdError> {
    match cmdlets::find(cmdlet) {
        Some(c) if c.caller == Caller::Runner => Ok(()),
        _ => Err(CmdError::new(
            "OperationStopped",
            format!("cmdlet {cmdlet} is not on the runner's allow-list"),
        )),
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

/// Executes one cmdlet: its entry in the cmdlet table, then what the host must have loaded for
/// it (the site drive, the GroupPolicy and ActiveDirectory modules; without them PowerShell does
/// not know the name), then its implementation.
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
    let Some(info) = cmdlets::find(cmdlet) else {
        return Err(not_recognized(cmdlet));
    };
    if info.is_runner_function() {
        // The runner's functions bind their arguments as Windows PowerShell 5.1 does.
        super::runner_model::bind_function(info.name, args)?;
    }
    let site = match info.runs_on {
        RunsOn::SiteServer => Some(session.site.clone().ok_or_else(|| not_recognized(cmdlet))?),
        _ => None,
    };
    let site = site.as_deref().unwrap_or_default();
    let domain = match info.runs_on {
        RunsOn::DomainController => Some(
            session
                .domain
                .clone()
                .ok_or_else(|| not_recognized(cmdlet))?,
        ),
        _ => None,
    };
    let domain = domain.as_deref().unwrap_or_default();
    let host = session.host.as_str();
    match info.cmdlet {
        C::GetCmSite => s::get_site(estate, &a),
        C::GetCmBoundary => b::get_boundary(estate, &a),
        C::NewCmBoundary => b::new_boundary(estate, &a),
        C::SetCmBoundary => b::set_boundary(estate, &a),
        C::RemoveCmBoundary => b::remove_boundary(estate, &a),
        C::GetCmBoundaryGroup => b::get_group(estate, &a),
        C::NewCmBoundaryGroup => b::new_group(estate, &a),
        C::SetCmBoundaryGroup => b::set_group(estate, &a),
        C::RemoveCmBoundaryGroup => b::remove_group(estate, &a),
        C::AddCmBoundaryToGroup => b::add_to_group(estate, &a),
        C::RemoveCmBoundaryFromGroup => b::remove_from_group(estate, &a),
        C::GetCmBoundaryGroupSiteSystem => b::group_site_systems(estate, &a),
        C::GetCmBoundaryGroupRelationship => super::cm_relationship::get(estate, &a),
        C::NewCmBoundaryGroupRelationship => super::cm_relationship::new(estate, &a),
        C::SetCmBoundaryGroupRelationship => super::cm_relationship::set(estate, &a),
        C::RemoveCmBoundaryGroupRelationship => super::cm_relationship::remove(estate, &a),
        C::GetCmAccount => s::get_account(estate, &a, site),
        C::NewCmAccount => s::new_account(estate, &a, site),
        C::SetCmAccount => s::set_account(estate, &a, site),
        C::RemoveCmAccount => s::remove_account(estate, &a, site),
        C::GetCmClientPushInstallation => s::get_push(estate, &a, site),
        C::SetCmClientPushInstallation => s::set_push(estate, &a, site),
        C::GetCmSiteComponent => s::get_component(estate, &a, site),
        C::GetCmFallbackStatusPoint => s::get_fsp(estate, &a, site),
        C::AddCmFallbackStatusPoint => s::add_fsp(estate, &a, site),
        C::SetCmFallbackStatusPoint => s::set_fsp(estate, &a, site),
        C::RemoveCmFallbackStatusPoint => s::remove_fsp(estate, &a, site),
        C::SetCmSoftwareDistributionComponent => s::set_distribution(estate, &a, site),
        C::GetCmSoftwareUpdateBasedClientInstallation => u::get_sup_install(estate, &a, site),
        C::SetCmSoftwareUpdateBasedClientInstallation => u::set_sup_install(estate, &a, site),
        C::GetCmSoftwareUpdatePoint => u::get_sup(estate, &a, site),
        C::AddCmSoftwareUpdatePoint => u::add_sup(estate, &a, site),
        C::SetCmSoftwareUpdatePoint => u::set_sup(estate, &a, site),
        C::RemoveCmSoftwareUpdatePoint => u::remove_sup(estate, &a, site),
        C::GetCmHierarchySetting => t::get_hierarchy(estate, &a, site),
        C::SetCmHierarchySetting => t::set_hierarchy(estate, &a, site),
        C::GetCmDiscoveryMethod => t::get_discovery(estate, &a, site),
        C::SetCmDiscoveryMethod => t::set_discovery(estate, &a, site),
        C::BlockCmDevice => t::block_device(estate, &a, site),
        C::UnblockCmDevice => t::unblock_device(estate, &a, site),
        C::ApproveCmDevice => t::approve_device(estate, &a, site),
        C::GetCmConflictingRecord => super::cm_conflict::get(estate, &a, site),
        C::MergeCmConflictingRecord => super::cm_conflict::merge(estate, &a, site),
        C::BlockCmConflictingRecord => super::cm_conflict::block(estate, &a, site),
        C::GetCmPackage => p::get_package(estate, &a, site),
        C::NewCmPackage => p::new_package(estate, &a, site),
        C::SetCmPackage => p::set_package(estate, &a, site),
        C::RemoveCmPackage => p::remove_package(estate, &a, site),
        C::GetCmProgram => p::get_program(estate, &a, site),
        C::NewCmProgram => p::new_program(estate, &a, site),
        C::SetCmProgram => p::set_program(estate, &a, site),
        C::RemoveCmProgram => p::remove_program(estate, &a, site),
        C::StartCmContentDistribution => p::distribute(estate, &a, site),
        C::RemoveCmContentDistribution => p::undistribute(estate, &a, site),
        C::GetCmDeploymentPackage => p::deployment_packages(estate, &a, site),
        C::NewCmPackageDeployment => super::cm_deployment::new_deployment(estate, &a, site),
        C::GetCmPackageDeployment => super::cm_deployment::get_deployments(estate, &a, site),
        C::RemoveCmPackageDeployment => super::cm_deployment::remove_deployments(estate, &a, site),
        C::GetCmDistributionPoint => p::get_dp(estate, &a, site),
        C::GetCmManagementPoint => s::get_mp(estate, &a, site),
        C::GetCmDevice if a.has("CollectionName") => {
            super::collection::get_members(estate, &a, site)
        }
        C::GetCmDevice => h::get_device(estate, &a, site),
        C::RemoveCmDevice => super::cm_device::remove_device(estate, &a, site),
        C::GetCmDeviceCollection => super::collection::get_collection(estate, &a, site),
        C::InstallCmClient if a.has("CollectionId") => {
            super::collection::push_collection(estate, &a, site)
        }
        C::InstallCmClient => h::push_install(estate, &a, site),
        // The ActiveDirectory module is on domain controllers (and RSAT hosts, which the lab
        // does not model).
        C::GetAdReplicationSite => super::ad_replication::get_sites(estate, host, domain, &a),
        C::GetAdReplicationSubnet => super::ad_replication::get_subnets(estate, host, domain, &a),
        C::GetGpo
        | C::NewGpo
        | C::RemoveGpo
        | C::GetGpRegistryValue
        | C::SetGpRegistryValue
        | C::RemoveGpRegistryValue
        | C::GetGpInheritance
        | C::GetGpoReport
        | C::NewGpLink
        | C::SetGpLink
        | C::RemoveGpLink => {
            super::double_hop::group_policy_server(estate, host, domain, &a)?;
            super::gp::execute(estate, domain, info.cmdlet, &a)
        }
        // The runner's own functions.
        C::GetCmdeployClientState => h::client_state(estate, host, &a),
        C::InstallCmdeployClient => h::install(estate, host, &a),
        C::GetCmdeployInstallResult => h::install_result(estate, host, &a),
        C::StopCmdeployClientService => super::client_steps::stop_service(estate, host, &a),
        C::RemoveCmdeploySmsCfg => super::client_steps::remove_smscfg(estate, host, &a),
        C::RemoveCmdeployCertificates => super::client_steps::remove_certificates(estate, host, &a),
        C::RemoveCmdeployTrustedRootKey => {
            super::client_steps::remove_trusted_root_key(estate, host, &a)
        }
        C::SetCmdeployInternetManagementPoint => {
            super::client_steps::set_internet_mp(estate, host, &a)
        }
        C::TestCmdeployPushPrerequisites => super::prereq::push_prerequisites(estate, &a),
        C::GetCmdeployPushLog => super::collection::push_log(estate, &a, site),
        C::GetCmdeploySitePublishing => super::cm_publishing::get(estate, &a),
        C::SetCmdeploySitePublishing => super::cm_publishing::set(estate, &a),
        C::GetCmdeployProviderSite => super::cm_site::provider_site(estate, host, &a),
        C::GetCmdeploySiteControlProperty => {
            super::cm_settings::site_control_properties(estate, &a, site)
        }
    }
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
