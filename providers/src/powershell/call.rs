//! Calls and Scripts: the IR every provider builds instead of PowerShell text.
//!
//! A [`Call`] is one cmdlet with named arguments (JSON values); a [`Script`] is an ordered list of
//! calls for one connection plus the [`Target`] that says which module the runner must load.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use cmdeploy_engine::secret::SecretValue;

/// One cmdlet invocation, splatted by the runner: `& $cmdlet @args`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Cmdlet name, e.g. `New-CMBoundaryGroup` (checked against the runner's allow-list).
    pub cmdlet: String,
    /// Named arguments. Booleans are `true`/`false`, switches only `true`, `null` clears a value.
    pub args: Map<String, Value>,
    /// Names of arguments that are secrets: the runner converts them with
    /// `ConvertTo-SecureString -AsPlainText -Force`. Their values never leave the payload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret: Vec<String>,
    /// The operation this call belongs to in a batched write Script: when a call with a group
    /// fails, the runner skips the later calls of the same group and goes on with the others
    /// (one operation's failure never stops its independent siblings). `None`: a failure of a
    /// write Script (`stop_on_error`) stops the whole Script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
    /// A read whose failure means "nothing there" ([`Call::absent_on_error`]). Never sent: the
    /// batch executor gives such a call a group of its own.
    #[serde(skip)]
    pub absent_on_error: bool,
}

impl Call {
    /// This call as entry `id` of a payload's `calls` array:
    /// `{"id", "cmdlet", "args", "secret"}`, plus `"group"` when it has one.
    pub fn payload_entry(&self, id: usize) -> PayloadCall {
        PayloadCall {
            id,
            cmdlet: self.cmdlet.clone(),
            args: self.args.clone(),
            secret: self.secret.clone(),
            group: self.group,
        }
    }

    /// The length in bytes of [`Call::payload_entry`] as JSON, for splitting Scripts.
    pub fn payload_len(&self, id: usize) -> usize {
        serde_json::to_string(&self.payload_entry(id)).map_or(0, |s| s.len())
    }

    /// A call without arguments.
    pub fn new(cmdlet: &str) -> Call {
        Call {
            cmdlet: cmdlet.to_string(),
            args: Map::new(),
            secret: Vec::new(),
            group: None,
            absent_on_error: false,
        }
    }

    /// Adds a named argument, replacing one of the same name in any case: parameter names are
    /// case-insensitive, and Windows PowerShell 5.1's `ConvertFrom-Json` refuses an object whose
    /// keys differ only in case (windows-runtime.md §5).
    pub fn arg(mut self, name: &str, value: impl Into<Value>) -> Call {
        self.args.retain(|k, _| !k.eq_ignore_ascii_case(name));
        self.args.insert(name.to_string(), value.into());
        self
    }

    /// Adds a named argument when `value` is `Some`.
    pub fn opt(self, name: &str, value: Option<impl Into<Value>>) -> Call {
        match value {
            Some(v) => self.arg(name, v),
            None => self,
        }
    }

    /// Marks a read whose failure means that nothing is there: `Get-GPRegistryValue` of a key a
    /// GPO holds no value under throws ("The following Group Policy registry setting was not
    /// found", Get-GPRegistryValue.md) instead of returning nothing. In a batched write Script
    /// ([`crate::batch`]) such a call runs in a group of its own, so its failure skips none of
    /// its operation's later calls, and its value is then `null` (no items).
    pub fn absent_on_error(mut self) -> Call {
        self.absent_on_error = true;
        self
    }

    /// Adds a switch (`-Force`).
    pub fn switch(self, name: &str) -> Call {
        self.arg(name, true)
    }

    /// Adds a secret argument (a SecureString parameter).
    pub fn secret(mut self, name: &str, value: &SecretValue) -> Call {
        self.args.retain(|k, _| !k.eq_ignore_ascii_case(name));
        self.args
            .insert(name.to_string(), Value::String(value.expose().to_string()));
        self.secret.push(name.to_string());
        self
    }

