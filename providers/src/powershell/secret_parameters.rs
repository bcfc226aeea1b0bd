//! Parameters whose type is `SecureString` or `PSCredential` in the cmdlet reference
//! (shared/reference/cmdlets.json, from Microsoft's PowerShell reference): their values are
//! secrets wherever they appear, whatever a caller marked. A test checks this table against the
//! reference, so a cmdlet added there cannot slip through.

/// `(cmdlet, parameter, aliases)` of every secret-typed parameter in the cmdlet reference.
pub const SECRET_PARAMETERS: &[(&str, &str, &[&str])] = &[
    ("Add-CMDistributionPoint", "CertificatePassword", &[]),
    (
        "Add-CMDistributionPoint",
        "PxePassword",
        &["ComputersUsePxePassword"],
    ),
    ("Get-ADComputer", "Credential", &[]),
    ("Get-ADReplicationSite", "Credential", &[]),
    ("Get-ADReplicationSubnet", "Credential", &[]),
    ("New-CMAccount", "Password", &[]),
    ("New-CMActiveDirectoryForest", "Password", &[]),
    ("Set-CMAccount", "Password", &[]),
    ("Set-CMActiveDirectoryForest", "Password", &[]),
    ("Set-CMDistributionPoint", "CertificatePassword", &[]),
    (
        "Set-CMDistributionPoint",
        "PxePassword",
        &["ComputersUsePxePassword"],
    ),
];

/// Whether `name`, as written after `-` in a call to `cmdlet`, binds to a secret-typed parameter.
/// PowerShell binds a parameter by its name, an alias, or any unambiguous prefix of either, all
/// case-insensitive (about_Parameters: "you can abbreviate a parameter name as long as the
/// abbreviation is unique"); a prefix is treated as secret even when it would be ambiguous, so a
/// typed abbreviation never reaches a log.
pub fn is_secret(cmdlet: &str, name: &str) -> bool {
    let name = name.trim_start_matches('-');
    if name.is_empty() {
        return false;
    }
    let prefix_of = |full: &str| {
        full.len() >= name.len()
            && full.is_char_boundary(name.len())
            && full[..name.len()].eq_ignore_ascii_case(name)
    };
    SECRET_PARAMETERS
        .iter()
        .filter(|(c, _, _)| c.eq_ignore_ascii_case(cmdlet))
        .any(|(_, parameter, aliases)| prefix_of(parameter) || aliases.iter().any(|a| prefix_of(a)))
}

#[cfg(test)]
mod tests {
    use super::is_secret;

    #[test]
    fn names_aliases_and_prefixes_bind_to_secret_parameters() {
        assert!(is_secret("New-CMAccount", "Password"));
        assert!(is_secret("new-cmaccount", "-PASS"));
        assert!(is_secret("Set-CMDistributionPoint", "ComputersUsePxe"));
        assert!(!is_secret("New-CMAccount", "UserName"));
        assert!(!is_secret("New-CMBoundary", "Password"));
        assert!(!is_secret("New-CMAccount", ""));
    }
}
