//! The WinRM service configuration `lab serve` models: Windows' defaults, each with its source,
//! and the switches an administrator flips with `winrm set` (windows-runtime.md §1).

use std::time::Duration;

/// `winrm/config` settings that change what `lab serve` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// `winrm/config/service/auth Basic`. Default **false**: "Basic=false, Kerberos=true,
    /// Negotiate=true" (MicrosoftDocs win32 `installation-and-configuration-for-windows-remote-management.md`,
    /// "WinRM Service Default Configuration Settings"). `--allow-basic` sets it, as
    /// `winrm set winrm/config/service/auth @{Basic="true"}` does.
    pub basic: bool,
    /// `winrm/config/service AllowUnencrypted`. Default **false**: the service "MUST NOT accept
    /// requests if either the SOAP request or response would be unencrypted" ([MS-WSMV]
    /// 2.2.4.36, 3.1.4.1.29.1). Over HTTP only Negotiate can then encrypt; Basic over HTTP needs
    /// this too. `--allow-unencrypted` sets it.
    pub allow_unencrypted: bool,
    /// `winrm/config MaxEnvelopeSizekb`: "SHOULD be 500" ([MS-WSMV] 2.2.4.10); a larger request
    /// is answered HTTP 413 without SOAP processing ([MS-WSMV] 3.1.4.1.20).
    pub max_envelope_kb: usize,
    /// `winrm/config/winrs MaxShellsPerUser`. Sources disagree for 2012 R2+: 2147483647 in
    /// `winrm get winrm/config/winrs` dumps (ansible `windows_winrm.rst`), 30 in the schema
    /// ([MS-WSMV] 2.2.4.42) and in hashicorp/vagrant#7489. Default here: 2147483647; tests use
    /// the strict profile 30.
    pub max_shells_per_user: usize,
    /// `winrm/config/service MaxConcurrentOperationsPerUser`: 1500 on Server 2012+ (15 on
    /// 2008 R2 and earlier; [MS-WSMV] note <19>; ansible `windows_winrm.rst` dumps). Requests of
    /// one user being processed at once (a long-polling Receive counts until it answers); one
    /// more is answered with the `w:QuotaLimit` fault 2150859174.
    pub max_concurrent_operations_per_user: usize,
    /// `winrm/config/winrs IdleTimeout`: 7200000 ms on Server 2012+ ([MS-WSMV] 2.2.4.42 note
    /// <28>; ansible dumps); a shell idle that long is deleted by the service.
    pub idle_timeout: Duration,
    /// The server's OEM code page, what a WinRS shell uses without `WINRS_CODEPAGE` (437 on
    /// en-US; WinRb/WinRM#125; winrm-rs `tests/integration_real.rs`).
    pub oem_codepage: u16,
    /// `winrm/config/service/auth CbtHardeningLevel`: Relaxed by default (a channel binding is
    /// checked if sent); Strict requires one over HTTPS (MicrosoftDocs win32 WinRM service
    /// defaults; ansible `windows_winrm.rst`). `--cbt-hardening strict` sets it.
    pub cbt_strict: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            basic: false,
            allow_unencrypted: false,
            max_envelope_kb: 500,
            max_shells_per_user: 2_147_483_647,
            max_concurrent_operations_per_user: 1500,
            idle_timeout: Duration::from_millis(7_200_000),
            oem_codepage: 437,
            cbt_strict: false,
        }
    }
}

impl ServiceConfig {
    /// The largest request body, in bytes.
    pub fn max_envelope_bytes(&self) -> usize {
        self.max_envelope_kb.saturating_mul(1024)
    }

    /// Checks the values against Windows' minimums (MaxEnvelopeSizekb ≥ 32, [MS-WSMV] 2.2.4.10;
    /// IdleTimeout ≥ 60000 ms, 2.2.4.42; MaxShellsPerUser ≥ 1) and the code pages the lab knows.
    ///
    /// # Errors
    /// A message naming the option.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_envelope_kb < 32 {
            return Err("--max-envelope-kb must be at least 32 (Windows' minimum)".into());
        }
        if self.idle_timeout < Duration::from_millis(60_000) {
            return Err("--idle-timeout-ms must be at least 60000 (Windows' minimum)".into());
        }
        if self.max_concurrent_operations_per_user == 0 {
            return Err("--max-concurrent-operations-per-user must be at least 1".into());
        }
        if self.max_shells_per_user == 0 {
            return Err("--max-shells-per-user must be at least 1".into());
        }
        if super::codepage::CodePage::oem(self.oem_codepage).is_none() {
            return Err(format!(
                "--oem-codepage {}: the lab knows 437 and 850",
                self.oem_codepage
            ));
        }
        Ok(())
    }
}
