//! Stable finding codes. Each constant documents its default severity.

/// Error: malformed token (`/` with no name, `=value` with no name, nested `CCMSETUPCMD`, ...).
pub const SYNTAX: &str = "cmdeploy::ccmsetup::syntax";
/// Error: a double quote is never closed.
pub const UNTERMINATED_QUOTE: &str = "cmdeploy::ccmsetup::unterminated_quote";
/// Error: a token that is neither `/param`, `NAME=value` nor a program (e.g. `/source: D:\x`).
pub const STRAY_TOKEN: &str = "cmdeploy::ccmsetup::stray_token";
/// Warning: a known property written without `=value` (e.g. `CCMALLOWSILENTREBOOT`).
pub const BARE_PROPERTY: &str = "cmdeploy::ccmsetup::bare_property";
/// Error: a `/` parameter after a client.msi property (§1.1, rule 18).
pub const ORDER: &str = "cmdeploy::ccmsetup::order";
/// Error: parameter not in the documented list (with did-you-mean).
pub const UNKNOWN_PARAMETER: &str = "cmdeploy::ccmsetup::unknown_parameter";
/// Error: property not in the documented list (with did-you-mean, e.g. `DNSSUFIX`).
pub const UNKNOWN_PROPERTY: &str = "cmdeploy::ccmsetup::unknown_property";
/// Warning: seen in real command lines or logs but not in the docs (`/AutoUpgrade`, `CCMHTTPSSTATE`).
pub const UNDOCUMENTED: &str = "cmdeploy::ccmsetup::undocumented";
/// Warning: belongs to an older product version (`SMSSLP`, `PATCH`); ignored by current clients.
pub const LEGACY: &str = "cmdeploy::ccmsetup::legacy";
/// Error: removed from the current docs (`SMSDIRECTORYLOOKUP`).
pub const OBSOLETE: &str = "cmdeploy::ccmsetup::obsolete";
/// Warning: property name not upper case (Windows Installer public properties are upper case).
pub const PROPERTY_CASE: &str = "cmdeploy::ccmsetup::property_case";
/// Error (property) / warning (non-repeatable parameter): given more than once.
pub const DUPLICATE: &str = "cmdeploy::ccmsetup::duplicate";
/// Error: a value is required but empty (`/source:` followed by a space, `SMSSITECODE=`).
pub const EMPTY_VALUE: &str = "cmdeploy::ccmsetup::empty_value";
/// Error: a value given to a switch that takes none (`/logon:yes`).
pub const UNEXPECTED_VALUE: &str = "cmdeploy::ccmsetup::unexpected_value";
/// Error: value outside the documented set (`/BITSPriority:URGENT`, `/ExcludeFeatures:Foo`).
pub const INVALID_VALUE: &str = "cmdeploy::ccmsetup::invalid_value";
/// Error: number out of range or not a number (`CCMEVALHOUR=24`, `CCMLOGMAXSIZE=500`).
pub const RANGE: &str = "cmdeploy::ccmsetup::range";
/// Warning: a value that has no effect (`CCMALWAYSINF=0`, `DISABLESITEOPT=FALSE`).
pub const NO_EFFECT: &str = "cmdeploy::ccmsetup::no_effect";
/// Error: value wrapped in single quotes, which ccmsetup does not strip.
pub const SINGLE_QUOTED: &str = "cmdeploy::ccmsetup::single_quoted";
/// Warning: unexpanded template variable (`$(...)`, `$Var`, `[SiteCode]`, `{{ x }}`); value not checked.
pub const PLACEHOLDER: &str = "cmdeploy::ccmsetup::placeholder";
/// Error: site code not 3 characters A–Z/0–9 (or `AUTO`), or reserved (rule 1).
pub const SITE_CODE: &str = "cmdeploy::ccmsetup::site_code";
/// Error: `PERCENTDISKSPACE` and `PERCENTFREEDISKSPACE` together.
pub const CACHE_FLAGS_EXCLUSIVE: &str = "cmdeploy::ccmsetup::cache_flags_exclusive";
/// Error: `CCMHOSTNAME` with a scheme prefix (rule 7).
pub const CCMHOSTNAME_SCHEME: &str = "cmdeploy::ccmsetup::ccmhostname_scheme";
/// Error: a CMG address in `/mp` without `https://` (rule 7).
pub const MP_CMG_SCHEME: &str = "cmdeploy::ccmsetup::mp_cmg_scheme";
/// Warning: `/source` is a URL, not a local or UNC path.
pub const SOURCE_PATH: &str = "cmdeploy::ccmsetup::source_path";
/// Error: `CCMCERTISSUERS` separates attributes with `,` (reported broken, SCCMdocs#2220).
pub const CERT_ISSUERS_SEPARATOR: &str = "cmdeploy::ccmsetup::cert_issuers_separator";
/// Error: `SMSPUBLICROOTKEY` / `SMSROOTKEYPATH` without `SMSSITECODE`.
pub const REQUIRES_SITE_CODE: &str = "cmdeploy::ccmsetup::requires_site_code";
/// Error: `/regtoken` without `CCMHOSTNAME`, `SMSSITECODE`, `SMSMP` (warning for missing `/mp`).
pub const REGTOKEN_REQUIRES: &str = "cmdeploy::ccmsetup::regtoken_requires";
/// Warning: `PROVISIONTS` outside `ccmsetup.msi`.
pub const PROVISIONTS_MSI: &str = "cmdeploy::ccmsetup::provisionts_msi";
/// Warning: `/UsePKICert` with Entra ID properties.
pub const PKI_WITH_ENTRA: &str = "cmdeploy::ccmsetup::pki_with_entra";
/// Error: `CCMHOSTNAME` with `SMSSITECODE=AUTO`.
pub const AUTO_WITH_CCMHOSTNAME: &str = "cmdeploy::ccmsetup::auto_with_ccmhostname";
/// Warning: `CCMALWAYSINF=1` without `CCMHOSTNAME` or an explicit `SMSSITECODE`.
pub const ALWAYSINF_REQUIRES: &str = "cmdeploy::ccmsetup::alwaysinf_requires";
/// Error: `/` parameters on an `Install=INSTALL=ALL` tcf line (properties only).
pub const TCF_PARAMETER: &str = "cmdeploy::ccmsetup::tcf_parameter";
/// Error: parameter outside the client push subset.
pub const PUSH_SUBSET: &str = "cmdeploy::ccmsetup::push_subset";
/// Warning: a program token where only arguments are expected (push, GPO).
pub const PROGRAM_IN_CONTEXT: &str = "cmdeploy::ccmsetup::program_in_context";
/// Warning: GPO `SetupParameters` longer than 255 characters (ADM MAXLEN).
pub const SETUP_PARAMETERS_TOO_LONG: &str = "cmdeploy::gpo::setup_parameters_too_long";
/// Error: Intune command line longer than 1024 characters.
pub const INTUNE_MAXLEN: &str = "cmdeploy::ccmsetup::intune_maxlen";
/// Error: internet-based client missing a required item (rule 6).
pub const INTERNET_REQUIRES: &str = "cmdeploy::ccmsetup::internet_requires";
/// Error: workgroup client with no way to find its site (rule 8).
pub const WORKGROUP_REQUIRES: &str = "cmdeploy::ccmsetup::workgroup_requires";

