//! Active Directory as a source: data source kinds that read a forest's replication sites and
//! subnets on a domain controller (`[data.ad_subnets.NAME]`, `[data.ad_sites.NAME]`), for
//! boundary tables that expand over them (see [`cmdeploy_engine::data`]).

pub mod replication;
pub mod sites;
pub mod subnets;

use std::sync::Arc;

use cmdeploy_engine::registry::Registry;

/// Registers the AD data source kinds.
pub fn register(r: &mut Registry) {
    r.register_data(Arc::new(subnets::AdSubnetsKind));
    r.register_data(Arc::new(sites::AdSitesKind));
}
