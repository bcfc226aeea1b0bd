//! The PostgreSQL backend's own small tokio runtime.
//!
//! [`crate::state::Backend`] is synchronous and is called from inside the command's runtime, where
//! `block_on` is not allowed. The backend therefore owns a one-worker runtime: connection tasks
//! live there, and each request is spawned onto it while the caller waits on a channel.

use std::future::Future;

/// A one-worker runtime that runs database requests and keeps connections alive.
pub(super) struct PgRuntime {
    rt: Option<tokio::runtime::Runtime>,
}

impl PgRuntime {
    /// Starts the runtime's worker thread.
    ///
    /// # Errors
    /// The OS refused a thread or an I/O driver.
    pub(super) fn new() -> std::io::Result<PgRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cmdeploy-pg")
            .enable_all()
            .build()?;
        Ok(PgRuntime { rt: Some(rt) })
    }

    /// Runs `fut` on the runtime and waits for its output. `None` when the task died (a panic
    /// inside the database client) or the runtime is shutting down.
    pub(super) fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let rt = self.rt.as_ref()?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().ok()
    }
}

impl Drop for PgRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside the caller's runtime; connections still
        // open are closed by the OS when their sockets are dropped with the tasks.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
