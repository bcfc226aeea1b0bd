//! Whether one JSON value fits a parameter's type, and how to describe the
//! type in problem messages.

use serde_json::Value;

use super::Parameter;

/// How a parameter's value is written, for problem messages.
pub(super) fn describe_type(p: &Parameter) -> String {
    if !p.valid_values.is_empty() {
        return format!("one of {}", p.valid_values.join(", "));
    }
    let t = p.type_name.to_ascii_lowercase();
    match t.as_str() {
        "switchparameter" => "a switch: pass true, or leave it out".into(),
        "boolean" | "bool" => "JSON true/false".into(),
        "string" => "a string, or null to clear".into(),
        "string[]" => "an array of strings".into(),
        "securestring" => "a secret string listed in secret_args".into(),
        "guid" => "a GUID string".into(),
        "datetime" => "a date/time string".into(),
        "psobject" | "object" => "a string, number, boolean or array of those".into(),
        _ if int_range(&t).is_some() => "an integer".into(),
        _ if t.ends_with("[]") && int_range(&t[..t.len() - 2]).is_some() => {
            "an array of integers".into()
        }
        _ => "object parameter, pass a name/id instead".into(),
    }
}

fn int_range(t: &str) -> Option<(i128, i128)> {
    Some(match t {
        "byte" => (0, u8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "int32" | "int" => (i32::MIN.into(), i32::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "int64" | "long" => (i64::MIN.into(), i64::MAX.into()),
        "uint64" => (0, u64::MAX.into()),
        _ => return None,
    })
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "got null".into(),
        Value::Bool(b) => format!("got {b}"),
        Value::Number(n) => format!("got the number {n}"),
        Value::String(s) => format!("got the string {s:?}"),
        Value::Array(_) => "got an array".into(),
        Value::Object(_) => "got an object".into(),
    }
}

fn check_integer(v: &Value, (lo, hi): (i128, i128)) -> Result<(), String> {
    let n = match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    };
    match n {
        Some(n) if (lo..=hi).contains(&n) => Ok(()),
        Some(n) => Err(format!("got {n}, outside {lo}..={hi}")),
        None => Err(json_kind(v)),
    }
}

fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Check one value against its parameter; `Err` says what was wrong.
pub(super) fn check_value(p: &Parameter, v: &Value, is_secret: bool) -> Result<(), String> {
    let t = p.type_name.to_ascii_lowercase();
    if t == "securestring" {
        return match (is_secret, v) {
            (true, Value::String(_)) => Ok(()),
            (true, _) => Err(json_kind(v)),
            (false, _) => Err(format!(
                "{} but it is not listed in secret_args",
                json_kind(v)
            )),
        };
    }
    if is_secret {
        // Already reported as a secret on a non-SecureString parameter.
        return Ok(());
    }
    if v.is_null() && p.mandatory {
        return Err("got null, but the parameter is mandatory".into());
    }
    let one_of = |s: &str| p.valid_values.iter().any(|x| x.eq_ignore_ascii_case(s));
    if !p.valid_values.is_empty() {
        let element_ok = |v: &Value| matches!(v, Value::String(s) if one_of(s));
        let ok = match v {
            Value::Array(items) if t.ends_with("[]") => items.iter().all(element_ok),
            Value::Null => t == "string",
            _ => element_ok(v),
        };
        return if ok { Ok(()) } else { Err(json_kind(v)) };
    }
    match t.as_str() {
        "switchparameter" => match v {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => {
                Err("got false (a switch is only ever passed as true; leave it out instead)".into())
            }
            _ => Err(json_kind(v)),
        },
        "boolean" | "bool" => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(json_kind(v)),
        },
        "string" => match v {
            Value::String(_) | Value::Null => Ok(()),
            _ => Err(json_kind(v)),
        },
        "string[]" => match v {
            Value::String(_) | Value::Null => Ok(()),
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
            Value::Array(_) => Err("got an array with non-string items".into()),
            _ => Err(json_kind(v)),
        },
        "guid" => match v {
            Value::String(s) if is_guid(s) => Ok(()),
            _ => Err(json_kind(v)),
        },
        "datetime" => match v {
            Value::String(s) if !s.trim().is_empty() => Ok(()),
            _ => Err(json_kind(v)),
        },
        "psobject" | "object" => {
            let scalar =
                |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            match v {
                Value::Array(items) if items.iter().all(scalar) => Ok(()),
                _ if scalar(v) => Ok(()),
                _ => Err(json_kind(v)),
            }
        }
        _ => {
            if let Some(range) = int_range(&t) {
                return check_integer(v, range);
            }
            if let Some(range) = t.strip_suffix("[]").and_then(int_range) {
                return match v {
                    Value::Array(items) => items.iter().try_for_each(|i| check_integer(i, range)),
                    _ => check_integer(v, range),
                };
            }
            Err(json_kind(v))
        }
    }
}
