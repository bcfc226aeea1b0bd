//! A `gpo`'s model: its attributes as compared, desired and observed, and what it keeps beside
//! them (its domain, the GPSI package). Below the kind, its read side and its import listing.

use serde::{Deserialize, Serialize};

use cmdeploy_engine::resource::Attributes;

use super::policy::{self, Policy, PolicyValues};
use crate::sdk;
#[cfg(doc)]
use crate::sdk::TypedKind;

/// A GPO's attributes, desired and observed. A policy the manifest leaves out is `None` on the
/// desired side and must not be in the GPO: its values are removed ([`TypedKind::NONE_REMOVES`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpoModel {
    /// Display name (Get-GPO `DisplayName`).
    pub name: String,
    /// Distinguished names of the OUs the GPO is linked to, lower case, sorted.
    #[serde(default)]
    pub links: Vec<String>,
    /// ConfigMgrInstallation.adm values ([`Policy::ClientDeployment`]).
    #[serde(default)]
    pub client_deployment: Option<PolicyValues>,
    /// ConfigMgrAssignment.adm values ([`Policy::SiteAssignment`]).
    #[serde(default)]
    pub site_assignment: Option<PolicyValues>,
    /// WSUS location values ([`Policy::WindowsUpdate`]).
    #[serde(default)]
    pub windows_update: Option<PolicyValues>,
}

impl GpoModel {
    /// The values of one policy, if the GPO holds (or must hold) it.
    pub fn policy(&self, p: Policy) -> Option<&PolicyValues> {
        match p {
            Policy::ClientDeployment => self.client_deployment.as_ref(),
            Policy::SiteAssignment => self.site_assignment.as_ref(),
            Policy::WindowsUpdate => self.windows_update.as_ref(),
        }
    }

    /// The field of one policy.
    pub(super) fn policy_mut(&mut self, p: Policy) -> &mut Option<PolicyValues> {
        match p {
            Policy::ClientDeployment => &mut self.client_deployment,
            Policy::SiteAssignment => &mut self.site_assignment,
            Policy::WindowsUpdate => &mut self.windows_update,
        }
    }

    /// The `WUServer` URL of the WSUS location policy, if the GPO sets one.
    pub fn wsus_server(&self) -> Option<&str> {
        self.windows_update
            .as_ref()?
            .get(policy::WU_SERVER)?
            .value
            .as_str()
    }
}

/// The span key of a `gpo`'s `windows_update.server` ([`cmdeploy_engine::resource::Resource::attr_loc`]).
pub fn wsus_server_span() -> String {
    format!("{}.{}", Policy::WindowsUpdate.name(), policy::WU_SERVER)
}

/// What a `gpo` keeps beside its attributes (never diffed): its resource meta and state entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GpoMeta {
    /// DNS domain, lower case: which domain controller module the Scripts load.
    pub domain: String,
    /// The GPSI package the plan says to assign by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_installation: Option<String>,
}

impl GpoMeta {
    /// The meta of a resource or state entry, `None` when it has none.
    pub fn of(meta: &Attributes) -> Option<GpoMeta> {
        sdk::model(meta)
    }
}
