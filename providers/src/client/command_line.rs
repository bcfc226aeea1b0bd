//! The CCMSetup command line a client target runs, as a plan shows it: the runner starts
//! `ccmsetup.exe` from the target's `source` folder with the arguments the CCMSetup model
//! rendered (`Install-CmdeployClient`, providers/templates/runner.ps1.j2), and a reinstall of an
//! installed client adds `/forceinstall`. Credentials (`/regtoken`) are masked.

use std::borrow::Cow;

use cmdeploy_engine::resource::Resource;
use serde_json::Value;

use crate::ccmsetup::{self, Program};

/// `<source>\ccmsetup.exe <arguments>` with secrets masked as `(sensitive)`, from a resource's
/// `source` and `command_line` meta (the arguments as the kind rendered them at decode, already
/// masked there; masked again in case a kind stored them whole).
/// `reinstall` prefixes `/forceinstall`, as apply does for an installed client.
pub fn shown(desired: &Resource, reinstall: bool) -> String {
    let meta = |k: &str| desired.meta.get(k).and_then(Value::as_str).unwrap_or("");
    let args: Cow<'_, str> = if reinstall {
        Cow::Owned(format!("/forceinstall {}", meta("command_line")))
    } else {
        Cow::Borrowed(meta("command_line"))
    };
    let mut line = ccmsetup::parse(args.trim()).command_line.masked();
    let source = meta("source").trim_end_matches('\\');
    line.program = Program::Exe {
        path: if source.is_empty() {
            "ccmsetup.exe".into()
        } else {
            format!("{source}\\ccmsetup.exe")
        },
    };
    line.render()
}