/// Error: longer than the 32,767 characters Windows runs.
pub const TOO_LONG: &str = "cmdeploy::ccmsetup::too_long";
/// Error: a control character (CR, LF, ...) that would end or change a command in a script.
pub const CONTROL_CHARACTER: &str = "cmdeploy::ccmsetup::control_character";
/// Error: a typographic quote (U+2018–U+201F), kept by CCMSetup as part of a value.
pub const TYPOGRAPHIC_QUOTE: &str = "cmdeploy::ccmsetup::typographic_quote";

/// Every code, for documentation and exhaustiveness tests.
pub const ALL: &[&str] = &[
    SYNTAX,
    UNTERMINATED_QUOTE,
    STRAY_TOKEN,
    BARE_PROPERTY,
    ORDER,
    UNKNOWN_PARAMETER,
    UNKNOWN_PROPERTY,
    UNDOCUMENTED,
    LEGACY,
    OBSOLETE,
    PROPERTY_CASE,
    DUPLICATE,
    EMPTY_VALUE,
    UNEXPECTED_VALUE,
    INVALID_VALUE,
    RANGE,
    NO_EFFECT,
    SINGLE_QUOTED,
    PLACEHOLDER,
    SITE_CODE,
    CACHE_FLAGS_EXCLUSIVE,
    CCMHOSTNAME_SCHEME,
    MP_CMG_SCHEME,
    SOURCE_PATH,
    CERT_ISSUERS_SEPARATOR,
    REQUIRES_SITE_CODE,
    REGTOKEN_REQUIRES,
    PROVISIONTS_MSI,
    PKI_WITH_ENTRA,
    AUTO_WITH_CCMHOSTNAME,
    ALWAYSINF_REQUIRES,
    TCF_PARAMETER,
    PUSH_SUBSET,
    PROGRAM_IN_CONTEXT,
    SETUP_PARAMETERS_TOO_LONG,
    INTUNE_MAXLEN,
    INTERNET_REQUIRES,
    WORKGROUP_REQUIRES,
    TOO_LONG,
    CONTROL_CHARACTER,
    TYPOGRAPHIC_QUOTE,
];
