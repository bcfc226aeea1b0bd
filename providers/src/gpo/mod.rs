//! Group Policy kinds.

use cmdeploy_engine::provider::Registry;

/// Registers the Group Policy kinds.
pub fn register(_r: &mut Registry) {}
