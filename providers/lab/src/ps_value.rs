//! .NET values as the lab's cmdlets return them, and how they come out of `ConvertTo-Json`.
//!
//! A lab cmdlet answers with JSON in which a few leaves are *typed* .NET values that Windows
//! PowerShell 5.1 does not serialise as their text: an enum, a `DateTime`, a string carrying ETS
//! note properties (a `Get-Content` line). Such a leaf is an object with the reserved key `"@ps"`
//! ([`enumeration`], [`date`], [`content_line`]). [`render`] turns the tree into what reaches the
//! caller:
//!
//! * [`Rendering::Windows51`]: what 5.1's `ConvertTo-Json` writes (windows-runtime.md §5, source
//!   PowerShell/PowerShell@60b3b304 `ConvertToJsonCommand.cs` and microsoft/referencesource
//!   `JavaScriptSerializer.cs`): an enum as its number (JSS:478-493), a DateTime as
//!   `"\/Date(<ms>)\/"` (JSS:211-218; after parsing, the string `/Date(<ms>)/`), a string with ETS
//!   members as `{"value": <string>, "PSPath": ..., ...}` (CTJ:532-560, 572-600);
//! * [`Rendering::Plain`]: what cmdeploy's runner sends after `ConvertTo-CmdeployPlain`: an enum
//!   as its name, a DateTime as ISO 8601 (UTC), a string as the string.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// The reserved key of a typed leaf.
const TAG: &str = "@ps";

/// How typed leaves are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// As Windows PowerShell 5.1's `ConvertTo-Json` writes the .NET object.
    Windows51,
    /// As the runner's `ConvertTo-CmdeployPlain` writes it before serialising.
    Plain,
}

/// An enum value: its .NET type, member name and number (`RegistryValueKind.DWord` = 4).
pub fn enumeration(type_name: &str, name: &str, number: i64) -> Value {
    json!({TAG: "enum", "type": type_name, "name": name, "number": number})
}

/// A `System.DateTime` (UTC).
pub fn date(at: DateTime<Utc>) -> Value {
    json!({TAG: "date", "ms": at.timestamp_millis()})
}

/// A line read by `Get-Content -Path <path>` with the note properties the FileSystem provider
/// attaches (PSPath, PSParentPath, PSChildName, PSDrive, PSProvider, ReadCount;
/// windows-runtime.md §5 "ETS properties").
pub fn content_line(text: &str, path: &str) -> Value {
    let (parent, child) = path.rsplit_once('\\').unwrap_or(("", path));
    let drive = path.split(':').next().unwrap_or("C");
    let provider = "Microsoft.PowerShell.Core\\FileSystem";
    json!({
        TAG: "ets",
        "value": text,
        "members": {
            "PSPath": format!("{provider}::{path}"),
            "PSParentPath": format!("{provider}::{parent}"),
            "PSChildName": child,
            "PSDrive": {"CurrentLocation": "", "Name": drive, "Provider": provider, "Root": format!("{drive}:\\"), "Description": "", "Credential": {"UserName": null, "Password": null}, "DisplayRoot": null},
            "PSProvider": {"ImplementingType": "Microsoft.PowerShell.Commands.FileSystemProvider", "HelpFile": "System.Management.Automation.dll-Help.xml", "Name": "FileSystem", "PSSnapIn": "Microsoft.PowerShell.Core", "ModuleName": "Microsoft.PowerShell.Core", "Description": "", "Capabilities": 52, "Home": "C:\\Users\\cmdeploy", "Drives": "C"},
            "ReadCount": 1,
        },
    })
}

/// Writes `value` with its typed leaves rendered as `how` says.
pub fn render(value: Value, how: Rendering) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|v| render(v, how)).collect()),
        Value::Object(map) => match map.get(TAG).and_then(Value::as_str) {
            Some(tag) => leaf(tag, map.clone(), how),
            None => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, render(v, how)))
                    .collect::<Map<_, _>>(),
            ),
        },
        other => other,
    }
}

fn leaf(tag: &str, map: Map<String, Value>, how: Rendering) -> Value {
    let field = |k: &str| map.get(k).cloned().unwrap_or(Value::Null);
    match (tag, how) {
        ("enum", Rendering::Windows51) => field("number"),
        ("enum", Rendering::Plain) => field("name"),
        ("date", how) => {
            let ms = map.get("ms").and_then(Value::as_i64).unwrap_or(0);
            match how {
                Rendering::Windows51 => Value::String(format!("/Date({ms})/")),
                Rendering::Plain => DateTime::<Utc>::from_timestamp_millis(ms)
                    .map(|d| Value::String(d.to_rfc3339_opts(SecondsFormat::Millis, true)))
                    .unwrap_or(Value::Null),
            }
        }
        ("ets", Rendering::Windows51) => {
            let mut out = Map::new();
            out.insert("value".into(), field("value"));
            if let Some(Value::Object(members)) = map.get("members") {
                out.extend(members.clone());
            }
            Value::Object(out)
        }
        ("ets", Rendering::Plain) => field("value"),
        _ => Value::Object(map),
    }
}

/// `Microsoft.Win32.RegistryValueKind` by the name `Set-GPRegistryValue -Type` takes
/// (learn.microsoft.com/dotnet/api/microsoft.win32.registryvaluekind: String 1, ExpandString 2,
/// Binary 3, DWord 4, MultiString 7, QWord 11, Unknown 0, None -1).
pub fn registry_value_kind(name: &str) -> Value {
    let number = match name {
        "String" => 1,
        "ExpandString" => 2,
        "Binary" => 3,
        "DWord" => 4,
        "MultiString" => 7,
        "QWord" => 11,
        "None" => -1,
        _ => 0,
    };
    enumeration("Microsoft.Win32.RegistryValueKind", name, number)
}

/// `Microsoft.GroupPolicy.PolicyState`. Its members are `Delete`, `Set` and `Unknown`
/// (learn.microsoft.com/previous-versions/windows/desktop/wmi_v2/class-library/
/// policystate-enumeration-microsoft-grouppolicy); their numbers are **unverified**
/// (windows-runtime.md §9): the lab numbers them in the documented order, and cmdeploy's runner
/// never depends on the numbers (it sends the names).
pub fn policy_state(name: &str) -> Value {
    let number = match name {
        "Delete" => 0,
        "Set" => 1,
        _ => 2,
    };
    enumeration("Microsoft.GroupPolicy.PolicyState", name, number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_numbers_in_51_and_names_in_plain() {
        let v = json!([{"Type": registry_value_kind("DWord")}]);
        assert_eq!(
            render(v.clone(), Rendering::Windows51),
            json!([{"Type": 4}])
        );
        assert_eq!(render(v, Rendering::Plain), json!([{"Type": "DWord"}]));
    }

    #[test]
    fn dates_are_ms_since_1970_in_51_and_iso_in_plain() {
        // windows-runtime.md §10.2: 2020-01-01Z → "\/Date(1577836800000)\/".
        let at = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            render(date(at), Rendering::Windows51),
            json!("/Date(1577836800000)/")
        );
        assert_eq!(
            render(date(at), Rendering::Plain),
            json!("2020-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn a_content_line_carries_its_note_properties_in_51() {
        let v = content_line("done", "C:\\Windows\\ccmsetup\\Logs\\ccmsetup.log");
        let raw = render(v.clone(), Rendering::Windows51);
        assert_eq!(raw["value"], json!("done"));
        assert_eq!(raw["ReadCount"], json!(1));
        assert_eq!(raw["PSChildName"], json!("ccmsetup.log"));
        assert_eq!(render(v, Rendering::Plain), json!("done"));
    }
}
