//! Decoding a manifest table into a kind's typed struct, reporting every mistake in it.
//!
//! serde stops at the first error, so one type error used to hide every later mistake of the
//! table. [`decode_table`] reports the error, takes the offending top-level field out of the table
//! and decodes again, until the rest decodes; a field it took out is not reported again as
//! missing. Unknown fields get the nearest known name as help, never serde's list of every field.

use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use toml::de::{DeValue, ValueDeserializer};
use toml::Spanned;

use crate::diagnostics::{did_you_mean, Diagnostic, SourceFile};

/// Decodes a resource table (`span` is where it is in `file`; `kind` names the diagnostic code
/// `cmdeploy::KIND::invalid`).
///
/// # Errors
/// One diagnostic per mistake: each unknown field and each value of the wrong type, at its span.
pub fn decode_table<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
    span: Range<usize>,
    mut table: Spanned<DeValue<'_>>,
    kind: &str,
) -> Result<T, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    loop {
        let err = match T::deserialize(ValueDeserializer::from(table.clone())) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(err) => err,
        };
        // serde checks for missing fields after every present one decoded: a field taken out
        // below and now missing means the rest of the table is fine.
        if missing_field(err.message()).is_some_and(|f| removed.iter().any(|r| r == f)) {
            return Err(errors);
        }
        let at = err.span();
        errors.push(decode_error(file, span.clone(), err, kind));
        let Some(key) = at.and_then(|at| take_field(&mut table, &at)) else {
            return Err(errors);
        };
        removed.push(key);
    }
}

/// The field of serde's "missing field `NAME`".
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
}

/// Removes the top-level field whose key or value holds `at`, returning its name.
fn take_field(table: &mut Spanned<DeValue<'_>>, at: &Range<usize>) -> Option<String> {
    let DeValue::Table(fields) = table.get_mut() else {
        return None;
    };
    let holds = |r: Range<usize>| r.start <= at.start && at.end <= r.end;
    let key = fields
        .iter()
        .find(|(k, v)| holds(k.span()) || holds(v.span()))
        .map(|(k, _)| k.get_ref().to_string())?;
    fields.remove(key.as_str());
    Some(key)
}

/// Converts a deserialization error of a table into a diagnostic at its span (`fallback` when the
/// error has none). An unknown field is named alone, with the nearest known field as help.
pub fn decode_error(
    file: &Arc<SourceFile>,
    fallback: Range<usize>,
    err: toml::de::Error,
    kind: &str,
) -> Diagnostic {
    let span = err.span().unwrap_or(fallback);
    let message = err.message().trim_end();
    let code = format!("cmdeploy::{kind}::invalid");
    let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    else {
        return Diagnostic::error(code, message.to_string()).at_span(file, span);
    };
    let expected: Vec<&str> = message
        .split_once("expected ")
        .map(|(_, e)| {
            e.split(['`', ',', ' '])
                .filter(|w| !w.is_empty() && !matches!(*w, "one" | "of" | "or"))
                .collect()
        })
        .unwrap_or_default();
    let help = match did_you_mean(field, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "this table takes no fields".to_string(),
        None => format!(
            "no known field is close to `{field}`; `cmdeploy schema` lists the {} fields this table takes",
            expected.len()
        ),
    };
    Diagnostic::error(code, format!("unknown field `{field}`"))
        .with_help(help)
        .at_span(file, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Spec {
        site: String,
        value: String,
        port: Option<u16>,
        enabled: Option<bool>,
        members: Option<Vec<String>>,
    }

    fn decode(text: &str) -> Result<Spec, Vec<Diagnostic>> {
        let file = SourceFile::new(std::path::Path::new("t.toml"), text.to_string());
        let table = toml::de::DeTable::parse(text).unwrap();
        let span = 0..text.len();
        let value = Spanned::new(span.clone(), DeValue::Table(table.into_inner()));
        decode_table(&file, span, value, "test")
    }

    #[test]
    fn every_mistake_of_a_table_is_reported_once() {
        let errors = decode(
            "site = 5\nvalu = \"x\"\nport = \"eighty\"\nenabled = \"yes\"\nmembers = [1]\nzzzz = 1\n",
        )
        .unwrap_err();
        let messages: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        assert_eq!(errors.len(), 6, "{messages:#?}");
        assert!(messages[0].contains("invalid type"), "{messages:#?}");
        assert!(messages.contains(&"unknown field `valu`".to_string()));
        assert!(messages.contains(&"unknown field `zzzz`".to_string()));
        // `site` was taken out after its type error: it is not reported again as missing.
        assert!(!messages.iter().any(|m| m.contains("missing field `site`")));
        // A genuinely missing field still is (`value` was only misspelt).
        let errors = decode("site = \"ABC\"\n").unwrap_err();
        assert_eq!(errors[0].message, "missing field `value`");
    }

    #[test]
    fn an_unknown_field_suggests_the_nearest_name_without_listing_them_all() {
        let errors = decode("site = \"ABC\"\nvalu = \"x\"\n").unwrap_err();
        assert_eq!(errors[0].message, "unknown field `valu`");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `value`?"));
        let errors = decode("site = \"ABC\"\nvalue = \"x\"\nqqqqqqqq = 1\n").unwrap_err();
        let help = errors[0].help.as_deref().unwrap();
        assert!(!help.contains("members"), "{help}");
        assert!(help.contains("5 fields"), "{help}");
    }

    #[test]
    fn a_valid_table_decodes() {
        let spec = decode("site = \"ABC\"\nvalue = \"x\"\nport = 80\n").unwrap();
        assert_eq!(spec.port, Some(80));
    }
}
