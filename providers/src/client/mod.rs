//! Client host kinds.

use cmdeploy_engine::provider::Registry;

/// Registers the client kinds.
pub fn register(_r: &mut Registry) {}
