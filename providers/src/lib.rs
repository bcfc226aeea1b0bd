//! # cmdeploy-providers — ConfigMgr, Group Policy and client providers
//!
//! Everything specific to Configuration Manager and Windows lives here; the engine knows none of
//! it. Providers build [`powershell::Call`]s, never PowerShell text: a [`powershell::Script`] is
//! an ordered list of calls that the one reviewed runner executes from a JSON payload on stdin.
//! The simulated estate that stands in for Windows in tests (`cmdeploy-lab`, `providers/lab`)
//! depends on this crate, never the reverse.
//!
//! Kinds, registered by [`registry`]:
//!
//! * [`configmgr`] — site-side kinds, through the ConfigurationManager module on the site server:
//!   `site`, `boundary`, `boundary_group`, `boundary_group_relationship`, `account`,
//!   `client_push`, `site_settings`, `client_upgrade_package`, `software_update_point`; and the
//!   `resolve` command's answers (which groups, site and site systems an address gets);
//! * [`gpo`] — the `gpo` kind (ConfigMgrInstallation.adm, ConfigMgrAssignment.adm, WSUS
//!   location) through the GroupPolicy module on a domain controller, with the Registry.pol codec
//!   and the gpreport.xml reader;
//! * `client` — host kinds: `imaging`, `client_group`, `collection_push`;
//! * [`ad`] — Active Directory replication sites and subnets as data sources (`ad_subnets`,
//!   `ad_sites`);
//! * [`artifact`] — files rendered locally: `logon_script`, `offline_bundle`, `intune_app`;
//! * [`sdk`] — the typed kind SDK (a Spec and a Model per kind, the adapter to the engine's
//!   attributes, optional capabilities), and [`batch`] — the executor that runs the writes kinds
//!   describe, batched per graph level and connection.
//!
//! Below the kinds, the Windows formats and the wire:
//!
//! * [`ccmsetup`] — the one model of a CCMSetup command line (parameters, properties, contexts),
//!   with `ccmsetup_spans` pointing its findings at manifest values;
//! * [`powershell`] — calls and Scripts, the reviewed runner, the console statement parser and
//!   the cmdlet oracle;
//! * [`quote`] — quoting per target language (PowerShell, cmd, msiexec), refusing what cannot be
//!   represented safely;
//! * [`transport`] — how Scripts reach a host: the [`transport::Transports`] registry the program
//!   fills and puts in the engine's context, and the `winrm` transport (NTLM, Kerberos, Basic,
//!   certificates; retries, quotas, unreachable hosts);
//! * `kit` — what every kind uses to decode its table and run a Script through the context's
//!   transports.
#![deny(missing_docs)]

pub mod ad;
pub mod artifact;
pub mod batch;
pub mod ccmsetup;
pub(crate) mod ccmsetup_spans;
pub(crate) mod client;
pub mod configmgr;
pub mod gpo;
pub(crate) mod kit;
pub mod powershell;
pub mod quote;
pub mod sdk;
pub mod transport;

use std::sync::Arc;

use cmdeploy_engine::registry::Registry;

/// Every kind of every provider, with the connection schema and validator.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    configmgr::register(&mut r);
    gpo::register(&mut r);
    client::register(&mut r);
    artifact::register(&mut r);
    ad::register(&mut r);
    r.set_executor(Arc::new(batch::ScriptExecutor));
    r.set_connections(
        Arc::new(transport::validate_connection),
        transport::connection_schema,
    );
    r
}
