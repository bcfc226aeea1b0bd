//! A lab GPO's registry settings as Registry.pol content: `HKLM` keys in the GPO's
//! `Machine\Registry.pol`, `HKCU` keys in `User\Registry.pol` (configmgr.md §3.5), read and
//! written through [`cmdeploy_providers::gpo::registry_pol`], so what apply writes is what a domain
//! controller's SYSVOL would hold.

use serde_json::Value;

use cmdeploy_providers::gpo::registry_pol::{self, Action, Record, RegType, RegValue, RegistryPol};

use super::args::CmdError;
use super::model::{Gpo, RegistrySetting};

/// Which Registry.pol of a GPO a normalised key (`HKLM\...` / `HKCU\...`) lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// `Machine\Registry.pol` (HKLM).
    Machine,
    /// `User\Registry.pol` (HKCU).
    User,
}

/// Splits `HKLM\Software\X` into the half and the hive-less key Registry.pol stores.
pub fn split_key(key: &str) -> (Half, &str) {
    let (hive, rest) = key.split_once('\\').unwrap_or((key, ""));
    let half = if hive.eq_ignore_ascii_case("HKCU") {
        Half::User
    } else {
        Half::Machine
    };
    (half, rest)
}

fn bytes_of(g: &Gpo, half: Half) -> &Vec<u8> {
    match half {
        Half::Machine => &g.machine_registry_pol,
        Half::User => &g.user_registry_pol,
    }
}

/// The GPO's Registry.pol for `half` (empty when the GPO has none yet).
///
/// # Errors
/// A corrupt file, with its byte offset.
pub fn load(g: &Gpo, half: Half) -> Result<RegistryPol, CmdError> {
    let bytes = bytes_of(g, half);
    if bytes.is_empty() {
        return Ok(RegistryPol::default());
    }
    registry_pol::read(bytes).map_err(|e| {
        CmdError::new(
            "InvalidData",
            format!("The Registry.pol of GPO {} is corrupt: {e}", g.name),
        )
    })
}

/// Stores `pol` as the GPO's Registry.pol for `half`.
pub fn store(g: &mut Gpo, half: Half, pol: &RegistryPol) {
    let bytes = registry_pol::write(pol);
    match half {
        Half::Machine => g.machine_registry_pol = bytes,
        Half::User => g.user_registry_pol = bytes,
    }
}

fn invalid(m: String) -> CmdError {
    CmdError::new("InvalidArgument", m)
}

