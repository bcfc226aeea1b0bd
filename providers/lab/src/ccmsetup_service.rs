//! CCMSetup runs as a service (windows-runtime.md §8; about-client-installation-properties.md
//! `/noservice`, `/service`): the `ccmsetup.exe` a script starts is a bootstrap that exits within
//! seconds; the `ccmsetup` service then installs for minutes and ends by writing
//! `CcmSetup is exiting with return code N` to `%WinDir%\ccmsetup\Logs\ccmsetup.log`.
//! `Start-Process -Wait -PassThru` therefore returns the bootstrap's exit code, not the install's.
//!
//! The lab schedules each install ([`start`]) and completes it when its time has come
//! ([`settle`], run before and after every Script): only then does the client exist and the
//! log carry the return code.

pub use super::model::CcmsetupRun;
use super::model::Estate;

thread_local! {
    /// The time every [`now_ms`] of the Script running on this thread reads, when frozen.
    static FROZEN_MS: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
}

/// Milliseconds since 1970 now, or the Script's time while [`at`] runs one.
pub fn now_ms() -> i64 {
    FROZEN_MS
        .get()
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis())
}

/// Runs `f` (one Script) with the clock stopped at `at_ms` (milliseconds since 1970): every
/// time the Script reads is the time it started, so replaying it from the lab's journal
/// (`super::journal`) at the same time gives the same estate.
pub fn at<R>(at_ms: i64, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<i64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FROZEN_MS.set(self.0);
        }
    }
    let _restore = Restore(FROZEN_MS.replace(Some(at_ms)));
    f()
}

/// The log line CCMSetup ends with (community scripts poll for it; configmgr.md §1.2).
pub fn final_line(return_code: i64) -> String {
    format!("CcmSetup is exiting with return code {return_code}")
}

/// Starts the service's install on `host`, to finish `estate.ccmsetup_seconds` from now.
/// Returns `false` (the bootstrap's exit code 8, "setup already running") when one is running.
pub fn start(estate: &mut Estate, host: &str, mut run: CcmsetupRun) -> bool {
    let seconds = estate.ccmsetup_seconds.max(0.0);
    run.finishes_at_ms = now_ms() + (seconds * 1000.0) as i64;
    let Some(h) = estate.host_mut(host) else {
        return false;
    };
    if h.ccmsetup.is_some() {
        return false;
    }
    h.ccmsetup_log
        .push("==========[ ccmsetup started in process ]==========".into());
    h.ccmsetup_log
        .push("Running as the ccmsetup service; the bootstrap exits now.".into());
    let finishes_at_ms = run.finishes_at_ms;
    h.ccmsetup = Some(run);
    estate.ccmsetup_quiet_until_ms = estate
        .ccmsetup_quiet_until_ms
        .map(|t| t.min(finishes_at_ms));
    true
}

/// Completes every install whose time has come: the client appears (or goes), and the log ends
/// with the outcome and the return code.
pub fn settle(estate: &mut Estate, now: i64) {
    if estate.ccmsetup_quiet_until_ms.is_some_and(|t| now < t) {
        return;
    }
    let mut next = i64::MAX;
    let mut registered = Vec::new();
    for h in estate.hosts.iter_mut() {
        if let Some(r) = h.ccmsetup.as_ref().filter(|r| r.finishes_at_ms > now) {
            next = next.min(r.finishes_at_ms);
        }
        let done = h.ccmsetup.as_ref().is_some_and(|r| r.finishes_at_ms <= now);
        if !done {
            continue;
        }
        let Some(run) = h.ccmsetup.take() else {
            continue;
        };
        if run.uninstall {
            h.client = None;
        } else if let Some(c) = run.client {
            if c.registered {
                registered.push((
                    c.site_code.clone(),
                    super::model::short(&h.fqdn).to_string(),
                ));
            }
            h.client = Some(c);
        }
        if !run.outcome.is_empty() {
            h.ccmsetup_log.push(run.outcome);
        }
        h.ccmsetup_log.push(final_line(run.return_code));
    }
    // A client that registers creates a new device record where one was removed.
    for (code, name) in registered {
        if let Some(site) = estate.site_mut(&code) {
            site.removed_devices
                .retain(|d| !d.eq_ignore_ascii_case(&name));
        }
    }
    estate.ccmsetup_quiet_until_ms = Some(next);
}

/// The log as a file: lines ended with CRLF.
pub fn log_text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Client, Host};

    #[test]
    fn a_run_started_after_a_quiet_settle_still_completes() {
        let mut estate = Estate {
            hosts: vec![Host {
                fqdn: "ws1.contoso.com".into(),
                ..Host::default()
            }],
            ..Estate::default()
        };
        let now = now_ms();
        settle(&mut estate, now);
        assert_eq!(estate.ccmsetup_quiet_until_ms, Some(i64::MAX));
        let run = CcmsetupRun {
            client: Some(Client::default()),
            ..CcmsetupRun::default()
        };
        assert!(start(&mut estate, "ws1", run));
        settle(&mut estate, now_ms() + 1);
        assert!(estate.hosts[0].client.is_some(), "the install completed");
        assert!(estate.hosts[0].ccmsetup.is_none());
        assert_eq!(estate.hosts[0].ccmsetup_log.last().unwrap(), &final_line(0));
    }
}
