//! The `lab` transport: Scripts run in-process against the lab on disk.

use std::sync::Arc;

use cmdeploy_engine::provider::RemoteError;

use crate::cost::CostModel;
use crate::Lab;
use cmdeploy_providers::powershell::runner::document;
use cmdeploy_providers::powershell::{Script, ScriptOutput};
use cmdeploy_providers::transport::{Transport, TransportKind, Transports};

/// Runs Scripts against the lab as if on `host`.
pub struct LabTransport {
    lab: Lab,
    host: String,
}

impl LabTransport {
    /// A transport to `host` in `lab`.
    pub fn new(lab: Lab, host: String) -> LabTransport {
        LabTransport { lab, host }
    }

    /// Registers the `lab` transport: each connection runs its Scripts against the lab of the
    /// run's project (`<work_dir>/lab`, seeded from `<project_dir>/lab.toml`) as its `host`.
    pub fn register(transports: &mut Transports) {
        transports.register(TransportKind::Lab, |ctx, spec| {
            Ok(Arc::new(LabTransport::new(
                Lab::open(&ctx.project_dir, &ctx.work_dir),
                spec.host.clone(),
            )))
        });
    }
}

#[async_trait::async_trait]
impl Transport for LabTransport {
    fn host(&self) -> &str {
        &self.host
    }

    async fn run(&self, _script: &Script, payload: &str) -> Result<ScriptOutput, RemoteError> {
        if let Some(ms) = latency_ms() {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let document = document(payload);
        let lab = self.lab.clone();
        let host = self.host.clone();
        let output = tokio::task::spawn_blocking(move || lab.run_document(&host, &document))
            .await
            .map_err(|e| RemoteError::new(self.host.clone(), format!("lab task failed: {e}")))?;
        // What a real site pays for this Script: its startup, and each call it ran.
        let ran = output.as_ref().map_or(0, |o| o.results.len());
        CostModel::from_env().pay(ran).await;
        output
    }
}

/// Injected latency per Script, in milliseconds, from `CMDEPLOY_LAB_LATENCY_MS` (for reliability
/// tests and demonstrations of interrupted applies).
fn latency_ms() -> Option<u64> {
    std::env::var("CMDEPLOY_LAB_LATENCY_MS")
        .ok()?
        .trim()
        .parse()
        .ok()
}
