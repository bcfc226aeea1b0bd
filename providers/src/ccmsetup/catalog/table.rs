//! The catalog tables themselves (§1.2 parameters, §1.3 properties).

use super::{Kind, Push, Spec, Status, ValueKind, CACHE_FLAGS};

const TF: &[&str] = &["TRUE", "FALSE"];
const BITS: &[&str] = &["FOREGROUND", "HIGH", "NORMAL", "LOW"];

const fn p(name: &'static str, value: ValueKind, push: Push, doc: &'static str) -> Spec {
    Spec {
        name,
        kind: Kind::Parameter,
        value,
        push,
        status: Status::Documented,
        repeatable: false,
        doc,
    }
}

const fn q(name: &'static str, value: ValueKind, doc: &'static str) -> Spec {
    Spec {
        name,
        kind: Kind::Property,
        value,
        push: Push::Allowed,
        status: Status::Documented,
        repeatable: false,
        doc,
    }
}

const fn with_status(mut s: Spec, status: Status) -> Spec {
    s.status = status;
    s
}

const fn repeatable(mut s: Spec) -> Spec {
    s.repeatable = true;
    s
}

use Push::{Allowed as PA, NotAllowed as PN};
use ValueKind as V;

const INT1: ValueKind = V::Int { min: 1, max: None };

/// Every known ccmsetup `/` parameter (§1.2) plus undocumented ones seen in the wild.
pub static PARAMETERS: &[Spec] = &[
    p("?", V::None, PN, "Show help."),
    p("AllowMetered", V::None, PA, "(2006+) Allow download, registration and initial policy over metered networks; push from 2103."),
    p("AlwaysExcludeUpgrade", V::Enum(TF), PA, "TRUE: the client won't auto-upgrade (default FALSE)."),
    p("BITSPriority", V::Enum(BITS), PA, "BITS priority for HTTP download: FOREGROUND, HIGH, NORMAL (default), LOW."),
    p("config", V::Text, PN, "Text file with properties (tcf format, `Install=INSTALL=ALL ...`)."),
    p("downloadtimeout", INT1, PA, "Minutes before giving up downloading (default 1440)."),
    p("ExcludeFeatures", V::Enum(&["ClientUI"]), PA, "Don't install Software Center; ClientUI is the only supported value."),
    p("forceinstall", V::None, PA, "Uninstall any existing client, then install. Push: listed by seed 000 (\"How to Install Configuration Manager Clients by Using Client Push\", Installation Properties tab); newer client-push docs omit it."),
    p("forcereboot", V::None, PA, "Restart if needed to complete the install."),
    p("IgnoreSkipUpgrade", V::None, PN, "Manually upgrade a client excluded from auto-upgrade."),
    p("logon", V::None, PA, "Stop if any client version is already installed."),
    p("mp", V::List, PN, "Initial MP(s) to find download sources, `;`-separated; a CMG must start with https://."),
    p("NoCRLCheck", V::None, PN, "Don't check the CRL when using a PKI cert over HTTPS."),
    p("noservice", V::None, PN, "Run in the calling user's context instead of as a service."),
    p("regtoken", V::Text, PN, "(2002+) CMG bulk registration token; needs /mp, CCMHOSTNAME, SMSSITECODE, SMSMP."),
    p("retry", INT1, PN, "Minutes between download retries until /downloadtimeout."),
    p("service", V::None, PN, "Run as a Local System service (exit code no longer reports the result)."),
    p("skipprereq", V::List, PA, "Prerequisite file(s) not to install, `;`-separated."),
    repeatable(p("source", V::Text, PN, "Local or UNC download location; repeatable.")),
    p("uninstall", V::None, PN, "Uninstall the client."),
    p("UpgradeToLatest", V::None, PN, "Ask the MP for the latest client version."),
    p("UsePKICert", V::None, PA, "Use a PKI client-auth certificate; required for HTTPS-only MPs and internet-only clients."),
    with_status(
        p("AutoUpgrade", V::None, PN, "Internal switch used by the client auto-upgrade task."),
        Status::Undocumented("not in the documented parameter list (seen in rzander/sccmclictr scripts)"),
    ),
    with_status(
        p("runservice", V::None, PN, "Internal switch ccmsetup passes to its own service."),
        Status::Undocumented("internal: appears in ccmsetup.log command lines, not documented"),
    ),
];

