//! The client version published to the software update point versus the site's client version.
//!
//! Software update-based installation publishes the site's client to the software update point
//! once; after a site upgrade the published client is older and the console offers "Later
//! Version of Client Package Detected" — publish again (deploy-clients-to-windows-computers.md,
//! "To publish the Configuration Manager client to the software update point", step 6;
//! configmgr.md §2.7, §6 rule 14).

/// True when `published` (e.g. `5.00.9122.1000`; "" = never published) is at least `site`'s
/// client version. Versions compare numerically part by part; an unreadable site version counts
/// as current (nothing to compare with).
pub fn is_current(published: &str, site: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u64>> {
        v.trim()
            .split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<u64>>>()
    };
    match (parse(published), parse(site)) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(p), Some(s)) => p >= s,
    }
}

/// The plan note for an outdated (or never published) client.
pub fn later_version_note(published: &str, site: &str) -> String {
    let held = if published.is_empty() {
        "no client".to_string()
    } else {
        format!("client {published}")
    };
    format!("Later Version of Client Package Detected: the site's client is {site}, the software update point holds {held}; apply publishes the current client again (Set-CMSoftwareUpdateBasedClientInstallation -EnableWsus $true)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(is_current("5.00.9128.1000", "5.00.9128.1000"));
        assert!(is_current("5.00.10000.1000", "5.00.9128.1000"));
        assert!(!is_current("5.00.9122.1000", "5.00.9128.1000"));
        assert!(!is_current("", "5.00.9128.1000"));
        assert!(is_current("", ""));
        assert!(later_version_note("", "5.00.9128.1000").contains("no client"));
    }
}
