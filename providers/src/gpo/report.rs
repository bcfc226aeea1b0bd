//! Windows' GPO report (`Get-GPOReport -ReportType Xml`, gpreport.xml) read for import: each
//! GPO's GUID, name, domain, links (`<LinksTo><SOMPath>`) and the registry values of the
//! client-deployment policies ([`super::policy`]) under Computer Configuration.
//!
//! A report names administrative-template settings by their display names (`<Policy>` with
//! `<EditText>` / `<Numeric>` parts, as the ADM files define them), and values no loaded template
//! describes as `<RegistrySetting>` (key path, value name, data). Both are turned back into the
//! registry values the GPO holds, in the same `{type, value}` shape [`super::kind`] reads with
//! `Get-GPRegistryValue`. `Get-GPOReport -All` wraps the `<GPO>` elements in a `<report>` root; a
//! single GPO's report has `<GPO>` as its root: both are accepted.

use serde_json::{json, Value};

use super::policy::{self, ASSIGNMENT_KEY, CCMSETUP_KEY, WU_AU_KEY, WU_KEY};
/// An element of the report's tree (roxmltree).
type Element<'a, 'input> = roxmltree::Node<'a, 'input>;

/// Namespace of the registry (administrative templates) extension's elements.
const REGISTRY_NS: &str = "http://www.microsoft.com/GroupPolicy/Settings/Registry";

/// ConfigMgrInstallation.adm's policy, as the report names it.
pub const INSTALLATION_POLICY: &str = "Configure Configuration Manager Client Deployment Settings";
/// ConfigMgrInstallation.adm's `CCMSetup` part (`SetupParameters`).
pub const INSTALLATION_PART: &str = "CCMSetup";
/// ConfigMgrAssignment.adm's policy.
pub const ASSIGNMENT_POLICY: &str = "Configure Configuration Manager Site Assignment";
/// ConfigMgrAssignment.adm's parts, with the value each one writes.
pub const ASSIGNMENT_PARTS: [(&str, &str); 3] = [
    ("Assigned Site", "GPRequestedSiteAssignmentCode"),
    (
        "Site Assignment Retry Interval (Mins)",
        "GPSiteAssignmentRetryInterval(Min)",
    ),
    (
        "Site Assignment Retry Duration (Hours)",
        "GPSiteAssignmentRetryDuration(Hour)",
    ),
];
/// WindowsUpdate.admx's intranet location policy.
pub const WSUS_POLICY: &str = "Specify intranet Microsoft update service location";
/// Its parts, with the value each one writes.
pub const WSUS_PARTS: [(&str, &str); 2] = [
    (
        "Set the intranet update service for detecting updates:",
        "WUServer",
    ),
    ("Set the intranet statistics server:", "WUStatusServer"),
];

/// One GPO of a report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportedGpo {
    /// GUID as `Get-GPO` shows it: lower case, without braces.
    pub id: String,
    /// Display name.
    pub name: String,
    /// DNS domain (lower case).
    pub domain: String,
    /// Links in report order.
    pub links: Vec<ReportedLink>,
    /// Computer-side registry values of the client-deployment policies, in report order.
    pub values: Vec<PolicyValue>,
}

/// One `<LinksTo>` of a GPO.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedLink {
    /// Canonical path of the linked container (`contoso.com/Workstations`).
    pub som_path: String,
    /// Whether the link is enabled.
    pub enabled: bool,
}

/// A registry value one of the client-deployment policies sets.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyValue {
    /// Full key (`HKLM\Software\Policies\Microsoft\ccmsetup`), one of [`policy::KEYS`].
    pub key: String,
    /// Value name (`SetupParameters`).
    pub name: String,
    /// `{type, value}` as [`policy::value`] builds it (`String` / `DWord`).
    pub value: Value,
}

/// Decodes report bytes: UTF-16LE with a byte-order mark (what Windows writes to a file), or
/// UTF-8 (with or without a mark).
///
/// # Errors
/// Bytes that are neither, or an odd-length UTF-16 text.
pub fn decode_bytes(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if rest.len() % 2 != 0 {
            return Err("UTF-16 report with an odd number of bytes".into());
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|e| format!("invalid UTF-16 report: {e}"));
    }
    let rest = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8(rest.to_vec())
        .map_err(|e| format!("report is neither UTF-16LE nor UTF-8: {e}"))
}

