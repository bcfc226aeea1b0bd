//! A client target as cmdeploy compares it: what the manifest wants of one host's client, and
//! what the site's device record or a probe of the host says. Fields the manifest leaves to
//! chance (`None`) are not compared.

use serde::{Deserialize, Serialize};

use cmdeploy_engine::provider::to_attributes;

/// One host's client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientModel {
    /// A client is installed (`false`: `ensure = "absent"`).
    pub installed: bool,
    /// The site the client is assigned to (upper case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_code: Option<String>,
    /// The client has reached its management point (registered with the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<bool>,
    /// The SMS Agent Host (CcmExec) runs (`ClientActiveStatus` 1 in the device record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccmexec_running: Option<bool>,
    /// Desired: `site` (the site's current client) or `>= X` (a minimum); observed: the same
    /// text when the client satisfies it, else the older version found (see
    /// [`super::health::observe_version`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
    /// The internet-based management point an internet client uses (lower case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_management_point: Option<String>,
}

impl ClientModel {
    /// True when every field this (desired) model holds has the same value in `observed`.
    pub fn satisfied_by(&self, observed: &ClientModel) -> bool {
        let have = to_attributes(observed);
        to_attributes(self)
            .iter()
            .all(|(field, want)| have.get(field) == Some(want))
    }

    /// True when `observed` differs from this (desired) model in its internet management point
    /// alone: what an installed client changes in place (SetInternetManagementPointFQDN), with
    /// no reinstall.
    pub fn differs_only_in_internet_mp(&self, observed: &ClientModel) -> bool {
        let mut o = observed.clone();
        o.internet_management_point
            .clone_from(&self.internet_management_point);
        self.satisfied_by(&o)
    }
}
