//! Group Policy kinds, managed through the GroupPolicy module on a domain controller.
//!
//! * [`policy`] — the registry values of the three client-deployment policies;
//! * [`kind`] — the `gpo` kind: a domain GPO, its links and those policies ([`model`] its
//!   model, [`listing`] its import);
//! * [`inspect`] — what a machine Registry.pol sets for ConfigMgr, and its lint;
//! * [`registry_pol`] — the Registry.pol (PReg v1) codec a GPO's settings are stored in.

pub mod inspect;
pub mod kind;
pub mod listing;
pub mod model;
mod observe;
pub mod policy;
pub mod registry_pol;
pub mod report;

use std::sync::Arc;

use cmdeploy_engine::registry::Registry;

/// Registers the Group Policy kinds.
pub fn register(r: &mut Registry) {
    r.register(Arc::new(crate::sdk::Typed(kind::GpoKind)));
}