    /// The call with secret values replaced by `(sensitive)`, for logs and errors.
    pub fn redacted(&self) -> Call {
        let mut c = self.clone();
        for name in &self.secret {
            c.args
                .insert(name.clone(), Value::String("(sensitive)".into()));
        }
        c
    }
}

/// The document the runner reads from stdin after the runner text: what the product sends
/// ([`Script::payload`]) and what the lab reads, one type for both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Format version (1).
    pub version: u32,
    /// What the runner prepares.
    pub target: Target,
    /// Stop at the first failure of a call without a group.
    #[serde(default)]
    pub stop_on_error: bool,
    /// The calls, in order.
    pub calls: Vec<PayloadCall>,
    /// The host the Script is for, when the sender said (see [`Script::host`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// One call of a [`Payload`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayloadCall {
    /// Result id (the call's index in the Script).
    pub id: usize,
    /// Cmdlet, checked against the runner's allow-list.
    pub cmdlet: String,
    /// Arguments, splatted.
    #[serde(default)]
    pub args: Map<String, Value>,
    /// Names of secret arguments (converted to SecureString by the runner).
    #[serde(default)]
    pub secret: Vec<String>,
    /// The operation the call belongs to in a batched write (see [`Call::group`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
}

/// What the runner prepares before running calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// A site server (or SMS Provider): import the ConfigurationManager module and
    /// `Set-Location <code>:`.
    SiteServer {
        /// Site code of the drive to use.
        site_code: String,
    },
    /// A domain controller or RSAT host: import the GroupPolicy module.
    DomainController {
        /// DNS domain.
        domain: String,
    },
    /// A client host: only the runner's own host functions.
    Host,
}

/// An ordered list of calls for one connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    /// What to load first.
    pub target: Target,
    /// The calls, run in order; each gets its own result.
    pub calls: Vec<Call>,
    /// Stop at the first failing call (writes); reads run every call.
    #[serde(default)]
    pub stop_on_error: bool,
    /// The host the Script is for, carried in the payload (`"host"`) when set: the runner ignores
    /// it; `lab serve` uses it for a shell whose creator did not name its host, so that one
    /// WinRM client can serve every host with the same connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Script {
    /// An empty script for a target.
    pub fn new(target: Target) -> Script {
        Script {
            target,
            calls: Vec::new(),
            stop_on_error: false,
            host: None,
        }
    }

    /// Appends a call and returns its index (its result id).
    pub fn push(&mut self, call: Call) -> usize {
        self.calls.push(call);
        self.calls.len() - 1
    }

    /// The JSON payload sent to the runner on stdin ([`Payload`]).
    pub fn payload(&self) -> String {
        let payload = Payload {
            version: 1,
            target: self.target.clone(),
            stop_on_error: self.stop_on_error,
            calls: self
                .calls
                .iter()
                .enumerate()
                .map(|(id, c)| c.payload_entry(id))
                .collect(),
            host: self.host.clone(),
        };
        serde_json::to_string(&payload).expect("a payload serializes")
    }
}

/// The result of one call, as printed by the runner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// Index of the call.
    pub id: usize,
    /// True when the cmdlet did not throw.
    pub ok: bool,
    /// Output of the cmdlet (`ConvertTo-Json` of what it returned), when ok.
    #[serde(default)]
    pub value: Value,
    /// Error message, when not ok.
    #[serde(default)]
    pub error: Option<String>,
    /// PowerShell error category, when not ok.
    #[serde(default)]
    pub category: Option<String>,
}

/// The runner's output document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptOutput {
    /// One result per call that ran (the runner stops at the first failure of a write script).
    pub results: Vec<CallResult>,
}

impl ScriptOutput {
    /// The result of call `id`.
    pub fn get(&self, id: usize) -> Option<&CallResult> {
        // Results usually sit at their id; a batch whose group failed skipped some calls.
        self.results
            .get(id)
            .filter(|r| r.id == id)
            .or_else(|| self.results.iter().find(|r| r.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_parameter_whatever_its_case() {
        let c = Call::new("Get-CMDevice").arg("Name", "A").arg("name", "B");
        assert_eq!(c.args.len(), 1);
        assert_eq!(c.args.get("name"), Some(&Value::String("B".into())));
    }
}
