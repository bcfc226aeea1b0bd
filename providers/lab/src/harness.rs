//! What tests and benchmarks run the product with in process: the providers' kinds with the lab's
//! seed left out of the manifests, and context extensions holding the transports the CLI offers
//! (`winrm`, and the lab's), so none of them spells the registration.

use cmdeploy_engine::extensions::Extensions;
use cmdeploy_engine::registry::Registry;
use cmdeploy_providers::transport::{self, Transports};

use crate::transport::LabTransport;

/// Every kind of the providers, with [`crate::SEED_FILE`] left out of the manifests, as the CLI
/// has them.
pub fn registry() -> Registry {
    let mut r = cmdeploy_providers::registry();
    r.ignore_file(crate::SEED_FILE);
    r
}

/// The transports of the CLI: `winrm` and the lab's.
pub fn transports() -> Transports {
    let mut t = Transports::new();
    transport::winrm::register(&mut t);
    LabTransport::register(&mut t);
    t
}

/// Context extensions holding [`transports`], for
/// [`Context::with_extensions`](cmdeploy_engine::provider::Context::with_extensions).
pub fn extensions() -> Extensions {
    Extensions::new().with(transports())
}
