//! Core types: the command line model, contexts and findings.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// The program token that starts a command line, if any.
///
/// Shapes (from `configmgr.md` §1.1/§1.2 and the `/config` tcf format):
/// `CCMSetup.exe ...`, `C:\Windows\ccmsetup\ccmsetup.exe ...`, `ccmsetup.msi CCMSETUPCMD="..."`,
/// a bare `CCMSETUPCMD="..."` (the Intune command-line field), `Install=INSTALL=ALL ...`
/// (the `[Client Install]` line of a `mobileclienttemplate.tcf`-style file), or nothing at all
/// (push installation properties, GPO `SetupParameters`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Program {
    /// No program token: a bare argument string (push, GPO `SetupParameters`).
    #[default]
    Bare,
    /// `ccmsetup.exe`, with the path exactly as written (quotes removed), e.g. `CCMSetup.exe`
    /// or `C:\Windows\ccmsetup\ccmsetup.exe`.
    Exe {
        /// Path as written.
        path: String,
    },
    /// The `ccmsetup.msi` bootstrap; the parameters and properties live in `CCMSETUPCMD="..."`.
    /// `path` is `None` when the text was only `CCMSETUPCMD="..."`.
    Msi {
        /// Path of `ccmsetup.msi` as written, if present.
        path: Option<String>,
    },
    /// `Install=INSTALL=ALL` prefix of a `/config:` file line (properties only).
    Tcf,
}

/// One `/name[:value]` ccmsetup parameter.
///
/// `name` is canonical (documented casing, e.g. `UsePKICert`, `mp`, `source`) for known
/// parameters and as written otherwise. `value` is `None` for `/name`, `Some("")` for
/// `/name:`, and the unquoted text after the first `:` otherwise. `span` is the byte range
/// of the whole token in the original text (`0..0` when built in code).
///
/// Equality ignores `span` and `written` (they are provenance, not meaning).
#[derive(Debug, Clone, Eq)]
pub struct Parameter {
    /// Canonical name without the leading `/`.
    pub name: String,
    /// Value after `:`, quotes removed.
    pub value: Option<String>,
    /// Byte span of the token in the parsed text.
    pub span: Range<usize>,
    /// The name as written, when its casing differed from `name`.
    pub written: Option<String>,
}

/// One `NAME=value` client.msi property.
///
/// `name` is upper case; `value` is the unquoted text after the first `=` (`""` for
/// `NAME=` or `NAME=""`). `span` is the byte range of the whole token in the original text.
///
/// Equality ignores `span` and `written`.
#[derive(Debug, Clone, Eq)]
pub struct Property {
    /// Upper-case property name.
    pub name: String,
    /// Value, quotes removed.
    pub value: String,
    /// Byte span of the token in the parsed text.
    pub span: Range<usize>,
    /// The name as written, when it was not upper case (e.g. `SMSSiteCode`).
    pub written: Option<String>,
}

impl Parameter {
    /// A parameter built in code (empty span, canonical casing).
    pub fn new(name: impl Into<String>, value: Option<String>) -> Self {
        Self {
            name: name.into(),
            value,
            span: 0..0,
            written: None,
        }
    }
}

impl Property {
    /// A property built in code (empty span, name as given).
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            span: 0..0,
            written: None,
        }
    }
}

impl PartialEq for Parameter {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl PartialEq for Property {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

/// A CCMSetup command line: program, `/` parameters (in order) and client.msi properties
/// (in order). Rendering always puts every parameter before any property (`configmgr.md` §1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// Leading program token.
    pub program: Program,
    /// ccmsetup `/` parameters.
    pub parameters: Vec<Parameter>,
    /// client.msi properties.
    pub properties: Vec<Property>,
}

impl CommandLine {
    /// First parameter with this name (case-insensitive).
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// All values of a parameter (e.g. every `/source`).
    pub fn parameter_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.parameters
            .iter()
            .filter(move |p| p.name.eq_ignore_ascii_case(name))
            .filter_map(|p| p.value.as_deref())
    }

    /// Whether a parameter is present (case-insensitive).
    pub fn has_parameter(&self, name: &str) -> bool {
        self.parameter(name).is_some()
    }

    /// First property with this name (case-insensitive).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Value of the first property with this name.
    pub fn property_value(&self, name: &str) -> Option<&str> {
        self.property(name).map(|p| p.value.as_str())
    }
}

/// Where a command line is used; selects extra rules in [`crate::ccmsetup::check`].
///
/// Serialised and parsed (`FromStr`, clap-friendly) as the lower-case variant name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// Client push installation properties: only the documented `/` subset (§1.2, rule 13).
    Push,
    /// GPO `SetupParameters` (ConfigMgrInstallation.adm, MAXLEN 255, rule 16).
    Gpo,
    /// Manual install on a domain computer.
    Manual,
    /// Workgroup computer: needs a way to find the site (rule 8).
    Workgroup,
    /// Internet-based client: explicit site code, CCMHOSTNAME, PKI, signing cert, /source (rule 6).
    Internet,
    /// Intune / co-management `CCMSETUPCMD` (1024-character cap).
    Intune,
}

impl Context {
    /// Every context, in declaration order.
    pub const ALL: [Context; 6] = [
        Context::Push,
        Context::Gpo,
        Context::Manual,
        Context::Workgroup,
        Context::Internet,
        Context::Intune,
    ];

    /// Lower-case name (`push`, `gpo`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Push => "push",
            Context::Gpo => "gpo",
            Context::Manual => "manual",
            Context::Workgroup => "workgroup",
            Context::Internet => "internet",
            Context::Intune => "intune",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned by `Context::from_str` for an unknown name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseContextError(pub String);

impl fmt::Display for ParseContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown context `{}` (expected one of: push, gpo, manual, workgroup, internet, intune)",
            self.0
        )
    }
}

impl std::error::Error for ParseContextError {}

impl FromStr for Context {
    type Err = ParseContextError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Context::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseContextError(s.to_string()))
    }
}

/// Severity of a [`Finding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The command line is wrong or will not do what it says.
    Error,
    /// Suspicious, legacy or context-dependent; works in some cases.
    Warning,
}

/// One diagnostic. `code` is a stable string from [`crate::ccmsetup::codes`];
/// `span` is a byte range into the checked text when known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `cmdeploy::ccmsetup::order`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Suggested fix (did-you-mean, expected form, ...).
    pub help: Option<String>,
    /// Byte range of the offending token in the checked text.
    pub span: Option<Range<usize>>,
}

impl Finding {
    /// An error finding.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            help: None,
            span: None,
        }
    }

    /// A warning finding.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            message: message.into(),
            help: None,
            span: None,
        }
    }

    /// Attach a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attach a span (ignored when empty, i.e. built in code).
    pub fn with_span(mut self, span: Range<usize>) -> Self {
        if span.start < span.end {
            self.span = Some(span);
        }
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