/// Every known client.msi property (§1.3) plus undocumented, legacy and obsolete ones.
pub static PROPERTIES: &[Spec] = &[
    q(
        "AADCLIENTAPPID",
        V::Text,
        "Entra native client app ID (GUID).",
    ),
    q("AADRESOURCEURI", V::Text, "Entra server app ID URI."),
    q("AADTENANTID", V::Text, "Entra tenant ID (GUID)."),
    q(
        "CCMADMINS",
        V::List,
        "Accounts given access to client settings, `dom\\acct;dom\\grp`.",
    ),
    q(
        "CCMALLOWSILENTREBOOT",
        V::Flag,
        "Restart without warning, even with a user signed in.",
    ),
    q(
        "CCMALWAYSINF",
        V::One,
        "1: internet-only client; use with /UsePKICert, CCMHOSTNAME, SMSSITECODE.",
    ),
    q(
        "CCMCERTISSUERS",
        V::Text,
        "Trusted root CA issuer list: attributes `;`-separated, CAs `|`-separated.",
    ),
    q(
        "CCMCERTNAMECHECK",
        V::Enum(&["0", "1"]),
        "(2207+) 0: skip the certificate subject-name check.",
    ),
    q(
        "CCMCERTSEL",
        V::Text,
        "Certificate selection criteria (Subject:, SubjectStr:, SubjectAttr:).",
    ),
    q(
        "CCMCERTSTORE",
        V::Text,
        "Alternate computer certificate store (default My).",
    ),
    q(
        "CCMDEBUGLOGGING",
        V::Enum(&["0", "1"]),
        "Debug logging 0/1 (default 0).",
    ),
    q(
        "CCMENABLELOGGING",
        V::Enum(TF),
        "Logging TRUE/FALSE (default TRUE).",
    ),
    q(
        "CCMEVALINTERVAL",
        V::Int {
            min: 1,
            max: Some(1440),
        },
        "ccmeval frequency in minutes, 1–1440 (default 1440).",
    ),
    q(
        "CCMEVALHOUR",
        V::Int {
            min: 0,
            max: Some(23),
        },
        "ccmeval hour, 0–23 (default 0).",
    ),
    q(
        "CCMFIRSTCERT",
        V::One,
        "1: with several matching certs, pick the longest validity.",
    ),
    q(
        "CCMHOSTNAME",
        V::Text,
        "Internet-based MP FQDN or CMG address, without https://; not with SMSSITECODE=AUTO.",
    ),
    q(
        "CCMHTTPPORT",
        V::Int {
            min: 1,
            max: Some(65535),
        },
        "HTTP port (default 80).",
    ),
    q(
        "CCMHTTPSPORT",
        V::Int {
            min: 1,
            max: Some(65535),
        },
        "HTTPS port (default 443).",
    ),
    q(
        "CCMINSTALLDIR",
        V::Text,
        "Install folder (default %WinDir%\\CCM).",
    ),
    q(
        "CCMLOGLEVEL",
        V::Int {
            min: 0,
            max: Some(3),
        },
        "0 verbose, 1 default, 2 warnings and errors, 3 errors only.",
    ),
    q(
        "CCMLOGMAXHISTORY",
        V::Int { min: 0, max: None },
        "Rolled log copies kept (default 1, 0 keeps none).",
    ),
    q(
        "CCMLOGMAXSIZE",
        V::Int {
            min: 10000,
            max: None,
        },
        "Log size in bytes (default 250000, minimum 10000).",
    ),
    q(
        "DISABLESITEOPT",
        V::True,
        "TRUE: admins can't change the assigned site in the control panel.",
    ),
    q(
        "DISABLECACHEOPT",
        V::True,
        "TRUE: admins can't change cache settings in the control panel.",
    ),
    q(
        "DNSSUFFIX",
        V::Text,
        "DNS domain used to find MPs published in DNS.",
    ),
    q("FSP", V::Text, "Fallback status point."),
    q(
        "IGNOREAPPVVERSIONCHECK",
        V::True,
        "TRUE: skip the App-V minimum-version check.",
    ),
    q(
        "MANAGEDINSTALLER",
        V::One,
        "1: mark ccmsetup/client.msi as WDAC managed installers.",
    ),
    q(
        "NOTIFYONLY",
        V::True,
        "TRUE: client status reports problems but doesn't remediate.",
    ),
    q(
        "PROVISIONTS",
        V::Text,
        "TS deployment ID to run after registration; ccmsetup.msi only.",
    ),
    q(
        "RESETKEYINFORMATION",
        V::True,
        "TRUE: remove the old trusted root key.",
    ),
    q(
        "SITEREASSIGN",
        V::True,
        "TRUE: with SMSSITECODE=AUTO, re-run auto assignment on upgrade.",
    ),
    q(
        "SMSCACHEDIR",
        V::Text,
        "Cache folder (default %WinDir%\\ccmcache).",
    ),
    q(
        "SMSCACHEFLAGS",
        V::EnumList(CACHE_FLAGS),
        "Cache flags; the two PERCENT flags are mutually exclusive.",
    ),
    q(
        "SMSCACHESIZE",
        V::Int { min: 1, max: None },
        "Cache size in MB, or percent with a PERCENT flag; superseded by client settings.",
    ),
    q(
        "SMSCONFIGSOURCE",
        V::Text,
        "Configuration sources, letters from R, P, M, U (default PU).",
    ),
    with_status(
        q(
            "SMSDIRECTORYLOOKUP",
            V::Enum(&["NOWINS", "WINSSECURE"]),
            "WINS lookup of MPs.",
        ),
        Status::Obsolete("commented out of the current docs: WINS lookup of MPs is deprecated"),
    ),
    q(
        "SMSMP",
        V::Text,
        "Initial MP of the installed client (https:// prefix for HTTPS-only MPs).",
    ),
    q(
        "SMSMPLIST",
        V::List,
        "`;`-list of MPs (https:// prefix as needed).",
    ),
    q(
        "SMSPUBLICROOTKEY",
        V::Text,
        "Trusted root key; also specify SMSSITECODE.",
    ),
    q(
        "SMSROOTKEYPATH",
        V::Text,
        "File holding the trusted root key; also specify SMSSITECODE.",
    ),
    q(
        "SMSSIGNCERT",
        V::Text,
        "Path to the exported site server signing certificate (.cer).",
    ),
    q(
        "SMSSITECODE",
        V::Text,
        "3-character site code, or AUTO (the default when omitted).",
    ),
    with_status(
        q(
            "CCMHTTPSSTATE",
            V::Text,
            "HTTPS state bitmask (31 suggested for co-management with unpublished CRL).",
        ),
        Status::Undocumented(
            "not in the documented property table (suggested in SCCMdocs PR #431)",
        ),
    ),
    with_status(
        q("SMSSLP", V::Text, "Server locator point."),
        Status::Legacy(
            "ConfigMgr 2007 server locator point; current clients ignore it (use SMSMP)",
        ),
    ),
    with_status(
        q(
            "PATCH",
            V::Text,
            "Windows Installer PATCH: apply an .msp during install.",
        ),
        Status::Legacy("2012-era hotfix practice; current clients are updated by the site"),
    ),
];