fn number<T: TryFrom<u64>>(t: &str, v: &Value) -> Result<T, CmdError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
        invalid(format!(
            "Set-GPRegistryValue: a {t} value must be a number in range, not {v}."
        ))
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The typed value of `Set-GPRegistryValue -Type <t> -Value <v>` (types as the GroupPolicy
/// module names them: String, ExpandString, Binary, DWord, MultiString, QWord).
///
/// # Errors
/// An unknown type or a value that does not fit it.
pub fn typed_value(t: &str, v: &Value) -> Result<RegValue, CmdError> {
    let ty = RegType::from_gp_name(t).ok_or_else(|| {
        invalid(format!(
            "Cannot convert value \"{t}\" to type \"RegistryValueKind\"."
        ))
    })?;
    let list = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    };
    Ok(match ty {
        RegType::Sz => RegValue::String(text(v)),
        RegType::ExpandSz => RegValue::ExpandString(text(v)),
        RegType::DWord => RegValue::DWord(number::<u32>(t, v)?),
        RegType::QWord => RegValue::QWord(number::<u64>(t, v)?),
        RegType::MultiSz => RegValue::MultiString(list(v).iter().map(text).collect()),
        _ => RegValue::Binary(
            list(v)
                .iter()
                .map(|b| number::<u8>(t, b))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A record as `Get-GPRegistryValue` shows it: `(PolicyState, Type, Value)`. `**del.` records
/// are `Delete` settings; other special records (`**delvals.`, key creation) are not shown.
pub fn shown(r: &Record) -> Option<(&'static str, String, Value)> {
    match r.action() {
        Action::Set(_) => {
            let v = r.value()?;
            Some(("Set", v.reg_type().gp_name().to_string(), v.to_json()))
        }
        Action::DeleteValue(_) => Some(("Delete", "String".into(), Value::String(String::new()))),
        _ => None,
    }
}

/// Moves seed-only `[[gpo.value]]` settings (lab.toml) into the GPO's Registry.pol files, in
/// order, as `Set-GPRegistryValue` would write them (`state = "Delete"` as `**del.`).
///
/// # Errors
/// A setting whose type or value Set-GPRegistryValue would refuse.
pub fn absorb_values(g: &mut Gpo) -> Result<(), String> {
    for s in std::mem::take(&mut g.values) {
        let RegistrySetting {
            key,
            value_name,
            value_type,
            value,
            state,
        } = s;
        let key = normalize_key(&key).map_err(|e| e.message)?;
        let (half, rest) = split_key(&key);
        let mut pol = load(g, half).map_err(|e| e.message)?;
        let record = if state.eq_ignore_ascii_case("Delete") {
            Record::delete_value(rest, &value_name)
        } else {
            let v = typed_value(&value_type, &value)
                .map_err(|e| format!("gpo {} value {value_name}: {}", g.name, e.message))?;
            Record::set(rest, &value_name, &v)
        };
        pol.upsert(record);
        store(g, half, &pol);
    }
    Ok(())
}

/// Normalises a registry key to `HKLM\...` / `HKCU\...`.
///
/// # Errors
/// Keys outside HKLM and HKCU, which Group Policy cannot hold.
pub fn normalize_key(key: &str) -> Result<String, CmdError> {
    let key = key.trim().trim_end_matches('\\');
    let (hive, rest) = key.split_once('\\').unwrap_or((key, ""));
    let hive = match hive.to_ascii_uppercase().as_str() {
        "HKLM" | "HKEY_LOCAL_MACHINE" => "HKLM",
        "HKCU" | "HKEY_CURRENT_USER" => "HKCU",
        _ => {
            return Err(CmdError::new(
                "InvalidArgument",
                format!("The key '{key}' is not valid. Keys must be under HKEY_LOCAL_MACHINE (Computer Configuration) or HKEY_CURRENT_USER (User Configuration)."),
            ))
        }
    };
    Ok(format!("{hive}\\{rest}"))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::super::args::Args;
    use super::super::gp::execute;
    use super::super::model::{Domain, Estate};
    use super::*;

    fn call(e: &mut Estate, cmdlet: &str, args: Value) -> Result<Value, CmdError> {
        let map: Map<String, Value> = serde_json::from_value(args).unwrap();
        let known = cmdeploy_providers::powershell::cmdlets::find(cmdlet).expect("a table cmdlet");
        execute(e, "contoso.com", known.cmdlet, &Args::new(cmdlet, &map))
    }

    fn estate() -> Estate {
        let mut g = Gpo {
            name: "G".into(),
            domain: "contoso.com".into(),
            ..Gpo::default()
        };
        g.values.push(RegistrySetting {
            key: r"HKLM\Software\Policies\Microsoft\ccmsetup".into(),
            value_name: "NoDefAutoAssign".into(),
            value_type: "DWord".into(),
            value: json!(1),
            state: "Set".into(),
        });
        absorb_values(&mut g).unwrap();
        Estate {
            domains: vec![Domain {
                name: "contoso.com".into(),
                ..Domain::default()
            }],
            gpos: vec![g],
            ..Estate::default()
        }
    }

    #[test]
    fn the_seed_and_the_cmdlets_write_registry_pol() {
        let mut e = estate();
        assert!(e.gpos[0].values.is_empty());
        let key = r"HKLM\Software\Policies\Microsoft\Windows\WindowsUpdate\AU";
        call(&mut e, "set-gpregistryvalue", json!({"Name": "G", "Key": key, "ValueName": "UseWUServer", "Type": "DWord", "Value": 1})).unwrap();
        call(
            &mut e,
            "set-gpregistryvalue",
            json!({"Name": "G", "Key": key, "ValueName": "AUOptions", "Disable": true}),
        )
        .unwrap();
        call(&mut e, "set-gpregistryvalue", json!({"Name": "G", "Key": r"HKCU\Software\X", "ValueName": "L", "Type": "MultiString", "Value": ["a", "b"]})).unwrap();
        let pol = registry_pol::read(&e.gpos[0].machine_registry_pol).unwrap();
        let names: Vec<_> = pol
            .records
            .iter()
            .filter_map(|r| r.value_name.clone())
            .collect();
        assert_eq!(names, ["NoDefAutoAssign", "UseWUServer", "**del.AUOptions"]);
        let del = &pol.records[2];
        assert_eq!(
            del.key,
            r"Software\Policies\Microsoft\Windows\WindowsUpdate\AU"
        );
        assert_eq!(del.data.as_deref(), Some(&[0x20, 0, 0, 0][..]));
        let user = registry_pol::read(&e.gpos[0].user_registry_pol).unwrap();
        assert_eq!(
            user.records[0].value(),
            Some(RegValue::MultiString(vec!["a".into(), "b".into()]))
        );
        let rows = call(
            &mut e,
            "get-gpregistryvalue",
            json!({"Name": "G", "Key": key}),
        )
        .unwrap();
        let rows = crate::ps_value::render(rows, crate::ps_value::Rendering::Plain);
        assert_eq!(rows[0]["Value"], json!(1));
        assert_eq!(rows[1]["PolicyState"], json!("Delete"));
        assert_eq!(rows[1]["ValueName"], json!("AUOptions"));
        call(
            &mut e,
            "remove-gpregistryvalue",
            json!({"Name": "G", "Key": key, "ValueName": "AUOptions"}),
        )
        .unwrap();
        let err = call(
            &mut e,
            "get-gpregistryvalue",
            json!({"Name": "G", "Key": key, "ValueName": "AUOptions"}),
        )
        .unwrap_err();
        assert_eq!(err.category, "ObjectNotFound");
        let err = call(&mut e, "set-gpregistryvalue", json!({"Name": "G", "Key": key, "ValueName": "N", "Type": "DWord", "Value": 4294967296u64})).unwrap_err();
        assert!(err.message.contains("DWord"), "{}", err.message);
    }

    #[test]
    fn the_estate_json_holds_base64_registry_pol() {
        let e = estate();
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.contains("\"machine_registry_pol\":\"UFJlZwEAAAB"),
            "{text}"
        );
        assert!(!text.contains("\"value\""), "{text}");
        let back: Estate = serde_json::from_str(&text).unwrap();
        assert_eq!(back.gpos, e.gpos);
    }
}
