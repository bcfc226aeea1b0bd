//! The lab's cost model: what a real site pays for each Script and each cmdlet, slept so that
//! benchmarks over the lab show wall times of the same shape as a site's.
//!
//! A Script on a real site pays a WinRM shell, a `powershell.exe` start and
//! `Import-Module ConfigurationManager` before its first call (the **Script startup**), then
//! each cmdlet's own round trip to the SMS Provider (the **per-cmdlet** cost). Realistic values
//! are **estimates** from public measurements, not figures of ours:
//!
//! * reusing one PowerShell process instead of starting one per command was 2–3× faster in
//!   every public measurement found (the start and the module import dominate);
//! * importing the ConfigurationManager module takes seconds on a site server;
//! * a single WMI batch call took 3 s where 18 ConfigMgr cmdlet calls took 24 s (about 1.3 s
//!   per cmdlet).
//!
//! The benchmark (`tests/bench_cost.sh`) uses 3,000 ms per Script and 200 ms per cmdlet. Both
//! default to zero, so tests stay fast. The cost is slept with `tokio::time::sleep` (never a busy
//! loop), once per Script and once per call the Script actually ran (a call skipped after an
//! earlier failure costs nothing).
//!
//! `lab serve` takes it from `--script-startup-ms` and `--cmdlet-ms`; the in-process `lab`
//! transport from [`SCRIPT_STARTUP_ENV`] and [`CMDLET_ENV`].

use std::time::Duration;

/// Environment variable: milliseconds the in-process lab transport sleeps per Script.
pub const SCRIPT_STARTUP_ENV: &str = "CMDEPLOY_LAB_SCRIPT_STARTUP_MS";
/// Environment variable: milliseconds the in-process lab transport sleeps per cmdlet run.
pub const CMDLET_ENV: &str = "CMDEPLOY_LAB_CMDLET_MS";

/// The cost of running Scripts on a simulated site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CostModel {
    /// Paid once per Script: WinRM shell, `powershell.exe` start and module import.
    pub script_startup: Duration,
    /// Paid once per cmdlet the Script ran.
    pub per_cmdlet: Duration,
}

impl CostModel {
    /// A model of `startup_ms` per Script and `cmdlet_ms` per cmdlet (milliseconds).
    pub fn from_millis(startup_ms: u64, cmdlet_ms: u64) -> CostModel {
        CostModel {
            script_startup: Duration::from_millis(startup_ms),
            per_cmdlet: Duration::from_millis(cmdlet_ms),
        }
    }

    /// The model the in-process lab transport uses: [`SCRIPT_STARTUP_ENV`] and [`CMDLET_ENV`]
    /// (whole milliseconds; unset or unreadable means 0).
    pub fn from_env() -> CostModel {
        CostModel::from_millis(env_ms(SCRIPT_STARTUP_ENV), env_ms(CMDLET_ENV))
    }

    /// Whether the model costs nothing.
    pub fn is_zero(&self) -> bool {
        self.script_startup.is_zero() && self.per_cmdlet.is_zero()
    }

    /// What one Script that ran `cmdlets` calls costs: the startup plus each call.
    pub fn of_script(&self, cmdlets: usize) -> Duration {
        let n = u32::try_from(cmdlets).unwrap_or(u32::MAX);
        self.script_startup
            .saturating_add(self.per_cmdlet.saturating_mul(n))
    }

    /// Sleeps what one Script that ran `cmdlets` calls costs (returns at once for a zero model).
    pub async fn pay(&self, cmdlets: usize) {
        let cost = self.of_script(cmdlets);
        if !cost.is_zero() {
            tokio::time::sleep(cost).await;
        }
    }
}

fn env_ms(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_costs_its_startup_and_each_cmdlet_it_ran() {
        let m = CostModel::from_millis(3_000, 200);
        assert_eq!(m.of_script(0), Duration::from_millis(3_000));
        assert_eq!(m.of_script(18), Duration::from_millis(6_600));
        assert!(CostModel::default().is_zero());
        assert_eq!(CostModel::default().of_script(1_000), Duration::ZERO);
    }

    #[tokio::test]
    async fn paying_sleeps_at_least_the_cost() {
        let m = CostModel::from_millis(50, 20);
        let start = std::time::Instant::now();
        m.pay(2).await;
        assert!(start.elapsed() >= Duration::from_millis(90));
    }
}
