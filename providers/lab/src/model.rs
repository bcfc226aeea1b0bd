//! The lab's model of an enterprise: domains, sites, boundaries, boundary groups, accounts, push
//! settings, GPOs and hosts. Serialized as JSON under `.cmdeploy/lab/estate.json`; seeded from a
//! TOML file (`lab.toml`) of the same shape, where passwords are secret references.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use cmdeploy_engine::secret::SecretRef;

pub use super::gpo_model::{Gpo, GpoLink, RegistrySetting};
pub use super::host_index::HostIndex;
pub use super::settings_model::{
    default_collections, ConflictingRecord, HierarchySettings, Package, Program,
    SoftwareUpdatePoint,
};

/// The whole estate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estate {
    /// Active Directory domains.
    #[serde(default, rename = "domain")]
    pub domains: Vec<Domain>,
    /// ConfigMgr sites of the hierarchy.
    #[serde(default, rename = "site")]
    pub sites: Vec<Site>,
    /// Boundaries (hierarchy-wide objects).
    #[serde(default, rename = "boundary")]
    pub boundaries: Vec<Boundary>,
    /// Boundary groups.
    #[serde(default, rename = "boundary_group")]
    pub boundary_groups: Vec<BoundaryGroup>,
    /// Boundary-group relationships (SMS_BoundaryGroupRelationships): fallback to neighbors.
    #[serde(default, rename = "boundary_group_relationship")]
    pub boundary_group_relationships: Vec<super::relationship_model::Relationship>,
    /// Group Policy objects.
    #[serde(default, rename = "gpo")]
    pub gpos: Vec<Gpo>,
    /// Computers.
    #[serde(default, rename = "host")]
    pub hosts: Vec<Host>,
    /// Next object id.
    #[serde(default = "first_id")]
    pub next_id: u64,
    /// Salt for password hashes (random per lab).
    #[serde(default)]
    pub salt: String,
    /// Scripts executed since the last reset (the figure the README reports).
    #[serde(default)]
    pub scripts_run: u64,
    /// How long the `ccmsetup` service takes to install, in seconds, after the bootstrap
    /// `ccmsetup.exe` exits (windows-runtime.md §8; durations are **unverified**, none is
    /// documented). `lab serve --ccmsetup-seconds` overrides it. Default 0: the install completes
    /// when the Script that started it ends.
    #[serde(default)]
    pub ccmsetup_seconds: f64,
    /// Which journal continues this estate file: the id on the first line of
    /// `estate.journal` (see [`super::journal`]); a new random id at every full write, so a
    /// journal left from an older estate file is never replayed onto this one. 0 in a seed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub journal: u64,
    /// Host lookup by name (not persisted; rebuilt when stale).
    #[serde(skip)]
    pub host_index: HostIndex,
    /// No `ccmsetup` service run finishes before this time (milliseconds since 1970), so
    /// `ccmsetup_service::settle` has nothing to do until then; `None`: unknown (after a
    /// load), the next settle scans the hosts. Not persisted. Kept by `ccmsetup_service`, the
    /// only place that starts a run, so a Script does not scan 38,000 hosts twice.
    #[serde(skip)]
    pub ccmsetup_quiet_until_ms: Option<i64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub(crate) fn first_id() -> u64 {
    16_777_217
}

/// An AD domain.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// DNS name, e.g. `contoso.com`.
    pub name: String,
    /// NetBIOS name, e.g. `CONTOSO`.
    pub netbios: String,
    /// Domain controllers (FQDNs).
    #[serde(default)]
    pub controllers: Vec<String>,
    /// OUs (distinguished names).
    #[serde(default)]
    pub ous: Vec<String>,
    /// Users (`DOMAIN\user`).
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    /// AD replication sites of the forest (`[[domain.ad_site]]`).
    #[serde(default, rename = "ad_site")]
    pub ad_sites: Vec<super::ad_model::AdSite>,
    /// AD replication subnets of the forest (`[[domain.ad_subnet]]`).
    #[serde(default, rename = "ad_subnet")]
    pub ad_subnets: Vec<super::ad_model::AdSubnet>,
}

/// An AD user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `DOMAIN\user`.
    pub name: String,
    /// In the seed: where the password is. Never persisted.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretRef>,
    /// Salted SHA-256 of the password (persisted instead of the password).
    #[serde(default)]
    pub password_hash: String,
    /// The NT hash (MD4 of the UTF-16LE password, hex), what a domain controller keeps to check
    /// NTLM logons ([MS-NLMP] 3.3.1 NTOWFv1); `lab serve` verifies NTLMv2 proofs with it, so no
    /// password crosses the wire. Empty: the user cannot log on with NTLM. It logs on as the
    /// password does, so `lab show` leaves it out ([`crate::show::without_credentials`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nt_hash: String,
}

