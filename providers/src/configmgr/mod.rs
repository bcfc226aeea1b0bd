//! Site-side kinds, managed through the ConfigurationManager module on the site server:
//! `site`, `boundary`, `boundary_group`, `boundary_group_relationship`, `account`,
//! `client_push`, `site_settings`, `client_upgrade_package`, `software_update_point`.
//!
//! Each kind reads all its objects on a connection with one Script. The kinds written on the typed
//! SDK ([`crate::sdk`]: site, boundary_group, boundary_group_relationship, account, client_push,
//! site_settings, software_update_point) describe their writes and verifying reads, which the engine batches per
//! graph level and connection; the others write one resource per Script. Names and rules follow
//! configmgr.md §2 and §6.

/// `Import` through the site server for a kind whose objects one listing function gives: every
/// site-side kind lists what the site server of a declared site, or of the site its SMS Provider
/// serves, holds ([`provider_site::is_site_server`]).
macro_rules! site_server_import {
    ($kind:ty, $list:path) => {
        #[async_trait::async_trait]
        impl $crate::sdk::Import for $kind {
            async fn imports_from(
                &self,
                ctx: &cmdeploy_engine::provider::Context,
                connection: &cmdeploy_engine::resource::Connection,
            ) -> Result<bool, cmdeploy_engine::provider::RemoteError> {
                $crate::configmgr::provider_site::is_site_server(ctx, connection).await
            }

            async fn list(
                &self,
                ctx: &cmdeploy_engine::provider::Context,
                connection: &cmdeploy_engine::resource::Connection,
            ) -> Result<
                Vec<cmdeploy_engine::import::Imported>,
                cmdeploy_engine::provider::RemoteError,
            > {
                $list(ctx, connection).await
            }
        }
    };
}

pub mod account;
pub mod boundary;
pub mod boundary_group;
mod boundary_group_read;
pub mod boundary_group_relationship;
pub mod boundary_type;
pub mod client_location;
pub mod client_push;
pub mod client_upgrade_package;
pub mod conflicts;
pub mod estate_overlap;
pub mod hierarchy_read;
pub mod listing;
pub mod listing_settings;
pub mod listing_site;
pub mod net;
pub mod overlap;
pub mod provider_site;
pub mod published;
pub mod resolve;
pub mod resolve_estate;
pub mod resolve_host;
pub mod site;
pub mod site_code;
pub mod site_settings;
pub mod site_settings_model;
mod site_settings_observe;
pub mod software_update_point;

use std::ops::Range;
use std::sync::Arc;

use cmdeploy_engine::registry::Registry;
use cmdeploy_engine::resource::{ConnectionRef, Reference};
use cmdeploy_engine::spanned::Spanned;
use cmdeploy_engine::Address;
use serde_json::{Map, Value};

/// Registers the site-side kinds.
pub fn register(r: &mut Registry) {
    r.register(Arc::new(crate::sdk::Typed(site::SiteKind)));
    r.register(Arc::new(crate::sdk::Typed(boundary::BoundaryKind)));
    r.register(Arc::new(crate::sdk::Typed(
        boundary_group::BoundaryGroupKind,
    )));
    r.register(Arc::new(crate::sdk::Typed(
        boundary_group_relationship::RelationshipKind,
    )));
    r.register(Arc::new(crate::sdk::Typed(account::AccountKind)));
    r.register(Arc::new(crate::sdk::Typed(client_push::ClientPushKind)));
    r.register(Arc::new(crate::sdk::Typed(site_settings::SiteSettingsKind)));
    r.register(Arc::new(crate::sdk::Typed(
        client_upgrade_package::ClientUpgradePackageKind,
    )));
    r.register(Arc::new(crate::sdk::Typed(
        software_update_point::SoftwareUpdatePointKind,
    )));
}

/// The common part of a site-side resource: which site's server it is managed through.
/// Returns the connection (inherited from `site.<key>`), the reference (when `edge`), and `meta`.
pub fn site_binding(
    site: &Spanned<String>,
    edge: bool,
) -> (ConnectionRef, Option<Reference>, Map<String, Value>) {
    let target = Address::new("site", site.value.clone());
    let reference = edge.then(|| Reference {
        target: target.clone(),
        span: site.span.clone(),
    });
    let mut meta = Map::new();
    meta.insert("site".into(), Value::String(site.value.clone()));
    (ConnectionRef::Inherit(target), reference, meta)
}

/// A reference to a resource of `kind` named by a spanned key.
pub fn reference(kind: &str, name: &Spanned<String>) -> Reference {
    Reference {
        target: Address::new(kind, name.value.clone()),
        span: name.span.clone(),
    }
}

/// A span or the resource's own.
pub fn span_or(span: &Range<usize>, fallback: &Range<usize>) -> Range<usize> {
    if span.is_empty() {
        fallback.clone()
    } else {
        span.clone()
    }
}
