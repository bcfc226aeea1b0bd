//! Retries of connection failures, through backon: exponential backoff with jitter, each wait
//! capped, all of them within a total budget per connection (`retry_budget_seconds`, 60 s by
//! default: longer than a WinRM service takes to restart, `Restart-Service WinRM` or a reboot's
//! late start). Only failures before a Script may have run are retried, and failures after that
//! only for Scripts that merely read (see [`super::winrm`]).
//!
//! backon rather than backoff: backoff is unmaintained (RUSTSEC-2025-0012), backon is kept up,
//! async-first (tokio's sleep), and has jitter, a delay cap and a total delay built in.

use std::time::{Duration, Instant};

use backon::ExponentialBuilder;

use super::ConnectionSpec;

/// The default total budget of retries on one connection, in seconds.
pub const DEFAULT_BUDGET_SECONDS: u64 = 60;

/// The first wait.
const FIRST_DELAY: Duration = Duration::from_millis(250);

/// The delay stops doubling here (the per-attempt cap); jitter adds up to as much again.
const MAX_DELAY: Duration = Duration::from_secs(4);

/// True for failures no retry can mend, although their stage is transient (the relay reports
/// them as a failed connect): a certificate that does not verify, a service that does not offer
/// the authentication asked for, plain HTTP answered by a TLS listener. Retrying them would
/// only spend the budget (60 s by default).
pub fn is_permanent(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "invalid peer certificate",
        "certificate verify",
        "does not offer",
        "invalid http version",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// The backoff of a Receive asked again while a command runs on (its answer was lost): 100 ms
/// doubling, with jitter, 3 times.
pub fn receive_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(3)
}

/// How a connection retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Time from the first attempt after which no new attempt starts.
    pub budget: Duration,
    /// At most this many retries (`retries` in the manifest), when set.
    pub max_retries: Option<u32>,
}

impl RetryPolicy {
    /// The policy of a connection table: `retry_budget_seconds` (default 60) and `retries`.
    pub fn of(spec: &ConnectionSpec) -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_secs(
                spec.retry_budget_seconds.unwrap_or(DEFAULT_BUDGET_SECONDS),
            ),
            max_retries: spec.retries,
        }
    }

    /// The backoff: 250 ms, doubling up to 4 s, each wait plus a random jitter of up to as much
    /// again (so hosts retrying together spread out). The budget is wall-clock time, attempts
    /// included: [`RetryPolicy::within_budget`] trims and ends the waits.
    pub fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::default()
            .with_min_delay(FIRST_DELAY)
            .with_max_delay(MAX_DELAY)
            .with_factor(2.0)
            .with_jitter();
        match self.max_retries {
            Some(n) => b.with_max_times(n as usize),
            None => b.without_max_times(),
        }
    }

    /// The wait before the next attempt, shortened so that the attempt starts within the budget
    /// counted from `started` (attempts take time too, which backon's total counts not); `None`
    /// when the budget is spent.
    pub fn within_budget(&self, started: Instant, proposed: Option<Duration>) -> Option<Duration> {
        let wait = proposed?;
        let left = self.budget.checked_sub(started.elapsed())?;
        if left.is_zero() {
            return None;
        }
        Some(wait.min(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backon::BackoffBuilder;

    fn policy(budget: u64, retries: Option<u32>) -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_secs(budget),
            max_retries: retries,
        }
    }

    #[test]
    fn waits_grow_with_jitter_up_to_the_cap() {
        let waits: Vec<Duration> = policy(60, None).backoff().build().take(20).collect();
        assert_eq!(waits.len(), 20, "no count limit without `retries`");
        assert!(
            waits[0] >= FIRST_DELAY && waits[0] <= FIRST_DELAY * 2,
            "{waits:?}"
        );
        assert!(waits.iter().all(|w| *w <= MAX_DELAY * 2), "{waits:?}");
        assert!(waits[19] >= MAX_DELAY, "{waits:?}");
        let distinct: std::collections::BTreeSet<Duration> = waits.iter().copied().collect();
        assert!(distinct.len() > 10, "jitter spreads the waits: {waits:?}");
    }

    #[test]
    fn a_certificate_that_does_not_verify_is_not_retried_a_refused_connection_is() {
        assert!(is_permanent("127.0.0.1:5986: invalid HTTP version parsed"));
        assert!(is_permanent(
            "TLS handshake with 127.0.0.1:5986: invalid peer certificate: UnknownIssuer"
        ));
        assert!(is_permanent(
            "127.0.0.1:5985: HTTP 401 without a Negotiate challenge: the service does not offer Negotiate"
        ));
        assert!(!is_permanent(
            "connect to 127.0.0.1:5985: Connection refused (os error 111)"
        ));
    }

    #[test]
    fn retries_cap_the_number_of_attempts() {
        assert_eq!(policy(60, Some(2)).backoff().build().count(), 2);
        assert_eq!(policy(60, Some(0)).backoff().build().count(), 0);
    }

    #[test]
    fn a_spent_budget_stops_and_a_short_one_trims_the_wait() {
        let p = policy(1, None);
        let now = Instant::now();
        assert_eq!(
            p.within_budget(now, Some(Duration::from_millis(300))),
            Some(Duration::from_millis(300))
        );
        assert!(
            p.within_budget(now, Some(Duration::from_secs(5))).unwrap() <= Duration::from_secs(1)
        );
        let long_ago = now - Duration::from_secs(2);
        assert_eq!(
            p.within_budget(long_ago, Some(Duration::from_millis(1))),
            None
        );
        assert_eq!(p.within_budget(now, None), None);
    }
}