/// A ConfigMgr site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site code.
    pub code: String,
    /// Site name.
    pub name: String,
    /// `primary`, `secondary` or `cas`.
    #[serde(rename = "type")]
    pub site_type: String,
    /// Parent site code.
    #[serde(default)]
    pub parent: Option<String>,
    /// Site server FQDN.
    pub server: String,
    /// Site version (`5.00.9128.1000`).
    #[serde(default = "default_version")]
    pub version: String,
    /// Management points (FQDNs).
    #[serde(default)]
    pub management_points: Vec<String>,
    /// Internet-facing management points (FQDNs).
    #[serde(default)]
    pub internet_management_points: Vec<String>,
    /// Fallback status point.
    #[serde(default)]
    pub fallback_status_point: Option<FallbackStatusPoint>,
    /// Network access accounts (user names).
    #[serde(default)]
    pub network_access_accounts: Vec<String>,
    /// Software update-based client installation enabled.
    #[serde(default)]
    pub software_update_installation: bool,
    /// Accounts known to the site.
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
    /// Client push settings (the two site components).
    #[serde(default)]
    pub push: PushSettings,
    /// Hierarchy settings (kept with the site that changed them).
    #[serde(default)]
    pub hierarchy: HierarchySettings,
    /// Active Directory System Discovery enabled (automatic push targets discovered resources).
    #[serde(default)]
    pub system_discovery: bool,
    /// Blocked devices (names).
    #[serde(default)]
    pub blocked_devices: Vec<String>,
    /// Devices an administrator approved (`Approve-CMDevice`; names).
    #[serde(default)]
    pub approved_devices: Vec<String>,
    /// Conflicting records waiting for an administrator (SMS_PendingRegistrationRecord): a
    /// client re-registered with the same hardware ID and a new certificate while the site
    /// resolves conflicts manually.
    #[serde(default, rename = "conflicting_record")]
    pub conflicting_records: Vec<ConflictingRecord>,
    /// Active Directory forests the site publishes to (FQDNs; Site Properties, Publishing tab).
    #[serde(default)]
    pub published_forests: Vec<String>,
    /// Lines client push wrote to the site server's ccm.log (SMS_CLIENT_CONFIG_MANAGER), oldest
    /// first: the only record of why a push to a computer failed; not a seed field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub push_log: Vec<String>,
    /// Device records deleted with `Remove-CMDevice` (short names, upper case); not a seed field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_devices: Vec<String>,
    /// Software update points.
    #[serde(default, rename = "software_update_point")]
    pub software_update_points: Vec<SoftwareUpdatePoint>,
    /// Client version published to the software update point ("" = never published).
    #[serde(default)]
    pub software_update_client_version: String,
    /// Distribution points (FQDNs).
    #[serde(default)]
    pub distribution_points: Vec<String>,
    /// Device collections by name.
    #[serde(default = "default_collections")]
    pub collections: Vec<String>,
    /// Members of collections (device names) beyond the built-in "All Systems", which holds every
    /// discovered device.
    #[serde(default)]
    pub collection_members: std::collections::BTreeMap<String, Vec<String>>,
    /// Legacy packages.
    #[serde(default, rename = "package")]
    pub packages: Vec<Package>,
    /// The account cmdeploy connects with has opened the ConfigMgr console on the site server,
    /// so its CMSite drive exists in every session. Default `false`: for a WinRM user who never
    /// opened the console the drive does not exist until `New-PSDrive -PSProvider CMSite`
    /// creates it (windows-runtime.md §7, CMO:79-91).
    #[serde(default)]
    pub winrm_user_has_drive: bool,
    /// Device records above which the lab refuses `Get-CMDevice` without `-Name` (the real
    /// cmdlet returns them all, slowly; windows-runtime.md §9). Default 1000.
    #[serde(default = "default_large_site_devices")]
    pub large_site_devices: usize,
}

fn default_large_site_devices() -> usize {
    1000
}

fn default_version() -> String {
    "5.00.9128.1000".into()
}

/// FSP role (SMS_SCI_SysResUse).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FallbackStatusPoint {
    /// Server FQDN.
    pub server: String,
    /// Throttle Count.
    #[serde(default = "default_count")]
    pub state_message_count: u32,
    /// Throttle Interval in milliseconds (as ConfigMgr stores it).
    #[serde(default = "default_throttle_ms")]
    pub throttle_interval_ms: u64,
}

fn default_count() -> u32 {
    10_000
}

fn default_throttle_ms() -> u64 {
    3_600_000
}

/// A ConfigMgr account (SMS_SCI_Reserved).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// `DOMAIN\user`.
    pub user_name: String,
    /// In the seed: where the password is. Never persisted.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretRef>,
    /// Salted hash of the password ConfigMgr holds (ConfigMgr cannot return it).
    #[serde(default)]
    pub password_hash: String,
}

