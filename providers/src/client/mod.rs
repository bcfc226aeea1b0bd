//! Client host kinds: `imaging` (a reference computer prepared for capture) and `client_group`
//! (targets client push cannot reach: workgroup and internet-based clients).
//!
//! Hosts are probed with the runner's `Get-CmdeployClientState` (WMI `root\ccm` SMS_Client, the
//! CcmExec service, SMSCFG.INI, the SMS and Personal certificate stores, TrustedRootKey —
//! configmgr.md §5); client groups are first read from their site's device records.

pub mod client_group;
pub mod collection_push;
pub mod command_line;
pub mod connection_field;
pub mod imaging;
pub mod probe;
mod push_log;

use std::sync::Arc;

use cmdeploy_engine::registry::Registry;

/// Registers the client kinds.
pub fn register(r: &mut Registry) {
    r.register(Arc::new(crate::sdk::Typed(imaging::ImagingKind)));
    r.register(Arc::new(crate::sdk::Typed(client_group::ClientGroupKind)));
    r.register(Arc::new(crate::sdk::Typed(
        collection_push::CollectionPushKind,
    )));
}
