//! Rendering: [`CommandLine`] → text, every `/` parameter before any property.

use std::borrow::Cow;

use super::model::{CommandLine, Parameter, Program, Property};

/// Quote `v` when it is empty or contains whitespace or `"` ([`crate::quote::msi::value`]).
pub(crate) fn quote(v: &str) -> Cow<'_, str> {
    crate::quote::msi::value(v)
}

/// Quote a name or program path when it contains whitespace, `"`, or one of `special`.
fn quote_if<'a>(v: &'a str, special: &[char]) -> Cow<'a, str> {
    if v.chars().any(|c| special.contains(&c)) {
        Cow::Owned(quote_always(v))
    } else {
        quote(v)
    }
}

fn quote_always(v: &str) -> String {
    crate::quote::msi::always(v)
}

impl Parameter {
    /// `/name` or `/name:value` (value quoted when needed).
    pub fn render(&self) -> String {
        match &self.value {
            None => format!("/{}", quote_if(&self.name, &[':'])),
            Some(v) => format!("/{}:{}", quote_if(&self.name, &[':']), quote(v)),
        }
    }
}

impl Property {
    /// `NAME=value` (value quoted when needed).
    pub fn render(&self) -> String {
        let name = if self.name.starts_with('/') {
            Cow::Owned(quote_always(&self.name))
        } else {
            quote_if(&self.name, &['='])
        };
        format!("{name}={}", quote(&self.value))
    }
}

/// CCMSetup parameters whose value is a credential: `/regtoken` is a bulk registration token,
/// with which a device authenticates to the site through a cloud management gateway
/// (configmgr.md §2, `/regtoken`; memdocs `about-client-installation-properties.md`).
pub const SENSITIVE_PARAMETERS: &[&str] = &["regtoken"];

impl CommandLine {
    /// The same command line with the value of every [`SENSITIVE_PARAMETERS`] entry replaced by
    /// `(sensitive)`: what plans, logs and errors may show.
    pub fn masked(&self) -> CommandLine {
        let mut out = self.clone();
        for p in &mut out.parameters {
            let secret = SENSITIVE_PARAMETERS
                .iter()
                .any(|s| p.name.eq_ignore_ascii_case(s));
            if secret && p.value.is_some() {
                p.value = Some("(sensitive)".into());
            }
        }
        out
    }

    /// The arguments only (no program): parameters, then properties, space-separated.
    /// This is the shape of push installation properties and GPO `SetupParameters`.
    pub fn render_args(&self) -> String {
        let parts: Vec<String> = self
            .parameters
            .iter()
            .map(Parameter::render)
            .chain(self.properties.iter().map(Property::render))
            .collect();
        parts.join(" ")
    }

    /// Render the whole command line. Every `/` parameter comes before any property;
    /// values are double-quoted only when empty or containing whitespace or `"`.
    /// For [`Program::Msi`] the arguments go inside `CCMSETUPCMD="..."` with inner quotes
    /// doubled. `parse(&x.render()).command_line == x` for any command line whose names are
    /// canonical and tokenisable (no whitespace, `"`, `:` in parameter names, `=` in
    /// property names).
    pub fn render(&self) -> String {
        let args = self.render_args();
        let join = |head: String| {
            if args.is_empty() {
                head
            } else {
                format!("{head} {args}")
            }
        };
        match &self.program {
            Program::Bare => args.clone(),
            Program::Exe { path } => join(quote_if(path, &['=']).into_owned()),
            Program::Tcf => join("Install=INSTALL=ALL".to_string()),
            Program::Msi { path } => {
                let cmd = format!("CCMSETUPCMD={}", quote_always(&args));
                match path {
                    Some(p) => format!("{} {cmd}", quote_if(p, &['='])),
                    None => cmd,
                }
            }
        }
    }
}
