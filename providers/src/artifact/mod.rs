//! Artifacts: files cmdeploy renders on the machine it runs on, for the deployment methods that
//! no connection reaches — a logon script written to a NETLOGON share mounted locally, an
//! offline media bundle for internet-only clients, the `CCMSETUPCMD` line of an Intune app.
//!
//! An artifact is a folder (`path`, relative to the project directory) and the files cmdeploy
//! owns in it. Its attributes are `path` and `files`, a map of relative file name → SHA-256 (hex)
//! of the content, so plan shows which file changes and drift shows a hand edit. Files cmdeploy
//! does not own in the folder are left alone. Writes are atomic per file (a temporary file in the
//! same folder, then a rename); delete removes only the owned files, then empty folders.
//!
//! * [`logon_script`] — `logon_script` (seed 000, "How to Install Configuration Manager Clients
//!   by Using Logon Scripts");
//! * [`offline_bundle`] — `offline_bundle` (seed 000, "…for Internet-based Client Management");
//! * [`intune_app`] — `intune_app` (seed 001, "Install clients with Intune").

pub mod files;
pub mod intune_app;
pub mod kind;
pub mod logon_script;
pub mod offline_bundle;
pub mod render;

use std::sync::Arc;

use cmdeploy_engine::registry::Registry;

/// Registers the artifact kinds.
pub fn register(r: &mut Registry) {
    r.register(Arc::new(
        kind::ArtifactKind::<logon_script::LogonScriptSpec>::new(),
    ));
    r.register(Arc::new(kind::ArtifactKind::<
        offline_bundle::OfflineBundleSpec,
    >::new()));
    r.register(Arc::new(
        kind::ArtifactKind::<intune_app::IntuneAppSpec>::new(),
    ));
}
