//! Faults: the WS-Management faults the endpoint answers with, and the faults `lab serve`
//! injects on purpose (`--latency-ms`, `--fail-rate`, `--drop-rate`) so transports can be tested
//! against a slow, failing or flaky WinRM service.

use std::time::Duration;

use rand::Rng;

/// The WS-Management fault subcodes the lab uses (`w:` = DMTF wsman.xsd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `w:InvalidSelectors`: no shell (or command) with that id.
    InvalidSelectors,
    /// `w:InternalError`: the service failed (also the injected failure).
    InternalError,
    /// `w:TimedOut`: a Receive waited `OperationTimeout` with nothing to report.
    TimedOut,
    /// `w:ActionNotSupported`: an action other than the WinRS cmd-shell ones.
    ActionNotSupported,
    /// `w:SchemaValidationError`: the body is not a well-formed request.
    SchemaValidation,
    /// `w:QuotaLimit`: a Create over the user's MaxShellsPerUser ([MS-WSMV] 3.1.4.5.2.1).
    QuotaLimit,
    /// `w:QuotaLimit`: a request over the user's MaxConcurrentOperationsPerUser.
    OperationsQuota,
}

impl FaultKind {
    /// The subcode, as `w:Name`.
    pub fn subcode(self) -> &'static str {
        match self {
            FaultKind::InvalidSelectors => "w:InvalidSelectors",
            FaultKind::InternalError => "w:InternalError",
            FaultKind::TimedOut => "w:TimedOut",
            FaultKind::ActionNotSupported => "w:ActionNotSupported",
            FaultKind::SchemaValidation => "w:SchemaValidationError",
            FaultKind::QuotaLimit | FaultKind::OperationsQuota => "w:QuotaLimit",
        }
    }

    /// The SOAP code: `s:Sender` when the request is at fault, else `s:Receiver`.
    pub fn code(self) -> &'static str {
        match self {
            FaultKind::InvalidSelectors
            | FaultKind::ActionNotSupported
            | FaultKind::SchemaValidation => "s:Sender",
            // Sender or Receiver for QuotaLimit is unverified (windows-runtime.md §1).
            FaultKind::InternalError
            | FaultKind::TimedOut
            | FaultKind::QuotaLimit
            | FaultKind::OperationsQuota => "s:Receiver",
        }
    }

    /// The `WSManFault/@Code` Windows reports (an HRESULT as an unsigned decimal).
    /// pywinrm and pypsrp recognise a timed-out Receive by `2150858793` (0x80338029).
    pub fn wsman_code(self) -> u32 {
        match self {
            FaultKind::InvalidSelectors => 2_150_858_843, // 0x8033805B: shell not found
            FaultKind::TimedOut => 2_150_858_793, // 0x80338029: ERROR_WSMAN_OPERATION_TIMEDOUT
            FaultKind::ActionNotSupported => 2_150_858_754, // 0x80338002
            FaultKind::SchemaValidation => 2_150_858_817, // 0x80338041: ERROR_WSMAN_SCHEMA_VALIDATION
            FaultKind::InternalError => 2_147_500_037,    // 0x80004005: E_FAIL
            // 0x803381A5: ERROR_WSMAN_QUOTA_MAX_SHELLS_PPQ (hashicorp/vagrant#7489,
            // test-kitchen/test-kitchen#656).
            FaultKind::QuotaLimit => 2_150_859_173,
            // 0x803381A6: the concurrent-operations quota (dmitry-zaets/
            // vagrantfile-windows-iis-mssql#7; masterzen/winrm#129).
            FaultKind::OperationsQuota => 2_150_859_174,
        }
    }
}

/// A fault to answer a request with (HTTP 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which fault.
    pub kind: FaultKind,
    /// The human-readable reason.
    pub message: String,
}

impl Fault {
    /// The fault Windows answers a Create over MaxShellsPerUser with, in its words (the
    /// trailing space is Windows'; hashicorp/vagrant#7489).
    pub fn shell_quota(max: usize) -> Fault {
        Fault::new(
            FaultKind::QuotaLimit,
            format!("The WS-Management service cannot process the request. This user is allowed a maximum number of {max} concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user. "),
        )
    }

    /// The fault Windows answers a request over MaxConcurrentOperationsPerUser with, in its
    /// words (dmitry-zaets/vagrantfile-windows-iis-mssql#7; masterzen/winrm#129).
    pub fn operations_quota(max: usize) -> Fault {
        Fault::new(
            FaultKind::OperationsQuota,
            format!("The WS-Management service cannot process the request. This user is allowed a maximum number of {max} concurrent operations, which has been exceeded. Close existing operations for this user, or raise the quota for this user."),
        )
    }

    /// A fault of `kind` saying `message`.
    pub fn new(kind: FaultKind, message: impl Into<String>) -> Fault {
        Fault {
            kind,
            message: message.into(),
        }
    }
}

/// Injected faults, as given on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultInjection {
    /// Sleep this long before answering each Command, and each Receive that completes a command.
    pub latency: Duration,
    /// Fraction (0..=1) of requests answered with HTTP 500 and `w:InternalError`.
    pub fail_rate: f64,
    /// Fraction (0..=1) of requests whose connection is closed without a response.
    pub drop_rate: f64,
}

/// What to do with one request, as drawn by [`FaultInjection::draw`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Answer normally.
    None,
    /// Answer HTTP 500 with an internal-error fault.
    Fail,
    /// Close the connection without a response.
    Drop,
}

impl FaultInjection {
    /// Checks that the rates are fractions.
    ///
    /// # Errors
    /// A message naming the bad option.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("--fail-rate", self.fail_rate),
            ("--drop-rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }

    /// Draws the fate of one request: dropped, failed or answered.
    pub fn draw(&self) -> Injected {
        if self.drop_rate <= 0.0 && self.fail_rate <= 0.0 {
            return Injected::None;
        }
        let mut rng = rand::rng();
        if self.drop_rate > 0.0 && rng.random_bool(self.drop_rate.min(1.0)) {
            Injected::Drop
        } else if self.fail_rate > 0.0 && rng.random_bool(self.fail_rate.min(1.0)) {
            Injected::Fail
        } else {
            Injected::None
        }
    }

    /// Sleeps for the configured latency (nothing when it is zero).
    pub async fn delay(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operations_quota_is_a_quota_limit_with_its_own_code() {
        let f = Fault::operations_quota(15);
        assert_eq!(f.kind.subcode(), "w:QuotaLimit");
        assert_eq!(f.kind.wsman_code(), 2_150_859_174);
        assert!(f
            .message
            .contains("maximum number of 15 concurrent operations"));
        assert_eq!(Fault::shell_quota(30).kind.wsman_code(), 2_150_859_173);
    }
}
