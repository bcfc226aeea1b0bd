//! The one table of every cmdlet and runner function cmdeploy calls: its name, where it runs
//! ([`RunsOn`]), whether it reads or writes ([`Access`]), and who may call it ([`Caller`]).
//!
//! The runner's allow-list is derived from it ([`super::runner::ALLOWED`]: every
//! [`Caller::Runner`] entry, in table order), and the lab dispatches on its [`Cmdlet`] values
//! (one `match` over the enum, so an entry without a lab implementation does not compile, and
//! the lab cannot implement a name the table lacks). A new cmdlet is one line here and its lab
//! implementation.

/// What a call needs the runner's prelude to have loaded ([`super::Target`]): where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsOn {
    /// The ConfigurationManager module and the site's CMSite drive: a site server (or SMS
    /// Provider) Script.
    SiteServer,
    /// The GroupPolicy and ActiveDirectory modules: a domain controller (or RSAT host) Script.
    DomainController,
    /// Nothing the prelude loads: the runner's own functions that work on any computer (a
    /// client host; `Test-CmdeployPushPrerequisites` on the site server).
    Host,
}

/// Whether a call changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It only reads.
    Read,
    /// It changes the estate.
    Write,
}

/// Who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// cmdeploy's runner: on the allow-list.
    Runner,
    /// Only an administrator at the lab's console (`cmdeploy lab console`, `lab serve`'s one-line
    /// statements), for changes made behind cmdeploy's back; the runner refuses it.
    Console,
}

/// One entry of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmdletInfo {
    /// The cmdlet as the lab dispatches it.
    pub cmdlet: Cmdlet,
    /// Its name as PowerShell spells it (`New-CMBoundaryGroup`).
    pub name: &'static str,
    /// Where it runs.
    pub runs_on: RunsOn,
    /// Read or write.
    pub access: Access,
    /// Runner or console.
    pub caller: Caller,
}

impl CmdletInfo {
    /// True for a function the runner defines itself (`*-Cmdeploy*`), bound by the runner's
    /// `param` block rather than by a module cmdlet.
    pub fn is_runner_function(&self) -> bool {
        self.name.contains("-Cmdeploy")
    }
}

macro_rules! cmdlet_table {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $on:ident, $access:ident, $caller:ident;)*) => {
        /// Every cmdlet and runner function of [`CMDLETS`], by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Cmdlet {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        /// The table, runner entries in allow-list order.
        pub const CMDLETS: &[CmdletInfo] = &[
            $(CmdletInfo {
                cmdlet: Cmdlet::$variant,
                name: $name,
                runs_on: RunsOn::$on,
                access: Access::$access,
                caller: Caller::$caller,
            },)*
        ];
    };
}

