//! `[data.ad_sites.NAME]`: the replication sites of an Active Directory forest, read on a domain
//! controller and filtered by name patterns; what AD-site boundary tables expand over
//! (`for_each = "data.ad_sites.NAME"`, `type = "ad_site"`, `value = "{{ each.name }}"`).
//!
//! Each item is keyed by the site's name and offers `each.name`, `each.description` and
//! `each.subnets` (the names of its subnets, sorted).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use cmdeploy_engine::data::{DataKind, DataSource, DecodedSource, Item};
use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{to_attributes, Context, DecodeInput, RemoteError};
use cmdeploy_engine::resource::ConnectionRef;
use cmdeploy_engine::spanned::Spanned;

use super::replication::{self, like};
use crate::kit;

/// `[data.ad_sites.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdSitesSpec {
    /// DNS domain of the domain controller (`contoso.com`).
    pub domain: String,
    /// Connection to a domain controller of the forest (`[connection.NAME]`).
    pub connection: Spanned<String>,
    /// Site name patterns, as PowerShell's `-like` (`*`, `?`, case-insensitive). Default: every
    /// site.
    #[serde(default)]
    pub sites: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Settings {
    domain: String,
    #[serde(default)]
    sites: Vec<String>,
}

/// The `ad_sites` data source kind.
pub struct AdSitesKind;

#[async_trait::async_trait]
impl DataKind for AdSitesKind {
    fn name(&self) -> &'static str {
        "ad_sites"
    }

    fn description(&self) -> &'static str {
        "Active Directory replication sites (Get-ADReplicationSite) with their subnets, filtered by name."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<AdSitesSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<DecodedSource, Vec<Diagnostic>> {
        let spec: AdSitesSpec = kit::decode_typed(input, "ad_sites")?;
        let settings = Settings {
            domain: spec.domain.to_lowercase(),
            sites: spec.sites,
        };
        Ok(DecodedSource {
            settings: to_attributes(&settings),
            connection: ConnectionRef::Named(spec.connection),
        })
    }

    fn sample(&self) -> Vec<Item> {
        vec![item(
            "Default-First-Site-Name",
            "Sample site",
            vec!["10.0.0.0/24".into()],
        )]
    }

    async fn read(&self, ctx: &Context, source: &DataSource) -> Result<Vec<Item>, RemoteError> {
        let settings: Settings = serde_json::from_value(Value::Object(source.settings.clone()))
            .unwrap_or(Settings {
                domain: String::new(),
                sites: Vec::new(),
            });
        let (sites, subnets) = replication::read(ctx, source).await?;
        let mut items: Vec<Item> = sites
            .iter()
            .filter(|s| {
                settings.sites.is_empty() || settings.sites.iter().any(|p| like(&s.name, p))
            })
            .map(|s| {
                let mut names: Vec<String> = subnets
                    .iter()
                    .filter(|n| n.site.eq_ignore_ascii_case(&s.name))
                    .map(|n| n.name.clone())
                    .collect();
                names.sort();
                item(&s.name, &s.description, names)
            })
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        items.dedup_by(|a, b| a.key == b.key);
        Ok(items)
    }
}

fn item(name: &str, description: &str, subnets: Vec<String>) -> Item {
    let mut fields = Map::new();
    fields.insert("name".into(), json!(name));
    fields.insert("description".into(), json!(description));
    fields.insert("subnets".into(), json!(subnets));
    Item {
        key: name.to_string(),
        fields,
    }
}