/// Client push settings as ConfigMgr keeps them: SMS_DISCOVERY_DATA_MANAGER (switch, filters)
/// and SMS_CLIENT_CONFIG_MANAGER (properties, accounts).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// DDM `Settings` = Active.
    #[serde(default)]
    pub automatic: bool,
    /// DDM `Filters` bitmask: 1 exclude workstations, 2 exclude domain controllers, 4 exclude servers.
    #[serde(default = "default_filters")]
    pub filters: u32,
    /// DDM `AutoInstallSiteSystem`.
    #[serde(default)]
    pub site_systems: bool,
    /// CCM `Advanced Client Command Line`.
    #[serde(default)]
    pub installation_properties: String,
    /// CCM PropList `Reserved2`: accounts in order.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// NTLM fallback allowed.
    #[serde(default = "yes")]
    pub ntlm_fallback: bool,
}

fn default_filters() -> u32 {
    7
}

fn yes() -> bool {
    true
}

/// A boundary (SMS_Boundary).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Boundary {
    /// BoundaryID.
    #[serde(default)]
    pub id: u64,
    /// BoundaryType: 0 IPSubnet, 1 ADSite, 2 IPv6Prefix, 3 IPRange, 4 VPN.
    #[serde(rename = "type")]
    pub boundary_type: u32,
    /// Value as ConfigMgr stores it (subnet ID for IP subnets).
    pub value: String,
    /// DisplayName.
    #[serde(default)]
    pub name: String,
}

/// A boundary group (SMS_BoundaryGroup).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BoundaryGroup {
    /// GroupID.
    #[serde(default)]
    pub id: u64,
    /// Name (unique).
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// DefaultSiteCode ("" = not used for site assignment).
    #[serde(default)]
    pub default_site_code: String,
    /// Member boundary IDs (in the seed: boundary names may be given in `members`).
    #[serde(default)]
    pub boundaries: Vec<u64>,
    /// Member boundaries by name, in the seed only.
    #[serde(default, skip_serializing)]
    pub members: Vec<String>,
    /// Site system servers (FQDNs).
    #[serde(default)]
    pub site_systems: Vec<String>,
}

/// A computer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// FQDN (or the name, for workgroup computers).
    pub fqdn: String,
    /// Domain membership (`None`: workgroup).
    #[serde(default)]
    pub domain: Option<String>,
    /// IPv4 address.
    #[serde(default)]
    pub ip: String,
    /// AD site.
    #[serde(default)]
    pub ad_site: Option<String>,
    /// `server`, `workstation` or `domain_controller`.
    #[serde(default = "workstation")]
    pub role: String,
    /// OS caption.
    #[serde(default)]
    pub os: String,
    /// ADMIN$ share present.
    #[serde(default = "yes")]
    pub admin_share: bool,
    /// Members of local Administrators.
    #[serde(default)]
    pub local_admins: Vec<String>,
    /// Reachable over the network (WinRM/SMB).
    #[serde(default = "yes")]
    pub reachable: bool,
    /// A PKI client-authentication certificate in the machine's Personal store.
    #[serde(default)]
    pub pki_certificate: bool,
    /// Login users of the host (for WinRM Basic auth in `lab serve`): `user` → password hash.
    #[serde(default)]
    pub client: Option<Client>,
    /// Files present (local paths such as client source copies).
    #[serde(default)]
    pub files: Vec<String>,
    /// Installed updates (`KB4474419`, ...), `Win32_QuickFixEngineering.HotFixID`.
    #[serde(default)]
    pub hotfixes: Vec<String>,
    /// A restart is pending (an update or a servicing operation waits for it).
    #[serde(default)]
    pub pending_reboot: bool,
    /// `SetupParameters` that the ConfigMgrInstallation.adm policy provisioned on this host
    /// (`HKLM\Software\Policies\Microsoft\ccmsetup`). CCMSetup reads them only when its
    /// command line has no installation properties (seed 000, "How to Provision Client
    /// Installation Properties").
    #[serde(default)]
    pub setup_parameters: Option<String>,
    /// Fault injection: the `ccmsetup` service's installs on this host end with this return
    /// code (e.g. 9, prerequisite evaluation failure) and install nothing.
    #[serde(default)]
    pub ccmsetup_return_code: Option<i64>,
    /// The `ccmsetup` service's install in progress (not a seed field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccmsetup: Option<CcmsetupRun>,
    /// Lines of `%WinDir%\ccmsetup\Logs\ccmsetup.log` (not a seed field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ccmsetup_log: Vec<String>,
}

fn workstation() -> String {
    "workstation".into()
}

