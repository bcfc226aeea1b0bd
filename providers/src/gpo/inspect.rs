//! What a GPO's machine Registry.pol sets for ConfigMgr client deployment, and the lint of it
//! (`cmdeploy gpo inspect`).
//!
//! Covered keys (configmgr.md §3.1–§3.3, without the `HKLM\` hive Registry.pol omits):
//! `Software\Policies\Microsoft\ccmsetup` (ConfigMgrInstallation.adm), `Software\Microsoft\SMS\
//! Mobile Client` (ConfigMgrAssignment.adm; tattoos) and `Software\Policies\Microsoft\Windows\
//! WindowsUpdate` with its `AU` subkey (the WSUS location for software update-based installs).

use std::path::{Path, PathBuf};

use crate::ccmsetup::{self, Context, Finding};

use super::policy;
use super::registry_pol::{Action, Record, RegValue, RegistryPol};

/// One ConfigMgr-relevant record of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The policy the value belongs to, e.g. "Configure Client Deployment Settings".
    pub policy: &'static str,
    /// Key as stored (no hive).
    pub key: String,
    /// Value name (`**del.` stripped for deletions).
    pub value_name: String,
    /// The decoded value, or `None` for a `**del.` ("Disabled") record.
    pub value: Option<RegValue>,
}

/// A lint finding about one value: the checked text and what is wrong with it.
#[derive(Debug, Clone)]
pub struct Lint {
    /// The value checked (`SetupParameters`, `WUServer`, ...).
    pub value_name: String,
    /// Its text, which finding spans point into.
    pub text: String,
    /// The finding (codes `cmdeploy::ccmsetup::*`, `cmdeploy::gpo::wsus_url`, ...).
    pub finding: Finding,
}

/// The result of inspecting one Registry.pol.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// ConfigMgr-relevant records in file order.
    pub settings: Vec<Setting>,
    /// Findings, in the order of the values they concern.
    pub lints: Vec<Lint>,
}

impl Inspection {
    /// True when a finding is an error.
    pub fn has_error(&self) -> bool {
        self.lints.iter().any(|l| l.finding.is_error())
    }
}

fn strip_hive(key: &str) -> &str {
    key.split_once('\\').map(|x| x.1).unwrap_or(key)
}

fn policy_of(key: &str) -> Option<&'static str> {
    let k = |full: &str| strip_hive(full).eq_ignore_ascii_case(key);
    if k(policy::CCMSETUP_KEY) {
        Some("Configure Client Deployment Settings (ConfigMgrInstallation.adm)")
    } else if k(policy::ASSIGNMENT_KEY) {
        Some("Configure Configuration Manager Site Assignment (ConfigMgrAssignment.adm)")
    } else if k(policy::WU_KEY) || k(policy::WU_AU_KEY) {
        Some("Windows Update / WSUS location (WindowsUpdate.admx)")
    } else {
        None
    }
}

fn setting(r: &Record) -> Option<Setting> {
    let policy = policy_of(&r.key)?;
    let value = match r.action() {
        Action::Set(_) => Some(r.value()?),
        Action::DeleteValue(_) => None,
        _ => return None,
    };
    Some(Setting {
        policy,
        key: r.key.clone(),
        value_name: r.target_name().unwrap_or("").to_string(),
        value,
    })
}

/// Lists the ConfigMgr-relevant values of a machine Registry.pol and lints them:
/// `SetupParameters` with the CCMSetup model in the `gpo` context (did-you-mean for unknown
/// properties, the 255-character ADM limit), `WUServer`/`WUStatusServer` with the WSUS URL
/// rules (§3.3), and a warning on the tattooing site-assignment values (§3.2).
pub fn inspect(pol: &RegistryPol) -> Inspection {
    let mut out = Inspection::default();
    for r in &pol.records {
        let Some(s) = setting(r) else { continue };
        match (&s.value, s.value_name.to_ascii_lowercase().as_str()) {
            (Some(RegValue::String(text)), "setupparameters") => {
                let (_, findings) = ccmsetup::check(text, Some(Context::Gpo));
                out.lints.extend(findings.into_iter().map(|finding| Lint {
                    value_name: s.value_name.clone(),
                    text: text.clone(),
                    finding,
                }));
            }
            (Some(RegValue::String(url)), "wuserver" | "wustatusserver") => {
                if let Some((message, help)) = policy::wsus_url_problem(url) {
                    out.lints.push(Lint {
                        value_name: s.value_name.clone(),
                        text: url.clone(),
                        finding: Finding::error("cmdeploy::gpo::wsus_url", message)
                            .with_help(help)
                            .with_span(0..url.len()),
                    });
                }
            }
            (Some(RegValue::String(code)), "gprequestedsiteassignmentcode") => {
                out.lints.push(Lint {
                    value_name: s.value_name.clone(),
                    text: code.clone(),
                    finding: Finding::warning(
                        "cmdeploy::gpo::tattoo",
                        "site assignment values live outside the Policies tree and tattoo: they stay after the GPO is unlinked",
                    )
                    .with_help("when re-homing clients, remove GPRequestedSiteAssignmentCode and the retry values (also under WOW6432Node) (configmgr.md §3.2)"),
                });
            }
            _ => {}
        }
        out.settings.push(s);
    }
    out
}

fn child_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
}

/// The machine Registry.pol of `path`: the file itself, or inside a GPO backup or SYSVOL
/// folder `DomainSysvol\GPO\Machine\registry.pol`, `Machine\registry.pol` or a
/// `registry.pol` at the folder root (names matched case-insensitively).
pub fn machine_pol_path(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let layouts: [&[&str]; 3] = [
        &["DomainSysvol", "GPO", "Machine", "registry.pol"],
        &["Machine", "registry.pol"],
        &["registry.pol"],
    ];
    layouts.iter().find_map(|parts| {
        parts
            .iter()
            .try_fold(path.to_path_buf(), |dir, p| child_ci(&dir, p))
            .filter(|p| p.is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::super::registry_pol::read;
    use super::*;

    #[test]
    fn the_install_configmgr_client_backup_is_flagged_for_dnssufix() {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/corpus/registry_pol/chadsimmons_install_configmgr_client_gpo"
        ));
        assert!(dir.is_dir(), "the corpus is missing: {}", dir.display());
        let path = machine_pol_path(&dir).expect("registry.pol");
        let pol = read(&std::fs::read(path).unwrap()).unwrap();
        let i = inspect(&pol);
        assert_eq!(i.settings.len(), 5);
        let typo = i
            .lints
            .iter()
            .find(|l| l.finding.code == "cmdeploy::ccmsetup::unknown_property")
            .expect("DNSSUFIX flagged");
        assert!(typo.finding.message.contains("DNSSUFIX"));
        assert!(typo
            .finding
            .help
            .as_deref()
            .unwrap_or("")
            .contains("DNSSUFFIX"));
        assert!(i.has_error());
    }

    #[test]
    fn wsus_urls_are_checked_and_deletions_listed() {
        let mut pol = RegistryPol::default();
        let wu = r"Software\Policies\Microsoft\Windows\WindowsUpdate";
        pol.upsert(Record::set(
            wu,
            "WUServer",
            &RegValue::String("http://sup:8531".into()),
        ));
        pol.upsert(Record::delete_value(&format!(r"{wu}\AU"), "UseWUServer"));
        pol.upsert(Record::set(r"Software\Other", "X", &RegValue::DWord(1)));
        let i = inspect(&pol);
        assert_eq!(i.settings.len(), 2);
        assert_eq!(i.settings[1].value, None);
        assert_eq!(i.lints[0].finding.code, "cmdeploy::gpo::wsus_url");
    }
}
