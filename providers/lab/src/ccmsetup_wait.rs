//! Scripts that wait for the ccmsetup service. The runner's `Install-CmdeployClient
//! -WaitSeconds N` and `Get-CmdeployInstallResult -WaitSeconds N` wait (`Wait-Process -Name
//! 'ccmsetup' -Timeout N`) until the service's process ends or N seconds have passed, then read
//! ccmsetup.log (windows-runtime.md §8: completion is no `ccmsetup` process and the log's
//! return code line). `Wait-Process` returns at once when no such process runs.
//!
//! The lab cannot hold the estate while a Script waits (other hosts' Scripts would wait with
//! it), so such a call pauses its Script ([`crate::exec::Run::step`] returns when to resume):
//! the lab lets go of the estate, sleeps until the install ends or the time is up, and runs the
//! rest of the Script with its clock at that moment. The lab waits only as long as the runner it
//! executes does: a runner function that does not declare `-WaitSeconds` refuses it as
//! PowerShell does, and one that does not call `Wait-Process` does not wait.

use serde_json::{Map, Value};

use super::args::CmdError;
use super::model::Estate;

/// The runner functions that may wait, lower case.
const WAITING: [&str; 2] = ["install-cmdeployclient", "get-cmdeployinstallresult"];

/// The seconds `cmdlet` waits for the ccmsetup service: its `-WaitSeconds` (any spelling of the
/// name), `None` for a call that does not wait (another cmdlet, no or a non-positive
/// `-WaitSeconds`, or a runner whose function does not wait).
///
/// # Errors
/// `-WaitSeconds` given to a function whose `param()` block does not declare it, in
/// PowerShell's words.
pub fn wait_seconds(cmdlet: &str, args: &Map<String, Value>) -> Result<Option<i64>, CmdError> {
    let lower = cmdlet.to_ascii_lowercase();
    if !WAITING.contains(&lower.as_str()) {
        return Ok(None);
    }
    let Some((name, value)) = args
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("WaitSeconds"))
    else {
        return Ok(None);
    };
    let declared = super::runner_model::function_params(cmdlet)
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("WaitSeconds"));
    if !declared {
        return Err(CmdError::new(
            "InvalidArgument",
            format!("{cmdlet}: A parameter cannot be found that matches parameter name '{name}'."),
        ));
    }
    let seconds = value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .unwrap_or(0);
    Ok((seconds > 0 && runner_waits(&lower)).then_some(seconds))
}

/// Whether the runner's function waits for the service: `Get-CmdeployInstallResult` calls
/// `Wait-Process` on `ccmsetup`, and `Install-CmdeployClient` passes its wait on to it.
fn runner_waits(lower: &str) -> bool {
    let body = |name| super::runner_model::function_body(name).unwrap_or_default();
    let result_waits = body("Get-CmdeployInstallResult").contains("Wait-Process -Name 'ccmsetup'");
    match lower {
        "get-cmdeployinstallresult" => result_waits,
        _ => result_waits && body("Install-CmdeployClient").contains("-WaitSeconds $WaitSeconds"),
    }
}

/// When a wait of `seconds` that starts at `now_ms` on `host` ends: when the host's ccmsetup
/// service finishes, or after `seconds`, whichever is first; `None` when no install runs there
/// (nothing to wait for) or it ends by `now_ms`.
pub fn until(estate: &Estate, host: &str, now_ms: i64, seconds: i64) -> Option<i64> {
    let run = estate.host(host)?.ccmsetup.as_ref()?;
    let until = run
        .finishes_at_ms
        .min(now_ms.saturating_add(seconds.saturating_mul(1000)));
    (until > now_ms).then_some(until)
}

/// Sleeps until `at_ms` (milliseconds since 1970, UTC); at once when it has passed.
pub fn sleep_until(at_ms: i64) {
    let left = at_ms - chrono::Utc::now().timestamp_millis();
    if left > 0 {
        std::thread::sleep(std::time::Duration::from_millis(left.unsigned_abs()));
    }
}

/// What `Install-CmdeployClient -WaitSeconds` returns once the wait is over: the properties of
/// `Get-CmdeployInstallResult` (`result`), then the install's `ExitCode` and `LogOffset` added
/// to them (`Add-Member`, in that order).
pub fn merged(started: &Value, result: Value) -> Value {
    let mut out = match result {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for key in ["ExitCode", "LogOffset"] {
        if let Some(v) = started.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}