/// The ConfigMgr client on a host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// ClientVersion.
    #[serde(default = "default_version")]
    pub version: String,
    /// Assigned site ("" = unassigned).
    #[serde(default)]
    pub site_code: String,
    /// CcmExec running.
    #[serde(default = "yes")]
    pub ccmexec_running: bool,
    /// `%WinDir%\SMSCFG.INI` present.
    #[serde(default = "yes")]
    pub smscfg_ini: bool,
    /// Certificates in the SMS store.
    #[serde(default = "one")]
    pub sms_certificates: u32,
    /// Trusted root key present.
    #[serde(default = "yes")]
    pub trusted_root_key: bool,
    /// Internet MP FQDN.
    #[serde(default)]
    pub internet_management_point: String,
    /// Last successful install parameters (registry `LastSuccessfulInstallParams`).
    #[serde(default)]
    pub install_parameters: String,
    /// Client reached its management point and registered.
    #[serde(default = "yes")]
    pub registered: bool,
    /// Installed by `/logon`, push, manual...
    #[serde(default)]
    pub method: String,
    /// CcmExec's start type as `Get-Service` names it (`Automatic`, `Manual`, `Disabled`); the
    /// client installs the service as `Automatic` (configmgr.md §5).
    #[serde(default = "automatic")]
    pub ccmexec_start_type: String,
    /// When the client was installed (ms since 1970, UTC): the device record's `LastActiveTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_at_ms: Option<i64>,
}

fn automatic() -> String {
    "Automatic".into()
}

fn one() -> u32 {
    1
}

impl Estate {
    /// A fresh object id.
    pub fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A GPO-style GUID: a random (version 4) UUID, hyphenated, lower case.
    pub fn new_guid(&mut self) -> String {
        uuid::Uuid::new_v4().hyphenated().to_string()
    }

    /// Salted hash of a password.
    pub fn hash_password(&self, password: &str) -> String {
        hex::encode(Sha256::digest(
            format!("{}:{password}", self.salt).as_bytes(),
        ))
    }

    /// A site by code (case-insensitive).
    pub fn site(&self, code: &str) -> Option<&Site> {
        self.sites
            .iter()
            .find(|s| s.code.eq_ignore_ascii_case(code))
    }

    /// A site by code, mutable.
    pub fn site_mut(&mut self, code: &str) -> Option<&mut Site> {
        self.sites
            .iter_mut()
            .find(|s| s.code.eq_ignore_ascii_case(code))
    }

    /// A host by FQDN or short name (case-insensitive).
    pub fn host(&self, name: &str) -> Option<&Host> {
        let i = self.host_index.find(&self.hosts, name)?;
        self.hosts.get(i)
    }

    /// A host, mutable.
    pub fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        let i = self.host_index.find(&self.hosts, name)?;
        self.hosts.get_mut(i)
    }

    /// The AD user `DOMAIN\user` (case-insensitive).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.domains
            .iter()
            .flat_map(|d| d.users.iter())
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// The site a site server FQDN belongs to.
    pub fn site_of_server(&self, fqdn: &str) -> Option<&Site> {
        self.sites.iter().find(|s| {
            s.server.eq_ignore_ascii_case(fqdn) || short(&s.server).eq_ignore_ascii_case(fqdn)
        })
    }

    /// The domain a DC FQDN belongs to.
    pub fn domain_of_controller(&self, fqdn: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| {
            d.controllers
                .iter()
                .any(|c| c.eq_ignore_ascii_case(fqdn) || short(c).eq_ignore_ascii_case(fqdn))
        })
    }

    /// The domain of a NetBIOS or DNS name.
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name) || d.netbios.eq_ignore_ascii_case(name))
    }
}

/// The first label of an FQDN.
pub fn short(fqdn: &str) -> &str {
    fqdn.split('.').next().unwrap_or(fqdn)
}

pub(super) fn host_matches(h: &Host, name: &str) -> bool {
    h.fqdn.eq_ignore_ascii_case(name) || short(&h.fqdn).eq_ignore_ascii_case(name)
}

/// An install the `ccmsetup` service is still running on a host.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CcmsetupRun {
    /// When it ends (milliseconds since 1970, UTC).
    pub finishes_at_ms: i64,
    /// CCMSetup's return code (CIP "CCMSetup.exe return codes": 0 success, 6 error, 7 reboot
    /// required, 8 setup already running, 9 prerequisite evaluation failure, 10 setup manifest
    /// hash validation failure).
    pub return_code: i64,
    /// What the log says about the outcome, before the final line.
    pub outcome: String,
    /// What the host's client becomes: `Some` installs it, `None` leaves it as it is.
    pub client: Option<Client>,
    /// The install removes the client (`/uninstall`).
    #[serde(default)]
    pub uninstall: bool,
}
