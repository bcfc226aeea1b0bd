//! `[data.ad_subnets.NAME]`: the replication subnets of an Active Directory forest, read on a
//! domain controller, filtered by site name patterns and prefix containment; what boundary
//! tables expand over (`for_each = "data.ad_subnets.NAME"`).
//!
//! Each item is keyed by the subnet's name (`10.1.0.0/16`) and offers `each.name`, `each.site`,
//! `each.location`, `each.description`, `each.family` (`ipv4`, `ipv6`), and the boundary that
//! covers it as ConfigMgr takes it: `each.boundary_type` and `each.boundary_value` — an IP subnet,
//! an IP range for a supernet (ConfigMgr refuses supernets as IP subnets; forest discovery makes
//! them IP ranges, configmgr.md §6 rule 5 and §2 "Forest discovery"), an IPv6 prefix as the cmdlet example writes it
//! (`FE80::/64`, PSRef New-CMBoundary).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use cmdeploy_engine::data::{DataKind, DataSource, DecodedSource, Item};
use cmdeploy_engine::diagnostics::Diagnostic;
use cmdeploy_engine::provider::{to_attributes, Context, DecodeInput, RemoteError};
use cmdeploy_engine::resource::ConnectionRef;
use cmdeploy_engine::spanned::Spanned;

use super::replication::{self, like, AdSubnet};
use crate::configmgr::net;
use crate::kit;

/// `[data.ad_subnets.NAME]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdSubnetsSpec {
    /// DNS domain of the domain controller (`contoso.com`).
    pub domain: String,
    /// Connection to a domain controller of the forest (`[connection.NAME]`).
    pub connection: Spanned<String>,
    /// Site name patterns, as PowerShell's `-like` (`*`, `?`, case-insensitive): only subnets
    /// of a matching site. Default: every subnet, including those in no site.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Prefixes (`10.0.0.0/8`): only subnets inside one of them. Default: every subnet.
    #[serde(default)]
    pub within: Vec<Spanned<String>>,
}

/// The settings kept from the table, handed back to the read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Settings {
    domain: String,
    #[serde(default)]
    sites: Vec<String>,
    #[serde(default)]
    within: Vec<String>,
}

/// The `ad_subnets` data source kind.
pub struct AdSubnetsKind;

#[async_trait::async_trait]
impl DataKind for AdSubnetsKind {
    fn name(&self) -> &'static str {
        "ad_subnets"
    }

    fn description(&self) -> &'static str {
        "Active Directory replication subnets (Get-ADReplicationSubnet), filtered by site and prefix."
    }

    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<AdSubnetsSpec>()
    }

    fn decode(&self, input: DecodeInput<'_>) -> Result<DecodedSource, Vec<Diagnostic>> {
        let file = input.file.clone();
        let spec: AdSubnetsSpec = kit::decode_typed(input, "ad_subnets")?;
        let mut errors = Vec::new();
        for w in &spec.within {
            if w.value.trim().parse::<IpNet>().is_err() {
                errors.push(
                    Diagnostic::error(
                        "cmdeploy::ad_subnets::within",
                        format!("`{}` is not a prefix", w.value),
                    )
                    .with_help("write a.b.c.d/len or an IPv6 prefix, e.g. 10.0.0.0/8")
                    .at_span(&file, w.span.clone()),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let settings = Settings {
            domain: spec.domain.to_lowercase(),
            sites: spec.sites,
            within: spec.within.into_iter().map(|w| w.value).collect(),
        };
        Ok(DecodedSource {
            settings: to_attributes(&settings),
            connection: ConnectionRef::Named(spec.connection),
        })
    }

    fn sample(&self) -> Vec<Item> {
        vec![item(&AdSubnet {
            name: "10.0.0.0/24".into(),
            site: "Default-First-Site-Name".into(),
            location: "Sample location".into(),
            description: "Sample subnet".into(),
        })]
    }

    async fn read(&self, ctx: &Context, source: &DataSource) -> Result<Vec<Item>, RemoteError> {
        let (_, subnets) = replication::read(ctx, source).await?;
        Ok(select(&settings(source), subnets))
    }
}

fn settings(source: &DataSource) -> Settings {
    serde_json::from_value(Value::Object(source.settings.clone())).unwrap_or(Settings {
        domain: String::new(),
        sites: Vec::new(),
        within: Vec::new(),
    })
}

/// The subnets the filters keep, as items sorted by key.
fn select(settings: &Settings, subnets: Vec<AdSubnet>) -> Vec<Item> {
    let within: Vec<IpNet> = settings
        .within
        .iter()
        .filter_map(|w| w.trim().parse().ok())
        .collect();
    let mut items: Vec<Item> = subnets
        .iter()
        .filter(|s| settings.sites.is_empty() || settings.sites.iter().any(|p| like(&s.site, p)))
        .filter(|s| {
            within.is_empty()
                || s.name
                    .trim()
                    .parse::<IpNet>()
                    .is_ok_and(|n| within.iter().any(|w| w.contains(&n)))
        })
        .map(item)
        .collect();
    items.sort_by(|a, b| a.key.cmp(&b.key));
    items.dedup_by(|a, b| a.key == b.key);
    items
}

/// One subnet as an item.
fn item(s: &AdSubnet) -> Item {
    let (family, boundary_type, boundary_value) = match s.name.trim().parse::<IpNet>() {
        Ok(IpNet::V6(_)) => ("ipv6", "ipv6_prefix", s.name.clone()),
        _ => match net::subnet(&s.name) {
            Ok(net::Subnet::Supernet { range }) => ("ipv4", "ip_range", range),
            _ => ("ipv4", "ip_subnet", s.name.clone()),
        },
    };
    let mut fields = Map::new();
    fields.insert("name".into(), json!(s.name));
    fields.insert("site".into(), json!(s.site));
    fields.insert("location".into(), json!(s.location));
    fields.insert("description".into(), json!(s.description));
    fields.insert("family".into(), json!(family));
    fields.insert("boundary_type".into(), json!(boundary_type));
    fields.insert("boundary_value".into(), json!(boundary_value));
    Item {
        key: s.name.clone(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(name: &str, site: &str) -> AdSubnet {
        AdSubnet {
            name: name.into(),
            site: site.into(),
            location: String::new(),
            description: String::new(),
        }
    }

    #[test]
    fn filters_by_site_pattern_and_containing_prefix() {
        let all = vec![
            subnet("10.1.0.0/16", "HQ"),
            subnet("10.2.0.0/16", "Branch1"),
            subnet("192.168.5.0/24", "Branch2"),
            subnet("10.9.0.0/16", ""),
        ];
        let s = Settings {
            domain: "contoso.com".into(),
            sites: vec!["branch*".into()],
            within: vec!["10.0.0.0/8".into()],
        };
        let keys: Vec<String> = select(&s, all.clone()).into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["10.2.0.0/16"]);
        let none = Settings {
            sites: vec![],
            within: vec![],
            ..s
        };
        assert_eq!(select(&none, all).len(), 4);
    }

    #[test]
    fn a_supernet_becomes_an_ip_range_boundary() {
        let i = item(&subnet("172.16.0.0/12", "HQ"));
        assert_eq!(i.fields["boundary_type"], "ip_range");
        assert_eq!(i.fields["boundary_value"], "172.16.0.0-172.31.255.255");
        let v6 = item(&subnet("2001:db8:1::/48", "HQ"));
        assert_eq!(v6.fields["boundary_type"], "ipv6_prefix");
    }
}
