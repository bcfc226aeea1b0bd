//! The runner: one reviewed PowerShell script (a minijinja template, `templates/runner.ps1.j2`,
//! rendered once with the cmdlet allow-list) that executes a JSON payload of calls.
//!
//! On the wire only a small bootstrap goes on the command line (Windows caps it at 8191
//! characters); the runner and the payload, secrets included, travel on stdin as one document:
//! the runner text, a line `#CMDEPLOY-PAYLOAD#`, then the payload JSON. The lab checks that the
//! runner part is exactly ours (byte for byte; [`runner_sha256`] names it) before executing the payload.

use std::sync::{LazyLock, OnceLock};

use sha2::{Digest, Sha256};

use super::call::Script;
use super::cmdlets::{Caller, CMDLETS};

/// Separator line between the runner and the payload on stdin.
pub const PAYLOAD_MARKER: &str = "#CMDEPLOY-PAYLOAD#";

/// The bootstrap run with `powershell.exe -NoProfile -NonInteractive -EncodedCommand`: it reads
/// stdin, splits runner and payload, and runs the runner with `$CmdeployPayload` set.
///
/// A WinRS shell decodes stdin and encodes stdout in the server's OEM code page (437 on en-US)
/// unless the Create request sets `WINRS_CODEPAGE` in its header, which winrm-rs 1.1.2 does not
/// (windows-runtime.md §2). So the bootstrap sets `[Console]::InputEncoding` to UTF-8 without a
/// BOM before its first read (setting it later would lose buffered input; referencesource
/// `console.cs`), and writes the runner's output as UTF-8 bytes straight to
/// `[Console]::OpenStandardOutput()`, which no console encoding touches. The client sends
/// UTF-8 without a BOM.
pub const BOOTSTRAP: &str = "[Console]::InputEncoding=New-Object Text.UTF8Encoding $false;$d=[Console]::In.ReadToEnd();$i=$d.IndexOf('#CMDEPLOY-PAYLOAD#');$CmdeployPayload=$d.Substring($i+18);$o=(. ([scriptblock]::Create($d.Substring(0,$i)))) -join \"`r`n\";$b=[Text.Encoding]::UTF8.GetBytes($o+\"`r`n\");$s=[Console]::OpenStandardOutput();$s.Write($b,0,$b.Length);$s.Flush()";

/// Every cmdlet and runner function a provider may call, in table order: the
/// [`Caller::Runner`] entries of the cmdlet table ([`super::cmdlets::CMDLETS`]). The runner
/// refuses anything else.
pub static ALLOWED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    CMDLETS
        .iter()
        .filter(|c| c.caller == Caller::Runner)
        .map(|c| c.name)
        .collect()
});

/// The runner template source.
pub const TEMPLATE: &str = include_str!("../../templates/runner.ps1.j2");

/// The rendered runner (cached).
pub fn runner() -> &'static str {
    static RUNNER: OnceLock<String> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        env.render_str(TEMPLATE, minijinja::context! { allowed => &*ALLOWED })
            .expect("the runner template renders")
    })
}

/// SHA-256 (hex) of the rendered runner: how the lab recognises our runner.
pub fn runner_sha256() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hex::encode(Sha256::digest(runner().as_bytes())))
}

/// The stdin document for a script: runner, marker line, payload.
pub fn stdin_document(script: &Script) -> String {
    document(&script.payload())
}

/// The stdin document for an already serialized payload (`Script::payload`).
pub fn document(payload: &str) -> String {
    format!("{}\n{PAYLOAD_MARKER}{payload}", runner())
}

/// Splits a stdin document into runner and payload.
///
/// # Errors
/// A message when the marker is missing.
pub fn split_stdin(document: &str) -> Result<(&str, &str), String> {
    let i = document
        .find(PAYLOAD_MARKER)
        .ok_or_else(|| "stdin holds no cmdeploy payload marker".to_string())?;
    let runner = document[..i].strip_suffix('\n').unwrap_or(&document[..i]);
    Ok((runner, &document[i + PAYLOAD_MARKER.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::powershell::call::{Call, Target};

    #[test]
    fn console_only_cmdlets_are_off_the_allow_list() {
        let console: Vec<_> = CMDLETS
            .iter()
            .filter(|c| c.caller == Caller::Console)
            .collect();
        assert!(!console.is_empty());
        for c in console {
            assert!(!ALLOWED.contains(&c.name), "{}", c.name);
            assert!(!runner().contains(&format!("'{}'", c.name)), "{}", c.name);
        }
    }

    #[test]
    fn runner_lists_every_allowed_cmdlet_and_splits_back() {
        for name in ALLOWED.iter() {
            assert!(runner().contains(&format!("'{name}'")), "{name}");
        }
        let mut s = Script::new(Target::Host);
        s.push(Call::new("Get-CmdeployClientState"));
        let doc = stdin_document(&s);
        let (r, p) = split_stdin(&doc).unwrap();
        assert_eq!(r, runner());
        assert_eq!(p, s.payload());
    }

    #[test]
    fn bootstrap_fits_on_a_command_line() {
        // powershell.exe -EncodedCommand takes base64 of UTF-16LE: 8/3 characters per character.
        assert!(BOOTSTRAP.len() * 8 / 3 + 80 < 8191);
        assert_eq!(PAYLOAD_MARKER.len(), 18);
    }
}