/// Parses one report text into its GPOs (an XML declaration claiming UTF-16 is ignored: the
/// text is already decoded).
///
/// # Errors
/// Malformed XML, a root that is neither `<report>` nor `<GPO>`, or a GPO without GUID or name.
pub fn parse(text: &str) -> Result<Vec<ReportedGpo>, String> {
    let body = match text.trim_start_matches('\u{feff}').trim_start() {
        t if t.starts_with("<?xml") => t.split_once("?>").map_or("", |(_, b)| b),
        t => t,
    };
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("GPO report: {e}"))?;
    let root = doc.root_element();
    let gpos: Vec<Element<'_, '_>> = match root.tag_name().name() {
        "GPO" => vec![root],
        "report" => children(root, "GPO").collect(),
        other => {
            return Err(format!(
                "GPO report: the root element is <{other}>, not <report> or <GPO>"
            ))
        }
    };
    gpos.into_iter().map(gpo).collect()
}

/// The first child element with this local name (any namespace).
fn child<'a, 'i>(e: Element<'a, 'i>, name: &str) -> Option<Element<'a, 'i>> {
    e.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Every child element with this local name (any namespace).
fn children<'a, 'i: 'a>(
    e: Element<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = Element<'a, 'i>> + 'a {
    e.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

/// The element's own character data (its text children, CDATA included), concatenated.
fn own_text(e: Element<'_, '_>) -> String {
    e.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect()
}

/// The trimmed text of the child element `name`, or "".
fn text_of(e: Element<'_, '_>, name: &str) -> String {
    child(e, name)
        .map(|c| own_text(c).trim().to_string())
        .unwrap_or_default()
}

fn gpo(e: Element<'_, '_>) -> Result<ReportedGpo, String> {
    let identifier = child(e, "Identifier");
    let id = identifier
        .map(|i| text_of(i, "Identifier"))
        .unwrap_or_default()
        .trim_matches(|c| c == '{' || c == '}')
        .to_lowercase();
    let name = text_of(e, "Name");
    if id.is_empty() || name.is_empty() {
        return Err("GPO report: a <GPO> has no <Identifier> GUID or no <Name>".into());
    }
    let domain = identifier
        .map(|i| text_of(i, "Domain"))
        .unwrap_or_default()
        .to_lowercase();
    let links = children(e, "LinksTo")
        .map(|l| ReportedLink {
            som_path: text_of(l, "SOMPath"),
            enabled: !text_of(l, "Enabled").eq_ignore_ascii_case("false"),
        })
        .filter(|l| !l.som_path.is_empty())
        .collect();
    let mut values = Vec::new();
    if let Some(computer) = child(e, "Computer") {
        for ext in children(computer, "ExtensionData").filter_map(|d| child(d, "Extension")) {
            for setting in ext.children().filter(|c| c.is_element()) {
                if setting.tag_name().namespace() != Some(REGISTRY_NS) {
                    continue;
                }
                match setting.tag_name().name() {
                    "Policy" => policy_values(setting, &mut values),
                    "RegistrySetting" => registry_value(setting, &mut values),
                    _ => {}
                }
            }
        }
    }
    Ok(ReportedGpo {
        id,
        name,
        domain,
        links,
        values,
    })
}

/// The value a named part of a policy holds (`<EditText>` or `<Numeric>` with that `<Name>`).
fn part<'a, 'i>(p: Element<'a, 'i>, name: &str) -> Option<Element<'a, 'i>> {
    p.children()
        .filter(|c| c.is_element() && matches!(c.tag_name().name(), "EditText" | "Numeric"))
        .find(|c| {
            text_of(*c, "Name") == name && !text_of(*c, "State").eq_ignore_ascii_case("Disabled")
        })
}

fn push(values: &mut Vec<PolicyValue>, key: &str, name: &str, value: Value) {
    values.push(PolicyValue {
        key: key.to_string(),
        name: name.to_string(),
        value,
    });
}

/// An enabled ADM/ADMX policy of ours: the values enabling it writes.
fn policy_values(p: Element<'_, '_>, values: &mut Vec<PolicyValue>) {
    if !text_of(p, "State").eq_ignore_ascii_case("Enabled") {
        return;
    }
    let string = |e: Element<'_, '_>| policy::value("String", json!(text_of(e, "Value")));
    match text_of(p, "Name").as_str() {
        INSTALLATION_POLICY => {
            push(
                values,
                CCMSETUP_KEY,
                "NoDefAutoAssign",
                policy::value("DWord", json!(1)),
            );
            if let Some(e) = part(p, INSTALLATION_PART) {
                push(values, CCMSETUP_KEY, "SetupParameters", string(e));
            }
        }
        ASSIGNMENT_POLICY => {
            for (label, value_name) in ASSIGNMENT_PARTS {
                let Some(e) = part(p, label) else { continue };
                let v = if e.tag_name().name() == "Numeric" {
                    match text_of(e, "Value").parse::<u32>() {
                        Ok(n) => policy::value("DWord", json!(n)),
                        Err(_) => string(e),
                    }
                } else {
                    string(e)
                };
                push(values, ASSIGNMENT_KEY, value_name, v);
            }
        }
        WSUS_POLICY => {
            for (label, value_name) in WSUS_PARTS {
                if let Some(e) = part(p, label) {
                    push(values, WU_KEY, value_name, string(e));
                }
            }
            push(
                values,
                WU_AU_KEY,
                "UseWUServer",
                policy::value("DWord", json!(1)),
            );
        }
        _ => {}
    }
}

/// A value no template describes ("Extra Registry Settings"): kept when it is under one of our
/// keys. `<Value>` holds `<Name>` and one of `<String>`, `<Number>`, `<ExpandString>`.
fn registry_value(s: Element<'_, '_>, values: &mut Vec<PolicyValue>) {
    let path = text_of(s, "KeyPath");
    let key = format!("HKLM\\{path}");
    let Some(ours) = policy::KEYS.iter().find(|k| k.eq_ignore_ascii_case(&key)) else {
        return;
    };
    for v in children(s, "Value") {
        let name = text_of(v, "Name");
        if name.is_empty() || name.starts_with("**") {
            continue;
        }
        let data = if let Some(n) = child(v, "Number") {
            match own_text(n).trim().parse::<u64>() {
                Ok(n) => policy::value("DWord", json!(n)),
                Err(_) => continue,
            }
        } else if let Some(s) = child(v, "String").or_else(|| child(v, "ExpandString")) {
            policy::value("String", json!(own_text(s)))
        } else {
            continue;
        };
        push(values, ours, &name, data);
    }
}

/// Converts a report's SOMPath (`contoso.com/Corp/Workstations`, a canonical name) into the
/// distinguished name `gpo` links use (`OU=Workstations,OU=Corp,DC=contoso,DC=com`). A path
/// equal to the domain is the domain itself (`DC=contoso,DC=com`). `\/` in a path is a `/`
/// inside a name; DN special characters are escaped.
///
/// Returns `None` for a path outside `domain` (a site link: GPO links to sites are not managed).
pub fn som_path_to_dn(som_path: &str, domain: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = som_path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.push(chars.next().unwrap_or('\\')),
            '/' => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let head = parts.first()?;
    if domain.is_empty() || !head.eq_ignore_ascii_case(domain) {
        return None;
    }
    let mut rdns: Vec<String> = parts[1..]
        .iter()
        .rev()
        .map(|ou| format!("OU={}", escape_rdn(ou)))
        .collect();
    rdns.extend(domain.split('.').map(|d| format!("DC={d}")));
    Some(rdns.join(","))
}

/// The inverse of [`som_path_to_dn`]: `OU=Workstations,OU=Corp,DC=contoso,DC=com` →
/// `contoso.com/Corp/Workstations` (`/` inside a name written `\/`). `None` when the DN has no
/// `DC=` part.
pub fn dn_to_som_path(dn: &str) -> Option<String> {
    let mut rdns: Vec<(String, String)> = Vec::new();
    let mut cur = String::new();
    let mut chars = dn.chars();
    let mut flush = |cur: &mut String| {
        let (t, v) = cur.split_once('=').unwrap_or(("", cur.as_str()));
        rdns.push((t.trim().to_ascii_uppercase(), v.trim().to_string()));
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            // Keep the escape for `=` splitting, drop it below.
            '\\' => {
                cur.push('\u{1}');
                cur.push(chars.next().unwrap_or('\\'));
            }
            ',' => flush(&mut cur),
            c => cur.push(c),
        }
    }
    flush(&mut cur);
    let unescape = |v: &str| v.replace('\u{1}', "");
    let domain: Vec<String> = rdns
        .iter()
        .filter(|(t, _)| t == "DC")
        .map(|(_, v)| unescape(v))
        .collect();
    if domain.is_empty() {
        return None;
    }
    let mut path = domain.join(".").to_lowercase();
    for (_, v) in rdns.iter().rev().filter(|(t, _)| t != "DC") {
        path.push('/');
        path.push_str(&unescape(v).replace('/', "\\/"));
    }
    Some(path)
}

fn escape_rdn(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        let leading = i == 0 && (c == ' ' || c == '#');
        if leading || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
