//! The runner: one reviewed PowerShell script (a minijinja template, `templates/runner.ps1.j2`,
//! rendered once with the cmdlet allow-list) that executes a JSON payload of calls.
//!
//! On the wire only a small bootstrap goes on the command line (Windows caps it at 8191
//! characters); the runner and the payload, secrets included, travel on stdin as one document:
//! the runner text, a line `#CMDEPLOY-PAYLOAD#`, then the payload JSON. The lab checks that the
//! runner part is exactly ours (byte for byte; [`runner_sha256`] names it) before executing the payload.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::call::Script;

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

/// Every cmdlet and runner function a provider may call. The runner refuses anything else.
pub const ALLOWED: &[&str] = &[
    // ConfigurationManager
    "Get-CMSite",
    "Get-CMBoundary",
    "New-CMBoundary",
    "Set-CMBoundary",
    "Remove-CMBoundary",
    "Get-CMBoundaryGroup",
    "New-CMBoundaryGroup",
    "Set-CMBoundaryGroup",
    "Remove-CMBoundaryGroup",
    "Add-CMBoundaryToGroup",
    "Remove-CMBoundaryFromGroup",
    "Get-CMBoundaryGroupSiteSystem",
    "Get-CMBoundaryGroupRelationship",
    "New-CMBoundaryGroupRelationship",
    "Set-CMBoundaryGroupRelationship",
    "Remove-CMBoundaryGroupRelationship",
    "Get-CMAccount",
    "New-CMAccount",
    "Set-CMAccount",
    "Remove-CMAccount",
    "Get-CMClientPushInstallation",
    "Set-CMClientPushInstallation",
    "Get-CMSiteComponent",
    "Get-CMFallbackStatusPoint",
    "Add-CMFallbackStatusPoint",
    "Set-CMFallbackStatusPoint",
    "Remove-CMFallbackStatusPoint",
    "Set-CMSoftwareDistributionComponent",
    "Get-CMSoftwareUpdateBasedClientInstallation",
    "Set-CMSoftwareUpdateBasedClientInstallation",
    "Get-CMDevice",
    "Remove-CMDevice",
    "Install-CMClient",
    "Get-CMDeviceCollection",
    "Get-CMHierarchySetting",
    "Set-CMHierarchySetting",
    "Get-CMDiscoveryMethod",
    "Set-CMDiscoveryMethod",
    "Block-CMDevice",
    "Unblock-CMDevice",
    "Get-CMPackage",
    "New-CMPackage",
    "Set-CMPackage",
    "Remove-CMPackage",
    "New-CMPackageDeployment",
    "Approve-CMDevice",
    "Get-CMConflictingRecord",
    "Merge-CMConflictingRecord",
    "Block-CMConflictingRecord",
    "Get-CMPackageDeployment",
    "Remove-CMPackageDeployment",
    "Get-CMProgram",
    "New-CMProgram",
    "Set-CMProgram",
    "Start-CMContentDistribution",
    "Get-CMDeploymentPackage",
    "Get-CMSoftwareUpdatePoint",
    "Get-CMDistributionPoint",
    "Get-CMManagementPoint",
    "Add-CMSoftwareUpdatePoint",
    "Set-CMSoftwareUpdatePoint",
    "Remove-CMSoftwareUpdatePoint",
    // ActiveDirectory (read only: replication sites and subnets as data sources)
    "Get-ADReplicationSite",
    "Get-ADReplicationSubnet",
    // GroupPolicy
    "Get-GPO",
    "New-GPO",
    "Remove-GPO",
    "Get-GPRegistryValue",
    "Set-GPRegistryValue",
    "Remove-GPRegistryValue",
    "Get-GPInheritance",
    "Get-GPOReport",
    "New-GPLink",
    "Remove-GPLink",
    // The runner's own host functions
    "Get-CmdeployClientState",
    "Install-CmdeployClient",
    "Get-CmdeployInstallResult",
    "Stop-CmdeployClientService",
    "Remove-CmdeploySmsCfg",
    "Remove-CmdeployCertificates",
    "Remove-CmdeployTrustedRootKey",
    "Set-CmdeployInternetManagementPoint",
    "Test-CmdeployPushPrerequisites",
    "Get-CmdeployPushLog",
    "Get-CmdeploySiteControlProperty",
    "Get-CmdeploySitePublishing",
    "Set-CmdeploySitePublishing",
    "Get-CmdeployProviderSite",
];

/// The runner template source.
pub const TEMPLATE: &str = include_str!("../../templates/runner.ps1.j2");

/// The rendered runner (cached).
pub fn runner() -> &'static str {
    static RUNNER: OnceLock<String> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        env.render_str(TEMPLATE, minijinja::context! { allowed => ALLOWED })
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
    fn runner_lists_every_allowed_cmdlet_and_splits_back() {
        for name in ALLOWED {
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
