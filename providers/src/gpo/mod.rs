//! Group Policy kinds, managed through the GroupPolicy module on a domain controller.
//!
//! * [`policy`] — the registry values of the three client-deployment policies;
//! * [`kind`] — the `gpo` kind: a domain GPO, its links and those policies.

pub mod kind;
pub mod policy;

use std::sync::Arc;

use cmdeploy_engine::provider::Registry;

/// Registers the Group Policy kinds.
pub fn register(r: &mut Registry) {
    r.register(Arc::new(kind::GpoKind));
}
