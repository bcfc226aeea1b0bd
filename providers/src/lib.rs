//! # cmdeploy-providers — ConfigMgr, Group Policy and client providers, and the lab
//!
//! Everything specific to Configuration Manager and Windows lives here; the engine knows none of
//! it. Providers build [`powershell::Call`]s, never PowerShell text: a [`powershell::Script`] is
//! an ordered list of calls that the one reviewed runner executes from a JSON payload on stdin.
//!
//! * [`configmgr`] — site-side kinds: `site`, `boundary`, `boundary_group`, `account`,
//!   `client_push`;
//! * [`gpo`] — the `gpo` kind (ConfigMgrInstallation.adm, ConfigMgrAssignment.adm, WSUS location);
//! * [`client`] — host kinds: `imaging`, `client_group`;
//! * [`ad`] — Active Directory replication sites and subnets as data sources;
//! * [`artifact`] — local files: `logon_script`, `offline_bundle`, `intune_app`;
//! * [`ccmsetup`] — the one model of a CCMSetup command line;
//! * [`quote`] — quoting per target language (PowerShell, cmd, msiexec), refusing what cannot be
//!   represented safely;
//! * [`transport`] — how Scripts reach a host; [`lab`] — the simulated estate.
#![deny(missing_docs)]

pub mod ad;
pub mod artifact;
pub mod batch;
pub mod ccmsetup;
pub mod ccmsetup_spans;
pub mod client;
pub mod configmgr;
pub mod gpo;
pub mod kit;
pub mod lab;
pub mod powershell;
pub mod quote;
pub mod sdk;
pub mod transport;

use std::sync::Arc;

use cmdeploy_engine::provider::Registry;

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
