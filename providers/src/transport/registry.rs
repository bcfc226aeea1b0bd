//! The transports a program offers, one factory per [`TransportKind`], and the client of each
//! connection once built.
//!
//! The program (the CLI, a test harness) registers the transports it links, the `winrm` one from
//! this crate ([`super::winrm::register`]) and the lab's from the lab crate, and puts the registry
//! in the engine's [`Context::extensions`]; [`super::run`] finds it there. So this crate names no
//! simulator, and a run with a fake transport needs no global.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use cmdeploy_engine::provider::{Context, RemoteError};
use cmdeploy_engine::resource::Connection;

use super::{ConnectionSpec, Transport, TransportKind};

/// Builds the transport of one connection from the run's context (project and work directories)
/// and its validated table.
///
/// # Errors
/// Settings the transport cannot use, naming the host.
pub type Factory =
    Arc<dyn Fn(&Context, &ConnectionSpec) -> Result<Arc<dyn Transport>, RemoteError> + Send + Sync>;

/// Registered transports and the per-connection clients built from them (one per work directory
/// and connection name, shared by every task of the run).
#[derive(Default)]
pub struct Transports {
    factories: HashMap<TransportKind, Factory>,
    clients: Mutex<HashMap<(PathBuf, String), Arc<dyn Transport>>>,
}

impl Transports {
    /// No transport registered.
    pub fn new() -> Transports {
        Transports::default()
    }

    /// Registers (or replaces) the factory of `kind`.
    pub fn register(
        &mut self,
        kind: TransportKind,
        factory: impl Fn(&Context, &ConnectionSpec) -> Result<Arc<dyn Transport>, RemoteError>
            + Send
            + Sync
            + 'static,
    ) {
        self.factories.insert(kind, Arc::new(factory));
    }

    /// True when `kind` has a factory.
    pub fn has(&self, kind: TransportKind) -> bool {
        self.factories.contains_key(&kind)
    }

    /// The transport of `connection`, built on first use and shared afterwards.
    ///
    /// # Errors
    /// An invalid connection table; a transport this program does not register; what the
    /// transport's factory refuses.
    pub fn for_connection(
        &self,
        ctx: &Context,
        connection: &Connection,
    ) -> Result<Arc<dyn Transport>, RemoteError> {
        let spec = ConnectionSpec::deserialize(&*connection.spec).map_err(|e| {
            RemoteError::new(
                connection.host(),
                format!("invalid connection `{}`: {e}", connection.key),
            )
        })?;
        let key = (ctx.work_dir.clone(), connection.key.clone());
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = clients.get(&key) {
            return Ok(t.clone());
        }
        let Some(factory) = self.factories.get(&spec.transport) else {
            return Err(RemoteError::new(
                connection.host(),
                format!(
                    "connection `{}` uses the `{}` transport, which this program does not offer (it offers: {})",
                    connection.key,
                    spec.transport.name(),
                    self.offered()
                ),
            ));
        };
        let t = factory(ctx, &spec)?;
        clients.insert(key, t.clone());
        Ok(t)
    }

    fn offered(&self) -> String {
        let mut names: Vec<&str> = self.factories.keys().map(|k| k.name()).collect();
        names.sort_unstable();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powershell::{Script, ScriptOutput};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fake(String);

    #[async_trait::async_trait]
    impl Transport for Fake {
        fn host(&self) -> &str {
            &self.0
        }
        async fn run(&self, _: &Script, _: &str) -> Result<ScriptOutput, RemoteError> {
            Ok(ScriptOutput {
                results: Vec::new(),
            })
        }
    }

    fn ctx() -> Context {
        Context::new(
            "/p".into(),
            "/p/.cmdeploy".into(),
            Default::default(),
            cmdeploy_engine::secret::FingerprintKey::fixed(&[7; 32]),
        )
    }

    fn connection(key: &str, table: serde_json::Value) -> Connection {
        Connection::new(key, table)
    }

    #[test]
    fn a_connection_gets_one_client_built_by_its_transport() {
        let built = Arc::new(AtomicUsize::new(0));
        let mut transports = Transports::new();
        let counter = built.clone();
        transports.register(TransportKind::Lab, move |_, spec| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(Fake(spec.host.clone())))
        });
        let c = connection("site", serde_json::json!({"host": "cm01.corp.contoso.com"}));
        let a = transports.for_connection(&ctx(), &c).unwrap();
        let b = transports.for_connection(&ctx(), &c).unwrap();
        assert_eq!(a.host(), "cm01.corp.contoso.com");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(built.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_unregistered_transport_is_a_remote_error_naming_the_connection() {
        let mut transports = Transports::new();
        transports.register(TransportKind::Lab, |_, spec| {
            Ok(Arc::new(Fake(spec.host.clone())))
        });
        let c = connection(
            "dc",
            serde_json::json!({"transport": "winrm", "host": "dc01", "user": "u", "password": {"env": "P"}}),
        );
        let Err(e) = transports.for_connection(&ctx(), &c) else {
            panic!("winrm is not registered");
        };
        assert_eq!(e.host, "dc01");
        assert!(
            e.message
                .contains("connection `dc` uses the `winrm` transport")
                && e.message.contains("offers: lab"),
            "{e}"
        );
        let Err(e) = Transports::new().for_connection(&ctx(), &c) else {
            panic!("nothing is registered");
        };
        assert!(e.message.contains("offers: none"), "{e}");
    }

    #[test]
    fn a_context_without_transports_is_a_remote_error_not_a_panic() {
        let c = connection("site", serde_json::json!({"host": "cm01"}));
        let Err(e) = super::super::for_connection(&ctx(), &c) else {
            panic!("the context carries no transports");
        };
        assert_eq!(e.host, "cm01");
        assert!(e.message.contains("registered no transports"), "{e}");
        let mut transports = Transports::new();
        transports.register(TransportKind::Lab, |_, spec| {
            Ok(Arc::new(Fake(spec.host.clone())))
        });
        let ctx =
            ctx().with_extensions(cmdeploy_engine::extensions::Extensions::new().with(transports));
        let t = super::super::for_connection(&ctx, &c).unwrap();
        assert_eq!(t.host(), "cm01");
    }

    #[test]
    fn an_invalid_connection_table_is_a_remote_error() {
        let c = connection("x", serde_json::json!({"host": "h", "transport": "ssh"}));
        let Err(e) = Transports::new().for_connection(&ctx(), &c) else {
            panic!("ssh is no transport");
        };
        assert!(e.message.contains("invalid connection `x`"), "{e}");
    }
}
