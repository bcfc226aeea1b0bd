//! The operations quota of a WinRM service: MaxConcurrentOperationsPerUser counts the requests
//! of one user the service is processing at once, and answers one more with the `w:QuotaLimit`
//! fault 2150859174 (windows-runtime.md §1). Every connection to the same service as the same
//! user takes a permit for each Script it runs (a Script has one request in flight at a time).

use std::collections::HashMap;
use std::sync::Arc;

/// The default of `max_concurrent_operations`: MaxConcurrentOperationsPerUser of Server 2008
/// R2 ([MS-WSMV] note <19>), the lowest Windows ships.
pub const DEFAULT_OPERATIONS: usize = 15;

/// The operations quota of a service and user (`address:port|user`), made on first use with
/// `permits`; connections that name a different number for the same key keep the first.
pub fn operations(key: &str, permits: usize) -> Arc<tokio::sync::Semaphore> {
    static QUOTAS: std::sync::OnceLock<
        std::sync::Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
    > = std::sync::OnceLock::new();
    let mut quotas = QUOTAS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    quotas
        .entry(key.to_ascii_lowercase())
        .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(permits.max(1))))
        .clone()
}