cmdlet_table! {
    // ConfigurationManager (the site drive)
    GetCmSite = "Get-CMSite", SiteServer, Read, Runner;
    GetCmBoundary = "Get-CMBoundary", SiteServer, Read, Runner;
    NewCmBoundary = "New-CMBoundary", SiteServer, Write, Runner;
    SetCmBoundary = "Set-CMBoundary", SiteServer, Write, Runner;
    RemoveCmBoundary = "Remove-CMBoundary", SiteServer, Write, Runner;
    GetCmBoundaryGroup = "Get-CMBoundaryGroup", SiteServer, Read, Runner;
    NewCmBoundaryGroup = "New-CMBoundaryGroup", SiteServer, Write, Runner;
    SetCmBoundaryGroup = "Set-CMBoundaryGroup", SiteServer, Write, Runner;
    RemoveCmBoundaryGroup = "Remove-CMBoundaryGroup", SiteServer, Write, Runner;
    AddCmBoundaryToGroup = "Add-CMBoundaryToGroup", SiteServer, Write, Runner;
    RemoveCmBoundaryFromGroup = "Remove-CMBoundaryFromGroup", SiteServer, Write, Runner;
    GetCmBoundaryGroupSiteSystem = "Get-CMBoundaryGroupSiteSystem", SiteServer, Read, Runner;
    GetCmBoundaryGroupRelationship = "Get-CMBoundaryGroupRelationship", SiteServer, Read, Runner;
    NewCmBoundaryGroupRelationship = "New-CMBoundaryGroupRelationship", SiteServer, Write, Runner;
    SetCmBoundaryGroupRelationship = "Set-CMBoundaryGroupRelationship", SiteServer, Write, Runner;
    RemoveCmBoundaryGroupRelationship = "Remove-CMBoundaryGroupRelationship", SiteServer, Write, Runner;
    GetCmAccount = "Get-CMAccount", SiteServer, Read, Runner;
    NewCmAccount = "New-CMAccount", SiteServer, Write, Runner;
    SetCmAccount = "Set-CMAccount", SiteServer, Write, Runner;
    RemoveCmAccount = "Remove-CMAccount", SiteServer, Write, Runner;
    GetCmClientPushInstallation = "Get-CMClientPushInstallation", SiteServer, Read, Runner;
    SetCmClientPushInstallation = "Set-CMClientPushInstallation", SiteServer, Write, Runner;
    GetCmSiteComponent = "Get-CMSiteComponent", SiteServer, Read, Runner;
    GetCmFallbackStatusPoint = "Get-CMFallbackStatusPoint", SiteServer, Read, Runner;
    AddCmFallbackStatusPoint = "Add-CMFallbackStatusPoint", SiteServer, Write, Runner;
    SetCmFallbackStatusPoint = "Set-CMFallbackStatusPoint", SiteServer, Write, Runner;
    RemoveCmFallbackStatusPoint = "Remove-CMFallbackStatusPoint", SiteServer, Write, Runner;
    SetCmSoftwareDistributionComponent = "Set-CMSoftwareDistributionComponent", SiteServer, Write, Runner;
    GetCmSoftwareUpdateBasedClientInstallation = "Get-CMSoftwareUpdateBasedClientInstallation", SiteServer, Read, Runner;
    SetCmSoftwareUpdateBasedClientInstallation = "Set-CMSoftwareUpdateBasedClientInstallation", SiteServer, Write, Runner;
    GetCmDevice = "Get-CMDevice", SiteServer, Read, Runner;
    RemoveCmDevice = "Remove-CMDevice", SiteServer, Write, Runner;
    InstallCmClient = "Install-CMClient", SiteServer, Write, Runner;
    GetCmDeviceCollection = "Get-CMDeviceCollection", SiteServer, Read, Runner;
    GetCmHierarchySetting = "Get-CMHierarchySetting", SiteServer, Read, Runner;
    SetCmHierarchySetting = "Set-CMHierarchySetting", SiteServer, Write, Runner;
    GetCmDiscoveryMethod = "Get-CMDiscoveryMethod", SiteServer, Read, Runner;
    SetCmDiscoveryMethod = "Set-CMDiscoveryMethod", SiteServer, Write, Runner;
    BlockCmDevice = "Block-CMDevice", SiteServer, Write, Runner;
    UnblockCmDevice = "Unblock-CMDevice", SiteServer, Write, Runner;
    GetCmPackage = "Get-CMPackage", SiteServer, Read, Runner;
    NewCmPackage = "New-CMPackage", SiteServer, Write, Runner;
    SetCmPackage = "Set-CMPackage", SiteServer, Write, Runner;
    RemoveCmPackage = "Remove-CMPackage", SiteServer, Write, Runner;
    NewCmPackageDeployment = "New-CMPackageDeployment", SiteServer, Write, Runner;
    ApproveCmDevice = "Approve-CMDevice", SiteServer, Write, Runner;
    GetCmConflictingRecord = "Get-CMConflictingRecord", SiteServer, Read, Runner;
    MergeCmConflictingRecord = "Merge-CMConflictingRecord", SiteServer, Write, Runner;
    BlockCmConflictingRecord = "Block-CMConflictingRecord", SiteServer, Write, Runner;
    GetCmPackageDeployment = "Get-CMPackageDeployment", SiteServer, Read, Runner;
    RemoveCmPackageDeployment = "Remove-CMPackageDeployment", SiteServer, Write, Runner;
    GetCmProgram = "Get-CMProgram", SiteServer, Read, Runner;
    NewCmProgram = "New-CMProgram", SiteServer, Write, Runner;
    SetCmProgram = "Set-CMProgram", SiteServer, Write, Runner;
    StartCmContentDistribution = "Start-CMContentDistribution", SiteServer, Write, Runner;
    GetCmDeploymentPackage = "Get-CMDeploymentPackage", SiteServer, Read, Runner;
    GetCmSoftwareUpdatePoint = "Get-CMSoftwareUpdatePoint", SiteServer, Read, Runner;
    GetCmDistributionPoint = "Get-CMDistributionPoint", SiteServer, Read, Runner;
    GetCmManagementPoint = "Get-CMManagementPoint", SiteServer, Read, Runner;
    AddCmSoftwareUpdatePoint = "Add-CMSoftwareUpdatePoint", SiteServer, Write, Runner;
    SetCmSoftwareUpdatePoint = "Set-CMSoftwareUpdatePoint", SiteServer, Write, Runner;
    RemoveCmSoftwareUpdatePoint = "Remove-CMSoftwareUpdatePoint", SiteServer, Write, Runner;
    // ActiveDirectory (read only: replication sites and subnets as data sources)
    GetAdReplicationSite = "Get-ADReplicationSite", DomainController, Read, Runner;
    GetAdReplicationSubnet = "Get-ADReplicationSubnet", DomainController, Read, Runner;
    // GroupPolicy
    GetGpo = "Get-GPO", DomainController, Read, Runner;
    NewGpo = "New-GPO", DomainController, Write, Runner;
    RemoveGpo = "Remove-GPO", DomainController, Write, Runner;
    GetGpRegistryValue = "Get-GPRegistryValue", DomainController, Read, Runner;
    SetGpRegistryValue = "Set-GPRegistryValue", DomainController, Write, Runner;
    RemoveGpRegistryValue = "Remove-GPRegistryValue", DomainController, Write, Runner;
    GetGpInheritance = "Get-GPInheritance", DomainController, Read, Runner;
    GetGpoReport = "Get-GPOReport", DomainController, Read, Runner;
    NewGpLink = "New-GPLink", DomainController, Write, Runner;
    RemoveGpLink = "Remove-GPLink", DomainController, Write, Runner;
    // The runner's own functions
    GetCmdeployClientState = "Get-CmdeployClientState", Host, Read, Runner;
    InstallCmdeployClient = "Install-CmdeployClient", Host, Write, Runner;
    GetCmdeployInstallResult = "Get-CmdeployInstallResult", Host, Read, Runner;
    StopCmdeployClientService = "Stop-CmdeployClientService", Host, Write, Runner;
    RemoveCmdeploySmsCfg = "Remove-CmdeploySmsCfg", Host, Write, Runner;
    RemoveCmdeployCertificates = "Remove-CmdeployCertificates", Host, Write, Runner;
    RemoveCmdeployTrustedRootKey = "Remove-CmdeployTrustedRootKey", Host, Write, Runner;
    SetCmdeployInternetManagementPoint = "Set-CmdeployInternetManagementPoint", Host, Write, Runner;
    TestCmdeployPushPrerequisites = "Test-CmdeployPushPrerequisites", Host, Read, Runner;
    GetCmdeployPushLog = "Get-CmdeployPushLog", SiteServer, Read, Runner;
    GetCmdeploySiteControlProperty = "Get-CmdeploySiteControlProperty", SiteServer, Read, Runner;
    GetCmdeploySitePublishing = "Get-CmdeploySitePublishing", SiteServer, Read, Runner;
    SetCmdeploySitePublishing = "Set-CmdeploySitePublishing", SiteServer, Write, Runner;
    GetCmdeployProviderSite = "Get-CmdeployProviderSite", Host, Read, Runner;
    // The lab's console only: what an administrator does behind cmdeploy's back in tests
    RemoveCmProgram = "Remove-CMProgram", SiteServer, Write, Console;
    RemoveCmContentDistribution = "Remove-CMContentDistribution", SiteServer, Write, Console;
    SetGpLink = "Set-GPLink", DomainController, Write, Console;
}

