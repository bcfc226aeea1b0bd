//! Argument access for the lab's cmdlets, with PowerShell's own binding errors.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// An error raised by a lab cmdlet: ConfigMgr's (or PowerShell's) message and category.
#[derive(Debug, Clone, PartialEq)]
pub struct CmdError {
    /// The message, in the product's words.
    pub message: String,
    /// PowerShell error category (`InvalidArgument`, `ObjectNotFound`, `ResourceExists`...).
    pub category: String,
}

impl CmdError {
    /// A new error.
    pub fn new(category: &str, message: impl Into<String>) -> CmdError {
        CmdError {
            message: message.into(),
            category: category.into(),
        }
    }
}

/// Result of a lab cmdlet: its output as JSON.
pub type CmdResult = Result<Value, CmdError>;

/// Named arguments of one call, matched case-insensitively; [`Args::finish`] rejects any that no
/// accessor asked for, as PowerShell's binder would.
pub struct Args<'a> {
    cmdlet: &'a str,
    map: &'a Map<String, Value>,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Args<'a> {
    /// Wraps a call's arguments.
    pub fn new(cmdlet: &'a str, map: &'a Map<String, Value>) -> Args<'a> {
        Args {
            cmdlet,
            map,
            used: RefCell::new(BTreeSet::new()),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        let (k, v) = self
            .map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        self.used.borrow_mut().insert(k.to_lowercase());
        Some(v)
    }

    /// A parameter's JSON value as given (for values whose shape depends on another parameter,
    /// like `Set-GPRegistryValue -Value` with `-Type`).
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    /// Marks parameters as accepted without reading them (`-Force`, `-Confirm`).
    pub fn accept(&self, names: &[&str]) {
        for n in names {
            let _ = self.get(n);
        }
    }

    /// True when the parameter was given.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// An optional string (numbers are converted as PowerShell would).
    pub fn opt_str(&self, name: &str) -> Result<Option<String>, CmdError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.into())),
            Some(other) => Err(self.bind_error(name, other, "System.String")),
        }
    }

    /// A mandatory string.
    pub fn str(&self, name: &str) -> Result<String, CmdError> {
        self.opt_str(name)?.ok_or_else(|| {
            CmdError::new(
                "InvalidArgument",
                format!("{}: Cannot process command because of one or more missing mandatory parameters: {name}.", self.cmdlet),
            )
        })
    }

    /// True when the parameter is given as null (clears a value).
    pub fn is_null(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Null))
    }

    /// An optional Boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, CmdError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.bind_error(name, other, "System.Boolean")),
        }
    }

    /// An optional integer.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, CmdError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| self.bind_error(name, &Value::String(s.clone()), "System.Int32")),
            Some(other) => Err(self.bind_error(name, other, "System.Int32")),
        }
    }

    /// An optional list of strings (a single string counts as a list of one).
    pub fn opt_strs(&self, name: &str) -> Result<Option<Vec<String>>, CmdError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.bind_error(name, other, "System.String[]")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.bind_error(name, other, "System.String[]")),
        }
    }

    fn bind_error(&self, name: &str, value: &Value, ty: &str) -> CmdError {
        CmdError::new(
            "InvalidArgument",
            format!("{}: Cannot bind parameter '{name}'. Cannot convert value \"{value}\" to type \"{ty}\".", self.cmdlet),
        )
    }

    /// Fails on parameters no accessor asked for.
    pub fn finish(&self) -> Result<(), CmdError> {
        let used = self.used.borrow();
        match self.map.keys().find(|k| !used.contains(&k.to_lowercase())) {
            Some(unknown) => Err(CmdError::new(
                "InvalidArgument",
                format!(
                    "{}: A parameter cannot be found that matches parameter name '{unknown}'.",
                    self.cmdlet
                ),
            )),
            None => Ok(()),
        }
    }
}
