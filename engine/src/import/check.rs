//! Whether an imported table would validate: it is rendered on its own and decoded by its kind,
//! exactly as loading the manifest would, before the file is written.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use super::render::table_text;
use super::Selected;
use crate::diagnostics::SourceFile;
use crate::provider::{DecodeInput, Kind};

/// The errors `kind`'s decode finds in `selected`'s table (message, then help), empty when the
/// table validates. `variables` and `project_dir` are the project's, as decode sees them when
/// the manifest loads. Warnings are not problems: the table is written as it is.
pub fn problems(
    selected: &Selected,
    kind: &dyn Kind,
    variables: &BTreeMap<String, Value>,
    project_dir: &Path,
) -> Vec<String> {
    let text = table_text(selected);
    let file = SourceFile::new(&project_dir.join("(import check)"), text);
    let (root, errors) = DeTable::parse_recoverable(file.text.as_str());
    if let Some(e) = errors.first() {
        return vec![format!("the table is not valid TOML: {e}")];
    }
    let table = root
        .into_inner()
        .into_iter()
        .find(|(k, _)| k.get_ref() == selected.address.kind.as_str())
        .and_then(|(_, v)| match v.into_inner() {
            DeValue::Table(t) => t
                .into_iter()
                .find(|(k, _)| k.get_ref() == selected.address.name.as_str())
                .map(|(_, v)| v),
            _ => None,
        });
    let Some(table) = table else {
        return vec![format!("{} was not rendered as a table", selected.address)];
    };
    let input = DecodeInput {
        address: selected.address.clone(),
        file: &file,
        span: table.span(),
        table,
        variables,
        project_dir,
    };
    match kind.decode(input) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| match &d.help {
                Some(h) => format!("{} ({h})", d.message),
                None => d.message.clone(),
            })
            .collect(),
    }
}