impl Cmdlet {
    /// Its entry in [`CMDLETS`].
    pub fn info(self) -> &'static CmdletInfo {
        // The macro declares the variants and the entries in the same order.
        &CMDLETS[self as usize]
    }

    /// Its name as PowerShell spells it.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// The entry of `name`, matched as PowerShell matches command names (case-insensitive), or
/// `None` for a name the table lacks.
pub fn find(name: &str) -> Option<&'static CmdletInfo> {
    CMDLETS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_each_variant_finds_its_own_entry() {
        for (i, c) in CMDLETS.iter().enumerate() {
            assert_eq!(find(c.name).map(|f| f.cmdlet), Some(c.cmdlet), "{}", c.name);
            assert_eq!(
                find(&c.name.to_ascii_lowercase()).map(|f| f.cmdlet),
                Some(c.cmdlet)
            );
            assert_eq!(c.cmdlet.info(), c);
            assert!(CMDLETS[..i]
                .iter()
                .all(|o| !o.name.eq_ignore_ascii_case(c.name)));
        }
        assert!(find("Invoke-Expression").is_none());
    }

    #[test]
    fn gets_and_tests_read_and_every_other_verb_writes() {
        for c in CMDLETS {
            let reads = c.name.starts_with("Get-") || c.name.starts_with("Test-");
            assert_eq!(c.access == Access::Read, reads, "{}", c.name);
        }
    }
}
